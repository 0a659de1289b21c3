/* cmd_crawl.c - finstream crawl: catalog the objects under a folder of the lake. */
#include "cli.h"
#include "finstream/catalog.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"
#include "finstream/query.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(void)
{
    printf("usage: finstream crawl [--database NAME] [--table NAME] [--sample N] [-v] [LOCATION]\n"
           "\n"
           "Walks LOCATION (default: the data directory's lake/) and records its tables in\n"
           "the catalog, as a Glue crawler does: framing (JSON lines, concatenated objects,\n"
           "a JSON array; gzip by content), format (JSON, CSV with a header, Parquet),\n"
           "partitions (YYYY/MM/DD/HH folders become partition_0..3, key=value folders\n"
           "become named columns) and columns, sampled from the records, names lower-cased\n"
           "and types widened across objects. LOCATION is one table when it holds objects or\n"
           "partition folders; any other folder directly below it is a table of its own.\n"
           "Re-crawling adds new partitions and columns and samples only new or changed\n"
           "objects. A line that cannot be parsed is reported (object and line) and counted;\n"
           "problems of one kind are summarised once per table (count and first example).\n"
           "A gzip object is checked to its end: a truncated or corrupt one, or UTF-16 text,\n"
           "is reported as damaged, and queries of its table fail until it is replaced.\n"
           "\n"
           "options:\n"
           "  --database NAME  database of the tables (default %s)\n"
           "  --table NAME     name of the table at LOCATION itself (default: its folder's name)\n"
           "  --sample N       records sampled per object (default %d; 0 = every record)\n"
           "  -v, --verbose    report every problem, not one summary line per kind\n"
           "  -h, --help       this help\n",
           FIN_CATALOG_DEFAULT_DATABASE, FIN_CRAWL_DEFAULT_SAMPLE);
}

struct parquet_ctx {
    const char *data_dir;
    struct fin_query *q;   /* opened on the first Parquet object */
};

static int parquet_schema(const char *path, struct fin_columns *cols, void *ctx)
{
    struct parquet_ctx *p = ctx;
    if (!p->q) {
        int rc = fin_query_open(&p->q, p->data_dir);
        if (rc)
            return rc;
    }
    return fin_query_parquet_schema(path, cols, p->q);
}

static void report(void *ctx, const char *msg)
{
    bool *progress_shown = ctx;
    if (*progress_shown) {
        fputs("\r\033[K", stderr);   /* a warning replaces the progress line */
        *progress_shown = false;
    }
    fin_warn("%s", msg);
}

/* On a terminal: one line that counts objects, rewritten in place. */
static void progress(void *ctx, const char *table, size_t done, size_t total)
{
    bool *progress_shown = ctx;
    fprintf(stderr, "\r\033[Kcrawl     %s  %zu/%zu objects", table, done, total);
    *progress_shown = done < total;
    if (done == total)
        fputs("\r\033[K", stderr);
}

int fin_cmd_crawl(struct fin_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"database", required_argument, NULL, 'd'}, {"table", required_argument, NULL, 't'},
        {"sample", required_argument, NULL, 's'},   {"help", no_argument, NULL, 'h'},
        {"verbose", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    bool progress_shown = false;
    struct fin_crawl_opts opts = {.sample = -1, .report = report, .report_ctx = &progress_shown};
    struct parquet_ctx pctx = {.data_dir = cli->data_dir};
    int c;
    while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': opts.database = optarg; break;
        case 't': opts.table = optarg; break;
        case 's': {
            char *end;
            opts.sample = strtol(optarg, &end, 10);
            if (*end || opts.sample < 0)
                return fin_cli_usage_error("crawl", "--sample wants a count, not '%s'", optarg);
            break;
        }
        case 'v': opts.report_all = true; break;
        case 'h': usage(); return 0;
        default: return fin_cli_usage_error("crawl", "unknown option");
        }
    }
    if (argc - optind > 1)
        return fin_cli_usage_error("crawl", "one LOCATION at most");
    if (opts.table && fin_check_name("table", opts.table, FIN_CATALOG_NAME_MAX)) {
        fin_log_err(FIN_EINVAL, "crawl");
        return 2;
    }
    char *lake = NULL;
    const char *location = optind < argc ? argv[optind] : NULL;
    if (!location) {
        lake = fin_path_join(cli->data_dir, "lake");
        location = lake;
    }
    if (!cli->quiet && isatty(STDERR_FILENO)) {
        opts.progress = progress;
        opts.progress_ctx = &progress_shown;
    }
    opts.parquet_schema = parquet_schema;
    opts.parquet_ctx = &pctx;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct fin_catalog *cat = NULL;
    struct fin_crawl_stats st;
    int rc = fin_catalog_open(&cat, cli->data_dir);
    if (!rc)
        rc = fin_crawl(cat, location, &opts, &st);
    if (!rc)
        rc = fin_catalog_save(cat);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc) {
        fin_log_err(rc, "crawl");
    } else if (!cli->quiet) {
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        char abs[PATH_MAX];
        if (!realpath(location, abs))
            abs[0] = '\0';
        size_t alen = strlen(abs);
        for (size_t i = 0; i < fin_catalog_table_count(cat); i++) {
            const struct fin_table *t = fin_catalog_table_at(cat, i);
            /* the tables this crawl covered: at or below the location */
            if (strncmp(t->location, abs, alen) != 0 ||
                (t->location[alen] != '\0' && t->location[alen] != '/'))
                continue;
            printf("crawl     table %s.%s  %zu columns  %zu partition%s  %zu objects  %s%s%s\n",
                   t->database, t->name, t->columns.n, t->npartitions,
                   t->npartitions == 1 ? "" : "s", t->nobjects, t->classification,
                   strcmp(t->classification, "json") ? "" : "/",
                   strcmp(t->classification, "json") ? "" : t->framing);
        }
        if (st.objects_damaged)
            printf("crawl     %zu damaged object%s: queries of %s fail until %s replaced\n",
                   st.objects_damaged, st.objects_damaged == 1 ? "" : "s",
                   st.objects_damaged == 1 ? "its table" : "their tables",
                   st.objects_damaged == 1 ? "it is" : "they are");
        printf("crawl     %zu objects seen, %zu sampled, %zu skipped, %lld records sampled, "
               "%lld bad, %zu tables created, %zu updated, %zu partitions and %zu columns "
               "added  %.2f s\n",
               st.objects_seen, st.objects_sampled, st.objects_skipped,
               (long long)st.records_sampled, (long long)st.bad_records, st.tables_created,
               st.tables_updated, st.partitions_added, st.columns_added, secs);
    }
    fin_catalog_close(cat);
    fin_query_close(pctx.q);
    free(lake);
    return rc ? 1 : 0;
}
