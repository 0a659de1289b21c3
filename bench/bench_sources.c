/* bench_sources.c - throughput of the yahoo, csv and replay sources' parsing, into a sink
 * that drops records: how fast a chart answer, an OHLCV file or a day of records turns
 * into records. Prints one line per source. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector/source_util.h"
#include "finstream/buf.h"
#include "finstream/collector.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"

static uint64_t sunk_bytes;

static int drop(void *ctx, const char *key, size_t kl, const char *rec, size_t len)
{
    (void)ctx;
    (void)key;
    (void)kl;
    (void)rec;
    sunk_bytes += len + 1;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void emitter(struct fin_emitter *em)
{
    struct fin_record_format fmt;
    struct fin_record_sink sink = {drop, NULL, NULL};
    if (fin_record_format_parse(&fmt, NULL) || fin_emitter_init(em, &fmt, &sink, false))
        exit(1);
}

static void report(const char *what, uint64_t records, size_t in_bytes, double secs)
{
    printf("%-8s %10.0f records/s  %7.1f MB/s in  (%llu records in %.3f s)\n", what, records / secs,
           in_bytes / secs / 1e6, (unsigned long long)records, secs);
}

int main(void)
{
    fin_log_set_level(FIN_LOG_ERROR);
    /* A week of one-minute bars for one ticker, as Yahoo answers it (7 x 390). */
    struct fin_buf b;
    fin_buf_init(&b);
    const int n = 2730;
    fin_buf_puts(&b, "{\"chart\":{\"result\":[{\"meta\":{\"symbol\":\"FB\",\"gmtoffset\":-14400,"
                     "\"exchangeTimezoneName\":\"America/New_York\"},\"timestamp\":[");
    for (int i = 0; i < n; i++)
        fin_buf_printf(&b, "%s%d", i ? "," : "", 1589463000 + 60 * i);
    fin_buf_puts(&b, "],\"indicators\":{\"quote\":[{");
    const char *keys[] = {"open", "high", "low", "close", "volume"};
    for (int k = 0; k < 5; k++) {
        fin_buf_printf(&b, "%s\"%s\":[", k ? "," : "", keys[k]);
        for (int i = 0; i < n; i++)
            if (k == 4)
                fin_buf_printf(&b, "%s%d", i ? "," : "", 1000 + i);
            else
                fin_buf_printf(&b, "%s%.13g", i ? "," : "", 202.8300018310547 + (i % 97) * 0.0100002 + k);
        fin_buf_puts(&b, "]");
    }
    fin_buf_puts(&b, "}]}}],\"error\":null}}");
    struct fin_window w = {0, INT64_MAX / 2, 60};
    struct fin_emitter em;
    emitter(&em);
    int reps = 200;
    double t0 = now_s();
    for (int r = 0; r < reps; r++)
        if (fin_yahoo_parse("FB", "bench", b.data, b.len, &w, &em))
            return 1;
    report("yahoo", em.stats.records, b.len * (size_t)reps, now_s() - t0);
    fin_emitter_fini(&em);

    /* An intraday OHLCV export: 500,000 rows. */
    fin_buf_reset(&b);
    fin_buf_puts(&b, "Datetime,Open,High,Low,Close,Adj Close,Volume\n");
    for (int i = 0; i < 500000; i++) {
        int m = i % 390;
        fin_buf_printf(&b, "2020-05-%02d %02d:%02d:00-04:00,%.6f,%.6f,%.6f,%.6f,%.6f,%d\n",
                       11 + (i / 390) % 5, 9 + (30 + m) / 60, (30 + m) % 60, 202.5 + m * 0.01,
                       203.0 + m * 0.01, 202.0 + m * 0.01, 202.6 + m * 0.01, 202.6 + m * 0.01, 1000 + i);
    }
    emitter(&em);
    t0 = now_s();
    if (fin_csv_parse("bench.csv", b.data, b.len, NULL, &em))
        return 1;
    report("csv", em.stats.records, b.len, now_s() - t0);
    fin_emitter_fini(&em);

    /* Replay: 1,000,000 classic records in one line-framed file. */
    char path[] = "/tmp/finstream-bench-replay-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    fin_buf_reset(&b);
    for (int i = 0; i < 1000000; i++)
        fin_buf_printf(&b, "{\"high\": %.2f, \"low\": %.2f, \"ts\": \"2020-05-14 %02d:%02d:00-04:00\", \"name\": \"%s\"}\n",
                       202.83 + (i % 50) * 0.01, 201.59 + (i % 50) * 0.01, 9 + (30 + i % 390) / 60,
                       (30 + i % 390) % 60, (const char *[]){"FB", "SNAP", "TTD", "DDOG"}[i % 4]);
    if (write(fd, b.data, b.len) != (ssize_t)b.len)
        return 1;
    close(fd);
    struct fin_collect_settings set;
    fin_opts_defaults(fin_collect_opts, &set);
    struct fin_source *src;
    emitter(&em);
    t0 = now_s();
    if (fin_source_replay.create(&src, path, &set) ||
        fin_source_replay.collect(src, NULL, 0, &w, &em))
        return 1;
    report("replay", em.stats.records, b.len, now_s() - t0);
    fin_source_replay.destroy(src);
    fin_emitter_fini(&em);
    fin_opts_fini(fin_collect_opts, &set);
    unlink(path);
    fin_buf_fini(&b);
    return 0;
}
