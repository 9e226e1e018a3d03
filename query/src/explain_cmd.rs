//! `iamref explain MESSAGE`: an AccessDenied message read back (the parser
//! is `iamref_policy::simulate::explain`, pure): who was denied, what,
//! which resource (its type and ARN format from the reference), which
//! policy type, and the fix.

use crate::exit::{input, Exit};
use crate::output::{Format, Out};
use crate::simulate_cmd::safe;
use anyhow::Result;
use iamref_dataset::db::Connection;
use iamref_policy::simulate::explain::parse;
use iamref_policy::simulate::explained::{catalog_prefixes, explained, with_article, Explained};
use std::io::Write;

/// The longest message read from stdin.
const MAX_MESSAGE: u64 = 1 << 20;

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// The AccessDenied message (quoted), the CLI's or an SDK's error text,
    /// or the JSON of `aws sts decode-authorization-message`; `-` or
    /// nothing to read it from stdin
    #[arg(value_name = "MESSAGE")]
    pub message: Vec<String>,
    #[command(flatten)]
    pub fmt: crate::output::DocFormatArg,
}

pub fn explain(conn: &Connection, a: ExplainArgs, out: &mut Out) -> Result<Exit> {
    let text = if a.message.is_empty() || a.message == ["-"] {
        let mut s = String::new();
        std::io::Read::read_to_string(
            &mut std::io::Read::take(std::io::stdin().lock(), MAX_MESSAGE),
            &mut s,
        )
        .map_err(|e| input(format!("stdin: {e}")))?;
        s
    } else {
        a.message.join(" ")
    };
    let d = parse(&text).map_err(|e| input(format!("cannot read the message: {e}")))?;
    let prefixes = catalog_prefixes(&d);
    let cat = crate::catalog::for_prefixes(conn, Some(prefixes))?;
    let e = explained(&cat, d);
    match out.format {
        f @ (Format::Json | Format::Jsonl) => {
            let w = out.w();
            if f == Format::Json {
                serde_json::to_writer_pretty(&mut *w, &e)?;
            } else {
                serde_json::to_writer(&mut *w, &e)?;
            }
            writeln!(w)?;
        }
        _ => table(out, &e)?,
    }
    Ok(Exit::Found)
}

fn table(out: &mut Out, e: &Explained) -> Result<()> {
    let w = out.w();
    let mut rows: Vec<(&str, String)> = Vec::new();
    if let Some(p) = &e.principal {
        rows.push(("principal", safe(p)));
    }
    rows.push(("action", safe(&e.action)));
    if let Some(op) = &e.operation {
        rows.push(("operation", safe(op)));
    }
    if let Some(r) = &e.resource {
        rows.push(("resource", safe(r)));
    }
    if let Some(t) = &e.resource_type {
        let f = e
            .arn_format
            .as_deref()
            .map(|f| format!(" ({f})"))
            .unwrap_or_default();
        rows.push(("resource type", format!("{t}{f}")));
    }
    let denied = match (e.policy_type, e.explicit) {
        (Some(t), true) => format!("an explicit deny in {}", with_article(t)),
        (Some(t), false) => format!("no {} allows it", t.describe()),
        (None, true) => "an explicit deny".into(),
        (None, false) => "(the message does not say)".into(),
    };
    rows.push(("denied by", denied));
    if let Some(a) = &e.policy_arn {
        rows.push(("policy", safe(a)));
    }
    for (k, v) in &e.context {
        rows.push(("context", format!("{} = {}", safe(k), safe(&v.join(", ")))));
    }
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    for (k, v) in rows {
        writeln!(w, "{k:width$}  {v}")?;
    }
    for n in &e.notes {
        writeln!(w, "note: {}", safe(n))?;
    }
    writeln!(w, "fix: {}", safe(&e.fix.message))?;
    if let Some(s) = &e.fix.statement {
        writeln!(w, "{}", serde_json::to_string_pretty(s)?)?;
    }
    Ok(())
}
