/* fuzz_framing.c - the JSON framing reader on arbitrary bytes (gzip included). */
#include "finstream/error.h"
#include "finstream/framing.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fin_json_reader r;
    if (fin_json_reader_init_mem(&r, data, size, "fuzz") != 0)
        return 0;
    const char *rec;
    size_t len;
    int line, prev_line = 0;
    while (fin_json_reader_next(&r, &rec, &len, &line) == 0) {
        /* Every record lies inside the data and lines never go back. */
        if (rec < r.data || rec + len > r.data + r.len || line < prev_line || len == 0)
            abort();
        prev_line = line;
    }
    fin_json_reader_fini(&r);
    return 0;
}
