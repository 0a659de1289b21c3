/* aws_kinesis.h - producing to Kinesis Data Streams and Firehose, and reading a Kinesis
 * stream, over the signed client (aws.h).
 *
 * Producers batch records and send them with PutRecords (Kinesis) or PutRecordBatch
 * (Firehose) within the services' limits. Both APIs accept a batch and may reject some of
 * its records (throttled shards, internal failures); the rejected records are sent again,
 * in their original order and before any newer record, until they succeed or the retries
 * run out, and then reported: counted in the stats and returned as an error from the put
 * or flush that gave up. A producer is also a struct fin_record_sink (collector.h), which
 * is how the collector writes to it:
 *
 *     struct fin_kinesis_producer *p;
 *     fin_kinesis_producer_create(&p, &aws_settings, NULL, "stocks");
 *     struct fin_record_sink sink = fin_kinesis_producer_sink(p);
 *     ... sink.put(sink.ctx, "FB", 2, rec, len) ...; sink.flush(sink.ctx);
 *     fin_kinesis_producer_destroy(p);
 *
 * The reader follows every shard of a stream with GetShardIterator and the GetRecords
 * iterator chain, never calling GetRecords on a shard more than 5 times a second (the
 * Kinesis limit), and reports where it is in each shard so that a consumer can checkpoint
 * and resume after a sequence number. */
#ifndef FINSTREAM_AWS_KINESIS_H
#define FINSTREAM_AWS_KINESIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finstream/aws.h"
#include "finstream/collector.h"

/* Service limits. */
#define FIN_KINESIS_PUT_MAX_RECORDS 500
#define FIN_KINESIS_PUT_MAX_BYTES   (5 << 20)    /* data + partition keys, per PutRecords */
#define FIN_KINESIS_RECORD_MAX      (1 << 20)    /* data + partition key, per record */
#define FIN_KINESIS_KEY_MAX         256
#define FIN_KINESIS_GET_PER_SEC     5            /* GetRecords calls per shard per second */
#define FIN_KINESIS_GET_MAX_RECORDS 10000
#define FIN_FIREHOSE_PUT_MAX_RECORDS 500
#define FIN_FIREHOSE_PUT_MAX_BYTES  (4 << 20)
#define FIN_FIREHOSE_RECORD_MAX     (1000 * 1024)

struct fin_producer_stats {
    uint64_t records;          /* records the service accepted */
    uint64_t failed;           /* records given up on after their retries (reported) */
    uint64_t resent;           /* record sends that were retries of rejected records */
    uint64_t calls;            /* PutRecords / PutRecordBatch calls that got an answer */
    uint64_t bytes;            /* record bytes accepted */
};

/* ---- Kinesis producer ---- */

struct fin_kinesis_producer;

/* A producer to stream_name (settings: region, endpoint_url, retries, backoff...). Owned by
 * the caller; deps may be NULL. Not for two threads at once. */
int fin_kinesis_producer_create(struct fin_kinesis_producer **out, const struct fin_aws_settings *s,
                                const struct fin_aws_client_deps *deps, const char *stream_name);
/* Queues one record (the partition key is the ticker); sends a batch when 500 records or
 * 5 MiB are queued. FIN_EINVAL / FIN_ELIMIT naming the record for a bad key or an
 * oversize record (nothing is queued); the error of a batch that failed for good. */
int fin_kinesis_producer_put(struct fin_kinesis_producer *p, const char *key, size_t key_len,
                             const void *data, size_t len);
/* Sends everything queued; returns once every record was accepted or given up on. */
int fin_kinesis_producer_flush(struct fin_kinesis_producer *p);
const struct fin_producer_stats *fin_kinesis_producer_stats(const struct fin_kinesis_producer *p);
struct fin_aws_client *fin_kinesis_producer_client(struct fin_kinesis_producer *p);
/* The producer as a record sink; ctx is p, valid until destroy. */
struct fin_record_sink fin_kinesis_producer_sink(struct fin_kinesis_producer *p);
/* Accepts NULL. Records still queued are dropped (flush first): they count as failed. */
void fin_kinesis_producer_destroy(struct fin_kinesis_producer *p);

/* ---- Firehose producer ---- */

struct fin_firehose_producer;

/* A producer to the delivery stream. Records get a '\n' appended (unless they end with
 * one), so that the objects Firehose writes are newline-delimited JSON, as finstream's own
 * delivery writes them. */
int fin_firehose_producer_create(struct fin_firehose_producer **out,
                                 const struct fin_aws_settings *s,
                                 const struct fin_aws_client_deps *deps, const char *delivery_name);
/* Sends a batch at 500 records or 4 MiB; the key is not used by Firehose. */
int fin_firehose_producer_put(struct fin_firehose_producer *p, const void *data, size_t len);
int fin_firehose_producer_flush(struct fin_firehose_producer *p);
const struct fin_producer_stats *fin_firehose_producer_stats(const struct fin_firehose_producer *p);
struct fin_aws_client *fin_firehose_producer_client(struct fin_firehose_producer *p);
struct fin_record_sink fin_firehose_producer_sink(struct fin_firehose_producer *p);
void fin_firehose_producer_destroy(struct fin_firehose_producer *p);

/* ---- the collector's --to kinesis:STREAM and --to firehose:DELIVERY ---- */

struct fin_aws_producer;

/* True when to is "kinesis:NAME" or "firehose:NAME". */
bool fin_aws_is_producer_spec(const char *to);
/* Opens the producer a --to value names, with the settings of finstream.ini's [aws] and
 * [aws "kinesis"] or [aws "firehose"] sections (ini may be NULL: defaults and the
 * environment). Owned by the caller (fin_aws_producer_close). */
int fin_aws_producer_open(struct fin_aws_producer **out, const char *to, const struct fin_ini *ini);
/* The record sink (put/flush); ctx valid until close. */
struct fin_record_sink fin_aws_producer_sink(struct fin_aws_producer *p);
const struct fin_producer_stats *fin_aws_producer_stats(const struct fin_aws_producer *p);
/* Flushes what is queued, then frees p; returns the flush's result. Accepts NULL. */
int fin_aws_producer_close(struct fin_aws_producer *p);

/* ---- Kinesis control calls (tests, tools) ---- */

/* CreateStream, then waits (polling DescribeStreamSummary through the client's clock, up to
 * timeout_ms) until it is ACTIVE. An existing stream is not an error. */
int fin_kinesis_create_stream(struct fin_aws_client *c, const char *stream, int shards,
                              int64_t timeout_ms);
int fin_kinesis_delete_stream(struct fin_aws_client *c, const char *stream);

/* ---- Kinesis reader ---- */

struct fin_kinesis_record {
    const char *shard_id;
    const char *sequence;      /* decimal string */
    const char *key;           /* partition key */
    const void *data;
    size_t len;
    int64_t arrival_ms;        /* ApproximateArrivalTimestamp, ms since the epoch */
};

/* Called for each record, in order within a shard; the strings and bytes are borrowed for
 * the call. A non-zero return stops the read and is passed back. */
typedef int (*fin_kinesis_record_fn)(void *ctx, const struct fin_kinesis_record *r);

enum fin_kinesis_start { FIN_KINESIS_TRIM_HORIZON, FIN_KINESIS_LATEST };

struct fin_kinesis_reader;

/* A reader of every shard of stream, from start (for shards without a position). Owned by
 * the caller; deps may be NULL. */
int fin_kinesis_reader_create(struct fin_kinesis_reader **out, const struct fin_aws_settings *s,
                              const struct fin_aws_client_deps *deps, const char *stream,
                              enum fin_kinesis_start start);
/* Resumes shard_id after sequence (a checkpoint); call before the first poll. */
int fin_kinesis_reader_set_position(struct fin_kinesis_reader *r, const char *shard_id,
                                    const char *sequence);
/* One round: a GetRecords call on every open shard whose last call was at least 200 ms ago
 * (sleeping through the clock until one is due), records handed to fn. *n gets the number
 * of records read. *caught_up (may be NULL) is set when every shard answered with no
 * records and 0 ms behind the tip, or is closed. */
int fin_kinesis_reader_poll(struct fin_kinesis_reader *r, fin_kinesis_record_fn fn, void *ctx,
                            size_t *n, bool *caught_up);
/* Polls until caught up; *n gets the total. */
int fin_kinesis_reader_drain(struct fin_kinesis_reader *r, fin_kinesis_record_fn fn, void *ctx,
                             size_t *n);
/* The last sequence number read in shard_id, or NULL; borrowed until the next poll. */
const char *fin_kinesis_reader_position(const struct fin_kinesis_reader *r, const char *shard_id);
size_t fin_kinesis_reader_shards(const struct fin_kinesis_reader *r);
/* GetRecords calls made (for tests of the rate limit and benchmarks). */
uint64_t fin_kinesis_reader_calls(const struct fin_kinesis_reader *r);
struct fin_aws_client *fin_kinesis_reader_client(struct fin_kinesis_reader *r);
/* Accepts NULL. */
void fin_kinesis_reader_destroy(struct fin_kinesis_reader *r);

/* The reader as delivery's source (struct fin_delivery_source, delivery.h), so that
 * fin_delivery_engine_create() consumes a remote Kinesis stream as it consumes a local one:
 * shard ids and sequence numbers are Kinesis's, seek resumes after a checkpoint, next
 * answers FIN_EEND while a shard's 200 ms have not passed or it has nothing new. r is
 * borrowed and must outlive the source; do not poll r while the source is in use. */
struct fin_delivery_source;
int fin_kinesis_delivery_source_create(struct fin_delivery_source **out, struct fin_kinesis_reader *r);
/* Accepts NULL. */
void fin_kinesis_delivery_source_destroy(struct fin_delivery_source *src);

#endif
