# SPDX-License-Identifier: GPL-2.0
# tracer: eBPF-assisted kernel behaviour tracer.
#
#   make               build ./tracer
#   make STATIC=1      statically linked ./tracer (for the kernel-matrix guests)
#   make man           the man pages (doc/*.scd, scdoc) into $(OUTPUT)/man
#   make test          run the test suite (needs root), then make vmtest
#   make vmtest        the test suite in QEMU on Debian's 6.1 and 6.12 kernels
#   make vmtest-report the same, then write its results into README.md and
#                      tests/vm/RESULTS.md (the only target that edits them)
#   make bench-vm      the fentry backend's overhead in the 6.12 guest
#                      (bench/RESULTS-vm.md)
#   make fuzz          each libFuzzer target (tests/fuzz/NAME.c) for
#                      FUZZ_SECONDS (default 30) from its seeds (tests/fuzz/NAME/)
#   make vmlinux       regenerate vmlinux/$(ARCH)/vmlinux.h from this kernel's BTF
#   make install       the binary, man pages and bash completion into
#                      $(DESTDIR)$(PREFIX)/{sbin,share/man/man8,share/bash-completion}
#   V=1                show full commands
#
# CC, CFLAGS, CPPFLAGS and LDFLAGS given by the user (make CFLAGS='-O1 -g',
# a distribution's build flags, sanitizers) are added to the flags tracer
# needs, after them, never in their place.

VERSION := 0.1.0
OUTPUT := .output
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
SCDOC ?= scdoc
PREFIX ?= /usr/local
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX := vmlinux/$(ARCH)/vmlinux.h

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/%.o,$(USER_SRCS))

WARN := -Wall -Wextra -Werror
# libnl-route-3-dev's headers (pkg-config --cflags libnl-route-3.0), spelled
# out so that `make deps all` works before pkg-config is installed.
LIBNL_INC := /usr/include/libnl3
# The user's CFLAGS (default -g -O2) come last, so that their -O wins.
CFLAGS ?= -g -O2
TRACER_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -DTRACER_VERSION='"$(VERSION)"' \
	  -I$(OUTPUT) -Ibpf -Iuser -I$(LIBNL_INC) -MMD -MP
# TCG_GUEST=1 (tests/vm/vmtest.sh): the kernel-matrix guests' build, which
# faults its memory in at start and after each fork() (runtime.c:
# tcg_guest_prefault()).
ifeq ($(TCG_GUEST),1)
TRACER_CFLAGS += -DTRACER_TCG_GUEST
endif
ALL_CFLAGS = $(TRACER_CFLAGS) $(CPPFLAGS) $(CFLAGS)
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -std=gnu11 $(WARN) \
	      -Wno-unused-parameter -Ivmlinux/$(ARCH) -Ibpf -MMD -MP

LIBS := -lnl-route-3 -lnl-3 -lbpf -lelf -lz -ljson-c -lcap -lpcap
TRACER_LDFLAGS :=
ifeq ($(STATIC),1)
TRACER_LDFLAGS += -static
LIBS += -lzstd
# libpcap.a's D-Bus capture source needs libdbus-1.a (pkg-config --static
# --libs libpcap), whose systemd socket activation needs libsystemd, which
# Debian ships only as a shared library. tracer never opens a D-Bus capture,
# so nothing calls these two: they resolve to 0.
LIBS += -ldbus-1 -Wl,--defsym=sd_listen_fds=0 -Wl,--defsym=sd_is_socket=0
endif
ALL_LDFLAGS = $(TRACER_LDFLAGS) $(LDFLAGS)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean deps test test-progs vmtest vmtest-report vmlinux install \
	man tidy format-check bench bench-vm fuzz

# Debian 12 packages needed to build, run and test (installed by `make deps`).
DEPS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libzstd-dev \
	libjson-c-dev libcap-dev libnl-route-3-dev pkg-config make gcc python3 \
	ruby iproute2 libcap2-bin util-linux clang-format clang-tidy \
	qemu-system-x86 busybox-static procps xz-utils \
	strace bpftrace scdoc man-db curl musl-tools tcpdump libpcap-dev libclang-rt-dev \
	isc-dhcp-client golang-go

# The binary. tests/vm/vmtest.sh builds a static one into its own OUTPUT with
# STATIC=1 OUTPUT=... TRACER_BIN=..., leaving ./tracer alone.
TRACER_BIN ?= tracer

all: $(TRACER_BIN)

$(OUTPUT):
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(VMLINUX) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MF $(OUTPUT)/$*.bpf.d -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# Every user object may include any skeleton; they are cheap to generate.
$(OUTPUT)/%.o: user/%.c $(SKELS) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(TRACER_BIN): $(USER_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

# Man pages: doc/NAME.8.scd -> $(OUTPUT)/man/NAME.8 (scdoc).
MAN_PAGES := $(patsubst doc/%.scd,$(OUTPUT)/man/%,$(wildcard doc/*.scd))
$(OUTPUT)/man/%: doc/%.scd
	$(call msg,SCDOC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(SCDOC) < $< > $@

man: $(MAN_PAGES)

# Test helper programs (traffic generators traced by the tests).
TEST_PROGS := $(patsubst tests/progs/%.c,$(OUTPUT)/tests/%,$(wildcard tests/progs/*.c))
# TEST_PROG_EXTRA: sources linked into every test program (make sanitize).
TEST_PROG_EXTRA ?=
$(OUTPUT)/tests/%: tests/progs/%.c $(TEST_PROG_EXTRA) $(wildcard tests/progs/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< $(TEST_PROG_EXTRA) -o $@

# tfo_client through other C libraries: static glibc, and musl (musl-tools)
# dynamic (interpreter /lib/ld-musl-x86_64.so.1) and static.
MUSL_CC ?= musl-gcc
PROG_CFLAGS := -g -O2 -std=gnu11 $(WARN) -D_GNU_SOURCE
TEST_PROGS += $(OUTPUT)/tests/tfo_client_static \
	      $(OUTPUT)/tests/tfo_client_musl $(OUTPUT)/tests/tfo_client_musl_static
# Looked for when the rule runs, not when make reads this file: in `make deps
# test`, musl-tools is installed after that. Without it the program is not
# built and its tests say so when they skip.
musl_cc = if command -v $(MUSL_CC) >/dev/null; then \
		$(MUSL_CC) $(PROG_CFLAGS) $(1) $< -o $@; \
	else echo "  no $(MUSL_CC) (make deps installs musl-tools): $@ not built"; fi
$(OUTPUT)/tests/%_static: tests/progs/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PROG_CFLAGS) -static $< -o $@

$(OUTPUT)/tests/%_musl: tests/progs/%.c
	$(call msg,MUSL-CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(call musl_cc,)

$(OUTPUT)/tests/%_musl_static: tests/progs/%.c
	$(call msg,MUSL-CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(call musl_cc,-static)

# tfo_go: the Fast Open sends from Go (golang-go), whose syscall package
# needs no libc. Without go it is not built and its test says so.
TEST_PROGS += $(OUTPUT)/tests/tfo_go
$(OUTPUT)/tests/tfo_go: tests/progs/tfo_go.go
	$(call msg,GO,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)if command -v go >/dev/null; then \
		CGO_ENABLED=0 GOCACHE=$(abspath $(OUTPUT))/gocache \
			go build -o $@ $<; \
	else echo "  no go (make deps installs golang-go): $@ not built"; fi

test-progs: $(TEST_PROGS)

# Benchmarks (bench/bench.py): workloads, then the side-by-side runs.
$(OUTPUT)/bench/udp_loop: bench/udp_loop.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@

$(OUTPUT)/bench/getpid_loop: bench/getpid_loop.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@

$(OUTPUT)/bench/veth_rate: bench/veth_rate.c $(OUTPUT)/netlink.o
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $^ -lnl-route-3 -lnl-3 -o $@

# The floor: empty BPF programs on a running tracer's hooks (bench/floor.c).
$(OUTPUT)/bench/floor: bench/floor.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -lbpf -lelf -lz -o $@

BENCH_PROGS := $(OUTPUT)/bench/udp_loop $(OUTPUT)/bench/veth_rate \
	       $(OUTPUT)/bench/floor

bench: tracer $(BENCH_PROGS)
	$(Q)python3 bench/bench.py

# The fentry backend's figure, which needs a kernel that allows fentry: a
# getpid() loop untraced and under tfo --all with each backend, in the 6.12
# guest of tests/vm/vmtest.sh (QEMU TCG), into bench/RESULTS-vm.md. Not part
# of `make bench`.
bench-vm:
	$(Q)VMTEST_BENCH=1 VMTEST_KERNELS=6.12 tests/vm/vmtest.sh

# Fuzzing (tests/fuzz/): a target is tests/fuzz/NAME.c defining
# LLVMFuzzerTestOneInput() plus its seed corpus tests/fuzz/NAME/; it links
# with tests/fuzz/harness.c and tracer's objects (all but main.o), every one
# built by clang with ASan and UBSan (any report aborts) into $(FUZZ_DIR).
FUZZ_SECONDS ?= 30
FUZZ_DIR := $(OUTPUT)/fuzz
FUZZ_TARGETS := $(filter-out harness,$(basename $(notdir $(wildcard tests/fuzz/*.c))))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := $(TRACER_CFLAGS) -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) \
	       -fsanitize=fuzzer-no-link -Itests/fuzz
FUZZ_LIB_OBJS := $(patsubst user/%.c,$(FUZZ_DIR)/obj/%.o,$(filter-out user/main.c,$(USER_SRCS)))

$(FUZZ_DIR)/obj/%.o: user/%.c $(SKELS)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/obj/fuzz-%.o: tests/fuzz/%.c $(SKELS)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/libtracer.a: $(FUZZ_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/%: $(FUZZ_DIR)/obj/fuzz-%.o $(FUZZ_DIR)/obj/fuzz-harness.o $(FUZZ_DIR)/libtracer.a
	$(call msg,FUZZER,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ $(LIBS) -o $@

fuzz: $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))
	$(Q)tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Tests leave the checkout as it was (tests/run.py checks it at the end).
test: tracer test-progs
	$(Q)python3 tests/run.py
	$(Q)$(MAKE) --no-print-directory vmtest

# The kernel matrix: tests/vm/vmtest.sh (see there; cache in $(OUTPUT)/vm).
vmtest:
	$(Q)tests/vm/vmtest.sh

# The same, then README.md's Kernel matrix section and tests/vm/RESULTS.md
# rewritten from its results: run by hand, commit what it changed.
vmtest-report:
	$(Q)VMTEST_REPORT=1 tests/vm/vmtest.sh
# make sanitize: tracer and the test programs built with ASan and UBSan into
# $(SAN_OUTPUT) (./tracer stays as it is), then the host suite against them
# (tests/sanitize.sh), failing on any sanitizer report, leaks at exit included.
# SANITIZE_FILTER=F runs only the tests whose name contains F.
SAN_OUTPUT := $(OUTPUT)/sanitize
# clang: gcc 12's combined ASan+UBSan runtime prints UBSan reports on stderr
# whatever log_path says, and tests/sanitize.sh finds reports by their files.
SAN_CC ?= clang
# The test programs run under tracer's ptrace, where LeakSanitizer cannot:
# see tests/sanitize_progs.c.
SAN_PROG_EXTRA := tests/sanitize_progs.c
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	     -fno-omit-frame-pointer
DEPS += libclang-rt-14-dev
.PHONY: sanitize sanitize-build

# The objects do not depend on the compiler: a build with other flags starts over.
sanitize-build:
	$(Q)flags='$(SAN_CC) $(SAN_FLAGS) $(SAN_PROG_EXTRA)'; \
	if [ "$$(cat $(SAN_OUTPUT)/.flags 2>/dev/null)" != "$$flags" ]; then \
		rm -rf $(SAN_OUTPUT) && mkdir -p $(SAN_OUTPUT) && \
		echo "$$flags" > $(SAN_OUTPUT)/.flags; \
	fi
	$(Q)CC=$(SAN_CC) CFLAGS='-g -O1 $(SAN_FLAGS)' LDFLAGS='$(SAN_FLAGS)' \
		$(MAKE) --no-print-directory OUTPUT=$(SAN_OUTPUT) \
		TRACER_BIN=$(SAN_OUTPUT)/tracer TEST_PROG_EXTRA=$(SAN_PROG_EXTRA) \
		$(SAN_OUTPUT)/tracer test-progs

sanitize: sanitize-build
	$(Q)SANITIZE_OUTPUT=$(SAN_OUTPUT) tests/sanitize.sh $(SANITIZE_FILTER)

deps:
	$(Q)missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "  APT      $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

vmlinux:
	$(call msg,GEN,$(VMLINUX))
	$(Q)mkdir -p $(dir $(VMLINUX))
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX)

install: $(TRACER_BIN) $(MAN_PAGES)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 $(TRACER_BIN) $(DESTDIR)$(PREFIX)/sbin/tracer
	$(Q)install -d $(DESTDIR)$(MANDIR)/man8
	$(Q)install -m 0644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man8/
	$(Q)install -D -m 0644 completion/tracer.bash $(DESTDIR)$(BASHCOMPDIR)/tracer

tidy: $(SKELS)
	$(Q)clang-tidy --quiet -checks='-*,bugprone-*' --warnings-as-errors='*' $(USER_SRCS) bench/*.c tests/fuzz/*.c -- $(ALL_CFLAGS) -Itests/fuzz

format-check:
	$(Q)clang-format --dry-run --Werror bpf/*.c bpf/*.h user/*.c user/*.h tests/progs/*.c bench/*.c \
		tests/fuzz/*.c tests/fuzz/*.h

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUTPUT) tracer

-include $(wildcard $(OUTPUT)/*.d $(FUZZ_DIR)/obj/*.d)
