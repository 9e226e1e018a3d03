//! The publication guard's flags and words, shared by `build` and
//! `crawl`: the rule and its order are `iamref_dataset::guard` (a result
//! compared, source by source, prefix by prefix, page by page and JSON
//! document by document, with the data it would replace; refused, or
//! accepted with `--accept-shrink` and recorded in the manifest; stamped
//! and written, database then snapshot). Here: every value checked against
//! its column's domain first (`iamref_dataset::domain::check_services`),
//! the snapshot shipped in iamref as the baseline of a first crawl, what
//! the guard tells worded on stderr, refusals as exit 3, and
//! `iamref verify`.

use crate::exit::{input, Exit, Failure};
use crate::output::{safe, Out};
use anyhow::{Context, Result};
pub use iamref_dataset::domain::capture_date;
use iamref_dataset::guard::{self, Baseline, BaselineError, Notice, PublishError, Target};
use iamref_dataset::publication::{self, Pairing, Stamp};
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
/// exists, and the `snapshot_dir` folder if it has a manifest
/// (`iamref_dataset::guard::baselines`); if neither exists and `shipped`
/// is set, the snapshot shipped in the binary.
pub fn baselines(
    out: Option<&Path>,
    snapshot_dir: Option<&Path>,
    shipped: bool,
    database: DatabaseBaseline,
) -> Result<Vec<Baseline>> {
    let how = "to compare what the new data keeps; remove it, or pass --accept-shrink to replace it unchecked";
    let target = Target {
        database: out,
        snapshot_dir,
    };
    let v = database.and_then(|db| guard::baselines_with(target, db, &mut |n| notice(n, false)));
    let mut v = v.map_err(|e| {
        let (what, source): (String, anyhow::Error) = match e {
            BaselineError::Database { path, source } => (
                format!("reading the previous database {} {how}", path.display()),
                source.into(),
            ),
            BaselineError::Restore { dir, source } => (
                format!("restoring the previous snapshot {}", dir.display()),
                source.into(),
            ),
            BaselineError::Snapshot { dir, source } => (
                format!("reading the previous snapshot {} {how}", dir.display()),
                crate::exit::dataset_error(source),
            ),
        };
        source.context(what)
    })?;
    if v.is_empty() && shipped {
        if let Some(b) = crate::locate::embedded_bundle_opt()? {
            let what = "the snapshot shipped in iamref".to_string();
            v.push(Baseline::of(what, &b.manifest, &b.services, true));
        }
    }
    Ok(v)
}

/// The previous database at `out` read as a baseline, apart
/// (`iamref_dataset::guard::database_baseline`: a pure read, which
/// `build` does while it parses; `None`: none exists).
pub type DatabaseBaseline = std::result::Result<Option<Baseline>, BaselineError>;

/// [`baselines`], except that with `accept` (`--accept-shrink`) previous
/// data that cannot be read is replaced unchecked, with a warning.
pub fn baselines_unless_accepted(
    out: Option<&Path>,
    snapshot_dir: Option<&Path>,
    shipped: bool,
    accept: bool,
    quiet: bool,
    database: DatabaseBaseline,
) -> Result<Vec<Baseline>> {
    match baselines(out, snapshot_dir, shipped, database) {
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

/// What the guard tells as it publishes, worded (`quiet`: `-q`).
fn notice(n: Notice<'_>, quiet: bool) {
    match n {
        Notice::Restored { dir, aside } => crate::diag::note(format_args!(
            "{} was missing, left aside by an interrupted run as {}; restored",
            dir.display(),
            aside.display()
        )),
        Notice::HtmlSideOnly { what } if !quiet => crate::diag::note(format_args!(
            "no JSON service reference in this result: compared with the HTML side of {what} only"
        )),
        Notice::AcceptedShrink { report } if !quiet => eprint!(
            "warning: publishing a shrunken result (--accept-shrink), recorded in the manifest:\n{report}"
        ),
        Notice::HtmlSideOnly { .. } | Notice::AcceptedShrink { .. } => {}
        // Apart and Repaired name both paths: worded by `publish`.
        Notice::Apart { .. } | Notice::Repaired { .. } => {}
    }
}

/// What a result is compared with besides the files it replaces.
pub struct Compare {
    /// The snapshot shipped in iamref, when neither file exists (`crawl`).
    pub shipped: bool,
    /// The database at `out` as a baseline
    /// (`iamref_dataset::guard::database_baseline`; `build` reads it
    /// while it parses).
    pub database: DatabaseBaseline,
}

/// The one way `build` and `crawl` publish a result: refuse (exit 3) one
/// with a value outside its column's domain, or one that lost too much
/// against the data it replaces (the database at `out`, the folder
/// `snapshot_dir`, and for `crawl` the snapshot shipped with iamref),
/// unless `--accept-shrink`; then write the database and the snapshot
/// folder, each atomically (`iamref_dataset::guard::publish`).
pub fn publish(
    manifest: &mut Manifest,
    services: &[Service],
    out: Option<&Path>,
    snapshot_dir: Option<&Path>,
    with: Compare,
    guard: &GuardArgs,
    quiet: bool,
) -> Result<()> {
    let Compare { shipped, database } = with;
    // Every value in its column's domain, whatever the source; beside it,
    // what the review compares.
    let (bad, facts) = guard::examine(manifest, services);
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
    let baselines = baselines_unless_accepted(
        out,
        snapshot_dir,
        shipped,
        guard.accept_shrink,
        quiet,
        database,
    )?;
    let target = Target {
        database: out,
        snapshot_dir,
    };
    let (db, mp) = (
        out.map(|p| p.display().to_string()).unwrap_or_default(),
        snapshot_dir
            .map(|d| d.join("manifest.json").display().to_string())
            .unwrap_or_default(),
    );
    let options = guard::Options {
        max_shrink: guard.max_shrink,
        accept_shrink: guard.accept_shrink,
    };
    guard::publish(manifest, services, facts, target, baselines, options, &mut |n| match n {
        Notice::Apart { database, snapshot } => crate::diag::note(format_args!(
            "{db} and {mp} are not one publication, as a run stopped between writing the \
             database and the snapshot leaves them; this run rewrites both\n{db}: {database}\n{mp}: {snapshot}"
        )),
        Notice::Repaired { publication } => crate::diag::note(format_args!(
            "repaired: {db} and {mp} are one publication again ({publication})"
        )),
        n => notice(n, quiet),
    })
    .map_err(|e| match e {
        PublishError::Shrunk(report) => Failure::Refused(format!(
            "refused: the new data is smaller than the data it would replace; nothing written.\n{report}\
             If AWS really removed this much, pass --accept-shrink (recorded in the manifest); \
             if pages are missing or truncated, fetch them again; if the page layout changed, the \
             parser needs updating"
        ))
        .into(),
        PublishError::Database { path, source } => {
            anyhow::Error::from(source).context(format!("writing {}", path.display()))
        }
        PublishError::Snapshot { dir, source } => {
            anyhow::Error::from(source).context(format!("writing snapshot {}", dir.display()))
        }
    })
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
