/* kinesis.h - what the files of the Kinesis actions share: the request being handled
 * and the helpers that answer in Kinesis' words (kinesis.c). The actions are split by
 * plane: streams, shards, tags and writes in kinesis.c, shard iterators and reads in
 * kinesis_read.c; the input checks every action starts with are the model's
 * (kinesis_model.c, model.c). */
#ifndef FIN_SERVE_KINESIS_H
#define FIN_SERVE_KINESIS_H

#include "internal.h"
#include "model.h"

struct req {
    struct fin_serve *svc;
    json_t *body;                  /* the members as the model read them */
    struct fin_serve_response *resp;
};

/* ValidationException "1 validation error detected: ..." / InvalidArgumentException;
 * both fill the response and return FIN_EINVAL. */
int verr(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int invalid(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A string member (NULL when absent and optional; NULL with *rc set when wrong). */
const char *get_str(struct req *r, const char *key, bool required, size_t min, size_t max,
                    int *rc);
int get_int(struct req *r, const char *key, bool required, int64_t min, int64_t max,
            int64_t *out, bool *present);
/* The stream a request names, by StreamName or StreamARN (into buf for an ARN). */
const char *stream_name(struct req *r, char buf[FIN_STREAM_MAX_NAME + 1], int *rc);
/* Finds the stream the request names and takes a reference (reg_release()). */
int with_stream(struct req *r, bool need_active, struct sstream **ss);
const char *status_name(int st);
json_t *arn(struct fin_serve *svc, const char *name);

/* ---- kinesis_read.c ---- */
void get_shard_iterator(struct req *r);
void get_records(struct req *r);

#endif
