//! The README's examples, checked: every ```console block of README.md is
//! run, command by command, and its output must match what the README
//! shows. So the README cannot promise output the binary does not give.
//!
//! Format (the same as trycmd's Markdown cases):
//!
//! ````text
//! ```console
//! $ iamref expand 's3:Get*Tagging'
//! s3:GetBucketTagging
//! ...
//! $ iamref check s3:ListAllMyBuckets
//! ? 1
//! s3:ListAllMyBuckets[..]
//! ```
//! ````
//!
//! - `$ ` starts a command; a line ending in `\` continues it on the next
//!   line (as in a shell), and so does a line starting with `> `.
//! - An optional `? N` line right after the command gives the expected exit
//!   code (`? success` = 0, `? failed` = any non-zero); without it the
//!   command must exit 0.
//! - The lines after it, up to the next `$ ` or the end of the block, are the
//!   expected output: stdout and stderr as a terminal shows them. `...` on a
//!   line of its own stands for any number of lines, `[..]` for any text
//!   within a line. Use them only where the output really varies.
//!
//! Each command runs under `sh -c` in a pseudo-terminal (so the output is
//! what a user sees in a terminal: aligned tables with headers), 100
//! columns wide, with `NO_COLOR=1`, the working directory at the repository
//! root (examples read files committed under `examples/`), the freshly built
//! `iamref` first on `PATH`, and a throwaway cache folder
//! (`IAMREF_CACHE_DIR`), so the answers come from the snapshot embedded from
//! `data/`. Commands must start with `iamref` or `cat` (to show an example
//! file); a command naming `../shared/corpus` is skipped, with a message,
//! when the corpus is absent (a failure under `IAMREF_TEST_STRICT=1`).
//!
//! On a mismatch the test prints the real output of every failing command,
//! ready to paste; `README_OVERWRITE=1 cargo test -p iamref-query --test
//! cli readme::` writes it into README.md instead (review the diff: elisions in
//! the rewritten examples are lost).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One command of a console block and what the README expects of it.
#[derive(Debug)]
struct Case {
    /// 1-based line of the `$ ` line in the file.
    line: usize,
    /// The command as `sh -c` gets it (continuation lines joined by `\n`).
    command: String,
    status: Status,
    expected: Vec<String>,
    /// 0-based range of the expected-output lines in the file (for
    /// overwriting).
    output_lines: std::ops::Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Status {
    Code(i32),
    Failed,
}

use crate::support::root;

/// The console blocks' commands, in order. Errors name the line.
fn parse(text: &str) -> Result<Vec<Case>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut cases = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let fence = lines[i].trim_start();
        if !(fence.starts_with("```console") || fence.starts_with("```trycmd")) {
            i += 1;
            continue;
        }
        i += 1;
        let mut current: Option<Case> = None;
        loop {
            let Some(&l) = lines.get(i) else {
                return Err("a ```console block is not closed".into());
            };
            if l.trim_start().starts_with("```") {
                break;
            }
            if let Some(cmd) = l.strip_prefix("$ ") {
                cases.extend(current.take());
                let start = i;
                let mut command = cmd.to_string();
                while command.ends_with('\\')
                    || lines.get(i + 1).is_some_and(|n| n.starts_with("> "))
                {
                    i += 1;
                    let Some(&next) = lines.get(i) else {
                        return Err(format!(
                            "line {}: the command continues past the end",
                            start + 1
                        ));
                    };
                    command.push('\n');
                    command.push_str(next.strip_prefix("> ").unwrap_or(next));
                }
                let mut status = Status::Code(0);
                if let Some(s) = lines.get(i + 1).and_then(|n| n.strip_prefix("? ")) {
                    i += 1;
                    status = match s.trim() {
                        "success" => Status::Code(0),
                        "failed" => Status::Failed,
                        n => Status::Code(n.parse().map_err(|_| {
                            format!(
                                "line {}: `? {n}`: expected an exit code, `success` or `failed`",
                                i + 1
                            )
                        })?),
                    };
                }
                let first = command.split_whitespace().next().unwrap_or("");
                if first != "iamref" && first != "cat" {
                    return Err(format!(
                        "line {}: `{first}`: README console examples run `iamref` (or `cat` to show a file); put other commands in a ```sh block",
                        start + 1
                    ));
                }
                current = Some(Case {
                    line: start + 1,
                    command,
                    status,
                    expected: Vec::new(),
                    output_lines: i + 1..i + 1,
                });
            } else {
                let Some(c) = current.as_mut() else {
                    return Err(format!(
                        "line {}: output before any `$ ` command in a ```console block",
                        i + 1
                    ));
                };
                c.expected.push(l.to_string());
                c.output_lines.end = i + 1;
            }
            i += 1;
        }
        cases.extend(current.take());
        i += 1;
    }
    Ok(cases)
}

/// Does one line match a pattern line with `[..]` wildcards?
fn line_matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || line.len() < first.len() + last.len() || !line.ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(at) => rest = &rest[at + p.len()..],
            None => return false,
        }
    }
    true
}

/// Do the lines match the pattern lines (with `...` lines)?
fn lines_match(pattern: &[String], lines: &[&str]) -> bool {
    // Positions reachable in `lines` after each pattern line; bounded by
    // pattern × lines.
    let mut reach = vec![false; lines.len() + 1];
    reach[0] = true;
    for p in pattern {
        let mut next = vec![false; lines.len() + 1];
        if p == "..." {
            let mut on = false;
            for j in 0..=lines.len() {
                on |= reach[j];
                next[j] = on;
            }
        } else {
            for j in 0..lines.len() {
                if reach[j] && line_matches(p, lines[j]) {
                    next[j + 1] = true;
                }
            }
        }
        reach = next;
    }
    reach[lines.len()]
}

/// Run a command under `sh -c` in a pseudo-terminal; its exit code and
/// everything it wrote to stdout and stderr, as a terminal shows it.
#[cfg(unix)]
fn run_in_pty(command: &str, env: &[(&str, String)], cwd: &Path) -> Result<(i32, String), String> {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::process::{Command, Stdio};

    let mut master: libc::c_int = -1;
    let mut slave: libc::c_int = -1;
    let size = libc::winsize {
        ws_row: 50,
        ws_col: 100,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors we then own.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    if rc != 0 {
        return Err(format!("openpty: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: both descriptors were just opened and are owned here only.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(cwd)
        .env_remove("IAMREF_DB")
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave.try_clone().map_err(|e| e.to_string())?))
        .stderr(Stdio::from(slave));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().map_err(|e| format!("sh: {e}"))?;
    drop(cmd); // closes our copies of the terminal's slave side
    let mut master = std::fs::File::from(master);
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            match master.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // EIO: every slave descriptor is closed (the command ended).
                Err(_) => break,
            }
        }
        out
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(s) => break s,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("still running after 120 s; killed".into());
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let out = reader
        .join()
        .map_err(|_| "reader thread panicked".to_string())?;
    let text = String::from_utf8_lossy(&out).replace("\r\n", "\n");
    Ok((status.code().unwrap_or(-1), text))
}

#[cfg(unix)]
#[test]
fn readme_examples_are_real() {
    let root = root();
    let readme_path = root.join("README.md");
    let text = std::fs::read_to_string(&readme_path).unwrap();
    let cases = parse(&text).unwrap_or_else(|e| panic!("README.md: {e}"));
    assert!(
        !cases.is_empty(),
        "README.md has no ```console examples to check"
    );
    let corpus = root.join("../shared/corpus");
    let cache = tempfile::TempDir::new().unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_iamref"));
    let path = std::env::join_paths(std::iter::once(bin.parent().unwrap().to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let env = [
        ("PATH", path.to_string_lossy().into_owned()),
        ("IAMREF_CACHE_DIR", cache.path().display().to_string()),
        ("NO_COLOR", "1".to_string()),
        ("COLUMNS", "100".to_string()),
        ("LINES", "50".to_string()),
        ("TERM", "dumb".to_string()),
    ];
    let mut failures = String::new();
    let mut rewrites: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut ran = 0;
    for case in &cases {
        if case.command.contains("../shared/corpus") && !corpus.is_dir() {
            iamref_testkit::skip(format!(
                "README.md:{}: needs the corpus at {}, absent",
                case.line,
                corpus.display()
            ));
            continue;
        }
        ran += 1;
        let (code, out) = match run_in_pty(&case.command, &env, &root) {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(
                    failures,
                    "README.md:{}: `{}`: {e}\n",
                    case.line, case.command
                );
                continue;
            }
        };
        let lines: Vec<&str> = out.lines().collect();
        let status_ok = match case.status {
            Status::Code(c) => c == code,
            Status::Failed => code != 0,
        };
        if status_ok && lines_match(&case.expected, &lines) {
            continue;
        }
        let _ = writeln!(
            failures,
            "README.md:{}: `{}`\n  exit code {code}{}\n  --- README shows:\n{}\n  --- the binary printed:\n{}\n",
            case.line,
            case.command,
            if status_ok {
                String::new()
            } else {
                format!(" (README expects {:?})", case.status)
            },
            case.expected.join("\n"),
            out.trim_end_matches('\n')
        );
        let mut real = out.trim_end_matches('\n').to_string();
        if code != 0 {
            real = format!("? {code}\n{real}");
        }
        rewrites.push((case.output_lines.clone(), real));
    }
    if failures.is_empty() {
        eprintln!("README.md: {ran} example command(s) checked");
        return;
    }
    if std::env::var_os("README_OVERWRITE").is_some() {
        overwrite(&readme_path, &text, rewrites);
        panic!("README.md rewritten with the real output; review the diff:\n{failures}");
    }
    panic!(
        "README.md examples differ from the real output (README_OVERWRITE=1 rewrites them):\n\n{failures}"
    );
}

/// Replace the expected output (and `? N` line) of the failing commands.
fn overwrite(path: &Path, text: &str, rewrites: Vec<(std::ops::Range<usize>, String)>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    let mut i = 0;
    for (range, real) in rewrites {
        // Drop a `? N` line written for the old output.
        let status_line = (range.start > 0 && lines[range.start - 1].starts_with("? "))
            .then_some(range.start - 1);
        let from = status_line.unwrap_or(range.start);
        for l in &lines[i..from] {
            out.push_str(l);
            out.push('\n');
        }
        if !real.is_empty() {
            out.push_str(&real);
            out.push('\n');
        }
        i = range.end;
    }
    for l in &lines[i..] {
        out.push_str(l);
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn elisions() {
    assert!(line_matches("a[..]c", "abbbc"));
    assert!(line_matches("a[..]", "a"));
    assert!(!line_matches("a[..]c", "abbb"));
    assert!(!line_matches("ab[..]ba", "aba"));
    assert!(line_matches("[..]x[..]y", "zzxzzy"));
    let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(lines_match(&p(&["a", "...", "d"]), &["a", "b", "c", "d"]));
    assert!(lines_match(&p(&["a", "...", "d"]), &["a", "d"]));
    assert!(!lines_match(&p(&["a", "d"]), &["a", "b", "d"]));
    assert!(lines_match(&p(&["..."]), &[]));
    assert!(!lines_match(&p(&["a"]), &[]));
    assert!(!lines_match(&p(&[]), &["a"]));
}

#[test]
fn parses_blocks() {
    let text =
        "x\n```console\n$ iamref a \\\n  b\n? 1\nout\n$ cat f\n```\n```sh\n$ rm -rf /\n```\n";
    let cases = parse(text).unwrap();
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0].command, "iamref a \\\n  b");
    assert_eq!(cases[0].status, Status::Code(1));
    assert_eq!(cases[0].expected, vec!["out".to_string()]);
    assert_eq!(cases[0].line, 3);
    assert!(cases[1].expected.is_empty());
    assert!(parse("```console\n$ ls\n```\n")
        .unwrap_err()
        .contains("line 2"));
    assert!(parse("```console\nout\n```\n")
        .unwrap_err()
        .contains("before any"));
}

/// The README's first lines give a newcomer the two commands: the main job
/// on the embedded default, and all tests, which must be exactly what
/// `.ci/run` runs.
#[test]
fn readme_opens_with_the_commands_ci_runs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let block: Vec<&str> = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("README.md opens with a ```sh block")
        .lines()
        .map(|l| l.split(" #").next().unwrap().trim())
        .collect();
    assert_eq!(block.len(), 2, "{block:?}");
    assert!(
        readme.find("```sh").unwrap() < readme.find("## ").unwrap(),
        "the commands come before the first section"
    );
    assert!(block[0].starts_with("cargo run -- "), "{block:?}");
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == block[1]),
        ".ci/run does not run the README's test command {:?}",
        block[1]
    );
    assert!(
        ci.contains("export IAMREF_TEST_STRICT=1"),
        ".ci/run sets strict mode"
    );
}
