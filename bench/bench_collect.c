/* bench_collect.c - simulator to JSON lines on one core: records/s and MB/s.
 *
 *   bench_collect [TICKERS] [DAYS]     default 500 tickers x 20 trading days of 1m bars
 *
 * Records go to an in-memory sink that appends them as lines to a buffer it reuses, so
 * the figure is the collector's (simulate + format), not the disk's. */
#include "finstream/collector.h"
#include "finstream/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct count_sink {
    char *buf;
    size_t len, cap;
    unsigned long long bytes;
};

static int put(void *ctx, const char *key, size_t key_len, const char *rec, size_t len)
{
    (void)key;
    (void)key_len;
    struct count_sink *s = ctx;
    if (s->len + len + 1 > s->cap)
        s->len = 0;
    memcpy(s->buf + s->len, rec, len);
    s->buf[s->len + len] = '\n';
    s->len += len + 1;
    s->bytes += len + 1;
    return 0;
}

int main(int argc, char **argv)
{
    int n_tickers = argc > 1 ? atoi(argv[1]) : 500;
    int days = argc > 2 ? atoi(argv[2]) : 20;
    char *tickers = malloc((size_t)n_tickers * 8 + 1);
    size_t o = 0;
    for (int i = 0; i < n_tickers; i++)
        o += (size_t)sprintf(tickers + o, "%sT%03d", i ? "," : "", i);

    struct fin_collect_settings set;
    fin_opts_defaults(fin_collect_opts, &set);
    fin_opts_set(fin_collect_opts, &set, "tickers", tickers, "bench");
    struct fin_window w = {0, 0, 60};
    w.start = fin_ny_local_to_utc(2020, 5, 1, 0, 0, 0);
    /* Enough calendar days to hold the requested trading days. */
    int64_t d = fin_days_from_civil(2020, 5, 1);
    for (int got = 0; got < days; d++) {
        int y;
        unsigned m, dd;
        fin_civil_from_days(d, &y, &m, &dd);
        got += fin_nyse_is_trading_day(y, m, dd);
    }
    w.end = d * 86400 + 86400;

    struct count_sink cs = {malloc(1 << 22), 0, 1 << 22, 0};
    struct fin_record_format fmt;
    fin_record_format_parse(&fmt, NULL);
    struct fin_record_sink sink = {put, NULL, &cs};
    struct fin_emitter em;
    fin_emitter_init(&em, &fmt, &sink, false);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = fin_collect_once(&set, &w, &em);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("collect sim -> JSON lines: %llu records (%d tickers x %d days of 1m bars) in %.3f s\n",
           (unsigned long long)em.stats.records, n_tickers, days, secs);
    printf("  %.2f M records/s, %.0f MB/s, %.1f bytes/record (goal: >= 5 M records/s on one core)\n",
           (double)em.stats.records / secs / 1e6, (double)cs.bytes / secs / 1e6,
           (double)cs.bytes / (double)em.stats.records);
    fin_emitter_fini(&em);
    fin_opts_fini(fin_collect_opts, &set);
    free(cs.buf);
    free(tickers);
    return rc ? 1 : 0;
}
