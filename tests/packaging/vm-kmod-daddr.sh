#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 300
#
# Guest half of the kmod-daddr package test (run by check-packages.sh through tests/vm/vm.sh):
# the module from the kmod-daddr RPM loads into the reference kernel, and the package's real
# %preun scriptlet (extracted with rpm -qp --qf '%{PREUN}') refuses the erase while a rule uses
# DADDR, for iptables and ip6tables, legacy and nft, in this and in another network namespace,
# lets an upgrade through, and lets the erase through (unloading the module) once no rule is left.
# /vm/bin holds the RPM payloads: xt_DADDR.ko, libxt_DADDR.so, and preun.sh.
. /vm/src/tests/vm/tap.sh
set -u
SYSXT=$(pkg-config --variable=xtlibdir xtables 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/xtables)
export XTABLES_LIBDIR=/vm/bin:$SYSXT
PREUN=/vm/bin/preun.sh

# The scriptlet as rpm runs it: /bin/sh SCRIPT ARG, ARG 0 on erase, 1 on upgrade.
preun() { sh "$PREUN" "$1"; }
refuses() { # refuses WHAT: the erase fails and says why
	if out=$(preun 0 2>&1); then
		tap_not_ok "%preun refuses the erase while $1" "exit 0; output: $out"
	elif printf '%s\n' "$out" | grep -q 'refusing to remove.*DADDR'; then
		tap_ok "%preun refuses the erase while $1"
	else
		tap_not_ok "%preun refuses the erase while $1 (with a message)" "$out"
	fi
}

check "xt_DADDR.ko from the kmod-daddr RPM is for the running kernel" \
	sh -c "modinfo -F vermagic /vm/bin/xt_DADDR.ko | grep -q \"^$(uname -r) \""
# table=raw,mangle: the rules below use both tables (the default is mangle alone).
check "insmod of the RPM's xt_DADDR.ko" insmod /vm/bin/xt_DADDR.ko table=raw,mangle
check "the loaded module is the RPM's (srcversion)" \
	test "$(cat /sys/module/xt_DADDR/srcversion)" = "$(modinfo -F srcversion /vm/bin/xt_DADDR.ko)"
check "%preun lets the erase through with no rule (module loaded, unused)" preun 0
check "%preun unloaded the unused module" test ! -e /sys/module/xt_DADDR
check "insmod again" insmod /vm/bin/xt_DADDR.ko table=raw,mangle

for v in legacy nft; do
	for fam in 4 6; do
		if [ $fam = 4 ]; then ipt=iptables-$v addr=198.18.0.250; else ipt=ip6tables-$v addr=fd00:1000::10; fi
		for table in raw mangle; do
			rule="-t $table -A PREROUTING -m dscp --dscp 1 -j DADDR --set-daddr $addr"
			if ! check "$ipt $rule" $ipt $rule; then continue; fi
			check_out "${ipt}-save shows the rule" "-j DADDR --set-daddr $addr" ${ipt}-save -t $table
			refuses "an $ipt rule in $table uses DADDR"
			check "%preun lets an upgrade through while the rule is there" preun 1
			check "the module stays loaded after the refused erase" test -e /sys/module/xt_DADDR
			check "$ipt: delete the rule" $ipt ${rule/-A/-D}
		done
	done
done

# Rules in another network namespace hold the module too (iptables-save here does not see them).
ip netns add other
check "a DADDR rule in another network namespace" \
	ip netns exec other iptables-nft -t raw -A PREROUTING -j DADDR --set-daddr 198.18.0.250
refuses "a rule in another network namespace uses DADDR"
check "delete the rule in the other namespace" \
	ip netns exec other iptables-nft -t raw -D PREROUTING -j DADDR --set-daddr 198.18.0.250
ip netns del other
# nft rule deletion releases the target after an RCU grace period: give it a moment.
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(awk '$1 == "xt_DADDR" { print $3 }' /proc/modules)" = 0 ] && break
	sleep 0.5
done
check "%preun lets the erase through once every rule is gone" preun 0
check "%preun unloaded the module (rmmod clean)" test ! -e /sys/module/xt_DADDR
tap_done
