#!/usr/bin/env bash
# `iamref policy check` whole-process benchmark (hyperfine, warm cache):
# the constructed 200-statement policy of bench/gen_policy.py, 400 and 800
# statements (cost linear in statements), the hostile `*:*` x100 policy,
# and parliament on the same 200-statement file when it installs from
# PyPI into a throwaway venv (under target/, skipped when it cannot).
# Needs: hyperfine, python3.
#   bash bench/policy_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (apt-get install hyperfine)"; exit 2; }
command -v python3 >/dev/null || { echo "bench: python3 is missing"; exit 2; }
cargo build --release -q -p iamref-query
bin=$PWD/target/release/iamref
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export IAMREF_CACHE_DIR="${IAMREF_CACHE_DIR:-$work/cache}"
for n in 200 400 800; do python3 bench/gen_policy.py "$n" > "$work/p$n.json"; done
python3 -c 'import json; print(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["*:*"] * 100, "Resource": "*"}]}))' > "$work/hostile.json"
$bin check s3:GetObject >/dev/null   # materialize the snapshot once (warm cache)
# Exit status 1 (findings) is expected: -i.
hyperfine -N -i --warmup 5 --runs 50 \
  "$bin policy check -q $work/p200.json" \
  "$bin policy check -q $work/p400.json" \
  "$bin policy check -q $work/p800.json" \
  "$bin policy check -q $work/hostile.json" \
  --export-markdown "${BENCH_OUT:-/dev/null}"
PARLIAMENT_VERSION=1.6.4
venv=target/bench-venv-parliament-$PARLIAMENT_VERSION
if [ ! -x "$venv/bin/parliament" ]; then
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q "parliament==$PARLIAMENT_VERSION"; }; then
    echo "bench: parliament $PARLIAMENT_VERSION could not be installed from PyPI; skipped"
    exit 0
  fi
fi
# Side by side in one run, so the ratio is measured under the same load.
# parliament reads the policy from standard input (with --file it refuses
# to run when standard input is not a terminal, as under hyperfine).
echo "side by side, 200 statements (parliament $PARLIAMENT_VERSION):"
hyperfine -i --warmup 2 --runs "${RUNS:-10}" \
  "$bin policy check -q $work/p200.json" \
  "$venv/bin/parliament < $work/p200.json"
