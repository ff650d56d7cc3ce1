/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TRACER_TFO_H
#define TRACER_TFO_H

/* `tracer tfo`: where the kernel rejects MSG_FASTOPEN sends. */
int cmd_tfo(int argc, char **argv);

#endif
