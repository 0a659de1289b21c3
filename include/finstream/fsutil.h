/* fsutil.h - small file-system helpers: directories, whole files, atomic replacement,
 * and the name checks that keep user-supplied names inside the data directory. */
#ifndef FINSTREAM_FSUTIL_H
#define FINSTREAM_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* mkdir -p; existing directories are fine. */
int fin_mkdir_p(const char *path, unsigned mode);

/* Reads a whole file; *data is owned by the caller (free()) and NUL-terminated. */
int fin_read_file(const char *path, char **data, size_t *len);

/* Replaces path atomically: writes path.tmp.<pid>, fsyncs it, renames it over path,
 * fsyncs the directory. Readers see the old or the new content, never a mix. */
int fin_write_file_atomic(const char *path, const void *data, size_t len);

/* fsync of the directory that holds path (or of path itself when it is a directory). */
int fin_fsync_dir(const char *dir);

/* Joins a and b with one '/'; the result is owned by the caller (free()); NULL on ENOMEM. */
char *fin_path_join(const char *a, const char *b);

/* 0 when name is a safe single path component for a resource of kind what: the rule
 * of names.h ([a-zA-Z0-9_.-]{1,max_len}, not starting with '.'). FIN_EINVAL with a
 * message naming it otherwise. */
int fin_check_name(const char *what, const char *name, size_t max_len);

bool fin_path_exists(const char *path);
bool fin_is_dir(const char *path);

/* rm -rf of path (used for deleting a stream or a test folder). */
int fin_remove_tree(const char *path);

#endif
