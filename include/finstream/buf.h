/* buf.h - a growable byte buffer, the unit of output for formatters and frames.
 *
 * A struct fin_buf lives in the caller's storage (init/fini). Append functions grow it
 * geometrically and return FIN_ENOMEM on failure, leaving the contents as they were. */
#ifndef FINSTREAM_BUF_H
#define FINSTREAM_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fin_buf {
    char *data;
    size_t len;
    size_t cap;
};

void fin_buf_init(struct fin_buf *b);
void fin_buf_fini(struct fin_buf *b);
int fin_buf_reserve(struct fin_buf *b, size_t extra);
int fin_buf_append(struct fin_buf *b, const void *p, size_t n);
int fin_buf_puts(struct fin_buf *b, const char *s);
int fin_buf_printf(struct fin_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns a NUL-terminated view (the NUL is not counted in len); NULL on ENOMEM. */
const char *fin_buf_cstr(struct fin_buf *b);
static inline void fin_buf_reset(struct fin_buf *b) { b->len = 0; }

/* Takes the data out: the caller owns it (free()); the buffer is left empty. */
char *fin_buf_take(struct fin_buf *b, size_t *len);

#endif
