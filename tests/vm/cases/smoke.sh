#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 300
#
# Smoke test of the VM kernel and root: the modules the project needs load, IPVS can be
# configured, namespaces + veth carry traffic, iptables (legacy and nft) and nft match and
# rewrite DSCP on real packets. Runs as a guest script under tests/vm/vm.sh.
. /vm/src/tests/vm/tap.sh

# --- kernel ---
check_sh "KASAN is active in the test kernel" 'dmesg | grep -q "KernelAddressSanitizer initialized"'
check_out "kernel is the harness kernel ($VM_KVER)" "^${VM_KVER//./\\.}\$" uname -r

# --- modules ---
for m in ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_dh ip_vs_sh \
	ip_vs_sed ip_vs_nq ppp_generic ppp_async l2tp_ppp pppoe rust_minimal; do
	check "modprobe $m" modprobe "$m"
done
check_sh "Rust sample module ran its init" 'dmesg | grep -q "Rust minimal sample"'
check "rmmod rust_minimal" rmmod rust_minimal
check "/dev/ppp exists once ppp_generic is loaded" test -c /dev/ppp

# --- IPVS through ipvsadm (netlink) ---
check "ipvsadm -A tcp service with wlc" ipvsadm -A -t 10.0.0.1:80 -s wlc
check "ipvsadm -a masq real server weight 3" ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 3
check "ipvsadm -A udp service with sh" ipvsadm -A -u 10.0.0.1:53 -s sh
check "ipvsadm -A IPv6 tcp service" ipvsadm -A -t '[fd00::1]:443' -s rr
check "ipvsadm -a IPv6 real server (tunnel)" ipvsadm -a -t '[fd00::1]:443' -r '[fd00::2]:443' -i
check_out "ipvsadm -Ln lists the wlc service" 'TCP +10\.0\.0\.1:80 wlc' ipvsadm -Ln
check_out "ipvsadm -Ln lists the real server as Masq weight 3" '10\.0\.0\.2:8080 +Masq +3 ' ipvsadm -Ln
check_out "ipvsadm -Ln lists the IPv6 service" 'TCP +\[fd00::1\]:443 rr' ipvsadm -Ln
check "ipvsadm -C clears the table" ipvsadm -C
check_sh "table is empty after -C" '! ipvsadm -Ln | grep -q "^TCP\|^UDP"'

# --- netns + veth ---
ip netns add peer
ip link add veth0 type veth peer name veth1 netns peer
ip addr add 192.0.2.1/24 dev veth0
ip -6 addr add 2001:db8::1/64 dev veth0 nodad
ip link set veth0 up
ip -n peer addr add 192.0.2.2/24 dev veth1
ip -n peer -6 addr add 2001:db8::2/64 dev veth1 nodad
ip -n peer link set veth1 up
ip -n peer link set lo up
check "IPv4 ping across veth into a netns" ping -c 1 -W 3 192.0.2.2
check "IPv6 ping across veth into a netns" ping -6 -c 1 -W 3 2001:db8::2

# --- iptables: legacy marks DSCP on the way out, nft counts it on the way in (and back) ---
# Counters are read back, so each rule must have seen the packets, not merely been accepted.
pkts() { # pkts NETNS-CMD... : packet count of the first rule in the listing given
	"$@" | awk 'NR>2 && $1 ~ /^[0-9]+$/ {print $1; exit}'
}
check "iptables-legacy mangle: set DSCP 0x2e on output to veth0" \
	iptables-legacy -t mangle -A OUTPUT -o veth0 -p icmp -j DSCP --set-dscp 0x2e
check "iptables-legacy raw: -m dscp rule" \
	iptables-legacy -t raw -A PREROUTING -i veth0 -m dscp --dscp 0x0a
check "iptables-nft (in netns) raw: -m dscp rule" \
	ip netns exec peer iptables-nft -t raw -A PREROUTING -i veth1 -m dscp --dscp 0x2e
# Echo replies copy the request's TOS, so the peer marks them with a different value.
check "iptables-nft (in netns) mangle: set DSCP 0x0a on echo replies" \
	ip netns exec peer iptables-nft -t mangle -A OUTPUT -p icmp --icmp-type echo-reply -j DSCP --set-dscp 0x0a
check "ip6tables-legacy mangle: -m dscp rule" \
	ip6tables-legacy -t mangle -A PREROUTING -m dscp --dscp 0x2e
check "ip6tables-legacy raw: -m dscp rule" ip6tables-legacy -t raw -A PREROUTING -m dscp --dscp 0x2e
ping -c 3 -i 0.2 -W 3 192.0.2.2 >/dev/null
n=$(pkts ip netns exec peer iptables-nft -t raw -L PREROUTING -v -n -x)
check "iptables-nft -m dscp counted the legacy-marked requests (got ${n:-none})" test "${n:-0}" -ge 3
n=$(pkts iptables-legacy -t raw -L PREROUTING -v -n -x)
check "iptables-legacy -m dscp counted the nft-marked replies (got ${n:-none})" test "${n:-0}" -ge 3

# --- nft: payload mangling of dscp and daddr, IPv4 and IPv6 ---
check "nft: ip/ip6 dscp set rules" nft -f - <<'EOF'
table inet smoke {
	chain out {
		type filter hook output priority 0;
		ip daddr 192.0.2.2 icmp type echo-request ip dscp set af41 counter
		ip6 daddr 2001:db8::2 icmpv6 type echo-request ip6 dscp set af41 counter
	}
}
EOF
check "nft (in netns): ip/ip6 dscp match rules" ip netns exec peer nft -f - <<'EOF'
table inet seen {
	chain in {
		type filter hook prerouting priority -300;
		ip dscp af41 counter
		ip6 dscp af41 counter
	}
}
EOF
ping -c 2 -i 0.2 -W 3 192.0.2.2 >/dev/null
ping -6 -c 2 -i 0.2 -W 3 2001:db8::2 >/dev/null
check_out "nft ip dscp set: peer counted af41 IPv4 packets" 'ip dscp af41 counter packets [1-9]' \
	ip netns exec peer nft list table inet seen
check_out "nft ip6 dscp set: peer counted af41 IPv6 packets" 'ip6 dscp af41 counter packets [1-9]' \
	ip netns exec peer nft list table inet seen

# Destination rewrite in a route chain (re-routed after the change). The datagram only reaches
# the peer's socket if nft also fixed the UDP checksum over the pseudo-header.
check "nft: ip/ip6 daddr set rules" nft -f - <<'EOF'
table ip rw4 {
	chain out {
		type route hook output priority -150;
		ip daddr 198.51.100.7 ip daddr set 192.0.2.2 counter
	}
}
table ip6 rw6 {
	chain out {
		type route hook output priority -150;
		ip6 daddr 2001:db8:ffff::7 ip6 daddr set 2001:db8::2 counter
	}
}
EOF
ip route add 198.51.100.0/24 dev veth0
ip -6 route add 2001:db8:ffff::/64 dev veth0
ip netns exec peer socat -u UDP4-RECV:9999 OPEN:/tmp/got4,creat,append &
recv4=$!
ip netns exec peer socat -u UDP6-RECV:9999,ipv6only=1 OPEN:/tmp/got6,creat,append &
recv6=$!
udp_delivered() { # udp_delivered FILE SOCAT-ADDRESS: send until FILE shows the datagram
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		echo "datagram" | socat -u - "$2"
		sleep 0.3
		grep -q datagram "$1" 2>/dev/null && return 0
	done
	return 1
}
check "nft ip daddr set: UDP to 198.51.100.7 delivered to 192.0.2.2 with a valid checksum" \
	udp_delivered /tmp/got4 UDP4-SENDTO:198.51.100.7:9999
check_out "nft ip daddr set rule counted it" 'ip daddr set 192\.0\.2\.2 counter packets [1-9]' \
	nft list table ip rw4
check "nft ip6 daddr set: UDP to 2001:db8:ffff::7 delivered to 2001:db8::2 with a valid checksum" \
	udp_delivered /tmp/got6 'UDP6-SENDTO:[2001:db8:ffff::7]:9999'
check_out "nft ip6 daddr set rule counted it" 'ip6 daddr set 2001:db8::2 counter packets [1-9]' \
	nft list table ip6 rw6
kill $recv4 $recv6 2>/dev/null

# --- tools other cases rely on ---
check "python3 scapy imports and builds an IPv4/UDP packet" \
	python3 -c 'from scapy.all import IP, UDP; p = IP(bytes(IP(dst="192.0.2.2")/UDP(dport=1701))); assert p[UDP].dport == 1701'
check "/etc is writable (overlay)" sh -c 'echo test >/etc/vm-smoke && rm /etc/vm-smoke'
check "the repository is visible read-only at /vm/src" \
	sh -c 'test -f /vm/src/tests/vm/vm.sh && ! touch /vm/src/.vm-write-test 2>/dev/null'
check "the scratch share is writable" sh -c 'echo ok >/vm/scratch/smoke-written'

tap_done
