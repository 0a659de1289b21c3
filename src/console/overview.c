/* overview.c - the sampler: a thread that takes a snapshot of the whole pipeline every
 * refresh period, for the overview page and its event stream.
 *
 * Streams stay open for reading between ticks, each shard with an iterator that follows
 * its tail, so records/s and bytes/s are the records that arrived since the last tick,
 * counted, not estimated. A tick reads at most TAIL_CAP records a shard; past that (a
 * stream taking more than that a second) the iterator jumps to the newest record and
 * the rate is shown as "at least". Delivery streams report their counters and their lag
 * behind their source (fin_delivery_lag, capped likewise); that lag's age is the
 * iterator age of the delivery as a consumer of its stream. Collectors come from
 * finstream.ini and their memory files under collectors/.
 *
 * The snapshot is one JSON text replaced under the console's mutex; each event stream
 * waits on the condition variable for a newer generation. */
#include "internal.h"

#include "finstream/config.h"
#include "finstream/delivery.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"
#include "finstream/stream.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define TAIL_CAP 200000
#define LAG_CAP 1000000
#define RATE_WINDOW_MS 5000    /* rates are averages over the last few seconds */
#define RATE_SLOTS 64

struct shard_tail {
    struct fin_iter *it;
    bool at_latest;            /* opened at LATEST (existed when sampling began) */
};

struct sstream_s {
    char *name;
    struct fin_stream *s;
    struct shard_tail *tails;
    int n_tails;
    bool seen;                 /* listed in this tick */
    double rec_s, bytes_s;
    struct { int64_t ms; double secs; uint64_t recs, bytes; } win[RATE_SLOTS];   /* ticks, a ring */
    unsigned win_n, win_head;
    bool capped;
    int64_t last_arrival_ms;
};

struct sampler_state {
    struct sstream_s *v;
    size_t n;
    int64_t last_ms;
};

static void sstream_close(struct sstream_s *x)
{
    for (int i = 0; i < x->n_tails; i++)
        fin_iter_close(x->tails[i].it);
    free(x->tails);
    fin_stream_close(x->s);
    free(x->name);
}

static struct sstream_s *find_stream(struct sampler_state *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->v[i].name, name) == 0)
            return &st->v[i];
    return NULL;
}

/* Adds a tick's counts to the ring and averages the ticks of the last RATE_WINDOW_MS. */
static void rate_update(struct sstream_s *x, int64_t now, double secs, uint64_t recs, uint64_t bytes)
{
    unsigned slot = (x->win_head + x->win_n) % RATE_SLOTS;
    if (x->win_n == RATE_SLOTS)
        x->win_head = (x->win_head + 1) % RATE_SLOTS;
    else
        x->win_n++;
    x->win[slot].ms = now;
    x->win[slot].recs = recs;
    x->win[slot].bytes = bytes;
    x->win[slot].secs = secs;   /* each tick counted what came since the one before */
    uint64_t r = 0, b = 0;
    double span = 0;
    for (unsigned k = 0; k < x->win_n; k++) {
        unsigned i = (x->win_head + x->win_n - 1 - k) % RATE_SLOTS;
        if (now - x->win[i].ms > RATE_WINDOW_MS)
            break;
        r += x->win[i].recs;
        b += x->win[i].bytes;
        span += x->win[i].secs;
    }
    x->rec_s = span > 0 ? (double)r / span : 0;
    x->bytes_s = span > 0 ? (double)b / span : 0;
}

/* Counts what arrived on every shard since the last tick. */
static void tail_stream(struct sstream_s *x, int64_t now, double secs, bool first)
{
    if (fin_stream_refresh(x->s)) {
        fin_err_clear();
        return;
    }
    int n = fin_stream_shard_count(x->s);
    if (n > x->n_tails) {
        struct shard_tail *t = realloc(x->tails, (size_t)n * sizeof *t);
        if (!t)
            return;
        memset(t + x->n_tails, 0, (size_t)(n - x->n_tails) * sizeof *t);
        x->tails = t;
        x->n_tails = n;
    }
    uint64_t recs = 0, bytes = 0;
    x->capped = false;
    for (int i = 0; i < n; i++) {
        struct shard_tail *t = &x->tails[i];
        if (!t->it) {
            /* shards there at the start count from now; children that appear later from
             * their beginning */
            if (fin_iter_open(&t->it, x->s, i, first ? FIN_ITER_LATEST : FIN_ITER_TRIM_HORIZON,
                              NULL, 0)) {
                fin_err_clear();
                t->it = NULL;
                continue;
            }
        }
        struct fin_record rec;
        int rc;
        uint64_t k = 0;
        while ((rc = fin_iter_next(t->it, &rec)) == 0) {
            recs++;
            bytes += rec.len;
            if (rec.arrival_ms > x->last_arrival_ms)
                x->last_arrival_ms = rec.arrival_ms;
            if (++k >= TAIL_CAP) {
                x->capped = true;
                fin_iter_close(t->it);
                t->it = NULL;
                if (fin_iter_open(&t->it, x->s, i, FIN_ITER_LATEST, NULL, 0))
                    t->it = NULL;
                break;
            }
        }
        if (rc && rc != FIN_EEND) {
            /* retention removed what the iterator was on: start again at the tail */
            fin_iter_close(t->it);
            t->it = NULL;
        }
        fin_err_clear();
    }
    if (secs > 0 && !first)
        rate_update(x, now, secs, recs, bytes);
}

static void sync_streams(struct fin_console *c, struct sampler_state *st, int64_t now, double secs)
{
    char **names = NULL;
    size_t n = 0;
    if (fin_stream_list(c->data_dir, &names, &n)) {
        fin_err_clear();
        n = 0;
    }
    for (size_t i = 0; i < st->n; i++)
        st->v[i].seen = false;
    for (size_t i = 0; i < n; i++) {
        struct sstream_s *x = find_stream(st, names[i]);
        bool first = false;
        if (!x) {
            struct sstream_s *v = realloc(st->v, (st->n + 1) * sizeof *v);
            if (!v)
                break;
            st->v = v;
            x = &v[st->n];
            memset(x, 0, sizeof *x);
            if (!(x->name = strdup(names[i])) ||
                fin_stream_open(&x->s, c->data_dir, names[i], FIN_STREAM_READ, NULL)) {
                fin_err_clear();
                free(x->name);
                continue;
            }
            st->n++;
            first = true;
        }
        x->seen = true;
        tail_stream(x, now, secs, first);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    size_t k = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (st->v[i].seen)
            st->v[k++] = st->v[i];
        else
            sstream_close(&st->v[i]);
    }
    st->n = k;
}

static json_t *stream_json(struct sstream_s *x)
{
    const struct fin_stream_config *cfg = fin_stream_get_config(x->s);
    int open = fin_stream_open_shard_count(x->s);
    json_t *o = json_pack("{s:s,s:i,s:i,s:f,s:f,s:b,s:I,s:[]}", "name", x->name, "open_shards",
                          open, "shards", fin_stream_shard_count(x->s), "records_per_s",
                          x->rec_s, "bytes_per_s", x->bytes_s, "rate_capped", x->capped,
                          "retention_hours", (json_int_t)(cfg->retention_ms / 3600000),
                          "consumers");
    if (o && x->last_arrival_ms) {
        char t[32];
        iso_time(x->last_arrival_ms, t);
        json_object_set_new(o, "last_arrival", json_string(t));
    }
    return o;
}

static json_t *deliveries_json(struct fin_console *c, json_t *streams, int64_t now)
{
    json_t *arr = json_array();
    char **names = NULL;
    size_t n = 0;
    if (!c->config_path || fin_delivery_list(c->config_path, &names, &n)) {
        fin_err_clear();
        n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        struct fin_delivery_settings set;
        json_t *o = json_pack("{s:s}", "name", names[i]);
        if (fin_delivery_settings_load(&set, c->config_path, names[i])) {
            json_object_set_new(o, "error", json_string(fin_err_msg()));
            fin_err_clear();
            json_array_append_new(arr, o);
            continue;
        }
        json_object_set_new(o, "source", json_string(set.source));
        json_object_set_new(o, "destination",
                            json_string(set.destination && *set.destination ? set.destination : "lake/"));
        json_object_set_new(o, "format", json_string(set.format == FIN_FORMAT_PARQUET ? "parquet"
                                                     : set.compression == FIN_COMPRESS_GZIP ? "json.gz"
                                                                                            : "json"));
        json_object_set_new(o, "buffer_size", json_integer(set.buffer_size));
        json_object_set_new(o, "buffer_interval_ms", json_integer(set.buffer_interval_ms));
        struct fin_delivery_lag lag;
        if (fin_delivery_lag(c->data_dir, c->config_path, names[i], LAG_CAP, now, &lag)) {
            json_object_set_new(o, "error", json_string(fin_err_msg()));
            fin_err_clear();
        } else {
            const struct fin_delivery_stats *s = &lag.stats;
            json_object_set_new(o, "records", json_integer((json_int_t)s->records));
            json_object_set_new(o, "objects", json_integer((json_int_t)s->objects));
            json_object_set_new(o, "bytes", json_integer((json_int_t)s->bytes));
            json_object_set_new(o, "error_records", json_integer((json_int_t)s->error_records));
            json_object_set_new(o, "error_objects", json_integer((json_int_t)s->error_objects));
            json_object_set_new(o, "replays", json_integer((json_int_t)s->replays));
            if (s->last_flush_ms) {
                char t[32];
                iso_time(s->last_flush_ms, t);
                json_object_set_new(o, "last_flush", json_string(t));
            }
            json_object_set_new(o, "source_found", json_boolean(lag.source_found));
            json_object_set_new(o, "lag_records", json_integer((json_int_t)lag.lag_records));
            json_object_set_new(o, "lag_bytes", json_integer((json_int_t)lag.lag_bytes));
            json_object_set_new(o, "lag_ms", json_integer(lag.lag_ms));
            json_object_set_new(o, "lag_capped", json_boolean(lag.lag_capped));
            /* what waits for the next object, against the buffering hints: the fuller
             * of size and time */
            double fill_size = set.buffer_size > 0 ? (double)lag.lag_bytes / (double)set.buffer_size : 0;
            double fill_time = set.buffer_interval_ms > 0 ? (double)lag.lag_ms / (double)set.buffer_interval_ms
                               : lag.lag_records ? 1 : 0;
            double fill = fill_size > fill_time ? fill_size : fill_time;
            json_object_set_new(o, "buffer_fill", json_real(fill > 1 ? 1 : fill));
            /* the delivery is a consumer of its stream: its iterator age */
            if (strncmp(set.source, "stream:", 7) == 0) {
                size_t k;
                json_t *sv;
                json_array_foreach(streams, k, sv)
                    if (strcmp(json_string_value(json_object_get(sv, "name")), set.source + 7) == 0)
                        json_array_append_new(json_object_get(sv, "consumers"),
                                              json_pack("{s:s,s:I,s:I}", "name", names[i],
                                                        "iterator_age_ms", (json_int_t)lag.lag_ms,
                                                        "lag_records", (json_int_t)lag.lag_records));
            }
        }
        fin_delivery_settings_fini(&set);
        json_array_append_new(arr, o);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return arr;
}

/* The newest memory file collectors/<name>@*.seen: the end of its last run. */
static int64_t collector_last_run(const char *data_dir, const char *name, char *to, size_t cap)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/collectors", data_dir);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int64_t best = 0;
    size_t nl = strlen(name);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (strncmp(e->d_name, name, nl) != 0 || e->d_name[nl] != '@' || l < 5 ||
            strcmp(e->d_name + l - 5, ".seen") != 0)
            continue;
        char path[4400];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &sb) == 0 && (int64_t)sb.st_mtime * 1000 > best) {
            best = (int64_t)sb.st_mtime * 1000;
            snprintf(to, cap, "%.*s", (int)(l - nl - 6), e->d_name + nl + 1);
        }
    }
    closedir(d);
    return best;
}

static json_t *collectors_json(struct fin_console *c)
{
    json_t *arr = json_array();
    struct fin_ini ini;
    memset(&ini, 0, sizeof ini);
    if (!c->config_path || fin_ini_load(&ini, c->config_path, true)) {
        fin_err_clear();
        return arr;
    }
    for (size_t i = 0; i < ini.n_sections; i++) {
        const struct fin_ini_section *s = &ini.sections[i];
        if (strcmp(s->type, "collector") != 0)
            continue;
        const char *every = fin_ini_get(s, "every");
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "name", s->name, "source",
                              fin_ini_get(s, "source") ? fin_ini_get(s, "source") : "sim",
                              "tickers", fin_ini_get(s, "tickers") ? fin_ini_get(s, "tickers") : "",
                              "interval", fin_ini_get(s, "interval") ? fin_ini_get(s, "interval") : "1m",
                              "to", fin_ini_get(s, "to") ? fin_ini_get(s, "to") : "",
                              "schedule", every && *every ? every : "once");
        char to[256] = "";
        int64_t last = collector_last_run(c->data_dir, s->name, to, sizeof to);
        if (o && last) {
            char t[32];
            iso_time(last, t);
            json_object_set_new(o, "last_run", json_string(t));
        }
        json_array_append_new(arr, o);
    }
    fin_ini_fini(&ini);
    return arr;
}

static char *take_snapshot(struct fin_console *c, struct sampler_state *st)
{
    int64_t now = now_ms_real();
    double secs = st->last_ms ? (double)(now - st->last_ms) / 1000.0 : 0;
    st->last_ms = now;
    sync_streams(c, st, now, secs);
    json_t *streams = json_array();
    for (size_t i = 0; i < st->n; i++)
        json_array_append_new(streams, stream_json(&st->v[i]));
    json_t *deliveries = deliveries_json(c, streams, now);
    char t[32];
    iso_time(now, t);
    json_t *v = json_pack("{s:s,s:I,s:o,s:o,s:o}", "time", t, "time_ms", (json_int_t)now,
                          "streams", streams, "deliveries", deliveries, "collectors",
                          collectors_json(c));
    if (v)  /* what a snapshot costs, for the curious and for benchmarks */
        json_object_set_new(v, "sample_ms", json_integer(now_ms_real() - now));
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    return text;
}

static void *sampler_main(void *arg)
{
    struct fin_console *c = arg;
    for (;;) {
        jobs_reinterrupt(c);
        char *snap = take_snapshot(c, c->ss);
        pthread_mutex_lock(&c->mu);
        if (snap) {
            free(c->snapshot);
            c->snapshot = snap;
            c->generation++;
            pthread_cond_broadcast(&c->cv);
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + (c->cfg.refresh_ms % 1000) * 1000000;
        until.tv_sec += c->cfg.refresh_ms / 1000 + ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        while (!c->stopping && pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
            ;
        bool stop = c->stopping;
        pthread_mutex_unlock(&c->mu);
        if (stop)
            break;
    }
    return NULL;
}

int sampler_start(struct fin_console *c)
{
    if (!(c->ss = calloc(1, sizeof *c->ss)))
        return FIN_ENOMEM;
    if (pthread_create(&c->sampler, NULL, sampler_main, c))
        return fin_err_set(FIN_ENOMEM, "console: cannot start the sampler thread");
    c->sampler_running = true;
    return 0;
}

void sampler_stop(struct fin_console *c)
{
    if (c->sampler_running) {
        pthread_mutex_lock(&c->mu);
        c->stopping = true;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->sampler, NULL);
        c->sampler_running = false;
    }
    if (c->ss) {
        for (size_t i = 0; i < c->ss->n; i++)
            sstream_close(&c->ss->v[i]);
        free(c->ss->v);
        free(c->ss);
        c->ss = NULL;
    }
}

char *sampler_wait(struct fin_console *c, uint64_t after, int64_t wait_ms, uint64_t *gen)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    int64_t ns = until.tv_nsec + (wait_ms % 1000) * 1000000;
    until.tv_sec += wait_ms / 1000 + ns / 1000000000;
    until.tv_nsec = ns % 1000000000;
    pthread_mutex_lock(&c->mu);
    while (!c->stopping && wait_ms > 0 && c->generation <= after &&
           pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
        ;
    char *out = c->stopping ? NULL : strdup(c->snapshot ? c->snapshot : "");
    *gen = c->generation;
    pthread_mutex_unlock(&c->mu);
    return out;
}

void api_overview(struct fin_console *c, const struct creq *q, struct cresp *r)
{
    (void)q;
    uint64_t gen;
    /* the first snapshot may still be in the making right after start */
    char *snap = sampler_wait(c, 0, 10000, &gen);
    if (!snap || !*snap) {
        free(snap);
        resp_error(r, 503, "starting", "the first snapshot is not ready yet");
        return;
    }
    r->status = 200;
    r->content_type = "application/json";
    fin_buf_puts(&r->body, snap);
    free(snap);
}
