#include "CStopSignals.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_pipe = -1;

// Async-signal-safe: one write(2), errno kept for the thread it interrupted.
static void forward(int signo) {
    int saved = errno;
    unsigned char number = (unsigned char)signo;
    if (stop_pipe >= 0) (void)write(stop_pipe, &number, 1);
    errno = saved;
}

int reel_forward_stop_signal(int signo, int write_fd) {
    stop_pipe = write_fd;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = forward;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    return sigaction(signo, &action, NULL);
}
