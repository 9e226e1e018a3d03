//! The one reader: the database back into the model, for a [`Selection`]
//! of services and of what to load of each.
//!
//! Each table is read in a few bulk queries by id ranges (one range per
//! selected service, merged where they meet), in id order through the
//! primary key or the parent's index: no query per row, no subquery lists,
//! no sorts. A row of another service inside a range is skipped by its
//! parent's lookup, so any layout reads right; the writer puts a service's
//! rows together, so little is skipped.

use super::*;

/// Which services [`read`] loads, and which parts of each.
///
/// [`Selection::all`] is everything (the inverse of
/// [`write_database`]); [`Selection::policy`] is what a policy decision
/// reads. The parts are independent: a caller turns on what it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The services with these prefixes (any case; unknown ones are
    /// skipped), or every service (`None`). Services come in id order,
    /// which is the canonical (prefix) order of the writer.
    pub prefixes: Option<Vec<String>>,
    /// Actions (with their resource-type rows, keys, dependent actions,
    /// scenarios, what each page of a shared prefix says: `per_page`),
    /// resource types (formats, keys) and condition keys. Without, a
    /// service has only its prefix, name, sources and JSON version (and
    /// what the other parts add).
    pub facts: bool,
    /// The descriptions and documentation links of actions and condition
    /// keys (resource types' links are always read).
    pub texts: bool,
    /// The service's pages (file, service name, URL, hash, layout).
    pub pages: bool,
    /// Where facts come from rather than what they are: the page list of
    /// each action, resource type and condition key, the JSON
    /// `SupportedBy` flags and the per-source `variants`.
    pub provenance: bool,
    /// Which API operations.
    pub operations: Operations,
    /// With `facts`, the action patterns (`prefix:name`, the prefix
    /// literal, the name with IAM's `*` and `?`, any case) whose actions
    /// get their details: resource-type rows, scenarios, condition keys,
    /// dependent actions and per-page facts. Every other action of a
    /// selected service comes with its name, access level, flags and
    /// sources only. `None`: every action's details. For a caller that
    /// consults only the actions its patterns match (`policy check`).
    pub actions: Option<Vec<String>>,
}

/// The API operations a [`Selection`] loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operations {
    /// None.
    None,
    /// Only the operations that authorize an action some operation calls
    /// with a context (the JSON's `Context`, e.g. iam:PassRole's
    /// `iam:PassedToService`), with their actions, keys and contexts.
    WithContext,
    /// Every operation with its actions, keys and contexts; no SDK methods.
    Actions,
    /// [`Operations::Actions`] and each operation's SDK methods.
    All,
}

impl Selection {
    /// Every service, everything of it: the inverse of [`write_database`].
    pub fn all() -> Selection {
        Selection {
            prefixes: None,
            facts: true,
            texts: true,
            pages: true,
            provenance: true,
            operations: Operations::All,
            actions: None,
        }
    }

    /// What policy decisions read (`policy check`, `policy write`, `iamref
    /// arn`): the facts of these services (all when `None`), without
    /// texts, pages, provenance or operations.
    pub fn policy(prefixes: Option<&[String]>) -> Selection {
        Selection {
            prefixes: prefixes.map(<[String]>::to_vec),
            facts: true,
            texts: false,
            pages: false,
            provenance: false,
            operations: Operations::None,
            actions: None,
        }
    }
}

/// Every service, everything of it: `read(conn, &Selection::all())`.
pub fn read_services(conn: &Connection) -> Result<Vec<Service>, Error> {
    read(conn, &Selection::all())
}

/// The services `sel` selects, with the parts it asks for, in id order.
/// One read transaction for the queries, unless the caller holds one.
pub fn read(conn: &Connection, sel: &Selection) -> Result<Vec<Service>, Error> {
    let _tx = read_transaction(conn)?;
    let lean = !sel.texts;
    // Without texts, the queries select NULL for them: nothing to fetch.
    let text = |col: &str| {
        if lean {
            "NULL".to_string()
        } else {
            col.to_string()
        }
    };
    // The selected services, in id order; `sel` filters every other table.
    let (filter, params): (String, Vec<String>) = match &sel.prefixes {
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
    let sel_sql = format!("(SELECT id FROM services WHERE {filter})");
    let service_ids: Option<Vec<i64>> = sel
        .prefixes
        .as_ref()
        .map(|_| svc_at.keys().copied().collect());
    let ranges = |table: &str| id_ranges(conn, table, service_ids.as_deref());

    // Pages: the service's own list, and the file names the per-fact page
    // lists refer to.
    let mut page_file: IdMap<String> = IdMap::default();
    if sel.pages || (sel.provenance && sel.facts) {
        let mut q = conn.prepare(
            "SELECT id, service_id, file, service_name, url, sha256, layout FROM pages ORDER BY id",
        )?;
        let mut rows = q.query([])?;
        while let Some(r) = rows.next()? {
            let file: String = r.get(2)?;
            if sel.pages {
                let sid: i64 = r.get(1)?;
                match svc_at.get(&sid) {
                    Some(&si) => services[si].pages.push(PageRef {
                        file: file.clone(),
                        service_name: r.get(3)?,
                        url: r.get(4)?,
                        sha256: r.get(5)?,
                        layout: Layout::from_stored(&r.get::<_, String>(6)?),
                    }),
                    None if sel.prefixes.is_none() => {
                        return Err(Error::Corrupt(format!(
                            "pages: page {file:?} names service id {sid}, which has no services row"
                        )))
                    }
                    None => {}
                }
            }
            page_file.insert(r.get(0)?, file);
        }
    }
    // (owner id, page id) rows of a page-list table into sorted file lists.
    let page_lists = |sql: &str, rs: &[(i64, i64)]| -> Result<IdMap<Vec<String>>, Error> {
        let mut out: IdMap<Vec<String>> = IdMap::default();
        if !sel.provenance {
            return Ok(out);
        }
        each_in(conn, sql, rs, |r| {
            if let Some(f) = page_file.get(&r.get::<_, i64>(1)?) {
                out.entry(r.get(0)?).or_default().push(f.clone());
            }
            Ok(())
        })?;
        for v in out.values_mut() {
            v.sort();
        }
        Ok(out)
    };

    if sel.facts {
        read_facts(
            conn,
            sel,
            &mut services,
            &svc_at,
            &ranges,
            &text,
            &page_lists,
        )?;
    }

    if sel.operations != Operations::None {
        let ops_sql = match sel.operations {
            Operations::WithContext => format!(
                "SELECT o.id, o.service_id, o.name, o.sources FROM operations o
                 WHERE o.service_id IN {sel_sql} AND o.id IN (
                     SELECT oa.operation_id FROM operation_actions oa
                     JOIN (SELECT DISTINCT x.service, x.action
                           FROM operation_action_context c
                           JOIN operation_actions x ON x.id = c.operation_action_id) called
                       ON called.service = oa.service AND called.action = oa.action)
                 ORDER BY o.id"
            ),
            _ => format!(
                "SELECT id, service_id, name, sources FROM operations
                 WHERE service_id IN {sel_sql} ORDER BY id"
            ),
        };
        read_operations(conn, sel, &ops_sql, p, &mut services, &svc_at)?;
    }
    Ok(services)
}

/// The id ranges of a table that hold the selected services' rows.
type RangesOf<'a> = dyn Fn(&str) -> Result<Vec<(i64, i64)>, Error> + 'a;
/// The page lists a (owner id, page id) query gives, by owner id.
type PageLists<'a> = dyn Fn(&str, &[(i64, i64)]) -> Result<IdMap<Vec<String>>, Error> + 'a;

/// Resource types, condition keys and actions of the selected services.
#[allow(clippy::too_many_arguments)]
fn read_facts(
    conn: &Connection,
    sel: &Selection,
    services: &mut [Service],
    svc_at: &IdMap<usize>,
    ranges: &RangesOf,
    text: &dyn Fn(&str) -> String,
    page_lists: &PageLists,
) -> Result<(), Error> {
    let lean = !sel.texts;
    // Resource types and their formats and keys.
    let mut rt_at: IdMap<(usize, usize)> = IdMap::default();
    let rt_ranges = ranges("resource_types")?;
    let mut rt_pages = page_lists(
        "SELECT resource_type_id, page_id FROM resource_type_pages
         WHERE resource_type_id BETWEEN ?1 AND ?2",
        &rt_ranges,
    )?;
    each_in(
        conn,
        "SELECT id, service_id, name, doc_url, sources FROM resource_types
         WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
        &rt_ranges,
        |r| {
            let Some(&si) = svc_at.get(&r.get::<_, i64>(1)?) else {
                return Ok(());
            };
            let id: i64 = r.get(0)?;
            let list = &mut services[si].resource_types;
            rt_at.insert(id, (si, list.len()));
            list.push(ResourceType {
                name: r.get(2)?,
                doc_url: r.get(3)?,
                arns: Vec::new(),
                condition_keys: Vec::new(),
                pages: take(&mut rt_pages, id),
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
    let key_ranges = ranges("condition_keys")?;
    let mut key_pages = page_lists(
        "SELECT condition_key_id, page_id FROM condition_key_pages
         WHERE condition_key_id BETWEEN ?1 AND ?2",
        &key_ranges,
    )?;
    let mut key_at: IdMap<(usize, usize)> = IdMap::default();
    each_in(
        conn,
        &format!(
            "SELECT id, service_id, name, type, {}, {}, sources FROM condition_keys
             WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
            text("description"),
            text("doc_url"),
        ),
        &key_ranges,
        |r| {
            let Some(&si) = svc_at.get(&r.get::<_, i64>(1)?) else {
                return Ok(());
            };
            let id: i64 = r.get(0)?;
            let list = &mut services[si].condition_keys;
            if sel.provenance {
                key_at.insert(id, (si, list.len()));
            }
            list.push(ConditionKey {
                name: r.get(2)?,
                r#type: r.get(3)?,
                description: if lean { None } else { r.get(4)? },
                doc_url: if lean { None } else { r.get(5)? },
                pages: take(&mut key_pages, id),
                sources: src(r, 6)?,
                variants: Vec::new(),
            });
            Ok(())
        },
    )?;
    if sel.provenance {
        each_in(
            conn,
            "SELECT condition_key_id, source, description, type FROM condition_key_variants
             WHERE condition_key_id BETWEEN ?1 AND ?2 ORDER BY condition_key_id, source",
            &key_ranges,
            |r| {
                if let Some(&(si, ki)) = key_at.get(&r.get::<_, i64>(0)?) {
                    services[si].condition_keys[ki].variants.push(Variant {
                        source: r.get(1)?,
                        description: r.get(2)?,
                        r#type: r.get(3)?,
                    });
                }
                Ok(())
            },
        )?;
    }

    // Actions, then their scenarios, resource-type rows, keys and
    // dependent actions.
    let mut act_at: IdMap<(usize, usize)> = IdMap::default();
    let act_ranges = ranges("actions")?;
    let mut action_pages = page_lists(
        "SELECT action_id, page_id FROM action_pages WHERE action_id BETWEEN ?1 AND ?2",
        &act_ranges,
    )?;
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
            let id: i64 = r.get(0)?;
            let is_list: Option<bool> = r.get(8)?;
            let mut a = Action::new(r.get::<_, String>(2)?);
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
            a.pages = take(&mut action_pages, id);
            let list = &mut services[si].actions;
            act_at.insert(id, (si, list.len()));
            list.push(a);
            Ok(())
        },
    )?;
    if sel.provenance {
        each_in(
            conn,
            "SELECT action_id, feature, supported FROM action_supported_by
             WHERE action_id BETWEEN ?1 AND ?2",
            &act_ranges,
            |r| {
                if let Some(&(si, ai)) = act_at.get(&r.get::<_, i64>(0)?) {
                    services[si].actions[ai]
                        .supported_by
                        .insert(r.get(1)?, r.get(2)?);
                }
                Ok(())
            },
        )?;
        each_in(
            conn,
            "SELECT action_id, source, description FROM action_variants
             WHERE action_id BETWEEN ?1 AND ?2 ORDER BY action_id, source",
            &act_ranges,
            |r| {
                if let Some(&(si, ai)) = act_at.get(&r.get::<_, i64>(0)?) {
                    services[si].actions[ai].variants.push(Variant {
                        source: r.get(1)?,
                        description: r.get(2)?,
                        r#type: None,
                    });
                }
                Ok(())
            },
        )?;
    }
    // The actions whose details are read: all, or those `sel.actions`
    // matches (their ids as ranges; `act_at` then looks up only them).
    let detailed = sel.actions.as_ref().map(|patterns| {
        let wanted = ActionPatterns::new(patterns);
        // Each service's name patterns, found once.
        let of: Vec<&[String]> = services.iter().map(|s| wanted.of(&s.prefix)).collect();
        let mut ids: Vec<i64> = act_at
            .iter()
            .filter(|(_, &(si, ai))| {
                let name = &services[si].actions[ai].name;
                of[si].iter().any(|n| crate::names::wildcard_match(n, name))
            })
            .map(|(&id, _)| id)
            .collect();
        ids.sort_unstable();
        ids
    });
    let (act_ranges, act_at) = match &detailed {
        None => (act_ranges, act_at),
        Some(ids) => {
            let at = ids.iter().map(|id| (*id, act_at[id])).collect();
            (contiguous(ids), at)
        }
    };
    // What each page says: facts (the diff compares them), not provenance.
    if sel.facts {
        each_in(
            conn,
            &format!(
                "SELECT f.action_id, p.file, f.access_level, {}, f.permission_only
                 FROM action_page_facts f JOIN pages p ON p.id = f.page_id
                 WHERE f.action_id BETWEEN ?1 AND ?2 ORDER BY f.action_id, p.file",
                text("f.description"),
            ),
            &act_ranges,
            |r| {
                if let Some(&(si, ai)) = act_at.get(&r.get::<_, i64>(0)?) {
                    services[si].actions[ai].per_page.push(PageFacts {
                        page: r.get(1)?,
                        access_level: r.get(2)?,
                        description: r.get(3)?,
                        permission_only: r.get(4)?,
                    });
                }
                Ok(())
            },
        )?;
    }
    // Rows of an action are written in `ord` order, so `action_id, rowid`
    // is that order, and the action_id index yields it without a sort.
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
    // A row naming a resource-type row of another action: damage, said so
    // (as a conversion failure of that column).
    let row_of = |table: &str, id: i64| {
        row_at.get(&id).copied().ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                1,
                rusqlite::types::Type::Integer,
                Box::new(Error::Corrupt(format!(
                    "{table}: a row names action_resource_types row {id} of another action"
                ))),
            )
        })
    };
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
                Some(row) => row_mut(services, row_of("action_condition_keys", row)?)
                    .condition_keys.push(k),
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
                Some(row) => row_mut(services, row_of("dependent_actions", row)?)
                    .dependent_actions
                    .push(d),
                None => services[si].actions[ai].dependent_actions.push(d),
            }
            Ok(())
        },
    )?;
    Ok(())
}

/// The operations `ops_sql` selects (id, service id, name, sources; its
/// parameters `p`), with their actions, keys and contexts, and their SDK
/// methods for [`Operations::All`].
fn read_operations(
    conn: &Connection,
    sel: &Selection,
    ops_sql: &str,
    p: rusqlite::ParamsFromIter<std::slice::Iter<'_, String>>,
    services: &mut [Service],
    svc_at: &IdMap<usize>,
) -> Result<(), Error> {
    // Operations and their actions are read in id order: the ids of each
    // table's rows, filtered by the operations found.
    let mut op_at: IdMap<(usize, usize)> = IdMap::default();
    let mut op_ids: Vec<i64> = Vec::new();
    {
        let mut q = conn.prepare(ops_sql)?;
        let mut rows = q.query(p)?;
        while let Some(r) = rows.next()? {
            let Some(&si) = svc_at.get(&r.get::<_, i64>(1)?) else {
                continue;
            };
            let id: i64 = r.get(0)?;
            let ops = &mut services[si].operations;
            op_at.insert(id, (si, ops.len()));
            op_ids.push(id);
            ops.push(Operation {
                name: r.get(2)?,
                actions: Vec::new(),
                sdk: Vec::new(),
                sources: src(r, 3)?,
            });
        }
    }
    if op_ids.is_empty() {
        return Ok(());
    }
    let op_ranges = contiguous(&op_ids);
    let mut oa_at: IdMap<(usize, usize, usize)> = IdMap::default();
    let mut oa_ids: Vec<i64> = Vec::new();
    each_in(
        conn,
        "SELECT id, operation_id, service, action, access_level, sources FROM operation_actions
         WHERE operation_id BETWEEN ?1 AND ?2 ORDER BY operation_id, ord",
        &op_ranges,
        |r| {
            let Some(&(si, oi)) = op_at.get(&r.get::<_, i64>(1)?) else {
                return Ok(());
            };
            let id: i64 = r.get(0)?;
            let acts = &mut services[si].operations[oi].actions;
            oa_at.insert(id, (si, oi, acts.len()));
            oa_ids.push(id);
            acts.push(OperationAction {
                service: r.get(2)?,
                action: r.get(3)?,
                condition_keys: Vec::new(),
                context: Default::default(),
                access_level: r.get(4)?,
                sources: src(r, 5)?,
            });
            Ok(())
        },
    )?;
    oa_ids.sort_unstable();
    let oa_ranges = contiguous(&oa_ids);
    each_in(
        conn,
        "SELECT operation_action_id, condition_key, value FROM operation_action_context
         WHERE operation_action_id BETWEEN ?1 AND ?2
         ORDER BY operation_action_id, condition_key, ord",
        &oa_ranges,
        |r| {
            if let Some(&(si, oi, ai)) = oa_at.get(&r.get::<_, i64>(0)?) {
                services[si].operations[oi].actions[ai]
                    .context
                    .entry(r.get(1)?)
                    .or_default()
                    .push(r.get(2)?);
            }
            Ok(())
        },
    )?;
    each_in(
        conn,
        "SELECT operation_action_id, condition_key FROM operation_action_condition_keys
         WHERE operation_action_id BETWEEN ?1 AND ?2 ORDER BY operation_action_id, ord",
        &oa_ranges,
        |r| {
            if let Some(&(si, oi, ai)) = oa_at.get(&r.get::<_, i64>(0)?) {
                services[si].operations[oi].actions[ai]
                    .condition_keys
                    .push(r.get(1)?);
            }
            Ok(())
        },
    )?;
    if sel.operations == Operations::All {
        each_in(
            conn,
            "SELECT operation_id, package, client, method FROM sdk_methods
             WHERE operation_id BETWEEN ?1 AND ?2 ORDER BY operation_id, package, client, method",
            &op_ranges,
            |r| {
                if let Some(&(si, oi)) = op_at.get(&r.get::<_, i64>(0)?) {
                    services[si].operations[oi].sdk.push(SdkMethod {
                        package: r.get(1)?,
                        client: r.get(2)?,
                        method: r.get(3)?,
                    });
                }
                Ok(())
            },
        )?;
    }
    Ok(())
}

/// The page list of row `id` (none when nothing was read: no lookup).
fn take(lists: &mut IdMap<Vec<String>>, id: i64) -> Vec<String> {
    if lists.is_empty() {
        return Vec::new();
    }
    lists.remove(&id).unwrap_or_default()
}

/// [`Selection::actions`] by prefix: the name patterns of each.
struct ActionPatterns(HashMap<String, Vec<String>>);

impl ActionPatterns {
    fn new(patterns: &[String]) -> ActionPatterns {
        let mut by: HashMap<String, Vec<String>> = HashMap::new();
        for p in patterns {
            if let Some((prefix, name)) = p.split_once(':') {
                by.entry(prefix.to_ascii_lowercase())
                    .or_default()
                    .push(name.to_string());
            }
        }
        ActionPatterns(by)
    }

    /// The name patterns of a prefix (any case).
    fn of(&self, prefix: &str) -> &[String] {
        self.0
            .get(&prefix.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }
}

/// Sorted ids as `[lo, hi]` ranges of consecutive ids.
fn contiguous(sorted: &[i64]) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &id in sorted {
        match out.last_mut() {
            Some(last) if id == last.1.saturating_add(1) => last.1 = id,
            _ => out.push((id, id)),
        }
    }
    out
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

fn src(r: &rusqlite::Row, i: usize) -> rusqlite::Result<Sources> {
    Ok(Sources::from_bits(r.get::<_, u8>(i)?))
}
