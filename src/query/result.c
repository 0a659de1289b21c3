/* result.c - query results: copied out of DuckDB into Athena's text forms, printed as a
 * table, CSV or JSON, and saved as Athena saves them (results/<id>.csv + metadata).
 *
 * Values are rendered once, when the result is materialised, in the form Athena's CSV
 * uses, so that every consumer (terminal, CSV, report) shows the same digits: doubles in
 * the shortest form that reads back to the same value, Java style ("141.0", "1.0E7"),
 * timestamps with milliseconds. */
#include "query_int.h"
#include "finstream/buf.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

const char *fin_type_name(enum fin_type t)
{
    switch (t) {
    case FIN_TYPE_VARCHAR: return "varchar";
    case FIN_TYPE_BOOLEAN: return "boolean";
    case FIN_TYPE_BIGINT: return "bigint";
    case FIN_TYPE_DOUBLE: return "double";
    case FIN_TYPE_DECIMAL: return "decimal";
    case FIN_TYPE_DATE: return "date";
    case FIN_TYPE_TIMESTAMP: return "timestamp";
    case FIN_TYPE_TIMESTAMPTZ: return "timestamp with time zone";
    default: return "varchar";
    }
}

/* ---- numbers ---- */

/* digits (no dot) and decimal exponent x of v = d.ddd * 10^x, shortest round trip */
static void shortest(double v, bool is_float, char *digits, int *x)
{
    char buf[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, v);
        if (is_float ? (float)strtod(buf, NULL) == (float)v : strtod(buf, NULL) == v)
            break;
    }
    /* buf is d[.ddd]e[+-]xx */
    int n = 0;
    char *p = buf;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    *x = atoi(p + 1);
}

static void format_java(double v, bool is_float, char *out, size_t size)
{
    if (isnan(v)) {
        snprintf(out, size, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, size, "%sInfinity", v < 0 ? "-" : "");
        return;
    }
    const char *sign = signbit(v) ? "-" : "";
    if (v == 0) {
        snprintf(out, size, "%s0.0", sign);
        return;
    }
    char d[32];
    int x;
    shortest(fabs(v), is_float, d, &x);
    int n = (int)strlen(d);
    double a = fabs(v);
    struct fin_buf b;
    fin_buf_init(&b);
    fin_buf_puts(&b, sign);
    if (a >= 1e-3 && a < 1e7) {
        if (x >= 0) {
            for (int i = 0; i <= x; i++)
                fin_buf_append(&b, i < n ? &d[i] : "0", 1);
            fin_buf_puts(&b, ".");
            if (n > x + 1)
                fin_buf_puts(&b, d + x + 1);
            else
                fin_buf_puts(&b, "0");
        } else {
            fin_buf_puts(&b, "0.");
            for (int i = 0; i < -x - 1; i++)
                fin_buf_puts(&b, "0");
            fin_buf_puts(&b, d);
        }
    } else {
        fin_buf_append(&b, d, 1);
        fin_buf_puts(&b, ".");
        fin_buf_puts(&b, n > 1 ? d + 1 : "0");
        fin_buf_printf(&b, "E%d", x);
    }
    snprintf(out, size, "%s", b.data ? fin_buf_cstr(&b) : "");
    fin_buf_fini(&b);
}

void fin_query__format_double(double v, char *out, size_t size) { format_java(v, false, out, size); }
void fin_query__format_float(float v, char *out, size_t size) { format_java(v, true, out, size); }

static void format_decimal(char *out, size_t size, __int128 v, uint8_t scale)
{
    char digits[64];
    bool neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-v) : (unsigned __int128)v;
    int n = 0;
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    while (n <= scale)
        digits[n++] = '0';
    size_t j = 0;
    if (neg && j + 1 < size)
        out[j++] = '-';
    for (int i = n - 1; i >= 0 && j + 2 < size; i--) {
        out[j++] = digits[i];
        if (i == scale && scale > 0)
            out[j++] = '.';
    }
    out[j] = '\0';
}

/* ---- materialising ---- */

static enum fin_type map_type(duckdb_type t)
{
    switch (t) {
    case DUCKDB_TYPE_VARCHAR: return FIN_TYPE_VARCHAR;
    case DUCKDB_TYPE_BOOLEAN: return FIN_TYPE_BOOLEAN;
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT: return FIN_TYPE_BIGINT;
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE: return FIN_TYPE_DOUBLE;
    case DUCKDB_TYPE_DECIMAL: return FIN_TYPE_DECIMAL;
    case DUCKDB_TYPE_DATE: return FIN_TYPE_DATE;
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS: return FIN_TYPE_TIMESTAMP;
    case DUCKDB_TYPE_TIMESTAMP_TZ: return FIN_TYPE_TIMESTAMPTZ;
    default: return FIN_TYPE_OTHER;
    }
}

static void format_ts(char *out, size_t size, int64_t micros, bool tz)
{
    int64_t secs = micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000);
    int64_t frac = micros - secs * 1000000;
    time_t tt = (time_t)secs;
    struct tm tm;
    gmtime_r(&tt, &tm);
    snprintf(out, size, "%04d-%02d-%02d %02d:%02d:%02d.%03d%s", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(frac / 1000), tz ? " UTC" : "");
}

/* One cell into text + number. row is the global row (for the fallback accessor). */
static int cell(duckdb_result *res, duckdb_vector vec, duckdb_logical_type lt, duckdb_type t,
                idx_t i, idx_t col, idx_t row, char **text, double *num)
{
    char buf[128];
    const void *data = duckdb_vector_get_data(vec);
    *num = NAN;
    switch (t) {
    case DUCKDB_TYPE_BOOLEAN: {
        bool v = ((const bool *)data)[i];
        *num = v;
        snprintf(buf, sizeof buf, "%s", v ? "true" : "false");
        break;
    }
#define INT_CASE(T, CT, FMT)                                  \
    case T: {                                                 \
        CT v = ((const CT *)data)[i];                         \
        *num = (double)v;                                     \
        snprintf(buf, sizeof buf, "%" FMT, v);                \
        break;                                                \
    }
        INT_CASE(DUCKDB_TYPE_TINYINT, int8_t, PRId8)
        INT_CASE(DUCKDB_TYPE_SMALLINT, int16_t, PRId16)
        INT_CASE(DUCKDB_TYPE_INTEGER, int32_t, PRId32)
        INT_CASE(DUCKDB_TYPE_BIGINT, int64_t, PRId64)
        INT_CASE(DUCKDB_TYPE_UTINYINT, uint8_t, PRIu8)
        INT_CASE(DUCKDB_TYPE_USMALLINT, uint16_t, PRIu16)
        INT_CASE(DUCKDB_TYPE_UINTEGER, uint32_t, PRIu32)
        INT_CASE(DUCKDB_TYPE_UBIGINT, uint64_t, PRIu64)
#undef INT_CASE
    case DUCKDB_TYPE_HUGEINT: {
        duckdb_hugeint h = ((const duckdb_hugeint *)data)[i];
        __int128 v = ((__int128)h.upper << 64) | (__int128)h.lower;
        *num = (double)v;
        format_decimal(buf, sizeof buf, v, 0);
        break;
    }
    case DUCKDB_TYPE_FLOAT: {
        float v = ((const float *)data)[i];
        *num = v;
        fin_query__format_float(v, buf, sizeof buf);
        break;
    }
    case DUCKDB_TYPE_DOUBLE: {
        double v = ((const double *)data)[i];
        *num = v;
        fin_query__format_double(v, buf, sizeof buf);
        break;
    }
    case DUCKDB_TYPE_DECIMAL: {
        uint8_t scale = duckdb_decimal_scale(lt);
        __int128 v;
        switch (duckdb_decimal_internal_type(lt)) {
        case DUCKDB_TYPE_SMALLINT: v = ((const int16_t *)data)[i]; break;
        case DUCKDB_TYPE_INTEGER: v = ((const int32_t *)data)[i]; break;
        case DUCKDB_TYPE_BIGINT: v = ((const int64_t *)data)[i]; break;
        default: {
            duckdb_hugeint h = ((const duckdb_hugeint *)data)[i];
            v = ((__int128)h.upper << 64) | (__int128)h.lower;
        }
        }
        *num = (double)v / pow(10, scale);
        format_decimal(buf, sizeof buf, v, scale);
        break;
    }
    case DUCKDB_TYPE_VARCHAR: {
        duckdb_string_t s = ((duckdb_string_t *)data)[i];
        uint32_t len = duckdb_string_t_length(s);
        const char *p = duckdb_string_t_data(&s);
        *text = malloc(len + 1);
        if (!*text)
            return FIN_ENOMEM;
        memcpy(*text, p, len);
        (*text)[len] = '\0';
        char *end;
        double d = strtod(*text, &end);
        if (end != *text && !*end)
            *num = d;
        return 0;
    }
    case DUCKDB_TYPE_DATE: {
        duckdb_date_struct ds = duckdb_from_date(((const duckdb_date *)data)[i]);
        snprintf(buf, sizeof buf, "%04d-%02d-%02d", ds.year, ds.month, ds.day);
        *num = (double)((const duckdb_date *)data)[i].days * 86400.0;
        break;
    }
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS: {
        int64_t v = ((const int64_t *)data)[i];
        if (t == DUCKDB_TYPE_TIMESTAMP_S)
            v *= 1000000;
        else if (t == DUCKDB_TYPE_TIMESTAMP_MS)
            v *= 1000;
        else if (t == DUCKDB_TYPE_TIMESTAMP_NS)
            v /= 1000;
        *num = (double)v / 1e6;
        format_ts(buf, sizeof buf, v, t == DUCKDB_TYPE_TIMESTAMP_TZ);
        break;
    }
    default: {
        /* lists, structs, intervals...: DuckDB's own text form */
        char *v = duckdb_value_varchar(res, col, row);
        *text = strdup(v ? v : "");
        duckdb_free(v);
        return *text ? 0 : FIN_ENOMEM;
    }
    }
    *text = strdup(buf);
    return *text ? 0 : FIN_ENOMEM;
}

int fin_result__from_duckdb(duckdb_result *res, struct fin_result **out)
{
    struct fin_result *r = calloc(1, sizeof *r);
    duckdb_logical_type *lts = NULL;
    duckdb_type *types = NULL;
    int rc = FIN_ENOMEM;
    if (!r)
        return FIN_ENOMEM;
    r->ncols = duckdb_column_count(res);
    r->cols = calloc(r->ncols ? r->ncols : 1, sizeof *r->cols);
    lts = calloc(r->ncols ? r->ncols : 1, sizeof *lts);
    types = calloc(r->ncols ? r->ncols : 1, sizeof *types);
    if (!r->cols || !lts || !types)
        goto fail;
    for (size_t c = 0; c < r->ncols; c++) {
        lts[c] = duckdb_column_logical_type(res, c);
        types[c] = duckdb_get_type_id(lts[c]);
        r->cols[c].type = map_type(types[c]);
        if (!(r->cols[c].name = strdup(duckdb_column_name(res, c))))
            goto fail;
    }
    idx_t nchunks = duckdb_result_chunk_count(*res);
    idx_t row = 0;
    for (idx_t k = 0; k < nchunks; k++) {
        duckdb_data_chunk chunk = duckdb_result_get_chunk(*res, k);
        idx_t n = duckdb_data_chunk_get_size(chunk);
        size_t need = (r->nrows + n) * r->ncols;
        if (need > r->cap) {
            size_t cap = r->cap ? r->cap : 1024;
            while (cap < need)
                cap *= 2;
            char **tv = realloc(r->text, cap * sizeof *tv);
            if (tv)
                r->text = tv;
            double *nv = tv ? realloc(r->num, cap * sizeof *nv) : NULL;
            if (nv)
                r->num = nv;
            if (!tv || !nv) {
                duckdb_destroy_data_chunk(&chunk);
                goto fail;
            }
            r->cap = cap;
        }
        for (size_t c = 0; c < r->ncols; c++) {
            duckdb_vector vec = duckdb_data_chunk_get_vector(chunk, c);
            uint64_t *valid = duckdb_vector_get_validity(vec);
            for (idx_t i = 0; i < n; i++) {
                size_t at = (r->nrows + i) * r->ncols + c;
                r->text[at] = NULL;
                r->num[at] = NAN;
                if (valid && !duckdb_validity_row_is_valid(valid, i))
                    continue;
                if ((rc = cell(res, vec, lts[c], types[c], i, c, row + i, &r->text[at], &r->num[at]))) {
                    /* cells of this chunk not reached yet hold garbage: clear them */
                    for (idx_t j = i + 1; j < n; j++)
                        r->text[(r->nrows + j) * r->ncols + c] = NULL;
                    for (size_t c2 = c + 1; c2 < r->ncols; c2++)
                        for (idx_t j = 0; j < n; j++)
                            r->text[(r->nrows + j) * r->ncols + c2] = NULL;
                    r->nrows += n;
                    duckdb_destroy_data_chunk(&chunk);
                    goto fail;
                }
            }
        }
        r->nrows += n;
        row += n;
        duckdb_destroy_data_chunk(&chunk);
    }
    rc = 0;
    *out = r;
    r = NULL;
fail:
    for (size_t c = 0; lts && c < (r ? r->ncols : duckdb_column_count(res)); c++)
        duckdb_destroy_logical_type(&lts[c]);
    free(lts);
    free(types);
    fin_result_destroy(r);
    return rc;
}

void fin_result_destroy(struct fin_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->text && i < r->nrows * r->ncols; i++)
        free(r->text[i]);
    free(r->text);
    free(r->num);
    for (size_t c = 0; r->cols && c < r->ncols; c++)
        free(r->cols[c].name);
    free(r->cols);
    free(r);
}

/* ---- accessors ---- */

size_t fin_result_rows(const struct fin_result *r) { return r->nrows; }
size_t fin_result_columns(const struct fin_result *r) { return r->ncols; }
const char *fin_result_column_name(const struct fin_result *r, size_t col)
{
    return col < r->ncols ? r->cols[col].name : NULL;
}
enum fin_type fin_result_column_type(const struct fin_result *r, size_t col)
{
    return col < r->ncols ? r->cols[col].type : FIN_TYPE_OTHER;
}
int fin_result_column_index(const struct fin_result *r, const char *name)
{
    for (size_t c = 0; c < r->ncols; c++)
        if (strcasecmp(r->cols[c].name, name) == 0)
            return (int)c;
    return -1;
}
bool fin_result_is_null(const struct fin_result *r, size_t row, size_t col)
{
    return row >= r->nrows || col >= r->ncols || !r->text[row * r->ncols + col];
}
const char *fin_result_text(const struct fin_result *r, size_t row, size_t col)
{
    if (fin_result_is_null(r, row, col))
        return "";
    return r->text[row * r->ncols + col];
}
double fin_result_double(const struct fin_result *r, size_t row, size_t col)
{
    if (row >= r->nrows || col >= r->ncols)
        return NAN;
    return r->num[row * r->ncols + col];
}
uint64_t fin_result_bytes_scanned(const struct fin_result *r) { return r->bytes_scanned; }
double fin_result_seconds(const struct fin_result *r) { return r->seconds; }

/* ---- output ---- */

static int csv_field(struct fin_buf *b, const char *s)
{
    int rc = fin_buf_puts(b, "\"");
    for (const char *p = s; !rc && *p; p++)
        rc = *p == '"' ? fin_buf_puts(b, "\"\"") : fin_buf_append(b, p, 1);
    return rc ? rc : fin_buf_puts(b, "\"");
}

int fin_result_to_csv(const struct fin_result *r, char **csv, size_t *len)
{
    struct fin_buf b;
    fin_buf_init(&b);
    int rc = 0;
    for (size_t c = 0; !rc && c < r->ncols; c++)
        rc = (c ? fin_buf_puts(&b, ",") : 0) || csv_field(&b, r->cols[c].name);
    rc = rc || fin_buf_puts(&b, "\n");
    for (size_t i = 0; !rc && i < r->nrows; i++) {
        for (size_t c = 0; !rc && c < r->ncols; c++) {
            rc = c ? fin_buf_puts(&b, ",") : 0;
            /* Athena leaves a NULL field empty and unquoted */
            if (!rc && !fin_result_is_null(r, i, c))
                rc = csv_field(&b, fin_result_text(r, i, c));
        }
        rc = rc || fin_buf_puts(&b, "\n");
    }
    if (rc || !fin_buf_cstr(&b)) {
        fin_buf_fini(&b);
        return FIN_ENOMEM;
    }
    *csv = fin_buf_take(&b, len);
    return 0;
}

static bool numeric(enum fin_type t)
{
    return t == FIN_TYPE_BIGINT || t == FIN_TYPE_DOUBLE || t == FIN_TYPE_DECIMAL;
}

/* Display width in characters of UTF-8 text (code points; good enough for a terminal). */
static size_t width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int write_table(const struct fin_result *r, FILE *f)
{
    size_t *w = calloc(r->ncols ? r->ncols : 1, sizeof *w);
    if (!w)
        return FIN_ENOMEM;
    for (size_t c = 0; c < r->ncols; c++) {
        w[c] = width(r->cols[c].name);
        for (size_t i = 0; i < r->nrows; i++) {
            size_t n = fin_result_is_null(r, i, c) ? 4 : width(fin_result_text(r, i, c));
            if (n > w[c])
                w[c] = n;
        }
    }
    for (size_t c = 0; c < r->ncols; c++)
        fprintf(f, "%s%-*s", c ? " | " : "", (int)w[c], r->cols[c].name);
    fputc('\n', f);
    for (size_t c = 0; c < r->ncols; c++) {
        fputs(c ? "-+-" : "", f);
        for (size_t k = 0; k < w[c]; k++)
            fputc('-', f);
    }
    fputc('\n', f);
    for (size_t i = 0; i < r->nrows; i++) {
        for (size_t c = 0; c < r->ncols; c++) {
            const char *s = fin_result_is_null(r, i, c) ? "NULL" : fin_result_text(r, i, c);
            int pad = (int)(w[c] - width(s));
            if (c)
                fputs(" | ", f);
            if (numeric(r->cols[c].type))
                fprintf(f, "%*s%s", pad, "", s);
            else
                fprintf(f, "%s%*s", s, c + 1 < r->ncols ? pad : 0, "");
        }
        fputc('\n', f);
    }
    fprintf(f, "(%zu row%s)\n", r->nrows, r->nrows == 1 ? "" : "s");
    free(w);
    return 0;
}

static int write_json(const struct fin_result *r, FILE *f)
{
    for (size_t i = 0; i < r->nrows; i++) {
        json_t *o = json_object();
        if (!o)
            return FIN_ENOMEM;
        for (size_t c = 0; c < r->ncols; c++) {
            json_t *v;
            double d = fin_result_double(r, i, c);
            enum fin_type t = r->cols[c].type;
            if (fin_result_is_null(r, i, c))
                v = json_null();
            else if (t == FIN_TYPE_BOOLEAN)
                v = json_boolean(d != 0);
            else if (t == FIN_TYPE_BIGINT)
                v = json_integer((json_int_t)strtoll(fin_result_text(r, i, c), NULL, 10));
            else if (numeric(t))
                v = isfinite(d) ? json_real(d) : json_null();
            else
                v = json_string(fin_result_text(r, i, c));
            json_object_set_new(o, r->cols[c].name, v);
        }
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
        json_decref(o);
        if (!s)
            return FIN_ENOMEM;
        fprintf(f, "%s\n", s);
        free(s);
    }
    return 0;
}

int fin_result_write(const struct fin_result *r, enum fin_result_format format, FILE *f)
{
    int rc;
    if (format == FIN_RESULT_TABLE) {
        rc = write_table(r, f);
    } else if (format == FIN_RESULT_JSON) {
        rc = write_json(r, f);
    } else {
        char *csv;
        size_t len;
        rc = fin_result_to_csv(r, &csv, &len);
        if (!rc && fwrite(csv, 1, len, f) != len)
            rc = FIN_EIO;
        if (!rc)
            free(csv);
    }
    if (!rc && (fflush(f) != 0 || ferror(f)))
        rc = fin_err_set(FIN_EIO, "cannot write the result");
    return rc;
}

/* ---- saving ---- */

static int uuid4(char *out, size_t size)
{
    unsigned char b[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fin_err_errno(errno, "cannot open", "/dev/urandom");
    ssize_t n = read(fd, b, sizeof b);
    close(fd);
    if (n != (ssize_t)sizeof b)
        return fin_err_set(FIN_EIO, "short read from /dev/urandom");
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, size,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return 0;
}

int fin_result_save(const struct fin_result *r, const char *data_dir, const char *sql,
                    char *query_id, size_t query_id_size)
{
    char id[40], *dir = NULL, *csv = NULL, *meta = NULL, *path = NULL;
    size_t len;
    json_t *m = NULL;
    int rc;
    if (query_id_size < 37)
        return fin_err_set(FIN_EINVAL, "query id buffer too small");
    if ((rc = uuid4(id, sizeof id)))
        return rc;
    rc = FIN_ENOMEM;
    if (!(dir = fin_path_join(data_dir, "results")))
        goto fail;
    if ((rc = fin_mkdir_p(dir, 0755)) || (rc = fin_result_to_csv(r, &csv, &len)))
        goto fail;
    rc = FIN_ENOMEM;
    char name[64];
    snprintf(name, sizeof name, "%s.csv", id);
    if (!(path = fin_path_join(dir, name)))
        goto fail;
    if ((rc = fin_write_file_atomic(path, csv, len)))
        goto fail;
    time_t now = time(NULL);
    struct tm tm;
    char when[32];
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *cols = json_array();
    for (size_t c = 0; cols && c < r->ncols; c++)
        json_array_append_new(cols, json_pack("{s:s, s:s}", "name", r->cols[c].name, "type",
                                              fin_type_name(r->cols[c].type)));
    m = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:f, s:o*}", "query_id", id, "query", sql,
                  "submitted", when, "output_location", path, "rows", (json_int_t)r->nrows,
                  "output_bytes", (json_int_t)len, "data_scanned_bytes",
                  (json_int_t)r->bytes_scanned, "engine_seconds", r->seconds, "columns", cols);
    rc = FIN_ENOMEM;
    if (!m || !(meta = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
        goto fail;
    free(path);
    snprintf(name, sizeof name, "%s.csv.metadata", id);
    if (!(path = fin_path_join(dir, name)))
        goto fail;
    if ((rc = fin_write_file_atomic(path, meta, strlen(meta))))
        goto fail;
    snprintf(query_id, query_id_size, "%s", id);
    rc = 0;
fail:
    json_decref(m);
    free(meta);
    free(csv);
    free(path);
    free(dir);
    return rc;
}
