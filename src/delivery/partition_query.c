/* partition_query.c - the partition keys of dynamic partitioning, from Firehose's
 * MetadataExtraction query.
 *
 * Firehose names partition keys in a JQ expression (JsonParsingEngine JQ-1.6) that builds
 * an object from each record, {name: .name, city: .address.city}, and the prefix uses them
 * as !{partitionKeyFromQuery:name}. The queries written for partitioning are object
 * constructions whose values are field paths, and that is the part of JQ taken here:
 *
 *   query := '{' entry (',' entry)* '}'
 *   entry := key [':' path]               {name} is short for {name: .name}
 *   key   := identifier | "string"
 *   path  := step+                        .a  ."a b"  .["a b"]  ["a"]
 *
 * Anything else (pipes, functions, arithmetic) is refused when the delivery stream is
 * created, naming the offset, rather than evaluated differently from Firehose. Values are
 * looked up by the engine along the path at intake, where the record is scanned anyway. */
#include "finstream/delivery.h"
#include "finstream/error.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 8

struct entry {
    char *key;
    char *path[MAX_DEPTH];
    size_t depth;
};

struct fin_partition_query {
    struct entry *v;
    size_t n;
};

struct parser {
    const char *text, *p;
};

static void ws(struct parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

static int bad(struct parser *ps, const char *what)
{
    return fin_err_set(FIN_EINVAL, "MetadataExtractionQuery '%s': %s at offset %zu (supported: "
                       "{key: .field.path, ...})", ps->text, what, (size_t)(ps->p - ps->text));
}

/* An identifier or a JSON string (simple escapes) into a new string. */
static int name(struct parser *ps, char **out)
{
    const char *s = ps->p;
    if (*s == '"') {
        size_t cap = strlen(s), n = 0;
        char *o = malloc(cap + 1);
        if (!o)
            return FIN_ENOMEM;
        for (s++; *s && *s != '"'; s++) {
            if (*s == '\\') {
                s++;
                if (*s != '"' && *s != '\\' && *s != '/') {
                    free(o);
                    ps->p = s;
                    return bad(ps, "unsupported escape in a key");
                }
            }
            o[n++] = *s;
        }
        if (*s != '"' || n == 0) {
            free(o);
            ps->p = s;
            return bad(ps, n ? "unterminated string" : "empty key");
        }
        o[n] = '\0';
        ps->p = s + 1;
        *out = o;
        return 0;
    }
    if (!(isalpha((unsigned char)*s) || *s == '_'))
        return bad(ps, "expected a key");
    while (isalnum((unsigned char)*ps->p) || *ps->p == '_')
        ps->p++;
    if (!(*out = strndup(s, (size_t)(ps->p - s))))
        return FIN_ENOMEM;
    return 0;
}

static int path(struct parser *ps, struct entry *e)
{
    while (*ps->p == '.' || *ps->p == '[') {
        if (e->depth == MAX_DEPTH)
            return bad(ps, "path deeper than 8 fields");
        if (*ps->p == '.')
            ps->p++;
        int rc;
        if (*ps->p == '[') {
            ps->p++;
            if (*ps->p != '"')
                return bad(ps, "expected a quoted field name inside [ ]");
            if ((rc = name(ps, &e->path[e->depth])))
                return rc;
            if (*ps->p != ']')
                return bad(ps, "expected ]");
            ps->p++;
        } else if ((rc = name(ps, &e->path[e->depth]))) {
            return rc;
        }
        e->depth++;
    }
    return e->depth ? 0 : bad(ps, "expected a field path such as .name");
}

int fin_partition_query_compile(struct fin_partition_query **out, const char *text)
{
    struct parser ps = {text, text};
    struct fin_partition_query *q = calloc(1, sizeof *q);
    int rc = 0;
    *out = NULL;
    if (!q)
        return FIN_ENOMEM;
    ws(&ps);
    if (*ps.p != '{') {
        rc = bad(&ps, "expected '{'");
        goto fail;
    }
    ps.p++;
    for (;;) {
        ws(&ps);
        struct entry *nv = realloc(q->v, (q->n + 1) * sizeof *nv);
        if (!nv) {
            rc = FIN_ENOMEM;
            goto fail;
        }
        q->v = nv;
        struct entry *e = &q->v[q->n];
        memset(e, 0, sizeof *e);
        q->n++;
        if ((rc = name(&ps, &e->key)))
            goto fail;
        for (size_t i = 0; i + 1 < q->n; i++)
            if (strcmp(q->v[i].key, e->key) == 0) {
                rc = bad(&ps, "key defined twice");
                goto fail;
            }
        ws(&ps);
        if (*ps.p == ':') {
            ps.p++;
            ws(&ps);
            if ((rc = path(&ps, e)))
                goto fail;
            ws(&ps);
        } else if (!(e->path[0] = strdup(e->key))) {
            rc = FIN_ENOMEM;
            goto fail;
        } else {
            e->depth = 1;
        }
        if (*ps.p == ',') {
            ps.p++;
            continue;
        }
        if (*ps.p != '}') {
            rc = bad(&ps, "expected ',' or '}'");
            goto fail;
        }
        ps.p++;
        break;
    }
    ws(&ps);
    if (*ps.p) {
        rc = bad(&ps, "unexpected text after the object");
        goto fail;
    }
    *out = q;
    return 0;
fail:
    fin_partition_query_destroy(q);
    return rc;
}

void fin_partition_query_destroy(struct fin_partition_query *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->n; i++) {
        free(q->v[i].key);
        for (size_t j = 0; j < q->v[i].depth; j++)
            free(q->v[i].path[j]);
    }
    free(q->v);
    free(q);
}

const char *const *fin_partition_query_path(const struct fin_partition_query *q, const char *key,
                                            size_t *depth)
{
    for (size_t i = 0; q && i < q->n; i++)
        if (strcmp(q->v[i].key, key) == 0) {
            *depth = q->v[i].depth;
            return (const char *const *)q->v[i].path;
        }
    *depth = 0;
    return NULL;
}
