#!/bin/bash
# The walled garden with the real tools, for iptables-legacy and iptables-nft in turn:
# `load plugin "garden"` makes the daemon create the nat chains `garden` (filled by the site's
# garden_script: here a DNAT of UDP port 9000 to 9001 on the server) and `garden_users` with
# one PREROUTING jump. A user FreeRADIUS rejects comes up anyway, gardened: its address gets a
# `-s ADDRESS -j garden` rule and its traffic to port 9000 lands on 9001; an accepted user's
# does not. The rule goes when the session ends, and every garden chain and rule when the
# daemon stops.
# Needs root, /usr/sbin/freeradius, iptables (legacy and nft), python3, l2tpns, l2tp-lac and
# nsctl in $NETEDGE_BIN_DIR.
set -u
. "$(dirname "$0")/daemon-env.inc"
nsctl=$bin/nsctl

check "three namespaces and two veth pairs set up" setup_net || exit 1
check "FreeRADIUS ready in the LNS namespace" start_radius || exit 1
check "echo server listening in the server namespace" start_echo || exit 1

# What reaches port 9001 on the server: one source address per line.
cat >"$work/sink.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.202.0.2", 9001))
out = open(sys.argv[1], "a", buffering=1)
while True:
    data, peer = s.recvfrom(65535)
    out.write(peer[0] + "\n")
PY
setsid ip netns exec "$ns_srv" python3 "$work/sink.py" "$work/sink.log" </dev/null >/dev/null 2>&1 &
pids+=($!)

cat >"$work/build-garden" <<'SH'
$IPTABLES -w -t nat -A garden -p udp --dport 9000 -j DNAT --to-destination 10.202.0.2:9001
SH

session_ip() { # session_ip USER: the address of USER's session
    in_lns "$nsctl" --json show sessions | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if s["user"] == sys.argv[1] and s["address"]:
        print(s["address"], "garden" if s["policy"]["garden"] else "free")' "$1"
}

# Each flavour gets its own pool: conntrack keeps the first run's NAT bindings of an address
# for a while, and a reused address would follow them.
pool_of() { case $1 in iptables-legacy) echo 10.210.0.0/24 ;; *) echo 10.211.0.0/24 ;; esac; }
for ipt in iptables-legacy iptables-nft; do
    if ! command -v "$ipt" >/dev/null; then
        notok "$ipt present (Debian's iptables package)"
        continue
    fi
    save=$ipt-save
    nat() { in_lns "$save" -t nat; }
    rm -rf "$lns_dir"
    POOL=$(pool_of "$ipt") write_lns_config 'load plugin "garden"' "set iptables \"$ipt\"" \
        "set garden_script \"$work/build-garden\""
    check "$ipt: l2tpns listening" start_lns || { show_lns_log; continue; }
    has_chains() { nat | grep -q -- "-A garden -p udp -m udp --dport 9000 -j DNAT" &&
        nat | grep -q -- "-A PREROUTING -j garden_users"; }
    check "$ipt: garden chain with the site's DNAT, one PREROUTING jump to garden_users" \
        eval 'wait_for 10 has_chains && [ "$(nat | grep -c -- "-A PREROUTING -j garden_users")" = 1 ]'

    # "visitor" is no user of FreeRADIUS's: Access-Reject.
    lac gardened visitor --rate 20 --duration 8 &
    g=$!
    lac accepted lac8 --rate 20 --duration 8 &
    a=$!
    up() { [ -n "$(session_ip visitor)" ] && [ -n "$(session_ip lac8)" ]; }
    check "$ipt: both sessions up (visitor rejected by FreeRADIUS, taken in by the garden)" wait_for 15 up
    read -r ipv statev < <(session_ip visitor)
    read -r ip8 state8 < <(session_ip lac8)
    echo "# visitor $ipv $statev, lac8 $ip8 $state8"
    check "$ipt: visitor gardened, lac8 not" eval '[ "${statev:-}" = garden ] && [ "${state8:-}" = free ]'
    rulev() { nat | grep -q -- "-A garden_users -s ${ipv:-none}/32 -j garden"; }
    check "$ipt: garden_users has visitor's address and not lac8's" \
        eval 'wait_for 10 rulev && ! nat | grep -q -- "-s ${ip8:-none}/32"'
    sleep 2
    check "$ipt: visitor's traffic to port 9000 was DNATed to the garden host's 9001" \
        grep -q "^${ipv:-none}$" "$work/sink.log"
    check "$ipt: lac8's was not" eval '! grep -q "^${ip8:-none}$" "$work/sink.log"'
    wait "$g" "$a"
    check "$ipt: lac8's probes came back from the real server" \
        eval '[ "$(field "$work/accepted.json" received)" -gt 0 ]'
    gonev() { ! nat | grep -q -- "-A garden_users -s"; }
    check "$ipt: the rule went with the session" wait_for 10 gonev
    kill -TERM "$lns_pid"
    wait_for 15 not_running "$lns_pid"
    check "$ipt: the daemon stopped and left no garden chain or rule" \
        eval 'not_running $lns_pid && ! nat | grep -q garden'
    lns_pid=
    : >"$work/sink.log"
done
check "no panic in the daemon's output" no_panic
[ "$failures" = 0 ] || show_lns_log
exit "$failures"
