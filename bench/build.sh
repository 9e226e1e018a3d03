#!/usr/bin/env bash
# Building the database from the saved pages of 2026-06-14 (HTML, then HTML
# plus AWS's JSON), with hyperfine; peak memory with GNU time.
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
hyperfine --warmup 1 --runs 10 \
  "$bin build -q --from-dir $corpus/sar-html/2026-06-14 --out $out/html.sqlite" \
  ${EXTRA_BUILDS:-}
/usr/bin/time -f "peak RSS %M KiB, %e s: build (HTML)" \
  $bin build -q --from-dir $corpus/sar-html/2026-06-14 --out $out/html.sqlite
rm -rf "$out"
