//! `iamref crawl` end to end: the real binary against the loopback server
//! (127.0.0.1) from `iamref_testkit::server`, checking exit codes and that
//! refused crawls leave the previous database byte-identical.

use crate::support::iamref;
use assert_cmd::Command;
use iamref_testkit::server::{self, Fault, Server, HTML};
use std::path::Path;

/// `iamref crawl` pointed at the server, with quick retries.
fn crawl_cmd(s: &Server, cache: &Path, out: &Path) -> Command {
    let mut c = iamref(cache);
    c.args(["crawl", "--base-url"])
        .arg(s.base_url())
        .arg("--service-reference-url")
        .arg(s.sr_url())
        .arg("--out")
        .arg(out)
        .args(["--retries", "2", "--backoff-ms", "5", "--timeout", "5"]);
    c
}

fn services(db: &Path) -> Vec<iamref_dataset::Service> {
    let conn = iamref_dataset::db::open_read_only(db).unwrap();
    iamref_dataset::db::read_services(&conn).unwrap()
}

fn start(n: usize) -> (tokio::runtime::Runtime, Server, Vec<(String, Vec<u8>)>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (pages, docs, _) = server::inputs(n);
    let s = rt.block_on(Server::start());
    s.serve_pages(&pages);
    s.serve_service_reference(&docs, true);
    (rt, s, pages)
}

#[test]
fn crawl_publishes_only_what_passes_the_shrink_guard() {
    let (_rt, s, pages) = start(8);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let out = tmp.path().join("crawl.sqlite");

    // A handful of pages against the shipped snapshot: refused, exit 3.
    crawl_cmd(&s, &cache, &out)
        .assert()
        .code(3)
        .stderr(predicates::str::contains("--accept-shrink"));
    assert!(!out.exists());

    // Accepted, with the snapshot and the raw pages saved.
    let snap = tmp.path().join("snap");
    let saved = tmp.path().join("saved");
    crawl_cmd(&s, &cache, &out)
        .arg("--accept-shrink")
        .arg("--snapshot-dir")
        .arg(&snap)
        .arg("--save-pages")
        .arg(&saved)
        .assert()
        .code(0);
    assert!(snap.join("manifest.json").is_file());
    assert!(saved.join("service-reference/index.json").is_file());
    let crawled = services(&out);
    assert!(!crawled.is_empty());

    // `iamref build` on the saved pages and JSON: the same services.
    let built = tmp.path().join("built.sqlite");
    iamref(&cache)
        .args(["build", "--from-dir"])
        .arg(saved.join("sar-html"))
        .arg("--service-reference-dir")
        .arg(saved.join("service-reference"))
        .arg("--out")
        .arg(&built)
        .arg("--quiet")
        .assert()
        .code(0);
    assert_eq!(services(&built), crawled);
    assert_eq!(
        std::fs::read_dir(saved.join("sar-html")).unwrap().count(),
        pages.len() + 1
    );

    // A previous full database (the shipped snapshot) is not replaced by
    // a crawl that lost most of it; the file stays byte-identical.
    let full = tmp.path().join("full.sqlite");
    iamref(&cache)
        .args(["export", "--format", "sqlite"])
        .arg(&full)
        .assert()
        .code(0);
    let before = std::fs::read(&full).unwrap();
    crawl_cmd(&s, &cache, &full)
        .arg("--quiet")
        .assert()
        .code(3)
        .stderr(predicates::str::contains("down from"));
    assert!(std::fs::read(&full).unwrap() == before);
}

#[test]
fn failed_pages_exit_3_and_leave_the_database_alone() {
    let (_rt, s, pages) = start(5);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let out = tmp.path().join("crawl.sqlite");
    crawl_cmd(&s, &cache, &out)
        .arg("--accept-shrink")
        .assert()
        .code(0);
    let before = std::fs::read(&out).unwrap();

    let bad = format!("{HTML}{}", pages[0].0);
    s.fault(&bad, Fault::Status(500), None);
    crawl_cmd(&s, &cache, &out)
        .arg("--accept-shrink")
        .assert()
        .code(3)
        .stderr(predicates::str::contains(s.url(&bad)))
        .stderr(predicates::str::contains("HTTP 500"))
        .stderr(predicates::str::contains("--allow-partial"));
    assert!(std::fs::read(&out).unwrap() == before);

    // --allow-partial: published, marked partial, the page named.
    crawl_cmd(&s, &cache, &out)
        .args(["--accept-shrink", "--allow-partial"])
        .assert()
        .code(0);
    let conn = iamref_dataset::db::open_read_only(&out).unwrap();
    let m = iamref_dataset::db::read_manifest(&conn).unwrap();
    assert!(m.partial);
    assert!(
        m.notes.iter().any(|n| n.contains(&pages[0].0)),
        "{:?}",
        m.notes
    );
}

#[test]
fn bad_arguments_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("x.sqlite");
    iamref(tmp.path())
        .args(["crawl", "--base-url", "ftp://example.invalid/", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("http:// or https://"));
    iamref(tmp.path())
        .args(["crawl", "--concurrency", "0"])
        .assert()
        .code(2);
    assert!(!out.exists());
}
