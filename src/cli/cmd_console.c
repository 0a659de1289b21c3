/* cmd_console.c - finstream console: the web console over the data directory.
 *
 * Runs the console's listener until SIGINT or SIGTERM. Access keys come from [serve]
 * access_keys in finstream.ini (the same keys the AWS APIs check): when there are any,
 * the console asks for one of them or for the token printed at start. The signals are
 * taken with sigwait, as serve does. */
#include "cli.h"
#include "finstream/console.h"
#include "finstream/error.h"
#include "finstream/log.h"
#include "finstream/serve.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: finstream console [--listen ADDR:PORT] [--refresh DUR] [--insecure]\n"
            "\n"
            "Serves the web console over the data directory: the pipeline live (streams,\n"
            "delivery streams, collectors), each stream's shards and records, the lake,\n"
            "the catalog, an SQL editor with charts and history, and the reports. Open the\n"
            "printed address in a browser. Everything the page needs is inside finstream.\n"
            "\n"
            "  --listen ADDR:PORT  where to listen (default 127.0.0.1:8080; port 0: any free)\n"
            "  --refresh DUR       how often live views update (default 1s; 100ms to 60s)\n"
            "  --insecure          listen on a non-loopback address although no access keys\n"
            "                      are configured\n"
            "\n"
            "When [serve] access_keys is set in finstream.ini, the console asks for one of\n"
            "those keys or for the token it prints at start; scripts may send the token as\n"
            "'Authorization: Bearer TOKEN'. The JSON API is described in docs/console.md.\n"
            "'finstream serve --console ADDR:PORT' runs the console beside the AWS APIs.\n");
}

/* Parses "250ms", "1s", "2" (seconds) into milliseconds; -1 when malformed. */
static long long parse_refresh(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v <= 0)
        return -1;
    if (strcmp(end, "ms") == 0)
        return (long long)v;
    if (*end == 0 || strcmp(end, "s") == 0)
        return (long long)(v * 1000);
    return -1;
}

void fin_console_print_address(const struct fin_console *con, const char *listen)
{
    const char *colon = strrchr(listen, ':');
    int hl = colon ? (int)(colon - listen) : (int)strlen(listen);
    printf("console on http://%.*s:%d/\n", hl, listen, fin_console_port(con));
    if (fin_console_login_required(con))
        printf("console token %s\n", fin_console_token(con));
    fflush(stdout);
}

int fin_cmd_console(struct fin_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"refresh", required_argument, NULL, 'r'},
        {"insecure", no_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    if (fin_cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    struct fin_console_config cfg;
    fin_console_config_defaults(&cfg);
    cfg.data_dir = cli->data_dir;
    cfg.config_path = cli->config;
    int c, idx;
    while ((c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
        switch (c) {
        case 'l':
            cfg.listen = optarg;
            break;
        case 'r':
            cfg.refresh_ms = parse_refresh(optarg);
            if (cfg.refresh_ms < 100 || cfg.refresh_ms > 60000)
                return fin_cli_usage_error("console", "--refresh %s: expected 100ms to 60s", optarg);
            break;
        case 'i':
            cfg.insecure = true;
            break;
        default:
            return fin_cli_usage_error("console", "unknown option");
        }
    }
    if (optind != argc)
        return fin_cli_usage_error("console", "unexpected argument '%s'", argv[optind]);
    struct fin_serve_settings set;
    int rc = fin_serve_settings_load(&set, cli->config);
    if (rc) {
        fprintf(stderr, "finstream console: %s\n", fin_err_msg());
        fin_serve_settings_fini(&set);
        return 2;
    }
    cfg.access_keys = set.access_keys;

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct fin_console *con = NULL;
    int status = 1;
    if ((rc = fin_console_start(&con, &cfg))) {
        fin_log_err(rc, "console");
        status = rc == FIN_EINVAL ? 2 : 1;
        goto done;
    }
    fin_console_print_address(con, cfg.listen);
    fin_info("console: data directory %s%s", cli->data_dir,
             fin_console_login_required(con) ? ", asks for an access key or the token" : "");
    int sig = 0;
    sigwait(&sigs, &sig);
    fin_info("console: %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    status = 0;
done:
    fin_console_stop(con);
    fin_serve_settings_fini(&set);
    return status;
}
