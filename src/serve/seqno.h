/* seqno.h - Kinesis' numbers on the wire (seqno.c): sequence numbers in AWS's layout and
 * their mapping to finstream's stored ones, shard ids resolved as AWS resolves them, and
 * 128-bit hash keys as decimal text. */
#ifndef FIN_SERVE_SEQNO_H
#define FIN_SERVE_SEQNO_H

#include "finstream/stream.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AWS_SEQ_MAX 64  /* digits of a formatted number, with room */

struct aws_seq {
    int version;              /* 0, 1 or 2; 2 is what Kinesis issues today */
    int64_t shard_created_s;
    int64_t shard_ix;
    uint64_t seq_ix;
    int64_t seq_time_s;
};

/* Decodes a decimal sequence number as Kinesis does; -1 when it is none. */
int aws_seq_parse(const char *dec, struct aws_seq *out);
/* Formats s (version 2). */
void aws_seq_format(const struct aws_seq *s, char out[AWS_SEQ_MAX + 1]);
/* The wire form of a stored number; record_time_s its record's arrival second (0: the
 * shard's creation); ending: the closed shard's ending number. */
void aws_seq_from_stored(const char *stored, int64_t record_time_s, bool ending,
                         char out[AWS_SEQ_MAX + 1]);
/* The stored form of a (version 2) wire number. */
void aws_seq_to_stored(const struct aws_seq *s, char out[57]);
/* The creation time in a stored number, or -1. */
int64_t stored_seq_created(const char *stored);

/* "shardId-000000000005", "5", "x-5" and "shardId-5-x" all name shard 5: its canonical
 * id into out and its number, or -1 when id names no shard. */
int aws_shard_resolve(const char *id, char out[FIN_SHARD_ID_LEN + 1]);

/* Compares two decimal numbers without leading zeros. */
int dec_cmp(const char *a, const char *b);
/* out = a + d (d small, may be negative). */
void dec_add(const char *a, int d, char *out, size_t cap);
/* Whether the decimal s is at most 2^128 - 1. */
bool hash_key_in_range(const char *s);

#endif
