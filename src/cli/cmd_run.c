/* cmd_run.c - finstream run. */
#include "cli.h"
#include "finstream/log.h"

int fin_cmd_run(struct fin_cli *cli, int argc, char **argv)
{
    (void)cli;
    if (fin_cli_wants_help(argc, argv)) {
        printf("usage: finstream run\n\nNot available in this build yet.\n");
        return 0;
    }
    fin_error("'run' is not available in this build");
    return 1;
}
