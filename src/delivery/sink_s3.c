/* sink_s3.c - delivery's sink seam over an S3 bucket: destination = s3://BUCKET/prefix/.
 *
 * The engine writes the same objects under the same keys whatever the destination; only
 * what "durable" means changes. A local object is durable once fsynced, renamed and its
 * folder fsynced; an object in S3 once S3 has confirmed the whole of it. The functions of
 * aws_s3.h return only after that confirmation (and retry throttling and 5xx answers with
 * backoff on their own), so sync() has nothing left to do and the engine's rule, "the
 * checkpoint moves only after every object of the flush is durable", holds unchanged.
 * A flush that fails is retried by the engine with the same keys, and a put to a key
 * replaces what an earlier attempt left there, so nothing is duplicated.
 *
 * Objects built in memory (JSON lines, gzip, error objects) go up from the engine's
 * buffers; a Parquet file, which DuckDB writes into the delivery's tmp/ folder, goes up
 * from that file (mapped, in parts when large) and is removed once S3 has it. */
#include "internal.h"
#include "finstream/aws.h"
#include "finstream/aws_s3.h"
#include "finstream/error.h"

#include <stdlib.h>

struct sink_s3 {
    struct fin_sink base;
    struct fin_s3_sink *k;
};

static int s3_put(struct fin_sink *base, const char *key, const struct iovec *iov, int n_iov)
{
    return fin_s3_sink_put(((struct sink_s3 *)base)->k, key, iov, n_iov);
}

static int s3_put_file(struct fin_sink *base, const char *key, const char *tmp_path)
{
    return fin_s3_sink_put_file(((struct sink_s3 *)base)->k, key, tmp_path);
}

static int s3_sync(struct fin_sink *base)
{
    return fin_s3_sink_sync(((struct sink_s3 *)base)->k);
}

static void s3_destroy(struct fin_sink *base)
{
    struct sink_s3 *s = (struct sink_s3 *)base;
    if (!s)
        return;
    fin_s3_sink_destroy(s->k);
    free(s);
}

static const struct fin_sink_ops s3_ops = {s3_put, s3_put_file, s3_sync, s3_destroy};

int fin_sink_s3_create(struct fin_sink **out, const struct fin_aws_settings *aws,
                       const char *destination, const struct fin_clock *clock)
{
    *out = NULL;
    struct fin_aws_settings defaults;
    bool own = false;
    int rc = 0;
    struct sink_s3 *s = calloc(1, sizeof *s);
    if (!s)
        return FIN_ENOMEM;
    s->base.ops = &s3_ops;
    if (!aws) {
        /* Settings made in code rather than read from finstream.ini: defaults and the
         * environment (AWS_REGION, AWS_PROFILE, the shared credential files). */
        if ((rc = fin_aws_settings_for(&defaults, NULL, "s3")))
            goto fail;
        own = true;
        aws = &defaults;
    }
    struct fin_aws_client_deps deps = {.clock = clock};
    if ((rc = fin_s3_sink_create(&s->k, aws, &deps, destination)))
        goto fail;
    if (own)
        fin_aws_settings_fini(&defaults);
    *out = &s->base;
    return 0;
fail:
    if (own)
        fin_aws_settings_fini(&defaults);
    s3_destroy(&s->base);
    return rc;
}
