/* engine.c - the DuckDB wrapper: finstream's Athena.
 *
 * One in-memory DuckDB database per fin_query. On open (and refresh) every catalog table
 * becomes a view database.table over the lake objects in place: read_json, read_csv or
 * read_parquet over one glob per registered partition (so, as in Athena, a partition
 * folder the crawler has not registered yet is not read), with the catalog's columns
 * declared, the original key spelling mapped to the lower-case name, NaN read as NULL,
 * and partition columns derived from the object's path. Because the partition columns
 * are expressions over the reader's filename column, DuckDB evaluates a WHERE on them
 * against each file name before opening it: pruning that EXPLAIN ANALYZE shows as
 * "Scanning Files: k/n".
 *
 * Athena (Trino) semantics that DuckDB lacks are added in two layers. Functions are
 * temporary macros on the connection (date_parse, date_format, date_add, date_diff, ...),
 * which shadow DuckDB's built-ins of the same name for the duration of the session.
 * What a macro cannot express is a rewrite of the parsed statement: DuckDB serialises the
 * parse tree to JSON (json_serialize_sql), the tree is edited, and the SQL is
 * regenerated (json_deserialize_sql). Three edits are made: CAST(x AS timestamp) goes
 * through timestamp with time zone so that an offset in the string converts to UTC;
 * date_parse/date_format with a constant MySQL-style format become strptime/strftime
 * with the format translated (DuckDB insists on a constant format, which a macro
 * cannot pass on); and unaliased expressions of the outer SELECT get Athena's names
 * _col0, _col1, ... . A statement the serialiser does not handle runs as written.
 *
 * Two steps come before: Trino's implicit aliases and keyword names, which DuckDB's
 * parser refuses, are rewritten on tokens (lexer.c), and Athena's catalog statements
 * (SHOW TABLES, MSCK REPAIR TABLE, CTAS, ...) are answered from the catalog
 * (statement.c). In the tree, a table named without its database gets the selected
 * database, or the one database that has it; two candidates make an error. The views
 * live in a DuckDB catalog named awsdatacatalog, so Athena's three-part names resolve. */
#include "query_int.h"
#include "finstream/buf.h"
#include "finstream/catalog.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/interrupt.h"
#include "finstream/log.h"

#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>


const char *fin_query_engine_version(void) { return duckdb_library_version(); }

/* Runs SQL whose result is not needed; FIN_ESQL with DuckDB's message on error. */
static int run(duckdb_connection c, const char *sql)
{
    duckdb_result res;
    int rc = 0;
    if (duckdb_query(c, sql, &res) == DuckDBError)
        rc = fin_err_set(FIN_ESQL, "%s", duckdb_result_error(&res));
    duckdb_destroy_result(&res);
    return rc;
}

/* Athena functions that DuckDB lacks or spells differently, as temporary macros. */
static const char *const macros[] = {
    /* Trino's date_add(unit, value, timestamp); DuckDB's own date_add(date, interval) kept */
    "CREATE OR REPLACE TEMP MACRO date_add(u, n, t) AS CASE lower(u)"
    " WHEN 'millisecond' THEN t + to_milliseconds(n) WHEN 'second' THEN t + to_seconds(n)"
    " WHEN 'minute' THEN t + to_minutes(n) WHEN 'hour' THEN t + to_hours(n)"
    " WHEN 'day' THEN t + to_days(n) WHEN 'week' THEN t + to_weeks(n)"
    " WHEN 'month' THEN t + to_months(n) WHEN 'quarter' THEN t + to_months(3 * n)"
    " WHEN 'year' THEN t + to_years(n)"
    " ELSE error('date_add: unknown unit ''' || u || '''') END,"
    " (d, i) AS d + i",
    /* Trino counts whole units elapsed (date_sub); DuckDB's date_diff counts boundaries */
    "CREATE OR REPLACE TEMP MACRO date_diff(u, a, b) AS date_sub(u, a, b)",
    "CREATE OR REPLACE TEMP MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)",
    "CREATE OR REPLACE TEMP MACRO from_iso8601_date(s) AS CAST(s AS DATE)",
    "CREATE OR REPLACE TEMP MACRO from_unixtime(n) AS to_timestamp(n)",
    "CREATE OR REPLACE TEMP MACRO to_unixtime(t) AS epoch(t)",
    "CREATE OR REPLACE TEMP MACRO to_iso8601(t) AS strftime(t, '%Y-%m-%dT%H:%M:%S.%gZ')",
    "CREATE OR REPLACE TEMP MACRO regexp_like(s, p) AS regexp_matches(s, p)",
    "CREATE OR REPLACE TEMP MACRO approx_distinct(x) AS approx_count_distinct(x)",
    /* Trino's approx_percentile(x, p) and (x, ARRAY[p1, p2]); DuckDB's t-digest */
    "CREATE OR REPLACE TEMP MACRO approx_percentile(x, p) AS approx_quantile(x, p)",
    /* element_at(array, i) (1-based, negative from the end) and element_at(map, key):
     * DuckDB's subscript does both; its own element_at returns a list for maps */
    "CREATE OR REPLACE TEMP MACRO element_at(c, k) AS c[k]",
    /* substr/substring of a timestamp read as text; a no-op cast for strings */
    "CREATE OR REPLACE TEMP MACRO substr(s, a) AS system.main.substring(CAST(s AS VARCHAR), a),"
    " (s, a, n) AS system.main.substring(CAST(s AS VARCHAR), a, n)",
    "CREATE OR REPLACE TEMP MACRO substring(s, a) AS"
    " system.main.substring(CAST(s AS VARCHAR), a),"
    " (s, a, n) AS system.main.substring(CAST(s AS VARCHAR), a, n)",
};

int fin_query__run(struct fin_query *q, const char *sql) { return run(q->conn, sql); }

#define lit fin_query__lit
#define ident fin_query__ident

/* ---- views ---- */

static const char *duck_type(const char *glue)
{
    static const struct { const char *glue, *duck; } map[] = {
        {"bigint", "BIGINT"}, {"int", "INTEGER"},   {"smallint", "SMALLINT"},
        {"tinyint", "TINYINT"}, {"double", "DOUBLE"}, {"float", "FLOAT"},
        {"boolean", "BOOLEAN"}, {"date", "DATE"},     {"timestamp", "TIMESTAMP"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(glue, map[i].glue) == 0)
            return map[i].duck;
    if (strncmp(glue, "decimal(", 8) == 0)
        return glue;
    return "VARCHAR";
}

int fin_query__lit(struct fin_buf *b, const char *s);

/* Hive's type syntax (array<T>, map<K,V>, struct<a:T,...>, decimal(p,s), varchar(n)) as
 * DuckDB's (T[], MAP(K, V), STRUCT("a" T, ...)), so that nested JSON reads as nested
 * values. Returns the text after the type, or NULL for a type it does not know. */
static const char *hive_type(const char *p, struct fin_buf *b)
{
    static const struct { const char *hive, *duck; } scalars[] = {
        {"string", "VARCHAR"}, {"varchar", "VARCHAR"}, {"char", "VARCHAR"},
        {"bigint", "BIGINT"},  {"int", "INTEGER"},     {"integer", "INTEGER"},
        {"smallint", "SMALLINT"}, {"tinyint", "TINYINT"}, {"double", "DOUBLE"},
        {"float", "FLOAT"},    {"real", "FLOAT"},      {"boolean", "BOOLEAN"},
        {"date", "DATE"},      {"timestamp", "TIMESTAMP"}, {"binary", "BLOB"},
    };
    char name[32];
    size_t n = 0;
    while (*p == ' ')
        p++;
    while ((isalnum((unsigned char)*p) || *p == '_') && n + 1 < sizeof name)
        name[n++] = (char)tolower((unsigned char)*p++);
    name[n] = '\0';
    while (*p == ' ')
        p++;
    if (!strcmp(name, "array") && *p == '<') {
        if (!(p = hive_type(p + 1, b)) || *p != '>' || fin_buf_puts(b, "[]"))
            return NULL;
        return p + 1;
    }
    if (!strcmp(name, "map") && *p == '<') {
        if (fin_buf_puts(b, "MAP(") || !(p = hive_type(p + 1, b)) || *p != ',' ||
            fin_buf_puts(b, ", ") || !(p = hive_type(p + 1, b)) || *p != '>' ||
            fin_buf_puts(b, ")"))
            return NULL;
        return p + 1;
    }
    if (!strcmp(name, "struct") && *p == '<') {
        if (fin_buf_puts(b, "STRUCT("))
            return NULL;
        p++;
        for (int k = 0;; k++) {
            while (*p == ' ')
                p++;
            const char *f = p;
            while (*p && *p != ':' && *p != '>' && *p != ',')
                p++;
            if (*p != ':' || p == f || (k && fin_buf_puts(b, ", ")) || fin_buf_puts(b, "\""))
                return NULL;
            for (const char *c = f; c < p; c++)
                if (fin_buf_append(b, *c == '"' ? "\"\"" : c, *c == '"' ? 2 : 1))
                    return NULL;
            if (fin_buf_puts(b, "\" ") || !(p = hive_type(p + 1, b)))
                return NULL;
            if (*p == ',') {
                p++;
                continue;
            }
            if (*p != '>' || fin_buf_puts(b, ")"))
                return NULL;
            return p + 1;
        }
    }
    if (!strcmp(name, "decimal") && *p == '(') {
        const char *end = strchr(p, ')');
        if (!end || fin_buf_puts(b, "DECIMAL") || fin_buf_append(b, p, (size_t)(end - p + 1)))
            return NULL;
        return end + 1;
    }
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
        if (!strcmp(name, scalars[i].hive)) {
            if (*p == '(' && (p = strchr(p, ')')))   /* varchar(n), char(n) */
                p++;
            return p && !fin_buf_puts(b, scalars[i].duck) ? p : NULL;
        }
    return NULL;
}

/* The DuckDB type a JSON view declares for a catalog type: nested types too. */
static int json_column_type(struct fin_buf *b, const char *glue)
{
    struct fin_buf t;
    fin_buf_init(&t);
    const char *end = strchr(glue, '<') ? hive_type(glue, &t) : NULL;
    int rc = end && !*end && fin_buf_cstr(&t) ? lit(b, fin_buf_cstr(&t)) : lit(b, duck_type(glue));
    fin_buf_fini(&t);
    return rc;
}

/* Appends s as an SQL string literal ('...' with quotes doubled). */
int fin_query__lit(struct fin_buf *b, const char *s)
{
    int rc = fin_buf_puts(b, "'");
    for (; !rc && *s; s++)
        rc = *s == '\'' ? fin_buf_puts(b, "''") : fin_buf_append(b, s, 1);
    return rc || fin_buf_puts(b, "'");
}

/* Appends s as a quoted SQL identifier. */
int fin_query__ident(struct fin_buf *b, const char *s)
{
    int rc = fin_buf_puts(b, "\"");
    for (; !rc && *s; s++)
        rc = *s == '"' ? fin_buf_puts(b, "\"\"") : fin_buf_append(b, s, 1);
    return rc || fin_buf_puts(b, "\"");
}

/* True when dir holds at least one object a view reads (a file not starting with '.' or
 * '_'): DuckDB fails a whole scan on a glob that matches nothing. */
static bool has_objects(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)))
        found = e->d_name[0] != '.' && e->d_name[0] != '_' && e->d_type != DT_DIR;
    closedir(d);
    return found;
}

/* The globs a table's view reads: one per registered partition folder that holds objects.
 * "[!._]*" leaves out names starting with '.' or '_', which Athena ignores and DuckDB's
 * '*' would match (temporary and marker files). */
static int add_globs(struct fin_buf *b, const struct fin_table *t, size_t *n)
{
    int rc = fin_buf_puts(b, "[");
    *n = 0;
    size_t count = t->partition_keys.n ? t->npartitions : 1;
    for (size_t i = 0; !rc && i < count; i++) {
        char *dir = t->partition_keys.n ? fin_path_join(t->location, t->partitions[i].path)
                                         : strdup(t->location);
        if (!dir)
            return FIN_ENOMEM;
        if (has_objects(dir)) {
            struct fin_buf g;
            fin_buf_init(&g);
            rc = fin_buf_printf(&g, "%s/[!._]*", dir) || !fin_buf_cstr(&g) ||
                 (*n ? fin_buf_puts(b, ",") : 0) || lit(b, fin_buf_cstr(&g));
            fin_buf_fini(&g);
            (*n)++;
        }
        free(dir);
    }
    return rc || fin_buf_puts(b, "]");
}

/* A JSON table whose keys come in several spellings ("High" in some objects, "high" in
 * others: one column, as the OpenX SerDe matches keys case-insensitively). DuckDB matches
 * keys exactly and refuses two columns that differ only in case, so such a table reads
 * each record as JSON and takes the first spelling present. */
static bool has_aliases(const struct fin_table *t)
{
    for (size_t i = 0; strcmp(t->classification, "json") == 0 && i < t->columns.n; i++)
        if (t->columns.v[i].naliases)
            return true;
    return false;
}

static int objects_sql(struct fin_buf *b, const struct fin_table *t, const char *list,
                       const char *compression, const char *fmt)
{
    int rc = fin_buf_puts(b, "(SELECT ");
    for (size_t i = 0; !rc && i < t->columns.n; i++) {
        const struct fin_column *c = &t->columns.v[i];
        rc = fin_buf_printf(b, "%sTRY_CAST(coalesce(json->>", i ? ", " : "") ||
             lit(b, c->source ? c->source : c->name);
        for (size_t k = 0; !rc && k < c->naliases; k++)
            rc = fin_buf_puts(b, ", json->>") || lit(b, c->aliases[k]);
        rc = rc || fin_buf_printf(b, ") AS %s) AS ", duck_type(c->type)) ||
             ident(b, c->source ? c->source : c->name);
    }
    rc = rc || fin_buf_printf(b, "%sfilename FROM read_json_objects(", t->columns.n ? ", " : "") ||
         fin_buf_puts(b, list) ||
         fin_buf_printf(b, ", compression = '%s', filename = true, ignore_errors = true, "
                           "format = '%s'))", compression, fmt);
    return rc ? FIN_ENOMEM : 0;
}

/* read_json or read_csv over a list of globs or paths, with the table's columns. */
static int reader_sql(struct fin_buf *b, const struct fin_table *t, const char *list,
                      const char *compression)
{
    bool csv = !strcmp(t->classification, "csv");
    const char *fmt = !strcmp(t->framing, "lines")   ? "newline_delimited"
                      : !strcmp(t->framing, "array") ? "array"
                                                     : "auto";
    if (has_aliases(t))
        return objects_sql(b, t, list, compression, fmt);
    int rc = fin_buf_puts(b, csv ? "read_csv(" : "read_json(") || fin_buf_puts(b, list) ||
             fin_buf_printf(b, ", compression = '%s', filename = true, ignore_errors = true, ",
                            compression);
    if (csv)
        rc = rc || fin_buf_puts(b, "header = true, auto_detect = false, delim = ',', "
                                   "quote = '\"', escape = '\"', nullstr = ['', 'NaN'], ");
    else
        rc = rc || fin_buf_printf(b, "format = '%s', ", fmt);
    rc = rc || fin_buf_puts(b, "columns = {");
    for (size_t i = 0; !rc && i < t->columns.n; i++) {
        const struct fin_column *c = &t->columns.v[i];
        rc = (i ? fin_buf_puts(b, ", ") : 0) || lit(b, c->source ? c->source : c->name) ||
             fin_buf_puts(b, ": ") ||
             (csv ? fin_buf_printf(b, "'%s'", duck_type(c->type)) : json_column_type(b, c->type));
    }
    return rc || fin_buf_puts(b, "})") ? FIN_ENOMEM : 0;
}

/* A table with damaged objects (docs/catalog.md) is not read in part: its view fails
 * with their names when a query reads it. */
static int damage_sql(struct fin_buf *b, const struct fin_table *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nobjects; i++)
        n += t->objects[i].damage != NULL;
    if (!n)
        return 0;
    struct fin_buf m;
    fin_buf_init(&m);
    int rc = fin_buf_printf(&m, "table %s.%s has %zu damaged object%s, so an answer would be "
                                "incomplete: ", t->database, t->name, n, n == 1 ? "" : "s");
    size_t shown = 0;
    for (size_t i = 0; !rc && i < t->nobjects && shown < 5; i++)
        if (t->objects[i].damage)
            rc = fin_buf_printf(&m, "%s%s/%s (%s)", shown++ ? "; " : "", t->location,
                                t->objects[i].key, t->objects[i].damage);
    if (!rc && n > shown)
        rc = fin_buf_printf(&m, "; and %zu more", n - shown);
    rc = rc || fin_buf_puts(&m, ". Move them out of the table's folder or replace them, "
                                "then crawl again") ||
         !fin_buf_cstr(&m) || fin_buf_puts(b, " WHERE error(") || lit(b, fin_buf_cstr(&m)) ||
         fin_buf_puts(b, ")");
    fin_buf_fini(&m);
    return rc ? FIN_ENOMEM : 0;
}

/* For a table that mixes gzip and plain objects: the existing objects it knows, as two
 * lists of paths. Objects added since the crawl are not read until the next one. */
static int add_object_lists(struct fin_buf *gz, struct fin_buf *plain, const struct fin_table *t,
                            size_t *ngz, size_t *nplain)
{
    int rc = fin_buf_puts(gz, "[") || fin_buf_puts(plain, "[");
    for (size_t i = 0; !rc && i < t->nobjects; i++) {
        char *path = fin_path_join(t->location, t->objects[i].key);
        if (!path)
            return FIN_ENOMEM;
        if (fin_path_exists(path)) {
            struct fin_buf *to = t->objects[i].gzip ? gz : plain;
            size_t *n = t->objects[i].gzip ? ngz : nplain;
            rc = (*n ? fin_buf_puts(to, ",") : 0) || lit(to, path);
            (*n)++;
        }
        free(path);
    }
    return rc || fin_buf_puts(gz, "]") || fin_buf_puts(plain, "]") ? FIN_ENOMEM : 0;
}

static int view_sql(const struct fin_table *t, struct fin_buf *b)
{
    int rc = fin_buf_puts(b, "CREATE OR REPLACE VIEW ") || ident(b, t->database) ||
             fin_buf_puts(b, ".") || ident(b, t->name) || fin_buf_puts(b, " AS SELECT ");
    for (size_t i = 0; !rc && i < t->columns.n; i++) {
        const struct fin_column *c = &t->columns.v[i];
        const char *src = c->source ? c->source : c->name;
        rc = i ? fin_buf_puts(b, ", ") : 0;
        bool fp = !strcmp(c->type, "double") || !strcmp(c->type, "float");
        /* A bare NaN in the data reads as NULL, as Athena reads it. */
        if (!rc && fp)
            rc = fin_buf_puts(b, "nullif(") || ident(b, src) || fin_buf_puts(b, ", 'NaN'::DOUBLE)");
        else if (!rc && !strcmp(t->classification, "parquet") && strcmp(c->type, "null") != 0)
            rc = ident(b, src);
        else if (!rc && !strcmp(t->classification, "parquet"))
            rc = fin_buf_puts(b, "NULL::VARCHAR");
        else if (!rc)
            rc = ident(b, src);
        rc = rc || fin_buf_puts(b, " AS ") || ident(b, c->name);
    }
    size_t loclen = strlen(t->location);
    for (size_t k = 0; !rc && k < t->partition_keys.n; k++) {
        const struct fin_column *pk = &t->partition_keys.v[k];
        bool named = strncmp(pk->name, "partition_", 10) != 0;
        rc = (t->columns.n || k ? fin_buf_puts(b, ", ") : 0);
        if (named)
            rc = rc || fin_buf_printf(b, "substr(split_part(__rel, '/', %zu), "
                                         "strpos(split_part(__rel, '/', %zu), '=') + 1)",
                                      k + 1, k + 1);
        else
            rc = rc || fin_buf_printf(b, "split_part(__rel, '/', %zu)", k + 1);
        rc = rc || fin_buf_puts(b, " AS ") || ident(b, pk->name);
    }
    if (rc)
        return FIN_ENOMEM;
    if (t->columns.n == 0 && t->partition_keys.n == 0)
        rc = fin_buf_puts(b, "NULL AS nothing");
    rc = rc || fin_buf_printf(b, " FROM (SELECT *, substr(filename, %zu) AS __rel FROM ",
                              loclen + 2);
    /* A table whose objects are partly gzip is read per object, in two scans, because
     * DuckDB tells gzip by the name and Firehose objects have none. */
    bool mixed = strcmp(t->classification, "parquet") != 0 && !strcmp(t->compression, "mixed");
    size_t nglobs = 0, nplain = 0;
    struct fin_buf globs, plain;
    fin_buf_init(&globs);
    fin_buf_init(&plain);
    if (!mixed)
        rc = rc || add_globs(&globs, t, &nglobs);
    else
        rc = rc || add_object_lists(&globs, &plain, t, &nglobs, &nplain);
    if (!rc && nglobs + nplain == 0) {
        /* every partition folder is gone: an empty view with the same columns */
        fin_buf_fini(&globs);
        fin_buf_fini(&plain);
        fin_buf_reset(b);
        rc = fin_buf_puts(b, "CREATE OR REPLACE VIEW ") || ident(b, t->database) ||
             fin_buf_puts(b, ".") || ident(b, t->name) || fin_buf_puts(b, " AS SELECT ");
        for (size_t i = 0; !rc && i < t->columns.n; i++)
            rc = (i ? fin_buf_puts(b, ", ") : 0) ||
                 fin_buf_printf(b, "NULL::%s AS ", duck_type(t->columns.v[i].type)) ||
                 ident(b, t->columns.v[i].name);
        for (size_t k = 0; !rc && k < t->partition_keys.n; k++)
            rc = (t->columns.n || k ? fin_buf_puts(b, ", ") : 0) ||
                 fin_buf_puts(b, "NULL::VARCHAR AS ") || ident(b, t->partition_keys.v[k].name);
        return rc || fin_buf_puts(b, " WHERE false") ? FIN_ENOMEM : 0;
    }
    if (!rc && !strcmp(t->classification, "parquet")) {
        rc = fin_buf_puts(b, "read_parquet(") || fin_buf_puts(b, fin_buf_cstr(&globs)) ||
             fin_buf_puts(b, ", filename = true, union_by_name = true)");
    } else if (!rc && !mixed) {
        rc = reader_sql(b, t, fin_buf_cstr(&globs),
                        !strcmp(t->compression, "gzip") ? "gzip" : "uncompressed");
    } else if (!rc) {
        rc = fin_buf_puts(b, "(");
        if (nglobs)
            rc = rc || fin_buf_puts(b, "SELECT * FROM ") ||
                 reader_sql(b, t, fin_buf_cstr(&globs), "gzip");
        if (nglobs && nplain)
            rc = rc || fin_buf_puts(b, " UNION ALL ");
        if (nplain)
            rc = rc || fin_buf_puts(b, "SELECT * FROM ") ||
                 reader_sql(b, t, fin_buf_cstr(&plain), "uncompressed");
        rc = rc || fin_buf_puts(b, ")");
    }
    fin_buf_fini(&plain);
    fin_buf_fini(&globs);
    rc = rc || fin_buf_puts(b, ")") || damage_sql(b, t);
    return rc ? FIN_ENOMEM : 0;
}

static void free_tables(struct fin_query *q)
{
    for (size_t i = 0; i < q->ntables; i++) {
        free(q->tables[i].database);
        free(q->tables[i].name);
    }
    free(q->tables);
    q->tables = NULL;
    q->ntables = 0;
}

const char *fin_query__current_database(const struct fin_query *q)
{
    if (q->database)
        return q->database;
    for (size_t i = 0; i < q->ntables; i++)
        if (!strcmp(q->tables[i].database, FIN_CATALOG_DEFAULT_DATABASE))
            return FIN_CATALOG_DEFAULT_DATABASE;
    return q->ntables ? q->tables[0].database : NULL;
}

/* Points DuckDB's default schema at the current database, so that unqualified names
 * resolve there in statements the rewrite does not see (EXPLAIN, DESCRIBE SELECT). */
static int use_schema(struct fin_query *q)
{
    const char *db = fin_query__current_database(q);
    struct fin_buf b;
    fin_buf_init(&b);
    int rc = fin_buf_puts(&b, "USE " FIN_QUERY_CATALOG ".") || ident(&b, db ? db : "main")
                 ? FIN_ENOMEM
                 : run(q->conn, fin_buf_cstr(&b));
    fin_buf_fini(&b);
    return rc;
}

static int define_views(struct fin_query *q)
{
    struct fin_catalog *cat = NULL;
    struct fin_buf b;
    fin_buf_init(&b);
    int rc = fin_catalog_open(&cat, q->data_dir);
    /* views of tables that left the catalog (DROP TABLE, rename) go too */
    for (size_t i = 0; !rc && i < q->ntables; i++) {
        char name[2 * FIN_CATALOG_NAME_MAX + 2];
        snprintf(name, sizeof name, "%s.%s", q->tables[i].database, q->tables[i].name);
        const struct fin_table *t = fin_catalog_find(cat, name);
        if (t && !strcmp(t->database, q->tables[i].database) && !strcmp(t->name, q->tables[i].name))
            continue;
        fin_buf_reset(&b);
        if (fin_buf_puts(&b, "DROP VIEW IF EXISTS ") || ident(&b, q->tables[i].database) ||
            fin_buf_puts(&b, ".") || ident(&b, q->tables[i].name))
            rc = FIN_ENOMEM;
        else
            run(q->conn, fin_buf_cstr(&b));
    }
    free_tables(q);
    for (size_t i = 0; !rc && i < fin_catalog_database_count(cat); i++) {
        fin_buf_reset(&b);
        rc = fin_buf_puts(&b, "CREATE SCHEMA IF NOT EXISTS ") ||
                     ident(&b, fin_catalog_database_at(cat, i))
                 ? FIN_ENOMEM
                 : run(q->conn, fin_buf_cstr(&b));
    }
    size_t n = rc ? 0 : fin_catalog_table_count(cat);
    if (n && !(q->tables = calloc(n, sizeof *q->tables)))
        rc = FIN_ENOMEM;
    for (size_t i = 0; !rc && i < n; i++) {
        const struct fin_table *t = fin_catalog_table_at(cat, i);
        if (!(q->tables[q->ntables].database = strdup(t->database)) ||
            !(q->tables[q->ntables].name = strdup(t->name))) {
            free(q->tables[q->ntables].database);
            rc = FIN_ENOMEM;
            break;
        }
        q->ntables++;
        fin_buf_reset(&b);
        rc = view_sql(t, &b);
        if (!rc && run(q->conn, fin_buf_cstr(&b))) {
            /* One unreadable table must not take the others down: it is reported and
             * left out, so a query on it says it does not exist. */
            fin_warn("table %s.%s is not queryable: %s", t->database, t->name, fin_err_msg());
        }
    }
    fin_buf_fini(&b);
    fin_catalog_close(cat);
    return rc ? rc : use_schema(q);
}

int fin_query_refresh(struct fin_query *q) { return define_views(q); }

int fin_query_set_database(struct fin_query *q, const char *database)
{
    char *d = NULL;
    if (database && *database) {
        bool known = false;
        for (size_t i = 0; i < q->ntables && !known; i++)
            known = !strcasecmp(q->tables[i].database, database);
        struct fin_catalog *cat = NULL;
        if (!known && fin_catalog_open(&cat, q->data_dir) == 0)
            for (size_t i = 0; i < fin_catalog_database_count(cat) && !known; i++)
                known = !strcasecmp(fin_catalog_database_at(cat, i), database);
        fin_catalog_close(cat);
        if (!known) {
            struct fin_buf b;
            fin_buf_init(&b);
            for (size_t i = 0; i < q->ntables; i++) {
                bool seen = false;
                for (size_t j = 0; j < i && !seen; j++)
                    seen = !strcmp(q->tables[j].database, q->tables[i].database);
                if (!seen)
                    fin_buf_printf(&b, "%s%s", b.len ? ", " : "", q->tables[i].database);
            }
            int rc = fin_err_set(FIN_ENOENT, "no database '%s' in the catalog (databases: %s)",
                                 database, b.len ? fin_buf_cstr(&b) : "none");
            fin_buf_fini(&b);
            return rc;
        }
        if (!(d = strdup(database)))
            return FIN_ENOMEM;
        for (char *p = d; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    free(q->database);
    q->database = d;
    return use_schema(q);
}

const char *fin_query_database(const struct fin_query *q) { return fin_query__current_database(q); }

void fin_query_interrupt(struct fin_query *q)
{
    if (q && q->conn) {
        /* the statement may be between the small queries of the rewrite, each of which
         * clears DuckDB's flag: the exec checks this one too */
        q->cancel = 1;
        duckdb_interrupt(q->conn);
    }
}

static int cmp_keyword(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* DuckDB's keywords, for the alias rewrite (lexer.c). */
static int load_keywords(struct fin_query *q)
{
    duckdb_result res;
    if (duckdb_query(q->conn,
                     "SELECT lower(keyword_name), keyword_category = 'reserved' FROM "
                     "duckdb_keywords() ORDER BY 1",
                     &res) == DuckDBError) {
        int rc = fin_err_set(FIN_ESQL, "cannot list the engine's keywords: %s",
                             duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return rc;
    }
    idx_t n = duckdb_row_count(&res);
    int rc = 0;
    q->keywords = calloc(n ? n : 1, sizeof *q->keywords);
    q->keyword_reserved = calloc(n ? n : 1, sizeof *q->keyword_reserved);
    if (!q->keywords || !q->keyword_reserved)
        rc = FIN_ENOMEM;
    for (idx_t i = 0; !rc && i < n; i++) {
        char *w = duckdb_value_varchar(&res, 0, i);
        if (!w || !(q->keywords[i] = strdup(w)))
            rc = FIN_ENOMEM;
        duckdb_free(w);
        q->keyword_reserved[i] = duckdb_value_boolean(&res, 1, i);
        q->nkeywords += !rc;
    }
    duckdb_destroy_result(&res);
    /* SQL's ORDER BY collates; bsearch needs strcmp's order */
    if (!rc) {
        for (size_t i = 1; i < q->nkeywords; i++)
            for (size_t j = i; j > 0 && strcmp(q->keywords[j - 1], q->keywords[j]) > 0; j--) {
                char *tw = q->keywords[j];
                bool tr = q->keyword_reserved[j];
                q->keywords[j] = q->keywords[j - 1];
                q->keyword_reserved[j] = q->keyword_reserved[j - 1];
                q->keywords[j - 1] = tw;
                q->keyword_reserved[j - 1] = tr;
            }
    }
    return rc;
}

static bool duck_keyword(void *ctx, const char *word, bool *reserved)
{
    struct fin_query *q = ctx;
    char w[64];
    size_t i = 0;
    for (; word[i] && i + 1 < sizeof w; i++)
        w[i] = (char)tolower((unsigned char)word[i]);
    w[i] = '\0';
    const char *key = w;
    char **hit = bsearch(&key, q->keywords, q->nkeywords, sizeof *q->keywords, cmp_keyword);
    if (!hit)
        return false;
    *reserved = q->keyword_reserved[hit - q->keywords];
    return true;
}

int fin_query_open(struct fin_query **out, const char *data_dir)
{
    struct fin_query *q = calloc(1, sizeof *q);
    duckdb_config cfg = NULL;
    char *err = NULL;
    int rc = FIN_ENOMEM;
    if (!q || !(q->data_dir = strdup(data_dir)))
        goto fail;
    /* Nothing is fetched from the network: the json, parquet and icu extensions are
     * built into this libduckdb. */
    if (duckdb_create_config(&cfg) == DuckDBError ||
        duckdb_set_config(cfg, "autoinstall_known_extensions", "false") == DuckDBError ||
        duckdb_set_config(cfg, "autoload_known_extensions", "false") == DuckDBError ||
        duckdb_set_config(cfg, "allow_community_extensions", "false") == DuckDBError) {
        rc = fin_err_set(FIN_ESQL, "cannot configure the query engine");
        goto fail;
    }
    if (duckdb_open_ext(NULL, &q->db, cfg, &err) == DuckDBError) {
        rc = fin_err_set(FIN_ESQL, "cannot start the query engine: %s", err ? err : "?");
        goto fail;
    }
    if (duckdb_connect(q->db, &q->conn) == DuckDBError) {
        rc = fin_err_set(FIN_ESQL, "cannot connect to the query engine");
        goto fail;
    }
    /* The lake's tables live in a catalog named as Athena's, so that three-part names
     * ("AwsDataCatalog"."finance"."t") resolve; it is the default catalog. */
    if ((rc = run(q->conn, "SET TimeZone = 'UTC'")) ||
        (rc = run(q->conn, "ATTACH ':memory:' AS " FIN_QUERY_CATALOG)) ||
        (rc = run(q->conn, "USE " FIN_QUERY_CATALOG)) || (rc = load_keywords(q)))
        goto fail;
    for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
        if ((rc = run(q->conn, macros[i])))
            goto fail;
    /* File system reads are logged (in memory, cleared around every query) so that a
     * result can say how many bytes of objects it read, as Athena's "data scanned". */
    q->logging = run(q->conn, "CALL enable_logging('FileSystem')") == 0;
    if ((rc = define_views(q)))
        goto fail;
    duckdb_destroy_config(&cfg);
    *out = q;
    return 0;
fail:
    duckdb_free(err);
    if (cfg)
        duckdb_destroy_config(&cfg);
    fin_query_close(q);
    return rc;
}

void fin_query_close(struct fin_query *q)
{
    if (!q)
        return;
    if (q->conn)
        duckdb_disconnect(&q->conn);
    if (q->db)
        duckdb_close(&q->db);
    free(q->data_dir);
    free(q->last_sql);
    free(q->database);
    free_tables(q);
    for (size_t i = 0; i < q->nkeywords; i++)
        free(q->keywords[i]);
    free(q->keywords);
    free(q->keyword_reserved);
    free(q);
}

const char *fin_query_last_sql(const struct fin_query *q) { return q->last_sql ? q->last_sql : ""; }

/* ---- the Athena rewrite ---- */

/* Visits every object of DuckDB's JSON parse tree, before its children (pre_order) or
 * after them, and adds up what the visitor returns (the number of changes it made). */
static int walk_tree(json_t *node, int (*visit)(json_t *obj), bool pre_order)
{
    int n = 0;
    size_t i;
    const char *key;
    json_t *v;
    if (json_is_array(node)) {
        json_array_foreach(node, i, v) n += walk_tree(v, visit, pre_order);
        return n;
    }
    if (!json_is_object(node))
        return 0;
    if (pre_order)
        n += visit(node);
    json_object_foreach(node, key, v) n += walk_tree(v, visit, pre_order);
    if (!pre_order)
        n += visit(node);
    return n;
}

/* Wraps every CAST(x AS TIMESTAMP) as CAST(CAST(x AS TIMESTAMPTZ) AS TIMESTAMP): with the
 * session in UTC, a string with an offset then converts to UTC as in Athena, and every
 * other input casts as before. Returns the number of casts changed. */
static int cast_node(json_t *node)
{
    int n = 0;
    const char *cls = json_string_value(json_object_get(node, "class"));
    json_t *ct = json_object_get(node, "cast_type");
    const char *id = json_string_value(json_object_get(ct, "id"));
    if (cls && !strcmp(cls, "CAST") && id && !strcmp(id, "TIMESTAMP")) {
        json_t *child = json_object_get(node, "child");
        json_t *inner = json_pack("{s:s, s:s, s:s, s:I, s:O, s:{s:s, s:n}, s:b}", "class", "CAST",
                                  "type", "OPERATOR_CAST", "alias", "", "query_location",
                                  (json_int_t)json_integer_value(
                                      json_object_get(node, "query_location")),
                                  "child", child, "cast_type", "id", "TIMESTAMP WITH TIME ZONE",
                                  "type_info", "try_cast",
                                  json_is_true(json_object_get(node, "try_cast")));
        if (inner && json_object_set_new(node, "child", inner) == 0)
            n++;
    }
    return n;
}

/* MySQL-style specifiers (Athena's date_parse/date_format) to strftime ones, one token
 * at a time so that no specifier is translated twice (%i -> %M, but %M -> %B).
 * Specifiers without a DuckDB match (%D, %U, %u, %V, %v, %X, %x) pass through and fail
 * as DuckDB reports them. */
static int mysql_format(const char *in, struct fin_buf *out)
{
    static const char *const map[][2] = {
        {"i", "%M"}, {"s", "%S"}, {"M", "%B"}, {"W", "%A"}, {"h", "%I"},
        {"k", "%-H"}, {"l", "%-I"}, {"c", "%-m"}, {"e", "%-d"}, {"T", "%H:%M:%S"},
        {"r", "%I:%M:%S %p"},
    };
    int rc = 0;
    for (const char *p = in; !rc && *p; p++) {
        if (*p != '%' || !p[1]) {
            rc = fin_buf_append(out, p, 1);
            continue;
        }
        const char *rep = NULL;
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (p[1] == map[i][0][0])
                rep = map[i][1];
        rc = rep ? fin_buf_puts(out, rep) : fin_buf_append(out, p, 2);
        p++;
    }
    return rc;
}

/* date_parse(s, 'fmt') -> strptime(s, 'fmt'') and date_format(t, 'fmt') -> strftime. */
static int function_node(json_t *node)
{
    int n = 0;
    const char *cls = json_string_value(json_object_get(node, "class"));
    const char *fn = json_string_value(json_object_get(node, "function_name"));
    if (!cls || strcmp(cls, "FUNCTION") != 0 || !fn)
        return n;
    bool parse = !strcasecmp(fn, "date_parse"), format = !strcasecmp(fn, "date_format");
    json_t *args = json_object_get(node, "children");
    json_t *fmt = json_array_get(args, 1);
    const char *fcls = json_string_value(json_object_get(fmt, "class"));
    json_t *value = json_object_get(fmt, "value");
    const char *ftype = json_string_value(json_object_get(json_object_get(value, "type"), "id"));
    const char *text = json_string_value(json_object_get(value, "value"));
    if (!(parse || format) || json_array_size(args) != 2 || !fcls ||
        strcmp(fcls, "CONSTANT") != 0 || !ftype || strcmp(ftype, "VARCHAR") != 0 || !text)
        return n;
    struct fin_buf b;
    fin_buf_init(&b);
    if (mysql_format(text, &b) == 0 && fin_buf_cstr(&b)) {
        json_object_set_new(value, "value", json_string(fin_buf_cstr(&b)));
        json_object_set_new(node, "function_name", json_string(parse ? "strptime" : "strftime"));
        n++;
    }
    fin_buf_fini(&b);
    return n;
}

/* Names unaliased expressions of the outer SELECT _colN, N their output position.
 * star_width is the number of columns a single * in the list expands to. */
static int name_columns(json_t *node, long star_width)
{
    const char *type = json_string_value(json_object_get(node, "type"));
    while (type && !strcmp(type, "SET_OPERATION_NODE")) {
        node = json_object_get(node, "left");
        type = json_string_value(json_object_get(node, "type"));
    }
    if (!type || strcmp(type, "SELECT_NODE") != 0)
        return 0;
    json_t *list = json_object_get(node, "select_list");
    size_t i;
    json_t *e;
    long pos = 0;
    int n = 0;
    json_array_foreach(list, i, e) {
        const char *cls = json_string_value(json_object_get(e, "class"));
        const char *alias = json_string_value(json_object_get(e, "alias"));
        if (cls && !strcmp(cls, "STAR")) {
            pos += star_width;
            continue;
        }
        if (cls && strcmp(cls, "COLUMN_REF") != 0 && (!alias || !*alias)) {
            char name[32];
            snprintf(name, sizeof name, "_col%ld", pos);
            json_object_set_new(e, "alias", json_string(name));
            n++;
        }
        pos++;
    }
    return n;
}

/* A qualified column in a select list (a.name) is named by its last part, and Trino's
 * ORDER BY name means that output column even when another relation has a "name"
 * (DuckDB calls it ambiguous unless the name is an alias): the alias is made explicit. */
static int alias_qualified(json_t *node)
{
    const char *type = json_string_value(json_object_get(node, "type"));
    if (!type || strcmp(type, "SELECT_NODE") != 0)
        return 0;
    size_t i;
    json_t *e;
    int n = 0;
    json_array_foreach(json_object_get(node, "select_list"), i, e) {
        const char *cls = json_string_value(json_object_get(e, "class"));
        const char *alias = json_string_value(json_object_get(e, "alias"));
        json_t *names = json_object_get(e, "column_names");
        if (cls && !strcmp(cls, "COLUMN_REF") && (!alias || !*alias) &&
            json_array_size(names) >= 2) {
            json_t *last = json_array_get(names, json_array_size(names) - 1);
            if (json_is_string(last) && !json_object_set(e, "alias", last))
                n++;
        }
    }
    return n;
}

static long count_stars(json_t *node)
{
    const char *type = json_string_value(json_object_get(node, "type"));
    while (type && !strcmp(type, "SET_OPERATION_NODE")) {
        node = json_object_get(node, "left");
        type = json_string_value(json_object_get(node, "type"));
    }
    long stars = 0;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(node, "select_list"), i, e) {
        const char *cls = json_string_value(json_object_get(e, "class"));
        stars += cls && !strcmp(cls, "STAR");
    }
    return stars;
}

/* ---- top row per group ----
 *
 * The classic hourly-high query keeps the first row of each group by row_number():
 *
 *     SELECT ... FROM (SELECT a, b, ..., row_number() OVER (PARTITION BY p ORDER BY k DESC)
 *                      AS rn FROM t WHERE w) WHERE rn = 1
 *
 * DuckDB evaluates that as written: it sorts every row of every group (2.5 to 5 s for
 * 10,000,000 rows here). The same answer is one pass of aggregates:
 *
 *     SELECT a, b, ..., 1 AS rn FROM (
 *         SELECT p1, CASE WHEN count(k) > 0 THEN arg_max_null(b, k) ELSE first(b) END AS b, ...
 *         FROM t WHERE w GROUP BY p)
 *
 * A field that is itself a partition expression (the ticker, the hour) is the group's
 * key and costs nothing; every other field is taken from the row with the largest k, a
 * column at a time (packing the fields into one struct per row copied every string and
 * took a third of the time). arg_max_null skips rows whose k is NULL but keeps a NULL
 * field; first() keeps the group whose every k is NULL, which row_number() (NULLS LAST,
 * as in Trino) would return too. The aggregates of one group see its rows in the same
 * order and keep the first of equal keys, so all fields come from one row; among ties
 * that row is arbitrary, as with row_number().
 * ORDER BY k ASC becomes arg_min_null. The rewrite applies only when the inner
 * select is plain (no GROUP BY, HAVING, QUALIFY, DISTINCT, LIMIT, no other window, every
 * item a column or aliased) and rn is used only as "rn = 1"; if DuckDB rejects the result,
 * the statement runs without it. */

static json_t *column_ref(const char *name)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:[s]}", "class", "COLUMN_REF", "type", "COLUMN_REF",
                     "alias", "", "query_location", (json_int_t)0, "column_names", name);
}

static json_t *function(const char *name, json_t *children, const char *alias)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:o, s:n, s:{s:s, s:[]}, s:b, s:b, s:b, s:s}",
                     "class", "FUNCTION", "type", "FUNCTION", "alias", alias, "query_location",
                     (json_int_t)0, "function_name", name, "schema", "", "children", children,
                     "filter", "order_bys", "type", "ORDER_MODIFIER", "orders", "distinct", 0,
                     "is_operator", 0, "export_state", 0, "catalog", "");
}

static bool has_class(json_t *node, const char *cls)
{
    if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach(node, i, v) if (has_class(v, cls)) return true;
        return false;
    }
    if (!json_is_object(node))
        return false;
    const char *c = json_string_value(json_object_get(node, "class"));
    if (c && !strcmp(c, cls))
        return true;
    const char *key;
    json_t *v;
    json_object_foreach(node, key, v) if (has_class(v, cls)) return true;
    return false;
}

/* The name rn in WHERE rn = 1, or NULL. */
static const char *rn_equals_one(json_t *where)
{
    const char *cls = json_string_value(json_object_get(where, "class"));
    const char *type = json_string_value(json_object_get(where, "type"));
    if (!cls || strcmp(cls, "COMPARISON") || !type || strcmp(type, "COMPARE_EQUAL"))
        return NULL;
    json_t *l = json_object_get(where, "left"), *r = json_object_get(where, "right");
    const char *lc = json_string_value(json_object_get(l, "class"));
    if (lc && !strcmp(lc, "CONSTANT")) {
        json_t *t = l;
        l = r;
        r = t;
    }
    lc = json_string_value(json_object_get(l, "class"));
    const char *rc = json_string_value(json_object_get(r, "class"));
    json_t *names = json_object_get(l, "column_names");
    json_t *val = json_object_get(json_object_get(r, "value"), "value");
    if (!lc || strcmp(lc, "COLUMN_REF") || json_array_size(names) != 1 || !rc ||
        strcmp(rc, "CONSTANT") || !json_is_integer(val) || json_integer_value(val) != 1)
        return NULL;
    return json_string_value(json_array_get(names, 0));
}

static bool empty_or_null(json_t *v)
{
    return !v || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0);
}

/* Two expressions alike but for their alias and position in the text. */
static bool same_expr(json_t *a, json_t *b)
{
    if (json_is_object(a) && json_is_object(b)) {
        const char *key;
        json_t *v;
        size_t na = 0, nb = 0;
        json_object_foreach(a, key, v) {
            if (!strcmp(key, "alias") || !strcmp(key, "query_location"))
                continue;
            na++;
            if (!same_expr(v, json_object_get(b, key)))
                return false;
        }
        json_object_foreach(b, key, v) nb += strcmp(key, "alias") && strcmp(key, "query_location");
        return na == nb;
    }
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same_expr(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    return json_equal(a, b);
}

/* CASE WHEN count(k) > 0 THEN arg_max_null(e, k) ELSE first(e) END AS name: the value of
 * e in the row with the largest k (arg_min_null for the smallest), or in the first row
 * when every k is NULL. Every field's aggregate sees the rows in the same order and keeps
 * the first of equal keys, so they all take the same row. */
static json_t *top_value(json_t *e, json_t *k, bool desc, const char *name)
{
    json_t *expr = json_deep_copy(e);
    if (!expr || json_object_set_new(expr, "alias", json_string(""))) {
        json_decref(expr);
        return NULL;
    }
    json_t *best = function(desc ? "arg_max_null" : "arg_min_null",
                            json_pack("[O, O]", expr, k), "");
    json_t *first = function("first", json_pack("[o]", expr), "");
    json_t *count = function("count", json_pack("[O]", k), "");
    json_t *zero = json_pack("{s:s, s:s, s:s, s:I, s:{s:{s:s, s:n}, s:b, s:I}}", "class",
                             "CONSTANT", "type", "VALUE_CONSTANT", "alias", "", "query_location",
                             (json_int_t)0, "value", "type", "id", "BIGINT", "type_info",
                             "is_null", 0, "value", (json_int_t)0);
    json_t *some = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o}", "class", "COMPARISON", "type",
                             "COMPARE_GREATERTHAN", "alias", "", "query_location", (json_int_t)0,
                             "left", count, "right", zero);
    return json_pack("{s:s, s:s, s:s, s:I, s:[{s:o, s:o}], s:o}", "class", "CASE", "type",
                     "CASE_EXPR", "alias", name, "query_location", (json_int_t)0, "case_checks",
                     "when_expr", some, "then_expr", best, "else_expr", first);
}

/* Rewrites one outer SELECT node if it has the shape; returns 1 when it did. */
static int top1_node(json_t *outer)
{
    json_t *from = json_object_get(outer, "from_table");
    const char *ft = json_string_value(json_object_get(from, "type"));
    const char *rn = rn_equals_one(json_object_get(outer, "where_clause"));
    if (!ft || strcmp(ft, "SUBQUERY") || !rn)
        return 0;
    json_t *inner = json_object_get(json_object_get(from, "subquery"), "node");
    const char *it = json_string_value(json_object_get(inner, "type"));
    if (!it || strcmp(it, "SELECT_NODE") || !empty_or_null(json_object_get(inner, "modifiers")) ||
        !empty_or_null(json_object_get(inner, "group_expressions")) ||
        !empty_or_null(json_object_get(inner, "having")) ||
        !empty_or_null(json_object_get(inner, "qualify")) ||
        !empty_or_null(json_object_get(inner, "sample")) ||
        !empty_or_null(json_object_get(json_object_get(inner, "cte_map"), "map")))
        return 0;
    json_t *list = json_object_get(inner, "select_list");
    json_t *win = NULL, *fields = json_array();
    size_t i;
    json_t *e;
    if (!fields)
        return 0;
    json_array_foreach(list, i, e) {
        const char *cls = json_string_value(json_object_get(e, "class"));
        const char *alias = json_string_value(json_object_get(e, "alias"));
        if (cls && !strcmp(cls, "WINDOW")) {
            const char *wt = json_string_value(json_object_get(e, "type"));
            if (win || !wt || strcmp(wt, "WINDOW_ROW_NUMBER") || !alias || strcasecmp(alias, rn))
                goto no;
            win = e;
            continue;
        }
        if (!cls || !strcmp(cls, "STAR") || has_class(e, "WINDOW") || has_class(e, "SUBQUERY"))
            goto no;
        const char *name = alias && *alias ? alias : NULL;
        json_t *names = json_object_get(e, "column_names");
        if (!name && !strcmp(cls, "COLUMN_REF"))
            name = json_string_value(json_array_get(names, json_array_size(names) - 1));
        if (!name || !strcasecmp(name, rn))
            goto no;
        json_t *copy = json_deep_copy(e);
        if (!copy || json_object_set_new(copy, "alias", json_string(name)) ||
            json_array_append_new(fields, copy))
            goto no;
    }
    json_t *parts = json_object_get(win, "partitions"), *orders = json_object_get(win, "orders");
    json_t *order = json_array_get(orders, 0);
    const char *dir = json_string_value(json_object_get(order, "type"));
    const char *nulls = json_string_value(json_object_get(order, "null_order"));
    if (!win || json_array_size(parts) == 0 || json_array_size(orders) != 1 || !dir ||
        (strcmp(dir, "DESCENDING") && strcmp(dir, "ASCENDING") && strcmp(dir, "ORDER_DEFAULT")) ||
        !nulls ||
        strcmp(nulls, "ORDER_DEFAULT") || !empty_or_null(json_object_get(win, "filter_expr")) ||
        json_array_size(fields) == 0)
        goto no;
    bool desc = !strcmp(dir, "DESCENDING");

    /* the grouping select: a field that is a partition expression is the group's key;
     * any other is taken from the top row, a column at a time */
    json_t *k = json_object_get(order, "expression");
    json_t *sel = json_array(), *outer_list = json_array();
    bool ok = sel && outer_list;
    json_array_foreach(fields, i, e) {
        const char *name = json_string_value(json_object_get(e, "alias"));
        bool key = false;
        size_t j;
        json_t *pe;
        json_array_foreach(parts, j, pe) key = key || same_expr(e, pe);
        json_t *item = key ? json_incref(e) : top_value(e, k, desc, name);
        ok = ok && item && !json_array_append_new(sel, item) &&
             !json_array_append_new(outer_list, column_ref(name));
    }
    json_decref(fields);
    fields = NULL;
    json_t *sets = json_array(), *set = json_array();
    for (size_t n = 0; sets && set && n < json_array_size(parts); n++)
        json_array_append_new(set, json_integer((json_int_t)n));
    json_array_append_new(sets, set);
    json_t *group = ok ? json_deep_copy(inner) : NULL;
    if (!group || !sets) {
        json_decref(sel);
        json_decref(outer_list);
        json_decref(group);
        json_decref(sets);
        return 0;
    }
    json_object_set_new(group, "select_list", sel);
    json_object_set(group, "group_expressions", parts);
    json_object_set_new(group, "group_sets", sets);

    /* the inner select becomes: the fields, 1 AS rn FROM (group) */
    json_t *one = json_pack("{s:s, s:s, s:s, s:I, s:{s:{s:s, s:n}, s:b, s:I}}", "class", "CONSTANT",
                            "type", "VALUE_CONSTANT", "alias", rn, "query_location", (json_int_t)0,
                            "value", "type", "id", "BIGINT", "type_info", "is_null", 0, "value",
                            (json_int_t)1);
    json_t *sub = json_pack("{s:s, s:s, s:n, s:I, s:{s:o}}", "type", "SUBQUERY", "alias", "__fin_g",
                            "sample", "query_location", (json_int_t)0, "subquery", "node", group);
    if (!one || !sub || json_array_append_new(outer_list, one)) {
        json_decref(sub);
        json_decref(outer_list);
        return 0;
    }
    json_object_set_new(inner, "select_list", outer_list);
    json_object_set_new(inner, "from_table", sub);
    json_object_set_new(inner, "where_clause", json_null());
    return 1;
no:
    json_decref(fields);
    return 0;
}

static int select_node(json_t *node)
{
    const char *type = json_string_value(json_object_get(node, "type"));
    return type && !strcmp(type, "SELECT_NODE") ? top1_node(node) : 0;
}

/* One string value out of a one-row, one-column query with a string argument. */
static char *scalar(duckdb_connection c, const char *fn, const char *arg)
{
    duckdb_prepared_statement st;
    duckdb_result res;
    char *out = NULL;
    if (duckdb_prepare(c, fn, &st) == DuckDBError) {
        duckdb_destroy_prepare(&st);
        return NULL;
    }
    if (duckdb_bind_varchar(st, 1, arg) == DuckDBSuccess &&
        duckdb_execute_prepared(st, &res) == DuckDBSuccess) {
        char *v = duckdb_row_count(&res) ? duckdb_value_varchar(&res, 0, 0) : NULL;
        out = v ? strdup(v) : NULL;
        duckdb_free(v);
        duckdb_destroy_result(&res);
    } else {
        duckdb_destroy_result(&res);
    }
    duckdb_destroy_prepare(&st);
    return out;
}

/* ---- unqualified table names ----
 *
 * Athena runs a query in a selected database. Here a table named without its database
 * is looked up in the selected one (--database, [query] database, USE) when there is
 * one, else in the one database that holds a table of that name; two databases with
 * that name make the statement an error that lists them. Names of common table
 * expressions are left alone. */

struct resolve {
    struct fin_query *q;
    json_t *ctes;      /* array of names */
    int changes;
    int rc;
};

static void collect_ctes(json_t *node, json_t *names)
{
    size_t i;
    const char *key;
    json_t *v;
    if (json_is_array(node)) {
        json_array_foreach(node, i, v) collect_ctes(v, names);
        return;
    }
    if (!json_is_object(node))
        return;
    json_t *map = json_object_get(json_object_get(node, "cte_map"), "map");
    json_array_foreach(map, i, v) {
        json_t *k = json_object_get(v, "key");
        if (json_is_string(k))
            json_array_append(names, k);
    }
    json_object_foreach(node, key, v) collect_ctes(v, names);
}

static void resolve_node(json_t *node, struct resolve *r)
{
    size_t i;
    const char *key;
    json_t *v;
    if (r->rc)
        return;
    if (json_is_array(node)) {
        json_array_foreach(node, i, v) resolve_node(v, r);
        return;
    }
    if (!json_is_object(node))
        return;
    const char *type = json_string_value(json_object_get(node, "type"));
    const char *schema = json_string_value(json_object_get(node, "schema_name"));
    const char *catalog = json_string_value(json_object_get(node, "catalog_name"));
    const char *name = json_string_value(json_object_get(node, "table_name"));
    if (type && !strcmp(type, "BASE_TABLE") && name && schema && !*schema && catalog &&
        !*catalog) {
        bool cte = false;
        json_array_foreach(r->ctes, i, v) cte = cte || !strcasecmp(json_string_value(v), name);
        const struct fin_query *q = r->q;
        const char *found = NULL;
        size_t count = 0;
        for (i = 0; !cte && i < q->ntables; i++) {
            if (strcasecmp(q->tables[i].name, name) != 0)
                continue;
            if (q->database && strcasecmp(q->tables[i].database, q->database) != 0)
                continue;
            found = q->tables[i].database;
            count++;
        }
        if (count == 1) {
            json_object_set_new(node, "schema_name", json_string(found));
            r->changes++;
        } else if (count > 1) {
            struct fin_buf b;
            fin_buf_init(&b);
            for (i = 0; i < q->ntables; i++)
                if (!strcasecmp(q->tables[i].name, name))
                    fin_buf_printf(&b, "%s%s.%s", b.len ? ", " : "", q->tables[i].database,
                                   q->tables[i].name);
            r->rc = fin_err_set(FIN_ESQL,
                                "table '%s' is ambiguous: %s; name its database, or choose "
                                "one (--database, [query] database = in finstream.ini, USE)",
                                name, b.len ? fin_buf_cstr(&b) : "?");
            fin_buf_fini(&b);
            return;
        }
    }
    json_object_foreach(node, key, v) resolve_node(v, r);
}

static int resolve_tables(struct fin_query *q, json_t *node, int *changes)
{
    struct resolve r = {q, json_array(), 0, 0};
    if (!r.ctes)
        return FIN_ENOMEM;
    collect_ctes(node, r.ctes);
    resolve_node(node, &r);
    json_decref(r.ctes);
    *changes += r.changes;
    return r.rc;
}

/* "Table with name x does not exist" is followed by the tables the catalog has. */
static char *with_candidates(const struct fin_query *q, char *err)
{
    if (!err || !strstr(err, "Table with name ") || !strstr(err, "does not exist"))
        return err;
    struct fin_buf b;
    fin_buf_init(&b);
    fin_buf_puts(&b, err);
    fin_buf_puts(&b, "\nTables in the catalog:");
    for (size_t i = 0; i < q->ntables && i < 50; i++)
        fin_buf_printf(&b, " %s.%s", q->tables[i].database, q->tables[i].name);
    if (!q->ntables)
        fin_buf_puts(&b, " none (run 'finstream crawl')");
    else if (q->ntables > 50)
        fin_buf_printf(&b, " ... (%zu in all)", q->ntables);
    const char *text = fin_buf_cstr(&b);
    char *out = text ? strdup(text) : NULL;
    fin_buf_fini(&b);
    if (!out)
        return err;
    free(err);
    return out;
}

/* The SQL to run for sql: *out is a malloc'd copy, possibly rewritten. optimize adds
 * the top-row-per-group rewrite to the Athena ones. FIN_ESQL for an ambiguous name. */
static int athena_rewrite(struct fin_query *q, const char *sql, bool optimize, char **out)
{
    /* "no location" is the largest uint64, more than jansson's integers hold */
    char *ser = scalar(q->conn,
                       "SELECT replace(json_serialize_sql(?::VARCHAR), "
                       "'\"query_location\":18446744073709551615', '\"query_location\":0')",
                       sql);
    json_t *root = ser ? json_loads(ser, 0, NULL) : NULL;
    int rc = 0;
    *out = NULL;
    free(ser);
    json_t *stmts = json_object_get(root, "statements");
    if (!root || json_is_true(json_object_get(root, "error")) || json_array_size(stmts) != 1)
        goto as_written;
    json_t *node = json_object_get(json_array_get(stmts, 0), "node");
    int changed = 0;
    if ((rc = resolve_tables(q, node, &changed)))
        goto fail;
    long stars = count_stars(node), star_width = 1;
    if (stars > 1 && !changed)
        goto as_written;   /* positions after several stars are not worth guessing */
    if (stars == 1) {
        duckdb_prepared_statement st;
        if (duckdb_prepare(q->conn, sql, &st) == DuckDBSuccess) {
            long list = (long)json_array_size(json_object_get(node, "select_list"));
            star_width = (long)duckdb_prepared_statement_column_count(st) - (list - 1);
        }
        duckdb_destroy_prepare(&st);
    }
    changed += walk_tree(node, cast_node, false) + walk_tree(node, function_node, false) +
               walk_tree(node, alias_qualified, false) +
               (stars > 1 ? 0 : name_columns(node, star_width));
    if (optimize)
        changed += walk_tree(node, select_node, true);
    if (!changed)
        goto as_written;
    char *js = json_dumps(root, JSON_COMPACT);
    *out = js ? scalar(q->conn, "SELECT json_deserialize_sql(?::JSON)", js) : NULL;
    free(js);
    if (*out) {
        json_decref(root);
        return 0;
    }
as_written:
    json_decref(root);
    *out = strdup(sql);
    return *out ? 0 : FIN_ENOMEM;
fail:
    json_decref(root);
    return rc;
}

/* Bytes the last statement read from files, from DuckDB's file system log; clears it. */
static uint64_t bytes_read(struct fin_query *q)
{
    duckdb_result res;
    uint64_t n = 0;
    if (duckdb_query(q->conn,
                     "SELECT coalesce(sum(TRY_CAST(bytes AS UBIGINT)), 0)::UBIGINT "
                     "FROM duckdb_logs_parsed('FileSystem') WHERE op = 'READ'",
                     &res) == DuckDBSuccess && duckdb_row_count(&res) == 1)
        n = duckdb_value_uint64(&res, 0, 0);
    duckdb_destroy_result(&res);
    run(q->conn, "CALL truncate_duckdb_logs()");
    return n;
}

static double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* DuckDB 1.4 repeats the "LINE n: ... ^" block of a parser error; keep one. */
static void drop_repeated_position(char *msg)
{
    char *first = strstr(msg, "\n\nLINE ");
    char *second = first ? strstr(first + 1, "\n\nLINE ") : NULL;
    if (second && strlen(second) == (size_t)(second - first) &&
        strncmp(first, second, (size_t)(second - first)) == 0)
        *second = '\0';
}

static void interrupt_query(void *q) { fin_query_interrupt(q); }

/* Runs sql; on failure, *err holds a copy of DuckDB's message (caller frees). */
static int try_sql(struct fin_query *q, const char *sql, duckdb_result *res, char **err)
{
    if (q->logging)
        run(q->conn, "CALL truncate_duckdb_logs()");
    int watch = fin_interrupt_watch(interrupt_query, q);   /* Ctrl-C ends the query */
    bool ran = !fin_interrupted();
    bool ok = ran && duckdb_query(q->conn, sql, res) == DuckDBSuccess;
    fin_interrupt_unwatch(watch);
    if (ok)
        return 0;
    if (fin_interrupted()) {
        if (ran)
            duckdb_destroy_result(res);
        return fin_interrupt_error();
    }
    *err = strdup(duckdb_result_error(res));
    if (*err)
        drop_repeated_position(*err);
    duckdb_destroy_result(res);
    return FIN_ESQL;
}

int fin_query__exec_sql(struct fin_query *q, const char *text, struct fin_result **out)
{
    double t0 = mono_seconds();
    char *err = NULL, *plain = NULL, *fast = NULL, *sql = NULL;
    duckdb_result res;
    int changes = 0;
    /* Trino's aliases first: DuckDB's parser, and so every later step, refuses them */
    int rc = fin_sql__trino_aliases(text, duck_keyword, q, &sql, &changes);
    if (rc || (rc = athena_rewrite(q, sql, true, &fast)))
        goto fail;
    rc = q->cancel ? FIN_ECANCELED : try_sql(q, fast, &res, &err);
    if (rc && (q->cancel || fin_interrupted())) {
        rc = fin_err_set(FIN_ECANCELED, "Interrupted: the statement was cancelled");
        goto fail;
    }
    if (rc) {
        /* Without the optimisation, then as written: the error reported is the one for
         * the caller's own text, so that positions point into it. */
        int rc2 = athena_rewrite(q, sql, false, &plain);
        if (rc2) {
            rc = rc2;
            goto fail;
        }
        char *again = NULL;
        if (strcmp(plain, fast) != 0) {
            if ((rc = try_sql(q, plain, &res, &again)) == 0) {
                free(fast);
                fast = plain;
                plain = NULL;
            } else {
                free(err);
                err = again;
                again = NULL;
            }
        }
        if (rc) {
            if (strcmp(plain, sql) != 0) {
                if (try_sql(q, sql, &res, &again) == 0)
                    duckdb_destroy_result(&res);   /* runs as written: report the rewrite's error */
                else if (!(again && (strstr(again, "with name date_format") ||
                                     strstr(again, "with name date_parse")))) {
                    /* (as written, a function only the rewrite provides is missing: the
                     * rewrite's error is the one that says what is wrong) */
                    free(err);
                    err = again;
                    again = NULL;
                }
            }
            free(again);
            err = with_candidates(q, err);
            rc = fin_err_set(FIN_ESQL, "%s", err ? err : "query failed");
            goto fail;
        }
    }
    free(q->last_sql);
    q->last_sql = fast;
    fast = NULL;
    struct fin_result *r;
    rc = fin_result__from_duckdb(&res, &r);
    duckdb_destroy_result(&res);
    if (rc)
        goto fail;
    r->seconds = mono_seconds() - t0;
    if (q->logging)
        r->bytes_scanned = bytes_read(q);
    *out = r;
fail:
    free(sql);
    free(fast);
    free(plain);
    free(err);
    return rc;
}

int fin_query_exec(struct fin_query *q, const char *sql, struct fin_result **out)
{
    char **stmts = NULL;
    size_t n = 0;
    int rc = fin_query_split(sql, &stmts, &n);
    if (rc)
        return rc;
    if (n != 1) {
        fin_query_statements_free(stmts, n);
        return n ? fin_err_set(FIN_ESQL, "%zu statements: run them one at a time", n)
                 : fin_err_set(FIN_ESQL, "no statement");
    }
    double t0 = mono_seconds();
    if (q->cancel)
        rc = fin_err_set(FIN_ECANCELED, "Interrupted: the statement was cancelled");
    else if (fin_query__statement(q, stmts[0], out, &rc) == 0)
        rc = fin_query__exec_sql(q, stmts[0], out);
    else if (rc == 0)
        (*out)->seconds = mono_seconds() - t0;
    /* an interrupt that came before the statement began cancels it; one that comes
     * after it ended is forgotten */
    q->cancel = 0;
    fin_query_statements_free(stmts, n);
    return rc;
}

/* ---- Parquet schemas for the crawler ---- */

const char *fin_query__glue_type(const char *duck, char *buf, size_t size)
{
    static const struct { const char *duck, *glue; } map[] = {
        {"BIGINT", "bigint"},  {"INTEGER", "int"},     {"SMALLINT", "smallint"},
        {"TINYINT", "tinyint"}, {"DOUBLE", "double"},  {"FLOAT", "float"},
        {"BOOLEAN", "boolean"}, {"DATE", "date"},      {"VARCHAR", "string"},
        {"UBIGINT", "bigint"}, {"UINTEGER", "bigint"}, {"USMALLINT", "int"},
        {"UTINYINT", "smallint"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(duck, map[i].duck) == 0)
            return map[i].glue;
    if (strncmp(duck, "TIMESTAMP", 9) == 0)
        return "timestamp";
    if (strncmp(duck, "DECIMAL(", 8) == 0) {
        snprintf(buf, size, "decimal(%s", duck + 8);
        return buf;
    }
    return "string";
}

int fin_query_parquet_schema(const char *path, struct fin_columns *cols, void *ctx)
{
    struct fin_query *q = ctx, *own = NULL;
    int rc = 0;
    if (!q) {
        char tmp[] = "/nonexistent";
        if ((rc = fin_query_open(&own, tmp)))
            return rc;
        q = own;
    }
    struct fin_buf b;
    fin_buf_init(&b);
    duckdb_result res;
    bool have_res = false;
    if (fin_buf_puts(&b, "DESCRIBE SELECT * FROM read_parquet(") || lit(&b, path) ||
        fin_buf_puts(&b, ")")) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    have_res = true;
    if (duckdb_query(q->conn, fin_buf_cstr(&b), &res) == DuckDBError) {
        rc = fin_err_set(FIN_EPARSE, "%s: not readable as Parquet: %s", path,
                         duckdb_result_error(&res));
        goto fail;
    }
    for (idx_t i = 0; !rc && i < duckdb_row_count(&res); i++) {
        char *name = duckdb_value_varchar(&res, 0, i), *type = duckdb_value_varchar(&res, 1, i);
        char buf[64];
        rc = name && type ? fin_columns_merge(cols, name, fin_query__glue_type(type, buf, sizeof buf))
                          : FIN_ENOMEM;
        duckdb_free(name);
        duckdb_free(type);
    }
fail:
    if (have_res)
        duckdb_destroy_result(&res);
    fin_buf_fini(&b);
    fin_query_close(own);
    return rc;
}
