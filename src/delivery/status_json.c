/* status_json.c - `finstream deliver --status --format json`: the status of each delivery
 * stream as one JSON object per line, for scripts.
 *
 * The same facts fin_delivery_status prints for people (settings, counters from
 * state.json, per shard the checkpoint and the lag behind it in records and seconds),
 * with numbers as numbers and absent values as null:
 *
 *   {"delivery":"lake","source":"stream:stocks","destination":"lake","format":"json",
 *    "compression":"none","buffer_size":5242880,"buffer_interval_s":60,"records":3900,
 *    "objects":1,"bytes":454656,"error_records":0,"error_objects":0,"flushes":1,
 *    "replays":0,"unfinished":false,"shards":[{"shard":"shardId-000000000000",
 *    "checkpoint":"4900...","lag_records":0,"lag_s":0.0}]}
 *
 * A Kinesis source gives checkpoints without lag (counting it would read every shard);
 * a source stream that does not exist yet gives "shards":[] and "source_found":false. */
#include "internal.h"

#include "finstream/clock.h"
#include "finstream/delivery.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/stream.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int status_json_one(const char *data_dir, const char *config_path, const char *name,
                           FILE *out)
{
    struct fin_delivery_settings set;
    int rc = fin_delivery_settings_load(&set, config_path, name);
    if (rc)
        return rc;
    struct fin_stream *s = NULL;
    struct fin_delivery_state st;
    memset(&st, 0, sizeof st);
    const char **ids = NULL;
    char *dir = NULL, *state_path = NULL, *text = NULL;
    json_t *o = NULL, *shards = json_array();
    bool remote = strncmp(set.source, "kinesis:", 8) == 0;
    bool direct = strcmp(set.source, "direct") == 0;
    const char *stream_name = direct ? "direct" : set.source + 7;
    char rel[600];
    snprintf(rel, sizeof rel, "deliveries/%s", name);
    char *ddir = fin_path_join(data_dir, rel);
    state_path = ddir ? fin_path_join(ddir, "state.json") : NULL;
    dir = direct ? ddir : strdup(data_dir);
    if (!direct)
        free(ddir);
    if (!state_path || !dir || !shards) {
        rc = FIN_ENOMEM;
        goto done;
    }
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
    o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b}",
                  "delivery", name, "source", set.source, "destination",
                  set.destination && *set.destination ? set.destination : "lake",
                  "format", set.format == FIN_FORMAT_PARQUET ? "parquet" : "json",
                  "compression", set.compression == FIN_COMPRESS_GZIP ? "gzip" : "none",
                  "buffer_size", (json_int_t)set.buffer_size,
                  "buffer_interval_s", (json_int_t)(set.buffer_interval_ms / 1000),
                  "records", (json_int_t)x->records, "objects", (json_int_t)x->objects,
                  "bytes", (json_int_t)x->bytes, "error_records", (json_int_t)x->error_records,
                  "error_objects", (json_int_t)x->error_objects, "flushes", (json_int_t)x->flushes,
                  "replays", (json_int_t)x->replays, "unfinished", st.n_pending > 0);
    if (!o) {
        rc = FIN_ENOMEM;
        goto done;
    }
    json_object_set_new(o, "source_found", json_boolean(remote || have_stream));
    if (remote) {
        for (size_t i = 0; i < st.n_shards; i++)
            json_array_append_new(shards, json_pack("{s:s,s:s?}", "shard", st.shards[i].shard_id,
                                                    "checkpoint", st.shards[i].seq[0] ? st.shards[i].seq : NULL));
    }
    int64_t now_ms = fin_now_ns(fin_clock_real()) / FIN_NS_PER_MS;
    for (int i = 0; have_stream && i < n_shards; i++) {
        struct fin_delivery_shard_state *ss = fin_delivery_state_shard(&st, ids[i]);
        if (!ss) {
            rc = FIN_ENOMEM;
            goto done;
        }
        struct fin_backlog bl;
        if ((rc = fin_delivery_backlog(s, i, ss->seq, 0, &bl)))
            goto done;
        uint64_t lag = bl.records;
        int64_t oldest = bl.oldest_ms;
        json_array_append_new(shards, json_pack("{s:s,s:s?,s:I,s:f}", "shard", ids[i],
                                                "checkpoint", ss->seq[0] ? ss->seq : NULL,
                                                "lag_records", (json_int_t)lag,
                                                "lag_s", oldest < 0 ? 0.0 : (double)(now_ms - oldest) / 1000.0));
    }
    json_object_set(o, "shards", shards);
    text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text) {
        rc = FIN_ENOMEM;
        goto done;
    }
    fprintf(out, "%s\n", text);
done:
    free(text);
    json_decref(o);
    json_decref(shards);
    fin_stream_close(s);
    fin_delivery_state_fini(&st);
    free(ids);
    free(dir);
    free(state_path);
    fin_delivery_settings_fini(&set);
    return rc;
}

int fin_delivery_status_json(const char *data_dir, const char *config_path,
                             const char *const *names, size_t n, FILE *out)
{
    char **all = NULL;
    size_t n_all = 0;
    int rc = 0;
    if (n == 0) {
        if ((rc = fin_delivery_list(config_path, &all, &n_all)))
            return rc;
        names = (const char *const *)all;
        n = n_all;
    }
    for (size_t i = 0; i < n && !rc; i++)
        rc = status_json_one(data_dir, config_path, names[i], out);
    for (size_t i = 0; i < n_all; i++)
        free(all[i]);
    free(all);
    return rc;
}

int fin_delivery_totals(const char *data_dir, const char *name, struct fin_delivery_stats *out)
{
    memset(out, 0, sizeof *out);
    char rel[600];
    snprintf(rel, sizeof rel, "deliveries/%s/state.json", name);
    char *path = fin_path_join(data_dir, rel);
    if (!path)
        return FIN_ENOMEM;
    struct fin_delivery_state st;
    memset(&st, 0, sizeof st);
    int rc = fin_delivery_state_load(&st, path, NULL, 0);
    if (!rc)
        *out = st.stats;
    fin_delivery_state_fini(&st);
    free(path);
    return rc;
}
