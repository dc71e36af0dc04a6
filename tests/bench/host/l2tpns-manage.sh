#!/bin/bash
# The operator's interfaces at scale: one daemon with TUNNELS x SESSIONS sessions (70 000 by
# default) through FreeRADIUS, and how long a full listing takes on each interface (nsctl
# `show sessions`, the telnet CLI's `show session`, a metrics scrape and `/sessions`), with the
# latency of probes through one more session measured alone and while the listings run: a
# listing must not stop the loop that forwards packets.
#
# Runs on the host as root in network namespaces (tests/l2tpns/daemon-env.inc):
#   NETEDGE_BIN_DIR=target/release tests/bench/host/l2tpns-manage.sh
# Tunables: TUNNELS (10), SESSIONS per tunnel (7000), PROBE_RATE (probes per second through the
# probe session, 2000), WINDOW (seconds per latency window, 10), SETUP_WINDOW (4000).
set -u
repo=$(cd "$(dirname "$0")/../../.." && pwd)
export NETEDGE_BIN_DIR=${NETEDGE_BIN_DIR:-${CARGO_TARGET_DIR:-$repo/target}/release}
. "$repo/tests/l2tpns/daemon-env.inc"
TUNNELS=${TUNNELS:-10}
SESSIONS=${SESSIONS:-7000}
export POOL=${POOL:-10.210.0.0/15}
PROBE_RATE=${PROBE_RATE:-2000}
WINDOW=${WINDOW:-10}
SETUP_WINDOW=${SETUP_WINDOW:-4000}
total=$((TUNNELS * SESSIONS))
nsctl=$bin/nsctl
bench() { echo "# bench: $*"; }
ms_now() { date +%s%3N; }
sessions_up() { grep -c 'session .*: user .* up with ' "$lns_dir/l2tpns.log" 2>/dev/null; }

check "three namespaces and two veth pairs set up" setup_net || exit 1
check "FreeRADIUS ready in the LNS namespace" start_radius || exit 1
write_lns_config 'set hostname "bench"'
printf 'admin:adminpw\nenable:enablepw\n' >"$lns_dir/users"
check "l2tpns listening on 10.201.0.1:1701" start_lns || { show_lns_log; exit 1; }
check "echo server listening in the server namespace" start_echo || exit 1

# The crowd: every session up, a trickle of probes, kept up until the end.
(exec ip netns exec "$ns_lac" "$lac" --lns 10.201.0.1 --bind 10.201.0.2:0 --tunnels "$TUNNELS" \
    --sessions "$SESSIONS" --auth pap --user 'lac%d' --password lacpass --secret tunnelsecret \
    --setup-timeout 600 --target 10.202.0.2:9000 --rate 200 --size 100 --duration 3600 \
    --socket-buffer $((32 << 20)) --setup-window "$SETUP_WINDOW" --json \
    >"$work/crowd.json" 2>"$work/crowd.err") &
crowd=$!
all_up() {
    local i
    for i in $(seq 1 1200); do
        [ "$(sessions_up)" -ge "$total" ] && return 0
        kill -0 "$crowd" 2>/dev/null || return 1
        sleep 0.5
    done
    return 1
}
check "$total sessions up" all_up || { kill "$crowd"; exit 1; }

# probe NAME: one more session sending PROBE_RATE probes for WINDOW seconds; its report in NAME.json.
probe() {
    in_lac "$lac" --lns 10.201.0.1 --bind 10.201.0.3:0 --sessions 1 --auth pap --user lac999999 \
        --password lacpass --secret tunnelsecret --setup-timeout 30 --target 10.202.0.2:9000 \
        --rate "$PROBE_RATE" --size 100 --duration "$WINDOW" --json >"$work/$1.json" 2>"$work/$1.err"
}
in_lac ip addr add 10.201.0.3/24 dev "${tag}a" 2>/dev/null
latency() { echo "avg $(field "$work/$1.json" latency_avg_us) us, p99 $(field "$work/$1.json" latency_p99_us) us, $(field "$work/$1.json" lost) lost of $(field "$work/$1.json" sent)"; }

probe alone
check "probe session alone: probes came back" [ "$(field "$work/alone.json" received)" -gt 0 ]
bench "probe latency at $PROBE_RATE pps with $total other sessions, nothing else asked: $(latency alone)"

# during NAME COMMAND...: COMMAND in a loop while a probe window runs; prints its timings.
during() {
    local name=$1
    shift
    probe "$name" &
    local probe_job=$! n=0 start t total_ms=0 worst=0 rc_all=0
    sleep 2 # the probe session's set-up
    while kill -0 "$probe_job" 2>/dev/null; do
        start=$(ms_now)
        "$@" >"$work/$name.out" 2>"$work/$name.err" || rc_all=1
        t=$(($(ms_now) - start))
        total_ms=$((total_ms + t))
        [ "$t" -gt "$worst" ] && worst=$t
        n=$((n + 1))
    done
    wait "$probe_job"
    echo "$n $((total_ms / (n > 0 ? n : 1))) $worst $rc_all"
}

read -r n avg worst rc < <(during nsctl in_lns "$nsctl" -t 10 show sessions)
lines=$(wc -l <"$work/nsctl.out")
check "nsctl show sessions: all $total sessions listed (exit $rc)" eval '[ "$rc" = 0 ] && [ "$lines" -ge "$total" ]'
bench "nsctl show sessions of $lines sessions: $avg ms each (worst $worst ms, $n runs in ${WINDOW} s); probe latency meanwhile: $(latency nsctl)"
read -r n avg worst rc < <(during nsctl-json in_lns "$nsctl" -t 10 --json show sessions)
bench "nsctl --json show sessions: $avg ms each (worst $worst ms, $n runs); probe latency meanwhile: $(latency nsctl-json)"

# The telnet CLI: Debian's telnet under expect, logged in; `show session | count` (every row
# rendered, one line sent) and `show session` to the prompt (every row crosses the connection).
cat >"$work/cli.exp" <<'EOF'
set timeout 300
log_user 0
match_max 65536
lassign $argv command out
spawn telnet 127.0.0.1 23
expect "Username: "
send "admin\r"
expect "Password: "
send "adminpw\r"
expect -re {bench>$}
set f [open $out w]
set rows 0
send "$command\r"
expect {
    -re {Count: ([0-9]+)} { puts $f "count $expect_out(1,string)"; exp_continue }
    -re {\n *[0-9]+ +[0-9]+ [^\n]*} { incr rows; exp_continue }
    -re {\nbench>$} {}
    timeout { puts $f "timeout"; exit 2 }
}
puts $f "rows $rows"
close $f
send "exit\r"
EOF
read -r n avg worst rc < <(during cli-count in_lns expect "$work/cli.exp" "show session | count" "$work/cli-count.txt")
counted=$(sed -n 's/^count //p' "$work/cli-count.txt")
check "CLI show session | count: ${counted:-nothing} (exit $rc)" eval '[ "$rc" = 0 ] && [ "${counted:-0}" -ge "$total" ]'
bench "CLI 'show session | count' over $total sessions: $avg ms each (worst $worst ms, $n runs); probe latency meanwhile: $(latency cli-count)"
read -r n avg worst rc < <(during cli-all in_lns expect "$work/cli.exp" "show session" "$work/cli-all.txt")
rows=$(sed -n 's/^rows //p' "$work/cli-all.txt")
check "CLI show session: ${rows:-no} rows read by the client (exit $rc)" eval '[ "$rc" = 0 ] && [ "${rows:-0}" -ge "$total" ]'
bench "CLI 'show session' read whole by telnet under expect ($rows rows): $avg ms each (worst $worst ms, $n runs); probe latency meanwhile: $(latency cli-all)"

metrics=http://127.0.0.1:9702
read -r n avg worst rc < <(during scrape in_lns curl -sf -o "$work/scrape.txt" "$metrics/metrics")
gauge=$(sed -n 's/^l2tpns_sessions \([0-9]*\)$/\1/p' "$work/scrape.txt")
check "metrics scrape answered: l2tpns_sessions ${gauge:-none} (exit $rc)" eval '[ "$rc" = 0 ] && [ "${gauge:-0}" -ge "$total" ]'
bench "GET /metrics ($(wc -c <"$work/scrape.txt") bytes): $avg ms each (worst $worst ms, $n runs); probe latency meanwhile: $(latency scrape)"
read -r n avg worst rc < <(during sessions-json in_lns curl -sf -o "$work/sessions.json" "$metrics/sessions")
listed=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$work/sessions.json" 2>/dev/null)
check "GET /sessions: all $total sessions (exit $rc)" eval '[ "$rc" = 0 ] && [ "${listed:-0}" -ge "$total" ]'
bench "GET /sessions ($(wc -c <"$work/sessions.json") bytes, $listed sessions): $avg ms each (worst $worst ms, $n runs); probe latency meanwhile: $(latency sessions-json)"

kill "$crowd" 2>/dev/null
wait "$crowd" 2>/dev/null
check "no panic in the daemon" no_panic
bench "command: TUNNELS=$TUNNELS SESSIONS=$SESSIONS PROBE_RATE=$PROBE_RATE WINDOW=$WINDOW tests/bench/host/l2tpns-manage.sh"
[ "$failures" = 0 ]
