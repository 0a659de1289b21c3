/* streams.c - one stream: its shards with hash-key ranges and lineage, a tail of its
 * records, and resharding (split, merge, scale).
 *
 *   GET  /api/streams/NAME                 configuration and shards (ListShards + sizes)
 *   GET  /api/streams/NAME/tail?cursor=C   records after cursor C, or the newest ones
 *   POST /api/streams/NAME/split  {"shard": ID, "hash_key": "..."}   (hash_key optional)
 *   POST /api/streams/NAME/merge  {"shard": ID, "adjacent": ID}
 *   POST /api/streams/NAME/scale  {"target": N}
 *
 * The tail's cursor is "SHARD_ID:SEQ,..." (the last record returned per shard), so a
 * page that polls it sees every record once, in order per shard. Without one, the tail
 * starts TAIL_WINDOW_MS back and returns the newest records of that window. Resharding
 * goes through the configured writer (serve's own) or opens the stream for writing. */
#include "internal.h"

#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/stream.h"

#include <stdlib.h>
#include <string.h>

#define TAIL_WINDOW_MS (10 * 60 * 1000)
#define TAIL_MAX 1000

static json_t *shards_json(struct fin_stream *s, int *rc)
{
    struct fin_shard_desc *d = NULL;
    size_t n = 0;
    json_t *arr = json_array();
    if ((*rc = fin_stream_list_shards(s, &d, &n)))
        return arr;
    for (size_t i = 0; i < n; i++) {
        struct fin_shard_info info;
        memset(&info, 0, sizeof info);
        if (fin_stream_shard_info(s, d[i].shard, &info))
            fin_err_clear();
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:I,s:I,s:b}", "id", d[i].id,
                              "parent", d[i].parent, "adjacent_parent", d[i].adjacent_parent,
                              "hash_start", d[i].hash_start, "hash_end", d[i].hash_end,
                              "starting_seq", d[i].starting_seq, "ending_seq", d[i].ending_seq,
                              "closed", d[i].closed, "segments", (json_int_t)info.segments,
                              "bytes", (json_int_t)info.bytes, "empty", info.empty);
        if (o && !info.empty) {
            json_object_set_new(o, "first_seq", json_string(info.first_seq));
            json_object_set_new(o, "last_seq", json_string(info.last_seq));
        }
        json_array_append_new(arr, o);
    }
    free(d);
    return arr;
}

static void stream_detail(struct fin_console *c, const char *name, struct cresp *r)
{
    struct fin_stream *s = NULL;
    int rc = fin_stream_open(&s, c->data_dir, name, FIN_STREAM_READ, NULL);
    if (rc) {
        resp_fin_error(r, rc);
        return;
    }
    const struct fin_stream_config *cfg = fin_stream_get_config(s);
    json_t *shards = shards_json(s, &rc);
    if (rc) {
        json_decref(shards);
        fin_stream_close(s);
        resp_fin_error(r, rc);
        return;
    }
    resp_json(r, 200, json_pack("{s:s,s:I,s:s,s:I,s:i,s:o}", "name", name, "retention_hours",
                                (json_int_t)(cfg->retention_ms / 3600000), "fsync",
                                fin_fsync_policy_name(cfg->fsync), "segment_bytes",
                                (json_int_t)cfg->segment_bytes, "open_shards",
                                fin_stream_open_shard_count(s), "shards", shards));
    fin_stream_close(s);
}

/* The cursor's sequence number for shard_id, or NULL. */
static const char *cursor_seq(const char *cursor, const char *shard_id, char out[FIN_SEQ_LEN + 1])
{
    size_t il = strlen(shard_id);
    for (const char *p = cursor; p && *p;) {
        if (strncmp(p, shard_id, il) == 0 && p[il] == ':') {
            const char *v = p + il + 1;
            size_t k = 0;
            while (v[k] >= '0' && v[k] <= '9' && k < FIN_SEQ_LEN)
                k++;
            memcpy(out, v, k);
            out[k] = 0;
            return k ? out : NULL;
        }
        p = strchr(p, ',');
        if (p)
            p++;
    }
    return NULL;
}

static void stream_tail(struct fin_console *c, const struct creq *q, const char *name, struct cresp *r)
{
    long long limit = req_arg_int(q, "limit", 100);
    if (limit <= 0 || limit > TAIL_MAX) {
        resp_error(r, 400, "invalid", "limit: expected 1 to %d", TAIL_MAX);
        return;
    }
    const char *cursor = q->arg(q->arg_ctx, "cursor");
    struct fin_stream *s = NULL;
    int rc = fin_stream_open(&s, c->data_dir, name, FIN_STREAM_READ, NULL);
    if (rc) {
        resp_fin_error(r, rc);
        return;
    }
    json_t *recs = json_array(), *next = json_object();
    int n = fin_stream_shard_count(s);
    int64_t since = now_ms_real() - TAIL_WINDOW_MS;
    for (int i = 0; i < n && !rc; i++) {
        const char *id = fin_stream_shard_id(s, i);
        char seq[FIN_SEQ_LEN + 1];
        const char *after = cursor ? cursor_seq(cursor, id, seq) : NULL;
        struct fin_iter *it = NULL;
        rc = fin_iter_open(&it, s, i, after ? FIN_ITER_AFTER_SEQUENCE_NUMBER : FIN_ITER_AT_TIMESTAMP,
                           after, since);
        if (rc)
            break;
        /* keep the last `limit` records of the shard (a ring of JSON values) */
        json_t *ring = json_array();
        struct fin_record rec;
        while ((rc = fin_iter_next(it, &rec)) == 0) {
            char t[32];
            iso_time(rec.arrival_ms, t);
            json_t *o = json_pack("{s:s,s:s,s:s#,s:s,s:I,s:s#}", "shard", id, "seq", rec.seq,
                                  "key", rec.key, (int)rec.key_len, "arrival", t, "arrival_ms",
                                  (json_int_t)rec.arrival_ms, "data", rec.data, (int)rec.len);
            if (!o)  /* data that is not UTF-8: shown as a note */
                o = json_pack("{s:s,s:s,s:s,s:I,s:s}", "shard", id, "seq", rec.seq, "arrival", t,
                              "arrival_ms", (json_int_t)rec.arrival_ms, "data",
                              "(binary data)");
            json_array_append_new(ring, o);
            if ((long long)json_array_size(ring) > limit)
                json_array_remove(ring, 0);
            json_object_set_new(next, id, json_string(rec.seq));
        }
        fin_iter_close(it);
        if (rc == FIN_EEND)
            rc = 0;
        if (!json_object_get(next, id) && after)
            json_object_set_new(next, id, json_string(after));
        json_array_extend(recs, ring);
        json_decref(ring);
    }
    fin_stream_close(s);
    if (rc) {
        json_decref(recs);
        json_decref(next);
        resp_fin_error(r, rc);
        return;
    }
    /* newest last across shards, and at most limit in all */
    size_t nr = json_array_size(recs);
    for (size_t i = 1; i < nr; i++)
        for (size_t j = i; j > 0; j--) {
            json_t *a = json_array_get(recs, j - 1), *b = json_array_get(recs, j);
            if (json_integer_value(json_object_get(a, "arrival_ms")) <=
                json_integer_value(json_object_get(b, "arrival_ms")))
                break;
            json_incref(a);
            json_array_set(recs, j - 1, b);
            json_array_set_new(recs, j, a);
        }
    while ((long long)json_array_size(recs) > limit)
        json_array_remove(recs, 0);
    struct fin_buf cur;
    fin_buf_init(&cur);
    const char *k;
    json_t *v;
    json_object_foreach(next, k, v)
        fin_buf_printf(&cur, "%s%s:%s", cur.len ? "," : "", k, json_string_value(v));
    resp_json(r, 200, json_pack("{s:o,s:s}", "records", recs, "cursor",
                                cur.len ? fin_buf_cstr(&cur) : ""));
    fin_buf_fini(&cur);
    json_decref(next);
}

struct reshard {
    const char *op;
    const char *shard, *other;
    long long target;
};

static int do_reshard(struct fin_stream *s, void *ctx)
{
    struct reshard *x = ctx;
    if (strcmp(x->op, "split") == 0)
        return fin_stream_split_shard(s, x->shard, x->other);
    if (strcmp(x->op, "merge") == 0)
        return fin_stream_merge_shards(s, x->shard, x->other);
    return fin_stream_update_shard_count(s, (int)x->target);
}

static void stream_reshard(struct fin_console *c, const struct creq *q, const char *name,
                           const char *op, struct cresp *r)
{
    json_t *b = req_json(q, r);
    if (!b)
        return;
    struct reshard x = {.op = op};
    x.shard = json_string_value(json_object_get(b, "shard"));
    if (strcmp(op, "split") == 0) {
        x.other = json_string_value(json_object_get(b, "hash_key"));
        if (x.other && !*x.other)
            x.other = NULL;
        if (!x.shard) {
            json_decref(b);
            resp_error(r, 400, "invalid", "split: give \"shard\" (and optionally \"hash_key\")");
            return;
        }
    } else if (strcmp(op, "merge") == 0) {
        x.other = json_string_value(json_object_get(b, "adjacent"));
        if (!x.shard || !x.other) {
            json_decref(b);
            resp_error(r, 400, "invalid", "merge: give \"shard\" and \"adjacent\"");
            return;
        }
    } else {
        json_t *t = json_object_get(b, "target");
        if (!json_is_integer(t) || json_integer_value(t) < 1 ||
            json_integer_value(t) > FIN_STREAM_MAX_SHARDS) {
            json_decref(b);
            resp_error(r, 400, "invalid", "scale: give \"target\", a shard count from 1 to %d",
                       FIN_STREAM_MAX_SHARDS);
            return;
        }
        x.target = json_integer_value(t);
    }
    int rc;
    if (c->cfg.with_writer) {
        rc = c->cfg.with_writer(c->cfg.writer_ctx, name, do_reshard, &x);
    } else {
        struct fin_stream *s = NULL;
        rc = fin_stream_open(&s, c->data_dir, name, FIN_STREAM_WRITE, NULL);
        if (!rc)
            rc = do_reshard(s, &x);
        fin_stream_close(s);
    }
    json_decref(b);
    if (rc) {
        resp_fin_error(r, rc);
        return;
    }
    stream_detail(c, name, r);
}

void api_stream(struct fin_console *c, const struct creq *q, struct cresp *r, const char *rest)
{
    char name[FIN_STREAM_MAX_NAME + 1];
    const char *slash = strchr(rest, '/');
    size_t nl = slash ? (size_t)(slash - rest) : strlen(rest);
    if (nl == 0 || nl > FIN_STREAM_MAX_NAME) {
        resp_error(r, 404, "not_found", "no stream named in %s", q->path);
        return;
    }
    memcpy(name, rest, nl);
    name[nl] = 0;
    int rc = fin_check_name("stream", name, FIN_STREAM_MAX_NAME);
    if (rc) {
        resp_fin_error(r, rc);
        return;
    }
    const char *sub = slash ? slash + 1 : "";
    bool get = strcmp(q->method, "GET") == 0 || strcmp(q->method, "HEAD") == 0;
    if (!*sub && get)
        stream_detail(c, name, r);
    else if (strcmp(sub, "tail") == 0 && get)
        stream_tail(c, q, name, r);
    else if (!get && (strcmp(sub, "split") == 0 || strcmp(sub, "merge") == 0 ||
                      strcmp(sub, "scale") == 0))
        stream_reshard(c, q, name, sub, r);
    else
        resp_error(r, 404, "not_found", "no API route %s %s", q->method, q->path);
}
