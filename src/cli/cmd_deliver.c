/* cmd_deliver.c - finstream deliver [NAME...] [--once] [--status]: run delivery streams
 * (Firehose) from their sources into the lake, or show where they stand. */
#include "cli.h"
#include "cli_util.h"
#include "finstream/clock.h"
#include "finstream/delivery.h"
#include "finstream/interrupt.h"
#include "finstream/progress.h"
#include "finstream/error.h"
#include "finstream/log.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What a following run has logged: each flush as an event with what it added, and
 * every SUMMARY_MS a summary of the totals. */
#define SUMMARY_MS 60000
struct follow_log {
    const char *const *names;
    size_t n;
    struct fin_delivery_stats *prev;   /* n entries: the totals at the last flush */
    int64_t last_summary_ms;
};

/* 3900 -> "3,900" */
static void group(char *out, size_t cap, unsigned long long v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", v);
    size_t k = 0;
    for (int i = 0; i < n && k + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            out[k++] = ',';
        out[k++] = digits[i];
    }
    out[k] = '\0';
}

/* Following: one event per flush, and a periodic summary with the time since each
 * delivery stream last wrote (its lag as far as this process can tell cheaply;
 * `deliver --status` counts the records behind). */
static void on_flush(void *ctx, const char *name, const struct fin_delivery_stats *s)
{
    struct follow_log *lg = ctx;
    size_t k = 0;
    while (k < lg->n && strcmp(lg->names[k], name) != 0)
        k++;
    struct fin_delivery_stats zero = {0}, *p = k < lg->n ? &lg->prev[k] : &zero;
    fin_log_event("flush", "delivery", FIN_LOG_STR, name,
                  "records", FIN_LOG_U64, (uint64_t)(s->records - p->records),
                  "objects", FIN_LOG_U64, (uint64_t)(s->objects - p->objects),
                  "bytes", FIN_LOG_U64, (uint64_t)(s->bytes - p->bytes),
                  "errors", FIN_LOG_U64, (uint64_t)(s->error_records - p->error_records),
                  "prefix", FIN_LOG_STR, s->last_prefix, (char *)NULL);
    if (k < lg->n)
        lg->prev[k] = *s;
    int64_t now = fin_now_ns(fin_clock_real()) / FIN_NS_PER_MS;
    if (now - lg->last_summary_ms < SUMMARY_MS)
        return;
    lg->last_summary_ms = now;
    for (size_t i = 0; i < lg->n; i++) {
        const struct fin_delivery_stats *x = &lg->prev[i];
        fin_log_event("summary", "delivery", FIN_LOG_STR, lg->names[i],
                      "records", FIN_LOG_U64, x->records, "objects", FIN_LOG_U64, x->objects,
                      "bytes", FIN_LOG_U64, x->bytes, "errors", FIN_LOG_U64, x->error_records,
                      "lag_s", FIN_LOG_F64,
                      x->last_flush_ms ? (double)(now - x->last_flush_ms) / 1000.0 : -1.0,
                      (char *)NULL);
    }
}

static void help(void)
{
    printf("usage: finstream deliver [NAME...] [--once] [--status]\n"
           "\n"
           "Runs delivery streams (Firehose): reads each one's source (a stream or a Kinesis\n"
           "stream, all shards, or direct puts), buffers by size and time, and writes finished\n"
           "objects into the lake (a folder or an S3 bucket), exactly once: a restart after a\n"
           "crash or a failed write rewrites an unfinished flush under the same names.\n"
           "Without NAME, every [delivery \"NAME\"] in finstream.ini runs.\n"
           "\n"
           "options:\n"
           "  --once       deliver everything available now, flush, exit\n"
           "               (default: follow the sources until SIGINT or SIGTERM, then flush)\n"
           "  --status     show checkpoint, lag, objects, bytes and errors per delivery stream\n"
           "  --format json  with --status: one JSON object per delivery stream and line\n"
           "               (docs/delivery.md lists the members)\n"
           "\n"
           "Following, each flush is logged as an event on stderr (\"flush delivery=NAME\n"
           "records=N objects=N bytes=N errors=N prefix=P\"), and every minute a summary of\n"
           "the totals with lag_s, the seconds since each delivery stream last wrote;\n"
           "--log-format json (a global option) makes each one a JSON object.\n"
           "  -h, --help   this help\n"
           "\n"
           "[delivery \"NAME\"] settings in finstream.ini:\n");
    fin_opts_print_help(fin_delivery_opts, stdout);
    printf("\n"
           "Keys: <prefix><NAME>-1-YYYY-MM-DD-HH-MM-SS-<suffix>[.gz|.parquet]; the default\n"
           "prefix is the UTC arrival hour YYYY/MM/DD/HH/ of the object's first record.\n"
           "destination = s3://BUCKET/prefix/ and source = kinesis:STREAM take the AWS\n"
           "settings of [aws], with [aws \"s3\"] or [aws \"kinesis\"] over them (docs/aws.md).\n");
}

int fin_cmd_deliver(struct fin_cli *cli, int argc, char **argv)
{
    if (fin_cli_wants_help(argc, argv)) {
        help();
        return 0;
    }
    static const struct option longopts[] = {
        {"once", no_argument, NULL, 'o'},
        {"status", no_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    bool once = false, status = false, json = false;
    int c;
    int frc = fin_cli_take_format("deliver", &argc, argv, &json);
    if (frc)
        return frc;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': once = true; break;
        case 's': status = true; break;
        default: return fin_cli_usage_error("deliver", "unknown option '%s'", argv[optind - 1]);
        }
    }
    const char *const *names = (const char *const *)argv + optind;
    size_t n = (size_t)(argc - optind);
    if (status) {
        int rc = json ? fin_delivery_status_json(cli->data_dir, cli->config, names, n, stdout)
                      : fin_delivery_status(cli->data_dir, cli->config, names, n, stdout);
        if (rc) {
            fin_log_err(rc, "deliver --status");
            return 1;
        }
        return 0;
    }

    char **all = NULL;
    size_t n_all = 0;
    size_t n_given = n;
    if (n == 0) {
        int rc = fin_delivery_list(cli->config, &all, &n_all);
        if (rc || n_all == 0) {
            if (!rc)
                fin_err_set(FIN_ENOENT, "%s declares no [delivery \"NAME\"] section", cli->config);
            fin_log_err(rc ? rc : FIN_ENOENT, "deliver");
            return 1;
        }
        names = (const char *const *)all;
        n = n_all;
    }
    struct fin_delivery_stats *stats = calloc(n, sizeof *stats);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct fin_delivery_run_opts opts = {.once = once, .stop = fin_interrupt_flag()};
    struct follow_log lg = {names, n, calloc(n, sizeof *lg.prev),
                            fin_now_ns(fin_clock_real()) / FIN_NS_PER_MS};
    if (!once && !cli->quiet && lg.prev) {
        /* The engine counts over the delivery's life: a flush's share is the difference. */
        for (size_t i = 0; i < n; i++)
            fin_delivery_totals(cli->data_dir, names[i], &lg.prev[i]);
        opts.on_flush = on_flush;
        opts.ctx = &lg;
    }
    if (once)
        fin_progress_begin("deliver", "records", 0, 0);
    /* Without names the run takes them from the file in the same order, and skips one
     * that another process runs. */
    int rc = stats ? fin_delivery_run(cli->data_dir, cli->config, n_given ? names : NULL, n_given,
                                      &opts, stats)
                   : FIN_ENOMEM;
    fin_progress_end();
    free(lg.prev);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rc) {
        fin_log_err(rc, "deliver");
    } else if (!cli->quiet) {
        for (size_t i = 0; i < n; i++) {
            char recs[32], objs[32], errs[32];
            group(recs, sizeof recs, stats[i].records);
            group(objs, sizeof objs, stats[i].objects);
            group(errs, sizeof errs, stats[i].error_records);
            printf("deliver   %s: %s records  %s object%s  %.0f KiB", names[i], recs, objs,
                   stats[i].objects == 1 ? "" : "s", (double)stats[i].bytes / 1024);
            if (stats[i].error_records)
                printf("  %s errors", errs);
            if (stats[i].replays)
                printf("  %llu unfinished flush rewritten", (unsigned long long)stats[i].replays);
            if (stats[i].last_prefix[0])
                printf("  %s%s", stats[i].objects > 1 ? "last in " : "", stats[i].last_prefix);
            printf("  %.2f s\n", secs);
        }
    }
    free(stats);
    for (size_t i = 0; i < n_all; i++)
        free(all[i]);
    free(all);
    return rc ? 1 : 0;
}
