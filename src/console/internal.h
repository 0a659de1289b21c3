/* internal.h - what the console's files share: the console itself, one request and its
 * answer as the routes see them (http.c is the only file that sees libmicrohttpd), the
 * sampler's snapshot, the query jobs, and the embedded assets. */
#ifndef FIN_CONSOLE_INTERNAL_H
#define FIN_CONSOLE_INTERNAL_H

#include "finstream/buf.h"
#include "finstream/console.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- assets (generated at build time into console_assets.c) ---- */

struct fin_console_asset {
    const char *path;            /* "/assets/app.js" */
    const char *content_type;
    const unsigned char *data;
    size_t len;
};
/* Terminated by path == NULL. */
extern const struct fin_console_asset fin_console_assets[];
const struct fin_console_asset *asset_find(const char *path);

/* ---- one request, one answer ---- */

struct creq {
    const char *method;
    const char *path;            /* without the query string */
    const char *body;
    size_t body_len;
    /* A query-string argument, or NULL. */
    const char *(*arg)(void *ctx, const char *name);
    void *arg_ctx;
    bool session_ok;             /* authenticated (or no login needed) */
};

struct cresp {
    int status;
    const char *content_type;    /* static */
    struct fin_buf body;
    const unsigned char *static_body;   /* instead of body: static bytes (assets) */
    size_t static_len;
    char disposition[160];       /* Content-Disposition, "" = none */
    char set_cookie[200];        /* Set-Cookie, "" = none */
    const char *cache;           /* Cache-Control, NULL = no-store */
    bool events;                 /* answer with the event stream instead */
};

/* Answer helpers: JSON (v released), an error {"error": code, "message": text}. */
void resp_json(struct cresp *r, int status, json_t *v);
void resp_error(struct cresp *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Maps a FIN_E* code (with fin_err_msg()) to an error answer. */
void resp_fin_error(struct cresp *r, int rc);
/* The request body as a JSON object, or an error answer and NULL. */
json_t *req_json(const struct creq *q, struct cresp *r);
/* A query argument as a non-negative integer (def when absent); -1 when malformed. */
long long req_arg_int(const struct creq *q, const char *name, long long def);

/* ---- the console ---- */

struct query_job;

struct fin_console {
    struct fin_console_config cfg;
    char *data_dir, *config_path, *listen;
    char token[65];
    char csrf[65];               /* for open consoles; sessions carry their own */
    bool login_required;
    struct ckey { char *id, *secret; } *keys;
    size_t n_keys;
    struct fin_console_http *http;
    int port;

    /* sessions: cookie value -> csrf token (login_required only) */
    pthread_mutex_t sess_mu;
    struct csession { char id[65], csrf[65]; int64_t expires_s; } *sessions;
    size_t n_sessions;

    /* the sampler */
    pthread_t sampler;
    bool sampler_running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    uint64_t generation;         /* snapshot number, under mu */
    char *snapshot;              /* JSON of the latest overview, under mu (owned) */
    struct sampler_state *ss;    /* owned by the sampler thread */

    /* query jobs, newest first */
    pthread_mutex_t q_mu;
    pthread_cond_t q_cv;         /* signalled when a job ends */
    struct query_job *jobs;
    size_t n_jobs;
    int n_running;
};

/* The headers access decisions read; any may be NULL. */
struct console_hdrs {
    const char *host, *origin, *authorization, *cookie, *csrf;
};

/* Decides whether the request may go on: 0, or -1 with the refusal in r. *session_ok
 * says whether the API's protected routes may answer. */
int console_authorize(struct fin_console *c, const char *method, const char *path,
                      const struct console_hdrs *h, bool *session_ok, struct cresp *r);
/* Routes one request (http.c calls it after console_authorize); fills r. */
void console_route(struct fin_console *c, const struct creq *q, const struct console_hdrs *h,
                   struct cresp *r);
/* The CSRF token a request from this session must carry; false when unknown. */
bool console_session_csrf(struct fin_console *c, const char *cookie_id, char csrf[65]);

/* ---- http.c ---- */

struct fin_console_http;
int console_http_start(struct fin_console *c, struct fin_console_http **out, int *port);
void console_http_stop(struct fin_console_http *h);

/* ---- overview.c: the sampler ---- */

int sampler_start(struct fin_console *c);
void sampler_stop(struct fin_console *c);
/* The latest snapshot (owned by the caller: free()) and its generation; waits up to
 * wait_ms for one newer than after (0: do not wait). NULL when stopping. */
char *sampler_wait(struct fin_console *c, uint64_t after, int64_t wait_ms, uint64_t *gen);

/* ---- the routes, one file each ---- */

void api_overview(struct fin_console *c, const struct creq *q, struct cresp *r);
void api_stream(struct fin_console *c, const struct creq *q, struct cresp *r, const char *rest);
void api_lake(struct fin_console *c, const struct creq *q, struct cresp *r, const char *rest);
void api_catalog(struct fin_console *c, const struct creq *q, struct cresp *r, const char *rest);
void api_queries(struct fin_console *c, const struct creq *q, struct cresp *r, const char *rest);
void api_results(struct fin_console *c, const struct creq *q, struct cresp *r, const char *rest);
void api_reports(struct fin_console *c, const struct creq *q, struct cresp *r, const char *rest);
/* GET /reports/DATE/FILE: the files `finstream report` wrote. */
void reports_static(struct fin_console *c, const struct creq *q, struct cresp *r, const char *rest);

/* queries.c: cancels every running job and frees them all. */
void jobs_fini(struct fin_console *c);
/* Interrupts again the canceled jobs that still run (called every sampler tick). */
void jobs_reinterrupt(struct fin_console *c);

/* Small helpers (util in console.c). */
int64_t now_ms_real(void);
/* "2026-12-04T15:00:00Z" */
void iso_time(int64_t ms, char out[32]);
/* Percent-decodes s into out (cap bytes); false on bad escapes or overflow. */
bool url_decode(const char *s, char *out, size_t cap);

#endif
