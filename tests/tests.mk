# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Test and benchmark targets (included by the top-level Makefile).
DIFF_SRCS  := $(wildcard tests/diff/*.c)
DIFF_BINS  := $(patsubst tests/diff/%.c,$(BUILD)/diff/%,$(DIFF_SRCS))
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

$(BUILD)/diff/%: tests/diff/%.c $(BUILD)/libxwall.a $(BUILD)/libxwref.a
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	$(Q)$(CC) $(CFLAGS) -Itests/ref -o $@ $< $(BUILD)/libxwref.a $(BUILD)/libxwall.a $(LDLIBS) -lpthread
$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libxwall.a $(BUILD)/libxwref.a
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	$(Q)$(CC) $(CFLAGS) -Itests/ref -o $@ $< $(BUILD)/libxwref.a $(BUILD)/libxwall.a $(LDLIBS) -lpthread

.PHONY: check-build verifier diff e2e bench bench-sets demo install-test
check-build: all $(UNIT_BINS) $(DIFF_BINS) $(BENCH_BINS)

# Every BPF object must pass the kernel verifier: load each one privately.
verifier: all
	@./tests/verifier.sh

diff: $(DIFF_BINS)
	@set -e; for t in $(DIFF_BINS); do echo "== $$t"; $$t; done

E2E_SCRIPTS := $(wildcard tests/e2e/run.sh tests/e2e/stateful.sh tests/e2e/ops.sh tests/e2e/faults.sh \
                            tests/e2e/security.sh tests/e2e/lint.sh tests/e2e/verify.sh \
                            tests/e2e/foreign.sh tests/e2e/sets.sh tests/e2e/fail2ban.sh \
                            tests/e2e/crowdsec.sh)
e2e: all
	@set -e; for t in $(E2E_SCRIPTS); do echo "== $$t"; ./$$t; done

install-test: all
	@MAKE=$(MAKE) ./tests/install.sh

check: deps
	@$(MAKE) --no-print-directory check-build
	@$(MAKE) --no-print-directory unit verifier diff e2e install-test unit-asan
	@echo "make check: all tests passed"

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BINS)
	@./scripts/bench.sh

# named sets at 1M elements (docs/benchmarks.md "Named sets"); needs root
bench-sets: all $(BUILD)/bench/xwsetbench
	@$(BUILD)/bench/xwsetbench 1000000
	@./tests/bench/sets-cli.sh 1000000 200000

demo: deps
	@$(MAKE) --no-print-directory all
	@./scripts/demo.sh

-include tests/fuzz/fuzz.mk
-include tests/bench/veth.mk
