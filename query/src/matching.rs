//! Name matching as IAM does it, re-exported from the policy engine
//! (`iamref_policy::names`), and the generic policy pattern of an ARN
//! format (`iamref_policy::arn`).

pub use iamref_policy::names::{
    distance, has_wildcard, key_matches_template, suggest, wildcard_match,
};

/// An ARN pattern a policy can use for a format: `${Partition}` becomes
/// `aws`, every other variable `*`.
pub fn policy_pattern(format: &str) -> String {
    iamref_policy::arn::Format::parse(format).generic("aws")
}
