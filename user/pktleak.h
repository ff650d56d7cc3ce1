/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TRACER_PKTLEAK_H
#define TRACER_PKTLEAK_H

/* `tracer pktleak`: returns the process exit code. */
int cmd_pktleak(int argc, char **argv);

#endif
