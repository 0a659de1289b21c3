/* serve.h - the Kinesis Data Streams wire API over finstream's streams.
 *
 * Two layers. The service (struct fin_serve) takes a parsed request (method, path,
 * X-Amz-Target, headers, body bytes) and fills a response (status, content type, body,
 * request ids); it knows AWS JSON 1.1, the Kinesis actions and AWS's error shapes, and
 * nothing of sockets, so it is tested by calling fin_serve_handle() directly. The HTTP
 * front end (struct fin_serve_http) is the only code that sees libmicrohttpd: it turns
 * connections into requests for the service, with a thread pool, keep-alive, a body
 * cap, connection limits and timeouts.
 *
 * The service holds one writer per stream (the stream admits one writer process:
 * serve is that process) and closes them all in fin_serve_destroy(). */
#ifndef FINSTREAM_SERVE_H
#define FINSTREAM_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finstream/clock.h"
#include "finstream/config.h"

/* Limits, with the Kinesis values. */
#define FIN_SERVE_MAX_BODY          (10 * 1024 * 1024)  /* default request body cap, bytes */
#define FIN_SERVE_PUT_RECORDS_MAX   500                 /* records per PutRecords */
#define FIN_SERVE_PUT_RECORDS_BYTES (5 * 1024 * 1024)   /* data + keys per PutRecords */
#define FIN_SERVE_GET_RECORDS_MAX   10000               /* GetRecords Limit */
#define FIN_SERVE_GET_RECORDS_BYTES (10 * 1024 * 1024)  /* data per GetRecords response */
#define FIN_SERVE_ITER_TTL_MS       (5 * 60 * 1000)     /* a shard iterator expires after */
#define FIN_SERVE_MAX_TAGS          50                  /* tags per stream */
#define FIN_SERVE_LIST_LIMIT        10000               /* ListStreams / ListShards Limit */

struct fin_serve_config {
    const char *data_dir;          /* borrowed for the service's life */
    const char *config_path;       /* finstream.ini, for [stream "NAME"] defaults; may be NULL */
    const struct fin_clock *clock; /* NULL: the real clock */
    int64_t creating_ms;           /* a new stream says CREATING this long (default 500) */
    int64_t updating_ms;           /* UPDATING after a retention change (default 500) */
    int64_t deleting_ms;           /* DELETING before it is gone (default 500) */
    const char *account;           /* 12 digits for ARNs and messages (default 000000000000) */
    const char *region;            /* for ARNs (default us-east-1) */
    /* "ID:SECRET" pairs separated by commas or spaces: when given, every request must
     * carry a valid SigV4 signature by one of them. NULL or "": any well-formed one. */
    const char *access_keys;
    int64_t max_skew_ms;           /* allowed distance of X-Amz-Date (default 15 min) */
    int64_t shard_limit;           /* open shards in all streams (default 500, as AWS) */
};

/* Fills cfg with the defaults (data_dir and config_path NULL). */
void fin_serve_config_defaults(struct fin_serve_config *cfg);

struct fin_serve_header {
    const char *name;
    const char *value;
};

/* One HTTP request as the front end parsed it; every pointer borrowed for the call. */
struct fin_serve_request {
    const char *method;            /* "POST" */
    const char *path;              /* "/" */
    const char *query;             /* after '?', or NULL */
    const struct fin_serve_header *headers;  /* all of them, for signature checks */
    size_t n_headers;
    const char *target;            /* X-Amz-Target, or NULL */
    const char *content_type;      /* Content-Type, or NULL */
    const char *authorization;     /* Authorization, or NULL */
    const char *body;
    size_t body_len;
};

/* What the service answers. body is owned by the response: fin_serve_response_fini(). */
struct fin_serve_response {
    int status;
    const char *content_type;      /* static; NULL: no Content-Type header */
    char *body;
    size_t body_len;
    char request_id[37];           /* x-amzn-RequestId: a UUID */
    char id2[97];                  /* x-amz-id-2: 72 random bytes in base64, as AWS */
    const char *hdr_name;          /* one more header (static strings), or NULL */
    const char *hdr_value;
    /* more headers (CORS): names static, values static or borrowed from the request,
     * valid until the answer is sent */
    struct fin_serve_header extra[6];
    size_t n_extra;
};

void fin_serve_response_fini(struct fin_serve_response *resp);

struct fin_serve;

/* Creates the service over cfg->data_dir (the streams already there are served).
 * Freed by fin_serve_destroy(), which closes every stream writer it opened. */
int fin_serve_create(struct fin_serve **out, const struct fin_serve_config *cfg);
void fin_serve_destroy(struct fin_serve *svc);

/* True when access keys are configured (requests must be signed by one of them). */
bool fin_serve_has_keys(const struct fin_serve *svc);

/* Handles one request; never fails: errors become AWS error responses. Thread-safe. */
void fin_serve_handle(struct fin_serve *svc, const struct fin_serve_request *req,
                      struct fin_serve_response *resp);

/* Fills resp with an AWS-shaped error ({"__type", "message"}) and fresh request ids;
 * counts it in the error metrics when svc is not NULL. */
void fin_serve_error(struct fin_serve *svc, struct fin_serve_response *resp, int status,
                     const char *type, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The Prometheus text exposition of the service's metrics; *text owned by the caller
 * (free()). */
int fin_serve_metrics(struct fin_serve *svc, char **text, size_t *len);

/* Logs one "summary" event (fin_log_event) with the service's totals since it started:
 * requests, records and bytes put and read, Firehose records taken, and the lag of the
 * last GetRecords (milliseconds behind the shard's newest record). */
void fin_serve_log_summary(struct fin_serve *svc);

/* ---- the [serve] section of finstream.ini ---- */

struct fin_serve_settings {
    char *listen;                  /* ADDR:PORT */
    int64_t threads;
    int64_t max_body;
    int64_t max_connections;
    int64_t max_per_client;
    int64_t timeout_ms;
    int64_t status_delay_ms;
    char *access_keys;             /* "ID:SECRET, ..." */
    char *region;
    char *account;
    int64_t shard_limit;
    int64_t request_timeout_ms;
    int64_t summary_every_ms;
};
extern const struct fin_opt fin_serve_opts[];
/* Defaults, then [serve] of the ini at config_path (missing file or section: defaults).
 * Freed by fin_serve_settings_fini. */
int fin_serve_settings_load(struct fin_serve_settings *set, const char *config_path);
void fin_serve_settings_fini(struct fin_serve_settings *set);

/* ---- the HTTP front end ---- */

struct fin_serve_http_config {
    const char *listen;            /* "ADDR:PORT", default 127.0.0.1:4567; port 0: any free */
    unsigned threads;              /* thread pool size (default 4) */
    unsigned max_connections;      /* in all (default 512) */
    unsigned max_per_client;       /* per client address (default 64) */
    unsigned timeout_s;            /* an idle or slow connection is closed after (default 30) */
    unsigned request_timeout_s;    /* a request must arrive whole, and its answer leave, within (default 30) */
    size_t max_body;               /* request bodies above are refused (default FIN_SERVE_MAX_BODY) */
    bool insecure;                 /* allow a non-loopback address without access keys */
    bool have_keys;                /* access keys are configured: any address is allowed */
};

void fin_serve_http_config_defaults(struct fin_serve_http_config *cfg);

struct fin_serve_http;

/* Starts listening and serving svc (borrowed until stop). A non-loopback address is
 * refused (FIN_EINVAL) unless cfg->insecure. Stopped and freed by fin_serve_http_stop(). */
int fin_serve_http_start(struct fin_serve_http **out, struct fin_serve *svc,
                         const struct fin_serve_http_config *cfg);
/* The port actually bound (useful with port 0). */
int fin_serve_http_port(const struct fin_serve_http *h);
/* Stops accepting, finishes the requests in flight and frees. Accepts NULL. */
void fin_serve_http_stop(struct fin_serve_http *h);

/* Runs fn(s, ctx) with the service's writer of stream name (opened on first use), for
 * callers beside the service that must change the stream (resharding from the console).
 * FIN_ENOENT for an unknown stream, or fn's result. */
struct fin_stream;
int fin_serve_with_stream(struct fin_serve *svc, const char *name,
                          int (*fn)(struct fin_stream *s, void *ctx), void *ctx);

#endif
