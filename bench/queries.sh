#!/usr/bin/env bash
# Whole-process query benchmarks (warm cache) with hyperfine, and peak
# memory with GNU time. Needs: hyperfine, time (Debian packages).
#   bash bench/queries.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in hyperfine /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install hyperfine time)"; exit 2; }
done
cargo build --release -q -p iamref-query
bin=target/release/iamref
export IAMREF_CACHE_DIR="${IAMREF_CACHE_DIR:-$(mktemp -d)}"
$bin check s3:GetObject >/dev/null   # materialize the snapshot once (warm cache)
hyperfine -N --warmup 10 --runs 200 \
  "$bin action s3:ListBucket" \
  "$bin expand s3:*" \
  "$bin actions --wildcard-only" \
  "$bin check s3:GetObject" \
  "$bin arn arn:aws:s3:::awsexamplebucket1/*" \
  "$bin api s3:CopyObject" \
  "$bin policy write s3:GetObject s3:ListBucket" \
  --export-markdown "${BENCH_OUT:-/dev/null}" -i
for q in "action s3:ListBucket" "expand s3:*" "actions --wildcard-only"; do
  /usr/bin/time -f "peak RSS %M KiB: iamref $q" $bin $q >/dev/null
done
