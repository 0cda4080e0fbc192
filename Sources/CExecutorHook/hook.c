#include "CExecutorHook.h"
#include <stddef.h>

// Declared by the Swift runtime (swift/Runtime/Concurrency.h); a swiftcc function pointer.
extern const void *swift_task_enqueueGlobal_hook;

bool reel_install_global_enqueue_hook(const void *hook) {
    const void *expected = NULL;
    return __atomic_compare_exchange_n(&swift_task_enqueueGlobal_hook, &expected, hook, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
