//! Calls read from a caller's inputs into one [`Recording`]: the
//! CloudTrail files of a folder tree (each opened by the caller: plain or
//! gzip; one that cannot be opened is skipped and named, never losing the
//! others), or one stream, CloudTrail or a list of calls
//! ([`log::read_stream`]). `iamref calls`, `policy write
//! --from-cloudtrail`, `policy prune` and `policy simulate` over a trail
//! read through here; the binary opens the files and words the typed
//! [`InputError`]s.

use super::cloudtrail::{self, Filter, ReadStats};
use super::log;
use super::ops::OperationIndex;
use super::{Call, Options, Recording};
use std::io::BufRead;
use std::path::Path;

/// What reading some input gave.
pub struct Input {
    pub recording: Recording,
    /// What the CloudTrail records counted; `None` for a list of calls.
    pub trail: Option<ReadStats>,
    /// The files read (1 for one stream).
    pub files: usize,
}

impl Input {
    /// Records that could not be read (the output covers the others).
    pub fn skipped(&self) -> u64 {
        self.trail.as_ref().map_or(0, |t| t.skipped)
    }
}

/// Why an input gave no recording (each names the input).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A folder without a CloudTrail file in it or below.
    #[error("{0}: no CloudTrail files (.json, .jsonl, .json.gz) in this folder or below")]
    NoFiles(String),
    /// The folder tree could not be walked ([`cloudtrail::files`]).
    #[error("{0}")]
    Walk(String),
    /// Reading one of a folder's CloudTrail files stopped
    /// ([`cloudtrail::read`]).
    #[error("{0}")]
    Trail(String),
    /// The one stream could not be read ([`log::read_stream`]).
    #[error(transparent)]
    Stream(#[from] log::ReadError),
}

/// The CloudTrail files of the tree at `dir` ([`cloudtrail::files`]),
/// in order, each opened by `open` (its name and stream, or why not:
/// skipped and named in the stats), filtered, each call mapped into the
/// recording and handed to `each`.
pub fn read_folder<R: BufRead>(
    idx: &OperationIndex,
    dir: &Path,
    mut open: impl FnMut(&Path) -> Result<(String, R), String>,
    filter: &Filter,
    options: Options,
    each: &mut dyn FnMut(&Call),
) -> Result<Input, InputError> {
    let files = cloudtrail::files(dir).map_err(InputError::Walk)?;
    if files.is_empty() {
        return Err(InputError::NoFiles(dir.display().to_string()));
    }
    let mut rec = Recording::new(options);
    let mut stats = ReadStats::default();
    for f in &files {
        // One unreadable file never loses the others.
        let (name, r) = match open(f) {
            Ok(x) => x,
            Err(e) => {
                stats.skip(e);
                continue;
            }
        };
        cloudtrail::read(r, &name, filter, &mut stats, |c| {
            rec.add(idx, &c);
            each(&c);
        })
        .map_err(InputError::Trail)?;
    }
    Ok(Input {
        recording: rec,
        trail: Some(stats),
        files: files.len(),
    })
}

/// One stream named `name` ([`log::read_stream`]: CloudTrail records,
/// filtered, or a list of calls), each call mapped into the recording and
/// handed to `each`.
pub fn read_stream(
    idx: &OperationIndex,
    r: impl BufRead,
    name: &str,
    filter: &Filter,
    options: Options,
    each: &mut dyn FnMut(&Call),
) -> Result<Input, InputError> {
    let mut rec = Recording::new(options);
    let mut stats = ReadStats::default();
    let kind = log::read_stream(r, name, filter, &mut stats, |c| {
        rec.add(idx, &c);
        each(&c);
    })?;
    Ok(Input {
        recording: rec,
        trail: (kind == log::Kind::Trail).then_some(stats),
        files: 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ops::tests::snapshot_index;
    use std::io::Cursor;

    /// A constructed CloudTrail record.
    fn record(name: &str) -> String {
        format!(
            r#"{{"eventVersion":"1.08","eventSource":"sqs.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","recipientAccountId":"123456789012","eventTime":"2026-06-01T10:00:00Z"}}"#
        )
    }

    #[test]
    fn a_list_of_calls_has_no_trail_stats() {
        let mut seen = Vec::new();
        let r = read_stream(
            snapshot_index(),
            Cursor::new("sqs:SendMessage\n"),
            "in",
            &Filter::default(),
            Options::default(),
            &mut |c| seen.push(c.operation.clone()),
        )
        .unwrap();
        assert!(r.trail.is_none());
        assert_eq!((r.files, r.skipped()), (1, 0));
        assert_eq!(seen, ["SendMessage"]);
        assert!(r.recording.need("sqs:SendMessage").is_some());
    }

    #[test]
    fn a_filter_on_a_list_is_refused_naming_the_stream() {
        let filter = Filter {
            principal: Some("arn:aws:iam::123456789012:role/app".into()),
            ..Default::default()
        };
        let e = read_stream(
            snapshot_index(),
            Cursor::new("sqs:SendMessage\n"),
            "calls.txt",
            &filter,
            Options::default(),
            &mut |_| {},
        )
        .err()
        .unwrap();
        assert!(
            matches!(&e, InputError::Stream(log::ReadError::FilterOnList(n)) if n == "calls.txt"),
            "{e:?}"
        );
    }

    #[test]
    fn a_folder_reads_every_file_and_skips_what_cannot_be_opened() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("us-east-1");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(
            sub.join("a.json"),
            format!(r#"{{"Records":[{}]}}"#, record("SendMessage")),
        )
        .unwrap();
        std::fs::write(sub.join("b.jsonl"), record("ReceiveMessage") + "\n").unwrap();
        std::fs::write(sub.join("c.json"), "unopened").unwrap();
        std::fs::write(sub.join("notes.txt"), "not a trail").unwrap();
        let mut seen = Vec::new();
        let r = read_folder(
            snapshot_index(),
            dir.path(),
            |p: &Path| {
                if p.ends_with("c.json") {
                    return Err(format!("{}: refused", p.display()));
                }
                let f = std::fs::File::open(p).map_err(|e| e.to_string())?;
                Ok((p.display().to_string(), std::io::BufReader::new(f)))
            },
            &Filter::default(),
            Options::default(),
            &mut |c| seen.push(c.operation.clone()),
        )
        .unwrap();
        assert_eq!(r.files, 3);
        assert_eq!(seen, ["SendMessage", "ReceiveMessage"]);
        let t = r.trail.as_ref().unwrap();
        assert_eq!((t.records, t.skipped), (2, 1));
        assert!(t.skipped_at[0].ends_with("c.json: refused"), "{t:?}");
        assert_eq!(r.skipped(), 1);
        assert!(r.recording.need("sqs:ReceiveMessage").is_some());
    }

    #[test]
    fn a_folder_without_trail_files_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let e = read_folder(
            snapshot_index(),
            dir.path(),
            |p: &Path| -> Result<(String, Cursor<Vec<u8>>), String> {
                Err(p.display().to_string())
            },
            &Filter::default(),
            Options::default(),
            &mut |_| {},
        )
        .err()
        .unwrap();
        assert!(matches!(&e, InputError::NoFiles(d) if *d == dir.path().display().to_string()));
        assert!(e
            .to_string()
            .ends_with("no CloudTrail files (.json, .jsonl, .json.gz) in this folder or below"));
    }
}
