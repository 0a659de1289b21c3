/* credentials.c - where the AWS settings, keys, region and endpoint come from.
 *
 * The order is the one AWS's own SDKs and CLI use, so a machine already set up for the
 * AWS CLI works unchanged: an explicit key (here: the [aws] section of finstream.ini),
 * then the environment, then the profile in the shared credentials file, then in the
 * config file. The shared files are read with a small parser of their own dialect
 * ("[profile NAME]" in config, "[NAME]" in credentials, indented sub-keys skipped),
 * not finstream.ini's. */
#include "finstream/aws.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finstream/error.h"
#include "finstream/fsutil.h"

#define OFF(f) offsetof(struct fin_aws_settings, f)

const struct fin_opt fin_aws_opts[] = {
    {"region", FIN_OPT_STRING, NULL, OFF(region), 0, 0, NULL,
     "AWS region; empty: AWS_REGION, AWS_DEFAULT_REGION, the profile's, us-east-1"},
    {"profile", FIN_OPT_STRING, NULL, OFF(profile), 0, 0, NULL,
     "profile in ~/.aws/credentials and ~/.aws/config; empty: AWS_PROFILE or default"},
    {"endpoint_url", FIN_OPT_STRING, NULL, OFF(endpoint_url), 0, 0, NULL,
     "http(s)://host:port of an S3-compatible store or a local emulator; empty: AWS"},
    {"access_key_id", FIN_OPT_STRING, NULL, OFF(access_key_id), 0, 0, NULL,
     "static access key id (prefer the environment or ~/.aws/credentials)"},
    {"secret_access_key", FIN_OPT_STRING, NULL, OFF(secret_access_key), 0, 0, NULL,
     "static secret access key"},
    {"session_token", FIN_OPT_STRING, NULL, OFF(session_token), 0, 0, NULL,
     "session token of temporary credentials"},
    {"addressing", FIN_OPT_ENUM, "auto", OFF(addressing), 0, 0, "auto|path|virtual",
     "S3 addressing: auto is path-style with endpoint_url, virtual-hosted on AWS"},
    {"timeout", FIN_OPT_DURATION, "30s", OFF(timeout_ms), 100, 3600000, NULL, "per HTTP request"},
    {"retries", FIN_OPT_INT, "8", OFF(retries), 0, 100, NULL,
     "retries of throttling, 5xx and network failures"},
    {"backoff", FIN_OPT_DURATION, "100ms", OFF(backoff_ms), 1, 600000, NULL,
     "first retry delay cap (doubles, full jitter)"},
    {"backoff_max", FIN_OPT_DURATION, "20s", OFF(backoff_max_ms), 1, 3600000, NULL,
     "longest retry delay"},
    {"part_size", FIN_OPT_SIZE, "8MiB", OFF(part_size), 5 << 20, 5LL << 30, NULL,
     "S3 multipart part size (5 MiB to 5 GiB)"},
    {"multipart_threshold", FIN_OPT_SIZE, "16MiB", OFF(multipart_threshold), 1, 5LL << 30, NULL,
     "objects this large or larger go up in parts"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

int fin_aws_settings_load(struct fin_aws_settings *s, const struct fin_ini *ini, const char *name)
{
    memset(s, 0, sizeof *s);
    int rc = fin_opts_defaults(fin_aws_opts, s);
    if (rc)
        return rc;
    if (!ini)
        return 0;
    const struct fin_ini_section *sec = fin_ini_find(ini, "aws", name);
    if (sec && (rc = fin_opts_apply_section(fin_aws_opts, s, ini, sec)) != 0) {
        fin_aws_settings_fini(s);
        return rc;
    }
    return 0;
}

int fin_aws_settings_for(struct fin_aws_settings *s, const struct fin_ini *ini, const char *service)
{
    int rc = fin_aws_settings_load(s, ini, NULL);
    if (rc || !ini || !service)
        return rc;
    const struct fin_ini_section *sec = fin_ini_find(ini, "aws", service);
    if (sec && (rc = fin_opts_apply_section(fin_aws_opts, s, ini, sec)) != 0)
        fin_aws_settings_fini(s);
    return rc;
}

void fin_aws_settings_fini(struct fin_aws_settings *s)
{
    if (s)
        fin_opts_fini(fin_aws_opts, s);
}

void fin_aws_credentials_fini(struct fin_aws_credentials *c)
{
    if (!c)
        return;
    free(c->access_key_id);
    if (c->secret_access_key) {
        memset(c->secret_access_key, 0, strlen(c->secret_access_key));
        free(c->secret_access_key);
    }
    free(c->session_token);
    memset(c, 0, sizeof *c);
}

static int set_creds(struct fin_aws_credentials *c, const char *ak, const char *sk,
                     const char *token, const char *source)
{
    memset(c, 0, sizeof *c);
    c->access_key_id = strdup(ak);
    c->secret_access_key = strdup(sk);
    c->session_token = token && *token ? strdup(token) : NULL;
    snprintf(c->source, sizeof c->source, "%s", source);
    if (!c->access_key_id || !c->secret_access_key || (token && *token && !c->session_token)) {
        fin_aws_credentials_fini(c);
        return FIN_ENOMEM;
    }
    return 0;
}

int fin_aws_credentials_copy(struct fin_aws_credentials *dst, const struct fin_aws_credentials *src)
{
    return set_creds(dst, src->access_key_id, src->secret_access_key, src->session_token,
                     src->source);
}

static bool empty(const char *s) { return !s || !*s; }

/* ---- the shared files ---- */

struct profile_values {
    char ak[256], sk[256], token[2048], region[64];
};

/* Reads section want ("default", "profile dev", "dev") of an AWS shared file into pv.
 * Returns 1 when the section exists, 0 when it (or the file) does not, or an error. */
static int read_profile(const char *path, const char *want, struct profile_values *pv)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[4096];
    int lineno = 0, found = 0, rc = 0;
    bool in = false;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            rc = fin_err_set(FIN_ECONFIG, "%s:%d: line too long", path, lineno);
            goto fail;
        }
        /* Indented lines continue a nested value (s3 =\n  addressing_style = path). */
        if (line[0] == ' ' || line[0] == '\t')
            continue;
        while (len && isspace((unsigned char)line[len - 1]))
            line[--len] = '\0';
        if (!len || line[0] == '#' || line[0] == ';')
            continue;
        if (line[0] == '[') {
            char *e = strchr(line, ']');
            if (!e) {
                rc = fin_err_set(FIN_ECONFIG, "%s:%d: section header without ']'", path, lineno);
                goto fail;
            }
            *e = '\0';
            char *name = line + 1;
            while (isspace((unsigned char)*name))
                name++;
            for (char *t = e - 1; t >= name && isspace((unsigned char)*t); t--)
                *t = '\0';
            /* "profile   dev" is "profile dev". */
            char norm[sizeof line + 16];
            if (strncmp(name, "profile", 7) == 0 && isspace((unsigned char)name[7])) {
                const char *n2 = name + 7;
                while (isspace((unsigned char)*n2))
                    n2++;
                snprintf(norm, sizeof norm, "profile %s", n2);
            } else {
                snprintf(norm, sizeof norm, "%s", name);
            }
            in = strcmp(norm, want) == 0;
            found |= in;
            continue;
        }
        if (!in)
            continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            rc = fin_err_set(FIN_ECONFIG, "%s:%d: expected 'key = value'", path, lineno);
            goto fail;
        }
        char *k = line, *v = eq + 1;
        *eq = '\0';
        for (char *t = eq - 1; t >= k && isspace((unsigned char)*t); t--)
            *t = '\0';
        while (isspace((unsigned char)*v))
            v++;
        char *dst = NULL;
        size_t cap = 0;
        if (strcmp(k, "aws_access_key_id") == 0)
            dst = pv->ak, cap = sizeof pv->ak;
        else if (strcmp(k, "aws_secret_access_key") == 0)
            dst = pv->sk, cap = sizeof pv->sk;
        else if (strcmp(k, "aws_session_token") == 0)
            dst = pv->token, cap = sizeof pv->token;
        else if (strcmp(k, "region") == 0)
            dst = pv->region, cap = sizeof pv->region;
        if (dst) {
            if (strlen(v) >= cap) {
                rc = fin_err_set(FIN_ECONFIG, "%s:%d: value of %s too long", path, lineno, k);
                goto fail;
            }
            snprintf(dst, cap, "%s", v);
        }
    }
    rc = found;
fail:
    fclose(f);
    return rc;
}

static const char *profile_name(const struct fin_aws_settings *s)
{
    if (s && !empty(s->profile))
        return s->profile;
    const char *p = getenv("AWS_PROFILE");
    return empty(p) ? "default" : p;
}

/* The path of a shared file: the variable's value, or ~/.aws/<name>. */
static void shared_path(const char *var, const char *name, char *out, size_t cap)
{
    const char *v = getenv(var);
    if (!empty(v)) {
        snprintf(out, cap, "%s", v);
        return;
    }
    const char *home = getenv("HOME");
    snprintf(out, cap, "%s/.aws/%s", empty(home) ? "." : home, name);
}

/* Reads profile name from the credentials file and then the config file; values in the
 * credentials file win. which says where the key was found. */
static int read_shared(const char *name, struct profile_values *pv, char *which, size_t cap)
{
    char cred_path[1024], conf_path[1024], section[512];
    shared_path("AWS_SHARED_CREDENTIALS_FILE", "credentials", cred_path, sizeof cred_path);
    shared_path("AWS_CONFIG_FILE", "config", conf_path, sizeof conf_path);
    memset(pv, 0, sizeof *pv);
    struct profile_values conf = {0};
    int rc = read_profile(cred_path, name, pv);
    if (rc < 0)
        return rc;
    if (strcmp(name, "default") == 0)
        snprintf(section, sizeof section, "default");
    else
        snprintf(section, sizeof section, "profile %s", name);
    int rc2 = read_profile(conf_path, section, &conf);
    if (rc2 < 0)
        return rc2;
    if (pv->ak[0]) {
        snprintf(which, cap, "profile %s in %s", name, cred_path);
    } else if (conf.ak[0]) {
        memcpy(pv->ak, conf.ak, sizeof pv->ak);
        memcpy(pv->sk, conf.sk, sizeof pv->sk);
        memcpy(pv->token, conf.token, sizeof pv->token);
        snprintf(which, cap, "profile %s in %s", name, conf_path);
    } else {
        snprintf(which, cap, "%s, %s", cred_path, conf_path);
    }
    if (!pv->region[0])
        memcpy(pv->region, conf.region, sizeof pv->region);
    return 0;
}

int fin_aws_resolve_credentials(const struct fin_aws_settings *s, struct fin_aws_credentials *out)
{
    memset(out, 0, sizeof *out);
    if (s && !empty(s->access_key_id)) {
        if (empty(s->secret_access_key))
            return fin_err_set(FIN_ECONFIG, "[aws] access_key_id is set but secret_access_key is not");
        return set_creds(out, s->access_key_id, s->secret_access_key, s->session_token,
                         "finstream.ini [aws]");
    }
    const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
    if (!empty(ak)) {
        if (empty(sk))
            return fin_err_set(FIN_ECONFIG,
                               "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
        return set_creds(out, ak, sk, getenv("AWS_SESSION_TOKEN"), "environment");
    }
    const char *name = profile_name(s);
    struct profile_values pv;
    char which[2200];
    int rc = read_shared(name, &pv, which, sizeof which);
    if (rc)
        return rc;
    if (!pv.ak[0])
        return fin_err_set(FIN_ENOENT,
                           "no AWS credentials: not in finstream.ini [aws], not in "
                           "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, no key for profile '%s' in %s",
                           name, which);
    if (!pv.sk[0])
        return fin_err_set(FIN_ECONFIG, "%s has aws_access_key_id but no aws_secret_access_key",
                           which);
    char source[sizeof out->source];
    snprintf(source, sizeof source, "%.*s", (int)sizeof source - 1, which);
    return set_creds(out, pv.ak, pv.sk, pv.token, source);
}

int fin_aws_resolve_region(const struct fin_aws_settings *s, char *out, size_t cap)
{
    const char *r = s ? s->region : NULL;
    if (empty(r))
        r = getenv("AWS_REGION");
    if (empty(r))
        r = getenv("AWS_DEFAULT_REGION");
    struct profile_values pv;
    char which[2200];
    if (empty(r)) {
        int rc = read_shared(profile_name(s), &pv, which, sizeof which);
        if (rc)
            return rc;
        r = pv.region[0] ? pv.region : "us-east-1";
    }
    for (const char *p = r; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-')
            return fin_err_set(FIN_ECONFIG, "bad AWS region '%s'", r);
    if (strlen(r) >= cap)
        return fin_err_set(FIN_ECONFIG, "AWS region '%s' too long", r);
    snprintf(out, cap, "%s", r);
    return 0;
}

/* ---- endpoints ---- */

int fin_aws_resolve_endpoint(const char *service, const char *region, const char *endpoint_url,
                             struct fin_aws_endpoint *out)
{
    memset(out, 0, sizeof *out);
    if (empty(endpoint_url)) {
        snprintf(out->scheme, sizeof out->scheme, "https");
        /* China regions live under amazonaws.com.cn. */
        const char *suffix = strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
        snprintf(out->host, sizeof out->host, "%s.%s.%s", service, region, suffix);
        return 0;
    }
    const char *u = endpoint_url;
    if (strncmp(u, "https://", 8) == 0) {
        snprintf(out->scheme, sizeof out->scheme, "https");
        u += 8;
    } else if (strncmp(u, "http://", 7) == 0) {
        snprintf(out->scheme, sizeof out->scheme, "http");
        u += 7;
    } else {
        return fin_err_set(FIN_EINVAL, "endpoint_url '%s': must start with http:// or https://",
                           endpoint_url);
    }
    size_t hl = strcspn(u, ":/");
    if (hl == 0 || hl >= sizeof out->host)
        return fin_err_set(FIN_EINVAL, "endpoint_url '%s': no host", endpoint_url);
    memcpy(out->host, u, hl);
    out->host[hl] = '\0';
    u += hl;
    if (*u == ':') {
        char *e;
        long port = strtol(u + 1, &e, 10);
        if (e == u + 1 || port <= 0 || port > 65535 || (*e && *e != '/'))
            return fin_err_set(FIN_EINVAL, "endpoint_url '%s': bad port", endpoint_url);
        out->port = (int)port;
        u = e;
    }
    size_t bl = strlen(u);
    while (bl && u[bl - 1] == '/')
        bl--;
    if (bl >= sizeof out->base_path)
        return fin_err_set(FIN_EINVAL, "endpoint_url '%s': path too long", endpoint_url);
    memcpy(out->base_path, u, bl);
    out->base_path[bl] = '\0';
    out->custom = true;
    return 0;
}
