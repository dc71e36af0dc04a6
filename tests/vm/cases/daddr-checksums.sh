#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 900
#
# DADDR checksums checked independently of the kernel's stack, and malformed packets through
# the rule (a KASAN report or oops fails the run: tests/vm/vm.sh watches the console).
#
#   cl (client, scapy and kernel sockets) --veth-- rt (DADDR rule) --veth-- sink (tcpdump)
#
# rt rewrites DSCP-1 packets to NEW4/NEW6, which it routes on to sink, where tcpdump records
# them. scapy then recomputes every checksum from scratch and compares (csum_probe.py check).
# rt's egress has checksum offload off, so CHECKSUM_PARTIAL packets are finished in software
# from the seed DADDR updated before they reach the capture.
# Variant A: raw PREROUTING, no conntrack (DADDR sees CHECKSUM_NONE/PARTIAL and raw fragments).
# Variant B: mangle PREROUTING with conntrack active, which verifies checksums first and so
#            hands DADDR CHECKSUM_COMPLETE packets (and reassembled fragments).
. /vm/src/tests/vm/tap.sh
set -u

DST4=203.0.113.5 DST6=2001:db8:113::5 NEW4=10.9.9.9 NEW6=fd09::9
PROBE="python3 /vm/src/kmod-daddr/tests/csum_probe.py"
SYSXT=$(pkg-config --variable=xtlibdir xtables 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/xtables)
export XTABLES_LIBDIR=/vm/bin:$SYSXT

in_ns() { ip netns exec "$@"; }

. /vm/src/kmod-daddr/tests/guest_module.sh
daddr_guest_ready
# Both tables (the default is mangle alone): the probes run through raw and mangle rules.
check "modprobe xt_DADDR table=raw,mangle" modprobe xt_DADDR table=raw,mangle

for ns in cl rt sink; do
	ip netns add $ns
	in_ns $ns ip link set lo up
	in_ns $ns sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
ip link add cl0 netns cl type veth peer name rt0 netns rt
ip link add rt1 netns rt type veth peer name sk0 netns sink
in_ns cl ip addr add 10.0.4.2/24 dev cl0
in_ns cl ip addr add fd04::2/64 dev cl0 nodad
in_ns rt ip addr add 10.0.4.1/24 dev rt0
in_ns rt ip addr add fd04::1/64 dev rt0 nodad
in_ns rt ip addr add 10.0.5.1/24 dev rt1
in_ns rt ip addr add fd05::1/64 dev rt1 nodad
in_ns sink ip addr add 10.0.5.2/24 dev sk0
in_ns sink ip addr add fd05::2/64 dev sk0 nodad
for l in "cl cl0" "rt rt0" "rt rt1" "sink sk0"; do
	set -- $l
	in_ns $1 ip link set $2 up
done
in_ns cl ip route add default via 10.0.4.1
in_ns cl ip -6 route add default via fd04::1
in_ns rt ip route add 10.9.9.0/24 via 10.0.5.2
in_ns rt ip -6 route add fd09::/64 via fd05::2
# The original destinations go to sink as well: a packet DADDR wrongly let through unchanged
# shows up in the capture.
in_ns rt ip route add 203.0.113.0/24 via 10.0.5.2
in_ns rt ip -6 route add 2001:db8:113::/64 via fd05::2
in_ns rt sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
in_ns rt ethtool -K rt1 tx off >/dev/null
# Resolve the next hop now so the first probes are not queued behind ARP/ND.
in_ns rt ping -c1 -W2 10.0.5.2 >/dev/null
in_ns rt ping -6 -c1 -W2 fd05::2 >/dev/null

rules() { # rules -A|-D TABLE
	in_ns rt iptables-legacy -t "$2" "$1" PREROUTING -m dscp --dscp 1 -j DADDR --set-daddr $NEW4
	in_ns rt ip6tables-legacy -t "$2" "$1" PREROUTING -m dscp --dscp 1 -j DADDR --set-daddr $NEW6
}

capture() { # capture LABEL SENDER-ARGS...: run the probes with tcpdump on sink, then check
	local label=$1
	shift
	# Started directly (not through a function) so $! is tcpdump itself; TERM, because a
	# background job of a script ignores INT.
	ip netns exec sink tcpdump -i sk0 -U -s 0 -w /tmp/$label.pcap >/tmp/$label.tcpdump 2>&1 &
	local tcpdump=$!
	for _ in $(seq 50); do grep -q listening /tmp/$label.tcpdump && break; sleep 0.1; done
	check "$label: probes sent" in_ns cl $PROBE send $DST4 $DST6
	sleep 1
	kill -TERM $tcpdump
	wait $tcpdump
	echo "# $label: $(cat /tmp/$label.tcpdump | tail -2 | tr '\n' ' ')"
	# One TAP line per kind, printed by the checker.
	in_ns sink $PROBE check /tmp/$label.pcap $NEW4 $NEW6 || TAP_FAILED=$((TAP_FAILED + 1))
}

# --- variant A: raw PREROUTING, no conntrack ------------------------------------------------
rules -A raw
capture raw-prerouting
check_out "raw PREROUTING: the rules saw the probes" '^ *[1-9][0-9]* .*DADDR' \
	in_ns rt iptables-legacy -t raw -L PREROUTING -v -n -x
check "raw PREROUTING: 600 fuzzed/malformed packets through the rule" in_ns cl $PROBE fuzz $DST4 $DST6 600
rules -D raw

# --- variant B: mangle PREROUTING after conntrack (CHECKSUM_COMPLETE) -----------------------
in_ns rt iptables-legacy -A FORWARD -m conntrack --ctstate NEW,ESTABLISHED,INVALID,UNTRACKED -j ACCEPT
in_ns rt ip6tables-legacy -A FORWARD -m conntrack --ctstate NEW,ESTABLISHED,INVALID,UNTRACKED -j ACCEPT
rules -A mangle
capture mangle-prerouting-conntrack
check "mangle PREROUTING: 600 fuzzed/malformed packets through the rule" in_ns cl $PROBE fuzz $DST4 $DST6 600
rules -D mangle

# Still forwarding after the fuzzing: one more clean probe round through raw.
rules -A raw
capture after-fuzz
rules -D raw

check "rmmod xt_DADDR is clean" rmmod xt_DADDR
check_sh "no kernel warnings" "! dmesg | grep -E 'KASAN|BUG:|WARNING:|hw csum failure'"
tap_done
