/* seqno.c - Kinesis' numbers on the wire: sequence numbers in AWS's layout, shard ids
 * resolved as AWS resolves them, 128-bit hash keys compared and stepped as decimal text.
 *
 * finstream's streams number records "49" + creation time (12 digits) + shard (12) +
 * reserved (10) + counter (20), 56 decimal digits ordered like the records. Kinesis'
 * numbers are 56-digit decimals too, but of a binary layout (version 2, as kinesalite's
 * db/index.js decodes it): the hexadecimal digits
 *
 *   2 | shard creation time, s (9) | shard index, low digit (1) | sequence index (16) |
 *   00 | record time, s (9) | shard index (8) | 2
 *
 * so that tools that take them apart (the version, the shard index, the creation and
 * record times) find what they expect. The wire form is computed from the stored one and
 * back: the sequence index is the record's counter, the record time its arrival second,
 * and within a shard the order is the counter's, as in the stored form. A shard's
 * starting number has index 0; a closed shard's ending number the largest index, as
 * Kinesis gives it, so it is never below the starting one. */
#include "seqno.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small unsigned big integer: 8 limbs of 32 bits, little-endian ---- */

#define LIMBS 8
struct big {
    uint32_t w[LIMBS];
};

static bool big_from_dec(const char *s, struct big *b)
{
    memset(b, 0, sizeof *b);
    if (!*s)
        return false;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return false;
        uint64_t carry = (uint64_t)(*s - '0');
        for (int i = 0; i < LIMBS; i++) {
            uint64_t v = (uint64_t)b->w[i] * 10 + carry;
            b->w[i] = (uint32_t)v;
            carry = v >> 32;
        }
        if (carry)
            return false;
    }
    return true;
}

static void big_to_dec(const struct big *in, char *out, size_t cap)
{
    struct big b = *in;
    char tmp[96];
    size_t n = 0;
    bool zero;
    do {
        uint64_t rem = 0;
        zero = true;
        for (int i = LIMBS - 1; i >= 0; i--) {
            uint64_t v = rem << 32 | b.w[i];
            b.w[i] = (uint32_t)(v / 10);
            rem = v % 10;
            zero &= b.w[i] == 0;
        }
        tmp[n++] = (char)('0' + rem);
    } while (!zero && n < sizeof tmp);
    size_t o = 0;
    while (n && o + 1 < cap)
        out[o++] = tmp[--n];
    out[o] = 0;
}

/* The hexadecimal digits of b without leading zeros. */
static void big_to_hex(const struct big *b, char *out)
{
    char tmp[LIMBS * 8 + 1];
    for (int i = 0; i < LIMBS; i++)
        snprintf(tmp + 8 * i, 9, "%08" PRIx32, b->w[LIMBS - 1 - i]);
    const char *p = tmp;
    while (*p == '0' && p[1])
        p++;
    strcpy(out, p);
}

static void big_from_hex(const char *h, struct big *b)
{
    memset(b, 0, sizeof *b);
    size_t n = strlen(h);
    for (size_t i = 0; i < n && i < LIMBS * 8; i++) {
        char c = h[n - 1 - i];
        uint32_t v = (uint32_t)(isdigit((unsigned char)c) ? c - '0' : tolower(c) - 'a' + 10);
        b->w[i / 8] |= v << (4 * (i % 8));
    }
}

static int big_cmp(const struct big *a, const struct big *b)
{
    for (int i = LIMBS - 1; i >= 0; i--)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

static void big_pow2(struct big *b, int e)
{
    memset(b, 0, sizeof *b);
    b->w[e / 32] = 1u << (e % 32);
}

static uint64_t hex_field(const char *h, size_t from, size_t len)
{
    char t[20];
    if (len > 16 || from + len > strlen(h))
        return 0;
    memcpy(t, h + from, len);
    t[len] = 0;
    return strtoull(t, NULL, 16);
}

/* ---- sequence numbers ---- */

int aws_seq_parse(const char *dec, struct aws_seq *out)
{
    struct big n, p124, p129, p185, lim;
    memset(out, 0, sizeof *out);
    if (!big_from_dec(dec, &n))
        return -1;
    big_pow2(&p124, 124);
    big_pow2(&p129, 129);  /* 2^125 * 16 */
    big_pow2(&p185, 185);
    big_pow2(&lim, 184);   /* 1.5 * 2^185 = 3 * 2^184 */
    lim.w[184 / 32] *= 3;
    if (big_cmp(&n, &p124) < 0) {  /* small numbers: as if 2^124 were added */
        uint64_t carry = 0;
        for (int i = 0; i < LIMBS; i++) {
            uint64_t v = (uint64_t)n.w[i] + p124.w[i] + carry;
            n.w[i] = (uint32_t)v;
            carry = v >> 32;
        }
    }
    char h[LIMBS * 8 + 1];
    big_to_hex(&n, h);
    size_t hl = strlen(h);
    int version;
    if (big_cmp(&n, &p129) < 0)
        version = 0;
    else if (big_cmp(&n, &p185) > 0 && big_cmp(&n, &lim) < 0)
        version = (int)hex_field(h, hl - 1, 1);
    else
        return -1;
    out->version = version;
    if (version == 2) {
        if (hex_field(h, 11, 1) > 7)
            return -1;
        uint64_t created = hex_field(h, 1, 9);
        if (created >= 16025175000ull)
            return -1;
        out->shard_created_s = (int64_t)created;
        out->seq_ix = hex_field(h, 11, 16);
        out->seq_time_s = (int64_t)hex_field(h, 29, 9);
        uint64_t shard = hex_field(h, 38, 8);
        out->shard_ix = shard > 0x7fffffff ? (int64_t)shard - 0x100000000ll : (int64_t)shard;
        return 0;
    }
    if (version == 1) {
        out->shard_created_s = (int64_t)hex_field(h, 1, 9);
        out->seq_time_s = (int64_t)hex_field(h, 13, 9);
        out->seq_ix = hex_field(h, 36, 2);
        out->shard_ix = (int64_t)hex_field(h, 38, 8);
        return 0;
    }
    if (version == 0) {
        uint64_t created = hex_field(h, 1, 9);
        if (created >= 16025175000ull)
            return -1;
        out->shard_created_s = (int64_t)created;
        out->shard_ix = (int64_t)hex_field(h, 28, 4);
        return 0;
    }
    return -1;
}

void aws_seq_format(const struct aws_seq *s, char out[AWS_SEQ_MAX + 1])
{
    char h[64];
    snprintf(h, sizeof h, "2%09" PRIx64 "%01x%016" PRIx64 "00%09" PRIx64 "%08" PRIx32 "2",
             (uint64_t)(s->shard_created_s & 0xfffffffffll), (unsigned)(s->shard_ix & 15),
             (uint64_t)(s->seq_ix & 0x7fffffffffffffffull), (uint64_t)(s->seq_time_s & 0xfffffffffll),
             (uint32_t)s->shard_ix);
    struct big b;
    big_from_hex(h, &b);
    big_to_dec(&b, out, AWS_SEQ_MAX + 1);
}

/* "49" + created (12) + shard (12) + reserved (10) + counter (20) */
static bool stored_fields(const char *st, int64_t *created, int64_t *shard, uint64_t *counter)
{
    if (strlen(st) != 56 || st[0] != '4' || st[1] != '9')
        return false;
    for (int i = 0; i < 56; i++)
        if (!isdigit((unsigned char)st[i]))
            return false;
    char t[24];
    memcpy(t, st + 2, 12), t[12] = 0;
    *created = strtoll(t, NULL, 10);
    memcpy(t, st + 14, 12), t[12] = 0;
    *shard = strtoll(t, NULL, 10);
    memcpy(t, st + 36, 20), t[20] = 0;
    *counter = strtoull(t, NULL, 10);
    return true;
}

void aws_seq_from_stored(const char *stored, int64_t record_time_s, bool ending,
                         char out[AWS_SEQ_MAX + 1])
{
    int64_t created = 0, shard = 0;
    uint64_t counter = 0;
    if (!stored_fields(stored, &created, &shard, &counter)) {
        snprintf(out, AWS_SEQ_MAX + 1, "%s", stored);
        return;
    }
    struct aws_seq s = {.version = 2, .shard_created_s = created, .shard_ix = shard,
                        .seq_ix = ending ? 0x7fffffffffffffffull : counter,
                        .seq_time_s = record_time_s > 0 ? record_time_s : created};
    aws_seq_format(&s, out);
}

void aws_seq_to_stored(const struct aws_seq *s, char out[57])
{
    snprintf(out, 57, "49%012lld%012lld%010d%020llu", (long long)s->shard_created_s,
             (long long)s->shard_ix, 0, (unsigned long long)s->seq_ix);
}

int64_t stored_seq_created(const char *stored)
{
    int64_t created = 0, shard;
    uint64_t counter;
    return stored_fields(stored, &created, &shard, &counter) ? created : -1;
}

/* ---- shard ids ---- */

int aws_shard_resolve(const char *id, char out[FIN_SHARD_ID_LEN + 1])
{
    /* the part between the first and second '-' if there is one, else all of it */
    const char *dash = strchr(id, '-');
    char part[160];
    if (dash && dash[1]) {
        size_t n = strcspn(dash + 1, "-");
        snprintf(part, sizeof part, "%.*s", (int)n, dash + 1);
    } else if (dash) {
        snprintf(part, sizeof part, "%s", id);
    } else {
        snprintf(part, sizeof part, "%s", id);
    }
    if (!part[0] || strlen(part) > 12)
        return -1;
    for (const char *p = part; *p; p++)
        if (!isdigit((unsigned char)*p))
            return -1;
    long long v = strtoll(part, NULL, 10);
    if (v < 0 || v > 2147483647)
        return -1;
    snprintf(out, FIN_SHARD_ID_LEN + 1, "shardId-%012lld", v);
    return (int)v;
}

/* ---- hash keys ---- */

int dec_cmp(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    int c = strcmp(a, b);
    return c < 0 ? -1 : c > 0;
}

void dec_add(const char *a, int d, char *out, size_t cap)
{
    struct big b;
    if (!big_from_dec(a, &b)) {
        snprintf(out, cap, "%s", a);
        return;
    }
    int64_t carry = d;
    for (int i = 0; i < LIMBS && carry; i++) {
        int64_t v = (int64_t)b.w[i] + carry;
        b.w[i] = (uint32_t)v;
        carry = v >> 32;  /* arithmetic: -1 borrows */
    }
    big_to_dec(&b, out, cap);
}

bool hash_key_in_range(const char *s)
{
    return dec_cmp(s, "340282366920938463463374607431768211455") <= 0;
}
