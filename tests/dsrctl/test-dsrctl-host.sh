#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# dsrctl on the host, for what needs no xt_DADDR module: reading /etc/dsr.d-style files (every
# line kind, errors with file and line, exit codes), the status table and check against real
# loopback addresses read over rtnetlink and the real `iptables -L` output, -n (dry run) plans
# with lo:N numbering after a foreign alias, and stop -a removing loopback VIPs. Runs in its own
# network namespace; start (which loads the module) is covered by tests/vm/cases/daddr-dsrctl.sh.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${NETEDGE_BIN_DIR:-${CARGO_TARGET_DIR:-$top/target}/release}
dsrctl=$bin/dsrctl
failures=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; failures=$((failures + 1)); }
# expect WHAT RC EXPECTED_OUTPUT ARGS...: dsrctl ARGS (in the namespace) exits RC, prints EXPECTED
expect() {
    local what=$1 rc=$2 want=$3 got grc
    shift 3
    got=$(ip netns exec "$ns" "$dsrctl" "$@" 2>&1)
    grc=$?
    if [ "$grc" = "$rc" ] && [ "$got" = "$want" ]; then ok "$what"; else
        notok "$what"; echo "#   exit $grc (want $rc)"; diff <(echo "$want") <(echo "$got") | sed 's/^/#   /'; fi
}
if [ ! -x "$dsrctl" ]; then notok "dsrctl built ($dsrctl: cargo build --release -p dsrctl)"; exit 1; fi
command -v iptables >/dev/null || { notok "iptables present (apt-get install iptables)"; exit 1; }

ns=dsrctl-test-$$
work=$(mktemp -d)
trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$work"' EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" addr add 10.7.7.7/32 dev lo label lo:4   # foreign: not in any config

cd "$work"
cat > vips.conf <<'CONF'
# every line kind
198.18.0.1=10
  198.18.0.2 = 0x0b   # hex, spaces
198.18.0.3=014
198.18.0.4
2001:db8::1=10
2001:db8::2

Version=1
CONF

expect "status: the configured VIPs, all stopped; the module not loaded (no table)" 0 \
"type  state   name         ipaddr       dscp loopback iptables
===== ======= ===========  ===========  ==== ======== ========
l3dsr stopped 198.18.0.1   198.18.0.1   10   --       --
l3dsr stopped 198.18.0.2   198.18.0.2   0x0b --       --
l3dsr stopped 198.18.0.3   198.18.0.3   014  --       --
l2dsr stopped 198.18.0.4   198.18.0.4   --   --       --
l3dsr stopped 2001:db8::1  2001:db8::1  10   --       --
l2dsr stopped 2001:db8::2  2001:db8::2  --   --       --" -f vips.conf status

ip -n "$ns" addr add 198.18.0.4/32 dev lo label lo:9
ip -n "$ns" addr add 2001:db8::2/128 dev lo
expect "status -a: L2DSR VIPs found on lo are started, the foreign alias is listed as loopb" 0 \
"type  state   name         ipaddr       dscp loopback iptables iptbl src
===== ======= ===========  ===========  ==== ======== ======== ===== ====
l3dsr stopped 198.18.0.1   198.18.0.1   10   --       --       --    conf
l3dsr stopped 198.18.0.2   198.18.0.2   0x0b --       --       --    conf
l3dsr stopped 198.18.0.3   198.18.0.3   014  --       --       --    conf
l2dsr started 198.18.0.4   198.18.0.4   --   lo:9     --       --    conf
l3dsr stopped 2001:db8::1  2001:db8::1  10   --       --       --    conf
l2dsr started 2001:db8::2  2001:db8::2  --   lo       --       --    conf
loopb started 10.7.7.7     10.7.7.7     --   lo:4     --       --    disc" -a -f vips.conf status
printf '198.18.0.4\n' > l2.conf
expect "status -x: no header" 0 "l2dsr started 198.18.0.4  198.18.0.4  --   lo:9     --" -x -f l2.conf status
expect "check: some started (exit 3)" 3 "Some DSRs not started." -f vips.conf check
expect "check: all started (exit 0)" 0 "All DSRs started." -f l2.conf check
expect "check: none configured (exit 3)" 3 "No configured DSRs found." -f /dev/null check

expect "start -n -v: the plan, rules and addresses, lo:N after the highest alias; nothing done" 0 \
"+modprobe xt_DADDR
+ip -o addr show lo
+iptables -L -t mangle -n
+ip6tables -L -t mangle -n
+iptables -t mangle -A PREROUTING -m dscp --dscp 10 -j DADDR --set-daddr=198.18.0.1
+ip -o addr show lo
+ip addr add 198.18.0.1/32 dev lo label lo:10
+iptables -t mangle -A PREROUTING -m dscp --dscp 0x0b -j DADDR --set-daddr=198.18.0.2
+ip -o addr show lo
+ip addr add 198.18.0.2/32 dev lo label lo:11
+iptables -t mangle -A PREROUTING -m dscp --dscp 014 -j DADDR --set-daddr=198.18.0.3
+ip -o addr show lo
+ip addr add 198.18.0.3/32 dev lo label lo:12
+ip6tables -t mangle -A PREROUTING -m dscp --dscp 10 -j DADDR --set-daddr=2001:db8::1
+ip -o addr show lo
+ip addr add 2001:db8::1/128 dev lo" -n -v -f vips.conf start
if [ "$(ip -n "$ns" -o addr show dev lo | grep -c 198.18.0.1)" = 0 ]; then ok "start -n changed nothing"; else notok "start -n changed nothing"; fi

printf '# c\n198.18.0.9=64\n198.18.0.8=0x0g\n' > bad1.conf
expect "a DSCP above 63 is an error with file and line; the bad line is dropped (exit 1)" 1 \
'Invalid DSCP value at "bad1.conf", line 2.  "64" too large (max=63).
Invalid config line at bad1.conf, line 3.  Unrecognized VIP/DSCP.
Aborting.' -x -f bad1.conf status
printf '198.18.0.9=08\n198.18.0.7=9\n' > bad2.conf
expect "a DSCP that is not a number: error, the rest of the file still read (exit 1)" 1 \
'Invalid DSCP value at "bad2.conf", line 1.  "08" is not an expected number.
l3dsr stopped 198.18.0.7  198.18.0.7  9    --       --' -x -f bad2.conf status
printf '198.18.0.1=10\n198.18.0.5=012\n198.18.0.1=10\n' > dup.conf
expect "same DSCP for two VIPs: conflict (error); same VIP twice: duplicate (read once)" 1 \
'Conflicting DSRs (IP=198.18.0.1, IP=198.18.0.5) found with DSCP 012.
- Prev: L3DSR at "dup.conf", line 1.
- Dup:  L3DSR at "dup.conf", line 2.
Duplicate DSRs found for 198.18.0.1.
- Prev: L3DSR at "dup.conf", line 1.
- Dup:  L3DSR at "dup.conf", line 3.
l3dsr stopped 198.18.0.1  198.18.0.1  10   --       --' -x -f dup.conf status
expect "start with a configuration error starts nothing (exit 1)" 1 \
'Conflicting DSRs (IP=198.18.0.1, IP=198.18.0.5) found with DSCP 012.
- Prev: L3DSR at "dup.conf", line 1.
- Dup:  L3DSR at "dup.conf", line 2.
Duplicate DSRs found for 198.18.0.1.
- Prev: L3DSR at "dup.conf", line 1.
- Dup:  L3DSR at "dup.conf", line 3.' -n -f dup.conf start
expect "check with a configuration error (exit 1)" 1 "DSR configuration error discovered." -f dup.conf check

mkdir -p d/sub other
printf '198.18.1.2\n' > d/b.conf
printf '198.18.1.1\n' > d/a.conf
printf '198.18.1.3\n' > d/sub/c.conf
printf '198.18.1.9\n' > d/ignored.txt
printf '198.18.1.4\n' > other/x.conf
ln -s ../other/x.conf d/z.conf
expect "-d: every *.conf below the directory, symbolic links followed, in path order" 0 \
"l2dsr stopped 198.18.1.1  198.18.1.1  --   --       --
l2dsr stopped 198.18.1.2  198.18.1.2  --   --       --
l2dsr stopped 198.18.1.3  198.18.1.3  --   --       --
l2dsr stopped 198.18.1.4  198.18.1.4  --   --       --" -x -d d status
expect "-d on a missing directory: a note, no VIPs (exit 0)" 0 \
"Cannot find the configuration directory (nodir).   Is dsrtools installed?
No configured DSRs found." -d nodir status
expect "-f on a missing file: a note, no VIPs (exit 0, as the upstream)" 0 \
"Cannot read the configuration file (nofile).
No configured DSRs found." -f nofile status

expect "unknown option" 1 "dsrctl: -z: unknown option" -z start
expect "unknown action" 1 "Invalid action provided (boomer)." -f vips.conf boomer
expect "missing action" 1 "Missing action argument." -v
expect "bad -s" 1 "Invalid sleep argument (.:.)." -s.:. stop

expect "stop -a -f /dev/null: every loopback VIP removed (no module: none to unload)" 0 "" -a -f /dev/null stop
left=$(ip -n "$ns" -o addr show dev lo | grep -cvE ' (127\.0\.0\.1/8|::1/128) ')
if [ "$left" = 0 ]; then ok "lo has only 127.0.0.1 and ::1 left"; else notok "lo has only 127.0.0.1 and ::1 left ($left more)"; fi

[ "$failures" = 0 ]
