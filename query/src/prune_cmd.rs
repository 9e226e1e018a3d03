//! `iamref policy prune POLICY (--from-cloudtrail PATH | --log FILE)`: an
//! identity policy cut down to what the recorded calls used (the pure part
//! is `iamref_policy::simulate::prune`); what went unused and the calls the
//! policy already denies on stderr, as `tighten` reports its removals.

use crate::catalog::index;
use crate::exit::{input, Exit};
use crate::output::{Format, Out};
use crate::record_cmd::{read_calls, TrailArgs};
use crate::simulate_cmd::safe;
use anyhow::Result;
use iamref_dataset::db::Connection;
use iamref_policy::record::Options;
use iamref_policy::simulate::prune::{calls_from_needs, prune};
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct PruneArgs {
    /// Policy document (JSON); `-` reads standard input
    pub file: PathBuf,
    /// CloudTrail input: a file (JSON, JSON lines, .json.gz) or a folder
    /// tree of them
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "log",
        conflicts_with = "log"
    )]
    pub from_cloudtrail: Option<PathBuf>,
    /// A call log of `iamref record --log`
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    #[command(flatten)]
    pub trail: TrailArgs,
    #[command(flatten)]
    pub fmt: crate::output::DocFormatArg,
}

pub fn prune_cmd(conn: &Connection, a: PruneArgs, out: &mut Out, quiet: bool) -> Result<Exit> {
    let (name, text) = crate::input::read_text(Some(&a.file))?;
    let policy: Value = serde_json::from_str(&text).map_err(|e| {
        input(format!(
            "{name}:{}:{}: not a JSON policy document: {e}",
            e.line(),
            e.column()
        ))
    })?;
    if let Ok(p) = iamref_policy::document::parse(&text) {
        if let Some(f) = p.rejection() {
            return Err(input(format!(
                "{name}:{}:{}: {} (IAM rejects this policy)",
                f.location.line,
                f.location.column,
                safe(&f.message)
            )));
        }
    }
    let path = a
        .from_cloudtrail
        .as_deref()
        .or(a.log.as_deref())
        .expect("clap requires one");
    let idx = index(conn)?;
    let r = read_calls(
        &idx,
        Some(path),
        &a.trail,
        Options {
            include_conditional: false,
            include_errors: a.trail.include_errors,
        },
    )?;
    crate::record_cmd::report(&r, quiet);
    // The actions the calls always need are what they used; those needed
    // only in some configurations are named, not counted.
    // (`maybe_needed`: the recording grants no conditional need here.)
    let maybe = r.recording.maybe_needed();
    if !maybe.is_empty() && !quiet {
        crate::diag::note(format_args!(
            "not counted as used (the calls need them only in some configurations): {}",
            maybe.join(", ")
        ));
    }
    let calls = calls_from_needs(r.recording.granted());
    if calls.is_empty() {
        return Err(input(format!(
            "{}: no call maps to an action; nothing to prune against",
            path.display()
        )));
    }
    let p = prune(&policy, &calls, a.trail.principal.as_deref())
        .map_err(|e| input(format!("{name}: {e}")))?;
    {
        let mut err = std::io::BufWriter::new(std::io::stderr().lock());
        for u in &p.unused {
            writeln!(err, "{}", safe(&u.to_string()))?;
        }
        for &i in &p.denied {
            writeln!(
                err,
                "denied: {} on {}: the policy does not allow this recorded call",
                safe(&calls[i].action),
                safe(&calls[i].resource)
            )?;
        }
        err.flush()?;
    }
    let format = out.format;
    let w = out.w();
    match format {
        Format::Json => {
            let denied: Vec<Value> = p
                .denied
                .iter()
                .map(|&i| json!({"action": calls[i].action, "resource": calls[i].resource}))
                .collect();
            serde_json::to_writer_pretty(
                &mut *w,
                &json!({"policy": p.policy, "unused": p.unused, "denied": denied, "changed": p.changed}),
            )?;
        }
        Format::Jsonl => serde_json::to_writer(&mut *w, &p.policy)?,
        _ => serde_json::to_writer_pretty(&mut *w, &p.policy)?,
    }
    writeln!(w)?;
    Ok(Exit::check(p.changed))
}
