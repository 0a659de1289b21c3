/* cmd_serve.c - finstream serve: the Kinesis Data Streams API over HTTP.
 *
 * Runs the service and its HTTP front end until SIGINT or SIGTERM, then stops taking
 * requests, lets the ones in flight finish and closes every stream writer (which
 * syncs and marks a clean shutdown). The signals are blocked in every thread and
 * taken here with sigwait, so no handler runs inside the server's threads. */
#include "cli.h"
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
            "usage: finstream serve [--listen ADDR:PORT] [--threads N] [--max-body BYTES]\n"
            "                       [--max-connections N] [--max-per-client N]\n"
            "                       [--timeout SECONDS] [--status-delay MS] [--insecure]\n"
            "\n"
            "Serves the Kinesis Data Streams API (AWS JSON 1.1) over the streams of the data\n"
            "directory, so AWS SDKs and the AWS CLI work against finstream with only\n"
            "--endpoint-url changed. serve holds the writer of every stream it serves.\n"
            "\n"
            "  --listen ADDR:PORT     default 127.0.0.1:4567 (port 0: any free port)\n"
            "  --threads N            HTTP worker threads (default 4)\n"
            "  --max-body BYTES       larger request bodies are refused (default 10485760)\n"
            "  --max-connections N    connections in all (default 512)\n"
            "  --max-per-client N     connections per client address (default 64)\n"
            "  --timeout SECONDS      idle or slow connections are closed (default 30)\n"
            "  --status-delay MS      how long streams say CREATING, UPDATING, DELETING\n"
            "                         (default 500)\n"
            "  --insecure             allow a non-loopback address without access keys\n"
            "\n"
            "GET /health answers ok; GET /metrics gives Prometheus text. SIGINT or SIGTERM\n"
            "stops the server cleanly. The bound address is printed on stdout as\n"
            "'listening on ADDR:PORT'.\n");
}

static int parse_num(const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < min || v > max)
        return -1;
    *out = v;
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
        {"status-delay", required_argument, NULL, 'd'},
        {"insecure", no_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    if (fin_cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    struct fin_serve_config scfg;
    struct fin_serve_http_config hcfg;
    fin_serve_config_defaults(&scfg);
    fin_serve_http_config_defaults(&hcfg);
    int c;
    long long v;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *bad = NULL;
        switch (c) {
        case 'l': hcfg.listen = optarg; break;
        case 't':
            if (parse_num(optarg, 1, 256, &v)) bad = "--threads";
            else hcfg.threads = (unsigned)v;
            break;
        case 'b':
            if (parse_num(optarg, 1024, 1LL << 30, &v)) bad = "--max-body";
            else hcfg.max_body = (size_t)v;
            break;
        case 'c':
            if (parse_num(optarg, 1, 100000, &v)) bad = "--max-connections";
            else hcfg.max_connections = (unsigned)v;
            break;
        case 'p':
            if (parse_num(optarg, 1, 100000, &v)) bad = "--max-per-client";
            else hcfg.max_per_client = (unsigned)v;
            break;
        case 'o':
            if (parse_num(optarg, 1, 86400, &v)) bad = "--timeout";
            else hcfg.timeout_s = (unsigned)v;
            break;
        case 'd':
            if (parse_num(optarg, 0, 3600000, &v)) bad = "--status-delay";
            else scfg.creating_ms = scfg.updating_ms = scfg.deleting_ms = v;
            break;
        case 'i': hcfg.insecure = true; break;
        default: return fin_cli_usage_error("serve", "unknown option");
        }
        if (bad)
            return fin_cli_usage_error("serve", "bad value '%s' for %s", optarg, bad);
    }
    if (optind != argc)
        return fin_cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);

    /* Blocked before any thread starts, so every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    scfg.data_dir = cli->data_dir;
    scfg.config_path = cli->config;
    struct fin_serve *svc = NULL;
    struct fin_serve_http *http = NULL;
    int rc = fin_serve_create(&svc, &scfg);
    if (rc) {
        fin_log_err(rc, "serve");
        return 1;
    }
    if ((rc = fin_serve_http_start(&http, svc, &hcfg))) {
        fin_log_err(rc, "serve");
        fin_serve_destroy(svc);
        return rc == FIN_EINVAL ? 2 : 1;
    }
    char host[64];
    const char *colon = strrchr(hcfg.listen, ':');
    snprintf(host, sizeof host, "%.*s", (int)(colon - hcfg.listen), hcfg.listen);
    printf("listening on %s:%d\n", host, fin_serve_http_port(http));
    fflush(stdout);
    fin_info("serve: data directory %s", cli->data_dir);
    int sig = 0;
    sigwait(&set, &sig);
    fin_info("serve: %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    fin_serve_http_stop(http);
    fin_serve_destroy(svc);
    return 0;
}
