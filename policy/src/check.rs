//! `policy check`: the whole policy against the catalog, as IAM evaluates
//! it. One finding per statement, code and cause, listing the actions
//! concerned; cost linear in the size of the policy (each distinct action
//! pattern and Resource is decided once, answers are memoised).

use crate::arn::{validate, Matcher, Pattern};
use crate::catalog::{ActionId, Catalog};
use crate::conditions::{self, check_value, fit, parse_operator, Fit, SetOp, Type};
use crate::document::{finding, Condition, Policy, Spanned, Statement};
use crate::finding::{Finding, Location, Severity};
use crate::kinds::PolicyKind;
use crate::names::{key_matches_template, suggest};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Known privilege-escalation combinations: every action of a set allowed
/// lets a principal raise its own permissions (after Rhino Security Labs'
/// research, as parliament and others list them).
const ESCALATIONS: &[&[&str]] = &[
    &["iam:CreatePolicyVersion"],
    &["iam:SetDefaultPolicyVersion"],
    &["iam:CreateAccessKey"],
    &["iam:CreateLoginProfile"],
    &["iam:UpdateLoginProfile"],
    &["iam:AttachUserPolicy"],
    &["iam:AttachGroupPolicy"],
    &["iam:AttachRolePolicy"],
    &["iam:PutUserPolicy"],
    &["iam:PutGroupPolicy"],
    &["iam:PutRolePolicy"],
    &["iam:AddUserToGroup"],
    &["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"],
    &["iam:PassRole", "ec2:RunInstances"],
    &["iam:PassRole", "lambda:CreateFunction"],
    &["iam:PassRole", "glue:CreateDevEndpoint"],
    &["iam:PassRole", "cloudformation:CreateStack"],
    &["iam:PassRole", "datapipeline:CreatePipeline"],
    &["iam:PassRole", "ecs:RunTask"],
    &["lambda:UpdateFunctionCode"],
    &["glue:UpdateDevEndpoint"],
];

/// Actions that return credentials or secrets to the caller.
const CREDENTIAL_ACTIONS: &[&str] = &[
    "chime:CreateApiKey",
    "codepipeline:PollForJobs",
    "cognito-identity:GetCredentialsForIdentity",
    "cognito-identity:GetOpenIdToken",
    "cognito-identity:GetOpenIdTokenForDeveloperIdentity",
    "connect:GetFederationToken",
    "ec2:GetPasswordData",
    "ecr:GetAuthorizationToken",
    "gamelift:RequestUploadCredentials",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:CreateServiceSpecificCredential",
    "iam:ResetServiceSpecificCredential",
    "iam:UpdateAccessKey",
    "lightsail:GetInstanceAccessDetails",
    "lightsail:GetRelationalDatabaseMasterUserPassword",
    "redshift:GetClusterCredentials",
    "secretsmanager:GetSecretValue",
    "sso:GetRoleCredentials",
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:GetFederationToken",
    "sts:GetSessionToken",
];

/// At most this many actions are named in a message (all are in `actions`).
const NAMED: usize = 8;

fn list(names: &[String]) -> String {
    if names.len() <= NAMED {
        names.join(", ")
    } else {
        format!(
            "{} and {} more",
            names[..NAMED].join(", "),
            names.len() - NAMED
        )
    }
}

/// What one Allow statement grants, for the whole-policy checks.
struct Grant {
    statement: usize,
    /// Reached resource types per action (indexes into the service's types);
    /// `None`: the statement's Resources include `"*"`.
    reached: BTreeMap<ActionId, Option<BTreeSet<u32>>>,
    /// The actions it grants on every resource of a type they take (`"*"`,
    /// or a pattern as broad: `arn:aws:s3:::*`, `arn:*:cloudtrail:*:*:trail/*`)
    /// with no condition: the risk checks warn only about these.
    broad: BTreeSet<ActionId>,
}

/// Check a policy against the catalog, as the kind its shape says
/// ([`PolicyKind::detect`] without a file name).
pub fn check(catalog: &Catalog, policy: &Policy) -> Vec<Finding> {
    check_as(catalog, policy, PolicyKind::detect(policy, None))
}

/// Check a policy of a known kind against the catalog.
pub fn check_as(catalog: &Catalog, policy: &Policy, kind: PolicyKind) -> Vec<Finding> {
    let mut out = policy.problems.clone();
    crate::kinds::rules(policy, kind, &mut out);
    crate::kinds::principal_risks(policy, kind, &mut out);
    let mut m = Matcher::new();
    let mut expansions: HashMap<String, Vec<ActionId>> = HashMap::new();
    let mut grants: Vec<Grant> = Vec::new();
    let mut sids: HashMap<&str, usize> = HashMap::new();
    let uses_variables = policy.statements.iter().any(|s| {
        [&s.resource, &s.not_resource]
            .into_iter()
            .flatten()
            .flat_map(|e| &e.items)
            .any(|i| i.value.contains("${"))
            || s.conditions
                .iter()
                .any(|c| c.values.iter().any(|v| v.value.contains("${")))
    });
    if uses_variables
        && policy
            .version
            .as_ref()
            .is_none_or(|v| v.value != "2012-10-17")
    {
        out.push(finding(
            "variable-needs-version",
            None,
            policy.version.as_ref().map(|v| v.at).unwrap_or_default(),
            Vec::new(),
            "the policy uses policy variables (${...}) but only Version 2012-10-17 substitutes them; here they are literal text".into(),
            Some("\"Version\": \"2012-10-17\"".into()),
        ));
    }
    for st in &policy.statements {
        if let Some(sid) = &st.sid {
            if let Some(first) = sids.insert(sid.value.as_str(), st.index) {
                out.push(finding(
                    "duplicate-sid",
                    Some(st),
                    sid.at,
                    Vec::new(),
                    format!("Sid {:?} is also the Sid of statement {first}", sid.value),
                    None,
                ));
            }
        }
        let actions = actions_of(catalog, st, &mut expansions, &mut out);
        check_statement(catalog, st, &actions, &mut m, &mut grants, &mut out);
        check_conditions(catalog, st, &actions, &mut out);
    }
    whole_policy(catalog, policy, kind, &grants, &mut out);
    out.sort_by(|a, b| (a.location, a.statement, a.code).cmp(&(b.location, b.statement, b.code)));
    out
}

/// The actions a statement's `Action` names, each distinct pattern
/// expanded once; unknown names reported.
fn actions_of(
    catalog: &Catalog,
    st: &Statement,
    expansions: &mut HashMap<String, Vec<ActionId>>,
    out: &mut Vec<Finding>,
) -> BTreeSet<ActionId> {
    let mut set = BTreeSet::new();
    let mut reported: BTreeSet<String> = BTreeSet::new();
    // The patterns already in `set`: a repeated one adds nothing.
    let mut added: std::collections::HashSet<String> = std::collections::HashSet::new();
    let elements = [(&st.action, false), (&st.not_action, true)];
    for (el, negated) in elements {
        let Some(el) = el else { continue };
        for item in &el.items {
            let key = item.value.to_ascii_lowercase();
            if let Some(ids) = expansions.get(&key) {
                if !negated && added.insert(key) {
                    set.extend(ids.iter().copied());
                }
                continue;
            }
            let ids = expand_one(catalog, st, item, &mut reported, out);
            if !negated {
                set.extend(ids.iter().copied());
                added.insert(key.clone());
            }
            expansions.insert(key, ids);
        }
    }
    set
}

fn expand_one(
    catalog: &Catalog,
    st: &Statement,
    item: &Spanned<String>,
    reported: &mut BTreeSet<String>,
    out: &mut Vec<Finding>,
) -> Vec<ActionId> {
    let v = item.value.as_str();
    if v == "*" || v == "*:*" {
        if st.is_allow() && st.action.is_some() {
            out.push(finding(
                "all-actions",
                Some(st),
                item.at,
                Vec::new(),
                format!("{v:?} allows every action of every service"),
                Some("name the actions the workload needs (iamref policy write)".into()),
            ));
        }
        return catalog.expand("*:*");
    }
    let Some((prefix, name)) = v.split_once(':') else {
        out.push(finding(
            "invalid-action",
            Some(st),
            item.at,
            Vec::new(),
            format!("{v:?} is not SERVICE:ACTION (e.g. s3:GetObject)"),
            None,
        ));
        return Vec::new();
    };
    let ok = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.*?".contains(&b))
    };
    if !ok(prefix) || !ok(name) {
        out.push(finding(
            "invalid-action",
            Some(st),
            item.at,
            Vec::new(),
            format!("{v:?} is not SERVICE:ACTION: names hold letters, digits, '-', '_', '.' and the wildcards * and ?"),
            None,
        ));
        return Vec::new();
    }
    let wild_prefix = prefix.contains(['*', '?']);
    if !wild_prefix && !catalog.has_prefix(prefix) {
        if reported.insert(prefix.to_ascii_lowercase()) {
            out.push(finding(
                "unknown-prefix",
                Some(st),
                item.at,
                vec![v.to_string()],
                format!("no AWS service has the prefix {prefix:?}"),
                suggest(prefix, catalog.prefixes().iter().map(String::as_str))
                    .map(|s| format!("did you mean {s}:{name}?")),
            ));
        }
        return Vec::new();
    }
    let ids = catalog.expand(v);
    if ids.is_empty() {
        let wild = wild_prefix || name.contains(['*', '?']);
        let fix = if wild {
            None
        } else {
            catalog.service(prefix).and_then(|s| {
                suggest(name, s.actions.iter().map(|a| a.name.as_str()))
                    .map(|n| format!("did you mean {}:{n}?", s.prefix))
            })
        };
        out.push(finding(
            if wild {
                "wildcard-matches-nothing"
            } else {
                "unknown-action"
            },
            Some(st),
            item.at,
            vec![v.to_string()],
            if wild {
                format!("{v:?} matches no action")
            } else {
                format!("{prefix} has no action {name:?}")
            },
            fix,
        ));
    }
    ids
}

struct Res {
    pattern: Pattern,
    at: Location,
}

fn resources_of(
    st: &Statement,
    el: &Option<crate::document::Element>,
    out: &mut Vec<Finding>,
) -> Vec<Res> {
    let mut res = Vec::new();
    let mut seen = BTreeSet::new();
    let Some(el) = el else { return res };
    for item in &el.items {
        if !seen.insert(item.value.clone()) {
            continue;
        }
        match Pattern::parse(&item.value) {
            Ok(p) => {
                for prob in validate(&p) {
                    out.push(finding(
                        match prob.part {
                            "partition" => "invalid-partition",
                            "region" => "invalid-region",
                            _ => "invalid-account",
                        },
                        Some(st),
                        item.at,
                        Vec::new(),
                        format!("{}: {}", item.value, prob.message),
                        prob.fix.map(|f| format!("write {f}")),
                    ));
                }
                if let Some(fix) = crate::resources::secret_without_suffix(&p) {
                    out.push(finding(
                        "secret-without-suffix",
                        Some(st),
                        item.at,
                        Vec::new(),
                        format!(
                            "{} names a secret without the 6-character suffix every secret ARN ends in (prod/db-AbCdEf), so it matches no secret",
                            shorten(&item.value)
                        ),
                        Some(format!("write {fix}")),
                    ));
                }
                res.push(Res {
                    pattern: p,
                    at: item.at,
                })
            }
            Err(e) => out.push(finding(
                "invalid-arn",
                Some(st),
                item.at,
                Vec::new(),
                format!("{:?} {}", shorten(&item.value), e.message),
                None,
            )),
        }
    }
    res
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s.to_string()
    }
}

fn check_statement(
    catalog: &Catalog,
    st: &Statement,
    actions: &BTreeSet<ActionId>,
    m: &mut Matcher,
    grants: &mut Vec<Grant>,
    out: &mut Vec<Finding>,
) {
    let resources = resources_of(st, &st.resource, out);
    let _ = resources_of(st, &st.not_resource, out);
    let names =
        |ids: &[ActionId]| -> Vec<String> { ids.iter().map(|&i| catalog.full_name(i)).collect() };
    if st.is_allow() {
        if let Some(el) = &st.not_action {
            out.push(finding(
                "allow-not-action",
                Some(st),
                el.at,
                Vec::new(),
                "Allow with NotAction allows every action not listed, in every service, including actions AWS adds later".into(),
                Some("list the actions to allow in Action".into()),
            ));
        }
        if let Some(el) = &st.not_resource {
            out.push(finding(
                "allow-not-resource",
                Some(st),
                el.at,
                Vec::new(),
                "Allow with NotResource allows every resource not listed, including ones created later".into(),
                Some("list the resources to allow in Resource".into()),
            ));
        }
    }
    let Some(res_el) = &st.resource else { return };
    if actions.is_empty() || resources.is_empty() {
        return;
    }
    let any = resources.iter().any(|r| r.pattern.is_any());
    let mut mismatched = Vec::new();
    let mut wildcard_only = Vec::new();
    let mut star_scoped = Vec::new();
    let mut used = vec![false; resources.len()];
    let mut reached_all: BTreeMap<ActionId, Option<BTreeSet<u32>>> = BTreeMap::new();
    // Reach of (Resource, service, resource type), decided once: the
    // actions of a statement share their types.
    let mut type_reach: HashMap<(usize, u32, u32), bool> = HashMap::new();
    for &id in actions {
        let (_, act) = catalog.get(id);
        if act.resource_types.is_empty() {
            if !any {
                wildcard_only.push(id);
            }
            reached_all.insert(id, None);
            continue;
        }
        if any {
            star_scoped.push(id);
            reached_all.insert(id, None);
        }
        let mut reached = BTreeSet::new();
        for r in &act.resource_types {
            let Some((ti, _)) = catalog.resource_type(id.service, &r.name) else {
                continue;
            };
            for (k, res) in resources.iter().enumerate() {
                if res.pattern.is_any() {
                    continue;
                }
                // The catalog's one rule decides (a Resource of another ARN
                // namespace never names the type; `${Vendor}` formats take
                // what no concrete format does).
                let hit = *type_reach
                    .entry((k, id.service, ti))
                    .or_insert_with(|| catalog.pattern_reaches(m, &res.pattern, id.service, ti));
                if hit {
                    reached.insert(ti);
                    used[k] = true;
                }
            }
        }
        if !any {
            if reached.is_empty() {
                mismatched.push(id);
            }
            reached_all.insert(id, Some(reached));
        }
    }
    if st.is_deny() {
        let reaches_something = any || used.iter().any(|u| *u);
        if !reaches_something && wildcard_only.len() < actions.len() {
            out.push(finding(
                "deny-matches-nothing",
                Some(st),
                res_el.at,
                Vec::new(),
                "no Resource of this Deny names a resource any of its actions acts on: it denies nothing".into(),
                None,
            ));
        }
        return;
    }
    if !st.is_allow() {
        return;
    }
    if !mismatched.is_empty() {
        let n = names(&mismatched);
        let fix = fix_for(catalog, &mismatched);
        out.push(finding(
            "resource-mismatch",
            Some(st),
            res_el.at,
            n.clone(),
            format!(
                "no Resource of this statement names a resource that {} can act on, so {} allowed nothing",
                list(&n),
                if n.len() == 1 { "it is" } else { "they are" }
            ),
            fix,
        ));
    }
    if !wildcard_only.is_empty() {
        let n = names(&wildcard_only);
        out.push(finding(
            "wildcard-only-action",
            Some(st),
            res_el.at,
            n.clone(),
            format!(
                "{} cannot be scoped to a resource (the reference lists no resource type), so only \"Resource\": \"*\" allows {}",
                list(&n),
                if n.len() == 1 { "it" } else { "them" }
            ),
            Some("move them to a statement with \"Resource\": \"*\"".into()),
        ));
    }
    if !star_scoped.is_empty() {
        let n = names(&star_scoped);
        out.push(finding(
            "resource-star",
            Some(st),
            res_el.at,
            n.clone(),
            format!(
                "\"*\" allows {} on every resource, though {} can be scoped to specific ARNs",
                list(&n),
                if n.len() == 1 { "it" } else { "they" }
            ),
            Some("name the resources (iamref action ACTION shows the ARN formats)".into()),
        ));
    }
    let has_resource_level = actions.iter().any(|&i| catalog.get(i).1.resource_level());
    if has_resource_level {
        for (k, r) in resources.iter().enumerate() {
            if !used[k] && !r.pattern.is_any() {
                out.push(finding(
                    "unused-resource",
                    Some(st),
                    r.at,
                    Vec::new(),
                    format!(
                        "no action of this statement acts on {}",
                        shorten(r.pattern.as_str())
                    ),
                    None,
                ));
            }
        }
    }
    // Broad and unconditioned: every resource of a type the action takes.
    let mut broad = BTreeSet::new();
    if st.conditions.is_empty() {
        // Only the actions a risk check or permissions-management asks about.
        for &id in actions.iter().filter(|&&id| risk_relevant(catalog, id)) {
            let (_, act) = catalog.get(id);
            let wide = any
                || act.resource_types.iter().any(|r| {
                    let Some((ti, _)) = catalog.resource_type(id.service, &r.name) else {
                        return false;
                    };
                    catalog.formats(id.service, ti).iter().any(|f| {
                        resources.iter().any(|res| {
                            let partition = res
                                .pattern
                                .parts()
                                .map(|p| p[1].as_str())
                                .filter(|p| !p.contains(['*', '?', '$']))
                                .unwrap_or("aws");
                            Pattern::parse(&f.generic(partition))
                                .is_ok_and(|g| m.includes(&res.pattern, &g))
                        })
                    })
                });
            if wide {
                broad.insert(id);
            }
        }
    }
    // Permissions management on every resource: "*", or a pattern as
    // broad for the type (`arn:aws:s3:::*` for s3:PutBucketPolicy).
    let pm: Vec<String> = actions
        .iter()
        // In `star_scoped` (what `any` pushed there), without a linear
        // search per action: `"*:*"` names every action.
        .filter(|&&i| (any && !catalog.get(i).1.resource_types.is_empty()) || broad.contains(&i))
        .filter(|&&i| catalog.get(i).1.access_level.as_deref() == Some("Permissions management"))
        .map(|&i| catalog.full_name(i))
        .collect();
    if !pm.is_empty() {
        out.push(finding(
            "permissions-management",
            Some(st),
            res_el.at,
            pm.clone(),
            format!(
                "permissions-management actions on every resource{}: {}",
                if any { " (\"*\")" } else { " of their type" },
                list(&pm)
            ),
            Some("scope them to the resources they manage".into()),
        ));
    }
    grants.push(Grant {
        statement: st.index,
        reached: reached_all,
        broad,
    });
}

/// "use arn:aws:s3:::mybucket/* for s3:GetObject": the generic patterns of
/// the required (else all) resource types of the first actions.
fn fix_for(catalog: &Catalog, ids: &[ActionId]) -> Option<String> {
    let mut parts = Vec::new();
    for &id in ids.iter().take(3) {
        let (_, act) = catalog.get(id);
        let req: Vec<_> = act.resource_types.iter().filter(|r| r.required).collect();
        let pick = if req.is_empty() {
            act.resource_types.iter().collect()
        } else {
            req
        };
        let pats: Vec<String> = pick
            .iter()
            .filter_map(|r| catalog.resource_type(id.service, &r.name))
            .flat_map(|(ti, _)| catalog.formats(id.service, ti).iter().take(1))
            .map(|f| f.generic("aws"))
            .collect();
        if !pats.is_empty() {
            parts.push(format!(
                "{} takes {}",
                catalog.full_name(id),
                pats.join(" or ")
            ));
        }
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn whole_policy(
    catalog: &Catalog,
    policy: &Policy,
    kind: PolicyKind,
    grants: &[Grant],
    out: &mut Vec<Finding>,
) {
    // Required resource types: union over every Allow statement naming
    // the action.
    let mut union: BTreeMap<ActionId, (usize, Option<BTreeSet<u32>>)> = BTreeMap::new();
    for g in grants {
        for (&id, r) in &g.reached {
            let e = union
                .entry(id)
                .or_insert((g.statement, Some(BTreeSet::new())));
            match (&mut e.1, r) {
                (_, None) => e.1 = None,
                (Some(acc), Some(r)) => acc.extend(r.iter().copied()),
                (None, _) => {}
            }
        }
    }
    // Group actions by (first statement, missing types).
    let mut groups: BTreeMap<(usize, Vec<String>), Vec<ActionId>> = BTreeMap::new();
    let mut formats: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (&id, (first, reached)) in &union {
        let Some(reached) = reached else { continue };
        if reached.is_empty() {
            continue; // already a resource-mismatch
        }
        // Each group of required types (the request names one resource
        // per group: see `crate::resources`) must be reached; an
        // alternative not named is no finding.
        let required = catalog.required_groups(id);
        let mut missing = Vec::new();
        for group in &required.groups {
            let types: Vec<(u32, &iamref_dataset::model::ResourceType)> = group
                .iter()
                .filter_map(|t| catalog.resource_type(id.service, t))
                .collect();
            if types.is_empty() || types.iter().any(|(ti, _)| reached.contains(ti)) {
                continue;
            }
            let label = if types.len() == 1 {
                types[0].1.name.clone()
            } else {
                format!(
                    "one of {}",
                    types
                        .iter()
                        .map(|(_, rt)| rt.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            formats.entry(label.clone()).or_insert_with(|| {
                types
                    .iter()
                    .flat_map(|(ti, _)| catalog.formats(id.service, *ti))
                    .map(|f| f.generic("aws"))
                    .collect()
            });
            missing.push(label);
        }
        if !missing.is_empty() {
            groups.entry((*first, missing)).or_default().push(id);
        }
    }
    for ((first, missing), ids) in groups {
        let st = &policy.statements[first];
        let n: Vec<String> = ids.iter().map(|&i| catalog.full_name(i)).collect();
        let fmts: Vec<String> = missing
            .iter()
            .map(|t| {
                format!(
                    "{t} ({})",
                    formats.get(t).map(|f| f.join(", ")).unwrap_or_default()
                )
            })
            .collect();
        out.push(finding(
            "missing-required-resource",
            Some(st),
            st.resource.as_ref().map(|e| e.at).unwrap_or(st.at),
            n.clone(),
            format!(
                "{} also {} {}, which no Allow statement for {} names: every call is denied",
                list(&n),
                if n.len() == 1 { "requires" } else { "require" },
                fmts.join(", "),
                if n.len() == 1 { "it" } else { "them" }
            ),
            Some(format!(
                "add Resources for {} (iamref policy write {} writes them)",
                missing.join(", "),
                n[0]
            )),
        ));
    }
    // Escalation combinations and credential exposure, over the actions
    // allowed anywhere.
    let allowed: BTreeSet<String> = union
        .keys()
        .map(|&i| catalog.full_name(i).to_ascii_lowercase())
        .collect();
    let first_stmt = |name: &str| -> Option<&Statement> {
        let id = catalog.action_by_full_name(name)?;
        union.get(&id).map(|(s, _)| &policy.statements[*s])
    };
    // Allowed on every resource of its type, with no condition: the grant
    // reaches beyond anything the scope names.
    let broad: BTreeSet<String> = grants
        .iter()
        .flat_map(|g| g.broad.iter())
        .map(|&i| catalog.full_name(i).to_ascii_lowercase())
        .collect();
    // A risk that the scope already limits is reported as `info`, naming
    // the scope; one reaching beyond it as the code's own severity.
    let risk = |code: &'static str,
                names: &[String],
                message: String,
                fix: Option<String>,
                out: &mut Vec<Finding>| {
        let st = first_stmt(&names[0]);
        let wide = names
            .iter()
            .all(|a| broad.contains(&a.to_ascii_lowercase()));
        let mut f = finding(
            code,
            st,
            st.map(|s| s.at).unwrap_or_default(),
            names.to_vec(),
            if wide {
                message
            } else {
                format!("{message}; the statement limits it to the resources or conditions it names: review that they are the caller's own")
            },
            if wide { fix } else { None },
        );
        if !wide {
            f.severity = Severity::Info;
        }
        out.push(f);
    };
    for combo in ESCALATIONS {
        if combo
            .iter()
            .all(|a| allowed.contains(&a.to_ascii_lowercase()))
        {
            let n: Vec<String> = combo.iter().map(|s| s.to_string()).collect();
            let message = if n.len() == 1 {
                format!("{} lets a principal raise its own permissions", n[0])
            } else {
                format!(
                    "{} together let a principal raise its own permissions",
                    n.join(" + ")
                )
            };
            risk(
                "privilege-escalation",
                &n,
                message,
                Some("scope them to specific resources, or split them across principals".into()),
                out,
            );
        }
    }
    let creds: Vec<String> = CREDENTIAL_ACTIONS
        .iter()
        .filter(|a| allowed.contains(&a.to_ascii_lowercase()))
        .map(|a| a.to_string())
        .collect();
    if !creds.is_empty() {
        let verb = if creds.len() == 1 {
            "returns"
        } else {
            "return"
        };
        risk(
            "credentials-exposure",
            &creds,
            format!(
                "{} {verb} credentials or secrets to the caller",
                list(&creds)
            ),
            Some("scope them to the secrets, keys or roles the caller needs".into()),
            out,
        );
    }
    // IAM database authentication: the token is signed by the client with
    // the caller's own credentials; the grant is access as the database
    // users it names.
    if allowed.contains("rds-db:connect") {
        risk(
            "credentials-exposure",
            &["rds-db:connect".to_string()],
            "rds-db:connect lets the caller sign IAM authentication tokens (on the client, with its own credentials) and connect as the database users the Resource names".into(),
            Some("scope it to arn:aws:rds-db:REGION:ACCOUNT:dbuser:DB-RESOURCE-ID/USER".into()),
            out,
        );
    }
    // A resource-based policy letting its principal rewrite the policy.
    if matches!(kind, PolicyKind::Resource | PolicyKind::Trust) {
        let rewrite: Vec<String> = SELF_REWRITE
            .iter()
            .filter(|a| allowed.contains(&a.to_ascii_lowercase()))
            .map(|a| a.to_string())
            .collect();
        if !rewrite.is_empty() {
            let st = first_stmt(&rewrite[0]);
            out.push(finding(
                "self-rewriting-policy",
                st,
                st.map(|s| s.at).unwrap_or_default(),
                rewrite.clone(),
                format!(
                    "{} lets the principals this policy allows rewrite the policy itself, and so grant themselves anything it governs",
                    list(&rewrite)
                ),
                Some("grant policy changes to administrators in their identity policies instead".into()),
            ));
        }
    }
}

/// Does a risk check (escalation, credentials, self-rewriting) or
/// permissions-management ask whether `id` is granted broadly?
fn risk_relevant(catalog: &Catalog, id: ActionId) -> bool {
    let (_, act) = catalog.get(id);
    if act.access_level.as_deref() == Some("Permissions management") {
        return true;
    }
    let name = catalog.full_name(id);
    let is = |list: &[&str]| list.iter().any(|a| a.eq_ignore_ascii_case(&name));
    is(CREDENTIAL_ACTIONS)
        || is(SELF_REWRITE)
        || name.eq_ignore_ascii_case("rds-db:connect")
        || ESCALATIONS.iter().any(|c| is(c))
}

/// Actions that rewrite the resource-based policy they are allowed by.
const SELF_REWRITE: &[&str] = &[
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "kms:PutKeyPolicy",
    "sns:SetTopicAttributes",
    "sns:AddPermission",
    "sqs:SetQueueAttributes",
    "sqs:AddPermission",
    "secretsmanager:PutResourcePolicy",
    "lambda:AddPermission",
    "ecr:SetRepositoryPolicy",
    "iam:UpdateAssumeRolePolicy",
    "glacier:SetVaultAccessPolicy",
    "es:UpdateDomainConfig",
];

/// Global keys only some actions supply: the tags of the request and of
/// the resource (the reference lists them per action and resource type).
fn request_specific(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.starts_with("aws:requesttag/") || k == "aws:tagkeys" || k.starts_with("aws:resourcetag/")
}

/// Keys an action supports: action-level, its resource-type rows, and
/// those resource types' own keys.
fn supports_key(catalog: &Catalog, id: ActionId, key: &str) -> bool {
    let (_, act) = catalog.get(id);
    let hit = |name: &str| name.eq_ignore_ascii_case(key) || key_matches_template(name, key);
    act.condition_keys.iter().any(|k| hit(&k.name))
        || act.resource_types.iter().any(|r| {
            r.condition_keys.iter().any(|k| hit(&k.name))
                || catalog
                    .resource_type(id.service, &r.name)
                    .is_some_and(|(_, rt)| rt.condition_keys.iter().any(|k| hit(&k.name)))
        })
}

fn check_conditions(
    catalog: &Catalog,
    st: &Statement,
    actions: &BTreeSet<ActionId>,
    out: &mut Vec<Finding>,
) {
    for c in &st.conditions {
        check_condition(catalog, st, actions, c, out);
    }
}

fn check_condition(
    catalog: &Catalog,
    st: &Statement,
    actions: &BTreeSet<ActionId>,
    c: &Condition,
    out: &mut Vec<Finding>,
) {
    let op = match parse_operator(&c.operator.value) {
        Ok(op) => op,
        Err(s) => {
            out.push(finding(
                "unknown-operator",
                Some(st),
                c.operator.at,
                Vec::new(),
                format!(
                    "{:?} is not a condition operator; IAM rejects the policy",
                    c.operator.value
                ),
                s.map(|s| format!("did you mean {s}?")),
            ));
            return;
        }
    };
    let key = c.key.value.as_str();
    // The key's type and whether it is multi-valued.
    let (ty, multi, global) = if key.get(..4).is_some_and(|h| h.eq_ignore_ascii_case("aws:")) {
        match conditions::global_key(key) {
            Ok((_, t, m)) => (t, m, true),
            Err(s) => {
                out.push(finding(
                    "unknown-condition-key",
                    Some(st),
                    c.key.at,
                    Vec::new(),
                    format!("{key:?} is not a global condition key"),
                    s.map(|s| format!("did you mean {s}?")),
                ));
                return;
            }
        }
    } else if key
        .split_once(':')
        .is_some_and(|(p, _)| p.contains('.') || p.eq_ignore_ascii_case("saml"))
    {
        // Web identity (`accounts.google.com:aud`,
        // `token.actions.githubusercontent.com:sub`) and SAML (`SAML:aud`)
        // keys: named by the identity provider, not by a service.
        (Type::String, false, true)
    } else {
        let Some((prefix, _)) = key.split_once(':') else {
            out.push(finding(
                "unknown-condition-key",
                Some(st),
                c.key.at,
                Vec::new(),
                format!("{key:?} is not a condition key (SERVICE:KEY or aws:KEY)"),
                None,
            ));
            return;
        };
        let Some(si) = catalog.service_index(prefix) else {
            if !catalog.has_prefix(prefix) {
                out.push(finding(
                    "unknown-condition-key",
                    Some(st),
                    c.key.at,
                    Vec::new(),
                    format!("no service has the prefix {prefix:?} of the key {key:?}"),
                    None,
                ));
            }
            return;
        };
        let svc = catalog.service_at(si);
        let def = catalog.condition_key(si, key).or_else(|| {
            svc.condition_keys
                .iter()
                .find(|k| key_matches_template(&k.name, key))
        });
        let Some(def) = def else {
            out.push(finding(
                "unknown-condition-key",
                Some(st),
                c.key.at,
                Vec::new(),
                format!("{} defines no condition key {key:?}", svc.prefix),
                suggest(key, svc.condition_keys.iter().map(|k| k.name.as_str()))
                    .map(|s| format!("did you mean {s}?")),
            ));
            return;
        };
        let (t, m) = Type::of_reference(def.r#type.as_deref().unwrap_or("String"));
        (t, m, false)
    };
    match fit(&op, ty) {
        Fit::Good => {}
        Fit::Usable(msg) => out.push(finding(
            "mismatched-type-but-usable",
            Some(st),
            c.operator.at,
            Vec::new(),
            format!("{key}: {msg}"),
            None,
        )),
        Fit::Wrong(msg) => {
            out.push(finding(
                "mismatched-type",
                Some(st),
                c.operator.at,
                Vec::new(),
                format!("{key}: {msg}"),
                None,
            ));
            return;
        }
    }
    for v in &c.values {
        if let Err(msg) = check_value(&op, &v.value) {
            out.push(finding(
                "invalid-condition-value",
                Some(st),
                v.at,
                Vec::new(),
                format!("{} on {key}: {msg}", c.operator.value),
                None,
            ));
        }
    }
    if op.set.is_some() && !multi {
        out.push(finding(
            "set-operator-on-single-value",
            Some(st),
            c.operator.at,
            Vec::new(),
            format!(
                "{} is for multi-valued keys; {key} has one value{}",
                c.operator.value,
                if op.set == Some(SetOp::ForAllValues) {
                    ", and ForAllValues is also true when it is absent"
                } else {
                    ""
                }
            ),
            Some(format!(
                "use {}",
                &c.operator.value[c.operator.value.find(':').map_or(0, |i| i + 1)..]
            )),
        ));
    } else if op.set == Some(SetOp::ForAllValues) && st.is_allow() && !op.negated {
        out.push(finding(
            "for-all-values-with-allow",
            Some(st),
            c.operator.at,
            Vec::new(),
            format!("ForAllValues is true when {key} is absent or empty, so this Allow also applies to requests without it"),
            Some(format!("add a Null condition: \"Null\": {{\"{key}\": \"false\"}}")),
        ));
    }
    if key.eq_ignore_ascii_case("aws:MultiFactorAuthPresent")
        && op.base == "Bool"
        && !op.if_exists
        && c.values
            .iter()
            .any(|v| v.value.eq_ignore_ascii_case("false"))
    {
        out.push(finding(
            "bad-pattern-for-mfa",
            Some(st),
            c.operator.at,
            Vec::new(),
            "aws:MultiFactorAuthPresent is absent, not false, for long-term credentials without MFA: Bool false never matches them".into(),
            Some("use \"BoolIfExists\": {\"aws:MultiFactorAuthPresent\": \"false\"}".into()),
        ));
    }
    // A key that no action of the statement supplies: service keys, and
    // the request-specific global keys (`aws:RequestTag/…`, `aws:TagKeys`,
    // `aws:ResourceTag/…`), which only the actions listing them supply.
    if (global && !request_specific(key)) || actions.is_empty() {
        return;
    }
    let unsupported: Vec<ActionId> = actions
        .iter()
        .copied()
        .filter(|&id| !supports_key(catalog, id, key))
        .collect();
    if unsupported.is_empty() {
        return;
    }
    let n: Vec<String> = unsupported.iter().map(|&i| catalog.full_name(i)).collect();
    // Absent key: what the simulator's engine decides with the key absent
    // (positive operators false; negated, IfExists, Null "true" and
    // ForAllValues true).
    let always =
        crate::simulate::condition::holds(c, &crate::simulate::context::Context::new(), false)
            .is_ok();
    if always && op.set == Some(SetOp::ForAllValues) && st.is_allow() {
        out.push(finding(
            "condition-always-matches",
            Some(st),
            c.key.at,
            n.clone(),
            format!(
                "{} never {} {key}, and {} is true when the key is absent: this Allow applies to {} with no restriction from it",
                list(&n),
                if n.len() == 1 { "supplies" } else { "supply" },
                c.operator.value,
                if n.len() == 1 { "it" } else { "them" }
            ),
            Some(format!(
                "move {} to a statement of its own, or add \"Null\": {{\"{key}\": \"false\"}}",
                list(&n)
            )),
        ));
    } else if always {
        out.push(finding(
            "condition-always-matches",
            Some(st),
            c.key.at,
            n.clone(),
            format!(
                "{} never {} {key}: with {} the condition is true without it, so it does not restrict {}",
                list(&n),
                if n.len() == 1 { "supplies" } else { "supply" },
                c.operator.value,
                if n.len() == 1 { "it" } else { "them" }
            ),
            None,
        ));
    } else {
        out.push(finding(
            "condition-never-matches",
            Some(st),
            c.key.at,
            n.clone(),
            format!(
                "{} never {} {key}, so this condition is false and the statement never applies to {}",
                list(&n),
                if n.len() == 1 { "supplies" } else { "supply" },
                if n.len() == 1 { "it" } else { "them" }
            ),
            None,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tests::small;
    use crate::document::parse;

    fn codes(policy: &str) -> Vec<(&'static str, Vec<String>)> {
        let p = parse(policy).unwrap();
        check(&small(), &p)
            .into_iter()
            .map(|f| (f.code, f.actions))
            .collect()
    }
    fn wrap(statements: &str) -> String {
        format!(r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#)
    }

    #[test]
    fn buckets_objects_and_mismatch() {
        let ok = wrap(
            r#"{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]}"#,
        );
        assert!(codes(&ok).is_empty(), "{:?}", codes(&ok));
        let bad = wrap(
            r#"{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "arn:aws:s3:::b"}"#,
        );
        assert_eq!(
            codes(&bad),
            [("resource-mismatch", vec!["s3:GetObject".to_string()])]
        );
    }

    #[test]
    fn deny_is_not_checked_for_partial_reach() {
        let deny = wrap(
            r#"{"Effect": "Deny", "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}"#,
        );
        assert!(codes(&deny).is_empty(), "{:?}", codes(&deny));
        let nothing = wrap(
            r#"{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/t"}"#,
        );
        assert_eq!(codes(&nothing)[0].0, "deny-matches-nothing");
    }

    #[test]
    fn wildcard_only_and_star() {
        let p = wrap(
            r#"{"Effect": "Allow", "Action": ["s3:ListAllMyBuckets"], "Resource": "arn:aws:s3:::b"}"#,
        );
        assert_eq!(codes(&p)[0].0, "wildcard-only-action");
        let p = wrap(r#"{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}"#);
        assert_eq!(codes(&p)[0].0, "resource-star");
    }

    #[test]
    fn required_resource_types_across_statements() {
        // Query requires the table; an index alone is not enough.
        let p = wrap(
            r#"{"Effect": "Allow", "Action": "dynamodb:Query", "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/t/index/i"}"#,
        );
        assert_eq!(codes(&p)[0].0, "missing-required-resource");
        let p = wrap(
            r#"{"Effect": "Allow", "Action": "dynamodb:Query", "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/t/index/i"},
               {"Effect": "Allow", "Action": "dynamodb:Query", "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/t"}"#,
        );
        assert!(codes(&p).is_empty(), "{:?}", codes(&p));
    }

    #[test]
    fn unknown_names_with_suggestions() {
        let p = parse(&wrap(r#"{"Effect": "Allow", "Action": ["s3:GetObjekt", "s4:GetObject", "s3:Frob*"], "Resource": "*"}"#)).unwrap();
        let f = check(&small(), &p);
        let by = |c: &str| f.iter().find(|x| x.code == c).unwrap();
        assert_eq!(
            by("unknown-action").fix.as_deref(),
            Some("did you mean s3:GetObject?")
        );
        assert_eq!(
            by("unknown-prefix").fix.as_deref(),
            Some("did you mean s3:GetObject?")
        );
        assert!(f.iter().any(|x| x.code == "wildcard-matches-nothing"));
    }

    #[test]
    fn conditions() {
        let p = wrap(
            r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {
                "StringEqualz": {"aws:username": "x"},
                "NumericEquals": {"aws:SourceIp": "1"},
                "DateGreaterThan": {"aws:CurrentTime": "yesterday"},
                "Null": {"aws:TokenIssueTime": "yes"},
                "StringEquals": {"aws:SourceIpp": "x", "s3:prefix": "home/"},
                "StringNotEquals": {"s3:x-amz-acl": "public-read"}
            }}"#,
        );
        let got: Vec<&str> = codes(&p).iter().map(|c| c.0).collect();
        for c in [
            "unknown-operator",
            "mismatched-type",
            "invalid-condition-value",
            "unknown-condition-key",
        ] {
            assert!(got.contains(&c), "{c} missing from {got:?}");
        }
    }

    #[test]
    fn hostile_repetition_is_linear_and_bounded() {
        let items = vec!["\"*:*\""; 100].join(",");
        let p = wrap(&format!(
            r#"{{"Effect": "Allow", "Action": [{items}], "Resource": "*"}}"#
        ));
        let f = codes(&p);
        assert!(f.len() <= 5, "{f:?}");
    }

    fn codes_as(policy: &str, kind: PolicyKind) -> Vec<&'static str> {
        let p = parse(policy).unwrap();
        // The small catalog has no sts: its prefix is unknown there.
        check_as(&small(), &p, kind)
            .into_iter()
            .map(|f| f.code)
            .filter(|c| *c != "unknown-prefix")
            .collect()
    }

    #[test]
    fn sids_and_elements_by_kind() {
        // The KMS default key policy's Sid, the SNS default's, Lambda's
        // add-permission's: fine in resource policies, not in IAM's own.
        for sid in [
            "Enable IAM User Permissions",
            "__default_statement_ID",
            "s3-invoke",
        ] {
            let p = format!(
                r#"{{"Version": "2012-10-17", "Statement": [{{"Sid": "{sid}", "Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::123456789012:root"}}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}]}}"#
            );
            assert_eq!(
                PolicyKind::detect(&parse(&p).unwrap(), None),
                PolicyKind::Resource
            );
            assert!(
                !codes_as(&p, PolicyKind::Resource).contains(&"invalid-sid"),
                "{sid}"
            );
            let id = format!(
                r#"{{"Version": "2012-10-17", "Statement": [{{"Sid": "{sid}", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}]}}"#
            );
            assert!(
                codes_as(&id, PolicyKind::Identity).contains(&"invalid-sid"),
                "{sid}"
            );
        }
        let trust = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;
        assert_eq!(
            PolicyKind::detect(&parse(trust).unwrap(), None),
            PolicyKind::Trust
        );
        assert!(
            codes_as(trust, PolicyKind::Trust).is_empty(),
            "{:?}",
            codes_as(trust, PolicyKind::Trust)
        );
        let bad_trust = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "s3:GetObject", "Resource": "*"}]}"#;
        let c = codes_as(bad_trust, PolicyKind::Trust);
        assert!(
            c.contains(&"trust-action") && c.contains(&"trust-resource"),
            "{c:?}"
        );
        let scp = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}"#;
        assert!(codes_as(scp, PolicyKind::Scp).contains(&"principal-not-allowed"));
        let rcp = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "ec2:*", "Resource": "*", "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-123"}}}]}"#;
        let c = codes_as(rcp, PolicyKind::Rcp);
        assert!(
            c.contains(&"rcp-unsupported-service") && !c.contains(&"principal-not-allowed"),
            "{c:?}"
        );
        assert_eq!(
            PolicyKind::detect(&parse(rcp).unwrap(), Some("org/deny-rcp.json")),
            PolicyKind::Rcp
        );
    }

    #[test]
    fn federated_trusts_need_their_provider_keys() {
        let gh = |cond: &str| {
            format!(
                r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {{"StringEquals": {{{cond}}}}}}}]}}"#
            )
        };
        let without = gh(r#""token.actions.githubusercontent.com:aud": "sts.amazonaws.com""#);
        assert!(codes_as(&without, PolicyKind::Trust).contains(&"web-identity-trust-unscoped"));
        let with = gh(
            r#""token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": "repo:org/app:ref:refs/heads/main""#,
        );
        assert!(
            codes_as(&with, PolicyKind::Trust).is_empty(),
            "{:?}",
            codes_as(&with, PolicyKind::Trust)
        );
    }

    #[test]
    fn public_principals_need_a_limiting_condition() {
        let p = |cond: &str| {
            format!(
                r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"{cond}}}]}}"#
            )
        };
        assert!(codes_as(&p(""), PolicyKind::Resource).contains(&"public-principal"));
        let limited = p(r#", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-123"}}"#);
        assert!(!codes_as(&limited, PolicyKind::Resource).contains(&"public-principal"));
        let np = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}"#;
        assert!(codes_as(np, PolicyKind::Resource).contains(&"allow-not-principal"));
    }

    #[test]
    fn for_all_values_on_a_key_an_action_never_supplies_is_true() {
        // ForAllValues on an absent key is true: the Allow applies.
        let p = wrap(
            r#"{"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/T", "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}}"#,
        );
        // The small catalog's GetItem and Query list no keys: neither
        // supplies aws:TagKeys (a request-specific global key), so the
        // condition holds for both.
        let f: Vec<(&str, Vec<String>)> = codes(&p);
        let always: Vec<&Vec<String>> = f
            .iter()
            .filter(|(c, _)| *c == "condition-always-matches")
            .map(|(_, a)| a)
            .collect();
        assert_eq!(
            always,
            [&vec![
                "dynamodb:GetItem".to_string(),
                "dynamodb:Query".to_string()
            ]],
            "{f:?}"
        );
        assert!(
            f.iter().all(|(c, _)| *c != "condition-never-matches"),
            "{f:?}"
        );
    }

    #[test]
    fn many_distinct_resources_stay_one_finding_each_kind() {
        let res: Vec<String> = (0..500)
            .map(|i| format!("\"arn:aws:s3:::b{i}/*\""))
            .collect();
        let p = wrap(&format!(
            r#"{{"Effect": "Allow", "Action": ["s3:*", "dynamodb:*"], "Resource": [{}]}}"#,
            res.join(",")
        ));
        let f = codes(&p);
        // dynamodb's actions reach none of them (one finding), s3's
        // ListBucket none either (the same finding), ListAllMyBuckets needs
        // "*"; and 500 ARNs are over a managed policy's 6,144 characters.
        let kinds: BTreeSet<&str> = f.iter().map(|x| x.0).collect();
        assert_eq!(
            kinds,
            [
                "policy-too-large",
                "resource-mismatch",
                "wildcard-only-action"
            ]
            .into_iter()
            .collect()
        );
        assert_eq!(f.len(), 3, "{f:?}");
    }
}
