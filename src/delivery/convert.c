/* convert.c - records to Parquet: the column schema of a buffer and the conversion.
 *
 * Columns come from the record schema (name and ts VARCHAR, prices DOUBLE, volume BIGINT)
 * with fixed types, so a record that disagrees is refused with the field and the reason;
 * other fields get a type inferred across the buffer (integers BIGINT, with reals DOUBLE,
 * booleans BOOLEAN, anything else VARCHAR). Records are checked when they enter the
 * buffer, so a flush only converts records known to be good. The check is the only scan
 * of a record: it also notes where each value sits (struct column's cells), and a flush
 * fills DuckDB's vectors a column at a time from those notes, 2048 rows per call. */
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
static inline bool same_name(const struct column *c, const char *k, size_t n)
{
    return c->name_len == n && (n == 0 || (c->name[0] == k[0] && memcmp(c->name, k, n) == 0));
}

static struct column *find_col(struct fin_delivery_engine *e, const char *k, size_t n, size_t hint)
{
    if (hint < e->n_cols && same_name(&e->cols[hint], k, n))
        return &e->cols[hint];
    for (size_t i = 0; i < e->n_cols; i++)
        if (same_name(&e->cols[i], k, n))
            return &e->cols[i];
    return NULL;
}

static struct column *add_col(struct fin_delivery_engine *e, const char *k, size_t n)
{
    if (e->n_cols == e->cap_cols) {
        struct column *nc = realloc(e->cols, (e->cap_cols + 1) * sizeof *nc);
        if (!nc)
            return NULL;
        e->cols = nc;
        memset(&nc[e->cap_cols++], 0, sizeof *nc);
    }
    /* a slot of an earlier buffer keeps its cells: no new pages for the next one */
    struct column *c = &e->cols[e->n_cols];
    uint16_t *cell = c->cell;
    uint8_t *ty = c->cell_type;
    size_t cap = c->cell_cap;
    memset(c, 0, sizeof *c);
    c->cell = cell;
    c->cell_type = ty;
    c->cell_cap = cap;
    if (cap)
        memset(ty, CELL_ABSENT, cap);
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

/* Makes room for record index ri in every column's cells; new slots are absent. */
static int cells_reserve(struct column *c, size_t ri)
{
    if (ri < c->cell_cap)
        return 0;
    size_t nc = c->cell_cap ? c->cell_cap : 4096;
    while (nc <= ri)
        nc *= 2;
    uint16_t *cell = realloc(c->cell, nc * sizeof *cell);
    if (!cell)
        return FIN_ENOMEM;
    c->cell = cell;
    uint8_t *ty = realloc(c->cell_type, nc);
    if (!ty)
        return FIN_ENOMEM;
    memset(ty + c->cell_cap, CELL_ABSENT, nc - c->cell_cap);
    c->cell_type = ty;
    c->cell_cap = nc;
    return 0;
}

void convert_reset(struct fin_delivery_engine *e)
{
    for (size_t i = 0; i < e->n_cols; i++) {
        free(e->cols[i].name);
        e->cols[i].name = NULL;
    }
    e->n_cols = 0;
    e->n_wide = 0;
}

void convert_free(struct fin_delivery_engine *e)
{
    convert_reset(e);
    for (size_t i = 0; i < e->cap_cols; i++) {
        free(e->cols[i].cell);
        free(e->cols[i].cell_type);
    }
    free(e->cols);
    free(e->wide);
    e->cols = NULL;
    e->wide = NULL;
    e->cap_cols = e->cap_wide = 0;
}

/* The length of the value at v (as noted at intake: strings without their quotes). */
static size_t value_len(const char *v, uint8_t ty)
{
    const char *p = v;
    switch (CELL_TYPE(ty)) {
    case J_STRING:
        for (;;) {
            p += strcspn(p, "\"\\");
            if (*p != '\\')
                return (size_t)(p - v);
            p += 2;   /* an escape: the backslash and what it escapes */
        }
    case J_TRUE: return 4;
    case J_FALSE: return 5;
    case J_NULL: return 4;
    case J_OBJECT:
    case J_ARRAY: {
        int depth = 0;
        for (;; p++) {
            if (*p == '"') {
                for (p++; *p != '"'; p++)
                    if (*p == '\\')
                        p++;
            } else if (*p == '{' || *p == '[') {
                depth++;
            } else if ((*p == '}' || *p == ']') && --depth == 0) {
                return (size_t)(p + 1 - v);
            }
        }
    }
    default:   /* a number */
        while ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == '.' || *p == 'e' ||
               *p == 'E')
            p++;
        return (size_t)(p - v);
    }
}

/* Where the value of column ci in record ri sits in the record (base, its first byte). */
static inline void cell_at(const struct fin_delivery_engine *e, size_t ci, size_t ri,
                           const char *base, size_t *off, size_t *len)
{
    const struct column *c = &e->cols[ci];
    uint8_t ty = c->cell_type[ri];
    if (!(ty & CELL_WIDE)) {
        *off = c->cell[ri];
        *len = value_len(base + *off, ty);
        return;
    }
    size_t lo = 0, hi = e->n_wide;
    while (lo < hi) {   /* the first entry of record ri */
        size_t mid = (lo + hi) / 2;
        if (e->wide[mid].ri < ri)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < e->n_wide && e->wide[lo].ri == ri; lo++)
        if (e->wide[lo].col == ci) {
            *off = e->wide[lo].off;
            *len = e->wide[lo].len;
            return;
        }
    *off = *len = 0;   /* not reached: intake noted every wide cell */
}

const char *convert_check(struct fin_delivery_engine *e, const char *rec, const struct jfield *f,
                          size_t nf)
{
    char keybuf[256];
    long idx[JSCAN_MAX_FIELDS];   /* column of each field, -1 when new (indexes survive add_col) */
    bool widen = false;           /* a field is new or not of the record schema */
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
        if (!c || !c->known) {
            widen = true;
            continue;
        }
        if (t == J_NULL)
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
    /* The record is good: new fields become columns, and their inferred types widen
     * (nothing to do when every field is of the record schema, the usual case). */
    for (size_t i = 0; widen && i < nf; i++) {
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
    /* Where the values sit, for the flush. Columns are all known now. */
    size_t ri = e->n_recs;
    for (size_t i = 0; i < e->n_cols; i++) {
        if (cells_reserve(&e->cols[i], ri))
            return "out of memory";
        e->cols[i].cell_type[ri] = CELL_ABSENT;
    }
    for (size_t i = 0; i < nf; i++) {
        struct column *c = idx[i] >= 0 ? &e->cols[idx[i]] : NULL;
        if (!c) {
            const char *k = f[i].key;
            size_t kl = f[i].key_len;
            if (f[i].key_escaped) {
                jscan_unescape(f[i].key, f[i].key_len, keybuf, sizeof keybuf, &kl);
                k = keybuf;
            }
            if (!(c = find_col(e, k, kl, i)))
                continue;
        }
        if (f[i].type == J_NULL)
            continue;   /* a later duplicate null leaves an earlier value, as before */
        size_t off = (size_t)(f[i].val - rec), vl = f[i].val_len;
        uint8_t ty = (uint8_t)(f[i].type | (f[i].val_escaped ? CELL_ESCAPED : 0));
        if (off < 65536) {
            c->cell[ri] = (uint16_t)off;
        } else {
            if (e->n_wide == e->cap_wide) {
                size_t nc = e->cap_wide ? e->cap_wide * 2 : 64;
                struct wide_cell *w = realloc(e->wide, nc * sizeof *w);
                if (!w)
                    return "out of memory";
                e->wide = w;
                e->cap_wide = nc;
            }
            e->wide[e->n_wide++] = (struct wide_cell){(uint32_t)ri, (uint32_t)(c - e->cols),
                                                      (uint32_t)off, (uint32_t)vl};
            ty |= CELL_WIDE;
        }
        c->cell_type[ri] = ty;
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

struct chunk_cursor {
    struct fin_delivery_engine *e;
    const struct part *p;
    size_t next;
    const char **base;        /* per row of the chunk, the record's first byte */
    const enum fin_parquet_type *types;
};

/* Fills the next chunk of the partition, a column at a time, from the values noted at
 * intake: numbers parsed straight into the vectors, strings copied once by DuckDB. */
static long next_chunk(void *ctx, struct fin_parquet_writer *w, size_t cap)
{
    struct chunk_cursor *cc = ctx;
    struct fin_delivery_engine *e = cc->e;
    size_t n = cc->p->n - cc->next < cap ? cc->p->n - cc->next : cap;
    const uint32_t *idx = cc->p->idx + cc->next;
    for (size_t r = 0; r < n; r++) {
        const struct rec *rec = &e->recs[idx[r]];
        cc->base[r] = e->pos[rec->shard].data.data + rec->off;
    }
    for (size_t ci = 0; ci < e->n_cols; ci++) {
        const struct column *c = &e->cols[ci];
        const uint8_t *ty = c->cell_type;
        size_t off, vl;
        switch (cc->types[ci]) {
        case FIN_PQ_DOUBLE: {
            double *out = fin_parquet_doubles(w, ci);
            for (size_t r = 0; r < n; r++) {
                uint32_t ri = idx[r];
                if (ty[ri] == CELL_ABSENT) {
                    fin_parquet_set_null(w, ci, r);
                    continue;
                }
                cell_at(e, ci, ri, cc->base[r], &off, &vl);
                out[r] = parse_double(cc->base[r] + off, vl);
            }
            break;
        }
        case FIN_PQ_BIGINT: {
            int64_t *out = fin_parquet_bigints(w, ci);
            for (size_t r = 0; r < n; r++) {
                uint32_t ri = idx[r];
                if (ty[ri] == CELL_ABSENT) {
                    fin_parquet_set_null(w, ci, r);
                    continue;
                }
                cell_at(e, ci, ri, cc->base[r], &off, &vl);
                out[r] = parse_int(cc->base[r] + off, vl);
            }
            break;
        }
        case FIN_PQ_BOOLEAN: {
            bool *out = fin_parquet_bools(w, ci);
            for (size_t r = 0; r < n; r++) {
                uint32_t ri = idx[r];
                if (ty[ri] == CELL_ABSENT)
                    fin_parquet_set_null(w, ci, r);
                else
                    out[r] = CELL_TYPE(ty[ri]) == J_TRUE;
            }
            break;
        }
        case FIN_PQ_VARCHAR:
            for (size_t r = 0; r < n; r++) {
                uint32_t ri = idx[r];
                if (ty[ri] == CELL_ABSENT) {
                    fin_parquet_set_null(w, ci, r);
                    continue;
                }
                cell_at(e, ci, ri, cc->base[r], &off, &vl);
                const char *v = cc->base[r] + off;
                /* an escaped string is decoded; other values go as their text */
                if ((ty[ri] & ~CELL_WIDE) == (J_STRING | CELL_ESCAPED)) {
                    size_t ul;
                    fin_buf_reset(&e->scratch);
                    if (fin_buf_reserve(&e->scratch, vl + 1) ||
                        jscan_unescape(v, vl, e->scratch.data, vl + 1, &ul) != 0)
                        return FIN_ENOMEM;
                    fin_parquet_set_varchar(w, ci, r, e->scratch.data, ul);
                } else {
                    fin_parquet_set_varchar(w, ci, r, v, vl);
                }
            }
            break;
        }
    }
    cc->next += n;
    return (long)n;
}

int convert_write_parquet(struct fin_delivery_engine *e, struct part *p, const char *key,
                          uint64_t *bytes)
{
    int rc = 0;
    char *pq_tmp = engine_tmp_path(e, ".parquet");
    struct fin_parquet_column *cols = calloc(e->n_cols ? e->n_cols : 1, sizeof *cols);
    enum fin_parquet_type *types = calloc(e->n_cols ? e->n_cols : 1, sizeof *types);
    const char **base = malloc(FIN_PARQUET_CHUNK_MAX * sizeof *base);
    if (!pq_tmp || !cols || !types || !base) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    if (!e->pq && (rc = fin_parquet_writer_create(&e->pq, 1)))
        goto fail;
    for (size_t i = 0; i < e->n_cols; i++) {
        cols[i].name = e->cols[i].name;
        cols[i].type = types[i] = col_type(&e->cols[i]);
    }
    int64_t t0 = fin_mono_ns(fin_clock_real());
    struct chunk_cursor cur = {e, p, 0, base, types};
    uint64_t rows = 0;
    if ((rc = fin_parquet_write_chunks(e->pq, cols, e->n_cols, pq_tmp, next_chunk, &cur, &rows)))
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
    free(types);
    free(base);
    return rc;
}

