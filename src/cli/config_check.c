/* config_check.c - finstream.ini held against every section finstream knows, once, before
 * any command runs.
 *
 * Each part reads only its own sections, so on its own none would notice a section no
 * part reads ([colector "c"]), a key put under the wrong header, or a value of a section
 * this command does not use. This table lists every section type with the option table
 * that declares its keys; a section type added to finstream is added here too. */
#include "cli.h"
#include "finstream/aws.h"
#include "finstream/collector.h"
#include "finstream/config.h"
#include "finstream/delivery.h"
#include "finstream/error.h"
#include "finstream/log.h"
#include "finstream/names.h"
#include "finstream/query.h"
#include "finstream/serve.h"
#include "finstream/stream.h"

#include <string.h>

static const struct fin_ini_schema schema[] = {
    {"collector", fin_collect_opts, FIN_INI_NAMED, FIN_NAME_COLLECTOR, NULL},
    {"stream", fin_stream_opts, FIN_INI_NAMED, FIN_NAME_STREAM, NULL},
    {"delivery", fin_delivery_opts, FIN_INI_NAMED, FIN_NAME_DELIVERY, NULL},
    {"serve", fin_serve_opts, FIN_INI_UNNAMED, -1, NULL},
    {"query", fin_query_opts, FIN_INI_UNNAMED, -1, NULL},
    {"aws", fin_aws_opts, FIN_INI_NAME_OPTIONAL, -1, "s3|kinesis|firehose"},
    {NULL, NULL, 0, 0, NULL},
};

const struct fin_ini_schema *fin_cli_config_schema(void)
{
    return schema;
}

int fin_cli_config_check(const struct fin_cli *cli)
{
    struct fin_ini ini;
    int rc = fin_ini_load(&ini, cli->config, true);
    if (!rc) {
        rc = fin_ini_check(&ini, schema);
        fin_ini_fini(&ini);
    }
    if (rc)
        fin_log_err(rc, "configuration");
    return rc;
}
