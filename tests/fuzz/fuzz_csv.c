/* fuzz_csv.c - the csv source's reader (quoting, headers, numbers, times) on arbitrary bytes. */
#include "collector/source_util.h"
#include "fuzz_sources.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fin_emitter em;
    fuzz_emitter(&em);
    fin_csv_parse("fuzz.csv", (const char *)data, size, NULL, &em);
    fin_emitter_fini(&em);
    return 0;
}
