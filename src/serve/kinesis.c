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
#include "internal.h"

#include "finstream/crc32c.h"
#include "finstream/error.h"
#include "finstream/names.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct req {
    struct fin_serve *svc;
    json_t *body;
    struct fin_serve_response *resp;
};

/* ---- validation, in Kinesis' words ---- */

static int verr(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int verr(struct req *r, const char *fmt, ...)
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

static int invalid(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int invalid(struct req *r, const char *fmt, ...)
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
static const char *get_str(struct req *r, const char *key, bool required, size_t min, size_t max,
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
static int get_int(struct req *r, const char *key, bool required, int64_t min, int64_t max,
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
static const char *stream_name(struct req *r, char buf[FIN_STREAM_MAX_NAME + 1], int *rc)
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

static int with_stream(struct req *r, bool need_active, struct sstream **ss)
{
    char buf[FIN_STREAM_MAX_NAME + 1];
    int rc;
    const char *name = stream_name(r, buf, &rc);
    if (rc)
        return rc;
    return reg_acquire(r->svc, name, need_active, ss, r->resp);
}

static const char *status_name(int st)
{
    switch (st) {
    case ST_CREATING: return "CREATING";
    case ST_UPDATING: return "UPDATING";
    case ST_DELETING: return "DELETING";
    default: return "ACTIVE";
    }
}

static json_t *arn(struct fin_serve *svc, const char *name)
{
    return json_sprintf("arn:aws:kinesis:%s:%s:stream/%s", svc->region, svc->account, name);
}

/* ---- CreateStream, DeleteStream ---- */

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
    if (mode && (!json_is_string(mode) || (strcmp(json_string_value(mode), "PROVISIONED") != 0 &&
                                           strcmp(json_string_value(mode), "ON_DEMAND") != 0))) {
        verr(r, "Value at 'streamModeDetails.streamMode' failed to satisfy constraint: Member "
                "must satisfy enum value set: [PROVISIONED, ON_DEMAND]");
        return;
    }
    if (!has_count && mode && strcmp(json_string_value(mode), "PROVISIONED") == 0) {
        invalid(r, "ShardCount is required for PROVISIONED streams.");
        return;
    }
    if (has_count && count > FIN_STREAM_MAX_SHARDS) {
        fin_serve_error(r->svc, r->resp, 400, "LimitExceededException",
                        "This request would exceed the shard limit for the account %s. Current "
                        "limit: %d. Number of additional shards that would have resulted from this "
                        "request: %" PRId64 ".",
                        r->svc->account, FIN_STREAM_MAX_SHARDS, count);
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
    if (has_count)
        cfg.shards = (int)count;
    else if (mode)  /* ON_DEMAND starts with four shards */
        cfg.shards = 4;
    reg_lock(r->svc);
    if (reg_find_locked(r->svc, name)) {
        reg_unlock(r->svc);
        fin_serve_error(r->svc, r->resp, 400, "ResourceInUseException",
                        "Stream %s under account %s already exists.", name, r->svc->account);
        return;
    }
    struct sstream *ss = sstream_new(name);
    rc = ss ? fin_stream_create(r->svc->data_dir, name, &cfg) : FIN_ENOMEM;
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
    ss->until_ms = now_ms(r->svc) + r->svc->cfg.creating_ms;
    json_t *tags = json_object_get(r->body, "Tags");
    if (json_is_object(tags))
        json_object_update(ss->tags, tags);
    meta_save(r->svc, ss);
    ss->next = r->svc->streams;
    r->svc->streams = ss;
    reg_unlock(r->svc);
    respond_value(r->svc, r->resp, json_object());
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
    respond_value(r->svc, r->resp, json_object());
}

/* ---- DescribeStream, DescribeStreamSummary, ListStreams, ListShards ---- */

/* A Shard as Kinesis shows it: parents, hash-key range, sequence-number range (with
 * the ending number once the shard is closed by a split or merge). */
static json_t *shard_json(const struct fin_shard_desc *d)
{
    json_t *seqr = json_pack("{s:s}", "StartingSequenceNumber", d->starting_seq);
    if (seqr && d->closed && d->ending_seq[0])
        json_object_set_new(seqr, "EndingSequenceNumber", json_string(d->ending_seq));
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
static json_t *shards_page(struct fin_stream *st, const char *start, size_t max, bool *more,
                           char last[FIN_SHARD_ID_LEN + 1])
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
        json_array_append_new(a, shard_json(&v[i]));
        memcpy(last, v[i].id, FIN_SHARD_ID_LEN + 1);
    }
    *more = i < n;
    free(v);
    return a;
}

static json_t *summary_fields(struct fin_serve *svc, struct sstream *ss, int status)
{
    return json_pack("{s:s, s:o, s:s, s:{s:s}, s:I, s:I, s:[{s:[]}], s:s}", "StreamName",
                     ss->name, "StreamARN", arn(svc, ss->name), "StreamStatus",
                     status_name(status), "StreamModeDetails", "StreamMode", "PROVISIONED",
                     "RetentionPeriodHours", (json_int_t)ss->retention_h,
                     "StreamCreationTimestamp", (json_int_t)ss->created_s, "EnhancedMonitoring",
                     "ShardLevelMetrics", "EncryptionType", "NONE");
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
    /* A deleted stream is described as DELETING, without shards, until it is gone. */
    char buf[FIN_STREAM_MAX_NAME + 1];
    const char *name = stream_name(r, buf, &rc);
    if (rc)
        return;
    reg_lock(r->svc);
    struct sstream *dead = reg_find_locked(r->svc, name);
    if (dead && dead->gone) {
        json_t *d = summary_fields(r->svc, dead, ST_DELETING);
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
    json_t *shards = shards_page(ss->st, start, (size_t)limit, &more, last);
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
        if (strncmp(ss->name, "__firehose.", 11) != 0)
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
                                              "StreamMode", "PROVISIONED",
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
    /* Our NextToken is "<stream>/<last shard id>": it names the stream, as Kinesis' does. */
    char name[FIN_STREAM_MAX_NAME + 1] = "";
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
    if (with_stream(r, false, &ss))
        return;
    bool more;
    char last[FIN_SHARD_ID_LEN + 1];
    json_t *shards = shards_page(ss->st, start, (size_t)max, &more, last);
    if (!shards) {
        reg_release(r->svc, ss);
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
        return;
    }
    json_t *out = json_pack("{s:o}", "Shards", shards);
    if (more)
        json_object_set_new(out, "NextToken", json_sprintf("%s/%s", ss->name, last));
    reg_release(r->svc, ss);
    respond_value(r->svc, r->resp, out);
}

/* ---- PutRecord, PutRecords ---- */

static bool hash_key_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 39 || (n > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

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
    if (ehk && !hash_key_ok(ehk)) {
        invalid(r, "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, "
                   "340282366920938463463374607431768211455]. Specified value was %s", ehk);
        return;
    }
    long n = get_data(r, r->body, "data", &data);
    if (n < 0)
        return;
    if (with_stream(r, true, &ss))
        goto done;
    struct fin_put_result res;
    size_t klen = strlen(key);
    rc = fin_stream_put(ss->st, key, klen, data, (size_t)n, ehk, &res);
    if (rc) {
        if (rc == FIN_EINVAL && ehk)
            invalid(r, "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, "
                       "340282366920938463463374607431768211455]. Specified value was %s", ehk);
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
    fin_buf_printf(&b, "{\"ShardId\":\"%s\",\"SequenceNumber\":\"%s\",\"EncryptionType\":\"NONE\"}",
                   fin_stream_shard_id(ss->st, res.shard), res.seq);
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
    fin_buf_printf(&b, "{\"FailedRecordCount\":%zu,\"EncryptionType\":\"NONE\",\"Records\":[",
                   failed);
    /* Each success is 77 + FIN_SEQ_LEN bytes at most: reserve once, then copy. */
    fin_buf_reserve(&b, n * (40 + FIN_SEQ_LEN + FIN_SHARD_ID_LEN));
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (i)
            fin_buf_append(&b, ",", 1);
        if (rcs[i] == 0) {
            fin_buf_append(&b, "{\"SequenceNumber\":\"", 19);
            fin_buf_append(&b, res[i].seq, FIN_SEQ_LEN);
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
        if (ehks[i] && !hash_key_ok(ehks[i])) {
            invalid(r, "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, "
                       "340282366920938463463374607431768211455]. Specified value was %s",
                    ehks[i]);
            goto done;
        }
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

/* ---- shard iterators ---- */

/* The token, before base64: every field little-endian. */
struct iter_token {
    uint8_t version;        /* 1 */
    uint8_t type;           /* enum fin_iter_type (never LATEST) */
    uint16_t shard;         /* the number in shardId-NNNNNNNNNNNN: positions may shift */
    int64_t made_ms;        /* when the token was made */
    int64_t ts_ms;          /* AT_TIMESTAMP */
    int64_t stream_created; /* the stream's creation time: tokens die with the stream */
    char seq[FIN_SEQ_LEN];  /* AT_/AFTER_SEQUENCE_NUMBER */
    uint8_t name_len;
    char name[FIN_STREAM_MAX_NAME];
};
#define TOKEN_FIXED (1 + 1 + 2 + 8 + 8 + 8 + FIN_SEQ_LEN + 1)

static json_t *token_make(struct fin_serve *svc, const struct iter_token *t)
{
    unsigned char raw[TOKEN_FIXED + FIN_STREAM_MAX_NAME + 4];
    size_t o = 0;
    raw[o++] = t->version;
    raw[o++] = t->type;
    memcpy(raw + o, &t->shard, 2), o += 2;
    memcpy(raw + o, &t->made_ms, 8), o += 8;
    memcpy(raw + o, &t->ts_ms, 8), o += 8;
    memcpy(raw + o, &t->stream_created, 8), o += 8;
    memcpy(raw + o, t->seq, FIN_SEQ_LEN), o += FIN_SEQ_LEN;
    raw[o++] = t->name_len;
    memcpy(raw + o, t->name, t->name_len), o += t->name_len;
    uint32_t crc = fin_crc32c(0, raw, o);
    memcpy(raw + o, &crc, 4), o += 4;
    struct fin_buf b;
    fin_buf_init(&b);
    json_t *s = NULL;
    if (b64_append(&b, raw, o) == 0)
        s = json_stringn(b.data, b.len);
    fin_buf_fini(&b);
    (void)svc;
    return s;
}

static int token_parse(const char *s, size_t len, struct iter_token *t)
{
    unsigned char raw[512];
    if (len > 512 / 3 * 4 || len % 4)
        return FIN_EPARSE;
    long n = b64_decode(s, len, raw);
    if (n < (long)TOKEN_FIXED + 4)
        return FIN_EPARSE;
    uint32_t crc;
    memcpy(&crc, raw + n - 4, 4);
    if (crc != fin_crc32c(0, raw, (size_t)n - 4))
        return FIN_EPARSE;
    size_t o = 0;
    memset(t, 0, sizeof *t);
    t->version = raw[o++];
    t->type = raw[o++];
    memcpy(&t->shard, raw + o, 2), o += 2;
    memcpy(&t->made_ms, raw + o, 8), o += 8;
    memcpy(&t->ts_ms, raw + o, 8), o += 8;
    memcpy(&t->stream_created, raw + o, 8), o += 8;
    memcpy(t->seq, raw + o, FIN_SEQ_LEN), o += FIN_SEQ_LEN;
    t->name_len = raw[o++];
    if (t->version != 1 || t->name_len < 1 || t->name_len > FIN_STREAM_MAX_NAME ||
        o + t->name_len + 4 != (size_t)n || t->type > FIN_ITER_AT_TIMESTAMP ||
        t->type == FIN_ITER_LATEST)
        return FIN_EPARSE;
    memcpy(t->name, raw + o, t->name_len);
    return 0;
}

/* The number of "shardId-000000000003", or -1. */
static int shard_number(const char *id)
{
    if (strncmp(id, "shardId-", 8) != 0 || strlen(id) != FIN_SHARD_ID_LEN)
        return -1;
    int v = 0;
    for (const char *p = id + 8; *p; p++) {
        if (!isdigit((unsigned char)*p) || v > 6553)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v <= 65535 ? v : -1;
}

static bool seq_shape_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128 || (n > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static void get_shard_iterator(struct req *r)
{
    struct sstream *ss = NULL;
    struct fin_iter *it = NULL;
    int rc;
    const char *shard_id = get_str(r, "ShardId", true, 1, 128, &rc);
    if (rc)
        return;
    const char *type = get_str(r, "ShardIteratorType", true, 1, 64, &rc);
    if (rc)
        return;
    static const char *types[] = {"TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER",
                                  "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP"};
    int ty = -1;
    for (int i = 0; i < 5; i++)
        if (strcmp(type, types[i]) == 0)
            ty = i;
    if (ty < 0) {
        verr(r, "Value '%s' at 'shardIteratorType' failed to satisfy constraint: Member must "
                "satisfy enum value set: [AFTER_SEQUENCE_NUMBER, AT_SEQUENCE_NUMBER, AT_TIMESTAMP, "
                "TRIM_HORIZON, LATEST]", type);
        return;
    }
    const char *seq = get_str(r, "StartingSequenceNumber", false, 1, 128, &rc);
    if (rc)
        return;
    if (seq && !seq_shape_ok(seq)) {
        verr(r, "Value '%s' at 'startingSequenceNumber' failed to satisfy constraint: Member must "
                "satisfy regular expression pattern: 0|([1-9]\\d{0,128})", seq);
        return;
    }
    json_t *tsv = json_object_get(r->body, "Timestamp");
    int64_t ts_ms = 0;
    if (ty == FIN_ITER_AT_SEQUENCE_NUMBER || ty == FIN_ITER_AFTER_SEQUENCE_NUMBER) {
        if (!seq) {
            invalid(r, "StartingSequenceNumber must be specified for shardIteratorType %s",
                    type);
            return;
        }
    } else if (seq) {
        invalid(r, "Request specified StartingSequenceNumber for iterator type %s. "
                   "StartingSequenceNumber may only be specified with AT_SEQUENCE_NUMBER or "
                   "AFTER_SEQUENCE_NUMBER.", type);
        return;
    }
    if (ty == FIN_ITER_AT_TIMESTAMP) {
        if (!json_is_number(tsv)) {
            invalid(r, "Must specify timestampInMillis parameter for iterator of type "
                       "AT_TIMESTAMP. Current request has no timestamp parameter.");
            return;
        }
        ts_ms = (int64_t)llround(json_number_value(tsv) * 1000.0);
    }
    if (with_stream(r, true, &ss))
        return;
    int shard = fin_stream_shard_find(ss->st, shard_id);
    if (shard < 0 || shard_number(shard_id) < 0) {
        fin_serve_error(r->svc, r->resp, 400, "ResourceNotFoundException",
                        "Shard %s in stream %s under account %s does not exist", shard_id,
                        ss->name, r->svc->account);
        goto done;
    }
    struct iter_token t = {.version = 1, .type = (uint8_t)ty, .shard = (uint16_t)shard_number(shard_id),
                           .made_ms = now_ms(r->svc), .ts_ms = ts_ms,
                           .stream_created = ss->created_s};
    if (ty == FIN_ITER_LATEST) {
        struct fin_shard_info info;
        if ((rc = fin_stream_shard_info(ss->st, shard, &info))) {
            fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
            goto done;
        }
        if (info.empty) {
            t.type = FIN_ITER_TRIM_HORIZON;
        } else {
            t.type = FIN_ITER_AFTER_SEQUENCE_NUMBER;
            memcpy(t.seq, info.last_seq, FIN_SEQ_LEN);
        }
    } else if (seq) {
        if (strlen(seq) != FIN_SEQ_LEN) {
            invalid(r, "StartingSequenceNumber %s used in GetShardIterator on shard %s in stream "
                       "%s under account %s is invalid.", seq, shard_id, ss->name,
                    r->svc->account);
            goto done;
        }
        memcpy(t.seq, seq, FIN_SEQ_LEN);
        /* opening it checks that the number belongs to this shard */
        rc = fin_iter_open(&it, ss->st, shard, (enum fin_iter_type)ty, seq, 0);
        if (rc) {
            invalid(r, "StartingSequenceNumber %s used in GetShardIterator on shard %s in stream "
                       "%s under account %s is invalid because it did not come from this stream.",
                    seq, shard_id, ss->name, r->svc->account);
            goto done;
        }
    }
    t.name_len = (uint8_t)strlen(ss->name);
    memcpy(t.name, ss->name, t.name_len);
    json_t *tok = token_make(r->svc, &t);
    respond_value(r->svc, r->resp, tok ? json_pack("{s:o}", "ShardIterator", tok) : NULL);
done:
    fin_iter_close(it);
    reg_release(r->svc, ss);
}

static void get_records(struct req *r)
{
    struct sstream *ss = NULL;
    struct fin_iter *it = NULL;
    struct fin_buf b;
    fin_buf_init(&b);
    int rc;
    int64_t limit = FIN_SERVE_GET_RECORDS_MAX;
    bool has;
    const char *tok = get_str(r, "ShardIterator", true, 1, 512, &rc);
    if (rc || get_int(r, "Limit", false, 1, FIN_SERVE_GET_RECORDS_MAX, &limit, &has))
        goto done;
    struct iter_token t;
    if (token_parse(tok, strlen(tok), &t)) {
        invalid(r, "Invalid ShardIterator.");
        goto done;
    }
    int64_t now = now_ms(r->svc);
    if (now - t.made_ms > FIN_SERVE_ITER_TTL_MS) {
        fin_serve_error(r->svc, r->resp, 400, "ExpiredIteratorException",
                        "Iterator expired. The iterator was created at time %" PRId64
                        " while right now it is %" PRId64 " which is further in the future than "
                        "the tolerated delay of %d milliseconds.",
                        t.made_ms, now, FIN_SERVE_ITER_TTL_MS);
        goto done;
    }
    char name[FIN_STREAM_MAX_NAME + 1];
    memcpy(name, t.name, t.name_len);
    name[t.name_len] = 0;
    if ((rc = reg_acquire(r->svc, name, true, &ss, r->resp)))
        goto done;
    char sid[FIN_SHARD_ID_LEN + 8];
    snprintf(sid, sizeof sid, "shardId-%012u", (unsigned)t.shard);
    int pos = fin_stream_shard_find(ss->st, sid);
    if (ss->created_s != t.stream_created || pos < 0) {
        fin_serve_error(r->svc, r->resp, 400, "ResourceNotFoundException",
                        "Stream %s under account %s not found.", name, r->svc->account);
        goto done;
    }
    char seq[FIN_SEQ_LEN + 1];
    memcpy(seq, t.seq, FIN_SEQ_LEN);
    seq[FIN_SEQ_LEN] = 0;
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
        if (count)
            fin_buf_append(&b, ",", 1);
        fin_buf_printf(&b, "{\"SequenceNumber\":\"%s\",\"ApproximateArrivalTimestamp\":%" PRId64
                           ".%03d,\"Data\":\"",
                       rec.seq, rec.arrival_ms / 1000, (int)(rec.arrival_ms % 1000));
        b64_append(&b, rec.data, rec.len);
        fin_buf_puts(&b, "\",\"PartitionKey\":");
        json_str_append(&b, rec.key, rec.key_len);
        if (fin_buf_puts(&b, "}")) {
            fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "out of memory");
            goto done;
        }
        memcpy(t.seq, rec.seq, FIN_SEQ_LEN);
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
    json_t *next = closed ? json_null() : token_make(r->svc, &t);
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

/* Saves a stream's metadata (with the registry locked), unlocks, and answers {} or the
 * failure. */
static void save_and_respond(struct req *r, struct sstream *ss)
{
    int rc = meta_save(r->svc, ss);
    reg_unlock(r->svc);
    if (rc)
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
    else
        respond_value(r->svc, r->resp, json_object());
}

/* ---- retention and tags ---- */

static void change_retention(struct req *r, bool increase)
{
    struct sstream *ss = NULL;
    int64_t h = 0;
    bool has;
    if (get_int(r, "RetentionPeriodHours", true, 1, 8760, &h, &has) || with_stream(r, true, &ss))
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

static void add_tags(struct req *r)
{
    struct sstream *ss = NULL;
    json_t *tags = json_object_get(r->body, "Tags");
    if (!json_is_object(tags)) {
        verr(r, "Value null at 'tags' failed to satisfy constraint: Member must not be null");
        return;
    }
    size_t n = json_object_size(tags);
    if (n < 1 || n > 10) {
        verr(r, "Value at 'tags' failed to satisfy constraint: Member must have length %s",
             n < 1 ? "greater than or equal to 1" : "less than or equal to 10");
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(tags, k, v) {
        if (!json_is_string(v) || strlen(k) < 1 || strlen(k) > 128 ||
            json_string_length(v) > 256) {
            invalid(r, "Invalid tag: keys are 1 to 128 characters, values strings of at most 256");
            return;
        }
    }
    if (with_stream(r, true, &ss))
        return;
    reg_lock(r->svc);
    json_t *merged = json_copy(ss->tags);
    json_object_update(merged, tags);
    if (json_object_size(merged) > FIN_SERVE_MAX_TAGS) {
        reg_unlock(r->svc);
        json_decref(merged);
        fin_serve_error(r->svc, r->resp, 400, "LimitExceededException",
                        "Failed to add tags to stream %s under account %s because a given stream "
                        "cannot have more than %d tags.", ss->name, r->svc->account,
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

static void reshard(struct req *r, const char *op)
{
    struct sstream *ss = NULL;
    int rc = 0;
    const char *a = NULL, *b = NULL;
    int64_t target = 0;
    bool has;
    if (strcmp(op, "SplitShard") == 0) {
        a = get_str(r, "ShardToSplit", true, 1, 128, &rc);
        if (!rc)
            b = get_str(r, "NewStartingHashKey", true, 1, 39, &rc);
        if (!rc && !hash_key_ok(b)) {
            verr(r, "Value '%s' at 'newStartingHashKey' failed to satisfy constraint: Member "
                    "must satisfy regular expression pattern: 0|([1-9]\\d{0,38})", b);
            return;
        }
    } else if (strcmp(op, "MergeShards") == 0) {
        a = get_str(r, "ShardToMerge", true, 1, 128, &rc);
        if (!rc)
            b = get_str(r, "AdjacentShardToMerge", true, 1, 128, &rc);
    } else {
        rc = get_int(r, "TargetShardCount", true, 1, 10000, &target, &has);
        const char *st = rc ? NULL : get_str(r, "ScalingType", true, 1, 64, &rc);
        if (!rc && strcmp(st, "UNIFORM_SCALING") != 0) {
            verr(r, "Value '%s' at 'scalingType' failed to satisfy constraint: Member must "
                    "satisfy enum value set: [UNIFORM_SCALING]", st);
            return;
        }
    }
    if (rc || with_stream(r, true, &ss))
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
        respond_value(r->svc, r->resp, json_object());
done:
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
};

void kinesis_dispatch(struct fin_serve *svc, const char *op, json_t *body,
                      struct fin_serve_response *resp)
{
    struct req r = {svc, body, resp};
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(op, actions[i].op) == 0) {
            actions[i].handle(&r);
            return;
        }
    fin_serve_error(svc, resp, 400, "UnknownOperationException", "unknown operation %s", op);
}
