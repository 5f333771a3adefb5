#!/usr/bin/env bash
# Self-test of tests/support/fault_proxy.py: python3 -m http.server (HTTP/1.1) serving a 3 MiB
# random file is the upstream; curl and a little http.client drive the proxy through every action.
# Prints "ok: <check>" per check; exits non-zero on the first failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
proxy_py="$here/fault_proxy.py"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fault-proxy-test.XXXXXX")
upstream_pid=""
proxy_pid=""

cleanup() {
  local rc=$?
  for pid in $proxy_pid $upstream_pid; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $proxy_pid $upstream_pid; do
    wait "$pid" 2>/dev/null || true
  done
  if [[ $rc -ne 0 ]]; then
    echo "--- proxy log" >&2; tail -n 40 "$tmp/proxy.err" >&2 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

wait_for_line() {  # file regex -> the first matching line, waiting up to 10 s
  local line
  for _ in $(seq 1 100); do
    line=$(grep -m1 -E "$2" "$1" 2>/dev/null || true)
    if [[ -n "$line" ]]; then echo "$line"; return 0; fi
    sleep 0.1
  done
  return 1
}

# --- upstream: http.server on a free port (port 0; it prints the one it got)
mkdir -p "$tmp/www"
head -c $((3 * 1024 * 1024)) /dev/urandom > "$tmp/www/big.bin"
printf 'hello\n' > "$tmp/www/small.txt"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$tmp/www" --protocol HTTP/1.1 \
  > "$tmp/upstream.out" 2> "$tmp/upstream.err" &
upstream_pid=$!
line=$(wait_for_line "$tmp/upstream.out" 'port [0-9]+') || fail "http.server did not start"
up_port=$(sed -E 's/.*port ([0-9]+).*/\1/' <<<"$line")

# --- proxy
python3 "$proxy_py" --upstream "http://127.0.0.1:$up_port" --listen-port 0 --control-port 0 -v \
  > "$tmp/proxy.out" 2> "$tmp/proxy.err" &
proxy_pid=$!
line=$(wait_for_line "$tmp/proxy.out" '^FAULT_PROXY_PORT=') || fail "proxy did not start"
[[ "$line" =~ ^FAULT_PROXY_PORT=([0-9]+)\ FAULT_PROXY_CONTROL_PORT=([0-9]+)$ ]] \
  || fail "unexpected ready line: $line"
P=${BASH_REMATCH[1]}
C=${BASH_REMATCH[2]}
[[ $(wc -l < "$tmp/proxy.out") -eq 1 ]] || fail "proxy printed more than one line"
ok "proxy ready (data $P, control $C, upstream $up_port)"

URL="http://127.0.0.1:$P"
CTL="http://127.0.0.1:$C"
big="$tmp/www/big.bin"

rules() { curl -sS -f -X POST --data "$1" "$CTL/rules" > /dev/null || fail "POST /rules $1"; }
reset_proxy() { curl -sS -f -X POST "$CTL/reset" > /dev/null || fail "POST /reset"; }
stats_get() {  # stats key (dotted path into the JSON)
  curl -sS -f "$CTL/stats" | python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v.get(k, 0) if isinstance(v, dict) else 0
print(v)' "$1"
}
curl_rc() {  # curl args... -> prints curl's exit status (never fails the script)
  local rc=0
  curl -sS "$@" 2>> "$tmp/curl.err" || rc=$?
  echo "$rc"
}
wait_idle() {  # open_client_connections back to 0 within 5 s
  for _ in $(seq 1 50); do
    [[ $(stats_get open_client_connections) -eq 0 ]] && return 0
    sleep 0.1
  done
  fail "open_client_connections stuck at $(stats_get open_client_connections)"
}

# --- pass-through
curl -sS -f -o "$tmp/out" "$URL/big.bin" || fail "pass-through GET"
cmp -s "$big" "$tmp/out" || fail "pass-through bytes differ"
ok "pass-through: 3 MiB identical"

curl -sS -f -I "$URL/big.bin" > "$tmp/head.txt" || fail "HEAD"
grep -qi "^Content-Length: $((3 * 1024 * 1024))" "$tmp/head.txt" || fail "HEAD headers"
curl -sS -f -o "$tmp/out" "$URL/big.bin" || fail "GET after HEAD"
cmp -s "$big" "$tmp/out" || fail "GET after HEAD bytes differ"
ok "HEAD has no body"

# --- keep-alive: two URLs in one curl reuse one client connection (and one upstream connection)
reset_proxy
curl -sS -v -o "$tmp/out1" -o "$tmp/out2" "$URL/big.bin" "$URL/small.txt" 2> "$tmp/ka.err" \
  || fail "keep-alive curl"
grep -q "Re-using existing connection" "$tmp/ka.err" || fail "keep-alive: connection not reused"
cmp -s "$big" "$tmp/out1" && cmp -s "$tmp/www/small.txt" "$tmp/out2" || fail "keep-alive bytes"
[[ $(stats_get connections) -eq 1 && $(stats_get requests) -eq 2 ]] \
  || fail "keep-alive: expected 1 connection, 2 requests: $(curl -sS "$CTL/stats")"
ok "keep-alive: 2 requests on 1 connection"

# --- slowdown, times=1: 503 SlowDown with Retry-After, then the next request passes
reset_proxy
rules '[{"method": "GET", "path_regex": "^/big", "action": "slowdown", "times": 1, "retry_after": 2}]'
code=$(curl -sS -D "$tmp/hdr" -o "$tmp/body" -w '%{http_code}' "$URL/big.bin")
[[ $code == 503 ]] || fail "slowdown: status $code"
grep -q '<Code>SlowDown</Code>' "$tmp/body" || fail "slowdown: body $(cat "$tmp/body")"
grep -qi '^Content-Type: application/xml' "$tmp/hdr" || fail "slowdown: content type"
grep -qi '^Retry-After: 2' "$tmp/hdr" || fail "slowdown: Retry-After"
grep -qi "^Content-Length: $(wc -c < "$tmp/body")" "$tmp/hdr" || fail "slowdown: Content-Length"
curl -sS -f -o "$tmp/out" "$URL/big.bin" || fail "slowdown: second request"
cmp -s "$big" "$tmp/out" || fail "slowdown: second request bytes"
ok "slowdown: 503 SlowDown + Retry-After once, then pass"

# --- error: 500 InternalError by default; 503 ServiceUnavailable; own code
rules '[{"action": "error", "times": 1}]'
code=$(curl -sS -o "$tmp/body" -w '%{http_code}' "$URL/small.txt")
[[ $code == 500 ]] && grep -q '<Code>InternalError</Code>' "$tmp/body" || fail "error: $code"
rules '[{"action": "error", "status": 503, "times": 1}, {"action": "error", "status": 409, "code": "OperationAborted", "times": 1}]'
code=$(curl -sS -o "$tmp/body" -w '%{http_code}' "$URL/small.txt")
[[ $code == 503 ]] && grep -q '<Code>ServiceUnavailable</Code>' "$tmp/body" || fail "error 503: $code"
code=$(curl -sS -o "$tmp/body" -w '%{http_code}' "$URL/small.txt")
[[ $code == 409 ]] && grep -q '<Code>OperationAborted</Code>' "$tmp/body" || fail "error 409: $code"
[[ $(curl -sS -o /dev/null -w '%{http_code}' "$URL/small.txt") == 200 ]] || fail "error: rules not spent"
ok "error: 500 InternalError, 503 ServiceUnavailable, 409 own code"

# --- header / query matching
rules '[{"header": ["range", "^bytes=0-"], "action": "error", "status": 503, "times": -1}, {"query_regex": "x-id=Boom", "action": "error", "times": -1}]'
[[ $(curl -sS -o /dev/null -w '%{http_code}' -r 0-99 "$URL/big.bin") == 503 ]] || fail "header rule"
[[ $(curl -sS -o /dev/null -w '%{http_code}' -r 100-199 "$URL/big.bin") == 200 ]] || fail "header rule miss"
[[ $(curl -sS -o /dev/null -w '%{http_code}' "$URL/small.txt?x-id=Boom") == 500 ]] || fail "query rule"
[[ $(curl -sS -o /dev/null -w '%{http_code}' "$URL/small.txt?x-id=Fine") == 200 ]] || fail "query rule miss"
ok "header and query matching, times=-1"

# --- truncate: original Content-Length, then FIN after 1 MiB -> curl 18 with exactly 1 MiB
rules '[{"action": "truncate", "after_bytes": 1048576}]'
rc=$(curl_rc -o "$tmp/out" "$URL/big.bin")
[[ $rc == 18 ]] || fail "truncate: curl exit $rc (want 18)"
[[ $(wc -c < "$tmp/out") -eq 1048576 ]] || fail "truncate: got $(wc -c < "$tmp/out") bytes"
cmp -s "$tmp/out" <(head -c 1048576 "$big") || fail "truncate: prefix differs"
ok "truncate: curl exit 18 after exactly 1 MiB"

# --- drop_mid_body: RST after 1000000 bytes -> curl 18 or 56
rules '[{"action": "drop_mid_body", "after_bytes": 1000000}]'
rc=$(curl_rc -o "$tmp/out" "$URL/big.bin")
[[ $rc == 18 || $rc == 56 ]] || fail "drop_mid_body: curl exit $rc (want 18 or 56)"
n=$(wc -c < "$tmp/out")
[[ $n -le 1000000 ]] || fail "drop_mid_body: got $n bytes"
ok "drop_mid_body: curl exit $rc after $n bytes"

# --- stall: stall_seconds=1 after 1000 bytes, curl --max-time 0.5 -> 28; then a stall that ends
rules '[{"action": "stall", "after_bytes": 1000, "stall_seconds": 1}]'
rc=$(curl_rc --max-time 0.5 -o "$tmp/out" "$URL/big.bin")
[[ $rc == 28 ]] || fail "stall: curl exit $rc (want 28)"
rules '[{"action": "stall", "after_bytes": 1000, "stall_seconds": 0.5}]'
t0=$(date +%s%N)
curl -sS -f -o "$tmp/out" "$URL/big.bin" || fail "stall: short stall"
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
cmp -s "$big" "$tmp/out" && [[ $dt -ge 450 ]] || fail "stall: short stall bytes/time ($dt ms)"
ok "stall: curl timeout exit 28; a 0.5 s stall then completes intact (${dt} ms)"

# --- stall with the default 3600 s: the proxy notices the client leaving
rules '[{"action": "stall", "after_bytes": 0}]'
rc=$(curl_rc --max-time 0.5 -o "$tmp/out" "$URL/big.bin")
[[ $rc == 28 ]] || fail "long stall: curl exit $rc"
wait_idle
ok "stall: a client leaving a 3600 s stall frees its connection"

# --- reset: RST without an answer -> curl 52 or 56
rules '[{"action": "reset"}]'
rc=$(curl_rc -o "$tmp/out" "$URL/small.txt")
[[ $rc == 52 || $rc == 56 ]] || fail "reset: curl exit $rc (want 52 or 56)"
ok "reset: curl exit $rc"

# --- delay: 0.5 s of latency, then normal
rules '[{"action": "delay", "stall_seconds": 0.5}]'
t0=$(date +%s%N)
curl -sS -f -o "$tmp/out" "$URL/big.bin" || fail "delay: curl"
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
cmp -s "$big" "$tmp/out" && [[ $dt -ge 450 ]] || fail "delay: bytes/time ($dt ms)"
ok "delay: ${dt} ms, bytes intact"

# --- faulted requests with bodies keep keep-alive in sync (Content-Length, chunked, 100-continue)
rules '[{"method": "PUT", "action": "slowdown", "times": -1}, {"method": "POST", "action": "error", "times": -1}]'
python3 - "$P" "$big" <<'EOF' || fail "faulted bodies on a keep-alive connection"
import http.client, sys
port, big = int(sys.argv[1]), open(sys.argv[2], "rb").read()
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
def get():
    c.request("GET", "/big.bin")
    r = c.getresponse(); data = r.read()
    assert r.status == 200 and data == big, (r.status, len(data))
c.request("PUT", "/up/a", body=big)                               # Content-Length body
r = c.getresponse(); body = r.read()
assert r.status == 503 and b"<Code>SlowDown</Code>" in body, (r.status, body)
get()
c.request("POST", "/up/b", body=iter([big[:12345], big[12345:]]),  # chunked body
          headers={"Transfer-Encoding": "chunked"}, encode_chunked=True)
r = c.getresponse(); body = r.read()
assert r.status == 500 and b"<Code>InternalError</Code>" in body, (r.status, body)
get()
sock = c.sock
c.request("HEAD", "/big.bin")
r = c.getresponse(); r.read()
assert r.status == 200 and r.getheader("Content-Length") == str(len(big))
get()
assert c.sock is sock, "connection was not kept"
EOF
curl -sS -H 'Expect: 100-continue' -o "$tmp/put.out" -w '%{http_code}\n' -T "$big" "$URL/up/c" \
  --next -sS -o "$tmp/out" -w '%{http_code}\n' "$URL/big.bin" -v > "$tmp/codes" 2> "$tmp/expect.err" \
  || fail "100-continue curl"
[[ $(tr '\n' ' ' < "$tmp/codes") == "503 200 " ]] || fail "100-continue: codes $(cat "$tmp/codes")"
grep -q "Re-using existing connection" "$tmp/expect.err" || fail "100-continue: connection not reused"
cmp -s "$big" "$tmp/out" || fail "100-continue: GET bytes"
ok "faulted PUT/POST bodies (length, chunked, 100-continue) read fully; keep-alive stays in sync"

# --- stats and /reset
reset_proxy
rules '[{"path_regex": "small", "action": "slowdown", "times": 2}, {"path_regex": "small", "action": "error", "times": 1}]'
for want in 503 503 500 200; do
  [[ $(curl -sS -o /dev/null -w '%{http_code}' "$URL/small.txt") == "$want" ]] || fail "stats: want $want"
done
curl -sS -f -o /dev/null "$URL/big.bin" || fail "stats: GET"
[[ $(stats_get requests) -eq 5 ]] || fail "stats: requests $(stats_get requests)"
[[ $(stats_get faults) -eq 3 ]] || fail "stats: faults $(stats_get faults)"
[[ $(stats_get forwarded) -eq 2 ]] || fail "stats: forwarded $(stats_get forwarded)"
[[ $(stats_get by_action.slowdown) -eq 2 && $(stats_get by_action.error) -eq 1 ]] || fail "stats: by_action"
ok "stats: requests=5 faults=3 forwarded=2 by_action={slowdown:2,error:1}"

rules '[{"action": "error", "times": -1}]'
[[ $(curl -sS -o /dev/null -w '%{http_code}' "$URL/small.txt") == 500 ]] || fail "reset: rule not live"
reset_proxy
[[ $(curl -sS -o /dev/null -w '%{http_code}' "$URL/small.txt") == 200 ]] || fail "reset: rules kept"
[[ $(stats_get requests) -eq 1 && $(stats_get faults) -eq 0 ]] || fail "reset: counters $(curl -sS "$CTL/stats")"
[[ $(curl -sS "$CTL/rules") == "[]" ]] || fail "reset: GET /rules"
ok "/reset clears rules and counters"

# --- bad rules are refused and leave the current rules alone
rules '[{"action": "delay", "stall_seconds": 0}]'
for bad in '[{"action": "explode"}]' '[{"action": "error", "path_regex": "("}]' \
           '[{"action": "error", "tmies": 1}]' '{"not": "json'; do
  code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST --data "$bad" "$CTL/rules")
  [[ $code == 400 ]] || fail "bad rule $bad: $code"
done
[[ $(curl -sS "$CTL/rules" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["action"])') == delay ]] \
  || fail "bad rules replaced the current ones"
ok "invalid rules: 400, current rules kept"

# --- no leaked connections
reset_proxy
wait_idle
ok "open_client_connections back to 0 (upstream: $(stats_get open_upstream_connections))"

# --- SIGTERM: prompt, exit 0
kill -TERM "$proxy_pid"
t0=$(date +%s%N)
rc=0; wait "$proxy_pid" || rc=$?
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
proxy_pid=""
[[ $rc -eq 0 ]] || fail "SIGTERM: exit status $rc"
[[ $dt -lt 3000 ]] || fail "SIGTERM: took $dt ms"
ok "SIGTERM: exit 0 in ${dt} ms"
echo "all fault_proxy checks passed"
