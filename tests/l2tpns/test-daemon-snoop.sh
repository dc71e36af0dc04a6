#!/bin/bash
# Interception end to end: l2tpns copies a snooped session's packets, one bare IP packet per
# UDP datagram, to l2tpns-capture in the server namespace, which writes pcap; tcpdump reads it
# back and must find exactly the packets that crossed the snooped sessions:
#   - lac1, snooped by `nsctl snoop` (snoopctl) 1.5 s after it is seen up and unsnooped
#     10.5 s after: its probes leave every 3 s (seq 0 at 0 s, 1 at 3 s, ... 5 at 15 s), so the
#     capture holds seq 1, 2 and 3 up and their 3 echo replies down, none of 0, 4 or 5;
#   - "intercepted" (Cisco-AVPair "intercept=10.202.0.2:5000", autosnoop) and "interceptyes"
#     ("intercept=yes": snoop_host:snoop_port), snooped from authentication on: every probe
#     sent and every reply received, no more;
#   - lac3, never snooped: none of its packets.
# A datagram from a source not in --from is not written, a non-IP one and a padded one are
# counted as dropped by reason, SIGINT leaves a complete file and a summary line; `-w -` feeds
# a live tcpdump reader packet by packet and `-c` stops the capture.
# Needs root, /usr/sbin/freeradius, tcpdump, python3, and l2tpns, l2tp-lac, nsctl and
# l2tpns-capture in $NETEDGE_BIN_DIR.
set -u
RADIUS_EXTRA_USERS='intercepted Cleartext-Password := "lacpass"
        Service-Type = Framed-User,
        Framed-Protocol = PPP,
        Cisco-AVPair = "intercept=10.202.0.2:5000"

interceptyes Cleartext-Password := "lacpass"
        Service-Type = Framed-User,
        Framed-Protocol = PPP,
        Cisco-AVPair = "intercept=yes"'
. "$(dirname "$0")/daemon-env.inc"
nsctl=$bin/nsctl
capture=$bin/l2tpns-capture
require "cargo build --release" "$nsctl" "$capture"
require "apt-get install tcpdump" tcpdump

pcap=$work/snoop.pcap
session_ip() { # session_ip USER: the address of USER's session, once it has one
    in_lns "$nsctl" --json show sessions 2>/dev/null | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if s["user"] == sys.argv[1] and s["address"]:
        print(s["address"])' "$1"
}
# send NS FROM-IP PORT HEX: one UDP datagram of the bytes HEX to 10.202.0.2:PORT.
send() {
    ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.sendto(bytes.fromhex(sys.argv[3]), ("10.202.0.2", int(sys.argv[2])))' "$2" "$3" "$4"
}
# ipv4 SRC DST [PAD]: a minimal IPv4/UDP packet (28 bytes, ports 7 > 9) as hex, PAD bytes
# of zeros after it (then its Total Length no longer matches).
ipv4() {
    python3 -c '
import socket, struct, sys
h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1, 0, 64, 17, 0,
                socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2]))
print((h + struct.pack("!HHHH", 7, 9, 8, 0) + bytes(int(sys.argv[3]))).hex())' "$1" "$2" "${3:-0}"
}
# packets FILE: what tcpdump reads from FILE, one line per packet "SRC:SPORT>DST:DPORT SEQ"
# (SEQ: the l2tp-lac probe's sequence number, - for other packets), from its hex dump.
packets() {
    tcpdump -r "$1" -nn -x 2>"$work/tcpdump.err" | python3 -c '
import socket, struct, sys
pkts = []
for line in sys.stdin:
    if not line[0].isspace():
        pkts.append(bytearray())
    elif pkts and line.strip().startswith("0x"):
        pkts[-1] += bytes.fromhex("".join(line.split(":", 1)[1].split()))
for p in pkts:
    if len(p) < 28 or p[0] >> 4 != 4:
        print("non-ipv4 -")
        continue
    ihl = (p[0] & 15) * 4
    sport, dport = struct.unpack("!HH", p[ihl:ihl + 4])
    d = ihl + 8
    seq = struct.unpack("!Q", p[d + 8:d + 16])[0] if p[d:d + 4] == b"LACp" else "-"
    print(f"{socket.inet_ntoa(p[12:16])}:{sport}>{socket.inet_ntoa(p[16:20])}:{dport} {seq}")'
}
up_of() { grep -c "^$1:40000>10.202.0.2:9000 " "$work/got"; }
down_of() { grep -c "^10.202.0.2:9000>$1:40000 " "$work/got"; }
seqs_of() { # the sorted probe numbers captured up (or down) for address $1
    if [ "$2" = up ]; then
        sed -n "s/^$1:40000>10.202.0.2:9000 //p" "$work/got"
    else
        sed -n "s/^10.202.0.2:9000>$1:40000 //p" "$work/got"
    fi | sort -n | tr '\n' ' ' | sed 's/ $//'
}

check "three namespaces and two veth pairs set up" setup_net || exit 1
check "FreeRADIUS ready in the LNS namespace" start_radius || exit 1
check "echo server listening in the server namespace" start_echo || exit 1
write_lns_config 'load plugin "snoopctl"' 'load plugin "autosnoop"' \
    'set snoop_host 10.202.0.2' 'set snoop_port 5000'
check "l2tpns listening" start_lns || { show_lns_log; exit 1; }

setsid ip netns exec "$ns_srv" "$capture" --listen 10.202.0.2:5000 -w "$pcap" --from 10.202.0.1 \
    </dev/null 2>"$work/capture.err" &
cap_pid=$!
pids+=("$cap_pid")
listening() { in_srv ss -lun 2>/dev/null | grep -q '10.202.0.2:5000'; }
check "l2tpns-capture listening on 10.202.0.2:5000 in the server namespace" wait_for 10 listening
check "the capture file is already a pcap tcpdump reads (0 packets, link-type RAW)" \
    eval '[ -z "$(tcpdump -r "$pcap" -nn 2>"$work/t0.err")" ] && grep -q "link-type RAW" "$work/t0.err"'

# Probes every 3 s for lac1 (seq k leaves k*3 s after it is up), 5/s for the others.
lac snooped lac1 --rate 0.33334 --duration 16 &
lac_a=$!
lac radius intercepted --rate 5 --duration 3 &
lac_b=$!
lac radiusyes interceptyes --rate 5 --duration 3 &
lac_d=$!
lac plain lac3 --rate 5 --duration 3 &
lac_c=$!
lac1_up() { [ -n "$(session_ip lac1)" ]; }
check "lac1's session up" wait_for 20 lac1_up
# Timed from the moment it was seen up (its probe 0 left then, or up to a poll earlier), so
# that the snoop and the unsnoop fall midway between two probes.
t_up=$EPOCHREALTIME
sleep_until() { sleep "$(python3 -c 'import sys; print(max(0.0, float(sys.argv[1]) + float(sys.argv[2]) - float(sys.argv[3])))' "$t_up" "$1" "$EPOCHREALTIME")"; }
sleep_until 1.5
in_lns "$nsctl" snoop lac1 10.202.0.2 5000 >"$work/snoop.out" 2>&1
rc=$?
check "nsctl snoop lac1 10.202.0.2 5000: exit 0 (snoopctl loaded)" \
    eval '[ $rc = 0 ] && grep -q "snoop 10.202.0.2:5000" "$work/snoop.out"'
sleep_until 10.5
in_lns "$nsctl" unsnoop lac1 >"$work/unsnoop.out" 2>&1
rc=$?
check "nsctl unsnoop lac1: exit 0" eval '[ $rc = 0 ] && grep -q "lac1): none" "$work/unsnoop.out"'
wait "$lac_a" "$lac_b" "$lac_c" "$lac_d"
for n in snooped radius radiusyes plain; do
    echo "# $n: sent $(field "$work/$n.json" sent), received $(field "$work/$n.json" received)"
done
addr() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["addresses"][0])' "$work/$1.json" 2>/dev/null; }
ip_a=$(addr snooped) ip_b=$(addr radius) ip_d=$(addr radiusyes) ip_c=$(addr plain)
echo "# lac1 ${ip_a:-?}, intercepted ${ip_b:-?}, interceptyes ${ip_d:-?}, lac3 ${ip_c:-?}"
check "every session's probes came back (sent = received > 0)" eval '
    for n in snooped radius radiusyes plain; do
        s=$(field "$work/$n.json" sent) r=$(field "$work/$n.json" received)
        [ "${s:-0}" -gt 0 ] && [ "$s" = "$r" ] || exit 1
    done'

# What must not be written: a real IPv4 packet from a source not in --from (the server
# itself), a non-IP datagram and a padded IPv4 packet from the LNS's address.
send "$ns_srv" 10.202.0.2 5000 "$(ipv4 192.0.2.66 192.0.2.99)"
send "$ns_lns" 10.202.0.1 5000 "00$(printf ' is not an IP packet' | od -An -tx1 | tr -d ' \n')"
send "$ns_lns" 10.202.0.1 5000 "$(ipv4 192.0.2.68 192.0.2.99 4)"
sleep 0.5
kill -INT "$cap_pid"
wait_for 5 not_running "$cap_pid"
wait "$cap_pid"
rc=$?
sed 's/^/# capture: /' "$work/capture.err"
check "SIGINT ends l2tpns-capture with exit 0" eval '[ $rc = 0 ]'

packets "$pcap" >"$work/got"
check "tcpdump -r reads the whole file without error (link-type RAW)" \
    eval 'grep -q "link-type RAW" "$work/tcpdump.err" && ! grep -qi "truncated\|error" "$work/tcpdump.err"'
# Packets per flow in the capture.
sed 's/ [0-9-]*$//' "$work/got" | sort | uniq -c | sed 's/^ */# pcap: /'

sa=$(field "$work/radius.json" sent) ra=$(field "$work/radius.json" received)
check "intercepted (RADIUS intercept=IP:PORT): all $sa probes up and $ra replies down, no more" \
    eval '[ "$(up_of "$ip_b")" = "$sa" ] && [ "$(down_of "$ip_b")" = "$ra" ] &&
        [ "$(seqs_of "$ip_b" up)" = "$(seq -s " " 0 $((sa - 1)))" ]'
sd=$(field "$work/radiusyes.json" sent) rd=$(field "$work/radiusyes.json" received)
check "interceptyes (RADIUS intercept=yes, snoop_host:snoop_port): all $sd probes up and $rd replies down" \
    eval '[ "$(up_of "$ip_d")" = "$sd" ] && [ "$(down_of "$ip_d")" = "$rd" ]'
echo "# lac1 captured up: [$(seqs_of "$ip_a" up)] down: [$(seqs_of "$ip_a" down)] of $(field "$work/snooped.json" sent) sent"
# The snoop lasts 9 s and lac1 probes every 3 s, so it holds three consecutive probes: 1 2 3
# when this script saw the session up at once; a later look (a loaded host: nsctl polls, the
# LAC's first probe left earlier) moves the window along the probes, never changes how many.
consecutive3() { # "k k+1 k+2" for some k
    set -- $1
    [ $# = 3 ] && [ "$2" = $(($1 + 1)) ] && [ "$3" = $(($1 + 2)) ]
}
check "lac1 (nsctl snoop): exactly three consecutive probes up and their 3 replies down" \
    eval 'up=$(seqs_of "$ip_a" up); consecutive3 "$up" && [ "$(seqs_of "$ip_a" down)" = "$up" ]'
check "lac1: nothing before the snoop or after the unsnoop (of 6 probes sent)" \
    eval '[ "$(field "$work/snooped.json" sent)" = 6 ] && [ "$(grep -cE "(^|>)$ip_a:" "$work/got")" = 6 ]'
check "lac3 (never snooped): none of its packets" eval '! grep -qE "(^|>)${ip_c:-none}:" "$work/got"'
total=$(wc -l <"$work/got")
check "nothing else in the file: $total packets, all from these sessions' probes" \
    eval '[ "$total" = $((6 + sa + ra + sd + rd)) ] && ! grep -q "192.0.2." "$work/got"'
in_lns "$nsctl" show counters >"$work/counters.out" 2>&1
snooped=$(sed -n 's/^snooped=//p' "$work/counters.out")
check "the daemon's snooped counter ($snooped) is the number of packets written" \
    eval '[ "${snooped:-x}" = "$total" ]'
summary=$(tail -1 "$work/capture.err")
check "summary: $total written, 3 dropped (source 1, not-ip 1, length 1)" eval \
    '[ "$summary" = "l2tpns-capture: received $((total + 3)), written $total, dropped 3 (source 1, not-ip 1, short 0, length 1)" ]'

# -w - to a live reader: tcpdump prints the first packet while the capture still runs (each
# record is flushed), and -c 2 ends the capture after the second.
setsid ip netns exec "$ns_srv" sh -c "'$capture' --listen 10.202.0.2:5001 -w - -c 2 --from 10.202.0.1 \
    --duration 20 2>'$work/live.err' | tcpdump -r - -nn -l >'$work/live.txt' 2>/dev/null" </dev/null &
live=$!
pids+=("$live")
live_listening() { in_srv ss -lun 2>/dev/null | grep -q '10.202.0.2:5001'; }
wait_for 10 live_listening
send "$ns_lns" 10.202.0.1 5001 "$(ipv4 198.51.100.1 198.51.100.2)"
one_line() { [ "$(wc -l <"$work/live.txt")" = 1 ]; }
check "-w -: the reader sees the first packet while the capture runs" \
    eval 'wait_for 5 one_line && live_listening && grep -q "198.51.100.1.7 > 198.51.100.2.9" "$work/live.txt"'
send "$ns_lns" 10.202.0.1 5001 "$(ipv4 198.51.100.3 198.51.100.2)"
check "-c 2: the capture ends by itself after the second packet, the reader has both" \
    eval 'wait_for 5 not_running $live && [ "$(wc -l <"$work/live.txt")" = 2 ] &&
        grep -q "written 2, dropped 0" "$work/live.err"'
check "no panic in the daemon's output" no_panic
[ "$failures" = 0 ] || show_lns_log
exit "$failures"
