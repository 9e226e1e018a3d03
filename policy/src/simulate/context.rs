//! The request context (condition keys to values, keys compared ignoring
//! case as IAM does) and policy variables: `${aws:username}`, defaults
//! `${aws:username, 'none'}`, the escapes `${*}`, `${?}` and `${$}`.

use std::sync::Arc;

/// Condition keys to values. A key holds a list: single-valued keys hold
/// one value; an empty list is a key present with no values (what
/// `ForAllValues` and `ForAnyValue` treat as "empty"). Few keys per
/// request: a list searched ignoring ASCII case, kept in key order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// (key as given, values), sorted by the lowercased key. Shared: a
    /// request's context is copied for each evaluation (with the keys the
    /// principal and the resource give), and a copy costs one allocation.
    keys: Vec<(Arc<str>, Arc<[String]>)>,
}

fn cmp_key(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.keys.binary_search_by(|(k, _)| cmp_key(k, key))
    }
    /// Set a key (replacing any value it had, whatever its case).
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        let entry = (Arc::from(key), Arc::from(values));
        match self.find(key) {
            Ok(i) => self.keys[i] = entry,
            Err(i) => self.keys.insert(i, entry),
        }
    }
    /// Set a key only when it is not there yet.
    pub fn set_default(&mut self, key: &str, value: &str) {
        if let Err(i) = self.find(key) {
            self.keys
                .insert(i, (Arc::from(key), Arc::from([value.to_string()])));
        }
    }
    /// The values of a key, any case; `None` when absent.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.find(key).ok().map(|i| &*self.keys[i].1)
    }
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    /// Keys as given, with values, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.keys.iter().map(|(k, v)| (&**k, &**v))
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// One element of a policy string after variables are substituted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(char),
    /// `*`: any run of characters.
    Star,
    /// `?`: one character.
    One,
}

/// Substitute the policy variables of `text` from `ctx` (when `vars`:
/// version 2012-10-17) and read `*`/`?` as wildcards (when `wild`).
/// A substituted value and an escape are always literal text.
/// `Err(key)`: a variable whose key the request lacks, without a default.
pub(crate) fn expand(
    text: &str,
    ctx: &Context,
    vars: bool,
    wild: bool,
) -> Result<Vec<Tok>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if vars {
            if let Some(after) = rest.strip_prefix("${") {
                if let Some(end) = after.find('}') {
                    let inner = &after[..end];
                    rest = &after[end + 1..];
                    match inner {
                        "*" | "?" | "$" => out.push(Tok::Lit(inner.chars().next().unwrap_or('$'))),
                        _ => {
                            let (key, default) = split_default(inner);
                            match ctx.get(key) {
                                Some([one]) => out.extend(one.chars().map(Tok::Lit)),
                                _ => match default {
                                    Some(d) => out.extend(d.chars().map(Tok::Lit)),
                                    None => return Err(key.to_string()),
                                },
                            }
                        }
                    }
                    continue;
                }
            }
        }
        out.push(match c {
            '*' if wild => Tok::Star,
            '?' if wild => Tok::One,
            c => Tok::Lit(c),
        });
        rest = &rest[c.len_utf8()..];
    }
    Ok(out)
}

/// `aws:username, 'none'` → (`aws:username`, `Some("none")`).
fn split_default(inner: &str) -> (&str, Option<&str>) {
    match inner.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let d = d
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .unwrap_or(d);
            (k.trim(), Some(d))
        }
        None => (inner.trim(), None),
    }
}

/// Does `text` match `pat`? `fold`: ignore ASCII case.
pub(crate) fn tok_match(pat: &[Tok], text: &str, fold: bool) -> bool {
    if text.is_ascii() {
        return tok_match_chars(pat, text.as_bytes(), fold);
    }
    let t: Vec<char> = text.chars().collect();
    tok_match_chars(pat, &t, fold)
}

/// A text character: a byte of ASCII text or a `char`.
pub(crate) trait Ch: Copy {
    fn ch(self) -> char;
}
impl Ch for u8 {
    fn ch(self) -> char {
        self as char
    }
}
impl Ch for char {
    fn ch(self) -> char {
        self
    }
}

pub(crate) fn tok_match_chars<C: Ch>(p: &[Tok], t: &[C], fold: bool) -> bool {
    glob(p.len(), |i| p[i], t, fold)
}

/// The wildcard matcher over any pattern (`len`, token at `i`) and text.
fn glob<C: Ch>(len: usize, tok: impl Fn(usize) -> Tok, t: &[C], fold: bool) -> bool {
    let eq = |a: char, b: C| {
        let b = b.ch();
        a == b || (fold && a.eq_ignore_ascii_case(&b))
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match (pi < len).then(|| tok(pi)) {
            Some(Tok::One) => {
                pi += 1;
                ti += 1;
            }
            Some(Tok::Lit(c)) if eq(c, t[ti]) => {
                pi += 1;
                ti += 1;
            }
            Some(Tok::Star) => {
                star = Some((pi, ti));
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    while pi < len && tok(pi) == Tok::Star {
        pi += 1;
    }
    pi == len
}

/// A pattern byte as a token (`wild`: `*` and `?` are wildcards).
fn byte_tok(b: u8, wild: bool) -> Tok {
    match b {
        b'*' if wild => Tok::Star,
        b'?' if wild => Tok::One,
        b => Tok::Lit(b as char),
    }
}

/// The fast path of [`expand`] + match, without building tokens: for an
/// ASCII pattern with no policy variable to substitute (`vars` off, or no
/// `${`) against ASCII text. `None`: take the general path.
pub(crate) fn plain_match(pattern: &str, text: &str, vars: bool, arn: bool) -> Option<bool> {
    if !pattern.is_ascii() || !text.is_ascii() || (vars && pattern.contains("${")) {
        return None;
    }
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    if !arn {
        return Some(glob(p.len(), |i| byte_tok(p[i], true), t, false));
    }
    if p == b"*" {
        return Some(true);
    }
    let (ps, ts) = (split6(p, |c| *c == b':'), split6(t, |c| *c == b':'));
    let (Some(ps), Some(ts)) = (ps, ts) else {
        return Some(ts.is_none() && glob(p.len(), |i| byte_tok(p[i], true), t, false));
    };
    Some(
        ps.iter()
            .zip(ts.iter())
            .all(|(p, t)| glob(p.len(), |i| byte_tok(p[i], true), t, false)),
    )
}

/// Match an ARN against an ARN pattern as IAM does: the first five
/// colon-separated parts one by one (a wildcard stays inside its part), the
/// resource part as a whole (there `*` and `?` cross `:` and `/`). Case
/// matters. `"*"` matches everything, including the `"*"` of an action
/// that takes no resource; other text that is not a six-part ARN is
/// matched as one string against text that is not an ARN either.
pub(crate) fn arn_match(pat: &[Tok], arn: &str) -> bool {
    if pat == [Tok::Star] {
        return true;
    }
    let t: Vec<char> = arn.chars().collect();
    let (ps, ts) = (
        split6(pat, |x| *x == Tok::Lit(':')),
        split6(&t, |c| *c == ':'),
    );
    let (Some(ps), Some(ts)) = (ps, ts) else {
        // A pattern of fewer parts never matches an ARN part by part.
        return ts.is_none() && tok_match_chars(pat, &t, false);
    };
    ps.iter()
        .zip(ts.iter())
        .all(|(p, t)| tok_match_chars(p, t, false))
}

fn split6<T>(s: &[T], colon: impl Fn(&T) -> bool) -> Option<[&[T]; 6]> {
    let mut parts: [&[T]; 6] = [&[]; 6];
    let mut start = 0;
    let mut n = 0;
    for (i, x) in s.iter().enumerate() {
        if n < 5 && colon(x) {
            parts[n] = &s[start..i];
            n += 1;
            start = i + 1;
        }
    }
    if n < 5 {
        return None;
    }
    parts[5] = &s[start..];
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> Context {
        let mut c = Context::new();
        for (k, v) in pairs {
            c.set(k, vec![v.to_string()]);
        }
        c
    }

    #[test]
    fn variables_defaults_and_escapes() {
        let c = ctx(&[("aws:username", "ana"), ("aws:PrincipalTag/team", "red")]);
        let m = |p: &str, t: &str| expand(p, &c, true, true).is_ok_and(|x| tok_match(&x, t, false));
        assert!(m("home/${aws:username}/*", "home/ana/notes"));
        assert!(!m("home/${aws:username}/*", "home/bob/notes"));
        assert!(m("${AWS:PrincipalTag/team}", "red"), "keys ignore case");
        assert!(m("x/${aws:SourceIdentity, 'none'}", "x/none"));
        assert!(m("x/${aws:SourceIdentity,'none'}", "x/none"));
        assert_eq!(
            expand("x/${aws:SourceIdentity}", &c, true, true),
            Err("aws:SourceIdentity".to_string())
        );
        // Escapes are literal characters, never wildcards.
        assert!(m("a${*}b", "a*b"));
        assert!(!m("a${*}b", "aXb"));
        assert!(m("a${?}", "a?"));
        assert!(!m("a${?}", "ab"));
        assert!(m("${$}{x}", "${x}"));
        // A substituted value is literal too.
        let c2 = ctx(&[("aws:username", "*")]);
        let p = expand("u/${aws:username}", &c2, true, true).unwrap();
        assert!(tok_match(&p, "u/*", false) && !tok_match(&p, "u/x", false));
        // Version 2008-10-17: no variables.
        let p = expand("u/${aws:username}", &c, false, true).unwrap();
        assert!(tok_match(&p, "u/${aws:username}", false));
    }

    /// The fast path agrees with substituting and matching tokens.
    #[test]
    fn the_plain_path_agrees() {
        let c = Context::new();
        let pats = [
            "*",
            "arn:aws:s3:::b/*",
            "arn:aws:s3:::b?",
            "arn:aws:*:*:*:x:*",
            "a*b?c",
            "arn:aws:s3",
            "arn:aws:s3:::b/${x}",
        ];
        let texts = [
            "*",
            "arn:aws:s3:::b/k:1",
            "arn:aws:s3:::bb",
            "arn:aws:sns:r:1:x:y",
            "aXXbYc",
            "arn:aws:s3",
            "arn:aws:s3:::b/${x}",
        ];
        for p in pats {
            for t in texts {
                for arn in [false, true] {
                    let toks = expand(p, &c, false, true).unwrap();
                    let slow = if arn {
                        arn_match(&toks, t)
                    } else {
                        tok_match(&toks, t, false)
                    };
                    assert_eq!(plain_match(p, t, false, arn), Some(slow), "{p} {t} {arn}");
                }
            }
        }
        assert_eq!(plain_match("x/${aws:username}", "x/a", true, false), None);
    }

    #[test]
    fn arns_part_by_part() {
        let c = Context::new();
        let m = |p: &str, a: &str| arn_match(&expand(p, &c, true, true).unwrap(), a);
        assert!(m("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c"));
        assert!(m("arn:aws:s3:::*", "arn:aws:s3:::bucket"));
        assert!(!m("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket"));
        // A wildcard in the region part stays there.
        assert!(!m(
            "arn:aws:ec2:*:instance/i-1",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-1"
        ));
        assert!(m(
            "arn:aws:ec2:*:*:instance/i-?",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-1"
        ));
        assert!(m(
            "arn:aws:logs:*:*:log-group:*",
            "arn:aws:logs:us-east-1:1:log-group:g:log-stream:s"
        ));
        assert!(
            !m("arn:aws:s3:::Bucket", "arn:aws:s3:::bucket"),
            "case matters"
        );
        assert!(m("*", "*"));
        assert!(!m("arn:aws:s3:::*", "*"));
        assert!(m(
            "arn:aws:iam::*:role/*",
            "arn:aws:iam::111122223333:role/a/b"
        ));
    }
}
