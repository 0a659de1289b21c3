/* cmd_serve.c - finstream serve: the Kinesis Data Streams API over HTTP.
 *
 * Settings come from [serve] in finstream.ini, then the command line. Runs the service
 * and its HTTP front end until SIGINT or SIGTERM, then stops taking requests, lets the
 * ones in flight finish and closes every stream writer (which syncs and marks a clean
 * shutdown). The signals are blocked in every thread and taken here with sigwait, so
 * no handler runs inside the server's threads. */
#include "cli.h"
#include "finstream/console.h"
#include "finstream/error.h"
#include "finstream/log.h"
#include "finstream/serve.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: finstream serve [--listen ADDR:PORT] [--threads N] [--max-body SIZE]\n"
            "                       [--max-connections N] [--max-per-client N]\n"
            "                       [--timeout DUR] [--request-timeout DUR] [--status-delay DUR]\n"
            "                       [--shard-limit N] [--summary-every DUR] [--insecure]\n"
            "                       [--console ADDR:PORT]\n"
            "\n"
            "Serves the Kinesis Data Streams, Firehose and Lambda APIs (AWS JSON 1.1 and CBOR)\n"
            "over the streams and delivery streams of the data directory, so AWS SDKs and\n"
            "the AWS CLI work against finstream with only --endpoint-url changed. serve holds\n"
            "the writer of every stream it serves.\n"
            "\n"
            "Settings, from [serve] in finstream.ini, each also an option (--max-body, ...):\n");
    fin_opts_print_help(fin_serve_opts, out);
    fprintf(out,
            "  --insecure   listen on a non-loopback address although no access keys are\n"
            "               configured (anyone who reaches it can write every stream)\n"
            "\n"
            "  --console ADDR:PORT  also run the web console there, on its own listener\n"
            "               (see 'finstream console --help'); it reshards through serve's writers\n"
            "\n"
            "GET /health answers ok; GET /metrics gives Prometheus text. SIGINT or SIGTERM\n"
            "stops the server cleanly. The bound address is printed on stdout as\n"
            "'listening on ADDR:PORT'. On stderr: one event per delivery flush, and every\n"
            "summary_every a summary (requests, records and bytes in and out, Firehose records,\n"
            "lag_ms of the last GetRecords); --log-format json gives them as JSON lines.\n");
}

static int with_serve_writer(void *ctx, const char *stream, fin_console_stream_fn fn, void *fn_ctx)
{
    return fin_serve_with_stream(ctx, stream, fn, fn_ctx);
}

/* The console beside the APIs: its own listener, the same access keys, and serve's
 * stream writers for resharding. */
static int start_console(struct fin_console **out, struct fin_serve *svc, struct fin_cli *cli,
                         const struct fin_serve_settings *set, const char *listen, bool insecure)
{
    struct fin_console_config cfg;
    fin_console_config_defaults(&cfg);
    cfg.data_dir = cli->data_dir;
    cfg.config_path = cli->config;
    cfg.listen = listen;
    cfg.access_keys = set->access_keys;
    cfg.insecure = insecure;
    cfg.with_writer = with_serve_writer;
    cfg.writer_ctx = svc;
    int rc = fin_console_start(out, &cfg);
    if (rc) {
        fin_log_err(rc, "serve --console");
        return rc;
    }
    fin_console_print_address(*out, listen);
    return 0;
}

int fin_cmd_serve(struct fin_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'},
        {"max-body", required_argument, NULL, 'b'},
        {"max-connections", required_argument, NULL, 'c'},
        {"max-per-client", required_argument, NULL, 'p'},
        {"timeout", required_argument, NULL, 'o'},
        {"request-timeout", required_argument, NULL, 'r'},
        {"status-delay", required_argument, NULL, 'd'},
        {"shard-limit", required_argument, NULL, 's'},
        {"summary-every", required_argument, NULL, 'S'},
        {"insecure", no_argument, NULL, 'i'},
        {"console", required_argument, NULL, 'C'},
        {NULL, 0, NULL, 0},
    };
    if (fin_cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    struct fin_serve_settings set;
    int rc = fin_serve_settings_load(&set, cli->config);
    if (rc) {
        fprintf(stderr, "finstream serve: %s\n", fin_err_msg());
        fin_serve_settings_fini(&set);
        return 2;
    }
    bool insecure = false;
    const char *console_at = NULL;
    int c, idx;
    while ((c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
        if (c == 'i') {
            insecure = true;
            continue;
        }
        if (c == 'C') {
            console_at = optarg;
            continue;
        }
        if (c == '?' || c == ':') {
            fin_serve_settings_fini(&set);
            return fin_cli_usage_error("serve", "unknown option");
        }
        /* --max-body is the table's max_body, and so on */
        char key[32], where[48];
        snprintf(key, sizeof key, "%s", opts[idx].name);
        for (char *p = key; *p; p++)
            if (*p == '-')
                *p = '_';
        snprintf(where, sizeof where, "--%s", opts[idx].name);
        if (fin_opts_set(fin_serve_opts, &set, key, optarg, where)) {
            fprintf(stderr, "finstream serve: %s\n", fin_err_msg());
            fin_serve_settings_fini(&set);
            return 2;
        }
    }
    if (optind != argc) {
        fin_serve_settings_fini(&set);
        return fin_cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    }

    struct fin_serve_config scfg;
    struct fin_serve_http_config hcfg;
    fin_serve_config_defaults(&scfg);
    fin_serve_http_config_defaults(&hcfg);
    scfg.data_dir = cli->data_dir;
    scfg.config_path = cli->config;
    scfg.creating_ms = scfg.updating_ms = scfg.deleting_ms = set.status_delay_ms;
    scfg.shard_limit = set.shard_limit;
    scfg.access_keys = set.access_keys;
    scfg.region = set.region;
    scfg.account = set.account;
    hcfg.listen = set.listen;
    hcfg.threads = (unsigned)set.threads;
    hcfg.max_body = (size_t)set.max_body;
    hcfg.max_connections = (unsigned)set.max_connections;
    hcfg.max_per_client = (unsigned)set.max_per_client;
    hcfg.timeout_s = (unsigned)((set.timeout_ms + 999) / 1000);
    hcfg.request_timeout_s = (unsigned)(set.request_timeout_ms / 1000);
    hcfg.insecure = insecure;

    /* Blocked before any thread starts, so every thread inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct fin_serve *svc = NULL;
    struct fin_serve_http *http = NULL;
    struct fin_console *con = NULL;
    int status = 1;
    if ((rc = fin_serve_create(&svc, &scfg))) {
        fin_log_err(rc, "serve");
        goto done;
    }
    hcfg.have_keys = fin_serve_has_keys(svc);
    if ((rc = fin_serve_http_start(&http, svc, &hcfg))) {
        fin_log_err(rc, "serve");
        status = rc == FIN_EINVAL ? 2 : 1;
        goto done;
    }
    const char *colon = strrchr(hcfg.listen, ':');
    printf("listening on %.*s:%d\n", (int)(colon - hcfg.listen), hcfg.listen,
           fin_serve_http_port(http));
    fflush(stdout);
    if (console_at && (rc = start_console(&con, svc, cli, &set, console_at, insecure))) {
        status = rc == FIN_EINVAL ? 2 : 1;
        goto done;
    }
    fin_info("serve: data directory %s%s", cli->data_dir,
             hcfg.have_keys ? ", signed requests only" : "");
    /* Until SIGINT or SIGTERM; a summary of the totals every summary_every meanwhile. */
    int sig = -1;
    while (sig < 0) {
        struct timespec every = {(time_t)(set.summary_every_ms / 1000),
                                 (long)(set.summary_every_ms % 1000) * 1000000L};
        sig = sigtimedwait(&sigs, NULL, &every);
        if (sig < 0 && errno == EAGAIN)
            fin_serve_log_summary(svc);
        else if (sig < 0 && errno != EINTR)
            sig = SIGTERM;
    }
    fin_info("serve: %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    status = 0;
done:
    fin_console_stop(con);
    fin_serve_http_stop(http);
    fin_serve_destroy(svc);
    fin_serve_settings_fini(&set);
    return status;
}
