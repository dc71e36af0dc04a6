#!/bin/bash
# Operations on our l2tpns with sessions passing traffic: SIGHUP reloads startup-config
# (a changed setting takes effect, sessions stay up, no probe lost); SIGTERM saves the state and
# a restart resumes every session without the LAC noticing; SIGQUIT clears every session with
# CDN/StopCCN and Acct-Stop; sd_notify READY/RELOADING/STOPPING; pid_file.
# Needs root, /usr/sbin/freeradius, python3, l2tpns and l2tp-lac in $NETEDGE_BIN_DIR.
set -u
. "$(dirname "$0")/daemon-env.inc"

check "three namespaces and two veth pairs set up" setup_net || exit 1
check "FreeRADIUS ready in the LNS namespace" start_radius || exit 1
check "echo server listening in the server namespace" start_echo || exit 1

# sd_notify listener: every message on one line.
cat >"$work/notify.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode() + "\n")
PY
export NOTIFY_SOCKET=$work/notify.sock
setsid python3 "$work/notify.py" "$NOTIFY_SOCKET" "$work/notify.log" </dev/null >/dev/null 2>&1 &
pids+=($!)
for i in $(seq 1 50); do [ -S "$NOTIFY_SOCKET" ] && break; sleep 0.1; done

state_dir=$work/state
mkdir -p "$state_dir"
start_lns_with_state() {
    setsid ip netns exec "$ns_lns" "$l2tpns" -c "$lns_dir/startup-config" --state-dir "$state_dir" \
        </dev/null >>"$lns_dir/stdout.log" 2>&1 &
    lns_pid=$!
    local i
    for i in $(seq 1 100); do
        in_lns ss -lun 2>/dev/null | grep -q '10.201.0.1:1701' && return 0
        kill -0 "$lns_pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
wait_exit() { # wait_exit PID TENTHS
    local i
    for i in $(seq 1 "$2"); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    return 1
}
lines_up() { grep -c ' up with ' "$lns_dir/l2tpns.log"; }
wait_up() { # wait_up TOTAL-LINES
    local i
    for i in $(seq 1 150); do [ "$(lines_up)" -ge "$1" ] && return 0; sleep 0.1; done
    return 1
}
notified() { grep -qx "$1" "$work/notify.log"; }

write_lns_config
check "l2tpns started" start_lns_with_state || { show_lns_log; exit 1; }
check "pid_file written with the daemon's pid" [ "$(cat "$lns_dir/l2tpns.pid" 2>/dev/null)" = "$lns_pid" ]
for i in $(seq 1 20); do notified READY=1 && break; sleep 0.1; done
check "sd_notify READY=1" notified READY=1

# --- SIGHUP: reload during traffic ------------------------------------------------------------------
up0=$(lines_up)
run_lac hup chap 30 1 300 8 &
lac_job=$!
check "30 sessions up" wait_up $((up0 + 30))
sed -i 's/^set radius_authtypes .*/set radius_authtypes "chap"/' "$lns_dir/startup-config"
kill -HUP "$lns_pid"
sleep 1
check "SIGHUP: configuration reloaded" grep -q 'reloaded .*radius_authtypes' "$lns_dir/l2tpns.log"
check "sd_notify RELOADING=1" notified RELOADING=1
wait "$lac_job"
check "SIGHUP: the LAC's sessions stayed up (l2tp-lac exit status)" [ $? = 0 ]
check "SIGHUP: no session dropped" [ "$(field "$work/hup.json" sessions_failed)" = 0 ]
check "SIGHUP: traffic passed, no probe lost ($(field "$work/hup.json" received) of $(field "$work/hup.json" sent))" \
    [ "$(field "$work/hup.json" received)" -gt 0 -a "$(field "$work/hup.json" received)" = "$(field "$work/hup.json" sent)" ]
in_lac "$lac" --lns 10.201.0.1 --bind 10.201.0.2:0 --sessions 1 --auth pap --user lac1 \
    --password lacpass --secret tunnelsecret --setup-timeout 15 >/dev/null 2>"$work/pap-after-hup.err"
check "SIGHUP: the new setting took effect (radius_authtypes chap: a PAP-only LAC is refused)" [ $? != 0 ]
in_lac "$lac" --lns 10.201.0.1 --bind 10.201.0.2:0 --sessions 1 --auth chap --user lac1 \
    --password lacpass --secret tunnelsecret --setup-timeout 15 >/dev/null 2>"$work/chap-after-hup.err"
check "SIGHUP: a CHAP LAC still gets in" [ $? = 0 ]

# --- SIGHUP changes the RADIUS servers; failover to the secondary ----------------------------------
# Nothing answers on 10.202.0.99 (no such host on the server link): the first Access-Request times out (3 s) and the retry goes to
# the secondary, FreeRADIUS on 127.0.0.1.
sed -i 's/^set primary_radius .*/set primary_radius 10.202.0.99\nset secondary_radius 127.0.0.1/' \
    "$lns_dir/startup-config"
kill -HUP "$lns_pid"
sleep 1
in_lac "$lac" --lns 10.201.0.1 --bind 10.201.0.2:0 --sessions 1 --auth chap --user lac2 \
    --password lacpass --secret tunnelsecret --setup-timeout 30 --json >"$work/failover.json" \
    2>"$work/failover.err"
check "RADIUS failover: login through the secondary server after the primary timed out" [ $? = 0 ]
check "RADIUS failover: it took the primary's timeout ($(field "$work/failover.json" setup_seconds) s)" \
    python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["setup_seconds"] >= 2.5 else 1)' \
    "$work/failover.json"
# Back to the live server alone (accounting in flight is not part of the saved state, so the
# SIGTERM part below must not find Acct-Starts stuck behind a dead primary).
sed -i -e 's/^set primary_radius .*/set primary_radius 127.0.0.1/' -e '/^set secondary_radius /d' \
    "$lns_dir/startup-config"
kill -HUP "$lns_pid"
sleep 1

# --- SIGTERM + restart: sessions resumed ------------------------------------------------------------
detail=$radius_dir/detail
starts_before=$(grep -c 'Acct-Status-Type = Start' "$detail")
up0=$(lines_up)
run_lac term chap 20 1 200 14 &
lac_job=$!
check "20 sessions up" wait_up $((up0 + 20))
sleep 2
kill -TERM "$lns_pid"
check "SIGTERM: l2tpns exits" wait_exit "$lns_pid" 50
check "SIGTERM: state saved for the 20 sessions" grep -q 'saved 20 session(s)' "$lns_dir/l2tpns.log"
check "l2tpns restarted" start_lns_with_state || show_lns_log
resumed() {
    local i
    for i in $(seq 1 50); do
        grep -q 'resumed 20 session(s)' "$lns_dir/l2tpns.log" && return 0
        sleep 0.1
    done
    return 1
}
check "restart: 20 sessions resumed" resumed
wait "$lac_job"
lac_rc=$?
check "restart: the LAC noticed nothing (exit status 0, no CDN or StopCCN)" \
    [ "$lac_rc" = 0 ] && ! grep -q 'down: Peer' "$work/term.err"
check "restart: no session dropped" [ "$(field "$work/term.json" sessions_failed)" = 0 ]
sent=$(field "$work/term.json" sent)
received=$(field "$work/term.json" received)
# Probes sent while no daemon runs (about a second) are lost; everything else must pass.
check "restart: traffic passes after the restart ($received of $sent)" \
    [ "$received" -gt 0 -a $((received * 100)) -ge $((sent * 75)) ]
sleep 1
starts_after=$(grep -c 'Acct-Status-Type = Start' "$detail")
check "restart: no new Acct-Start for resumed sessions ($((starts_after - starts_before)) Starts for 20 sessions)" \
    [ $((starts_after - starts_before)) = 20 ]

# --- SIGQUIT: clean shutdown --------------------------------------------------------------------------
# clean_shutdown SIGNAL NAME SESSIONS WHAT: SESSIONS up, then SIGNAL: the daemon exits within the
# shutdown bound, the LAC sees every session cleared, RADIUS an Acct-Stop Admin-Reboot for each.
clean_shutdown() {
    local signal=$1 name=$2 n=$3 what=$4 stops_before up0 lac_job downs stops
    stops_before=$(grep -c 'Acct-Terminate-Cause = Admin-Reboot' "$detail")
    up0=$(lines_up)
    run_lac "$name" chap "$n" 1 100 10 &
    lac_job=$!
    check "$n sessions up" wait_up $((up0 + n))
    kill "-$signal" "$lns_pid"
    check "$what: l2tpns exits within the shutdown bound" wait_exit "$lns_pid" 80
    wait "$lac_job"
    downs=$(grep -c 'down: Peer' "$work/$name.err")
    check "$what: the LAC saw its $n sessions cleared by the LNS ($downs CDN/StopCCN)" [ "$downs" -ge "$n" ]
    sleep 0.5
    stops=$(( $(grep -c 'Acct-Terminate-Cause = Admin-Reboot' "$detail") - stops_before ))
    check "$what: Acct-Stop (Admin-Reboot) for every session ($stops)" [ "$stops" = "$n" ]
}
clean_shutdown QUIT quit 20 SIGQUIT
check "sd_notify STOPPING=1" notified STOPPING=1
check "pid_file removed" [ ! -e "$lns_dir/l2tpns.pid" ]

# --- SIGTERM with save_state no: the sessions end as with SIGQUIT -----------------------------------
write_lns_config "set save_state no"
check "l2tpns started (save_state no)" start_lns_with_state || show_lns_log
clean_shutdown TERM nosave 10 "SIGTERM, save_state no"
check "SIGTERM, save_state no: nothing saved" [ ! -e "$state_dir/state.dump" ]

# --- setuid: unprivileged with CAP_NET_ADMIN only; sessions, routes and the state file still work ---
write_lns_config "set setuid 65534" "set dump_speed yes"
# The state directory is handed to uid 65534; it must be able to reach it (as under /var/lib).
chmod 711 "$work"
check "l2tpns started (setuid 65534)" start_lns_with_state || show_lns_log
runs_as_nobody() {
    local i
    for i in $(seq 1 30); do
        grep -q "^Uid:[[:space:]]*65534[[:space:]]" "/proc/$lns_pid/status" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
check "setuid: the daemon runs as uid 65534" runs_as_nobody
check "setuid: CAP_NET_ADMIN is its only capability" \
    grep -q "^CapEff:[[:space:]]*0000000000001000$" "/proc/$lns_pid/status"
run_lac setuid chap 5 1 100 5
check "setuid: 5 sessions up, probes back through their routes ($(field "$work/setuid.json" received) of $(field "$work/setuid.json" sent))" \
    [ "$(field "$work/setuid.json" sessions_up)" = 5 -a "$(field "$work/setuid.json" received)" -gt 0 ]
check "dump_speed: a bandwidth line every second, with the probes counted" \
    grep -qE 'speed: up [1-9][0-9]* packets/s [0-9.]+ kbit/s, down [1-9][0-9]* packets/s' "$lns_dir/l2tpns.log"
kill -TERM "$lns_pid"
check "setuid: SIGTERM exits" wait_exit "$lns_pid" 50
check "setuid: the state file was written as uid 65534" \
    sh -c '[ "$(stat -c %u "$1/state.dump")" = 65534 ]' sh "$state_dir"
check "no crash: no panic in the daemon's output" no_panic
[ "$failures" = 0 ]
