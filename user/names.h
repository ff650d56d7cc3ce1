/* SPDX-License-Identifier: GPL-2.0 */
/* Names for numbers the kernel reports: errno, TCP states, flags, families. */
#ifndef TRACER_NAMES_H
#define TRACER_NAMES_H

#include <stddef.h>

/* "EINVAL" for 22 or -22, "ENOTSUPP" for the kernel's 524, "errno N" if
 * unknown (valid until the next call); NULL for 0. */
const char *errno_name(long err);
/* The errno of a kernel return value: -@ret if it is -1 ... -4095, else 0. */
long errno_of(long long ret);
const char *tcp_state_name(int state);
const char *family_name(int family);
/* "MSG_FASTOPEN|MSG_DONTWAIT" or "0"; unknown bits as hex. */
const char *msg_flags_str(unsigned int flags, char *buf, size_t len);

#endif
