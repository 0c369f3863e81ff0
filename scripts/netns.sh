#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Test bed for the end-to-end tests and the demo: two network namespaces
# joined by a veth pair.
#
#   scripts/netns.sh up    [NS_A NS_B]   create (idempotent)
#   scripts/netns.sh down  [NS_A NS_B]   remove (idempotent)
#   scripts/netns.sh fresh [NS_A NS_B]   down, then up: a new test bed, whatever
#                                        a killed earlier run left behind
#   scripts/netns.sh info  [NS_A NS_B]   print VAR=value lines for eval:
#                                        NS_A NS_B IF_A IF_B MAC_A MAC_B
#
# Defaults: NS_A=xwe2e-a, NS_B=xwe2e-b.  The veth ends are created directly
# inside the namespaces, so they never clash with host interfaces.
# Environment (the defaults in brackets):
#   XW_IF_A, XW_IF_B   the veth end in A, in B            [xw-e2e-a, xw-e2e-b]
#   XW_A4, XW_B4       A's, B's IPv4 address/prefix       [10.199.0.1/24, 10.199.0.2/24]
#   XW_A6, XW_B6       A's, B's IPv6 address/prefix, added nodad
#                                                         [fd00:199::1/64, fd00:199::2/64]
#                      set but empty: no address of that family on that end
#   XW_NO_IPV6=1       IPv6 disabled in both namespaces (disable_ipv6): the
#                      link carries no IPv6 at all, so every frame on it is
#                      the test's; XW_A6/XW_B6 then default to empty
# Otherwise DAD and router solicitations are off so the link stays as quiet as
# IPv6 allows (MLD reports are still sent when addresses appear).
# Every ip command runs under `timeout 10` (namespace operations can hang on
# a busy machine); any failure is fatal (exit 1).
# Only namespaces and interfaces created here are ever touched.
set -eu

cmd=${1:-}
NS_A=${2:-xwe2e-a}
NS_B=${3:-xwe2e-b}
IF_A=${XW_IF_A:-xw-e2e-a}
IF_B=${XW_IF_B:-xw-e2e-b}
NO_IPV6=${XW_NO_IPV6:-0}
A4=${XW_A4-10.199.0.1/24}
B4=${XW_B4-10.199.0.2/24}
if [ "$NO_IPV6" = 1 ]; then
	A6=${XW_A6:-}
	B6=${XW_B6:-}
else
	A6=${XW_A6-fd00:199::1/64}
	B6=${XW_B6-fd00:199::2/64}
fi

die() { echo "netns.sh: $*" >&2; exit 1; }
[ "$NS_A" != "$NS_B" ] || die "the two namespaces must differ"
case "$NO_IPV6" in 0|1) ;; *) die "XW_NO_IPV6 must be 0 or 1, not '$NO_IPV6'" ;; esac
[ "$NO_IPV6" = 0 ] || [ -z "$A6$B6" ] || die "XW_NO_IPV6=1 and an IPv6 address ($A6 $B6)"

# t CMD...: CMD with a time limit
t() { timeout 10 "$@"; }
ns_exists() { t ip netns list | awk '{print $1}' | grep -qx "$1"; }

# IPv6 in a namespace: disabled (XW_NO_IPV6=1; before the veth end exists, so
# it never gets a link-local address either), else quiet: no router
# solicitations, RA processing or DAD.
ipv6_setup() {
	for k in default all; do
		if [ "$NO_IPV6" = 1 ]; then
			t ip netns exec "$1" sysctl -qw "net.ipv6.conf.$k.disable_ipv6=1" >/dev/null
		else
			t ip netns exec "$1" sysctl -qw "net.ipv6.conf.$k.router_solicitations=0" \
				"net.ipv6.conf.$k.accept_ra=0" "net.ipv6.conf.$k.accept_dad=0" >/dev/null 2>&1 || true
		fi
	done
}

up() {
	for ns in "$NS_A" "$NS_B"; do
		if ! ns_exists "$ns"; then
			t ip netns add "$ns"
		fi
		t ip -n "$ns" link set lo up
		ipv6_setup "$ns"
	done
	# The veth pair: create it in A with the peer moved straight into B.
	if ! t ip -n "$NS_A" link show "$IF_A" >/dev/null 2>&1; then
		# a half-built earlier pair (B end alone) is impossible: deleting one
		# end of a veth deletes the other, so creating is always safe here
		t ip link add "$IF_A" netns "$NS_A" type veth peer name "$IF_B" netns "$NS_B"
	fi
	[ -z "$A4" ] || t ip -n "$NS_A" addr replace "$A4" dev "$IF_A"
	[ -z "$B4" ] || t ip -n "$NS_B" addr replace "$B4" dev "$IF_B"
	[ -z "$A6" ] || t ip -n "$NS_A" -6 addr replace "$A6" dev "$IF_A" nodad
	[ -z "$B6" ] || t ip -n "$NS_B" -6 addr replace "$B6" dev "$IF_B" nodad
	t ip -n "$NS_A" link set "$IF_A" up
	t ip -n "$NS_B" link set "$IF_B" up
}

down() {
	_rc=0
	for ns in "$NS_A" "$NS_B"; do
		# deleting the namespace deletes the veth end in it, and so the pair;
		# a failure on one still tries the other
		if ns_exists "$ns"; then
			t ip netns del "$ns" || _rc=1
		fi
	done
	[ $_rc = 0 ] || die "could not delete namespace $NS_A or $NS_B"
}

info() {
	# assignments first: a failed read is fatal (inside echo it would not be)
	mac_a=$(t ip netns exec "$NS_A" cat "/sys/class/net/$IF_A/address")
	mac_b=$(t ip netns exec "$NS_B" cat "/sys/class/net/$IF_B/address")
	echo "NS_A=$NS_A"
	echo "NS_B=$NS_B"
	echo "IF_A=$IF_A"
	echo "IF_B=$IF_B"
	echo "MAC_A=$mac_a"
	echo "MAC_B=$mac_b"
}

case "$cmd" in
up) up ;;
down) down ;;
fresh) down; up ;;
info) info ;;
*) echo "usage: $0 up|down|fresh|info [NS_A NS_B]" >&2; exit 1 ;;
esac
