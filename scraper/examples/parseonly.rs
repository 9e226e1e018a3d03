use std::time::Instant;
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let pages = iamref_scraper::pipeline::read_pages_dir(std::path::Path::new(&dir)).unwrap();
    let t = Instant::now();
    let mut n = 0;
    for p in &pages {
        let d = scraper::Html::parse_document(std::str::from_utf8(&p.bytes).unwrap());
        n += d.tree.nodes().count();
    }
    println!("html5ever only, 1 thread: {:?} nodes {n}", t.elapsed());
    let t = Instant::now();
    for p in &pages {
        let _ = iamref_scraper::pipeline::parse_source(p);
    }
    println!("full parse, 1 thread: {:?}", t.elapsed());
}
