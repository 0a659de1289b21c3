/* kinesis_model.c - the input shapes of the Kinesis operations, mirroring the service
 * model (botocore's data/kinesis/2013-12-02/service-2.json) with AWS's current limits.
 *
 * The member order is the order in which Kinesis checks and reports them (it is not the
 * model's: the reference implementation kinesalite, written against the live service,
 * records it), with members added to the API later (StreamARN, StreamModeDetails,
 * ShardFilter, ...) after the older ones. Where the current API reference relaxed a
 * constraint the old service enforced (StreamName optional beside StreamARN; ShardCount
 * optional for ON_DEMAND streams; up to 50 tags listed and removed and 200 added at
 * once), the table follows the current API; docs/serve.md lists these. */
#include "model.h"

#include <string.h>

#define REQ .flags = MC_REQUIRED
#define NAME_PATTERN "[a-zA-Z0-9_.-]+"
#define HASH_PATTERN "0|([1-9]\\d{0,38})"
#define SEQ_PATTERN "0|([1-9]\\d{0,128})"

/* a member: F is its flags beyond the constraint bits given by the initialisers */
#define STRING(n, f, lmin, lmax, pat)                                                          \
    {.name = n, .type = M_STRING, .flags = (f) | MC_LEN_MIN | MC_LEN_MAX, .len_min = lmin,    \
     .len_max = lmax, .pattern = pat}
#define PATTERNED(n, f, pat) {.name = n, .type = M_STRING, .flags = (f), .pattern = pat}
#define ENUM(n, f, set) {.name = n, .type = M_STRING, .flags = (f), .enums = set}
#define INT(n, f, lo, hi)                                                                      \
    {.name = n, .type = M_INTEGER, .flags = (f) | MC_MIN | MC_MAX, .min = lo, .max = hi}
#define INT_MIN_ONLY(n, f, lo) {.name = n, .type = M_INTEGER, .flags = (f) | MC_MIN, .min = lo}
#define PLAIN_INT(n, f) {.name = n, .type = M_INTEGER, .flags = (f)}
#define TIMESTAMP(n) {.name = n, .type = M_TIMESTAMP}
#define BOOLEAN(n) {.name = n, .type = M_BOOLEAN}
#define END {.name = NULL}

/* StreamName is optional in the current API when StreamARN names the stream; without
 * either, Kinesis answers as it always did for a missing StreamName */
#define STREAM_NAME                                                                            \
    {.name = "StreamName", .type = M_STRING,                                                 \
     .flags = MC_REQUIRED | MC_LEN_MIN | MC_LEN_MAX, .len_min = 1, .len_max = 128,            \
     .pattern = NAME_PATTERN, .unless = "StreamARN"}
#define OPTIONAL_STREAM_NAME STRING("StreamName", 0, 1, 128, NAME_PATTERN)
#define STREAM_ARN STRING("StreamARN", 0, 1, 2048, "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+")
#define SHARD_ID(n, f) STRING(n, f, 1, 128, NAME_PATTERN)

static const char *const iterator_types[] = {"AFTER_SEQUENCE_NUMBER", "LATEST", "AT_TIMESTAMP",
                                             "AT_SEQUENCE_NUMBER", "TRIM_HORIZON", NULL};
static const char *const stream_modes[] = {"PROVISIONED", "ON_DEMAND", NULL};
static const char *const scaling_types[] = {"UNIFORM_SCALING", NULL};
static const char *const shard_filter_types[] = {"AFTER_SHARD_ID", "AT_TRIM_HORIZON",
                                                 "FROM_TRIM_HORIZON", "AT_LATEST",
                                                 "AT_TIMESTAMP", "FROM_TIMESTAMP", NULL};
static const char *const metrics[] = {"IncomingBytes", "IncomingRecords", "OutgoingBytes",
                                      "OutgoingRecords", "WriteProvisionedThroughputExceeded",
                                      "ReadProvisionedThroughputExceeded",
                                      "IteratorAgeMilliseconds", "ALL", NULL};

static const struct mshape tag_string[] = {{.name = "member", .type = M_STRING}, END};
static const struct mshape metric_name[] = {ENUM("member", 0, metrics), END};

#define TAG_MAP(n, f, most)                                                                    \
    {.name = n, .type = M_MAP, .flags = (f) | MC_LEN_MIN | MC_LEN_MAX | MC_ELEM_LEN | MC_VAL_LEN, \
     .len_min = 1, .len_max = most, .elem_min = 1, .elem_max = 128, .val_min = 0,             \
     .val_max = 256, .members = tag_string}

static const struct mshape stream_mode_details[] = {ENUM("StreamMode", MC_REQUIRED, stream_modes),
                                                    END};
static const struct mshape shard_filter[] = {
    ENUM("Type", MC_REQUIRED, shard_filter_types),
    SHARD_ID("ShardId", 0),
    TIMESTAMP("Timestamp"),
    END,
};
static const struct mshape put_records_entry[] = {
    STRING("PartitionKey", MC_REQUIRED, 1, 256, NULL),
    PATTERNED("ExplicitHashKey", 0, HASH_PATTERN),
    {.name = "Data", .type = M_BLOB, .flags = MC_REQUIRED | MC_LEN_MAX, .len_max = 1048576},
    END,
};
static const struct mshape put_records_element[] = {
    {.name = "member", .type = M_STRUCT, .members = put_records_entry}, END};

static const struct mshape add_tags[] = {TAG_MAP("Tags", MC_REQUIRED, 200), STREAM_NAME,
                                         STREAM_ARN, END};
static const struct mshape create_stream[] = {
    /* optional for ON_DEMAND streams only */
    {.name = "ShardCount", .type = M_INTEGER, .flags = MC_REQUIRED | MC_MIN | MC_MAX, .min = 1,
     .max = 100000, .unless = "StreamModeDetails"},
    STRING("StreamName", MC_REQUIRED, 1, 128, NAME_PATTERN),
    {.name = "StreamModeDetails", .type = M_STRUCT, .members = stream_mode_details},
    TAG_MAP("Tags", 0, 200),
    END,
};
static const struct mshape retention[] = {PLAIN_INT("RetentionPeriodHours", MC_REQUIRED),
                                          STREAM_NAME, STREAM_ARN, END};
static const struct mshape delete_stream[] = {STREAM_NAME, BOOLEAN("EnforceConsumerDeletion"),
                                              STREAM_ARN, END};
static const struct mshape describe_stream[] = {INT("Limit", 0, 1, 10000),
                                                SHARD_ID("ExclusiveStartShardId", 0), STREAM_NAME,
                                                STREAM_ARN, END};
static const struct mshape stream_only[] = {STREAM_NAME, STREAM_ARN, END};
static const struct mshape get_records[] = {INT("Limit", 0, 1, 10000),
                                            STRING("ShardIterator", MC_REQUIRED, 1, 512, NULL),
                                            STREAM_ARN, END};
static const struct mshape get_shard_iterator[] = {
    SHARD_ID("ShardId", MC_REQUIRED),
    ENUM("ShardIteratorType", MC_REQUIRED, iterator_types),
    PATTERNED("StartingSequenceNumber", 0, SEQ_PATTERN),
    STREAM_NAME,
    TIMESTAMP("Timestamp"),
    STREAM_ARN,
    END,
};
static const struct mshape list_shards[] = {
    SHARD_ID("ExclusiveStartShardId", 0),
    INT("MaxResults", 0, 1, 10000),
    STRING("NextToken", 0, 1, 1048576, NULL),
    TIMESTAMP("StreamCreationTimestamp"),
    OPTIONAL_STREAM_NAME,
    {.name = "ShardFilter", .type = M_STRUCT, .members = shard_filter},
    STREAM_ARN,
    END,
};
static const struct mshape list_streams[] = {
    INT("Limit", 0, 1, 10000),
    STRING("ExclusiveStartStreamName", 0, 1, 128, NAME_PATTERN),
    STRING("NextToken", 0, 1, 1048576, NULL),
    END,
};
static const struct mshape list_tags[] = {INT("Limit", 0, 1, 50),
                                          STRING("ExclusiveStartTagKey", 0, 1, 128, NULL),
                                          STREAM_NAME, STREAM_ARN, END};
static const struct mshape merge_shards[] = {SHARD_ID("ShardToMerge", MC_REQUIRED),
                                             SHARD_ID("AdjacentShardToMerge", MC_REQUIRED),
                                             STREAM_NAME, STREAM_ARN, END};
static const struct mshape put_record[] = {
    PATTERNED("SequenceNumberForOrdering", 0, SEQ_PATTERN),
    STRING("PartitionKey", MC_REQUIRED, 1, 256, NULL),
    PATTERNED("ExplicitHashKey", 0, HASH_PATTERN),
    {.name = "Data", .type = M_BLOB, .flags = MC_REQUIRED | MC_LEN_MAX, .len_max = 1048576},
    STREAM_NAME,
    STREAM_ARN,
    END,
};
static const struct mshape put_records[] = {
    {.name = "Records", .type = M_LIST, .flags = MC_REQUIRED | MC_LEN_MIN | MC_LEN_MAX,
     .len_min = 1, .len_max = 500, .members = put_records_element,
     .member_str = "com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@c965e310"},
    STREAM_NAME,
    STREAM_ARN,
    END,
};
static const struct mshape remove_tags[] = {
    {.name = "TagKeys", .type = M_LIST,
     .flags = MC_REQUIRED | MC_LEN_MIN | MC_LEN_MAX | MC_ELEM_LEN, .len_min = 1, .len_max = 50,
     .elem_min = 1, .elem_max = 128, .members = tag_string},
    STREAM_NAME,
    STREAM_ARN,
    END,
};
static const struct mshape split_shard[] = {PATTERNED("NewStartingHashKey", MC_REQUIRED,
                                                      HASH_PATTERN),
                                            STREAM_NAME, SHARD_ID("ShardToSplit", MC_REQUIRED),
                                            STREAM_ARN, END};
static const struct mshape update_shard_count[] = {
    STREAM_NAME,
    INT_MIN_ONLY("TargetShardCount", MC_REQUIRED, 1),
    ENUM("ScalingType", MC_REQUIRED, scaling_types),
    STREAM_ARN,
    END,
};
static const struct mshape update_stream_mode[] = {
    STRING("StreamARN", MC_REQUIRED, 1, 2048, "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+"),
    {.name = "StreamModeDetails", .type = M_STRUCT, .flags = MC_REQUIRED,
     .members = stream_mode_details},
    END,
};
static const struct mshape monitoring[] = {
    STREAM_NAME,
    {.name = "ShardLevelMetrics", .type = M_LIST, .flags = MC_REQUIRED | MC_LEN_MIN | MC_LEN_MAX,
     .len_min = 1, .len_max = 7, .members = metric_name},
    STREAM_ARN,
    END,
};
static const struct mshape no_members[] = {END};

static const struct {
    const char *op;
    const struct mshape *input;
} inputs[] = {
    {"AddTagsToStream", add_tags},
    {"CreateStream", create_stream},
    {"DecreaseStreamRetentionPeriod", retention},
    {"DeleteStream", delete_stream},
    {"DescribeLimits", no_members},
    {"DescribeStream", describe_stream},
    {"DescribeStreamSummary", stream_only},
    {"DisableEnhancedMonitoring", monitoring},
    {"EnableEnhancedMonitoring", monitoring},
    {"GetRecords", get_records},
    {"GetShardIterator", get_shard_iterator},
    {"IncreaseStreamRetentionPeriod", retention},
    {"ListShards", list_shards},
    {"ListStreams", list_streams},
    {"ListTagsForStream", list_tags},
    {"MergeShards", merge_shards},
    {"PutRecord", put_record},
    {"PutRecords", put_records},
    {"RemoveTagsFromStream", remove_tags},
    {"SplitShard", split_shard},
    {"UpdateShardCount", update_shard_count},
    {"UpdateStreamMode", update_stream_mode},
};

const struct mshape *kinesis_input_shape(const char *op)
{
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
        if (strcmp(inputs[i].op, op) == 0)
            return inputs[i].input;
    return NULL;
}
