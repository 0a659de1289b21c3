/* shardmap.c - resharding: the shard map, split, merge and uniform scaling, routing of
 * hash keys to open shards, and ListShards.
 *
 * A stream that was never resharded has the even ranges its configuration gives and no
 * map file. The first split or merge writes <stream>/shards, which from then on is the
 * truth about which shards exist:
 *
 *     # finstream shard map 1
 *     next 4
 *     shardId-000000000000 0 340282366920938463463374607431768211455 - - closed 1234
 *     shardId-000000000002 0 170141183460469231731687303715884105727 shardId-000000000000 - open 0
 *
 * (id, starting and ending hash key, parent, adjacent parent, state, ending counter).
 * As in Kinesis a split or merge closes its parents, which keep their records until
 * retention removes them, and opens children with new numbers (next); only open shards
 * take puts. A reshard is one atomic step: the parents are flushed and fsynced, the
 * children's folders are made and fsynced, and then the new map replaces the old one
 * by rename. A crash before the rename leaves the old map (the children's folders are
 * orphans, removed when a writer opens the stream); after it, the new one. */
#include "internal.h"

#include "finstream/buf.h"
#include "finstream/config.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAP_MAGIC "# finstream shard map 1"

/* ---- shards in memory ---- */

int shard_setup(struct fin_stream *s, int pos, int num, u128 start, u128 end)
{
    struct shard *sh = &s->shards[pos];
    memset(sh, 0, sizeof *sh);
    sh->s = s;
    sh->index = num;
    sh->fd = -1;
    sh->parent = sh->adjacent = -1;
    sh->start = start;
    sh->end = end;
    snprintf(sh->id, sizeof sh->id, "shardId-%012d", num);
    seq_prefix(sh->prefix, s->created_s, num);
    if (!(sh->dir = fin_path_join(s->dir, sh->id)))
        return FIN_ENOMEM;
    pthread_mutex_init(&sh->mu, NULL);
    pthread_cond_init(&sh->cv, NULL);
    sh->mu_ready = true;
    return 0;
}

static int cmp_open(const void *a, const void *b, void *ctx)
{
    const struct fin_stream *s = ctx;
    u128 x = s->shards[*(const int *)a].start, y = s->shards[*(const int *)b].start;
    return x < y ? -1 : x > y;
}

/* Rebuilds the routing table, and checks that the open shards cover every hash key
 * exactly once (anything else is a damaged map). */
static int build_routes(struct fin_stream *s)
{
    int n = 0;
    for (int i = 0; i < s->nshards; i++)
        if (!s->shards[i].closed && !s->shards[i].gone)
            s->open[n++] = i;
    qsort_r(s->open, (size_t)n, sizeof *s->open, cmp_open, s);
    u128 want = 0;
    for (int k = 0; k < n; k++) {
        const struct shard *sh = &s->shards[s->open[k]];
        if (sh->start != want || sh->end < sh->start || (k + 1 < n && sh->end == ~(u128)0))
            return fin_err_set(FIN_ECORRUPT, "%s/%s: the open shards do not cover the hash-key "
                               "range exactly once (at %s)", s->dir, SHARD_MAP_FILE, sh->id);
        want = sh->end + 1;
    }
    if (n == 0 || s->shards[s->open[n - 1]].end != ~(u128)0)
        return fin_err_set(FIN_ECORRUPT, "%s/%s: the open shards do not reach the last hash "
                           "key", s->dir, SHARD_MAP_FILE);
    s->nopen = n;
    return 0;
}

int shardmap_route(const struct fin_stream *s, u128 h)
{
    /* With even ranges the top 64 bits land on the right shard or next to it. */
    int n = s->nopen;
    int i = (int)(((u128)(uint64_t)(h >> 64) * (unsigned)n) >> 64);
    while (i + 1 < n && h >= s->shards[s->open[i + 1]].start)
        i++;
    while (i > 0 && h < s->shards[s->open[i]].start)
        i--;
    return s->open[i];
}

static int find_num(const struct fin_stream *s, int num)
{
    for (int i = 0; i < s->nshards; i++)
        if (s->shards[i].index == num && !s->shards[i].gone)
            return i;
    return -1;
}

static int parse_shard_id(const char *id, int *num)
{
    if (!id || strncmp(id, "shardId-", 8) != 0 || strlen(id) != FIN_SHARD_ID_LEN)
        return FIN_EINVAL;
    int v = 0;
    for (const char *p = id + 8; *p; p++) {
        if (*p < '0' || *p > '9' || v > 100000000)
            return FIN_EINVAL;
        v = v * 10 + (*p - '0');
    }
    *num = v;
    return 0;
}

/* ---- the map file ---- */

struct map_line {
    int num, parent, adjacent;
    u128 start, end;
    bool closed;
    uint64_t end_counter;
};

static void map_stamp(struct fin_stream *s, const char *path)
{
    struct stat st;
    memset(&s->map_stamp, 0, sizeof s->map_stamp);
    if (stat(path, &st) == 0) {
        s->map_stamp.exists = true;
        s->map_stamp.ino = (uint64_t)st.st_ino;
        s->map_stamp.size = (uint64_t)st.st_size;
        s->map_stamp.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    }
}

/* Parses the map at path into *lines (owned by the caller; free()). FIN_ENOENT when
 * there is no map. */
static int map_read(const char *path, struct map_line **lines, size_t *n, int *next)
{
    *lines = NULL;
    *n = 0;
    if (!fin_path_exists(path))
        return FIN_ENOENT;
    char *text = NULL;
    size_t len = 0;
    struct map_line *v = NULL;
    size_t cnt = 0;
    int rc = fin_read_file(path, &text, &len), lineno = 0;
    if (rc)
        return rc;
    *next = -1;
    bool magic = false;
    char *save = NULL;
    for (char *ln = strtok_r(text, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (lineno == 1 && strcmp(ln, MAP_MAGIC) == 0) {
            magic = true;
            continue;
        }
        if (ln[0] == '#' || ln[0] == '\0')
            continue;
        char *f[8], *fs = NULL;
        int nf = 0;
        for (char *t = strtok_r(ln, " \t", &fs); t && nf < 8; t = strtok_r(NULL, " \t", &fs))
            f[nf++] = t;
        if (nf == 2 && strcmp(f[0], "next") == 0) {
            int64_t x;
            if (fin_parse_int(f[1], &x) != 0 || x < 1 || x > 1000000) {
                rc = fin_err_set(FIN_ECORRUPT, "%s:%d: bad 'next'", path, lineno);
                goto fail;
            }
            *next = (int)x;
            continue;
        }
        struct map_line m = {0};
        int64_t ec = 0;
        if (nf != 7 || parse_shard_id(f[0], &m.num) || hash_key_parse(f[1], &m.start) ||
            hash_key_parse(f[2], &m.end) ||
            (strcmp(f[3], "-") && parse_shard_id(f[3], &m.parent)) ||
            (strcmp(f[4], "-") && parse_shard_id(f[4], &m.adjacent)) ||
            (strcmp(f[5], "open") && strcmp(f[5], "closed")) || fin_parse_int(f[6], &ec) ||
            ec < 0) {
            rc = fin_err_set(FIN_ECORRUPT, "%s:%d: not a shard line", path, lineno);
            goto fail;
        }
        if (!strcmp(f[3], "-"))
            m.parent = -1;
        if (!strcmp(f[4], "-"))
            m.adjacent = -1;
        m.closed = !strcmp(f[5], "closed");
        m.end_counter = (uint64_t)ec;
        if (cnt == FIN_STREAM_MAX_SHARDS) {
            rc = fin_err_set(FIN_ECORRUPT, "%s:%d: more than %d shards", path, lineno,
                             FIN_STREAM_MAX_SHARDS);
            goto fail;
        }
        struct map_line *nv = realloc(v, (cnt + 1) * sizeof *v);
        if (!nv) {
            rc = FIN_ENOMEM;
            goto fail;
        }
        v = nv;
        v[cnt++] = m;
    }
    if (!magic || *next < 0 || cnt == 0) {
        rc = fin_err_set(FIN_ECORRUPT, "%s: not a shard map (header, 'next' or shards missing)",
                         path);
        goto fail;
    }
    free(text);
    *lines = v;
    *n = cnt;
    return 0;
fail:
    free(text);
    free(v);
    return rc;
}

int shardmap_save(struct fin_stream *s)
{
    struct fin_buf b;
    fin_buf_init(&b);
    int rc = fin_buf_printf(&b, "%s\n# id starting-hash-key ending-hash-key parent "
                            "adjacent-parent state ending-counter\nnext %d\n", MAP_MAGIC,
                            s->next_num);
    for (int i = 0; i < s->nshards && !rc; i++) {
        const struct shard *sh = &s->shards[i];
        if (sh->gone)
            continue;
        char a[40], z[40], p[FIN_SHARD_ID_LEN + 1] = "-", q[FIN_SHARD_ID_LEN + 1] = "-";
        hash_key_format(sh->start, a);
        hash_key_format(sh->end, z);
        if (sh->parent >= 0)
            snprintf(p, sizeof p, "shardId-%012d", sh->parent);
        if (sh->adjacent >= 0)
            snprintf(q, sizeof q, "shardId-%012d", sh->adjacent);
        rc = fin_buf_printf(&b, "%s %s %s %s %s %s %llu\n", sh->id, a, z, p, q,
                            sh->closed ? "closed" : "open", (unsigned long long)sh->end_counter);
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", s->dir, SHARD_MAP_FILE);
    if (!rc)
        rc = fin_io_write_file_atomic(s->io, path, b.data, b.len);
    if (!rc)
        map_stamp(s, path);
    fin_buf_fini(&b);
    return rc;
}

int shardmap_load(struct fin_stream *s)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", s->dir, SHARD_MAP_FILE);
    struct map_line *v = NULL;
    size_t n = 0;
    int next = 0;
    map_stamp(s, path);
    int rc = map_read(path, &v, &n, &next);
    if (rc == FIN_ENOENT) {
        /* Never resharded: the even ranges of the configuration. */
        int k = s->cfg.shards;
        for (int i = 0; i < k; i++) {
            u128 end = i + 1 < k ? hash_range_start(i + 1, k) - 1 : ~(u128)0;
            if ((rc = shard_setup(s, i, i, hash_range_start(i, k), end)))
                goto fail;
            s->nshards = i + 1;
        }
        s->next_num = k;
    } else if (rc) {
        goto fail;
    } else {
        for (size_t i = 0; i < n; i++) {
            if ((rc = shard_setup(s, (int)i, v[i].num, v[i].start, v[i].end)))
                goto fail;
            struct shard *sh = &s->shards[i];
            s->nshards = (int)i + 1;
            sh->parent = v[i].parent;
            sh->adjacent = v[i].adjacent;
            sh->closed = v[i].closed;
            sh->end_counter = v[i].end_counter;
        }
        s->next_num = next;
    }
    rc = build_routes(s);
fail:
    free(v);
    return rc;
}

int shardmap_refresh(struct fin_stream *s)
{
    if (s->mode == FIN_STREAM_WRITE)
        return 0;   /* the writer's map is the one in memory */
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", s->dir, SHARD_MAP_FILE);
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (exists == s->map_stamp.exists &&
        (!exists || ((uint64_t)st.st_ino == s->map_stamp.ino &&
                     (uint64_t)st.st_size == s->map_stamp.size &&
                     (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec ==
                         s->map_stamp.mtime_ns)))
        return 0;
    struct map_line *v = NULL;
    size_t n = 0;
    int next = 0;
    int rc = map_read(path, &v, &n, &next);
    if (rc)
        return rc == FIN_ENOENT ? 0 : rc;
    map_stamp(s, path);
    pthread_rwlock_wrlock(&s->map_lock);
    for (int i = 0; i < s->nshards; i++)
        s->shards[i].gone = true;
    for (size_t k = 0; k < n && !rc; k++) {
        int pos = -1;
        for (int i = 0; i < s->nshards; i++)
            if (s->shards[i].index == v[k].num)
                pos = i;
        if (pos < 0) {
            if (s->nshards == FIN_STREAM_MAX_SHARDS) {
                rc = fin_err_set(FIN_ELIMIT, "stream '%s': more than %d shards", s->name,
                                 FIN_STREAM_MAX_SHARDS);
                break;
            }
            pos = s->nshards;
            if ((rc = shard_setup(s, pos, v[k].num, v[k].start, v[k].end)))
                break;
            __atomic_store_n(&s->nshards, pos + 1, __ATOMIC_RELEASE);
        }
        struct shard *sh = &s->shards[pos];
        sh->gone = false;
        sh->parent = v[k].parent;
        sh->adjacent = v[k].adjacent;
        sh->end_counter = v[k].end_counter;
        sh->closed = v[k].closed;
    }
    s->next_num = next;
    if (!rc)
        rc = build_routes(s);
    pthread_rwlock_unlock(&s->map_lock);
    free(v);
    return rc;
}

void shardmap_remove_orphans(struct fin_stream *s)
{
    DIR *d = opendir(s->dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        int num;
        if (parse_shard_id(de->d_name, &num) != 0 || find_num(s, num) >= 0)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", s->dir, de->d_name);
        fin_info("stream '%s': removing %s, which the shard map does not name", s->name,
                 de->d_name);
        if (fin_remove_tree(path))
            fin_warn("stream '%s': %s", s->name, fin_err_msg());
    }
    closedir(d);
}

int shardmap_drop(struct fin_stream *s, int pos)
{
    pthread_rwlock_wrlock(&s->map_lock);
    struct shard *sh = &s->shards[pos];
    sh->gone = true;
    int rc = shardmap_save(s);
    if (rc)
        sh->gone = false;
    pthread_rwlock_unlock(&s->map_lock);
    if (rc)
        return rc;
    fin_info("stream '%s': %s is past retention and gone", s->name, sh->id);
    return fin_remove_tree(sh->dir);
}

/* ---- resharding ---- */

static int need_writer(struct fin_stream *s, const char *what)
{
    if (s->mode != FIN_STREAM_WRITE)
        return fin_err_set(FIN_EINVAL, "%s on stream '%s' needs it open for writing", what,
                           s->name);
    return 0;
}

static int find_open(struct fin_stream *s, const char *id, const char *what, int *pos)
{
    int num;
    if (parse_shard_id(id, &num) != 0)
        return fin_err_set(FIN_EINVAL, "%s: '%s' is not a shard id (shardId-000000000000)",
                           what, id ? id : "");
    int i = find_num(s, num);
    if (i < 0)
        return fin_err_set(FIN_ENOENT, "Could not find shard %s in stream %s.", id, s->name);
    if (s->shards[i].closed)
        return fin_err_set(FIN_EINVAL, "Shard %s in stream %s has already been merged or "
                           "split, and thus is not eligible for merging or splitting.", id,
                           s->name);
    *pos = i;
    return 0;
}

/* Closes parents (np of them, positions) and opens children with the ranges given;
 * child k gets number next_num + k and parent numbers par/adj. map_lock held exclusive. */
static int reshard(struct fin_stream *s, const int *parents, int np, const u128 (*ranges)[2],
                   int nc, int par, int adj)
{
    const struct fin_io *io = s->io;
    int rc = 0, made = 0;
    uint64_t ends[2] = {0, 0};
    if (s->nshards + nc > FIN_STREAM_MAX_SHARDS)
        return fin_err_set(FIN_ELIMIT, "stream '%s' would have more than %d shards, open and "
                           "closed; wait for retention to remove closed ones", s->name,
                           FIN_STREAM_MAX_SHARDS);
    /* 1. Everything put to the parents is on disk before the map can say they are closed. */
    for (int k = 0; k < np; k++) {
        struct shard *sh = &s->shards[parents[k]];
        pthread_mutex_lock(&sh->mu);
        rc = shard_flush(sh, true);
        if (!rc && (sh->broken || sh->pending_err)) {
            rc = fin_err_set(sh->broken ? sh->broken : sh->pending_err,
                             "%s: an earlier write failed; reopen the stream first", sh->id);
        }
        ends[k] = sh->next_counter - 1;
        pthread_mutex_unlock(&sh->mu);
        if (rc)
            return rc;
    }
    /* 2. The children's folders, each with its empty first segment, durable. */
    for (int k = 0; k < nc; k++) {
        char dir[PATH_MAX], prefix[SEQ_PREFIX_LEN + 1], path[PATH_MAX], hdr[SEG_HDR];
        int num = s->next_num + k;
        snprintf(dir, sizeof dir, "%s/shardId-%012d", s->dir, num);
        fin_remove_tree(dir);   /* left by a reshard a crash cut off */
        made = k + 1;
        if ((rc = fin_mkdir_p(dir, 0755)))
            goto fail;
        seq_prefix(prefix, s->created_s, num);
        seg_path(path, sizeof path, dir, prefix, 1, SEG_SUFFIX);
        seg_header(hdr, num, 1, fin_now_ns(s->clock) / FIN_NS_PER_MS);
        if ((rc = fin_io_write_file_atomic(io, path, hdr, SEG_HDR)))
            goto fail;
    }
    if ((rc = fin_fsync_dir(s->dir)))
        goto fail;
    /* 3. The new map: the commit point. */
    int base = s->nshards;
    for (int k = 0; k < nc; k++) {
        if ((rc = shard_setup(s, base + k, s->next_num + k, ranges[k][0], ranges[k][1])))
            goto undo;
        s->shards[base + k].parent = par;
        s->shards[base + k].adjacent = adj;
    }
    s->nshards += nc;   /* not yet published to the background thread */
    for (int k = 0; k < np; k++) {
        s->shards[parents[k]].closed = true;
        s->shards[parents[k]].end_counter = ends[k];
    }
    s->next_num += nc;
    if ((rc = shardmap_save(s))) {
        s->next_num -= nc;
        for (int k = 0; k < np; k++) {
            s->shards[parents[k]].closed = false;
            s->shards[parents[k]].end_counter = 0;
        }
        s->nshards -= nc;
        goto undo;
    }
    /* 4. In memory: parents sealed, children open for appends. */
    for (int k = 0; k < np; k++) {
        bool ok = true;
        shard_close_writer(&s->shards[parents[k]], &ok);
        for (int b = 0; b < 2; b++) {
            free(s->shards[parents[k]].buf[b].data);
            memset(&s->shards[parents[k]].buf[b], 0, sizeof s->shards[parents[k]].buf[b]);
        }
    }
    for (int k = 0; k < nc; k++) {
        struct shard *sh = &s->shards[base + k];
        int orc = shard_open_writer(sh, false);
        if (orc) {
            /* The map stands; appends to this child fail until the stream is reopened. */
            fin_error("stream '%s' %s: %s", s->name, sh->id, fin_err_msg());
            sh->broken = orc;
        }
        sh->last_sync_ns = fin_mono_ns(s->clock);
    }
    __atomic_store_n(&s->nshards, s->nshards, __ATOMIC_RELEASE);
    return build_routes(s);
undo:
    for (int k = 0; k < nc; k++) {
        struct shard *sh = &s->shards[base + k];
        if (sh->mu_ready) {
            pthread_mutex_destroy(&sh->mu);
            pthread_cond_destroy(&sh->cv);
        }
        free(sh->dir);
        memset(sh, 0, sizeof *sh);
    }
fail:
    for (int k = 0; k < made; k++) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/shardId-%012d", s->dir, s->next_num + k);
        fin_remove_tree(dir);
    }
    return rc;
}

/* The key Kinesis splits a range at to halve it: the lower child gets the extra key of
 * an odd-sized range. */
static u128 midpoint(u128 start, u128 end) { return start + (end - start) / 2 + 1; }

static int split_locked(struct fin_stream *s, int pos, const char *key_text, const u128 *at)
{
    struct shard *sh = &s->shards[pos];
    u128 h = at ? *at : midpoint(sh->start, sh->end);
    if (h <= sh->start || h > sh->end) {
        char a[40], z[40];
        hash_key_format(sh->start, a);
        hash_key_format(sh->end, z);
        return fin_err_set(FIN_EINVAL, "NewStartingHashKey %s used in SplitShard() on shard %s "
                           "in stream %s is not both greater than the shard's StartingHashKey "
                           "%s and at most its EndingHashKey %s.", key_text, sh->id, s->name,
                           a, z);
    }
    const u128 ranges[2][2] = {{sh->start, h - 1}, {h, sh->end}};
    return reshard(s, &pos, 1, ranges, 2, sh->index, -1);
}

int fin_stream_split_shard(struct fin_stream *s, const char *shard_id,
                           const char *new_starting_hash_key)
{
    int rc, pos;
    u128 h;
    if ((rc = need_writer(s, "SplitShard")))
        return rc;
    if (new_starting_hash_key && hash_key_parse(new_starting_hash_key, &h) != 0)
        return fin_err_set(FIN_EINVAL, "NewStartingHashKey '%s' is not a decimal hash key "
                           "(0 to 2^128-1)", new_starting_hash_key);
    pthread_rwlock_wrlock(&s->map_lock);
    if (!(rc = find_open(s, shard_id, "SplitShard", &pos))) {
        char mid[40];
        if (!new_starting_hash_key)
            hash_key_format(midpoint(s->shards[pos].start, s->shards[pos].end), mid);
        rc = split_locked(s, pos, new_starting_hash_key ? new_starting_hash_key : mid,
                          new_starting_hash_key ? &h : NULL);
    }
    pthread_rwlock_unlock(&s->map_lock);
    return rc;
}

static int merge_locked(struct fin_stream *s, int a, int b)
{
    struct shard *x = &s->shards[a], *y = &s->shards[b];
    if (!((x->end != ~(u128)0 && x->end + 1 == y->start) ||
          (y->end != ~(u128)0 && y->end + 1 == x->start)))
        return fin_err_set(FIN_EINVAL, "Shards %s and %s in stream %s are not an adjacent pair "
                           "of shards eligible for merging", x->id, y->id, s->name);
    const u128 range[1][2] = {{x->start < y->start ? x->start : y->start,
                               x->end > y->end ? x->end : y->end}};
    int parents[2] = {a, b};
    return reshard(s, parents, 2, range, 1, x->index, y->index);
}

int fin_stream_merge_shards(struct fin_stream *s, const char *shard_id,
                            const char *adjacent_shard_id)
{
    int rc, a, b;
    if ((rc = need_writer(s, "MergeShards")))
        return rc;
    pthread_rwlock_wrlock(&s->map_lock);
    if (!(rc = find_open(s, shard_id, "MergeShards", &a)) &&
        !(rc = find_open(s, adjacent_shard_id, "MergeShards", &b))) {
        if (a == b)
            rc = fin_err_set(FIN_EINVAL, "Shards %s and %s in stream %s are not an adjacent "
                             "pair of shards eligible for merging", shard_id, adjacent_shard_id,
                             s->name);
        else
            rc = merge_locked(s, a, b);
    }
    pthread_rwlock_unlock(&s->map_lock);
    return rc;
}

int fin_stream_update_shard_count(struct fin_stream *s, int target)
{
    int rc;
    if ((rc = need_writer(s, "UpdateShardCount")))
        return rc;
    pthread_rwlock_wrlock(&s->map_lock);
    int cur = s->nopen;
    if (target < 1 || target > FIN_STREAM_MAX_SHARDS || target > 2 * cur ||
        target < (cur + 1) / 2) {
        rc = fin_err_set(FIN_EINVAL, "UpdateShardCount of stream %s: TargetShardCount %d must "
                         "be between half (%d) and double (%d) the open shard count %d",
                         s->name, target, (cur + 1) / 2, 2 * cur, cur);
        goto done;
    }
    /* Split wherever the even layout of target shards has a boundary the open shards
     * lack; then every target range is a run of whole open shards, merged left to right. */
    for (int k = 1; k < target && !rc; k++) {
        u128 b = hash_range_start(k, target);
        int pos = shardmap_route(s, b);
        if (s->shards[pos].start != b)
            rc = split_locked(s, pos, "", &b);
    }
    for (int k = 0; k < target && !rc; k++) {
        u128 lo = hash_range_start(k, target);
        u128 hi = k + 1 < target ? hash_range_start(k + 1, target) - 1 : ~(u128)0;
        for (;;) {
            int a = shardmap_route(s, lo);
            if (s->shards[a].end >= hi)
                break;
            int b = shardmap_route(s, s->shards[a].end + 1);
            if ((rc = merge_locked(s, a, b)))
                break;
        }
    }
done:
    pthread_rwlock_unlock(&s->map_lock);
    return rc;
}

/* ---- listing ---- */

int fin_stream_open_shard_count(const struct fin_stream *s) { return s->nopen; }

int fin_stream_shard_find(struct fin_stream *s, const char *shard_id)
{
    int num;
    if (parse_shard_id(shard_id, &num) != 0)
        return -1;
    shardmap_refresh(s);
    return find_num(s, num);
}

bool fin_stream_shard_closed(const struct fin_stream *s, int shard)
{
    return shard >= 0 && shard < s->nshards && s->shards[shard].closed;
}

int fin_stream_refresh(struct fin_stream *s) { return shardmap_refresh(s); }

void shard_describe(const struct shard *sh, int pos, struct fin_shard_desc *d)
{
    memset(d, 0, sizeof *d);
    d->shard = pos;
    memcpy(d->id, sh->id, sizeof d->id);
    if (sh->parent >= 0)
        snprintf(d->parent, sizeof d->parent, "shardId-%012d", sh->parent);
    if (sh->adjacent >= 0)
        snprintf(d->adjacent_parent, sizeof d->adjacent_parent, "shardId-%012d", sh->adjacent);
    hash_key_format(sh->start, d->hash_start);
    hash_key_format(sh->end, d->hash_end);
    seq_format(d->starting_seq, sh->prefix, 1);
    d->closed = sh->closed;
    if (sh->closed)
        seq_format(d->ending_seq, sh->prefix, sh->end_counter);
}

int fin_stream_list_shards(struct fin_stream *s, struct fin_shard_desc **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int rc = shardmap_refresh(s);
    if (rc)
        return rc;
    pthread_rwlock_rdlock(&s->map_lock);
    struct fin_shard_desc *v = calloc((size_t)s->nshards + 1, sizeof *v);
    size_t cnt = 0;
    if (!v) {
        rc = FIN_ENOMEM;
    } else {
        for (int i = 0; i < s->nshards; i++)
            if (!s->shards[i].gone)
                shard_describe(&s->shards[i], i, &v[cnt++]);
    }
    pthread_rwlock_unlock(&s->map_lock);
    if (rc)
        return rc;
    *out = v;
    *n = cnt;
    return 0;
}
