/* cmd_stream.c - finstream stream. */
#include "cli.h"
#include "finstream/log.h"

int fin_cmd_stream(struct fin_cli *cli, int argc, char **argv)
{
    (void)cli;
    if (fin_cli_wants_help(argc, argv)) {
        printf("usage: finstream stream\n\nNot available in this build yet.\n");
        return 0;
    }
    fin_error("'stream' is not available in this build");
    return 1;
}
