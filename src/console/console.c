/* console.c - the console's lifecycle, who may use it, and the routing of requests.
 *
 * Access is decided before any route runs (console_authorize): the Host header must name
 * this listener (a page on another site that rebinds a name to 127.0.0.1 is refused),
 * and a POST must come from this origin and carry the CSRF token: the console's own when
 * it is open, the session's when it asks for keys. A script may instead send the token
 * printed at start as "Authorization: Bearer TOKEN", which no other page can know, so it
 * needs no CSRF token. Sessions are random 256-bit cookies (HttpOnly, SameSite=Strict)
 * kept in memory; they end with the process or after 12 hours. */
#include "internal.h"

#include "finstream/error.h"
#include "finstream/log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#define SESSION_TTL_S (12 * 3600)
#define MAX_SESSIONS 256

void fin_console_config_defaults(struct fin_console_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = "127.0.0.1:8080";
    cfg->refresh_ms = 1000;
    cfg->max_connections = 64;
}

int64_t now_ms_real(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void iso_time(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

bool url_decode(const char *s, char *out, size_t cap)
{
    size_t k = 0;
    for (; *s; s++) {
        if (k + 1 >= cap)
            return false;
        if (*s == '%') {
            if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2]))
                return false;
            char hex[3] = {s[1], s[2], 0};
            out[k++] = (char)strtol(hex, NULL, 16);
            s += 2;
        } else {
            out[k++] = *s == '+' ? ' ' : *s;
        }
    }
    out[k] = 0;
    return true;
}

static int random_hex(char *out, size_t bytes)
{
    unsigned char raw[64];
    if (bytes > sizeof raw)
        return FIN_EINVAL;
    size_t got = 0;
    while (got < bytes) {
        ssize_t n = getrandom(raw + got, bytes - got, 0);
        if (n < 0)
            return fin_err_errno(errno, "getrandom", "");
        got += (size_t)n;
    }
    for (size_t i = 0; i < bytes; i++)
        sprintf(out + 2 * i, "%02x", raw[i]);
    return 0;
}

/* Compares without stopping at the first difference. */
static bool same_secret(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

/* "ID:SECRET" pairs separated by commas or spaces, as [serve] access_keys. */
static int parse_keys(struct fin_console *c, const char *text)
{
    char *copy = strdup(text), *save = NULL;
    if (!copy)
        return FIN_ENOMEM;
    int rc = 0;
    for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon || colon == tok || !colon[1]) {
            rc = fin_err_set(FIN_EINVAL, "access_keys: '%s' is not ID:SECRET", tok);
            break;
        }
        struct ckey *k = realloc(c->keys, (c->n_keys + 1) * sizeof *k);
        if (!k) {
            rc = FIN_ENOMEM;
            break;
        }
        c->keys = k;
        *colon = 0;
        k[c->n_keys].id = strdup(tok);
        k[c->n_keys].secret = strdup(colon + 1);
        c->n_keys++;
        if (!k[c->n_keys - 1].id || !k[c->n_keys - 1].secret) {
            rc = FIN_ENOMEM;
            break;
        }
    }
    free(copy);
    return rc;
}

int fin_console_start(struct fin_console **out, const struct fin_console_config *cfg)
{
    *out = NULL;
    struct fin_console *c = calloc(1, sizeof *c);
    if (!c)
        return FIN_ENOMEM;
    pthread_mutex_init(&c->sess_mu, NULL);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    pthread_mutex_init(&c->q_mu, NULL);
    pthread_cond_init(&c->q_cv, NULL);
    c->cfg = *cfg;
    int rc = FIN_ENOMEM;
    if (!cfg->data_dir) {
        rc = fin_err_set(FIN_EINVAL, "console: no data directory");
        goto fail;
    }
    if (!(c->data_dir = strdup(cfg->data_dir)) ||
        !(c->listen = strdup(cfg->listen ? cfg->listen : "127.0.0.1:8080")))
        goto fail;
    if (cfg->config_path && !(c->config_path = strdup(cfg->config_path)))
        goto fail;
    c->cfg.data_dir = c->data_dir;
    c->cfg.config_path = c->config_path;
    c->cfg.listen = c->listen;
    c->cfg.access_keys = NULL;
    if (c->cfg.refresh_ms <= 0)
        c->cfg.refresh_ms = 1000;
    if (!c->cfg.max_connections)
        c->cfg.max_connections = 64;
    if (cfg->access_keys && *cfg->access_keys && (rc = parse_keys(c, cfg->access_keys)))
        goto fail;
    c->login_required = c->n_keys > 0;
    if ((rc = random_hex(c->token, 32)) || (rc = random_hex(c->csrf, 32)))
        goto fail;
    if ((rc = sampler_start(c)))
        goto fail;
    if ((rc = console_http_start(c, &c->http, &c->port)))
        goto fail;
    *out = c;
    return 0;
fail:
    fin_console_stop(c);
    return rc;
}

int fin_console_port(const struct fin_console *c) { return c->port; }

const char *fin_console_token(const struct fin_console *c) { return c->token; }

bool fin_console_login_required(const struct fin_console *c) { return c->login_required; }

void fin_console_stop(struct fin_console *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    console_http_stop(c->http);
    sampler_stop(c);
    jobs_fini(c);
    free(c->snapshot);
    for (size_t i = 0; i < c->n_keys; i++) {
        free(c->keys[i].id);
        free(c->keys[i].secret);
    }
    free(c->keys);
    free(c->sessions);
    free(c->data_dir);
    free(c->config_path);
    free(c->listen);
    pthread_mutex_destroy(&c->sess_mu);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->q_mu);
    pthread_cond_destroy(&c->q_cv);
    free(c);
}

/* ---- answers ---- */

void resp_json(struct cresp *r, int status, json_t *v)
{
    r->status = status;
    r->content_type = "application/json";
    fin_buf_reset(&r->body);
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!text || fin_buf_puts(&r->body, text)) {
        r->status = 500;
        fin_buf_reset(&r->body);
        fin_buf_puts(&r->body, "{\"error\":\"internal\",\"message\":\"out of memory\"}");
    }
    free(text);
}

void resp_error(struct cresp *r, int status, const char *code, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    resp_json(r, status, json_pack("{s:s,s:s}", "error", code, "message", msg));
}

void resp_fin_error(struct cresp *r, int rc)
{
    int status = 500;
    const char *code = "internal";
    switch (rc) {
    case FIN_EINVAL: case FIN_EPARSE: case FIN_ELIMIT: case FIN_ECONFIG:
        status = 400, code = "invalid";
        break;
    case FIN_ENOENT:
        status = 404, code = "not_found";
        break;
    case FIN_EEXIST:
        status = 409, code = "exists";
        break;
    case FIN_EBUSY:
        status = 409, code = "busy";
        break;
    case FIN_ESQL:
        status = 400, code = "sql";
        break;
    case FIN_EAUTH:
        status = 401, code = "unauthorized";
        break;
    default:
        break;
    }
    const char *m = fin_err_msg();
    resp_error(r, status, code, "%s", m && *m ? m : fin_strerror(rc));
}

json_t *req_json(const struct creq *q, struct cresp *r)
{
    json_error_t err;
    json_t *v = json_loadb(q->body ? q->body : "", q->body_len, 0, &err);
    if (!v || !json_is_object(v)) {
        json_decref(v);
        resp_error(r, 400, "invalid", "request body: expected a JSON object (line %d: %s)",
                   err.line, v ? "not an object" : err.text);
        return NULL;
    }
    return v;
}

long long req_arg_int(const struct creq *q, const char *name, long long def)
{
    const char *s = q->arg(q->arg_ctx, name);
    if (!s || !*s)
        return def;
    char *end;
    long long v = strtoll(s, &end, 10);
    return *end || v < 0 ? -1 : v;
}

/* ---- sessions ---- */

static void sessions_reap_locked(struct fin_console *c, int64_t now_s)
{
    size_t k = 0;
    for (size_t i = 0; i < c->n_sessions; i++)
        if (c->sessions[i].expires_s > now_s)
            c->sessions[k++] = c->sessions[i];
    c->n_sessions = k;
}

bool console_session_csrf(struct fin_console *c, const char *id, char csrf[65])
{
    bool ok = false;
    int64_t now_s = now_ms_real() / 1000;
    pthread_mutex_lock(&c->sess_mu);
    sessions_reap_locked(c, now_s);
    for (size_t i = 0; i < c->n_sessions && !ok; i++)
        if (same_secret(c->sessions[i].id, id)) {
            memcpy(csrf, c->sessions[i].csrf, 65);
            ok = true;
        }
    pthread_mutex_unlock(&c->sess_mu);
    return ok;
}

static int session_new(struct fin_console *c, struct csession *out)
{
    int rc = random_hex(out->id, 32);
    if (!rc)
        rc = random_hex(out->csrf, 32);
    if (rc)
        return rc;
    int64_t now_s = now_ms_real() / 1000;
    out->expires_s = now_s + SESSION_TTL_S;
    pthread_mutex_lock(&c->sess_mu);
    sessions_reap_locked(c, now_s);
    if (c->n_sessions == MAX_SESSIONS) {   /* the oldest gives way */
        memmove(c->sessions, c->sessions + 1, (MAX_SESSIONS - 1) * sizeof *c->sessions);
        c->n_sessions--;
    }
    struct csession *v = c->n_sessions ? c->sessions : NULL;
    v = realloc(c->sessions, (c->n_sessions + 1) * sizeof *v);
    if (!v) {
        pthread_mutex_unlock(&c->sess_mu);
        return FIN_ENOMEM;
    }
    c->sessions = v;
    v[c->n_sessions++] = *out;
    pthread_mutex_unlock(&c->sess_mu);
    return 0;
}

static void session_drop(struct fin_console *c, const char *id)
{
    pthread_mutex_lock(&c->sess_mu);
    for (size_t i = 0; i < c->n_sessions; i++)
        if (strcmp(c->sessions[i].id, id) == 0) {
            c->sessions[i] = c->sessions[--c->n_sessions];
            break;
        }
    pthread_mutex_unlock(&c->sess_mu);
}

/* ---- authorization ---- */

/* The host part of a Host header or an origin's authority, lower-cased, without port. */
static void host_only(const char *h, char *out, size_t cap)
{
    size_t k = 0;
    if (*h == '[') {                        /* [::1]:8080 */
        for (h++; *h && *h != ']' && k + 1 < cap; h++)
            out[k++] = (char)tolower((unsigned char)*h);
    } else {
        for (; *h && *h != ':' && *h != '/' && k + 1 < cap; h++)
            out[k++] = (char)tolower((unsigned char)*h);
    }
    out[k] = 0;
}

static bool host_allowed(struct fin_console *c, const char *host)
{
    char h[256], mine[256];
    host_only(host, h, sizeof h);
    if (strcmp(h, "localhost") == 0 || strcmp(h, "::1") == 0)
        return true;
    struct in_addr a;
    if (inet_pton(AF_INET, h, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127)
        return true;
    /* a console on another address answers to that address */
    host_only(c->listen, mine, sizeof mine);
    return strcmp(h, mine) == 0 && strcmp(mine, "0.0.0.0") != 0;
}

static const char *cookie_value(const char *cookies, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = cookies; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            p += nl + 1;
            size_t k = 0;
            while (*p && *p != ';' && k + 1 < cap)
                out[k++] = *p++;
            out[k] = 0;
            return out;
        }
        p = strchr(p, ';');
    }
    return NULL;
}

int console_authorize(struct fin_console *c, const char *method, const char *path,
                      const struct console_hdrs *h, bool *session_ok, struct cresp *r)
{
    *session_ok = false;
    if (!h->host || !host_allowed(c, h->host)) {
        resp_error(r, 403, "forbidden_host",
                   "Host '%s' is not this console's address; open it as http://127.0.0.1:PORT/",
                   h->host ? h->host : "");
        return -1;
    }
    bool post = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
    if (post && h->origin && strcmp(h->origin, "null") != 0) {
        const char *o = strstr(h->origin, "://");
        o = o ? o + 3 : h->origin;
        if (strcasecmp(o, h->host) != 0) {
            resp_error(r, 403, "forbidden_origin", "requests from %s are not accepted", h->origin);
            return -1;
        }
    }
    bool bearer = h->authorization && strncasecmp(h->authorization, "Bearer ", 7) == 0 &&
                  same_secret(h->authorization + 7, c->token);
    char csrf[65] = "";
    bool have_session = false;
    if (bearer) {
        *session_ok = true;
    } else if (!c->login_required) {
        *session_ok = true;
        memcpy(csrf, c->csrf, sizeof csrf);
    } else {
        char id[80];
        if (h->cookie && cookie_value(h->cookie, "fc_session", id, sizeof id) &&
            console_session_csrf(c, id, csrf))
            *session_ok = have_session = true;
    }
    (void)have_session;
    bool open_path = strcmp(path, "/api/session") == 0 || strcmp(path, "/api/login") == 0 ||
                     strncmp(path, "/api/", 5) != 0;
    if (!*session_ok && !open_path) {
        resp_error(r, 401, "login_required",
                   "this console asks for an access key or its token: log in first");
        return -1;
    }
    if (post && !bearer && strcmp(path, "/api/login") != 0 &&
        (!h->csrf || !*csrf || !same_secret(h->csrf, csrf))) {
        resp_error(r, 403, "csrf",
                   "a state-changing request needs the X-CSRF-Token header "
                   "(from GET /api/session) or an Authorization: Bearer token");
        return -1;
    }
    return 0;
}

/* ---- routes of the console itself ---- */

static void route_session(struct fin_console *c, const struct creq *q, const struct console_hdrs *h,
                          struct cresp *r)
{
    (void)q;
    char csrf[65] = "";
    bool authed = false;
    if (!c->login_required) {
        authed = true;
        memcpy(csrf, c->csrf, sizeof csrf);
    } else {
        char id[80];
        authed = h->cookie && cookie_value(h->cookie, "fc_session", id, sizeof id) &&
                 console_session_csrf(c, id, csrf);
    }
    json_t *v = json_pack("{s:b,s:b,s:s,s:s,s:I}", "login_required", c->login_required,
                          "authenticated", authed, "version", FIN_VERSION, "data_dir",
                          c->data_dir, "refresh_ms", (json_int_t)c->cfg.refresh_ms);
    if (v && authed)
        json_object_set_new(v, "csrf", json_string(csrf));
    resp_json(r, 200, v);
}

static void route_login(struct fin_console *c, const struct creq *q, struct cresp *r)
{
    json_t *b = req_json(q, r);
    if (!b)
        return;
    const char *token = json_string_value(json_object_get(b, "token"));
    const char *id = json_string_value(json_object_get(b, "access_key_id"));
    const char *secret = json_string_value(json_object_get(b, "secret_access_key"));
    bool ok = false;
    if (token)
        ok = same_secret(token, c->token);
    else if (id && secret)
        for (size_t i = 0; i < c->n_keys; i++)
            ok |= same_secret(id, c->keys[i].id) && same_secret(secret, c->keys[i].secret);
    json_decref(b);
    if (!c->login_required) {
        resp_json(r, 200, json_pack("{s:s}", "csrf", c->csrf));
        return;
    }
    if (!ok) {
        resp_error(r, 401, "unauthorized", "%s", token ? "wrong token"
                   : id ? "unknown access key or wrong secret"
                        : "give token, or access_key_id and secret_access_key");
        return;
    }
    struct csession s;
    int rc = session_new(c, &s);
    if (rc) {
        resp_fin_error(r, rc);
        return;
    }
    snprintf(r->set_cookie, sizeof r->set_cookie,
             "fc_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d", s.id, SESSION_TTL_S);
    resp_json(r, 200, json_pack("{s:s}", "csrf", s.csrf));
}

static void route_logout(struct fin_console *c, const struct console_hdrs *h, struct cresp *r)
{
    char id[80];
    if (h->cookie && cookie_value(h->cookie, "fc_session", id, sizeof id))
        session_drop(c, id);
    snprintf(r->set_cookie, sizeof r->set_cookie, "fc_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    resp_json(r, 200, json_pack("{s:b}", "ok", 1));
}

static const char no_assets_page[] =
    "<!doctype html><meta charset=utf-8><title>finstream console</title>"
    "<body style='font:16px sans-serif;margin:3em'><h1>finstream console</h1>"
    "<p>This finstream was built without the console's page. Rebuild it from a "
    "complete source tree.</p>";

static void route_asset(const char *path, struct cresp *r)
{
    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0)
        path = "/index.html";
    const struct fin_console_asset *a = asset_find(path);
    if (!a && strcmp(path, "/index.html") == 0) {
        r->status = 200;
        r->content_type = "text/html; charset=utf-8";
        r->static_body = (const unsigned char *)no_assets_page;
        r->static_len = sizeof no_assets_page - 1;
        return;
    }
    if (!a) {
        if (strncmp(path, "/assets/lib/", 12) == 0) {
            /* The page checks for these and says how to get them. */
            resp_error(r, 404, "assets_missing",
                       "%s is not in this build: run scripts/web-assets.sh and rebuild", path);
            return;
        }
        resp_error(r, 404, "not_found", "no page at %s", path);
        return;
    }
    r->status = 200;
    r->content_type = a->content_type;
    r->static_body = a->data;
    r->static_len = a->len;
    r->cache = strncmp(path, "/assets/lib/", 12) == 0 ? "max-age=86400" : "no-cache";
}

const struct fin_console_asset *asset_find(const char *path)
{
    for (const struct fin_console_asset *a = fin_console_assets; a->path; a++)
        if (strcmp(a->path, path) == 0)
            return a;
    return NULL;
}

void console_route(struct fin_console *c, const struct creq *q, const struct console_hdrs *h,
                   struct cresp *r)
{
    const char *p = q->path;
    bool get = strcmp(q->method, "GET") == 0 || strcmp(q->method, "HEAD") == 0;
    if (strncmp(p, "/api/", 5) != 0) {
        if (strncmp(p, "/reports/", 9) == 0) {
            reports_static(c, q, r, p + 9);
            return;
        }
        if (!get) {
            resp_error(r, 405, "method", "%s %s: only GET here", q->method, p);
            return;
        }
        route_asset(p, r);
        return;
    }
    p += 5;
    if (strcmp(p, "session") == 0)
        route_session(c, q, h, r);
    else if (strcmp(p, "login") == 0 && !get)
        route_login(c, q, r);
    else if (strcmp(p, "logout") == 0 && !get)
        route_logout(c, h, r);
    else if (strcmp(p, "overview") == 0 && get)
        api_overview(c, q, r);
    else if (strcmp(p, "events") == 0 && get)
        r->events = true;
    else if (strncmp(p, "streams/", 8) == 0)
        api_stream(c, q, r, p + 8);
    else if (strcmp(p, "lake") == 0 || strncmp(p, "lake/", 5) == 0)
        api_lake(c, q, r, p[4] ? p + 5 : "");
    else if (strcmp(p, "catalog") == 0 || strncmp(p, "catalog/", 8) == 0)
        api_catalog(c, q, r, p[7] ? p + 8 : "");
    else if (strcmp(p, "queries") == 0 || strncmp(p, "queries/", 8) == 0)
        api_queries(c, q, r, p[7] ? p + 8 : "");
    else if (strncmp(p, "results/", 8) == 0)
        api_results(c, q, r, p + 8);
    else if (strcmp(p, "reports") == 0 || strncmp(p, "reports/", 8) == 0)
        api_reports(c, q, r, p[7] ? p + 8 : "");
    else
        resp_error(r, 404, "not_found", "no API route %s %s", q->method, q->path);
}
