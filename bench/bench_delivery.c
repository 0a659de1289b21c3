/* bench_delivery.c - delivery throughput: records from memory into objects on disk, as
 * newline JSON, gzip and Parquet, with the engine's real sink (temp file, fsync, rename).
 *
 *   bench_delivery [records] [buffer MiB] [json|gzip|parquet]   (FIN_BENCH_REPEAT=3)
 *
 * Prints MB/s and records/s per format, each beside its reference run in the same round:
 * gzip beside zlib level 1 alone on the same bytes in memory (one call, one thread),
 * Parquet beside DuckDB's own writer fed from memory (COPY of a table holding the same
 * rows); the ratio is delivery throughput / reference throughput. Also the peak memory
 * a run added (VmHWM, reset before each run) against the buffer size. Three runs by
 * default; min / median / max at the end. Goals (DESIGN.md, docs/performance.md): JSON
 * >= 500 MB/s, gzip >= 0.9x zlib alone, Parquet >= 3,000,000 rows/s, peak <= 1.5x the
 * buffer. */
#include "delivery/internal.h"
#include "finstream/delivery.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"
#include "finstream/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct mem {
    struct fin_delivery_source src;
    char *data;              /* all records, back to back */
    size_t *off, n, pos[2];
    char seq[2][FIN_SEQ_LEN + 1];   /* per shard, counted up in place */
    int64_t t0;
    uint64_t seq0;
};

static const char *mem_id(void *ctx, int shard)
{
    (void)ctx;
    return shard ? "shardId-000000000001" : "shardId-000000000000";
}

static int mem_seek(void *ctx, int shard, const char *after)
{
    struct mem *m = ctx;
    m->pos[shard] = (size_t)shard;
    memset(m->seq[shard], '0', FIN_SEQ_LEN);
    m->seq[shard][0] = (char)('1' + shard);
    m->seq[shard][FIN_SEQ_LEN] = '\0';
    if (after && *after)
        m->pos[shard] = m->n;   /* a benchmark never resumes */
    return 0;
}

/* Two shards: even records on 0, odd on 1. */
static int mem_next(void *ctx, int shard, struct fin_record *rec)
{
    struct mem *m = ctx;
    size_t i = m->pos[shard];
    if (i >= m->n)
        return FIN_EEND;
    m->pos[shard] += 2;
    rec->data = m->data + m->off[i];
    rec->len = m->off[i + 1] - m->off[i];
    rec->key = "k";
    rec->key_len = 1;
    rec->arrival_ms = m->t0 + (int64_t)(i / 1000);
    char *q = m->seq[shard] + FIN_SEQ_LEN - 1;
    while (*q == '9')
        *q-- = '0';
    (*q)++;
    memcpy(rec->seq, m->seq[shard], sizeof rec->seq);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time of the whole process (every thread): on a shared machine it varies less than
 * the wall clock, and it shows how much of a second core a format uses. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Peak resident memory since the last reset, and the reset (Linux: clear_refs 5). */
static long rss_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0)
            v = atol(line + n + 1);
    if (f)
        fclose(f);
    return v;
}

static void reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* figures of one format over the runs */
struct series {
    double rate[64], ratio[64], peak[64];
    int n;
};

static void series_print(const char *label, struct series *s, const char *ref)
{
    if (!s->n)
        return;
    qsort(s->rate, (size_t)s->n, sizeof *s->rate, cmp_d);
    qsort(s->ratio, (size_t)s->n, sizeof *s->ratio, cmp_d);
    qsort(s->peak, (size_t)s->n, sizeof *s->peak, cmp_d);
    printf("%-8s M records/s  min %.2f  median %.2f  max %.2f", label, s->rate[0],
           s->rate[s->n / 2], s->rate[s->n - 1]);
    if (ref)
        printf("   ratio to %s  min %.2f  median %.2f  max %.2f", ref, s->ratio[0],
               s->ratio[s->n / 2], s->ratio[s->n - 1]);
    printf("   peak/buffer  median %.2f  max %.2f\n", s->peak[s->n / 2], s->peak[s->n - 1]);
}

/* zlib level 1 alone over the same bytes in memory: seconds */
static double zlib_alone(const struct mem *m)
{
    struct iovec iov = {m->data, m->off[m->n]};
    struct fin_buf out;
    fin_buf_init(&out);
    double t = now_s();
    fin_gzip_fast(&iov, 1, &out);
    t = now_s() - t;
    fin_buf_fini(&out);
    return t;
}

/* DuckDB's own Parquet writer fed from memory: a table holding the rows, copied to a file */
struct duck_ref {
    struct fin_query *q;
    char dir[512];
};

static int duck_ref_open(struct duck_ref *d, const char *dir, const struct mem *m)
{
    snprintf(d->dir, sizeof d->dir, "%s/duckref", dir);
    char path[600], sql[1400];
    snprintf(path, sizeof path, "%s/rows.json", d->dir);
    if (fin_mkdir_p(d->dir, 0755))
        return 1;
    FILE *f = fopen(path, "wb");
    for (size_t i = 0; f && i < m->n; i++) {
        fwrite(m->data + m->off[i], 1, m->off[i + 1] - m->off[i], f);
        fputc('\n', f);
    }
    if (!f || fclose(f) != 0 || fin_query_open(&d->q, d->dir))
        return 1;
    snprintf(sql, sizeof sql, "CREATE TABLE rows AS SELECT * FROM read_json('%s', format = "
             "'newline_delimited', columns = {name: 'VARCHAR', ts: 'VARCHAR', open: 'DOUBLE', "
             "high: 'DOUBLE', low: 'DOUBLE', close: 'DOUBLE', volume: 'BIGINT'})", path);
    struct fin_result *r = NULL;
    int rc = fin_query_exec(d->q, sql, &r);
    fin_result_destroy(r);
    remove(path);
    return rc;
}

static double duck_ref_run(struct duck_ref *d)
{
    char sql[700];
    snprintf(sql, sizeof sql, "COPY rows TO '%s/out.parquet' (FORMAT parquet, COMPRESSION snappy)",
             d->dir);
    struct fin_result *r = NULL;
    double t = now_s();
    int rc = fin_query_exec(d->q, sql, &r);
    t = now_s() - t;
    fin_result_destroy(r);
    if (rc)
        fprintf(stderr, "duckdb reference: %s\n", fin_err_msg());
    return t;
}

static int run(const char *dir, const char *label, struct mem *m, int format, int compression,
               int64_t buffer, struct series *ser, double ref_s, const char *ref)
{
    char sub[512];
    snprintf(sub, sizeof sub, "%s/%s", dir, label);
    fin_remove_tree(sub);
    struct fin_delivery_settings set;
    fin_delivery_settings_defaults(&set);
    fin_opts_set(fin_delivery_opts, &set, "source", "stream:bench", "bench");
    set.buffer_size = buffer;
    set.format = format;
    set.compression = compression;
    mem_seek(m, 0, "");
    mem_seek(m, 1, "");
    struct fin_delivery_engine *e;
    long base = rss_kib("VmRSS");
    reset_peak();
    double t = now_s(), c = cpu_s();
    int rc = fin_delivery_engine_create(&e, sub, "bench", &set, &m->src, NULL);
    if (!rc)
        rc = fin_delivery_engine_pump(e, 0, NULL);
    if (!rc)
        rc = fin_delivery_engine_flush(e);
    t = now_s() - t;
    c = cpu_s() - c;
    double peak = (double)(rss_kib("VmHWM") - base) * 1024 / (double)buffer;
    if (rc) {
        fprintf(stderr, "%s: %s: %s\n", label, fin_strerror(rc), fin_err_msg());
        fin_delivery_engine_destroy(e);
        fin_delivery_settings_fini(&set);
        return 1;
    }
    const struct fin_delivery_stats *s = fin_delivery_engine_stats(e);
    double in_mb = (double)m->off[m->n] / 1e6;
    printf("%-8s %9zu records %8.1f MB in  %8.1f MB out  %3llu objects  %6.3f s (cpu %6.3f s)  %8.1f MB/s  %6.2f M records/s",
           label, m->n, in_mb, (double)s->bytes / 1e6, (unsigned long long)s->objects, t, c,
           in_mb / t, (double)m->n / t / 1e6);
    if (ref)
        printf("  %s %.3f s: ratio %.2f", ref, ref_s, ref_s / t);
    printf("  peak %.2fx buffer\n", peak);
    if (ser->n < 64) {
        ser->rate[ser->n] = (double)m->n / t / 1e6;
        ser->ratio[ser->n] = ref ? ref_s / t : 0;
        ser->peak[ser->n++] = peak;
    }
    fin_delivery_engine_destroy(e);
    fin_delivery_settings_fini(&set);
    fin_remove_tree(sub);
    return 0;
}

int main(int argc, char **argv)
{
    if (getenv("FIN_BENCH_VERBOSE"))
        fin_log_set_level(FIN_LOG_DEBUG);
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
    int64_t buffer = (argc > 2 ? atoll(argv[2]) : 128) << 20;
    char tmpl[] = "/tmp/finstream-bench-delivery-XXXXXX";
    const char *only = argc > 3 ? argv[3] : NULL;
    const char *dir = mkdtemp(tmpl);
    if (!dir)
        return 1;
    struct mem m = {0};
    m.src.n_shards = 2;
    m.src.shard_id = mem_id;
    m.src.seek = mem_seek;
    m.src.next = mem_next;
    m.src.ctx = &m;
    m.t0 = 1589463000000LL;
    m.n = n;
    m.off = malloc((n + 1) * sizeof *m.off);
    m.data = malloc(n * 160);
    if (!m.off || !m.data)
        return 1;
    static const char *tickers[] = {"FB", "SHOP", "BYND", "NFLX", "PINS", "SQ", "TTD", "OKTA", "SNAP", "DDOG"};
    size_t o = 0;
    double px = 200;
    for (size_t i = 0; i < n; i++) {
        m.off[i] = o;
        px += ((double)(i * 7919 % 200) - 99.5) / 1000;
        int minute = (int)(i / 10 % 390);
        o += (size_t)sprintf(m.data + o,
                             "{\"name\":\"%s\",\"ts\":\"2020-05-14 %02d:%02d:00-04:00\",\"open\":%.2f,"
                             "\"high\":%.2f,\"low\":%.2f,\"close\":%.2f,\"volume\":%zu}",
                             tickers[i % 10], 9 + (30 + minute) / 60, (30 + minute) % 60, px,
                             px + 0.25, px - 0.25, px + 0.05, 1000 + i % 50000);
    }
    m.off[n] = o;
    printf("delivery benchmark: %zu records of %.0f bytes average, buffer %lld MiB, 2 shards, in %s\n",
           n, (double)o / (double)n, (long long)(buffer >> 20), dir);
    /* The machine is shared and disks vary: each format runs `repeat` times
     * (FIN_BENCH_REPEAT, default 3); compare the best figures of one session. */
    int repeat = getenv("FIN_BENCH_REPEAT") ? atoi(getenv("FIN_BENCH_REPEAT")) : 3;
    int rc = 0;
    struct series sj = {0}, sg = {0}, sp = {0};
    struct duck_ref duck = {0};
    bool want_pq = !only || strcmp(only, "parquet") == 0;
    if (want_pq && duck_ref_open(&duck, dir, &m)) {
        fprintf(stderr, "cannot set up DuckDB's writer as the reference: %s\n", fin_err_msg());
        return 1;
    }
    for (int r = 0; r < (repeat > 0 ? repeat : 1); r++) {
        if (!only || strcmp(only, "json") == 0)
            rc |= run(dir, "json", &m, FIN_FORMAT_JSON, FIN_COMPRESS_NONE, buffer, &sj, 0, NULL);
        if (!only || strcmp(only, "gzip") == 0)
            rc |= run(dir, "gzip", &m, FIN_FORMAT_JSON, FIN_COMPRESS_GZIP, buffer, &sg,
                      zlib_alone(&m), "zlib-1 alone");
        if (want_pq)
            rc |= run(dir, "parquet", &m, FIN_FORMAT_PARQUET, FIN_COMPRESS_NONE, buffer, &sp,
                      duck_ref_run(&duck), "duckdb writer");
    }
    series_print("json", &sj, NULL);
    series_print("gzip", &sg, "zlib-1 alone");
    series_print("parquet", &sp, "duckdb writer");
    fin_query_close(duck.q);
    fin_remove_tree(dir);
    free(m.off);
    free(m.data);
    return rc;
}
