//! `iamref policy check FILE...`: read policy documents (files, folders of
//! `*.json`, standard input), load the catalog the run needs once, in one
//! read transaction, check every policy with the engine
//! ([`iamref_policy::check`]) and report the findings as a table, JSON or
//! SARIF 2.1.0.
//!
//! Exit status: 0 when nothing at or above `--min-severity` remains after
//! muting, 1 when something does, 2 when an input could not be read or
//! parsed (the other inputs are still checked and reported).

use crate::exit::{input, Exit};
use crate::output::{one_line, tsv_cell, CheckFormat, Format, Out};
use anyhow::Result;
use iamref_dataset::db::Connection;
use iamref_policy::finding::{Finding, Severity};
use iamref_policy::kinds::PolicyKind;
use iamref_policy::lint::report::{Input, InputError, Report, Run};
use iamref_policy::lint_config::{Config, ConfigError, ConfigFormat};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The largest policy file read, in bytes. IAM's own limits are far
/// smaller (6,144 characters for a managed policy, 20 KB for a bucket
/// policy); a larger file is refused before it is read.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

#[derive(clap::Args)]
#[command(after_help = "\
EXIT CODES:
    0  clean: no finding at or above --min-severity (after muting)
    1  findings at or above --min-severity
    2  an input could not be read or is not JSON (the other inputs are still
       checked and reported), or a bad --config")]
pub struct CheckArgs {
    /// Policy documents (JSON): files, folders (every *.json under them) or `-` for standard input
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Report findings of this severity and above; any reported finding makes the exit status 1
    #[arg(long, value_enum, default_value_t = MinSeverity::Warning, value_name = "SEVERITY")]
    pub min_severity: MinSeverity,
    /// Configuration file (.toml, .yaml or .yml): finding codes to mute everywhere or in some paths, paths to skip, policy kinds per path
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The policies' kind, instead of detecting it from each document's shape and file name:
    /// identity, resource, trust, scp, rcp, boundary, session or endpoint
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    pub kind: Option<PolicyKind>,
    /// With `--format sarif`: the folder SARIF URIs are relative to (default: the current one);
    /// files outside it keep absolute `file://` URIs
    #[arg(long, value_name = "DIR")]
    pub sarif_root: Option<PathBuf>,
    /// Output format
    #[arg(long, short = 'f', value_enum, ignore_case = true, default_value_t = CheckFormat::Table, value_name = "FORMAT")]
    pub format: CheckFormat,
}

fn parse_kind(s: &str) -> std::result::Result<PolicyKind, String> {
    iamref_policy::lint_config::parse_kind(s).map_err(|e| e.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MinSeverity {
    Info,
    Warning,
    Error,
}

impl MinSeverity {
    fn severity(self) -> Severity {
        match self {
            MinSeverity::Info => Severity::Info,
            MinSeverity::Warning => Severity::Warning,
            MinSeverity::Error => Severity::Error,
        }
    }
}

// ---------------------------------------------------------------------------
// Configuration (parsed by `iamref_policy::lint_config`; read here)
// ---------------------------------------------------------------------------

/// Read a configuration file; its format is chosen by its extension.
pub fn load_config(path: &Path) -> Result<Config> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| input(format!("--config {name}: {e}")))?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let Some(format) = ConfigFormat::from_extension(ext) else {
        return Err(input(format!(
            "--config {name}: unknown configuration format; name the file *.toml, *.yaml or *.yml"
        )));
    };
    let base = std::fs::canonicalize(path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    Config::parse(&text, format, base).map_err(|e| input(config_error(&name, &e)))
}

/// A configuration error as the binary words it: the file's name, and
/// where the codes are listed.
fn config_error(name: &str, e: &ConfigError) -> String {
    match e {
        ConfigError::Syntax { .. } | ConfigError::NoPaths { .. } | ConfigError::BadKind { .. } => {
            format!("--config {name}: {e}")
        }
        ConfigError::BadGlob { .. } | ConfigError::Globs { .. } => format!("{name}: {e}"),
        ConfigError::UnknownCode {
            what,
            code,
            suggestion,
        } => {
            let hint = match suggestion {
                Some(s) => format!("did you mean {s:?}? "),
                None => String::new(),
            };
            format!(
                "{name}: {what}: unknown finding code {code:?}; {hint}the codes are listed in the README (\"Findings\") and as the rules of `--format sarif`"
            )
        }
    }
}

/// The forms of `file` globs are matched against (its absolute path
/// found here).
fn candidates(config: &Config, file: &Path) -> Vec<PathBuf> {
    config.candidates(file, std::fs::canonicalize(file).ok())
}

fn excluded(config: &Config, file: &Path) -> bool {
    config.excludes_any() && config.excluded(&candidates(config, file))
}

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

/// One policy to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    /// The name shown in reports.
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "stdin".to_string(),
            Source::File(p) => p.display().to_string(),
        }
    }
}

/// Expand the command line into the policies to check, in order: files as
/// named, folders walked (sorted, hidden entries and symbolic links to
/// folders skipped) for `*.json`. Paths that do not exist are errors.
pub fn expand_inputs(
    args: &[PathBuf],
    config: &Config,
    skipped: &mut usize,
) -> (Vec<Source>, Vec<InputError>) {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    let mut seen_stdin = false;
    for a in args {
        if a.as_os_str() == "-" {
            if !seen_stdin {
                sources.push(Source::Stdin);
                seen_stdin = true;
            }
            continue;
        }
        match std::fs::metadata(a) {
            Ok(m) if m.is_dir() => {
                let before = sources.len();
                walk(a, config, skipped, &mut sources, &mut errors);
                if sources.len() == before {
                    crate::diag::note(format_args!(
                        "{} holds no *.json file to check",
                        a.display()
                    ));
                }
            }
            Ok(_) => {
                if excluded(config, a) {
                    *skipped += 1;
                } else {
                    sources.push(Source::File(a.clone()));
                }
            }
            Err(e) => errors.push(InputError::whole(
                a.display().to_string(),
                format!("cannot read: {e}"),
            )),
        }
    }
    // The same file named twice (or found twice) is checked once.
    let mut seen = BTreeSet::new();
    sources.retain(|s| match s {
        Source::File(p) => seen.insert(iamref_policy::lint_config::strip_dot(p)),
        Source::Stdin => true,
    });
    (sources, errors)
}

fn walk(
    dir: &Path,
    config: &Config,
    skipped: &mut usize,
    sources: &mut Vec<Source>,
    errors: &mut Vec<InputError>,
) {
    let mut entries: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok()).collect(),
        Err(e) => {
            errors.push(InputError::whole(
                dir.display().to_string(),
                format!("cannot read folder: {e}"),
            ));
            return;
        }
    };
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            if excluded(config, &path) {
                *skipped += 1;
                continue;
            }
            walk(&path, config, skipped, sources, errors);
        } else if name.to_ascii_lowercase().ends_with(".json")
            && (ft.is_file() || (ft.is_symlink() && path.is_file()))
        {
            if excluded(config, &path) {
                *skipped += 1;
            } else {
                sources.push(Source::File(path));
            }
        }
    }
}

/// The text of one input, bounded in size; errors say what and where.
fn read_source(src: &Source) -> Result<String, InputError> {
    let name = src.name();
    let err = |message: String| InputError::whole(name.clone(), message);
    let mut bytes = Vec::new();
    match src {
        Source::Stdin => {
            std::io::stdin()
                .lock()
                .take(MAX_FILE_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| err(format!("cannot read: {e}")))?;
        }
        Source::File(p) => {
            let f = std::fs::File::open(p).map_err(|e| err(format!("cannot read: {e}")))?;
            f.take(MAX_FILE_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| err(format!("cannot read: {e}")))?;
        }
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(err(format!(
            "larger than {} MiB: not an IAM policy (IAM allows at most 20 KB even for bucket policies)",
            MAX_FILE_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let s = String::from_utf8_lossy(valid);
        let line = s.matches('\n').count() as u32 + 1;
        let column = s.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
        InputError {
            file: name.clone(),
            line,
            column,
            message: format!(
                "not UTF-8 text (invalid byte at offset {}); save the policy as UTF-8",
                e.utf8_error().valid_up_to()
            ),
        }
    })
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------

/// Check the inputs named by `args`: read and parse everything first, so
/// that the catalog is loaded once, for the union of what the policies
/// name.
pub fn run_check(
    conn: &Connection,
    files: &[PathBuf],
    config: &Config,
    min: Severity,
    kind: Option<PolicyKind>,
) -> Result<Report> {
    let mut skipped = 0;
    let (sources, errors) = expand_inputs(files, config, &mut skipped);
    let mut run = Run::new(config, min, kind, errors, skipped);
    for src in &sources {
        let input = Input {
            name: src.name(),
            file: match src {
                Source::File(p) => Some((candidates(config, p), p.to_string_lossy().into_owned())),
                Source::Stdin => None,
            },
        };
        run.add(input, read_source(src));
    }
    if run.is_empty() {
        return Ok(run.check(None));
    }
    let prefixes = run.catalog_prefixes();
    let catalog = crate::catalog::for_check(
        conn,
        prefixes.map(|s| s.into_iter().collect()),
        run.catalog_actions(),
    )?;
    let report = run.check(Some(&catalog));
    // The process ends after the report: freeing the catalog (thousands of
    // small strings) would cost a tenth of a run, for nothing.
    std::mem::forget(catalog);
    Ok(report)
}

/// The `policy check` command.
pub fn check(conn: &Connection, a: CheckArgs, out: &mut Out) -> Result<Exit> {
    let config = match &a.config {
        Some(p) => load_config(p)?,
        None => Config::default(),
    };
    let min = a.min_severity.severity();
    let report = run_check(conn, &a.files, &config, min, a.kind)?;
    // Input errors first on stderr, as compilers print them.
    for e in &report.errors {
        // Located, as the findings are: FILE:LINE:COL: error: MESSAGE.
        eprintln!(
            "{}",
            crate::output::safe(&format!("{}: error: {}", e.location(), e.message))
        );
    }
    if a.format == CheckFormat::Sarif {
        let root = a
            .sarif_root
            .clone()
            .or_else(|| std::env::current_dir().ok());
        crate::render::sarif::write(out, &report, root.as_deref())?;
    } else {
        match out.format {
            Format::Table => write_table(out, &report)?,
            Format::Json => out.json(&report.reported())?,
            Format::Jsonl => out.jsonl(&report.reported())?,
            Format::Tsv => write_tsv(out, &report)?,
        }
    }
    let n = report.findings();
    // The findings first, then the summary, as a terminal shows them.
    out.w().flush()?;
    // A summary: `-q` drops it (the printer's rule).
    crate::diag::info(summary(&report, n, a.min_severity));
    if !report.errors.is_empty() {
        let k = report.errors.len();
        return Err(input(format!(
            "{k} input{} could not be checked (see above); the others were",
            if k == 1 { "" } else { "s" }
        )));
    }
    Ok(Exit::check(n > 0))
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn summary(r: &Report, n: usize, min: MinSeverity) -> String {
    let by = r.by_severity();
    let files = plural(r.checked, "file");
    let mut s = if n == 0 {
        format!("no findings in {files} checked")
    } else {
        let kinds: Vec<String> = [(2, "error"), (1, "warning")]
            .iter()
            .filter(|(i, _)| by[*i] > 0)
            .map(|(i, what)| plural(by[*i], what))
            .chain((by[0] > 0).then(|| format!("{} info", by[0])))
            .collect();
        format!(
            "{} ({}) in {files} checked",
            plural(n, "finding"),
            kinds.join(", ")
        )
    };
    if !r.errors.is_empty() {
        s.push_str(&format!(
            "; {} not checked",
            plural(r.errors.len(), "input")
        ));
    }
    if r.muted > 0 {
        s.push_str(&format!("; {} muted by --config", r.muted));
    }
    if r.skipped > 0 {
        s.push_str(&format!(
            "; {} excluded by --config",
            plural(r.skipped, "path")
        ));
    }
    if r.below > 0 {
        let lower = match min {
            MinSeverity::Error => "--min-severity warning or info",
            _ => "--min-severity info",
        };
        s.push_str(&format!(
            "; {} below {} not shown ({lower} shows them)",
            plural(r.below, "finding"),
            min_name(min)
        ));
    }
    s
}

fn min_name(m: MinSeverity) -> &'static str {
    m.severity().as_str()
}

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

fn head(file: &str, f: &Finding) -> String {
    let at = f.location;
    let mut s = if at.line > 0 {
        format!("{file}:{}:{}: ", at.line, at.column)
    } else {
        format!("{file}: ")
    };
    s.push_str(&format!("{}[{}]", f.severity.as_str(), f.code));
    if let Some(i) = f.statement {
        s.push_str(&format!(" statement {i}"));
        if let Some(sid) = &f.sid {
            s.push_str(&format!(" ({sid})"));
        }
    }
    s
}

/// `file:line:column: severity[code] statement N (Sid): message`, then
/// `    fix: ...` when a fix is known.
fn write_table(out: &mut Out, r: &Report) -> std::io::Result<()> {
    let color = out.color;
    let w = out.w();
    for fr in &r.files {
        for f in &fr.findings {
            let mut line = head(&fr.file, f);
            if color {
                let code = match f.severity {
                    Severity::Error => "31",
                    Severity::Warning => "33",
                    Severity::Info => "36",
                };
                let sev = f.severity.as_str();
                line = line.replacen(
                    &format!("{sev}["),
                    &format!("\x1b[{code};1m{sev}\x1b[0m["),
                    1,
                );
            }
            writeln!(w, "{line}: {}", one_line(&f.message))?;
            if let Some(fix) = &f.fix {
                writeln!(w, "    fix: {}", one_line(fix))?;
            }
        }
    }
    Ok(())
}

fn write_tsv(out: &mut Out, r: &Report) -> std::io::Result<()> {
    let headers = [
        "file",
        "line",
        "column",
        "severity",
        "code",
        "statement",
        "sid",
        "actions",
        "message",
        "fix",
    ];
    let rows: Vec<Vec<String>> = r
        .files
        .iter()
        .flat_map(|fr| {
            fr.findings.iter().map(move |f| {
                vec![
                    fr.file.clone(),
                    f.location.line.to_string(),
                    f.location.column.to_string(),
                    f.severity.as_str().to_string(),
                    f.code.to_string(),
                    f.statement.map(|i| i.to_string()).unwrap_or_default(),
                    f.sid.clone().unwrap_or_default(),
                    f.actions.join(","),
                    tsv_cell(&f.message),
                    tsv_cell(f.fix.as_deref().unwrap_or("")),
                ]
            })
        })
        .collect();
    out.tsv(&headers, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str, ext: &str) -> Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(format!("c.{ext}"));
        std::fs::write(&p, text).unwrap();
        load_config(&p)
    }

    #[test]
    fn config_rejects_unknown_codes_and_keys_with_a_suggestion() {
        let e = cfg("mute = [\"resource-starr\"]\n", "toml")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("unknown finding code \"resource-starr\""), "{e}");
        assert!(
            e.contains("did you mean \"resource-star\"? the codes are listed in the README"),
            "{e}"
        );
        assert!(e.ends_with("as the rules of `--format sarif`"), "{e}");
        let e = cfg("mutes = []\n", "toml").err().unwrap().to_string();
        assert!(e.contains("mutes"), "{e}");
        assert!(e.starts_with("--config "), "{e}");
        let e = cfg("mute: [nope]\n", "yaml").err().unwrap().to_string();
        assert!(e.contains("unknown finding code \"nope\""), "{e}");
        let e = cfg("mute = []", "ini").err().unwrap().to_string();
        assert!(e.contains("*.toml, *.yaml or *.yml"), "{e}");
        let e = cfg("[[mute-in]]\npaths = [\"a/[\"]\n", "toml")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("bad glob"), "{e}");
    }
}
