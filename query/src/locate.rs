//! Which database to read: `--db`, else `$IAMREF_DB`, else the snapshot
//! embedded in the binary, materialized once into the user's cache.

use anyhow::{bail, Context, Result};
use iamref_dataset::snapshot::Bundle;
use iamref_dataset::Manifest;
use std::io::Read;
use std::path::PathBuf;

static EMBEDDED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/snapshot.json.gz"));
static EMBEDDED_MANIFEST: &str = include_str!(concat!(env!("OUT_DIR"), "/manifest.json"));
const SNAPSHOT_ID: &str = env!("IAMREF_SNAPSHOT_ID");

/// The embedded snapshot's manifest (cheap: no decompression), if any.
pub fn embedded_manifest() -> Result<Option<Manifest>> {
    if EMBEDDED_MANIFEST.is_empty() {
        return Ok(None);
    }
    serde_json::from_str(EMBEDDED_MANIFEST)
        .map(Some)
        .context("decoding the embedded snapshot's manifest")
}

/// Decompress and decode the embedded snapshot.
pub fn embedded_bundle() -> Result<Bundle> {
    if EMBEDDED.is_empty() {
        bail!("this iamref was built without a snapshot in data/; build a database with `iamref build --from-dir DIR --out FILE` and pass it with --db");
    }
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(EMBEDDED)
        .read_to_end(&mut json)
        .context("decompressing the embedded snapshot")?;
    let mut bundle: Bundle =
        serde_json::from_slice(&json).context("decoding the embedded snapshot")?;
    iamref_dataset::snapshot::fill_page_hashes(&bundle.manifest, &mut bundle.services);
    Ok(bundle)
}

/// iamref's cache folder: `$IAMREF_CACHE_DIR`, else the user's cache
/// folder (`~/.cache/iamref` on Linux).
pub fn cache_dir() -> PathBuf {
    match std::env::var_os("IAMREF_CACHE_DIR") {
        Some(d) => PathBuf::from(d),
        None => directories::ProjectDirs::from("", "", "iamref")
            .map(|d| d.cache_dir().to_path_buf())
            .unwrap_or_else(|| std::env::temp_dir().join("iamref")),
    }
}

/// Where the embedded snapshot is materialized.
pub fn cache_path() -> Result<PathBuf> {
    Ok(cache_dir().join(format!(
        "snapshot-{}-{SNAPSHOT_ID}.sqlite",
        env!("CARGO_PKG_VERSION")
    )))
}

/// The database to query: an explicit path, or the materialized snapshot.
pub fn resolve(db: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(p) = db {
        return Ok(p);
    }
    let path = cache_path()?;
    if !path.exists() {
        let bundle = embedded_bundle()?;
        iamref_dataset::db::write_database(&path, &bundle.manifest, &bundle.services)
            .with_context(|| format!("writing the snapshot database to {}", path.display()))?;
    }
    Ok(path)
}
