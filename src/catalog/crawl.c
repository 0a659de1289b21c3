/* crawl.c - the crawler: from a folder of objects to catalog tables.
 *
 * One pass per table: walk the folder, keep objects at the table's partition depth,
 * register the partitions their folders name, and sample the objects that are new or
 * changed since the last crawl (by size and modification time) for columns. Format is
 * recognised by content (Parquet magic, gzip magic, then '{' or '[' for JSON, otherwise
 * CSV with a header), never by name, because Firehose objects carry no extension.
 *
 * Nothing here is fatal for one bad object or line: it is reported through the caller's
 * callback (object and line) and counted, and the crawl goes on, as Glue does. */
#include "catalog_int.h"
#include "finstream/clock.h"
#include "finstream/error.h"
#include "finstream/interrupt.h"
#include "finstream/framing.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_DEPTH 16

struct found {
    char *key;       /* relative to the table location */
    int64_t size, mtime;
    int depth;       /* number of folders in key */
};

struct walk {
    struct found *v;
    size_t n, cap;
};

struct crawl {
    const struct fin_crawl_opts *opts;
    struct fin_crawl_stats *stats;
    long sample;
    char now[32];
};

static void report(struct crawl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct crawl *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->opts->report)
        c->opts->report(c->opts->report_ctx, msg);
    else
        fin_warn("%s", msg);
}

static bool hidden(const char *name) { return name[0] == '.' || name[0] == '_'; }

/* Catalog text is JSON, which is UTF-8: names that are not cannot be kept. */
static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p >> 5) == 0x6 ? 1 : (*p >> 4) == 0xe ? 2 : (*p >> 3) == 0x1e ? 3 : -1;
        if (n < 0 || (n == 1 && *p < 0xc2) || *p > 0xf4)
            return false;
        /* no overlong forms, no surrogates, nothing above U+10FFFF */
        if ((*p == 0xe0 && p[1] < 0xa0) || (*p == 0xed && p[1] >= 0xa0) ||
            (*p == 0xf0 && p[1] < 0x90) || (*p == 0xf4 && p[1] >= 0x90))
            return false;
        p++;
        for (int i = 0; i < n; i++, p++)
            if ((*p & 0xc0) != 0x80)
                return false;
    }
    return true;
}

/* A folder name that reads as a partition: key=value, or all digits (YYYY, MM, DD, HH). */
static bool partition_like(const char *name)
{
    if (strchr(name, '=') && name[0] != '=')
        return true;
    if (!*name)
        return false;
    for (const char *p = name; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    return true;
}

static void walk_free(struct walk *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i].key);
    free(w->v);
}

static int cmp_found(const void *a, const void *b)
{
    return strcmp(((const struct found *)a)->key, ((const struct found *)b)->key);
}

/* Collects regular files under root/rel; skip lists top-level folders left out. */
static int walk_dir(struct walk *w, const char *root, const char *rel, int depth,
                    char **skip, size_t nskip)
{
    char path[PATH_MAX];
    int pn = snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
    if (pn < 0 || (size_t)pn >= sizeof path)
        return fin_err_set(FIN_ELIMIT, "%s/%s: path too long", root, rel);
    DIR *d = opendir(path);
    if (!d)
        return fin_err_errno(errno, "cannot open folder", path);
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (hidden(e->d_name))
            continue;
        if (!utf8_valid(e->d_name)) {
            fin_warn("%s: skipped an entry whose name is not UTF-8", path);
            continue;
        }
        bool skipped = false;
        for (size_t i = 0; depth == 0 && i < nskip; i++)
            skipped |= strcmp(skip[i], e->d_name) == 0;
        if (skipped)
            continue;
        char sub[PATH_MAX];
        int n = snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        if (n < 0 || (size_t)n >= sizeof sub) {
            rc = fin_err_set(FIN_ELIMIT, "%s/%s: path too long", path, e->d_name);
            break;
        }
        char full[PATH_MAX + 2];
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;   /* vanished while we walked: not an error */
        if (S_ISDIR(st.st_mode)) {
            if (depth + 1 >= MAX_DEPTH) {
                rc = fin_err_set(FIN_ELIMIT, "%s: folders nested deeper than %d", full, MAX_DEPTH);
                break;
            }
            rc = walk_dir(w, root, sub, depth + 1, skip, nskip);
        } else if (S_ISREG(st.st_mode)) {
            if (w->n == w->cap) {
                size_t cap = w->cap ? w->cap * 2 : 256;
                struct found *v = realloc(w->v, cap * sizeof *v);
                if (!v) {
                    rc = FIN_ENOMEM;
                    break;
                }
                w->v = v;
                w->cap = cap;
            }
            char *k = strdup(sub);
            if (!k) {
                rc = FIN_ENOMEM;
                break;
            }
            w->v[w->n++] = (struct found){k, (int64_t)st.st_size, (int64_t)st.st_mtime, depth};
        }
    }
    closedir(d);
    return rc;
}

/* ---- sampling ---- */

static const char *value_type(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_INTEGER: return "bigint";
    case JSON_REAL: return "double";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    default: return "string";   /* strings, and nested values read as JSON text */
    }
}

/* Copies rec with bare NaN / Infinity tokens (outside strings) replaced by null: Athena
 * reads them as null, and jansson rejects them. Returns a malloc'd copy or NULL. */
static char *nan_to_null(const char *rec, size_t len, size_t *out_len)
{
    char *o = malloc(len + len / 3 + 2);   /* "NaN" -> "null" grows by a third at most */
    if (!o)
        return NULL;
    size_t j = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char ch = rec[i];
        if (in_str) {
            o[j++] = ch;
            if (ch == '\\' && i + 1 < len)
                o[j++] = rec[++i];
            else if (ch == '"')
                in_str = false;
            continue;
        }
        if (ch == '"') {
            in_str = true;
        } else if (ch == 'N' && len - i >= 3 && memcmp(rec + i, "NaN", 3) == 0) {
            memcpy(o + j, "null", 4);
            j += 4;
            i += 2;
            continue;
        } else if ((ch == 'I' || ch == '-') && len - i >= 8 + (ch == '-') &&
                   memcmp(rec + i + (ch == '-'), "Infinity", 8) == 0) {
            memcpy(o + j, "null", 4);
            j += 4;
            i += 7 + (ch == '-');
            continue;
        }
        o[j++] = ch;
    }
    o[j] = '\0';
    *out_len = j;
    return o;
}

/* What one object contributed. */
struct sample {
    const char *classification;   /* json | csv | parquet */
    const char *framing;
    bool gzip;
    struct fin_columns cols;
    int64_t records, bad;
};

static int sample_json(struct crawl *c, struct fin_json_reader *r, const char *path,
                       struct sample *s)
{
    const char *rec;
    size_t len;
    int line, rc;
    while ((c->sample == 0 || s->records + s->bad < c->sample) &&
           (rc = fin_json_reader_next(r, &rec, &len, &line)) == 0) {
        /* Copy only a record that may hold a NaN or Infinity token; most do not. */
        size_t clen = len;
        char *copy = NULL;
        if (memmem(rec, len, "NaN", 3) || memmem(rec, len, "Infinity", 8)) {
            if (!(copy = nan_to_null(rec, len, &clen)))
                return FIN_ENOMEM;
        }
        json_error_t jerr;
        json_t *o = json_loadb(copy ? copy : rec, clen, JSON_DECODE_ANY, &jerr);
        free(copy);
        if (!o || !json_is_object(o)) {
            s->bad++;
            report(c, "%s:%d: record is not a JSON object: %s", path, line,
                   o ? "a JSON value of another kind" : jerr.text);
            json_decref(o);
            continue;
        }
        const char *key;
        json_t *v;
        json_object_foreach(o, key, v) {
            if ((rc = fin_columns_merge(&s->cols, key, value_type(v)))) {
                json_decref(o);
                return rc;
            }
        }
        json_decref(o);
        s->records++;
    }
    if (rc == FIN_EPARSE) {
        s->bad++;
        report(c, "%s: %s", path, fin_err_msg());
    } else if (rc && rc != FIN_EEND) {
        return rc;
    }
    s->framing = fin_framing_name(r->framing);
    return 0;
}

/* Splits one CSV line (RFC 4180 quoting, no embedded newlines) into at most max fields,
 * in place; returns the count or -1 when a quote is left open. */
static int csv_split(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return n;
        char *out = p, *start = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p)
                    return -1;
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *out++ = *p++;
                }
            }
            while (*p && *p != ',')
                p++;
        } else {
            while (*p && *p != ',')
                out++, p++;
        }
        bool more = *p == ',';
        *out = '\0';
        fields[n++] = start;
        if (!more)
            return n;
        p++;
    }
}

static const char *csv_type(const char *v)
{
    if (!*v || strcmp(v, "NaN") == 0)
        return "null";
    if (!strcmp(v, "true") || !strcmp(v, "false"))
        return "boolean";
    char *end;
    errno = 0;
    (void)strtoll(v, &end, 10);
    if (!*end && !errno)
        return "bigint";
    (void)strtod(v, &end);
    if (!*end)
        return "double";
    return "string";
}

#define CSV_MAX_FIELDS 1024

static int sample_csv(struct crawl *c, struct fin_json_reader *r, const char *path,
                      struct sample *s)
{
    char **fields = malloc(CSV_MAX_FIELDS * sizeof *fields);
    char **names = calloc(CSV_MAX_FIELDS, sizeof *names);
    char *text = malloc(r->len - r->pos + 1);
    int rc = 0, nnames = 0;
    if (!fields || !names || !text) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    memcpy(text, r->data + r->pos, r->len - r->pos);
    text[r->len - r->pos] = '\0';
    char *save = NULL;
    int lineno = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[--l] = '\0';
        if (!l)
            continue;
        if (!nnames) {
            nnames = csv_split(line, fields, CSV_MAX_FIELDS);
            if (nnames <= 0) {
                rc = fin_err_set(FIN_EPARSE, "%s:%d: unreadable CSV header", path, lineno);
                nnames = 0;
                goto fail;
            }
            for (int i = 0; i < nnames; i++)
                if (!utf8_valid(fields[i])) {
                    rc = fin_err_set(FIN_EPARSE, "%s:%d: CSV header is not UTF-8", path, lineno);
                    nnames = i;
                    goto fail;
                }
            for (int i = 0; i < nnames; i++)
                if (!(names[i] = strdup(*fields[i] ? fields[i] : "col")))
                    rc = FIN_ENOMEM;
            for (int i = 0; !rc && i < nnames; i++)
                rc = fin_columns_merge(&s->cols, names[i], "null");
            if (rc)
                goto fail;
            continue;
        }
        if (c->sample && s->records + s->bad >= c->sample)
            break;
        int n = csv_split(line, fields, CSV_MAX_FIELDS);
        if (n != nnames) {
            s->bad++;
            report(c, "%s:%d: %d fields where the header has %d", path, lineno, n, nnames);
            continue;
        }
        for (int i = 0; i < n && !rc; i++)
            rc = fin_columns_merge(&s->cols, names[i], csv_type(fields[i]));
        if (rc)
            goto fail;
        s->records++;
    }
    s->classification = "csv";
    s->framing = "lines";
fail:
    for (int i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    free(fields);
    free(text);
    return rc;
}

static bool is_parquet(const char *data, size_t len)
{
    return len >= 12 && memcmp(data, "PAR1", 4) == 0 && memcmp(data + len - 4, "PAR1", 4) == 0;
}

/* Samples one object into s; a failure that concerns only this object is reported and
 * returns FIN_EPARSE so the caller skips it. */
static int sample_object(struct crawl *c, const char *path, struct sample *s)
{
    char *data = NULL;
    size_t len;
    struct fin_json_reader r;
    memset(&r, 0, sizeof r);
    int rc = fin_read_file(path, &data, &len);
    if (rc) {
        report(c, "%s: cannot read: %s", path, fin_err_msg());
        return FIN_EPARSE;
    }
    if (is_parquet(data, len)) {
        s->classification = "parquet";
        s->framing = "parquet";
        if (!c->opts->parquet_schema) {
            report(c, "%s: Parquet object, but no Parquet reader is available", path);
            rc = FIN_EPARSE;
        } else if ((rc = c->opts->parquet_schema(path, &s->cols, c->opts->parquet_ctx))) {
            report(c, "%s: %s", path, fin_err_msg());
            rc = FIN_EPARSE;
        }
        goto done;
    }
    if ((rc = fin_json_reader_init_mem(&r, data, len, path))) {
        report(c, "%s: %s", path, fin_err_msg());
        rc = FIN_EPARSE;
        goto done;
    }
    s->gzip = r.gzip;
    size_t p = r.pos;
    while (p < r.len && isspace((unsigned char)r.data[p]))
        p++;
    if (p == r.len) {
        s->classification = NULL;   /* empty: says nothing about the table */
        goto done;
    }
    if (r.data[p] == '{' || r.data[p] == '[') {
        s->classification = "json";
        rc = sample_json(c, &r, path, s);
    } else {
        rc = sample_csv(c, &r, path, s);
        if (rc == FIN_EPARSE) {
            report(c, "%s", fin_err_msg());
        }
    }
done:
    fin_json_reader_fini(&r);
    free(data);
    return rc;
}

/* ---- tables ---- */

static int set_str(char **dst, const char *v)
{
    char *d = strdup(v);
    if (!d)
        return FIN_ENOMEM;
    free(*dst);
    *dst = d;
    return 0;
}

/* Merges a per-object property (framing, compression) into the table's. */
static int merge_prop(char **dst, const char *v)
{
    if (!*dst || !strcmp(*dst, "empty"))
        return set_str(dst, v);
    if (strcmp(*dst, v) != 0 && strcmp(v, "empty") != 0)
        return set_str(dst, "mixed");
    return 0;
}

/* Splits a relative folder path into its components (in place). */
static int split_dirs(char *key, char **parts, int max)
{
    int n = 0;
    for (char *p = key, *slash; (slash = strchr(p, '/')); p = slash + 1) {
        if (n == max)
            return -1;
        *slash = '\0';
        parts[n++] = p;
    }
    return n;
}

static int find_partition(const struct fin_table *t, const char *path)
{
    for (size_t i = t->npartitions; i-- > 0;)
        if (strcmp(t->partitions[i].path, path) == 0)
            return (int)i;
    return -1;
}

static int cmp_objects(const void *a, const void *b)
{
    return strcmp(((const struct fin_object *)a)->key, ((const struct fin_object *)b)->key);
}

static int crawl_table(struct fin_catalog *cat, struct crawl *c, const char *location,
                       const char *name, char **skip, size_t nskip)
{
    const struct fin_crawl_opts *o = c->opts;
    const char *db = o->database && *o->database ? o->database : FIN_CATALOG_DEFAULT_DATABASE;
    struct walk w = {0};
    struct fin_object *old = NULL;
    size_t nold = 0;
    struct sample s;
    memset(&s, 0, sizeof s);
    int rc;
    char full[PATH_MAX * 2];
    bool created = false;

    if ((rc = fin_check_name("table", name, FIN_CATALOG_NAME_MAX)))
        return rc;
    char qualified[2 * FIN_CATALOG_NAME_MAX + 2];
    snprintf(qualified, sizeof qualified, "%s.%s", db, name);
    struct fin_table *t = fin_catalog_find(cat, qualified);
    if (t && strcmp(t->location, location) != 0)
        return fin_err_set(FIN_EEXIST, "table %s already catalogs %s, not %s", qualified,
                           t->location, location);
    if ((rc = walk_dir(&w, location, "", 0, skip, nskip)))
        goto fail;
    if (w.n)
        qsort(w.v, w.n, sizeof *w.v, cmp_found);
    if (w.n == 0) {
        report(c, "%s: no objects, no table", location);
        goto done;
    }
    if (!t) {
        if (!(t = calloc(1, sizeof *t)))
            goto nomem;
        created = true;
        if ((rc = set_str(&t->database, db)) || (rc = set_str(&t->name, name)) ||
            (rc = set_str(&t->location, location)) || (rc = set_str(&t->created, c->now)) ||
            (rc = set_str(&t->updated, c->now))) {
            fin_catalog__table_free(t);
            goto fail;
        }
        /* Partition keys from the most common depth's first object: Glue's table is the
         * set of objects that share one layout. */
        int counts[MAX_DEPTH] = {0}, best = 0;
        for (size_t i = 0; i < w.n; i++)
            counts[w.v[i].depth]++;
        for (int d = 1; d < MAX_DEPTH; d++)
            if (counts[d] > counts[best])
                best = d;
        for (size_t i = 0; i < w.n; i++) {
            if (w.v[i].depth != best)
                continue;
            char *k = strdup(w.v[i].key), *parts[MAX_DEPTH];
            if (!k) {
                fin_catalog__table_free(t);
                goto nomem;
            }
            int n = split_dirs(k, parts, MAX_DEPTH);
            for (int d = 0; d < n && !rc; d++) {
                char kname[64];
                char *eq = strchr(parts[d], '=');
                if (eq && eq != parts[d])
                    snprintf(kname, sizeof kname, "%.*s", (int)(eq - parts[d]), parts[d]);
                else
                    snprintf(kname, sizeof kname, "partition_%d", d);
                if (fin_columns_find(&t->partition_keys, kname))
                    snprintf(kname, sizeof kname, "partition_%d", d);
                rc = fin_columns_merge(&t->partition_keys, kname, "string");
            }
            free(k);
            break;
        }
        if (rc) {
            fin_catalog__table_free(t);
            goto fail;
        }
    }
    /* The previous crawl's objects, to tell new and changed ones from those already seen. */
    old = t->objects;
    nold = t->nobjects;
    t->objects = NULL;
    t->nobjects = t->objects_cap = 0;
    if (nold)
        qsort(old, nold, sizeof *old, cmp_objects);

    int depth = (int)t->partition_keys.n;
    for (size_t i = 0; i < w.n; i++) {
        struct found *f = &w.v[i];
        if (fin_interrupted() && (rc = fin_interrupt_error()))   /* Ctrl-C: keep nothing half */
            goto fail;
        c->stats->objects_seen++;
        snprintf(full, sizeof full, "%s/%s", location, f->key);
        if (f->depth != depth) {
            c->stats->objects_skipped++;
            report(c, "%s: skipped: %d folders below %s where the table's partitions have %d",
                   full, f->depth, location, depth);
            continue;
        }
        /* partition values from the folders */
        char *k = strdup(f->key), *parts[MAX_DEPTH];
        if (!k)
            goto nomem;
        split_dirs(k, parts, MAX_DEPTH);
        bool ok = true;
        for (int d = 0; d < depth; d++) {
            char *eq = strchr(parts[d], '=');
            const struct fin_column *key = &t->partition_keys.v[d];
            bool named = strncmp(key->name, "partition_", 10) != 0;
            if (named && (!eq || (size_t)(eq - parts[d]) != strlen(key->source) ||
                          strncasecmp(parts[d], key->source, (size_t)(eq - parts[d])) != 0))
                ok = false;
        }
        if (!ok) {
            free(k);
            c->stats->objects_skipped++;
            report(c, "%s: skipped: its folders do not match the table's partition keys", full);
            continue;
        }
        if (depth > 0) {
            const char *dir_end = strrchr(f->key, '/');
            char ppath[PATH_MAX];
            snprintf(ppath, sizeof ppath, "%.*s", (int)(dir_end - f->key), f->key);
            if (find_partition(t, ppath) < 0) {
                char **values = calloc((size_t)depth + 1, sizeof *values);
                bool nomem = !values;
                for (int d = 0; !nomem && d < depth; d++) {
                    bool named = strncmp(t->partition_keys.v[d].name, "partition_", 10) != 0;
                    char *eq = strchr(parts[d], '=');
                    nomem = !(values[d] = strdup(named && eq ? eq + 1 : parts[d]));
                }
                if (nomem || fin_table__add_partition(t, values, ppath)) {
                    for (int d = 0; values && d < depth; d++)
                        free(values[d]);
                    free(values);
                    free(k);
                    goto nomem;
                }
                c->stats->partitions_added++;
            }
        }
        free(k);
        if (o->progress && (i % 64 == 0 || i + 1 == w.n))
            o->progress(o->progress_ctx, qualified, i + 1, w.n);
        struct fin_object probe = {f->key, 0, 0, false};
        struct fin_object *prev = nold ? bsearch(&probe, old, nold, sizeof *old, cmp_objects) : NULL;
        if (prev && prev->size == f->size && prev->mtime == f->mtime) {
            if ((rc = fin_table__add_object(t, f->key, f->size, f->mtime, prev->gzip)))
                goto fail;
            continue;
        }
        /* gzip by content, recorded so that the query can read a mixed table per object */
        bool gz = false;
        FILE *fp = fopen(full, "rb");
        if (fp) {
            unsigned char magic[2];
            gz = fread(magic, 1, 2, fp) == 2 && fin_is_gzip(magic, 2);
            fclose(fp);
        }
        if ((rc = fin_table__add_object(t, f->key, f->size, f->mtime, gz)))
            goto fail;
        /* sample it */
        fin_columns_fini(&s.cols);
        memset(&s, 0, sizeof s);
        rc = sample_object(c, full, &s);
        if (rc == FIN_EPARSE) {
            c->stats->objects_skipped++;
            continue;
        }
        if (rc)
            goto fail;
        c->stats->objects_sampled++;
        c->stats->records_sampled += s.records;
        c->stats->bad_records += s.bad;
        t->records_sampled += s.records;
        t->bad_records += s.bad;
        if (!s.classification)
            continue;
        if (t->classification && strcmp(t->classification, s.classification) != 0) {
            c->stats->objects_skipped++;
            report(c, "%s: skipped: %s object in a %s table", full, s.classification,
                   t->classification);
            continue;
        }
        if ((!t->classification && (rc = set_str(&t->classification, s.classification))) ||
            (rc = merge_prop(&t->framing, s.framing)) ||
            (rc = merge_prop(&t->compression, s.gzip ? "gzip" : "none")))
            goto fail;
        for (size_t j = 0; j < s.cols.n; j++) {
            const struct fin_column *sc = &s.cols.v[j];
            if (fin_columns_find(&t->partition_keys, sc->name)) {
                continue;   /* a partition key shadows a data column of that name */
            }
            bool is_new = !fin_columns_find(&t->columns, sc->name);
            if ((rc = fin_columns_merge(&t->columns, sc->source, sc->type)))
                goto fail;
            if (is_new && !created)
                c->stats->columns_added++;
        }
    }
    if (!t->classification) {
        report(c, "%s: no object with data yet, no table", location);
        if (created)
            fin_catalog__table_free(t);
        else
            goto keep;
        goto done;
    }
    if (!t->framing && (rc = set_str(&t->framing, "empty")))
        goto fail;
    if (!t->compression && (rc = set_str(&t->compression, "none")))
        goto fail;
keep:
    if ((rc = set_str(&t->updated, c->now)))
        goto fail;
    if (created) {
        rc = fin_catalog__add_table(cat, t);
        t = NULL;
        if (rc)
            goto fail;
        c->stats->tables_created++;
    } else {
        c->stats->tables_updated++;
    }
done:
    rc = 0;
    goto out;
nomem:
    rc = FIN_ENOMEM;
fail:
    if (created && t)
        fin_catalog__table_free(t);
out:
    if (old && !created && t && rc) {
        /* put back what the catalog had, so a failed crawl changes nothing it knew */
        for (size_t i = 0; i < t->nobjects; i++)
            free(t->objects[i].key);
        free(t->objects);
        t->objects = old;
        t->nobjects = t->objects_cap = nold;
        old = NULL;
    }
    if (old) {
        for (size_t i = 0; i < nold; i++)
            free(old[i].key);
        free(old);
    }
    fin_columns_fini(&s.cols);
    walk_free(&w);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int fin_crawl(struct fin_catalog *cat, const char *location, const struct fin_crawl_opts *opts,
              struct fin_crawl_stats *stats)
{
    struct fin_crawl_opts defaults = {0};
    struct fin_crawl_stats ignored;
    struct crawl c = {.opts = opts ? opts : &defaults, .stats = stats ? stats : &ignored};
    memset(c.stats, 0, sizeof *c.stats);
    c.sample = c.opts->sample < 0 ? FIN_CRAWL_DEFAULT_SAMPLE : c.opts->sample;
    const struct fin_clock *clk = c.opts->clock ? c.opts->clock : fin_clock_real();
    time_t now = (time_t)(fin_now_ns(clk) / FIN_NS_PER_SEC);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(c.now, sizeof c.now, "%Y-%m-%dT%H:%M:%SZ", &tm);

    char abs[PATH_MAX];
    if (!realpath(location, abs))
        return fin_err_errno(errno, "cannot crawl", location);
    if (!fin_is_dir(abs))
        return fin_err_set(FIN_EINVAL, "%s: not a folder", location);
    if (c.opts->database && *c.opts->database &&
        fin_check_name("database", c.opts->database, FIN_CATALOG_NAME_MAX))
        return FIN_EINVAL;

    /* Which folders are tables: the location itself when it holds objects or partition
     * folders; every other folder directly below it by its own name. */
    DIR *d = opendir(abs);
    if (!d)
        return fin_err_errno(errno, "cannot open folder", abs);
    char **children = NULL;
    size_t nchildren = 0;
    bool root_is_table = false;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (hidden(e->d_name))
            continue;
        char full[PATH_MAX + 256];
        snprintf(full, sizeof full, "%s/%s", abs, e->d_name);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISREG(st.st_mode) || (S_ISDIR(st.st_mode) && partition_like(e->d_name))) {
            root_is_table = true;
        } else if (S_ISDIR(st.st_mode)) {
            char **v = realloc(children, (nchildren + 1) * sizeof *v);
            if (!v || !(v[nchildren] = strdup(e->d_name))) {
                children = v ? v : children;
                rc = FIN_ENOMEM;
                break;
            }
            children = v;
            nchildren++;
        }
    }
    closedir(d);
    if (!rc && nchildren)
        qsort(children, nchildren, sizeof *children, cmp_names);
    char name[FIN_CATALOG_NAME_MAX + 1];
    if (!rc && root_is_table) {
        const char *base = strrchr(abs, '/');
        fin_catalog_table_name(c.opts->table ? c.opts->table : base + 1, name, sizeof name);
        rc = crawl_table(cat, &c, abs, name, children, nchildren);
    }
    for (size_t i = 0; !rc && i < nchildren; i++) {
        char sub[PATH_MAX + 256];
        snprintf(sub, sizeof sub, "%s/%s", abs, children[i]);
        bool only = !root_is_table && nchildren == 1 && c.opts->table;
        fin_catalog_table_name(only ? c.opts->table : children[i], name, sizeof name);
        rc = crawl_table(cat, &c, sub, name, NULL, 0);
    }
    for (size_t i = 0; i < nchildren; i++)
        free(children[i]);
    free(children);
    if (!rc && c.opts->database && *c.opts->database)
        rc = fin_catalog__add_database(cat, c.opts->database);
    return rc;
}
