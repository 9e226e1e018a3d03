//! What the writer asks of the catalog and the ARN algebra, in one place:
//! actions by name or pattern, their resource types and ARN formats, and
//! "does this given ARN fit that resource type" with the most-specific
//! format rule of [`crate::arn`].

use super::{AccessLevel, WriteError};
use crate::arn::{self, Format, Matcher, Pattern};
use crate::catalog::Catalog;
use crate::names::suggest;
use iamref_dataset::model::{Action, Service};
use std::cell::RefCell;
use std::collections::HashMap;

/// An action of the catalog.
#[derive(Clone, Copy)]
pub(crate) struct Act<'a> {
    pub svc: &'a Service,
    pub action: &'a Action,
}

impl<'a> Act<'a> {
    pub fn prefix(&self) -> &'a str {
        &self.svc.prefix
    }
    /// `s3:GetObject`, as the reference writes it.
    pub fn full(&self) -> String {
        format!("{}:{}", self.svc.prefix, self.action.name)
    }
    /// Lowercased `s3:getobject`.
    pub fn key(&self) -> String {
        self.full().to_ascii_lowercase()
    }
    /// (resource type, required), in page order, without duplicates.
    pub fn resource_types(&self) -> Vec<Derived> {
        let mut out: Vec<Derived> = Vec::new();
        for r in &self.action.resource_types {
            match out
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(&r.name))
            {
                Some(e) => e.1 |= r.required,
                None => out.push((r.name.clone(), r.required)),
            }
        }
        out
    }
    pub fn access_level(&self) -> Option<AccessLevel> {
        self.action
            .access_level
            .as_deref()
            .and_then(AccessLevel::parse)
    }
    /// Does the action list this condition key (on the action or one of
    /// its resource-type rows)?
    pub fn supports_key(&self, key: &str) -> bool {
        self.action
            .condition_keys
            .iter()
            .chain(
                self.action
                    .resource_types
                    .iter()
                    .flat_map(|r| &r.condition_keys),
            )
            .any(|k| k.name.eq_ignore_ascii_case(key))
    }
    /// Dependent actions of the action and of its resource-type rows.
    pub fn dependent_actions(&self) -> Vec<String> {
        let mut out: Vec<String> = self.action.dependent_actions.clone();
        for r in &self.action.resource_types {
            out.extend(r.dependent_actions.iter().cloned());
        }
        out.sort_by_key(|a| a.to_ascii_lowercase());
        out.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        out
    }
}

/// A resource given by the user, parsed.
#[derive(Debug, Clone)]
pub(crate) struct Given {
    pub text: String,
    pub pattern: Pattern,
}

/// A pattern derived from a given ARN, and whether it puts `*` into a
/// region or account the given ARN does not say.
pub(crate) type Derived = (String, bool);

/// The catalog with a memoizing matcher.
pub(crate) struct Data<'a> {
    cat: &'a Catalog,
    m: RefCell<Matcher>,
    /// (given, prefix, type) → fits; many actions share a resource type.
    fits_memo: RefCell<HashMap<(String, String, String), bool>>,
    /// (given, prefix, target type) → derived patterns.
    derive_memo: RefCell<HashMap<(String, String, String), Vec<Derived>>>,
}

impl<'a> Data<'a> {
    pub fn new(cat: &'a Catalog) -> Data<'a> {
        Data {
            cat,
            m: RefCell::new(Matcher::new()),
            fits_memo: RefCell::new(HashMap::new()),
            derive_memo: RefCell::new(HashMap::new()),
        }
    }

    /// Operations whose actions carry a context.
    pub fn operation_contexts(&self) -> &'a [crate::catalog::OperationContext] {
        self.cat.operation_contexts()
    }

    fn service(&self, prefix: &str) -> Option<&'a Service> {
        self.cat.service(prefix)
    }

    fn prefixes(&self) -> impl Iterator<Item = &'a str> {
        self.cat.prefixes().iter().map(String::as_str)
    }

    /// The actions an action name or IAM wildcard pattern names.
    pub fn expand(&self, pattern: &str) -> Result<Vec<Act<'a>>, WriteError> {
        let bad = |message: String| WriteError::BadAction {
            pattern: pattern.to_string(),
            message,
        };
        let Some((p, n)) = pattern.trim().split_once(':') else {
            return Err(bad("is not SERVICE:ACTION (e.g. s3:GetObject)".into()));
        };
        let ok = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.*?".contains(&b))
        };
        if !ok(p) || !ok(n) {
            return Err(bad(
                "is not SERVICE:ACTION: a prefix and an action name hold letters, digits, '-', '_', '.' and the wildcards '*' and '?'".into(),
            ));
        }
        if !p.contains(['*', '?']) && self.service(p).is_none() {
            let hint = suggest(p, self.prefixes())
                .map(|s| format!("; did you mean {s}?"))
                .unwrap_or_default();
            return Err(bad(format!("unknown service prefix {p:?}{hint}")));
        }
        let out: Vec<Act<'a>> = self
            .cat
            .expand(pattern.trim())
            .into_iter()
            .map(|id| {
                let (svc, action) = self.cat.get(id);
                Act { svc, action }
            })
            .collect();
        if out.is_empty() {
            let msg = if pattern.contains(['*', '?']) {
                "matches no action".to_string()
            } else {
                let hint = self
                    .service(p)
                    .and_then(|s| suggest(n, s.actions.iter().map(|a| a.name.as_str())))
                    .map(|s| format!("; did you mean {p}:{s}?"))
                    .unwrap_or_default();
                format!("unknown action{hint}")
            };
            return Err(bad(msg));
        }
        Ok(out)
    }

    /// One action by its lowercased full name.
    pub fn lookup(&self, key: &str) -> Option<Act<'a>> {
        let (p, n) = key.split_once(':')?;
        let svc = self.service(p)?;
        svc.actions
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(n))
            .map(|action| Act { svc, action })
    }

    /// Every action of a service (none when the prefix is unknown).
    pub fn service_actions(&self, prefix: &str) -> Vec<Act<'a>> {
        self.service(prefix)
            .map(|svc| {
                svc.actions
                    .iter()
                    .map(|action| Act { svc, action })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every action of a service; an unknown prefix is an error.
    pub fn service_actions_checked(&self, prefix: &str) -> Result<Vec<Act<'a>>, WriteError> {
        if self.service(prefix).is_none() {
            let hint = suggest(prefix, self.prefixes())
                .map(|s| format!("; did you mean {s}?"))
                .unwrap_or_default();
            return Err(WriteError::BadAction {
                pattern: prefix.to_string(),
                message: format!("unknown service prefix{hint}"),
            });
        }
        Ok(self.service_actions(prefix))
    }

    /// The ARN formats of a resource type, as the reference writes them.
    pub fn type_formats(&self, prefix: &str, ty: &str) -> Vec<String> {
        self.service(prefix)
            .and_then(|s| {
                s.resource_types
                    .iter()
                    .find(|t| t.name.eq_ignore_ascii_case(ty))
            })
            .map(|t| t.arns.iter().map(|a| a.arn.clone()).collect())
            .unwrap_or_default()
    }

    /// The parsed formats of a resource type (with the catalog's extras,
    /// such as a log group's `…:*`).
    fn parsed_formats(&self, prefix: &str, ty: &str) -> &'a [Format] {
        let cat: &'a Catalog = self.cat;
        cat.service_index(prefix)
            .and_then(|si| cat.resource_type(si, ty).map(|(ti, _)| cat.formats(si, ti)))
            .unwrap_or(&[])
    }

    /// Does `g` reach an ARN of format `f` (the catalog's one rule:
    /// [`Catalog::format_reaches`])?
    fn reaches(&self, g: &Given, f: &Format) -> bool {
        self.cat
            .format_reaches(&mut self.m.borrow_mut(), &g.pattern, f)
    }

    /// Can the given resource name an ARN of this resource type?
    pub fn fits(&self, g: &Given, prefix: &str, ty: &str) -> bool {
        if g.pattern.is_any() {
            return true;
        }
        let key = (
            g.text.clone(),
            prefix.to_ascii_lowercase(),
            ty.to_ascii_lowercase(),
        );
        if let Some(&r) = self.fits_memo.borrow().get(&key) {
            return r;
        }
        let r = self
            .parsed_formats(prefix, ty)
            .iter()
            .any(|f| self.reaches(g, f));
        self.fits_memo.borrow_mut().insert(key, r);
        r
    }

    /// The (prefix, resource type) pairs a given ARN names, best first
    /// ([`Catalog::resolve`]), with whether the type's service owns the
    /// ARN namespace.
    pub fn types_of(&self, g: &Given) -> Vec<(String, String, bool)> {
        let found = self.cat.resolve(&mut self.m.borrow_mut(), &g.pattern);
        found
            .into_iter()
            .map(|r| {
                let s = self.cat.service_at(r.service);
                (
                    s.prefix.clone(),
                    s.resource_types[r.resource_type as usize].name.clone(),
                    r.owner,
                )
            })
            .collect()
    }

    /// Patterns for resource type `target` of service `prefix` derived
    /// from a given ARN of another resource type of the same service,
    /// when the formats name the same thing: a placeholder of the same
    /// name that is not the own id of both (bucket `b` → `arn:aws:s3:::b/*`
    /// through `BucketName`; never one `${ResourceId}` for another kind's
    /// `${ResourceId}`), or a placeholder named after the target type
    /// (`${GlobalNetworkId}` → the global network's id). Each pattern comes
    /// with whether it puts `*` into a region or account the given ARN
    /// did not say (a widening: the caller stops unless told to widen).
    pub fn derive(&self, g: &Given, prefix: &str, target: &str, partition: &str) -> Vec<Derived> {
        if g.pattern.is_any() {
            return Vec::new();
        }
        let key = (
            g.text.clone(),
            prefix.to_ascii_lowercase(),
            target.to_ascii_lowercase(),
        );
        if let Some(r) = self.derive_memo.borrow().get(&key) {
            return r.clone();
        }
        let r = self.derive_uncached(g, prefix, target, partition);
        self.derive_memo.borrow_mut().insert(key, r.clone());
        r
    }

    fn derive_uncached(
        &self,
        g: &Given,
        prefix: &str,
        target: &str,
        partition: &str,
    ) -> Vec<Derived> {
        let Some(svc) = self.service(prefix) else {
            return Vec::new();
        };
        let targets = self.parsed_formats(prefix, target);
        let target_key = alnum_lower(target);
        let mut out: Vec<Derived> = Vec::new();
        for t in &svc.resource_types {
            if t.name.eq_ignore_ascii_case(target) {
                continue;
            }
            for fg in self.parsed_formats(prefix, &t.name) {
                if !self.reaches(g, fg) {
                    continue;
                }
                let Some(b) = arn::bind(fg, &g.pattern) else {
                    continue;
                };
                let own_g = own_id(fg);
                for ft in targets {
                    let own_t = own_id(ft);
                    let mut filled = arn::Bindings::new();
                    let mut shared = false;
                    for n in ft.placeholders() {
                        let l = n.to_ascii_lowercase();
                        if CONTEXT.contains(&l.as_str()) {
                            if let Some(v) = b.get(&l) {
                                filled.insert(l, v.clone());
                            }
                            continue;
                        }
                        let both_own = own_g.as_deref() == Some(l.as_str())
                            && own_t.as_deref() == Some(l.as_str());
                        if let (Some(v), false) = (b.get(&l), both_own) {
                            filled.insert(l, v.clone());
                            shared = true;
                        }
                    }
                    // A placeholder of the given format named after the
                    // target type holds the target's own id.
                    if let Some(own) = &own_t {
                        if !filled.contains_key(own) {
                            let named = fg.placeholders().iter().find(|n| {
                                let k = alnum_lower(n);
                                ["id", "name", "arn", ""].iter().any(|suffix| {
                                    k.strip_suffix(suffix) == Some(target_key.as_str())
                                })
                            });
                            if let Some(v) = named.and_then(|n| b.get(&n.to_ascii_lowercase())) {
                                filled.insert(own.clone(), v.clone());
                                shared = true;
                            }
                        }
                    }
                    if !shared {
                        continue;
                    }
                    let widens = ft.placeholders().iter().any(|n| {
                        let l = n.to_ascii_lowercase();
                        (l == "region" || l == "account")
                            && filled
                                .get(&l)
                                .is_none_or(|v| v.is_empty() || v.contains('*'))
                    });
                    let p = ft.fill(&filled, partition);
                    if !out.iter().any(|(q, _)| *q == p) {
                        out.push((p, widens));
                    }
                }
            }
        }
        out.sort();
        out
    }
}

/// Partition, region and account: filled from the ARN's context, never
/// a reason to derive.
const CONTEXT: [&str; 3] = ["partition", "region", "account"];

/// The format's own id: its last placeholder that is not context
/// (`objectname` for `${BucketName}/${ObjectName}`), lowercase.
fn own_id(f: &Format) -> Option<String> {
    f.placeholders()
        .iter()
        .rev()
        .map(|n| n.to_ascii_lowercase())
        .find(|n| !CONTEXT.contains(&n.as_str()))
}

fn alnum_lower(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The generic pattern of an ARN format.
pub(crate) fn generic(format: &str, partition: &str) -> String {
    Format::parse(format).generic(partition)
}

/// Parses and validates a given resource: `*` or an ARN pattern with a
/// real partition, region and account.
pub(crate) fn parse_given(s: &str) -> Result<Given, WriteError> {
    let bad = |message: String| WriteError::BadResource {
        resource: s.to_string(),
        message,
    };
    let pattern = Pattern::parse(s.trim()).map_err(|e| bad(e.message))?;
    if let Some(p) = arn::validate(&pattern).into_iter().next() {
        let fix = p
            .fix
            .map(|f| format!(" (did you mean {f}?)"))
            .unwrap_or_default();
        return Err(bad(format!("{}{fix}", p.message)));
    }
    Ok(Given {
        text: s.trim().to_string(),
        pattern,
    })
}
