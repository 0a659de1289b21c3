/* fuzz_sql.c - the SQL tokenizer on arbitrary text: splitting into statements, the end
 * of statement test of the shell, and the Trino alias rewrite (with a stand-in keyword
 * list at its seam, so no engine is needed).
 *
 * Whatever the text, nothing may crash or read past it; split statements are pieces of
 * the input; the rewrite only inserts (its output is never shorter than its input). */
#include "query_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every word of an odd length is a keyword; those of length 5 are reserved. */
static bool keyword(void *ctx, const char *w, bool *reserved)
{
    (void)ctx;
    size_t n = strlen(w);
    *reserved = n == 5;
    return n % 2 == 1 || !strcasecmp(w, "hour");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *sql = malloc(size + 1);
    if (!sql)
        return 0;
    memcpy(sql, data, size);
    sql[size] = '\0';   /* the API takes C strings: text after a NUL is not seen */
    char **stmts = NULL;
    size_t n = 0;
    if (fin_query_split(sql, &stmts, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            if (!stmts[i][0] || !strstr(sql, stmts[i]))
                abort();
        fin_query_statements_free(stmts, n);
    }
    (void)fin_query_complete(sql);
    char *out = NULL;
    int changes = 0;
    if (fin_sql__trino_aliases(sql, keyword, NULL, &out, &changes) == 0) {
        if (strlen(out) < strlen(sql) || (changes == 0 && strcmp(out, sql) != 0))
            abort();
        free(out);
    }
    free(sql);
    return 0;
}
