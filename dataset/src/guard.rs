//! The publication guard's rule, shared by `build` and `crawl`: a result
//! is compared, source by source and prefix by prefix, with the data it
//! would replace, and refused if it lost too much.
//!
//! Compared, for each source: pages and the actions the pages state
//! (HTML actions), JSON documents and the actions they state (JSON
//! actions), and API operations; a source that falls below
//! `(100 - max_shrink)%` of its previous count is named. And for each
//! prefix: a service that keeps less than half of its HTML actions or of
//! its JSON actions (or disappears) is named. And for each page and JSON
//! document ([`crate::shrink`]): one missing, empty, or with fewer facts of
//! some kind is named with what it lost. Accepting a shrink records
//! what shrank in the manifest's notes ([`accept`]).
//!
//! [`publish`]: the previous data read as baselines, the result compared,
//! refused or accepted, stamped and written (database, then snapshot).
//! The wording of what it tells and the exit status of a refusal are the
//! binary's.

mod publish;
pub use publish::{
    baselines, baselines_with, database_baseline, examine, publish, BaselineError, Facts, Notice,
    Options, PublishError, Target,
};

use crate::shrink::Inventory;
use crate::{Error, Manifest, Service};
use rusqlite::Connection;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What a dataset holds, per source and per prefix.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    pub pages: usize,
    pub html_actions: usize,
    pub json_documents: usize,
    pub json_actions: usize,
    pub operations: usize,
    /// prefix -> (HTML actions, JSON actions)
    pub prefixes: BTreeMap<String, (usize, usize)>,
}

impl Profile {
    pub fn of(manifest: &Manifest, services: &[Service]) -> Profile {
        let mut p = Profile {
            pages: manifest.counts.pages.max(manifest.pages.len()),
            json_documents: manifest.json_documents.len(),
            ..Profile::default()
        };
        for s in services {
            let html = s.actions.iter().filter(|a| a.sources.has_html()).count();
            let json = s.actions.iter().filter(|a| a.sources.has_json()).count();
            p.html_actions += html;
            p.json_actions += json;
            p.operations += s.operations.len();
            let e = p.prefixes.entry(s.prefix.to_ascii_lowercase()).or_default();
            e.0 += html;
            e.1 += json;
        }
        p
    }
}

impl Profile {
    /// The same counts as [`Profile::of`], read from a database's views
    /// (a few queries instead of reading every service back).
    pub fn of_database(conn: &Connection, manifest: &Manifest) -> Result<Profile, Error> {
        let mut p = Profile {
            pages: manifest.counts.pages.max(manifest.pages.len()),
            json_documents: manifest.json_documents.len(),
            ..Profile::default()
        };
        let mut stmt = conn.prepare(
            "SELECT lower(prefix), total(sources IN ('html', 'both')), total(sources IN ('json', 'both')) \
             FROM v_actions GROUP BY lower(prefix)",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, f64>(1)?,
                r.get::<_, f64>(2)?,
            ))
        })?;
        for row in rows {
            let (prefix, html, json) = row?;
            let (html, json) = (html as usize, json as usize);
            p.html_actions += html;
            p.json_actions += json;
            p.prefixes.insert(prefix, (html, json));
        }
        // (The base table: v_operations leaves out operations without
        // actions. open_read_only has checked the schema version.)
        p.operations = conn.query_row("SELECT count(*) FROM operations", [], |r| {
            r.get::<_, i64>(0)
        })? as usize;
        Ok(p)
    }
}

/// What `new` lost against `old`, one line per source; empty if it kept
/// enough. `max_shrink` is the percentage a source's total may lose.
pub fn losses(old: &Profile, new: &Profile, max_shrink: f64) -> Vec<String> {
    let keep = (100.0 - max_shrink) / 100.0;
    let mut out = Vec::new();
    let total = |what: &str, o: usize, n: usize, out: &mut Vec<String>| {
        if o > 0 && (n as f64) < (o as f64) * keep {
            out.push(format!(
                "{what}: {n}, down from {o} ({:.1}%)",
                n as f64 * 100.0 / o as f64
            ));
        }
    };
    total("pages", old.pages, new.pages, &mut out);
    total("HTML actions", old.html_actions, new.html_actions, &mut out);
    total(
        "JSON documents",
        old.json_documents,
        new.json_documents,
        &mut out,
    );
    total("JSON actions", old.json_actions, new.json_actions, &mut out);
    total("operations", old.operations, new.operations, &mut out);
    for (source, pick) in [
        (
            "HTML",
            (|c: &(usize, usize)| c.0) as fn(&(usize, usize)) -> usize,
        ),
        ("JSON", |c: &(usize, usize)| c.1),
    ] {
        let mut shrunk = Vec::new();
        for (prefix, counts) in &old.prefixes {
            let o = pick(counts);
            let n = new.prefixes.get(prefix).map_or(0, pick);
            if o > 0 && n * 2 < o {
                shrunk.push(format!("{prefix} {o}→{n}"));
            }
        }
        if !shrunk.is_empty() {
            let mut line = format!(
                "{} service(s) lost more than half of their {source} actions: ",
                shrunk.len()
            );
            let shown = shrunk.len().min(12);
            line.push_str(&shrunk[..shown].join(", "));
            if shrunk.len() > shown {
                let _ = write!(line, ", … and {} more", shrunk.len() - shown);
            }
            out.push(line);
        }
    }
    out
}

/// Data a result would replace, and how to name it in messages.
pub struct Baseline {
    pub what: String,
    pub profile: Profile,
    /// Its facts page by page and JSON document by document.
    pub inventory: Inventory,
    /// The snapshot shipped in iamref (not a file the user named).
    pub shipped: bool,
}

impl Baseline {
    /// The baseline of services as read whole (a snapshot folder or a
    /// bundle), named `what` in the report.
    pub fn of(what: String, manifest: &Manifest, services: &[Service], shipped: bool) -> Baseline {
        Baseline {
            what,
            profile: Profile::of(manifest, services),
            inventory: Inventory::of(manifest, services),
            shipped,
        }
    }

    /// Only the HTML side: what a result built without the JSON service
    /// reference is compared with when the only baseline is the shipped
    /// snapshot (`crawl --no-service-reference` with no previous database).
    pub fn html_side(&mut self) {
        let p = &mut self.profile;
        p.json_documents = 0;
        p.json_actions = 0;
        p.operations = 0;
        p.prefixes.values_mut().for_each(|c| c.1 = 0);
        self.inventory.documents.clear();
    }
}

/// The report of what `new` lost against each of `baselines` (named by
/// its `what`): the totals and prefixes ([`losses`]), then every page and
/// JSON document that is missing, empty or lost facts
/// ([`crate::shrink::losses`]); `None` when it kept enough against every
/// one.
pub fn review<'a>(
    baselines: impl IntoIterator<Item = (&'a str, &'a Profile, &'a Inventory)>,
    new: &Profile,
    new_pages: &Inventory,
    max_shrink: f64,
) -> Option<String> {
    let mut report = String::new();
    for (what, old, old_pages) in baselines {
        let lost = losses(old, new, max_shrink);
        let pages = crate::shrink::losses(old_pages, new_pages);
        if lost.is_empty() && pages.is_empty() {
            continue;
        }
        let _ = writeln!(report, "against {what}:");
        for l in lost {
            let _ = writeln!(report, "  {l}");
        }
        // Per page and per JSON document: every one is named (the manifest
        // records them all when the shrink is accepted).
        for l in pages {
            let _ = writeln!(report, "  {l}");
        }
    }
    (!report.is_empty()).then_some(report)
}

/// Record an accepted shrink (`report` from [`review`]) in the manifest's
/// notes, one note per line.
pub fn accept(manifest: &mut Manifest, report: &str) {
    for line in report.lines() {
        manifest
            .notes
            .push(format!("accepted shrink: {}", line.trim()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(prefixes: &[(&str, usize, usize)]) -> Profile {
        let mut p = Profile {
            pages: prefixes.len(),
            json_documents: prefixes.len(),
            ..Profile::default()
        };
        for (name, h, j) in prefixes {
            p.html_actions += h;
            p.json_actions += j;
            p.prefixes.insert(name.to_string(), (*h, *j));
        }
        p
    }

    #[test]
    fn database_profile_equals_the_in_memory_one() {
        // The shipped snapshot, written to a database and read back both ways.
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
        let (manifest, services) = crate::snapshot::read_snapshot(&data).unwrap();
        let conn = crate::db::write_in_memory(&manifest, &services).unwrap();
        let from_db = Profile::of_database(&conn, &manifest).unwrap();
        let in_memory = Profile::of(&manifest, &services);
        assert_eq!(from_db, in_memory);
        assert!(in_memory.html_actions > 0);
    }

    #[test]
    fn database_baseline_equals_the_in_memory_one() {
        // The shipped snapshot written to a database file: its baseline,
        // read without SDK methods, holds what the services' own does.
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
        let (manifest, services) = crate::snapshot::read_snapshot(&data).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        crate::db::write_database(&path, &manifest, &services).unwrap();
        let from_db = database_baseline(Some(&path)).unwrap().unwrap();
        let in_memory = Baseline::of(String::new(), &manifest, &services, false);
        assert_eq!(from_db.profile, in_memory.profile);
        assert_eq!(from_db.inventory, in_memory.inventory);
        assert!(!in_memory.inventory.pages.is_empty() && !in_memory.inventory.documents.is_empty());
        assert!(database_baseline(Some(&dir.path().join("absent.sqlite")))
            .unwrap()
            .is_none());
    }

    #[test]
    fn same_or_bigger_passes() {
        let old = profile(&[("s3", 168, 170), ("ec2", 7000, 700)]);
        assert!(losses(&old, &old, 10.0).is_empty());
        let mut new = old.clone();
        new.prefixes.insert("new".into(), (3, 3));
        assert!(losses(&old, &new, 10.0).is_empty());
    }

    #[test]
    fn a_service_losing_half_is_named_even_when_totals_hold() {
        let old = profile(&[("s3", 168, 170), ("ec2", 7000, 700)]);
        let new = profile(&[("s3", 10, 170), ("ec2", 7000, 700)]);
        let l = losses(&old, &new, 10.0);
        assert_eq!(l.len(), 1, "{l:?}");
        assert!(l[0].contains("HTML actions: s3 168→10"), "{l:?}");
        // exactly half kept passes
        let new = profile(&[("s3", 84, 170), ("ec2", 7000, 700)]);
        assert!(losses(&old, &new, 10.0).is_empty());
    }

    #[test]
    fn totals_per_source() {
        let old = profile(&[("a", 10, 10), ("b", 10, 10), ("c", 10, 10)]);
        let mut new = old.clone();
        new.pages = 1;
        let l = losses(&old, &new, 10.0);
        assert_eq!(l, vec!["pages: 1, down from 3 (33.3%)".to_string()]);
        let mut new = old.clone();
        new.json_documents = 0;
        new.json_actions = 0;
        new.prefixes.values_mut().for_each(|c| c.1 = 0);
        let l = losses(&old, &new, 10.0);
        assert!(l[0].starts_with("JSON documents: 0"), "{l:?}");
        assert!(l[1].starts_with("JSON actions: 0"), "{l:?}");
        assert!(l[2].contains("3 service(s) lost more than half of their JSON actions"));
        // 100% allowed: only the per-prefix rule remains
        let l = losses(&old, &new, 100.0);
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn review_names_each_baseline_and_accept_records_it() {
        let old = profile(&[("s3", 168, 0)]);
        let new = profile(&[("s3", 10, 0)]);
        let inv = Inventory::default();
        assert_eq!(review([("old.sqlite", &old, &inv)], &old, &inv, 10.0), None);
        let report = review(
            [("old.sqlite", &old, &inv), ("same", &new, &inv)],
            &new,
            &inv,
            10.0,
        )
        .unwrap();
        assert!(report.starts_with("against old.sqlite:\n  "), "{report}");
        assert!(!report.contains("against same"), "{report}");
        let mut m = Manifest::default();
        accept(&mut m, &report);
        assert!(
            m.notes.iter().any(|n| n.contains("s3 168→10")),
            "{:?}",
            m.notes
        );
        assert!(m.notes.iter().all(|n| n.starts_with("accepted shrink")));
    }
}
