/* naming.c - object names as Firehose makes them, with a suffix derived from the data.
 *
 * Firehose names an object <delivery>-<version>-<YYYY-MM-DD-HH-MM-SS>-<random UUID>. The
 * random part is what lets Firehose duplicate data after a retry: a second attempt writes a
 * second object. Here the suffix has the UUID's shape but is a SHA-256 of what the object
 * holds (delivery, partition prefix, and per shard the sequence range of the flush), so
 * writing the same records again produces the same key and replaces the object. */
#include "finstream/delivery.h"
#include "finstream/error.h"
#include "finstream/timeutil.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

void fin_delivery_suffix(const char *name, const char *part,
                         const struct fin_delivery_range *ranges, size_t n_ranges,
                         const char *const *shard_ids, char out[FIN_DELIVERY_SUFFIX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    /* Fields are NUL-separated so that no two different inputs concatenate alike. */
    if (ok) {
        EVP_DigestUpdate(ctx, name, strlen(name) + 1);
        EVP_DigestUpdate(ctx, part, strlen(part) + 1);
        for (size_t i = 0; i < n_ranges; i++) {
            const char *sid = shard_ids ? shard_ids[ranges[i].shard] : "";
            EVP_DigestUpdate(ctx, sid, strlen(sid) + 1);
            EVP_DigestUpdate(ctx, ranges[i].first_seq, strlen(ranges[i].first_seq) + 1);
            EVP_DigestUpdate(ctx, ranges[i].last_seq, strlen(ranges[i].last_seq) + 1);
        }
        ok = EVP_DigestFinal_ex(ctx, md, &mdlen);
    }
    EVP_MD_CTX_free(ctx);
    if (!ok)   /* only on an allocation failure inside OpenSSL; keep the name well-formed */
        memset(md, 0, sizeof md);
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = hex[md[i] >> 4];
        out[k++] = hex[md[i] & 15];
    }
    out[k] = '\0';
}

int fin_delivery_object_name(const char *name, int64_t t_ms, const char *suffix,
                             const char *ext, char *out, size_t cap)
{
    int64_t secs = t_ms >= 0 ? t_ms / 1000 : (t_ms - 999) / 1000;
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t sod = secs - days * 86400;
    int y;
    unsigned mo, d;
    fin_civil_from_days(days, &y, &mo, &d);
    int n = snprintf(out, cap, "%s-%d-%04d-%02u-%02u-%02d-%02d-%02d-%s%s", name,
                     FIN_DELIVERY_VERSION, y, mo, d, (int)(sod / 3600), (int)(sod / 60 % 60),
                     (int)(sod % 60), suffix, ext ? ext : "");
    if (n < 0 || (size_t)n >= cap)
        return fin_err_set(FIN_ELIMIT, "object name for delivery '%s' is too long", name);
    return 0;
}

int fin_delivery_key_check(const char *key)
{
    if (!*key || key[0] == '/')
        return fin_err_set(FIN_EINVAL, "object key '%s' must be a relative path", key);
    for (const char *c = key; *c;) {
        const char *slash = strchr(c, '/');
        size_t n = slash ? (size_t)(slash - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return fin_err_set(FIN_EINVAL, "object key '%s' has an empty, '.' or '..' folder", key);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f || c[i] == '\\')
                return fin_err_set(FIN_EINVAL, "object key '%s' holds a control character or "
                                   "'\\'", key);
        if (!slash)
            break;
        c = slash + 1;
    }
    return 0;
}
