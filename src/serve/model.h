/* model.h - request shapes as the AWS service models declare them, and the checks AWS
 * applies to a request body before the operation runs (model.c).
 *
 * An operation's input is a table of struct mshape: each member's type, whether it
 * must be present, and its constraints (length, value range, pattern, enum, the
 * lengths of a list's or map's elements), in the order AWS checks them. The tables of
 * Kinesis are in kinesis_model.c; Firehose can declare its own the same way. */
#ifndef FIN_SERVE_MODEL_H
#define FIN_SERVE_MODEL_H

#include "internal.h"

enum mtype {
    M_STRING = 1, M_INTEGER, M_LONG, M_DOUBLE, M_BOOLEAN, M_BLOB, M_TIMESTAMP, M_LIST, M_MAP,
    M_STRUCT,
};

/* which constraints a shape has */
enum {
    MC_REQUIRED = 1 << 0,   /* "Member must not be null" */
    MC_LEN_MIN = 1 << 1,    /* length (characters, bytes, elements, entries) */
    MC_LEN_MAX = 1 << 2,
    MC_MIN = 1 << 3,        /* numeric value */
    MC_MAX = 1 << 4,
    MC_ELEM_LEN = 1 << 5,   /* every list element's / map key's length within elem_min..max */
    MC_VAL_LEN = 1 << 6,    /* every map value's length within val_min..max */
};

struct mshape {
    const char *name;              /* member name; NULL ends a member table */
    int type;                      /* enum mtype */
    unsigned flags;                /* MC_* */
    int64_t len_min, len_max, min, max;
    int elem_min, elem_max, val_min, val_max;
    const char *pattern;           /* as AWS prints it (Java syntax; \d is a digit) */
    const char *const *enums;      /* NULL-terminated, in AWS's printing order */
    const struct mshape *members;  /* M_STRUCT: its members; M_LIST: {element shape} */
    const char *member_str;        /* how a list prints a structure element */
    const char *unless;            /* MC_REQUIRED only when this sibling member is absent */
};

/* Checks body against the input shape members (types first: SerializationException;
 * then every constraint: ValidationException listing up to ten failures, in AWS's
 * words). On success *clean is a new object holding the known, non-null members with
 * numbers as the model reads them (integers floored and capped as AWS does); the caller
 * owns it. On failure resp is filled and FIN_EINVAL returned. */
int model_check(struct fin_serve *svc, const struct mshape *members, json_t *body,
                json_t **clean, struct fin_serve_response *resp);

/* Kinesis: the input members of op, or NULL for an operation without a table. */
const struct mshape *kinesis_input_shape(const char *op);

#endif
