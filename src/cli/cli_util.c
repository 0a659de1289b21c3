/* cli_util.c - helpers the subcommands share: option tables on the command line,
 * numbers with thousands separators, elapsed time. */
#include "cli_util.h"
#include "finstream/error.h"
#include "finstream/progress.h"
#include "finstream/timeutil.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

int fin_cli_table_option(const char *cmd, const struct fin_opt *table, void *settings, int argc,
                         char **argv, int *i, bool *matched)
{
    const char *a = argv[*i];
    *matched = false;
    if (strncmp(a, "--", 2) != 0)
        return 0;
    char key[128];
    const char *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    if (n >= sizeof key)
        return 0;
    memcpy(key, a + 2, n);
    key[n] = '\0';
    for (char *p = key; *p; p++)
        if (*p == '-')
            *p = '_';
    const struct fin_opt *o = table;
    while (o->key && strcmp(o->key, key) != 0)
        o++;
    if (!o->key)
        return 0;
    const char *value = eq ? eq + 1 : NULL;
    if (!value) {
        if (*i + 1 >= argc)
            return fin_cli_usage_error(cmd, "option %s needs a value", a);
        value = argv[++*i];
    }
    *matched = true;
    char where[160];
    snprintf(where, sizeof where, "option --%.*s", (int)n, a + 2);
    int rc = fin_opts_set(table, settings, key, value, where);
    if (rc) {
        fprintf(stderr, "finstream %s: %s\n", cmd, fin_err_msg());
        return 2;
    }
    return 0;
}

const char *fin_cli_count(char *buf, size_t size, uint64_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

double fin_cli_seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int fin_cli_parse_top(const char *s, size_t *top)
{
    if (strcmp(s, "all") == 0) {
        *top = SIZE_MAX;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno || v == 0 || s[0] == '-')
        return FIN_EINVAL;
    *top = (size_t)v;
    return 0;
}

int fin_cli_check_date(const char *s)
{
    int64_t days;
    return fin_parse_date(s, &days);
}

void fin_cli_crawl_progress(void *ctx, const char *table, size_t done, size_t total)
{
    (void)ctx, (void)table;
    static size_t last;
    if (done < last)
        last = 0;   /* a new table */
    fin_progress_set_total(total, 0);
    fin_progress_add(done - last, 0);
    last = done;
}

int fin_cli_take_format(const char *cmd, int *argc, char **argv, bool *json)
{
    int out = 1;
    *json = false;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (strcmp(a, "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strncmp(a, "--format=", 9) == 0) {
            v = a + 9;
        } else if (strcmp(a, "--format") == 0) {
            if (i + 1 >= *argc)
                return fin_cli_usage_error(cmd, "option --format needs a value (text or json)");
            v = argv[++i];
        } else {
            argv[out++] = argv[i];
            continue;
        }
        if (strcmp(v, "json") == 0)
            *json = true;
        else if (strcmp(v, "text") == 0)
            *json = false;
        else
            return fin_cli_usage_error(cmd, "--format is text or json, not '%s'", v);
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

void fin_cli_print_json(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(o);
}
