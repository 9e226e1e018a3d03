#!/usr/bin/env bash
# `iamref policy simulate` whole-process benchmark (hyperfine, warm cache):
# 10,000 requests in one batch (JSON lines) against a constructed
# 50-statement identity policy with conditions (bench/gen_simulate.py),
# beside one `iamref action` lookup (the yardstick: the batch should take
# at most 15x it), 20,000 requests (cost linear in requests), and
# iam-simulate (npm @cloud-copilot/iam-simulate, pinned, installed by this
# script into a throwaway folder; skipped when npm cannot install it) on
# the same requests, one runSimulation per request, with the decisions of
# both compared.
# Needs: hyperfine, python3; node and npm for the comparison.
#   bash bench/simulate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
IAM_SIMULATE_VERSION=0.1.173
command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (apt-get install hyperfine)"; exit 2; }
command -v python3 >/dev/null || { echo "bench: python3 is missing"; exit 2; }
cargo build --release -q -p iamref-query
bin=$PWD/target/release/iamref
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export IAMREF_CACHE_DIR="${IAMREF_CACHE_DIR:-$work/cache}"
mkdir -p "$work/10k" "$work/20k"
python3 bench/gen_simulate.py "$work/10k" 10000
python3 bench/gen_simulate.py "$work/20k" 20000
$bin check s3:GetObject >/dev/null   # materialize the snapshot once (warm cache)
sim="$bin policy simulate --identity $work/10k/policy.json --requests $work/10k/requests.jsonl -f jsonl"
# Exit status 1 (some requests denied) is expected: -i.
hyperfine -N -i --warmup 3 --runs "${RUNS:-20}" \
  "$bin action s3:GetObject" \
  "$sim" \
  "$bin policy simulate --identity $work/20k/policy.json --requests $work/20k/requests.jsonl -f jsonl" \
  --export-markdown "${BENCH_OUT:-/dev/null}"
{ $sim || true; } | python3 -c '
import collections, json, sys
c = collections.Counter(json.loads(l)["decision"] for l in sys.stdin)
print("iamref decisions:", dict(sorted(c.items())))'
command -v npm >/dev/null && command -v node >/dev/null || { echo "bench: node/npm missing; iam-simulate skipped"; exit 0; }
js="$work/iam-simulate"
mkdir -p "$js"
if ! (cd "$js" && npm init -y >/dev/null && npm install --silent "@cloud-copilot/iam-simulate@$IAM_SIMULATE_VERSION" >/dev/null); then
  echo "bench: @cloud-copilot/iam-simulate@$IAM_SIMULATE_VERSION could not be installed; skipped"
  exit 0
fi
cp bench/iam_simulate.mjs "$js/"
# Its decisions print on each run (--show-output): they should be iamref's.
echo "iam-simulate $IAM_SIMULATE_VERSION:"
hyperfine -i --show-output --warmup 0 --runs "${JS_RUNS:-3}" \
  "node $js/iam_simulate.mjs $work/10k/policy.json $work/10k/requests.jsonl"
