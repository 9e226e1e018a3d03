#!/usr/bin/env bash
# Export benchmarks: every format of `iamref export` on the full shipped
# dataset (warm cache), with hyperfine; peak memory with GNU time.
# Needs: hyperfine, time (Debian packages). Target: <= 2 s each.
#   bash bench/export.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in hyperfine /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install hyperfine time)"; exit 2; }
done
cargo build --release -q -p iamref-query
bin=$PWD/target/release/iamref
export IAMREF_CACHE_DIR="${IAMREF_CACHE_DIR:-$(mktemp -d)}"
$bin check s3:GetObject >/dev/null   # materialize the snapshot once (warm cache)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
hyperfine -N --warmup 2 --runs "${RUNS:-10}" \
  "$bin export -q --format csv $out/csv" \
  "$bin export -q --format jsonl $out/jsonl" \
  "$bin export -q --format policy-sentry $out/iam-definition.json" \
  "$bin export -q --format json $out/bundle.json" \
  "$bin export -q --format snapshot $out/snapshot" \
  "$bin export -q --format sqlite $out/db.sqlite" \
  --export-markdown "${BENCH_OUT:-/dev/null}"
for f in "csv $out/csv" "jsonl $out/jsonl" "policy-sentry $out/ps.json"; do
  /usr/bin/time -f "peak RSS %M KiB: iamref export --format $f" $bin export -q --format $f 2>&1 >/dev/null | grep peak
done
