//! The core of the writer: each action scoped to the resources given,
//! derived from them, or (with `--widen`) the generic pattern, every
//! required resource type covered.

use super::data::{self, Act, Data, Given};
use super::{
    meet_contexts, statements, AccessLevel, Catalog, ContextValues, Grant, Kind, Note, NoteCode,
    Request, Stop, WriteError, Written,
};
use std::collections::{BTreeMap, BTreeSet};

/// How an action came into the request: named (derivation applies) or
/// picked by an access level from an ARN (the ARN picks the resource
/// type; no derivation).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Named,
    Access,
}

/// The outcome of scoping one action.
enum Plan {
    Granted(Grant),
    Stopped(Stop),
    /// Access-level mode only: other required types not covered.
    LeftOut(Vec<String>),
}

struct Ctx<'a> {
    d: Data<'a>,
    req: &'a Request,
    notes: Vec<Note>,
    stops: Vec<Stop>,
    /// (kind, action key) → (display name, grant).
    grants: BTreeMap<(Kind, String), (String, Grant)>,
    excluded: Vec<(String, BTreeSet<String>, bool)>,
}

fn note(
    code: NoteCode,
    widens: bool,
    action: Option<&str>,
    resources: Vec<String>,
    from: Vec<String>,
    message: String,
) -> Note {
    Note {
        code,
        widens,
        action: action.map(str::to_string),
        resources,
        from,
        message,
    }
}

impl<'a> Ctx<'a> {
    /// Is the action excluded? Marks the exclude pattern as used.
    fn is_excluded(&mut self, key: &str) -> bool {
        let mut hit = false;
        for (_, set, used) in self.excluded.iter_mut() {
            if set.contains(key) {
                *used = true;
                hit = true;
            }
        }
        hit
    }

    fn add(&mut self, kind: Kind, act: &Act<'a>, g: Grant) {
        use std::collections::btree_map::Entry;
        match self.grants.entry((kind, act.key())) {
            Entry::Vacant(v) => {
                v.insert((act.full(), g));
            }
            Entry::Occupied(mut o) => {
                let e = &mut o.get_mut().1;
                e.resources.extend(g.resources);
                e.types.extend(g.types);
                // Granted twice: the broader of the two contexts.
                e.context = meet_contexts([e.context.as_ref(), g.context.as_ref()].into_iter());
            }
        }
    }

    /// The context `act` is granted in: the keys of `ctx` the action
    /// supports, reported as a note saying where it came from.
    fn context(
        &mut self,
        act: &Act<'a>,
        ctx: Option<ContextValues>,
        from: &str,
    ) -> Option<ContextValues> {
        let mut ctx = ctx?;
        ctx.retain(|k, _| act.supports_key(k));
        if ctx.is_empty() {
            return None;
        }
        let said: Vec<String> = ctx
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k} is {}",
                    v.iter().cloned().collect::<Vec<_>>().join(" or ")
                )
            })
            .collect();
        self.notes.push(note(
            NoteCode::Context,
            false,
            Some(&act.full()),
            Vec::new(),
            Vec::new(),
            format!(
                "granted only where {} (StringEquals: {from})",
                said.join(" and ")
            ),
        ));
        Some(ctx)
    }

    /// Scope one action to `given`: every group of its required types
    /// (see [`crate::resources`]) covered by a given ARN, one derived from
    /// one, or (with `--widen`) the generic patterns, reported.
    fn plan(&mut self, act: &Act<'a>, given: &[Given], mode: Mode) -> Plan {
        let full = act.full();
        let types = act.resource_types();
        let widen = self.req.options.widen;
        let partition = self.req.options.partition.as_str();
        let given_text: Vec<String> = given.iter().map(|g| g.text.clone()).collect();
        let mut grant = Grant::default();
        // Direct fits: every given resource that matches a resource type.
        let mut covered: BTreeSet<String> = BTreeSet::new();
        for (t, _) in &types {
            for g in given {
                if self.d.fits(g, act.prefix(), t) {
                    grant.resources.insert(g.text.clone());
                    grant.types.insert(t.clone());
                    covered.insert(t.clone());
                }
            }
        }
        let groups = crate::resources::required_groups(act.prefix(), act.action);
        let is_covered = |t: &String| covered.iter().any(|c| c.eq_ignore_ascii_case(t));
        // What must be covered: each group of required types; when none is
        // required, at least one of the types.
        let unmet: Vec<Vec<String>> = if groups.groups.is_empty() {
            if covered.is_empty() {
                vec![types.iter().map(|(t, _)| t.clone()).collect()]
            } else {
                Vec::new()
            }
        } else {
            groups
                .groups
                .iter()
                .filter(|g| !g.iter().any(is_covered))
                .cloned()
                .collect()
        };
        // Alternatives covered by one of them: say which others it takes.
        for g in groups.groups.iter().filter(|g| g.len() > 1) {
            if g.iter().any(is_covered) && !unmet.contains(g) {
                let others: Vec<&str> = g
                    .iter()
                    .filter(|t| !is_covered(t))
                    .map(String::as_str)
                    .collect();
                if !others.is_empty() {
                    self.notes.push(note(
                        NoteCode::Alternatives,
                        false,
                        Some(&full),
                        Vec::new(),
                        given_text.clone(),
                        format!(
                            "scoped to {}; it also takes {} (a call names one resource of one of these types: {})",
                            covered.iter().cloned().collect::<Vec<_>>().join(", "),
                            others.join(", "),
                            groups.class.as_str()
                        ),
                    ));
                }
            }
        }
        if unmet.is_empty() {
            return Plan::Granted(grant);
        }
        let label = |g: &[String]| {
            if g.len() == 1 {
                g[0].clone()
            } else {
                format!("one of {}", g.join(", "))
            }
        };
        if given.is_empty() {
            // Nothing given at all: the generic patterns, reported.
            let mut pats = Vec::new();
            for t in unmet.iter().flatten() {
                for f in self.d.type_formats(act.prefix(), t) {
                    let p = data::generic(&f, partition);
                    grant.resources.insert(p.clone());
                    pats.push(p);
                }
                grant.types.insert(t.clone());
            }
            if pats.is_empty() {
                grant.resources.insert("*".into());
                pats.push("*".into());
            }
            self.notes.push(note(
                NoteCode::Generic,
                true,
                Some(&full),
                pats.clone(),
                Vec::new(),
                format!(
                    "no resources given: scoped to {} ({}); give ARNs with -r to narrow",
                    pats.join(", "),
                    unmet
                        .iter()
                        .map(|g| label(g))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            ));
            return Plan::Granted(grant);
        }
        let mut missing: Vec<(String, Vec<String>)> = Vec::new();
        let mut missing_types: Vec<String> = Vec::new();
        // Derived patterns that would put `*` into a region or account.
        let mut widening: Vec<(String, String, BTreeSet<String>)> = Vec::new();
        for group in &unmet {
            let mut derived: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
            let mut wide: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
            if mode == Mode::Named {
                for t in group {
                    for g in given {
                        for (p, widens) in self.d.derive(g, act.prefix(), t, partition) {
                            let into = if widens { &mut wide } else { &mut derived };
                            into.entry((p, t.clone()))
                                .or_default()
                                .insert(g.text.clone());
                        }
                    }
                }
            }
            if derived.is_empty() && (wide.is_empty() || !widen) {
                let formats: Vec<String> = group
                    .iter()
                    .flat_map(|t| self.d.type_formats(act.prefix(), t))
                    .collect();
                missing.push((label(group), formats));
                missing_types.extend(group.iter().cloned());
                for ((p, t), from) in wide {
                    widening.push((p, t, from));
                }
                continue;
            }
            let (chosen, widens) = if derived.is_empty() {
                (wide, true)
            } else {
                (derived, false)
            };
            for ((p, t), from) in chosen {
                grant.types.insert(t.clone());
                grant.resources.insert(p.clone());
                let from_list = from.iter().cloned().collect::<Vec<_>>().join(", ");
                let message = if widens {
                    format!("--widen: {p} ({t}) derived from {from_list}, with \"*\" for the region or account it does not say")
                } else {
                    format!("{p} ({t}) derived from {from_list}")
                };
                self.notes.push(note(
                    if widens {
                        NoteCode::Widened
                    } else {
                        NoteCode::Derived
                    },
                    true,
                    Some(&full),
                    vec![p.clone()],
                    from.iter().cloned().collect(),
                    message,
                ));
            }
        }
        if missing.is_empty() {
            return Plan::Granted(grant);
        }
        let mut widen_to: Vec<String> = missing
            .iter()
            .flat_map(|(_, fs)| fs.iter().map(|f| data::generic(f, partition)))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // A derivation that only lacks region or account: that is what
        // --widen grants (narrower than the generic pattern).
        if !widening.is_empty() {
            widen_to = widening
                .iter()
                .map(|(p, _, _)| p.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
        }
        let widen_to = if widen_to.is_empty() {
            vec!["*".to_string()]
        } else {
            widen_to
        };
        if mode == Mode::Access && !widen {
            return Plan::LeftOut(missing.into_iter().map(|(t, _)| t).collect());
        }
        if !widen {
            if !widening.is_empty() {
                for (t, _) in missing.iter_mut() {
                    t.push_str(" (derivable only with \"*\" for a region or account the ARNs given do not say)");
                }
            }
            return Plan::Stopped(Stop {
                action: full,
                given: given_text,
                missing,
                widen_to,
            });
        }
        grant.types.extend(missing_types);
        grant.resources.extend(widen_to.iter().cloned());
        self.notes.push(note(
            NoteCode::Widened,
            true,
            Some(&full),
            widen_to.clone(),
            given_text,
            format!(
                "--widen: {} for {} (no ARN given fits or derives)",
                widen_to.join(", "),
                missing
                    .iter()
                    .map(|(t, _)| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
        Plan::Granted(grant)
    }

    /// Grant `act` on `given` (named mode) in `context`, recording stops
    /// and notes.
    fn named(&mut self, act: &Act<'a>, given: &[Given], context: Option<ContextValues>) {
        if act.resource_types().is_empty() {
            if !given.is_empty() {
                self.notes.push(note(
                    NoteCode::WildcardOnly,
                    true,
                    Some(&act.full()),
                    vec!["*".into()],
                    given.iter().map(|g| g.text.clone()).collect(),
                    "takes only \"*\" (no resource-level permissions): granted on \"*\" in its own statement".into(),
                ));
            }
            self.add(
                Kind::WildcardOnly,
                act,
                Grant {
                    resources: ["*".to_string()].into(),
                    types: BTreeSet::new(),
                    context,
                },
            );
            return;
        }
        match self.plan(act, given, Mode::Named) {
            Plan::Granted(mut g) => {
                g.context = context;
                self.add(Kind::Scoped, act, g)
            }
            Plan::Stopped(s) => self.stops.push(s),
            Plan::LeftOut(_) => unreachable!("named mode never leaves out"),
        }
    }
}

/// The context a dependent action is needed in: for each action needing
/// it, every operation that authorizes both must set a context for it
/// (else it is needed unconditionally). Also the operations it came from.
fn dependent_context(
    d: &Data,
    dep: &str,
    needed_by: &BTreeSet<String>,
) -> (Option<ContextValues>, Vec<String>) {
    let mut all: Vec<Option<&ContextValues>> = Vec::new();
    let mut ops: Vec<String> = Vec::new();
    for by in needed_by {
        let by = by.to_ascii_lowercase();
        let mut any = false;
        for o in d.operation_contexts() {
            if o.actions.contains(&by) && o.actions.contains(dep) {
                any = true;
                all.push(o.context.get(dep));
                ops.push(o.operation.clone());
            }
        }
        if !any {
            // No operation says in which context: unconditional.
            return (None, Vec::new());
        }
    }
    ops.sort();
    ops.dedup();
    (meet_contexts(all.into_iter()), ops)
}

fn parse_all(list: &[String]) -> Result<Vec<Given>, WriteError> {
    list.iter().map(|s| data::parse_given(s)).collect()
}

pub(super) fn write(cat: &Catalog, req: &Request) -> Result<Written, WriteError> {
    let mut cx = Ctx {
        d: Data::new(cat),
        req,
        notes: Vec::new(),
        stops: Vec::new(),
        grants: BTreeMap::new(),
        excluded: Vec::new(),
    };
    for pat in &req.exclude {
        let set: BTreeSet<String> = cx.d.expand(pat)?.iter().map(Act::key).collect();
        cx.excluded.push((pat.clone(), set, false));
    }
    let global = parse_all(&req.resources)?;
    let mut seen_secrets: BTreeSet<String> = BTreeSet::new();
    for g in req
        .resources
        .iter()
        .chain(req.needs.iter().flat_map(|n| n.resources.iter()))
        .chain(req.access.iter().map(|(_, a)| a))
    {
        if let Some(fix) = data::parse_given(g)
            .ok()
            .and_then(|g| crate::resources::secret_without_suffix(&g.pattern))
        {
            if seen_secrets.insert(g.clone()) {
                cx.notes.push(note(
                    NoteCode::SecretSuffix,
                    false,
                    None,
                    Vec::new(),
                    vec![g.clone()],
                    format!("{g} names a secret without the 6-character suffix every secret ARN ends in, so it matches no secret; write {fix}"),
                ));
            }
        }
    }

    // Named actions: resources per action are the union of its needs',
    // and so is the context (none when one need has none).
    let mut named: BTreeMap<String, (Act, Vec<Given>)> = BTreeMap::new();
    let mut contexts: BTreeMap<String, Vec<Option<&ContextValues>>> = BTreeMap::new();
    for need in &req.needs {
        let own = parse_all(&need.resources)?;
        for act in cx.d.expand(&need.action)? {
            if cx.is_excluded(&act.key()) {
                continue;
            }
            contexts
                .entry(act.key())
                .or_default()
                .push((!need.context.is_empty()).then_some(&need.context));
            let e = named
                .entry(act.key())
                .or_insert_with(|| (act, global.clone()));
            for g in &own {
                if !e.1.iter().any(|x| x.text == g.text) {
                    e.1.push(g.clone());
                }
            }
        }
    }
    for (key, (act, given)) in &named {
        let ctx = contexts
            .remove(key)
            .and_then(|c| meet_contexts(c.into_iter()));
        let ctx = cx.context(act, ctx, "the context of the calls that need it");
        cx.named(act, given, ctx);
    }

    // Access-level mode: the ARN picks the resource type.
    let mut picked: BTreeMap<String, (Act, AccessLevel, Vec<Given>)> = BTreeMap::new();
    for (level, arn) in &req.access {
        let g = data::parse_given(arn)?;
        let types = cx.d.types_of(&g);
        if types.is_empty() {
            return Err(WriteError::BadResource {
                resource: arn.clone(),
                message: format!(
                    "({}) matches no resource type of the reference; see `iamref arn {arn}`",
                    level.template_key()
                ),
            });
        }
        let mut found = false;
        // Of the services whose types share the ARN's format, the one
        // owning the ARN namespace decides, as policy_sentry does: an EC2
        // instance ARN picks EC2's actions, not ssm:StartSession or
        // ec2-instance-connect's. The others are named in a note.
        let has_owner = types.iter().any(|(_, _, owner)| *owner);
        let mut others: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (prefix, ty, owner) in &types {
            if has_owner && !owner {
                for act in cx.d.service_actions(prefix) {
                    if act.access_level() == Some(*level)
                        && act
                            .resource_types()
                            .iter()
                            .any(|(t, _)| t.eq_ignore_ascii_case(ty))
                    {
                        others
                            .entry(format!("{prefix}:{ty}"))
                            .or_default()
                            .insert(act.full());
                    }
                }
                continue;
            }
            for act in cx.d.service_actions(prefix) {
                if act.access_level() != Some(*level)
                    || !act
                        .resource_types()
                        .iter()
                        .any(|(t, _)| t.eq_ignore_ascii_case(ty))
                {
                    continue;
                }
                found = true;
                if cx.is_excluded(&act.key()) {
                    continue;
                }
                let e = picked
                    .entry(act.key())
                    .or_insert_with(|| (act, *level, Vec::new()));
                if !e.2.iter().any(|x| x.text == g.text) {
                    e.2.push(g.clone());
                }
            }
        }
        for (ty, acts) in &others {
            cx.notes.push(note(
                NoteCode::OtherService,
                false,
                None,
                Vec::new(),
                vec![arn.clone()],
                format!(
                    "left out: {} of {ty} (another service's type with the same ARN format); name them with -r ARN to grant them",
                    acts.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        if !found {
            cx.notes.push(note(
                NoteCode::NothingAtLevel,
                false,
                None,
                Vec::new(),
                vec![arn.clone()],
                format!(
                    "no {} action takes {arn} ({}); nothing granted for it",
                    level,
                    types
                        .iter()
                        .map(|(p, t, _)| format!("{p}:{t}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    for (act, level, given) in picked.values() {
        // Other required types may be covered by ARNs given at the same
        // level, never derived.
        let pool: Vec<Given> = req
            .access
            .iter()
            .filter(|(l, _)| l == level)
            .filter_map(|(_, a)| data::parse_given(a).ok())
            .collect();
        let pool = if pool.is_empty() { given.clone() } else { pool };
        match cx.plan(act, &pool, Mode::Access) {
            Plan::Granted(g) => cx.add(Kind::Scoped, act, g),
            Plan::Stopped(s) => cx.stops.push(s),
            Plan::LeftOut(missing) => cx.notes.push(note(
                NoteCode::LeftOut,
                false,
                Some(&act.full()),
                Vec::new(),
                given.iter().map(|g| g.text.clone()).collect(),
                format!(
                    "left out: it also needs {} and no {} ARN given is one; name the action with -r ARNs, or pass --widen",
                    missing.join(", "),
                    level.template_key()
                ),
            )),
        }
    }

    // Wildcard-only needs.
    let mut star: Vec<Act> = Vec::new();
    for (level, prefix) in &req.service_wildcard {
        for act in cx.d.service_actions_checked(prefix)? {
            if act.access_level() == Some(*level) && act.resource_types().is_empty() {
                star.push(act);
            }
        }
    }
    for pat in &req.wildcard_only {
        for act in cx.d.expand(pat)? {
            if act.resource_types().is_empty() {
                star.push(act);
            } else {
                cx.notes.push(note(
                    NoteCode::NotWildcardOnly,
                    false,
                    Some(&act.full()),
                    Vec::new(),
                    Vec::new(),
                    "left out of wildcard-only: it supports resource-level permissions; name it with -r ARNs instead".into(),
                ));
            }
        }
    }
    for act in star {
        if !cx.is_excluded(&act.key()) {
            cx.add(
                Kind::WildcardOnly,
                &act,
                Grant {
                    resources: ["*".to_string()].into(),
                    types: BTreeSet::new(),
                    context: None,
                },
            );
        }
    }

    // Dependent actions of everything granted so far.
    let mut deps: BTreeMap<String, (Act, BTreeSet<String>, Vec<Given>)> = BTreeMap::new();
    let mut unresolved: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    let granted: Vec<(String, String)> = cx
        .grants
        .keys()
        .map(|(_, k)| k.clone())
        .zip(cx.grants.values().map(|(n, _)| n.clone()))
        .collect();
    let granted_keys: BTreeSet<String> = granted.iter().map(|(k, _)| k.clone()).collect();
    for (key, name) in &granted {
        let Some(act) = cx.d.lookup(key) else {
            continue;
        };
        let given: Vec<Given> = named
            .get(key)
            .map(|(_, g)| g.clone())
            .or_else(|| picked.get(key).map(|(_, _, g)| g.clone()))
            .unwrap_or_default();
        for d in act.dependent_actions() {
            let Ok(found) = cx.d.expand(&d) else {
                // Not in the catalog (not loaded, or not in the data):
                // reported by name, never dropped.
                let e = unresolved
                    .entry(d.to_ascii_lowercase())
                    .or_insert_with(|| (d.clone(), BTreeSet::new()));
                e.1.insert(name.clone());
                continue;
            };
            for dep in found {
                if granted_keys.contains(&dep.key()) || cx.is_excluded(&dep.key()) {
                    continue;
                }
                let e = deps
                    .entry(dep.key())
                    .or_insert_with(|| (dep, BTreeSet::new(), Vec::new()));
                e.1.insert(name.clone());
                for g in &given {
                    if !e.2.iter().any(|x| x.text == g.text) {
                        e.2.push(g.clone());
                    }
                }
            }
        }
    }
    for (dep, needed_by, given) in deps.values() {
        let by = needed_by.iter().cloned().collect::<Vec<_>>().join(", ");
        if req.options.include_dependent {
            cx.notes.push(note(
                NoteCode::DependentIncluded,
                false,
                Some(&dep.full()),
                Vec::new(),
                Vec::new(),
                format!("included (--include-dependent): the reference lists it as a dependent action of {by}"),
            ));
            let (ctx, ops) = dependent_context(&cx.d, &dep.key(), needed_by);
            let ctx = cx.context(dep, ctx, &format!("the context {} sets", ops.join(", ")));
            cx.named(dep, given, ctx);
        } else {
            cx.notes.push(note(
                NoteCode::DependentAction,
                false,
                Some(&dep.full()),
                Vec::new(),
                Vec::new(),
                format!("not granted: the reference lists it as a dependent action of {by}; --include-dependent adds it"),
            ));
        }
    }

    for (key, (d, needed_by)) in &unresolved {
        if granted_keys.contains(key) || cx.is_excluded(key) {
            continue;
        }
        let by = needed_by.iter().cloned().collect::<Vec<_>>().join(", ");
        let message = if req.options.include_dependent {
            format!("not granted: the reference lists it as a dependent action of {by}, but it is not an action of the data")
        } else {
            format!("not granted: the reference lists it as a dependent action of {by}; --include-dependent adds it")
        };
        cx.notes.push(note(
            NoteCode::DependentAction,
            false,
            Some(d),
            Vec::new(),
            Vec::new(),
            message,
        ));
    }

    // Granted on "*" on request.
    for pat in &req.skip_resource_constraints {
        for act in cx.d.expand(pat)? {
            if cx.is_excluded(&act.key()) {
                continue;
            }
            cx.grants.remove(&(Kind::Scoped, act.key()));
            cx.grants.remove(&(Kind::WildcardOnly, act.key()));
            if !act.resource_types().is_empty() {
                cx.notes.push(note(
                    NoteCode::SkipResourceConstraints,
                    true,
                    Some(&act.full()),
                    vec!["*".into()],
                    Vec::new(),
                    "granted on \"*\" (skip-resource-constraints) although it supports resource-level permissions".into(),
                ));
            }
            cx.add(
                Kind::Skip,
                &act,
                Grant {
                    resources: ["*".to_string()].into(),
                    types: BTreeSet::new(),
                    context: None,
                },
            );
        }
    }

    for (pat, _, used) in &cx.excluded {
        if !used {
            cx.notes.push(note(
                NoteCode::ExcludeUnused,
                false,
                None,
                Vec::new(),
                Vec::new(),
                format!("exclude pattern {pat} matched no requested action"),
            ));
        }
    }
    if !cx.stops.is_empty() {
        return Err(WriteError::Unscoped(cx.stops));
    }
    if cx.grants.is_empty() {
        let mut msg =
            String::from("nothing to grant: every requested action was excluded or left out");
        for n in &cx.notes {
            msg.push_str(&format!("\n  {n}"));
        }
        return Err(WriteError::Nothing(msg));
    }
    let mut notes = cx.notes;
    notes.sort();
    notes.dedup();
    Ok(Written {
        statements: statements(&cx.grants, req.options.effect),
        notes,
    })
}
