//! IAM's size quota on the identity policies iamref writes (`policy
//! write`, `policy tighten`, `record`), and splitting a policy that is over
//! it into several that each fit, every statement whole.
//!
//! IAM counts every character of the document but white space outside
//! strings ([`crate::document::quota_size`]); a managed policy holds 6,144
//! (IAM User Guide, "IAM and AWS STS quotas"; inline policies: user 2,048,
//! group 5,120, role 10,240, all policies of the identity together).

use crate::document::quota_size;
use serde_json::Value;
use std::fmt;

/// The managed-policy quota: what `record`, `policy write` and `policy
/// tighten` check their output against and `--split` packs to.
pub const MANAGED: usize = 6_144;

/// What the quota note says: a policy's size and the limit it is over
/// (the text names no flag: the binary adds how to split).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Over {
    pub size: usize,
    pub limit: usize,
}

impl fmt::Display for Over {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the policy is {} characters (white space outside strings not counted), over the {} a managed policy holds: IAM refuses it (an inline role policy holds 10,240)",
            self.size, self.limit
        )
    }
}

/// The size IAM counts for a document.
pub fn size_of(doc: &Value) -> usize {
    quota_size(&doc.to_string())
}

/// `Some` when `doc` is over `limit`.
pub fn over(doc: &Value, limit: usize) -> Option<Over> {
    let size = size_of(doc);
    (size > limit).then_some(Over { size, limit })
}

/// Why a policy cannot be split to fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("not a policy document: no Statement list")]
    NotAPolicy,
    #[error("statement {index}{} alone is {size} characters, over the {limit} of one policy: a statement is never cut", sid.as_ref().map(|s| format!(" (Sid {s})")).unwrap_or_default())]
    StatementTooLarge {
        index: usize,
        sid: Option<String>,
        size: usize,
        limit: usize,
    },
}

/// `doc` as policies of at most `limit` characters each: its statements
/// whole and in order, each part with the document's other members
/// (`Version`, `Id`); one part when it fits already. Packing is greedy in
/// statement order, so the parts read like the original and a statement's
/// place is predictable.
pub fn split(doc: &Value, limit: usize) -> Result<Vec<Value>, SplitError> {
    let statements: Vec<Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => return Err(SplitError::NotAPolicy),
    };
    let with = |sts: Vec<Value>| {
        let mut part = doc.clone();
        part["Statement"] = Value::Array(sts);
        part
    };
    // The envelope with no statement, and what each statement adds (its
    // size and the comma before it).
    let empty = size_of(&with(Vec::new()));
    let mut parts: Vec<Vec<Value>> = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut size = empty;
    for (index, st) in statements.into_iter().enumerate() {
        let own = quota_size(&st.to_string());
        if empty + own > limit {
            return Err(SplitError::StatementTooLarge {
                index,
                sid: st.get("Sid").and_then(Value::as_str).map(str::to_string),
                size: empty + own,
                limit,
            });
        }
        // A statement after the first costs its comma too.
        if size + own + usize::from(!current.is_empty()) > limit {
            parts.push(std::mem::take(&mut current));
            size = empty;
        }
        size += own + usize::from(!current.is_empty());
        current.push(st);
    }
    if !current.is_empty() || parts.is_empty() {
        parts.push(current);
    }
    Ok(parts.into_iter().map(with).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Constructed: statements of known sizes.
    fn statement(i: usize, arns: usize) -> Value {
        json!({
            "Sid": format!("S{i}"),
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": (0..arns).map(|k| format!("arn:aws:s3:::bucket-{i}/prefix-{k}/*")).collect::<Vec<_>>(),
        })
    }

    fn policy(n: usize, arns: usize) -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": (0..n).map(|i| statement(i, arns)).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn a_policy_that_fits_is_one_part_unchanged() {
        let p = policy(3, 2);
        assert!(over(&p, MANAGED).is_none());
        assert_eq!(split(&p, MANAGED).unwrap(), vec![p]);
    }

    #[test]
    fn parts_fit_keep_every_statement_whole_in_order_and_are_few() {
        for (n, arns, limit) in [
            (200, 3, MANAGED),
            (50, 20, MANAGED),
            (7, 1, 300),
            (40, 2, 1_000),
        ] {
            let p = policy(n, arns);
            let o = over(&p, limit).expect("constructed to be over");
            assert_eq!(o.size, size_of(&p));
            let parts = split(&p, limit).unwrap();
            assert!(parts.len() > 1);
            let mut all = Vec::new();
            let mut total = 0;
            for part in &parts {
                assert!(size_of(part) <= limit, "{} > {limit}", size_of(part));
                assert_eq!(part["Version"], "2012-10-17");
                let sts = part["Statement"].as_array().unwrap();
                assert!(!sts.is_empty());
                total += sts.len();
                all.extend(sts.iter().cloned());
            }
            assert_eq!(total, n);
            assert_eq!(Value::Array(all), p["Statement"]);
            // Greedy packing: no two neighbouring parts would fit in one.
            for w in parts.windows(2) {
                let mut both = w[0]["Statement"].as_array().unwrap().clone();
                both.push(w[1]["Statement"][0].clone());
                let mut joined = p.clone();
                joined["Statement"] = Value::Array(both);
                assert!(
                    size_of(&joined) > limit,
                    "a part could have taken the next statement"
                );
            }
        }
    }

    #[test]
    fn a_statement_over_the_limit_alone_is_refused_naming_it() {
        let p = json!({"Version": "2012-10-17", "Statement": [statement(0, 1), statement(1, 400)]});
        match split(&p, MANAGED) {
            Err(SplitError::StatementTooLarge {
                index,
                sid,
                size,
                limit,
            }) => {
                assert_eq!((index, sid.as_deref(), limit), (1, Some("S1"), MANAGED));
                assert!(size > MANAGED);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            split(&json!({"Version": "2012-10-17"}), MANAGED),
            Err(SplitError::NotAPolicy)
        );
    }

    #[test]
    fn size_is_what_iam_counts() {
        // White space outside strings does not count; inside it does.
        let p = json!({"Version": "2012-10-17", "Statement": [{"Sid": "a b", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
        let pretty = serde_json::to_string_pretty(&p).unwrap();
        assert_eq!(size_of(&p), quota_size(&pretty));
        assert_eq!(size_of(&p), p.to_string().len());
    }

    #[test]
    fn the_quota_note_names_no_flag() {
        let note = Over {
            size: 7_000,
            limit: MANAGED,
        }
        .to_string();
        assert!(note.starts_with("the policy is 7000 characters"), "{note}");
        assert!(
            note.ends_with("(an inline role policy holds 10,240)"),
            "{note}"
        );
        assert!(!note.contains("--"), "{note}");
    }
}
