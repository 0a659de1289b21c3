/* bench_crawl.c - the crawler against the bytes-read floor.
 *
 *   bench_crawl [objects] [records per object] [gzip]     (FIN_BENCH_REPEAT=3)
 *
 * Writes a lake of Firehose-like objects (newline JSON, ~118-byte records, under
 * YYYY/MM/DD/HH folders; gzip with the third argument) and times, alternating:
 *   floor  one thread reading the bytes the crawler must read: the sampled prefix of each
 *          plain object (to the end of its 1000th record), a gzip object whole;
 *   crawl  fin_crawl of the whole lake into a fresh catalog (default sample, all cores);
 * then a re-crawl after 1% new objects, which should cost in proportion to them. Prints
 * each run, then min / median / max and the ratio crawl / floor (the goal in
 * docs/performance.md: 30,000 objects in under 5 s). */
#include "finstream/catalog.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void quiet(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg;
}

struct lake {
    char root[512];
    size_t n, records;
    bool gzip;
    size_t *prefix;   /* bytes to the end of the sampled records, per object */
};

/* Object i of the lake: hour folder i % 24, name obj-<i>. */
static void object_path(const struct lake *l, size_t i, char *out, size_t cap)
{
    snprintf(out, cap, "%s/lake/2020/05/14/%02zu/bench-%07zu", l->root, i % 24, i);
}

static int write_objects(struct lake *l, size_t from, size_t to)
{
    static const char *tickers[] = {"FB", "SHOP", "BYND", "NFLX", "PINS", "SQ", "TTD", "OKTA", "SNAP", "DDOG"};
    size_t cap = l->records * 160 + 1;
    char *buf = malloc(cap);
    if (!buf)
        return 1;
    for (size_t i = from; i < to; i++) {
        size_t o = 0;
        double px = 100 + (double)(i % 500);
        for (size_t r = 0; r < l->records; r++) {
            px += ((double)((i + r) * 7919 % 200) - 99.5) / 1000;
            int minute = (int)(r % 390);
            o += (size_t)snprintf(buf + o, cap - o,
                                  "{\"name\":\"%s\",\"ts\":\"2020-05-14 %02d:%02d:00-04:00\",\"open\":%.2f,"
                                  "\"high\":%.2f,\"low\":%.2f,\"close\":%.2f,\"volume\":%zu}\n",
                                  tickers[r % 10], 9 + (30 + minute) / 60, (30 + minute) % 60, px,
                                  px + 0.25, px - 0.25, px + 0.05, 1000 + (i * 31 + r) % 50000);
            if (r + 1 == FIN_CRAWL_DEFAULT_SAMPLE || r + 1 == l->records)
                l->prefix[i] = o;
        }
        char path[700];
        object_path(l, i, path, sizeof path);
        char *slash = strrchr(path, '/');
        *slash = '\0';
        fin_mkdir_p(path, 0755);
        *slash = '/';
        if (l->gzip) {
            gzFile z = gzopen(path, "wb1");
            if (!z || gzwrite(z, buf, (unsigned)o) != (int)o || gzclose(z) != Z_OK)
                return 1;
            struct stat st;
            stat(path, &st);
            l->prefix[i] = (size_t)st.st_size;
        } else {
            FILE *f = fopen(path, "wb");
            if (!f || fwrite(buf, 1, o, f) != o || fclose(f) != 0)
                return 1;
        }
    }
    free(buf);
    return 0;
}

/* The floor: the same bytes read by one thread, with nothing done to them. */
static double floor_run(const struct lake *l, size_t *bytes, double *cpu)
{
    char *buf = malloc(1 << 20);
    double t = now_s(), c = cpu_s();
    *bytes = 0;
    for (size_t i = 0; i < l->n; i++) {
        char path[700];
        object_path(l, i, path, sizeof path);
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            continue;
        size_t want = l->prefix[i], got = 0;
        while (got < want) {
            ssize_t r = read(fd, buf, want - got < (1 << 20) ? want - got : (1 << 20));
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        *bytes += got;
        close(fd);
    }
    t = now_s() - t;
    *cpu = cpu_s() - c;
    free(buf);
    return t;
}

static int crawl_run(const struct lake *l, const char *data, double *secs, double *cpu,
                     struct fin_crawl_stats *st)
{
    char lake[600];
    snprintf(lake, sizeof lake, "%s/lake", l->root);
    struct fin_catalog *cat;
    int rc = fin_catalog_open(&cat, data);
    struct fin_crawl_opts o = {.table = "bench", .sample = -1, .report = quiet};
    double t = now_s(), c = cpu_s();
    if (!rc)
        rc = fin_crawl(cat, lake, &o, st);
    if (!rc)
        rc = fin_catalog_save(cat);
    *secs = now_s() - t;
    *cpu = cpu_s() - c;
    fin_catalog_close(cat);
    if (rc)
        fprintf(stderr, "crawl: %s: %s\n", fin_strerror(rc), fin_err_msg());
    return rc;
}

int main(int argc, char **argv)
{
    struct lake l = {0};
    l.n = argc > 1 ? strtoull(argv[1], NULL, 10) : 30000;
    l.records = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000;
    l.gzip = argc > 3 && strcmp(argv[3], "gzip") == 0;
    int repeat = getenv("FIN_BENCH_REPEAT") ? atoi(getenv("FIN_BENCH_REPEAT")) : 3;
    if (repeat < 1)
        repeat = 1;
    snprintf(l.root, sizeof l.root, "/tmp/finstream-bench-crawl-XXXXXX");
    if (!mkdtemp(l.root))
        return 1;
    size_t extra = l.n / 100 ? l.n / 100 : 1;
    l.prefix = calloc(l.n + extra, sizeof *l.prefix);
    double t = now_s();
    if (!l.prefix || write_objects(&l, 0, l.n)) {
        fprintf(stderr, "cannot write the lake in %s\n", l.root);
        return 1;
    }
    printf("crawl benchmark: %zu objects of %zu records%s, written in %.1f s, in %s\n", l.n,
           l.records, l.gzip ? " (gzip)" : "", now_s() - t, l.root);
    double *fl = calloc((size_t)repeat, sizeof *fl), *cr = calloc((size_t)repeat, sizeof *cr);
    double *cratio = calloc((size_t)repeat, sizeof *cratio);
    int rc = 0;
    for (int r = 0; r < repeat && !rc; r++) {
        size_t bytes;
        double fcpu;
        fl[r] = floor_run(&l, &bytes, &fcpu);
        char data[600];
        snprintf(data, sizeof data, "%s/data-%d", l.root, r);
        double cpu;
        struct fin_crawl_stats st;
        rc = crawl_run(&l, data, &cr[r], &cpu, &st);
        printf("run %d: floor %.3f s (%.1f MB)  crawl %.3f s (cpu %.3f s, %zu objects, %lld records "
               "sampled)  %.1f us/object  ratio %.1f (cpu %.1f)\n",
               r + 1, fl[r], (double)bytes / 1e6, cr[r], cpu, st.objects_sampled,
               (long long)st.records_sampled, cr[r] / (double)l.n * 1e6, cr[r] / fl[r],
               cpu / fcpu);
        cratio[r] = cpu / fcpu;
        fin_remove_tree(data);
    }
    if (!rc) {
        double ratio[64];
        int nr = repeat < 64 ? repeat : 64;
        for (int r = 0; r < nr; r++)
            ratio[r] = cr[r] / fl[r];
        qsort(fl, (size_t)repeat, sizeof *fl, cmp_d);
        qsort(cr, (size_t)repeat, sizeof *cr, cmp_d);
        qsort(ratio, (size_t)nr, sizeof *ratio, cmp_d);
        printf("floor  min %.3f  median %.3f  max %.3f s\n", fl[0], fl[repeat / 2], fl[repeat - 1]);
        printf("crawl  min %.3f  median %.3f  max %.3f s   (%.1f us/object median)\n", cr[0],
               cr[repeat / 2], cr[repeat - 1], cr[repeat / 2] / (double)l.n * 1e6);
        printf("ratio crawl/floor  min %.1f  median %.1f  max %.1f\n", ratio[0], ratio[nr / 2],
               ratio[nr - 1]);
        qsort(cratio, (size_t)repeat, sizeof *cratio, cmp_d);
        printf("cpu ratio crawl/floor  min %.1f  median %.1f  max %.1f\n", cratio[0],
               cratio[repeat / 2], cratio[repeat - 1]);
        /* re-crawl: 1% new objects beside a catalog that knows the rest */
        char data[600];
        snprintf(data, sizeof data, "%s/data-re", l.root);
        double cpu, full, re;
        struct fin_crawl_stats st;
        rc = crawl_run(&l, data, &full, &cpu, &st);
        size_t n0 = l.n;
        l.n += extra;
        if (!rc && !(rc = write_objects(&l, n0, l.n)))
            rc = crawl_run(&l, data, &re, &cpu, &st);
        if (!rc)
            printf("re-crawl with %zu new objects of %zu: %.3f s (%zu sampled), %.1f%% of a full "
                   "crawl (%.3f s)\n", extra, l.n, re, st.objects_sampled, re / full * 100, full);
    }
    free(fl);
    free(cr);
    free(cratio);
    free(l.prefix);
    fin_remove_tree(l.root);
    return rc ? 1 : 0;
}
