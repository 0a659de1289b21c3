/* parquet.h - Parquet files written by the embedded DuckDB from typed rows.
 *
 * Delivery converts its buffers to Parquet through this writer: it checks each record
 * against the column types, then hands over the values row by row; DuckDB writes the
 * file. src/query/ stays the only code that includes duckdb.h. */
#ifndef FINSTREAM_PARQUET_H
#define FINSTREAM_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fin_parquet_type { FIN_PQ_VARCHAR, FIN_PQ_DOUBLE, FIN_PQ_BIGINT, FIN_PQ_BOOLEAN };

struct fin_parquet_column {
    const char *name;             /* the JSON field and the column name (borrowed) */
    enum fin_parquet_type type;
};

/* The SQL name of a type ("VARCHAR", "DOUBLE", "BIGINT", "BOOLEAN"); static. */
const char *fin_parquet_type_name(enum fin_parquet_type t);

struct fin_parquet_writer;

/* An in-memory DuckDB database kept open for many conversions. threads = 0 lets DuckDB
 * use every core. Freed by fin_parquet_writer_destroy (accepts NULL). */
int fin_parquet_writer_create(struct fin_parquet_writer **out, int threads);
void fin_parquet_writer_destroy(struct fin_parquet_writer *w);

/* ---- writing rows ----
 *
 * fin_parquet_write_rows() writes out_path as Parquet (snappy) with the given columns
 * (borrowed for the call), pulling rows from row_fn as DuckDB asks for them. row_fn sets
 * the values of one row with fin_parquet_put_*() (columns left unset are NULL; the type
 * must be the column's), calls fin_parquet_end_row(), and returns 1; it returns 0 when
 * there are no more rows (without producing one), or a negative FIN_E* code (its message
 * set with fin_err_set) to abandon the file. *rows (may be NULL) gets the count. out_path
 * is not fsynced here. */
typedef int (*fin_parquet_row_fn)(void *ctx, struct fin_parquet_writer *w);
int fin_parquet_write_rows(struct fin_parquet_writer *w, const struct fin_parquet_column *cols,
                           size_t n_cols, const char *out_path, fin_parquet_row_fn row_fn,
                           void *ctx, uint64_t *rows);
void fin_parquet_put_double(struct fin_parquet_writer *w, size_t col, double v);
void fin_parquet_put_bigint(struct fin_parquet_writer *w, size_t col, int64_t v);
void fin_parquet_put_bool(struct fin_parquet_writer *w, size_t col, bool v);
void fin_parquet_put_varchar(struct fin_parquet_writer *w, size_t col, const char *s, size_t len);
void fin_parquet_end_row(struct fin_parquet_writer *w);

/* ---- writing whole columns ----
 *
 * fin_parquet_write_chunks() is the same with the values handed over a column at a time:
 * chunk_fn fills rows 0 .. n-1 of every column of the next chunk (n at most cap, which is
 * DuckDB's vector size) through the pointers of fin_parquet_doubles() and the like, or
 * fin_parquet_set_varchar() and fin_parquet_set_null(); every row starts valid, so a NULL
 * must be set. It returns n (0 when there are no more rows) or a negative FIN_E* code
 * (its message set with fin_err_set) to abandon the file. The pointers are valid only
 * inside chunk_fn. This is the fast path: no call per value for numbers. */
#define FIN_PARQUET_CHUNK_MAX 2048   /* the most rows chunk_fn is ever asked for */
typedef long (*fin_parquet_chunk_fn)(void *ctx, struct fin_parquet_writer *w, size_t cap);
int fin_parquet_write_chunks(struct fin_parquet_writer *w, const struct fin_parquet_column *cols,
                             size_t n_cols, const char *out_path, fin_parquet_chunk_fn chunk_fn,
                             void *ctx, uint64_t *rows);
double *fin_parquet_doubles(struct fin_parquet_writer *w, size_t col);
int64_t *fin_parquet_bigints(struct fin_parquet_writer *w, size_t col);
bool *fin_parquet_bools(struct fin_parquet_writer *w, size_t col);
/* s is copied (DuckDB keeps its own copy). */
void fin_parquet_set_varchar(struct fin_parquet_writer *w, size_t col, size_t row, const char *s,
                             size_t len);
void fin_parquet_set_null(struct fin_parquet_writer *w, size_t col, size_t row);

/* Reads a Parquet file back: *schema gets "col TYPE, col TYPE, ..." and *rows the row
 * count; *json (may be NULL) gets every row as a JSON object, one per line, in file order.
 * Strings owned by the caller (free()). For checks and tests; not a hot path. */
int fin_parquet_inspect(struct fin_parquet_writer *w, const char *path, char **schema,
                        uint64_t *rows, char **json);

#endif
