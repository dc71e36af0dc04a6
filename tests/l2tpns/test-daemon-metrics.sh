#!/bin/bash
# The metrics listener of our l2tpns, with FreeRADIUS and l2tp-lac sessions passing probes:
# GET /metrics parsed by the real Prometheus text parser (Debian's python3-prometheus-client,
# prometheus_client.parser.text_string_to_metric_families) and the OpenMetrics one; the
# sessions gauge, the pool and the data-plane counters follow the sessions; GET /sessions is
# the JSON of every session's user and address; 404, 405; a client that sends nothing (or a
# byte a second) does not hold up a concurrent scrape and is closed at its deadline; an
# oversized request is closed; the listener is on 127.0.0.1 only; off loopback it needs a
# bearer token (refused at start without one); --metrics off listens nowhere.
# Needs root, /usr/sbin/freeradius, python3-prometheus-client, curl, l2tpns and l2tp-lac.
set -u
. "$(dirname "$0")/daemon-env.inc"
# Debian's python, whose dist-packages hold python3-prometheus-client.
py=/usr/bin/python3
if ! "$py" -c 'import prometheus_client.parser' 2>/dev/null; then
    notok "prerequisite python3-prometheus-client present (apt-get install python3-prometheus-client)"
    exit 1
fi
if ! command -v curl >/dev/null; then
    notok "prerequisite curl present"
    exit 1
fi
sessions=${METRICS_SESSIONS:-40} # at most the pool (508), a multiple of $tunnels
tunnels=4
port=9702
url=http://127.0.0.1:$port

check "three namespaces and two veth pairs set up" setup_net || exit 1
check "FreeRADIUS ready in the LNS namespace" start_radius || exit 1
write_lns_config
check "l2tpns listening on 10.201.0.1:1701" start_lns || { show_lns_log; exit 1; }
check "echo server listening in the server namespace" start_echo || exit 1
check "the metrics listener is on 127.0.0.1:$port only" \
    eval "in_lns ss -ltn | grep -q '127.0.0.1:$port ' && ! in_lns ss -ltn | grep -q '[*0]:$port '"

# scrape NAME [URL [TOKEN [ACCEPT]]]: GET /metrics in the LNS namespace, parsed by the real
# parser, as JSON {sample{labels}: value, _seconds, _families, _untyped: [...]} in NAME.json.
cat >"$work/scrape.py" <<'PY'
import json, sys, time, urllib.request
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_families
url = sys.argv[1]
req = urllib.request.Request(url)
if len(sys.argv) > 2 and sys.argv[2]:
    req.add_header("Authorization", "Bearer " + sys.argv[2])
openmetrics = len(sys.argv) > 3 and sys.argv[3] == "openmetrics"
if openmetrics:
    req.add_header("Accept", "application/openmetrics-text; version=1.0.0")
t = time.monotonic()
with urllib.request.urlopen(req, timeout=10) as r:
    body = r.read().decode()
    ctype = r.headers.get("Content-Type")
dt = time.monotonic() - t
out = {"_seconds": dt, "_bytes": len(body), "_families": 0, "_untyped": [], "_content_type": ctype}
for f in (om_families if openmetrics else text_string_to_metric_families)(body):
    out["_families"] += 1
    # A family without HELP or TYPE comes out untyped (or unknown) with no documentation.
    if f.type in ("untyped", "unknown") or not f.documentation:
        out["_untyped"].append(f.name)
    for s in f.samples:
        labels = ",".join('%s="%s"' % kv for kv in sorted(s.labels.items()))
        out[s.name + ("{" + labels + "}" if labels else "")] = s.value
json.dump(out, sys.stdout)
PY
scrape() { in_lns "$py" "$work/scrape.py" "${2:-$url/metrics}" "${3:-}" "${4:-}" >"$work/$1.json" 2>"$work/$1.err"; }
# m NAME SAMPLE: a sample's value in scrape NAME (empty if absent), as an integer when whole.
m() {
    "$py" -c '
import json, sys
v = json.load(open(sys.argv[1])).get(sys.argv[2])
print("" if v is None else (int(v) if isinstance(v, float) and v.is_integer() else v))' "$work/$1.json" "$2"
}
http_code() { in_lns curl -s -o /dev/null -w '%{http_code}' "$@"; }

# --- sessions with traffic --------------------------------------------------------------------
scrape before
check "a scrape with no session: parsed, sessions 0, every family has HELP and TYPE" \
    eval '[ "$(m before l2tpns_sessions)" = 0 ] && [ "$(m before _untyped)" = "[]" ] && [ "$(m before _families)" -gt 20 ]'
# --sessions is per tunnel.
run_lac load pap $((sessions / tunnels)) "$tunnels" 20 20 &
lac_job=$!
up=
for _ in $(seq 1 150); do
    scrape poll && [ "$(m poll l2tpns_sessions)" = "$sessions" ] && [ "$(m poll l2tpns_session_setups_total)" = "$sessions" ] && { up=1; break; }
    sleep 0.2
done
check "the sessions gauge reaches the $sessions sessions the LAC brings up (set-ups $(m poll l2tpns_session_setups_total))" [ -n "$up" ]
sleep 1
scrape one
sleep 2
scrape two
echo "# scrape 1: up $(m one 'l2tpns_dataplane_packets_total{direction="up"}') down $(m one 'l2tpns_dataplane_packets_total{direction="down"}'); scrape 2: up $(m two 'l2tpns_dataplane_packets_total{direction="up"}') down $(m two 'l2tpns_dataplane_packets_total{direction="down"}')"
check "parsed by prometheus_client's text parser: every family has HELP and TYPE ($(m two _families) families, $(m two _content_type))" \
    eval '[ "$(m two _untyped)" = "[]" ] && [ "$(m two _families)" -gt 20 ]'
check "sessions gauge = $sessions, tunnels = $tunnels" \
    eval '[ "$(m two l2tpns_sessions)" = "$sessions" ] && [ "$(m two l2tpns_tunnels)" = "$tunnels" ]'
pool=$(( $(m before l2tpns_pool_addresses_in_use) + $(m before l2tpns_pool_addresses_free) ))
check "pool in use = sessions ($(m two l2tpns_pool_addresses_in_use)), free = the $pool of the pool less them ($(m two l2tpns_pool_addresses_free))" \
    eval '[ "$(m before l2tpns_pool_addresses_in_use)" = 0 ] && [ "$(m two l2tpns_pool_addresses_in_use)" = "$sessions" ] && [ "$(m two l2tpns_pool_addresses_free)" = $((pool - sessions)) ]'
for dir in up down; do
    check "data-plane $dir packets and bytes grow between two scrapes while probes flow" \
        eval '[ "$(m two "l2tpns_dataplane_packets_total{direction=\"$dir\"}")" -gt "$(m one "l2tpns_dataplane_packets_total{direction=\"$dir\"}")" ] &&
              [ "$(m two "l2tpns_dataplane_bytes_total{direction=\"$dir\"}")" -gt "$(m one "l2tpns_dataplane_bytes_total{direction=\"$dir\"}")" ]'
done
check "set-up failures by reason (auth_reject 0), drops by reason (no_session present), nsctl and metrics counters" \
    eval '[ "$(m two "l2tpns_session_setup_failures_total{reason=\"auth_reject\"}")" = 0 ] &&
          [ -n "$(m two "l2tpns_dataplane_dropped_total{reason=\"no_session\"}")" ] &&
          [ -n "$(m two l2tpns_nsctl_requests_total)" ] && [ "$(m two l2tpns_metrics_requests_total)" -gt 2 ]'
check "RADIUS: $sessions authentication requests, accounting requests, RTTs of the answers in the histogram ($(m two 'l2tpns_radius_rtt_seconds_count{client="auth"}'))" \
    eval '[ "$(m two "l2tpns_radius_requests_total{client=\"auth\"}")" = "$sessions" ] &&
          [ "$(m two "l2tpns_radius_requests_total{client=\"acct\"}")" -ge "$sessions" ] &&
          [ "$(m two "l2tpns_radius_rtt_seconds_count{client=\"auth\"}")" = "$sessions" ] &&
          [ "$(m two "l2tpns_radius_rtt_seconds_bucket{client=\"auth\",le=\"+Inf\"}")" = "$sessions" ]'
scrape om "$url/metrics" "" openmetrics
check "Accept: application/openmetrics-text gets OpenMetrics, parsed by the OpenMetrics parser" \
    eval '[ "$(m om l2tpns_sessions)" = "$sessions" ] && [ "$(m om _untyped)" = "[]" ] && m om _content_type | grep -q openmetrics'

# --- /sessions -------------------------------------------------------------------------------------
in_lns curl -s -o "$work/sessions.json" -w '%{http_code} %{time_total} %{size_download}\n' "$url/sessions" >"$work/sessions.code"
read -r code sessions_time sessions_size <"$work/sessions.code"
grep -o 'user lac[0-9]* up with [0-9.]*' "$lns_dir/l2tpns.log" | awk '{print $2, $5}' | sort >"$work/log-up.txt"
"$py" -c '
import json, sys
for s in json.load(open(sys.argv[1])):
    print(s["user"], s["address"])' "$work/sessions.json" 2>"$work/sessions.err" | sort >"$work/json-up.txt"
check "/sessions: 200, a JSON array of $sessions sessions ($(wc -l <"$work/json-up.txt"))" \
    eval '[ "$code" = 200 ] && [ "$(wc -l <"$work/json-up.txt")" = "$sessions" ]'
check "/sessions: each user with the address the daemon logged for it" \
    eval 'diff "$work/log-up.txt" "$work/json-up.txt" >"$work/sessions.diff" && [ "$(sort -u -k2 "$work/json-up.txt" | wc -l)" = "$sessions" ]'
sed 's/^/# /' "$work/sessions.diff" | head -5

# --- other paths and methods ---------------------------------------------------------------------
check "GET /nope: 404" eval '[ "$(http_code "$url/nope")" = 404 ]'
check "POST /metrics: 405" eval '[ "$(http_code -X POST -d x "$url/metrics")" = 405 ]'
check "DELETE /sessions: 405" eval '[ "$(http_code -X DELETE "$url/sessions")" = 405 ]'

# A client that shuts its side once the request is sent (nc -N) still gets the answer.
in_lns "$py" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
s.shutdown(socket.SHUT_WR)
s.settimeout(5)
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
print(data.split(b"\r\n")[0].decode(), len(data))' $port >"$work/halfclose.out" 2>&1
check "a request followed by a half-close is answered ($(cat "$work/halfclose.out"))" grep -q "^HTTP/1.1 200 OK [0-9]" "$work/halfclose.out"

# --- slow and oversized clients --------------------------------------------------------------------
# Two connections that send nothing and one that sends a byte a second, while a scrape runs:
# the scrape answers at once; the idle ones are closed at their deadline (5 s).
cat >"$work/slow.py" <<'PY'
import socket, sys, time
mode, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(1)
t = time.monotonic()
if mode == "oversized":
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 10000 + b"\r\n\r\n")
    except OSError:
        pass
while time.monotonic() - t < 20:
    if mode == "drip":
        try:
            s.send(b"G")
        except OSError:
            break
    try:
        data = s.recv(4096)
        if not data:
            print("closed %.1f" % (time.monotonic() - t))
            sys.exit(0)
        print("answered", data[:12])
        sys.exit(1)
    except socket.timeout:
        pass
    except OSError:
        print("closed %.1f" % (time.monotonic() - t))
        sys.exit(0)
print("open")
sys.exit(1)
PY
refused_before=$(m two l2tpns_metrics_refused_total)
in_lns "$py" "$work/slow.py" idle $port >"$work/idle1.out" 2>&1 &
idle1=$!
in_lns "$py" "$work/slow.py" idle $port >"$work/idle2.out" 2>&1 &
idle2=$!
in_lns "$py" "$work/slow.py" drip $port >"$work/drip.out" 2>&1 &
drip=$!
sleep 1
scrape during
check "a scrape while three slow clients hold connections answers promptly ($(m during _seconds) s)" \
    eval '[ "$(m during l2tpns_sessions)" = "$sessions" ] && "$py" -c "import sys; sys.exit(0 if float(sys.argv[1]) < 0.5 else 1)" "$(m during _seconds)"'
wait $idle1; r1=$?
wait $idle2; r2=$?
wait $drip; r3=$?
check "the silent clients are closed at the deadline ($(cat "$work/idle1.out"), $(cat "$work/idle2.out")), unanswered" \
    eval '[ $r1 = 0 ] && [ $r2 = 0 ] && "$py" -c "import sys; t=float(sys.argv[1].split()[1]); sys.exit(0 if 4 <= t <= 8 else 1)" "$(cat "$work/idle1.out")"'
check "the byte-a-second client is closed too ($(cat "$work/drip.out"))" [ $r3 = 0 ]
in_lns "$py" "$work/slow.py" oversized $port >"$work/big.out" 2>&1
r4=$?
check "a 10 KB request head is closed unanswered ($(cat "$work/big.out"))" [ $r4 = 0 ]
scrape after
check "metrics_refused counts them ($refused_before -> $(m after l2tpns_metrics_refused_total))" \
    eval '[ "$(m after l2tpns_metrics_refused_total)" -ge $((refused_before + 4)) ]'

# Eight connections that send nothing hold every slot: a ninth is closed at once, and once
# they are gone a scrape is answered again.
cat >"$work/cap.py" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
time.sleep(0.3)
ninth = socket.create_connection(("127.0.0.1", port))
ninth.settimeout(2)
t = time.monotonic()
try:
    closed = ninth.recv(100) == b""
except socket.timeout:
    closed = False
except OSError:
    closed = True
print("ninth %s after %.2f s" % ("closed" if closed else "still open", time.monotonic() - t))
for c in held:
    c.close()
sys.exit(0 if closed else 1)
PY
in_lns "$py" "$work/cap.py" $port >"$work/cap.out" 2>&1
r5=$?
check "8 connections at most: a ninth is closed at once ($(cat "$work/cap.out"))" [ $r5 = 0 ]
sleep 0.3
scrape after_cap
check "after they closed, a scrape is answered" eval '[ "$(m after_cap l2tpns_sessions)" = "$sessions" ]'

# --- timings --------------------------------------------------------------------------------------
for i in 1 2 3; do scrape "t$i"; done
echo "# scrape of /metrics ($(m t1 _bytes) bytes): $(m t1 _seconds) $(m t2 _seconds) $(m t3 _seconds) s; /sessions of $sessions sessions ($sessions_size bytes): $sessions_time s"
wait $lac_job
check "the LAC's probes came back ($(field "$work/load.json" received) of $(field "$work/load.json" sent))" \
    eval '[ "$(field "$work/load.json" received)" -gt 0 ]'
check "no panic in the daemon's output" no_panic

# --- options: off loopback needs a token; --metrics off -------------------------------------------
restart() { # restart ARGS...: a new daemon with these options
    kill -QUIT "$lns_pid"
    wait_for_exit "$lns_pid"
    setsid ip netns exec "$ns_lns" "$l2tpns" -c "$lns_dir/startup-config" --state-dir "$lns_dir/state" \
        "$@" </dev/null >>"$lns_dir/stdout.log" 2>&1 &
    lns_pid=$!
    for _ in $(seq 100); do in_lns ss -lun | grep -q '10.201.0.1:1701' && break; sleep 0.1; done
}
in_lns timeout 5 "$l2tpns" -c "$lns_dir/startup-config" --state-dir "$lns_dir/state" --metrics 10.201.0.1:$port \
    </dev/null >"$work/open.out" 2>"$work/open.err"
rc=$?
check "--metrics 10.201.0.1:$port without a token: refused at start (exit $rc), says why" \
    eval '[ $rc = 1 ] && grep -q "not a loopback address, and no --metrics-token-file" "$work/open.err"'
sed 's/^/# /' "$work/open.err"
echo "s3cret-$$" >"$work/token"
restart --metrics 10.201.0.1:$port --metrics-token-file "$work/token"
remote=http://10.201.0.1:$port
check "with a token file, 10.201.0.1:$port listens" eval "in_lns ss -ltn | grep -q '10.201.0.1:$port '"
check "from the LAC's namespace without a token: 401" eval '[ "$(in_lac curl -s -o /dev/null -w "%{http_code}" "$remote/metrics")" = 401 ]'
check "with a wrong token: 401" \
    eval '[ "$(in_lac curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer s3cret-$$x" "$remote/metrics")" = 401 ]'
check "with the token: 200 and a parsed exposition" \
    eval 'in_lac "$py" "$work/scrape.py" "$remote/metrics" "s3cret-$$" >"$work/remote.json" && [ "$(m remote l2tpns_metrics_refused_total)" = 2 ]'
restart --metrics off
check "--metrics off: nothing listens on $port" eval "! in_lns ss -ltn | grep -q ':$port '"
check "--metrics bogus is refused with a reason" \
    eval '! "$l2tpns" --metrics bogus --check-config 2>"$work/bogus.err" && grep -q "neither ADDRESS:PORT nor off" "$work/bogus.err"'

[ "$failures" = 0 ]
