/* catalog.h - the crawler and the data catalog (finstream's Glue).
 *
 * The catalog holds databases and their tables; a table is a location (a folder of the
 * lake), a format (classification json, csv or parquet; framing and compression for
 * JSON), data columns, partition keys and the partitions found, and the objects seen by
 * the last crawl (so a re-crawl samples only new or changed objects). It lives in
 * <data_dir>/catalog/catalog.json, replaced atomically on every save.
 *
 * The crawler walks a location and groups objects into tables by prefix (rules in
 * docs/catalog.md): the location is one table when it holds objects or partition folders
 * (YYYY/MM/DD/HH or key=value), named after its folder or the name given; any other
 * folder directly below it is a table of its own. Columns come from sampling records:
 * names lower-cased, types widened across objects. Re-crawling adds partitions and
 * columns and never drops them while their data exists.
 *
 * Types are Glue's names: string, bigint, int, double, float, boolean, date, timestamp,
 * decimal(p,s); "null" is a column seen only with null values so far. */
#ifndef FINSTREAM_CATALOG_H
#define FINSTREAM_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FIN_CATALOG_DEFAULT_DATABASE "finance"
#define FIN_CATALOG_FILE "catalog/catalog.json"
#define FIN_CATALOG_NAME_MAX 255              /* Glue's limit on database and table names */
#define FIN_CRAWL_DEFAULT_SAMPLE 1000         /* records sampled per object */

struct fin_column {
    char *name;      /* lower-cased, as queries see it */
    char *source;    /* the key as the objects spell it ("High"); NULL for partitions */
    char *type;      /* Glue type name */
    /* Other spellings of the key seen in JSON objects ("high" beside "High"): the OpenX
     * SerDe matches keys case-insensitively, so they are one column; the query reads
     * each spelling. NULL/0 when there are none; owned (fin_columns_fini). */
    char **aliases;
    size_t naliases;
};

/* A growable list of columns; init with {0}; fin_columns_fini frees the strings. */
struct fin_columns {
    struct fin_column *v;
    size_t n, cap;
};

void fin_columns_fini(struct fin_columns *c);
/* The column whose name equals name (case-insensitive), or NULL; borrowed. */
struct fin_column *fin_columns_find(const struct fin_columns *c, const char *name);
/* Adds a column, or widens the type of the one with the same lower-cased name.
 * Strings are copied. */
int fin_columns_merge(struct fin_columns *c, const char *source, const char *type);
/* Remembers spelling as another key of column col (nothing when it is col's source or
 * already known). */
int fin_column_add_alias(struct fin_column *col, const char *spelling);

/* Glue's widening of two types: same -> same; null + T -> T; int + bigint -> bigint;
 * integer + float/double -> double; anything else that differs -> string. Static string. */
const char *fin_type_widen(const char *a, const char *b);

struct fin_partition {
    char **values;   /* one per partition key */
    char *path;      /* folder relative to the table location ("2020/05/14/09") */
};

struct fin_object {
    char *key;       /* path relative to the table location */
    int64_t size;
    int64_t mtime;   /* seconds */
    bool gzip;       /* compressed (by content); the query reads such tables per object */
    /* What is wrong with the object when the crawler could not read it whole (a gzip
     * stream that is truncated or fails its CRC, UTF-16 text), NULL when it is sound.
     * A query of a table with a damaged object fails and names it (docs/catalog.md). */
    char *damage;
};

struct fin_table {
    char *database;
    char *name;
    char *location;        /* absolute folder */
    char *classification;  /* json | csv | parquet */
    char *framing;         /* lines | concatenated | array | mixed (json only) */
    char *compression;     /* none | gzip | mixed */
    char *created;         /* ISO-8601 UTC */
    char *updated;
    struct fin_columns columns;
    struct fin_columns partition_keys;   /* type string */
    struct fin_partition *partitions;
    size_t npartitions, partitions_cap;
    struct fin_object *objects;
    size_t nobjects, objects_cap;
    int64_t records_sampled;
    int64_t bad_records;                 /* lines that could not be parsed, all crawls */
};

struct fin_catalog;
struct fin_clock;

/* Opens the catalog of data_dir (an empty one when the file does not exist yet).
 * *out is owned by the caller: fin_catalog_close(). */
int fin_catalog_open(struct fin_catalog **out, const char *data_dir);
/* Writes the catalog file atomically. */
int fin_catalog_save(struct fin_catalog *cat);
void fin_catalog_close(struct fin_catalog *cat);

size_t fin_catalog_table_count(const struct fin_catalog *cat);
/* Tables sorted by database, then name; borrowed until the catalog changes or closes. */
struct fin_table *fin_catalog_table_at(const struct fin_catalog *cat, size_t i);
/* Finds "db.table" or "table" (in the default database); case-insensitive; NULL if none. */
struct fin_table *fin_catalog_find(const struct fin_catalog *cat, const char *name);

/* Database names known to the catalog (borrowed). */
size_t fin_catalog_database_count(const struct fin_catalog *cat);
const char *fin_catalog_database_at(const struct fin_catalog *cat, size_t i);

/* The Athena DDL of a table: CREATE EXTERNAL TABLE with the JSON SerDe (or CSV/Parquet),
 * partition keys and LOCATION s3_location (the table's local location as file:// when
 * NULL). *out is owned by the caller (free()). */
int fin_catalog_ddl(const struct fin_table *t, const char *s3_location, char **out);

/* A table registered by hand (CREATE EXTERNAL TABLE, CTAS): no columns, partitions or
 * objects yet; framing "mixed" (read as DuckDB detects it) for json, compression none.
 * Names are lower-cased and must be Glue names ([a-z0-9_], 1 to 255). now is the
 * created/updated time (ISO-8601). *out is owned by the caller until fin_catalog_add. */
int fin_table_create(struct fin_table **out, const char *database, const char *name,
                     const char *location, const char *classification, const char *now);
void fin_table_destroy(struct fin_table *t);
/* Adds t to cat, taking it over (freed on failure too); FIN_EEXIST when the name is
 * taken. Not saved: call fin_catalog_save. */
int fin_catalog_add(struct fin_catalog *cat, struct fin_table *t);
/* Removes "db.table" (or "table" of the default database) from the catalog; its objects
 * stay in the lake. FIN_ENOENT when there is no such table. */
int fin_catalog_drop(struct fin_catalog *cat, const char *name);
/* Renames a table to new_name ("table", or "db.table" to move it to another database,
 * created if new). FIN_EEXIST when taken. Borrowed table pointers stay valid. */
int fin_catalog_rename(struct fin_catalog *cat, const char *name, const char *new_name);
/* MSCK REPAIR TABLE: registers every partition folder below the table's location that
 * holds objects and is not registered yet (key=value folders for named keys, any folder
 * for partition_0..N); *added counts them. Partitions already known are kept. */
int fin_catalog_repair(struct fin_table *t, size_t *added);
/* ALTER TABLE ADD PARTITION: values (one per partition key) read from the folder path,
 * relative to the location. FIN_EEXIST when that path or those values are registered. */
int fin_catalog_add_partition(struct fin_table *t, const char *const *values, const char *path);
/* ALTER TABLE DROP PARTITION: the registration only; FIN_ENOENT when there is none. */
int fin_catalog_drop_partition(struct fin_table *t, const char *const *values);

/* Where a Parquet object's schema comes from: the query engine provides
 * fin_query_parquet_schema; the catalog itself does not link it. */
typedef int (*fin_parquet_schema_fn)(const char *path, struct fin_columns *cols, void *ctx);

struct fin_crawl_opts {
    const char *database;           /* default "finance" */
    const char *table;              /* name of the table at the location itself; NULL:
                                     * the folder's name */
    long sample;                    /* records per object; 0 = all; default when < 0 */
    fin_parquet_schema_fn parquet_schema;   /* NULL: Parquet objects are skipped */
    void *parquet_ctx;
    /* Called for each problem (a bad line, an unreadable object) with a message naming
     * the object and line; NULL: logged as warnings. */
    void (*report)(void *ctx, const char *msg);
    void *report_ctx;
    /* false (default): problems of one kind are summarised once per table (the count and
     * the first example); true: every problem is reported on its own. */
    bool report_all;
    /* Objects sampled at once (threads); 0: one per online core, at most 8. */
    int workers;
    const struct fin_clock *clock;  /* for created/updated times; NULL: the real clock */
    /* Called now and then while a table's objects are examined (done of total), e.g. to
     * show progress on a terminal; NULL: not called. */
    void (*progress)(void *ctx, const char *table, size_t done, size_t total);
    void *progress_ctx;
};

struct fin_crawl_stats {
    size_t tables_created, tables_updated;
    size_t objects_seen, objects_sampled, objects_skipped;
    size_t partitions_added, columns_added;
    int64_t records_sampled, bad_records;
    size_t objects_damaged;          /* unreadable whole: truncated gzip, UTF-16 text */
    int64_t bytes_read;              /* object bytes read (sampling and checks) */
};

/* Crawls location (a folder) into cat (not saved: call fin_catalog_save). */
int fin_crawl(struct fin_catalog *cat, const char *location, const struct fin_crawl_opts *opts,
              struct fin_crawl_stats *stats);

/* Sanitises a folder name into a Glue table name: lower case, [a-z0-9_], other
 * characters become '_'. Writes at most size bytes into out. */
void fin_catalog_table_name(const char *folder, char *out, size_t size);

#endif
