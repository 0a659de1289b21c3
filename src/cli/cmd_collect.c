/* cmd_collect.c - finstream collect: one window of bars for a ticker list, or a schedule.
 *
 * Settings come from the defaults, then a [collector "NAME"] section of finstream.ini,
 * then the command line (--KEY VALUE for every key of the collector's table). Records go
 * to stdout, a file, a stream or a delivery stream. */
#include "cli.h"
#include "cli_util.h"
#include "finstream/clock.h"
#include "finstream/collector.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"
#include "finstream/stream.h"
#include "finstream/timeutil.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- file sink: records as lines through one large buffer ---- */

struct file_sink {
    FILE *f;
    const char *label;
    char *buf;
    size_t len, cap;
    int failed;
};

static int file_sink_flush(void *ctx)
{
    struct file_sink *s = ctx;
    if (s->len && fwrite(s->buf, 1, s->len, s->f) != s->len)
        return fin_err_errno(errno, "cannot write", s->label);
    s->len = 0;
    if (fflush(s->f) != 0)
        return fin_err_errno(errno, "cannot write", s->label);
    return 0;
}

static int file_sink_put(void *ctx, const char *key, size_t key_len, const char *rec, size_t len)
{
    (void)key;
    (void)key_len;
    struct file_sink *s = ctx;
    if (s->len + len + 1 > s->cap) {
        if (s->len && fwrite(s->buf, 1, s->len, s->f) != s->len)
            return fin_err_errno(errno, "cannot write", s->label);
        s->len = 0;
        if (len + 1 > s->cap) {
            if (fwrite(rec, 1, len, s->f) != len || fputc('\n', s->f) == EOF)
                return fin_err_errno(errno, "cannot write", s->label);
            return 0;
        }
    }
    memcpy(s->buf + s->len, rec, len);
    s->buf[s->len + len] = '\n';
    s->len += len + 1;
    return 0;
}

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

struct sink_handle {
    struct fin_record_sink sink;
    struct file_sink file;
    struct fin_stream *stream;
    char label[256];
};

static int open_sink(struct fin_cli *cli, const char *to, struct sink_handle *h)
{
    (void)cli;
    memset(h, 0, sizeof *h);
    snprintf(h->label, sizeof h->label, "%s", to);
    if (strcmp(to, "stdout") == 0 || strcmp(to, "-") == 0) {
        h->file.f = stdout;
        h->file.label = "stdout";
    } else if (strncmp(to, "file:", 5) == 0) {
        h->file.f = fopen(to + 5, "w");
        h->file.label = to + 5;
        if (!h->file.f)
            return fin_err_errno(errno, "cannot create", to + 5);
    } else if (strncmp(to, "stream:", 7) == 0) {
        /* A local stream: created from [stream "NAME"] in finstream.ini if it is new. */
        int rc = fin_stream_open_or_create(&h->stream, cli->data_dir, to + 7, cli->config, NULL);
        if (!rc)
            rc = fin_stream_sink_create(&h->sink, h->stream);
        return rc;
    } else {
        return fin_err_set(FIN_EINVAL, "--to '%s': expected stdout, file:PATH, stream:NAME or delivery:NAME", to);
    }
    h->file.cap = 1 << 20;
    h->file.buf = malloc(h->file.cap);
    if (!h->file.buf)
        return FIN_ENOMEM;
    h->sink.put = file_sink_put;
    h->sink.flush = file_sink_flush;
    h->sink.ctx = &h->file;
    return 0;
}

static int close_sink(struct sink_handle *h)
{
    int rc = 0;
    if (h->stream) {
        if (h->sink.ctx)
            rc = h->sink.flush(h->sink.ctx);
        fin_stream_sink_destroy(&h->sink);
        fin_stream_close(h->stream);
        h->stream = NULL;
    }
    if (h->file.f) {
        rc = file_sink_flush(&h->file);
        if (h->file.f != stdout && fclose(h->file.f) != 0 && !rc)
            rc = fin_err_errno(errno, "cannot close", h->file.label);
    }
    free(h->file.buf);
    h->file.buf = NULL;
    h->file.f = NULL;
    return rc;
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
    struct sink_handle sink = {0};
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
    if ((rc = open_sink(cli, set.to, &sink))) {
        fin_log_err(rc, "collect");
        goto out;
    }
    if ((rc = fin_emitter_init(&em, &fmt, &sink.sink, live)))
        goto out;

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
    if ((rc = close_sink(&sink))) {
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
