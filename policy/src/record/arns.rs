//! ARN formats of the reference filled from what a call tells: the
//! region and account (CSM), request parameters (CloudTrail).
//!
//! Whether an ARN is a format's is [`Judge`], on the pattern algebra of
//! `crate::arn` (one module decides it for the checker, the writer and
//! the recorder).

use crate::arn::{Format, Matcher, Pattern};
use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

/// The partition of a region: `cn-north-1` -> `aws-cn`.
pub fn partition_of(region: Option<&str>) -> &'static str {
    match region {
        Some(r) if r.starts_with("cn-") => "aws-cn",
        Some(r) if r.starts_with("us-gov-") => "aws-us-gov",
        Some(r) if r.starts_with("us-iso-") => "aws-iso",
        Some(r) if r.starts_with("us-isob-") => "aws-iso-b",
        Some(r) if r.starts_with("eu-isoe-") => "aws-iso-e",
        Some(r) if r.starts_with("us-isof-") => "aws-iso-f",
        _ => "aws",
    }
}

/// The `${Variable}` names of a format, in order.
pub fn variables(format: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = format;
    while let Some(i) = rest.find("${") {
        match rest[i..].find('}') {
            Some(end) => {
                out.push(&rest[i + 2..i + end]);
                rest = &rest[i + end + 1..];
            }
            None => break,
        }
    }
    out
}

/// The format with each variable replaced by `value(name)`, or `None` if
/// some variable has no value.
pub fn fill(format: &str, mut value: impl FnMut(&str) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(format.len() + 16);
    let mut rest = format;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}')?;
        let var = &rest[i + 2..i + end];
        out.push_str(&value(var)?);
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// The pattern of a format scoped to what is known: partition, region and
/// account filled when given, every other variable `*`:
/// `arn:${Partition}:sqs:${Region}:${Account}:${QueueName}` ->
/// `arn:aws:sqs:us-east-1:123456789012:*`.
pub fn scoped_pattern(format: &str, region: Option<&str>, account: Option<&str>) -> String {
    fill(format, |v| {
        Some(match v {
            "Partition" => partition_of(region).to_string(),
            "Region" => region.unwrap_or("*").to_string(),
            "Account" => account.unwrap_or("*").to_string(),
            _ => "*".to_string(),
        })
    })
    .unwrap_or_else(|| "*".to_string())
}

/// Decides "is this ARN one of this format's" with the ARN algebra of
/// [`crate::arn`]: names may hold `/` (log groups, secrets, IAM paths,
/// SSM parameters), and of the formats sharing an ARN namespace the most
/// specific one takes an ARN (`b/k` is an S3 object, not a bucket;
/// `table/T/index/I` an index, not a table). Per format, the narrower
/// formats of its namespace are found once; concrete ARNs are then read
/// without a memo (a trail has millions of distinct ones).
#[derive(Default)]
pub struct Judge {
    m: Matcher,
    /// Format text → the format and the formats of its namespace (for
    /// patterns) and those narrower than it (for concrete ARNs).
    entries: HashMap<String, Rc<Entry>>,
    /// Format texts by ARN namespace (`s3` holds bucket and object).
    by_namespace: HashMap<String, Vec<String>>,
    /// Recent answers: ARN → (format id, answer); a call's resources are
    /// tried on the formats of each of its actions, which repeat.
    /// Emptied when it grows past [`MEMO`] ARNs.
    memo: HashMap<String, Vec<(u32, bool)>>,
}

/// At most this many ARNs remembered.
const MEMO: usize = 4096;

struct Entry {
    id: u32,
    format: Format,
    others: Vec<Format>,
    narrower: Vec<Format>,
    /// A `${Vendor}` format: `narrower` are the formats that take
    /// precedence over it.
    vendor: bool,
}

/// The ARN's service part, lowercase (`s3` in `arn:${Partition}:s3:::…`).
fn namespace(arn: &str) -> String {
    arn.split(':').nth(2).unwrap_or("").to_ascii_lowercase()
}

impl std::fmt::Debug for Judge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Judge")
            .field("namespaces", &self.by_namespace.len())
            .field("formats", &self.entries.len())
            .finish()
    }
}

impl Judge {
    /// A judge knowing these formats (every format of the dataset, so the
    /// most specific one can win).
    pub fn new<'a>(formats: impl IntoIterator<Item = &'a str>) -> Judge {
        let mut j = Judge::default();
        for f in formats {
            let v = j.by_namespace.entry(namespace(f)).or_default();
            if !v.iter().any(|x| x == f) {
                v.push(f.to_string());
            }
        }
        j
    }

    fn entry(&mut self, raw: &str) -> Rc<Entry> {
        if let Some(e) = self.entries.get(raw) {
            return e.clone();
        }
        let format = Format::parse(raw);
        let others: Vec<Format> = self
            .by_namespace
            .get(&namespace(raw))
            .into_iter()
            .flatten()
            .filter(|o| o.as_str() != raw)
            .map(|o| Format::parse(o))
            .collect();
        let narrower: Vec<Format> = others
            .iter()
            .filter(|o| self.m.strictly_narrower(o, &format))
            .cloned()
            .collect();
        let e = Rc::new(Entry {
            id: self.entries.len() as u32,
            format,
            others,
            narrower,
            vendor: false,
        });
        self.entries.insert(raw.to_string(), e.clone());
        e
    }

    /// A `${Vendor}` format against the ARNs of namespace `ns`: every
    /// format of `ns` takes precedence (the rule of
    /// `Catalog::format_reaches`).
    fn vendor_entry(&mut self, raw: &str, ns: &str) -> Rc<Entry> {
        let key = format!("{raw}\u{0}{ns}");
        if let Some(e) = self.entries.get(&key) {
            return e.clone();
        }
        let before: Vec<Format> = self
            .by_namespace
            .get(ns)
            .into_iter()
            .flatten()
            .map(|o| Format::parse(o))
            .collect();
        let e = Rc::new(Entry {
            id: self.entries.len() as u32,
            format: Format::parse(raw),
            others: Vec::new(),
            narrower: before,
            vendor: true,
        });
        self.entries.insert(key, e.clone());
        e
    }

    /// Is `arn` (an ARN, or an ARN pattern such as `secret:db-??????`) one
    /// of `format`'s, no more specific format of its namespace taking it?
    pub fn is_instance(&mut self, format: &str, arn: &str) -> bool {
        // Different ARN namespaces never meet: no parsing needed (but a
        // `${Vendor}` format takes what its namespace's formats do not).
        if let (Some(a), Some(f)) = (arn.split(':').nth(2), format.split(':').nth(2)) {
            if !a.eq_ignore_ascii_case(f) && !a.contains(['*', '?', '$']) && !f.contains("${") {
                return false;
            }
        }
        let e = if Format::is_vendor_text(format) {
            self.vendor_entry(format, &namespace(arn))
        } else {
            self.entry(format)
        };
        if let Some(&(_, r)) = self
            .memo
            .get(arn)
            .and_then(|v| v.iter().find(|(id, _)| *id == e.id))
        {
            return r;
        }
        let r = self.decide(&e, arn);
        if self.memo.len() >= MEMO {
            self.memo.clear();
        }
        self.memo
            .entry(arn.to_string())
            .or_default()
            .push((e.id, r));
        r
    }

    fn decide(&mut self, e: &Entry, arn: &str) -> bool {
        // A concrete ARN: read it straight (most calls).
        if let Some(r) = e.format.takes_arn(arn, &e.narrower) {
            return r;
        }
        // A pattern (`secret:db-??????`): the algebra's search.
        let Ok(pattern) = Pattern::parse(arn) else {
            return false;
        };
        if pattern.is_any() {
            return false;
        }
        if e.vendor {
            let before: Vec<&Format> = e.narrower.iter().collect();
            return self.m.reaches_unless(&pattern, &e.format, &before);
        }
        let others: Vec<&Format> = e.others.iter().collect();
        self.m.reaches(&pattern, &e.format, &others)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_patterns() {
        let q = "arn:${Partition}:sqs:${Region}:${Account}:${QueueName}";
        assert_eq!(
            scoped_pattern(q, Some("us-east-1"), Some("123456789012")),
            "arn:aws:sqs:us-east-1:123456789012:*"
        );
        assert_eq!(scoped_pattern(q, None, None), "arn:aws:sqs:*:*:*");
        assert_eq!(
            scoped_pattern(
                "arn:${Partition}:s3:::${BucketName}",
                Some("cn-north-1"),
                Some("1")
            ),
            "arn:aws-cn:s3:::*"
        );
        assert_eq!(
            variables(q),
            ["Partition", "Region", "Account", "QueueName"]
        );
    }

    #[test]
    fn instances() {
        let bucket = "arn:${Partition}:s3:::${BucketName}";
        let obj = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
        let f = "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}";
        let group = "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}";
        let stream = "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}";
        let secret = "arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}";
        let mut j = Judge::new([bucket, obj, f, group, stream, secret]);
        assert!(j.is_instance(obj, "arn:aws:s3:::b/k/with/slashes.txt"));
        assert!(!j.is_instance(obj, "arn:aws:s3:::b"));
        assert!(j.is_instance(bucket, "arn:aws:s3:::b"));
        // The object format is more specific: b/k is not a bucket.
        assert!(!j.is_instance(bucket, "arn:aws:s3:::b/k"));
        assert!(j.is_instance(f, "arn:aws:lambda:us-east-1:123456789012:function:f"));
        assert!(!j.is_instance(f, "arn:aws:lambda:us-east-1:123456789012:layer:f"));
        // Names with '/', as everyday IAM has them.
        assert!(j.is_instance(
            group,
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/fn"
        ));
        assert!(!j.is_instance(
            group,
            "arn:aws:logs:us-east-1:123456789012:log-group:/a:log-stream:s"
        ));
        assert!(j.is_instance(
            stream,
            "arn:aws:logs:us-east-1:123456789012:log-group:/a/b:log-stream:2026/06/01/[$LATEST]abc"
        ));
        assert!(j.is_instance(
            secret,
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"
        ));
        assert!(j.is_instance(
            secret,
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-??????"
        ));
        assert!(!j.is_instance(secret, "*"));
        assert!(!j.is_instance(secret, "not an arn"));
    }
}
