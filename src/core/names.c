/* names.c - the one naming rule (see names.h). fin_check_name() in fsutil.h is the same
 * rule with the kind and limit given by the caller; both end in name_problem(). */
#include "finstream/names.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"

#include <string.h>

static const struct {
    const char *what;
    size_t max;
} kinds[] = {
    [FIN_NAME_STREAM] = {"stream", 128},     [FIN_NAME_DELIVERY] = {"delivery", 64},
    [FIN_NAME_COLLECTOR] = {"collector", 64}, [FIN_NAME_DATABASE] = {"database", 255},
    [FIN_NAME_TABLE] = {"table", 255},       [FIN_NAME_CONSUMER] = {"consumer", 128},
};

const char *fin_name_kind_str(enum fin_name_kind kind)
{
    return kinds[kind].what;
}

size_t fin_name_max(enum fin_name_kind kind)
{
    return kinds[kind].max;
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
}

/* The index of the first offending byte, n for a bad length, or -1 when name is fine. */
static long name_problem(const char *name, size_t n, size_t max_len)
{
    if (n == 0 || n > max_len)
        return (long)n;
    if (name[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!name_char(name[i]))
            return (long)i;
    return -1;
}

bool fin_name_valid(enum fin_name_kind kind, const char *name, size_t len)
{
    return name && name_problem(name, len, kinds[kind].max) < 0;
}

int fin_check_name(const char *what, const char *name, size_t max_len)
{
    size_t n = name ? strlen(name) : 0;
    long at = name_problem(name ? name : "", n, max_len);
    if (at < 0)
        return 0;
    if ((size_t)at == n)
        return fin_err_set(FIN_EINVAL, "%s name '%.*s' must be 1 to %zu characters", what,
                           n > 200 ? 200 : (int)n, name ? name : "", max_len);
    if (at == 0 && name[0] == '.')
        return fin_err_set(FIN_EINVAL, "%s name '%s' may not start with '.'", what, name);
    unsigned char c = (unsigned char)name[at];
    if (c < 0x20 || c >= 0x7f)
        return fin_err_set(FIN_EINVAL,
                           "%s name '%.*s' has byte 0x%02x at position %ld; allowed: letters, "
                           "digits, _ . -", what, n > 200 ? 200 : (int)n, name, c, at + 1);
    return fin_err_set(FIN_EINVAL,
                       "%s name '%.*s' has '%c' at position %ld; allowed: letters, digits, _ . -",
                       what, n > 200 ? 200 : (int)n, name, c, at + 1);
}

int fin_name_check(enum fin_name_kind kind, const char *name)
{
    return fin_check_name(kinds[kind].what, name, kinds[kind].max);
}
