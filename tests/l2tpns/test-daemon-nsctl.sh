#!/bin/bash
# nsctl against our l2tpns, with FreeRADIUS and l2tp-lac: our nsctl and Debian's C nsctl
# (/usr/sbin/nsctl of the l2tpns package, the wire format's other implementation) both drive
# the daemon. help lists the commands; drop ends a session politely (LCP Terminate, Acct-Stop
# Admin-Reset, CDN) by user name, kill at once by session id (the NAS-Port in accounting);
# the other sessions keep passing traffic; wrong requests get a clear ERR and exit 1;
# malformed datagrams are counted and dropped; the socket is on 127.0.0.1 only and takes
# requests from root only unless --control-any-user.
# Needs root, /usr/sbin/freeradius, python3, l2tpns, l2tp-lac and nsctl in $NETEDGE_BIN_DIR.
set -u
. "$(dirname "$0")/daemon-env.inc"
nsctl=$bin/nsctl
c_nsctl=/usr/sbin/nsctl
require "nsctl: cargo build --release; /usr/sbin/nsctl: apt-get install l2tpns" "$nsctl" "$c_nsctl"

check "three namespaces and two veth pairs set up" setup_net || exit 1
check "FreeRADIUS ready in the LNS namespace" start_radius || exit 1
write_lns_config
check "l2tpns listening on 10.201.0.1:1701" start_lns || { show_lns_log; exit 1; }
check "echo server listening in the server namespace" start_echo || exit 1
check "the control socket is 127.0.0.1:1702 only" \
    eval "in_lns ss -lun | grep -q '127.0.0.1:1702' && ! in_lns ss -lun | grep -q '[*0]:1702'"

# ours NAME ARGS...: our nsctl in the LNS namespace, stdout/stderr in NAME.out/.err, the exit
# status in $rc (a check's own commands would overwrite $?).
ours() { local n=$1; shift; in_lns "$nsctl" "$@" >"$work/$n.out" 2>"$work/$n.err"; rc=$?; }
theirs() { local n=$1; shift; in_lns "$c_nsctl" "$@" >"$work/$n.out" 2>"$work/$n.err"; rc=$?; }
said() { grep -q -- "$2" "$work/$1.out" "$work/$1.err"; }
# Until USER's Acct-Start is in the detail file.
wait_start() {
    local i
    for i in $(seq 1 100); do
        q "$1" 'any(x["status"] == "Start" for x in r)' 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}

# --- help, with either client --------------------------------------------------------------------
ours help help
check "our nsctl help: exit 0, built-ins and the daemon's drop/kill lines" \
    eval 'said help "load_plugin PLUGIN" && said help "drop USER|SID \[REASON\]" && said help "kill USER|SID"'
theirs c-help help
check "C nsctl help against our daemon: the daemon's drop/kill lines" \
    eval 'said c-help "drop USER|SID \[REASON\]" && said c-help "kill USER|SID"'
sed 's/^/# /' "$work/c-help.out"

# --- three sessions with traffic; drop one by name, kill one by id --------------------------------
lac drop lac1 --rate 20 --duration 14 &
drop_job=$!
lac kill lac2 --rate 20 --duration 14 &
kill_job=$!
lac stay lac3 --rate 20 --duration 14 &
stay_job=$!
check "three sessions up (Acct-Start)" eval 'wait_start lac1 && wait_start lac2 && wait_start lac3'
sleep 1

ours drop-lac1 drop lac1 "abuse desk"
check "our nsctl drop lac1: exit 0, nothing printed" \
    eval '[ $rc = 0 ] && [ ! -s "$work/drop-lac1.out" ] && [ ! -s "$work/drop-lac1.err" ]'
check "drop: Acct-Stop of lac1 with Terminate-Cause Admin-Reset" \
    eval 'wait_stop lac1 && q lac1 "any(x[\"status\"] == \"Stop\" and x[\"cause\"] == \"Admin-Reset\" for x in r)"'
check "drop: the daemon logged who asked and why" grep -q "nsctl from 127.0.0.1:.*: drop session .* (lac1): abuse desk" "$lns_dir/l2tpns.log"

sid=$(records lac2 | python3 -c 'import json,sys; print([json.loads(l)["port"] for l in sys.stdin][0])')
echo "# lac2 is session $sid (NAS-Port)"
theirs kill-sid kill "$sid"
check "C nsctl kill $sid (lac2's NAS-Port) against our daemon: exit 0" [ "$rc" = 0 ]
check "kill: Acct-Stop of lac2 with Terminate-Cause Admin-Reset" \
    eval 'wait_stop lac2 && q lac2 "any(x[\"status\"] == \"Stop\" and x[\"cause\"] == \"Admin-Reset\" for x in r)"'
check "kill: logged with the default reason" grep -q "kill session $sid (lac2): Requested by administrator." "$lns_dir/l2tpns.log"

ours again drop lac1
check "drop of a session that is gone: exit 1, 'session not found' on stderr" \
    eval '[ $rc = 1 ] && grep -q "^session not found$" "$work/again.err" && [ ! -s "$work/again.out" ]'
theirs c-again drop nosuchuser
check "C nsctl drop of an unknown user: exit 1, 'session not found'" \
    eval '[ $rc != 0 ] && said c-again "session not found"'

# Another local user (nobody) may not touch sessions: the daemon looks up the sending
# socket's owner in /proc/net/udp; the refusal says why.
as_nobody() { in_lns setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_nobody "$nsctl" drop lac3 >"$work/nobody.out" 2>"$work/nobody.err"
rc=$?
check "our nsctl as uid 65534: exit 1, permission denied naming the uid" \
    eval '[ $rc = 1 ] && grep -q "permission denied.*uid 65534" "$work/nobody.err"'
as_nobody "$c_nsctl" kill lac3 >"$work/c-nobody.out" 2>"$work/c-nobody.err"
rc=$?
check "C nsctl as uid 65534: refused too (exit $rc)" \
    eval '[ $rc != 0 ] && grep -q "permission denied" "$work/c-nobody.err"'
sed 's/^/# /' "$work/nobody.err"

wait $drop_job $kill_job $stay_job
show drop
check "drop: the LAC saw the LNS clear lac1's call (CDN)" cleared drop
check "drop: the LNS ended PPP first (LCP Terminate-Request)" \
    [ "$(field "$work/drop.json" lcp_terminates_received)" = 1 ]
check "kill: the LAC saw the LNS clear lac2's call (CDN)" cleared kill
check "kill: no PPP goodbye (no LCP Terminate-Request)" \
    [ "$(field "$work/kill.json" lcp_terminates_received)" = 0 ]
check "lac3 was not touched: not cleared, every probe came back ($(field "$work/stay.json" received) of $(field "$work/stay.json" sent))" \
    eval '! cleared stay && [ "$(field "$work/stay.json" received)" -gt 100 ] && [ "$(field "$work/stay.json" received)" = "$(field "$work/stay.json" sent)" ]'

# --- refusals: clear text, exit 1 -----------------------------------------------------------------
ours unknown frobnicate
check "unknown command: exit 1, says unrecognised" eval '[ $rc = 1 ] && said unknown "unrecognised command .frobnicate."'
# A session to apply policies to: 50 probes/s of 200 bytes each way (80 kbit/s).
lac pol lac4 --rate 50 --duration 14 &
check "a session for the policy commands is up" wait_start lac4
ours throttle throttle lac4 64
check "throttle without the throttlectl plugin: exit 1, names the plugin to load" \
    eval '[ $rc = 1 ] && said throttle "plugin throttlectl is not loaded"'
ours load load_plugin throttlectl
check "load_plugin throttlectl: exit 0" eval '[ $rc = 0 ] && said load "throttlectl"'
ours throttle2 throttle lac4 in 16 out 128
check "throttle lac4 in 16 out 128: exit 0, the session's policy says so" \
    eval '[ $rc = 0 ] && said throttle2 "throttle in 16kbit/s out 128kbit/s"'
ours throttled --json show sessions
check "show sessions --json: lac4 throttled 16/128 kbit/s" \
    python3 -c 'import json,sys; s=[x for x in json.load(open(sys.argv[1])) if x["user"]=="lac4"]; p=s[0]["policy"]; sys.exit(0 if (p["throttle_in"],p["throttle_out"])==(16,128) else 1)' "$work/throttled.out"
sleep 3
ours tcount show counters
check "the data plane drops what lac4 sends over its 16 kbit/s (80 kbit/s offered) (throttled counter)" \
    grep -q "^throttled=[1-9]" "$work/tcount.out"
ours unthrottle unthrottle lac4
check "unthrottle lac4: exit 0, no policy left" eval '[ $rc = 0 ] && said unthrottle "lac4): none"'
ours throttle-bad throttle lac3 sideways 64
check "throttle with a bad direction: exit 1, the grammar's complaint" \
    eval '[ $rc = 1 ] && said throttle-bad "neither in nor out"'
ours snoop snoop lac4 192.0.2.1 5000
check "snoop without snoopctl: exit 1, names the plugin" \
    eval '[ $rc = 1 ] && said snoop "plugin snoopctl is not loaded"'
ours snoopctl load_plugin snoopctl
ours snoop2 snoop lac4 192.0.2.1 5000
check "snoop USER IP PORT with snoopctl: exit 0, intercepted" \
    eval '[ $rc = 0 ] && said snoop2 "snoop 192.0.2.1:5000"'
sleep 1
ours scount show counters
check "the data plane copies lac4's packets (snooped counter)" grep -q "^snooped=[1-9]" "$work/scount.out"
ours unsnoop unsnoop lac4
check "unsnoop: exit 0" eval '[ $rc = 0 ] && said unsnoop "lac4): none"'
ours snoop-bad snoop lac3 somehost 5000
check "snoop with a host name: exit 1, wants an IPv4 address" \
    eval '[ $rc = 1 ] && said snoop-bad "not an IPv4 address"'
theirs c-garden garden lac4
check "C nsctl garden without the garden plugin: exit 1, names it" \
    eval '[ $rc != 0 ] && said c-garden "plugin garden is not loaded"'
ours usage drop
check "drop without a target: exit 1, says what it needs" \
    eval '[ $rc = 1 ] && said usage "requires username or session id"'
theirs c-load load_plugin sessionctl
check "C nsctl load_plugin sessionctl: exit 0" eval '[ $rc = 0 ] && said c-load "sessionctl"'
ours load-bad load_plugin frobnicate
check "load_plugin of an unknown plugin: exit 1, lists the built-in ones" \
    eval '[ $rc = 1 ] && said load-bad "no plugin .frobnicate." && said load-bad "throttlectl"'
ours counters show counters
check "show counters: one name=value per line, nsctl_requests counted" \
    eval 'grep -q "^sessions=[0-9]*$" "$work/counters.out" && grep -q "^nsctl_requests=[1-9][0-9]*$" "$work/counters.out"'
ours timeout -h 127.0.0.1:1709 -t 1 help
check "no daemon at the address: exit 1 with a reason" eval '[ $rc = 1 ] && said timeout "nsctl: error receiving response"'

# --- malformed datagrams: counted, dropped, no answer, daemon unaffected --------------------------
in_lns python3 - >"$work/garbage.out" 2>&1 <<'PY'
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.3)
bad = [b"", b"\x90", b"\x90\x13\x14", b"\x13\x90\x14\x00\xff", b"\x90\x13\x77\x00\xff",
       b"\x90\x13\x14\x01\x09drop\xff", b"\x90\x13\x14\x00\xff\xff", b"\x90\x13\x21\x00\xff",
       b"\x90\x13\x14\x00" + b"\x00" * 5000]
bad += [os.urandom(n) for n in range(1, 60)]
answered = 0
for b in bad:
    s.sendto(b, ("127.0.0.1", 1702))
    try:
        s.recv(5000)
        answered += 1
    except socket.timeout:
        pass
print(len(bad), answered)
PY
read -r sent answered <"$work/garbage.out"
ours counters2 show counters
malformed=$(sed -n 's/^nsctl_malformed=//p' "$work/counters2.out")
check "malformed: $sent bad datagrams, $answered answered, nsctl_malformed=$malformed" \
    eval '[ "$answered" = 0 ] && [ "${malformed:-0}" -ge $((sent - 1)) ]'
check "daemon still running and answering" eval 'kill -0 $lns_pid && ours final help'
check "no panic in the daemon's output" no_panic

# --- show: listings longer than a datagram come in pages; text and JSON; either client ----------
many=130
in_lac "$lac" --lns 10.201.0.1 --bind 10.201.0.2:0 --sessions $many --auth pap --user 'lac%d' \
    --password lacpass --secret tunnelsecret --setup-timeout 30 --target 10.202.0.2:9000 \
    --rate 2 --duration 30 --json >"$work/many.json" 2>"$work/many.err" &
many_job=$!
all_up() { ours up show counters; grep -q "^sessions=$many$" "$work/up.out"; }
for _ in $(seq 200); do all_up && break; sleep 0.2; done
check "$many sessions up for the listings" all_up
start=$(date +%s%N)
ours list show sessions
took=$(( ($(date +%s%N) - start) / 1000000 ))
echo "# show sessions of $many sessions: ${took} ms"
check "show sessions: $many lines, one per session id, each lacN user once, no continuation line" \
    eval '[ $rc = 0 ] && [ "$(wc -l <"$work/list.out")" = $many ] &&
          [ "$(cut -d" " -f1 "$work/list.out" | sort -u | wc -l)" = $many ] &&
          [ "$(grep -oE " lac[0-9]+ " "$work/list.out" | sort -u | wc -l)" = $many ] &&
          ! said list "more: nsctl"'
ours jlist --json show sessions
check "--json show sessions: one array of $many sessions with user, address and counters" \
    eval '[ $rc = 0 ] && python3 -c "
import json, sys
a = json.load(open(sys.argv[1]))
assert len(a) == $many and len({s[\"id\"] for s in a}) == $many, len(a)
assert all(s[\"user\"].startswith(\"lac\") and s[\"address\"].startswith(\"10.21\") for s in a)
assert all(isinstance(s[\"octets_in\"], int) for s in a)
" "$work/jlist.out"'
theirs c-list show sessions
next=$(sed -n 's/^\.\.\. more: nsctl //p' "$work/c-list.out")
check "C nsctl show sessions: the first page, ending in a continuation line ($next)" \
    eval '[ $rc = 0 ] && [ -n "$next" ] && [ "$(wc -l <"$work/c-list.out")" -lt $many ]'
theirs c-list2 $next
check "C nsctl $next: the next page starts where the first stopped" \
    eval '[ $rc = 0 ] && [ "$(head -1 "$work/c-list2.out" | cut -d" " -f1)" = "${next##* }" ]'
sid=$(head -1 "$work/list.out" | cut -d" " -f1)
ours one show session "$sid"
check "show session $sid: that one session" eval '[ $rc = 0 ] && [ "$(wc -l <"$work/one.out")" = 1 ] && grep -q "^$sid " "$work/one.out"'
ours jone --json show session "$sid"
check "--json show session $sid: an object with its id and user" \
    eval 'python3 -c "import json,sys; o=json.load(open(sys.argv[1])); assert o[\"id\"] == $sid and o[\"user\"].startswith(\"lac\")" "$work/jone.out"'
ours none show session 999999
check "show session of an unknown id: exit 1, session not found" eval '[ $rc = 1 ] && said none "session not found"'
ours tunnels show tunnels
check "show tunnels: the LAC's tunnel with its $many sessions" eval '[ $rc = 0 ] && grep -qE "^[0-9]+ 10\.201\.0\.2:[0-9]+ $many$" "$work/tunnels.out"'
ours pool show pool
check "show pool: in use equals the sessions" \
    eval '[ $rc = 0 ] && python3 -c "
import re, sys
m = re.match(r\"pool (\\d+) address\\(es\\), (\\d+) free\", open(sys.argv[1]).read())
assert int(m[1]) - int(m[2]) == $many, m.groups()
" "$work/pool.out"'
ours jcounters --json show counters
check "--json show counters: an object, sessions=$many" \
    eval 'python3 -c "import json,sys; o=json.load(open(sys.argv[1])); assert o[\"sessions\"] == $many and o[\"nsctl_requests\"] > 0" "$work/jcounters.out"'
kill "$many_job" 2>/dev/null
wait "$many_job" 2>/dev/null

# --- --control off ---------------------------------------------------------------------------------
kill -QUIT "$lns_pid"
wait_for_exit "$lns_pid"
setsid ip netns exec "$ns_lns" "$l2tpns" -c "$lns_dir/startup-config" --state-dir "$lns_dir/state" \
    --control off </dev/null >>"$lns_dir/stdout.log" 2>&1 &
lns_pid=$!
for _ in $(seq 100); do in_lns ss -lun | grep -q '10.201.0.1:1701' && break; sleep 0.1; done
check "--control off: no control socket" eval "! in_lns ss -lun | grep -q ':1702'"
kill -QUIT "$lns_pid"
wait_for_exit "$lns_pid"
setsid ip netns exec "$ns_lns" "$l2tpns" -c "$lns_dir/startup-config" --state-dir "$lns_dir/state" \
    --control-any-user </dev/null >>"$lns_dir/stdout.log" 2>&1 &
lns_pid=$!
for _ in $(seq 100); do in_lns ss -lun | grep -q '127.0.0.1:1702' && break; sleep 0.1; done
as_nobody "$nsctl" help >"$work/any.out" 2>"$work/any.err"
rc=$?
check "--control-any-user: uid 65534 is answered (exit $rc)" eval '[ $rc = 0 ] && grep -q "drop USER|SID" "$work/any.out"'
check "--control bogus is refused with a reason" \
    eval '! "$l2tpns" --control bogus --check-config 2>"$work/bogus.err" && grep -q "neither ADDRESS:PORT nor off" "$work/bogus.err"'

[ "$failures" = 0 ]
