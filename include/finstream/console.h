/* console.h - the web console: the pipeline live, the lake, the catalog, SQL with charts
 * and the reports, in a browser, served by finstream itself.
 *
 * A struct fin_console is an HTTP listener of its own (never the AWS API endpoint) that
 * serves one page application and the JSON API behind it (docs/console.md). The page's
 * scripts and the front-end libraries (CodeMirror, uPlot) are embedded in the binary
 * when the build finds them (scripts/web-assets.sh fetches them), so nothing is read
 * from the network or the disk at run time; without them the page says what is missing.
 *
 * The API reads the data directory through the same public calls the commands use
 * (stream, delivery, catalog, query, report). A sampler thread takes a snapshot of the
 * pipeline every refresh period and pushes it to every open page as a server-sent event.
 *
 * Access: loopback by default. When access keys are configured, every API request needs
 * a session (POST /api/login with a key pair or the token printed at start) or the token
 * as a bearer; every state-changing request from a session carries its CSRF token. */
#ifndef FINSTREAM_CONSOLE_H
#define FINSTREAM_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

struct fin_stream;

/* Runs fn(stream, fn_ctx) with a handle on the stream that may reshard it. */
typedef int (*fin_console_stream_fn)(struct fin_stream *s, void *fn_ctx);
typedef int (*fin_console_writer_fn)(void *ctx, const char *stream, fin_console_stream_fn fn,
                                     void *fn_ctx);

struct fin_console_config {
    const char *data_dir;        /* borrowed for the console's life */
    const char *config_path;     /* finstream.ini (deliveries, collectors); may be NULL */
    const char *listen;          /* "ADDR:PORT", default 127.0.0.1:8080; port 0: any free */
    /* "ID:SECRET" pairs separated by commas or spaces (as [serve] access_keys): when
     * given, the console asks for one of them or for the token. NULL or "": open. */
    const char *access_keys;
    bool insecure;               /* allow a non-loopback address without access keys */
    int64_t refresh_ms;          /* live updates period, default 1000 */
    unsigned max_connections;    /* default 64 (each open page holds one for its events) */
    /* Where resharding gets a writable stream: serve passes its own writers, so the
     * console beside it does not contend for the lock. NULL: the console opens the
     * stream for writing for the call (FIN_EBUSY while another process writes it). */
    fin_console_writer_fn with_writer;
    void *writer_ctx;
};

void fin_console_config_defaults(struct fin_console_config *cfg);

struct fin_console;

/* Starts the sampler and the listener. A non-loopback address without access keys is
 * refused (FIN_EINVAL) unless cfg->insecure. Stopped and freed by fin_console_stop(). */
int fin_console_start(struct fin_console **out, const struct fin_console_config *cfg);
/* The port actually bound (useful with port 0). */
int fin_console_port(const struct fin_console *c);
/* The access token (64 hex digits), fresh for each start; borrowed until stop. */
const char *fin_console_token(const struct fin_console *c);
/* True when the console asks for a key or the token. */
bool fin_console_login_required(const struct fin_console *c);
/* Stops the listener (open event streams end), cancels running queries, frees.
 * Accepts NULL. */
void fin_console_stop(struct fin_console *c);

#endif
