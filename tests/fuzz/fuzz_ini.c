/* fuzz_ini.c - finstream.ini parsing, the schema check and option tables on arbitrary text. */
#include "finstream/config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct s {
    char *a;
    int64_t n, sz, dur;
    bool b;
    int e;
};

static const struct fin_opt table[] = {
    {"a", FIN_OPT_STRING, "x", offsetof(struct s, a), 0, 0, NULL, ""},
    {"n", FIN_OPT_INT, "1", offsetof(struct s, n), 1, 100, NULL, ""},
    {"size", FIN_OPT_SIZE, "1MiB", offsetof(struct s, sz), 0, 0, NULL, ""},
    {"dur", FIN_OPT_DURATION, "1s", offsetof(struct s, dur), 0, 0, NULL, ""},
    {"b", FIN_OPT_BOOL, "no", offsetof(struct s, b), 0, 0, NULL, ""},
    {"e", FIN_OPT_ENUM, "x", offsetof(struct s, e), 0, 0, "x|y|z", ""},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

static const struct fin_ini_schema schema[] = {
    {"s", table, FIN_INI_NAMED, 0, NULL},
    {"t", table, FIN_INI_UNNAMED, -1, NULL},
    {"u", NULL, FIN_INI_NAME_OPTIONAL, -1, "x|y"},
    {NULL, NULL, 0, 0, NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct fin_ini ini;
    if (fin_ini_load_string(&ini, text, "fuzz.ini") == 0) {
        fin_ini_check(&ini, schema);
        for (size_t i = 0; i < ini.n_sections; i++) {
            struct s st;
            fin_opts_defaults(table, &st);
            fin_opts_apply_section(table, &st, &ini, &ini.sections[i]);
            fin_opts_fini(table, &st);
        }
        fin_ini_fini(&ini);
    }
    free(text);
    return 0;
}
