//! The needs table `policy write` reads on standard input: one action per
//! line, optionally followed by ARNs (`#` comments); or the rows of the
//! `calls` command (action first) or the `api` command (operation, then
//! action), tab-separated, with or without their header row. ARNs
//! anywhere on a line scope that action; a context column
//! (`iam:PassedToService=lambda.amazonaws.com`) becomes the action's
//! context. Pure: text in, [`Need`]s out.

use super::{ContextValues, Need};

/// Why a line of the table is not a need (the binary words it, with the
/// commands whose output it expected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeedsErrorKind {
    /// A header row (first field `action` or `operation`) with no
    /// `action` column.
    HeaderWithoutAction,
    /// The action field is not `SERVICE:ACTION`.
    NotAnAction(String),
    /// A context part without `=`.
    ContextNotKeyValue(String),
    /// A context part whose key is not a condition key, or without values.
    ContextNotConditionKey(String),
}

/// A line of the table that is not a need: its number (1-based) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {}", match kind {
    NeedsErrorKind::HeaderWithoutAction => "a header row without an `action` column".to_string(),
    NeedsErrorKind::NotAnAction(a) => format!("{a:?} is not SERVICE:ACTION"),
    NeedsErrorKind::ContextNotKeyValue(p) => format!("context {p:?} is not KEY=VALUE"),
    NeedsErrorKind::ContextNotConditionKey(p) => format!("context {p:?} is not CONDITION_KEY=VALUE[|VALUE...]"),
})]
pub struct NeedsError {
    pub line: usize,
    pub kind: NeedsErrorKind,
}

/// The needs of the table, in order.
pub fn parse_needs(text: &str) -> Result<Vec<Need>, NeedsError> {
    /// Column numbers from a header row.
    struct Cols {
        action: usize,
        context: Option<usize>,
    }
    let mut cols: Option<Cols> = None;
    let mut seen_data = false;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let err = |kind: NeedsErrorKind| NeedsError { line: i + 1, kind };
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let tabbed = line.contains('\t');
        let fields: Vec<&str> = if tabbed {
            line.split('\t').map(str::trim).collect()
        } else {
            trimmed.split_whitespace().collect()
        };
        let first = fields[0];
        if !seen_data
            && cols.is_none()
            && (first.eq_ignore_ascii_case("action") || first.eq_ignore_ascii_case("operation"))
        {
            let find = |n: &str| fields.iter().position(|f| f.eq_ignore_ascii_case(n));
            let Some(action) = find("action") else {
                return Err(err(NeedsErrorKind::HeaderWithoutAction));
            };
            cols = Some(Cols {
                action,
                context: find("context"),
            });
            continue;
        }
        seen_data = true;
        let looks_like_action =
            |f: &str| f.contains(':') && !f.starts_with("arn:") && !f.contains([' ', '=', ',']);
        // Without a header: `api` rows have the operation, then the
        // action; `calls` rows and plain lists the action. Their context
        // is the last column, when it holds KEY=VALUE.
        let last_context = || {
            let last = fields.len() - 1;
            (tabbed && last > 0 && fields[last].contains('=')).then_some(last)
        };
        let (action_col, context_col) = match &cols {
            Some(c) => (c.action, c.context),
            None if tabbed && fields.len() >= 3 && looks_like_action(fields[1]) => {
                (1, last_context())
            }
            None => (0, last_context()),
        };
        let action = fields.get(action_col).copied().unwrap_or_default();
        if !looks_like_action(action) {
            return Err(err(NeedsErrorKind::NotAnAction(action.to_string())));
        }
        let resources: Vec<String> = fields
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != action_col)
            .flat_map(|(_, f)| f.split([',', ' ']))
            .map(str::trim)
            .filter(|t| t.starts_with("arn:"))
            .map(str::to_string)
            .collect();
        let mut context = ContextValues::new();
        if let Some(text) = context_col.and_then(|c| fields.get(c)) {
            for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let Some((k, vals)) = part.split_once('=') else {
                    return Err(err(NeedsErrorKind::ContextNotKeyValue(part.to_string())));
                };
                if !k.contains(':') || vals.is_empty() {
                    return Err(err(NeedsErrorKind::ContextNotConditionKey(
                        part.to_string(),
                    )));
                }
                context
                    .entry(k.to_string())
                    .or_default()
                    .extend(vals.split('|').map(str::to_string));
            }
        }
        out.push(Need {
            action: action.to_string(),
            resources,
            context,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Constructed tables (not output captured from a real run).
    #[test]
    fn plain_lists_with_arns_and_comments() {
        let got = parse_needs(
            "# a comment\n\ns3:GetObject arn:aws:s3:::b/k,arn:aws:s3:::b/j\n  sqs:SendMessage  \n",
        )
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].action, "s3:GetObject");
        assert_eq!(got[0].resources, ["arn:aws:s3:::b/k", "arn:aws:s3:::b/j"]);
        assert!(got[0].context.is_empty());
        assert_eq!(got[1], Need::new("sqs:SendMessage"));
    }

    #[test]
    fn api_rows_with_and_without_a_header() {
        let with = "operation\taction\tresource\tcontext\nlambda:CreateFunction\tiam:PassRole\tarn:aws:iam::1:role/r\tiam:PassedToService=lambda.amazonaws.com|x.amazonaws.com\n";
        let without = "lambda:CreateFunction\tiam:PassRole\tarn:aws:iam::1:role/r\tiam:PassedToService=lambda.amazonaws.com|x.amazonaws.com\n";
        for text in [with, without] {
            let got = parse_needs(text).unwrap();
            assert_eq!(got.len(), 1, "{text}");
            assert_eq!(got[0].action, "iam:PassRole");
            assert_eq!(got[0].resources, ["arn:aws:iam::1:role/r"]);
            let vals: Vec<&str> = got[0].context["iam:PassedToService"]
                .iter()
                .map(String::as_str)
                .collect();
            assert_eq!(vals, ["lambda.amazonaws.com", "x.amazonaws.com"]);
        }
        // `calls` rows: the action first.
        let got = parse_needs("action\tneeded\ns3:PutObject\talways\n").unwrap();
        assert_eq!(got, [Need::new("s3:PutObject")]);
    }

    #[test]
    fn errors_name_the_line_and_what() {
        let e = parse_needs("operation\tservice\n").unwrap_err();
        assert_eq!(
            e,
            NeedsError {
                line: 1,
                kind: NeedsErrorKind::HeaderWithoutAction
            }
        );
        let e = parse_needs("s3:GetObject\n\nGetObject\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert_eq!(e.kind, NeedsErrorKind::NotAnAction("GetObject".into()));
        assert_eq!(e.to_string(), "line 3: \"GetObject\" is not SERVICE:ACTION");
        let e = parse_needs("action\tcontext\niam:PassRole\tnope\n").unwrap_err();
        assert_eq!(e.kind, NeedsErrorKind::ContextNotKeyValue("nope".into()));
        let e = parse_needs("action\tcontext\niam:PassRole\tkey=v\n").unwrap_err();
        assert_eq!(
            e.kind,
            NeedsErrorKind::ContextNotConditionKey("key=v".into())
        );
        // A header row after data is data.
        let e = parse_needs("s3:GetObject\naction\n").unwrap_err();
        assert_eq!(e.kind, NeedsErrorKind::NotAnAction("action".into()));
    }
}
