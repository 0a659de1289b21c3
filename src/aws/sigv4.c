/* sigv4.c - AWS Signature Version 4: signing and verification.
 *
 * A chain of pure steps with the time and the credentials passed in, so that the
 * published test vectors and botocore's signer can check each one: canonical request,
 * string to sign, signing key, signature, Authorization header. The verifier runs the
 * same chain over a received request, so a server and this client cannot drift apart.
 *
 * The only subtle parts are the encodings. A path is signed as it goes on the wire: for
 * S3 each segment is encoded once (escapes in the wire path are decoded and encoded again,
 * so "/a%20b" and "/a b" sign alike), and nothing is normalised, because "a//b" and
 * "a/./b" are distinct keys. For every other service the path is normalised (empty and
 * "." segments dropped, ".." resolved) and encoded once more, escapes included. Query
 * names and values are decoded and re-encoded strictly ('+' is a plus, not a space), then
 * sorted bytewise by name and value. Header values are trimmed and runs of spaces inside
 * folded to one; repeated headers are joined with ',' in the order they came. */
#include "finstream/aws.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "finstream/error.h"

static const char HEX[] = "0123456789abcdef";
static const char HEXU[] = "0123456789ABCDEF";

/* OpenSSL 3 looks a digest up by name on every EVP_sha256() use and every one-shot HMAC();
 * fetching SHA-256 once and doing HMAC's two passes by hand makes a signature several
 * times cheaper. The fetched method is kept for the life of the process. */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256, *md_md5;

static void md_init(void)
{
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
}

static const EVP_MD *sha256_md(void)
{
    pthread_once(&md_once, md_init);
    return md_sha256 ? md_sha256 : EVP_sha256();
}

static const EVP_MD *md5_md(void)
{
    pthread_once(&md_once, md_init);
    return md_md5 ? md_md5 : EVP_md5();
}

static void to_hex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX[p[i] >> 4];
        out[2 * i + 1] = HEX[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void fin_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, sha256_md(), NULL);
    to_hex(md, 32, out);
}

void fin_md5_base64(const void *data, size_t len, char out[25])
{
    unsigned char md[16];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, md5_md(), NULL);
    EVP_EncodeBlock((unsigned char *)out, md, 16);
}

/* HMAC-SHA256 (RFC 2104): H((K ^ opad) || H((K ^ ipad) || msg)). */
static void hmac(const void *key, size_t key_len, const void *msg, size_t len, unsigned char out[32])
{
    unsigned char k[64] = {0}, pad[64], inner[32];
    unsigned int n = 0;
    const EVP_MD *md = sha256_md();
    if (key_len > 64)
        EVP_Digest(key, key_len, k, &n, md, NULL);
    else
        memcpy(k, key, key_len);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) {
        /* Out of memory inside OpenSSL: fall back to its own one-shot. */
        n = 32;
        HMAC(EVP_sha256(), key, (int)key_len, msg, len, out, &n);
        return;
    }
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    EVP_DigestInit_ex(ctx, md, NULL);
    EVP_DigestUpdate(ctx, pad, 64);
    EVP_DigestUpdate(ctx, msg, len);
    EVP_DigestFinal_ex(ctx, inner, &n);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    EVP_DigestInit_ex(ctx, md, NULL);
    EVP_DigestUpdate(ctx, pad, 64);
    EVP_DigestUpdate(ctx, inner, 32);
    EVP_DigestFinal_ex(ctx, out, &n);
    EVP_MD_CTX_free(ctx);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
}

void fin_sigv4_signing_key(const char *secret, const char *date8, const char *region,
                           const char *service, unsigned char key[32])
{
    char k0[256];
    int n = snprintf(k0, sizeof k0, "AWS4%s", secret);
    if (n < 0 || (size_t)n >= sizeof k0)
        n = (int)sizeof k0 - 1;   /* secrets are 40 characters; longer ones are not keys */
    unsigned char k1[32], k2[32], k3[32];
    hmac(k0, (size_t)n, date8, strlen(date8), k1);
    hmac(k1, 32, region, strlen(region), k2);
    hmac(k2, 32, service, strlen(service), k3);
    hmac(k3, 32, "aws4_request", 12, key);
    OPENSSL_cleanse(k0, sizeof k0);
}

void fin_sigv4_format_date(int64_t t, char *out)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, FIN_SIGV4_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

int fin_sigv4_parse_date(const char *s, int64_t *t)
{
    struct tm tm = {0};
    if (!s || strlen(s) != FIN_SIGV4_DATE_LEN || s[8] != 'T' || s[15] != 'Z')
        return fin_err_set(FIN_EPARSE, "bad X-Amz-Date '%s' (want YYYYMMDDThhmmssZ)", s ? s : "");
    for (int i = 0; i < 15; i++)
        if (i != 8 && !isdigit((unsigned char)s[i]))
            return fin_err_set(FIN_EPARSE, "bad X-Amz-Date '%s'", s);
    tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0') - 1900;
    tm.tm_mon = (s[4] - '0') * 10 + (s[5] - '0') - 1;
    tm.tm_mday = (s[6] - '0') * 10 + (s[7] - '0');
    tm.tm_hour = (s[9] - '0') * 10 + (s[10] - '0');
    tm.tm_min = (s[11] - '0') * 10 + (s[12] - '0');
    tm.tm_sec = (s[13] - '0') * 10 + (s[14] - '0');
    if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60)
        return fin_err_set(FIN_EPARSE, "bad X-Amz-Date '%s'", s);
    *t = (int64_t)timegm(&tm);
    return 0;
}

static bool unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

int fin_aws_uri_encode(struct fin_buf *out, const char *src, size_t len, bool keep_slash)
{
    if (fin_buf_reserve(out, len * 3 + 1))
        return FIN_ENOMEM;
    char *w = out->data + out->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            *w++ = (char)c;
        } else {
            *w++ = '%';
            *w++ = HEXU[c >> 4];
            *w++ = HEXU[c & 15];
        }
    }
    out->len = (size_t)(w - out->data);
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %XX escapes (a '%' not followed by two hex digits stays as it is). */
static size_t uri_decode(char *dst, const char *src, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '%' && i + 2 < len && hexval(src[i + 1]) >= 0 && hexval(src[i + 2]) >= 0) {
            dst[n++] = (char)(hexval(src[i + 1]) * 16 + hexval(src[i + 2]));
            i += 2;
        } else {
            dst[n++] = src[i];
        }
    }
    return n;
}

/* The canonical URI of path (see the top of the file). */
static int canonical_uri(struct fin_buf *out, const char *path, bool s3)
{
    if (!path || !*path)
        return fin_buf_puts(out, "/");
    size_t len = strlen(path);
    int rc = FIN_ENOMEM;
    char *tmp = malloc(len + 2);
    const char **segs = NULL;
    size_t *seg_len = NULL;
    if (!tmp)
        goto fail;
    if (s3) {
        size_t n = uri_decode(tmp, path, len);
        rc = fin_aws_uri_encode(out, tmp, n, true);
        goto done;
    }
    /* Normalise: split on '/', drop empty and "." segments, let ".." remove one. */
    segs = malloc(sizeof *segs * (len + 1));
    seg_len = malloc(sizeof *seg_len * (len + 1));
    if (!segs || !seg_len)
        goto fail;
    size_t ns = 0;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        const char *e = p;
        while (*e && *e != '/')
            e++;
        size_t sl = (size_t)(e - p);
        if (sl == 0) {
            /* trailing slashes */
        } else if (sl == 1 && p[0] == '.') {
        } else if (sl == 2 && p[0] == '.' && p[1] == '.') {
            if (ns > 0)
                ns--;
        } else {
            segs[ns] = p;
            seg_len[ns++] = sl;
        }
        p = e;
    }
    bool trailing = path[len - 1] == '/';
    size_t w = 0;
    for (size_t i = 0; i < ns; i++) {
        tmp[w++] = '/';
        memcpy(tmp + w, segs[i], seg_len[i]);
        w += seg_len[i];
    }
    if (ns == 0 || trailing)
        tmp[w++] = '/';
    rc = fin_aws_uri_encode(out, tmp, w, true);
done:
fail:
    free(tmp);
    free(segs);
    free(seg_len);
    return rc;
}

struct qpair {
    char *name;   /* encoded */
    char *value;  /* encoded */
};

static int qpair_cmp(const void *a, const void *b)
{
    const struct qpair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static char *encode_component(const char *s, size_t len)
{
    char *dec = malloc(len + 1);
    if (!dec)
        return NULL;
    size_t n = uri_decode(dec, s, len);
    struct fin_buf b;
    fin_buf_init(&b);
    char *res = NULL;
    if (fin_aws_uri_encode(&b, dec, n, false) == 0 && fin_buf_cstr(&b))
        res = fin_buf_take(&b, NULL);
    fin_buf_fini(&b);
    free(dec);
    return res;
}

static int canonical_query(struct fin_buf *out, const char *query)
{
    if (!query || !*query)
        return 0;
    size_t cap = 1;
    for (const char *p = query; *p; p++)
        cap += *p == '&';
    struct qpair *pairs = calloc(cap, sizeof *pairs);
    size_t n = 0;
    int rc = FIN_ENOMEM;
    if (!pairs)
        goto fail;
    for (const char *p = query; *p;) {
        const char *e = strchr(p, '&');
        if (!e)
            e = p + strlen(p);
        if (e > p) {
            const char *eq = memchr(p, '=', (size_t)(e - p));
            const char *ne = eq ? eq : e;
            pairs[n].name = encode_component(p, (size_t)(ne - p));
            pairs[n].value = eq ? encode_component(eq + 1, (size_t)(e - eq - 1)) : strdup("");
            n++;
            if (!pairs[n - 1].name || !pairs[n - 1].value)
                goto fail;
        }
        p = *e ? e + 1 : e;
    }
    qsort(pairs, n, sizeof *pairs, qpair_cmp);
    for (size_t i = 0; i < n; i++)
        if ((i && fin_buf_puts(out, "&")) || fin_buf_puts(out, pairs[i].name) ||
            fin_buf_puts(out, "=") || fin_buf_puts(out, pairs[i].value))
            goto fail;
    rc = 0;
fail:
    for (size_t i = 0; i < n; i++) {
        free(pairs[i].name);
        free(pairs[i].value);
    }
    free(pairs);
    return rc;
}

struct hentry {
    char name[128];
    const char *value;
    size_t index;
};

static int hentry_cmp(const void *a, const void *b)
{
    const struct hentry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Appends value trimmed, with runs of spaces and tabs folded to one space. */
static int append_header_value(struct fin_buf *out, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t len = strlen(v);
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r' || v[len - 1] == '\n'))
        len--;
    if (fin_buf_reserve(out, len + 1))
        return FIN_ENOMEM;
    char *w = out->data + out->len;
    bool space = false;
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (!space)
                *w++ = ' ';
            space = true;
        } else {
            *w++ = c;
            space = false;
        }
    }
    out->len = (size_t)(w - out->data);
    return 0;
}

void fin_sigv4_result_init(struct fin_sigv4_result *r)
{
    memset(r, 0, sizeof *r);
    fin_buf_init(&r->canonical_request);
    fin_buf_init(&r->string_to_sign);
    fin_buf_init(&r->authorization);
}

void fin_sigv4_result_fini(struct fin_sigv4_result *r)
{
    if (!r)
        return;
    fin_buf_fini(&r->canonical_request);
    fin_buf_fini(&r->string_to_sign);
    fin_buf_fini(&r->authorization);
}

int fin_sigv4_sign(const struct fin_sigv4_request *req, const struct fin_sigv4_scope *scope,
                   const struct fin_aws_credentials *creds, struct fin_sigv4_result *res)
{
    struct hentry h[FIN_SIGV4_MAX_HEADERS];
    int rc = FIN_ENOMEM;
    if (req->n_headers > FIN_SIGV4_MAX_HEADERS)
        return fin_err_set(FIN_EINVAL, "sigv4: %zu headers, at most %d can be signed",
                           req->n_headers, FIN_SIGV4_MAX_HEADERS);
    if (!creds || !creds->access_key_id || !creds->secret_access_key)
        return fin_err_set(FIN_EINVAL, "sigv4: no credentials to sign with");
    bool host = false;
    for (size_t i = 0; i < req->n_headers; i++) {
        size_t nl = strlen(req->headers[i].name);
        if (nl >= sizeof h[i].name)
            return fin_err_set(FIN_EINVAL, "sigv4: header name '%.40s...' too long",
                               req->headers[i].name);
        for (size_t k = 0; k <= nl; k++)
            h[i].name[k] = (char)tolower((unsigned char)req->headers[i].name[k]);
        h[i].value = req->headers[i].value ? req->headers[i].value : "";
        h[i].index = i;
        host |= strcmp(h[i].name, "host") == 0;
    }
    if (!host)
        return fin_err_set(FIN_EINVAL, "sigv4: the request has no Host header");
    qsort(h, req->n_headers, sizeof h[0], hentry_cmp);

    char date[FIN_SIGV4_DATE_LEN + 1], date8[9];
    fin_sigv4_format_date(scope->time_s, date);
    memcpy(date8, date, 8);
    date8[8] = '\0';

    char payload_hash[65];
    const char *ph = req->payload_hash;
    if (!ph) {
        fin_sha256_hex(req->payload ? req->payload : "", req->payload_len, payload_hash);
        ph = payload_hash;
    }

    struct fin_buf *cr = &res->canonical_request;
    fin_buf_reset(cr);
    if (fin_buf_puts(cr, req->method) || fin_buf_puts(cr, "\n") ||
        (rc = canonical_uri(cr, req->path, scope->s3_path_rules)) || fin_buf_puts(cr, "\n") ||
        (rc = canonical_query(cr, req->query)) || fin_buf_puts(cr, "\n"))
        goto fail;
    rc = FIN_ENOMEM;
    size_t sh = 0;
    res->signed_headers[0] = '\0';
    for (size_t i = 0; i < req->n_headers; i++) {
        bool same = i > 0 && strcmp(h[i].name, h[i - 1].name) == 0;
        if (same) {
            if (fin_buf_puts(cr, ","))
                goto fail;
        } else {
            if (i && fin_buf_puts(cr, "\n"))
                goto fail;
            if (fin_buf_puts(cr, h[i].name) || fin_buf_puts(cr, ":"))
                goto fail;
            int n = snprintf(res->signed_headers + sh, sizeof res->signed_headers - sh, "%s%s",
                             sh ? ";" : "", h[i].name);
            if (n < 0 || (size_t)n >= sizeof res->signed_headers - sh) {
                rc = fin_err_set(FIN_EINVAL, "sigv4: signed header list too long");
                goto fail;
            }
            sh += (size_t)n;
        }
        if (append_header_value(cr, h[i].value))
            goto fail;
    }
    if (fin_buf_puts(cr, "\n\n") || fin_buf_puts(cr, res->signed_headers) ||
        fin_buf_puts(cr, "\n") || fin_buf_puts(cr, ph))
        goto fail;

    char cr_hash[65];
    fin_sha256_hex(cr->data, cr->len, cr_hash);
    struct fin_buf *sts = &res->string_to_sign;
    fin_buf_reset(sts);
    if (fin_buf_printf(sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", date, date8,
                       scope->region, scope->service, cr_hash))
        goto fail;

    unsigned char key[32], sig[32];
    fin_sigv4_signing_key(creds->secret_access_key, date8, scope->region, scope->service, key);
    hmac(key, 32, sts->data, sts->len, sig);
    OPENSSL_cleanse(key, sizeof key);
    to_hex(sig, 32, res->signature);

    fin_buf_reset(&res->authorization);
    if (fin_buf_printf(&res->authorization,
                       "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
                       "Signature=%s",
                       creds->access_key_id, date8, scope->region, scope->service,
                       res->signed_headers, res->signature) ||
        !fin_buf_cstr(cr) || !fin_buf_cstr(sts) || !fin_buf_cstr(&res->authorization))
        goto fail;
    return 0;
fail:
    return rc ? rc : FIN_ENOMEM;
}

/* ---- verification ---- */

/* Copies the value of "key=" out of an Authorization header's comma-separated list. */
static bool auth_field(const char *auth, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    for (const char *p = auth; (p = strstr(p, key)) != NULL; p += kl) {
        if (p != auth && p[-1] != ' ' && p[-1] != ',')
            continue;
        if (p[kl] != '=')
            continue;
        const char *v = p + kl + 1, *e = v;
        while (*e && *e != ',' && *e != ' ')
            e++;
        if ((size_t)(e - v) >= cap)
            return false;
        memcpy(out, v, (size_t)(e - v));
        out[e - v] = '\0';
        return true;
    }
    return false;
}

static const char *find_header(const struct fin_sigv4_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

int fin_sigv4_verify(const struct fin_sigv4_request *req, bool s3_path_rules,
                     fin_sigv4_secret_fn lookup, void *lookup_ctx, int64_t now_s,
                     int64_t max_skew_s, struct fin_sigv4_verified *out)
{
    struct fin_aws_header signed_h[FIN_SIGV4_MAX_HEADERS];
    struct fin_sigv4_result res;
    fin_sigv4_result_init(&res);
    int rc = FIN_EAUTH;
    char cred[512], shl[1024], sig[128];
    const char *auth = find_header(req, "authorization");
    if (!auth) {
        rc = fin_err_set(FIN_EAUTH, "no Authorization header");
        goto fail;
    }
    if (strncmp(auth, "AWS4-HMAC-SHA256 ", 17) != 0) {
        rc = fin_err_set(FIN_EAUTH, "Authorization is not AWS4-HMAC-SHA256");
        goto fail;
    }
    if (!auth_field(auth + 17, "Credential", cred, sizeof cred) ||
        !auth_field(auth + 17, "SignedHeaders", shl, sizeof shl) ||
        !auth_field(auth + 17, "Signature", sig, sizeof sig)) {
        rc = fin_err_set(FIN_EAUTH, "Authorization lacks Credential, SignedHeaders or Signature");
        goto fail;
    }
    /* Credential=AKID/20150830/us-east-1/service/aws4_request */
    char *parts[5] = {0};
    int np = 0;
    for (char *p = cred, *save = NULL; np < 5 && (p = strtok_r(p, "/", &save)); p = NULL)
        parts[np++] = p;
    if (np != 5 || strcmp(parts[4], "aws4_request") != 0 || strlen(parts[1]) != 8 ||
        strlen(parts[0]) >= sizeof out->access_key_id || strlen(parts[2]) >= sizeof out->region ||
        strlen(parts[3]) >= sizeof out->service) {
        rc = fin_err_set(FIN_EAUTH, "malformed Credential in Authorization");
        goto fail;
    }
    const char *amz_date = find_header(req, "x-amz-date");
    int64_t t;
    if (!amz_date || fin_sigv4_parse_date(amz_date, &t) != 0) {
        rc = fin_err_set(FIN_EAUTH, "missing or bad X-Amz-Date");
        goto fail;
    }
    if (strncmp(amz_date, parts[1], 8) != 0) {
        rc = fin_err_set(FIN_EAUTH, "credential scope date %s does not match X-Amz-Date %s",
                         parts[1], amz_date);
        goto fail;
    }
    if (t > now_s + max_skew_s || t < now_s - max_skew_s) {
        rc = fin_err_set(FIN_EAUTH, "request time %s is %lld s from the server's clock (at most %lld)",
                         amz_date, (long long)(t - now_s), (long long)max_skew_s);
        goto fail;
    }
    /* Only the headers the client signed take part, and each must be there. */
    size_t n = 0;
    bool host = false;
    for (char *p = shl, *save = NULL; (p = strtok_r(p, ";", &save)); p = NULL) {
        bool found = false;
        host |= strcmp(p, "host") == 0;
        for (size_t i = 0; i < req->n_headers; i++) {
            if (strcasecmp(req->headers[i].name, p) != 0)
                continue;
            if (n == FIN_SIGV4_MAX_HEADERS) {
                rc = fin_err_set(FIN_EAUTH, "too many signed headers");
                goto fail;
            }
            signed_h[n++] = req->headers[i];
            found = true;
        }
        if (!found) {
            rc = fin_err_set(FIN_EAUTH, "signed header '%s' is not in the request", p);
            goto fail;
        }
    }
    if (!host) {
        rc = fin_err_set(FIN_EAUTH, "the Host header is not signed");
        goto fail;
    }
    const char *secret = NULL;
    if (lookup(lookup_ctx, parts[0], &secret) != 0 || !secret) {
        rc = fin_err_set(FIN_EAUTH, "unknown access key id '%s'", parts[0]);
        goto fail;
    }
    struct fin_sigv4_request r2 = *req;
    r2.headers = signed_h;
    r2.n_headers = n;
    struct fin_aws_credentials creds = {.access_key_id = parts[0], .secret_access_key = (char *)secret};
    struct fin_sigv4_scope scope = {.region = parts[2], .service = parts[3], .time_s = t,
                                    .s3_path_rules = s3_path_rules};
    if ((rc = fin_sigv4_sign(&r2, &scope, &creds, &res)) != 0)
        goto fail;
    if (strlen(sig) != 64 || CRYPTO_memcmp(sig, res.signature, 64) != 0) {
        rc = fin_err_set(FIN_EAUTH, "signature does not match for access key id '%s'", parts[0]);
        goto fail;
    }
    if (out) {
        snprintf(out->access_key_id, sizeof out->access_key_id, "%s", parts[0]);
        snprintf(out->region, sizeof out->region, "%s", parts[2]);
        snprintf(out->service, sizeof out->service, "%s", parts[3]);
        out->time_s = t;
    }
    rc = 0;
fail:
    fin_sigv4_result_fini(&res);
    return rc;
}
