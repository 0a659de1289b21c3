/* fsutil.c - directories, whole files, atomic replacement, safe names. */
#include "finstream/fsutil.h"
#include "finstream/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fin_mkdir_p(const char *path, unsigned mode)
{
    char *p = strdup(path);
    if (!p)
        return FIN_ENOMEM;
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
                rc = fin_err_errno(errno, "cannot create directory", p);
                break;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    free(p);
    if (!rc && !fin_is_dir(path))
        rc = fin_err_set(FIN_EEXIST, "%s exists and is not a directory", path);
    return rc;
}

int fin_read_file(const char *path, char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fin_err_errno(errno, "cannot open", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = fin_err_errno(errno, "cannot stat", path);
        close(fd);
        return rc;
    }
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return FIN_ENOMEM;
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                return FIN_ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int rc = fin_err_errno(errno, "cannot read", path);
            free(buf);
            close(fd);
            return rc;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *data = buf;
    if (len)
        *len = n;
    return 0;
}

int fin_fsync_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return FIN_ENOMEM;
    const char *dir = fin_is_dir(path) ? copy : dirname(copy);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0)
        rc = fin_err_errno(errno, "cannot open directory", dir);
    else {
        if (fsync(fd) != 0)
            rc = fin_err_errno(errno, "cannot fsync directory", dir);
        close(fd);
    }
    free(copy);
    return rc;
}

int fin_write_file_atomic(const char *path, const void *data, size_t len)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return fin_err_set(FIN_EINVAL, "path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return fin_err_errno(errno, "cannot create", tmp);
    const char *p = data;
    size_t left = len;
    int rc = 0;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = fin_err_errno(errno, "cannot write", tmp);
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (!rc && fsync(fd) != 0)
        rc = fin_err_errno(errno, "cannot fsync", tmp);
    if (close(fd) != 0 && !rc)
        rc = fin_err_errno(errno, "cannot close", tmp);
    if (!rc && rename(tmp, path) != 0)
        rc = fin_err_errno(errno, "cannot rename into place", path);
    if (rc) {
        unlink(tmp);
        return rc;
    }
    return fin_fsync_dir(path);
}

char *fin_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/')
        la--;
    while (*b == '/')
        b++, lb--;
    char *r = malloc(la + lb + 2);
    if (!r)
        return NULL;
    memcpy(r, a, la);
    r[la] = '/';
    memcpy(r + la + 1, b, lb + 1);
    return r;
}

bool fin_path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

bool fin_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fin_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : fin_err_errno(errno, "cannot stat", path);
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d)
            return fin_err_errno(errno, "cannot open directory", path);
        struct dirent *e;
        int rc = 0;
        while (!rc && (e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *child = fin_path_join(path, e->d_name);
            rc = child ? fin_remove_tree(child) : FIN_ENOMEM;
            free(child);
        }
        closedir(d);
        if (rc)
            return rc;
        if (rmdir(path) != 0)
            return fin_err_errno(errno, "cannot remove", path);
        return 0;
    }
    if (unlink(path) != 0)
        return fin_err_errno(errno, "cannot remove", path);
    return 0;
}
