#!/bin/bash
# l2tpns at scale: one daemon, more sessions than the C l2tpns can ever hold (its MAXSESSION is
# 60 000, fixed at compile time; it is not run here). Brings TUNNELS x SESSIONS sessions up through
# FreeRADIUS (PAP), passes UDP probes round-robin through every session, saves the state with
# SIGTERM and resumes it in a new daemon while the LAC keeps sending, and prints "# bench:" lines:
# set-up rate, daemon RSS per session, SIGTERM save time and restart resume time.
#
# Runs on the host as root in network namespaces (tests/l2tpns/daemon-env.inc):
#   NETEDGE_BIN_DIR=target/release tests/bench/host/l2tpns-scale.sh
# Tunables: TUNNELS (10), SESSIONS per tunnel (7000), POOL (10.210.0.0/15: 131 070 addresses),
# RATE (probes per second over all sessions, 5000), TRAFFIC (seconds of probes, 30),
# ACCOUNTING (no; yes doubles the RADIUS work), SETUP_WINDOW (4000), RSS_BOUND_KIB (per session, 2),
# RADIUS_THREADS (FreeRADIUS threaded with N workers instead of `-X`; daemon-env.inc),
# LNS_PREFIX (a command the daemon runs under, e.g. "heaptrack -o /tmp/lns"; RSS is then not
# the daemon's own).
# One million sessions (L2TP session ids are 16 bits per tunnel, the pool a /12):
#   TUNNELS=20 SESSIONS=50000 POOL=10.208.0.0/12 RADIUS_THREADS=8 SETUP_WINDOW=... \
#   tests/bench/host/l2tpns-scale.sh
set -u
repo=$(cd "$(dirname "$0")/../../.." && pwd)
export NETEDGE_BIN_DIR=${NETEDGE_BIN_DIR:-${CARGO_TARGET_DIR:-$repo/target}/release}
. "$repo/tests/l2tpns/daemon-env.inc"
TUNNELS=${TUNNELS:-10}
SESSIONS=${SESSIONS:-7000}
export POOL=${POOL:-10.210.0.0/15}
RATE=${RATE:-5000}
TRAFFIC=${TRAFFIC:-30}
ACCOUNTING=${ACCOUNTING:-no}
# Sessions in set-up at once (l2tp-lac --setup-window): FreeRADIUS answers ~1 500 logins/s here;
# 70 000 at once left the last ones queued past the LAC's PAP retries (30 s).
SETUP_WINDOW=${SETUP_WINDOW:-4000}
# Seconds the LAC waits for every session to come up (a million take minutes).
SETUP_TIMEOUT=${SETUP_TIMEOUT:-600}
# ECHO_TIMEOUT=N: `ppp_keepalive yes` and `echo_timeout N` (an LCP Echo-Request after N s
# without traffic from the user). The default, one every 10 s per session, is 25 000 echo
# exchanges a second at 250 000 sessions: on this 2-core host they took the daemon's and the
# LAC's time from the set-up (70 sessions/s instead of 2 500). Empty: the daemon's default.
ECHO_TIMEOUT=${ECHO_TIMEOUT:-}
# Why 2 KiB: issue 14's target for an idle session (1 949 B at 70 000 on 2026-12-08; 4 045 B
# before the cuts of docs/BENCHMARKS.md "Where a session's bytes go"). A leak per session, a
# fixed per-session buffer (the C daemon's style) or a queue that keeps its buffer breaks it.
RSS_BOUND_KIB=${RSS_BOUND_KIB:-2}
read -r -a lns_prefix <<<"${LNS_PREFIX:-}"
total=$((TUNNELS * SESSIONS))
bench() { echo "# bench: $*"; }

state_dir=$work/state
mkdir -p "$state_dir"
start_lns_with_state() {
    setsid ip netns exec "$ns_lns" "${lns_prefix[@]}" "$l2tpns" -c "$lns_dir/startup-config" --state-dir "$state_dir" \
        </dev/null >>"$lns_dir/stdout.log" 2>&1 &
    lns_pid=$!
    local i
    # A restart resumes the saved sessions first: tens of seconds at a million.
    for i in $(seq 1 3000); do
        in_lns ss -lun 2>/dev/null | grep -q '10.201.0.1:1701' && return 0
        kill -0 "$lns_pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
# The daemon is the child of `ip netns exec` (setsid keeps the same pid: exec chain).
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$lns_pid/status" 2>/dev/null; }
cpu_seconds() { # utime+stime of a pid in seconds
    awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null
}
# Counted incrementally into $up (no subshell: it keeps its place in the log): at a million
# sessions the log is hundreds of MB, and grepping it whole twice a second took a core from the
# daemon. The daemon writes each line in one write(), so the size is always at a line's end.
up=0 up_offset=0
count_up() {
    local size
    size=$(stat -c %s "$lns_dir/l2tpns.log" 2>/dev/null) || return 0
    [ "$size" -gt "$up_offset" ] || return 0
    up=$((up + $(tail -c +$((up_offset + 1)) "$lns_dir/l2tpns.log" | head -c $((size - up_offset)) |
        grep -c 'session .*: user .* up with ')))
    up_offset=$size
}
ms_now() { date +%s%3N; }

check "three namespaces and two veth pairs set up" setup_net || exit 1
# The server routes the pool back to the LNS (setup_net routes 10.210.0.0/15 only).
in_srv ip route replace "$POOL" via 10.202.0.1
check "FreeRADIUS ready in the LNS namespace" start_radius || exit 1
check "echo server listening in the server namespace" start_echo || exit 1
radius_pid=${pids[0]}
echo_config=()
[ -n "$ECHO_TIMEOUT" ] && echo_config=("set ppp_keepalive yes" "set echo_timeout $ECHO_TIMEOUT")
write_lns_config "set radius_accounting $ACCOUNTING" "${echo_config[@]}"
check "l2tpns listening on 10.201.0.1:1701" start_lns_with_state || { show_lns_log; exit 1; }
rss0=$(rss_kib)

# One LAC for the whole run: set-up, then probes for TRAFFIC seconds during which the daemon is
# replaced (SIGTERM save, restart resume) without the LAC noticing.
lac_cmd=("$lac" --lns 10.201.0.1 --bind 10.201.0.2:0 --tunnels "$TUNNELS" --sessions "$SESSIONS"
    --auth pap --user 'lac%d' --password lacpass --secret tunnelsecret --setup-timeout "$SETUP_TIMEOUT"
    --target 10.202.0.2:9000 --rate "$RATE" --size 200 --duration "$TRAFFIC" --drain 2
    --socket-buffer $((32 << 20)) --setup-window "$SETUP_WINDOW" --json)
echo "# ${lac_cmd[*]}"
t0=$(ms_now)
# exec: $! is the LAC itself (for its CPU time).
(exec ip netns exec "$ns_lac" "${lac_cmd[@]}" >"$work/lac.json" 2>"$work/lac.err") &
lac_job=$!

# Datagrams the kernel dropped for a full receive buffer in the LNS namespace, per socket
# (FreeRADIUS on :0714 = 1812, the daemon's L2TP socket on :06A5 = 1701, its RADIUS sockets).
udp_drops() {
    bench "UDP receive-buffer drops in the LNS namespace: $(in_lns nstat -az UdpRcvbufErrors 2>/dev/null |
        awk '$1 == "UdpRcvbufErrors" {print $2}')"
    in_lns awk 'NR > 1 && $NF > 0 {print "#   socket " $2 " dropped " $NF}' /proc/net/udp
}
all_up() {
    while kill -0 "$lac_job" 2>/dev/null; do
        count_up
        [ "$up" -ge "$total" ] && return 0
        sleep 0.5
    done
    return 1
}
if all_up; then
    ok "$total sessions up on one daemon ($TUNNELS tunnels x $SESSIONS)"
else
    notok "$total sessions up on one daemon ($TUNNELS tunnels x $SESSIONS)"
    count_up
    bench "only $up/$total sessions came up; the LAC said:"
    sed 's/[0-9][0-9]*/N/g' "$work/lac.err" | sort | uniq -c | sort -rn | head -5 | sed 's/^/# /'
    grep -v ' up with \| up from \|accepted, address\|counters:' "$lns_dir/l2tpns.log" | sed 's/[0-9][0-9]*/N/g' | sort | uniq -c |
        sort -rn | head -5 | sed 's/^/# daemon: /'
    udp_drops
    exit 1
fi
t_up=$(ms_now)
udp_drops
rss1=$(rss_kib)
bench "set-up: $up/$total sessions in $(((t_up - t0) / 1000)).$(((t_up - t0) % 1000 / 100)) s (log-polled), CPU: daemon $(cpu_seconds "$lns_pid") s, FreeRADIUS $(cpu_seconds "$radius_pid") s, l2tp-lac $(cpu_seconds "$lac_job") s"
per_session=$(((rss1 - rss0) * 1024 / (up > 0 ? up : 1)))
bench "memory: daemon RSS $((rss0 / 1024)) MiB empty, $((rss1 / 1024)) MiB with $up sessions: $per_session bytes per session"
check "RSS per session $per_session B under $RSS_BOUND_KIB KiB" [ "$per_session" -lt $((RSS_BOUND_KIB * 1024)) ]

# Let the probes run a few seconds through the first daemon, then replace it.
sleep 4
check "the LAC is still sending (TRAFFIC=$TRAFFIC s leaves time for the restart)" kill -0 "$lac_job"
t_term=$(ms_now)
old_pid=$lns_pid
kill -TERM "$lns_pid"
exited() {
    local i
    for i in $(seq 1 6000); do kill -0 "$old_pid" 2>/dev/null || return 0; sleep 0.05; done
    return 1
}
check "SIGTERM: the daemon exits" exited
t_saved=$(ms_now)
check "SIGTERM: state saved for $total sessions" grep -q "saved $total session(s)" "$lns_dir/l2tpns.log"
state_bytes=$(du -b "$state_dir" | awk '{print $1}')
# Where the new daemon's lines start (the whole log is too big to grep 20 times a second).
log_mark=$(stat -c %s "$lns_dir/l2tpns.log")
check "l2tpns restarted" start_lns_with_state || show_lns_log
resumed() {
    local i
    for i in $(seq 1 3000); do
        tail -c +$((log_mark + 1)) "$lns_dir/l2tpns.log" | grep -q "resumed $total session(s)" && return 0
        kill -0 "$lns_pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
check "restart: $total sessions resumed" resumed
t_resumed=$(ms_now)
bench "SIGTERM save: $((t_saved - t_term)) ms to exit with $total sessions saved (state file $state_bytes bytes); restart to 'resumed': $((t_resumed - t_saved)) ms; gap without a daemon $((t_resumed - t_term)) ms"
bench "memory after resume: $(($(rss_kib) / 1024)) MiB"

wait "$lac_job"
lac_rc=$?
# The report without its list of every session's address (a million lines at scale).
python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); r.pop("addresses", None); print(json.dumps(r, indent=1))' \
    "$work/lac.json" 2>/dev/null | sed 's/^/# /'
grep -v "down: Local" "$work/lac.err" | head -5 | sed 's/^/# stderr: /'
check "LAC: every session stayed up through the restart (exit status $lac_rc, no CDN or StopCCN)" \
    [ "$lac_rc" = 0 ] && ! grep -q 'down: Peer' "$work/lac.err"
if [ -s "$work/lac.json" ]; then
    rate=$(field "$work/lac.json" setup_rate)
    secs=$(field "$work/lac.json" setup_seconds)
    sent=$(field "$work/lac.json" sent)
    received=$(field "$work/lac.json" received)
    lost=$(field "$work/lac.json" lost)
    bench "set-up rate: $(field "$work/lac.json" sessions_up) sessions in $secs s = $rate sessions/s (l2tp-lac)"
    bench "traffic: $sent probes round-robin over $total sessions at $RATE pps, $received back, $lost lost (the restart gap is about $((RATE * (t_resumed - t_term) / 1000)) probes)"
    # Probes sent while no daemon runs are lost, plus a second's worth for the sockets' queues;
    # everything else must come back.
    allowed=$((RATE * (t_resumed - t_term + 1000) / 1000))
    check "traffic passes through the sessions: $lost lost of $sent, at most $allowed (the restart gap + 1 s)" \
        [ "$received" -gt 0 ] && [ "$lost" -le "$allowed" ]
else
    notok "l2tp-lac report written"
fi
check "no panic in the daemon" no_panic
bench "the C l2tpns cannot run this: MAXSESSION is 60000 at compile time (reference l2tpns.md); not run"
bench "command: TUNNELS=$TUNNELS SESSIONS=$SESSIONS POOL=$POOL RATE=$RATE TRAFFIC=$TRAFFIC ACCOUNTING=$ACCOUNTING SETUP_WINDOW=$SETUP_WINDOW SETUP_TIMEOUT=$SETUP_TIMEOUT ECHO_TIMEOUT=$ECHO_TIMEOUT RADIUS_THREADS=${RADIUS_THREADS:-} tests/bench/host/l2tpns-scale.sh"
[ "$failures" = 0 ]
