//! Embeds the `data/` snapshot into the binary as one deflate-compressed
//! JSON bundle (`{"manifest":…,"services":[…]}`), so that a fresh clone or
//! an installed binary answers questions with no network and no files.

use std::io::Write;
use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let data = manifest_dir.join("..").join("data");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("snapshot.json.gz");
    println!("cargo:rerun-if-changed={}", data.display());
    println!(
        "cargo:rerun-if-changed={}",
        data.join("manifest.json").display()
    );
    println!("cargo:rerun-if-changed={}", data.join("services").display());

    let mut bundle: Vec<u8> = Vec::new();
    let manifest = std::fs::read(data.join("manifest.json")).ok();
    // The manifest alone too, so that reading the snapshot's counts does
    // not mean decompressing and decoding the whole bundle.
    let manifest_out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("manifest.json");
    std::fs::write(&manifest_out, manifest.as_deref().unwrap_or_default())
        .expect("write embedded manifest");
    if let Some(m) = manifest {
        bundle.extend_from_slice(b"{\"manifest\":");
        bundle.extend_from_slice(&m);
        bundle.extend_from_slice(b",\"services\":[");
        let mut files: Vec<PathBuf> = std::fs::read_dir(data.join("services"))
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|x| x == "json"));
        files.sort();
        for (i, f) in files.iter().enumerate() {
            println!("cargo:rerun-if-changed={}", f.display());
            if i > 0 {
                bundle.push(b',');
            }
            bundle.extend_from_slice(&std::fs::read(f).expect("read snapshot file"));
        }
        bundle.extend_from_slice(b"]}");
    }
    // An empty file means: no snapshot was embedded.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    enc.write_all(&bundle).unwrap();
    let gz = if bundle.is_empty() {
        Vec::new()
    } else {
        enc.finish().unwrap()
    };
    // A short content hash names the materialized database in the cache.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in &bundle {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    println!("cargo:rustc-env=IAMREF_SNAPSHOT_ID={h:016x}");
    std::fs::write(&out, gz).expect("write embedded snapshot");
}
