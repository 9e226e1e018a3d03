//! Never publishing less than the truth, tried on the real `iamref` binary
//! as an adversarial user would: half a folder, truncated pages, renamed
//! columns, a cut table of contents or JSON index on the loopback server,
//! huge and endless SQL, and a seeded mutation trial. Every refusal must
//! leave the previous database byte-identical.
//!
//! Inputs are constructed: the fixture pages of `iamref_testkit::server`
//! (`fixture_page`), `scraper/tests/fixtures/classic.html` and
//! `query/tests/fixtures/pages`; none is AWS data.

use crate::support::iamref;
use assert_cmd::Command;
use iamref_testkit::server;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

type Files = Vec<(String, Vec<u8>)>;

/// The constructed pages: 8 generated ones, the classic-layout fixture and
/// the two query fixtures; and JSON documents for the generated ones.
fn inputs() -> (Files, Files) {
    let (mut pages, docs) = server::fixtures(8);
    let root = crate::support::root();
    pages.push((
        "list_amazonexamplestorage.html".into(),
        std::fs::read(root.join("scraper/tests/fixtures/classic.html")).unwrap(),
    ));
    for f in ["list_amazons3.html", "list_sqs.html"] {
        pages.push((
            f.into(),
            std::fs::read(root.join("query/tests/fixtures/pages").join(f)).unwrap(),
        ));
    }
    (pages, docs)
}

fn write_pages(dir: &Path, pages: &[(String, Vec<u8>)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (f, b) in pages {
        std::fs::write(dir.join(f), b).unwrap();
    }
}

fn write_docs(dir: &Path, docs: &[(String, Vec<u8>)]) {
    let index: Vec<String> = docs
        .iter()
        .map(|(p, _)| {
            format!(
                "{{\"service\":\"{p}\",\"url\":\"{}v1/{p}/{p}.json\"}}",
                server::LIVE_SR
            )
        })
        .collect();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("index.json"), format!("[{}]", index.join(","))).unwrap();
    for (p, b) in docs {
        let d = dir.join("v1").join(p);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("{p}.json")), b).unwrap();
    }
}

/// `iamref build` of `html` (and `json`) into `out`.
fn build(cache: &Path, html: &Path, json: Option<&Path>, out: &Path) -> Command {
    let mut c = iamref(cache);
    c.args(["build", "--from-dir"]).arg(html);
    if let Some(j) = json {
        c.arg("--service-reference-dir").arg(j);
    }
    c.arg("--out").arg(out);
    c
}

/// Every fact of a database, as comparable strings.
fn facts(db: &Path) -> BTreeSet<String> {
    let conn = iamref_dataset::db::open_read_only(db).unwrap();
    let mut f = BTreeSet::new();
    for s in iamref_dataset::db::read_services(&conn).unwrap() {
        let p = &s.prefix;
        for a in &s.actions {
            f.insert(format!("action {p}:{}", a.name));
            f.insert(format!(
                "action {p}:{} level {:?} desc {:?}",
                a.name, a.access_level, a.description
            ));
            for r in &a.resource_types {
                f.insert(format!(
                    "action {p}:{} rt {} {} keys {:?} deps {:?}",
                    a.name,
                    r.name,
                    r.required,
                    r.condition_keys.iter().map(|k| &k.name).collect::<Vec<_>>(),
                    r.dependent_actions
                ));
            }
            for k in &a.condition_keys {
                f.insert(format!("action {p}:{} key {}", a.name, k.name));
            }
        }
        for r in &s.resource_types {
            for arn in &r.arns {
                f.insert(format!("rt {p}:{} {}", r.name, arn.arn));
            }
        }
        for k in &s.condition_keys {
            f.insert(format!(
                "key {p} {} {:?} {:?}",
                k.name, k.r#type, k.description
            ));
        }
    }
    f
}

struct Setup {
    tmp: tempfile::TempDir,
    pages: Files,
    docs: Files,
}

impl Setup {
    fn new() -> Setup {
        let (pages, docs) = inputs();
        Setup {
            tmp: tempfile::tempdir().unwrap(),
            pages,
            docs,
        }
    }
    fn cache(&self) -> PathBuf {
        self.tmp.path().join("cache")
    }
    fn dir(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
    /// A folder of the pages, with `change` applied to the named page.
    fn pages_with(&self, name: &str, file: &str, change: impl Fn(&[u8]) -> Vec<u8>) -> PathBuf {
        let d = self.dir(name);
        let _ = std::fs::remove_dir_all(&d);
        let pages: Files = self
            .pages
            .iter()
            .map(|(f, b)| (f.clone(), if f == file { change(b) } else { b.clone() }))
            .collect();
        write_pages(&d, &pages);
        d
    }
    /// The good database (pages and, if `json`, the JSON documents).
    fn good(&self, json: bool) -> (PathBuf, PathBuf, Option<PathBuf>) {
        let html = self.pages_with("html", "", |b| b.to_vec());
        let sr = json.then(|| {
            let d = self.dir("sr");
            write_docs(&d, &self.docs);
            d
        });
        let db = self.dir(if json {
            "good-json.sqlite"
        } else {
            "good.sqlite"
        });
        build(&self.cache(), &html, sr.as_deref(), &db)
            .arg("--quiet")
            .assert()
            .code(0);
        (db, html, sr)
    }
}

#[test]
fn build_refuses_half_a_folder_and_leaves_the_database_alone() {
    let s = Setup::new();
    for json in [false, true] {
        let (db, _, sr) = s.good(json);
        let before = std::fs::read(&db).unwrap();
        let half = s.dir("half");
        let _ = std::fs::remove_dir_all(&half);
        write_pages(&half, &s.pages[..s.pages.len() / 2]);
        let out = build(&s.cache(), &half, sr.as_deref(), &db)
            .assert()
            .code(3)
            .get_output()
            .clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("pages: 5, down from 11"), "{err}");
        assert!(err.contains("HTML actions"), "{err}");
        // the services that lost their pages are named
        assert!(
            err.contains("lost more than half of their HTML actions"),
            "{err}"
        );
        assert!(err.contains("sqs"), "{err}");
        assert!(err.contains("--accept-shrink"), "{err}");
        assert!(
            std::fs::read(&db).unwrap() == before,
            "the database changed"
        );

        // --accept-shrink publishes and says so in the manifest.
        build(&s.cache(), &half, sr.as_deref(), &db)
            .args(["--accept-shrink", "--quiet"])
            .assert()
            .code(0);
        let conn = iamref_dataset::db::open_read_only(&db).unwrap();
        let m = iamref_dataset::db::read_manifest(&conn).unwrap();
        assert!(
            m.notes
                .iter()
                .any(|n| n.contains("accepted shrink") && n.contains("pages: 5, down from 11")),
            "{:?}",
            m.notes
        );
    }
}

#[test]
fn build_guards_the_snapshot_folder_too() {
    let s = Setup::new();
    let html = s.pages_with("html", "", |b| b.to_vec());
    let snap = s.dir("snap");
    iamref(&s.cache())
        .args(["build", "--quiet", "--from-dir"])
        .arg(&html)
        .arg("--snapshot-dir")
        .arg(&snap)
        .assert()
        .code(0);
    let manifest = std::fs::read(snap.join("manifest.json")).unwrap();
    let files = std::fs::read_dir(snap.join("services")).unwrap().count();
    let half = s.dir("half");
    write_pages(&half, &s.pages[..4]);
    iamref(&s.cache())
        .args(["build", "--from-dir"])
        .arg(&half)
        .arg("--snapshot-dir")
        .arg(&snap)
        .assert()
        .code(3)
        .stderr(predicates::str::contains("manifest.json"));
    assert_eq!(std::fs::read(snap.join("manifest.json")).unwrap(), manifest);
    assert_eq!(
        std::fs::read_dir(snap.join("services")).unwrap().count(),
        files
    );
}

/// Cut points across a page: every cut before its end is refused.
fn cuts(len: usize) -> Vec<usize> {
    [5, 20, 35, 50, 65, 80, 95]
        .iter()
        .map(|p| len * p / 100)
        .collect()
}

#[test]
fn truncated_pages_at_several_offsets_never_replace_the_database() {
    let s = Setup::new();
    for json in [false, true] {
        let (db, _, sr) = s.good(json);
        let before = std::fs::read(&db).unwrap();
        for file in [
            "list_amazonexamplestorage.html",
            "list_amazons3.html",
            "list_examplefixture0.html",
        ] {
            let len = s.pages.iter().find(|(f, _)| f == file).unwrap().1.len();
            for cut in cuts(len) {
                let dir = s.pages_with("cut", file, |b| b[..cut].to_vec());
                let out = build(&s.cache(), &dir, sr.as_deref(), &db)
                    .output()
                    .unwrap();
                let code = out.status.code();
                assert!(
                    code == Some(2) || code == Some(3),
                    "{file} cut at {cut}/{len} (json {json}): exit {code:?}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                assert!(
                    std::fs::read(&db).unwrap() == before,
                    "{file} cut at {cut}: the database changed"
                );
                if !json {
                    let err = String::from_utf8_lossy(&out.stderr);
                    assert!(err.contains(file), "{err}");
                }
            }
        }
    }
}

#[test]
fn every_renamed_known_column_is_refused_naming_page_table_and_column() {
    let s = Setup::new();
    let (db, _, _) = s.good(false);
    let before = std::fs::read(&db).unwrap();
    let file = "list_amazonexamplestorage.html";
    for (header, nth, table) in [
        ("Description", 0, "actions"),
        ("Dependent actions", 0, "actions"),
        ("Access level", 0, "actions"),
        ("Condition keys", 0, "actions"),
        ("Resource types (*required)", 0, "actions"),
        ("ARN", 0, "resource types"),
        ("Condition keys", 1, "resource types"),
        ("Type", 0, "condition keys"),
        ("Description", 1, "condition keys"),
    ] {
        let dir = s.pages_with("renamed", file, |b| {
            let html = String::from_utf8(b.to_vec()).unwrap();
            let needle = format!("\n         {header}\n");
            let at = html.match_indices(&needle).nth(nth).unwrap().0;
            format!(
                "{}\n         Something else\n{}",
                &html[..at],
                &html[at + needle.len()..]
            )
            .into_bytes()
        });
        let out = build(&s.cache(), &dir, None, &db)
            .arg("--quiet")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{header}: {err}");
        assert!(err.contains(file), "{header}: {err}");
        assert!(err.contains(&format!("{table} table")), "{header}: {err}");
        assert!(err.contains("\"something else\""), "{header}: {err}");
        assert!(err.contains("renamed column"), "{header}: {err}");
        assert!(std::fs::read(&db).unwrap() == before);
    }
}

/// A crawl of `n` fixture pages and documents from the loopback server.
fn crawl(s: &server::Server, cache: &Path, out: &Path) -> Command {
    let mut c = iamref(cache);
    c.args(["crawl", "--quiet", "--base-url"])
        .arg(s.base_url())
        .arg("--service-reference-url")
        .arg(s.sr_url())
        .arg("--out")
        .arg(out)
        .args(["--retries", "1", "--backoff-ms", "5", "--timeout", "5"]);
    c
}

#[test]
fn crawl_refuses_a_cut_table_of_contents_or_json_index() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let srv = rt.block_on(server::Server::start());
    let (pages, docs) = server::fixtures(30);
    srv.serve_pages(&pages);
    srv.serve_service_reference(&docs, true);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let out = tmp.path().join("crawl.sqlite");
    // The first crawl is smaller than the shipped snapshot: accepted.
    crawl(&srv, &cache, &out)
        .arg("--accept-shrink")
        .assert()
        .code(0);
    let before = std::fs::read(&out).unwrap();
    // The same again: published (nothing shrank).
    crawl(&srv, &cache, &out).assert().code(0);

    // The table of contents cut to 20 entries, the JSON intact: the JSON
    // keeps every prefix and action count, the HTML lost a third.
    let names: Vec<&str> = pages.iter().map(|(f, _)| f.as_str()).collect();
    srv.put_page(server::TOC, server::toc_html(&names[..20]).into_bytes());
    let before = {
        let _ = before;
        std::fs::read(&out).unwrap()
    };
    let o = crawl(&srv, &cache, &out).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("pages: 20, down from 30"), "{err}");
    assert!(
        err.contains("10 service(s) lost more than half of their HTML actions"),
        "{err}"
    );
    assert!(std::fs::read(&out).unwrap() == before);

    // The JSON index cut to half, the pages intact.
    srv.serve_pages(&pages);
    srv.serve_service_reference(&docs[..15], true);
    let o = crawl(&srv, &cache, &out).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("JSON documents: 15, down from 30"), "{err}");
    assert!(
        err.contains("lost more than half of their JSON actions"),
        "{err}"
    );
    assert!(std::fs::read(&out).unwrap() == before);
}

#[cfg(unix)]
#[test]
fn sql_streams_ten_million_rows_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("iamref");
    // 400 MB of address space: the binary, SQLite and one batch of rows fit;
    // holding 10 million rows (~1 GB as strings) would not.
    let script = format!(
        "ulimit -v 400000 && {} sql --timeout 600 \"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL \
         SELECT x + 1 FROM c WHERE x < 10000000) SELECT x, 'row ' || x AS label FROM c\" \
         | tail -n 1",
        bin.display()
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env("IAMREF_CACHE_DIR", tmp.path())
        .env_remove("IAMREF_DB")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "10000000\trow 10000000\n"
    );
}

#[test]
fn sql_timeout_stops_an_endless_query_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    iamref(tmp.path())
        .args([
            "sql",
            "--timeout",
            "1",
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
        ])
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("stopped after --timeout 1 s"));
    // Bounded: well under the test's own timeout even on a loaded machine.
    assert!(started.elapsed() < std::time::Duration::from_secs(100));
    iamref(tmp.path())
        .args(["sql", "--timeout", "-1", "SELECT 1"])
        .assert()
        .code(2);
}

/// A small deterministic generator (xorshift64*), so the trial is the same
/// on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One damaging mutation of a page, as transport faults and layout changes
/// produce them: a cut, a renamed header cell, a table or heading gone.
fn mutate(html: &str, rng: &mut Rng) -> (String, String) {
    let pick = |rng: &mut Rng, pat: &str| -> Option<usize> {
        let all: Vec<usize> = html.match_indices(pat).map(|(i, _)| i).collect();
        (!all.is_empty()).then(|| all[rng.below(all.len())])
    };
    match rng.below(7) {
        0 => {
            let mut cut = 1 + rng.below(html.rfind("</html>").unwrap_or(html.len()) - 1);
            while !html.is_char_boundary(cut) {
                cut -= 1;
            }
            (format!("cut at {cut}"), html[..cut].to_string())
        }
        1 => match pick(rng, "<th>") {
            Some(at) => {
                let end = at + html[at..].find("</th>").unwrap();
                (
                    format!("header cell at {at} renamed"),
                    format!("{}<th>Renamed{}", &html[..at], &html[end..]),
                )
            }
            None => ("unchanged".into(), html.to_string()),
        },
        2 => match pick(rng, "<table") {
            Some(at) => {
                let end = at + html[at..].find("</table>").unwrap() + 8;
                (
                    format!("table at {at} removed"),
                    format!("{}{}", &html[..at], &html[end..]),
                )
            }
            None => ("unchanged".into(), html.to_string()),
        },
        4 => {
            // Two cells of a row swapped under correct headers.
            let rows: Vec<usize> = html.match_indices("<tr").map(|(i, _)| i).collect();
            let with_cells: Vec<(usize, Vec<(usize, usize)>)> = rows
                .into_iter()
                .map(|r| (r, r + html[r..].find("</tr>").unwrap_or(0)))
                .map(|(r, e)| (r, td_spans(&html[r..e])))
                .filter(|(_, c)| c.len() >= 3)
                .collect();
            if with_cells.is_empty() {
                return ("unchanged".into(), html.to_string());
            }
            let (r, c) = &with_cells[rng.below(with_cells.len())];
            let i = rng.below(c.len() - 1);
            let (a, b) = (c[i], c[i + 1]);
            let (a, b) = ((r + a.0, r + a.1), (r + b.0, r + b.1));
            (
                format!("cells {i} and {} of the row at {r} swapped", i + 1),
                format!(
                    "{}{}{}{}{}",
                    &html[..a.0],
                    &html[b.0..b.1],
                    &html[a.1..b.0],
                    &html[a.0..a.1],
                    &html[b.1..]
                ),
            )
        }
        5 => {
            // A value outside its column's domain.
            let (from, to) = [
                ("<td>Read</td>", "<td>Raed</td>"),
                ("<td>Write</td>", "<td>Writ</td>"),
                ("<td>List</td>", "<td>Lisst</td>"),
                (">String<", ">Strin<"),
                (">arn:", ">^arn:"),
                ("thing*</a>", "th<ing*</a>"),
            ][rng.below(6)];
            match pick(rng, from) {
                Some(at) => (
                    format!("{from} at {at} made {to}"),
                    format!("{}{to}{}", &html[..at], &html[at + from.len()..]),
                ),
                None => ("unchanged".into(), html.to_string()),
            }
        }
        6 => {
            // An optional column dropped: the last header cell and the last
            // cell of every row of a table.
            match pick(rng, "<table") {
                Some(at) => {
                    let end = at + html[at..].find("</table>").unwrap();
                    let mut t = html[at..end].to_string();
                    let rows: Vec<usize> = t.match_indices("<tr").map(|(i, _)| i).collect();
                    for r in rows.into_iter().rev() {
                        let e = r + t[r..].find("</tr>").unwrap_or(t.len() - r);
                        let row = &t[r..e];
                        let last = td_spans(row).last().copied().or_else(|| {
                            row.rfind("<th")
                                .map(|i| (i, i + row[i..].find("</th>").map_or(0, |j| j + 5)))
                        });
                        if let Some((a, b)) = last.filter(|(a, b)| b > a) {
                            t.replace_range(r + a..r + b, "");
                        }
                    }
                    (
                        format!("last column of the table at {at} dropped"),
                        format!("{}{t}{}", &html[..at], &html[end..]),
                    )
                }
                None => ("unchanged".into(), html.to_string()),
            }
        }
        _ => match pick(rng, "<h2") {
            Some(at) => {
                let end = at + html[at..].find("</h2>").unwrap() + 5;
                (
                    format!("heading at {at} removed"),
                    format!("{}{}", &html[..at], &html[end..]),
                )
            }
            None => ("unchanged".into(), html.to_string()),
        },
    }
}

/// The `<td …>…</td>` spans of a row (`<td>` cells do not nest here).
fn td_spans(row: &str) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    let mut at = 0;
    while let Some(i) = row[at..].find("<td") {
        let s = at + i;
        let Some(e) = row[s..].find("</td>") else {
            break;
        };
        v.push((s, s + e + 5));
        at = s + e + 5;
    }
    v
}

#[test]
fn seeded_mutation_trial_never_loses_facts_with_exit_0() {
    let mut s = Setup::new();
    // A prefix with two pages (constructed), so that a page of a
    // multi-page prefix can go missing.
    s.pages.push((
        "list_examplefixture0part2.html".into(),
        server::fixture_page("fixture0", &["DescribeThing", "TagThing"]).into_bytes(),
    ));
    let mut rng = Rng(0x1a2b_3c4d_5e6f_7788);
    let mut refused = 0;
    let mut published = 0;
    for json in [false, true] {
        let (db, _, sr) = s.good(json);
        let good = std::fs::read(&db).unwrap();
        let good_facts = facts(&db);
        for round in 0..20 {
            let (file, bytes) = &s.pages[rng.below(s.pages.len())];
            let html = String::from_utf8(bytes.clone()).unwrap();
            let (mut what, damaged) = mutate(&html, &mut rng);
            let dir = s.pages_with("mutated", file, |_| damaged.clone().into_bytes());
            let mut sr_used = sr.clone();
            // Every fourth round: a whole page removed, or (with the JSON)
            // a section dropped from a document.
            if round % 4 == 3 {
                let dir_pages = s.pages_with("mutated", "", |b| b.to_vec());
                if json && round % 8 == 7 {
                    let (prefix, doc) = &s.docs[rng.below(s.docs.len())];
                    let mut v: serde_json::Value = serde_json::from_slice(doc).unwrap();
                    v.as_object_mut().unwrap().remove("Actions");
                    let d = s.dir("sr-mutated");
                    let _ = std::fs::remove_dir_all(&d);
                    let docs: Files = s
                        .docs
                        .iter()
                        .map(|(p, b)| {
                            let b = if p == prefix {
                                serde_json::to_vec(&v).unwrap()
                            } else {
                                b.clone()
                            };
                            (p.clone(), b)
                        })
                        .collect();
                    write_docs(&d, &docs);
                    sr_used = Some(d);
                    what = format!("Actions dropped from {prefix}.json");
                } else {
                    let gone = if rng.below(2) == 0 {
                        "list_examplefixture0part2.html"
                    } else {
                        "list_examplefixture0.html"
                    };
                    std::fs::remove_file(dir_pages.join(gone)).unwrap();
                    what = format!("{gone} removed (a page of a two-page prefix)");
                }
            }
            let target = s.dir("trial.sqlite");
            std::fs::write(&target, &good).unwrap();
            let out = build(&s.cache(), &dir, sr_used.as_deref(), &target)
                .arg("--quiet")
                .output()
                .unwrap();
            match out.status.code() {
                Some(0) => {
                    published += 1;
                    let lost: Vec<String> =
                        good_facts.difference(&facts(&target)).cloned().collect();
                    assert!(
                        lost.is_empty(),
                        "round {round} (json {json}): {file}: {what}: exit 0 but lost {} fact(s): {:#?}",
                        lost.len(),
                        &lost[..lost.len().min(10)]
                    );
                }
                Some(2) | Some(3) => {
                    refused += 1;
                    assert!(std::fs::read(&target).unwrap() == good);
                }
                other => panic!(
                    "round {round}: {file}: {what}: exit {other:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        }
    }
    // The trial did try damage that had to be refused.
    assert!(refused >= 24, "refused {refused}, published {published}");
}

/// The snapshot cache folder: `IAMREF_CACHE_DIR` below a plain file cannot
/// be created, even by root (permission bits would not stop root).
#[test]
fn the_shipped_snapshot_answers_from_an_unwritable_or_missing_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let tmpdir = tmp.path().join("tmp");
    std::fs::create_dir(&tmpdir).unwrap();
    // Cache unwritable: the copy goes to the temporary folder.
    let mut c = Command::cargo_bin("iamref").unwrap();
    c.env("IAMREF_CACHE_DIR", file.join("cache"))
        .env("TMPDIR", &tmpdir)
        .env_remove("IAMREF_DB")
        .args(["check", "s3:GetObject"])
        .assert()
        .code(0)
        .stdout(predicates::str::starts_with("s3:GetObject\tresource-level"));
    assert!(tmpdir.join("iamref").is_dir());
    // Neither writable: answered from memory, with a warning.
    let mut c = Command::cargo_bin("iamref").unwrap();
    c.env("IAMREF_CACHE_DIR", file.join("cache"))
        .env("TMPDIR", file.join("tmp"))
        .env_remove("IAMREF_DB")
        .args(["check", "s3:GetObject"])
        .assert()
        .code(0)
        .stdout(predicates::str::starts_with("s3:GetObject\tresource-level"))
        .stderr(predicates::str::contains("in memory"))
        .stderr(predicates::str::contains("IAMREF_CACHE_DIR"));
}

#[test]
fn a_corrupted_cached_snapshot_is_detected_and_rewritten() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path();
    let ask = || {
        iamref(cache)
            .args(["sql", "SELECT count(*) FROM v_actions WHERE prefix = 's3'"])
            .output()
            .unwrap()
    };
    let good = ask();
    assert!(good.status.success());
    let db = std::fs::read_dir(cache)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "sqlite"))
        .unwrap();
    let len = std::fs::metadata(&db).unwrap().len() as usize;
    // Cut short, header overwritten, emptied: detected before use.
    for damage in ["cut", "header", "empty"] {
        let bytes = std::fs::read(&db).unwrap();
        let damaged = match damage {
            "cut" => bytes[..len / 3].to_vec(),
            "header" => [vec![0u8; 100], bytes[100..].to_vec()].concat(),
            _ => Vec::new(),
        };
        std::fs::write(&db, damaged).unwrap();
        let out = ask();
        assert!(
            out.status.success(),
            "{damage}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, good.stdout, "{damage}");
        assert_eq!(
            std::fs::metadata(&db).unwrap().len() as usize,
            len,
            "{damage}"
        );
    }
    // Garbage in the middle, found by SQLite during the query: exit 2 with
    // a message, and the next run answers from a rewritten copy.
    let mut bytes = std::fs::read(&db).unwrap();
    for b in &mut bytes[len / 2..len / 2 + 200_000] {
        *b = 0xff;
    }
    std::fs::write(&db, &bytes).unwrap();
    let out = iamref(cache)
        .args(["sql", "SELECT count(*) FROM v_actions"])
        .output()
        .unwrap();
    if !out.status.success() {
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("damaged; it was discarded"), "{err}");
    }
    let again = ask();
    assert!(again.status.success());
    assert_eq!(again.stdout, good.stdout);
}

#[cfg(unix)]
#[test]
fn leftover_temp_files_of_killed_runs_are_removed_live_ones_kept() {
    use std::os::fd::AsRawFd;
    let s = Setup::new();
    let html = s.pages_with("html", "", |b| b.to_vec());
    let out_dir = s.dir("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    // What a SIGKILLed build leaves: a half-written temporary database.
    let dead = out_dir.join(".iamref-build-Dead01.sqlite");
    std::fs::write(&dead, b"SQLite format 3\0 half written").unwrap();
    // A run still writing holds a lock on its file.
    let live = out_dir.join(".iamref-build-Live01.sqlite");
    std::fs::write(&live, b"SQLite format 3\0 being written").unwrap();
    let held = std::fs::File::open(&live).unwrap();
    // SAFETY: flock on a descriptor this test owns.
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX) }, 0);
    build(&s.cache(), &html, None, &out_dir.join("db.sqlite"))
        .arg("--quiet")
        .assert()
        .code(0);
    assert!(!dead.exists(), "the killed run's leftover is still there");
    assert!(live.exists(), "a live run's file was removed");
    drop(held);
    let names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn captured_must_be_a_real_date() {
    let s = Setup::new();
    let html = s.pages_with("html", "", |b| b.to_vec());
    let db = s.dir("d.sqlite");
    for bad in ["2026-13-45", "2026-02-30", "yesterday", "2026-6-1"] {
        build(&s.cache(), &html, None, &db)
            .args(["--captured", bad])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("YYYY-MM-DD"));
        assert!(!db.exists());
    }
    iamref(&s.cache())
        .args(["crawl", "--captured", "2026-13-45", "--out"])
        .arg(&db)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no month 13"));
    build(&s.cache(), &html, None, &db)
        .args(["--captured", "2024-02-29", "--quiet"])
        .assert()
        .code(0);
    let conn = iamref_dataset::db::open_read_only(&db).unwrap();
    let m = iamref_dataset::db::read_manifest(&conn).unwrap();
    assert_eq!(m.captured.as_deref(), Some("2024-02-29"));
}

#[test]
fn a_tampered_crawl_cache_is_repaired_never_published() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let srv = rt.block_on(server::Server::start());
    let (pages, docs) = server::fixtures(6);
    srv.serve_pages(&pages);
    srv.serve_service_reference(&docs, true);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let out = tmp.path().join("crawl.sqlite");
    crawl(&srv, &cache, &out)
        .arg("--accept-shrink")
        .assert()
        .code(0);
    let good = facts(&out);
    let crawl_dir = cache.join("crawl");

    // 1. Every parsed page edited to drop its actions but one.
    let mut edited = 0;
    for d in std::fs::read_dir(crawl_dir.join("parsed")).unwrap() {
        for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
            let path = f.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let nl = bytes.iter().position(|&b| b == b'\n').unwrap();
            let mut page: serde_json::Value = serde_json::from_slice(&bytes[nl + 1..]).unwrap();
            page["actions"].as_array_mut().unwrap().truncate(1);
            let mut new = bytes[..=nl].to_vec();
            new.extend(serde_json::to_vec(&page).unwrap());
            std::fs::write(&path, new).unwrap();
            edited += 1;
        }
    }
    assert_eq!(edited, pages.len());
    crawl(&srv, &cache, &out).assert().code(0);
    assert_eq!(facts(&out), good, "published from an edited parse cache");

    // 2. A state entry pointed at another page's object.
    let state_path = crawl_dir.join("state.jsonl");
    let state = std::fs::read_to_string(&state_path).unwrap();
    let mut lines: Vec<serde_json::Value> = state
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let idx = |file: &str| {
        lines
            .iter()
            .position(|e| e["url"].as_str().unwrap().ends_with(file))
            .unwrap()
    };
    let (a, b) = (idx(&pages[0].0), idx(&pages[1].0));
    let other = lines[b]["sha256"].clone();
    lines[a]["sha256"] = other.clone();
    lines[a]["good"] = other;
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&state_path, text).unwrap();
    crawl(&srv, &cache, &out).assert().code(0);
    assert_eq!(
        facts(&out),
        good,
        "published from a state entry naming the wrong object"
    );

    // 3. A stored body damaged in place.
    for f in std::fs::read_dir(crawl_dir.join("objects")).unwrap() {
        let path = f.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    }
    crawl(&srv, &cache, &out).assert().code(0);
    assert_eq!(facts(&out), good, "published from damaged objects");
}

#[test]
fn an_unreadable_previous_database_is_refused_unless_accepted() {
    let s = Setup::new();
    let html = s.pages_with("html", "", |b| b.to_vec());
    let db = s.dir("junk.sqlite");
    std::fs::write(&db, b"this is not a database").unwrap();
    build(&s.cache(), &html, None, &db)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("junk.sqlite"))
        .stderr(predicates::str::contains("--accept-shrink"));
    assert_eq!(std::fs::read(&db).unwrap(), b"this is not a database");
    build(&s.cache(), &html, None, &db)
        .arg("--accept-shrink")
        .assert()
        .code(0)
        .stderr(predicates::str::contains("replacing it unchecked"));
    assert!(!facts(&db).is_empty());
}
