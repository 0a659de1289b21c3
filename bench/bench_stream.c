/* bench_stream.c - the stream's figures against the goals in DESIGN.md:
 *
 *   append   one producer, 100-byte records, fsync = interval, 1 and 4 shards, beside the
 *            trivial log of reflog.c (3 rounds; ratio goal >= 0.6)
 *   always   64 producers, fsync = always (group commit)          goal >= 2,000,000 acked/s, p99 < 5 ms
 *   scan     read everything back with a TRIM_HORIZON iterator    goal >= 10,000,000 records/s
 *   reshard  a producer appends (fsync = interval) while another thread scales between 2
 *            and 4 shards: how long a split or merge takes, and what it costs the producer
 *
 * usage: bench_stream [append|always|scan|reshard|all] [--records N] [--threads T] [--batch B]
 *                     [--seconds S] [--dir DIR]
 * The data goes to a fresh folder under DIR (default $TMPDIR or /tmp) and is removed. */
#include "finstream/crc32c.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/stream.h"
#include "reflog.h"

#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* CPU seconds of this process (all threads): on a machine shared with other work, CPU
 * per record compares two runs better than wall-clock rates do. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_stream: %s: %s (%s)\n", what, fin_err_msg(), fin_strerror(rc));
    exit(1);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static char record[100];
static const char *tickers[] = {"FB", "SHOP", "BYND", "NFLX", "PINS", "SQ", "TTD", "OKTA", "SNAP", "DDOG"};

static void make_stream(const char *dir, const char *name, int shards, int fsync)
{
    struct fin_stream_config cfg;
    fin_stream_config_defaults(&cfg);
    cfg.shards = shards;
    cfg.fsync = fsync;
    cfg.fsync_interval_ms = 1000;
    int rc = fin_stream_create(dir, name, &cfg);
    if (rc)
        die("create", rc);
}

/* One append run: n records from one producer into a new stream of `shards` shards
 * (fsync = interval); records/s up to the last put. */
static double append_run(const char *dir, const char *name, int shards, long n, double *with_sync)
{
    make_stream(dir, name, shards, FIN_FSYNC_INTERVAL);
    struct fin_stream *s;
    int rc = fin_stream_open(&s, dir, name, FIN_STREAM_WRITE, NULL);
    if (rc)
        die("open", rc);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        const char *k = tickers[i % 10];
        if ((rc = fin_stream_put(s, k, strlen(k), record, sizeof record, NULL, NULL)))
            die("put", rc);
    }
    double t1 = now_s();
    fin_stream_close(s);
    double t2 = now_s();
    if (with_sync)
        *with_sync = n / (t2 - t0);
    return n / (t1 - t0);
}

static void min_med_max(double *v, int n, double out[3])
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    out[0] = v[0];
    out[1] = v[n / 2];
    out[2] = v[n - 1];
}

/* Three rounds, each the trivial log (reflog.c) and then the stream with 1 and 4 shards
 * on the same disk, so that the ratios compare runs made moments apart. */
static void bench_append(const char *dir, long n)
{
    enum { RUNS = 3 };
    double ref[RUNS], one[RUNS], four[RUNS], r1[RUNS], r4[RUNS], sync1 = 0;
    double cref[RUNS], c1[RUNS], c4[RUNS], cr1[RUNS], cr4[RUNS];   /* CPU ns per record */
    for (int k = 0; k < RUNS; k++) {
        char name[32];
        double c0 = cpu_s();
        ref[k] = reflog_run(dir, n, tickers, 10, record, sizeof record);
        if (ref[k] <= 0)
            die("reference log", FIN_EIO);
        double c_1 = cpu_s();
        snprintf(name, sizeof name, "append-%d", k);
        one[k] = append_run(dir, name, 1, n, k == 0 ? &sync1 : NULL);
        double c_2 = cpu_s();
        snprintf(name, sizeof name, "append4-%d", k);
        four[k] = append_run(dir, name, 4, n, NULL);
        double c_3 = cpu_s();
        cref[k] = (c_1 - c0) / (double)n * 1e9;
        c1[k] = (c_2 - c_1) / (double)n * 1e9;
        c4[k] = (c_3 - c_2) / (double)n * 1e9;
        r1[k] = one[k] / ref[k];
        r4[k] = four[k] / ref[k];
        cr1[k] = cref[k] / c1[k];
        cr4[k] = cref[k] / c4[k];
        if (k) {   /* keep the first 1-shard stream for the scan */
            char path[1100];
            snprintf(path, sizeof path, "%s/streams/append-%d", dir, k);
            fin_remove_tree(path);
        }
        char path4[1100];
        snprintf(path4, sizeof path4, "%s/streams/append4-%d", dir, k);
        fin_remove_tree(path4);
    }
    double a[3], b[3], c[3], d[3], e[3], f[3], g[3], h[3], i3[3], j[3];
    min_med_max(ref, RUNS, a);
    min_med_max(one, RUNS, b);
    min_med_max(four, RUNS, c);
    min_med_max(r1, RUNS, d);
    min_med_max(r4, RUNS, e);
    min_med_max(cref, RUNS, f);
    min_med_max(c1, RUNS, g);
    min_med_max(c4, RUNS, h);
    min_med_max(cr1, RUNS, i3);
    min_med_max(cr4, RUNS, j);
    printf("append   %ld records of %zu bytes, 1 producer, fsync=interval, %d runs (min/median/max);\n"
           "         ratio = the stream's records/s over the reference's (CPU: the reference's CPU "
           "per record over the stream's)\n", n, sizeof record, RUNS);
    printf("  reference log        %.2f / %.2f / %.2f M records/s, CPU %.0f / %.0f / %.0f ns per record\n",
           a[0] / 1e6, a[1] / 1e6, a[2] / 1e6, f[0], f[1], f[2]);
    printf("  stream, 1 shard      %.2f / %.2f / %.2f M records/s  ratio %.2f / %.2f / %.2f; "
           "CPU %.0f / %.0f / %.0f ns, ratio %.2f / %.2f / %.2f (first run %.2f M/s including "
           "the final fsync)\n", b[0] / 1e6, b[1] / 1e6, b[2] / 1e6, d[0], d[1], d[2], g[0],
           g[1], g[2], i3[0], i3[1], i3[2], sync1 / 1e6);
    printf("  stream, 4 shards     %.2f / %.2f / %.2f M records/s  ratio %.2f / %.2f / %.2f; "
           "CPU %.0f / %.0f / %.0f ns, ratio %.2f / %.2f / %.2f\n", c[0] / 1e6, c[1] / 1e6,
           c[2] / 1e6, e[0], e[1], e[2], h[0], h[1], h[2], j[0], j[1], j[2]);
}

static void bench_scan(const char *dir, long expect)
{
    struct fin_stream *s;
    int rc = fin_stream_open(&s, dir, "append-0", FIN_STREAM_READ, NULL);
    if (rc)
        die("open for scan (run append first)", rc);
    for (int pass = 0; pass < 2; pass++) {
        struct fin_iter *it;
        if ((rc = fin_iter_open(&it, s, 0, FIN_ITER_TRIM_HORIZON, NULL, 0)))
            die("iter", rc);
        struct fin_record r;
        long n = 0;
        uint64_t bytes = 0;
        double t0 = now_s();
        while ((rc = fin_iter_next(it, &r)) == 0) {
            n++;
            bytes += r.len;
        }
        double t1 = now_s();
        if (rc != FIN_EEND)
            die("scan", rc);
        fin_iter_close(it);
        if (n != expect)
            fprintf(stderr, "bench_stream: scan found %ld records, %ld expected\n", n, expect);
        printf("scan     %s  %ld records (CRC-checked, %s CRC32C): %.2f M records/s (%.0f MB/s of data)\n",
               pass ? "second pass" : "first pass ", n, fin_crc32c_hw() ? "SSE4.2" : "software",
               n / (t1 - t0) / 1e6, (double)bytes / (t1 - t0) / 1e6);
    }
    fin_stream_close(s);
}

struct producer {
    struct fin_stream *s;
    int id, batch;
    double until;
    long records;
    double *lat;       /* per call, ms */
    size_t n_lat, cap_lat;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    struct fin_put_entry *e = calloc((size_t)p->batch, sizeof *e);
    for (int i = 0; i < p->batch; i++) {
        const char *k = tickers[(p->id + i) % 10];
        e[i] = (struct fin_put_entry){k, strlen(k), record, sizeof record};
    }
    while (now_s() < p->until) {
        double t0 = now_s();
        int rc = p->batch == 1 ? fin_stream_put(p->s, e[0].key, e[0].key_len, record,
                                                sizeof record, NULL, NULL)
                               : fin_stream_put_batch(p->s, e, (size_t)p->batch, NULL);
        if (rc)
            die("put", rc);
        double ms = (now_s() - t0) * 1e3;
        if (p->n_lat == p->cap_lat) {
            p->cap_lat = p->cap_lat ? p->cap_lat * 2 : 4096;
            p->lat = realloc(p->lat, p->cap_lat * sizeof *p->lat);
        }
        p->lat[p->n_lat++] = ms;
        p->records += p->batch;
    }
    free(e);
    return NULL;
}

static void bench_always(const char *dir, int threads, int batch, double seconds, int shards)
{
    char name[64];
    snprintf(name, sizeof name, "always-%d-%d-%d", threads, batch, shards);
    make_stream(dir, name, shards, FIN_FSYNC_ALWAYS);
    struct fin_stream *s;
    int rc = fin_stream_open(&s, dir, name, FIN_STREAM_WRITE, NULL);
    if (rc)
        die("open", rc);
    struct producer *p = calloc((size_t)threads, sizeof *p);
    pthread_t *th = calloc((size_t)threads, sizeof *th);
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        p[i] = (struct producer){.s = s, .id = i, .batch = batch, .until = t0 + seconds};
        pthread_create(&th[i], NULL, produce, &p[i]);
    }
    long total = 0;
    size_t n_lat = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        total += p[i].records;
        n_lat += p[i].n_lat;
    }
    double t1 = now_s();
    double *lat = malloc(n_lat * sizeof *lat);
    size_t k = 0;
    for (int i = 0; i < threads; i++) {
        memcpy(lat + k, p[i].lat, p[i].n_lat * sizeof *lat);
        k += p[i].n_lat;
        free(p[i].lat);
    }
    qsort(lat, n_lat, sizeof *lat, cmp_d);
    printf("always   fsync=always    %d producers x %s%d record%s, %d shard%s: %.2f M acked records/s; "
           "ack latency p50 %.2f ms, p99 %.2f ms, max %.2f ms (%zu puts)\n",
           threads, batch > 1 ? "batches of " : "", batch, batch == 1 ? "" : "s", shards,
           shards == 1 ? "" : "s", total / (t1 - t0) / 1e6, lat[n_lat / 2],
           lat[(size_t)((double)n_lat * 0.99)], lat[n_lat - 1], n_lat);
    free(lat);
    free(p);
    free(th);
    fin_stream_close(s);
}

struct reshard_prod {
    struct fin_stream *s;
    volatile bool stop;
    long n;
};

static void *reshard_produce(void *arg)
{
    struct reshard_prod *p = arg;
    while (!p->stop) {
        for (int i = 0; i < 1000; i++) {
            const char *k = tickers[(p->n + i) % 10];
            int rc = fin_stream_put(p->s, k, strlen(k), record, sizeof record, NULL, NULL);
            if (rc)
                die("put", rc);
        }
        p->n += 1000;
    }
    return NULL;
}

static void bench_reshard(const char *dir, double seconds)
{
    make_stream(dir, "reshard", 2, FIN_FSYNC_INTERVAL);
    struct fin_stream *s;
    int rc = fin_stream_open(&s, dir, "reshard", FIN_STREAM_WRITE, NULL);
    if (rc)
        die("open", rc);
    struct reshard_prod p = {s, false, 0};
    pthread_t t;
    pthread_create(&t, NULL, reshard_produce, &p);
    /* first the producer alone, then with a rescale every 50 ms */
    double t0 = now_s();
    while (now_s() - t0 < seconds / 2)
        usleep(10000);
    long n0 = p.n;
    double t1 = now_s(), worst = 0, sum = 0;
    int ops = 0;
    while (now_s() - t1 < seconds / 2) {
        int target = fin_stream_open_shard_count(s) == 2 ? 4 : 2;
        double a = now_s();
        if ((rc = fin_stream_update_shard_count(s, target)))
            die("update shard count", rc);
        double d = now_s() - a;
        int steps = 2;   /* 2 -> 4: two splits; 4 -> 2: two merges */
        sum += d;
        ops += steps;
        if (d / steps > worst)
            worst = d / steps;
        usleep(50000);
    }
    long n1 = p.n;
    double t2 = now_s();
    p.stop = true;
    pthread_join(t, NULL);
    fin_stream_close(s);
    printf("reshard  fsync=interval  %d splits and merges: %.2f ms each on average, %.2f ms the "
           "slowest; producer %.2f M records/s alone, %.2f M/s while resharding\n",
           ops, sum / ops * 1e3, worst * 1e3, n0 / (t1 - t0) / 1e6, (n1 - n0) / (t2 - t1) / 1e6);
}

int main(int argc, char **argv)
{
    const char *what = "all";
    long records = 5000000;
    int threads = 64, batch = 0;
    double seconds = 3;
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--records") == 0 && i + 1 < argc)
            records = atol(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            base = argv[++i];
        else if (argv[i][0] != '-')
            what = argv[i];
        else {
            fprintf(stderr, "usage: bench_stream [append|always|scan|reshard|all] [--records N] "
                            "[--threads T] [--batch B] [--seconds S] [--dir DIR]\n");
            return 2;
        }
    }
    memset(record, 'x', sizeof record);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/finstream-bench-XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    bool all = strcmp(what, "all") == 0;
    if (all || strcmp(what, "append") == 0 || strcmp(what, "scan") == 0)
        bench_append(dir, records);
    if (all || strcmp(what, "scan") == 0)
        bench_scan(dir, records);
    if (all || strcmp(what, "always") == 0) {
        if (batch) {
            bench_always(dir, threads, batch, seconds, 1);
        } else {
            bench_always(dir, threads, 1, seconds, 1);
            bench_always(dir, threads, 64, seconds, 1);
            bench_always(dir, threads, 256, seconds, 1);
            bench_always(dir, threads, 256, seconds, 2);
        }
    }
    if (all || strcmp(what, "reshard") == 0)
        bench_reshard(dir, seconds);
    fin_remove_tree(dir);
    return 0;
}
