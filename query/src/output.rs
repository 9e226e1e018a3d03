//! Output formatting: readable aligned tables on a terminal (colour only
//! there, `NO_COLOR` respected), no decoration on a pipe, and stable
//! machine formats (`json`, `jsonl`, `tsv` with a header row).

use serde::Serialize;
use std::io::{self, BufWriter, IsTerminal, Stdout, Write};

/// The formats of the lookup commands (`action`, `arn`, `calls`, …): the
/// base every other command's format maps into for [`Out`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned, human-readable text
    Table,
    /// One JSON array
    Json,
    /// One JSON object per line
    Jsonl,
    /// Tab-separated values with a header row
    Tsv,
}

/// `--format` of a lookup command: table, json, jsonl or tsv.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct FormatArg {
    /// Output format
    #[arg(long, short = 'f', value_enum, ignore_case = true, default_value_t = Format::Table, value_name = "FORMAT")]
    pub format: Format,
}

/// The formats of commands that print one document or a stream of them
/// (`explain`, `record`, `policy simulate`, `policy prune`): no TSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DocFormat {
    /// Readable text (a policy: pretty JSON)
    Table,
    /// One pretty-printed JSON document
    Json,
    /// One compact JSON object per line
    Jsonl,
}

/// `--format` of `explain`, `record`, `policy simulate` and `policy prune`.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct DocFormatArg {
    /// Output format
    #[arg(long, short = 'f', value_enum, ignore_case = true, default_value_t = DocFormat::Table, value_name = "FORMAT")]
    pub format: DocFormat,
}

impl From<DocFormat> for Format {
    fn from(f: DocFormat) -> Format {
        match f {
            DocFormat::Table => Format::Table,
            DocFormat::Json => Format::Json,
            DocFormat::Jsonl => Format::Jsonl,
        }
    }
}

/// The formats of commands that print a policy (`policy write`, `policy
/// tighten`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyFormat {
    /// The policy as pretty JSON
    Table,
    /// `{"policy": …, "notes": […]}`, pretty
    Json,
    /// The policy as one compact JSON line
    Jsonl,
    /// The policy as YAML (CloudFormation's `PolicyDocument`)
    Yaml,
    /// A Terraform `aws_iam_policy_document` data source
    Terraform,
}

/// `--format` of `policy write` and `policy tighten`.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct PolicyFormatArg {
    /// Output format
    #[arg(long, short = 'f', value_enum, ignore_case = true, default_value_t = PolicyFormat::Table, value_name = "FORMAT")]
    pub format: PolicyFormat,
}

impl From<PolicyFormat> for Format {
    fn from(f: PolicyFormat) -> Format {
        match f {
            PolicyFormat::Json => Format::Json,
            PolicyFormat::Jsonl => Format::Jsonl,
            PolicyFormat::Table | PolicyFormat::Yaml | PolicyFormat::Terraform => Format::Table,
        }
    }
}

/// The formats of `policy check`: the lookup formats and SARIF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// Findings as `file:line:col: severity: code: message`
    Table,
    /// One JSON document: files, findings, summary
    Json,
    /// One finding per line
    Jsonl,
    /// Tab-separated findings with a header row
    Tsv,
    /// SARIF 2.1.0 (GitHub code scanning)
    Sarif,
}

impl From<CheckFormat> for Format {
    fn from(f: CheckFormat) -> Format {
        match f {
            CheckFormat::Table | CheckFormat::Sarif => Format::Table,
            CheckFormat::Json => Format::Json,
            CheckFormat::Jsonl => Format::Jsonl,
            CheckFormat::Tsv => Format::Tsv,
        }
    }
}

pub struct Out {
    pub format: Format,
    /// Colour allowed (a terminal, no NO_COLOR).
    pub color: bool,
    /// Stdout is a terminal.
    pub tty: bool,
    /// `--quiet`: less on stderr.
    pub quiet: bool,
    w: BufWriter<Stdout>,
}

impl Out {
    pub fn new(format: Format) -> Out {
        let tty = io::stdout().is_terminal();
        let color = tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Out {
            format,
            color,
            tty,
            quiet: false,
            w: BufWriter::new(io::stdout()),
        }
    }

    pub fn w(&mut self) -> &mut BufWriter<Stdout> {
        &mut self.w
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.w.flush()
    }

    /// Bold (on a colour terminal).
    pub fn bold(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    /// Dim (on a colour terminal).
    pub fn dim(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[2m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    /// Write records in the chosen format. `headers` name the TSV/table
    /// columns; `rows` are the same records as cells; `items` as JSON.
    pub fn records<T: Serialize>(
        &mut self,
        headers: &[&str],
        rows: &[Vec<String>],
        items: &[T],
    ) -> io::Result<()> {
        match self.format {
            Format::Json => self.json(items),
            Format::Jsonl => self.jsonl(items),
            Format::Tsv => self.tsv(headers, rows),
            Format::Table => self.table(headers, rows),
        }
    }

    pub fn json<T: Serialize>(&mut self, items: &[T]) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut self.w, items)?;
        self.w.write_all(b"\n")
    }

    pub fn jsonl<T: Serialize>(&mut self, items: &[T]) -> io::Result<()> {
        for i in items {
            serde_json::to_writer(&mut self.w, i)?;
            self.w.write_all(b"\n")?;
        }
        Ok(())
    }

    pub fn tsv(&mut self, headers: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
        writeln!(self.w, "{}", headers.join("\t"))?;
        for r in rows {
            let cells: Vec<String> = r.iter().map(|c| tsv_cell(c)).collect();
            writeln!(self.w, "{}", cells.join("\t"))?;
        }
        Ok(())
    }

    /// Aligned columns with a header on a terminal; on a pipe the same
    /// rows, tab-separated, without header or padding.
    pub fn table(&mut self, headers: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
        if !self.tty {
            for r in rows {
                let cells: Vec<String> = r.iter().map(|c| tsv_cell(c)).collect();
                writeln!(self.w, "{}", cells.join("\t"))?;
            }
            return Ok(());
        }
        let mut widths = Vec::new();
        crate::render::table::fit(&mut widths, headers);
        for r in rows {
            crate::render::table::fit(&mut widths, r);
        }
        let line = crate::render::table::line;
        let head: Vec<String> = headers.iter().map(|h| h.to_uppercase()).collect();
        let head = line(&head, &widths);
        let head = self.bold(&head);
        writeln!(self.w, "{head}")?;
        for r in rows {
            writeln!(self.w, "{}", line(r, &widths))?;
        }
        Ok(())
    }
}

/// A value as pretty JSON with a final newline: a policy, a bundle, a
/// part of a split policy.
pub fn pretty_json<T: Serialize + ?Sized>(v: &T) -> serde_json::Result<Vec<u8>> {
    let mut b = serde_json::to_vec_pretty(v)?;
    b.push(b'\n');
    Ok(b)
}

/// `bytes` to standard output when `path` is `-`, else to the file,
/// atomically and world-readable ([`iamref_dataset::atomic`]).
pub fn write_file_or_stdout(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    if path.as_os_str() == "-" {
        io::stdout().lock().write_all(bytes)?;
    } else {
        iamref_dataset::atomic::write(path, bytes, iamref_dataset::atomic::Mode::Public)?;
    }
    Ok(())
}

/// A TSV cell: tabs and newlines would break the format, so they become
/// spaces.
pub fn tsv_cell(s: &str) -> String {
    if s.contains(['\t', '\n', '\r']) {
        s.replace(['\t', '\n', '\r'], " ")
    } else {
        s.to_string()
    }
}

/// Messages are one line each (a policy cannot inject line breaks into
/// the report through a quoted value).
pub fn one_line(s: &str) -> String {
    if s.contains(['\n', '\r']) {
        s.replace("\r\n", " ").replace(['\n', '\r'], " ")
    } else {
        s.to_string()
    }
}

/// Text from input made safe for a terminal: control characters (escape
/// sequences, carriage returns) escaped, so a name in a log cannot clear
/// the screen or forge a line.
pub fn safe(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_removes_breaks() {
        assert_eq!(one_line("a\nb\r\nc"), "a b c");
    }
}
