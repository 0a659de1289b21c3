/* convert.c - records to Parquet: the column schema of a buffer and the conversion.
 *
 * Columns come from the record schema (name and ts VARCHAR, prices DOUBLE, volume BIGINT)
 * with fixed types, so a record that disagrees is refused with the field and the reason;
 * other fields get a type inferred across the buffer (integers BIGINT, with reals DOUBLE,
 * booleans BOOLEAN, anything else VARCHAR). Records are checked when they enter the
 * buffer, so a flush only converts records known to be good: the Parquet writer pulls
 * them one by one and they go straight into DuckDB's vectors. */
#include "engine.h"
#include "finstream/clock.h"
#include "finstream/error.h"
#include "finstream/log.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the record schema for Parquet ---- */

static const struct { const char *name; enum fin_parquet_type type; } record_schema[] = {
    {"name", FIN_PQ_VARCHAR}, {"ts", FIN_PQ_VARCHAR}, {"open", FIN_PQ_DOUBLE},
    {"high", FIN_PQ_DOUBLE}, {"low", FIN_PQ_DOUBLE}, {"close", FIN_PQ_DOUBLE},
    {"volume", FIN_PQ_BIGINT},
};

/* Records of one stream mostly have their fields in one order: try the field's own
 * position first. */
static struct column *find_col(struct fin_delivery_engine *e, const char *k, size_t n, size_t hint)
{
    if (hint < e->n_cols && e->cols[hint].name_len == n && memcmp(e->cols[hint].name, k, n) == 0)
        return &e->cols[hint];
    for (size_t i = 0; i < e->n_cols; i++)
        if (e->cols[i].name_len == n && memcmp(e->cols[i].name, k, n) == 0)
            return &e->cols[i];
    return NULL;
}

static struct column *add_col(struct fin_delivery_engine *e, const char *k, size_t n)
{
    struct column *nc = realloc(e->cols, (e->n_cols + 1) * sizeof *nc);
    if (!nc)
        return NULL;
    e->cols = nc;
    struct column *c = &nc[e->n_cols];
    memset(c, 0, sizeof *c);
    if (!(c->name = strndup(k, n)))
        return NULL;
    c->name_len = n;
    for (size_t i = 0; i < sizeof record_schema / sizeof record_schema[0]; i++)
        if (strcmp(record_schema[i].name, c->name) == 0) {
            c->known = true;
            c->type = record_schema[i].type;
        }
    e->n_cols++;
    return c;
}

static bool int64_fits(const char *s, size_t n)
{
    bool neg = n && s[0] == '-';
    const char *d = s + neg;
    size_t nd = n - neg;
    if (nd < 19)
        return true;
    if (nd > 19)
        return false;
    return memcmp(d, neg ? "9223372036854775808" : "9223372036854775807", 19) <= 0;
}

const char *convert_check(struct fin_delivery_engine *e, const struct jfield *f, size_t nf)
{
    char keybuf[256];
    long idx[JSCAN_MAX_FIELDS];   /* column of each field, -1 when new (indexes survive add_col) */
    for (size_t i = 0; i < nf; i++) {
        const char *k = f[i].key;
        size_t kl = f[i].key_len;
        if (f[i].key_escaped) {
            if (jscan_unescape(f[i].key, f[i].key_len, keybuf, sizeof keybuf, &kl) != 0)
                return "a field name is longer than 255 bytes";
            k = keybuf;
        }
        struct column *c = find_col(e, k, kl, i);
        idx[i] = c ? c - e->cols : -1;
        enum jtype t = f[i].type;
        if (!c || !c->known || t == J_NULL)
            continue;
        bool ok = c->type == FIN_PQ_VARCHAR ? t == J_STRING
                : c->type == FIN_PQ_DOUBLE  ? (t == J_INT || t == J_REAL)
                : c->type == FIN_PQ_BIGINT  ? (t == J_INT && int64_fits(f[i].val, f[i].val_len))
                : (t == J_TRUE || t == J_FALSE);
        if (!ok) {
            fin_buf_reset(&e->scratch);
            fin_buf_printf(&e->scratch, "field '%s' is %s, expected %s", c->name,
                           t == J_INT && c->type == FIN_PQ_BIGINT ? "an integer out of range"
                                                                  : jtype_name(t),
                           c->type == FIN_PQ_VARCHAR  ? "a string"
                           : c->type == FIN_PQ_DOUBLE ? "a number"
                           : c->type == FIN_PQ_BIGINT ? "an integer" : "true or false");
            return fin_buf_cstr(&e->scratch) ? e->scratch.data : "wrong type";
        }
    }
    /* The record is good: new fields become columns, and their inferred types widen. */
    for (size_t i = 0; i < nf; i++) {
        enum jtype t = f[i].type;
        if (idx[i] >= 0 && (e->cols[idx[i]].known || t == J_NULL))
            continue;
        struct column *c;
        if (idx[i] >= 0) {
            c = &e->cols[idx[i]];
        } else {
            const char *k = f[i].key;
            size_t kl = f[i].key_len;
            if (f[i].key_escaped) {
                jscan_unescape(f[i].key, f[i].key_len, keybuf, sizeof keybuf, &kl);
                k = keybuf;
            }
            /* the same new name may come twice in one record */
            if (!(c = find_col(e, k, kl, i)) && !(c = add_col(e, k, kl)))
                return "out of memory";
            if (c->known || t == J_NULL)
                continue;
        }
        enum col_kind k2 = t == J_TRUE || t == J_FALSE ? C_BOOL
                         : t == J_INT ? (int64_fits(f[i].val, f[i].val_len) ? C_INT : C_REAL)
                         : t == J_REAL ? C_REAL : C_STRING;
        if (c->kind == C_UNSEEN)
            c->kind = k2;
        else if (c->kind != k2) {
            bool nums = (c->kind == C_INT || c->kind == C_REAL) && (k2 == C_INT || k2 == C_REAL);
            c->kind = nums ? C_REAL : C_STRING;
        }
    }
    return NULL;
}

/* Numbers as records carry them ("101.75", "1183420") without strtod: a mantissa of at
 * most 15 digits and a power of ten up to 22 are exact doubles, and one IEEE division of
 * exact values rounds correctly. Anything else goes to strtod. */
static double parse_double(const char *s, size_t n)
{
    static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t i = 0;
    bool neg = n && s[0] == '-';
    i += neg;
    uint64_t m = 0;
    int digits = 0, frac = 0;
    bool dot = false;
    for (; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            m = m * 10 + (uint64_t)(c - '0');
            if (m || dot)
                digits++;
            frac += dot;
        } else if (c == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (i == n && digits <= 15 && frac <= 22) {
        double v = (double)m / p10[frac];
        return neg ? -v : v;
    }
    char tmp[64];
    if (n < sizeof tmp) {
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        return strtod(tmp, NULL);
    }
    char *big = strndup(s, n);
    double v = big ? strtod(big, NULL) : 0;
    free(big);
    return v;
}

static int64_t parse_int(const char *s, size_t n)
{
    bool neg = n && s[0] == '-';
    uint64_t m = 0;
    for (size_t i = neg; i < n; i++)
        m = m * 10 + (uint64_t)(s[i] - '0');
    return neg ? (int64_t)(0 - m) : (int64_t)m;
}

static enum fin_parquet_type col_type(const struct column *c)
{
    if (c->known)
        return c->type;
    return c->kind == C_BOOL ? FIN_PQ_BOOLEAN : c->kind == C_INT ? FIN_PQ_BIGINT
         : c->kind == C_REAL ? FIN_PQ_DOUBLE : FIN_PQ_VARCHAR;
}

/* One row from a record that passed check_types at intake. */
static int put_row(struct fin_delivery_engine *e, const char *rec, size_t len)
{
    struct jfield f[JSCAN_MAX_FIELDS];
    size_t nf;
    const char *why;
    char keybuf[256];
    if (jscan_object(rec, len, f, JSCAN_MAX_FIELDS, &nf, &why) != 0)
        return fin_err_set(FIN_EINVAL, "parquet: a checked record no longer scans: %s", why);
    for (size_t i = 0; i < nf; i++) {
        const char *k = f[i].key;
        size_t kl = f[i].key_len;
        if (f[i].key_escaped) {
            if (jscan_unescape(f[i].key, f[i].key_len, keybuf, sizeof keybuf, &kl) != 0)
                continue;
            k = keybuf;
        }
        struct column *c = find_col(e, k, kl, i);
        if (!c || f[i].type == J_NULL)
            continue;
        size_t ci = (size_t)(c - e->cols);
        const char *v = f[i].val;
        size_t vl = f[i].val_len;
        switch (col_type(c)) {
        case FIN_PQ_DOUBLE:
            fin_parquet_put_double(e->pq, ci, parse_double(v, vl));
            break;
        case FIN_PQ_BIGINT:
            fin_parquet_put_bigint(e->pq, ci, parse_int(v, vl));
            break;
        case FIN_PQ_BOOLEAN:
            fin_parquet_put_bool(e->pq, ci, f[i].type == J_TRUE);
            break;
        case FIN_PQ_VARCHAR:
            if (f[i].type == J_STRING && f[i].val_escaped) {
                fin_buf_reset(&e->scratch);
                size_t ul;
                if (fin_buf_reserve(&e->scratch, vl + 1) ||
                    jscan_unescape(v, vl, e->scratch.data, vl + 1, &ul) != 0)
                    return FIN_ENOMEM;
                fin_parquet_put_varchar(e->pq, ci, e->scratch.data, ul);
            } else {
                fin_parquet_put_varchar(e->pq, ci, v, vl);
            }
            break;
        }
    }
    fin_parquet_end_row(e->pq);
    return 0;
}

struct row_cursor {
    struct fin_delivery_engine *e;
    const struct part *p;
    size_t next;
};

/* The Parquet writer pulls the partition's records one by one, in object order. */
static int next_row(void *ctx, struct fin_parquet_writer *w)
{
    (void)w;
    struct row_cursor *c = ctx;
    if (c->next >= c->p->n)
        return 0;
    const struct rec *r = &c->e->recs[c->p->idx[c->next++]];
    int rc = put_row(c->e, c->e->pos[r->shard].data.data + r->off, r->len - 1);
    return rc ? rc : 1;
}

int convert_write_parquet(struct fin_delivery_engine *e, struct part *p, const char *key,
                          uint64_t *bytes)
{
    int rc = 0;
    char *pq_tmp = fin_sink_local_tmp_path(e->sink, ".parquet");
    struct fin_parquet_column *cols = calloc(e->n_cols ? e->n_cols : 1, sizeof *cols);
    if (!pq_tmp || !cols) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    if (!e->pq && (rc = fin_parquet_writer_create(&e->pq, 0)))
        goto fail;
    for (size_t i = 0; i < e->n_cols; i++) {
        cols[i].name = e->cols[i].name;
        cols[i].type = col_type(&e->cols[i]);
    }
    int64_t t0 = fin_mono_ns(fin_clock_real());
    struct row_cursor cur = {e, p, 0};
    uint64_t rows = 0;
    if ((rc = fin_parquet_write_rows(e->pq, cols, e->n_cols, pq_tmp, next_row, &cur, &rows)))
        goto fail;
    fin_debug("delivery %s: %zu rows converted and written in %.3f s", e->name, p->n,
              (double)(fin_mono_ns(fin_clock_real()) - t0) / 1e9);
    if (rows != p->n) {
        rc = fin_err_set(FIN_EIO, "parquet: %s: wrote %llu rows of %zu", key,
                         (unsigned long long)rows, p->n);
        goto fail;
    }
    if ((rc = fin_fsync_path(pq_tmp)))
        goto fail;
    struct stat sb;
    *bytes = stat(pq_tmp, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    rc = e->sink->ops->put_file(e->sink, key, pq_tmp);
fail:
    if (rc && pq_tmp)
        unlink(pq_tmp);
    free(pq_tmp);
    free(cols);
    return rc;
}

