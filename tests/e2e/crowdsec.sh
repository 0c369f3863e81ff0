#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# CrowdSec (Debian's crowdsec and crowdsec-custom-bouncer, a local API and a
# bouncer private to the test) feeds an xwall set through
# packaging/crowdsec/ (the bouncer configuration and xwall-crowdsec-feed,
# which runs `xwall set feed crowdsec --json`); traffic across a veth pair
# between two namespaces, xwall on B's end:
#
#   set crowdsec { type inet_addr; flags interval,timeout; }
#   rule 4 in src @crowdsec drop
#
#   ip      `cscli decisions add -i A4 -d 1m`: A4 appears in the set with
#           about a minute left; A's pings fail
#   range   `--range 10.203.9.0/24`: the prefix appears in the set
#   delete  `cscli decisions delete -i A4`: A4 leaves the set, pings pass
#
# Usage: tests/e2e/crowdsec.sh   (root; namespaces xwcs-a/xwcs-b)
set -eu

. "$(dirname "$0")/lib.sh"
e2e_init crowdsec
NS_A=xwcs-a
NS_B=xwcs-b
IF_A=xwcs0
IF_B=xwcs1
A4=10.203.8.1
B4=10.203.8.2
export NS_A NS_B IF_A IF_B A4 B4 ROOT

if [ "${1:-}" != --inner ]; then
	for c in crowdsec cscli crowdsec-custom-bouncer curl; do
		command -v $c >/dev/null || { echo "FAIL crowdsec: $c is not installed (see INTEGRATIONS)" >&2; exit 1; }
	done
	e2e_outer xwcs
	rc=0
	ip netns exec "$NS_B" timeout -k 5 150 bash "$0" --inner || rc=$?
	exit $rc
fi

C=$W/cs
e2e_inner
ip link set lo up
has() { "$XWALL" set list crowdsec | grep -q "^$1 "; }
hasnt() { ! has "$1"; }

printf 'set crowdsec { type inet_addr; flags interval,timeout; }\nrule 4 in src @crowdsec drop\n' >"$W/rules"
"$XWALL" attach "$IF_B" --mode skb >/dev/null
"$XWALL" apply "$W/rules"

PORT=18088
KEY=xwalltestkey0123456789
mkdir -p "$C/data" "$C/log"
cat >"$C/config.yaml" <<EOF
common:
  daemonize: false
  log_media: file
  log_level: info
  log_dir: $C/log/
  working_dir: .
config_paths:
  config_dir: $C/
  data_dir: $C/data/
  simulation_path: /etc/crowdsec/simulation.yaml
  hub_dir: /var/lib/crowdsec/hub/
  index_path: /var/lib/crowdsec/hub/.index.json
  notification_dir: $C/notifications/
  plugin_dir: /usr/lib/crowdsec/plugins/
crowdsec_service:
  acquisition_path: $C/acquis.yaml
db_config:
  type: sqlite
  db_path: $C/data/crowdsec.db
api:
  client:
    credentials_path: $C/local_api_credentials.yaml
  server:
    listen_uri: 127.0.0.1:$PORT
    profiles_path: /etc/crowdsec/profiles.yaml
    trusted_ips:
      - 127.0.0.1
prometheus:
  enabled: false
EOF
cs() { cscli -c "$C/config.yaml" "$@"; }
cs machines add xwtest --password xwtestpassword --url "http://127.0.0.1:$PORT" -f "$C/local_api_credentials.yaml" >/dev/null 2>&1
cs bouncers add xwbouncer -k "$KEY" >/dev/null 2>&1
crowdsec -c "$C/config.yaml" -no-cs -no-capi >"$C/crowdsec.out" 2>&1 &
BG="$BG $!"
health() { curl -fs "http://127.0.0.1:$PORT/health" >/dev/null; }
st until_ok 150 health; expect $R "the local API answers /health" "$(tail -3 "$C/log/crowdsec_api.log" 2>/dev/null)"

sed "s|@SBINDIR@/xwall|$XWALL|g" "$ROOT/packaging/crowdsec/xwall-crowdsec-feed" >"$C/xwall-crowdsec-feed"
chmod +x "$C/xwall-crowdsec-feed"
sed -e "s|@PKGLIBDIR@/xwall-crowdsec-feed|$C/xwall-crowdsec-feed|" \
    -e "s|^api_url:.*|api_url: http://127.0.0.1:$PORT/|" -e "s|^api_key:.*|api_key: $KEY|" \
    -e "s|^update_frequency:.*|update_frequency: 1s|" -e "s|^log_dir:.*|log_dir: $C/log/|" \
    "$ROOT/packaging/crowdsec/crowdsec-custom-bouncer-xwall.yaml" >"$C/bouncer.yaml"
crowdsec-custom-bouncer -c "$C/bouncer.yaml" >"$C/bouncer.out" 2>&1 &
BG="$BG $!"
sleep 2

LABEL=ip
st ping_a4; expect $R "A's ping passes before any decision"
cs decisions add -i "$A4" -d 1m >/dev/null 2>&1
st until_ok 100 has "$A4"; expect $R "a decision on A4 reaches the set" "$(tail -3 "$C"/log/crowdsec-custom-bouncer.log 2>/dev/null)"
"$XWALL" set list crowdsec >"$W/list"
st grep -Eq "^$A4 expires ([0-9]+s|1m)" "$W/list"; expect $R "with its duration as timeout" "$(tr '\n' ' ' <"$W/list")"
st ping_a4; expect $((1 - R)) "A's ping is dropped"

LABEL=range
cs decisions add --range 10.203.9.0/24 -d 1m >/dev/null 2>&1
st until_ok 100 has 10.203.9.0/24; expect $R "a range decision adds the prefix"

LABEL=delete
cs decisions delete -i "$A4" >/dev/null 2>&1
st until_ok 100 hasnt "$A4"; expect $R "deleting the decision removes A4"
st ping_a4; expect $R "and A's ping passes again"
st test -s "$C/log/crowdsec-custom-bouncer.log"; expect $R "the bouncer wrote its log" "$(ls "$C/log")"
st grep -qi "level=error" "$C/log/crowdsec-custom-bouncer.log"; expect $((1 - R)) "the bouncer logged no error" "$(grep -i error "$C"/log/*bouncer*.log | tail -2)"

e2e_done
