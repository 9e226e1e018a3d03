#!/usr/bin/env bash
# `iamref diff` of two full datasets (target: at most 0.5 s), with
# hyperfine; peak memory with GNU time. The two corpus dates are built
# first, as databases (pages + JSON: the biggest case, and pages alone: the
# inputs of the issue's counts) and as snapshot folders.
#   bash bench/diff.sh
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=../shared/corpus
if [ ! -d "$corpus/sar-html/2026-05-10" ] || [ ! -d "$corpus/sar-html/2026-06-14" ]; then
  echo "bench: $corpus is absent; skipping"; exit 0
fi
for tool in hyperfine /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install hyperfine time)"; exit 2; }
done
cargo build --release -q -p iamref-query
bin=target/release/iamref
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for d in 2026-05-10 2026-06-14; do
  $bin build -q --from-dir $corpus/sar-html/$d --service-reference-dir $corpus/service-reference/$d \
    --out "$out/both-$d.sqlite" --snapshot-dir "$out/snap-$d"
  $bin build -q --from-dir $corpus/sar-html/$d --out "$out/html-$d.sqlite"
done
# diff exits 1 when there are changes: -i keeps hyperfine going.
hyperfine -N -i --warmup 2 --runs "${RUNS:-20}" \
  "$bin diff $out/both-2026-05-10.sqlite $out/both-2026-06-14.sqlite" \
  "$bin diff $out/html-2026-05-10.sqlite $out/html-2026-06-14.sqlite" \
  "$bin diff $out/snap-2026-05-10 $out/snap-2026-06-14" \
  "$bin diff $out/both-2026-05-10.sqlite $out/both-2026-06-14.sqlite --format json" \
  --export-markdown "${BENCH_OUT:-/dev/null}"
/usr/bin/time -f "peak RSS %M KiB, %e s wall: diff of two full databases" \
  $bin diff "$out/both-2026-05-10.sqlite" "$out/both-2026-06-14.sqlite" >/dev/null || true
