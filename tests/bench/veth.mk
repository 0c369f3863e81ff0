# `make bench-veth`: real packets through a veth pair between network
# namespaces (trafgen -> filter), xwall next to a trivial XDP_DROP program,
# xdp-filter, nftables (linear and sets) and iptables (nft and legacy), for
# 1 to 100,000 rules.  Needs root; about 10 minutes.  Writes
# docs/bench-veth.md and docs/bench-veth.png (scripts/bench-veth.sh tells how;
# XWBV_* variables shorten or narrow the run).
.PHONY: bench-veth
bench-veth: deps
	@$(MAKE) --no-print-directory all
	@./scripts/bench-veth.sh
