// SPDX-License-Identifier: GPL-2.0
/*
 * Linked into the test programs of `make sanitize` only (TEST_PROG_EXTRA).
 * tracer follows the programs it traces with ptrace (user/ptree.c), and
 * LeakSanitizer stops the world with ptrace at exit: in a process that already
 * has a tracer it cannot, and it dies with a fatal error instead of checking.
 * So the test programs, the helpers tracer watches, run without the leak
 * check; tracer itself keeps it (ASan's default on x86_64 Linux), and every
 * other ASan and UBSan check stays on in both.
 */
const char *__asan_default_options(void);

const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
