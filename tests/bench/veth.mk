# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `make bench-veth`: real packets through a veth pair between network
# namespaces (trafgen -> filter), xwall next to a trivial XDP_DROP program,
# xdp-filter, nftables (linear and sets) and iptables (nft and legacy), for
# 1 to 100,000 rules, in two rule mixes (single-field rules and ACL lines).
# Needs root; about 20 minutes.  Writes docs/bench-veth.md and
# docs/bench-veth.png (scripts/bench-veth.sh tells how; XWBV_* variables
# shorten or narrow the run, e.g. XWBV_MIXES=acl XWBV_ACL_COUNTS=1000).
.PHONY: bench-veth
bench-veth: deps
	@$(MAKE) --no-print-directory all
	@./scripts/bench-veth.sh
