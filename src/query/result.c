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
    case FIN_TYPE_ARRAY: return "array";
    case FIN_TYPE_MAP: return "map";
    case FIN_TYPE_ROW: return "row";
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
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT: return FIN_TYPE_BIGINT;
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE: return FIN_TYPE_DOUBLE;
    case DUCKDB_TYPE_DECIMAL: return FIN_TYPE_DECIMAL;
    case DUCKDB_TYPE_DATE: return FIN_TYPE_DATE;
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS: return FIN_TYPE_TIMESTAMP;
    case DUCKDB_TYPE_TIMESTAMP_TZ: return FIN_TYPE_TIMESTAMPTZ;
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY: return FIN_TYPE_ARRAY;
    case DUCKDB_TYPE_MAP: return FIN_TYPE_MAP;
    case DUCKDB_TYPE_STRUCT:
    case DUCKDB_TYPE_UNION: return FIN_TYPE_ROW;
    default: return FIN_TYPE_OTHER;
    }
}

/* Glue's name for a result column's type (for CREATE TABLE AS). */
static void glue_name(duckdb_logical_type lt, char *out, size_t size)
{
    const char *n = "string";
    switch (duckdb_get_type_id(lt)) {
    case DUCKDB_TYPE_BOOLEAN: n = "boolean"; break;
    case DUCKDB_TYPE_TINYINT: n = "tinyint"; break;
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_UTINYINT: n = "smallint"; break;
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_USMALLINT: n = "int"; break;
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT: n = "bigint"; break;
    case DUCKDB_TYPE_FLOAT: n = "float"; break;
    case DUCKDB_TYPE_DOUBLE: n = "double"; break;
    case DUCKDB_TYPE_DATE: n = "date"; break;
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS:
    case DUCKDB_TYPE_TIMESTAMP_TZ: n = "timestamp"; break;
    case DUCKDB_TYPE_DECIMAL:
        snprintf(out, size, "decimal(%u,%u)", duckdb_decimal_width(lt), duckdb_decimal_scale(lt));
        return;
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY: {
        duckdb_logical_type ct = duckdb_get_type_id(lt) == DUCKDB_TYPE_LIST
                                     ? duckdb_list_type_child_type(lt)
                                     : duckdb_array_type_child_type(lt);
        char child[160];
        glue_name(ct, child, sizeof child);
        duckdb_destroy_logical_type(&ct);
        if ((size_t)snprintf(out, size, "array<%s>", child) < size)
            return;
        break;
    }
    case DUCKDB_TYPE_MAP: {
        duckdb_logical_type kt = duckdb_map_type_key_type(lt), vt = duckdb_map_type_value_type(lt);
        char k[160], v[160];
        glue_name(kt, k, sizeof k);
        glue_name(vt, v, sizeof v);
        duckdb_destroy_logical_type(&kt);
        duckdb_destroy_logical_type(&vt);
        if ((size_t)snprintf(out, size, "map<%s,%s>", k, v) < size)
            return;
        break;
    }
    case DUCKDB_TYPE_STRUCT: {
        size_t len = (size_t)snprintf(out, size, "struct<");
        for (idx_t i = 0; len < size && i < duckdb_struct_type_child_count(lt); i++) {
            char *name = duckdb_struct_type_child_name(lt, i);
            duckdb_logical_type ct = duckdb_struct_type_child_type(lt, i);
            char child[160];
            glue_name(ct, child, sizeof child);
            duckdb_destroy_logical_type(&ct);
            len += (size_t)snprintf(out + len, size - len, "%s%s:%s", i ? "," : "",
                                    name ? name : "?", child);
            duckdb_free(name);
        }
        if (len + 1 < size) {
            snprintf(out + len, size - len, ">");
            return;
        }
        break;   /* too long for the catalog's type: read as text */
    }
    default: break;
    }
    snprintf(out, size, "%s", n);
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

/* Trino's interval forms: year to month "1-2", day to second "1 02:03:04.500". */
static void format_interval(char *out, size_t size, duckdb_interval v)
{
    size_t n = 0;
    if (v.months || (!v.days && !v.micros)) {
        int32_t m = v.months < 0 ? -v.months : v.months;
        n = (size_t)snprintf(out, size, "%s%d-%d", v.months < 0 ? "-" : "", m / 12, m % 12);
        if (!v.days && !v.micros)
            return;
        if (n < size)
            out[n++] = ' ';
    }
    bool neg = v.days < 0 || (v.days == 0 && v.micros < 0);
    int64_t days = v.days < 0 ? -(int64_t)v.days : v.days;
    int64_t us = v.micros < 0 ? -v.micros : v.micros;
    days += us / 86400000000LL;
    us %= 86400000000LL;
    snprintf(out + (n < size ? n : size), n < size ? size - n : 0,
             "%s%lld %02d:%02d:%02d.%03d", neg ? "-" : "", (long long)days,
             (int)(us / 3600000000LL), (int)(us / 60000000 % 60), (int)(us / 1000000 % 60),
             (int)(us / 1000 % 1000));
}

static void format_time(char *out, size_t size, int64_t micros)
{
    snprintf(out, size, "%02d:%02d:%02d.%03d", (int)(micros / 3600000000LL),
             (int)(micros / 60000000 % 60), (int)(micros / 1000000 % 60), (int)(micros / 1000 % 1000));
}

static int json_str(struct fin_buf *b, const char *s, size_t n)
{
    int rc = fin_buf_puts(b, "\"");
    for (size_t i = 0; !rc && i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            rc = fin_buf_printf(b, "\\%c", ch);
        else if (ch == '\n')
            rc = fin_buf_puts(b, "\\n");
        else if (ch == '\t')
            rc = fin_buf_puts(b, "\\t");
        else if (ch == '\r')
            rc = fin_buf_puts(b, "\\r");
        else if (ch < 0x20)
            rc = fin_buf_printf(b, "\\u%04x", ch);
        else
            rc = fin_buf_append(b, &s[i], 1);
    }
    return rc || fin_buf_puts(b, "\"");
}

/* One value of vec at i, as Athena's text into t and as JSON into j (NULL: not
 * wanted); *num gets the number for top-level scalars. nested is true inside an array,
 * map or row, where NULL prints as null. Returns 0 or FIN_ENOMEM. */
static int render(duckdb_vector vec, duckdb_logical_type lt, idx_t i, struct fin_buf *t,
                  struct fin_buf *j, double *num, bool nested)
{
    uint64_t *valid = duckdb_vector_get_validity(vec);
    if (valid && !duckdb_validity_row_is_valid(valid, i))
        return fin_buf_puts(t, nested ? "null" : "") || (j && fin_buf_puts(j, "null"));
    duckdb_type type = duckdb_get_type_id(lt);
    const void *data = duckdb_vector_get_data(vec);
    char buf[128];
    bool quote = false;   /* in JSON: a string rather than a number or literal */
    int rc = 0;
    *num = NAN;
    switch (type) {
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY: {
        idx_t from, count;
        duckdb_vector child;
        duckdb_logical_type ct;
        if (type == DUCKDB_TYPE_LIST) {
            duckdb_list_entry e = ((const duckdb_list_entry *)data)[i];
            from = e.offset;
            count = e.length;
            child = duckdb_list_vector_get_child(vec);
            ct = duckdb_list_type_child_type(lt);
        } else {
            count = duckdb_array_type_array_size(lt);
            from = i * count;
            child = duckdb_array_vector_get_child(vec);
            ct = duckdb_array_type_child_type(lt);
        }
        rc = fin_buf_puts(t, "[") || (j && fin_buf_puts(j, "["));
        for (idx_t k = 0; !rc && k < count; k++) {
            double d;
            rc = (k ? fin_buf_puts(t, ", ") || (j && fin_buf_puts(j, ",")) : 0) ||
                 render(child, ct, from + k, t, j, &d, true);
        }
        duckdb_destroy_logical_type(&ct);
        return rc || fin_buf_puts(t, "]") || (j && fin_buf_puts(j, "]"));
    }
    case DUCKDB_TYPE_MAP: {
        duckdb_list_entry e = ((const duckdb_list_entry *)data)[i];
        duckdb_vector kv = duckdb_list_vector_get_child(vec);
        duckdb_vector keys = duckdb_struct_vector_get_child(kv, 0);
        duckdb_vector vals = duckdb_struct_vector_get_child(kv, 1);
        duckdb_logical_type kt = duckdb_map_type_key_type(lt), vt = duckdb_map_type_value_type(lt);
        struct fin_buf key;
        fin_buf_init(&key);
        rc = fin_buf_puts(t, "{") || (j && fin_buf_puts(j, "{"));
        for (idx_t k = 0; !rc && k < e.length; k++) {
            double d;
            fin_buf_reset(&key);
            /* a JSON object's keys are strings: the key's text form */
            rc = (k ? fin_buf_puts(t, ", ") || (j && fin_buf_puts(j, ",")) : 0) ||
                 render(keys, kt, e.offset + k, &key, NULL, &d, true) ||
                 fin_buf_append(t, key.data ? key.data : "", key.len) || fin_buf_puts(t, "=") ||
                 (j && (json_str(j, key.data ? key.data : "", key.len) || fin_buf_puts(j, ":"))) ||
                 render(vals, vt, e.offset + k, t, j, &d, true);
        }
        fin_buf_fini(&key);
        duckdb_destroy_logical_type(&kt);
        duckdb_destroy_logical_type(&vt);
        return rc || fin_buf_puts(t, "}") || (j && fin_buf_puts(j, "}"));
    }
    case DUCKDB_TYPE_STRUCT:
    case DUCKDB_TYPE_UNION: {
        idx_t n = duckdb_struct_type_child_count(lt), first = 0;
        if (type == DUCKDB_TYPE_UNION) {
            /* child 0 is the tag; only the member it names is shown */
            const uint8_t *tags = duckdb_vector_get_data(duckdb_struct_vector_get_child(vec, 0));
            first = (idx_t)tags[i] + 1;
            n = first + 1;
        }
        rc = fin_buf_puts(t, "{") || (j && fin_buf_puts(j, "{"));
        for (idx_t k = first; !rc && k < n; k++) {
            char *name = duckdb_struct_type_child_name(lt, k);
            duckdb_logical_type ct = duckdb_struct_type_child_type(lt, k);
            double d;
            rc = !name || (k > first ? fin_buf_puts(t, ", ") || (j && fin_buf_puts(j, ",")) : 0) ||
                 fin_buf_printf(t, "%s=", name) ||
                 (j && (json_str(j, name, strlen(name)) || fin_buf_puts(j, ":"))) ||
                 render(duckdb_struct_vector_get_child(vec, k), ct, i, t, j, &d, true);
            duckdb_free(name);
            duckdb_destroy_logical_type(&ct);
        }
        return rc || fin_buf_puts(t, "}") || (j && fin_buf_puts(j, "}"));
    }
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
        __int128 v = (__int128)(((unsigned __int128)(uint64_t)h.upper << 64) | h.lower);
        *num = (double)v;
        format_decimal(buf, sizeof buf, v, 0);
        break;
    }
    case DUCKDB_TYPE_UHUGEINT: {
        duckdb_uhugeint h = ((const duckdb_uhugeint *)data)[i];
        unsigned __int128 v = ((unsigned __int128)h.upper << 64) | h.lower;
        char d[48];
        int n = 0;
        do {
            d[n++] = (char)('0' + (int)(v % 10));
            v /= 10;
        } while (v);
        for (int k = 0; k < n; k++)
            buf[k] = d[n - 1 - k];
        buf[n] = '\0';
        *num = strtod(buf, NULL);
        break;
    }
    case DUCKDB_TYPE_FLOAT: {
        float v = ((const float *)data)[i];
        *num = v;
        fin_query__format_float(v, buf, sizeof buf);
        quote = !isfinite(v);
        break;
    }
    case DUCKDB_TYPE_DOUBLE: {
        double v = ((const double *)data)[i];
        *num = v;
        fin_query__format_double(v, buf, sizeof buf);
        quote = !isfinite(v);
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
            v = (__int128)(((unsigned __int128)(uint64_t)h.upper << 64) | h.lower);
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
        if (!nested) {
            char *end;
            char tmp[64];
            if (len < sizeof tmp) {
                memcpy(tmp, p, len);
                tmp[len] = '\0';
                double d = strtod(tmp, &end);
                if (end != tmp && !*end)
                    *num = d;
            }
        }
        return fin_buf_append(t, p, len) || (j && json_str(j, p, len));
    }
    case DUCKDB_TYPE_BLOB: {
        /* varbinary as Trino shows it: hex bytes separated by spaces */
        duckdb_string_t s = ((duckdb_string_t *)data)[i];
        uint32_t len = duckdb_string_t_length(s);
        const unsigned char *p = (const unsigned char *)duckdb_string_t_data(&s);
        size_t start = t->len;
        for (uint32_t k = 0; !rc && k < len; k++)
            rc = fin_buf_printf(t, "%s%02x", k ? " " : "", p[k]);
        return rc || (j && json_str(j, t->data ? t->data + start : "", t->len - start));
    }
    case DUCKDB_TYPE_ENUM: {
        idx_t k;
        switch (duckdb_enum_internal_type(lt)) {
        case DUCKDB_TYPE_UTINYINT: k = ((const uint8_t *)data)[i]; break;
        case DUCKDB_TYPE_USMALLINT: k = ((const uint16_t *)data)[i]; break;
        default: k = ((const uint32_t *)data)[i]; break;
        }
        char *v = duckdb_enum_dictionary_value(lt, k);
        rc = !v || fin_buf_puts(t, v) || (j && json_str(j, v, strlen(v)));
        duckdb_free(v);
        return rc;
    }
    case DUCKDB_TYPE_DATE: {
        duckdb_date_struct ds = duckdb_from_date(((const duckdb_date *)data)[i]);
        snprintf(buf, sizeof buf, "%04d-%02d-%02d", ds.year, ds.month, ds.day);
        *num = (double)((const duckdb_date *)data)[i].days * 86400.0;
        quote = true;
        break;
    }
    case DUCKDB_TYPE_TIME:
        format_time(buf, sizeof buf, ((const duckdb_time *)data)[i].micros);
        quote = true;
        break;
    case DUCKDB_TYPE_TIME_TZ: {
        duckdb_time_tz_struct tz = duckdb_from_time_tz(((const duckdb_time_tz *)data)[i]);
        int off = tz.offset < 0 ? -tz.offset : tz.offset;
        snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d%c%02d:%02d", tz.time.hour, tz.time.min,
                 tz.time.sec, tz.time.micros / 1000, tz.offset < 0 ? '-' : '+', off / 3600,
                 off / 60 % 60);
        quote = true;
        break;
    }
    case DUCKDB_TYPE_INTERVAL:
        format_interval(buf, sizeof buf, ((const duckdb_interval *)data)[i]);
        quote = true;
        break;
    case DUCKDB_TYPE_UUID: {
        duckdb_hugeint h = ((const duckdb_hugeint *)data)[i];
        uint64_t hi = (uint64_t)h.upper ^ (1ULL << 63), lo = h.lower;
        snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32),
                 (unsigned)(hi >> 16 & 0xffff), (unsigned)(hi & 0xffff), (unsigned)(lo >> 48),
                 (unsigned long long)(lo & 0xffffffffffffULL));
        quote = true;
        break;
    }
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS: {
        int64_t v = ((const int64_t *)data)[i];
        if (type == DUCKDB_TYPE_TIMESTAMP_S)
            v *= 1000000;
        else if (type == DUCKDB_TYPE_TIMESTAMP_MS)
            v *= 1000;
        else if (type == DUCKDB_TYPE_TIMESTAMP_NS)
            v /= 1000;
        *num = (double)v / 1e6;
        format_ts(buf, sizeof buf, v, type == DUCKDB_TYPE_TIMESTAMP_TZ);
        quote = true;
        break;
    }
    default:
        return FIN_EUNSUPPORTED;   /* the caller falls back to DuckDB's own text */
    }
    rc = fin_buf_puts(t, buf);
    if (!rc && j)
        rc = quote ? json_str(j, buf, strlen(buf)) : fin_buf_puts(j, buf);
    return rc;
}

static char *buf_dup(struct fin_buf *b)
{
    return strndup(b->data ? b->data : "", b->len);
}

/* One top-level cell into text (+ JSON for nested types) and number. row is the global
 * row (for the fallback accessor). */
static int cell(duckdb_result *res, duckdb_vector vec, duckdb_logical_type lt, idx_t i,
                idx_t col, idx_t row, struct fin_buf *t, struct fin_buf *j, char **text,
                char **json, double *num)
{
    fin_buf_reset(t);
    fin_buf_reset(j);
    duckdb_type type = duckdb_get_type_id(lt);
    bool nested = map_type(type) == FIN_TYPE_ARRAY || map_type(type) == FIN_TYPE_MAP ||
                  map_type(type) == FIN_TYPE_ROW;
    int rc = render(vec, lt, i, t, nested ? j : NULL, num, false);
    if (rc == FIN_EUNSUPPORTED) {
        /* a type without a form of its own here: DuckDB's text */
        char *v = duckdb_value_varchar(res, col, row);
        *text = strdup(v ? v : "");
        duckdb_free(v);
        return *text ? 0 : FIN_ENOMEM;
    }
    if (rc || !(*text = buf_dup(t)))
        return FIN_ENOMEM;
    if (nested && !(*json = buf_dup(j)))
        return FIN_ENOMEM;
    return 0;
}

/* Grows the cell arrays to hold need cells. */
static int reserve_cells(struct fin_result *r, size_t need)
{
    if (need <= r->cap)
        return 0;
    size_t cap = r->cap ? r->cap : 1024;
    while (cap < need)
        cap *= 2;
    char **tv = realloc(r->text, cap * sizeof *tv);
    if (!tv)
        return FIN_ENOMEM;
    r->text = tv;
    char **jv = realloc(r->json, cap * sizeof *jv);
    if (!jv)
        return FIN_ENOMEM;
    r->json = jv;
    double *nv = realloc(r->num, cap * sizeof *nv);
    if (!nv)
        return FIN_ENOMEM;
    r->num = nv;
    r->cap = cap;
    return 0;
}

int fin_result__from_duckdb(duckdb_result *res, struct fin_result **out)
{
    struct fin_result *r = calloc(1, sizeof *r);
    duckdb_logical_type *lts = NULL;
    struct fin_buf t, j;
    fin_buf_init(&t);
    fin_buf_init(&j);
    int rc = FIN_ENOMEM;
    if (!r)
        return FIN_ENOMEM;
    r->ncols = duckdb_column_count(res);
    r->cols = calloc(r->ncols ? r->ncols : 1, sizeof *r->cols);
    lts = calloc(r->ncols ? r->ncols : 1, sizeof *lts);
    if (!r->cols || !lts)
        goto fail;
    for (size_t c = 0; c < r->ncols; c++) {
        lts[c] = duckdb_column_logical_type(res, c);
        r->cols[c].type = map_type(duckdb_get_type_id(lts[c]));
        glue_name(lts[c], r->cols[c].glue, sizeof r->cols[c].glue);
        if (!(r->cols[c].name = strdup(duckdb_column_name(res, c))))
            goto fail;
    }
    idx_t nchunks = duckdb_result_chunk_count(*res);
    idx_t row = 0;
    for (idx_t k = 0; k < nchunks; k++) {
        duckdb_data_chunk chunk = duckdb_result_get_chunk(*res, k);
        idx_t n = duckdb_data_chunk_get_size(chunk);
        if (reserve_cells(r, (r->nrows + n) * r->ncols)) {
            duckdb_destroy_data_chunk(&chunk);
            goto fail;
        }
        /* every cell of the chunk starts empty, so a failure part-way frees only what
         * was made */
        for (size_t at = r->nrows * r->ncols; at < (r->nrows + n) * r->ncols; at++) {
            r->text[at] = r->json[at] = NULL;
            r->num[at] = NAN;
        }
        r->nrows += n;
        for (size_t c = 0; c < r->ncols; c++) {
            duckdb_vector vec = duckdb_data_chunk_get_vector(chunk, c);
            uint64_t *valid = duckdb_vector_get_validity(vec);
            for (idx_t i = 0; i < n; i++) {
                size_t at = (row + i) * r->ncols + c;
                if (valid && !duckdb_validity_row_is_valid(valid, i))
                    continue;
                if ((rc = cell(res, vec, lts[c], i, c, row + i, &t, &j, &r->text[at],
                               &r->json[at], &r->num[at]))) {
                    duckdb_destroy_data_chunk(&chunk);
                    goto fail;
                }
            }
        }
        row += n;
        duckdb_destroy_data_chunk(&chunk);
    }
    rc = 0;
    *out = r;
    r = NULL;
fail:
    for (size_t c = 0; lts && c < duckdb_column_count(res); c++)
        if (lts[c])
            duckdb_destroy_logical_type(&lts[c]);
    free(lts);
    fin_buf_fini(&t);
    fin_buf_fini(&j);
    fin_result_destroy(r);
    return rc;
}

struct fin_result *fin_result__new(size_t ncols, const char *const *names)
{
    struct fin_result *r = calloc(1, sizeof *r);
    if (!r || !(r->cols = calloc(ncols ? ncols : 1, sizeof *r->cols))) {
        free(r);
        return NULL;
    }
    r->ncols = ncols;
    for (size_t c = 0; c < ncols; c++) {
        r->cols[c].type = FIN_TYPE_VARCHAR;
        snprintf(r->cols[c].glue, sizeof r->cols[c].glue, "string");
        if (!(r->cols[c].name = strdup(names[c]))) {
            fin_result_destroy(r);
            return NULL;
        }
    }
    return r;
}

int fin_result__add_row(struct fin_result *r, const char *const *values)
{
    if (reserve_cells(r, (r->nrows + 1) * r->ncols))
        return FIN_ENOMEM;
    size_t at = r->nrows * r->ncols;
    for (size_t c = 0; c < r->ncols; c++) {
        r->json[at + c] = NULL;
        r->num[at + c] = NAN;
        r->text[at + c] = values[c] ? strdup(values[c]) : NULL;
        if (values[c] && !r->text[at + c]) {
            for (size_t k = 0; k < c; k++)
                free(r->text[at + k]);
            return FIN_ENOMEM;
        }
    }
    r->nrows++;
    return 0;
}

const char *fin_result__glue_type(const struct fin_result *r, size_t col)
{
    return col < r->ncols ? r->cols[col].glue : "string";
}

void fin_result_destroy(struct fin_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->text && i < r->nrows * r->ncols; i++)
        free(r->text[i]);
    for (size_t i = 0; r->json && i < r->nrows * r->ncols; i++)
        free(r->json[i]);
    free(r->text);
    free(r->json);
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
    /* a statement without columns (DDL) has no CSV at all */
    rc = rc || (r->ncols ? fin_buf_puts(&b, "\n") : fin_buf_reserve(&b, 1));
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

/* Writes s in at most w display columns, cut with "…" when longer. */
static void put_cut(FILE *f, const char *s, size_t w, bool right, bool pad)
{
    size_t n = width(s);
    if (n <= w) {
        if (right)
            fprintf(f, "%*s%s", (int)(w - n), "", s);
        else
            fprintf(f, "%s%*s", s, pad ? (int)(w - n) : 0, "");
        return;
    }
    size_t shown = 0;
    const char *p = s;
    for (; *p && shown + 1 < w; p++) {
        shown += ((unsigned char)*p & 0xC0) != 0x80;
        if (shown + 1 > w)
            break;
    }
    /* do not split a UTF-8 sequence */
    while (((unsigned char)*p & 0xC0) == 0x80)
        p++;
    fwrite(s, 1, (size_t)(p - s), f);
    fputs(w ? "…" : "", f);
}

int fin_result_write_table(const struct fin_result *r, size_t limit, FILE *f)
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
    /* Fitting: cap wide columns at 40 (at least the header), then leave out columns on
     * the right until the line fits. */
    size_t shown = r->ncols;
    if (limit) {
        size_t total = 0;
        for (size_t c = 0; c < r->ncols; c++) {
            size_t cap = width(r->cols[c].name) > 40 ? width(r->cols[c].name) : 40;
            if (w[c] > cap)
                w[c] = cap;
            total += w[c] + (c ? 3 : 0);
        }
        while (shown > 1 && total > limit) {
            shown--;
            total -= w[shown] + 3;
        }
        if (total > limit && shown == 1)
            w[0] = limit > 8 ? limit - 4 : 4;
    }
    for (size_t c = 0; c < shown; c++) {
        fputs(c ? " | " : "", f);
        put_cut(f, r->cols[c].name, w[c], false, c + 1 < shown);
    }
    fputc('\n', f);
    for (size_t c = 0; c < shown; c++) {
        fputs(c ? "-+-" : "", f);
        for (size_t k = 0; k < w[c]; k++)
            fputc('-', f);
    }
    fputc('\n', f);
    for (size_t i = 0; i < r->nrows; i++) {
        for (size_t c = 0; c < shown; c++) {
            const char *s = fin_result_is_null(r, i, c) ? "NULL" : fin_result_text(r, i, c);
            fputs(c ? " | " : "", f);
            put_cut(f, s, w[c], numeric(r->cols[c].type), c + 1 < shown);
        }
        fputc('\n', f);
    }
    fprintf(f, "(%zu row%s", r->nrows, r->nrows == 1 ? "" : "s");
    if (shown < r->ncols)
        fprintf(f, "; %zu of %zu columns shown", shown, r->ncols);
    fputs(")\n", f);
    free(w);
    return 0;
}

static int write_table(const struct fin_result *r, FILE *f) { return fin_result_write_table(r, 0, f); }

/* One object per row, written by hand: numbers keep every digit (a hugeint or a
 * decimal does not pass through a double), arrays, maps and rows nest. */
static int write_json(const struct fin_result *r, FILE *f)
{
    struct fin_buf b;
    fin_buf_init(&b);
    int rc = 0;
    for (size_t i = 0; !rc && i < r->nrows; i++) {
        fin_buf_reset(&b);
        rc = fin_buf_puts(&b, "{");
        for (size_t c = 0; !rc && c < r->ncols; c++) {
            size_t at = i * r->ncols + c;
            const char *text = r->text[at];
            enum fin_type t = r->cols[c].type;
            rc = (c ? fin_buf_puts(&b, ",") : 0) ||
                 json_str(&b, r->cols[c].name, strlen(r->cols[c].name)) || fin_buf_puts(&b, ":");
            if (rc)
                break;
            if (!text)
                rc = fin_buf_puts(&b, "null");
            else if (r->json[at])
                rc = fin_buf_puts(&b, r->json[at]);
            else if (t == FIN_TYPE_BOOLEAN)
                rc = fin_buf_puts(&b, text);
            else if (numeric(t))
                rc = isfinite(r->num[at]) || t != FIN_TYPE_DOUBLE ? fin_buf_puts(&b, text)
                                                                  : fin_buf_puts(&b, "null");
            else
                rc = json_str(&b, text, strlen(text));
        }
        rc = rc || fin_buf_puts(&b, "}\n") ? FIN_ENOMEM : 0;
        if (!rc && fwrite(b.data, 1, b.len, f) != b.len)
            rc = FIN_EIO;
    }
    fin_buf_fini(&b);
    return rc;
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
