/* cmd_report.c - finstream report. */
#include "cli.h"
#include "finstream/log.h"

int fin_cmd_report(struct fin_cli *cli, int argc, char **argv)
{
    (void)cli;
    if (fin_cli_wants_help(argc, argv)) {
        printf("usage: finstream report\n\nNot available in this build yet.\n");
        return 0;
    }
    fin_error("'report' is not available in this build");
    return 1;
}
