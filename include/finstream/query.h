/* query.h - SQL over the lake, through the embedded DuckDB engine (finstream's Athena).
 *
 * A struct fin_query is one engine connection on a data directory. Opening it reads the
 * catalog (catalog/catalog.json) and exposes every catalog table as a view named
 * database.table over the objects in place, with the catalog's columns and partition
 * columns, so a WHERE on a partition column prunes the objects read. Athena's functions
 * that DuckDB spells differently (date_parse, date_format, date_add('hour', n, t),
 * date_diff, from_iso8601_timestamp, from_unixtime, ...) are registered on the
 * connection, casts of offset strings to timestamp convert to UTC, and unaliased
 * expression columns are named _col0, _col1, ... as Athena names them.
 *
 * A result is materialised: every value is kept both as Athena's text form (the form
 * Athena's CSV uses: doubles in shortest round-trip form, "141.0", timestamps as
 * "2020-05-14 13:30:00.000") and, for numbers, as a double.
 *
 *     struct fin_query *q;
 *     struct fin_result *res;
 *     if (fin_query_open(&q, data_dir) == 0 && fin_query_exec(q, sql, &res) == 0) {
 *         for (size_t r = 0; r < fin_result_rows(res); r++)
 *             printf("%s %g\n", fin_result_text(res, r, 0), fin_result_double(res, r, 1));
 *         fin_result_destroy(res);
 *     }
 *     fin_query_close(q);
 *
 * src/query/ is the only code that includes duckdb.h; its types never appear here. */
#ifndef FINSTREAM_QUERY_H
#define FINSTREAM_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "finstream/config.h"

struct fin_columns;

/* The engine's version string ("v1.4.4"); borrowed, static. */
const char *fin_query_engine_version(void);

/* Column types of a result, as Athena names them. */
enum fin_type {
    FIN_TYPE_VARCHAR,
    FIN_TYPE_BOOLEAN,
    FIN_TYPE_BIGINT,      /* every integer width */
    FIN_TYPE_DOUBLE,      /* float and double */
    FIN_TYPE_DECIMAL,
    FIN_TYPE_DATE,
    FIN_TYPE_TIMESTAMP,
    FIN_TYPE_TIMESTAMPTZ, /* timestamp with time zone; shown in UTC */
    FIN_TYPE_OTHER,       /* intervals, blobs, ...: text only */
    FIN_TYPE_ARRAY,       /* text [1, 2]; JSON array */
    FIN_TYPE_MAP,         /* text {a=1}; JSON object */
    FIN_TYPE_ROW,         /* struct: text {x=1, y=2}; JSON object */
};

/* Athena's name of a type ("varchar", "double", ...); static. */
const char *fin_type_name(enum fin_type t);

struct fin_query;
struct fin_result;

/* Opens an in-memory engine over data_dir (which need not hold a catalog yet: then only
 * plain SQL works). Extension autoinstall and autoload from the network are off; the
 * session time zone is UTC. *out is owned by the caller: fin_query_close(). */
int fin_query_open(struct fin_query **out, const char *data_dir);

/* Closes the engine; NULL is fine. Results already returned stay valid. */
void fin_query_close(struct fin_query *q);

/* Re-reads the catalog and redefines the views (after a crawl in the same process). */
int fin_query_refresh(struct fin_query *q);

/* Runs one SQL statement (a trailing ';' is fine). On success *out is owned by the
 * caller (fin_result_destroy). On an SQL error returns FIN_ESQL with DuckDB's message,
 * which gives the position in the caller's SQL, in fin_err_msg(). Besides SQL, Athena's
 * catalog statements run against finstream's catalog (docs/query.md): SHOW DATABASES,
 * SHOW TABLES, SHOW COLUMNS, DESCRIBE, SHOW PARTITIONS, SHOW CREATE TABLE, MSCK REPAIR
 * TABLE, CREATE EXTERNAL TABLE, DROP TABLE, CREATE TABLE AS SELECT and USE. */
int fin_query_exec(struct fin_query *q, const char *sql, struct fin_result **out);

/* Splits a script into statements at the ';' outside strings, quoted names and
 * comments; empty statements are left out. *stmts (n strings) is owned by the caller:
 * fin_query_statements_free. FIN_ESQL when the text ends inside a string or comment. */
int fin_query_split(const char *sql, char ***stmts, size_t *n);
void fin_query_statements_free(char **stmts, size_t n);
/* True when sql ends with a ';' that ends a statement (the shell's end of input). */
bool fin_query_complete(const char *sql);

/* Selects the database unqualified table names refer to (Athena's "database" of a
 * query; USE db does the same). NULL or "" goes back to the default: the database that
 * holds the only table of a name. FIN_ENOENT, listing the databases, for an unknown one. */
int fin_query_set_database(struct fin_query *q, const char *database);
/* The database SHOW TABLES and the shell's prompt mean: the selected one, else
 * "finance" when it exists, else the first; NULL without a catalog. Borrowed. */
const char *fin_query_database(const struct fin_query *q);

/* Cancels the statement running on q (from a signal handler or another thread): the
 * exec returns FIN_ECANCELED or FIN_ESQL, with "Interrupted" in the message. Called
 * while no statement runs, it cancels the next one. */
void fin_query_interrupt(struct fin_query *q);

/* The SQL actually handed to DuckDB for the last fin_query_exec (after the Athena
 * rewrites); borrowed until the next exec or close. Useful for EXPLAIN and debugging. */
const char *fin_query_last_sql(const struct fin_query *q);

void fin_result_destroy(struct fin_result *r);

size_t fin_result_rows(const struct fin_result *r);
size_t fin_result_columns(const struct fin_result *r);
/* Column name; borrowed until fin_result_destroy. */
const char *fin_result_column_name(const struct fin_result *r, size_t col);
enum fin_type fin_result_column_type(const struct fin_result *r, size_t col);
/* The index of the column named name (case-insensitive), or -1. */
int fin_result_column_index(const struct fin_result *r, const char *name);

bool fin_result_is_null(const struct fin_result *r, size_t row, size_t col);
/* Athena's text form of a value; "" for NULL; borrowed until fin_result_destroy. */
const char *fin_result_text(const struct fin_result *r, size_t row, size_t col);
/* The value as a double: numbers as they are, booleans 0/1, timestamps as seconds since
 * the epoch (UTC), text parsed with strtod; NaN for NULL or text that is no number. */
double fin_result_double(const struct fin_result *r, size_t row, size_t col);

/* Bytes of lake objects the query read, as Athena reports "data scanned" (the size of
 * every object a scan opened, after partition pruning). */
uint64_t fin_result_bytes_scanned(const struct fin_result *r);
/* Wall time of the query in seconds. */
double fin_result_seconds(const struct fin_result *r);

/* Output forms for fin_result_write. */
enum fin_result_format {
    FIN_RESULT_TABLE,  /* aligned columns for a terminal */
    FIN_RESULT_CSV,    /* Athena's CSV: header, every field in double quotes */
    FIN_RESULT_JSON,   /* one JSON object per row (numbers as numbers, arrays, maps and
                        * rows nested) */
};

/* Writes the result to f. Returns 0 or FIN_EIO. */
int fin_result_write(const struct fin_result *r, enum fin_result_format format, FILE *f);
/* The table form fitted to width columns of a terminal: long values are cut with "…",
 * columns that do not fit are left out and counted in the footer. */
int fin_result_write_table(const struct fin_result *r, size_t width, FILE *f);

/* Athena's CSV form of the whole result: *csv is owned by the caller (free()), *len is
 * its length. */
int fin_result_to_csv(const struct fin_result *r, char **csv, size_t *len);

/* Saves the result as Athena does: results/<query-id>.csv and results/<query-id>.csv.metadata
 * (JSON: query text, submission time, rows, bytes scanned, engine time, columns) under
 * data_dir, both written atomically. The query id is a fresh UUID (v4) copied into
 * query_id (at least 37 bytes). */
int fin_result_save(const struct fin_result *r, const char *data_dir, const char *sql,
                    char *query_id, size_t query_id_size);

/* The [query] section of finstream.ini. */
struct fin_query_settings {
    char *database;   /* "" = none selected */
};
extern const struct fin_opt fin_query_opts[];
/* Defaults, then [query] of config_path (which may be missing; NULL: defaults only).
 * Unknown keys are errors naming file and line. Freed by fin_query_settings_fini. */
int fin_query_settings_load(struct fin_query_settings *set, const char *config_path);
void fin_query_settings_fini(struct fin_query_settings *set);

/* Reads the column schema of a Parquet object into cols (appending), for the crawler
 * (see fin_crawl_opts.parquet_schema in catalog.h). ctx is unused. */
int fin_query_parquet_schema(const char *path, struct fin_columns *cols, void *ctx);

#endif
