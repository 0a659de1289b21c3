/* lexer.c - a small SQL tokenizer for what must happen before DuckDB parses a statement.
 *
 * Three things need the text cut into tokens that respect quotes and comments, and none
 * of them can wait for DuckDB's parser, because DuckDB's parser is what refuses them:
 *
 * - splitting a script into statements at the ';' that are outside strings, quoted
 *   identifiers and comments (and telling the shell whether a line ends a statement);
 * - Trino's implicit aliases. Trino reserves few words (docs: "Reserved keywords"), so
 *   `hour(ts) hour`, `max(high) high` or `substr(ts, 12, 2) hour` name a column; DuckDB's
 *   grammar refuses every keyword of its own as an implicit alias ("syntax error at or
 *   near hour"). In a select list, a word that is a DuckDB keyword but not a Trino
 *   reserved word, standing after the end of an expression and before the end of the
 *   item, is rewritten `AS "word"`; after an explicit AS it is quoted when DuckDB
 *   reserves it;
 * - recognising Athena's catalog statements (SHOW, DESCRIBE, MSCK, CREATE EXTERNAL
 *   TABLE, ...) by their leading words (see statement.c).
 *
 * Tokens are offsets into the caller's text; comments are skipped. The rewrite copies
 * the text between tokens unchanged, so comments and spacing survive. */
#include "query_int.h"
#include "finstream/buf.h"
#include "finstream/error.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Trino's reserved keywords (trino.io/docs/current/language/reserved.html): the only
 * words Trino does not take as an identifier or alias. Sorted for bsearch. */
static const char *const trino_reserved[] = {
    "ALTER", "AND", "AS", "AUTO", "BETWEEN", "BY", "CASE", "CAST", "CONSTRAINT", "CREATE",
    "CROSS", "CUBE", "CURRENT_CATALOG", "CURRENT_DATE", "CURRENT_PATH", "CURRENT_ROLE",
    "CURRENT_SCHEMA", "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_USER", "DEALLOCATE",
    "DELETE", "DESCRIBE", "DISTINCT", "DROP", "ELSE", "END", "ESCAPE", "EXCEPT", "EXECUTE",
    "EXISTS", "EXTRACT", "FALSE", "FOR", "FROM", "FULL", "GROUP", "GROUPING", "HAVING", "IN",
    "INNER", "INSERT", "INTERSECT", "INTO", "IS", "JOIN", "JSON_ARRAY", "JSON_EXISTS",
    "JSON_OBJECT", "JSON_QUERY", "JSON_TABLE", "JSON_VALUE", "LEFT", "LIKE", "LISTAGG",
    "LOCALTIME", "LOCALTIMESTAMP", "NATURAL", "NORMALIZE", "NOT", "NULL", "ON", "OR", "ORDER",
    "OUTER", "PREPARE", "RECURSIVE", "RIGHT", "ROLLUP", "SELECT", "SKIP", "TABLE", "THEN",
    "TRIM", "TRUE", "UESCAPE", "UNION", "UNNEST", "USING", "VALUES", "WHEN", "WHERE", "WITH",
};

static int cmp_word(const void *key, const void *elem)
{
    return strcasecmp(key, *(const char *const *)elem);
}

bool fin_sql__trino_reserved(const char *word)
{
    return bsearch(word, trino_reserved, sizeof trino_reserved / sizeof trino_reserved[0],
                   sizeof trino_reserved[0], cmp_word) != NULL;
}

static bool fin_sql__trino_reserved_tok(const char *s, const struct fin_tok *k)
{
    char w[64];
    if (k->len >= sizeof w)
        return false;
    memcpy(w, s + k->off, k->len);
    w[k->len] = '\0';
    return fin_sql__trino_reserved(w);
}

/* ---- tokens ---- */

static int push(struct fin_sql_tokens *t, enum fin_tok_kind kind, size_t off, size_t len)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct fin_tok *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return FIN_ENOMEM;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = (struct fin_tok){kind, off, len};
    return 0;
}

int fin_sql__tokenize(const char *s, struct fin_sql_tokens *t)
{
    memset(t, 0, sizeof *t);
    size_t i = 0, n = strlen(s);
    t->open = FIN_OPEN_NONE;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t start = i;
        if (isspace(c)) {
            i++;
        } else if (c == '-' && s[i + 1] == '-') {
            while (i < n && s[i] != '\n')
                i++;
        } else if (c == '/' && s[i + 1] == '*') {
            const char *end = strstr(s + i + 2, "*/");
            if (!end) {
                t->open = FIN_OPEN_COMMENT;
                return 0;
            }
            i = (size_t)(end - s) + 2;
        } else if (c == '\'' || c == '"' || c == '`') {
            /* a doubled quote stands for itself */
            i++;
            for (;;) {
                if (i >= n) {
                    t->open = c == '\'' ? FIN_OPEN_STRING : FIN_OPEN_IDENT;
                    return push(t, c == '\'' ? FIN_TOK_STRING : FIN_TOK_QUOTED, start, i - start);
                }
                if ((unsigned char)s[i] == c) {
                    if ((unsigned char)s[i + 1] == c) {
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                i++;
            }
            if (push(t, c == '\'' ? FIN_TOK_STRING : FIN_TOK_QUOTED, start, i - start))
                return FIN_ENOMEM;
        } else if (isalpha(c) || c == '_' || c >= 0x80) {
            while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '$' ||
                             (unsigned char)s[i] >= 0x80))
                i++;
            if (push(t, FIN_TOK_WORD, start, i - start))
                return FIN_ENOMEM;
        } else if (isdigit(c) || (c == '.' && isdigit((unsigned char)s[i + 1]))) {
            while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '_' ||
                             ((s[i] == '+' || s[i] == '-') && (s[i - 1] == 'e' || s[i - 1] == 'E'))))
                i++;
            if (push(t, FIN_TOK_NUMBER, start, i - start))
                return FIN_ENOMEM;
        } else {
            i++;
            /* two-character operators matter only as "not a word"; keep them whole */
            if (i < n && strchr("<>!=|:", (int)c) && strchr("=>|:", s[i]))
                i++;
            if (push(t, FIN_TOK_PUNCT, start, i - start))
                return FIN_ENOMEM;
        }
    }
    return 0;
}

void fin_sql__tokens_fini(struct fin_sql_tokens *t)
{
    free(t->v);
    memset(t, 0, sizeof *t);
}

bool fin_sql__is(const char *s, const struct fin_tok *k, const char *word)
{
    return k && k->kind == FIN_TOK_WORD && strlen(word) == k->len &&
           strncasecmp(s + k->off, word, k->len) == 0;
}

static bool is_punct(const char *s, const struct fin_tok *k, const char *p)
{
    return k && k->kind == FIN_TOK_PUNCT && strlen(p) == k->len && !strncmp(s + k->off, p, k->len);
}

/* ---- statements ---- */

bool fin_query_complete(const char *sql)
{
    struct fin_sql_tokens t;
    if (fin_sql__tokenize(sql, &t))
        return false;
    bool done = t.open == FIN_OPEN_NONE && t.n && is_punct(sql, &t.v[t.n - 1], ";");
    fin_sql__tokens_fini(&t);
    return done;
}

void fin_query_statements_free(char **stmts, size_t n)
{
    for (size_t i = 0; stmts && i < n; i++)
        free(stmts[i]);
    free(stmts);
}

int fin_query_split(const char *sql, char ***out, size_t *nout)
{
    struct fin_sql_tokens t;
    char **v = NULL;
    size_t n = 0;
    int rc = fin_sql__tokenize(sql, &t);
    if (rc)
        return rc;
    if (t.open != FIN_OPEN_NONE) {
        fin_sql__tokens_fini(&t);
        return fin_err_set(FIN_ESQL, "the SQL ends inside %s",
                           t.open == FIN_OPEN_COMMENT  ? "a /* comment */"
                           : t.open == FIN_OPEN_STRING ? "a 'string'"
                                                       : "a \"quoted\" name");
    }
    size_t first = 0;   /* index of the first token of the statement being collected */
    for (size_t i = 0; i <= t.n; i++) {
        bool end = i == t.n || is_punct(sql, &t.v[i], ";");
        if (!end)
            continue;
        if (i > first) {
            size_t from = t.v[first].off, to = t.v[i - 1].off + t.v[i - 1].len;
            char **nv = realloc(v, (n + 1) * sizeof *nv);
            if (!nv || !(nv[n] = strndup(sql + from, to - from))) {
                if (nv)
                    v = nv;
                rc = FIN_ENOMEM;
                goto fail;
            }
            v = nv;
            n++;
        }
        first = i + 1;
    }
    fin_sql__tokens_fini(&t);
    *out = v;
    *nout = n;
    return 0;
fail:
    fin_sql__tokens_fini(&t);
    fin_query_statements_free(v, n);
    return rc;
}

/* ---- Trino's aliases ---- */

/* True when token k can end an expression: a name, a literal, a closing bracket. */
static bool ends_expression(const char *s, const struct fin_tok *k)
{
    switch (k->kind) {
    case FIN_TOK_NUMBER:
    case FIN_TOK_STRING:
    case FIN_TOK_QUOTED: return true;
    case FIN_TOK_PUNCT: return is_punct(s, k, ")") || is_punct(s, k, "]") || is_punct(s, k, "}");
    case FIN_TOK_WORD: {
        char w[64];
        if (k->len >= sizeof w)
            return true;
        memcpy(w, s + k->off, k->len);
        w[k->len] = '\0';
        if (!strcasecmp(w, "TRUE") || !strcasecmp(w, "FALSE") || !strcasecmp(w, "NULL") ||
            !strcasecmp(w, "END") || !strcasecmp(w, "CURRENT_DATE") ||
            !strcasecmp(w, "CURRENT_TIME") || !strcasecmp(w, "CURRENT_TIMESTAMP") ||
            !strcasecmp(w, "LOCALTIME") || !strcasecmp(w, "LOCALTIMESTAMP"))
            return true;
        /* words that lead into what follows them */
        if (!strcasecmp(w, "ALL") || !strcasecmp(w, "ANY") || !strcasecmp(w, "SOME") ||
            !strcasecmp(w, "AT") || !strcasecmp(w, "INTERVAL") || !strcasecmp(w, "TO"))
            return false;
        return !fin_sql__trino_reserved(w);
    }
    default: return false;
    }
}

/* True when token k ends a select item (what may follow an alias). */
static bool ends_item(const char *s, const struct fin_tok *k)
{
    static const char *const words[] = {"FROM",   "WHERE",  "GROUP",  "HAVING", "ORDER",
                                        "LIMIT",  "OFFSET", "FETCH",  "UNION",  "INTERSECT",
                                        "EXCEPT", "INTO",   "WINDOW", "QUALIFY"};
    if (!k)
        return true;
    if (is_punct(s, k, ",") || is_punct(s, k, ")") || is_punct(s, k, ";"))
        return true;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (fin_sql__is(s, k, words[i]))
            return true;
    return false;
}

/* Interval units: `INTERVAL '1' HOUR` is no alias. */
static bool is_unit(const char *s, const struct fin_tok *k)
{
    static const char *const units[] = {"YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND",
                                        "YEARS", "MONTHS", "DAYS", "HOURS", "MINUTES",
                                        "SECONDS", "WEEK", "WEEKS", "MILLISECOND", "MILLISECONDS"};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (fin_sql__is(s, k, units[i]))
            return true;
    return false;
}

#define MAX_DEPTH 256

int fin_sql__trino_aliases(const char *sql, bool (*duck_keyword)(void *ctx, const char *w,
                                                                 bool *reserved),
                           void *ctx, char **out, int *changes)
{
    struct fin_sql_tokens t;
    struct fin_buf b;
    bool in_select[MAX_DEPTH] = {false};
    int depth = 0, n = 0;
    size_t copied = 0;
    int rc = fin_sql__tokenize(sql, &t);
    if (rc)
        return rc;
    fin_buf_init(&b);
    for (size_t i = 0; i < t.n; i++) {
        const struct fin_tok *k = &t.v[i];
        if (is_punct(sql, k, "(") || is_punct(sql, k, "[")) {
            if (depth + 1 < MAX_DEPTH)
                in_select[++depth] = false;
            continue;
        }
        if (is_punct(sql, k, ")") || is_punct(sql, k, "]")) {
            if (depth > 0)
                depth--;
            continue;
        }
        if (k->kind != FIN_TOK_WORD)
            continue;
        if (fin_sql__is(sql, k, "SELECT")) {
            in_select[depth] = true;
            continue;
        }
        /* A word DuckDB reserves but Trino does not (offset, limit, window, column,
         * show, ...) used as a name: after FROM, JOIN or '.', before '.', or alone as a
         * select item. Quoted, it is a name to DuckDB too. */
        if (i > 0 && k->len < 64) {
            char w[64];
            memcpy(w, sql + k->off, k->len);
            w[k->len] = '\0';
            bool reserved = false;
            const struct fin_tok *prev = &t.v[i - 1], *next = i + 1 < t.n ? &t.v[i + 1] : NULL;
            /* (not before '(': JOIN LATERAL (...), a table function) */
            if (!fin_sql__trino_reserved(w) && duck_keyword(ctx, w, &reserved) && reserved &&
                !is_punct(sql, next, "(") &&
                (fin_sql__is(sql, prev, "FROM") || fin_sql__is(sql, prev, "JOIN") ||
                 fin_sql__is(sql, prev, "AS") ||
                 is_punct(sql, prev, ".") || is_punct(sql, next, ".") ||
                 (in_select[depth] &&
                  (fin_sql__is(sql, prev, "SELECT") || fin_sql__is(sql, prev, "DISTINCT") ||
                   is_punct(sql, prev, ",")) &&
                  (ends_item(sql, next) || fin_sql__is(sql, next, "AS"))))) {
                if (fin_buf_append(&b, sql + copied, k->off - copied) ||
                    fin_buf_printf(&b, "\"%s\"", w)) {
                    rc = FIN_ENOMEM;
                    goto fail;
                }
                copied = k->off + k->len;
                n++;
                continue;
            }
        }
        /* LIMIT, OFFSET, WINDOW ... end a select list unless they are its aliases */
        if (in_select[depth] && ends_item(sql, k) && !is_punct(sql, k, ",") &&
            !(i > 0 && ends_expression(sql, &t.v[i - 1]) &&
              !fin_sql__trino_reserved_tok(sql, k) && ends_item(sql, i + 1 < t.n ? &t.v[i + 1] : NULL))) {
            in_select[depth] = false;
            continue;
        }
        if (!in_select[depth] || i == 0 || k->len >= 64)
            continue;
        char w[64];
        memcpy(w, sql + k->off, k->len);
        w[k->len] = '\0';
        bool reserved = false;
        if (fin_sql__trino_reserved(w) || !duck_keyword(ctx, w, &reserved))
            continue;
        const struct fin_tok *prev = &t.v[i - 1];
        const struct fin_tok *next = i + 1 < t.n ? &t.v[i + 1] : NULL;
        bool after_as = fin_sql__is(sql, prev, "AS");
        bool implicit = !after_as && ends_expression(sql, prev) && ends_item(sql, next);
        /* INTERVAL '1' HOUR: the unit, not an alias */
        if (implicit && is_unit(sql, k) && prev->kind == FIN_TOK_STRING && i >= 2 &&
            fin_sql__is(sql, &t.v[i - 2], "INTERVAL"))
            implicit = false;
        if (!implicit && !(after_as && reserved && ends_item(sql, next)))
            continue;
        rc = fin_buf_append(&b, sql + copied, k->off - copied) ||
             fin_buf_printf(&b, "%s\"%s\"", implicit ? "AS " : "", w);
        if (rc) {
            rc = FIN_ENOMEM;
            goto fail;
        }
        copied = k->off + k->len;
        n++;
    }
    if (fin_buf_puts(&b, sql + copied) || !fin_buf_cstr(&b)) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    *out = fin_buf_take(&b, NULL);
    *changes = n;
    fin_sql__tokens_fini(&t);
    return 0;
fail:
    fin_buf_fini(&b);
    fin_sql__tokens_fini(&t);
    return rc;
}
