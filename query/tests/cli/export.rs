//! `iamref export --format csv|jsonl|policy-sentry` on the real binary and
//! the shipped snapshot: the files round-trip the public views row for row;
//! policy_sentry (installed from PyPI into a throwaway venv) answers from
//! the export; the CloudTrail join shipped in `sql/` gives, in DuckDB, what
//! `iamref calls` gives for the same records.
//!
//! The Python tests skip with a message when python3, venv or pip (or the
//! package registry) is unavailable, and fail instead under
//! `IAMREF_TEST_STRICT=1`.

use crate::support::{iamref, root};
use iamref_dataset::export::{ColumnType, Table, TABLES};
use iamref_testkit::python;
use rusqlite::types::ValueRef;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tempfile::TempDir;

/// A temp dir holding an SQLite copy of the shipped snapshot (`db.sqlite`).
fn shipped() -> (TempDir, PathBuf) {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("db.sqlite");
    iamref(dir.path())
        .args(["export", "--format", "sqlite"])
        .arg(&db)
        .assert()
        .success();
    (dir, db)
}

/// A database value as the exports write it: NULL apart, booleans as
/// `true`/`false`.
fn render(v: ValueRef, ty: ColumnType) -> Option<String> {
    match (v, ty) {
        (ValueRef::Null, _) => None,
        (ValueRef::Integer(i), ColumnType::Bool) => Some((i != 0).to_string()),
        (ValueRef::Integer(i), _) => Some(i.to_string()),
        (ValueRef::Text(t), _) => Some(String::from_utf8(t.to_vec()).unwrap()),
        (other, _) => panic!("unexpected value {other:?}"),
    }
}

type Rows = Vec<Vec<Option<String>>>;

fn count(conn: &rusqlite::Connection, sql: &str) -> usize {
    let n: i64 = conn.query_row(sql, [], |r| r.get(0)).unwrap();
    usize::try_from(n).unwrap()
}

/// The rows of a view, straight from SQLite (no ORDER BY: compared as a
/// multiset, the order is checked separately).
fn view_rows(conn: &rusqlite::Connection, t: &Table) -> Rows {
    let cols: Vec<String> = t.columns.iter().map(|c| format!("\"{}\"", c.0)).collect();
    let mut q = conn
        .prepare(&format!("SELECT {} FROM {}", cols.join(", "), t.name))
        .unwrap();
    let mut rows = q.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(r) = rows.next().unwrap() {
        out.push(
            t.columns
                .iter()
                .enumerate()
                .map(|(i, c)| render(r.get_ref(i).unwrap(), c.1))
                .collect(),
        );
    }
    out
}

fn sorted(mut rows: Rows) -> Rows {
    rows.sort();
    rows
}

/// Rows are in the documented stable order: case-insensitively by each
/// column in turn (NULL first), then byte-wise.
fn assert_stable_order(name: &str, rows: &Rows) {
    let key = |r: &Vec<Option<String>>| {
        let lower: Vec<Option<String>> = r
            .iter()
            .map(|c| c.as_ref().map(|s| s.to_ascii_lowercase()))
            .collect();
        (lower, r.clone())
    };
    for (i, w) in rows.windows(2).enumerate() {
        assert!(
            key(&w[0]) <= key(&w[1]),
            "{name}: rows {} and {} out of order:\n{:?}\n{:?}",
            i + 1,
            i + 2,
            w[0],
            w[1]
        );
    }
}

fn read_csv(path: &Path, t: &Table) -> Rows {
    let bytes = std::fs::read(path).unwrap();
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes.as_slice());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let want: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
    assert_eq!(header, want, "{}: header row", path.display());
    // NULL is an empty unquoted field, the empty string a quoted one: the
    // csv crate does not tell them apart, so check the raw bytes for "".
    let has_quoted_empty = bytes.windows(4).any(|w| w == b",\"\"," || w == b",\"\"\r");
    r.records()
        .map(|rec| {
            let rec = rec.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(rec.len(), want.len(), "{}: row width", path.display());
            rec.iter()
                .map(|f| {
                    if f.is_empty() && !has_quoted_empty {
                        None
                    } else {
                        Some(f.to_string())
                    }
                })
                .collect()
        })
        .collect()
}

fn read_jsonl(path: &Path, t: &Table) -> Rows {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let v: serde_json::Map<String, Value> = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{} line {}: {e}", path.display(), i + 1));
            let keys: Vec<&str> = v.keys().map(String::as_str).collect();
            let want: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
            assert_eq!(keys, want, "{} line {}: keys", path.display(), i + 1);
            t.columns
                .iter()
                .map(|(name, ty)| match (&v[*name], ty) {
                    (Value::Null, _) => None,
                    (Value::Bool(b), ColumnType::Bool) => Some(b.to_string()),
                    (Value::String(s), ColumnType::Text) => Some(s.clone()),
                    (other, _) => panic!("{} line {}: {name} = {other}", path.display(), i + 1),
                })
                .collect()
        })
        .collect()
}

#[test]
fn csv_and_jsonl_round_trip_every_view() {
    let (dir, db) = shipped();
    let conn = rusqlite::Connection::open(&db).unwrap();
    for (format, ext) in [("csv", "csv"), ("jsonl", "jsonl")] {
        let out = dir.path().join(format!("out-{format}"));
        iamref(dir.path())
            .args(["--db"])
            .arg(&db)
            .args(["export", "--format", format])
            .arg(&out)
            .assert()
            .success()
            .stderr(predicates::str::contains(format!(
                "exported: {} files",
                TABLES.len()
            )));
        let mut names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut want: Vec<String> = TABLES.iter().map(|t| format!("{}.{ext}", t.name)).collect();
        want.sort();
        assert_eq!(names, want, "{format}: one file per table, nothing else");
        let mut got_counts = BTreeMap::new();
        for t in TABLES {
            let path = out.join(format!("{}.{ext}", t.name));
            let rows = if format == "csv" {
                read_csv(&path, t)
            } else {
                read_jsonl(&path, t)
            };
            assert_stable_order(&format!("{format} {}", t.name), &rows);
            got_counts.insert(t.name, rows.len());
            if t.name.starts_with("v_") {
                let want = view_rows(&conn, t);
                let n = count(&conn, &format!("SELECT count(*) FROM {}", t.name));
                assert_eq!(rows.len(), n, "{format} {}: row count", t.name);
                assert!(n > 0, "{}: empty view", t.name);
                assert!(
                    sorted(rows) == sorted(want),
                    "{format} {}: rows differ from the view",
                    t.name
                );
            }
        }
        // The operation → action map has one row per v_operations row, and
        // an action is "known" exactly when v_actions has it.
        let n_ops = count(&conn, "SELECT count(*) FROM v_operations");
        assert_eq!(got_counts["operation_action_map"], n_ops, "{format}");
        let map_t = TABLES
            .iter()
            .find(|t| t.name == "operation_action_map")
            .unwrap();
        let path = out.join(format!("operation_action_map.{ext}"));
        let map = if format == "csv" {
            read_csv(&path, map_t)
        } else {
            read_jsonl(&path, map_t)
        };
        let actions: BTreeSet<String> = view_rows(
            &conn,
            TABLES.iter().find(|t| t.name == "v_actions").unwrap(),
        )
        .into_iter()
        .map(|r| format!("{}:{}", r[0].clone().unwrap(), r[1].clone().unwrap()).to_lowercase())
        .collect();
        let mut unknown = 0;
        for r in &map {
            let action = r[2].clone().unwrap();
            let known = r[4].as_deref() == Some("true");
            assert_eq!(known, actions.contains(&action.to_lowercase()), "{r:?}");
            unknown += usize::from(!known);
        }
        assert!(
            unknown < map.len() / 10,
            "{unknown} unknown of {}",
            map.len()
        );
        let s3 = map
            .iter()
            .filter(|r| r[0].as_deref() == Some("s3") && r[1].as_deref() == Some("CopyObject"))
            .map(|r| r[2].clone().unwrap())
            .collect::<Vec<_>>();
        assert!(s3.contains(&"s3:GetObject".to_string()), "{s3:?}");
        assert!(s3.contains(&"s3:PutObject".to_string()), "{s3:?}");
        assert_eq!(
            got_counts["event_source_prefixes"],
            iamref_dataset::cloudtrail::EVENT_SOURCE_PREFIXES.len()
        );
    }
}

/// The views of schema migration 2 in both exports, with real content
/// from the shipped snapshot: an operation's `Context` (what
/// `iam:PassRole` passes to) and a condition key the sources type
/// differently.
#[test]
fn operation_context_and_key_types_are_exported() {
    let (dir, db) = shipped();
    let conn = rusqlite::Connection::open(&db).unwrap();
    for format in ["csv", "jsonl"] {
        let out = dir.path().join(format!("m2-{format}"));
        iamref(dir.path())
            .arg("--db")
            .arg(&db)
            .args(["export", "-q", "--format", format])
            .arg(&out)
            .assert()
            .success();
        let text =
            |name: &str| std::fs::read_to_string(out.join(format!("{name}.{format}"))).unwrap();
        let table = |name: &str| *TABLES.iter().find(|t| t.name == name).unwrap();
        let rows = |name: &str| {
            let path = out.join(format!("{name}.{format}"));
            if format == "csv" {
                read_csv(&path, &table(name))
            } else {
                read_jsonl(&path, &table(name))
            }
        };

        // lambda:CreateFunction → iam:PassRole with
        // iam:PassedToService = lambda.amazonaws.com, as written.
        let context = text("v_operation_context");
        let line = if format == "csv" {
            "\r\nlambda,CreateFunction,iam,PassRole,iam:PassedToService,lambda.amazonaws.com\r\n"
        } else {
            "\n{\"prefix\":\"lambda\",\"operation\":\"CreateFunction\",\"action_prefix\":\"iam\",\"action\":\"PassRole\",\"condition_key\":\"iam:PassedToService\",\"value\":\"lambda.amazonaws.com\"}\n"
        };
        assert!(context.contains(line), "{format}: no {line:?}");
        let context = rows("v_operation_context");
        assert_eq!(
            context.len(),
            count(&conn, "SELECT count(*) FROM operation_action_context"),
            "{format}: one row per Context value"
        );
        // Every row's operation → action is one of v_operations.
        let ops: BTreeSet<Vec<Option<String>>> = rows("v_operations")
            .into_iter()
            .map(|r| r[..4].to_vec())
            .collect();
        for r in &context {
            assert!(ops.contains(&r[..4]), "{format}: {r:?} not in v_operations");
        }
        let passed_to = context
            .iter()
            .filter(|r| r[4].as_deref() == Some("iam:PassedToService"))
            .count();
        assert!(
            passed_to > 100,
            "{format}: {passed_to} iam:PassedToService rows"
        );

        // elasticloadbalancing:ListenerProtocol: ArrayOfString (merged),
        // String (the v2 page), both (the JSON document).
        let types = rows("v_condition_key_types");
        let listener: BTreeSet<(String, String)> = types
            .iter()
            .filter(|r| r[1].as_deref() == Some("elasticloadbalancing:ListenerProtocol"))
            .map(|r| (r[2].clone().unwrap(), r[3].clone().unwrap()))
            .collect();
        let want: BTreeSet<(String, String)> = [
            ("json", "ArrayOfString, String"),
            ("list_awselasticloadbalancingv2.html", "String"),
            ("merged", "ArrayOfString"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(listener, want, "{format}");
        // One merged row per typed key of v_condition_keys, with its type.
        let merged: BTreeSet<Vec<Option<String>>> = types
            .iter()
            .filter(|r| r[2].as_deref() == Some("merged"))
            .map(|r| vec![r[0].clone(), r[1].clone(), r[3].clone()])
            .collect();
        let keys: BTreeSet<Vec<Option<String>>> = rows("v_condition_keys")
            .into_iter()
            .filter(|r| r[2].is_some())
            .map(|r| r[..3].to_vec())
            .collect();
        assert_eq!(merged, keys, "{format}: merged types = v_condition_keys");
        assert!(
            types.len() > merged.len(),
            "{format}: some key has a second type"
        );
    }
}

#[test]
fn csv_quotes_and_nulls_read_back() {
    // Descriptions hold commas and quotes; v_action_resource_types has NULL
    // ARNs (resource types the service does not define).
    let (dir, db) = shipped();
    let out = dir.path().join("csv");
    iamref(dir.path())
        .arg("--db")
        .arg(&db)
        .args(["export", "-q", "--format", "csv"])
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(out.join("v_actions.csv")).unwrap();
    assert!(text.contains("\"\""), "some description holds a quote");
    assert!(text.ends_with("\r\n"));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let nulls = count(
        &conn,
        "SELECT count(*) FROM v_action_resource_types WHERE arn IS NULL",
    );
    let t = TABLES
        .iter()
        .find(|t| t.name == "v_action_resource_types")
        .unwrap();
    let rows = read_csv(&out.join("v_action_resource_types.csv"), t);
    assert_eq!(rows.iter().filter(|r| r[4].is_none()).count(), nulls);
}

#[test]
fn export_folders_are_replaced_whole_or_not_at_all() {
    let (dir, db) = shipped();
    let out = dir.path().join("out");
    let run = |format: &str| {
        let mut c = iamref(dir.path());
        c.arg("--db")
            .arg(&db)
            .args(["export", "-q", "--format", format])
            .arg(&out);
        c
    };
    run("csv").assert().success();
    // An earlier export is replaced (here by the other format).
    run("jsonl").assert().success();
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| n.ends_with(".jsonl")), "{names:?}");
    // A folder holding someone's files is refused and left as it was.
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    run("csv")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("notes.txt"))
        .stderr(predicates::str::contains("give a new or empty folder"));
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(out.join("v_actions.jsonl").exists());
    // A file in the way, and stdout, are refused.
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    iamref(dir.path())
        .arg("--db")
        .arg(&db)
        .args(["export", "--format", "jsonl"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not a folder"));
    iamref(dir.path())
        .arg("--db")
        .arg(&db)
        .args(["export", "--format", "csv", "-"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("give a folder name"));
    // No staging folder is left behind.
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".iamref"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn policy_sentry_layout_from_the_shipped_snapshot() {
    let (dir, db) = shipped();
    let out = dir.path().join("iam-definition.json");
    iamref(dir.path())
        .arg("--db")
        .arg(&db)
        .args(["export", "--format", "policy-sentry"])
        .arg(&out)
        .assert()
        .success()
        // What the layout cannot hold is said, not dropped silently.
        .stderr(predicates::str::contains("apigateway:Deployment"))
        .stderr(predicates::str::contains("ec2:RunInstances"));
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let obj = v.as_object().unwrap();
    assert_eq!(obj.keys().next().unwrap(), "policy_sentry_schema_version");
    assert_eq!(v["policy_sentry_schema_version"], "v2");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let n_services = count(&conn, "SELECT count(*) FROM v_services");
    let n_actions = count(&conn, "SELECT count(*) FROM v_actions");
    assert_eq!(obj.len(), n_services + 1);
    let actions: usize = obj
        .values()
        .filter_map(|s| s.get("privileges"))
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(actions, n_actions);
    let lb = &v["s3"]["privileges"]["ListBucket"];
    assert_eq!(lb["access_level"], "List");
    let required: i64 = conn
        .query_row(
            "SELECT required FROM v_action_resource_types WHERE prefix = 's3' AND action = 'ListBucket' AND resource_type = 'bucket'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(lb["resource_types"]["bucket"]["required"], required != 0);
    let get = &v["kms"]["privileges"]["Decrypt"]["resource_types"]["key"];
    assert_eq!(get["required"], true, "{get}");
    assert!(lb["resource_types"][""]["condition_keys"]
        .as_array()
        .unwrap()
        .contains(&Value::from("s3:prefix")));
    assert_eq!(
        v["s3"]["service_authorization_url"],
        "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html"
    );
    assert!(v["resiliencehub"]["privileges"]["CreateAssertion"].is_object());
}

/// One `CREATE EXTERNAL TABLE iamref_NAME (...)` of sql/athena/tables.sql:
/// the name, its columns and types, and its LOCATION.
#[derive(Debug)]
struct AthenaTable {
    name: String,
    columns: Vec<(String, String)>,
    serde: String,
    location: String,
}

/// The iamref tables that sql/athena/tables.sql creates, in file order
/// (the CloudTrail table is left out).
fn athena_tables() -> Vec<AthenaTable> {
    let path = root().join("sql/athena/tables.sql");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = Vec::new();
    let head = "CREATE EXTERNAL TABLE iamref_";
    let mut rest = text.as_str();
    while let Some(at) = rest.find(head) {
        rest = &rest[at + head.len()..];
        let (name, after) = rest.split_once(" (\n").expect("CREATE ... (");
        let (body, after) = after.split_once("\n)\n").expect("closing )");
        let columns = body
            .split(",\n")
            .map(|c| {
                let mut w = c.split_whitespace();
                let col = w.next().unwrap().to_string();
                let ty = w
                    .next()
                    .unwrap_or_else(|| panic!("{name}: {c:?}"))
                    .to_string();
                assert!(w.next().is_none(), "{name}: {c:?}");
                (col, ty)
            })
            .collect();
        let quoted = |after: &str, key: &str| -> String {
            let i = after
                .find(key)
                .unwrap_or_else(|| panic!("{name}: no {key}"));
            let s = &after[i + key.len()..];
            s[..s.find('\'').unwrap()].to_string()
        };
        let stmt = &after[..after.find(';').unwrap()];
        out.push(AthenaTable {
            name: name.to_string(),
            columns,
            serde: quoted(stmt, "ROW FORMAT SERDE '"),
            location: quoted(stmt, "LOCATION '"),
        });
        rest = after;
    }
    out
}

/// sql/athena/tables.sql creates one table per exported file, in export
/// order, with the file's columns (BOOLEAN for booleans, STRING else), the
/// JSON SerDe, and the S3 folder the README's copy loop fills.
#[test]
fn athena_ddl_declares_every_exported_table() {
    let ddl = athena_tables();
    let names: Vec<&str> = ddl.iter().map(|t| t.name.as_str()).collect();
    let want: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
    assert_eq!(
        names, want,
        "sql/athena/tables.sql: one table per exported file"
    );
    assert!(names.contains(&"v_operation_context") && names.contains(&"v_condition_key_types"));
    for (d, t) in ddl.iter().zip(TABLES) {
        let cols: Vec<(String, String)> = t
            .columns
            .iter()
            .map(|(c, ty)| {
                let ty = match ty {
                    ColumnType::Bool => "BOOLEAN",
                    ColumnType::Text => "STRING",
                };
                (c.to_string(), ty.to_string())
            })
            .collect();
        assert_eq!(d.columns, cols, "iamref_{}", t.name);
        assert_eq!(
            d.serde, "org.openx.data.jsonserde.JsonSerDe",
            "iamref_{}",
            t.name
        );
        assert_eq!(d.location, format!("s3://BUCKET/iamref/{}/", t.name));
    }
}

// ---------------------------------------------------------------------------
// Python: policy_sentry and DuckDB in a throwaway venv
// ---------------------------------------------------------------------------

/// A venv under the target dir with the pinned
/// [`iamref_testkit::python::pins::EXPORT_TOOLS`], made once and reused;
/// `None` (a skip, a failure in strict mode) when Python, venv, pip or the
/// package registry is unavailable.
#[track_caller]
fn venv() -> Option<PathBuf> {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let made = VENV.get_or_init(|| {
        python::venv(
            Path::new(env!("CARGO_TARGET_TMPDIR")),
            "export",
            python::pins::EXPORT_TOOLS,
        )
    });
    match made {
        Ok(dir) => Some(dir.clone()),
        Err(why) => {
            iamref_testkit::skip(format!("Python tools unavailable: {why}"));
            None
        }
    }
}

fn run_ok(c: &mut std::process::Command) -> String {
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "{c:?}: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn policy_sentry_answers_from_the_export() {
    let Some(venv) = venv() else { return };
    let (dir, db) = shipped();
    let ps = venv.join("bin/policy_sentry");
    let home = dir.path().join("home");
    let empty_home = dir.path().join("empty-home");
    std::fs::create_dir_all(home.join(".policy_sentry")).unwrap();
    std::fs::create_dir_all(&empty_home).unwrap();
    // The recipe in README.md.
    iamref(dir.path())
        .arg("--db")
        .arg(&db)
        .args(["export", "-q", "--format", "policy-sentry"])
        .arg(home.join(".policy_sentry/iam-definition.json"))
        .assert()
        .success();
    let action_table = |home: &Path, service: &str, name: &str| -> Value {
        let out = run_ok(
            std::process::Command::new(&ps)
                .env("HOME", home)
                .current_dir(dir.path())
                .args(["query", "action-table", "--service", service])
                .args(["--name", name]),
        );
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    };
    let query = |home: &Path| action_table(home, "resiliencehub", "CreateAssertion");
    // policy_sentry's bundled data does not know the action...
    let bundled = query(&empty_home);
    assert!(
        bundled.get("resiliencehub").is_none(),
        "policy_sentry's bundled data already has resiliencehub:CreateAssertion: {bundled}"
    );
    // ...the export does.
    let ours = query(&home);
    let rows = ours["resiliencehub"].as_array().expect("found");
    assert_eq!(rows[0]["action"], "resiliencehub:CreateAssertion");
    assert_eq!(rows[0]["access_level"], "Write");
    assert_eq!(
        rows[0]["resource_arn_format"],
        "arn:${Partition}:resiliencehub:${Region}:${Account}:service/${ServiceId}"
    );

    // apigateway spans several pages; the export holds the union (one row
    // per resource type in policy_sentry's answer).
    let rows = |v: Value| v["apigateway"].as_array().map_or(0, Vec::len);
    let (ours, theirs) = (
        rows(action_table(&home, "apigateway", "GET")),
        rows(action_table(&empty_home, "apigateway", "GET")),
    );
    assert!(
        ours > theirs,
        "apigateway:GET: {ours} rows, bundled {theirs}"
    );

    // write-policy on a CRUD template: scoped statements from the new data.
    let template = dir.path().join("crud.yml");
    std::fs::write(
        &template,
        "mode: crud\nname: iamref\nread:\n- arn:aws:s3:::mybucket/*\nlist:\n- arn:aws:s3:::mybucket\n\
         write:\n- arn:aws:resiliencehub:us-east-1:123456789012:service/svc1\n",
    )
    .unwrap();
    let write = |home: &Path| -> Value {
        let out = run_ok(
            std::process::Command::new(&ps)
                .env("HOME", home)
                .current_dir(dir.path())
                .args(["write-policy", "--input-file"])
                .arg(&template),
        );
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    };
    let actions_on = |policy: &Value, resource: &str| -> BTreeSet<String> {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| {
                s["Resource"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r == resource)
            })
            .flat_map(|s| s["Action"].as_array().unwrap().clone())
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    };
    let policy = write(&home);
    assert!(actions_on(&policy, "arn:aws:s3:::mybucket/*").contains("s3:GetObject"));
    assert!(actions_on(&policy, "arn:aws:s3:::mybucket").contains("s3:ListBucket"));
    let svc = "arn:aws:resiliencehub:us-east-1:123456789012:service/svc1";
    assert!(
        actions_on(&policy, svc).contains("resiliencehub:CreateAssertion"),
        "{policy}"
    );
    assert!(!actions_on(&write(&empty_home), svc).contains("resiliencehub:CreateAssertion"));
}

// ---------------------------------------------------------------------------
// The CloudTrail join in DuckDB against `iamref calls`
// ---------------------------------------------------------------------------

/// A constructed CloudTrail sample: three principals; event sources that
/// are the prefix, that are not (monitoring → cloudwatch, email → ses,
/// runtime.sagemaker → sagemaker), odd case and an unknown operation.
fn trail_records() -> Vec<Value> {
    let alice = "arn:aws:iam::111122223333:role/alice";
    let bob = "arn:aws:sts::111122223333:assumed-role/bob/session";
    let carol = "arn:aws:iam::444455556666:user/carol";
    let events: &[(&str, &str, &str)] = &[
        (alice, "s3.amazonaws.com", "GetObject"),
        (alice, "s3.amazonaws.com", "GetObject"),
        (alice, "s3.amazonaws.com", "CopyObject"),
        (alice, "monitoring.amazonaws.com", "PutMetricData"),
        (alice, "kms.amazonaws.com", "Decrypt"),
        (bob, "email.amazonaws.com", "SendEmail"),
        (bob, "iam.amazonaws.com", "getrole"),
        (bob, "dynamodb.amazonaws.com", "Query"),
        (bob, "s3.amazonaws.com", "NoSuchOperation"),
        (carol, "runtime.sagemaker.amazonaws.com", "InvokeEndpoint"),
        (carol, "lambda.amazonaws.com", "Invoke"),
        (carol, "sts.amazonaws.com", "AssumeRole"),
        (carol, "ec2.amazonaws.com", "RunInstances"),
        (carol, "nosuchservice.amazonaws.com", "DoThing"),
    ];
    events
        .iter()
        .enumerate()
        .map(|(i, (who, source, name))| {
            serde_json::json!({
                "eventVersion": "1.08",
                "userIdentity": {"type": "AssumedRole", "arn": who, "accountId": "111122223333"},
                "eventTime": format!("2026-06-14T10:{:02}:00Z", i),
                "eventSource": source,
                "eventName": name,
                "awsRegion": "us-east-1",
                "sourceIPAddress": "192.0.2.1",
                "eventID": format!("00000000-0000-0000-0000-{:012}", i),
                "eventType": "AwsApiCall",
                "recipientAccountId": "111122223333"
            })
        })
        .collect()
}

/// What `iamref calls` says, per principal: (principal, action) -> the
/// operations that need it.
fn calls_per_principal(
    dir: &Path,
    db: &Path,
    records: &[Value],
) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut want: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let principals: BTreeSet<String> = records
        .iter()
        .map(|r| r["userIdentity"]["arn"].as_str().unwrap().to_string())
        .collect();
    for p in &principals {
        let mine: Vec<&Value> = records
            .iter()
            .filter(|r| r["userIdentity"]["arn"] == p.as_str())
            .collect();
        let input = serde_json::json!({ "Records": mine }).to_string();
        let out = iamref(dir)
            .arg("--db")
            .arg(db)
            .args(["calls", "--format", "json", "-"])
            .write_stdin(input)
            .output()
            .unwrap();
        assert!(
            out.status.code() == Some(0),
            "{p}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
        for r in rows.as_array().unwrap() {
            let ops: BTreeSet<String> = r["needed_by"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o.as_str().unwrap().to_string())
                .collect();
            want.insert((p.clone(), r["action"].as_str().unwrap().to_string()), ops);
        }
    }
    want
}

#[test]
fn cloudtrail_join_in_duckdb_equals_iamref_calls() {
    let Some(venv) = venv() else { return };
    let (dir, db) = shipped();
    let records = trail_records();
    // One JSON record per line, as CloudTrail Lake / a flattened trail.
    let trail = dir.path().join("trail.jsonl");
    let lines: Vec<String> = records.iter().map(|r| r.to_string()).collect();
    std::fs::write(&trail, lines.join("\n") + "\n").unwrap();

    // What `iamref calls` says, per principal.
    let want = calls_per_principal(dir.path(), &db, &records);
    assert!(want.len() > 10, "{want:?}");
    assert!(want.contains_key(&(
        "arn:aws:iam::111122223333:role/alice".into(),
        "cloudwatch:PutMetricData".into()
    )));

    for format in ["csv", "jsonl"] {
        let out = dir.path().join(format!("iamref-{format}"));
        iamref(dir.path())
            .arg("--db")
            .arg(&db)
            .args(["export", "-q", "--format", format])
            .arg(&out)
            .assert()
            .success();
        let script = dir.path().join(format!("join-{format}.py"));
        std::fs::write(&script, DUCKDB_SCRIPT).unwrap();
        let rows = run_ok(
            std::process::Command::new(venv.join("bin/python"))
                .arg(&script)
                .arg(&out)
                .arg(format)
                .arg(&trail)
                .arg(root().join("sql/athena/actions_by_principal.sql")),
        );
        let mut got: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        let mut calls_per_op: BTreeMap<(String, String), i64> = BTreeMap::new();
        for line in rows.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let key = (
                v["principal"].as_str().unwrap().to_string(),
                v["iam_action"].as_str().unwrap().to_string(),
            );
            let op = v["operation"].as_str().unwrap().to_string();
            got.entry(key.clone()).or_default().insert(op.clone());
            calls_per_op.insert((key.0, op), v["calls"].as_i64().unwrap());
        }
        assert_eq!(got, want, "{format}: DuckDB join vs iamref calls");
        assert_eq!(
            calls_per_op[&(
                "arn:aws:iam::111122223333:role/alice".to_string(),
                "s3:GetObject".to_string()
            )],
            2,
            "{format}: calls are counted per operation"
        );
    }
}

/// DuckDB reads every exported file as it is, in both formats, under the
/// names sql/athena/tables.sql gives them: the columns, the row counts,
/// booleans as booleans (JSON lines), and the two views of migration 2
/// queried there as in SQLite.
#[test]
fn duckdb_reads_every_exported_file() {
    let Some(venv) = venv() else { return };
    let (dir, db) = shipped();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
    let script = dir.path().join("load-all.py");
    std::fs::write(&script, DUCKDB_LOAD_ALL).unwrap();
    for format in ["csv", "jsonl"] {
        let out = dir.path().join(format!("all-{format}"));
        iamref(dir.path())
            .arg("--db")
            .arg(&db)
            .args(["export", "-q", "--format", format])
            .arg(&out)
            .assert()
            .success();
        let report = run_ok(
            std::process::Command::new(venv.join("bin/python"))
                .arg(&script)
                .arg(&out)
                .arg(format)
                .arg(names.join(",")),
        );
        let v: Value = serde_json::from_str(&report).unwrap_or_else(|e| panic!("{e}: {report}"));
        for t in TABLES {
            let got = &v["tables"][t.name];
            let cols: Vec<&str> = got["columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c[0].as_str().unwrap())
                .collect();
            let want: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
            assert_eq!(cols, want, "{format} {}: DuckDB's columns", t.name);
            if t.name.starts_with("v_") || t.name == "operation_action_map" {
                let sql = match t.name {
                    "operation_action_map" => "SELECT count(*) FROM v_operations".to_string(),
                    n => format!("SELECT count(*) FROM {n}"),
                };
                assert_eq!(got["rows"], count(&conn, &sql), "{format} {}: rows", t.name);
            }
            if format == "jsonl" {
                for ((name, ty), c) in t.columns.iter().zip(got["columns"].as_array().unwrap()) {
                    if *ty == ColumnType::Bool {
                        assert_eq!(c[1], "BOOLEAN", "{} {name}", t.name);
                    }
                }
            }
        }
        assert_eq!(
            v["lambda"],
            serde_json::json!(["lambda.amazonaws.com"]),
            "{format}"
        );
        assert_eq!(
            v["listener"],
            serde_json::json!([
                ["json", "ArrayOfString, String"],
                ["list_awselasticloadbalancingv2.html", "String"],
                ["merged", "ArrayOfString"]
            ]),
            "{format}"
        );
    }
}

/// Loads each exported file as `iamref_NAME` (the Athena DDL's names) and
/// prints, as one JSON document, each table's columns and row count and
/// the answers of two queries over the views of migration 2.
const DUCKDB_LOAD_ALL: &str = r#"
import json, sys, duckdb
out, fmt, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
con = duckdb.connect()
report = {"tables": {}}
for t in names:
    path = f"{out}/{t}.{fmt}"
    if fmt == "csv":
        src = f"read_csv('{path}', header=true, all_varchar=true)"
    else:
        src = f"read_json('{path}', format='newline_delimited')"
    con.execute(f"CREATE VIEW iamref_{t} AS SELECT * FROM {src}")
    cols = [[r[0], r[1]] for r in con.execute(f"DESCRIBE iamref_{t}").fetchall()]
    rows = con.execute(f"SELECT count(*) FROM iamref_{t}").fetchone()[0]
    report["tables"][t] = {"columns": cols, "rows": rows}
report["lambda"] = [r[0] for r in con.execute(
    "SELECT value FROM iamref_v_operation_context WHERE prefix = 'lambda'"
    " AND operation = 'CreateFunction' AND action_prefix = 'iam'"
    " AND action = 'PassRole' AND condition_key = 'iam:PassedToService'").fetchall()]
report["listener"] = [list(r) for r in con.execute(
    "SELECT source, type FROM iamref_v_condition_key_types"
    " WHERE condition_key = 'elasticloadbalancing:ListenerProtocol'"
    " ORDER BY source").fetchall()]
print(json.dumps(report))
"#;

/// Loads the export and the trail into DuckDB under the table names the
/// Athena DDL in `sql/athena/` creates, then runs the shipped query.
const DUCKDB_SCRIPT: &str = r#"
import json, sys, duckdb
out, fmt, trail, query = sys.argv[1:5]
con = duckdb.connect()
for t in ["v_services", "operation_action_map", "event_source_prefixes"]:
    path = f"{out}/{t}.{fmt}"
    if fmt == "csv":
        src = f"read_csv('{path}', header=true, all_varchar=true)"
    else:
        src = f"read_json('{path}', format='newline_delimited')"
    con.execute(f"CREATE VIEW iamref_{t} AS SELECT * FROM {src}")
# CloudTrail's camelCase names; SQL identifiers (and struct fields) match
# them case-insensitively, as Athena's lowercase columns do.
con.execute(f"CREATE VIEW cloudtrail_logs AS SELECT * FROM read_json('{trail}', format='newline_delimited')")
sql = open(query).read()
cur = con.execute(sql)
cols = [d[0] for d in cur.description]
for row in cur.fetchall():
    print(json.dumps(dict(zip(cols, row)), default=str))
"#;

// ---------------------------------------------------------------------------
// The CloudTrail join in Spark (local mode) against `iamref calls`
// ---------------------------------------------------------------------------

/// Runs the shipped Spark SQL: the variables set, every statement of
/// sql/spark/tables.sql, then the join; one JSON object per result row.
const SPARK_SCRIPT: &str = r#"
import json, sys
from pyspark.sql import SparkSession
export, fmt, ext, trail, tables, query = sys.argv[1:7]
spark = (SparkSession.builder.master("local[1]").appName("iamref-join")
         .config("spark.ui.enabled", "false")
         .config("spark.driver.host", "127.0.0.1")
         .config("spark.driver.bindAddress", "127.0.0.1")
         .config("spark.sql.shuffle.partitions", "1")
         .config("spark.ui.showConsoleProgress", "false")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
for k, v in [("iamref_export", export), ("iamref_format", fmt),
             ("iamref_ext", ext), ("iamref_trail", trail)]:
    spark.sql(f"SET {k}={v}")
def statements(path):
    text = "\n".join(l for l in open(path).read().splitlines()
                     if not l.lstrip().startswith("--"))
    return [s for s in text.split(";") if s.strip()]
for s in statements(tables):
    spark.sql(s)
for row in spark.sql(open(query).read()).collect():
    print(json.dumps(row.asDict(), default=str))
spark.stop()
"#;

/// The Spark query is the Athena query but for the regular expression's
/// doubled backslashes: nothing else may drift.
#[test]
fn spark_sql_is_the_athena_query_with_spark_escapes() {
    let body = |p: &str| {
        let text = std::fs::read_to_string(root().join(p)).unwrap();
        text[text.find("WITH events AS").expect(p)..].to_string()
    };
    let athena = body("sql/athena/actions_by_principal.sql");
    let spark = body("sql/spark/actions_by_principal.sql");
    assert_ne!(athena, spark);
    assert_eq!(spark.replace("\\\\", "\\"), athena);
    // Every table the Athena DDL declares has a Spark view.
    let views = std::fs::read_to_string(root().join("sql/spark/tables.sql")).unwrap();
    for t in athena_tables() {
        assert!(
            views.contains(&format!("TEMPORARY VIEW iamref_{}\n", t.name)),
            "sql/spark/tables.sql: no view iamref_{}",
            t.name
        );
    }
}

#[test]
fn cloudtrail_join_in_spark_equals_iamref_calls() {
    let java = std::process::Command::new("java").arg("-version").output();
    if !java.is_ok_and(|o| o.status.success()) {
        iamref_testkit::skip("Java is unavailable: Spark needs it");
        return;
    }
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let venv = match VENV.get_or_init(|| {
        python::venv(
            Path::new(env!("CARGO_TARGET_TMPDIR")),
            "spark",
            python::pins::SPARK,
        )
    }) {
        Ok(v) => v.clone(),
        Err(why) => {
            iamref_testkit::skip(format!("pyspark unavailable: {why}"));
            return;
        }
    };
    let (dir, db) = shipped();
    let records = trail_records();
    let trail = dir.path().join("trail.jsonl");
    let lines: Vec<String> = records.iter().map(|r| r.to_string()).collect();
    std::fs::write(&trail, lines.join("\n") + "\n").unwrap();
    let want = calls_per_principal(dir.path(), &db, &records);
    assert!(want.len() > 10, "{want:?}");
    for (format, ext) in [("csv", "csv"), ("json", "jsonl")] {
        let export = dir.path().join(format!("spark-{ext}"));
        iamref(dir.path())
            .arg("--db")
            .arg(&db)
            .args([
                "export",
                "-q",
                "--format",
                if ext == "csv" { "csv" } else { "jsonl" },
            ])
            .arg(&export)
            .assert()
            .success();
        let script = dir.path().join("join-spark.py");
        std::fs::write(&script, SPARK_SCRIPT).unwrap();
        let out = python::run_bounded(
            std::process::Command::new(venv.join("bin/python"))
                .arg(&script)
                .arg(&export)
                .arg(format)
                .arg(ext)
                .arg(&trail)
                .arg(root().join("sql/spark/tables.sql"))
                .arg(root().join("sql/spark/actions_by_principal.sql"))
                .env("PYSPARK_PYTHON", venv.join("bin/python"))
                .env("SPARK_LOCAL_IP", "127.0.0.1"),
            std::time::Duration::from_secs(600),
        )
        .expect("Spark ran within 10 minutes");
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut got: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            got.entry((
                v["principal"].as_str().unwrap().to_string(),
                v["iam_action"].as_str().unwrap().to_string(),
            ))
            .or_default()
            .insert(v["operation"].as_str().unwrap().to_string());
        }
        assert_eq!(got, want, "{format}: Spark join vs iamref calls");
    }
}
