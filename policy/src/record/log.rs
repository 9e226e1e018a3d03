//! What `iamref record` writes and what `calls` / `policy write
//! --from-cloudtrail` / `policy prune` read, pure over bytes:
//!
//! - the call log's line, CloudTrail-shaped (so a log replays through the
//!   CloudTrail reader), from a CSM datagram or a call the proxy saw;
//! - one input stream classified (CloudTrail JSON, else a list of
//!   `service:Operation` lines) and read into calls.
//!
//! The caller opens the files (gzip, folders, stdin) and hands in the
//! clock's time.

use super::cloudtrail::{self, Filter, ReadStats};
use super::{csm, service_ids, Call, ServiceRef};
use serde_json::{json, Value};
use std::io::BufRead;

pub use iamref_dataset::domain::iso_utc as iso;

/// One call log line for a CSM datagram, at its own time or else `now_ms`.
/// Never carries credentials: the datagram's access key was reduced to
/// its account id when parsed.
pub fn csm_line(
    d: &csm::Datagram,
    account: Option<&str>,
    prefix: Option<&str>,
    now_ms: i64,
) -> Value {
    let source = match prefix {
        Some(p) => cloudtrail::event_source_for(p),
        None => format!(
            "{}.amazonaws.com",
            d.service.to_ascii_lowercase().replace(' ', "-")
        ),
    };
    let mut v = json!({
        "eventTime": iso(d.timestamp.unwrap_or(now_ms)),
        "eventSource": source,
        "eventName": service_ids::strip_api_version(&d.api),
        "sdkServiceId": d.service,
        "sdkApi": d.api,
        "awsRegion": d.region,
        "recipientAccountId": account,
        "httpStatus": d.final_http_status,
        "eventType": "iamrefCsmCall",
    });
    if let Some(e) = d.failure() {
        v["errorCode"] = json!(e);
    }
    if let Some(a) = &d.denied_action {
        v["errorMessage"] = json!(format!("not authorized to perform: {a}"));
    }
    if let Some(ua) = &d.user_agent {
        v["userAgent"] = json!(ua);
    }
    v
}

/// One call log line for a call the proxy saw at `now_ms`: the shape of
/// [`csm_line`], with the members naming resources as `requestParameters`
/// (never a credential, header or body).
pub fn proxy_line(c: &Call, prefix: Option<&str>, now_ms: i64) -> Value {
    let sdk = match &c.service {
        Some(ServiceRef::SdkId(id)) => Some(id.clone()),
        _ => None,
    };
    let source = match (prefix, &c.service) {
        (Some(p), _) => cloudtrail::event_source_for(p),
        (None, Some(s)) => format!(
            "{}.amazonaws.com",
            s.as_str().to_ascii_lowercase().replace(' ', "-")
        ),
        (None, None) => String::new(),
    };
    let mut v = json!({
        "eventTime": iso(now_ms),
        "eventSource": source,
        "eventName": c.operation,
        "awsRegion": c.region,
        "recipientAccountId": c.account,
        "httpStatus": c.status,
        "eventType": "iamrefProxyCall",
    });
    if let Some(id) = sdk {
        v["sdkServiceId"] = json!(id);
    }
    if let Some(p) = &c.params {
        v["requestParameters"] = p.clone();
    }
    if let Some(e) = &c.error {
        v["errorCode"] = json!(e);
    }
    if let Some(a) = &c.denied_action {
        v["errorMessage"] = json!(format!("not authorized to perform: {a}"));
    }
    v
}

/// Does the stream start with JSON (`{` or `[`, after white space)?
pub fn starts_json(r: &mut dyn BufRead) -> std::io::Result<bool> {
    loop {
        let b = r.fill_buf()?;
        if b.is_empty() {
            return Ok(false);
        }
        match b.iter().position(|c| !c.is_ascii_whitespace()) {
            Some(i) => return Ok(matches!(b[i], b'{' | b'[')),
            None => {
                let n = b.len();
                r.consume(n);
            }
        }
    }
}

/// What one stream held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// CloudTrail records (counted in the [`ReadStats`]).
    Trail,
    /// Lines of `service:Operation` (or `service Operation`).
    List,
}

/// Why a stream could not be read (each names the stream).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// CloudTrail reading stopped (see [`cloudtrail::read`]).
    #[error("{0}")]
    Trail(String),
    /// A record filter was given for a list of calls.
    #[error("{0}: the filters of CloudTrail records do not apply to a list of calls")]
    FilterOnList(String),
    #[error("{name}: not UTF-8 text ({message})")]
    NotText { name: String, message: String },
    #[error("{name}: line {line}: {text:?}: expected service:Operation or service Operation")]
    BadLine {
        name: String,
        line: usize,
        text: String,
    },
}

impl Filter {
    /// Does the filter leave any record out?
    pub fn any(&self) -> bool {
        self.principal.is_some() || self.since.is_some() || self.until.is_some()
    }
}

/// Read one stream named `name`: CloudTrail records when it starts with
/// JSON (filtered, counted in `stats`), else a list of calls (one
/// `service:Operation` or `service Operation` a line; blank lines and `#`
/// comments skipped), which no filter may be given for. Each call goes
/// to `add`.
pub fn read_stream(
    mut r: impl BufRead,
    name: &str,
    filter: &Filter,
    stats: &mut ReadStats,
    mut add: impl FnMut(Call),
) -> Result<Kind, ReadError> {
    if starts_json(&mut r)? {
        cloudtrail::read(r, name, filter, stats, add).map_err(ReadError::Trail)?;
        return Ok(Kind::Trail);
    }
    if filter.any() {
        return Err(ReadError::FilterOnList(name.into()));
    }
    let mut text = String::new();
    r.read_to_string(&mut text)
        .map_err(|e| ReadError::NotText {
            name: name.into(),
            message: e.to_string(),
        })?;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = if line.contains(':') {
            line.splitn(2, ':').map(str::trim).collect()
        } else {
            line.split_whitespace().collect()
        };
        match parts.as_slice() {
            [s, o] if !s.is_empty() && !o.is_empty() && !o.contains([':', ' ', '\t']) => {
                add(Call {
                    at: format!("{name}: line {}", i + 1),
                    service: Some(ServiceRef::Prefix(s.to_string())),
                    operation: o.to_string(),
                    ..Default::default()
                });
            }
            _ => {
                return Err(ReadError::BadLine {
                    name: name.into(),
                    line: i + 1,
                    text: line.into(),
                })
            }
        }
    }
    Ok(Kind::List)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(1_764_028_800_000), "2025-11-25T00:00:00Z");
        assert_eq!(iso(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    fn read(text: &str, filter: &Filter) -> Result<(Kind, Vec<Call>), ReadError> {
        let mut calls = Vec::new();
        let mut stats = ReadStats::default();
        let k = read_stream(text.as_bytes(), "in", filter, &mut stats, |c| calls.push(c))?;
        Ok((k, calls))
    }

    #[test]
    fn call_lists() {
        // Constructed input.
        let (k, calls) = read(
            "# calls\n s3:GetObject\n\nsqs SendMessage\n",
            &Filter::default(),
        )
        .unwrap();
        assert_eq!(k, Kind::List);
        let got: Vec<(String, String)> = calls
            .iter()
            .map(|c| (c.at.clone(), format!("{:?}:{}", c.service, c.operation)))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "in: line 2".to_string(),
                    "Some(Prefix(\"s3\")):GetObject".to_string()
                ),
                (
                    "in: line 4".to_string(),
                    "Some(Prefix(\"sqs\")):SendMessage".to_string()
                ),
            ]
        );
        let e = read("s3:Get Object\n", &Filter::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "in: line 1: \"s3:Get Object\": expected service:Operation or service Operation"
        );
        let f = Filter {
            principal: Some("arn:aws:iam::123456789012:role/app".into()),
            ..Default::default()
        };
        assert!(matches!(
            read("s3:GetObject\n", &f),
            Err(ReadError::FilterOnList(_))
        ));
    }

    #[test]
    fn json_is_cloudtrail() {
        // Constructed input: one event.
        let ev = r#"  {"Records": [{"eventVersion": "1.08", "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject", "awsRegion": "us-east-1", "eventTime": "2026-06-01T00:00:00Z"}]}"#;
        let (k, _) = read(ev, &Filter::default()).unwrap();
        assert_eq!(k, Kind::Trail);
        assert!(!starts_json(&mut "   \n".as_bytes()).unwrap());
        assert!(starts_json(&mut " \n[".as_bytes()).unwrap());
    }
}
