//! The requests `policy simulate` decides, from their text: a context
//! object (condition keys to a string, number or boolean, or a list of
//! them), one request line of JSON (this command's own shape, or a row of
//! the `calls` command's JSON lines: one request per resource), or the
//! needs of a recording. Pure; [`super::lines`] reads the lines (bounded)
//! and the binary words the errors, escaping the names they carry.

use super::context::Context;
use super::Request;
use serde_json::Value;

/// Why a context object is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    /// Not JSON (1-based line and column).
    #[error("line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the context is a JSON object of condition keys to values")]
    NotObject,
    /// A list of values holding something else than scalars.
    #[error("{key}: values are strings, numbers or booleans")]
    Values { key: String },
    /// A value that is neither a scalar nor a list.
    #[error("{key}: a string or a list of strings")]
    Value { key: String },
}

/// A context from the text of a JSON object.
pub fn context_from_json(text: &str) -> Result<Context, ContextError> {
    let v: Value = serde_json::from_str(text).map_err(|e| ContextError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    context_from_value(&v)
}

/// A context from a JSON object: keys to a string (number, boolean) or a
/// list of them.
pub fn context_from_value(v: &Value) -> Result<Context, ContextError> {
    let Value::Object(m) = v else {
        return Err(ContextError::NotObject);
    };
    let mut c = Context::new();
    for (k, v) in m {
        let scalar = |x: &Value| match x {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        };
        let values = match v {
            Value::Array(a) => a
                .iter()
                .map(scalar)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| ContextError::Values { key: k.clone() })?,
            x => vec![scalar(x).ok_or_else(|| ContextError::Value { key: k.clone() })?],
        };
        c.set(k, values);
    }
    Ok(c)
}

/// What a request line does not say: the principal, the resource's
/// account and the context (a line's own context keys replace these).
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    pub principal: Option<String>,
    pub resource_account: Option<String>,
    pub context: Context,
}

/// Why a request line is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// Not JSON (1-based column).
    #[error("column {column}: {message}")]
    Json { column: usize, message: String },
    /// A CloudTrail record (`eventSource` or `Records`).
    #[error("a CloudTrail record among request lines")]
    CloudTrail,
    #[error("expected an object with \"action\" (and \"resource\", \"principal\", \"resource_account\", \"context\")")]
    NoAction,
    /// A member that must be a string.
    #[error("\"{0}\" must be a string")]
    NotString(&'static str),
    #[error("\"resources\" must be a list of strings")]
    ResourcesNotList,
    #[error("context: {0}")]
    Context(ContextError),
}

/// The requests of one line (trimmed, not empty): one per resource
/// (`resource` and `resources`; `*` when neither), none for a `calls` row
/// needed only in some configurations (not a call the workload made).
pub fn parse_line(line: &str, d: &Defaults) -> Result<Vec<Request>, LineError> {
    // The common shape, read straight into its fields; anything else (an
    // error, a duplicate member, a CloudTrail record, a `calls` row's odd
    // member) is decided by the general reading below, so both give the
    // same answer for every line.
    if let Ok(l) = serde_json::from_str::<Line>(line) {
        if let Some(r) = l.requests(d) {
            return Ok(r);
        }
    }
    parse_value(line, d)
}

/// A request line in its common shape (members it does not name are
/// ignored, as [`parse_value`] ignores them).
#[derive(serde::Deserialize)]
struct Line {
    action: String,
    resource: Option<String>,
    resources: Option<Vec<String>>,
    principal: Option<String>,
    resource_account: Option<String>,
    context: Option<LineContext>,
    needed: Option<String>,
    /// Present at all, `null` too (a CloudTrail record: left to the
    /// general reading).
    #[serde(rename = "eventSource", default, deserialize_with = "present")]
    event_source: bool,
    #[serde(rename = "Records", default, deserialize_with = "present")]
    records: bool,
}

/// A member that is there, whatever its value (`null` included).
fn present<'de, D: serde::Deserializer<'de>>(de: D) -> Result<bool, D::Error> {
    <serde::de::IgnoredAny as serde::Deserialize>::deserialize(de).map(|_| true)
}

impl Line {
    /// `None`: not the common shape (left to [`parse_value`]).
    fn requests(self, d: &Defaults) -> Option<Vec<Request>> {
        if self.event_source || self.records {
            return None;
        }
        if self.needed.as_deref() == Some("conditional") {
            return Some(Vec::new());
        }
        let mut resources: Vec<String> = self.resource.into_iter().collect();
        resources.extend(self.resources.unwrap_or_default());
        let mut context = d.context.clone();
        for (k, vals) in self.context.map(|c| c.0).unwrap_or_default() {
            context.set(&k, vals);
        }
        let principal = self.principal.or_else(|| d.principal.clone());
        let resource_account = self.resource_account.or_else(|| d.resource_account.clone());
        Some(per_resource(
            &self.action,
            resources,
            principal,
            resource_account,
            context,
        ))
    }
}

/// One request per resource (`*` when the line names none), the rest
/// shared.
fn per_resource(
    action: &str,
    mut resources: Vec<String>,
    principal: Option<String>,
    resource_account: Option<String>,
    context: Context,
) -> Vec<Request> {
    if resources.is_empty() {
        resources.push("*".into());
    }
    resources
        .into_iter()
        .map(|resource| Request {
            action: action.to_string(),
            resource,
            principal: principal.clone(),
            resource_account: resource_account.clone(),
            context: context.clone(),
        })
        .collect()
}

/// A line's context in its common shape: keys (no two the same ignoring
/// case) to a scalar or a list of scalars, in the text's order.
struct LineContext(Vec<(String, Vec<String>)>);

impl<'de> serde::Deserialize<'de> for LineContext {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = LineContext;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of condition keys")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<LineContext, A::Error> {
                let mut keys: Vec<(String, Vec<String>)> = Vec::new();
                while let Some(k) = m.next_key::<String>()? {
                    if keys.iter().any(|(x, _)| x.eq_ignore_ascii_case(&k)) {
                        return Err(serde::de::Error::custom("a key twice"));
                    }
                    let Values(v) = m.next_value()?;
                    keys.push((k, v));
                }
                Ok(LineContext(keys))
            }
        }
        de.deserialize_map(Keys)
    }
}

/// One key's values: a scalar (one value) or a list of scalars, worded as
/// [`context_from_value`] words them.
struct Values(Vec<String>);

/// A scalar as [`context_from_value`] words it; lists too when `list`.
struct ScalarVisitor {
    list: bool,
}

impl<'de> serde::de::Visitor<'de> for ScalarVisitor {
    type Value = Vec<String>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string, number or boolean")
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Vec<String>, E> {
        Ok(vec![s.to_string()])
    }
    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Vec<String>, E> {
        Ok(vec![s])
    }
    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Vec<String>, E> {
        Ok(vec![b.to_string()])
    }
    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Vec<String>, E> {
        Ok(vec![serde_json::Number::from(n).to_string()])
    }
    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Vec<String>, E> {
        Ok(vec![serde_json::Number::from(n).to_string()])
    }
    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Vec<String>, E> {
        serde_json::Number::from_f64(n)
            .map(|x| vec![x.to_string()])
            .ok_or_else(|| E::custom("not a finite number"))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Vec<String>, A::Error> {
        if !self.list {
            return Err(serde::de::Error::custom("a list in a list"));
        }
        let mut out = Vec::new();
        while let Some(Scalar(s)) = a.next_element()? {
            out.push(s);
        }
        Ok(out)
    }
}

impl<'de> serde::Deserialize<'de> for Values {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        de.deserialize_any(ScalarVisitor { list: true }).map(Values)
    }
}

/// One scalar of a list of values.
struct Scalar(String);

impl<'de> serde::Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let mut v = de.deserialize_any(ScalarVisitor { list: false })?;
        Ok(Scalar(v.pop().unwrap_or_default()))
    }
}

/// The general reading of a request line, through a JSON value.
fn parse_value(line: &str, d: &Defaults) -> Result<Vec<Request>, LineError> {
    let v: Value = serde_json::from_str(line).map_err(|e| LineError::Json {
        column: e.column(),
        message: e.to_string(),
    })?;
    if v.get("eventSource").is_some() || v.get("Records").is_some() {
        return Err(LineError::CloudTrail);
    }
    if v.get("needed").and_then(Value::as_str) == Some("conditional") {
        return Ok(Vec::new());
    }
    let Some(action) = v.get("action").and_then(Value::as_str) else {
        return Err(LineError::NoAction);
    };
    let text = |k: &'static str| -> Result<Option<String>, LineError> {
        match v.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(LineError::NotString(k)),
        }
    };
    let mut resources: Vec<String> = Vec::new();
    if let Some(r) = text("resource")? {
        resources.push(r);
    }
    match v.get("resources") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for r in list {
                match r.as_str() {
                    Some(s) => resources.push(s.to_string()),
                    None => return Err(LineError::ResourcesNotList),
                }
            }
        }
        Some(_) => return Err(LineError::ResourcesNotList),
    }
    let mut context = d.context.clone();
    match v.get("context") {
        None | Some(Value::Null) => {}
        Some(c) => {
            let more = context_from_value(c).map_err(LineError::Context)?;
            for (k, vals) in more.iter() {
                context.set(k, vals.to_vec());
            }
        }
    }
    let principal = text("principal")?.or_else(|| d.principal.clone());
    let resource_account = text("resource_account")?.or_else(|| d.resource_account.clone());
    Ok(per_resource(
        action,
        resources,
        principal,
        resource_account,
        context,
    ))
}

/// The requests of a recording's needs: each action on each resource it
/// was seen on (`*` when none), with the defaults ([`CallRequests`] gives
/// a trail's calls their own principals, source IPs and regions).
pub fn from_needs<'a>(
    needs: impl IntoIterator<Item = &'a crate::record::Need>,
    d: &Defaults,
) -> Vec<Request> {
    let mut out = Vec::new();
    for n in needs {
        let resources: Vec<String> = if n.resources.is_empty() {
            vec!["*".to_string()]
        } else {
            n.resources.iter().cloned().collect()
        };
        for resource in resources {
            out.push(Request {
                action: n.action.clone(),
                resource,
                principal: d.principal.clone(),
                resource_account: d.resource_account.clone(),
                context: d.context.clone(),
            });
        }
    }
    out
}

/// Who made a call, from where and to which region: what a trail says of
/// each call besides its action and resources.
type Caller = (Option<String>, Option<String>, Option<String>);

/// The requests of a trail's calls, each with its caller: the calls are
/// recorded apart per (principal, source IP, region), so a request carries
/// the principal that made the call, `aws:SourceIp` and
/// `aws:RequestedRegion` (the defaults fill what a record does not say;
/// a record's own values replace them, as a request line's do).
pub struct CallRequests {
    options: crate::record::Options,
    by_caller: std::collections::BTreeMap<Caller, crate::record::Recording>,
}

impl CallRequests {
    pub fn new(options: crate::record::Options) -> CallRequests {
        CallRequests {
            options,
            by_caller: Default::default(),
        }
    }

    /// Record one call under its caller.
    pub fn add(&mut self, idx: &crate::record::ops::OperationIndex, call: &crate::record::Call) {
        let key = (
            call.principal.clone(),
            call.source_ip.clone(),
            call.region.clone(),
        );
        let options = self.options;
        self.by_caller
            .entry(key)
            .or_insert_with(|| crate::record::Recording::new(options))
            .add(idx, call);
    }

    /// Every action the calls always need, on each resource they name,
    /// per caller (in caller order: principal, source IP, region).
    pub fn requests(&self, d: &Defaults) -> Vec<Request> {
        let mut out = Vec::new();
        for ((principal, ip, region), rec) in &self.by_caller {
            let mut own = d.clone();
            if principal.is_some() {
                own.principal.clone_from(principal);
            }
            if let Some(ip) = ip {
                own.context.set("aws:SourceIp", vec![ip.clone()]);
            }
            if let Some(r) = region {
                own.context.set("aws:RequestedRegion", vec![r.clone()]);
            }
            out.extend(from_needs(rec.granted(), &own));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a line reads as, in a comparable form.
    fn read(f: fn(&str, &Defaults) -> Result<Vec<Request>, LineError>, line: &str) -> String {
        let d = Defaults {
            principal: Some("arn:aws:iam::111122223333:role/Default".into()),
            resource_account: None,
            context: context_from_json(r#"{"aws:SourceIp": "10.0.0.1", "aws:userid": "x"}"#)
                .unwrap(),
        };
        format!("{:?}", f(line, &d))
    }

    /// Constructed lines at the edges of the common shape: the direct
    /// reading and the general one agree on each.
    #[test]
    fn the_direct_reading_agrees_with_the_general_one_at_the_edges() {
        for line in [
            r#"{"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}"#,
            r#"{"action": "s3:GetObject"}"#,
            r#"{"action": "s3:GetObject", "resource": null, "resources": null, "context": null}"#,
            r#"{"action": "s3:GetObject", "resource": "a", "resources": ["b", "c"]}"#,
            r#"{"action": "s3:GetObject", "resources": []}"#,
            r#"{"action": "s3:GetObject", "action": "s3:PutObject"}"#,
            r#"{"action": 3}"#,
            r#"{"action": "s3:GetObject", "resource": 3}"#,
            r#"{"action": "s3:GetObject", "resources": ["a", 1]}"#,
            r#"{"action": "s3:GetObject", "resources": "a"}"#,
            r#"{"action": "s3:GetObject", "principal": null, "resource_account": "444455556666"}"#,
            r#"{"action": "s3:GetObject", "principal": ["x"]}"#,
            r#"{"action": "s3:GetObject", "needed": "conditional"}"#,
            r#"{"action": "s3:GetObject", "needed": "always"}"#,
            r#"{"action": "s3:GetObject", "needed": 1}"#,
            r#"{"action": "s3:GetObject", "eventSource": "s3.amazonaws.com"}"#,
            r#"{"Records": []}"#,
            r#"{"action": "s3:GetObject", "eventSource": null}"#,
            r#"{"action": "s3:GetObject", "Records": null}"#,
            r#"{"action": "s3:GetObject", "context": {"aws:SourceIp": "203.0.113.7", "a": 1, "b": -2, "c": 1.5, "d": 1e3, "e": true, "f": ["x", 2, false], "g": []}}"#,
            r#"{"action": "s3:GetObject", "context": {"a": "1", "A": "2", "a": "3"}}"#,
            r#"{"action": "s3:GetObject", "context": {"a": "1", "a": "2"}}"#,
            r#"{"action": "s3:GetObject", "context": {"a": [["x"]]}}"#,
            r#"{"action": "s3:GetObject", "context": {"a": {"b": "c"}}}"#,
            r#"{"action": "s3:GetObject", "context": {"a": null}}"#,
            r#"{"action": "s3:GetObject", "context": {"a": [null]}}"#,
            r#"{"action": "s3:GetObject", "context": []}"#,
            r#"{"action": "s3:GetObject", "context": "x"}"#,
            r#"{"action": "s3:GetObject", "context": {"AWS:SOURCEIP": "1.2.3.4"}}"#,
            r#"{"action": "s3:Get\u004fbject", "resource": "arn:aws:s3:::b/\"k\""}"#,
            r#"{"action": "s3:GetObject", "other": {"deep": [1, 2, {"x": null}]}}"#,
            r#"{"action": "s3:GetObject", "n": 18446744073709551616}"#,
            r#"["s3:GetObject"]"#,
            r#""s3:GetObject""#,
            r#"{"action": "s3:GetObject"} trailing"#,
            r#"{"action": "s3:GetObject""#,
        ] {
            assert_eq!(read(parse_line, line), read(parse_value, line), "{line}");
        }
    }

    fn member() -> impl Strategy<Value = String> {
        let scalar = prop_oneof![
            Just("\"x\"".to_string()),
            Just("\"arn:aws:s3:::b/k\"".to_string()),
            Just("7".to_string()),
            Just("-1.25".to_string()),
            Just("true".to_string()),
            Just("null".to_string()),
        ];
        let value = prop_oneof![
            scalar.clone(),
            prop::collection::vec(scalar.clone(), 0..3).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(
                (
                    prop_oneof![Just("k"), Just("K"), Just("aws:SourceIp"), Just("j")],
                    scalar
                ),
                0..3
            )
            .prop_map(|v| {
                let m: Vec<String> = v.iter().map(|(k, x)| format!("\"{k}\":{x}")).collect();
                format!("{{{}}}", m.join(","))
            }),
        ];
        (
            prop_oneof![
                Just("action"),
                Just("resource"),
                Just("resources"),
                Just("principal"),
                Just("resource_account"),
                Just("context"),
                Just("needed"),
                Just("eventSource"),
                Just("other"),
            ],
            value,
        )
            .prop_map(|(k, v)| format!("\"{k}\":{v}"))
    }

    proptest! {
        /// Lines made of the members a request line has, in any mix of
        /// types: the direct reading never answers otherwise than the
        /// general one.
        #[test]
        fn the_direct_reading_agrees_with_the_general_one(
            members in prop::collection::vec(member(), 0..6),
            action in any::<bool>(),
        ) {
            let mut m = members;
            if action {
                m.insert(0, "\"action\":\"s3:GetObject\"".into());
            }
            let line = format!("{{{}}}", m.join(","));
            prop_assert_eq!(read(parse_line, &line), read(parse_value, &line), "{}", line);
        }
    }

    fn values<'a>(c: &'a Context, k: &str) -> Vec<&'a str> {
        c.get(k)
            .unwrap_or_default()
            .iter()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn contexts_take_scalars_and_lists() {
        let c = context_from_json(
            r#"{"aws:SourceIp": "203.0.113.7", "aws:MultiFactorAuthAge": 30, "aws:SecureTransport": true, "aws:TagKeys": ["a", "b"]}"#,
        )
        .unwrap();
        assert_eq!(values(&c, "aws:sourceip"), ["203.0.113.7"]);
        assert_eq!(values(&c, "aws:MultiFactorAuthAge"), ["30"]);
        assert_eq!(values(&c, "aws:SecureTransport"), ["true"]);
        assert_eq!(values(&c, "aws:TagKeys"), ["a", "b"]);
    }

    #[test]
    fn contexts_refuse_other_shapes() {
        assert_eq!(
            context_from_json("[1]").unwrap_err(),
            ContextError::NotObject
        );
        assert_eq!(
            context_from_json(r#"{"k": [{}]}"#).unwrap_err(),
            ContextError::Values { key: "k".into() }
        );
        assert_eq!(
            context_from_json(r#"{"k": null}"#).unwrap_err(),
            ContextError::Value { key: "k".into() }
        );
        let e = context_from_json("{\n  \"k\": ").unwrap_err();
        assert!(matches!(e, ContextError::Json { line: 2, .. }), "{e:?}");
    }

    #[test]
    fn a_line_is_one_request_per_resource_with_the_defaults() {
        let mut d = Defaults {
            principal: Some("arn:aws:iam::111122223333:user/u".into()),
            resource_account: None,
            context: Context::new(),
        };
        d.context.set("aws:SourceIp", vec!["192.0.2.1".into()]);
        d.context
            .set("aws:RequestedRegion", vec!["us-east-1".into()]);
        let got = parse_line(
            r#"{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k","resources":["arn:aws:s3:::b/j"],"resource_account":"444455556666","context":{"aws:SourceIp":"198.51.100.1"}}"#,
            &d,
        )
        .unwrap();
        let resources: Vec<&str> = got.iter().map(|r| r.resource.as_str()).collect();
        assert_eq!(resources, ["arn:aws:s3:::b/k", "arn:aws:s3:::b/j"]);
        for r in &got {
            assert_eq!(r.action, "s3:GetObject");
            assert_eq!(r.principal, d.principal);
            assert_eq!(r.resource_account.as_deref(), Some("444455556666"));
            // The line's key replaces the default; the others stay.
            assert_eq!(values(&r.context, "aws:SourceIp"), ["198.51.100.1"]);
            assert_eq!(values(&r.context, "aws:RequestedRegion"), ["us-east-1"]);
        }
        let star = parse_line(r#"{"action":"sts:GetCallerIdentity"}"#, &d).unwrap();
        assert_eq!(star.len(), 1);
        assert_eq!(star[0].resource, "*");
        // A `calls` row needed only in some configurations: no request.
        let skip = parse_line(r#"{"action":"kms:Decrypt","needed":"conditional"}"#, &d);
        assert!(skip.unwrap().is_empty());
    }

    #[test]
    fn a_line_that_is_not_a_request() {
        let d = Defaults::default();
        let e = |l: &str| parse_line(l, &d).unwrap_err();
        assert!(matches!(e("{nope"), LineError::Json { column: 2, .. }));
        assert_eq!(
            e(r#"{"eventSource":"s3.amazonaws.com"}"#),
            LineError::CloudTrail
        );
        assert_eq!(e(r#"{"Records":[]}"#), LineError::CloudTrail);
        assert_eq!(e(r#"{"resource":"*"}"#), LineError::NoAction);
        assert_eq!(
            e(r#"{"action":"s3:GetObject","resource":1}"#),
            LineError::NotString("resource")
        );
        assert_eq!(
            e(r#"{"action":"s3:GetObject","principal":[]}"#),
            LineError::NotString("principal")
        );
        assert_eq!(
            e(r#"{"action":"s3:GetObject","resources":"x"}"#),
            LineError::ResourcesNotList
        );
        assert_eq!(
            e(r#"{"action":"s3:GetObject","resources":[1]}"#),
            LineError::ResourcesNotList
        );
        assert_eq!(
            e(r#"{"action":"s3:GetObject","context":[]}"#),
            LineError::Context(ContextError::NotObject)
        );
    }

    #[test]
    fn needs_become_requests_per_resource() {
        // Constructed needs (not a real recording).
        let need = |action: &str, resources: &[&str]| {
            crate::record::Need::constructed(action, resources, true)
        };
        let needs = [
            need("s3:GetObject", &["arn:aws:s3:::b/k", "arn:aws:s3:::b/j"]),
            need("sts:GetCallerIdentity", &[]),
        ];
        let d = Defaults {
            principal: Some("123456789012".into()),
            ..Defaults::default()
        };
        let got: Vec<(String, String)> = from_needs(&needs, &d)
            .into_iter()
            .map(|r| {
                assert_eq!(r.principal.as_deref(), Some("123456789012"));
                (r.action, r.resource)
            })
            .collect();
        assert_eq!(
            got,
            [
                ("s3:GetObject".to_string(), "arn:aws:s3:::b/j".to_string()),
                ("s3:GetObject".to_string(), "arn:aws:s3:::b/k".to_string()),
                ("sts:GetCallerIdentity".to_string(), "*".to_string()),
            ]
        );
    }
}
