# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# xwall build.  `make` builds everything; `make check` runs every test;
# `make demo` shows it working in a netns test bed; `make bench` measures.
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
PREFIX   ?= /usr/local
VERSION  := 0.1.0
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

BUILD    := build
# the library's subdirectories (loader/lang, loader/compile, ...): each an include dir
LOADER_DIRS := $(sort $(dir $(wildcard loader/*/*.c loader/*/*.h)))
LOADER_INC  := $(patsubst %/,-I%,$(LOADER_DIRS))
LOADER_HDRS := $(wildcard loader/*/*.h)
CFLAGS   ?= -O2 -g
CFLAGS   += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Iinclude $(LOADER_INC) -I$(BUILD) \
            -DXW_VERSION=\"$(VERSION)\" -DXW_BPF_DIR=\"$(abspath $(BUILD))\"
# Hardening of every userspace program: bounds-checked libc calls where the
# size is known (_FORTIFY_SOURCE needs optimisation, so only with -O1 and
# up), stack canaries, and a read-only GOT bound at start (full RELRO).
HARDEN_CFLAGS  := $(if $(filter -O1 -O2 -O3 -Os -Og -Ofast,$(CFLAGS)),-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2) \
                  -fstack-protector-strong
HARDEN_LDFLAGS := -Wl,-z,relro,-z,now
CFLAGS   += $(HARDEN_CFLAGS)
LDFLAGS  += $(HARDEN_LDFLAGS)
LDLIBS   := -lxdp -lbpf -lelf -lz -lmnl -ljson-c -lpcap
# xwall itself loads libpcap on first use (ctl/pcap_lazy.c): not linked.
# libbpf, libxdp, libelf, zlib and json-c are linked in: `xwall set add` is
# one short process per ban (fail2ban, CrowdSec), and binding those
# libraries' symbols at start cost ~1 ms of its ~4.5 (docs/benchmarks.md,
# "Named sets"); Debian ships no static libmnl.
XWALL_LDLIBS := -Wl,-Bstatic -lxdp -lbpf -lelf -lz -ljson-c -Wl,-Bdynamic -lmnl
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

BPF_CFLAGS := -target bpf -O2 -g -Wall -Werror -D__TARGET_ARCH_$(ARCH) -Iinclude -I/usr/include/$(shell uname -m)-linux-gnu

BPF_SRCS := $(wildcard xdp/*.bpf.c) $(wildcard tc/*.bpf.c)
BPF_OBJS := $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS    := $(patsubst %.bpf.c,$(BUILD)/%.skel.h,$(notdir $(BPF_SRCS)))

LIB_SRCS := $(wildcard loader/*/*.c)
LIB_OBJS := $(patsubst loader/%.c,$(BUILD)/loader/%.o,$(LIB_SRCS))
CTL_SRCS := $(wildcard ctl/*.c)
CTL_OBJS := $(patsubst ctl/%.c,$(BUILD)/ctl/%.o,$(CTL_SRCS))
REF_SRCS := $(wildcard tests/ref/*.c)
REF_OBJS := $(patsubst tests/ref/%.c,$(BUILD)/ref/%.o,$(REF_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))

.PHONY: all deps check demo bench unit diff e2e verifier clean install static
.DELETE_ON_ERROR:
all: $(BUILD)/xwall $(BPF_OBJS)

deps:
	@./scripts/deps.sh

$(BUILD)/%.bpf.o: xdp/%.bpf.c $(wildcard include/*.h) $(wildcard xdp/*.h) | $(BUILD)
	@echo '  BPF     $@'
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(BUILD)/%.bpf.o: tc/%.bpf.c $(wildcard include/*.h) $(wildcard xdp/*.h) $(wildcard tc/*.h) | $(BUILD)
	@echo '  BPF     $@'
	$(Q)$(CLANG) $(BPF_CFLAGS) -Ixdp -c $< -o $@
# kept (not removed as intermediates): the static checks read them too
.SECONDARY: $(SKELS)
$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	@echo '  SKEL    $@'
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/loader/%.o: loader/%.c $(LOADER_HDRS) $(wildcard include/*.h) $(SKELS) | $(BUILD)
	@mkdir -p $(dir $@)
	@echo '  CC      $@'
	$(Q)$(CC) $(CFLAGS) -c $< -o $@
$(BUILD)/ctl/%.o: ctl/%.c $(wildcard ctl/*.h) $(LOADER_HDRS) $(wildcard include/*.h) | $(BUILD)
	@mkdir -p $(dir $@)
	@echo '  CC      $@'
	$(Q)$(CC) $(CFLAGS) -Ictl -c $< -o $@
$(BUILD)/ref/%.o: tests/ref/%.c $(wildcard tests/ref/*.h) $(LOADER_HDRS) $(wildcard include/*.h) | $(BUILD)
	@mkdir -p $(dir $@)
	@echo '  CC      $@'
	$(Q)$(CC) $(CFLAGS) -Itests/ref -c $< -o $@

$(BUILD)/libxwall.a: $(LIB_OBJS)
	$(Q)ar rcs $@ $^
$(BUILD)/libxwref.a: $(REF_OBJS)
	$(Q)ar rcs $@ $^

$(BUILD)/xwall: $(CTL_OBJS) $(BUILD)/libxwall.a
	@echo '  LD      $@'
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(XWALL_LDLIBS)

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libxwall.a $(BUILD)/libxwref.a
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Itests/ref -o $@ $< $(BUILD)/libxwref.a $(BUILD)/libxwall.a \
		$(CHECK_LIBS) $(LDLIBS)

$(BUILD):
	@mkdir -p $(BUILD)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; CK_FORK=yes $$t; done

-include tests/tests.mk
-include install.mk

clean:
	rm -rf $(BUILD)
