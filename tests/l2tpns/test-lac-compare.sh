#!/bin/bash
# Figures: the same l2tp-lac runs against our l2tpns and against the Debian C l2tpns, one after
# the other in the same namespaces, on the same host: session set-up rate and packets per second
# (with loss), printed as "# figure: ..." lines with the exact l2tp-lac command.
# Needs root, /usr/sbin/l2tpns (apt-get install l2tpns), /usr/sbin/freeradius, python3, and
# l2tpns + l2tp-lac in $NETEDGE_BIN_DIR.
# Tunables: SESSIONS (100), TUNNELS (1), RATE (2000 pps), DURATION (5 s), SIZE (200 B), and POOL
# (ip_pool lines inside 10.210.0.0/15; default 10.210.0.0/24 10.211.0.0/24) for more sessions;
# WORKERS: a list of `l2tpns --workers` values, ours is measured once per value (default: one run
# with the daemon's default, one worker per online core); OURS_ARGS: more options for ours.
# Each run also reports the LNS's CPU (utime+stime of every thread, /proc/PID/stat, over the
# whole l2tp-lac run, set-up included) per packet forwarded (probes up + echoes down).
set -u
. "$(dirname "$0")/daemon-env.inc"
SESSIONS=${SESSIONS:-100}
TUNNELS=${TUNNELS:-1}
RATE=${RATE:-2000}
DURATION=${DURATION:-5}
SIZE=${SIZE:-200}
total=$((SESSIONS * TUNNELS))

if [ ! -x /usr/sbin/l2tpns ]; then
    notok "prerequisite /usr/sbin/l2tpns present (apt-get install l2tpns)"
    exit 1
fi
check "three namespaces and two veth pairs set up" setup_net || exit 1
check "FreeRADIUS ready in the LNS namespace" start_radius || exit 1
check "echo server listening in the server namespace" start_echo || exit 1

figure() { # figure NAME JSON
    local name=$1 j=$2
    echo "# figure: $name: $(field "$j" sessions_up)/$total sessions up in $(field "$j" setup_seconds) s," \
        "set-up rate $(field "$j" setup_rate) sessions/s; traffic $(field "$j" tx_pps) pps out," \
        "$(field "$j" rx_pps) pps back, loss $(field "$j" lost)/$(field "$j" sent) ($(field "$j" loss_percent) %)," \
        "latency avg $(field "$j" latency_avg_us) us p99 $(field "$j" latency_p99_us) us"
}
cpu_ticks() { # utime+stime of process $1 (all its threads), in clock ticks
    awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
measure() { # measure NAME
    local before after
    before=$(cpu_ticks "$lns_pid")
    if run_lac "$1" pap "$SESSIONS" "$TUNNELS" "$RATE" "$DURATION"; then
        ok "$1: $total sessions up and traffic measured"
    else
        notok "$1: $total sessions up and traffic measured (l2tp-lac exit status)"
    fi
    after=$(cpu_ticks "$lns_pid")
    [ -s "$work/$1.json" ] || return
    figure "$1" "$work/$1.json"
    python3 - "$1" "$work/$1.json" "$before" "$after" "$(getconf CLK_TCK)" <<'PY'
import json, sys
name, path, before, after, hz = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
j = json.load(open(path))
packets = (j.get("sent") or 0) + (j.get("received") or 0)
cpu = (after - before) / hz
print(f"# figure: {name}: LNS CPU {cpu:.2f} s for {packets} packets forwarded = "
      f"{cpu * 1e6 / packets if packets else 0:.2f} us/packet")
PY
}

# --- ours ------------------------------------------------------------------------------------------
write_lns_config "set radius_accounting no"
for w in ${WORKERS:-default}; do
    name=ours LNS_ARGS=
    if [ "$w" != default ]; then name=ours-w$w LNS_ARGS="--workers $w"; fi
    # OURS_ARGS: more options for ours, e.g. --no-udp-gso.
    LNS_ARGS="${LNS_ARGS}${OURS_ARGS:+ $OURS_ARGS}"
    check "our l2tpns ${LNS_ARGS:-(default workers)} listening on 10.201.0.1:1701" start_lns ||
        { show_lns_log; exit 1; }
    measure "$name"
    kill -QUIT "$lns_pid"
    for i in $(seq 1 80); do kill -0 "$lns_pid" 2>/dev/null || break; sleep 0.1; done
    check "our l2tpns stopped" not_running "$lns_pid"
    lns_pid=
    # Where ours lost packets itself (the rest of a loss is the LAC's, the echo server's or
    # the kernel's): the shutdown's counters line.
    echo "# figure: $name: LNS drops: tun_write_dropped=$(counter tun_write_dropped)" \
        "udp_send_dropped=$(counter udp_send_dropped) slow_path_dropped=$(counter slow_path_dropped)" \
        "$(counters | tr ' ' '\n' | grep '^worker' | tr '\n' ' ')"
    # The last run's JSON is the one compared below.
    [ "$name" = ours ] || cp "$work/$name.json" "$work/ours.json" 2>/dev/null
done

# --- the C l2tpns, same addresses ---------------------------------------------------------------------
c_dir=$work/c-l2tpns
mkdir -p "$c_dir"
cat >"$c_dir/startup-config" <<EOF2
set debug 1
set log_file "$c_dir/l2tpns.log"
set pid_file "$c_dir/l2tpns.pid"
set l2tp_secret "tunnelsecret"
set primary_dns 10.202.0.53
set primary_radius 127.0.0.1
set radius_secret "radsecret"
set radius_authtypes "pap,chap"
set bind_address 10.201.0.1
set iftun_address 10.200.0.1
set tundevicename "${tag}k"
set cli_bind_address 127.0.0.1
set ppp_keepalive yes
set cluster_interface "lo"
EOF2
cp "$lns_dir/ip_pool" "$c_dir/ip_pool"
: >"$c_dir/users"
# The C l2tpns reads ip_pool and users from /etc/l2tpns: give it ours in a private mount namespace.
cat >"$c_dir/run.sh" <<EOF2
#!/bin/sh
mount --bind "$c_dir/ip_pool" /etc/l2tpns/ip_pool || exit 1
mount --bind "$c_dir/users" /etc/l2tpns/users || exit 1
exec /usr/sbin/l2tpns -c "$c_dir/startup-config"
EOF2
setsid ip netns exec "$ns_lns" unshare --mount --propagation private /bin/sh "$c_dir/run.sh" \
    </dev/null >"$c_dir/stdout.log" 2>&1 &
lns_pid=$!
c_ready() {
    local i
    for i in $(seq 1 100); do
        in_lns ss -lun 2>/dev/null | grep -q '10.201.0.1:1701' && return 0
        kill -0 "$lns_pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
check "C l2tpns listening on 10.201.0.1:1701" c_ready || exit 1
# It serves only once it has made itself cluster master (about 15 s when alone): warm up first so
# the measured run does not include that wait.
run_lac c-warmup pap 1 1 10 1 >/dev/null
measure c-l2tpns

if [ -s "$work/ours.json" ] && [ -s "$work/c-l2tpns.json" ]; then
    echo "# figure: set-up rate ours/C = $(field "$work/ours.json" setup_rate) / $(field "$work/c-l2tpns.json" setup_rate) sessions/s;" \
        "pps back ours/C = $(field "$work/ours.json" rx_pps) / $(field "$work/c-l2tpns.json" rx_pps)"
    echo "# figure: command: SESSIONS=$SESSIONS TUNNELS=$TUNNELS RATE=$RATE DURATION=$DURATION SIZE=$SIZE${POOL:+ POOL='$POOL'}${WORKERS:+ WORKERS='$WORKERS'}${OURS_ARGS:+ OURS_ARGS='$OURS_ARGS'} tests/l2tpns/test-lac-compare.sh"
fi
[ "$failures" = 0 ]
