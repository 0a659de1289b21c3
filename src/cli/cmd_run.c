/* cmd_run.c - finstream run: the whole pipeline once, as the classic exercise runs it.
 *
 * collect -> stream -> deliver -> crawl -> query -> report, each stage through the same
 * code as its own subcommand, with a line of summary per stage. The defaults live in a
 * finstream.ini written on first use; the user edits it, or overrides the collector's
 * settings on the command line. Running again on the same window adds nothing: the
 * collector remembers what it sent the stream, delivery resumes from its checkpoint, the
 * crawler only reads new objects. */
#include "cli.h"
#include "cli_util.h"
#include "collect_job.h"
#include "finstream/catalog.h"
#include "finstream/delivery.h"
#include "finstream/aws.h"
#include "finstream/buf.h"
#include "finstream/error.h"
#include "finstream/interrupt.h"
#include "finstream/progress.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"
#include "finstream/query.h"
#include "finstream/report.h"
#include "finstream/timeutil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What run writes on first use: the classic exercise as a configuration. */
static const char default_ini[] =
    "; finstream.ini - written by `finstream run` on first use; edit freely.\n"
    "; Every key is described in docs/configuration.md and by `finstream <command> --help`.\n"
    "\n"
    "[collector \"classic\"]\n"
    "source   = sim                 ; sim | yahoo | csv:PATH | replay:PATH\n"
    "tickers  = " FIN_CLASSIC_TICKERS "\n"
    "interval = 1m\n"
    "to       = stream:stocks\n"
    "\n"
    "[stream \"stocks\"]\n"
    "shards    = 2\n"
    "retention = 24h\n"
    "fsync     = always             ; always | interval | never\n"
    "\n"
    "[delivery \"lake\"]\n"
    "source          = stream:stocks\n"
    "prefix          = YYYY/MM/DD/HH/\n"
    "error_prefix    = errors/!{firehose:error-output-type}/\n"
    "buffer_size     = 5MiB\n"
    "buffer_interval = 60s\n"
    "compression     = none         ; none | gzip\n"
    "format          = json         ; json | parquet\n";

struct run_opts {
    bool no_report;
    const char *chart_tickers;
    const char *table;
    size_t top;
};

static int run_option(void *ctx, int argc, char **argv, int *i)
{
    struct run_opts *o = ctx;
    if (strcmp(argv[*i], "--no-report") == 0) {
        o->no_report = true;
        return 0;
    }
    if (strcmp(argv[*i], "--top") == 0) {
        if (*i + 1 >= argc)
            return fin_cli_usage_error("run", "option %s needs a value", argv[*i]);
        if (fin_cli_parse_top(argv[++*i], &o->top))
            return fin_cli_usage_error("run", "--top '%s' is not a count of tickers (1 or more, or all)",
                                       argv[*i]);
        return 0;
    }
    if (strcmp(argv[*i], "--chart-tickers") == 0 || strcmp(argv[*i], "--table") == 0) {
        if (*i + 1 >= argc)
            return fin_cli_usage_error("run", "option %s needs a value", argv[*i]);
        if (argv[*i][2] == 'c')
            o->chart_tickers = argv[++*i];
        else
            o->table = argv[++*i];
        return 0;
    }
    return 1;
}

static void help(void)
{
    printf("usage: finstream run [collector options] [--chart-tickers FB,NFLX] [--top N] [--table stocks]\n"
           "                     [--no-report]\n"
           "\n"
           "Runs the whole pipeline once, as the classic streaming-finance exercise does:\n"
           "  collect  one window of bars (default: the simulator, the classic ten tickers,\n"
           "           one trading day of one-minute bars) into the stream\n"
           "  deliver  everything the stream holds into the lake, exactly once\n"
           "  crawl    the lake into the catalog (table finance.stocks)\n"
           "  query    the hourly high per ticker, saved as Athena CSV under results/\n"
           "  report   charts and an HTML page under reports/<date>/\n"
           "\n"
           "On first use it writes finstream.ini in the data directory with these defaults;\n"
           "edit it to change the pipeline. Collector options (--source, --tickers, --date,\n"
           "--start, --end, --interval, --seed, ...; see 'finstream collect --help') override the\n"
           "[collector] section for this run. Running again for the same window adds nothing.\n"
           "\n"
           "  --chart-tickers LIST   tickers with a time-series chart (default FB,NFLX)\n"
           "  --top N|all            tickers the range and hourly charts draw, the most active\n"
           "                         first (default 30); the report's tables list every ticker\n"
           "  --table NAME           the lake's table name in database finance (default stocks)\n"
           "  --no-report            stop after the query\n");
}

/* The day the run is about, "YYYY-MM-DD", when the window says (sources that collect by
 * window, or a date given); "" otherwise (a replay of whatever files hold). */
static void run_date(const struct fin_collect_job *j, char out[16])
{
    out[0] = '\0';
    const char *src = j->set.source;
    bool windowed = strcmp(src, "sim") == 0 || strcmp(src, "yahoo") == 0 ||
                    (j->set.date && *j->set.date) || (j->set.start && *j->set.start);
    if (!windowed)
        return;
    int64_t local = j->w.start + fin_ny_utc_offset(j->w.start);
    fin_format_date(out, local / 86400 - (local % 86400 < 0));
}

/* The table's time column: ts as finstream writes it, or the other spellings real
 * Firehose buckets hold. */
static const char *time_column(const struct fin_table *t)
{
    static const char *const names[] = {"ts", "timestamp", "datetime", "date"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (fin_columns_find(&t->columns, names[i]))
            return names[i];
    return NULL;
}

static int parquet_schema(const char *path, struct fin_columns *cols, void *ctx)
{
    (void)ctx;
    return fin_query_parquet_schema(path, cols, NULL);
}

static const char *human_bytes(char *buf, size_t size, uint64_t n)
{
    if (n >= 10ull << 20)
        snprintf(buf, size, "%.0f MiB", (double)n / 1048576.0);
    else if (n >= 10ull << 10)
        snprintf(buf, size, "%.0f KiB", (double)n / 1024.0);
    else
        snprintf(buf, size, "%llu bytes", (unsigned long long)n);
    return buf;
}

/* A fingerprint of a question and the data it reads: the SQL and every object of the
 * table (key, size, modification time), as SHA-256 hex. */
static void answer_fingerprint(const char *sql, const struct fin_table *t, char out[65])
{
    struct fin_buf b;
    fin_buf_init(&b);
    fin_buf_printf(&b, "%s\n", sql);
    for (size_t i = 0; i < t->nobjects; i++)
        fin_buf_printf(&b, "%s\t%lld\t%lld\n", t->objects[i].key, (long long)t->objects[i].size,
                       (long long)t->objects[i].mtime);
    const char *text = fin_buf_cstr(&b);
    fin_sha256_hex(text ? text : "", text ? b.len : 0, out);
    fin_buf_fini(&b);
}

/* results/.run/<fingerprint> holds "<query-id> <rows>" of the answer saved for it. */
static char *answer_marker(const char *data_dir, const char *fp)
{
    char rel[128];
    snprintf(rel, sizeof rel, "results/.run/%s", fp);
    return fin_path_join(data_dir, rel);
}

static bool find_answer(const char *data_dir, const char *fp, char *id, size_t cap, uint64_t *rows)
{
    char *marker = answer_marker(data_dir, fp), *text = NULL;
    size_t len = 0;
    bool found = false;
    if (marker && fin_read_file(marker, &text, &len) == 0) {
        char qid[64];
        unsigned long long n;
        if (sscanf(text, "%63s %llu", qid, &n) == 2) {
            char rel[128];
            snprintf(rel, sizeof rel, "results/%s.csv", qid);
            char *csv = fin_path_join(data_dir, rel);
            found = csv && fin_path_exists(csv);   /* the user may have removed it */
            free(csv);
            snprintf(id, cap, "%s", qid);
            *rows = n;
        }
    }
    free(text);
    free(marker);
    return found;
}

static void remember_answer(const char *data_dir, const char *fp, const char *id, uint64_t rows)
{
    char *marker = answer_marker(data_dir, fp);
    char *dir = fin_path_join(data_dir, "results/.run");
    char text[128];
    int n = snprintf(text, sizeof text, "%s %llu\n", id, (unsigned long long)rows);
    /* Only an optimisation: a failure here means the next run asks again. */
    if (marker && dir && fin_mkdir_p(dir, 0755) == 0)
        fin_write_file_atomic(marker, text, (size_t)n);
    free(marker);
    free(dir);
}

int fin_cmd_run(struct fin_cli *cli, int argc, char **argv)
{
    if (fin_cli_wants_help(argc, argv)) {
        help();
        return 0;
    }
    struct run_opts ro = {false, NULL, "stocks", 0};
    struct fin_collect_job job;
    struct fin_catalog *cat = NULL;
    struct fin_query *q = NULL;
    struct fin_result *res = NULL;
    char **deliveries = NULL;
    size_t n_deliveries = 0, n_remote = 0;
    char remote_dest[1024] = "";
    char *sql = NULL;
    int exit_code = 1, rc;
    struct timespec t0;
    char n1[32], n2[32];
    bool quiet = cli->quiet;

    memset(&job, 0, sizeof job);
    if ((rc = fin_mkdir_p(cli->data_dir, 0755))) {
        fin_log_err(rc, "run");
        return 1;
    }
    if (!fin_path_exists(cli->config)) {
        if ((rc = fin_write_file_atomic(cli->config, default_ini, sizeof default_ini - 1))) {
            fin_log_err(rc, "run");
            return 1;
        }
        if (!quiet)
            fprintf(stderr, "wrote     %s (the pipeline's settings: edit to change them)\n", cli->config);
    }

    /* collect -> stream */
    if ((exit_code = fin_collect_job_settings(&job, cli, "run", argc, argv, "classic", run_option, &ro)) ||
        (exit_code = fin_collect_job_open(&job, cli, "run")))
        goto out;
    exit_code = 1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct fin_collect_stats cs;
    fin_progress_begin("collect", "tickers", 0, 0);
    rc = fin_collect_job_run(&job, &cs);
    fin_progress_end();
    if (rc) {
        fin_log_err(rc, "run: collect");
        goto out;
    }
    if (!quiet)
        fin_collect_job_summary(&job, &cs, fin_cli_seconds_since(&t0));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char date[16];
    run_date(&job, date);
    const char *stream_line = fin_sink_describe(job.sink, cs.records);
    char stream_text[640];
    snprintf(stream_text, sizeof stream_text, "%s", stream_line);
    if ((rc = fin_sink_close(job.sink))) {
        job.sink = NULL;
        fin_log_err(rc, "run: stream");
        goto out;
    }
    job.sink = NULL;
    if (!quiet && stream_text[0])
        fprintf(stderr, "stream    %s  %.2f s\n", stream_text, fin_cli_seconds_since(&t0));

    /* deliver: every declared delivery stream, until caught up */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((rc = fin_delivery_list(cli->config, &deliveries, &n_deliveries))) {
        fin_log_err(rc, "run: deliver");
        goto out;
    }
    if (n_deliveries) {
        struct fin_delivery_stats *ds = calloc(n_deliveries, sizeof *ds);
        struct fin_delivery_run_opts dopts = {.once = true, .stop = fin_interrupt_flag()};
        fin_progress_begin("deliver", "records", cs.records, 0);
        rc = ds ? fin_delivery_run(cli->data_dir, cli->config, (const char *const *)deliveries,
                                   n_deliveries, &dopts, ds)
                : FIN_ENOMEM;
        fin_progress_end();
        if (!rc && fin_interrupted())
            rc = fin_interrupt_error();
        if (rc) {
            free(ds);
            fin_log_err(rc, "run: deliver");
            goto out;
        }
        struct fin_delivery_stats total = {0};
        char where[1400] = "lake/";
        for (size_t i = 0; i < n_deliveries; i++) {
            total.records += ds[i].records;
            total.objects += ds[i].objects;
            total.bytes += ds[i].bytes;
            total.error_records += ds[i].error_records;
            /* A delivery to a bucket: crawl, query and report read the local lake only. */
            struct fin_delivery_settings set;
            bool s3 = false;
            char dest[1024] = "lake/";
            if (fin_delivery_settings_load(&set, cli->config, deliveries[i]) == 0) {
                s3 = fin_delivery_is_s3(set.destination);
                if (s3)
                    snprintf(dest, sizeof dest, "%s%s", set.destination,
                             set.destination[strlen(set.destination) - 1] == '/' ? "" : "/");
                fin_delivery_settings_fini(&set);
            }
            n_remote += s3;
            if (s3 && !remote_dest[0])
                snprintf(remote_dest, sizeof remote_dest, "%s", dest);
            if (ds[i].objects && ds[i].last_prefix[0])
                snprintf(where, sizeof where, "%s%s", dest, ds[i].last_prefix);
        }
        free(ds);
        if (!quiet) {
            char b[32];
            fprintf(stderr, "deliver   %s records  %s object%s  %s  %s  %.2f s",
                    fin_cli_count(n1, sizeof n1, total.records), fin_cli_count(n2, sizeof n2, total.objects),
                    total.objects == 1 ? "" : "s", human_bytes(b, sizeof b, total.bytes), where,
                    fin_cli_seconds_since(&t0));
            if (total.error_records)
                fprintf(stderr, "  %llu records to the error prefix", (unsigned long long)total.error_records);
            fputc('\n', stderr);
        }
    }

    if (n_deliveries && n_remote == n_deliveries) {
        if (!quiet)
            fprintf(stderr, "crawl     skipped: the objects are in %s; crawl a local lake, then\n"
                    "          finstream catalog ddl finance.%s --location %s gives Athena the table\n",
                    remote_dest, ro.table, remote_dest);
        exit_code = 0;
        goto out;
    }

    /* crawl */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *lake = fin_path_join(cli->data_dir, "lake");
    if (!lake || (rc = fin_mkdir_p(lake, 0755))) {
        free(lake);
        fin_log_err(rc ? rc : FIN_ENOMEM, "run: crawl");
        goto out;
    }
    struct fin_crawl_opts copts = {.database = "finance", .table = ro.table, .sample = -1,
                                   .parquet_schema = parquet_schema,
                                   .progress = fin_cli_crawl_progress};
    fin_progress_begin("crawl", "objects", 0, 0);
    struct fin_crawl_stats cst;
    rc = fin_catalog_open(&cat, cli->data_dir);
    if (!rc)
        rc = fin_crawl(cat, lake, &copts, &cst);
    if (!rc)
        rc = fin_catalog_save(cat);
    fin_progress_end();
    free(lake);
    if (rc) {
        fin_log_err(rc, "run: crawl");
        goto out;
    }
    char table_name[300];
    snprintf(table_name, sizeof table_name, "finance.%s", ro.table);
    const struct fin_table *t = fin_catalog_find(cat, table_name);
    if (!t) {
        fin_error("run: the lake holds no table %s yet (no records were delivered)", table_name);
        goto out;
    }
    if (!quiet)
        fprintf(stderr, "crawl     table %s  %zu columns  %zu partition%s  %.2f s\n", table_name,
                t->columns.n + t->partition_keys.n, t->npartitions, t->npartitions == 1 ? "" : "s",
                fin_cli_seconds_since(&t0));

    /* query: the hourly high per ticker, every minute it occurred (ties kept) */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *tc = time_column(t);
    if (!tc || !fin_columns_find(&t->columns, "name") || !fin_columns_find(&t->columns, "high")) {
        fin_error("run: table %s has no name, high and time (ts) columns to ask the hourly high of",
                  table_name);
        goto out;
    }
    char where[64] = "";
    if (date[0])
        snprintf(where, sizeof where, "\n  WHERE substr(%s, 1, 10) = '%s'", tc, date);
    char sqlbuf[1024];
    snprintf(sqlbuf, sizeof sqlbuf,
             "SELECT name AS Stock, substr(%s, 12, 2) AS Hour, high AS Hourly_High, substr(%s, 1, 19) AS Datetime\n"
             "FROM (\n"
             "  SELECT name, %s, high,\n"
             "         rank() OVER (PARTITION BY name, substr(%s, 12, 2) ORDER BY high DESC) AS rnk\n"
             "  FROM %s%s\n"
             ")\n"
             "WHERE rnk = 1\n"
             "ORDER BY Stock, Hour, Datetime",
             tc, tc, tc, tc, table_name, where);
    sql = strdup(sqlbuf);
    char query_id[64], result_file[128], print_rows[32];
    bool reused = false;
    if (!sql) {
        fin_log_err(FIN_ENOMEM, "run: query");
        goto out;
    }
    /* The same question of the same objects has the same answer: a second run reuses
     * the saved one instead of adding another results/<id>.csv. */
    char fp[65];
    answer_fingerprint(sql, t, fp);
    uint64_t rows = 0;
    reused = find_answer(cli->data_dir, fp, query_id, sizeof query_id, &rows);
    if (!reused) {
        fin_progress_begin("query", "rows", 0, 0);
        rc = fin_query_open(&q, cli->data_dir);
        if (!rc)
            rc = fin_query_exec(q, sql, &res);
        if (!rc)
            rc = fin_result_save(res, cli->data_dir, sql, query_id, sizeof query_id);
        fin_progress_end();
        if (rc) {
            fin_log_err(rc, "run: query");
            goto out;
        }
        rows = fin_result_rows(res);
        remember_answer(cli->data_dir, fp, query_id, rows);
    }
    snprintf(result_file, sizeof result_file, "results/%s.csv", query_id);
    if (!quiet)
        fprintf(stderr, "query     hourly high: %s rows -> %s%s  %.2f s\n",
                fin_cli_count(print_rows, sizeof print_rows, rows), result_file,
                reused ? " (the same query of the same objects: answer reused)" : "",
                fin_cli_seconds_since(&t0));

    /* report */
    if (!ro.no_report) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        char result_path[4096];
        snprintf(result_path, sizeof result_path, "%s/%s", cli->data_dir, result_file);
        struct fin_report_request req = {
            .data_dir = cli->data_dir,
            .table = table_name,
            .sel = {.date = date[0] ? date : NULL, .tickers = ro.chart_tickers},
            .top = ro.top,
            .query = sql,
            .result_file = result_path,
            .generated_at = (int64_t)time(NULL),
        };
        struct fin_report_output out = {0};
        struct fin_report_data_stats rst;
        fin_progress_begin("report", "bars", 0, 0);
        rc = fin_report_make(&req, &out, &rst);
        fin_progress_end();
        if (rc) {
            fin_report_output_fini(&out);
            fin_log_err(rc, "run: report");
            goto out;
        }
        if (rst.series_dropped)
            fin_warn("run: %zu chosen ticker%s past the first %d get no time-series chart",
                     rst.series_dropped, rst.series_dropped == 1 ? "" : "s", FIN_REPORT_MAX_SERIES);
        if (!quiet) {
            char drawn[112] = "";
            if (out.n_drawn < out.n_tickers)
                snprintf(drawn, sizeof drawn, "  %zu tickers, the %zu most active drawn", out.n_tickers,
                         out.n_drawn);
            fprintf(stderr, "report    %zu charts%s -> %s  %.2f s\n", out.n_charts, drawn,
                    out.index_path, fin_cli_seconds_since(&t0));
        }
        fin_report_output_fini(&out);
    }
    exit_code = 0;
out:
    if ((rc = fin_collect_job_close(&job)) && !exit_code) {
        fin_log_err(rc, "run");
        exit_code = 1;
    }
    for (size_t i = 0; i < n_deliveries; i++)
        free(deliveries[i]);
    free(deliveries);
    fin_result_destroy(res);
    fin_query_close(q);
    fin_catalog_close(cat);
    free(sql);
    return exit_code;
}
