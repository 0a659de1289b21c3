/* make.c - the report in one call: load the bars (from a catalog table through the query
 * engine, or from a folder of objects), summarise the day, render it, and describe the
 * source on the page. Shared by `finstream report` and `finstream run`. */
#include "report_int.h"

#include "finstream/catalog.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "1.2 MiB" */
static void fmt_bytes(char *out, size_t cap, uint64_t b)
{
    if (b < 1024)
        snprintf(out, cap, "%llu bytes", (unsigned long long)b);
    else if (b < 1024 * 1024)
        snprintf(out, cap, "%.1f KiB", (double)b / 1024);
    else
        snprintf(out, cap, "%.1f MiB", (double)b / (1024 * 1024));
}

/* Without a table or folder named: the default table, or the catalog's only table, when
 * the catalog has it. Writes "db.table" into out, or "" to read the lake folder. */
static int pick_table(const char *data_dir, char *out, size_t cap, char *location, size_t lcap)
{
    struct fin_catalog *cat = NULL;
    out[0] = '\0';
    location[0] = '\0';
    int rc = fin_catalog_open(&cat, data_dir);
    if (rc)
        return rc;
    struct fin_table *t = fin_catalog_find(cat, FIN_REPORT_DEFAULT_TABLE);
    if (!t && fin_catalog_table_count(cat) == 1)
        t = fin_catalog_table_at(cat, 0);
    if (t) {
        snprintf(out, cap, "%s.%s", t->database, t->name);
        snprintf(location, lcap, "%s", t->location ? t->location : "");
    }
    fin_catalog_close(cat);
    return 0;
}

/* The location of a named table, and its name as the catalog spells it ("stocks" is
 * finance.stocks) into canon. */
static int table_location(const char *data_dir, const char *table, char *out, size_t cap,
                          char *canon, size_t canon_cap)
{
    struct fin_catalog *cat = NULL;
    out[0] = '\0';
    int rc = fin_catalog_open(&cat, data_dir);
    if (rc)
        return rc;
    struct fin_table *t = fin_catalog_find(cat, table);
    if (!t) {
        char known[512] = "";
        size_t o = 0;
        for (size_t i = 0; i < fin_catalog_table_count(cat) && o + 80 < sizeof known; i++) {
            const struct fin_table *k = fin_catalog_table_at(cat, i);
            o += (size_t)snprintf(known + o, sizeof known - o, "%s%s.%s", i ? ", " : "",
                                  k->database, k->name);
        }
        rc = fin_err_set(FIN_ENOENT, "no table %s in the catalog of %s (%s%s)", table, data_dir,
                         known[0] ? "tables: " : "it has no tables; run finstream crawl",
                         known);
    } else {
        snprintf(out, cap, "%s", t->location ? t->location : "");
        snprintf(canon, canon_cap, "%s.%s", t->database, t->name);
    }
    fin_catalog_close(cat);
    return rc;
}

int fin_report_make(const struct fin_report_request *req, struct fin_report_output *out,
                    struct fin_report_data_stats *st)
{
    int rc = 0;
    struct fin_report_data *d = NULL;
    struct fin_query *q = NULL;
    char *lake = NULL, *dir = NULL;
    const char *from = req->from, *table = req->table;
    char picked[600], location[4096], ts[32] = "", source[4800], size[32];
    struct fin_buf sql;
    fin_buf_init(&sql);
    if (st)
        memset(st, 0, sizeof *st);
    if (out)
        memset(out, 0, sizeof *out);
    if (!req->data_dir && (!from || !req->out_dir))
        return fin_err_set(FIN_EINVAL, "report: no data directory");

    if (!from && !table) {
        rc = pick_table(req->data_dir, picked, sizeof picked, location, sizeof location);
        if (rc)
            return rc;
        if (picked[0])
            table = picked;
    } else if (table) {
        rc = table_location(req->data_dir, table, location, sizeof location, picked,
                            sizeof picked);
        if (rc)
            return rc;
        table = picked;
    }
    if (!from && !table) {
        from = lake = fin_path_join(req->data_dir, "lake");
        if (!lake)
            return FIN_ENOMEM;
    }

    rc = fin_report_data_create(&d);
    if (rc)
        goto fail;
    struct fin_report_data_stats s;
    if (table) {
        rc = fin_query_open(&q, req->data_dir);
        if (rc)
            goto fail;
        rc = fin__report_table_load(d, q, table, req->sel.date, ts, sizeof ts);
        if (rc)
            goto fail;
        fin_report_data_stats(d, &s);
        fmt_bytes(size, sizeof size, s.bytes);
        snprintf(source, sizeof source, "table %s%s%s (%s scanned)", table,
                 location[0] ? " at " : "", location, size);
    } else {
        rc = fin_report_load_dir(d, from);
        if (rc)
            goto fail;
        fin_report_data_stats(d, &s);
        fmt_bytes(size, sizeof size, s.bytes);
        snprintf(source, sizeof source, "%s (%llu object%s, %s)", from,
                 (unsigned long long)s.objects, s.objects == 1 ? "" : "s", size);
    }
    rc = fin_report_data_set_source(d, source);
    if (rc)
        goto fail;

    const struct fin_report_input *in;
    rc = fin_report_data_finish(d, &req->sel, &in);
    if (rc)
        goto fail;
    if (table) {
        /* The page shows the engine's own answer to the hourly-high question. */
        rc = fin__report_table_hourly(d, q, table, ts, in->date, &sql);
        if (rc)
            goto fail;
    }
    struct fin_report_input input = *in;
    input.prov.query = req->query ? req->query : (sql.len ? fin_buf_cstr(&sql) : NULL);
    input.prov.result_file = req->result_file;
    input.generated_at = req->generated_at;
    input.top = req->top;

    const char *out_dir = req->out_dir;
    if (!out_dir) {
        char rel[64];
        snprintf(rel, sizeof rel, "reports/%s", in->date);
        out_dir = dir = fin_path_join(req->data_dir, rel);
        if (!dir) {
            rc = FIN_ENOMEM;
            goto fail;
        }
    }
    rc = fin_report_render(&input, out_dir, out);
fail:
    if (st && d) {
        fin_report_data_stats(d, st);
        snprintf(st->source, sizeof st->source, "%s%.280s", table ? "table " : "folder",
                 table ? table : "");
    }
    fin_query_close(q);
    fin_report_data_destroy(d);
    fin_buf_fini(&sql);
    free(lake);
    free(dir);
    return rc;
}
