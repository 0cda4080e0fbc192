#ifndef REEL_STOP_SIGNALS_H
#define REEL_STOP_SIGNALS_H

/// Catches `signo` with a handler that writes its number, as one byte, to `write_fd` (a
/// non-blocking pipe that reel reads). The self-pipe loses no signal whichever thread the
/// kernel picks: Dispatch's signal sources on Linux re-raise a signal that reaches an unblocked
/// thread at one pool thread with `pthread_kill`, and under load that thread was seen never to
/// read it (swift-corelibs-libdispatch, src/event/event_epoll.c). Returns sigaction's result.
int reel_forward_stop_signal(int signo, int write_fd);

#endif
