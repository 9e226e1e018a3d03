#!/usr/bin/env bash
# Building the database from the saved pages of 2026-06-14 (HTML alone,
# then HTML plus AWS's JSON), with hyperfine; peak memory with GNU time.
#   bash bench/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=../shared/corpus
if [ ! -d "$corpus/sar-html/2026-06-14" ]; then
  echo "bench: $corpus is absent; skipping"; exit 0
fi
cargo build --release -q -p iamref-query
bin=target/release/iamref
out=$(mktemp -d)
html="$bin build -q --from-dir $corpus/sar-html/2026-06-14 --out $out/html.sqlite"
both="$bin build -q --from-dir $corpus/sar-html/2026-06-14 --service-reference-dir $corpus/service-reference/2026-06-14 --out $out/both.sqlite"
hyperfine --warmup 1 --runs "${RUNS:-10}" "$html" "$both"
/usr/bin/time -f "peak RSS %M KiB, %e s wall: build (HTML)" $html
/usr/bin/time -f "peak RSS %M KiB, %e s wall: build (HTML + JSON)" $both
rm -rf "$out"
