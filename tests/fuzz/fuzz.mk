# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Fuzzing and sanitizers (included by tests/tests.mk).
#
#   make fuzz [FUZZ_SECONDS=60]   build the libFuzzer harnesses with clang and
#                                 run each for FUZZ_SECONDS; fails on a crash
#                                 (the input is left in build/fuzz/artifacts/)
#   make fuzz-rules / fuzz-packets / fuzz-xdp   one harness (`make -j2 fuzz`
#                                 runs them at once); fuzz-xdp needs root
#   make fuzz-check               each harness for FUZZ_CHECK_SECONDS (30),
#                                 one after the other (part of `make check`)
#   make unit-asan                the Check unit tests under ASan + UBSan
#   make diff-asan                the differential tests under ASan + UBSan
#
# The harnesses:
#   fuzz_rules    the rule language: parser, formatter, round trip, compiler
#   fuzz_packets  the reference classifier's packet parser and matchers
#   fuzz_xdp      the BPF datapath: each input is a frame run through the XDP
#                 program with BPF_PROG_TEST_RUN and compared with the
#                 reference classifier (needs root: loads private instances)
#
# The harnesses are built from the sources directly, never from the gcc-built
# libxwall.a, so that every line they reach is instrumented.  Each run starts
# from a copy of the seed corpus (tests/fuzz/corpus/*; fuzz_xdp uses the
# packets one) in build/fuzz/corpus-*, which keeps what the fuzzer adds for
# the next run.  To replay a crash:
#   build/fuzz/fuzz_rules build/fuzz/artifacts/rules-crash-...

FUZZ_SECONDS ?= 60
FUZZ_CC      ?= $(CLANG)
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_CFLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE \
                -Iinclude $(LOADER_INC) -Itests/ref
# libFuzzer options for every run; -timeout makes a slow input a failure too.
FUZZ_OPTS    ?= -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
FUZZ_HDRS    := $(wildcard include/*.h tests/ref/*.h) $(LOADER_HDRS)

# the parser needs the set declarations (loader/sets), which need the rest of
# the library: both harnesses link all of it
FUZZ_SRCS_rules   := $(LIB_SRCS)
FUZZ_SRCS_packets := $(LIB_SRCS) tests/ref/refclass.c
# the whole library (the BPF loader, with the programs' skeletons) and the
# reference side: refclass, dpcheck, and rulegen with its PRNG
FUZZ_SRCS_xdp     := $(LIB_SRCS) tests/ref/refclass.c tests/ref/dpcheck.c tests/ref/rulegen.c \
                     tests/ref/pktgen.c
FUZZ_MAXLEN_rules   := 4096
FUZZ_MAXLEN_packets := 1600
FUZZ_MAXLEN_xdp     := 1600
FUZZ_DICT_rules     := -dict=tests/fuzz/rules.dict
FUZZ_SEEDS_rules    := rules
FUZZ_SEEDS_packets  := packets
FUZZ_SEEDS_xdp      := packets
FUZZ_CHECK_SECONDS  ?= 30

FUZZ_NAMES := rules packets xdp
FUZZ_BINS  := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_NAMES))
FUZZ_RUNS  := $(patsubst %,fuzz-%,$(FUZZ_NAMES))

.PHONY: fuzz fuzz-build fuzz-check $(FUZZ_RUNS) unit-asan diff-asan

fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR)/fuzz_rules: tests/fuzz/fuzz_rules.c $(FUZZ_SRCS_rules) $(FUZZ_HDRS) $(SKELS)
	@mkdir -p $(dir $@)
	@echo '  FUZZ-CC $@'
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -I$(BUILD) -o $@ $< $(FUZZ_SRCS_rules) $(LDLIBS)
$(FUZZ_DIR)/fuzz_packets: tests/fuzz/fuzz_packets.c $(FUZZ_SRCS_packets) $(FUZZ_HDRS) $(SKELS)
	@mkdir -p $(dir $@)
	@echo '  FUZZ-CC $@'
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -I$(BUILD) -o $@ $< $(FUZZ_SRCS_packets) $(LDLIBS)
$(FUZZ_DIR)/fuzz_xdp: tests/fuzz/fuzz_xdp.c $(FUZZ_SRCS_xdp) $(FUZZ_HDRS) $(SKELS)
	@mkdir -p $(dir $@)
	@echo '  FUZZ-CC $@'
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -I$(BUILD) -o $@ $< $(FUZZ_SRCS_xdp) $(LDLIBS)

$(FUZZ_RUNS): fuzz-%: $(FUZZ_DIR)/fuzz_%
	@mkdir -p $(FUZZ_DIR)/corpus-$* $(FUZZ_DIR)/artifacts
	@cp tests/fuzz/corpus/$(FUZZ_SEEDS_$*)/* $(FUZZ_DIR)/corpus-$*/
	@echo "== fuzz $* for $(FUZZ_SECONDS)s (corpus $(FUZZ_DIR)/corpus-$*)"
	@$< $(FUZZ_OPTS) -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAXLEN_$*) \
		$(FUZZ_DICT_$*) -artifact_prefix=$(FUZZ_DIR)/artifacts/$*- \
		$(FUZZ_DIR)/corpus-$* \
	|| { echo "fuzz $*: FAILED, input in $(FUZZ_DIR)/artifacts/ (replay: $< FILE)"; exit 1; }

fuzz: $(FUZZ_RUNS)
	@echo "make fuzz: no crash in $(FUZZ_SECONDS)s per harness"

# `make check`: every harness for FUZZ_CHECK_SECONDS, one at a time.
fuzz-check: $(FUZZ_BINS)
	@set -e; for n in $(FUZZ_NAMES); do \
		$(MAKE) --no-print-directory fuzz-$$n FUZZ_SECONDS=$(FUZZ_CHECK_SECONDS); done
	@echo "make fuzz-check: no crash in $(FUZZ_CHECK_SECONDS)s per harness ($(FUZZ_NAMES))"

# ---- unit tests under AddressSanitizer + UndefinedBehaviorSanitizer --------
# The same sources as libxwall.a / libxwref.a, compiled again with the
# sanitizers into build/asan/; static archives, so a test links only the
# objects it uses (none of the BPF loader parts for the tests here).
ASAN_CC     ?= $(CLANG)
ASAN_DIR    := $(BUILD)/asan
ASAN_CFLAGS := $(filter-out -O% -D_FORTIFY_SOURCE=%,$(CFLAGS)) -O1 -fsanitize=address,undefined \
               -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_ENV    := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1 \
               UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
               CK_FORK=yes CK_TIMEOUT_MULTIPLIER=10
ASAN_LIB_OBJS  := $(patsubst loader/%.c,$(ASAN_DIR)/loader/%.o,$(LIB_SRCS))
ASAN_REF_OBJS  := $(patsubst tests/ref/%.c,$(ASAN_DIR)/ref/%.o,$(REF_SRCS))
ASAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(ASAN_DIR)/unit/%,$(UNIT_SRCS))

$(ASAN_DIR)/loader/%.o: loader/%.c $(LOADER_HDRS) $(wildcard include/*.h) $(SKELS)
	@mkdir -p $(dir $@)
	@echo '  ASAN-CC $@'
	$(Q)$(ASAN_CC) $(ASAN_CFLAGS) -c $< -o $@
$(ASAN_DIR)/ref/%.o: tests/ref/%.c $(wildcard tests/ref/*.h) $(LOADER_HDRS) $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	@echo '  ASAN-CC $@'
	$(Q)$(ASAN_CC) $(ASAN_CFLAGS) -Itests/ref -c $< -o $@
$(ASAN_DIR)/libxwall.a: $(ASAN_LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^
$(ASAN_DIR)/libxwref.a: $(ASAN_REF_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^
$(ASAN_DIR)/unit/%: tests/unit/%.c $(ASAN_DIR)/libxwall.a $(ASAN_DIR)/libxwref.a
	@mkdir -p $(dir $@)
	@echo '  ASAN-LD $@'
	$(Q)$(ASAN_CC) $(ASAN_CFLAGS) -Itests/ref -o $@ $< $(ASAN_DIR)/libxwref.a \
		$(ASAN_DIR)/libxwall.a $(CHECK_LIBS) $(LDLIBS)

ASAN_DIFF_BINS := $(patsubst tests/diff/%.c,$(ASAN_DIR)/diff/%,$(DIFF_SRCS))
$(ASAN_DIR)/diff/%: tests/diff/%.c $(ASAN_DIR)/libxwall.a $(ASAN_DIR)/libxwref.a
	@mkdir -p $(dir $@)
	@echo '  ASAN-LD $@'
	$(Q)$(ASAN_CC) $(ASAN_CFLAGS) -Itests/ref -o $@ $< $(ASAN_DIR)/libxwref.a \
		$(ASAN_DIR)/libxwall.a $(LDLIBS) -lpthread

# A test fails on its own exit status (a sanitizer report ends the process, or
# the forked test, with an error) and, to be sure, on any report in its output.
unit-asan: $(ASAN_UNIT_BINS)
	@failed=""; for t in $(ASAN_UNIT_BINS); do echo "== $$t (asan, ubsan)"; \
		{ rc=0; $(ASAN_ENV) $$t || rc=$$?; echo $$rc > $$t.rc; } 2>&1 | tee $$t.log; \
		if [ "$$(cat $$t.rc)" != 0 ] || \
		   grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' $$t.log; then \
			echo "unit-asan: $$t FAILED (log $$t.log)"; failed="$$failed $$t"; fi; \
	done; [ -z "$$failed" ] || { echo "unit-asan: failed:$$failed"; exit 1; }

# The differential tests (needs root, as `make diff`) under the same
# sanitizers and the same failure rule.  ASAN_DIFF_ARGS_<name> shortens a
# long one: the instrumented userspace side (reference, generators, loader)
# runs a few times slower, and the full-size runs stay in `make diff`.
# (the sanitized binary sits one directory deeper: name the corpus)
ASAN_DIFF_ARGS_difftest ?= -r 1 -n 5000 -c $(CURDIR)/../shared/corpus/tcpdump
ASAN_DIFF_ARGS_cttest   ?= -r 1
diff-asan: $(ASAN_DIFF_BINS)
	@failed=""; \
	run() { t=$$1; shift; echo "== $$t $$* (asan, ubsan)"; \
		{ rc=0; $(ASAN_ENV) $$t "$$@" || rc=$$?; echo $$rc > $$t.rc; } 2>&1 | tee $$t.log; \
		if [ "$$(cat $$t.rc)" != 0 ] || \
		   grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' $$t.log; then \
			echo "diff-asan: $$t FAILED (log $$t.log)"; failed="$$failed $$t"; fi; }; \
	$(foreach t,$(ASAN_DIFF_BINS),run $(t) $(ASAN_DIFF_ARGS_$(notdir $(t)));) \
	[ -z "$$failed" ] || { echo "diff-asan: failed:$$failed"; exit 1; }
