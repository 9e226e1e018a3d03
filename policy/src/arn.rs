//! The ARN pattern algebra: can a policy `Resource` pattern ever match an
//! ARN of a resource type, decided exactly as the intersection of two
//! languages, not as a regex on one string.
//!
//! - A **pattern** is what a policy writes: `arn:aws:s3:::b/home/${aws:username}/*`.
//!   Its six colon-separated parts (`arn`, partition, service, region,
//!   account, resource) are matched part by part: `*` and `?` stay inside
//!   their part, except in the resource part where `*` and `?` also cross
//!   `:` and `/`, as IAM does. Policy variables (`${aws:username}`,
//!   `${aws:PrincipalTag/team}`) stand for an unknown non-empty value
//!   without `:`; `${*}`, `${?}` and `${$}` are the escaped literals.
//! - A **format** is what the reference writes:
//!   `arn:${Partition}:s3:::${BucketName}/${ObjectName}`. Placeholders stand
//!   for a non-empty value that may contain `/` (names with paths) and
//!   never contains `:`; a `*` in a format stands for any run without `:`.
//! - An ARN that fits several formats of a service belongs to the **most
//!   specific** one: `arn:aws:dynamodb:…:table/T/index/I` is an index, not
//!   a table named `T/index/I`; `arn:aws:s3:::b/k` is an object, not a
//!   bucket named `b/k`. [`Matcher::reaches`] decides "is there an ARN that
//!   the pattern matches and that belongs to this format" with that rule.
//!
//! Matching ignores ASCII case throughout (a pattern that differs from a
//! real ARN only in case is not worth an error).
//!
//! Every decision runs a product of small automata (subset construction
//! over the character classes that occur), bounded in states: a hostile
//! pattern cannot make it run long. When the bound is hit the answer is
//! the permissive one ([`Matcher::truncated`] counts those).

use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::{BTreeMap, VecDeque};

/// The longest pattern accepted (IAM's own ARN limit is 2048 characters).
pub const MAX_PATTERN_LEN: usize = 2048;
/// Product states explored per decision before giving the permissive answer.
const STATE_LIMIT: usize = 20_000;
/// NFA state visits per decision before giving the permissive answer.
const WORK_LIMIT: usize = 2_000_000;

/// One element of a pattern or format, over characters lowercased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Tok {
    Lit(char),
    /// `?`: one character (`colon`: may be `:`).
    One {
        colon: bool,
    },
    /// `*`: any run, possibly empty (`colon`: may contain `:`).
    Star {
        colon: bool,
    },
    /// A variable or placeholder: a non-empty run (`slash_end`: may end
    /// with `/`; `colon`: may contain `:`, as ids in the resource part of
    /// a format do: `anthropic.claude-v2:1`, S3 keys, stream labels).
    Var {
        slash_end: bool,
        colon: bool,
    },
}

/// A policy `Resource` (or `NotResource`) value, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    raw: String,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Kind {
    /// `"*"`: every resource.
    Any,
    Arn {
        toks: Vec<Tok>,
        /// The six parts as written (resource part with its colons).
        parts: [String; 6],
    },
}

/// Why a string is not an ARN pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ArnError {
    pub message: String,
    /// 0-based character offset in the value where the problem is.
    pub offset: usize,
}

impl Pattern {
    /// Parse a policy resource value: `"*"` or a six-part ARN pattern.
    pub fn parse(raw: &str) -> Result<Pattern, ArnError> {
        let err = |message: String, offset: usize| Err(ArnError { message, offset });
        if raw == "*" {
            return Ok(Pattern {
                raw: raw.into(),
                kind: Kind::Any,
            });
        }
        if raw.len() > MAX_PATTERN_LEN {
            return err(
                format!(
                    "is {} characters long; an ARN has at most {MAX_PATTERN_LEN}",
                    raw.len()
                ),
                MAX_PATTERN_LEN,
            );
        }
        if let Some((i, c)) = raw.char_indices().find(|(_, c)| c.is_control()) {
            return err(
                format!("contains a control character (U+{:04X})", c as u32),
                i,
            );
        }
        // Split into parts on `:` outside `${...}`.
        let mut parts: Vec<String> = vec![String::new()];
        let mut toks = Vec::with_capacity(raw.len());
        let chars: Vec<char> = raw.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let in_resource = parts.len() == 6;
            let c = chars[i];
            if c == '$' && chars.get(i + 1) == Some(&'{') {
                let Some(len) = chars[i..].iter().position(|&c| c == '}') else {
                    return err(
                        "has a `${` with no closing `}`: write a policy variable as ${aws:username}, or ${$} for a literal $".into(),
                        i,
                    );
                };
                let inner: String = chars[i + 2..i + len].iter().collect();
                match inner.as_str() {
                    "*" | "?" | "$" => toks.push(Tok::Lit(inner.chars().next().unwrap())),
                    "" => return err("has an empty policy variable `${}`".into(), i),
                    _ => toks.push(Tok::Var {
                        slash_end: true,
                        colon: false,
                    }),
                }
                let text: String = chars[i..=i + len].iter().collect();
                parts.last_mut().unwrap().push_str(&text);
                i += len + 1;
                continue;
            }
            match c {
                ':' if !in_resource => {
                    toks.push(Tok::Lit(':'));
                    parts.push(String::new());
                    i += 1;
                    continue;
                }
                '*' => toks.push(Tok::Star { colon: in_resource }),
                '?' => toks.push(Tok::One { colon: in_resource }),
                c => toks.push(Tok::Lit(c.to_ascii_lowercase())),
            }
            parts.last_mut().unwrap().push(c);
            i += 1;
        }
        if parts.len() < 6 {
            return err(
                format!(
                    "is not an ARN: an ARN has six parts arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, this has {}",
                    parts.len()
                ),
                raw.len(),
            );
        }
        if !parts[0].eq_ignore_ascii_case("arn") {
            return err(
                format!(
                    "is not an ARN: it must start with `arn:`, not `{}:`",
                    parts[0]
                ),
                0,
            );
        }
        if parts[2].is_empty() {
            return err(
                "is not an ARN: the service part is empty".into(),
                5 + parts[1].len(),
            );
        }
        if parts[5].is_empty() {
            return err(
                "is not an ARN: the resource part is empty".into(),
                raw.len(),
            );
        }
        let parts: [String; 6] = parts.try_into().expect("six parts");
        Ok(Pattern {
            raw: raw.into(),
            kind: Kind::Arn { toks, parts },
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }
    /// `"*"`?
    pub fn is_any(&self) -> bool {
        matches!(self.kind, Kind::Any)
    }
    /// The six parts as written, or `None` for `"*"`.
    pub fn parts(&self) -> Option<&[String; 6]> {
        match &self.kind {
            Kind::Any => None,
            Kind::Arn { parts, .. } => Some(parts),
        }
    }
    /// The service part (`s3`), `None` for `"*"`.
    pub fn service(&self) -> Option<&str> {
        self.parts().map(|p| p[2].as_str())
    }
    /// Does it hold a wildcard or policy variable anywhere?
    pub fn is_concrete(&self) -> bool {
        match &self.kind {
            Kind::Any => false,
            Kind::Arn { toks, .. } => toks.iter().all(|t| matches!(t, Tok::Lit(_))),
        }
    }
    /// The literal start of the resource part (`table/` for
    /// `…:table/T*`); empty for `"*"`.
    pub(crate) fn resource_stem(&self) -> String {
        self.toks().map(resource_stem).unwrap_or_default()
    }
    fn toks(&self) -> Option<&[Tok]> {
        match &self.kind {
            Kind::Any => None,
            Kind::Arn { toks, .. } => Some(toks),
        }
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.raw)
    }
}

/// An ARN format from the reference, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Format {
    raw: String,
    toks: Vec<Tok>,
    /// Placeholder names in order (one per `Tok::Var`).
    names: Vec<String>,
}

impl Format {
    /// Parse `arn:${Partition}:s3:::${BucketName}/${ObjectName}`. Never fails:
    /// whatever is not a `${Placeholder}` or `*` is literal text.
    pub fn parse(raw: &str) -> Format {
        let mut toks = Vec::with_capacity(raw.len());
        let mut names = Vec::new();
        let mut rest = raw;
        let mut colons = 0;
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("${") {
                if let Some(end) = after.find('}') {
                    let name = &after[..end];
                    // Names never end with `/` (that would make `bucket/*`
                    // a bucket), but object keys can (`folder/`). Ids in
                    // the resource part may hold `:` (model ids, S3 keys,
                    // stream labels); where a format spells out more
                    // structure (`log-group:${G}:log-stream:${S}`), the
                    // most specific format wins.
                    toks.push(Tok::Var {
                        slash_end: name.contains("Object"),
                        colon: colons >= 5,
                    });
                    names.push(name.to_string());
                    rest = &after[end + 1..];
                    continue;
                }
            }
            if c == ':' {
                colons += 1;
            }
            toks.push(match c {
                '*' => Tok::Star { colon: false },
                c => Tok::Lit(c.to_ascii_lowercase()),
            });
            rest = &rest[c.len_utf8()..];
        }
        Format {
            raw: raw.into(),
            toks,
            names,
        }
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
    /// Is the concrete ARN `arn` one of this format's, none of the
    /// `narrower` formats (see [`Matcher::strictly_narrower`]) taking it?
    /// Concrete: no `*`, `?` or policy variable; the escapes `${*}`,
    /// `${?}` and `${$}` are the literal characters (see [`escape`]).
    /// Read straight from the text, remembering nothing: for streams of
    /// distinct ARNs (CloudTrail), where a memo would only grow. `None`
    /// for a pattern (ask [`Matcher::reaches`]); text that
    /// [`Pattern::parse`] refuses is taken by no format.
    pub fn takes_arn(&self, arn: &str, narrower: &[Format]) -> Option<bool> {
        let mut word: Vec<char> = Vec::with_capacity(arn.len());
        let mut rest = arn;
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("${") {
                word.push(match after.get(..2) {
                    Some("*}") => '*',
                    Some("?}") => '?',
                    Some("$}") => '$',
                    _ => return None,
                });
                rest = &after[2..];
                continue;
            }
            if c == '*' || c == '?' {
                return None;
            }
            word.push(c.to_ascii_lowercase());
            rest = &rest[c.len_utf8()..];
        }
        if arn.len() > MAX_PATTERN_LEN || arn.chars().any(char::is_control) {
            return Some(false);
        }
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() < 6
            || !parts[0].eq_ignore_ascii_case("arn")
            || parts[2].is_empty()
            || parts[5].is_empty()
        {
            return Some(false);
        }
        Some(accepts(&self.toks, &word) && !narrower.iter().any(|n| accepts(&n.toks, &word)))
    }

    /// The ARN's service part as written, lowercase (`s3`; `${vendor}`
    /// for backup's recovery points).
    pub fn namespace(&self) -> String {
        self.raw
            .split(':')
            .nth(2)
            .unwrap_or("")
            .to_ascii_lowercase()
    }
    /// Is the service part a placeholder (`arn:${Partition}:${Vendor}:…`)?
    /// Such a format takes ARNs of any namespace, but only those no format
    /// of a concrete namespace takes.
    pub fn is_vendor(&self) -> bool {
        Format::is_vendor_text(&self.raw)
    }
    /// [`Format::is_vendor`] of a format's text, without parsing it.
    pub fn is_vendor_text(raw: &str) -> bool {
        raw.split(':').nth(2).is_some_and(|s| s.contains("${"))
    }
    /// Is the resource part fixed text (no placeholder, no wildcard:
    /// `marketplace/model-endpoint/all-access`, `hub/default`)? Such a
    /// format names one resource per region and account.
    pub fn is_fixed(&self) -> bool {
        Format::is_fixed_text(&self.raw)
    }
    /// [`Format::is_fixed`] of a format's text, without parsing it.
    pub fn is_fixed_text(raw: &str) -> bool {
        match raw.splitn(6, ':').nth(5) {
            Some(r) => !r.contains("${") && !r.contains('*'),
            None => false,
        }
    }
    /// How much literal structure the format spells out (the most
    /// specific format wins an ARN several take).
    pub fn specificity(&self) -> usize {
        self.literal_len()
    }

    /// Placeholder names in order, e.g. `["Partition", "BucketName", "ObjectName"]`.
    pub fn placeholders(&self) -> &[String] {
        &self.names
    }

    /// The generic policy pattern for this format: `${Partition}` becomes
    /// `partition`, every other placeholder `*`.
    pub fn generic(&self, partition: &str) -> String {
        self.fill(&Bindings::new(), partition)
    }

    /// Fill the placeholders from `bindings` (by name, case-insensitive);
    /// `${Partition}` from `partition` when unbound; the others `*`.
    pub fn fill(&self, bindings: &Bindings, partition: &str) -> String {
        let mut out = String::with_capacity(self.raw.len());
        let mut rest = self.raw.as_str();
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            match rest[i..].find('}') {
                Some(end) => {
                    let var = &rest[i + 2..i + end];
                    match bindings.get(&var.to_ascii_lowercase()) {
                        Some(v) => out.push_str(v),
                        None if var == "Partition" => out.push_str(partition),
                        None => out.push('*'),
                    }
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

    /// The literal text of the resource part up to its first placeholder or
    /// wildcard (`table/` for `…:table/${TableName}/index/${IndexName}`).
    pub(crate) fn resource_stem(&self) -> String {
        resource_stem(&self.toks)
    }
    fn literal_len(&self) -> usize {
        self.toks
            .iter()
            .filter(|t| matches!(t, Tok::Lit(_)))
            .count()
    }
    /// The first five parts' tokens (through the fifth colon).
    fn head(&self) -> &[Tok] {
        head_of(&self.toks)
    }
}

/// The first five parts' tokens (through the fifth colon), or all of them.
fn head_of(toks: &[Tok]) -> &[Tok] {
    let mut colons = 0;
    for (i, t) in toks.iter().enumerate() {
        if *t == Tok::Lit(':') {
            colons += 1;
            if colons == 5 {
                return &toks[..=i];
            }
        }
    }
    toks
}

/// A resource name as a policy must write it to mean exactly that name:
/// `*` and `?` (wildcards in a policy, ordinary characters in an S3 key or
/// a parameter) become `${*}` and `${?}`, and a `${` that would start a
/// policy variable becomes `${$}{`.
pub fn escape(name: &str) -> std::borrow::Cow<'_, str> {
    if !name.contains(['*', '?']) && !name.contains("${") {
        return std::borrow::Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 8);
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push_str("${*}"),
            '?' => out.push_str("${?}"),
            '$' if chars.peek() == Some(&'{') => out.push_str("${$}"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Placeholder values taken from a given ARN, by lowercased placeholder name.
pub type Bindings = BTreeMap<String, String>;

/// Match a pattern against a format and read the placeholder values off it
/// (`arn:aws:s3:::b` against the bucket format binds `bucketname = b`).
/// Wildcards and variables in the pattern stay in the bound values
/// (`arn:aws:s3:::logs-*` binds `bucketname = logs-*`). `None` when the
/// pattern does not fit the format part for part. Of several ways to bind,
/// the one that gives earlier placeholders the shortest values is taken.
pub fn bind(format: &Format, pattern: &Pattern) -> Option<Bindings> {
    let Kind::Arn { parts, .. } = &pattern.kind else {
        return None;
    };
    // Pattern units: whole `${...}` variables stay one unit.
    let text = parts.join(":");
    let units = pattern_units(&text);
    let mut vals: Vec<String> = Vec::new();
    if bind_rec(&format.toks, 0, &units, 0, &mut vals, &mut 0) {
        let mut b = Bindings::new();
        for (name, v) in format.names.iter().zip(vals) {
            b.insert(name.to_ascii_lowercase(), v);
        }
        Some(b)
    } else {
        None
    }
}

fn pattern_units(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("${") {
            if let Some(end) = rest.find('}') {
                out.push(rest[..=end].to_string());
                rest = &rest[end + 1..];
                continue;
            }
        }
        out.push(c.to_string());
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn bind_rec(
    f: &[Tok],
    i: usize,
    u: &[String],
    j: usize,
    vals: &mut Vec<String>,
    budget: &mut usize,
) -> bool {
    *budget += 1;
    if *budget > STATE_LIMIT {
        return false;
    }
    if i == f.len() {
        return j == u.len();
    }
    match f[i] {
        Tok::Lit(c) => {
            let Some(unit) = u.get(j) else {
                return false;
            };
            let mut chars = unit.chars();
            let single = chars.next().filter(|_| chars.next().is_none());
            if single.map(|s| s.to_ascii_lowercase()) == Some(c) && unit != "*" && unit != "?" {
                return bind_rec(f, i + 1, u, j + 1, vals, budget);
            }
            // A wildcard of the pattern covers this literal (a `*` maybe more).
            (unit == "*" || unit == "?")
                && c != ':'
                && (bind_rec(f, i + 1, u, j + 1, vals, budget)
                    || unit == "*" && bind_rec(f, i + 1, u, j, vals, budget))
        }
        Tok::Star { .. } => {
            for k in j..=u.len() {
                if k > j && u[k - 1] == ":" {
                    break;
                }
                if bind_rec(f, i + 1, u, k, vals, budget) {
                    return true;
                }
            }
            false
        }
        Tok::Var { colon, .. } => {
            for k in j + 1..=u.len() {
                if u[k - 1] == ":" && !colon {
                    break;
                }
                vals.push(u[j..k].concat());
                if bind_rec(f, i + 1, u, k, vals, budget) {
                    return true;
                }
                vals.pop();
            }
            false
        }
        Tok::One { .. } => false,
    }
}

// ---------------------------------------------------------------------------
// Automata.
// ---------------------------------------------------------------------------

/// A token sequence as an NFA: state `3*i + v`, `i` the token position,
/// `v` 1 or 2 while inside a `Var` that has consumed at least one
/// character (2: the last one was `/`).
struct Nfa<'a> {
    toks: &'a [Tok],
}

/// The members of a set of states, in order.
fn members(s: &[u64]) -> impl Iterator<Item = usize> + '_ {
    s.iter().enumerate().flat_map(|(w, &bits)| {
        let mut b = bits;
        std::iter::from_fn(move || {
            if b == 0 {
                return None;
            }
            let t = b.trailing_zeros() as usize;
            b &= b - 1;
            Some(w * 64 + t)
        })
    })
}

fn set_bit(s: &mut [u64], i: usize) {
    s[i / 64] |= 1u64 << (i % 64);
}
fn has_bit(s: &[u64], i: usize) -> bool {
    s[i / 64] & (1u64 << (i % 64)) != 0
}

impl<'a> Nfa<'a> {
    fn states(&self) -> usize {
        3 * (self.toks.len() + 1)
    }
    fn words(&self) -> usize {
        self.states().div_ceil(64)
    }
    /// The empty move out of a state: skip a `Star`; leave a `Var` (not
    /// right after a `/` unless the variable may end with one).
    fn empty_move(&self, st: usize) -> Option<usize> {
        let (i, v) = (st / 3, st % 3);
        match (self.toks.get(i), v) {
            (Some(Tok::Var { .. }), 1)
            | (
                Some(Tok::Var {
                    slash_end: true, ..
                }),
                2,
            ) => Some(3 * (i + 1)),
            (Some(Tok::Star { .. }), 0) => Some(3 * (i + 1)),
            _ => None,
        }
    }
    /// Close a set under the empty moves. They only go forward, so one
    /// ascending pass reaches them all.
    fn close(&self, s: &mut [u64]) {
        for w in 0..s.len() {
            let mut done = 0u64;
            loop {
                let pending = s[w] & !done;
                if pending == 0 {
                    break;
                }
                let t = pending.trailing_zeros() as usize;
                done |= 1u64 << t;
                if let Some(n) = self.empty_move(w * 64 + t) {
                    set_bit(s, n);
                }
            }
        }
    }
    fn start_into(&self, s: &mut [u64]) {
        set_bit(s, 0);
        self.close(s);
    }
    /// `out` (zeroed) becomes the states after reading `c` from `s`.
    fn step_into(&self, s: &[u64], c: char, out: &mut [u64], work: &mut usize) {
        for st in members(s) {
            *work += 1;
            let (i, v) = (st / 3, st % 3);
            let Some(t) = self.toks.get(i) else { continue };
            match (*t, v) {
                (Tok::Var { colon, .. }, _) if colon || c != ':' => {
                    set_bit(out, 3 * i + if c == '/' { 2 } else { 1 });
                }
                (Tok::Lit(l), 0) if l == c => set_bit(out, 3 * (i + 1)),
                (Tok::One { colon }, 0) if colon || c != ':' => set_bit(out, 3 * (i + 1)),
                (Tok::Star { colon }, 0) if colon || c != ':' => set_bit(out, 3 * i),
                _ => {}
            }
        }
        self.close(out);
    }
    /// The characters that can move `s` on: `None` when any can (a
    /// wildcard or variable is active), else the literals expected.
    fn next_chars(&self, s: &[u64], lits: &mut Vec<char>) -> Option<()> {
        lits.clear();
        for st in members(s) {
            let (i, v) = (st / 3, st % 3);
            match (self.toks.get(i), v) {
                (Some(Tok::Lit(c)), 0) => {
                    if !lits.contains(c) {
                        lits.push(*c);
                    }
                }
                (Some(Tok::Lit(_)), _) | (None, _) => {}
                _ => return None,
            }
        }
        Some(())
    }
    fn accepts(&self, s: &[u64]) -> bool {
        has_bit(s, 3 * self.toks.len())
    }
    /// Adds the literals `s`'s states expect to `out` (once each).
    fn expected_into(&self, s: &[u64], out: &mut Vec<char>) {
        for st in members(s) {
            if let (Some(Tok::Lit(c)), 0) = (self.toks.get(st / 3), st % 3) {
                if !out.contains(c) {
                    out.push(*c);
                }
            }
        }
    }
}

/// The string a pattern of literals only stands for.
fn literal_word(toks: &[Tok]) -> Option<Vec<char>> {
    toks.iter()
        .map(|t| match t {
            Tok::Lit(c) => Some(*c),
            _ => None,
        })
        .collect()
}

/// The states of a token sequence after reading `word` (all zero: dead).
fn after(toks: &[Tok], word: &[char]) -> Vec<u64> {
    let n = Nfa { toks };
    let mut s = vec![0u64; n.words()];
    n.start_into(&mut s);
    let mut next = vec![0u64; n.words()];
    let mut work = 0;
    for &c in word {
        next.iter_mut().for_each(|w| *w = 0);
        n.step_into(&s, c, &mut next, &mut work);
        std::mem::swap(&mut s, &mut next);
        if s.iter().all(|w| *w == 0) {
            break;
        }
    }
    s
}

/// A pattern that is literal text and then one `*` crossing `:` (the
/// usual `arn:aws:s3:::bucket/*`): its literal text.
fn literal_then_star(toks: &[Tok]) -> Option<Vec<char>> {
    match toks.split_last() {
        Some((Tok::Star { colon: true }, rest)) => literal_word(rest),
        _ => None,
    }
}

/// Does a token sequence match one string?
fn accepts(toks: &[Tok], word: &[char]) -> bool {
    let n = Nfa { toks };
    let mut s = vec![0u64; n.words()];
    n.start_into(&mut s);
    let mut next = vec![0u64; n.words()];
    let mut work = 0;
    for &c in word {
        next.iter_mut().for_each(|w| *w = 0);
        n.step_into(&s, c, &mut next, &mut work);
        if next.iter().all(|w| *w == 0) {
            return false;
        }
        std::mem::swap(&mut s, &mut next);
    }
    n.accepts(&s)
}

/// Is there a string every `pos` sequence matches and no `neg` sequence
/// matches? `None` when the state bound was hit.
///
/// A breadth-first search over tuples of state sets (the product of the
/// subset constructions), flattened into one bit vector per tuple. Only
/// the characters every positive automaton can take are tried (along
/// literal text that is one character), and of the others only those
/// some automaton tells apart: the literals its states expect, `:`, `/`
/// and one fresh character for all the rest.
fn exists(pos: &[&[Tok]], neg: &[&[Tok]]) -> Option<bool> {
    exists_from(pos, neg, None)
}

/// [`exists`] from given state sets (one flat vector, the automata in
/// order) instead of the start states.
fn exists_from(pos: &[&[Tok]], neg: &[&[Tok]], from: Option<Vec<u64>>) -> Option<bool> {
    let nfas: Vec<Nfa> = pos.iter().chain(neg).map(|t| Nfa { toks: t }).collect();
    let mut offs = Vec::with_capacity(nfas.len() + 1);
    offs.push(0);
    for n in &nfas {
        offs.push(offs.last().unwrap() + n.words());
    }
    let width = *offs.last().unwrap();
    let range = |i: usize| offs[i]..offs[i + 1];
    let start = match from {
        Some(v) => v,
        None => {
            let mut start = vec![0u64; width];
            for (i, n) in nfas.iter().enumerate() {
                n.start_into(&mut start[range(i)]);
            }
            start
        }
    };
    let mut seen: FxHashSet<Vec<u64>> = FxHashSet::default();
    let mut queue = VecDeque::new();
    seen.insert(start.clone());
    queue.push_back(start);
    let np = pos.len();
    let mut work = 0usize;
    let (mut lits, mut cand) = (Vec::new(), Vec::new());
    while let Some(sets) = queue.pop_front() {
        let ok_pos = (0..np).all(|i| nfas[i].accepts(&sets[range(i)]));
        let ok_neg = (np..nfas.len()).all(|i| !nfas[i].accepts(&sets[range(i)]));
        if ok_pos && ok_neg {
            return Some(true);
        }
        // Characters every positive automaton can take.
        let mut restricted = false;
        for i in 0..np {
            if nfas[i].next_chars(&sets[range(i)], &mut lits).is_some() {
                if restricted {
                    cand.retain(|c| lits.contains(c));
                } else {
                    cand.clone_from(&lits);
                    restricted = true;
                }
            }
        }
        // Unrestricted, only the characters some automaton of the tuple
        // tells apart: the literals its states expect, `:` and `/`, and
        // the fresh character, which stands for every other one (each of
        // them moves every automaton as it does).
        if !restricted {
            cand.clear();
            cand.extend_from_slice(&[':', '/', '\u{1}']);
            for (i, n) in nfas.iter().enumerate() {
                n.expected_into(&sets[range(i)], &mut cand);
            }
        }
        'chars: for &c in &cand {
            let mut next = vec![0u64; width];
            for (i, n) in nfas.iter().enumerate() {
                let r = range(i);
                n.step_into(&sets[r.clone()], c, &mut next[r.clone()], &mut work);
                if i < np && next[r].iter().all(|w| *w == 0) {
                    continue 'chars;
                }
            }
            if seen.len() >= STATE_LIMIT || work >= WORK_LIMIT {
                return None;
            }
            if !seen.contains(&next) {
                seen.insert(next.clone());
                queue.push_back(next);
            }
        }
    }
    Some(false)
}

/// Decides pattern-versus-format questions, remembering answers: a policy
/// repeats the same Resources across statements and actions.
#[derive(Default)]
pub struct Matcher {
    /// By pattern and format (the other formats given with a format are
    /// the same on every call: its namespace or service).
    reach: FxHashMap<String, bool>,
    /// By format: the formats among the others given with it that are
    /// narrower than it.
    narrower: FxHashMap<String, Vec<String>>,
    /// Do a pattern's and a format's first five parts admit a common
    /// string? By the two heads' tokens.
    heads: FxHashMap<(Vec<Tok>, Vec<Tok>), bool>,
    subset: FxHashMap<(String, String), bool>,
    /// "Can the formats go on to an ARN of this one?" by formats and states.
    residual: FxHashMap<(String, Vec<u64>), bool>,
    /// Decisions that hit the state bound and were answered permissively.
    pub truncated: usize,
}

impl Matcher {
    pub fn new() -> Matcher {
        Matcher::default()
    }

    /// Can `pattern` match some ARN of `format`, ignoring other formats?
    pub fn intersects(&mut self, pattern: &Pattern, format: &Format) -> bool {
        self.reaches(pattern, format, &[])
    }

    /// Is there an ARN that `pattern` matches and whose most specific
    /// format, among `format` and `others` (the other formats of its
    /// namespace or service, the same set on every call for one format),
    /// is `format`?
    pub fn reaches(&mut self, pattern: &Pattern, format: &Format, others: &[&Format]) -> bool {
        let Some(ptoks) = pattern.toks() else {
            return true;
        };
        // Quick rejections: the literal starts of the resource parts must
        // agree, then the first five parts, part by part.
        let (ps, fs) = (resource_stem(ptoks), resource_stem(&format.toks));
        if !(ps.starts_with(&fs) || fs.starts_with(&ps)) {
            return false;
        }
        if !self.heads_compatible(ptoks, format.head()) {
            return false;
        }
        let key = format!("{}\u{0}{}", pattern.raw, format.raw);
        if let Some(&r) = self.reach.get(&key) {
            return r;
        }
        // Which of the others are narrower than `format`: the same answer
        // on every call for one format (its others are the same set), found
        // once and kept by name (never by position in `others`).
        let names = match self.narrower.get(&format.raw) {
            Some(n) => n.clone(),
            None => {
                let n: Vec<String> = others
                    .iter()
                    .filter(|o| o.raw != format.raw && self.strictly_narrower(o, format))
                    .map(|o| o.raw.clone())
                    .collect();
                self.narrower.insert(format.raw.clone(), n.clone());
                n
            }
        };
        let narrower: Vec<&Format> = if names.is_empty() {
            Vec::new()
        } else {
            others
                .iter()
                .copied()
                .filter(|o| names.contains(&o.raw))
                .collect()
        };
        self.decide(ptoks, format, &narrower, key)
    }

    /// Is there an ARN that `pattern` matches, `format` takes and none of
    /// `before` (formats that take precedence, given directly: a
    /// `${Vendor}` format yields to every concrete format) takes? One
    /// matcher must see one set of `before` per (pattern, format).
    pub fn reaches_unless(
        &mut self,
        pattern: &Pattern,
        format: &Format,
        before: &[&Format],
    ) -> bool {
        let Some(ptoks) = pattern.toks() else {
            return true;
        };
        let (ps, fs) = (resource_stem(ptoks), resource_stem(&format.toks));
        if !(ps.starts_with(&fs) || fs.starts_with(&ps)) {
            return false;
        }
        if !self.heads_compatible(ptoks, format.head()) {
            return false;
        }
        let key = format!("{}\u{0}{}\u{0}unless", pattern.raw, format.raw);
        if let Some(&r) = self.reach.get(&key) {
            return r;
        }
        self.decide(ptoks, format, before, key)
    }

    /// [`heads_compatible`], remembered by the two heads: a policy's
    /// Resources share a few (partition, service, region, account).
    fn heads_compatible(&mut self, ptoks: &[Tok], fhead: &[Tok]) -> bool {
        let key = (head_of(ptoks).to_vec(), fhead.to_vec());
        if let Some(&r) = self.heads.get(&key) {
            return r;
        }
        let r = heads_compatible(ptoks, fhead);
        self.heads.insert(key, r);
        r
    }

    fn decide(
        &mut self,
        ptoks: &[Tok],
        format: &Format,
        narrower: &[&Format],
        key: String,
    ) -> bool {
        let neg: Vec<&[Tok]> = narrower.iter().map(|f| f.toks.as_slice()).collect();
        // A concrete ARN is one string: run the formats over it.
        if let Some(word) = literal_word(ptoks) {
            let r = accepts(&format.toks, &word) && !neg.iter().any(|n| accepts(n, &word));
            self.reach.insert(key, r);
            return r;
        }
        // Literal text then `*`: read the text, then ask whether the
        // formats can go on to an ARN of `format` only. That question
        // depends only on the formats' states, which many Resources share
        // (`bucket-1/*`, `bucket-2/*`): decided once.
        if let Some(word) = literal_then_star(ptoks) {
            let mut from = after(&format.toks, &word);
            if from.iter().all(|w| *w == 0) {
                self.reach.insert(key, false);
                return false;
            }
            for n in &neg {
                from.extend(after(n, &word));
            }
            let mut rkey = format.raw.clone();
            for n in narrower {
                rkey.push('\u{0}');
                rkey.push_str(&n.raw);
            }
            let rkey = (rkey, from);
            let r = match self.residual.get(&rkey) {
                Some(&r) => r,
                None => {
                    let r = match exists_from(&[&format.toks], &neg, Some(rkey.1.clone())) {
                        Some(r) => r,
                        None => {
                            self.truncated += 1;
                            true
                        }
                    };
                    self.residual.insert(rkey, r);
                    r
                }
            };
            self.reach.insert(key, r);
            return r;
        }
        let r = match exists(&[ptoks, &format.toks], &neg) {
            Some(r) => r,
            None => {
                self.truncated += 1;
                true
            }
        };
        self.reach.insert(key, r);
        r
    }

    /// Does `wide` match every ARN `narrow` matches (language inclusion)?
    /// `arn:aws:s3:::*` includes `arn:aws:s3:::b`; `"*"` includes all. A
    /// decision that hits the state bound answers no.
    pub fn includes(&mut self, wide: &Pattern, narrow: &Pattern) -> bool {
        match (wide.toks(), narrow.toks()) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(w), Some(n)) => exists(&[n], &[w]) == Some(false),
        }
    }

    /// Does every ARN that `pattern` can match belong to `format` (or one
    /// of the formats narrower than it)? Used to tell "this Resource is an
    /// object ARN" from "this Resource also reaches other things".
    pub fn covered_by(&mut self, pattern: &Pattern, format: &Format) -> bool {
        match pattern.toks() {
            None => false,
            Some(p) => exists(&[p], &[&format.toks]) == Some(false),
        }
    }

    /// Does `a` take the ARNs it shares with `b`? It does when the two
    /// overlap and `a` is more specific: more literal text
    /// (`table/${T}/index/${I}` over `table/${T}`, `${Bucket}/${Object}`
    /// over `${Bucket}`).
    pub fn strictly_narrower(&mut self, a: &Format, b: &Format) -> bool {
        // Cheap structural filter: same head, one resource stem extends
        // the other, more literal text.
        let (sa, sb) = (a.resource_stem(), b.resource_stem());
        if !(sa.starts_with(&sb) || sb.starts_with(&sa))
            || a.head() != b.head()
            || a.literal_len() <= b.literal_len()
        {
            return false;
        }
        let key = (a.raw.clone(), b.raw.clone());
        if let Some(&r) = self.subset.get(&key) {
            return r;
        }
        let r = exists(&[&a.toks, &b.toks], &[]) == Some(true);
        self.subset.insert(key, r);
        r
    }
}

/// The literal characters of the resource part (after the fifth `:`) up
/// to the first wildcard, variable or placeholder.
fn resource_stem(toks: &[Tok]) -> String {
    let mut colons = 0;
    let mut out = String::new();
    for t in toks {
        match t {
            Tok::Lit(c) if colons >= 5 => out.push(*c),
            Tok::Lit(':') => colons += 1,
            Tok::Lit(_) => {}
            _ if colons >= 5 => break,
            _ => {}
        }
    }
    out
}

/// Do the first five parts of a pattern and a format head admit a common
/// string? Cheap: part-wise, each part a small `exists`.
fn heads_compatible(ptoks: &[Tok], fhead: &[Tok]) -> bool {
    let split = |t: &[Tok]| -> Vec<Vec<Tok>> {
        let mut parts = vec![Vec::new()];
        for tok in t {
            if *tok == Tok::Lit(':') && parts.len() < 6 {
                parts.push(Vec::new());
            } else {
                parts.last_mut().unwrap().push(*tok);
            }
        }
        parts
    };
    let (p, f) = (split(ptoks), split(fhead));
    (0..5).all(|i| match (p.get(i), f.get(i)) {
        // Literal text on either side is one string to run the other over.
        (Some(a), Some(b)) => match (literal_word(a), literal_word(b)) {
            (Some(x), Some(y)) => x == y,
            (Some(x), None) => accepts(b, &x),
            (None, Some(y)) => accepts(a, &y),
            (None, None) => exists(&[a, b], &[]) != Some(false),
        },
        _ => true,
    })
}

// ---------------------------------------------------------------------------
// Partition, region and account.
// ---------------------------------------------------------------------------

/// The AWS partitions (from the SDKs' `partitions.json`, 2026).
pub const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// Region names (from the SDKs' `partitions.json` and the AWS Regions page,
/// https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html, 2026).
pub const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-isoe-west-1",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eusc-de-east-1",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "us-isob-west-1",
    "us-isof-east-1",
    "us-isof-south-1",
    "us-west-1",
    "us-west-2",
];

/// A problem with one part of an ARN pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartProblem {
    /// `partition`, `region` or `account`.
    pub part: &'static str,
    pub message: String,
    /// What to write instead, when known.
    pub fix: Option<String>,
}

fn literal(part: &str) -> bool {
    !part.contains(['*', '?']) && !part.contains("${")
}

/// Check the partition, region and account of a pattern. Parts with
/// wildcards or variables are not judged.
pub fn validate(pattern: &Pattern) -> Vec<PartProblem> {
    let mut out = Vec::new();
    let Some(p) = pattern.parts() else {
        return out;
    };
    let (partition, region, account) = (&p[1], &p[3], &p[4]);
    if literal(partition) && !PARTITIONS.contains(&partition.as_str()) {
        out.push(PartProblem {
            part: "partition",
            message: format!(
                "partition {partition:?} does not exist (partitions: {})",
                PARTITIONS.join(", ")
            ),
            fix: Some("aws".into()),
        });
    }
    if literal(region) && !region.is_empty() && !REGIONS.contains(&region.as_str()) {
        // An availability zone (`us-east-1f`) or a typo.
        let az = region
            .strip_suffix(|c: char| c.is_ascii_lowercase())
            .filter(|r| REGIONS.contains(r));
        let fix = az.map(str::to_string).or_else(|| {
            REGIONS
                .iter()
                .min_by_key(|r| crate::names::distance(r, region))
                .filter(|r| crate::names::distance(r, region) <= 2)
                .map(|r| r.to_string())
        });
        out.push(PartProblem {
            part: "region",
            message: match az {
                Some(r) => format!(
                    "{region:?} is an availability zone, not a region; ARNs name the region ({r})"
                ),
                None => format!("region {region:?} does not exist"),
            },
            fix,
        });
    }
    if literal(account)
        && !account.is_empty()
        && account != "aws"
        && !(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
    {
        out.push(PartProblem {
            part: "account",
            message: format!("account {account:?} is not a 12-digit AWS account ID"),
            fix: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }
    fn f(s: &str) -> Format {
        Format::parse(s)
    }

    const BUCKET: &str = "arn:${Partition}:s3:::${BucketName}";
    const OBJECT: &str = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
    const AP: &str = "arn:${Partition}:s3:${Region}:${Account}:accesspoint/${AccessPointName}";
    const TABLE: &str = "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}";
    const INDEX: &str =
        "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}/index/${IndexName}";

    /// Does the pattern reach `fmt` among all `service` formats?
    fn reaches(pat: &str, fmt: &str, service: &[&str]) -> bool {
        let formats: Vec<Format> = service.iter().map(|s| f(s)).collect();
        let refs: Vec<&Format> = formats.iter().collect();
        Matcher::new().reaches(&p(pat), &f(fmt), &refs)
    }

    #[test]
    fn buckets_and_objects() {
        let s3 = [BUCKET, OBJECT, AP];
        assert!(reaches("arn:aws:s3:::awsexamplebucket1", BUCKET, &s3));
        assert!(!reaches("arn:aws:s3:::awsexamplebucket1", OBJECT, &s3));
        assert!(!reaches("arn:aws:s3:::awsexamplebucket1/*", BUCKET, &s3));
        assert!(reaches("arn:aws:s3:::awsexamplebucket1/*", OBJECT, &s3));
        assert!(reaches("arn:aws:s3:::b/folder/file.txt", OBJECT, &s3));
        assert!(!reaches("arn:aws:s3:::b/folder/file.txt", BUCKET, &s3));
        assert!(!reaches("arn:aws:s3:::awsexamplebucket1", AP, &s3));
        assert!(reaches(
            "arn:aws:s3:us-east-1:123456789012:accesspoint/x",
            AP,
            &s3
        ));
        assert!(reaches("arn:aws:s3:::*", BUCKET, &s3));
        assert!(reaches("arn:aws:s3:::*", OBJECT, &s3));
        assert!(!reaches("arn:aws:ec2:::*", BUCKET, &s3));
        assert!(reaches("*", BUCKET, &s3));
        // `*` in the region part stays in it; an S3 bucket has no region.
        assert!(!reaches("arn:aws:s3:us-east-1::b", BUCKET, &s3));
        assert!(reaches("arn:aws:s3:*:*:*", BUCKET, &s3));
    }

    #[test]
    fn policy_variables() {
        let s3 = [BUCKET, OBJECT];
        assert!(reaches(
            "arn:aws:s3:::b/home/${aws:username}/*",
            OBJECT,
            &s3
        ));
        assert!(!reaches(
            "arn:aws:s3:::b/home/${aws:username}/*",
            BUCKET,
            &s3
        ));
        let user = "arn:${Partition}:iam::${Account}:user/${UserNameWithPath}";
        let role = "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}";
        assert!(reaches(
            "arn:aws:iam::*:user/${aws:username}",
            user,
            &[user, role]
        ));
        assert!(!reaches(
            "arn:aws:iam::*:user/${aws:username}",
            role,
            &[user, role]
        ));
        assert!(reaches(
            "arn:aws:iam::123456789012:role/${aws:PrincipalTag/team}-*",
            role,
            &[user, role]
        ));
        // Escaped literals.
        let q = p("arn:aws:s3:::b/${*}");
        assert!(q.is_concrete());
    }

    #[test]
    fn names_with_slashes_and_colons() {
        let lg = "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}";
        let ls = "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}";
        let pat = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/my-fn:*";
        assert!(reaches(pat, ls, &[lg, ls]));
        let secret = "arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}";
        assert!(reaches(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
            secret,
            &[secret]
        ));
        let param = "arn:${Partition}:ssm:${Region}:${Account}:parameter/${ParameterNameWithoutLeadingSlash}";
        assert!(reaches(
            "arn:aws:ssm:us-east-1:123456789012:parameter/app/prod/db",
            param,
            &[param]
        ));
        let role = "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}";
        assert!(reaches(
            "arn:aws:iam::123456789012:role/a/b/MyRole",
            role,
            &[role]
        ));
    }

    #[test]
    fn ids_may_hold_colons_where_the_format_has_no_more_structure() {
        let s3 = [BUCKET, OBJECT, AP];
        assert!(reaches(
            "arn:aws:s3:::logs/2024-01-01T00:00:00Z.json",
            OBJECT,
            &s3
        ));
        assert!(reaches("arn:aws:s3:::b/sessions/user:42/*", OBJECT, &s3));
        assert!(!reaches("arn:aws:s3:::b/sessions/user:42/*", BUCKET, &s3));
        let model = "arn:${Partition}:bedrock:${Region}::foundation-model/${ResourceId}";
        assert!(reaches(
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0",
            model,
            &[model]
        ));
        let f = "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}";
        let alias =
            "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}:${Alias}";
        let fns = [f, alias];
        let q = "arn:aws:lambda:us-east-1:123456789012:function:f:prod";
        assert!(reaches(q, alias, &fns));
        assert!(!reaches(q, f, &fns));
        assert!(reaches(
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            f,
            &fns
        ));
        let lg = "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}";
        let ls = "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}";
        let stream = "arn:aws:logs:us-east-1:123456789012:log-group:a:log-stream:b";
        assert!(reaches(stream, ls, &[lg, ls]));
        assert!(!reaches(stream, lg, &[lg, ls]));
        // The region and account parts never take a ':'.
        assert!(!reaches("arn:aws:s3:a:b:c:accesspoint/x", AP, &s3));
        // Binding reads a colon into the id.
        let b = bind(
            &f_(model),
            &p("arn:aws:bedrock:us-east-1::foundation-model/m:0"),
        )
        .unwrap();
        assert_eq!(b.get("resourceid").map(String::as_str), Some("m:0"));
    }

    fn f_(s: &str) -> Format {
        Format::parse(s)
    }

    #[test]
    fn vendor_formats_yield_to_concrete_ones() {
        let vendor = f("arn:${Partition}:${Vendor}:${Region}:*:${ResourceType}:${RecoveryPointId}");
        assert!(vendor.is_vendor());
        assert!(!f(OBJECT).is_vendor());
        let mut m = Matcher::new();
        let rp = p("arn:aws:backup:us-east-1:123456789012:recovery-point:1EB3B5E7");
        assert!(m.reaches_unless(&rp, &vendor, &[]));
        let secret = f("arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}");
        let s = p("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf");
        assert!(!m.reaches_unless(&s, &vendor, &[&secret]));
        assert!(f(
            "arn:${Partition}:bedrock:${Region}:${Account}:marketplace/model-endpoint/all-access"
        )
        .is_fixed());
        assert!(!f(OBJECT).is_fixed());
    }

    #[test]
    fn most_specific_format_wins() {
        let ddb = [TABLE, INDEX];
        assert!(reaches(
            "arn:aws:dynamodb:us-east-1:123456789012:table/Books",
            TABLE,
            &ddb
        ));
        assert!(!reaches(
            "arn:aws:dynamodb:us-east-1:123456789012:table/Books",
            INDEX,
            &ddb
        ));
        let idx = "arn:aws:dynamodb:us-east-1:123456789012:table/Books/index/ByAuthor";
        assert!(reaches(idx, INDEX, &ddb));
        assert!(!reaches(idx, TABLE, &ddb));
        assert!(reaches(
            "arn:aws:dynamodb:us-east-1:123456789012:table/Books/index/*",
            INDEX,
            &ddb
        ));
        assert!(!reaches(
            "arn:aws:dynamodb:us-east-1:123456789012:table/Books/index/*",
            TABLE,
            &ddb
        ));
        let mut m = Matcher::new();
        assert!(m.strictly_narrower(&f(INDEX), &f(TABLE)));
        assert!(!m.strictly_narrower(&f(TABLE), &f(INDEX)));
        assert!(m.strictly_narrower(&f(OBJECT), &f(BUCKET)));
    }

    #[test]
    fn star_crosses_colons_only_in_the_resource_part() {
        let fmt = "arn:${Partition}:dms:${Region}:${Account}:endpoint:${EndpointId}";
        assert!(reaches("arn:aws:dms:*:*:*", fmt, &[fmt]));
        assert!(reaches("arn:aws:*:*:*:endpoint:x", fmt, &[fmt]));
        // `*` in the service part cannot swallow the region's colon.
        assert!(Pattern::parse("arn:aws:*").is_err());
    }

    #[test]
    fn malformed_patterns() {
        for bad in [
            "arn:aws:s3",
            "s3:::bucket",
            "arn:aws::::x",
            "arn:aws:s3:::",
            "arn:aws:s3:::b/${aws:username",
            "arn:aws:s3:::b/\u{7}",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
        assert!(Pattern::parse(&format!("arn:aws:s3:::{}", "a".repeat(3000))).is_err());
    }

    #[test]
    fn binding_and_filling() {
        let b = bind(&f(BUCKET), &p("arn:aws:s3:::awsexamplebucket1")).unwrap();
        assert_eq!(
            b.get("bucketname").map(String::as_str),
            Some("awsexamplebucket1")
        );
        assert_eq!(
            f(OBJECT).fill(&b, "aws"),
            "arn:aws:s3:::awsexamplebucket1/*"
        );
        let lg = f("arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}");
        let ls = f("arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}");
        let b = bind(
            &lg,
            &p("arn:aws:logs:us-east-1:123456789012:log-group:/app/prod"),
        )
        .unwrap();
        assert_eq!(
            ls.fill(&b, "aws"),
            "arn:aws:logs:us-east-1:123456789012:log-group:/app/prod:log-stream:*"
        );
        assert_eq!(f(OBJECT).generic("aws"), "arn:aws:s3:::*/*");
        assert_eq!(f(BUCKET).generic("aws"), "arn:aws:s3:::*");
        assert!(bind(&f(BUCKET), &p("arn:aws:ec2:::x")).is_none());
        let b = bind(&f(BUCKET), &p("arn:aws:s3:::logs-*")).unwrap();
        assert_eq!(b["bucketname"], "logs-*");
    }

    #[test]
    fn partitions_regions_accounts() {
        let probs = |s: &str| validate(&p(s));
        assert!(probs("arn:aws:ec2:us-east-1:123456789012:instance/i-1").is_empty());
        let az = probs("arn:aws:ec2:us-east-1f:123456789012:instance/i-1");
        assert_eq!(az.len(), 1);
        assert_eq!(az[0].part, "region");
        assert_eq!(az[0].fix.as_deref(), Some("us-east-1"));
        let acct = probs("arn:aws:ec2:us-east-1:abc:instance/i-1");
        assert_eq!(acct[0].part, "account");
        assert_eq!(probs("arn:awz:s3:::b")[0].part, "partition");
        assert!(probs("arn:aws:ec2:*:${aws:PrincipalAccount}:instance/*").is_empty());
        assert!(probs("arn:aws:iam::aws:policy/ReadOnlyAccess").is_empty());
    }

    #[test]
    fn hostile_patterns_stay_bounded() {
        let pat = format!("arn:aws:s3:::{}", "*?".repeat(500));
        let t = std::time::Instant::now();
        let mut m = Matcher::new();
        let _ = m.reaches(&p(&pat), &f(OBJECT), &[&f(BUCKET)]);
        assert!(t.elapsed().as_secs() < 5, "took {:?}", t.elapsed());
    }

    // -- Property test: the automata against brute force. ----------------

    use proptest::prelude::*;

    /// Does the token sequence match `s`, by plain backtracking?
    fn brute(t: &[Tok], s: &[char]) -> bool {
        match t.first() {
            None => s.is_empty(),
            Some(Tok::Lit(c)) => s.first() == Some(c) && brute(&t[1..], &s[1..]),
            Some(Tok::One { colon }) => {
                s.first().is_some_and(|&c| *colon || c != ':') && brute(&t[1..], &s[1..])
            }
            Some(Tok::Star { colon }) => (0..=s.len())
                .take_while(|&k| k == 0 || *colon || s[k - 1] != ':')
                .any(|k| brute(&t[1..], &s[k..])),
            Some(Tok::Var { slash_end, colon }) => (1..=s.len())
                .take_while(|&k| *colon || s[k - 1] != ':')
                .any(|k| (*slash_end || s[k - 1] != '/') && brute(&t[1..], &s[k..])),
        }
    }

    /// Every string over {a, /, :, z} up to length 6.
    fn strings() -> Vec<Vec<char>> {
        let mut all = vec![vec![]];
        let mut layer = vec![vec![]];
        for _ in 0..6 {
            let mut next = Vec::new();
            for s in &layer {
                for c in ['a', '/', ':', 'z'] {
                    let mut t: Vec<char> = s.clone();
                    t.push(c);
                    next.push(t);
                }
            }
            all.extend(next.iter().cloned());
            layer = next;
        }
        all
    }

    fn tok() -> impl Strategy<Value = Tok> {
        prop_oneof![
            Just(Tok::Lit('a')),
            Just(Tok::Lit('/')),
            Just(Tok::Lit(':')),
            any::<bool>().prop_map(|colon| Tok::One { colon }),
            any::<bool>().prop_map(|colon| Tok::Star { colon }),
            (any::<bool>(), any::<bool>())
                .prop_map(|(slash_end, colon)| Tok::Var { slash_end, colon }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn exists_agrees_with_brute_force(
            p in proptest::collection::vec(tok(), 0..4),
            f in proptest::collection::vec(tok(), 0..4),
            g in proptest::collection::vec(tok(), 0..3),
        ) {
            // Witnesses for sequences this short fit in 6 characters.
            let all = strings();
            let want = all.iter().any(|s| brute(&p, s) && brute(&f, s) && !brute(&g, s));
            prop_assert_eq!(exists(&[&p, &f], &[&g]), Some(want));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// The one-string fast path agrees with the automata product.
        #[test]
        fn literal_fast_path_agrees(
            w in proptest::collection::vec(prop_oneof![Just('a'), Just('/'), Just(':'), Just('z')], 0..6),
            f in proptest::collection::vec(tok(), 0..4),
            g in proptest::collection::vec(tok(), 0..3),
        ) {
            let p: Vec<Tok> = w.iter().map(|&c| Tok::Lit(c)).collect();
            let fast = accepts(&f, &w) && !accepts(&g, &w);
            prop_assert_eq!(Some(fast), exists(&[&p, &f], &[&g]));
            prop_assert_eq!(fast, brute(&f, &w) && !brute(&g, &w));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Literal text then `*`: reading the text, then searching from
        /// the formats' states, agrees with the whole product.
        #[test]
        fn literal_then_star_agrees(
            w in proptest::collection::vec(prop_oneof![Just('a'), Just('/'), Just(':'), Just('z')], 0..5),
            f in proptest::collection::vec(tok(), 0..4),
            g in proptest::collection::vec(tok(), 0..3),
        ) {
            let mut p: Vec<Tok> = w.iter().map(|&c| Tok::Lit(c)).collect();
            p.push(Tok::Star { colon: true });
            let mut from = after(&f, &w);
            let fast = if from.iter().all(|x| *x == 0) {
                Some(false)
            } else {
                from.extend(after(&g, &w));
                exists_from(&[&f], &[&g], Some(from))
            };
            prop_assert_eq!(fast, exists(&[&p, &f], &[&g]));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Reading an ARN's text straight agrees with parsing it and
        /// asking the matcher.
        #[test]
        fn takes_arn_agrees_with_parsing(
            res in "[a-zA-Z0-9/:$\\[\\]._-]{0,12}",
            svc in prop_oneof![Just("s3"), Just("logs"), Just("")],
            region in prop_oneof![Just(""), Just("us-east-1")],
            fi in 0usize..5,
        ) {
            let formats = [
                "arn:${Partition}:s3:::${BucketName}",
                "arn:${Partition}:s3:::${BucketName}/${ObjectName}",
                "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}",
                "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}",
                "arn:${Partition}:logs:${Region}:${Account}:*",
            ];
            let all: Vec<Format> = formats.iter().map(|f| Format::parse(f)).collect();
            let f = &all[fi];
            let mut m = Matcher::new();
            let narrower: Vec<Format> = all
                .iter()
                .filter(|o| o.raw != f.raw && m.strictly_narrower(o, f))
                .cloned()
                .collect();
            let others: Vec<&Format> = all.iter().filter(|o| o.raw != f.raw).collect();
            let arn = format!("arn:aws:{svc}:{region}:123456789012:{res}");
            let fast = f.takes_arn(&arn, &narrower);
            let slow = match Pattern::parse(&arn) {
                Ok(p) => Some(m.reaches(&p, f, &others)),
                Err(_) => Some(false),
            };
            prop_assert_eq!(fast, slow, "{}", arn);
        }
    }

    #[test]
    fn escaped_names_are_read_as_literal_text() {
        let obj = Format::parse("arn:${Partition}:s3:::${BucketName}/${ObjectName}");
        let key = "a*b?c${x}[$LATEST]";
        let arn = format!("arn:aws:s3:::b/{}", escape(key));
        assert_eq!(arn, "arn:aws:s3:::b/a${*}b${?}c${$}{x}[$LATEST]");
        assert_eq!(obj.takes_arn(&arn, &[]), Some(true));
        // The same through parsing: the pattern is concrete.
        let p = Pattern::parse(&arn).unwrap();
        assert!(p.is_concrete());
        assert!(Matcher::new().reaches(&p, &obj, &[]));
        // Unescaped, it is a pattern (or a variable), not a name.
        assert_eq!(obj.takes_arn("arn:aws:s3:::b/a*b", &[]), None);
        assert_eq!(obj.takes_arn("arn:aws:s3:::b/${aws:username}", &[]), None);
        assert_eq!(escape("plain/key.txt"), "plain/key.txt");
    }
}
