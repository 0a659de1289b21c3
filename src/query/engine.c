/* engine.c - the DuckDB wrapper. */
#include "finstream/query.h"

#include <duckdb.h>

const char *fin_query_engine_version(void) { return duckdb_library_version(); }
