/* buf.c - growable byte buffer. */
#include "finstream/buf.h"
#include "finstream/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void fin_buf_init(struct fin_buf *b) { b->data = NULL; b->len = b->cap = 0; }

void fin_buf_fini(struct fin_buf *b)
{
    free(b->data);
    fin_buf_init(b);
}

int fin_buf_reserve(struct fin_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return FIN_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int fin_buf_append(struct fin_buf *b, const void *p, size_t n)
{
    if (fin_buf_reserve(b, n))
        return FIN_ENOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int fin_buf_puts(struct fin_buf *b, const char *s) { return fin_buf_append(b, s, strlen(s)); }

int fin_buf_printf(struct fin_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || fin_buf_reserve(b, (size_t)n))
        return FIN_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

const char *fin_buf_cstr(struct fin_buf *b)
{
    if (fin_buf_reserve(b, 0))
        return NULL;
    b->data[b->len] = '\0';
    return b->data;
}

char *fin_buf_take(struct fin_buf *b, size_t *len)
{
    if (!fin_buf_cstr(b))
        return NULL;
    char *p = b->data;
    if (len)
        *len = b->len;
    fin_buf_init(b);
    return p;
}
