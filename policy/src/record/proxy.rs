//! From an HTTP request an SDK sent (seen by `iamref record --proxy`) to a
//! [`Call`]: pure, no network.
//!
//! The service comes from the SigV4 credential scope (`Credential=AKID/date/
//! REGION/SERVICE/aws4_request`, in the `Authorization` header or the
//! `X-Amz-Credential` query member) with the host's first label choosing
//! among models that share a signing name; the operation comes from the
//! service's wire protocol, as botocore's API models (compiled into
//! `operations.tsv` by `tools/gen_operations.py`) describe it:
//! JSON `X-Amz-Target`, query/ec2 `Action=`, rest-json/rest-xml method and URI
//! template (the longest literal match, required query members), and
//! smithy-rpc-v2-cbor `/service/S/operation/OP`. The input members that may
//! name resources (URI labels, query, header and body members) become the
//! call's `params`, which the recording resolves into ARNs with the resolver
//! CloudTrail's `requestParameters` use ([`super::cloudtrail::arn_from_params`]).
//!
//! Credentials never enter a [`Call`]: the access key id is reduced to its
//! account id, the signature, session token and all other headers are dropped,
//! and only the named members are read from the (bounded) body prefix.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::{body, csm, service_ids, Call, ServiceRef};

/// The compiled table (see `tools/gen_operations.py`).
pub const TABLE: &str = include_str!("operations.tsv");

/// How much of a request body is looked at for members.
pub const BODY_PREFIX: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Json,
    Query,
    Ec2,
    RestJson,
    RestXml,
    Cbor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    Label,
    Query,
    Header,
    Body,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub loc: Loc,
    /// The name on the wire (`x-amz-copy-source`, `uploadId`).
    pub wire: &'static str,
    /// The model's member name (`CopySource`, `UploadId`).
    pub name: &'static str,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub name: &'static str,
    pub method: &'static str,
    pub uri: &'static str,
    pub members: Vec<Member>,
    /// Query members the operation requires (rest protocols).
    pub required_query: Vec<&'static str>,
    /// Header members the operation requires (rest protocols).
    pub required_headers: Vec<&'static str>,
    /// The members that pass an IAM role (`Role`, `pipeline.roleArn`: a
    /// member name, or the path to it through nested structures,
    /// `Outer.Inner.RoleArn`), and whether the model requires each.
    pub roles: Vec<(&'static str, bool)>,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub client: &'static str,
    pub signing_name: &'static str,
    pub endpoint_prefix: &'static str,
    pub protocol: Protocol,
    pub target_prefix: Option<&'static str>,
    pub operations: Vec<Operation>,
}

#[derive(Debug, Default)]
pub struct Table {
    pub services: Vec<Service>,
    by_signing: HashMap<String, Vec<usize>>,
    by_endpoint: HashMap<String, Vec<usize>>,
    by_client: HashMap<String, usize>,
}

fn parse_protocol(s: &str) -> Option<Protocol> {
    Some(match s {
        "json" => Protocol::Json,
        "query" => Protocol::Query,
        "ec2" => Protocol::Ec2,
        "rest-json" => Protocol::RestJson,
        "rest-xml" => Protocol::RestXml,
        "smithy-rpc-v2-cbor" => Protocol::Cbor,
        _ => return None,
    })
}

/// Parse a table in the format `tools/gen_operations.py` writes. Lines it
/// cannot read are errors naming the line.
pub fn parse(text: &'static str) -> Result<Table, String> {
    let mut t = Table::default();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&'static str> = line.split('\t').collect();
        let bad = || format!("operations table line {}: malformed", i + 1);
        match f[0] {
            "S" if f.len() == 6 => {
                let protocol = parse_protocol(f[4]).ok_or_else(bad)?;
                let n = t.services.len();
                t.by_signing
                    .entry(f[2].to_ascii_lowercase())
                    .or_default()
                    .push(n);
                t.by_endpoint
                    .entry(f[3].to_ascii_lowercase())
                    .or_default()
                    .push(n);
                t.by_client.insert(f[1].to_string(), n);
                t.services.push(Service {
                    client: f[1],
                    signing_name: f[2],
                    endpoint_prefix: f[3],
                    protocol,
                    target_prefix: (f[5] != "-").then_some(f[5]),
                    operations: Vec::new(),
                });
            }
            "O" if f.len() == 5 => {
                let s = t.services.last_mut().ok_or_else(bad)?;
                let mut members = Vec::new();
                let (mut required_query, mut required_headers) = (Vec::new(), Vec::new());
                let mut roles = Vec::new();
                for m in f[4].split(',').filter(|m| !m.is_empty()) {
                    let (loc, rest) = m.split_once(':').ok_or_else(bad)?;
                    let loc = match loc {
                        "l" => Loc::Label,
                        "q" => Loc::Query,
                        "h" => Loc::Header,
                        "b" => Loc::Body,
                        "rq" => {
                            required_query.push(rest);
                            continue;
                        }
                        "rh" => {
                            required_headers.push(rest);
                            continue;
                        }
                        "p" => {
                            let (path, required) = match rest.strip_suffix('!') {
                                Some(p) => (p, true),
                                None => (rest, false),
                            };
                            if path.is_empty() {
                                return Err(bad());
                            }
                            roles.push((path, required));
                            continue;
                        }
                        _ => return Err(bad()),
                    };
                    let (wire, name) = rest.split_once('=').unwrap_or((rest, rest));
                    members.push(Member { loc, wire, name });
                }
                s.operations.push(Operation {
                    name: f[1],
                    method: f[2],
                    uri: f[3],
                    members,
                    required_query,
                    required_headers,
                    roles,
                });
            }
            _ => return Err(bad()),
        }
    }
    Ok(t)
}

/// The table shipped in the tree.
pub fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| parse(TABLE).expect("operations.tsv is generated and tested"))
}

impl Table {
    pub fn service(&self, client: &str) -> Option<&Service> {
        self.by_client.get(client).map(|&i| &self.services[i])
    }

    /// The models a request may be for, best first: those of its signing
    /// name (credential scope), the one whose endpoint prefix is a label
    /// of the host first (`s3-control` in
    /// `123456789012.s3-control.us-east-1.amazonaws.com`), then the one
    /// named like the signing name (`s3`, not `s3control`). Unsigned (or an
    /// unknown signing name): the host's first label names the endpoint;
    /// an S3 virtual-hosted name (`bucket.s3.region...`) names S3.
    fn candidates(&self, signing: Option<&str>, host: &str) -> Vec<&Service> {
        let labels: Vec<String> = host.split('.').map(str::to_ascii_lowercase).collect();
        if let Some(c) = signing.and_then(|s| self.by_signing.get(&s.to_ascii_lowercase())) {
            let signing = signing.unwrap_or_default();
            let rank = |i: usize| {
                let s = &self.services[i];
                let label = labels
                    .iter()
                    .position(|l| s.endpoint_prefix.eq_ignore_ascii_case(l))
                    .unwrap_or(usize::MAX);
                (label, !s.client.eq_ignore_ascii_case(signing), i)
            };
            let mut v = c.clone();
            v.sort_by_key(|&i| rank(i));
            return v.into_iter().map(|i| &self.services[i]).collect();
        }
        if let Some(c) = labels.first().and_then(|l| self.by_endpoint.get(l)) {
            return c.iter().map(|&i| &self.services[i]).collect();
        }
        s3_bucket_of_host(host)
            .and_then(|_| self.service("s3"))
            .into_iter()
            .collect()
    }
}

/// One request as the proxy saw it. Header names in any case.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub method: &'a str,
    /// Host without port.
    pub host: &'a str,
    /// Path, percent-encoded as sent.
    pub path: &'a str,
    /// Query string without `?`, as sent.
    pub query: &'a str,
    pub headers: &'a [(String, String)],
    /// At most [`BODY_PREFIX`] bytes of the body.
    pub body: &'a [u8],
}

/// What came back.
#[derive(Debug, Clone, Default)]
pub struct Response {
    pub status: u16,
    /// Error code (`x-amzn-ErrorType`, `__type`, `<Code>`), if any.
    pub error: Option<String>,
    /// The error message, read only to find the action an AccessDenied names.
    pub message: Option<String>,
}

fn header<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Percent-decode (`+` stays `+`; in form bodies callers map it first).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// `k=v&k2=v2` pairs, decoded (`+` is a space in forms and queries).
pub fn form_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// Access key id, region and service of the SigV4 credential scope.
fn scope(r: &Request) -> Option<(String, String, String)> {
    let cred = if let Some(a) = header(r, "authorization") {
        let i = a.find("Credential=")? + "Credential=".len();
        a[i..].split([',', ' ']).next()?.to_string()
    } else {
        form_pairs(r.query)
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("X-Amz-Credential"))?
            .1
    };
    let mut p = cred.split('/');
    let key = p.next()?.to_string();
    let _date = p.next()?;
    let region = p.next()?.to_string();
    let service = p.next()?.to_string();
    Some((key, region, service))
}

/// The bucket of an S3 virtual-hosted host name (`b.s3.us-east-1.amazonaws.com`).
fn s3_bucket_of_host(host: &str) -> Option<&str> {
    for m in [".s3.", ".s3-", ".s3-accelerate."] {
        if let Some(i) = host.find(m) {
            if i > 0 && is_aws_host(host) {
                return Some(&host[..i]);
            }
        }
    }
    None
}

/// Is this an AWS host the proxy intercepts?
pub fn is_aws_host(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h.ends_with(".amazonaws.com") || h.ends_with(".amazonaws.com.cn") || h.ends_with(".api.aws")
}

/// Match a path against one URI template path; the labels' values and the
/// template's literal length, or `None`.
fn match_path(template: &str, path: &str) -> Option<(usize, Vec<(String, String)>)> {
    let t: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut labels = Vec::new();
    let mut literal = 0;
    let mut pi = 0;
    for (ti, seg) in t.iter().enumerate() {
        if let Some(open) = seg.find('{') {
            let close = seg.rfind('}')?;
            let (pre, name, post) = (&seg[..open], &seg[open + 1..close], &seg[close + 1..]);
            if let Some(name) = name.strip_suffix('+') {
                // Greedy: the rest of the path, less what later segments need.
                let rest = t.len() - ti - 1;
                if p.len() < pi + 1 + rest {
                    return None;
                }
                let end = p.len() - rest;
                let v = p[pi..end].join("/");
                let v = v.strip_prefix(pre)?.strip_suffix(post)?;
                if v.is_empty() {
                    return None;
                }
                literal += pre.len() + post.len();
                labels.push((name.to_string(), percent_decode(v)));
                pi = end;
                continue;
            }
            let s = p.get(pi)?;
            let v = s.strip_prefix(pre)?.strip_suffix(post)?;
            if v.is_empty() {
                return None;
            }
            literal += pre.len() + post.len();
            labels.push((name.to_string(), percent_decode(v)));
        } else {
            if p.get(pi).copied()? != *seg {
                return None;
            }
            literal += seg.len() + 1;
        }
        pi += 1;
    }
    // A trailing `/` the template does not have (`/bucket/` for `/{Bucket}`)
    // is the same resource.
    let trailing = pi + 1 == p.len() && p[pi].is_empty() && !template.ends_with('/');
    (pi == p.len() || trailing).then_some((literal, labels))
}

/// URI label names and their (decoded) values.
type Labels = Vec<(String, String)>;

/// The rest operation a request is: method, path template, required
/// query members (in the template and the model), required headers; the
/// longest literal match wins. Should no operation have all its required
/// headers, the best one without them.
fn rest_operation<'s>(
    s: &'s Service,
    r: &Request,
    path: &str,
    query: &[(String, String)],
) -> Option<(&'s Operation, Labels)> {
    let mut best: Option<(usize, &Operation, Labels)> = None;
    let mut lenient: Option<(usize, &Operation, Labels)> = None;
    for op in &s.operations {
        if !op.method.eq_ignore_ascii_case(r.method) {
            continue;
        }
        let (tpath, tquery) = op.uri.split_once('?').unwrap_or((op.uri, ""));
        let Some((mut score, labels)) = match_path(tpath, path) else {
            continue;
        };
        let mut ok = true;
        for (k, v) in form_pairs(tquery) {
            ok &= query
                .iter()
                .any(|(qk, qv)| *qk == k && (v.is_empty() || *qv == v));
            score += 1000;
        }
        for k in &op.required_query {
            ok &= query.iter().any(|(qk, _)| qk == k);
            score += 1000;
        }
        if !ok {
            continue;
        }
        let lenient_score = score;
        let mut headers_ok = true;
        for h in &op.required_headers {
            headers_ok &= header(r, h).is_some();
            score += 1000;
        }
        if headers_ok && best.as_ref().is_none_or(|b| score > b.0) {
            best = Some((score, op, labels.clone()));
        }
        if lenient.as_ref().is_none_or(|b| lenient_score > b.0) {
            lenient = Some((lenient_score, op, labels));
        }
    }
    best.or(lenient).map(|(_, op, l)| (op, l))
}

/// A body member's string value: a top-level member of the body's tree
/// (a JSON or CBOR object, the root element's children of an XML body)
/// or a form pair.
fn body_member(
    tree: Option<&serde_json::Value>,
    form: &[(String, String)],
    wire: &str,
) -> Option<String> {
    if let Some(v) = tree {
        return v.get(wire).and_then(|v| v.as_str()).map(str::to_string);
    }
    form.iter().find(|(k, _)| k == wire).map(|(_, v)| v.clone())
}

/// The strings a nested role member (`pipeline.roleArn`,
/// `Outer.Inner.RoleArn`, `Targets[].RoleArn` through lists, `Map{}.X`
/// through map values) holds in a request: in the body's tree (JSON, CBOR
/// or XML: the members on the path, matched without regard to case as
/// CloudTrail's are); in a query or EC2 form, the flattened pairs
/// (`Outer.Inner.RoleArn`, `Targets.member.1.RoleArn`,
/// `Map.entry.1.value.RoleArn`; EC2 capitalizes each name, matched in
/// any case).
fn nested_roles(
    tree: Option<&serde_json::Value>,
    form: &[(String, String)],
    query: &[(String, String)],
    protocol: Protocol,
    path: &str,
) -> Vec<String> {
    if let Some(v) = tree {
        return super::cloudtrail::param_values(v, path)
            .into_iter()
            .filter_map(|v| v.as_str())
            .map(str::to_string)
            .collect();
    }
    if !matches!(protocol, Protocol::Query | Protocol::Ec2) {
        return Vec::new();
    }
    form.iter()
        .chain(query)
        .filter(|(k, _)| form_key_is(path, k))
        .map(|(_, v)| v.clone())
        .collect()
}

/// Does a form key (`Targets.member.2.RoleArn`) name a member path
/// (`Targets[].RoleArn`)? A list's element is `member.N` or `N`, a map's
/// value `entry.N.value` or `N.value`.
fn form_key_is(path: &str, key: &str) -> bool {
    let mut k = key.split('.').peekable();
    let number =
        |x: Option<&str>| x.is_some_and(|x| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit()));
    for part in path.split('.') {
        let (name, markers) = super::cloudtrail::path_part(part);
        if !k.next().is_some_and(|x| x.eq_ignore_ascii_case(name)) {
            return false;
        }
        for map in markers {
            let wrapper = if map { "entry" } else { "member" };
            if k.peek().is_some_and(|x| x.eq_ignore_ascii_case(wrapper)) {
                k.next();
            }
            if !number(k.next()) {
                return false;
            }
            if map && !k.next().is_some_and(|x| x.eq_ignore_ascii_case("value")) {
                return false;
            }
        }
    }
    k.next().is_none()
}

/// The tree of one string at a member path (`Targets[].RoleArn` ->
/// `{"Targets": [{"RoleArn": v}]}`; a map's values as a list).
fn tree_of(path: &str, v: serde_json::Value) -> serde_json::Value {
    let (part, rest) = path.split_once('.').unwrap_or((path, ""));
    let (name, markers) = super::cloudtrail::path_part(part);
    let mut inner = if rest.is_empty() { v } else { tree_of(rest, v) };
    for _ in markers {
        inner = serde_json::Value::Array(vec![inner]);
    }
    let mut m = serde_json::Map::new();
    m.insert(name.to_string(), inner);
    serde_json::Value::Object(m)
}

/// Merge `add` into `into`: objects member by member, lists appended;
/// where both hold something else, what is there stays.
fn merge(into: &mut serde_json::Value, add: serde_json::Value) {
    match (into, add) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(x) => merge(x, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (serde_json::Value::Array(a), serde_json::Value::Array(b)) => a.extend(b),
        _ => {}
    }
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The call a request (and its response) is. `Err` says why it is not an
/// AWS API call iamref knows (no service, no operation).
pub fn call_of(at: String, r: &Request, resp: Option<&Response>) -> Result<Call, String> {
    let host = r.host.trim_end_matches('.').to_ascii_lowercase();
    let sc = scope(r);
    let t = table();
    let cands = t.candidates(sc.as_ref().map(|s| s.2.as_str()), &host);
    if cands.is_empty() {
        return Err(match &sc {
            Some(s) => format!("{at}: unknown service {:?} (host {host})", s.2),
            None => format!("{at}: unsigned request to {host}: no service"),
        });
    }
    let query = form_pairs(r.query);
    let body = &r.body[..r.body.len().min(BODY_PREFIX)];
    let cut = body_cut(r, body.len());
    let ctype = header(r, "content-type").unwrap_or("").to_ascii_lowercase();
    let form = if ctype.starts_with("application/x-www-form-urlencoded") {
        let text = String::from_utf8_lossy(body);
        let mut pairs = form_pairs(text.trim());
        // The last pair of a cut form may be cut short.
        if cut.is_some() {
            pairs.pop();
        }
        pairs
    } else {
        Vec::new()
    };
    let action = query
        .iter()
        .chain(form.iter())
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.clone());
    let target = header(r, "x-amz-target");
    // Models sharing a signing name (`lambda`, `lambda-core`): the first
    // that knows the operation; the first one's reason otherwise.
    let mut first_err = None;
    let mut found = None;
    for &svc in &cands {
        match operation_in(svc, r, &host, target, action.as_deref(), &query) {
            Ok(x) => {
                found = Some((svc, x));
                break;
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    let Some((svc, (op, labels))) = found else {
        return Err(format!("{at}: {}", first_err.unwrap_or_default()));
    };
    // The body's members, read only when the operation names some there
    // (never an object's content).
    let nested = |p: &str| p.contains('.');
    let wants_body = op.members.iter().any(|m| m.loc == Loc::Body)
        || op.roles.iter().any(|(p, _)| nested(p))
        || each_list(svc, op).is_some();
    let (tree, mut unread) = if wants_body && form.is_empty() && !body.is_empty() {
        body_tree(svc.protocol, &ctype, body, cut)
    } else {
        (None, None)
    };
    if unread.is_none() && wants_body && !body.is_empty() {
        unread = cut.map(|(kept, length)| body::BodyError::Cut { kept, length });
    }
    let mut params = serde_json::Map::new();
    for m in &op.members {
        let v = match m.loc {
            Loc::Label => labels
                .iter()
                .find(|(k, _)| k == m.wire)
                .map(|(_, v)| v.clone()),
            Loc::Query => query
                .iter()
                .find(|(k, _)| k == m.wire)
                .map(|(_, v)| v.clone()),
            Loc::Header => header(r, m.wire).map(str::to_string),
            Loc::Body => body_member(tree.as_ref(), &form, m.wire).or_else(|| {
                query
                    .iter()
                    .find(|(k, _)| k == m.wire)
                    .map(|(_, v)| v.clone())
            }),
        };
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            // `Bucket` names what ARN formats call `BucketName`.
            // (CloudTrail writes `bucketName`.)
            if m.name == "Bucket" {
                params
                    .entry("BucketName".to_string())
                    .or_insert_with(|| serde_json::Value::String(v.clone()));
            }
            // A label also by its URI name when the model's differs
            // (Route53's `{Id}` of `HostedZoneId`: the ARN's `${Id}`).
            if m.loc == Loc::Label && m.wire != m.name {
                params
                    .entry(m.wire.to_string())
                    .or_insert_with(|| serde_json::Value::String(v.clone()));
            }
            params.insert(m.name.to_string(), serde_json::Value::String(v));
        }
    }
    let mut params = serde_json::Value::Object(params);
    for (path, _) in op.roles.iter().filter(|(p, _)| nested(p)) {
        for v in nested_roles(tree.as_ref(), &form, &query, svc.protocol, path) {
            if !v.is_empty() {
                merge(&mut params, tree_of(path, serde_json::Value::String(v)));
            }
        }
    }
    // The elements that each name a resource (DeleteObjects' keys), under
    // the list's first path, with only their naming members.
    if let (Some(e), Some(t)) = (each_list(svc, op), tree.as_ref()) {
        let items: Vec<serde_json::Value> = e
            .lists
            .iter()
            .map(|l| super::cloudtrail::param_values(t, l))
            .find(|v| !v.is_empty())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|el| {
                let mut m = serde_json::Map::new();
                for name in std::iter::once(e.member.0).chain(e.asks.iter().map(|a| a.0)) {
                    if let Some(v) =
                        super::cloudtrail::param_path(el, name).filter(|v| v.is_string())
                    {
                        m.insert(name.to_string(), v.clone());
                    }
                }
                m.contains_key(e.member.0)
                    .then_some(serde_json::Value::Object(m))
            })
            .collect();
        if !items.is_empty() {
            let list = e.lists[0].strip_suffix("[]").unwrap_or(e.lists[0]);
            merge(&mut params, tree_of(list, serde_json::Value::Array(items)));
        }
    }
    let params = match params {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    let (service, region, account) = match sc {
        Some((key, region, _)) => (svc, Some(region), csm::account_from_access_key(&key)),
        None => (svc, None, None),
    };
    let service_ref = match service_ids::by_client(service.client) {
        Some(row) => ServiceRef::SdkId(row.service_id.to_string()),
        None => ServiceRef::Prefix(service.signing_name.to_string()),
    };
    let (status, error, denied_action) = match resp {
        Some(x) => (
            Some(x.status),
            x.error.clone(),
            x.message.as_deref().and_then(csm::denied_action),
        ),
        None => (None, None, None),
    };
    Ok(Call {
        at,
        service: Some(service_ref),
        operation: op.name.to_string(),
        region,
        account,
        status,
        error,
        denied_action,
        resources: Vec::new(),
        params: (!params.is_empty()).then_some(serde_json::Value::Object(params)),
        response: None,
        time: None,
        // A signed request names its key, not the principal behind it.
        principal: None,
        source_ip: None,
        unread_body: unread.map(|e| e.to_string()),
    })
}

/// Whether the body was cut at the prefix the proxy keeps: `(kept,
/// length)` when its `Content-Length` says more than came (or, without
/// one, the prefix is full).
fn body_cut(r: &Request, kept: usize) -> Option<(usize, u64)> {
    let declared = header(r, "content-length").and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > kept as u64 => Some((kept, n)),
        Some(_) => None,
        None if r.body.len() >= BODY_PREFIX => Some((kept, r.body.len() as u64)),
        None => None,
    }
}

/// The [`super::request::EACH`] entry of an operation (by the model's
/// client, named like its IAM prefix).
fn each_list(svc: &Service, op: &Operation) -> Option<&'static super::request::Each> {
    super::request::each_of(svc.client, op.name)
}

/// The body as a tree of members, by its content type (`json`, `cbor`,
/// `xml`), else the protocol's format; why it (or its end) was not read.
fn body_tree(
    protocol: Protocol,
    ctype: &str,
    b: &[u8],
    cut: Option<(usize, u64)>,
) -> (Option<serde_json::Value>, Option<body::BodyError>) {
    let format = if ctype.contains("json") {
        Some(body::Format::Json)
    } else if ctype.contains("cbor") {
        Some(body::Format::Cbor)
    } else if ctype.contains("xml") {
        Some(body::Format::Xml)
    } else {
        match protocol {
            Protocol::Json | Protocol::RestJson => Some(body::Format::Json),
            Protocol::Cbor if b.first() == Some(&b'{') => Some(body::Format::Json),
            Protocol::Cbor => Some(body::Format::Cbor),
            Protocol::RestXml => Some(body::Format::Xml),
            Protocol::Query | Protocol::Ec2 => None,
        }
    };
    let cut_error = cut.map(|(kept, length)| body::BodyError::Cut { kept, length });
    let whole = |r: Result<serde_json::Value, body::BodyError>| match r {
        Ok(v) => (Some(v), None),
        // A cut JSON or CBOR body does not parse: said as cut.
        Err(e) => (None, cut_error.clone().or(Some(e))),
    };
    match format {
        Some(body::Format::Json) => whole(body::json(b)),
        Some(body::Format::Cbor) => whole(body::cbor(b)),
        Some(body::Format::Xml) => {
            let (v, e) = body::xml(b, cut.is_some());
            (v, e.or(cut_error))
        }
        None => (None, None),
    }
}

/// The operation of `svc` a request is, with its URI labels.
fn operation_in<'s>(
    svc: &'s Service,
    r: &Request,
    host: &str,
    target: Option<&str>,
    action: Option<&str>,
    query: &[(String, String)],
) -> Result<(&'s Operation, Labels), String> {
    if let Some(t) = target {
        let name = t.rsplit('.').next().unwrap_or(t);
        return find_op(svc, name)
            .map(|o| (o, Vec::new()))
            .ok_or_else(|| format!("{}: unknown X-Amz-Target {t:?}", svc.client));
    }
    if let Some(a) = action.filter(|_| {
        matches!(
            svc.protocol,
            Protocol::Query | Protocol::Ec2 | Protocol::Json | Protocol::Cbor
        )
    }) {
        return find_op(svc, a)
            .map(|o| (o, Vec::new()))
            .ok_or_else(|| format!("{}: unknown Action {a:?}", svc.client));
    }
    if let Some(op) = cbor_operation(svc, r.path) {
        return Ok((op, Vec::new()));
    }
    if !matches!(svc.protocol, Protocol::RestJson | Protocol::RestXml) {
        return Err(format!(
            "{}: no X-Amz-Target, Action= or /service/S/operation/OP path in {} {:?}",
            svc.client, r.method, r.path
        ));
    }
    let mut path = r.path.to_string();
    if svc.client == "s3" {
        if let Some(b) = s3_bucket_of_host(host) {
            path = format!("/{b}{}", if path == "/" { "" } else { path.as_str() });
        }
    }
    rest_operation(svc, r, &path, query)
        .ok_or_else(|| format!("{}: no operation for {} {:?}", svc.client, r.method, r.path))
}

/// A smithy-rpc-v2-cbor request names its operation in the path:
/// `/service/SERVICE/operation/OPERATION`.
fn cbor_operation<'s>(s: &'s Service, path: &str) -> Option<&'s Operation> {
    let rest = path.strip_prefix("/service/")?;
    let (_, name) = rest.split_once("/operation/")?;
    find_op(s, name)
}

fn find_op<'s>(s: &'s Service, name: &str) -> Option<&'s Operation> {
    s.operations.iter().find(|o| o.name == name)
}

/// The error code and message of a failed response, from the
/// `x-amzn-ErrorType` header or the body prefix (JSON `__type`/`code`,
/// XML `<Code>`). Only the code and message are kept.
pub fn response_of(status: u16, headers: &[(String, String)], body: &[u8]) -> Response {
    let mut r = Response {
        status,
        ..Response::default()
    };
    if status < 300 {
        return r;
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(BODY_PREFIX)]);
    let code_of = |c: &str| {
        c.split([':', '#'])
            .find(|x| !x.is_empty() && !x.contains('.'))
            .map(str::to_string)
    };
    if let Some((_, v)) = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-amzn-errortype"))
    {
        r.error = code_of(
            v.rsplit('#')
                .next()
                .unwrap_or(v)
                .split(':')
                .next()
                .unwrap_or(v),
        );
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
        if r.error.is_none() {
            r.error = v
                .get("__type")
                .or_else(|| v.get("code"))
                .and_then(|c| c.as_str())
                .and_then(|c| code_of(c.rsplit('#').next().unwrap_or(c)));
        }
        r.message = v
            .get("message")
            .or_else(|| v.get("Message"))
            .and_then(|m| m.as_str())
            .map(str::to_string);
    } else {
        let el = |n: &str| {
            let o = format!("<{n}>");
            let i = text.find(&o)? + o.len();
            let j = text[i..].find('<')?;
            Some(xml_unescape(&text[i..i + j]))
        };
        if r.error.is_none() {
            r.error = el("Code");
        }
        r.message = el("Message");
    }
    if r.error.is_none() && status == 403 {
        r.error = Some("AccessDenied".into());
    }
    r
}

#[cfg(test)]
mod tests {
    //! Requests here are constructed for the tests (shaped as the SDKs
    //! send them); no captured traffic. Access key ids are made with
    //! [`csm::access_key_for_account`]: they are not credentials.
    use super::*;
    use crate::record::{ops, Options, Outcome, Recording};

    const ACCOUNT: u64 = 123_456_789_012;

    fn key() -> String {
        csm::access_key_for_account("AKIA", ACCOUNT, 5)
    }

    fn signed(service: &str, region: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut h = vec![(
            "Authorization".to_string(),
            format!(
                "AWS4-HMAC-SHA256 Credential={}/20260601/{region}/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef",
                key()
            ),
        )];
        h.push((
            "X-Amz-Security-Token".into(),
            "constructed-session-token".into(),
        ));
        for (k, v) in extra {
            h.push((k.to_string(), v.to_string()));
        }
        h
    }

    fn call(
        method: &str,
        host: &str,
        path: &str,
        query: &str,
        headers: &[(String, String)],
        body: &str,
    ) -> Result<Call, String> {
        call_of(
            "request 1".into(),
            &Request {
                method,
                host,
                path,
                query,
                headers,
                body: body.as_bytes(),
            },
            Some(&Response {
                status: 200,
                ..Response::default()
            }),
        )
    }

    fn param<'a>(c: &'a Call, k: &str) -> Option<&'a str> {
        c.params.as_ref()?.get(k)?.as_str()
    }

    #[test]
    fn table_parses_and_lists_the_wire_protocols() {
        let t = table();
        assert!(t.services.len() > 400, "{}", t.services.len());
        let s3 = t.service("s3").unwrap();
        assert_eq!(s3.protocol, Protocol::RestXml);
        assert_eq!(t.service("dynamodb").unwrap().protocol, Protocol::Json);
        assert_eq!(t.service("ec2").unwrap().protocol, Protocol::Ec2);
        // A bad line is an error naming it.
        let e = parse("S\tx\tx\tx\tnot-a-protocol\t-\n").unwrap_err();
        assert!(e.contains("line 1"), "{e}");
        assert!(parse("O\tOrphan\t-\t-\t\n").is_err());
        assert!(parse("O\tX\t-\t-\tz:Bad\n").is_err());
    }

    #[test]
    fn json_protocol_by_target_with_account_from_the_key() {
        let h = signed(
            "dynamodb",
            "eu-west-1",
            &[
                ("X-Amz-Target", "DynamoDB_20120810.PutItem"),
                ("Content-Type", "application/x-amz-json-1.0"),
            ],
        );
        let c = call(
            "POST",
            "dynamodb.eu-west-1.amazonaws.com",
            "/",
            "",
            &h,
            r#"{"TableName":"orders","Item":{"id":{"S":"1"}}}"#,
        )
        .unwrap();
        assert_eq!(c.operation, "PutItem");
        assert_eq!(c.service, Some(ServiceRef::SdkId("DynamoDB".into())));
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.account.as_deref(), Some("123456789012"));
        assert_eq!(param(&c, "TableName"), Some("orders"));
        assert_eq!(c.status, Some(200));
        // Nothing of the item (a body value that names no resource) and
        // no credential is kept.
        let all = format!("{c:?}");
        for secret in [
            key().as_str(),
            "constructed-session-token",
            "0123456789abcdef",
            "\"S\"",
        ] {
            assert!(!all.contains(secret), "{secret} in {all}");
        }
    }

    #[test]
    fn query_protocol_by_action_in_the_form_body() {
        let h = signed(
            "sqs",
            "us-east-1",
            &[(
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
        );
        let c = call(
            "POST",
            "sqs.us-east-1.amazonaws.com",
            "/",
            "",
            &h,
            "Action=SendMessage&Version=2012-11-05&QueueUrl=https%3A%2F%2Fsqs.us-east-1.amazonaws.com%2F123456789012%2Fjobs&MessageBody=hello+world",
        )
        .unwrap();
        assert_eq!(c.operation, "SendMessage");
        assert_eq!(
            param(&c, "QueueUrl"),
            Some("https://sqs.us-east-1.amazonaws.com/123456789012/jobs")
        );
        assert_eq!(param(&c, "MessageBody"), None);
        // EC2: Action= in the query string, members by their query names.
        let h = signed("ec2", "us-east-1", &[]);
        let c = call(
            "GET",
            "ec2.us-east-1.amazonaws.com",
            "/",
            "Action=StopInstances&Version=2016-11-15&InstanceId.1=i-0abc",
            &h,
            "",
        )
        .unwrap();
        assert_eq!(c.operation, "StopInstances");
        // Unknown Action: an error naming it.
        let e = call(
            "GET",
            "ec2.us-east-1.amazonaws.com",
            "/",
            "Action=NoSuchThing",
            &h,
            "",
        )
        .unwrap_err();
        assert!(e.contains("request 1") && e.contains("NoSuchThing"), "{e}");
    }

    #[test]
    fn rest_xml_longest_literal_match_and_required_query_members() {
        let h = signed("s3", "us-east-1", &[]);
        let s3 = |method: &str, host: &str, path: &str, query: &str| {
            call(method, host, path, query, &h, "").unwrap()
        };
        // Path style.
        let c = s3(
            "GET",
            "s3.us-east-1.amazonaws.com",
            "/logs/2026/06/a%20b.gz",
            "",
        );
        assert_eq!(c.operation, "GetObject");
        assert_eq!(param(&c, "Bucket"), Some("logs"));
        assert_eq!(param(&c, "BucketName"), Some("logs"));
        assert_eq!(param(&c, "Key"), Some("2026/06/a b.gz"));
        // Virtual-hosted style.
        let c = s3("PUT", "logs.s3.us-east-1.amazonaws.com", "/k.txt", "");
        assert_eq!(c.operation, "PutObject");
        assert_eq!(param(&c, "Bucket"), Some("logs"));
        let c = s3("PUT", "logs.s3.us-east-1.amazonaws.com", "/", "");
        assert_eq!(c.operation, "CreateBucket");
        // One method and URI: required headers and query members decide.
        let copy = signed("s3", "us-east-1", &[("x-amz-copy-source", "src/k")]);
        let c = call(
            "PUT",
            "logs.s3.us-east-1.amazonaws.com",
            "/k2",
            "",
            &copy,
            "",
        )
        .unwrap();
        assert_eq!(c.operation, "CopyObject");
        let c = s3(
            "PUT",
            "logs.s3.us-east-1.amazonaws.com",
            "/big.bin",
            "partNumber=2&uploadId=u1",
        );
        assert_eq!(c.operation, "UploadPart");
        // Required query members pick among templates of one path.
        let c = s3(
            "GET",
            "logs.s3.us-east-1.amazonaws.com",
            "/",
            "list-type=2&prefix=a%2F&encoding-type=url",
        );
        assert_eq!(c.operation, "ListObjectsV2");
        assert_eq!(
            s3("GET", "s3.us-east-1.amazonaws.com", "/logs", "").operation,
            "ListObjects"
        );
        assert_eq!(
            s3("GET", "s3.us-east-1.amazonaws.com", "/logs/", "").operation,
            "ListObjects"
        );
        assert_eq!(
            s3("GET", "s3.us-east-1.amazonaws.com", "/logs", "acl").operation,
            "GetBucketAcl"
        );
        assert_eq!(
            s3("GET", "s3.amazonaws.com", "/", "").operation,
            "ListBuckets"
        );
        // The host's label picks S3 Control among the models signed `s3`.
        let c = s3(
            "GET",
            "123456789012.s3-control.us-east-1.amazonaws.com",
            "/v20180820/configuration/publicAccessBlock",
            "",
        );
        assert_eq!(c.operation, "GetPublicAccessBlock");
        assert_eq!(c.service, Some(ServiceRef::SdkId("S3 Control".into())));
        // No template: an error naming the request.
        let e = call("PATCH", "s3.us-east-1.amazonaws.com", "/b", "", &h, "").unwrap_err();
        assert!(e.contains("PATCH"), "{e}");
    }

    #[test]
    fn rest_json_labels_and_cbor_paths() {
        let h = signed("lambda", "us-east-1", &[]);
        let c = call(
            "POST",
            "lambda.us-east-1.amazonaws.com",
            "/2015-03-31/functions/resize/invocations",
            "",
            &h,
            "{}",
        )
        .unwrap();
        assert_eq!(c.operation, "Invoke");
        assert_eq!(param(&c, "FunctionName"), Some("resize"));
        let h = signed(
            "monitoring",
            "us-east-1",
            &[
                ("Smithy-Protocol", "rpc-v2-cbor"),
                ("Content-Type", "application/cbor"),
            ],
        );
        let c = call(
            "POST",
            "monitoring.us-east-1.amazonaws.com",
            "/service/GraniteServiceVersion20100801/operation/GetMetricData",
            "",
            &h,
            "",
        )
        .unwrap();
        assert_eq!(c.operation, "GetMetricData");
        // Unsigned and unknown: errors, never a guess.
        let e = call("GET", "example.com", "/", "", &[], "").unwrap_err();
        assert!(e.contains("unsigned request to example.com"), "{e}");
        let h = signed("no-such-service", "us-east-1", &[]);
        let e = call("GET", "x.amazonaws.com", "/", "", &h, "").unwrap_err();
        assert!(e.contains("no-such-service"), "{e}");
    }

    #[test]
    fn responses_keep_status_code_and_the_denied_action() {
        let r = response_of(
            400,
            &[("x-amzn-ErrorType".into(), "AccessDeniedException:http://internal.amazon.com/coral/".into())],
            br#"{"__type":"com.amazonaws.dynamodb.v20120810#AccessDeniedException","message":"User: arn:aws:iam::123456789012:user/u is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/orders"}"#,
        );
        assert_eq!(r.error.as_deref(), Some("AccessDeniedException"));
        assert_eq!(
            csm::denied_action(r.message.as_deref().unwrap()).as_deref(),
            Some("dynamodb:PutItem")
        );
        let r = response_of(
            404,
            &[],
            b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>",
        );
        assert_eq!(r.error.as_deref(), Some("NoSuchKey"));
        let r = response_of(403, &[], b"");
        assert_eq!(r.error.as_deref(), Some("AccessDenied"));
        let r = response_of(200, &[], b"<Code>x</Code>");
        assert_eq!(r.error, None);
    }

    #[test]
    fn proxy_calls_become_needs_on_the_named_resources() {
        let idx = ops::tests::snapshot_index();
        let mut rec = Recording::new(Options {
            include_conditional: false,
            include_errors: true,
        });
        let add = |rec: &mut Recording, c: Call| rec.add(idx, &c);
        let h = signed("s3", "us-east-1", &[]);
        add(
            &mut rec,
            call(
                "GET",
                "logs.s3.us-east-1.amazonaws.com",
                "/a/b.gz",
                "",
                &h,
                "",
            )
            .unwrap(),
        );
        let h = signed(
            "dynamodb",
            "us-east-1",
            &[("X-Amz-Target", "DynamoDB_20120810.GetItem")],
        );
        add(
            &mut rec,
            call(
                "POST",
                "dynamodb.us-east-1.amazonaws.com",
                "/",
                "",
                &h,
                r#"{"TableName":"orders"}"#,
            )
            .unwrap(),
        );
        let h = signed(
            "logs",
            "us-east-1",
            &[("X-Amz-Target", "Logs_20140328.CreateLogStream")],
        );
        add(
            &mut rec,
            call(
                "POST",
                "logs.us-east-1.amazonaws.com",
                "/",
                "",
                &h,
                r#"{"logGroupName":"/app/web","logStreamName":"s1"}"#,
            )
            .unwrap(),
        );
        let h = signed(
            "secretsmanager",
            "us-east-1",
            &[("X-Amz-Target", "secretsmanager.GetSecretValue")],
        );
        add(
            &mut rec,
            call(
                "POST",
                "secretsmanager.us-east-1.amazonaws.com",
                "/",
                "",
                &h,
                r#"{"SecretId":"prod/db"}"#,
            )
            .unwrap(),
        );
        let res = |rec: &Recording, a: &str| {
            rec.need(a)
                .unwrap_or_else(|| panic!("{a}"))
                .resources
                .iter()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(res(&rec, "s3:GetObject"), ["arn:aws:s3:::logs/a/b.gz"]);
        assert_eq!(
            res(&rec, "dynamodb:GetItem"),
            ["arn:aws:dynamodb:us-east-1:123456789012:table/orders"]
        );
        assert_eq!(
            res(&rec, "logs:CreateLogStream"),
            ["arn:aws:logs:us-east-1:123456789012:log-group:/app/web:log-stream:s1"]
        );
        assert_eq!(
            res(&rec, "secretsmanager:GetSecretValue"),
            ["arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-??????"]
        );
        // A denied call: recorded as such, "denied: needs ACTION".
        let h = signed(
            "sqs",
            "us-east-1",
            &[("X-Amz-Target", "AmazonSQS.ReceiveMessage")],
        );
        let req = Request {
            method: "POST",
            host: "sqs.us-east-1.amazonaws.com",
            path: "/",
            query: "",
            headers: &h,
            body: br#"{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/jobs"}"#,
        };
        let resp = response_of(
            400,
            &[],
            br#"{"__type":"com.amazon.coral.service#AccessDeniedException","message":"User: arn:aws:iam::123456789012:user/u is not authorized to perform: sqs:receivemessage on resource: arn:aws:sqs:us-east-1:123456789012:jobs"}"#,
        );
        let c = call_of("request 9".into(), &req, Some(&resp)).unwrap();
        assert!(c.denied());
        let out = add(&mut rec, c);
        assert!(matches!(out, Outcome::Mapped { .. }), "{out:?}");
        let n = rec.need("sqs:ReceiveMessage").unwrap();
        assert!(
            n.notes.contains("denied: needs sqs:receivemessage"),
            "{:?}",
            n.notes
        );
        assert_eq!(
            res(&rec, "sqs:ReceiveMessage"),
            ["arn:aws:sqs:us-east-1:123456789012:jobs"]
        );
        assert_eq!(rec.stats.denied, 1);
    }

    #[test]
    fn proxy_copies_and_role_passing_calls_get_the_resources_they_name() {
        let idx = ops::tests::snapshot_index();
        let mut rec = Recording::new(Options::default());
        // CopyObject of a version: the header as the SDKs send it, URL-encoded.
        let h = signed(
            "s3",
            "us-east-1",
            &[("x-amz-copy-source", "src/in%20box/a.csv?versionId=v1")],
        );
        let c = call(
            "PUT",
            "dst.s3.us-east-1.amazonaws.com",
            "/out/a.csv",
            "",
            &h,
            "",
        )
        .unwrap();
        assert_eq!(c.operation, "CopyObject");
        assert_eq!(
            param(&c, "CopySource"),
            Some("src/in%20box/a.csv?versionId=v1")
        );
        rec.add(idx, &c);
        // Lambda CreateFunction: the required Role from the JSON body.
        let h = signed(
            "lambda",
            "us-east-1",
            &[("Content-Type", "application/json")],
        );
        let c = call(
            "POST",
            "lambda.us-east-1.amazonaws.com",
            "/2015-03-31/functions",
            "",
            &h,
            r#"{"FunctionName":"resize","Role":"arn:aws:iam::123456789012:role/resize-exec","Runtime":"python3.12"}"#,
        )
        .unwrap();
        assert_eq!(c.operation, "CreateFunction");
        rec.add(idx, &c);
        let res = |a: &str| {
            let n = rec.need(a).unwrap_or_else(|| panic!("{a}"));
            assert!(!n.conditional, "{a}: {n:?}");
            n.resources.iter().cloned().collect::<Vec<_>>()
        };
        assert_eq!(res("s3:GetObject"), ["arn:aws:s3:::src/in box/a.csv"]);
        assert_eq!(
            res("s3:GetObjectVersion"),
            ["arn:aws:s3:::src/in box/a.csv"]
        );
        assert_eq!(res("s3:PutObject"), ["arn:aws:s3:::dst/out/a.csv"]);
        assert_eq!(
            res("iam:PassRole"),
            ["arn:aws:iam::123456789012:role/resize-exec"]
        );
    }

    #[test]
    fn role_members_nested_deeper_than_one_structure_come_from_bodies_and_forms() {
        let idx = ops::tests::snapshot_index();
        let mut rec = Recording::new(Options::default());
        // forecast (json protocol): the required DataSource.S3Config.RoleArn.
        let h = signed(
            "forecast",
            "us-east-1",
            &[
                ("X-Amz-Target", "AmazonForecast.CreateDatasetImportJob"),
                ("Content-Type", "application/x-amz-json-1.1"),
            ],
        );
        let c = call(
            "POST",
            "forecast.us-east-1.amazonaws.com",
            "/",
            "",
            &h,
            r#"{"DatasetImportJobName":"daily","DatasetArn":"arn:aws:forecast:us-east-1:123456789012:dataset/sales","DataSource":{"S3Config":{"Path":"s3://constructed-bucket/sales.csv","RoleArn":"arn:aws:iam::123456789012:role/forecast-import"}}}"#,
        )
        .unwrap();
        assert_eq!(c.operation, "CreateDatasetImportJob");
        let p = c.params.as_ref().unwrap();
        assert_eq!(
            p["DataSource"],
            serde_json::json!({"S3Config": {"RoleArn": "arn:aws:iam::123456789012:role/forecast-import"}}),
            "only the role of the structure is kept: {p}"
        );
        rec.add(idx, &c);
        let n = rec.need("iam:PassRole").unwrap();
        assert!(!n.conditional, "{n:?}");
        assert_eq!(
            n.resources.iter().cloned().collect::<Vec<_>>(),
            ["arn:aws:iam::123456789012:role/forecast-import"]
        );
        // Its call log line replays (read as CloudTrail) to the same need.
        let line = crate::record::log::proxy_line(&c, Some("forecast"), 0);
        let raw = crate::record::cloudtrail::Raw {
            index: 1,
            line: 1,
            bytes: line.to_string().into_bytes(),
        };
        let replayed = match crate::record::cloudtrail::call_of(&raw, "calls.jsonl").unwrap() {
            crate::record::cloudtrail::Record::Call(c, _, _) => c,
            crate::record::cloudtrail::Record::Other(t) => panic!("{t}"),
        };
        let mut again = Recording::new(Options::default());
        again.add(idx, &replayed);
        assert_eq!(again.need("iam:PassRole"), rec.need("iam:PassRole"));
        // appflow (rest-json): the optional
        // metadataCatalogConfig.glueDataCatalog.roleArn, sent.
        let h = signed(
            "appflow",
            "us-east-1",
            &[("Content-Type", "application/json")],
        );
        let c = call(
            "POST",
            "appflow.us-east-1.amazonaws.com",
            "/create-flow",
            "",
            &h,
            r#"{"flowName":"orders","metadataCatalogConfig":{"glueDataCatalog":{"roleArn":"arn:aws:iam::123456789012:role/appflow-glue","databaseName":"orders","tablePrefix":"t"}}}"#,
        )
        .unwrap();
        assert_eq!(c.operation, "CreateFlow");
        let mut rec = Recording::new(Options::default());
        rec.add(idx, &c);
        let n = rec.need("iam:PassRole").unwrap();
        assert!(!n.conditional, "{n:?}");
        assert_eq!(
            n.resources.iter().cloned().collect::<Vec<_>>(),
            ["arn:aws:iam::123456789012:role/appflow-glue"]
        );
        // Not sent (or not a string): conditional.
        let c = call(
            "POST",
            "appflow.us-east-1.amazonaws.com",
            "/create-flow",
            "",
            &h,
            r#"{"flowName":"orders","metadataCatalogConfig":{"glueDataCatalog":{"roleArn":7}}}"#,
        )
        .unwrap();
        assert_eq!(param(&c, "flowName"), Some("orders"));
        assert!(c
            .params
            .as_ref()
            .unwrap()
            .get("metadataCatalogConfig")
            .is_none());
        let mut rec = Recording::new(Options::default());
        rec.add(idx, &c);
        assert!(rec.need("iam:PassRole").unwrap().conditional);
        // The query protocol: the flattened `Parent.Member` form pair.
        let h = signed(
            "elasticbeanstalk",
            "us-east-1",
            &[(
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
        );
        let c = call(
            "POST",
            "elasticbeanstalk.us-east-1.amazonaws.com",
            "/",
            "",
            &h,
            "Action=CreateApplication&Version=2010-12-01&ApplicationName=web&ResourceLifecycleConfig.ServiceRole=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Feb-lifecycle",
        )
        .unwrap();
        assert_eq!(c.operation, "CreateApplication");
        assert_eq!(
            crate::record::cloudtrail::param_path(
                c.params.as_ref().unwrap(),
                "ResourceLifecycleConfig.ServiceRole"
            )
            .and_then(|v| v.as_str()),
            Some("arn:aws:iam::123456789012:role/eb-lifecycle")
        );
    }

    /// A call from raw body bytes (CBOR).
    fn call_bytes(
        method: &str,
        host: &str,
        path: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Call {
        call_of(
            "request 2".into(),
            &Request {
                method,
                host,
                path,
                query: "",
                headers,
                body,
            },
            None,
        )
        .unwrap()
    }

    #[test]
    fn rest_xml_bodies_name_their_members_where_the_model_puts_them() {
        // Every body here is constructed. S3 DeleteObjects: each key.
        let idx = ops::tests::snapshot_index();
        let h = signed("s3", "us-east-1", &[("Content-MD5", "x")]);
        let body = r#"<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>reports/a.txt</Key></Object><Object><Key>a&amp;b.txt</Key><VersionId>3</VersionId></Object><Quiet>true</Quiet></Delete>"#;
        let c = call(
            "POST",
            "constructed-bucket.s3.us-east-1.amazonaws.com",
            "/",
            "delete",
            &h,
            body,
        )
        .unwrap();
        assert_eq!(c.operation, "DeleteObjects");
        assert_eq!(c.unread_body, None);
        assert_eq!(
            c.params.as_ref().unwrap()["Delete"],
            serde_json::json!({"Objects": [{"Key": "reports/a.txt"}, {"Key": "a&b.txt", "VersionId": "3"}]})
        );
        let mut rec = Recording::new(Options::default());
        rec.add(idx, &c);
        let res = |rec: &Recording, a: &str| {
            rec.need(a)
                .unwrap()
                .resources
                .iter()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            res(&rec, "s3:DeleteObject"),
            [
                "arn:aws:s3:::constructed-bucket/a&b.txt",
                "arn:aws:s3:::constructed-bucket/reports/a.txt"
            ]
        );
        assert_eq!(
            res(&rec, "s3:DeleteObjectVersion"),
            ["arn:aws:s3:::constructed-bucket/a&b.txt"]
        );
        // The call log line replays to the same needs.
        let line = crate::record::log::proxy_line(&c, Some("s3"), 0);
        let raw = crate::record::cloudtrail::Raw {
            index: 1,
            line: 1,
            bytes: line.to_string().into_bytes(),
        };
        let crate::record::cloudtrail::Record::Call(replayed, _, _) =
            crate::record::cloudtrail::call_of(&raw, "calls.jsonl").unwrap()
        else {
            panic!("not a call")
        };
        let mut again = Recording::new(Options::default());
        again.add(idx, &replayed);
        assert_eq!(again.need("s3:DeleteObject"), rec.need("s3:DeleteObject"));
        // A tag's `<Key>` is no object key: PutBucketTagging and
        // PutObjectTagging name the bucket and object of their URI only.
        let body = "<Tagging><TagSet><Tag><Key>team</Key><Value>a</Value></Tag></TagSet></Tagging>";
        let c = call(
            "PUT",
            "constructed-bucket.s3.us-east-1.amazonaws.com",
            "/",
            "tagging",
            &h,
            body,
        )
        .unwrap();
        assert_eq!(c.operation, "PutBucketTagging");
        assert_eq!(param(&c, "Key"), None);
        let c = call(
            "PUT",
            "constructed-bucket.s3.us-east-1.amazonaws.com",
            "/docs/x.pdf",
            "tagging",
            &h,
            body,
        )
        .unwrap();
        assert_eq!(c.operation, "PutObjectTagging");
        assert_eq!(param(&c, "Key"), Some("docs/x.pdf"));
        let mut rec = Recording::new(Options::default());
        rec.add(idx, &c);
        assert_eq!(
            res(&rec, "s3:PutObjectTagging"),
            ["arn:aws:s3:::constructed-bucket/docs/x.pdf"]
        );
        // S3 PutBucketReplication: the required role of the payload.
        let body = "<ReplicationConfiguration><Role>arn:aws:iam::123456789012:role/s3-replicate</Role><Rule><ID>r</ID><Status>Enabled</Status><Destination><Bucket>arn:aws:s3:::constructed-copy</Bucket></Destination></Rule></ReplicationConfiguration>";
        let c = call(
            "PUT",
            "constructed-bucket.s3.us-east-1.amazonaws.com",
            "/",
            "replication",
            &h,
            body,
        )
        .unwrap();
        assert_eq!(c.operation, "PutBucketReplication");
        let mut rec = Recording::new(Options::default());
        rec.add(idx, &c);
        let n = rec.need("iam:PassRole").unwrap();
        assert!(!n.conditional, "{n:?}");
        assert_eq!(
            res(&rec, "iam:PassRole"),
            ["arn:aws:iam::123456789012:role/s3-replicate"]
        );
        // Route53 ChangeResourceRecordSets: the hosted zone of the URI; the
        // body (a change batch, names in it) is read, none taken for an id.
        let h = signed("route53", "us-east-1", &[]);
        let body = r#"<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>www.example.com</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"#;
        let c = call(
            "POST",
            "route53.amazonaws.com",
            "/2013-04-01/hostedzone/Z0CONSTRUCTED/rrset/",
            "",
            &h,
            body,
        )
        .unwrap();
        assert_eq!(c.operation, "ChangeResourceRecordSets");
        assert_eq!(c.unread_body, None);
        let mut rec = Recording::new(Options::default());
        rec.add(idx, &c);
        assert_eq!(
            res(&rec, "route53:ChangeResourceRecordSets"),
            ["arn:aws:route53:::hostedzone/Z0CONSTRUCTED"]
        );
        // Route53 CreateHostedZone: `Name` is the root's own child, not
        // the first `<Name>` anywhere (a decoy nested before it, put there
        // for this test).
        let body = "<CreateHostedZoneRequest><HostedZoneConfig><Name>decoy</Name><Comment>c</Comment></HostedZoneConfig><CallerReference>r</CallerReference><Name>example.com</Name></CreateHostedZoneRequest>";
        let c = call(
            "POST",
            "route53.amazonaws.com",
            "/2013-04-01/hostedzone",
            "",
            &h,
            body,
        )
        .unwrap();
        assert_eq!(c.operation, "CreateHostedZone");
        assert_eq!(param(&c, "Name"), Some("example.com"));
    }

    #[test]
    fn cbor_bodies_name_their_members() {
        // EventBridge v2 speaks only smithy-rpc-v2-cbor (boto3 sends it):
        // a constructed CreateSubscriber body, encoded here.
        let idx = ops::tests::snapshot_index();
        let h = signed(
            "events",
            "us-east-1",
            &[
                ("Content-Type", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
            ],
        );
        let v = serde_json::json!({
            "Name": "constructed-sub",
            "EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/constructed",
            "InvokeConfiguration": { "RoleArn": "arn:aws:iam::123456789012:role/eventsv2-invoke" },
            "Tags": [{ "Key": "team", "Value": "a" }],
        });
        let mut body = Vec::new();
        ciborium::ser::into_writer(&v, &mut body).unwrap();
        let c = call_bytes(
            "POST",
            "eventsv2.us-east-1.amazonaws.com",
            "/service/AWSEventsV2/operation/CreateSubscriber",
            &h,
            &body,
        );
        assert_eq!(c.operation, "CreateSubscriber");
        assert_eq!(c.unread_body, None);
        assert_eq!(
            param(&c, "EventBusArn"),
            Some("arn:aws:events:us-east-1:123456789012:event-bus/constructed")
        );
        // The 2026-06-14 reference lists no EventBridge v2 operation yet:
        // the call is unmapped (listed), its members read all the same.
        let mut rec = Recording::new(Options::default());
        assert!(matches!(rec.add(idx, &c), Outcome::Unmapped { .. }));
        assert_eq!(
            crate::record::cloudtrail::param_path(
                c.params.as_ref().unwrap(),
                "InvokeConfiguration.RoleArn"
            )
            .and_then(|v| v.as_str()),
            Some("arn:aws:iam::123456789012:role/eventsv2-invoke")
        );
        // CloudWatch offers smithy-rpc-v2-cbor first (boto3 picks its JSON,
        // newer SDKs CBOR): a constructed PutMetricAlarm, mapped.
        let hm = signed(
            "monitoring",
            "us-east-1",
            &[
                ("Content-Type", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
            ],
        );
        let mut alarm = Vec::new();
        ciborium::ser::into_writer(
            &serde_json::json!({"AlarmName": "constructed-high-cpu", "MetricName": "CPUUtilization", "Threshold": 90.5}),
            &mut alarm,
        )
        .unwrap();
        let c = call_bytes(
            "POST",
            "monitoring.us-east-1.amazonaws.com",
            "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm",
            &hm,
            &alarm,
        );
        assert_eq!(c.operation, "PutMetricAlarm");
        let mut rec = Recording::new(Options::default());
        rec.add(idx, &c);
        assert_eq!(
            rec.need("cloudwatch:PutMetricAlarm")
                .unwrap()
                .resources
                .iter()
                .cloned()
                .collect::<Vec<_>>(),
            ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:constructed-high-cpu"]
        );
        // Damaged: counted on the call, which is still recorded.
        let c = call_bytes(
            "POST",
            "eventsv2.us-east-1.amazonaws.com",
            "/service/AWSEventsV2/operation/CreateSubscriber",
            &h,
            &body[..body.len() / 2],
        );
        assert_eq!(c.operation, "CreateSubscriber");
        assert!(
            c.unread_body
                .as_deref()
                .unwrap()
                .starts_with("CBOR body not read"),
            "{:?}",
            c.unread_body
        );
    }

    #[test]
    fn malformed_and_cut_bodies_are_said_the_call_kept() {
        let h = signed("s3", "us-east-1", &[]);
        let c = call(
            "POST",
            "b.s3.us-east-1.amazonaws.com",
            "/",
            "delete",
            &h,
            "<Delete><Object><Key>a</Key></Delete>",
        )
        .unwrap();
        assert_eq!(c.operation, "DeleteObjects");
        assert_eq!(
            c.unread_body.as_deref(),
            Some("XML body not read at byte 37: </Delete> closes <Object>")
        );
        // Cut at the prefix the proxy keeps (Content-Length says more):
        // the whole elements are read, the cut said.
        let h = signed("s3", "us-east-1", &[("Content-Length", "200000")]);
        let c = call(
            "POST",
            "b.s3.us-east-1.amazonaws.com",
            "/",
            "delete",
            &h,
            "<Delete><Object><Key>a</Key></Object><Object><Key>b",
        )
        .unwrap();
        assert_eq!(
            c.params.as_ref().unwrap()["Delete"],
            serde_json::json!({"Objects": [{"Key": "a"}]})
        );
        assert_eq!(
            c.unread_body.as_deref(),
            Some("body of 200000 bytes cut at the first 51: members after that not read")
        );
        // JSON: not an object, cut, broken.
        let h = signed(
            "lambda",
            "us-east-1",
            &[("Content-Type", "application/json")],
        );
        for (body, why) in [
            ("[1]", "JSON body is not an object"),
            ("{\"FunctionName\": ", "JSON body not read: "),
        ] {
            let c = call(
                "POST",
                "lambda.us-east-1.amazonaws.com",
                "/2015-03-31/functions",
                "",
                &h,
                body,
            )
            .unwrap();
            assert_eq!(c.operation, "CreateFunction");
            assert!(
                c.unread_body.as_deref().unwrap().starts_with(why),
                "{body}: {:?}",
                c.unread_body
            );
        }
        // A body no member is read from is never looked at (an object's
        // content), nor is an empty one.
        let h = signed("s3", "us-east-1", &[("Content-Length", "999999")]);
        let c = call(
            "PUT",
            "b.s3.us-east-1.amazonaws.com",
            "/k",
            "",
            &h,
            "<not xml",
        )
        .unwrap();
        assert_eq!((c.operation.as_str(), c.unread_body), ("PutObject", None));
        let h = signed(
            "lambda",
            "us-east-1",
            &[("Content-Type", "application/json")],
        );
        let c = call(
            "POST",
            "lambda.us-east-1.amazonaws.com",
            "/2015-03-31/functions",
            "",
            &h,
            "",
        )
        .unwrap();
        assert_eq!(c.unread_body, None);
    }

    #[test]
    fn roles_in_every_element_of_a_list_from_json_bodies_and_forms() {
        let idx = ops::tests::snapshot_index();
        let roles = |c: &Call| {
            let mut rec = Recording::new(Options::default());
            rec.add(idx, c);
            let n = rec.need("iam:PassRole").unwrap().clone();
            (n.conditional, n.resources.into_iter().collect::<Vec<_>>())
        };
        // EventBridge PutTargets (json): two targets, two roles.
        let h = signed(
            "events",
            "us-east-1",
            &[
                ("X-Amz-Target", "AWSEvents.PutTargets"),
                ("Content-Type", "application/x-amz-json-1.1"),
            ],
        );
        let c = call(
            "POST",
            "events.us-east-1.amazonaws.com",
            "/",
            "",
            &h,
            r#"{"Rule":"nightly","Targets":[{"Id":"1","Arn":"arn:aws:states:us-east-1:123456789012:stateMachine:etl","RoleArn":"arn:aws:iam::123456789012:role/events-etl"},{"Id":"2","Arn":"arn:aws:kinesis:us-east-1:123456789012:stream/s","RoleArn":"arn:aws:iam::123456789012:role/events-kinesis"},{"Id":"3","Arn":"arn:aws:sqs:us-east-1:123456789012:q"}]}"#,
        )
        .unwrap();
        assert_eq!(c.operation, "PutTargets");
        assert_eq!(
            c.params.as_ref().unwrap()["Targets"],
            serde_json::json!([
                {"RoleArn": "arn:aws:iam::123456789012:role/events-etl"},
                {"RoleArn": "arn:aws:iam::123456789012:role/events-kinesis"}
            ])
        );
        assert_eq!(
            roles(&c),
            (
                false,
                vec![
                    "arn:aws:iam::123456789012:role/events-etl".to_string(),
                    "arn:aws:iam::123456789012:role/events-kinesis".to_string()
                ]
            )
        );
        // Auto Scaling CreateAutoScalingGroup (query): the lifecycle hooks'
        // roles, `List.member.N.RoleARN`.
        let h = signed(
            "autoscaling",
            "us-east-1",
            &[(
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
        );
        let c = call(
            "POST",
            "autoscaling.us-east-1.amazonaws.com",
            "/",
            "",
            &h,
            "Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=web&MinSize=1&MaxSize=2&LifecycleHookSpecificationList.member.1.LifecycleHookName=a&LifecycleHookSpecificationList.member.1.RoleARN=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fhook-a&LifecycleHookSpecificationList.member.2.RoleARN=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fhook-b",
        )
        .unwrap();
        assert_eq!(c.operation, "CreateAutoScalingGroup");
        assert_eq!(
            roles(&c),
            (
                false,
                vec![
                    "arn:aws:iam::123456789012:role/hook-a".to_string(),
                    "arn:aws:iam::123456789012:role/hook-b".to_string()
                ]
            )
        );
    }

    #[test]
    fn form_keys_of_list_and_map_members() {
        assert!(form_key_is("Targets[].RoleArn", "Targets.member.2.RoleArn"));
        assert!(form_key_is("Targets[].RoleArn", "targets.1.roleArn"));
        assert!(!form_key_is("Targets[].RoleArn", "Targets.member.RoleArn"));
        assert!(!form_key_is("Targets[].RoleArn", "Targets.1.RoleArn.x"));
        assert!(form_key_is("Map{}.RoleArn", "Map.entry.1.value.RoleArn"));
        assert!(!form_key_is("Map{}.RoleArn", "Map.entry.1.key"));
        assert!(form_key_is("A.B{}[].C", "A.B.entry.3.value.member.1.C"));
        assert!(form_key_is("Outer.Inner.RoleArn", "Outer.Inner.RoleArn"));
        assert_eq!(
            tree_of("A.B[].C", serde_json::json!("v")),
            serde_json::json!({"A": {"B": [{"C": "v"}]}})
        );
        let mut t = tree_of("A[].C", serde_json::json!("1"));
        merge(&mut t, tree_of("A[].C", serde_json::json!("2")));
        assert_eq!(t, serde_json::json!({"A": [{"C": "1"}, {"C": "2"}]}));
    }

    #[test]
    fn hostile_requests_are_errors_or_calls_never_panics() {
        let h = signed("s3", "us-east-1", &[("X-Amz-Target", "\u{1b}[31m.\u{0}")]);
        let big = "{".repeat(200_000);
        for (m, host, path, q, body) in [
            ("GET", "", "", "", ""),
            ("", "s3.amazonaws.com", "%", "%%%=&&==", "%zz"),
            (
                "GET",
                "s3.amazonaws.com",
                "/{Bucket}/%FF%FE",
                "list-type=2",
                big.as_str(),
            ),
            ("GET", ".....", "////", "&=&", ""),
        ] {
            let _ = call(m, host, path, q, &h, body);
        }
        let auth = vec![("authorization".to_string(), "Credential=".to_string())];
        let _ = call("GET", "s3.amazonaws.com", "/", "", &auth, "");
        let auth = vec![("authorization".to_string(), "Credential=AKIA/x".to_string())];
        assert!(call("GET", "s3.amazonaws.com", "/", "", &auth, "").is_ok());
        assert_eq!(percent_decode("%41%4"), "A%4");
        assert_eq!(percent_decode("%e2%82%ac"), "€");
    }

    /// The operation table covers every operation (with a boto3 client)
    /// of the dataset's JSON: the service reference in the corpus.
    #[test]
    fn table_covers_every_operation_of_the_service_reference() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/corpus/service-reference");
        let Ok(dates) = std::fs::read_dir(&root) else {
            let msg = format!(
                "corpus not found at {}: operation table coverage not checked",
                root.display()
            );
            if std::env::var("IAMREF_TEST_STRICT").as_deref() == Ok("1") {
                panic!("IAMREF_TEST_STRICT=1: {msg}");
            }
            eprintln!("skipped: {msg}");
            return;
        };
        let t = table();
        let mut checked = 0;
        let mut missing = Vec::new();
        for d in dates.flatten() {
            let v1 = d.path().join("v1");
            for s in std::fs::read_dir(&v1).into_iter().flatten().flatten() {
                let f = s
                    .path()
                    .join(format!("{}.json", s.file_name().to_string_lossy()));
                let Ok(text) = std::fs::read_to_string(&f) else {
                    continue;
                };
                let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
                for op in doc["Operations"].as_array().into_iter().flatten() {
                    let name = op["Name"].as_str().unwrap();
                    for sdk in op["SDK"].as_array().into_iter().flatten() {
                        if sdk["Package"] != "Boto3" {
                            continue;
                        }
                        let client = sdk["Name"].as_str().unwrap();
                        checked += 1;
                        if t.service(client).is_none_or(|s| find_op(s, name).is_none()) {
                            missing.push(format!("{client}:{name} ({})", f.display()));
                        }
                    }
                }
            }
        }
        assert!(
            checked > 10_000,
            "only {checked} operations read under {}",
            root.display()
        );
        assert!(missing.is_empty(), "{} of {checked} operations missing from operations.tsv (regenerate with tools/gen_operations.py): {:?}", missing.len(), &missing[..missing.len().min(20)]);
    }
}
