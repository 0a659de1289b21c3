/* fin_test.h - what every cmocka unit test includes, plus small helpers:
 * a fresh temporary directory per test and access to ../shared/data. */
#ifndef FIN_TEST_H
#define FIN_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "finstream/fsutil.h"

/* Makes a fresh directory under $TMPDIR (or /tmp); the caller frees the path and
 * removes the tree with fin_test_rmdir(). */
static inline char *fin_test_mkdtemp(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/finstream-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static inline void fin_test_rmdir(char *dir)
{
    if (dir)
        fin_remove_tree(dir);
    free(dir);
}

/* The shared fixtures folder (../shared/data), or NULL when it is absent; tests that need
 * it call skip() with a message. */
static inline const char *fin_test_shared_data(void)
{
    const char *d = getenv("FIN_SHARED_DATA");
    if (d && fin_is_dir(d))
        return d;
    fprintf(stderr, "shared data folder not found (FIN_SHARED_DATA=%s): skipping\n", d ? d : "");
    return NULL;
}

#endif
