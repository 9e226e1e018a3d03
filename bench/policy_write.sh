#!/usr/bin/env bash
# `iamref policy write` for 100 actions with resources, whole process
# (warm cache), with hyperfine. Target: at most 10 ms. Needs: hyperfine.
#   bash bench/policy_write.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (apt-get install hyperfine)"; exit 2; }
cargo build --release -q -p iamref-query
bin=target/release/iamref
export IAMREF_CACHE_DIR="${IAMREF_CACHE_DIR:-$(mktemp -d)}"
# 100 actions of 8 services (up to 13 each) whose required resource types
# the ARNs below give or derive: every action scoped, none stopped.
actions=$($bin sql "SELECT prefix || ':' || action FROM (
    SELECT prefix, action, row_number() OVER (PARTITION BY prefix ORDER BY action) AS n
    FROM v_actions a
    WHERE prefix IN ('s3','sqs','dynamodb','kms','lambda','logs','secretsmanager','sns') AND resource_level
      AND NOT EXISTS (SELECT 1 FROM v_action_resource_types r
                      WHERE r.prefix = a.prefix AND r.action = a.action AND r.required
                        AND r.resource_type NOT IN ('bucket','object','queue','table','key','function',
                                                    'log-group','log-stream','secret','topic')))
  WHERE n <= 13 ORDER BY 1 LIMIT 100" -f tsv | tail -n +2 | tr '\n' ' ')
[ "$(echo $actions | wc -w)" -eq 100 ] || { echo "bench: expected 100 actions"; exit 2; }
args="policy write $actions \
 -r arn:aws:s3:::bench-bucket -r arn:aws:sqs:us-east-1:123456789012:q \
 -r arn:aws:dynamodb:us-east-1:123456789012:table/t \
 -r arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab \
 -r arn:aws:lambda:us-east-1:123456789012:function:f \
 -r arn:aws:logs:us-east-1:123456789012:log-group:/app/prod \
 -r arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf \
 -r arn:aws:sns:us-east-1:123456789012:topic"
$bin $args >/dev/null 2>&1   # materialize the snapshot once; must exit 0
hyperfine -N --warmup 10 --runs 100 --output=null "$bin $args" \
  --export-markdown "${BENCH_OUT:-/dev/null}"
