#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 1200
#
# DADDR end to end (L3DSR), in the guest. Needs xt_DADDR.ko in the guest's module tree
# Builds xt_DADDR.ko from /vm/src/kmod-daddr in the guest; needs libxt_DADDR.so in /vm/bin
# (cargo build --release -p xt-daddr; VM_BIN_DIR on the host).
#
#   cl (client) --veth-- lb ("load balancer") --veth-- srv (real server, VIPs on lo)
#
# lb marks traffic for the VIP with DSCP 1 and rewrites the destination to the server's real
# address (nft payload mangling, as a hardware L3DSR balancer does). srv has the DADDR rule,
# which turns it back into a packet for the VIP; the server answers the client straight from
# the VIP. For IPv4 and IPv6, iptables-legacy and iptables-nft, raw PREROUTING, mangle
# PREROUTING and mangle INPUT, and the table= module parameter: a 1 MiB TCP transfer and a UDP
# exchange (digest checked, reply source checked), fragmented UDP, IPv6 extension headers.
# Argument "quick" (vm.sh run SCRIPT quick): a subset of the matrix for a fast look.
. /vm/src/tests/vm/tap.sh
set -u
QUICK=${1:-}

VIP4=198.18.0.250 RIP4=10.0.2.2 CL4=10.0.1.2
VIP6=fd00:1000::10 RIP6=fd02::2 CL6=fd01::2
PORT=8080
PEER="python3 /vm/src/kmod-daddr/tests/l3dsr_peer.py"
SYSXT=$(pkg-config --variable=xtlibdir xtables 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/xtables)
export XTABLES_LIBDIR=/vm/bin:$SYSXT

in_ns() { ip netns exec "$@"; }

. /vm/src/kmod-daddr/tests/guest_module.sh
daddr_guest_ready
echo "# module: $(modinfo -n xt_DADDR)"

# --- topology -------------------------------------------------------------------------------
for ns in cl lb srv; do
	ip netns add $ns
	in_ns $ns ip link set lo up
	in_ns $ns sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
ip link add cl0 netns cl type veth peer name lb0 netns lb
ip link add lb1 netns lb type veth peer name sv0 netns srv
in_ns cl ip addr add $CL4/24 dev cl0
in_ns cl ip addr add $CL6/64 dev cl0 nodad
in_ns lb ip addr add 10.0.1.1/24 dev lb0
in_ns lb ip addr add fd01::1/64 dev lb0 nodad
in_ns lb ip addr add 10.0.2.1/24 dev lb1
in_ns lb ip addr add fd02::1/64 dev lb1 nodad
in_ns srv ip addr add $RIP4/24 dev sv0
in_ns srv ip addr add $RIP6/64 dev sv0 nodad
in_ns srv ip addr add $VIP4/32 dev lo
in_ns srv ip addr add $VIP6/128 dev lo nodad
for l in "cl cl0" "lb lb0" "lb lb1" "srv sv0"; do
	set -- $l
	in_ns $1 ip link set $2 up
done
in_ns cl ip route add default via 10.0.1.1
in_ns cl ip -6 route add default via fd01::1
in_ns srv ip route add default via 10.0.2.1
in_ns srv ip -6 route add default via fd02::1
in_ns lb sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# The balancer: mark with DSCP 1 and send to the real server (before routing, priority raw).
in_ns lb nft -f - <<NFT
table ip l3dsr {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		ip daddr $VIP4 ip dscp set 1 ip daddr set $RIP4
	}
}
table ip6 l3dsr {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		ip6 daddr $VIP6 ip6 dscp set 1 ip6 daddr set $RIP6
	}
}
NFT
in_ns srv $PEER serve $VIP4 $VIP6 --port $PORT >/tmp/server.log 2>&1 &
SERVER=$!
for _ in $(seq 50); do grep -q serving /tmp/server.log && break; sleep 0.1; done
check_out "server listening on the VIPs" serving cat /tmp/server.log

# --- helpers --------------------------------------------------------------------------------
ipt() { # ipt BACKEND FAMILY ARGS...   (BACKEND legacy|nft, FAMILY 4|6)
	local b=$1 f=$2
	shift 2
	if [ "$f" = 6 ]; then in_ns srv ip6tables-$b "$@"; else in_ns srv iptables-$b "$@"; fi
}
vip() { if [ "$1" = 6 ]; then echo $VIP6; else echo $VIP4; fi; }

# traffic LABEL FAMILY [--dstopts]: a 1 MiB TCP transfer, a small and a fragmented UDP exchange.
traffic() {
	local label=$1 f=$2 extra=${3:-}
	check_out "$label: TCP 1 MiB to the VIP intact, answered by the VIP" "digest match" \
		in_ns cl $PEER tcp "$(vip $f)" $PORT 1048576 $extra
	check_out "$label: UDP reply from the VIP" "reply from .* \(VIP\); digest match" \
		in_ns cl $PEER udp "$(vip $f)" $PORT 512 $extra
	check_out "$label: fragmented UDP (6000 bytes) intact" "reply from .* \(VIP\); digest match" \
		in_ns cl $PEER udp "$(vip $f)" $PORT 6000 $extra
}

rule_spec() { # rule_spec FAMILY CHAIN
	echo "$2 -m dscp --dscp 1 -j DADDR --set-daddr $(vip $1)"
}

# snmp NS FILE NAME: a counter of /proc/net/snmp ("Proto Field" pairs over two lines) or
# /proc/net/snmp6 ("Name value").
snmp() {
	ip netns exec "$1" awk -v n="$3" '
		FILENAME ~ /snmp6$/ { if ($1 == n) print $2; next }
		{ split(n, pf, " ") }
		$1 == pf[1] ":" { if (!seen[$1]++) { for (i = 2; i <= NF; i++) if ($i == pf[2]) col = i } else print $col }
	' "/proc/net/$2"
}

rmmod_retry() {
	for _ in $(seq 20); do rmmod xt_DADDR 2>/dev/null && return 0; sleep 0.2; done
	rmmod xt_DADDR
}

# --- negative control: without the rule the server does not answer on the real address -----
# (srv has no listener on the real address; its RST comes from the real address, which the
# client's socket for the VIP ignores, so the connection times out.)
check_out "no DADDR rule: TCP to the VIP does not complete" "Connection refused|timed out" \
	sh -c "ip netns exec cl $PEER tcp $VIP4 $PORT 1000; true"

# --- autoload by alias, default parameter ---------------------------------------------------
# The default is one table, mangle (the upstream dsrctl passes the parameter to iptables -t).
rmmod xt_DADDR 2>/dev/null
check "iptables-nft autoloads xt_DADDR through the ipt_DADDR alias" \
	ipt nft 4 -t mangle -A $(rule_spec 4 PREROUTING)
check_out "default table parameter is one table: mangle" '^mangle$' \
	cat /sys/module/xt_DADDR/parameters/table
dmesg -C
check_sh "default: a raw rule is refused" \
	"! ip netns exec srv iptables-legacy -t raw -A $(rule_spec 4 PREROUTING)"
check_out "kernel says why (default)" "ip_tables: DADDR target: only valid in mangle table, not raw" dmesg
ipt nft 4 -t mangle -D $(rule_spec 4 PREROUTING)
check "rmmod (default)" rmmod_retry
# From here on both tables, our extension.
check "modprobe xt_DADDR table=raw,mangle" modprobe xt_DADDR table=raw,mangle
check_out "parameter reads back raw,mangle" '^raw,mangle$' cat /sys/module/xt_DADDR/parameters/table

# --- the matrix -----------------------------------------------------------------------------
run_matrix() { # run_matrix PARAM_LABEL PLACEMENTS...  (placement = table:chain)
	local plabel=$1 p b f t c label
	shift
	for p in "$@"; do
		t=${p%%:*} c=${p#*:}
		for b in legacy nft; do
			for f in 4 6; do
				label="$plabel, ip$([ $f = 6 ] && echo 6)tables-$b -t $t $c"
				if ! check "$label: rule accepted" ipt $b $f -t $t -A $(rule_spec $f $c); then
					continue
				fi
				traffic "$label" $f
				check_out "$label: rule counted the packets" "^ *[1-9][0-9]* .*DADDR" \
					ipt $b $f -t $t -L $c -v -n -x
				ipt $b $f -t $t -D $(rule_spec $f $c)
			done
		done
	done
}

if [ "$QUICK" = quick ]; then
	run_matrix "table=raw,mangle" raw:PREROUTING mangle:INPUT
else
	run_matrix "table=raw,mangle" raw:PREROUTING mangle:PREROUTING mangle:INPUT
fi

# Without checksum offload on the client, packets arrive CHECKSUM_NONE (full checksums) and
# the server's stack verifies every checksum DADDR rewrote.
in_ns cl ethtool -K cl0 tx off >/dev/null
in_ns lb ethtool -K lb1 tx off >/dev/null
for f in 4 6; do
	ipt legacy $f -t raw -A $(rule_spec $f PREROUTING)
	traffic "tx checksum offload off, IPv$f raw PREROUTING" $f
	ipt legacy $f -t raw -D $(rule_spec $f PREROUTING)
done
in_ns cl ethtool -K cl0 tx on >/dev/null
in_ns lb ethtool -K lb1 tx on >/dev/null

# IPv6 with a Destination Options header; with and without -p (ip6_tables computes the
# transport offset only for rules with -p; the module walks the headers otherwise).
for proto in "" "-p udp"; do
	in_ns srv ip6tables-legacy -t raw -A PREROUTING $proto $(rule_spec 6 "")
done
check_out "IPv6 + destination options: UDP reply from the VIP" "reply from .* \(VIP\); digest match" \
	in_ns cl $PEER udp $VIP6 $PORT 700 --dstopts
check_out "IPv6 + destination options: fragmented UDP intact" "reply from .* \(VIP\); digest match" \
	in_ns cl $PEER udp $VIP6 $PORT 5000 --dstopts
check_out "IPv6 + destination options: TCP 1 MiB intact" "digest match" \
	in_ns cl $PEER tcp $VIP6 $PORT 1048576 --dstopts
in_ns srv ip6tables-legacy -t raw -F PREROUTING

# --- print, save, restore -------------------------------------------------------------------
for b in legacy nft; do
	for f in 4 6; do
		x=$([ $f = 6 ] && echo 6)
		ipt $b $f -t raw -A $(rule_spec $f PREROUTING)
		check_out "ip${x}tables-$b -L prints 'DADDR set $(vip $f)'" "DADDR set $(vip $f)\$" \
			ipt $b $f -t raw -L PREROUTING -n
		check_out "ip${x}tables-$b-save prints '-j DADDR --set-daddr $(vip $f)'" \
			"^-A PREROUTING -m dscp --dscp 0x01 -j DADDR --set-daddr $(vip $f)\$" \
			in_ns srv ip${x}tables-$b-save -t raw
		in_ns srv ip${x}tables-$b-save -t raw >/tmp/saved
		ipt $b $f -t raw -F PREROUTING
		check "ip${x}tables-$b-restore accepts the saved rules" \
			in_ns srv ip${x}tables-$b-restore /tmp/saved
		check_sh "ip${x}tables-$b save/restore round trip is identical" \
			"ip netns exec srv ip${x}tables-$b-save -t raw | grep -E '^(\\*|-A|COMMIT)' >/tmp/again; grep -E '^(\\*|-A|COMMIT)' /tmp/saved | diff - /tmp/again"
		traffic "after ip${x}tables-$b-restore" $f
		ipt $b $f -t raw -F PREROUTING
	done
done

# --- refused rules --------------------------------------------------------------------------
dmesg -C
check_sh "a rule in the filter table is refused" \
	"! ip netns exec srv iptables-legacy -t filter -A INPUT -j DADDR --set-daddr $VIP4"
check_out "kernel says why (filter)" "ip_tables: DADDR target: only valid in raw or mangle table, not filter" dmesg
check_sh "ip6tables-nft rule in the filter table is refused" \
	"! ip netns exec srv ip6tables-nft -t filter -A INPUT -j DADDR --set-daddr $VIP6"
check_out "kernel says why (ip6, nft)" "ip6_tables: DADDR target: only valid in raw or mangle table, not filter" dmesg
check_sh "--set-daddr 0.0.0.0 is refused" \
	"! ip netns exec srv iptables-legacy -t raw -A PREROUTING -j DADDR --set-daddr 0.0.0.0"
check_out "kernel says why (unspecified)" "DADDR target: --set-daddr must not be the unspecified address" dmesg
check_sh "--set-daddr ff02::1 is refused" \
	"! ip netns exec srv ip6tables-legacy -t mangle -A INPUT -j DADDR --set-daddr ff02::1"
check_out "kernel says why (multicast)" "DADDR target: --set-daddr ff02::1 is multicast" dmesg

# --- rmmod refused while rules use the target; clean afterwards -----------------------------
ipt legacy 4 -t raw -A $(rule_spec 4 PREROUTING)
check_sh "rmmod refused while a rule uses DADDR" "! rmmod xt_DADDR"
ipt legacy 4 -t raw -F PREROUTING
check "rmmod xt_DADDR after the rules are gone" rmmod_retry

# --- table=raw and table=mangle -------------------------------------------------------------
check "modprobe xt_DADDR table=raw" modprobe xt_DADDR table=raw
check_out "parameter reads back raw" '^raw$' cat /sys/module/xt_DADDR/parameters/table
run_matrix "table=raw" raw:PREROUTING
dmesg -C
check_sh "table=raw: a mangle rule is refused" \
	"! ip netns exec srv iptables-nft -t mangle -A INPUT $(rule_spec 4 '')"
check_out "kernel says why (table=raw)" "ip_tables: DADDR target: only valid in raw table, not mangle" dmesg
check "rmmod (table=raw)" rmmod_retry

check "modprobe xt_DADDR table=mangle" modprobe xt_DADDR table=mangle
run_matrix "table=mangle" mangle:PREROUTING mangle:INPUT
dmesg -C
check_sh "table=mangle: a raw rule is refused" \
	"! ip netns exec srv ip6tables-legacy -t raw -A PREROUTING $(rule_spec 6 '')"
check_out "kernel says why (table=mangle)" "ip6_tables: DADDR target: only valid in mangle table, not raw" dmesg
check "rmmod (table=mangle)" rmmod_retry

dmesg -C
check_sh "table=filter is refused at load" "! modprobe xt_DADDR table=filter"
check_out "kernel says why (bad parameter)" "table=filter: must be raw, mangle or raw,mangle" dmesg

# The server's stack verified every CHECKSUM_NONE packet DADDR rewrote (tx offload off runs).
for c in "snmp Tcp InCsumErrors" "snmp Udp InCsumErrors" "snmp6 Udp6InCsumErrors" "snmp6 Icmp6InCsumErrors"; do
	set -- $c
	check_out "server: $2${3:+ $3} is 0" '^0$' snmp srv "$1" "$2${3:+ $3}"
done

kill $SERVER 2>/dev/null
tap_done
