//! Name matching as IAM does it: `*` and `?` wildcards, case-insensitive;
//! ARN patterns against ARN formats; "did you mean" suggestions.

/// Does `text` match the IAM wildcard `pattern` (`*` any run, `?` one
/// character), ignoring ASCII case?
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi].eq_ignore_ascii_case(&t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

pub fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

// ---------------------------------------------------------------------------
// ARN formats vs ARNs (or ARN patterns with wildcards, as in a policy).
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum FTok {
    Lit(u8),
    /// `${Variable}`: one or more characters; `path` variables (those
    /// right after a `/`) may contain `/`, none may contain `:`.
    Var {
        path: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum UTok {
    Lit(u8),
    Any1,
    Star,
}

fn format_tokens(format: &str) -> Vec<FTok> {
    let b = format.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && b.get(i + 1) == Some(&b'{') {
            if let Some(end) = format[i..].find('}') {
                let path = i > 0 && b[i - 1] == b'/';
                out.push(FTok::Var { path });
                i += end + 1;
                continue;
            }
        }
        if b[i] == b'*' {
            out.push(FTok::Var { path: true });
        } else {
            out.push(FTok::Lit(b[i].to_ascii_lowercase()));
        }
        i += 1;
    }
    out
}

fn user_tokens(arn: &str) -> Vec<UTok> {
    arn.bytes()
        .map(|c| match c {
            b'*' => UTok::Star,
            b'?' => UTok::Any1,
            c => UTok::Lit(c.to_ascii_lowercase()),
        })
        .collect()
}

/// Can some concrete ARN be both an instance of `format` (an ARN format
/// from the reference, with `${Variables}`) and matched by `arn` (a
/// concrete ARN, or a pattern with `*`/`?` as written in a policy)?
///
/// Runs the product of the two small automata.
pub fn arn_matches_format(format: &str, arn: &str) -> bool {
    let f = format_tokens(format);
    let u = user_tokens(arn);
    let (n, m) = (f.len(), u.len());
    // state: (i, in_var, j)
    let idx = |i: usize, v: bool, j: usize| (i * 2 + v as usize) * (m + 1) + j;
    let mut seen = vec![false; (n + 1) * 2 * (m + 1)];
    let mut stack = vec![(0usize, false, 0usize)];
    // Epsilon moves: user Star may be skipped; format var in progress may end.
    while let Some((i, v, j)) = stack.pop() {
        if seen[idx(i, v, j)] {
            continue;
        }
        seen[idx(i, v, j)] = true;
        if j < m && u[j] == UTok::Star {
            stack.push((i, v, j + 1));
        }
        if v {
            stack.push((i + 1, false, j));
        }
        if i == n && !v && j == m {
            return true;
        }
        if i >= n || j >= m {
            continue;
        }
        // One character consumed by both sides.
        let ftok = f[i];
        let utok = u[j];
        let ok = match (ftok, utok) {
            (FTok::Lit(a), UTok::Lit(b)) => a == b,
            (FTok::Lit(_), _) => true,
            (FTok::Var { path }, UTok::Lit(b)) => b != b':' && (path || b != b'/'),
            (FTok::Var { .. }, _) => true,
        };
        if !ok {
            continue;
        }
        let (ni, nv) = match ftok {
            FTok::Lit(_) => (i + 1, false),
            FTok::Var { .. } => (i, true),
        };
        let nj = match utok {
            UTok::Star => j,
            _ => j + 1,
        };
        stack.push((ni, nv, nj));
        if utok == UTok::Star {
            stack.push((ni, nv, j + 1));
        }
    }
    false
}

/// An ARN pattern a policy can use for a format: `${Partition}` becomes
/// `aws`, every other variable `*`.
pub fn policy_pattern(format: &str) -> String {
    let mut out = String::with_capacity(format.len());
    let mut rest = format;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        match rest[i..].find('}') {
            Some(end) => {
                let var = &rest[i + 2..i + end];
                out.push_str(if var == "Partition" { "aws" } else { "*" });
                rest = &rest[i + end + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Does a concrete condition key (`aws:ResourceTag/Owner`) fit a key name
/// template from the reference (`aws:ResourceTag/${TagKey}`,
/// `s3:RequestObjectTag/<key>`)?
pub fn key_matches_template(template: &str, key: &str) -> bool {
    let mut pattern = String::with_capacity(template.len());
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' if chars.peek() == Some(&'{') => {
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
                pattern.push('*');
            }
            '<' => {
                for c in chars.by_ref() {
                    if c == '>' {
                        break;
                    }
                }
                pattern.push('*');
            }
            '*' | '?' => pattern.push('?'),
            c => pattern.push(c),
        }
    }
    pattern != template && wildcard_match(&pattern, key)
}

// ---------------------------------------------------------------------------
// Suggestions.
// ---------------------------------------------------------------------------

/// Levenshtein distance, ignoring ASCII case.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<u8> = a.bytes().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<u8> = b.bytes().map(|c| c.to_ascii_lowercase()).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate to `target`, if close enough to be a typo.
pub fn suggest<'a>(target: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (target.len() / 3).max(2);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c.len().abs_diff(target.len()) > limit {
            continue;
        }
        let d = distance(target, c);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_wildcards() {
        assert!(wildcard_match("s3:Get*", "s3:GetObject"));
        assert!(wildcard_match("S3:get*", "s3:GetObject"));
        assert!(wildcard_match("ec2:Describe?pc*", "ec2:DescribeVpcs"));
        assert!(!wildcard_match(
            "ec2:Describe?pc*",
            "ec2:DescribeVpnConnections"
        ));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "aXXbYYc"));
        assert!(!wildcard_match("a*b*c", "aXXbYY"));
        assert!(!wildcard_match("s3:GetObject", "s3:GetObjectAcl"));
    }

    const BUCKET: &str = "arn:${Partition}:s3:::${BucketName}";
    const OBJECT: &str = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
    const AP: &str = "arn:${Partition}:s3:${Region}:${Account}:accesspoint/${AccessPointName}";

    #[test]
    fn bucket_versus_object_arns() {
        assert!(arn_matches_format(BUCKET, "arn:aws:s3:::awsexamplebucket1"));
        assert!(!arn_matches_format(
            OBJECT,
            "arn:aws:s3:::awsexamplebucket1"
        ));
        assert!(!arn_matches_format(
            BUCKET,
            "arn:aws:s3:::awsexamplebucket1/*"
        ));
        assert!(arn_matches_format(
            OBJECT,
            "arn:aws:s3:::awsexamplebucket1/*"
        ));
        assert!(arn_matches_format(OBJECT, "arn:aws:s3:::b/folder/file.txt"));
        assert!(!arn_matches_format(AP, "arn:aws:s3:::awsexamplebucket1"));
        assert!(arn_matches_format(
            AP,
            "arn:aws:s3:us-east-1:123456789012:accesspoint/x"
        ));
        // A policy wildcard that covers both.
        assert!(arn_matches_format(BUCKET, "arn:aws:s3:::*"));
        assert!(arn_matches_format(OBJECT, "arn:aws:s3:::*"));
        assert!(!arn_matches_format(BUCKET, "arn:aws:ec2:::*"));
    }

    #[test]
    fn iam_role_paths() {
        let role = "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}";
        assert!(arn_matches_format(
            role,
            "arn:aws:iam::123456789012:role/a/b/MyRole"
        ));
        assert!(!arn_matches_format(
            role,
            "arn:aws:iam::123456789012:user/bob"
        ));
    }

    #[test]
    fn policy_patterns() {
        assert_eq!(policy_pattern(OBJECT), "arn:aws:s3:::*/*");
        assert_eq!(policy_pattern(BUCKET), "arn:aws:s3:::*");
    }

    #[test]
    fn key_templates() {
        assert!(key_matches_template(
            "aws:ResourceTag/${TagKey}",
            "aws:ResourceTag/Owner"
        ));
        assert!(key_matches_template(
            "s3:RequestObjectTag/<key>",
            "s3:RequestObjectTag/team"
        ));
        assert!(!key_matches_template("aws:TagKeys", "aws:TagKeys"));
        assert!(!key_matches_template(
            "aws:ResourceTag/${TagKey}",
            "aws:RequestTag/Owner"
        ));
    }

    #[test]
    fn suggestions() {
        let names = ["ListBucket", "ListAllMyBuckets", "GetObject"];
        assert_eq!(suggest("ListBuckets", names), Some("ListBucket"));
        assert_eq!(suggest("getobjekt", names), Some("GetObject"));
        assert_eq!(suggest("Frobnicate", names), None);
    }
}
