#!/usr/bin/env python3
"""Generate policy/src/record/service_ids.tsv: SDK service IDs -> IAM prefixes.

CSM datagrams name the service by the SDK *service ID* (`SFN`,
`CloudWatch Logs`, `S3`), which is neither the IAM prefix (`states`, `logs`)
nor always the client name (`stepfunctions`). The SDKs' published service
models carry it as `metadata.serviceId`. This script reads every model of
botocore (installed into a throwaway venv from PyPI) and joins it to the
SDK client names of the dataset's JSON documents (`data/services/*.json`,
`operations[].sdk[].client`):

    service_id  client  signing_name  endpoint_prefix  iam_prefix  how

`iam_prefix` is the prefix whose operations name that client most often
(`how` = `sdk`); for clients the dataset does not name, the model's
signing name or endpoint prefix when that is a dataset prefix (`how` =
`signing-name` / `endpoint-prefix`); else empty (`how` = `none`).

Usage (from the workspace root):

    python3 tools/gen_service_ids.py            # venv under target/, latest botocore
    python3 tools/gen_service_ids.py --botocore-version 1.40.0
"""

import argparse
import collections
import glob
import gzip
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "policy", "src", "record", "service_ids.tsv")


def botocore_data_dir(version):
    venv = os.path.join(tempfile.mkdtemp(prefix="iamref-gen-"), "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    py = os.path.join(venv, "bin", "python")
    spec = "botocore" + (f"=={version}" if version else "")
    subprocess.run([py, "-m", "pip", "install", "--quiet", spec], check=True)
    out = subprocess.run(
        [py, "-c", "import botocore, os; print(botocore.__version__); print(os.path.join(os.path.dirname(botocore.__file__), 'data'))"],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    return out[0], out[1]


def load(path):
    if path.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return json.load(f)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def models(data_dir):
    """(client name, metadata) of the newest API version of each service."""
    for client in sorted(os.listdir(data_dir)):
        d = os.path.join(data_dir, client)
        if not os.path.isdir(d):
            continue
        versions = sorted(v for v in os.listdir(d) if os.path.isdir(os.path.join(d, v)))
        for v in reversed(versions):
            files = glob.glob(os.path.join(d, v, "service-2.json*"))
            if files:
                yield client, load(files[0])["metadata"]
                break


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--botocore-version")
    ap.add_argument("--botocore-data", help="use this botocore/data folder instead of installing")
    ap.add_argument("--fallback-version", action="append", default=None,
                    help="older botocore releases read for dataset clients the newest no longer ships "
                         "(default: 1.38.0, 1.34.0)")
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args()
    if a.botocore_data:
        version, data_dir = "local", a.botocore_data
    else:
        version, data_dir = botocore_data_dir(a.botocore_version)

    prefixes = set()
    by_client = collections.defaultdict(collections.Counter)
    for f in glob.glob(os.path.join(ROOT, "data", "services", "*.json")):
        s = load(f)
        prefixes.add(s["prefix"])
        for op in s.get("operations", []):
            for m in op.get("sdk", []):
                if m["package"].lower() == "boto3":
                    by_client[m["client"]][s["prefix"]] += 1

    sources = [(version, data_dir)]
    rows = []
    seen = set()

    def all_models():
        for client, md in models(data_dir):
            yield client, md
        missing = sorted(set(by_client) - seen)
        for v in ([] if a.botocore_data else (a.fallback_version or ["1.38.0", "1.34.0"])):
            if not missing:
                break
            old_version, old_dir = botocore_data_dir(v)
            sources.append((old_version, old_dir))
            for client, md in models(old_dir):
                if client in missing:
                    yield client, md
            missing = sorted(set(by_client) - seen)

    for client, md in all_models():
        sid = md.get("serviceId") or md.get("serviceAbbreviation") or md.get("serviceFullName")
        signing = md.get("signingName", "")
        endpoint = md.get("endpointPrefix", "")
        if client in by_client:
            prefix = sorted(by_client[client].items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            how = "sdk"
        elif signing in prefixes:
            prefix, how = signing, "signing-name"
        elif endpoint in prefixes:
            prefix, how = endpoint, "endpoint-prefix"
        else:
            prefix, how = "", "none"
        rows.append((sid, client, signing, endpoint, prefix, how))
        seen.add(client)
    missing = sorted(set(by_client) - seen)
    if missing:
        print("warning: dataset SDK clients with no botocore model: " + ", ".join(missing), file=sys.stderr)
    rows.sort(key=lambda r: (r[0].lower(), r[1]))
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("# Generated by tools/gen_service_ids.py from botocore " + ", ".join(v for v, _ in sources) + " and data/services; do not edit.\n")
        f.write("# service_id\tclient\tsigning_name\tendpoint_prefix\tiam_prefix\thow\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    os.replace(tmp, a.out)
    counts = collections.Counter(r[5] for r in rows)
    print(f"{len(rows)} service models from botocore {', '.join(v for v, _ in sources)}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
