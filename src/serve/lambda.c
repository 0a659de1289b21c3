/* lambda.c - the collector as a function: Lambda's Invoke call.
 *
 * POST /2015-03-31/functions/NAME/invocations runs the [collector "NAME"] section of
 * finstream.ini once, as the classic exercise's function did on each HTTP trigger. The
 * event may set the window and tickers ({"date": "2020-05-14", "tickers": ["FB", ...],
 * "start", "end", "interval"}); the answer is a JSON summary of the run. The records go
 * where the section's `to` says, which inside serve must be a stream or a direct-put
 * delivery stream that serve holds (stream:NAME, delivery:NAME): serve owns their
 * writers. Sections with `every` set also run on that schedule inside serve, over
 * "today so far", remembering what they sent so each run adds only new bars.
 * A collection that fails answers 200 with X-Amz-Function-Error: Unhandled and
 * an error object, as Lambda does for a function's own errors. */
#include "internal.h"

#include "finstream/collector.h"
#include "finstream/error.h"
#include "finstream/names.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"

#include <time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAMBDA_PREFIX "/2015-03-31/functions/"
#define LAMBDA_SUFFIX "/invocations"

bool lambda_path(const char *path)
{
    size_t n = strlen(path), p = strlen(LAMBDA_PREFIX), s = strlen(LAMBDA_SUFFIX);
    return n > p + s && strncmp(path, LAMBDA_PREFIX, p) == 0 &&
           strcmp(path + n - s, LAMBDA_SUFFIX) == 0;
}

static void function_error(struct fin_serve *svc, struct fin_serve_response *resp,
                           const char *type, const char *msg)
{
    json_t *o = json_pack("{s:s, s:s}", "errorMessage", msg, "errorType", type);
    respond_value(svc, resp, o);
    resp->content_type = "application/json";
    resp->hdr_name = "X-Amz-Function-Error";
    resp->hdr_value = "Unhandled";
}

/* Applies one event member to the settings; arrays of strings are joined with commas. */
static int event_set(struct fin_collect_settings *set, json_t *event, const char *key)
{
    json_t *v = json_object_get(event, key);
    if (!v || json_is_null(v))
        return 0;
    char buf[4096] = "";
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (!json_is_string(x))
                return fin_err_set(FIN_EINVAL, "event.%s[%zu] is not a string", key, i);
            size_t len = strlen(buf);
            snprintf(buf + len, sizeof buf - len, "%s%s", i ? "," : "", json_string_value(x));
        }
    } else if (json_is_string(v)) {
        snprintf(buf, sizeof buf, "%s", json_string_value(v));
    } else {
        return fin_err_set(FIN_EINVAL, "event.%s must be a string", key);
    }
    char where[64];
    snprintf(where, sizeof where, "event.%s", key);
    return fin_opts_set(fin_collect_opts, set, key, buf, where);
}

/* One collection with settings set into the stream or direct-put delivery stream that
 * set->to names, through serve's writer. live: the window is "today so far" (schedules);
 * seen_path (may be NULL): the de-duplication memory, so repeated runs add only new bars.
 * FIN_ECONFIG for a destination serve does not hold; *w and *st are filled. */
static int collect_run_locked(struct fin_serve *svc, const struct fin_collect_settings *set,
                              bool live, const char *seen_path, struct fin_window *w,
                              struct fin_collect_stats *st);

/* One collection at a time: each reads, extends and replaces its memory of what was
 * sent, and Invoke and a schedule of the same collector share that memory. */
static int collect_run(struct fin_serve *svc, const struct fin_collect_settings *set, bool live,
                       const char *seen_path, struct fin_window *w, struct fin_collect_stats *st)
{
    pthread_mutex_lock(&svc->collect_mu);
    int rc = collect_run_locked(svc, set, live, seen_path, w, st);
    pthread_mutex_unlock(&svc->collect_mu);
    return rc;
}

static int collect_run_locked(struct fin_serve *svc, const struct fin_collect_settings *set,
                              bool live, const char *seen_path, struct fin_window *w,
                              struct fin_collect_stats *st)
{
    struct fin_emitter em;
    struct fin_record_sink sink;
    struct sstream *ss = NULL;
    bool emitter_ok = false, sink_ok = false;
    struct fin_serve_response tmp = {0};
    char sname[FIN_STREAM_MAX_NAME + 1];
    struct fin_record_format fmt;
    int rc;
    memset(st, 0, sizeof *st);
    if (strncmp(set->to, "stream:", 7) == 0 && !reg_internal_name(set->to + 7))
        snprintf(sname, sizeof sname, "%s", set->to + 7);
    else if (strncmp(set->to, "delivery:", 9) == 0)
        snprintf(sname, sizeof sname, FIN_SERVE_INTERNAL_PREFIX "%s", set->to + 9);
    else
        return fin_err_set(FIN_ECONFIG, "inside finstream serve a collector sends to "
                                        "stream:NAME or delivery:NAME, not to %s", set->to);
    if ((rc = fin_collect_window(set, svc->clock, live, w)) ||
        (rc = fin_record_format_parse(&fmt, set->fields))) {
        char m[512];
        snprintf(m, sizeof m, "%s", fin_err_msg());
        return fin_err_set(FIN_ECONFIG, "%s", m);
    }
    if ((rc = reg_acquire_private(svc, sname, true, &ss, &tmp))) {
        rc = fin_err_set(FIN_ENOENT, "%s: no such %s served here", set->to,
                         set->to[0] == 's' ? "stream" : "direct-put delivery stream");
        goto done;
    }
    if ((rc = fin_stream_sink_create(&sink, ss->st)))
        goto done;
    sink_ok = true;
    if ((rc = fin_emitter_init(&em, &fmt, &sink, seen_path != NULL)))
        goto done;
    emitter_ok = true;
    if (seen_path && (rc = fin_emitter_load_seen(&em, seen_path)))
        goto done;
    rc = fin_collect_once(set, w, &em);
    if (!rc)
        rc = sink.flush(sink.ctx);
    /* the memory of what was sent is saved only once the records are durable */
    if (!rc && seen_path)
        rc = fin_emitter_save_seen(&em, seen_path);
    *st = em.stats;
    if (!rc)
        atomic_fetch_add(&svc->m.in_records, em.stats.records);
done:
    if (emitter_ok)
        fin_emitter_fini(&em);
    if (sink_ok)
        fin_stream_sink_destroy(&sink);
    reg_release(svc, ss);
    fin_serve_response_fini(&tmp);
    return rc;
}

/* <data_dir>/collectors/<collector>@<to>.seen, the file `finstream collect` keeps for the
 * same collector and destination (collect_job.c: characters other than letters, digits,
 * '-' and '.' in the destination become '_'), so Invoke, the schedule and the command
 * line share one memory of what was sent. */
static int seen_path(struct fin_serve *svc, const char *collector, const char *to, char *out,
                     size_t cap)
{
    char sink[256], dir[4096];
    int rc = fin_name_check(FIN_NAME_COLLECTOR, collector);
    if (rc)
        return rc;
    snprintf(sink, sizeof sink, "%s", to);
    for (char *p = sink; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.'))
            *p = '_';
    snprintf(dir, sizeof dir, "%s/collectors", svc->data_dir);
    if ((rc = fin_mkdir_p(dir, 0755)))
        return rc;
    if ((size_t)snprintf(out, cap, "%s/%s@%s.seen", dir, collector, sink) >= cap)
        return fin_err_set(FIN_ELIMIT, "path too long under %s", dir);
    return 0;
}

/* ---- scheduled collectors ---- */

struct schedule {
    struct fin_serve *svc;
    struct fin_collect_settings set;
    char name[128];
    pthread_t thread;
    struct schedule *next;
};

static void *schedule_main(void *arg)
{
    struct schedule *sc = arg;
    struct fin_serve *svc = sc->svc;
    char seen[4096];
    int seen_rc = seen_path(svc, sc->name, sc->set.to, seen, sizeof seen);
    char old[4096];   /* where schedules kept it before Invoke shared it */
    snprintf(old, sizeof old, "%s/serve/collectors/%s.seen", svc->data_dir, sc->name);
    if (!seen_rc && !fin_path_exists(seen) && fin_path_exists(old) && rename(old, seen) != 0)
        fin_warn("serve: collector %s: cannot move %s to %s", sc->name, old, seen);
    for (;;) {
        struct fin_window w;
        struct fin_collect_stats st;
        int rc = seen_rc ? seen_rc : collect_run(svc, &sc->set, true, seen, &w, &st);
        if (rc)
            fin_warn("serve: collector %s: %s", sc->name, fin_err_msg());
        else
            fin_info("serve: collector %s: %llu records, %d tickers", sc->name,
                     (unsigned long long)st.records, st.tickers_ok);
        /* waits for the next run, or for serve to stop */
        pthread_mutex_lock(&svc->sched_mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + (sc->set.every_ms % 1000) * 1000000LL;
        until.tv_sec += sc->set.every_ms / 1000 + ns / 1000000000LL;
        until.tv_nsec = ns % 1000000000LL;
        while (!svc->sched_stop &&
               pthread_cond_timedwait(&svc->sched_cv, &svc->sched_mu, &until) == 0)
            ;
        bool stop = svc->sched_stop;
        pthread_mutex_unlock(&svc->sched_mu);
        if (stop)
            return NULL;
    }
}

int schedules_start(struct fin_serve *svc)
{
    struct fin_ini ini;
    if (!svc->config_path)
        return 0;
    int rc = fin_ini_load(&ini, svc->config_path, true);
    if (rc)
        return rc;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/collectors", svc->data_dir);
    for (size_t i = 0; i < ini.n_sections && !rc; i++) {
        const struct fin_ini_section *sec = &ini.sections[i];
        if (strcmp(sec->type, "collector") != 0)
            continue;
        struct schedule *sc = calloc(1, sizeof *sc);
        if (!sc) {
            rc = FIN_ENOMEM;
            break;
        }
        sc->svc = svc;
        snprintf(sc->name, sizeof sc->name, "%s", sec->name);
        if ((rc = fin_opts_defaults(fin_collect_opts, &sc->set)) ||
            (rc = fin_opts_apply_section(fin_collect_opts, &sc->set, &ini, sec)) ||
            sc->set.every_ms <= 0 ||
            (strncmp(sc->set.to, "stream:", 7) != 0 && strncmp(sc->set.to, "delivery:", 9) != 0)) {
            /* not scheduled, or not for serve (it sends elsewhere): Invoke may still run it */
            fin_opts_fini(fin_collect_opts, &sc->set);
            free(sc);
            rc = 0;
            continue;
        }
        if ((rc = fin_mkdir_p(dir, 0755)) || pthread_create(&sc->thread, NULL, schedule_main, sc)) {
            rc = rc ? rc : fin_err_set(FIN_ENOMEM, "cannot start collector %s", sc->name);
            fin_opts_fini(fin_collect_opts, &sc->set);
            free(sc);
            break;
        }
        sc->next = svc->schedules;
        svc->schedules = sc;
    }
    fin_ini_fini(&ini);
    return rc;
}

void schedules_stop(struct fin_serve *svc)
{
    pthread_mutex_lock(&svc->sched_mu);
    svc->sched_stop = true;
    pthread_cond_broadcast(&svc->sched_cv);
    pthread_mutex_unlock(&svc->sched_mu);
    while (svc->schedules) {
        struct schedule *sc = svc->schedules;
        svc->schedules = sc->next;
        pthread_join(sc->thread, NULL);
        fin_opts_fini(fin_collect_opts, &sc->set);
        free(sc);
    }
}

void lambda_invoke(struct fin_serve *svc, const struct fin_serve_request *req,
                   struct fin_serve_response *resp)
{
    struct fin_collect_settings set;
    struct fin_ini ini;
    bool ini_ok = false;
    json_t *event = NULL;
    char name[128], msg[1024];
    size_t p = strlen(LAMBDA_PREFIX), n = strlen(req->path) - p - strlen(LAMBDA_SUFFIX);
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1),
             req->path + p);
    memset(&set, 0, sizeof set);
    int rc = fin_opts_defaults(fin_collect_opts, &set);
    if (!rc && fin_name_check(FIN_NAME_COLLECTOR, name)) {
        fin_serve_error(svc, resp, 400, "ValidationException", "%s", fin_err_msg());
        goto done;
    }
    if (!rc && svc->config_path && (rc = fin_ini_load(&ini, svc->config_path, true)) == 0)
        ini_ok = true;
    const struct fin_ini_section *sec = ini_ok ? fin_ini_find(&ini, "collector", name) : NULL;
    if (!sec) {
        fin_serve_error(svc, resp, 404, "ResourceNotFoundException",
                        "Function not found: arn:aws:lambda:%s:%s:function:%s", svc->region,
                        svc->account, name);
        goto done;
    }
    if ((rc = fin_opts_apply_section(fin_collect_opts, &set, &ini, sec))) {
        function_error(svc, resp, "ConfigurationError", fin_err_msg());
        goto done;
    }
    json_error_t jerr;
    event = req->body_len ? json_loadb(req->body, req->body_len, 0, &jerr) : json_object();
    if (!event || !json_is_object(event)) {
        fin_serve_error(svc, resp, 400, "InvalidRequestContentException",
                        "Could not parse request body into json: %s",
                        event ? "not an object" : jerr.text);
        goto done;
    }
    static const char *keys[] = {"date", "start", "end", "tickers", "interval"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if ((rc = event_set(&set, event, keys[i]))) {
            fin_serve_error(svc, resp, 400, "InvalidRequestContentException", "%s",
                            fin_err_msg());
            goto done;
        }
    /* Invoked twice for the same window, the second run adds nothing: the emitter
     * remembers what was sent, as `finstream collect` does. */
    struct fin_window w;
    struct fin_collect_stats st;
    char seen[4096];
    if ((rc = seen_path(svc, name, set.to, seen, sizeof seen))) {
        function_error(svc, resp, "ConfigurationError", fin_err_msg());
        goto done;
    }
    rc = collect_run(svc, &set, false, seen, &w, &st);
    if (rc == FIN_ENOENT || rc == FIN_EBUSY) {
        fin_serve_error(svc, resp, 400, "ResourceNotFoundException", "%s", fin_err_msg());
        goto done;
    }
    if (rc) {
        snprintf(msg, sizeof msg, "%s", fin_err_msg()[0] ? fin_err_msg() : fin_strerror(rc));
        function_error(svc, resp, rc == FIN_ECONFIG ? "ConfigurationError" : "CollectionError",
                       msg);
        goto done;
    }
    json_t *out = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:i, s:i, s:{s:I, s:I, s:i}}",
                            "collector", name, "to", set.to, "records",
                            (json_int_t)st.records, "duplicates", (json_int_t)st.duplicates,
                            "skipped", (json_int_t)st.skipped, "bad", (json_int_t)st.bad,
                            "tickers_ok", st.tickers_ok, "tickers_failed", st.tickers_failed, "window", "start", (json_int_t)w.start,
                            "end", (json_int_t)w.end, "interval_s", w.interval_s);
    respond_value(svc, resp, out);
    resp->content_type = "application/json";
    resp->hdr_name = "X-Amz-Executed-Version";
    resp->hdr_value = "$LATEST";
done:
    json_decref(event);
    if (ini_ok)
        fin_ini_fini(&ini);
    fin_opts_fini(fin_collect_opts, &set);
}
