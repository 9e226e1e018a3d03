//! The one diagnostics printer: every line the binary writes on stderr
//! (other than progress bars and `record`'s live call list) goes through
//! it, so the prefixes, `-q` and terminal safety are decided here once.
//!
//! | Level | Prefix | Under `-q` |
//! |---|---|---|
//! | [`info`] | `iamref: ` | hidden (summaries, counts) |
//! | [`status`] | `iamref: ` | shown (where `record` listens, how to use it) |
//! | [`note`] | `iamref: note: ` | hidden (informational) |
//! | [`warning`] | `iamref: warning: ` | **shown**: a risk, a skipped input, or an answer broader than what was asked |
//! | [`error`] | `iamref: error: ` | shown |
//!
//! Text is made safe for a terminal: control characters are escaped (a name
//! from a log cannot clear the screen or move the cursor), and a message's
//! own line breaks are kept but every further line is indented, so text
//! from input can never forge a line of its own (`iamref: error: …`).

use std::fmt::Display;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// `-q`, set once by main.
pub fn set_quiet(q: bool) {
    QUIET.store(q, Ordering::Relaxed);
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// The level of a diagnostic; see the module's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn prefix(self) -> &'static str {
        match self {
            Level::Info => "iamref: ",
            Level::Note => "iamref: note: ",
            Level::Warning => "iamref: warning: ",
            Level::Error => "iamref: error: ",
        }
    }

    /// Printed under `-q`?
    pub fn survives_quiet(self) -> bool {
        matches!(self, Level::Warning | Level::Error)
    }
}

/// The message as it is printed: prefix, escaped control characters,
/// continuation lines indented by two spaces. Without a trailing newline.
pub fn render(level: Level, msg: &str) -> String {
    let mut s = String::with_capacity(msg.len() + 20);
    s.push_str(level.prefix());
    for (i, line) in msg.trim_end_matches('\n').split('\n').enumerate() {
        if i > 0 {
            // Indented (or already so): no line of input starts a line.
            s.push('\n');
            if !line.starts_with([' ', '\t']) {
                s.push_str("  ");
            }
        }
        for c in line.chars() {
            if c.is_control() && c != '\t' {
                s.extend(c.escape_default());
            } else {
                s.push(c);
            }
        }
    }
    s
}

/// Prints the messages at `level` in one write (stderr is unbuffered), or
/// nothing when `-q` hides the level.
pub fn emit<I, D>(level: Level, msgs: I)
where
    I: IntoIterator<Item = D>,
    D: Display,
{
    emit_mixed(msgs.into_iter().map(|m| (level, m)));
}

/// Messages of mixed levels, in order, in one write; those `-q` hides
/// are left out.
pub fn emit_mixed<I, D>(msgs: I)
where
    I: IntoIterator<Item = (Level, D)>,
    D: Display,
{
    let mut buf = String::new();
    for (level, m) in msgs {
        if quiet() && !level.survives_quiet() {
            continue;
        }
        buf.push_str(&render(level, &m.to_string()));
        buf.push('\n');
    }
    write_stderr(&buf);
}

/// One write to stderr. A closed stderr loses nothing else: the error is
/// ignored, the outputs were written first.
fn write_stderr(buf: &str) {
    if !buf.is_empty() {
        let _ = std::io::stderr().lock().write_all(buf.as_bytes());
    }
}

pub fn info(msg: impl Display) {
    emit(Level::Info, [msg]);
}

pub fn note(msg: impl Display) {
    emit(Level::Note, [msg]);
}

pub fn warning(msg: impl Display) {
    emit(Level::Warning, [msg]);
}

pub fn error(msg: impl Display) {
    emit(Level::Error, [msg]);
}

/// A line the run needs whatever `-q` says (where `record` listens and
/// how to point a workload at it), with the `info` prefix.
pub fn status(msg: impl Display) {
    write_stderr(&format!("{}\n", render(Level::Info, &msg.to_string())));
}

/// A note that says the answer is broader than what was asked (a widened
/// or collapsed resource): a warning, whatever `-q` says.
pub fn widening(msg: impl Display) {
    emit(Level::Warning, [msg]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_quiet_rule() {
        assert_eq!(render(Level::Note, "x"), "iamref: note: x");
        assert_eq!(render(Level::Warning, "x"), "iamref: warning: x");
        assert_eq!(render(Level::Error, "x"), "iamref: error: x");
        assert_eq!(render(Level::Info, "3 calls"), "iamref: 3 calls");
        assert!(!Level::Note.survives_quiet() && !Level::Info.survives_quiet());
        assert!(Level::Warning.survives_quiet() && Level::Error.survives_quiet());
    }

    #[test]
    fn input_cannot_forge_a_line_or_drive_the_terminal() {
        let hostile = "bucket\u{1b}[2J\r\niamref: error: forged\u{7}";
        let r = render(Level::Note, &format!("unknown {hostile}"));
        assert!(!r.chars().any(|c| c.is_control() && c != '\n'), "{r:?}");
        assert_eq!(
            r,
            "iamref: note: unknown bucket\\u{1b}[2J\\r\n  iamref: error: forged\\u{7}"
        );
        // Every line after the first is indented: none starts with the prefix.
        assert!(r.lines().skip(1).all(|l| l.starts_with("  ")));
        assert_eq!(render(Level::Info, "a\tb\n"), "iamref: a\tb");
        assert_eq!(render(Level::Info, "x:\n  A=1"), "iamref: x:\n  A=1");
    }
}
