//! The one way a result is published (`build`, `crawl`): the data it
//! would replace read as [`Baseline`]s ([`baselines`]), then [`publish`]:
//! compared with them ([`review`]), refused or accepted (the losses in
//! the manifest's notes), stamped with its publication id, and written:
//! the database first, then the snapshot folder, each atomically. A
//! database and snapshot that were not one publication are told before
//! and repaired by the writes.
//!
//! Nothing here words a message for the command line: what happens comes
//! to the caller as a [`Notice`] in the order it happens, and why it
//! failed as a typed [`PublishError`] or [`BaselineError`].

use super::{accept, review, Baseline, Profile};
use crate::domain::Located;
use crate::publication::{self, Pairing, Stamp};
use crate::shrink::Inventory;
use crate::{Error, Manifest, Service};
use std::path::{Path, PathBuf};

/// What [`review`] compares of a result with each baseline: its profile
/// and its inventory.
pub struct Facts {
    pub profile: Profile,
    pub inventory: Inventory,
}

impl Facts {
    /// The facts of a result.
    pub fn of(manifest: &Manifest, services: &[Service]) -> Facts {
        Facts {
            profile: Profile::of(manifest, services),
            inventory: Inventory::of(manifest, services),
        }
    }
}

/// The checks of a result before anything is compared or written, side
/// by side on two threads: its values outside their column's domain
/// ([`crate::domain::check_services`]; any is a refusal) and its
/// [`Facts`] for [`publish`].
pub fn examine(manifest: &Manifest, services: &[Service]) -> (Vec<Located>, Facts) {
    std::thread::scope(|s| {
        let facts = s.spawn(|| Facts::of(manifest, services));
        let bad = crate::domain::check_services(services);
        let facts = facts
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (bad, facts)
    })
}

/// Where a result goes: the database, the snapshot folder, or both.
#[derive(Debug, Clone, Copy, Default)]
pub struct Target<'a> {
    pub database: Option<&'a Path>,
    pub snapshot_dir: Option<&'a Path>,
}

/// The guard's options.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// A source may lose at most this percentage of its count.
    pub max_shrink: f64,
    /// Publish a result that lost more, the losses recorded.
    pub accept_shrink: bool,
}

/// What publishing did, in order, for the caller to tell.
#[derive(Debug)]
pub enum Notice<'a> {
    /// A snapshot folder left aside by an interrupted swap was put back.
    Restored { dir: &'a Path, aside: &'a Path },
    /// A result without JSON documents compared with the HTML side only
    /// of a shipped baseline (`what`).
    HtmlSideOnly { what: &'a str },
    /// The database and snapshot being replaced were not one publication;
    /// both are rewritten.
    Apart {
        database: &'a Stamp,
        snapshot: &'a Stamp,
    },
    /// A shrunken result is published (accepted); what it lost, as
    /// recorded in the manifest.
    AcceptedShrink { report: &'a str },
    /// After an [`Notice::Apart`]: both were written, one publication
    /// again (its id).
    Repaired { publication: &'a str },
}

/// Why previous data could not be read as a baseline.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("reading the previous database {}", path.display())]
    Database { path: PathBuf, source: Error },
    #[error("restoring the previous snapshot {}", dir.display())]
    Restore { dir: PathBuf, source: Error },
    #[error("reading the previous snapshot {}", dir.display())]
    Snapshot { dir: PathBuf, source: Error },
}

/// Why a result was not published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// It lost too much against a baseline: the report ([`review`]).
    #[error("the new data is smaller than the data it would replace:\n{0}")]
    Shrunk(String),
    #[error("writing {}", path.display())]
    Database { path: PathBuf, source: Error },
    #[error("writing snapshot {}", dir.display())]
    Snapshot { dir: PathBuf, source: Error },
}

/// The data a result for `target` would replace: the database if it
/// exists, and the snapshot folder if it has a manifest (a folder left
/// aside by an interrupted swap put back first, as
/// [`Notice::Restored`]).
pub fn baselines(
    target: Target<'_>,
    notice: &mut dyn FnMut(Notice<'_>),
) -> Result<Vec<Baseline>, BaselineError> {
    let db = database_baseline(target.database)?;
    baselines_with(target, db, notice)
}

/// The database at `path` as a baseline, `None` when none is given or it
/// does not exist: a pure read (no notice, nothing changed), so that a
/// build can take it while it parses.
pub fn database_baseline(path: Option<&Path>) -> Result<Option<Baseline>, BaselineError> {
    let Some(path) = path.filter(|p| p.exists()) else {
        return Ok(None);
    };
    let err = |source| BaselineError::Database {
        path: path.to_path_buf(),
        source,
    };
    let conn = crate::db::open_read_only(path).map_err(err)?;
    let manifest = crate::db::read_manifest(&conn).map_err(err)?;
    let profile = Profile::of_database(&conn, &manifest).map_err(err)?;
    // What the inventory counts: not the operations' SDK methods.
    let sel = crate::db::Selection {
        operations: crate::db::Operations::Actions,
        ..crate::db::Selection::all()
    };
    let services = crate::db::read(&conn, &sel).map_err(err)?;
    Ok(Some(Baseline {
        what: path.display().to_string(),
        profile,
        inventory: Inventory::of(&manifest, &services),
        shipped: false,
    }))
}

/// [`baselines`] with the database's already read
/// ([`database_baseline`] of `target.database`).
pub fn baselines_with(
    target: Target<'_>,
    database: Option<Baseline>,
    notice: &mut dyn FnMut(Notice<'_>),
) -> Result<Vec<Baseline>, BaselineError> {
    let mut v: Vec<Baseline> = database.into_iter().collect();
    if let Some(dir) = target.snapshot_dir {
        // A run killed while swapping the folder in left it aside: put it
        // back, so that it is compared (and then replaced) as it was.
        let aside =
            crate::snapshot::recover_interrupted(dir).map_err(|source| BaselineError::Restore {
                dir: dir.to_path_buf(),
                source,
            })?;
        if let Some(aside) = aside {
            notice(Notice::Restored { dir, aside: &aside });
        }
    }
    if let Some(dir) = target
        .snapshot_dir
        .filter(|d| d.join("manifest.json").exists())
    {
        let (manifest, services) =
            crate::snapshot::read_snapshot(dir).map_err(|source| BaselineError::Snapshot {
                dir: dir.to_path_buf(),
                source,
            })?;
        let what = dir.join("manifest.json").display().to_string();
        v.push(Baseline::of(what, &manifest, &services, false));
    }
    Ok(v)
}

/// Publish `services` to `target` unless they lost too much against
/// `baselines` (every value is expected in its column's domain already:
/// `domain::check_services`). The manifest is changed last by its
/// publication id, so that both files carry the same one.
pub fn publish(
    manifest: &mut Manifest,
    services: &[Service],
    facts: Facts,
    target: Target<'_>,
    mut baselines: Vec<Baseline>,
    options: Options,
    notice: &mut dyn FnMut(Notice<'_>),
) -> Result<(), PublishError> {
    if manifest.json_documents.is_empty() {
        for b in baselines.iter_mut().filter(|b| b.shipped) {
            b.html_side();
            notice(Notice::HtmlSideOnly { what: &b.what });
        }
    }
    // A database and snapshot that are not one publication (a run killed
    // between its two writes): said now, repaired by writing both.
    let apart = match (target.database, target.snapshot_dir) {
        (Some(db), Some(dir)) => match publication::pairing(db, dir) {
            Some(Pairing::Apart { database, snapshot }) => {
                notice(Notice::Apart {
                    database: &database,
                    snapshot: &snapshot,
                });
                true
            }
            _ => false,
        },
        _ => false,
    };
    let report = review(
        baselines
            .iter()
            .map(|b| (b.what.as_str(), &b.profile, &b.inventory)),
        &facts.profile,
        &facts.inventory,
        options.max_shrink,
    );
    if let Some(report) = report {
        if !options.accept_shrink {
            return Err(PublishError::Shrunk(report));
        }
        accept(manifest, &report);
        notice(Notice::AcceptedShrink { report: &report });
    }
    // The last change to the manifest: both files carry the same id.
    publication::stamp(manifest);
    if let Some(path) = target.database {
        crate::db::write_database(path, manifest, services).map_err(|source| {
            PublishError::Database {
                path: path.to_path_buf(),
                source,
            }
        })?;
    }
    if let Some(dir) = target.snapshot_dir {
        crate::snapshot::write_snapshot(dir, manifest, services).map_err(|source| {
            PublishError::Snapshot {
                dir: dir.to_path_buf(),
                source,
            }
        })?;
    }
    if apart {
        notice(Notice::Repaired {
            publication: &manifest.publication,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baseline(actions: usize) -> Baseline {
        Baseline {
            what: "old.sqlite".into(),
            profile: Profile {
                pages: 1,
                html_actions: actions,
                prefixes: [("s3".to_string(), (actions, 0))].into_iter().collect(),
                ..Profile::default()
            },
            inventory: Inventory::default(),
            shipped: false,
        }
    }

    #[test]
    fn a_shrunken_result_is_refused_unless_accepted_and_then_recorded() {
        // Constructed: a baseline with 168 s3 actions, a result with none.
        let mut m = Manifest::default();
        // The notices of one run with the result.
        let run = |m: &mut Manifest, accept_shrink: bool| {
            let options = Options {
                max_shrink: 10.0,
                accept_shrink,
            };
            let mut told = Vec::new();
            let facts = Facts::of(m, &[]);
            let r = publish(
                m,
                &[],
                facts,
                Target::default(),
                vec![baseline(168)],
                options,
                &mut |n| told.push(format!("{n:?}")),
            );
            (r, told)
        };
        let (r, told) = run(&mut m, false);
        let e = r.unwrap_err();
        let PublishError::Shrunk(report) = e else {
            panic!("{e}")
        };
        assert!(report.contains("against old.sqlite"), "{report}");
        assert!(m.notes.is_empty() && m.publication.is_empty() && told.is_empty());
        let (r, told) = run(&mut m, true);
        r.unwrap();
        assert!(
            m.notes.iter().any(|n| n.contains("s3 168→0")),
            "{:?}",
            m.notes
        );
        assert_eq!(told.len(), 1, "{told:?}");
        assert!(told[0].starts_with("AcceptedShrink"), "{told:?}");
        assert_eq!(m.publication, publication::id(&m));
    }

    /// `examine` gives the domain check's violations and the facts the
    /// review compares, as each would be computed alone.
    #[test]
    fn examine_checks_the_domain_beside_the_facts() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
        let (manifest, mut services) = crate::snapshot::read_snapshot(&data).unwrap();
        let (bad, facts) = examine(&manifest, &services);
        assert!(bad.is_empty(), "{bad:?}");
        let alone = Facts::of(&manifest, &services);
        assert!(facts.profile == alone.profile && facts.inventory == alone.inventory);
        // Constructed damage: a sentence where an access level belongs.
        services[0].actions[0].access_level = Some("Grants permission to".into());
        let (bad, _) = examine(&manifest, &services);
        assert_eq!(bad, crate::domain::check_services(&services));
        assert_eq!(bad.len(), 1, "{bad:?}");
    }

    #[test]
    fn a_result_that_keeps_enough_is_written_to_both_and_they_pair() {
        // The snapshot in data/, published into a temporary folder, then
        // over itself.
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
        let (mut manifest, services) = crate::snapshot::read_snapshot(&data).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (db, snap) = (dir.path().join("a.sqlite"), dir.path().join("snap"));
        let target = Target {
            database: Some(&db),
            snapshot_dir: Some(&snap),
        };
        let options = Options {
            max_shrink: 10.0,
            accept_shrink: false,
        };
        // Publish over the baselines there are, and say what was told.
        let run = |manifest: &mut Manifest, expect_baselines: usize| {
            let mut told = Vec::new();
            let found = baselines(target, &mut |n| told.push(format!("{n:?}"))).unwrap();
            assert_eq!(found.len(), expect_baselines);
            let facts = Facts::of(manifest, &services);
            publish(
                manifest,
                &services,
                facts,
                target,
                found,
                options,
                &mut |n| told.push(format!("{n:?}")),
            )
            .unwrap();
            told
        };
        let told = run(&mut manifest, 0);
        assert!(told.is_empty(), "{told:?}");
        assert!(matches!(
            publication::pairing(&db, &snap),
            Some(Pairing::One(_))
        ));
        let told = run(&mut manifest, 2);
        assert!(told.is_empty(), "{told:?}");
    }
}
