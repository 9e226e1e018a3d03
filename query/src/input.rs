//! Reading a command's input file: a path, or `-` (or nothing) for stdin.

use crate::exit::input;
use anyhow::{Context, Result};
use std::io::{BufReader, Read};
use std::path::Path;

/// A stream of `file` (stdin for `-` or `None`) buffered with `capacity`
/// bytes, and the name to show in messages. A file that cannot be opened
/// is an input error (exit 2).
pub fn open(file: Option<&Path>, capacity: usize) -> Result<(String, BufReader<Box<dyn Read>>)> {
    let (name, raw): (String, Box<dyn Read>) = match file {
        Some(p) if p.as_os_str() != "-" => (
            p.display().to_string(),
            Box::new(std::fs::File::open(p).map_err(|e| input(format!("{}: {e}", p.display())))?),
        ),
        _ => ("stdin".to_string(), Box::new(std::io::stdin())),
    };
    Ok((name, BufReader::with_capacity(capacity, raw)))
}

/// The text of `file` (stdin for `-` or `None`) and the name to show in
/// messages. Unreadable or non-UTF-8 input is an input error (exit 2).
pub fn read_text(file: Option<&Path>) -> Result<(String, String)> {
    let (name, bytes) = match file {
        Some(p) if p.as_os_str() != "-" => (
            p.display().to_string(),
            std::fs::read(p).map_err(|e| input(format!("{}: {e}", p.display())))?,
        ),
        _ => {
            let mut v = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut v)
                .context("reading stdin")?;
            ("stdin".to_string(), v)
        }
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        input(format!(
            "{name}: not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok((name, text))
}
