/* cmd_check.c - finstream check. */
#include "cli.h"
#include "finstream/log.h"

int fin_cmd_check(struct fin_cli *cli, int argc, char **argv)
{
    (void)cli;
    if (fin_cli_wants_help(argc, argv)) {
        printf("usage: finstream check\n\nNot available in this build yet.\n");
        return 0;
    }
    fin_error("'check' is not available in this build");
    return 1;
}
