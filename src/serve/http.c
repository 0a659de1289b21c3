/* http.c - the HTTP front end of `finstream serve`, and the only file that includes
 * microhttpd.h.
 *
 * libmicrohttpd runs a pool of threads, each with its own poll loop, and keeps
 * connections alive between requests (AWS SDKs reuse them). A request's body is
 * gathered into one buffer, refused as soon as it would pass the cap (declared
 * Content-Length or counted), then handed to the service as a struct fin_serve_request.
 * /health and /metrics answer GETs beside the AWS API.
 *
 * Slow and idle clients. libmicrohttpd's own timeout is an idle timeout: a client that
 * sends one header line every few seconds never trips it, and its connection limits
 * simply refuse newcomers once idle clients hold every slot. So this file keeps its own
 * list of connections (MHD's connection notifications), each in a phase:
 *
 *     idle       open, no request line yet (new, or between keep-alive requests)
 *     receiving  request line seen, headers and body still arriving
 *     handling   the service is working on it (a put waiting for its fsync)
 *     sending    the answer is queued, the client has not taken it all
 *
 * and enforces, from a small watchdog thread, a whole-request deadline: receiving or
 * sending longer than request_timeout, or idle longer than timeout, and the socket is
 * shut down (MHD then closes it in its own thread; the list entry goes away in the
 * close notification, under the same lock, before MHD closes the descriptor, so the
 * watchdog never touches a reused one). When a new connection takes the total past
 * max_connections, the connection that has waited longest outside "handling" is shut
 * down to make room: a well-formed client, whose request arrives at once, is always the
 * youngest and keeps its slot, whatever number of idle or trickling connections press
 * around it. The per-address limit (max_per_client) refuses newcomers from an address
 * that already holds that many. */
#include "internal.h"

#include "finstream/error.h"
#include "finstream/net.h"
#include "finstream/log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;
#else
typedef enum MHD_Result MHD_Result_t;
#endif

enum conn_phase { PH_IDLE, PH_RECEIVING, PH_HANDLING, PH_SENDING };

/* One connection from accept to close (MHD's socket context); guarded by h->mu. */
struct conn {
    struct conn *prev, *next;
    int fd;
    enum conn_phase phase;
    int64_t since_ns;   /* when the phase began (CLOCK_MONOTONIC) */
    bool cut;           /* shut down by us; MHD has yet to notice and close it */
};

struct fin_serve_http {
    struct MHD_Daemon *d;
    struct fin_serve *svc;
    struct fin_serve_http_config cfg;
    int port;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct conn *head;
    size_t live;                 /* connections in the list and not cut */
    bool stopping, watchdog_started, sync_ready;
    pthread_t watchdog;
    uint64_t cut_deadline, cut_crowded;   /* for the log */
};

/* One request being received. */
struct conn_req {
    struct fin_buf body;
    struct fin_buf query;   /* the query arguments again as "k=v&k=v" (decoded) */
    bool too_large;
};

void fin_serve_http_config_defaults(struct fin_serve_http_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = "127.0.0.1:4567";
    cfg->threads = 4;
    cfg->max_connections = 512;
    cfg->max_per_client = 64;
    cfg->timeout_s = 30;
    cfg->request_timeout_s = 30;
    cfg->max_body = FIN_SERVE_MAX_BODY;
}

/* ---- connections, phases and the watchdog ---- */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The connection's entry, or NULL when it is not tracked (allocation failed). */
static struct conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void set_phase(struct fin_serve_http *h, struct MHD_Connection *c, enum conn_phase ph)
{
    struct conn *k = conn_of(c);
    if (!k)
        return;
    pthread_mutex_lock(&h->mu);
    k->phase = ph;
    k->since_ns = mono_ns();
    pthread_mutex_unlock(&h->mu);
}

/* Under h->mu. shutdown(), not close(): MHD owns the descriptor and closes it itself. */
static void cut(struct fin_serve_http *h, struct conn *k)
{
    k->cut = true;
    h->live--;
    shutdown(k->fd, SHUT_RDWR);
}

/* Under h->mu: makes room for newcomer by cutting the connection that has waited
 * longest outside "handling"; the newcomer itself when every other one is busy. */
static void make_room(struct fin_serve_http *h, struct conn *newcomer)
{
    struct conn *victim = NULL;
    for (struct conn *k = h->head; k; k = k->next)
        if (k != newcomer && !k->cut && k->phase != PH_HANDLING &&
            (!victim || k->since_ns < victim->since_ns))
            victim = k;
    cut(h, victim ? victim : newcomer);
    h->cut_crowded++;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct fin_serve_http *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fi =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct conn *k = fi ? calloc(1, sizeof *k) : NULL;
        *socket_context = k;
        if (!k)
            return;
        k->fd = fi->connect_fd;
        k->phase = PH_IDLE;
        k->since_ns = mono_ns();
        pthread_mutex_lock(&h->mu);
        k->next = h->head;
        if (h->head)
            h->head->prev = k;
        h->head = k;
        h->live++;
        if (h->live > h->cfg.max_connections)
            make_room(h, k);
        pthread_mutex_unlock(&h->mu);
        return;
    }
    struct conn *k = *socket_context;
    if (!k)
        return;
    pthread_mutex_lock(&h->mu);
    if (k->prev)
        k->prev->next = k->next;
    else
        h->head = k->next;
    if (k->next)
        k->next->prev = k->prev;
    if (!k->cut)
        h->live--;
    pthread_mutex_unlock(&h->mu);
    free(k);
    *socket_context = NULL;
}

/* Called by MHD once a request line has arrived: the request's clock starts. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)uri;
    set_phase(cls, c, PH_RECEIVING);
    return NULL;
}

static void *watchdog_main(void *arg)
{
    struct fin_serve_http *h = arg;
    int64_t idle_ns = (int64_t)h->cfg.timeout_s * 1000000000;
    int64_t request_ns = (int64_t)h->cfg.request_timeout_s * 1000000000;
    uint64_t told_deadline = 0, told_crowded = 0;
    int64_t told_at = 0;
    pthread_mutex_lock(&h->mu);
    while (!h->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 200 * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&h->cv, &h->mu, &until);
        int64_t now = mono_ns();
        for (struct conn *k = h->head; k && !h->stopping; k = k->next) {
            if (k->cut || k->phase == PH_HANDLING)
                continue;
            int64_t limit = k->phase == PH_IDLE ? idle_ns : request_ns;
            if (limit > 0 && now - k->since_ns > limit) {
                cut(h, k);
                h->cut_deadline++;
            }
        }
        /* One line at most every 10 s, so an attack does not also flood the log. */
        if ((h->cut_deadline != told_deadline || h->cut_crowded != told_crowded) &&
            now - told_at >= 10 * 1000000000LL) {
            fin_warn("serve: closed %llu connection(s) past the request deadline or idle "
                     "timeout and %llu to make room for new ones (max_connections %u)",
                     (unsigned long long)(h->cut_deadline - told_deadline),
                     (unsigned long long)(h->cut_crowded - told_crowded),
                     h->cfg.max_connections);
            told_deadline = h->cut_deadline;
            told_crowded = h->cut_crowded;
            told_at = now;
        }
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static MHD_Result_t send_resp(struct MHD_Connection *c, struct fin_serve_response *r)
{
    struct MHD_Response *mr =
        MHD_create_response_from_buffer(r->body_len, r->body ? r->body : (char *)"",
                                        r->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!mr) {
        fin_serve_response_fini(r);
        return MHD_NO;
    }
    r->body = NULL;  /* libmicrohttpd frees it */
    if (r->content_type)
        MHD_add_response_header(mr, "Content-Type", r->content_type);
    if (r->request_id[0])
        MHD_add_response_header(mr, "x-amzn-RequestId", r->request_id);
    if (r->id2[0])
        MHD_add_response_header(mr, "x-amz-id-2", r->id2);
    if (r->hdr_name && r->hdr_value)
        MHD_add_response_header(mr, r->hdr_name, r->hdr_value);
    for (size_t i = 0; i < r->n_extra && i < sizeof r->extra / sizeof r->extra[0]; i++)
        MHD_add_response_header(mr, r->extra[i].name, r->extra[i].value);
    MHD_Result_t ret = MHD_queue_response(c, (unsigned)r->status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static MHD_Result_t plain(struct MHD_Connection *c, int status, const char *ct, char *text,
                          size_t len)
{
    struct fin_serve_response r = {.status = status, .content_type = ct, .body = text,
                                   .body_len = len};
    return send_resp(c, &r);
}

struct hdrs {
    struct fin_serve_header v[64];
    size_t n;
};

static MHD_Result_t collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct hdrs *h = cls;
    (void)kind;
    if (h->n < sizeof h->v / sizeof h->v[0])
        h->v[h->n++] = (struct fin_serve_header){key, value ? value : ""};
    return MHD_YES;
}

static MHD_Result_t collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    struct fin_buf *q = cls;
    (void)kind;
    fin_buf_printf(q, "%s%s=%s", q->len ? "&" : "", key, value ? value : "");
    return MHD_YES;
}

static void too_large(struct fin_serve_http *h, struct fin_serve_response *r)
{
    fin_serve_error(h->svc, r, 413, "RequestEntityTooLargeException",
                    "Request body is larger than the %zu bytes allowed", h->cfg.max_body);
}

static MHD_Result_t answer(struct fin_serve_http *h, struct MHD_Connection *c, const char *url,
                           const char *method, struct conn_req *cr);

static MHD_Result_t on_request(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    struct fin_serve_http *h = cls;
    struct conn_req *cr = *con_cls;
    (void)version;
    if (!cr) {
        cr = calloc(1, sizeof *cr);
        if (!cr)
            return MHD_NO;
        fin_buf_init(&cr->body);
        fin_buf_init(&cr->query);
        *con_cls = cr;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
        if (len > h->cfg.max_body) {
            /* Read and dropped, so that the client, still sending, gets to read the
             * error; a body far beyond the cap is refused at once and the connection
             * closed instead. Either way nothing of it is kept. */
            cr->too_large = true;
            if (len / 8 > h->cfg.max_body) {
                struct fin_serve_response r = {0};
                too_large(h, &r);
                set_phase(h, c, PH_SENDING);
                return send_resp(c, &r);
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!cr->too_large && cr->body.len + *upload_size > h->cfg.max_body) {
            cr->too_large = true;
            fin_buf_fini(&cr->body);
        }
        if (!cr->too_large && fin_buf_append(&cr->body, upload, *upload_size))
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (cr->too_large) {
        struct fin_serve_response r = {0};
        too_large(h, &r);
        set_phase(h, c, PH_SENDING);
        return send_resp(c, &r);
    }
    set_phase(h, c, PH_HANDLING);
    MHD_Result_t ret = answer(h, c, url, method, cr);
    set_phase(h, c, PH_SENDING);
    return ret;
}

/* The whole request is in: the service's answer, queued. */
static MHD_Result_t answer(struct fin_serve_http *h, struct MHD_Connection *c, const char *url,
                           const char *method, struct conn_req *cr)
{
    if (strcmp(method, "GET") == 0 && strcmp(url, "/health") == 0)
        return plain(c, 200, "text/plain", strdup("ok\n"), 3);
    struct hdrs hs;
    hs.n = 0;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &cr->query);
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &hs);
    struct fin_serve_request req = {
        .method = method,
        .path = url,
        .headers = hs.v,
        .n_headers = hs.n,
        .target = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Target"),
        .content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"),
        .authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
        .query = cr->query.len ? fin_buf_cstr(&cr->query) : NULL,
        .body = cr->body.data ? cr->body.data : "",
        .body_len = cr->body.len,
    };
    struct fin_serve_response r;
    fin_serve_handle(h->svc, &req, &r);
    if (r.status >= 500)
        atomic_fetch_add(&h->svc->m.http_5xx, 1);
    else if (r.status >= 400)
        atomic_fetch_add(&h->svc->m.http_4xx, 1);
    return send_resp(c, &r);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode code)
{
    struct conn_req *cr = *con_cls;
    (void)code;
    set_phase(cls, c, PH_IDLE);   /* waiting for the next request of a kept-alive connection */
    if (cr) {
        fin_buf_fini(&cr->body);
        fin_buf_fini(&cr->query);
        free(cr);
        *con_cls = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = 0;
    fin_debug("serve: http: %s", msg);
}

int fin_serve_http_start(struct fin_serve_http **out, struct fin_serve *svc,
                         const struct fin_serve_http_config *cfg)
{
    struct sockaddr_in sa;
    int rc;
    struct fin_serve_http *h = calloc(1, sizeof *h);
    if (!h)
        return FIN_ENOMEM;
    h->svc = svc;
    h->cfg = *cfg;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    h->sync_ready = true;
    if ((rc = fin_listen_parse(cfg->listen, &sa)))
        goto fail;
    bool loopback = (ntohl(sa.sin_addr.s_addr) >> 24) == 127;
    if (!loopback && !cfg->insecure && !cfg->have_keys) {
        rc = fin_err_set(FIN_EINVAL,
                         "--listen %s is not a loopback address and no access keys are "
                         "configured: anyone who can reach it could write to every stream "
                         "(pass --insecure to do it anyway)", cfg->listen);
        goto fail;
    }
    h->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->threads ? cfg->threads : 1),
        /* MHD's own limit is a backstop above ours: the newcomer that passes
         * max_connections must get in, so that make_room() can choose whom to cut. */
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(cfg->max_connections + 16 + cfg->max_connections / 4),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_per_client,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, on_done, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_END);
    if (!h->d) {
        rc = fin_err_set(FIN_ENET, "cannot listen on %s (address in use?)", cfg->listen);
        goto fail;
    }
    if (pthread_create(&h->watchdog, NULL, watchdog_main, h) != 0) {
        rc = fin_err_set(FIN_ENOMEM, "serve: cannot start the connection watchdog");
        goto fail;
    }
    h->watchdog_started = true;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : ntohs(sa.sin_port);
    *out = h;
    return 0;
fail:
    fin_serve_http_stop(h);
    return rc;
}

int fin_serve_http_port(const struct fin_serve_http *h)
{
    return h->port;
}

void fin_serve_http_stop(struct fin_serve_http *h)
{
    if (!h)
        return;
    if (h->watchdog_started) {
        pthread_mutex_lock(&h->mu);
        h->stopping = true;
        pthread_cond_signal(&h->cv);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->watchdog, NULL);
    }
    if (h->d)
        MHD_stop_daemon(h->d);   /* its close notifications still take h->mu */
    if (h->sync_ready) {
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->cv);
    }
    free(h);
}
