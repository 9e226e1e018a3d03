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
                acts.push(OperationAction {
                    service: o.get(1)?,
                    action: o.get(2)?,
                    condition_keys: keys,
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

/// Read the services with these prefixes (all when `None`) in a dozen bulk
/// queries, one per table, instead of several per row: what a policy run
/// loads once. Everything [`read_services`] reads except the per-fact page
/// lists, the JSON `SupportedBy` flags and the SDK methods of operations,
/// which no policy decision uses. Unknown prefixes are skipped.
pub fn read_services_for(
    conn: &Connection,
    prefixes: Option<&[String]>,
) -> Result<Vec<Service>, Error> {
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
    let mut svc_at: HashMap<i64, usize> = HashMap::new();
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

    // Resource types and their formats and keys.
    let mut rt_at: HashMap<i64, (usize, usize)> = HashMap::new();
    {
        let mut q = conn.prepare(&format!(
            "SELECT id, service_id, name, doc_url, sources FROM resource_types WHERE service_id IN {sel} ORDER BY id"
        ))?;
        let mut rows = q.query(p.clone())?;
        while let Some(r) = rows.next()? {
            let si = svc_at[&r.get::<_, i64>(1)?];
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
        }
        let mut q = conn.prepare(&format!(
            "SELECT f.resource_type_id, f.arn, f.sources FROM arn_formats f
             JOIN resource_types t ON t.id = f.resource_type_id
             WHERE t.service_id IN {sel} ORDER BY f.resource_type_id, f.ord"
        ))?;
        let mut rows = q.query(p.clone())?;
        while let Some(r) = rows.next()? {
            let (si, ti) = rt_at[&r.get::<_, i64>(0)?];
            services[si].resource_types[ti].arns.push(ArnFormat {
                arn: r.get(1)?,
                sources: src(r, 2)?,
            });
        }
        let mut q = conn.prepare(&format!(
            "SELECT k.resource_type_id, k.condition_key, k.sources FROM resource_type_condition_keys k
             JOIN resource_types t ON t.id = k.resource_type_id
             WHERE t.service_id IN {sel} ORDER BY k.resource_type_id, k.ord"
        ))?;
        let mut rows = q.query(p.clone())?;
        while let Some(r) = rows.next()? {
            let (si, ti) = rt_at[&r.get::<_, i64>(0)?];
            services[si].resource_types[ti].condition_keys.push(KeyRef {
                name: r.get(1)?,
                sources: src(r, 2)?,
            });
        }
    }

    // Condition keys.
    {
        let mut q = conn.prepare(&format!(
            "SELECT service_id, name, type, description, doc_url, sources FROM condition_keys
             WHERE service_id IN {sel} ORDER BY id"
        ))?;
        let mut rows = q.query(p.clone())?;
        while let Some(r) = rows.next()? {
            let si = svc_at[&r.get::<_, i64>(0)?];
            services[si].condition_keys.push(ConditionKey {
                name: r.get(1)?,
                r#type: r.get(2)?,
                description: r.get(3)?,
                doc_url: r.get(4)?,
                pages: Vec::new(),
                sources: src(r, 5)?,
            });
        }
    }

    // Actions, then their scenarios, resource-type rows, keys and
    // dependent actions.
    let mut act_at: HashMap<i64, (usize, usize)> = HashMap::new();
    {
        let mut q = conn.prepare(&format!(
            "SELECT id, service_id, name, description, access_level, permission_only, doc_url, sources,
                    is_list, is_write, is_permission_management, is_tagging_only
             FROM actions WHERE service_id IN {sel} ORDER BY id"
        ))?;
        let mut rows = q.query(p.clone())?;
        while let Some(r) = rows.next()? {
            let si = svc_at[&r.get::<_, i64>(1)?];
            let is_list: Option<bool> = r.get(8)?;
            let mut a = Action::new(r.get::<_, String>(2)?);
            a.description = r.get(3)?;
            a.access_level = r.get(4)?;
            a.permission_only = r.get(5)?;
            a.doc_url = r.get(6)?;
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
        }
    }
    let asel = format!("(SELECT id FROM actions WHERE service_id IN {sel})");
    let mut scen_at: HashMap<i64, usize> = HashMap::new();
    {
        let mut q = conn.prepare(&format!(
            "SELECT id, action_id, name FROM scenarios WHERE action_id IN {asel} ORDER BY action_id, ord"
        ))?;
        let mut rows = q.query(p.clone())?;
        while let Some(r) = rows.next()? {
            let (si, ai) = act_at[&r.get::<_, i64>(1)?];
            let scen = &mut services[si].actions[ai].scenarios;
            scen_at.insert(r.get(0)?, scen.len());
            scen.push(Scenario {
                name: r.get(2)?,
                resource_types: Vec::new(),
            });
        }
    }
    // Resource-type rows: (action, scenario index, row index) by row id.
    let mut row_at: HashMap<i64, (usize, usize, Option<usize>, usize)> = HashMap::new();
    {
        let mut q = conn.prepare(&format!(
            "SELECT id, action_id, scenario_id, resource_type, required, sources FROM action_resource_types
             WHERE action_id IN {asel} ORDER BY action_id, ord"
        ))?;
        let mut rows = q.query(p.clone())?;
        while let Some(r) = rows.next()? {
            let (si, ai) = act_at[&r.get::<_, i64>(1)?];
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
        }
    }
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
    {
        let mut q = conn.prepare(&format!(
            "SELECT action_id, action_resource_type_id, condition_key, sources FROM action_condition_keys
             WHERE action_id IN {asel} ORDER BY action_id, action_resource_type_id, ord"
        ))?;
        let mut rows = q.query(p.clone())?;
        while let Some(r) = rows.next()? {
            let k = KeyRef {
                name: r.get(2)?,
                sources: src(r, 3)?,
            };
            match r.get::<_, Option<i64>>(1)? {
                Some(row) => row_mut(&mut services, row_at[&row]).condition_keys.push(k),
                None => {
                    let (si, ai) = act_at[&r.get::<_, i64>(0)?];
                    services[si].actions[ai].condition_keys.push(k);
                }
            }
        }
        let mut q = conn.prepare(&format!(
            "SELECT action_id, action_resource_type_id, dependent_action FROM dependent_actions
             WHERE action_id IN {asel} ORDER BY action_id, action_resource_type_id, ord"
        ))?;
        let mut rows = q.query(p.clone())?;
        while let Some(r) = rows.next()? {
            let d: String = r.get(2)?;
            match r.get::<_, Option<i64>>(1)? {
                Some(row) => row_mut(&mut services, row_at[&row])
                    .dependent_actions
                    .push(d),
                None => {
                    let (si, ai) = act_at[&r.get::<_, i64>(0)?];
                    services[si].actions[ai].dependent_actions.push(d);
                }
            }
        }
    }

    // Operations and the actions they need.
    let mut op_at: HashMap<i64, (usize, usize)> = HashMap::new();
    {
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
        let mut oa_at: HashMap<i64, (usize, usize, usize)> = HashMap::new();
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
                access_level: r.get(4)?,
                sources: src(r, 5)?,
            });
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
            }],
            operations: vec![Operation {
                name: "GetThing".into(),
                actions: vec![OperationAction {
                    service: "x".into(),
                    action: "GetThing".into(),
                    condition_keys: vec!["x:Color".into()],
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
                }
                for r in &mut s.resource_types {
                    r.pages.clear();
                }
                for k in &mut s.condition_keys {
                    k.pages.clear();
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
