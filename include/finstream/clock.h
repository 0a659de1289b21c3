/* clock.h - the time seam. Production code reads time only through a struct fin_clock,
 * so tests can drive buffering, retention and schedules with a fake clock. */
#ifndef FINSTREAM_CLOCK_H
#define FINSTREAM_CLOCK_H

#include <stdint.h>

struct fin_clock {
    int64_t (*now_ns)(void *ctx);     /* wall clock, ns since the Unix epoch */
    int64_t (*mono_ns)(void *ctx);    /* monotonic, ns */
    void (*sleep_ns)(void *ctx, int64_t ns);
    void *ctx;
};

/* The real clock (CLOCK_REALTIME, CLOCK_MONOTONIC, nanosleep); borrowed, static. */
const struct fin_clock *fin_clock_real(void);

/* A fake clock for tests: now and mono start at start_ns; sleep advances both. */
struct fin_fake_clock {
    struct fin_clock clock;
    int64_t now;
};
void fin_fake_clock_init(struct fin_fake_clock *fc, int64_t start_ns);
void fin_fake_clock_advance(struct fin_fake_clock *fc, int64_t ns);

static inline int64_t fin_now_ns(const struct fin_clock *c) { return c->now_ns(c->ctx); }
static inline int64_t fin_mono_ns(const struct fin_clock *c) { return c->mono_ns(c->ctx); }

#define FIN_NS_PER_MS  1000000LL
#define FIN_NS_PER_SEC 1000000000LL

#endif
