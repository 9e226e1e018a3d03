//! Each command takes only the `--format` values it prints: its help lists
//! those and no other command's, and any other value is refused by the
//! argument parser (exit 2, naming the possible values) before any work.

use crate::support::iamref;

/// (arguments before `-h`, the formats the command prints).
const FORMATS: &[(&[&str], &str)] = &[
    (&["action"], "table, json, jsonl, tsv"),
    (&["check"], "table, json, jsonl, tsv"),
    (&["actions"], "table, json, jsonl, tsv"),
    (&["expand"], "table, json, jsonl, tsv"),
    (&["services"], "table, json, jsonl, tsv"),
    (&["service"], "table, json, jsonl, tsv"),
    (&["resource-type"], "table, json, jsonl, tsv"),
    (&["condition-key"], "table, json, jsonl, tsv"),
    (&["arn"], "table, json, jsonl, tsv"),
    (&["sql"], "table, json, jsonl, tsv"),
    (&["api"], "table, json, jsonl, tsv"),
    (&["sdk"], "table, json, jsonl, tsv"),
    (&["calls"], "table, json, jsonl, tsv"),
    (&["crosscheck"], "table, json, jsonl, tsv"),
    (&["explain"], "table, json, jsonl"),
    (&["record"], "table, json, jsonl"),
    (&["policy", "simulate"], "table, json, jsonl"),
    (&["policy", "prune"], "table, json, jsonl"),
    (&["policy", "write"], "table, json, jsonl, yaml, terraform"),
    (
        &["policy", "tighten"],
        "table, json, jsonl, yaml, terraform",
    ),
    (&["policy", "check"], "table, json, jsonl, tsv, sarif"),
    (&["diff"], "table, json, jsonl, tsv, markdown"),
    (
        &["export"],
        "json, sqlite, snapshot, csv, jsonl, policy-sentry",
    ),
];

#[test]
fn help_lists_only_the_commands_own_formats() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, formats) in FORMATS {
        let out = iamref(tmp.path()).args(*args).arg("-h").output().unwrap();
        assert!(out.status.success(), "{args:?}");
        let help = String::from_utf8(out.stdout).unwrap();
        // clap wraps help to the width; compare with whitespace collapsed.
        let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
        let at = flat
            .find("-f, --format <FORMAT>")
            .unwrap_or_else(|| panic!("{args:?}: no --format in\n{help}"));
        let rest = &flat[at..];
        let values = rest
            .find("[possible values: ")
            .map(|i| &rest[i..=i + rest[i..].find(']').unwrap()])
            .unwrap_or_else(|| panic!("{args:?}: no possible values in\n{help}"));
        assert_eq!(values, format!("[possible values: {formats}]"), "{args:?}");
        // One --format, the command's own (the old global flag listed
        // every command's formats in every help).
        assert_eq!(flat.matches("-f, --format").count(), 1, "{args:?}");
        assert!(!flat.contains("for `export`"), "{args:?}");
    }
}

#[test]
fn commands_without_output_formats_take_no_format() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        &["build"][..],
        &["crawl"],
        &["man"],
        &["completions", "bash"],
    ] {
        let out = iamref(tmp.path())
            .args(args)
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("unexpected argument '--format'"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_format_another_command_prints_is_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, bad, formats) in [
        (&["calls", "-"][..], "sarif", "table, json, jsonl, tsv"),
        (
            &["policy", "simulate", "--action", "s3:GetObject"],
            "tsv",
            "table, json, jsonl",
        ),
        (
            &["policy", "write", "s3:GetObject"],
            "tsv",
            "table, json, jsonl, yaml, terraform",
        ),
        (
            &["action", "s3:GetObject"],
            "markdown",
            "table, json, jsonl, tsv",
        ),
    ] {
        let out = iamref(tmp.path())
            .args(args)
            .args(["--format", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("invalid value '{bad}' for '--format <FORMAT>'"))
                && err.contains(&format!("[possible values: {formats}]")),
            "{args:?}: {err}"
        );
        // Refused by the parser: the embedded snapshot was never opened.
        assert!(
            std::fs::read_dir(tmp.path()).unwrap().next().is_none(),
            "{args:?} did work before refusing"
        );
    }
}

#[test]
fn formats_ignore_case_and_keep_their_aliases() {
    let tmp = tempfile::tempdir().unwrap();
    let out = iamref(tmp.path())
        .args(["action", "sqs:SendMessage", "-f", "JSON"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["prefix"], "sqs");
    assert_eq!(v[0]["action"], "SendMessage");
    for alias in ["md", "markdown"] {
        let d = tmp.path().join("d");
        std::fs::create_dir_all(&d).unwrap();
        let out = iamref(tmp.path())
            .args(["diff", "-f", alias])
            .arg(&d)
            .arg(&d)
            .output()
            .unwrap();
        // An empty folder is not data: refused the same way for both names.
        assert_eq!(out.status.code(), Some(2), "{alias}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("--format"));
    }
}
