#!/bin/bash
# l2tpns against the Debian C l2tpns: session set-up rate and latency at a few sizes, and the
# highest probe rate each sustains with under 0.1 % loss. Every measurement is one run of
# tests/l2tpns/test-lac-compare.sh (the same l2tp-lac against both daemons, one after the other,
# same namespaces, same FreeRADIUS); this script only chooses its parameters and reads its
# "# figure:" lines. Prints "# bench:" lines with both figures and the ratio.
#
# Runs on the host as root:  NETEDGE_BIN_DIR=target/release tests/bench/host/l2tpns-compare.sh
# Tunables: SIZES ("100x1 2000x10": sessions-per-tunnel x tunnels), RATES (the pps steps of the
# search, "5000 20000 50000 100000"), DURATION (s of traffic per step, 3), LOSS_LIMIT (% 0.1).
set -u
repo=$(cd "$(dirname "$0")/../../.." && pwd)
export NETEDGE_BIN_DIR=${NETEDGE_BIN_DIR:-${CARGO_TARGET_DIR:-$repo/target}/release}
compare=$repo/tests/l2tpns/test-lac-compare.sh
SIZES=${SIZES:-100x1 2000x10}
RATES=${RATES:-5000 20000 50000 100000}
DURATION=${DURATION:-3}
LOSS_LIMIT=${LOSS_LIMIT:-0.1}
work=$(mktemp -d /tmp/l2tpns-compare.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
bench() { echo "# bench: $*"; }

# run NAME VAR=VALUE...: one comparison run, its output in $work/NAME.out
run() {
    local name=$1
    shift
    env "$@" "$compare" >"$work/$name.out" 2>&1
    local rc=$?
    if [ "$rc" = 0 ]; then
        echo "ok - comparison run $name ($*)"
    else
        # The C daemon failing to bring every session up is a finding, not our failure: only
        # our half decides.
        if grep -q '^not ok - ours:' "$work/$name.out" || ! grep -q '^ok - ours:' "$work/$name.out"; then
            echo "not ok - comparison run $name ($*): our l2tpns failed"
            failures=$((failures + 1))
            grep '^not ok' "$work/$name.out" | sed 's/^/# /'
        else
            echo "ok - comparison run $name ($*) (the C l2tpns fell short: see its figures)"
        fi
    fi
}
# fig NAME WHO FIELD: a number from the "# figure: WHO: ..." line of run NAME
fig() {
    local line
    line=$(grep "^# figure: $2: " "$work/$1.out" | head -1)
    case $3 in
    up) sed -n 's/.*: \([0-9]*\)\/[0-9]* sessions up.*/\1/p' <<<"$line" ;;
    setup_rate) sed -n 's/.*set-up rate \([0-9.]*\) sessions.*/\1/p' <<<"$line" ;;
    tx_pps) sed -n 's/.*traffic \([0-9.]*\) pps out.*/\1/p' <<<"$line" ;;
    rx_pps) sed -n 's/.* \([0-9.]*\) pps back.*/\1/p' <<<"$line" ;;
    loss) sed -n 's/.*(\([0-9.]*\) %).*/\1/p' <<<"$line" ;;
    lat_avg) sed -n 's/.*latency avg \([0-9.]*\) us.*/\1/p' <<<"$line" ;;
    lat_p99) sed -n 's/.*p99 \([0-9.]*\) us.*/\1/p' <<<"$line" ;;
    esac
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.1f", a / b }'; }
fmt() { awk -v a="$1" 'BEGIN { if (a == "") print "n/a"; else printf "%.0f", a }'; }

# --- set-up rate and latency at each size -----------------------------------------------------------
for size in $SIZES; do
    s=${size%x*} t=${size#*x}
    n=$((s * t))
    # A /15 pool holds any size we run here.
    run "size-$size" SESSIONS="$s" TUNNELS="$t" RATE=2000 DURATION="$DURATION" POOL=10.210.0.0/15
    o=$(fig "size-$size" ours setup_rate) c=$(fig "size-$size" c-l2tpns setup_rate)
    bench "set-up, $n sessions ($t tunnel(s) x $s): ours $(fmt "$o") /s ($(fig "size-$size" ours up) up)," \
        "C $(fmt "$c") /s ($(fig "size-$size" c-l2tpns up) up), ratio $(ratio "$o" "$c")"
    bench "latency at 2000 pps over $n sessions: ours avg $(fmt "$(fig "size-$size" ours lat_avg)") us" \
        "p99 $(fmt "$(fig "size-$size" ours lat_p99)") us, loss $(fig "size-$size" ours loss) %;" \
        "C avg $(fmt "$(fig "size-$size" c-l2tpns lat_avg)") us p99 $(fmt "$(fig "size-$size" c-l2tpns lat_p99)") us," \
        "loss $(fig "size-$size" c-l2tpns loss) %"
done

# --- the highest rate each sustains with loss under LOSS_LIMIT % (100 sessions) --------------------
best_ours= best_c=
for r in $RATES; do
    run "rate-$r" SESSIONS=100 TUNNELS=1 RATE="$r" DURATION="$DURATION"
    for who in ours c-l2tpns; do
        loss=$(fig "rate-$r" "$who" loss)
        tx=$(fig "rate-$r" "$who" tx_pps)
        bench "rate step $r pps: $who sent $(fmt "$tx") pps, got $(fmt "$(fig "rate-$r" "$who" rx_pps)") pps back, loss ${loss:-n/a} %"
        # A step counts only if the LAC really offered it (within 5 %) and the loss is low.
        if [ -n "$loss" ] && awk -v l="$loss" -v lim="$LOSS_LIMIT" -v tx="$tx" -v r="$r" \
            'BEGIN { exit !(l < lim && tx >= 0.95 * r) }'; then
            if [ "$who" = ours ]; then best_ours=$r; else best_c=$r; fi
        fi
    done
done
bench "max rate with < $LOSS_LIMIT % loss (steps: $RATES pps, 100 sessions, ${DURATION} s each): ours ${best_ours:-below the first step}," \
    "C ${best_c:-below the first step}, ratio $(ratio "$best_ours" "$best_c")"
bench "command: SIZES='$SIZES' RATES='$RATES' DURATION=$DURATION tests/bench/host/l2tpns-compare.sh (each step: tests/l2tpns/test-lac-compare.sh)"
[ "$failures" = 0 ]
