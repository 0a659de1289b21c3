/* sink_s3.c - an S3 destination for delivery: finished objects go to s3://bucket/prefix
 * under the keys the local sink would give them in the lake folder.
 *
 * It has the shape of delivery's sink seam (put an object from iovecs, move a finished
 * temporary file into place, sync), so delivery's engine can use it where it uses the
 * local sink. What "durable" means changes: a local object is durable after fsync and the
 * folder's fsync; an S3 object is durable when S3 has confirmed the whole of it. Every put
 * here returns only after that confirmation (fin_s3_put_object), so sync has nothing left
 * to do, and delivery's rule "the checkpoint moves only after the object is durable" holds
 * unchanged. A retried delivery rewrites the same key, as with the local sink. */
#include "finstream/aws_s3.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "finstream/error.h"

struct fin_s3_sink {
    struct fin_s3 *s3;
    char bucket[64];
    char prefix[FIN_S3_MAX_KEY];
    struct fin_buf body;
};

int fin_s3_sink_create(struct fin_s3_sink **out, const struct fin_aws_settings *s,
                       const struct fin_aws_client_deps *deps, const char *destination)
{
    *out = NULL;
    struct fin_s3_sink *k = calloc(1, sizeof *k);
    if (!k)
        return FIN_ENOMEM;
    fin_buf_init(&k->body);
    int rc = fin_s3_parse_url(destination, k->bucket, sizeof k->bucket, k->prefix,
                              sizeof k->prefix);
    if (rc == 0 && k->prefix[0] && k->prefix[strlen(k->prefix) - 1] != '/') {
        /* s3://bucket/lake means the folder "lake/", as the local sink's root would. */
        size_t n = strlen(k->prefix);
        if (n + 1 >= sizeof k->prefix)
            rc = fin_err_set(FIN_EINVAL, "%s: prefix too long", destination);
        else
            k->prefix[n] = '/', k->prefix[n + 1] = '\0';
    }
    if (rc == 0)
        rc = fin_s3_create(&k->s3, s, deps);
    if (rc) {
        fin_s3_sink_destroy(k);
        return rc;
    }
    *out = k;
    return 0;
}

void fin_s3_sink_destroy(struct fin_s3_sink *k)
{
    if (!k)
        return;
    fin_s3_destroy(k->s3);
    fin_buf_fini(&k->body);
    free(k);
}

struct fin_s3 *fin_s3_sink_s3(struct fin_s3_sink *k) { return k->s3; }

static int full_key(const struct fin_s3_sink *k, const char *key, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s%s", k->prefix, key);
    if (n < 0 || (size_t)n >= cap || (size_t)n > FIN_S3_MAX_KEY)
        return fin_err_set(FIN_ELIMIT, "s3://%s/%s%s: key longer than %d bytes", k->bucket,
                           k->prefix, key, FIN_S3_MAX_KEY);
    return 0;
}

int fin_s3_sink_put(struct fin_s3_sink *k, const char *key, const struct iovec *iov, int n_iov)
{
    char full[FIN_S3_MAX_KEY + 1];
    int rc = full_key(k, key, full, sizeof full);
    if (rc)
        return rc;
    const void *data = NULL;
    size_t len = 0;
    if (n_iov == 1) {
        data = iov[0].iov_base;   /* one piece: no copy */
        len = iov[0].iov_len;
    } else {
        fin_buf_reset(&k->body);
        for (int i = 0; i < n_iov; i++)
            if (fin_buf_append(&k->body, iov[i].iov_base, iov[i].iov_len))
                return FIN_ENOMEM;
        data = k->body.data;
        len = k->body.len;
    }
    rc = fin_s3_put_object(k->s3, k->bucket, full, data, len);
    /* Large objects must not pin their memory until the next put. */
    if (k->body.cap > (8u << 20))
        fin_buf_fini(&k->body);
    return rc;
}

int fin_s3_sink_put_file(struct fin_s3_sink *k, const char *key, const char *path)
{
    char full[FIN_S3_MAX_KEY + 1];
    int rc = full_key(k, key, full, sizeof full);
    if (rc)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fin_err_errno(errno, "open", path);
    struct stat st;
    void *map = NULL;
    if (fstat(fd, &st) != 0) {
        rc = fin_err_errno(errno, "stat", path);
        goto fail;
    }
    if (st.st_size > 0) {
        /* Mapped, not read: a 128 MiB object goes up in parts without a copy in memory. */
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            map = NULL;
            rc = fin_err_errno(errno, "mmap", path);
            goto fail;
        }
    }
    rc = fin_s3_put_object(k->s3, k->bucket, full, map ? map : "", (size_t)st.st_size);
    /* The file stood for the object; once S3 has it, it is gone, as after a rename. */
    if (rc == 0 && unlink(path) != 0)
        rc = fin_err_errno(errno, "remove", path);
fail:
    if (map)
        munmap(map, (size_t)st.st_size);
    close(fd);
    return rc;
}

int fin_s3_sink_sync(struct fin_s3_sink *k)
{
    (void)k;   /* every put has been confirmed by S3 already */
    return 0;
}
