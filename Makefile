# SPDX-License-Identifier: GPL-2.0
# tracer: eBPF-assisted kernel behaviour tracer.
#
#   make               build ./tracer
#   make STATIC=1      statically linked ./tracer (for the kernel-matrix guests)
#   make test          run the test suite (needs root), then make vmtest
#   make vmtest        the test suite in QEMU on Debian's 6.1 and 6.12 kernels
#   make vmlinux       regenerate vmlinux/$(ARCH)/vmlinux.h from this kernel's BTF
#   make install       install into $(DESTDIR)$(PREFIX)/sbin
#   V=1                show full commands

VERSION := 0.1.0
OUTPUT := .output
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
PREFIX ?= /usr/local
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
CFLAGS ?= -g -O2
CFLAGS += -std=gnu11 $(WARN) -D_GNU_SOURCE -DTRACER_VERSION='"$(VERSION)"' \
	  -I$(OUTPUT) -Ibpf -Iuser -I$(LIBNL_INC) -MMD -MP
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -std=gnu11 $(WARN) \
	      -Wno-unused-parameter -Ivmlinux/$(ARCH) -Ibpf -MMD -MP

LIBS := -lnl-route-3 -lnl-3 -lbpf -lelf -lz -ljson-c -lcap
ifeq ($(STATIC),1)
LDFLAGS += -static
LIBS += -lzstd
endif

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean deps test test-progs vmtest vmlinux install tidy format-check bench

# Debian 12 packages needed to build, run and test (installed by `make deps`).
DEPS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libzstd-dev \
	libjson-c-dev libcap-dev libnl-route-3-dev pkg-config make gcc python3 \
	ruby iproute2 libcap2-bin util-linux clang-format clang-tidy \
	qemu-system-x86 busybox-static procps xz-utils \
	strace bpftrace

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
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(TRACER_BIN): $(USER_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LIBS) -o $@

# Test helper programs (traffic generators traced by the tests).
TEST_PROGS := $(patsubst tests/progs/%.c,$(OUTPUT)/tests/%,$(wildcard tests/progs/*.c))
$(OUTPUT)/tests/%: tests/progs/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -o $@

test-progs: $(TEST_PROGS)

# Benchmarks (bench/bench.py): workloads, then the side-by-side runs.
$(OUTPUT)/bench/udp_loop: bench/udp_loop.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -o $@

$(OUTPUT)/bench/veth_rate: bench/veth_rate.c $(OUTPUT)/netlink.o
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ -lnl-route-3 -lnl-3 -o $@

BENCH_PROGS := $(OUTPUT)/bench/udp_loop $(OUTPUT)/bench/veth_rate

bench: tracer $(BENCH_PROGS)
	$(Q)python3 bench/bench.py

test: tracer test-progs
	$(Q)python3 tests/run.py
	$(Q)$(MAKE) --no-print-directory vmtest

# The kernel matrix: tests/vm/vmtest.sh (see there; cache in $(OUTPUT)/vm).
vmtest:
	$(Q)tests/vm/vmtest.sh

# make sanitize: tracer and the test programs built with ASan and UBSan into
# $(SAN_OUTPUT) (./tracer stays as it is), then the host suite against them
# (tests/sanitize.sh), failing on any sanitizer report, leaks at exit included.
# SANITIZE_FILTER=F runs only the tests whose name contains F.
SAN_OUTPUT := $(OUTPUT)/sanitize
# clang: gcc 12's combined ASan+UBSan runtime prints UBSan reports on stderr
# whatever log_path says, and tests/sanitize.sh finds reports by their files.
SAN_CC ?= clang
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	     -fno-omit-frame-pointer
DEPS += libclang-rt-14-dev
.PHONY: sanitize sanitize-build

# The objects do not depend on the compiler: a build with other flags starts over.
sanitize-build:
	$(Q)flags='$(SAN_CC) $(SAN_FLAGS)'; \
	if [ "$$(cat $(SAN_OUTPUT)/.flags 2>/dev/null)" != "$$flags" ]; then \
		rm -rf $(SAN_OUTPUT) && mkdir -p $(SAN_OUTPUT) && \
		echo "$$flags" > $(SAN_OUTPUT)/.flags; \
	fi
	$(Q)CC=$(SAN_CC) CFLAGS='-g -O1 $(SAN_FLAGS)' LDFLAGS='$(SAN_FLAGS)' \
		$(MAKE) --no-print-directory OUTPUT=$(SAN_OUTPUT) \
		TRACER_BIN=$(SAN_OUTPUT)/tracer $(SAN_OUTPUT)/tracer test-progs

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

install: tracer
	$(Q)install -D -m 0755 tracer $(DESTDIR)$(PREFIX)/sbin/tracer

tidy:
	$(Q)clang-tidy --quiet -checks='-*,bugprone-*' $(USER_SRCS) bench/*.c -- $(CFLAGS)

format-check:
	$(Q)clang-format --dry-run --Werror bpf/*.c bpf/*.h user/*.c user/*.h tests/progs/*.c bench/*.c

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUTPUT) tracer

-include $(wildcard $(OUTPUT)/*.d)
