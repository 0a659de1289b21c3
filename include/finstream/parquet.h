/* parquet.h - Parquet files from newline-delimited JSON, written by the embedded DuckDB.
 *
 * Delivery converts its buffers to Parquet through this writer; the records have been
 * checked against the column types beforehand, so DuckDB's JSON reader and Parquet writer
 * do the bulk work in parallel. src/query/ stays the only code that includes duckdb.h. */
#ifndef FINSTREAM_PARQUET_H
#define FINSTREAM_PARQUET_H

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

/* Reads json_path (one JSON object per line) as the given columns (fields not listed are
 * ignored, missing ones are NULL) and writes out_path as Parquet (snappy); *rows (may be
 * NULL) gets the row count. DuckDB's error text comes back as FIN_ESQL naming json_path.
 * out_path is not fsynced here. */
int fin_parquet_write_json(struct fin_parquet_writer *w, const char *json_path,
                           const struct fin_parquet_column *cols, size_t n_cols,
                           const char *out_path, uint64_t *rows);

/* Reads a Parquet file back: *schema gets "col TYPE, col TYPE, ..." and *rows the row
 * count; *json (may be NULL) gets every row as a JSON object, one per line, in file order.
 * Strings owned by the caller (free()). For checks and tests; not a hot path. */
int fin_parquet_inspect(struct fin_parquet_writer *w, const char *path, char **schema,
                        uint64_t *rows, char **json);

#endif
