/* Every command, in `hilda --help` order. Adding one: a cmd_X.c with its
 * args, parsers and run function (command.h), a line here, one in meson. */
#include "cli.h"

const struct cmd *const hilda_commands[] = {
    &cmd_list, &cmd_desc, &cmd_ctrl, &cmd_ch9, &cmd_stress, &cmd_timing, &cmd_echo, &cmd_uart, &cmd_stats,
    &cmd_fault, &cmd_reset, &cmd_bootloader, &cmd_flash, &cmd_rig, NULL,
};
