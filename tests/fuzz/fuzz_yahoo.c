/* fuzz_yahoo.c - the Yahoo chart parser (and its number-text scanner) on arbitrary bytes. */
#include "collector/source_util.h"
#include "fuzz_sources.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fin_emitter em;
    fuzz_emitter(&em);
    struct fin_window w = {INT64_MIN / 2, INT64_MAX / 2, 60};
    fin_yahoo_parse("FUZZ", "http://fuzz/", (const char *)data, size, &w, &em);
    fin_emitter_fini(&em);
    return 0;
}
