//! Name matching as IAM does it: `*` and `?` wildcards, case-insensitive;
//! ARN patterns against ARN formats; "did you mean" suggestions.

pub use iamref_policy::names::{
    distance, has_wildcard, key_matches_template, suggest, wildcard_match,
};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
