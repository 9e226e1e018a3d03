//! `policy check`'s run over parsed documents, pure: which services the
//! run's one catalog needs, each policy's kind (given, configured, or
//! detected), its findings after the configuration's muting and the
//! severity floor. The binary reads the inputs and renders the report.

use crate::catalog::Catalog;
use crate::document::Policy;
use crate::finding::{Finding, Severity};
use crate::kinds::PolicyKind;
use crate::lint_config::Config;
use std::collections::BTreeSet;
use std::path::PathBuf;

pub mod report;

/// The services whose condition keys a policy names (`iam` for
/// `iam:ResourceTag/team`; not `aws`, whose global keys the engine knows):
/// they are loaded too, so a key of another service than the actions' is
/// judged the same whether or not another file of the run loaded it.
pub fn condition_prefixes(p: &Policy) -> impl Iterator<Item = String> + '_ {
    p.statements
        .iter()
        .flat_map(|s| &s.conditions)
        .filter_map(|c| {
            c.key
                .value
                .split_once(':')
                .map(|x| x.0.to_ascii_lowercase())
        })
        .filter(|pre| pre != "aws" && !pre.is_empty() && !pre.contains(['*', '?', '$']))
}

/// The prefixes the catalog of a run over these policies holds: the
/// union of their actions' and condition keys' prefixes, or `None`
/// (every service) when one policy needs all.
pub fn catalog_prefixes<'a>(
    policies: impl IntoIterator<Item = &'a Policy>,
) -> Option<BTreeSet<String>> {
    let mut all = BTreeSet::new();
    for p in policies {
        all.extend(p.prefixes()?);
        all.extend(condition_prefixes(p));
    }
    Some(all)
}

/// The action patterns of these policies' `Action` and `NotAction`
/// elements, the only actions whose details (resource types, keys,
/// dependent actions) a check consults: the catalog can hold the other
/// actions by name alone ([`iamref_dataset::db::Selection::actions`]).
/// `None` (every action's details) when a pattern is not `prefix:name`
/// with a literal prefix, such as `*` or `s3*:Get*`.
pub fn catalog_actions<'a>(policies: impl IntoIterator<Item = &'a Policy>) -> Option<Vec<String>> {
    let mut out = BTreeSet::new();
    for p in policies {
        for st in &p.statements {
            for e in [&st.action, &st.not_action].into_iter().flatten() {
                for item in &e.items {
                    let (prefix, _) = item.value.split_once(':')?;
                    if prefix.is_empty() || prefix.contains(['*', '?']) {
                        return None;
                    }
                    out.insert(item.value.to_ascii_lowercase());
                }
            }
        }
    }
    Some(out.into_iter().collect())
}

/// A policy's kind: the one given, else the configuration's for the file
/// (`cands`, `None` for standard input), else detected from its shape and
/// file name.
pub fn kind_of(
    given: Option<PolicyKind>,
    config: &Config,
    cands: Option<&[PathBuf]>,
    policy: &Policy,
    name: Option<&str>,
) -> PolicyKind {
    given
        .or_else(|| config.kind(cands))
        .unwrap_or_else(|| PolicyKind::detect(policy, name))
}

/// One policy's findings as reported, and how many were not.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub findings: Vec<Finding>,
    /// Muted by the configuration.
    pub muted: usize,
    /// Below the severity floor.
    pub below: usize,
}

/// Check one policy as `kind`, then mute (the configuration, for the
/// file's candidates) and drop what is below `min`.
pub fn check_policy(
    catalog: &Catalog,
    policy: &Policy,
    kind: PolicyKind,
    config: &Config,
    cands: Option<&[PathBuf]>,
    min: Severity,
) -> Checked {
    let mut out = Checked::default();
    for f in crate::check::check_as(catalog, policy, kind) {
        if config.muted(f.code, cands) {
            out.muted += 1;
        } else if f.severity < min {
            out.below += 1;
        } else {
            out.findings.push(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tests::small;
    use crate::lint_config::ConfigFormat;

    /// A constructed policy (not from a real account).
    fn policy(action: &str, resource: &str, condition_key: Option<&str>) -> Policy {
        let cond = condition_key
            .map(|k| format!(r#","Condition":{{"StringEquals":{{"{k}":"x"}}}}"#))
            .unwrap_or_default();
        crate::document::parse(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"{cond}}}]}}"#
        ))
        .unwrap()
    }

    #[test]
    fn the_catalog_holds_the_actions_and_condition_keys_prefixes() {
        let a = policy("s3:GetObject", "*", Some("iam:ResourceTag/team"));
        let b = policy("DynamoDB:GetItem", "*", Some("aws:SourceIp"));
        let got = catalog_prefixes([&a, &b]).unwrap();
        let want: BTreeSet<String> = ["dynamodb", "iam", "s3"].map(String::from).into();
        assert_eq!(got, want);
        // A wildcard prefix needs every service.
        let all = policy("s*:Get*", "*", None);
        assert_eq!(catalog_prefixes([&a, &all, &b]), None);
        assert_eq!(catalog_prefixes([]), Some(BTreeSet::new()));
    }

    #[test]
    fn the_catalog_details_the_actions_the_patterns_name() {
        let a = policy("s3:Get*", "*", Some("iam:ResourceTag/team"));
        let deny = crate::document::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["IAM:PassRole","s3:Get*"],"Resource":"*"}]}"#,
        )
        .unwrap();
        let want: Vec<String> = ["iam:passrole", "s3:get*"].map(String::from).into();
        assert_eq!(catalog_actions([&a, &deny]), Some(want));
        // `*` and a wildcard prefix consult every action.
        for every in ["*", "s*:Get*", ":Get*"] {
            let p = policy(every, "*", None);
            assert_eq!(catalog_actions([&a, &p]), None, "{every}");
        }
        assert_eq!(catalog_actions([]), Some(Vec::new()));
    }

    #[test]
    fn the_kind_given_wins_over_the_configured_over_the_detected() {
        let p = policy("s3:GetObject", "*", None);
        let c = Config::parse(
            "[[kind-in]]\npaths = [\"scp/*\"]\nkind = \"scp\"\n",
            ConfigFormat::Toml,
            None,
        )
        .unwrap();
        let scp = [PathBuf::from("scp/a.json")];
        let detected = PolicyKind::detect(&p, Some("a.json"));
        assert_eq!(kind_of(None, &c, None, &p, Some("a.json")), detected);
        assert_eq!(kind_of(None, &c, Some(&scp), &p, None), PolicyKind::Scp);
        assert_eq!(
            kind_of(Some(PolicyKind::Boundary), &c, Some(&scp), &p, None),
            PolicyKind::Boundary
        );
    }

    #[test]
    fn muted_and_below_the_floor_are_counted_not_reported() {
        let cat = small();
        // Every finding a policy granting a write on "*" and an action the
        // catalog lacks has, as the engine reports them.
        let p = crate::document::parse(
            r#"{"Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:NoSuchAction"],"Resource":"*"}]}"#,
        )
        .unwrap();
        let all = crate::check::check_as(&cat, &p, PolicyKind::Identity);
        assert!(all.len() >= 2, "{all:?}");
        let none = Config::default();
        let r = check_policy(&cat, &p, PolicyKind::Identity, &none, None, Severity::Info);
        assert_eq!(r.findings, all);
        assert_eq!((r.muted, r.below), (0, 0));
        // Mute one code: its findings are counted as muted.
        let code = all[0].code;
        let n = all.iter().filter(|f| f.code == code).count();
        let c = Config::parse(&format!("mute = [\"{code}\"]\n"), ConfigFormat::Toml, None).unwrap();
        let r = check_policy(&cat, &p, PolicyKind::Identity, &c, None, Severity::Info);
        assert_eq!(r.muted, n);
        assert_eq!(r.findings.len(), all.len() - n);
        assert!(r.findings.iter().all(|f| f.code != code));
        // The floor: what is below it is counted, the rest reported.
        let r = check_policy(&cat, &p, PolicyKind::Identity, &none, None, Severity::Error);
        let errors = all.iter().filter(|f| f.severity >= Severity::Error).count();
        assert_eq!(r.findings.len(), errors);
        assert_eq!(r.below, all.len() - errors);
    }
}
