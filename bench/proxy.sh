#!/usr/bin/env bash
# `iamref record --proxy` on loopback: the latency it adds per request, and
# a sustained rate without loss.
#
# moto's server (pinned, in the venv the live tests make under
# target/tmp/proxy-live-venv; made here if missing) is the upstream. A
# DynamoDB ListTables request (JSON protocol, a constructed SigV4-shaped
# Authorization header: moto does not check signatures) is sent N times
# on one keep-alive connection, (a) directly to moto over plain HTTP and
# (b) through the proxy: CONNECT dynamodb.us-east-1.amazonaws.com, TLS with
# the proxy's CA, --upstream-endpoint moto. The added latency is the
# difference of the medians. Then RATE requests/s for SECONDS through the
# proxy on 4 connections, paced; every answer must be 200 and the recorder
# must count every request.
#   bash bench/proxy.sh [N=2000] [RATE=200] [SECONDS=10]
# IAMREF_BIN=path uses another binary (default: a release build).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
rate=${2:-200}
secs=${3:-10}
if [ -n "${IAMREF_BIN:-}" ]; then
  bin=$IAMREF_BIN
else
  cargo build --release -q -p iamref-query
  bin=$PWD/target/release/iamref
fi
venv=$PWD/target/tmp/proxy-live-venv
pins="boto3==1.44.8 moto[server]==5.2.5"   # iamref_testkit::pins::LIVE_AWS
if [ "$(cat "$venv/.iamref-ready" 2>/dev/null)" != "$pins" ]; then
  python3 -m venv "$venv"
  # shellcheck disable=SC2086
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $pins
  printf '%s' "$pins" >"$venv/.iamref-ready"
fi
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
moto_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/"$moto_port") 2>/dev/null && break; sleep 0.1; done
export IAMREF_CACHE_DIR="${IAMREF_CACHE_DIR:-$work/cache}"
$bin record --proxy 127.0.0.1:0 --ca-dir "$work/ca" --upstream-endpoint "http://127.0.0.1:$moto_port" \
  --ready-file "$work/ready" --duration $((secs * 10 + 600)) \
  --out "$work/policy.json" --log "$work/calls.jsonl" >"$work/out" 2>"$work/err" &
rec=$!
pids+=($rec)
for _ in $(seq 600); do [ -s "$work/ready" ] && break; sleep 0.1; done
[ -s "$work/ready" ] || { echo "bench: the recorder did not start"; cat "$work/err"; exit 2; }
proxy=$(awk '/^proxy /{print $2}' "$work/ready")
python3 - "$proxy" "$moto_port" "$work/ca/ca.pem" "$n" "$rate" "$secs" <<'PY'
import http.client, socket, ssl, statistics, sys, threading, time
proxy, moto_port, ca, n, rate, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
phost, pport = proxy.rsplit(":", 1)
HOST = "dynamodb.us-east-1.amazonaws.com"
# A constructed key id (encodes 123456789012) and signature: not credentials.
HEADERS = {
    "Host": HOST,
    "Content-Type": "application/x-amz-json-1.0",
    "X-Amz-Target": "DynamoDB_20120810.ListTables",
    "X-Amz-Date": "20260601T000000Z",
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIABZPUZDIKAUAAAAAA/20260601/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + "0" * 64,
}
BODY = b"{}"

def direct():
    return http.client.HTTPConnection("127.0.0.1", moto_port, timeout=30)

def via_proxy():
    ctx = ssl.create_default_context(cafile=ca)
    c = http.client.HTTPSConnection(phost, int(pport), context=ctx, timeout=30)
    c.set_tunnel(HOST, 443)
    return c

def one(c):
    t = time.perf_counter()
    c.request("POST", "/", body=BODY, headers=HEADERS)
    r = c.getresponse()
    r.read()
    if r.status != 200:
        raise SystemExit(f"HTTP {r.status}")
    return time.perf_counter() - t

def median_ms(make):
    c = make()
    for _ in range(50):
        one(c)  # warm up (TLS handshake, moto's first call)
    xs = [one(c) for _ in range(n)]
    c.close()
    return statistics.median(xs) * 1000, statistics.quantiles(xs, n=100)[98] * 1000

d, d99 = median_ms(direct)
p, p99 = median_ms(via_proxy)
print(f"latency over {n} requests: direct {d:.2f} ms median ({d99:.2f} p99), through the proxy {p:.2f} ms ({p99:.2f} p99): added {p - d:.2f} ms median")

ok, bad, lock = [0], [0], threading.Lock()
def worker(k, total, start):
    c = via_proxy()
    for i in range(total):
        ahead = start + (i * 4 + k) / rate - time.perf_counter()
        if ahead > 0:
            time.sleep(ahead)
        try:
            one(c)
            with lock: ok[0] += 1
        except Exception:
            with lock: bad[0] += 1
            c = via_proxy()
total = int(rate * secs) // 4
start = time.perf_counter() + 0.5
ts = [threading.Thread(target=worker, args=(k, total, start)) for k in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
took = time.perf_counter() - start
print(f"sustained: {ok[0]} of {total * 4} requests answered 200 in {took:.2f} s ({ok[0] / took:.0f}/s), {bad[0]} failed")
with open(sys.argv[3] + ".sent", "w") as f:
    f.write(str(n + 50 + ok[0] + bad[0]))  # requests sent through the proxy
PY
sent=$(cat "$work/ca/ca.pem.sent")
kill -INT "$rec"
wait "$rec" || true
summary=$(grep 'proxy:' "$work/err" | tail -1)
echo "recorder: ${summary#*proxy: }"
got=$(sed -n 's/.*proxy: \([0-9]*\) request(s).*/\1/p' "$work/err" | tail -1)
if [ "$got" != "$sent" ]; then
  echo "bench: the recorder counted $got proxied requests, $sent were sent through it"
  exit 1
fi
