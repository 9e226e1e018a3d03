//! Conditions evaluated against a request context, as the IAM policy
//! language defines them: every operator family, `…IfExists`, `Null`,
//! `ForAllValues:`/`ForAnyValue:`, AND across operators and keys, OR across
//! one key's values. Operators and value syntax come from
//! [`crate::conditions`], the module `policy check` judges them with.
//!
//! Results for absent keys, as AWS documents them: a positive operator is
//! false, a negated one (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`…)
//! true, any `…IfExists` true; `ForAllValues` is true for an absent or
//! empty key, `ForAnyValue` false. A single-valued operator on a key with
//! several values holds when any value matches (a negated one: none does).

use super::context::{expand, tok_match, Context, Tok};
use crate::conditions::{parse_operator, Operator, SetOp, Type};
use crate::document::Condition;
use std::net::IpAddr;

/// Why a condition did not hold: what was compared.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Failed {
    pub operator: String,
    pub key: String,
    /// The policy's values (after policy variables are substituted).
    pub expected: Vec<String>,
    /// The request's values; `None` when the request lacks the key.
    pub actual: Option<Vec<String>>,
    pub why: String,
}

/// Does condition `c` hold for `ctx`? `vars`: substitute policy variables.
pub fn holds(c: &Condition, ctx: &Context, vars: bool) -> Result<(), Failed> {
    let actual = ctx.get(&c.key.value);
    let fail = |why: String, expected: Vec<String>| Failed {
        operator: c.operator.value.clone(),
        key: c.key.value.clone(),
        expected,
        actual: actual.map(<[String]>::to_vec),
        why,
    };
    let shown = || -> Vec<String> {
        c.values
            .iter()
            .map(|v| show_value(&v.value, ctx, vars))
            .collect()
    };
    let op = match parse_operator(&c.operator.value) {
        Ok(op) => op,
        Err(_) => {
            return Err(fail(
                format!("{} is not a condition operator", c.operator.value),
                shown(),
            ))
        }
    };
    if op.is_null() {
        let absent = actual.is_none_or(<[String]>::is_empty);
        let ok = c
            .values
            .iter()
            .any(|v| match v.value.to_ascii_lowercase().as_str() {
                "true" => absent,
                "false" => !absent,
                _ => false,
            });
        return if ok {
            Ok(())
        } else {
            Err(fail(
                if absent {
                    "the key is absent".into()
                } else {
                    "the key is present".into()
                },
                shown(),
            ))
        };
    }
    let matches_one = |v: &str| -> bool {
        let hit = c
            .values
            .iter()
            .any(|p| positive(&op, v, &p.value, ctx, vars));
        hit != op.negated
    };
    let ok = match (op.set, actual) {
        (_, None) if op.if_exists => true,
        (None, None) => op.negated,
        (Some(SetOp::ForAllValues), None) => true,
        (Some(SetOp::ForAnyValue), None) => false,
        (Some(SetOp::ForAllValues), Some(vals)) => vals.iter().all(|v| matches_one(v)),
        (Some(SetOp::ForAnyValue), Some(vals)) => vals.iter().any(|v| matches_one(v)),
        (None, Some(vals)) => {
            let any = vals.iter().any(|v| {
                c.values
                    .iter()
                    .any(|p| positive(&op, v, &p.value, ctx, vars))
            });
            any != op.negated
        }
    };
    if ok {
        return Ok(());
    }
    let why = match (op.set, actual) {
        (None, None) => "the request has no such key".to_string(),
        (Some(SetOp::ForAnyValue), None) => {
            "the request has no such key (ForAnyValue is false for an absent key)".into()
        }
        (Some(SetOp::ForAnyValue), Some([])) => {
            "the key has no values (ForAnyValue is false for an empty key)".into()
        }
        (Some(SetOp::ForAllValues), _) => "a value of the request is not among them".into(),
        _ if op.negated => "a value matches".into(),
        _ => "no value matches".into(),
    };
    Err(fail(why, shown()))
}

/// A policy value with its variables substituted, for messages.
fn show_value(v: &str, ctx: &Context, vars: bool) -> String {
    match expand(v, ctx, vars, false) {
        Ok(t) => t
            .iter()
            .map(|t| match t {
                Tok::Lit(c) => *c,
                Tok::Star => '*',
                Tok::One => '?',
            })
            .collect(),
        Err(_) => v.to_string(),
    }
}

/// The literal text of a policy value (variables substituted); `None`
/// when a variable's key is missing.
fn literal<'a>(p: &'a str, ctx: &Context, vars: bool) -> Option<std::borrow::Cow<'a, str>> {
    if !vars || !p.contains("${") {
        return Some(std::borrow::Cow::Borrowed(p));
    }
    let t = expand(p, ctx, vars, false).ok()?;
    Some(std::borrow::Cow::Owned(
        t.iter()
            .map(|t| match t {
                Tok::Lit(c) => *c,
                Tok::Star => '*',
                Tok::One => '?',
            })
            .collect(),
    ))
}

/// Does the request value `v` satisfy the positive form of `op` against
/// the policy value `p`?
fn positive(op: &Operator, v: &str, p: &str, ctx: &Context, vars: bool) -> bool {
    match op.ty {
        Some(Type::String) => match op.base {
            "StringLike" | "StringNotLike" => super::context::plain_match(p, v, vars, false)
                .unwrap_or_else(|| {
                    expand(p, ctx, vars, true).is_ok_and(|t| tok_match(&t, v, false))
                }),
            "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" => literal(p, ctx, vars)
                .is_some_and(|p| {
                    if p.is_ascii() && v.is_ascii() {
                        p.eq_ignore_ascii_case(v)
                    } else {
                        p.to_lowercase() == v.to_lowercase()
                    }
                }),
            _ => literal(p, ctx, vars).is_some_and(|p| p == v),
        },
        Some(Type::Numeric) => {
            let (Some(a), Some(b)) = (number(v), literal(p, ctx, vars).as_deref().and_then(number))
            else {
                return false;
            };
            compare(op.base, a, b)
        }
        Some(Type::Date) => {
            let (Some(a), Some(b)) = (date(v), literal(p, ctx, vars).as_deref().and_then(date))
            else {
                return false;
            };
            compare(op.base, a, b)
        }
        Some(Type::Bool) => literal(p, ctx, vars).is_some_and(|p| {
            matches!(p.to_ascii_lowercase().as_str(), "true" | "false") && p.eq_ignore_ascii_case(v)
        }),
        Some(Type::Binary) => literal(p, ctx, vars).is_some_and(|p| p == v),
        Some(Type::Ip) => literal(p, ctx, vars).is_some_and(|p| in_cidr(v, &p)),
        Some(Type::Arn) => super::context::plain_match(p, v, vars, true).unwrap_or_else(|| {
            expand(p, ctx, vars, true).is_ok_and(|t| super::context::arn_match(&t, v))
        }),
        None => false,
    }
}

fn compare(base: &str, a: f64, b: f64) -> bool {
    let suffix = base
        .trim_start_matches("Numeric")
        .trim_start_matches("Date");
    match suffix {
        "Equals" => a == b,
        "NotEquals" => a == b, // the positive form; negation is applied by the caller
        "LessThan" => a < b,
        "LessThanEquals" => a <= b,
        "GreaterThan" => a > b,
        "GreaterThanEquals" => a >= b,
        _ => false,
    }
}

fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.contains(['e', 'E']) {
        return None;
    }
    s.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// ISO 8601 (`2026-01-31`, `2026-01-31T12:00Z`, `2026-01-31T12:00:00.5+02:00`)
/// or epoch seconds, as seconds since 1970.
pub fn date(s: &str) -> Option<f64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') && !s.starts_with('.') {
        return s.parse().ok();
    }
    let (d, t) = match s.split_once(['T', 't']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut p = d.split('-');
    let (y, m, dd) = (p.next()?, p.next()?, p.next()?);
    if p.next().is_some() || y.len() != 4 || m.len() != 2 || dd.len() != 2 {
        return None;
    }
    let (y, m, dd): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, dd.parse().ok()?);
    if !(1..=12).contains(&m) || dd < 1 || dd > days_in_month(y, m) {
        return None;
    }
    let mut secs = days_from_civil(y, m, dd) as f64 * 86_400.0;
    if let Some(t) = t {
        let (clock, zone) = match t.find(['Z', 'z', '+', '-']) {
            Some(i) => (&t[..i], &t[i..]),
            None => (t, ""),
        };
        let mut c = clock.split(':');
        let h: u32 = two(c.next()?)?;
        let mi: u32 = two(c.next()?)?;
        let sec: f64 = match c.next() {
            Some(x) => {
                let (whole, frac) = x.split_once('.').unwrap_or((x, ""));
                let w = two(whole)? as f64;
                if !frac.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                w + format!("0.{}", if frac.is_empty() { "0" } else { frac })
                    .parse::<f64>()
                    .ok()?
            }
            None => 0.0,
        };
        if c.next().is_some() || h > 23 || mi > 59 || sec >= 61.0 {
            return None;
        }
        secs += f64::from(h * 3600 + mi * 60) + sec;
        match zone {
            "" | "Z" | "z" => {}
            z => {
                let sign = if z.starts_with('-') { 1.0 } else { -1.0 };
                let (zh, zm) = z[1..].split_once(':').unwrap_or((&z[1..], "00"));
                let (zh, zm): (u32, u32) = (two(zh)?, two(zm)?);
                secs += sign * f64::from(zh * 3600 + zm * 60);
            }
        }
    }
    Some(secs)
}

fn two(s: &str) -> Option<u32> {
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Is address `v` inside `cidr` (an address or a block, IPv4 or IPv6)?
fn in_cidr(v: &str, cidr: &str) -> bool {
    let Ok(addr) = v.trim().parse::<IpAddr>() else {
        return false;
    };
    let (net, len) = match cidr.split_once('/') {
        Some((n, l)) => (n, l.parse::<u32>().ok()),
        None => (cidr, None),
    };
    let Ok(net) = net.trim().parse::<IpAddr>() else {
        return false;
    };
    let (a, n, bits) = match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u128::from(u32::from(a)), u128::from(u32::from(n)), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    let len = match len {
        Some(l) if l <= bits => l,
        Some(_) => return false,
        None => bits,
    };
    if len == 0 {
        return true;
    }
    let shift = bits - len;
    (a >> shift) == (n >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Spanned;
    use crate::finding::Location;

    fn cond(op: &str, key: &str, values: &[&str]) -> Condition {
        let at = Location { line: 1, column: 1 };
        Condition {
            operator: Spanned {
                value: op.into(),
                at,
            },
            key: Spanned {
                value: key.into(),
                at,
            },
            values: values
                .iter()
                .map(|v| Spanned {
                    value: v.to_string(),
                    at,
                })
                .collect(),
        }
    }

    fn ctx(pairs: &[(&str, &[&str])]) -> Context {
        let mut c = Context::new();
        for (k, vs) in pairs {
            c.set(k, vs.iter().map(|v| v.to_string()).collect());
        }
        c
    }

    fn ok(op: &str, key: &str, values: &[&str], c: &Context) -> bool {
        holds(&cond(op, key, values), c, true).is_ok()
    }

    #[test]
    fn strings_and_case() {
        let c = ctx(&[("aws:PrincipalTag/team", &["Red"])]);
        assert!(
            ok("StringEquals", "aws:principaltag/team", &["Red"], &c),
            "keys ignore case"
        );
        assert!(
            !ok("StringEquals", "aws:PrincipalTag/team", &["red"], &c),
            "values do not"
        );
        assert!(ok(
            "StringEqualsIgnoreCase",
            "aws:PrincipalTag/team",
            &["red"],
            &c
        ));
        assert!(ok("StringLike", "aws:PrincipalTag/team", &["R*"], &c));
        assert!(!ok("StringLike", "aws:PrincipalTag/team", &["r*"], &c));
        assert!(
            ok(
                "StringEquals",
                "aws:PrincipalTag/team",
                &["Blue", "Red"],
                &c
            ),
            "OR across values"
        );
        assert!(!ok(
            "StringNotEquals",
            "aws:PrincipalTag/team",
            &["Blue", "Red"],
            &c
        ));
        assert!(ok("StringNotLike", "aws:PrincipalTag/team", &["B*"], &c));
        // Absent keys: positive false, negated true, IfExists true.
        let empty = Context::new();
        assert!(!ok(
            "StringEquals",
            "aws:PrincipalTag/team",
            &["Red"],
            &empty
        ));
        assert!(ok(
            "StringNotEquals",
            "aws:PrincipalTag/team",
            &["Red"],
            &empty
        ));
        assert!(ok(
            "StringEqualsIfExists",
            "aws:PrincipalTag/team",
            &["Red"],
            &empty
        ));
        assert!(!ok(
            "StringEqualsIfExists",
            "aws:PrincipalTag/team",
            &["Blue"],
            &c
        ));
    }

    #[test]
    fn variables_in_values() {
        let c = ctx(&[("aws:username", &["ana"]), ("s3:prefix", &["home/ana/"])]);
        assert!(ok(
            "StringLike",
            "s3:prefix",
            &["home/${aws:username}/*"],
            &c
        ));
        assert!(!ok(
            "StringLike",
            "s3:prefix",
            &["home/${aws:userid}/*"],
            &c
        ));
        assert!(ok(
            "StringLike",
            "s3:prefix",
            &["home/${aws:userid, 'ana'}/*"],
            &c
        ));
        assert!(ok("StringEquals", "aws:username", &["${aws:username}"], &c));
    }

    #[test]
    fn numbers_dates_bools_binary() {
        let c = ctx(&[
            ("aws:MultiFactorAuthAge", &["300"]),
            ("aws:CurrentTime", &["2026-06-01T12:00:00Z"]),
            ("aws:EpochTime", &["1780315200"]),
            ("aws:SecureTransport", &["true"]),
            ("x:bin", &["QmluYXJ5"]),
        ]);
        assert!(ok(
            "NumericLessThan",
            "aws:MultiFactorAuthAge",
            &["3600"],
            &c
        ));
        assert!(!ok(
            "NumericGreaterThan",
            "aws:MultiFactorAuthAge",
            &["3600"],
            &c
        ));
        assert!(ok(
            "NumericNotEquals",
            "aws:MultiFactorAuthAge",
            &["3600"],
            &c
        ));
        assert!(ok(
            "NumericLessThanEquals",
            "aws:MultiFactorAuthAge",
            &["300"],
            &c
        ));
        assert!(!ok(
            "NumericEquals",
            "aws:MultiFactorAuthAge",
            &["three"],
            &c
        ));
        assert!(ok(
            "DateGreaterThan",
            "aws:CurrentTime",
            &["2026-01-01"],
            &c
        ));
        assert!(ok(
            "DateLessThan",
            "aws:CurrentTime",
            &["2026-06-01T14:00:00+01:00"],
            &c
        ));
        assert!(!ok(
            "DateLessThan",
            "aws:CurrentTime",
            &["2026-06-01T13:00:00+01:00"],
            &c
        ));
        // Epoch seconds on either side.
        assert!(ok(
            "DateEquals",
            "aws:EpochTime",
            &["2026-06-01T12:00:00Z"],
            &c
        ));
        assert!(ok(
            "DateGreaterThanEquals",
            "aws:CurrentTime",
            &["1780315200"],
            &c
        ));
        assert!(ok("Bool", "aws:SecureTransport", &["True"], &c));
        assert!(!ok("Bool", "aws:SecureTransport", &["false"], &c));
        assert!(ok("BinaryEquals", "x:bin", &["QmluYXJ5"], &c));
        assert!(!ok("BinaryEquals", "x:bin", &["cXV4"], &c));
    }

    #[test]
    fn ip_addresses() {
        let c = ctx(&[("aws:SourceIp", &["203.0.113.77"])]);
        assert!(ok("IpAddress", "aws:SourceIp", &["203.0.113.0/24"], &c));
        assert!(ok(
            "IpAddress",
            "aws:SourceIp",
            &["198.51.100.0/24", "203.0.113.77"],
            &c
        ));
        assert!(!ok("IpAddress", "aws:SourceIp", &["203.0.112.0/24"], &c));
        assert!(ok("NotIpAddress", "aws:SourceIp", &["203.0.112.0/24"], &c));
        assert!(!ok("IpAddress", "aws:SourceIp", &["2001:db8::/32"], &c));
        assert!(ok("IpAddress", "aws:SourceIp", &["0.0.0.0/0"], &c));
        let v6 = ctx(&[("aws:SourceIp", &["2001:db8:1::5"])]);
        assert!(ok("IpAddress", "aws:SourceIp", &["2001:db8::/32"], &v6));
        assert!(!ok("IpAddress", "aws:SourceIp", &["2001:db9::/32"], &v6));
        assert!(!ok("IpAddress", "aws:SourceIp", &["203.0.113.0/24"], &v6));
        // Absent: NotIpAddress holds (a negated operator).
        assert!(ok(
            "NotIpAddress",
            "aws:SourceIp",
            &["203.0.113.0/24"],
            &Context::new()
        ));
    }

    #[test]
    fn arns() {
        let c = ctx(&[(
            "aws:SourceArn",
            &["arn:aws:sns:us-east-1:111122223333:topic"],
        )]);
        assert!(ok(
            "ArnLike",
            "aws:SourceArn",
            &["arn:aws:sns:*:111122223333:*"],
            &c
        ));
        assert!(ok(
            "ArnEquals",
            "aws:SourceArn",
            &["arn:aws:sns:us-east-1:111122223333:topic"],
            &c
        ));
        assert!(!ok(
            "ArnLike",
            "aws:SourceArn",
            &["arn:aws:sns:*:444455556666:*"],
            &c
        ));
        assert!(ok("ArnNotLike", "aws:SourceArn", &["arn:aws:sqs:*"], &c));
        assert!(
            !ok(
                "ArnLike",
                "aws:SourceArn",
                &["arn:aws:sns:*:111122223333"],
                &c
            ),
            "parts stay parts"
        );
    }

    #[test]
    fn null() {
        let c = ctx(&[("aws:TokenIssueTime", &["2026-01-01T00:00:00Z"])]);
        assert!(ok("Null", "aws:TokenIssueTime", &["false"], &c));
        assert!(!ok("Null", "aws:TokenIssueTime", &["true"], &c));
        assert!(ok("Null", "aws:TokenIssueTime", &["true"], &Context::new()));
    }

    /// AWS's documented truth table for the set operators, absent and empty
    /// keys included (constructed from the IAM User Guide's description of
    /// multivalued context keys, not copied).
    #[test]
    fn multi_valued_truth_table() {
        let tags = |v: &[&str]| ctx(&[("aws:TagKeys", v)]);
        let allowed = &["env", "team"];
        let cases: &[(&str, Option<&[&str]>, bool)] = &[
            ("ForAllValues:StringEquals", Some(&["env"]), true),
            ("ForAllValues:StringEquals", Some(&["env", "team"]), true),
            ("ForAllValues:StringEquals", Some(&["env", "cost"]), false),
            ("ForAllValues:StringEquals", Some(&[]), true),
            ("ForAllValues:StringEquals", None, true),
            ("ForAnyValue:StringEquals", Some(&["env", "cost"]), true),
            ("ForAnyValue:StringEquals", Some(&["cost"]), false),
            ("ForAnyValue:StringEquals", Some(&[]), false),
            ("ForAnyValue:StringEquals", None, false),
            ("ForAllValues:StringNotEquals", Some(&["cost"]), true),
            (
                "ForAllValues:StringNotEquals",
                Some(&["cost", "env"]),
                false,
            ),
            ("ForAllValues:StringNotEquals", None, true),
            ("ForAnyValue:StringNotEquals", Some(&["cost", "env"]), true),
            ("ForAnyValue:StringNotEquals", Some(&["env"]), false),
            ("ForAnyValue:StringNotEquals", None, false),
            ("ForAnyValue:StringEqualsIfExists", None, true),
            ("ForAllValues:StringLike", Some(&["env", "team"]), true),
        ];
        for (op, given, want) in cases {
            let c = match given {
                Some(v) => tags(v),
                None => Context::new(),
            };
            assert_eq!(ok(op, "aws:TagKeys", allowed, &c), *want, "{op} {given:?}");
        }
        // A single-valued operator on a multi-valued key: any value.
        let c = tags(&["cost", "env"]);
        assert!(ok("StringEquals", "aws:TagKeys", &["env"], &c));
        assert!(!ok("StringNotEquals", "aws:TagKeys", &["env"], &c));
    }

    #[test]
    fn failures_say_what_was_compared() {
        let c = ctx(&[("aws:SourceIp", &["198.51.100.1"])]);
        let f = holds(
            &cond("IpAddress", "aws:SourceIp", &["203.0.113.0/24"]),
            &c,
            true,
        )
        .unwrap_err();
        assert_eq!(f.expected, vec!["203.0.113.0/24"]);
        assert_eq!(f.actual, Some(vec!["198.51.100.1".to_string()]));
        let f = holds(&cond("StringEquals", "aws:RequestTag/x", &["1"]), &c, true).unwrap_err();
        assert_eq!(f.actual, None);
        assert!(f.why.contains("no such key"));
    }

    #[test]
    fn dates_parse() {
        assert_eq!(date("1970-01-01"), Some(0.0));
        assert_eq!(date("1970-01-02T00:00:01Z"), Some(86_401.0));
        assert_eq!(date("2000-03-01"), Some(951_868_800.0));
        assert_eq!(date("1970-01-01T01:00:00+01:00"), Some(0.0));
        assert_eq!(date("2026-02-29"), None);
        assert!(date("2024-02-29").is_some());
        assert_eq!(date("yesterday"), None);
        assert_eq!(date("1700000000"), Some(1.7e9));
    }
}
