/* lag.c - how far a delivery stream is behind its source, as numbers (the console shows
 * them live; `finstream deliver --status` prints the same facts as text).
 *
 * The delivered position is state.json's checkpoint per shard; what lies beyond it in
 * the source stream is read (up to a cap, so a large backlog costs a bounded scan) for
 * its count, bytes and the arrival time of its oldest record. */
#include "internal.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"

#include <stdlib.h>
#include <string.h>

int fin_delivery_lag(const char *data_dir, const char *config_path, const char *name,
                     uint64_t cap, int64_t now_ms, struct fin_delivery_lag *out)
{
    memset(out, 0, sizeof *out);
    struct fin_delivery_settings set;
    int rc = fin_delivery_settings_load(&set, config_path, name);
    if (rc)
        return rc;
    struct fin_delivery_state st;
    memset(&st, 0, sizeof st);
    struct fin_stream *s = NULL;
    const char **ids = NULL;
    char *dir = NULL, *state_path = NULL;
    const char *stream_name = NULL;
    rc = FIN_ENOMEM;
    char *deliveries = fin_path_join(data_dir, "deliveries");
    char *ddir = deliveries ? fin_path_join(deliveries, name) : NULL;
    if (!ddir || !(state_path = fin_path_join(ddir, "state.json")))
        goto done;
    out->remote = strncmp(set.source, "kinesis:", 8) == 0;
    if (strcmp(set.source, "direct") == 0) {
        dir = strdup(ddir);
        stream_name = "direct";
    } else if (!out->remote) {
        dir = strdup(data_dir);
        stream_name = set.source + 7;
    }
    if (!out->remote && !dir)
        goto done;
    int n_shards = 0;
    out->source_found = !out->remote && fin_is_dir(dir) &&
                        fin_stream_open(&s, dir, stream_name, FIN_STREAM_READ, NULL) == 0;
    fin_err_clear();
    if (out->source_found) {
        n_shards = fin_stream_shard_count(s);
        if (!(ids = calloc((size_t)n_shards + 1, sizeof *ids)))
            goto done;
        for (int i = 0; i < n_shards; i++)
            ids[i] = fin_stream_shard_id(s, i);
    }
    if ((rc = fin_delivery_state_load(&st, state_path, ids, n_shards)))
        goto done;
    out->stats = st.stats;
    out->pending_ranges = st.n_pending;
    for (int i = 0; i < n_shards && !out->lag_capped; i++) {
        struct fin_delivery_shard_state *ss = fin_delivery_state_shard(&st, ids[i]);
        if (!ss) {
            rc = FIN_ENOMEM;
            goto done;
        }
        struct fin_backlog bl;
        if ((rc = fin_delivery_backlog(s, i, ss->seq, cap ? cap - out->lag_records : 0, &bl)))
            goto done;
        if (bl.oldest_ms >= 0 && (out->lag_ms == 0 || now_ms - bl.oldest_ms > out->lag_ms))
            out->lag_ms = now_ms - bl.oldest_ms > 0 ? now_ms - bl.oldest_ms : 1;
        out->lag_records += bl.records;
        out->lag_bytes += bl.bytes;
        out->lag_capped = bl.capped;
    }
done:
    fin_stream_close(s);
    fin_delivery_state_fini(&st);
    free(ids);
    free(dir);
    free(state_path);
    free(ddir);
    free(deliveries);
    fin_delivery_settings_fini(&set);
    return rc;
}
