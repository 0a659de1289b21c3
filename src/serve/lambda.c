/* lambda.c - the collector as a function: Lambda's Invoke call.
 *
 * POST /2015-03-31/functions/NAME/invocations runs the [collector "NAME"] section of
 * finstream.ini once, as the classic exercise's function did on each HTTP trigger. The
 * event may set the window and tickers ({"date": "2020-05-14", "tickers": ["FB", ...],
 * "start", "end", "interval"}); the answer is a JSON summary of the run. The records go
 * where the section's `to` says, which inside serve must be a stream or a direct-put
 * delivery stream that serve holds (stream:NAME, delivery:NAME): serve owns their
 * writers. A collection that fails answers 200 with X-Amz-Function-Error: Unhandled and
 * an error object, as Lambda does for a function's own errors. */
#include "internal.h"

#include "finstream/collector.h"
#include "finstream/error.h"

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

void lambda_invoke(struct fin_serve *svc, const struct fin_serve_request *req,
                   struct fin_serve_response *resp)
{
    struct fin_collect_settings set;
    struct fin_ini ini;
    bool ini_ok = false, emitter_ok = false, sink_ok = false;
    struct fin_emitter em;
    struct fin_record_sink sink;
    struct sstream *ss = NULL;
    json_t *event = NULL;
    char name[128], msg[1024];
    size_t p = strlen(LAMBDA_PREFIX), n = strlen(req->path) - p - strlen(LAMBDA_SUFFIX);
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1),
             req->path + p);
    memset(&set, 0, sizeof set);
    int rc = fin_opts_defaults(fin_collect_opts, &set);
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
    /* where the records go: a stream serve holds, or a direct-put delivery's stream */
    char sname[FIN_STREAM_MAX_NAME + 1];
    if (strncmp(set.to, "stream:", 7) == 0)
        snprintf(sname, sizeof sname, "%s", set.to + 7);
    else if (strncmp(set.to, "delivery:", 9) == 0)
        snprintf(sname, sizeof sname, "__firehose.%s", set.to + 9);
    else {
        function_error(svc, resp, "ConfigurationError",
                       "inside finstream serve a collector sends to stream:NAME or "
                       "delivery:NAME, not to stdout or files");
        goto done;
    }
    if (reg_acquire(svc, sname, true, &ss, resp))
        goto done;
    struct fin_window w;
    struct fin_record_format fmt;
    if ((rc = fin_collect_window(&set, svc->clock, false, &w)) ||
        (rc = fin_record_format_parse(&fmt, set.fields))) {
        function_error(svc, resp, "ConfigurationError", fin_err_msg());
        goto done;
    }
    if ((rc = fin_stream_sink_create(&sink, ss->st))) {
        fin_serve_error(svc, resp, 500, "ServiceException", "%s", fin_err_msg());
        goto done;
    }
    sink_ok = true;
    if ((rc = fin_emitter_init(&em, &fmt, &sink, false))) {
        fin_serve_error(svc, resp, 500, "ServiceException", "%s", fin_err_msg());
        goto done;
    }
    emitter_ok = true;
    rc = fin_collect_once(&set, &w, &em);
    if (!rc)
        rc = sink.flush(sink.ctx);
    if (rc) {
        snprintf(msg, sizeof msg, "%s", fin_err_msg()[0] ? fin_err_msg() : fin_strerror(rc));
        function_error(svc, resp, "CollectionError", msg);
        goto done;
    }
    json_t *out = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:i, s:i, s:{s:I, s:I, s:i}}",
                            "collector", name, "to", set.to, "records",
                            (json_int_t)em.stats.records, "duplicates",
                            (json_int_t)em.stats.duplicates, "skipped",
                            (json_int_t)em.stats.skipped, "bad", (json_int_t)em.stats.bad,
                            "tickers_ok", em.stats.tickers_ok, "tickers_failed",
                            em.stats.tickers_failed, "window", "start", (json_int_t)w.start,
                            "end", (json_int_t)w.end, "interval_s", w.interval_s);
    atomic_fetch_add(&svc->m.in_records, em.stats.records);
    respond_value(svc, resp, out);
    resp->content_type = "application/json";
    resp->hdr_name = "X-Amz-Executed-Version";
    resp->hdr_value = "$LATEST";
done:
    if (emitter_ok)
        fin_emitter_fini(&em);
    if (sink_ok)
        fin_stream_sink_destroy(&sink);
    reg_release(svc, ss);
    json_decref(event);
    if (ini_ok)
        fin_ini_fini(&ini);
    fin_opts_fini(fin_collect_opts, &set);
}
