/* clock.c - the real clock and a fake one for tests. */
#include "finstream/clock.h"
#include "finstream/interrupt.h"

#include <time.h>

static int64_t ts_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * FIN_NS_PER_SEC + ts.tv_nsec;
}

static int64_t real_now(void *ctx) { (void)ctx; return ts_ns(CLOCK_REALTIME); }
static int64_t real_mono(void *ctx) { (void)ctx; return ts_ns(CLOCK_MONOTONIC); }

/* Ends early on SIGINT or SIGTERM (interrupt.h), so no back-off or poll holds a command
 * past Ctrl-C; without the handlers installed it is a plain sleep. */
static void real_sleep(void *ctx, int64_t ns)
{
    (void)ctx;
    fin_interrupt_sleep_ns(ns);
}

const struct fin_clock *fin_clock_real(void)
{
    static const struct fin_clock real = {real_now, real_mono, real_sleep, NULL};
    return &real;
}

static int64_t fake_now(void *ctx) { return ((struct fin_fake_clock *)ctx)->now; }

static void fake_sleep(void *ctx, int64_t ns)
{
    if (ns > 0)
        ((struct fin_fake_clock *)ctx)->now += ns;
}

void fin_fake_clock_init(struct fin_fake_clock *fc, int64_t start_ns)
{
    fc->now = start_ns;
    fc->clock.now_ns = fake_now;
    fc->clock.mono_ns = fake_now;
    fc->clock.sleep_ns = fake_sleep;
    fc->clock.ctx = fc;
}

void fin_fake_clock_advance(struct fin_fake_clock *fc, int64_t ns) { fc->now += ns; }
