/* aws.h - the AWS edge of finstream: SigV4 signing and verification, credentials,
 * region and endpoint resolution, one HTTP transport, and a signed client with retries.
 *
 * A user who outgrows one machine points finstream at S3, Kinesis and Firehose by
 * changing only endpoints and credentials. Everything that talks to those services goes
 * through struct fin_aws_client (this header); the S3 calls are in aws_s3.h, the Kinesis
 * and Firehose producers and the Kinesis reader in aws_kinesis.h.
 *
 * Layers, each usable alone:
 *   - SigV4 (fin_sigv4_*): pure functions; time and credentials are passed in.
 *   - Settings and resolution (fin_aws_settings, fin_aws_resolve): the [aws] section of
 *     finstream.ini, environment variables, ~/.aws/credentials and ~/.aws/config.
 *   - Transport (struct fin_http_transport, finstream/http.h): a function table with a
 *     libcurl implementation; tests put a scripted one in its place.
 *   - Client (fin_aws_client_*): builds, signs and sends a request, classifies AWS's error
 *     answers and retries the retriable ones with capped exponential backoff and full jitter,
 *     sleeping through the clock seam. */
#ifndef FINSTREAM_AWS_H
#define FINSTREAM_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finstream/buf.h"
#include "finstream/clock.h"
#include "finstream/config.h"
#include "finstream/http.h"

/* ---- credentials ---- */

struct fin_aws_credentials {
    char *access_key_id;       /* owned; freed by fin_aws_credentials_fini */
    char *secret_access_key;
    char *session_token;       /* NULL when there is none */
    char source[96];           /* where they came from: "environment", "profile default in ..." */
};

void fin_aws_credentials_fini(struct fin_aws_credentials *c);
/* Copies src into dst (both caller's storage). */
int fin_aws_credentials_copy(struct fin_aws_credentials *dst, const struct fin_aws_credentials *src);

/* ---- SigV4 ---- */

struct fin_aws_header {
    const char *name;
    const char *value;
};

#define FIN_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define FIN_SIGV4_DATE_LEN 16          /* "20150830T123600Z" */
#define FIN_SIGV4_MAX_HEADERS 64

/* A request as it goes on the wire. path is the request target's path as sent (percent
 * escapes allowed, raw bytes allowed); query is what follows '?', without it (NULL or ""
 * for none). headers must hold Host and X-Amz-Date (and X-Amz-Security-Token when there
 * is a session token); every header given is signed. */
struct fin_sigv4_request {
    const char *method;
    const char *path;
    const char *query;
    const struct fin_aws_header *headers;
    size_t n_headers;
    const void *payload;
    size_t payload_len;
    const char *payload_hash;  /* hex SHA-256 or UNSIGNED-PAYLOAD; NULL: hash of payload */
};

struct fin_sigv4_scope {
    const char *region;
    const char *service;
    int64_t time_s;            /* UTC seconds of the request: the X-Amz-Date header's value */
    /* S3 signs the path as it is (each segment encoded once, no dot-segment removal);
     * every other service normalises the path and encodes it once more. */
    bool s3_path_rules;
};

/* The intermediate strings and the result of one signature. */
struct fin_sigv4_result {
    struct fin_buf canonical_request;
    struct fin_buf string_to_sign;
    struct fin_buf authorization;          /* the Authorization header's value */
    char signed_headers[1024];              /* "host;x-amz-date" */
    char signature[65];                     /* hex */
};

void fin_sigv4_result_init(struct fin_sigv4_result *r);
void fin_sigv4_result_fini(struct fin_sigv4_result *r);

/* "20150830T123600Z" for t (UTC seconds); out needs FIN_SIGV4_DATE_LEN + 1 bytes. */
void fin_sigv4_format_date(int64_t t, char *out);
/* Reads an X-Amz-Date value back into UTC seconds; FIN_EPARSE otherwise. */
int fin_sigv4_parse_date(const char *s, int64_t *t);

/* Hex SHA-256 of data; out needs 65 bytes. */
void fin_sha256_hex(const void *data, size_t len, char out[65]);
/* Base64 of the MD5 of data (the Content-MD5 header); out needs 25 bytes. */
void fin_md5_base64(const void *data, size_t len, char out[25]);

/* Percent-encodes src as SigV4 wants it (RFC 3986 unreserved kept, upper-case hex);
 * '/' is kept when keep_slash. Appends to out. */
int fin_aws_uri_encode(struct fin_buf *out, const char *src, size_t len, bool keep_slash);

/* Signs req: fills res (caller's storage, fin_sigv4_result_init first). Fails with
 * FIN_EINVAL for a request that cannot be signed (no Host header, too many headers). */
int fin_sigv4_sign(const struct fin_sigv4_request *req, const struct fin_sigv4_scope *scope,
                   const struct fin_aws_credentials *creds, struct fin_sigv4_result *res);

/* The derived key for date ("20150830"), region and service. */
void fin_sigv4_signing_key(const char *secret, const char *date8, const char *region,
                           const char *service, unsigned char key[32]);

/* The verifier, for a server that accepts signed requests (finstream serve): looks up
 * the secret for an access key id. Returns 0 and fills *secret (borrowed until the next
 * call), or FIN_ENOENT for an unknown key. */
typedef int (*fin_sigv4_secret_fn)(void *ctx, const char *access_key_id, const char **secret);

struct fin_sigv4_verified {
    char access_key_id[129];
    char region[64];
    char service[64];
    int64_t time_s;
};

/* Checks a received request: parses its Authorization header (from req->headers), takes
 * the signed headers only, checks X-Amz-Date against now_s within max_skew_s, recomputes
 * the signature and compares in constant time. req->payload_hash may be the client's
 * X-Amz-Content-Sha256 value; NULL hashes the payload. Returns 0 (and *out when not NULL),
 * or FIN_EAUTH with a message saying what did not match. */
int fin_sigv4_verify(const struct fin_sigv4_request *req, bool s3_path_rules,
                     fin_sigv4_secret_fn lookup, void *lookup_ctx, int64_t now_s,
                     int64_t max_skew_s, struct fin_sigv4_verified *out);

/* ---- settings: the [aws] section of finstream.ini, or [aws "NAME"] ---- */

enum fin_s3_addressing { FIN_S3_ADDR_AUTO, FIN_S3_ADDR_PATH, FIN_S3_ADDR_VIRTUAL };

struct fin_aws_settings {
    char *region;              /* empty: AWS_REGION, AWS_DEFAULT_REGION, profile, us-east-1 */
    char *profile;             /* empty: AWS_PROFILE, "default" */
    char *endpoint_url;        /* empty: the AWS endpoint of the service and region */
    char *access_key_id;       /* a static key; empty: the chain */
    char *secret_access_key;
    char *session_token;
    int addressing;            /* enum fin_s3_addressing */
    int64_t timeout_ms;        /* per HTTP request */
    int64_t retries;           /* attempts after the first, for retriable failures */
    int64_t backoff_ms;        /* first retry delay cap; doubles up to backoff_max_ms */
    int64_t backoff_max_ms;
    int64_t part_size;         /* S3 multipart part size */
    int64_t multipart_threshold; /* objects at least this large go up in parts */
};

extern const struct fin_opt fin_aws_opts[];

/* Defaults, then the [aws] section (or [aws "name"] when name is not NULL) of ini when
 * present. Freed with fin_aws_settings_fini. */
int fin_aws_settings_load(struct fin_aws_settings *s, const struct fin_ini *ini, const char *name);
/* Defaults, then [aws], then [aws "SERVICE"] ("s3", "kinesis", "firehose") over it: one
 * set of credentials with a different endpoint_url per service, as emulators need. */
int fin_aws_settings_for(struct fin_aws_settings *s, const struct fin_ini *ini, const char *service);
void fin_aws_settings_fini(struct fin_aws_settings *s);

/* ---- resolution ---- */

/* The credential chain: a static key in settings, then AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, then the profile (settings, AWS_PROFILE, or
 * "default") in the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
 * ~/.aws/credentials), then in the config file (AWS_CONFIG_FILE or ~/.aws/config, where
 * it is [profile NAME], or [default]). FIN_ENOENT naming every place looked at when none
 * has a key; FIN_ECONFIG naming file and line for a malformed file. */
int fin_aws_resolve_credentials(const struct fin_aws_settings *s, struct fin_aws_credentials *out);

/* The region: settings, AWS_REGION, AWS_DEFAULT_REGION, the profile's region in the
 * config file, else us-east-1. out needs 64 bytes. */
int fin_aws_resolve_region(const struct fin_aws_settings *s, char *out, size_t cap);

/* A parsed endpoint: scheme://host[:port][/base]. */
struct fin_aws_endpoint {
    char scheme[8];            /* "https" or "http" */
    char host[256];            /* host name, no port */
    int port;                  /* 0: the scheme's default */
    char base_path[256];       /* "" or "/prefix" without trailing slash */
    bool custom;               /* came from endpoint_url (an S3-compatible store, an emulator) */
};

/* The endpoint of service ("s3", "kinesis", "firehose") in region, or endpoint_url when
 * it is set. FIN_EINVAL for a malformed URL. */
int fin_aws_resolve_endpoint(const char *service, const char *region, const char *endpoint_url,
                             struct fin_aws_endpoint *out);

/* ---- transport ----
 *
 * Requests go out through struct fin_http_transport (finstream/http.h) with
 * FIN_HTTP_EXACT_HEADERS: the transport adds no header of its own, so what the server
 * sees is what was signed. */

/* ---- errors ---- */

enum fin_aws_error_class {
    FIN_AWS_OK,
    FIN_AWS_RETRIABLE,     /* 5xx, RequestTimeout, InternalError: try again -> FIN_EAGAIN */
    FIN_AWS_THROTTLED,     /* 429, SlowDown, ThrottlingException ... -> FIN_ETHROTTLE */
    FIN_AWS_AUTH,          /* 401/403, SignatureDoesNotMatch, AccessDenied ... -> FIN_EAUTH */
    FIN_AWS_FATAL,         /* any other 4xx -> FIN_EHTTP, or FIN_ENOENT for a missing thing */
};

struct fin_aws_error {
    enum fin_aws_error_class cls;
    int code;                  /* the FIN_E* code for cls */
    char type[128];            /* "ProvisionedThroughputExceededException", "NoSuchKey", "" */
    char message[256];
};

/* Classifies an answer from its status and AWS's error shapes: a JSON body with "__type"
 * (with or without a "prefix#"), the x-amzn-ErrorType header, or S3's XML
 * <Error><Code>...</Code><Message>...</Message></Error>. */
void fin_aws_classify(const struct fin_http_response *resp, struct fin_aws_error *err);
/* The class of an error code alone (for per-record errors in PutRecords answers). */
enum fin_aws_error_class fin_aws_classify_code(const char *type, long status);
int fin_aws_class_errcode(enum fin_aws_error_class cls);

/* ---- the client ---- */

struct fin_aws_client_stats {
    uint64_t requests;         /* HTTP requests sent, retries included */
    uint64_t retries;
    uint64_t bytes_sent;
    int64_t sign_ns;           /* time spent building and signing requests */
    int64_t send_ns;           /* time in the transport (network and server) */
};

struct fin_aws_client;

/* What the client needs besides settings; every field may be NULL/0. */
struct fin_aws_client_deps {
    struct fin_http_transport *transport;  /* NULL: libcurl; given: borrowed */
    const struct fin_clock *clock;         /* NULL: the real clock */
    const struct fin_aws_credentials *credentials; /* NULL: resolved from settings */
    uint64_t seed;                         /* jitter; 0: from the clock */
};

/* A client for service ("s3", "kinesis", "firehose"): resolves region, endpoint and
 * credentials once. Owned by the caller (fin_aws_client_destroy). Not for two threads. */
int fin_aws_client_create(struct fin_aws_client **out, const char *service,
                          const struct fin_aws_settings *s, const struct fin_aws_client_deps *deps);
/* Accepts NULL. */
void fin_aws_client_destroy(struct fin_aws_client *c);

const struct fin_aws_endpoint *fin_aws_client_endpoint(const struct fin_aws_client *c);
const char *fin_aws_client_region(const struct fin_aws_client *c);
const struct fin_aws_client_stats *fin_aws_client_stats(const struct fin_aws_client *c);
const struct fin_clock *fin_aws_client_clock(const struct fin_aws_client *c);
const struct fin_aws_settings *fin_aws_client_settings(const struct fin_aws_client *c);

/* One call. host NULL: the endpoint's host. path is the encoded wire path (endpoint base
 * path is put in front); query the encoded query or NULL. Extra headers are signed too. */
struct fin_aws_call {
    const char *method;
    const char *host;
    const char *path;
    const char *query;
    const struct fin_aws_header *headers;
    size_t n_headers;
    const void *body;
    size_t body_len;
    const char *payload_hash;  /* NULL: SHA-256 of body */
    bool s3;                   /* S3 path rules and x-amz-content-sha256 */
    const char *what;          /* for messages: "PutObject bucket/key" */
};

/* Sends call, retrying retriable and throttled failures (no answer, 5xx, throttling) up
 * to settings->retries times with full-jitter backoff. Returns 0 for a 2xx answer (resp
 * holds it, its body NUL-terminated); otherwise the FIN_E* code of the last failure, with err filled (when not
 * NULL) and a message naming call->what, status and AWS's error code. */
int fin_aws_client_call(struct fin_aws_client *c, const struct fin_aws_call *call,
                        struct fin_http_response *resp, struct fin_aws_error *err);

/* The delay before retry number attempt (0-based): uniform in [0, min(max, base*2^attempt)]. */
int64_t fin_aws_backoff_ms(uint64_t *rng, int attempt, int64_t base_ms, int64_t max_ms);

/* A JSON-protocol call (Kinesis, Firehose): POST / with X-Amz-Target: target and body. */
int fin_aws_client_json(struct fin_aws_client *c, const char *target, const char *body,
                        size_t len, struct fin_http_response *resp, struct fin_aws_error *err);

#endif
