#!/bin/sh
# Test bed for the end-to-end tests and the demo: two network namespaces
# joined by a veth pair.
#
#   scripts/netns.sh up   [NS_A NS_B]   create (idempotent)
#   scripts/netns.sh down [NS_A NS_B]   remove (idempotent)
#   scripts/netns.sh info [NS_A NS_B]   print VAR=value lines (see below)
#
# Defaults: NS_A=xwe2e-a, NS_B=xwe2e-b.  The veth ends are xw-e2e-a (in A) and
# xw-e2e-b (in B) unless XW_IF_A / XW_IF_B say otherwise; they are created
# directly inside the namespaces, so they never clash with host interfaces.
#   A: 10.199.0.1/24  fd00:199::1/64      B: 10.199.0.2/24  fd00:199::2/64
# IPv6 addresses use nodad; DAD and router solicitations are off so the link stays
# as quiet as IPv6 allows (MLD reports are still sent when addresses appear).
# Only namespaces and interfaces created here are ever touched.
set -eu

cmd=${1:-}
NS_A=${2:-xwe2e-a}
NS_B=${3:-xwe2e-b}
IF_A=${XW_IF_A:-xw-e2e-a}
IF_B=${XW_IF_B:-xw-e2e-b}

die() { echo "netns.sh: $*" >&2; exit 1; }
[ "$NS_A" != "$NS_B" ] || die "the two namespaces must differ"

ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

# Quiet IPv6 in a namespace: no router solicitations, RA processing or DAD.
quiet_ipv6() {
	for k in default all; do
		ip netns exec "$1" sysctl -qw "net.ipv6.conf.$k.router_solicitations=0" \
			"net.ipv6.conf.$k.accept_ra=0" "net.ipv6.conf.$k.accept_dad=0" >/dev/null 2>&1 || true
	done
}

up() {
	for ns in "$NS_A" "$NS_B"; do
		if ! ns_exists "$ns"; then
			ip netns add "$ns"
		fi
		ip -n "$ns" link set lo up
		quiet_ipv6 "$ns"
	done
	# The veth pair: create it in A with the peer moved straight into B.
	if ! ip -n "$NS_A" link show "$IF_A" >/dev/null 2>&1; then
		# a half-built earlier pair (B end alone) is impossible: deleting one
		# end of a veth deletes the other, so creating is always safe here
		ip link add "$IF_A" netns "$NS_A" type veth peer name "$IF_B" netns "$NS_B"
	fi
	ip -n "$NS_A" addr replace 10.199.0.1/24 dev "$IF_A"
	ip -n "$NS_B" addr replace 10.199.0.2/24 dev "$IF_B"
	ip -n "$NS_A" -6 addr replace fd00:199::1/64 dev "$IF_A" nodad
	ip -n "$NS_B" -6 addr replace fd00:199::2/64 dev "$IF_B" nodad
	ip -n "$NS_A" link set "$IF_A" up
	ip -n "$NS_B" link set "$IF_B" up
}

down() {
	for ns in "$NS_A" "$NS_B"; do
		# deleting the namespace deletes the veth end in it, and so the pair
		if ns_exists "$ns"; then
			ip netns del "$ns"
		fi
	done
}

info() {
	echo "NS_A=$NS_A"
	echo "NS_B=$NS_B"
	echo "IF_A=$IF_A"
	echo "IF_B=$IF_B"
	echo "MAC_A=$(ip netns exec "$NS_A" cat "/sys/class/net/$IF_A/address")"
	echo "MAC_B=$(ip netns exec "$NS_B" cat "/sys/class/net/$IF_B/address")"
}

case "$cmd" in
up) up ;;
down) down ;;
info) info ;;
*) echo "usage: $0 up|down|info [NS_A NS_B]" >&2; exit 1 ;;
esac
