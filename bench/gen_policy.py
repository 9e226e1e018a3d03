#!/usr/bin/env python3
"""Write a constructed benchmark policy: N statements (default 200) over
20 services, with specific ARNs (names with '/', policy variables), action
wildcards, "*" for wildcard-only actions, conditions, and a Deny every
tenth statement. Deterministic: the same N gives the same file.

    python3 bench/gen_policy.py [N] > policy.json
"""
import json
import sys

ACCT = "123456789012"
R = "us-east-1"

# (actions, resources with {i}, condition or None)
TEMPLATES = [
    (["s3:GetObject", "s3:PutObject"], ["arn:aws:s3:::bucket-{i}/*"],
     {"StringEquals": {"aws:PrincipalTag/team": "team-{i}"}}),
    (["s3:ListBucket"], ["arn:aws:s3:::bucket-{i}"],
     {"StringLike": {"s3:prefix": ["home/${{aws:username}}/*"]}}),
    (["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"],
     [f"arn:aws:dynamodb:{R}:{ACCT}:table/Table{{i}}", f"arn:aws:dynamodb:{R}:{ACCT}:table/Table{{i}}/index/*"], None),
    (["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"], [f"arn:aws:sqs:{R}:{ACCT}:queue-{{i}}"], None),
    (["sns:Publish"], [f"arn:aws:sns:{R}:{ACCT}:topic-{{i}}"], None),
    (["lambda:InvokeFunction"], [f"arn:aws:lambda:{R}:{ACCT}:function:fn-{{i}}"], None),
    (["logs:CreateLogStream", "logs:PutLogEvents"], [f"arn:aws:logs:{R}:{ACCT}:log-group:/aws/lambda/fn-{{i}}:*"], None),
    (["secretsmanager:DescribeSecret"], [f"arn:aws:secretsmanager:{R}:{ACCT}:secret:app/{{i}}/db-AbCdEf"], None),
    (["ssm:GetParameter*"], [f"arn:aws:ssm:{R}:{ACCT}:parameter/app/{{i}}/*"], None),
    (["kms:Decrypt", "kms:GenerateDataKey"], [f"arn:aws:kms:{R}:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890{{i:02d}}"],
     {"StringEquals": {"kms:ViaService": f"s3.{R}.amazonaws.com"}}),
    (["ec2:StartInstances", "ec2:StopInstances"], [f"arn:aws:ec2:{R}:{ACCT}:instance/*"],
     {"StringEquals": {"aws:ResourceTag/env": "env-{i}"}}),
    (["ec2:Describe*"], ["*"], {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}),
    (["iam:GetRole", "iam:PassRole"], [f"arn:aws:iam::{ACCT}:role/app/role-{{i}}"],
     {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
    (["cloudwatch:PutMetricData"], ["*"], {"StringEquals": {"cloudwatch:namespace": "App{i}"}}),
    (["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], [f"arn:aws:ecr:{R}:{ACCT}:repository/repo-{{i}}"], None),
    (["kinesis:PutRecord", "kinesis:PutRecords"], [f"arn:aws:kinesis:{R}:{ACCT}:stream/s-{{i}}"], None),
    (["states:StartExecution"], [f"arn:aws:states:{R}:{ACCT}:stateMachine:sm-{{i}}"], None),
    (["events:PutEvents"], [f"arn:aws:events:{R}:{ACCT}:event-bus/bus-{{i}}"], None),
    (["sqs:Get*", "sqs:List*"], [f"arn:aws:sqs:{R}:{ACCT}:queue-{{i}}"],
     {"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}),
    (["cloudformation:DescribeStacks"], [f"arn:aws:cloudformation:{R}:{ACCT}:stack/stack-{{i}}/*"], None),
]


def fill(x, i):
    if isinstance(x, str):
        return x.format(i=i)
    if isinstance(x, list):
        return [fill(v, i) for v in x]
    return {k: fill(v, i) for k, v in x.items()}


def statement(i):
    if i % 10 == 9:
        return {
            "Sid": f"Deny{i}",
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::bucket-{i}", f"arn:aws:s3:::bucket-{i}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    actions, resources, cond = TEMPLATES[i % len(TEMPLATES)]
    st = {
        "Sid": f"S{i}",
        "Effect": "Allow",
        "Action": actions,
        "Resource": fill(resources, i),
    }
    if cond is not None:
        st["Condition"] = fill(cond, i)
    return st


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    policy = {"Version": "2012-10-17", "Statement": [statement(i) for i in range(n)]}
    json.dump(policy, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
