/* settings.c - the [serve] section of finstream.ini, declared once for parsing and
 * for `finstream serve --help`; command-line options override it. */
#include "internal.h"

#include "finstream/error.h"

#include <stddef.h>
#include <string.h>

#define O(f) offsetof(struct fin_serve_settings, f)
const struct fin_opt fin_serve_opts[] = {
    {"listen", FIN_OPT_STRING, "127.0.0.1:4567", O(listen), 0, 0, NULL,
     "ADDR:PORT to listen on; port 0 takes any free port"},
    {"threads", FIN_OPT_INT, "8", O(threads), 1, 256, NULL,
     "HTTP worker threads (each blocks while its puts are made durable)"},
    {"max_body", FIN_OPT_SIZE, "10MiB", O(max_body), 1024, 1LL << 30, NULL,
     "larger request bodies are refused with RequestEntityTooLargeException"},
    {"max_connections", FIN_OPT_INT, "512", O(max_connections), 1, 100000, NULL,
     "open connections in all"},
    {"max_per_client", FIN_OPT_INT, "64", O(max_per_client), 1, 100000, NULL,
     "open connections per client address"},
    {"timeout", FIN_OPT_SECONDS, "30s", O(timeout_ms), 1000, 86400000, NULL,
     "a connection idle (or trickling bytes that never make a request) this long is closed"},
    {"request_timeout", FIN_OPT_SECONDS, "30s", O(request_timeout_ms), 1000, 86400000, NULL,
     "a request must arrive whole, and its answer be taken, within this (slow senders are cut)"},
    {"status_delay", FIN_OPT_DURATION, "500ms", O(status_delay_ms), 0, 3600000, NULL,
     "how long streams say CREATING, UPDATING or DELETING"},
    {"access_keys", FIN_OPT_STRING, "", O(access_keys), 0, 0, NULL,
     "ID:SECRET pairs (comma separated); when set every request must be signed by one"},
    {"region", FIN_OPT_STRING, "us-east-1", O(region), 0, 0, NULL, "region in ARNs"},
    {"account", FIN_OPT_STRING, "000000000000", O(account), 0, 0, NULL,
     "12-digit account id in ARNs and messages"},
    {"shard_limit", FIN_OPT_INT, "500", O(shard_limit), 1, 1000000, NULL,
     "open shards allowed in all streams together (AWS's account quota)"},
    {"summary_every", FIN_OPT_SECONDS, "60s", O(summary_every_ms), 1000, 86400000, NULL,
     "how often a running serve logs a summary of its totals on stderr"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};
#undef O

int fin_serve_settings_load(struct fin_serve_settings *set, const char *config_path)
{
    memset(set, 0, sizeof *set);
    int rc = fin_opts_defaults(fin_serve_opts, set);
    if (rc || !config_path)
        return rc;
    struct fin_ini ini;
    if ((rc = fin_ini_load(&ini, config_path, true)))
        return rc;
    const struct fin_ini_section *sec = fin_ini_find(&ini, "serve", "");
    if (sec)
        rc = fin_opts_apply_section(fin_serve_opts, set, &ini, sec);
    fin_ini_fini(&ini);
    return rc;
}

void fin_serve_settings_fini(struct fin_serve_settings *set)
{
    if (set)
        fin_opts_fini(fin_serve_opts, set);
}
