//! Request lines read from a stream the caller opens (a file, standard
//! input): bounded (line length, request count), a chunk of lines at a
//! time parsed in parallel by [`super::requests::parse_line`], the first
//! bad line the one reported, as if read one by one. The binary words the
//! errors (with the input's name).

use super::batch::CHUNK;
use super::requests::{parse_line, Defaults, LineError};
use super::Request;
use rayon::prelude::*;
use std::io::{BufRead, Read};

/// The most requests one run reads.
pub const MAX_REQUESTS: usize = 1_000_000;
/// The longest request line read.
pub const MAX_LINE: usize = 1 << 20;
/// About the most bytes of request lines read at a time.
const CHUNK_BYTES: usize = 8 << 20;

/// Does an input starting with `head` (its first 64 KiB, say) hold
/// CloudTrail (`{"Records": [...]}`, a JSON list, or JSON lines of events
/// such as `iamref record --log` writes) rather than request lines?
pub fn is_cloudtrail(head: &str) -> bool {
    let t = head.trim_start();
    let first = t.lines().next().unwrap_or("");
    t.starts_with('[')
        || (t.starts_with('{')
            && (first.contains("\"Records\"")
                || first.contains("\"eventSource\"")
                || (first.trim() == "{" && t.contains("\"Records\""))))
}

/// Why the request lines could not be read (lines 1-based).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(std::io::Error),
    #[error("line {0}: a line longer than {MAX_LINE} bytes")]
    TooLong(usize),
    #[error("line {0}: not UTF-8 text")]
    NotUtf8(usize),
    /// A line that is not a request.
    #[error("line {line}: {error}")]
    Line { line: usize, error: LineError },
    #[error("more than {MAX_REQUESTS} requests")]
    TooMany,
    #[error("no requests")]
    Empty,
}

/// The requests of every line (blank lines skipped), each with its line;
/// `defaults` fill what a line does not say.
pub fn read(
    mut reader: impl BufRead,
    defaults: &Defaults,
) -> Result<Vec<(Option<usize>, Request)>, ReadError> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut n = 0;
    // Lines are read a chunk at a time and parsed in parallel; errors are
    // reported for the first line that has one, as if read one by one.
    let mut lines: Vec<(usize, String)> = Vec::with_capacity(CHUNK);
    let mut done = false;
    while !done {
        lines.clear();
        let mut stop: Option<ReadError> = None;
        let mut bytes = 0;
        // A chunk holds at most CHUNK lines and about CHUNK_BYTES of them
        // (lines may each be MAX_LINE long).
        while lines.len() < CHUNK && bytes < CHUNK_BYTES {
            buf.clear();
            let got = match (&mut reader)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut buf)
            {
                Ok(got) => got,
                Err(e) => {
                    stop = Some(ReadError::Io(e));
                    break;
                }
            };
            if got == 0 {
                done = true;
                break;
            }
            n += 1;
            if buf.len() > MAX_LINE && !buf.ends_with(b"\n") {
                stop = Some(ReadError::TooLong(n));
                break;
            }
            let Ok(line) = std::str::from_utf8(&buf) else {
                stop = Some(ReadError::NotUtf8(n));
                break;
            };
            let line = line.trim();
            if !line.is_empty() {
                bytes += line.len();
                lines.push((n, line.to_string()));
            }
        }
        let parsed: Vec<_> = lines
            .par_iter()
            .map(|(_, line)| parse_line(line, defaults))
            .collect();
        for ((n, _), requests) in lines.iter().zip(parsed) {
            let requests = requests.map_err(|error| ReadError::Line { line: *n, error })?;
            for r in requests {
                if out.len() >= MAX_REQUESTS {
                    return Err(ReadError::TooMany);
                }
                out.push((Some(*n), r));
            }
        }
        if let Some(e) = stop {
            return Err(e);
        }
    }
    if out.is_empty() {
        return Err(ReadError::Empty);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &[u8]) -> Result<Vec<(Option<usize>, Request)>, ReadError> {
        read(text, &Defaults::default())
    }

    #[test]
    fn cloudtrail_is_told_from_request_lines_by_its_head() {
        // Constructed heads.
        for trail in [
            "{\"Records\": [{\"eventSource\": \"s3.amazonaws.com\"}]}",
            "  [{\"eventName\": \"GetObject\"}]",
            "{\"eventSource\": \"s3.amazonaws.com\", \"eventName\": \"GetObject\"}\n",
            "{\n  \"Records\": []\n}",
        ] {
            assert!(is_cloudtrail(trail), "{trail}");
        }
        for lines in [
            "{\"action\": \"s3:GetObject\"}\n{\"action\": \"s3:PutObject\"}",
            "{\"action\": \"s3:GetObject\"}\n{\"Records\": []}",
            "",
            "s3:GetObject",
        ] {
            assert!(!is_cloudtrail(lines), "{lines}");
        }
    }

    #[test]
    fn every_line_gives_its_requests_with_its_line_number() {
        let text = b"{\"action\": \"s3:GetObject\", \"resource\": \"arn:aws:s3:::b/k\"}\n\n  \n{\"action\": \"s3:ListBucket\", \"resources\": [\"arn:aws:s3:::b\", \"arn:aws:s3:::c\"]}\n";
        let got = read_text(text).unwrap();
        let lines: Vec<_> = got
            .iter()
            .map(|(n, r)| (n.unwrap(), r.action.as_str(), r.resource.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                (1, "s3:GetObject", "arn:aws:s3:::b/k"),
                (4, "s3:ListBucket", "arn:aws:s3:::b"),
                (4, "s3:ListBucket", "arn:aws:s3:::c"),
            ]
        );
    }

    #[test]
    fn the_first_bad_line_is_the_one_reported_across_chunks() {
        // Constructed: more lines than a chunk, the first bad one in the
        // second chunk, another bad one after it.
        let mut text = String::new();
        for _ in 0..CHUNK + 3 {
            text.push_str("{\"action\": \"s3:GetObject\"}\n");
        }
        text.push_str("{\"resource\": \"*\"}\n");
        text.push_str("not json\n");
        match read_text(text.as_bytes()) {
            Err(ReadError::Line {
                line,
                error: LineError::NoAction,
            }) => assert_eq!(line, CHUNK + 4),
            other => panic!("{other:?}"),
        }
        // A bad line before an unreadable one is still reported first.
        let mut text = b"{}\n".to_vec();
        text.extend_from_slice(b"\xff\n");
        assert!(matches!(
            read_text(&text),
            Err(ReadError::Line { line: 1, .. })
        ));
    }

    #[test]
    fn long_lines_text_that_is_not_utf8_and_empty_input_are_refused() {
        let mut long = b"{\"action\": \"s3:GetObject\"}\n".to_vec();
        long.extend(std::iter::repeat_n(b' ', MAX_LINE + 1));
        assert!(matches!(read_text(&long), Err(ReadError::TooLong(2))));
        // A line of exactly MAX_LINE bytes and its newline is read.
        let mut exact = vec![b' '; MAX_LINE - 2];
        exact.extend_from_slice(b"{}");
        exact.push(b'\n');
        assert!(matches!(
            read_text(&exact),
            Err(ReadError::Line { line: 1, .. })
        ));
        assert!(matches!(
            read_text(b"{\"action\": \"s3:GetObject\"}\n\xc3\n"),
            Err(ReadError::NotUtf8(2))
        ));
        assert!(matches!(read_text(b"\n \n"), Err(ReadError::Empty)));
    }
}
