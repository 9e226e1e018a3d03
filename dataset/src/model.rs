//! The domain model: what one parsed page says ([`Page`]), and the merged,
//! normalized view of one service prefix ([`Service`]) that the database and
//! the `data/` snapshot hold.
//!
//! Names are stored exactly as AWS writes them; lookups compare them
//! case-insensitively (IAM does).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which source(s) state a fact. Serialized as `"html"`, `"json"` or `"both"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Sources(u8);

impl Sources {
    pub const NONE: Sources = Sources(0);
    pub const HTML: Sources = Sources(1);
    pub const JSON: Sources = Sources(2);
    pub const BOTH: Sources = Sources(3);

    pub fn bits(self) -> u8 {
        self.0
    }
    pub fn from_bits(bits: u8) -> Sources {
        Sources(bits & 3)
    }
    pub fn has_html(self) -> bool {
        self.0 & 1 != 0
    }
    pub fn has_json(self) -> bool {
        self.0 & 2 != 0
    }
    pub fn union(self, other: Sources) -> Sources {
        Sources(self.0 | other.0)
    }
    pub fn as_str(self) -> &'static str {
        match self.0 {
            1 => "html",
            2 => "json",
            3 => "both",
            _ => "none",
        }
    }
}

impl Serialize for Sources {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Sources {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "html" => Ok(Sources::HTML),
            "json" => Ok(Sources::JSON),
            "both" => Ok(Sources::BOTH),
            other => Err(serde::de::Error::custom(format!(
                "unknown source {other:?} (expected html, json or both)"
            ))),
        }
    }
}

fn is_html(s: &Sources) -> bool {
    *s == Sources::HTML
}
fn html() -> Sources {
    Sources::HTML
}
fn is_false(b: &bool) -> bool {
    !*b
}

/// The HTML layout a page was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// Pages up to early July 2026: one actions table with six columns
    /// including `Dependent actions`, `[permission only]` markers.
    Classic,
    /// Pages from July 2026: API operations table, actions and
    /// permission-only actions tables, access level last.
    Live2026,
}

impl Layout {
    /// As the database stores it: `classic`, `live-2026`.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Classic => "classic",
            Layout::Live2026 => "live-2026",
        }
    }

    /// The stored name back (`classic`, else the July 2026 layout).
    pub fn from_stored(s: &str) -> Layout {
        if s == "classic" {
            Layout::Classic
        } else {
            Layout::Live2026
        }
    }
}

// ---------------------------------------------------------------------------
// What the parser produces for one HTML page.
// ---------------------------------------------------------------------------

/// Everything one Service Authorization Reference page says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// File name, e.g. `list_amazons3.html`.
    pub file: String,
    /// Service name as the page's title gives it, e.g. `Amazon S3`.
    pub service_name: String,
    /// Service prefix, e.g. `s3`.
    pub prefix: String,
    /// Canonical URL if the page states one.
    pub url: Option<String>,
    /// SHA-256 of the page bytes, lowercase hex.
    pub sha256: String,
    pub layout: Layout,
    pub actions: Vec<Action>,
    pub resource_types: Vec<ResourceType>,
    pub condition_keys: Vec<ConditionKey>,
    pub operations: Vec<Operation>,
    /// Things the parser could read around but that deserve attention.
    pub warnings: Vec<Warning>,
}

/// A problem found while reading a page, located as precisely as possible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct Warning {
    pub page: String,
    /// Table name (`actions`, `resource types`, ...) if the problem is in one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub table: Option<String>,
    /// 1-based data row within the table (header rows not counted).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub row: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.page)?;
        if let Some(t) = &self.table {
            write!(f, ", {t} table")?;
        }
        if let Some(r) = self.row {
            write!(f, ", row {r}")?;
        }
        write!(f, ": {}", self.message)
    }
}

// ---------------------------------------------------------------------------
// The normalized model (one per prefix, merged from its pages and the JSON).
// ---------------------------------------------------------------------------

/// The snapshot manifest: where the data came from and what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Manifest {
    /// Format version of the snapshot files.
    pub format: u32,
    /// Human-readable description of the source, e.g. the directory or URL.
    pub source: String,
    /// Capture date of the source (YYYY-MM-DD) if known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub captured: Option<String>,
    /// Version of iamref that produced the snapshot.
    pub tool_version: String,
    /// The publication this data belongs to: the sha256 of this manifest
    /// without this field ([`crate::publication::id`]). The database and
    /// the snapshot folder one run writes carry the same one; empty in
    /// data written before publication ids.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub publication: String,
    /// True if some pages were carried over from an older crawl.
    #[serde(skip_serializing_if = "is_false", default)]
    pub partial: bool,
    pub counts: Counts,
    /// Page file -> sha256 of its bytes.
    pub pages: BTreeMap<String, String>,
    /// JSON service reference document (prefix) -> sha256 of its bytes.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub json_documents: BTreeMap<String, String>,
    /// Free-form notes (e.g. pages kept from an earlier crawl).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Counts {
    pub pages: usize,
    pub prefixes: usize,
    pub actions: usize,
    pub resource_types: usize,
    pub condition_keys: usize,
    #[serde(default)]
    pub operations: usize,
}

/// One service prefix: the union of its pages (and the JSON document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub prefix: String,
    /// Service name (from the first page by file name, else the JSON).
    pub name: String,
    pub sources: Sources,
    /// The pages this prefix was read from, sorted by file name.
    pub pages: Vec<PageRef>,
    /// `Version` of the JSON document, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub json_version: Option<String>,
    pub actions: Vec<Action>,
    pub resource_types: Vec<ResourceType>,
    pub condition_keys: Vec<ConditionKey>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub operations: Vec<Operation>,
}

impl Service {
    /// A service with no pages and no data yet.
    pub fn new(prefix: impl Into<String>, name: impl Into<String>, sources: Sources) -> Service {
        Service {
            prefix: prefix.into(),
            name: name.into(),
            sources,
            pages: Vec::new(),
            json_version: None,
            actions: Vec::new(),
            resource_types: Vec::new(),
            condition_keys: Vec::new(),
            operations: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRef {
    pub file: String,
    pub service_name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<String>,
    /// SHA-256 of the page bytes. The snapshot keeps it in the manifest
    /// only (so that a page whose bytes change without its content
    /// changing rewrites the manifest alone); reading a snapshot fills it
    /// back in.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub sha256: String,
    pub layout: Layout,
}

/// Access annotations from the JSON reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Annotations {
    pub is_list: bool,
    pub is_write: bool,
    pub is_permission_management: bool,
    pub is_tagging_only: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// `List`, `Read`, `Write`, `Permissions management` or `Tagging`, as the
    /// page writes it. `None` for JSON-only actions without annotations.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub access_level: Option<String>,
    #[serde(skip_serializing_if = "is_false", default)]
    pub permission_only: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub doc_url: Option<String>,
    /// Resource types, in page order. Empty: the action takes `"*"` only.
    #[serde(default)]
    pub resource_types: Vec<ActionResource>,
    /// Action-level condition keys (the row without a resource type).
    #[serde(default)]
    pub condition_keys: Vec<KeyRef>,
    /// Dependent actions on the row without a resource type.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub dependent_actions: Vec<String>,
    /// `SCENARIO:` rows (ec2:RunInstances and a few more).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub scenarios: Vec<Scenario>,
    /// Page files that list this action.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub pages: Vec<String>,
    #[serde(default = "html", skip_serializing_if = "is_html")]
    pub sources: Sources,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub annotations: Option<Annotations>,
    /// JSON `SupportedBy` flags, e.g. `IAM Action Last Accessed: true`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub supported_by: BTreeMap<String, bool>,
    /// What other pages of a shared prefix say where it differs from the
    /// description above (which is the first page's, by file name).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub variants: Vec<Variant>,
    /// What each page says, for an action listed on two or more pages of a
    /// shared prefix (sorted by page file; empty otherwise). The merged
    /// values above follow the rule in [`crate::merge`].
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub per_page: Vec<PageFacts>,
}

/// The access level, description and permission-only flag one page gives
/// an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct PageFacts {
    /// The page file (`list_amazonses.html`).
    pub page: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub access_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// Listed in that page's permission-only table.
    #[serde(skip_serializing_if = "is_false", default)]
    pub permission_only: bool,
}

/// What one source says about an action or condition key where it differs
/// from the merged value: another page of a shared prefix, or AWS's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct Variant {
    /// The page file (`list_amazonses.html`), or `json` for the JSON
    /// service reference.
    pub source: String,
    /// The description that source gives, if it differs.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// The condition key type that source gives, if it differs.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub r#type: Option<String>,
}

/// The `source` of a [`Variant`] from the JSON service reference.
pub const JSON_SOURCE: &str = "json";

impl Action {
    pub fn new(name: impl Into<String>) -> Action {
        Action {
            name: name.into(),
            description: None,
            access_level: None,
            permission_only: false,
            doc_url: None,
            resource_types: Vec::new(),
            condition_keys: Vec::new(),
            dependent_actions: Vec::new(),
            scenarios: Vec::new(),
            pages: Vec::new(),
            sources: Sources::HTML,
            annotations: None,
            supported_by: BTreeMap::new(),
            variants: Vec::new(),
            per_page: Vec::new(),
        }
    }

    /// Does the action support resource-level permissions?
    pub fn resource_level(&self) -> bool {
        !self.resource_types.is_empty()
    }
}

/// One resource-type row of an action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionResource {
    /// Resource type name without the `*`.
    pub name: String,
    pub required: bool,
    #[serde(default)]
    pub condition_keys: Vec<KeyRef>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub dependent_actions: Vec<String>,
    #[serde(default = "html", skip_serializing_if = "is_html")]
    pub sources: Sources,
}

/// A condition key named somewhere, with the source(s) that name it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(from = "KeyRefRepr", into = "KeyRefRepr")]
pub struct KeyRef {
    pub name: String,
    pub sources: Sources,
}

impl KeyRef {
    pub fn html(name: impl Into<String>) -> KeyRef {
        KeyRef {
            name: name.into(),
            sources: Sources::HTML,
        }
    }
}

/// Compact form: a bare string when the key comes from the HTML only.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum KeyRefRepr {
    Plain(String),
    Full { name: String, sources: Sources },
}

impl From<KeyRefRepr> for KeyRef {
    fn from(r: KeyRefRepr) -> Self {
        match r {
            KeyRefRepr::Plain(name) => KeyRef::html(name),
            KeyRefRepr::Full { name, sources } => KeyRef { name, sources },
        }
    }
}

impl From<KeyRef> for KeyRefRepr {
    fn from(k: KeyRef) -> Self {
        if k.sources == Sources::HTML {
            KeyRefRepr::Plain(k.name)
        } else {
            KeyRefRepr::Full {
                name: k.name,
                sources: k.sources,
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub resource_types: Vec<ActionResource>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceType {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub doc_url: Option<String>,
    /// ARN formats, in page order (a cell can hold more than one).
    pub arns: Vec<ArnFormat>,
    #[serde(default)]
    pub condition_keys: Vec<KeyRef>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub pages: Vec<String>,
    #[serde(default = "html", skip_serializing_if = "is_html")]
    pub sources: Sources,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(from = "KeyRefRepr", into = "KeyRefRepr")]
pub struct ArnFormat {
    pub arn: String,
    pub sources: Sources,
}

impl From<KeyRefRepr> for ArnFormat {
    fn from(r: KeyRefRepr) -> Self {
        let k = KeyRef::from(r);
        ArnFormat {
            arn: k.name,
            sources: k.sources,
        }
    }
}

impl From<ArnFormat> for KeyRefRepr {
    fn from(a: ArnFormat) -> Self {
        KeyRef {
            name: a.arn,
            sources: a.sources,
        }
        .into()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionKey {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// `String`, `ArrayOfString`, `Bool`, ... as the source writes it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub r#type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub doc_url: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub pages: Vec<String>,
    #[serde(default = "html", skip_serializing_if = "is_html")]
    pub sources: Sources,
    /// Other types or descriptions a page or the JSON gives (a key typed
    /// `ArrayOfString` on one page and `String` on another keeps both).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub variants: Vec<Variant>,
}

impl ConditionKey {
    /// Every type stated for the key, the merged one first, without
    /// repeats (the JSON's list of two types, stored `A, B`, counts as two).
    pub fn all_types(&self) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        for t in self
            .r#type
            .iter()
            .chain(self.variants.iter().filter_map(|x| x.r#type.as_ref()))
            .flat_map(|t| t.split(", "))
        {
            if !t.is_empty() && !v.contains(&t) {
                v.push(t);
            }
        }
        v
    }
}

/// An API operation and the IAM actions it needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub name: String,
    pub actions: Vec<OperationAction>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub sdk: Vec<SdkMethod>,
    #[serde(default = "html", skip_serializing_if = "is_html")]
    pub sources: Sources,
}

/// One IAM action an operation authorizes (possibly in another service).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationAction {
    /// Prefix of the action's service (`s3-object-lambda`).
    pub service: String,
    pub action: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub condition_keys: Vec<String>,
    /// The values the operation sets for those keys (the JSON's `Context`),
    /// e.g. `iam:PassedToService` = `lambda.amazonaws.com` for iam:PassRole.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub context: BTreeMap<String, Vec<String>>,
    /// From the HTML operations table: `Write`, or several values.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub access_level: Option<String>,
    #[serde(default = "html", skip_serializing_if = "is_html")]
    pub sources: Sources,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct SdkMethod {
    /// e.g. `Boto3`.
    pub package: String,
    /// Client name, e.g. `s3`.
    pub client: String,
    /// Method, e.g. `copy_object`.
    pub method: String,
}
