//! The crawl cache: what each URL looked like last time, the raw bodies of
//! every crawl (content-addressed) and parsed pages keyed by body hash.
//!
//! Layout under the cache folder (`<cache>/crawl/` by default):
//!
//! - `state.jsonl`: one JSON [`Entry`] per line, later lines override earlier
//!   ones. A line is appended as soon as a body is stored, so an interrupted
//!   crawl (Ctrl-C, kill) leaves a usable state and the next run resumes
//!   from it; a torn last line is ignored. Compacted at the end of a crawl.
//! - `objects/<sha256>`: raw response bodies, written atomically.
//! - `parsed/<parser id>/<sha256>.json`: the [`Page`] a body parsed to, so a
//!   re-crawl re-parses nothing unchanged. The parser id is a hash of the
//!   parser's source, so a changed parser never reuses stale results.
//!
//! Nothing damaged is used: an object must hash to its name; a state entry
//! must match its checksum (else the URL is fetched afresh); a parsed page
//! starts with a line naming the parser and body it came from and the hash
//! of the page JSON after it (else the body is parsed again).

use iamref_dataset::model::Page;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What the cache remembers about one URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub etag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_modified: Option<String>,
    /// SHA-256 of the last body received for this URL.
    pub sha256: String,
    /// SHA-256 of the last body of this URL that parsed (HTML pages only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub good: Option<String>,
    /// Checksum of the fields above, set when the entry is recorded: an
    /// entry whose fields were changed (pointed at another object, say) no
    /// longer matches it and is dropped, so the URL is fetched afresh.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub check: Option<String>,
}

impl Entry {
    fn checksum(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            Some(self.url.as_str()),
            self.etag.as_deref(),
            self.last_modified.as_deref(),
            Some(self.sha256.as_str()),
            self.good.as_deref(),
        ] {
            // A tag per field keeps `None` and `""` apart.
            match part {
                Some(p) => {
                    h.update([1u8]);
                    h.update((p.len() as u64).to_le_bytes());
                    h.update(p.as_bytes());
                }
                None => h.update([0u8]),
            }
        }
        hex::encode(&h.finalize()[..16])
    }

    fn is_intact(&self) -> bool {
        is_hex_sha(&self.sha256)
            && self.good.as_deref().is_none_or(is_hex_sha)
            && self.check.as_deref() == Some(self.checksum().as_str())
    }
}

/// First line of a parsed-page file: where the page came from and a hash
/// of the page JSON that follows it.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct ParsedHeader {
    parser: String,
    body: String,
    page_sha256: String,
}

/// Hash of the sources that decide what a page parses to.
fn parser_id() -> String {
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(include_str!("../parse.rs").as_bytes());
    h.update(include_str!("../pipeline.rs").as_bytes());
    hex::encode(&h.finalize()[..8])
}

pub use iamref_dataset::sha256_hex;

pub struct Cache {
    dir: PathBuf,
    parsed_dir: PathBuf,
    entries: Mutex<BTreeMap<String, Entry>>,
    journal: Mutex<std::fs::File>,
}

fn io_err(path: &Path, e: std::io::Error) -> String {
    format!("{}: {e}", path.display())
}

fn is_hex_sha(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Write `bytes` to `path` through a temporary file beside it and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    iamref_dataset::atomic::write(path, bytes, iamref_dataset::atomic::Mode::Public)
        .map_err(|e| e.to_string())
}

impl Cache {
    /// Open (creating if needed) the cache in `dir`.
    pub fn open(dir: &Path) -> Result<Cache, String> {
        let objects = dir.join("objects");
        std::fs::create_dir_all(&objects).map_err(|e| io_err(&objects, e))?;
        let parsed_dir = dir.join("parsed").join(parser_id());
        std::fs::create_dir_all(&parsed_dir).map_err(|e| io_err(&parsed_dir, e))?;
        let state = dir.join("state.jsonl");
        let mut entries = BTreeMap::new();
        match std::fs::read_to_string(&state) {
            Ok(text) => {
                for line in text.lines() {
                    // A torn or foreign line is skipped: the worst outcome
                    // is one unconditional request.
                    if let Ok(e) = serde_json::from_str::<Entry>(line) {
                        if e.is_intact() {
                            entries.insert(e.url.clone(), e);
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&state, e)),
        }
        let journal = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&state)
            .map_err(|e| io_err(&state, e))?;
        Ok(Cache {
            dir: dir.to_path_buf(),
            parsed_dir,
            entries: Mutex::new(entries),
            journal: Mutex::new(journal),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn entry(&self, url: &str) -> Option<Entry> {
        self.entries.lock().ok()?.get(url).cloned()
    }

    /// Record `entry` (in memory and appended to the journal).
    pub fn record(&self, mut entry: Entry) -> Result<(), String> {
        entry.check = Some(entry.checksum());
        let mut line = serde_json::to_string(&entry).map_err(|e| e.to_string())?;
        line.push('\n');
        let state = self.dir.join("state.jsonl");
        if let Ok(mut j) = self.journal.lock() {
            j.write_all(line.as_bytes())
                .map_err(|e| io_err(&state, e))?;
        }
        if let Ok(mut m) = self.entries.lock() {
            m.insert(entry.url.clone(), entry);
        }
        Ok(())
    }

    fn object_path(&self, sha: &str) -> PathBuf {
        self.dir.join("objects").join(sha)
    }

    pub fn has_object(&self, sha: &str) -> bool {
        is_hex_sha(sha) && self.object_path(sha).is_file()
    }

    /// Store a body under its hash; returns the hash.
    pub fn put_object(&self, bytes: &[u8]) -> Result<String, String> {
        let sha = sha256_hex(bytes);
        let p = self.object_path(&sha);
        if !p.is_file() {
            write_atomic(&p, bytes)?;
        }
        Ok(sha)
    }

    /// A stored body, checked against its hash (a damaged object is `None`).
    pub fn get_object(&self, sha: &str) -> Option<Vec<u8>> {
        if !is_hex_sha(sha) {
            return None;
        }
        let bytes = std::fs::read(self.object_path(sha)).ok()?;
        (sha256_hex(&bytes) == sha).then_some(bytes)
    }

    /// Is a parse of the body `sha` cached (by whatever page name)?
    pub fn has_parsed(&self, sha: &str) -> bool {
        is_hex_sha(sha) && self.parsed_path(sha).is_file()
    }

    fn parsed_path(&self, sha: &str) -> PathBuf {
        self.parsed_dir.join(format!("{sha}.json"))
    }

    /// The page `file` parsed to from the body `sha`, if cached.
    pub fn get_parsed(&self, file: &str, sha: &str) -> Option<Page> {
        if !is_hex_sha(sha) {
            return None;
        }
        let bytes = std::fs::read(self.parsed_path(sha)).ok()?;
        let nl = bytes.iter().position(|&b| b == b'\n')?;
        let header: ParsedHeader = serde_json::from_slice(&bytes[..nl]).ok()?;
        let json = &bytes[nl + 1..];
        if header.parser != parser_id()
            || header.body != sha
            || header.page_sha256 != sha256_hex(json)
        {
            return None;
        }
        let page: Page = serde_json::from_slice(json).ok()?;
        (page.file == file && page.sha256 == sha).then_some(page)
    }

    pub fn put_parsed(&self, page: &Page) -> Result<(), String> {
        if !is_hex_sha(&page.sha256) {
            return Ok(());
        }
        let json = serde_json::to_vec(page).map_err(|e| e.to_string())?;
        let header = ParsedHeader {
            parser: parser_id(),
            body: page.sha256.clone(),
            page_sha256: sha256_hex(&json),
        };
        let mut bytes = serde_json::to_vec(&header).map_err(|e| e.to_string())?;
        bytes.push(b'\n');
        bytes.extend_from_slice(&json);
        write_atomic(&self.parsed_path(&page.sha256), &bytes)
    }

    /// Rewrite the journal with one line per URL.
    pub fn compact(&self) -> Result<(), String> {
        let state = self.dir.join("state.jsonl");
        let mut text = String::new();
        if let Ok(m) = self.entries.lock() {
            for e in m.values() {
                text.push_str(&serde_json::to_string(e).map_err(|e| e.to_string())?);
                text.push('\n');
            }
        }
        let j = self.journal.lock();
        write_atomic(&state, text.as_bytes())?;
        // Appends must go to the new file from now on.
        let f = std::fs::OpenOptions::new()
            .append(true)
            .open(&state)
            .map_err(|e| io_err(&state, e))?;
        if let Ok(mut j) = j {
            *j = f;
        }
        Ok(())
    }
}
