#ifndef REEL_EXECUTOR_HOOK_H
#define REEL_EXECUTOR_HOOK_H

#include <stdbool.h>

/// Sets the Swift runtime's hook for jobs enqueued on the global executor, if no one has.
/// Found by linking rather than by dlsym: the release build links the runtime statically and
/// exports nothing, so NIO's own look-up of the hook by name finds nothing.
bool reel_install_global_enqueue_hook(const void *hook);

#endif
