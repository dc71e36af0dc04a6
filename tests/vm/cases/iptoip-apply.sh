#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 600
#
# iptoip against a real IPVS: apply a config and compare `ipvsadm -Ln` with exactly the expected
# services and servers; leave a foreign service alone; refuse a colliding one; apply only the
# difference when the config changes; follow an address change with --watch; bad configs give
# their errors and leave the table untouched. Runs as a guest script under tests/vm/vm.sh.
. /vm/src/tests/vm/tap.sh

IPTOIP=${IPTOIP:-/vm/bin/iptoip}
W=/tmp/iptoip
mkdir -p $W
STATE=$W/state

check "iptoip binary is there" test -x "$IPTOIP"
check "modprobe ip_vs" modprobe ip_vs

# The interface the configs follow: a dummy with a public-looking (documentation) address.
ip link add dum0 type dummy
ip addr add 203.0.113.7/24 dev dum0
ip -6 addr add 2001:db8:7::1/64 dev dum0 nodad
ip link set dum0 up

# table: one sorted line per real server, "PROTO VIP:PORT SCHED -> RIP:PORT FWD WEIGHT", and
# one line "PROTO VIP:PORT SCHED" per service (so a service without servers shows too).
table() {
	ipvsadm -Ln | sed 1,3d | awk '
		$1 == "->" { print svc " -> " $2 " " $3 " " $4; next }
		{ svc = $1 " " $2 " " $3; print svc }' | LC_ALL=C sort
}
# expect WHAT: compares table with stdin (sorted likewise).
expect() {
	local want got
	want=$(LC_ALL=C sort)
	got=$(table)
	if [ "$want" = "$got" ]; then tap_ok "$1"; else
		tap_not_ok "$1" "$(diff <(echo "$want") <(echo "$got"))"
	fi
}
run() { # run LOGFILE ARGS...: iptoip with its log in LOGFILE (stderr) and output on stdout
	local log=$1
	shift
	"$IPTOIP" --state $STATE "$@" 2>"$log"
}

cat >$W/a.xml <<'EOF'
<config>
	<iface>dum0</iface>
	<rfc1918>2</rfc1918>
	<verbose>0</verbose>
	<syslog>0</syslog>
	<conf>
		<scheduler>wlc</scheduler>
		<destination>192.168.1.3</destination>
		<protocol>a</protocol>
		<weight>5</weight>
		<port>80</port>
		<port>21</port>
	</conf>
	<conf>
		<!-- a second real server of the same services: the original dropped it -->
		<scheduler>wlc</scheduler>
		<destination>192.168.1.4</destination>
		<protocol>t</protocol>
		<port>80</port>
	</conf>
	<conf>
		<scheduler>rr</scheduler>
		<destination>192.168.1.10</destination>
		<protocol>t</protocol>
		<weight>3</weight>
		<forward>gate</forward>
		<port>6000</port>
	</conf>
	<conf>
		<origin>198.51.100.1</origin>
		<scheduler>sh</scheduler>
		<destination>192.168.1.20</destination>
		<protocol>u</protocol>
		<weight>0</weight>
		<forward>tunl</forward>
		<port>53</port>
	</conf>
	<conf>
		<scheduler>sed</scheduler>
		<destination>2001:db8:9::10</destination>
		<protocol>t</protocol>
		<weight>7</weight>
		<port>443</port>
	</conf>
</config>
EOF

EXPECT_A='TCP 203.0.113.7:80 wlc
TCP 203.0.113.7:80 wlc -> 192.168.1.3:80 Masq 5
TCP 203.0.113.7:80 wlc -> 192.168.1.4:80 Masq 1
TCP 203.0.113.7:21 wlc
TCP 203.0.113.7:21 wlc -> 192.168.1.3:21 Masq 5
UDP 203.0.113.7:80 wlc
UDP 203.0.113.7:80 wlc -> 192.168.1.3:80 Masq 5
UDP 203.0.113.7:21 wlc
UDP 203.0.113.7:21 wlc -> 192.168.1.3:21 Masq 5
TCP 203.0.113.7:6000 rr
TCP 203.0.113.7:6000 rr -> 192.168.1.10:6000 Route 3
UDP 198.51.100.1:53 sh
UDP 198.51.100.1:53 sh -> 192.168.1.20:53 Tunnel 0
TCP [2001:db8:7::1]:443 sed
TCP [2001:db8:7::1]:443 sed -> [2001:db8:9::10]:443 Masq 7'
FOREIGN='TCP 10.9.9.9:8080 lc
TCP 10.9.9.9:8080 lc -> 10.9.9.10:8080 Masq 2'

# --- dry run on an empty table: prints the plan, touches nothing ---
run $W/dry.log --dry-run -f $W/a.xml >$W/dry.out
check "--dry-run exits 0" test $? -eq 0
check_out "--dry-run plans 7 services" '^7$' grep -c 'add service' $W/dry.out
check_out "--dry-run plans 8 real servers" '^8$' grep -c 'add server' $W/dry.out
check_sh "--dry-run touched neither the table nor the state file" \
	"[ -z \"\$(ipvsadm -Ln | sed 1,3d)\" ] && [ ! -e $STATE ]"

# --- a foreign service that must survive everything below ---
ipvsadm -A -t 10.9.9.9:8080 -s lc
ipvsadm -a -t 10.9.9.9:8080 -r 10.9.9.10:8080 -m -w 2

# --- first apply ---
run $W/apply1.log -f $W/a.xml
check "first apply exits 0" test $? -eq 0
printf '%s\n%s\n' "$EXPECT_A" "$FOREIGN" | expect "ipvsadm -Ln shows exactly the configured services, servers and the foreign one"
check_out "state file lists the 7 services iptoip created" '^7$' sh -c "grep -vc '^#' $STATE"
check_sh "state file does not list the foreign service" "! grep -q 10.9.9.9 $STATE"

# --- re-apply with no change: nothing to do ---
run $W/apply2.log -f $W/a.xml
check "unchanged re-apply exits 0" test $? -eq 0
check_sh "unchanged re-apply makes no change" "! grep -q 'IPVS \(add\|edit\|delete\)' $W/apply2.log"
check_out "unchanged re-apply says the table is up to date" 'up to date' cat $W/apply2.log

# --- change the config: one weight, one server removed, one added, one scheduler ---
sed -e 's|<weight>5</weight>|<weight>9</weight>|' \
	-e 's|<destination>192.168.1.4</destination>|<destination>192.168.1.5</destination>|' \
	-e 's|<scheduler>rr</scheduler>|<scheduler>wrr</scheduler>|' $W/a.xml >$W/b.xml
run $W/apply3.log -f $W/b.xml
check "changed config applies, exit 0" test $? -eq 0
grep 'IPVS ' $W/apply3.log | sed 's/^iptoip: //' | LC_ALL=C sort >$W/ops3
LC_ALL=C sort >$W/want3 <<'EOF'
IPVS add server 192.168.1.5:80 to TCP 203.0.113.7:80 via masq weight 1
IPVS delete server 192.168.1.4:80 from TCP 203.0.113.7:80
IPVS edit server 192.168.1.3:21 of TCP 203.0.113.7:21 via masq weight 9
IPVS edit server 192.168.1.3:21 of UDP 203.0.113.7:21 via masq weight 9
IPVS edit server 192.168.1.3:80 of TCP 203.0.113.7:80 via masq weight 9
IPVS edit server 192.168.1.3:80 of UDP 203.0.113.7:80 via masq weight 9
IPVS edit service TCP 203.0.113.7:6000 scheduler wrr
IPVS table updated: 7 change(s)
EOF
check "only the difference was applied (7 operations, listed)" diff $W/want3 $W/ops3
printf '%s\n%s\n' "$FOREIGN" "$(echo "$EXPECT_A" | sed -e 's/Masq 5/Masq 9/' \
	-e 's/192.168.1.4:80 Masq 1/192.168.1.5:80 Masq 1/' -e 's/6000 rr/6000 wrr/')" |
	expect "ipvsadm -Ln shows the changed table"

# --- a hand-deleted owned service is re-created; a foreign one colliding is refused ---
ipvsadm -D -u 198.51.100.1:53
ipvsadm -A -t 203.0.113.7:25 -s rr
cat >$W/c.xml <<'EOF'
<config>
	<iface>dum0</iface>
	<conf>
		<scheduler>rr</scheduler>
		<destination>192.168.1.30</destination>
		<protocol>t</protocol>
		<port>25</port>
	</conf>
</config>
EOF
before=$(table)
run $W/collide.log -f $W/c.xml
check "a config colliding with a foreign service fails" test $? -ne 0
check_out "the collision is named" 'service TCP 203\.0\.113\.7:25 already exists and was not created by iptoip' cat $W/collide.log
if [ "$(table)" = "$before" ]; then tap_ok "the collision left the table untouched"; else
	tap_not_ok "the collision left the table untouched" "$(diff <(echo "$before") <(table))"
fi
ipvsadm -D -t 203.0.113.7:25
run $W/apply4.log -f $W/b.xml
check "re-apply after a hand deletion exits 0" test $? -eq 0
check_out "the hand-deleted owned service is re-created" 'IPVS add service UDP 198\.51\.100\.1:53' cat $W/apply4.log

# --- bad configs: their errors, non-zero exit, table untouched ---
before=$(table)
bad() { # bad NAME REGEX: the config $W/NAME.xml must fail with REGEX on stderr
	run $W/$1.log -f $W/$1.xml
	local rc=$?
	if [ $rc -ne 0 ] && grep -qE -- "$2" $W/$1.log; then tap_ok "bad config $1: exit $rc, error shown"; else
		tap_not_ok "bad config $1: exit $rc, error shown" "$(cat $W/$1.log)"
	fi
	if [ "$(table)" = "$before" ]; then tap_ok "bad config $1: table untouched"; else
		tap_not_ok "bad config $1: table untouched" "$(diff <(echo "$before") <(table))"
	fi
}
sed 's|<scheduler>wlc</scheduler>|<scheduler>fastest</scheduler>|' $W/b.xml >$W/badsched.xml
bad badsched 'badsched\.xml:7: <scheduler>: "fastest" is not an IPVS scheduler'
sed 's|<port>6000</port>|<port>70000</port>|' $W/b.xml >$W/badport.xml
bad badport 'badport\.xml:27: <port>: "70000" is not a port'
sed 's|<weight>3</weight>|<weight>heavy</weight>|' $W/b.xml >$W/badweight.xml
bad badweight 'badweight\.xml:25: <weight>: "heavy" is not a weight'
sed 's|<destination>192.168.1.10</destination>|<destination>192.168.1.300</destination>|' $W/b.xml >$W/badaddr.xml
bad badaddr 'badaddr\.xml:23: <destination>: "192\.168\.1\.300" is not an IPv4 or IPv6 address'
sed 's|<syslog>0</syslog>|<syslog>0</syslog><persistence>60</persistence>|' $W/b.xml >$W/badtag.xml
bad badtag 'badtag\.xml:5: <persistence>: unknown tag in <config>'
sed 's|</config>||' $W/b.xml >$W/badxml.xml
bad badxml 'badxml\.xml:[0-9]+: '
sed 's|<destination>192.168.1.3</destination>|<destination>$(reboot)</destination>|' $W/b.xml >$W/badshell.xml
bad badshell 'badshell\.xml:8: <destination>: "\$\(reboot\)" is not an IPv4 or IPv6 address'
# The interface moves to a private address under rfc1918 policy 2: refused, nothing changed.
ip addr add 10.1.2.3/24 dev dum0
ip addr del 203.0.113.7/24 dev dum0
cp $W/b.xml $W/private.xml
bad private 'interface dum0 has the private address 10\.1\.2\.3 and the rfc1918 policy is 2'
ip addr add 203.0.113.7/24 dev dum0
ip addr del 10.1.2.3/24 dev dum0

# --- --watch follows the address of dum0 ---
run $W/apply5.log -f $W/b.xml
"$IPTOIP" --state $STATE --watch -f $W/b.xml 2>$W/watch.log &
watcher=$!
sleep 1
# As on a PPP reconnect: the old address goes, then the new one comes.
ip addr del 203.0.113.7/24 dev dum0
ip addr add 203.0.113.9/24 dev dum0
moved() { # moved ADDR: wait until every owned IPv4 iface service is on ADDR
	for _ in $(seq 1 50); do
		if ipvsadm -Ln | grep -q "TCP  $1:80" && ! ipvsadm -Ln | grep -q '203\.0\.113\.7:'; then return 0; fi
		sleep 0.2
	done
	return 1
}
check "--watch moved the services to 203.0.113.9" moved 203.0.113.9
printf '%s\n%s\n' "$FOREIGN" "$(echo "$EXPECT_A" | sed -e 's/Masq 5/Masq 9/' \
	-e 's/192.168.1.4:80 Masq 1/192.168.1.5:80 Masq 1/' -e 's/6000 rr/6000 wrr/' \
	-e 's/203\.0\.113\.7/203.0.113.9/')" | expect "after the move: same table on the new VIP, origin and foreign services kept"
check_out "--watch logged the address change" 'dum0: address changed from .* to 203\.0\.113\.9' cat $W/watch.log
ip addr del 203.0.113.9/24 dev dum0
ip addr add 203.0.113.11/24 dev dum0
check "--watch follows a second change" moved 203.0.113.11
check "--watch is still running" kill -0 $watcher
kill $watcher
wait $watcher 2>/dev/null

# --- removing every conf removes what iptoip created, and only that ---
printf '<config><iface>dum0</iface></config>\n' >$W/empty.xml
run $W/empty.log -f $W/empty.xml
check "an empty config applies" test $? -eq 0
echo "$FOREIGN" | expect "an empty config leaves only the foreign service"

tap_done
