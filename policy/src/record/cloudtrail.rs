//! CloudTrail logs, streamed: `{"Records": [...]}` files (as CloudTrail
//! delivers them, usually gzipped, under
//! `AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/`), JSON arrays and JSON
//! lines (exports, and `iamref record --log`).
//!
//! [`Splitter`] cuts the byte stream into one record at a time with a
//! string-aware bracket scan, so memory depends on the largest record,
//! never on the log; each record is then parsed on its own. The caller
//! hands in a `Read` (and decompresses `.gz` itself).

use super::{arns, Call, ServiceRef};
use serde::Deserialize;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A record larger than this is an error (CloudTrail events are at most
/// a few hundred KiB).
pub const MAX_RECORD: usize = 32 << 20;

/// Event-source host labels that are not the service prefix, beyond the
/// dataset's shared table (`iamref_dataset::cloudtrail`, which the SQL
/// export uses too).
const MORE_EVENT_SOURCE_PREFIXES: &[(&str, &str)] = &[
    ("es", "es"),
    ("opensearch", "es"),
    ("bedrock-runtime", "bedrock"),
    ("bedrock-agent", "bedrock"),
    ("bedrock-agent-runtime", "bedrock"),
];

fn event_source_prefixes() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    iamref_dataset::cloudtrail::EVENT_SOURCE_PREFIXES
        .iter()
        .chain(MORE_EVENT_SOURCE_PREFIXES)
}

/// The prefix candidates for a CloudTrail event source: the dataset's
/// (the host's first label, then the known exceptions), then a few more.
pub fn prefix_candidates(source: &str) -> Vec<String> {
    let mut v = iamref_dataset::cloudtrail::prefix_candidates(source);
    let host = iamref_dataset::cloudtrail::event_source_host(source);
    let first = host.split('.').next().unwrap_or("").to_string();
    for (from, to) in MORE_EVENT_SOURCE_PREFIXES {
        if (host == *from || first == *from) && !v.iter().any(|x| x == to) {
            v.push(to.to_string());
        }
    }
    v
}

/// The event source CloudTrail uses for an IAM prefix (the inverse of
/// [`prefix_candidates`] for the call log).
pub fn event_source_for(prefix: &str) -> String {
    let host = event_source_prefixes()
        .find(|(_, to)| *to == prefix)
        .map(|(from, _)| *from)
        .filter(|from| !from.contains('.'))
        .unwrap_or(prefix);
    format!("{host}.amazonaws.com")
}

/// The API operation a CloudTrail event names: version suffixes stripped
/// (Lambda's `ListFunctions20150331`, `UpdateFunctionCode20150331v2`,
/// CloudFront's `..2020_05_31`), S3 `ListObjects` with `list-type: 2` read
/// as `ListObjectsV2`.
pub fn operation_of(event_name: &str, params: Option<&serde_json::Value>) -> String {
    let mut n = super::service_ids::strip_api_version(event_name.trim());
    let b = n.as_bytes();
    // Lambda: 8 digits, optionally followed by v and digits.
    let mut end = b.len();
    while end > 0 && b[end - 1].is_ascii_digit() {
        end -= 1;
    }
    if end > 0 && b[end - 1] == b'v' && end < b.len() {
        let digits_end = end - 1;
        let mut s = digits_end;
        while s > 0 && b[s - 1].is_ascii_digit() {
            s -= 1;
        }
        if digits_end - s == 8 && s > 0 {
            n = &n[..s];
        }
    } else if b.len() - end == 8 && end > 0 {
        n = &n[..end];
    }
    if n == "ListObjects" {
        let v2 = params
            .and_then(|p| p.get("list-type"))
            .is_some_and(|t| t == "2" || t == 2);
        if v2 {
            return "ListObjectsV2".into();
        }
    }
    n.to_string()
}

fn param_str<'a>(params: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    let m = params.as_object()?;
    m.get(key)
        .or_else(|| {
            m.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
}

/// The value at a member path of the request parameters (`Role`,
/// `pipeline.roleArn`: names compared in any case, as CloudTrail writes
/// `role` for the model's `Role`); `None` when absent, null or empty.
pub fn param_path<'a>(params: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let mut v = params;
    for part in path.split('.') {
        let m = v.as_object()?;
        v = m.get(part).or_else(|| {
            m.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(part))
                .map(|(_, v)| v)
        })?;
    }
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) if s.is_empty() => None,
        serde_json::Value::Object(m) if m.is_empty() => None,
        serde_json::Value::Array(a) if a.is_empty() => None,
        _ => Some(v),
    }
}

/// One part of a member path: the member's name, and what follows it,
/// in order: `false` a list (`[]`), `true` a map (`{}`); `Name{}[]` is a
/// map whose values are lists.
pub fn path_part(part: &str) -> (&str, Vec<bool>) {
    let mut name = part;
    let mut markers = Vec::new();
    while let Some((n, map)) = name
        .strip_suffix("[]")
        .map(|n| (n, false))
        .or_else(|| name.strip_suffix("{}").map(|n| (n, true)))
    {
        name = n;
        markers.push(map);
    }
    markers.reverse();
    (name, markers)
}

/// Every value at a member path that may go through lists and maps
/// (`Targets[].RoleArn`: each element of `Targets`; `Configs{}.RoleArn`:
/// each value of the map `Configs`; `pipeline.roleArn` as
/// [`param_path`]), names compared in any case. A `[]` over an object
/// takes it as the one element (an XML list of one), a `{}` over an array
/// its elements. Absent, null and empty values are left out.
pub fn param_values<'a>(params: &'a serde_json::Value, path: &str) -> Vec<&'a serde_json::Value> {
    let mut at: Vec<&serde_json::Value> = vec![params];
    for part in path.split('.') {
        let (name, expand) = path_part(part);
        let mut next = Vec::new();
        for v in at {
            let Some(m) = v.as_object() else {
                continue;
            };
            let found = m.get(name).or_else(|| {
                m.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            });
            next.extend(found);
        }
        for map in expand {
            next = next
                .into_iter()
                .flat_map(|v| match v {
                    serde_json::Value::Array(a) => a.iter().collect::<Vec<_>>(),
                    serde_json::Value::Object(m) if map => m.values().collect(),
                    v => vec![v],
                })
                .collect();
        }
        at = next;
    }
    at.retain(|v| match v {
        serde_json::Value::Null => false,
        serde_json::Value::String(s) => !s.is_empty(),
        serde_json::Value::Object(m) => !m.is_empty(),
        serde_json::Value::Array(a) => !a.is_empty(),
        _ => true,
    });
    at
}

/// The request-parameter names of S3's copy source: CloudTrail writes the
/// header (`x-amz-copy-source`), the proxy the model's member.
const COPY_SOURCE: &[&str] = &["x-amz-copy-source", "CopySource"];

/// The object CopyObject and UploadPartCopy read, from `x-amz-copy-source`
/// (`bucket/key`, `/bucket/key`, or an access point's
/// `arn:…:accesspoint/NAME/object/KEY`; URL-encoded as the S3 API
/// requires, decoded once here, after `?versionId=` is cut off) as
/// request parameters of its own (`bucketName` and `key`, or the ARN), and
/// whether it names a version.
pub fn copy_source(params: &serde_json::Value) -> Option<(serde_json::Value, bool)> {
    let raw = COPY_SOURCE.iter().find_map(|k| param_str(params, k))?;
    let (path, version) = match raw.split_once('?') {
        Some((p, q)) => (
            p,
            q.split('&')
                .any(|kv| kv.strip_prefix("versionId=").is_some_and(|v| !v.is_empty())),
        ),
        None => (raw, false),
    };
    let path = super::proxy::percent_decode(path);
    let path = path.strip_prefix('/').unwrap_or(&path);
    if path.starts_with("arn:") {
        return Some((serde_json::json!({ "copySourceArn": path }), version));
    }
    let (bucket, key) = path.split_once('/')?;
    if bucket.is_empty() || key.is_empty() {
        return None;
    }
    Some((
        serde_json::json!({ "bucketName": bucket, "key": key }),
        version,
    ))
}

/// The request parameters without the copy source: what names the
/// destination of CopyObject and UploadPartCopy.
pub fn without_copy_source(params: &serde_json::Value) -> serde_json::Value {
    let mut p = params.clone();
    if let Some(m) = p.as_object_mut() {
        m.retain(|k, _| !COPY_SOURCE.iter().any(|c| c.eq_ignore_ascii_case(k)));
    }
    p
}

/// A CloudTrail record's request parameters with each top-level string
/// decoded once where it is percent-encoded (`arn%3Aaws%3Aconnect…`, as
/// CloudTrail logs some URI labels). The copy source keeps its encoding:
/// [`copy_source`] cuts its `?versionId=` off first.
fn decode_params(params: &mut serde_json::Value) {
    let Some(m) = params.as_object_mut() else {
        return;
    };
    for (k, v) in m.iter_mut() {
        if COPY_SOURCE.iter().any(|c| c.eq_ignore_ascii_case(k)) {
            continue;
        }
        if let serde_json::Value::String(s) = v {
            if has_percent_escape(s) {
                *s = super::proxy::percent_decode(s);
            }
        }
    }
}

fn has_percent_escape(s: &str) -> bool {
    s.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

/// `QueueName` and `Account` from an SQS queue URL
/// (`https://sqs.us-east-1.amazonaws.com/123456789012/q`).
fn queue_url(url: &str) -> Option<(&str, &str)> {
    let path = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let mut parts = path.split('/').skip(1);
    let account = parts.next()?;
    let name = parts.next()?;
    (account.len() == 12 && account.bytes().all(|c| c.is_ascii_digit()) && !name.is_empty())
        .then_some((account, name))
}

/// An ARN of `format` filled from a CloudTrail record's request
/// parameters: `bucketName` + `key` -> the object, `queueUrl` -> the
/// queue, `tableName`, `functionName`, `logGroupName`, an SSM parameter's
/// `name`, a secret's name (`prod/db` -> `prod/db-??????`, the six
/// characters AWS appends), …; or a parameter that already is an ARN of
/// that format (`stateMachineArn`, `secretId`).
/// The Bedrock model a request names by id (`modelId` not an ARN), as
/// the Bedrock API reference defines the parameter: a base model's id
/// (`anthropic.claude-3-5-sonnet-20240620-v1:0`) names a foundation model
/// (no account in its ARN); an id with a geography prefix
/// (`us.anthropic.…`, `eu.`, `apac.`, `global.`, …) a system-defined
/// inference profile of the caller's account.
pub fn bedrock_model_arn(
    params: &serde_json::Value,
    region: Option<&str>,
    account: Option<&str>,
) -> Option<String> {
    let id = param_str(params, "modelId")?;
    if id.is_empty() || id.starts_with("arn:") || id.contains(['/', '*', '?', '$']) {
        return None;
    }
    let region = region?;
    let partition = arns::partition_of(Some(region));
    const GEOS: &[&str] = &[
        "us", "eu", "apac", "us-gov", "global", "jp", "au", "ca", "ap",
    ];
    let (geo, rest) = id.split_once('.')?;
    if GEOS.contains(&geo) && rest.contains('.') {
        return Some(format!(
            "arn:{partition}:bedrock:{region}:{}:inference-profile/{id}",
            account?
        ));
    }
    Some(format!(
        "arn:{partition}:bedrock:{region}::foundation-model/{id}"
    ))
}

/// `RoleName` -> `roleName`: CloudTrail's spelling of a member.
fn camel(var: &str) -> String {
    let mut c = var.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// ARN variables named otherwise in the requests (variable, request
/// member in CloudTrail's spelling): RDS names its resources by
/// identifiers (`dBInstanceIdentifier` for `db:${DbInstanceName}`).
const IDENTIFIERS: &[(&str, &str)] = &[
    ("DbInstanceName", "dBInstanceIdentifier"),
    ("DbClusterInstanceName", "dBClusterIdentifier"),
    ("SnapshotName", "dBSnapshotIdentifier"),
    ("ClusterSnapshotName", "dBClusterSnapshotIdentifier"),
];

/// The id an ARN given for `${var}` carries, when the ARN is of the kind
/// the format names there: the same service, and the literal before the
/// variable (`instance/`) starting its resource part, the id the rest up
/// to the next `/` or `:` (`arn:aws:connect:r:a:instance/ID/queue/Q`
/// gives `ID` for `instance/${InstanceId}/queue/${QueueId}`).
fn id_of_arn(format: &str, var: &str, arn: &str) -> Option<String> {
    let at = format.find(&format!("${{{var}}}"))?;
    let before = &format[..at];
    let lead = &before[before.rfind([':', '}']).map(|i| i + 1).unwrap_or(0)..];
    if lead.is_empty() {
        return None;
    }
    let mut parts = arn.splitn(6, ':');
    let (_, _, service) = (parts.next()?, parts.next()?, parts.next()?);
    let resource = parts.nth(2)?;
    if !format
        .split(':')
        .nth(2)
        .is_some_and(|f| f.eq_ignore_ascii_case(service))
    {
        return None;
    }
    let id = resource.strip_prefix(lead)?;
    let id = &id[..id.find(['/', ':']).unwrap_or(id.len())];
    (!id.is_empty()).then(|| id.to_string())
}

pub fn arn_from_params(
    format: &str,
    params: &serde_json::Value,
    region: Option<&str>,
    account: Option<&str>,
    judge: &mut arns::Judge,
) -> Option<String> {
    // An ARN longer than IAM takes (a record's 100,000-character id) is
    // no resource of this call's: the call stays unresolved (scoped to
    // its region and account) instead of failing the whole policy.
    arn_from_params_any(format, params, region, account, judge)
        .filter(|a| a.len() <= crate::arn::MAX_PATTERN_LEN)
}

fn arn_from_params_any(
    format: &str,
    params: &serde_json::Value,
    region: Option<&str>,
    account: Option<&str>,
    judge: &mut arns::Judge,
) -> Option<String> {
    if let Some(m) = params.as_object() {
        for v in m.values() {
            if let Some(s) = v.as_str().filter(|s| s.starts_with("arn:")) {
                let s = crate::arn::escape(s);
                if judge.is_instance(format, &s) {
                    return Some(s.into_owned());
                }
            }
        }
    }
    let queue = param_str(params, "queueUrl").and_then(queue_url);
    let account = queue.map(|q| q.0).or(account);
    // Values with '/' may make the ARN another format's (a more specific
    // one of the namespace): those ARNs go to the judge.
    let mut slash = false;
    let arn = arns::fill(format, |var| {
        let v: String = match var {
            "Partition" => return Some(arns::partition_of(region).to_string()),
            "Region" => return region.map(str::to_string),
            "Account" => return account.map(str::to_string),
            "ObjectName" => param_str(params, "key")?.to_string(),
            "QueueName" => queue
                .map(|q| q.1)
                .or_else(|| param_str(params, "queueName"))?
                .to_string(),
            // SSM: `name` is `/app/prod/db-url`; the ARN has no leading `/`.
            "ParameterNameWithoutLeadingSlash" => {
                let n = param_str(params, "name")?;
                n.strip_prefix('/').unwrap_or(n).to_string()
            }
            // Secrets Manager: a name; the ARN ends with `-` and six random
            // characters, which a policy writes as `??????`.
            "SecretId" => {
                // CreateSecret names it `name`.
                let n = param_str(params, "secretId").or_else(|| param_str(params, "name"))?;
                if n.starts_with("arn:") || n.contains(['*', ':']) {
                    return None;
                }
                slash |= n.contains('/');
                return Some(format!("{}-??????", crate::arn::escape(n)));
            }
            // IAM: `roleName`, `userName`, `groupName`,
            // `instanceProfileName`, `policyName` (and server
            // certificates'), with the `path` member when the call sends
            // one (`/app/` -> `role/app/NAME`); no path: `role/NAME`.
            w if w.ends_with("NameWithPath") => {
                let n = param_str(params, &camel(w.trim_end_matches("WithPath")))?;
                if n.starts_with("arn:") || n.contains(['/', ':', '*']) {
                    return None;
                }
                let path = param_str(params, "path")
                    .filter(|p| p.starts_with('/') && p.ends_with('/') && !p.contains(['*', ':']))
                    .unwrap_or("/");
                slash = true;
                return Some(crate::arn::escape(&format!("{}{n}", &path[1..])).into_owned());
            }
            _ => {
                let v = param_str(params, &camel(var))
                    .or_else(|| param_str(params, var))
                    .or_else(|| {
                        IDENTIFIERS
                            .iter()
                            .filter(|(x, _)| *x == var)
                            .find_map(|(_, p)| param_str(params, p))
                    })?;
                // An ARN in an id's place (Connect's `InstanceId` may be the
                // instance's ARN): the id it ends with, when the ARN is the
                // format's own kind (`instance/ID` for `instance/${InstanceId}`).
                match v.starts_with("arn:").then(|| id_of_arn(format, var, v)) {
                    Some(Some(id)) => id,
                    _ => v.to_string(),
                }
            }
        };
        // A name parameter may hold an ARN or a wildcard the variable
        // cannot; only object keys end with '/'. A ':' (an S3 key, a
        // model id) may make the ARN another format's: the judge decides.
        let bad = v.is_empty()
            || v.starts_with("arn:")
            || v.contains('*')
            || (v.ends_with('/') && !var.contains("Object"));
        slash |= v.contains(['/', ':']);
        // A '?' or '${' in a name is text, not a wildcard or a variable.
        (!bad).then(|| crate::arn::escape(&v).into_owned())
    })?;
    if !slash {
        return Some(arn);
    }
    judge.is_instance(format, &arn).then_some(arn)
}

// ---------------------------------------------------------------------------
// Splitting a stream into records.
// ---------------------------------------------------------------------------

/// One raw record and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw {
    /// 1-based index of the record in the input.
    pub index: u64,
    /// 1-based line on which it starts.
    pub line: u64,
    pub bytes: Vec<u8>,
}

/// A stream that is not CloudTrail-shaped JSON.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error("line {line}: expected a JSON object or array, found {found:?}")]
    Unexpected { line: u64, found: char },
    #[error("line {line}: the JSON value starting here is not closed at the end of the input")]
    Unterminated { line: u64 },
    #[error("line {line}: record {index} is larger than {MAX_RECORD} bytes")]
    TooLarge { line: u64, index: u64 },
    #[error("line {line}: record {index} is not a JSON object")]
    NotObject { line: u64, index: u64 },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Cuts a stream into records (see the module doc).
pub struct Splitter<R: Read> {
    r: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    line: u64,
    depth: usize,
    in_str: bool,
    esc: bool,
    /// Depth at which records are elements (1: a bare array, 2: Records).
    elem_depth: Option<usize>,
    /// The current top-level object is a candidate record (JSON lines).
    cur: Vec<u8>,
    cur_line: u64,
    /// Where the current record starts in `buf`, in this pass.
    cur_from: Option<usize>,
    capturing: bool,
    /// Last string at depth 1 (a key of the top object), when short.
    key: Vec<u8>,
    key_start: Option<usize>,
    after_colon_key: bool,
    index: u64,
}

impl<R: Read> Splitter<R> {
    pub fn new(r: R) -> Self {
        Splitter {
            r,
            buf: vec![0; 1 << 20],
            pos: 0,
            len: 0,
            eof: false,
            line: 1,
            depth: 0,
            in_str: false,
            esc: false,
            elem_depth: None,
            cur: Vec::new(),
            cur_line: 0,
            cur_from: None,
            capturing: false,
            key: Vec::new(),
            key_start: None,
            after_colon_key: false,
            index: 0,
        }
    }

    fn fill(&mut self) -> std::io::Result<bool> {
        if self.pos < self.len {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        loop {
            match self.r.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The next record, `None` at the end.
    pub fn next_record(&mut self) -> Result<Option<Raw>, SplitError> {
        loop {
            if !self.fill()? {
                if self.capturing || self.depth > 0 {
                    let line = if self.capturing {
                        self.cur_line
                    } else {
                        self.line
                    };
                    self.capturing = false;
                    self.depth = 0;
                    return Err(SplitError::Unterminated { line });
                }
                return Ok(None);
            }
            let start = self.pos;
            let mut i = self.pos;
            let end = self.len;
            let mut done: Option<usize> = None;
            while i < end {
                if self.in_str && !self.esc {
                    // Most bytes are inside strings: skip to the next byte
                    // that matters there.
                    match memchr::memchr3(b'"', b'\\', b'\n', &self.buf[i..end]) {
                        Some(k) => i += k,
                        None => {
                            i = end;
                            continue;
                        }
                    }
                }
                let c = self.buf[i];
                if self.in_str {
                    if self.esc {
                        self.esc = false;
                    } else if c == b'\\' {
                        self.esc = true;
                    } else if c == b'"' {
                        self.in_str = false;
                        if self.depth == 1 && self.elem_depth != Some(1) {
                            if let Some(ks) = self.key_start.take() {
                                self.key.extend_from_slice(&self.buf[ks..i]);
                            }
                        }
                    } else if c == b'\n' {
                        self.line += 1;
                    }
                    i += 1;
                    continue;
                }
                match c {
                    b'\n' => self.line += 1,
                    b' ' | b'\t' | b'\r' | b',' => {}
                    b'"' => {
                        self.in_str = true;
                        if self.depth == 1 && self.elem_depth != Some(1) {
                            self.key.clear();
                            self.key_start = Some(i + 1);
                            self.after_colon_key = false;
                        }
                    }
                    b':' => {
                        if self.depth == 1 {
                            self.after_colon_key = self.key == b"Records";
                        }
                    }
                    b'{' | b'[' => {
                        if self.depth == 0 {
                            if c == b'[' {
                                self.elem_depth = Some(1);
                            } else {
                                self.elem_depth = None;
                                self.capturing = true;
                                self.cur.clear();
                                self.cur_line = self.line;
                                self.index += 1;
                                self.cur_start(i);
                            }
                        } else if Some(self.depth) == self.elem_depth && !self.capturing {
                            if c != b'{' {
                                self.index += 1;
                                return Err(SplitError::NotObject {
                                    line: self.line,
                                    index: self.index,
                                });
                            }
                            self.capturing = true;
                            self.cur.clear();
                            self.cur_line = self.line;
                            self.index += 1;
                            self.cur_start(i);
                        } else if self.depth == 1
                            && c == b'['
                            && self.after_colon_key
                            && self.elem_depth.is_none()
                        {
                            // {"Records": [ ... ]}: the object is a wrapper.
                            self.elem_depth = Some(2);
                            self.capturing = false;
                            self.cur.clear();
                            self.index -= 1;
                        }
                        self.depth += 1;
                    }
                    b'}' | b']' => {
                        if self.depth == 0 {
                            return Err(SplitError::Unexpected {
                                line: self.line,
                                found: c as char,
                            });
                        }
                        self.depth -= 1;
                        if self.capturing {
                            let closes = match self.elem_depth {
                                Some(d) => self.depth == d,
                                None => self.depth == 0,
                            };
                            if closes {
                                done = Some(i + 1);
                                i += 1;
                                break;
                            }
                        }
                        if self.elem_depth == Some(2) && self.depth == 1 {
                            // The Records array closed; the wrapper goes on.
                            self.elem_depth = Some(usize::MAX);
                        }
                        if self.depth == 0 {
                            self.elem_depth = None;
                        }
                    }
                    _ => {
                        if self.depth == 0 {
                            return Err(SplitError::Unexpected {
                                line: self.line,
                                found: c as char,
                            });
                        }
                        if Some(self.depth) == self.elem_depth && !self.capturing {
                            self.index += 1;
                            return Err(SplitError::NotObject {
                                line: self.line,
                                index: self.index,
                            });
                        }
                    }
                }
                i += 1;
            }
            // A key string continues in the next buffer.
            if self.in_str {
                if let Some(ks) = self.key_start {
                    if self.key.len() < 64 {
                        self.key.extend_from_slice(&self.buf[ks..i]);
                    }
                    self.key_start = Some(0);
                }
            }
            // Copy what this pass covered of the current record.
            if self.capturing {
                let from = self.cur_from.unwrap_or(start);
                let to = done.unwrap_or(i);
                self.cur.extend_from_slice(&self.buf[from..to]);
                self.cur_from = None;
                if self.cur.len() > MAX_RECORD {
                    self.capturing = false;
                    return Err(SplitError::TooLarge {
                        line: self.cur_line,
                        index: self.index,
                    });
                }
            }
            self.pos = i;
            if done.is_some() {
                self.capturing = false;
                return Ok(Some(Raw {
                    index: self.index,
                    line: self.cur_line,
                    bytes: std::mem::take(&mut self.cur),
                }));
            }
        }
    }

    fn cur_start(&mut self, i: usize) {
        self.cur_from = Some(i);
    }
}

// ---------------------------------------------------------------------------
// Records.
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
struct Event {
    /// `AwsApiCall` (a call), or another class of record (service events,
    /// console sign-ins and actions, Insights): never read as a call.
    #[serde(rename = "eventType")]
    event_type: Option<String>,
    #[serde(rename = "eventSource")]
    event_source: Option<String>,
    #[serde(rename = "eventName")]
    event_name: Option<String>,
    #[serde(rename = "eventTime")]
    event_time: Option<String>,
    #[serde(rename = "awsRegion")]
    region: Option<String>,
    /// An IP address, or the service that called (`lambda.amazonaws.com`,
    /// `AWS Internal`): read as a string whatever it holds.
    #[serde(rename = "sourceIPAddress")]
    source_ip: Option<serde_json::Value>,
    #[serde(rename = "recipientAccountId")]
    recipient_account: Option<String>,
    #[serde(rename = "errorCode")]
    error_code: Option<String>,
    #[serde(rename = "errorMessage")]
    error_message: Option<String>,
    #[serde(rename = "userIdentity")]
    user_identity: Option<UserIdentity>,
    #[serde(rename = "requestParameters")]
    request_parameters: Option<serde_json::Value>,
    #[serde(rename = "responseElements")]
    response_elements: Option<serde_json::Value>,
    /// A list of `{"ARN": …}`; anything else (a record may hold a string
    /// here) is read as no resources, never a lost record.
    resources: Option<serde_json::Value>,
    /// iamref's call log: the SDK service ID and HTTP status of a CSM call.
    #[serde(rename = "sdkServiceId")]
    sdk_service_id: Option<String>,
    #[serde(rename = "httpStatus")]
    http_status: Option<u16>,
}

#[derive(Deserialize)]
struct UserIdentity {
    arn: Option<String>,
    #[serde(rename = "accountId")]
    account_id: Option<String>,
    #[serde(rename = "sessionContext")]
    session_context: Option<SessionContext>,
}

#[derive(Deserialize)]
struct SessionContext {
    #[serde(rename = "sessionIssuer")]
    session_issuer: Option<SessionIssuer>,
}

#[derive(Deserialize)]
struct SessionIssuer {
    arn: Option<String>,
}

/// Which records to read.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `userIdentity.arn`; an assumed-role session matches its role.
    pub principal: Option<String>,
    /// Inclusive bounds on `eventTime`, as ISO 8601 prefixes
    /// (`2026-06-01`, `2026-06-01T10:00`).
    pub since: Option<String>,
    pub until: Option<String>,
}

/// Check a `--since`/`--until` value: an ISO 8601 date or date-time
/// prefix (`2026-06-01`, `2026-06-01T10:00:00Z`).
pub fn check_time(s: &str) -> Result<String, String> {
    let t = s.trim();
    let pattern = b"dddd-dd-ddTdd:dd:dd";
    let b = t.trim_end_matches('Z').as_bytes();
    let ok = b.len() >= 4
        && b.len() <= pattern.len()
        && b.iter().zip(pattern.iter()).all(|(c, p)| match p {
            b'd' => c.is_ascii_digit(),
            _ => c.eq_ignore_ascii_case(p),
        });
    if ok {
        Ok(String::from_utf8_lossy(b).into_owned())
    } else {
        Err(format!(
            "{s:?} is not a date or time; expected ISO 8601 such as 2026-06-01 or 2026-06-01T10:00:00Z"
        ))
    }
}

/// `arn:aws:sts::1:assumed-role/R/session` -> role name `R`.
fn assumed_role(arn: &str) -> Option<(&str, &str)> {
    let (head, rest) = arn.split_once(":assumed-role/")?;
    let account = head.rsplit(':').next()?;
    Some((account, rest.split('/').next()?))
}

/// Does a principal filter match a record's identity?
pub fn principal_matches(want: &str, arn: Option<&str>, issuer: Option<&str>) -> bool {
    let Some(arn) = arn else {
        return false;
    };
    if want == arn || issuer == Some(want) {
        return true;
    }
    // A role ARN (possibly with a path) against an assumed-role session.
    if let (Some((acct, role)), Some((wacct, wrest))) = (
        assumed_role(arn),
        want.split_once(":role/")
            .map(|(h, r)| (h.rsplit(':').next().unwrap_or(""), r)),
    ) {
        let wrole = wrest.rsplit('/').next().unwrap_or(wrest);
        return acct == wacct && role == wrole;
    }
    false
}

/// What reading a stream found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStats {
    pub records: u64,
    /// Records left out by the filters.
    pub filtered: u64,
    /// Records that are not API calls (no eventSource/eventName).
    pub not_calls: u64,
    /// Events of other classes than API calls, by `eventType`
    /// (`AwsServiceEvent`, `AwsConsoleSignIn`, `AwsConsoleAction`,
    /// `AwsCloudTrailInsight`, ...): counted apart, neither calls nor
    /// unmapped, and never granted.
    pub other_events: std::collections::BTreeMap<String, u64>,
    pub bytes: u64,
    /// Records (or rests of streams) that could not be read: counted and
    /// skipped, the run goes on.
    pub skipped: u64,
    /// What was skipped and where (file, record, line): the first
    /// [`SKIPPED_NAMED`] of them.
    pub skipped_at: Vec<String>,
}

/// At most this many skipped records are named one by one.
pub const SKIPPED_NAMED: usize = 50;

impl ReadStats {
    /// Count and name something that could not be read.
    pub fn skip(&mut self, what: String) {
        self.skipped += 1;
        if self.skipped_at.len() < SKIPPED_NAMED {
            self.skipped_at.push(what);
        }
    }
}

/// What a record is: a call (with its principal and the session issuer),
/// or an event of another class (its `eventType`). Returned and
/// destructured at once, never stored: the size difference costs nothing,
/// a box per record would.
#[allow(clippy::large_enum_variant)]
pub enum Record {
    Call(Call, Option<String>, Option<String>),
    Other(String),
}

/// The `eventType`s that are calls: CloudTrail's `AwsApiCall`, and the
/// records of iamref's own call log (CSM and proxy). A record without one
/// (hand-made, older tools) is read as a call.
fn is_call_type(t: &str) -> bool {
    matches!(t, "AwsApiCall" | "iamrefCsmCall" | "iamrefProxyCall")
}

/// One record read; `Err` names the record.
pub fn call_of(raw: &Raw, name: &str) -> Result<Record, String> {
    let at = format!("{name}: record {} (line {})", raw.index, raw.line);
    // Valid UTF-8 (nearly every record) is checked once, whole, rather
    // than string by string; anything else gets serde_json's own message.
    let ev: Result<Event, _> = match std::str::from_utf8(&raw.bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(&raw.bytes),
    };
    let ev = ev.map_err(|e| format!("{at}: not a CloudTrail event: {e}"))?;
    if let Some(t) = ev.event_type.as_deref().filter(|t| !is_call_type(t)) {
        // Bounded and printable: a name from input.
        let t: String = t.chars().take(64).collect();
        return Ok(Record::Other(t));
    }
    let (service, operation) = match (ev.sdk_service_id, ev.event_source, ev.event_name) {
        (Some(id), _, Some(n)) if !id.trim().is_empty() && !n.trim().is_empty() => {
            (ServiceRef::SdkId(id), n)
        }
        (_, Some(s), Some(n)) if !s.trim().is_empty() && !n.trim().is_empty() => {
            (ServiceRef::EventSource(s), n)
        }
        _ => {
            return Err(format!(
                "{at}: not a CloudTrail event (needs string fields eventSource and eventName)"
            ))
        }
    };
    let mut params = ev.request_parameters.filter(|p| p.is_object());
    // iamref's own call log holds the values as the request had them,
    // decoded already; CloudTrail's may be percent-encoded.
    let own_log = ev
        .event_type
        .as_deref()
        .is_some_and(|t| t.starts_with("iamref"));
    if let (Some(p), false) = (params.as_mut(), own_log) {
        decode_params(p);
    }
    let operation = operation_of(&operation, params.as_ref());
    let ident = ev.user_identity;
    let principal = ident.as_ref().and_then(|u| u.arn.clone());
    let issuer = ident
        .as_ref()
        .and_then(|u| u.session_context.as_ref())
        .and_then(|s| s.session_issuer.as_ref())
        .and_then(|s| s.arn.clone());
    let account = ev
        .recipient_account
        .or_else(|| ident.and_then(|u| u.account_id));
    let denied_action = ev
        .error_message
        .as_deref()
        .and_then(super::csm::denied_action);
    Ok(Record::Call(
        Call {
            at,
            service: Some(service),
            operation,
            region: ev.region,
            account,
            status: ev.http_status,
            error: ev.error_code,
            denied_action,
            resources: ev
                .resources
                .as_ref()
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.get("ARN").and_then(serde_json::Value::as_str))
                .map(str::to_string)
                .collect(),
            params,
            response: ev.response_elements.filter(|r| r.is_object()),
            time: ev.event_time,
            principal: principal.clone(),
            source_ip: ev
                .source_ip
                .as_ref()
                .and_then(serde_json::Value::as_str)
                .and_then(|s| s.trim().parse::<std::net::IpAddr>().ok())
                .map(|ip| ip.to_string()),
            unread_body: None,
        },
        principal,
        issuer,
    ))
}

/// Read every record of a stream, filtered, handing each call to `f`. A
/// record that is not a CloudTrail event is counted and named in `stats`
/// and skipped; a stream that cannot be split further (cut short, not
/// JSON) ends there, its calls so far kept, the rest counted as skipped.
pub fn read(
    r: impl Read,
    name: &str,
    filter: &Filter,
    stats: &mut ReadStats,
    mut f: impl FnMut(Call),
) -> Result<(), String> {
    let mut s = Splitter::new(r);
    loop {
        let raw = match s.next_record() {
            Ok(Some(raw)) => raw,
            Ok(None) => return Ok(()),
            Err(e) => {
                stats.skip(format!("{name}: {e}; the rest of this file was not read"));
                return Ok(());
            }
        };
        stats.records += 1;
        stats.bytes += raw.bytes.len() as u64;
        let (call, principal, issuer) = match call_of(&raw, name) {
            Ok(Record::Call(c, p, i)) => (c, p, i),
            Ok(Record::Other(t)) => {
                *stats.other_events.entry(t).or_default() += 1;
                continue;
            }
            Err(e) => {
                stats.skip(e);
                continue;
            }
        };
        if let Some(want) = &filter.principal {
            if !principal_matches(want, principal.as_deref(), issuer.as_deref()) {
                stats.filtered += 1;
                continue;
            }
        }
        if filter.since.is_some() || filter.until.is_some() {
            let t = call.time.as_deref().unwrap_or("");
            let before = |bound: &str| t.get(..bound.len()).unwrap_or(t) < bound;
            let after = |bound: &str| t.get(..bound.len()).unwrap_or(t) > bound;
            if t.is_empty()
                || filter.since.as_deref().is_some_and(before)
                || filter.until.as_deref().is_some_and(after)
            {
                stats.filtered += 1;
                continue;
            }
        }
        f(call);
    }
}

/// The log files under a directory (the S3 delivery layout
/// `AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/*.json.gz`, or any tree):
/// every `.json`, `.jsonl`, `.json.gz` and `.jsonl.gz`, sorted by path.
/// Unreadable folders are errors naming them.
pub fn files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut seen = 0usize;
    while let Some(d) = stack.pop() {
        seen += 1;
        if seen > 1_000_000 {
            return Err(format!("{}: more than a million folders", dir.display()));
        }
        let rd = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for e in rd {
            let e = e.map_err(|e| format!("{}: {e}", d.display()))?;
            let p = e.path();
            let ft = e.file_type().map_err(|e| format!("{}: {e}", p.display()))?;
            if ft.is_dir() {
                stack.push(p);
            } else if is_log_name(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `.json`, `.jsonl`, `.json.gz` or `.jsonl.gz`.
pub fn is_log_name(p: &Path) -> bool {
    let n = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    [".json", ".jsonl", ".json.gz", ".jsonl.gz"]
        .iter()
        .any(|s| n.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Result<Vec<(u64, u64, String)>, String> {
        let mut s = Splitter::new(text.as_bytes());
        let mut v = Vec::new();
        while let Some(r) = s.next_record().map_err(|e| e.to_string())? {
            v.push((r.index, r.line, String::from_utf8(r.bytes).unwrap()));
        }
        Ok(v)
    }

    #[test]
    fn splits_records_lines_and_arrays() {
        let t = "{\n \"Records\": [\n  {\"a\": \"}]\\\"\"},\n  {\"b\": [1, {\"c\": 2}]}\n ]\n}\n";
        let v = split(t).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].0, v[0].1), (1, 3));
        assert_eq!(v[0].2, "{\"a\": \"}]\\\"\"}");
        assert_eq!(
            (v[1].0, v[1].1, v[1].2.as_str()),
            (2, 4, "{\"b\": [1, {\"c\": 2}]}")
        );
        let v = split("{\"x\":1}\n\n{\"y\":{\"Records\":[1]}}\n").unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!((v[1].0, v[1].1), (2, 3));
        assert_eq!(v[1].2, "{\"y\":{\"Records\":[1]}}");
        let v = split("[{\"a\":1},\n{\"b\":2}]").unwrap();
        assert_eq!((v[1].0, v[1].1), (2, 2));
        // Records not first in the wrapper.
        let v = split("{\"k\": {\"z\": 1}, \"Records\": [{\"a\":1}]}").unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].2, "{\"a\":1}");
    }

    #[test]
    fn split_errors_name_the_line() {
        let e = split("{\"x\":1}\n{oops\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        let e = split("s3:GetObject\n").unwrap_err();
        assert!(e.contains("line 1"), "{e}");
        let e = split("{\"Records\": [1]}").unwrap_err();
        assert!(e.contains("not a JSON object"), "{e}");
    }

    #[test]
    fn small_reads_split_the_same() {
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(3).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let t = "{\"Records\":[{\"eventName\":\"A\",\"x\":\"{[\"},{\"eventName\":\"B\"}]}";
        let mut s = Splitter::new(Trickle(t.as_bytes()));
        let a = s.next_record().unwrap().unwrap();
        let b = s.next_record().unwrap().unwrap();
        assert_eq!(
            String::from_utf8(a.bytes).unwrap(),
            "{\"eventName\":\"A\",\"x\":\"{[\"}"
        );
        assert_eq!(String::from_utf8(b.bytes).unwrap(), "{\"eventName\":\"B\"}");
        assert!(s.next_record().unwrap().is_none());
    }

    #[test]
    fn strings_are_skipped_whole_escapes_newlines_and_keys_across_reads() {
        // Constructed: escaped quotes and backslashes, brackets and a raw
        // newline inside strings, a long `Records` key split across reads.
        struct Sized<'a>(&'a [u8], usize);
        impl Read for Sized<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let t = "{\"note\": \"a \\\"}\\\\\", \"Records\": [\n{\"eventName\":\"A\\\\\",\"x\":\"q\\\"]}\"},\n{\"eventName\":\"B\nC\"},\n{\"e\":\"\\\\\"}\n]}";
        let want = [
            (2, "{\"eventName\":\"A\\\\\",\"x\":\"q\\\"]}\"}"),
            (3, "{\"eventName\":\"B\nC\"}"),
            (5, "{\"e\":\"\\\\\"}"),
        ];
        for size in [1, 2, 3, 5, 7, 64, 1 << 20] {
            let mut s = Splitter::new(Sized(t.as_bytes(), size));
            for (line, text) in want {
                let r = s.next_record().unwrap().unwrap();
                assert_eq!(
                    (r.line, String::from_utf8(r.bytes).unwrap().as_str()),
                    (line, text),
                    "reads of {size}"
                );
            }
            assert!(s.next_record().unwrap().is_none(), "reads of {size}");
        }
    }

    #[test]
    fn only_api_calls_are_calls_other_event_classes_are_counted_apart() {
        // Constructed records of each class CloudTrail writes.
        let ev = |t: Option<&str>, src: &str, name: &str| {
            let mut v = serde_json::json!({
                "eventSource": src, "eventName": name, "awsRegion": "us-east-1",
                "userIdentity": {"arn": "arn:aws:iam::111122223333:role/app"},
            });
            if let Some(t) = t {
                v["eventType"] = t.into();
            }
            v.to_string()
        };
        let text = [
            ev(Some("AwsApiCall"), "s3.amazonaws.com", "GetObject"),
            ev(Some("AwsServiceEvent"), "kms.amazonaws.com", "RotateKey"),
            ev(
                Some("AwsConsoleSignIn"),
                "signin.amazonaws.com",
                "ConsoleLogin",
            ),
            ev(
                Some("AwsConsoleAction"),
                "s3.amazonaws.com",
                "ConsoleAction",
            ),
            ev(
                Some("AwsServiceEvent"),
                "kms.amazonaws.com",
                "DeleteExpiredKeyMaterial",
            ),
            r#"{"eventType": "AwsCloudTrailInsight", "insightDetails": {}}"#.to_string(),
            ev(None, "sqs.amazonaws.com", "SendMessage"),
            ev(Some("iamrefCsmCall"), "dynamodb.amazonaws.com", "GetItem"),
        ]
        .join("\n");
        let mut stats = ReadStats::default();
        let mut calls = Vec::new();
        read(
            text.as_bytes(),
            "t.jsonl",
            &Filter::default(),
            &mut stats,
            |c| calls.push(c.operation),
        )
        .unwrap();
        assert_eq!(calls, ["GetObject", "SendMessage", "GetItem"]);
        assert_eq!(stats.records, 8);
        assert_eq!(stats.skipped, 0, "{:?}", stats.skipped_at);
        let classes: Vec<(&str, u64)> = stats
            .other_events
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(
            classes,
            [
                ("AwsCloudTrailInsight", 1),
                ("AwsConsoleAction", 1),
                ("AwsConsoleSignIn", 1),
                ("AwsServiceEvent", 2)
            ]
        );
    }

    #[test]
    fn event_names_and_sources() {
        assert_eq!(operation_of("ListFunctions20150331", None), "ListFunctions");
        assert_eq!(
            operation_of("UpdateFunctionCode20150331v2", None),
            "UpdateFunctionCode"
        );
        assert_eq!(
            operation_of("AssociateAlias2020_05_31", None),
            "AssociateAlias"
        );
        let p = serde_json::json!({"list-type": "2", "bucketName": "b"});
        assert_eq!(operation_of("ListObjects", Some(&p)), "ListObjectsV2");
        assert_eq!(operation_of("ListObjects", None), "ListObjects");
        assert_eq!(operation_of("PutMetricData", None), "PutMetricData");
        assert_eq!(prefix_candidates("s3.amazonaws.com")[0], "s3");
        assert!(prefix_candidates("monitoring.amazonaws.com").contains(&"cloudwatch".to_string()));
        assert_eq!(event_source_for("cloudwatch"), "monitoring.amazonaws.com");
        assert_eq!(event_source_for("states"), "states.amazonaws.com");
    }

    #[test]
    fn arns_from_request_parameters() {
        let obj = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
        let bucket = "arn:${Partition}:s3:::${BucketName}";
        let q = "arn:${Partition}:sqs:${Region}:${Account}:${QueueName}";
        let t = "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}";
        let sm = "arn:${Partition}:states:${Region}:${Account}:stateMachine:${StateMachineName}";
        let stream = "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}";
        let group = "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}";
        let param = "arn:${Partition}:ssm:${Region}:${Account}:parameter/${ParameterNameWithoutLeadingSlash}";
        let secret = "arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}";
        let mut j = arns::Judge::new([obj, bucket, q, t, sm, stream, group, param, secret]);
        let (r, a) = (Some("us-east-1"), Some("123456789012"));
        let p = serde_json::json!({"bucketName": "b1", "key": "dir/k.txt"});
        assert_eq!(
            arn_from_params(obj, &p, r, a, &mut j).as_deref(),
            Some("arn:aws:s3:::b1/dir/k.txt")
        );
        assert_eq!(
            arn_from_params(bucket, &p, r, a, &mut j).as_deref(),
            Some("arn:aws:s3:::b1")
        );
        let p = serde_json::json!({"queueUrl": "https://sqs.eu-west-1.amazonaws.com/210987654321/jobs"});
        assert_eq!(
            arn_from_params(q, &p, Some("eu-west-1"), a, &mut j).as_deref(),
            Some("arn:aws:sqs:eu-west-1:210987654321:jobs")
        );
        let p = serde_json::json!({"tableName": "orders"});
        assert_eq!(
            arn_from_params(t, &p, r, a, &mut j).as_deref(),
            Some("arn:aws:dynamodb:us-east-1:123456789012:table/orders")
        );
        assert_eq!(arn_from_params(t, &p, r, None, &mut j), None);
        let p = serde_json::json!({"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:m"});
        assert_eq!(
            arn_from_params(sm, &p, None, None, &mut j).as_deref(),
            Some("arn:aws:states:us-east-1:123456789012:stateMachine:m")
        );
        // Names with '/': log groups, SSM parameters, secrets.
        let p = serde_json::json!({"logGroupName": "/aws/lambda/fn", "logStreamName": "2026/06/01/[$LATEST]abc"});
        assert_eq!(
            arn_from_params(stream, &p, r, a, &mut j).as_deref(),
            Some("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/fn:log-stream:2026/06/01/[$LATEST]abc")
        );
        assert_eq!(
            arn_from_params(group, &p, r, a, &mut j).as_deref(),
            Some("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/fn")
        );
        let p = serde_json::json!({"name": "/app/prod/db-url", "withDecryption": true});
        assert_eq!(
            arn_from_params(param, &p, r, a, &mut j).as_deref(),
            Some("arn:aws:ssm:us-east-1:123456789012:parameter/app/prod/db-url")
        );
        let p = serde_json::json!({"secretId": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"});
        assert_eq!(
            arn_from_params(secret, &p, r, a, &mut j).as_deref(),
            Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf")
        );
        // A '?' or '${' in a name is text: escaped, never a wildcard or a
        // policy variable; so is a '*' inside an ARN a parameter holds.
        let p = serde_json::json!({"bucketName": "b1", "key": "what?${x}"});
        assert_eq!(
            arn_from_params(obj, &p, r, a, &mut j).as_deref(),
            Some("arn:aws:s3:::b1/what${?}${$}{x}")
        );
        let p = serde_json::json!({"objectArn": "arn:aws:s3:::b1/logs/*.gz"});
        assert_eq!(
            arn_from_params(obj, &p, r, a, &mut j).as_deref(),
            Some("arn:aws:s3:::b1/logs/${*}.gz")
        );
        let p = serde_json::json!({"secretId": "prod/db"});
        assert_eq!(
            arn_from_params(secret, &p, r, a, &mut j).as_deref(),
            Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-??????")
        );
    }

    #[test]
    fn principals_and_times() {
        let role = "arn:aws:iam::123456789012:role/service/app";
        let sess = "arn:aws:sts::123456789012:assumed-role/app/i-0abc";
        assert!(principal_matches(role, Some(sess), None));
        assert!(principal_matches(sess, Some(sess), None));
        assert!(!principal_matches(
            role,
            Some("arn:aws:sts::123456789012:assumed-role/other/x"),
            None
        ));
        assert!(!principal_matches(
            "arn:aws:iam::999999999999:role/app",
            Some(sess),
            None
        ));
        assert!(principal_matches(role, Some("x"), Some(role)));
        assert_eq!(check_time("2026-06-01").unwrap(), "2026-06-01");
        assert_eq!(
            check_time("2026-06-01T10:00:00Z").unwrap(),
            "2026-06-01T10:00:00"
        );
        assert!(check_time("yesterday").is_err());
    }
}
