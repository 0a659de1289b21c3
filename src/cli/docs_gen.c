/* docs_gen.c - the man page and the bash completion, from what drives --help.
 *
 * Nothing here is written by hand a second time: the command list and its summaries,
 * the global options and the exit statuses are main.c's tables, and each command's
 * section is that command's own --help, captured by running it with stdout pointed at
 * a temporary file. Completion offers the commands, their sub-verbs (the "a | b | c"
 * words of a summary) and every --option a command's help mentions. The build runs
 * `finstream --man-page` and `finstream --bash-completion` and installs the results, so
 * they always match the binary. */
#include "cli.h"
#include "finstream/buf.h"

#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The command's --help text; owned by the caller (free); NULL when it cannot be had. */
static char *capture_help(const struct fin_cli_command *c)
{
    fflush(stdout);
    FILE *tmp = tmpfile();
    int saved = dup(STDOUT_FILENO);
    if (!tmp || saved < 0 || dup2(fileno(tmp), STDOUT_FILENO) < 0) {
        if (tmp)
            fclose(tmp);
        if (saved >= 0)
            close(saved);
        return NULL;
    }
    char *args[] = {(char *)c->name, "--help", NULL};
    struct fin_cli cli = {.data_dir = "./finstream-data", .config = "./finstream-data/finstream.ini"};
    optind = 1;
    c->fn(&cli, 2, args);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    long len = ftell(tmp);
    char *text = len >= 0 ? malloc((size_t)len + 1) : NULL;
    rewind(tmp);
    if (text) {
        size_t got = fread(text, 1, (size_t)len, tmp);
        text[got] = '\0';
    }
    fclose(tmp);
    return text;
}

/* roff: a backslash doubled, and a line starting with . or ' protected. */
static void roff_line(FILE *out, const char *s, size_t n)
{
    if (n && (s[0] == '.' || s[0] == '\''))
        fputs("\\&", out);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\')
            fputs("\\e", out);
        else if (s[i] == '-')
            fputs("\\-", out);
        else
            fputc(s[i], out);
    }
    fputc('\n', out);
}

static void roff_text(FILE *out, const char *s)
{
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        roff_line(out, s, n);
        s += n + (e ? 1 : 0);
    }
}

int fin_cli_print_man(FILE *out)
{
    fprintf(out, ".TH FINSTREAM 1 \"\" \"finstream %s\" \"User Commands\"\n", FIN_VERSION);
    fprintf(out, ".SH NAME\nfinstream \\- a streaming market\\-data pipeline in one binary\n");
    fprintf(out, ".SH SYNOPSIS\n.B finstream\n[\\fIglobal options\\fR] \\fIcommand\\fR [\\fIoptions\\fR]\n");
    fprintf(out, ".SH DESCRIPTION\n"
                 "Collector, stream (Kinesis semantics), delivery (Firehose semantics), lake,\n"
                 "crawler and catalog (Glue semantics), SQL (Athena semantics, DuckDB embedded)\n"
                 "and report, embedded in one program with no server and no cloud account.\n"
                 "Long work shows a progress line on a terminal (stderr).\n");
    fprintf(out, ".SH GLOBAL OPTIONS\nAccepted before or after the command.\n");
    for (const struct fin_cli_global *g = fin_cli_globals; g->name; g++) {
        fprintf(out, ".TP\n");
        if (g->shrt)
            fprintf(out, "\\fB\\-%c\\fR, ", g->shrt);
        fprintf(out, "\\fB\\-\\-%s\\fR", g->name);
        if (g->arg)
            fprintf(out, " \\fI%s\\fR", g->arg);
        fputc('\n', out);
        roff_text(out, g->help);
    }
    fprintf(out, ".SH COMMANDS\n");
    for (size_t i = 0; i < fin_cli_n_commands; i++) {
        const struct fin_cli_command *c = &fin_cli_commands[i];
        fprintf(out, ".SS %s\n", c->name);
        roff_text(out, c->summary);
        char *help = capture_help(c);
        if (help) {
            fprintf(out, ".PP\n.nf\n");
            roff_text(out, help);
            fprintf(out, ".fi\n");
        }
        free(help);
    }
    fprintf(out, ".SH EXIT STATUS\n");
    roff_text(out, fin_cli_exit_codes_text);
    fprintf(out, ".SH ENVIRONMENT\n.TP\n.B FINSTREAM_DATA_DIR\n"
                 "the data directory when \\-\\-data\\-dir is not given\n");
    fprintf(out, ".SH FILES\n.TP\n.I ./finstream\\-data/finstream.ini\n"
                 "the pipeline's settings, written by \\fBfinstream run\\fR on first use\n");
    return ferror(out) ? 1 : 0;
}

/* Appends each distinct --option of text to words (space separated). */
static void add_options(struct fin_buf *words, const char *text)
{
    for (const char *p = strstr(text, "--"); p; p = strstr(p + 2, "--")) {
        if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '-'))
            continue;
        const char *e = p + 2;
        while (isalnum((unsigned char)*e) || *e == '-')
            e++;
        if (e == p + 2 || !isalpha((unsigned char)p[2]))
            continue;
        char opt[64];
        snprintf(opt, sizeof opt, " %.*s ", (int)(e - p) < 60 ? (int)(e - p) : 60, p);
        struct fin_buf probe;
        fin_buf_init(&probe);
        fin_buf_printf(&probe, " %s ", fin_buf_cstr(words));
        bool seen = strstr(fin_buf_cstr(&probe), opt) != NULL;
        fin_buf_fini(&probe);
        if (!seen)
            fin_buf_printf(words, "%s%.*s", words->len ? " " : "", (int)(e - p), p);
    }
}

/* The sub-verbs of a summary "create | list | describe streams": the first word of each
 * "|"-separated part; nothing when the summary has no "|". */
static void add_verbs(struct fin_buf *words, const char *summary)
{
    if (!strstr(summary, " | "))
        return;
    const char *p = summary;
    for (;;) {
        while (*p == ' ' || *p == '|')
            p++;
        const char *e = p;
        while (*e && *e != ' ' && *e != '|')
            e++;
        if (e > p)
            fin_buf_printf(words, "%s%.*s", words->len ? " " : "", (int)(e - p), p);
        const char *bar = strchr(e, '|');
        if (!bar)
            break;
        p = bar;
    }
}

int fin_cli_print_bash_completion(FILE *out)
{
    struct fin_buf globals, cmds;
    fin_buf_init(&globals);
    fin_buf_init(&cmds);
    for (const struct fin_cli_global *g = fin_cli_globals; g->name; g++) {
        if (g->shrt)
            fin_buf_printf(&globals, "%s-%c", globals.len ? " " : "", g->shrt);
        fin_buf_printf(&globals, "%s--%s", globals.len ? " " : "", g->name);
    }
    for (size_t i = 0; i < fin_cli_n_commands; i++)
        fin_buf_printf(&cmds, "%s%s", cmds.len ? " " : "", fin_cli_commands[i].name);
    fprintf(out,
            "# bash completion for finstream %s, generated by `finstream --bash-completion`\n"
            "_finstream()\n"
            "{\n"
            "    local cur prev cmd i words_for\n"
            "    cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
            "    prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
            "    case \"$prev\" in\n"
            "        --data-dir|--out|--from|-f) COMPREPLY=( $(compgen -d -- \"$cur\") ); return ;;\n"
            "        --log-format) COMPREPLY=( $(compgen -W \"text json\" -- \"$cur\") ); return ;;\n"
            "        --format) COMPREPLY=( $(compgen -W \"text json table csv\" -- \"$cur\") ); return ;;\n"
            "    esac\n"
            "    cmd=\n"
            "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
            "        case \"${COMP_WORDS[i]}\" in\n"
            "            --data-dir|--log-format) ((i++)) ;;\n"
            "            -*) ;;\n"
            "            *) cmd=\"${COMP_WORDS[i]}\"; break ;;\n"
            "        esac\n"
            "    done\n"
            "    case \"$cmd\" in\n",
            FIN_VERSION);
    for (size_t i = 0; i < fin_cli_n_commands; i++) {
        const struct fin_cli_command *c = &fin_cli_commands[i];
        struct fin_buf words;
        fin_buf_init(&words);
        add_verbs(&words, c->summary);
        char *help = capture_help(c);
        if (help)
            add_options(&words, help);
        free(help);
        fprintf(out, "        %s) words_for=\"%s %s\" ;;\n", c->name, fin_buf_cstr(&words),
                fin_buf_cstr(&globals));
        fin_buf_fini(&words);
    }
    fprintf(out,
            "        *) words_for=\"%s %s\" ;;\n"
            "    esac\n"
            "    COMPREPLY=( $(compgen -W \"$words_for\" -- \"$cur\") )\n"
            "}\n"
            "complete -o default -F _finstream finstream\n",
            fin_buf_cstr(&cmds), fin_buf_cstr(&globals));
    fin_buf_fini(&globals);
    fin_buf_fini(&cmds);
    return ferror(out) ? 1 : 0;
}
