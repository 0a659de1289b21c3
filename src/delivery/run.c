/* run.c - running declared delivery streams: each one's source (a local stream, a remote
 * Kinesis stream, or its private stream for direct puts) and engine, the loop that follows
 * the sources until stopped (or until caught up, with --once), status, and direct put.
 *
 * A Kinesis source (source = kinesis:STREAM) is the Kinesis reader of aws_kinesis.h behind
 * delivery's source table: its shard ids and sequence numbers are Kinesis's and go into
 * state.json as a local stream's do, so the checkpoints and the exactly-once rules are the
 * same. It answers "nothing now" while a shard may not be called yet (5 GetRecords a
 * second), so --once asks it whether it is really caught up before it stops.
 *
 * Direct put: records handed to fin_delivery_put() are appended to a stream that belongs
 * to the delivery (<data_dir>/deliveries/<name>/streams/direct, one shard) and read from
 * there by the same engine as any stream. That costs one more write per record, and buys
 * the same guarantees as a stream source: a record is durable once the put (or, with the
 * interval fsync policy, the next sync) returns, and a crash between put and object is
 * repaired by the next `finstream deliver NAME` or fin_delivery_open(), which resumes
 * from the checkpoint. */
#include "internal.h"
#include "finstream/aws_kinesis.h"
#include "finstream/collector.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"
#include "finstream/progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct running {
    char *name;
    struct fin_delivery_settings set;
    struct fin_stream *stream;             /* a local source, or NULL */
    struct fin_kinesis_reader *kinesis;    /* a Kinesis source, or NULL */
    struct fin_delivery_source *src;
    struct fin_delivery_engine *e;
    struct fin_delivery_stats start;
};

static bool is_kinesis(const struct fin_delivery_settings *set)
{
    return strncmp(set->source, "kinesis:", 8) == 0;
}

/* The local stream a delivery reads: "stream:NAME" under data_dir, or its private one. */
static int source_location(const char *data_dir, const char *name,
                           const struct fin_delivery_settings *set, char **dir, const char **stream)
{
    if (strcmp(set->source, "direct") == 0) {
        char *deliveries = fin_path_join(data_dir, "deliveries");
        *dir = deliveries ? fin_path_join(deliveries, name) : NULL;
        free(deliveries);
        *stream = "direct";
    } else {
        *dir = strdup(data_dir);
        *stream = set->source + 7;
    }
    return *dir ? 0 : FIN_ENOMEM;
}

static int open_direct_stream(const char *dir, int mode, const struct fin_clock *clock,
                              struct fin_stream **out)
{
    struct fin_stream_config cfg;
    fin_stream_config_defaults(&cfg);
    cfg.shards = 1;
    /* The put path is one record at a time; fin_delivery_flush() syncs explicitly. */
    cfg.fsync = FIN_FSYNC_INTERVAL;
    int rc = fin_mkdir_p(dir, 0755);
    if (rc)
        return rc;
    rc = fin_stream_create(dir, "direct", &cfg);
    if (rc && rc != FIN_EEXIST)
        return rc;
    fin_err_clear();
    return fin_stream_open(out, dir, "direct", mode, clock);
}

/* The counters in deliveries/<name>/state.json (zero when there is none yet). */
static int load_stats(const char *data_dir, const char *name, struct fin_delivery_stats *out)
{
    char *deliveries = fin_path_join(data_dir, "deliveries");
    char *dir = deliveries ? fin_path_join(deliveries, name) : NULL;
    char *path = dir ? fin_path_join(dir, "state.json") : NULL;
    struct fin_delivery_state st;
    int rc = path ? fin_delivery_state_load(&st, path, NULL, 0) : FIN_ENOMEM;
    if (rc == 0) {
        *out = st.stats;
        fin_delivery_state_fini(&st);
    }
    free(path);
    free(dir);
    free(deliveries);
    return rc;
}

static void running_close(struct running *r)
{
    fin_delivery_engine_destroy(r->e);
    if (r->kinesis)
        fin_kinesis_delivery_source_destroy(r->src);
    else
        fin_delivery_stream_source_destroy(r->src);
    fin_kinesis_reader_destroy(r->kinesis);
    fin_stream_close(r->stream);
    fin_delivery_settings_fini(&r->set);
    free(r->name);
    memset(r, 0, sizeof *r);
}

static int running_open(struct running *r, const char *data_dir, const char *config_path,
                        const char *name, int mode, const struct fin_clock *clock)
{
    memset(r, 0, sizeof *r);
    char *dir = NULL;
    const char *stream;
    int rc = fin_delivery_settings_load(&r->set, config_path, name);
    if (rc)
        return rc;
    if (!(r->name = strdup(name))) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    if (is_kinesis(&r->set)) {
        /* A shard without a checkpoint starts at the oldest record Kinesis keeps, as a
         * local stream's does; the engine's seek resumes the others after theirs. */
        struct fin_aws_client_deps deps = {.clock = clock};
        rc = fin_kinesis_reader_create(&r->kinesis, r->set.aws_kinesis, &deps,
                                       r->set.source + 8, FIN_KINESIS_TRIM_HORIZON);
    } else {
        if ((rc = source_location(data_dir, name, &r->set, &dir, &stream)))
            goto fail;
        if (strcmp(r->set.source, "direct") == 0)
            rc = open_direct_stream(dir, mode, clock, &r->stream);
        else
            rc = fin_stream_open(&r->stream, dir, stream, FIN_STREAM_READ, clock);
    }
    if (rc) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", fin_err_msg());
        rc = fin_err_set(rc, "delivery %s: cannot open its source %s: %s", name, r->set.source,
                         msg[0] ? msg : fin_strerror(rc));
        goto fail;
    }
    if (r->kinesis)
        rc = fin_kinesis_delivery_source_create(&r->src, r->kinesis);
    else
        rc = fin_delivery_stream_source_create(&r->src, r->stream);
    if (rc)
        goto fail;
    /* The counters before the engine opens, so that a flush it rewrites on opening (one a
     * crash or a failing destination left unfinished) counts in this run. */
    bool have_start = load_stats(data_dir, name, &r->start) == 0;
    if ((rc = fin_delivery_engine_create(&r->e, data_dir, name, &r->set, r->src, clock)))
        goto fail;
    if (!have_start)
        r->start = *fin_delivery_engine_stats(r->e);
    free(dir);
    return 0;
fail:
    free(dir);
    running_close(r);
    return rc;
}

/* The source stream was split or merged: what is buffered goes out, and the delivery
 * opens again with the children among its shards (it reads them after their parents). */
static int reopen_resharded(struct running *r, const char *data_dir, const char *config_path,
                            const struct fin_clock *clock)
{
    int rc = fin_delivery_engine_flush(r->e);
    if (rc)
        return rc;
    struct fin_delivery_stats start = r->start;
    char *name = strdup(r->name);
    if (!name)
        return FIN_ENOMEM;
    running_close(r);
    rc = running_open(r, data_dir, config_path, name, FIN_STREAM_READ, clock);
    free(name);
    if (!rc)
        r->start = start;   /* the engine's counts are kept across runs; ours go on */
    return rc;
}

static void run_stats(const struct running *r, struct fin_delivery_stats *out)
{
    const struct fin_delivery_stats *s = fin_delivery_engine_stats(r->e);
    out->records = s->records - r->start.records;
    out->bytes = s->bytes - r->start.bytes;
    out->objects = s->objects - r->start.objects;
    out->error_records = s->error_records - r->start.error_records;
    out->error_objects = s->error_objects - r->start.error_objects;
    out->flushes = s->flushes - r->start.flushes;
    out->replays = s->replays - r->start.replays;
    out->last_flush_ms = s->last_flush_ms;
    memcpy(out->last_prefix, s->last_prefix, sizeof out->last_prefix);
}

int fin_delivery_run(const char *data_dir, const char *config_path, const char *const *names,
                     size_t n, const struct fin_delivery_run_opts *opts,
                     struct fin_delivery_stats *stats)
{
    char **listed = NULL;
    size_t n_all = 0;
    int rc = 0;
    bool all = n == 0;
    if (all) {
        if ((rc = fin_delivery_list(config_path, &listed, &n_all)))
            return rc;
        if (n_all == 0)
            return fin_err_set(FIN_ENOENT, "%s declares no [delivery \"NAME\"] section", config_path);
        names = (const char *const *)listed;
        n = n_all;
    }
    const struct fin_clock *clock = opts->clock ? opts->clock : fin_clock_real();
    int64_t poll_ns = (opts->poll_ms > 0 ? opts->poll_ms : 50) * FIN_NS_PER_MS;
    struct running *rs = calloc(n, sizeof *rs);
    if (!rs) {
        rc = FIN_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        rc = running_open(&rs[i], data_dir, config_path, names[i], FIN_STREAM_READ, clock);
        /* Running all of them: one that another process runs (a collector putting
         * directly, a second `finstream deliver NAME`) is its business; go on. */
        if (rc == FIN_EBUSY && all) {
            fin_warn("%s: skipped", fin_err_msg());
            rc = 0;
        }
        if (rc)
            goto done;
    }
    if (opts->once) {
        for (size_t i = 0; i < n; i++) {
            size_t got;
            if (!rs[i].e)
                continue;
            const struct fin_delivery_source *src = rs[i].src;
            for (;;) {
                if ((rc = fin_delivery_engine_pump(rs[i].e, 1 << 20, &got)))
                    goto done;
                fin_progress_add(got, 0);   /* the progress line on a terminal */
                if (opts->stop && *opts->stop)
                    break;
                if (got)
                    continue;
                /* Nothing now: a local source is at its end; a remote one may only have
                 * to wait until it may ask again. */
                bool at_end = true;
                for (int sh = 0; src->caught_up && sh < src->n_shards && at_end; sh++)
                    at_end = src->caught_up(src->ctx, sh);
                if (at_end)
                    break;
                clock->sleep_ns(clock->ctx, poll_ns);
            }
            if ((rc = fin_delivery_engine_flush(rs[i].e)))
                goto done;
        }
    } else {
        /* At least one pass: a stop that comes while starting still delivers what the
         * sources held then. A failing destination (full disk, permissions) is retried
         * with a doubling delay up to 30 s; the engine keeps the failed flush's records
         * and writes the same objects when it succeeds. */
        int64_t backoff_ms = 0;
        for (;;) {
            size_t any = 0;
            int failed = 0;
            for (size_t i = 0; i < n; i++) {
                size_t got = 0;
                if (!rs[i].e)
                    continue;
                uint64_t before = fin_delivery_engine_stats(rs[i].e)->flushes;
                if ((rc = fin_delivery_engine_pump(rs[i].e, 1 << 16, &got))) {
                    fin_log_err(rc, rs[i].name);
                    failed = rc;
                }
                any += got;
                if (opts->on_flush && fin_delivery_engine_stats(rs[i].e)->flushes != before)
                    opts->on_flush(opts->ctx, rs[i].name, fin_delivery_engine_stats(rs[i].e));
                /* A local stream that was resharded. (A Kinesis source reads the shards
                 * listed when it opened; children made later are read from the next start,
                 * after their parents.) */
                if (!failed && rs[i].stream &&
                    fin_stream_shard_count(rs[i].stream) != rs[i].src->n_shards &&
                    (rc = reopen_resharded(&rs[i], data_dir, config_path, clock)))
                    goto done;
            }
            if (opts->stop && *opts->stop)
                break;
            backoff_ms = failed ? (backoff_ms ? backoff_ms * 2 : 500) : 0;
            if (backoff_ms > 30000)
                backoff_ms = 30000;
            if (failed)
                fin_warn("delivery: retrying in %.1f s", (double)backoff_ms / 1000);
            int64_t wait_ns = failed ? backoff_ms * FIN_NS_PER_MS : any ? 0 : poll_ns;
            for (int64_t slept = 0; slept < wait_ns && !(opts->stop && *opts->stop); slept += poll_ns)
                clock->sleep_ns(clock->ctx, poll_ns);
        }
        rc = 0;
        for (size_t i = 0; i < n; i++) {
            int r = rs[i].e ? fin_delivery_engine_flush(rs[i].e) : 0;
            if (r) {
                fin_log_err(r, rs[i].name);
                rc = r;
            }
        }
        if (rc)
            goto done;
    }
done:
    for (size_t i = 0; rs && i < n; i++) {
        if (stats && rs[i].e)
            run_stats(&rs[i], &stats[i]);
        running_close(&rs[i]);
    }
    free(rs);
    for (size_t i = 0; i < n_all; i++)
        free(listed[i]);
    free(listed);
    return rc;
}

/* ---- status ---- */

static void human_bytes(char *out, size_t cap, uint64_t b)
{
    if (b < 1024)
        snprintf(out, cap, "%" PRIu64 " B", b);
    else if (b < 1024 * 1024)
        snprintf(out, cap, "%.1f KiB", (double)b / 1024);
    else if (b < 1024ULL * 1024 * 1024)
        snprintf(out, cap, "%.1f MiB", (double)b / 1048576);
    else
        snprintf(out, cap, "%.2f GiB", (double)b / 1073741824.0);
}

/* 3900 -> "3,900" into out (32 bytes) */
static void group(char out[32], uint64_t v)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, v);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            out[k++] = ',';
        out[k++] = digits[i];
    }
    out[k] = '\0';
}

static int status_one(const char *data_dir, const char *config_path, const char *name, FILE *out)
{
    struct fin_delivery_settings set;
    int rc = fin_delivery_settings_load(&set, config_path, name);
    if (rc)
        return rc;
    char *dir = NULL, *state_path = NULL, *deliveries = fin_path_join(data_dir, "deliveries");
    const char *stream_name;
    struct fin_stream *s = NULL;
    struct fin_delivery_state st;
    memset(&st, 0, sizeof st);
    const char **ids = NULL;
    char size[32];
    bool remote = is_kinesis(&set);
    if (!deliveries || (!remote && (rc = source_location(data_dir, name, &set, &dir, &stream_name)))) {
        rc = FIN_ENOMEM;
        goto done;
    }
    char *ddir = fin_path_join(deliveries, name);
    state_path = ddir ? fin_path_join(ddir, "state.json") : NULL;
    free(ddir);
    if (!state_path) {
        rc = FIN_ENOMEM;
        goto done;
    }
    human_bytes(size, sizeof size, (uint64_t)set.buffer_size);
    fprintf(out, "delivery %s\n  source       %s\n  destination  %s\n  format       %s%s\n"
                 "  buffering    %s or %" PRId64 " s\n",
            name, set.source, set.destination && *set.destination ? set.destination : "lake",
            set.format == FIN_FORMAT_PARQUET ? "parquet" : "json",
            set.format == FIN_FORMAT_JSON && set.compression == FIN_COMPRESS_GZIP ? ", gzip" : "",
            size, set.buffer_interval_ms / 1000);
    int n_shards = 0;
    bool have_stream = !remote && fin_is_dir(dir) &&
                       fin_stream_open(&s, dir, stream_name, FIN_STREAM_READ, NULL) == 0;
    if (have_stream) {
        n_shards = fin_stream_shard_count(s);
        if (!(ids = calloc((size_t)n_shards + 1, sizeof *ids))) {
            rc = FIN_ENOMEM;
            goto done;
        }
        for (int i = 0; i < n_shards; i++)
            ids[i] = fin_stream_shard_id(s, i);
    }
    if ((rc = fin_delivery_state_load(&st, state_path, ids, n_shards)))
        goto done;
    const struct fin_delivery_stats *x = &st.stats;
    human_bytes(size, sizeof size, x->bytes);
    char g[6][32];
    group(g[0], x->records);
    group(g[1], x->objects);
    group(g[2], x->error_records);
    group(g[3], x->error_objects);
    group(g[4], x->flushes);
    group(g[5], x->replays);
    fprintf(out, "  written      %s record%s in %s object%s, %s\n"
                 "  errors       %s record%s in %s object%s\n"
                 "  flushes      %s (%s rewritten after a restart)\n",
            g[0], x->records == 1 ? "" : "s", g[1], x->objects == 1 ? "" : "s", size,
            g[2], x->error_records == 1 ? "" : "s", g[3], x->error_objects == 1 ? "" : "s",
            g[4], g[5]);
    if (st.n_pending)
        fprintf(out, "  unfinished   a flush of %zu shard range(s); the next run rewrites it\n",
                st.n_pending);
    if (remote) {
        /* The lag of a remote stream would take a read of every shard; the checkpoints
         * are what is known here. */
        for (size_t i = 0; i < st.n_shards; i++)
            fprintf(out, "  %s  checkpoint %s\n", st.shards[i].shard_id,
                    st.shards[i].seq[0] ? st.shards[i].seq : "(none)");
        if (st.n_shards == 0)
            fprintf(out, "  nothing delivered from the stream yet\n");
        goto done;
    }
    if (!have_stream) {
        fprintf(out, "  source stream not found%s\n",
                strcmp(set.source, "direct") == 0 ? " (nothing put yet)" : "");
        goto done;
    }
    int64_t now_ms = fin_now_ns(fin_clock_real()) / FIN_NS_PER_MS;
    for (int i = 0; i < n_shards; i++) {
        struct fin_delivery_shard_state *ss = fin_delivery_state_shard(&st, ids[i]);
        if (!ss) {
            rc = FIN_ENOMEM;
            goto done;
        }
        if (ss->seq[0] && (rc = fin_stream_seq_check(s, i, ss->seq))) {
            /* A lag of 0 would hide that delivery cannot resume there. */
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", fin_err_msg());
            rc = fin_err_set(FIN_ECORRUPT, "%s: checkpoint for %s: %s", state_path, ids[i], msg);
            goto done;
        }
        struct fin_backlog bl;
        if ((rc = fin_delivery_backlog(s, i, ss->seq, 0, &bl)))
            goto done;
        uint64_t lag = bl.records;
        int64_t oldest = bl.oldest_ms;
        char lags[32];
        group(lags, lag);
        fprintf(out, "  %s  checkpoint %s  lag %s records, %.1f s\n", ids[i],
                ss->seq[0] ? ss->seq : "(none)", lags,
                oldest < 0 ? 0.0 : (double)(now_ms - oldest) / 1000.0);
    }
done:
    fin_stream_close(s);
    fin_delivery_state_fini(&st);
    free(ids);
    free(dir);
    free(state_path);
    free(deliveries);
    fin_delivery_settings_fini(&set);
    return rc;
}

int fin_delivery_status(const char *data_dir, const char *config_path, const char *const *names,
                        size_t n, FILE *out)
{
    char **all = NULL;
    size_t n_all = 0;
    int rc = 0;
    if (n == 0) {
        if ((rc = fin_delivery_list(config_path, &all, &n_all)))
            return rc;
        if (n_all == 0)
            fprintf(out, "no delivery streams declared in %s\n", config_path);
        names = (const char *const *)all;
        n = n_all;
    }
    for (size_t i = 0; i < n && !rc; i++)
        rc = status_one(data_dir, config_path, names[i], out);
    for (size_t i = 0; i < n_all; i++)
        free(all[i]);
    free(all);
    return rc;
}

/* ---- direct put ---- */

struct fin_delivery {
    struct running r;
    size_t unpumped;
};

int fin_delivery_open(struct fin_delivery **out, const char *data_dir, const char *name)
{
    *out = NULL;
    struct fin_delivery *d = calloc(1, sizeof *d);
    if (!d)
        return FIN_ENOMEM;
    char *config = fin_path_join(data_dir, "finstream.ini");
    struct fin_delivery_settings set;
    int rc = config ? fin_delivery_settings_load(&set, config, name) : FIN_ENOMEM;
    if (rc)
        goto fail;
    if (strcmp(set.source, "direct") != 0) {
        rc = fin_err_set(FIN_EINVAL, "delivery %s reads %s; direct put needs source = direct in "
                         "its [delivery \"%s\"] section", name, set.source, name);
        fin_delivery_settings_fini(&set);
        goto fail;
    }
    fin_delivery_settings_fini(&set);
    if ((rc = running_open(&d->r, data_dir, config, name, FIN_STREAM_WRITE, NULL)))
        goto fail;
    free(config);
    *out = d;
    return 0;
fail:
    free(config);
    free(d);
    return rc;
}

int fin_delivery_put(struct fin_delivery *d, const char *key, size_t key_len, const char *rec,
                     size_t len)
{
    int rc = fin_stream_put(d->r.stream, key, key_len, rec, len, NULL, NULL);
    if (rc)
        return rc;
    /* Hand records to the engine in batches; it reads them back from the stream. */
    if (++d->unpumped >= 256) {
        d->unpumped = 0;
        rc = fin_delivery_engine_pump(d->r.e, 0, NULL);
    }
    return rc;
}

int fin_delivery_flush(struct fin_delivery *d)
{
    int rc = fin_stream_sync(d->r.stream);
    size_t got;
    while (!rc && !(rc = fin_delivery_engine_pump(d->r.e, 0, &got)) && got)
        ;
    d->unpumped = 0;
    return rc ? rc : fin_delivery_engine_flush(d->r.e);
}

int fin_delivery_close(struct fin_delivery *d)
{
    if (!d)
        return 0;
    int rc = fin_delivery_flush(d);
    running_close(&d->r);
    free(d);
    return rc;
}

const struct fin_delivery_stats *fin_delivery_get_stats(const struct fin_delivery *d)
{
    return fin_delivery_engine_stats(d->r.e);
}

static int sink_put(void *ctx, const char *key, size_t key_len, const char *rec, size_t len)
{
    return fin_delivery_put(ctx, key, key_len, rec, len);
}

static int sink_flush(void *ctx) { return fin_delivery_flush(ctx); }

void fin_delivery_sink_init(struct fin_record_sink *sink, struct fin_delivery *d)
{
    sink->put = sink_put;
    sink->flush = sink_flush;
    sink->ctx = d;
}
