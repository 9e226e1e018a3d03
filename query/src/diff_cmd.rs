//! `iamref diff OLD NEW`: what changed between two datasets, field by
//! field. The comparison itself is [`iamref_dataset::diff`]; this module
//! reads the two sides (a database, a snapshot folder, a JSON bundle, or a
//! snapshot folder at a git revision), filters and renders.

use crate::exit::{input, Exit};
use crate::output::Out;
use anyhow::{Context, Result};
use iamref_dataset::diff::{self, Kind};
use iamref_dataset::domain::ACCESS_LEVELS;
use iamref_dataset::snapshot::{self, Bundle, GitError, GitTree};
use iamref_dataset::Service;
use iamref_policy::grants::{granted_patterns, GrantsError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(clap::Args)]
pub struct DiffArgs {
    /// The older data: a database, a snapshot folder (data/-style), an
    /// `export --format json` bundle, or REV:FOLDER, a snapshot folder at a
    /// git revision (`HEAD~1:data`; the folder is relative to the
    /// repository root)
    pub old: String,
    /// The newer data, in any of the same forms
    pub new: String,
    /// Only these service prefixes (repeat or comma-separate)
    #[arg(long, value_name = "PREFIX", value_delimiter = ',')]
    pub service: Vec<String>,
    /// Only these kinds: service, action, resource-type, arn-format,
    /// condition-key, operation (repeat or comma-separate)
    #[arg(long, value_name = "KIND", value_delimiter = ',')]
    pub kind: Vec<String>,
    /// Only action changes where the action has this access level, before
    /// or after (List, Read, Write, "Permissions management", Tagging)
    #[arg(long, value_name = "LEVEL")]
    pub access_level: Vec<String>,
    /// Only changes to actions this IAM policy's Allow statements grant
    /// (its Action / NotAction patterns): new actions `s3:Get*` now also
    /// grants, changed ones it already did, removed ones it named. Other
    /// kinds are left out.
    #[arg(long, value_name = "FILE")]
    pub since_policy: Option<PathBuf>,
    /// Output format
    #[arg(long, short = 'f', value_enum, ignore_case = true, default_value_t = DiffFormat::Table, value_name = "FORMAT")]
    pub format: DiffFormat,
}

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// A readable changelog, grouped by prefix
    Table,
    /// One JSON document: the changes and their counts
    Json,
    /// One change per line
    Jsonl,
    /// Tab-separated changes with a header row
    Tsv,
    /// A release note in Markdown
    #[value(alias = "md")]
    Markdown,
}

/// `iamref diff OLD NEW`. Exit 0: no change (after the filters); 1:
/// changes listed; 2: bad input.
pub fn diff(a: DiffArgs, out: &mut Out) -> Result<Exit> {
    let format = a.format;
    // Check the filters before reading anything.
    let kinds: Vec<Kind> = a
        .kind
        .iter()
        .map(|k| {
            Kind::parse(k).ok_or_else(|| {
                input(format!(
                    "--kind {k:?}: unknown kind; expected one of {}",
                    Kind::ALL.map(|k| k.as_str()).join(", ")
                ))
            })
        })
        .collect::<Result<_>>()?;
    let levels: Vec<&'static str> = a
        .access_level
        .iter()
        .map(|l| {
            diff::access_level(l).ok_or_else(|| {
                input(format!(
                    "--access-level {l:?}: unknown access level; expected one of {}",
                    ACCESS_LEVELS.join(", ")
                ))
            })
        })
        .collect::<Result<_>>()?;
    let policy = match &a.since_policy {
        None => None,
        Some(p) => {
            let probe = |_: &str| true;
            let filter = diff::Filter {
                kinds: &kinds,
                actions: Some(&probe),
                ..diff::Filter::default()
            };
            if let Err(diff::FilterError::ActionsExcluded) = filter.check() {
                return Err(input(
                    "--since-policy selects action changes, but --kind leaves actions out; add --kind action or drop one of the two",
                ));
            }
            let (name, text) = crate::input::read_text(Some(p))?;
            Some(granted_patterns(&name, &text).map_err(|e| match e {
                GrantsError::NoStatement(_) => {
                    input(format!("{e}; --since-policy takes an IAM policy document"))
                }
                e => input(e.to_string()),
            })?)
        }
    };

    // The two sides are read in parallel (each is a whole dataset).
    let (old, new) = std::thread::scope(|s| {
        let old = s.spawn(|| load(&a.old, "OLD"));
        let new = load(&a.new, "NEW");
        (old.join().expect("reading OLD panicked"), new)
    });
    let (old, new) = (old?, new?);
    if let Some((p, closest)) = diff::unknown_prefix(&old, &new, &a.service) {
        let hint = closest
            .map(|s| format!("; did you mean {s}?"))
            .unwrap_or_default();
        return Err(input(format!(
            "--service {p:?}: no such prefix in {} or {}{hint}",
            a.old, a.new
        )));
    }

    let mut changes = diff::diff(&old, &new);
    let grants = |action: &str| policy.as_ref().is_some_and(|p| p.grants(action));
    diff::Filter {
        prefixes: &a.service,
        kinds: &kinds,
        access_levels: &levels,
        actions: policy.is_some().then_some(&grants as &dyn Fn(&str) -> bool),
    }
    .apply(&mut changes);

    let names = diff::service_names(&old, &new);
    let summary = diff::summarize(&changes);
    crate::render::diff::write(out, format, (&a.old, &a.new), &changes, &names, &summary)?;
    // Two whole datasets are about to be freed by the process exit anyway:
    // freeing them one allocation at a time would cost ~10% of the run.
    std::mem::forget((old, new));
    // Exit 1 when there are changes, as `diff` does.
    Ok(Exit::check(!changes.is_empty()))
}

// ---------------------------------------------------------------------------
// Reading a side.
// ---------------------------------------------------------------------------

/// Read one side: a path that exists (database, bundle, snapshot folder),
/// else `REV:FOLDER` from git.
pub fn load(spec: &str, which: &str) -> Result<Vec<Service>> {
    let path = Path::new(spec);
    if path.is_dir() {
        if !path.join("manifest.json").is_file() {
            return Err(input(format!(
                "{which} {spec}: a folder without manifest.json is not a snapshot folder; give a snapshot folder (like data/), a database, or REV:FOLDER"
            )));
        }
        let (_, services) = snapshot::read_snapshot(path)
            .map_err(|e| input(format!("{which}: {}", crate::exit::dataset_text(&e))))?;
        return Ok(services);
    }
    if path.is_file() {
        let mut head = [0u8; 16];
        let n = std::fs::File::open(path)
            .and_then(|mut f| f.read(&mut head))
            .map_err(|e| input(format!("{which} {spec}: {e}")))?;
        if &head[..n] == b"SQLite format 3\0" {
            let conn = iamref_dataset::db::open_read_only(path)
                .map_err(|e| input(format!("{which}: {e}")))?;
            return iamref_dataset::db::read(
                &conn,
                &iamref_dataset::db::Selection {
                    provenance: false,
                    ..iamref_dataset::db::Selection::all()
                },
            )
            .with_context(|| format!("reading {spec}"));
        }
        if head[..n].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            let bytes = std::fs::read(path).map_err(|e| input(format!("{which} {spec}: {e}")))?;
            let mut bundle: Bundle = serde_json::from_slice(&bytes).map_err(|e| {
                input(format!(
                    "{which} {spec}: not an iamref JSON bundle (line {}, column {}: {e})",
                    e.line(),
                    e.column()
                ))
            })?;
            snapshot::fill_page_hashes(&bundle.manifest, &mut bundle.services);
            return Ok(bundle.services);
        }
        return Err(input(format!(
            "{which} {spec}: neither an iamref database (SQLite) nor a JSON bundle; give a database, a snapshot folder, or REV:FOLDER"
        )));
    }
    match spec.split_once(':') {
        Some((rev, folder)) if !rev.is_empty() => from_git(spec, rev, folder, which),
        _ => Err(input(format!(
            "{which} {spec}: no such file or folder; give a database, a snapshot folder (like data/), or a git revision of one as REV:FOLDER (e.g. HEAD~1:data)"
        ))),
    }
}

/// Run git with `args`, feeding `stdin`; its stdout, or a message saying
/// what to fix.
fn git(args: &[&str], stdin: Option<Vec<u8>>, spec: &str, which: &str) -> Result<Vec<u8>> {
    let mut child = Command::new("git")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            input(format!(
                "{which} {spec}: reading a git revision needs the git command, which could not be run ({e}); install git, or give a database or snapshot folder"
            ))
        })?;
    // Feed stdin from a thread so that a large output cannot block it.
    let feeder = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().expect("piped");
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let output = child.wait_with_output().context("running git")?;
    if let Some(f) = feeder {
        let _ = f.join();
    }
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        let err = err.trim().trim_start_matches("fatal: ");
        return Err(input(format!(
            "{which} {spec}: git cannot read it ({err}); run iamref inside the repository, check the revision with `git log --oneline` and the folder (relative to the repository root) with `git ls-tree --name-only REV`"
        )));
    }
    Ok(output.stdout)
}

/// A snapshot folder at a git revision: `git ls-tree` lists it, one
/// `git cat-file --batch` reads every file.
fn from_git(spec: &str, rev: &str, folder: &str, which: &str) -> Result<Vec<Service>> {
    let folder = folder.trim_end_matches('/');
    let tree = if folder.is_empty() {
        format!("{rev}:")
    } else {
        format!("{rev}:{folder}")
    };
    let listing = git(&["ls-tree", "-r", "-z", &tree], None, spec, which)?;
    let listed = GitTree::parse(&listing);
    let error = |e: GitError| {
        match e {
        GitError::NoManifest => input(format!(
            "{which} {spec}: {folder} at {rev} has no manifest.json, so it is not a snapshot folder; name the folder holding manifest.json and services/ (e.g. {rev}:data)"
        )),
        GitError::Snapshot(e) => input(format!("{which}: {}", crate::exit::dataset_text(&e))),
        e => input(format!("{which} {spec}: {e}")),
    }
    };
    let request = listed.batch_request().map_err(error)?;
    let blobs = git(&["cat-file", "--batch"], Some(request), spec, which)?;
    let (_, services) = listed.read_batch(&tree, &blobs).map_err(error)?;
    Ok(services)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse() {
        use clap::ValueEnum;
        assert_eq!(DiffFormat::from_str("MD", true), Ok(DiffFormat::Markdown));
        assert_eq!(DiffFormat::from_str("table", true), Ok(DiffFormat::Table));
        assert!(DiffFormat::from_str("yaml", true).is_err());
    }
}
