//! The bulk reader behind `export --format policy-sentry` gives the same
//! policy_sentry document as the full model reader, on the shipped data.

use iamref_dataset::{db, export, snapshot};
use std::path::Path;

#[test]
fn bulk_reader_matches_the_model_reader_on_the_shipped_snapshot() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    let (manifest, services) = snapshot::read_snapshot(&data).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    db::write_database(&path, &manifest, &services).unwrap();
    let conn = db::open_read_only(&path).unwrap();
    let full = db::read_services(&conn).unwrap();
    let bulk = export::read_for_policy_sentry(&conn).unwrap();
    assert_eq!(full.len(), bulk.len());
    let (a, la) = export::policy_sentry(&full);
    let (b, lb) = export::policy_sentry(&bulk);
    assert_eq!(la, lb);
    for (k, v) in a.as_object().unwrap() {
        assert!(b[k] == *v, "{k} differs");
    }
    assert_eq!(a, b);
    // And from the snapshot itself (no database in between).
    assert_eq!(export::policy_sentry(&services).0, a);
}
