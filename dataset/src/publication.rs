//! One publication: the database and the snapshot folder that one `build`
//! or `crawl` writes carry the same publication id, so that any reader can
//! tell whether they belong together.
//!
//! They are two files written one after the other (the database first),
//! not one atomic write: a run killed between them leaves the new database
//! beside the previous snapshot. The id makes that state visible
//! ([`pair`]: two different ids), and the next run that writes both
//! repairs it.
//!
//! The id is the sha256 of the manifest's compact JSON with the id left
//! out. The manifest names every input by its hash (pages and JSON
//! documents), the capture date, the source, the iamref version, the
//! counts and the notes (an accepted shrink, carried-over pages); since the
//! same input gives the same output, the same id means the same data. It
//! is computed from the manifest alone (microseconds), not from the
//! services (tens of megabytes to serialize and hash on every build).

use crate::model::Manifest;

/// The publication id of `manifest`: the sha256 (lowercase hex) of its
/// compact JSON without the `publication` field.
pub fn id(manifest: &Manifest) -> String {
    let json = if manifest.publication.is_empty() {
        serde_json::to_vec(manifest)
    } else {
        let mut m = manifest.clone();
        m.publication.clear();
        serde_json::to_vec(&m)
    };
    crate::sha256_hex(&json.expect("a manifest serializes"))
}

/// Set `manifest`'s publication id to [`id`]: the last change to a
/// manifest before it is written.
pub fn stamp(manifest: &mut Manifest) {
    manifest.publication = id(manifest);
}

/// What one side (a database or a snapshot folder) says of its
/// publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stamp {
    /// No id: written before publication ids, or by another tool.
    Missing,
    /// An id that its manifest hashes to.
    Sealed(String),
    /// An id its manifest no longer hashes to: the manifest was changed
    /// after it was published.
    Altered { says: String, hashes_to: String },
}

impl Stamp {
    /// What `manifest` says.
    pub fn of(manifest: &Manifest) -> Stamp {
        if manifest.publication.is_empty() {
            return Stamp::Missing;
        }
        let hashes_to = id(manifest);
        if hashes_to == manifest.publication {
            Stamp::Sealed(hashes_to)
        } else {
            Stamp::Altered {
                says: manifest.publication.clone(),
                hashes_to,
            }
        }
    }
}

impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stamp::Missing => f.write_str("no publication id (written before publication ids)"),
            Stamp::Sealed(id) => write!(f, "publication {id}"),
            Stamp::Altered { says, hashes_to } => write!(
                f,
                "publication {says}, but its manifest hashes to {hashes_to} (changed after it was published)"
            ),
        }
    }
}

/// Whether a database and a snapshot folder are one publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pairing {
    /// Both carry this id, and each manifest hashes to it.
    One(String),
    /// Neither carries an id: nothing tells (data written before
    /// publication ids).
    Unknown,
    /// Not one publication: different ids, one without an id, or a
    /// manifest changed after it was published.
    Apart { database: Stamp, snapshot: Stamp },
}

/// Compare the manifest of a database with a snapshot folder's.
pub fn pair(database: &Manifest, snapshot: &Manifest) -> Pairing {
    let (d, s) = (Stamp::of(database), Stamp::of(snapshot));
    match (&d, &s) {
        (Stamp::Sealed(a), Stamp::Sealed(b)) if a == b => Pairing::One(a.clone()),
        (Stamp::Missing, Stamp::Missing) => Pairing::Unknown,
        _ => Pairing::Apart {
            database: d,
            snapshot: s,
        },
    }
}

/// Whether the database `db` and the snapshot folder `dir` are one
/// publication; `None` when either is absent or unreadable (the guard
/// reads them as baselines and reports that).
pub fn pairing(db: &std::path::Path, dir: &std::path::Path) -> Option<Pairing> {
    if !db.exists() || !dir.join("manifest.json").exists() {
        return None;
    }
    let conn = crate::db::open_read_only(db).ok()?;
    let d = crate::db::read_manifest(&conn).ok()?;
    let s = crate::snapshot::read_manifest(dir).ok()?;
    Some(pair(&d, &s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Counts;

    /// A constructed manifest.
    fn manifest(captured: &str) -> Manifest {
        let mut m = Manifest {
            format: crate::snapshot::FORMAT,
            source: "constructed".into(),
            captured: Some(captured.into()),
            tool_version: "0.1.0".into(),
            counts: Counts {
                pages: 1,
                ..Counts::default()
            },
            ..Manifest::default()
        };
        m.pages.insert("list_x.html".into(), "ab".repeat(32));
        m
    }

    #[test]
    fn the_id_covers_every_field_but_itself() {
        let mut m = manifest("2026-05-10");
        let before = id(&m);
        stamp(&mut m);
        assert_eq!(m.publication, before);
        assert_eq!(id(&m), before, "the id leaves itself out");
        assert_eq!(before.len(), 64);
        let mut noted = m.clone();
        noted.notes.push("accepted a shrink".into());
        assert_ne!(id(&noted), before);
        let mut other_page = m.clone();
        other_page
            .pages
            .insert("list_x.html".into(), "cd".repeat(32));
        assert_ne!(id(&other_page), before);
        assert_ne!(id(&manifest("2026-06-14")), before);
    }

    #[test]
    fn pairs_are_one_apart_or_unknown() {
        let mut a = manifest("2026-05-10");
        let mut b = manifest("2026-06-14");
        assert_eq!(pair(&a, &b), Pairing::Unknown);
        stamp(&mut a);
        assert_eq!(
            pair(&a, &b),
            Pairing::Apart {
                database: Stamp::Sealed(a.publication.clone()),
                snapshot: Stamp::Missing
            }
        );
        stamp(&mut b);
        assert_eq!(pair(&a, &a.clone()), Pairing::One(a.publication.clone()));
        assert!(matches!(pair(&b, &a), Pairing::Apart { .. }));
        // A manifest edited after publication no longer hashes to its id.
        let mut edited = a.clone();
        edited.captured = Some("2026-05-11".into());
        match pair(&a, &edited) {
            Pairing::Apart {
                snapshot: Stamp::Altered { says, hashes_to },
                ..
            } => {
                assert_eq!(says, a.publication);
                assert_eq!(hashes_to, id(&edited));
            }
            p => panic!("{p:?}"),
        }
    }

    #[test]
    fn the_id_survives_the_database_and_the_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = manifest("2026-06-14");
        m.pages.clear();
        m.counts = Counts::default();
        stamp(&mut m);
        let db = dir.path().join("t.sqlite");
        crate::db::write_database(&db, &m, &[]).unwrap();
        let conn = crate::db::open_read_only(&db).unwrap();
        let from_db = crate::db::read_manifest(&conn).unwrap();
        let snap = dir.path().join("data");
        crate::snapshot::write_snapshot(&snap, &m, &[]).unwrap();
        let from_snapshot = crate::snapshot::read_manifest(&snap).unwrap();
        assert_eq!(
            pair(&from_db, &from_snapshot),
            Pairing::One(m.publication.clone())
        );
        let text = std::fs::read_to_string(snap.join("manifest.json")).unwrap();
        assert!(
            text.contains(&format!("\"publication\": \"{}\"", m.publication)),
            "{text}"
        );
    }
}
