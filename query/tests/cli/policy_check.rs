//! `iamref policy check` as a user runs it: the real binary on the
//! constructed fixture policies in `policy/tests/fixtures/policies` (one per
//! finding code, and one per false positive issue 8 lists), against the
//! snapshot shipped in `data/`; SARIF checked against the 2.1.0 schema's
//! required fields; bounded output on hostile input; several files with
//! one malformed; `--config` muting; `--min-severity`.

use assert_cmd::Command;
use iamref_policy::finding::CODES;
use predicates::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tempfile::TempDir;

fn fixtures() -> PathBuf {
    // The engine's fixtures: policy/tests/fixtures.rs runs them through
    // `check_as`; here they go through the binary.
    crate::support::root().join("policy/tests/fixtures/policies")
}

/// One cache folder for the whole module: the embedded snapshot is
/// materialized once (the write is atomic, so concurrent tests are safe).
fn cache() -> &'static Path {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| TempDir::new().unwrap()).path()
}

fn iamref() -> Command {
    crate::support::iamref(cache())
}

fn check(args: &[&str]) -> Command {
    let mut c = iamref();
    c.args(["policy", "check"]).args(args);
    c
}

fn stdout_json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

// ---------------------------------------------------------------------------
// The yardstick
// ---------------------------------------------------------------------------

fn expectations() -> BTreeMap<String, iamref_testkit::expectations::Expect> {
    iamref_testkit::expectations::load(&fixtures())
}

#[test]
fn expectations_cover_every_code_and_every_fixture() {
    let exp = expectations();
    let codes: BTreeSet<&str> = CODES.iter().map(|c| c.0).collect();
    for (name, e) in &exp {
        for c in e.must.iter().chain(&e.must_not).chain(e.actions.keys()) {
            assert!(codes.contains(c.as_str()), "{name}: unknown code {c}");
        }
        assert!(!e.about.is_empty(), "{name}: say what the fixture is");
        assert!(
            fixtures().join(format!("{name}.json")).is_file(),
            "{name}: no {name}.json"
        );
    }
    let covered: BTreeSet<&str> = exp
        .values()
        .flat_map(|e| &e.must)
        .map(|s| s.as_str())
        .collect();
    let missing: Vec<&&str> = codes.iter().filter(|c| !covered.contains(**c)).collect();
    assert!(
        missing.is_empty(),
        "codes no fixture must report: {missing:?}"
    );
    for f in std::fs::read_dir(fixtures()).unwrap() {
        let name = f.unwrap().file_name().to_string_lossy().to_string();
        if let Some(stem) = name.strip_suffix(".json") {
            assert!(exp.contains_key(stem), "{name} has no expectations");
        }
    }
}

type Got = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// `(fixture, code, message)` of every finding of a `--format json` run,
/// and the findings grouped as fixture -> code -> union of actions.
fn collect(v: &Value, rows: &mut Vec<(String, String, String)>, got: &mut Got) {
    for f in v.as_array().unwrap() {
        let file = f["file"].as_str().unwrap();
        let stem = Path::new(file)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let code = f["code"].as_str().unwrap().to_string();
        rows.push((
            stem.clone(),
            code.clone(),
            f["message"].as_str().unwrap().to_string(),
        ));
        let acts = got.entry(stem).or_default().entry(code).or_default();
        for a in f["actions"].as_array().into_iter().flatten() {
            acts.insert(a.as_str().unwrap().to_string());
        }
        // Every finding names a place in the file and a message.
        assert!(f["location"]["line"].as_u64().unwrap() >= 1, "{f}");
        assert!(f["location"]["column"].as_u64().unwrap() >= 1, "{f}");
        assert!(!f["message"].as_str().unwrap().is_empty(), "{f}");
    }
}

/// Every fixture checked alone, as a user runs it (`--min-severity info`,
/// JSON), each expectation compared; then all of them in one run, which
/// must report exactly the same (a file's findings do not depend on what
/// else the run loaded). All failures are collected and printed together,
/// fixture by fixture: expected, got.
#[test]
fn fixtures_meet_their_expectations() {
    let exp = expectations();
    let mut got = Got::new();
    let mut alone = Vec::new();
    for name in exp.keys() {
        let out = check(&["--format", "json", "--min-severity", "info"])
            .arg(fixtures().join(format!("{name}.json")))
            .output()
            .unwrap();
        let v = stdout_json(&out);
        let n = v.as_array().unwrap().len();
        assert_eq!(
            out.status.code(),
            Some(if n == 0 { 0 } else { 1 }),
            "{name}: stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        collect(&v, &mut alone, &mut got);
    }
    let out = check(&["--format", "json", "--min-severity", "info"])
        .arg(fixtures())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let mut together = Vec::new();
    collect(&stdout_json(&out), &mut together, &mut Got::new());
    let mut failures = Vec::new();
    alone.sort();
    together.sort();
    for r in &together {
        if alone.binary_search(r).is_err() {
            failures.push(format!(
                "{}: checked with the other fixtures it reports {} ({}), checked alone it does not",
                r.0, r.1, r.2
            ));
        }
    }
    for r in &alone {
        if together.binary_search(r).is_err() {
            failures.push(format!(
                "{}: checked alone it reports {} ({}), checked with the other fixtures it does not",
                r.0, r.1, r.2
            ));
        }
    }
    let empty = BTreeMap::new();
    for (name, e) in &exp {
        let codes = got.get(name).unwrap_or(&empty);
        failures.extend(iamref_testkit::expectations::compare(name, e, codes));
    }
    assert!(
        failures.is_empty(),
        "{} fixture expectation(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `--format json` on one clean fixture prints `[]` and exits 0.
#[test]
fn clean_policy_exits_0_with_an_empty_list() {
    let out = check(&["--format", "json"])
        .arg(fixtures().join("fp-shape-arrays.json"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(stdout_json(&out), serde_json::json!([]));
    // The summary is on stderr; --quiet drops it.
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "iamref: no findings in 1 file checked\n"
    );
    check(&["--quiet"])
        .arg(fixtures().join("fp-shape-arrays.json"))
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
}

// ---------------------------------------------------------------------------
// Output formats
// ---------------------------------------------------------------------------

#[test]
fn table_lines_name_file_line_column_severity_code_and_statement() {
    let f = fixtures().join("resource-mismatch.json");
    let out = check(&[]).arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    // The finding points at the statement's Action or Resource element.
    let prefix = format!("{}:", f.display());
    assert!(first.starts_with(&prefix), "{first}");
    let rest = &first[prefix.len()..];
    let mut parts = rest.splitn(3, ':');
    let line: u32 = parts.next().unwrap().parse().unwrap();
    let col: u32 = parts.next().unwrap().parse().unwrap();
    assert!(line > 1 && col > 1, "{first}");
    assert!(
        parts
            .next()
            .unwrap()
            .starts_with(" error[resource-mismatch] statement 0: "),
        "{first}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("    fix: ")),
        "a fix line: {text}"
    );
    // Sids are shown after the statement index.
    let out = check(&[])
        .arg(fixtures().join("structure-duplicate-sid.json"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("error[duplicate-sid] statement 1 (Read): "),
        "{text}"
    );
}

#[test]
fn tsv_and_jsonl_carry_the_same_findings() {
    let f = fixtures().join("resource-mismatch.json");
    let json = stdout_json(&check(&["--format", "json"]).arg(&f).output().unwrap());
    let n = json.as_array().unwrap().len();
    assert!(n >= 1);
    let jsonl = check(&["--format", "jsonl"]).arg(&f).output().unwrap();
    let lines: Vec<Value> = String::from_utf8(jsonl.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, *json.as_array().unwrap());
    let tsv = check(&["--format", "tsv"]).arg(&f).output().unwrap();
    let text = String::from_utf8(tsv.stdout).unwrap();
    let mut rows = text.lines();
    assert_eq!(
        rows.next().unwrap(),
        "file\tline\tcolumn\tseverity\tcode\tstatement\tsid\tactions\tmessage\tfix"
    );
    assert_eq!(rows.count(), n);
}

#[test]
fn unknown_format_is_refused_naming_sarif() {
    check(&["--format", "xml"])
        .arg(fixtures().join("resource-mismatch.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sarif"));
    // Other commands do not take sarif.
    iamref()
        .args(["expand", "s3:Get*", "--format", "sarif"])
        .assert()
        .code(2);
}

// ---------------------------------------------------------------------------
// SARIF 2.1.0
// ---------------------------------------------------------------------------

/// The parts of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json, OASIS)
/// that iamref's output uses, transcribed: for each object, its allowed
/// properties (the schema sets `additionalProperties: false` on all of
/// them) with the definition or JSON type each must have, its required
/// properties, and its `anyOf` alternatives of required properties.
struct Def {
    props: &'static [(&'static str, Kind)],
    required: &'static [&'static str],
    any_of: &'static [&'static str],
}

#[derive(Clone, Copy)]
enum Kind {
    Obj(&'static str),
    Arr(&'static str),
    Str,
    /// A string from a fixed set.
    Enum(&'static [&'static str]),
    /// An integer with a minimum.
    Int(i64),
    Bool,
    /// Any JSON object (property bags).
    Bag,
    /// An array of strings.
    Strs,
}

fn def(name: &str) -> Def {
    use Kind::*;
    const LEVEL: &[&str] = &["none", "note", "warning", "error"];
    match name {
        "sarifLog" => Def {
            props: &[
                ("$schema", Str),
                ("version", Enum(&["2.1.0"])),
                ("runs", Arr("run")),
                ("properties", Bag),
            ],
            required: &["version", "runs"],
            any_of: &[],
        },
        "run" => Def {
            props: &[
                ("tool", Obj("tool")),
                ("invocations", Arr("invocation")),
                ("results", Arr("result")),
                ("columnKind", Enum(&["utf16CodeUnits", "unicodeCodePoints"])),
                ("properties", Bag),
            ],
            required: &["tool"],
            any_of: &[],
        },
        "tool" => Def {
            props: &[("driver", Obj("toolComponent")), ("properties", Bag)],
            required: &["driver"],
            any_of: &[],
        },
        "toolComponent" => Def {
            props: &[
                ("name", Str),
                ("version", Str),
                ("semanticVersion", Str),
                ("informationUri", Str),
                ("rules", Arr("reportingDescriptor")),
                ("properties", Bag),
            ],
            required: &["name"],
            any_of: &[],
        },
        "reportingDescriptor" => Def {
            props: &[
                ("id", Str),
                ("name", Str),
                ("shortDescription", Obj("multiformatMessageString")),
                ("fullDescription", Obj("multiformatMessageString")),
                ("help", Obj("multiformatMessageString")),
                ("helpUri", Str),
                ("defaultConfiguration", Obj("reportingConfiguration")),
                ("properties", Bag),
            ],
            required: &["id"],
            any_of: &[],
        },
        "reportingConfiguration" => Def {
            props: &[
                ("enabled", Bool),
                ("level", Enum(LEVEL)),
                ("properties", Bag),
            ],
            required: &[],
            any_of: &[],
        },
        "multiformatMessageString" => Def {
            props: &[("text", Str), ("markdown", Str), ("properties", Bag)],
            required: &["text"],
            any_of: &[],
        },
        "message" => Def {
            props: &[
                ("text", Str),
                ("markdown", Str),
                ("id", Str),
                ("arguments", Strs),
                ("properties", Bag),
            ],
            required: &[],
            any_of: &["text", "id"],
        },
        "result" => Def {
            props: &[
                ("ruleId", Str),
                ("ruleIndex", Int(-1)),
                ("level", Enum(LEVEL)),
                (
                    "kind",
                    Enum(&[
                        "notApplicable",
                        "pass",
                        "fail",
                        "review",
                        "open",
                        "informational",
                    ]),
                ),
                ("message", Obj("message")),
                ("locations", Arr("location")),
                ("partialFingerprints", Bag),
                ("properties", Bag),
            ],
            required: &["message"],
            any_of: &[],
        },
        "location" => Def {
            props: &[
                ("id", Int(-1)),
                ("physicalLocation", Obj("physicalLocation")),
                ("message", Obj("message")),
                ("properties", Bag),
            ],
            required: &[],
            any_of: &[],
        },
        "physicalLocation" => Def {
            props: &[
                ("artifactLocation", Obj("artifactLocation")),
                ("region", Obj("region")),
                ("properties", Bag),
            ],
            required: &[],
            // address or artifactLocation; iamref never writes addresses.
            any_of: &["artifactLocation"],
        },
        "artifactLocation" => Def {
            props: &[
                ("uri", Str),
                ("uriBaseId", Str),
                ("index", Int(-1)),
                ("properties", Bag),
            ],
            required: &[],
            any_of: &[],
        },
        "region" => Def {
            props: &[
                ("startLine", Int(1)),
                ("startColumn", Int(1)),
                ("endLine", Int(1)),
                ("endColumn", Int(1)),
                ("charOffset", Int(-1)),
                ("byteOffset", Int(-1)),
                ("properties", Bag),
            ],
            required: &[],
            any_of: &["startLine", "charOffset", "byteOffset"],
        },
        "invocation" => Def {
            props: &[
                ("executionSuccessful", Bool),
                ("exitCode", Int(i64::MIN)),
                ("toolExecutionNotifications", Arr("notification")),
                ("toolConfigurationNotifications", Arr("notification")),
                ("properties", Bag),
            ],
            required: &["executionSuccessful"],
            any_of: &[],
        },
        "notification" => Def {
            props: &[
                ("locations", Arr("location")),
                ("message", Obj("message")),
                ("level", Enum(LEVEL)),
                ("properties", Bag),
            ],
            required: &["message"],
            any_of: &[],
        },
        other => panic!("no definition {other}"),
    }
}

fn validate(v: &Value, name: &str, path: &str, errors: &mut Vec<String>) {
    let Some(obj) = v.as_object() else {
        errors.push(format!("{path}: {name} must be an object"));
        return;
    };
    let d = def(name);
    for r in d.required {
        if !obj.contains_key(*r) {
            errors.push(format!("{path}: {name} requires {r}"));
        }
    }
    if !d.any_of.is_empty() && !d.any_of.iter().any(|k| obj.contains_key(*k)) {
        errors.push(format!("{path}: {name} requires one of {:?}", d.any_of));
    }
    for (k, x) in obj {
        let p = format!("{path}.{k}");
        let Some((_, kind)) = d.props.iter().find(|(n, _)| n == k) else {
            errors.push(format!(
                "{p}: {name} has no property {k} (additionalProperties is false)"
            ));
            continue;
        };
        match *kind {
            Kind::Obj(n) => validate(x, n, &p, errors),
            Kind::Arr(n) => match x.as_array() {
                Some(a) => {
                    for (i, item) in a.iter().enumerate() {
                        validate(item, n, &format!("{p}[{i}]"), errors);
                    }
                }
                None => errors.push(format!("{p}: must be an array")),
            },
            Kind::Str => {
                if !x.is_string() {
                    errors.push(format!("{p}: must be a string"));
                }
            }
            Kind::Enum(vals) => {
                if !x.as_str().is_some_and(|s| vals.contains(&s)) {
                    errors.push(format!("{p}: must be one of {vals:?}, is {x}"));
                }
            }
            Kind::Int(min) => {
                if x.as_i64().is_none_or(|n| n < min) {
                    errors.push(format!("{p}: must be an integer >= {min}, is {x}"));
                }
            }
            Kind::Bool => {
                if !x.is_boolean() {
                    errors.push(format!("{p}: must be a boolean"));
                }
            }
            Kind::Bag => {
                if !x.is_object() {
                    errors.push(format!("{p}: must be an object"));
                }
            }
            Kind::Strs => {
                if !x.as_array().is_some_and(|a| a.iter().all(Value::is_string)) {
                    errors.push(format!("{p}: must be an array of strings"));
                }
            }
        }
    }
}

#[test]
fn sarif_follows_the_2_1_0_schema() {
    let dir = TempDir::new().unwrap();
    let bad = dir.path().join("bad policy.json");
    std::fs::write(
        &bad,
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n}\n",
    )
    .unwrap();
    let out = check(&["--format", "sarif"])
        .current_dir(crate::support::root())
        .arg(fixtures().join("resource-mismatch.json"))
        .arg(fixtures().join("condition-invalid-date.json"))
        .arg(fixtures().join("structure-missing-statement.json"))
        .arg(&bad)
        .output()
        .unwrap();
    // The malformed file makes it exit 2; the others are still reported.
    assert_eq!(out.status.code(), Some(2));
    let v = stdout_json(&out);
    let mut errors = Vec::new();
    validate(&v, "sarifLog", "$", &mut errors);
    assert!(errors.is_empty(), "{}", errors.join("\n"));

    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    // Every code, and the rule of inputs that could not be checked.
    assert_eq!(rules.len(), CODES.len() + 1);
    for r in rules {
        let s: f64 = r["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.1..=10.0).contains(&s), "{r}");
    }
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    let mut files = BTreeSet::new();
    for r in results {
        // Every result names its rule, whose index is right, and a place.
        let id = r["ruleId"].as_str().unwrap();
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], id);
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(loc["region"]["startColumn"].as_u64().unwrap() >= 1);
        files.insert(loc["artifactLocation"]["uri"].as_str().unwrap().to_string());
        assert_ne!(r["level"], "none");
    }
    // Absolute paths under the current folder (here the workspace root,
    // reached through `query/..`) become relative URIs; the temporary
    // folder is outside it, so its file keeps a file:// URI.
    assert!(
        files.contains("policy/tests/fixtures/policies/resource-mismatch.json"),
        "{files:?}"
    );
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("file:///") && f.ends_with("bad%20policy.json")),
        "{files:?}"
    );
    // The unreadable file is a result too, placed where reading stopped.
    let unreadable = results
        .iter()
        .find(|r| r["ruleId"] == "unreadable-input")
        .expect("a result for the unreadable file");
    assert_eq!(
        unreadable["locations"][0]["physicalLocation"]["region"]["startLine"],
        4
    );
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("condition-invalid-date.json")),
        "{files:?}"
    );
    // The unreadable file is a tool notification with its line, and the
    // run is marked unsuccessful.
    let inv = &run["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let n = &inv["toolExecutionNotifications"][0];
    assert_eq!(n["level"], "error");
    let pl = &n["locations"][0]["physicalLocation"];
    assert!(pl["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
        .ends_with("bad%20policy.json"));
    assert_eq!(pl["region"]["startLine"], 4);
    // --sarif-root: URIs relative to it.
    let out = check(&["--format", "sarif", "--sarif-root"])
        .arg(dir.path())
        .arg(&bad)
        .output()
        .unwrap();
    let v = stdout_json(&out);
    assert_eq!(
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "bad%20policy.json"
    );
}

#[test]
fn sarif_validator_rejects_what_the_schema_rejects() {
    // The transcription is not vacuous: broken logs are caught.
    let mut errors = Vec::new();
    let broken = serde_json::json!({
        "version": "2.0.0",
        "runs": [{
            "tool": {"driver": {}},
            "results": [{
                "level": "fatal",
                "message": {},
                "locations": [{"physicalLocation": {"region": {"startLine": 0}}}],
                "extra": 1
            }]
        }]
    });
    validate(&broken, "sarifLog", "$", &mut errors);
    let all = errors.join("\n");
    for want in [
        "$.version: must be one of",
        "toolComponent requires name",
        "level: must be one of",
        "message requires one of",
        "physicalLocation requires one of",
        "startLine: must be an integer >= 1",
        "has no property extra",
    ] {
        assert!(all.contains(want), "{want} not in:\n{all}");
    }
}

// ---------------------------------------------------------------------------
// Hostile and malformed input, several files
// ---------------------------------------------------------------------------

/// `"Action": ["*:*", ...]` repeated 100 times (issue 8: 2 minutes, 630 MB
/// and 213,260 findings for 10 repeats). Output stays one line per
/// statement, code and cause: the same findings as for one `"*:*"`. The
/// timeout only stops a hang from blocking the suite; the speed is
/// measured by the benchmark.
#[test]
fn hostile_star_star_repeated_gives_bounded_output() {
    let dir = TempDir::new().unwrap();
    let run = |n: usize| {
        let p = dir.path().join(format!("hostile{n}.json"));
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": vec!["*:*"; n], "Resource": "*"}]
        });
        std::fs::write(&p, serde_json::to_string(&policy).unwrap()).unwrap();
        let out = check(&["--min-severity", "info", "--format", "json"])
            .arg(&p)
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.len() < 4 << 20, "{} bytes", out.stdout.len());
        let v = stdout_json(&out);
        v.as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_string(),
                    f["message"].as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    let one = run(1);
    let hundred = run(100);
    assert!(one.iter().any(|f| f.0 == "all-actions"), "{one:?}");
    assert_eq!(hundred, one, "repeating an element repeats no finding");
    // Bounded: a handful of lines, each naming at most a few actions.
    assert!(hundred.len() <= 2 * CODES.len(), "{hundred:?}");
    for (code, message) in &hundred {
        assert!(message.len() < 2000, "{code}: {} bytes", message.len());
    }
}

#[test]
fn one_malformed_file_is_exit_2_and_the_others_are_still_checked() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("nested/.hidden")).unwrap();
    std::fs::copy(fixtures().join("resource-mismatch.json"), d.join("a.json")).unwrap();
    // A trailing comma on line 4, column 36.
    std::fs::write(
        d.join("nested/b.json"),
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\",}\n  ]\n}\n",
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("resource-star.json"),
        d.join("nested/c.json"),
    )
    .unwrap();
    // Not *.json, or hidden: not read from a folder.
    std::fs::write(d.join("nested/notes.txt"), "not a policy").unwrap();
    std::fs::write(d.join("nested/.hidden/x.json"), "not json").unwrap();
    let out = check(&["--format", "json"])
        .arg(d)
        .arg(d.join("missing.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let b = d.join("nested/b.json");
    assert!(
        stderr.contains(&format!("{}:4:", b.display())),
        "line and column of the error: {stderr}"
    );
    assert!(stderr.contains("missing.json"), "{stderr}");
    assert!(!stderr.contains("x.json"), "{stderr}");
    let v = stdout_json(&out);
    let files: BTreeSet<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    let want: BTreeSet<String> = [d.join("a.json"), d.join("nested/c.json")]
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    assert_eq!(files, want);
}

#[test]
fn stdin_is_read_with_dash() {
    let text = std::fs::read_to_string(fixtures().join("resource-star.json")).unwrap();
    let out = check(&["--format", "json", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = stdout_json(&out);
    assert_eq!(v[0]["file"], "stdin");
    assert_eq!(v[0]["code"], "resource-star");
    check(&["-"])
        .write_stdin("{\"Statement\": [")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("stdin:1:"));
}

#[test]
fn not_utf8_and_too_large_files_are_refused_with_where() {
    let dir = TempDir::new().unwrap();
    let p = dir.path().join("latin1.json");
    std::fs::write(&p, b"{\n  \"Sid\": \"caf\xe9\"\n}").unwrap();
    check(&[])
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{}:2:", p.display())))
        .stderr(predicate::str::contains("UTF-8"));
    let big = dir.path().join("big.json");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(5 << 20).unwrap();
    check(&[])
        .arg(&big)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("larger than 4 MiB"));
}

// ---------------------------------------------------------------------------
// --min-severity and --config
// ---------------------------------------------------------------------------

#[test]
fn min_severity_decides_what_is_reported_and_the_exit_status() {
    // resource-star is a warning.
    let f = fixtures().join("resource-star.json");
    check(&[]).arg(&f).assert().code(1);
    check(&["--min-severity", "error"])
        .arg(&f)
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicate::str::contains("below error not shown"));
    check(&["--min-severity", "fatal"]).arg(&f).assert().code(2);
}

#[test]
fn config_mutes_codes_everywhere_or_in_paths_and_excludes_paths() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("legacy")).unwrap();
    std::fs::create_dir_all(d.join("vendor")).unwrap();
    std::fs::copy(fixtures().join("resource-star.json"), d.join("p.json")).unwrap();
    std::fs::copy(
        fixtures().join("resource-star.json"),
        d.join("legacy/p.json"),
    )
    .unwrap();
    std::fs::write(d.join("vendor/broken.json"), "{ not json").unwrap();
    let run = |config: &Path| {
        let out = check(&["--format", "json", "--config"])
            .arg(config)
            .arg(d)
            .current_dir(d)
            .output()
            .unwrap();
        (
            out.status.code(),
            stdout_json(&out),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // Muted in legacy/ only; vendor/ not read at all (globs relative to
    // the configuration file's folder).
    let toml = d.join("iamref.toml");
    std::fs::write(
        &toml,
        "exclude = [\"vendor/**\"]\n\n[[mute-in]]\npaths = [\"legacy/**\"]\ncodes = [\"resource-star\"]\n",
    )
    .unwrap();
    let (code, v, err) = run(&toml);
    assert_eq!(code, Some(1), "{err}");
    let files: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert!(
        files
            .iter()
            .all(|f| f.ends_with("/p.json") && !f.contains("legacy")),
        "{files:?}"
    );
    assert!(!files.is_empty());
    assert!(err.contains("1 muted by --config"), "{err}");
    assert!(err.contains("1 path excluded by --config"), "{err}");
    // Muted everywhere (YAML): clean.
    let yaml = d.join("iamref.yaml");
    std::fs::write(&yaml, "exclude:\n  - vendor/**\nmute:\n  - resource-star\n").unwrap();
    let (code, v, err) = run(&yaml);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(v, serde_json::json!([]));
    // Without the exclusion the broken file is exit 2.
    std::fs::write(&yaml, "mute: [resource-star]\n").unwrap();
    let (code, _, err) = run(&yaml);
    assert_eq!(code, Some(2), "{err}");
    // A bad configuration stops the run before anything is checked.
    std::fs::write(&toml, "mute = [\"resource-starr\"]\n").unwrap();
    check(&["--config"])
        .arg(&toml)
        .arg(d.join("p.json"))
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("did you mean \"resource-star\""));
}

// ---------------------------------------------------------------------------
// README
// ---------------------------------------------------------------------------

/// The README's table of finding codes is the one generated from CODES.
#[test]
fn readme_lists_every_finding_code() {
    let readme = std::fs::read_to_string(crate::support::root().join("README.md")).unwrap();
    let table = iamref_query::render::markdown::codes_markdown();
    assert!(
        readme.contains(&table),
        "README's findings table differs from CODES; replace it with:\n{table}"
    );
}

/// Runs Microsoft's SARIF validator (npm `@microsoft/sarif-multitool`,
/// pinned: the 2.1.0 JSON schema plus the SARIF rules of the standard's
/// authors) on `log`; `Ok(lines)`: what it reported as error or warning.
fn multitool(tool: &Path, work: &Path, name: &str, log: &[u8]) -> Vec<String> {
    let input = work.join(format!("{name}.sarif"));
    let output = work.join(format!("{name}.validation.sarif"));
    std::fs::write(&input, log).unwrap();
    let _ = std::fs::remove_file(&output);
    let out = std::process::Command::new("node")
        .arg(tool.join("node_modules/@microsoft/sarif-multitool/bin.js"))
        .arg("validate")
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .output()
        .expect("node runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("Analysis completed successfully"),
        "the validator did not finish on {name}: {text}"
    );
    text.lines()
        .filter(|l| l.contains(": error ") || l.contains(": warning "))
        .map(str::to_string)
        .collect()
}

#[test]
fn sarif_passes_the_sarif_multitool_validator() {
    let tool = match iamref_testkit::npm::install(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        iamref_testkit::pins::NPM_SARIF_MULTITOOL,
    ) {
        Ok(d) => d,
        Err(why) => {
            iamref_testkit::skip(format!("the SARIF multitool (npm) is unavailable: {why}"));
            return;
        }
    };
    let work = TempDir::new().unwrap();
    let bad = work.path().join("bad policy.json");
    std::fs::write(&bad, "{\n  \"Statement\": [\n}\n").unwrap();
    // Every fixture (every finding code, several kinds), a file that is not
    // JSON (a result and a notification), an absolute path outside the
    // current folder (a file:// URI).
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let all = check(&["--format", "sarif", "--min-severity", "info"])
        .args(&files)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(all.status.code(), Some(2), "the unreadable file: exit 2");
    let rooted = check(&["--format", "sarif", "--sarif-root"])
        .arg(work.path())
        .arg(&bad)
        .arg(fixtures().join("resource-mismatch.json"))
        .output()
        .unwrap();
    let clean = check(&["--format", "sarif"])
        .arg(fixtures().join("fp-ids-with-colons.json"))
        .output()
        .unwrap();
    assert_eq!(clean.status.code(), Some(0));
    for (name, log) in [
        ("all-fixtures", &all.stdout),
        ("sarif-root", &rooted.stdout),
        ("no-findings", &clean.stdout),
    ] {
        let problems = multitool(&tool, work.path(), name, log);
        assert!(problems.is_empty(), "{name}:\n{}", problems.join("\n"));
    }
    // The validator is not vacuous: a log it must reject is rejected.
    let mut broken: Value = serde_json::from_slice(&clean.stdout).unwrap();
    broken["runs"][0]["tool"]["driver"]["rules"][0]["name"] =
        broken["runs"][0]["tool"]["driver"]["rules"][0]["id"].clone();
    broken["version"] = Value::from("2.0.0");
    let problems = multitool(
        &tool,
        work.path(),
        "broken",
        serde_json::to_string(&broken).unwrap().as_bytes(),
    );
    assert!(
        problems.iter().any(|p| p.contains("SARIF1001"))
            && problems.iter().any(|p| p.contains(": error JSON")),
        "{problems:?}"
    );
}
