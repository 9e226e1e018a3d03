//! Writing the normalized model into SQLite, and reading it back.

use crate::model::*;
use crate::schema::{current_version, MIGRATIONS};
use crate::Error;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::collections::HashMap;
use std::path::Path;

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

/// Read every service back into the model (the inverse of
/// [`write_database`]). Each table is read once, in one ordered scan, and
/// the rows are grouped in memory: a whole database in a few tens of
/// milliseconds rather than one query per action.
pub fn read_services(conn: &Connection) -> Result<Vec<Service>, Error> {
    read_services_with(conn, true)
}

/// [`read_services`], leaving out what says where facts come from rather
/// than what they are when `provenance` is false: the page list of each
/// action, resource type and condition key, the JSON `SupportedBy` flags
/// and the per-source `variants` (what `iamref diff` does not compare).
pub fn read_services_with(conn: &Connection, provenance: bool) -> Result<Vec<Service>, Error> {
    let page_file: HashMap<i64, String> = conn
        .prepare("SELECT id, file FROM pages")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut pages = grouped(
        conn,
        "SELECT service_id, file, service_name, url, sha256, layout FROM pages ORDER BY id",
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                PageRef {
                    file: r.get(1)?,
                    service_name: r.get(2)?,
                    url: r.get(3)?,
                    sha256: r.get(4)?,
                    layout: Layout::from_stored(&r.get::<_, String>(5)?),
                },
            ))
        },
    )?;
    let files = |sql: &str| -> Result<HashMap<i64, Vec<String>>, Error> {
        if !provenance {
            return Ok(HashMap::new());
        }
        let mut g = grouped(conn, sql, |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })?;
        Ok(g.drain()
            .map(|(k, ids)| {
                let mut v: Vec<String> = ids
                    .iter()
                    .filter_map(|i| page_file.get(i).cloned())
                    .collect();
                v.sort();
                (k, v)
            })
            .collect())
    };

    // Resource types.
    let mut arns = grouped_ord(
        conn,
        "SELECT resource_type_id, arn, sources, ord FROM arn_formats ORDER BY id",
        3,
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                ArnFormat {
                    arn: r.get(1)?,
                    sources: src(r, 2)?,
                },
            ))
        },
    )?;
    let mut rt_keys = grouped(
        conn,
        "SELECT resource_type_id, condition_key, sources FROM resource_type_condition_keys ORDER BY resource_type_id, ord",
        |r| Ok((r.get::<_, i64>(0)?, key_ref(r, 1)?)),
    )?;
    let mut rt_pages = files("SELECT resource_type_id, page_id FROM resource_type_pages")?;
    let mut resource_types = grouped(
        conn,
        "SELECT service_id, id, name, doc_url, sources FROM resource_types ORDER BY id",
        |r| {
            let rid: i64 = r.get(1)?;
            Ok((
                r.get::<_, i64>(0)?,
                ResourceType {
                    name: r.get(2)?,
                    doc_url: r.get(3)?,
                    arns: arns.remove(&rid).unwrap_or_default(),
                    condition_keys: rt_keys.remove(&rid).unwrap_or_default(),
                    pages: rt_pages.remove(&rid).unwrap_or_default(),
                    sources: src(r, 4)?,
                },
            ))
        },
    )?;

    // Condition keys.
    let mut key_pages = files("SELECT condition_key_id, page_id FROM condition_key_pages")?;
    let mut key_variants = if provenance {
        grouped(
        conn,
        "SELECT condition_key_id, source, description, type FROM condition_key_variants ORDER BY condition_key_id, source",
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                Variant {
                    source: r.get(1)?,
                    description: r.get(2)?,
                    r#type: r.get(3)?,
                },
            ))
        },
    )?
    } else {
        HashMap::new()
    };
    let mut condition_keys = grouped(
        conn,
        "SELECT service_id, id, name, type, description, doc_url, sources FROM condition_keys ORDER BY id",
        |r| {
            let kid: i64 = r.get(1)?;
            Ok((
                r.get::<_, i64>(0)?,
                ConditionKey {
                    name: r.get(2)?,
                    r#type: r.get(3)?,
                    description: r.get(4)?,
                    doc_url: r.get(5)?,
                    pages: key_pages.remove(&kid).unwrap_or_default(),
                    sources: src(r, 6)?,
                    variants: key_variants.remove(&kid).unwrap_or_default(),
                },
            ))
        },
    )?;

    // Actions and their rows.
    let mut action_pages = files("SELECT action_id, page_id FROM action_pages")?;
    let mut supported = if provenance {
        grouped(
            conn,
            "SELECT action_id, feature, supported FROM action_supported_by",
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    (r.get::<_, String>(1)?, r.get::<_, bool>(2)?),
                ))
            },
        )?
    } else {
        HashMap::new()
    };
    let mut action_variants = if provenance {
        grouped(
            conn,
            "SELECT action_id, source, description FROM action_variants ORDER BY action_id, source",
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    Variant {
                        source: r.get(1)?,
                        description: r.get(2)?,
                        r#type: None,
                    },
                ))
            },
        )?
    } else {
        HashMap::new()
    };
    let mut scenarios = grouped_ord(
        conn,
        "SELECT action_id, id, name, ord FROM scenarios ORDER BY id",
        3,
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                (r.get::<_, i64>(1)?, r.get::<_, String>(2)?),
            ))
        },
    )?;
    // Keys and dependent actions by (action, row or NULL for action level).
    let mut keys = grouped_ord(
        conn,
        "SELECT action_id, action_resource_type_id, condition_key, sources, ord FROM action_condition_keys ORDER BY rowid",
        4,
        |r| Ok(((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?), key_ref(r, 2)?)),
    )?;
    let mut deps = grouped_ord(
        conn,
        "SELECT action_id, action_resource_type_id, dependent_action, ord FROM dependent_actions ORDER BY rowid",
        3,
        |r| Ok(((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?), r.get::<_, String>(2)?)),
    )?;
    let mut rows = grouped_ord(
        conn,
        "SELECT action_id, id, scenario_id, resource_type, required, sources, ord FROM action_resource_types ORDER BY id",
        6,
        |r| {
            let aid: i64 = r.get(0)?;
            let id: i64 = r.get(1)?;
            Ok((
                aid,
                (
                    r.get::<_, Option<i64>>(2)?,
                    ActionResource {
                        name: r.get(3)?,
                        required: r.get(4)?,
                        condition_keys: keys.remove(&(aid, Some(id))).unwrap_or_default(),
                        dependent_actions: deps.remove(&(aid, Some(id))).unwrap_or_default(),
                        sources: src(r, 5)?,
                    },
                ),
            ))
        },
    )?;
    let mut actions = grouped(
        conn,
        "SELECT service_id, id, name, description, access_level, permission_only, doc_url, sources,
                is_list, is_write, is_permission_management, is_tagging_only
         FROM actions ORDER BY id",
        |r| {
            let aid: i64 = r.get(1)?;
            let annotations = match r.get::<_, Option<bool>>(8)? {
                None => None,
                Some(is_list) => Some(Annotations {
                    is_list,
                    is_write: r.get::<_, Option<bool>>(9)?.unwrap_or(false),
                    is_permission_management: r.get::<_, Option<bool>>(10)?.unwrap_or(false),
                    is_tagging_only: r.get::<_, Option<bool>>(11)?.unwrap_or(false),
                }),
            };
            let mut action = Action {
                name: r.get(2)?,
                description: r.get(3)?,
                access_level: r.get(4)?,
                permission_only: r.get(5)?,
                doc_url: r.get(6)?,
                resource_types: Vec::new(),
                condition_keys: keys.remove(&(aid, None)).unwrap_or_default(),
                dependent_actions: deps.remove(&(aid, None)).unwrap_or_default(),
                scenarios: Vec::new(),
                pages: action_pages.remove(&aid).unwrap_or_default(),
                sources: src(r, 7)?,
                annotations,
                supported_by: supported
                    .remove(&aid)
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
                variants: action_variants.remove(&aid).unwrap_or_default(),
            };
            let scen = scenarios.remove(&aid).unwrap_or_default();
            action.scenarios = scen
                .iter()
                .map(|(_, name)| Scenario {
                    name: name.clone(),
                    resource_types: Vec::new(),
                })
                .collect();
            for (scenario, row) in rows.remove(&aid).unwrap_or_default() {
                match scenario.and_then(|s| scen.iter().position(|(id, _)| *id == s)) {
                    Some(i) => action.scenarios[i].resource_types.push(row),
                    None => action.resource_types.push(row),
                }
            }
            Ok((r.get::<_, i64>(0)?, action))
        },
    )?;

    // Operations.
    let mut op_keys = grouped(
        conn,
        "SELECT operation_action_id, condition_key FROM operation_action_condition_keys ORDER BY operation_action_id, ord",
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
    )?;
    let mut op_context = grouped(
        conn,
        "SELECT operation_action_id, condition_key, value FROM operation_action_context ORDER BY operation_action_id, condition_key, ord",
        |r| Ok((r.get::<_, i64>(0)?, (r.get::<_, String>(1)?, r.get::<_, String>(2)?))),
    )?;
    let mut op_actions = grouped_ord(
        conn,
        "SELECT operation_id, id, service, action, access_level, sources, ord FROM operation_actions ORDER BY id",
        6,
        |r| {
            let oaid: i64 = r.get(1)?;
            let mut context: std::collections::BTreeMap<String, Vec<String>> = Default::default();
            for (k, v) in op_context.remove(&oaid).unwrap_or_default() {
                context.entry(k).or_default().push(v);
            }
            Ok((
                r.get::<_, i64>(0)?,
                OperationAction {
                    service: r.get(2)?,
                    action: r.get(3)?,
                    condition_keys: op_keys.remove(&oaid).unwrap_or_default(),
                    context,
                    access_level: r.get(4)?,
                    sources: src(r, 5)?,
                },
            ))
        },
    )?;
    let mut sdk = grouped(
        conn,
        "SELECT operation_id, package, client, method FROM sdk_methods ORDER BY operation_id, package, client, method",
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                SdkMethod {
                    package: r.get(1)?,
                    client: r.get(2)?,
                    method: r.get(3)?,
                },
            ))
        },
    )?;
    let mut operations = grouped(
        conn,
        "SELECT service_id, id, name, sources FROM operations ORDER BY id",
        |r| {
            let oid: i64 = r.get(1)?;
            Ok((
                r.get::<_, i64>(0)?,
                Operation {
                    name: r.get(2)?,
                    actions: op_actions.remove(&oid).unwrap_or_default(),
                    sdk: sdk.remove(&oid).unwrap_or_default(),
                    sources: src(r, 3)?,
                },
            ))
        },
    )?;

    let mut services = Vec::new();
    let mut q =
        conn.prepare("SELECT id, prefix, name, sources, json_version FROM services ORDER BY id")?;
    let mut rs = q.query([])?;
    while let Some(r) = rs.next()? {
        let sid: i64 = r.get(0)?;
        services.push(Service {
            prefix: r.get(1)?,
            name: r.get(2)?,
            sources: src(r, 3)?,
            pages: pages.remove(&sid).unwrap_or_default(),
            json_version: r.get(4)?,
            actions: actions.remove(&sid).unwrap_or_default(),
            resource_types: resource_types.remove(&sid).unwrap_or_default(),
            condition_keys: condition_keys.remove(&sid).unwrap_or_default(),
            operations: operations.remove(&sid).unwrap_or_default(),
        });
    }
    Ok(services)
}

/// Rows of `sql`, mapped by `f` to (group, value), grouped in query order.
fn grouped<K: std::hash::Hash + Eq, V>(
    conn: &Connection,
    sql: &str,
    mut f: impl FnMut(&rusqlite::Row) -> rusqlite::Result<(K, V)>,
) -> Result<HashMap<K, Vec<V>>, Error> {
    let mut out: HashMap<K, Vec<V>> = HashMap::new();
    let mut q = conn.prepare(sql)?;
    let mut rows = q.query([])?;
    while let Some(r) = rows.next()? {
        let (k, v) = f(r)?;
        out.entry(k).or_default().push(v);
    }
    Ok(out)
}

/// [`grouped`] for rows that carry their position in column `ord_col`:
/// read in rowid order (a plain table scan, no sort; the writer inserts
/// rows in position order), each group then put in position order.
fn grouped_ord<K: std::hash::Hash + Eq, V>(
    conn: &Connection,
    sql: &str,
    ord_col: usize,
    mut f: impl FnMut(&rusqlite::Row) -> rusqlite::Result<(K, V)>,
) -> Result<HashMap<K, Vec<V>>, Error> {
    let mut g: HashMap<K, Vec<(i64, V)>> = HashMap::new();
    let mut q = conn.prepare(sql)?;
    let mut rows = q.query([])?;
    while let Some(r) = rows.next()? {
        let ord: i64 = r.get(ord_col)?;
        let (k, v) = f(r)?;
        g.entry(k).or_default().push((ord, v));
    }
    Ok(g.into_iter()
        .map(|(k, mut v)| {
            v.sort_by_key(|(ord, _)| *ord);
            (k, v.into_iter().map(|(_, x)| x).collect())
        })
        .collect())
}

fn key_ref(r: &rusqlite::Row, i: usize) -> rusqlite::Result<KeyRef> {
    Ok(KeyRef {
        name: r.get(i)?,
        sources: src(r, i + 1)?,
    })
}

fn src(r: &rusqlite::Row, i: usize) -> rusqlite::Result<Sources> {
    Ok(Sources::from_bits(r.get::<_, u8>(i)?))
}

/// Read the services with these prefixes (all when `None`) in a dozen bulk
/// queries, one per table, instead of several per row: what a policy run
/// loads once. Everything [`read_services`] reads except the per-fact page
/// lists, the JSON `SupportedBy` flags, the SDK methods of operations and
/// the per-source `variants` of descriptions and key types, which no policy
/// decision uses. Unknown prefixes are skipped.
pub fn read_services_for(
    conn: &Connection,
    prefixes: Option<&[String]>,
) -> Result<Vec<Service>, Error> {
    read_bulk(conn, prefixes, false)
}

/// [`read_services_for`] without what no policy decision reads: the
/// descriptions and documentation links, and the API operations. What
/// `policy check` and `policy write` load.
pub fn read_policy_services(
    conn: &Connection,
    prefixes: Option<&[String]>,
) -> Result<Vec<Service>, Error> {
    read_bulk(conn, prefixes, true)
}

fn read_bulk(
    conn: &Connection,
    prefixes: Option<&[String]>,
    lean: bool,
) -> Result<Vec<Service>, Error> {
    // One read transaction for the hundred-odd statements, unless the
    // caller holds one: otherwise each takes and drops the file lock and
    // looks for a hot journal again.
    let _tx = if conn.is_autocommit() {
        Some(conn.unchecked_transaction()?)
    } else {
        None
    };
    // Lean reads select NULL for the texts policies never read.
    let text = |col: &str| {
        if lean {
            "NULL".to_string()
        } else {
            col.to_string()
        }
    };
    // The selected services, in id order; `sel` filters every other table.
    let (filter, params): (String, Vec<String>) = match prefixes {
        None => ("1".into(), Vec::new()),
        Some(ps) => (
            format!(
                "prefix IN ({})",
                (1..=ps.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            ps.to_vec(),
        ),
    };
    let p = rusqlite::params_from_iter(params.iter());
    let mut services: Vec<Service> = Vec::new();
    let mut svc_at: IdMap<usize> = IdMap::default();
    {
        let mut q = conn.prepare(&format!(
            "SELECT id, prefix, name, sources, json_version FROM services WHERE {filter} ORDER BY id"
        ))?;
        let mut rows = q.query(p.clone())?;
        while let Some(r) = rows.next()? {
            svc_at.insert(r.get(0)?, services.len());
            let mut s = Service::new(r.get::<_, String>(1)?, r.get::<_, String>(2)?, src(r, 3)?);
            s.json_version = r.get(4)?;
            services.push(s);
        }
    }
    if services.is_empty() {
        return Ok(services);
    }
    let sel = format!("(SELECT id FROM services WHERE {filter})");
    // Each table is read by id ranges (one per selected service, merged),
    // in id order through the primary key or the parent's index: no
    // subquery lists, no sorts. A row of another service inside a range
    // is skipped by its parent's lookup, so any layout reads right; the
    // writer puts a service's rows together, so little is skipped.
    let service_ids: Option<Vec<i64>> = prefixes.map(|_| svc_at.keys().copied().collect());
    let ranges = |table: &str| id_ranges(conn, table, service_ids.as_deref());

    // Resource types and their formats and keys.
    let mut rt_at: IdMap<(usize, usize)> = IdMap::default();
    let rt_ranges = ranges("resource_types")?;
    each_in(
        conn,
        "SELECT id, service_id, name, doc_url, sources FROM resource_types
         WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
        &rt_ranges,
        |r| {
            let Some(&si) = svc_at.get(&r.get::<_, i64>(1)?) else {
                return Ok(());
            };
            let list = &mut services[si].resource_types;
            rt_at.insert(r.get(0)?, (si, list.len()));
            list.push(ResourceType {
                name: r.get(2)?,
                doc_url: r.get(3)?,
                arns: Vec::new(),
                condition_keys: Vec::new(),
                pages: Vec::new(),
                sources: src(r, 4)?,
            });
            Ok(())
        },
    )?;
    each_in(
        conn,
        "SELECT resource_type_id, arn, sources FROM arn_formats
         WHERE resource_type_id BETWEEN ?1 AND ?2 ORDER BY resource_type_id, ord",
        &rt_ranges,
        |r| {
            if let Some(&(si, ti)) = rt_at.get(&r.get::<_, i64>(0)?) {
                services[si].resource_types[ti].arns.push(ArnFormat {
                    arn: r.get(1)?,
                    sources: src(r, 2)?,
                });
            }
            Ok(())
        },
    )?;
    each_in(
        conn,
        "SELECT resource_type_id, condition_key, sources FROM resource_type_condition_keys
         WHERE resource_type_id BETWEEN ?1 AND ?2 ORDER BY resource_type_id, ord",
        &rt_ranges,
        |r| {
            if let Some(&(si, ti)) = rt_at.get(&r.get::<_, i64>(0)?) {
                services[si].resource_types[ti].condition_keys.push(KeyRef {
                    name: r.get(1)?,
                    sources: src(r, 2)?,
                });
            }
            Ok(())
        },
    )?;

    // Condition keys.
    each_in(
        conn,
        &format!(
            "SELECT service_id, name, type, {}, {}, sources FROM condition_keys
             WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
            text("description"),
            text("doc_url"),
        ),
        &ranges("condition_keys")?,
        |r| {
            let Some(&si) = svc_at.get(&r.get::<_, i64>(0)?) else {
                return Ok(());
            };
            services[si].condition_keys.push(ConditionKey {
                name: r.get(1)?,
                r#type: r.get(2)?,
                description: if lean { None } else { r.get(3)? },
                doc_url: if lean { None } else { r.get(4)? },
                pages: Vec::new(),
                sources: src(r, 5)?,
                variants: Vec::new(),
            });
            Ok(())
        },
    )?;

    // Actions, then their scenarios, resource-type rows, keys and
    // dependent actions.
    let mut act_at: IdMap<(usize, usize)> = IdMap::default();
    let act_ranges = ranges("actions")?;
    each_in(
        conn,
        &format!(
            "SELECT id, service_id, name, {}, access_level, permission_only, {}, sources,
                    is_list, is_write, is_permission_management, is_tagging_only
             FROM actions WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
            text("description"),
            text("doc_url"),
        ),
        &act_ranges,
        |r| {
            let Some(&si) = svc_at.get(&r.get::<_, i64>(1)?) else {
                return Ok(());
            };
            let is_list: Option<bool> = r.get(8)?;
            let mut a = Action::new(r.get::<_, String>(2)?);
            // Lean reads select NULL for the texts: nothing to fetch.
            if !lean {
                a.description = r.get(3)?;
                a.doc_url = r.get(6)?;
            }
            a.access_level = r.get(4)?;
            a.permission_only = r.get(5)?;
            a.sources = src(r, 7)?;
            a.annotations = match is_list {
                None => None,
                Some(is_list) => Some(Annotations {
                    is_list,
                    is_write: r.get::<_, Option<bool>>(9)?.unwrap_or(false),
                    is_permission_management: r.get::<_, Option<bool>>(10)?.unwrap_or(false),
                    is_tagging_only: r.get::<_, Option<bool>>(11)?.unwrap_or(false),
                }),
            };
            let list = &mut services[si].actions;
            act_at.insert(r.get(0)?, (si, list.len()));
            list.push(a);
            Ok(())
        },
    )?;
    // Rows of an action are written in `ord` order, so `action_id, rowid`
    // is that order, and the action_id index yields it without a sort
    // (the shipped-snapshot test compares with `read_services`).
    // Scenarios are few and have no action_id index: one pass.
    let mut scen_at: IdMap<usize> = IdMap::default();
    {
        let mut q =
            conn.prepare("SELECT id, action_id, name FROM scenarios ORDER BY action_id, rowid")?;
        let mut rows = q.query([])?;
        while let Some(r) = rows.next()? {
            let Some(&(si, ai)) = act_at.get(&r.get::<_, i64>(1)?) else {
                continue;
            };
            let scen = &mut services[si].actions[ai].scenarios;
            scen_at.insert(r.get(0)?, scen.len());
            scen.push(Scenario {
                name: r.get(2)?,
                resource_types: Vec::new(),
            });
        }
    }
    // Resource-type rows: (action, scenario index, row index) by row id.
    let mut row_at: IdMap<(usize, usize, Option<usize>, usize)> = IdMap::default();
    each_in(
        conn,
        "SELECT id, action_id, scenario_id, resource_type, required, sources FROM action_resource_types
         WHERE action_id BETWEEN ?1 AND ?2 ORDER BY action_id, rowid",
        &act_ranges,
        |r| {
            let Some(&(si, ai)) = act_at.get(&r.get::<_, i64>(1)?) else {
                return Ok(());
            };
            let scenario = r
                .get::<_, Option<i64>>(2)?
                .and_then(|s| scen_at.get(&s).copied());
            let ar = ActionResource {
                name: r.get(3)?,
                required: r.get(4)?,
                condition_keys: Vec::new(),
                dependent_actions: Vec::new(),
                sources: src(r, 5)?,
            };
            let action = &mut services[si].actions[ai];
            let list = match scenario {
                Some(k) => &mut action.scenarios[k].resource_types,
                None => &mut action.resource_types,
            };
            row_at.insert(r.get(0)?, (si, ai, scenario, list.len()));
            list.push(ar);
            Ok(())
        },
    )?;
    fn row_mut(
        services: &mut [Service],
        (si, ai, scen, ri): (usize, usize, Option<usize>, usize),
    ) -> &mut ActionResource {
        let a = &mut services[si].actions[ai];
        match scen {
            Some(k) => &mut a.scenarios[k].resource_types[ri],
            None => &mut a.resource_types[ri],
        }
    }
    each_in(
        conn,
        "SELECT action_id, action_resource_type_id, condition_key, sources FROM action_condition_keys
         WHERE action_id BETWEEN ?1 AND ?2 ORDER BY action_id, rowid",
        &act_ranges,
        |r| {
            let Some(&(si, ai)) = act_at.get(&r.get::<_, i64>(0)?) else {
                return Ok(());
            };
            let k = KeyRef {
                name: r.get(2)?,
                sources: src(r, 3)?,
            };
            match r.get::<_, Option<i64>>(1)? {
                Some(row) => row_mut(&mut services, row_at[&row]).condition_keys.push(k),
                None => services[si].actions[ai].condition_keys.push(k),
            }
            Ok(())
        },
    )?;
    each_in(
        conn,
        "SELECT action_id, action_resource_type_id, dependent_action FROM dependent_actions
         WHERE action_id BETWEEN ?1 AND ?2 ORDER BY action_id, rowid",
        &act_ranges,
        |r| {
            let Some(&(si, ai)) = act_at.get(&r.get::<_, i64>(0)?) else {
                return Ok(());
            };
            let d: String = r.get(2)?;
            match r.get::<_, Option<i64>>(1)? {
                Some(row) => row_mut(&mut services, row_at[&row])
                    .dependent_actions
                    .push(d),
                None => services[si].actions[ai].dependent_actions.push(d),
            }
            Ok(())
        },
    )?;

    // Operations and the actions they need.
    let mut op_at: IdMap<(usize, usize)> = IdMap::default();
    if !lean {
        let mut q = conn.prepare(&format!(
            "SELECT id, service_id, name, sources FROM operations WHERE service_id IN {sel} ORDER BY id"
        ))?;
        let mut rows = q.query(p.clone())?;
        while let Some(r) = rows.next()? {
            let si = svc_at[&r.get::<_, i64>(1)?];
            let ops = &mut services[si].operations;
            op_at.insert(r.get(0)?, (si, ops.len()));
            ops.push(Operation {
                name: r.get(2)?,
                actions: Vec::new(),
                sdk: Vec::new(),
                sources: src(r, 3)?,
            });
        }
        let osel = format!("(SELECT id FROM operations WHERE service_id IN {sel})");
        let mut oa_at: IdMap<(usize, usize, usize)> = IdMap::default();
        let mut q = conn.prepare(&format!(
            "SELECT id, operation_id, service, action, access_level, sources FROM operation_actions
             WHERE operation_id IN {osel} ORDER BY operation_id, ord"
        ))?;
        let mut rows = q.query(p.clone())?;
        while let Some(r) = rows.next()? {
            let (si, oi) = op_at[&r.get::<_, i64>(1)?];
            let acts = &mut services[si].operations[oi].actions;
            oa_at.insert(r.get(0)?, (si, oi, acts.len()));
            acts.push(OperationAction {
                service: r.get(2)?,
                action: r.get(3)?,
                condition_keys: Vec::new(),
                context: Default::default(),
                access_level: r.get(4)?,
                sources: src(r, 5)?,
            });
        }
        let mut q = conn.prepare(&format!(
            "SELECT c.operation_action_id, c.condition_key, c.value FROM operation_action_context c
             JOIN operation_actions oa ON oa.id = c.operation_action_id
             WHERE oa.operation_id IN {osel} ORDER BY c.operation_action_id, c.condition_key, c.ord"
        ))?;
        let mut rows = q.query(p.clone())?;
        while let Some(r) = rows.next()? {
            let (si, oi, ai) = oa_at[&r.get::<_, i64>(0)?];
            services[si].operations[oi].actions[ai]
                .context
                .entry(r.get(1)?)
                .or_default()
                .push(r.get(2)?);
        }
        let mut q = conn.prepare(&format!(
            "SELECT k.operation_action_id, k.condition_key FROM operation_action_condition_keys k
             JOIN operation_actions oa ON oa.id = k.operation_action_id
             WHERE oa.operation_id IN {osel} ORDER BY k.operation_action_id, k.ord"
        ))?;
        let mut rows = q.query(p)?;
        while let Some(r) = rows.next()? {
            let (si, oi, ai) = oa_at[&r.get::<_, i64>(0)?];
            services[si].operations[oi].actions[ai]
                .condition_keys
                .push(r.get(1)?);
        }
    }
    Ok(services)
}

/// Row ids to positions, hashed with one multiply (ids are integers from
/// the database, not attacker-chosen keys; SipHash costs more than the
/// lookups they serve).
type IdMap<V> = HashMap<i64, V, std::hash::BuildHasherDefault<IdHasher>>;

#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_i64(&mut self, n: i64) {
        // Fibonacci hashing: the high bits (hashbrown's tags) mix well.
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The id ranges that hold the rows of these services in `table` (a table
/// with `id` and `service_id`): one `[min, max]` per service from the
/// `(service_id, …)` index, merged where they meet, in id order. All
/// services (`None`): one range over everything.
fn id_ranges(
    conn: &Connection,
    table: &str,
    service_ids: Option<&[i64]>,
) -> Result<Vec<(i64, i64)>, Error> {
    let Some(ids) = service_ids else {
        return Ok(vec![(i64::MIN, i64::MAX)]);
    };
    let mut q = conn.prepare(&format!(
        "SELECT min(id), max(id) FROM {table} WHERE service_id = ?1"
    ))?;
    let mut ranges: Vec<(i64, i64)> = Vec::with_capacity(ids.len());
    for id in ids {
        let (lo, hi): (Option<i64>, Option<i64>) =
            q.query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if let (Some(lo), Some(hi)) = (lo, hi) {
            ranges.push((lo, hi));
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match merged.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    Ok(merged)
}

/// Run `sql` (with `?1`, `?2` the bounds of a range) once per range,
/// calling `f` on each row.
fn each_in(
    conn: &Connection,
    sql: &str,
    ranges: &[(i64, i64)],
    mut f: impl FnMut(&rusqlite::Row) -> rusqlite::Result<()>,
) -> Result<(), Error> {
    let mut q = conn.prepare(sql)?;
    for &(lo, hi) in ranges {
        let mut rows = q.query([lo, hi])?;
        while let Some(r) = rows.next()? {
            f(r)?;
        }
    }
    Ok(())
}

/// The operations (with their service prefix) that authorize an action
/// some operation calls with a context (the JSON's `Context`, e.g.
/// iam:PassRole's `iam:PassedToService`), each with all its actions and
/// their contexts; nothing else of the operation (no SDK methods). One
/// query, for the policy writer.
pub fn read_context_operations(conn: &Connection) -> Result<Vec<(String, Operation)>, Error> {
    let mut q = conn.prepare_cached(
        "WITH called AS (
             SELECT DISTINCT oa.service, oa.action
             FROM operation_action_context c
             JOIN operation_actions oa ON oa.id = c.operation_action_id),
         ops AS (
             SELECT DISTINCT oa.operation_id AS id
             FROM operation_actions oa
             JOIN called x ON x.service = oa.service AND x.action = oa.action)
         SELECT s.prefix, o.name, o.sources, oa.id, oa.service, oa.action, oa.access_level,
                oa.sources, c.condition_key, c.value
         FROM ops
         JOIN operations o ON o.id = ops.id
         JOIN services s ON s.id = o.service_id
         JOIN operation_actions oa ON oa.operation_id = o.id
         LEFT JOIN operation_action_context c ON c.operation_action_id = oa.id
         ORDER BY s.prefix, o.name, oa.ord, oa.id, c.condition_key, c.ord",
    )?;
    let mut out: Vec<(String, Operation)> = Vec::new();
    let mut last_oa: Option<i64> = None;
    let mut rows = q.query([])?;
    while let Some(r) = rows.next()? {
        let prefix: String = r.get(0)?;
        let name: String = r.get(1)?;
        let new_op = !matches!(out.last(), Some((p, o)) if *p == prefix && o.name == name);
        if new_op {
            out.push((
                prefix,
                Operation {
                    name,
                    actions: Vec::new(),
                    sdk: Vec::new(),
                    sources: src(r, 2)?,
                },
            ));
            last_oa = None;
        }
        let op = &mut out.last_mut().expect("pushed above").1;
        let oa_id: i64 = r.get(3)?;
        if last_oa != Some(oa_id) {
            op.actions.push(OperationAction {
                service: r.get(4)?,
                action: r.get(5)?,
                condition_keys: Vec::new(),
                context: Default::default(),
                access_level: r.get(6)?,
                sources: src(r, 7)?,
            });
            last_oa = Some(oa_id);
        }
        if let (Some(k), Some(v)) = (
            r.get::<_, Option<String>>(8)?,
            r.get::<_, Option<String>>(9)?,
        ) {
            let a = op.actions.last_mut().expect("pushed above");
            a.context.entry(k).or_default().push(v);
        }
    }
    Ok(out)
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
        merge_pages(vec![page])
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
        let mut expected = read_services(&conn).unwrap();
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
        assert_eq!(read_services_with(&conn, false).unwrap(), expected);
        assert_ne!(expected, services, "the sample has provenance to leave out");
    }

    /// The bulk reader gives what the full reader gives, less the page
    /// lists, `SupportedBy` flags and SDK methods it documents leaving out.
    #[test]
    fn bulk_reader_agrees_with_the_full_reader() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let mut services = sample();
        let mut other = services[0].clone();
        other.prefix = "y".into();
        other.pages.clear();
        services.push(other);
        write_database(&path, &Manifest::default(), &services).unwrap();
        let conn = open_read_only(&path).unwrap();
        let strip = |mut v: Vec<Service>| {
            for s in &mut v {
                s.pages.clear();
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
                for o in &mut s.operations {
                    o.sdk.clear();
                }
            }
            v
        };
        let full = strip(read_services(&conn).unwrap());
        assert_eq!(read_services_for(&conn, None).unwrap(), full);
        let only_y =
            read_services_for(&conn, Some(&["Y".to_string(), "nope".to_string()])).unwrap();
        assert_eq!(only_y, vec![full[1].clone()]);
        assert!(read_services_for(&conn, Some(&[])).unwrap().is_empty());
        // The lean read is the full one less texts and operations.
        let mut lean_want = full.clone();
        for s in &mut lean_want {
            s.operations.clear();
            for a in &mut s.actions {
                a.description = None;
                a.doc_url = None;
            }
            for k in &mut s.condition_keys {
                k.description = None;
                k.doc_url = None;
            }
        }
        assert_eq!(read_policy_services(&conn, None).unwrap(), lean_want);
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
        let want = read_policy_services(&open_read_only(&path).unwrap(), None).unwrap();
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
        assert_eq!(read_policy_services(&conn, None).unwrap(), want);
        let sel = |ps: &[&str]| {
            let ps: Vec<String> = ps.iter().map(|p| p.to_string()).collect();
            read_policy_services(&conn, Some(&ps)).unwrap()
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
