/* source_util.c - file listing, ticker sets and filters shared by the csv, replay and
 * yahoo sources (source_util.h). */
#include "source_util.h"

#include <dirent.h>
#include <errno.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"

/* ---- input files ---- */

static int list_add(struct fin_file_list *l, size_t *cap, char *path)
{
    if (l->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        char **np = realloc(l->paths, nc * sizeof *np);
        if (!np) {
            free(path);
            return FIN_ENOMEM;
        }
        l->paths = np;
        *cap = nc;
    }
    l->paths[l->n++] = path;
    return 0;
}

static int walk(struct fin_file_list *l, size_t *cap, const char *dir, bool recursive,
                bool (*want)(const char *name), int depth)
{
    /* Symbolic links to folders could loop; 32 levels is far deeper than any lake prefix. */
    if (depth > 32)
        return fin_err_set(FIN_ELIMIT, "%s: folders nested too deep", dir);
    DIR *d = opendir(dir);
    if (!d)
        return fin_err_errno(errno, "cannot open folder", dir);
    int rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *p = fin_path_join(dir, de->d_name);
        if (!p) {
            rc = FIN_ENOMEM;
            break;
        }
        struct stat st;
        if (stat(p, &st) != 0) {
            fin_warn("%s: skipped: %s", p, strerror(errno));
            free(p);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (recursive)
                rc = walk(l, cap, p, recursive, want, depth + 1);
            free(p);
        } else if (S_ISREG(st.st_mode) && (!want || want(de->d_name))) {
            rc = list_add(l, cap, p);
        } else {
            free(p);
        }
    }
    closedir(d);
    return rc;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int fin_file_list_build(struct fin_file_list *l, const char *path, bool recursive,
                        bool (*want)(const char *name))
{
    memset(l, 0, sizeof *l);
    size_t cap = 0;
    int rc;
    struct stat st;
    if (stat(path, &st) != 0) {
        rc = fin_err_errno(errno, "cannot read", path);
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = walk(l, &cap, path, recursive, want, 0);
        if (rc)
            goto fail;
        if (l->n > 1)
            qsort(l->paths, l->n, sizeof *l->paths, cmp_path);
        return 0;
    }
    char *p = strdup(path);
    rc = p ? list_add(l, &cap, p) : FIN_ENOMEM;
    if (rc)
        goto fail;
    return 0;
fail:
    fin_file_list_fini(l);
    return rc;
}

void fin_file_list_fini(struct fin_file_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
    memset(l, 0, sizeof *l);
}

/* ---- tickers ---- */

void fin_name_set_init(struct fin_name_set *s) { memset(s, 0, sizeof *s); }

void fin_name_set_fini(struct fin_name_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    memset(s, 0, sizeof *s);
}

bool fin_name_set_has(const struct fin_name_set *s, const char *name, size_t len)
{
    /* Ticker lists are short (tens); a linear scan beats hashing here. */
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->names[i]) == len && strncasecmp(s->names[i], name, len) == 0)
            return true;
    return false;
}

int fin_name_set_add(struct fin_name_set *s, const char *name, size_t len)
{
    if (fin_name_set_has(s, name, len))
        return 0;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        char **nn = realloc(s->names, nc * sizeof *nn);
        if (!nn)
            return FIN_ENOMEM;
        s->names = nn;
        s->cap = nc;
    }
    char *copy = strndup(name, len);
    if (!copy)
        return FIN_ENOMEM;
    s->names[s->n++] = copy;
    return 0;
}

bool fin_tickers_given(const struct fin_collect_settings *set)
{
    /* No list means the classic ten for the network sources; a file source without a list
     * emits every ticker its files hold. Exactly the default list (as the finstream.ini
     * that `run` writes spells it out) counts as no list, as docs/collector.md says;
     * spaces and case do not matter. */
    if (!set || !set->tickers || !set->tickers[0])
        return false;
    const char *a = set->tickers, *b = FIN_CLASSIC_TICKERS;
    for (;;) {
        while (*a == ' ')
            a++;
        if (!*a || !*b || toupper((unsigned char)*a) != toupper((unsigned char)*b))
            break;
        a++;
        b++;
    }
    return *a || *b;
}

int fin_ticker_filter_init(struct fin_ticker_filter *f, bool given, const char *const *tickers,
                           size_t n_tickers)
{
    memset(f, 0, sizeof *f);
    fin_name_set_init(&f->want);
    fin_name_set_init(&f->seen);
    f->active = given && n_tickers > 0;
    if (!f->active)
        return 0;
    for (size_t i = 0; i < n_tickers; i++) {
        int rc = fin_name_set_add(&f->want, tickers[i], strlen(tickers[i]));
        if (rc) {
            fin_ticker_filter_fini(f);
            return rc;
        }
    }
    return 0;
}

void fin_ticker_filter_fini(struct fin_ticker_filter *f)
{
    if (!f)
        return;
    fin_name_set_fini(&f->want);
    fin_name_set_fini(&f->seen);
}

bool fin_ticker_filter_pass(struct fin_ticker_filter *f, const char *name, size_t len)
{
    if (!f->active)
        return true;
    if (!fin_name_set_has(&f->want, name, len))
        return false;
    if (!fin_name_set_has(&f->seen, name, len))
        (void)fin_name_set_add(&f->seen, name, len);   /* only for the report; ENOMEM is harmless */
    return true;
}

size_t fin_ticker_filter_report(const struct fin_ticker_filter *f, const char *source)
{
    size_t missing = 0;
    if (!f->active)
        return 0;
    for (size_t i = 0; i < f->want.n; i++) {
        const char *t = f->want.names[i];
        if (!fin_name_set_has(&f->seen, t, strlen(t))) {
            fin_warn("%s: no records for ticker %s", source, t);
            missing++;
        }
    }
    return missing;
}

bool fin_window_given(const struct fin_collect_settings *set)
{
    return set && ((set->date && set->date[0]) || (set->start && set->start[0]) ||
                   (set->end && set->end[0]));
}

bool fin_ticker_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > FIN_TICKER_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '^' || c == '=' || c == '_'))
            return false;
    }
    return true;
}
