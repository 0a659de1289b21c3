/* source_stream.c - the engine's source over all shards of a stream: one iterator per
 * shard, positioned after the delivery's checkpoint and following the tail. */
#include "finstream/delivery.h"
#include "finstream/error.h"

#include <stdlib.h>

struct stream_src {
    struct fin_delivery_source base;
    struct fin_stream *s;
    struct fin_iter **its;
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
    bool start = !after_seq || !*after_seq;
    return fin_iter_open(&ss->its[shard], ss->s, shard,
                         start ? FIN_ITER_TRIM_HORIZON : FIN_ITER_AFTER_SEQUENCE_NUMBER,
                         start ? NULL : after_seq, 0);
}

static int ss_next(void *ctx, int shard, struct fin_record *rec)
{
    struct stream_src *ss = ctx;
    if (!ss->its[shard]) {
        int rc = ss_seek(ctx, shard, NULL);
        if (rc)
            return rc;
    }
    return fin_iter_next(ss->its[shard], rec);
}

int fin_delivery_stream_source_create(struct fin_delivery_source **out, struct fin_stream *s)
{
    *out = NULL;
    struct stream_src *ss = calloc(1, sizeof *ss);
    int n = fin_stream_shard_count(s);
    if (!ss || !(ss->its = calloc((size_t)(n > 0 ? n : 1), sizeof *ss->its))) {
        free(ss);
        return FIN_ENOMEM;
    }
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
    free(ss);
}
