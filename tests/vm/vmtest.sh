#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The kernel matrix (`make vmtest`): run the real test suite, tests/run.py,
# on Debian 12's newest 6.1 and 6.12 cloud kernels booted in QEMU, once per
# backend each kernel allows (TRACER_TEST_BACKEND=fentry, kprobe, tracepoint).
#
#   tests/vm/vmtest.sh
#
# Steps, all from the repository root:
#  1. kernels: the newest package apt-cache offers for each pattern in
#     KERNELS below (`apt-get update` first when the package lists are more
#     than a day old), fetched with `apt-get download` and unpacked with
#     `dpkg-deb -x` into $CACHE/kernels/ (kept between runs);
#  2. a static tracer, built by make into $CACHE/build (STATIC=1), so
#     ./tracer stays as it is, and the test programs (`make test-progs`);
#  3. one initramfs part shared by all kernels: busybox-static, the tracer
#     tree (tracer, tests/, .output/tests/), python3.11 with the stdlib
#     minus what the tests never use, ruby, and ip, unshare, lsns, ps,
#     pgrep, bpftool, capsh, bash, dash, each with the libraries ldd lists; then
#     one part per kernel with its modules (veth); the kernel unpacks the
#     two cpio archives one after the other;
#  4. the guests, in parallel (VMTEST_JOBS), each under `timeout`:
#     tests/vm/init.sh is their /init and prints each suite run between
#     markers on the serial console (and dmesg at the end), which goes to
#     $CACHE/<kernel release>/console.log;
#  5. tests/vm/report.py reads the console logs, prints a summary, and fails
#     on a failed or missing test run, a kernel oops/BUG/WARNING, a verifier
#     failure or a timeout. With VMTEST_REPORT=1 (`make vmtest-report`) and
#     a full run, it also writes tests/vm/RESULTS.md and README.md's "Kernel
#     matrix" section; `make vmtest` (and so `make test`) never edits them.
#
# Environment (the defaults are what `make vmtest` runs):
#   VMTEST_REPORT    1: write RESULTS.md and README.md after a full run
#   VMTEST_JOBS      guests booted at once (default: 2 with 2 CPUs or more)
#   VMTEST_TIMEOUT   seconds per guest, boot to power-off (default 1800)
#   VMTEST_MEM       guest memory in MiB (default 1024)
#   VMTEST_BACKENDS  e.g. "fentry,kprobe": run these instead of every backend
#                    the kernel allows (debugging; no results written)
#   VMTEST_FILTER    tests/run.py FILTER (debugging; no results written)
#   VMTEST_KERNELS   space-separated "6.1" / "6.12" subset (debugging)
#   VMTEST_BENCH     1 (`make bench-vm`): the guests run bench/vm_bench.py
#                    in place of the suite, and its table goes to
#                    bench/RESULTS-vm.md (one kernel: the last booted)
# Needs root (make deps: qemu-system-x86, busybox-static, ...) and, on a cold
# cache, network access to the Debian mirror.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=$ROOT/.output/vm
JOBS=${VMTEST_JOBS:-$(if [ "$(nproc)" -ge 2 ]; then echo 2; else echo 1; fi)}
TIMEOUT=${VMTEST_TIMEOUT:-1800}
MEM=${VMTEST_MEM:-1024}
BACKENDS=${VMTEST_BACKENDS:-}
FILTER=${VMTEST_FILTER:-}
BENCH=${VMTEST_BENCH:-}
WANT=${VMTEST_KERNELS:-6.1 6.12}

# Kernel series and the apt-cache regular expression of its packages.
KERNELS='6.1=^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$
6.12=^linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64-unsigned$'
# Modules the tests need that these kernels build as modules.
MODULES=veth
# Parts of /usr/lib/python3.11 no test imports.
PY_SKIP='test idlelib tkinter turtledemo ensurepip lib2to3 pydoc_data
distutils config-3.11-x86_64-linux-gnu site-packages dist-packages'
# Tools the tests run, copied with their libraries (busybox has the rest).
TOOLS='/usr/sbin/ip /usr/bin/unshare /usr/bin/lsns /usr/bin/ps /usr/bin/pgrep
/usr/sbin/bpftool /usr/sbin/capsh /usr/bin/python3.11 /usr/bin/ruby
/usr/bin/curl /usr/bin/tcpdump /usr/sbin/dhclient'

say() { printf 'vmtest: %s\n' "$*"; }
die() { printf 'vmtest: error: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------ 1. kernels

# apt_lists_fresh: true if apt's package lists were updated less than a day
# ago (by us: the stamp; by anyone: the directory, where apt renames them).
apt_lists_fresh() {
	[ -n "$(find "$CACHE/apt-update.stamp" /var/lib/apt/lists -maxdepth 0 \
		-mmin -1440 2>/dev/null)" ]
}

# newest_package REGEX: the newest package name apt-cache knows for REGEX.
newest_package() {
	apt-cache search --names-only "$1" | cut -d' ' -f1 | sort -V | tail -1
}

# fetch_kernel SERIES REGEX: print the directory holding the unpacked newest
# kernel package of SERIES, downloading and unpacking it if not cached.
fetch_kernel() {
	series=$1 regex=$2
	pkg=$(newest_package "$regex")
	if [ -z "$pkg" ] || ! apt_lists_fresh; then
		say "apt-get update (package lists older than a day)" >&2
		if apt-get update -qq >&2; then
			touch "$CACHE/apt-update.stamp"
		else
			say "apt-get update failed: using the lists as they are" >&2
		fi
		pkg=$(newest_package "$regex")
	fi
	[ -n "$pkg" ] || die "no package matches $regex (apt-cache search)"
	version=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: *//p')
	dir=$CACHE/kernels/${pkg}_$version
	if ! [ -f "$dir/.unpacked" ]; then
		say "$series: downloading $pkg $version" >&2
		rm -rf "$dir" "$CACHE/debs"
		mkdir -p "$dir" "$CACHE/debs"
		# apt-get download writes to the current directory (and, as
		# root, warns that it runs unsandboxed).
		(cd "$CACHE/debs" && apt-get download -qq "$pkg=$version" 2>&1) |
			grep -v 'unsandboxed' >&2 || :
		deb=$(find "$CACHE/debs" -name "${pkg}_*.deb" | head -1)
		[ -n "$deb" ] || die "apt-get download $pkg=$version failed"
		dpkg-deb -x "$deb" "$dir"
		rm -rf "$CACHE/debs"
		touch "$dir/.unpacked"
	fi
	echo "$dir"
}

# ------------------------------------------------------------- 2. build

# build: a static tracer in $CACHE/build (its own OUTPUT: ./tracer stays as
# it is), and the test programs as the host tests use them. Those stay
# dynamically linked: the tests check that tracer sees their calls to the
# system libc's wrappers, which a static program does not make.
build() {
	say "building a static tracer into $CACHE/build, and the test programs"
	make -C "$ROOT" --no-print-directory STATIC=1 TCG_GUEST=1 \
		OUTPUT="$CACHE/build" TRACER_BIN="$CACHE/build/tracer" \
		"$CACHE/build/tracer"
	if readelf -l "$CACHE/build/tracer" | grep -q 'program interpreter'; then
		die "$CACHE/build/tracer is not statically linked"
	fi
	make -C "$ROOT" --no-print-directory test-progs .output/bench/getpid_loop \
		.output/bench/udp_loop
}

# --------------------------------------------------------- 3. initramfs

# put FILE [DEST]: copy FILE (following symlinks) to DEST (default: the same
# path) inside the root being built, $RD.
put() {
	dest=$RD${2:-$1}
	mkdir -p "$(dirname "$dest")"
	cp -L "$1" "$dest"
}

# put_libs FILE...: copy the shared libraries ldd lists for each FILE, and
# the dynamic loader, to where the loader looks for them (/usr/lib..., with
# /lib and /lib64 links in the root as on Debian 12).
put_libs() {
	for _bin in "$@"; do
		ldd "$_bin" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }'
	done | sort -u | while read -r lib; do
		real=$(readlink -f "$(dirname "$lib")")
		[ -e "$RD$real/$(basename "$lib")" ] ||
			put "$lib" "$real/$(basename "$lib")"
	done
}

# put_bin FILE [DEST]: a program and its libraries.
put_bin() {
	put "$1" "${2:-$1}"
	put_libs "$1"
}

# put_tree DIR [SKIP...]: copy DIR (times kept, so Python's .pyc stay valid)
# without its subdirectories SKIP, plus the libraries of its .so files.
put_tree() {
	dir=$1; shift
	mkdir -p "$RD$dir"
	excl=
	for s in "$@"; do excl="$excl --exclude=./$s"; done
	# shellcheck disable=SC2086 # word splitting wanted
	tar -C "$dir" $excl -cf - . | tar -C "$RD$dir" -xf -
	find "$RD$dir" -name '*.so' | sed "s|^$RD||" | while read -r so; do
		put_libs "$so"
	done
}

# make_cpio DIR OUT: DIR as a newc cpio archive owned by root.
make_cpio() {
	(cd "$1" && find . | sort | busybox cpio -o -H newc -R 0:0 2>/dev/null) > "$2"
}

# build_common: the part of the initramfs all kernels share.
build_common() {
	say "building the initramfs (tools, python3, ruby, tests)"
	RD=$CACHE/root
	rm -rf "$RD"
	mkdir -p "$RD"
	for d in bin sbin usr/bin usr/sbin usr/lib usr/lib64 proc sys dev tmp \
		run root etc var; do
		mkdir -p "$RD/$d"
	done
	ln -s usr/lib "$RD/lib"
	ln -s usr/lib64 "$RD/lib64"
	ln -s ../run "$RD/var/run"
	printf 'root:x:0:0:root:/root:/bin/sh\n' > "$RD/etc/passwd"
	printf 'root:x:0:\n' > "$RD/etc/group"
	printf '127.0.0.1 localhost\n::1 localhost\n' > "$RD/etc/hosts"

	# busybox for everything else (sh, mount, timeout, insmod, ...); the
	# copied tools come first in PATH.
	put "$(command -v busybox)" /bin/busybox
	for applet in $(busybox --list); do
		[ -e "$RD/bin/$applet" ] || ln -s busybox "$RD/bin/$applet"
	done
	# /bin/sh is dash, as on Debian: busybox sh would run its own applets
	# (ip, ps, ...) in place of the real tools. capsh runs /bin/bash.
	rm -f "$RD/bin/sh" "$RD/bin/bash"
	put_bin /usr/bin/dash /bin/sh
	put_bin /usr/bin/bash /bin/bash

	for t in $TOOLS; do
		[ -x "$t" ] || die "$t not found (make deps)"
		put_bin "$t"
	done
	ln -sf python3.11 "$RD/usr/bin/python3"
	# shellcheck disable=SC2086 # word splitting wanted
	put_tree /usr/lib/python3.11 $PY_SKIP
	rver=$(ruby -e 'print RbConfig::CONFIG["ruby_version"]')
	put_tree "/usr/lib/ruby/$rver"
	put_tree /usr/lib/ruby/vendor_ruby
	put_tree "/usr/lib/x86_64-linux-gnu/ruby/$rver"
	put_tree "/usr/lib/ruby/gems/$rver/specifications"

	# The tracer tree, laid out as tests/lib.py expects.
	put "$CACHE/build/tracer" /src/tracer
	for f in "$ROOT"/tests/progs/*.c; do
		f=${f##*/}
		put_bin "$ROOT/.output/tests/${f%.c}" "/src/.output/tests/${f%.c}"
	done
	# tfo_client through other C libraries (Makefile: static glibc, and
	# musl ones where musl-gcc is installed), and tfo_go (static, no libc,
	# where go is installed); the dynamic musl one needs musl's loader,
	# which is its libc.
	for f in tfo_client_static tfo_client_musl tfo_client_musl_static \
		tfo_go; do
		if [ -x "$ROOT/.output/tests/$f" ]; then
			put "$ROOT/.output/tests/$f" "/src/.output/tests/$f"
		fi
	done
	if [ -e /lib/ld-musl-x86_64.so.1 ]; then
		put /lib/ld-musl-x86_64.so.1
	fi
	for f in "$ROOT"/tests/*.py "$ROOT"/tests/progs/*.py \
		"$ROOT"/tests/progs/*.rb; do
		put "$f" "/src/${f#"$ROOT"/}"
	done
	# make bench-vm's workload and driver
	put_bin "$ROOT/.output/bench/getpid_loop" /src/.output/bench/getpid_loop
	put_bin "$ROOT/.output/bench/udp_loop" /src/.output/bench/udp_loop
	put "$ROOT/bench/vm_bench.py" /src/bench/vm_bench.py
	cp "$ROOT/tests/vm/init.sh" "$RD/init"
	chmod 755 "$RD/init"
	make_cpio "$RD" "$CACHE/common.cpio"
	say "initramfs: $(du -sm "$RD" | cut -f1) MiB"
}

# module_depends KO: the modules KO depends on (its .modinfo "depends=").
module_depends() {
	case $1 in
	*.xz) xz -dc "$1" ;;
	*) cat "$1" ;;
	esac | tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' '
}

# find_module KDIR NAME: the path of module NAME (.ko or .ko.xz) in KDIR.
find_module() {
	ko=$(find "$1/lib/modules" -name "$2.ko" -o -name "$2.ko.xz" | head -1)
	[ -n "$ko" ] || die "module $2 not in $1"
	echo "$ko"
}

# add_module KDIR DIR NAME: put module NAME, after the modules it depends
# on, into DIR/usr/lib/modules (decompressed: busybox insmod reads plain .ko),
# and append its name to DIR/modules (the load order).
add_module() {
	for dep in $(module_depends "$(find_module "$1" "$3")"); do
		grep -qx "$dep" "$2/modules" || add_module "$1" "$2" "$dep"
	done
	ko=$(find_module "$1" "$3")
	case $ko in
	*.xz) xz -dc "$ko" > "$2/usr/lib/modules/$3.ko" ;;
	*) cp "$ko" "$2/usr/lib/modules/$3.ko" ;;
	esac
	echo "$3" >> "$2/modules"
}

# build_modules KDIR OUT: a cpio with /usr/lib/modules/NAME.ko
# (decompressed) for each of $MODULES and what they depend on, and /modules
# (load order). Under usr/: a real lib/ directory in this archive would
# replace the /lib -> usr/lib link of the common one when the kernel unpacks
# it (clean_path() in init/initramfs.c), and with it /lib/ld-musl-*.
build_modules() {
	kdir=$1 out=$2
	md=$out/mods
	rm -rf "$md"
	mkdir -p "$md/usr/lib/modules"
	: > "$md/modules"
	for m in $MODULES; do add_module "$kdir" "$md" "$m"; done
	make_cpio "$md" "$out/modules.cpio"
}

# ----------------------------------------------------------- 4. guests

# run_guest KDIR: boot the kernel in KDIR with the initramfs, log the
# console to $CACHE/<release>/console.log.
run_guest() {
	kdir=$1
	vmlinuz=$(ls "$kdir"/boot/vmlinuz-*)
	release=${vmlinuz##*/vmlinuz-}
	out=$CACHE/$release
	mkdir -p "$out"
	build_modules "$kdir" "$out"
	cat "$CACHE/common.cpio" "$out/modules.cpio" > "$out/initrd.cpio"
	append="console=ttyS0 quiet panic=-1 vmtest.backends=$BACKENDS"
	[ -z "$FILTER" ] || append="$append vmtest.filter=$FILTER"
	[ -z "$BENCH" ] || append="$append vmtest.bench=1"
	say "$release: booting (timeout ${TIMEOUT}s)"
	start=$(date +%s)
	rc=0
	timeout -k 10 "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max \
		-m "$MEM" -smp 1 -nographic -no-reboot \
		-kernel "$vmlinuz" -initrd "$out/initrd.cpio" -append "$append" \
		</dev/null >"$out/console.log" 2>&1 || rc=$?
	secs=$(($(date +%s) - start))
	echo "$rc $secs" > "$out/qemu"
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		say "$release: TIMEOUT after ${secs}s"
	else
		say "$release: done in ${secs}s (qemu exit $rc)"
	fi
}

# ------------------------------------------------------------- main

main() {
	[ "$(id -u)" = 0 ] || die "needs root (apt-get, and the guests' tests)"
	for t in qemu-system-x86_64 busybox apt-get dpkg-deb xz readelf; do
		command -v "$t" >/dev/null || die "$t not found (make deps)"
	done
	write=
	if [ "${VMTEST_REPORT:-}" = 1 ]; then
		[ -z "$BACKENDS$FILTER$BENCH" ] && [ "$WANT" = "6.1 6.12" ] ||
			die "VMTEST_REPORT=1 needs a full run (no VMTEST_BACKENDS, VMTEST_FILTER or VMTEST_KERNELS)"
		write=--write
	fi
	t0=$(date +%s)
	mkdir -p "$CACHE"
	kdirs=
	for series in $WANT; do
		regex=$(echo "$KERNELS" | sed -n "s/^$series=//p")
		[ -n "$regex" ] || die "unknown kernel series $series"
		kdirs="$kdirs $(fetch_kernel "$series" "$regex")"
	done
	build
	build_common

	# Boot JOBS guests at a time.
	logs='' pids='' n=0
	for kdir in $kdirs; do
		run_guest "$kdir" &
		pids="$pids $!"
		n=$((n + 1))
		if [ "$n" -ge "$JOBS" ]; then
			for p in $pids; do wait "$p" || true; done
			pids='' n=0
		fi
	done
	for p in $pids; do wait "$p" || true; done
	for kdir in $kdirs; do
		vmlinuz=$(ls "$kdir"/boot/vmlinuz-*)
		logs="$logs $CACHE/${vmlinuz##*/vmlinuz-}"
	done

	rc=0
	if [ -n "$BENCH" ]; then
		for log in $logs; do
			python3 "$ROOT/bench/vm_bench.py" report \
				"$log/console.log" "$ROOT/bench/RESULTS-vm.md" || rc=$?
		done
		say "total $(($(date +%s) - t0))s"
		return $rc
	fi
	# shellcheck disable=SC2086 # word splitting wanted
	python3 "$ROOT/tests/vm/report.py" $write --root "$ROOT" $logs || rc=$?
	say "total $(($(date +%s) - t0))s"
	return $rc
}

main "$@"
