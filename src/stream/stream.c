/* stream.c - streams as directories: create, list, delete, open and close, the writer
 * lock, the stored configuration, partition keys to shards, retention and consumer
 * checkpoints.
 *
 * <data_dir>/streams/<name>/
 *     stream.ini                 the configuration, so the stream opens without finstream.ini
 *     writer.lock                flock()ed by the one writer; holds its pid
 *     clean                      present only after a clean close: recovery may skip the scan
 *     shards                     the shard map, once the stream has been resharded (shardmap.c)
 *     shardId-000000000000/      segments <seq>.log and their indexes <seq>.idx
 *     consumers/<consumer>/shardId-000000000000   a checkpoint: the last finished sequence number */
#include "internal.h"

#include "finstream/collector.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"
#include "finstream/names.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- configuration ---- */

const struct fin_opt fin_stream_opts[] = {
    {"shards", FIN_OPT_INT, "1", offsetof(struct fin_stream_settings, shards), 1,
     FIN_STREAM_MAX_SHARDS, NULL, "shards: even hash-key ranges of the partition key"},
    {"retention", FIN_OPT_DURATION, "24h", offsetof(struct fin_stream_settings, retention_ms),
     1000, 365LL * 24 * 3600 * 1000, NULL, "whole segments older than this are deleted"},
    {"fsync", FIN_OPT_ENUM, "always", offsetof(struct fin_stream_settings, fsync), 0, 0,
     "always|interval|never", "when puts reach the disk"},
    {"fsync_interval", FIN_OPT_DURATION, "1s",
     offsetof(struct fin_stream_settings, fsync_interval_ms), 1, 3600 * 1000, NULL,
     "for fsync = interval: the longest time between fsyncs"},
    {"segment_size", FIN_OPT_SIZE, "64MiB", offsetof(struct fin_stream_settings, segment_size),
     1024, 1LL << 40, NULL, "a segment file rolls over past this size"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

void fin_stream_config_defaults(struct fin_stream_config *cfg)
{
    cfg->shards = 1;
    cfg->retention_ms = 24LL * 3600 * 1000;
    cfg->fsync = FIN_FSYNC_ALWAYS;
    cfg->fsync_interval_ms = 1000;
    cfg->segment_bytes = 64LL << 20;
}

void fin_stream_settings_to_config(const struct fin_stream_settings *set,
                                   struct fin_stream_config *cfg)
{
    cfg->shards = (int)set->shards;
    cfg->retention_ms = set->retention_ms;
    cfg->fsync = set->fsync;
    cfg->fsync_interval_ms = set->fsync_interval_ms;
    cfg->segment_bytes = set->segment_size;
}

void fin_stream_config_to_settings(const struct fin_stream_config *cfg,
                                   struct fin_stream_settings *set)
{
    set->shards = cfg->shards;
    set->retention_ms = cfg->retention_ms;
    set->fsync = cfg->fsync;
    set->fsync_interval_ms = cfg->fsync_interval_ms;
    set->segment_size = cfg->segment_bytes;
}

const char *fin_fsync_policy_name(int policy)
{
    switch (policy) {
    case FIN_FSYNC_ALWAYS: return "always";
    case FIN_FSYNC_INTERVAL: return "interval";
    case FIN_FSYNC_NEVER: return "never";
    }
    return "?";
}

int fin_stream_config_from_ini(const struct fin_ini *ini, const char *name,
                               struct fin_stream_config *cfg)
{
    struct fin_stream_settings set;
    int rc = fin_opts_defaults(fin_stream_opts, &set);
    if (rc)
        return rc;
    const struct fin_ini_section *sec = ini ? fin_ini_find(ini, "stream", name) : NULL;
    if (sec && (rc = fin_opts_apply_section(fin_stream_opts, &set, ini, sec)))
        return rc;
    fin_stream_settings_to_config(&set, cfg);
    return 0;
}

static int check_config(const struct fin_stream_config *c)
{
    if (c->shards < 1 || c->shards > FIN_STREAM_MAX_SHARDS)
        return fin_err_set(FIN_ELIMIT, "shards = %d: must be 1 to %d", c->shards,
                           FIN_STREAM_MAX_SHARDS);
    if (c->retention_ms < 1)
        return fin_err_set(FIN_EINVAL, "retention must be positive");
    if (c->fsync < FIN_FSYNC_ALWAYS || c->fsync > FIN_FSYNC_NEVER)
        return fin_err_set(FIN_EINVAL, "fsync policy %d is unknown", c->fsync);
    if (c->fsync_interval_ms < 1)
        return fin_err_set(FIN_EINVAL, "fsync_interval must be positive");
    if (c->segment_bytes < 1024)
        return fin_err_set(FIN_EINVAL, "segment_size must be at least 1KiB");
    return 0;
}

/* stream.ini holds the stream's settings and, in [meta], facts about the stream that
 * are not settings: when it was made and with how many shards. */
struct stream_meta {
    int64_t created, shards;
};

static const struct fin_opt meta_opts[] = {
    {"created", FIN_OPT_INT, NULL, offsetof(struct stream_meta, created), 0, INT64_MAX, NULL,
     "when the stream was created (Unix seconds)"},
    {"shards", FIN_OPT_INT, NULL, offsetof(struct stream_meta, shards), 1,
     FIN_STREAM_MAX_SHARDS, NULL, "how many shards the stream was created with"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

static const struct fin_ini_schema stream_ini_schema[] = {
    {"stream", fin_stream_opts, FIN_INI_NAMED, FIN_NAME_STREAM, NULL},
    {"meta", meta_opts, FIN_INI_UNNAMED, -1, NULL},
    {NULL, NULL, 0, 0, NULL},
};

static int shards_edited(const char *path, int line, const char *name, int shards,
                         const char *what)
{
    return fin_err_set(FIN_ECONFIG,
                       "%s:%d: [stream \"%s\"]: shards = %d, but %s: the shard count of an "
                       "existing stream is not changed by editing stream.ini (the keys would "
                       "silently move to other shards); put the old value back and reshard with "
                       "'finstream stream scale|split|merge'", path, line, name, shards, what);
}

/* The folders tell too (also for a stream made before [meta] kept its shard count): with
 * no shard map, the stream has shards 0 .. k-1; a higher-numbered folder holding records
 * is not the empty orphan a cut-short reshard leaves, so k was lowered. */
static int check_shard_folders(const char *dir, const char *path, int line, const char *name,
                               int k)
{
    char p[PATH_MAX], what[300];
    snprintf(p, sizeof p, "%s/%s", dir, SHARD_MAP_FILE);
    if (fin_path_exists(p))
        return 0;   /* resharded: the map is the truth, and this value is not read */
    for (int i = 0; i < k; i++) {
        snprintf(p, sizeof p, "%s/shardId-%012d", dir, i);
        if (!fin_is_dir(p)) {
            snprintf(what, sizeof what, "shardId-%012d does not exist", i);
            return shards_edited(path, line, name, k, what);
        }
    }
    DIR *d = opendir(dir);
    if (!d)
        return fin_err_errno(errno, "cannot list", dir);
    struct dirent *de;
    int rc = 0;
    while (!rc && (de = readdir(d))) {
        int num, len = 0;
        if (sscanf(de->d_name, "shardId-%12d%n", &num, &len) != 1 || len != 20 ||
            de->d_name[20] || num < k)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        DIR *sd = opendir(p);
        struct dirent *se;
        while (sd && !rc && (se = readdir(sd))) {
            struct stat st;
            char f[PATH_MAX + 256];
            size_t n = strlen(se->d_name);
            snprintf(f, sizeof f, "%s/%s", p, se->d_name);
            if (n > 4 && strcmp(se->d_name + n - 4, SEG_SUFFIX) == 0 && stat(f, &st) == 0 &&
                st.st_size > SEG_HDR) {
                snprintf(what, sizeof what, "%.40s holds records", de->d_name);
                rc = shards_edited(path, line, name, k, what);
            }
        }
        if (sd)
            closedir(sd);
    }
    closedir(d);
    return rc;
}

static int load_config(const char *dir, const char *name, struct fin_stream_config *cfg,
                       int64_t *created_s)
{
    char *path = fin_path_join(dir, "stream.ini");
    if (!path)
        return FIN_ENOMEM;
    struct fin_ini ini;
    struct stream_meta meta = {-1, 0};
    int rc = fin_ini_load(&ini, path, false);
    if (rc) {
        free(path);
        return rc;
    }
    const struct fin_ini_section *sec = fin_ini_find(&ini, "stream", name);
    const struct fin_ini_section *msec = fin_ini_find(&ini, "meta", "");
    if ((rc = fin_ini_check(&ini, stream_ini_schema)))
        goto out;
    for (size_t i = 0; i < ini.n_sections; i++)
        if (strcmp(ini.sections[i].type, "stream") == 0 && &ini.sections[i] != sec) {
            rc = fin_err_set(FIN_ECONFIG, "%s:%d: [stream \"%s\"] in the file of stream '%s'",
                             path, ini.sections[i].line, ini.sections[i].name, name);
            goto out;
        }
    if (!sec || !msec) {
        rc = fin_err_set(FIN_ECORRUPT, "%s: no [%s%s%s] section: not the file finstream "
                         "wrote; restore it", path, sec ? "meta" : "stream \"",
                         sec ? "" : name, sec ? "" : "\"");
        goto out;
    }
    if ((rc = fin_stream_config_from_ini(&ini, name, cfg)) ||
        (rc = fin_opts_apply_section(meta_opts, &meta, &ini, msec)))
        goto out;
    if (meta.created < 0) {
        rc = fin_err_set(FIN_ECORRUPT, "%s:%d: [meta] created is missing", path, msec->line);
        goto out;
    }
    *created_s = meta.created;
    int line = sec->line;
    for (size_t i = 0; i < sec->n_entries; i++)
        if (strcmp(sec->entries[i].key, "shards") == 0)
            line = sec->entries[i].line;
    if (meta.shards && meta.shards != cfg->shards) {
        char what[96];
        snprintf(what, sizeof what, "the stream was created with %lld",
                 (long long)meta.shards);
        rc = shards_edited(path, line, name, cfg->shards, what);
        goto out;
    }
    if ((rc = check_shard_folders(dir, path, line, name, cfg->shards)))
        goto out;
    rc = check_config(cfg);
out:
    fin_ini_fini(&ini);
    free(path);
    return rc;
}

/* ---- names and paths ---- */

static int stream_dir(const char *data_dir, const char *name, char **out)
{
    int rc = fin_check_name("stream", name, FIN_STREAM_MAX_NAME);
    if (rc)
        return rc;
    char *streams = fin_path_join(data_dir, "streams");
    *out = streams ? fin_path_join(streams, name) : NULL;
    free(streams);
    return *out ? 0 : FIN_ENOMEM;
}

/* ---- create, list, delete ---- */

int fin_stream_create(const char *data_dir, const char *name, const struct fin_stream_config *cfg)
{
    char *dir = NULL, *tmp = NULL, *streams = NULL;
    int rc;
    struct fin_stream_config def;
    if (!cfg) {
        fin_stream_config_defaults(&def);
        cfg = &def;
    }
    if ((rc = stream_dir(data_dir, name, &dir)) || (rc = check_config(cfg)))
        goto fail;
    if (fin_path_exists(dir)) {
        rc = fin_err_set(FIN_EEXIST, "stream '%s' already exists", name);
        goto fail;
    }
    streams = fin_path_join(data_dir, "streams");
    if (!streams || asprintf(&tmp, "%s/.%s.tmp.%ld", streams, name, (long)getpid()) < 0) {
        tmp = NULL;
        rc = FIN_ENOMEM;
        goto fail;
    }
    fin_remove_tree(tmp);
    if ((rc = fin_mkdir_p(tmp, 0755)))
        goto fail;
    /* Built under a temporary name and renamed, so a stream is there whole or not at all. */
    int64_t created = (int64_t)time(NULL);
    char text[1024];
    snprintf(text, sizeof text,
             "; the stream's own settings, read when it is opened\n"
             "[stream \"%s\"]\n"
             "shards = %d\n"
             "retention = %lldms\n"
             "fsync = %s\n"
             "fsync_interval = %lldms\n"
             "segment_size = %lld\n"
             "\n; facts, not settings: resharding is 'finstream stream scale|split|merge'\n"
             "[meta]\n"
             "created = %lld\n"
             "shards = %d\n",
             name, cfg->shards, (long long)cfg->retention_ms, fin_fsync_policy_name(cfg->fsync),
             (long long)cfg->fsync_interval_ms, (long long)cfg->segment_bytes,
             (long long)created, cfg->shards);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/stream.ini", tmp);
    if ((rc = fin_write_file_atomic(path, text, strlen(text))))
        goto fail;
    /* Each shard starts with an empty first segment, so readers can open an iterator
     * (and follow it) before any writer has run. */
    for (int i = 0; i < cfg->shards; i++) {
        char sdir[PATH_MAX], prefix[SEQ_PREFIX_LEN + 1], hdr[SEG_HDR];
        snprintf(sdir, sizeof sdir, "%s/shardId-%012d", tmp, i);
        if ((rc = fin_mkdir_p(sdir, 0755)))
            goto fail;
        seq_prefix(prefix, created, i);
        seg_path(path, sizeof path, sdir, prefix, 1, SEG_SUFFIX);
        seg_header(hdr, i, 1, created * 1000);
        if ((rc = fin_write_file_atomic(path, hdr, SEG_HDR)))
            goto fail;
    }
    if (rename(tmp, dir) != 0) {
        rc = errno == EEXIST || errno == ENOTEMPTY
                 ? fin_err_set(FIN_EEXIST, "stream '%s' already exists", name)
                 : fin_err_errno(errno, "cannot create", dir);
        goto fail;
    }
    rc = fin_fsync_dir(dir);
    free(tmp);
    tmp = NULL;
fail:
    if (tmp)
        fin_remove_tree(tmp);
    free(tmp);
    free(streams);
    free(dir);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int fin_stream_list(const char *data_dir, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    char *streams = fin_path_join(data_dir, "streams");
    if (!streams)
        return FIN_ENOMEM;
    DIR *d = opendir(streams);
    if (!d) {
        int e = errno;
        free(streams);
        return e == ENOENT ? 0 : fin_err_errno(e, "cannot list", data_dir);
    }
    char **v = NULL;
    size_t cnt = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s/stream.ini", streams, de->d_name);
        if (!fin_path_exists(path))
            continue;
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 8;
            char **nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = FIN_ENOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        if (!(v[cnt] = strdup(de->d_name))) {
            rc = FIN_ENOMEM;
            break;
        }
        cnt++;
    }
    closedir(d);
    free(streams);
    if (rc) {
        for (size_t i = 0; i < cnt; i++)
            free(v[i]);
        free(v);
        return rc;
    }
    if (cnt)
        qsort(v, cnt, sizeof *v, cmp_str);
    *names = v;
    *n = cnt;
    return 0;
}

/* Takes the writer lock of dir: flock() so it goes away with the process however it
 * ends; the pid inside is only for the message a second writer gets. */
static int take_lock(const char *dir, const char *name, int *fd_out)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/writer.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return fin_err_errno(errno, "cannot open", path);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t r = pread(fd, pid, sizeof pid - 1, 0);
        pid[r > 0 ? r : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(fd);
        if (e == EWOULDBLOCK)
            return fin_err_set(FIN_EBUSY, "stream '%s' is open for writing by process %s",
                               name, pid[0] ? pid : "(unknown)");
        return fin_err_errno(e, "cannot lock", path);
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        int rc = fin_err_errno(errno, "cannot write", path);
        close(fd);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

int fin_stream_delete(const char *data_dir, const char *name)
{
    char *dir = NULL;
    int fd = -1;
    int rc = stream_dir(data_dir, name, &dir);
    if (rc)
        goto fail;
    if (!fin_is_dir(dir)) {
        rc = fin_err_set(FIN_ENOENT, "stream '%s' does not exist", name);
        goto fail;
    }
    if ((rc = take_lock(dir, name, &fd)))
        goto fail;
    /* Renamed away first, so nothing can open a half-deleted stream. */
    char gone[PATH_MAX];
    snprintf(gone, sizeof gone, "%s/streams/.%s.deleted.%ld", data_dir, name, (long)getpid());
    if (rename(dir, gone) != 0) {
        rc = fin_err_errno(errno, "cannot delete", dir);
        goto fail;
    }
    rc = fin_remove_tree(gone);
fail:
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

/* ---- open and close ---- */

static void shard_fini(struct shard *sh)
{
    for (int b = 0; b < 2; b++)
        free(sh->buf[b].data);
    for (int i = 0; i < sh->n_sealed; i++)
        close(sh->sealed[i]);
    free(sh->idx);
    free(sh->dir);
    if (sh->mu_ready) {
        pthread_mutex_destroy(&sh->mu);
        pthread_cond_destroy(&sh->cv);
    }
}

static void stream_free(struct fin_stream *s)
{
    if (!s)
        return;
    for (int i = 0; s->shards && i < s->nshards; i++)
        shard_fini(&s->shards[i]);
    free(s->shards);
    free(s->open);
    if (s->map_lock_ready)
        pthread_rwlock_destroy(&s->map_lock);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s->data_dir);
    free(s->name);
    free(s->dir);
    free(s);
}

int fin_stream_open_io(struct fin_stream **out, const char *data_dir, const char *name, int mode,
                       const struct fin_clock *clock, const struct fin_io *io)
{
    *out = NULL;
    struct fin_stream *s = calloc(1, sizeof *s);
    if (!s)
        return FIN_ENOMEM;
    s->lock_fd = -1;
    s->mode = mode;
    s->clock = clock ? clock : fin_clock_real();
    s->io = io ? io : fin_io_real();
    int rc;
    if ((rc = stream_dir(data_dir, name, &s->dir)))
        goto fail;
    if (!(s->data_dir = strdup(data_dir)) || !(s->name = strdup(name))) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    if (!fin_is_dir(s->dir)) {
        rc = fin_err_set(FIN_ENOENT, "stream '%s' does not exist (no %s)", name, s->dir);
        goto fail;
    }
    if ((rc = load_config(s->dir, name, &s->cfg, &s->created_s)))
        goto fail;
    /* Room for every shard the stream may ever have at once, so that resharding never
     * moves a shard another thread is using; untouched entries cost no memory. */
    if (!(s->shards = calloc(FIN_STREAM_MAX_SHARDS, sizeof *s->shards)) ||
        !(s->open = calloc(FIN_STREAM_MAX_SHARDS, sizeof *s->open))) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    /* A reshard must not starve behind a steady flow of puts. */
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->map_lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    s->map_lock_ready = true;
    if (mode == FIN_STREAM_WRITE) {
        if ((rc = take_lock(s->dir, name, &s->lock_fd)))
            goto fail;
    }
    /* The map is read under the writer lock, so no reshard can change it meanwhile. */
    if ((rc = shardmap_load(s)))
        goto fail;
    if (mode == FIN_STREAM_WRITE) {
        shardmap_remove_orphans(s);
        char clean[PATH_MAX];
        snprintf(clean, sizeof clean, "%s/clean", s->dir);
        bool was_clean = fin_path_exists(clean);
        /* The marker goes before the first append, so a crash from here on is never
         * mistaken for a clean shutdown. */
        if (was_clean && (unlink(clean) != 0 || (rc = fin_fsync_dir(s->dir)))) {
            if (!rc)
                rc = fin_err_errno(errno, "cannot remove", clean);
            goto fail;
        }
        for (int i = 0; i < s->nshards; i++) {
            struct shard *sh = &s->shards[i];
            if (sh->closed)
                continue;   /* sealed and synced when it was closed */
            if ((rc = shard_open_writer(sh, was_clean)))
                goto fail;
            sh->last_sync_ns = fin_mono_ns(s->clock);
        }
        if ((rc = fin_stream_apply_retention(s)))
            fin_warn("stream '%s': retention: %s", name, fin_err_msg());
        if ((rc = stream_thread_start(s)))
            goto fail;
    }
    *out = s;
    return 0;
fail:
    for (int i = 0; s->shards && i < s->nshards; i++)
        if (s->shards[i].fd >= 0)
            s->io->close(s->io->ctx, s->shards[i].fd);
    stream_free(s);
    return rc;
}

int fin_stream_open(struct fin_stream **out, const char *data_dir, const char *name, int mode,
                    const struct fin_clock *clock)
{
    return fin_stream_open_io(out, data_dir, name, mode, clock, NULL);
}

int fin_stream_open_or_create(struct fin_stream **out, const char *data_dir, const char *name,
                              const char *config_path, bool *created)
{
    if (created)
        *created = false;
    int rc = fin_stream_open(out, data_dir, name, FIN_STREAM_WRITE, NULL);
    if (rc != FIN_ENOENT)
        return rc;
    struct fin_ini ini;
    if ((rc = fin_ini_load(&ini, config_path, true)))
        return rc;
    struct fin_stream_config cfg;
    rc = fin_stream_config_from_ini(&ini, name, &cfg);
    fin_ini_fini(&ini);
    if (rc)
        return rc;
    rc = fin_stream_create(data_dir, name, &cfg);
    if (rc && rc != FIN_EEXIST)   /* another process may have just created it */
        return rc;
    if (!rc && created)
        *created = true;
    return fin_stream_open(out, data_dir, name, FIN_STREAM_WRITE, NULL);
}

void fin_stream_close(struct fin_stream *s)
{
    if (!s)
        return;
    if (s->mode == FIN_STREAM_WRITE) {
        stream_thread_stop(s);
        bool ok = true;
        for (int i = 0; i < s->nshards; i++)
            shard_close_writer(&s->shards[i], &ok);
        if (ok) {
            char clean[PATH_MAX];
            snprintf(clean, sizeof clean, "%s/clean", s->dir);
            if (fin_io_write_file_atomic(s->io, clean, "", 0))
                fin_warn("stream '%s': %s", s->name, fin_err_msg());
        }
    }
    stream_free(s);
}

int fin_stream_shard_count(const struct fin_stream *s) { return s->nshards; }

const char *fin_stream_shard_id(const struct fin_stream *s, int shard)
{
    return shard >= 0 && shard < s->nshards ? s->shards[shard].id : NULL;
}

const struct fin_stream_config *fin_stream_get_config(const struct fin_stream *s)
{
    return &s->cfg;
}

int fin_stream_shard_for_key(const struct fin_stream *s, const char *key, size_t key_len,
                             const char *explicit_hash_key)
{
    u128 h;
    if (explicit_hash_key) {
        if (hash_key_parse(explicit_hash_key, &h) != 0)
            return -1;
    } else {
        hash_key_md5(key, key_len, &h);
    }
    struct fin_stream *m = (struct fin_stream *)s;   /* the lock, not the stream, changes */
    pthread_rwlock_rdlock(&m->map_lock);
    int i = shardmap_route(s, h);
    pthread_rwlock_unlock(&m->map_lock);
    return i;
}

/* ---- puts ---- */

int fin_stream_put(struct fin_stream *s, const char *key, size_t key_len, const void *data,
                   size_t len, const char *explicit_hash_key, struct fin_put_result *res)
{
    struct fin_put_entry e = {key, key_len, data, len};
    if (explicit_hash_key) {
        u128 h;
        int rc = hash_key_parse(explicit_hash_key, &h);
        if (rc)
            return rc;
        return stream_put(s, &e, 1, &h, res);
    }
    return stream_put(s, &e, 1, NULL, res);
}

int fin_stream_put_batch(struct fin_stream *s, const struct fin_put_entry *entries, size_t n,
                         struct fin_put_result *res)
{
    return stream_put(s, entries, n, NULL, res);
}

int fin_stream_sync(struct fin_stream *s)
{
    if (s->mode != FIN_STREAM_WRITE)
        return 0;
    int rc = 0;
    pthread_rwlock_rdlock(&s->map_lock);
    for (int i = 0; i < s->nshards; i++) {
        struct shard *sh = &s->shards[i];
        if (sh->closed)
            continue;
        pthread_mutex_lock(&sh->mu);
        int r = shard_flush(sh, true);
        if (!r && sh->pending_err) {
            r = fin_err_set(sh->pending_err, "%s: an earlier background write failed", sh->id);
            sh->pending_err = 0;
        }
        pthread_mutex_unlock(&sh->mu);
        if (r && !rc)
            rc = r;
    }
    pthread_rwlock_unlock(&s->map_lock);
    return rc;
}

/* ---- retention ---- */

/* The last arrival time in a sealed segment, from its index or, failing that, a scan. */
static int segment_last_arrival(struct shard *sh, uint64_t first, int64_t *out)
{
    char path[PATH_MAX], ipath[PATH_MAX];
    seg_path(path, sizeof path, sh->dir, sh->prefix, first, SEG_SUFFIX);
    seg_path(ipath, sizeof ipath, sh->dir, sh->prefix, first, IDX_SUFFIX);
    struct stat st;
    if (stat(path, &st) != 0)
        return fin_err_errno(errno, "cannot stat", path);
    struct idx_file f;
    int rc = idx_read(ipath, &f);
    free(f.e);
    if (!rc && f.log_size == (uint64_t)st.st_size && f.last_counter) {
        *out = f.last_arrival;
        return 0;
    }
    struct seg_scan sc;
    if ((rc = seg_scan(path, sh->index, first, &sc)))
        return rc;
    *out = sc.last_arrival;
    seg_scan_fini(&sc);
    if (sc.records == 0) {
        /* An empty segment (a closed shard that never took a record) ages from when it
         * was made, so a closed shard stays listed for the retention period. */
        char hdr[SEG_HDR];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && pread(fd, hdr, SEG_HDR, 0) == SEG_HDR)
            *out = (int64_t)get_u64(hdr + 24);
        if (fd >= 0)
            close(fd);
    }
    return 0;
}

int fin_stream_set_retention(struct fin_stream *s, int64_t retention_ms)
{
    if (s->mode != FIN_STREAM_WRITE)
        return fin_err_set(FIN_EINVAL, "changing retention needs the stream open for writing");
    if (retention_ms < 1)
        return fin_err_set(FIN_EINVAL, "retention must be positive");
    /* stream.ini keeps every setting on a line of its own: replace the retention line. */
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/stream.ini", s->dir);
    char *text;
    size_t len;
    int rc = fin_read_file(path, &text, &len);
    if (rc)
        return rc;
    char *line = strstr(text, "\nretention = ");
    char *end = line ? strchr(line + 1, '\n') : NULL;
    if (!end) {
        free(text);
        return fin_err_set(FIN_ECORRUPT, "%s: no retention line", path);
    }
    char *out = NULL;
    if (asprintf(&out, "%.*s\nretention = %lldms%s", (int)(line - text), text,
                 (long long)retention_ms, end) < 0) {
        free(text);
        return FIN_ENOMEM;
    }
    rc = fin_write_file_atomic(path, out, strlen(out));
    free(out);
    free(text);
    if (!rc)
        __atomic_store_n(&s->cfg.retention_ms, retention_ms, __ATOMIC_RELEASE);
    return rc;
}

int fin_stream_apply_retention(struct fin_stream *s)
{
    if (s->mode != FIN_STREAM_WRITE)
        return fin_err_set(FIN_EINVAL, "retention needs the stream open for writing");
    int64_t cutoff = fin_now_ns(s->clock) / FIN_NS_PER_MS -
                     __atomic_load_n(&s->cfg.retention_ms, __ATOMIC_ACQUIRE);
    int rc = 0;
    int nshards = __atomic_load_n(&s->nshards, __ATOMIC_ACQUIRE);
    for (int i = 0; i < nshards && !rc; i++) {
        struct shard *sh = &s->shards[i];
        if (sh->gone)
            continue;
        uint64_t *firsts = NULL;
        size_t n = 0;
        if ((rc = seg_list(sh->dir, sh->prefix, &firsts, &n)))
            break;
        /* The newest segment of an open shard is the one being written: it always stays,
         * and with it the counter that keeps sequence numbers from being reused. A closed
         * shard takes no more records and its numbers are never reused: it may go whole,
         * and then it leaves the shard map as it leaves ListShards in Kinesis. */
        size_t keep = sh->closed ? 0 : 1, k = 0;
        for (; k + keep < n; k++) {
            int64_t last = 0;
            if ((rc = segment_last_arrival(sh, firsts[k], &last)))
                break;
            if (last >= cutoff)
                break;
            char path[PATH_MAX];
            seg_path(path, sizeof path, sh->dir, sh->prefix, firsts[k], IDX_SUFFIX);
            s->io->unlink(s->io->ctx, path);
            seg_path(path, sizeof path, sh->dir, sh->prefix, firsts[k], SEG_SUFFIX);
            if (s->io->unlink(s->io->ctx, path) != 0) {
                rc = fin_err_errno(errno, "cannot delete expired segment", path);
                break;
            }
            fin_debug("stream '%s' %s: retention deleted %s", s->name, sh->id, path);
        }
        free(firsts);
        if (!rc && sh->closed && k == n)
            rc = shardmap_drop(s, i);
    }
    return rc;
}

/* ---- checkpoints ---- */

static int checkpoint_path(struct fin_stream *s, const char *consumer, int shard, char *out,
                           size_t cap)
{
    int rc = fin_check_name("consumer", consumer, FIN_STREAM_MAX_NAME);
    if (rc)
        return rc;
    if (shard < 0 || shard >= s->nshards)
        return fin_err_set(FIN_EINVAL, "stream '%s' has no shard %d", s->name, shard);
    snprintf(out, cap, "%s/consumers/%s/%s", s->dir, consumer, s->shards[shard].id);
    return 0;
}

int fin_stream_checkpoint_save(struct fin_stream *s, const char *consumer, int shard,
                               const char *seq)
{
    char path[PATH_MAX];
    uint64_t c;
    int rc;
    if ((rc = checkpoint_path(s, consumer, shard, path, sizeof path)) ||
        (rc = seq_parse(seq, s->shards[shard].prefix, &c)))
        return rc;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/consumers/%s", s->dir, consumer);
    if ((rc = fin_mkdir_p(dir, 0755)))
        return rc;
    char line[FIN_SEQ_LEN + 2];
    snprintf(line, sizeof line, "%s\n", seq);
    return fin_io_write_file_atomic(s->io, path, line, FIN_SEQ_LEN + 1);
}

int fin_stream_checkpoint_load(struct fin_stream *s, const char *consumer, int shard,
                               char seq[FIN_SEQ_LEN + 1])
{
    char path[PATH_MAX];
    int rc = checkpoint_path(s, consumer, shard, path, sizeof path);
    if (rc)
        return rc;
    if (!fin_path_exists(path))
        return fin_err_set(FIN_ENOENT, "consumer '%s' has no checkpoint for %s", consumer,
                           s->shards[shard].id);
    char *text = NULL;
    size_t len = 0;
    if ((rc = fin_read_file(path, &text, &len)))
        return rc;
    text[strcspn(text, "\n")] = '\0';
    uint64_t c;
    if (seq_parse(text, s->shards[shard].prefix, &c) != 0)
        rc = fin_err_set(FIN_ECORRUPT, "%s: not a sequence number of this shard", path);
    else
        memcpy(seq, text, FIN_SEQ_LEN + 1);
    free(text);
    return rc;
}

/* ---- describe ---- */

int fin_stream_shard_info(struct fin_stream *s, int shard, struct fin_shard_info *info)
{
    if (shard < 0 || shard >= s->nshards)
        return fin_err_set(FIN_EINVAL, "stream '%s' has no shard %d", s->name, shard);
    struct shard *sh = &s->shards[shard];
    memset(info, 0, sizeof *info);
    memcpy(info->id, sh->id, sizeof info->id);
    hash_key_format(sh->start, info->hash_start);
    hash_key_format(sh->end, info->hash_end);
    shard_describe(sh, shard, &info->desc);
    if (s->mode == FIN_STREAM_WRITE && !sh->closed) {
        shard_flush_for_reader(sh);
    }
    uint64_t *firsts = NULL;
    size_t n = 0;
    int rc = seg_list(sh->dir, sh->prefix, &firsts, &n);
    if (rc)
        return rc;
    info->segments = n;
    info->empty = true;
    for (size_t k = 0; k < n; k++) {
        char path[PATH_MAX];
        seg_path(path, sizeof path, sh->dir, sh->prefix, firsts[k], SEG_SUFFIX);
        struct stat st;
        if (stat(path, &st) == 0)
            info->bytes += (uint64_t)st.st_size;
    }
    /* The oldest record: the first frame of the first segment that has one. */
    for (size_t k = 0; k < n && info->empty; k++) {
        char path[PATH_MAX];
        seg_path(path, sizeof path, sh->dir, sh->prefix, firsts[k], SEG_SUFFIX);
        char b[SEG_HDR + FRAME_HDR];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t r = pread(fd, b, sizeof b, 0);
        close(fd);
        if (r == (ssize_t)sizeof b) {
            info->empty = false;
            seq_format(info->first_seq, sh->prefix, get_u64(b + SEG_HDR + 8));
        }
    }
    /* The newest: a scan of the last segment that holds records. */
    for (size_t k = n; k-- > 0 && !info->empty;) {
        char path[PATH_MAX];
        seg_path(path, sizeof path, sh->dir, sh->prefix, firsts[k], SEG_SUFFIX);
        struct seg_scan sc;
        if (seg_scan(path, sh->index, firsts[k], &sc) != 0)
            continue;
        bool found = sc.records > 0;
        if (found)
            seq_format(info->last_seq, sh->prefix, sc.last_counter);
        seg_scan_fini(&sc);
        if (found)
            break;
    }
    free(firsts);
    return 0;
}

/* ---- the collector's sink ---- */

/* Records are copied into one buffer (the sink only borrows them for the call) and put
 * together: with fsync = always, one group commit per batch instead of one per record. */
struct stream_sink {
    struct fin_stream *s;
    char *bytes;
    size_t len, cap;
    struct fin_put_entry e[FIN_STREAM_SINK_BATCH];
    size_t key_off[FIN_STREAM_SINK_BATCH], data_off[FIN_STREAM_SINK_BATCH];
    size_t n;
};

static int sink_write(struct stream_sink *k)
{
    for (size_t i = 0; i < k->n; i++) {
        k->e[i].key = k->bytes + k->key_off[i];
        k->e[i].data = k->bytes + k->data_off[i];
    }
    int rc = k->n ? fin_stream_put_batch(k->s, k->e, k->n, NULL) : 0;
    k->n = 0;
    k->len = 0;
    return rc;
}

static int sink_put(void *ctx, const char *key, size_t key_len, const char *rec, size_t len)
{
    struct stream_sink *k = ctx;
    if (k->n == FIN_STREAM_SINK_BATCH || (k->len && k->len + key_len + len > (4u << 20))) {
        int rc = sink_write(k);
        if (rc)
            return rc;
    }
    if (k->len + key_len + len > k->cap) {
        size_t cap = k->cap ? k->cap : 64 * 1024;
        while (cap < k->len + key_len + len)
            cap *= 2;
        char *nb = realloc(k->bytes, cap);
        if (!nb)
            return FIN_ENOMEM;
        k->bytes = nb;
        k->cap = cap;
    }
    k->key_off[k->n] = k->len;
    memcpy(k->bytes + k->len, key, key_len);
    k->len += key_len;
    k->data_off[k->n] = k->len;
    memcpy(k->bytes + k->len, rec, len);
    k->len += len;
    k->e[k->n].key_len = key_len;
    k->e[k->n].len = len;
    k->n++;
    return 0;
}

static int sink_flush(void *ctx)
{
    struct stream_sink *k = ctx;
    int rc = sink_write(k);
    return rc ? rc : fin_stream_sync(k->s);
}

int fin_stream_sink_create(struct fin_record_sink *sink, struct fin_stream *s)
{
    struct stream_sink *k = calloc(1, sizeof *k);
    if (!k)
        return FIN_ENOMEM;
    k->s = s;
    sink->put = sink_put;
    sink->flush = sink_flush;
    sink->ctx = k;
    return 0;
}

void fin_stream_sink_destroy(struct fin_record_sink *sink)
{
    if (!sink || !sink->ctx)
        return;
    struct stream_sink *k = sink->ctx;
    free(k->bytes);
    free(k);
    sink->ctx = NULL;
}
