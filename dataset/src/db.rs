//! Writing the normalized model into SQLite, and reading it back.

use crate::model::*;
use crate::schema::{current_version, MIGRATIONS};
use crate::Error;
use rusqlite::{params, OpenFlags, OptionalExtension};
use std::collections::HashMap;
use std::path::Path;

mod read;
pub mod sealed;
pub use read::{read, read_services, Operations, Selection};
/// The connection type every reader takes (re-exported: callers need no
/// SQLite crate of their own).
pub use rusqlite::Connection;

/// One consistent view across several reads: a read transaction on
/// `conn`, unless the caller holds one already; it ends when dropped.
/// (Otherwise each statement takes and drops the file lock and looks for
/// a hot journal again.)
pub fn read_transaction(conn: &Connection) -> Result<ReadTransaction<'_>, Error> {
    Ok(ReadTransaction(if conn.is_autocommit() {
        Some(conn.unchecked_transaction()?)
    } else {
        None
    }))
}

/// See [`read_transaction`].
pub struct ReadTransaction<'a>(#[allow(dead_code)] Option<rusqlite::Transaction<'a>>);

/// Apply every migration `conn` has not seen yet.
pub fn migrate(conn: &mut Connection) -> Result<(), Error> {
    let have: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if have > current_version() {
        return Err(Error::SchemaTooNew {
            found: have,
            supported: current_version(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(have as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// [`open_read_only`], reading pages through a memory map rather than
/// copying each into the page cache: ~250 fewer page faults and ~1 ms
/// less for a policy run (bench/policy_write.sh). Only for files iamref
/// owns and replaces by renaming a new file over them (the cached
/// snapshot): a mapped file that another program truncates would stop
/// the process with SIGBUS instead of an error. SQLite falls back to
/// reads where mapping is unsupported; a refused pragma is no error.
pub fn open_read_only_mapped(path: &Path) -> Result<Connection, Error> {
    let conn = open_read_only(path)?;
    let _ = conn.pragma_update(None, "mmap_size", 256i64 << 20);
    Ok(conn)
}

/// Open an existing database read-only, checking its schema version.
pub fn open_read_only(path: &Path) -> Result<Connection, Error> {
    if !path.exists() {
        return Err(Error::NoDatabase(path.to_path_buf()));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| Error::NotADatabase(path.to_path_buf(), e.to_string()))?;
    if v == 0 {
        return Err(Error::NotADatabase(
            path.to_path_buf(),
            "it has no iamref schema".into(),
        ));
    }
    if v != current_version() {
        return Err(Error::SchemaMismatch {
            path: path.to_path_buf(),
            found: v,
            supported: current_version(),
        });
    }
    Ok(conn)
}

/// Write `services` and `manifest` into a new database at `out`, atomically:
/// the data goes into a temporary file beside `out` that is renamed over it
/// only once complete, so a failed build leaves an existing file untouched.
pub fn write_database(out: &Path, manifest: &Manifest, services: &[Service]) -> Result<(), Error> {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    remove_stale_temps(dir);
    let tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(".sqlite")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    // Held while the file is being written: a leftover that can be locked
    // belongs to no live run (see `remove_stale_temps`).
    #[cfg(unix)]
    lock_exclusive(tmp.as_file(), false);
    {
        let mut conn = Connection::open(tmp.path())?;
        // A cache big enough for the whole build keeps pages from spilling to
        // disk mid-transaction (the database is ~20 MB with the JSON).
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY;",
        )?;
        migrate(&mut conn)?;
        let tx = conn.transaction()?;
        insert_all(&tx, manifest, services)?;
        tx.commit()?;
        // (no PRAGMA optimize: it costs more than it gains on a fresh file)
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(out).map_err(|e| Error::io(out, e.error))?;
    Ok(())
}

const TEMP_PREFIX: &str = ".iamref-build-";

/// Take (or, with `try_only`, try to take) an exclusive advisory lock on
/// `f`, released when it is closed. True if taken.
#[cfg(unix)]
fn lock_exclusive(f: &std::fs::File, try_only: bool) -> bool {
    use std::os::fd::AsRawFd;
    let op = if try_only {
        libc::LOCK_EX | libc::LOCK_NB
    } else {
        libc::LOCK_EX
    };
    // SAFETY: flock on a descriptor we own for the duration of the call.
    unsafe { libc::flock(f.as_raw_fd(), op) == 0 }
}

/// Remove `.iamref-build-*.sqlite` files left in `dir` by runs that were
/// killed mid-write (SIGKILL, power loss): a run holds a lock on its file
/// while writing, so a file that can be locked is nobody's. Best effort.
fn remove_stale_temps(dir: &Path) {
    #[cfg(unix)]
    {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            if !(name.starts_with(TEMP_PREFIX) && name.ends_with(".sqlite")) {
                continue;
            }
            let path = e.path();
            if let Ok(f) = std::fs::OpenOptions::new().read(true).open(&path) {
                if lock_exclusive(&f, true) {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// The same database as [`write_database`], in memory (for when no folder
/// can be written).
pub fn write_in_memory(manifest: &Manifest, services: &[Service]) -> Result<Connection, Error> {
    let mut conn = Connection::open_in_memory()?;
    migrate(&mut conn)?;
    let tx = conn.transaction()?;
    insert_all(&tx, manifest, services)?;
    tx.commit()?;
    Ok(conn)
}

fn insert_all(
    tx: &rusqlite::Transaction,
    manifest: &Manifest,
    services: &[Service],
) -> Result<(), Error> {
    let manifest_json = serde_json::to_string(manifest).expect("manifest serializes");
    tx.execute(
        "INSERT INTO meta(key, value) VALUES ('manifest', ?1)",
        params![manifest_json],
    )?;
    let mut ins_service = tx.prepare(
        "INSERT INTO services(prefix, name, sources, json_version) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut ins_page = tx.prepare(
        "INSERT INTO pages(service_id, file, service_name, url, sha256, layout) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut ins_action = tx.prepare(
        "INSERT INTO actions(service_id, name, description, access_level, permission_only, doc_url, sources,
                             is_list, is_write, is_permission_management, is_tagging_only)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut ins_action_page =
        tx.prepare("INSERT OR IGNORE INTO action_pages(action_id, page_id) VALUES (?1, ?2)")?;
    let mut ins_page_facts = tx.prepare(
        "INSERT OR IGNORE INTO action_page_facts(action_id, page_id, access_level, description, permission_only)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut ins_supported = tx.prepare(
        "INSERT INTO action_supported_by(action_id, feature, supported) VALUES (?1, ?2, ?3)",
    )?;
    let mut ins_rt = tx.prepare(
        "INSERT INTO resource_types(service_id, name, doc_url, sources) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut ins_rt_page = tx.prepare(
        "INSERT OR IGNORE INTO resource_type_pages(resource_type_id, page_id) VALUES (?1, ?2)",
    )?;
    let mut ins_arn = tx.prepare(
        "INSERT OR IGNORE INTO arn_formats(resource_type_id, ord, arn, sources) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut ins_rt_key = tx.prepare(
        "INSERT OR IGNORE INTO resource_type_condition_keys(resource_type_id, ord, condition_key, sources) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut ins_key = tx.prepare(
        "INSERT INTO condition_keys(service_id, name, type, description, doc_url, sources) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut ins_key_page = tx.prepare(
        "INSERT OR IGNORE INTO condition_key_pages(condition_key_id, page_id) VALUES (?1, ?2)",
    )?;
    let mut ins_scenario =
        tx.prepare("INSERT INTO scenarios(action_id, ord, name) VALUES (?1, ?2, ?3)")?;
    let mut ins_art = tx.prepare(
        "INSERT INTO action_resource_types(action_id, scenario_id, ord, resource_type, resource_type_id, required, sources)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut ins_ack = tx.prepare(
        "INSERT INTO action_condition_keys(action_id, action_resource_type_id, ord, condition_key, sources) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut ins_dep = tx.prepare(
        "INSERT INTO dependent_actions(action_id, action_resource_type_id, ord, dependent_action) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut ins_op =
        tx.prepare("INSERT INTO operations(service_id, name, sources) VALUES (?1, ?2, ?3)")?;
    let mut ins_op_action = tx.prepare(
        "INSERT INTO operation_actions(operation_id, ord, service, action, access_level, sources) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut ins_op_key = tx.prepare(
        "INSERT OR IGNORE INTO operation_action_condition_keys(operation_action_id, ord, condition_key) VALUES (?1, ?2, ?3)",
    )?;
    let mut ins_action_variant = tx.prepare(
        "INSERT OR IGNORE INTO action_variants(action_id, source, description) VALUES (?1, ?2, ?3)",
    )?;
    let mut ins_key_variant = tx.prepare(
        "INSERT OR IGNORE INTO condition_key_variants(condition_key_id, source, type, description) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut ins_op_context = tx.prepare(
        "INSERT OR IGNORE INTO operation_action_context(operation_action_id, condition_key, ord, value) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut ins_sdk = tx.prepare(
        "INSERT OR IGNORE INTO sdk_methods(operation_id, package, client, method) VALUES (?1, ?2, ?3, ?4)",
    )?;

    for svc in services {
        ins_service.execute(params![
            svc.prefix,
            svc.name,
            svc.sources.bits(),
            svc.json_version
        ])?;
        let sid = tx.last_insert_rowid();
        let mut page_ids: HashMap<&str, i64> = HashMap::new();
        for p in &svc.pages {
            let layout = p.layout.as_str();
            ins_page.execute(params![
                sid,
                p.file,
                p.service_name,
                p.url,
                p.sha256,
                layout
            ])?;
            page_ids.insert(p.file.as_str(), tx.last_insert_rowid());
        }
        let mut rt_ids: HashMap<String, i64> = HashMap::new();
        for rt in &svc.resource_types {
            ins_rt.execute(params![sid, rt.name, rt.doc_url, rt.sources.bits()])?;
            let rid = tx.last_insert_rowid();
            rt_ids.insert(rt.name.to_ascii_lowercase(), rid);
            for p in &rt.pages {
                if let Some(pid) = page_ids.get(p.as_str()) {
                    ins_rt_page.execute(params![rid, pid])?;
                }
            }
            for (i, arn) in rt.arns.iter().enumerate() {
                ins_arn.execute(params![rid, i as i64, arn.arn, arn.sources.bits()])?;
            }
            for (i, k) in rt.condition_keys.iter().enumerate() {
                ins_rt_key.execute(params![rid, i as i64, k.name, k.sources.bits()])?;
            }
        }
        for k in &svc.condition_keys {
            ins_key.execute(params![
                sid,
                k.name,
                k.r#type,
                k.description,
                k.doc_url,
                k.sources.bits()
            ])?;
            let kid = tx.last_insert_rowid();
            for p in &k.pages {
                if let Some(pid) = page_ids.get(p.as_str()) {
                    ins_key_page.execute(params![kid, pid])?;
                }
            }
            for v in &k.variants {
                ins_key_variant.execute(params![kid, v.source, v.r#type, v.description])?;
            }
        }
        for a in &svc.actions {
            let ann = a.annotations;
            ins_action.execute(params![
                sid,
                a.name,
                a.description,
                a.access_level,
                a.permission_only,
                a.doc_url,
                a.sources.bits(),
                ann.map(|x| x.is_list),
                ann.map(|x| x.is_write),
                ann.map(|x| x.is_permission_management),
                ann.map(|x| x.is_tagging_only),
            ])?;
            let aid = tx.last_insert_rowid();
            for p in &a.pages {
                if let Some(pid) = page_ids.get(p.as_str()) {
                    ins_action_page.execute(params![aid, pid])?;
                }
            }
            for (feature, supported) in &a.supported_by {
                ins_supported.execute(params![aid, feature, supported])?;
            }
            for v in &a.variants {
                ins_action_variant.execute(params![aid, v.source, v.description])?;
            }
            for f in &a.per_page {
                if let Some(pid) = page_ids.get(f.page.as_str()) {
                    ins_page_facts.execute(params![
                        aid,
                        pid,
                        f.access_level,
                        f.description,
                        f.permission_only
                    ])?;
                }
            }
            let mut ord = 0i64;
            let mut insert_row = |r: &ActionResource, scenario: Option<i64>| -> Result<(), Error> {
                let rid = rt_ids.get(&r.name.to_ascii_lowercase()).copied();
                ins_art.execute(params![
                    aid,
                    scenario,
                    ord,
                    r.name,
                    rid,
                    r.required,
                    r.sources.bits()
                ])?;
                ord += 1;
                let art = tx.last_insert_rowid();
                for (i, k) in r.condition_keys.iter().enumerate() {
                    ins_ack.execute(params![aid, art, i as i64, k.name, k.sources.bits()])?;
                }
                for (i, d) in r.dependent_actions.iter().enumerate() {
                    ins_dep.execute(params![aid, art, i as i64, d])?;
                }
                Ok(())
            };
            for r in &a.resource_types {
                insert_row(r, None)?;
            }
            for (i, s) in a.scenarios.iter().enumerate() {
                ins_scenario.execute(params![aid, i as i64, s.name])?;
                let scid = tx.last_insert_rowid();
                for r in &s.resource_types {
                    insert_row(r, Some(scid))?;
                }
            }
            for (i, k) in a.condition_keys.iter().enumerate() {
                ins_ack.execute(params![
                    aid,
                    Option::<i64>::None,
                    i as i64,
                    k.name,
                    k.sources.bits()
                ])?;
            }
            for (i, d) in a.dependent_actions.iter().enumerate() {
                ins_dep.execute(params![aid, Option::<i64>::None, i as i64, d])?;
            }
        }
        for op in &svc.operations {
            ins_op.execute(params![sid, op.name, op.sources.bits()])?;
            let oid = tx.last_insert_rowid();
            for (i, oa) in op.actions.iter().enumerate() {
                ins_op_action.execute(params![
                    oid,
                    i as i64,
                    oa.service,
                    oa.action,
                    oa.access_level,
                    oa.sources.bits()
                ])?;
                let oaid = tx.last_insert_rowid();
                for (j, k) in oa.condition_keys.iter().enumerate() {
                    ins_op_key.execute(params![oaid, j as i64, k])?;
                }
                for (k, vals) in &oa.context {
                    for (j, v) in vals.iter().enumerate() {
                        ins_op_context.execute(params![oaid, k, j as i64, v])?;
                    }
                }
            }
            for s in &op.sdk {
                ins_sdk.execute(params![oid, s.package, s.client, s.method])?;
            }
        }
    }
    Ok(())
}

/// Is this error SQLite saying that the file is damaged or not a
/// database (by its code, on a SQLite error or this crate's wrapping of
/// one)?
pub fn is_corruption(e: &(dyn std::error::Error + 'static)) -> bool {
    let sqlite = e
        .downcast_ref::<rusqlite::Error>()
        .or_else(|| match e.downcast_ref::<Error>() {
            Some(Error::Sqlite(s)) => Some(s),
            _ => None,
        });
    matches!(
        sqlite.and_then(|s| s.sqlite_error_code()),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// A consistent copy of the database `conn` reads, written to `out`
/// (SQLite's `VACUUM INTO`) through a temporary file beside it, so that
/// an existing file is replaced only when the copy is complete.
pub fn copy_database(conn: &Connection, out: &Path) -> Result<(), Error> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".iamref-export-")
        .tempfile_in(dir)
        .map_err(|e| Error::Destination(format!("creating a file in {}: {e}", dir.display())))?;
    let tmp_path = tmp.into_temp_path();
    std::fs::remove_file(&tmp_path).ok();
    conn.execute("VACUUM INTO ?1", [tmp_path.to_string_lossy().as_ref()])?;
    tmp_path
        .persist(out)
        .map_err(|e| Error::Destination(format!("writing {}: {}", out.display(), e.error)))?;
    Ok(())
}

/// The manifest stored in a database.
pub fn read_manifest(conn: &Connection) -> Result<Manifest, Error> {
    let json: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'manifest'", [], |r| {
            r.get(0)
        })
        .optional()?;
    let json = json.ok_or_else(|| Error::Corrupt("the database has no manifest".into()))?;
    serde_json::from_str(&json).map_err(|e| Error::Corrupt(format!("bad manifest: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge::merge_pages;

    fn sample() -> Vec<Service> {
        let mut get = Action::new("GetThing");
        get.access_level = Some("Read".into());
        get.description = Some("Grants permission to get a thing".into());
        get.resource_types.push(ActionResource {
            name: "thing".into(),
            required: true,
            condition_keys: vec![KeyRef::html("x:Color")],
            dependent_actions: vec!["kms:Decrypt".into()],
            sources: Sources::BOTH,
        });
        get.resource_types.push(ActionResource {
            name: "undefined-type".into(),
            required: false,
            condition_keys: vec![],
            dependent_actions: vec![],
            sources: Sources::HTML,
        });
        get.condition_keys.push(KeyRef {
            name: "aws:RequestTag/${TagKey}".into(),
            sources: Sources::JSON,
        });
        get.scenarios.push(Scenario {
            name: "Classic".into(),
            resource_types: vec![ActionResource {
                name: "thing".into(),
                required: true,
                condition_keys: vec![],
                dependent_actions: vec![],
                sources: Sources::HTML,
            }],
        });
        get.annotations = Some(Annotations {
            is_list: false,
            is_write: false,
            is_permission_management: false,
            is_tagging_only: false,
        });
        get.supported_by
            .insert("IAM Action Last Accessed".into(), true);
        get.variants.push(Variant {
            source: "list_x2.html".into(),
            description: Some("Grants permission to fetch a thing".into()),
            r#type: None,
        });
        let mut list = Action::new("ListThings");
        list.access_level = Some("List".into());
        list.permission_only = true;
        let page = Page {
            file: "list_x.html".into(),
            service_name: "Service X".into(),
            prefix: "x".into(),
            url: Some("https://example.invalid/list_x.html".into()),
            sha256: "ab".into(),
            layout: Layout::Live2026,
            actions: vec![list, get],
            resource_types: vec![ResourceType {
                name: "thing".into(),
                doc_url: None,
                arns: vec![
                    ArnFormat {
                        arn: "arn:${Partition}:x:::thing/${Id}".into(),
                        sources: Sources::HTML,
                    },
                    ArnFormat {
                        arn: "arn:${Partition}:x:::alt/${Id}".into(),
                        sources: Sources::JSON,
                    },
                ],
                condition_keys: vec![KeyRef::html("x:Color")],
                pages: vec![],
                sources: Sources::HTML,
            }],
            condition_keys: vec![ConditionKey {
                name: "x:Color".into(),
                description: Some("Filters by color".into()),
                r#type: Some("String".into()),
                doc_url: None,
                pages: vec![],
                sources: Sources::HTML,
                variants: vec![Variant {
                    source: JSON_SOURCE.into(),
                    description: None,
                    r#type: Some("ArrayOfString".into()),
                }],
            }],
            operations: vec![Operation {
                name: "GetThing".into(),
                actions: vec![OperationAction {
                    service: "x".into(),
                    action: "GetThing".into(),
                    condition_keys: vec!["x:Color".into()],
                    context: [(
                        "x:Color".to_string(),
                        vec!["red".to_string(), "blue".to_string()],
                    )]
                    .into_iter()
                    .collect(),
                    access_level: Some("Read".into()),
                    sources: Sources::HTML,
                }],
                sdk: vec![SdkMethod {
                    package: "Boto3".into(),
                    client: "x".into(),
                    method: "get_thing".into(),
                }],
                sources: Sources::JSON,
            }],
            warnings: vec![],
        };
        // A second page of the prefix that says otherwise about ListThings
        // (constructed): the per-page facts keep both.
        let mut list2 = Action::new("ListThings");
        list2.access_level = Some("Read".into());
        list2.description = Some("Grants permission to list things".into());
        let page2 = Page {
            file: "list_x2.html".into(),
            url: None,
            sha256: "cd".into(),
            actions: vec![list2],
            resource_types: vec![],
            condition_keys: vec![],
            operations: vec![],
            ..page.clone()
        };
        let out = merge_pages(vec![page, page2]);
        assert_eq!(out[0].actions[1].per_page.len(), 2);
        out
    }

    #[test]
    fn database_round_trips_the_model() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let services = sample();
        let manifest = Manifest {
            format: 1,
            source: "test".into(),
            ..Default::default()
        };
        write_database(&path, &manifest, &services).unwrap();
        let conn = open_read_only(&path).unwrap();
        assert_eq!(read_manifest(&conn).unwrap(), manifest);
        assert_eq!(read_services(&conn).unwrap(), services);
        // The views see it too; the undefined type has no ARN.
        let n: i64 = conn
            .query_row("SELECT count(*) FROM v_action_resource_types WHERE action = 'getthing' AND arn IS NULL", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn reading_without_provenance_leaves_out_exactly_that() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let services = sample();
        write_database(&path, &Manifest::default(), &services).unwrap();
        let conn = open_read_only(&path).unwrap();
        let mut expected = services.clone();
        for s in &mut expected {
            for a in &mut s.actions {
                a.pages.clear();
                a.supported_by.clear();
                a.variants.clear();
            }
            for r in &mut s.resource_types {
                r.pages.clear();
            }
            for k in &mut s.condition_keys {
                k.pages.clear();
                k.variants.clear();
            }
        }
        let sel = Selection {
            provenance: false,
            ..Selection::all()
        };
        assert_eq!(read(&conn, &sel).unwrap(), expected);
        assert_ne!(expected, services, "the sample has provenance to leave out");
    }

    /// Each part of a selection loads exactly that part, for exactly the
    /// selected services: every read is the written model less what the
    /// selection leaves out.
    #[test]
    fn each_selection_reads_exactly_its_parts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let mut services = sample();
        // Two more operations: one calling the action the sample's
        // operation calls with a context (without one), one calling
        // another action (no context anywhere).
        let mut plain = services[0].operations[0].clone();
        plain.name = "CopyThing".into();
        plain.actions[0].context.clear();
        plain.sdk.clear();
        let mut list = plain.clone();
        list.name = "ListThings".into();
        list.actions[0].action = "ListThings".into();
        services[0].operations.extend([plain, list]);
        let mut other = services[0].clone();
        other.prefix = "y".into();
        other.pages.clear();
        services.push(other);
        write_database(&path, &Manifest::default(), &services).unwrap();
        services = read(&open_read_only(&path).unwrap(), &Selection::all()).unwrap();
        assert_eq!(
            services[0].operations.len(),
            3,
            "{:?}",
            services[0].operations
        );
        let conn = open_read_only(&path).unwrap();
        assert!(
            services[0].operations.iter().any(|o| !o.sdk.is_empty()),
            "the sample has SDK methods"
        );
        // The model less what `sel` leaves out.
        let expect = |sel: &Selection| -> Vec<Service> {
            let mut v: Vec<Service> = services
                .iter()
                .filter(|s| {
                    sel.prefixes
                        .as_ref()
                        .is_none_or(|ps| ps.iter().any(|p| p.eq_ignore_ascii_case(&s.prefix)))
                })
                .cloned()
                .collect();
            for s in &mut v {
                if !sel.pages {
                    s.pages.clear();
                }
                if !sel.facts {
                    s.actions.clear();
                    s.resource_types.clear();
                    s.condition_keys.clear();
                }
                for a in &mut s.actions {
                    if !sel.provenance {
                        a.pages.clear();
                        a.supported_by.clear();
                        a.variants.clear();
                    }
                    if !sel.texts {
                        a.description = None;
                        a.doc_url = None;
                        for f in &mut a.per_page {
                            f.description = None;
                        }
                    }
                }
                for r in &mut s.resource_types {
                    if !sel.provenance {
                        r.pages.clear();
                    }
                }
                for k in &mut s.condition_keys {
                    if !sel.provenance {
                        k.pages.clear();
                        k.variants.clear();
                    }
                    if !sel.texts {
                        k.description = None;
                        k.doc_url = None;
                    }
                }
                match sel.operations {
                    Operations::None => s.operations.clear(),
                    Operations::WithContext => s.operations.retain(|o| {
                        o.actions.iter().any(|a| {
                            services.iter().flat_map(|s| &s.operations).any(|p| {
                                p.actions.iter().any(|b| {
                                    !b.context.is_empty()
                                        && b.service.eq_ignore_ascii_case(&a.service)
                                        && b.action.eq_ignore_ascii_case(&a.action)
                                })
                            })
                        })
                    }),
                    Operations::Actions => s.operations.iter_mut().for_each(|o| o.sdk.clear()),
                    Operations::All => {}
                }
                if sel.operations == Operations::WithContext {
                    s.operations.iter_mut().for_each(|o| o.sdk.clear());
                }
            }
            v
        };
        let ops = [
            Operations::None,
            Operations::WithContext,
            Operations::Actions,
            Operations::All,
        ];
        let prefix_lists: [Option<Vec<String>>; 4] = [
            None,
            Some(vec!["Y".into(), "nope".into()]),
            Some(vec!["x".into()]),
            Some(vec![]),
        ];
        let mut n = 0;
        for prefixes in &prefix_lists {
            for bits in 0..16u32 {
                for operations in ops {
                    let sel = Selection {
                        prefixes: prefixes.clone(),
                        facts: bits & 1 != 0,
                        texts: bits & 2 != 0,
                        pages: bits & 4 != 0,
                        provenance: bits & 8 != 0,
                        operations,
                        actions: None,
                    };
                    assert_eq!(read(&conn, &sel).unwrap(), expect(&sel), "{sel:?}");
                    n += 1;
                }
            }
        }
        assert_eq!(n, 256);
        assert!(read(&conn, &Selection::policy(Some(&[])))
            .unwrap()
            .is_empty());
    }

    /// The bulk reader reads by id ranges and skips the rows of other
    /// services inside them: with three services whose actions, resource
    /// types and condition keys are renumbered round-robin (a layout the
    /// writer never makes, constructed here), every selection still reads
    /// exactly its services, each row once, in order.
    #[test]
    fn bulk_reader_reads_interleaved_services() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let mut services = sample();
        for p in ["y", "z"] {
            let mut other = services[0].clone();
            other.prefix = p.into();
            other.pages.clear();
            // A third action, so the services differ in size.
            if p == "z" {
                let mut extra = other.actions[0].clone();
                extra.name = "ZapThing".into();
                other.actions.push(extra);
            }
            services.push(other);
        }
        write_database(&path, &Manifest::default(), &services).unwrap();
        let want = read(&open_read_only(&path).unwrap(), &Selection::all()).unwrap();
        assert_eq!(want.len(), 3);

        let conn = Connection::open(&path).unwrap();
        // The ids change table by table: references hold only at the end.
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        let tables: [(&str, &[(&str, &str)]); 3] = [
            (
                "actions",
                &[
                    ("scenarios", "action_id"),
                    ("action_resource_types", "action_id"),
                    ("action_condition_keys", "action_id"),
                    ("dependent_actions", "action_id"),
                    ("action_pages", "action_id"),
                    ("action_supported_by", "action_id"),
                    ("action_variants", "action_id"),
                    ("action_page_facts", "action_id"),
                ],
            ),
            (
                "resource_types",
                &[
                    ("arn_formats", "resource_type_id"),
                    ("resource_type_condition_keys", "resource_type_id"),
                    ("resource_type_pages", "resource_type_id"),
                    ("action_resource_types", "resource_type_id"),
                ],
            ),
            (
                "condition_keys",
                &[
                    ("condition_key_pages", "condition_key_id"),
                    ("condition_key_variants", "condition_key_id"),
                ],
            ),
        ];
        for (table, children) in tables {
            // Round-robin: each service's first row, then each one's second, …
            let old: Vec<i64> = conn
                .prepare(&format!(
                    "SELECT id FROM {table} t ORDER BY
                     (SELECT count(*) FROM {table} u WHERE u.service_id = t.service_id AND u.id < t.id),
                     service_id"
                ))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            for (i, id) in old.iter().enumerate() {
                let new = 1000 + i as i64;
                conn.execute(
                    &format!("UPDATE {table} SET id = ?1 WHERE id = ?2"),
                    [new, *id],
                )
                .unwrap();
                for (child, col) in children {
                    conn.execute(
                        &format!("UPDATE {child} SET {col} = ?1 WHERE {col} = ?2"),
                        [new, *id],
                    )
                    .unwrap();
                }
            }
        }
        // The layout is interleaved: y's first action lies between x's.
        let (x_lo, x_hi, y_lo): (i64, i64, i64) = conn
            .query_row(
                "SELECT (SELECT min(a.id) FROM actions a JOIN services s ON s.id = a.service_id WHERE s.prefix = 'x'),
                        (SELECT max(a.id) FROM actions a JOIN services s ON s.id = a.service_id WHERE s.prefix = 'x'),
                        (SELECT min(a.id) FROM actions a JOIN services s ON s.id = a.service_id WHERE s.prefix = 'y')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert!(x_lo < y_lo && y_lo < x_hi, "{x_lo} {y_lo} {x_hi}");
        drop(conn);

        let conn = open_read_only(&path).unwrap();
        assert_eq!(read(&conn, &Selection::all()).unwrap(), want);
        let sel = |ps: &[&str]| {
            let ps: Vec<String> = ps.iter().map(|p| p.to_string()).collect();
            let sel = Selection {
                prefixes: Some(ps),
                ..Selection::all()
            };
            read(&conn, &sel).unwrap()
        };
        assert_eq!(sel(&["y"]), vec![want[1].clone()]);
        assert_eq!(sel(&["X", "z"]), vec![want[0].clone(), want[2].clone()]);
        assert_eq!(sel(&["z", "y", "x"]), want);
        assert_eq!(sel(&["z"])[0].actions.len(), 3);
    }

    #[test]
    fn failed_write_leaves_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        std::fs::write(&path, b"precious").unwrap();
        let mut services = sample();
        // Two services with the same prefix violate the UNIQUE constraint.
        services.push(services[0].clone());
        let err = write_database(&path, &Manifest::default(), &services).unwrap_err();
        assert!(err.to_string().contains("UNIQUE"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"precious");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left behind"
        );
    }

    #[test]
    fn schema_versions_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        assert!(matches!(
            open_read_only(&path),
            Err(Error::SchemaMismatch { found: 99, .. })
        ));
        assert!(matches!(
            open_read_only(&dir.path().join("none")),
            Err(Error::NoDatabase(_))
        ));
    }
}
