//! The domain of every column the dataset stores: which values a cell may
//! hold. The parser checks each cell as it reads it (the error names the
//! page, table, row and column); [`check_document`] checks a JSON service
//! reference document (naming its JSON path); [`check_services`] checks the
//! merged services once more before anything is published. The last one
//! is the code form of what `schema/service.schema.json` requires of the
//! values (patterns and enums) plus the closed sets and bounds below,
//! which the schema does not state: the binary carries no JSON Schema
//! validator (`dataset/tests/json_schema.rs` validates the shipped files
//! against the schema itself).
//!
//! A value outside its domain is damage (cells swapped under correct
//! headers, a cut tag spilled into a cell), never data: nothing with such
//! a value is published.

use crate::model::*;
use std::fmt;

/// The access levels AWS uses, the only values of `Access level`.
pub const ACCESS_LEVELS: [&str; 5] = ["List", "Read", "Write", "Permissions management", "Tagging"];

/// Condition-key types: IAM's seven base types and their `ArrayOf` forms.
pub const KEY_TYPES: [&str; 14] = [
    "String",
    "ArrayOfString",
    "ARN",
    "ArrayOfARN",
    "Bool",
    "ArrayOfBool",
    "Numeric",
    "ArrayOfNumeric",
    "Date",
    "ArrayOfDate",
    "IPAddress",
    "ArrayOfIPAddress",
    "Binary",
    "ArrayOfBinary",
];

/// Longest description kept (bytes). The longest AWS wrote in June 2026 is
/// 518; a cell beyond this cap is a page that lost its table structure.
pub const MAX_DESCRIPTION: usize = 8 * 1024;
/// Longest name (action, resource type, condition key, operation).
pub const MAX_NAME: usize = 256;
/// Longest ARN format.
pub const MAX_ARN: usize = 2048;
/// Largest page read (bytes). The largest page (EC2) is 2.2 MB in June 2026.
pub const MAX_PAGE_BYTES: usize = 16 * 1024 * 1024;
/// Largest JSON service reference document read (EC2's is 0.6 MB).
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// The words every [`Violation`] message carries (how a caller tells an
/// out-of-domain value from other unreadable input in a message).
pub const MARK: &str = "outside the column's domain";

/// A value outside its column's domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The column as the page heads it (`Access level`) or the JSON field.
    pub column: &'static str,
    /// The value, shortened to 80 characters.
    pub value: String,
    /// What the column holds.
    pub expected: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `{:?}` escapes control characters: names from input reach the
        // terminal safely.
        write!(
            f,
            "column {}: {:?} is {MARK} (expected {})",
            self.column, self.value, self.expected
        )
    }
}

fn short(v: &str) -> String {
    if v.chars().count() <= 80 {
        v.to_string()
    } else {
        let mut s: String = v.chars().take(80).collect();
        s.push('…');
        s
    }
}

fn violation(column: &'static str, value: &str, expected: impl Into<String>) -> Violation {
    Violation {
        column,
        value: short(value),
        expected: expected.into(),
    }
}

type Check = Result<(), Violation>;

fn sized(column: &'static str, v: &str, max: usize, what: &str) -> Check {
    if v.len() > max {
        return Err(Violation {
            column,
            value: short(v),
            expected: format!("{what} of at most {max} bytes; this one has {}", v.len()),
        });
    }
    Ok(())
}

fn chars_ok(v: &str, extra: &[char]) -> bool {
    v.chars()
        .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
}

/// ISO 8601 (UTC, seconds) of milliseconds since the epoch
/// (`1970-01-01T00:00:00Z`); the first 10 characters are the date.
pub fn iso_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A capture date: `YYYY-MM-DD`, a real day of the Gregorian calendar.
pub fn capture_date(s: &str) -> Result<String, String> {
    let bad = || format!("{s:?}: expected a date as YYYY-MM-DD, e.g. 2026-06-14");
    let b = s.as_bytes();
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    {
        return Err(bad());
    }
    let y: u32 = s[..4].parse().map_err(|_| bad())?;
    let m: u32 = s[5..7].parse().map_err(|_| bad())?;
    let d: u32 = s[8..].parse().map_err(|_| bad())?;
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(format!("{s:?}: there is no month {m}; expected YYYY-MM-DD")),
    };
    if d == 0 || d > days {
        return Err(format!(
            "{s:?}: there is no day {d} in month {m} of {y}; expected YYYY-MM-DD"
        ));
    }
    Ok(s.to_string())
}

/// `Access level`: one of [`ACCESS_LEVELS`], as written.
pub fn access_level(v: &str) -> Check {
    if ACCESS_LEVELS.contains(&v) {
        Ok(())
    } else {
        Err(violation(
            "Access level",
            v,
            format!("one of {}", ACCESS_LEVELS.join(", ")),
        ))
    }
}

/// A condition key's type: one of [`KEY_TYPES`]; a merged value lists
/// several as `A, B` (the JSON's list of two).
pub fn key_type(v: &str) -> Check {
    if !v.is_empty() && v.split(", ").all(|t| KEY_TYPES.contains(&t)) {
        Ok(())
    } else {
        Err(violation(
            "Type",
            v,
            format!("one of {}", KEY_TYPES.join(", ")),
        ))
    }
}

/// A service prefix: letters, digits, `-`, `_`, `.`, starting with a
/// letter or digit.
pub fn prefix(v: &str) -> Check {
    let first_ok = v.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if first_ok && v.len() <= 64 && chars_ok(v, &['-', '_', '.']) {
        Ok(())
    } else {
        Err(violation(
            "prefix",
            v,
            "a service prefix such as s3 or aws-marketplace",
        ))
    }
}

/// An action name: letters, digits, `-`, `_`, `.` (no prefix, no wildcard).
pub fn action_name(column: &'static str, v: &str) -> Check {
    sized(column, v, MAX_NAME, "a name")?;
    if !v.is_empty() && chars_ok(v, &['-', '_', '.']) {
        Ok(())
    } else {
        Err(violation(
            column,
            v,
            "an action name: letters, digits, - _ .",
        ))
    }
}

/// `prefix:Action`, as dependent actions and operations name actions.
pub fn qualified_action(column: &'static str, v: &str) -> Check {
    sized(column, v, MAX_NAME, "a name")?;
    match v.split_once(':') {
        Some((p, a))
            if prefix(p).is_ok() && !a.is_empty() && chars_ok(a, &['-', '_', '.', '*']) =>
        {
            Ok(())
        }
        _ => Err(violation(column, v, "an action as prefix:Action")),
    }
}

/// A resource type name: letters, digits, space, `-`, `_`, `.`, `/`
/// (`bot alias`, `stream group`), no leading or trailing space.
pub fn resource_type_name(column: &'static str, v: &str) -> Check {
    sized(column, v, MAX_NAME, "a name")?;
    if !v.is_empty()
        && v.trim() == v
        && !v.contains("  ")
        && chars_ok(v, &[' ', '-', '_', '.', '/'])
    {
        Ok(())
    } else {
        Err(violation(
            column,
            v,
            "a resource type name: letters, digits, space, - _ . /",
        ))
    }
}

/// A condition key name: `prefix:name`, the name of letters, digits and
/// `/ $ { } < > - _ . :` (`aws:RequestTag/${TagKey}`,
/// `s3:ExistingObjectTag/<key>`).
pub fn key_name(column: &'static str, v: &str) -> Check {
    sized(column, v, MAX_NAME, "a name")?;
    match v.split_once(':') {
        Some((p, k))
            if prefix(p).is_ok()
                && !k.is_empty()
                && chars_ok(k, &['/', '$', '{', '}', '<', '>', '-', '_', '.', ':']) =>
        {
            Ok(())
        }
        _ => Err(violation(column, v, "a condition key as prefix:Name")),
    }
}

/// An ARN format: starts with `arn:`, no whitespace, bounded.
pub fn arn_format(column: &'static str, v: &str) -> Check {
    sized(column, v, MAX_ARN, "an ARN format")?;
    if v.starts_with("arn:") && !v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Ok(())
    } else {
        Err(violation(
            column,
            v,
            "an ARN format starting with arn: and without spaces",
        ))
    }
}

/// A description: bounded in size.
pub fn description(column: &'static str, v: &str) -> Check {
    sized(column, v, MAX_DESCRIPTION, "a description")
}

/// An operation name: letters, digits, `-`, `_`, `.`.
pub fn operation_name(column: &'static str, v: &str) -> Check {
    action_name(column, v)
}

/// A page file name: `list_*.html`-like, no folder.
pub fn page_file(v: &str) -> Check {
    if (v.ends_with(".html") || v.ends_with(".htm"))
        && !v.contains(['/', '\\'])
        && v.len() <= MAX_NAME
    {
        Ok(())
    } else {
        Err(violation(
            "page",
            v,
            "a page file name such as list_amazons3.html",
        ))
    }
}

/// A value outside its domain, located: where (`list_amazons3.html,
/// actions table, action GetObject` or `v1/s3/s3.json, Actions[3].Name`)
/// and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub place: String,
    pub violation: Violation,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.violation)
    }
}

/// Check a JSON service reference document's values (names, key types,
/// ARN formats, the actions operations name). `document` names it in
/// messages (`v1/s3/s3.json`); each error names the JSON path.
pub fn check_document(document: &str, doc: &crate::json_doc::ServiceDoc) -> Vec<Located> {
    let mut out = Vec::new();
    let mut at = |path: String, r: Check| {
        if let Err(violation) = r {
            out.push(Located {
                place: format!("{document}, {path}"),
                violation,
            });
        }
    };
    for (i, a) in doc.actions.iter().enumerate() {
        at(format!("Actions[{i}].Name"), action_name("Name", &a.name));
        for (j, k) in a.action_condition_keys.iter().enumerate() {
            at(
                format!("Actions[{i}].ActionConditionKeys[{j}]"),
                key_name("ActionConditionKeys", k),
            );
        }
        for (j, r) in a.resources.iter().enumerate() {
            at(
                format!("Actions[{i}].Resources[{j}].Name"),
                resource_type_name("Name", &r.name),
            );
            for (l, k) in r.condition_keys.iter().enumerate() {
                at(
                    format!("Actions[{i}].Resources[{j}].ConditionKeys[{l}]"),
                    key_name("ConditionKeys", k),
                );
            }
        }
    }
    for (i, r) in doc.resources.iter().enumerate() {
        at(
            format!("Resources[{i}].Name"),
            resource_type_name("Name", &r.name),
        );
        for (j, f) in r.arn_formats.iter().enumerate() {
            at(
                format!("Resources[{i}].ARNFormats[{j}]"),
                arn_format("ARNFormats", f),
            );
        }
        for (j, k) in r.condition_keys.iter().enumerate() {
            at(
                format!("Resources[{i}].ConditionKeys[{j}]"),
                key_name("ConditionKeys", k),
            );
        }
    }
    for (i, k) in doc.condition_keys.iter().enumerate() {
        at(
            format!("ConditionKeys[{i}].Name"),
            key_name("Name", &k.name),
        );
        for (j, t) in k.types.iter().enumerate() {
            at(format!("ConditionKeys[{i}].Types[{j}]"), key_type(t));
        }
    }
    for (i, o) in doc.operations.iter().enumerate() {
        at(
            format!("Operations[{i}].Name"),
            operation_name("Name", &o.name),
        );
        for (j, a) in o.authorized_actions.iter().enumerate() {
            at(
                format!("Operations[{i}].AuthorizedActions[{j}]"),
                qualified_action("AuthorizedActions", &format!("{}:{}", a.service, a.name)),
            );
        }
    }
    out
}

/// Check every stored value of merged services against its domain: the
/// last check before publishing, whatever the source. Each error names the
/// service, the page (or JSON document) that states the value, the table,
/// the row (the item's name) and the column.
pub fn check_services(services: &[Service]) -> Vec<Located> {
    let mut out = Vec::new();
    for s in services {
        check_service(s, &mut out);
    }
    out
}

fn check_service(s: &Service, out: &mut Vec<Located>) {
    let doc = || format!("v1/{0}/{0}.json", s.prefix);
    let origin = |pages: &[String], sources: Sources| -> String {
        match pages.first() {
            Some(p) if sources.has_html() => p.clone(),
            _ => doc(),
        }
    };
    let mut at = |place: String, r: Check| {
        if let Err(violation) = r {
            out.push(Located { place, violation });
        }
    };
    at(format!("service {}", s.prefix), prefix(&s.prefix));
    for p in &s.pages {
        at(format!("service {}", s.prefix), page_file(&p.file));
    }
    for a in &s.actions {
        let place = format!(
            "{}, actions table, action {}",
            origin(&a.pages, a.sources),
            a.name
        );
        at(place.clone(), action_name("Actions", &a.name));
        if let Some(l) = &a.access_level {
            at(place.clone(), access_level(l));
        }
        if let Some(d) = &a.description {
            at(place.clone(), description("Description", d));
        }
        for v in &a.variants {
            if let Some(d) = &v.description {
                at(
                    format!("{}, actions table, action {}", v.source, a.name),
                    description("Description", d),
                );
            }
        }
        let all_rows = a
            .resource_types
            .iter()
            .chain(a.scenarios.iter().flat_map(|x| x.resource_types.iter()));
        for d in &a.dependent_actions {
            at(place.clone(), qualified_action("Dependent actions", d));
        }
        for k in &a.condition_keys {
            at(place.clone(), key_name("Condition keys", &k.name));
        }
        for r in all_rows {
            at(place.clone(), resource_type_name("Resource types", &r.name));
            for d in &r.dependent_actions {
                at(place.clone(), qualified_action("Dependent actions", d));
            }
            for k in &r.condition_keys {
                at(place.clone(), key_name("Condition keys", &k.name));
            }
        }
    }
    for r in &s.resource_types {
        let place = format!(
            "{}, resource types table, resource type {}",
            origin(&r.pages, r.sources),
            r.name
        );
        at(place.clone(), resource_type_name("Resource types", &r.name));
        for f in &r.arns {
            at(place.clone(), arn_format("ARN", &f.arn));
        }
        for k in &r.condition_keys {
            at(place.clone(), key_name("Condition keys", &k.name));
        }
    }
    for k in &s.condition_keys {
        let place = format!(
            "{}, condition keys table, key {}",
            origin(&k.pages, k.sources),
            k.name
        );
        at(place.clone(), key_name("Condition keys", &k.name));
        if let Some(t) = &k.r#type {
            at(place.clone(), key_type(t));
        }
        if let Some(d) = &k.description {
            at(place.clone(), description("Description", d));
        }
        for v in &k.variants {
            let vplace = format!("{}, condition keys table, key {}", v.source, k.name);
            if let Some(t) = &v.r#type {
                at(vplace.clone(), key_type(t));
            }
            if let Some(d) = &v.description {
                at(vplace, description("Description", d));
            }
        }
    }
    for o in &s.operations {
        let place = format!("{}, operations table, operation {}", s.prefix, o.name);
        at(place.clone(), operation_name("Operation", &o.name));
        for a in &o.actions {
            at(
                place.clone(),
                qualified_action("Actions", &format!("{}:{}", a.service, a.action)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_dates() {
        assert_eq!(capture_date("2026-06-14").unwrap(), "2026-06-14");
        assert!(capture_date("2024-02-29").is_ok());
        assert!(capture_date("2026-02-29")
            .unwrap_err()
            .contains("no day 29"));
        assert!(capture_date("2026-13-45")
            .unwrap_err()
            .contains("no month 13"));
        assert!(capture_date("2026-04-31").is_err());
        assert!(capture_date("2026-00-10").is_err());
        assert!(capture_date("26-06-14").is_err());
        assert!(capture_date("2026/06/14").is_err());
        assert!(capture_date("２０２６-06-14").is_err());
    }

    #[test]
    fn closed_sets() {
        for l in ACCESS_LEVELS {
            access_level(l).unwrap();
        }
        for bad in [
            "Writ",
            "write",
            "Read <=td>",
            "Grants permission to get an object",
            "",
        ] {
            let e = access_level(bad).unwrap_err();
            assert_eq!(e.column, "Access level");
            assert!(e.to_string().contains("expected one of List"), "{e}");
        }
        key_type("ArrayOfString").unwrap();
        key_type("ArrayOfString, String").unwrap();
        for bad in [
            "ArrayOfStrin",
            "Lisst",
            "Filters access by the tag",
            "String,",
            "",
        ] {
            key_type(bad).unwrap_err();
        }
    }

    #[test]
    fn identifiers() {
        action_name("Actions", "GetObject").unwrap();
        action_name("Actions", "GET").unwrap();
        action_name("Actions", "Get Object").unwrap_err();
        action_name("Actions", "Get*").unwrap_err();
        qualified_action("Dependent actions", "iam:PassRole").unwrap();
        qualified_action("Dependent actions", "cp>dynamodb:Query").unwrap_err();
        qualified_action("Dependent actions", "PassRole").unwrap_err();
        resource_type_name("Resource types", "bot alias").unwrap();
        resource_type_name("Resource types", "object").unwrap();
        resource_type_name("Resource types", " object").unwrap_err();
        resource_type_name("Resource types", "obj<ect").unwrap_err();
        key_name("Condition keys", "aws:RequestTag/${TagKey}").unwrap();
        key_name("Condition keys", "s3:ExistingObjectTag/<key>").unwrap();
        key_name("Condition keys", "Filters access").unwrap_err();
        key_name("Condition keys", "s3 prefix").unwrap_err();
        let e = action_name("Actions", &"A".repeat(MAX_NAME + 1)).unwrap_err();
        assert!(e.to_string().contains("at most 256 bytes"), "{e}");
    }

    #[test]
    fn arns_and_sizes() {
        arn_format("ARN", "arn:${Partition}:s3:::${BucketName}").unwrap();
        let e = arn_format("ARN", "^arn:${Partition}:s3:::${BucketName}").unwrap_err();
        assert!(e.to_string().contains("starting with arn:"), "{e}");
        arn_format("ARN", "arn:aws:s3::: x").unwrap_err();
        description("Description", &"x".repeat(MAX_DESCRIPTION)).unwrap();
        let big = "x".repeat(16 << 20);
        let e = description("Description", &big).unwrap_err();
        // The message quotes only the start of the value.
        assert!(e.to_string().len() < 400, "{}", e.to_string().len());
    }

    #[test]
    fn services_are_checked_with_their_place() {
        // Constructed service: one action whose access level is a sentence.
        let mut s = Service::new("demo", "Demo", Sources::HTML);
        let mut a = Action::new("GetThing");
        a.access_level = Some("Grants permission to get a thing".into());
        a.pages = vec!["list_demo.html".into()];
        s.actions.push(a);
        let mut k = ConditionKey {
            name: "demo:Flavour".into(),
            description: None,
            r#type: Some("Stringg".into()),
            doc_url: None,
            pages: vec!["list_demo.html".into()],
            sources: Sources::HTML,
            variants: Vec::new(),
        };
        s.condition_keys.push(k.clone());
        let e = check_services(std::slice::from_ref(&s));
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(
            e[0].to_string()
                .starts_with("list_demo.html, actions table, action GetThing: column Access level"),
            "{}",
            e[0]
        );
        assert!(
            e[1].to_string().contains("key demo:Flavour: column Type"),
            "{}",
            e[1]
        );
        k.r#type = Some("String".into());
        s.condition_keys[0] = k;
        s.actions[0].access_level = Some("Read".into());
        assert!(check_services(&[s]).is_empty());
    }
}
