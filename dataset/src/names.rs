//! Names as IAM compares them: `*`/`?` wildcards ignoring ASCII case,
//! condition-key templates (`aws:ResourceTag/${TagKey}`), and "did you
//! mean" suggestions by edit distance. The one home of
//! these rules: the lookups refuse unknown names with them, and the
//! policy engine re-exports them (`iamref_policy::names`).

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

/// [`distance`] when it is at most `bound`, else `None`, without
/// allocating (for names under 64 bytes) and giving up as soon as every
/// edit path costs more than `bound`.
pub fn distance_within(a: &str, b: &str, bound: usize) -> Option<usize> {
    const MAX: usize = 64;
    if a.len().abs_diff(b.len()) > bound {
        return None;
    }
    if b.len() >= MAX {
        let d = distance(a, b);
        return (d <= bound).then_some(d);
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut p, mut c) = ([0usize; MAX + 1], [0usize; MAX + 1]);
    let (mut prev, mut cur) = (&mut p[..=b.len()], &mut c[..=b.len()]);
    for (j, x) in prev.iter_mut().enumerate() {
        *x = j;
    }
    for (i, ca) in a.iter().enumerate() {
        let ca = ca.to_ascii_lowercase();
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(ca != b[j - 1].to_ascii_lowercase());
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            row_min = row_min.min(cur[j]);
        }
        // A row's least cost never falls further down the table.
        if row_min > bound {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= bound).then_some(d)
}

/// The closest candidate to `target`, if close enough to be a typo (the
/// first of the closest).
pub fn suggest<'a>(target: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (target.len() / 3).max(2);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        // Only a strictly closer candidate replaces the best one.
        let bound = match best {
            None => limit,
            Some((0, _)) => break,
            Some((bd, _)) => bd - 1,
        };
        if let Some(d) = distance_within(target, c, bound) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Up to three close names, best first: those within the edit distance
/// of [`suggest`] and, for names of four or more characters, those that
/// one starts with the other (ignoring case). For listing alternatives
/// ("did you mean A, B?") where [`suggest`] gives the one best.
pub fn suggestions<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let limit = (name.chars().count() / 3).max(2);
    let lower = name.to_lowercase();
    let mut scored: Vec<(usize, String)> = candidates
        .into_iter()
        .filter_map(|c| {
            let d = distance(name, c);
            let cl = c.to_lowercase();
            let close = d <= limit
                || (lower.len() >= 4 && (cl.starts_with(&lower) || lower.starts_with(&cl)));
            close.then(|| (d, c.to_string()))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// Names sorted ignoring ASCII case (ties by bytes), each kept once
/// whatever its case (the first spelling in that order).
pub fn sorted_unique(mut v: Vec<String>) -> Vec<String> {
    v.sort_by(|a, b| {
        a.to_ascii_lowercase()
            .cmp(&b.to_ascii_lowercase())
            .then_with(|| a.cmp(b))
    });
    v.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    v
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
    fn suggestions_are_close_names() {
        let names = ["CopyObject", "GetObject", "PutObject", "ListBuckets"];
        assert_eq!(suggestions("CopyObjet", names), ["CopyObject"]);
        assert!(suggestions("Zzzzzz", names).is_empty());
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn sorted_once_whatever_the_case() {
        let v = ["s3:b", "S3:A", "s3:a", "s3:B"].map(String::from).to_vec();
        assert_eq!(sorted_unique(v), ["S3:A", "s3:B"]);
    }

    #[test]
    fn the_closest_suggestion() {
        let names = ["ListBucket", "ListAllMyBuckets", "GetObject"];
        assert_eq!(suggest("ListBuckets", names), Some("ListBucket"));
        assert_eq!(suggest("getobjekt", names), Some("GetObject"));
        assert_eq!(suggest("Frobnicate", names), None);
    }

    /// The bounded distance and the suggestion agree with the plain
    /// Levenshtein definition.
    fn suggest_plain<'a>(target: &str, candidates: &[&'a str]) -> Option<&'a str> {
        let limit = (target.len() / 3).max(2);
        let mut best: Option<(usize, &str)> = None;
        for c in candidates {
            let d = distance(target, c);
            if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, c));
            }
        }
        best.map(|(_, c)| c)
    }

    use proptest::prelude::*;
    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        #[test]
        fn bounded_distance_is_the_distance(
            a in "[a-cA-C-]{0,12}",
            b in "[a-cA-C-]{0,12}",
            bound in 0usize..14,
        ) {
            let d = distance(&a, &b);
            prop_assert_eq!(distance_within(&a, &b, bound), (d <= bound).then_some(d));
        }

        #[test]
        fn suggest_is_the_first_closest(
            target in "[a-dA-D]{0,10}",
            cands in proptest::collection::vec("[a-dA-D]{0,10}", 0..12),
        ) {
            let refs: Vec<&str> = cands.iter().map(String::as_str).collect();
            prop_assert_eq!(suggest(&target, refs.iter().copied()), suggest_plain(&target, &refs));
        }
    }

    #[test]
    fn long_names_fall_back_to_the_plain_distance() {
        let a = "x".repeat(70);
        let b = format!("{}y", "x".repeat(70));
        assert_eq!(distance_within(&a, &b, 1), Some(1));
        assert_eq!(distance_within(&a, &b, 0), None);
    }
}
