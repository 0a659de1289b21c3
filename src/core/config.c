/* config.c - finstream.ini: a small lexer of its own, declared option tables, and the
 * check of a whole file against the sections finstream knows.
 *
 * The dialect is git's: `[type]` or `[type "name"]` headers, `key = value` lines,
 * comments from ';' or '#' at the start of a line or after a blank inside one, and a
 * value in double quotes keeps ';' and '#' (with \" and \\ inside). Lines may be of any
 * length, indentation means nothing. Every section and key keeps its line, so every
 * later error names file and line. The lexer refuses, whatever the file is for: a line
 * that is neither a header nor `key = value`, a key outside a section, a section or a
 * key given twice, a NUL byte. fin_ini_check() then holds the whole file against a
 * schema (which sections, named how, with which keys and values) before anything runs:
 * nothing runs with a configuration it did not understand. */
#include "finstream/config.h"
#include "finstream/buf.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/names.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* A configuration file larger than this is surely something else. */
#define INI_MAX_BYTES (16u << 20)

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

static char *section_label(char *buf, size_t size, const char *type, const char *name)
{
    snprintf(buf, size, "[%s%s%s%s]", type, name[0] ? " \"" : "", name, name[0] ? "\"" : "");
    return buf;
}

static int section_line(struct fin_ini *ini, const char *p, const char *le, const char *label,
                        int line)
{
    char *type = NULL, *name = NULL;
    const char *q = p + 1, *t0, *n0 = NULL, *n1 = NULL;
    while (q < le && blank(*q))
        q++;
    t0 = q;
    while (q < le && word_char(*q))
        q++;
    const char *t1 = q;
    while (q < le && blank(*q))
        q++;
    if (q < le && *q == '"') {
        n0 = ++q;
        while (q < le && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20 && *q != 0x7f)
            q++;
        if (q >= le || *q != '"')
            goto bad;
        n1 = q++;
        while (q < le && blank(*q))
            q++;
    }
    if (t1 == t0 || q >= le || *q != ']')
        goto bad;
    q++;
    while (q < le && blank(*q))
        q++;
    if (q < le && *q != ';' && *q != '#')
        return fin_err_set(FIN_ECONFIG, "%s:%d: text after the section header: '%.*s'", label,
                           line, (int)(le - q > 60 ? 60 : le - q), q);
    type = strndup(t0, (size_t)(t1 - t0));
    name = n0 ? strndup(n0, (size_t)(n1 - n0)) : strdup("");
    if (!type || !name)
        goto nomem;
    if (n0 && !*name) {
        free(type), free(name);
        return fin_err_set(FIN_ECONFIG, "%s:%d: empty section name \"\"", label, line);
    }
    for (size_t i = 0; i < ini->n_sections; i++)
        if (strcmp(ini->sections[i].type, type) == 0 && strcmp(ini->sections[i].name, name) == 0) {
            char sl[300];
            section_label(sl, sizeof sl, type, name);
            free(type), free(name);
            return fin_err_set(FIN_ECONFIG, "%s:%d: %s again (first at line %d): give each "
                               "section once", label, line, sl, ini->sections[i].line);
        }
    struct fin_ini_section *ns = realloc(ini->sections, (ini->n_sections + 1) * sizeof *ns);
    if (!ns)
        goto nomem;
    ini->sections = ns;
    struct fin_ini_section *s = &ns[ini->n_sections++];
    memset(s, 0, sizeof *s);
    s->type = type;
    s->name = name;
    s->line = line;
    return 0;
bad:
    return fin_err_set(FIN_ECONFIG, "%s:%d: bad section header '%.*s' (expected [type] or "
                       "[type \"name\"])", label, line, (int)(le - p > 80 ? 80 : le - p), p);
nomem:
    free(type), free(name);
    return FIN_ENOMEM;
}

/* The value after '=': quoted (escapes \" and \\) or plain up to a comment; trimmed. */
static int value_of(const char *q, const char *le, struct fin_buf *out, const char *label,
                    int line, const char *key)
{
    fin_buf_reset(out);
    if (q < le && *q == '"') {
        for (q++;; q++) {
            if (q >= le)
                return fin_err_set(FIN_ECONFIG, "%s:%d: %s: the quoted value does not end",
                                   label, line, key);
            if (*q == '"')
                break;
            if (*q == '\\') {
                if (q + 1 >= le || (q[1] != '"' && q[1] != '\\'))
                    return fin_err_set(FIN_ECONFIG, "%s:%d: %s: only \\\" and \\\\ may follow "
                                       "a backslash in a quoted value", label, line, key);
                q++;
            }
            if (fin_buf_append(out, q, 1))
                return FIN_ENOMEM;
        }
        for (q++; q < le && blank(*q); q++)
            ;
        if (q < le && *q != ';' && *q != '#')
            return fin_err_set(FIN_ECONFIG, "%s:%d: %s: text after the quoted value", label,
                               line, key);
        return fin_buf_cstr(out) ? 0 : FIN_ENOMEM;
    }
    const char *v0 = q, *v1 = le;
    for (const char *c = q; c < le; c++)
        if ((*c == ';' || *c == '#') && (c == v0 || blank(c[-1]))) {
            v1 = c;
            break;
        }
    while (v1 > v0 && blank(v1[-1]))
        v1--;
    if (fin_buf_append(out, v0, (size_t)(v1 - v0)) || !fin_buf_cstr(out))
        return FIN_ENOMEM;
    return 0;
}

static int key_line(struct fin_ini *ini, const char *p, const char *le, const char *label,
                    int line, struct fin_buf *val)
{
    const char *q = p;
    while (q < le && word_char(*q))
        q++;
    const char *k1 = q;
    while (q < le && blank(*q))
        q++;
    if (k1 == p || q >= le || *q != '=')
        return fin_err_set(FIN_ECONFIG, "%s:%d: expected key = value or a [section] header, "
                           "not '%.*s'", label, line, (int)(le - p > 80 ? 80 : le - p), p);
    char key[128];
    if ((size_t)(k1 - p) >= sizeof key)
        return fin_err_set(FIN_ECONFIG, "%s:%d: key '%.40s...' is too long", label, line, p);
    memcpy(key, p, (size_t)(k1 - p));
    key[k1 - p] = '\0';
    if (ini->n_sections == 0)
        return fin_err_set(FIN_ECONFIG, "%s:%d: key '%s' is outside a section (put it under a "
                           "header such as [stream \"NAME\"])", label, line, key);
    for (q++; q < le && blank(*q); q++)
        ;
    int rc = value_of(q, le, val, label, line, key);
    if (rc)
        return rc;
    struct fin_ini_section *s = &ini->sections[ini->n_sections - 1];
    for (size_t i = 0; i < s->n_entries; i++)
        if (strcmp(s->entries[i].key, key) == 0) {
            char sl[300];
            return fin_err_set(FIN_ECONFIG, "%s:%d: %s: key '%s' again (first at line %d): "
                               "give each key once", label, line,
                               section_label(sl, sizeof sl, s->type, s->name), key,
                               s->entries[i].line);
        }
    struct fin_ini_entry *ne = realloc(s->entries, (s->n_entries + 1) * sizeof *ne);
    if (!ne)
        return FIN_ENOMEM;
    s->entries = ne;
    struct fin_ini_entry *e = &ne[s->n_entries];
    e->key = strdup(key);
    e->value = strdup(val->data);
    e->line = line;
    if (!e->key || !e->value) {
        free(e->key);
        free(e->value);
        return FIN_ENOMEM;
    }
    s->n_entries++;
    return 0;
}

static int parse(struct fin_ini *ini, const char *text, size_t len, const char *label)
{
    memset(ini, 0, sizeof *ini);
    if (!(ini->path = strdup(label)))
        return FIN_ENOMEM;
    struct fin_buf val;
    fin_buf_init(&val);
    int rc = 0, line = 0;
    const char *p = text, *end = text + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (p < end && !rc) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *next = nl ? nl + 1 : end;
        if (memchr(p, '\0', (size_t)(le - p))) {
            rc = fin_err_set(FIN_ECONFIG, "%s:%d: a NUL byte: not a text file", label, line);
            break;
        }
        if (le > p && le[-1] == '\r')
            le--;
        while (p < le && blank(*p))
            p++;
        while (le > p && blank(le[-1]))
            le--;
        if (p < le && *p != ';' && *p != '#')
            rc = *p == '[' ? section_line(ini, p, le, label, line)
                           : key_line(ini, p, le, label, line, &val);
        p = next;
    }
    fin_buf_fini(&val);
    if (rc)
        fin_ini_fini(ini);
    return rc;
}

int fin_ini_load(struct fin_ini *ini, const char *path, bool missing_ok)
{
    memset(ini, 0, sizeof *ini);
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT && missing_ok) {
            ini->path = strdup(path);
            return ini->path ? 0 : FIN_ENOMEM;
        }
        return fin_err_errno(errno, "cannot open", path);
    }
    if (S_ISDIR(st.st_mode))
        return fin_err_set(FIN_ECONFIG, "%s: a folder, not a configuration file", path);
    if ((uint64_t)st.st_size > INI_MAX_BYTES)
        return fin_err_set(FIN_ECONFIG, "%s: %lld bytes: larger than a configuration file may "
                           "be (%u MiB)", path, (long long)st.st_size, INI_MAX_BYTES >> 20);
    char *text = NULL;
    size_t len = 0;
    int rc = fin_read_file(path, &text, &len);
    if (rc)
        return rc;
    rc = parse(ini, text, len, path);
    free(text);
    return rc;
}

int fin_ini_load_string(struct fin_ini *ini, const char *text, const char *label)
{
    return parse(ini, text, strlen(text), label);
}

void fin_ini_fini(struct fin_ini *ini)
{
    for (size_t i = 0; i < ini->n_sections; i++) {
        struct fin_ini_section *s = &ini->sections[i];
        for (size_t j = 0; j < s->n_entries; j++) {
            free(s->entries[j].key);
            free(s->entries[j].value);
        }
        free(s->entries);
        free(s->type);
        free(s->name);
    }
    free(ini->sections);
    free(ini->path);
    memset(ini, 0, sizeof *ini);
}

const struct fin_ini_section *fin_ini_find(const struct fin_ini *ini, const char *type,
                                           const char *name)
{
    for (size_t i = 0; i < ini->n_sections; i++) {
        const struct fin_ini_section *s = &ini->sections[i];
        if (strcmp(s->type, type) == 0 && strcmp(s->name, name ? name : "") == 0)
            return s;
    }
    return NULL;
}

const char *fin_ini_get(const struct fin_ini_section *s, const char *key)
{
    for (size_t i = 0; s && i < s->n_entries; i++)
        if (strcmp(s->entries[i].key, key) == 0)
            return s->entries[i].value;   /* the lexer lets each key appear once */
    return NULL;
}

/* ---- value parsers ---- */

int fin_parse_int(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno)
        return fin_err_set(FIN_EINVAL, "'%s' is not a whole number", s);
    *out = v;
    return 0;
}

/* Parses "<number><unit>" exactly: a decimal number (digits, optionally a fraction; no
 * sign, exponent or hex) and a unit looked up in units. The result must be a whole
 * number of the base unit (whole names it), so 1.5s is 1500 ms but 0.5ms is refused,
 * never rounded. */
struct unit { const char *suffix; int64_t factor; };

static int parse_with_units(const char *s, const struct unit *units, int64_t bare, int64_t *out,
                            const char *what, const char *whole)
{
    const char *p = s;
    unsigned __int128 mant = 0, pow10 = 1;
    int digits = 0;
    bool any = false;
    while (isdigit((unsigned char)*p)) {
        mant = mant * 10 + (unsigned)(*p++ - '0');
        digits += mant != 0;
        any = true;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            mant = mant * 10 + (unsigned)(*p++ - '0');
            pow10 *= 10;
            digits++;
            any = true;
        }
    }
    if (!any)
        return fin_err_set(FIN_EINVAL, "'%s' is not a %s", s, what);
    if (digits > 24)
        return fin_err_set(FIN_EINVAL, "'%s' has too many digits", s);
    while (*p == ' ')
        p++;
    int64_t f = bare;
    if (*p) {
        f = -1;
        for (const struct unit *u = units; u->suffix; u++)
            if (strcasecmp(p, u->suffix) == 0) {
                f = u->factor;
                break;
            }
        if (f < 0)
            return fin_err_set(FIN_EINVAL, "'%s': unknown unit '%s' for a %s", s, p, what);
    }
    unsigned __int128 r = mant * (unsigned __int128)f;
    if (r % pow10)
        return fin_err_set(FIN_EINVAL, "'%s' is not a whole number of %s", s, whole);
    r /= pow10;
    if (r > (unsigned __int128)INT64_MAX)
        return fin_err_set(FIN_EINVAL, "'%s' is too large", s);
    *out = (int64_t)r;
    return 0;
}

int fin_parse_size(const char *s, int64_t *out)
{
    static const struct unit u[] = {
        {"b", 1},          {"k", 1024},          {"kb", 1000},         {"kib", 1024},
        {"m", 1048576},    {"mb", 1000000},      {"mib", 1048576},     {"g", 1073741824LL},
        {"gb", 1000000000}, {"gib", 1073741824LL}, {NULL, 0}};
    return parse_with_units(s, u, 1, out, "size (e.g. 5MiB)", "bytes");
}

int fin_parse_duration_ms(const char *s, int64_t *out)
{
    static const struct unit u[] = {
        {"ms", 1}, {"s", 1000}, {"sec", 1000}, {"m", 60000}, {"min", 60000}, {"h", 3600000},
        {"d", 86400000}, {NULL, 0}};
    return parse_with_units(s, u, 1000, out, "duration (e.g. 60s, 5m, 24h)", "milliseconds");
}

int fin_parse_bool(const char *s, bool *out)
{
    static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) { *out = true; return 0; }
        if (strcasecmp(s, no[i]) == 0) { *out = false; return 0; }
    }
    return fin_err_set(FIN_EINVAL, "'%s' is not a boolean (true or false)", s);
}

/* ---- option tables ---- */

static const struct fin_opt *find_opt(const struct fin_opt *t, const char *key)
{
    for (; t->key; t++)
        if (strcmp(t->key, key) == 0)
            return t;
    return NULL;
}

static int enum_index(const char *choices, const char *value)
{
    size_t n = strlen(value);
    int idx = 0;
    for (const char *p = choices; *p; idx++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncasecmp(p, value, n) == 0)
            return idx;
        if (!bar)
            break;
        p = bar + 1;
    }
    return -1;
}

/* A bound of a range as the user would write it: 100ms, 10m, 24h, 5MiB. */
static const char *fmt_value(enum fin_opt_type type, int64_t v, char *buf, size_t size)
{
    static const struct unit dur[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000},
                                      {"s", 1000}, {"ms", 1}, {NULL, 0}};
    static const struct unit sz[] = {{"GiB", 1073741824LL}, {"MiB", 1048576}, {"KiB", 1024},
                                     {"", 1}, {NULL, 0}};
    const struct unit *u = type == FIN_OPT_DURATION || type == FIN_OPT_SECONDS ? dur
                           : type == FIN_OPT_SIZE                              ? sz
                                                                               : NULL;
    while (u && u->suffix && (v == 0 ? u->factor != 1 : v % u->factor != 0))
        u++;
    if (u && u->suffix)
        snprintf(buf, size, "%" PRId64 "%s", v / u->factor, u->suffix);
    else
        snprintf(buf, size, "%" PRId64, v);
    return buf;
}

static int set_opt(const struct fin_opt *o, void *settings, const char *value, const char *where)
{
    char *field = (char *)settings + o->offset;
    int64_t v = 0;
    int rc = 0;
    switch (o->type) {
    case FIN_OPT_STRING: {
        char *copy = strdup(value ? value : "");
        if (!copy)
            return FIN_ENOMEM;
        free(*(char **)field);
        *(char **)field = copy;
        return 0;
    }
    case FIN_OPT_BOOL:
        rc = fin_parse_bool(value, (bool *)field);
        break;
    case FIN_OPT_ENUM: {
        int i = enum_index(o->choices, value);
        if (i < 0)
            return fin_err_set(FIN_ECONFIG, "%s: %s = '%s': expected one of %s", where, o->key,
                               value, o->choices);
        *(int *)field = i;
        return 0;
    }
    case FIN_OPT_INT: rc = fin_parse_int(value, &v); break;
    case FIN_OPT_SIZE: rc = fin_parse_size(value, &v); break;
    case FIN_OPT_DURATION: rc = fin_parse_duration_ms(value, &v); break;
    case FIN_OPT_SECONDS:
        rc = fin_parse_duration_ms(value, &v);
        if (!rc && v % 1000)
            rc = fin_err_set(FIN_EINVAL, "'%s' is not a whole number of seconds, which this "
                             "setting counts in", value);
        break;
    }
    if (rc) {
        char detail[512];
        snprintf(detail, sizeof detail, "%s", fin_err_msg());
        return fin_err_set(FIN_ECONFIG, "%s: %s: %s", where, o->key, detail);
    }
    if (o->type == FIN_OPT_BOOL)
        return 0;
    if ((o->min || o->max) && (v < o->min || v > o->max)) {
        char lo[32], hi[32];
        return fin_err_set(FIN_ECONFIG, "%s: %s = '%s' is out of range (%s to %s)", where, o->key,
                           value, fmt_value(o->type, o->min, lo, sizeof lo),
                           fmt_value(o->type, o->max, hi, sizeof hi));
    }
    *(int64_t *)field = v;
    return 0;
}

int fin_opts_defaults(const struct fin_opt *table, void *settings)
{
    for (const struct fin_opt *o = table; o->key; o++) {
        if (o->type == FIN_OPT_STRING) {
            *(char **)((char *)settings + o->offset) = NULL;
            if (!o->def)
                continue;
        }
        int rc = set_opt(o, settings, o->def ? o->def : "0", "default");
        if (rc)
            return rc;
    }
    return 0;
}

int fin_opts_set(const struct fin_opt *table, void *settings, const char *key, const char *value,
                 const char *where)
{
    const struct fin_opt *o = find_opt(table, key);
    if (!o)
        return fin_err_set(FIN_ECONFIG, "%s: unknown key '%s'", where, key);
    return set_opt(o, settings, value, where);
}

int fin_opts_apply_section(const struct fin_opt *table, void *settings,
                           const struct fin_ini *ini, const struct fin_ini_section *s)
{
    for (size_t i = 0; i < s->n_entries; i++) {
        char where[512];
        snprintf(where, sizeof where, "%s:%d: [%s%s%s%s]", ini->path ? ini->path : "config",
                 s->entries[i].line, s->type, s->name[0] ? " \"" : "", s->name,
                 s->name[0] ? "\"" : "");
        int rc = fin_opts_set(table, settings, s->entries[i].key, s->entries[i].value, where);
        if (rc)
            return rc;
    }
    return 0;
}

void fin_opts_fini(const struct fin_opt *table, void *settings)
{
    for (const struct fin_opt *o = table; o->key; o++)
        if (o->type == FIN_OPT_STRING) {
            char **p = (char **)((char *)settings + o->offset);
            free(*p);
            *p = NULL;
        }
}

/* One help line: the left column, then the description (on a line of its own when the
 * left column is too wide to leave room). */
static void help_line(FILE *out, const char *left, const struct fin_opt *o)
{
    if (strlen(left) > 28)
        fprintf(out, "  %s\n  %-28s %s", left, "", o->help ? o->help : "");
    else
        fprintf(out, "  %-28s %s", left, o->help ? o->help : "");
    if (o->type == FIN_OPT_ENUM)
        fprintf(out, " (%s)", o->choices);
    fputc('\n', out);
}

void fin_opts_print_help(const struct fin_opt *table, FILE *out)
{
    for (const struct fin_opt *o = table; o->key; o++) {
        char left[160];
        snprintf(left, sizeof left, "%s = %s", o->key, o->def ? o->def : "");
        help_line(out, left, o);
    }
}

void fin_opts_print_options(const struct fin_opt *table, FILE *out)
{
    static const char *const kinds[] = {"TEXT", "N", "BOOL", "SIZE", "DURATION", "CHOICE",
                                         "DURATION"};
    for (const struct fin_opt *o = table; o->key; o++) {
        char left[200], key[64];
        snprintf(key, sizeof key, "%s", o->key);
        for (char *p = key; *p; p++)
            if (*p == '_')
                *p = '-';
        if (o->def && *o->def)
            snprintf(left, sizeof left, "--%s %s (%s)", key, kinds[o->type], o->def);
        else
            snprintf(left, sizeof left, "--%s %s", key, kinds[o->type]);
        help_line(out, left, o);
    }
}

/* ---- a whole file against a schema ---- */

/* Edit distance of two short words, capped: for "did you mean". */
static int distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 31 || lb > 31)
        return 99;
    int d[32][32];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < c)
                c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c)
                c = d[i][j - 1] + 1;
            d[i][j] = c;
        }
    return d[la][lb];
}

static bool in_list(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, word, n) == 0)
            return true;
        if (!bar)
            break;
        p = bar + 1;
    }
    return false;
}

static int check_section(const struct fin_ini *ini, const struct fin_ini_section *s,
                         const struct fin_ini_schema *schema)
{
    const char *path = ini->path ? ini->path : "config";
    char sl[300];
    section_label(sl, sizeof sl, s->type, s->name);
    const struct fin_ini_schema *k = schema;
    while (k->type && strcmp(k->type, s->type) != 0)
        k++;
    if (!k->type) {
        char known[512] = "", hint[96] = "";
        size_t kl = 0;
        for (const struct fin_ini_schema *x = schema; x->type; x++) {
            kl += (size_t)snprintf(known + kl, kl < sizeof known ? sizeof known - kl : 0, "%s[%s%s]",
                                   x == schema ? "" : ", ", x->type,
                                   x->naming == FIN_INI_NAMED ? " \"NAME\"" : "");
            if (!hint[0] && distance(x->type, s->type) <= 2)
                snprintf(hint, sizeof hint, "; did you mean [%s]?", x->type);
        }
        return fin_err_set(FIN_ECONFIG, "%s:%d: unknown section %s%s (known: %s)", path, s->line,
                           sl, hint, known);
    }
    if (k->naming == FIN_INI_UNNAMED && s->name[0])
        return fin_err_set(FIN_ECONFIG, "%s:%d: %s: a [%s] section takes no name", path, s->line,
                           sl, k->type);
    if (k->naming == FIN_INI_NAMED && !s->name[0])
        return fin_err_set(FIN_ECONFIG, "%s:%d: [%s] needs a name: [%s \"NAME\"]", path, s->line,
                           k->type, k->type);
    if (s->name[0] && k->name_kind >= 0 &&
        fin_name_check((enum fin_name_kind)k->name_kind, s->name)) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", fin_err_msg());
        return fin_err_set(FIN_ECONFIG, "%s:%d: %s: %s", path, s->line, sl, msg);
    }
    if (s->name[0] && k->name_kind < 0 && k->names && !in_list(k->names, s->name))
        return fin_err_set(FIN_ECONFIG, "%s:%d: %s: unknown name \"%s\" (expected one of %s)",
                           path, s->line, sl, s->name, k->names);
    /* Values parse into a scratch copy of the settings: the table's offsets say how big. */
    size_t size = 0;
    for (const struct fin_opt *o = k->opts; o && o->key; o++)
        if (o->offset + sizeof(int64_t) > size)
            size = o->offset + sizeof(int64_t);
    void *scratch = calloc(1, size ? size : 1);
    if (!scratch)
        return FIN_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < s->n_entries && !rc; i++) {
        const struct fin_ini_entry *e = &s->entries[i];
        const struct fin_opt *o = k->opts ? find_opt(k->opts, e->key) : NULL;
        if (o) {
            char where[512];
            snprintf(where, sizeof where, "%s:%d: %s", path, e->line, sl);
            rc = set_opt(o, scratch, e->value, where);
            continue;
        }
        const struct fin_ini_schema *other = schema;
        while (other->type && (other == k || !other->opts || !find_opt(other->opts, e->key)))
            other++;
        if (other->type) {
            rc = fin_err_set(FIN_ECONFIG, "%s:%d: %s: key '%s' belongs in a [%s] section, not "
                             "[%s]", path, e->line, sl, e->key, other->type, k->type);
            continue;
        }
        char known[1024] = "", hint[96] = "", dashless[128];
        size_t kl = 0;
        snprintf(dashless, sizeof dashless, "%s", e->key);
        for (char *p = dashless; *p; p++)
            if (*p == '-')
                *p = '_';
        for (const struct fin_opt *x = k->opts; x && x->key; x++) {
            kl += (size_t)snprintf(known + kl, kl < sizeof known ? sizeof known - kl : 0, "%s%s",
                                   x == k->opts ? "" : ", ", x->key);
            if (!hint[0] && (strcmp(x->key, dashless) == 0 || distance(x->key, e->key) <= 2))
                snprintf(hint, sizeof hint, "; did you mean '%s'?", x->key);
        }
        rc = fin_err_set(FIN_ECONFIG, "%s:%d: %s: unknown key '%s'%s (known: %s)", path, e->line,
                         sl, e->key, hint, known);
    }
    if (k->opts)
        fin_opts_fini(k->opts, scratch);
    free(scratch);
    return rc;
}

int fin_ini_check(const struct fin_ini *ini, const struct fin_ini_schema *schema)
{
    for (size_t i = 0; i < ini->n_sections; i++) {
        int rc = check_section(ini, &ini->sections[i], schema);
        if (rc)
            return rc;
    }
    return 0;
}
