/* parquet.c - the Parquet writer behind delivery's format = parquet.
 *
 * The caller has already scanned and checked each record, so it hands over typed values.
 * They are produced inside a table function, fin_parquet_rows(), straight into the output
 * vectors DuckDB hands it (2048 rows at a time; a row or a whole column per call), and `COPY (SELECT * FROM
 * fin_parquet_rows()) TO ... (FORMAT parquet)` consumes them as they come: no temporary
 * JSON file, no JSON parser, no table in between. One in-memory database serves every
 * object of a process; the column types are the caller's, never sampled. */
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

    /* the conversion in progress (fin_parquet_write_rows) */
    bool registered;           /* the fin_parquet_rows table function */
    const struct fin_parquet_column *cols;
    size_t n_cols;
    fin_parquet_row_fn row_fn;         /* one of these two is set */
    fin_parquet_chunk_fn chunk_fn;
    void *row_ctx;
    int row_rc;                /* the row function's error, if it failed */
    char row_msg[512];         /* and its message: DuckDB may call it on a worker thread */
    bool done;
    void **data;               /* per column, the output vector's values */
    duckdb_vector *vecs;
    unsigned char *set;        /* per column: given a value in the current row */
    idx_t row, cap;
    uint64_t rows;
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

/* ---- the row source: a table function over the caller's rows ---- */

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

static void rows_bind(duckdb_bind_info info)
{
    struct fin_parquet_writer *w = duckdb_bind_get_extra_info(info);
    if (!w->row_fn && !w->chunk_fn) {
        duckdb_bind_set_error(info, "fin_parquet_rows() runs only inside fin_parquet_write_rows()");
        return;
    }
    for (size_t i = 0; i < w->n_cols; i++) {
        duckdb_logical_type t = duckdb_create_logical_type(duck_type(w->cols[i].type));
        duckdb_bind_add_result_column(info, w->cols[i].name, t);
        duckdb_destroy_logical_type(&t);
    }
}

static void rows_init(duckdb_init_info info)
{
    (void)info;
}

static void rows_next(duckdb_function_info info, duckdb_data_chunk out)
{
    struct fin_parquet_writer *w = duckdb_function_get_extra_info(info);
    w->row = 0;
    w->cap = duckdb_vector_size();
    for (size_t i = 0; i < w->n_cols; i++) {
        w->vecs[i] = duckdb_data_chunk_get_vector(out, i);
        w->data[i] = duckdb_vector_get_data(w->vecs[i]);
        /* a mask left from the previous chunk must not null this chunk's values */
        uint64_t *valid = duckdb_vector_get_validity(w->vecs[i]);
        if (valid)
            memset(valid, 0xff, (w->cap + 63) / 64 * sizeof *valid);
    }
    if (w->chunk_fn && !w->done) {
        if (w->cap > FIN_PARQUET_CHUNK_MAX)
            w->cap = FIN_PARQUET_CHUNK_MAX;
        long n = w->chunk_fn(w->row_ctx, w, w->cap);
        if (n < 0) {
            w->row_rc = (int)n;
            snprintf(w->row_msg, sizeof w->row_msg, "%s", fin_err_msg());
            duckdb_function_set_error(info, "the row source failed");
        }
        if (n <= 0)
            w->done = true;
        else
            w->row = (idx_t)n <= w->cap ? (idx_t)n : w->cap;
    }
    while (w->row_fn && !w->done && w->row < w->cap) {
        int r = w->row_fn(w->row_ctx, w);
        if (r < 0) {
            w->row_rc = r;
            snprintf(w->row_msg, sizeof w->row_msg, "%s", fin_err_msg());
            w->done = true;
            duckdb_function_set_error(info, "the row source failed");
            break;
        }
        if (r == 0)
            w->done = true;
    }
    w->rows += w->row;
    duckdb_data_chunk_set_size(out, w->row);
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

static int register_rows(struct fin_parquet_writer *w)
{
    duckdb_table_function tf = duckdb_create_table_function();
    if (!tf)
        return FIN_ENOMEM;
    duckdb_table_function_set_name(tf, "fin_parquet_rows");
    duckdb_table_function_set_extra_info(tf, w, NULL);
    duckdb_table_function_set_bind(tf, rows_bind);
    duckdb_table_function_set_init(tf, rows_init);
    duckdb_table_function_set_function(tf, rows_next);
    int rc = duckdb_register_table_function(w->con, tf) == DuckDBSuccess
                 ? 0 : fin_err_set(FIN_ESQL, "parquet: cannot register the row source");
    duckdb_destroy_table_function(&tf);
    if (!rc)
        w->registered = true;
    return rc;
}

static int write_file(struct fin_parquet_writer *w, const struct fin_parquet_column *cols,
                      size_t n_cols, const char *out_path, fin_parquet_row_fn row_fn,
                      fin_parquet_chunk_fn chunk_fn, void *ctx, uint64_t *rows)
{
    if (n_cols == 0)
        return fin_err_set(FIN_EINVAL, "parquet: %s: no columns to write", out_path);
    int rc = 0;
    if (!w->registered && (rc = register_rows(w)))
        return rc;
    w->cols = cols;
    w->n_cols = n_cols;
    w->row_fn = row_fn;
    w->chunk_fn = chunk_fn;
    w->row_ctx = ctx;
    w->row_rc = 0;
    w->done = false;
    w->rows = 0;
    w->data = calloc(n_cols, sizeof *w->data);
    w->vecs = calloc(n_cols, sizeof *w->vecs);
    w->set = calloc(n_cols, 1);
    struct fin_buf *b = &w->sql;
    fin_buf_reset(b);
    if (!w->data || !w->vecs || !w->set || fin_buf_puts(b, "COPY (SELECT * FROM fin_parquet_rows()) TO ") ||
        sql_str(b, out_path) || fin_buf_puts(b, " (FORMAT parquet, COMPRESSION snappy)") ||
        !fin_buf_cstr(b)) {
        rc = FIN_ENOMEM;
        goto done;
    }
    uint64_t copied = 0;
    rc = run_sql(w, b->data, &copied);
    if (w->row_rc) {
        rc = fin_err_set(w->row_rc, "%s", w->row_msg);
    } else if (!rc && copied != w->rows) {
        rc = fin_err_set(FIN_EIO, "parquet: %s: wrote %llu rows of %llu", out_path,
                         (unsigned long long)copied, (unsigned long long)w->rows);
    }
    if (rows)
        *rows = w->rows;
done:
    if (rc)
        remove(out_path);
    free(w->data);
    free(w->vecs);
    free(w->set);
    w->data = NULL;
    w->vecs = NULL;
    w->set = NULL;
    w->row_fn = NULL;
    w->chunk_fn = NULL;
    w->cols = NULL;
    w->n_cols = 0;
    return rc;
}

int fin_parquet_write_rows(struct fin_parquet_writer *w, const struct fin_parquet_column *cols,
                           size_t n_cols, const char *out_path, fin_parquet_row_fn row_fn,
                           void *ctx, uint64_t *rows)
{
    return write_file(w, cols, n_cols, out_path, row_fn, NULL, ctx, rows);
}

int fin_parquet_write_chunks(struct fin_parquet_writer *w, const struct fin_parquet_column *cols,
                             size_t n_cols, const char *out_path, fin_parquet_chunk_fn chunk_fn,
                             void *ctx, uint64_t *rows)
{
    return write_file(w, cols, n_cols, out_path, NULL, chunk_fn, ctx, rows);
}

double *fin_parquet_doubles(struct fin_parquet_writer *w, size_t col)
{
    return w->data[col];
}

int64_t *fin_parquet_bigints(struct fin_parquet_writer *w, size_t col)
{
    return w->data[col];
}

bool *fin_parquet_bools(struct fin_parquet_writer *w, size_t col)
{
    return w->data[col];
}

void fin_parquet_set_varchar(struct fin_parquet_writer *w, size_t col, size_t row, const char *s,
                             size_t len)
{
    duckdb_vector_assign_string_element_len(w->vecs[col], row, s, len);
}

void fin_parquet_set_null(struct fin_parquet_writer *w, size_t col, size_t row)
{
    duckdb_vector_ensure_validity_writable(w->vecs[col]);
    duckdb_validity_set_row_invalid(duckdb_vector_get_validity(w->vecs[col]), row);
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

void fin_parquet_end_row(struct fin_parquet_writer *w)
{
    for (size_t i = 0; i < w->n_cols; i++) {
        if (!w->set[i]) {
            duckdb_vector_ensure_validity_writable(w->vecs[i]);
            duckdb_validity_set_row_invalid(duckdb_vector_get_validity(w->vecs[i]), w->row);
        }
        w->set[i] = 0;
    }
    w->row++;
}
