/* source_stream.c - the engine's source over all shards of a stream: one iterator per
 * shard, positioned after the delivery's checkpoint and following the tail.
 *
 * A resharded stream has closed parents and their children. As a Kinesis consumer
 * must, the source reads a child only once each of its parents has been read to its
 * closed end, so every partition key's records reach the lake in the order they were
 * put. The engine checkpoints each shard by id, so a restart resumes a parent and its
 * children where each stopped, and a parent read to its end stays finished.
 *
 * The order holds from the moment the engine has positioned every shard (the end of
 * fin_delivery_engine_create: n seeks with no read between them). Before that it only
 * re-reads the ranges of a flush a crash interrupted; those records were read, parents
 * first, in an earlier run, and the object orders them by shard, so they pass as they
 * are: holding them back would write a different object than the one being replaced. */
#include "finstream/delivery.h"
#include "finstream/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stream_src {
    struct fin_delivery_source base;
    struct fin_stream *s;
    struct fin_iter **its;
    int (*parents)[2];   /* per shard: positions of its parents still listed, -1 for none */
    bool *finished;      /* the shard is closed and has been read to its end */
    int unread_seeks;    /* seeks since the last read */
    bool ordered;        /* the engine has positioned every shard: hold children back */
};

static const char *ss_shard_id(void *ctx, int shard)
{
    return fin_stream_shard_id(((struct stream_src *)ctx)->s, shard);
}

static int ss_seek(void *ctx, int shard, const char *after_seq)
{
    struct stream_src *ss = ctx;
    fin_iter_close(ss->its[shard]);
    ss->its[shard] = NULL;
    ss->finished[shard] = false;
    if (++ss->unread_seeks >= ss->base.n_shards)
        ss->ordered = true;
    bool start = !after_seq || !*after_seq;
    if (!start) {
        /* A checkpoint past the shard's end, or of another shard, would have the
         * delivery wait for records that never come: refused, naming both. */
        int rc = fin_stream_seq_check(ss->s, shard, after_seq);
        if (rc) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", fin_err_msg());
            return fin_err_set(FIN_ECORRUPT, "delivery checkpoint for %s: %s; refusing to "
                               "resume there", fin_stream_shard_id(ss->s, shard), msg);
        }
    }
    return fin_iter_open(&ss->its[shard], ss->s, shard,
                         start ? FIN_ITER_TRIM_HORIZON : FIN_ITER_AFTER_SEQUENCE_NUMBER,
                         start ? NULL : after_seq, 0);
}

static int ss_next(void *ctx, int shard, struct fin_record *rec)
{
    struct stream_src *ss = ctx;
    ss->unread_seeks = 0;
    for (int k = 0; k < 2 && ss->ordered; k++) {
        int p = ss->parents[shard][k];
        if (p >= 0 && !ss->finished[p])
            return FIN_EEND;   /* not yet: the parent holds this key range's older records */
    }
    if (!ss->its[shard]) {
        int rc = ss_seek(ctx, shard, NULL);
        if (rc)
            return rc;
    }
    int rc = fin_iter_next(ss->its[shard], rec);
    if (rc == FIN_EEND && fin_iter_shard_closed(ss->its[shard]))
        ss->finished[shard] = true;
    return rc;
}

int fin_delivery_stream_source_create(struct fin_delivery_source **out, struct fin_stream *s)
{
    *out = NULL;
    struct fin_shard_desc *list = NULL;
    size_t n_list = 0;
    int rc = fin_stream_list_shards(s, &list, &n_list);
    if (rc)
        return rc;
    struct stream_src *ss = calloc(1, sizeof *ss);
    int n = fin_stream_shard_count(s);
    size_t cnt = (size_t)(n > 0 ? n : 1);
    if (!ss || !(ss->its = calloc(cnt, sizeof *ss->its)) ||
        !(ss->parents = calloc(cnt, sizeof *ss->parents)) ||
        !(ss->finished = calloc(cnt, sizeof *ss->finished))) {
        if (ss) {
            free(ss->its);
            free(ss->parents);
        }
        free(ss);
        free(list);
        return FIN_ENOMEM;
    }
    for (int i = 0; i < n; i++)
        ss->parents[i][0] = ss->parents[i][1] = -1;
    for (size_t i = 0; i < n_list; i++) {
        if (list[i].shard >= n)
            continue;
        /* A parent that retention removed is not waited for: its records are gone. */
        ss->parents[list[i].shard][0] =
            list[i].parent[0] ? fin_stream_shard_find(s, list[i].parent) : -1;
        ss->parents[list[i].shard][1] =
            list[i].adjacent_parent[0] ? fin_stream_shard_find(s, list[i].adjacent_parent) : -1;
    }
    free(list);
    ss->s = s;
    ss->base.n_shards = n;
    ss->base.shard_id = ss_shard_id;
    ss->base.seek = ss_seek;
    ss->base.next = ss_next;
    ss->base.ctx = ss;
    *out = &ss->base;
    return 0;
}

void fin_delivery_stream_source_destroy(struct fin_delivery_source *src)
{
    if (!src)
        return;
    struct stream_src *ss = src->ctx;
    for (int i = 0; i < src->n_shards; i++)
        fin_iter_close(ss->its[i]);
    free(ss->its);
    free(ss->parents);
    free(ss->finished);
    free(ss);
}
