/* config.h - finstream.ini and declared option tables.
 *
 * The file reads like git's config: one section per named thing,
 *
 *     [stream "stocks"]
 *     shards    = 2
 *     retention = 24h          ; comments after ';' or '#'
 *
 * fin_ini_load() keeps every section with its type ("stream"), name ("stocks") and the
 * line of each key, and refuses what no reader could mean (a key outside a section, a
 * section or key given twice, a line that is neither). A component declares its options
 * once, as a table of struct fin_opt (type, default, range, offset into its settings
 * struct, description); the same table applies a section (rejecting unknown keys by
 * name and line), applies command-line overrides, and prints --help text. A schema (a
 * list of struct fin_ini_schema) names every section a file may hold, so that
 * fin_ini_check() refuses a whole file, before anything runs, when any part of it is
 * not understood. */
#ifndef FINSTREAM_CONFIG_H
#define FINSTREAM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum fin_opt_type {
    FIN_OPT_STRING,    /* char * (owned by the settings struct; freed by fin_opts_fini) */
    FIN_OPT_INT,       /* int64_t */
    FIN_OPT_BOOL,      /* bool: true/false, yes/no, on/off, 1/0 */
    FIN_OPT_SIZE,      /* int64_t bytes: 512, 64KiB, 5MiB, 1GiB, 5MB */
    FIN_OPT_DURATION,  /* int64_t milliseconds: 250ms, 1.5s, 5m, 24h, 7d; bare number = seconds */
    FIN_OPT_ENUM,      /* int: index into choices "none|gzip" */
    FIN_OPT_SECONDS,   /* int64_t milliseconds, like DURATION, but whole seconds only (1.5s refused) */
};

struct fin_opt {
    const char *key;
    enum fin_opt_type type;
    const char *def;       /* default as text, parsed like a value; NULL = empty/0 */
    size_t offset;         /* offsetof(settings struct, field) */
    int64_t min, max;      /* for INT/SIZE/DURATION; min == max == 0: unbounded */
    const char *choices;   /* for ENUM: "a|b|c" */
    const char *help;
};

struct fin_ini_entry {
    char *key;
    char *value;
    int line;
};

struct fin_ini_section {
    char *type;     /* "stream" */
    char *name;     /* "stocks", or "" for [core] */
    int line;
    struct fin_ini_entry *entries;
    size_t n_entries;
};

struct fin_ini {
    char *path;
    struct fin_ini_section *sections;
    size_t n_sections;
};

/* A kind of section a file may hold. */
enum fin_ini_naming {
    FIN_INI_UNNAMED,        /* [serve] */
    FIN_INI_NAMED,          /* [stream "NAME"]: the name is required */
    FIN_INI_NAME_OPTIONAL,  /* [aws] or [aws "s3"] */
};

struct fin_ini_schema {
    const char *type;              /* "stream"; NULL ends a schema */
    const struct fin_opt *opts;    /* its keys and what their values may be */
    enum fin_ini_naming naming;
    int name_kind;                 /* enum fin_name_kind the name must satisfy, or -1 */
    const char *names;             /* with name_kind -1: the names allowed, "s3|kinesis" */
};

/* Loads path into ini (caller's storage, freed by fin_ini_fini). A missing file is not
 * an error when missing_ok is true (ini is then empty). Syntax errors name file and line. */
int fin_ini_load(struct fin_ini *ini, const char *path, bool missing_ok);
int fin_ini_load_string(struct fin_ini *ini, const char *text, const char *label);
void fin_ini_fini(struct fin_ini *ini);

/* Holds every section of ini against schema: its type must be known and named as the
 * schema says, each key must be one of its table (a key of another section's table is
 * called misplaced), and each value must parse and be in range. The first problem is
 * returned as FIN_ECONFIG with file, line, section and key. */
int fin_ini_check(const struct fin_ini *ini, const struct fin_ini_schema *schema);

/* The section [type "name"], or NULL; borrowed from ini. */
const struct fin_ini_section *fin_ini_find(const struct fin_ini *ini, const char *type,
                                           const char *name);
/* The value of key in section, or NULL; borrowed. (A key appears at most once.) */
const char *fin_ini_get(const struct fin_ini_section *s, const char *key);

/* Sets every option of table (terminated by key == NULL) in settings to its default. */
int fin_opts_defaults(const struct fin_opt *table, void *settings);
/* Applies a section: each key must be in table; errors name file, line and key. */
int fin_opts_apply_section(const struct fin_opt *table, void *settings,
                           const struct fin_ini *ini, const struct fin_ini_section *s);
/* Sets one option by key from text (command line or section); where names the source. */
int fin_opts_set(const struct fin_opt *table, void *settings, const char *key,
                 const char *value, const char *where);
/* Frees the strings a table's settings own. */
void fin_opts_fini(const struct fin_opt *table, void *settings);
/* Prints "  key = default  help (range)" lines for --help. */
void fin_opts_print_help(const struct fin_opt *table, FILE *out);
/* Prints the same table as command-line options: "--key-name KIND (default)  help". */
void fin_opts_print_options(const struct fin_opt *table, FILE *out);

/* Value parsers shared with the command line. Each returns FIN_EINVAL with a message. */
int fin_parse_int(const char *s, int64_t *out);
int fin_parse_size(const char *s, int64_t *out);
int fin_parse_duration_ms(const char *s, int64_t *out);
int fin_parse_bool(const char *s, bool *out);

#endif
