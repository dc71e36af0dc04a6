#!/bin/bash
# Malformed, truncated and random UDP to port 1701 of our l2tpns while 50 sessions pass traffic:
# every bad datagram is counted and dropped, the daemon does not crash, and the sessions are
# unaffected (no session lost, no probe lost).
# Needs root, /usr/sbin/freeradius, python3, l2tpns and l2tp-lac in $NETEDGE_BIN_DIR.
set -u
. "$(dirname "$0")/daemon-env.inc"

check "three namespaces and two veth pairs set up" setup_net || exit 1
check "FreeRADIUS ready in the LNS namespace" start_radius || exit 1
write_lns_config
check "l2tpns listening on 10.201.0.1:1701" start_lns || { show_lns_log; exit 1; }
check "echo server listening in the server namespace" start_echo || exit 1

run_lac traffic chap 50 1 300 12 &
lac_job=$!
sessions_up() {
    local i
    for i in $(seq 1 100); do
        [ "$(grep -c ' up with ' "$lns_dir/l2tpns.log")" -ge 50 ] && return 0
        sleep 0.1
    done
    return 1
}
check "50 sessions up before the garbage starts" sessions_up

# From the LAC's namespace (another source port than the LAC's tunnel): random bytes, truncated
# headers, control messages with broken lengths and AVPs, data messages for unknown tunnels and
# sessions, and PPP garbage behind a syntactically valid data header.
cat >"$work/garbage.py" <<'PY'
import os, random, socket, struct
random.seed(4)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dst = ("10.201.0.1", 1701)
sent = 0
def send(b):
    global sent
    s.sendto(b, dst)
    sent += 1
for n in range(3000):
    send(os.urandom(random.randint(1, 400)))               # random
for n in range(0, 16):
    send(bytes([0xc8, 0x02, 0x00, 0x40])[:n % 4 + 1])      # truncated control headers
    send(bytes([0x00, 0x02])[: n % 2 + 1])                 # truncated data headers
for n in range(500):
    # control header, length field larger or smaller than the datagram, garbage AVPs
    body = os.urandom(random.randint(0, 60))
    length = random.choice([len(body) + 12, len(body) + 200, 3, 0])
    send(struct.pack("!HHHHHH", 0xC802, length & 0xFFFF, 0, 0, 0, 0) + body)
for n in range(500):
    # SCCRQ-looking messages (tunnel 0) whose AVPs are malformed
    avp = struct.pack("!HHH", 0x8000 | random.randint(0, 5), 0, 0) + os.urandom(random.randint(0, 8))
    msg = struct.pack("!HHHHHH", 0xC802, 12 + len(avp), 0, 0, 0, 0) + avp
    send(msg)
for n in range(2000):
    # data messages for random tunnels/sessions with random PPP content
    send(struct.pack("!HHH", 0x0002, random.randint(0, 65535), random.randint(0, 65535)) +
         os.urandom(random.randint(0, 200)))
print(sent)
PY
garbage=$(in_lac python3 "$work/garbage.py")
check "sent $garbage malformed datagrams to 10.201.0.1:1701" [ "${garbage:-0}" -gt 6000 ]

wait "$lac_job"
lac_rc=$?
check "the LAC's 50 sessions stayed up through the garbage (l2tp-lac exit status)" [ "$lac_rc" = 0 ]
sent=$(field "$work/traffic.json" sent)
received=$(field "$work/traffic.json" received)
check "traffic passed both ways, no probe lost ($received of $sent)" \
    [ "${received:-0}" -gt 0 -a "${received:-0}" = "${sent:-x}" ]
check "no session went down before the LAC hung up" \
    [ "$(field "$work/traffic.json" sessions_failed)" = 0 ]
check "l2tpns still running" kill -0 "$lns_pid"
kill -QUIT "$lns_pid"
for i in $(seq 1 100); do kill -0 "$lns_pid" 2>/dev/null || break; sleep 0.1; done
echo "# $(counters)"
# Each datagram is dropped once: by the data plane (malformed L2TP/PPP header: "malformed") or,
# handed to the control path, by the L2TP engine ("control_dropped", itemised in l2tp_*).
dropped=$(( $(counter malformed) + $(counter control_dropped) ))
check "malformed datagrams counted: l2tp_malformed=$(counter l2tp_malformed) l2tp_unknown_tunnel=$(counter l2tp_unknown_tunnel) data-plane malformed=$(counter malformed)" \
    [ "$(counter l2tp_malformed)" -gt 0 -a "$(counter l2tp_unknown_tunnel)" -gt 0 ]
check "every garbage datagram counted as dropped: malformed + control_dropped = $dropped >= $garbage" [ "$dropped" -ge "${garbage:-1}" ]
check "no crash: no panic in the daemon's output" no_panic
[ "$failures" = 0 ]
