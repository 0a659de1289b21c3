/* sinks.c - the collector's outputs.
 *
 * stdout and files get records as lines through one large buffer. A stream gets them
 * through the stream module's batching sink (one durability wait per batch, as Kinesis'
 * PutRecords), creating the stream from its [stream "NAME"] section when it is new. A
 * delivery stream gets them through its direct-put API. */
#include "sinks.h"
#include "cli_util.h"
#include "finstream/aws_kinesis.h"
#include "finstream/config.h"
#include "finstream/delivery.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum sink_kind { SINK_FILE, SINK_STREAM, SINK_DELIVERY, SINK_AWS };

struct fin_sink {
    enum sink_kind kind;
    struct fin_record_sink records;
    char describe[600];
    char name[256];
    /* files */
    FILE *f;
    bool own_file;
    char *buf;
    size_t len, cap;
    /* streams */
    struct fin_stream *stream;
    /* delivery streams */
    struct fin_delivery *delivery;
    /* Kinesis and Firehose endpoints */
    struct fin_aws_producer *producer;
};

/* ---- files ---- */

static int file_flush(void *ctx)
{
    struct fin_sink *s = ctx;
    if (s->len && fwrite(s->buf, 1, s->len, s->f) != s->len)
        return fin_err_errno(errno, "cannot write", s->name);
    s->len = 0;
    if (fflush(s->f) != 0)
        return fin_err_errno(errno, "cannot write", s->name);
    return 0;
}

static int file_put(void *ctx, const char *key, size_t key_len, const char *rec, size_t len)
{
    (void)key;
    (void)key_len;
    struct fin_sink *s = ctx;
    if (s->len + len + 1 > s->cap) {
        if (s->len && fwrite(s->buf, 1, s->len, s->f) != s->len)
            return fin_err_errno(errno, "cannot write", s->name);
        s->len = 0;
        if (len + 1 > s->cap) {
            if (fwrite(rec, 1, len, s->f) != len || fputc('\n', s->f) == EOF)
                return fin_err_errno(errno, "cannot write", s->name);
            return 0;
        }
    }
    memcpy(s->buf + s->len, rec, len);
    s->buf[s->len + len] = '\n';
    s->len += len + 1;
    return 0;
}

/* ---- streams ---- */

static int open_stream(struct fin_sink *s, const char *data_dir, const char *config, const char *name)
{
    int rc = fin_stream_open_or_create(&s->stream, data_dir, name, config, NULL);
    if (!rc)
        rc = fin_stream_sink_create(&s->records, s->stream);
    return rc;
}

/* ---- delivery streams ---- */

static int delivery_put(void *ctx, const char *key, size_t key_len, const char *rec, size_t len)
{
    struct fin_sink *s = ctx;
    return fin_delivery_put(s->delivery, key, key_len, rec, len);
}

static int delivery_flush(void *ctx)
{
    struct fin_sink *s = ctx;
    return fin_delivery_flush(s->delivery);
}

/* ---- the sink ---- */

int fin_sink_open(struct fin_sink **out, const char *data_dir, const char *config, const char *to)
{
    struct fin_sink *s = calloc(1, sizeof *s);
    int rc = 0;
    if (!s)
        return FIN_ENOMEM;
    s->records.ctx = s;
    snprintf(s->name, sizeof s->name, "%s", to);
    if (strcmp(to, "stdout") == 0 || strcmp(to, "-") == 0 || strncmp(to, "file:", 5) == 0) {
        s->kind = SINK_FILE;
        if (strncmp(to, "file:", 5) == 0) {
            snprintf(s->name, sizeof s->name, "%s", to + 5);
            s->f = fopen(to + 5, "w");
            s->own_file = true;
            if (!s->f) {
                rc = fin_err_errno(errno, "cannot create", to + 5);
                goto fail;
            }
        } else {
            s->f = stdout;
        }
        s->cap = 1 << 20;
        if (!(s->buf = malloc(s->cap))) {
            rc = FIN_ENOMEM;
            goto fail;
        }
        s->records.put = file_put;
        s->records.flush = file_flush;
    } else if (strncmp(to, "stream:", 7) == 0) {
        s->kind = SINK_STREAM;
        snprintf(s->name, sizeof s->name, "%s", to + 7);
        if ((rc = open_stream(s, data_dir, config, to + 7)))
            goto fail;
    } else if (strncmp(to, "delivery:", 9) == 0) {
        s->kind = SINK_DELIVERY;
        snprintf(s->name, sizeof s->name, "%s", to + 9);
        if ((rc = fin_delivery_open(&s->delivery, data_dir, to + 9)))
            goto fail;
        s->records.put = delivery_put;
        s->records.flush = delivery_flush;
    } else if (fin_aws_is_producer_spec(to)) {
        /* A real (or emulated) Kinesis stream or Firehose delivery stream, configured by
         * the [aws] sections of finstream.ini and the usual AWS environment. */
        struct fin_ini ini;
        s->kind = SINK_AWS;
        if ((rc = fin_ini_load(&ini, config, true)))
            goto fail;
        rc = fin_aws_producer_open(&s->producer, to, &ini);
        fin_ini_fini(&ini);
        if (rc)
            goto fail;
        s->records = fin_aws_producer_sink(s->producer);
    } else {
        rc = fin_err_set(FIN_EINVAL, "--to '%s': expected stdout, file:PATH, stream:NAME, delivery:NAME, "
                         "kinesis:STREAM or firehose:DELIVERY", to);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    fin_sink_close(s);
    return rc;
}

const struct fin_record_sink *fin_sink_records(struct fin_sink *s) { return &s->records; }

bool fin_sink_is_durable(const struct fin_sink *s) { return s->kind != SINK_FILE; }

const char *fin_sink_describe(struct fin_sink *s, uint64_t records)
{
    char n[32];
    fin_cli_count(n, sizeof n, records);
    if (s->kind == SINK_STREAM)
        snprintf(s->describe, sizeof s->describe, "%s appended to %s (%d shard%s)", n, s->name,
                 fin_stream_open_shard_count(s->stream), fin_stream_open_shard_count(s->stream) == 1 ? "" : "s");
    else if (s->kind == SINK_DELIVERY)
        snprintf(s->describe, sizeof s->describe, "%s put to delivery stream %s", n, s->name);
    else if (s->kind == SINK_AWS)
        snprintf(s->describe, sizeof s->describe, "%s sent to %s", n, s->name);
    else
        s->describe[0] = '\0';
    return s->describe;
}

int fin_sink_close(struct fin_sink *s)
{
    if (!s)
        return 0;
    int rc = 0;
    switch (s->kind) {
    case SINK_FILE:
        if (s->f) {
            rc = file_flush(s);
            if (s->own_file && fclose(s->f) != 0 && !rc)
                rc = fin_err_errno(errno, "cannot close", s->name);
        }
        free(s->buf);
        break;
    case SINK_STREAM:
        if (s->records.ctx != s) {   /* the stream sink was created */
            rc = s->records.flush(s->records.ctx);
            fin_stream_sink_destroy(&s->records);
        }
        fin_stream_close(s->stream);
        break;
    case SINK_DELIVERY:
        rc = fin_delivery_close(s->delivery);
        break;
    case SINK_AWS:
        rc = fin_aws_producer_close(s->producer);
        break;
    }
    free(s);
    return rc;
}
