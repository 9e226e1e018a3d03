//! Names as IAM compares them: `*`/`?` wildcards ignoring ASCII case,
//! condition-key templates (`aws:ResourceTag/${TagKey}`) and "did you
//! mean" suggestions: the dataset's [`iamref_dataset::names`], re-exported.

pub use iamref_dataset::names::{
    distance, distance_within, has_wildcard, key_matches_template, suggest, suggestions,
    wildcard_match,
};
