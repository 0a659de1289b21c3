/* parquet.c - the Parquet writer behind delivery's format = parquet.
 *
 * DuckDB reads the buffered records as newline-delimited JSON with the columns given
 * explicitly (no sampling, so every object of a delivery stream has the types the caller
 * decided) and COPYs them to a Parquet file. Both the JSON reader and the Parquet writer
 * run in parallel inside DuckDB, which is far faster than appending value by value
 * through the C API. One in-memory database serves every object of a process. */
#include "finstream/parquet.h"
#include "finstream/buf.h"
#include "finstream/error.h"

#include <duckdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fin_parquet_writer {
    duckdb_database db;
    duckdb_connection con;
    struct fin_buf sql;
};

const char *fin_parquet_type_name(enum fin_parquet_type t)
{
    switch (t) {
    case FIN_PQ_DOUBLE: return "DOUBLE";
    case FIN_PQ_BIGINT: return "BIGINT";
    case FIN_PQ_BOOLEAN: return "BOOLEAN";
    case FIN_PQ_VARCHAR: break;
    }
    return "VARCHAR";
}

int fin_parquet_writer_create(struct fin_parquet_writer **out, int threads)
{
    *out = NULL;
    struct fin_parquet_writer *w = calloc(1, sizeof *w);
    if (!w)
        return FIN_ENOMEM;
    fin_buf_init(&w->sql);
    duckdb_config cfg = NULL;
    int rc = 0;
    char *err = NULL;
    if (duckdb_create_config(&cfg) != DuckDBSuccess) {
        rc = fin_err_set(FIN_ENOMEM, "parquet: cannot create a DuckDB configuration");
        goto fail;
    }
    if (threads > 0) {
        char t[16];
        snprintf(t, sizeof t, "%d", threads);
        duckdb_set_config(cfg, "threads", t);
    }
    /* Nothing is ever fetched from the network. */
    duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
    duckdb_set_config(cfg, "autoload_known_extensions", "false");
    if (duckdb_open_ext(NULL, &w->db, cfg, &err) != DuckDBSuccess) {
        rc = fin_err_set(FIN_ESQL, "parquet: cannot open DuckDB: %s", err ? err : "unknown error");
        goto fail;
    }
    if (duckdb_connect(w->db, &w->con) != DuckDBSuccess) {
        rc = fin_err_set(FIN_ESQL, "parquet: cannot connect to DuckDB");
        goto fail;
    }
    duckdb_destroy_config(&cfg);
    *out = w;
    return 0;
fail:
    if (err)
        duckdb_free(err);
    if (cfg)
        duckdb_destroy_config(&cfg);
    fin_parquet_writer_destroy(w);
    return rc;
}

void fin_parquet_writer_destroy(struct fin_parquet_writer *w)
{
    if (!w)
        return;
    if (w->con)
        duckdb_disconnect(&w->con);
    if (w->db)
        duckdb_close(&w->db);
    fin_buf_fini(&w->sql);
    free(w);
}

/* Appends s as a SQL string literal ('...' with quotes doubled). */
static int sql_str(struct fin_buf *b, const char *s)
{
    int rc = fin_buf_append(b, "'", 1);
    for (; !rc && *s; s++)
        rc = *s == '\'' ? fin_buf_append(b, "''", 2) : fin_buf_append(b, s, 1);
    return rc ? rc : fin_buf_append(b, "'", 1);
}

int fin_parquet_write_json(struct fin_parquet_writer *w, const char *json_path,
                           const struct fin_parquet_column *cols, size_t n_cols,
                           const char *out_path, uint64_t *rows)
{
    if (n_cols == 0)
        return fin_err_set(FIN_EINVAL, "parquet: %s: no columns to write", json_path);
    struct fin_buf *b = &w->sql;
    fin_buf_reset(b);
    int rc = fin_buf_puts(b, "COPY (SELECT * FROM read_json(");
    rc = rc ? rc : sql_str(b, json_path);
    rc = rc ? rc : fin_buf_puts(b, ", format = 'newline_delimited', auto_detect = false, "
                                   "convert_strings_to_integers = false, columns = {");
    for (size_t i = 0; !rc && i < n_cols; i++) {
        if (i)
            rc = fin_buf_puts(b, ", ");
        rc = rc ? rc : sql_str(b, cols[i].name);
        rc = rc ? rc : fin_buf_puts(b, ": ");
        rc = rc ? rc : sql_str(b, fin_parquet_type_name(cols[i].type));
    }
    rc = rc ? rc : fin_buf_puts(b, "})) TO ");
    rc = rc ? rc : sql_str(b, out_path);
    rc = rc ? rc : fin_buf_puts(b, " (FORMAT parquet, COMPRESSION snappy)");
    const char *sql = rc ? NULL : fin_buf_cstr(b);
    if (!sql)
        return FIN_ENOMEM;
    duckdb_result res;
    if (duckdb_query(w->con, sql, &res) != DuckDBSuccess) {
        rc = fin_err_set(FIN_ESQL, "parquet: %s: %s", json_path, duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        remove(out_path);
        return rc;
    }
    if (rows)
        *rows = duckdb_rows_changed(&res);
    duckdb_destroy_result(&res);
    return 0;
}

/* Runs sql and returns the first column of every row joined by sep (owned by caller). */
static int query_column(struct fin_parquet_writer *w, const char *sql, const char *sep,
                        char **out, uint64_t *n_rows)
{
    duckdb_result res;
    if (duckdb_query(w->con, sql, &res) != DuckDBSuccess) {
        int rc = fin_err_set(FIN_ESQL, "parquet: %s", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return rc;
    }
    struct fin_buf b;
    fin_buf_init(&b);
    int rc = 0;
    idx_t n = duckdb_row_count(&res);
    for (idx_t r = 0; !rc && r < n; r++) {
        char *v = duckdb_value_varchar(&res, 0, r);
        if (r)
            rc = fin_buf_puts(&b, sep);
        if (!rc)
            rc = fin_buf_puts(&b, v ? v : "");
        duckdb_free(v);
    }
    duckdb_destroy_result(&res);
    if (!rc && !fin_buf_cstr(&b))
        rc = FIN_ENOMEM;
    if (rc) {
        fin_buf_fini(&b);
        return rc;
    }
    *out = fin_buf_take(&b, NULL);
    if (n_rows)
        *n_rows = n;
    return 0;
}

int fin_parquet_inspect(struct fin_parquet_writer *w, const char *path, char **schema,
                        uint64_t *rows, char **json)
{
    struct fin_buf q;
    fin_buf_init(&q);
    char *count = NULL;
    *schema = NULL;
    if (json)
        *json = NULL;
    int rc = fin_buf_puts(&q, "SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT * FROM read_parquet(");
    rc = rc ? rc : sql_str(&q, path);
    rc = rc ? rc : fin_buf_puts(&q, "))");
    if (rc || !fin_buf_cstr(&q) || (rc = query_column(w, q.data, ", ", schema, NULL)))
        goto fail;
    fin_buf_reset(&q);
    rc = fin_buf_puts(&q, "SELECT count(*) FROM read_parquet(");
    rc = rc ? rc : sql_str(&q, path);
    rc = rc ? rc : fin_buf_puts(&q, ")");
    if (rc || !fin_buf_cstr(&q) || (rc = query_column(w, q.data, "", &count, NULL)))
        goto fail;
    *rows = strtoull(count, NULL, 10);
    if (json) {
        fin_buf_reset(&q);
        rc = fin_buf_puts(&q, "SELECT to_json(t)::VARCHAR FROM read_parquet(");
        rc = rc ? rc : sql_str(&q, path);
        rc = rc ? rc : fin_buf_puts(&q, ") t");
        if (rc || !fin_buf_cstr(&q) || (rc = query_column(w, q.data, "\n", json, NULL)))
            goto fail;
    }
    free(count);
    fin_buf_fini(&q);
    return 0;
fail:
    free(count);
    free(*schema);
    *schema = NULL;
    fin_buf_fini(&q);
    return rc ? rc : FIN_ENOMEM;
}
