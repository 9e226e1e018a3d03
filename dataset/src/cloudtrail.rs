//! CloudTrail event sources and service prefixes.
//!
//! A CloudTrail record names the service by its endpoint host
//! (`eventSource`, e.g. `s3.amazonaws.com`); IAM names it by its prefix.
//! Mostly the host's first label is the prefix; the exceptions are listed
//! here, so that `iamref calls` and the exported SQL join
//! (`event_source_prefixes`) map event sources the same way.

/// Event-source host labels (the host without `.amazonaws.com`) that are
/// not the service prefix, and the prefix they stand for.
pub const EVENT_SOURCE_PREFIXES: &[(&str, &str)] = &[
    ("monitoring", "cloudwatch"),
    ("email", "ses"),
    ("tagging", "tag"),
    ("metering-marketplace", "aws-marketplace"),
    ("elasticloadbalancingv2", "elasticloadbalancing"),
    ("streams.dynamodb", "dynamodb"),
    ("runtime.sagemaker", "sagemaker"),
    ("runtime.lex", "lex"),
    ("models.lex", "lex"),
    ("data.iot", "iot"),
    ("api.ecr", "ecr"),
    ("api.sagemaker", "sagemaker"),
];

/// The host of an event source without `.amazonaws.com` (or `.com.cn`),
/// trimmed and lowercased.
pub fn event_source_host(source: &str) -> String {
    let host = source.trim().to_ascii_lowercase();
    host.strip_suffix(".amazonaws.com.cn")
        .or_else(|| host.strip_suffix(".amazonaws.com"))
        .unwrap_or(&host)
        .to_string()
}

/// The prefix candidates for a CloudTrail event source, in the order they
/// are tried: the host's first label, then the exception for the whole
/// host, then the exception for the first label.
pub fn prefix_candidates(source: &str) -> Vec<String> {
    let host = event_source_host(source);
    let first = host.split('.').next().unwrap_or("").to_string();
    let mut v = vec![first.clone()];
    for label in [host.as_str(), first.as_str()] {
        for (from, to) in EVENT_SOURCE_PREFIXES {
            if label == *from && !v[1..].iter().any(|x| x == to) {
                v.push(to.to_string());
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates() {
        assert_eq!(prefix_candidates("s3.amazonaws.com"), ["s3"]);
        assert_eq!(
            prefix_candidates(" Monitoring.amazonaws.com "),
            ["monitoring", "cloudwatch"]
        );
        assert_eq!(
            prefix_candidates("runtime.sagemaker.amazonaws.com"),
            ["runtime", "sagemaker"]
        );
        assert_eq!(
            prefix_candidates("email.amazonaws.com.cn"),
            ["email", "ses"]
        );
        assert_eq!(prefix_candidates("api.ecr.amazonaws.com"), ["api", "ecr"]);
    }

    #[test]
    fn exception_labels_are_unique_and_lowercase() {
        for (i, (from, to)) in EVENT_SOURCE_PREFIXES.iter().enumerate() {
            assert_eq!(*from, from.to_ascii_lowercase());
            assert_eq!(*to, to.to_ascii_lowercase());
            assert!(!EVENT_SOURCE_PREFIXES[..i].iter().any(|(f, _)| f == from));
        }
    }
}
