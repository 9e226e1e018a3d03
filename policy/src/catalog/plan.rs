//! The catalog plan: which services a run reads, decided from the
//! dataset's ARN namespaces ([`Namespaces`]) alone. Pure; the binary
//! loads what a plan names in one read transaction.
//!
//! `None` means every service (a pattern spans services, or the
//! namespace is not literal).

use super::{operation_contexts, OperationContext};
use crate::write::Request;
use iamref_dataset::lookup::Namespaces;
use iamref_dataset::model::{Operation, Service};
use std::collections::BTreeSet;

/// The services an ARN is resolved in (`iamref arn`,
/// [`super::Catalog::resolve`]): those with formats in its namespace (the
/// ARN's service part, lowercase) and those with `${Vendor}` formats;
/// `None` (every service) when the namespace is not literal.
pub fn for_namespace(ns: &Namespaces, namespace: Option<&str>) -> Option<Vec<String>> {
    let n = namespace?;
    let mut want: BTreeSet<String> = ns
        .by_namespace
        .get(n)
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    for (k, v) in &ns.by_namespace {
        if k.contains("${") {
            want.extend(v.iter().cloned());
        }
    }
    Some(want.into_iter().collect())
}

/// The prefixes a `policy write` request names (lowercase), or `None`
/// when a pattern spans services (read them all). An ARN of access-level
/// mode names the services whose formats have its service part.
pub fn request_prefixes(req: &Request, ns: &Namespaces) -> Option<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let actions = req
        .needs
        .iter()
        .map(|n| n.action.as_str())
        .chain(req.wildcard_only.iter().map(String::as_str))
        .chain(req.skip_resource_constraints.iter().map(String::as_str))
        .chain(req.exclude.iter().map(String::as_str));
    for a in actions {
        let p = a.split_once(':').map(|(p, _)| p).unwrap_or(a);
        if p.contains(['*', '?']) {
            return None;
        }
        out.insert(p.to_ascii_lowercase());
    }
    for (_, p) in &req.service_wildcard {
        out.insert(p.to_ascii_lowercase());
    }
    for (_, arn) in &req.access {
        let svc = arn
            .split(':')
            .nth(2)
            .unwrap_or_default()
            .to_ascii_lowercase();
        if svc.contains(['*', '?', '$']) {
            return None;
        }
        out.extend(ns.by_namespace.get(&svc).into_iter().flatten().cloned());
        out.insert(svc);
    }
    Some(out)
}

/// `want` and every prefix sharing an ARN namespace with one of them
/// (the most specific format wins across services: `arn:aws:s3:::b/k` is
/// an S3 object, not an ssm:bucket), sorted.
pub fn with_sharing(mut want: BTreeSet<String>, ns: &Namespaces) -> Vec<String> {
    let sharing: BTreeSet<String> = want
        .iter()
        .filter_map(|p| ns.by_prefix.get(p))
        .flatten()
        .filter_map(|n| ns.by_namespace.get(n))
        .flatten()
        .cloned()
        .collect();
    want.extend(sharing);
    want.into_iter().collect()
}

/// The operation contexts of loaded services (read with their
/// operations), taken by prefix and operation name in the order SQL's
/// `NOCASE` gives them, for [`super::Catalog::with_operation_contexts`].
pub fn operation_contexts_of(services: &[Service]) -> Vec<OperationContext> {
    let mut ops: Vec<(&str, &Operation)> = services
        .iter()
        .flat_map(|s| s.operations.iter().map(move |o| (s.prefix.as_str(), o)))
        .collect();
    ops.sort_by_cached_key(|(p, o)| (p.to_ascii_lowercase(), o.name.to_ascii_lowercase()));
    operation_contexts(ops.into_iter())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::{AccessLevel, Need};
    use std::collections::BTreeMap;

    /// Constructed namespaces (not the dataset's): s3 and a second
    /// service (`ssm`) with formats in `s3`, dynamodb alone, and one
    /// `${Vendor}` service.
    fn ns() -> Namespaces {
        let pairs = [
            ("s3", "s3"),
            ("ssm", "s3"),
            ("ssm", "ssm"),
            ("dynamodb", "dynamodb"),
            ("vendorsvc", "${vendor}"),
        ];
        let mut by_namespace: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut by_prefix: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (p, n) in pairs {
            by_namespace.entry(n.into()).or_default().insert(p.into());
            by_prefix.entry(p.into()).or_default().insert(n.into());
        }
        Namespaces {
            by_namespace,
            by_prefix,
        }
    }

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_namespace_reads_its_services_and_the_vendor_ones() {
        assert_eq!(
            for_namespace(&ns(), Some("s3")).unwrap(),
            ["s3", "ssm", "vendorsvc"]
        );
        assert_eq!(for_namespace(&ns(), Some("nope")).unwrap(), ["vendorsvc"]);
        assert_eq!(for_namespace(&ns(), None), None);
    }

    #[test]
    fn a_request_names_its_prefixes_or_needs_all() {
        let mut req = Request {
            needs: vec![Need::new("S3:GetObject"), Need::new("dynamodb:Get*")],
            exclude: vec!["kms:Decrypt".into()],
            service_wildcard: vec![(AccessLevel::Read, "SQS".into())],
            ..Request::default()
        };
        assert_eq!(
            request_prefixes(&req, &ns()).unwrap(),
            set(&["dynamodb", "kms", "s3", "sqs"])
        );
        // An ARN of access-level mode: its namespace's services.
        req.access = vec![(AccessLevel::Read, "arn:aws:s3:::b".into())];
        assert_eq!(
            request_prefixes(&req, &ns()).unwrap(),
            set(&["dynamodb", "kms", "s3", "sqs", "ssm"])
        );
        // A pattern spanning services, or a namespace that is not literal.
        req.access = vec![(AccessLevel::Read, "arn:aws:s*:::b".into())];
        assert_eq!(request_prefixes(&req, &ns()), None);
        req.access.clear();
        req.wildcard_only = vec!["*:List*".into()];
        assert_eq!(request_prefixes(&req, &ns()), None);
    }

    #[test]
    fn services_sharing_a_namespace_are_read_too() {
        assert_eq!(
            with_sharing(set(&["s3", "dynamodb"]), &ns()),
            ["dynamodb", "s3", "ssm"]
        );
        assert_eq!(with_sharing(set(&["ssm"]), &ns()), ["s3", "ssm"]);
        assert_eq!(with_sharing(set(&["unknown"]), &ns()), ["unknown"]);
        assert!(with_sharing(BTreeSet::new(), &ns()).is_empty());
    }

    #[test]
    fn operation_contexts_come_in_nocase_order() {
        use iamref_dataset::model::{OperationAction, Sources};
        // Constructed operations (not the dataset's): two services that
        // pass a role, given out of order.
        let op = |name: &str, svc: &str| Operation {
            name: name.into(),
            actions: vec![OperationAction {
                service: "iam".into(),
                action: "PassRole".into(),
                condition_keys: Vec::new(),
                context: [("iam:PassedToService".to_string(), vec![svc.to_string()])]
                    .into_iter()
                    .collect(),
                access_level: None,
                sources: Sources::JSON,
            }],
            sdk: Vec::new(),
            sources: Sources::JSON,
        };
        let mut lambda = Service::new("lambda", "AWS Lambda", Sources::JSON);
        lambda.operations = vec![
            op("updateFunction", "lambda.amazonaws.com"),
            op("CreateFunction", "lambda.amazonaws.com"),
        ];
        let mut ec2 = Service::new("ec2", "Amazon EC2", Sources::JSON);
        ec2.operations = vec![op("RunInstances", "ec2.amazonaws.com")];
        let got: Vec<String> = operation_contexts_of(&[lambda, ec2])
            .into_iter()
            .map(|c| c.operation)
            .collect();
        assert_eq!(
            got,
            [
                "ec2:RunInstances",
                "lambda:CreateFunction",
                "lambda:updateFunction"
            ]
        );
    }
}
