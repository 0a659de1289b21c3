/* query.h - SQL over the lake, through the embedded DuckDB engine.
 * src/query/ is the only code that includes duckdb.h. */
#ifndef FINSTREAM_QUERY_H
#define FINSTREAM_QUERY_H

/* The engine's version string ("v1.4.4"); borrowed, static. */
const char *fin_query_engine_version(void);

#endif
