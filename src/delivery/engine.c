/* engine.c - the delivery engine: buffer records from a source, flush them as objects.
 *
 * Records come from a struct fin_delivery_source (the shards of a stream) into one buffer
 * of bytes plus an index entry per record (shard, arrival, partition). The buffer flushes
 * when it holds buffer_size bytes, when buffer_interval has passed since its first record,
 * or when asked. A flush writes one object per partition (records split by the values of
 * !{partitionKeyFromQuery:...}) and one per kind of failure under the error prefix.
 *
 * Exactly once. A flush covers, per shard, a contiguous range of sequence numbers just
 * after the checkpoint. It goes:
 *   1. state.json gets the ranges as "pending" (atomic replace);
 *   2. each object is written in tmp/, fsynced and renamed into the lake;
 *   3. the lake folders touched are fsynced;
 *   4. state.json gets the checkpoint at the end of the ranges, no pending, new counters.
 * A crash before 1 completes leaves nothing visible; the records are read again and may
 * be cut differently, which is harmless since no object holds them. A crash after 1 finds
 * "pending" at the next start: the engine reads exactly those ranges again and writes
 * the same objects (same records, same partitions, same first arrival time, same names,
 * since every part of a name comes from the data) over whatever the first attempt left,
 * then does 3 and 4. Objects only ever hold records of one flush, and only one flush is in
 * flight, so no record can be in two objects. Inside an object the records are ordered by
 * shard, then sequence number, so a replay writes the same records in the same order. */
#include "engine.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"
#include "finstream/parquet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define REMOTE_WAIT_NS (50 * FIN_NS_PER_MS)   /* between polls of a remote shard */
#define GZ_HANDOVER (256 * 1024)              /* bytes handed to the compressor at a time */

static const char *const err_type_names[ERR_KINDS] = {
    "processing-failed", "format-conversion-failed", "partitioning-failed"};

/* ---- partitions ---- */

static uint64_t hash_bytes(const char *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
    return h;
}

/* The index of the partition with key (values joined by NUL), or of error partition err;
 * created when new. -1 on ENOMEM; -2 when the partition limit is reached. */
static long part_for(struct fin_delivery_engine *e, const char *key, size_t key_len, int err)
{
    uint64_t h = hash_bytes(key, key_len, 0xcbf29ce484222325ULL ^ (uint64_t)(err + 2));
    size_t slot = h & (PART_TABLE - 1);
    for (;; slot = (slot + 1) & (PART_TABLE - 1)) {
        int32_t i = e->table[slot];
        if (i < 0)
            break;
        struct part *p = &e->parts[i];
        if (p->hash == h && p->err == err && p->key_len == key_len &&
            memcmp(p->key, key, key_len) == 0)
            return i;
    }
    if (e->n_parts >= MAX_PARTITIONS + ERR_KINDS)
        return -2;
    struct part *np = realloc(e->parts, (e->n_parts + 1) * sizeof *np);
    if (!np)
        return -1;
    e->parts = np;
    struct part *p = &np[e->n_parts];
    memset(p, 0, sizeof *p);
    if (!(p->key = malloc(key_len + 1)))
        return -1;
    memcpy(p->key, key, key_len);
    p->key[key_len] = '\0';
    p->key_len = key_len;
    p->hash = h;
    p->err = err;
    p->first_ms = INT64_MAX;
    e->table[slot] = (int32_t)e->n_parts;
    return (long)e->n_parts++;
}

static int part_add(struct part *p, uint32_t rec_idx, int64_t arrival_ms)
{
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 256;
        uint32_t *ni = realloc(p->idx, nc * sizeof *ni);
        if (!ni)
            return FIN_ENOMEM;
        p->idx = ni;
        p->cap = nc;
    }
    p->idx[p->n++] = rec_idx;
    if (arrival_ms < p->first_ms)
        p->first_ms = arrival_ms;
    return 0;
}

/* The field named name among f (keys compared unescaped), or NULL. */
static const struct jfield *find_field(const struct jfield *f, size_t nf, const char *name,
                                       char *keybuf, size_t cap)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < nf; i++) {
        const char *k = f[i].key;
        size_t kl = f[i].key_len;
        if (f[i].key_escaped) {
            if (jscan_unescape(f[i].key, f[i].key_len, keybuf, cap, &kl) != 0)
                continue;
            k = keybuf;
        }
        if (kl == nl && memcmp(k, name, kl) == 0)
            return &f[i];
    }
    return NULL;
}

/* The value at path (depth names) in a scanned record: the first name among its fields,
 * the next ones inside nested objects, scanned now into a buffer of the thread's, so the
 * result is valid until the next call. */
static const struct jfield *find_path(const struct jfield *f, size_t nf, const char *const *path,
                                      size_t depth, char *keybuf, size_t cap)
{
    static _Thread_local struct jfield inner[2][JSCAN_MAX_FIELDS];
    const struct jfield *hit = find_field(f, nf, path[0], keybuf, cap);
    for (size_t d = 1; d < depth && hit; d++) {
        size_t n;
        const char *why;
        if (hit->type != J_OBJECT)
            return NULL;
        struct jfield *buf = inner[d & 1];
        if (jscan_object(hit->val, hit->val_len, buf, JSCAN_MAX_FIELDS, &n, &why) != 0)
            return NULL;
        hit = find_field(buf, n, path[d], keybuf, cap);
    }
    return hit;
}

/* Finds the partition values of a scanned record, joined with '\0' into out.
 * Returns NULL or the reason. */
static const char *partition_key(struct fin_delivery_engine *e, const struct jfield *f, size_t nf,
                                 struct fin_buf *out)
{
    char keybuf[256], val[MAX_VALUE + 1];
    fin_buf_reset(out);
    for (size_t j = 0; j < e->n_fields; j++) {
        const struct jfield *hit = find_path(f, nf, e->paths[j], e->depths[j], keybuf, sizeof keybuf);
        fin_buf_reset(&e->scratch);
        if (!hit || hit->type == J_NULL) {
            fin_buf_printf(&e->scratch, "no value for partition key '%s'", e->fields[j]);
            return fin_buf_cstr(&e->scratch);
        }
        if (hit->type == J_OBJECT || hit->type == J_ARRAY) {
            fin_buf_printf(&e->scratch, "partition key '%s' is %s, not a scalar", e->fields[j],
                           jtype_name(hit->type));
            return fin_buf_cstr(&e->scratch);
        }
        size_t vl = hit->val_len;
        if (vl > MAX_VALUE || (hit->val_escaped &&
                               jscan_unescape(hit->val, hit->val_len, val, sizeof val, &vl) != 0)) {
            fin_buf_printf(&e->scratch, "partition key '%s' is longer than %d bytes", e->fields[j],
                           MAX_VALUE);
            return fin_buf_cstr(&e->scratch);
        }
        if (!hit->val_escaped)
            memcpy(val, hit->val, vl);
        val[vl] = '\0';
        /* The value becomes part of a path: no separators, nothing that climbs out. */
        bool bad = vl == 0 || strcmp(val, ".") == 0 || strcmp(val, "..") == 0;
        for (size_t i = 0; i < vl && !bad; i++)
            bad = val[i] == '/' || val[i] == '\\' || (unsigned char)val[i] < 0x20 || val[i] == 0x7f;
        if (bad) {
            fin_buf_printf(&e->scratch, "partition key '%s' value is not usable in a key "
                           "(empty, '.', '..', or holds '/', '\\' or control characters)", e->fields[j]);
            return fin_buf_cstr(&e->scratch);
        }
        if (fin_buf_append(out, val, vl + 1))
            return "out of memory";
    }
    return NULL;
}

/* The prefix a record's partition values make must be a key the writer accepts (a
 * literal "." beside a value "." makes ".."): a record whose values do not is routed to
 * the error prefix here rather than failing every flush. NULL or the reason. */
static const char *partition_prefix_check(struct fin_delivery_engine *e, const struct fin_buf *key,
                                          const struct fin_record *rec)
{
    const char *vals[64] = {0};
    size_t nv = 0;
    for (const char *v = key->data; nv < e->n_fields && nv < 64; v += strlen(v) + 1)
        vals[nv++] = v;
    char prefix[FIN_DELIVERY_MAX_PREFIX * 2 + 8];
    fin_buf_reset(&e->scratch);
    if (fin_prefix_render(e->prefix, rec->arrival_ms, vals, NULL, prefix, sizeof prefix - 2)) {
        fin_buf_printf(&e->scratch, "partition key values make a prefix longer than %zu bytes",
                       sizeof prefix - 3);
        return fin_buf_cstr(&e->scratch);
    }
    strcat(prefix, "x");
    if (fin_delivery_key_check(prefix)) {
        fin_buf_printf(&e->scratch, "partition key values make the prefix '%.*s', which holds "
                       "an empty, '.' or '..' folder", (int)strlen(prefix) - 1, prefix);
        return fin_buf_cstr(&e->scratch);
    }
    return NULL;
}

/* ---- intake ---- */

static int flush(struct fin_delivery_engine *e);

static int add_rec(struct fin_delivery_engine *e, int shard, const char *bytes, size_t len,
                   int64_t arrival_ms, long part)
{
    if (e->n_recs == e->cap_recs) {
        size_t nc = e->cap_recs ? e->cap_recs * 2 : 4096;
        struct rec *nr = realloc(e->recs, nc * sizeof *nr);
        if (!nr)
            return FIN_ENOMEM;
        e->recs = nr;
        e->cap_recs = nc;
    }
    bool nl = len && bytes[len - 1] == '\n';
    struct fin_buf *d = &e->pos[shard].data;
    int rc;
    if (e->gz && d->cap - d->len < len + 1) {
        /* the compressing thread may be reading this buffer: it must not move under it */
        fin_gz_pipe_lock(e->gz);
        rc = fin_buf_reserve(d, len + 1);
        fin_gz_pipe_unlock(e->gz);
    } else {
        rc = fin_buf_reserve(d, len + 1);
    }
    if (rc)
        return rc;
    struct rec *r = &e->recs[e->n_recs];
    r->off = (uint32_t)d->len;
    memcpy(d->data + d->len, bytes, len);
    d->len += len;
    if (!nl)
        d->data[d->len++] = '\n';
    r->len = (uint32_t)(d->len - r->off);
    e->buffered += r->len;
    r->shard = (uint16_t)shard;
    r->part = (uint32_t)part;
    if (e->gz && d->len - fin_gz_pipe_published(e->gz, shard) >= GZ_HANDOVER)
        fin_gz_pipe_publish(e->gz, shard);
    if ((rc = part_add(&e->parts[part], (uint32_t)e->n_recs, arrival_ms)))
        return rc;
    e->n_recs++;
    return 0;
}

static int add_error(struct fin_delivery_engine *e, int shard, const struct fin_record *rec,
                     enum err_kind kind, const char *code, const char *reason)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s (%s, sequence number %s)", reason, e->shard_ids[shard], rec->seq);
    long part = part_for(e, "", 0, kind);
    if (part < 0)
        return FIN_ENOMEM;
    struct fin_buf line;
    fin_buf_init(&line);
    int rc = fin_error_record_append(&line, code, msg, rec->data, rec->len, rec->arrival_ms,
                                     rec->arrival_ms);
    if (!rc)
        rc = add_rec(e, shard, line.data, line.len, rec->arrival_ms, part);
    fin_buf_fini(&line);
    return rc;
}

/* Takes one record from shard into the buffer, flushing first when the partition limit
 * is reached and afterwards when the buffer is full. */
static int intake(struct fin_delivery_engine *e, int shard, const struct fin_record *rec)
{
    int rc = 0;
    if (e->n_recs == 0)
        e->first_mono = fin_mono_ns(e->clock);
    struct shard_pos *sp = &e->pos[shard];
    bool need_scan = e->n_fields || e->set.format == FIN_FORMAT_PARQUET;
    long part = 0;
    if (!need_scan) {
        part = part_for(e, "", 0, ERR_NONE);
        if (part < 0)
            return FIN_ENOMEM;
        rc = add_rec(e, shard, rec->data, rec->len, rec->arrival_ms, part);
    } else {
        struct jfield f[JSCAN_MAX_FIELDS];
        size_t nf;
        const char *why = NULL;
        enum err_kind kind = ERR_NONE;
        const char *code = NULL;
        if (jscan_object(rec->data, rec->len, f, JSCAN_MAX_FIELDS, &nf, &why) != 0) {
            bool conv = e->set.format == FIN_FORMAT_PARQUET;
            kind = conv ? ERR_CONVERSION : ERR_PARTITIONING;
            code = conv ? "DataFormatConversion.MalformedData" : "DynamicPartitioning.MetadataExtractionFailed";
        }
        struct fin_buf key;
        fin_buf_init(&key);
        if (kind == ERR_NONE && e->n_fields && (why = partition_key(e, f, nf, &key))) {
            kind = ERR_PARTITIONING;
            code = "DynamicPartitioning.MetadataExtractionFailed";
        }
        if (kind == ERR_NONE && e->n_fields && (why = partition_prefix_check(e, &key, rec))) {
            kind = ERR_PARTITIONING;
            code = "DynamicPartitioning.MetadataExtractionFailed";
        }
        if (kind == ERR_NONE && e->set.format == FIN_FORMAT_PARQUET &&
            (why = convert_check(e, rec->data, f, nf))) {
            kind = ERR_CONVERSION;
            code = "DataFormatConversion.InvalidSchema";
        }
        if (kind != ERR_NONE) {
            char reason[512];
            snprintf(reason, sizeof reason, "%s", why);
            rc = add_error(e, shard, rec, kind, code, reason);
        } else {
            part = part_for(e, key.len ? key.data : "", key.len, ERR_NONE);
            if (part == -2 && !e->replaying) {
                /* Firehose's active-partition limit: write what we have, start afresh. */
                fin_buf_fini(&key);
                if ((rc = flush(e)))
                    return rc;
                return intake(e, shard, rec);
            }
            rc = part < 0 ? (part == -2 ? fin_err_set(FIN_ELIMIT, "more than %d partitions in one "
                                                      "flush", MAX_PARTITIONS) : FIN_ENOMEM)
                          : add_rec(e, shard, rec->data, rec->len, rec->arrival_ms, part);
        }
        fin_buf_fini(&key);
    }
    if (rc)
        return rc;
    if (sp->count == 0)
        memcpy(sp->first, rec->seq, sizeof sp->first);
    memcpy(sp->last, rec->seq, sizeof sp->last);
    sp->count++;
    if (!e->replaying && (int64_t)e->buffered >= e->set.buffer_size)
        return flush(e);
    return 0;
}

/* ---- flush ---- */

/* Orders a partition's records by shard, keeping arrival order within each shard (which
 * is sequence order): a stable counting sort, since shards are few. */
static int order_by_shard(struct fin_delivery_engine *e, struct part *p)
{
    int ns = e->src->n_shards;
    if (ns == 1)
        return 0;
    size_t *start = calloc((size_t)ns + 1, sizeof *start);
    uint32_t *out = malloc(p->n * sizeof *out);
    if (!start || !out) {
        free(start);
        free(out);
        return FIN_ENOMEM;
    }
    for (size_t i = 0; i < p->n; i++)
        start[e->recs[p->idx[i]].shard + 1]++;
    for (int s = 0; s < ns; s++)
        start[s + 1] += start[s];
    for (size_t i = 0; i < p->n; i++)
        out[start[e->recs[p->idx[i]].shard]++] = p->idx[i];
    free(p->idx);
    free(start);
    p->idx = out;
    p->cap = p->n;
    return 0;
}

static int write_part(struct fin_delivery_engine *e, struct part *p,
                      const struct fin_delivery_range *ranges, size_t n_ranges)
{
    char prefix[FIN_DELIVERY_MAX_PREFIX * 2], objname[512], key[FIN_DELIVERY_MAX_PREFIX * 2 + 512];
    const char *vals[64] = {0};
    size_t nv = 0;
    for (const char *v = p->key; p->err == ERR_NONE && nv < e->n_fields && nv < 64;
         v += strlen(v) + 1)
        vals[nv++] = v;
    bool is_err = p->err != ERR_NONE;
    int rc = fin_prefix_render(is_err ? e->error_prefix : e->prefix, p->first_ms, vals,
                               is_err ? err_type_names[p->err] : NULL, prefix, sizeof prefix);
    if (rc)
        return rc;
    char suffix[FIN_DELIVERY_SUFFIX_LEN + 1];
    fin_delivery_suffix(e->name, prefix, ranges, n_ranges, e->shard_ids, suffix);
    bool pq = !is_err && e->set.format == FIN_FORMAT_PARQUET;
    bool gz = !pq && e->set.compression == FIN_COMPRESS_GZIP;
    if ((rc = fin_delivery_object_name(e->name, p->first_ms, suffix,
                                       pq ? ".parquet" : gz ? ".gz" : "", objname, sizeof objname)))
        return rc;
    if ((size_t)snprintf(key, sizeof key, "%s%s", prefix, objname) >= sizeof key)
        return fin_err_set(FIN_ELIMIT, "object key '%s%s' is too long", prefix, objname);

    if ((rc = order_by_shard(e, p)))
        return rc;
    /* The object's bytes: the shard buffers themselves when this object holds the whole
     * flush (the usual case without partitions), otherwise gathered in order. */
    struct iovec iov[64];
    int n_iov = 0;
    if (!pq && p->n == e->n_recs && e->src->n_shards <= 64) {
        for (int sh = 0; sh < e->src->n_shards; sh++)
            if (e->pos[sh].data.len)
                iov[n_iov++] = (struct iovec){e->pos[sh].data.data, e->pos[sh].data.len};
    } else if (!pq) {
        fin_buf_reset(&e->obj);
        for (size_t i = 0; i < p->n; i++) {
            const struct rec *r = &e->recs[p->idx[i]];
            if ((rc = fin_buf_append(&e->obj, e->pos[r->shard].data.data + r->off, r->len)))
                return rc;
        }
        iov[n_iov++] = (struct iovec){e->obj.data, e->obj.len};
    }
    uint64_t bytes = 0;
    if (pq) {
        rc = convert_write_parquet(e, p, key, &bytes);
    } else if (gz) {
        fin_buf_reset(&e->scratch);
        /* One object for the whole flush: compressed while the buffer filled. */
        bool piped = e->gz && p->n == e->n_recs;
        if (!(rc = piped ? fin_gz_pipe_finish(e->gz, &e->scratch)
                         : fin_gzip_fast(iov, n_iov, &e->scratch))) {
            struct iovec z = {e->scratch.data, e->scratch.len};
            rc = e->sink->ops->put(e->sink, key, &z, 1);
        }
        bytes = e->scratch.len;
    } else {
        rc = e->sink->ops->put(e->sink, key, iov, n_iov);
        for (int i = 0; i < n_iov; i++)
            bytes += iov[i].iov_len;
    }
    if (rc)
        return rc;
    fin_debug("delivery %s: wrote %s (%zu records, %llu bytes)", e->name, key, p->n,
              (unsigned long long)bytes);
    struct fin_delivery_stats *s = &e->st.stats;
    s->bytes += bytes;
    if (is_err) {
        s->error_objects++;
        s->error_records += p->n;
    } else {
        s->objects++;
        s->records += p->n;
        size_t pl = strlen(prefix) < sizeof s->last_prefix - 1 ? strlen(prefix) : sizeof s->last_prefix - 1;
        memcpy(s->last_prefix, prefix, pl);
        s->last_prefix[pl] = '\0';
    }
    return 0;
}

static void reset_buffer(struct fin_delivery_engine *e)
{
    if (e->gz)
        fin_gz_pipe_reset(e->gz);   /* before the buffers it reads are emptied */
    for (size_t i = 0; i < e->n_parts; i++) {
        free(e->parts[i].key);
        free(e->parts[i].idx);
    }
    e->n_parts = 0;
    memset(e->table, 0xff, sizeof e->table);
    e->n_recs = 0;
    e->buffered = 0;
    for (int i = 0; e->pos && i < e->src->n_shards; i++) {
        e->pos[i].count = 0;
        fin_buf_reset(&e->pos[i].data);
        /* A large buffer's memory goes back once written, so an idle delivery stays small. */
        if (e->pos[i].data.cap > (size_t)e->set.buffer_size * 2) {
            fin_buf_fini(&e->pos[i].data);
            fin_buf_init(&e->pos[i].data);
        }
    }
    convert_reset(e);
}

static int flush(struct fin_delivery_engine *e)
{
    if (e->n_recs == 0)
        return 0;
    struct fin_delivery_range *ranges = calloc((size_t)e->src->n_shards, sizeof *ranges);
    if (!ranges)
        return FIN_ENOMEM;
    size_t nr = 0;
    int rc = 0;
    for (int i = 0; i < e->src->n_shards; i++) {
        if (!e->pos[i].count)
            continue;
        ranges[nr].shard = i;
        memcpy(ranges[nr].first_seq, e->pos[i].first, sizeof ranges[nr].first_seq);
        memcpy(ranges[nr].last_seq, e->pos[i].last, sizeof ranges[nr].last_seq);
        ranges[nr].count = e->pos[i].count;
        nr++;
    }
    if (!e->replaying) {
        free(e->st.pending);
        e->st.pending = ranges;
        e->st.n_pending = nr;
        ranges = NULL;
        if ((rc = fin_delivery_state_save(&e->st, e->state_path, e->shard_ids)))
            goto fail;
    }
    /* A replay names its objects after the ranges recorded by the first attempt. */
    const struct fin_delivery_range *rs = e->st.pending;
    if (e->replaying)
        nr = e->st.n_pending;
    for (size_t i = 0; i < e->n_parts; i++)
        if (e->parts[i].n && (rc = write_part(e, &e->parts[i], rs, nr)))
            goto fail;
    if ((rc = e->sink->ops->sync(e->sink)))
        goto fail;
    for (size_t i = 0; i < nr; i++) {
        struct fin_delivery_shard_state *ss = fin_delivery_state_shard(&e->st,
                                                                       e->shard_ids[rs[i].shard]);
        if (!ss) {
            rc = FIN_ENOMEM;
            goto fail;
        }
        memcpy(ss->seq, rs[i].last_seq, sizeof ss->seq);
    }
    free(e->st.pending);
    e->st.pending = NULL;
    e->st.n_pending = 0;
    e->st.stats.flushes++;
    if (e->replaying)
        e->st.stats.replays++;
    e->st.stats.last_flush_ms = fin_now_ns(e->clock) / FIN_NS_PER_MS;
    if ((rc = fin_delivery_state_save(&e->st, e->state_path, e->shard_ids)))
        goto fail;
    reset_buffer(e);
    e->retry = false;
    free(ranges);
    return 0;
fail:
    /* The buffer stays as it is, so the next attempt covers the same ranges and writes
     * the same keys over whatever this one left. */
    e->retry = true;
    /* The counters of objects already written stay in memory only; the next attempt
     * rewrites those objects and counts them again, so reload the saved ones. */
    free(ranges);
    {
        struct fin_delivery_state again;
        if (fin_delivery_state_load(&again, e->state_path, e->shard_ids, e->src->n_shards) == 0) {
            e->st.stats = again.stats;
            fin_delivery_state_fini(&again);
        }
    }
    return rc;
}

/* ---- lifecycle ---- */

static int take_lock(struct fin_delivery_engine *e)
{
    char *path = fin_path_join(e->dir, "lock");
    if (!path)
        return FIN_ENOMEM;
    int rc = 0;
    e->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (e->lock_fd < 0) {
        rc = fin_err_errno(errno, "cannot open", path);
        goto done;
    }
    if (flock(e->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(e->lock_fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        rc = fin_err_set(FIN_EBUSY, "delivery '%s' is running in another process (pid %s)",
                         e->name, pid[0] ? pid : "?");
        close(e->lock_fd);
        e->lock_fd = -1;
        goto done;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(e->lock_fd, 0) != 0 || pwrite(e->lock_fd, pid, (size_t)n, 0) != n)
        fin_warn("delivery %s: cannot write the pid to %s", e->name, path);
done:
    free(path);
    return rc;
}

/* Objects a crashed run left half-written in tmp/ are never visible; remove them. */
static void clean_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *p = fin_path_join(dir, de->d_name);
        if (p)
            unlink(p);
        free(p);
    }
    closedir(d);
}

/* Orders two decimal sequence numbers. A local stream's all have 56 digits, but Kinesis
 * promises only increasing numbers, not their length, so the shorter one is smaller. */
static int seq_cmp(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return la != lb ? (la < lb ? -1 : 1) : strcmp(a, b);
}

static int replay_pending(struct fin_delivery_engine *e)
{
    int rc = 0;
    e->replaying = true;
    uint64_t total = 0;
    for (size_t i = 0; i < e->st.n_pending; i++) {
        const struct fin_delivery_range *r = &e->st.pending[i];
        struct fin_delivery_shard_state *ss = fin_delivery_state_shard(&e->st,
                                                                       e->shard_ids[r->shard]);
        if (!ss) {
            rc = FIN_ENOMEM;
            goto done;
        }
        if ((rc = e->src->seek(e->src->ctx, r->shard, ss->seq)))
            goto done;
        uint64_t got = 0;
        for (;;) {
            struct fin_record rec;
            rc = e->src->next(e->src->ctx, r->shard, &rec);
            if (rc == FIN_EEND && e->src->caught_up && !e->src->caught_up(e->src->ctx, r->shard)) {
                /* A remote shard that may not be asked again yet: the range's records are
                 * still to come, and the objects must hold all of them. */
                e->clock->sleep_ns(e->clock->ctx, REMOTE_WAIT_NS);
                continue;
            }
            if (rc == FIN_EEND) {
                rc = 0;
                break;
            }
            if (rc)
                goto done;
            if (seq_cmp(rec.seq, r->last_seq) > 0)
                break;
            if ((rc = intake(e, r->shard, &rec)))
                goto done;
            got++;
            if (strcmp(rec.seq, r->last_seq) == 0)
                break;
        }
        if (got != r->count)
            fin_warn("delivery %s: the unfinished flush had %llu records of %s, %llu are left "
                     "in the stream", e->name, (unsigned long long)r->count,
                     e->shard_ids[r->shard], (unsigned long long)got);
        total += got;
    }
    fin_info("delivery %s: rewriting the objects of an unfinished flush (%llu records)", e->name,
             (unsigned long long)total);
    if (e->n_recs == 0) {
        /* Nothing is left to write (retention took it): just move the checkpoint. */
        for (size_t i = 0; i < e->st.n_pending; i++) {
            struct fin_delivery_shard_state *ss =
                fin_delivery_state_shard(&e->st, e->shard_ids[e->st.pending[i].shard]);
            if (ss)
                memcpy(ss->seq, e->st.pending[i].last_seq, sizeof ss->seq);
        }
        free(e->st.pending);
        e->st.pending = NULL;
        e->st.n_pending = 0;
        rc = fin_delivery_state_save(&e->st, e->state_path, e->shard_ids);
        goto done;
    }
    rc = flush(e);
done:
    e->replaying = false;
    return rc;
}

char *engine_tmp_path(struct fin_delivery_engine *e, const char *ext)
{
    char name[128];
    snprintf(name, sizeof name, "tmp-%ld-%llu%s", (long)getpid(),
             (unsigned long long)++e->tmp_seq, ext ? ext : "");
    return fin_path_join(e->tmp_dir, name);
}

/* The destination picks the sink: s3://BUCKET/prefix/ is a bucket, anything else a lake
 * folder (default <data_dir>/lake). Either way tmp/ is the delivery's own folder. */
/* A lake folder must not be the data directory itself nor lie in the folders finstream
 * keeps its own state in: objects there would mix with logs and checkpoints. */
static int check_lake_place(const char *data_dir, const char *lake)
{
    char dd[PATH_MAX], lk[PATH_MAX];
    if (!realpath(data_dir, dd) || !realpath(lake, lk))
        return 0;   /* the sink reports a folder it cannot use */
    static const char *const own[] = {"", "/streams", "/deliveries", "/catalog", "/serve"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        char p[PATH_MAX + 16];
        snprintf(p, sizeof p, "%s%s", dd, own[i]);
        size_t n = strlen(p);
        if (strcmp(lk, p) == 0 || (i > 0 && strncmp(lk, p, n) == 0 && lk[n] == '/'))
            return fin_err_set(FIN_ECONFIG, "destination '%s' is %s%s%s: objects would mix "
                               "with finstream's own files", lake,
                               i ? "inside " : "the data directory", i ? dd : "", own[i]);
    }
    return 0;
}

static int open_sink(struct fin_delivery_engine *e, const char *data_dir,
                     const struct fin_delivery_settings *set)
{
    const char *dest = e->set.destination;
    int rc = fin_mkdir_p(e->tmp_dir, 0755);
    if (rc)
        return rc;
    if (fin_delivery_is_s3(dest))
        return fin_sink_s3_create(&e->sink, set->aws_s3, dest, e->clock);
    char *lake = dest && *dest ? strdup(dest) : fin_path_join(data_dir, "lake");
    if (!lake)
        return FIN_ENOMEM;
    rc = fin_sink_local_create(&e->sink, lake, e->tmp_dir);
    if (!rc)
        rc = check_lake_place(data_dir, lake);
    free(lake);
    return rc;
}

int fin_delivery_engine_create(struct fin_delivery_engine **out, const char *data_dir,
                               const char *name, const struct fin_delivery_settings *set,
                               const struct fin_delivery_source *src, const struct fin_clock *clock)
{
    *out = NULL;
    int rc = fin_check_name("delivery", name, FIN_DELIVERY_MAX_NAME);
    if (rc)
        return rc;
    if ((rc = fin_delivery_settings_check(set)))
        return rc;
    if (src->n_shards <= 0 || src->n_shards > 65535)
        return fin_err_set(FIN_EINVAL, "delivery %s: source has %d shards", name, src->n_shards);
    struct fin_delivery_engine *e = calloc(1, sizeof *e);
    if (!e)
        return FIN_ENOMEM;
    e->lock_fd = -1;
    e->src = src;
    e->clock = clock ? clock : fin_clock_real();
    fin_buf_init(&e->obj);
    fin_buf_init(&e->scratch);
    memset(e->table, 0xff, sizeof e->table);
    char *deliveries = fin_path_join(data_dir, "deliveries");
    rc = FIN_ENOMEM;
    if (!deliveries || !(e->name = strdup(name)) || !(e->dir = fin_path_join(deliveries, name)) ||
        !(e->state_path = fin_path_join(e->dir, "state.json")) ||
        !(e->tmp_dir = fin_path_join(e->dir, "tmp")))
        goto fail;
    /* Copy the settings: the engine outlives the caller's struct. */
    if ((rc = fin_delivery_settings_defaults(&e->set)))
        goto fail;
    const struct { const char *key; const char *val; } strs[] = {
        {"source", set->source}, {"prefix", set->prefix}, {"error_prefix", set->error_prefix},
        {"destination", set->destination}, {"partition_query", set->partition_query}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if ((rc = fin_opts_set(fin_delivery_opts, &e->set, strs[i].key,
                               strs[i].val ? strs[i].val : "", "settings")))
            goto fail;
    e->set.buffer_size = set->buffer_size;
    e->set.buffer_interval_ms = set->buffer_interval_ms;
    e->set.compression = set->compression;
    e->set.format = set->format;
    if ((rc = fin_prefix_compile(&e->prefix, e->set.prefix, false)) ||
        (rc = fin_prefix_compile(&e->error_prefix, e->set.error_prefix, true)))
        goto fail;
    e->n_fields = fin_prefix_fields(e->prefix, &e->fields);
    if (e->n_fields > 64) {
        rc = fin_err_set(FIN_ELIMIT, "prefix '%s' uses more than 64 partition keys", e->set.prefix);
        goto fail;
    }
    if (e->set.partition_query && *e->set.partition_query &&
        (rc = fin_partition_query_compile(&e->query, e->set.partition_query)))
        goto fail;
    for (size_t j = 0; j < e->n_fields; j++) {
        e->paths[j] = e->query ? fin_partition_query_path(e->query, e->fields[j], &e->depths[j])
                               : &e->fields[j];
        if (!e->query)
            e->depths[j] = 1;
        if (!e->paths[j]) {
            rc = fin_err_set(FIN_ECONFIG, "partition_query does not define '%s'", e->fields[j]);
            goto fail;
        }
    }
    rc = FIN_ENOMEM;
    if (!(e->shard_ids = calloc((size_t)src->n_shards, sizeof *e->shard_ids)) ||
        !(e->pos = calloc((size_t)src->n_shards, sizeof *e->pos)))
        goto fail;
    for (int i = 0; i < src->n_shards; i++)
        e->shard_ids[i] = src->shard_id(src->ctx, i);
    if ((rc = fin_mkdir_p(e->dir, 0755)) || (rc = take_lock(e)))
        goto fail;
    if (e->set.compression == FIN_COMPRESS_GZIP && e->set.format == FIN_FORMAT_JSON &&
        e->n_fields == 0) {
        /* Without dynamic partitioning every flush is one object of every shard's buffer
         * (records are not scanned, so none goes to an error object): compress it while
         * it fills. */
        const struct fin_buf **bufs = calloc((size_t)src->n_shards, sizeof *bufs);
        if (!bufs) {
            rc = FIN_ENOMEM;
            goto fail;
        }
        for (int i = 0; i < src->n_shards; i++)
            bufs[i] = &e->pos[i].data;
        rc = fin_gz_pipe_create(&e->gz, src->n_shards, bufs);
        free(bufs);
        if (rc)
            goto fail;
    }
    if ((rc = open_sink(e, data_dir, set)))
        goto fail;
    clean_tmp(e->tmp_dir);
    if ((rc = fin_delivery_state_load(&e->st, e->state_path, e->shard_ids, src->n_shards)))
        goto fail;
    if (e->st.n_pending && (rc = replay_pending(e)))
        goto fail;
    for (int i = 0; i < src->n_shards; i++) {
        struct fin_delivery_shard_state *ss = fin_delivery_state_shard(&e->st, e->shard_ids[i]);
        if (!ss) {
            rc = FIN_ENOMEM;
            goto fail;
        }
        if ((rc = src->seek(src->ctx, i, ss->seq)))
            goto fail;
    }
    free(deliveries);
    *out = e;
    return 0;
fail:
    free(deliveries);
    fin_delivery_engine_destroy(e);
    return rc;
}

void fin_delivery_engine_destroy(struct fin_delivery_engine *e)
{
    if (!e)
        return;
    fin_gz_pipe_destroy(e->gz);
    e->gz = NULL;
    reset_buffer(e);
    for (int i = 0; e->pos && i < e->src->n_shards; i++)
        fin_buf_fini(&e->pos[i].data);
    free(e->parts);
    free(e->recs);
    convert_free(e);
    free(e->pos);
    fin_buf_fini(&e->obj);
    fin_buf_fini(&e->scratch);
    fin_parquet_writer_destroy(e->pq);
    if (e->sink)
        e->sink->ops->destroy(e->sink);
    fin_prefix_destroy(e->prefix);
    fin_prefix_destroy(e->error_prefix);
    fin_partition_query_destroy(e->query);
    fin_delivery_state_fini(&e->st);
    fin_opts_fini(fin_delivery_opts, &e->set);
    if (e->lock_fd >= 0)
        close(e->lock_fd);
    free(e->shard_ids);
    free(e->name);
    free(e->dir);
    free(e->state_path);
    free(e->tmp_dir);
    free(e);
}

/* ---- driving ---- */

static bool interval_due(const struct fin_delivery_engine *e)
{
    return e->n_recs &&
           fin_mono_ns(e->clock) - e->first_mono >= e->set.buffer_interval_ms * FIN_NS_PER_MS;
}

int fin_delivery_engine_tick(struct fin_delivery_engine *e, bool *flushed)
{
    bool due = interval_due(e);
    if (flushed)
        *flushed = due;
    return due ? flush(e) : 0;
}

int fin_delivery_engine_flush(struct fin_delivery_engine *e) { return flush(e); }

int fin_delivery_engine_pump(struct fin_delivery_engine *e, size_t max_records, size_t *got)
{
    size_t n = 0;
    int rc = 0;
    bool more = true;
    if (got)
        *got = 0;
    if (e->retry && (rc = flush(e)))
        return rc;
    while (more && (!max_records || n < max_records)) {
        more = false;
        for (int s = 0; s < e->src->n_shards && (!max_records || n < max_records); s++) {
            /* A turn per shard, so one busy shard does not starve the others. */
            for (int k = 0; k < 4096 && (!max_records || n < max_records); k++) {
                struct fin_record rec;
                rc = e->src->next(e->src->ctx, s, &rec);
                if (rc == FIN_EEND) {
                    rc = 0;
                    break;
                }
                if (rc)
                    goto done;
                if ((rc = intake(e, s, &rec)))
                    goto done;
                n++;
                more = true;
                if ((k & 255) == 255 && e->set.buffer_interval_ms > 0 && interval_due(e) &&
                    (rc = flush(e)))
                    goto done;
            }
        }
    }
    rc = fin_delivery_engine_tick(e, NULL);
done:
    if (got)
        *got = n;
    return rc;
}

const struct fin_delivery_stats *fin_delivery_engine_stats(const struct fin_delivery_engine *e)
{
    return &e->st.stats;
}

void fin_delivery_engine_buffered(const struct fin_delivery_engine *e, size_t *records, size_t *bytes)
{
    if (records)
        *records = e->n_recs;
    if (bytes)
        *bytes = e->buffered;
}
