/* http.c - the console's HTTP listener, and the only file of the console that includes
 * microhttpd.h.
 *
 * One thread per connection: an open page keeps one connection for its event stream,
 * whose reader blocks until the sampler has a new snapshot, and a thread of its own is
 * the simplest place for that wait. Connections are capped (max_connections) and idle
 * ones closed, so threads stay bounded. Bodies are capped at 1 MiB (the largest is an
 * SQL text). */
#include "internal.h"

#include "finstream/error.h"
#include "finstream/net.h"
#include "finstream/log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;
#else
typedef enum MHD_Result MHD_Result_t;
#endif

#define MAX_BODY (1024 * 1024)
#define KEEPALIVE_MS 15000

struct fin_console_http {
    struct MHD_Daemon *d;
    struct fin_console *c;
};

struct conn_req {
    struct fin_buf body;
    bool too_large;
};

static const char *get_arg(void *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

static const char *hdr(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* ---- the event stream ---- */

struct events {
    struct fin_console *c;
    uint64_t gen;
    char *pending;
    size_t len, pos;
    bool first;
};

static ssize_t events_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct events *ev = cls;
    (void)pos;
    if (ev->pos == ev->len) {
        free(ev->pending);
        ev->pending = NULL;
        ev->len = ev->pos = 0;
        uint64_t gen = ev->gen;
        char *snap = sampler_wait(ev->c, ev->first ? 0 : ev->gen, ev->first ? 0 : KEEPALIVE_MS,
                                  &gen);
        ev->first = false;
        if (!snap)
            return MHD_CONTENT_READER_END_OF_STREAM;
        struct fin_buf b;
        fin_buf_init(&b);
        int rc = gen == ev->gen && *snap ? fin_buf_puts(&b, ": keep-alive\n\n")
                 : *snap ? fin_buf_printf(&b, "id: %llu\nevent: overview\ndata: %s\n\n",
                                          (unsigned long long)gen, snap)
                         : fin_buf_puts(&b, ": waiting for the first snapshot\n\n");
        free(snap);
        if (rc) {
            fin_buf_fini(&b);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        ev->gen = gen;
        ev->pending = fin_buf_take(&b, &ev->len);
    }
    size_t n = ev->len - ev->pos < max ? ev->len - ev->pos : max;
    memcpy(buf, ev->pending + ev->pos, n);
    ev->pos += n;
    return (ssize_t)n;
}

static void events_free(void *cls)
{
    struct events *ev = cls;
    free(ev->pending);
    free(ev);
}

static MHD_Result_t send_events(struct fin_console_http *h, struct MHD_Connection *con)
{
    struct events *ev = calloc(1, sizeof *ev);
    if (!ev)
        return MHD_NO;
    ev->c = h->c;
    ev->first = true;
    struct MHD_Response *mr =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, events_read, ev, events_free);
    if (!mr) {
        free(ev);
        return MHD_NO;
    }
    MHD_add_response_header(mr, "Content-Type", "text/event-stream");
    MHD_add_response_header(mr, "Cache-Control", "no-store");
    MHD_add_response_header(mr, "X-Accel-Buffering", "no");
    MHD_Result_t ret = MHD_queue_response(con, 200, mr);
    MHD_destroy_response(mr);
    return ret;
}

/* ---- ordinary answers ---- */

static MHD_Result_t send_resp(struct MHD_Connection *con, struct cresp *r, bool head)
{
    struct MHD_Response *mr;
    if (r->static_body) {
        mr = MHD_create_response_from_buffer(head ? 0 : r->static_len, (void *)r->static_body,
                                             MHD_RESPMEM_PERSISTENT);
    } else {
        size_t len = 0;
        char *body = fin_buf_take(&r->body, &len);
        if (head) {
            free(body);
            body = NULL;
            len = 0;
        }
        mr = MHD_create_response_from_buffer(len, body ? body : (char *)"",
                                             body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (!mr)
            free(body);
    }
    if (!mr)
        return MHD_NO;
    MHD_add_response_header(mr, "Content-Type", r->content_type ? r->content_type : "text/plain");
    MHD_add_response_header(mr, "Cache-Control", r->cache ? r->cache : "no-store");
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(mr, "X-Frame-Options", "SAMEORIGIN");
    MHD_add_response_header(mr, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(mr, "Content-Security-Policy",
                            "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                            "img-src 'self' data:; frame-ancestors 'self'");
    if (r->disposition[0])
        MHD_add_response_header(mr, "Content-Disposition", r->disposition);
    if (r->set_cookie[0])
        MHD_add_response_header(mr, "Set-Cookie", r->set_cookie);
    MHD_Result_t ret = MHD_queue_response(con, (unsigned)(r->status ? r->status : 200), mr);
    MHD_destroy_response(mr);
    return ret;
}

static MHD_Result_t on_request(void *cls, struct MHD_Connection *con, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    struct fin_console_http *h = cls;
    struct conn_req *cr = *con_cls;
    (void)version;
    if (!cr) {
        if (!(cr = calloc(1, sizeof *cr)))
            return MHD_NO;
        fin_buf_init(&cr->body);
        *con_cls = cr;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!cr->too_large && cr->body.len + *upload_size > MAX_BODY) {
            cr->too_large = true;
            fin_buf_fini(&cr->body);
        }
        if (!cr->too_large && fin_buf_append(&cr->body, upload, *upload_size))
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    struct cresp r;
    memset(&r, 0, sizeof r);
    fin_buf_init(&r.body);
    bool head = strcmp(method, "HEAD") == 0;
    MHD_Result_t ret;
    if (cr->too_large) {
        resp_error(&r, 413, "too_large", "request body is larger than %d bytes", MAX_BODY);
        goto send;
    }
    struct console_hdrs hs = {
        .host = hdr(con, "Host"),
        .origin = hdr(con, "Origin"),
        .authorization = hdr(con, "Authorization"),
        .cookie = hdr(con, "Cookie"),
        .csrf = hdr(con, "X-CSRF-Token"),
    };
    struct creq q = {
        .method = method,
        .path = url,
        .body = cr->body.data ? cr->body.data : "",
        .body_len = cr->body.len,
        .arg = get_arg,
        .arg_ctx = con,
    };
    if (console_authorize(h->c, method, url, &hs, &q.session_ok, &r) == 0) {
        console_route(h->c, &q, &hs, &r);
        if (r.events) {
            fin_buf_fini(&r.body);
            return send_events(h, con);
        }
    }
send:
    ret = send_resp(con, &r, head);
    fin_buf_fini(&r.body);
    return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode code)
{
    struct conn_req *cr = *con_cls;
    (void)cls, (void)c, (void)code;
    if (cr) {
        fin_buf_fini(&cr->body);
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
    fin_debug("console: http: %s", msg);
}

int console_http_start(struct fin_console *c, struct fin_console_http **out, int *port)
{
    struct sockaddr_in sa;
    int rc;
    struct fin_console_http *h = calloc(1, sizeof *h);
    if (!h)
        return FIN_ENOMEM;
    h->c = c;
    if ((rc = fin_listen_parse(c->cfg.listen, &sa)))
        goto fail;
    bool loopback = (ntohl(sa.sin_addr.s_addr) >> 24) == 127;
    if (!loopback && !c->cfg.insecure && !c->login_required) {
        rc = fin_err_set(FIN_EINVAL,
                         "console --listen %s is not a loopback address and no access keys are "
                         "configured: anyone who can reach it could read the lake and reshard "
                         "streams (configure [serve] access_keys, or pass --insecure)",
                         c->cfg.listen);
        goto fail;
    }
    h->d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, c->cfg.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, on_done, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_END);
    if (!h->d) {
        rc = fin_err_set(FIN_ENET, "console: cannot listen on %s (address in use?)", c->cfg.listen);
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    *port = di ? di->port : ntohs(sa.sin_port);
    *out = h;
    return 0;
fail:
    console_http_stop(h);
    return rc;
}

void console_http_stop(struct fin_console_http *h)
{
    if (!h)
        return;
    if (h->d)
        MHD_stop_daemon(h->d);
    free(h);
}
