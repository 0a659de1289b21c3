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
    if ((rc = fin_mkdir_p(svc->meta_dir, 0755)))
        goto fail;
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
    while (svc->streams) {
        struct sstream *ss = svc->streams;
        svc->streams = ss->next;
        reg_remove_data_locked(svc, ss);
        sstream_free(ss);
    }
    metrics_fini(&svc->m);
    pthread_mutex_destroy(&svc->mu);
    free(svc->data_dir);
    free(svc->config_path);
    free(svc->meta_dir);
    free(svc);
}

/* ---- the entry point ---- */

#define KINESIS_PREFIX "Kinesis_20131202."

/* With no access keys configured any well-formed SigV4 Authorization header is
 * accepted (the address is loopback unless the operator said --insecure); a missing or
 * malformed one gets the error AWS gives, so clients without credentials notice here
 * rather than against the real service. */
static int auth_check(struct fin_serve *svc, const struct fin_serve_request *req,
                      struct fin_serve_response *resp)
{
    const char *a = req->authorization;
    if (!a || !*a) {
        fin_serve_error(svc, resp, 400, "MissingAuthenticationTokenException",
                        "Missing Authentication Token");
        return FIN_EINVAL;
    }
    static const char *parts[] = {"Credential=", "SignedHeaders=", "Signature="};
    if (strncmp(a, "AWS4-HMAC-SHA256 ", 17) != 0) {
        fin_serve_error(svc, resp, 400, "IncompleteSignatureException",
                        "Authorization header must use the AWS4-HMAC-SHA256 algorithm.");
        return FIN_EINVAL;
    }
    for (int i = 0; i < 3; i++)
        if (!strstr(a, parts[i])) {
            fin_serve_error(svc, resp, 400, "IncompleteSignatureException",
                            "Authorization header requires '%.*s' parameter. Authorization=%s",
                            (int)strlen(parts[i]) - 1, parts[i], a);
            return FIN_EINVAL;
        }
    return 0;
}

void fin_serve_handle(struct fin_serve *svc, const struct fin_serve_request *req,
                      struct fin_serve_response *resp)
{
    memset(resp, 0, sizeof *resp);
    atomic_fetch_add(&svc->m.requests, 1);
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
    if (req->content_type && strncasecmp(req->content_type, "application/x-amz-cbor", 22) == 0) {
        fin_serve_error(svc, resp, 415, "SerializationException",
                        "CBOR bodies are not supported; send application/x-amz-json-1.1");
        return;
    }
    const char *op = NULL;
    if (strncmp(req->target, KINESIS_PREFIX, strlen(KINESIS_PREFIX)) == 0)
        op = req->target + strlen(KINESIS_PREFIX);
    if (!op) {
        fin_serve_error(svc, resp, 400, "UnknownOperationException", "unknown target %s",
                        req->target);
        return;
    }
    if (strcmp(op, "PutRecords") == 0 && kinesis_put_records_fast(svc, req->body, req->body_len, resp))
        return;
    json_error_t jerr;
    json_t *body = req->body_len ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr)
                                 : json_object();
    if (!body || !json_is_object(body)) {
        if (body)
            fin_serve_error(svc, resp, 400, "SerializationException",
                            "the request body is not a JSON object");
        else
            fin_serve_error(svc, resp, 400, "SerializationException",
                            "malformed JSON at line %d column %d: %s", jerr.line, jerr.column,
                            jerr.text);
        json_decref(body);
        return;
    }
    kinesis_dispatch(svc, op, body, resp);
    json_decref(body);
}
