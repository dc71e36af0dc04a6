#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 1200
#
# The upstream L3DSR host tool with our module and extension, as an operator of an existing
# fleet runs it: yahoo/l3dsr's ksh `dsrctl` reads /etc/dsr.d, loads xt_DADDR (its table from
# /etc/modprobe.d), reads /sys/module/xt_DADDR/parameters/table and passes it to
# `iptables -t`, adds the DADDR rules and the loopback VIPs, parses `iptables -L -n` for its
# status table, and removes everything again (module included) on stop. For IPv4 and IPv6,
# L3DSR and L2DSR entries, in the mangle table (the module's default) and the raw table
# (table=raw in modprobe.d), with iptables-nft and iptables-legacy as `iptables`.
#
# The upstream source is not in this repository: tests/vm/stage-l3dsr.sh (run by
# `make check-vm`) exports it from a local git copy into the root at /build/upstream-l3dsr;
# without it this case skips.
. /vm/src/tests/vm/tap.sh
set -u
UP=/build/upstream-l3dsr/linux/dsrtools
SYSXT=$(pkg-config --variable=xtlibdir xtables 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/xtables)
# dsrctl resets PATH but keeps the environment: iptables finds our extension through this.
export XTABLES_LIBDIR=/vm/bin:$SYSXT

if [ ! -f $UP/src/dsrctl.sh ]; then
	tap_ok "upstream dsrctl with our module # SKIP yahoo/l3dsr not staged (tests/vm/stage-l3dsr.sh, L3DSR_GIT)"
	tap_done
fi
echo "# upstream dsrtools at $(cat /build/upstream-l3dsr/REVISION)"
check "ksh installed (the upstream dsrctl is a ksh93 script)" command -v ksh
. /vm/src/kmod-daddr/tests/guest_module.sh
daddr_guest_ready
install -m 755 $UP/src/dsrctl.sh /tmp/dsrctl
dsrctl() { ksh /tmp/dsrctl "$@"; }

VIP4=198.18.0.250 VIP4B=198.18.0.251 L2VIP4=198.18.0.252
VIP6=fd00:1000::10 L2VIP6=fd00:1000::12
RIP4=10.9.0.1 CL4=10.9.0.2
mkdir -p /etc/dsr.d
# The upstream's format: VIP=DSCP (L3DSR), a bare VIP (L2DSR: loopback only), decimal or hex
# DSCP, spaces around '=', comments.
cat >/etc/dsr.d/vips.conf <<CONF
# L3DSR VIPs of the VM case
$VIP4=1
$VIP4B = 0x12   # hex DSCP
$VIP6=10
# L2DSR: only the loopback
$L2VIP4
$L2VIP6
CONF

# A client in a namespace sends DSCP-1 traffic to the server's real address: the rule dsrctl
# added must rewrite it (its counter grows).
ip netns add cl
ip link add cl0 netns cl type veth peer name sv0
ip addr add $RIP4/24 dev sv0
ip link set sv0 up
ip netns exec cl ip addr add $CL4/24 dev cl0
ip netns exec cl ip link set cl0 up
ip netns exec cl ip link set lo up

set_backend() { # set_backend legacy|nft: what `iptables`/`ip6tables` run
	update-alternatives --quiet --set iptables /usr/sbin/iptables-$1 &&
		update-alternatives --quiet --set ip6tables /usr/sbin/ip6tables-$1
}

unload() { # modprobe -r, retried: nft rule deletion releases the target after a grace period
	for _ in $(seq 20); do
		[ -e /sys/module/xt_DADDR ] || return 0
		modprobe -r xt_DADDR 2>/dev/null && return 0
		sleep 0.3
	done
	return 1
}

# The upstream dsrctl finds its IPv6 rules in `ip6tables -L -n` by field number, assuming
# ip6tables prints no `opt` column; iptables 1.8.11 (trixie) prints `--` there as iptables does,
# so dsrctl misses every IPv6 rule (status "partial", check fails, stop leaves the rule and so
# the module). A limitation of the upstream tool on current iptables, whatever the module:
# those assertions are skipped then, and the IPv6 rule is removed by hand after stop.
ip6tables -t mangle -A PREROUTING -m dscp --dscp 63 -j ACCEPT
if ip6tables -t mangle -L PREROUTING -n | grep -qE '^ACCEPT +all +-- '; then V6PARSE=0; else V6PARSE=1; fi
ip6tables -t mangle -D PREROUTING -m dscp --dscp 63 -j ACCEPT
V6SKIP="# SKIP the upstream dsrctl misparses ip6tables -L of iptables $(ip6tables --version | sed 's/.* v\([0-9.]*\).*/\1/') (opt column): it misses IPv6 rules"
skip6() { tap_ok "$1 $V6SKIP"; }

for table in mangle raw; do
	if [ $table = mangle ]; then
		rm -f /etc/modprobe.d/xt_DADDR.conf # the module's default
	else
		echo "options xt_DADDR table=raw" >/etc/modprobe.d/xt_DADDR.conf
	fi
	for backend in nft legacy; do
		l="table $table, iptables-$backend"
		check "$l: xt_DADDR not loaded before start" unload
		if ! check "$l: iptables is iptables-$backend" set_backend $backend; then continue; fi

		check "$l: dsrctl start" dsrctl start
		check_out "$l: the module loaded with table $table" "^$table\$" \
			cat /sys/module/xt_DADDR/parameters/table
		check_out "$l: IPv4 rule in $table" \
			"^-A PREROUTING -m dscp --dscp 0x01 -j DADDR --set-daddr $VIP4\$" iptables -t $table -S PREROUTING
		check_out "$l: IPv4 rule with hex DSCP in $table" \
			"^-A PREROUTING -m dscp --dscp 0x12 -j DADDR --set-daddr $VIP4B\$" iptables -t $table -S PREROUTING
		check_out "$l: IPv6 rule in $table" \
			"^-A PREROUTING -m dscp --dscp 0x0a -j DADDR --set-daddr $VIP6\$" ip6tables -t $table -S PREROUTING
		check_sh "$l: exactly 3 DADDR rules (none for the L2DSR VIPs)" \
			"[ \$( { iptables -t $table -S PREROUTING; ip6tables -t $table -S PREROUTING; } | grep -c DADDR) = 3 ]"
		for a in $VIP4 $VIP4B $L2VIP4; do
			check_out "$l: $a/32 on lo with a lo:N label" "inet $a/32 .* lo:[0-9]+" ip -o -4 addr show dev lo
		done
		for a in $VIP6 $L2VIP6; do
			check_out "$l: $a/128 on lo" "inet6 $a/128 " ip -o -6 addr show dev lo
		done
		st=$(dsrctl status 2>&1)
		rc=$?
		check_sh "$l: dsrctl status exits 0" "[ $rc = 0 ]"
		v6line="l3dsr started $VIP6 +$VIP6 +10 +lo +up"
		[ $V6PARSE = 1 ] || { skip6 "$l: status: $v6line"; v6line=""; }
		for line in "l3dsr started $VIP4 +$VIP4 +1 +lo:[0-9]+ +up" \
			"l3dsr started $VIP4B +$VIP4B +(0x12|18) +lo:[0-9]+ +up" \
			${v6line:+"$v6line"} \
			"l2dsr started $L2VIP4 +$L2VIP4 +-- +lo:[0-9]+ +-- *" \
			"l2dsr started $L2VIP6 +$L2VIP6 +-- +lo +-- *"; do
			if printf '%s\n' "$st" | grep -qE "^$line\$"; then
				tap_ok "$l: status: ${line%% +*} ${line#* }"
			else
				tap_not_ok "$l: status: $line" "$st"
			fi
		done
		check_out "$l: dsrctl -a status names the table" "^l3dsr started $VIP4 +$VIP4 +1 +lo:[0-9]+ +up +$table +conf" \
			dsrctl -a status
		if [ $V6PARSE = 1 ]; then check "$l: dsrctl check" dsrctl check; else skip6 "$l: dsrctl check"; fi
		check "$l: dsrctl start again" dsrctl start
		check_sh "$l: still 2 IPv4 DADDR rules after a second start" \
			"[ \$(iptables -t $table -S PREROUTING | grep -c DADDR) = 2 ]"
		if [ $V6PARSE = 1 ]; then
			check_sh "$l: still 1 IPv6 DADDR rule after a second start" \
				"[ \$(ip6tables -t $table -S PREROUTING | grep -c DADDR) = 1 ]"
		else skip6 "$l: still 1 IPv6 DADDR rule after a second start"; fi

		iptables -t $table -Z PREROUTING
		ip netns exec cl ping -c 2 -W 1 -i 0.3 -Q 0x04 $RIP4 >/dev/null 2>&1
		check_out "$l: the IPv4 rule rewrote DSCP-1 packets" \
			"^ *[1-9][0-9]* +[0-9]+ +DADDR .*DADDR set $VIP4\$" iptables -t $table -L PREROUTING -v -n -x

		check "$l: dsrctl stop" dsrctl stop
		check_sh "$l: no IPv4 DADDR rule left" "! iptables -t $table -S PREROUTING | grep -q DADDR"
		check_sh "$l: no VIP left on lo" "! ip -o addr show dev lo | grep -qE '$VIP4/|$VIP4B/|$L2VIP4/|$VIP6/|$L2VIP6/'"
		if [ $V6PARSE = 1 ]; then
			check_sh "$l: no IPv6 DADDR rule left" "! ip6tables -t $table -S PREROUTING | grep -q DADDR"
			check_sh "$l: dsrctl stop removed the module" "! [ -e /sys/module/xt_DADDR ]"
		else
			skip6 "$l: no IPv6 DADDR rule left, module removed"
			while ip6tables -t $table -D PREROUTING -m dscp --dscp 10 -j DADDR --set-daddr $VIP6 2>/dev/null; do :; done
		fi
		check_out "$l: status after stop: stopped" "^l3dsr stopped $VIP4 +$VIP4 +1 +-- +--\$" \
			sh -c "ksh /tmp/dsrctl status; true"
	done
done
rm -f /etc/modprobe.d/xt_DADDR.conf
check_sh "no KASAN or WARNING in dmesg" "! dmesg | grep -qE 'KASAN|WARNING:'"
tap_done
