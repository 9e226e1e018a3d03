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
    pub fn resource_types(&self) -> Vec<(String, bool)> {
        let mut out: Vec<(String, bool)> = Vec::new();
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

/// The catalog with a memoizing matcher.
pub(crate) struct Data<'a> {
    cat: &'a Catalog,
    m: RefCell<Matcher>,
    /// (given, prefix, type) → fits; many actions share a resource type.
    fits_memo: RefCell<HashMap<(String, String, String), bool>>,
    /// (given, prefix, target type) → derived patterns.
    derive_memo: RefCell<HashMap<(String, String, String), Vec<String>>>,
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

    /// Does `g` reach an ARN of format `f`, the most specific format of
    /// its ARN namespace winning?
    fn reaches(&self, g: &Given, f: &Format) -> bool {
        // A literal service part must be the format's namespace.
        if let Some(svc) = g.pattern.service() {
            let literal = !svc.contains(['*', '?', '$']);
            if literal
                && !f
                    .as_str()
                    .split(':')
                    .nth(2)
                    .is_some_and(|n| n.eq_ignore_ascii_case(svc))
            {
                return false;
            }
        }
        let others = self.cat.namespace_formats(f);
        let mut m = self.m.borrow_mut();
        if g.pattern.is_concrete() {
            // One ARN: it belongs to `f` when `f` accepts it and no
            // narrower format that also accepts it exists. Deciding
            // "narrower" only for the few formats that accept the ARN is
            // what `Matcher::reaches` decides, without comparing `f` with
            // every format of the namespace.
            if !m.intersects(&g.pattern, f) {
                return false;
            }
            return !others.iter().any(|o| {
                o.as_str() != f.as_str() && m.intersects(&g.pattern, o) && m.strictly_narrower(o, f)
            });
        }
        m.reaches(&g.pattern, f, &others)
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

    /// The (prefix, resource type) pairs a given ARN names, among the
    /// loaded services whose formats have its service part.
    pub fn types_of(&self, g: &Given) -> Vec<(String, String)> {
        let Some(svc_part) = g.pattern.service() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for s in self.cat.services() {
            for t in &s.resource_types {
                let same_namespace = t.arns.iter().any(|a| {
                    a.arn
                        .split(':')
                        .nth(2)
                        .is_some_and(|p| p.eq_ignore_ascii_case(svc_part))
                });
                if same_namespace && self.fits(g, &s.prefix, &t.name) {
                    out.push((s.prefix.clone(), t.name.clone()));
                }
            }
        }
        out
    }

    /// Patterns for resource type `target` of service `prefix` derived
    /// from a given ARN of another resource type of the same service, when
    /// their formats share a name placeholder the given ARN binds
    /// (`BucketName`, `LogGroupName`): bucket `b` → `arn:aws:s3:::b/*`.
    pub fn derive(&self, g: &Given, prefix: &str, target: &str, partition: &str) -> Vec<String> {
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
    ) -> Vec<String> {
        let Some(svc) = self.service(prefix) else {
            return Vec::new();
        };
        const CONTEXT: [&str; 3] = ["partition", "region", "account"];
        let targets = self.parsed_formats(prefix, target);
        let mut out: Vec<String> = Vec::new();
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
                for ft in targets {
                    let shared = ft.placeholders().iter().any(|n| {
                        let n = n.to_ascii_lowercase();
                        !CONTEXT.contains(&n.as_str()) && b.contains_key(&n)
                    });
                    if shared {
                        let p = ft.fill(&b, partition);
                        if !out.contains(&p) {
                            out.push(p);
                        }
                    }
                }
            }
        }
        out.sort();
        out
    }
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
