/* fuzz_time.c - time and date parsing, and the record format, on arbitrary text. */
#include "finstream/collector.h"
#include "finstream/timeutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    int64_t t, days;
    if (fin_parse_time(text, FIN_TZ_NEW_YORK, &t) == 0) {
        char out[32];
        fin_format_ts_offset(out, t, fin_ny_utc_offset(t));
    }
    fin_parse_date(text, &days);
    struct fin_record_format f;
    fin_record_format_parse(&f, text);
    fin_is_json_number(text, size);
    free(text);
    return 0;
}
