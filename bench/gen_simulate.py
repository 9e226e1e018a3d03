#!/usr/bin/env python3
"""Constructed input for bench/simulate.sh (not real data): a 50-statement
identity policy with conditions, and N requests as JSON lines for
`iamref policy simulate --requests`, deterministic (seeded).

    python3 bench/gen_simulate.py OUT_DIR [N]
"""
import json
import random
import sys

out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
rnd = random.Random(18)
ACCOUNT = "111122223333"
teams = ["red", "blue", "green", "gold"]
buckets = [f"data-{i}" for i in range(10)]
tables = [f"table-{i}" for i in range(10)]
queues = [f"queue-{i}" for i in range(10)]


def statement(i):
    kind = i % 5
    team = teams[i % len(teams)]
    if kind == 0:
        st = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
              "Resource": f"arn:aws:s3:::{buckets[i % 10]}/{team}/*",
              "Condition": {"StringEquals": {"aws:PrincipalTag/team": team}}}
    elif kind == 1:
        st = {"Effect": "Allow", "Action": "s3:ListBucket",
              "Resource": f"arn:aws:s3:::{buckets[i % 10]}",
              "Condition": {"IpAddress": {"aws:SourceIp": [f"203.0.{i}.0/24", "198.51.100.0/24"]},
                            "Bool": {"aws:SecureTransport": "true"}}}
    elif kind == 2:
        st = {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"],
              "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{tables[i % 10]}",
              "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:PrincipalTag/team}"]}}}
    elif kind == 3:
        st = {"Effect": "Allow", "Action": "sqs:SendMessage",
              "Resource": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{queues[i % 10]}",
              "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"},
                            "DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}}
    else:
        st = {"Effect": "Deny", "Action": "s3:DeleteObject",
              "Resource": f"arn:aws:s3:::{buckets[i % 10]}/*",
              "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalTag/team": team}}}
    st["Sid"] = f"S{i}"
    return st


policy = {"Version": "2012-10-17", "Statement": [statement(i) for i in range(50)]}
with open(f"{out}/policy.json", "w") as f:
    json.dump(policy, f, indent=1)

with open(f"{out}/requests.jsonl", "w") as f:
    for _ in range(n):
        team = rnd.choice(teams)
        k = rnd.randrange(5)
        ctx = {"aws:PrincipalTag/team": team, "aws:SecureTransport": rnd.choice(["true", "false"]),
               "aws:SourceIp": f"203.0.{rnd.randrange(60)}.{rnd.randrange(255)}",
               "aws:MultiFactorAuthAge": str(rnd.randrange(7200)),
               "aws:CurrentTime": "2026-06-01T12:00:00Z"}
        if k == 0:
            action, res = rnd.choice(["s3:GetObject", "s3:PutObject"]), f"arn:aws:s3:::{rnd.choice(buckets)}/{team}/f{rnd.randrange(100)}"
        elif k == 1:
            action, res = "s3:ListBucket", f"arn:aws:s3:::{rnd.choice(buckets)}"
        elif k == 2:
            action, res = rnd.choice(["dynamodb:GetItem", "dynamodb:Query"]), f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{rnd.choice(tables)}"
            ctx["dynamodb:LeadingKeys"] = [rnd.choice(teams)]
        elif k == 3:
            action, res = "sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:{rnd.choice(queues)}"
        else:
            action, res = "s3:DeleteObject", f"arn:aws:s3:::{rnd.choice(buckets)}/{rnd.choice(teams)}/f1"
        f.write(json.dumps({"action": action, "resource": res,
                            "principal": f"arn:aws:sts::{ACCOUNT}:assumed-role/App/s",
                            "resource_account": ACCOUNT, "context": ctx}) + "\n")
