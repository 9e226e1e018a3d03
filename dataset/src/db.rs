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
    let tmp = tempfile::Builder::new()
        .prefix(".iamref-build-")
        .suffix(".sqlite")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
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
            let layout = match p.layout {
                Layout::Classic => "classic",
                Layout::Live2026 => "live-2026",
            };
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
/// [`write_database`]).
pub fn read_services(conn: &Connection) -> Result<Vec<Service>, Error> {
    let mut services = Vec::new();
    let mut q =
        conn.prepare("SELECT id, prefix, name, sources, json_version FROM services ORDER BY id")?;
    let rows = q.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, u8>(3)?,
            r.get::<_, Option<String>>(4)?,
        ))
    })?;
    for row in rows {
        let (sid, prefix, name, sources, json_version) = row?;
        services.push(read_service(
            conn,
            sid,
            prefix,
            name,
            Sources::from_bits(sources),
            json_version,
        )?);
    }
    Ok(services)
}

fn src(r: &rusqlite::Row, i: usize) -> rusqlite::Result<Sources> {
    Ok(Sources::from_bits(r.get::<_, u8>(i)?))
}

fn read_service(
    conn: &Connection,
    sid: i64,
    prefix: String,
    name: String,
    sources: Sources,
    json_version: Option<String>,
) -> Result<Service, Error> {
    let mut pages = Vec::new();
    let mut page_files: HashMap<i64, String> = HashMap::new();
    {
        let mut q = conn.prepare(
            "SELECT id, file, service_name, url, sha256, layout FROM pages WHERE service_id = ?1 ORDER BY id",
        )?;
        let mut rows = q.query([sid])?;
        while let Some(r) = rows.next()? {
            let file: String = r.get(1)?;
            page_files.insert(r.get(0)?, file.clone());
            let layout: String = r.get(5)?;
            pages.push(PageRef {
                file,
                service_name: r.get(2)?,
                url: r.get(3)?,
                sha256: r.get(4)?,
                layout: if layout == "classic" {
                    Layout::Classic
                } else {
                    Layout::Live2026
                },
            });
        }
    }
    let files_of = |sql: &str, id: i64| -> Result<Vec<String>, Error> {
        let mut q = conn.prepare_cached(sql)?;
        let ids: Vec<i64> = q.query_map([id], |r| r.get(0))?.collect::<Result<_, _>>()?;
        let mut v: Vec<String> = ids
            .iter()
            .filter_map(|i| page_files.get(i).cloned())
            .collect();
        v.sort();
        Ok(v)
    };

    let mut resource_types = Vec::new();
    {
        let mut q = conn.prepare(
            "SELECT id, name, doc_url, sources FROM resource_types WHERE service_id = ?1 ORDER BY id",
        )?;
        let mut rows = q.query([sid])?;
        while let Some(r) = rows.next()? {
            let rid: i64 = r.get(0)?;
            let mut aq = conn.prepare_cached(
                "SELECT arn, sources FROM arn_formats WHERE resource_type_id = ?1 ORDER BY ord",
            )?;
            let arns = aq
                .query_map([rid], |r| {
                    Ok(ArnFormat {
                        arn: r.get(0)?,
                        sources: src(r, 1)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            let mut kq = conn.prepare_cached(
                "SELECT condition_key, sources FROM resource_type_condition_keys WHERE resource_type_id = ?1 ORDER BY ord",
            )?;
            let keys = kq
                .query_map([rid], |r| {
                    Ok(KeyRef {
                        name: r.get(0)?,
                        sources: src(r, 1)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            resource_types.push(ResourceType {
                name: r.get(1)?,
                doc_url: r.get(2)?,
                arns,
                condition_keys: keys,
                pages: files_of(
                    "SELECT page_id FROM resource_type_pages WHERE resource_type_id = ?1",
                    rid,
                )?,
                sources: src(r, 3)?,
            });
        }
    }

    let mut condition_keys = Vec::new();
    {
        let mut q = conn.prepare(
            "SELECT id, name, type, description, doc_url, sources FROM condition_keys WHERE service_id = ?1 ORDER BY id",
        )?;
        let mut rows = q.query([sid])?;
        while let Some(r) = rows.next()? {
            let kid: i64 = r.get(0)?;
            let mut vq = conn.prepare_cached(
                "SELECT source, description, type FROM condition_key_variants WHERE condition_key_id = ?1 ORDER BY source",
            )?;
            let variants = vq
                .query_map([kid], |r| {
                    Ok(Variant {
                        source: r.get(0)?,
                        description: r.get(1)?,
                        r#type: r.get(2)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            condition_keys.push(ConditionKey {
                name: r.get(1)?,
                r#type: r.get(2)?,
                description: r.get(3)?,
                doc_url: r.get(4)?,
                pages: files_of(
                    "SELECT page_id FROM condition_key_pages WHERE condition_key_id = ?1",
                    kid,
                )?,
                sources: src(r, 5)?,
                variants,
            });
        }
    }

    let mut actions = Vec::new();
    {
        let mut q = conn.prepare(
            "SELECT id, name, description, access_level, permission_only, doc_url, sources,
                    is_list, is_write, is_permission_management, is_tagging_only
             FROM actions WHERE service_id = ?1 ORDER BY id",
        )?;
        let mut rows = q.query([sid])?;
        while let Some(r) = rows.next()? {
            let aid: i64 = r.get(0)?;
            let is_list: Option<bool> = r.get(7)?;
            let annotations = match is_list {
                None => None,
                Some(is_list) => Some(Annotations {
                    is_list,
                    is_write: r.get::<_, Option<bool>>(8)?.unwrap_or(false),
                    is_permission_management: r.get::<_, Option<bool>>(9)?.unwrap_or(false),
                    is_tagging_only: r.get::<_, Option<bool>>(10)?.unwrap_or(false),
                }),
            };
            let mut action = Action {
                name: r.get(1)?,
                description: r.get(2)?,
                access_level: r.get(3)?,
                permission_only: r.get(4)?,
                doc_url: r.get(5)?,
                resource_types: Vec::new(),
                condition_keys: Vec::new(),
                dependent_actions: Vec::new(),
                scenarios: Vec::new(),
                pages: files_of("SELECT page_id FROM action_pages WHERE action_id = ?1", aid)?,
                sources: src(r, 6)?,
                annotations,
                supported_by: Default::default(),
                variants: Vec::new(),
            };
            read_action_details(conn, aid, &mut action)?;
            actions.push(action);
        }
    }

    let mut operations = Vec::new();
    {
        let mut q = conn.prepare(
            "SELECT id, name, sources FROM operations WHERE service_id = ?1 ORDER BY id",
        )?;
        let mut rows = q.query([sid])?;
        while let Some(r) = rows.next()? {
            let oid: i64 = r.get(0)?;
            let mut oq = conn.prepare_cached(
                "SELECT id, service, action, access_level, sources FROM operation_actions WHERE operation_id = ?1 ORDER BY ord",
            )?;
            let mut acts = Vec::new();
            let mut orows = oq.query([oid])?;
            while let Some(o) = orows.next()? {
                let oaid: i64 = o.get(0)?;
                let mut kq = conn.prepare_cached(
                    "SELECT condition_key FROM operation_action_condition_keys WHERE operation_action_id = ?1 ORDER BY ord",
                )?;
                let keys = kq
                    .query_map([oaid], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                let mut cq = conn.prepare_cached(
                    "SELECT condition_key, value FROM operation_action_context WHERE operation_action_id = ?1 ORDER BY condition_key, ord",
                )?;
                let mut context: std::collections::BTreeMap<String, Vec<String>> =
                    Default::default();
                for row in cq.query_map([oaid], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })? {
                    let (k, v) = row?;
                    context.entry(k).or_default().push(v);
                }
                acts.push(OperationAction {
                    service: o.get(1)?,
                    action: o.get(2)?,
                    condition_keys: keys,
                    context,
                    access_level: o.get(3)?,
                    sources: src(o, 4)?,
                });
            }
            let mut sq = conn.prepare_cached(
                "SELECT package, client, method FROM sdk_methods WHERE operation_id = ?1 ORDER BY package, client, method",
            )?;
            let sdk = sq
                .query_map([oid], |r| {
                    Ok(SdkMethod {
                        package: r.get(0)?,
                        client: r.get(1)?,
                        method: r.get(2)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            operations.push(Operation {
                name: r.get(1)?,
                actions: acts,
                sdk,
                sources: src(r, 2)?,
            });
        }
    }

    Ok(Service {
        prefix,
        name,
        sources,
        pages,
        json_version,
        actions,
        resource_types,
        condition_keys,
        operations,
    })
}

fn read_action_details(conn: &Connection, aid: i64, action: &mut Action) -> Result<(), Error> {
    let mut sq = conn.prepare_cached(
        "SELECT feature, supported FROM action_supported_by WHERE action_id = ?1",
    )?;
    for row in sq.query_map([aid], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
    })? {
        let (f, s) = row?;
        action.supported_by.insert(f, s);
    }
    let mut vq = conn.prepare_cached(
        "SELECT source, description FROM action_variants WHERE action_id = ?1 ORDER BY source",
    )?;
    for row in vq.query_map([aid], |r| {
        Ok(Variant {
            source: r.get(0)?,
            description: r.get(1)?,
            r#type: None,
        })
    })? {
        action.variants.push(row?);
    }
    let mut scen_names: HashMap<i64, usize> = HashMap::new();
    let mut scq =
        conn.prepare_cached("SELECT id, name FROM scenarios WHERE action_id = ?1 ORDER BY ord")?;
    for row in scq.query_map([aid], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
        let (id, name) = row?;
        scen_names.insert(id, action.scenarios.len());
        action.scenarios.push(Scenario {
            name,
            resource_types: Vec::new(),
        });
    }
    let mut keys_by_row: HashMap<Option<i64>, Vec<KeyRef>> = HashMap::new();
    let mut kq = conn.prepare_cached(
        "SELECT action_resource_type_id, condition_key, sources FROM action_condition_keys WHERE action_id = ?1 ORDER BY action_resource_type_id, ord",
    )?;
    for row in kq.query_map([aid], |r| {
        Ok((
            r.get::<_, Option<i64>>(0)?,
            KeyRef {
                name: r.get(1)?,
                sources: src(r, 2)?,
            },
        ))
    })? {
        let (rid, k) = row?;
        keys_by_row.entry(rid).or_default().push(k);
    }
    let mut deps_by_row: HashMap<Option<i64>, Vec<String>> = HashMap::new();
    let mut dq = conn.prepare_cached(
        "SELECT action_resource_type_id, dependent_action FROM dependent_actions WHERE action_id = ?1 ORDER BY action_resource_type_id, ord",
    )?;
    for row in dq.query_map([aid], |r| {
        Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, String>(1)?))
    })? {
        let (rid, d) = row?;
        deps_by_row.entry(rid).or_default().push(d);
    }
    let mut rq = conn.prepare_cached(
        "SELECT id, scenario_id, resource_type, required, sources FROM action_resource_types WHERE action_id = ?1 ORDER BY ord",
    )?;
    let rows: Vec<(i64, Option<i64>, String, bool, Sources)> = rq
        .query_map([aid], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, src(r, 4)?))
        })?
        .collect::<Result<_, _>>()?;
    for (id, scenario, name, required, sources) in rows {
        let ar = ActionResource {
            name,
            required,
            condition_keys: keys_by_row.remove(&Some(id)).unwrap_or_default(),
            dependent_actions: deps_by_row.remove(&Some(id)).unwrap_or_default(),
            sources,
        };
        match scenario.and_then(|s| scen_names.get(&s)) {
            Some(&i) => action.scenarios[i].resource_types.push(ar),
            None => action.resource_types.push(ar),
        }
    }
    action.condition_keys = keys_by_row.remove(&None).unwrap_or_default();
    action.dependent_actions = deps_by_row.remove(&None).unwrap_or_default();
    Ok(())
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
                    context: [("x:Color".to_string(), vec!["red".to_string(), "blue".to_string()])]
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
