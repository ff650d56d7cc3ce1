#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the kernel-matrix guests (tests/vm/vmtest.sh builds the initramfs
# around it; /bin/sh is busybox). Mounts the kernel filesystems, loads the
# modules listed in /modules, then runs the test suite in /src once per
# backend, with TRACER_TEST_BACKEND set, and powers off.
#
# Everything goes to the serial console, which the host keeps and
# tests/vm/report.py reads:
#   ===VMTEST kernel RELEASE
#   ===VMTEST probe {...}                 tracer -j probe
#   ===VMTEST begin BACKEND
#   ...tests/run.py's output...
#   ===VMTEST end BACKEND rc=N seconds=S
#   ===VMTEST dmesg begin / ===VMTEST dmesg end
#   ===VMTEST done
# Backends: those `tracer -j probe` says load (fentry, kprobe; tracepoint
# with tp_btf), or vmtest.backends=a,b on the kernel command line.
# vmtest.filter=F is passed to tests/run.py. vmtest.bench=1 runs
# bench/vm_bench.py (make bench-vm) in place of the suite. vmtest.timeout=S bounds each
# suite run (default 900 s: the fentry suite attaches its syscall layer at
# every start and takes 450-600 s under TCG).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1
umask 022

# mounts: what a booted Debian system has and the tracer and tests use.
mounts() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev 2>/dev/null
	mkdir -p /dev/pts /dev/shm
	mount -t devpts devpts /dev/pts
	mount -t tmpfs tmpfs /dev/shm
	mount -t tmpfs tmpfs /tmp
	mount -t tmpfs tmpfs /run
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	mount -t bpf bpf /sys/fs/bpf 2>/dev/null
	ip link set lo up
}

# cmdline_opt NAME: the value of vmtest.NAME= on the kernel command line.
cmdline_opt() {
	tr ' ' '\n' < /proc/cmdline | sed -n "s/^vmtest\.$1=//p" | tail -1
}

# allowed_backends: the backends tracer -j probe says this kernel loads.
allowed_backends() {
	python3 -c '
import json, sys
f = json.loads(sys.argv[1])["features"]
need = (("fentry", "fentry"), ("kprobe", "kprobe"), ("tracepoint", "tp_btf"))
if f["btf"]["ok"] and f["ringbuf"]["ok"]:
    print(" ".join(b for b, n in need if f[n]["ok"]))
' "$1"
}

# run_suite BACKEND: tests/run.py with TRACER_TEST_BACKEND=BACKEND, bounded.
run_suite() {
	echo "===VMTEST begin $1"
	t0=$(cut -d' ' -f1 /proc/uptime)
	# shellcheck disable=SC2086 # no filter: no argument
	TRACER_TEST_BACKEND=$1 timeout "$TIMEOUT" python3 tests/run.py $FILTER 2>&1
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "===VMTEST end $1 rc=$rc seconds=$(awk "BEGIN { print int($t1 - $t0 + 0.5) }")"
}

main() {
	mounts
	echo "===VMTEST kernel $(uname -r)"
	while read -r m; do
		insmod "/lib/modules/$m.ko" || echo "===VMTEST note insmod $m failed"
	done < /modules
	TIMEOUT=$(cmdline_opt timeout)
	TIMEOUT=${TIMEOUT:-900}
	FILTER=$(cmdline_opt filter)
	cd /src || exit 1
	probe=$(./tracer -j probe)
	echo "===VMTEST probe $probe"
	if [ -n "$(cmdline_opt bench)" ]; then
		timeout "$TIMEOUT" python3 bench/vm_bench.py run 2>&1
		echo "===VMTEST bench rc=$?"
	else
		backends=$(cmdline_opt backends | tr ',' ' ')
		[ -n "$backends" ] || backends=$(allowed_backends "$probe")
		echo "===VMTEST backends $backends"
		for b in $backends; do
			run_suite "$b"
		done
	fi
	echo "===VMTEST dmesg begin"
	dmesg
	echo "===VMTEST dmesg end"
	echo "===VMTEST done"
}

main
sync
poweroff -f
