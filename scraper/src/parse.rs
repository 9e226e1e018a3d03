//! Parsing one Service Authorization Reference page: a pure function from
//! the page's text to a typed [`Page`]. No I/O happens here.
//!
//! Tables are identified by the `h2` heading before them and by their
//! header cells; columns are mapped by header name and rowspans/colspans are
//! expanded into a grid, so the same code reads both the classic layout
//! (May/June 2026) and the July 2026 one (reordered columns, no dependent
//! actions, separate permission-only and API operations tables).

use iamref_dataset::domain;
use iamref_dataset::model::*;
use scraper::{ElementRef, Html, Node, Selector};
use std::sync::LazyLock;

/// A page that cannot be read. Names the page and, where it can, the table
/// and row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub Warning);

impl ParseError {
    /// Is this a value outside its column's domain (damage, never a layout
    /// the parser does not know)?
    pub fn is_out_of_domain(&self) -> bool {
        self.0.message.contains(iamref_dataset::domain::MARK)
    }

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
sel!(A, "a");

type NodeRef<'a> = ego_tree::NodeRef<'a, Node>;

/// Widest table the grid reader expands; cells beyond it are dropped (with
/// a warning), so that absurd `colspan`s cannot blow up memory.
const MAX_COLS: usize = 64;
/// Largest `rowspan`/`colspan` honoured.
const MAX_SPAN: usize = 1000;

/// Depth-first walk of `root` without recursion (pages can nest deeply).
/// `visit(node, true)` is called on entering a node and says whether to
/// descend into it; `visit(node, false)` when leaving it (also when not
/// descended).
fn walk<'a>(root: NodeRef<'a>, mut visit: impl FnMut(NodeRef<'a>, bool) -> bool) {
    let mut node = root;
    let mut descend = visit(node, true);
    loop {
        if descend {
            if let Some(c) = node.first_child() {
                node = c;
                descend = visit(node, true);
                continue;
            }
        }
        loop {
            visit(node, false);
            if node.id() == root.id() {
                return;
            }
            if let Some(s) = node.next_sibling() {
                node = s;
                descend = visit(node, true);
                break;
            }
            match node.parent() {
                Some(p) => node = p,
                None => return,
            }
        }
    }
}

fn element_name<'a>(n: &NodeRef<'a>) -> Option<&'a str> {
    match n.value() {
        Node::Element(e) => Some(e.name()),
        _ => None,
    }
}

/// Elements whose edges separate words and list items.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "br"
            | "div"
            | "li"
            | "ul"
            | "ol"
            | "dd"
            | "dt"
            | "tr"
            | "td"
            | "th"
            | "table"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "pre"
    )
}

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

/// Text with whitespace collapsed as it is appended (cheaper than
/// collecting the raw text, mostly indentation on real pages, and
/// collapsing it afterwards).
#[derive(Default)]
struct TextBuf {
    s: String,
    pending_space: bool,
}

impl TextBuf {
    fn push(&mut self, t: &str) {
        let mut words = t.split_whitespace();
        if t.starts_with(char::is_whitespace) {
            self.pending_space = true;
        }
        if let Some(w) = words.next() {
            self.word(w);
            for w in words {
                self.pending_space = true;
                self.word(w);
            }
            if t.ends_with(char::is_whitespace) {
                self.pending_space = true;
            }
        }
    }
    fn word(&mut self, w: &str) {
        if self.pending_space && !self.s.is_empty() {
            self.s.push(' ');
        }
        self.pending_space = false;
        self.s.push_str(w);
    }
    fn space(&mut self) {
        self.pending_space = true;
    }
    fn take(&mut self) -> String {
        self.pending_space = false;
        std::mem::take(&mut self.s)
    }
}

/// An element's text, whitespace collapsed, with block boundaries as spaces.
fn text_of(e: ElementRef) -> String {
    let mut buf = TextBuf::default();
    walk(*e, |n, entering| {
        match n.value() {
            Node::Text(t) if entering => buf.push(t),
            Node::Element(el) if is_block(el.name()) => buf.space(),
            _ => {}
        }
        true
    });
    buf.take()
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// What a table cell holds, read once.
#[derive(Debug, Default, Clone)]
struct Cell {
    text: String,
    /// The cell's text split at block boundaries (`<p>`, `<br>`, `<div>`,
    /// `<li>`): one entry per listed resource type, key or action.
    items: Vec<String>,
    href: Option<String>,
    /// First link's text.
    link_text: Option<String>,
    /// `<code>` contents with all whitespace removed (ARN formats).
    codes: Vec<String>,
}

/// Read a cell in one pass over its subtree.
fn read_cell(td: ElementRef) -> Cell {
    let mut text = TextBuf::default();
    let mut seg = TextBuf::default();
    let mut items = Vec::new();
    let mut codes = Vec::new();
    let mut code = String::new();
    let mut code_depth = 0usize;
    // First <a>: None = not seen; Some(depth) while inside it.
    let mut a_depth: Option<usize> = None;
    let mut a_done = false;
    let mut link = TextBuf::default();
    let mut href = None;
    let flush = |seg: &mut TextBuf, items: &mut Vec<String>| {
        let t = seg.take();
        if !t.is_empty() {
            items.push(t);
        }
    };
    walk(*td, |n, entering| {
        if entering {
            match n.value() {
                Node::Text(t) => {
                    text.push(t);
                    seg.push(t);
                    if code_depth > 0 {
                        code.extend(t.chars().filter(|c| !c.is_whitespace()));
                    }
                    if a_depth.is_some() {
                        link.push(t);
                    }
                }
                Node::Element(el) => {
                    let name = el.name();
                    if is_block(name) {
                        text.space();
                        flush(&mut seg, &mut items);
                    }
                    match name {
                        "code" => code_depth += 1,
                        "a" if !a_done => {
                            if let Some(d) = a_depth.as_mut() {
                                *d += 1;
                            } else {
                                a_depth = Some(1);
                                href = el.attr("href").map(str::to_string);
                            }
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
            return true;
        }
        {
            let Some(name) = element_name(&n) else {
                return true;
            };
            if is_block(name) {
                text.space();
                flush(&mut seg, &mut items);
            }
            match name {
                "code" if code_depth > 0 => {
                    code_depth -= 1;
                    if code_depth == 0 && !code.is_empty() {
                        codes.push(std::mem::take(&mut code));
                    }
                }
                "a" if !a_done => {
                    if let Some(d) = a_depth.as_mut() {
                        *d -= 1;
                        if *d == 0 {
                            a_depth = None;
                            a_done = true;
                        }
                    }
                }
                _ => {}
            }
        }
        true
    });
    flush(&mut seg, &mut items);
    let link_text = if a_done || a_depth.is_some() {
        Some(link.take()).filter(|t| !t.is_empty())
    } else {
        None
    };
    Cell {
        text: text.take(),
        items,
        href,
        link_text,
        codes,
    }
}

/// A table expanded into a grid. `grid[r][c]` indexes `cells`; `origin`
/// says whether the cell starts on that row (false for rows a rowspan
/// carries it into).
struct Grid {
    headers: Vec<String>,
    cells: Vec<Cell>,
    grid: Vec<Vec<Option<(usize, bool)>>>,
    /// Some row had cells beyond [`MAX_COLS`]; they were dropped.
    too_wide: bool,
}

fn span(e: ElementRef, attr: &str) -> usize {
    e.value()
        .attr(attr)
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, MAX_SPAN)
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

/// The table's own rows (`table > tr` and `table > thead|tbody|tfoot > tr`),
/// never those of a table nested in a cell.
fn table_rows(table: ElementRef) -> Vec<(ElementRef, bool)> {
    let mut rows = Vec::new();
    for child in table.child_elements() {
        match child.value().name() {
            "tr" => rows.push((child, false)),
            g @ ("thead" | "tbody" | "tfoot") => rows.extend(
                child
                    .child_elements()
                    .filter(|e| e.value().name() == "tr")
                    .map(|e| (e, g == "thead")),
            ),
            _ => {}
        }
    }
    rows
}

fn read_grid(table: ElementRef) -> Grid {
    let mut headers = Vec::new();
    let mut cells = Vec::new();
    let mut grid: Vec<Vec<Option<(usize, bool)>>> = Vec::new();
    let mut too_wide = false;
    // carry[c] = (rows left, cell index)
    let mut carry: Vec<(usize, usize)> = Vec::new();
    for (tr, in_thead) in table_rows(table) {
        let tds: Vec<ElementRef> = tr
            .child_elements()
            .filter(|e| {
                let n = e.value().name();
                n == "td" || n == "th"
            })
            .collect();
        if headers.is_empty()
            && grid.is_empty()
            && !tds.is_empty()
            && (in_thead || tds.iter().all(|c| c.value().name() == "th"))
        {
            headers = tds
                .iter()
                .take(MAX_COLS)
                .map(|c| text_of(*c).to_ascii_lowercase())
                .collect();
            continue;
        }
        let mut row: Vec<Option<(usize, bool)>> = Vec::new();
        let mut col = 0;
        for td in tds {
            take_carry(&mut carry, &mut row, &mut col);
            if col >= MAX_COLS {
                too_wide = true;
                break;
            }
            let idx = cells.len();
            cells.push(read_cell(td));
            let rs = span(td, "rowspan");
            let cs = span(td, "colspan");
            for _ in 0..cs {
                if col >= MAX_COLS {
                    too_wide = true;
                    break;
                }
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
        too_wide,
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

/// The kind of table a section heading announces.
fn heading_kind(heading: &str) -> Option<TableKind> {
    let h = heading.to_ascii_lowercase();
    if h.starts_with("permission-only actions") || h.starts_with("permission only actions") {
        Some(TableKind::PermissionOnly)
    } else if h.starts_with("actions defined by") {
        Some(TableKind::Actions)
    } else if h.starts_with("api operations") {
        Some(TableKind::Operations)
    } else if h.starts_with("resource types defined by") {
        Some(TableKind::ResourceTypes)
    } else if h.starts_with("condition keys for") {
        Some(TableKind::ConditionKeys)
    } else {
        None
    }
}

/// The kind of table its header cells suggest (for tables under a heading
/// that is not recognized).
fn header_kind(headers: &[String]) -> Option<TableKind> {
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
    /// The header cells, for messages.
    headers: String,
}

fn map_columns(kind: TableKind, headers: &[String]) -> (Cols, Vec<String>) {
    let mut c = Cols {
        headers: headers.join(" | "),
        ..Cols::default()
    };
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

/// What one walk over the document finds outside tables.
#[derive(Default)]
struct Outline<'a> {
    h1: Vec<String>,
    titles: Vec<String>,
    canonical: Option<String>,
    /// Text of the first paragraph naming the service prefix, and its first
    /// `<code>` (whitespace removed).
    prefix_sentence: Option<(String, Option<String>)>,
    /// Section headings (`h2`), paragraphs and top-level tables, in
    /// document order.
    sections: Vec<Section<'a>>,
    /// The `id`s of the `h2` headings.
    h2_ids: Vec<String>,
    /// In-page links to sections (`<a href="#id">Actions defined by …</a>`,
    /// the page's own contents list): (id, link text).
    nav: Vec<(String, String)>,
}

enum Section<'a> {
    Heading(String),
    Para(String),
    Table(ElementRef<'a>),
}

fn outline(doc: &Html) -> Outline<'_> {
    let mut o = Outline::default();
    walk(doc.tree.root(), |n, entering| {
        if !entering {
            return false;
        }
        {
            let Some(el) = ElementRef::wrap(n) else {
                return true;
            };
            match el.value().name() {
                // Tables are read on their own; nested tables are part of a
                // cell, never tables of the page.
                "table" => {
                    o.sections.push(Section::Table(el));
                    false
                }
                "h2" => {
                    o.sections.push(Section::Heading(text_of(el)));
                    if let Some(id) = el.value().attr("id") {
                        o.h2_ids.push(id.to_string());
                    }
                    false
                }

                "h1" => {
                    o.h1.push(text_of(el));
                    false
                }
                "title" => {
                    o.titles.push(text_of(el));
                    false
                }
                "link" => {
                    if o.canonical.is_none()
                        && el
                            .value()
                            .attr("rel")
                            .is_some_and(|r| r.eq_ignore_ascii_case("canonical"))
                    {
                        o.canonical = el.value().attr("href").map(str::to_string);
                    }
                    false
                }
                "p" if o.prefix_sentence.is_none() => {
                    let t = text_of(el);
                    if t.to_ascii_lowercase().contains("service prefix:") {
                        let code = el
                            .descendent_elements()
                            .find(|c| c.value().name() == "code")
                            .map(|c| squeeze(&c.text().collect::<String>()))
                            .filter(|c| !c.is_empty());
                        o.prefix_sentence = Some((t, code));
                    }
                    false
                }
                "p" => {
                    o.sections.push(Section::Para(text_of(el)));
                    for a in el.descendent_elements() {
                        nav_link(&mut o.nav, a);
                    }
                    false
                }
                "a" => {
                    nav_link(&mut o.nav, el);
                    true
                }
                "script" | "style" | "template" | "noscript" => false,
                _ => true,
            }
        }
    });
    o
}

/// Record `a` if it is an in-page link to a section (`<a href="#id">Actions
/// defined by …</a>`): the page's contents list. (Tables are not walked, so
/// their many links to resource types and keys cost nothing here.)
fn nav_link(nav: &mut Vec<(String, String)>, a: ElementRef) {
    if a.value().name() != "a" {
        return;
    }
    if let Some(id) = a.value().attr("href").and_then(|h| h.strip_prefix('#')) {
        let t = text_of(a);
        if heading_kind(&t).is_some() {
            nav.push((id.to_string(), t));
        }
    }
}

/// Parse one page. `file` is the page's file name (`list_amazons3.html`),
/// used for provenance and in every message.
///
/// A page is an error (never an empty service) when it names no service
/// prefix, when an actions, permission-only or API operations heading has no
/// table after it, when such a table lacks a column it needs or has rows
/// that yield no action, or when it has tables but none could be read as
/// the page's actions. A page with no tables at all (a retired service's
/// stub) parses to an empty page with a warning.
pub fn parse_page(file: &str, html: &str) -> Result<Page, ParseError> {
    let sha256 = iamref_dataset::sha256_hex(html.as_bytes());
    if !document_ends(html) {
        return Err(ParseError::new(
            file,
            None,
            None,
            "the document does not end: it opens <html> but has no closing </html> \
             (a truncated download or file); fetch or save the page again",
        ));
    }
    let doc = Html::parse_document(html);
    let o = outline(&doc);

    let prefix = o
        .prefix_sentence
        .as_ref()
        .and_then(|(t, code)| service_prefix(t, code.as_deref()))
        .ok_or_else(|| {
            ParseError::new(
                file,
                None,
                None,
                "no service prefix: expected a sentence like \"Amazon S3 (service prefix: s3)\"",
            )
        })?;
    let service_name = service_name(&o).ok_or_else(|| {
        ParseError::new(
            file,
            None,
            None,
            "no service name: neither the h1 title, the <title> nor the prefix sentence names the service",
        )
    })?;

    let mut page = Page {
        file: file.to_string(),
        service_name,
        prefix,
        url: o.canonical.clone(),
        sha256,
        layout: Layout::Classic,
        actions: Vec::new(),
        resource_types: Vec::new(),
        condition_keys: Vec::new(),
        operations: Vec::new(),
        warnings: Vec::new(),
    };

    let warn = |page: &mut Page, table: String, row: Option<usize>, message: String| {
        page.warnings.push(Warning {
            page: file.to_string(),
            table: Some(table),
            row,
            message,
        })
    };

    let mut heading = String::new();
    // A heading that must be followed by its table, not yet seen.
    let mut pending: Option<(TableKind, String)> = None;
    let mut tables = 0;
    let mut unrecognized = 0;
    let mut seen_deps_column = false;
    let mut seen_live_marker = false;
    for section in &o.sections {
        let el = match section {
            Section::Heading(h) => {
                if let Some((kind, h0)) = pending.take() {
                    return Err(missing_table(file, kind, &h0));
                }
                heading = h.clone();
                pending = heading_kind(h).map(|k| (k, h.clone()));
                continue;
            }
            Section::Para(t) => {
                // "X does not support specifying a resource ARN …" and
                // "X has no service-specific context keys …" stand in for
                // the resource types and condition keys tables.
                if let Some((kind, _)) = &pending {
                    let t = t.to_ascii_lowercase();
                    let stands_in = match kind {
                        TableKind::ResourceTypes => t.contains("does not support"),
                        TableKind::ConditionKeys => t.contains("no service-specific"),
                        _ => false,
                    };
                    if stands_in {
                        pending = None;
                    }
                }
                continue;
            }
            Section::Table(el) => *el,
        };
        tables += 1;
        let grid = read_grid(el);
        let table_name = if heading.is_empty() {
            format!("table {tables}")
        } else {
            heading.clone()
        };
        let kind = match heading_kind(&heading) {
            Some(k) => Some(k),
            None => {
                let k = header_kind(&grid.headers);
                if let Some(k) = k {
                    warn(
                        &mut page,
                        table_name.clone(),
                        None,
                        format!(
                            "table under an unrecognized heading read, from its header cells, as the {} table",
                            k.label()
                        ),
                    );
                }
                k
            }
        };
        let Some(kind) = kind else {
            unrecognized += 1;
            warn(
                &mut page,
                table_name,
                None,
                format!(
                    "unrecognized table (headers: {}); skipped",
                    if grid.headers.is_empty() {
                        "none".to_string()
                    } else {
                        grid.headers.join(" | ")
                    }
                ),
            );
            continue;
        };
        if pending.as_ref().is_some_and(|(k, _)| *k == kind) {
            pending = None;
        }
        if grid.too_wide {
            warn(
                &mut page,
                kind.label().into(),
                None,
                format!("cells beyond column {MAX_COLS} ignored"),
            );
        }
        let (cols, unknown) = map_columns(kind, &grid.headers);
        let missing = missing_columns(kind, &cols);
        if let Some(u) = unknown.first().filter(|_| !missing.is_empty()) {
            return Err(ParseError::new(
                file,
                Some(kind.label()),
                None,
                format!(
                    "unknown column {u:?} where the known column(s) {} are missing: a renamed \
                     column? (header cells: {}); the parser needs updating to read it",
                    missing
                        .iter()
                        .map(|m| format!("{m:?}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    cols.headers
                ),
            ));
        }
        if let Some(m) = missing.iter().find(|m| !is_optional_column(kind, m)) {
            return Err(ParseError::new(
                file,
                Some(kind.label()),
                None,
                format!(
                    "the table has no {m:?} column (header cells: {})",
                    if cols.headers.is_empty() {
                        "none"
                    } else {
                        &cols.headers
                    }
                ),
            ));
        }
        for u in unknown {
            warn(
                &mut page,
                kind.label().into(),
                None,
                format!(
                    "unknown column {u:?} ignored (a new column: every known column is present)"
                ),
            );
        }
        match kind {
            TableKind::Actions | TableKind::PermissionOnly => {
                if cols.deps.is_some() {
                    seen_deps_column = true;
                }
                // The July 2026 layout dropped the Dependent actions column
                // and moved Access level last.
                if kind == TableKind::PermissionOnly
                    || cols.deps.is_none()
                    || grid.headers.last().map(String::as_str) == Some("access level")
                {
                    seen_live_marker = true;
                }
                let before = page.actions.len();
                read_actions(&mut page, &grid, &cols, kind)?;
                if page.actions.len() == before && !grid.grid.is_empty() {
                    return Err(ParseError::new(
                        file,
                        Some(kind.label()),
                        None,
                        format!(
                            "the table has {} rows but no action could be read from them",
                            grid.grid.len()
                        ),
                    ));
                }
            }
            TableKind::ResourceTypes => read_resource_types(&mut page, &grid, &cols)?,
            TableKind::ConditionKeys => read_condition_keys(&mut page, &grid, &cols)?,
            TableKind::Operations => {
                seen_live_marker = true;
                read_operations(&mut page, &grid, &cols)?
            }
        }
    }
    if let Some((kind, h)) = pending {
        return Err(missing_table(file, kind, &h));
    }
    for (id, text) in &o.nav {
        if !o.h2_ids.iter().any(|h| h == id) {
            return Err(ParseError::new(
                file,
                heading_kind(text).map(TableKind::label),
                None,
                format!(
                    "the page's contents list announces the section {text:?} (#{id}), but the \
                     page has no such section (a truncated or changed page?)"
                ),
            ));
        }
    }
    check_references(&page)?;
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
    } else if page.actions.is_empty() && unrecognized > 0 {
        return Err(ParseError::new(
            file,
            None,
            None,
            format!(
                "no actions read: {unrecognized} of {tables} table(s) could not be recognized \
                 (has the page layout changed?)"
            ),
        ));
    }
    Ok(page)
}

/// A document that opens `<html>` must close it: a page cut short (a
/// truncated download or file) lacks its end. Fragments without an
/// `<html>` tag are not checked.
fn document_ends(html: &str) -> bool {
    let head = &html.as_bytes()[..html.len().min(4096)];
    let opens = head.windows(5).any(|w| w.eq_ignore_ascii_case(b"<html"));
    if !opens {
        return true;
    }
    let tail = &html.as_bytes()[html.len().saturating_sub(4096)..];
    tail.windows(7).any(|w| w.eq_ignore_ascii_case(b"</html>"))
}

/// The known columns of each table, by the name messages use. Optional
/// ones may be absent (the July 2026 layout dropped "Dependent actions";
/// the API operations table's key, value, access level and SDK columns vary
/// by page); all others must be present.
fn missing_columns(kind: TableKind, c: &Cols) -> Vec<&'static str> {
    let known: &[(&str, Option<usize>)] = match kind {
        TableKind::Actions | TableKind::PermissionOnly => &[
            ("Actions", c.name),
            ("Description", c.description),
            ("Access level", c.access),
            ("Resource types", c.resource),
            ("Condition keys", c.keys),
            ("Dependent actions", c.deps),
        ],
        TableKind::ResourceTypes => &[
            ("Resource types", c.name),
            ("ARN", c.arn),
            ("Condition keys", c.keys),
        ],
        TableKind::ConditionKeys => &[
            ("Condition keys", c.name),
            ("Description", c.description),
            ("Type", c.ktype),
        ],
        TableKind::Operations => &[
            ("Operation", c.operation),
            ("IAM action", c.iam_action),
            ("Condition key", c.keys),
            ("Possible value(s)", c.values),
            ("Access level", c.access),
            ("SDK", c.sdk),
        ],
    };
    known
        .iter()
        .filter(|(_, col)| col.is_none())
        .map(|(n, _)| *n)
        .collect()
}

fn is_optional_column(kind: TableKind, name: &str) -> bool {
    match kind {
        TableKind::Actions | TableKind::PermissionOnly => name == "Dependent actions",
        TableKind::Operations => matches!(
            name,
            "Condition key" | "Possible value(s)" | "Access level" | "SDK"
        ),
        TableKind::ResourceTypes | TableKind::ConditionKeys => false,
    }
}

/// The resource types the action rows name, and the condition keys the
/// actions and resource types name, must be defined on the page: a page cut
/// short, or a lost table, leaves them pointing nowhere. AWS's own pages
/// have the odd stray reference (`config`'s `Connector` on 2026-06-14),
/// which the merge reports as a warning; so this is an error when the page
/// defines none at all while naming some, or when more than half of the
/// names are undefined.
fn check_references(page: &Page) -> Result<(), ParseError> {
    if page.actions.is_empty() {
        return Ok(());
    }
    let defined: std::collections::HashSet<String> = page
        .resource_types
        .iter()
        .map(|r| r.name.to_ascii_lowercase())
        .collect();
    let mut named: Vec<String> = Vec::new();
    let mut undefined: Vec<String> = Vec::new();
    for a in &page.actions {
        let rts = a
            .resource_types
            .iter()
            .chain(a.scenarios.iter().flat_map(|s| s.resource_types.iter()));
        for r in rts {
            let lower = r.name.to_ascii_lowercase();
            if named.contains(&lower) {
                continue;
            }
            named.push(lower.clone());
            if !defined.contains(&lower) {
                undefined.push(format!("{} (first in {})", r.name, a.name));
            }
        }
    }
    if !(undefined.is_empty() || (!defined.is_empty() && undefined.len() * 2 <= named.len())) {
        let n = undefined.len();
        undefined.truncate(5);
        return Err(ParseError::new(
            &page.file,
            Some(TableKind::ResourceTypes.label()),
            None,
            format!(
                "{n} of the {} resource types the actions name are not defined in the page's \
                 resource types table: {}{} (a truncated page, or a lost table?)",
                named.len(),
                undefined.join(", "),
                if n > 5 { ", …" } else { "" }
            ),
        ));
    }
    // The same for the condition keys the actions and resource types name.
    let defined: std::collections::HashSet<String> = page
        .condition_keys
        .iter()
        .map(|k| k.name.to_ascii_lowercase())
        .collect();
    let mut named: Vec<String> = Vec::new();
    let mut undefined: Vec<String> = Vec::new();
    let action_keys = page.actions.iter().flat_map(|a| {
        a.condition_keys.iter().chain(
            a.resource_types
                .iter()
                .flat_map(|r| r.condition_keys.iter()),
        )
    });
    let rt_keys = page
        .resource_types
        .iter()
        .flat_map(|r| r.condition_keys.iter());
    for k in action_keys.chain(rt_keys) {
        let lower = k.name.to_ascii_lowercase();
        if named.contains(&lower) {
            continue;
        }
        named.push(lower.clone());
        if !defined.contains(&lower) {
            undefined.push(k.name.clone());
        }
    }
    if undefined.is_empty() || (!defined.is_empty() && undefined.len() * 2 <= named.len()) {
        return Ok(());
    }
    let n = undefined.len();
    undefined.truncate(5);
    Err(ParseError::new(
        &page.file,
        Some(TableKind::ConditionKeys.label()),
        None,
        format!(
            "{n} of the {} condition keys the actions and resource types name are not defined \
             in the page's condition keys table: {}{} (a truncated page, or a lost table?)",
            named.len(),
            undefined.join(", "),
            if n > 5 { ", …" } else { "" }
        ),
    ))
}

fn missing_table(file: &str, kind: TableKind, heading: &str) -> ParseError {
    ParseError::new(
        file,
        Some(kind.label()),
        None,
        format!("the heading {heading:?} is not followed by a table"),
    )
}

fn service_name(o: &Outline) -> Option<String> {
    const LEAD: &str = "actions, resources, and condition keys for ";
    // Only the <title> carries the site suffix; a " - " inside the heading
    // is part of the name ("Amazon Simple Email Service - Mail Manager").
    const SUFFIX: &str = " - service authorization reference";
    let from = |t: &String, strip_suffix: bool| -> Option<String> {
        let lower = t.to_ascii_lowercase();
        let i = lower.find(LEAD)?;
        let mut rest = t[i + LEAD.len()..].trim();
        if strip_suffix && rest.to_ascii_lowercase().ends_with(SUFFIX) {
            rest = rest[..rest.len() - SUFFIX.len()].trim_end();
        }
        (!rest.is_empty()).then(|| rest.to_string())
    };
    o.h1.iter()
        .find_map(|t| from(t, false))
        .or_else(|| o.titles.iter().find_map(|t| from(t, true)))
        .or_else(|| {
            // "Amazon S3 (service prefix: s3) provides ..."
            let (t, _) = o.prefix_sentence.as_ref()?;
            let i = t.to_ascii_lowercase().find("(service prefix:")?;
            non_empty(&t[..i])
        })
}

/// A prefix as IAM writes it: `s3`, `s3-object-lambda`, `aws-marketplace`.
fn valid_prefix(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 64
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// An action name as IAM writes it (`GetObject`, `GET`): letters, digits,
/// `-`, `_`, `.`; never a wildcard.
fn valid_action(a: &str) -> bool {
    !a.is_empty()
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn service_prefix(sentence: &str, code: Option<&str>) -> Option<String> {
    // Prefer the <code> element if present.
    if let Some(c) = code.filter(|c| valid_prefix(c)) {
        return Some(c.to_string());
    }
    let lower = sentence.to_ascii_lowercase();
    let i = lower.find("service prefix:")?;
    let rest = &sentence[i + "service prefix:".len()..];
    let word: String = rest
        .trim_start()
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ')' && *c != ',')
        .collect();
    valid_prefix(&word).then_some(word)
}

fn require(
    page: &str,
    kind: TableKind,
    cols: &Cols,
    col: Option<usize>,
    name: &str,
) -> Result<usize, ParseError> {
    col.ok_or_else(|| {
        ParseError::new(
            page,
            Some(kind.label()),
            None,
            format!(
                "the table has no {name:?} column (header cells: {})",
                if cols.headers.is_empty() {
                    "none"
                } else {
                    &cols.headers
                }
            ),
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

/// `SCENARIO: EC2-VPC-EBS` (the word usually in bold) names a scenario row.
fn scenario_name(c: &Cell) -> Option<String> {
    let t = c.text.trim_start();
    let head = t.get(..8)?;
    if !head.eq_ignore_ascii_case("scenario") {
        return None;
    }
    let rest = t[8..].trim_start().strip_prefix(':')?;
    Some(collapse(rest))
}

/// Remove a `[permission only]` marker (any case).
fn strip_marker(s: &str) -> String {
    const M: &str = "[permission only]";
    match s.to_ascii_lowercase().find(M) {
        Some(i) => format!("{}{}", &s[..i], &s[i + M.len()..]),
        None => s.to_string(),
    }
}

/// A cell value checked against its column's domain
/// ([`iamref_dataset::domain`]): outside it, the page is unreadable, and the
/// error names the page, table, row and column.
fn in_domain(
    file: &str,
    kind: TableKind,
    row: usize,
    r: Result<(), iamref_dataset::domain::Violation>,
) -> Result<(), ParseError> {
    r.map_err(|v| ParseError::new(file, Some(kind.label()), Some(row), v.to_string()))
}

/// Record a warning about `kind`'s table (and row) on the page.
fn warn(page: &mut Page, kind: TableKind, row: Option<usize>, message: impl Into<String>) {
    page.warnings.push(Warning {
        page: page.file.clone(),
        table: Some(kind.label().into()),
        row,
        message: message.into(),
    });
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
    let name_col = require(&file, kind, cols, cols.name, "Actions")?;
    require(&file, kind, cols, cols.resource, "Resource types")?;
    require(&file, kind, cols, cols.access, "Access level")?;
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
            let mut name = squeeze(&strip_marker(&raw));
            // Tolerate `s3:GetObject` for the page's own prefix.
            if let Some((p, rest)) = name.split_once(':') {
                if p.eq_ignore_ascii_case(&page.prefix) {
                    name = rest.to_string();
                }
            }
            if !valid_action(&name) || name.len() > domain::MAX_NAME {
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
        let Some(action) = current.as_mut() else {
            return Err(ParseError::new(
                &file,
                Some(kind.label()),
                Some(row_no),
                "row continues an action that has no name cell",
            ));
        };
        let desc = grid.at(r, cols.description);
        let scenario = desc.and_then(|(c, origin)| Some((scenario_name(c)?, origin)));
        if scenario.is_none() {
            if let Some((c, true)) = desc {
                if action.description.is_none() {
                    action.description = non_empty(&c.text);
                    if let Some(d) = &action.description {
                        in_domain(&file, kind, row_no, domain::description("Description", d))?;
                    }
                }
            }
            if let Some((c, true)) = grid.at(r, cols.access) {
                if action.access_level.is_none() {
                    action.access_level = non_empty(&c.text);
                    if let Some(l) = &action.access_level {
                        in_domain(&file, kind, row_no, domain::access_level(l))?;
                    }
                }
            }
        }
        let rts: Vec<(String, bool)> = grid
            .at(r, cols.resource)
            .map(|(c, _)| c.items.iter().map(|i| resource_ref(i)).collect())
            .unwrap_or_default();
        for (n, _) in &rts {
            if !n.is_empty() {
                in_domain(
                    &file,
                    kind,
                    row_no,
                    domain::resource_type_name("Resource types", n),
                )?;
            }
        }
        let keys = keys_of(grid.at(r, cols.keys));
        for k in &keys {
            in_domain(
                &file,
                kind,
                row_no,
                domain::key_name("Condition keys", &k.name),
            )?;
        }
        let deps = list_of(grid.at(r, cols.deps));
        for d in &deps {
            in_domain(
                &file,
                kind,
                row_no,
                domain::qualified_action("Dependent actions", d),
            )?;
        }
        if let Some((name, origin)) = scenario {
            let resource_types: Vec<ActionResource> = rts
                .into_iter()
                .filter(|(n, _)| !n.is_empty())
                .map(|(n, req)| ActionResource {
                    name: n,
                    required: req,
                    condition_keys: keys.clone(),
                    dependent_actions: deps.clone(),
                    sources: Sources::HTML,
                })
                .collect();
            match action.scenarios.last_mut() {
                // A scenario cell that a rowspan carries over several rows.
                Some(last) if !origin && last.name == name => {
                    last.resource_types.extend(resource_types)
                }
                _ => action.scenarios.push(Scenario {
                    name,
                    resource_types,
                }),
            }
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
            warn(page, kind, Some(row_no), format!(
                    "{}: one row names {} resource types; the row's condition keys and dependent actions apply to each",
                    action.name,
                    rts.len()
                ));
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
    let unlevelled: Vec<String> = page
        .actions
        .iter()
        .filter(|a| a.access_level.is_none())
        .map(|a| format!("action {} has no access level", a.name))
        .collect();
    for m in unlevelled {
        warn(page, kind, None, m);
    }
    Ok(())
}

fn read_resource_types(page: &mut Page, grid: &Grid, cols: &Cols) -> Result<(), ParseError> {
    let kind = TableKind::ResourceTypes;
    let file = page.file.clone();
    let name_col = require(&file, kind, cols, cols.name, "Resource types")?;
    require(&file, kind, cols, cols.arn, "ARN")?;
    let arns_in = |r: usize| -> Vec<ArnFormat> {
        grid.at(r, cols.arn)
            .filter(|(_, origin)| *origin)
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
            .collect()
    };
    for r in 0..grid.grid.len() {
        let Some((c, origin)) = grid.at(r, Some(name_col)) else {
            continue;
        };
        if !origin {
            // A name cell spanning rows: one more ARN format (or keys) per
            // row for the resource type above.
            if let Some(last) = page.resource_types.last_mut() {
                for a in arns_in(r) {
                    in_domain(&file, kind, r + 1, domain::arn_format("ARN", &a.arn))?;
                    if !last.arns.contains(&a) {
                        last.arns.push(a);
                    }
                }
                if grid.at(r, cols.keys).is_some_and(|(_, o)| o) {
                    let keys = keys_of(grid.at(r, cols.keys));
                    for k in &keys {
                        in_domain(
                            &file,
                            kind,
                            r + 1,
                            domain::key_name("Condition keys", &k.name),
                        )?;
                    }
                    iamref_dataset::merge::merge_keys(&mut last.condition_keys, keys);
                }
            }
            continue;
        }
        let name = collapse(c.link_text.as_deref().unwrap_or(&c.text));
        if name.is_empty() {
            warn(
                page,
                kind,
                Some(r + 1),
                "resource type row without a name skipped",
            );
            continue;
        }
        in_domain(
            &file,
            kind,
            r + 1,
            domain::resource_type_name("Resource types", &name),
        )?;
        let arns = arns_in(r);
        for a in &arns {
            in_domain(&file, kind, r + 1, domain::arn_format("ARN", &a.arn))?;
        }
        let keys = keys_of(grid.at(r, cols.keys));
        for k in &keys {
            in_domain(
                &file,
                kind,
                r + 1,
                domain::key_name("Condition keys", &k.name),
            )?;
        }
        if arns.is_empty() {
            warn(
                page,
                kind,
                Some(r + 1),
                format!("resource type {name} has no ARN format"),
            );
        }
        page.resource_types.push(ResourceType {
            name,
            doc_url: c.href.clone(),
            arns,
            condition_keys: keys,
            pages: Vec::new(),
            sources: Sources::HTML,
        });
    }
    Ok(())
}

fn read_condition_keys(page: &mut Page, grid: &Grid, cols: &Cols) -> Result<(), ParseError> {
    let kind = TableKind::ConditionKeys;
    let file = page.file.clone();
    let name_col = require(&file, kind, cols, cols.name, "Condition keys")?;
    for r in 0..grid.grid.len() {
        let Some((c, origin)) = grid.at(r, Some(name_col)) else {
            continue;
        };
        if !origin {
            continue;
        }
        let name = squeeze(c.link_text.as_deref().unwrap_or(&c.text));
        if name.is_empty() {
            warn(
                page,
                kind,
                Some(r + 1),
                "condition key row without a name skipped",
            );
            continue;
        }
        let description = grid
            .at(r, cols.description)
            .and_then(|(c, _)| non_empty(&c.text));
        let r#type = grid.at(r, cols.ktype).and_then(|(c, _)| non_empty(&c.text));
        in_domain(
            &file,
            kind,
            r + 1,
            domain::key_name("Condition keys", &name),
        )?;
        if let Some(d) = &description {
            in_domain(&file, kind, r + 1, domain::description("Description", d))?;
        }
        if let Some(t) = &r#type {
            in_domain(&file, kind, r + 1, domain::key_type(t))?;
        }
        page.condition_keys.push(ConditionKey {
            name,
            description,
            r#type,
            doc_url: c.href.clone(),
            pages: Vec::new(),
            sources: Sources::HTML,
            variants: Vec::new(),
        });
    }
    Ok(())
}

fn read_operations(page: &mut Page, grid: &Grid, cols: &Cols) -> Result<(), ParseError> {
    let kind = TableKind::Operations;
    let file = page.file.clone();
    let op_col = require(&file, kind, cols, cols.operation, "Operation")?;
    require(&file, kind, cols, cols.iam_action, "IAM action")?;
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
        let Some(op) = current.as_mut() else {
            return Err(ParseError::new(
                &file,
                Some(kind.label()),
                Some(row_no),
                "row continues an operation that has no name cell",
            ));
        };
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
        // One IAM action per row, or several listed in one cell.
        let raws: Vec<String> = if ac.items.len() > 1 {
            ac.items.iter().map(|i| squeeze(i)).collect()
        } else {
            vec![squeeze(ac.link_text.as_deref().unwrap_or(&ac.text))]
        };
        let keys = list_of(grid.at(r, cols.keys));
        if raws.iter().all(|x| x.is_empty()) {
            // A continuation row: its keys belong to the row above's action.
            if let Some(last) = op.actions.last_mut() {
                for k in keys {
                    if !last.condition_keys.contains(&k) {
                        last.condition_keys.push(k);
                    }
                }
            }
            continue;
        }
        let access = grid
            .at(r, cols.access)
            .and_then(|(c, _)| non_empty(&c.text));
        for raw in raws.into_iter().filter(|x| !x.is_empty()) {
            let (service, action) = match raw.split_once(':') {
                Some((s, a)) => (s.to_string(), a.to_string()),
                None => (page.prefix.clone(), raw.clone()),
            };
            if !valid_prefix(&service) || !valid_action(&action) {
                warn(
                    page,
                    kind,
                    Some(row_no),
                    format!("{}: cannot read an IAM action from {raw:?}", op.name),
                );
                continue;
            }
            match op.actions.iter_mut().find(|x| {
                x.service.eq_ignore_ascii_case(&service) && x.action.eq_ignore_ascii_case(&action)
            }) {
                Some(e) => {
                    for k in &keys {
                        if !e.condition_keys.contains(k) {
                            e.condition_keys.push(k.clone());
                        }
                    }
                }
                None => op.actions.push(OperationAction {
                    service,
                    action,
                    condition_keys: keys.clone(),
                    context: Default::default(),
                    access_level: access.clone(),
                    sources: Sources::HTML,
                }),
            }
        }
    }
    if let Some(op) = current.take() {
        crate::merge_operation(&mut page.operations, op);
    }
    Ok(())
}

/// Is `html` a saved HTTP redirect rather than a page: a small document
/// titled `301 Moved Permanently` (or 302/307/308), or one whose only
/// content is a `<meta http-equiv="refresh">`? Returns where it points, if
/// it says. A crawl follows such redirects; a saved folder can hold the
/// stub itself, which is skipped with a note.
pub fn redirect_stub(html: &str) -> Option<String> {
    if html.len() > 8 * 1024 {
        return None;
    }
    let lower = html.to_ascii_lowercase();
    let titled = [
        "301 moved",
        "302 found",
        "307 temporary",
        "308 permanent",
        "moved permanently",
    ]
    .iter()
    .any(|t| lower.contains(t));
    let refresh = lower.contains("http-equiv=\"refresh\"") || lower.contains("http-equiv=refresh");
    if !(titled || refresh) || lower.contains("service prefix") {
        return None;
    }
    // The target: the refresh's `url=`, else the first link.
    let target = lower
        .find("url=")
        .map(|i| i + 4)
        .or_else(|| lower.find("href=").map(|i| i + 5))
        .map(|i| {
            html[i..]
                .trim_start_matches(['"', '\''])
                .chars()
                .take_while(|c| !matches!(c, '"' | '\'' | '>' | ' ') && !c.is_control())
                .take(200)
                .collect::<String>()
        })
        .filter(|t| !t.is_empty());
    Some(target.unwrap_or_else(|| "an unnamed location".to_string()))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Collapsing on the fly equals collapsing the joined text.
    #[test]
    fn text_buf_collapses_like_collapse() {
        let pieces: &[&[&str]] = &[
            &["  a  b ", "c", " d\n\t", "", "   ", "e"],
            &["Get", "Object", " [permission only]"],
            &["\n  arn:$\n ", "{", "\n Partition}:s3"],
            &["", " ", ""],
            &["x\u{a0}y", "\u{2003}z"],
        ];
        for p in pieces {
            let mut b = TextBuf::default();
            for t in *p {
                b.push(t);
            }
            assert_eq!(b.take(), collapse(&p.concat()), "{p:?}");
        }
        let mut b = TextBuf::default();
        b.push("a");
        b.space();
        b.push("b");
        b.space();
        assert_eq!(b.take(), "a b");
        b.space();
        b.push("c");
        assert_eq!(b.take(), "c");
    }

    #[test]
    fn scenario_rows_need_the_colon() {
        let cell = |t: &str| Cell {
            text: t.into(),
            ..Cell::default()
        };
        assert_eq!(
            scenario_name(&cell("SCENARIO: EC2-VPC-EBS")).as_deref(),
            Some("EC2-VPC-EBS")
        );
        assert_eq!(
            scenario_name(&cell("Scenario : Fargate")).as_deref(),
            Some("Fargate")
        );
        assert_eq!(scenario_name(&cell("Scenario-based testing")), None);
        assert_eq!(scenario_name(&cell("Sc")), None);
        assert_eq!(scenario_name(&cell("ScénarioX")), None);
    }

    #[test]
    fn service_names_keep_dashes_and_drop_only_the_title_suffix() {
        let outline = |h1: &[&str], titles: &[&str]| Outline {
            h1: h1.iter().map(|s| s.to_string()).collect(),
            titles: titles.iter().map(|s| s.to_string()).collect(),
            ..Outline::default()
        };
        let lead = "Actions, resources, and condition keys for ";
        assert_eq!(
            service_name(&outline(
                &[&format!("{lead}AWS Service - Oracle Database@AWS")],
                &[]
            ))
            .as_deref(),
            Some("AWS Service - Oracle Database@AWS")
        );
        // From the <title>: only its site suffix goes.
        assert_eq!(
            service_name(&outline(
                &[],
                &[&format!("{lead}Amazon Simple Email Service - Mail Manager - Service Authorization Reference")]
            ))
            .as_deref(),
            Some("Amazon Simple Email Service - Mail Manager")
        );
        assert_eq!(
            service_name(&outline(
                &[],
                &[&format!(
                    "{lead}Amazon S3 - Service Authorization Reference"
                )]
            ))
            .as_deref(),
            Some("Amazon S3")
        );
    }
}
