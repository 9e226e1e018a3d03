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
# What comparing with the database being replaced costs (issue #21's
# publication guard: its baseline is that database read whole, on a thread
# while the pages parse): the same build over its previous database, and
# into a fresh path each run (no previous database: that comparison does
# not run; the domain checks and the rest of the guard still do).
fresh="$bin build -q --from-dir $corpus/sar-html/2026-06-14 --service-reference-dir $corpus/service-reference/2026-06-14 --out $out/fresh.sqlite"
echo "the guard's comparison with the previous database (HTML + JSON):"
hyperfine -N --warmup 1 --runs "${RUNS:-10}" \
  --prepare "rm -f $out/fresh.sqlite $out/fresh.sqlite.ok" "$fresh" \
  --prepare true "$both"
/usr/bin/time -f "peak RSS %M KiB, %e s wall: build (HTML)" $html
/usr/bin/time -f "peak RSS %M KiB, %e s wall: build (HTML + JSON)" $both
rm -rf "$out"
