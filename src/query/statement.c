/* statement.c - Athena's catalog statements, answered from finstream's catalog.
 *
 * In Athena these statements go to the Glue Data Catalog, not to the engine; here they
 * go to catalog/catalog.json, and DuckDB sees only the views that follow from it. Each
 * is recognised by its leading words (tokens from lexer.c, so quotes and comments are
 * respected), parsed by hand, carried out on the catalog, which is saved at once, and
 * answered with a small result shaped as Athena's (one text column, or a few):
 *
 *   SHOW DATABASES | SHOW SCHEMAS [LIKE 'pattern']          database_name
 *   SHOW TABLES [IN db] ['pattern']                         tab_name
 *   SHOW COLUMNS IN t [IN db]                               field
 *   DESCRIBE t                                              col_name, data_type, comment
 *   SHOW PARTITIONS t                                       partition
 *   SHOW CREATE TABLE t                                     createtab_stmt (a row per line)
 *   MSCK REPAIR TABLE t                                     result (a row per partition)
 *   CREATE EXTERNAL TABLE ... LOCATION '...'                (no rows)
 *   DROP TABLE [IF EXISTS] t                                (no rows; objects stay)
 *   CREATE TABLE t [WITH (...)] AS SELECT ...               rows (Parquet in the lake)
 *   ALTER TABLE t ADD|DROP [IF [NOT] EXISTS] PARTITION (k = 'v', ...) [LOCATION '...']
 *                                                           (no rows)
 *   USE db                                                  (no rows)
 *
 * Patterns are Athena's: '*' for any characters, '|' between alternatives, matched
 * without regard to case. Any other statement (DESCRIBE SELECT ..., DROP TABLE of a
 * table the session made, plain CREATE TABLE) goes to DuckDB as before. */
#include "query_int.h"
#include "finstream/buf.h"
#include "finstream/catalog.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* ---- a cursor over the tokens ---- */

struct cur {
    const char *s;
    struct fin_sql_tokens t;
    size_t i;
};

static const struct fin_tok *peek(const struct cur *c, size_t ahead)
{
    return c->i + ahead < c->t.n ? &c->t.v[c->i + ahead] : NULL;
}

static bool accept(struct cur *c, const char *word)
{
    if (!fin_sql__is(c->s, peek(c, 0), word))
        return false;
    c->i++;
    return true;
}

static bool punct(const struct cur *c, size_t ahead, const char *p)
{
    const struct fin_tok *k = peek(c, ahead);
    return k && k->kind == FIN_TOK_PUNCT && k->len == strlen(p) && !strncmp(c->s + k->off, p, k->len);
}

static bool accept_punct(struct cur *c, const char *p)
{
    if (!punct(c, 0, p))
        return false;
    c->i++;
    return true;
}

static bool at_end(const struct cur *c) { return c->i >= c->t.n; }

/* Where the parser is, for messages: the text from the current token, shortened. */
static const char *here(const struct cur *c, char *buf, size_t size)
{
    const struct fin_tok *k = peek(c, 0);
    if (!k)
        return "the end of the statement";
    snprintf(buf, size, "'%.40s'", c->s + k->off);
    return buf;
}

static int syntax(const struct cur *c, const char *expected)
{
    char b[64];
    return fin_err_set(FIN_ESQL, "syntax error: expected %s at %s", expected, here(c, b, sizeof b));
}

/* An identifier: a word, "quoted" or `quoted`; unquoted words are lower-cased (Athena's
 * names are). *out is malloc'd. */
static int ident_tok(struct cur *c, char **out)
{
    const struct fin_tok *k = peek(c, 0);
    if (!k || (k->kind != FIN_TOK_WORD && k->kind != FIN_TOK_QUOTED))
        return syntax(c, "a name");
    const char *p = c->s + k->off;
    char *v;
    if (k->kind == FIN_TOK_WORD) {
        v = strndup(p, k->len);
        for (char *q = v; q && *q; q++)
            *q = (char)tolower((unsigned char)*q);
    } else {
        char quote = p[0];
        v = malloc(k->len);
        size_t j = 0;
        for (size_t i = 1; v && i + 1 < k->len; i++) {
            v[j++] = p[i];
            if (p[i] == quote && p[i + 1] == quote)
                i++;
        }
        if (v)
            v[j] = '\0';
    }
    if (!v)
        return FIN_ENOMEM;
    c->i++;
    *out = v;
    return 0;
}

/* [AwsDataCatalog.][db.]table into *db (NULL when not given) and *table. */
static int table_name(struct cur *c, char **db, char **table)
{
    char *parts[3] = {NULL, NULL, NULL};
    int n = 0, rc;
    do {
        if (n == 3) {
            rc = syntax(c, "at most catalog.database.table");
            goto fail;
        }
        if ((rc = ident_tok(c, &parts[n++])))
            goto fail;
    } while (accept_punct(c, "."));
    if (n == 3 && strcasecmp(parts[0], "awsdatacatalog") != 0) {
        rc = fin_err_set(FIN_ESQL, "unknown data catalog '%s' (the only one is AwsDataCatalog)",
                         parts[0]);
        goto fail;
    }
    *table = parts[n - 1];
    *db = n > 1 ? parts[n - 2] : NULL;
    if (n == 3)
        free(parts[0]);
    return 0;
fail:
    for (int i = 0; i < 3; i++)
        free(parts[i]);
    return rc;
}

/* A 'string' literal, unquoted; *out is malloc'd. */
static int string_tok(struct cur *c, char **out)
{
    const struct fin_tok *k = peek(c, 0);
    if (!k || k->kind != FIN_TOK_STRING || k->len < 2)
        return syntax(c, "a 'string'");
    const char *p = c->s + k->off;
    char *v = malloc(k->len);
    if (!v)
        return FIN_ENOMEM;
    size_t j = 0;
    for (size_t i = 1; i + 1 < k->len; i++) {
        v[j++] = p[i];
        if (p[i] == '\'' && p[i + 1] == '\'')
            i++;
    }
    v[j] = '\0';
    c->i++;
    *out = v;
    return 0;
}

/* ---- helpers ---- */

/* Athena's patterns: '*' any characters, '|' alternatives, case-insensitive. */
static bool pattern_match(const char *pattern, const char *name)
{
    if (!pattern)
        return true;
    char *copy = strdup(pattern), *save = NULL;
    bool hit = false;
    for (char *alt = copy ? strtok_r(copy, "|", &save) : NULL; alt && !hit;
         alt = strtok_r(NULL, "|", &save)) {
        while (*alt == ' ')
            alt++;
        size_t n = strlen(alt);
        while (n && alt[n - 1] == ' ')
            alt[--n] = '\0';
        hit = fnmatch(alt, name, FNM_CASEFOLD) == 0;
    }
    free(copy);
    return hit;
}

static void now_iso(char *out, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The table db.name, or name looked up as queries look it up: in the selected
 * database, else the only database that has it, else the current one. */
static int find_table(struct fin_query *q, struct fin_catalog *cat, const char *db,
                      const char *name, struct fin_table **out)
{
    char full[2 * FIN_CATALOG_NAME_MAX + 2];
    const char *in = db ? db : q->database;
    if (!in) {
        size_t count = 0;
        for (size_t i = 0; i < fin_catalog_table_count(cat); i++) {
            const struct fin_table *t = fin_catalog_table_at(cat, i);
            if (!strcasecmp(t->name, name)) {
                in = t->database;
                count++;
            }
        }
        if (count > 1)
            return fin_err_set(FIN_ESQL, "table '%s' is in %zu databases: name the database", name,
                               count);
        if (!in)
            in = fin_query__current_database(q);
    }
    snprintf(full, sizeof full, "%s.%s", in ? in : FIN_CATALOG_DEFAULT_DATABASE, name);
    if (!(*out = fin_catalog_find(cat, full)))
        return fin_err_set(FIN_ESQL, "table '%s' does not exist (SHOW TABLES lists them)", full);
    return 0;
}

static struct fin_result *one_column(const char *name)
{
    const char *names[] = {name};
    return fin_result__new(1, names);
}

static int add1(struct fin_result *r, const char *v)
{
    const char *vals[] = {v};
    return fin_result__add_row(r, vals);
}

/* Saves the catalog and redefines the views, so the next statement sees the change. */
static int commit(struct fin_query *q, struct fin_catalog *cat)
{
    int rc = fin_catalog_save(cat);
    return rc ? rc : fin_query_refresh(q);
}

/* ---- SHOW, DESCRIBE ---- */

static int show_databases(struct cur *c, struct fin_catalog *cat, struct fin_result **out)
{
    char *pattern = NULL;
    int rc = 0;
    if (accept(c, "LIKE") || peek(c, 0))
        if ((rc = string_tok(c, &pattern)))
            return rc;
    if (!at_end(c)) {
        free(pattern);
        return syntax(c, "the end of SHOW DATABASES");
    }
    struct fin_result *r = one_column("database_name");
    rc = r ? 0 : FIN_ENOMEM;
    for (size_t i = 0; !rc && i < fin_catalog_database_count(cat); i++)
        if (pattern_match(pattern, fin_catalog_database_at(cat, i)))
            rc = add1(r, fin_catalog_database_at(cat, i));
    free(pattern);
    if (rc) {
        fin_result_destroy(r);
        return rc;
    }
    *out = r;
    return 0;
}

static int show_tables(struct fin_query *q, struct cur *c, struct fin_catalog *cat,
                       struct fin_result **out)
{
    char *db = NULL, *pattern = NULL;
    int rc = 0;
    if ((accept(c, "IN") || accept(c, "FROM")) && (rc = ident_tok(c, &db)))
        return rc;
    if (!at_end(c) && (accept(c, "LIKE"), (rc = string_tok(c, &pattern))))
        goto fail;
    if (!at_end(c)) {
        rc = syntax(c, "the end of SHOW TABLES");
        goto fail;
    }
    const char *in = db ? db : fin_query__current_database(q);
    bool known = false;
    for (size_t i = 0; in && i < fin_catalog_database_count(cat); i++)
        known = known || !strcasecmp(fin_catalog_database_at(cat, i), in);
    if (db && !known) {
        rc = fin_err_set(FIN_ESQL, "database '%s' does not exist (SHOW DATABASES lists them)", db);
        goto fail;
    }
    struct fin_result *r = one_column("tab_name");
    rc = r ? 0 : FIN_ENOMEM;
    for (size_t i = 0; !rc && in && i < fin_catalog_table_count(cat); i++) {
        const struct fin_table *t = fin_catalog_table_at(cat, i);
        if (!strcasecmp(t->database, in) && pattern_match(pattern, t->name))
            rc = add1(r, t->name);
    }
    if (rc)
        fin_result_destroy(r);
    else
        *out = r;
fail:
    free(db);
    free(pattern);
    return rc;
}

/* SHOW COLUMNS, DESCRIBE, SHOW PARTITIONS, SHOW CREATE TABLE, MSCK REPAIR: one table. */
enum about { COLUMNS, DESCRIBE, PARTITIONS, CREATE, REPAIR };

static int about_table(struct fin_query *q, struct cur *c, struct fin_catalog *cat,
                       enum about what, struct fin_result **out)
{
    char *db = NULL, *name = NULL;
    struct fin_result *r = NULL;
    struct fin_table *t;
    int rc = table_name(c, &db, &name);
    if (rc)
        return rc;
    if (what == COLUMNS && !db && (accept(c, "IN") || accept(c, "FROM")) &&
        (rc = ident_tok(c, &db)))
        goto fail;
    if (!at_end(c)) {
        rc = syntax(c, "the end of the statement");
        goto fail;
    }
    if ((rc = find_table(q, cat, db, name, &t)))
        goto fail;
    rc = FIN_ENOMEM;
    switch (what) {
    case COLUMNS:
        if (!(r = one_column("field")))
            goto fail;
        for (size_t i = 0; i < t->columns.n; i++)
            if ((rc = add1(r, t->columns.v[i].name)))
                goto fail;
        for (size_t i = 0; i < t->partition_keys.n; i++)
            if ((rc = add1(r, t->partition_keys.v[i].name)))
                goto fail;
        break;
    case DESCRIBE: {
        const char *names[] = {"col_name", "data_type", "comment"};
        if (!(r = fin_result__new(3, names)))
            goto fail;
        for (size_t i = 0; i < t->columns.n; i++) {
            const struct fin_column *col = &t->columns.v[i];
            const char *type = strcmp(col->type, "null") ? col->type : "string";
            char from[300] = "";
            if (col->source && strcmp(col->source, col->name))
                snprintf(from, sizeof from, "from key \"%s\"", col->source);
            const char *row[] = {col->name, type, from};
            if ((rc = fin_result__add_row(r, row)))
                goto fail;
        }
        for (size_t i = 0; i < t->partition_keys.n; i++) {
            const char *row[] = {t->partition_keys.v[i].name, "string", "partition key"};
            if ((rc = fin_result__add_row(r, row)))
                goto fail;
        }
        break;
    }
    case PARTITIONS:
        if (!(r = one_column("partition")))
            goto fail;
        for (size_t i = 0; i < t->npartitions; i++) {
            struct fin_buf b;
            fin_buf_init(&b);
            for (size_t k = 0; k < t->partition_keys.n; k++)
                fin_buf_printf(&b, "%s%s=%s", k ? "/" : "", t->partition_keys.v[k].name,
                               t->partitions[i].values[k]);
            rc = fin_buf_cstr(&b) ? add1(r, fin_buf_cstr(&b)) : FIN_ENOMEM;
            fin_buf_fini(&b);
            if (rc)
                goto fail;
        }
        break;
    case CREATE: {
        char *ddl = NULL;
        if ((rc = fin_catalog_ddl(t, NULL, &ddl)))
            goto fail;
        if (!(r = one_column("createtab_stmt"))) {
            free(ddl);
            rc = FIN_ENOMEM;
            goto fail;
        }
        char *save = NULL;
        for (char *line = strtok_r(ddl, "\n", &save); line && !rc;
             line = strtok_r(NULL, "\n", &save))
            rc = add1(r, line);
        free(ddl);
        if (rc)
            goto fail;
        break;
    }
    case REPAIR: {
        size_t before = t->npartitions, added = 0;
        if ((rc = fin_catalog_repair(t, &added)))
            goto fail;
        if (!(r = one_column("result"))) {
            rc = FIN_ENOMEM;
            goto fail;
        }
        for (size_t i = before; i < t->npartitions; i++) {
            char line[1024];
            snprintf(line, sizeof line, "Repair: Added partition to metastore %s.%s:%s",
                     t->database, t->name, t->partitions[i].path);
            if ((rc = add1(r, line)))
                goto fail;
        }
        if (added) {
            char now[32];
            now_iso(now, sizeof now);
            char *u = strdup(now);
            if (!u) {
                rc = FIN_ENOMEM;
                goto fail;
            }
            free(t->updated);
            t->updated = u;
            if ((rc = commit(q, cat)))
                goto fail;
        }
        break;
    }
    }
    rc = 0;
    *out = r;
    r = NULL;
fail:
    fin_result_destroy(r);
    free(db);
    free(name);
    return rc;
}

/* ---- CREATE EXTERNAL TABLE ---- */

/* A column type as written (struct<a:int,b:array<string>>, decimal(10,2)), lower-cased
 * and without spaces. Stops before ',' or ')' outside brackets, or COMMENT. */
static int type_text(struct cur *c, char **out)
{
    struct fin_buf b;
    fin_buf_init(&b);
    int depth = 0;
    while (!at_end(c)) {
        const struct fin_tok *k = peek(c, 0);
        if (depth == 0 && (punct(c, 0, ",") || punct(c, 0, ")") || fin_sql__is(c->s, k, "COMMENT")))
            break;
        for (size_t i = 0; i < k->len; i++) {
            char ch = c->s[k->off + i];
            depth += ch == '<' || ch == '(';
            depth -= ch == '>' || ch == ')';
            if (fin_buf_append(&b, &(char){(char)tolower((unsigned char)ch)}, 1)) {
                fin_buf_fini(&b);
                return FIN_ENOMEM;
            }
        }
        c->i++;
    }
    if (!b.len || depth != 0) {
        fin_buf_fini(&b);
        return syntax(c, "a column type");
    }
    *out = fin_buf_take(&b, NULL);
    return *out ? 0 : FIN_ENOMEM;
}

/* ( name type [COMMENT '...'], ... ) into cols; sources as the names. */
static int column_list(struct cur *c, struct fin_columns *cols)
{
    if (!accept_punct(c, "("))
        return syntax(c, "'(' and the columns");
    int rc = 0;
    do {
        char *name = NULL, *type = NULL, *comment = NULL;
        if ((rc = ident_tok(c, &name)) || (rc = type_text(c, &type)) ||
            (accept(c, "COMMENT") && (rc = string_tok(c, &comment))))
            goto next;
        if (fin_columns_find(cols, name))
            rc = fin_err_set(FIN_ESQL, "column '%s' is declared twice", name);
        else if (!strcmp(type, "string") || !strncmp(type, "varchar", 7) ||
                 !strncmp(type, "char", 4))
            rc = fin_columns_merge(cols, name, "string");
        else
            rc = fin_columns_merge(cols, name, !strcmp(type, "integer") ? "int" : type);
    next:
        free(name);
        free(type);
        free(comment);
    } while (!rc && accept_punct(c, ","));
    if (!rc && !accept_punct(c, ")"))
        rc = syntax(c, "')' after the columns");
    return rc;
}

/* ('k' = 'v', ...): calls set for each pair. */
static int properties(struct cur *c, int (*set)(void *ctx, const char *k, const char *v), void *ctx)
{
    if (!accept_punct(c, "("))
        return syntax(c, "'(' and properties");
    int rc = 0;
    do {
        char *k = NULL, *v = NULL;
        if (!(rc = string_tok(c, &k)) && !(rc = accept_punct(c, "=") ? 0 : syntax(c, "'='")) &&
            !(rc = string_tok(c, &v)))
            rc = set(ctx, k, v);
        free(k);
        free(v);
    } while (!rc && accept_punct(c, ","));
    if (!rc && !accept_punct(c, ")"))
        rc = syntax(c, "')' after the properties");
    return rc;
}

struct ddl {
    struct fin_table *t;
    char format[16];      /* json | csv | parquet, from the SerDe or STORED AS */
    bool gzip;
};

static int serde_property(void *ctx, const char *k, const char *v)
{
    struct ddl *d = ctx;
    if (!strncasecmp(k, "mapping.", 8)) {
        struct fin_column *col = fin_columns_find(&d->t->columns, k + 8);
        if (!col)
            return fin_err_set(FIN_ESQL, "SERDEPROPERTIES '%s': no column '%s'", k, k + 8);
        char *s = strdup(v);
        if (!s)
            return FIN_ENOMEM;
        free(col->source);
        col->source = s;
    } else if (!strcasecmp(k, "field.delim") || !strcasecmp(k, "separatorChar")) {
        if (strcmp(v, ","))
            return fin_err_set(FIN_EUNSUPPORTED,
                               "SERDEPROPERTIES '%s' = '%s': only ',' separated text is read", k, v);
    }
    /* 'case.insensitive', 'ignore.malformed.json', 'serialization.format', quoteChar,
     * escapeChar: the readers behave so already */
    return 0;
}

static int table_property(void *ctx, const char *k, const char *v)
{
    struct ddl *d = ctx;
    if (!strcasecmp(k, "classification")) {
        if (strcasecmp(v, "json") && strcasecmp(v, "csv") && strcasecmp(v, "parquet"))
            return fin_err_set(FIN_EUNSUPPORTED,
                               "TBLPROPERTIES 'classification' = '%s': json, csv or parquet", v);
        snprintf(d->format, sizeof d->format, "%s", v);
        for (char *p = d->format; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    } else if (!strcasecmp(k, "compressionType") || !strcasecmp(k, "write.compression")) {
        d->gzip = !strcasecmp(v, "gzip");
    }
    return 0;
}

/* A LOCATION as a local folder: file:///abs/ and /abs as they are; s3://bucket/key the
 * lake's folder key (the lake stands for a bucket). *out is malloc'd, no trailing '/'. */
static int local_location(struct fin_query *q, const char *loc, char **out)
{
    char *p = NULL;
    if (!strncmp(loc, "file://", 7) && loc[7] == '/') {
        p = strdup(loc + 7);
    } else if (loc[0] == '/') {
        p = strdup(loc);
    } else if (!strncasecmp(loc, "s3://", 5) || !strncasecmp(loc, "s3a://", 6)) {
        const char *key = strchr(loc + 5 + (loc[2] == 'a'), '/');
        char *lake = fin_path_join(q->data_dir, "lake");
        p = lake && key && key[1] ? fin_path_join(lake, key + 1) : (lake ? strdup(lake) : NULL);
        free(lake);
    } else {
        return fin_err_set(FIN_ESQL, "LOCATION '%s': expected s3://bucket/prefix/ or file:///folder/",
                           loc);
    }
    if (!p)
        return FIN_ENOMEM;
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    if (strstr(p, "/../") || (n >= 3 && !strcmp(p + n - 3, "/..")))
        return free(p), fin_err_set(FIN_ESQL, "LOCATION '%s': '..' is not allowed", loc);
    *out = p;
    return 0;
}

static int create_external(struct fin_query *q, struct cur *c, struct fin_catalog *cat,
                           struct fin_result **out)
{
    char *db = NULL, *name = NULL, *location = NULL, *s = NULL;
    struct fin_columns cols = {0}, parts = {0};
    struct ddl d = {0};
    bool if_not_exists = false;
    int rc = 0;
    if (accept(c, "IF")) {
        if (!accept(c, "NOT") || !accept(c, "EXISTS"))
            return syntax(c, "IF NOT EXISTS");
        if_not_exists = true;
    }
    if ((rc = table_name(c, &db, &name)) || (rc = column_list(c, &cols)))
        goto fail;
    while (!at_end(c)) {
        if (accept(c, "COMMENT")) {
            free(s);
            s = NULL;
            if ((rc = string_tok(c, &s)))
                goto fail;
        } else if (accept(c, "PARTITIONED")) {
            if (!accept(c, "BY")) {
                rc = syntax(c, "PARTITIONED BY");
                goto fail;
            }
            if ((rc = column_list(c, &parts)))
                goto fail;
        } else if (accept(c, "ROW")) {
            if (!accept(c, "FORMAT")) {
                rc = syntax(c, "ROW FORMAT");
                goto fail;
            }
            if (accept(c, "SERDE")) {
                free(s);
                s = NULL;
                if ((rc = string_tok(c, &s)))
                    goto fail;
                if (strcasestr(s, "json"))
                    snprintf(d.format, sizeof d.format, "json");
                else if (strcasestr(s, "parquet"))
                    snprintf(d.format, sizeof d.format, "parquet");
                else if (strcasestr(s, "csv") || strcasestr(s, "LazySimpleSerDe"))
                    snprintf(d.format, sizeof d.format, "csv");
                else {
                    rc = fin_err_set(FIN_EUNSUPPORTED,
                                     "ROW FORMAT SERDE '%s': finstream reads the JSON, CSV and "
                                     "Parquet SerDes", s);
                    goto fail;
                }
            } else if (accept(c, "DELIMITED")) {
                snprintf(d.format, sizeof d.format, "csv");
                while (accept(c, "FIELDS") || accept(c, "LINES") || accept(c, "ESCAPED") ||
                       accept(c, "COLLECTION") || accept(c, "MAP")) {
                    const char *kw = c->s + c->t.v[c->i - 1].off;
                    bool fields = !strncasecmp(kw, "FIELDS", 6);
                    while (accept(c, "TERMINATED") || accept(c, "BY") || accept(c, "ITEMS") ||
                           accept(c, "KEYS"))
                        ;
                    free(s);
                    s = NULL;
                    if ((rc = string_tok(c, &s)))
                        goto fail;
                    if (fields && strcmp(s, ",")) {
                        rc = fin_err_set(FIN_EUNSUPPORTED,
                                         "FIELDS TERMINATED BY '%s': only ',' separated text is read",
                                         s);
                        goto fail;
                    }
                }
            } else {
                rc = syntax(c, "SERDE or DELIMITED");
                goto fail;
            }
            /* properties apply once the table exists; parse them into a scratch table */
            if (accept(c, "WITH")) {
                if (!accept(c, "SERDEPROPERTIES")) {
                    rc = syntax(c, "WITH SERDEPROPERTIES");
                    goto fail;
                }
                struct fin_table scratch = {0};
                scratch.columns = cols;
                d.t = &scratch;
                rc = properties(c, serde_property, &d);
                cols = scratch.columns;
                d.t = NULL;
                if (rc)
                    goto fail;
            }
        } else if (accept(c, "STORED")) {
            if (!accept(c, "AS")) {
                rc = syntax(c, "STORED AS");
                goto fail;
            }
            if (accept(c, "PARQUET"))
                snprintf(d.format, sizeof d.format, "parquet");
            else if (accept(c, "TEXTFILE")) {
                if (!d.format[0])
                    snprintf(d.format, sizeof d.format, "csv");
            } else if (accept(c, "JSON"))
                snprintf(d.format, sizeof d.format, "json");
            else if (accept(c, "INPUTFORMAT")) {
                free(s);
                s = NULL;
                if ((rc = string_tok(c, &s)))
                    goto fail;
                if (strcasestr(s, "parquet"))
                    snprintf(d.format, sizeof d.format, "parquet");
                else if (!strcasestr(s, "TextInputFormat")) {
                    rc = fin_err_set(FIN_EUNSUPPORTED, "INPUTFORMAT '%s': text or Parquet only", s);
                    goto fail;
                }
                if (accept(c, "OUTPUTFORMAT")) {
                    free(s);
                    s = NULL;
                    if ((rc = string_tok(c, &s)))
                        goto fail;
                }
            } else {
                rc = fin_err_set(FIN_EUNSUPPORTED,
                                 "STORED AS %s: finstream reads JSON, CSV (TEXTFILE) and PARQUET",
                                 peek(c, 0) ? c->s + peek(c, 0)->off : "?");
                goto fail;
            }
        } else if (accept(c, "LOCATION")) {
            free(location);
            location = NULL;
            if ((rc = string_tok(c, &location)))
                goto fail;
        } else if (accept(c, "TBLPROPERTIES")) {
            if ((rc = properties(c, table_property, &d)))
                goto fail;
        } else {
            rc = syntax(c, "PARTITIONED BY, ROW FORMAT, STORED AS, LOCATION or TBLPROPERTIES");
            goto fail;
        }
    }
    if (!location) {
        rc = fin_err_set(FIN_ESQL, "CREATE EXTERNAL TABLE needs a LOCATION");
        goto fail;
    }
    if (!d.format[0])
        snprintf(d.format, sizeof d.format, "csv");   /* Hive's default: delimited text */
    char *dir = NULL, now[32];
    if ((rc = local_location(q, location, &dir)))
        goto fail;
    now_iso(now, sizeof now);
    const char *in = db ? db : fin_query__current_database(q);
    struct fin_table *t = NULL;
    rc = fin_table_create(&t, in ? in : FIN_CATALOG_DEFAULT_DATABASE, name, dir, d.format, now);
    free(dir);
    if (rc)
        goto fail;
    t->columns = cols;
    t->partition_keys = parts;
    memset(&cols, 0, sizeof cols);
    memset(&parts, 0, sizeof parts);
    for (size_t i = 0; i < t->partition_keys.n; i++) {
        char *ty = strdup("string");   /* the views read partition values from folder names */
        if (!ty) {
            fin_table_destroy(t);
            rc = FIN_ENOMEM;
            goto fail;
        }
        free(t->partition_keys.v[i].type);
        t->partition_keys.v[i].type = ty;
        free(t->partition_keys.v[i].source);
        t->partition_keys.v[i].source = NULL;
    }
    if (d.gzip) {
        free(t->compression);
        t->compression = strdup("gzip");
        if (!t->compression) {
            fin_table_destroy(t);
            rc = FIN_ENOMEM;
            goto fail;
        }
    }
    char full[2 * FIN_CATALOG_NAME_MAX + 2];
    snprintf(full, sizeof full, "%s.%s", t->database, t->name);
    if (fin_catalog_find(cat, full) && if_not_exists) {
        fin_table_destroy(t);
    } else if ((rc = fin_catalog_add(cat, t)) || (rc = commit(q, cat))) {
        goto fail;
    }
    *out = fin_result__new(0, NULL);
    rc = *out ? 0 : FIN_ENOMEM;
fail:
    fin_columns_fini(&cols);
    fin_columns_fini(&parts);
    free(db);
    free(name);
    free(location);
    free(s);
    return rc;
}

/* ---- DROP TABLE ---- */

/* Returns 0 when the table is not in the catalog and IF EXISTS was not said: DuckDB
 * then handles it (a table the session created) and names the catalog's tables. */
static int drop_table(struct fin_query *q, struct cur *c, struct fin_catalog *cat,
                      struct fin_result **out, int *rc)
{
    bool if_exists = accept(c, "IF") && accept(c, "EXISTS");
    char *db = NULL, *name = NULL;
    struct fin_table *t = NULL;
    if ((*rc = table_name(c, &db, &name)))
        return 1;
    int handled = 1;
    if (!at_end(c)) {
        *rc = syntax(c, "the end of DROP TABLE");
    } else if (find_table(q, cat, db, name, &t) != 0) {
        if (if_exists) {
            *out = fin_result__new(0, NULL);
            *rc = *out ? 0 : FIN_ENOMEM;
        } else {
            handled = 0;
        }
    } else {
        char full[2 * FIN_CATALOG_NAME_MAX + 2];
        snprintf(full, sizeof full, "%s.%s", t->database, t->name);
        if (!(*rc = fin_catalog_drop(cat, full)) && !(*rc = commit(q, cat))) {
            *out = fin_result__new(0, NULL);
            *rc = *out ? 0 : FIN_ENOMEM;
        }
    }
    free(db);
    free(name);
    return handled;
}

/* ---- CREATE TABLE AS SELECT ---- */

struct ctas {
    char format[16];          /* parquet | json */
    char *location;
    char **partitioned_by;
    size_t npart;
};

/* WITH (format = 'PARQUET', external_location = '...', partitioned_by = ARRAY['a'], ...) */
static int ctas_options(struct cur *c, struct ctas *o)
{
    if (!accept_punct(c, "("))
        return syntax(c, "'(' and the table properties");
    int rc = 0;
    do {
        char *key = NULL, *v = NULL;
        if ((rc = ident_tok(c, &key)))
            return rc;
        if (!accept_punct(c, "=")) {
            free(key);
            return syntax(c, "'='");
        }
        if (!strcmp(key, "partitioned_by") || !strcmp(key, "bucketed_by")) {
            bool bucketed = !strcmp(key, "bucketed_by");
            if (!accept(c, "ARRAY") || !accept_punct(c, "[")) {
                free(key);
                return syntax(c, "ARRAY['column', ...]");
            }
            do {
                if ((rc = string_tok(c, &v)))
                    break;
                if (bucketed) {
                    free(v);
                    continue;   /* bucketing only shapes files; the table reads the same */
                }
                char **nv = realloc(o->partitioned_by, (o->npart + 1) * sizeof *nv);
                if (!nv) {
                    free(v);
                    rc = FIN_ENOMEM;
                    break;
                }
                o->partitioned_by = nv;
                nv[o->npart++] = v;
            } while (accept_punct(c, ","));
            v = NULL;
            if (!rc && !accept_punct(c, "]"))
                rc = syntax(c, "']'");
        } else if ((rc = string_tok(c, &v)) == 0) {
            if (!strcmp(key, "format")) {
                if (strcasecmp(v, "parquet") && strcasecmp(v, "json"))
                    rc = fin_err_set(FIN_EUNSUPPORTED,
                                     "CREATE TABLE AS format '%s': PARQUET or JSON", v);
                snprintf(o->format, sizeof o->format, "%s", v);
                for (char *p = o->format; *p; p++)
                    *p = (char)tolower((unsigned char)*p);
            } else if (!strcmp(key, "external_location")) {
                free(o->location);
                o->location = v;
                v = NULL;
            } else if (strcmp(key, "write_compression") && strcmp(key, "parquet_compression") &&
                       strcmp(key, "bucket_count") && strcmp(key, "field_delimiter") &&
                       strcmp(key, "table_type") && strcmp(key, "is_external")) {
                rc = fin_err_set(FIN_EUNSUPPORTED, "CREATE TABLE AS property '%s' is not known",
                                 key);
            }
        }
        free(key);
        free(v);
    } while (!rc && accept_punct(c, ","));
    if (!rc && !accept_punct(c, ")"))
        rc = syntax(c, "')' after the table properties");
    return rc;
}

static int uuid4(char *out, size_t size)
{
    unsigned char b[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, b, sizeof b) != (ssize_t)sizeof b) {
        if (fd >= 0)
            close(fd);
        return fin_err_set(FIN_EIO, "cannot read /dev/urandom");
    }
    close(fd);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, size, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
    return 0;
}

static int ctas(struct fin_query *q, struct cur *c, struct fin_catalog *cat, bool if_not_exists,
                struct fin_result **out)
{
    char *db = NULL, *name = NULL, *dir = NULL;
    struct ctas o = {.format = "parquet"};
    struct fin_result *described = NULL, *written = NULL;
    struct fin_table *t = NULL;
    struct fin_buf b;
    fin_buf_init(&b);
    int rc = table_name(c, &db, &name);
    if (rc)
        goto fail;
    if (accept(c, "WITH") && (rc = ctas_options(c, &o)))
        goto fail;
    if (!accept(c, "AS")) {
        rc = syntax(c, "AS and the query");
        goto fail;
    }
    /* the query runs to the end, but for Athena's WITH [NO] DATA */
    size_t end = c->t.n;
    bool no_data = false;
    if (end >= 2 && fin_sql__is(c->s, &c->t.v[end - 1], "DATA") &&
        fin_sql__is(c->s, &c->t.v[end - 2], "WITH")) {
        end -= 2;
    } else if (end >= 3 && fin_sql__is(c->s, &c->t.v[end - 1], "DATA") &&
               fin_sql__is(c->s, &c->t.v[end - 2], "NO") &&
               fin_sql__is(c->s, &c->t.v[end - 3], "WITH")) {
        end -= 3;
        no_data = true;
    }
    if (at_end(c) || c->i >= end) {
        rc = syntax(c, "a query after AS");
        goto fail;
    }
    char *select = strndup(c->s + c->t.v[c->i].off,
                           c->t.v[end - 1].off + c->t.v[end - 1].len - c->t.v[c->i].off);
    if (!select) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    const char *in = db ? db : fin_query__current_database(q);
    char full[2 * FIN_CATALOG_NAME_MAX + 2];
    snprintf(full, sizeof full, "%s.%s", in ? in : FIN_CATALOG_DEFAULT_DATABASE, name);
    if (fin_catalog_find(cat, full)) {
        free(select);
        if (if_not_exists) {
            *out = fin_result__new(0, NULL);
            rc = *out ? 0 : FIN_ENOMEM;
        } else {
            rc = fin_err_set(FIN_EEXIST, "table %s already exists", full);
        }
        goto fail;
    }
    /* the result's columns and types, through the same rewrites as any query */
    rc = fin_buf_puts(&b, "SELECT * FROM (") || fin_buf_puts(&b, select) ||
                 fin_buf_puts(&b, ") LIMIT 0")
             ? FIN_ENOMEM
             : fin_query__exec_sql(q, fin_buf_cstr(&b), &described);
    if (rc) {
        free(select);
        goto fail;
    }
    for (size_t k = 0; k < o.npart; k++)
        if (fin_result_column_index(described, o.partitioned_by[k]) < 0) {
            rc = fin_err_set(FIN_ESQL, "partitioned_by: the query has no column '%s'",
                             o.partitioned_by[k]);
            free(select);
            goto fail;
        }
    /* where: external_location, else results/tables/<id>/ as Athena puts it under its
     * query result location */
    if (o.location) {
        rc = local_location(q, o.location, &dir);
    } else {
        char id[40], rel[64];
        if (!(rc = uuid4(id, sizeof id))) {
            snprintf(rel, sizeof rel, "results/tables/%s", id);
            dir = fin_path_join(q->data_dir, rel);
            rc = dir ? 0 : FIN_ENOMEM;
        }
    }
    if (!rc && o.npart && strcmp(o.format, "parquet") != 0)
        rc = fin_err_set(FIN_EUNSUPPORTED, "partitioned_by is supported with format 'PARQUET'");
    bool made = false;
    if (!rc && !fin_path_exists(dir)) {
        made = true;
        rc = fin_mkdir_p(dir, 0755);
    }
    if (!rc) {
        /* the catalog keeps absolute folders */
        char *abs = realpath(dir, NULL);
        if (!abs)
            rc = fin_err_errno(errno, "cannot resolve", dir);
        free(dir);
        dir = abs;
    }
    if (!rc && !no_data) {
        /* The writing goes through DuckDB's COPY, with the query rewritten as any query
         * is; its one row is the number of rows written. */
        fin_buf_reset(&b);
        char *file = o.npart ? strdup(dir)
                             : fin_path_join(dir, strcmp(o.format, "json") ? "data_0.parquet"
                                                                           : "data_0.json");
        rc = !file || fin_buf_puts(&b, "COPY (") || fin_buf_puts(&b, select) ||
             fin_buf_puts(&b, ") TO ") || fin_query__lit(&b, file) ||
             fin_buf_printf(&b, " (FORMAT %s", o.format);
        free(file);
        if (!rc && o.npart) {
            rc = fin_buf_puts(&b, ", PARTITION_BY (");
            for (size_t k = 0; !rc && k < o.npart; k++)
                rc = (k ? fin_buf_puts(&b, ", ") : 0) || fin_query__ident(&b, o.partitioned_by[k]);
            rc = rc || fin_buf_puts(&b, ")");
        }
        rc = rc || fin_buf_puts(&b, ")") ? FIN_ENOMEM : 0;
        if (!rc)
            rc = fin_query__exec_sql(q, fin_buf_cstr(&b), &written);
    }
    free(select);
    if (rc) {
        if (made && dir)
            rmdir(dir);   /* nothing was written (a COPY that fails leaves no file) */
        goto fail;
    }
    char now[32];
    now_iso(now, sizeof now);
    if ((rc = fin_table_create(&t, in ? in : FIN_CATALOG_DEFAULT_DATABASE, name, dir, o.format,
                               now)))
        goto fail;
    if (!strcmp(o.format, "json")) {
        free(t->framing);
        if (!(t->framing = strdup("lines"))) {
            rc = FIN_ENOMEM;
            goto fail;
        }
    }
    for (size_t i = 0; i < fin_result_columns(described); i++) {
        const char *cn = fin_result_column_name(described, i);
        bool part = false;
        for (size_t k = 0; k < o.npart; k++)
            part = part || !strcasecmp(o.partitioned_by[k], cn);
        if (part)
            continue;
        if ((rc = fin_columns_merge(&t->columns, cn, fin_result__glue_type(described, i))))
            goto fail;
    }
    for (size_t k = 0; k < o.npart; k++)
        if ((rc = fin_columns_merge(&t->partition_keys, o.partitioned_by[k], "string")))
            goto fail;
    size_t added;
    if ((rc = fin_catalog_repair(t, &added)))
        goto fail;
    rc = fin_catalog_add(cat, t);
    t = NULL;
    if (rc || (rc = commit(q, cat)))
        goto fail;
    const char *names[] = {"rows"};
    *out = fin_result__new(1, names);
    rc = *out ? add1(*out, written && fin_result_rows(written) ? fin_result_text(written, 0, 0) : "0")
              : FIN_ENOMEM;
fail:
    fin_table_destroy(t);
    fin_result_destroy(described);
    fin_result_destroy(written);
    fin_buf_fini(&b);
    for (size_t k = 0; k < o.npart; k++)
        free(o.partitioned_by[k]);
    free(o.partitioned_by);
    free(o.location);
    free(dir);
    free(db);
    free(name);
    return rc;
}

/* ---- ALTER TABLE ADD | DROP PARTITION ---- */

/* (k = 'v', ...) into values[] in the order of the table's keys; every key once. */
static int partition_spec(struct cur *c, const struct fin_table *t, char **values)
{
    if (!accept_punct(c, "("))
        return syntax(c, "'(' and the partition's values");
    int rc = 0;
    do {
        char *key = NULL, *v = NULL;
        const struct fin_tok *k;
        if ((rc = ident_tok(c, &key)))
            return rc;
        if (!accept_punct(c, "=")) {
            free(key);
            return syntax(c, "'='");
        }
        k = peek(c, 0);
        if (k && k->kind == FIN_TOK_NUMBER) {
            v = strndup(c->s + k->off, k->len);
            c->i++;
            rc = v ? 0 : FIN_ENOMEM;
        } else {
            rc = string_tok(c, &v);
        }
        size_t at = t->partition_keys.n;
        for (size_t i = 0; !rc && i < t->partition_keys.n; i++)
            if (!strcasecmp(t->partition_keys.v[i].name, key))
                at = i;
        if (!rc && at == t->partition_keys.n)
            rc = fin_err_set(FIN_ESQL, "%s.%s has no partition key '%s'", t->database, t->name, key);
        else if (!rc && values[at])
            rc = fin_err_set(FIN_ESQL, "partition key '%s' is given twice", key);
        if (!rc) {
            values[at] = v;
            v = NULL;
        }
        free(key);
        free(v);
    } while (!rc && accept_punct(c, ","));
    if (!rc && !accept_punct(c, ")"))
        rc = syntax(c, "')' after the partition's values");
    for (size_t i = 0; !rc && i < t->partition_keys.n; i++)
        if (!values[i])
            rc = fin_err_set(FIN_ESQL, "the partition lacks a value for '%s'",
                             t->partition_keys.v[i].name);
    return rc;
}

static int alter_table(struct fin_query *q, struct cur *c, struct fin_catalog *cat,
                       struct fin_result **out)
{
    char *db = NULL, *name = NULL;
    struct fin_table *t;
    int rc = table_name(c, &db, &name);
    if (rc || (rc = find_table(q, cat, db, name, &t)))
        goto fail;
    bool add = accept(c, "ADD");
    if (!add && !accept(c, "DROP")) {
        rc = fin_err_set(FIN_EUNSUPPORTED, "ALTER TABLE: only ADD PARTITION and DROP PARTITION "
                                           "are supported");
        goto fail;
    }
    bool lenient = add ? accept(c, "IF") && accept(c, "NOT") && accept(c, "EXISTS")
                       : accept(c, "IF") && accept(c, "EXISTS");
    if (!t->partition_keys.n) {
        rc = fin_err_set(FIN_ESQL, "%s.%s is not partitioned", t->database, t->name);
        goto fail;
    }
    size_t changed = 0;
    do {
        if (!accept(c, "PARTITION")) {
            rc = syntax(c, "PARTITION (key = 'value', ...)");
            goto fail;
        }
        char **values = calloc(t->partition_keys.n, sizeof *values);
        char *loc = NULL, *dir = NULL;
        struct fin_buf path;
        fin_buf_init(&path);
        rc = values ? partition_spec(c, t, values) : FIN_ENOMEM;
        if (!rc && add && accept(c, "LOCATION") && !(rc = string_tok(c, &loc)) &&
            !(rc = local_location(q, loc, &dir))) {
            size_t n = strlen(t->location);
            /* the views read a partition below the table's folder */
            if (strncmp(dir, t->location, n) || dir[n] != '/')
                rc = fin_err_set(FIN_EUNSUPPORTED,
                                 "PARTITION LOCATION '%s' is not under the table's location %s",
                                 loc, t->location);
            else
                rc = fin_buf_puts(&path, dir + n + 1);
        } else if (!rc && add) {
            /* Hive's layout: key=value folders; partition_N keys are bare folders */
            for (size_t k = 0; !rc && k < t->partition_keys.n; k++) {
                const char *key = t->partition_keys.v[k].name;
                rc = fin_buf_printf(&path, "%s%s%s%s", k ? "/" : "",
                                    strncmp(key, "partition_", 10) ? key : "",
                                    strncmp(key, "partition_", 10) ? "=" : "", values[k]);
            }
        }
        if (!rc && add && fin_buf_cstr(&path))
            rc = fin_catalog_add_partition(t, (const char *const *)values, fin_buf_cstr(&path));
        else if (!rc && !add)
            rc = fin_catalog_drop_partition(t, (const char *const *)values);
        if ((rc == FIN_EEXIST && add && lenient) || (rc == FIN_ENOENT && !add && lenient))
            rc = 0;
        else if (!rc)
            changed++;
        for (size_t k = 0; values && k < t->partition_keys.n; k++)
            free(values[k]);
        free(values);
        free(loc);
        free(dir);
        fin_buf_fini(&path);
        if (rc)
            goto fail;
    } while (!at_end(c) && (accept_punct(c, ","), true));
    if (changed && (rc = commit(q, cat)))
        goto fail;
    *out = fin_result__new(0, NULL);
    rc = *out ? 0 : FIN_ENOMEM;
fail:
    free(db);
    free(name);
    return rc;
}

/* ---- dispatch ---- */

int fin_query__statement(struct fin_query *q, const char *sql, struct fin_result **out, int *rc)
{
    struct cur c = {sql, {0}, 0};
    struct fin_catalog *cat = NULL;
    int handled = 1;
    *rc = fin_sql__tokenize(sql, &c.t);
    if (*rc)
        return 1;
    const struct fin_tok *t1 = peek(&c, 1);
    bool show = fin_sql__is(sql, peek(&c, 0), "SHOW");
    enum { NONE, DBS, TABLES, ABOUT, EXTERNAL, DROP, CTAS, USE, ALTER } kind = NONE;
    enum about what = COLUMNS;
    bool if_not_exists = false;
    if (show && (fin_sql__is(sql, t1, "DATABASES") || fin_sql__is(sql, t1, "SCHEMAS"))) {
        kind = DBS;
        c.i = 2;
    } else if (show && fin_sql__is(sql, t1, "TABLES")) {
        kind = TABLES;
        c.i = 2;
    } else if (show && fin_sql__is(sql, t1, "COLUMNS") &&
               (fin_sql__is(sql, peek(&c, 2), "IN") || fin_sql__is(sql, peek(&c, 2), "FROM"))) {
        kind = ABOUT;
        c.i = 3;
    } else if (show && fin_sql__is(sql, t1, "PARTITIONS")) {
        kind = ABOUT;
        what = PARTITIONS;
        c.i = 2;
    } else if (show && fin_sql__is(sql, t1, "CREATE") && fin_sql__is(sql, peek(&c, 2), "TABLE")) {
        kind = ABOUT;
        what = CREATE;
        c.i = 3;
    } else if (fin_sql__is(sql, peek(&c, 0), "DESCRIBE") && t1 &&
               (t1->kind == FIN_TOK_WORD || t1->kind == FIN_TOK_QUOTED) &&
               !fin_sql__is(sql, t1, "SELECT") && !fin_sql__is(sql, t1, "WITH") &&
               !fin_sql__is(sql, t1, "FROM") && !fin_sql__is(sql, t1, "VALUES") &&
               !fin_sql__is(sql, t1, "TABLE") && !fin_sql__is(sql, t1, "PIVOT")) {
        kind = ABOUT;
        what = DESCRIBE;
        c.i = 1;
        if (fin_sql__is(sql, t1, "EXTENDED") || fin_sql__is(sql, t1, "FORMATTED"))
            c.i = 2;
    } else if (fin_sql__is(sql, peek(&c, 0), "MSCK") && fin_sql__is(sql, t1, "REPAIR") &&
               fin_sql__is(sql, peek(&c, 2), "TABLE")) {
        kind = ABOUT;
        what = REPAIR;
        c.i = 3;
    } else if (fin_sql__is(sql, peek(&c, 0), "CREATE") && fin_sql__is(sql, t1, "EXTERNAL") &&
               fin_sql__is(sql, peek(&c, 2), "TABLE")) {
        kind = EXTERNAL;
        c.i = 3;
    } else if (fin_sql__is(sql, peek(&c, 0), "ALTER") && fin_sql__is(sql, t1, "TABLE")) {
        /* partitions only; any other ALTER TABLE is DuckDB's */
        for (size_t j = 2; j < c.t.n && kind == NONE; j++)
            if (fin_sql__is(sql, &c.t.v[j], "PARTITION"))
                kind = ALTER;
        c.i = 2;
    } else if (fin_sql__is(sql, peek(&c, 0), "DROP") && fin_sql__is(sql, t1, "TABLE")) {
        kind = DROP;
        c.i = 2;
    } else if (fin_sql__is(sql, peek(&c, 0), "CREATE") && fin_sql__is(sql, t1, "TABLE")) {
        /* CTAS only: CREATE TABLE name [WITH (...)] AS ...; plain CREATE TABLE is DuckDB's */
        c.i = 2;
        if (fin_sql__is(sql, peek(&c, 0), "IF") && fin_sql__is(sql, peek(&c, 1), "NOT") &&
            fin_sql__is(sql, peek(&c, 2), "EXISTS")) {
            if_not_exists = true;
            c.i += 3;
        }
        size_t j = c.i;
        while (j < c.t.n && (c.t.v[j].kind == FIN_TOK_WORD || c.t.v[j].kind == FIN_TOK_QUOTED ||
                             punct(&(struct cur){sql, c.t, j}, 0, ".")) &&
               !fin_sql__is(sql, &c.t.v[j], "AS") && !fin_sql__is(sql, &c.t.v[j], "WITH"))
            j++;
        if (j < c.t.n && (fin_sql__is(sql, &c.t.v[j], "AS") || fin_sql__is(sql, &c.t.v[j], "WITH")))
            kind = CTAS;
    } else if (fin_sql__is(sql, peek(&c, 0), "USE") && t1 && c.t.n <= 4) {
        kind = USE;
        c.i = 1;
    }
    if (kind == NONE) {
        handled = 0;
        goto done;
    }
    if (kind == USE) {
        char *db = NULL, *name = NULL;
        /* USE db, or USE AwsDataCatalog.db */
        if ((*rc = table_name(&c, &db, &name)) == 0) {
            if (!at_end(&c))
                *rc = syntax(&c, "the end of USE");
            else if (db && strcasecmp(db, "awsdatacatalog"))
                *rc = fin_err_set(FIN_ESQL, "unknown data catalog '%s'", db);
            else if (!(*rc = fin_query_set_database(q, name)))
                *rc = (*out = fin_result__new(0, NULL)) ? 0 : FIN_ENOMEM;
        }
        free(db);
        free(name);
        goto done;
    }
    if ((*rc = fin_catalog_open(&cat, q->data_dir)))
        goto done;
    switch (kind) {
    case DBS: *rc = show_databases(&c, cat, out); break;
    case TABLES: *rc = show_tables(q, &c, cat, out); break;
    case ABOUT: *rc = about_table(q, &c, cat, what, out); break;
    case EXTERNAL: *rc = create_external(q, &c, cat, out); break;
    case DROP: handled = drop_table(q, &c, cat, out, rc); break;
    case CTAS: *rc = ctas(q, &c, cat, if_not_exists, out); break;
    case ALTER: *rc = alter_table(q, &c, cat, out); break;
    default: break;
    }
done:
    fin_catalog_close(cat);
    fin_sql__tokens_fini(&c.t);
    return handled;
}
