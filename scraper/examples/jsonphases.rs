//! Times the phases of a build with the JSON service reference:
//! `cargo run --release -p iamref-scraper --example jsonphases -- HTML_DIR JSON_DIR`.
use std::path::Path;
use std::time::Instant;
fn main() {
    let mut args = std::env::args().skip(1);
    let (html, json) = match (args.next(), args.next()) {
        (Some(h), Some(j)) => (h, j),
        _ => {
            eprintln!("usage: jsonphases HTML_DIR JSON_DIR");
            std::process::exit(2);
        }
    };
    use iamref_scraper::pipeline;
    let t = Instant::now();
    let pages = pipeline::read_pages_dir(Path::new(&html)).expect("pages");
    let parsed = pipeline::collect_pages(pipeline::parse_all(&pages, &|| {})).expect("parse");
    let t1 = t.elapsed();
    // JSON_DIR `-`: no JSON, to compare.
    let docs = if json == "-" {
        Vec::new()
    } else {
        pipeline::read_service_reference_dir(Path::new(&json)).expect("docs")
    };
    let t2 = t.elapsed();
    let parsed_docs = pipeline::parse_json_docs(&docs).expect("json");
    let t3 = t.elapsed();
    let a = pipeline::assemble_docs(parsed, parsed_docs, "x", None);
    let t4 = t.elapsed();
    let out = std::env::temp_dir().join("jsonphases.sqlite");
    iamref_dataset::db::write_database(&out, &a.manifest, &a.services).expect("write");
    let t5 = t.elapsed();
    println!(
        "html read+parse {t1:?}, json read {:?}, json parse {:?}, merge+reconcile {:?}, sqlite {:?}",
        t2 - t1,
        t3 - t2,
        t4 - t3,
        t5 - t4
    );
}
