/* kinesis_read.c - the read side of the Kinesis API: GetShardIterator and GetRecords.
 *
 * Shard iterators have Kinesis' structure: eight bytes 00 00 00 00 00 00 00 01 (the
 * version, as Kinesis sends it) and then, encrypted with AES-256-CBC, the text
 *
 *   <made, ms, 14 digits>/<stream>/<shardId-NNNNNNNNNNNN>/<sequence number>/<36 more>
 *
 * which is how the reference implementation lays them out (its key and IV are the ones
 * used here: the encryption makes iterators opaque, it is no access control, since any
 * caller may ask for an iterator anyway). The sequence number is the wire form (AWS's
 * layout, seqno.c) of the position for AT_/AFTER_SEQUENCE_NUMBER, 0 otherwise; the last
 * field carries what Kinesis keeps elsewhere: the iterator's kind (1 digit), the
 * AT_TIMESTAMP time (ms, 14 digits), the stream's creation time (12 digits, so an
 * iterator outlives neither a deletion nor a re-creation), a CRC32C of the text before it
 * (8 hex digits) and a 0. Iterators expire after five minutes with Kinesis' message; a
 * damaged one is "Invalid ShardIterator.".
 *
 * LATEST is resolved when the iterator is made ("after the newest record now"), so the
 * records put afterwards are read by it. GetRecords returns a new iterator positioned
 * after the last record it returned; at the end of a shard closed by a split or merge
 * it returns no next iterator but the child shards. */
#include "kinesis.h"
#include "seqno.h"

#include "finstream/crc32c.h"
#include "finstream/error.h"

#include <inttypes.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const unsigned char ITER_KEY[32] = {
    0x11, 0x33, 0xa5, 0xa8, 0x33, 0x66, 0x6b, 0x49, 0xab, 0xf2, 0x8c, 0x8b, 0xa3, 0x02, 0x93, 0x0f,
    0x0b, 0x2f, 0xb2, 0x40, 0xdc, 0xcd, 0x43, 0xcf, 0x4d, 0xfb, 0xc0, 0xca, 0x91, 0xf1, 0x77, 0x51};
static const unsigned char ITER_IV[16] = {0x7b, 0xf1, 0x39, 0xdb, 0xab, 0xbe, 0xa2, 0xd9,
                                          0x99, 0x5d, 0x6f, 0xca, 0xe1, 0xdf, 0xf7, 0xda};

struct iter_token {
    int type;                        /* enum fin_iter_type (never LATEST) */
    int shard;                       /* the number in shardId-NNNNNNNNNNNN */
    int64_t made_ms;
    int64_t ts_ms;                   /* AT_TIMESTAMP */
    int64_t stream_created;          /* the stream's creation time (service metadata) */
    char seq[AWS_SEQ_MAX + 1];       /* wire form, AT_/AFTER_SEQUENCE_NUMBER; "0" otherwise */
    char name[FIN_STREAM_MAX_NAME + 1];
};

static int iter_crypt(bool enc, const unsigned char *in, int n, unsigned char *out, int *out_n)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int a = 0, b = 0, ok = c && EVP_CipherInit_ex(c, EVP_aes_256_cbc(), NULL, ITER_KEY, ITER_IV,
                                                  enc ? 1 : 0) == 1 &&
                           EVP_CipherUpdate(c, out, &a, in, n) == 1 &&
                           EVP_CipherFinal_ex(c, out + a, &b) == 1;
    EVP_CIPHER_CTX_free(c);
    *out_n = a + b;
    return ok ? 0 : FIN_EPARSE;
}

static json_t *token_make(const struct iter_token *t)
{
    char text[512];
    int n = snprintf(text, sizeof text, "%014" PRId64 "/%s/shardId-%012d/%s/", t->made_ms,
                     t->name, t->shard, t->seq[0] ? t->seq : "0");
    n += snprintf(text + n, sizeof text - (size_t)n, "%d%014" PRId64 "%012" PRId64, t->type,
                  t->ts_ms < 0 ? 0 : t->ts_ms, t->stream_created < 0 ? 0 : t->stream_created);
    uint32_t crc = fin_crc32c(0, text, (size_t)n);
    n += snprintf(text + n, sizeof text - (size_t)n, "%08x0", crc);
    unsigned char raw[8 + sizeof text + 32] = {0, 0, 0, 0, 0, 0, 0, 1};
    int clen;
    if (iter_crypt(true, (const unsigned char *)text, n, raw + 8, &clen))
        return NULL;
    struct fin_buf b;
    fin_buf_init(&b);
    json_t *s = NULL;
    if (b64_append(&b, raw, (size_t)clen + 8) == 0)
        s = json_stringn(b.data, b.len);
    fin_buf_fini(&b);
    return s;
}

static int token_parse(const char *s, struct iter_token *t)
{
    size_t len = strlen(s);
    unsigned char raw[512], text[512];
    if (len % 4 || len > sizeof raw / 3 * 4)
        return FIN_EPARSE;
    long n = b64_decode(s, len, raw);
    if (n < 8 + 16 || (n - 8) % 16 || memcmp(raw, "\0\0\0\0\0\0\0\1", 8) != 0)
        return FIN_EPARSE;
    int tn;
    if (iter_crypt(false, raw + 8, (int)n - 8, text, &tn) || tn < 36 + 4)
        return FIN_EPARSE;
    text[tn] = 0;
    /* made/name/shard/seq/trailer */
    char *f[5], *save = NULL;
    int nf = 0;
    for (char *p = strtok_r((char *)text, "/", &save); p && nf < 5; p = strtok_r(NULL, "/", &save))
        f[nf++] = p;
    if (nf != 5 || strlen(f[4]) != 36 || strlen(f[1]) > FIN_STREAM_MAX_NAME ||
        strlen(f[3]) > AWS_SEQ_MAX || strncmp(f[2], "shardId-", 8) != 0)
        return FIN_EPARSE;
    /* the CRC covers the text up to the trailer's own checksum */
    size_t covered = (size_t)(f[4] - (char *)text) + 27;
    char crc_hex[9];
    memcpy(crc_hex, f[4] + 27, 8), crc_hex[8] = 0;
    for (int i = 1; i < 5; i++)
        f[i][-1] = '/';
    if (strtoul(crc_hex, NULL, 16) != fin_crc32c(0, text, covered))
        return FIN_EPARSE;
    for (int i = 1; i < 5; i++)
        f[i][-1] = 0;
    memset(t, 0, sizeof *t);
    t->made_ms = strtoll(f[0], NULL, 10);
    snprintf(t->name, sizeof t->name, "%s", f[1]);
    t->shard = atoi(f[2] + 8);
    snprintf(t->seq, sizeof t->seq, "%s", f[3]);
    char x[16];
    t->type = f[4][0] - '0';
    memcpy(x, f[4] + 1, 14), x[14] = 0;
    t->ts_ms = strtoll(x, NULL, 10);
    memcpy(x, f[4] + 15, 12), x[12] = 0;
    t->stream_created = strtoll(x, NULL, 10);
    if (t->type < 0 || t->type > FIN_ITER_AT_TIMESTAMP || t->type == FIN_ITER_LATEST)
        return FIN_EPARSE;
    return 0;
}

/* Kinesis' date in messages: "Thu Jan 22 01:22:02 UTC 2015". */
static void amz_date(int64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%a %b %d %H:%M:%S UTC %Y", &tm);
}

/* A number as JavaScript prints it (the shortest text that reads back the same). */
static void js_number(double v, char *out, size_t cap)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(out, cap, "%.*g", p, v);
        if (strtod(out, NULL) == v)
            break;
    }
    if (strchr(out, 'e')) /* JavaScript writes integers below 1e21 in full */
        snprintf(out, cap, "%.0f", v);
}

#define BOTH_SPECIFIED                                                                         \
    "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "                \
    "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "    \
    "Request specified %s and %s StartingSequenceNumber."

void get_shard_iterator(struct req *r)
{
    struct sstream *ss = NULL;
    struct fin_iter *it = NULL;
    const char *shard_id = json_string_value(json_object_get(r->body, "ShardId"));
    const char *type = json_string_value(json_object_get(r->body, "ShardIteratorType"));
    const char *seq = json_string_value(json_object_get(r->body, "StartingSequenceNumber"));
    json_t *tsv = json_object_get(r->body, "Timestamp");
    char buf[FIN_STREAM_MAX_NAME + 1], sid[FIN_SHARD_ID_LEN + 1];
    int rc;
    const char *name = stream_name(r, buf, &rc);
    if (rc)
        return;
    static const char *types[] = {"TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER",
                                  "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP"};
    int ty = 0;
    for (int i = 0; i < 5; i++)
        if (strcmp(type, types[i]) == 0)
            ty = i;
    int shard_no = aws_shard_resolve(shard_id, sid);
    if (shard_no < 0) {
        fin_serve_error(r->svc, r->resp, 400, "ResourceNotFoundException",
                        "Could not find shard %s in stream %s under account %s.", shard_id, name,
                        r->svc->account);
        return;
    }
    struct fin_serve_response tmp;
    memset(&tmp, 0, sizeof tmp);
    rc = reg_acquire(r->svc, name, false, &ss, &tmp);
    fin_serve_response_fini(&tmp);
    int pos = rc ? -1 : fin_stream_shard_find(ss->st, sid);
    if (pos < 0 || sstream_status(r->svc, ss) == ST_CREATING) {
        fin_serve_error(r->svc, r->resp, 400, "ResourceNotFoundException",
                        "Shard %s in stream %s under account %s does not exist", sid, name,
                        r->svc->account);
        goto done;
    }
    struct iter_token t = {.type = ty, .shard = shard_no, .made_ms = now_ms(r->svc),
                           .stream_created = ss->created_s};
    snprintf(t.name, sizeof t.name, "%s", ss->name);
    struct fin_shard_info info;
    if ((rc = fin_stream_shard_info(ss->st, pos, &info))) {
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
        goto done;
    }
    /* positions without a number carry the shard's first, as Kinesis' iterators do */
    aws_seq_from_stored(info.desc.starting_seq, 0, false, t.seq);
    if (seq) {
        if (ty == FIN_ITER_TRIM_HORIZON || ty == FIN_ITER_LATEST) {
            invalid(r, BOTH_SPECIFIED, type, "also a");
            goto done;
        }
        struct aws_seq s, start;
        if (aws_seq_parse(seq, &s)) {
            invalid(r, "StartingSequenceNumber %s used in GetShardIterator on shard %s in stream "
                       "%s under account %s is invalid.", seq, sid, name, r->svc->account);
            goto done;
        }
        if (s.shard_ix != shard_no) {
            char enc[FIN_SHARD_ID_LEN + 8];
            snprintf(enc, sizeof enc, s.shard_ix < 0 ? "shardId--%011lld" : "shardId-%012lld",
                     (long long)(s.shard_ix < 0 ? -s.shard_ix : s.shard_ix));
            invalid(r, "Invalid StartingSequenceNumber. It encodes %s, while it was used in a "
                       "call to a shard with %s", enc, sid);
            goto done;
        }
        if (s.version != 2 || s.shard_created_s != stored_seq_created(info.desc.starting_seq) ||
            aws_seq_parse(seq, &start)) {
            if (s.version == 0) {
                serve_error_body(r->svc, r->resp, 500, "InternalFailure", NULL, NULL);
                goto done;
            }
            invalid(r, "StartingSequenceNumber %s used in GetShardIterator on shard %s in stream "
                       "%s under account %s is invalid because it did not come from this stream.",
                    seq, sid, name, r->svc->account);
            goto done;
        }
        t.type = ty == FIN_ITER_AT_SEQUENCE_NUMBER ? FIN_ITER_AT_SEQUENCE_NUMBER
                                                   : FIN_ITER_AFTER_SEQUENCE_NUMBER;
        snprintf(t.seq, sizeof t.seq, "%s", seq);
    } else if (ty == FIN_ITER_LATEST) {
        if (info.empty) {
            t.type = FIN_ITER_TRIM_HORIZON;
        } else {
            t.type = FIN_ITER_AFTER_SEQUENCE_NUMBER;
            aws_seq_from_stored(info.last_seq, 0, false, t.seq);
        }
    } else if (ty == FIN_ITER_AT_TIMESTAMP) {
        if (!json_is_number(tsv)) {
            invalid(r, "Must specify timestampInMillis parameter for iterator of type "
                       "AT_TIMESTAMP. Current request has no timestamp parameter.");
            goto done;
        }
        double ms = json_number_value(tsv) * 1000.0;
        if (ms > (double)t.made_ms) {
            char a[40];
            js_number(ms, a, sizeof a);
            invalid(r, "The timestampInMillis parameter cannot be greater than the "
                       "currentTimestampInMillis. timestampInMillis: %s, "
                       "currentTimestampInMillis: %" PRId64, a, t.made_ms);
            goto done;
        }
        t.ts_ms = (int64_t)ceil(ms);
    } else if (ty != FIN_ITER_TRIM_HORIZON) {
        invalid(r, BOTH_SPECIFIED, type, "no");
        goto done;
    }
    json_t *tok = token_make(&t);
    respond_value(r->svc, r->resp, tok ? json_pack("{s:o}", "ShardIterator", tok) : NULL);
done:
    fin_iter_close(it);
    reg_release(r->svc, ss);
}

void get_records(struct req *r)
{
    struct sstream *ss = NULL;
    struct fin_iter *it = NULL;
    struct fin_buf b;
    fin_buf_init(&b);
    int rc;
    json_t *lv = json_object_get(r->body, "Limit");
    int64_t limit = lv ? json_integer_value(lv) : FIN_SERVE_GET_RECORDS_MAX;
    const char *tok = json_string_value(json_object_get(r->body, "ShardIterator"));
    struct iter_token t;
    int64_t now = now_ms(r->svc);
    if (token_parse(tok, &t) || t.made_ms <= 0 || t.made_ms > now) {
        invalid(r, "Invalid ShardIterator.");
        goto done;
    }
    if (now - t.made_ms > FIN_SERVE_ITER_TTL_MS) {
        char made[64], nowt[64];
        amz_date(t.made_ms, made, sizeof made);
        amz_date(now, nowt, sizeof nowt);
        fin_serve_error(r->svc, r->resp, 400, "ExpiredIteratorException",
                        "Iterator expired. The iterator was created at time %s while right now "
                        "it is %s which is further in the future than the tolerated delay of %d "
                        "milliseconds.", made, nowt, FIN_SERVE_ITER_TTL_MS);
        goto done;
    }
    char sid[FIN_SHARD_ID_LEN + 8];
    snprintf(sid, sizeof sid, "shardId-%012d", t.shard);
    struct fin_serve_response tmp;
    memset(&tmp, 0, sizeof tmp);
    rc = reg_acquire(r->svc, t.name, true, &ss, &tmp);
    fin_serve_response_fini(&tmp);
    int pos = rc ? -1 : fin_stream_shard_find(ss->st, sid);
    if (pos < 0 || ss->created_s != t.stream_created) {
        fin_serve_error(r->svc, r->resp, 400, "ResourceNotFoundException",
                        "Shard %s in stream %s under account %s does not exist", sid, t.name,
                        r->svc->account);
        goto done;
    }
    char seq[FIN_SEQ_LEN + 1] = "";
    if (t.type == FIN_ITER_AT_SEQUENCE_NUMBER || t.type == FIN_ITER_AFTER_SEQUENCE_NUMBER) {
        struct aws_seq s;
        if (aws_seq_parse(t.seq, &s)) {
            invalid(r, "Invalid ShardIterator.");
            goto done;
        }
        aws_seq_to_stored(&s, seq);
    }
    rc = fin_iter_open(&it, ss->st, pos, (enum fin_iter_type)t.type, seq, t.ts_ms);
    if (rc) {
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
        goto done;
    }
    fin_buf_puts(&b, "{\"Records\":[");
    int64_t count = 0, last_arrival = 0;
    size_t bytes = 0;
    bool at_end = false;
    struct fin_record rec;
    while (count < limit && bytes < FIN_SERVE_GET_RECORDS_BYTES) {
        rc = fin_iter_next(it, &rec);
        if (rc == FIN_EEND) {
            at_end = true;
            break;
        }
        if (rc) {
            fin_buf_fini(&b);
            fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
            goto done;
        }
        char wire[AWS_SEQ_MAX + 1];
        aws_seq_from_stored(rec.seq, rec.arrival_ms / 1000, false, wire);
        if (count)
            fin_buf_append(&b, ",", 1);
        fin_buf_printf(&b, "{\"SequenceNumber\":\"%s\",\"ApproximateArrivalTimestamp\":%" PRId64
                           ".%03d,\"Data\":\"",
                       wire, rec.arrival_ms / 1000, (int)(rec.arrival_ms % 1000));
        b64_append(&b, rec.data, rec.len);
        fin_buf_puts(&b, "\",\"PartitionKey\":");
        json_str_append(&b, rec.key, rec.key_len);
        if (fin_buf_puts(&b, "}")) {
            fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "out of memory");
            goto done;
        }
        memcpy(t.seq, wire, sizeof wire);
        t.type = FIN_ITER_AFTER_SEQUENCE_NUMBER;
        last_arrival = rec.arrival_ms;
        count++;
        bytes += rec.len;
    }
    int64_t behind = at_end || !count ? 0 : now - last_arrival;
    if (behind < 0)
        behind = 0;
    t.made_ms = now;
    /* At the end of a closed shard there is no next iterator: read the children. */
    bool closed = at_end && fin_iter_shard_closed(it);
    json_t *next = closed ? json_null() : token_make(&t);
    if (closed) {
        fin_buf_puts(&b, "],\"ChildShards\":[");
        struct fin_shard_desc *v = NULL;
        size_t nv = 0, k = 0;
        if (fin_stream_list_shards(ss->st, &v, &nv) == 0)
            for (size_t i = 0; i < nv; i++)
                if (strcmp(v[i].parent, sid) == 0 || strcmp(v[i].adjacent_parent, sid) == 0) {
                    fin_buf_printf(&b, "%s{\"ShardId\":\"%s\",\"ParentShards\":[\"%s\"%s%s%s],"
                                       "\"HashKeyRange\":{\"StartingHashKey\":\"%s\","
                                       "\"EndingHashKey\":\"%s\"}}",
                                   k++ ? "," : "", v[i].id, v[i].parent,
                                   v[i].adjacent_parent[0] ? ",\"" : "", v[i].adjacent_parent,
                                   v[i].adjacent_parent[0] ? "\"" : "", v[i].hash_start,
                                   v[i].hash_end);
                }
        free(v);
        fin_buf_printf(&b, "],\"MillisBehindLatest\":%" PRId64 "}", behind);
    } else {
        fin_buf_puts(&b, "],\"NextShardIterator\":\"");
        fin_buf_puts(&b, next ? json_string_value(next) : "");
        fin_buf_printf(&b, "\",\"MillisBehindLatest\":%" PRId64 "}", behind);
    }
    json_decref(next);
    atomic_fetch_add(&r->svc->m.get_requests, 1);
    atomic_fetch_add(&r->svc->m.out_records, (uint_fast64_t)count);
    atomic_fetch_add(&r->svc->m.out_bytes, bytes);
    atomic_store(&r->svc->m.iterator_age_ms, behind);
    if (!next || !fin_buf_cstr(&b))
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "out of memory");
    else
        respond_json(r->resp, &b);
done:
    fin_buf_fini(&b);
    fin_iter_close(it);
    reg_release(r->svc, ss);
}
