//! The policy fixtures' yardstick: `expectations.toml` beside the
//! constructed policies in `policy/tests/fixtures/policies`, read and
//! compared in one place for the engine's test (`policy/tests/fixtures.rs`)
//! and the binary's (`query/tests/cli/policy_check.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What `policy check --min-severity info` must and must not report for
/// one fixture.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Expect {
    /// What the fixture is (never empty).
    pub about: String,
    /// Codes that must appear.
    pub must: Vec<String>,
    /// Codes that must not appear.
    #[serde(default)]
    pub must_not: Vec<String>,
    /// No code but `must` may appear.
    #[serde(default)]
    pub only: bool,
    /// For a code, the exact union of the actions its findings list.
    #[serde(default)]
    pub actions: BTreeMap<String, Vec<String>>,
}

/// Fixture name (file stem) → its expectations, from `dir/expectations.toml`.
pub fn load(dir: &Path) -> BTreeMap<String, Expect> {
    let path = dir.join("expectations.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What a run reported for one fixture: code → the union of its actions.
pub type Got = BTreeMap<String, BTreeSet<String>>;

/// Every way `got` falls short of `e`, one line each, naming the fixture.
pub fn compare(name: &str, e: &Expect, got: &Got) -> Vec<String> {
    let mut failures = Vec::new();
    let have: BTreeSet<&str> = got.keys().map(String::as_str).collect();
    for m in &e.must {
        if !have.contains(m.as_str()) {
            failures.push(format!("{name}: expected {m}; got {have:?}"));
        }
    }
    for m in &e.must_not {
        if let Some(acts) = got.get(m) {
            failures.push(format!(
                "{name}: must not report {m} (actions {acts:?}); got {have:?}"
            ));
        }
    }
    if e.only {
        let extra: Vec<&&str> = have
            .iter()
            .filter(|c| !e.must.iter().any(|m| m == **c))
            .collect();
        if !extra.is_empty() {
            failures.push(format!(
                "{name}: expected only {:?}; also got {extra:?}",
                e.must
            ));
        }
    }
    for (code, want) in &e.actions {
        let want: BTreeSet<String> = want.iter().cloned().collect();
        if let Some(acts) = got.get(code) {
            if *acts != want {
                failures.push(format!(
                    "{name}: {code} should list actions {want:?}; got {acts:?}"
                ));
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_names_every_shortfall() {
        let e: Expect = toml::from_str(
            "about = \"x\"\nmust = [\"a\"]\nmust-not = [\"b\"]\nonly = true\n[actions]\na = [\"s3:GetObject\"]\n",
        )
        .unwrap();
        let got = |pairs: &[(&str, &[&str])]| -> Got {
            pairs
                .iter()
                .map(|(c, a)| (c.to_string(), a.iter().map(|s| s.to_string()).collect()))
                .collect()
        };
        assert!(compare("f", &e, &got(&[("a", &["s3:GetObject"])])).is_empty());
        let f = compare("f", &e, &got(&[("b", &[]), ("c", &[])]));
        assert_eq!(f.len(), 3, "{f:?}");
        assert!(f[0].contains("expected a") && f[1].contains("must not report b"));
        assert!(f[2].contains("expected only"));
        let f = compare("f", &e, &got(&[("a", &["s3:PutObject"])]));
        assert!(f[0].contains("should list actions"), "{f:?}");
    }
}
