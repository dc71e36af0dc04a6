#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 1200
#
# Bench (issue 15 item 3): per-packet cost of the DADDR target against nftables' own payload
# rewrite (`ip daddr set` / `ip6 daddr set`), same guest kernel, same match (DSCP 1), same
# traffic, IPv4 and IPv6. Under TCG only ratios mean anything.
#
# cl --veth-- srv. The client sends a UDP flood of small DSCP-1 datagrams (iperf3 -u -b 0)
# to the server's address; srv's prerouting runs K rules that each rewrite the destination to
# the address it already has, so the traffic is unchanged while every rule does the full
# rewrite and checksum update. veth delivers in the sender's context, so the packet rate the
# client achieves falls with the per-packet cost of the rules:
#   per-rule cost = (1/pps_rules - 1/pps_none) / K
# for DADDR through iptables-legacy, DADDR through iptables-nft (nft_compat) and the native
# nft rule; the ratio DADDR/nft is printed (goal: <= 1).
#
# Where the time goes: each framework is also run with the same K rules holding only the match
# (`-m dscp --dscp 1` without a target; `ip dscp 1` without a statement). A rule's cost minus its
# match-only rule's is what the rewrite itself costs there (the DADDR target behind x_tables'
# or nft_compat's call, nft's payload statement), and the match-only rule is what the framework
# charges for finding the packet (rule walk, per-rule counters, the xt dscp match or nft's
# payload compare), the same for any target.
#
# When perf is staged (tests/bench/stage-perf.sh, which make bench runs), each of the three rule
# sets is run once more under `perf record -a` (cpu-clock: TCG has no PMU) and the heaviest
# kernel symbols are printed as "# profile:" lines; a third argument other than `profile` skips it.
# Every figure is the median of RUNS (3) floods.
#   tests/vm/vm.sh run tests/bench/daddr-bench.sh [K] [SECONDS] [profile] [RUNS]
. /vm/src/tests/vm/tap.sh
set -u
K=${1:-40}
SECS=${2:-5}
PROFILE=${3:-profile}
RUNS=${4:-3}
PERF=/vm/src/target/perf-root/usr/bin/perf
RIP4=10.7.0.1 CL4=10.7.0.2 RIP6=fd07::1 CL6=fd07::2
SYSXT=$(pkg-config --variable=xtlibdir xtables 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/xtables)
export XTABLES_LIBDIR=/vm/bin:$SYSXT

. /vm/src/kmod-daddr/tests/guest_module.sh
daddr_guest_ready
check "modprobe xt_DADDR" modprobe xt_DADDR
check "iperf3 installed" command -v iperf3

ip netns add cl
ip netns add srv
ip link add cl0 netns cl type veth peer name sv0 netns srv
for ns in cl srv; do ip netns exec $ns ip link set lo up; done
ip netns exec srv ip addr add $RIP4/24 dev sv0
ip netns exec srv ip addr add $RIP6/64 dev sv0 nodad
ip netns exec cl ip addr add $CL4/24 dev cl0
ip netns exec cl ip addr add $CL6/64 dev cl0 nodad
ip netns exec srv ip link set sv0 up
ip netns exec cl ip link set cl0 up

# profile FAMILY LABEL: one flood under perf; the 15 heaviest symbols as "# profile:" lines.
profile() {
	local addr=$RIP4 data=/tmp/perf.$1.$2
	[ "$1" = 6 ] && addr=$RIP6
	ip netns exec srv iperf3 -s -1 >/dev/null 2>&1 &
	sleep 0.5
	LD_LIBRARY_PATH=/vm/src/target/perf-root/usr/lib/x86_64-linux-gnu \
		$PERF record -q -a -e cpu-clock -o "$data" -- \
		ip netns exec cl iperf3 -c "$addr" -u -b 0 -l 64 -S 4 -t "$SECS" >/dev/null 2>&1
	wait
	LD_LIBRARY_PATH=/vm/src/target/perf-root/usr/lib/x86_64-linux-gnu \
		$PERF report -q -i "$data" --stdio --sort sym 2>/dev/null |
		grep -v '^$' | head -15 | sed "s/^/# profile: IPv$1 $2: /"
	rm -f "$data"
}

# pps FAMILY: datagrams per second the client sent (and the server received), one run.
pps() {
	local addr=$RIP4 out
	[ "$1" = 6 ] && addr=$RIP6
	# The server exits after each test (-1): start a fresh one.
	ip netns exec srv iperf3 -s -1 >/dev/null 2>&1 &
	sleep 0.5
	out=$(ip netns exec cl iperf3 -c "$addr" -u -b 0 -l 64 -S 4 -t "$SECS" -J 2>/dev/null)
	wait
	printf '%s' "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)["end"]["sum"]
print("%.1f" % ((r["packets"] - r["lost_packets"]) / r["seconds"]))'
}

# median_pps FAMILY: the median of RUNS floods (a single 5 s flood under TCG on a shared host
# varies by more than the cost of the rules being compared).
median_pps() {
	local i
	for i in $(seq "$RUNS"); do pps "$1"; done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

rules_xt() { # rules_xt legacy|nft FAMILY add|flush [match-only]
	local tool=iptables-$1 addr=$RIP4 i target
	[ "$2" = 6 ] && tool=ip6tables-$1 addr=$RIP6
	if [ "$3" = flush ]; then
		ip netns exec srv $tool -t mangle -F PREROUTING
		return
	fi
	target="-j DADDR --set-daddr $addr"
	[ "${4:-}" = match-only ] && target=""
	for i in $(seq "$K"); do
		# shellcheck disable=SC2086 # $target is words
		ip netns exec srv $tool -t mangle -A PREROUTING -m dscp --dscp 1 $target || return 1
	done
}

rules_nft() { # rules_nft FAMILY add|flush [match-only]
	local fam=ip addr=$RIP4 i stmt
	[ "$1" = 6 ] && fam=ip6 addr=$RIP6
	if [ "$2" = flush ]; then
		ip netns exec srv nft delete table $fam bench
		return
	fi
	stmt="$fam daddr set $addr"
	[ "${3:-}" = match-only ] && stmt=""
	{
		echo "table $fam bench {"
		echo " chain pre {"
		echo "  type filter hook prerouting priority mangle; policy accept;"
		for i in $(seq "$K"); do echo "  $fam dscp 1 $stmt"; done
		echo " }"
		echo "}"
	} | ip netns exec srv nft -f -
}

cost() { # cost PPS_RULES PPS_NONE: ns per rule per packet (TCG ns: ratios only)
	echo "(1/$1 - 1/$2) * 1000000000 / $K" | bc -l
}

for f in 4 6; do
	v=IPv$f
	leg="" cmp="" nat=""
	base=$(median_pps $f)
	check_out "$v: baseline flood without rules" "^[1-9]" echo "${base:-}"
	xt=iptables
	[ $f = 6 ] && xt=ip6tables
	if rules_xt legacy $f add; then
		leg=$(median_pps $f)
		check_out "$v: the DADDR rules (iptables-legacy) saw the flood" "^ *[1-9][0-9]* .*DADDR" \
			ip netns exec srv $xt-legacy -t mangle -L PREROUTING -v -n -x
		rules_xt legacy $f flush
	fi
	check_out "$v: flood through $K DADDR rules (iptables-legacy)" "^[1-9]" echo "${leg:-}"
	if rules_xt nft $f add; then
		cmp=$(median_pps $f)
		check_out "$v: the DADDR rules (iptables-nft) saw the flood" "^ *[1-9][0-9]* .*DADDR" \
			ip netns exec srv $xt-nft -t mangle -L PREROUTING -v -n -x
		rules_xt nft $f flush
	fi
	check_out "$v: flood through $K DADDR rules (iptables-nft, nft_compat)" "^[1-9]" echo "${cmp:-}"
	if rules_nft $f add; then
		nat=$(median_pps $f)
		rules_nft $f flush
	fi
	check_out "$v: flood through $K native nft 'daddr set' rules" "^[1-9]" echo "${nat:-}"
	# The same rules holding only their match: what finding the packet costs in each framework.
	mo_leg="" mo_cmp="" mo_nat=""
	if rules_xt legacy $f add match-only; then
		mo_leg=$(median_pps $f)
		rules_xt legacy $f flush
	fi
	if rules_xt nft $f add match-only; then
		mo_cmp=$(median_pps $f)
		rules_xt nft $f flush
	fi
	if rules_nft $f add match-only; then
		mo_nat=$(median_pps $f)
		rules_nft $f flush
	fi
	check_out "$v: flood through $K match-only rules in each framework" "^[1-9][0-9.]* [1-9][0-9.]* [1-9]" \
		echo "${mo_leg:-} ${mo_cmp:-} ${mo_nat:-}"
	[ -n "$base" ] && [ -n "$leg" ] && [ -n "$cmp" ] && [ -n "$nat" ] || continue
	c_leg=$(cost "$leg" "$base") c_cmp=$(cost "$cmp" "$base") c_nat=$(cost "$nat" "$base")
	printf '# bench: daddr-vs-nft %s rules=%d pps_none=%.0f pps_daddr_legacy=%.0f pps_daddr_nftcompat=%.0f pps_nft=%.0f\n' \
		"$v" "$K" "$base" "$leg" "$cmp" "$nat"
	printf '# bench: daddr-vs-nft %s per_rule_ns(tcg) daddr_legacy=%.1f daddr_nftcompat=%.1f nft=%.1f ratio_legacy=%.2f ratio_nftcompat=%.2f\n' \
		"$v" "$c_leg" "$c_cmp" "$c_nat" "$(echo "$c_leg / $c_nat" | bc -l)" "$(echo "$c_cmp / $c_nat" | bc -l)"
	[ -n "$mo_leg" ] && [ -n "$mo_cmp" ] && [ -n "$mo_nat" ] || continue
	m_leg=$(cost "$mo_leg" "$base") m_cmp=$(cost "$mo_cmp" "$base") m_nat=$(cost "$mo_nat" "$base")
	t_leg=$(echo "$c_leg - $m_leg" | bc -l) t_cmp=$(echo "$c_cmp - $m_cmp" | bc -l) t_nat=$(echo "$c_nat - $m_nat" | bc -l)
	printf '# bench: daddr-vs-nft %s match_only_ns(tcg) legacy=%.1f nftcompat=%.1f nft=%.1f\n' \
		"$v" "$m_leg" "$m_cmp" "$m_nat"
	printf '# bench: daddr-vs-nft %s rewrite_only_ns(tcg) daddr_legacy=%.1f daddr_nftcompat=%.1f nft_set=%.1f ratio_legacy=%.2f ratio_nftcompat=%.2f\n' \
		"$v" "$t_leg" "$t_cmp" "$t_nat" "$(echo "$t_leg / $t_nat" | bc -l)" "$(echo "$t_cmp / $t_nat" | bc -l)"
done
if [ "$PROFILE" = profile ]; then
	if [ -x $PERF ]; then
		sysctl -qw kernel.perf_event_paranoid=-1 kernel.kptr_restrict=0
		for f in 4 6; do
			rules_xt legacy $f add && profile $f daddr-legacy && rules_xt legacy $f flush
			rules_xt nft $f add && profile $f daddr-nftcompat && rules_xt nft $f flush
			rules_nft $f add && profile $f nft && rules_nft $f flush
		done
	else
		echo "# profile: no perf at $PERF (tests/bench/stage-perf.sh stages it)"
	fi
fi
check_sh "no KASAN or WARNING in dmesg" "! dmesg | grep -qE 'KASAN|WARNING:'"
tap_done
