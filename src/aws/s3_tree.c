/* s3_tree.c - copies a local lake (a directory standing for a bucket) into S3 under the
 * same keys: the step of moving an existing finstream lake to a bucket.
 *
 * Files are visited in sorted order, so a copy cut short and run again puts the same keys
 * in the same order (each put overwrites, nothing is duplicated). Temporary files of the
 * atomic writers (names containing ".tmp") and dot files are not objects and are skipped;
 * so are symbolic links, which could point out of the lake. */
#include "finstream/aws_s3.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "finstream/error.h"
#include "finstream/fsutil.h"

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool skipped(const char *name)
{
    return name[0] == '.' || strstr(name, ".tmp") != NULL;
}

/* rel is the key below prefix so far ("" at the top). */
static int put_dir(struct fin_s3 *s3, const char *dir, const char *bucket, const char *prefix,
                   const char *rel, struct fin_s3_tree_stats *st)
{
    DIR *d = opendir(dir);
    if (!d)
        return fin_err_errno(errno, "open directory", dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (skipped(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                rc = FIN_ENOMEM;
                goto fail;
            }
            names = nn;
        }
        if (!(names[n] = strdup(e->d_name))) {
            rc = FIN_ENOMEM;
            goto fail;
        }
        n++;
    }
    qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *path = fin_path_join(dir, names[i]);
        char key[FIN_S3_MAX_KEY + 2];
        int kl = snprintf(key, sizeof key, "%s%s%s", rel, rel[0] ? "/" : "", names[i]);
        struct stat sb;
        if (!path) {
            rc = FIN_ENOMEM;
        } else if (lstat(path, &sb) != 0) {
            rc = fin_err_errno(errno, "stat", path);
        } else if (S_ISDIR(sb.st_mode)) {
            rc = put_dir(s3, path, bucket, prefix, key, st);
        } else if (S_ISREG(sb.st_mode)) {
            char full[FIN_S3_MAX_KEY * 2 + 2];
            snprintf(full, sizeof full, "%s%s", prefix, key);
            char *data = NULL;
            size_t len = 0;
            if (kl < 0 || (size_t)kl >= sizeof key || strlen(full) > FIN_S3_MAX_KEY)
                rc = fin_err_set(FIN_ELIMIT, "%s: key longer than %d bytes", path, FIN_S3_MAX_KEY);
            else if ((rc = fin_read_file(path, &data, &len)) == 0 &&
                     (rc = fin_s3_put_object(s3, bucket, full, data, len)) == 0) {
                st->objects++;
                st->bytes += len;
            }
            free(data);
        } else {
            st->skipped++;
        }
        free(path);
    }
fail:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

int fin_s3_put_tree(struct fin_s3 *s3, const char *dir, const char *bucket, const char *prefix,
                    struct fin_s3_tree_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!fin_is_dir(dir))
        return fin_err_set(FIN_ENOENT, "%s: not a directory", dir);
    return put_dir(s3, dir, bucket, prefix ? prefix : "", "", st);
}
