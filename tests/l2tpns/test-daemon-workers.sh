#!/bin/bash
# Data-plane workers: our l2tpns with --workers 2, one l2tp-lac tunnel (one source address and
# port) carrying 40 sessions, traffic both ways through the echo server. The reuseport program
# steers by L2TP session id, so both workers must carry a fair share of the one tunnel; nothing
# may be lost; the control loop still sets sessions up and down, answers nsctl and the metrics
# listener, and gets the control messages and the data of unknown sessions (handed over by the
# workers) that a second source sends meanwhile.
# Needs root, /usr/sbin/freeradius, python3, curl, l2tpns, l2tp-lac and nsctl in $NETEDGE_BIN_DIR.
set -u
. "$(dirname "$0")/daemon-env.inc"
nsctl=$bin/nsctl
require "nsctl: cargo build --release; curl: apt-get install curl" "$nsctl" curl
SIZE=200
sessions=40

check "three namespaces and two veth pairs set up" setup_net || exit 1
check "FreeRADIUS ready in the LNS namespace" start_radius || exit 1
write_lns_config
LNS_ARGS="--workers 2"
check "l2tpns --workers 2 listening on 10.201.0.1:1701" start_lns || { show_lns_log; exit 1; }
check "echo server listening in the server namespace" start_echo || exit 1

check "start-up log names the data plane: 2 workers, multi-queue TUN, session-id steering" \
    grep -q 'data plane: 2 worker threads, multi-queue TUN (2 queues.*steered by L2TP session id' \
    "$lns_dir/l2tpns.log"
check "start-up log says whether UDP GSO is in use" \
    grep -q 'data plane: UDP GSO (UDP_SEGMENT) \(in use\|not supported\)' "$lns_dir/l2tpns.log"
check "three sockets share 10.201.0.1:1701 (the control loop's and one per worker)" \
    [ "$(in_lns ss -lunp | grep -c '10.201.0.1:1701')" = 3 ]
check "two data-plane threads (l2tpns-dp0, l2tpns-dp1)" \
    [ "$(ls /proc/"$lns_pid"/task/*/comm 2>/dev/null | xargs cat 2>/dev/null | grep -c '^l2tpns-dp')" = 2 ]

# nsctl counters as name=value lines; metric value of an exposition line.
ctr() { in_lns "$nsctl" show counters 2>/dev/null | sed -n "s/^$1=//p"; }
metric() { in_lns curl -s http://127.0.0.1:9702/metrics | awk -v m="$1" '$1 == m { print $2 }'; }

run_lac traffic pap "$sessions" 1 4000 8 &
lac_job=$!
# Until every session is up, then garbage from another source port meanwhile: control
# messages (T bit: socket 0, the control loop's) and data messages for sessions that do not
# exist (steered to the workers, which hand them to the control loop).
for i in $(seq 1 300); do
    [ "$(ctr sessions)" = "$sessions" ] && break
    sleep 0.1
done
check "nsctl during the set-up: $sessions sessions" [ "$(ctr sessions)" = "$sessions" ]
unknown_before=$(ctr l2tp_unknown_tunnel)
malformed_before=$(ctr l2tp_malformed)
cat >"$work/garbage.py" <<'PY'
import random, socket, struct
random.seed(14)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dst = ("10.201.0.1", 1701)
for n in range(200):
    # an SCCRQ-looking control message (tunnel 0) whose one AVP is shorter than its header
    avp = struct.pack("!HHH", 0x8000 | 3, 0, 0)
    s.sendto(struct.pack("!HHHHHH", 0xC802, 12 + len(avp), 0, 0, 0, n) + avp, dst)
for n in range(200):
    # data messages of a tunnel that does not exist, sessions spread over both workers
    s.sendto(struct.pack("!HHH", 0x0002, 60000 + n % 7, n) + bytes([0xff, 0x03, 0, 0x21]), dst)
PY
in_lac python3 "$work/garbage.py"
wait "$lac_job"
lac_rc=$?
check "l2tp-lac: every session up and cleared cleanly (exit status $lac_rc)" [ "$lac_rc" = 0 ]
sent=$(field "$work/traffic.json" sent)
received=$(field "$work/traffic.json" received)
check "traffic both ways, nothing lost ($received of $sent probes echoed)" \
    [ "${sent:-0}" -gt 20000 -a "${received:-0}" = "${sent:-x}" ]
check "no session failed" [ "$(field "$work/traffic.json" sessions_failed)" = 0 ]

w0=$(ctr worker0_packets) w1=$(ctr worker1_packets)
total=$((w0 + w1))
up=$(ctr up_packets) down=$(ctr down_packets)
echo "# worker0_packets=$w0 worker1_packets=$w1 up_packets=$up down_packets=$down"
check "the workers carried every forwarded packet (worker0 + worker1 = up + down = $total)" \
    [ "$total" = $((up + down)) -a "$total" -ge $((2 * sent)) ]
check "worker 0 carried a fair share of the one tunnel ($w0 of $total, >= 25 %)" [ $((w0 * 4)) -ge "$total" ]
check "worker 1 carried a fair share of the one tunnel ($w1 of $total, >= 25 %)" [ $((w1 * 4)) -ge "$total" ]
check "metrics: l2tpns_worker_packets_total per worker ($(metric 'l2tpns_worker_packets_total{worker="0"}'), $(metric 'l2tpns_worker_packets_total{worker="1"}'))" \
    [ "$(metric 'l2tpns_worker_packets_total{worker="0"}')" -ge "$w0" -a "$(metric 'l2tpns_worker_packets_total{worker="1"}')" -ge "$w1" ]
check "control messages reached the control loop: l2tp_malformed $malformed_before -> $(ctr l2tp_malformed) (+200)" \
    [ $(($(ctr l2tp_malformed) - malformed_before)) -ge 200 ]
check "data of unknown tunnels, handed over by the workers: l2tp_unknown_tunnel $unknown_before -> $(ctr l2tp_unknown_tunnel) (+200)" \
    [ $(($(ctr l2tp_unknown_tunnel) - unknown_before)) -ge 200 ]
check "nothing dropped on the way to the control loop (slow_path_dropped $(ctr slow_path_dropped))" \
    [ "$(ctr slow_path_dropped)" = 0 ]
check "every session cleared: nsctl shows 0 sessions" wait_for 10 eval '[ "$(ctr sessions)" = 0 ]'
# Down and up again: the control loop is still in charge.
lac again lac900 --rate 50 --duration 2
again_rc=$?
check "a new session comes up, carries traffic and goes down after the run" \
    eval '[ $again_rc = 0 ] && [ "$(field "$work/again.json" received)" = "$(field "$work/again.json" sent)" ] && [ "$(field "$work/again.json" sent)" -gt 50 ]'
check "l2tpns still running" kill -0 "$lns_pid"
check "no crash: no panic in the daemon's output" no_panic
echo "# $(in_lns "$nsctl" show counters | tr '\n' ' ')"
[ "$failures" = 0 ]
