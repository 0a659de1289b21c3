/* check.c - `finstream check`: verify every frame and index of a stream, and repair.
 *
 * The repair is the one recovery would not do on its own: cutting a segment at its last
 * good frame when the bad bytes are followed by more data. Cutting the newest segment
 * also starts a fresh one numbered past every byte that was cut, so no sequence number
 * that a reader may have seen is handed out again. Indexes are derived data: a missing,
 * stale or wrong one is rebuilt from the log. */
#include "internal.h"

#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static bool index_matches(const struct idx_file *f, const struct seg_scan *sc)
{
    if (f->log_size != sc->valid_end || f->n != sc->n_idx ||
        f->last_counter != sc->last_counter || f->last_arrival != sc->last_arrival)
        return false;
    for (size_t i = 0; i < f->n; i++)
        if (f->e[i].counter != sc->idx[i].counter || f->e[i].offset != sc->idx[i].offset ||
            f->e[i].arrival_ms != sc->idx[i].arrival_ms)
            return false;
    return true;
}

static int check_segment(struct fin_stream *s, struct shard *sh, uint64_t first, bool newest,
                         bool fix, bool writer_running, struct fin_check_report *rep)
{
    char path[PATH_MAX], ipath[PATH_MAX];
    seg_path(path, sizeof path, sh->dir, sh->prefix, first, SEG_SUFFIX);
    seg_path(ipath, sizeof ipath, sh->dir, sh->prefix, first, IDX_SUFFIX);
    struct seg_scan sc;
    int rc = seg_scan(path, sh->index, first, &sc);
    if (rc) {
        fin_warn("%s", fin_err_msg());
        rep->problems++;
        return 0;
    }
    rep->segments++;
    rep->records += sc.records;
    rep->bytes += sc.file_size;
    if (sc.bad != FRAME_OK) {
        uint64_t cut = sc.file_size - sc.valid_end;
        if (newest && writer_running && sc.torn) {
            /* The writer may be in the middle of an append: not a finding. */
        } else {
            rep->problems++;
            fin_warn("%s: offset %llu: %s (%s); %llu bytes after it", path,
                     (unsigned long long)sc.valid_end, frame_status_str(sc.bad),
                     sc.torn ? "torn tail" : "corruption", (unsigned long long)cut);
            if (fix) {
                int fd = open(path, O_RDWR | O_CLOEXEC);
                if (fd < 0 || ftruncate(fd, (off_t)sc.valid_end) != 0 || fsync(fd) != 0) {
                    rc = fin_err_errno(errno, "cannot truncate", path);
                    if (fd >= 0)
                        close(fd);
                    goto out;
                }
                close(fd);
                rep->fixed++;
                rep->dropped_bytes += cut;
                fin_info("%s: cut at offset %llu (%llu bytes dropped)", path,
                         (unsigned long long)sc.valid_end, (unsigned long long)cut);
                if (newest) {
                    /* Continue numbering past anything the cut bytes could have held. */
                    uint64_t next = (sc.last_counter ? sc.last_counter + 1 : first) + cut;
                    char npath[PATH_MAX], hdr[SEG_HDR];
                    seg_path(npath, sizeof npath, sh->dir, sh->prefix, next, SEG_SUFFIX);
                    seg_header(hdr, sh->index, next, 0);
                    if ((rc = fin_write_file_atomic(npath, hdr, SEG_HDR)))
                        goto out;
                }
                struct idx_file nf = {sc.valid_end, sc.first_counter, sc.last_counter,
                                      sc.last_arrival, sc.idx, sc.n_idx};
                if ((rc = idx_write(s->io, ipath, &nf)))
                    goto out;
                goto out;
            }
        }
    }
    /* The newest segment of a running or crashed writer has no index; that is normal. */
    struct idx_file f;
    int ir = idx_read(ipath, &f);
    bool ok = ir == 0 && index_matches(&f, &sc);
    free(f.e);
    /* A running writer writes a sealed segment's index just after it rolls. */
    if (ok || ((newest || writer_running) && ir == FIN_ENOENT) || (sc.bad != FRAME_OK && !fix))
        goto out;
    if (!(newest && writer_running)) {
        rep->problems++;
        fin_warn("%s: index %s", ipath,
                 ir == FIN_ENOENT ? "missing" : ir ? "damaged" : "does not match the log");
        if (fix) {
            struct idx_file nf = {sc.valid_end, sc.first_counter, sc.last_counter,
                                  sc.last_arrival, sc.idx, sc.n_idx};
            if ((rc = idx_write(s->io, ipath, &nf)))
                goto out;
            rep->fixed++;
        }
    }
out:
    seg_scan_fini(&sc);
    return rc;
}

int fin_stream_check(const char *data_dir, const char *name, bool fix,
                     struct fin_check_report *rep)
{
    memset(rep, 0, sizeof *rep);
    struct fin_stream *s = NULL;
    int rc = fin_stream_open(&s, data_dir, name, FIN_STREAM_READ, NULL);
    if (rc)
        return rc;
    /* The writer lock keeps a writer from appending while we cut; without --fix a running
     * writer is fine, and its half-written tail is not reported. */
    char lock[PATH_MAX];
    snprintf(lock, sizeof lock, "%s/writer.lock", s->dir);
    int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    bool running = false;
    if (lfd < 0) {
        rc = fin_err_errno(errno, "cannot open", lock);
        goto done;
    }
    if (flock(lfd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t r = pread(lfd, pid, sizeof pid - 1, 0);
        pid[r > 0 ? r : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        if (fix) {
            rc = fin_err_set(FIN_EBUSY, "stream '%s' is open for writing by process %s; stop "
                             "it before repairing", name, pid);
            goto done;
        }
        running = true;
    }
    for (int i = 0; i < s->nshards && !rc; i++) {
        struct shard *sh = &s->shards[i];
        uint64_t *v = NULL;
        size_t n = 0;
        if ((rc = seg_list(sh->dir, sh->prefix, &v, &n)))
            break;
        for (size_t k = 0; k < n && !rc; k++)
            rc = check_segment(s, sh, v[k], k + 1 == n, fix, running, rep);
        free(v);
    }
    if (!rc && fix && rep->fixed) {
        /* The clean marker vouches for the old tail; after a cut, recovery should look. */
        char clean[PATH_MAX];
        snprintf(clean, sizeof clean, "%s/clean", s->dir);
        unlink(clean);
    }
    if (!rc && rep->problems > rep->fixed)
        rc = fin_err_set(FIN_ECORRUPT, "stream '%s': %llu problem%s found%s", name,
                         (unsigned long long)rep->problems, rep->problems == 1 ? "" : "s",
                         fix ? "" : "; run 'finstream check --fix' to repair");
done:
    if (lfd >= 0)
        close(lfd);
    fin_stream_close(s);
    return rc;
}
