/* collect_job.c - a collector with its settings, sink and memory. */
#include "collect_job.h"
#include "cli_util.h"
#include "finstream/clock.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"
#include "finstream/names.h"
#include "finstream/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fin_collect_job_settings(struct fin_collect_job *j, struct fin_cli *cli, const char *cmd,
                             int argc, char **argv, const char *default_section,
                             fin_collect_extra_fn extra, void *extra_ctx)
{
    memset(j, 0, sizeof *j);
    int rc;
    const char *collector = NULL;
    if ((rc = fin_opts_defaults(fin_collect_opts, &j->set))) {
        fin_log_err(rc, cmd);
        return 1;
    }
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--collector") == 0 && i + 1 < argc)
            collector = argv[i + 1];
    if ((rc = fin_ini_load(&j->ini, cli->config, true))) {
        fin_log_err(rc, cmd);
        return 1;
    }
    const struct fin_ini_section *sec = NULL;
    if (collector) {
        if ((rc = fin_name_check(FIN_NAME_COLLECTOR, collector))) {
            fin_log_err(rc, cmd);
            return 2;
        }
        if (!(sec = fin_ini_find(&j->ini, "collector", collector))) {
            fin_error("%s: no [collector \"%s\"] section in %s", cmd, collector, cli->config);
            return 1;
        }
    } else if (default_section && (sec = fin_ini_find(&j->ini, "collector", default_section))) {
    } else {
        /* The only collector section, if there is one; with several, guessing would run
         * the wrong one, so the user must choose. */
        char names[512] = "";
        size_t nl = 0, count = 0;
        for (size_t i = 0; i < j->ini.n_sections; i++) {
            const struct fin_ini_section *x = &j->ini.sections[i];
            if (strcmp(x->type, "collector") != 0)
                continue;
            sec = x;
            count++;
            nl += (size_t)snprintf(names + nl, nl < sizeof names ? sizeof names - nl : 0,
                                   "%s\"%s\" (line %d)", count > 1 ? ", " : "", x->name, x->line);
        }
        if (count > 1) {
            fin_error("%s: %s has %zu [collector] sections: %s; choose one with --collector NAME",
                      cmd, cli->config, count, names);
            return 2;
        }
    }
    snprintf(j->collector, sizeof j->collector, "%s", sec ? sec->name : "default");
    if (sec && (rc = fin_opts_apply_section(fin_collect_opts, &j->set, &j->ini, sec))) {
        fin_log_err(rc, cmd);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        bool matched;
        if ((rc = fin_cli_table_option(cmd, fin_collect_opts, &j->set, argc, argv, &i, &matched)))
            return rc;
        if (matched)
            continue;
        if (strcmp(argv[i], "--collector") == 0) {
            i++;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            char to[4096];
            snprintf(to, sizeof to, "file:%s", argv[++i]);
            fin_opts_set(fin_collect_opts, &j->set, "to", to, "option --out");
        } else if (!extra || (rc = extra(extra_ctx, argc, argv, &i)) == 1) {
            return fin_cli_usage_error(cmd, "unknown argument '%s'", argv[i]);
        } else if (rc) {
            return rc;
        }
    }
    return 0;
}

/* <data_dir>/collectors/<collector>@<sink>.seen: each collector and destination pair
 * remembers on its own. */
static int seen_path(struct fin_collect_job *j, const char *data_dir)
{
    char sink[256];
    snprintf(sink, sizeof sink, "%s", j->set.to);
    for (char *p = sink; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.'))
            *p = '_';
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/collectors", data_dir);
    int rc = fin_name_check(FIN_NAME_COLLECTOR, j->collector);
    if (!rc)
        rc = fin_mkdir_p(dir, 0755);
    if (rc)
        return rc;
    if ((size_t)snprintf(j->seen, sizeof j->seen, "%s/%s@%s.seen", dir, j->collector, sink) >= sizeof j->seen)
        return fin_err_set(FIN_EINVAL, "path too long under %s", dir);
    return 0;
}

int fin_collect_job_open(struct fin_collect_job *j, struct fin_cli *cli, const char *cmd)
{
    char **tickers = NULL, *storage = NULL;
    size_t n;
    const char *arg;
    int rc;
    if ((rc = fin_record_format_parse(&j->fmt, j->set.fields)) ||
        (rc = fin_collect_tickers(&j->set, &tickers, &storage, &n)) ||
        (!fin_source_lookup(j->set.source, &arg) && (rc = FIN_EINVAL))) {
        free(tickers);
        free(storage);
        fin_log_err(rc, cmd);
        return 2;
    }
    free(tickers);
    free(storage);
    j->live = j->set.every_ms > 0;
    if ((rc = fin_collect_window(&j->set, NULL, j->live, &j->w))) {
        fin_log_err(rc, cmd);
        return 2;
    }
    if ((rc = fin_sink_open(&j->sink, cli->data_dir, cli->config, j->set.to))) {
        fin_log_err(rc, cmd);
        return 1;
    }
    /* A durable sink remembers what this collector sent it, so a repeated window or a
     * restarted schedule adds no duplicate; stdout and files always get every bar. */
    bool durable = fin_sink_is_durable(j->sink);
    if ((rc = fin_emitter_init(&j->em, &j->fmt, fin_sink_records(j->sink), j->live || durable))) {
        fin_log_err(rc, cmd);
        return 1;
    }
    j->emitter_ready = true;
    if (durable && ((rc = seen_path(j, cli->data_dir)) || (rc = fin_emitter_load_seen(&j->em, j->seen)))) {
        fin_log_err(rc, cmd);
        return 1;
    }
    return 0;
}

int fin_collect_job_run(struct fin_collect_job *j, struct fin_collect_stats *run)
{
    struct fin_collect_stats before = j->em.stats;
    int rc = fin_collect_once(&j->set, &j->w, &j->em);
    *run = j->em.stats;
    run->records -= before.records;
    run->skipped -= before.skipped;
    run->bad -= before.bad;
    run->duplicates -= before.duplicates;
    run->tickers_failed -= before.tickers_failed;
    run->tickers_ok -= before.tickers_ok;
    if (!rc && j->seen[0] && (rc = fin_emitter_save_seen(&j->em, j->seen))) {
        /* The records are durable; only the memory of them was not saved. */
        char detail[900];
        snprintf(detail, sizeof detail, "%s", fin_err_msg());
        fin_err_set(rc, "the records were delivered, but remembering them failed: %s", detail);
    }
    return rc;
}

int fin_collect_job_next_window(struct fin_collect_job *j)
{
    return fin_collect_window(&j->set, NULL, true, &j->w);
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

void fin_collect_job_summary(const struct fin_collect_job *j, const struct fin_collect_stats *st,
                             double secs)
{
    char recs[32], what[96] = "", extra[256] = "";
    if (j->em.min_t <= j->em.max_t) {
        date_range(what, sizeof what - 8, j->em.min_t, j->em.max_t);
        strcat(what, " ");
        strncat(what, j->set.interval, 7);
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
            fin_cli_count(recs, sizeof recs, st->records), fin_emitter_tickers(&j->em), what,
            what[0] ? "  " : "", j->set.source, secs, extra);
}

int fin_collect_job_close(struct fin_collect_job *j)
{
    int rc = fin_sink_close(j->sink);
    j->sink = NULL;
    if (j->emitter_ready)
        fin_emitter_fini(&j->em);
    j->emitter_ready = false;
    fin_opts_fini(fin_collect_opts, &j->set);
    fin_ini_fini(&j->ini);
    return rc;
}
