/* cmd_catalog.c - finstream catalog. */
#include "cli.h"
#include "finstream/log.h"

int fin_cmd_catalog(struct fin_cli *cli, int argc, char **argv)
{
    (void)cli;
    if (fin_cli_wants_help(argc, argv)) {
        printf("usage: finstream catalog\n\nNot available in this build yet.\n");
        return 0;
    }
    fin_error("'catalog' is not available in this build");
    return 1;
}
