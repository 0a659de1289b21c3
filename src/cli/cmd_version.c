/* cmd_version.c - finstream version: versions of finstream and the libraries it embeds. */
#include "cli.h"
#include "cli_util.h"
#include "finstream/http.h"
#include "finstream/query.h"

#include <jansson.h>
#include <zlib.h>

int fin_cmd_version(struct fin_cli *cli, int argc, char **argv)
{
    (void)cli;
    if (fin_cli_wants_help(argc, argv)) {
        printf("usage: finstream version [--format text|json]\n\n"
               "Prints the versions of finstream and of the engines it embeds; --format json\n"
               "prints one object {\"finstream\":...,\"duckdb\":...,\"libcurl\":...,\"jansson\":...,\n"
               "\"zlib\":...}.\n");
        return 0;
    }
    bool json = false;
    int rc = fin_cli_take_format("version", &argc, argv, &json);
    if (rc)
        return rc;
    if (argc > 1)
        return fin_cli_usage_error("version", "unknown argument '%s'", argv[1]);
    if (json) {
        fin_cli_print_json(json_pack("{s:s,s:s,s:s,s:s,s:s}", "finstream", FIN_VERSION, "duckdb",
                                     fin_query_engine_version(), "libcurl",
                                     fin_http_library_version(), "jansson", jansson_version_str(),
                                     "zlib", zlibVersion()));
        return 0;
    }
    printf("finstream %s\n", FIN_VERSION);
    printf("duckdb    %s\n", fin_query_engine_version());
    printf("libcurl   %s\n", fin_http_library_version());
    printf("jansson   %s\n", jansson_version_str());
    printf("zlib      %s\n", zlibVersion());
    return 0;
}
