//! Condition operators, key types, the global condition keys and value
//! syntax, as the IAM policy language defines them
//! (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).

use crate::names::suggest;

/// What a key holds or an operator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
}

impl Type {
    /// The type of a key as the reference writes it (`ArrayOfString` is
    /// String, multi-valued). Unknown type names are read as String.
    pub fn of_reference(t: &str) -> (Type, bool) {
        let (multi, base) = match t.strip_prefix("ArrayOf") {
            Some(b) => (true, b),
            None => (false, t),
        };
        let ty = match base.to_ascii_lowercase().as_str() {
            "numeric" | "long" | "integer" => Type::Numeric,
            "date" => Type::Date,
            "bool" | "boolean" => Type::Bool,
            "binary" => Type::Binary,
            "ipaddress" | "ip" => Type::Ip,
            "arn" => Type::Arn,
            _ => Type::String,
        };
        (ty, multi)
    }
    pub fn name(self) -> &'static str {
        match self {
            Type::String => "String",
            Type::Numeric => "Numeric",
            Type::Date => "Date",
            Type::Bool => "Bool",
            Type::Binary => "Binary",
            Type::Ip => "IP address",
            Type::Arn => "ARN",
        }
    }
}

/// Set qualifier of an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    ForAllValues,
    ForAnyValue,
}

/// A parsed operator: `ForAnyValue:StringNotLikeIfExists`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// The base operator, e.g. `StringNotLike`.
    pub base: &'static str,
    /// `None` for `Null`, which compares presence.
    pub ty: Option<Type>,
    pub negated: bool,
    pub if_exists: bool,
    pub set: Option<SetOp>,
}

impl Operator {
    pub fn is_null(&self) -> bool {
        self.base == "Null"
    }
}

/// Base operators: name, type compared, negated.
const OPERATORS: &[(&str, Option<Type>, bool)] = &[
    ("StringEquals", Some(Type::String), false),
    ("StringNotEquals", Some(Type::String), true),
    ("StringEqualsIgnoreCase", Some(Type::String), false),
    ("StringNotEqualsIgnoreCase", Some(Type::String), true),
    ("StringLike", Some(Type::String), false),
    ("StringNotLike", Some(Type::String), true),
    ("NumericEquals", Some(Type::Numeric), false),
    ("NumericNotEquals", Some(Type::Numeric), true),
    ("NumericLessThan", Some(Type::Numeric), false),
    ("NumericLessThanEquals", Some(Type::Numeric), false),
    ("NumericGreaterThan", Some(Type::Numeric), false),
    ("NumericGreaterThanEquals", Some(Type::Numeric), false),
    ("DateEquals", Some(Type::Date), false),
    ("DateNotEquals", Some(Type::Date), true),
    ("DateLessThan", Some(Type::Date), false),
    ("DateLessThanEquals", Some(Type::Date), false),
    ("DateGreaterThan", Some(Type::Date), false),
    ("DateGreaterThanEquals", Some(Type::Date), false),
    ("Bool", Some(Type::Bool), false),
    ("BinaryEquals", Some(Type::Binary), false),
    ("IpAddress", Some(Type::Ip), false),
    ("NotIpAddress", Some(Type::Ip), true),
    ("ArnEquals", Some(Type::Arn), false),
    ("ArnLike", Some(Type::Arn), false),
    ("ArnNotEquals", Some(Type::Arn), true),
    ("ArnNotLike", Some(Type::Arn), true),
    ("Null", None, false),
];

/// Parse an operator; on failure, the closest valid spelling if any.
pub fn parse_operator(s: &str) -> Result<Operator, Option<String>> {
    let (set, rest) = if let Some(r) = s.strip_prefix("ForAllValues:") {
        (Some(SetOp::ForAllValues), r)
    } else if let Some(r) = s.strip_prefix("ForAnyValue:") {
        (Some(SetOp::ForAnyValue), r)
    } else {
        (None, s)
    };
    let (if_exists, base) = match rest.strip_suffix("IfExists") {
        Some(b) => (true, b),
        None => (false, rest),
    };
    match OPERATORS.iter().find(|o| o.0 == base) {
        Some(&(name, ty, negated)) if !(if_exists && name == "Null") => Ok(Operator {
            base: name,
            ty,
            negated,
            if_exists,
            set,
        }),
        _ => {
            let mut all: Vec<String> = Vec::new();
            for o in OPERATORS {
                all.push(o.0.to_string());
                if o.0 != "Null" {
                    all.push(format!("{}IfExists", o.0));
                }
            }
            let target = s.rsplit(':').next().unwrap_or(s);
            let best =
                suggest(target, all.iter().map(String::as_str)).map(|b| match s.rsplit_once(':') {
                    Some((q, _)) => format!("{q}:{b}"),
                    None => b.to_string(),
                });
            Err(best)
        }
    }
}

/// The global condition keys: name (templates with `${...}`), type,
/// multi-valued. Reviewed against the AWS page "AWS global condition
/// context keys"
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html),
/// 2026-11.
pub const GLOBAL_KEYS: &[(&str, Type, bool)] = &[
    ("aws:AssumedRoot", Type::Bool, false),
    ("aws:CalledVia", Type::String, true),
    ("aws:CalledViaFirst", Type::String, false),
    ("aws:CalledViaLast", Type::String, false),
    ("aws:ChatbotSourceArn", Type::Arn, false),
    ("aws:CurrentTime", Type::Date, false),
    ("aws:EC2InstanceSourcePrivateIPv4", Type::Ip, false),
    ("aws:EC2InstanceSourceVPC", Type::String, false),
    ("aws:EpochTime", Type::Date, false),
    ("aws:FederatedProvider", Type::String, false),
    ("aws:IsMcpServiceAction", Type::Bool, false),
    ("aws:MultiFactorAuthAge", Type::Numeric, false),
    ("aws:MultiFactorAuthPresent", Type::Bool, false),
    ("aws:PrincipalAccount", Type::String, false),
    ("aws:PrincipalArn", Type::Arn, false),
    ("aws:PrincipalIsAWSService", Type::Bool, false),
    ("aws:PrincipalOrgID", Type::String, false),
    ("aws:PrincipalOrgPaths", Type::String, true),
    ("aws:PrincipalServiceName", Type::String, false),
    ("aws:PrincipalServiceNamesList", Type::String, true),
    ("aws:PrincipalTag/${TagKey}", Type::String, false),
    ("aws:PrincipalType", Type::String, false),
    ("aws:Referer", Type::String, false),
    ("aws:RequestedRegion", Type::String, false),
    ("aws:RequestTag/${TagKey}", Type::String, false),
    ("aws:ResourceAccount", Type::String, false),
    ("aws:ResourceOrgID", Type::String, false),
    ("aws:ResourceOrgPaths", Type::String, true),
    ("aws:ResourceTag/${TagKey}", Type::String, false),
    ("aws:SecureTransport", Type::Bool, false),
    ("aws:SourceAccount", Type::String, false),
    ("aws:SourceArn", Type::Arn, false),
    ("aws:SourceIdentity", Type::String, false),
    ("aws:SourceIp", Type::Ip, false),
    ("aws:SourceOrgID", Type::String, false),
    ("aws:SourceOrgPaths", Type::String, true),
    ("aws:SourceOwner", Type::String, false),
    ("aws:SourceVpc", Type::String, false),
    ("aws:SourceVpcArn", Type::Arn, false),
    ("aws:SourceVpce", Type::String, false),
    ("aws:TagKeys", Type::String, true),
    ("aws:TokenIssueTime", Type::Date, false),
    ("aws:UserAgent", Type::String, false),
    ("aws:userid", Type::String, false),
    ("aws:username", Type::String, false),
    ("aws:ViaAWSService", Type::Bool, false),
    ("aws:VpceAccount", Type::String, false),
    ("aws:VpceOrgID", Type::String, false),
    ("aws:VpceOrgPaths", Type::String, true),
    ("aws:VpcSourceIp", Type::Ip, false),
];

/// A global key by name (any case; tag templates matched): its table
/// entry, or the closest name as a suggestion.
pub fn global_key(name: &str) -> Result<(&'static str, Type, bool), Option<&'static str>> {
    for &(k, t, m) in GLOBAL_KEYS {
        let hit = match k.split_once("${") {
            // A template: the stem and a non-empty rest.
            Some((stem, _)) => {
                name.len() > stem.len()
                    && name
                        .get(..stem.len())
                        .is_some_and(|h| h.eq_ignore_ascii_case(stem))
            }
            None => k.eq_ignore_ascii_case(name),
        };
        if hit {
            return Ok((k, t, m));
        }
    }
    Err(suggest(name, GLOBAL_KEYS.iter().map(|k| k.0)))
}

/// Does `value` parse as the operator's type? `Err` says why not.
/// Values holding a policy variable are not judged.
pub fn check_value(op: &Operator, value: &str) -> Result<(), String> {
    if value.contains("${") {
        return Ok(());
    }
    if op.is_null() {
        return match value {
            "true" | "false" => Ok(()),
            _ => Err(format!(
                "Null takes \"true\" (the key is absent) or \"false\" (present), not {value:?}"
            )),
        };
    }
    match op.ty {
        Some(Type::Numeric) => {
            if value.parse::<f64>().is_ok_and(f64::is_finite) && !value.contains(['e', 'E']) {
                Ok(())
            } else {
                Err(format!("{value:?} is not a number"))
            }
        }
        Some(Type::Date) => {
            if is_date(value) {
                Ok(())
            } else {
                Err(format!(
                    "{value:?} is not a date: write ISO 8601 (2026-01-31 or 2026-01-31T12:00:00Z) or epoch seconds"
                ))
            }
        }
        Some(Type::Bool) => match value.to_ascii_lowercase().as_str() {
            "true" | "false" => Ok(()),
            _ => Err(format!("{value:?} is not a boolean (true or false)")),
        },
        Some(Type::Ip) => {
            if is_ip_or_cidr(value) {
                Ok(())
            } else {
                Err(format!(
                    "{value:?} is not an IP address or CIDR block (203.0.113.0/24, 2001:db8::/32)"
                ))
            }
        }
        Some(Type::Binary) => {
            if !value.is_empty()
                && value.len().is_multiple_of(4)
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
            {
                Ok(())
            } else {
                Err(format!("{value:?} is not base64"))
            }
        }
        Some(Type::Arn) => {
            if value.starts_with("arn:") || value.starts_with('*') || value.starts_with('?') {
                Ok(())
            } else {
                Err(format!(
                    "{value:?} is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)"
                ))
            }
        }
        Some(Type::String) | None => Ok(()),
    }
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// ISO 8601 dates and times as IAM reads them, or epoch seconds.
fn is_date(v: &str) -> bool {
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let (date, time) = match v.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (v, None),
    };
    let mut parts = date.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    if !(digits(y, 4) && digits(m, 2) && digits(d, 2)) {
        return false;
    }
    let (m, d): (u32, u32) = (m.parse().unwrap(), d.parse().unwrap());
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return false;
    }
    let Some(t) = time else { return true };
    // HH:MM[:SS[.fff]] then Z or ±HH:MM.
    let (clock, _zone) = match t.find(['Z', '+', '-']) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, ""),
    };
    let mut c = clock.split(':');
    let (Some(h), Some(mi)) = (c.next(), c.next()) else {
        return false;
    };
    let s = c.next().unwrap_or("00");
    let s = s.split('.').next().unwrap_or(s);
    digits(h, 2)
        && digits(mi, 2)
        && digits(s, 2)
        && h.parse::<u32>().unwrap() < 24
        && mi.parse::<u32>().unwrap() < 60
        && s.parse::<u32>().unwrap() < 61
}

fn is_ip_or_cidr(v: &str) -> bool {
    let (addr, len) = match v.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (v, None),
    };
    let max = if addr.parse::<std::net::Ipv4Addr>().is_ok() {
        32
    } else if addr.parse::<std::net::Ipv6Addr>().is_ok() {
        128
    } else {
        return false;
    };
    match len {
        None => true,
        Some(l) => l.parse::<u32>().is_ok_and(|l| l <= max) && !l.starts_with('+'),
    }
}

/// How an operator fits a key's type: fine, usable with a better choice
/// (the message names it), or wrong.
pub enum Fit {
    Good,
    Usable(String),
    Wrong(String),
}

pub fn fit(op: &Operator, key_type: Type) -> Fit {
    let Some(ot) = op.ty else { return Fit::Good };
    match (ot, key_type) {
        (a, b) if a == b => Fit::Good,
        // Epoch seconds compare as numbers.
        (Type::Numeric, Type::Date) => Fit::Good,
        (Type::String, Type::Arn) => Fit::Usable(format!(
            "{} compares ARNs as plain strings; ArnEquals/ArnLike match them part by part",
            op.base
        )),
        (Type::String, other) => Fit::Usable(format!(
            "{} compares a {} key as text; use the {} operators",
            op.base,
            other.name(),
            other.name()
        )),
        (Type::Arn, Type::String) => Fit::Usable(format!(
            "{} on a String key works only when the values are ARNs",
            op.base
        )),
        (ot, kt) => Fit::Wrong(format!(
            "{} compares {} values but the key holds {} values",
            op.base,
            ot.name(),
            kt.name()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators() {
        let o = parse_operator("ForAnyValue:StringNotLikeIfExists").unwrap();
        assert_eq!(o.base, "StringNotLike");
        assert!(o.negated && o.if_exists && o.set == Some(SetOp::ForAnyValue));
        assert_eq!(
            parse_operator("StringEqualz").unwrap_err().as_deref(),
            Some("StringEquals")
        );
        assert_eq!(
            parse_operator("ForAllValues:StringEqualz")
                .unwrap_err()
                .as_deref(),
            Some("ForAllValues:StringEquals")
        );
        assert!(parse_operator("NullIfExists").is_err());
        assert!(parse_operator("Null").unwrap().is_null());
    }

    #[test]
    fn global_keys() {
        assert_eq!(global_key("aws:sourceip").unwrap().1, Type::Ip);
        assert_eq!(
            global_key("aws:PrincipalTag/team").unwrap().0,
            "aws:PrincipalTag/${TagKey}"
        );
        assert_eq!(
            global_key("aws:SourceIpp").unwrap_err(),
            Some("aws:SourceIp")
        );
        assert!(global_key("aws:PrincipalTag/").is_err());
    }

    #[test]
    fn values() {
        let op = |s| parse_operator(s).unwrap();
        assert!(check_value(&op("DateGreaterThan"), "yesterday").is_err());
        assert!(check_value(&op("DateGreaterThan"), "2026-01-31T12:00:00Z").is_ok());
        assert!(check_value(&op("DateGreaterThan"), "2026-13-31").is_err());
        assert!(check_value(&op("DateLessThan"), "1700000000").is_ok());
        assert!(check_value(&op("Null"), "yes").is_err());
        assert!(check_value(&op("Null"), "true").is_ok());
        assert!(check_value(&op("IpAddress"), "203.0.113.0/24").is_ok());
        assert!(check_value(&op("IpAddress"), "2001:db8::/32").is_ok());
        assert!(check_value(&op("IpAddress"), "203.0.113.0/33").is_err());
        assert!(check_value(&op("NumericLessThan"), "3600").is_ok());
        assert!(check_value(&op("NumericLessThan"), "an hour").is_err());
        assert!(check_value(&op("Bool"), "True").is_ok());
        assert!(check_value(&op("StringEquals"), "${aws:username}").is_ok());
    }

    #[test]
    fn fits() {
        let op = |s| parse_operator(s).unwrap();
        assert!(matches!(fit(&op("NumericEquals"), Type::Ip), Fit::Wrong(_)));
        assert!(matches!(
            fit(&op("StringEquals"), Type::Arn),
            Fit::Usable(_)
        ));
        assert!(matches!(fit(&op("IpAddress"), Type::Ip), Fit::Good));
        assert!(matches!(fit(&op("Null"), Type::Ip), Fit::Good));
    }
}
