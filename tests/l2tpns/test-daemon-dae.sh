#!/bin/bash
# RADIUS Dynamic Authorization (RFC 5176) against our l2tpns, with FreeRADIUS's radclient as
# the DAC (in the LAC namespace, 10.201.0.2, allowed by radius_dae_clients) and live sessions
# from l2tp-lac: Disconnect-Request by User-Name, Acct-Session-Id and Framed-IP-Address ends
# the session (Disconnect-ACK, CDN to the LAC, Acct-Stop Admin-Reset in FreeRADIUS's detail
# file); CoA Session-Timeout=5 ends it about 5 s later; a CoA Filter-Id naming no access list
# is NAKed 407 and changes nothing; an unknown user is NAKed 503; a wrong secret, a missing Message-Authenticator and a
# source that is not a client get no answer and are counted; radius_dae_port 0 opens nothing.
# Needs root, /usr/sbin/freeradius, radclient (freeradius-utils), python3, l2tpns, l2tp-lac and
# nsctl in $NETEDGE_BIN_DIR.
set -u
. "$(dirname "$0")/daemon-env.inc"
nsctl=$bin/nsctl
require "nsctl: cargo build --release; radclient: apt-get install freeradius-utils" \
    "$nsctl" /usr/bin/radclient

check "three namespaces and two veth pairs set up" setup_net || exit 1
# The server namespace reaches the LNS's bind address too (the forged-source check).
in_srv ip route add 10.201.0.0/24 via 10.202.0.1
check "FreeRADIUS ready in the LNS namespace" start_radius || exit 1
write_lns_config "set radius_dae_clients 10.201.0.2"
check "l2tpns listening on 10.201.0.1:1701" start_lns || { show_lns_log; exit 1; }
check "echo server listening in the server namespace" start_echo || exit 1
check "DAE socket on bind_address 10.201.0.1:3799" eval "in_lns ss -lun | grep -q '10.201.0.1:3799'"

# dae NAME NS CODE SECRET ATTRIBUTES: radclient from namespace NS (lac, srv), its output in
# NAME.out, its exit status in $rc.
dae() {
    local n=$1 ns=$2 code=$3 secret=$4 attrs=$5
    echo "$attrs" | ip netns exec "$tag-$ns" radclient -x -t 2 -r 1 10.201.0.1:3799 "$code" "$secret" \
        >"$work/$n.out" 2>&1
    rc=$?
    sed 's/^/# /' "$work/$n.out" | grep -v "^#	" | head -4
}
said() { grep -q -- "$2" "$work/$1.out"; }
# A counter from nsctl show counters.
nscounter() { in_lns "$nsctl" show counters | sed -n "s/^$1=//p"; }
# attr USER ATTRIBUTE: the value of ATTRIBUTE in USER's first accounting record.
attr() {
    python3 - "$radius_dir/detail" "$1" "$2" <<'PY'
import sys
for rec in open(sys.argv[1]).read().split("\n\n"):
    kv = dict(l.strip().split(" = ", 1) for l in rec.splitlines() if " = " in l)
    if kv.get("User-Name", "").strip('"') == sys.argv[2] and sys.argv[3] in kv:
        print(kv[sys.argv[3]].strip('"'))
        break
PY
}
wait_start() {
    local i
    for i in $(seq 1 100); do
        q "$1" 'any(x["status"] == "Start" for x in r)' 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}
admin_reset() { wait_stop "$1" && q "$1" 'any(x["status"] == "Stop" and x["cause"] == "Admin-Reset" for x in r)'; }
no_stop() { ! q "$1" 'any(x["status"] == "Stop" for x in r)' 2>/dev/null; }

# --- five live sessions -------------------------------------------------------------------------
lac_jobs=()
for u in lac1 lac2 lac3 lac4 lac5; do
    lac "$u" "$u" --rate 10 --duration 45 &
    lac_jobs+=($!)
done
check "five sessions up (Acct-Start)" \
    eval 'wait_start lac1 && wait_start lac2 && wait_start lac3 && wait_start lac4 && wait_start lac5'

# --- Disconnect by User-Name, Acct-Session-Id, Framed-IP-Address ---------------------------------
dae by-user lac disconnect radsecret "User-Name=lac1,Message-Authenticator=0x00"
check "Disconnect User-Name=lac1: Disconnect-ACK" said by-user "Received Disconnect-ACK"
check "lac1: Acct-Stop with Acct-Terminate-Cause Admin-Reset" admin_reset lac1
check "lac1: the daemon logged who, what, which session and the answer" \
    grep -q 'DAE Disconnect from 10.201.0.2:[0-9]* (User-Name="lac1"): ACK, session(s) [0-9]' "$lns_dir/l2tpns.log"

id2=$(attr lac2 Acct-Session-Id)
echo "# lac2 has Acct-Session-Id $id2"
dae by-id lac disconnect radsecret "Acct-Session-Id=$id2,Message-Authenticator=0x00"
check "Disconnect Acct-Session-Id=$id2: Disconnect-ACK" \
    eval '[ -n "$id2" ] && said by-id "Received Disconnect-ACK"'
check "lac2: Acct-Stop Admin-Reset" admin_reset lac2

ip3=$(attr lac3 Framed-IP-Address)
echo "# lac3 has Framed-IP-Address $ip3"
dae by-ip lac disconnect radsecret "Framed-IP-Address=$ip3,Message-Authenticator=0x00"
check "Disconnect Framed-IP-Address=$ip3: Disconnect-ACK" \
    eval '[ -n "$ip3" ] && said by-ip "Received Disconnect-ACK"'
check "lac3: Acct-Stop Admin-Reset" admin_reset lac3

# --- CoA ------------------------------------------------------------------------------------------
dae filter lac coa radsecret "User-Name=lac4,Filter-Id=web-only,Session-Timeout=2,Message-Authenticator=0x00"
check "CoA Filter-Id of no access list: CoA-NAK with Error-Cause 407 Invalid-Attribute-Value" \
    eval 'said filter "Received CoA-NAK" && said filter "Error-Cause = Invalid-Attribute-Value"'
sleep 4
check "the refused CoA changed nothing: lac4 still up 4 s later (no Acct-Stop)" no_stop lac4

start=$(date +%s.%N)
dae timeout lac coa radsecret "User-Name=lac4,Session-Timeout=5,Message-Authenticator=0x00"
check "CoA Session-Timeout=5: CoA-ACK" said timeout "Received CoA-ACK"
for _ in $(seq 1 100); do
    q lac4 'any(x["status"] == "Stop" for x in r)' 2>/dev/null && break
    sleep 0.1
done
took=$(python3 -c "import time; print(round(time.time() - $start, 1))")
check "lac4 ended ${took}s after the CoA, with Acct-Terminate-Cause Session-Timeout" \
    eval 'q lac4 "any(x[\"status\"] == \"Stop\" and x[\"cause\"] == \"Session-Timeout\" for x in r)" &&
          python3 -c "import sys; sys.exit(0 if 4.5 <= $took <= 8.5 else 1)"'

# --- refusals -------------------------------------------------------------------------------------
dae unknown lac disconnect radsecret "User-Name=nosuchuser,Message-Authenticator=0x00"
check "unknown user: Disconnect-NAK with Error-Cause 503 Session-Context-Not-Found" \
    eval 'said unknown "Received Disconnect-NAK" && said unknown "Error-Cause = Session-Context-Not-Found"'

before=$(nscounter dae_dropped_bad_authenticator)
dae wrong lac disconnect wrongsecret "User-Name=lac5,Message-Authenticator=0x00"
check "wrong secret: no answer (radclient timed out), dae_dropped_bad_authenticator $before -> $(nscounter dae_dropped_bad_authenticator)" \
    eval '[ $rc != 0 ] && said wrong "No reply from server" && ! said wrong "Received" &&
          [ "$(nscounter dae_dropped_bad_authenticator)" -gt "${before:-0}" ]'

before=$(nscounter dae_dropped_no_message_authenticator)
dae no-ma lac disconnect radsecret "User-Name=lac5"
check "no Message-Authenticator (required by default): no answer, counted" \
    eval '[ $rc != 0 ] && said no-ma "No reply from server" &&
          [ "$(nscounter dae_dropped_no_message_authenticator)" -gt "${before:-0}" ]'

before=$(nscounter dae_dropped_unknown_source)
dae forged srv disconnect radsecret "User-Name=lac5,Message-Authenticator=0x00"
check "from 10.202.0.2, not a DAE client: no answer, dae_dropped_unknown_source counted" \
    eval '[ $rc != 0 ] && said forged "No reply from server" &&
          [ "$(nscounter dae_dropped_unknown_source)" -gt "${before:-0}" ]'
check "the refusals ended nothing: lac5 has no Acct-Stop" no_stop lac5
in_lns "$nsctl" show counters | grep '^dae_' | tr '\n' ' ' | sed 's/^/# /'
echo

wait "${lac_jobs[@]}"
for u in lac1 lac2 lac3 lac4; do
    check "$u: the LAC saw the LNS clear the call (CDN)" cleared "$u"
done
check "lac5 was not touched: not cleared, every probe came back ($(field "$work/lac5.json" received) of $(field "$work/lac5.json" sent))" \
    eval '! cleared lac5 && [ "$(field "$work/lac5.json" received)" -gt 100 ] &&
          [ "$(field "$work/lac5.json" received)" = "$(field "$work/lac5.json" sent)" ]'
check "no panic in the daemon's output" no_panic

# --- radius_dae_port 0: no socket -----------------------------------------------------------------
kill -QUIT "$lns_pid"
wait_for_exit "$lns_pid"
write_lns_config "set radius_dae_port 0"
check "restarted with radius_dae_port 0" start_lns
# By port, not by text: ":3799" is also in a RADIUS socket's ephemeral port 37990-37999.
check "radius_dae_port 0: nothing listens on 3799" eval "[ -z \"\$(in_lns ss -Hlun 'sport = :3799')\" ]"

[ "$failures" = 0 ]
