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

/* ---- a batch of rows ----
 *
 * begin() starts a batch with the given columns (names copied); put_*() set values of the
 * current row (columns left unset are NULL; the type must be the column's); end_row()
 * completes it; finish() writes the batch to out_path as Parquet (snappy), gives the row
 * count, and ends the batch. A failed batch is dropped by the next begin(). out_path is
 * not fsynced here. */
int fin_parquet_begin(struct fin_parquet_writer *w, const struct fin_parquet_column *cols,
                      size_t n_cols);
void fin_parquet_put_double(struct fin_parquet_writer *w, size_t col, double v);
void fin_parquet_put_bigint(struct fin_parquet_writer *w, size_t col, int64_t v);
void fin_parquet_put_bool(struct fin_parquet_writer *w, size_t col, bool v);
void fin_parquet_put_varchar(struct fin_parquet_writer *w, size_t col, const char *s, size_t len);
int fin_parquet_end_row(struct fin_parquet_writer *w);
int fin_parquet_finish(struct fin_parquet_writer *w, const char *out_path, uint64_t *rows);

/* Reads a Parquet file back: *schema gets "col TYPE, col TYPE, ..." and *rows the row
 * count; *json (may be NULL) gets every row as a JSON object, one per line, in file order.
 * Strings owned by the caller (free()). For checks and tests; not a hot path. */
int fin_parquet_inspect(struct fin_parquet_writer *w, const char *path, char **schema,
                        uint64_t *rows, char **json);

#endif
