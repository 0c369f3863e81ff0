#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Install every Debian package the build, tests, demo and benchmarks need.
# Idempotent: quiet when everything is already there.
set -eu
PKGS="clang llvm make gcc pkg-config libbpf-dev libxdp-dev libelf-dev zlib1g-dev libmnl-dev \
bpftool iproute2 check python3-scapy tcpreplay libpcap-dev libjson-c-dev nftables \
netsniff-ng xdp-tools iptables tcpdump socat iputils-ping gnuplot-nox libclang-rt-14-dev \
prometheus man-db groff-base strace ethtool cppcheck clang-tidy fail2ban bc \
crowdsec crowdsec-custom-bouncer curl jq"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root to install)" >&2
	exit 2
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# crowdsec's postinst registers with the central API unless this file is not
# empty (README.Debian); tests/e2e/crowdsec.sh runs its own local API only
case "$missing" in *" crowdsec"*)
	mkdir -p /etc/crowdsec
	[ -s /etc/crowdsec/online_api_credentials.yaml ] ||
		echo "# no central API (xwall scripts/deps.sh)" >/etc/crowdsec/online_api_credentials.yaml ;;
esac
apt-get -qq update >/dev/null || true
apt-get -y -qq install --no-install-recommends $missing >/dev/null
