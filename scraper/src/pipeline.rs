//! From page bytes to services: parse every page (in parallel), refuse to
//! go on if any page is unreadable, merge the rest per prefix; [`build`]:
//! the whole run of `iamref build` over saved folders.

pub mod build;

use crate::parse::{parse_page, ParseError};
use crate::service_reference::{self, JsonError};
use iamref_dataset::json_doc::JsonDocument;
use iamref_dataset::model::*;
use iamref_dataset::{merge, reconcile, snapshot};
use rayon::prelude::*;
use std::path::Path;

/// One page's raw bytes and file name.
#[derive(Debug, Clone)]
pub struct PageSource {
    pub file: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("{dir}: no service pages (list_*.html) found")]
    NoPages { dir: String },
    #[error("{} page(s) could not be parsed:\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Parse(Vec<ParseError>),
    /// Pages holding values outside their column's domain: damage, refused
    /// whatever another source says ([`keep_pages`]).
    #[error("{} page(s) hold values outside their column's domain:\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Damaged(Vec<ParseError>),
    #[error("{dir}: no service reference documents (v1/PREFIX/PREFIX.json) found")]
    NoDocuments { dir: String },
    #[error("{dir}: index.json lists {} service(s) with no document: {}", .missing.len(), .missing.join(", "))]
    MissingDocuments { dir: String, missing: Vec<String> },
    #[error("{} service reference document(s) could not be read:\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Json(Vec<JsonError>),
}

/// A file's bytes, at most `cap + 1` of them (memory stays bounded; a file
/// over `cap` is refused by whoever reads the bytes, naming it).
fn read_capped(p: &Path, cap: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(p)?
        .take(cap as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Read every `list_*.html` in `dir`, sorted by name.
pub fn read_pages_dir(dir: &Path) -> Result<Vec<PageSource>, PipelineError> {
    let rd = std::fs::read_dir(dir).map_err(|e| PipelineError::Io(dir.display().to_string(), e))?;
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with("list_") && n.ends_with(".html"))
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(PipelineError::NoPages {
            dir: dir.display().to_string(),
        });
    }
    names
        .into_par_iter()
        .map(|file| {
            let p = dir.join(&file);
            let bytes = read_capped(&p, iamref_dataset::domain::MAX_PAGE_BYTES)
                .map_err(|e| PipelineError::Io(p.display().to_string(), e))?;
            Ok(PageSource { file, bytes })
        })
        .collect()
}

/// Read a folder laid out like the service reference: `DIR/v1/PREFIX/PREFIX.json`
/// for every prefix, and optionally `DIR/index.json`. Returns
/// `(prefix, bytes)` pairs sorted by prefix. When the index is there, every
/// service it lists must have its document (a partial copy is refused).
pub fn read_service_reference_dir(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, PipelineError> {
    let io = |p: &Path, e| PipelineError::Io(p.display().to_string(), e);
    let v1 = dir.join("v1");
    let mut prefixes: Vec<String> = match std::fs::read_dir(&v1) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.') && v1.join(n).join(format!("{n}.json")).is_file())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io(&v1, e)),
    };
    prefixes.sort();
    if prefixes.is_empty() {
        return Err(PipelineError::NoDocuments {
            dir: dir.display().to_string(),
        });
    }
    let index_path = dir.join("index.json");
    match std::fs::read(&index_path) {
        Ok(bytes) => {
            let index = service_reference::parse_index(&bytes).map_err(|e| {
                PipelineError::Json(vec![JsonError {
                    document: index_path.display().to_string(),
                    message: e.message,
                }])
            })?;
            let missing: Vec<String> = index
                .into_iter()
                .map(|e| e.service)
                .filter(|s| prefixes.binary_search(s).is_err())
                .collect();
            if !missing.is_empty() {
                return Err(PipelineError::MissingDocuments {
                    dir: dir.display().to_string(),
                    missing,
                });
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&index_path, e)),
    }
    prefixes
        .into_par_iter()
        .map(|prefix| {
            let p = v1.join(&prefix).join(format!("{prefix}.json"));
            let bytes = read_capped(&p, iamref_dataset::domain::MAX_DOCUMENT_BYTES)
                .map_err(|e| io(&p, e))?;
            Ok((prefix, bytes))
        })
        .collect()
}

/// Parse service reference documents in parallel; any unreadable document
/// fails with every error listed. Documents come back in input order.
pub fn parse_json_docs(docs: &[(String, Vec<u8>)]) -> Result<Vec<JsonDocument>, PipelineError> {
    let results: Vec<Result<JsonDocument, JsonError>> = docs
        .par_iter()
        .map(|(prefix, bytes)| service_reference::parse_document(prefix, bytes))
        .collect();
    all_or_errors(results).map_err(PipelineError::Json)
}

/// Parse one page's bytes (which must be UTF-8).
pub fn parse_source(src: &PageSource) -> Result<Page, ParseError> {
    if src.bytes.len() > iamref_dataset::domain::MAX_PAGE_BYTES {
        return Err(ParseError(Warning {
            page: src.file.clone(),
            table: None,
            row: None,
            message: format!(
                "{} bytes, over the {} MiB a reference page may have (the largest real page is 2.2 MB)",
                src.bytes.len(),
                iamref_dataset::domain::MAX_PAGE_BYTES >> 20
            ),
        }));
    }
    let text = std::str::from_utf8(&src.bytes).map_err(|e| {
        ParseError(Warning {
            page: src.file.clone(),
            table: None,
            row: None,
            message: format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ),
        })
    })?;
    if let Some(target) = crate::parse::redirect_stub(text) {
        // A saved redirect: no service data, a note, the page skipped (an
        // empty page gives no service).
        return Ok(Page {
            file: src.file.clone(),
            service_name: String::new(),
            prefix: String::new(),
            url: None,
            sha256: iamref_dataset::sha256_hex(&src.bytes),
            layout: Layout::Classic,
            actions: Vec::new(),
            resource_types: Vec::new(),
            condition_keys: Vec::new(),
            operations: Vec::new(),
            warnings: vec![Warning {
                page: src.file.clone(),
                table: None,
                row: None,
                message: format!(
                    "a saved HTTP redirect (to {:?}), not a reference page; skipped",
                    target
                ),
            }],
        });
    }
    parse_page(&src.file, text)
}

/// Parse all pages in parallel; `tick` is called once per page (for a
/// progress bar). Pages come back in input order.
pub fn parse_all(pages: &[PageSource], tick: &(dyn Fn() + Sync)) -> Vec<Result<Page, ParseError>> {
    pages
        .par_iter()
        .map(|p| {
            let r = parse_source(p);
            tick();
            r
        })
        .collect()
}

/// What a build produces before it is written anywhere.
#[derive(Debug)]
pub struct Assembled {
    pub manifest: Manifest,
    pub services: Vec<Service>,
    pub warnings: Vec<Warning>,
}

/// Merge parsed pages into services and describe them in a manifest.
/// Pages without any table (retired stubs) give a warning, not a service.
pub fn assemble(pages: Vec<Page>, source: &str, captured: Option<String>) -> Assembled {
    assemble_docs(pages, Vec::new(), source, captured)
}

/// [`assemble`] with AWS's JSON service reference as a second source:
/// `json_docs` are `(prefix, document bytes)` pairs as fetched from
/// `v1/PREFIX/PREFIX.json` (or read by [`read_service_reference_dir`]). The
/// documents are parsed in parallel and reconciled with the pages (see
/// `iamref_dataset::reconcile`); a prefix without pages becomes a JSON-only
/// service. Any unreadable document fails the whole call.
pub fn assemble_with_json(
    pages: Vec<Page>,
    json_docs: Vec<(String, Vec<u8>)>,
    source: &str,
    captured: Option<String>,
) -> Result<Assembled, PipelineError> {
    let docs = parse_json_docs(&json_docs)?;
    drop(json_docs);
    Ok(assemble_docs(pages, docs, source, captured))
}

/// [`assemble_with_json`] with documents already parsed.
pub fn assemble_docs(
    pages: Vec<Page>,
    docs: Vec<JsonDocument>,
    source: &str,
    captured: Option<String>,
) -> Assembled {
    let json_documents: std::collections::BTreeMap<String, String> = docs
        .iter()
        .map(|d| (d.prefix.clone(), d.sha256.clone()))
        .collect();
    let mut warnings = Vec::new();
    let mut page_hashes = std::collections::BTreeMap::new();
    let mut kept = Vec::new();
    for mut p in pages {
        warnings.append(&mut p.warnings);
        page_hashes.insert(p.file.clone(), p.sha256.clone());
        let empty = p.actions.is_empty()
            && p.resource_types.is_empty()
            && p.condition_keys.is_empty()
            && p.operations.is_empty();
        if !empty {
            kept.push(p);
        }
    }
    let mut services = merge::merge_pages(kept);
    if !docs.is_empty() {
        services = reconcile::reconcile(services, docs);
    }
    // Resource types an action names that its prefix does not define.
    for s in &services {
        for a in &s.actions {
            for r in a
                .resource_types
                .iter()
                .chain(a.scenarios.iter().flat_map(|x| x.resource_types.iter()))
            {
                if !s
                    .resource_types
                    .iter()
                    .any(|t| t.name.eq_ignore_ascii_case(&r.name))
                {
                    warnings.push(Warning {
                        page: a
                            .pages
                            .first()
                            .cloned()
                            .unwrap_or_else(|| service_reference::document_name(&s.prefix)),
                        table: Some("actions".into()),
                        row: None,
                        message: format!(
                            "{}:{} names resource type {:?}, which {} does not define",
                            s.prefix, a.name, r.name, s.prefix
                        ),
                    });
                }
            }
        }
    }
    // Condition keys a row names that no table of the prefix defines
    // (global `aws:` keys are defined by IAM, not by the service's table).
    for s in &services {
        let defined: std::collections::HashSet<String> = s
            .condition_keys
            .iter()
            .map(|k| k.name.to_ascii_lowercase())
            .collect();
        let mut seen = std::collections::HashSet::new();
        let named = s
            .actions
            .iter()
            .flat_map(|a| {
                let rows = a
                    .resource_types
                    .iter()
                    .chain(a.scenarios.iter().flat_map(|x| x.resource_types.iter()));
                a.condition_keys
                    .iter()
                    .chain(rows.flat_map(|r| r.condition_keys.iter()))
                    .map(move |k| (k, a.pages.first(), "actions", format!("action {}", a.name)))
            })
            .chain(s.resource_types.iter().flat_map(|r| {
                r.condition_keys.iter().map(move |k| {
                    (
                        k,
                        r.pages.first(),
                        "resource types",
                        format!("resource type {}", r.name),
                    )
                })
            }));
        for (k, page, table, row) in named {
            let lower = k.name.to_ascii_lowercase();
            if lower.starts_with("aws:") || defined.contains(&lower) || !seen.insert(lower) {
                continue;
            }
            // Named by the page, or by the JSON document alone.
            let page = page.filter(|_| k.sources.has_html());
            warnings.push(Warning {
                page: page
                    .cloned()
                    .unwrap_or_else(|| service_reference::document_name(&s.prefix)),
                table: Some(if page.is_some() { table } else { "Actions" }.into()),
                row: None,
                message: format!(
                    "{row} names condition key {:?}, which no condition keys table of {} defines",
                    k.name, s.prefix
                ),
            });
        }
    }
    warnings.sort();
    warnings.dedup();
    let manifest = Manifest {
        format: snapshot::FORMAT,
        source: source.to_string(),
        captured,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        publication: String::new(),
        partial: false,
        counts: snapshot::count(&services),
        pages: page_hashes,
        json_documents,
        notes: Vec::new(),
    };
    Assembled {
        manifest,
        services,
        warnings,
    }
}

/// Split parse results into pages and errors; any error fails the build.
pub fn collect_pages(results: Vec<Result<Page, ParseError>>) -> Result<Vec<Page>, PipelineError> {
    all_or_errors(results).map_err(PipelineError::Parse)
}

/// The rule of an unreadable page: what a build keeps of its parse
/// results. A page holding values outside their column's domain is damage,
/// refused whatever the other source says ([`PipelineError::Damaged`]).
/// With the JSON service reference as a second source (`with_json`), any
/// other unreadable page is a warning: its prefix is covered by the JSON
/// alone (and the publication guard names the page if the data being
/// replaced had it). Without it, an unreadable page fails the build
/// ([`PipelineError::Parse`]).
pub fn keep_pages(
    results: Vec<Result<Page, ParseError>>,
    with_json: bool,
) -> Result<(Vec<Page>, Vec<Warning>), PipelineError> {
    let damaged: Vec<ParseError> = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .filter(|e| e.is_out_of_domain())
        .cloned()
        .collect();
    if !damaged.is_empty() {
        return Err(PipelineError::Damaged(damaged));
    }
    if !with_json {
        return collect_pages(results).map(|pages| (pages, Vec::new()));
    }
    let mut pages = Vec::with_capacity(results.len());
    let mut warnings = Vec::new();
    for r in results {
        match r {
            Ok(p) => pages.push(p),
            Err(e) => {
                let mut w = e.0;
                w.message = format!(
                    "{}; page skipped, its prefix comes from the JSON service reference only",
                    w.message
                );
                warnings.push(w);
            }
        }
    }
    Ok((pages, warnings))
}

/// Every value, in order, or every error if there is any.
fn all_or_errors<T, E>(results: Vec<Result<T, E>>) -> Result<Vec<T>, Vec<E>> {
    let mut ok = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(v) => ok.push(v),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(ok)
    } else {
        Err(errors)
    }
}

/// A capture date taken from a folder name like `.../2026-06-14`.
pub fn date_from_path(p: &Path) -> Option<String> {
    let name = p.file_name()?.to_str()?;
    let b = name.as_bytes();
    let ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    ok.then(|| name.to_string())
}

#[cfg(test)]
mod keep_tests {
    use super::*;

    /// Constructed parse results: one page read, one unreadable, and
    /// (when `damage`) one holding a value outside its column's domain.
    fn results(damage: bool) -> Vec<Result<Page, ParseError>> {
        let err = |page: &str, message: String| {
            Err(ParseError(Warning {
                page: page.into(),
                table: None,
                row: None,
                message,
            }))
        };
        let page = Page {
            file: "list_a.html".into(),
            service_name: "Service A".into(),
            prefix: "a".into(),
            url: None,
            sha256: String::new(),
            layout: Layout::Classic,
            actions: Vec::new(),
            resource_types: Vec::new(),
            condition_keys: Vec::new(),
            operations: Vec::new(),
            warnings: Vec::new(),
        };
        let mut r = vec![Ok(page), err("list_b.html", "no actions table".into())];
        if damage {
            r.push(err(
                "list_c.html",
                format!("\"Sometimes\" is {}", iamref_dataset::domain::MARK),
            ));
        }
        r
    }

    #[test]
    fn an_unreadable_page_is_a_warning_only_beside_the_json() {
        let (pages, warnings) = keep_pages(results(false), true).unwrap();
        assert_eq!(pages.len(), 1);
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].page, "list_b.html");
        assert!(warnings[0]
            .message
            .ends_with("; page skipped, its prefix comes from the JSON service reference only"));
        let e = keep_pages(results(false), false).unwrap_err();
        assert!(
            matches!(e, PipelineError::Parse(ref v) if v.len() == 1),
            "{e}"
        );
        for with_json in [false, true] {
            let e = keep_pages(results(true), with_json).unwrap_err();
            assert!(
                matches!(e, PipelineError::Damaged(ref v) if v.len() == 1 && v[0].0.page == "list_c.html"),
                "{e}"
            );
        }
    }
}
