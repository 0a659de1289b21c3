/* internal.h - what the serve library's files share: the service and its stream
 * registry, the metrics, and the small codecs of the wire protocol (base64, JSON
 * output, shard iterators). */
#ifndef FIN_SERVE_INTERNAL_H
#define FIN_SERVE_INTERNAL_H

#include "finstream/buf.h"
#include "finstream/serve.h"
#include "finstream/stream.h"

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum sstatus { ST_CREATING, ST_ACTIVE, ST_UPDATING, ST_DELETING };

/* A stream as the service keeps it. Fields under the registry mutex, except st, which
 * is set once when opened and read without the lock by holders of a reference. */
struct sstream {
    char name[FIN_STREAM_MAX_NAME + 1];
    struct fin_stream *st;      /* the writer; NULL until first opened */
    int refs;                   /* requests using st now */
    int status;                 /* enum sstatus, as it was when until_ms was set */
    int64_t until_ms;           /* CREATING/UPDATING/DELETING end then (service clock) */
    int64_t created_s;          /* StreamCreationTimestamp */
    int64_t retention_h;        /* as set through the API */
    json_t *tags;               /* object, key -> value (owned) */
    bool on_demand;             /* StreamMode ON_DEMAND (else PROVISIONED) */
    json_t *metrics;            /* enabled shard-level metrics, an array (owned; NULL: none) */
    bool pending;               /* its data is still being made by creator (CREATING) */
    bool has_creator;           /* creator is to be joined */
    pthread_t creator;
    struct fin_stream_config create_cfg;
    struct fin_serve *svc;      /* for creator */
    bool gone;                  /* deleted: data removed once refs drops to 0 */
    struct sstream *next;
};

/* A delivery stream as the service keeps it; under the registry mutex. */
struct sdelivery {
    struct fin_serve *svc;
    char name[65];
    bool direct;                /* DirectPut (else a Kinesis stream is its source) */
    int status;                 /* ST_CREATING until until_ms, then ACTIVE */
    int64_t until_ms;
    int64_t created_s;
    json_t *settings;           /* what DescribeDeliveryStream shows (owned) */
    pthread_t thread;           /* runs fin_delivery_run for it */
    bool running;
    volatile sig_atomic_t stop;
    /* the delivery's counters after its last flush (written by its worker) */
    atomic_uint_fast64_t records, bytes, objects, error_records;
    atomic_int_fast64_t last_flush_ms;
    struct sdelivery *next;
};

/* Latency histogram buckets, in seconds, for the put latency metric. */
#define LAT_BUCKETS 12

struct metrics {
    atomic_uint_fast64_t in_records, in_bytes, put_requests, put_failed_records;
    atomic_uint_fast64_t out_records, out_bytes, get_requests;
    atomic_uint_fast64_t lat_bucket[LAT_BUCKETS + 1];  /* last: +Inf */
    atomic_uint_fast64_t lat_sum_us, lat_count;
    atomic_int_fast64_t iterator_age_ms;                /* of the last GetRecords */
    atomic_uint_fast64_t requests, http_4xx, http_5xx;
    atomic_uint_fast64_t fh_records, fh_bytes;          /* Firehose incoming */
    pthread_mutex_t err_mu;
    json_t *errors;             /* __type -> count (owned) */
};

struct serve_key {
    char *id, *secret;
};

struct fin_serve {
    struct fin_serve_config cfg;
    struct serve_key *keys;     /* configured access keys (owned) */
    size_t n_keys;
    char *data_dir, *config_path, *meta_dir;
    char account[13];
    char region[32];
    const struct fin_clock *clock;
    pthread_mutex_t mu;
    struct sstream *streams;
    struct sdelivery *deliveries;
    struct schedule *schedules;   /* scheduled collectors (lambda.c) */
    pthread_mutex_t sched_mu;
    pthread_mutex_t collect_mu;   /* one collection at a time (lambda.c) */
    pthread_cond_t sched_cv;
    bool sched_stop;
    struct metrics m;
};

/* ---- proto.c: codecs and responses ---- */

/* Base64 (standard alphabet, padded). decode returns -1 on a bad character or length;
 * out must hold 3 * (len / 4) bytes. */
long b64_decode(const char *in, size_t len, unsigned char *out);
int b64_append(struct fin_buf *b, const void *data, size_t len);
/* Appends s as a JSON string, quotes included. */
int json_str_append(struct fin_buf *b, const char *s, size_t len);

void new_request_ids(struct fin_serve_response *resp);
/* Sets resp to 200 with the JSON body taken over from b. */
void respond_json(struct fin_serve_response *resp, struct fin_buf *b);
/* Sets resp to 200 with an empty body (operations without output). */
void respond_empty(struct fin_serve_response *resp);
/* Sets resp to 200 with the serialised value of v (v is released). */
void respond_value(struct fin_serve *svc, struct fin_serve_response *resp, json_t *v);

/* An AWS error body {"__type": type, msg_key: msg} (no message member when msg is NULL;
 * msg_key is "message", or "Message" where AWS capitalises it). */
void serve_error_body(struct fin_serve *svc, struct fin_serve_response *resp, int status,
                      const char *type, const char *msg_key, const char *msg);
/* The XML error AWS gives before it knows the protocol: <Type><Message>msg</Message></Type>,
 * or <Type/> when msg is NULL; no Content-Type. */
void serve_error_xml(struct fin_serve *svc, struct fin_serve_response *resp, int status,
                     const char *type, const char *msg);

int64_t now_ms(struct fin_serve *svc);
void metrics_init(struct metrics *m);
void metrics_fini(struct metrics *m);
void metrics_put_latency(struct metrics *m, int64_t ns);

/* ---- service.c: the registry ---- */

/* Finds name and takes a reference to it, opening its writer on first use. On failure
 * (unknown, or CREATING when need_active, or the writer cannot be opened) fills resp
 * with the AWS error and returns it as a FIN_E* code. Released with reg_release(). */
int reg_acquire(struct fin_serve *svc, const char *name, bool need_active, struct sstream **out,
                struct fin_serve_response *resp);
/* The same for serve's own users (Firehose puts, collectors), which may name the
 * internal streams that reg_acquire treats as absent. */
int reg_acquire_private(struct fin_serve *svc, const char *name, bool need_active,
                        struct sstream **out, struct fin_serve_response *resp);
void reg_release(struct fin_serve *svc, struct sstream *ss);
/* The registry mutex, for listing, creating and deleting. */
void reg_lock(struct fin_serve *svc);
void reg_unlock(struct fin_serve *svc);
struct sstream *reg_find_locked(struct fin_serve *svc, const char *name);
/* Marks ss deleted (DELETING for a while) and removes its data once unused. Under the lock. */
void reg_delete_locked(struct fin_serve *svc, struct sstream *ss);
struct sstream *sstream_new(const char *name);
/* Streams serve keeps for itself (a DirectPut delivery stream's records go to
 * "__firehose.NAME"): listed, described, read, written, resharded, deleted or created
 * through the Kinesis API, they answer as if absent. The one rule, used by every Kinesis
 * entry point that takes a stream name. */
#define FIN_SERVE_INTERNAL_PREFIX "__firehose."
bool reg_internal_name(const char *name);
/* For a Kinesis request whose StreamName, StreamARN or ConsumerARN names an internal
 * stream: fills resp (ResourceNotFoundException; InvalidArgumentException for
 * CreateStream, since the name is reserved) and returns true. */
bool reg_refuse_internal(struct fin_serve *svc, const char *op, json_t *body,
                         struct fin_serve_response *resp);
/* The status now (enum sstatus). */
int sstream_status(struct fin_serve *svc, const struct sstream *ss);
/* With the registry locked: makes ss's data (cfg) in a thread of its own, ss CREATING
 * until it is done; a failure or a deletion meanwhile leaves ss gone. */
int reg_create_async_locked(struct fin_serve *svc, struct sstream *ss,
                            const struct fin_stream_config *cfg);
/* With the registry locked: 0 when the account's open shards plus more stay within
 * the shard limit, else LimitExceededException in resp and FIN_ELIMIT. */
int account_shard_limit_error(struct fin_serve *svc, int64_t more,
                              struct fin_serve_response *resp);
/* With the registry locked: the open shards of all streams. */
int64_t account_open_shards(struct fin_serve *svc);
/* Writes ss's tags, retention and creation time beside the stream. */
int meta_save(struct fin_serve *svc, struct sstream *ss);

/* ---- kinesis.c ---- */

/* True when op is a Kinesis action serve implements. */
bool kinesis_has_op(const char *op);
/* Runs the Kinesis action op (the part of X-Amz-Target after the dot) with body. */
void kinesis_dispatch(struct fin_serve *svc, const char *op, json_t *body,
                      struct fin_serve_response *resp);

/* Appends e (n records; ehks NULL, or per record an explicit hash key or NULL) to ss
 * and answers with one result per record. res and rcs are scratch arrays of n. */
void put_entries(struct fin_serve *svc, struct fin_serve_response *resp, struct sstream *ss,
                 const struct fin_put_entry *e, const char **ehks, size_t n,
                 struct fin_put_result *res, int *rcs);

/* ---- firehose.c ---- */

/* Starts a worker for each [delivery] of the configuration; stops and frees them all. */
int firehose_start(struct fin_serve *svc);
void firehose_stop(struct fin_serve *svc);
/* Appends the delivery streams' metrics. */
void firehose_metrics(struct fin_serve *svc, struct fin_buf *b);
void firehose_dispatch(struct fin_serve *svc, const struct fin_serve_request *req, const char *op,
                       json_t *body, struct fin_serve_response *resp);

/* ---- lambda.c ---- */

/* True for /2015-03-31/functions/NAME/invocations. */
bool lambda_path(const char *path);
void lambda_invoke(struct fin_serve *svc, const struct fin_serve_request *req,
                   struct fin_serve_response *resp);
/* Starts a thread for each [collector] with `every` that sends to a stream or delivery
 * stream; stops and joins them. */
int schedules_start(struct fin_serve *svc);
void schedules_stop(struct fin_serve *svc);

/* ---- cbor.c ---- */

/* The JSON value a CBOR body means (byte strings become base64 text); *out owned by
 * the caller. FIN_EPARSE for malformed input. */
int cbor_to_json(const void *data, size_t len, json_t **out);
/* A JSON answer as CBOR (Data members as byte strings, timestamps tagged); *out owned
 * by the caller (free()). */
int json_text_to_cbor(const char *text, size_t len, char **out, size_t *out_len);

/* ---- fastput.c ---- */

/* PutRecords of the usual shape without a JSON tree: true when it answered, false when
 * the body is anything else and the general path must parse it. */
bool kinesis_put_records_fast(struct fin_serve *svc, const char *body, size_t len,
                              struct fin_serve_response *resp);

#endif
