//! ARN formats of the reference filled from what a call tells: the
//! region and account (CSM), request parameters (CloudTrail).
//!
//! Small and local on purpose: matching a concrete ARN against a format
//! here only needs literal segments and `${Variables}`; the full pattern
//! algebra lives in `crate::arn`.

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

/// Is `arn` (concrete) an instance of `format`? Variables match one or
/// more characters other than `:`; only a variable right after a `/` (an
/// object key, a path) may contain `/` (the rule of `iamref arn`).
pub fn is_instance(format: &str, arn: &str) -> bool {
    fn go(f: &[u8], a: &[u8], budget: &mut u32) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        match f.iter().position(|&c| c == b'$') {
            None => f.eq_ignore_ascii_case(a),
            Some(i) if f.get(i + 1) == Some(&b'{') => {
                if a.len() < i || !f[..i].eq_ignore_ascii_case(&a[..i]) {
                    return false;
                }
                let Some(close) = f[i..].iter().position(|&c| c == b'}') else {
                    return false;
                };
                let path = i > 0 && f[i - 1] == b'/';
                let rest_f = &f[i + close + 1..];
                let a = &a[i..];
                for k in 1..=a.len() {
                    if a[k - 1] == b':' || (!path && a[k - 1] == b'/') {
                        return false;
                    }
                    let next_ok = match rest_f.first() {
                        None => k == a.len(),
                        Some(&b'$') => true,
                        Some(&c) => a.get(k).is_some_and(|x| x.eq_ignore_ascii_case(&c)),
                    };
                    if next_ok && go(rest_f, &a[k..], budget) {
                        return true;
                    }
                }
                false
            }
            Some(_) => f.eq_ignore_ascii_case(a),
        }
    }
    let mut budget = 10_000;
    go(format.as_bytes(), arn.as_bytes(), &mut budget)
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
        let obj = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
        assert!(is_instance(obj, "arn:aws:s3:::b/k/with/slashes.txt"));
        assert!(!is_instance(obj, "arn:aws:s3:::b"));
        assert!(is_instance(
            "arn:${Partition}:s3:::${BucketName}",
            "arn:aws:s3:::b"
        ));
        assert!(!is_instance(
            "arn:${Partition}:s3:::${BucketName}",
            "arn:aws:s3:::b/k"
        ));
        let f = "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}";
        assert!(is_instance(
            f,
            "arn:aws:lambda:us-east-1:123456789012:function:f"
        ));
        assert!(!is_instance(
            f,
            "arn:aws:lambda:us-east-1:123456789012:function:f:prod"
        ));
        assert!(!is_instance(
            f,
            "arn:aws:lambda:us-east-1:123456789012:layer:f"
        ));
    }
}
