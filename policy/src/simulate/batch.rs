//! A batch of requests decided and explained, as `policy simulate` prints
//! them: each request evaluated ([`super::evaluate_with`], in parallel a
//! chunk at a time: the evaluation is pure), then explained in order with
//! what the reference says ([`super::knowledge`]) and, when denied, the
//! fix ([`super::fix`]), both memoized per action, resource and resource
//! type (a batch repeats them); the answer is a [`Row`], and
//! [`write_row`] gives a row's JSON line fast, byte for byte what
//! `serde_json::to_writer` writes. The binary reads the inputs and
//! prints.

use super::fix::{fix, writer_statement, Fix};
use super::knowledge::{about_action, about_resource, quick_type, ActionFormats, Knowledge};
use super::{
    evaluate_with, Decision, Layer, Options, Outcome, Policies, PolicyType, Request, Trace,
};
use crate::arn::Matcher;
use crate::catalog::Catalog;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// Requests decided at a time, in parallel (also request lines read at a
/// time, [`super::lines`]).
pub const CHUNK: usize = 512;

/// One request's answer, as printed.
#[derive(Debug, Serialize)]
pub struct Row {
    /// The request's line in the request lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub action: String,
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    pub decision: Decision,
    pub blocked_by: Vec<PolicyType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    pub cross_account: bool,
    pub layers: Vec<Layer>,
    pub statements: Vec<Trace>,
    /// In a batch: statements not naming the action (not listed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_statements: Option<usize>,
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

impl Row {
    fn new(
        line: Option<usize>,
        batch: bool,
        r: &Request,
        o: Outcome,
        k: Knowledge,
        fix: Option<Fix>,
    ) -> Row {
        let mut notes = o.notes;
        notes.extend(k.notes);
        Row {
            line,
            action: r.action.clone(),
            resource: r.resource.clone(),
            principal: r.principal.clone(),
            decision: o.decision,
            blocked_by: o.blocked_by,
            resource_type: k.resource_type,
            cross_account: o.cross_account,
            layers: o.layers,
            statements: o.statements,
            other_statements: batch.then_some(o.other_statements),
            notes,
            fix,
        }
    }

    /// The row without its layers, statements and notes (what a batch's
    /// table keeps).
    pub fn brief(self) -> Row {
        Row {
            statements: Vec::new(),
            layers: Vec::new(),
            notes: Vec::new(),
            ..self
        }
    }
}

/// The services a batch's catalog needs: the actions' services, and the
/// services owning the ARNs' namespaces (the type an ARN resolves to is
/// its owner's), lower case, sorted, each once.
pub fn catalog_prefixes<'a>(requests: impl IntoIterator<Item = &'a Request>) -> Vec<String> {
    let mut prefixes: Vec<String> = requests
        .into_iter()
        .flat_map(|r| {
            let action = r.action.split_once(':').map(|p| p.0);
            let arn = r
                .resource
                .split(':')
                .nth(2)
                .filter(|_| r.resource.starts_with("arn:"));
            action.into_iter().chain(arn)
        })
        .map(str::to_ascii_lowercase)
        .filter(|p| !p.is_empty() && !p.contains(['*', '?', '$']))
        .collect();
    prefixes.sort();
    prefixes.dedup();
    prefixes
}

/// Requests decided and explained over one catalog, with what the
/// reference says and the fixes remembered per action and resource.
pub struct Batch<'a> {
    cat: &'a Catalog,
    policies: &'a Policies,
    /// A batch (request lines): per request, the statements naming its
    /// action (the others counted), and `other_statements` in its row; one
    /// request lists them all.
    batch: bool,
    opts: Options,
    m: Matcher,
    by_action: HashMap<String, Vec<String>>,
    by_resource: HashMap<(String, String), Knowledge>,
    formats_of: HashMap<String, ActionFormats>,
    templates: HashMap<(String, String), Option<Value>>,
    quick_of: HashMap<(String, String), Option<String>>,
    denied: usize,
}

impl<'a> Batch<'a> {
    pub fn new(cat: &'a Catalog, policies: &'a Policies, batch: bool) -> Batch<'a> {
        Batch {
            cat,
            policies,
            batch,
            opts: Options {
                all_statements: !batch,
            },
            m: Matcher::new(),
            by_action: HashMap::new(),
            by_resource: HashMap::new(),
            formats_of: HashMap::new(),
            templates: HashMap::new(),
            quick_of: HashMap::new(),
            denied: 0,
        }
    }

    /// How many requests decided so far were denied.
    pub fn denied(&self) -> usize {
        self.denied
    }

    /// The rows of some requests (at most [`CHUNK`] at a time keeps the
    /// memory of a batch bounded), in order: decided in parallel, then
    /// explained in order with the caches.
    pub fn decide(&mut self, chunk: &[(Option<usize>, Request)]) -> Vec<Row> {
        let (policies, opts) = (self.policies, self.opts);
        let outcomes: Vec<Outcome> = chunk
            .par_iter()
            .map(|(_, r)| evaluate_with(policies, r, opts))
            .collect();
        let cat = self.cat;
        let mut chunk_rows = Vec::with_capacity(chunk.len());
        for ((line, r), o) in chunk.iter().zip(outcomes) {
            let key = (r.action.clone(), r.resource.clone());
            // A concrete ARN of a type the action takes: read from its text
            // (a batch meets many); anything else through the catalog.
            // A batch repeats its (action, resource) pairs: each is read once.
            let quick = match self.quick_of.get(&key) {
                Some(t) => t.clone(),
                None => {
                    let m = &mut self.m;
                    let formats = self
                        .formats_of
                        .entry(r.action.clone())
                        .or_insert_with(|| ActionFormats::new(cat, m, &r.action));
                    let t = quick_type(formats, &r.resource);
                    self.quick_of.insert(key.clone(), t.clone());
                    t
                }
            };
            let mut k = match quick {
                Some(t) => Knowledge {
                    resource_type: Some(t),
                    notes: Vec::new(),
                },
                None => {
                    let m = &mut self.m;
                    self.by_resource
                        .entry(key.clone())
                        .or_insert_with(|| about_resource(cat, m, policies, r))
                        .clone()
                }
            };
            k.notes.extend(
                self.by_action
                    .entry(r.action.clone())
                    .or_insert_with(|| about_action(cat, policies, &r.action))
                    .iter()
                    .cloned(),
            );
            if o.decision != Decision::Allowed {
                self.denied += 1;
            }
            let templates = &mut self.templates;
            let fix = (o.decision != Decision::Allowed).then(|| {
                // The writer's statement for a concrete ARN of a type the
                // action takes is that ARN: one writer call per action and
                // type, the ARN put in (else one call per resource).
                let ty = k.resource_type.clone();
                fix(&o.blocked_by, o.decision, || {
                    let concrete = !r.resource.contains(['*', '?']) && !r.resource.contains("${");
                    match ty.filter(|_| concrete) {
                        Some(t) => {
                            let tkey = (r.action.clone(), t);
                            if let Some(Some(tpl)) = templates.get(&tkey) {
                                let mut st: Value = tpl.clone();
                                st["Resource"] = Value::String(r.resource.clone());
                                return Some(st);
                            }
                            let st = writer_statement(cat, &r.action, Some(&r.resource));
                            let exact = st
                                .as_ref()
                                .is_some_and(|s| s["Resource"] == r.resource.as_str());
                            if exact {
                                templates.insert(tkey, st.clone());
                            }
                            st
                        }
                        None => writer_statement(cat, &r.action, Some(&r.resource)),
                    }
                })
            });
            chunk_rows.push(Row::new(*line, self.batch, r, o, k, fix));
        }
        chunk_rows
    }
}

/// The decision of a whole batch: an explicit deny if any row has one,
/// else an implicit deny if any was denied, else allowed.
pub fn overall(rows: &[Row], denied: usize) -> Decision {
    if rows.iter().any(|r| r.decision == Decision::ExplicitDeny) {
        Decision::ExplicitDeny
    } else if denied > 0 {
        Decision::ImplicitDeny
    } else {
        Decision::Allowed
    }
}

/// The JSON lines of some rows, each ending in a newline, written in
/// parallel, in order.
pub fn json_lines(rows: &[Row]) -> serde_json::Result<Vec<Vec<u8>>> {
    rows.par_iter()
        .map(|row| {
            let mut b = Vec::with_capacity(4096);
            write_row(&mut b, row).map(|()| {
                b.push(b'\n');
                b
            })
        })
        .collect()
}

/// A batch row as one JSON line, exactly as `serde_json::to_writer` writes
/// it (the same members, order and escapes; the tests compare the two),
/// without its per-byte escaping of every member name: a batch's output
/// is mostly names and short strings. Rare parts go through serde_json.
pub fn write_row(b: &mut Vec<u8>, row: &Row) -> serde_json::Result<()> {
    b.push(b'{');
    if let Some(l) = row.line {
        b.extend_from_slice(b"\"line\":");
        num(b, l);
        b.push(b',');
    }
    b.extend_from_slice(b"\"action\":");
    text(b, &row.action);
    b.extend_from_slice(b",\"resource\":");
    text(b, &row.resource);
    if let Some(p) = &row.principal {
        b.extend_from_slice(b",\"principal\":");
        text(b, p);
    }
    b.extend_from_slice(b",\"decision\":\"");
    b.extend_from_slice(row.decision.as_str().as_bytes());
    b.extend_from_slice(b"\",\"blocked_by\":[");
    for (i, t) in row.blocked_by.iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        b.push(b'"');
        b.extend_from_slice(t.as_str().as_bytes());
        b.push(b'"');
    }
    b.push(b']');
    if let Some(t) = &row.resource_type {
        b.extend_from_slice(b",\"resource_type\":");
        text(b, t);
    }
    b.extend_from_slice(if row.cross_account {
        b",\"cross_account\":true,\"layers\":["
    } else {
        b",\"cross_account\":false,\"layers\":["
    });
    for (i, l) in row.layers.iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        layer_head(b, l.policy_type.as_str(), l.level);
        b.extend_from_slice(b",\"state\":\"");
        b.extend_from_slice(l.state.as_str().as_bytes());
        b.extend_from_slice(b"\"}");
    }
    b.extend_from_slice(b"],\"statements\":[");
    for (i, t) in row.statements.iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        write_trace(b, t)?;
    }
    b.push(b']');
    if let Some(n) = row.other_statements {
        b.extend_from_slice(b",\"other_statements\":");
        num(b, n);
    }
    b.extend_from_slice(b",\"notes\":[");
    for (i, n) in row.notes.iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        text(b, n);
    }
    b.push(b']');
    if let Some(f) = &row.fix {
        b.extend_from_slice(b",\"fix\":");
        serde_json::to_writer(&mut *b, f)?;
    }
    b.push(b'}');
    Ok(())
}

/// `{"policy_type":"T"` and `,"level":N` when there is one: how a layer
/// and a statement trace begin.
fn layer_head(b: &mut Vec<u8>, policy_type: &str, level: Option<usize>) {
    b.extend_from_slice(b"{\"policy_type\":\"");
    b.extend_from_slice(policy_type.as_bytes());
    b.push(b'"');
    if let Some(level) = level {
        b.extend_from_slice(b",\"level\":");
        num(b, level);
    }
}

fn write_trace(b: &mut Vec<u8>, t: &Trace) -> serde_json::Result<()> {
    layer_head(b, t.policy_type.as_str(), t.level);
    b.extend_from_slice(b",\"file\":");
    text(b, &t.file);
    if let Some(p) = t.policy {
        b.extend_from_slice(b",\"policy\":");
        num(b, p);
    }
    b.extend_from_slice(b",\"index\":");
    num(b, t.index);
    if let Some(s) = &t.sid {
        b.extend_from_slice(b",\"sid\":");
        text(b, s);
    }
    b.extend_from_slice(b",\"line\":");
    num(b, t.line as usize);
    b.extend_from_slice(b",\"column\":");
    num(b, t.column as usize);
    b.extend_from_slice(b",\"effect\":");
    text(b, t.effect);
    b.extend_from_slice(if t.applied {
        b",\"applied\":true"
    } else {
        b",\"applied\":false"
    });
    if let Some(n) = &t.named {
        b.extend_from_slice(b",\"named\":");
        serde_json::to_writer(&mut *b, n)?;
    }
    if let Some(f) = &t.failed {
        b.extend_from_slice(b",\"failed\":{\"element\":");
        text(b, f.element);
        b.extend_from_slice(b",\"line\":");
        num(b, f.line as usize);
        b.extend_from_slice(b",\"column\":");
        num(b, f.column as usize);
        b.extend_from_slice(b",\"detail\":");
        text(b, &f.detail);
        if let Some(c) = &f.condition {
            b.extend_from_slice(b",\"condition\":");
            serde_json::to_writer(&mut *b, c)?;
        }
        b.push(b'}');
    }
    b.push(b'}');
    Ok(())
}

/// A number in decimal (as serde_json writes it).
fn num(b: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    b.extend_from_slice(&digits[i..]);
}

/// A JSON string, as serde_json writes it: plain text (most of a batch)
/// copied as is, anything with a character to escape through serde_json.
fn text(b: &mut Vec<u8>, s: &str) {
    // No branch per byte: most strings need no escape.
    let plain = s
        .bytes()
        .fold(true, |ok, c| ok & (c >= 0x20) & (c != b'"') & (c != b'\\'));
    if plain {
        b.push(b'"');
        b.extend_from_slice(s.as_bytes());
        b.push(b'"');
    } else {
        // Writing a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *b, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::condition::Failed;
    use crate::simulate::principal::Named;
    use crate::simulate::{Failure, State};

    /// Constructed strings at the edges of JSON's escapes.
    const ODD: [&str; 7] = [
        "",
        "plain arn:aws:s3:::b/k",
        "quote \" and back\\slash",
        "controls \u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f} end",
        "unicode é ✓ \u{7f} \u{2028} 🦀",
        "\"",
        "\\",
    ];

    fn trace(i: usize, s: &str) -> Trace {
        Trace {
            policy_type: PolicyType::Scp,
            level: (i.is_multiple_of(2)).then_some(i),
            file: (*s).into(),
            policy: (i.is_multiple_of(3)).then_some(i * 7),
            index: i,
            sid: (i % 2 == 1).then(|| s.to_string()),
            line: 4_000_000_000,
            column: i as u32,
            effect: if i.is_multiple_of(2) { "Allow" } else { "Deny" },
            applied: i.is_multiple_of(2),
            named: (i.is_multiple_of(4)).then_some(Named::Session),
            failed: (i % 2 == 1).then(|| Failure {
                element: "Condition",
                line: 0,
                column: 10,
                detail: s.to_string(),
                condition: (i % 3 == 1).then(|| Failed {
                    operator: s.into(),
                    key: "aws:SourceIp".into(),
                    expected: vec![s.into(), "x".into()],
                    actual: (i % 5 == 1).then(|| vec![s.to_string()]),
                    why: s.into(),
                }),
            }),
        }
    }

    #[test]
    fn a_row_written_by_hand_is_what_serde_json_writes() {
        for (i, s) in ODD.iter().enumerate() {
            for variant in 0..4usize {
                let some = variant.is_multiple_of(2);
                let row = Row {
                    line: some.then_some(usize::MAX - i),
                    action: s.to_string(),
                    resource: format!("arn:aws:s3:::{s}"),
                    principal: some.then(|| s.to_string()),
                    decision: [
                        Decision::Allowed,
                        Decision::ImplicitDeny,
                        Decision::ExplicitDeny,
                    ][variant % 3],
                    blocked_by: vec![PolicyType::Identity, PolicyType::Boundary][..variant % 3]
                        .to_vec(),
                    resource_type: (!some).then(|| s.to_string()),
                    cross_account: variant == 1,
                    layers: (0..variant)
                        .map(|l| Layer {
                            policy_type: PolicyType::Rcp,
                            level: (l.is_multiple_of(2)).then_some(l),
                            state: State::NoImpact,
                        })
                        .collect(),
                    statements: (0..variant * 3).map(|k| trace(k + i, s)).collect(),
                    other_statements: (variant < 2).then_some(variant * 1000),
                    notes: vec![s.to_string(); variant],
                    fix: (variant == 3).then(|| Fix {
                        message: s.to_string(),
                        statement: some.then(|| serde_json::json!({"Resource": s})),
                    }),
                };
                let mut b = Vec::new();
                write_row(&mut b, &row).unwrap();
                let want = serde_json::to_vec(&row).unwrap();
                assert_eq!(
                    String::from_utf8_lossy(&b),
                    String::from_utf8_lossy(&want),
                    "string {i}, variant {variant}"
                );
            }
        }
    }
}
