/* query_int.h - what the engine and the result code share inside src/query. */
#ifndef FIN_QUERY_INT_H
#define FIN_QUERY_INT_H

#include "finstream/query.h"

#include <duckdb.h>

struct fin_result_col {
    char *name;
    enum fin_type type;
};

/* A materialised result: every cell as Athena text (NULL pointer for SQL NULL) and a
 * double. Cells are row-major. */
struct fin_result {
    size_t ncols, nrows, cap;
    struct fin_result_col *cols;
    char **text;
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

#endif
