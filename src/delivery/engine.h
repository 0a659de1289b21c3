/* engine.h - the delivery engine's state, shared by engine.c (buffering, partitions,
 * flushes, exactly once) and convert.c (the Parquet schema and conversion). Nothing
 * outside src/delivery sees it. */
#ifndef FIN_DELIVERY_ENGINE_H
#define FIN_DELIVERY_ENGINE_H

#include "internal.h"
#include "finstream/parquet.h"

#define MAX_PARTITIONS 500        /* Firehose's default limit of active partitions */
#define PART_TABLE     1024       /* hash slots, a power of two above MAX_PARTITIONS + errors */
#define MAX_VALUE      512        /* bytes of one partition value */

enum err_kind { ERR_NONE = -1, ERR_PROCESSING, ERR_CONVERSION, ERR_PARTITIONING, ERR_KINDS };

struct rec {
    uint32_t off, len;        /* bytes in its shard's data buffer (newline included) */
    uint32_t part;
    uint16_t shard;
};

struct part {
    char *key;                /* values joined with '\0' (len key_len), owned */
    size_t key_len;
    uint64_t hash;
    int err;                  /* enum err_kind for error partitions, ERR_NONE otherwise */
    int64_t first_ms;         /* earliest arrival among its records */
    uint32_t *idx;
    size_t n, cap;
};

/* A column of the Parquet schema, as seen in the buffered records. */
enum col_kind { C_UNSEEN, C_BOOL, C_INT, C_REAL, C_STRING };
struct column {
    char *name;
    size_t name_len;
    enum col_kind kind;       /* the widest value type seen (unknown fields) */
    bool known;               /* a field of the record schema, with a fixed type */
    enum fin_parquet_type type;
    /* The column's value in each buffered record, by record index, found by the one scan
     * at intake so that a flush never scans a record again: where the value's text sits in
     * the record (its offset: 3 bytes a cell with the type; the flush finds the value's end
     * again, which costs less than keeping it) and its JSON type (CELL_ABSENT when the
     * record has no such field; | CELL_ESCAPED for a string with escapes; | CELL_WIDE when
     * the offset passes 16 bits: offset and length are then in the engine's wide[]).
     * Grown with the record index and kept from one buffer to the next; error records
     * leave holes. */
    uint16_t *cell;
    uint8_t *cell_type;
    size_t cell_cap;
};

struct wide_cell {
    uint32_t ri, col, off, len;
};

#define CELL_ABSENT 0xff
#define CELL_ESCAPED 0x80
#define CELL_WIDE 0x40
#define CELL_TYPE(t) ((t) & 0x3f)

/* Per shard: the range buffered, and the records' bytes. One buffer per shard lets an
 * object that holds the whole flush be written straight from them, in shard order. */
struct shard_pos {
    char first[FIN_SEQ_LEN + 1], last[FIN_SEQ_LEN + 1];
    uint64_t count;
    struct fin_buf data;
};

struct fin_delivery_engine {
    char *name;
    char *dir;                /* deliveries/<name> */
    char *state_path;
    char *tmp_dir;
    struct fin_delivery_settings set;
    struct fin_prefix *prefix, *error_prefix;
    const char *const *fields;
    size_t n_fields;
    struct fin_partition_query *query;   /* partition_query compiled, or NULL */
    const char *const *paths[64];        /* per field: the path its value is read at */
    size_t depths[64];
    const struct fin_delivery_source *src;
    const struct fin_clock *clock;
    const char **shard_ids;
    struct fin_sink *sink;
    uint64_t tmp_seq;         /* names of temporary files in tmp_dir */
    struct fin_parquet_writer *pq;
    struct fin_gz_pipe *gz;   /* gzip while the buffer fills (one object per flush), or NULL */
    int lock_fd;

    struct fin_delivery_state st;

    /* the buffer */
    size_t buffered;          /* bytes in all shards' data */
    struct rec *recs;
    size_t n_recs, cap_recs;
    struct part *parts;
    size_t n_parts;
    int32_t table[PART_TABLE];
    struct shard_pos *pos;
    int64_t first_mono;       /* when the buffer got its first record */
    bool replaying;
    bool retry;               /* a flush failed: it must succeed before anything is read */

    struct column *cols;
    size_t n_cols, cap_cols;   /* slots past n_cols keep their cells for the next buffer */
    struct wide_cell *wide;    /* cells past 16 bits of offset, in record order */
    size_t n_wide, cap_wide;

    struct fin_buf obj, scratch;
};

/* ---- engine.c ---- */

/* A fresh path in the delivery's tmp/ folder for a file that a writer like DuckDB makes
 * itself (caller frees; NULL on ENOMEM). The folder is the engine's, not the sink's, so a
 * Parquet object is made the same way whatever the destination. */
char *engine_tmp_path(struct fin_delivery_engine *e, const char *ext);

/* ---- convert.c ---- */

/* Checks a scanned record (rec, its fields f) against the Parquet schema of the buffer
 * (the record schema's fixed types, inferred types for other fields) and, when it passes,
 * adds its new fields, widens inferred types and keeps where each value sits for the
 * record about to be buffered (index e->n_recs). Returns NULL, or the reason (borrowed
 * until the next call). */
const char *convert_check(struct fin_delivery_engine *e, const char *rec, const struct jfield *f,
                          size_t nf);
/* Forgets the columns and their values (the buffer was written); their memory is kept. */
void convert_reset(struct fin_delivery_engine *e);
/* Frees what convert_reset keeps. */
void convert_free(struct fin_delivery_engine *e);
/* Writes partition p (ordered) as a Parquet file and moves it to key; *bytes its size. */
int convert_write_parquet(struct fin_delivery_engine *e, struct part *p, const char *key,
                          uint64_t *bytes);

#endif
