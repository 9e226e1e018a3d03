//! Parsing one Service Authorization Reference page: a pure function from
//! the page's text to a typed [`Page`]. No I/O happens here.
//!
//! Tables are identified by the `h2` heading before them and by their
//! header cells; columns are mapped by header name and rowspans/colspans are
//! expanded into a grid, so the same code reads both the classic layout
//! (May/June 2026) and the July 2026 one (reordered columns, no dependent
//! actions, separate permission-only and API operations tables).

use iamref_dataset::model::*;
use scraper::{ElementRef, Html, Selector};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// A page that cannot be read. Names the page and, where it can, the table
/// and row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub Warning);

impl ParseError {
    fn new(page: &str, table: Option<&str>, row: Option<usize>, msg: impl Into<String>) -> Self {
        ParseError(Warning {
            page: page.to_string(),
            table: table.map(str::to_string),
            row,
            message: msg.into(),
        })
    }
}

macro_rules! sel {
    ($name:ident, $s:expr) => {
        static $name: LazyLock<Selector> =
            LazyLock::new(|| Selector::parse($s).expect("valid selector"));
    };
}
sel!(TITLE, "title");
sel!(H1, "h1");
sel!(CANONICAL, r#"link[rel="canonical"]"#);
sel!(P, "p");
sel!(CODE, "code");
sel!(A, "a");
sel!(B, "b, strong");
sel!(H2_OR_TABLE, "h2, table");
sel!(TR, "tr");

/// Collapse runs of whitespace into one space and trim.
pub fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

fn text_of(e: ElementRef) -> String {
    let mut buf = String::new();
    for t in e.text() {
        buf.push_str(t);
        buf.push(' ');
    }
    collapse(&buf)
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// What a table cell holds, read once.
#[derive(Debug, Default, Clone)]
struct Cell {
    text: String,
    /// Text of each `<p>` in the cell (or the whole text if it has none).
    items: Vec<String>,
    href: Option<String>,
    /// First link's text.
    link_text: Option<String>,
    /// `<code>` contents with all whitespace removed (ARN formats).
    codes: Vec<String>,
    bold: String,
}

fn read_cell(td: ElementRef) -> Cell {
    let text = text_of(td);
    let mut items: Vec<String> = td
        .select(&P)
        .map(text_of)
        .filter(|t| !t.is_empty())
        .collect();
    if items.is_empty() && !text.is_empty() {
        items.push(text.clone());
    }
    let first_a = td.select(&A).next();
    Cell {
        href: first_a
            .and_then(|a| a.value().attr("href"))
            .map(str::to_string),
        link_text: first_a.map(text_of).filter(|t| !t.is_empty()),
        codes: td
            .select(&CODE)
            .map(|c| squeeze(&c.text().collect::<String>()))
            .filter(|c| !c.is_empty())
            .collect(),
        bold: td.select(&B).map(text_of).collect::<Vec<_>>().join(" "),
        items,
        text,
    }
}

/// A table expanded into a grid. `grid[r][c]` indexes `cells`; `origin`
/// says whether the cell starts on that row (false for rows a rowspan
/// carries it into).
struct Grid {
    headers: Vec<String>,
    cells: Vec<Cell>,
    grid: Vec<Vec<Option<(usize, bool)>>>,
}

fn span(e: ElementRef, attr: &str) -> usize {
    e.value()
        .attr(attr)
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, 1000)
}

type Slot = Option<(usize, bool)>;

/// Fill `row` from `col` on with the cells that rowspans carry down.
fn take_carry(carry: &mut [(usize, usize)], row: &mut Vec<Slot>, col: &mut usize) {
    while *col < carry.len() && carry[*col].0 > 0 {
        carry[*col].0 -= 1;
        while row.len() <= *col {
            row.push(None);
        }
        row[*col] = Some((carry[*col].1, false));
        *col += 1;
    }
}

fn read_grid(table: ElementRef) -> Grid {
    let mut headers = Vec::new();
    let mut cells = Vec::new();
    let mut grid: Vec<Vec<Option<(usize, bool)>>> = Vec::new();
    // carry[c] = (rows left, cell index)
    let mut carry: Vec<(usize, usize)> = Vec::new();
    for tr in table.select(&TR) {
        // Skip rows of nested tables.
        if tr
            .ancestors()
            .filter_map(ElementRef::wrap)
            .find(|a| a.value().name() == "table")
            .map(|t| t.id())
            != Some(table.id())
        {
            continue;
        }
        let tds: Vec<ElementRef> = tr
            .children()
            .filter_map(ElementRef::wrap)
            .filter(|e| {
                let n = e.value().name();
                n == "td" || n == "th"
            })
            .collect();
        if headers.is_empty() && !tds.is_empty() && tds.iter().all(|c| c.value().name() == "th") {
            headers = tds
                .iter()
                .map(|c| text_of(*c).to_ascii_lowercase())
                .collect();
            continue;
        }
        let mut row: Vec<Option<(usize, bool)>> = Vec::new();
        let mut col = 0;
        for td in tds {
            take_carry(&mut carry, &mut row, &mut col);
            let idx = cells.len();
            cells.push(read_cell(td));
            let rs = span(td, "rowspan");
            let cs = span(td, "colspan");
            for _ in 0..cs {
                while row.len() <= col {
                    row.push(None);
                }
                row[col] = Some((idx, true));
                if carry.len() <= col {
                    carry.resize(col + 1, (0, 0));
                }
                carry[col] = (rs - 1, idx);
                col += 1;
            }
        }
        // Columns after the last cell that a rowspan still covers.
        loop {
            take_carry(&mut carry, &mut row, &mut col);
            if col >= carry.len() {
                break;
            }
            col += 1;
        }
        grid.push(row);
    }
    Grid {
        headers,
        cells,
        grid,
    }
}

impl Grid {
    fn at(&self, row: usize, col: Option<usize>) -> Option<(&Cell, bool)> {
        let c = col?;
        self.grid[row]
            .get(c)
            .copied()
            .flatten()
            .map(|(i, o)| (&self.cells[i], o))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TableKind {
    Actions,
    PermissionOnly,
    Operations,
    ResourceTypes,
    ConditionKeys,
}

impl TableKind {
    fn label(self) -> &'static str {
        match self {
            TableKind::Actions => "actions",
            TableKind::PermissionOnly => "permission-only actions",
            TableKind::Operations => "API operations",
            TableKind::ResourceTypes => "resource types",
            TableKind::ConditionKeys => "condition keys",
        }
    }
}

fn classify(heading: &str, headers: &[String]) -> Option<TableKind> {
    let h = heading.to_ascii_lowercase();
    if h.starts_with("permission-only actions") || h.starts_with("permission only actions") {
        return Some(TableKind::PermissionOnly);
    }
    if h.starts_with("actions defined by") {
        return Some(TableKind::Actions);
    }
    if h.starts_with("api operations") {
        return Some(TableKind::Operations);
    }
    if h.starts_with("resource types defined by") {
        return Some(TableKind::ResourceTypes);
    }
    if h.starts_with("condition keys for") {
        return Some(TableKind::ConditionKeys);
    }
    // Fall back on the header cells.
    let has = |n: &str| headers.iter().any(|x| x == n);
    if has("operation") && has("iam action") {
        Some(TableKind::Operations)
    } else if has("actions") && has("access level") {
        Some(TableKind::Actions)
    } else if has("resource types") && has("arn") {
        Some(TableKind::ResourceTypes)
    } else if has("condition keys") && has("type") {
        Some(TableKind::ConditionKeys)
    } else {
        None
    }
}

/// Column positions, by header name.
#[derive(Default, Debug)]
struct Cols {
    name: Option<usize>,
    description: Option<usize>,
    access: Option<usize>,
    resource: Option<usize>,
    keys: Option<usize>,
    deps: Option<usize>,
    arn: Option<usize>,
    ktype: Option<usize>,
    operation: Option<usize>,
    iam_action: Option<usize>,
    values: Option<usize>,
    sdk: Option<usize>,
}

fn map_columns(kind: TableKind, headers: &[String]) -> (Cols, Vec<String>) {
    let mut c = Cols::default();
    let mut unknown = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.as_str();
        let slot = match kind {
            TableKind::Actions | TableKind::PermissionOnly => match h {
                "actions" | "action" | "permission-only actions" | "permission only actions" => {
                    &mut c.name
                }
                "description" => &mut c.description,
                "access level" => &mut c.access,
                "condition keys" => &mut c.keys,
                "dependent actions" => &mut c.deps,
                _ if h.starts_with("resource types") => &mut c.resource,
                _ => {
                    unknown.push(h.to_string());
                    continue;
                }
            },
            TableKind::ResourceTypes => match h {
                "resource types" | "resource type" => &mut c.name,
                "arn" => &mut c.arn,
                "condition keys" => &mut c.keys,
                _ => {
                    unknown.push(h.to_string());
                    continue;
                }
            },
            TableKind::ConditionKeys => match h {
                "condition keys" | "condition key" => &mut c.name,
                "description" => &mut c.description,
                "type" => &mut c.ktype,
                _ => {
                    unknown.push(h.to_string());
                    continue;
                }
            },
            TableKind::Operations => match h {
                "operation" | "operations" | "api operation" => &mut c.operation,
                "iam action" | "iam actions" => &mut c.iam_action,
                "condition key" | "condition keys" => &mut c.keys,
                "possible value(s)" | "possible values" => &mut c.values,
                "access level" => &mut c.access,
                _ if h.contains("sdk") => &mut c.sdk,
                _ => {
                    unknown.push(h.to_string());
                    continue;
                }
            },
        };
        *slot = Some(i);
    }
    (c, unknown)
}

/// Parse one page. `file` is the page's file name (`list_amazons3.html`),
/// used for provenance and in every message.
pub fn parse_page(file: &str, html: &str) -> Result<Page, ParseError> {
    let sha256 = hex::encode(Sha256::digest(html.as_bytes()));
    let doc = Html::parse_document(html);

    let service_name = service_name(&doc).ok_or_else(|| {
        ParseError::new(
            file,
            None,
            None,
            "no service name: the page has neither an h1 title nor a <title>",
        )
    })?;
    let prefix = service_prefix(&doc).ok_or_else(|| {
        ParseError::new(
            file,
            None,
            None,
            "no service prefix: expected a sentence like \"Amazon S3 (service prefix: s3)\"",
        )
    })?;
    let url = doc
        .select(&CANONICAL)
        .next()
        .and_then(|l| l.value().attr("href"))
        .map(str::to_string);

    let mut page = Page {
        file: file.to_string(),
        service_name,
        prefix,
        url,
        sha256,
        layout: Layout::Classic,
        actions: Vec::new(),
        resource_types: Vec::new(),
        condition_keys: Vec::new(),
        operations: Vec::new(),
        warnings: Vec::new(),
    };

    let mut heading = String::new();
    let mut tables = 0;
    let mut seen_deps_column = false;
    let mut seen_live_marker = false;
    for el in doc.select(&H2_OR_TABLE) {
        if el.value().name() == "h2" {
            heading = text_of(el);
            continue;
        }
        tables += 1;
        let grid = read_grid(el);
        let Some(kind) = classify(&heading, &grid.headers) else {
            page.warnings.push(Warning {
                page: file.to_string(),
                table: Some(if heading.is_empty() {
                    format!("table {tables}")
                } else {
                    heading.clone()
                }),
                row: None,
                message: format!(
                    "unrecognized table (headers: {}); skipped",
                    grid.headers.join(" | ")
                ),
            });
            continue;
        };
        let (cols, unknown) = map_columns(kind, &grid.headers);
        for u in unknown {
            page.warnings.push(Warning {
                page: file.to_string(),
                table: Some(kind.label().into()),
                row: None,
                message: format!("unknown column {u:?} ignored"),
            });
        }
        match kind {
            TableKind::Actions | TableKind::PermissionOnly => {
                if cols.deps.is_some() {
                    seen_deps_column = true;
                }
                if kind == TableKind::PermissionOnly
                    || grid.headers.last().map(String::as_str) == Some("access level")
                {
                    seen_live_marker = true;
                }
                read_actions(&mut page, &grid, &cols, kind)?
            }
            TableKind::ResourceTypes => read_resource_types(&mut page, &grid, &cols)?,
            TableKind::ConditionKeys => read_condition_keys(&mut page, &grid, &cols)?,
            TableKind::Operations => {
                seen_live_marker = true;
                read_operations(&mut page, &grid, &cols)?
            }
        }
    }
    if seen_live_marker && !seen_deps_column {
        page.layout = Layout::Live2026;
    }
    if tables == 0 {
        page.warnings.push(Warning {
            page: file.to_string(),
            table: None,
            row: None,
            message:
                "the page has no tables (a retired service's stub?); no service data taken from it"
                    .into(),
        });
    }
    Ok(page)
}

fn service_name(doc: &Html) -> Option<String> {
    const LEAD: &str = "actions, resources, and condition keys for ";
    let from = |t: String| -> Option<String> {
        let lower = t.to_ascii_lowercase();
        let i = lower.find(LEAD)?;
        let rest = &t[i + LEAD.len()..];
        let rest = rest.split(" - ").next().unwrap_or(rest).trim();
        (!rest.is_empty()).then(|| rest.to_string())
    };
    doc.select(&H1)
        .map(text_of)
        .find_map(from)
        .or_else(|| doc.select(&TITLE).map(text_of).find_map(from))
}

fn service_prefix(doc: &Html) -> Option<String> {
    for p in doc.select(&P) {
        let t = text_of(p);
        let lower = t.to_ascii_lowercase();
        if let Some(i) = lower.find("service prefix:") {
            // Prefer the <code> element if present.
            if let Some(code) = p.select(&CODE).next() {
                let c = squeeze(&code.text().collect::<String>());
                if !c.is_empty() {
                    return Some(c);
                }
            }
            let rest = &t[i + "service prefix:".len()..];
            let word: String = rest
                .trim_start()
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != ')' && *c != ',')
                .collect();
            if !word.is_empty() {
                return Some(word);
            }
        }
    }
    None
}

fn require(
    page: &str,
    kind: TableKind,
    col: Option<usize>,
    name: &str,
) -> Result<usize, ParseError> {
    col.ok_or_else(|| {
        ParseError::new(
            page,
            Some(kind.label()),
            None,
            format!("the table has no {name:?} column"),
        )
    })
}

/// A resource type named in an action row: `object*` is required.
fn resource_ref(item: &str) -> (String, bool) {
    let t = item.trim();
    match t.strip_suffix('*') {
        Some(n) => (n.trim().to_string(), true),
        None => (t.to_string(), false),
    }
}

fn keys_of(cell: Option<(&Cell, bool)>) -> Vec<KeyRef> {
    cell.map(|(c, _)| c.items.iter().map(|k| KeyRef::html(squeeze(k))).collect())
        .unwrap_or_default()
}

fn list_of(cell: Option<(&Cell, bool)>) -> Vec<String> {
    cell.map(|(c, _)| c.items.iter().map(|k| squeeze(k)).collect())
        .unwrap_or_default()
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn read_actions(
    page: &mut Page,
    grid: &Grid,
    cols: &Cols,
    kind: TableKind,
) -> Result<(), ParseError> {
    let file = page.file.clone();
    let name_col = require(&file, kind, cols.name, "Actions")?;
    require(&file, kind, cols.resource, "Resource types")?;
    require(&file, kind, cols.access, "Access level")?;
    let mut current: Option<Action> = None;
    for r in 0..grid.grid.len() {
        let row_no = r + 1;
        let Some((name_cell, origin)) = grid.at(r, Some(name_col)) else {
            return Err(ParseError::new(
                &file,
                Some(kind.label()),
                Some(row_no),
                "row has no action name cell",
            ));
        };
        if origin {
            if let Some(a) = current.take() {
                page.actions.push(a);
            }
            let raw = name_cell
                .link_text
                .clone()
                .unwrap_or_else(|| name_cell.text.clone());
            let permission_only = kind == TableKind::PermissionOnly
                || name_cell
                    .text
                    .to_ascii_lowercase()
                    .contains("[permission only]");
            let name = squeeze(raw.replace("[permission only]", "").trim());
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
            {
                return Err(ParseError::new(
                    &file,
                    Some(kind.label()),
                    Some(row_no),
                    format!("cannot read an action name from {:?}", name_cell.text),
                ));
            }
            let mut a = Action::new(name);
            a.permission_only = permission_only;
            a.doc_url = name_cell.href.clone();
            current = Some(a);
        }
        let action = current.as_mut().expect("set above");
        let desc = grid.at(r, cols.description);
        let scenario = desc.and_then(|(c, _)| {
            let t = c.text.trim_start();
            if t.to_ascii_uppercase().starts_with("SCENARIO:")
                || c.bold.to_ascii_uppercase().starts_with("SCENARIO")
            {
                Some(collapse(t.get("SCENARIO:".len()..).unwrap_or("")))
            } else {
                None
            }
        });
        if scenario.is_none() {
            if let Some((c, true)) = desc {
                if action.description.is_none() {
                    action.description = non_empty(&c.text);
                }
            }
            if let Some((c, true)) = grid.at(r, cols.access) {
                if action.access_level.is_none() {
                    action.access_level = non_empty(&c.text);
                }
            }
        }
        let rts: Vec<(String, bool)> = grid
            .at(r, cols.resource)
            .map(|(c, _)| c.items.iter().map(|i| resource_ref(i)).collect())
            .unwrap_or_default();
        let keys = keys_of(grid.at(r, cols.keys));
        let deps = list_of(grid.at(r, cols.deps));
        if let Some(name) = scenario {
            let resource_types = rts
                .into_iter()
                .map(|(n, req)| ActionResource {
                    name: n,
                    required: req,
                    condition_keys: keys.clone(),
                    dependent_actions: deps.clone(),
                    sources: Sources::HTML,
                })
                .collect();
            action.scenarios.push(Scenario {
                name,
                resource_types,
            });
            continue;
        }
        if rts.is_empty() {
            iamref_dataset::merge::merge_keys(&mut action.condition_keys, keys);
            for d in deps {
                if !action.dependent_actions.contains(&d) {
                    action.dependent_actions.push(d);
                }
            }
            continue;
        }
        if rts.len() > 1 {
            page.warnings.push(Warning {
                page: file.clone(),
                table: Some(kind.label().into()),
                row: Some(row_no),
                message: format!(
                    "{}: one row names {} resource types; the row's condition keys and dependent actions apply to each",
                    action.name,
                    rts.len()
                ),
            });
        }
        for (n, req) in rts {
            if n.is_empty() {
                continue;
            }
            match action
                .resource_types
                .iter_mut()
                .find(|x| x.name.eq_ignore_ascii_case(&n))
            {
                Some(existing) => {
                    existing.required |= req;
                    iamref_dataset::merge::merge_keys(&mut existing.condition_keys, keys.clone());
                }
                None => action.resource_types.push(ActionResource {
                    name: n,
                    required: req,
                    condition_keys: keys.clone(),
                    dependent_actions: deps.clone(),
                    sources: Sources::HTML,
                }),
            }
        }
    }
    if let Some(a) = current.take() {
        page.actions.push(a);
    }
    for a in &page.actions {
        if a.access_level.is_none() {
            page.warnings.push(Warning {
                page: file.clone(),
                table: Some(kind.label().into()),
                row: None,
                message: format!("action {} has no access level", a.name),
            });
        }
    }
    Ok(())
}

fn read_resource_types(page: &mut Page, grid: &Grid, cols: &Cols) -> Result<(), ParseError> {
    let kind = TableKind::ResourceTypes;
    let file = page.file.clone();
    let name_col = require(&file, kind, cols.name, "Resource types")?;
    require(&file, kind, cols.arn, "ARN")?;
    for r in 0..grid.grid.len() {
        let Some((c, origin)) = grid.at(r, Some(name_col)) else {
            continue;
        };
        if !origin {
            continue;
        }
        let name = collapse(c.link_text.as_deref().unwrap_or(&c.text));
        if name.is_empty() {
            page.warnings.push(Warning {
                page: file.clone(),
                table: Some(kind.label().into()),
                row: Some(r + 1),
                message: "resource type row without a name skipped".into(),
            });
            continue;
        }
        let arns: Vec<ArnFormat> = grid
            .at(r, cols.arn)
            .map(|(c, _)| {
                if c.codes.is_empty() {
                    c.items
                        .iter()
                        .map(|t| squeeze(t))
                        .filter(|t| !t.is_empty())
                        .collect()
                } else {
                    c.codes.clone()
                }
            })
            .unwrap_or_default()
            .into_iter()
            .map(|arn| ArnFormat {
                arn,
                sources: Sources::HTML,
            })
            .collect();
        if arns.is_empty() {
            page.warnings.push(Warning {
                page: file.clone(),
                table: Some(kind.label().into()),
                row: Some(r + 1),
                message: format!("resource type {name} has no ARN format"),
            });
        }
        page.resource_types.push(ResourceType {
            name,
            doc_url: c.href.clone(),
            arns,
            condition_keys: keys_of(grid.at(r, cols.keys)),
            pages: Vec::new(),
            sources: Sources::HTML,
        });
    }
    Ok(())
}

fn read_condition_keys(page: &mut Page, grid: &Grid, cols: &Cols) -> Result<(), ParseError> {
    let kind = TableKind::ConditionKeys;
    let file = page.file.clone();
    let name_col = require(&file, kind, cols.name, "Condition keys")?;
    for r in 0..grid.grid.len() {
        let Some((c, origin)) = grid.at(r, Some(name_col)) else {
            continue;
        };
        if !origin {
            continue;
        }
        let name = squeeze(c.link_text.as_deref().unwrap_or(&c.text));
        if name.is_empty() {
            page.warnings.push(Warning {
                page: file.clone(),
                table: Some(kind.label().into()),
                row: Some(r + 1),
                message: "condition key row without a name skipped".into(),
            });
            continue;
        }
        page.condition_keys.push(ConditionKey {
            name,
            description: grid
                .at(r, cols.description)
                .and_then(|(c, _)| non_empty(&c.text)),
            r#type: grid.at(r, cols.ktype).and_then(|(c, _)| non_empty(&c.text)),
            doc_url: c.href.clone(),
            pages: Vec::new(),
            sources: Sources::HTML,
        });
    }
    Ok(())
}

fn read_operations(page: &mut Page, grid: &Grid, cols: &Cols) -> Result<(), ParseError> {
    let kind = TableKind::Operations;
    let file = page.file.clone();
    let op_col = require(&file, kind, cols.operation, "Operation")?;
    require(&file, kind, cols.iam_action, "IAM action")?;
    let mut current: Option<Operation> = None;
    for r in 0..grid.grid.len() {
        let row_no = r + 1;
        let Some((oc, origin)) = grid.at(r, Some(op_col)) else {
            return Err(ParseError::new(
                &file,
                Some(kind.label()),
                Some(row_no),
                "row has no operation cell",
            ));
        };
        if origin {
            if let Some(op) = current.take() {
                crate::merge_operation(&mut page.operations, op);
            }
            let name = squeeze(oc.link_text.as_deref().unwrap_or(&oc.text));
            if name.is_empty() {
                return Err(ParseError::new(
                    &file,
                    Some(kind.label()),
                    Some(row_no),
                    "empty operation name",
                ));
            }
            current = Some(Operation {
                name,
                actions: Vec::new(),
                sdk: Vec::new(),
                sources: Sources::HTML,
            });
        }
        let op = current.as_mut().expect("set above");
        if let Some((c, true)) = grid.at(r, cols.sdk) {
            if let Some(client) = non_empty(&c.text) {
                let s = SdkMethod {
                    package: "AWS SDK".into(),
                    client,
                    method: op.name.clone(),
                };
                if !op.sdk.contains(&s) {
                    op.sdk.push(s);
                }
            }
        }
        let Some((ac, _)) = grid.at(r, cols.iam_action) else {
            continue;
        };
        let raw = squeeze(ac.link_text.as_deref().unwrap_or(&ac.text));
        if raw.is_empty() {
            continue;
        }
        let (service, action) = match raw.split_once(':') {
            Some((s, a)) => (s.to_string(), a.to_string()),
            None => (page.prefix.clone(), raw.clone()),
        };
        let keys = list_of(grid.at(r, cols.keys));
        let access = grid
            .at(r, cols.access)
            .and_then(|(c, _)| non_empty(&c.text));
        match op.actions.iter_mut().find(|x| {
            x.service.eq_ignore_ascii_case(&service) && x.action.eq_ignore_ascii_case(&action)
        }) {
            Some(e) => {
                for k in keys {
                    if !e.condition_keys.contains(&k) {
                        e.condition_keys.push(k);
                    }
                }
            }
            None => op.actions.push(OperationAction {
                service,
                action,
                condition_keys: keys,
                access_level: access,
                sources: Sources::HTML,
            }),
        }
    }
    if let Some(op) = current.take() {
        crate::merge_operation(&mut page.operations, op);
    }
    Ok(())
}

/// Links to service pages (`list_*.html`) in the table of contents, in
/// page order, without duplicates. Relative to the reference's base URL.
pub fn parse_toc(html: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let mut out: Vec<String> = Vec::new();
    for a in doc.select(&A) {
        let Some(href) = a.value().attr("href") else {
            continue;
        };
        let href = href.split('#').next().unwrap_or("");
        let name = href.rsplit('/').next().unwrap_or("");
        if name.starts_with("list_") && name.ends_with(".html") && !out.iter().any(|x| x == name) {
            out.push(name.to_string());
        }
    }
    out
}
