#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 900
#
# Bench: program 1000 virtual services (one real server each) into IPVS
#   (a) the original's way: `ipvsadm -C`, then one ipvsadm process per service and per server;
#   (b) iptoip: one process, generic netlink, from an empty table;
# in the same VM run, and report both times and the ratio. Also times iptoip re-applying the
# same config (no change) and applying a one-line change. Run it in the guest:
#   tests/vm/vm.sh run tests/bench/iptoip-bench.sh [N]
. /vm/src/tests/vm/tap.sh

N=${1:-1000}
IPTOIP=${IPTOIP:-/vm/bin/iptoip}
W=/tmp/iptoip-bench
mkdir -p $W
modprobe ip_vs
modprobe ip_vs_wlc
ip link add dum0 type dummy
ip addr add 203.0.113.7/24 dev dum0
ip link set dum0 up
VIP=203.0.113.7
RIP=192.168.1.3

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }

{
	echo "<config><iface>dum0</iface><syslog>0</syslog>"
	echo "<conf><scheduler>wlc</scheduler><destination>$RIP</destination><protocol>t</protocol>"
	for p in $(seq 1000 $((1000 + N - 1))); do echo "<port>$p</port>"; done
	echo "</conf></config>"
} >$W/bench.xml

# (a) the original: flush, then per port `ipvsadm -A` and `ipvsadm -a`.
t0=$(now)
ipvsadm -C
for p in $(seq 1000 $((1000 + N - 1))); do
	ipvsadm -A -t $VIP:$p -s wlc && ipvsadm -a -t $VIP:$p -r $RIP:$p -m -w 1
done
t1=$(now)
orig=$(elapsed "$t0" "$t1")
check_out "ipvsadm per line: $N services in the table" "^$N\$" sh -c "ipvsadm -Ln | grep -c '^TCP'"

# (b) iptoip from an empty table.
ipvsadm -C
rm -f $W/state
t0=$(now)
"$IPTOIP" --state $W/state -f $W/bench.xml 2>$W/apply.log
rc=$?
t1=$(now)
ours=$(elapsed "$t0" "$t1")
check "iptoip applied the bench config (exit $rc)" test $rc -eq 0
check_out "iptoip: $N services in the table" "^$N\$" sh -c "ipvsadm -Ln | grep -c '^TCP'"
check_out "iptoip: $N real servers in the table" "^$N\$" sh -c "ipvsadm -Ln | grep -c -- '->.*Masq'"

# (c) iptoip again, nothing to change (dump + diff only).
t0=$(now)
"$IPTOIP" --state $W/state -f $W/bench.xml 2>$W/noop.log
t1=$(now)
noop=$(elapsed "$t0" "$t1")
check_out "iptoip re-apply: up to date" 'up to date' cat $W/noop.log

# (d) one port removed from the config: one deletion.
grep -v '<port>1000</port>' $W/bench.xml >$W/bench2.xml
t0=$(now)
"$IPTOIP" --state $W/state -f $W/bench2.xml 2>$W/one.log
t1=$(now)
one=$(elapsed "$t0" "$t1")
check_out "iptoip one-line change: exactly one operation" '^1$' sh -c "grep -c 'IPVS delete' $W/one.log"

ratio=$(echo "$orig / $ours" | bc -l)
printf '# bench: iptoip-apply services=%d ipvsadm_per_line_s=%.3f iptoip_s=%.3f ratio=%.1f\n' \
	"$N" "$orig" "$ours" "$ratio"
printf '# bench: iptoip-noop services=%d seconds=%.3f\n' "$N" "$noop"
printf '# bench: iptoip-one-change services=%d seconds=%.3f\n' "$N" "$one"
tap_done
