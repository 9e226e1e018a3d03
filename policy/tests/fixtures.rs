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
use iamref_testkit::expectations;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policies")
}

#[test]
fn every_fixture_meets_its_expectations_in_the_engine() {
    let exp = expectations::load(&fixtures());
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
        let mut got = expectations::Got::new();
        for f in check_as(&catalog, &policy, kind) {
            assert!(known.contains(f.code), "{name}: unknown code {}", f.code);
            assert!(
                f.location.line >= 1 && f.location.column >= 1,
                "{name}: {f:?}"
            );
            assert!(!f.message.is_empty(), "{name}: {f:?}");
            got.entry(f.code.to_string())
                .or_default()
                .extend(f.actions.iter().cloned());
        }
        covered.extend(got.keys().cloned());
        failures.extend(
            expectations::compare(name, e, &got)
                .into_iter()
                .map(|f| format!("{f} (kind {kind:?})")),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every code is reported by some fixture.
    let missing: Vec<&&str> = known.iter().filter(|c| !covered.contains(**c)).collect();
    assert!(missing.is_empty(), "codes no fixture reports: {missing:?}");
}
