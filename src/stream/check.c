/* check.c - `finstream check`: verify every frame and index of a stream, and repair.
 *
 * The repairs are the ones recovery would not do on its own. Damage in the middle of a
 * segment (bad bytes with good frames after them) is removed and every intact frame
 * kept: the scanner resynchronises on the next valid frame, and each damaged run is
 * reported with its offsets, its size and the records it held. A damaged run at the
 * very end is cut; cutting the newest segment also starts a fresh one numbered past
 * every byte that was cut, so no sequence number that a reader may have seen is handed
 * out again. A missing, short or wrong segment header is written again from the file
 * name (which names the shard's first counter), keeping the frames after it. Indexes
 * are derived data: a missing, stale or wrong one is rebuilt from the log. */
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

/* Rewrites a segment without its damaged runs: the header and every intact frame, in
 * order, to a temporary file that is fsynced and renamed over the segment. */
static int rewrite_without(const char *path, const struct seg_scan *sc)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int in = -1, out = -1, rc = 0;
    char *buf = malloc(1u << 20);
    if (!buf)
        return FIN_ENOMEM;
    if ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = fin_err_errno(errno, "cannot open", path);
        goto fail;
    }
    if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        rc = fin_err_errno(errno, "cannot create", tmp);
        goto fail;
    }
    uint64_t at = 0, wpos = 0;
    for (size_t k = 0; k <= sc->n_dmg; k++) {
        uint64_t end = k < sc->n_dmg ? sc->dmg[k].off : sc->file_size;
        while (at < end) {
            size_t n = end - at > (1u << 20) ? (1u << 20) : (size_t)(end - at);
            ssize_t got = pread(in, buf, n, (off_t)at);
            if (got <= 0) {
                rc = fin_err_errno(got < 0 ? errno : EIO, "cannot read", path);
                goto fail;
            }
            if (pwrite(out, buf, (size_t)got, (off_t)wpos) != got) {
                rc = fin_err_errno(errno, "cannot write", tmp);
                goto fail;
            }
            at += (uint64_t)got;
            wpos += (uint64_t)got;
        }
        if (k < sc->n_dmg)
            at = sc->dmg[k].off + sc->dmg[k].len;
    }
    if (fsync(out) != 0) {
        rc = fin_err_errno(errno, "cannot fsync", tmp);
        goto fail;
    }
    close(out);
    out = -1;
    if (rename(tmp, path) != 0) {
        rc = fin_err_errno(errno, "cannot rename", tmp);
        goto fail;
    }
    rc = fin_fsync_dir(path);
fail:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    if (rc)
        unlink(tmp);
    free(buf);
    return rc;
}

/* Writes a correct header (named after the file) over a missing, short or damaged one;
 * frames after it are kept. */
static int rewrite_header(struct shard *sh, const char *path, uint64_t first, int64_t created_ms)
{
    char hdr[SEG_HDR];
    seg_header(hdr, sh->index, first, created_ms);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0)
        return fin_err_errno(errno, "cannot open", path);
    if (pwrite(fd, hdr, SEG_HDR, 0) != SEG_HDR || fsync(fd) != 0)
        rc = fin_err_errno(errno, "cannot rewrite the header of", path);
    close(fd);
    return rc;
}

/* Describes one damaged run: where, how many bytes, and the records it held. */
static void report_damage(const struct shard *sh, const char *path, const struct seg_damage *d,
                          bool fixed)
{
    char a[FIN_SEQ_LEN + 1] = "", b[FIN_SEQ_LEN + 1] = "", which[2 * FIN_SEQ_LEN + 64] = "";
    if (d->last_lost && d->last_lost >= d->first_lost) {
        seq_format(a, sh->prefix, d->first_lost);
        seq_format(b, sh->prefix, d->last_lost);
        if (d->first_lost == d->last_lost)
            snprintf(which, sizeof which, " (sequence number %s)", a);
        else
            snprintf(which, sizeof which, " (sequence numbers %s to %s)", a, b);
    } else if (d->tail) {
        seq_format(a, sh->prefix, d->first_lost);
        snprintf(which, sizeof which, " (from sequence number %s)", a);
    }
    fin_warn("%s: offset %llu to %llu (%llu bytes): %s%s; %s%llu record%s %s%s%s", path,
             (unsigned long long)d->off, (unsigned long long)(d->off + d->len),
             (unsigned long long)d->len, frame_status_str(d->why),
             d->tail ? ", to the end of the file" : ", good frames follow",
             d->exact ? "" : "about ", (unsigned long long)d->records,
             d->records == 1 ? "" : "s", fixed ? "lost" : "unreadable", which,
             fixed ? "; the frames after it are kept" : "");
}

static int check_segment(struct fin_stream *s, struct shard *sh, uint64_t first, bool newest,
                         bool fix, bool writer_running, struct fin_check_report *rep)
{
    char path[PATH_MAX], ipath[PATH_MAX];
    seg_path(path, sizeof path, sh->dir, sh->prefix, first, SEG_SUFFIX);
    seg_path(ipath, sizeof ipath, sh->dir, sh->prefix, first, IDX_SUFFIX);
    struct seg_scan sc;
    int rc = seg_scan(path, sh->index, first, &sc);
    if (rc == FIN_ECORRUPT) {
        /* The header: missing, short, or naming something else. The file name says which
         * shard and first counter it belongs to, so it can be written again. */
        struct stat st;
        bool short_hdr = stat(path, &st) == 0 && st.st_size < SEG_HDR;
        if (newest && writer_running && short_hdr)
            return 0;   /* the writer may be creating it */
        rep->problems++;
        fin_warn("%s", fin_err_msg());
        if (!fix)
            return 0;
        if (short_hdr) {
            rep->dropped_bytes += (uint64_t)st.st_size;
            if (truncate(path, 0) != 0)
                return fin_err_errno(errno, "cannot truncate", path);
        }
        if ((rc = rewrite_header(sh, path, first, fin_now_ns(s->clock) / FIN_NS_PER_MS)))
            return rc;
        rep->fixed++;
        fin_info("%s: header written again (shard %d, first counter %llu)", path, sh->index,
                 (unsigned long long)first);
        rc = seg_scan(path, sh->index, first, &sc);
    }
    if (rc) {
        fin_warn("%s", fin_err_msg());
        rep->problems++;
        return 0;
    }
    rep->segments++;
    rep->records += sc.intact;
    rep->bytes += sc.file_size;
    if (sc.n_dmg) {
        if (newest && writer_running && sc.torn && sc.n_dmg == 1) {
            /* The writer may be in the middle of an append: not a finding. */
        } else {
            rep->problems += sc.n_dmg;
            for (size_t k = 0; k < sc.n_dmg; k++)
                report_damage(sh, path, &sc.dmg[k], fix);
            if (fix) {
                const struct seg_damage *last = &sc.dmg[sc.n_dmg - 1];
                uint64_t tail_cut = last->tail ? last->len : 0;
                if (sc.n_dmg == 1 && last->tail) {
                    int fd = open(path, O_RDWR | O_CLOEXEC);
                    if (fd < 0 || ftruncate(fd, (off_t)last->off) != 0 || fsync(fd) != 0) {
                        rc = fin_err_errno(errno, "cannot truncate", path);
                        if (fd >= 0)
                            close(fd);
                        goto out;
                    }
                    close(fd);
                } else if ((rc = rewrite_without(path, &sc))) {
                    goto out;
                }
                rep->fixed += sc.n_dmg;
                rep->dropped_bytes += sc.lost_bytes;
                rep->lost_records += sc.lost_records;
                fin_info("%s: %llu damaged byte%s removed, %llu record%s kept", path,
                         (unsigned long long)sc.lost_bytes, sc.lost_bytes == 1 ? "" : "s",
                         (unsigned long long)sc.intact, sc.intact == 1 ? "" : "s");
                if (newest && tail_cut) {
                    /* Continue numbering past anything the cut bytes could have held. */
                    uint64_t next = (sc.end_counter ? sc.end_counter + 1 : first) + tail_cut;
                    char npath[PATH_MAX], hdr[SEG_HDR];
                    seg_path(npath, sizeof npath, sh->dir, sh->prefix, next, SEG_SUFFIX);
                    seg_header(hdr, sh->index, next, 0);
                    if ((rc = fin_write_file_atomic(npath, hdr, SEG_HDR)))
                        goto out;
                }
                struct seg_scan nsc;
                if ((rc = seg_scan(path, sh->index, first, &nsc)))
                    goto out;
                struct idx_file nf = {nsc.valid_end, nsc.first_counter, nsc.last_counter,
                                      nsc.last_arrival, nsc.idx, nsc.n_idx};
                rc = idx_write(s->io, ipath, &nf);
                seg_scan_fini(&nsc);
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
