/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TRACER_PKTLEAK_H
#define TRACER_PKTLEAK_H

#include "tracer.h"

/* `tracer pktleak`: returns the process exit code. */
int cmd_pktleak(int argc, char **argv);
/*
 * Its options alone, without acting (nothing is opened or started): 0, -1
 * after --help (printed), or EXIT_USAGE after reporting the error.
 * getopt_long() from optind.
 */
int pktleak_parse_args(int argc, char **argv);
/* Its getopt tables (main() picks the global options out of argv). */
extern const struct cmd_options pktleak_options;

#endif
