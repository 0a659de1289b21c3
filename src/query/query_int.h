/* query_int.h - what the engine and the result code share inside src/query. */
#ifndef FIN_QUERY_INT_H
#define FIN_QUERY_INT_H

#include "finstream/query.h"

#include <duckdb.h>
#include <signal.h>

struct fin_buf;

/* The name under which the lake's tables are attached: "AwsDataCatalog"."finance"."t"
 * resolves as it does in Athena (DuckDB's catalog names are case-insensitive). */
#define FIN_QUERY_CATALOG "awsdatacatalog"

struct fin_query_table {
    char *database, *name;
};

struct fin_query {
    duckdb_database db;
    duckdb_connection conn;
    char *data_dir;
    char *last_sql;
    char *database;                  /* selected (--database, [query] database, USE); or NULL */
    bool logging;                    /* file reads are logged: bytes scanned can be counted */
    volatile sig_atomic_t cancel;    /* fin_query_interrupt was called during this statement */
    struct fin_query_table *tables;  /* the catalog's tables, as the views were defined */
    size_t ntables;
    char **keywords;                 /* DuckDB's keywords, lower case, sorted */
    bool *keyword_reserved;
    size_t nkeywords;
};

struct fin_result_col {
    char *name;
    enum fin_type type;
    char glue[256];  /* Glue's name of the type (CREATE TABLE AS catalogs it) */
};

/* A materialised result: every cell as Athena text (NULL pointer for SQL NULL) and a
 * double. Cells are row-major. */
struct fin_result {
    size_t ncols, nrows, cap;
    struct fin_result_col *cols;
    char **text;
    char **json;     /* JSON of arrays, maps and rows; NULL for other cells */
    double *num;
    uint64_t bytes_scanned;
    double seconds;
};

/* Copies a DuckDB result into a new struct fin_result (*out owned by the caller). */
int fin_result__from_duckdb(duckdb_result *res, struct fin_result **out);

/* Athena's text form of a double (Java's Double.toString: "141.0", "1.0E7"). */
void fin_query__format_double(double v, char *out, size_t size);
/* The same for a float (Java's Float.toString). */
void fin_query__format_float(float v, char *out, size_t size);

/* Runs SQL whose result is not needed; FIN_ESQL with DuckDB's message on error. */
int fin_query__run(struct fin_query *q, const char *sql);
/* The database unqualified names mean: the selected one, else "finance" when it
 * exists, else the first; NULL when the catalog is empty. Borrowed. */
const char *fin_query__current_database(const struct fin_query *q);
/* Appends s as an SQL string literal / a quoted identifier. */
int fin_query__lit(struct fin_buf *b, const char *s);
int fin_query__ident(struct fin_buf *b, const char *s);
/* The Glue type for a DuckDB type name (buf holds decimal(p,s)). */
const char *fin_query__glue_type(const char *duck, char *buf, size_t size);
/* Runs sql through the Athena rewrites and DuckDB (what fin_query_exec does for a
 * statement that is not a catalog statement). */
int fin_query__exec_sql(struct fin_query *q, const char *sql, struct fin_result **out);

/* ---- statement.c: Athena's catalog statements ---- */

/* When sql is one of Athena's catalog statements (SHOW, DESCRIBE, MSCK REPAIR, CREATE
 * EXTERNAL TABLE, DROP TABLE, CTAS, USE), runs it and returns 1 with *rc its outcome
 * (and *out the result when *rc is 0); returns 0 for any other statement. */
int fin_query__statement(struct fin_query *q, const char *sql, struct fin_result **out, int *rc);

/* ---- results built by hand ---- */

/* A result of ncols text columns named by names. */
struct fin_result *fin_result__new(size_t ncols, const char *const *names);
/* Appends a row of ncols values (NULL for SQL NULL); copied. */
int fin_result__add_row(struct fin_result *r, const char *const *values);
/* Glue's type name of a column ("double", "decimal(10,2)", "string"). */
const char *fin_result__glue_type(const struct fin_result *r, size_t col);

/* ---- lexer.c ---- */

enum fin_tok_kind { FIN_TOK_WORD, FIN_TOK_QUOTED, FIN_TOK_STRING, FIN_TOK_NUMBER, FIN_TOK_PUNCT };
enum fin_open { FIN_OPEN_NONE, FIN_OPEN_STRING, FIN_OPEN_IDENT, FIN_OPEN_COMMENT };

/* One token: kind and where it is in the text (comments are not tokens). */
struct fin_tok {
    enum fin_tok_kind kind;
    size_t off, len;
};

struct fin_sql_tokens {
    struct fin_tok *v;
    size_t n, cap;
    enum fin_open open;   /* what the text ends inside of, if anything */
};

/* Cuts s into tokens (t is the caller's storage; fin_sql__tokens_fini frees it). */
int fin_sql__tokenize(const char *s, struct fin_sql_tokens *t);
void fin_sql__tokens_fini(struct fin_sql_tokens *t);
/* True when k is the word (case-insensitive). */
bool fin_sql__is(const char *s, const struct fin_tok *k, const char *word);
/* True for Trino's reserved keywords. */
bool fin_sql__trino_reserved(const char *word);
/* Rewrites Trino's aliases that DuckDB refuses (see lexer.c): duck_keyword says whether
 * a word is a DuckDB keyword and whether DuckDB reserves it. *out is malloc'd; *changes
 * counts the aliases rewritten. */
int fin_sql__trino_aliases(const char *sql,
                           bool (*duck_keyword)(void *ctx, const char *w, bool *reserved),
                           void *ctx, char **out, int *changes);

#endif
