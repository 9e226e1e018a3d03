#!/usr/bin/env python3
"""Generate policy/src/resource_groups.tsv: which required resource types of
an action go together, from the evidence of AWS's API models.

The reference marks resource types "required" (`*`) per action, but when an
action lists two or more, it does not say whether every call involves all
of them (ec2:AttachVolume: the instance *and* the volume) or whether the
request names one resource of one of those types (bedrock:InvokeModel
names one model; athena:TagResource one resource ARN). This script reads
the evidence the API models give: botocore's `service-2.json` (installed
into a throwaway venv from PyPI, pinned) for the operation of the same name
as the action (found through the dataset's operation -> SDK client map,
`data/services/*.json`), and maps each required resource type to the
input member that names it:

- a member named after the type's own id placeholder (the format's last
  placeholder: `${VolumeId}` -> `VolumeId`, `${BucketName}` -> `Bucket`),
  or after the type itself (`volume` -> `VolumeId`, `VolumeArn`, plurals
  too);
- otherwise, when no type has a member of its own: a generic resource
  member (`ResourceArn`, `ResourceId`, ...), or the operation's only
  required identifier-like member (`modelId`): every type is named by it.

Only required members count. Classes:

- `conjunctive`: two or more required members each name a distinct set of
  types: each set is a group, the request names one resource per group, and
  every group must be reachable (types no required member names are not in
  any group: the evidence does not say they are always needed);
- `alternatives`: one required member names every required type;
- `undecided`: anything else (no operation, no model, members that place
  only some types). Treated as alternatives: iamref never claims a call is
  denied without evidence.

Output columns: action, class, groups (`;` between groups, `,` between the
types of a group), evidence. Reviewed exceptions live in
policy/src/resource_groups_overrides.tsv (with the evidence per entry).

Usage (from the workspace root):

    python3 tools/gen_resource_groups.py                  # pinned botocore
    python3 tools/gen_resource_groups.py --botocore-dir DIR  # an unpacked botocore/data
"""

import argparse
import collections
import glob
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile

BOTOCORE_VERSION = "1.44.8"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "policy", "src", "resource_groups.tsv")
CONTEXT = {"partition", "region", "account"}
GENERIC = {
    "resourcearn",
    "resourceid",
    "resourcename",
    "arn",
    "resource",
    "resourceidentifier",
    "resourcearns",
    "resourcearnlist",
    "resourceids",
}
IDLIKE = re.compile(r"(id|arn|name|identifier|ids|arns|names|identifiers|url|uri)$")


def botocore_data_dir(version):
    venv = os.path.join(tempfile.mkdtemp(prefix="iamref-gen-"), "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    pip = os.path.join(venv, "bin", "pip")
    subprocess.run([pip, "install", "-q", f"botocore=={version}"], check=True)
    found = glob.glob(os.path.join(venv, "lib", "python*", "site-packages", "botocore", "data"))
    if not found:
        sys.exit("botocore installed, but its data folder was not found")
    return found[0]


def norm(s):
    return re.sub(r"[^a-z0-9]", "", s.lower())


def singular(n):
    for plural, one in (("ids", "id"), ("arns", "arn"), ("names", "name"), ("list", "")):
        if n.endswith(plural):
            return n[: -len(plural)] + one
    return n[:-1] if n.endswith("s") else n


class Models:
    def __init__(self, data):
        self.data = data
        self.cache = {}

    def get(self, client):
        if client not in self.cache:
            self.cache[client] = self._load(client)
        return self.cache[client]

    def _load(self, client):
        d = os.path.join(self.data, client)
        if not os.path.isdir(d):
            return None
        version = sorted(os.listdir(d))[-1]
        path = os.path.join(d, version, "service-2.json")
        if os.path.exists(path):
            with open(path) as f:
                return json.load(f)
        if os.path.exists(path + ".gz"):
            with gzip.open(path + ".gz") as f:
                return json.load(f)
        return None


def own_ids(resource_type):
    out = set()
    for arn in resource_type.get("arns", []):
        names = [p for p in re.findall(r"\$\{([^}]+)\}", arn["name"]) if p.lower() not in CONTEXT]
        if names:
            out.add(names[-1])
    return out


def names_type(member, type_name, ids):
    m = norm(member)
    t = norm(type_name)
    wanted = {t, t + "id", t + "arn", t + "name", t + "identifier"}
    for i in ids:
        n = norm(i)
        wanted.add(n)
        for suffix in ("name", "id", "arn", "identifier"):
            wanted.add(n + suffix)
            if n.endswith(suffix):
                wanted.add(n[: -len(suffix)])
    return m in wanted or singular(m) in wanted


def classify(service, action, models):
    types = {r["name"]: r for r in service["resource_types"]}
    required = sorted({r["name"] for r in action["resource_types"] if r["required"]})
    ops = {o["name"].lower(): o for o in service.get("operations", [])}
    op = ops.get(action["name"].lower())
    if not op:
        return "undecided", [required], "no API operation of that name"
    found = None
    for sdk in op.get("sdk", []):
        model = models.get(sdk["client"])
        if model and op["name"] in model["operations"]:
            found = (sdk["client"], model, model["operations"][op["name"]])
            break
    if not found:
        return "undecided", [required], f"operation {op['name']} not in botocore's models"
    client, model, operation = found
    shape = operation.get("input", {}).get("shape")
    members, must = {}, set()
    if shape:
        s = model["shapes"][shape]
        members = s.get("members", {})
        must = set(s.get("required", []))
    named = {}
    for t in required:
        ids = own_ids(types.get(t, {}))
        named[t] = {m for m in members if m in must and names_type(m, t, ids)}
    if not any(named.values()):
        generic = sorted(m for m in must if norm(m) in GENERIC)
        idlike = sorted(m for m in must if IDLIKE.search(m.lower()))
        if generic:
            named = {t: set(generic) for t in required}
        elif len(idlike) == 1:
            named = {t: set(idlike) for t in required}
    groups = collections.defaultdict(set)
    for t, ms in named.items():
        if ms:
            groups[frozenset(ms)].add(t)
    unplaced = [t for t in required if not named.get(t)]
    said = "; ".join(
        f"{'+'.join(sorted(ms))}->{','.join(sorted(ts))}"
        for ms, ts in sorted(groups.items(), key=lambda g: sorted(g[0]))
    )
    evidence = f"botocore {client} {op['name']} required members: {said or 'none naming a type'}"
    if unplaced:
        evidence += f"; named by no required member: {','.join(unplaced)}"
    if len(groups) >= 2:
        ordered = sorted((sorted(ts) for ts in groups.values()), key=lambda g: g[0].lower())
        return "conjunctive", ordered, evidence
    if len(groups) == 1 and not unplaced:
        return "alternatives", [required], evidence
    return "undecided", [required], evidence


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--botocore-version", default=BOTOCORE_VERSION)
    ap.add_argument("--botocore-dir", help="botocore's data folder (skips the venv)")
    args = ap.parse_args()
    data = args.botocore_dir or botocore_data_dir(args.botocore_version)
    models = Models(data)
    rows, counts = [], collections.Counter()
    for path in sorted(glob.glob(os.path.join(ROOT, "data", "services", "*.json"))):
        with open(path) as f:
            service = json.load(f)
        for action in service["actions"]:
            if len({r["name"] for r in action["resource_types"] if r["required"]}) < 2:
                continue
            cls, groups, evidence = classify(service, action, models)
            counts[cls] += 1
            name = f"{service['prefix']}:{action['name']}"
            rows.append((name, cls, ";".join(",".join(g) for g in groups), evidence))
    rows.sort(key=lambda r: r[0].lower())
    with open(OUT + ".tmp", "w") as f:
        f.write(f"# Generated by tools/gen_resource_groups.py from botocore {args.botocore_version} "
                "and data/services; do not edit (overrides: resource_groups_overrides.tsv)\n")
        f.write("action\tclass\tgroups\tevidence\n")
        for r in rows:
            f.write("\t".join(x.replace("\t", " ") for x in r) + "\n")
    os.replace(OUT + ".tmp", OUT)
    print(f"{OUT}: {len(rows)} actions: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
