/* SPDX-License-Identifier: GPL-2.0 */
/* CLOCK_MONOTONIC in ns, and sleeping until a point of it (paced senders). */
#ifndef TRACER_CLOCK_H
#define TRACER_CLOCK_H

#include <errno.h>
#include <time.h>

#define NSEC_PER_SEC 1000000000ULL

static inline unsigned long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * NSEC_PER_SEC +
	       (unsigned long long)ts.tv_nsec;
}

/* Sleep until CLOCK_MONOTONIC reaches @ns, through signal interruptions. */
static inline void sleep_until(unsigned long long ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / NSEC_PER_SEC),
			       .tv_nsec = (long)(ns % NSEC_PER_SEC) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

#endif
