/* encode.c - the bytes of objects: gzip at a fast level, and error records in the shape
 * Firehose gives them (errorCode, errorMessage, rawData in base64, attemptsMade).
 *
 * gzip while the buffer fills (struct fin_gz_pipe). Deflate is the slow part of a gzip
 * delivery (about 90-150 MB/s a core at level 1, against several hundred MB/s for the
 * intake), so a second thread compresses each shard's buffer as records arrive, the way
 * pigz compresses blocks in parallel: every shard's bytes are one raw deflate stream
 * ended by a sync flush (which leaves it on a byte boundary and not final), and the
 * object is the gzip header, those streams in shard order, an empty final block and the
 * trailer (the CRC-32s combined, the total length). That is one ordinary gzip member:
 * every inflater reads it, and its text is exactly the shard buffers in order, as the
 * object would be without compression. The intake thread hands over ranges of bytes
 * already in a buffer and takes a lock only to move a buffer that must grow. */
#include "internal.h"
#include "finstream/error.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int fin_gzip_fast(const struct iovec *iov, int n_iov, struct fin_buf *out)
{
    size_t len = 0;
    for (int i = 0; i < n_iov; i++)
        len += iov[i].iov_len;
    /* Objects are at most a buffer (128 MiB), far below zlib's uInt counters. */
    if (len > (1u << 31))
        return fin_err_set(FIN_ELIMIT, "gzip: %zu bytes is more than one object may hold", len);
    z_stream z;
    memset(&z, 0, sizeof z);
    /* Level 1: about 2.5 times the speed of the default level for market data, which is
     * repetitive enough that the ratio stays close. 31 = 15-bit window + gzip wrapper. */
    if (deflateInit2(&z, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return fin_err_set(FIN_ENOMEM, "gzip: cannot initialise zlib");
    size_t bound = deflateBound(&z, (uLong)len) + 64 * (size_t)n_iov;
    int rc = fin_buf_reserve(out, bound);
    if (rc)
        goto done;
    z.next_out = (Bytef *)out->data + out->len;
    z.avail_out = (uInt)bound;
    /* With deflateBound's room every piece goes in at once and the last call finishes. */
    for (int i = 0; i < n_iov; i++) {
        if (!iov[i].iov_len)
            continue;   /* deflate reports no progress on empty input */
        z.next_in = (Bytef *)(uintptr_t)iov[i].iov_base;
        z.avail_in = (uInt)iov[i].iov_len;
        if (deflate(&z, Z_NO_FLUSH) != Z_OK || z.avail_in) {
            rc = fin_err_set(FIN_EIO, "gzip: deflate failed");
            goto done;
        }
    }
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        rc = fin_err_set(FIN_EIO, "gzip: deflate did not finish");
        goto done;
    }
    out->len += z.total_out;
done:
    deflateEnd(&z);
    return rc;
}

int fin_base64_append(struct fin_buf *out, const void *in, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int rc = fin_buf_reserve(out, (len + 2) / 3 * 4);
    if (rc)
        return rc;
    const unsigned char *p = in;
    char *o = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = tab[v >> 18];
        *o++ = tab[v >> 12 & 63];
        *o++ = tab[v >> 6 & 63];
        *o++ = tab[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = tab[v >> 18];
        *o++ = tab[v >> 12 & 63];
        *o++ = i + 1 < len ? tab[v >> 6 & 63] : '=';
        *o++ = '=';
    }
    out->len = (size_t)(o - out->data);
    return 0;
}

int fin_json_str_append(struct fin_buf *out, const char *s, size_t len)
{
    int rc = fin_buf_reserve(out, len * 6 + 2);
    if (rc)
        return rc;
    char *o = out->data + out->len;
    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20) {
            o += sprintf(o, "\\u%04x", c);
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    out->len = (size_t)(o - out->data);
    return 0;
}

int fin_error_record_append(struct fin_buf *out, const char *code, const char *message,
                            const void *raw, size_t raw_len, int64_t arrival_ms, int64_t now_ms)
{
    int rc;
    if ((rc = fin_buf_printf(out, "{\"attemptsMade\":1,\"arrivalTimestamp\":%" PRId64
                                  ",\"errorCode\":", arrival_ms)) ||
        (rc = fin_json_str_append(out, code, strlen(code))) ||
        (rc = fin_buf_puts(out, ",\"errorMessage\":")) ||
        (rc = fin_json_str_append(out, message, strlen(message))) ||
        (rc = fin_buf_printf(out, ",\"attemptEndingTimestamp\":%" PRId64 ",\"rawData\":\"", now_ms)) ||
        (rc = fin_base64_append(out, raw, raw_len)) ||
        (rc = fin_buf_puts(out, "\"}\n")))
        return rc;
    return 0;
}

/* ---- gzip while the buffer fills ---- */

#define GZ_PIECE (256 * 1024)   /* bytes deflated per turn, and per hand-over */

struct gz_shard {
    const struct fin_buf *src;   /* the shard's buffer (the engine's; stable address) */
    size_t published;            /* bytes of src that may be read */
    size_t done;                 /* bytes deflated */
    uLong crc;
    z_stream z;
    bool z_ready, finished;
    struct fin_buf out;          /* raw deflate data so far */
};

struct fin_gz_pipe {
    int n;
    struct gz_shard *sh;
    pthread_t thread;
    bool started, stop;
    int rc;                      /* the compressor's failure, if any */
    char msg[256];
    pthread_mutex_t mu;          /* published, done, stop, rc */
    pthread_cond_t work, idle;
    pthread_mutex_t buf_mu;      /* held while reading a buffer; taken to move one */
    int next;                    /* round robin */
};

/* Deflates in into the shard's output with flush mode f. */
static int gz_deflate(struct gz_shard *g, const char *in, size_t n, int f)
{
    g->z.next_in = (Bytef *)(uintptr_t)in;
    g->z.avail_in = (uInt)n;
    for (;;) {
        if (fin_buf_reserve(&g->out, n / 4 + 65536))
            return FIN_ENOMEM;
        g->z.next_out = (Bytef *)g->out.data + g->out.len;
        g->z.avail_out = (uInt)(g->out.cap - g->out.len);
        int z = deflate(&g->z, f);
        g->out.len = (size_t)((char *)g->z.next_out - g->out.data);
        if (z != Z_OK && z != Z_BUF_ERROR)
            return FIN_EIO;
        if (g->z.avail_in == 0 && g->z.avail_out != 0)
            return 0;
    }
}

static void *gz_thread(void *arg)
{
    struct fin_gz_pipe *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->stop)
            break;
        int s = -1;
        for (int k = 0; k < p->n && s < 0; k++) {
            int i = (p->next + k) % p->n;
            if (p->sh[i].published > p->sh[i].done)
                s = i;
        }
        if (s < 0 || p->rc) {
            pthread_cond_broadcast(&p->idle);
            pthread_cond_wait(&p->work, &p->mu);
            continue;
        }
        p->next = (s + 1) % p->n;
        struct gz_shard *g = &p->sh[s];
        size_t from = g->done, n = g->published - g->done;
        if (n > GZ_PIECE)
            n = GZ_PIECE;
        pthread_mutex_unlock(&p->mu);
        int rc = 0;
        pthread_mutex_lock(&p->buf_mu);
        const char *in = g->src->data + from;
        g->crc = crc32(g->crc, (const Bytef *)in, (uInt)n);
        rc = gz_deflate(g, in, n, Z_NO_FLUSH);
        pthread_mutex_unlock(&p->buf_mu);
        pthread_mutex_lock(&p->mu);
        g->done += n;
        if (rc) {
            p->rc = rc;
            snprintf(p->msg, sizeof p->msg, "gzip: %s", rc == FIN_ENOMEM ? "out of memory"
                                                                         : "deflate failed");
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int fin_gz_pipe_create(struct fin_gz_pipe **out, int n_shards, const struct fin_buf *const *bufs)
{
    *out = NULL;
    struct fin_gz_pipe *p = calloc(1, sizeof *p);
    if (!p || !(p->sh = calloc((size_t)n_shards, sizeof *p->sh))) {
        free(p);
        return FIN_ENOMEM;
    }
    p->n = n_shards;
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->buf_mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->idle, NULL);
    int rc = 0;
    for (int i = 0; i < n_shards; i++) {
        struct gz_shard *g = &p->sh[i];
        g->src = bufs[i];
        g->crc = crc32(0, NULL, 0);
        fin_buf_init(&g->out);
        /* raw deflate (-15), level 1, as fin_gzip_fast */
        if (deflateInit2(&g->z, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            rc = fin_err_set(FIN_ENOMEM, "gzip: cannot initialise zlib");
            break;
        }
        g->z_ready = true;
    }
    if (!rc && pthread_create(&p->thread, NULL, gz_thread, p) != 0)
        rc = fin_err_set(FIN_ENOMEM, "gzip: cannot start the compressing thread");
    else if (!rc)
        p->started = true;
    if (rc) {
        fin_gz_pipe_destroy(p);
        return rc;
    }
    *out = p;
    return 0;
}

void fin_gz_pipe_destroy(struct fin_gz_pipe *p)
{
    if (!p)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        p->stop = true;
        pthread_cond_broadcast(&p->work);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
    }
    for (int i = 0; p->sh && i < p->n; i++) {
        if (p->sh[i].z_ready)
            deflateEnd(&p->sh[i].z);
        fin_buf_fini(&p->sh[i].out);
    }
    free(p->sh);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->buf_mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->idle);
    free(p);
}

void fin_gz_pipe_publish(struct fin_gz_pipe *p, int shard)
{
    pthread_mutex_lock(&p->mu);
    p->sh[shard].published = p->sh[shard].src->len;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
}

size_t fin_gz_pipe_published(const struct fin_gz_pipe *p, int shard)
{
    return p->sh[shard].published;   /* written only by the intake thread, which asks */
}

void fin_gz_pipe_lock(struct fin_gz_pipe *p) { pthread_mutex_lock(&p->buf_mu); }
void fin_gz_pipe_unlock(struct fin_gz_pipe *p) { pthread_mutex_unlock(&p->buf_mu); }

int fin_gz_pipe_finish(struct fin_gz_pipe *p, struct fin_buf *out)
{
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->n; i++)
        p->sh[i].published = p->sh[i].src->len;
    pthread_cond_signal(&p->work);
    for (;;) {
        bool busy = false;
        for (int i = 0; i < p->n && !busy; i++)
            busy = p->sh[i].done < p->sh[i].published;
        if (!busy || p->rc)
            break;
        pthread_cond_wait(&p->idle, &p->mu);
    }
    int rc = p->rc ? fin_err_set(p->rc, "%s", p->msg) : 0;
    pthread_mutex_unlock(&p->mu);
    if (rc)
        return rc;
    /* The compressor is idle until more is published: the streams are ours. */
    uLong crc = crc32(0, NULL, 0);
    uint64_t total = 0;
    static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 3};
    static const unsigned char final_block[2] = {0x03, 0x00};   /* empty, fixed, final */
    if ((rc = fin_buf_append(out, header, sizeof header)))
        return rc;
    for (int i = 0; i < p->n; i++) {
        struct gz_shard *g = &p->sh[i];
        if (!g->done)
            continue;
        if (!g->finished) {
            if ((rc = gz_deflate(g, NULL, 0, Z_SYNC_FLUSH)))
                return fin_err_set(rc, "gzip: deflate failed");
            g->finished = true;
        }
        if ((rc = fin_buf_append(out, g->out.data, g->out.len)))
            return rc;
        crc = crc32_combine(crc, g->crc, (z_off_t)g->done);
        total += g->done;
    }
    unsigned char trailer[8];
    for (int k = 0; k < 4; k++) {
        trailer[k] = (unsigned char)(crc >> (8 * k));
        trailer[4 + k] = (unsigned char)(total >> (8 * k));
    }
    if ((rc = fin_buf_append(out, final_block, 2)) || (rc = fin_buf_append(out, trailer, 8)))
        return rc;
    return 0;
}

void fin_gz_pipe_reset(struct fin_gz_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->n; i++) {
        struct gz_shard *g = &p->sh[i];
        g->published = g->done = 0;
        g->crc = crc32(0, NULL, 0);
        g->finished = false;
        deflateReset(&g->z);
        fin_buf_reset(&g->out);
    }
    pthread_mutex_unlock(&p->mu);
}
