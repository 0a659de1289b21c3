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
    json_t *o = json_pack("{s:I, s:I, s:O}", "created", (json_int_t)ss->created_s,
                          "retention_hours", (json_int_t)ss->retention_h, "tags", ss->tags);
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
    fin_stream_close(ss->st);
    json_decref(ss->tags);
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
        if (ss->gone && ss->refs == 0 && now >= ss->until_ms) {
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
    if (!ss->gone || ss->refs > 0)
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
    if (!ss || ss->gone || (need_active && st == ST_CREATING)) {
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

#define KINESIS_PREFIX "Kinesis_20131202."
#define FIREHOSE_PREFIX "Firehose_20150804."

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

/* With access keys configured, the request must be signed by one of them (SigV4:
 * credential scope, signed headers, payload hash, X-Amz-Date within the allowed skew).
 * With none, any well-formed SigV4 Authorization header is accepted (the address is
 * loopback unless the operator said --insecure). Either way a missing or malformed one
 * gets the error AWS gives, so clients without credentials notice here rather than
 * against the real service. */
static int auth_check(struct fin_serve *svc, const struct fin_serve_request *req,
                      struct fin_serve_response *resp)
{
    const char *a = req->authorization;
    if (!a || !*a) {
        fin_serve_error(svc, resp, 400, "MissingAuthenticationTokenException",
                        "Missing Authentication Token");
        return FIN_EAUTH;
    }
    static const char *parts[] = {"Credential=", "SignedHeaders=", "Signature="};
    if (strncmp(a, "AWS4-HMAC-SHA256 ", 17) != 0) {
        fin_serve_error(svc, resp, 400, "IncompleteSignatureException",
                        "Authorization header must use the AWS4-HMAC-SHA256 algorithm.");
        return FIN_EAUTH;
    }
    for (int i = 0; i < 3; i++)
        if (!strstr(a, parts[i])) {
            fin_serve_error(svc, resp, 400, "IncompleteSignatureException",
                            "Authorization header requires '%.*s' parameter. Authorization=%s",
                            (int)strlen(parts[i]) - 1, parts[i], a);
            return FIN_EAUTH;
        }
    if (svc->n_keys == 0)
        return 0;

    const char *date = header(req, "X-Amz-Date");
    int64_t t, now_s = fin_now_ns(svc->clock) / FIN_NS_PER_SEC;
    if (!date || fin_sigv4_parse_date(date, &t) != 0) {
        fin_serve_error(svc, resp, 400, "IncompleteSignatureException",
                        "Authorization header requires existence of either a 'X-Amz-Date' or a "
                        "'Date' header.");
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

/* A CBOR request gets its answer in CBOR. */
static void to_cbor(struct fin_serve_response *resp)
{
    char *out;
    size_t len;
    if (!resp->body || json_text_to_cbor(resp->body, resp->body_len, &out, &len))
        return;
    free(resp->body);
    resp->body = out;
    resp->body_len = len;
    resp->content_type = "application/x-amz-cbor-1.1";
}

void fin_serve_handle(struct fin_serve *svc, const struct fin_serve_request *req,
                      struct fin_serve_response *resp)
{
    memset(resp, 0, sizeof *resp);
    atomic_fetch_add(&svc->m.requests, 1);
    if (req->method && strcmp(req->method, "POST") == 0 && req->path && lambda_path(req->path)) {
        if (auth_check(svc, req, resp) == 0)
            lambda_invoke(svc, req, resp);
        return;
    }
    if (!req->method || strcmp(req->method, "POST") != 0 || !req->path ||
        strcmp(req->path, "/") != 0) {
        fin_serve_error(svc, resp, 404, "UnknownOperationException", "no action at %s %s",
                        req->method ? req->method : "?", req->path ? req->path : "?");
        return;
    }
    if (auth_check(svc, req, resp))
        return;
    if (!req->target || !*req->target) {
        fin_serve_error(svc, resp, 400, "UnknownOperationException",
                        "the request has no X-Amz-Target header");
        return;
    }
    bool cbor = req->content_type &&
                strncasecmp(req->content_type, "application/x-amz-cbor", 22) == 0;
    const char *op = NULL;
    bool firehose = false;
    if (strncmp(req->target, KINESIS_PREFIX, strlen(KINESIS_PREFIX)) == 0) {
        op = req->target + strlen(KINESIS_PREFIX);
    } else if (strncmp(req->target, FIREHOSE_PREFIX, strlen(FIREHOSE_PREFIX)) == 0) {
        op = req->target + strlen(FIREHOSE_PREFIX);
        firehose = true;
    }
    if (!op) {
        fin_serve_error(svc, resp, 400, "UnknownOperationException", "unknown target %s",
                        req->target);
        return;
    }
    if (!cbor && !firehose && strcmp(op, "PutRecords") == 0 &&
        kinesis_put_records_fast(svc, req->body, req->body_len, resp))
        return;
    json_error_t jerr;
    json_t *body = NULL;
    if (cbor) {
        if (!req->body_len)
            body = json_object();
        else if (cbor_to_json(req->body, req->body_len, &body))
            body = NULL;
        if (!body || !json_is_object(body)) {
            fin_serve_error(svc, resp, 400, "SerializationException",
                            "the request body is not a CBOR map");
            json_decref(body);
            to_cbor(resp);
            return;
        }
    } else {
        body = req->body_len ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr)
                             : json_object();
        if (!body || !json_is_object(body)) {
            if (body)
                fin_serve_error(svc, resp, 400, "SerializationException",
                                "the request body is not a JSON object");
            else
                fin_serve_error(svc, resp, 400, "SerializationException",
                                "malformed JSON at line %d column %d: %s", jerr.line,
                                jerr.column, jerr.text);
            json_decref(body);
            return;
        }
    }
    if (firehose)
        firehose_dispatch(svc, req, op, body, resp);
    else
        kinesis_dispatch(svc, op, body, resp);
    json_decref(body);
    if (cbor)
        to_cbor(resp);
}
