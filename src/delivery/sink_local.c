/* sink_local.c - the lake as a local folder: keys are relative paths under a root.
 *
 * Nothing but finished objects may ever be visible under the root, so every object is
 * written in a temporary folder outside it (on the same file system), fsynced, and renamed
 * into place; rename is atomic, so a reader sees no object or the whole object. A rename
 * is durable only once the folder that holds it is fsynced, and a folder created for the
 * object only once its parent is: sync() does both for everything renamed since the last
 * call, once per folder, which is what the engine calls before it moves its checkpoint. */
#include "internal.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WRITE_PIECE (4 << 20)

struct sink_local {
    struct fin_sink base;
    char *root;
    char *tmp_dir;
    uint64_t tmp_seq;
    char **dirty;          /* folders to fsync at the next sync() */
    size_t n_dirty, cap_dirty;
};

int fin_fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fin_err_errno(errno, "cannot open", path);
    int rc = 0;
    if (fsync(fd) != 0)
        rc = fin_err_errno(errno, "cannot fsync", path);
    close(fd);
    return rc;
}

/* A key must stay under the root: the rule every prefix was checked against. */
static int check_key(const char *key)
{
    return fin_delivery_key_check(key);
}

static int mark_dirty(struct sink_local *s, const char *dir)
{
    for (size_t i = 0; i < s->n_dirty; i++)
        if (strcmp(s->dirty[i], dir) == 0)
            return 0;
    if (s->n_dirty == s->cap_dirty) {
        size_t nc = s->cap_dirty ? s->cap_dirty * 2 : 8;
        char **nd = realloc(s->dirty, nc * sizeof *nd);
        if (!nd)
            return FIN_ENOMEM;
        s->dirty = nd;
        s->cap_dirty = nc;
    }
    if (!(s->dirty[s->n_dirty] = strdup(dir)))
        return FIN_ENOMEM;
    s->n_dirty++;
    return 0;
}

/* Creates the folders of key's path under the root, marking each new one's parent dirty
 * so that the new entry itself becomes durable. */
static int make_parents(struct sink_local *s, const char *path)
{
    char *p = strdup(path);
    if (!p)
        return FIN_ENOMEM;
    int rc = 0;
    size_t rootlen = strlen(s->root);
    for (char *c = p + rootlen + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        if (mkdir(p, 0755) == 0) {
            char *slash = strrchr(p, '/');
            *slash = '\0';
            rc = mark_dirty(s, p);
            *slash = '/';
        } else if (errno != EEXIST) {
            rc = fin_err_errno(errno, "cannot create folder", p);
        }
        *c = '/';
        if (rc)
            break;
    }
    free(p);
    return rc;
}

static int place(struct sink_local *s, const char *key, const char *tmp)
{
    int rc = check_key(key);
    if (rc)
        return rc;
    char *dst = fin_path_join(s->root, key);
    if (!dst)
        return FIN_ENOMEM;
    rc = make_parents(s, dst);
    if (!rc && rename(tmp, dst) != 0)
        rc = errno == EXDEV
                 ? fin_err_set(FIN_EINVAL, "cannot rename %s to %s: the lake must be on the same "
                               "file system as the data directory", tmp, dst)
                 : fin_err_errno(errno, "cannot rename into place", dst);
    if (!rc) {
        char *slash = strrchr(dst, '/');
        *slash = '\0';
        rc = mark_dirty(s, dst);
    }
    free(dst);
    return rc;
}

static char *tmp_path(struct fin_sink *base, const char *ext)
{
    struct sink_local *s = (struct sink_local *)base;
    char name[128];
    snprintf(name, sizeof name, "obj-%ld-%llu%s", (long)getpid(),
             (unsigned long long)++s->tmp_seq, ext ? ext : "");
    return fin_path_join(s->tmp_dir, name);
}

static int local_put(struct fin_sink *base, const char *key, const struct iovec *iov, int n_iov)
{
    struct sink_local *s = (struct sink_local *)base;
    char *tmp = tmp_path(base, NULL);
    if (!tmp)
        return FIN_ENOMEM;
    int rc = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = fin_err_errno(errno, "cannot create", tmp);
        goto fail;
    }
    /* Written in pieces, each handed to the disk at once, so the device works while the
     * rest is still being copied and the final fdatasync has little left to wait for. */
    off_t done = 0, started = 0;
    for (int i = 0; i < n_iov && !rc; i++) {
        const char *p = iov[i].iov_base;
        size_t len = iov[i].iov_len;
        while (len) {
            ssize_t w = write(fd, p, len < WRITE_PIECE ? len : WRITE_PIECE);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                rc = fin_err_errno(errno, "cannot write", tmp);
                break;
            }
            p += w;
            len -= (size_t)w;
            done += w;
            if (done - started >= WRITE_PIECE) {
                sync_file_range(fd, started, done - started, SYNC_FILE_RANGE_WRITE);
                started = done;
            }
        }
    }
    if (!rc && fdatasync(fd) != 0)
        rc = fin_err_errno(errno, "cannot fsync", tmp);
    if (close(fd) != 0 && !rc)
        rc = fin_err_errno(errno, "cannot close", tmp);
    if (rc)
        goto fail;
    rc = place(s, key, tmp);
    if (rc)
        goto fail;
    free(tmp);
    return 0;
fail:
    unlink(tmp);
    free(tmp);
    return rc;
}

static int local_put_file(struct fin_sink *base, const char *key, const char *tmp_path)
{
    return place((struct sink_local *)base, key, tmp_path);
}

static int local_sync(struct fin_sink *base)
{
    struct sink_local *s = (struct sink_local *)base;
    int rc = 0;
    /* Deepest folders first is not needed: each folder's own entries are made durable by
     * its own fsync, and every new folder's parent is in the list too. */
    for (size_t i = 0; i < s->n_dirty; i++) {
        if (!rc)
            rc = fin_fsync_dir(s->dirty[i]);
        free(s->dirty[i]);
    }
    s->n_dirty = 0;
    return rc;
}

static void local_destroy(struct fin_sink *base)
{
    struct sink_local *s = (struct sink_local *)base;
    if (!s)
        return;
    for (size_t i = 0; i < s->n_dirty; i++)
        free(s->dirty[i]);
    free(s->dirty);
    free(s->root);
    free(s->tmp_dir);
    free(s);
}

static const struct fin_sink_ops local_ops = {local_put, local_put_file, local_sync, local_destroy};

int fin_sink_local_create(struct fin_sink **out, const char *root, const char *tmp_dir)
{
    *out = NULL;
    struct sink_local *s = calloc(1, sizeof *s);
    if (!s)
        return FIN_ENOMEM;
    s->base.ops = &local_ops;
    int rc = FIN_ENOMEM;
    if (!(s->root = strdup(root)) || !(s->tmp_dir = strdup(tmp_dir)))
        goto fail;
    size_t rl = strlen(s->root);
    while (rl > 1 && s->root[rl - 1] == '/')
        s->root[--rl] = '\0';
    if ((rc = fin_mkdir_p(s->root, 0755)) || (rc = fin_mkdir_p(s->tmp_dir, 0755)))
        goto fail;
    *out = &s->base;
    return 0;
fail:
    local_destroy(&s->base);
    return rc;
}
