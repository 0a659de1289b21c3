/* encode.c - the bytes of objects: gzip at a fast level, and error records in the shape
 * Firehose gives them (errorCode, errorMessage, rawData in base64, attemptsMade). */
#include "internal.h"
#include "finstream/error.h"

#include <inttypes.h>
#include <stdio.h>
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
