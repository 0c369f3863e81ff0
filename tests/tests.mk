# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Test and benchmark targets (included by the top-level Makefile).
DIFF_SRCS  := $(wildcard tests/diff/*.c)
DIFF_BINS  := $(patsubst tests/diff/%.c,$(BUILD)/diff/%,$(DIFF_SRCS))
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

$(BUILD)/diff/%: tests/diff/%.c $(BUILD)/libxwall.a $(BUILD)/libxwref.a
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Itests/ref -o $@ $< $(BUILD)/libxwref.a $(BUILD)/libxwall.a \
		$(LDLIBS) -lpthread
$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libxwall.a $(BUILD)/libxwref.a
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Itests/ref -o $@ $< $(BUILD)/libxwref.a $(BUILD)/libxwall.a \
		$(LDLIBS) -lpthread

.PHONY: check-build verifier diff e2e bench bench-sets demo install-test testbed
check-build: all $(UNIT_BINS) $(DIFF_BINS) $(BENCH_BINS)

# Every BPF object must pass the kernel verifier: load each one privately.
verifier: all
	@./tests/verifier.sh

diff: $(DIFF_BINS)
	@set -e; for t in $(DIFF_BINS); do echo "== $$t"; $$t; done

# ClassBench correctness alone (also run by `diff`): CB_DIR, CB_OUT, CB_ALLOW_REFUSED=1
.PHONY: classbench-test
classbench-test: $(BUILD)/diff/cbtest
	@$<

# The end-to-end scripts `make e2e` runs, in this order.  A plain list: a
# listed script that is missing fails (e2e-list), and so does a script in
# tests/e2e/ that is neither listed here nor in E2E_EXCLUDED.
E2E_SCRIPTS := tests/e2e/run.sh tests/e2e/stateful.sh tests/e2e/ops.sh tests/e2e/faults.sh \
               tests/e2e/security.sh tests/e2e/lint.sh tests/e2e/verify.sh \
               tests/e2e/foreign.sh tests/e2e/badinput.sh tests/e2e/ctflood.sh \
               tests/e2e/offload.sh tests/e2e/testbed.sh tests/e2e/import.sh \
               tests/e2e/sets.sh tests/e2e/fail2ban.sh tests/e2e/crowdsec.sh \
               tests/e2e/confirm.sh tests/e2e/audit.sh \
               tests/e2e/reject.sh tests/e2e/edit.sh
# Scripts in tests/e2e/ that `make e2e` does not run (say why next to each).
# lib.sh: the harness the scripts source, not a test.
E2E_EXCLUDED := tests/e2e/lib.sh

.PHONY: e2e-list
e2e-list:
	@for t in $(E2E_SCRIPTS); do [ -f "$$t" ] || \
		{ echo "e2e: $$t is listed in E2E_SCRIPTS (tests/tests.mk) but missing"; exit 1; }; done
	@for t in tests/e2e/*.sh; do case " $(E2E_SCRIPTS) $(E2E_EXCLUDED) " in *" $$t "*) ;; \
		*) echo "e2e: $$t is in neither E2E_SCRIPTS nor E2E_EXCLUDED (tests/tests.mk)"; \
		   exit 1;; esac; done

e2e: all e2e-list
	@set -e; for t in $(E2E_SCRIPTS); do echo "== $$t"; ./$$t; done

install-test: all
	@MAKE=$(MAKE) ./tests/install.sh

check: deps
	@$(MAKE) --no-print-directory check-build
	@$(MAKE) --no-print-directory unit verifier diff e2e install-test unit-asan diff-asan \
		fuzz-check static
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

# make testbed RULES=FILE PCAP=FILE [PPS=N]: replay a capture through xwall
testbed: all
	@./scripts/testbed.sh --rules "$(RULES)" --pcap "$(PCAP)" $(if $(PPS),--pps $(PPS))

-include tests/fuzz/fuzz.mk
-include tests/static/static.mk
-include tests/bench/veth.mk
