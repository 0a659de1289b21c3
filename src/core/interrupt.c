/* interrupt.c - SIGINT and SIGTERM as a flag, a pipe and a watcher thread.
 *
 * The handler does the two async-signal-safe things it can: set a sig_atomic_t and write
 * one byte to a non-blocking pipe. Nobody ever reads that byte, so after the first signal
 * the pipe stays readable for good: a sleeper polls it (and wakes at once), the watcher
 * thread polls it (and from then on calls the registered watches every 50 ms). Watches
 * are called under the table's lock, so fin_interrupt_unwatch returning means the watch
 * is not running and never will again: its ctx may be freed. */
#include "finstream/interrupt.h"
#include "finstream/error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_WATCHES 16

static volatile sig_atomic_t flag;
static int pipe_fd[2] = {-1, -1};
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    void (*fn)(void *ctx);
    void *ctx;
} watches[MAX_WATCHES];
static bool installed;

static void on_signal(int sig)
{
    if (flag)
        _exit(130);   /* the second Ctrl-C: the user means it */
    flag = sig;
    if (pipe_fd[1] >= 0) {
        int saved = errno;
        ssize_t w = write(pipe_fd[1], "!", 1);
        (void)w;
        errno = saved;
    }
}

static void *watcher(void *arg)
{
    (void)arg;
    struct pollfd p = {pipe_fd[0], POLLIN, 0};
    while (poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    for (;;) {
        pthread_mutex_lock(&lock);
        for (int i = 0; i < MAX_WATCHES; i++)
            if (watches[i].fn)
                watches[i].fn(watches[i].ctx);
        pthread_mutex_unlock(&lock);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int fin_interrupt_install(void)
{
    pthread_mutex_lock(&lock);
    int rc = 0;
    if (installed)
        goto out;
    if (pipe2(pipe_fd, O_NONBLOCK | O_CLOEXEC) != 0) {
        rc = fin_err_errno(errno, "interrupt pipe", "");
        goto out;
    }
    /* The watcher is started with every signal blocked, so the handler runs in the
     * thread that was interrupted (or any other), never in the watcher's poll. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_t t;
    int e = pthread_create(&t, NULL, watcher, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e) {
        rc = fin_err_errno(e, "interrupt watcher", "");
        goto out;
    }
    pthread_detach(t);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    installed = true;
out:
    pthread_mutex_unlock(&lock);
    return rc;
}

bool fin_interrupted(void) { return flag != 0; }

int fin_interrupt_signal(void) { return flag; }

volatile sig_atomic_t *fin_interrupt_flag(void) { return &flag; }

void fin_interrupt_raise(void)
{
    if (!flag)
        on_signal(SIGINT);
}

int fin_interrupt_sleep_ns(long long ns)
{
    if (flag)
        return FIN_ECANCELED;
    if (ns <= 0)
        return 0;
    struct timespec end, now;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += ns / 1000000000LL;
    end.tv_nsec += ns % 1000000000LL;
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long left = (long long)(end.tv_sec - now.tv_sec) * 1000000000LL + (end.tv_nsec - now.tv_nsec);
        if (left <= 0)
            return 0;
        if (pipe_fd[0] < 0) {
            struct timespec ts = {left / 1000000000LL, left % 1000000000LL};
            nanosleep(&ts, NULL);
        } else {
            /* poll's millisecond timeout, rounded up so a short sleep still sleeps. */
            struct pollfd p = {pipe_fd[0], POLLIN, 0};
            poll(&p, 1, (int)((left + 999999) / 1000000 > 1000 ? 1000 : (left + 999999) / 1000000));
        }
        if (flag)
            return FIN_ECANCELED;
    }
}

int fin_interrupt_watch(void (*fn)(void *ctx), void *ctx)
{
    int h = -1;
    pthread_mutex_lock(&lock);
    for (int i = 0; installed && i < MAX_WATCHES && h < 0; i++)
        if (!watches[i].fn) {
            watches[i].fn = fn;
            watches[i].ctx = ctx;
            h = i;
        }
    pthread_mutex_unlock(&lock);
    return h;
}

void fin_interrupt_unwatch(int handle)
{
    if (handle < 0 || handle >= MAX_WATCHES)
        return;
    pthread_mutex_lock(&lock);
    watches[handle].fn = NULL;
    watches[handle].ctx = NULL;
    pthread_mutex_unlock(&lock);
}

int fin_interrupt_error(void)
{
    return fin_err_set(FIN_ECANCELED, "interrupted (%s)", flag == SIGTERM ? "SIGTERM" : "SIGINT");
}
