/* config.c - finstream.ini through inih, and declared option tables.
 *
 * inih does the lexing (sections, comments, continuation lines); we keep what it hands
 * us with the line it came from, which inih's handler does not pass: a line-counting
 * reader feeds inih one line at a time, so the count at each callback is the line. */
#include "finstream/config.h"
#include "finstream/error.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct ini_reader_state {
    const char *text;   /* string source, or NULL */
    FILE *file;         /* file source, or NULL */
    int line;
};

struct ini_load {
    struct fin_ini *ini;
    struct ini_reader_state *rs;
    char *cur_raw;      /* raw section header of the last section */
    int failed;
};

static char *reader(char *str, int num, void *stream)
{
    struct ini_reader_state *rs = stream;
    if (rs->file) {
        if (!fgets(str, num, rs->file))
            return NULL;
    } else {
        if (!*rs->text)
            return NULL;
        int i = 0;
        while (i < num - 1 && rs->text[0]) {
            char c = *rs->text++;
            str[i++] = c;
            if (c == '\n')
                break;
        }
        str[i] = '\0';
    }
    rs->line++;
    return str;
}

/* Splits `stream "stocks"` into type and name; `core` alone has name "". */
static int split_section(const char *raw, char **type, char **name)
{
    const char *q = strchr(raw, '"');
    const char *end = q ? q : raw + strlen(raw);
    while (end > raw && isspace((unsigned char)end[-1]))
        end--;
    *type = strndup(raw, (size_t)(end - raw));
    if (q) {
        const char *q2 = strrchr(q + 1, '"');
        if (!q2)
            q2 = q + 1 + strlen(q + 1);
        *name = strndup(q + 1, (size_t)(q2 - q - 1));
    } else {
        *name = strdup("");
    }
    return (*type && *name) ? 0 : FIN_ENOMEM;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
    struct ini_load *L = user;
    struct fin_ini *ini = L->ini;
    if (!L->cur_raw || strcmp(L->cur_raw, section) != 0 || ini->n_sections == 0) {
        struct fin_ini_section *ns = realloc(ini->sections, (ini->n_sections + 1) * sizeof *ns);
        if (!ns)
            return 0;
        ini->sections = ns;
        struct fin_ini_section *s = &ns[ini->n_sections++];
        memset(s, 0, sizeof *s);
        s->line = L->rs->line;
        if (split_section(section, &s->type, &s->name))
            return 0;
        free(L->cur_raw);
        L->cur_raw = strdup(section);
    }
    if (!key)
        return 1;
    struct fin_ini_section *s = &ini->sections[ini->n_sections - 1];
    struct fin_ini_entry *ne = realloc(s->entries, (s->n_entries + 1) * sizeof *ne);
    if (!ne)
        return 0;
    s->entries = ne;
    struct fin_ini_entry *e = &ne[s->n_entries++];
    e->key = strdup(key);
    e->value = strdup(value ? value : "");
    e->line = L->rs->line;
    return e->key && e->value;
}

static int load(struct fin_ini *ini, struct ini_reader_state *rs, const char *label)
{
    memset(ini, 0, sizeof *ini);
    ini->path = strdup(label);
    struct ini_load L = {ini, rs, NULL, 0};
    int rc = ini_parse_stream(reader, rs, handler, &L);
    free(L.cur_raw);
    if (rc != 0) {
        fin_ini_fini(ini);
        if (rc < 0)
            return fin_err_set(FIN_ENOMEM, "%s: cannot read", label);
        return fin_err_set(FIN_ECONFIG, "%s:%d: syntax error (expected [section \"name\"] or key = value)",
                           label, rc);
    }
    return 0;
}

int fin_ini_load(struct fin_ini *ini, const char *path, bool missing_ok)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT && missing_ok) {
            memset(ini, 0, sizeof *ini);
            ini->path = strdup(path);
            return 0;
        }
        return fin_err_errno(errno, "cannot open", path);
    }
    struct ini_reader_state rs = {NULL, f, 0};
    int rc = load(ini, &rs, path);
    fclose(f);
    return rc;
}

int fin_ini_load_string(struct fin_ini *ini, const char *text, const char *label)
{
    struct ini_reader_state rs = {text, NULL, 0};
    return load(ini, &rs, label);
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
    const char *v = NULL;
    for (size_t i = 0; s && i < s->n_entries; i++)
        if (strcmp(s->entries[i].key, key) == 0)
            v = s->entries[i].value;   /* the last one wins, as in git */
    return v;
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

/* Parses "<number><unit>" where unit is looked up in units (suffix, factor). */
struct unit { const char *suffix; double factor; };

static int parse_with_units(const char *s, const struct unit *units, double bare, int64_t *out,
                            const char *what)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return fin_err_set(FIN_EINVAL, "'%s' is not a %s", s, what);
    while (*end == ' ')
        end++;
    double f = bare;
    if (*end) {
        f = -1;
        for (const struct unit *u = units; u->suffix; u++)
            if (strcasecmp(end, u->suffix) == 0) {
                f = u->factor;
                break;
            }
        if (f < 0)
            return fin_err_set(FIN_EINVAL, "'%s': unknown unit '%s' for a %s", s, end, what);
    }
    double r = v * f;
    if (r > 9.2e18)
        return fin_err_set(FIN_EINVAL, "'%s' is too large", s);
    *out = (int64_t)(r + 0.5);
    return 0;
}

int fin_parse_size(const char *s, int64_t *out)
{
    static const struct unit u[] = {
        {"b", 1}, {"k", 1024}, {"kb", 1000}, {"kib", 1024}, {"m", 1048576}, {"mb", 1e6},
        {"mib", 1048576}, {"g", 1073741824.0}, {"gb", 1e9}, {"gib", 1073741824.0}, {NULL, 0}};
    return parse_with_units(s, u, 1, out, "size (e.g. 5MiB)");
}

int fin_parse_duration_ms(const char *s, int64_t *out)
{
    static const struct unit u[] = {
        {"ms", 1}, {"s", 1000}, {"sec", 1000}, {"m", 60000}, {"min", 60000}, {"h", 3600000},
        {"d", 86400000}, {NULL, 0}};
    return parse_with_units(s, u, 1000, out, "duration (e.g. 60s, 5m, 24h)");
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
    }
    if (rc) {
        char detail[512];
        snprintf(detail, sizeof detail, "%s", fin_err_msg());
        return fin_err_set(FIN_ECONFIG, "%s: %s: %s", where, o->key, detail);
    }
    if (o->type == FIN_OPT_BOOL)
        return 0;
    if ((o->min || o->max) && (v < o->min || v > o->max))
        return fin_err_set(FIN_ECONFIG, "%s: %s = '%s' is out of range (%" PRId64 " to %" PRId64 "%s)",
                           where, o->key, value,
                           o->type == FIN_OPT_DURATION ? o->min / 1000 : o->min,
                           o->type == FIN_OPT_DURATION ? o->max / 1000 : o->max,
                           o->type == FIN_OPT_DURATION ? " s" : o->type == FIN_OPT_SIZE ? " bytes" : "");
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
    static const char *const kinds[] = {"TEXT", "N", "BOOL", "SIZE", "DURATION", "CHOICE"};
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
