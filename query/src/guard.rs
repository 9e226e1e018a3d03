//! The publication guard shared by `build` and `crawl`: a result is
//! compared, source by source and prefix by prefix, with the data it would
//! replace, and refused (exit 3) if it lost too much.
//!
//! Compared, for each source: pages and the actions the pages state
//! (HTML actions), JSON documents and the actions they state (JSON
//! actions), and API operations; a source that falls below
//! `(100 - max_shrink)%` of its previous count is named. And for each
//! prefix: a service that keeps less than half of its HTML actions or of
//! its JSON actions (or disappears) is named. And for each page and JSON
//! document (`iamref_dataset::shrink`): one missing, empty, or with fewer
//! facts of some kind is named with what it lost. Before any of this, every
//! value is checked against its column's domain
//! (`iamref_dataset::domain::check_services`). `--accept-shrink` publishes
//! anyway and records what shrank in the manifest's notes.

use crate::exit::{input, Exit, Failure};
use crate::output::{safe, Out};
use anyhow::{Context, Result};
pub use iamref_dataset::domain::capture_date;
use iamref_dataset::guard::{self, Baseline, Profile};
use iamref_dataset::publication::{self, Pairing, Stamp};
use iamref_dataset::shrink::Inventory;
use iamref_dataset::{Manifest, Service};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The guard's options, the same for `build` and `crawl`.
#[derive(clap::Args, Debug, Clone)]
pub struct GuardArgs {
    /// Refuse a result in which a source (pages, HTML actions, JSON documents, JSON actions,
    /// operations) has fewer than (100 - PERCENT)% of the data it replaces
    #[arg(long, value_name = "PERCENT", default_value_t = 10.0, value_parser = percent)]
    pub max_shrink: f64,
    /// Publish even if the result shrank (a source beyond --max-shrink, a service that lost
    /// more than half its actions, or a page or JSON document that is missing, empty or lost
    /// facts); what shrank is recorded in the manifest
    #[arg(long)]
    pub accept_shrink: bool,
}

fn percent(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?}: expected a percentage between 0 and 100")),
    }
}

/// The data a build or crawl would replace: the `out` database if it
/// exists, and the `snapshot_dir` folder if it has a manifest; if neither
/// exists and `shipped` is set, the snapshot shipped in the binary.
pub fn baselines(
    out: Option<&Path>,
    snapshot_dir: Option<&Path>,
    shipped: bool,
) -> Result<Vec<Baseline>> {
    let mut v = Vec::new();
    let how = "to compare what the new data keeps; remove it, or pass --accept-shrink to replace it unchecked";
    if let Some(out) = out.filter(|p| p.exists()) {
        let conn = iamref_dataset::db::open_read_only(out)
            .with_context(|| format!("reading the previous database {} {how}", out.display()))?;
        let manifest = iamref_dataset::db::read_manifest(&conn)
            .with_context(|| format!("reading the previous database {} {how}", out.display()))?;
        let profile = Profile::of_database(&conn, &manifest)
            .with_context(|| format!("reading the previous database {} {how}", out.display()))?;
        let services = iamref_dataset::db::read_services(&conn)
            .with_context(|| format!("reading the previous database {} {how}", out.display()))?;
        v.push(Baseline {
            what: out.display().to_string(),
            profile,
            inventory: Inventory::of(&manifest, &services),
            shipped: false,
        });
    }
    if let Some(dir) = snapshot_dir {
        // A run killed while swapping the folder in left it aside: put it
        // back, so that it is compared (and then replaced) as it was.
        if let Some(old) = iamref_dataset::snapshot::recover_interrupted(dir)
            .with_context(|| format!("restoring the previous snapshot {}", dir.display()))?
        {
            crate::diag::note(format_args!(
                "{} was missing, left aside by an interrupted run as {}; restored",
                dir.display(),
                old.display()
            ));
        }
    }
    if let Some(dir) = snapshot_dir.filter(|d| d.join("manifest.json").exists()) {
        let (manifest, services) = iamref_dataset::snapshot::read_snapshot(dir)
            .map_err(crate::exit::dataset_error)
            .with_context(|| format!("reading the previous snapshot {} {how}", dir.display()))?;
        let what = dir.join("manifest.json").display().to_string();
        v.push(Baseline::of(what, &manifest, &services, false));
    }
    if v.is_empty() && shipped {
        if let Some(b) = crate::locate::embedded_bundle_opt()? {
            let what = "the snapshot shipped in iamref".to_string();
            v.push(Baseline::of(what, &b.manifest, &b.services, true));
        }
    }
    Ok(v)
}

/// [`baselines`], except that with `accept` (`--accept-shrink`) previous
/// data that cannot be read is replaced unchecked, with a warning.
pub fn baselines_unless_accepted(
    out: Option<&Path>,
    snapshot_dir: Option<&Path>,
    shipped: bool,
    accept: bool,
    quiet: bool,
) -> Result<Vec<Baseline>> {
    match baselines(out, snapshot_dir, shipped) {
        Err(e) if accept => {
            if !quiet {
                crate::diag::warning(format_args!(
                    "{e:#}; replacing it unchecked (--accept-shrink)"
                ));
            }
            Ok(Vec::new())
        }
        r => r,
    }
}

/// The one way `build` and `crawl` publish a result: refuse (exit 3) one
/// that lost too much against the data it replaces (the database at
/// `out`, the folder `snapshot_dir`, and for `crawl` the snapshot shipped
/// with iamref), unless `--accept-shrink`; then write the database and
/// the snapshot folder, each atomically.
pub fn publish(
    manifest: &mut Manifest,
    services: &[Service],
    out: Option<&Path>,
    snapshot_dir: Option<&Path>,
    shipped: bool,
    guard: &GuardArgs,
    quiet: bool,
) -> Result<()> {
    // Every value in its column's domain, whatever the source.
    let bad = iamref_dataset::domain::check_services(services);
    if !bad.is_empty() {
        let mut msg = format!(
            "refused: {} value(s) outside their column's domain; nothing written:\n",
            bad.len()
        );
        for b in bad.iter().take(20) {
            let _ = writeln!(msg, "  {b}");
        }
        if bad.len() > 20 {
            let _ = writeln!(msg, "  … and {} more", bad.len() - 20);
        }
        msg.push_str("the pages or documents are damaged (fetch them again), or the layout changed (the parser needs updating)");
        return Err(Failure::Refused(msg).into());
    }
    let mut baselines =
        baselines_unless_accepted(out, snapshot_dir, shipped, guard.accept_shrink, quiet)?;
    if manifest.json_documents.is_empty() {
        for b in baselines.iter_mut().filter(|b| b.shipped) {
            b.html_side();
            if !quiet {
                crate::diag::note(format_args!(
                    "no JSON service reference in this result: compared with the HTML side of {} only",
                    b.what
                ));
            }
        }
    }
    // A database and snapshot that are not one publication (a run killed
    // between its two writes): said now, repaired by writing both.
    let apart = match (out, snapshot_dir) {
        (Some(db), Some(dir)) => match pairing(db, dir) {
            Some(Pairing::Apart { database, snapshot }) => {
                crate::diag::note(format_args!(
                    "{} and {} are not one publication, as a run stopped between writing the \
                     database and the snapshot leaves them; this run rewrites both\n{}",
                    db.display(),
                    dir.join("manifest.json").display(),
                    sides(db, &database, dir, &snapshot)
                ));
                true
            }
            _ => false,
        },
        _ => false,
    };
    check(
        &baselines,
        &Profile::of(manifest, services),
        &Inventory::of(manifest, services),
        guard.max_shrink,
        guard.accept_shrink,
        manifest,
        quiet,
    )?;
    // The last change to the manifest: both files carry the same id.
    iamref_dataset::publication::stamp(manifest);
    if let Some(out) = out {
        iamref_dataset::db::write_database(out, manifest, services)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    if let Some(dir) = snapshot_dir {
        iamref_dataset::snapshot::write_snapshot(dir, manifest, services)
            .with_context(|| format!("writing snapshot {}", dir.display()))?;
    }
    if let (true, Some(db), Some(dir)) = (apart, out, snapshot_dir) {
        crate::diag::note(format_args!(
            "repaired: {} and {} are one publication again ({})",
            db.display(),
            dir.join("manifest.json").display(),
            manifest.publication
        ));
    }
    Ok(())
}

/// Whether the database `db` and the snapshot folder `dir` are one
/// publication; `None` when either is absent or unreadable (the guard
/// reads them as baselines and reports that).
fn pairing(db: &Path, dir: &Path) -> Option<Pairing> {
    if !db.exists() || !dir.join("manifest.json").exists() {
        return None;
    }
    let conn = iamref_dataset::db::open_read_only(db).ok()?;
    let d = iamref_dataset::db::read_manifest(&conn).ok()?;
    let s = iamref_dataset::snapshot::read_manifest(dir).ok()?;
    Some(publication::pair(&d, &s))
}

/// What the database and the snapshot say, one line each.
fn sides(db: &Path, database: &Stamp, dir: &Path, snapshot: &Stamp) -> String {
    format!(
        "{}: {database}\n{}: {snapshot}",
        db.display(),
        dir.join("manifest.json").display()
    )
}

/// `iamref verify`'s arguments.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// Database written by `build --out` or `crawl --out`
    #[arg(value_name = "DATABASE")]
    pub database: PathBuf,
    /// Snapshot folder written with it (`--snapshot-dir`)
    #[arg(value_name = "SNAPSHOT_DIR")]
    pub snapshot_dir: PathBuf,
}

/// `iamref verify DATABASE SNAPSHOT_DIR`: exit 0 when they are one
/// publication, 1 when they are not (or nothing tells), each side named
/// with what it says; 2 when one cannot be read.
pub fn verify(a: VerifyArgs, out: &mut Out) -> Result<Exit> {
    let (db, dir) = (&a.database, &a.snapshot_dir);
    let conn = iamref_dataset::db::open_read_only(db).map_err(|e| {
        input(format!(
            "{e}; give the database written by build --out or crawl --out"
        ))
    })?;
    let d = iamref_dataset::db::read_manifest(&conn)
        .with_context(|| format!("reading {}", db.display()))?;
    let mp = dir.join("manifest.json");
    let w = out.w();
    if !dir.exists() {
        if let Some(old) = iamref_dataset::snapshot::left_aside(dir) {
            writeln!(
                w,
                "not one publication: {} is missing; a run stopped while swapping it in left the previous snapshot aside as {}",
                safe(&dir.display().to_string()),
                safe(&old.display().to_string())
            )?;
            crate::diag::note(
                "the next build or crawl with this --snapshot-dir puts it back, then rewrites both",
            );
            return Ok(Exit::NotFound);
        }
    }
    if !mp.is_file() {
        return Err(input(format!(
            "{}: no snapshot folder (no manifest.json); give the folder written by --snapshot-dir",
            dir.display()
        )));
    }
    let s = iamref_dataset::snapshot::read_manifest(dir)?;
    let line = |path: &Path, m: &iamref_dataset::Manifest, stamp: &Stamp| {
        let mut t = format!("  {}: {stamp}", safe(&path.display().to_string()));
        let mut of = Vec::new();
        if let Some(c) = &m.captured {
            of.push(format!("captured {}", safe(c)));
        }
        of.push(format!("iamref {}", safe(&m.tool_version)));
        let _ = write!(t, " ({})", of.join(", "));
        t
    };
    match publication::pair(&d, &s) {
        Pairing::One(id) => {
            writeln!(
                w,
                "one publication: {} and {}\n  publication {id}",
                safe(&db.display().to_string()),
                safe(&mp.display().to_string())
            )?;
            Ok(Exit::Found)
        }
        p => {
            let (ds, ss) = match p {
                Pairing::Apart { database, snapshot } => (database, snapshot),
                _ => (Stamp::Missing, Stamp::Missing),
            };
            let head = if ds == Stamp::Missing && ss == Stamp::Missing {
                "cannot tell whether they are one publication:"
            } else {
                "not one publication:"
            };
            writeln!(w, "{head}\n{}\n{}", line(db, &d, &ds), line(&mp, &s, &ss))?;
            crate::diag::note(
                "a run stopped between writing the database and the snapshot leaves them so; \
                 the next build or crawl given both (--out DATABASE --snapshot-dir SNAPSHOT_DIR) rewrites both",
            );
            Ok(Exit::NotFound)
        }
    }
}

/// Refuse (exit 3) if the result lost too much against any baseline;
/// with `accept`, record the losses in the manifest's notes instead and
/// say so on stderr.
pub fn check(
    baselines: &[Baseline],
    new: &Profile,
    new_pages: &Inventory,
    max_shrink: f64,
    accept: bool,
    manifest: &mut Manifest,
    quiet: bool,
) -> Result<()> {
    let Some(report) = guard::review(
        baselines
            .iter()
            .map(|b| (b.what.as_str(), &b.profile, &b.inventory)),
        new,
        new_pages,
        max_shrink,
    ) else {
        return Ok(());
    };
    if accept {
        guard::accept(manifest, &report);
        if !quiet {
            eprint!("warning: publishing a shrunken result (--accept-shrink), recorded in the manifest:\n{report}");
        }
        return Ok(());
    }
    Err(Failure::Refused(format!(
        "refused: the new data is smaller than the data it would replace; nothing written.\n{report}\
         If AWS really removed this much, pass --accept-shrink (recorded in the manifest); \
         if pages are missing or truncated, fetch them again; if the page layout changed, the \
         parser needs updating"
    ))
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_records_in_manifest() {
        let old = Profile {
            pages: 1,
            html_actions: 168,
            prefixes: [("s3".to_string(), (168, 0))].into_iter().collect(),
            ..Profile::default()
        };
        let new = Profile {
            pages: 1,
            html_actions: 10,
            prefixes: [("s3".to_string(), (10, 0))].into_iter().collect(),
            ..Profile::default()
        };
        let b = vec![Baseline {
            what: "old.sqlite".into(),
            profile: old,
            inventory: Inventory::default(),
            shipped: false,
        }];
        let mut m = Manifest::default();
        let inv = Inventory::default();
        let e = check(&b, &new, &inv, 10.0, false, &mut m, true).unwrap_err();
        assert_eq!(e.downcast_ref::<Failure>().unwrap().code(), 3);
        assert!(e.to_string().contains("against old.sqlite"));
        assert!(m.notes.is_empty());
        check(&b, &new, &inv, 10.0, true, &mut m, true).unwrap();
        assert!(
            m.notes.iter().any(|n| n.contains("s3 168→10")),
            "{:?}",
            m.notes
        );
    }
}
