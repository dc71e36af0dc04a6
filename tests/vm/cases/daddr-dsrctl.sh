#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 1800
#
# Our dsrctl (userspace/dsrctl, /vm/bin/dsrctl) against the upstream dsrtools' own test suite
# (yahoo/l3dsr linux/dsrtools/tests): every test directory, run by the suite's runtest exactly as
# its Makefile does (`cd DIR && DSRCTL=... Tname=DIR ../runtest -t TABLE`), with our module and
# extension, in the mangle and the raw table, with iptables-nft and iptables-legacy as
# `iptables`. One TAP line per upstream test and combination; the suite compares dsrctl's whole
# output and exit status with its expected.* files, which are used unchanged.
#
# One expected file is not ours to match: expected.stop.5 of ip4.validation.d is the upstream's
# -h usage text, and dsrctl prints a help text of its own (we do not copy the upstream's prose).
# That directory is run with the suite's own -i (go on after a difference) and passes when the
# usage text is its only difference; `dsrctl -h` is checked separately.
#
# Under TCG one upstream test takes ~14 s (each is several dsrctl runs, each several iptables
# and modprobe runs), so `make check` runs every test twice, not four times: with iptables-nft in
# the mangle table and with iptables-legacy in the raw table, so that both tables and both
# backends are covered. All four combinations (~36 min), or any part, by hand:
#   tests/vm/vm.sh run --timeout 3000 tests/vm/cases/daddr-dsrctl.sh \
#       "nft:mangle nft:raw legacy:mangle legacy:raw"
#
# The upstream source is not in this repository: tests/vm/stage-l3dsr.sh (run by
# `make check-vm`) exports it into the root at /build/upstream-l3dsr; without it this case skips.
. /vm/src/tests/vm/tap.sh
set -u
UP=/build/upstream-l3dsr/linux/dsrtools
SYSXT=$(pkg-config --variable=xtlibdir xtables 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/xtables)
# The suite runs dsrctl with an empty PATH but the environment kept: iptables finds our
# extension through this.
export XTABLES_LIBDIR=/vm/bin:$SYSXT
DSRCTL=/vm/bin/dsrctl
COMBOS=${1:-nft:mangle legacy:raw}

if [ ! -d $UP/tests ]; then
	tap_ok "upstream dsrtools test suite with our dsrctl # SKIP yahoo/l3dsr not staged (tests/vm/stage-l3dsr.sh, L3DSR_GIT)"
	tap_done
fi
echo "# upstream dsrtools at $(cat /build/upstream-l3dsr/REVISION)"
if [ ! -x $DSRCTL ]; then
	tap_not_ok "dsrctl in /vm/bin" "build it (cargo build --release -p dsrctl) and set VM_BIN_DIR"
	tap_done
fi
check "ksh installed (the upstream test suite is ksh93)" command -v ksh
. /vm/src/kmod-daddr/tests/guest_module.sh
daddr_guest_ready
check_out "the module takes a table parameter (the suite then runs mangle and raw)" . \
	modinfo --field parm xt_DADDR

# The suite writes into its directories (expected files expanded from templates, runtest and
# trun made from their .sh): a writable copy.
rm -rf /tmp/dsrtools && cp -a $UP /tmp/dsrtools
T=/tmp/dsrtools/tests
install -m 755 $T/runtest.sh $T/runtest
for d in $T/*.d; do [ -f $d/trun.sh ] && install -m 755 $d/trun.sh $d/trun; done
# ip4.l3.011.d uses the host's own name as an FQDN VIP, as on a real server whose name resolves
# to its own address: give the guest an address on an interface and its name that address (the
# first line for the name in /etc/hosts; getaddrinfo skips IPv4 names while no interface but lo
# has an IPv4 address).
ip link add dsrh0 type veth peer name dsrh1 && ip addr add 198.18.9.9/24 dev dsrh0 &&
	ip link set dsrh0 up && ip link set dsrh1 up
# The only line for the name (with "multi on" in host.conf every matching line is returned).
{ echo "198.18.9.9 $(uname -n)"; grep -vw -- "$(uname -n)" /etc/hosts; } >/tmp/hosts.new &&
	cat /tmp/hosts.new >/etc/hosts
check_sh "the guest's name resolves to its address only" \
	"[ \"\$(getent ahostsv4 \"\$(uname -n)\" | awk '/STREAM/ {print \$1}')\" = 198.18.9.9 ]"

check_out "dsrctl -h prints our usage and exits 0" '^Usage: dsrctl ' $DSRCTL -h

set_backend() { # set_backend legacy|nft: what `iptables`/`ip6tables` run
	update-alternatives --quiet --set iptables /usr/sbin/iptables-$1 &&
		update-alternatives --quiet --set ip6tables /usr/sbin/ip6tables-$1
}

pass=0 fail=0 skip=0
for combo in $COMBOS; do
	backend=${combo%%:*} table=${combo#*:}
	if ! check "iptables is iptables-$backend" set_backend $backend; then continue; fi
	for dir in $T/*.d; do
		name=${dir##*/}
		name=${name%.d}
		what="upstream $name ($table, iptables-$backend)"
		if [ $name = ip4.validation ]; then
			out=$(cd $dir && DSRCTL=$DSRCTL Tname=${dir##*/} ../runtest -t $table -i 2>&1)
			# Which expected files differed: "The above difference is with FILE."
			diffs=$(printf '%s\n' "$out" | sed -n 's/^The above difference is with \(.*\)\.$/\1/p' | sort -u | tr '\n' ' ')
			rcs=$(printf '%s\n' "$out" | grep -c '^Cmd: .* Actual rv=' || true)
			if [ "$diffs" = "expected.stop.5 " ] && [ "$rcs" = 0 ]; then
				tap_ok "$what: every step matches but the -h usage text (ours)"
				pass=$((pass + 1))
			else
				tap_not_ok "$what" "$out"
				fail=$((fail + 1))
			fi
			continue
		fi
		out=$(cd $dir && DSRCTL=$DSRCTL Tname=${dir##*/} ../runtest -t $table 2>&1)
		rc=$?
		if printf '%s\n' "$out" | grep -q '^===== NOIPV6:'; then
			tap_ok "$what # SKIP IPv6 disabled in the guest"
			skip=$((skip + 1))
		elif [ $rc = 0 ] && printf '%s\n' "$out" | grep -q '^===== PASSED:'; then
			tap_ok "$what"
			pass=$((pass + 1))
		else
			tap_not_ok "$what" "$out"
			fail=$((fail + 1))
		fi
	done
done
echo "# upstream suite with our dsrctl: $pass passed, $fail failed, $skip skipped"
# The suite's cleanup is `dsrctl -f /dev/null -a stop`: nothing of it may be left.
check_sh "no DADDR rule left (legacy and nft)" \
	"! { iptables-legacy-save; ip6tables-legacy-save; iptables-nft-save; ip6tables-nft-save; } 2>/dev/null | grep -q DADDR"
check_sh "no VIP left on lo" "[ \$(ip -o addr show dev lo | grep -cvE ' (127\.0\.0\.1/8|::1/128) ') = 0 ]"
rm -f /etc/modprobe.d/~~~dsrtest.conf
check_sh "no KASAN or WARNING in dmesg" "! dmesg | grep -qE 'KASAN|WARNING:'"
tap_done
