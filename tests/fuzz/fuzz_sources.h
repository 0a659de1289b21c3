/* fuzz_sources.h - an emitter that throws records away, for the source parsers' fuzz
 * targets: they check that any input ends in records or counted errors, never a crash. */
#ifndef FIN_FUZZ_SOURCES_H
#define FIN_FUZZ_SOURCES_H

#include <stdlib.h>
#include <string.h>

#include "finstream/collector.h"
#include "finstream/log.h"

static int fuzz_put(void *ctx, const char *key, size_t key_len, const char *rec, size_t len)
{
    (void)ctx;
    /* Every record is one JSON object on one line, with a key. */
    if (key_len == 0 || len < 2 || rec[0] != '{' || rec[len - 1] != '}' || memchr(rec, '\n', len) ||
        !key)
        abort();
    return 0;
}

static void fuzz_emitter(struct fin_emitter *em)
{
    struct fin_record_format fmt;
    struct fin_record_sink sink = {fuzz_put, NULL, NULL};
    fin_log_set_level(FIN_LOG_ERROR);   /* bad input is expected here: keep the output quiet */
    if (fin_record_format_parse(&fmt, NULL) || fin_emitter_init(em, &fmt, &sink, false))
        abort();
}

#endif
