#!/bin/bash
# Our l2tpns end to end with FreeRADIUS: 100 PAP and 100 CHAP sessions from l2tp-lac, traffic
# both ways through the TUN device to an echo server, Access-Reject answered with PAP-Nak then
# CDN, RADIUS accounting Start/Stop with the octets that were sent, accounting_dir dump.
# Needs root, /usr/sbin/freeradius, python3, l2tpns and l2tp-lac in $NETEDGE_BIN_DIR.
set -u
. "$(dirname "$0")/daemon-env.inc"
SIZE=${SIZE:-200}

check "three namespaces and two veth pairs set up" setup_net || exit 1
check "FreeRADIUS ready in the LNS namespace" start_radius || exit 1
write_lns_config "set icmp_rate 10"
check "l2tpns listening on 10.201.0.1:1701" start_lns || { show_lns_log; exit 1; }
check "echo server listening in the server namespace" start_echo || exit 1

detail=$radius_dir/detail
# Accounting records of one part of the file: detail_sum FROM-BYTE STATUS ATTRIBUTE
detail_sum() {
    python3 - "$detail" "$1" "$2" "$3" <<'PY'
import sys
path, start, status, attr = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
data = open(path).read()[start:]
n = total = 0
for rec in data.split("\n\n"):
    kv = {}
    for line in rec.splitlines():
        if "=" in line:
            k, v = line.strip().split(" = ", 1)
            kv.setdefault(k, []).append(v.strip('"'))
    if kv.get("Acct-Status-Type", [""])[0] != status:
        continue
    n += 1
    if attr != "-":
        total += int(kv.get(attr, ["0"])[0])
print(n, total)
PY
}
detail_size() { stat -c %s "$detail" 2>/dev/null || echo 0; }
wait_for_stops() { # wait_for_stops FROM N
    local i
    for i in $(seq 1 50); do
        [ "$(detail_sum "$1" Stop - | cut -d' ' -f1)" -ge "$2" ] && return 0
        sleep 0.2
    done
    return 1
}

# --- 100 sessions with PAP, traffic both ways ------------------------------------------------
from=$(detail_size)
if run_lac pap pap 100 1 500 4; then
    ok "PAP: 100 sessions up ($(field "$work/pap.json" setup_rate) sessions/s)"
else
    notok "PAP: 100 sessions up"
fi
sent=$(field "$work/pap.json" sent)
received=$(field "$work/pap.json" received)
check "PAP: traffic sent upstream through the TUN ($sent probes)" [ "${sent:-0}" -gt 0 ]
check "PAP: every probe echoed back downstream, no loss ($received of $sent)" \
    [ "${received:-0}" -gt 0 -a "${received:-0}" = "${sent:-x}" ]
check "PAP: the LAC dropped no L2TP or PPP frame" \
    [ "$(field "$work/pap.json" l2tp_dropped)$(field "$work/pap.json" ppp_malformed)" = 00 ]
check "PAP: 100 Acct-Stop records after the LAC hung up" wait_for_stops "$from" 100
read -r starts _ <<<"$(detail_sum "$from" Start -)"
check "PAP: 100 Acct-Start records ($starts)" [ "$starts" -ge 100 ]
read -r stops in_octets <<<"$(detail_sum "$from" Stop Acct-Input-Octets)"
read -r _ out_octets <<<"$(detail_sum "$from" Stop Acct-Output-Octets)"
read -r _ in_packets <<<"$(detail_sum "$from" Stop Acct-Input-Packets)"
# Our counters count IPv4 octets (no L2TP/PPP header): exactly the probes' size.
check "PAP: Acct-Input-Octets sum = probes sent x $SIZE ($in_octets = $sent x $SIZE)" \
    [ "$in_octets" = $((sent * SIZE)) ]
check "PAP: Acct-Output-Octets sum = probes echoed x $SIZE ($out_octets)" \
    [ "$out_octets" = $((received * SIZE)) ]
check "PAP: Acct-Input-Packets sum = probes sent ($in_packets)" [ "$in_packets" = "$sent" ]
check "PAP: Class echoed in accounting" grep -q 'Class = 0x6e6574656467652d636c617373\|Class = "netedge-class"' "$detail"
check "PAP: Acct-Terminate-Cause in Stop" grep -q 'Acct-Terminate-Cause = ' "$detail"
check "PAP: Message-Authenticator sent in Access-Request" grep -q 'Message-Authenticator = ' "$radius_dir/radiusd.log"

# --- 100 sessions with CHAP over 2 tunnels -------------------------------------------------------
from=$(detail_size)
if run_lac chap chap 50 2 500 3; then
    ok "CHAP: 100 sessions over 2 tunnels up ($(field "$work/chap.json" setup_rate) sessions/s)"
else
    notok "CHAP: 100 sessions over 2 tunnels up"
fi
sent=$(field "$work/chap.json" sent)
received=$(field "$work/chap.json" received)
check "CHAP: traffic both ways, no loss ($received of $sent)" \
    [ "${received:-0}" -gt 0 -a "${received:-0}" = "${sent:-x}" ]
check "FreeRADIUS checked CHAP passwords" grep -q 'Auth-Type CHAP = ok\|chap: CHAP user .* authenticated succesfully\|chap.*ok' "$radius_dir/radiusd.log"
check "CHAP: 100 Acct-Stop records" wait_for_stops "$from" 100

logins=$(grep -c 'Login OK: \[lac[0-9]*' "$radius_dir/radiusd.log")
check "FreeRADIUS accepted at least 200 logins ($logins)" [ "$logins" -ge 200 ]

# --- static address and Framed-Route -----------------------------------------------------------
in_lac "$lac" --lns 10.201.0.1 --bind 10.201.0.2:0 --sessions 1 --auth pap --user static \
    --password lacpass --secret tunnelsecret --setup-timeout 30 --target 10.202.0.2:9000 \
    --rate 50 --size "$SIZE" --duration 3 --json >"$work/static.json" 2>"$work/static.err" &
static_pid=$!
routes_ok=false
for i in $(seq 1 40); do
    if in_lns ip route show dev "${tag}t" proto 42 | grep -q '^10.212.0.0/24' &&
        in_lns ip route show dev "${tag}t" proto 42 | grep -q '^10.211.0.7 '; then
        routes_ok=true
        break
    fi
    sleep 0.1
done
# A TCP SYN towards the session (MSS 1460 from the server's 1500-byte link) is clamped on its
# way down to MRU - 40; the LAC simulator ignores it.
in_srv timeout 1 bash -c 'exec 3<>/dev/tcp/10.211.0.7/80' 2>/dev/null
wait "$static_pid"
check "static: session up with Framed-IP-Address 10.211.0.7" grep -q 'accepted, address 10.211.0.7' "$lns_dir/l2tpns.log"
check "static: routes 10.211.0.7 and Framed-Route 10.212.0.0/24 on the TUN (proto 42)" $routes_ok
check "static: traffic echoed" [ "$(field "$work/static.json" received)" -gt 0 ]

# --- Session-Timeout -------------------------------------------------------------------------------
in_lac "$lac" --lns 10.201.0.1 --bind 10.201.0.2:0 --sessions 1 --auth chap --user timeout \
    --password lacpass --secret tunnelsecret --setup-timeout 20 --target 10.202.0.2:9000 \
    --rate 20 --size "$SIZE" --duration 5 --json >"$work/timeout.json" 2>"$work/timeout.err"
sed 's/^/# stderr: /' "$work/timeout.err" | head -3
check "Session-Timeout: the LNS cleared the call (CDN) before the LAC hung up" \
    grep -q 'down: Peer' "$work/timeout.err"
timeout_stop() {
    python3 - "$detail" <<'PY'
import sys
for rec in open(sys.argv[1]).read().split("\n\n"):
    if 'User-Name = "timeout"' in rec and "Acct-Terminate-Cause = Session-Timeout" in rec:
        t = [l for l in rec.splitlines() if "Acct-Session-Time" in l]
        secs = int(t[0].split("=")[1]) if t else -1
        sys.exit(0 if 2 <= secs <= 3 else 1)
sys.exit(1)
PY
}
check "Session-Timeout: Acct-Stop with Terminate-Cause Session-Timeout after 2-3 s" timeout_stop

# --- a free pool address: routed to the TUN (ip_pool CIDR lines), answered with ICMP ------------------
in_srv ping -c 1 -W 2 10.210.0.250 >"$work/ping.out" 2>&1
sed 's/^/# /' "$work/ping.out" | head -3
check "free pool address: ICMP host unreachable from the TUN address (icmp_rate)" \
    grep -q 'From 10.200.0.1 .*Destination Host Unreachable' "$work/ping.out"
check "ip_pool prefixes routed to the TUN device" \
    sh -c "ip netns exec $ns_lns ip route show dev ${tag}t | grep -q '^10.210.0.0/24'"

# --- Access-Reject: PAP Nak, then CDN ---------------------------------------------------------------
in_lac "$lac" --lns 10.201.0.1 --bind 10.201.0.2:0 --sessions 1 --auth pap --user nobody \
    --password wrong --secret tunnelsecret --setup-timeout 20 >"$work/reject.out" 2>"$work/reject.err"
check "reject: l2tp-lac exits non-zero" [ $? != 0 ]
sed 's/^/# stderr: /' "$work/reject.err" | head -5
nak=$(grep -n 'authentication failed: go away' "$work/reject.err" | head -1 | cut -d: -f1)
cdn=$(grep -n 'down: Peer' "$work/reject.err" | head -1 | cut -d: -f1)
check "reject: the LAC got a PAP Nak carrying the Reply-Message" [ -n "$nak" ]
check "reject: then the LNS cleared the call with CDN" [ -n "$cdn" ] && [ -n "$nak" ] && [ "$nak" -lt "$cdn" ]
check "reject: FreeRADIUS rejected it" grep -q 'Login incorrect.*\[nobody' "$radius_dir/radiusd.log"

# --- accounting_dir: written at the latest by the clean shutdown -------------------------------------
kill -QUIT "$lns_pid"
for i in $(seq 1 100); do kill -0 "$lns_pid" 2>/dev/null || break; sleep 0.1; done
check "l2tpns exits on SIGQUIT" not_running "$lns_pid"
dump=$(cat "$lns_dir"/acct/* 2>/dev/null)
echo "$dump" | head -8 | sed 's/^/# dump: /'
check "accounting_dir: dump file in the original's format" grep -q '^# dslwatch.pl dump file V1.01' "$lns_dir"/acct/*
check "accounting_dir: lines 'user ip qos up down' for the sessions" \
    [ "$(echo "$dump" | grep -cE '^lac[0-9]+ 10\.21[01]\.0\.[0-9]+ 1 [0-9]+ [0-9]+$')" -ge 100 ]
check "TCP MSS clamped on the SYN to the session (mss_clamped=$(counter mss_clamped))" [ "$(counter mss_clamped)" -ge 1 ]
check "no crash: no panic in the daemon's output" no_panic
echo "# $(counters)"
[ "$failures" = 0 ]
