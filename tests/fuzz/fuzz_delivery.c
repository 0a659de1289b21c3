/* fuzz_delivery.c - delivery's record scanner and prefix compiler on arbitrary bytes.
 * The scanner runs on every record put to a partitioned or Parquet delivery stream, so
 * nothing it is given may make it read outside the record or return spans outside it. */
#include "delivery/internal.h"
#include "finstream/delivery.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy, so reading one byte past the end is caught by the sanitizer */
    char *rec = malloc(size ? size : 1);
    if (!rec)
        return 0;
    memcpy(rec, data, size);
    struct jfield f[JSCAN_MAX_FIELDS];
    size_t n;
    const char *why;
    if (jscan_object(rec, size, f, JSCAN_MAX_FIELDS, &n, &why) == 0) {
        char buf[256];
        size_t len;
        for (size_t i = 0; i < n; i++) {
            if (f[i].key < rec || f[i].key + f[i].key_len > rec + size ||
                f[i].val < rec || f[i].val + f[i].val_len > rec + size)
                abort();
            jscan_unescape(f[i].key, f[i].key_len, buf, sizeof buf, &len);
            if (f[i].type == J_STRING)
                jscan_unescape(f[i].val, f[i].val_len, buf, sizeof buf, &len);
        }
    } else if (!why) {
        abort();
    }
    /* the same bytes as a prefix expression */
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, data, size);
        text[size] = '\0';
        for (int is_error = 0; is_error < 2; is_error++) {
            struct fin_prefix *p;
            if (fin_prefix_compile(&p, text, is_error) == 0) {
                const char *const *fields;
                size_t nf = fin_prefix_fields(p, &fields);
                const char *vals[64];
                for (size_t i = 0; i < nf && i < 64; i++)
                    vals[i] = "v";
                char out[512];
                if (nf <= 64)
                    fin_prefix_render(p, 1795690150000LL, vals, "processing-failed", out, sizeof out);
                fin_prefix_destroy(p);
            }
        }
        free(text);
    }
    free(rec);
    return 0;
}
