//! `build`'s run over saved folders, in its order: the pages read and
//! parsed in parallel, the rule of an unreadable page ([`keep_pages`]),
//! the JSON service reference read and reconciled, the capture date and
//! the source named, into [`Assembled`] services not yet written (the
//! publication guard writes them). Errors are typed by the folder they
//! concern ([`Side`]); the binary words them with its flags.

use super::{
    assemble, assemble_with_json, date_from_path, keep_pages, parse_all, read_pages_dir,
    read_service_reference_dir, Assembled, PipelineError,
};
use crate::parse::ParseError;
use std::path::{Path, PathBuf};

/// The folders a build reads.
#[derive(Debug, Clone, Default)]
pub struct Input<'a> {
    /// Saved reference pages (`list_*.html`).
    pub pages_dir: Option<&'a Path>,
    /// AWS's JSON service reference (`index.json`, `v1/PREFIX/PREFIX.json`).
    pub json_dir: Option<&'a Path>,
    /// The capture date to record; else the folder's name if it is a date.
    pub captured: Option<String>,
}

/// Which folder an error concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Pages,
    Json,
}

/// Why a build gave no result.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Neither folder was given.
    #[error("nothing to build from")]
    Nothing,
    #[error("{}: not a folder", .1.display())]
    NotAFolder(Side, PathBuf),
    /// The folder could not be read ([`PipelineError::NoPages`],
    /// [`PipelineError::NoDocuments`], I/O).
    #[error("{1}")]
    Read(Side, PipelineError),
    /// Pages holding values outside their column's domain: damage,
    /// refused whatever the other source says.
    #[error("{} page(s) hold values outside their column's domain", .0.len())]
    Damaged(Vec<ParseError>),
    /// An unreadable page without the JSON beside it, or an unreadable
    /// JSON document.
    #[error("{0}")]
    Unreadable(PipelineError),
    /// The sources yielded no service.
    #[error("the sources yielded no service data")]
    NoServices,
}

/// What a build tells its progress display.
pub trait Progress: Sync {
    /// `pages` pages are about to be parsed.
    fn parsing(&self, pages: usize);
    /// One page parsed.
    fn parsed(&self);
    /// Parsing is over.
    fn done(&self);
}

/// How a source folder is recorded in the manifest: relative paths stay
/// as given (so the snapshot does not depend on where the repo lives).
fn source_name(dir: &Path) -> String {
    dir.display().to_string()
}

/// Build from the folders of `input`.
pub fn build(input: &Input<'_>, progress: &dyn Progress) -> Result<Assembled, BuildError> {
    let (pages_dir, json_dir) = (input.pages_dir, input.json_dir);
    if pages_dir.is_none() && json_dir.is_none() {
        return Err(BuildError::Nothing);
    }
    let mut warnings = Vec::new();
    let mut parsed = Vec::new();
    if let Some(dir) = pages_dir {
        if !dir.is_dir() {
            return Err(BuildError::NotAFolder(Side::Pages, dir.to_path_buf()));
        }
        let pages = read_pages_dir(dir).map_err(|e| BuildError::Read(Side::Pages, e))?;
        progress.parsing(pages.len());
        let results = parse_all(&pages, &|| progress.parsed());
        progress.done();
        // Damage is refused; with the JSON as a second source, another
        // unreadable page is a warning; without, an error.
        match keep_pages(results, json_dir.is_some()) {
            Ok((pages, mut skipped)) => {
                parsed = pages;
                warnings.append(&mut skipped);
            }
            Err(PipelineError::Damaged(damaged)) => return Err(BuildError::Damaged(damaged)),
            Err(e) => return Err(BuildError::Unreadable(e)),
        }
    }
    let captured = input.captured.clone().or_else(|| {
        pages_dir
            .or(json_dir)
            .and_then(date_from_path)
            .filter(|d| iamref_dataset::domain::capture_date(d).is_ok())
    });
    let source = match (pages_dir, json_dir) {
        (Some(h), Some(j)) => format!("{} + {}", source_name(h), source_name(j)),
        (Some(h), None) => source_name(h),
        (None, Some(j)) => source_name(j),
        (None, None) => unreachable!("checked above"),
    };
    let mut assembled = match json_dir {
        None => assemble(parsed, &source, captured),
        Some(dir) => {
            if !dir.is_dir() {
                return Err(BuildError::NotAFolder(Side::Json, dir.to_path_buf()));
            }
            let docs =
                read_service_reference_dir(dir).map_err(|e| BuildError::Read(Side::Json, e))?;
            assemble_with_json(parsed, docs, &source, captured).map_err(BuildError::Unreadable)?
        }
    };
    if !warnings.is_empty() {
        assembled.warnings.append(&mut warnings);
        assembled.warnings.sort();
    }
    if assembled.services.is_empty() {
        return Err(BuildError::NoServices);
    }
    Ok(assembled)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Count(std::sync::atomic::AtomicUsize);

    impl Progress for Count {
        fn parsing(&self, _: usize) {}
        fn parsed(&self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        fn done(&self) {}
    }

    #[test]
    fn refusals_name_the_folder_they_concern() {
        let none = Count(Default::default());
        assert!(matches!(
            build(&Input::default(), &none),
            Err(BuildError::Nothing)
        ));
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let input = Input {
            pages_dir: Some(&missing),
            ..Input::default()
        };
        assert!(matches!(
            build(&input, &none),
            Err(BuildError::NotAFolder(Side::Pages, p)) if p == missing
        ));
        // An empty folder holds no pages; beside it, a JSON folder that is
        // not one is named only once the pages were read.
        let input = Input {
            pages_dir: Some(dir.path()),
            ..Input::default()
        };
        assert!(matches!(
            build(&input, &none),
            Err(BuildError::Read(Side::Pages, PipelineError::NoPages { .. }))
        ));
        let input = Input {
            json_dir: Some(&missing),
            ..Input::default()
        };
        assert!(matches!(
            build(&input, &none),
            Err(BuildError::NotAFolder(Side::Json, _))
        ));
    }

    #[test]
    fn two_constructed_pages_build_with_their_folders_date() {
        // The query crate's constructed test pages (S3 and SQS), in a
        // folder named by a date.
        let dir = tempfile::tempdir().unwrap();
        let pages = dir.path().join("2026-06-14");
        std::fs::create_dir(&pages).unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../query/tests/fixtures/pages");
        for f in ["list_amazons3.html", "list_sqs.html"] {
            std::fs::copy(fixtures.join(f), pages.join(f)).unwrap();
        }
        let count = Count(Default::default());
        let input = Input {
            pages_dir: Some(&pages),
            ..Input::default()
        };
        let a = build(&input, &count).unwrap();
        assert_eq!(count.0.into_inner(), 2);
        assert_eq!(a.manifest.captured.as_deref(), Some("2026-06-14"));
        assert_eq!(a.manifest.source, pages.display().to_string());
        let prefixes: Vec<&str> = a.services.iter().map(|s| s.prefix.as_str()).collect();
        assert_eq!(prefixes, ["s3", "sqs"]);
    }
}
