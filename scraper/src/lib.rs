//! iamref's scraper: parsing Service Authorization Reference pages (pure
//! functions, no I/O), the pipeline that turns pages into services, and the
//! live crawler that fetches them.

pub mod crawl;
pub mod parse;
pub mod pipeline;
pub mod service_reference;

pub use iamref_dataset::merge::merge_operation;
pub use parse::{parse_page, parse_toc, ParseError};
