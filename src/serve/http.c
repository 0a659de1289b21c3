/* http.c - the HTTP front end of `finstream serve`, and the only file that includes
 * microhttpd.h.
 *
 * libmicrohttpd runs a pool of threads, each with its own poll loop, and keeps
 * connections alive between requests (AWS SDKs reuse them). A request's body is
 * gathered into one buffer, refused as soon as it would pass the cap (declared
 * Content-Length or counted), then handed to the service as a struct fin_serve_request.
 * Limits on connections in all and per client address, and a timeout for idle or slow
 * senders, keep memory and threads bounded whatever the clients do. /health and
 * /metrics answer GETs beside the AWS API. */
#include "internal.h"

#include "finstream/error.h"
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

struct fin_serve_http {
    struct MHD_Daemon *d;
    struct fin_serve *svc;
    struct fin_serve_http_config cfg;
    int port;
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
    cfg->max_body = FIN_SERVE_MAX_BODY;
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
        return send_resp(c, &r);
    }
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
    (void)cls, (void)c, (void)code;
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

/* "ADDR:PORT" (ADDR an IPv4 address or "localhost") into sa. */
static int parse_listen(const char *listen, struct sockaddr_in *sa)
{
    const char *colon = strrchr(listen, ':');
    char host[64];
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host)
        return fin_err_set(FIN_EINVAL, "--listen %s: expected ADDR:PORT", listen);
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535)
        return fin_err_set(FIN_EINVAL, "--listen %s: bad port", listen);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return fin_err_set(FIN_EINVAL, "--listen %s: '%s' is not an IPv4 address", listen, host);
    return 0;
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
    if ((rc = parse_listen(cfg->listen, &sa)))
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
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_per_client,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, on_done, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_END);
    if (!h->d) {
        rc = fin_err_set(FIN_ENET, "cannot listen on %s (address in use?)", cfg->listen);
        goto fail;
    }
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
    if (h->d)
        MHD_stop_daemon(h->d);
    free(h);
}
