//! `iamref-policy`: the policy engine.
//!
//! Pure over a [`catalog::Catalog`] loaded once from the dataset: no SQL,
//! no I/O, so every piece is testable without a database.
//!
//! - [`arn`]: the ARN pattern algebra (policy `Resource` patterns against
//!   ARN formats of the reference), shared by `policy check`,
//!   `policy write`, `iamref arn` and the recorder.
//! - [`catalog`]: the services a run needs, indexed for lookups, and the
//!   one answer to "which resource type is this ARN"
//!   ([`catalog::Catalog::resolve`]), shared by every command.
//! - [`resources`]: which required resource types of an action go
//!   together (groups from botocore's API models and reviewed overrides).
//! - [`lint`], [`lint_config`]: `policy check`'s run over parsed
//!   documents (catalog prefixes, kinds, muting, the severity floor) and
//!   its configuration file.
//! - [`write`]: the least-privilege writer (`policy write`, templates,
//!   `policy tighten`), pure over the catalog.

pub mod arn;
pub mod arn_types;
pub mod catalog;
pub mod check;
pub mod conditions;
pub mod document;
pub mod finding;
pub mod grants;
pub mod json;
pub mod kinds;
pub mod lint;
pub mod lint_config;
pub mod names;
pub mod quota;
pub mod record;
pub mod resources;
pub mod simulate;
pub mod write;
