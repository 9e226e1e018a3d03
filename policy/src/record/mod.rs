//! Recording what a workload calls, and turning it into needs: the IAM
//! actions (with resources) a policy must grant.
//!
//! Two sources feed one [`Recording`]:
//! - [`csm`]: SDK client-side monitoring datagrams (`iamref record`);
//! - [`cloudtrail`]: CloudTrail logs (`iamref calls`,
//!   `iamref policy write --from-cloudtrail`).
//!
//! Each becomes a [`Call`]; [`Recording::add`] maps it through the
//! dataset's operations ([`ops`]) and the service-ID table
//! ([`service_ids`]) and keeps what it needs as [`Need`]s. Nothing here
//! does I/O except reading from a `Read` the caller hands in.

pub mod arns;
pub mod body;
pub mod cloudtrail;
pub mod csm;
pub mod input;
pub mod log;
pub mod ops;
pub mod proxy;
pub mod request;
pub mod service_ids;
pub mod to_policy;

use ops::{Class, OpEntry, OperationIndex};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One IAM action a recorded workload needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Need {
    /// `prefix:Name`, as the dataset writes it.
    pub action: String,
    /// ARNs or ARN patterns to grant it on (`"*"` for actions without
    /// resource types): concrete ARNs from CloudTrail, else patterns scoped
    /// to the calls' region and account (`arn:aws:sqs:us-east-1:123456789012:*`).
    pub resources: BTreeSet<String>,
    /// True when no call always needs it: only some parameters or
    /// configurations do ("may also need"); granted only on request.
    pub conditional: bool,
    /// Why it is conditional, denials ("denied: needs …"), failures.
    pub notes: BTreeSet<String>,
    /// The calls (`prefix:Operation`) that need it.
    pub calls: BTreeSet<String>,
    pub access_level: Option<String>,
    /// Whether the action is defined in the dataset.
    pub known: bool,
    /// Needed only in this context: every call needing it set these
    /// condition-key values (iam:PassRole from lambda:CreateFunction:
    /// `iam:PassedToService` = `lambda.amazonaws.com`); `None` when some
    /// call needs it in no particular context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<crate::write::ContextValues>,
}

/// One action covering some calls: a row of `iamref calls` (its JSON
/// output; the needs table `policy write` reads back).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CallsRow {
    /// `prefix:Action`.
    pub action: String,
    pub access_level: Option<String>,
    /// The input calls (`prefix:Operation`) that need it, sorted.
    pub needed_by: Vec<String>,
    /// Whether the action is defined in the dataset.
    pub known: bool,
    /// `always`, or `conditional` when only some parameters or
    /// configurations of the calls need it ("may also need").
    pub needed: String,
    /// ARNs from the CloudTrail records (resources[] and request
    /// parameters), else patterns scoped to their region and account;
    /// `*` for actions without resource types; empty for call lists.
    pub resources: Vec<String>,
    /// Why it is conditional; denials ("denied: needs ...").
    pub notes: Vec<String>,
    /// Condition-key values every call needing it sets (AWS's `Context`:
    /// iam:PassRole from lambda:CreateFunction has `iam:PassedToService`
    /// = `lambda.amazonaws.com`); empty when some call sets none.
    #[serde(default)]
    pub context: BTreeMap<String, Vec<String>>,
}

impl CallsRow {
    /// The row of a need; `with_resources` false (a list of calls names
    /// no resource) leaves the resources empty.
    pub fn of(n: &Need, with_resources: bool) -> CallsRow {
        CallsRow {
            action: n.action.clone(),
            access_level: n.access_level.clone(),
            needed_by: iamref_dataset::names::sorted_unique(n.calls.iter().cloned().collect()),
            known: n.known,
            needed: if n.conditional {
                "conditional"
            } else {
                "always"
            }
            .to_string(),
            resources: if with_resources {
                n.resources.iter().cloned().collect()
            } else {
                Vec::new()
            },
            notes: n.notes.iter().cloned().collect(),
            context: n
                .context
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                .collect(),
        }
    }
}

#[cfg(test)]
impl Need {
    /// A constructed need (tests, not a recording): always needed, in no
    /// particular context, by no named call.
    pub(crate) fn constructed<S: AsRef<str>>(action: &str, resources: &[S], known: bool) -> Need {
        Need {
            action: action.into(),
            resources: resources.iter().map(|r| r.as_ref().to_string()).collect(),
            conditional: false,
            notes: BTreeSet::new(),
            calls: BTreeSet::new(),
            access_level: None,
            known,
            context: None,
        }
    }
}

/// How a call names its service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceRef {
    /// An SDK service ID (CSM): `SFN`, `CloudWatch Logs`.
    SdkId(String),
    /// An IAM prefix: `states`.
    Prefix(String),
    /// A CloudTrail event source: `states.amazonaws.com`.
    EventSource(String),
}

impl ServiceRef {
    pub fn as_str(&self) -> &str {
        match self {
            ServiceRef::SdkId(s) | ServiceRef::Prefix(s) | ServiceRef::EventSource(s) => s,
        }
    }
}

/// One API call, from either source.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Call {
    /// Where it was read: `datagram 12`, `trail.json: record 3 (line 40)`.
    pub at: String,
    pub service: Option<ServiceRef>,
    pub operation: String,
    pub region: Option<String>,
    pub account: Option<String>,
    /// Final HTTP status, when known.
    pub status: Option<u16>,
    /// Error code (`AccessDenied`, `NoSuchKey`), when the call failed.
    pub error: Option<String>,
    /// The action an AccessDenied message names.
    pub denied_action: Option<String>,
    /// Concrete resource ARNs the record names (CloudTrail `resources[]`).
    pub resources: Vec<String>,
    /// CloudTrail `requestParameters`.
    pub params: Option<serde_json::Value>,
    /// CloudTrail `responseElements` (what the call created: EC2's
    /// `groupId`, `instancesSet`).
    pub response: Option<serde_json::Value>,
    /// ISO 8601 time.
    pub time: Option<String>,
    /// Who called: CloudTrail's `userIdentity.arn` (a session's ARN for an
    /// assumed role).
    pub principal: Option<String>,
    /// The caller's IP address (CloudTrail's `sourceIPAddress` when it is
    /// one, not a service name or `AWS Internal`).
    pub source_ip: Option<String>,
    /// Why the request body (seen by the proxy) was not read, or not all
    /// of it: members it holds may be missing from `params`.
    pub unread_body: Option<String>,
}

impl Call {
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.status.is_some_and(|s| s >= 400)
    }

    pub fn denied(&self) -> bool {
        self.error.as_deref().is_some_and(csm::is_access_denied)
            || (self.error.is_none() && self.status == Some(403))
    }
}

/// Options of a recording.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Grant conditional actions too.
    pub include_conditional: bool,
    /// Grant the actions of failed calls (denied calls always count).
    pub include_errors: bool,
}

/// A call that mapped to no action, listed (never dropped or guessed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmapped {
    pub call: String,
    pub reason: String,
    pub count: u64,
    /// Where it was first seen.
    pub first_at: String,
}

/// A failed call (kept with its status).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub call: String,
    pub error: String,
    pub status: Option<u16>,
    pub count: u64,
    /// "denied: needs ACTION" for AccessDenied-family errors.
    pub note: Option<String>,
}

/// Counters of a recording.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub calls: u64,
    pub mapped: u64,
    pub unmapped: u64,
    /// Calls that need no permission (`sts:GetCallerIdentity`).
    pub no_permission: u64,
    pub failed: u64,
    pub denied: u64,
    /// Failed calls left out of the policy (without `include_errors`).
    pub skipped_errors: u64,
    /// Mapped calls with an action that takes resources.
    pub resource_calls: u64,
    /// Those whose resources were resolved to concrete ARNs.
    pub resolved: u64,
}

/// What happened to one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Mapped; the actions that became newly needed (granted ones).
    Mapped {
        call: String,
        new: Vec<String>,
    },
    NoPermission {
        call: String,
        note: &'static str,
    },
    Unmapped {
        call: String,
        reason: String,
    },
}

/// Needs accumulated from calls.
#[derive(Debug, Default)]
pub struct Recording {
    pub options: Options,
    needs: BTreeMap<String, Need>,
    unmapped: BTreeMap<String, Unmapped>,
    no_permission: BTreeMap<String, (&'static str, u64)>,
    failures: BTreeMap<(String, String), Failure>,
    /// Resolved calls, by service and operation as written: a log repeats
    /// the same few calls.
    resolved: std::collections::HashMap<(String, String), Result<(String, String), String>>,
    /// Per conditional need (lowercase action), the resources only calls
    /// that may need it named: dropped when a call needs it.
    may_resources: std::collections::HashMap<String, BTreeSet<String>>,
    /// Which resources are whose (made from the index on first use).
    judge: Option<arns::Judge>,
    /// Calls whose request body was not read (or not all of it), and the
    /// first [`SHOW_UNREAD`] of them: where, which call, why.
    unread_bodies: u64,
    unread: Vec<String>,
    pub stats: Stats,
}

/// How many calls with an unread body [`Recording::unread_bodies`] names.
pub const SHOW_UNREAD: usize = 20;

/// The key of a need: the action (lowercase) and the context it is needed
/// in, so needs sort by action, then context.
fn need_key(action: &str, ctx: Option<&crate::write::ContextValues>) -> String {
    let mut k = action.to_ascii_lowercase();
    for (key, values) in ctx.into_iter().flatten() {
        k.push('\u{1f}');
        k.push_str(&key.to_ascii_lowercase());
        for v in values {
            k.push('\u{1e}');
            k.push_str(v);
        }
    }
    k
}

/// Resolve a call to its operation, or say why not.
pub fn resolve<'i>(idx: &'i OperationIndex, call: &Call) -> Result<&'i OpEntry, String> {
    let op = service_ids::strip_api_version(call.operation.trim());
    match &call.service {
        None => Err("the call names no service".into()),
        Some(ServiceRef::SdkId(id)) => match service_ids::lookup(id) {
            Some(row) => {
                let found = idx.by_client(row.client, op);
                let pick = found
                    .iter()
                    .find(|o| Some(o.prefix.as_str()) == row.iam_prefix)
                    .or(found.first())
                    .copied();
                if let Some(o) = pick {
                    return Ok(o);
                }
                match row.iam_prefix.and_then(|p| idx.operation(p, op)) {
                    Some(o) => Ok(o),
                    None => Err(unknown_op(idx, row.iam_prefix, op, id)),
                }
            }
            None => {
                let guess: String = id.to_ascii_lowercase().replace(' ', "");
                match idx.operation(&guess, op) {
                    Some(o) => Ok(o),
                    None => Err(format!(
                        "unknown SDK service ID {id:?}: not in the service-ID table (regenerate it with tools/gen_service_ids.py)"
                    )),
                }
            }
        },
        Some(ServiceRef::Prefix(p)) => match idx.operation(p, op) {
            Some(o) => Ok(o),
            None if idx.prefix(p).is_none() => Err(format!("unknown service prefix {p:?}")),
            None => Err(unknown_op(idx, Some(p), op, p)),
        },
        Some(ServiceRef::EventSource(src)) => {
            let cands = cloudtrail::prefix_candidates(src);
            for p in &cands {
                if let Some(o) = idx.operation(p, op) {
                    return Ok(o);
                }
            }
            match cands.iter().find(|p| idx.prefix(p).is_some()) {
                Some(p) => Err(unknown_op(idx, Some(p), op, src)),
                None => Err(format!(
                    "event source {src:?} does not map to a known service prefix (tried {})",
                    cands.join(", ")
                )),
            }
        }
    }
}

fn unknown_op(idx: &OperationIndex, prefix: Option<&str>, op: &str, service: &str) -> String {
    let Some(p) = prefix else {
        return format!("{service}: no IAM prefix in the dataset for this SDK service");
    };
    let names = idx.operation_names(p);
    if names.is_empty() {
        return format!(
            "{p}:{op}: the dataset has no API operations for {p} (its JSON service reference lists none)"
        );
    }
    let lower = op.to_ascii_lowercase();
    let mut close: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| {
            let n = n.to_ascii_lowercase();
            lower.len() >= 4 && (n.starts_with(&lower) || lower.starts_with(&n))
        })
        .take(3)
        .collect();
    close.sort_unstable();
    if close.is_empty() {
        format!("{p}:{op}: unknown API operation")
    } else {
        format!(
            "{p}:{op}: unknown API operation; did you mean {}?",
            close.join(", ")
        )
    }
}

impl Recording {
    pub fn new(options: Options) -> Recording {
        Recording {
            options,
            ..Default::default()
        }
    }

    /// Map one call and keep what it needs.
    pub fn add(&mut self, idx: &OperationIndex, call: &Call) -> Outcome {
        self.stats.calls += 1;
        let key = (
            call.service
                .as_ref()
                .map(|s| format!("{s:?}"))
                .unwrap_or_default(),
            call.operation.clone(),
        );
        let found = match self.resolved.get(&key) {
            Some(r) => r.clone(),
            None => {
                let r = resolve(idx, call).map(|e| (e.prefix.clone(), e.name.clone()));
                if self.resolved.len() < 100_000 {
                    self.resolved.insert(key, r.clone());
                }
                r
            }
        };
        let entry = match found.and_then(|(p, n)| {
            idx.operation(&p, &n)
                .ok_or_else(|| format!("{p}:{n}: not in the index"))
        }) {
            Ok(e) => e,
            Err(reason) => {
                self.stats.unmapped += 1;
                let key = format!(
                    "{}:{}",
                    call.service.as_ref().map(ServiceRef::as_str).unwrap_or("?"),
                    call.operation
                );
                let u = self
                    .unmapped
                    .entry(key.clone())
                    .or_insert_with(|| Unmapped {
                        call: key.clone(),
                        reason: reason.clone(),
                        count: 0,
                        first_at: call.at.clone(),
                    });
                u.count += 1;
                self.note_unread(call, &key);
                return Outcome::Unmapped { call: key, reason };
            }
        };
        let name = format!("{}:{}", entry.prefix, entry.name);
        self.note_unread(call, &name);
        if let Some(note) = ops::no_permission(&entry.prefix, &entry.name) {
            self.stats.no_permission += 1;
            self.no_permission
                .entry(name.clone())
                .or_insert((note, 0))
                .1 += 1;
            return Outcome::NoPermission { call: name, note };
        }
        if entry.actions.is_empty() {
            self.stats.unmapped += 1;
            let reason = "the reference names no IAM action for this operation".to_string();
            let u = self
                .unmapped
                .entry(name.clone())
                .or_insert_with(|| Unmapped {
                    call: name.clone(),
                    reason: reason.clone(),
                    count: 0,
                    first_at: call.at.clone(),
                });
            u.count += 1;
            return Outcome::Unmapped { call: name, reason };
        }
        self.stats.mapped += 1;
        let failed = call.failed();
        let denied = failed && call.denied();
        let mut denied_note = None;
        if failed {
            self.stats.failed += 1;
            let error = call
                .error
                .clone()
                .unwrap_or_else(|| format!("HTTP {}", call.status.unwrap_or(0)));
            if denied {
                self.stats.denied += 1;
                let needs = call.denied_action.clone().unwrap_or_else(|| {
                    entry
                        .actions
                        .iter()
                        .filter(|a| a.class == Class::Always)
                        .map(|a| a.action.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                });
                denied_note = Some(format!("denied: needs {needs}"));
            }
            let f = self
                .failures
                .entry((name.clone(), error.clone()))
                .or_insert_with(|| Failure {
                    call: name.clone(),
                    error: error.clone(),
                    status: call.status,
                    count: 0,
                    note: denied_note.clone(),
                });
            f.count += 1;
        }
        if failed && !denied && !self.options.include_errors {
            self.stats.skipped_errors += 1;
            return Outcome::Mapped {
                call: name,
                new: Vec::new(),
            };
        }
        let mut new = Vec::new();
        let mut takes_resources = false;
        let mut resolved = false;
        let facts = request::facts(entry, call);
        for a in &entry.actions {
            let info = idx.action(&a.action);
            let resources = match info {
                Some(i) if !i.resource_types.is_empty() => {
                    takes_resources = true;
                    let judge = self
                        .judge
                        .get_or_insert_with(|| arns::Judge::new(idx.formats()));
                    let created = request::created_arns(a, &facts, i, call);
                    let (r, concrete) = if created.is_empty() {
                        let listed = request::listed_for(a, call, &facts);
                        match request::element_params(a, &facts) {
                            // One resource per element (DeleteObjects' keys).
                            Some(sets) => {
                                let mut all = BTreeSet::new();
                                let mut concrete = false;
                                for p in sets {
                                    let (r, c) =
                                        resources_for(i, call, &listed, Some(p), &a.members, judge);
                                    all.extend(r);
                                    concrete |= c;
                                }
                                (all, concrete)
                            }
                            None => {
                                let params = request::params_for(a, call, &facts);
                                resources_for(
                                    i,
                                    call,
                                    &listed,
                                    params.as_deref(),
                                    &a.members,
                                    judge,
                                )
                            }
                        }
                    } else {
                        (created.into_iter().collect(), true)
                    };
                    resolved |= concrete;
                    r
                }
                _ => BTreeSet::from(["*".to_string()]),
            };
            // A conditional action the call's request asks for (the role
            // member it sends, the version its copy source names) is
            // needed by this call.
            let conditional =
                matches!(a.class, Class::Conditional(_)) && !request::sends(a, call, &facts);
            let granted = !conditional || self.options.include_conditional;
            // One need per action and context: a role passed to Lambda and
            // another passed to RDS stay two needs (one statement granting
            // both roles to both services would widen).
            let ctx = (!a.context.is_empty()).then_some(&a.context);
            let key = need_key(&a.action, ctx);
            let existed_granted = self
                .needs
                .get(&key)
                .is_some_and(|n| !n.conditional || self.options.include_conditional);
            let fresh = !self.needs.contains_key(&key);
            let n = self.needs.entry(key.clone()).or_insert_with(|| Need {
                action: a.action.clone(),
                resources: BTreeSet::new(),
                conditional: true,
                notes: BTreeSet::new(),
                calls: BTreeSet::new(),
                access_level: info.and_then(|i| i.access_level.clone()),
                known: info.is_some(),
                context: None,
            });
            if fresh {
                n.context = ctx.cloned();
            }
            // Resources of calls that only may need it are granted only
            // with conditional actions, or until a call needs it: then
            // the needing calls' resources alone (an optional role member
            // not sent gives `role/*`, never granted beside the role a
            // later call passes).
            if conditional && !self.options.include_conditional {
                if n.conditional {
                    let may = self.may_resources.entry(key.clone()).or_default();
                    for r in resources {
                        if n.resources.insert(r.clone()) {
                            may.insert(r);
                        }
                    }
                }
            } else {
                if n.conditional {
                    if let Some(may) = self.may_resources.remove(&key) {
                        n.resources.retain(|r| !may.contains(r));
                    }
                }
                n.resources.extend(resources);
            }
            n.calls.insert(name.clone());
            match a.class {
                Class::Conditional(why) if conditional => {
                    n.notes.insert(format!("{name}: may also need it {why}"));
                }
                _ => n.conditional = false,
            }
            if let Some(d) = &denied_note {
                if !conditional {
                    n.notes.insert(d.clone());
                }
            }
            if failed && !denied {
                if let Some(e) = &call.error {
                    n.notes.insert(format!("{name} failed: {e}"));
                }
            }
            if granted && !existed_granted {
                new.push(n.action.clone());
            }
        }
        if takes_resources {
            self.stats.resource_calls += 1;
            if resolved {
                self.stats.resolved += 1;
            }
        }
        Outcome::Mapped { call: name, new }
    }

    /// Every need, sorted by action (conditional ones included, marked).
    pub fn needs(&self) -> Vec<&Need> {
        self.needs.values().collect()
    }

    /// The need of an action, if any (the first by context when calls
    /// need it in several).
    pub fn need(&self, action: &str) -> Option<&Need> {
        self.needs
            .values()
            .find(|n| n.action.eq_ignore_ascii_case(action))
    }

    /// The needs a policy grants under the options.
    pub fn granted(&self) -> Vec<&Need> {
        self.needs
            .values()
            .filter(|n| !n.conditional || self.options.include_conditional)
            .collect()
    }

    /// The actions of the needs the options leave out: the conditional
    /// ones ("may also need"), unless conditional needs are granted.
    pub fn maybe_needed(&self) -> Vec<&str> {
        self.needs
            .values()
            .filter(|n| n.conditional && !self.options.include_conditional)
            .map(|n| n.action.as_str())
            .collect()
    }

    pub fn unmapped(&self) -> Vec<&Unmapped> {
        self.unmapped.values().collect()
    }

    pub fn failures(&self) -> Vec<&Failure> {
        self.failures.values().collect()
    }

    /// The note ("denied: needs ACTION") of a denied call, as the
    /// recording noted it (`call` as [`Outcome::Mapped`] names it).
    pub fn denied_note(&self, call: &str) -> Option<String> {
        self.failures
            .values()
            .find(|f| f.call == call && f.note.is_some())
            .and_then(|f| f.note.clone())
    }

    /// Is `call` an unmapped call seen exactly once so far (its first
    /// sighting, when asked right after adding it)?
    pub fn unmapped_first(&self, call: &str) -> bool {
        self.unmapped
            .values()
            .any(|u| u.call == call && u.count == 1)
    }

    /// Calls that need no permission, with the note and count.
    pub fn no_permission(&self) -> Vec<(&str, &'static str, u64)> {
        self.no_permission
            .iter()
            .map(|(k, (n, c))| (k.as_str(), *n, *c))
            .collect()
    }

    /// Count (and name the first [`SHOW_UNREAD`] of) the calls whose
    /// request body was not read.
    fn note_unread(&mut self, call: &Call, name: &str) {
        if let Some(why) = &call.unread_body {
            self.unread_bodies += 1;
            if self.unread.len() < SHOW_UNREAD {
                self.unread.push(format!("{}: {name}: {why}", call.at));
            }
        }
    }

    /// How many calls' request bodies were not read (or not whole), and
    /// the first [`SHOW_UNREAD`] of them named (`proxy request 7:
    /// s3:DeleteObjects: XML body not read at byte 40: …`): their
    /// resources may be missing from the needs.
    pub fn unread_bodies(&self) -> (u64, &[String]) {
        (self.unread_bodies, &self.unread)
    }

    /// Notes for a report: one line each.
    pub fn notes(&self) -> Vec<String> {
        let mut v = Vec::new();
        for (call, note, count) in self.no_permission() {
            v.push(format!("{call} ({count} call(s)) left out: {note}"));
        }
        for u in self.unmapped() {
            v.push(format!(
                "unmapped: {} ({} call(s), first at {}): {}",
                u.call, u.count, u.first_at, u.reason
            ));
        }
        for f in self.failures() {
            let status = f.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
            match &f.note {
                Some(n) => v.push(format!(
                    "{}: {}{status}, {} call(s): {n}",
                    f.call, f.error, f.count
                )),
                None => v.push(format!(
                    "{}: failed with {}{status}, {} call(s)",
                    f.call, f.error, f.count
                )),
            }
        }
        v
    }
}

/// Keep a need to at most `limit` resources by replacing the largest
/// group of ARNs under one path (`arn:aws:s3:::b/logs/a`, `…/logs/b`)
/// with the path's wildcard (`arn:aws:s3:::b/logs/*`), repeatedly. Only
/// the resource part after the sixth `:`-separated field is cut, at `/`;
/// never a bucket or account. Returns what was widened, for the report.
pub fn collapse_resources(need: &mut Need, limit: usize) -> Vec<String> {
    fn parent(r: &str) -> Option<String> {
        let base = r.strip_suffix("/*").unwrap_or(r);
        let res_start = base.match_indices(':').nth(4).map(|(i, _)| i + 1)?;
        let cut = base[res_start..].rfind('/')? + res_start;
        if cut == res_start {
            return None;
        }
        Some(format!("{}/*", &base[..cut]))
    }
    let mut notes = Vec::new();
    while need.resources.len() > limit {
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in &need.resources {
            if let Some(p) = parent(r) {
                groups.entry(p).or_default().push(r.clone());
            }
        }
        let Some((p, members)) = groups
            .into_iter()
            .filter(|(_, m)| m.len() > 1)
            .max_by_key(|(p, m)| (m.len(), std::cmp::Reverse(p.len())))
        else {
            break;
        };
        for m in &members {
            need.resources.remove(m);
        }
        notes.push(format!(
            "{}: widened {} resources to {p} (more than {limit} under one path)",
            need.action,
            members.len()
        ));
        need.resources.insert(p);
    }
    notes
}

/// The resources one call needs an action on, and whether they are
/// concrete (resolved from the call) rather than scoped patterns.
fn resources_for(
    info: &ops::ActionInfo,
    call: &Call,
    listed: &[&str],
    params: Option<&serde_json::Value>,
    members: &[String],
    judge: &mut arns::Judge,
) -> (BTreeSet<String>, bool) {
    let types = info.scoping_types();
    let formats: Vec<&str> = info
        .resource_types
        .iter()
        .flat_map(|t| t.arns.iter().map(String::as_str))
        .collect();
    let mut out = BTreeSet::new();
    // ARNs from the log name resources: a `*` or `?` in them is text.
    for r in listed {
        let r = crate::arn::escape(r);
        if formats.iter().any(|f| judge.is_instance(f, &r)) {
            out.insert(r.into_owned());
        }
    }
    // The members that hold what the action is for (the roles a call
    // passes) name its resources, every one of them.
    if let Some(p) = params.filter(|_| !members.is_empty()) {
        for arn in request::member_arns(p, members, &formats, call, judge) {
            out.insert(arn);
        }
        if !out.is_empty() {
            return (out, true);
        }
    }
    if let Some(p) = params {
        // A fixed format (`marketplace/model-endpoint/all-access`) fills
        // from the region and account alone, whatever the call named: it
        // is the call's resource only when the action takes nothing else
        // (`hub/default`). Otherwise a call naming a resource this cannot
        // resolve (`modelId` a bare model id) falls to the scoped
        // patterns of all its types below, never to the fixed ARN alone.
        let (fixed, named): (Vec<&String>, Vec<&String>) = types
            .iter()
            .flat_map(|t| t.arns.iter())
            .partition(|f| crate::arn::Format::is_fixed_text(f));
        if info.action.starts_with("bedrock:") {
            if let Some(arn) =
                cloudtrail::bedrock_model_arn(p, call.region.as_deref(), call.account.as_deref())
            {
                if formats.iter().any(|f| judge.is_instance(f, &arn)) {
                    out.insert(arn);
                }
            }
        }
        let passes = if named.is_empty() {
            vec![fixed]
        } else {
            vec![named]
        };
        for pass in passes {
            for f in pass {
                if let Some(arn) = cloudtrail::arn_from_params(
                    f,
                    p,
                    call.region.as_deref(),
                    call.account.as_deref(),
                    judge,
                ) {
                    out.insert(arn);
                }
            }
        }
    }
    if !out.is_empty() {
        return (out, true);
    }
    for t in &types {
        for f in t.arns.iter() {
            out.insert(arns::scoped_pattern(
                f,
                call.region.as_deref(),
                call.account.as_deref(),
            ));
        }
    }
    if out.is_empty() {
        out.insert("*".into());
    }
    (out, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csm_call(service: &str, api: &str) -> Call {
        Call {
            at: "datagram 1".into(),
            service: Some(ServiceRef::SdkId(service.into())),
            operation: api.into(),
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
            status: Some(200),
            ..Default::default()
        }
    }

    #[test]
    fn an_unmapped_call_is_first_once() {
        let idx = ops::tests::snapshot_index();
        let mut r = Recording::new(Options::default());
        let Outcome::Unmapped { call, .. } = r.add(idx, &csm_call("S3", "NoSuchApi")) else {
            panic!("S3:NoSuchApi is mapped")
        };
        assert!(r.unmapped_first(&call));
        r.add(idx, &csm_call("S3", "NoSuchApi"));
        assert!(!r.unmapped_first(&call));
        assert!(!r.unmapped_first("s3:GetObject"));
    }

    #[test]
    fn recording_classifies_scopes_and_lists_everything() {
        let idx = ops::tests::snapshot_index();
        let mut r = Recording::new(Options::default());
        let out = r.add(idx, &csm_call("SFN", "ListStateMachines"));
        assert_eq!(
            out,
            Outcome::Mapped {
                call: "states:ListStateMachines".into(),
                new: vec!["states:ListStateMachines".into()]
            }
        );
        // Seen again: nothing new.
        let out = r.add(idx, &csm_call("SFN", "ListStateMachines"));
        assert!(matches!(out, Outcome::Mapped { new, .. } if new.is_empty()));
        r.add(idx, &csm_call("SQS", "SendMessage"));
        let q = r.need("sqs:SendMessage").unwrap();
        assert_eq!(
            q.resources.iter().collect::<Vec<_>>(),
            ["arn:aws:sqs:us-east-1:123456789012:*"]
        );
        assert!(matches!(
            r.add(idx, &csm_call("STS", "GetCallerIdentity")),
            Outcome::NoPermission { .. }
        ));
        assert!(matches!(
            r.add(idx, &csm_call("S3", "NoSuchApi")),
            Outcome::Unmapped { .. }
        ));
        // Conditional actions are recorded, not granted.
        r.add(idx, &csm_call("DynamoDB", "CreateTable"));
        let tag = r.need("dynamodb:TagResource").unwrap();
        assert!(tag.conditional);
        assert!(!r
            .granted()
            .iter()
            .any(|n| n.action == "dynamodb:TagResource"));
        // A denial names what it needs; a failure keeps its status.
        let mut denied = csm_call("CloudWatch Logs", "DescribeLogGroups");
        denied.status = Some(400);
        denied.error = Some("AccessDeniedException".into());
        r.add(idx, &denied);
        assert!(r
            .need("logs:DescribeLogGroups")
            .unwrap()
            .notes
            .contains("denied: needs logs:DescribeLogGroups"));
        assert_eq!(r.stats.calls, 7);
        assert_eq!(r.stats.unmapped, 1);
        assert_eq!(r.stats.no_permission, 1);
        assert_eq!(r.stats.denied, 1);
        assert_eq!(
            r.denied_note("logs:DescribeLogGroups").as_deref(),
            Some("denied: needs logs:DescribeLogGroups")
        );
        assert_eq!(r.denied_note("states:ListStateMachines"), None);
        let notes = r.notes().join("\n");
        assert!(notes.contains("unmapped: S3:NoSuchApi"), "{notes}");
        assert!(notes.contains("sts:GetCallerIdentity"), "{notes}");
        // The same with conditional actions granted.
        let mut all = Recording::new(Options {
            include_conditional: true,
            include_errors: false,
        });
        all.add(idx, &csm_call("DynamoDB", "CreateTable"));
        assert!(all
            .granted()
            .iter()
            .any(|n| n.action == "dynamodb:TagResource"));
    }

    /// A constructed CloudTrail record read as the readers read it.
    fn trail_call(source: &str, name: &str, params: serde_json::Value) -> Call {
        let rec = serde_json::json!({
            "eventVersion": "1.08", "eventType": "AwsApiCall",
            "eventSource": source, "eventName": name,
            "awsRegion": "us-east-1", "recipientAccountId": "123456789012",
            "requestParameters": params,
        });
        let raw = cloudtrail::Raw {
            index: 1,
            line: 1,
            bytes: rec.to_string().into_bytes(),
        };
        match cloudtrail::call_of(&raw, "constructed.json").unwrap() {
            cloudtrail::Record::Call(c, _, _) => c,
            cloudtrail::Record::Other(t) => panic!("{t}"),
        }
    }

    fn resources(r: &Recording, action: &str) -> Vec<String> {
        r.need(action)
            .unwrap_or_else(|| panic!("{action} not needed"))
            .resources
            .iter()
            .cloned()
            .collect()
    }

    #[test]
    fn roles_inside_a_list_are_passed_each_one() {
        // Constructed CloudTrail record: EventBridge PutTargets with two
        // targets, each passing its own role (CloudTrail's camelCase).
        let idx = ops::tests::snapshot_index();
        let mut r = Recording::new(Options::default());
        r.add(
            idx,
            &trail_call(
                "events.amazonaws.com",
                "PutTargets",
                serde_json::json!({"rule": "nightly", "targets": [
                    {"id": "1", "arn": "arn:aws:lambda:us-east-1:123456789012:function:report",
                     "roleArn": "arn:aws:iam::123456789012:role/events-invoke-report"},
                    {"id": "2", "arn": "arn:aws:states:us-east-1:123456789012:stateMachine:etl",
                     "roleArn": "arn:aws:iam::123456789012:role/events-start-etl"},
                    {"id": "3", "arn": "arn:aws:sqs:us-east-1:123456789012:jobs"}
                ]}),
            ),
        );
        let n = r.need("iam:PassRole").unwrap();
        assert!(!n.conditional, "{n:?}");
        assert_eq!(
            resources(&r, "iam:PassRole"),
            [
                "arn:aws:iam::123456789012:role/events-invoke-report",
                "arn:aws:iam::123456789012:role/events-start-etl"
            ]
        );
        assert_eq!(
            n.context,
            Some(BTreeMap::from([(
                "iam:PassedToService".to_string(),
                BTreeSet::from(["events.amazonaws.com".to_string()])
            )]))
        );
        // No target passes a role: "may also need".
        let mut r = Recording::new(Options::default());
        r.add(
            idx,
            &trail_call(
                "events.amazonaws.com",
                "PutTargets",
                serde_json::json!({"rule": "nightly", "targets": [
                    {"id": "3", "arn": "arn:aws:sqs:us-east-1:123456789012:jobs"}]}),
            ),
        );
        assert!(r.need("iam:PassRole").unwrap().conditional);
    }

    #[test]
    fn delete_objects_needs_delete_object_on_every_key() {
        // Constructed: the call log's spelling (the model's members), two
        // keys, one with a version.
        let idx = ops::tests::snapshot_index();
        let mut r = Recording::new(Options::default());
        r.add(
            idx,
            &trail_call(
                "s3.amazonaws.com",
                "DeleteObjects",
                serde_json::json!({"bucketName": "constructed-bucket", "Delete": {"Objects": [
                    {"Key": "reports/a.txt"}, {"Key": "logs/b c.gz", "VersionId": "v1"}]}}),
            ),
        );
        assert_eq!(
            resources(&r, "s3:DeleteObject"),
            [
                "arn:aws:s3:::constructed-bucket/logs/b c.gz",
                "arn:aws:s3:::constructed-bucket/reports/a.txt"
            ]
        );
        let v = r.need("s3:DeleteObjectVersion").unwrap();
        assert!(!v.conditional, "{v:?}");
        assert_eq!(
            resources(&r, "s3:DeleteObjectVersion"),
            ["arn:aws:s3:::constructed-bucket/logs/b c.gz"]
        );
        assert_eq!(r.stats.resolved, 1);
        // The body's spelling (`Object`, one element: no list).
        let mut r = Recording::new(Options::default());
        r.add(
            idx,
            &trail_call(
                "s3.amazonaws.com",
                "DeleteObjects",
                serde_json::json!({"bucketName": "constructed-bucket",
                    "Delete": {"Object": {"Key": "k"}}}),
            ),
        );
        assert_eq!(
            resources(&r, "s3:DeleteObject"),
            ["arn:aws:s3:::constructed-bucket/k"]
        );
        assert!(r.need("s3:DeleteObjectVersion").unwrap().conditional);
    }

    #[test]
    fn unread_bodies_are_counted_and_named() {
        let idx = ops::tests::snapshot_index();
        let mut r = Recording::new(Options::default());
        for i in 0..SHOW_UNREAD + 2 {
            let mut c = trail_call(
                "s3.amazonaws.com",
                "DeleteObjects",
                serde_json::json!({"bucketName": "b"}),
            );
            c.at = format!("proxy request {i}");
            c.unread_body = Some("XML body not read at byte 3: <a> not closed".into());
            r.add(idx, &c);
        }
        let (n, named) = r.unread_bodies();
        assert_eq!(n as usize, SHOW_UNREAD + 2);
        assert_eq!(named.len(), SHOW_UNREAD);
        assert_eq!(
            named[0],
            "proxy request 0: s3:DeleteObjects: XML body not read at byte 3: <a> not closed"
        );
        // The calls still count.
        assert!(!r.need("s3:DeleteObject").unwrap().conditional);
        assert_eq!(r.stats.mapped as usize, SHOW_UNREAD + 2);
    }

    #[test]
    fn a_required_role_member_makes_pass_role_always_needed_on_that_role() {
        let idx = ops::tests::snapshot_index();
        let mut r = Recording::new(Options::default());
        r.add(
            idx,
            &trail_call(
                "lambda.amazonaws.com",
                "CreateFunction20150331",
                serde_json::json!({"functionName": "resize", "role": "arn:aws:iam::123456789012:role/resize-exec"}),
            ),
        );
        let n = r.need("iam:PassRole").unwrap();
        assert!(!n.conditional, "{n:?}");
        assert!(r.granted().iter().any(|n| n.action == "iam:PassRole"));
        assert_eq!(
            resources(&r, "iam:PassRole"),
            ["arn:aws:iam::123456789012:role/resize-exec"]
        );
        assert_eq!(
            n.context,
            Some(BTreeMap::from([(
                "iam:PassedToService".to_string(),
                BTreeSet::from(["lambda.amazonaws.com".to_string()])
            )]))
        );
        // CSM tells no parameters: still needed, on the account's roles.
        let mut r = Recording::new(Options::default());
        r.add(idx, &csm_call("Lambda", "CreateFunction"));
        assert!(!r.need("iam:PassRole").unwrap().conditional);
        assert_eq!(
            resources(&r, "iam:PassRole"),
            ["arn:aws:iam::123456789012:role/*"]
        );
        // CodeBuild's serviceRole; Glue's Role given by name.
        let mut r = Recording::new(Options::default());
        r.add(
            idx,
            &trail_call(
                "codebuild.amazonaws.com",
                "CreateProject",
                serde_json::json!({"name": "build", "serviceRole": "arn:aws:iam::123456789012:role/service-role/cb"}),
            ),
        );
        r.add(
            idx,
            &trail_call(
                "glue.amazonaws.com",
                "CreateJob",
                serde_json::json!({"name": "etl", "role": "GlueJobRole"}),
            ),
        );
        // One need per service the role is passed to: each role only to
        // the service whose call passed it.
        let passed: Vec<(Vec<&str>, Vec<&str>)> = r
            .needs()
            .into_iter()
            .filter(|n| n.action == "iam:PassRole")
            .map(|n| {
                assert!(!n.conditional);
                let to = n.context.as_ref().unwrap()["iam:PassedToService"]
                    .iter()
                    .map(String::as_str)
                    .collect();
                (n.resources.iter().map(String::as_str).collect(), to)
            })
            .collect();
        assert_eq!(
            passed,
            [
                (
                    vec!["arn:aws:iam::123456789012:role/service-role/cb"],
                    vec!["codebuild.amazonaws.com"]
                ),
                (
                    vec!["arn:aws:iam::123456789012:role/GlueJobRole"],
                    vec!["glue.amazonaws.com"]
                ),
            ]
        );
    }

    #[test]
    fn an_optional_role_member_makes_pass_role_needed_when_the_call_sends_it() {
        let idx = ops::tests::snapshot_index();
        let mut r = Recording::new(Options::default());
        let bare = serde_json::json!({"dBInstanceIdentifier": "orders-db", "engine": "postgres"});
        r.add(
            idx,
            &trail_call("rds.amazonaws.com", "CreateDBInstance", bare.clone()),
        );
        assert!(r.need("iam:PassRole").unwrap().conditional);
        assert!(!r.granted().iter().any(|n| n.action == "iam:PassRole"));
        assert_eq!(
            resources(&r, "rds:CreateDBInstance"),
            ["arn:aws:rds:us-east-1:123456789012:db:orders-db"]
        );
        let mut sent = bare;
        sent["monitoringRoleArn"] = "arn:aws:iam::123456789012:role/rds-monitoring".into();
        r.add(
            idx,
            &trail_call("rds.amazonaws.com", "CreateDBInstance", sent),
        );
        let n = r.need("iam:PassRole").unwrap();
        assert!(!n.conditional, "{n:?}");
        assert_eq!(
            resources(&r, "iam:PassRole"),
            ["arn:aws:iam::123456789012:role/rds-monitoring"]
        );
        // Two optional roles sent: both.
        let mut r = Recording::new(Options::default());
        r.add(
            idx,
            &trail_call(
                "ecs.amazonaws.com",
                "RegisterTaskDefinition",
                serde_json::json!({
                    "family": "web",
                    "taskRoleArn": "arn:aws:iam::123456789012:role/web-task",
                    "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
                }),
            ),
        );
        assert_eq!(
            resources(&r, "iam:PassRole"),
            [
                "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
                "arn:aws:iam::123456789012:role/web-task"
            ]
        );
        // An instance profile (the override's member) passes a role the
        // request does not name: the account's roles.
        let mut r = Recording::new(Options::default());
        r.add(
            idx,
            &trail_call(
                "ec2.amazonaws.com",
                "RunInstances",
                serde_json::json!({"instanceType": "t3.micro",
                    "iamInstanceProfile": {"arn": "arn:aws:iam::123456789012:instance-profile/web"}}),
            ),
        );
        assert!(!r.need("iam:PassRole").unwrap().conditional);
        assert_eq!(
            resources(&r, "iam:PassRole"),
            ["arn:aws:iam::123456789012:role/*"]
        );
    }

    #[test]
    fn a_role_member_nested_deeper_than_one_structure_is_read_from_the_request() {
        let idx = ops::tests::snapshot_index();
        // Constructed records. forecast CreateDatasetImportJob: botocore's
        // model requires DataSource, its S3Config and that one's RoleArn
        // (`p:DataSource.S3Config.RoleArn!`): always needed, on the role
        // CloudTrail's camelCase parameters name.
        let mut r = Recording::new(Options::default());
        r.add(
            idx,
            &trail_call(
                "forecast.amazonaws.com",
                "CreateDatasetImportJob",
                serde_json::json!({
                    "datasetImportJobName": "daily",
                    "datasetArn": "arn:aws:forecast:us-east-1:123456789012:dataset/sales",
                    "dataSource": {"s3Config": {
                        "path": "s3://constructed-bucket/sales.csv",
                        "roleArn": "arn:aws:iam::123456789012:role/forecast-import"}}
                }),
            ),
        );
        let n = r.need("iam:PassRole").unwrap();
        assert!(!n.conditional, "{n:?}");
        assert_eq!(
            resources(&r, "iam:PassRole"),
            ["arn:aws:iam::123456789012:role/forecast-import"]
        );
        // CSM names no parameters: still needed, on the account's roles.
        let mut r = Recording::new(Options::default());
        r.add(idx, &csm_call("forecast", "CreateDatasetImportJob"));
        assert!(!r.need("iam:PassRole").unwrap().conditional);
        assert_eq!(
            resources(&r, "iam:PassRole"),
            ["arn:aws:iam::123456789012:role/*"]
        );
        // appflow CreateFlow: metadataCatalogConfig.glueDataCatalog.roleArn,
        // optional at the first level: conditional without it, needed on
        // the role when the call sends it.
        let bare =
            serde_json::json!({"flowName": "orders", "triggerConfig": {"triggerType": "OnDemand"}});
        let mut r = Recording::new(Options::default());
        r.add(
            idx,
            &trail_call("appflow.amazonaws.com", "CreateFlow", bare.clone()),
        );
        assert!(r.need("iam:PassRole").unwrap().conditional);
        assert!(!r.granted().iter().any(|n| n.action == "iam:PassRole"));
        let mut sent = bare;
        sent["metadataCatalogConfig"] = serde_json::json!({"glueDataCatalog": {
            "roleArn": "arn:aws:iam::123456789012:role/appflow-glue",
            "databaseName": "orders", "tablePrefix": "t"}});
        r.add(
            idx,
            &trail_call("appflow.amazonaws.com", "CreateFlow", sent),
        );
        let n = r.need("iam:PassRole").unwrap();
        assert!(!n.conditional, "{n:?}");
        assert_eq!(
            resources(&r, "iam:PassRole"),
            ["arn:aws:iam::123456789012:role/appflow-glue"]
        );
        // A path through something that is not an object sends nothing.
        let mut r = Recording::new(Options::default());
        r.add(
            idx,
            &trail_call(
                "appflow.amazonaws.com",
                "CreateFlow",
                serde_json::json!({"flowName": "orders", "metadataCatalogConfig": "glueDataCatalog"}),
            ),
        );
        assert!(r.need("iam:PassRole").unwrap().conditional);
    }

    #[test]
    fn copy_object_reads_the_source_and_writes_only_the_destination() {
        let idx = ops::tests::snapshot_index();
        let mut r = Recording::new(Options::default());
        let mut c = trail_call(
            "s3.amazonaws.com",
            "CopyObject",
            serde_json::json!({"bucketName": "dst", "key": "out/report.csv",
                "x-amz-copy-source": "src/in%20box/report.csv"}),
        );
        // CloudTrail lists both objects among the record's resources.
        c.resources = vec![
            "arn:aws:s3:::src/in box/report.csv".into(),
            "arn:aws:s3:::dst/out/report.csv".into(),
        ];
        r.add(idx, &c);
        assert_eq!(
            resources(&r, "s3:GetObject"),
            ["arn:aws:s3:::src/in box/report.csv"]
        );
        assert_eq!(
            resources(&r, "s3:PutObject"),
            ["arn:aws:s3:::dst/out/report.csv"]
        );
        assert!(r.need("s3:GetObjectVersion").unwrap().conditional);
        // A version of the source: s3:GetObjectVersion on it.
        let c = trail_call(
            "s3.amazonaws.com",
            "UploadPartCopy",
            serde_json::json!({"bucketName": "dst", "key": "big.bin", "uploadId": "u1", "partNumber": "2",
                "x-amz-copy-source": "/src/big.bin?versionId=v7"}),
        );
        r.add(idx, &c);
        let v = r.need("s3:GetObjectVersion").unwrap();
        assert!(!v.conditional, "{v:?}");
        // Only the version read: the first call only may have needed it.
        assert_eq!(
            resources(&r, "s3:GetObjectVersion"),
            ["arn:aws:s3:::src/big.bin"]
        );
        assert_eq!(
            resources(&r, "s3:GetObject"),
            [
                "arn:aws:s3:::src/big.bin",
                "arn:aws:s3:::src/in box/report.csv"
            ]
        );
        assert_eq!(
            resources(&r, "s3:PutObject"),
            [
                "arn:aws:s3:::dst/big.bin",
                "arn:aws:s3:::dst/out/report.csv"
            ]
        );
    }

    #[test]
    fn ec2_create_calls_tag_what_they_created() {
        let idx = ops::tests::snapshot_index();
        let mut r = Recording::new(Options::default());
        // Constructed as CloudTrail writes EC2 records.
        let mut c = trail_call(
            "ec2.amazonaws.com",
            "CreateSecurityGroup",
            serde_json::json!({"groupName": "web", "groupDescription": "web", "vpcId": "vpc-0a1b2c3d",
                "tagSpecificationSet": {"items": [{"resourceType": "security-group",
                    "tags": [{"key": "team", "value": "web"}]}]}}),
        );
        c.response = Some(
            serde_json::json!({"requestId": "r", "_return": true, "groupId": "sg-0123456789abcdef0"}),
        );
        r.add(idx, &c);
        let n = r.need("ec2:CreateTags").unwrap();
        assert!(!n.conditional, "{n:?}");
        assert_eq!(
            resources(&r, "ec2:CreateTags"),
            ["arn:aws:ec2:us-east-1:123456789012:security-group/sg-0123456789abcdef0"]
        );
        // RunInstances: the instances of the response; the volumes its tag
        // specifications name are not in it: scoped.
        let mut c = trail_call(
            "ec2.amazonaws.com",
            "RunInstances",
            serde_json::json!({"instanceType": "t3.micro",
                "tagSpecificationSet": {"items": [
                    {"resourceType": "instance", "tags": [{"key": "Name", "value": "web"}]},
                    {"resourceType": "volume", "tags": [{"key": "Name", "value": "web"}]}]}}),
        );
        c.response = Some(serde_json::json!({"instancesSet": {"items": [
            {"instanceId": "i-0aaa"}, {"instanceId": "i-0bbb"}]}}));
        r.add(idx, &c);
        assert_eq!(
            resources(&r, "ec2:CreateTags"),
            [
                "arn:aws:ec2:us-east-1:123456789012:instance/i-0aaa",
                "arn:aws:ec2:us-east-1:123456789012:instance/i-0bbb",
                "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0123456789abcdef0",
                "arn:aws:ec2:us-east-1:123456789012:volume/*"
            ]
        );
        // Untagged, without a response: CreateTags stays conditional, on
        // what the call creates, never on the VPC it names.
        let mut r = Recording::new(Options::default());
        r.add(
            idx,
            &trail_call(
                "ec2.amazonaws.com",
                "CreateSecurityGroup",
                serde_json::json!({"groupName": "db", "groupDescription": "db", "vpcId": "vpc-0a1b2c3d"}),
            ),
        );
        assert!(r.need("ec2:CreateTags").unwrap().conditional);
        assert_eq!(
            resources(&r, "ec2:CreateTags"),
            ["arn:aws:ec2:us-east-1:123456789012:security-group/*"]
        );
    }

    #[test]
    fn iam_names_and_rds_identifiers_become_their_arns() {
        let idx = ops::tests::snapshot_index();
        let mut r = Recording::new(Options::default());
        let iam = |name: &str, p: serde_json::Value| trail_call("iam.amazonaws.com", name, p);
        r.add(idx, &iam("CreateRole", serde_json::json!({"roleName": "app", "path": "/svc/", "assumeRolePolicyDocument": "{}"})));
        r.add(
            idx,
            &iam("CreateUser", serde_json::json!({"userName": "ci"})),
        );
        r.add(
            idx,
            &iam("GetGroup", serde_json::json!({"groupName": "admins"})),
        );
        r.add(
            idx,
            &iam(
                "CreateInstanceProfile",
                serde_json::json!({"instanceProfileName": "web", "path": "/"}),
            ),
        );
        r.add(
            idx,
            &iam(
                "GetPolicy",
                serde_json::json!({"policyArn": "arn:aws:iam::123456789012:policy/team/read"}),
            ),
        );
        assert_eq!(
            resources(&r, "iam:CreateRole"),
            ["arn:aws:iam::123456789012:role/svc/app"]
        );
        assert_eq!(
            resources(&r, "iam:CreateUser"),
            ["arn:aws:iam::123456789012:user/ci"]
        );
        assert_eq!(
            resources(&r, "iam:GetGroup"),
            ["arn:aws:iam::123456789012:group/admins"]
        );
        assert_eq!(
            resources(&r, "iam:CreateInstanceProfile"),
            ["arn:aws:iam::123456789012:instance-profile/web"]
        );
        assert_eq!(
            resources(&r, "iam:GetPolicy"),
            ["arn:aws:iam::123456789012:policy/team/read"]
        );
        let rds = |name: &str, p: serde_json::Value| trail_call("rds.amazonaws.com", name, p);
        r.add(
            idx,
            &rds(
                "DescribeDBClusters",
                serde_json::json!({"dBClusterIdentifier": "aurora-1"}),
            ),
        );
        r.add(
            idx,
            &rds(
                "DeleteDBSnapshot",
                serde_json::json!({"dBSnapshotIdentifier": "nightly-1"}),
            ),
        );
        r.add(
            idx,
            &rds(
                "DeleteDBClusterSnapshot",
                serde_json::json!({"dBClusterSnapshotIdentifier": "c-nightly"}),
            ),
        );
        assert_eq!(
            resources(&r, "rds:DescribeDBClusters"),
            ["arn:aws:rds:us-east-1:123456789012:cluster:aurora-1"]
        );
        assert_eq!(
            resources(&r, "rds:DeleteDBSnapshot"),
            ["arn:aws:rds:us-east-1:123456789012:snapshot:nightly-1"]
        );
        assert_eq!(
            resources(&r, "rds:DeleteDBClusterSnapshot"),
            ["arn:aws:rds:us-east-1:123456789012:cluster-snapshot:c-nightly"]
        );
    }

    #[test]
    fn percent_encoded_request_parameters_are_decoded_once() {
        let idx = ops::tests::snapshot_index();
        let mut r = Recording::new(Options::default());
        // Constructed as CloudTrail logs a Connect URI label: the
        // instance's ARN, URL-encoded, in the InstanceId's place.
        let arn =
            "arn:aws:connect:us-east-1:123456789012:instance/4f1c9a2e-0000-4000-8000-0123456789ab";
        let encoded = arn.replace(':', "%3A").replace('/', "%2F");
        r.add(
            idx,
            &trail_call(
                "connect.amazonaws.com",
                "DescribeQueue",
                serde_json::json!({"InstanceId": encoded, "QueueId": "q-1"}),
            ),
        );
        assert_eq!(
            resources(&r, "connect:DescribeQueue"),
            [format!("{arn}/queue/q-1")]
        );
        // Decoded once: `%2541` stays `%41`.
        let c = trail_call(
            "dynamodb.amazonaws.com",
            "GetItem",
            serde_json::json!({"tableName": "t%2541"}),
        );
        assert_eq!(c.params.unwrap()["tableName"], "t%41");
    }

    #[test]
    fn collapse_widens_under_one_path_and_says_so() {
        let resources: Vec<String> = (0..30)
            .map(|i| format!("arn:aws:s3:::b/logs/{i}.gz"))
            .chain(["arn:aws:s3:::other/x".to_string()])
            .collect();
        let mut n = Need::constructed("s3:GetObject", &resources, true);
        let notes = collapse_resources(&mut n, 10);
        assert_eq!(
            n.resources.iter().cloned().collect::<Vec<_>>(),
            ["arn:aws:s3:::b/logs/*", "arn:aws:s3:::other/x"]
        );
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("widened 30"), "{notes:?}");
        // Bucket names are never cut.
        let mut b = n.clone();
        b.resources = (0..30).map(|i| format!("arn:aws:s3:::bucket{i}")).collect();
        assert!(collapse_resources(&mut b, 10).is_empty());
        assert_eq!(b.resources.len(), 30);
    }

    #[test]
    fn a_calls_row_words_a_need() {
        let mut n = Need::constructed("s3:GetObject", &["arn:aws:s3:::b/k"], true);
        n.calls = ["s3:GetObject".to_string(), "S3:getobject".to_string()].into();
        n.conditional = true;
        let row = CallsRow::of(&n, true);
        assert_eq!(row.needed, "conditional");
        assert_eq!(row.needed_by, ["S3:getobject"]);
        assert_eq!(row.resources, ["arn:aws:s3:::b/k"]);
        assert!(row.context.is_empty());
        n.conditional = false;
        let row = CallsRow::of(&n, false);
        assert_eq!(row.needed, "always");
        assert!(row.resources.is_empty());
    }
}
