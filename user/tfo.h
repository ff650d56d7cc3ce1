/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TRACER_TFO_H
#define TRACER_TFO_H

#include "tracer.h"

/* `tracer tfo`: where the kernel rejects MSG_FASTOPEN sends. */
int cmd_tfo(int argc, char **argv);
/*
 * Its options alone, without acting (nothing is opened or started): 0, -1
 * after --help (printed), or EXIT_USAGE after reporting the error.
 * getopt_long() from optind.
 */
int tfo_parse_args(int argc, char **argv);
/* Its getopt tables (main() picks the global options out of argv). */
extern const struct cmd_options tfo_options;

#endif
