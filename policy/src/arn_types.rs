//! `iamref arn`'s answer: the resource types an ARN or ARN pattern names,
//! best first, by the catalog's one rule ([`Catalog::resolve`]), each with
//! the reference's ARN format and the actions that take it.

use crate::arn::{Matcher, Pattern};
use crate::catalog::Catalog;
use serde::Serialize;

/// One resource type an ARN names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArnMatch {
    pub prefix: String,
    pub resource_type: String,
    /// As the reference writes it.
    pub arn_format: String,
    /// `prefix:Name` of the actions taking the type, sorted.
    pub actions: Vec<String>,
}

/// The ARN namespace whose services `pattern` is resolved in: its service
/// part, lower case, when literal; `None` (every service) when it holds a
/// wildcard or a variable.
pub fn namespace(pattern: &Pattern) -> Option<String> {
    pattern
        .service()
        .filter(|s| !s.contains(['*', '?', '$']))
        .map(str::to_ascii_lowercase)
}

/// The resource types `pattern` names in `cat`, best first.
pub fn arn_matches(cat: &Catalog, pattern: &Pattern) -> Vec<ArnMatch> {
    let mut m = Matcher::new();
    let mut matches = Vec::new();
    for r in cat.resolve(&mut m, pattern) {
        let svc = cat.service_at(r.service);
        let rt = &svc.resource_types[r.resource_type as usize];
        let mut actions: Vec<String> = svc
            .actions
            .iter()
            .filter(|act| {
                act.resource_types
                    .iter()
                    .any(|x| x.name.eq_ignore_ascii_case(&rt.name))
            })
            .map(|act| format!("{}:{}", svc.prefix, act.name))
            .collect();
        actions.sort();
        actions.dedup();
        matches.push(ArnMatch {
            prefix: svc.prefix.clone(),
            resource_type: rt.name.clone(),
            // As the reference writes it (a log group's `…:*` spelling is
            // the catalog's, not a format of the reference).
            arn_format: rt
                .arns
                .get(r.format as usize)
                .or(rt.arns.first())
                .map(|f| f.arn.clone())
                .unwrap_or_default(),
            actions,
        });
    }
    matches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_service_part_is_the_namespace() {
        let ns = |s: &str| namespace(&Pattern::parse(s).unwrap());
        assert_eq!(ns("arn:aws:S3:::b/key.txt").as_deref(), Some("s3"));
        assert_eq!(ns("arn:aws:s3*:::b"), None);
        assert_eq!(ns("arn:aws:s?:::b"), None);
        assert_eq!(ns("arn:aws:${Service}:::b"), None);
    }

    #[test]
    fn an_object_arn_names_the_object_type_and_its_actions() {
        // The constructed catalog of `catalog::tests`.
        let c = crate::catalog::tests::small();
        let p = Pattern::parse("arn:aws:s3:::b/key.txt").unwrap();
        assert_eq!(
            arn_matches(&c, &p),
            [ArnMatch {
                prefix: "s3".into(),
                resource_type: "object".into(),
                arn_format: "arn:${Partition}:s3:::${BucketName}/${ObjectName}".into(),
                actions: vec!["s3:GetObject".into(), "s3:PutObject".into()],
            }]
        );
        let p = Pattern::parse("arn:aws:dynamodb:us-east-1:123456789012:table/t").unwrap();
        let m = arn_matches(&c, &p);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].resource_type, "table");
        assert_eq!(m[0].actions, ["dynamodb:GetItem", "dynamodb:Query"]);
        let p = Pattern::parse("arn:aws:sqs:us-east-1:123456789012:q").unwrap();
        assert!(arn_matches(&c, &p).is_empty());
    }
}
