/* service.c - the service behind `finstream serve`: the registry of served streams
 * and the request entry point.
 *
 * Every stream under <data_dir>/streams is served. Its writer is opened on first use
 * and kept open until the service is destroyed, because the stream admits one writer
 * process and serve is meant to be it. What Kinesis keeps beside the data (tags, the
 * retention asked for through the API, the creation time) lives in
 * <data_dir>/serve/streams/<name>.json, replaced atomically on every change.
 *
 * Status is derived from time: a stream is CREATING, UPDATING or DELETING until a
 * deadline (short and configurable, so SDK waiters see the states they poll for) and
 * ACTIVE, or gone, after it. A deleted stream's data is removed as soon as no request
 * is using its writer; its name is listed as DELETING until the deadline. */
#include "internal.h"

#include "finstream/aws.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

void fin_serve_config_defaults(struct fin_serve_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->creating_ms = 500;
    cfg->updating_ms = 500;
    cfg->deleting_ms = 500;
    cfg->account = "000000000000";
    cfg->region = "us-east-1";
    cfg->max_skew_ms = 15 * 60 * 1000;
    cfg->shard_limit = 500;
}

bool fin_serve_has_keys(const struct fin_serve *svc)
{
    return svc->n_keys > 0;
}

/* "ID:SECRET, ID2:SECRET2" into svc->keys. */
static int parse_keys(struct fin_serve *svc, const char *text)
{
    char *copy = strdup(text ? text : ""), *save = NULL;
    if (!copy)
        return FIN_ENOMEM;
    int rc = 0;
    for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon || colon == tok || !colon[1]) {
            rc = fin_err_set(FIN_ECONFIG, "[serve] access_keys: '%.*s...' is not ID:SECRET",
                             (int)(colon ? colon - tok : 4), tok);
            break;
        }
        struct serve_key *k = realloc(svc->keys, (svc->n_keys + 1) * sizeof *k);
        if (!k) {
            rc = FIN_ENOMEM;
            break;
        }
        svc->keys = k;
        *colon = 0;
        k[svc->n_keys].id = strdup(tok);
        k[svc->n_keys].secret = strdup(colon + 1);
        svc->n_keys++;
        if (!k[svc->n_keys - 1].id || !k[svc->n_keys - 1].secret) {
            rc = FIN_ENOMEM;
            break;
        }
    }
    free(copy);
    return rc;
}

int64_t now_ms(struct fin_serve *svc)
{
    return fin_now_ns(svc->clock) / FIN_NS_PER_MS;
}

/* ---- metadata beside the stream ---- */

static int meta_path(struct fin_serve *svc, const char *name, char *out, size_t cap)
{
    if ((size_t)snprintf(out, cap, "%s/%s.json", svc->meta_dir, name) >= cap)
        return fin_err_set(FIN_ELIMIT, "path too long for stream '%s'", name);
    return 0;
}

int meta_save(struct fin_serve *svc, struct sstream *ss)
{
    char path[4096];
    int rc = meta_path(svc, ss->name, path, sizeof path);
    if (rc)
        return rc;
    json_t *o = json_pack("{s:I, s:I, s:O, s:s}", "created", (json_int_t)ss->created_s,
                          "retention_hours", (json_int_t)ss->retention_h, "tags", ss->tags,
                          "mode", ss->on_demand ? "ON_DEMAND" : "PROVISIONED");
    if (o && ss->metrics)
        json_object_set(o, "shard_level_metrics", ss->metrics);
    char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    if (!text)
        return FIN_ENOMEM;
    rc = fin_write_file_atomic(path, text, strlen(text));
    free(text);
    return rc;
}

static void meta_load(struct fin_serve *svc, struct sstream *ss)
{
    char path[4096];
    if (meta_path(svc, ss->name, path, sizeof path))
        return;
    json_error_t jerr;
    json_t *o = json_load_file(path, 0, &jerr);
    if (!o) {
        /* A stream made by `finstream stream create`: its directory's age stands in. */
        char dir[4096];
        struct stat st;
        snprintf(dir, sizeof dir, "%s/streams/%s/stream.ini", svc->data_dir, ss->name);
        ss->created_s = stat(dir, &st) == 0 ? (int64_t)st.st_mtime : 0;
        return;
    }
    json_t *c = json_object_get(o, "created"), *r = json_object_get(o, "retention_hours");
    json_t *t = json_object_get(o, "tags");
    if (json_is_integer(c))
        ss->created_s = json_integer_value(c);
    json_t *lm = json_object_get(o, "shard_level_metrics");
    if (json_is_array(lm)) {
        json_decref(ss->metrics);
        ss->metrics = json_incref(lm);
    }
    ss->on_demand = json_is_string(json_object_get(o, "mode")) &&
                    strcmp(json_string_value(json_object_get(o, "mode")), "ON_DEMAND") == 0;
    if (json_is_integer(r) && json_integer_value(r) > 0)
        ss->retention_h = json_integer_value(r);
    if (json_is_object(t)) {
        json_decref(ss->tags);
        ss->tags = json_incref(t);
    }
    json_decref(o);
}

/* ---- the registry ---- */

struct sstream *reg_find_locked(struct fin_serve *svc, const char *name)
{
    for (struct sstream *ss = svc->streams; ss; ss = ss->next)
        if (strcmp(ss->name, name) == 0)
            return ss;
    return NULL;
}

static void sstream_free(struct sstream *ss)
{
    if (!ss)
        return;
    if (ss->has_creator)
        pthread_join(ss->creator, NULL);
    fin_stream_close(ss->st);
    json_decref(ss->tags);
    json_decref(ss->metrics);
    free(ss);
}

bool reg_internal_name(const char *name)
{
    return name && strncmp(name, FIN_SERVE_INTERNAL_PREFIX, strlen(FIN_SERVE_INTERNAL_PREFIX)) == 0;
}

bool reg_refuse_internal(struct fin_serve *svc, const char *op, json_t *body,
                         struct fin_serve_response *resp)
{
    static const char *const keys[] = {"StreamName", "StreamARN", "ConsumerARN"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = json_string_value(json_object_get(body, keys[i]));
        const char *name = v && i > 0 && strstr(v, ":stream/") ? strstr(v, ":stream/") + 8 : v;
        if (!reg_internal_name(name))
            continue;
        int len = (int)strcspn(name, "/");
        if (strcmp(op, "CreateStream") == 0)
            fin_serve_error(svc, resp, 400, "InvalidArgumentException",
                            "Stream names beginning with %s are reserved for the streams of "
                            "Firehose delivery streams.", FIN_SERVE_INTERNAL_PREFIX);
        else
            fin_serve_error(svc, resp, 400, "ResourceNotFoundException",
                            "Stream %.*s under account %s not found.", len, name, svc->account);
        return true;
    }
    return false;
}

struct sstream *sstream_new(const char *name)
{
    struct sstream *ss = calloc(1, sizeof *ss);
    if (!ss)
        return NULL;
    snprintf(ss->name, sizeof ss->name, "%s", name);
    ss->tags = json_object();
    ss->status = ST_ACTIVE;
    if (!ss->tags) {
        free(ss);
        return NULL;
    }
    return ss;
}

int sstream_status(struct fin_serve *svc, const struct sstream *ss)
{
    if (ss->gone)
        return ST_DELETING;
    if (ss->pending)
        return ST_CREATING;
    if (ss->status != ST_ACTIVE && now_ms(svc) < ss->until_ms)
        return ss->status;
    return ST_ACTIVE;
}

/* Drops deleted streams whose DELETING time is over and nobody uses. Under mu. */
static void reg_reap_locked(struct fin_serve *svc)
{
    int64_t now = now_ms(svc);
    for (struct sstream **pp = &svc->streams; *pp;) {
        struct sstream *ss = *pp;
        if (ss->gone && ss->refs == 0 && now >= ss->until_ms && !ss->pending) {
            *pp = ss->next;
            sstream_free(ss);
        } else {
            pp = &ss->next;
        }
    }
}

/* Closes a deleted stream's writer and removes its data, once nobody uses it. Under mu. */
static void reg_remove_data_locked(struct fin_serve *svc, struct sstream *ss)
{
    if (!ss->gone || ss->refs > 0 || ss->pending)  /* a creator removes what it made */
        return;
    if (ss->st) {
        fin_stream_close(ss->st);
        ss->st = NULL;
    }
    char path[4096];
    int rc = fin_stream_delete(svc->data_dir, ss->name);
    if (rc && rc != FIN_ENOENT)
        fin_log_err(rc, "serve: deleting stream");
    if (meta_path(svc, ss->name, path, sizeof path) == 0)
        unlink(path);
}

int reg_acquire(struct fin_serve *svc, const char *name, bool need_active, struct sstream **out,
                struct fin_serve_response *resp)
{
    if (reg_internal_name(name)) {   /* a name from a shard iterator or the fast path */
        fin_serve_error(svc, resp, 400, "ResourceNotFoundException",
                        "Stream %s under account %s not found.", name, svc->account);
        return FIN_ENOENT;
    }
    return reg_acquire_private(svc, name, need_active, out, resp);
}

int reg_acquire_private(struct fin_serve *svc, const char *name, bool need_active,
                        struct sstream **out, struct fin_serve_response *resp)
{
    pthread_mutex_lock(&svc->mu);
    reg_reap_locked(svc);
    struct sstream *ss = reg_find_locked(svc, name);
    int st = ss ? sstream_status(svc, ss) : -1;
    if (!ss || ss->gone || ss->pending || (need_active && st == ST_CREATING)) {
        pthread_mutex_unlock(&svc->mu);
        fin_serve_error(svc, resp, 400, "ResourceNotFoundException",
                        "Stream %s under account %s not found.", name, svc->account);
        return FIN_ENOENT;
    }
    if (!ss->st) {
        int rc = fin_stream_open(&ss->st, svc->data_dir, name, FIN_STREAM_WRITE, svc->clock);
        if (rc) {
            ss->st = NULL;
            pthread_mutex_unlock(&svc->mu);
            if (rc == FIN_EBUSY)
                fin_serve_error(svc, resp, 400, "ResourceInUseException",
                                "Stream %s under account %s is in use: %s", name, svc->account,
                                fin_err_msg());
            else
                fin_serve_error(svc, resp, 500, "InternalFailure", "cannot open stream %s: %s",
                                name, fin_err_msg());
            return rc;
        }
        if (ss->retention_h <= 0)
            ss->retention_h = (fin_stream_get_config(ss->st)->retention_ms + 3599999) / 3600000;
    }
    ss->refs++;
    pthread_mutex_unlock(&svc->mu);
    *out = ss;
    return 0;
}

void reg_release(struct fin_serve *svc, struct sstream *ss)
{
    if (!ss)
        return;
    pthread_mutex_lock(&svc->mu);
    ss->refs--;
    reg_remove_data_locked(svc, ss);
    pthread_mutex_unlock(&svc->mu);
}

void reg_delete_locked(struct fin_serve *svc, struct sstream *ss)
{
    ss->gone = true;
    ss->status = ST_DELETING;
    ss->until_ms = now_ms(svc) + svc->cfg.deleting_ms;
    reg_remove_data_locked(svc, ss);
}

int64_t account_open_shards(struct fin_serve *svc)
{
    int64_t open = 0;
    for (struct sstream *ss = svc->streams; ss; ss = ss->next) {
        if (ss->gone || strncmp(ss->name, "__firehose.", 11) == 0)
            continue;
        if (ss->pending) {
            open += ss->create_cfg.shards;
            continue;
        }
        if (!ss->st &&
            fin_stream_open(&ss->st, svc->data_dir, ss->name, FIN_STREAM_WRITE, svc->clock)) {
            ss->st = NULL;
            continue;
        }
        open += fin_stream_open_shard_count(ss->st);
    }
    return open;
}

int account_shard_limit_error(struct fin_serve *svc, int64_t more,
                              struct fin_serve_response *resp)
{
    int64_t open = account_open_shards(svc);
    if (open + more <= svc->cfg.shard_limit)
        return 0;
    fin_serve_error(svc, resp, 400, "LimitExceededException",
                    "This request would exceed the shard limit for the account %s in %s. Current "
                    "shard count for the account: %lld. Limit: %lld. Number of additional shards "
                    "that would have resulted from this request: %lld. Refer to the AWS Service "
                    "Limits page (http://docs.aws.amazon.com/general/latest/gr/"
                    "aws_service_limits.html) for current limits and how to request higher "
                    "limits.", svc->account, svc->region, (long long)open,
                    (long long)svc->cfg.shard_limit, (long long)more);
    return FIN_ELIMIT;
}

static void *create_worker(void *arg)
{
    struct sstream *ss = arg;
    struct fin_serve *svc = ss->svc;
    int rc = fin_stream_create(svc->data_dir, ss->name, &ss->create_cfg);
    if (rc)
        fin_log_err(rc, "serve: creating stream");
    pthread_mutex_lock(&svc->mu);
    ss->pending = false;
    if (rc && !ss->gone) {
        ss->gone = true;
        ss->until_ms = now_ms(svc);
    } else if (!rc) {
        reg_remove_data_locked(svc, ss);  /* deleted meanwhile: nothing stays */
    }
    pthread_mutex_unlock(&svc->mu);
    return NULL;
}

int reg_create_async_locked(struct fin_serve *svc, struct sstream *ss,
                            const struct fin_stream_config *cfg)
{
    ss->svc = svc;
    ss->create_cfg = *cfg;
    ss->pending = true;
    if (pthread_create(&ss->creator, NULL, create_worker, ss) != 0) {
        ss->pending = false;
        return fin_err_set(FIN_ENOMEM, "cannot start a thread to create stream %s", ss->name);
    }
    ss->has_creator = true;
    return 0;
}

void reg_lock(struct fin_serve *svc)
{
    pthread_mutex_lock(&svc->mu);
    reg_reap_locked(svc);
}

void reg_unlock(struct fin_serve *svc)
{
    pthread_mutex_unlock(&svc->mu);
}

/* ---- create and destroy ---- */

int fin_serve_create(struct fin_serve **out, const struct fin_serve_config *cfg)
{
    char **names = NULL;
    size_t n = 0;
    int rc;
    struct fin_serve *svc = calloc(1, sizeof *svc);
    if (!svc)
        return FIN_ENOMEM;
    pthread_mutex_init(&svc->mu, NULL);
    pthread_mutex_init(&svc->sched_mu, NULL);
    pthread_mutex_init(&svc->collect_mu, NULL);
    pthread_cond_init(&svc->sched_cv, NULL);
    metrics_init(&svc->m);
    svc->cfg = *cfg;
    svc->clock = cfg->clock ? cfg->clock : fin_clock_real();
    snprintf(svc->account, sizeof svc->account, "%s", cfg->account ? cfg->account : "000000000000");
    snprintf(svc->region, sizeof svc->region, "%s", cfg->region ? cfg->region : "us-east-1");
    svc->data_dir = strdup(cfg->data_dir);
    svc->config_path = cfg->config_path ? strdup(cfg->config_path) : NULL;
    if (!svc->data_dir || (cfg->config_path && !svc->config_path) ||
        asprintf(&svc->meta_dir, "%s/serve/streams", cfg->data_dir) < 0) {
        svc->meta_dir = NULL;
        rc = FIN_ENOMEM;
        goto fail;
    }
    svc->cfg.data_dir = svc->data_dir;
    svc->cfg.config_path = svc->config_path;
    if ((rc = parse_keys(svc, cfg->access_keys)) || (rc = fin_mkdir_p(svc->meta_dir, 0755)))
        goto fail;
    svc->cfg.access_keys = NULL;
    char streams[4096];
    snprintf(streams, sizeof streams, "%s/streams", svc->data_dir);
    if ((rc = fin_mkdir_p(streams, 0755)) || (rc = fin_stream_list(svc->data_dir, &names, &n)))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        struct sstream *ss = sstream_new(names[i]);
        if (!ss) {
            rc = FIN_ENOMEM;
            goto fail;
        }
        meta_load(svc, ss);
        ss->next = svc->streams;
        svc->streams = ss;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    names = NULL;
    n = 0;
    if ((rc = firehose_start(svc)) || (rc = schedules_start(svc)))
        goto fail;
    *out = svc;
    return 0;
fail:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    fin_serve_destroy(svc);
    return rc;
}

void fin_serve_destroy(struct fin_serve *svc)
{
    if (!svc)
        return;
    /* collectors write to the streams and delivery workers read them: they stop first */
    schedules_stop(svc);
    firehose_stop(svc);
    /* streams still being made are finished first (their creators take the lock) */
    for (struct sstream *ss = svc->streams; ss; ss = ss->next)
        if (ss->has_creator) {
            pthread_join(ss->creator, NULL);
            ss->has_creator = false;
        }
    while (svc->streams) {
        struct sstream *ss = svc->streams;
        svc->streams = ss->next;
        reg_remove_data_locked(svc, ss);
        sstream_free(ss);
    }
    for (size_t i = 0; i < svc->n_keys; i++) {
        free(svc->keys[i].id);
        free(svc->keys[i].secret);
    }
    free(svc->keys);
    metrics_fini(&svc->m);
    pthread_mutex_destroy(&svc->mu);
    pthread_mutex_destroy(&svc->sched_mu);
    pthread_mutex_destroy(&svc->collect_mu);
    pthread_cond_destroy(&svc->sched_cv);
    free(svc->data_dir);
    free(svc->config_path);
    free(svc->meta_dir);
    free(svc);
}

/* ---- the entry point ---- */

#define KINESIS_SERVICE "Kinesis_20131202"
#define FIREHOSE_SERVICE "Firehose_20150804"
#define CT_JSON11 "application/x-amz-json-1.1"
#define CT_CBOR "application/x-amz-cbor-1.1"
#define CT_PLAIN_JSON "application/json"

struct key_lookup {
    struct fin_serve *svc;
    bool unknown;
};

static int lookup_key(void *ctx, const char *id, const char **secret)
{
    struct key_lookup *kl = ctx;
    for (size_t i = 0; i < kl->svc->n_keys; i++)
        if (strcmp(kl->svc->keys[i].id, id) == 0) {
            *secret = kl->svc->keys[i].secret;
            return 0;
        }
    kl->unknown = true;
    return FIN_ENOENT;
}

static const char *header(const struct fin_serve_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

/* The value of parameter name ("Credential") in an Authorization header, as AWS splits
 * it (on commas and spaces, then at '='), into out; false when absent or empty. */
static bool auth_param(const char *a, const char *name, char *out, size_t cap)
{
    const char *p = strchr(a, ' ');
    size_t n = strlen(name);
    while (p && *p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ", ");
        if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
            size_t vl = strcspn(p + n + 1, ", =");
            if (!vl)
                return false;
            snprintf(out, cap, "%.*s", (int)vl, p + n + 1);
            return true;
        }
        p += len;
    }
    return false;
}

/* The value of query argument name, or NULL. */
static const char *query_arg(const char *q, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = q; p && *p;) {
        size_t len = strcspn(p, "&");
        if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
            snprintf(out, cap, "%.*s", (int)(len - n - 1), p + n + 1);
            return out;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return NULL;
}

/* Authentication, in AWS's order and words: a signature in both the header and the
 * query string; none at all; the parts an Authorization header (or presigned query)
 * lacks, all named in one message; a credential scoped to another region or service.
 * With access keys configured the signature must then verify (SigV4: signed headers,
 * payload hash, X-Amz-Date within the allowed skew) by one of them; with none, any
 * complete one is accepted (the address is loopback unless the operator said
 * --insecure). service is the signing name the target's service expects ("kinesis",
 * "firehose"), or NULL for any. */
static int auth_check(struct fin_serve *svc, const struct fin_serve_request *req,
                      const char *service, struct fin_serve_response *resp)
{
    const char *a = req->authorization && *req->authorization ? req->authorization : NULL;
    char v[512], scope[512] = "";
    bool by_query = req->query && query_arg(req->query, "X-Amz-Algorithm", v, sizeof v);
    if (a && by_query) {
        fin_serve_error(svc, resp, 400, "InvalidSignatureException",
                        "Found both 'X-Amz-Algorithm' as a query-string param and "
                        "'Authorization' as HTTP header.");
        return FIN_EAUTH;
    }
    if (!a && !by_query) {
        fin_serve_error(svc, resp, 400, "MissingAuthenticationTokenException",
                        "Missing Authentication Token");
        return FIN_EAUTH;
    }
    struct fin_buf msg;
    fin_buf_init(&msg);
    if (a) {
        static const char *params[] = {"Credential", "Signature", "SignedHeaders"};
        for (int i = 0; i < 3; i++)
            if (!auth_param(a, params[i], i == 0 ? scope : v, sizeof v))
                fin_buf_printf(&msg, "Authorization header requires '%s' parameter. ", params[i]);
        if (!header(req, "X-Amz-Date") && !header(req, "Date"))
            fin_buf_puts(&msg, "Authorization header requires existence of either a "
                               "'X-Amz-Date' or a 'Date' header. ");
        if (msg.len)
            fin_buf_printf(&msg, "Authorization=%s", a);
    } else {
        static const char *params[] = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature",
                                       "X-Amz-SignedHeaders", "X-Amz-Date"};
        for (int i = 0; i < 5; i++)
            if (!query_arg(req->query, params[i], i == 1 ? scope : v, sizeof v) ||
                !(i == 1 ? scope : v)[0])
                fin_buf_printf(&msg, "AWS query-string parameters must include '%s'. ",
                               params[i]);
        if (msg.len)
            fin_buf_puts(&msg, "Re-examine the query-string parameters.");
    }
    if (msg.len) {
        fin_serve_error(svc, resp, 400, "IncompleteSignatureException", "%s",
                        fin_buf_cstr(&msg) ? msg.data : "");
        fin_buf_fini(&msg);
        return FIN_EAUTH;
    }
    fin_buf_fini(&msg);
    /* ID/DATE/REGION/SERVICE/aws4_request */
    char *parts[5] = {0}, *save = NULL;
    int np = 0;
    for (char *t = strtok_r(scope, "/", &save); t && np < 5; t = strtok_r(NULL, "/", &save))
        parts[np++] = t;
    if (np == 5 && strcmp(parts[2], svc->region) != 0) {
        fin_serve_error(svc, resp, 400, "InvalidSignatureException",
                        "Credential should be scoped to a valid region. ");
        return FIN_EAUTH;
    }
    if (np == 5 && service && strcmp(parts[3], service) != 0) {
        fin_serve_error(svc, resp, 400, "InvalidSignatureException",
                        "Credential should be scoped to correct service: '%s'. ", service);
        return FIN_EAUTH;
    }
    if (np != 5 || strcmp(parts[4], "aws4_request") != 0) {
        fin_serve_error(svc, resp, 400, "IncompleteSignatureException",
                        "Credential must have exactly 5 slash-delimited elements, e.g. "
                        "keyid/date/region/service/term, got '%s'", scope);
        return FIN_EAUTH;
    }
    if (svc->n_keys == 0)
        return 0;
    if (by_query) {
        /* presigned requests carry no body hash of their own: not accepted with keys */
        fin_serve_error(svc, resp, 400, "InvalidSignatureException",
                        "Query-string (presigned) authentication is not accepted by this "
                        "endpoint when access keys are configured; sign the Authorization "
                        "header.");
        return FIN_EAUTH;
    }
    const char *date = header(req, "X-Amz-Date");
    int64_t t, now_s = fin_now_ns(svc->clock) / FIN_NS_PER_SEC;
    if (!date || fin_sigv4_parse_date(date, &t) != 0) {
        fin_serve_error(svc, resp, 400, "IncompleteSignatureException",
                        "Date must be in ISO-8601 'basic format'. Got '%s'. See "
                        "http://en.wikipedia.org/wiki/ISO_8601", date ? date : "");
        return FIN_EAUTH;
    }
    int64_t skew = svc->cfg.max_skew_ms / 1000;
    if (t < now_s - skew || t > now_s + skew) {
        char now_txt[FIN_SIGV4_DATE_LEN + 1], lim[FIN_SIGV4_DATE_LEN + 1];
        fin_sigv4_format_date(now_s, now_txt);
        fin_sigv4_format_date(t < now_s ? now_s - skew : now_s + skew, lim);
        fin_serve_error(svc, resp, 400, "InvalidSignatureException",
                        "Signature %s: %s is now %s than %s (%s %c %lld min.)",
                        t < now_s ? "expired" : "not yet current", date,
                        t < now_s ? "earlier" : "later", lim, now_txt, t < now_s ? '-' : '+',
                        (long long)(skew / 60));
        return FIN_EAUTH;
    }
    struct fin_aws_header hs[FIN_SIGV4_MAX_HEADERS];
    size_t n = 0;
    for (size_t i = 0; i < req->n_headers && n < FIN_SIGV4_MAX_HEADERS; i++)
        hs[n++] = (struct fin_aws_header){req->headers[i].name, req->headers[i].value};
    struct fin_sigv4_request sr = {
        .method = req->method, .path = req->path, .query = req->query, .headers = hs,
        .n_headers = n, .payload = req->body, .payload_len = req->body_len,
        .payload_hash = header(req, "X-Amz-Content-Sha256"),
    };
    struct key_lookup kl = {svc, false};
    int rc = fin_sigv4_verify(&sr, false, lookup_key, &kl, now_s, skew, NULL);
    if (rc == 0)
        return 0;
    if (kl.unknown)
        fin_serve_error(svc, resp, 400, "UnrecognizedClientException",
                        "The security token included in the request is invalid.");
    else
        fin_serve_error(svc, resp, 400, "InvalidSignatureException",
                        "The request signature we calculated does not match the signature you "
                        "provided. Check your AWS Secret Access Key and signing method. Consult "
                        "the service documentation for details. (%s)", fin_err_msg());
    return FIN_EAUTH;
}

/* An answer in the encoding of the request: CBOR for CBOR. */
static void to_cbor(struct fin_serve_response *resp)
{
    char *out;
    size_t len;
    if (!resp->body) {
        resp->content_type = CT_CBOR;
        return;
    }
    if (json_text_to_cbor(resp->body, resp->body_len, &out, &len))
        return;
    free(resp->body);
    resp->body = out;
    resp->body_len = len;
    resp->content_type = CT_CBOR;
}

/* application/json: AWS answers in its Coral wrapper, {"Output": {"__type":
 * "com.amazon.coral.service#T"}, "Version": "1.0"}. */
static void coral_wrapped(struct fin_serve *svc, struct fin_serve_response *resp, int status,
                          const char *type)
{
    char t[128];
    snprintf(t, sizeof t, "com.amazon.coral.service#%s", type);
    json_t *o = json_pack("{s:{s:s}, s:s}", "Output", "__type", t, "Version", "1.0");
    respond_value(svc, resp, o);
    resp->status = status;
    resp->content_type = CT_PLAIN_JSON;
}

static void add_header(struct fin_serve_response *resp, const char *name, const char *value)
{
    if (value && resp->n_extra < sizeof resp->extra / sizeof resp->extra[0])
        resp->extra[resp->n_extra++] = (struct fin_serve_header){name, value};
}

/* GET /metrics: with access keys, only for signed requests. */
static void metrics_get(struct fin_serve *svc, const struct fin_serve_request *req,
                        struct fin_serve_response *resp)
{
    if (svc->n_keys && auth_check(svc, req, NULL, resp))
        return;
    char *text = NULL;
    size_t len = 0;
    if (fin_serve_metrics(svc, &text, &len)) {
        fin_serve_error(svc, resp, 500, "InternalFailure", "out of memory");
        return;
    }
    free(resp->body);
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4";
    resp->body = text;
    resp->body_len = len;
}

/* The request pipeline, in the order AWS's JSON services apply it (kinesalite records it
 * from the live service): CORS; the method; an empty body; the content type; the body's
 * syntax; application/json's wrapper; the target; authentication; then the operation,
 * which checks its input against the model before anything else. The path of a POST is
 * not looked at, as AWS does not. */
void fin_serve_handle(struct fin_serve *svc, const struct fin_serve_request *req,
                      struct fin_serve_response *resp)
{
    memset(resp, 0, sizeof *resp);
    atomic_fetch_add(&svc->m.requests, 1);
    const char *method = req->method ? req->method : "";
    const char *path = req->path ? req->path : "/";
    if (strcmp(method, "POST") == 0 && lambda_path(path)) {
        if (auth_check(svc, req, "lambda", resp) == 0)
            lambda_invoke(svc, req, resp);
        return;
    }
    if (strcmp(method, "GET") == 0 && strcmp(path, "/metrics") == 0) {
        metrics_get(svc, req, resp);
        return;
    }
    const char *origin = header(req, "Origin");
    if (origin && strcmp(method, "OPTIONS") == 0) {
        new_request_ids(resp);
        resp->id2[0] = 0;
        resp->status = 200;
        add_header(resp, "Access-Control-Allow-Origin", "*");
        add_header(resp, "Access-Control-Allow-Headers",
                   header(req, "Access-Control-Request-Headers"));
        add_header(resp, "Access-Control-Allow-Methods",
                   header(req, "Access-Control-Request-Method"));
        add_header(resp, "Access-Control-Max-Age", "172800");
        return;
    }
    if (strcmp(method, "POST") != 0) {
        serve_error_xml(svc, resp, 403, "AccessDeniedException",
                        "Unable to determine service/operation name to be authorized");
        goto cors;
    }

    /* Content-Type without parameters */
    char ct[64] = "";
    if (req->content_type) {
        const char *p = req->content_type;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, ";");
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n < sizeof ct)
            snprintf(ct, sizeof ct, "%.*s", (int)n, p);
    }
    bool json11 = strcmp(ct, CT_JSON11) == 0, cbor = strcmp(ct, CT_CBOR) == 0;
    bool plain_json = strcmp(ct, CT_PLAIN_JSON) == 0;

    /* X-Amz-Target: SERVICE.Operation */
    char service[64] = "", op[128] = "";
    if (req->target) {
        size_t sl = strcspn(req->target, ".");
        if (sl < sizeof service)
            snprintf(service, sizeof service, "%.*s", (int)sl, req->target);
        if (req->target[sl] == '.') {
            const char *o = req->target + sl + 1;
            size_t ol = strcspn(o, ".");
            if (ol < sizeof op)
                snprintf(op, sizeof op, "%.*s", (int)ol, o);
        }
    }
    bool kinesis = strcmp(service, KINESIS_SERVICE) == 0;
    bool firehose = strcmp(service, FIREHOSE_SERVICE) == 0;
    bool known = (kinesis && kinesis_has_op(op)) || (firehose && op[0]);

    if (!req->body_len) {
        serve_error_body(svc, resp, 400, known ? "SerializationException"
                                                : "UnknownOperationException", NULL, NULL);
        if (!json11)
            to_cbor(resp);
        goto cors;
    }
    if (!json11 && !cbor && !plain_json) {
        if (!service[0] || !op[0])
            serve_error_xml(svc, resp, 403, "AccessDeniedException",
                            "Unable to determine service/operation name to be authorized");
        else
            serve_error_xml(svc, resp, 404, "UnknownOperationException", NULL);
        goto cors;
    }

    /* PutRecords of the usual shape skips the tree; it answers only well-formed bodies,
     * so the order of the checks is kept by authenticating first. */
    if (json11 && kinesis && strcmp(op, "PutRecords") == 0) {
        struct fin_serve_response tmp;
        memset(&tmp, 0, sizeof tmp);
        int arc = auth_check(svc, req, "kinesis", &tmp);
        fin_serve_response_fini(&tmp);
        if (arc == 0 && kinesis_put_records_fast(svc, req->body, req->body_len, resp))
            goto cors;
        fin_serve_response_fini(resp);
        memset(resp, 0, sizeof *resp);
    }

    json_t *body = NULL;
    if (cbor) {
        if (cbor_to_json(req->body, req->body_len, &body))
            body = NULL;
    } else {
        json_error_t jerr;
        body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
        if (!body)  /* integers beyond 64 bits are read as numbers, as AWS reads them */
            body = json_loadb(req->body, req->body_len,
                              JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
    }
    if (body && json_is_array(body)) {
        /* a list where an object belongs has no members: the operation sees none */
        json_decref(body);
        body = json_object();
    }
    if (!body || !json_is_object(body)) {
        json_decref(body);
        if (plain_json)
            coral_wrapped(svc, resp, 400, "SerializationException");
        else
            serve_error_body(svc, resp, 400, "SerializationException", NULL, NULL);
        if (cbor)
            to_cbor(resp);
        goto cors;
    }
    if (plain_json) {
        json_decref(body);
        coral_wrapped(svc, resp, 404, "UnknownOperationException");
        goto cors;
    }
    if (!known) {
        json_decref(body);
        serve_error_body(svc, resp, 400, "UnknownOperationException", NULL, NULL);
        if (cbor)
            to_cbor(resp);
        goto cors;
    }
    if (auth_check(svc, req, kinesis ? "kinesis" : "firehose", resp) == 0) {
        if (firehose)
            firehose_dispatch(svc, req, op, body, resp);
        else
            kinesis_dispatch(svc, op, body, resp);
    }
    json_decref(body);
    if (cbor)
        to_cbor(resp);
cors:
    if (origin) {
        add_header(resp, "Access-Control-Allow-Origin", "*");
        add_header(resp, "Access-Control-Expose-Headers",
                   "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,"
                   "x-amzn-ErrorMessage,Date");
    }
}
