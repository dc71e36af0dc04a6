#!/bin/bash
# Per-session behaviours of our l2tpns with FreeRADIUS and l2tp-lac, on short timers:
# Idle-Timeout (a quiet session is closed, a busy one is not), interim accounting (the
# config's radius_interim, and RADIUS Acct-Interim-Interval clamped to RFC 2869's 60 s),
# LCP echo keepalive (echo_timeout / idle_echo_timeout: no packet at all from the user ends
# the session, data or answered echoes keep it), allow_duplicate_users no/yes, guest_account,
# Calling/Called-Station-Id from the ICRQ, the sticky pool, Framed-IP-Address
# 255.255.255.254 and DNS servers from the config or from RADIUS in IPCP.
# Needs root, /usr/sbin/freeradius, python3, l2tpns and l2tp-lac in $NETEDGE_BIN_DIR.
set -u
RADIUS_EXTRA_USERS='idle Cleartext-Password := "lacpass"
        Service-Type = Framed-User,
        Framed-Protocol = PPP,
        Idle-Timeout = 3

busy Cleartext-Password := "lacpass"
        Service-Type = Framed-User,
        Framed-Protocol = PPP,
        Idle-Timeout = 3

interim60 Cleartext-Password := "lacpass"
        Service-Type = Framed-User,
        Framed-Protocol = PPP,
        Acct-Interim-Interval = 60

dnsuser Cleartext-Password := "lacpass"
        Service-Type = Framed-User,
        Framed-Protocol = PPP,
        Framed-IP-Address = 255.255.255.254,
        MS-Primary-DNS-Server = 10.202.0.60,
        MS-Secondary-DNS-Server = 10.202.0.61

dup Cleartext-Password := "lacpass"
        Service-Type = Framed-User,
        Framed-Protocol = PPP

guest Cleartext-Password := "lacpass"
        Service-Type = Framed-User,
        Framed-Protocol = PPP'
. "$(dirname "$0")/daemon-env.inc"
SIZE=200
t_start=$(date +%s)

check "three namespaces and two veth pairs set up" setup_net || exit 1
check "FreeRADIUS ready in the LNS namespace" start_radius || exit 1
# Short keepalive: an Echo-Request every second, nothing from the user for 3 s ends it.
write_lns_config "set echo_timeout 1" "set idle_echo_timeout 3" "set radius_interim 2" \
    "set secondary_dns 10.202.0.54" "set guest_account \"guest\"" "set allow_duplicate_users no"
check "l2tpns listening on 10.201.0.1:1701" start_lns || { show_lns_log; exit 1; }
check "echo server listening in the server namespace" start_echo || exit 1
detail=$radius_dir/detail

# --- in the background for 64 s: Acct-Interim-Interval from RADIUS -----------------------------------
lac interim60 interim60 --rate 4 --duration 64 &
interim60_job=$!

# --- at once: Idle-Timeout, interim from the config, keepalive ----------------------------------------
lac idle idle --rate 0 --duration 7 --calling-number 0301234567 --called-number lns.example &
idle_job=$!
lac busy busy --rate 20 --duration 7 &
busy_job=$!
lac interim lac700 --rate 10 --duration 7 &
interim_job=$!
lac noecho lac701 --rate 0 --duration 8 --ignore-echo-after 1 &
noecho_job=$!
# One probe every 2 s: gaps longer than echo_timeout (echoes go out, and are ignored) but
# shorter than idle_echo_timeout.
lac noecho_data lac702 --rate 0.5 --duration 8 --ignore-echo-after 1 &
noecho_data_job=$!
lac echo lac703 --rate 0 --duration 8 &
echo_job=$!
# Busy: a probe every 100 ms, so never echo_timeout (1 s) without traffic.
lac busy_echo lac704 --rate 10 --duration 8 &
busy_echo_job=$!
wait $idle_job $busy_job $interim_job $noecho_job $noecho_data_job $echo_job $busy_echo_job

# 1. Idle-Timeout (RADIUS): no data for 3 s closes the session; echo replies are no traffic.
show idle
check "Idle-Timeout: the quiet session was cleared by the LNS (CDN) before the LAC hung up" cleared idle
check "Idle-Timeout: Acct-Stop with Terminate-Cause Idle-Timeout after 3-4 s" \
    q idle 'any(x["status"] == "Stop" and x["cause"] == "Idle-Timeout" and 3 <= x["time"] <= 4 for x in r)'
check "Idle-Timeout: the session with traffic was not cleared" eval '! cleared busy'
check "Idle-Timeout: the busy session's probes all came back ($(field "$work/busy.json" received) of $(field "$work/busy.json" sent))" \
    [ "$(field "$work/busy.json" received)" -gt 100 -a "$(field "$work/busy.json" received)" = "$(field "$work/busy.json" sent)" ]
wait_stop busy
check "Idle-Timeout: the busy session's Acct-Stop is not Idle-Timeout" \
    q busy 'len([x for x in r if x["status"] == "Stop"]) == 1 and all(x["cause"] != "Idle-Timeout" for x in r)'

# 2. Interim accounting from radius_interim (2 s): records 2 s apart, octets growing, the Stop
# has exactly the octets sent.
wait_stop lac700
sent=$(field "$work/interim.json" sent)
check "radius_interim 2: at least 3 Interim-Update records in 7 s" \
    q lac700 'len([x for x in r if x["status"] == "Interim-Update"]) >= 3'
check "radius_interim 2: Interim-Updates 2 s apart (Acct-Session-Time 2, 4, 6, ...)" \
    q lac700 '(lambda t: 2 <= t[0] <= 3 and all(1 <= b - a <= 3 for a, b in zip(t, t[1:])) and abs(t[-1] - t[0] - 2 * (len(t) - 1)) <= 1)([x["time"] for x in r if x["status"] == "Interim-Update"])'
check "radius_interim 2: input octets grow from record to record, in whole probes" \
    q lac700 'all(0 < a["in"] < b["in"] and a["in"] % '$SIZE' == 0 for a, b in zip([x for x in r if x["status"] != "Start"], [x for x in r if x["status"] != "Start"][1:]))'
check "radius_interim 2: each interim's octets match ~2 s of 10 probes/s" \
    q lac700 'all(abs(x["in"] - x["time"] * 10 * '$SIZE') <= 10 * '$SIZE' for x in r if x["status"] == "Interim-Update")'
check "radius_interim 2: Acct-Stop input octets = probes sent x $SIZE ($sent x $SIZE)" \
    q lac700 '[x["in"] for x in r if x["status"] == "Stop"] == ['$((sent * SIZE))']'
check "radius_interim 2: Acct-Stop output octets = probes echoed x $SIZE" \
    q lac700 '[x["out"] for x in r if x["status"] == "Stop"] == ['$(($(field "$work/interim.json" received) * SIZE))']'

# 3. Keepalive: echo_timeout 1, idle_echo_timeout 3.
show noecho
check "keepalive: the LAC left Echo-Requests unanswered ($(field "$work/noecho.json" echo_ignored))" \
    [ "$(field "$work/noecho.json" echo_ignored)" -ge 2 ]
check "keepalive: a silent LAC that ignores echoes is cleared by the LNS (CDN)" cleared noecho
wait_stop lac701
check "keepalive: Acct-Stop Lost-Carrier ~3 s (idle_echo_timeout) after the last answer" \
    q lac701 'any(x["status"] == "Stop" and x["cause"] == "Lost-Carrier" and 3 <= x["time"] <= 6 for x in r)'
check "keepalive: a LAC that ignores echoes but sends data keeps its session (no packet at all from the user)" \
    eval '! cleared noecho_data && [ "$(field "$work/noecho_data.json" echo_ignored)" -ge 2 ]'
check "keepalive: a quiet LAC that answers echoes keeps its session" eval '! cleared echo'
check "keepalive: no Echo-Request to a session with traffic (ppp_keepalive yes: only after echo_timeout without any), to the quiet one $(field "$work/echo.json" lcp_echo_requests_received)" \
    eval '! cleared busy_echo && [ "$(field "$work/busy_echo.json" lcp_echo_requests_received)" = 0 ] && [ "$(field "$work/echo.json" lcp_echo_requests_received)" -ge 4 ]'
wait_stop lac703
check "keepalive: ... and its Acct-Stop is the LAC's hang-up, not Lost-Carrier" \
    q lac703 'all(x["cause"] != "Lost-Carrier" for x in r if x["status"] == "Stop")'

# 6. Called/Calling-Station-Id from the ICRQ's Called/Calling Number AVPs.
check "Calling-Station-Id in the Access-Request" grep -q 'Calling-Station-Id = "0301234567"' "$radius_dir/radiusd.log"
check "Called-Station-Id in the Access-Request" grep -q 'Called-Station-Id = "lns.example"' "$radius_dir/radiusd.log"
check "Calling/Called-Station-Id in every accounting record of the session" \
    q idle 'len(r) >= 2 and all(x["calling"] == "0301234567" and x["called"] == "lns.example" for x in r)'

# 7. DNS in IPCP: from the config (primary_dns, secondary_dns), or from RADIUS (MS-*-DNS-Server).
lac dns_cfg lac710 --rate 0 --duration 0
check "DNS from the config in IPCP: $(field "$work/dns_cfg.json" dns)" \
    [ "$(field "$work/dns_cfg.json" dns)" = "['10.202.0.53', '10.202.0.54']" ]
lac dns_radius dnsuser --rate 0 --duration 0
check "DNS from RADIUS (MS-Primary/Secondary-DNS-Server) in IPCP: $(field "$work/dns_radius.json" dns)" \
    [ "$(field "$work/dns_radius.json" dns)" = "['10.202.0.60', '10.202.0.61']" ]
in_pool() { [[ $1 =~ ^10\.21[01]\.0\.[0-9]+$ ]]; }
a=$(field "$work/dns_radius.json" addresses | tr -d "[]'")
check "Framed-IP-Address 255.255.255.254: a pool address ($a)" in_pool "$a"

# 7. Sticky pool: a user logging in again gets its address back, even after another user
# took an address meanwhile (least recently freed first).
lac sticky1 lac720 --rate 0 --duration 0
first=$(field "$work/sticky1.json" addresses | tr -d "[]'")
lac sticky_other lac721 --rate 0 --duration 0
other=$(field "$work/sticky_other.json" addresses | tr -d "[]'")
lac sticky2 lac720 --rate 0 --duration 0
again=$(field "$work/sticky2.json" addresses | tr -d "[]'")
check "pool: lac720 got a pool address ($first)" in_pool "$first"
check "pool: another user did not get lac720's freed address ($other)" [ -n "$other" -a "$other" != "$first" ]
check "pool: lac720 logging in again gets the same address ($again)" [ "$again" = "$first" ]

# 4. allow_duplicate_users no: the second login of a user clears the first.
lac dup1 dup --rate 0 --duration 4 &
dup1_job=$!
sleep 1.5
lac dup2 dup --rate 5 --duration 1
check "allow_duplicate_users no: the second login is up" [ $? = 0 ]
wait $dup1_job
show dup1
check "allow_duplicate_users no: the first session was cleared (CDN at the LAC)" cleared dup1
check "allow_duplicate_users no: the second was not" eval '! cleared dup2'
wait_stop dup
check "allow_duplicate_users no: the first session's Acct-Stop came while the second was up" \
    q dup 'len([x for x in r if x["status"] == "Start"]) == 2 and any(x["status"] == "Stop" and x["time"] <= 2 for x in r)'

# 5. guest_account: exempt from the duplicate-user kill.
lac guest1 guest --rate 0 --duration 4 &
guest1_job=$!
sleep 1.5
lac guest2 guest --rate 0 --duration 1
check "guest_account: a second login of the guest account is up" [ $? = 0 ]
wait $guest1_job
check "guest_account: the first guest session was not cleared" eval '! cleared guest1'

# allow_duplicate_users yes (SIGHUP): both logins stay.
sed -i 's/^set allow_duplicate_users .*/set allow_duplicate_users yes/' "$lns_dir/startup-config"
kill -HUP "$lns_pid"
for i in $(seq 1 30); do grep -q 'reloaded .*allow_duplicate_users' "$lns_dir/l2tpns.log" && break; sleep 0.1; done
check "SIGHUP: allow_duplicate_users yes reloaded" grep -q 'reloaded .*allow_duplicate_users' "$lns_dir/l2tpns.log"
lac dupy1 dup --rate 0 --duration 4 &
dupy1_job=$!
sleep 1.5
lac dupy2 dup --rate 5 --duration 1
check "allow_duplicate_users yes: the second login is up" [ $? = 0 ]
wait $dupy1_job
check "allow_duplicate_users yes: the first session was not cleared" eval '! cleared dupy1'
check "allow_duplicate_users yes: two sessions of dup, each with Start and Stop" \
    q dup 'len([x for x in r if x["status"] in ("Start", "Stop")]) == 8 and len({x["id"] for x in r if x["status"] == "Start"}) == 4'

# 2. Acct-Interim-Interval from RADIUS overrides radius_interim, clamped to 60 s (RFC 2869
# §5.16: it MUST NOT be smaller than 60).
wait $interim60_job
wait_stop interim60
check "Acct-Interim-Interval 60 (RADIUS): exactly one Interim-Update, at Acct-Session-Time 60-61" \
    q interim60 '[x["time"] for x in r if x["status"] == "Interim-Update"] in ([60], [61])'
check "Acct-Interim-Interval 60: its octets are ~60 s of 4 probes/s, below the Stop's" \
    q interim60 'all(abs(x["in"] - x["time"] * 4 * '$SIZE') <= 4 * '$SIZE' and x["in"] < r[-1]["in"] for x in r if x["status"] == "Interim-Update")'
sent=$(field "$work/interim60.json" sent)
check "Acct-Interim-Interval 60: Acct-Stop input octets = probes sent x $SIZE ($sent)" \
    q interim60 '[x["in"] for x in r if x["status"] == "Stop"] == ['$((sent * SIZE))']'

check "no crash: no panic in the daemon's output" no_panic
echo "# run time $(($(date +%s) - t_start)) s; $(counters)"
[ "$failures" = 0 ]
