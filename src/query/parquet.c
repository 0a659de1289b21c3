/* parquet.c - the Parquet writer behind delivery's format = parquet.
 *
 * The caller has already scanned and checked each record, so it hands over typed values:
 * they go straight into DuckDB data chunks (one vector per column, written in place, 2048
 * rows at a time), are appended to a temporary table, and COPY writes the table as
 * Parquet. That skips both a temporary JSON file and DuckDB's JSON parser, which cost
 * about as much again as the Parquet writer. One in-memory database serves every object
 * of a process; the column types are the caller's, never sampled. */
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

    /* the batch being built (fin_parquet_begin .. fin_parquet_finish) */
    duckdb_appender app;
    duckdb_data_chunk chunk;
    size_t n_cols;
    enum fin_parquet_type *types;
    void **data;             /* per column, the chunk vector's values */
    duckdb_vector *vecs;
    unsigned char *set;      /* per column: given a value in the current row */
    idx_t row, cap;
    uint64_t rows;
    int failed;              /* an append error, reported by end_row/finish */
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

static void batch_end(struct fin_parquet_writer *w)
{
    if (w->app)
        duckdb_appender_destroy(&w->app);
    if (w->chunk)
        duckdb_destroy_data_chunk(&w->chunk);
    free(w->types);
    free(w->data);
    free(w->vecs);
    free(w->set);
    w->types = NULL;
    w->data = NULL;
    w->vecs = NULL;
    w->set = NULL;
    w->n_cols = 0;
    w->row = 0;
    w->rows = 0;
    w->failed = 0;
}

void fin_parquet_writer_destroy(struct fin_parquet_writer *w)
{
    if (!w)
        return;
    batch_end(w);
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

/* ---- building rows directly ---- */

#define BATCH_TABLE "fin_parquet_batch"

static duckdb_type duck_type(enum fin_parquet_type t)
{
    switch (t) {
    case FIN_PQ_DOUBLE: return DUCKDB_TYPE_DOUBLE;
    case FIN_PQ_BIGINT: return DUCKDB_TYPE_BIGINT;
    case FIN_PQ_BOOLEAN: return DUCKDB_TYPE_BOOLEAN;
    case FIN_PQ_VARCHAR: break;
    }
    return DUCKDB_TYPE_VARCHAR;
}

static int run_sql(struct fin_parquet_writer *w, const char *sql, uint64_t *changed)
{
    duckdb_result res;
    if (duckdb_query(w->con, sql, &res) != DuckDBSuccess) {
        int rc = fin_err_set(FIN_ESQL, "parquet: %s", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return rc;
    }
    if (changed)
        *changed = duckdb_rows_changed(&res);
    duckdb_destroy_result(&res);
    return 0;
}

static void bind_vectors(struct fin_parquet_writer *w)
{
    for (size_t i = 0; i < w->n_cols; i++) {
        w->vecs[i] = duckdb_data_chunk_get_vector(w->chunk, i);
        w->data[i] = duckdb_vector_get_data(w->vecs[i]);
    }
}

int fin_parquet_begin(struct fin_parquet_writer *w, const struct fin_parquet_column *cols,
                      size_t n_cols)
{
    batch_end(w);
    if (n_cols == 0)
        return fin_err_set(FIN_EINVAL, "parquet: a batch needs at least one column");
    struct fin_buf *b = &w->sql;
    fin_buf_reset(b);
    int rc = fin_buf_puts(b, "CREATE OR REPLACE TEMP TABLE " BATCH_TABLE " (");
    for (size_t i = 0; !rc && i < n_cols; i++) {
        rc = fin_buf_puts(b, i ? ", \"" : "\"");
        for (const char *p = cols[i].name; !rc && *p; p++)
            rc = *p == '"' ? fin_buf_append(b, "\"\"", 2) : fin_buf_append(b, p, 1);
        rc = rc ? rc : fin_buf_printf(b, "\" %s", fin_parquet_type_name(cols[i].type));
    }
    rc = rc ? rc : fin_buf_puts(b, ")");
    if (rc || !fin_buf_cstr(b))
        return FIN_ENOMEM;
    if ((rc = run_sql(w, b->data, NULL)))
        return rc;
    if (duckdb_appender_create(w->con, NULL, BATCH_TABLE, &w->app) != DuckDBSuccess) {
        rc = fin_err_set(FIN_ESQL, "parquet: cannot append: %s",
                         w->app ? duckdb_appender_error(w->app) : "no appender");
        goto fail;
    }
    w->n_cols = n_cols;
    w->types = calloc(n_cols, sizeof *w->types);
    w->data = calloc(n_cols, sizeof *w->data);
    w->vecs = calloc(n_cols, sizeof *w->vecs);
    w->set = calloc(n_cols, 1);
    duckdb_logical_type *lt = calloc(n_cols, sizeof *lt);
    if (!w->types || !w->data || !w->vecs || !w->set || !lt) {
        free(lt);
        rc = FIN_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < n_cols; i++) {
        w->types[i] = cols[i].type;
        lt[i] = duckdb_create_logical_type(duck_type(cols[i].type));
    }
    w->chunk = duckdb_create_data_chunk(lt, n_cols);
    for (size_t i = 0; i < n_cols; i++)
        duckdb_destroy_logical_type(&lt[i]);
    free(lt);
    if (!w->chunk) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    w->cap = duckdb_vector_size();
    bind_vectors(w);
    return 0;
fail:
    batch_end(w);
    return rc;
}

void fin_parquet_put_double(struct fin_parquet_writer *w, size_t col, double v)
{
    ((double *)w->data[col])[w->row] = v;
    w->set[col] = 1;
}

void fin_parquet_put_bigint(struct fin_parquet_writer *w, size_t col, int64_t v)
{
    ((int64_t *)w->data[col])[w->row] = v;
    w->set[col] = 1;
}

void fin_parquet_put_bool(struct fin_parquet_writer *w, size_t col, bool v)
{
    ((bool *)w->data[col])[w->row] = v;
    w->set[col] = 1;
}

void fin_parquet_put_varchar(struct fin_parquet_writer *w, size_t col, const char *s, size_t len)
{
    duckdb_vector_assign_string_element_len(w->vecs[col], w->row, s, len);
    w->set[col] = 1;
}

static int append_chunk(struct fin_parquet_writer *w)
{
    if (w->row == 0)
        return 0;
    duckdb_data_chunk_set_size(w->chunk, w->row);
    if (duckdb_append_data_chunk(w->app, w->chunk) != DuckDBSuccess)
        return fin_err_set(FIN_ESQL, "parquet: append failed: %s", duckdb_appender_error(w->app));
    w->rows += w->row;
    w->row = 0;
    duckdb_data_chunk_reset(w->chunk);
    bind_vectors(w);
    return 0;
}

int fin_parquet_end_row(struct fin_parquet_writer *w)
{
    for (size_t i = 0; i < w->n_cols; i++) {
        if (!w->set[i]) {
            duckdb_vector_ensure_validity_writable(w->vecs[i]);
            duckdb_validity_set_row_invalid(duckdb_vector_get_validity(w->vecs[i]), w->row);
        }
        w->set[i] = 0;
    }
    if (++w->row == w->cap)
        return append_chunk(w);
    return 0;
}

int fin_parquet_finish(struct fin_parquet_writer *w, const char *out_path, uint64_t *rows)
{
    int rc = append_chunk(w);
    if (!rc && duckdb_appender_flush(w->app) != DuckDBSuccess)
        rc = fin_err_set(FIN_ESQL, "parquet: append failed: %s", duckdb_appender_error(w->app));
    uint64_t total = w->rows;
    if (w->app)
        duckdb_appender_destroy(&w->app);
    if (!rc) {
        struct fin_buf *b = &w->sql;
        fin_buf_reset(b);
        rc = fin_buf_puts(b, "COPY " BATCH_TABLE " TO ");
        rc = rc ? rc : sql_str(b, out_path);
        rc = rc ? rc : fin_buf_puts(b, " (FORMAT parquet, COMPRESSION snappy)");
        if (!rc && !fin_buf_cstr(b))
            rc = FIN_ENOMEM;
        uint64_t copied = 0;
        if (!rc && !(rc = run_sql(w, b->data, &copied)) && copied != total)
            rc = fin_err_set(FIN_EIO, "parquet: %s: wrote %llu rows of %llu", out_path,
                             (unsigned long long)copied, (unsigned long long)total);
    }
    if (rc)
        remove(out_path);
    run_sql(w, "DROP TABLE IF EXISTS " BATCH_TABLE, NULL);
    batch_end(w);
    if (rows)
        *rows = total;
    return rc;
}
