//! The generic policy pattern of an ARN format (`iamref_policy::arn`),
//! for the lookups' output. Name matching is `iamref_policy::names`'.

/// An ARN pattern a policy can use for a format: `${Partition}` becomes
/// `aws`, every other variable `*`.
pub fn policy_pattern(format: &str) -> String {
    iamref_policy::arn::Format::parse(format).generic("aws")
}
