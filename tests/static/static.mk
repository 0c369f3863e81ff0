# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `make static` (part of `make check`): cppcheck and clang-tidy over every
# userspace C file (library, CLI, reference, tests, fuzz harnesses,
# benchmark), zero findings allowed.  Included by tests/tests.mk.
#
#   cppcheck    --enable=warning,portability,performance (style is left to
#               review), the project's include paths and defines, libbpf's
#               LIBBPF_OPTS from tests/static/cppcheck-libbpf.cfg; any
#               finding fails (--error-exitcode=1).  Silence a false positive
#               with `// cppcheck-suppress ID` on the line before, saying why.
#   clang-tidy  the checks in .clang-tidy (clang-analyzer-* and bugprone-*,
#               minus the noisy ones listed there with a reason), every
#               finding an error except in bpftool's generated skeletons
#               (tests/static/tidy.sh); one stamp per file in build/static/,
#               so a second run only looks at what changed (`make -j2 static`).
# The BPF programs (xdp/, tc/) are checked by the kernel verifier instead.
STATIC_DIR   := $(BUILD)/static
STATIC_SRCS  := $(LIB_SRCS) $(CTL_SRCS) $(REF_SRCS) $(UNIT_SRCS) $(DIFF_SRCS) $(BENCH_SRCS) \
                $(wildcard tests/fuzz/*.c)
STATIC_HDRS  := $(wildcard include/*.h loader/*.h ctl/*.h tests/ref/*.h tests/diff/*.h)
STATIC_FLAGS := $(filter -I% -D% -std=%,$(CFLAGS)) -Ictl -Itests/ref
TIDY_FLAGS   := $(STATIC_FLAGS)
CLANG_TIDY   ?= clang-tidy
CPPCHECK     ?= cppcheck
TIDY_STAMPS  := $(patsubst %.c,$(STATIC_DIR)/%.tidy,$(STATIC_SRCS))

.PHONY: static cppcheck clang-tidy
static: cppcheck clang-tidy
	@echo "make static: cppcheck and clang-tidy found nothing"

cppcheck: $(SKELS)
	@echo "== cppcheck ($(words $(STATIC_SRCS)) files)"
	$(Q)$(CPPCHECK) -q --std=c11 --enable=warning,portability,performance \
		--library=tests/static/cppcheck-libbpf.cfg --inline-suppr --error-exitcode=1 \
		$(filter -I% -D%,$(STATIC_FLAGS)) $(STATIC_SRCS)

clang-tidy: $(TIDY_STAMPS)
	@echo "== clang-tidy: $(words $(TIDY_STAMPS)) files clean (.clang-tidy)"

$(STATIC_DIR)/%.tidy: %.c .clang-tidy tests/static/tidy.sh $(STATIC_HDRS) $(SKELS)
	@mkdir -p $(dir $@)
	@echo '  TIDY    $<'
	$(Q)./tests/static/tidy.sh $(CLANG_TIDY) $< $@.log $(BUILD) -- $(TIDY_FLAGS)
	@touch $@
