/* kinesis.c - the Kinesis Data Streams actions of the JSON 1.1 API (target prefix
 * Kinesis_20131202), mapped onto finstream's streams.
 *
 * Validation follows the Kinesis API reference: members checked for presence, type,
 * length and pattern answer ValidationException in the "1 validation error detected"
 * wording; semantic problems answer InvalidArgumentException, missing streams and
 * shards ResourceNotFoundException, limits LimitExceededException.
 *
 * Shard iterators are opaque base64 tokens carrying the stream (and its creation time,
 * so a token outlives neither a deletion nor a re-creation), the shard, a position and
 * the time they were made; they expire after five minutes, as Kinesis' do. A position
 * is TRIM_HORIZON, AT/AFTER a sequence number or AT a timestamp: LATEST is resolved to
 * "after the newest record" when the iterator is made, so records put afterwards are
 * read by it. GetRecords opens a stream iterator at the position, reads, and returns
 * a new token positioned after the last record it returned; at the end of a shard
 * closed by a split or merge it returns no next token but the child shards, as Kinesis
 * does, so consumers read a parent to its end before its children.
 *
 * Tokens name the shard by its number, not its position in the handle, since closed
 * shards leave the stream when retention has emptied them. */
#include "kinesis.h"
#include "seqno.h"

#include "finstream/crc32c.h"
#include "finstream/error.h"
#include "finstream/names.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- validation, in Kinesis' words ---- */

int verr(struct req *r, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fin_serve_error(r->svc, r->resp, 400, "ValidationException", "1 validation error detected: %s",
                    msg);
    return FIN_EINVAL;
}

int invalid(struct req *r, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fin_serve_error(r->svc, r->resp, 400, "InvalidArgumentException", "%s", msg);
    return FIN_EINVAL;
}

/* The lower-camel member name Kinesis puts in validation messages ("streamName"). */
static void member_name(const char *key, char *out, size_t cap)
{
    snprintf(out, cap, "%s", key);
    out[0] = (char)tolower((unsigned char)out[0]);
}

/* A string member: NULL with *rc = 0 when absent and optional; NULL with *rc set (and
 * the response filled) when wrong. */
const char *get_str(struct req *r, const char *key, bool required, size_t min, size_t max,
                           int *rc)
{
    char m[64];
    member_name(key, m, sizeof m);
    *rc = 0;
    json_t *v = json_object_get(r->body, key);
    if (!v || json_is_null(v)) {
        if (required)
            *rc = verr(r, "Value null at '%s' failed to satisfy constraint: Member must not be null",
                       m);
        return NULL;
    }
    if (!json_is_string(v)) {
        fin_serve_error(r->svc, r->resp, 400, "SerializationException",
                        "'%s' must be a string", key);
        *rc = FIN_EPARSE;
        return NULL;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len < min) {
        *rc = verr(r, "Value '%s' at '%s' failed to satisfy constraint: Member must have length "
                      "greater than or equal to %zu", s, m, min);
        return NULL;
    }
    if (len > max) {
        *rc = verr(r, "Value '%.64s...' at '%s' failed to satisfy constraint: Member must have "
                      "length less than or equal to %zu", s, m, max);
        return NULL;
    }
    return s;
}

/* An integer member within [min, max]; *present says whether it was there. */
int get_int(struct req *r, const char *key, bool required, int64_t min, int64_t max,
                   int64_t *out, bool *present)
{
    char m[64];
    member_name(key, m, sizeof m);
    json_t *v = json_object_get(r->body, key);
    *present = v && !json_is_null(v);
    if (!*present)
        return required ? verr(r, "Value null at '%s' failed to satisfy constraint: Member must "
                                  "not be null", m)
                        : 0;
    if (!json_is_integer(v)) {
        fin_serve_error(r->svc, r->resp, 400, "SerializationException", "'%s' must be an integer",
                        key);
        return FIN_EPARSE;
    }
    int64_t x = json_integer_value(v);
    if (x < min)
        return verr(r, "Value '%" PRId64 "' at '%s' failed to satisfy constraint: Member must "
                       "have value greater than or equal to %" PRId64, x, m, min);
    if (x > max)
        return verr(r, "Value '%" PRId64 "' at '%s' failed to satisfy constraint: Member must "
                       "have value less than or equal to %" PRId64, x, m, max);
    *out = x;
    return 0;
}

static bool name_ok(const char *s)
{
    return fin_name_valid(FIN_NAME_STREAM, s, strlen(s));
}

/* The stream a request names, by StreamName or StreamARN. */
const char *stream_name(struct req *r, char buf[FIN_STREAM_MAX_NAME + 1], int *rc)
{
    const char *name = get_str(r, "StreamName", false, 1, FIN_STREAM_MAX_NAME, rc);
    if (*rc)
        return NULL;
    if (!name) {
        const char *arn = get_str(r, "StreamARN", false, 1, 2048, rc);
        if (*rc)
            return NULL;
        const char *slash = arn ? strstr(arn, ":stream/") : NULL;
        if (!arn) {
            *rc = invalid(r, "Either StreamName or StreamARN should be provided.");
            return NULL;
        }
        if (strncmp(arn, "arn:", 4) != 0 || !slash || strlen(slash + 8) < 1 ||
            strlen(slash + 8) > FIN_STREAM_MAX_NAME) {
            *rc = invalid(r, "Invalid StreamARN %s.", arn);
            return NULL;
        }
        snprintf(buf, FIN_STREAM_MAX_NAME + 1, "%s", slash + 8);
        name = buf;
    }
    if (!name_ok(name) || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        *rc = verr(r, "Value '%s' at 'streamName' failed to satisfy constraint: Member must "
                      "satisfy regular expression pattern: [a-zA-Z0-9_.-]+", name);
        return NULL;
    }
    return name;
}

int with_stream(struct req *r, bool need_active, struct sstream **ss)
{
    char buf[FIN_STREAM_MAX_NAME + 1];
    int rc;
    const char *name = stream_name(r, buf, &rc);
    if (rc)
        return rc;
    return reg_acquire(r->svc, name, need_active, ss, r->resp);
}

const char *status_name(int st)
{
    switch (st) {
    case ST_CREATING: return "CREATING";
    case ST_UPDATING: return "UPDATING";
    case ST_DELETING: return "DELETING";
    default: return "ACTIVE";
    }
}

json_t *arn(struct fin_serve *svc, const char *name)
{
    return json_sprintf("arn:aws:kinesis:%s:%s:stream/%s", svc->region, svc->account, name);
}

/* ---- CreateStream, DeleteStream ---- */

/* Streams of more shards than this are made in the background. */
#define SYNC_CREATE_SHARDS 16

static void create_stream(struct req *r)
{
    char buf[FIN_STREAM_MAX_NAME + 1];
    int rc;
    bool has_count;
    int64_t count = 0;
    const char *name = stream_name(r, buf, &rc);
    if (rc || (rc = get_int(r, "ShardCount", false, 1, 100000, &count, &has_count)))
        return;
    json_t *mode = json_object_get(json_object_get(r->body, "StreamModeDetails"), "StreamMode");
    bool on_demand = mode && strcmp(json_string_value(mode), "ON_DEMAND") == 0;
    if (!has_count && !on_demand) {
        invalid(r, "ShardCount is required for PROVISIONED streams.");
        return;
    }
    if (has_count && on_demand) {
        invalid(r, "ShardCount cannot be specified for ON_DEMAND streams.");
        return;
    }
    struct fin_stream_config cfg;
    struct fin_ini ini;
    if ((rc = fin_ini_load(&ini, r->svc->config_path ? r->svc->config_path : "/nonexistent",
                           true)) == 0) {
        rc = fin_stream_config_from_ini(&ini, name, &cfg);
        fin_ini_fini(&ini);
    }
    if (rc) {
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "configuration: %s",
                        fin_err_msg());
        return;
    }
    /* ON_DEMAND starts with four shards, as Kinesis' do */
    int64_t shards = has_count ? count : 4;
    reg_lock(r->svc);
    if (reg_find_locked(r->svc, name)) {
        reg_unlock(r->svc);
        fin_serve_error(r->svc, r->resp, 400, "ResourceInUseException",
                        "Stream %s under account %s already exists.", name, r->svc->account);
        return;
    }
    if (account_shard_limit_error(r->svc, shards, r->resp)) {
        reg_unlock(r->svc);
        return;
    }
    if (shards > FIN_STREAM_MAX_SHARDS) {
        reg_unlock(r->svc);
        fin_serve_error(r->svc, r->resp, 400, "LimitExceededException",
                        "This request would exceed the limit of %d shards a stream may have. "
                        "Number of shards that would have resulted from this request: %lld.",
                        FIN_STREAM_MAX_SHARDS, (long long)shards);
        return;
    }
    cfg.shards = (int)shards;
    /* Kinesis answers at once and makes the shards while the stream is CREATING: a
     * large stream is made by a thread of its own (a thousand shards take seconds) */
    struct sstream *ss = sstream_new(name);
    bool async = shards > SYNC_CREATE_SHARDS;
    rc = !ss ? FIN_ENOMEM : async ? 0 : fin_stream_create(r->svc->data_dir, name, &cfg);
    if (rc) {
        reg_unlock(r->svc);
        if (ss)
            json_decref(ss->tags);
        free(ss);
        if (rc == FIN_EEXIST)
            fin_serve_error(r->svc, r->resp, 400, "ResourceInUseException",
                            "Stream %s under account %s already exists.", name, r->svc->account);
        else
            fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
        return;
    }
    ss->created_s = now_ms(r->svc) / 1000;
    ss->retention_h = (cfg.retention_ms + 3599999) / 3600000;
    ss->status = ST_CREATING;
    ss->on_demand = on_demand;
    ss->until_ms = now_ms(r->svc) + r->svc->cfg.creating_ms;
    json_t *tags = json_object_get(r->body, "Tags");
    if (json_is_object(tags))
        json_object_update(ss->tags, tags);
    meta_save(r->svc, ss);
    ss->next = r->svc->streams;
    r->svc->streams = ss;
    if (async && reg_create_async_locked(r->svc, ss, &cfg)) {
        ss->gone = true;
        ss->until_ms = now_ms(r->svc);
        reg_unlock(r->svc);
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
        return;
    }
    reg_unlock(r->svc);
    respond_empty(r->resp);
}

static void delete_stream(struct req *r)
{
    char buf[FIN_STREAM_MAX_NAME + 1];
    int rc;
    const char *name = stream_name(r, buf, &rc);
    if (rc)
        return;
    reg_lock(r->svc);
    struct sstream *ss = reg_find_locked(r->svc, name);
    if (!ss || ss->gone) {
        reg_unlock(r->svc);
        fin_serve_error(r->svc, r->resp, 400, "ResourceNotFoundException",
                        "Stream %s under account %s not found.", name, r->svc->account);
        return;
    }
    reg_delete_locked(r->svc, ss);
    reg_unlock(r->svc);
    respond_empty(r->resp);
}

/* ---- DescribeStream, DescribeStreamSummary, ListStreams, ListShards ---- */

/* A Shard as Kinesis shows it: parents, hash-key range, sequence-number range (with
 * the ending number once the shard is closed by a split or merge). */
static json_t *shard_json(const struct fin_shard_desc *d)
{
    char start[AWS_SEQ_MAX + 1], end[AWS_SEQ_MAX + 1];
    aws_seq_from_stored(d->starting_seq, 0, false, start);
    json_t *seqr = json_pack("{s:s}", "StartingSequenceNumber", start);
    /* a closed shard ends at the largest sequence index, as Kinesis shows it */
    aws_seq_from_stored(d->starting_seq, 0, true, end);
    if (seqr && d->closed)
        json_object_set_new(seqr, "EndingSequenceNumber", json_string(end));
    json_t *o = json_pack("{s:s, s:{s:s, s:s}, s:o}", "ShardId", d->id, "HashKeyRange",
                          "StartingHashKey", d->hash_start, "EndingHashKey", d->hash_end,
                          "SequenceNumberRange", seqr);
    if (o && d->parent[0])
        json_object_set_new(o, "ParentShardId", json_string(d->parent));
    if (o && d->adjacent_parent[0])
        json_object_set_new(o, "AdjacentParentShardId", json_string(d->adjacent_parent));
    return o;
}

/* Up to max shards after start (an id, or NULL), as ListShards orders them; *more says
 * whether shards are left, *last the id of the last one given. */
static json_t *shards_page(struct fin_stream *st, const char *start, size_t max, bool open_only,
                           bool *more, char last[FIN_SHARD_ID_LEN + 1])
{
    struct fin_shard_desc *v = NULL;
    size_t n = 0;
    if (fin_stream_list_shards(st, &v, &n))
        return NULL;
    json_t *a = json_array();
    size_t i = 0;
    if (start)
        while (i < n && strcmp(v[i].id, start) <= 0)
            i++;
    last[0] = 0;
    for (; a && i < n && json_array_size(a) < max; i++) {
        if (open_only && v[i].closed)
            continue;
        json_array_append_new(a, shard_json(&v[i]));
        memcpy(last, v[i].id, FIN_SHARD_ID_LEN + 1);
    }
    while (open_only && i < n && v[i].closed)
        i++;
    *more = i < n;
    free(v);
    return a;
}

static json_t *summary_fields(struct fin_serve *svc, struct sstream *ss, int status)
{
    json_t *metrics = ss->metrics ? json_copy(ss->metrics) : json_array();
    return json_pack("{s:s, s:o, s:s, s:{s:s}, s:I, s:I, s:[{s:o}], s:s}", "StreamName",
                     ss->name, "StreamARN", arn(svc, ss->name), "StreamStatus",
                     status_name(status), "StreamModeDetails", "StreamMode",
                     ss->on_demand ? "ON_DEMAND" : "PROVISIONED", "RetentionPeriodHours",
                     (json_int_t)ss->retention_h, "StreamCreationTimestamp",
                     (json_int_t)ss->created_s, "EnhancedMonitoring", "ShardLevelMetrics",
                     metrics, "EncryptionType", "NONE");
}

static void describe_stream(struct req *r, bool summary)
{
    struct sstream *ss = NULL;
    int64_t limit = 100, dummy;
    bool has;
    if (!summary && get_int(r, "Limit", false, 1, 10000, &limit, &has))
        return;
    int rc = 0;
    const char *start = summary ? NULL : get_str(r, "ExclusiveStartShardId", false, 1, 128, &rc);
    if (rc)
        return;
    (void)dummy;
    /* A deleted stream is described as DELETING, and one still being made as CREATING,
     * without shards. */
    char buf[FIN_STREAM_MAX_NAME + 1];
    const char *name = stream_name(r, buf, &rc);
    if (rc)
        return;
    reg_lock(r->svc);
    struct sstream *dead = reg_find_locked(r->svc, name);
    if (dead && (dead->gone || dead->pending)) {
        json_t *d = summary_fields(r->svc, dead, dead->gone ? ST_DELETING : ST_CREATING);
        reg_unlock(r->svc);
        if (summary) {
            json_object_set_new(d, "OpenShardCount", json_integer(0));
            json_object_set_new(d, "ConsumerCount", json_integer(0));
        } else {
            json_object_set_new(d, "Shards", json_array());
            json_object_set_new(d, "HasMoreShards", json_false());
        }
        respond_value(r->svc, r->resp,
                      json_pack("{s:o}", summary ? "StreamDescriptionSummary" : "StreamDescription",
                                d));
        return;
    }
    reg_unlock(r->svc);
    if (reg_acquire(r->svc, name, false, &ss, r->resp))
        return;
    int status = sstream_status(r->svc, ss);
    json_t *d = summary_fields(r->svc, ss, status);
    if (summary) {
        json_object_set_new(d, "OpenShardCount", json_integer(fin_stream_open_shard_count(ss->st)));
        json_object_set_new(d, "ConsumerCount", json_integer(0));
        respond_value(r->svc, r->resp, json_pack("{s:o}", "StreamDescriptionSummary", d));
        reg_release(r->svc, ss);
        return;
    }
    bool more;
    char last[FIN_SHARD_ID_LEN + 1];
    json_t *shards = shards_page(ss->st, start, (size_t)limit, false, &more, last);
    reg_release(r->svc, ss);
    if (!shards) {
        json_decref(d);
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
        return;
    }
    json_object_set_new(d, "Shards", shards);
    json_object_set_new(d, "HasMoreShards", json_boolean(more));
    respond_value(r->svc, r->resp, json_pack("{s:o}", "StreamDescription", d));
}

static int cmp_sstream(const void *a, const void *b)
{
    return strcmp((*(struct sstream *const *)a)->name, (*(struct sstream *const *)b)->name);
}

static void list_streams(struct req *r)
{
    int64_t limit = 100;
    bool has;
    int rc;
    if (get_int(r, "Limit", false, 1, FIN_SERVE_LIST_LIMIT, &limit, &has))
        return;
    const char *start = get_str(r, "ExclusiveStartStreamName", false, 1, FIN_STREAM_MAX_NAME, &rc);
    if (rc)
        return;
    const char *token = get_str(r, "NextToken", false, 1, 1048576, &rc);
    if (rc)
        return;
    if (token)
        start = token;  /* our tokens are the last name of the previous page */
    reg_lock(r->svc);
    size_t n = 0;
    for (struct sstream *ss = r->svc->streams; ss; ss = ss->next)
        n++;
    struct sstream **v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        reg_unlock(r->svc);
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "out of memory");
        return;
    }
    n = 0;
    /* the streams behind Firehose direct puts are serve's own, not listed */
    for (struct sstream *ss = r->svc->streams; ss; ss = ss->next)
        if (!reg_internal_name(ss->name))
            v[n++] = ss;
    qsort(v, n, sizeof *v, cmp_sstream);
    json_t *names = json_array(), *sums = json_array();
    size_t i = 0;
    if (start)
        while (i < n && strcmp(v[i]->name, start) <= 0)
            i++;
    const char *last = NULL;
    for (; i < n && json_array_size(names) < (size_t)limit; i++) {
        int st = sstream_status(r->svc, v[i]);
        json_array_append_new(names, json_string(v[i]->name));
        json_array_append_new(sums, json_pack("{s:s, s:o, s:s, s:{s:s}, s:I}", "StreamName",
                                              v[i]->name, "StreamARN", arn(r->svc, v[i]->name),
                                              "StreamStatus", status_name(st), "StreamModeDetails",
                                              "StreamMode",
                                              v[i]->on_demand ? "ON_DEMAND" : "PROVISIONED",
                                              "StreamCreationTimestamp",
                                              (json_int_t)v[i]->created_s));
        last = v[i]->name;
    }
    json_t *out = json_pack("{s:o, s:b, s:o}", "StreamNames", names, "HasMoreStreams", i < n,
                            "StreamSummaries", sums);
    if (i < n && last)
        json_object_set_new(out, "NextToken", json_string(last));
    reg_unlock(r->svc);
    free(v);
    respond_value(r->svc, r->resp, out);
}

static void list_shards(struct req *r)
{
    int64_t max = 1000;
    bool has;
    int rc;
    if (get_int(r, "MaxResults", false, 1, FIN_SERVE_LIST_LIMIT, &max, &has))
        return;
    const char *token = get_str(r, "NextToken", false, 1, 1048576, &rc);
    if (rc)
        return;
    const char *start = get_str(r, "ExclusiveStartShardId", false, 1, 128, &rc);
    if (rc)
        return;
    /* ShardFilter: AT_LATEST lists the open shards, AFTER_SHARD_ID those after ShardId,
     * AT_TIMESTAMP at a time not before now the open ones; the TRIM_HORIZON and other
     * timestamp kinds list every shard the stream still has. */
    bool open_only = false;
    json_t *filter = json_object_get(r->body, "ShardFilter");
    if (filter) {
        const char *ft = json_string_value(json_object_get(filter, "Type"));
        json_t *fts = json_object_get(filter, "Timestamp");
        const char *fsid = json_string_value(json_object_get(filter, "ShardId"));
        if (strcmp(ft, "AFTER_SHARD_ID") == 0 && !fsid) {
            invalid(r, "ShardId must be specified when ShardFilter type is AFTER_SHARD_ID.");
            return;
        }
        if (strcmp(ft, "AFTER_SHARD_ID") != 0 && fsid) {
            invalid(r, "ShardId can only be specified when ShardFilter type is AFTER_SHARD_ID.");
            return;
        }
        bool timed = strcmp(ft, "AT_TIMESTAMP") == 0 || strcmp(ft, "FROM_TIMESTAMP") == 0;
        if (timed && !fts) {
            invalid(r, "Timestamp must be specified when ShardFilter type is %s.", ft);
            return;
        }
        if (!timed && fts) {
            invalid(r, "Timestamp can only be specified when ShardFilter type is AT_TIMESTAMP or "
                       "FROM_TIMESTAMP.");
            return;
        }
        if (fsid)
            start = fsid;
        open_only = strcmp(ft, "AT_LATEST") == 0 ||
                    (strcmp(ft, "AT_TIMESTAMP") == 0 &&
                     json_number_value(fts) * 1000.0 >= (double)now_ms(r->svc));
    }
    /* Our NextToken is "<stream>/<last shard id>[/latest]": it names the stream, as
     * Kinesis' does, and keeps the filter. */
    char name[FIN_STREAM_MAX_NAME + 1] = "";
    char tokbuf[FIN_STREAM_MAX_NAME + FIN_SHARD_ID_LEN + 16];
    if (token && strlen(token) < sizeof tokbuf) {
        snprintf(tokbuf, sizeof tokbuf, "%s", token);
        size_t tl = strlen(tokbuf);
        if (tl > 7 && strcmp(tokbuf + tl - 7, "/latest") == 0) {
            tokbuf[tl - 7] = 0;
            open_only = true;
        }
        token = tokbuf;
    }
    if (token) {
        const char *slash = strrchr(token, '/');
        if (json_object_get(r->body, "StreamName")) {
            invalid(r, "NextToken and StreamName cannot be provided together.");
            return;
        }
        if (!slash || slash == token || (size_t)(slash - token) > FIN_STREAM_MAX_NAME) {
            invalid(r, "Invalid NextToken.");
            return;
        }
        memcpy(name, token, (size_t)(slash - token));
        name[slash - token] = 0;
        start = slash + 1;
        json_object_set_new(r->body, "StreamName", json_string(name));
    }
    struct sstream *ss = NULL;
    if (!token && !json_object_get(r->body, "StreamName") &&
        !json_object_get(r->body, "StreamARN")) {
        invalid(r, "Either NextToken or StreamName should be provided.");
        return;
    }
    if (with_stream(r, false, &ss))
        return;
    bool more;
    char last[FIN_SHARD_ID_LEN + 1];
    json_t *shards = shards_page(ss->st, start, (size_t)max, open_only, &more, last);
    if (!shards) {
        reg_release(r->svc, ss);
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
        return;
    }
    json_t *out = json_pack("{s:o}", "Shards", shards);
    if (more)
        json_object_set_new(out, "NextToken", json_sprintf("%s/%s%s", ss->name, last,
                                                           open_only ? "/latest" : ""));
    reg_release(r->svc, ss);
    respond_value(r->svc, r->resp, out);
}

/* ---- PutRecord, PutRecords ---- */

#define EHK_RANGE                                                                              \
    "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified "  \
    "value was %s"

/* Decodes a Data member. Returns the byte count or -1 with the response filled. */
static long get_data(struct req *r, json_t *obj, const char *where, unsigned char **out)
{
    json_t *v = json_object_get(obj, "Data");
    *out = NULL;
    if (!v || json_is_null(v)) {
        verr(r, "Value null at '%s' failed to satisfy constraint: Member must not be null", where);
        return -1;
    }
    if (!json_is_string(v)) {
        fin_serve_error(r->svc, r->resp, 400, "SerializationException",
                        "'Data' must be a base64 string");
        return -1;
    }
    size_t len = json_string_length(v);
    if (len / 4 * 3 > FIN_STREAM_MAX_DATA + 2) {
        verr(r, "Value at '%s' failed to satisfy constraint: Member must have length less than or "
                "equal to %d", where, FIN_STREAM_MAX_DATA);
        return -1;
    }
    *out = malloc(len / 4 * 3 + 1);
    long n = *out ? b64_decode(json_string_value(v), len, *out) : -2;
    if (n == -2) {
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "out of memory");
        return -1;
    }
    if (n < 0) {
        fin_serve_error(r->svc, r->resp, 400, "SerializationException",
                        "Base64 encoded value of '%s' is not valid", where);
        free(*out);
        *out = NULL;
        return -1;
    }
    if (n > FIN_STREAM_MAX_DATA) {
        verr(r, "Value at '%s' failed to satisfy constraint: Member must have length less than or "
                "equal to %d", where, FIN_STREAM_MAX_DATA);
        free(*out);
        *out = NULL;
        return -1;
    }
    return n;
}

static const char *entry_str(struct req *r, json_t *obj, const char *key, const char *where,
                             bool required, size_t max, int *rc)
{
    json_t *saved = r->body;
    r->body = obj;
    const char *s = get_str(r, key, required, 1, max, rc);
    r->body = saved;
    (void)where;
    return s;
}

static void put_record(struct req *r)
{
    int64_t t0 = fin_mono_ns(r->svc->clock);
    struct sstream *ss = NULL;
    unsigned char *data = NULL;
    int rc;
    const char *key = get_str(r, "PartitionKey", true, 1, FIN_STREAM_MAX_KEY, &rc);
    if (rc)
        return;
    const char *ehk = get_str(r, "ExplicitHashKey", false, 1, 39, &rc);
    if (rc)
        return;
    long n = get_data(r, r->body, "data", &data);
    if (n < 0)
        return;
    if (with_stream(r, true, &ss))
        goto done;
    if (ehk && !hash_key_in_range(ehk)) {
        invalid(r, EHK_RANGE, ehk);
        goto done;
    }
    const char *sfo = json_string_value(json_object_get(r->body, "SequenceNumberForOrdering"));
    struct aws_seq so;
    if (sfo && (aws_seq_parse(sfo, &so) || so.seq_time_s * 1000 > now_ms(r->svc))) {
        invalid(r, "ExclusiveMinimumSequenceNumber %s used in PutRecord on stream %s under "
                   "account %s is invalid.", sfo, ss->name, r->svc->account);
        goto done;
    }
    struct fin_put_result res;
    size_t klen = strlen(key);
    rc = fin_stream_put(ss->st, key, klen, data, (size_t)n, ehk, &res);
    if (rc) {
        if ((rc == FIN_EINVAL || rc == FIN_ELIMIT) && ehk && fin_stream_shard_for_key(
                                                                ss->st, key, 1, ehk) < 0)
            invalid(r, EHK_RANGE, ehk);
        else if (rc == FIN_ELIMIT)
            invalid(r, "%s", fin_err_msg());
        else
            fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
        goto done;
    }
    atomic_fetch_add(&r->svc->m.in_records, 1);
    atomic_fetch_add(&r->svc->m.in_bytes, (uint_fast64_t)n);
    struct fin_buf b;
    fin_buf_init(&b);
    char wire[AWS_SEQ_MAX + 1];
    aws_seq_from_stored(res.seq, now_ms(r->svc) / 1000, false, wire);
    fin_buf_printf(&b, "{\"ShardId\":\"%s\",\"SequenceNumber\":\"%s\"}",
                   fin_stream_shard_id(ss->st, res.shard), wire);
    respond_json(r->resp, &b);
    fin_buf_fini(&b);
done:
    atomic_fetch_add(&r->svc->m.put_requests, 1);
    metrics_put_latency(&r->svc->m, fin_mono_ns(r->svc->clock) - t0);
    reg_release(r->svc, ss);
    free(data);
}

/* Appends e (n records; ehks[i] the explicit hash key or NULL) to ss and answers with
 * one result per record. res and rcs are scratch arrays of n entries. */
void put_entries(struct fin_serve *svc, struct fin_serve_response *resp,
                        struct sstream *ss, const struct fin_put_entry *e, const char **ehks,
                        size_t n, struct fin_put_result *res, int *rcs)
{
    bool any_ehk = false;
    for (size_t i = 0; ehks && i < n; i++)
        any_ehk |= ehks[i] != NULL;
    if (any_ehk) {
        /* one at a time, in order: the batch call routes by partition key only */
        for (size_t i = 0; i < n; i++)
            rcs[i] = fin_stream_put(ss->st, e[i].key, e[i].key_len, e[i].data, e[i].len, ehks[i],
                                    &res[i]);
    } else {
        int rc = fin_stream_put_batch(ss->st, e, n, res);
        /* A failed write or fsync: which records of the call reached the disk is not
         * known, so all are reported failed and the client retries them (Kinesis
         * delivery is at least once). */
        for (size_t i = 0; i < n; i++)
            rcs[i] = rc;
    }
    struct fin_buf b;
    fin_buf_init(&b);
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += rcs[i] != 0;
    fin_buf_printf(&b, "{\"FailedRecordCount\":%zu,\"Records\":[", failed);
    int64_t now_s = now_ms(svc) / 1000;
    /* Each success is 77 + FIN_SEQ_LEN bytes at most: reserve once, then copy. */
    fin_buf_reserve(&b, n * (40 + FIN_SEQ_LEN + FIN_SHARD_ID_LEN));
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (i)
            fin_buf_append(&b, ",", 1);
        if (rcs[i] == 0) {
            char wire[AWS_SEQ_MAX + 1];
            aws_seq_from_stored(res[i].seq, now_s, false, wire);
            fin_buf_append(&b, "{\"SequenceNumber\":\"", 19);
            fin_buf_puts(&b, wire);
            fin_buf_append(&b, "\",\"ShardId\":\"", 13);
            fin_buf_append(&b, fin_stream_shard_id(ss->st, res[i].shard), FIN_SHARD_ID_LEN);
            fin_buf_append(&b, "\"}", 2);
            bytes += e[i].len;
        } else {
            fin_buf_puts(&b, "{\"ErrorCode\":\"InternalFailure\",\"ErrorMessage\":");
            const char *msg = fin_strerror(rcs[i]);
            json_str_append(&b, msg, strlen(msg));
            fin_buf_puts(&b, "}");
        }
    }
    fin_buf_puts(&b, "]}");
    atomic_fetch_add(&svc->m.in_records, n - failed);
    atomic_fetch_add(&svc->m.in_bytes, bytes);
    atomic_fetch_add(&svc->m.put_failed_records, failed);
    if (fin_buf_cstr(&b))
        respond_json(resp, &b);
    else
        fin_serve_error(svc, resp, 500, "InternalFailure", "out of memory");
    fin_buf_fini(&b);
}

static void put_records(struct req *r)
{
    int64_t t0 = fin_mono_ns(r->svc->clock);
    struct sstream *ss = NULL;
    struct fin_put_entry *e = NULL;
    struct fin_put_result *res = NULL;
    const char **ehks = NULL;
    unsigned char **bufs = NULL;
    int *rcs = NULL;
    size_t n = 0, total = 0;
    json_t *recs = json_object_get(r->body, "Records");
    if (!recs || json_is_null(recs)) {
        verr(r, "Value null at 'records' failed to satisfy constraint: Member must not be null");
        goto done;
    }
    if (!json_is_array(recs)) {
        fin_serve_error(r->svc, r->resp, 400, "SerializationException", "'Records' must be a list");
        goto done;
    }
    n = json_array_size(recs);
    if (n < 1 || n > FIN_SERVE_PUT_RECORDS_MAX) {
        verr(r, "Value '[...]' at 'records' failed to satisfy constraint: Member must have length "
                "%s %d", n < 1 ? "greater than or equal to" : "less than or equal to",
             n < 1 ? 1 : FIN_SERVE_PUT_RECORDS_MAX);
        n = 0;
        goto done;
    }
    e = calloc(n, sizeof *e);
    res = calloc(n, sizeof *res);
    ehks = calloc(n, sizeof *ehks);
    bufs = calloc(n, sizeof *bufs);
    rcs = calloc(n, sizeof *rcs);
    if (!e || !res || !ehks || !bufs || !rcs) {
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(recs, i);
        char where[64];
        int rc;
        if (!json_is_object(o)) {
            fin_serve_error(r->svc, r->resp, 400, "SerializationException",
                            "'Records' member %zu is not an object", i + 1);
            goto done;
        }
        snprintf(where, sizeof where, "records.%zu.member.partitionKey", i + 1);
        const char *key = entry_str(r, o, "PartitionKey", where, true, FIN_STREAM_MAX_KEY, &rc);
        if (rc)
            goto done;
        ehks[i] = entry_str(r, o, "ExplicitHashKey", where, false, 39, &rc);
        if (rc)
            goto done;
        snprintf(where, sizeof where, "records.%zu.member.data", i + 1);
        long len = get_data(r, o, where, &bufs[i]);
        if (len < 0)
            goto done;
        e[i].key = key;
        e[i].key_len = strlen(key);
        e[i].data = bufs[i];
        e[i].len = (size_t)len;
        total += e[i].key_len + (size_t)len;
    }
    if (total > FIN_SERVE_PUT_RECORDS_BYTES) {
        invalid(r, "Records size exceeds 5 MB limit");
        goto done;
    }
    if (with_stream(r, true, &ss))
        goto done;
    /* a hash key out of range fails the whole call, as Kinesis does */
    for (size_t i = 0; i < n; i++)
        if (ehks[i] && !hash_key_in_range(ehks[i])) {
            invalid(r, EHK_RANGE, ehks[i]);
            goto done;
        }
    put_entries(r->svc, r->resp, ss, e, ehks, n, res, rcs);
done:
    atomic_fetch_add(&r->svc->m.put_requests, 1);
    metrics_put_latency(&r->svc->m, fin_mono_ns(r->svc->clock) - t0);
    reg_release(r->svc, ss);
    for (size_t i = 0; bufs && i < n; i++)
        free(bufs[i]);
    free(bufs);
    free(e);
    free(res);
    free(ehks);
    free(rcs);
}

/* Saves a stream's metadata (with the registry locked), unlocks, and answers {} or the
 * failure. */
static void save_and_respond(struct req *r, struct sstream *ss)
{
    int rc = meta_save(r->svc, ss);
    reg_unlock(r->svc);
    if (rc)
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
    else
        respond_empty(r->resp);
}

/* ---- retention and tags ---- */

static void change_retention(struct req *r, bool increase)
{
    struct sstream *ss = NULL;
    int64_t h = 0;
    bool has;
    if (get_int(r, "RetentionPeriodHours", true, INT64_MIN, INT64_MAX, &h, &has) || with_stream(r, true, &ss))
        return;
    reg_lock(r->svc);
    int st = sstream_status(r->svc, ss);
    if (st != ST_ACTIVE) {
        reg_unlock(r->svc);
        fin_serve_error(r->svc, r->resp, 400, "ResourceInUseException",
                        "Stream %s under account %s not ACTIVE, instead in state %s", ss->name,
                        r->svc->account, status_name(st));
        goto done;
    }
    if (h < 24) {
        reg_unlock(r->svc);
        invalid(r, "Minimum allowed retention period is 24 hours. Requested retention period (%"
                   PRId64 " hours) is too short.", h);
        goto done;
    }
    if (h > 8760) {
        reg_unlock(r->svc);
        invalid(r, "Maximum allowed retention period is 8760 hours. Requested retention period (%"
                   PRId64 " hours) is too long.", h);
        goto done;
    }
    if (increase && h < ss->retention_h) {
        reg_unlock(r->svc);
        invalid(r, "Requested retention period (%" PRId64 " hours) for stream %s can not be "
                   "shorter than existing retention period (%" PRId64 " hours). Use "
                   "DecreaseRetentionPeriod API.", h, ss->name, ss->retention_h);
        goto done;
    }
    if (!increase && h > ss->retention_h) {
        reg_unlock(r->svc);
        invalid(r, "Requested retention period (%" PRId64 " hours) for stream %s can not be "
                   "longer than existing retention period (%" PRId64 " hours). Use "
                   "IncreaseRetentionPeriod API.", h, ss->name, ss->retention_h);
        goto done;
    }
    /* The stream itself deletes by its own setting: change it there first. */
    int rc = ss->st ? fin_stream_set_retention(ss->st, h * 3600000LL) : 0;
    if (rc) {
        reg_unlock(r->svc);
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
        goto done;
    }
    ss->retention_h = h;
    ss->status = ST_UPDATING;
    ss->until_ms = now_ms(r->svc) + r->svc->cfg.updating_ms;
    save_and_respond(r, ss);
done:
    reg_release(r->svc, ss);
}

/* Tag keys and values may hold Unicode letters (U+00C0..U+1FFF, U+2C00..U+D7FF), ASCII
 * letters and digits, white space and _ . / = + - % @, as Kinesis allows. */
static bool tag_chars_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t c = *p;
        int n = c < 0x80 ? 0 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
        if (n)
            c &= 0x3fu >> n;
        p++;
        for (int i = 0; i < n && (*p & 0xc0) == 0x80; i++)
            c = c << 6 | (*p++ & 0x3fu);
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c && strchr("_./=+- @%", (int)c)) || (c >= 0xc0 && c <= 0x1fff) ||
                  (c >= 0x2c00 && c <= 0xd7ff);
        if (!ok)
            return false;
    }
    return true;
}

static void add_tags(struct req *r)
{
    struct sstream *ss = NULL;
    json_t *tags = json_object_get(r->body, "Tags");
    if (!json_is_object(tags)) {
        verr(r, "Value null at 'tags' failed to satisfy constraint: Member must not be null");
        return;
    }
    if (with_stream(r, true, &ss))
        return;
    const char *k;
    json_t *v;
    bool bad = false, percent = false;
    json_object_foreach(tags, k, v) {
        const char *val = json_is_string(v) ? json_string_value(v) : "";
        bad |= !tag_chars_ok(k) || !tag_chars_ok(val);
        percent |= strchr(k, '%') || strchr(val, '%');
    }
    if (bad || percent) {
        if (bad)
            invalid(r, "Some tags contain invalid characters. Valid characters: Unicode letters, "
                       "digits, white space, _ . / = + - %% @.");
        else
            invalid(r, "Failed to add tags to stream %s under account %s because some tags "
                       "contained illegal characters. The allowed characters are Unicode letters, "
                       "white-spaces, '_',',','/','=','+','-','@'.", ss->name, r->svc->account);
        reg_release(r->svc, ss);
        return;
    }
    reg_lock(r->svc);
    json_t *merged = json_copy(ss->tags);
    json_object_update(merged, tags);
    if (json_object_size(merged) > FIN_SERVE_MAX_TAGS) {
        reg_unlock(r->svc);
        json_decref(merged);
        invalid(r, "Failed to add tags to stream %s under account %s because a given stream "
                   "cannot have more than %d tags associated with it.", ss->name, r->svc->account,
                FIN_SERVE_MAX_TAGS);
        goto done;
    }
    json_decref(ss->tags);
    ss->tags = merged;
    save_and_respond(r, ss);
done:
    reg_release(r->svc, ss);
}

static void remove_tags(struct req *r)
{
    struct sstream *ss = NULL;
    json_t *keys = json_object_get(r->body, "TagKeys");
    if (!json_is_array(keys) || json_array_size(keys) < 1 || json_array_size(keys) > 50) {
        verr(r, "Value at 'tagKeys' failed to satisfy constraint: Member must have length between "
                "1 and 50");
        return;
    }
    if (with_stream(r, true, &ss))
        return;
    reg_lock(r->svc);
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
        if (json_is_string(k))
            json_object_del(ss->tags, json_string_value(k));
    save_and_respond(r, ss);
    reg_release(r->svc, ss);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void list_tags(struct req *r)
{
    struct sstream *ss = NULL;
    int64_t limit = 50;
    bool has;
    int rc;
    if (get_int(r, "Limit", false, 1, 50, &limit, &has))
        return;
    const char *start = get_str(r, "ExclusiveStartTagKey", false, 1, 128, &rc);
    if (rc || with_stream(r, false, &ss))
        return;
    reg_lock(r->svc);
    size_t n = json_object_size(ss->tags), m = 0;
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach(ss->tags, k, v)
        if (keys)
            keys[m++] = k;
    qsort(keys, m, sizeof *keys, cmp_cstr);
    json_t *out = json_array();
    size_t i = 0;
    if (start)
        while (i < m && strcmp(keys[i], start) <= 0)
            i++;
    for (; i < m && json_array_size(out) < (size_t)limit; i++)
        json_array_append_new(out, json_pack("{s:s, s:O}", "Key", keys[i], "Value",
                                             json_object_get(ss->tags, keys[i])));
    reg_unlock(r->svc);
    free(keys);
    respond_value(r->svc, r->resp, json_pack("{s:o, s:b}", "Tags", out, "HasMoreTags", i < m));
    reg_release(r->svc, ss);
}

/* ---- SplitShard, MergeShards, UpdateShardCount ---- */

/* The stream's own errors carry Kinesis' messages; the code picks the type. */
static void reshard_error(struct req *r, int rc)
{
    if (rc == FIN_ENOENT)
        fin_serve_error(r->svc, r->resp, 400, "ResourceNotFoundException", "%s", fin_err_msg());
    else if (rc == FIN_ELIMIT)
        fin_serve_error(r->svc, r->resp, 400, "LimitExceededException", "%s", fin_err_msg());
    else if (rc == FIN_EINVAL)
        invalid(r, "%s", fin_err_msg());
    else
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
}

/* Kinesis' checks of a split or merge, in its order, with the registry locked: the
 * shards exist, the account's open-shard limit (a split adds one), the new starting
 * hash key strictly inside the shard's range (above start + 1, below the end), the
 * merged pair adjacent in the order given. */
static int reshard_check(struct req *r, struct sstream *ss, bool split, const char *a,
                         const char *b)
{
    struct fin_shard_desc *v = NULL, *da = NULL, *db = NULL;
    size_t n = 0;
    int rc = fin_stream_list_shards(ss->st, &v, &n);
    if (rc) {
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].id, a) == 0)
            da = &v[i];
        if (!split && strcmp(v[i].id, b) == 0)
            db = &v[i];
    }
    rc = FIN_EINVAL;
    if (!da || (!split && !db)) {
        fin_serve_error(r->svc, r->resp, 400, "ResourceNotFoundException",
                        "Could not find shard %s in stream %s under account %s.", !da ? a : b,
                        ss->name, r->svc->account);
    } else if (split && account_shard_limit_error(r->svc, 1, r->resp)) {
        ;
    } else if (split) {
        char start1[48];
        dec_add(da->hash_start, 1, start1, sizeof start1);
        if (dec_cmp(b, start1) <= 0 || dec_cmp(b, da->hash_end) >= 0)
            invalid(r, "NewStartingHashKey %s used in SplitShard() on shard %s in stream %s "
                       "under account %s is not both greater than one plus the shard's "
                       "StartingHashKey %s and less than the shard's EndingHashKey %s.", b, a,
                    ss->name, r->svc->account, da->hash_start, da->hash_end);
        else
            rc = 0;
    } else {
        char end1[48];
        dec_add(da->hash_end, 1, end1, sizeof end1);
        if (dec_cmp(end1, db->hash_start) != 0)
            invalid(r, "Shards %s and %s in stream %s under account %s are not an adjacent "
                       "pair of shards eligible for merging", a, b, ss->name, r->svc->account);
        else
            rc = 0;
    }
    free(v);
    return rc;
}

static void reshard(struct req *r, const char *op)
{
    struct sstream *ss = NULL;
    int rc = 0;
    const char *a = NULL, *b = NULL;
    int64_t target = 0;
    bool has;
    char ida[FIN_SHARD_ID_LEN + 1] = "", idb[FIN_SHARD_ID_LEN + 1] = "";
    char nbuf[FIN_STREAM_MAX_NAME + 1];
    const char *name = stream_name(r, nbuf, &rc);
    if (rc)
        return;
    bool split = strcmp(op, "SplitShard") == 0;
    if (split || strcmp(op, "MergeShards") == 0) {
        /* shard ids are resolved before the stream is looked up, as Kinesis does */
        const char *ra = json_string_value(json_object_get(r->body, split ? "ShardToSplit"
                                                                          : "ShardToMerge"));
        const char *rb = json_string_value(json_object_get(r->body, split ? "NewStartingHashKey"
                                                                          : "AdjacentShardToMerge"));
        if (aws_shard_resolve(ra, ida) < 0 || (!split && aws_shard_resolve(rb, idb) < 0)) {
            fin_serve_error(r->svc, r->resp, 400, "ResourceNotFoundException",
                            "Could not find shard %s in stream %s under account %s.",
                            aws_shard_resolve(ra, ida) < 0 ? ra : rb, name, r->svc->account);
            return;
        }
        a = ida;
        b = split ? rb : idb;
    } else {
        rc = get_int(r, "TargetShardCount", true, 1, 10000, &target, &has);
        const char *st = rc ? NULL : get_str(r, "ScalingType", true, 1, 64, &rc);
        if (!rc && strcmp(st, "UNIFORM_SCALING") != 0) {
            verr(r, "Value '%s' at 'scalingType' failed to satisfy constraint: Member must "
                    "satisfy enum value set: [UNIFORM_SCALING]", st);
            return;
        }
    }
    if (rc || reg_acquire(r->svc, name, true, &ss, r->resp))
        return;
    /* one change at a time, as Kinesis: the stream is UPDATING until it is done */
    reg_lock(r->svc);
    int st = sstream_status(r->svc, ss);
    if (st != ST_ACTIVE) {
        reg_unlock(r->svc);
        fin_serve_error(r->svc, r->resp, 400, "ResourceInUseException",
                        "Stream %s under account %s not ACTIVE, instead in state %s", ss->name,
                        r->svc->account, status_name(st));
        goto done;
    }
    if (a && b && reshard_check(r, ss, split, a, b)) {
        reg_unlock(r->svc);
        goto done;
    }
    ss->status = ST_UPDATING;
    ss->until_ms = INT64_MAX;
    reg_unlock(r->svc);
    int before = fin_stream_open_shard_count(ss->st);
    if (a && b && strcmp(op, "SplitShard") == 0)
        rc = fin_stream_split_shard(ss->st, a, b);
    else if (a && b)
        rc = fin_stream_merge_shards(ss->st, a, b);
    else if (target < before / 2 + before % 2 || target > before * 2)
        rc = fin_err_set(FIN_EINVAL, "UpdateShardCount target %lld for stream %s under account "
                                     "%s must be between half and double the current count %d",
                         (long long)target, ss->name, r->svc->account, before);
    else
        rc = fin_stream_update_shard_count(ss->st, (int)target);
    reg_lock(r->svc);
    ss->until_ms = now_ms(r->svc) + r->svc->cfg.updating_ms;
    if (rc)
        ss->status = ST_ACTIVE;
    reg_unlock(r->svc);
    if (rc)
        reshard_error(r, rc);
    else if (target)
        respond_value(r->svc, r->resp,
                      json_pack("{s:s, s:o, s:i, s:I}", "StreamName", ss->name, "StreamARN",
                                arn(r->svc, ss->name), "CurrentShardCount", before,
                                "TargetShardCount", (json_int_t)target));
    else
        respond_empty(r->resp);
done:
    reg_release(r->svc, ss);
}

/* ---- Enable/DisableEnhancedMonitoring ---- */

/* The shard-level metrics, in the order Kinesis lists them; "ALL" stands for all. */
static const char *const all_metrics[] = {
    "IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
    "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds"};
#define N_METRICS (sizeof all_metrics / sizeof all_metrics[0])

static void monitoring(struct req *r, bool enable)
{
    struct sstream *ss = NULL;
    json_t *asked = json_object_get(r->body, "ShardLevelMetrics");
    if (with_stream(r, true, &ss))
        return;
    reg_lock(r->svc);
    int st = sstream_status(r->svc, ss);
    if (st != ST_ACTIVE) {
        reg_unlock(r->svc);
        fin_serve_error(r->svc, r->resp, 400, "ResourceInUseException",
                        "Stream %s under account %s not ACTIVE, instead in state %s", ss->name,
                        r->svc->account, status_name(st));
        reg_release(r->svc, ss);
        return;
    }
    bool on[N_METRICS] = {false}, want[N_METRICS];
    size_t i;
    json_t *m;
    json_array_foreach(ss->metrics, i, m)
        for (size_t j = 0; j < N_METRICS; j++)
            on[j] |= strcmp(json_string_value(m), all_metrics[j]) == 0;
    memcpy(want, on, sizeof want);
    json_array_foreach(asked, i, m) {
        const char *name = json_string_value(m);
        for (size_t j = 0; j < N_METRICS; j++)
            if (strcmp(name, "ALL") == 0 || strcmp(name, all_metrics[j]) == 0)
                want[j] = enable;
    }
    json_t *cur = json_array(), *des = json_array();
    for (size_t j = 0; j < N_METRICS; j++) {
        if (on[j])
            json_array_append_new(cur, json_string(all_metrics[j]));
        if (want[j])
            json_array_append_new(des, json_string(all_metrics[j]));
    }
    json_decref(ss->metrics);
    ss->metrics = json_copy(des);
    ss->status = ST_UPDATING;
    ss->until_ms = now_ms(r->svc) + r->svc->cfg.updating_ms;
    int rc = meta_save(r->svc, ss);
    reg_unlock(r->svc);
    if (rc) {
        json_decref(cur);
        json_decref(des);
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
    } else {
        respond_value(r->svc, r->resp,
                      json_pack("{s:s, s:o, s:o, s:o}", "StreamName", ss->name, "StreamARN",
                                arn(r->svc, ss->name), "CurrentShardLevelMetrics", cur,
                                "DesiredShardLevelMetrics", des));
    }
    reg_release(r->svc, ss);
}

static void enable_monitoring(struct req *r) { monitoring(r, true); }
static void disable_monitoring(struct req *r) { monitoring(r, false); }

/* ---- DescribeLimits, UpdateStreamMode ---- */

static void describe_limits(struct req *r)
{
    reg_lock(r->svc);
    int64_t open = account_open_shards(r->svc), on_demand = 0;
    for (struct sstream *ss = r->svc->streams; ss; ss = ss->next)
        on_demand += !ss->gone && ss->on_demand;
    reg_unlock(r->svc);
    respond_value(r->svc, r->resp,
                  json_pack("{s:I, s:I, s:I, s:I}", "ShardLimit",
                            (json_int_t)r->svc->cfg.shard_limit, "OpenShardCount",
                            (json_int_t)open, "OnDemandStreamCount", (json_int_t)on_demand,
                            "OnDemandStreamCountLimit", (json_int_t)50));
}

static void update_stream_mode(struct req *r)
{
    struct sstream *ss = NULL;
    const char *mode = json_string_value(
        json_object_get(json_object_get(r->body, "StreamModeDetails"), "StreamMode"));
    if (with_stream(r, true, &ss))
        return;
    reg_lock(r->svc);
    int st = sstream_status(r->svc, ss);
    if (st != ST_ACTIVE) {
        reg_unlock(r->svc);
        fin_serve_error(r->svc, r->resp, 400, "ResourceInUseException",
                        "Stream %s under account %s not ACTIVE, instead in state %s", ss->name,
                        r->svc->account, status_name(st));
        reg_release(r->svc, ss);
        return;
    }
    ss->on_demand = mode && strcmp(mode, "ON_DEMAND") == 0;
    ss->status = ST_UPDATING;
    ss->until_ms = now_ms(r->svc) + r->svc->cfg.updating_ms;
    save_and_respond(r, ss);
    reg_release(r->svc, ss);
}

/* ---- dispatch ---- */

/* Actions that take an argument share handlers; these wrappers give them one shape. */
static void describe_full(struct req *r) { describe_stream(r, false); }
static void describe_summary(struct req *r) { describe_stream(r, true); }
static void increase_retention(struct req *r) { change_retention(r, true); }
static void decrease_retention(struct req *r) { change_retention(r, false); }
static void split_shard(struct req *r) { reshard(r, "SplitShard"); }
static void merge_shards(struct req *r) { reshard(r, "MergeShards"); }
static void update_shard_count(struct req *r) { reshard(r, "UpdateShardCount"); }

static const struct {
    const char *op;
    void (*handle)(struct req *r);
} actions[] = {
    {"PutRecords", put_records},
    {"PutRecord", put_record},
    {"GetRecords", get_records},
    {"GetShardIterator", get_shard_iterator},
    {"CreateStream", create_stream},
    {"DeleteStream", delete_stream},
    {"DescribeStream", describe_full},
    {"DescribeStreamSummary", describe_summary},
    {"ListStreams", list_streams},
    {"ListShards", list_shards},
    {"IncreaseStreamRetentionPeriod", increase_retention},
    {"DecreaseStreamRetentionPeriod", decrease_retention},
    {"AddTagsToStream", add_tags},
    {"RemoveTagsFromStream", remove_tags},
    {"ListTagsForStream", list_tags},
    {"SplitShard", split_shard},
    {"MergeShards", merge_shards},
    {"UpdateShardCount", update_shard_count},
    {"DescribeLimits", describe_limits},
    {"UpdateStreamMode", update_stream_mode},
    {"EnableEnhancedMonitoring", enable_monitoring},
    {"DisableEnhancedMonitoring", disable_monitoring},
};

bool kinesis_has_op(const char *op)
{
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(op, actions[i].op) == 0)
            return true;
    return false;
}

void kinesis_dispatch(struct fin_serve *svc, const char *op, json_t *body,
                      struct fin_serve_response *resp)
{
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        if (strcmp(op, actions[i].op) != 0)
            continue;
        /* the model's checks first: the handler sees the members as the model reads them */
        const struct mshape *shape = kinesis_input_shape(op);
        json_t *clean = NULL;
        if (shape && model_check(svc, shape, body, &clean, resp))
            return;
        /* a private delivery stream is answered as if it did not exist */
        if (reg_refuse_internal(svc, op, clean ? clean : body, resp)) {
            json_decref(clean);
            return;
        }
        struct req r = {svc, clean ? clean : body, resp};
        actions[i].handle(&r);
        json_decref(clean);
        return;
    }
    serve_error_body(svc, resp, 400, "UnknownOperationException", NULL, NULL);
}
