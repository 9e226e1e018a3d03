//! The catalog: the services a run needs, loaded once from the dataset and
//! indexed for the lookups the policy engine makes (actions by name,
//! wildcard expansion, resource types and their parsed ARN formats,
//! condition keys). Pure: it is built from [`Service`] values, so tests
//! construct it without a database.

pub mod plan;

use crate::arn::{Format, Matcher, Pattern};
use crate::names::wildcard_match;
use iamref_dataset::model::{Action, Operation, ResourceType, Service};
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// An API operation some of whose actions carry a context: the
/// condition-key values the call sets (the reference's `Context`), e.g.
/// lambda:CreateFunction calls iam:PassRole with `iam:PassedToService` =
/// `lambda.amazonaws.com`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationContext {
    /// `lambda:CreateFunction`.
    pub operation: String,
    /// Every action the operation authorizes, lowercase `service:action`.
    pub actions: BTreeSet<String>,
    /// Lowercase `service:action` → condition key → values.
    pub context: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
}

/// The operations of `services` that authorize an action some operation
/// calls with a context (with or without one themselves: an operation
/// calling iam:PassRole without a context makes it unconditional).
pub fn operation_contexts<'a>(
    ops: impl Iterator<Item = (&'a str, &'a Operation)> + Clone,
) -> Vec<OperationContext> {
    let key = |a: &iamref_dataset::model::OperationAction| {
        format!("{}:{}", a.service, a.action).to_ascii_lowercase()
    };
    let ops = || ops.clone();
    let with_context: BTreeSet<String> = ops()
        .flat_map(|(_, o)| o.actions.iter())
        .filter(|a| !a.context.is_empty())
        .map(key)
        .collect();
    let mut out = Vec::new();
    for (prefix, op) in ops() {
        if !op.actions.iter().any(|a| with_context.contains(&key(a))) {
            continue;
        }
        out.push(OperationContext {
            operation: format!("{prefix}:{}", op.name),
            actions: op.actions.iter().map(key).collect(),
            context: op
                .actions
                .iter()
                .filter(|a| !a.context.is_empty())
                .map(|a| {
                    let c = a
                        .context
                        .iter()
                        .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                        .collect();
                    (key(a), c)
                })
                .collect(),
        });
    }
    out
}

/// An action in the catalog: indexes of its service and of the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionId {
    pub service: u32,
    pub action: u32,
}

struct Index {
    actions: FxHashMap<String, u32>,
    resource_types: FxHashMap<String, u32>,
    condition_keys: FxHashMap<String, u32>,
    /// Parsed ARN formats per resource type (same order as the service's).
    formats: Vec<Vec<Format>>,
}

/// The services of one run, indexed.
pub struct Catalog {
    services: Vec<Service>,
    index: Vec<Index>,
    by_prefix: FxHashMap<String, u32>,
    /// Every prefix of the dataset, loaded or not (lowercase, sorted).
    all_prefixes: Vec<String>,
    /// Formats by the ARN's service part (`s3` holds s3:bucket and
    /// ssm:bucket): (service, resource type, format) indexes.
    by_namespace: FxHashMap<String, Vec<(u32, u32, u32)>>,
    /// Operations authorizing an action that some operation calls with a
    /// context: from the services' operations, or given with
    /// [`Catalog::with_operation_contexts`].
    operation_contexts: Vec<OperationContext>,
}

impl Catalog {
    /// A catalog holding `services`, knowing that the dataset has the
    /// prefixes `all_prefixes` (those not loaded are known to exist).
    pub fn new(services: Vec<Service>, all_prefixes: Vec<String>) -> Catalog {
        let operation_contexts = operation_contexts(
            services
                .iter()
                .flat_map(|s| s.operations.iter().map(move |o| (s.prefix.as_str(), o))),
        );
        let mut by_prefix = FxHashMap::default();
        let mut index = Vec::with_capacity(services.len());
        for (i, s) in services.iter().enumerate() {
            by_prefix.insert(s.prefix.to_ascii_lowercase(), i as u32);
            let lower = |n: &str| n.to_ascii_lowercase();
            index.push(Index {
                actions: s
                    .actions
                    .iter()
                    .enumerate()
                    .map(|(j, a)| (lower(&a.name), j as u32))
                    .collect(),
                resource_types: s
                    .resource_types
                    .iter()
                    .enumerate()
                    .map(|(j, r)| (lower(&r.name), j as u32))
                    .collect(),
                condition_keys: s
                    .condition_keys
                    .iter()
                    .enumerate()
                    .map(|(j, k)| (lower(&k.name), j as u32))
                    .collect(),
                formats: s
                    .resource_types
                    .iter()
                    .map(|r| formats_of(&s.prefix, r))
                    .collect(),
            });
        }
        let mut all: Vec<String> = all_prefixes
            .into_iter()
            .map(|p| p.to_ascii_lowercase())
            .chain(by_prefix.keys().cloned())
            .collect();
        all.sort();
        all.dedup();
        let mut by_namespace: FxHashMap<String, Vec<(u32, u32, u32)>> = FxHashMap::default();
        for (si, ix) in index.iter().enumerate() {
            for (ti, fs) in ix.formats.iter().enumerate() {
                for (fi, f) in fs.iter().enumerate() {
                    by_namespace
                        .entry(namespace(f.as_str()))
                        .or_default()
                        .push((si as u32, ti as u32, fi as u32));
                }
            }
        }
        Catalog {
            services,
            index,
            by_prefix,
            all_prefixes: all,
            by_namespace,
            operation_contexts,
        }
    }

    /// Adds operations with contexts (for services loaded without their
    /// operations); operations already known are skipped.
    pub fn with_operation_contexts(mut self, more: Vec<OperationContext>) -> Catalog {
        let known: HashSet<String> = self
            .operation_contexts
            .iter()
            .map(|o| o.operation.to_ascii_lowercase())
            .collect();
        self.operation_contexts.extend(
            more.into_iter()
                .filter(|o| !known.contains(&o.operation.to_ascii_lowercase())),
        );
        self
    }

    /// Operations whose actions carry a context.
    pub fn operation_contexts(&self) -> &[OperationContext] {
        &self.operation_contexts
    }

    /// A catalog of exactly these services.
    pub fn from_services(services: Vec<Service>) -> Catalog {
        Catalog::new(services, Vec::new())
    }

    pub fn services(&self) -> &[Service] {
        &self.services
    }
    /// Every prefix the dataset has (lowercase, sorted).
    pub fn prefixes(&self) -> &[String] {
        &self.all_prefixes
    }
    /// Does the dataset know this prefix?
    pub fn has_prefix(&self, prefix: &str) -> bool {
        let key = lower(prefix);
        self.all_prefixes
            .binary_search_by(|p| p.as_str().cmp(key.as_ref()))
            .is_ok()
    }
    /// The index of a loaded service.
    pub fn service_index(&self, prefix: &str) -> Option<u32> {
        self.by_prefix.get(lower(prefix).as_ref()).copied()
    }
    pub fn service(&self, prefix: &str) -> Option<&Service> {
        self.service_index(prefix)
            .map(|i| &self.services[i as usize])
    }
    pub fn service_at(&self, i: u32) -> &Service {
        &self.services[i as usize]
    }

    /// An action by exact name (any case).
    pub fn action(&self, prefix: &str, name: &str) -> Option<ActionId> {
        let s = self.service_index(prefix)?;
        let a = *self.index[s as usize].actions.get(lower(name).as_ref())?;
        Some(ActionId {
            service: s,
            action: a,
        })
    }
    /// `prefix:Name` parsed and looked up.
    pub fn action_by_full_name(&self, full: &str) -> Option<ActionId> {
        let (p, n) = full.split_once(':')?;
        self.action(p, n)
    }
    pub fn get(&self, id: ActionId) -> (&Service, &Action) {
        let s = &self.services[id.service as usize];
        (s, &s.actions[id.action as usize])
    }
    /// `prefix:Name` as the service writes it.
    pub fn full_name(&self, id: ActionId) -> String {
        let (s, a) = self.get(id);
        format!("{}:{}", s.prefix, a.name)
    }

    /// The loaded actions an IAM action pattern (`s3:Get*`, `*`, `*:*`)
    /// matches, in catalog order. Cost: one wildcard test per action of
    /// the services whose prefix matches.
    pub fn expand(&self, pattern: &str) -> Vec<ActionId> {
        let (pp, ap) = match pattern.split_once(':') {
            Some(x) => x,
            None if pattern == "*" => ("*", "*"),
            None => return Vec::new(),
        };
        let mut out = Vec::new();
        let services: Vec<u32> = if pp.contains(['*', '?']) {
            (0..self.services.len() as u32)
                .filter(|&i| wildcard_match(pp, &self.services[i as usize].prefix))
                .collect()
        } else {
            self.service_index(pp).into_iter().collect()
        };
        for s in services {
            let svc = &self.services[s as usize];
            if ap == "*" {
                out.extend((0..svc.actions.len() as u32).map(|a| ActionId {
                    service: s,
                    action: a,
                }));
            } else if !ap.contains(['*', '?']) {
                out.extend(self.action(&svc.prefix, ap));
            } else {
                for (a, act) in svc.actions.iter().enumerate() {
                    if wildcard_match(ap, &act.name) {
                        out.push(ActionId {
                            service: s,
                            action: a as u32,
                        });
                    }
                }
            }
        }
        out
    }

    /// A resource type of a service by name (any case), with its index.
    pub fn resource_type(&self, service: u32, name: &str) -> Option<(u32, &ResourceType)> {
        let i = *self.index[service as usize]
            .resource_types
            .get(lower(name).as_ref())?;
        Some((
            i,
            &self.services[service as usize].resource_types[i as usize],
        ))
    }
    /// The parsed ARN formats of a resource type.
    pub fn formats(&self, service: u32, resource_type: u32) -> &[Format] {
        &self.index[service as usize].formats[resource_type as usize]
    }
    /// Every loaded format sharing `format`'s ARN service part (for the
    /// most-specific rule: `arn:aws:s3:::b/k` is an S3 object, so not an
    /// ssm:bucket either).
    pub fn namespace_formats(&self, format: &Format) -> Vec<&Format> {
        self.by_namespace
            .get(&namespace(format.as_str()))
            .map(|v| {
                v.iter()
                    .map(|&(s, t, f)| &self.index[s as usize].formats[t as usize][f as usize])
                    .collect()
            })
            .unwrap_or_default()
    }
    /// A condition key defined by a service, by exact name (any case).
    pub fn condition_key(
        &self,
        service: u32,
        name: &str,
    ) -> Option<&iamref_dataset::model::ConditionKey> {
        let i = *self.index[service as usize]
            .condition_keys
            .get(lower(name).as_ref())?;
        Some(&self.services[service as usize].condition_keys[i as usize])
    }

    /// Can `pattern` name a resource of type `resource_type` of `service`
    /// (through any of its formats, the most specific format winning)?
    pub fn pattern_reaches(
        &self,
        m: &mut Matcher,
        pattern: &Pattern,
        service: u32,
        resource_type: u32,
    ) -> bool {
        if pattern.is_any() {
            return true;
        }
        self.formats(service, resource_type)
            .iter()
            .any(|f| self.format_reaches(m, pattern, f))
    }

    /// Is there an ARN `pattern` matches whose format, of all the loaded
    /// formats, is `f`? The one rule every command decides by:
    ///
    /// - a literal service part must be the format's namespace;
    /// - of the formats of one namespace, the most specific takes an ARN
    ///   (`log-group:a:log-stream:b` is a log stream, `function:f:prod` an
    ///   alias or version, `b/k` an S3 object);
    /// - a `${Vendor}` format (backup's recovery points) takes only ARNs
    ///   no format of a concrete namespace takes;
    /// - a fixed format (`marketplace/model-endpoint/all-access`) is one
    ///   ARN per region and account, and takes only that.
    pub fn format_reaches(&self, m: &mut Matcher, pattern: &Pattern, f: &Format) -> bool {
        if pattern.is_any() {
            return true;
        }
        let literal_service = pattern.service().filter(|s| !s.contains(['*', '?', '$']));
        let f_ns = f.as_str().split(':').nth(2).unwrap_or("");
        if f_ns.contains("${") {
            // Yields to every concrete format that could take the same ARN.
            let Some(ns) = literal_service.map(str::to_ascii_lowercase) else {
                return m.reaches_unless(pattern, f, &[]);
            };
            let stem = pattern.resource_stem();
            let before: Vec<&Format> = self
                .by_namespace
                .get(&ns)
                .into_iter()
                .flatten()
                .map(|&(s, t, i)| &self.index[s as usize].formats[t as usize][i as usize])
                .filter(|o| {
                    let os = o.resource_stem();
                    os.starts_with(&stem) || stem.starts_with(&os)
                })
                .collect();
            return m.reaches_unless(pattern, f, &before);
        }
        if literal_service.is_some_and(|s| !s.eq_ignore_ascii_case(f_ns)) {
            return false;
        }
        m.reaches(pattern, f, &self.namespace_formats(f))
    }

    /// The resource types `pattern` can name, best first: one answer for
    /// `iamref arn`, `policy check`, `policy write`, `tighten` and the
    /// recorders. Ranked by: concrete namespace before `${Vendor}`; the
    /// type of the service owning the ARN namespace (its prefix is the
    /// ARN's service part: `iam:user`, not `codestar:user`) before other
    /// services' copies; formats the pattern fits part for part (`bind`)
    /// first; then the most specific format; then by name.
    pub fn resolve(&self, m: &mut Matcher, pattern: &Pattern) -> Vec<Resolved> {
        let literal_service = pattern
            .service()
            .filter(|s| !s.contains(['*', '?', '$']))
            .map(|s| s.to_ascii_lowercase());
        let mut candidates: Vec<(u32, u32, u32)> = Vec::new();
        match &literal_service {
            Some(ns) if !pattern.is_any() => {
                candidates.extend(self.by_namespace.get(ns).into_iter().flatten().copied());
                for (k, v) in &self.by_namespace {
                    if k.contains("${") {
                        candidates.extend(v.iter().copied());
                    }
                }
            }
            _ => {
                for v in self.by_namespace.values() {
                    candidates.extend(v.iter().copied());
                }
            }
        }
        let mut out: Vec<Resolved> = Vec::new();
        for (s, t, i) in candidates {
            let f = &self.index[s as usize].formats[t as usize][i as usize];
            if !self.format_reaches(m, pattern, f) {
                continue;
            }
            let svc = &self.services[s as usize];
            let ns = f.namespace();
            let r = Resolved {
                service: s,
                resource_type: t,
                format: i,
                owner: svc.prefix.eq_ignore_ascii_case(&ns),
                vendor: f.is_vendor(),
                fits: crate::arn::bind(f, pattern).is_some(),
                specificity: f.specificity(),
            };
            match out
                .iter_mut()
                .find(|o| o.service == s && o.resource_type == t)
            {
                Some(o) if r.rank_key() < o.rank_key() => *o = r,
                Some(_) => {}
                None => out.push(r),
            }
        }
        out.sort_by(|a, b| {
            a.rank_key().cmp(&b.rank_key()).then_with(|| {
                let (sa, sb) = (
                    &self.services[a.service as usize],
                    &self.services[b.service as usize],
                );
                (
                    sa.prefix.as_str(),
                    sa.resource_types[a.resource_type as usize].name.as_str(),
                )
                    .cmp(&(
                        sb.prefix.as_str(),
                        sb.resource_types[b.resource_type as usize].name.as_str(),
                    ))
            })
        });
        out
    }

    /// The reviewed grouping of an action's required resource types
    /// (see [`crate::resources`]).
    pub fn required_groups(&self, id: ActionId) -> crate::resources::RequiredGroups {
        let (s, a) = self.get(id);
        crate::resources::required_groups(&s.prefix, a)
    }
}

/// One resource type an ARN or pattern can name (see [`Catalog::resolve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    pub service: u32,
    pub resource_type: u32,
    /// The format of the type that took it.
    pub format: u32,
    /// The type's service owns the ARN namespace.
    pub owner: bool,
    /// A `${Vendor}` format.
    pub vendor: bool,
    /// The pattern fits the format part for part (wildcards inside
    /// placeholders), not only through wildcards spanning its structure.
    pub fits: bool,
    pub specificity: usize,
}

impl Resolved {
    fn rank_key(&self) -> (bool, bool, bool, std::cmp::Reverse<usize>) {
        (
            self.vendor,
            !self.owner,
            !self.fits,
            std::cmp::Reverse(self.specificity),
        )
    }
}

/// A name as the indexes key it (lowercase), copied only when it has
/// capitals: most lookups come lowercase already.
fn lower(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// The ARN's service part, lowercase (`s3` in `arn:${Partition}:s3:::…`).
fn namespace(arn: &str) -> String {
    arn.split(':').nth(2).unwrap_or("").to_ascii_lowercase()
}

/// The formats of a resource type, parsed, with the CloudWatch Logs quirk:
/// a log group's ARN is also written with a trailing `:*` (that is how
/// `DescribeLogGroups` returns it and how AWS's examples grant it).
fn formats_of(prefix: &str, r: &ResourceType) -> Vec<Format> {
    let mut out: Vec<Format> = r.arns.iter().map(|a| Format::parse(&a.arn)).collect();
    if prefix.eq_ignore_ascii_case("logs") && r.name.eq_ignore_ascii_case("log-group") {
        let extra: Vec<Format> = r
            .arns
            .iter()
            .filter(|a| a.arn.ends_with("${LogGroupName}"))
            .map(|a| Format::parse(&format!("{}:*", a.arn)))
            .collect();
        out.extend(extra);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use iamref_dataset::model::{ActionResource, ArnFormat, Sources};

    /// A constructed two-service catalog (not real data): enough S3 and
    /// DynamoDB for unit tests.
    pub fn small() -> Catalog {
        let rt = |name: &str, arns: &[&str]| ResourceType {
            name: name.into(),
            doc_url: None,
            arns: arns
                .iter()
                .map(|a| ArnFormat {
                    arn: a.to_string(),
                    sources: Sources::HTML,
                })
                .collect(),
            condition_keys: Vec::new(),
            pages: Vec::new(),
            sources: Sources::HTML,
        };
        let act = |name: &str, level: &str, types: &[(&str, bool)]| {
            let mut a = Action::new(name);
            a.access_level = Some(level.into());
            a.resource_types = types
                .iter()
                .map(|(n, req)| ActionResource {
                    name: n.to_string(),
                    required: *req,
                    condition_keys: Vec::new(),
                    dependent_actions: Vec::new(),
                    sources: Sources::HTML,
                })
                .collect();
            a
        };
        let mut s3 = Service::new("s3", "Amazon S3", Sources::HTML);
        s3.resource_types = vec![
            rt("bucket", &["arn:${Partition}:s3:::${BucketName}"]),
            rt(
                "object",
                &["arn:${Partition}:s3:::${BucketName}/${ObjectName}"],
            ),
        ];
        s3.actions = vec![
            act("GetObject", "Read", &[("object", true)]),
            act("ListBucket", "List", &[("bucket", true)]),
            act("ListAllMyBuckets", "List", &[]),
            act("PutObject", "Write", &[("object", true)]),
        ];
        let mut ddb = Service::new("dynamodb", "Amazon DynamoDB", Sources::HTML);
        ddb.resource_types = vec![
            rt(
                "table",
                &["arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}"],
            ),
            rt(
                "index",
                &["arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}/index/${IndexName}"],
            ),
        ];
        ddb.actions = vec![
            act("GetItem", "Read", &[("table", true)]),
            act("Query", "Read", &[("table", true), ("index", false)]),
        ];
        Catalog::new(vec![s3, ddb], vec!["ec2".into()])
    }

    #[test]
    fn lookups_and_expansion() {
        let c = small();
        assert!(c.has_prefix("EC2"));
        assert!(c.service("ec2").is_none());
        let id = c.action("S3", "getobject").unwrap();
        assert_eq!(c.full_name(id), "s3:GetObject");
        assert_eq!(c.expand("s3:List*").len(), 2);
        assert_eq!(c.expand("*:*").len(), 6);
        assert_eq!(c.expand("*").len(), 6);
        assert_eq!(c.expand("s3:Get?bject").len(), 1);
        assert!(c.expand("s3:Nope").is_empty());
    }

    #[test]
    fn reach_through_the_catalog() {
        let c = small();
        let mut m = Matcher::new();
        let s3 = c.service_index("s3").unwrap();
        let (bucket, _) = c.resource_type(s3, "bucket").unwrap();
        let (object, _) = c.resource_type(s3, "object").unwrap();
        let p = Pattern::parse("arn:aws:s3:::b/*").unwrap();
        assert!(c.pattern_reaches(&mut m, &p, s3, object));
        assert!(!c.pattern_reaches(&mut m, &p, s3, bucket));
    }
}
