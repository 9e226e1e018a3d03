//! The engine's fixtures, tested in the engine: every constructed policy
//! in `tests/fixtures/policies` goes through `check_as` with the kind
//! `PolicyKind::detect` gives it (shape and file name, as `iamref policy
//! check` decides), over the snapshot shipped in `data/`, and must meet
//! its entry in `expectations.toml` (codes that must and must not appear,
//! `only`, the exact actions a code lists). The binary's own test
//! (`query/tests/cli/policy_check.rs`) runs the same fixtures through
//! `iamref policy check` and adds exit codes, output formats and SARIF.

use iamref_policy::check::check_as;
use iamref_policy::document;
use iamref_policy::finding::CODES;
use iamref_policy::kinds::PolicyKind;
use iamref_policy::write::Catalog;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Expect {
    about: String,
    must: Vec<String>,
    #[serde(default)]
    must_not: Vec<String>,
    #[serde(default)]
    only: bool,
    #[serde(default)]
    actions: BTreeMap<String, Vec<String>>,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policies")
}

#[test]
fn every_fixture_meets_its_expectations_in_the_engine() {
    let text = std::fs::read_to_string(fixtures().join("expectations.toml")).unwrap();
    let exp: BTreeMap<String, Expect> = toml::from_str(&text).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    let (_, services) = iamref_dataset::snapshot::read_snapshot(&dir).unwrap();
    let catalog = Catalog::from_services(services);
    let known: BTreeSet<&str> = CODES.iter().map(|c| c.0).collect();
    let mut failures = Vec::new();
    let mut covered = BTreeSet::new();
    for (name, e) in &exp {
        assert!(!e.about.is_empty(), "{name}: say what the fixture is");
        let path = fixtures().join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let policy = match document::parse(&text) {
            Ok(p) => p,
            Err(err) => {
                failures.push(format!("{name}: does not parse: {err:?}"));
                continue;
            }
        };
        let kind = PolicyKind::detect(&policy, Some(&path.to_string_lossy()));
        let mut got: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for f in check_as(&catalog, &policy, kind) {
            assert!(known.contains(f.code), "{name}: unknown code {}", f.code);
            assert!(
                f.location.line >= 1 && f.location.column >= 1,
                "{name}: {f:?}"
            );
            assert!(!f.message.is_empty(), "{name}: {f:?}");
            got.entry(f.code)
                .or_default()
                .extend(f.actions.iter().cloned());
        }
        let have: BTreeSet<&str> = got.keys().copied().collect();
        covered.extend(have.iter().map(|s| s.to_string()));
        for m in &e.must {
            if !have.contains(m.as_str()) {
                failures.push(format!("{name} ({kind:?}): expected {m}; got {have:?}"));
            }
        }
        for m in &e.must_not {
            if have.contains(m.as_str()) {
                failures.push(format!(
                    "{name} ({kind:?}): must not report {m}; got {have:?}"
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
                    "{name} ({kind:?}): only {:?}; also {extra:?}",
                    e.must
                ));
            }
        }
        for (code, want) in &e.actions {
            let want: BTreeSet<String> = want.iter().cloned().collect();
            let have = got.get(code.as_str()).cloned().unwrap_or_default();
            if have != want {
                failures.push(format!("{name}: {code} lists {have:?}, expected {want:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every code is reported by some fixture.
    let missing: Vec<&&str> = known.iter().filter(|c| !covered.contains(**c)).collect();
    assert!(missing.is_empty(), "codes no fixture reports: {missing:?}");
}
