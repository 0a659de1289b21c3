/* catalog.c - the catalog: databases, tables, columns and types, partitions, Athena DDL.
 *
 *   GET /api/catalog                 every table with its columns (what the SQL editor
 *                                    completes), partition keys and counts
 *   GET /api/catalog/DB.TABLE        one table: columns, partitions, objects, its DDL
 *                                    (&location=s3://bucket/prefix/ for the DDL's LOCATION)
 *
 * The catalog file is read afresh for each request, so a crawl that ran meanwhile shows. */
#include "internal.h"

#include "finstream/catalog.h"
#include "finstream/error.h"

#include <stdlib.h>
#include <string.h>

static json_t *columns_json(const struct fin_columns *cols)
{
    json_t *a = json_array();
    for (size_t i = 0; i < cols->n; i++)
        json_array_append_new(a, json_pack("{s:s,s:s}", "name", cols->v[i].name, "type",
                                           cols->v[i].type ? cols->v[i].type : "string"));
    return a;
}

static json_t *table_json(const struct fin_table *t, bool full)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < t->nobjects; i++)
        bytes += (uint64_t)t->objects[i].size;
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:o,s:o,s:I,s:I,s:I,s:I}",
                          "database", t->database, "name", t->name, "location", t->location,
                          "classification", t->classification, "framing", t->framing,
                          "compression", t->compression, "created", t->created, "updated",
                          t->updated, "columns", columns_json(&t->columns), "partition_keys",
                          columns_json(&t->partition_keys), "partitions",
                          (json_int_t)t->npartitions, "objects", (json_int_t)t->nobjects,
                          "bytes", (json_int_t)bytes, "bad_records", (json_int_t)t->bad_records);
    if (!o || !full)
        return o;
    json_t *parts = json_array();
    for (size_t i = 0; i < t->npartitions; i++) {
        json_t *vals = json_array();
        for (size_t k = 0; k < t->partition_keys.n; k++)
            json_array_append_new(vals, json_string(t->partitions[i].values[k]));
        json_array_append_new(parts, json_pack("{s:s,s:o}", "path", t->partitions[i].path,
                                               "values", vals));
    }
    json_object_set_new(o, "partition_list", parts);
    return o;
}

void api_catalog(struct fin_console *c, const struct creq *q, struct cresp *r, const char *rest)
{
    if (strcmp(q->method, "GET") != 0 && strcmp(q->method, "HEAD") != 0) {
        resp_error(r, 405, "method", "%s %s: only GET here", q->method, q->path);
        return;
    }
    struct fin_catalog *cat = NULL;
    int rc = fin_catalog_open(&cat, c->data_dir);
    if (rc) {
        resp_fin_error(r, rc);
        return;
    }
    if (!*rest) {
        json_t *dbs = json_array();
        for (size_t d = 0; d < fin_catalog_database_count(cat); d++) {
            const char *db = fin_catalog_database_at(cat, d);
            json_t *tables = json_array();
            for (size_t i = 0; i < fin_catalog_table_count(cat); i++) {
                const struct fin_table *t = fin_catalog_table_at(cat, i);
                if (strcmp(t->database, db) == 0)
                    json_array_append_new(tables, table_json(t, false));
            }
            json_array_append_new(dbs, json_pack("{s:s,s:o}", "name", db, "tables", tables));
        }
        resp_json(r, 200, json_pack("{s:o}", "databases", dbs));
        fin_catalog_close(cat);
        return;
    }
    const struct fin_table *t = fin_catalog_find(cat, rest);
    if (!t) {
        resp_error(r, 404, "not_found", "no table %s in the catalog", rest);
        fin_catalog_close(cat);
        return;
    }
    const char *loc = q->arg(q->arg_ctx, "location");
    char *ddl = NULL;
    if ((rc = fin_catalog_ddl(t, loc && *loc ? loc : NULL, &ddl))) {
        resp_fin_error(r, rc);
        fin_catalog_close(cat);
        return;
    }
    json_t *o = table_json(t, true);
    json_object_set_new(o, "ddl", json_string(ddl));
    free(ddl);
    resp_json(r, 200, o);
    fin_catalog_close(cat);
}
