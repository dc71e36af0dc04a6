#!/bin/bash
# Subscriber policy with the real daemon, FreeRADIUS, radclient and l2tp-lac traffic (issue 13,
# items 4 and 5):
# * Access lists on live traffic: the startup-config has two `ip access-list extended` lists and
#   one `standard` one in the original's syntax. FreeRADIUS gives user `fin` Filter-Id
#   "upstream.in" (UDP to the echo server's port 9000 denied, to 9001 permitted), `fout`
#   "downstream.out" (replies from port 9000 denied, the rest permitted), lac7 none. Denied
#   traffic is not echoed, permitted traffic is; the CLI's `show access-list` (telnet under
#   expect) and `nsctl show access-lists` show each rule's matches grown by exactly the packets
#   sent; the data plane's `filtered` counter grows by their sum; lac7 is untouched. A CoA
#   (radclient) gives lac7's live session the standard list: its replies stop from then on,
#   and the list's deny rule counts exactly the probes lac7 lost. A filtered session keeps its
#   list across SIGTERM (save_state) and a restart.
# * The external hook: `hook_script` appends its event and L2TPNS_* environment to a file: it
#   runs on auth, up and down with the session's user and address. A hook that sleeps far
#   longer than `hook_timeout` is killed with its process group, and session set-up is not
#   delayed by it (set-up time measured with the slow hook and without).
# * Plugins: stripdomain (user@realm authenticates as user; refused again after
#   `unload_plugin stripdomain`), autothrottle (Cisco-AVPair "throttle=yes": the session is
#   throttled at throttle_speed both ways, nsctl says so, and what comes back through it is
#   about that rate), setrxspeed (below), throttlectl and snoopctl gate their nsctl commands (refused before
#   load_plugin, accepted after, refused again after unload_plugin).
# Not repeated here: throttle refused before load_plugin and the throttled/snooped counters
# (test-daemon-nsctl.sh), CLI throttle/snoop (test-daemon-cli.sh), a CoA Filter-Id naming no
# list (test-daemon-dae.sh), the garden plugin (test-daemon-garden.sh). Our nsctl drop/kill work
# without sessionctl (a deliberate difference from the C daemon, see lns/src/daemon/control.rs),
# so sessionctl is only loaded and unloaded here. setrxspeed: l2tp-lac sends Tx Connect Speed
# 512 or 1500 (and a given Rx one, or none); nsctl's session JSON shows the Rx speed filled in as
# the reference's table says only with the plugin loaded.
# Needs root, /usr/sbin/freeradius, radclient, telnet, expect, python3, l2tpns, l2tp-lac and
# nsctl in $NETEDGE_BIN_DIR.
set -u
RADIUS_EXTRA_USERS='fin Cleartext-Password := "lacpass"
        Service-Type = Framed-User,
        Framed-Protocol = PPP,
        Filter-Id = "upstream.in"

fout Cleartext-Password := "lacpass"
        Service-Type = Framed-User,
        Framed-Protocol = PPP,
        Filter-Id = "downstream.out"

thr Cleartext-Password := "lacpass"
        Service-Type = Framed-User,
        Framed-Protocol = PPP,
        Cisco-AVPair = "throttle=yes"'
. "$(dirname "$0")/daemon-env.inc"
nsctl=$bin/nsctl
require "nsctl: cargo build --release; radclient: apt-get install freeradius-utils" \
    "$nsctl" /usr/bin/radclient
require "apt-get install telnet expect" telnet expect

check "three namespaces and two veth pairs set up" setup_net || exit 1
check "FreeRADIUS ready in the LNS namespace" start_radius || exit 1

# The hook: one line per run, then (while $work/slow-hook exists) a long sleep in the
# background and one in the foreground, both in the hook's process group.
cat >"$work/hook" <<EOF
#!/bin/sh
echo "\$1 user=\$L2TPNS_USER ip=\${L2TPNS_IP:-} auth=\${L2TPNS_AUTH:-} session=\$L2TPNS_SESSION peer=\${L2TPNS_PEER:-} event=\$L2TPNS_EVENT pid=\$\$" >>"$work/hook.log"
if [ -e "$work/slow-hook" ]; then
    echo \$\$ >>"$work/slow.pids"
    sleep 300 &
    sleep 300
fi
EOF
chmod +x "$work/hook"
: >"$work/hook.log"

write_lns_config 'set hostname "acltest"' "set radius_dae_clients 10.201.0.2" \
    "set throttle_speed 64" "set hook_script \"$work/hook\"" "set hook_timeout 2" \
    'load plugin "stripdomain"' 'load plugin "autothrottle"' \
    "ip access-list extended upstream" \
    " deny udp any host 10.202.0.2 eq 9000" \
    " permit udp any host 10.202.0.2 eq 9001" \
    "exit" \
    "ip access-list extended downstream" \
    " deny udp host 10.202.0.2 eq 9000 any" \
    " permit ip any any" \
    "exit" \
    "ip access-list standard noserver" \
    " deny host 10.202.0.2" \
    " permit any" \
    "exit"
echo "admin:adminpw" >"$lns_dir/users"
check "l2tpns listening on 10.201.0.1:1701" start_lns || { show_lns_log; exit 1; }
check "echo server listening on 10.202.0.2:9000" start_echo || exit 1
# A second echo server on port 9001.
sed 's/9000/9001/' "$work/echo.py" >"$work/echo9001.py"
setsid ip netns exec "$ns_srv" python3 "$work/echo9001.py" </dev/null >"$work/echo9001.log" 2>&1 &
pids+=($!)
listening9001() { in_srv ss -lun 2>/dev/null | grep -q '10.202.0.2:9001'; }
check "echo server listening on 10.202.0.2:9001" wait_for 10 listening9001

# plac NAME USER PORT RATE DURATION [options]: one PAP session of USER sending to the echo
# server's PORT; the report in NAME.json.
plac() {
    local name=$1 user=$2 port=$3 rate=$4 duration=$5
    shift 5
    in_lac "$lac" --lns 10.201.0.1 --bind 10.201.0.2:0 --sessions 1 --auth pap --user "$user" \
        --password lacpass --secret tunnelsecret --setup-timeout 20 --target "10.202.0.2:$port" \
        --size 200 --rate "$rate" --duration "$duration" --json "$@" >"$work/$name.json" 2>"$work/$name.err"
}
sent() { field "$work/$1.json" sent; }
received() { field "$work/$1.json" received; }
# nsctl NAME ARGS...: our nsctl in the LNS namespace, output in NAME.out/.err, status in $rc.
ours() { local n=$1; shift; in_lns "$nsctl" "$@" >"$work/$n.out" 2>"$work/$n.err"; rc=$?; }
said() { grep -q -- "$2" "$work/$1.out" "$work/$1.err"; }
nscounter() { in_lns "$nsctl" show counters | sed -n "s/^$1=//p"; }
# matches LIST INDEX: rule INDEX's (0-based; the rule count: the implicit deny) match count,
# from nsctl show --json access-lists LIST.
matches() {
    in_lns "$nsctl" show --json access-lists "$1" | python3 -c '
import json, sys
l = json.load(sys.stdin)[0]
i = int(sys.argv[1])
print(l["rules"][i][1] if i < len(l["rules"]) else l["implicit_deny"])' "$2"
}
# session_json USER: USER's session from nsctl show --json sessions.
session_json() {
    in_lns "$nsctl" --json show sessions | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if s["user"] == sys.argv[1]:
        print(json.dumps(s))
        break' "$1"
}
# ups USER: how many sessions of USER came up (the daemon's log); wait_up USER N: until more than N.
# (Cheaper than polling nsctl: python3 may be a slow shim.)
ups() { grep -c "user $1 up with" "$lns_dir/l2tpns.log"; }
wait_up() {
    local i
    for i in $(seq 1 150); do [ "$(ups "$1")" -gt "$2" ] && return 0; sleep 0.1; done
    return 1
}
session_field() { # session_field USER PYTHON-EXPRESSION-OVER-s
    session_json "$1" | python3 -c 'import json,sys; s=json.loads(sys.stdin.read() or "null"); print("" if s is None else eval(sys.argv[1]))' "$2"
}

# cli NAME COMMAND...: one telnet session to the CLI in the LNS namespace, transcript in NAME.out.
cat >"$work/cli.exp" <<'EOF'
set timeout 20
set prompt {acltest[>#]$}
spawn telnet 127.0.0.1 23
expect "Username: " {} timeout { puts "\nEXPECT: no Username prompt"; exit 2 }
send "admin\r"
expect "Password: "
send "adminpw\r"
expect -re $prompt {} timeout { puts "\nEXPECT: no prompt after login"; exit 2 }
foreach c $argv {
    send "$c\r"
    expect -re "\n$prompt" {} timeout { puts "\nEXPECT: timeout after $c"; exit 2 }
}
send "exit\r"
expect eof
EOF
cli() {
    local n=$1
    shift
    in_lns expect -f "$work/cli.exp" "$@" 2>&1 | tr -d '\r' >"$work/$n.out"
    rc=${PIPESTATUS[0]}
}
# cli_matches NAME RULE-TEXT: the match count the CLI transcript NAME gives the rule.
cli_matches() {
    grep -F -- "    $2 (" "$work/$1.out" | head -1 | sed -n 's/.*(\([0-9]*\) match.*/\1/p'
}

# --- access lists: configured, nothing matched yet ------------------------------------------------
cli acl0 "show access-list"
check "CLI show access-list: the three lists, in the original's syntax, no matches yet" \
    eval '[ $rc = 0 ] && grep -q "^Extended IP access list upstream$" "$work/acl0.out" &&
          grep -q "^Standard IP access list noserver$" "$work/acl0.out" &&
          [ "$(cli_matches acl0 "deny udp any host 10.202.0.2 eq 9000")" = 0 ] &&
          [ "$(cli_matches acl0 "deny udp host 10.202.0.2 eq 9000 any")" = 0 ]'
sed -n '/IP access list/,$p' "$work/acl0.out" | head -12 | sed 's/^/# /'
ours nacl show access-lists
check "nsctl show access-lists: the same lists and rules" \
    eval '[ $rc = 0 ] && said nacl "Extended IP access list downstream" && said nacl "^    permit any any (0 matches)$"'
ours nacl-bad show access-lists nosuch
check "nsctl show access-lists of no such list: exit 1, says so" \
    eval '[ $rc = 1 ] && said nacl-bad "access-list nosuch not found"'

# --- Filter-Id from RADIUS on live traffic ------------------------------------------------------
filtered0=$(nscounter filtered)
plac fin9000 fin 9000 20 3 &
j1=$!
plac fout9000 fout 9000 20 3 &
j2=$!
plac c9000 lac7 9000 20 3 &
j3=$!
wait $j1 $j2 $j3
filtered1=$(nscounter filtered)
echo "# fin -> 9000: $(sent fin9000) sent, $(received fin9000) received; fout: $(sent fout9000)/$(received fout9000); lac7: $(sent c9000)/$(received c9000); filtered $filtered0 -> $filtered1"
check "fin (upstream.in): none of its $(sent fin9000) probes to port 9000 was echoed" \
    eval '[ "$(sent fin9000)" -gt 40 ] && [ "$(received fin9000)" = 0 ]'
check "fout (downstream.out): none of the echoes of its $(sent fout9000) probes came back" \
    eval '[ "$(sent fout9000)" -gt 40 ] && [ "$(received fout9000)" = 0 ]'
check "lac7 (no Filter-Id): every probe came back ($(received c9000) of $(sent c9000))" \
    eval '[ "$(sent c9000)" -gt 40 ] && [ "$(received c9000)" = "$(sent c9000)" ]'
check "upstream's deny rule matched exactly fin's probes ($(matches upstream 0))" \
    eval '[ "$(matches upstream 0)" = "$(sent fin9000)" ] && [ "$(matches upstream 1)" = 0 ] && [ "$(matches upstream 2)" = 0 ]'
check "downstream's deny rule matched exactly the echoes to fout ($(matches downstream 0))" \
    eval '[ "$(matches downstream 0)" = "$(sent fout9000)" ] && [ "$(matches downstream 1)" = 0 ]'
check "the data plane's filtered counter grew by both ($filtered0 -> $filtered1)" \
    eval '[ $((filtered1 - filtered0)) = $(( $(sent fin9000) + $(sent fout9000) )) ]'

plac fin9001 fin 9001 20 3 &
j1=$!
plac fout9001 fout 9001 20 3 &
j2=$!
wait $j1 $j2
echo "# fin -> 9001: $(sent fin9001)/$(received fin9001); fout -> 9001: $(sent fout9001)/$(received fout9001)"
check "fin: every probe to the permitted port 9001 was echoed ($(received fin9001) of $(sent fin9001))" \
    eval '[ "$(sent fin9001)" -gt 40 ] && [ "$(received fin9001)" = "$(sent fin9001)" ]'
check "fout: every echo from port 9001 came back ($(received fout9001) of $(sent fout9001))" \
    eval '[ "$(sent fout9001)" -gt 40 ] && [ "$(received fout9001)" = "$(sent fout9001)" ]'
cli acl1 "show access-list"
d_up=$(cli_matches acl1 "deny udp any host 10.202.0.2 eq 9000")
p_up=$(cli_matches acl1 "permit udp any host 10.202.0.2 eq 9001")
d_down=$(cli_matches acl1 "deny udp host 10.202.0.2 eq 9000 any")
p_down=$(cli_matches acl1 "permit ip any any")
echo "# CLI: upstream deny $d_up permit $p_up; downstream deny $d_down permit $p_down"
check "CLI show access-list: each rule's matches grew by the packets it decided" \
    eval '[ "$d_up" = "$(sent fin9000)" ] && [ "$p_up" = "$(sent fin9001)" ] &&
          [ "$d_down" = "$(sent fout9000)" ] && [ "$p_down" = "$(sent fout9001)" ]'
check "nsctl: the same counts" \
    eval '[ "$(matches upstream 1)" = "$(sent fin9001)" ] && [ "$(matches downstream 1)" = "$(sent fout9001)" ] &&
          [ "$(matches upstream 2)" = 0 ] && [ "$(matches downstream 2)" = 0 ]'

# --- a CoA gives lac7's live session the standard list ------------------------------------------
dae() { # dae NAME ATTRIBUTES: a CoA from the LAC namespace, radclient's output in NAME.out
    echo "$2" | in_lac radclient -x -t 2 -r 1 10.201.0.1:3799 coa radsecret >"$work/$1.out" 2>&1
    rc=$?
}
n=$(ups lac7)
plac coa lac7 9000 20 8 &
j1=$!
wait_up lac7 "$n"
sleep 3
dae coa1 "User-Name=lac7,Filter-Id=noserver.out,Message-Authenticator=0x00"
check "CoA Filter-Id=noserver.out for lac7: CoA-ACK" grep -q "Received CoA-ACK" "$work/coa1.out"
check "nsctl: lac7's session now filters what goes to it with noserver" \
    eval '[ "$(session_field lac7 "s[\"policy\"][\"filter_out\"]")" = noserver ]'
wait $j1
lost=$(( $(sent coa) - $(received coa) ))
echo "# lac7 across the CoA: $(sent coa) sent, $(received coa) received; noserver deny $(matches noserver 0)"
check "lac7: echoes came back before the CoA and stopped after it" \
    eval '[ "$(received coa)" -gt 20 ] && [ "$lost" -gt 20 ]'
check "noserver's deny rule matched exactly the echoes lac7 lost ($lost)" \
    eval '[ "$(matches noserver 0)" = "$lost" ] && [ "$(matches noserver 1)" = 0 ]'

# --- the external hook ----------------------------------------------------------------------------
ip7=$(grep -m1 "^up user=lac7 " "$work/hook.log" | sed -n 's/.* ip=\([0-9.]*\) .*/\1/p')
hooked() { grep -q "^$1 user=$2 ip=$3 .*event=$1 " "$work/hook.log"; }
hook_down() { hooked down lac7 "${ip7:-none}"; }
check "hook: auth (L2TPNS_AUTH), up and down for lac7 with its address ${ip7:-?}" \
    eval 'grep -q "^auth user=lac7 .*auth=accept .*peer=10.201.0.2:[0-9]" "$work/hook.log" && [[ "${ip7:-}" =~ ^10\.21[01]\. ]] &&
          hooked up lac7 "$ip7" && wait_for 10 hook_down'
grep "user=lac7" "$work/hook.log" | head -3 | sed 's/^/# hook.log: /'

plac fast lac8 9000 1 1
fast_s=$(field "$work/fast.json" setup_seconds)
touch "$work/slow-hook"
plac slow lac9 9000 1 1
slow_s=$(field "$work/slow.json" setup_seconds)
rm -f "$work/slow-hook"
echo "# set-up: ${fast_s} s with the quick hook, ${slow_s} s with one that sleeps 300 s (hook_timeout 2)"
check "a hook that sleeps does not delay session set-up (${slow_s} s vs ${fast_s} s)" \
    python3 -c 'import sys; f, s = map(float, sys.argv[1:]); sys.exit(0 if s < f + 1.0 and s < 2.0 else 1)' \
    "${fast_s:-99}" "${slow_s:-99}"
slow_pids=$(sort -u "$work/slow.pids" 2>/dev/null | tr '\n' ' ')
groups_gone() {
    local p
    [ -n "$slow_pids" ] || return 1
    for p in $slow_pids; do pgrep -g "$p" >/dev/null && return 1; done
    return 0
}
check "the slow hooks (process groups $slow_pids) were killed after hook_timeout, children too" \
    eval 'wait_for 8 groups_gone && grep -q "hook.*killed after 2 s" "$lns_dir/l2tpns.log"'

# --- plugins: stripdomain, autothrottle ---------------------------------------------------------
plac strip lac5@realm.example 9000 10 1
check "stripdomain: lac5@realm.example authenticates as lac5 (FreeRADIUS has no such user)" \
    eval '[ "$(field "$work/strip.json" sessions_up)" = 1 ] && q lac5 "any(x[\"status\"] == \"Start\" for x in r)"'
ours unstrip unload_plugin stripdomain
plac nostrip lac6@realm.example 9000 10 1
check "after unload_plugin stripdomain: lac6@realm.example is rejected" \
    eval '[ "$(field "$work/nostrip.json" sessions_up)" = 0 ]'

n=$(ups thr)
plac thr thr 9000 100 4 &
j1=$!
wait_up thr "$n"
rates=$(session_field thr '(s["policy"]["throttle_in"], s["policy"]["throttle_out"])')
check "autothrottle: throttle=yes from RADIUS throttles thr at throttle_speed both ways ($rates)" \
    [ "$rates" = "(64, 64)" ]
wait $j1
# 100 probes/s of 200 bytes (160 kbit/s) through 64 kbit/s: about 40/s pass, plus the bucket.
check "thr's echoes came back at about 64 kbit/s ($(received thr) of $(sent thr) in 4 s)" \
    python3 -c 'import sys; r = int(sys.argv[1]); sys.exit(0 if 0.8 * 160 <= r <= 1.1 * (160 + 32) else 1)' \
    "$(received thr)"

# --- throttlectl, snoopctl, sessionctl gate their nsctl commands -----------------------------------
n=$(ups lac3)
plac ctl lac3 9000 2 12 &
j1=$!
wait_up lac3 "$n"
for p in throttlectl:throttle:unthrottle snoopctl:snoop:unsnoop; do
    plugin=${p%%:*} rest=${p#*:} cmd=${rest%%:*} undo=${rest#*:}
    args=(lac3)
    [ "$cmd" = snoop ] && args=(lac3 192.0.2.1 5000)
    ours "$cmd-before" "$cmd" "${args[@]}"
    check "$cmd before load_plugin $plugin: exit 1, names the plugin" \
        eval '[ $rc = 1 ] && said "$cmd-before" "plugin $plugin is not loaded"'
    ours "$plugin-load" load_plugin "$plugin"
    ours "$cmd-loaded" "$cmd" "${args[@]}"
    ours "$undo-loaded" "$undo" lac3
    check "$cmd and $undo after load_plugin $plugin: accepted" \
        eval '[ $rc = 0 ] && said "$undo-loaded" "lac3): none"'
    ours "$plugin-unload" unload_plugin "$plugin"
    ours "$cmd-after" "$cmd" "${args[@]}"
    check "$cmd after unload_plugin $plugin: refused again" \
        eval '[ $rc = 1 ] && said "$cmd-after" "plugin $plugin is not loaded"'
done
ours sc-load load_plugin sessionctl
r1=$rc
ours sc-unload unload_plugin sessionctl
check "sessionctl loads and unloads" eval '[ $r1 = 0 ] && [ $rc = 0 ]'
ours sc-again unload_plugin sessionctl
check "unload_plugin of a plugin not loaded: exit 1, says so" \
    eval '[ $rc = 1 ] && said sc-again "not loaded"'
wait $j1

# --- setrxspeed: a missing Rx Connect Speed from the Tx one (256/512/1500 -> 64/128/256) -----------
rx_of() { session_field "$1" 's["rx_connect_speed"]'; }
n=$(ups lac1)
plac rx-before lac1 9000 1 6 --tx-connect-speed 512 &
j1=$!
wait_up lac1 "$n"
rx_before=$(rx_of lac1)
wait $j1
ours rx-load load_plugin setrxspeed
n2=$(ups lac2) n4=$(ups lac4) n10=$(ups lac10) n11=$(ups lac11)
plac rx512 lac2 9000 1 8 --tx-connect-speed 512 &
j1=$!
plac rx1500 lac4 9000 1 8 --tx-connect-speed 1500 &
j2=$!
plac rxgiven lac10 9000 1 8 --tx-connect-speed 512 --rx-connect-speed 2000000 &
j3=$!
plac rxother lac11 9000 1 8 &
j4=$!
wait_up lac2 "$n2" && wait_up lac4 "$n4" && wait_up lac10 "$n10" && wait_up lac11 "$n11"
# One query for the four.
rx=$(in_lns "$nsctl" --json show sessions | python3 -c '
import json, sys
by = {s["user"]: s["rx_connect_speed"] for s in json.load(sys.stdin)}
print("/".join(str(by.get(u, "")) for u in sys.argv[1:]))' lac2 lac4 lac10 lac11)
wait $j1 $j2 $j3 $j4
echo "# rx connect speed: ${rx_before:-none} without setrxspeed (tx 512); with it tx 512, 1500, 512+rx 2000000, 10000000 -> $rx"
check "setrxspeed: without it a tx speed of 512 leaves rx unset (${rx_before:-none})" \
    [ "$rx_before" = None ]
check "setrxspeed: tx 512 -> rx 128, tx 1500 -> rx 256, a given rx is kept, other tx speeds give none ($rx)" \
    [ "$rx" = "128/256/2000000/None" ]

# --- a filtered session keeps its access list across SIGTERM and a restart ------------------------
n=$(ups fin)
plac term fin 9000 20 10 &
j1=$!
wait_up fin "$n"
sleep 2
kill -TERM "$lns_pid"
wait_for 5 not_running "$lns_pid"
check "SIGTERM: the daemon saved fin's session" grep -q 'saved 1 session(s)' "$lns_dir/l2tpns.log"
check "l2tpns restarted" start_lns || show_lns_log
resumed() { grep -q 'resumed 1 session(s)' "$lns_dir/l2tpns.log"; }
check "restart: fin's session resumed, still with upstream.in" \
    eval 'wait_for 5 resumed && [ "$(session_field fin "s[\"policy\"][\"filter_in\"]")" = upstream ]'
wait $j1
deny_after=$(matches upstream 0)
echo "# fin across the restart: $(sent term) sent, $(received term) received; upstream deny after the restart: $deny_after"
check "restart: fin's probes to port 9000 stayed denied; the new daemon's deny rule counted them ($deny_after)" \
    eval '[ "$(received term)" = 0 ] && [ "$(field "$work/term.json" sessions_failed)" = 0 ] &&
          [ "$deny_after" -ge $(( $(sent term) / 3 )) ] && [ "$deny_after" -le "$(sent term)" ]'

check "daemon still running" kill -0 "$lns_pid"
check "no panic in the daemon's output" no_panic
[ "$failures" = 0 ] || show_lns_log
exit "$failures"
