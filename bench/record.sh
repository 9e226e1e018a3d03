#!/usr/bin/env bash
# `iamref record` under load: send CSM datagrams (the captured boto3
# fixture, round robin) to a running recorder over loopback at RATE per
# second for SECONDS, stop it with SIGINT, and compare what it received
# with what was sent. Needs python3 (standard library only).
#   bash bench/record.sh [RATE=10000] [SECONDS=10]
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-10000}
secs=${2:-10}
cargo build --release -q -p iamref-query
bin=$PWD/target/release/iamref
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export IAMREF_CACHE_DIR="${IAMREF_CACHE_DIR:-$work/cache}"
$bin record --port 0 --ready-file "$work/ready" --duration $((secs * 10 + 60)) \
  --out "$work/policy.json" --log "$work/calls.jsonl" >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 600); do [ -s "$work/ready" ] && break; sleep 0.1; done
[ -s "$work/ready" ] || { echo "bench: the recorder did not start"; cat "$work/err"; exit 2; }
python3 - "$(cat "$work/ready")" "$rate" "$secs" query/tests/fixtures/csm/boto3-moto.jsonl <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
rate, secs = int(sys.argv[2]), float(sys.argv[3])
lines = [l.rstrip(b"\n") for l in open(sys.argv[4], "rb") if l.strip()]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
addr = (host, int(port))
sent, start, batch = 0, time.perf_counter(), max(1, rate // 1000)
total = int(rate * secs)
while sent < total:
    for _ in range(batch):
        s.sendto(lines[sent % len(lines)], addr)
        sent += 1
    ahead = start + sent / rate - time.perf_counter()
    if ahead > 0:
        time.sleep(ahead)
took = time.perf_counter() - start
print(f"sent {sent} datagrams in {took:.2f} s ({sent / took:.0f}/s)")
PY
sleep 1
kill -INT $pid
wait $pid || true
tail -1 "$work/err"
got=$(grep -o '^iamref: [0-9]* datagram' "$work/err" | grep -o '[0-9]*')
want=$(python3 -c "print(int($rate * $secs))")
echo "received $got of $want datagrams ($(python3 -c "print(f'{100*$got/$want:.2f}')")%)"
[ "$got" = "$want" ]
