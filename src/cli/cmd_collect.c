/* cmd_collect.c - finstream collect: one window of bars for a ticker list, or a schedule.
 *
 * Settings come from the defaults, then a [collector "NAME"] section of finstream.ini,
 * then the command line (--KEY VALUE for every key of the collector's table). Records go
 * to stdout, a file, a stream or a delivery stream. */
#include "cli.h"
#include "cli_util.h"
#include "sinks.h"
#include "finstream/clock.h"
#include "finstream/collector.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"
#include "finstream/timeutil.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the command ---- */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void help(void)
{
    printf("usage: finstream collect [--collector NAME] [--source SRC] [--tickers A,B] [--date D |\n"
           "                         --start T --end T] [--interval 1m] [--every 5m] [--to SINK | --out FILE]\n"
           "\n"
           "Pulls OHLCV bars for a ticker list over one window and emits one JSON record per bar,\n"
           "like one run of a scheduled function. With --every it repeats on that schedule and then\n"
           "emits only bars it has not emitted before; SIGINT or SIGTERM stops it after the current run.\n"
           "\n"
           "Settings come from the defaults, then the [collector \"NAME\"] section of finstream.ini\n"
           "(--collector NAME, or the only collector section there is), then these options:\n"
           "\n");
    fin_opts_print_help(fin_collect_opts, stdout);
    printf("\n"
           "  --out FILE                   same as --to file:FILE\n"
           "  --collector NAME             use the [collector \"NAME\"] section\n"
           "\n"
           "Times without an offset are New York exchange time. The summary goes to stderr.\n"
           "examples:\n"
           "  finstream collect                                   # the classic day, simulated\n"
           "  finstream collect --source yahoo --tickers AAPL,MSFT --date 2026-11-25\n"
           "  finstream collect --source csv:prices/ --out bars.json\n"
           "  finstream collect --source replay:lake/ --to stream:stocks\n");
}

/* Where the collector remembers what it emitted to a durable sink:
 * <data_dir>/collectors/<collector>@<sink>.seen, so each collector and destination pair
 * has its own memory. */
static int seen_path(const char *data_dir, const char *collector, const char *to, char *out, size_t size)
{
    char sink[256];
    snprintf(sink, sizeof sink, "%s", to);
    for (char *p = sink; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.'))
            *p = '_';
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/collectors", data_dir);
    int rc = fin_mkdir_p(dir, 0755);
    if (rc)
        return rc;
    if ((size_t)snprintf(out, size, "%s/%s@%s.seen", dir, collector, sink) >= size)
        return fin_err_set(FIN_EINVAL, "path too long under %s", dir);
    return 0;
}

/* "2020-05-14", or "2020-05-14..2020-05-20" for several days, in New York time. */
static void date_range(char *out, size_t size, int64_t min_t, int64_t max_t)
{
    char a[16], b[16];
    int64_t la = min_t + fin_ny_utc_offset(min_t), lb = max_t + fin_ny_utc_offset(max_t);
    fin_format_date(a, la / 86400 - (la % 86400 < 0));
    fin_format_date(b, lb / 86400 - (lb % 86400 < 0));
    if (strcmp(a, b) == 0)
        snprintf(out, size, "%s", a);
    else
        snprintf(out, size, "%s..%s", a, b);
}

static void summary(const struct fin_collect_settings *set, const struct fin_emitter *em,
                    const struct fin_collect_stats *st, double secs)
{
    char recs[32], what[96] = "", extra[256] = "";
    if (em->min_t <= em->max_t) {
        date_range(what, sizeof what - 8, em->min_t, em->max_t);
        strcat(what, " ");
        strncat(what, set->interval, 7);
    }
    size_t o = 0;
    if (st->skipped)
        o += (size_t)snprintf(extra + o, sizeof extra - o, "  %llu null bars skipped", (unsigned long long)st->skipped);
    if (st->bad)
        o += (size_t)snprintf(extra + o, sizeof extra - o, "  %llu bad input skipped", (unsigned long long)st->bad);
    if (st->duplicates)
        o += (size_t)snprintf(extra + o, sizeof extra - o, "  %llu seen before", (unsigned long long)st->duplicates);
    if (st->tickers_failed)
        snprintf(extra + o, sizeof extra - o, "  %d tickers failed", st->tickers_failed);
    fprintf(stderr, "collect   %s records  %zu tickers  %s%s%s  %.2f s%s\n",
            fin_cli_count(recs, sizeof recs, st->records), fin_emitter_tickers(em), what,
            what[0] ? "  " : "", set->source, secs, extra);
}

int fin_cmd_collect(struct fin_cli *cli, int argc, char **argv)
{
    if (fin_cli_wants_help(argc, argv)) {
        help();
        return 0;
    }
    struct fin_collect_settings set;
    struct fin_ini ini = {0};
    struct fin_record_format fmt;
    struct fin_sink *sink = NULL;
    char seen[4096] = "";
    struct fin_emitter em = {0};
    char **tickers = NULL, *tickers_storage = NULL;
    size_t n_tickers = 0;
    int exit_code = 1, rc;
    const char *collector = NULL;

    if (fin_opts_defaults(fin_collect_opts, &set))
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--collector") == 0 && i + 1 < argc)
            collector = argv[i + 1];
    if ((rc = fin_ini_load(&ini, cli->config, true))) {
        fin_log_err(rc, "collect");
        goto out;
    }
    const struct fin_ini_section *sec = NULL;
    if (collector) {
        sec = fin_ini_find(&ini, "collector", collector);
        if (!sec) {
            fin_error("collect: no [collector \"%s\"] section in %s", collector, cli->config);
            goto out;
        }
    } else {
        for (size_t i = 0; i < ini.n_sections; i++)
            if (strcmp(ini.sections[i].type, "collector") == 0)
                sec = sec ? NULL : &ini.sections[i];
    }
    if (sec && (rc = fin_opts_apply_section(fin_collect_opts, &set, &ini, sec))) {
        fin_log_err(rc, "collect");
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        bool matched;
        if ((rc = fin_cli_table_option("collect", fin_collect_opts, &set, argc, argv, &i, &matched))) {
            exit_code = rc;
            goto out;
        }
        if (matched)
            continue;
        if (strcmp(argv[i], "--collector") == 0) {
            i++;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            char to[4096];
            snprintf(to, sizeof to, "file:%s", argv[++i]);
            fin_opts_set(fin_collect_opts, &set, "to", to, "option --out");
        } else {
            exit_code = fin_cli_usage_error("collect", "unknown argument '%s'", argv[i]);
            goto out;
        }
    }

    if ((rc = fin_record_format_parse(&fmt, set.fields)) ||
        (rc = fin_collect_tickers(&set, &tickers, &tickers_storage, &n_tickers))) {
        fin_log_err(rc, "collect");
        exit_code = 2;
        goto out;
    }
    const char *arg;
    if (!fin_source_lookup(set.source, &arg)) {
        fin_log_err(FIN_EINVAL, "collect");
        exit_code = 2;
        goto out;
    }
    struct fin_window w;
    bool live = set.every_ms > 0;
    if ((rc = fin_collect_window(&set, fin_clock_real(), live, &w))) {
        fin_log_err(rc, "collect");
        exit_code = 2;
        goto out;
    }
    if ((rc = fin_sink_open(&sink, cli->data_dir, cli->config, set.to))) {
        fin_log_err(rc, "collect");
        goto out;
    }
    /* A durable sink remembers what this collector sent it, so a repeated window or a
     * restarted schedule adds no duplicate; stdout and files always get every bar. */
    bool durable = fin_sink_is_durable(sink);
    if ((rc = fin_emitter_init(&em, &fmt, fin_sink_records(sink), live || durable)))
        goto out;
    if (durable && ((rc = seen_path(cli->data_dir, collector ? collector : sec ? sec->name : "default",
                                    set.to, seen, sizeof seen)) ||
                    (rc = fin_emitter_load_seen(&em, seen)))) {
        fin_log_err(rc, "collect");
        goto out;
    }

    if (live) {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
    }
    bool failed = false;
    for (;;) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        struct fin_collect_stats before = em.stats;
        rc = fin_collect_once(&set, &w, &em);
        struct fin_collect_stats run = em.stats;
        run.records -= before.records;
        run.skipped -= before.skipped;
        run.bad -= before.bad;
        run.duplicates -= before.duplicates;
        run.tickers_failed -= before.tickers_failed;
        run.tickers_ok -= before.tickers_ok;
        if (rc) {
            fin_log_err(rc, "collect");
            failed = true;
        } else if (seen[0] && (rc = fin_emitter_save_seen(&em, seen))) {
            /* The records are durable; only the memory of them was not saved. */
            fin_log_err(rc, "collect: remembering what was sent");
            failed = true;
        }
        failed |= run.tickers_failed > 0;
        if (!cli->quiet)
            summary(&set, &em, &run, fin_cli_seconds_since(&t0));
        if (!live || stop_requested || (rc && !fin_err_is_retriable(rc) && rc != FIN_EHTTP))
            break;
        /* Sleep to the next multiple of the schedule, waking early on a signal. */
        int64_t now_ms = fin_now_ns(fin_clock_real()) / FIN_NS_PER_MS;
        int64_t next = (now_ms / set.every_ms + 1) * set.every_ms;
        while (!stop_requested && fin_now_ns(fin_clock_real()) / FIN_NS_PER_MS < next)
            usleep(100000);
        if (stop_requested)
            break;
        if ((rc = fin_collect_window(&set, fin_clock_real(), true, &w))) {
            fin_log_err(rc, "collect");
            failed = true;
            break;
        }
        failed = false;
    }
    exit_code = failed ? 1 : 0;
out:
    if ((rc = fin_sink_close(sink))) {
        fin_log_err(rc, "collect");
        exit_code = 1;
    }
    fin_emitter_fini(&em);
    free(tickers);
    free(tickers_storage);
    fin_opts_fini(fin_collect_opts, &set);
    fin_ini_fini(&ini);
    return exit_code;
}
