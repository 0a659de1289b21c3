/* settings.c - the [query] section of finstream.ini, declared once for parsing and for
 * `finstream query --help`; --database overrides it. */
#include "finstream/config.h"
#include "finstream/query.h"

#include <stddef.h>
#include <string.h>

#define O(f) offsetof(struct fin_query_settings, f)
const struct fin_opt fin_query_opts[] = {
    {"database", FIN_OPT_STRING, "", O(database), 0, 0, NULL,
     "database of unqualified table names (default: the one database that has the name)"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};
#undef O

int fin_query_settings_load(struct fin_query_settings *set, const char *config_path)
{
    memset(set, 0, sizeof *set);
    int rc = fin_opts_defaults(fin_query_opts, set);
    if (rc || !config_path)
        return rc;
    struct fin_ini ini;
    if ((rc = fin_ini_load(&ini, config_path, true)))
        return rc;
    const struct fin_ini_section *sec = fin_ini_find(&ini, "query", "");
    if (sec)
        rc = fin_opts_apply_section(fin_query_opts, set, &ini, sec);
    fin_ini_fini(&ini);
    return rc;
}

void fin_query_settings_fini(struct fin_query_settings *set)
{
    if (set)
        fin_opts_fini(fin_query_opts, set);
}
