#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The host suite against the ASan+UBSan build (`make sanitize` builds it into
# .output/sanitize first, then runs this script from the repository root):
#
#   tests/sanitize.sh [FILTER]
#
# Every process of the build (tracer, the children it forks, the test programs
# it execs) writes a sanitizer report to its own file in a fresh log directory
# (log_path=DIR/asan, DIR/ubsan: the runtime appends .PID), whatever the exit
# status it then gives the test: so a report from a child whose status no test
# reads still fails the run. Fails if the suite fails or a report was written;
# prints every report.
set -uo pipefail
cd "$(dirname "$0")/.."

OUT=${SANITIZE_OUTPUT:-.output/sanitize}
LOGS=$(realpath -m "$OUT/logs")
[ -x "$OUT/tracer" ] || { echo "sanitize: $OUT/tracer missing: run make sanitize" >&2; exit 1; }
rm -rf "$LOGS"
mkdir -p "$LOGS"

# LeakSanitizer runs at the exit of tracer and its forks (ASan's default on
# x86_64 Linux; not set here, so that the test programs' own default,
# detect_leaks=0 from tests/sanitize_progs.c, holds: they run under tracer's
# ptrace, where LeakSanitizer cannot stop the world).
# halt_on_error: the first report ends the process (exit 99 / 98, not a code
# tracer uses). abort_on_error=0: exit, not abort(), so no core files.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:exitcode=99:log_path=$LOGS/asan:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export LSAN_OPTIONS="exitcode=99:log_path=$LOGS/lsan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=98:log_path=$LOGS/ubsan"
export TRACER_BIN="$OUT/tracer" TRACER_PROGS="$OUT/tests" TRACER_SANITIZED=1

start=$(date +%s)
python3 tests/run.py "$@"
rc=$?
reports=$(find "$LOGS" -type f | sort)
if [ -n "$reports" ]; then
	for f in $reports; do
		echo "=== sanitizer report $f"
		cat "$f"
	done
	echo "sanitize: $(echo "$reports" | wc -l) sanitizer report(s) in $LOGS" >&2
	rc=1
fi
echo "sanitize: suite exit $rc, $(($(date +%s) - start)) s, reports: $(echo -n "$reports" | grep -c .)"
exit $rc
