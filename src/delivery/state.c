/* state.c - deliveries/<name>/state.json: the checkpoint per shard, the flush in
 * progress, and the counters that `finstream deliver --status` shows.
 *
 * One small file replaced atomically (temp file, fsync, rename, folder fsync) holds all
 * three, so the counters move together with the checkpoint and are exact after a crash:
 * a replayed flush is counted once. */
#include "internal.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/stream.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void fin_delivery_state_fini(struct fin_delivery_state *st)
{
    if (!st)
        return;
    free(st->shards);
    free(st->pending);
    memset(st, 0, sizeof *st);
}

struct fin_delivery_shard_state *fin_delivery_state_shard(struct fin_delivery_state *st,
                                                          const char *shard_id)
{
    for (size_t i = 0; i < st->n_shards; i++)
        if (strcmp(st->shards[i].shard_id, shard_id) == 0)
            return &st->shards[i];
    struct fin_delivery_shard_state *ns = realloc(st->shards, (st->n_shards + 1) * sizeof *ns);
    if (!ns)
        return NULL;
    st->shards = ns;
    struct fin_delivery_shard_state *s = &ns[st->n_shards++];
    memset(s, 0, sizeof *s);
    snprintf(s->shard_id, sizeof s->shard_id, "%s", shard_id);
    return s;
}

static uint64_t get_u64(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static bool copy_str(char *dst, size_t cap, json_t *v)
{
    if (!json_is_string(v) || json_string_length(v) >= cap)
        return false;
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return true;
}

/* The number in "shardId-000000000007", or -1 when id is not spelled so. */
static long shard_number(const char *id)
{
    if (strncmp(id, "shardId-", 8) != 0 || strlen(id) != 20)
        return -1;
    long v = 0;
    for (const char *p = id + 8; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

/* A checkpoint must name a shard the source has, or one it had: a closed parent that
 * retention removed has a lower number than some shard still there (children are always
 * numbered after their parents). Anything else (a shard the stream never had, a state
 * file of another stream) would leave the real shard without a checkpoint, to be
 * delivered again from its start: refused. */
static int check_shard(const char *path, size_t i, const char *id, const char *const *ids,
                       int n_ids)
{
    long num = shard_number(id), max = -1;
    const char *newest = "none";
    if (num < 0)
        return fin_err_set(FIN_ECORRUPT, "%s: shards[%zu]: '%s' is not a shard id "
                           "(shardId- and 12 digits)", path, i, id);
    for (int k = 0; k < n_ids; k++) {
        if (strcmp(ids[k], id) == 0)
            return 0;
        long m = shard_number(ids[k]);
        if (m > max) {
            max = m;
            newest = ids[k];
        }
    }
    if (num < max)
        return 0;   /* a parent retention removed */
    return fin_err_set(FIN_ECORRUPT, "%s: shards[%zu]: a checkpoint for %s, a shard the source "
                       "never had (its newest is %s); refusing to start, as the shards it "
                       "does have would be delivered again from their start: correct or "
                       "remove the entry", path, i, id, newest);
}

int fin_delivery_state_load(struct fin_delivery_state *st, const char *path,
                            const char *const *shard_ids, int n_ids)
{
    memset(st, 0, sizeof *st);
    if (!fin_path_exists(path))
        return 0;
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        return fin_err_set(FIN_ECORRUPT, "%s:%d: %s", path, jerr.line, jerr.text);
    int rc = 0;
    json_t *shards = json_object_get(root, "shards"), *pending = json_object_get(root, "pending");
    json_t *stats = json_object_get(root, "stats");
    if (!json_is_array(shards) || !json_is_array(pending) || !json_is_object(stats)) {
        rc = fin_err_set(FIN_ECORRUPT, "%s: expected shards, pending and stats", path);
        goto fail;
    }
    size_t i;
    json_t *v;
    json_array_foreach(shards, i, v) {
        struct fin_delivery_shard_state s = {0};
        if (!copy_str(s.shard_id, sizeof s.shard_id, json_object_get(v, "shard")) ||
            !copy_str(s.seq, sizeof s.seq, json_object_get(v, "seq"))) {
            rc = fin_err_set(FIN_ECORRUPT, "%s: shards[%zu] needs shard and seq", path, i);
            goto fail;
        }
        if (shard_ids && (rc = check_shard(path, i, s.shard_id, shard_ids, n_ids)))
            goto fail;
        for (size_t k = 0; k < st->n_shards; k++)
            if (strcmp(st->shards[k].shard_id, s.shard_id) == 0) {
                rc = fin_err_set(FIN_ECORRUPT, "%s: shards[%zu]: a second checkpoint for %s",
                                 path, i, s.shard_id);
                goto fail;
            }
        struct fin_delivery_shard_state *d = fin_delivery_state_shard(st, s.shard_id);
        if (!d) {
            rc = FIN_ENOMEM;
            goto fail;
        }
        *d = s;
    }
    if (json_array_size(pending)) {
        st->pending = calloc(json_array_size(pending), sizeof *st->pending);
        if (!st->pending) {
            rc = FIN_ENOMEM;
            goto fail;
        }
    }
    json_array_foreach(pending, i, v) {
        struct fin_delivery_range *r = &st->pending[i];
        char sid[FIN_SHARD_ID_LEN + 16];
        if (!copy_str(sid, sizeof sid, json_object_get(v, "shard")) ||
            !copy_str(r->first_seq, sizeof r->first_seq, json_object_get(v, "first")) ||
            !copy_str(r->last_seq, sizeof r->last_seq, json_object_get(v, "last"))) {
            rc = fin_err_set(FIN_ECORRUPT, "%s: pending[%zu] needs shard, first and last", path, i);
            goto fail;
        }
        r->count = get_u64(v, "count");
        r->shard = -1;
        if (!shard_ids) {
            st->n_pending++;   /* a reader that only reports: shard indexes unknown */
            continue;
        }
        for (int k = 0; k < n_ids; k++)
            if (strcmp(shard_ids[k], sid) == 0)
                r->shard = k;
        if (r->shard < 0) {
            rc = fin_err_set(FIN_ECORRUPT, "%s: pending flush names shard %s, which the source "
                             "does not have", path, sid);
            goto fail;
        }
        st->n_pending++;
    }
    st->stats.records = get_u64(stats, "records");
    st->stats.bytes = get_u64(stats, "bytes");
    st->stats.objects = get_u64(stats, "objects");
    st->stats.error_records = get_u64(stats, "error_records");
    st->stats.error_objects = get_u64(stats, "error_objects");
    st->stats.flushes = get_u64(stats, "flushes");
    st->stats.replays = get_u64(stats, "replays");
    st->stats.last_flush_ms = (int64_t)get_u64(stats, "last_flush_ms");
    json_decref(root);
    return 0;
fail:
    json_decref(root);
    fin_delivery_state_fini(st);
    return rc;
}

int fin_delivery_state_save(const struct fin_delivery_state *st, const char *path,
                            const char *const *shard_ids)
{
    int rc = FIN_ENOMEM;
    char *text = NULL;
    json_t *root = json_object(), *shards = json_array(), *pending = json_array();
    json_t *stats = json_object();
    if (!root || !shards || !pending || !stats)
        goto fail;
    json_object_set_new(root, "version", json_integer(1));
    json_object_set(root, "shards", shards);
    json_object_set(root, "pending", pending);
    json_object_set(root, "stats", stats);
    for (size_t i = 0; i < st->n_shards; i++)
        json_array_append_new(shards, json_pack("{s:s,s:s}", "shard", st->shards[i].shard_id,
                                                "seq", st->shards[i].seq));
    for (size_t i = 0; i < st->n_pending; i++) {
        const struct fin_delivery_range *r = &st->pending[i];
        json_array_append_new(pending, json_pack("{s:s,s:s,s:s,s:I}", "shard",
                                                 shard_ids[r->shard], "first", r->first_seq,
                                                 "last", r->last_seq, "count",
                                                 (json_int_t)r->count));
    }
    const struct fin_delivery_stats *s = &st->stats;
    json_object_set_new(stats, "records", json_integer((json_int_t)s->records));
    json_object_set_new(stats, "bytes", json_integer((json_int_t)s->bytes));
    json_object_set_new(stats, "objects", json_integer((json_int_t)s->objects));
    json_object_set_new(stats, "error_records", json_integer((json_int_t)s->error_records));
    json_object_set_new(stats, "error_objects", json_integer((json_int_t)s->error_objects));
    json_object_set_new(stats, "flushes", json_integer((json_int_t)s->flushes));
    json_object_set_new(stats, "replays", json_integer((json_int_t)s->replays));
    json_object_set_new(stats, "last_flush_ms", json_integer((json_int_t)s->last_flush_ms));
    text = json_dumps(root, JSON_INDENT(1));
    if (!text)
        goto fail;
    rc = fin_write_file_atomic(path, text, strlen(text));
fail:
    free(text);
    json_decref(shards);
    json_decref(pending);
    json_decref(stats);
    json_decref(root);
    return rc;
}

int fin_delivery_backlog(struct fin_stream *s, int shard, const char *seq, uint64_t cap,
                         struct fin_backlog *out)
{
    memset(out, 0, sizeof *out);
    out->oldest_ms = -1;
    struct fin_iter *it = NULL;
    int rc = fin_iter_open(&it, s, shard,
                           seq[0] ? FIN_ITER_AFTER_SEQUENCE_NUMBER : FIN_ITER_TRIM_HORIZON,
                           seq[0] ? seq : NULL, 0);
    if (rc)
        return rc;
    struct fin_record rec;
    while ((rc = fin_iter_next(it, &rec)) == 0) {
        if (out->oldest_ms < 0)
            out->oldest_ms = rec.arrival_ms;
        out->records++;
        out->bytes += rec.len + 1;
        if (cap && out->records >= cap) {
            out->capped = true;
            rc = FIN_EEND;
            break;
        }
    }
    fin_iter_close(it);
    return rc == FIN_EEND ? 0 : rc;
}
