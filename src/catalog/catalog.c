/* catalog.c - the data catalog: the in-memory model, its JSON file, and Athena DDL.
 *
 * The file is one JSON document (catalog/catalog.json) so that it can be read by eye and
 * replaced in one atomic rename; a lake of tens of thousands of objects keeps it in the
 * low megabytes. Loading validates every field it needs and names the table that is
 * broken, so a hand-edited catalog fails with a message instead of a crash later. */
#include "catalog_int.h"
#include "finstream/buf.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"

#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct fin_catalog {
    char *path;                 /* catalog/catalog.json */
    char **databases;
    size_t ndatabases;
    struct fin_table **tables;  /* sorted by database, name */
    size_t ntables;
};

/* ---- columns and types ---- */

void fin_columns_fini(struct fin_columns *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].name);
        free(c->v[i].source);
        free(c->v[i].type);
        for (size_t k = 0; k < c->v[i].naliases; k++)
            free(c->v[i].aliases[k]);
        free(c->v[i].aliases);
    }
    free(c->v);
    memset(c, 0, sizeof *c);
}

struct fin_column *fin_columns_find(const struct fin_columns *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcasecmp(c->v[i].name, name) == 0)
            return &c->v[i];
    return NULL;
}

static char *lower_dup(const char *s)
{
    char *d = strdup(s);
    if (d)
        for (char *p = d; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    return d;
}

static int is_int_type(const char *t)
{
    return !strcmp(t, "bigint") || !strcmp(t, "int") || !strcmp(t, "smallint") ||
           !strcmp(t, "tinyint");
}

const char *fin_type_widen(const char *a, const char *b)
{
    static const char *const known[] = {"string", "bigint", "int", "smallint", "tinyint",
                                        "double", "float", "boolean", "date", "timestamp",
                                        "null"};
    if (!strcmp(a, "null"))
        a = b;
    else if (!strcmp(b, "null"))
        b = a;
    if (!strcmp(a, b)) {
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            if (!strcmp(a, known[i]))
                return known[i];
        return "string";   /* decimal(p,s), struct<...>: kept by the caller when equal */
    }
    if (is_int_type(a) && is_int_type(b))
        return "bigint";
    bool fa = !strcmp(a, "double") || !strcmp(a, "float");
    bool fb = !strcmp(b, "double") || !strcmp(b, "float");
    if ((fa || is_int_type(a)) && (fb || is_int_type(b)))
        return "double";
    return "string";
}

int fin_columns_merge(struct fin_columns *c, const char *source, const char *type)
{
    struct fin_column *col = fin_columns_find(c, source);
    if (col) {
        if (strcmp(col->type, type) == 0)
            return 0;
        const char *w = fin_type_widen(col->type, type);
        if (strcmp(w, "string") == 0 && strcmp(col->type, type) == 0)
            return 0;
        char *t = strdup(w);
        if (!t)
            return FIN_ENOMEM;
        free(col->type);
        col->type = t;
        return 0;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        struct fin_column *v = realloc(c->v, cap * sizeof *v);
        if (!v)
            return FIN_ENOMEM;
        c->v = v;
        c->cap = cap;
    }
    struct fin_column *n = &c->v[c->n];
    n->aliases = NULL;
    n->naliases = 0;
    n->name = lower_dup(source);
    n->source = strdup(source);
    n->type = strdup(type);
    if (!n->name || !n->source || !n->type) {
        free(n->name);
        free(n->source);
        free(n->type);
        return FIN_ENOMEM;
    }
    c->n++;
    return 0;
}

int fin_column_add_alias(struct fin_column *col, const char *spelling)
{
    if (col->source && strcmp(col->source, spelling) == 0)
        return 0;
    for (size_t i = 0; i < col->naliases; i++)
        if (strcmp(col->aliases[i], spelling) == 0)
            return 0;
    char **v = realloc(col->aliases, (col->naliases + 1) * sizeof *v);
    if (!v)
        return FIN_ENOMEM;
    col->aliases = v;
    if (!(v[col->naliases] = strdup(spelling)))
        return FIN_ENOMEM;
    col->naliases++;
    return 0;
}

void fin_catalog_table_name(const char *folder, char *out, size_t size)
{
    size_t j = 0;
    for (const char *p = folder; *p && j + 1 < size; p++) {
        unsigned char ch = (unsigned char)*p;
        out[j++] = isalnum(ch) ? (char)tolower(ch) : '_';
    }
    if (size)
        out[j] = '\0';
}

/* ---- tables ---- */

static void table_free(struct fin_table *t)
{
    if (!t)
        return;
    free(t->database);
    free(t->name);
    free(t->location);
    free(t->classification);
    free(t->framing);
    free(t->compression);
    free(t->created);
    free(t->updated);
    size_t nkeys = t->partition_keys.n;
    fin_columns_fini(&t->columns);
    fin_columns_fini(&t->partition_keys);
    for (size_t i = 0; i < t->npartitions; i++) {
        for (size_t k = 0; k < nkeys; k++)
            free(t->partitions[i].values[k]);
        free(t->partitions[i].values);
        free(t->partitions[i].path);
    }
    free(t->partitions);
    for (size_t i = 0; i < t->nobjects; i++) {
        free(t->objects[i].key);
        free(t->objects[i].damage);
    }
    free(t->objects);
    free(t);
}

static int cmp_tables(const void *a, const void *b)
{
    const struct fin_table *x = *(struct fin_table *const *)a, *y = *(struct fin_table *const *)b;
    int c = strcmp(x->database, y->database);
    return c ? c : strcmp(x->name, y->name);
}

size_t fin_catalog_table_count(const struct fin_catalog *cat) { return cat->ntables; }
struct fin_table *fin_catalog_table_at(const struct fin_catalog *cat, size_t i)
{
    return i < cat->ntables ? cat->tables[i] : NULL;
}
size_t fin_catalog_database_count(const struct fin_catalog *cat) { return cat->ndatabases; }
const char *fin_catalog_database_at(const struct fin_catalog *cat, size_t i)
{
    return i < cat->ndatabases ? cat->databases[i] : NULL;
}

struct fin_table *fin_catalog_find(const struct fin_catalog *cat, const char *name)
{
    const char *dot = strchr(name, '.');
    size_t dblen = dot ? (size_t)(dot - name) : strlen(FIN_CATALOG_DEFAULT_DATABASE);
    const char *db = dot ? name : FIN_CATALOG_DEFAULT_DATABASE;
    const char *tn = dot ? dot + 1 : name;
    for (size_t i = 0; i < cat->ntables; i++) {
        struct fin_table *t = cat->tables[i];
        if (strlen(t->database) == dblen && strncasecmp(t->database, db, dblen) == 0 &&
            strcasecmp(t->name, tn) == 0)
            return t;
    }
    return NULL;
}

/* Adds a database name if new. */
int fin_catalog__add_database(struct fin_catalog *cat, const char *db)
{
    for (size_t i = 0; i < cat->ndatabases; i++)
        if (strcmp(cat->databases[i], db) == 0)
            return 0;
    char **v = realloc(cat->databases, (cat->ndatabases + 1) * sizeof *v);
    if (!v)
        return FIN_ENOMEM;
    cat->databases = v;
    if (!(v[cat->ndatabases] = strdup(db)))
        return FIN_ENOMEM;
    cat->ndatabases++;
    return 0;
}

/* Takes over t (freed on failure). */
int fin_catalog__add_table(struct fin_catalog *cat, struct fin_table *t)
{
    int rc = fin_catalog__add_database(cat, t->database);
    struct fin_table **v = rc ? NULL : realloc(cat->tables, (cat->ntables + 1) * sizeof *v);
    if (!v) {
        table_free(t);
        return FIN_ENOMEM;
    }
    cat->tables = v;
    v[cat->ntables++] = t;
    qsort(cat->tables, cat->ntables, sizeof *cat->tables, cmp_tables);
    return 0;
}

void fin_catalog__table_free(struct fin_table *t) { table_free(t); }

/* ---- load ---- */

static int get_str(json_t *o, const char *key, char **out, const char *where)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return fin_err_set(FIN_ECORRUPT, "%s: missing or non-string \"%s\"", where, key);
    if (!(*out = strdup(json_string_value(v))))
        return FIN_ENOMEM;
    return 0;
}

static int load_columns(json_t *arr, struct fin_columns *cols, const char *where)
{
    if (!json_is_array(arr))
        return fin_err_set(FIN_ECORRUPT, "%s: columns are not a list", where);
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) {
        json_t *name = json_object_get(c, "name"), *type = json_object_get(c, "type"),
               *src = json_object_get(c, "source");
        if (!json_is_string(name) || !json_is_string(type))
            return fin_err_set(FIN_ECORRUPT, "%s: column %zu has no name or type", where, i);
        int rc = fin_columns_merge(cols, json_is_string(src) ? json_string_value(src)
                                                             : json_string_value(name),
                                   json_string_value(type));
        if (rc)
            return rc;
        /* keep the stored (lower-case) name even when the source differs */
        struct fin_column *col = &cols->v[cols->n - 1];
        char *n = strdup(json_string_value(name));
        if (!n)
            return FIN_ENOMEM;
        free(col->name);
        col->name = n;
        free(col->type);
        if (!(col->type = strdup(json_string_value(type))))
            return FIN_ENOMEM;
        size_t k;
        json_t *alias;
        json_array_foreach(json_object_get(c, "aliases"), k, alias) {
            if (json_is_string(alias) && (rc = fin_column_add_alias(col, json_string_value(alias))))
                return rc;
        }
    }
    return 0;
}

int fin_table__add_partition(struct fin_table *t, char **values, const char *path)
{
    if (t->npartitions == t->partitions_cap) {
        size_t cap = t->partitions_cap ? t->partitions_cap * 2 : 16;
        struct fin_partition *v = realloc(t->partitions, cap * sizeof *v);
        if (!v)
            return FIN_ENOMEM;
        t->partitions = v;
        t->partitions_cap = cap;
    }
    char *p = strdup(path);
    if (!p)
        return FIN_ENOMEM;
    t->partitions[t->npartitions].values = values;
    t->partitions[t->npartitions].path = p;
    t->npartitions++;
    return 0;
}

int fin_table__add_object(struct fin_table *t, const char *key, int64_t size, int64_t mtime,
                          bool gzip)
{
    if (t->nobjects == t->objects_cap) {
        size_t cap = t->objects_cap ? t->objects_cap * 2 : 64;
        struct fin_object *v = realloc(t->objects, cap * sizeof *v);
        if (!v)
            return FIN_ENOMEM;
        t->objects = v;
        t->objects_cap = cap;
    }
    char *k = strdup(key);
    if (!k)
        return FIN_ENOMEM;
    t->objects[t->nobjects++] = (struct fin_object){k, size, mtime, gzip, NULL};
    return 0;
}

static int load_table(json_t *o, struct fin_table **out, const char *path, size_t idx)
{
    char where[512];
    snprintf(where, sizeof where, "%s: table %zu", path, idx);
    struct fin_table *t = calloc(1, sizeof *t);
    if (!t)
        return FIN_ENOMEM;
    int rc;
    if ((rc = get_str(o, "database", &t->database, where)) ||
        (rc = get_str(o, "name", &t->name, where)))
        goto fail;
    snprintf(where, sizeof where, "%s: table %s.%s", path, t->database, t->name);
    if ((rc = get_str(o, "location", &t->location, where)) ||
        (rc = get_str(o, "classification", &t->classification, where)) ||
        (rc = get_str(o, "framing", &t->framing, where)) ||
        (rc = get_str(o, "compression", &t->compression, where)) ||
        (rc = get_str(o, "created", &t->created, where)) ||
        (rc = get_str(o, "updated", &t->updated, where)) ||
        (rc = load_columns(json_object_get(o, "columns"), &t->columns, where)) ||
        (rc = load_columns(json_object_get(o, "partition_keys"), &t->partition_keys, where)))
        goto fail;
    t->records_sampled = json_integer_value(json_object_get(o, "records_sampled"));
    t->bad_records = json_integer_value(json_object_get(o, "bad_records"));
    json_t *parts = json_object_get(o, "partitions"), *p;
    size_t i;
    json_array_foreach(parts, i, p) {
        json_t *vals = json_object_get(p, "values");
        json_t *ppath = json_object_get(p, "path");
        if (json_array_size(vals) != t->partition_keys.n || !json_is_string(ppath)) {
            rc = fin_err_set(FIN_ECORRUPT, "%s: partition %zu does not match the keys", where, i);
            goto fail;
        }
        char **values = calloc(t->partition_keys.n + 1, sizeof *values);
        if (!values) {
            rc = FIN_ENOMEM;
            goto fail;
        }
        for (size_t k = 0; k < t->partition_keys.n; k++) {
            const char *s = json_string_value(json_array_get(vals, k));
            values[k] = strdup(s ? s : "");
        }
        if ((rc = fin_table__add_partition(t, values, json_string_value(ppath)))) {
            for (size_t k = 0; k < t->partition_keys.n; k++)
                free(values[k]);
            free(values);
            goto fail;
        }
    }
    json_t *objs = json_object_get(o, "objects"), *ob;
    json_array_foreach(objs, i, ob) {
        json_t *k = json_array_get(ob, 0);
        if (!json_is_string(k)) {
            rc = fin_err_set(FIN_ECORRUPT, "%s: object %zu has no key", where, i);
            goto fail;
        }
        if ((rc = fin_table__add_object(t, json_string_value(k),
                                        json_integer_value(json_array_get(ob, 1)),
                                        json_integer_value(json_array_get(ob, 2)),
                                        json_is_true(json_array_get(ob, 3)))))
            goto fail;
        json_t *damage = json_array_get(ob, 4);
        if (json_is_string(damage) &&
            !(t->objects[t->nobjects - 1].damage = strdup(json_string_value(damage)))) {
            rc = FIN_ENOMEM;
            goto fail;
        }
    }
    *out = t;
    return 0;
fail:
    table_free(t);
    return rc;
}

int fin_catalog_open(struct fin_catalog **out, const char *data_dir)
{
    struct fin_catalog *cat = calloc(1, sizeof *cat);
    json_t *root = NULL;
    char *text = NULL;
    int rc = FIN_ENOMEM;
    if (!cat || !(cat->path = fin_path_join(data_dir, FIN_CATALOG_FILE)))
        goto fail;
    if (!fin_path_exists(cat->path)) {
        *out = cat;
        return 0;
    }
    size_t len;
    if ((rc = fin_read_file(cat->path, &text, &len)))
        goto fail;
    json_error_t jerr;
    root = json_loadb(text, len, 0, &jerr);
    if (!root) {
        rc = fin_err_set(FIN_ECORRUPT, "%s:%d: %s", cat->path, jerr.line, jerr.text);
        goto fail;
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(root, "databases"), i, v) {
        if (json_is_string(v) && (rc = fin_catalog__add_database(cat, json_string_value(v))))
            goto fail;
    }
    json_array_foreach(json_object_get(root, "tables"), i, v) {
        struct fin_table *t = NULL;
        if ((rc = load_table(v, &t, cat->path, i)) || (rc = fin_catalog__add_table(cat, t)))
            goto fail;
    }
    json_decref(root);
    free(text);
    *out = cat;
    return 0;
fail:
    json_decref(root);
    free(text);
    fin_catalog_close(cat);
    return rc;
}

void fin_catalog_close(struct fin_catalog *cat)
{
    if (!cat)
        return;
    for (size_t i = 0; i < cat->ntables; i++)
        table_free(cat->tables[i]);
    free(cat->tables);
    for (size_t i = 0; i < cat->ndatabases; i++)
        free(cat->databases[i]);
    free(cat->databases);
    free(cat->path);
    free(cat);
}

/* ---- save ---- */

static json_t *columns_json(const struct fin_columns *c)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < c->n; i++) {
        json_t *o = json_pack("{s:s, s:s}", "name", c->v[i].name, "type", c->v[i].type);
        if (o && c->v[i].source && strcmp(c->v[i].source, c->v[i].name) != 0)
            json_object_set_new(o, "source", json_string(c->v[i].source));
        if (o && c->v[i].naliases) {
            json_t *al = json_array();
            for (size_t k = 0; al && k < c->v[i].naliases; k++)
                json_array_append_new(al, json_string(c->v[i].aliases[k]));
            json_object_set_new(o, "aliases", al);
        }
        if (!o || json_array_append_new(a, o)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *table_json(const struct fin_table *t)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:I}",
                          "database", t->database, "name", t->name, "location", t->location,
                          "classification", t->classification, "framing", t->framing,
                          "compression", t->compression, "created", t->created, "updated",
                          t->updated, "columns", columns_json(&t->columns), "partition_keys",
                          columns_json(&t->partition_keys), "records_sampled",
                          (json_int_t)t->records_sampled, "bad_records",
                          (json_int_t)t->bad_records);
    json_t *parts = json_array(), *objs = json_array();
    if (!o || !parts || !objs)
        goto fail;
    for (size_t i = 0; i < t->npartitions; i++) {
        json_t *vals = json_array();
        for (size_t k = 0; vals && k < t->partition_keys.n; k++)
            json_array_append_new(vals, json_string(t->partitions[i].values[k]));
        if (json_array_append_new(parts, json_pack("{s:o, s:s}", "values", vals, "path",
                                                   t->partitions[i].path)))
            goto fail;
    }
    for (size_t i = 0; i < t->nobjects; i++) {
        json_t *ob = json_pack("[s, I, I, b]", t->objects[i].key, (json_int_t)t->objects[i].size,
                               (json_int_t)t->objects[i].mtime, t->objects[i].gzip);
        if (ob && t->objects[i].damage)
            json_array_append_new(ob, json_string(t->objects[i].damage));
        if (json_array_append_new(objs, ob))
            goto fail;
    }
    json_object_set_new(o, "partitions", parts);
    json_object_set_new(o, "objects", objs);
    return o;
fail:
    json_decref(o);
    json_decref(parts);
    json_decref(objs);
    return NULL;
}

int fin_catalog_save(struct fin_catalog *cat)
{
    json_t *root = json_object(), *dbs = json_array(), *tables = json_array();
    char *text = NULL, *dir = NULL;
    int rc = FIN_ENOMEM;
    if (!root || !dbs || !tables)
        goto fail;
    for (size_t i = 0; i < cat->ndatabases; i++)
        if (json_array_append_new(dbs, json_string(cat->databases[i])))
            goto fail;
    for (size_t i = 0; i < cat->ntables; i++) {
        json_t *t = table_json(cat->tables[i]);
        if (!t || json_array_append_new(tables, t)) {
            rc = fin_err_set(FIN_EINVAL, "%s: cannot encode table %s.%s (text that is not UTF-8?)",
                             cat->path, cat->tables[i]->database, cat->tables[i]->name);
            goto fail;
        }
    }
    json_object_set_new(root, "version", json_integer(1));
    json_object_set(root, "databases", dbs);
    json_object_set(root, "tables", tables);
    text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    if (!text)
        goto fail;
    dir = strdup(cat->path);
    if (!dir)
        goto fail;
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if ((rc = fin_mkdir_p(dir, 0755)) || (rc = fin_write_file_atomic(cat->path, text, strlen(text))))
        goto fail;
    rc = 0;
fail:
    json_decref(root);
    json_decref(dbs);
    json_decref(tables);
    free(text);
    free(dir);
    return rc;
}

/* ---- DDL ---- */

/* Glue type -> Athena DDL type: the same names, but Athena spells string columns string
 * and a column seen only as null is declared string. */
static const char *ddl_type(const char *t) { return strcmp(t, "null") == 0 ? "string" : t; }

int fin_catalog_ddl(const struct fin_table *t, const char *s3_location, char **out)
{
    struct fin_buf b;
    fin_buf_init(&b);
    int rc = 0;
    rc |= fin_buf_printf(&b, "CREATE EXTERNAL TABLE `%s`.`%s` (\n", t->database, t->name);
    for (size_t i = 0; i < t->columns.n; i++)
        rc |= fin_buf_printf(&b, "  `%s` %s%s\n", t->columns.v[i].name,
                             ddl_type(t->columns.v[i].type), i + 1 < t->columns.n ? "," : "");
    rc |= fin_buf_puts(&b, ")\n");
    if (t->partition_keys.n) {
        rc |= fin_buf_puts(&b, "PARTITIONED BY (\n");
        for (size_t i = 0; i < t->partition_keys.n; i++)
            rc |= fin_buf_printf(&b, "  `%s` string%s\n", t->partition_keys.v[i].name,
                                 i + 1 < t->partition_keys.n ? "," : "");
        rc |= fin_buf_puts(&b, ")\n");
    }
    if (strcmp(t->classification, "json") == 0) {
        /* The OpenX SerDe: case-insensitive keys (Glue lower-cases them), and a line that is
         * not JSON reads as nulls instead of failing the query, as the local views do. */
        rc |= fin_buf_puts(&b,
                           "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\n"
                           "WITH SERDEPROPERTIES (\n"
                           "  'case.insensitive' = 'true',\n"
                           "  'ignore.malformed.json' = 'true'");
        bool mapped = false;
        for (size_t i = 0; i < t->columns.n; i++) {
            const struct fin_column *c = &t->columns.v[i];
            if (c->source && strcmp(c->source, c->name) != 0) {
                rc |= fin_buf_printf(&b, ",\n  'mapping.%s' = '%s'", c->name, c->source);
                mapped = true;
            }
        }
        (void)mapped;
        rc |= fin_buf_puts(&b,
                           "\n)\n"
                           "STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'\n"
                           "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n");
    } else if (strcmp(t->classification, "csv") == 0) {
        rc |= fin_buf_puts(&b, "ROW FORMAT DELIMITED FIELDS TERMINATED BY ','\n"
                               "STORED AS TEXTFILE\n");
    } else {
        rc |= fin_buf_puts(&b, "STORED AS PARQUET\n");
    }
    if (s3_location) {
        size_t n = strlen(s3_location);
        rc |= fin_buf_printf(&b, "LOCATION '%s%s'\n", s3_location,
                             n && s3_location[n - 1] == '/' ? "" : "/");
    } else {
        rc |= fin_buf_printf(&b, "LOCATION 'file://%s/'\n", t->location);
    }
    rc |= fin_buf_printf(&b, "TBLPROPERTIES (\n  'classification' = '%s'", t->classification);
    if (strcmp(t->classification, "csv") == 0)
        rc |= fin_buf_puts(&b, ",\n  'skip.header.line.count' = '1'");
    if (strcmp(t->compression, "gzip") == 0)
        rc |= fin_buf_puts(&b, ",\n  'compressionType' = 'gzip'");
    rc |= fin_buf_puts(&b, "\n);\n");
    if (rc) {
        fin_buf_fini(&b);
        return FIN_ENOMEM;
    }
    *out = fin_buf_take(&b, NULL);
    return 0;
}

/* ---- tables by hand: CREATE EXTERNAL TABLE, DROP, rename, MSCK REPAIR ---- */

/* Glue's names: 1 to 255 of [a-z0-9_] (upper case is folded before this check). */
static int check_name(const char *what, const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > FIN_CATALOG_NAME_MAX)
        return fin_err_set(FIN_EINVAL, "%s name '%s' must have 1 to %d characters", what, s,
                           FIN_CATALOG_NAME_MAX);
    for (const char *p = s; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
            return fin_err_set(FIN_EINVAL,
                               "%s name '%s': only lower-case letters, digits and '_' are allowed",
                               what, s);
    return 0;
}

int fin_table_create(struct fin_table **out, const char *database, const char *name,
                     const char *location, const char *classification, const char *now)
{
    struct fin_table *t = calloc(1, sizeof *t);
    int rc = FIN_ENOMEM;
    if (!t)
        return rc;
    if (!(t->database = lower_dup(database)) || !(t->name = lower_dup(name)))
        goto fail;
    if ((rc = check_name("database", t->database)) || (rc = check_name("table", t->name)))
        goto fail;
    rc = FIN_ENOMEM;
    if (!(t->location = strdup(location)) || !(t->classification = strdup(classification)) ||
        !(t->framing = strdup(strcmp(classification, "json") ? "lines" : "mixed")) ||
        !(t->compression = strdup("none")) || !(t->created = strdup(now)) ||
        !(t->updated = strdup(now)))
        goto fail;
    *out = t;
    return 0;
fail:
    table_free(t);
    return rc;
}

void fin_table_destroy(struct fin_table *t) { table_free(t); }

int fin_catalog_add(struct fin_catalog *cat, struct fin_table *t)
{
    for (size_t i = 0; i < cat->ntables; i++)
        if (!strcmp(cat->tables[i]->database, t->database) && !strcmp(cat->tables[i]->name, t->name)) {
            int rc = fin_err_set(FIN_EEXIST, "table %s.%s already exists", t->database, t->name);
            table_free(t);
            return rc;
        }
    return fin_catalog__add_table(cat, t);
}

static size_t index_of(const struct fin_catalog *cat, const char *name)
{
    const struct fin_table *t = fin_catalog_find(cat, name);
    for (size_t i = 0; t && i < cat->ntables; i++)
        if (cat->tables[i] == t)
            return i;
    return (size_t)-1;
}

int fin_catalog_drop(struct fin_catalog *cat, const char *name)
{
    size_t i = index_of(cat, name);
    if (i == (size_t)-1)
        return fin_err_set(FIN_ENOENT, "no table '%s' in the catalog", name);
    table_free(cat->tables[i]);
    memmove(&cat->tables[i], &cat->tables[i + 1], (cat->ntables - i - 1) * sizeof *cat->tables);
    cat->ntables--;
    return 0;
}

int fin_catalog_rename(struct fin_catalog *cat, const char *name, const char *new_name)
{
    size_t i = index_of(cat, name);
    if (i == (size_t)-1)
        return fin_err_set(FIN_ENOENT, "no table '%s' in the catalog", name);
    struct fin_table *t = cat->tables[i];
    const char *dot = strchr(new_name, '.');
    char *db = dot ? strndup(new_name, (size_t)(dot - new_name)) : strdup(t->database);
    char *tn = lower_dup(dot ? dot + 1 : new_name);
    int rc = FIN_ENOMEM;
    if (!db || !tn)
        goto fail;
    for (char *p = db; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if ((rc = check_name("database", db)) || (rc = check_name("table", tn)))
        goto fail;
    for (size_t j = 0; j < cat->ntables; j++)
        if (!strcmp(cat->tables[j]->database, db) && !strcmp(cat->tables[j]->name, tn)) {
            rc = fin_err_set(FIN_EEXIST, "table %s.%s already exists", db, tn);
            goto fail;
        }
    if ((rc = fin_catalog__add_database(cat, db)))
        goto fail;
    free(t->database);
    free(t->name);
    t->database = db;
    t->name = tn;
    qsort(cat->tables, cat->ntables, sizeof *cat->tables, cmp_tables);
    return 0;
fail:
    free(db);
    free(tn);
    return rc;
}

/* True when dir holds a file whose name does not start with '.' or '_'. */
static bool holds_objects(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool found = false;
    while (d && !found && (e = readdir(d))) {
        if (e->d_name[0] == '.' || e->d_name[0] == '_')
            continue;
        char *p = fin_path_join(dir, e->d_name);
        struct stat st;
        found = p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
        free(p);
    }
    if (d)
        closedir(d);
    return found;
}

static bool has_partition(const struct fin_table *t, const char *path)
{
    for (size_t i = 0; i < t->npartitions; i++)
        if (!strcmp(t->partitions[i].path, path))
            return true;
    return false;
}

/* Walks level k of the partition folders below rel; values[0..k) are filled. */
static int repair_level(struct fin_table *t, size_t k, const char *rel, char **values,
                        size_t *added)
{
    char *dir = rel[0] ? fin_path_join(t->location, rel) : strdup(t->location);
    if (!dir)
        return FIN_ENOMEM;
    int rc = 0;
    if (k == t->partition_keys.n) {
        if (!has_partition(t, rel) && holds_objects(dir)) {
            char **v = calloc(k + 1, sizeof *v);
            for (size_t i = 0; v && i < k; i++)
                if (!(v[i] = strdup(values[i])))
                    rc = FIN_ENOMEM;
            if (!v || rc || (rc = fin_table__add_partition(t, v, rel))) {
                for (size_t i = 0; v && i < k; i++)
                    free(v[i]);
                free(v);
                rc = rc ? rc : FIN_ENOMEM;
            } else {
                (*added)++;
            }
        }
        free(dir);
        return rc;
    }
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return 0;   /* a table whose location does not exist yet has no partitions */
    }
    /* sorted, so that partitions are registered in the lake's order */
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    closedir(d);
    const char *key = t->partition_keys.v[k].name;
    bool named = strncmp(key, "partition_", 10) != 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char *sub = NULL;
        struct stat st;
        if (!rc && name[0] != '.' && name[0] != '_' && (sub = fin_path_join(dir, name)) &&
            stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
            const char *value = name;
            const char *eq = strchr(name, '=');
            /* key=value folders must name this key, as Hive's MSCK requires */
            if (named && (!eq || strlen(key) != (size_t)(eq - name) ||
                          strncasecmp(name, key, strlen(key)) != 0))
                value = NULL;
            else if (named)
                value = eq + 1;
            if (value) {
                char *r2 = rel[0] ? fin_path_join(rel, name) : strdup(name);
                values[k] = (char *)value;
                rc = r2 ? repair_level(t, k + 1, r2, values, added) : FIN_ENOMEM;
                free(r2);
            }
        }
        free(sub);
        free(names[i]);
    }
    free(names);
    free(dir);
    return rc;
}

int fin_catalog_repair(struct fin_table *t, size_t *added)
{
    *added = 0;
    if (t->partition_keys.n == 0)
        return 0;
    char **values = calloc(t->partition_keys.n, sizeof *values);
    if (!values)
        return FIN_ENOMEM;
    int rc = repair_level(t, 0, "", values, added);
    free(values);
    return rc;
}

int fin_catalog_add_partition(struct fin_table *t, const char *const *values, const char *path)
{
    if (has_partition(t, path))
        return fin_err_set(FIN_EEXIST, "partition %s of %s.%s already exists", path, t->database,
                           t->name);
    for (size_t i = 0; i < t->npartitions; i++) {
        bool same = true;
        for (size_t k = 0; same && k < t->partition_keys.n; k++)
            same = !strcmp(t->partitions[i].values[k], values[k]);
        if (same)
            return fin_err_set(FIN_EEXIST, "%s.%s already has a partition with these values (%s)",
                               t->database, t->name, t->partitions[i].path);
    }
    char **v = calloc(t->partition_keys.n + 1, sizeof *v);
    int rc = v ? 0 : FIN_ENOMEM;
    for (size_t k = 0; !rc && k < t->partition_keys.n; k++)
        if (!(v[k] = strdup(values[k])))
            rc = FIN_ENOMEM;
    if (!rc && !(rc = fin_table__add_partition(t, v, path)))
        return 0;
    for (size_t k = 0; v && k < t->partition_keys.n; k++)
        free(v[k]);
    free(v);
    return rc;
}

int fin_catalog_drop_partition(struct fin_table *t, const char *const *values)
{
    for (size_t i = 0; i < t->npartitions; i++) {
        bool same = true;
        for (size_t k = 0; same && k < t->partition_keys.n; k++)
            same = !strcmp(t->partitions[i].values[k], values[k]);
        if (!same)
            continue;
        for (size_t k = 0; k < t->partition_keys.n; k++)
            free(t->partitions[i].values[k]);
        free(t->partitions[i].values);
        free(t->partitions[i].path);
        memmove(&t->partitions[i], &t->partitions[i + 1],
                (t->npartitions - i - 1) * sizeof *t->partitions);
        t->npartitions--;
        return 0;
    }
    return fin_err_set(FIN_ENOENT, "%s.%s has no such partition", t->database, t->name);
}
