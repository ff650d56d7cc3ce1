/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TRACER_PKTLEAK_H
#define TRACER_PKTLEAK_H

#include "tracer.h"

/* `tracer pktleak`: returns the process exit code. */
int cmd_pktleak(int argc, char **argv);
/* Its getopt tables (main() picks the global options out of argv). */
extern const struct cmd_options pktleak_options;

#endif
