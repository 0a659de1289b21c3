/* queries.c - SQL from the editor: jobs that run in their own threads, can be canceled,
 * and keep their answer for paging, sorting, charting and download.
 *
 *   POST /api/queries {"sql": "..."}          starts a job: 202 {"id", "state"}
 *   GET  /api/queries                         jobs of this console, and the history of
 *                                             saved answers (results/ID.csv.metadata)
 *   GET  /api/queries/ID?offset=&limit=&sort=COL&desc=1
 *                                             state, columns, a page of rows (sorted),
 *                                             rows, bytes scanned, seconds
 *   POST /api/queries/ID/cancel               interrupts the engine (DuckDB's interrupt)
 *   GET  /api/queries/ID/csv                  the answer as Athena's CSV
 *   GET  /api/queries/ID/chart?x=COL&y=COL,COL
 *                                             columns as arrays for the chart: numbers
 *                                             (timestamps as epoch seconds) or text
 *   GET  /api/results/QUERY_ID.csv            a saved answer's CSV file
 *
 * Each job opens its own engine (fin_query_open: the catalog's views as of now) and, on
 * success, saves its answer as Athena does (results/<query-id>.csv and .metadata), so
 * the console's queries show in the same history as `finstream query --save`. The
 * console keeps the last MAX_JOBS jobs in memory; a job is freed only when no request
 * holds it (refs). At most MAX_RUNNING run at once.
 *
 * Cancel sets the job's flag and interrupts the engine. An interrupt that lands before
 * the engine has started the statement is lost (DuckDB clears it when a statement
 * starts), so the sampler repeats it every tick for canceled jobs still running
 * (jobs_reinterrupt), and the job checks the flag before it starts. */
#include "internal.h"

#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/query.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define MAX_JOBS 20
#define MAX_RUNNING 4
#define PAGE_MAX 1000
#define CHART_MAX 100000
#define HISTORY_MAX 100

enum { JOB_RUNNING, JOB_SUCCEEDED, JOB_FAILED, JOB_CANCELLED };
static const char *state_names[] = {"RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"};

struct query_job {
    char id[40];
    char *sql;
    int state;
    char *error;
    struct fin_result *res;
    struct fin_query *qe;        /* while running: for interrupt (under q_mu) */
    bool cancel;
    int64_t submitted_ms, finished_ms;
    char result_id[40];          /* the saved answer, "" when not saved */
    char *save_error;
    size_t *order;               /* rows sorted by sort_col (under q_mu), or NULL */
    int sort_col;
    bool sort_desc;
    int refs;
    bool dropped;                /* out of the list: freed when refs reaches 0 */
    struct fin_console *c;
    struct query_job *next;
};

static void job_free(struct query_job *j)
{
    fin_result_destroy(j->res);
    free(j->sql);
    free(j->error);
    free(j->save_error);
    free(j->order);
    free(j);
}

/* Under q_mu: the job with id, with a reference taken. */
static struct query_job *job_get_locked(struct fin_console *c, const char *id)
{
    for (struct query_job *j = c->jobs; j; j = j->next)
        if (strcmp(j->id, id) == 0) {
            j->refs++;
            return j;
        }
    return NULL;
}

static void job_put(struct fin_console *c, struct query_job *j)
{
    pthread_mutex_lock(&c->q_mu);
    bool free_it = --j->refs == 0 && j->dropped;
    pthread_mutex_unlock(&c->q_mu);
    if (free_it)
        job_free(j);
}

/* Under q_mu: drops finished jobs beyond MAX_JOBS, oldest first. */
static void prune_locked(struct fin_console *c)
{
    size_t k = 0;
    struct query_job **pp = &c->jobs;
    while (*pp) {
        struct query_job *j = *pp;
        if (++k > MAX_JOBS && j->state != JOB_RUNNING) {
            *pp = j->next;
            c->n_jobs--;
            j->dropped = true;
            if (j->refs == 0)
                job_free(j);
            continue;
        }
        pp = &j->next;
    }
}

static void *job_main(void *arg)
{
    struct query_job *j = arg;
    struct fin_console *c = j->c;
    struct fin_query *qe = NULL;
    struct fin_result *res = NULL;
    int rc = fin_query_open(&qe, c->data_dir);
    pthread_mutex_lock(&c->q_mu);
    j->qe = qe;
    bool cancel = j->cancel;
    pthread_mutex_unlock(&c->q_mu);
    if (!rc && cancel)
        rc = FIN_ECANCELED;
    if (!rc)
        rc = fin_query_exec(qe, j->sql, &res);
    char *err = rc ? strdup(fin_err_msg()[0] ? fin_err_msg() : fin_strerror(rc)) : NULL;
    char rid[40] = "";
    char *save_err = NULL;
    if (!rc && fin_result_save(res, c->data_dir, j->sql, rid, sizeof rid)) {
        save_err = strdup(fin_err_msg());
        rid[0] = 0;
    }
    pthread_mutex_lock(&c->q_mu);
    j->qe = NULL;
    cancel = j->cancel;
    pthread_mutex_unlock(&c->q_mu);
    fin_query_close(qe);
    pthread_mutex_lock(&c->q_mu);
    j->finished_ms = now_ms_real();
    if (cancel) {
        j->state = JOB_CANCELLED;
        fin_result_destroy(res);
        free(err);
        err = strdup("canceled");
        res = NULL;
    } else {
        j->state = rc ? JOB_FAILED : JOB_SUCCEEDED;
    }
    j->res = res;
    j->error = err;
    j->save_error = save_err;
    snprintf(j->result_id, sizeof j->result_id, "%s", rid);
    /* the thread's reference goes with the running count, in one step: once the count
     * is zero, jobs_fini may free every job still listed */
    bool free_it = --j->refs == 0 && j->dropped;
    c->n_running--;
    pthread_cond_broadcast(&c->q_cv);
    pthread_mutex_unlock(&c->q_mu);
    fin_err_clear();
    if (free_it)
        job_free(j);
    return NULL;
}

static void job_start(struct fin_console *c, const struct creq *q, struct cresp *r)
{
    json_t *b = req_json(q, r);
    if (!b)
        return;
    const char *sql = json_string_value(json_object_get(b, "sql"));
    if (!sql || !*sql) {
        json_decref(b);
        resp_error(r, 400, "invalid", "give \"sql\", the statement to run");
        return;
    }
    struct query_job *j = calloc(1, sizeof *j);
    unsigned char raw[8];
    if (!j || !(j->sql = strdup(sql)) || getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        json_decref(b);
        if (j)
            job_free(j);
        resp_fin_error(r, FIN_ENOMEM);
        return;
    }
    json_decref(b);
    snprintf(j->id, sizeof j->id, "c-%02x%02x%02x%02x%02x%02x%02x%02x", raw[0], raw[1], raw[2],
             raw[3], raw[4], raw[5], raw[6], raw[7]);
    j->c = c;
    j->state = JOB_RUNNING;
    j->submitted_ms = now_ms_real();
    j->sort_col = -1;
    j->refs = 1;  /* the thread's */
    pthread_mutex_lock(&c->q_mu);
    if (c->n_running >= MAX_RUNNING || c->stopping) {
        pthread_mutex_unlock(&c->q_mu);
        job_free(j);
        resp_error(r, 429, "busy", "%d queries are running already; wait for one or cancel it",
                   MAX_RUNNING);
        return;
    }
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 8 << 20);
    if (pthread_create(&t, &attr, job_main, j)) {
        pthread_mutex_unlock(&c->q_mu);
        pthread_attr_destroy(&attr);
        job_free(j);
        resp_error(r, 500, "internal", "cannot start a thread for the query");
        return;
    }
    pthread_attr_destroy(&attr);
    c->n_running++;
    j->next = c->jobs;
    c->jobs = j;
    c->n_jobs++;
    prune_locked(c);
    resp_json(r, 202, json_pack("{s:s,s:s}", "id", j->id, "state", "RUNNING"));
    pthread_mutex_unlock(&c->q_mu);
}

/* Under q_mu. */
static json_t *job_summary_locked(struct query_job *j)
{
    char sub[32];
    iso_time(j->submitted_ms, sub);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "id", j->id, "sql", j->sql, "state",
                          state_names[j->state], "submitted", sub);
    if (j->state != JOB_RUNNING)
        json_object_set_new(o, "elapsed_seconds",
                            json_real((double)(j->finished_ms - j->submitted_ms) / 1000.0));
    else
        json_object_set_new(o, "elapsed_seconds",
                            json_real((double)(now_ms_real() - j->submitted_ms) / 1000.0));
    if (j->error)
        json_object_set_new(o, "error", json_string(j->error));
    if (j->res) {
        json_object_set_new(o, "rows", json_integer((json_int_t)fin_result_rows(j->res)));
        json_object_set_new(o, "bytes_scanned",
                            json_integer((json_int_t)fin_result_bytes_scanned(j->res)));
        json_object_set_new(o, "engine_seconds", json_real(fin_result_seconds(j->res)));
    }
    if (j->result_id[0])
        json_object_set_new(o, "result_id", json_string(j->result_id));
    if (j->save_error)
        json_object_set_new(o, "save_error", json_string(j->save_error));
    return o;
}

static int cmp_hist(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "submitted"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "submitted"));
    return strcmp(y ? y : "", x ? x : "");
}

/* The saved answers (results/ID.csv.metadata), newest first. */
static json_t *history(struct fin_console *c)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/results", c->data_dir);
    json_t **v = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 14 || strcmp(e->d_name + l - 13, ".csv.metadata") != 0 || e->d_name[0] == '.')
            continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        json_t *m = json_load_file(path, 0, NULL);
        if (!m)
            continue;
        json_t *o = json_pack("{s:O?,s:O?,s:O?,s:O?,s:O?,s:O?}", "query_id",
                              json_object_get(m, "query_id"), "sql", json_object_get(m, "query"),
                              "submitted", json_object_get(m, "submitted"), "rows",
                              json_object_get(m, "rows"), "bytes_scanned",
                              json_object_get(m, "data_scanned_bytes"), "engine_seconds",
                              json_object_get(m, "engine_seconds"));
        json_decref(m);
        if (!o)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            json_t **nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                json_decref(o);
                break;
            }
            v = nv;
        }
        v[n++] = o;
    }
    if (d)
        closedir(d);
    qsort(v, n, sizeof *v, cmp_hist);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (i < HISTORY_MAX)
            json_array_append_new(arr, v[i]);
        else
            json_decref(v[i]);
    }
    free(v);
    return arr;
}

static void job_list(struct fin_console *c, struct cresp *r)
{
    json_t *jobs = json_array();
    pthread_mutex_lock(&c->q_mu);
    for (struct query_job *j = c->jobs; j; j = j->next)
        json_array_append_new(jobs, job_summary_locked(j));
    pthread_mutex_unlock(&c->q_mu);
    resp_json(r, 200, json_pack("{s:o,s:o}", "jobs", jobs, "history", history(c)));
}

static bool is_numeric(enum fin_type t)
{
    return t == FIN_TYPE_BIGINT || t == FIN_TYPE_DOUBLE || t == FIN_TYPE_DECIMAL ||
           t == FIN_TYPE_DATE || t == FIN_TYPE_TIMESTAMP || t == FIN_TYPE_TIMESTAMPTZ ||
           t == FIN_TYPE_BOOLEAN;
}

static const struct fin_result *sort_res;
static int sort_col_g, sort_dir_g;
static pthread_mutex_t sort_mu = PTHREAD_MUTEX_INITIALIZER;

static int cmp_rows(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    size_t col = (size_t)sort_col_g;
    bool nx = fin_result_is_null(sort_res, x, col), ny = fin_result_is_null(sort_res, y, col);
    int d;
    if (nx || ny) {
        d = nx == ny ? 0 : nx ? 1 : -1;   /* nulls last either way */
        return d ? d : (x < y ? -1 : x > y);
    }
    if (is_numeric(fin_result_column_type(sort_res, col))) {
        double p = fin_result_double(sort_res, x, col), q = fin_result_double(sort_res, y, col);
        d = p < q ? -1 : p > q;
    } else {
        d = strcmp(fin_result_text(sort_res, x, col), fin_result_text(sort_res, y, col));
    }
    d *= sort_dir_g;
    return d ? d : (x < y ? -1 : x > y);   /* stable */
}

/* Under q_mu: j->order for (col, desc). qsort's comparator has no context argument, so
 * sorts take a lock of their own. */
static int ensure_order_locked(struct query_job *j, int col, bool desc)
{
    if (j->order && j->sort_col == col && j->sort_desc == desc)
        return 0;
    size_t n = fin_result_rows(j->res);
    size_t *o = malloc((n ? n : 1) * sizeof *o);
    if (!o)
        return FIN_ENOMEM;
    for (size_t i = 0; i < n; i++)
        o[i] = i;
    pthread_mutex_lock(&sort_mu);
    sort_res = j->res;
    sort_col_g = col;
    sort_dir_g = desc ? -1 : 1;
    qsort(o, n, sizeof *o, cmp_rows);
    pthread_mutex_unlock(&sort_mu);
    free(j->order);
    j->order = o;
    j->sort_col = col;
    j->sort_desc = desc;
    return 0;
}

static void job_detail(struct fin_console *c, const struct creq *q, struct query_job *j,
                       struct cresp *r)
{
    long long offset = req_arg_int(q, "offset", 0), limit = req_arg_int(q, "limit", 100);
    long long sort = req_arg_int(q, "sort", -2);
    const char *desc = q->arg(q->arg_ctx, "desc");
    if (offset < 0 || limit < 1 || limit > PAGE_MAX || sort == -1) {
        resp_error(r, 400, "invalid", "offset, limit (1 to %d) and sort (a column number) "
                   "must be non-negative integers", PAGE_MAX);
        return;
    }
    pthread_mutex_lock(&c->q_mu);
    json_t *o = job_summary_locked(j);
    if (j->res) {
        size_t n = fin_result_rows(j->res), nc = fin_result_columns(j->res);
        if (sort >= 0 && (size_t)sort >= nc) {
            pthread_mutex_unlock(&c->q_mu);
            json_decref(o);
            resp_error(r, 400, "invalid", "sort: the answer has %zu columns", nc);
            return;
        }
        if (sort >= 0 && ensure_order_locked(j, (int)sort, desc && strcmp(desc, "1") == 0)) {
            pthread_mutex_unlock(&c->q_mu);
            json_decref(o);
            resp_fin_error(r, FIN_ENOMEM);
            return;
        }
        json_t *cols = json_array(), *rows = json_array();
        for (size_t k = 0; k < nc; k++)
            json_array_append_new(cols, json_pack("{s:s,s:s}", "name",
                                                  fin_result_column_name(j->res, k), "type",
                                                  fin_type_name(fin_result_column_type(j->res, k))));
        for (size_t i = (size_t)offset; i < n && i < (size_t)(offset + limit); i++) {
            size_t row = sort >= 0 ? j->order[i] : i;
            json_t *a = json_array();
            for (size_t k = 0; k < nc; k++)
                json_array_append_new(a, fin_result_is_null(j->res, row, k)
                                             ? json_null()
                                             : json_string(fin_result_text(j->res, row, k)));
            json_array_append_new(rows, a);
        }
        json_object_set_new(o, "columns", cols);
        json_object_set_new(o, "page", rows);
        json_object_set_new(o, "offset", json_integer(offset));
    }
    pthread_mutex_unlock(&c->q_mu);
    resp_json(r, 200, o);
}

static void job_cancel(struct fin_console *c, struct query_job *j, struct cresp *r)
{
    pthread_mutex_lock(&c->q_mu);
    if (j->state == JOB_RUNNING) {
        j->cancel = true;
        fin_query_interrupt(j->qe);
    }
    json_t *o = job_summary_locked(j);
    pthread_mutex_unlock(&c->q_mu);
    resp_json(r, 200, o);
}

/* Under q_mu with j finished and successful. */
static void job_csv(struct query_job *j, struct cresp *r)
{
    char *csv = NULL;
    size_t len = 0;
    int rc = fin_result_to_csv(j->res, &csv, &len);
    if (rc) {
        resp_fin_error(r, rc);
        return;
    }
    r->status = 200;
    r->content_type = "text/csv; charset=utf-8";
    fin_buf_append(&r->body, csv, len);
    free(csv);
    snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"%s.csv\"",
             j->result_id[0] ? j->result_id : j->id);
}

/* The column named or numbered by s, or -1. */
static int column_of(const struct fin_result *res, const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s && !*end)
        return v >= 0 && (size_t)v < fin_result_columns(res) ? (int)v : -1;
    return fin_result_column_index(res, s);
}

static json_t *column_values(const struct fin_result *res, int col, size_t n, bool *numeric)
{
    enum fin_type t = fin_result_column_type(res, (size_t)col);
    *numeric = is_numeric(t);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        if (fin_result_is_null(res, i, (size_t)col)) {
            json_array_append_new(a, json_null());
        } else if (*numeric) {
            double d = fin_result_double(res, i, (size_t)col);
            json_array_append_new(a, isfinite(d) ? json_real(d) : json_null());
        } else {
            json_array_append_new(a, json_string(fin_result_text(res, i, (size_t)col)));
        }
    }
    return a;
}

/* Under q_mu with j successful. */
static void job_chart(const struct creq *q, struct query_job *j, struct cresp *r)
{
    const char *xs = q->arg(q->arg_ctx, "x"), *ys = q->arg(q->arg_ctx, "y");
    if (!xs || !ys || !*ys) {
        resp_error(r, 400, "invalid", "give x (a column) and y (columns, comma separated)");
        return;
    }
    int x = column_of(j->res, xs);
    if (x < 0) {
        resp_error(r, 400, "invalid", "x: no column %s in the answer", xs);
        return;
    }
    size_t n = fin_result_rows(j->res);
    bool truncated = n > CHART_MAX;
    if (truncated)
        n = CHART_MAX;
    bool num;
    json_t *xv = column_values(j->res, x, n, &num);
    json_t *o = json_pack("{s:{s:s,s:s,s:o,s:b},s:[],s:b}", "x", "name",
                          fin_result_column_name(j->res, (size_t)x), "type",
                          fin_type_name(fin_result_column_type(j->res, (size_t)x)), "values", xv,
                          "numeric", num, "y", "truncated", truncated);
    char list[1024];
    snprintf(list, sizeof list, "%s", ys);
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int y = column_of(j->res, tok);
        if (y < 0) {
            json_decref(o);
            resp_error(r, 400, "invalid", "y: no column %s in the answer", tok);
            return;
        }
        json_t *yv = column_values(j->res, y, n, &num);
        json_array_append_new(json_object_get(o, "y"),
                              json_pack("{s:s,s:s,s:o,s:b}", "name",
                                        fin_result_column_name(j->res, (size_t)y), "type",
                                        fin_type_name(fin_result_column_type(j->res, (size_t)y)),
                                        "values", yv, "numeric", num));
    }
    resp_json(r, 200, o);
}

void api_queries(struct fin_console *c, const struct creq *q, struct cresp *r, const char *rest)
{
    bool get = strcmp(q->method, "GET") == 0 || strcmp(q->method, "HEAD") == 0;
    if (!*rest) {
        if (get)
            job_list(c, r);
        else if (strcmp(q->method, "POST") == 0)
            job_start(c, q, r);
        else
            resp_error(r, 405, "method", "%s %s: GET or POST here", q->method, q->path);
        return;
    }
    char id[40];
    const char *slash = strchr(rest, '/');
    size_t il = slash ? (size_t)(slash - rest) : strlen(rest);
    if (il >= sizeof id) {
        resp_error(r, 404, "not_found", "no query %s", rest);
        return;
    }
    memcpy(id, rest, il);
    id[il] = 0;
    const char *sub = slash ? slash + 1 : "";
    pthread_mutex_lock(&c->q_mu);
    struct query_job *j = job_get_locked(c, id);
    pthread_mutex_unlock(&c->q_mu);
    if (!j) {
        resp_error(r, 404, "not_found", "no query %s in this console (it keeps the last %d)", id,
                   MAX_JOBS);
        return;
    }
    if (!*sub && get) {
        job_detail(c, q, j, r);
    } else if (strcmp(sub, "cancel") == 0 && !get) {
        job_cancel(c, j, r);
    } else if ((strcmp(sub, "csv") == 0 || strcmp(sub, "chart") == 0) && get) {
        pthread_mutex_lock(&c->q_mu);
        if (j->state != JOB_SUCCEEDED)
            resp_error(r, 409, "not_ready", "query %s is %s", id, state_names[j->state]);
        else if (sub[1] == 's')
            job_csv(j, r);
        else
            job_chart(q, j, r);
        pthread_mutex_unlock(&c->q_mu);
    } else {
        resp_error(r, 404, "not_found", "no API route %s %s", q->method, q->path);
    }
    job_put(c, j);
}

void api_results(struct fin_console *c, const struct creq *q, struct cresp *r, const char *rest)
{
    /* QUERY_ID.csv: a UUID, nothing else reaches the file system */
    size_t n = strlen(rest);
    bool ok = n == 40 && strcmp(rest + 36, ".csv") == 0;
    for (size_t i = 0; ok && i < 36; i++)
        ok = (rest[i] >= '0' && rest[i] <= '9') || (rest[i] >= 'a' && rest[i] <= 'f') || rest[i] == '-';
    if (!ok || strcmp(q->method, "GET") != 0) {
        resp_error(r, 404, "not_found", "no saved answer %s (expected QUERY_ID.csv)", rest);
        return;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/results/%s", c->data_dir, rest);
    char *data = NULL;
    size_t len = 0;
    int rc = fin_read_file(path, &data, &len);
    if (rc) {
        resp_fin_error(r, rc);
        return;
    }
    r->status = 200;
    r->content_type = "text/csv; charset=utf-8";
    fin_buf_append(&r->body, data, len);
    free(data);
    snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"%s\"", rest);
}

void jobs_reinterrupt(struct fin_console *c)
{
    pthread_mutex_lock(&c->q_mu);
    for (struct query_job *j = c->jobs; j; j = j->next)
        if (j->state == JOB_RUNNING && j->cancel)
            fin_query_interrupt(j->qe);
    pthread_mutex_unlock(&c->q_mu);
}

void jobs_fini(struct fin_console *c)
{
    pthread_mutex_lock(&c->q_mu);
    while (c->n_running > 0) {
        /* repeated: an interrupt before a statement starts is lost */
        for (struct query_job *j = c->jobs; j; j = j->next)
            if (j->state == JOB_RUNNING) {
                j->cancel = true;
                fin_query_interrupt(j->qe);
            }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100 * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&c->q_cv, &c->q_mu, &until);
    }
    struct query_job *j = c->jobs;
    c->jobs = NULL;
    c->n_jobs = 0;
    pthread_mutex_unlock(&c->q_mu);
    while (j) {
        struct query_job *next = j->next;
        job_free(j);
        j = next;
    }
}
