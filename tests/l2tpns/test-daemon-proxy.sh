#!/bin/bash
# Proxy LCP and proxy authentication (RFC 2661 §4.4.5) against our l2tpns with FreeRADIUS:
# l2tp-lac acts as a real LAC (--proxy-auth: it negotiates LCP and PAP/CHAP with its own
# client and sends the result in the ICCN). With `lcp_renegotiation on-mismatch` the LNS sends
# no LCP Configure-Request, the proxied credentials go to RADIUS and the sessions come up and
# pass traffic; a wrong proxied password is rejected (CDN). With `always` (SIGHUP) the LNS
# renegotiates LCP and the sessions still come up; with `on-mismatch` a proxy we cannot take
# (an authentication protocol we do not allow) is refused and LCP renegotiated.
# Needs root, /usr/sbin/freeradius, python3, l2tpns and l2tp-lac in $NETEDGE_BIN_DIR.
set -u
. "$(dirname "$0")/daemon-env.inc"

check "three namespaces and two veth pairs set up" setup_net || exit 1
check "FreeRADIUS ready in the LNS namespace" start_radius || exit 1
write_lns_config "set lcp_renegotiation on-mismatch"
check "l2tpns listening on 10.201.0.1:1701" start_lns || { show_lns_log; exit 1; }
check "echo server listening in the server namespace" start_echo || exit 1

log=$lns_dir/l2tpns.log
count_log() { grep -c "$1" "$log" 2>/dev/null || true; }
# proxied NAME AUTH: 10 proxied sessions up, none saw an LCP Configure-Request from the LNS,
# traffic without loss.
proxied() {
    local name=$1 auth=$2
    local before
    before=$(count_log 'proxy LCP accepted')
    if run_lac "$name" "$auth" 10 1 200 2 --proxy-auth; then
        ok "proxy $auth: 10 sessions up ($(field "$work/$name.json" setup_rate) sessions/s)"
    else
        notok "proxy $auth: 10 sessions up"
    fi
    local confreqs sent received
    confreqs=$(field "$work/$name.json" lcp_confreqs_received)
    check "proxy $auth: no LCP Configure-Request from the LNS ($confreqs)" [ "${confreqs:-x}" = 0 ]
    check "proxy $auth: the LNS took the proxy LCP of all 10 calls" \
        [ $(($(count_log 'proxy LCP accepted') - before)) = 10 ]
    sent=$(field "$work/$name.json" sent)
    received=$(field "$work/$name.json" received)
    check "proxy $auth: traffic through the sessions, no loss ($received of $sent)" \
        [ "${sent:-0}" -gt 0 -a "${received:-0}" = "${sent:-x}" ]
}

proxied proxy-pap pap
check "proxy PAP: RADIUS got the proxied password as User-Password" \
    grep -q 'User-Password = "lacpass"' "$radius_dir/radiusd.log"
proxied proxy-chap chap
check "proxy CHAP: RADIUS checked the LAC's challenge and response (CHAP-Challenge sent)" \
    grep -q 'CHAP-Challenge = ' "$radius_dir/radiusd.log"

# --- a proxied login RADIUS rejects: CHAP Failure with the client's identifier, then CDN ------
rejects=$(count_log 'rejected by RADIUS')
in_lac "$lac" --lns 10.201.0.1 --bind 10.201.0.2:0 --sessions 1 --auth chap --user nobody \
    --password wrong --secret tunnelsecret --setup-timeout 20 --duration 0 --proxy-auth --json \
    >"$work/proxy-bad.json" 2>"$work/proxy-bad.err"
check "rejected proxy login: l2tp-lac exits non-zero" [ $? != 0 ]
sed 's/^/# stderr: /' "$work/proxy-bad.err" | head -5
check "rejected proxy login: no session up" [ "$(field "$work/proxy-bad.json" sessions_up)" = 0 ]
check "rejected proxy login: FreeRADIUS rejected the proxied CHAP response" \
    grep -q 'Login incorrect.*\[nobody' "$radius_dir/radiusd.log"
check "rejected proxy login: counted by l2tpns" [ "$(count_log 'rejected by RADIUS')" -gt "$rejects" ]
# The client only takes a Failure whose identifier is its Response's: the Proxy Authen ID.
failure=$(grep -n 'authentication failed: go away' "$work/proxy-bad.err" | head -1 | cut -d: -f1)
cdn=$(grep -n 'down: Peer' "$work/proxy-bad.err" | head -1 | cut -d: -f1)
check "rejected proxy login: the client got the CHAP Failure with the Reply-Message" [ -n "$failure" ]
check "rejected proxy login: then the LNS cleared the call with CDN" \
    [ -n "$cdn" ] && [ -n "$failure" ] && [ "$failure" -lt "$cdn" ]
check "rejected proxy login: still no LCP Configure-Request from the LNS" \
    [ "$(field "$work/proxy-bad.json" lcp_confreqs_received)" = 0 ]

# --- lcp_renegotiation always (SIGHUP): the proxy AVPs are ignored, LCP renegotiated --------
write_lns_config "set lcp_renegotiation always"
kill -HUP "$lns_pid"
for _ in $(seq 1 50); do
    grep -q 'reloaded .*lcp_renegotiation' "$log" && break
    sleep 0.1
done
check "SIGHUP: lcp_renegotiation always reloaded" grep -q 'reloaded .*lcp_renegotiation' "$log"
accepted=$(count_log 'proxy LCP accepted')
if run_lac always chap 5 1 100 1 --proxy-auth; then
    ok "always: 5 proxied CHAP sessions up after LCP renegotiation"
else
    notok "always: 5 proxied CHAP sessions up after LCP renegotiation"
fi
confreqs=$(field "$work/always.json" lcp_confreqs_received)
check "always: the LNS sent its own LCP Configure-Requests ($confreqs)" [ "${confreqs:-0}" -ge 5 ]
check "always: no proxy LCP taken" [ "$(count_log 'proxy LCP accepted')" = "$accepted" ]
check "always: traffic through the sessions, no loss" \
    [ "$(field "$work/always.json" received)" = "$(field "$work/always.json" sent)" -a "$(field "$work/always.json" sent)" -gt 0 ]

# --- on-mismatch with a proxy we cannot take: CHAP only, the LAC did PAP -------------------
# The proxy is refused and LCP renegotiated (the original's fallback); this PAP-only client
# then refuses CHAP, so the login fails: what matters is that the LNS renegotiated.
write_lns_config "set lcp_renegotiation on-mismatch" "set radius_authtypes \"chap\""
kill -HUP "$lns_pid"
for _ in $(seq 1 50); do
    [ "$(grep -c 'reloaded .*radius_authtypes' "$log")" -ge 1 ] && break
    sleep 0.1
done
check "SIGHUP: on-mismatch, radius_authtypes chap reloaded" grep -q 'reloaded .*radius_authtypes' "$log"
in_lac "$lac" --lns 10.201.0.1 --bind 10.201.0.2:0 --sessions 1 --auth pap --user lac0 \
    --password lacpass --secret tunnelsecret --setup-timeout 15 --duration 0 --proxy-auth --json \
    >"$work/mismatch.json" 2>"$work/mismatch.err"
check "mismatch: the PAP-only client does not get in" [ $? != 0 ]
check "mismatch: the LNS refused the proxy (PAP not allowed) and renegotiated" \
    grep -q 'proxy LCP not acceptable (LAC negotiated an authentication method we do not allow)' "$log"
check "mismatch: the LNS sent LCP Configure-Requests ($(field "$work/mismatch.json" lcp_confreqs_received))" \
    [ "$(field "$work/mismatch.json" lcp_confreqs_received)" -gt 0 ]

# The operator's view: the counters line (logged every 5 s when it changed). 21 proxies
# taken: 10 PAP, 10 CHAP and the rejected login (its LCP was acceptable, RADIUS said no).
for _ in $(seq 1 70); do
    [ "$(counter proxy_lcp_renegotiated)" = 1 ] && break
    sleep 0.1
done
check "counters: proxy_lcp_accepted=21 proxy_lcp_renegotiated=1 ($(counter proxy_lcp_accepted), $(counter proxy_lcp_renegotiated))" \
    [ "$(counter proxy_lcp_accepted)" = 21 -a "$(counter proxy_lcp_renegotiated)" = 1 ]
check "l2tpns still running" kill -0 "$lns_pid"
check "no panic in the l2tpns log" no_panic
# SIGQUIT: a clean shutdown. The EXIT trap's SIGTERM would save the sessions to the default
# state dir, where the next daemon test started within 60 s would resume them.
kill -QUIT "$lns_pid"
for _ in $(seq 1 100); do not_running "$lns_pid" && break; sleep 0.1; done
check "l2tpns shut down on SIGQUIT" not_running "$lns_pid"
not_running "$lns_pid" && lns_pid=
[ "$failures" = 0 ] || show_lns_log
exit $((failures > 0))
