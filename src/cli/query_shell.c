/* query_shell.c - the interactive SQL shell of `finstream query` (a terminal, no SQL).
 *
 * Line editing and history come from libedit (its native histedit API, which lets the
 * shell tell end of input from an interrupted read). A statement may span lines; it
 * runs when a line ends it with ';' outside strings and comments (fin_query_complete),
 * and a line may hold several. The prompt names the current database (USE db changes
 * it). After each answer the shell prints the rows, the elapsed time and the bytes of
 * lake objects scanned, as Athena's console does; tables are fitted to the terminal's
 * width and long ones go through $PAGER (less -FRSX by default, when installed).
 *
 * Ctrl-C: SIGINT is caught for the whole session. While a statement runs, the handler
 * asks DuckDB to stop it (fin_query_interrupt -> duckdb_interrupt, which only sets a
 * flag the engine polls, so it is safe in a handler); the statement fails with
 * "Interrupted" and the shell prompts again. At the prompt, Ctrl-C drops the lines typed
 * so far. History lives in <data-dir>/query_history. */
#include "query_shell.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/query.h"

#include <errno.h>
#include <histedit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static struct fin_query *volatile running;   /* the engine while a statement runs */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
    struct fin_query *q = running;
    if (q)
        fin_query_interrupt(q);
}

static char prompt_text[320];
static char *prompt_fn(EditLine *el)
{
    (void)el;
    return prompt_text;
}

static void set_prompt(const struct fin_query *q, bool continuation)
{
    const char *db = fin_query_database(q);
    char first[300];
    snprintf(first, sizeof first, "%s> ", db ? db : "finstream");
    if (!continuation) {
        snprintf(prompt_text, sizeof prompt_text, "%s", first);
        return;
    }
    size_t n = strlen(first);
    snprintf(prompt_text, sizeof prompt_text, "%*s-> ", (int)(n > 3 ? n - 3 : 0), "");
}

static void terminal_size(size_t *cols, size_t *rows)
{
    struct winsize ws;
    *cols = 80;
    *rows = 24;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        *cols = ws.ws_col;
        *rows = ws.ws_row ? ws.ws_row : 24;
    } else if (getenv("COLUMNS")) {
        long c = strtol(getenv("COLUMNS"), NULL, 10);
        *cols = c > 10 ? (size_t)c : 80;
    }
}

static void human_bytes(uint64_t n, char *out, size_t size)
{
    if (n < 1024)
        snprintf(out, size, "%llu B", (unsigned long long)n);
    else if (n < 1024 * 1024)
        snprintf(out, size, "%.1f KiB", (double)n / 1024);
    else if (n < 1024ULL * 1024 * 1024)
        snprintf(out, size, "%.1f MiB", (double)n / (1024.0 * 1024));
    else
        snprintf(out, size, "%.2f GiB", (double)n / (1024.0 * 1024 * 1024));
}

/* The pager for a result taller than the terminal: $PAGER ("" turns paging off), else
 * less when it is installed. */
static FILE *open_pager(void)
{
    const char *pager = getenv("PAGER");
    if (pager && !*pager)
        return NULL;
    if (!pager) {
        if (access("/usr/bin/less", X_OK) != 0 && access("/bin/less", X_OK) != 0)
            return NULL;
        pager = "less -FRSX";
    }
    fflush(stdout);
    return popen(pager, "w");
}

static void show(const struct fin_result *res, enum fin_result_format format, bool format_set)
{
    size_t cols, rows;
    terminal_size(&cols, &rows);
    if (fin_result_columns(res) == 0) {
        printf("OK\n");
    } else if (format_set && format != FIN_RESULT_TABLE) {
        fin_result_write(res, format, stdout);
    } else {
        FILE *pager = fin_result_rows(res) + 4 > rows ? open_pager() : NULL;
        /* a pager that ends early (q in less) must not end the shell */
        void (*old)(int) = signal(SIGPIPE, SIG_IGN);
        fin_result_write_table(res, cols, pager ? pager : stdout);
        if (pager)
            pclose(pager);
        signal(SIGPIPE, old);
    }
    char scanned[32];
    human_bytes(fin_result_bytes_scanned(res), scanned, sizeof scanned);
    printf("%.3f s, %s scanned\n\n", fin_result_seconds(res), scanned);
    fflush(stdout);
}

/* Runs every statement of text; errors are printed and the shell goes on. */
static void run_text(struct fin_query *q, const char *text, enum fin_result_format format,
                     bool format_set)
{
    char **stmts = NULL;
    size_t n = 0;
    if (fin_query_split(text, &stmts, &n)) {
        fprintf(stderr, "%s\n", fin_err_msg());
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct fin_result *res = NULL;
        running = q;
        /* Ctrl-C pressed after Enter, before the statement began, cancels it too */
        if (interrupted)
            fin_query_interrupt(q);
        int rc = fin_query_exec(q, stmts[i], &res);
        running = NULL;
        if (rc) {
            fprintf(stderr, "%s\n\n", fin_err_msg());
            if (interrupted)
                break;   /* Ctrl-C stops the rest of the line too */
            continue;
        }
        show(res, format, format_set);
        fin_result_destroy(res);
    }
    fin_query_statements_free(stmts, n);
}

static bool is_quit(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strcspn(s, " \t\r\n;");
    return (n == 4 && (!strncmp(s, "quit", 4) || !strncmp(s, "exit", 4))) ||
           (n == 5 && (!strncmp(s, ".quit", 5) || !strncmp(s, ".exit", 5))) ||
           (n == 2 && !strncmp(s, "\\q", 2));
}

int fin_query_shell(struct fin_query *q, const char *data_dir, enum fin_result_format format,
                    bool format_set)
{
    struct sigaction sa, old_sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);   /* no SA_RESTART: a read at the prompt returns EINTR */
    sigaction(SIGINT, &sa, &old_sa);

    EditLine *el = el_init("finstream", stdin, stdout, stderr);
    History *hist = history_init();
    HistEvent ev;
    char *hist_path = fin_path_exists(data_dir) ? fin_path_join(data_dir, "query_history") : NULL;
    if (!el || !hist) {
        fprintf(stderr, "finstream query: cannot start line editing\n");
        if (el)
            el_end(el);
        if (hist)
            history_end(hist);
        free(hist_path);
        sigaction(SIGINT, &old_sa, NULL);
        return 1;
    }
    history(hist, &ev, H_SETSIZE, 1000);
    history(hist, &ev, H_SETUNIQUE, 1);
    if (hist_path)
        history(hist, &ev, H_LOAD, hist_path);
    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_HIST, history, hist);
    el_set(el, EL_PROMPT, prompt_fn);
    el_source(el, NULL);   /* the user's ~/.editrc */

    printf("finstream %s SQL shell (DuckDB %s). End statements with ';'. Ctrl-C cancels,\n"
           "Ctrl-D or quit leaves. SHOW TABLES; lists the tables, USE db; changes database.\n\n",
           FIN_VERSION, fin_query_engine_version());
    char *pending = NULL;
    size_t plen = 0;
    for (;;) {
        set_prompt(q, plen > 0);
        int count = 0;
        interrupted = 0;
        errno = 0;
        const char *line = el_gets(el, &count);
        if (!line || count <= 0) {
            if (interrupted || errno == EINTR) {
                /* Ctrl-C at the prompt: forget what was typed */
                printf("^C\n");
                free(pending);
                pending = NULL;
                plen = 0;
                continue;
            }
            printf("\n");
            break;   /* end of input */
        }
        if (plen == 0 && is_quit(line))
            break;
        size_t n = strlen(line);
        char *np = realloc(pending, plen + n + 1);
        if (!np)
            break;
        pending = np;
        memcpy(pending + plen, line, n + 1);
        plen += n;
        bool blank = strspn(pending, " \t\r\n") == plen;
        if (blank) {
            plen = 0;
            continue;
        }
        if (!fin_query_complete(pending))
            continue;
        /* one history entry per statement, on one line */
        char *entry = strdup(pending);
        if (entry) {
            for (char *p = entry; *p; p++)
                if (*p == '\n' || *p == '\r')
                    *p = ' ';
            history(hist, &ev, H_ENTER, entry);
            if (hist_path)
                history(hist, &ev, H_SAVE, hist_path);
            free(entry);
        }
        run_text(q, pending, format, format_set);
        plen = 0;
    }
    free(pending);
    if (hist_path)
        history(hist, &ev, H_SAVE, hist_path);
    free(hist_path);
    history_end(hist);
    el_end(el);
    sigaction(SIGINT, &old_sa, NULL);
    return 0;
}
