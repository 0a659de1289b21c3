/* lake.c - the lake as a tree of prefixes, and a preview of one object.
 *
 *   GET /api/lake?prefix=2026/12/04/          folders below prefix (with the count and
 *                                             size of all objects under each) and the
 *                                             objects directly in it (at most 1000 a page,
 *                                             &offset= for more)
 *   GET /api/lake/object?key=K&limit=20       what K holds: JSON lines (plain or gzip:
 *                                             framing, first records), Parquet (schema
 *                                             and first rows, read by the query engine),
 *                                             anything else as its first bytes of text
 *   GET /api/lake/raw?key=K                   the object's bytes, as a download
 *
 * Keys are paths relative to <data_dir>/lake; "..", absolute paths and hidden names are
 * refused. Temporary names (a leading '.') are never shown, as in the lake itself. */
#include "internal.h"

#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/framing.h"
#include "finstream/query.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PAGE_MAX 1000
#define PREVIEW_MAX 200
#define TEXT_PREVIEW 65536

/* A key or prefix that stays inside the lake. */
static bool safe_key(const char *k)
{
    if (*k == '/' || strlen(k) > 1024)
        return false;
    for (const char *p = k; *p;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n && p[0] == '.')
            return false;
        if (!e)
            break;
        if (n == 0 && e != k + strlen(k) - 1)
            return false;
        p = e + 1;
    }
    return true;
}

struct tally {
    uint64_t objects, bytes;
    int64_t newest;
};

static void walk(const char *dir, struct tally *t, int depth)
{
    if (depth > 32)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path)
            continue;
        struct stat sb;
        if (stat(path, &sb))
            continue;
        if (S_ISDIR(sb.st_mode)) {
            walk(path, t, depth + 1);
        } else if (S_ISREG(sb.st_mode)) {
            t->objects++;
            t->bytes += (uint64_t)sb.st_size;
            if ((int64_t)sb.st_mtime > t->newest)
                t->newest = (int64_t)sb.st_mtime;
        }
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lake_list(struct fin_console *c, const struct creq *q, struct cresp *r)
{
    const char *prefix = q->arg(q->arg_ctx, "prefix");
    if (!prefix)
        prefix = "";
    long long offset = req_arg_int(q, "offset", 0);
    if (!safe_key(prefix) || offset < 0) {
        resp_error(r, 400, "invalid", "prefix '%s': not a key inside the lake", prefix);
        return;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/lake/%s", c->data_dir, prefix);
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dir[--dl] = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (!*prefix) {  /* nothing delivered yet */
            resp_json(r, 200, json_pack("{s:s,s:[],s:[],s:i,s:i,s:I}", "prefix", "", "folders",
                                        "objects", "total_objects", 0, "offset", 0, "bytes",
                                        (json_int_t)0));
            return;
        }
        resp_error(r, 404, "not_found", "no prefix %s in the lake", prefix);
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **v = realloc(names, cap * sizeof *v);
            if (!v)
                break;
            names = v;
        }
        if (!(names[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    json_t *folders = json_array(), *objects = json_array();
    size_t n_obj = 0;
    uint64_t total_bytes = 0;
    char path[4400];
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            struct tally t = {0};
            walk(path, &t, 0);
            total_bytes += t.bytes;
            char when[32] = "";
            if (t.newest)
                iso_time(t.newest * 1000, when);
            json_array_append_new(folders, json_pack("{s:s,s:I,s:I,s:s}", "name", names[i],
                                                     "objects", (json_int_t)t.objects, "bytes",
                                                     (json_int_t)t.bytes, "newest", when));
        } else if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            total_bytes += (uint64_t)sb.st_size;
            if (n_obj >= (size_t)offset && n_obj < (size_t)offset + PAGE_MAX) {
                char when[32];
                iso_time((int64_t)sb.st_mtime * 1000, when);
                json_array_append_new(objects, json_pack("{s:s,s:I,s:s}", "name", names[i],
                                                         "size", (json_int_t)sb.st_size,
                                                         "modified", when));
            }
            n_obj++;
        }
        free(names[i]);
    }
    free(names);
    resp_json(r, 200, json_pack("{s:s,s:o,s:o,s:I,s:I,s:I}", "prefix", prefix, "folders", folders,
                                "objects", objects, "total_objects", (json_int_t)n_obj, "offset",
                                (json_int_t)offset, "bytes", (json_int_t)total_bytes));
}

/* Appends s to b as the inside of an SQL string literal. */
static void sql_quote(struct fin_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\'')
            fin_buf_puts(b, "''");
        else
            fin_buf_append(b, s, 1);
    }
}

static json_t *result_rows(struct fin_result *res, json_t **cols)
{
    *cols = json_array();
    for (size_t j = 0; j < fin_result_columns(res); j++)
        json_array_append_new(*cols, json_pack("{s:s,s:s}", "name", fin_result_column_name(res, j),
                                               "type", fin_type_name(fin_result_column_type(res, j))));
    json_t *rows = json_array();
    for (size_t i = 0; i < fin_result_rows(res); i++) {
        json_t *row = json_array();
        for (size_t j = 0; j < fin_result_columns(res); j++)
            json_array_append_new(row, fin_result_is_null(res, i, j) ? json_null()
                                                                     : json_string(fin_result_text(res, i, j)));
        json_array_append_new(rows, row);
    }
    return rows;
}

static void preview_parquet(struct fin_console *c, const char *path, json_t *o, long long limit,
                            struct cresp *r)
{
    struct fin_query *qe = NULL;
    struct fin_result *schema = NULL, *rows = NULL, *count = NULL;
    struct fin_buf sql;
    fin_buf_init(&sql);
    int rc = fin_query_open(&qe, c->data_dir);
    if (!rc) {
        fin_buf_puts(&sql, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('");
        sql_quote(&sql, path);
        fin_buf_puts(&sql, "'))");
        rc = fin_query_exec(qe, fin_buf_cstr(&sql), &schema);
    }
    if (!rc) {
        fin_buf_reset(&sql);
        fin_buf_puts(&sql, "SELECT * FROM read_parquet('");
        sql_quote(&sql, path);
        fin_buf_printf(&sql, "') LIMIT %lld", limit);
        rc = fin_query_exec(qe, fin_buf_cstr(&sql), &rows);
    }
    if (!rc) {
        fin_buf_reset(&sql);
        fin_buf_puts(&sql, "SELECT count(*) FROM read_parquet('");
        sql_quote(&sql, path);
        fin_buf_puts(&sql, "')");
        rc = fin_query_exec(qe, fin_buf_cstr(&sql), &count);
    }
    if (rc) {
        json_decref(o);
        resp_fin_error(r, rc);
    } else {
        json_t *sc = json_array();
        for (size_t i = 0; i < fin_result_rows(schema); i++)
            json_array_append_new(sc, json_pack("{s:s,s:s}", "name", fin_result_text(schema, i, 0),
                                                "type", fin_result_text(schema, i, 1)));
        json_t *cols;
        json_t *rv = result_rows(rows, &cols);
        json_decref(cols);
        json_object_set_new(o, "format", json_string("parquet"));
        json_object_set_new(o, "schema", sc);
        json_object_set_new(o, "rows", rv);
        json_object_set_new(o, "records", json_integer((json_int_t)fin_result_double(count, 0, 0)));
        resp_json(r, 200, o);
    }
    fin_result_destroy(schema);
    fin_result_destroy(rows);
    fin_result_destroy(count);
    fin_query_close(qe);
    fin_buf_fini(&sql);
}

static void lake_object(struct fin_console *c, const struct creq *q, struct cresp *r, bool raw)
{
    const char *key = q->arg(q->arg_ctx, "key");
    long long limit = req_arg_int(q, "limit", 20);
    if (!key || !*key || !safe_key(key) || key[strlen(key) - 1] == '/') {
        resp_error(r, 400, "invalid", "key '%s': not an object key inside the lake", key ? key : "");
        return;
    }
    if (limit <= 0 || limit > PREVIEW_MAX) {
        resp_error(r, 400, "invalid", "limit: expected 1 to %d", PREVIEW_MAX);
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/lake/%s", c->data_dir, key);
    struct stat sb;
    if (stat(path, &sb) || !S_ISREG(sb.st_mode)) {
        resp_error(r, 404, "not_found", "no object %s in the lake", key);
        return;
    }
    if (raw) {
        char *data = NULL;
        size_t len = 0;
        int rc = fin_read_file(path, &data, &len);
        if (rc) {
            resp_fin_error(r, rc);
            return;
        }
        r->status = 200;
        r->content_type = "application/octet-stream";
        fin_buf_append(&r->body, data, len);
        free(data);
        const char *base = strrchr(key, '/');
        snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"%.120s\"",
                 base ? base + 1 : key);
        return;
    }
    char when[32];
    iso_time((int64_t)sb.st_mtime * 1000, when);
    json_t *o = json_pack("{s:s,s:I,s:s}", "key", key, "size", (json_int_t)sb.st_size, "modified", when);
    char magic[4] = {0};
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(magic, 1, 4, f) : 0;
    if (f)
        fclose(f);
    if (got == 4 && memcmp(magic, "PAR1", 4) == 0) {
        preview_parquet(c, path, o, limit, r);
        return;
    }
    struct fin_json_reader jr;
    int rc = fin_json_reader_open_file(&jr, path);
    if (rc == 0) {
        json_t *recs = json_array(), *columns = json_array();
        const char *rec;
        size_t len;
        int line;
        long long n = 0;
        bool json_ok = true;
        while ((rc = fin_json_reader_next(&jr, &rec, &len, &line)) == 0) {
            if (n < limit) {
                json_t *v = json_loadb(rec, len, 0, NULL);
                if (!v) {
                    json_ok = false;
                    v = json_stringn(rec, len);
                    if (!v)
                        v = json_string("(not UTF-8)");
                }
                if (n == 0 && json_is_object(v)) {
                    const char *k;
                    json_t *x;
                    json_object_foreach(v, k, x)
                        json_array_append_new(columns, json_string(k));
                }
                json_array_append_new(recs, v);
            }
            n++;
        }
        bool clean_end = rc == FIN_EEND;
        json_object_set_new(o, "format", json_string(json_ok ? "json" : "text"));
        json_object_set_new(o, "gzip", json_boolean(jr.gzip));
        json_object_set_new(o, "framing", json_string(fin_framing_name(jr.framing)));
        json_object_set_new(o, "records", json_integer(n));
        json_object_set_new(o, "columns", columns);
        json_object_set_new(o, "rows", recs);
        if (!clean_end) {
            json_object_set_new(o, "problem", json_string(fin_err_msg()));
            fin_err_clear();
        }
        fin_json_reader_fini(&jr);
        resp_json(r, 200, o);
        return;
    }
    /* not JSON: the first bytes as text */
    fin_err_clear();
    char *data = NULL;
    size_t len = 0;
    if ((rc = fin_read_file(path, &data, &len))) {
        json_decref(o);
        resp_fin_error(r, rc);
        return;
    }
    size_t show = len < TEXT_PREVIEW ? len : TEXT_PREVIEW;
    json_object_set_new(o, "format", json_string("text"));
    json_t *text = json_stringn(data, show);
    json_object_set_new(o, "text", text ? text : json_string("(binary data)"));
    free(data);
    resp_json(r, 200, o);
}

void api_lake(struct fin_console *c, const struct creq *q, struct cresp *r, const char *rest)
{
    if (strcmp(q->method, "GET") != 0 && strcmp(q->method, "HEAD") != 0) {
        resp_error(r, 405, "method", "%s %s: only GET here", q->method, q->path);
        return;
    }
    if (!*rest)
        lake_list(c, q, r);
    else if (strcmp(rest, "object") == 0)
        lake_object(c, q, r, false);
    else if (strcmp(rest, "raw") == 0)
        lake_object(c, q, r, true);
    else
        resp_error(r, 404, "not_found", "no API route %s %s", q->method, q->path);
}
