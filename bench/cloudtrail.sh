#!/usr/bin/env bash
# Reading CloudTrail: generate a log of SIZE_MB megabytes of uncompressed
# JSON (the constructed fixture's records, repeated with varied names and
# times, in {"Records": [...]} files of ~25 MB as CloudTrail delivers
# them, plus a JSON-lines copy), then time `iamref calls` over it with
# hyperfine (one core: the reader is single-threaded). Needs hyperfine, python3.
#   bash bench/cloudtrail.sh [SIZE_MB=200]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-200}
command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (apt-get install hyperfine)"; exit 2; }
cargo build --release -q -p iamref-query
bin=$PWD/target/release/iamref
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export IAMREF_CACHE_DIR="${IAMREF_CACHE_DIR:-$work/cache}"
python3 - "$work" "$size" query/tests/fixtures/cloudtrail/trail.json <<'PY'
import json, os, sys
out, size = sys.argv[1], int(sys.argv[2]) << 20
recs = json.load(open(sys.argv[3]))["Records"]
tree = os.path.join(out, "AWSLogs/123456789012/CloudTrail/us-east-1/2026/06/14")
os.makedirs(tree)
total, n, part = 0, 0, 0
jl = open(os.path.join(out, "all.jsonl"), "w")
while total < size:
    batch = []
    for i in range(5000):
        r = dict(recs[n % len(recs)])
        r["eventID"] = f"{n:036d}"
        r["eventTime"] = f"2026-06-14T{(n // 3600) % 24:02d}:{(n // 60) % 60:02d}:{n % 60:02d}Z"
        if isinstance(r.get("requestParameters"), dict):
            p = dict(r["requestParameters"])
            for k in ("key", "tableName", "functionName"):
                if k in p:
                    p[k] = f"{p[k]}-{n % 1000}"
            r["requestParameters"] = p
        batch.append(r)
        jl.write(json.dumps(r) + "\n")
        n += 1
    body = json.dumps({"Records": batch})
    with open(os.path.join(tree, f"123456789012_CloudTrail_us-east-1_20260614T{part:04d}Z.json"), "w") as f:
        f.write(body)
    total += len(body)
    part += 1
print(f"{n} records, {total / 1e6:.0f} MB of JSON in {part} files")
PY
bytes=$(du -sb "$work/AWSLogs" | cut -f1)
$bin calls "$work/AWSLogs" >/dev/null 2>"$work/err"; tail -2 "$work/err"
hyperfine -N --warmup 1 --runs 5 \
  "taskset -c 0 $bin calls $work/AWSLogs" \
  "taskset -c 0 $bin calls $work/all.jsonl" \
  --export-json "$work/h.json" --output=null
python3 - "$work/h.json" "$bytes" <<'PY'
import json, sys
h = json.load(open(sys.argv[1])); b = int(sys.argv[2])
for r in h["results"]:
    print(f"{r['command'].split()[-1].rsplit('/', 1)[-1]}: {b / r['mean'] / 1e6:.0f} MB/s wall (mean {r['mean']:.2f} s for {b / 1e6:.0f} MB), "
          f"{b / r['user'] / 1e6:.0f} MB/s of CPU time (user {r['user']:.2f} s)")
PY
