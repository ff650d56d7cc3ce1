#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make fuzz`: run each libFuzzer target for SECONDS from its seed corpus.
#
#   tests/fuzz/run.sh DIR SECONDS TARGET...
#
# DIR holds the binaries (DIR/TARGET), the corpus each run grows
# (DIR/corpus/TARGET; tests/fuzz/TARGET/ is only read), the log
# (DIR/TARGET.log) and what a failing input is saved as
# (DIR/artifacts/TARGET-crash-..., -leak-, -timeout-). Fails if any target
# crashed, a sanitizer reported, an input leaked or ran over 10 s.
set -uo pipefail
cd "$(dirname "$0")/../.."
dir=$1 seconds=$2
shift 2

# A sanitizer report ends the run as a crash, never a line in a log.
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

failed=()
for t in "$@"; do
	mkdir -p "$dir/corpus/$t" "$dir/artifacts"
	# ring records: a pktleak frame with its bytes is 2 KB and more
	max_len=1024
	case $t in *_records) max_len=4096 ;; esac
	# -close_fd_mask=3: the parsers' --help and Error: lines go nowhere;
	# libFuzzer's and the sanitizers' reports still reach the log.
	"$dir/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len="$max_len" -print_final_stats=1 -close_fd_mask=3 \
		-artifact_prefix="$dir/artifacts/$t-" \
		"$dir/corpus/$t" "tests/fuzz/$t" >"$dir/$t.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$t.log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/$t.log")
	corpus=$(ls "$dir/corpus/$t" | wc -l)
	if [ "$rc" = 0 ]; then
		printf '  %-8s %s: %s executions in %s s (%s/s), %s inputs in corpus\n' \
			FUZZ "$t" "${runs:-?}" "$seconds" "${rate:-?}" "$corpus"
	else
		printf '  %-8s %s: FAILED (exit %s) after %s executions; log %s\n' \
			FUZZ "$t" "$rc" "${runs:-?}" "$dir/$t.log"
		grep -E 'ERROR|SUMMARY|check failed|Test unit written|runtime error' \
			"$dir/$t.log" | head -20 | sed 's/^/    /'
		failed+=("$t")
	fi
done
echo "fuzz: $(($# - ${#failed[@]})) passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
