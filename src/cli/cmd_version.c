/* cmd_version.c - finstream version: versions of finstream and the libraries it embeds. */
#include "cli.h"
#include "finstream/http.h"
#include "finstream/query.h"

#include <jansson.h>
#include <zlib.h>

int fin_cmd_version(struct fin_cli *cli, int argc, char **argv)
{
    (void)cli;
    if (fin_cli_wants_help(argc, argv)) {
        printf("usage: finstream version\n\nPrints the versions of finstream and of the engines it embeds.\n");
        return 0;
    }
    printf("finstream %s\n", FIN_VERSION);
    printf("duckdb    %s\n", fin_query_engine_version());
    printf("libcurl   %s\n", fin_http_library_version());
    printf("jansson   %s\n", jansson_version_str());
    printf("zlib      %s\n", zlibVersion());
    return 0;
}
