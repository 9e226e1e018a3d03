//! Which database to read: `--db`, else `$IAMREF_DB`, else the snapshot
//! embedded in the binary, materialized once into the user's cache and
//! sealed (`iamref_dataset::db::sealed`: rewritten when damaged).

use anyhow::{bail, Context, Result};
use iamref_dataset::db::sealed::{self, SealError};
use iamref_dataset::snapshot::Bundle;
use iamref_dataset::Manifest;
use std::io::Read;
use std::path::{Path, PathBuf};

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

/// The embedded snapshot, or `None` if this binary was built without one.
pub fn embedded_bundle_opt() -> Result<Option<Bundle>> {
    if EMBEDDED.is_empty() {
        return Ok(None);
    }
    embedded_bundle().map(Some)
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
    Ok(cache_dir().join(snapshot_file_name()))
}

fn snapshot_file_name() -> String {
    format!(
        "snapshot-{}-{SNAPSHOT_ID}.sqlite",
        env!("CARGO_PKG_VERSION")
    )
}

/// Write the embedded snapshot at `path` (atomically) and seal it
/// (`iamref_dataset::db::sealed`).
fn materialize(path: &Path) -> Result<()> {
    let bundle = embedded_bundle()?;
    sealed::write(path, &bundle.manifest, &bundle.services).map_err(|e| match e {
        SealError::Database { path, source } => anyhow::Error::from(source).context(format!(
            "writing the snapshot database to {}",
            path.display()
        )),
        SealError::Metadata { source } => source.into(),
        SealError::Seal { path, source } => {
            anyhow::Error::from(source).context(format!("writing {}", path.display()))
        }
    })
}

/// The materialized snapshot in `dir`, written (or rewritten, if damaged)
/// as needed.
fn snapshot_in(dir: &Path) -> Result<(PathBuf, Option<iamref_dataset::db::Connection>)> {
    let path = dir.join(snapshot_file_name());
    // An intact copy comes with the connection that checked it.
    match sealed::open_intact(&path) {
        Some(conn) => Ok((path, Some(conn))),
        None => {
            materialize(&path)?;
            Ok((path, None))
        }
    }
}

/// Where the snapshot goes when the cache folder cannot be written.
fn fallback_dir() -> PathBuf {
    std::env::temp_dir().join("iamref")
}

/// The database to query: an explicit path, or the materialized snapshot:
/// in the cache folder, else (not writable) in the system's temporary
/// folder. A damaged copy (cut short, overwritten, unsealed) is rewritten.
pub fn resolve(db: Option<PathBuf>) -> Result<PathBuf> {
    resolve_open(db).map(|(p, _)| p)
}

/// [`resolve`], with the connection that found a cached copy intact.
fn resolve_open(db: Option<PathBuf>) -> Result<(PathBuf, Option<iamref_dataset::db::Connection>)> {
    if let Some(p) = db {
        return Ok((p, None));
    }
    let cache = cache_dir();
    match snapshot_in(&cache) {
        Ok(p) => Ok(p),
        Err(first) => snapshot_in(&fallback_dir()).with_context(|| {
            format!(
                "{first:#}; and in {} too. Set IAMREF_CACHE_DIR to a writable folder, or pass --db FILE",
                fallback_dir().display()
            )
        }),
    }
}

/// An open, read-only connection to the database to query: as
/// [`resolve`], and if no folder can be written at all, the snapshot built
/// in memory (slower to start, with a warning).
pub fn connect(db: Option<PathBuf>, quiet: bool) -> Result<iamref_dataset::db::Connection> {
    let explicit = db.is_some();
    match resolve_open(db) {
        Ok((_, Some(conn))) => Ok(conn),
        // The cached snapshot is iamref's own file, only ever replaced
        // by a rename: safe to map. A --db file may be rewritten in place
        // by anything: plain reads, so damage is an error, not SIGBUS.
        Ok((p, None)) => open(&p, !explicit),
        Err(e) if !explicit && !EMBEDDED.is_empty() => {
            if !quiet {
                crate::diag::warning(format_args!(
                    "{e:#}; answering from a copy of the snapshot in memory"
                ));
            }
            let bundle = embedded_bundle()?;
            Ok(iamref_dataset::db::write_in_memory(
                &bundle.manifest,
                &bundle.services,
            )?)
        }
        Err(e) => Err(e),
    }
}

/// The database at `path`, read-only (`mapped`: memory-mapped reads);
/// none there is bad input, with how to build one.
pub fn open(path: &Path, mapped: bool) -> Result<iamref_dataset::db::Connection> {
    let opened = if mapped {
        iamref_dataset::db::open_read_only_mapped(path)
    } else {
        iamref_dataset::db::open_read_only(path)
    };
    opened.map_err(|e| match e {
        iamref_dataset::Error::NoDatabase(_) => crate::exit::input(format!(
            "{e}; build one with `iamref build --from-dir DIR --out FILE` or drop --db to use the shipped snapshot"
        )),
        e => e.into(),
    })
}

/// Did this error come from a damaged SQLite file? (By its code, or by
/// SQLite's message where a command kept only the text.)
pub fn is_corruption(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        let text = c.to_string();
        if text.contains("database disk image is malformed")
            || text.contains("file is not a database")
        {
            return true;
        }
        iamref_dataset::db::is_corruption(c)
    })
}

/// Unseal the materialized snapshot (in the cache and the fallback
/// folder), so that the next run rewrites it from the binary.
pub fn discard_snapshot() {
    for dir in [cache_dir(), fallback_dir()] {
        sealed::unseal(&dir.join(snapshot_file_name()));
    }
}
