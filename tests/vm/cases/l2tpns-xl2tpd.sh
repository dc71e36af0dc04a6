#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 1200
# (A passing run takes 1-3 min under TCG; the bound covers every poll below timing out.)
#
# Our l2tpns against a real LAC: Debian's xl2tpd with pppd on the kernel L2TP data path
# (pppol2tp), FreeRADIUS for authentication and accounting. The topology, FreeRADIUS setup and
# l2tpns startup-config are those of the host daemon tests (tests/l2tpns/daemon-env.inc, sourced
# here unchanged):
#
#   lac 10.201.0.2 --- 10.201.0.1 lns (l2tpns + FreeRADIUS on 127.0.0.1) 10.202.0.1 --- 10.202.0.2 srv
#   xl2tpd + pppd                      TUN 10.200.0.1, pool 10.210.0.0/24 10.211.0.0/24
#
# Checks: PAP and CHAP logins through xl2tpd+pppd with the address from FreeRADIUS
# (Framed-IP-Address) or the pool and pings both ways over ppp; tunnel authentication with
# l2tp_secret both ways (seen in xl2tpd and on the wire) and a wrong tunnel secret refused with
# StopCCN "not authorized"; a wrong PPP password refused (Access-Reject, PAP AuthNak, pppd
# gives up and exits, no accounting); hang-up
# by xl2tpd ("d NAME": StopCCN) and by killing pppd (LCP Terminate + CDN) each ending the
# session with an Accounting-Stop in FreeRADIUS's detail file.
set -u
export NETEDGE_BIN_DIR=${VM_BIN:-/vm/bin}
. /vm/src/tests/l2tpns/daemon-env.inc
# After daemon-env.inc: tap.sh's check/check_sh/tap_* are the ones this case uses.
. /vm/src/tests/vm/tap.sh

xl=$work/xl2tpd
mkdir -p "$xl"
xl_log=$xl/xl2tpd.log
ctl=$xl/l2tp-control
pcap=$work/l2tp.pcap

# wait_until SEC 'SHELL CONDITION': polls (0.5 s) until the condition holds; 1 after SEC seconds.
wait_until() {
	local limit=$((SECONDS + $1))
	while ! eval "$2"; do
		[ "$SECONDS" -lt "$limit" ] || return 1
		sleep 0.5
	done
}
# grep_new FILE OFFSET ERE: ERE in what was appended to FILE after byte OFFSET (so a line of
# an earlier scenario does not count).
grep_new() { tail -c +$(($2 + 1)) "$1" 2>/dev/null | grep -qE -- "$3"; }
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
# ppp_addr IF: "LOCAL PEER" of a ppp interface in the LAC namespace (empty if it has none).
ppp_addr() {
	in_lac ip -4 -o addr show dev "$1" 2>/dev/null |
		sed -n 's/.* inet \([0-9.]*\) peer \([0-9.]*\).*/\1 \2/p'
}
# ctl_cmd 'CMD': one command to xl2tpd's control FIFO. Bounded: a FIFO write blocks forever if
# xl2tpd is gone.
ctl_cmd() { timeout 10 sh -c 'printf "%s\n" "$1" >"$2"' sh "$1" "$ctl"; }
# A FreeRADIUS -X log line is "(N)   Attribute = value": did an Access-Request of USER carry ATTR?
radius_request_has() {
	awk -v u="\"$1\"" -v a="$2" '
		$2 == "User-Name" && $4 == u { user[$1] = 1 }
		$2 == a { attr[$1] = 1 }
		END { for (k in user) if (k in attr) exit 0; exit 1 }' "$radius_dir/radiusd.log"
}
# check_shown WHAT CMD...: like check, and the command's "# " lines are shown when it passes too.
# The command is retried for up to 15 s (its last output is what is shown): its evidence may
# still be on its way, as a packet the LAC has already acted on that tcpdump, scheduled after it
# under TCG, has not yet written to the pcap.
check_shown() {
	local what=$1 out rc limit=$((SECONDS + 15))
	shift
	while out=$("$@" 2>&1); rc=$?; [ "$rc" -ne 0 ] && [ "$SECONDS" -lt "$limit" ]; do sleep 1; done
	if [ "$rc" -eq 0 ]; then
		tap_ok "$what"
		printf '%s\n' "$out" | grep '^# '
	else
		tap_not_ok "$what" "$out"
	fi
}
diag_from=0
# diag PPPD-LOG: on a failure since the last call, the logs that explain it (as TAP comments).
diag() {
	[ "$TAP_FAILED" -gt "$diag_from" ] || return 0
	diag_from=$TAP_FAILED
	echo "# --- xl2tpd (tail) ---"
	tail -25 "$xl_log" 2>/dev/null | sed 's/^/#   /'
	if [ -n "${1:-}" ]; then
		echo "# --- $1 (tail) ---"
		tail -25 "$1" 2>/dev/null | sed 's/^/#   /'
	fi
	echo "# --- l2tpns (tail) ---"
	grep -v 'counters: ' "$lns_dir/l2tpns.log" 2>/dev/null | tail -15 | sed 's/^/#   /'
	show_lns_log | tail -5
	echo "# --- FreeRADIUS (Login/Sent lines) ---"
	grep -E 'Login|Sent Access|Sent Accounting' "$radius_dir/radiusd.log" 2>/dev/null | tail -8 | sed 's/^/#   /'
}

# L2TP control messages captured on the LNS's veth, one JSON object per line:
# {"from": SRC, "tid": header tunnel id, "type": message type, "avps": {type: hex value}}.
# Parsed here from the pcap (no scapy: its import alone takes seconds under TCG).
wire() {
	python3 - "$pcap" <<'PY'
import json, struct, sys
data = open(sys.argv[1], "rb").read()
e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
link = struct.unpack(e + "I", data[20:24])[0]
off = 24
while off + 16 <= len(data):
    incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    ip = pkt[14:] if link == 1 else pkt[16:]  # Ethernet (veth) or Linux cooked
    if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
        continue
    l2 = ip[(ip[0] & 15) * 4 + 8:]
    if len(l2) < 6:
        continue
    flags = struct.unpack(">H", l2[:2])[0]
    if not flags & 0x8000:  # data message
        continue
    p = 4 if flags & 0x4000 else 2
    tid = struct.unpack(">H", l2[p:p + 2])[0]
    p += 4 + (4 if flags & 0x0800 else 0)
    avps, mtype = {}, None
    while p + 6 <= len(l2):
        h, vendor, atype = struct.unpack(">HHH", l2[p:p + 6])
        n = h & 0x3FF
        if n < 6:
            break
        if vendor == 0:
            if atype == 0:
                mtype = struct.unpack(">H", l2[p + 6:p + 8])[0]
            avps.setdefault(str(atype), l2[p + 6:p + n].hex())
        p += n
    if mtype is not None:  # not a ZLB ack
        print(json.dumps({"from": ".".join(map(str, ip[12:16])), "tid": tid, "type": mtype, "avps": avps}))
PY
}
# tunnel_auth MODE HOST: the handshake of the tunnels whose SCCRQ carried Host Name HOST.
#   ok:      the LNS challenged (SCCRP has Challenge) and answered xl2tpd's challenge (Challenge
#            Response), xl2tpd answered in SCCCN, and the LNS sent no StopCCN.
#   refused: the LNS challenged, xl2tpd answered in SCCCN, the LNS sent StopCCN with result 4
#            (not authorized) and never answered an ICRQ (no ICRP).
tunnel_auth() {
	wire >"$work/wire.json"
	python3 - "$work/wire.json" "$1" "$2" <<'PY'
import json, sys
m = [json.loads(l) for l in open(sys.argv[1])]
mode, host = sys.argv[2], sys.argv[3].encode().hex()
SCCRQ, SCCRP, SCCCN, STOPCCN, ICRP = 1, 2, 3, 4, 11
def why(msg):
    print("# " + msg)
    sys.exit(1)
rqs = [x for x in m if x["type"] == SCCRQ and x["avps"].get("7") == host]
if not rqs:
    why("no SCCRQ with Host Name %s captured (%d control messages)" % (sys.argv[3], len(m)))
for rq in rqs:
    lac_tid = int(rq["avps"]["9"], 16)
    rp = [x for x in m if x["type"] == SCCRP and x["tid"] == lac_tid]
    if not rp:
        why("no SCCRP to LAC tunnel %d" % lac_tid)
    rp = rp[0]
    if "11" not in rp["avps"]:
        why("SCCRP to tunnel %d has no Challenge: the LNS did not authenticate the LAC" % lac_tid)
    if mode == "ok" and "11" in rq["avps"] and "13" not in rp["avps"]:
        why("xl2tpd challenged, SCCRP to tunnel %d has no Challenge Response" % lac_tid)
    lns_tid = int(rp["avps"]["9"], 16)
    cn = [x for x in m if x["type"] == SCCCN and x["tid"] == lns_tid]
    if not cn or "13" not in cn[0]["avps"]:
        why("no SCCCN with a Challenge Response to LNS tunnel %d" % lns_tid)
    stop = [x for x in m if x["type"] == STOPCCN and x["tid"] == lac_tid and x["from"] == "10.201.0.1"]
    if mode == "ok":
        # A StopCCN after the session (hang-up) is fine; one answering the handshake is not.
        if stop and int(stop[0]["avps"].get("1", "0000")[:4], 16) == 4:
            why("the LNS refused tunnel %d (StopCCN result 4)" % lac_tid)
        print("# tunnel %d/%d: LNS challenged%s, LAC answered in SCCCN" % (
            lac_tid, lns_tid, ", answered our challenge" if "13" in rp["avps"] else ""))
    else:
        if not stop:
            why("no StopCCN from the LNS to tunnel %d" % lac_tid)
        rc = int(stop[0]["avps"].get("1", "0000")[:4], 16)
        if rc != 4:
            why("StopCCN to tunnel %d has result %d, not 4 (not authorized)" % (lac_tid, rc))
        if any(x["type"] == ICRP and x["tid"] == lac_tid for x in m):
            why("the LNS answered an ICRQ on refused tunnel %d" % lac_tid)
        print("# tunnel %d: StopCCN result 4 (%s)" % (lac_tid, bytes.fromhex(stop[0]["avps"]["1"][8:]).decode(errors="replace")))
PY
}

# --- setup ---------------------------------------------------------------------------------------
# xl2tpd decides at start whether the kernel data path exists (a PPPoL2TP socket can be made).
check "modprobe ppp_generic l2tp_ppp" modprobe -a ppp_generic l2tp_ppp
check "three namespaces and two veth pairs set up" setup_net || tap_done
# Not through check: that runs its command in a subshell, and these record the pids (pids,
# lns_pid) the EXIT trap of daemon-env.inc stops.
if start_radius; then tap_ok "FreeRADIUS ready in the LNS namespace"; else
	tap_not_ok "FreeRADIUS ready in the LNS namespace" "$(tail -20 "$radius_dir/radiusd.log")"
	tap_done
fi
write_lns_config
if start_lns; then tap_ok "l2tpns listening on 10.201.0.1:1701"; else
	tap_not_ok "l2tpns listening on 10.201.0.1:1701" "$(show_lns_log)"
	tap_done
fi

# Every L2TP control message on the LNS's side of the LAC link, for the tunnel-auth checks.
setsid ip netns exec "$ns_lns" tcpdump -i "${tag}b" -n -U -Z root -w "$pcap" udp port 1701 \
	</dev/null >"$work/tcpdump.log" 2>&1 &
pids+=($!)
check "tcpdump capturing on the LNS's LAC-side veth" \
	wait_until 30 'grep -q "listening on" "$work/tcpdump.log"'

# One xl2tpd, one [lac] section per scenario; each gets its own tunnel. "goodlac" has the
# secret l2tpns has; "badlac" another. In l2tp-secrets a line is "us them secret".
cat >"$xl/l2tp-secrets" <<'EOF'
goodlac * tunnelsecret
badlac * not-the-tunnel-secret
EOF
# ppp_opts NAME USER PASSWORD UNIT: the pppd options xl2tpd passes with "file". noauth: the
# LNS does not authenticate itself to the subscriber (/etc/ppp/options says "auth");
# noipdefault + ipcp-accept-*: the addresses come from the LNS.
ppp_opts() {
	cat >"$xl/$1.options" <<EOF
user $2
password $3
noauth
refuse-eap
refuse-mschap
refuse-mschap-v2
noipdefault
ipcp-accept-local
ipcp-accept-remote
defaultroute
noccp
unit $4
linkname $1
debug
logfile $xl/pppd-$1.log
EOF
}
ppp_opts pap static lacpass 0
ppp_opts chap lac1 lacpass 1
ppp_opts badpass lac2 wrongpass 2
ppp_opts badsecret lac3 lacpass 3
# "challenge = yes": xl2tpd also challenges the LNS and checks its answer (the LNS always
# challenges when it has l2tp_secret). "require authentication = no": pppd does not ask the LNS
# to authenticate itself (that is PPP, not tunnel authentication). "refuse chap" makes the PAP
# login PAP only; "refuse pap" makes pppd Nak the LNS's PAP (first in radius_authtypes
# "pap,chap") so the CHAP login needs the LNS to fall back.
lac_section() { # lac_section NAME HOSTNAME CHALLENGE REFUSE
	cat <<EOF
[lac $1]
lns = 10.201.0.1
hostname = $2
challenge = $3
require authentication = no
refuse $4 = yes
redial = no
autodial = no
ppp debug = yes
pppoptfile = $xl/$1.options

EOF
}
{
	cat <<EOF
[global]
port = 1701
auth file = $xl/l2tp-secrets
access control = no
debug tunnel = yes
debug state = yes
debug avp = yes

EOF
	lac_section pap goodlac yes chap
	lac_section chap goodlac yes pap
	lac_section badpass goodlac yes chap
	# No challenge of its own: the LNS's check of xl2tpd's answer is what is tested.
	lac_section badsecret badlac no chap
} >"$xl/xl2tpd.conf"
mkfifo "$ctl"
setsid ip netns exec "$ns_lac" /usr/sbin/xl2tpd -D -c "$xl/xl2tpd.conf" -s "$xl/l2tp-secrets" \
	-p "$xl/xl2tpd.pid" -C "$ctl" </dev/null >"$xl_log" 2>&1 &
xl_pid=$!
pids+=($xl_pid)
check "xl2tpd started with the kernel L2TP data path" \
	wait_until 30 'grep -q "Using l2tp kernel support" "$xl_log"'
diag

# --- 1. PAP login, address from Framed-IP-Address, pings both ways -------------------------------
from_xl=$(size "$xl_log")
check "PAP: xl2tpd told to dial [lac pap]" ctl_cmd "c pap"
check "PAP: ppp0 up in the LAC namespace with an IPv4 address" \
	wait_until 90 '[ -n "$(ppp_addr ppp0)" ]'
read -r pap_local pap_peer <<<"$(ppp_addr ppp0)"
echo "# ppp0: local ${pap_local:-none} peer ${pap_peer:-none}"
check "PAP: ppp0 has FreeRADIUS's Framed-IP-Address 10.211.0.7 (got ${pap_local:-none})" \
	test "${pap_local:-}" = 10.211.0.7
check "PAP: ppp0's peer is the LNS's IPCP address 10.200.0.1 (got ${pap_peer:-none})" \
	test "${pap_peer:-}" = 10.200.0.1
check "PAP: pppd authenticated with PAP" grep -q "PAP authentication succeeded" "$xl/pppd-pap.log"
check "PAP: the Access-Request for static carried User-Password" radius_request_has static User-Password
check_sh "PAP: l2tpns logged user static up with 10.211.0.7" \
	"grep -q 'user static up with 10.211.0.7' '$lns_dir/l2tpns.log'"
check "PAP: LAC pings the server behind the LNS (10.202.0.2) over ppp0" \
	in_lac ping -c 3 -i 0.3 -w 30 -I ppp0 10.202.0.2
check "PAP: the server pings the subscriber's ppp0 address 10.211.0.7 through the LNS" \
	in_srv ping -c 3 -i 0.3 -w 30 10.211.0.7

# --- 3. tunnel authentication (good secret): both ways, tunnel up ---------------------------------
check "tunnel auth: xl2tpd established the tunnel to the LNS" \
	grep_new "$xl_log" "$from_xl" 'Connection established to 10\.201\.0\.1'
check "tunnel auth: xl2tpd accepted the LNS's answer to its challenge" \
	sh -c "! grep -q 'Invalid challenge authentication' '$xl_log'"
check_sh "tunnel auth: l2tpns logged the tunnel up with goodlac" \
	"grep -q 'tunnel [0-9]* up with 10.201.0.2:1701 (goodlac)' '$lns_dir/l2tpns.log'"
check_shown "tunnel auth: on the wire, LNS challenged and answered, LAC answered (goodlac)" \
	tunnel_auth ok goodlac

# --- 5a. hang-up by xl2tpd ("d pap": StopCCN), Acct-Stop ------------------------------------------
from_lns=$(size "$lns_dir/l2tpns.log")
check "hang-up (xl2tpd d pap): control command accepted" ctl_cmd "d pap"
check "hang-up (xl2tpd d pap): ppp0 gone in the LAC namespace" \
	wait_until 60 '! in_lac ip link show ppp0 >/dev/null 2>&1'
check "hang-up (xl2tpd d pap): Acct-Stop for static in the detail file" wait_stop static
check "hang-up (xl2tpd d pap): l2tpns ended the session" \
	grep_new "$lns_dir/l2tpns.log" "$from_lns" ': ended \('
# 3 echo requests from the LAC and 3 replies to the server's pings each way, 84 octets each.
records static | sed 's/^/# acct: /'
check "hang-up (xl2tpd d pap): Acct-Start before, Stop with the pings counted (>= 504 octets each way)" \
	q static 'any(x["status"] == "Start" for x in r) and any(x["status"] == "Stop" and x["in"] >= 504 and x["out"] >= 504 and x["cause"] for x in r)'
diag "$xl/pppd-pap.log"

# --- 2. CHAP login (pppd refuses PAP), pool address, pings both ways -------------------------------
check "CHAP: xl2tpd told to dial [lac chap]" ctl_cmd "c chap"
check "CHAP: ppp1 up in the LAC namespace with an IPv4 address" \
	wait_until 90 '[ -n "$(ppp_addr ppp1)" ]'
read -r chap_local chap_peer <<<"$(ppp_addr ppp1)"
echo "# ppp1: local ${chap_local:-none} peer ${chap_peer:-none}"
# lac1's Framed-IP-Address is 255.255.255.254 ("NAS picks"): an address of ip_pool.
check "CHAP: ppp1 has an address of the pool 10.210.0.0/24 (got ${chap_local:-none})" \
	sh -c "case '${chap_local:-}' in 10.210.0.*) exit 0 ;; esac; exit 1"
check "CHAP: ppp1's peer is 10.200.0.1 (got ${chap_peer:-none})" test "${chap_peer:-}" = 10.200.0.1
check "CHAP: pppd authenticated with CHAP" grep -q "CHAP authentication succeeded" "$xl/pppd-chap.log"
# radius_authtypes "pap,chap": the LNS asks for PAP first, pppd (refuse-pap) Naks it with
# CHAP-MD5 and the LNS must ask again with CHAP.
check_out "CHAP: pppd Nak'd the LNS's PAP with CHAP MD5, the LNS switched to CHAP" \
	'sent \[LCP ConfNak id=0x[0-9a-f]+ <auth chap MD5>\]' grep -E 'LCP Conf|CHAP|PAP' "$xl/pppd-chap.log"
check "CHAP: no PAP authentication in pppd's log" \
	sh -c "! grep -q 'PAP authentication' '$xl/pppd-chap.log'"
check "CHAP: the Access-Request for lac1 carried CHAP-Password" radius_request_has lac1 CHAP-Password
check_sh "CHAP: l2tpns logged user lac1 up with ${chap_local:-?}" \
	"grep -q 'user lac1 up with ${chap_local:-none}\$' '$lns_dir/l2tpns.log'"
check "CHAP: LAC pings the server behind the LNS (10.202.0.2) over ppp1" \
	in_lac ping -c 3 -i 0.3 -w 30 -I ppp1 10.202.0.2
check "CHAP: the server pings the subscriber's ppp1 address through the LNS" \
	in_srv ping -c 3 -i 0.3 -w 30 "${chap_local:-10.210.0.255}"

# --- 5b. hang-up by killing pppd (LCP Terminate, then xl2tpd's CDN), Acct-Stop --------------------
from_lns=$(size "$lns_dir/l2tpns.log")
chap_pppd=$(head -1 /run/ppp-chap.pid 2>/dev/null)
check "hang-up (kill pppd): pppd of [lac chap] has a pid file (${chap_pppd:-none})" \
	test -n "${chap_pppd:-}"
# Never "kill 0" (the whole process group) when there is no pid.
if [ -n "${chap_pppd:-}" ]; then
	check "hang-up (kill pppd): SIGTERM to pppd $chap_pppd" kill -TERM "$chap_pppd"
fi
check "hang-up (kill pppd): ppp1 gone in the LAC namespace" \
	wait_until 60 '! in_lac ip link show ppp1 >/dev/null 2>&1'
check "hang-up (kill pppd): l2tpns ended the session" \
	grep_new "$lns_dir/l2tpns.log" "$from_lns" ': ended \('
check "hang-up (kill pppd): Acct-Stop for lac1 in the detail file" wait_stop lac1
records lac1 | sed 's/^/# acct: /'
check "hang-up (kill pppd): Stop with the pings counted (>= 504 octets each way)" \
	q lac1 'any(x["status"] == "Stop" and x["in"] >= 504 and x["out"] >= 504 and x["cause"] for x in r)'
diag "$xl/pppd-chap.log"

# --- 4. wrong PPP password ----------------------------------------------------------------------
check "wrong password: xl2tpd told to dial [lac badpass]" ctl_cmd "c badpass"
check "wrong password: pppd logged the PAP failure (AuthNak from the LNS)" \
	wait_until 90 'grep -q "PAP authentication failed" "$xl/pppd-badpass.log" 2>/dev/null'
# The exit code is not asserted: pppd would exit 19 (EXIT_AUTH_TOPEER_FAILED) on its own, but the
# LNS's CDN right after its LCP Terminate makes xl2tpd SIGTERM pppd first, whichever is quicker.
check "wrong password: pppd terminated the link and exited" \
	wait_until 60 'grep -q "Connection terminated" "$xl/pppd-badpass.log" && ! pgrep -f "$xl/badpass.options" >/dev/null'
grep 'pppd exited for call' "$xl_log" | sed 's/^/# /'
check "wrong password: ppp2 never got an address" test -z "$(ppp_addr ppp2)"
check_sh "wrong password: FreeRADIUS rejected lac2 (Login incorrect, Access-Reject)" \
	"grep -q 'Login incorrect.*\[lac2' '$radius_dir/radiusd.log' && grep -q 'Sent Access-Reject' '$radius_dir/radiusd.log'"
check_sh "wrong password: l2tpns logged lac2 rejected by RADIUS, never up" \
	"grep -q 'lac2 rejected by RADIUS' '$lns_dir/l2tpns.log' && ! grep -q 'user lac2 up' '$lns_dir/l2tpns.log'"
check "wrong password: no accounting record for lac2" q lac2 'len(r) == 0'
diag "$xl/pppd-badpass.log"

# --- 3b. wrong tunnel secret --------------------------------------------------------------------
from_xl=$(size "$xl_log")
check "wrong secret: xl2tpd told to dial [lac badsecret]" ctl_cmd "c badsecret"
# xl2tpd logs the StopCCN's result ("peer closing for reason 4", with debug avp) and closes.
check "wrong secret: xl2tpd got StopCCN result 4 (not authorized) from the LNS" \
	wait_until 90 'grep_new "$xl_log" "$from_xl" "peer closing for reason 4"'
check_shown "wrong secret: on the wire, LNS challenged, then StopCCN 4, no call answered (badlac)" \
	tunnel_auth refused badlac
check_sh "wrong secret: l2tpns never had the tunnel up" \
	"! grep -q 'up with 10.201.0.2:1701 (badlac)' '$lns_dir/l2tpns.log'"
check_sh "wrong secret: l2tpns logged the refusal and why" \
	"grep -q 'tunnel from 10.201.0.2:[0-9]* refused: closed by us (result 4, error 0: wrong challenge response)' '$lns_dir/l2tpns.log'"
check "wrong secret: no ppp3 in the LAC namespace" sh -c '! ip netns exec "$1" ip link show ppp3 >/dev/null 2>&1' sh "$ns_lac"
check "wrong secret: FreeRADIUS never saw lac3 (no session was attempted)" \
	sh -c "! grep -q 'User-Name = \"lac3\"' '$radius_dir/radiusd.log'"
diag "$xl/pppd-badsecret.log"

# --- the daemons survived it all ----------------------------------------------------------------
check "l2tpns still running" kill -0 "$lns_pid"
check "l2tpns did not panic" no_panic
check "xl2tpd still running" kill -0 "$xl_pid"
diag
tap_done
