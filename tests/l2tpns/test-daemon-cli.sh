#!/bin/bash
# The telnet CLI of our l2tpns, driven by Debian's telnet under expect, with FreeRADIUS and
# l2tp-lac: the listener is 127.0.0.1:23 only; logins come from the users file (an MD5-crypt
# user, `enable' in plain text); a wrong password is refused and counted; `show session' lists
# every LAC user with its address and moving counters, `sh ses' and `| include' work; an
# unprivileged user cannot drop; after `enable', `drop session' ends a call (the LAC sees the
# CDN) and `drop tunnel' clears one; `configure terminal' + `set' + `write memory' keeps the
# file's comments and order and a SIGHUP reads it back unchanged; `show session' over 500+
# sessions streams completely (its time is printed); a connection idle at the login prompt or
# logged in is closed after --cli-idle-timeout; `--cli off' leaves port 23 closed.
# Needs root, /usr/sbin/freeradius, python3, telnet, expect, l2tpns and l2tp-lac in
# $NETEDGE_BIN_DIR.
set -u
. "$(dirname "$0")/daemon-env.inc"
require "apt-get install telnet expect" telnet expect
BULK=${BULK:-500}

check "three namespaces and two veth pairs set up" setup_net || exit 1
check "FreeRADIUS ready in the LNS namespace" start_radius || exit 1
write_lns_config 'set hostname "clitest"'
# Comments and blank lines that write memory must keep, where they are.
conf=$lns_dir/startup-config
sed -i '1i # CLI test startup-config: this comment must survive write memory\n' "$conf"
sed -i '/^set primary_dns/i # DNS for the users (changed by the test)' "$conf"
echo "# last line comment" >>"$conf"
md5=$(openssl passwd -1 -salt cliTEST1 adminpw)
{
    echo "# CLI users of the test"
    echo "admin:$md5"
    echo "plain:plainpw"
    echo "enable:enablepw"
} >"$lns_dir/users"
check "l2tpns listening on 10.201.0.1:1701" start_lns || { show_lns_log; exit 1; }
check "echo server listening in the server namespace" start_echo || exit 1
listening() { in_lns ss -ltn | grep -q "$1"; }
for _ in $(seq 50); do listening '127.0.0.1:23 ' && break; sleep 0.1; done
check "the CLI listens on 127.0.0.1:23 only" \
    eval "listening '127.0.0.1:23 ' && ! listening '0.0.0.0:23 ' && ! listening '\*:23 '"

# cli NAME USER PASSWORD ENABLE-PASSWORD|- COMMAND...: one telnet session in the LNS namespace;
# the transcript (CRs removed) in NAME.out, "TIMING <ms> <command>" lines in NAME.time.
cat >"$work/cli.exp" <<'EOF'
set timeout 20
lassign $argv user pass enablepw timing
set cmds [lrange $argv 4 end]
set prompt {clitest(\(config\))?[>#]$}
spawn telnet 127.0.0.1 23
expect {
    "Username: " {}
    timeout { puts "\nEXPECT: no Username prompt"; exit 2 }
}
send "$user\r"
expect "Password: "
send "$pass\r"
expect {
    "% Login invalid" { puts "\nEXPECT: login refused"; exit 3 }
    -re $prompt {}
    timeout { puts "\nEXPECT: no prompt after login"; exit 2 }
}
if {$enablepw ne "-"} {
    send "enable\r"
    expect "Password: "
    send "$enablepw\r"
    expect {
        "% Access denied" { puts "\nEXPECT: enable refused"; exit 4 }
        -re {clitest#$} {}
        timeout { puts "\nEXPECT: no # prompt"; exit 2 }
    }
}
set t [open $timing w]
foreach c $cmds {
    set start [clock milliseconds]
    send "$c\r"
    expect {
        -re "\n$prompt" {}
        timeout { puts "\nEXPECT: timeout after $c"; exit 2 }
    }
    puts $t "TIMING [expr {[clock milliseconds] - $start}] $c"
}
close $t
send "exit\r"
expect eof
EOF
cli() {
    local n=$1 user=$2 pass=$3 en=$4
    shift 4
    in_lns expect -f "$work/cli.exp" "$user" "$pass" "$en" "$work/$n.time" "$@" 2>&1 |
        tr -d '\r' >"$work/$n.out"
    rc=${PIPESTATUS[0]}
}
out() { grep -q -- "$2" "$work/$1.out"; }
# row NAME USER: USER's `show session' row in NAME.out (fields: SID TID user IP I T G opened
# downloaded uploaded idle LAC CLI).
row() { awk -v u="$2" '$3 == u && $5 == "N" { print; exit }' "$work/$1.out"; }
col() { row "$1" "$2" | awk -v c="$3" '{ print $c }'; }
wait_start() {
    local i
    for i in $(seq 1 150); do
        q "$1" 'any(x["status"] == "Start" for x in r)' 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}

# --- logins ------------------------------------------------------------------------------------
in_lns expect -c '
    set timeout 20
    spawn telnet 127.0.0.1 23
    foreach pw {wrong1 wrong2 wrong3} {
        expect "Username: "; send "admin\r"
        expect "Password: "; send "$pw\r"
        expect "% Login invalid"
    }
    expect eof { puts "\nCLOSED" } timeout { puts "\nOPEN" }' 2>&1 | tr -d '\r' >"$work/wrong.out"
check "three wrong passwords: refused each time, then the connection is closed" \
    eval '[ "$(grep -c "% Login invalid" "$work/wrong.out")" = 3 ] && out wrong CLOSED && ! out wrong "clitest[>#]"'
cli enable-user enable enablepw - "show version"
check "the enable password is no login" eval '[ $rc = 3 ]'
cli version admin adminpw - "show version"
check "MD5-crypt user logs in: show version (exit $rc)" eval '[ $rc = 0 ] && out version "^l2tpns [0-9]"'
cli plain plain plainpw - "show pool" "uptime"
check "plain-text user logs in: show pool, uptime with a bandwidth line" \
    eval '[ $rc = 0 ] && out plain "^[0-9]* addresses, 0 in use, [0-9]* free$" && out plain "up 0 day(s)" && out plain "^Bandwidth: up [0-9.]* kbit/s, down"'
cli badenable admin adminpw wrongenable "show version"
check "wrong enable password: access denied" eval '[ $rc = 4 ]'

# --- sessions with traffic ---------------------------------------------------------------------
lac drop lac9001 --rate 10 --duration 60 &
drop_job=$!
lac tun lac9002 --rate 10 --duration 60 &
tun_job=$!
lac stay lac9003 --rate 10 --duration 60 &
stay_job=$!
check "three sessions up (Acct-Start)" eval 'wait_start lac9001 && wait_start lac9002 && wait_start lac9003'
sleep 1
cli ses1 admin adminpw - "show session"
sleep 2
cli ses2 admin adminpw - "sh ses" "show session | include lac9002" "show users" "show tunnels"
for u in lac9001 lac9002 lac9003; do
    ip=$(col ses1 $u 4)
    d1=$(col ses1 $u 9) u1=$(col ses1 $u 10) d2=$(col ses2 $u 9) u2=$(col ses2 $u 10)
    check "show session: $u at $ip, downloaded $d1 -> $d2, uploaded $u1 -> $u2" \
        eval '[[ "$ip" =~ ^10\.21[01]\.[0-9]+\.[0-9]+$ ]] && [ "${d2:-0}" -gt "${d1:-0}" ] && [ "${u2:-0}" -gt "${u1:-0}" ] && [ "$(col ses1 $u 12)" = 10.201.0.2 ]'
done
check "show session: the manual's columns" \
    eval 'grep -Eq "SID +TID +Username +IP +I T G +opened +downloaded +uploaded +idle +LAC +CLI" "$work/ses1.out"'
sed -n '/SID/,$p' "$work/ses1.out" | head -5 | sed 's/^/# /'
incl=$(sed -n '/include lac9002/,/clitest>/p' "$work/ses2.out")
check "show session | include lac9002: that row only" \
    eval 'grep -q " lac9002 " <<<"$incl" && ! grep -q "lac9001\|lac9003\|Username" <<<"$incl"'
check "show users lists the three users" \
    eval 'out ses2 "^lac9001  *1$" && out ses2 "^lac9002  *1$" && out ses2 "^lac9003  *1$"'
sid1=$(col ses1 lac9001 1)
tid2=$(col ses1 lac9002 2)
echo "# lac9001 is session $sid1, lac9002 is in tunnel $tid2"

cli nodrop admin adminpw - "drop session $sid1" "show counters" "write memory"
check "unprivileged: drop, show counters and write memory are refused" \
    eval '[ $rc = 0 ] && [ "$(grep -c "^% " "$work/nodrop.out")" -ge 3 ] && ! out nodrop "Dropping"'
cli still admin adminpw - "show session $sid1"
check "the session is still there: show session $sid1 gives its details" \
    eval 'out still "^Session $sid1$" && out still "User: *lac9001$" && out still "Address: *10\.21[0-9.]*$" &&
          out still "From the user: *[1-9][0-9]* packets"'

cli pool admin adminpw - "show pool" "show pool all | count" "show radius"
check "show pool: lac9001's address in use by session $sid1; show pool all lists the free ones too" \
    eval 'awk -v s="$sid1" "\$2 == \"Y\" && \$3 == s && \$4 == \"lac9001\" { f = 1 } END { exit !f }" "$work/pool.out" &&
          [ "$(sed -n "s/^Count: //p" "$work/pool.out")" -gt 100 ]'
check "show radius: the server, and the authentication client with answered requests and a mean RTT" \
    eval 'out pool "^Servers: 127.0.0.1:1812" &&
          awk "\$1 == \"authentication\" && \$4 > 0 && \$NF == \"ms\" { f = 1 } END { exit !f }" "$work/pool.out"'
cli drop admin adminpw enablepw "drop session $sid1"
check "after enable: drop session $sid1" eval '[ $rc = 0 ] && out drop "Dropping session $sid1 (lac9001)"'
check "drop: logged with who asked" grep -q "CLI admin@127.0.0.1:[0-9]*: drop session $sid1 (lac9001)" "$lns_dir/l2tpns.log"
gone=no
for _ in $(seq 20); do
    cli after admin adminpw - "show session"
    [ -z "$(row after lac9001)" ] && [ -n "$(row after lac9003)" ] && { gone=yes; break; }
    sleep 0.5
done
check "drop: lac9001 left show session, lac9003 is still listed" [ "$gone" = yes ]
cli droptun admin adminpw enablepw "drop tunnel $tid2" "drop tunnel 65000"
check "drop tunnel $tid2: cleared; an unknown tunnel is refused" \
    eval 'out droptun "tunnel $tid2 cleared (1 session(s))" && out droptun "% tunnel 65000 not found"'
cli misc admin adminpw enablepw "throttle lac9003 in 256 out 512" "show session" "show cluster" \
    "snoop lac9003 10.0.0.1 9" "no throttle lac9003" "no snoop lac9003" \
    "show counters" "clear counters" "show counters"
t_column() { awk '$3 == "lac9003" && $5 == "N" && $6 == "Y" && $7 == "N"' "$work/misc.out" | grep -q .; }
check "throttle/snoop from the CLI: the policy each time, the T column Y while throttled" \
    eval 'out misc "throttle in 256kbit/s out 512kbit/s" && out misc "snoop 10.0.0.1:9" && t_column && out misc "lac9003): none"'
check "missing features answer by name" \
    eval 'out misc "% show cluster: clustering is not implemented"'
# Two `show counters', before and after `clear counters'.
cmds_before=$(awk '$1 == "cli_commands" { print $2 }' "$work/misc.out" | head -1)
cmds_after=$(awk '$1 == "cli_commands" { print $2 }' "$work/misc.out" | sed -n 2p)
failed=$(awk '$1 == "cli_logins_failed" { print $2 }' "$work/misc.out" | head -1)
check "show counters: cli_commands=$cmds_before cli_logins_failed=$failed; after clear counters cli_commands=$cmds_after" \
    eval '[ "${cmds_before:-0}" -gt 10 ] && [ "${failed:-0}" -ge 4 ] && [ "${cmds_after:-99}" -le 1 ]'

wait $drop_job $tun_job
show drop
check "drop session: the LAC saw the LNS clear lac9001's call (CDN)" cleared drop
check "drop tunnel: the LAC saw the LNS clear lac9002's tunnel" cleared tun

# --- configure terminal, set, write memory, SIGHUP ---------------------------------------------
cp "$conf" "$work/startup-config.before"
cli conf admin adminpw enablepw "configure terminal" "set primary_dns 10.202.0.54" \
    "set radius_interim 120" "set nosuchkey 1" "set radius_secret radsecret" "end" "write memory"
check "configure terminal + set: accepted; a bad key refused" \
    eval '[ $rc = 0 ] && out conf "changed: primary_dns" && out conf "changed: radius_interim" && out conf "^% .*nosuchkey"'
check "write memory: written" out conf "Configuration written to $conf"
check "set of a secret key: logged without its value" \
    eval 'grep -q "CLI admin@.*: set radius_secret (value not logged)" "$lns_dir/l2tpns.log" && ! grep "CLI " "$lns_dir/l2tpns.log" | grep -q radsecret' 
diff "$work/startup-config.before" "$conf" >"$work/conf.diff"
sed 's/^/# /' "$work/conf.diff"
check "write memory: only the primary_dns line changed in place, radius_interim appended, comments kept" \
    eval '[ "$(grep -c "^[<>]" "$work/conf.diff")" = 3 ] &&
        grep -q "^> set primary_dns 10.202.0.54$" "$work/conf.diff" &&
        grep -q "^> set radius_interim 120$" "$work/conf.diff" &&
        [ "$(head -1 "$conf")" = "# CLI test startup-config: this comment must survive write memory" ] &&
        grep -B1 "^set primary_dns" "$conf" | grep -q "^# DNS for the users" &&
        [ "$(tail -2 "$conf" | head -1)" = "# last line comment" ]'
before=$(grep -c "nothing changed" "$lns_dir/l2tpns.log")
kill -HUP "$lns_pid"
reloaded=no
for _ in $(seq 50); do
    [ "$(grep -c "nothing changed" "$lns_dir/l2tpns.log")" -gt "$before" ] && { reloaded=yes; break; }
    sleep 0.1
done
check "SIGHUP reads the written file back identically (nothing changed)" [ "$reloaded" = yes ]
cli run admin adminpw enablepw "show running-config | include radius_interim"
check "show running-config has the new value" out run "^set radius_interim 120$"

# --- show session over many sessions -------------------------------------------------------------
run_lac bulk pap "$((BULK / 4))" 4 1 60 >/dev/null &
bulk_job=$!
up=no
for _ in $(seq 120); do
    [ "$(counter sessions)" -ge "$BULK" ] 2>/dev/null && { up=yes; break; }
    sleep 1
done
check "$BULK more sessions up (counters: sessions=$(counter sessions))" [ "$up" = yes ]
cli bulk admin adminpw - "show session" "show session | count"
n=$(awk '$5 == "N" && $3 ~ /^lac/' "$work/bulk.out" | sort -u | wc -l)
count=$(sed -n 's/^Count: //p' "$work/bulk.out")
ms=$(awk '$1 == "TIMING" && $3 == "show" && $4 == "session" && NF == 4 { print $2 }' "$work/bulk.time")
echo "# show session: $n rows ($(wc -c <"$work/bulk.out") bytes) in $ms ms over telnet"
check "show session streams every session ($n rows, | count says $count)" \
    eval '[ "$n" -ge "$BULK" ] && [ "${count:-0}" -eq "$((n + 1))" ]'
# A client that asks for the whole table and then stops reading holds no one up: another user
# is answered at once while it stalls; it gets every row once it reads again.
cat >"$work/stall.py" <<'PY'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", 23))
s.settimeout(10)
def until(word):
    buf = b""
    while word not in buf:
        buf += s.recv(4096)
until(b"Username: "); s.sendall(b"admin\r\n")
until(b"Password: "); s.sendall(b"adminpw\r\n")
until(b"clitest>"); s.sendall(b"show session\r\n")
open(sys.argv[1], "w").write("stalled\n")
time.sleep(6)
data = b""
while b"\nclitest>" not in data[-200:]:
    data += s.recv(65536)
rows = sum(1 for l in data.split(b"\n") if b" N N N " in l)
print(rows)
PY
in_lns python3 "$work/stall.py" "$work/stall.flag" >"$work/stall.out" 2>&1 &
stall_job=$!
for _ in $(seq 50); do [ -e "$work/stall.flag" ] && break; sleep 0.1; done
sleep 1
cli other admin adminpw - "show version"
other_ms=$(awk '$1 == "TIMING" { print $2 }' "$work/other.time")
check "while a client stalls in show session, another is answered (show version in ${other_ms:-?} ms)" \
    eval '[ $rc = 0 ] && out other "^l2tpns [0-9]" && [ "${other_ms:-9999}" -lt 2000 ] && kill -0 $stall_job'
wait $stall_job
stalled_rows=$(tail -1 "$work/stall.out")
check "the stalled client got every row when it read again ($stalled_rows)" \
    eval '[ "${stalled_rows:-0}" -ge "$BULK" ] 2>/dev/null'
wait $stay_job
check "lac9003 was not touched: not cleared, every probe came back ($(field "$work/stay.json" received) of $(field "$work/stay.json" sent))" \
    eval '! cleared stay && [ "$(field "$work/stay.json" received)" -gt 100 ] && [ "$(field "$work/stay.json" received)" = "$(field "$work/stay.json" sent)" ]'
kill "$bulk_job" 2>/dev/null
wait "$bulk_job" 2>/dev/null
check "no panic in the daemon's output" no_panic

# --- --cli off and --cli ADDRESS:PORT ------------------------------------------------------------
restart() {
    kill -QUIT "$lns_pid"
    for _ in $(seq 100); do not_running "$lns_pid" && break; sleep 0.1; done
    setsid ip netns exec "$ns_lns" "$l2tpns" -c "$conf" --state-dir "$lns_dir/state" "$@" \
        </dev/null >>"$lns_dir/stdout.log" 2>&1 &
    lns_pid=$!
    for _ in $(seq 100); do in_lns ss -lun | grep -q '10.201.0.1:1701' && break; sleep 0.1; done
    sleep 0.3
}
# --- idle limits: the login prompt and a silent logged-in user -----------------------------------
restart --cli-idle-timeout 2
in_lns /usr/bin/python3 - >"$work/login-timeout.out" 2>&1 <<'PY'
import socket, time
s = socket.create_connection(("127.0.0.1", 23), timeout=15)
t0, data = time.time(), b""
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
print(round(time.time() - t0, 1), b"Login timed out" in data)
PY
read -r secs said_it <"$work/login-timeout.out"
check "--cli-idle-timeout 2: a connection left at the login prompt is closed after ${secs:-?} s, saying why" \
    eval '[ "$said_it" = True ] && awk -v s="$secs" "BEGIN { exit !(s >= 1.5 && s <= 6) }"'
in_lns expect -c '
    set timeout 15
    spawn telnet 127.0.0.1 23
    expect "Username: "
    send "plain\r"
    expect "Password: "
    send "plainpw\r"
    expect -re {clitest>$}
    set t0 [clock milliseconds]
    expect "% Idle timeout" { puts "\nIDLE [expr {[clock milliseconds] - $t0}]" }
    expect eof' 2>&1 | tr -d '\r' >"$work/idle.out"
idle_ms=$(sed -n 's/^IDLE //p' "$work/idle.out")
check "--cli-idle-timeout 2: a silent logged-in user is closed after ${idle_ms:-no} ms" \
    eval '[ -n "$idle_ms" ] && [ "$idle_ms" -ge 1500 ] && [ "$idle_ms" -le 6000 ]'
check "both counted in cli_timeouts" eval 'in_lns "$bin/nsctl" show counters | grep -q "^cli_timeouts=2$"'

restart --cli off
check "--cli off: nothing listens on TCP 23" eval "in_lns ss -lun | grep -q ':1701' && ! in_lns ss -ltn | grep -q ':23 '"
restart --cli 127.0.0.1:2323
check "--cli 127.0.0.1:2323: listens there, not on 23" eval "listening '127.0.0.1:2323 ' && ! listening ':23 '"
mv "$lns_dir/users" "$work/users.saved"
restart --cli 0.0.0.0:2323
in_lns expect -c '
    set timeout 10
    spawn telnet 127.0.0.1 2323
    expect -re {clitest>$} { send "show version\r" } "Username:" { puts "\nLOGIN ASKED"; exit 2 }
    expect -re {\nclitest>$}
    send "enable\r"
    expect "Password: "
    send "anything\r"
    expect "% Access denied"
    expect -re {clitest>$}
    send "exit\r"
    expect eof' 2>&1 | tr -d '\r' >"$work/nousers.out"
check "no users file: a loopback client gets the prompt without a login, and cannot enable" \
    eval 'out nousers "^l2tpns [0-9]" && out nousers "% Access denied" && ! out nousers "Username:\|LOGIN ASKED"'
in_lac expect -c '
    set timeout 10
    spawn telnet 10.201.0.1 2323
    expect eof' 2>&1 | tr -d '\r' >"$work/remote.out"
check "no users file: a remote client is told so and disconnected" \
    eval 'out remote "% No users file" && ! out remote "clitest\|Username:"'
check "no users file: a warning at start" grep -q "no users file: only loopback clients" "$lns_dir/l2tpns.log"
mv "$work/users.saved" "$lns_dir/users"
check "--cli bogus is refused with a reason" \
    eval '! "$l2tpns" --cli bogus --check-config 2>"$work/bogus.err" && grep -q "neither ADDRESS:PORT nor off" "$work/bogus.err"'

[ "$failures" = 0 ]
