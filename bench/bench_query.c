/* bench_query.c - the classic hourly-high query over 10,000,000 one-minute bars, on JSON
 * lines and on Parquet, and the crawl of a lake of thousands of objects.
 *
 *   bench_query [DIR] [ROWS] [TICKERS] [OBJECT_KIB]
 *       DIR         work folder (default /tmp/finstream-bench-query); kept, and reused
 *                   when it already holds the lakes
 *       ROWS        bars to generate (default 10,000,000)
 *       TICKERS     tickers (default 500)
 *       OBJECT_KIB  size at which a JSON object is closed (default 256 KiB)
 *
 * The simulator writes the classic four fields (high, low, ts, name) as JSON lines into
 * DIR/json/lake/YYYY/MM/DD/HH/ objects, by the bar's exchange-local hour; the Parquet lake
 * (DIR/parquet/lake/YYYY/MM/DD/HH/) is the same data converted by DuckDB, one file per
 * hour. Each lake is crawled (timed) into its own data directory, then the hourly-high
 * query written with row_number() runs once cold and five times warm; the figures printed
 * are the cold time and the best and median warm times. */
#include "finstream/catalog.h"
#include "finstream/collector.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/query.h"
#include "finstream/timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A sink that writes lines into hourly folders and closes an object at object_bytes. */
struct lake_sink {
    const char *root;
    size_t object_bytes;
    char hour[16];          /* "2020/05/14/09" of the open object */
    FILE *f;
    size_t written;
    unsigned seq;
    unsigned long long objects, bytes;
};

static int open_object(struct lake_sink *s, const char *hour)
{
    if (s->f && fclose(s->f) != 0)
        return fin_err_set(FIN_EIO, "cannot close an object");
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/%s", s->root, hour);
    int rc = fin_mkdir_p(dir, 0755);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "%s/bench-1-%s-%06u", dir, hour, s->seq++);
    for (char *p = path + strlen(dir) + 1; *p; p++)
        if (*p == '/')
            *p = '-';
    s->f = fopen(path, "wb");
    if (!s->f)
        return fin_err_errno(errno, "cannot create", path);
    snprintf(s->hour, sizeof s->hour, "%s", hour);
    s->written = 0;
    s->objects++;
    return 0;
}

static int put(void *ctx, const char *key, size_t key_len, const char *rec, size_t len)
{
    (void)key;
    (void)key_len;
    struct lake_sink *s = ctx;
    const char *ts = strstr(rec, "\"ts\":\"");
    if (!ts)
        return fin_err_set(FIN_EPARSE, "record without ts");
    ts += 6;   /* YYYY-MM-DD hh */
    char hour[16];
    snprintf(hour, sizeof hour, "%.4s/%.2s/%.2s/%.2s", ts, ts + 5, ts + 8, ts + 11);
    if (!s->f || strcmp(hour, s->hour) != 0 || s->written >= s->object_bytes) {
        int rc = open_object(s, hour);
        if (rc)
            return rc;
    }
    fwrite(rec, 1, len, s->f);
    fputc('\n', s->f);
    s->written += len + 1;
    s->bytes += len + 1;
    return 0;
}

static int generate_json(const char *root, long rows, int n_tickers, size_t object_bytes)
{
    char *tickers = malloc((size_t)n_tickers * 8 + 1);
    if (!tickers)
        return FIN_ENOMEM;
    size_t o = 0;
    for (int i = 0; i < n_tickers; i++)
        o += (size_t)sprintf(tickers + o, "%sT%03d", i ? "," : "", i);
    struct fin_collect_settings set;
    fin_opts_defaults(fin_collect_opts, &set);
    fin_opts_set(fin_collect_opts, &set, "tickers", tickers, "bench");
    /* enough trading days of 390 bars for the rows asked */
    long days = (rows + (long)n_tickers * 390 - 1) / ((long)n_tickers * 390);
    struct fin_window w = {0, 0, 60};
    w.start = fin_ny_local_to_utc(2020, 3, 2, 0, 0, 0);
    int64_t d = fin_days_from_civil(2020, 3, 2);
    for (long got = 0; got < days; d++) {
        int y;
        unsigned m, dd;
        fin_civil_from_days(d, &y, &m, &dd);
        got += fin_nyse_is_trading_day(y, m, dd);
    }
    w.end = d * 86400;
    struct lake_sink ls = {.root = root, .object_bytes = object_bytes};
    struct fin_record_format fmt;
    fin_record_format_parse(&fmt, "high,low,ts,name");
    struct fin_record_sink sink = {put, NULL, &ls};
    struct fin_emitter em;
    fin_emitter_init(&em, &fmt, &sink, false);
    double t0 = now();
    /* hour by hour, as a delivery stream flushes: each hour's objects hold every ticker */
    int rc = 0;
    int64_t end = w.end;
    for (int64_t h = w.start; !rc && h < end; h += 3600) {
        struct fin_window hw = {h, h + 3600, 60};
        rc = fin_collect_once(&set, &hw, &em);
    }
    if (ls.f)
        fclose(ls.f);
    printf("generate  %llu bars (%d tickers x %ld trading days, 1m) -> %llu JSON-lines objects, "
           "%.0f MB  %.1f s\n",
           (unsigned long long)em.stats.records, n_tickers, days, ls.objects, (double)ls.bytes / 1e6,
           now() - t0);
    fin_emitter_fini(&em);
    fin_opts_fini(fin_collect_opts, &set);
    free(tickers);
    return rc;
}

static int run_sql(struct fin_query *q, const char *sql, struct fin_result **out)
{
    struct fin_result *r;
    int rc = fin_query_exec(q, sql, &r);
    if (rc) {
        fprintf(stderr, "query failed: %s\n", fin_err_msg());
        return rc;
    }
    if (out)
        *out = r;
    else
        fin_result_destroy(r);
    return 0;
}

/* Parquet copy of the JSON lake, one file per hour folder. */
static int generate_parquet(const char *json_data, const char *json_lake, const char *pq_lake)
{
    struct fin_query *q;
    struct fin_catalog *cat;
    int rc = fin_catalog_open(&cat, json_data);
    if (rc)
        return rc;
    const struct fin_table *t = fin_catalog_find(cat, "finance.stocks");
    if (!t) {
        fin_catalog_close(cat);
        return fin_err_set(FIN_ENOENT, "crawl the JSON lake first");
    }
    if ((rc = fin_query_open(&q, json_data))) {
        fin_catalog_close(cat);
        return rc;
    }
    double t0 = now();
    for (size_t i = 0; !rc && i < t->npartitions; i++) {
        char dir[2400], sql[8192];
        snprintf(dir, sizeof dir, "%s/%s", pq_lake, t->partitions[i].path);
        if ((rc = fin_mkdir_p(dir, 0755)))
            break;
        snprintf(sql, sizeof sql,
                 "COPY (SELECT high, low, ts, name FROM read_json('%s/%s/*', "
                 "format = 'newline_delimited', columns = {'high': 'DOUBLE', 'low': 'DOUBLE', "
                 "'ts': 'VARCHAR', 'name': 'VARCHAR'})) TO '%s/part-0.parquet' (FORMAT parquet)",
                 json_lake, t->partitions[i].path, dir);
        rc = run_sql(q, sql, NULL);
    }
    printf("generate  %zu Parquet objects (one per hour, DuckDB's writer)  %.1f s\n",
           t->npartitions, now() - t0);
    fin_query_close(q);
    fin_catalog_close(cat);
    return rc;
}

static int crawl(const char *data_dir, const char *lake, const char *what)
{
    struct fin_catalog *cat;
    struct fin_query *schema_reader;   /* one engine for every Parquet footer */
    struct fin_crawl_opts o = {.table = "stocks", .sample = -1,
                               .parquet_schema = fin_query_parquet_schema};
    struct fin_crawl_stats st;
    int rc = fin_query_open(&schema_reader, "/nonexistent");
    if (rc)
        return rc;
    o.parquet_ctx = schema_reader;
    if ((rc = fin_catalog_open(&cat, data_dir))) {
        fin_query_close(schema_reader);
        return rc;
    }
    double t0 = now();
    rc = fin_crawl(cat, lake, &o, &st);
    if (!rc)
        rc = fin_catalog_save(cat);
    double secs = now() - t0;
    if (!rc)
        printf("crawl     %-7s %zu objects, %zu partitions, %lld records sampled  %.2f s "
               "(%.0f objects/s)\n",
               what, st.objects_seen, fin_catalog_find(cat, "stocks")->npartitions,
               (long long)st.records_sampled, secs, (double)st.objects_seen / secs);
    fin_catalog_close(cat);
    fin_query_close(schema_reader);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const char *const hourly_high =
    "SELECT name, hour, high, ts FROM ("
    "  SELECT name, high, ts, substr(ts, 12, 2) AS hour,"
    "         row_number() OVER (PARTITION BY name, substr(ts, 12, 2) ORDER BY high DESC) AS rn"
    "  FROM finance.stocks)"
    " WHERE rn = 1 ORDER BY name, hour";

static int time_query(const char *data_dir, const char *what)
{
    struct fin_query *q;
    int rc = fin_query_open(&q, data_dir);
    if (rc)
        return rc;
    struct fin_result *r = NULL;
    double t0 = now();
    if ((rc = run_sql(q, "SELECT count(*) FROM finance.stocks", &r)))
        goto out;
    printf("query     %-7s %s rows in finance.stocks (count %.2f s)\n", what,
           fin_result_text(r, 0, 0), now() - t0);
    fin_result_destroy(r);
    double warm[5], cold;
    size_t rows = 0;
    uint64_t scanned = 0;
    for (int i = 0; i < 6; i++) {
        t0 = now();
        if ((rc = run_sql(q, hourly_high, &r)))
            goto out;
        double s = now() - t0;
        rows = fin_result_rows(r);
        scanned = fin_result_bytes_scanned(r);
        fin_result_destroy(r);
        if (i == 0)
            cold = s;
        else
            warm[i - 1] = s;
    }
    qsort(warm, 5, sizeof warm[0], cmp_double);
    printf("query     %-7s hourly high (row_number): %zu rows, %.0f MB scanned; first %.2f s, "
           "warm best %.2f s, median %.2f s\n",
           what, rows, (double)scanned / 1e6, cold, warm[0], warm[2]);
out:
    fin_query_close(q);
    return rc;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp/finstream-bench-query";
    long rows = argc > 2 ? atol(argv[2]) : 10000000L;
    int tickers = argc > 3 ? atoi(argv[3]) : 500;
    size_t object_kib = argc > 4 ? (size_t)atol(argv[4]) : 256;
    char json_data[1024], json_lake[1100], pq_data[1024], pq_lake[1100];
    snprintf(json_data, sizeof json_data, "%s/json", dir);
    snprintf(json_lake, sizeof json_lake, "%s/lake", json_data);
    snprintf(pq_data, sizeof pq_data, "%s/parquet", dir);
    snprintf(pq_lake, sizeof pq_lake, "%s/lake", pq_data);
    printf("bench_query: DuckDB %s, folder %s\n", fin_query_engine_version(), dir);
    int rc = 0;
    if (!fin_is_dir(json_lake)) {
        if ((rc = generate_json(json_lake, rows, tickers, object_kib * 1024)))
            goto fail;
    } else {
        printf("generate  reusing %s\n", json_lake);
    }
    /* crawl from scratch each run: the figure is a first crawl */
    char cat[1200];
    snprintf(cat, sizeof cat, "%s/catalog", json_data);
    fin_remove_tree(cat);
    if ((rc = crawl(json_data, json_lake, "json")))
        goto fail;
    if (!fin_is_dir(pq_lake) && (rc = generate_parquet(json_data, json_lake, pq_lake)))
        goto fail;
    snprintf(cat, sizeof cat, "%s/catalog", pq_data);
    fin_remove_tree(cat);
    if ((rc = crawl(pq_data, pq_lake, "parquet")))
        goto fail;
    if ((rc = time_query(pq_data, "parquet")) || (rc = time_query(json_data, "json")))
        goto fail;
    printf("goals: hourly high under 1 s warm on Parquet, under 3 s warm on JSON lines\n");
    return 0;
fail:
    fprintf(stderr, "bench_query: %s: %s\n", fin_strerror(rc), fin_err_msg());
    return 1;
}
