use std::time::Instant;
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let t = Instant::now();
    let pages = iamref_scraper::pipeline::read_pages_dir(std::path::Path::new(&dir)).unwrap();
    let t1 = t.elapsed();
    let res = iamref_scraper::pipeline::parse_all(&pages, &|| {});
    let t2 = t.elapsed();
    let mut ok = vec![];
    for r in res {
        match r {
            Ok(p) => ok.push(p),
            Err(e) => println!("ERR {e}"),
        }
    }
    let a = iamref_scraper::pipeline::assemble(ok, &dir, None);
    let t3 = t.elapsed();
    println!(
        "{:?} read {:?} parse {:?} assemble {:?}",
        a.manifest.counts, t1, t2, t3
    );
    for w in a.warnings.iter().take(40) {
        println!("W {w}");
    }
    println!("{} warnings", a.warnings.len());
    iamref_dataset::db::write_database(
        std::path::Path::new("/tmp/q.sqlite"),
        &a.manifest,
        &a.services,
    )
    .unwrap();
    println!("db {:?}", t.elapsed());
}
