#!/bin/bash
# Throttling measured with real TCP: `l2tp-lac --tun` hands one session to a TUN device in the
# LAC's namespace, so iperf3 there runs the kernel's TCP through the LNS like a subscriber's.
# The session is throttled with nsctl (the throttlectl plugin) at 1, 10 and 50 Mbit/s, each
# way in turn (upstream: iperf3 sends; downstream: iperf3 -R), and what the receiver counts,
# in its steady one-second intervals (after iperf3 --omit), must be within ±5 % of the TCP
# payload the rate allows (the rate counts IP packets; 1 kbit = 1000 bit in both). A second session, never throttled, carries more than the
# highest rate at the same time as the throttled one, and the data plane drops none of its
# packets for throttling.
# Needs root, /usr/sbin/freeradius, iperf3, python3, l2tpns, l2tp-lac and nsctl in
# $NETEDGE_BIN_DIR. Tunables: SECONDS_PER_RUN (10), OMIT (2), TOLERANCE_PERCENT (5),
# RATES_KBIT ("1000 10000 50000"), THROTTLE_QUEUE (the daemon's default: 64; 0 makes the
# throttle a policer, 2 is the original's queue).
set -u
. "$(dirname "$0")/daemon-env.inc"
nsctl=$bin/nsctl
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
OMIT=${OMIT:-2}
TOLERANCE_PERCENT=${TOLERANCE_PERCENT:-5}
RATES_KBIT=${RATES_KBIT:-1000 10000 50000}

require "apt-get install iperf3" iperf3

check "three namespaces and two veth pairs set up" setup_net || exit 1
check "FreeRADIUS ready in the LNS namespace" start_radius || exit 1
write_lns_config 'load plugin "throttlectl"' ${THROTTLE_QUEUE:+"set throttle_queue $THROTTLE_QUEUE"}
check "l2tpns started" start_lns || { show_lns_log; exit 1; }

setsid ip netns exec "$ns_srv" iperf3 -s -J -B 10.202.0.2 -p 5201 </dev/null >"$work/iperf3-s1.log" 2>&1 &
pids+=($!)
setsid ip netns exec "$ns_srv" iperf3 -s -J -B 10.202.0.2 -p 5202 </dev/null >"$work/iperf3-s2.log" 2>&1 &
pids+=($!)

# tun_session NAME USER DEVICE: a session of USER on the TUN device DEVICE, routed to the server.
tun_session() {
    local name=$1 user=$2 dev=$3 i
    setsid ip netns exec "$ns_lac" "$lac" --lns 10.201.0.1 --bind 10.201.0.2:0 --sessions 1 \
        --auth pap --user "$user" --password lacpass --secret tunnelsecret --setup-timeout 20 \
        --tun "$dev" --duration 0 --json </dev/null >"$work/$name.out" 2>"$work/$name.err" &
    pids+=($!)
    for i in $(seq 1 200); do
        if grep -q "^tun $dev up: " "$work/$name.out"; then
            # Each session's own source address picks its device: one route per server port
            # would not do, so policy routing by source it is.
            local addr table=$((100 + ${#pids[@]}))
            addr=$(sed -n "s/^tun $dev up: //p" "$work/$name.out")
            in_lac ip route add 10.202.0.0/24 dev "$dev" table "$table" &&
                in_lac ip rule add from "$addr" table "$table" &&
                echo "$addr" >"$work/$name.addr"
            return
        fi
        sleep 0.1
    done
    sed 's/^/# /' "$work/$name.err" | head -5
    return 1
}
check "session lac1 on TUN device ${tag}u (l2tp-lac --tun)" tun_session t1 lac1 "${tag}u" || exit 1
check "session lac2 on TUN device ${tag}v" tun_session t2 lac2 "${tag}v" || exit 1
a1=$(cat "$work/t1.addr") a2=$(cat "$work/t2.addr")
echo "# lac1 $a1, lac2 $a2"

# iperf NAME ADDR PORT [iperf3 options]: the receiver's steady rate of TCP payload in kbit/s
# (NAME.kbit) and the payload the rate of the session's IP packets allows (NAME.payload_ratio
# in per mille: each full segment of MSS bytes is an IP packet of MSS + 52 bytes, IPv4 and TCP
# headers with timestamps). Steady: the receiver's one-second intervals after --omit, less the
# last one, when the backlog the throttle held drains into the end of the test (iperf3's end
# message queues behind it in the same session). The server runs with -J so that
# --get-server-output brings its intervals as JSON.
iperf() {
    local name=$1 addr=$2 port=$3
    shift 3
    in_lac iperf3 -c 10.202.0.2 -p "$port" -B "$addr" -t "$SECONDS_PER_RUN" -O "$OMIT" -J \
        --get-server-output "$@" >"$work/$name.json" 2>"$work/$name.err" ||
        { sed 's/^/# /' "$work/$name.err" | head -3; return 1; }
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
receiver = r if r["start"]["test_start"]["reverse"] else r["server_output_json"]
# iperf3 3.12 reports the omitted seconds once more as one long interval: whole seconds only.
steady = [i["sum"] for i in receiver["intervals"]
          if not i["sum"].get("omitted") and i["sum"]["seconds"] < 1.5][:-1]
bits = sum(i["bytes"] * 8 for i in steady)
seconds = sum(i["seconds"] for i in steady)
mss = r["start"]["tcp_mss_default"]
print(int(bits / seconds / 1000), file=open(sys.argv[2], "w"))
print(int(1000 * mss / (mss + 52)), file=open(sys.argv[3], "w"))' \
        "$work/$name.json" "$work/$name.kbit" "$work/$name.payload_ratio"
}
within() { # within NAME RATE: NAME.kbit within TOLERANCE_PERCENT of the payload RATE allows
    local got ratio want
    got=$(cat "$work/$1.kbit" 2>/dev/null) && ratio=$(cat "$work/$1.payload_ratio") || return 1
    want=$(( $2 * ratio / 1000 ))
    echo "# $1: $got kbit/s of TCP payload; throttled at $2 kbit/s of IP packets, that is" \
        "$want kbit/s of payload ($(( (got - want) * 1000 / want )) per mille off)"
    [ $(( (got - want) * 100 )) -le $(( TOLERANCE_PERCENT * want )) ] &&
        [ $(( (want - got) * 100 )) -le $(( TOLERANCE_PERCENT * want )) ]
}

check "lac1 unthrottled: iperf3 runs through the session" iperf free1 "$a1" 5201
free=$(cat "$work/free1.kbit" 2>/dev/null || echo 0)
echo "# lac1 unthrottled: $free kbit/s"

for rate in $RATES_KBIT; do
    check "nsctl throttle lac1 in $rate out $rate" \
        in_lns "$nsctl" throttle lac1 in "$rate" out "$rate" >/dev/null
    iperf up$rate "$a1" 5201
    check "upstream (iperf3 from the user) throttled at $rate kbit/s: within ±$TOLERANCE_PERCENT %" \
        within up$rate "$rate"
    iperf down$rate "$a1" 5201 -R
    check "downstream (iperf3 -R) throttled at $rate kbit/s: within ±$TOLERANCE_PERCENT %" \
        within down$rate "$rate"
done

# The unthrottled session beside the throttled one, both at once.
top=0
for rate in $RATES_KBIT; do [ "$rate" -gt "$top" ] && top=$rate; done
in_lns "$nsctl" throttle lac1 in "$top" out "$top" >/dev/null
in_lns "$nsctl" --json show sessions >"$work/before.json"
iperf both1 "$a1" 5201 &
both=$!
iperf both2 "$a2" 5202
wait "$both"
echo "# at once: lac1 (throttled at $top) $(cat "$work/both1.kbit" 2>/dev/null) kbit/s," \
    "lac2 (unthrottled) $(cat "$work/both2.kbit" 2>/dev/null) kbit/s"
check "lac2, unthrottled, carries more than lac1's $top kbit/s at the same time" \
    eval '[ "$(cat "$work/both2.kbit" 2>/dev/null || echo 0)" -gt "$top" ]'
in_lns "$nsctl" --json show sessions >"$work/after.json"
check "nsctl: lac2 has no policy and the data plane dropped none of its packets for it" \
    python3 -c '
import json, sys
s = [x for x in json.load(open(sys.argv[1])) if x["user"] == "lac2"][0]
p = s["policy"]
print("# lac2 policy:", p, "throttle:", s.get("throttle"), file=sys.stderr)
sys.exit(0 if not p["throttle_in"] and not p["throttle_out"] and not s.get("throttle") else 1)' \
    "$work/after.json"
check "nsctl unthrottle lac1" in_lns "$nsctl" unthrottle lac1 >/dev/null
check "no daemon panic" no_panic
[ "$failures" = 0 ] || show_lns_log
exit $((failures > 0))
