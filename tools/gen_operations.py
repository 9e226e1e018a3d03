#!/usr/bin/env python3
"""Generate policy/src/record/operations.tsv: how an HTTP request names its operation.

`iamref record --proxy` sees raw SDK requests. Which operation a request is
depends on the service's wire protocol, which AWS publishes in its API
models (botocore's `service-2.json`). This script compiles the newest API
version of every botocore model into one compact text table:

    S <TAB> client <TAB> signing_name <TAB> endpoint_prefix <TAB> protocol <TAB> target_prefix
    O <TAB> operation <TAB> method <TAB> request_uri <TAB> members

One `S` line per service, followed by its `O` lines. `method` and
`request_uri` are `-` for the json/query/ec2/cbor protocols (the operation is
named by `X-Amz-Target`, `Action=` or the path there). `members` is a
comma-separated list of the input members that may name a resource, each
`LOC:WIRE=Member` (`WIRE` omitted when equal to `Member`), where LOC is
`l` (URI label), `q` (query string), `h` (header) or `b` (body); for
the rest protocols, `rq:WIRE` / `rh:WIRE` for the query and header members
the operation requires (they tell apart operations of one method and URI);
and `p:PATH` for each member that holds an IAM role (a role ARN or name the
call passes to the service: Lambda CreateFunction's `Role`, CodeBuild
CreateProject's `serviceRole`), `PATH` its member name or, through nested
structures however deep, the member names on the way, dot-separated
(CodePipeline CreatePipeline's `pipeline.roleArn`, `Outer.Inner.RoleArn`),
`[]` after a list (every element: EventBridge PutTargets'
`Targets[].RoleArn`) and `{}` after a map (every value), in rest-xml the
element names of the body (`locationName`; a list that is not flattened
as `Wrapper.member[]`), followed by `!` when the model requires it (every
member on the path in its structure's `required` list, each list or map
on it with `min` >= 1). The recorder (`policy/src/record/ops.rs`)
reads them: an `iam:PassRole` tied to a required role member is always
needed, one tied only to optional members when the call sends one.

Usage (from the workspace root):

    python3 tools/gen_operations.py        # the pinned versions below
    python3 tools/gen_operations.py --botocore-data DIR --fallback-version ''   # an installed botocore/data

Each botocore is installed into a throwaway venv (pip, pinned version).
Operations of older API versions the newest lacks are kept, and so are the
services and operations of the fallback version that the primary dropped:
the reference (and so the dataset) still lists them, and old clients still
send them.
"""

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "policy", "src", "record", "operations.tsv")

# The pinned botocore versions: the primary, and an older one for services
# and operations the primary no longer has but the Service Authorization
# Reference still lists (finspace, iotevents, panorama, tnb, ...).
PRIMARY = "1.44.8"
FALLBACK = "1.43.0"

# Input member names that may name a resource (`CopySource`: S3's
# `x-amz-copy-source`, the object CopyObject and UploadPartCopy read).
RESOURCE = re.compile(r"(Name|Arn|ARN|Id|Url|URL|Bucket|Key|Identifier|Prefix|CopySource)$")
# Member names of an IAM role the call passes (`Role`, `RoleArn`,
# `serviceRole`, `IamRoleArn`, `MonitoringRoleArn`, `executionRole`,
# `roleARN`, `DomainIAMRoleName`): string members that are not enums.
ROLE = re.compile(r"role(arn|name)?$", re.I)
# Role members that are no IAM role (a Snowflake role, OpenSearch's SAML
# backend role), found with ROLE in nested structures: never listed.
NOT_IAM_ROLE = re.compile(r"(snowflake|backend|databaseaccesscontrol)role$", re.I)
# Structures that describe what to list, not what is passed (`filter`):
# not entered.
NOT_PASSED = re.compile(r"^filters?$", re.I)
# Members that carry secrets or keys, never resource names: never listed.
SECRET = re.compile(r"(CustomerKey|Token|Password|Secret(String|Binary)|KeyMaterial|PrivateKey|AccessKey)", re.I)


def botocore_data_dir(version):
    venv = os.path.join(tempfile.mkdtemp(prefix="iamref-gen-"), "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    py = os.path.join(venv, "bin", "python")
    subprocess.run([py, "-m", "pip", "install", "--quiet", f"botocore=={version}"], check=True)
    out = subprocess.run(
        [py, "-c", "import botocore, os; print(botocore.__version__); "
         "print(os.path.join(os.path.dirname(botocore.__file__), 'data'))"],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    return out[0], out[1]


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def models(data_dir):
    """Every (client, api_version, model) of a botocore data folder, newest
    API version first."""
    for client in sorted(os.listdir(data_dir)):
        d = os.path.join(data_dir, client)
        if not os.path.isdir(d):
            continue
        versions = sorted(v for v in os.listdir(d) if os.path.isdir(os.path.join(d, v)))
        for v in reversed(versions):
            for name in ("service-2.json", "service-2.json.gz"):
                p = os.path.join(d, v, name)
                if os.path.exists(p):
                    yield client, v, load(p)
                    break


def clean(s):
    return s.replace("\t", " ").replace("\n", " ")


def is_role(model, name, m):
    target = model["shapes"].get(m.get("shape"), {})
    return (bool(ROLE.search(name)) and not NOT_IAM_ROLE.search(name)
            and target.get("type") == "string" and "enum" not in target)


# How deep `roles` looks into nested shapes (botocore's shapes may refer
# to themselves; a structure already on the path is not entered again).
MAX_DEPTH = 8


def wire_name(m, name, protocol):
    """A member's name as the body writes it: rest-xml elements carry the
    member's `locationName` (S3's `Rules` is `<Rule>`); JSON and forms
    the member name (the recorder matches names in any case)."""
    if protocol == "rest-xml":
        return m.get("locationName", name)
    return name


def roles(model, shape, shape_name=None, protocol=""):
    """The `p:` entries of an input shape: its role members, and those of
    the structures it holds, however deep (`Outer.Inner.RoleArn`), through
    lists (`Targets[].RoleArn`: every element) and map values
    (`Configs{}.RoleArn`: every value); `!` when required all the way
    (every member on the path in its structure's `required` list, and
    every list or map on it required to hold at least one entry, `min`).
    In rest-xml the path is the body's: elements by `locationName`, a
    list that is not `flattened` as its wrapper and item elements
    (`Rules.member[]`)."""
    out = []
    shapes = model["shapes"]

    def container(m_shape_name, path, required, seen, depth):
        """Descend into the shape a member (or a list item, a map value)
        has: a structure, a list or a map."""
        inner = shapes.get(m_shape_name, {})
        t = inner.get("type")
        # Structures count towards MAX_DEPTH; a list or map adds no depth
        # (nor does any shape already on the path get entered again).
        if depth >= MAX_DEPTH or m_shape_name in seen:
            return
        seen = seen | {m_shape_name}
        if t == "structure":
            walk(inner, path + ".", required, seen, depth + 1)
        elif t == "list":
            item = inner.get("member", {})
            req = required and inner.get("min", 0) >= 1
            if protocol == "rest-xml" and not inner.get("flattened"):
                path = f"{path}.{item.get('locationName', 'member')}"
            container(item.get("shape"), path + "[]", req, seen, depth)
        elif t == "map":
            value = inner.get("value", {})
            req = required and inner.get("min", 0) >= 1
            container(value.get("shape"), path + "{}", req, seen, depth)

    def walk(shape, prefix, required_above, seen, depth):
        required = set(shape.get("required", []))
        items = sorted(shape.get("members", {}).items())
        for name, m in items:
            if is_role(model, name, m):
                req = required_above and name in required
                # A top-level member by its model name (the recorder keys
                # the members it reads so), a nested one as the body has it.
                leaf = wire_name(m, name, protocol) if prefix else name
                out.append(f"p:{prefix}{leaf}" + ("!" if req else ""))
        for name, m in items:
            # Members of the URI, query string or headers hold no nested role.
            if NOT_PASSED.search(name) or m.get("location") is not None:
                continue
            container(m.get("shape"), prefix + wire_name(m, name, protocol),
                      required_above and name in required, seen, depth)

    walk(shape, "", True, {shape_name}, 0)
    return out


def members(model, op, protocol):
    inp = op.get("input")
    if not inp:
        return []
    shape = model["shapes"].get(inp["shape"], {})
    out = []
    required = set(shape.get("required", []))
    if protocol in ("rest-json", "rest-xml"):
        # Required query and header members tell apart operations of one
        # method and URI (S3 PutObject and CopyObject: `x-amz-copy-source`).
        for name, m in sorted(shape.get("members", {}).items()):
            loc = m.get("location")
            if name in required and loc in ("querystring", "header"):
                wire = m.get("locationName", name)
                out.append(("rq:" if loc == "querystring" else "rh:") + wire)
    for name, m in sorted(shape.get("members", {}).items()):
        target = model["shapes"].get(m.get("shape"), {})
        if target.get("type") != "string" or SECRET.search(name):
            continue
        loc = m.get("location")
        wire = m.get("locationName", name)
        if loc == "uri":
            tag = "l"
        elif loc == "querystring":
            tag = "q"
        elif loc == "header":
            tag = "h"
        elif loc is None:
            if not (RESOURCE.search(name) or is_role(model, name, m)):
                continue
            tag = "b"
            if protocol == "ec2":
                # botocore's EC2 serializer: queryName, else locationName
                # capitalized, else the member name.
                wire = m.get("queryName") or (wire[:1].upper() + wire[1:])
        else:
            continue
        if tag in ("q", "h") and not (RESOURCE.search(name) or is_role(model, name, m)):
            continue
        out.append(f"{tag}:{name}" if wire == name else f"{tag}:{wire}={name}")
    return out + roles(model, shape, inp["shape"], protocol)


def service_line(client, model):
    md = model.get("metadata", {})
    protocol = md.get("protocol", "")
    protos = md.get("protocols") or [protocol]
    # Prefer the protocol the SDKs speak today (first of `protocols`).
    protocol = protos[0] if protos else protocol
    signing = md.get("signingName") or md.get("endpointPrefix", "")
    line = "\t".join(["S", client, signing, md.get("endpointPrefix", ""),
                      protocol, md.get("targetPrefix", "-") or "-"])
    return line, protocol


def op_line(model, name, op, protocol):
    rest = protocol in ("rest-json", "rest-xml")
    http = op.get("http", {})
    method = http.get("method", "POST") if rest else "-"
    uri = clean(http.get("requestUri", "/")) if rest else "-"
    return "\t".join(["O", name, method, uri, ",".join(members(model, op, protocol))])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--botocore-version", default=PRIMARY)
    ap.add_argument("--fallback-version", default=FALLBACK,
                    help="an older botocore whose services and operations fill what the primary "
                         "dropped (retired services the reference still lists); '' for none")
    ap.add_argument("--botocore-data", help="an installed botocore/data instead of the primary")
    a = ap.parse_args()
    if a.botocore_data:
        version, data_dir = "local", a.botocore_data
    else:
        version, data_dir = botocore_data_dir(a.botocore_version)
    dirs = [(version, data_dir)]
    if a.fallback_version:
        dirs.append(botocore_data_dir(a.fallback_version))
    # client -> (S line, protocol, {operation: O line}); the primary's
    # newest API version first, then its older versions (operations only
    # they have, e.g. cloudsearch 2011-02-01), then the fallback's.
    services = {}
    for _, d in dirs:
        for client, _v, model in models(d):
            if client not in services:
                line, protocol = service_line(client, model)
                services[client] = (line, protocol, {})
            _, _, ops = services[client]
            protocol = service_line(client, model)[1]
            for name, op in sorted(model.get("operations", {}).items()):
                if name not in ops:
                    ops[name] = op_line(model, name, op, protocol)
    names = " + ".join(f"botocore {v}" for v, _ in dirs)
    lines = [
        f"# Generated by tools/gen_operations.py from {names}; do not edit.",
        "# S\tclient\tsigning_name\tendpoint_prefix\tprotocol\ttarget_prefix",
        "# O\toperation\tmethod\trequest_uri\tmembers (LOC:[WIRE=]Member; l uri label, q query, h header, b body;"
        " rq/rh required query/header; p:[Parent(.|[].|{}.)]*Member[!] a passed IAM role ([] every list element, {} every map value), ! required)",
    ]
    for client in sorted(services):
        line, _, ops = services[client]
        lines.append(line)
        lines.extend(ops[n] for n in sorted(ops))
    tmp = OUT + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, OUT)
    print(f"wrote {OUT}: {len(lines)} lines", file=sys.stderr)


if __name__ == "__main__":
    main()
