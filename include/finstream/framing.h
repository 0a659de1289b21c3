/* framing.h - reading JSON records out of an object, whatever its framing.
 *
 * Objects in a lake come framed three ways: one JSON object per line (what finstream
 * writes; with or without a final newline, CRLF too), objects back to back with no
 * separator (what Firehose writes when the producer adds no newline), or one JSON array.
 * Any of them may be gzip-compressed, which is recognised by content, not by name.
 * The reader finds record boundaries without parsing values; callers parse each record
 * (and report a bad one by the line the reader gives). Shared by the replay source and
 * the crawler. */
#ifndef FINSTREAM_FRAMING_H
#define FINSTREAM_FRAMING_H

#include <stdbool.h>
#include <stddef.h>

enum fin_framing {
    FIN_FRAMING_EMPTY,         /* nothing seen yet, or an empty object */
    FIN_FRAMING_LINES,         /* newline-delimited */
    FIN_FRAMING_CONCATENATED,  /* back to back */
    FIN_FRAMING_ARRAY,         /* [ {...}, {...} ] */
};

const char *fin_framing_name(enum fin_framing f);

struct fin_json_reader {
    const char *label;     /* for messages (borrowed) */
    const char *data;      /* the (decompressed) bytes */
    size_t len;
    size_t pos;
    int line;              /* 1-based line of pos */
    bool gzip;             /* the input was gzip */
    enum fin_framing framing;
    char *owned;           /* data when the reader owns it */
};

/* Reads and, if needed, decompresses a whole file. Freed by fin_json_reader_fini. */
int fin_json_reader_open_file(struct fin_json_reader *r, const char *path);
/* Reads from memory; data is borrowed unless it is gzip (then it is inflated into owned).
 * label names the source in messages. */
int fin_json_reader_init_mem(struct fin_json_reader *r, const void *data, size_t len,
                             const char *label);
void fin_json_reader_fini(struct fin_json_reader *r);

/* The next record: *rec and *len span its bytes (borrowed from the reader, without the
 * newline), *line its first line. Returns 0, FIN_EEND at the end, or FIN_EPARSE for an
 * object that never closes (the reader then stops). In line framing a line that is not a
 * JSON object is still returned, so the caller reports it and goes on. */
int fin_json_reader_next(struct fin_json_reader *r, const char **rec, size_t *len, int *line);

/* True when data starts with the gzip magic bytes. */
bool fin_is_gzip(const void *data, size_t len);
/* Inflates a gzip member (or several, concatenated) into *out (caller frees). */
int fin_gunzip(const void *data, size_t len, char **out, size_t *out_len, const char *label);

#endif
