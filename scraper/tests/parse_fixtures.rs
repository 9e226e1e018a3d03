//! The parser on hand-written fixture pages (`tests/fixtures/`, constructed
//! for these tests) covering both page layouts, a retired stub and broken
//! pages, plus inputs meant to break it.

use iamref_dataset::model::*;
use iamref_scraper::parse::{parse_page, ParseError};

fn fixture(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn parse(name: &str, file: &str) -> Page {
    parse_page(file, &fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn parse_err(name: &str, file: &str) -> Warning {
    match parse_page(file, &fixture(name)) {
        Ok(p) => panic!(
            "{name}: expected an error, got a page with {} actions",
            p.actions.len()
        ),
        Err(ParseError(w)) => w,
    }
}

fn action<'a>(p: &'a Page, name: &str) -> &'a Action {
    p.actions
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("{}: no action {name}", p.file))
}

/// (name, required, keys) of an action's resource types.
fn rts(a: &Action) -> Vec<(&str, bool, Vec<&str>)> {
    a.resource_types
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.required,
                r.condition_keys.iter().map(|k| k.name.as_str()).collect(),
            )
        })
        .collect()
}

fn keys(a: &Action) -> Vec<&str> {
    a.condition_keys.iter().map(|k| k.name.as_str()).collect()
}

fn scenario(a: &Action, name: &str) -> Vec<(String, bool)> {
    a.scenarios
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{}: no scenario {name}", a.name))
        .resource_types
        .iter()
        .map(|r| (r.name.clone(), r.required))
        .collect()
}

fn names(p: &Page) -> Vec<&str> {
    let mut v: Vec<&str> = p.actions.iter().map(|a| a.name.as_str()).collect();
    v.sort();
    v
}

/// What both layouts of the same service must agree on.
fn assert_same_service_content(p: &Page) {
    assert_eq!(p.prefix, "exs");
    assert_eq!(p.service_name, "Amazon Example Storage");
    assert_eq!(
        names(p),
        [
            "AbortUpload",
            "CreateBucket",
            "GetObject",
            "ListAllBuckets",
            "ReplicateObject",
            "RunTask",
            "TagResource"
        ]
    );

    let abort = action(p, "AbortUpload");
    assert_eq!(abort.access_level.as_deref(), Some("Write"));
    assert_eq!(
        abort.description.as_deref(),
        Some("Grants permission to abort a multipart upload")
    );
    assert_eq!(
        rts(abort),
        [
            ("accesspointobject", false, vec![]),
            ("object", true, vec![])
        ]
    );
    assert_eq!(keys(abort), ["exs:AuthType", "exs:TlsVersion"]);
    assert!(!abort.permission_only);

    let create = action(p, "CreateBucket");
    assert_eq!(
        rts(create),
        [(
            "bucket",
            true,
            vec!["aws:RequestTag/${TagKey}", "aws:TagKeys"]
        )]
    );
    assert_eq!(keys(create), ["exs:LocationConstraint"]);

    let get = action(p, "GetObject");
    assert_eq!(get.access_level.as_deref(), Some("Read"));
    assert_eq!(
        rts(get),
        [("object", true, vec!["exs:ExistingObjectTag/${TagKey}"])]
    );
    assert_eq!(keys(get), ["exs:AuthType", "exs:TlsVersion"]);

    let list = action(p, "ListAllBuckets");
    assert_eq!(list.access_level.as_deref(), Some("List"));
    assert!(list.resource_types.is_empty(), "{:?}", list.resource_types);
    assert!(!list.resource_level());
    assert_eq!(keys(list), ["exs:TlsVersion"]);

    let repl = action(p, "ReplicateObject");
    assert!(repl.permission_only);
    assert_eq!(repl.access_level.as_deref(), Some("Write"));
    assert_eq!(rts(repl), [("object", true, vec![])]);
    assert_eq!(
        repl.doc_url.as_deref(),
        Some("https://docs.example.test/guide/replication.html")
    );

    let run = action(p, "RunTask");
    assert_eq!(run.access_level.as_deref(), Some("Write"));
    assert_eq!(
        run.description.as_deref(),
        Some("Grants permission to start a task from a task definition")
    );
    assert_eq!(
        rts(run),
        [
            ("task-definition", true, vec!["aws:ResourceTag/${TagKey}"]),
            ("cluster", false, vec![])
        ]
    );
    assert_eq!(keys(run), ["exs:Region"]);
    assert_eq!(run.scenarios.len(), 2);
    assert_eq!(
        scenario(run, "Fargate"),
        [
            ("task-definition".to_string(), true),
            ("cluster".to_string(), true),
            ("subnet".to_string(), false)
        ]
    );
    assert_eq!(
        scenario(run, "OnDemand"),
        [
            ("task-definition".to_string(), true),
            ("capacity-provider".to_string(), false)
        ]
    );

    let tag = action(p, "TagResource");
    assert_eq!(tag.access_level.as_deref(), Some("Tagging"));
    assert_eq!(
        rts(tag),
        [("bucket", false, vec![]), ("object", false, vec![])]
    );
    assert_eq!(keys(tag), ["aws:RequestTag/${TagKey}", "aws:TagKeys"]);

    // Resource types: ARN text broken by <span> and whitespace is joined.
    let rt = |n: &str| {
        p.resource_types
            .iter()
            .find(|r| r.name == n)
            .unwrap_or_else(|| panic!("no resource type {n}"))
    };
    let arns = |n: &str| -> Vec<String> { rt(n).arns.iter().map(|a| a.arn.clone()).collect() };
    assert_eq!(p.resource_types.len(), 7);
    assert_eq!(arns("bucket"), ["arn:${Partition}:exs:::${BucketName}"]);
    assert_eq!(
        arns("object"),
        ["arn:${Partition}:exs:::${BucketName}/${ObjectName}"]
    );
    assert_eq!(
        arns("cluster"),
        [
            "arn:${Partition}:exs:${Region}:${Account}:cluster/${ClusterName}",
            "arn:${Partition}:exs:${Region}:${Account}:cluster/${ClusterName}/${ClusterId}"
        ]
    );
    assert_eq!(
        arns("task-definition"),
        ["arn:${Partition}:exs:${Region}:${Account}:task-definition/${TaskDefinitionFamilyName}:${TaskDefinitionRevisionNumber}"]
    );
    assert_eq!(
        rt("bucket")
            .condition_keys
            .iter()
            .map(|k| k.name.as_str())
            .collect::<Vec<_>>(),
        ["aws:ResourceTag/${TagKey}"]
    );
    assert!(rt("object").condition_keys.is_empty());
    assert_eq!(
        rt("bucket").doc_url.as_deref(),
        Some("https://docs.example.test/guide/buckets.html")
    );

    // Condition keys.
    let k: Vec<(&str, Option<&str>)> = p
        .condition_keys
        .iter()
        .map(|k| (k.name.as_str(), k.r#type.as_deref()))
        .collect();
    assert_eq!(
        k,
        [
            ("aws:RequestTag/${TagKey}", Some("String")),
            ("aws:ResourceTag/${TagKey}", Some("String")),
            ("aws:TagKeys", Some("ArrayOfString")),
            ("exs:AuthType", Some("String")),
            ("exs:ExistingObjectTag/${TagKey}", Some("String")),
            ("exs:LocationConstraint", Some("String")),
            ("exs:Region", Some("String")),
            ("exs:TlsVersion", Some("Numeric")),
        ]
    );
    assert_eq!(
        p.condition_keys[2].description.as_deref(),
        Some("Filters access by the tag keys that are passed in the request")
    );
}

#[test]
fn classic_layout() {
    let p = parse("classic.html", "list_amazonexamplestorage.html");
    assert_eq!(p.layout, Layout::Classic);
    assert_eq!(p.file, "list_amazonexamplestorage.html");
    assert_eq!(
        p.url.as_deref(),
        Some("https://docs.example.test/reference/list_amazonexamplestorage.html")
    );
    assert_eq!(p.sha256.len(), 64);
    assert!(p.operations.is_empty());
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_same_service_content(&p);

    // Dependent actions exist only in the classic layout: per resource-type
    // row, and on the row without a resource type for the action itself.
    let create = action(&p, "CreateBucket");
    assert_eq!(
        create.resource_types[0].dependent_actions,
        ["exs:PutBucketTagging"]
    );
    assert_eq!(create.dependent_actions, ["exs:PutBucketAcl"]);
    let run = action(&p, "RunTask");
    assert_eq!(
        run.resource_types[0].dependent_actions,
        ["exs:TagResource", "iam:PassRole"]
    );
    assert!(run.resource_types[1].dependent_actions.is_empty());
    assert_eq!(
        action(&p, "AbortUpload").doc_url.as_deref(),
        Some("https://docs.example.test/api/API_AbortUpload.html")
    );
}

#[test]
fn live_2026_layout() {
    let p = parse("live2026.html", "list_exs.html");
    assert_eq!(p.layout, Layout::Live2026);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_same_service_content(&p);
    assert!(p.actions.iter().all(|a| a.dependent_actions.is_empty()
        && a.resource_types
            .iter()
            .all(|r| r.dependent_actions.is_empty())));
    // Only the permission-only table's action is permission-only.
    let po: Vec<&str> = p
        .actions
        .iter()
        .filter(|a| a.permission_only)
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(po, ["ReplicateObject"]);
}

#[test]
fn live_2026_operations() {
    let p = parse("live2026.html", "list_exs.html");
    let ops: Vec<&str> = p.operations.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        ops,
        [
            "AbortUpload",
            "CopyObject",
            "CreateBucket",
            "PutBucketPolicy"
        ]
    );
    let op = |n: &str| p.operations.iter().find(|o| o.name == n).unwrap();
    let acts = |n: &str| -> Vec<(String, String, Option<String>, Vec<String>)> {
        op(n)
            .actions
            .iter()
            .map(|a| {
                (
                    a.service.clone(),
                    a.action.clone(),
                    a.access_level.clone(),
                    a.condition_keys.clone(),
                )
            })
            .collect()
    };
    let s = |x: &str| x.to_string();
    assert_eq!(
        acts("CopyObject"),
        [
            (
                s("exs"),
                s("GetObject"),
                Some(s("Read")),
                vec![s("exs:TlsVersion"), s("exs:AuthType")]
            ),
            (s("exs"), s("PutObject"), Some(s("Write")), vec![]),
            // An IAM action of another service.
            (
                s("exs-object-lambda"),
                s("PutObject"),
                Some(s("Write")),
                vec![]
            ),
        ]
    );
    assert_eq!(
        acts("CreateBucket"),
        [
            (
                s("exs"),
                s("CreateBucket"),
                Some(s("Write")),
                vec![s("aws:RequestTag/${TagKey}"), s("aws:TagKeys")]
            ),
            (s("exs"), s("PutBucketTagging"), Some(s("Tagging")), vec![]),
        ]
    );
    assert_eq!(
        acts("PutBucketPolicy"),
        [(
            s("exs"),
            s("PutBucketPolicy"),
            Some(s("Permissions management, Write")),
            vec![]
        )]
    );
    assert!(p.operations.iter().all(|o| o.sdk.is_empty()));
}

#[test]
fn live_2026_sdk_column_and_other_column_order() {
    let p = parse("live2026_sdk.html", "list_exq.html");
    assert_eq!(p.layout, Layout::Live2026);
    assert_eq!(p.prefix, "exq");
    assert_eq!(p.service_name, "Amazon Example Queue");
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert!(p.resource_types.is_empty());
    assert_eq!(names(&p), ["ListQueues", "SendMessage"]);
    let send = action(&p, "SendMessage");
    assert_eq!(send.access_level.as_deref(), Some("Write"));
    assert_eq!(
        send.description.as_deref(),
        Some("Grants permission to send a message")
    );
    assert!(send.resource_types.is_empty());
    assert_eq!(keys(send), ["exq:Encrypted", "exq:MessageGroup"]);
    assert_eq!(
        action(&p, "ListQueues").access_level.as_deref(),
        Some("List")
    );

    assert_eq!(p.operations.len(), 2);
    let send_op = &p.operations[0];
    assert_eq!(send_op.name, "SendMessage");
    assert_eq!(
        send_op.sdk,
        [SdkMethod {
            package: "AWS SDK".into(),
            client: "ExampleQueueClient".into(),
            method: "SendMessage".into()
        }]
    );
    let a: Vec<(&str, &str, Option<&str>, Vec<&str>)> = send_op
        .actions
        .iter()
        .map(|a| {
            (
                a.service.as_str(),
                a.action.as_str(),
                a.access_level.as_deref(),
                a.condition_keys.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    // The second row has an empty IAM action cell: its key belongs to the
    // action above.
    assert_eq!(
        a,
        [
            (
                "exq",
                "SendMessage",
                Some("Write"),
                vec!["exq:MessageGroup", "exq:Encrypted"]
            ),
            ("kms", "GenerateDataKey", Some("Write"), vec![]),
        ]
    );
    assert_eq!(p.operations[1].name, "ListQueues");
    assert_eq!(
        p.operations[1].actions[0].access_level.as_deref(),
        Some("List")
    );
}

/// The same service written in both layouts gives the same actions,
/// resource types and condition keys (dependent actions, documentation
/// links and where the permission-only marker came from aside).
#[test]
fn both_layouts_agree() {
    let classic = parse("classic.html", "list_amazonexamplestorage.html");
    let live = parse("live2026.html", "list_exs.html");
    let norm = |p: &Page| {
        let mut actions: Vec<Action> = p
            .actions
            .iter()
            .cloned()
            .map(|mut a| {
                a.dependent_actions.clear();
                a.doc_url = None;
                for r in a.resource_types.iter_mut().chain(
                    a.scenarios
                        .iter_mut()
                        .flat_map(|s| s.resource_types.iter_mut()),
                ) {
                    r.dependent_actions.clear();
                }
                a
            })
            .collect();
        actions.sort_by(|a, b| a.name.cmp(&b.name));
        let rts: Vec<(String, Vec<ArnFormat>, Vec<KeyRef>)> = p
            .resource_types
            .iter()
            .map(|r| (r.name.clone(), r.arns.clone(), r.condition_keys.clone()))
            .collect();
        let keys: Vec<(String, Option<String>, Option<String>)> = p
            .condition_keys
            .iter()
            .map(|k| (k.name.clone(), k.description.clone(), k.r#type.clone()))
            .collect();
        (actions, rts, keys)
    };
    let (ca, cr, ck) = norm(&classic);
    let (la, lr, lk) = norm(&live);
    assert_eq!(ca.len(), 7);
    for (c, l) in ca.iter().zip(&la) {
        assert_eq!(c, l);
    }
    assert_eq!(ca, la);
    assert_eq!(cr, lr);
    assert_eq!(ck, lk);
}

#[test]
fn retired_stub_is_an_empty_page_with_a_warning() {
    let p = parse("retired_stub.html", "list_amazonexamplelegacy.html");
    assert_eq!(p.prefix, "exlegacy");
    assert_eq!(p.service_name, "Amazon Example Legacy");
    assert!(p.actions.is_empty() && p.resource_types.is_empty() && p.condition_keys.is_empty());
    assert_eq!(p.warnings.len(), 1);
    assert_eq!(p.warnings[0].page, "list_amazonexamplelegacy.html");
    assert!(
        p.warnings[0].message.contains("no tables"),
        "{}",
        p.warnings[0]
    );
    // The pipeline takes no service from it.
    let a = iamref_scraper::pipeline::assemble(vec![p], "test", None);
    assert!(a.services.is_empty());
    assert_eq!(a.warnings.len(), 1);
}

#[test]
fn page_without_prefix_sentence_is_an_error() {
    let w = parse_err("broken_no_prefix.html", "list_amazonexamplebroken.html");
    assert_eq!(w.page, "list_amazonexamplebroken.html");
    assert!(w.message.contains("no service prefix"), "{w}");
}

#[test]
fn actions_table_without_access_level_is_an_error() {
    let w = parse_err("broken_no_access_level.html", "list_b.html");
    assert_eq!(w.page, "list_b.html");
    assert_eq!(w.table.as_deref(), Some("actions"));
    assert!(w.message.contains("\"Access level\""), "{w}");
}

#[test]
fn unreadable_action_name_is_an_error_naming_the_row() {
    let w = parse_err("broken_unreadable_name.html", "list_b.html");
    assert_eq!(
        (w.page.as_str(), w.table.as_deref(), w.row),
        ("list_b.html", Some("actions"), Some(3))
    );
    assert!(w.message.contains("cannot read an action name"), "{w}");
    assert_eq!(
        w.to_string(),
        format!("list_b.html, actions table, row 3: {}", w.message)
    );
}

#[test]
fn unknown_extra_column_is_a_warning_and_ignored() {
    let p = parse("broken_extra_column.html", "list_b.html");
    assert_eq!(p.actions.len(), 1);
    let a = &p.actions[0];
    assert_eq!(a.name, "GetThing");
    assert_eq!(
        a.description.as_deref(),
        Some("Grants permission to get a thing")
    );
    assert_eq!(a.access_level.as_deref(), Some("Read"));
    assert_eq!(rts(a), [("thing", true, vec![])]);
    assert_eq!(keys(a), ["aws:RequestTag/${TagKey}"]);
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    let w = &p.warnings[0];
    assert_eq!(w.page, "list_b.html");
    assert_eq!(w.table.as_deref(), Some("actions"));
    assert!(w.message.contains("unknown column \"notes\""), "{w}");
}

#[test]
fn table_under_unknown_heading_is_a_warning_and_skipped() {
    let p = parse("broken_unknown_heading.html", "list_b.html");
    assert_eq!(names(&p), ["GetThing"]);
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    let w = &p.warnings[0];
    assert_eq!(w.page, "list_b.html");
    assert_eq!(
        w.table.as_deref(),
        Some("Related topics for Amazon Example Broken")
    );
    assert!(w.message.contains("unrecognized table"), "{w}");
    assert!(w.message.contains("topic | link"), "{w}");
}

#[test]
fn actions_heading_with_unrecognized_headers_is_an_error() {
    let w = parse_err("broken_actions_headers.html", "list_b.html");
    assert_eq!(w.page, "list_b.html");
    assert_eq!(w.table.as_deref(), Some("actions"));
    assert!(w.message.contains("unknown column \"name\""), "{w}");
    assert!(w.message.contains("renamed column?"), "{w}");
    assert!(w.message.contains("name | summary | category"), "{w}");
}

// ---------------------------------------------------------------------------
// Robustness: no input may panic; unreadable pages are errors naming the page.
// ---------------------------------------------------------------------------

const PREFIX_P: &str = "<h1>Actions, resources, and condition keys for Amazon Example Broken</h1>\
<p>Amazon Example Broken (service prefix: <code>exb</code>) provides ...</p>";

/// The resource types the snippets' actions name (`thing`, `other`).
const RT_TABLE: &str = "<h2>Resource types defined by Amazon Example Broken</h2><table><thead><tr>\
<th>Resource types</th><th>ARN</th><th>Condition keys</th></tr></thead>\
<tr><td>thing</td><td><code>arn:${Partition}:exb:::thing/${Id}</code></td><td></td></tr>\
<tr><td>other</td><td><code>arn:${Partition}:exb:::other/${Id}</code></td><td></td></tr></table>";

const ACTIONS_HEAD: &str = "<h2>Actions defined by Amazon Example Broken</h2><table><thead><tr>\
<th>Actions</th><th>Description</th><th>Access level</th><th>Resource types (*required)</th>\
<th>Condition keys</th><th>Dependent actions</th></tr></thead>";

#[test]
fn truncated_pages_never_panic() {
    for name in ["classic.html", "live2026.html", "live2026_sdk.html"] {
        let html = fixture(name);
        let mut cut = 0;
        while cut < html.len() {
            if html.is_char_boundary(cut) {
                // Ok or Err, both fine; an Err must name the page.
                if let Err(ParseError(w)) = parse_page("list_t.html", &html[..cut]) {
                    assert_eq!(w.page, "list_t.html");
                }
            }
            cut += 97;
        }
    }
}

#[test]
fn empty_and_garbage_input_are_errors() {
    for input in [
        String::new(),
        " ".into(),
        "<html></html>".into(),
        "\u{0}\u{1}\u{fffd}<<<>>>&&&;;".into(),
        (0..20_000u32)
            .map(|i| char::from_u32((i * 7919) % 0x2_0000).unwrap_or('x'))
            .collect(),
    ] {
        let w = parse_page("list_g.html", &input).unwrap_err().0;
        assert_eq!(w.page, "list_g.html");
        assert!(w.message.contains("no service prefix"), "{w}");
    }
}

#[test]
fn deeply_nested_markup_does_not_overflow_the_stack() {
    // html5ever itself is quadratic in <div> depth inside a cell; keep that
    // one smaller so the test stays quick.
    for (tag, depth) in [
        ("div", 5_000),
        ("span", 50_000),
        ("table", 50_000),
        ("p", 50_000),
    ] {
        let mut s = String::from(PREFIX_P);
        s.push_str(ACTIONS_HEAD);
        s.push_str("<tr><td>GetThing</td><td>");
        for _ in 0..depth {
            s.push_str(&format!("<{tag}>"));
        }
        s.push_str("deep");
        s.push_str("</td><td>Read</td><td></td><td></td><td></td></tr></table>");
        let r = parse_page("list_deep.html", &s);
        // The nesting ends up in the description cell (or breaks the table
        // apart); either way the page parses or fails cleanly.
        match r {
            Ok(p) => assert!(p.actions.len() <= 1),
            Err(ParseError(w)) => assert_eq!(w.page, "list_deep.html"),
        }
    }
}

#[test]
fn huge_rowspans_and_colspans_are_bounded() {
    let mut s = String::from(PREFIX_P);
    s.push_str(ACTIONS_HEAD);
    s.push_str(
        "<tr><td rowspan=\"4294967296000\">GetThing</td><td rowspan=\"99999999\">Gets</td>\
         <td rowspan=\"-3\">Read</td><td><p>thing*</p></td><td colspan=\"99999999\"></td></tr>",
    );
    for _ in 0..200 {
        s.push_str("<tr><td colspan=\"1000\"></td><td colspan=\"1000\"></td></tr>");
    }
    s.push_str("</table>");
    s.push_str(RT_TABLE);
    let p = parse_page("list_span.html", &s).unwrap();
    assert_eq!(names(&p), ["GetThing"]);
    let a = &p.actions[0];
    assert_eq!(a.access_level.as_deref(), Some("Read"));
    assert_eq!(rts(a), [("thing", true, vec![])]);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.message.contains("beyond column")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn actions_heading_without_a_table_is_an_error() {
    let s = format!(
        "{PREFIX_P}<h2>Actions defined by Amazon Example Broken</h2><p>See the new page.</p>\
         <h2>Condition keys for Amazon Example Broken</h2><p>No service-specific keys.</p>"
    );
    let w = parse_page("list_x.html", &s).unwrap_err().0;
    assert_eq!(w.page, "list_x.html");
    assert_eq!(w.table.as_deref(), Some("actions"));
    assert!(w.message.contains("not followed by a table"), "{w}");
}

#[test]
fn resource_and_key_sections_may_have_no_table() {
    // Real pages say "X does not support specifying a resource ARN" or
    // "X has no service-specific context keys" instead of a table.
    let s = format!(
        "{PREFIX_P}{ACTIONS_HEAD}<tr><td>ListThings</td><td>Lists</td><td>List</td><td></td>\
         <td></td><td></td></tr></table>\
         <h2>Resource types defined by Amazon Example Broken</h2><p>Does not support ARNs.</p>\
         <h2>Condition keys for Amazon Example Broken</h2><p>No service-specific keys.</p>"
    );
    let p = parse_page("list_x.html", &s).unwrap();
    assert_eq!(names(&p), ["ListThings"]);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn page_whose_tables_are_all_unrecognized_is_an_error() {
    // What a layout change looks like: headings and header cells renamed.
    let s = format!(
        "{PREFIX_P}<h2>Permissions for Amazon Example Broken</h2><table><thead><tr>\
         <th>Permission</th><th>What it does</th><th>Level</th></tr></thead>\
         <tr><td>GetThing</td><td>Gets a thing</td><td>Read</td></tr></table>"
    );
    let w = parse_page("list_x.html", &s).unwrap_err().0;
    assert_eq!(w.page, "list_x.html");
    assert!(w.message.contains("no actions read"), "{w}");
}

#[test]
fn table_under_unknown_heading_with_actions_headers_is_read_with_a_warning() {
    let s = format!(
        "{PREFIX_P}<h2>Actions for Amazon Example Broken</h2><table><thead><tr>\
         <th>Actions</th><th>Description</th><th>Resource types (*required)</th>\
         <th>Condition keys</th><th>Access level</th></tr></thead>\
         <tr><td>GetThing</td><td>Gets a thing</td><td><p>thing*</p></td><td></td><td>Read</td></tr>\
         </table>{RT_TABLE}"
    );
    let p = parse_page("list_x.html", &s).unwrap();
    assert_eq!(names(&p), ["GetThing"]);
    assert_eq!(p.layout, Layout::Live2026);
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert_eq!(
        p.warnings[0].table.as_deref(),
        Some("Actions for Amazon Example Broken")
    );
    assert!(
        p.warnings[0].message.contains("as the actions table"),
        "{}",
        p.warnings[0]
    );
}

#[test]
fn bad_names_and_rows_are_errors_naming_table_and_row() {
    // An action name with spaces / punctuation is not an action name.
    let s = format!(
        "{PREFIX_P}{ACTIONS_HEAD}<tr><td>GetThing</td><td>Gets</td><td>Read</td><td></td><td></td><td></td></tr>\
         <tr><td>Get the thing!</td><td>Gets</td><td>Read</td><td></td><td></td><td></td></tr></table>"
    );
    let w = parse_page("list_x.html", &s).unwrap_err().0;
    assert_eq!(
        (w.page.as_str(), w.table.as_deref(), w.row),
        ("list_x.html", Some("actions"), Some(2))
    );
    // A row with no cell in the name column at all.
    let s = format!(
        "{PREFIX_P}{ACTIONS_HEAD}<tr><td>GetThing</td><td>Gets</td><td>Read</td><td></td><td></td><td></td></tr>\
         <tr></tr></table>"
    );
    let w = parse_page("list_x.html", &s).unwrap_err().0;
    assert_eq!((w.table.as_deref(), w.row), (Some("actions"), Some(2)));
    assert!(w.message.contains("no action name cell"), "{w}");
    // Operations: a row that only continues is fine, an empty operation
    // name is not.
    let s = format!(
        "{PREFIX_P}<h2>API operations defined by Amazon Example Broken</h2><table><thead><tr>\
         <th>Operation</th><th>IAM action</th><th>Access level</th></tr></thead>\
         <tr><td>GetThing</td><td>exb:GetThing</td><td>Read</td></tr>\
         <tr><td> </td><td>exb:Other</td><td>Read</td></tr></table>"
    );
    let w = parse_page("list_x.html", &s).unwrap_err().0;
    assert_eq!(
        (w.table.as_deref(), w.row),
        (Some("API operations"), Some(2))
    );
}

#[test]
fn action_cell_with_own_prefix_and_markup_inside_name() {
    let s = format!(
        "{PREFIX_P}{ACTIONS_HEAD}<tr><td><a href=\"#x\">exb:Get<b>Thing</b></a> [Permission Only]</td>\
         <td>Gets</td><td>Read</td><td><a href=\"#t\">thing*</a><br/><a href=\"#u\">other</a></td>\
         <td></td><td></td></tr></table>{RT_TABLE}"
    );
    let p = parse_page("list_x.html", &s).unwrap();
    let a = &p.actions[0];
    assert_eq!(a.name, "GetThing");
    assert!(a.permission_only);
    // Two resource types on one row, separated by <br> rather than <p>.
    assert_eq!(rts(a), [("thing", true, vec![]), ("other", false, vec![])]);
}

#[test]
fn nested_table_in_a_cell_is_not_a_page_table() {
    let s = format!(
        "{PREFIX_P}{ACTIONS_HEAD}<tr><td>GetThing</td><td>Gets<table><tr><th>Actions</th>\
         <th>Access level</th></tr><tr><td>Bogus</td><td>Write</td></tr></table></td><td>Read</td>\
         <td></td><td></td><td></td></tr></table>"
    );
    let p = parse_page("list_x.html", &s).unwrap();
    assert_eq!(names(&p), ["GetThing"]);
    assert_eq!(p.actions[0].access_level.as_deref(), Some("Read"));
}

#[test]
fn toc_lists_service_pages_once() {
    let toc = "<ul><li><a href=\"./list_amazons3.html\">S3</a></li>\
               <li><a href=\"list_amazonec2.html#x\">EC2</a></li>\
               <li><a href=\"https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html\">again</a></li>\
               <li><a href=\"reference_policies_actions-resources-contextkeys.html\">toc</a></li></ul>";
    assert_eq!(
        iamref_scraper::parse_toc(toc),
        ["list_amazons3.html", "list_amazonec2.html"]
    );
}

#[test]
fn pipeline_refuses_a_directory_with_a_broken_page() {
    use iamref_scraper::pipeline;
    let dir = tempfile::tempdir().unwrap();
    let put = |file: &str, fixture_name: &str| {
        std::fs::write(dir.path().join(file), fixture(fixture_name)).unwrap()
    };
    put("list_amazonexamplestorage.html", "classic.html");
    put("list_exq.html", "live2026_sdk.html");
    put("list_amazonexamplelegacy.html", "retired_stub.html");
    let pages = pipeline::read_pages_dir(dir.path()).unwrap();
    assert_eq!(pages.len(), 3);
    let parsed = pipeline::collect_pages(pipeline::parse_all(&pages, &|| {})).unwrap();
    let a = pipeline::assemble(parsed, "fixtures", None);
    let prefixes: Vec<&str> = a.services.iter().map(|s| s.prefix.as_str()).collect();
    assert_eq!(prefixes, ["exq", "exs"]);
    // The stub's hash is recorded, but it is no service's page.
    assert_eq!(a.manifest.pages.len(), 3);
    assert_eq!(a.manifest.counts.pages, 2);
    assert_eq!(a.manifest.counts.actions, 9);
    // Only the stub's warning: every resource type named is defined.
    assert_eq!(a.warnings.len(), 1, "{:#?}", a.warnings);
    assert_eq!(a.warnings[0].page, "list_amazonexamplelegacy.html");

    put(
        "list_amazonexamplebroken.html",
        "broken_unreadable_name.html",
    );
    put("list_zz.html", "broken_no_prefix.html");
    let pages = pipeline::read_pages_dir(dir.path()).unwrap();
    let err = pipeline::collect_pages(pipeline::parse_all(&pages, &|| {})).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("2 page(s) could not be parsed"), "{msg}");
    assert!(
        msg.contains(
            "list_amazonexamplebroken.html, actions table, row 3: cannot read an action name"
        ),
        "{msg}"
    );
    assert!(msg.contains("list_zz.html: no service prefix"), "{msg}");
}

#[test]
fn pipeline_merges_both_layouts_of_one_prefix() {
    let classic = parse("classic.html", "list_amazonexamplestorage.html");
    let live = parse("live2026.html", "list_exs.html");
    let a = iamref_scraper::pipeline::assemble(vec![live, classic], "fixtures", None);
    assert_eq!(a.services.len(), 1);
    let s = &a.services[0];
    let layouts: Vec<(&str, Layout)> = s
        .pages
        .iter()
        .map(|p| (p.file.as_str(), p.layout))
        .collect();
    assert_eq!(
        layouts,
        [
            ("list_amazonexamplestorage.html", Layout::Classic),
            ("list_exs.html", Layout::Live2026)
        ]
    );
    assert_eq!(s.actions.len(), 7);
    assert!(s.actions.iter().all(|a| a.pages.len() == 2));
    assert_eq!(s.operations.len(), 4);
    assert!(a.warnings.is_empty(), "{:#?}", a.warnings);
}

#[test]
fn resource_type_spanning_rows_and_name_from_prefix_sentence() {
    // No "Actions, resources, and condition keys for" title: the service
    // name comes from the prefix sentence. A resource type whose name cell
    // spans two rows, one ARN format per row.
    let s = "<h1>Amazon Example Span</h1>\
        <p>Amazon Example Span (service prefix: <code>exsp</code>) provides ...</p>\
        <h2>Actions defined by Amazon Example Span</h2><table><thead><tr><th>Actions</th>\
        <th>Description</th><th>Resource types (*required)</th><th>Condition keys</th>\
        <th>Access level</th></tr></thead><tr><td>GetWidget</td><td>Gets</td>\
        <td><p>widget*</p></td><td></td><td>Read</td></tr></table>\
        <h2>Resource types defined by Amazon Example Span</h2><table><thead><tr>\
        <th>Resource types</th><th>ARN</th><th>Condition keys</th></tr></thead>\
        <tr><td rowspan=\"2\"><a href=\"#w\">widget</a></td><td><code>arn:${Partition}:exsp:::widget/${Id}</code></td>\
        <td rowspan=\"2\"><p>aws:ResourceTag/${TagKey}</p></td></tr>\
        <tr><td><code>arn:${Partition}:exsp:::widget/${Group}/${Id}</code></td></tr></table>\
        <h2>Condition keys for Amazon Example Span</h2><table><thead><tr><th>Condition keys</th>\
        <th>Description</th><th>Type</th></tr></thead><tr><td>aws:ResourceTag/${TagKey}</td>\
        <td>Filters by tag</td><td>String</td></tr></table>";
    let p = parse_page("list_exsp.html", s).unwrap();
    assert_eq!(p.service_name, "Amazon Example Span");
    assert_eq!(p.layout, Layout::Live2026);
    assert_eq!(p.resource_types.len(), 1);
    let arns: Vec<&str> = p.resource_types[0]
        .arns
        .iter()
        .map(|a| a.arn.as_str())
        .collect();
    assert_eq!(
        arns,
        [
            "arn:${Partition}:exsp:::widget/${Id}",
            "arn:${Partition}:exsp:::widget/${Group}/${Id}"
        ]
    );
    assert_eq!(p.resource_types[0].condition_keys.len(), 1);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn operations_with_several_actions_in_a_cell_and_unreadable_ones() {
    let s = format!(
        "{PREFIX_P}<h2>API operations defined by Amazon Example Broken</h2><table><thead><tr>\
         <th>Operation</th><th>IAM action</th><th>Access level</th></tr></thead>\
         <tr><td>CopyThing</td><td><p>exb:GetThing</p><p>kms:Decrypt</p></td><td>Read</td></tr>\
         <tr><td>Odd</td><td>exb:Get Thing!</td><td>Read</td></tr></table>\
         {ACTIONS_HEAD}<tr><td>GetThing</td><td>Gets</td><td>Read</td><td></td><td></td><td></td></tr></table>"
    );
    let p = parse_page("list_x.html", &s).unwrap();
    let a: Vec<(&str, &str)> = p.operations[0]
        .actions
        .iter()
        .map(|a| (a.service.as_str(), a.action.as_str()))
        .collect();
    assert_eq!(a, [("exb", "GetThing"), ("kms", "Decrypt")]);
    assert!(p.operations[1].actions.is_empty());
    let w = p
        .warnings
        .iter()
        .find(|w| w.message.contains("cannot read an IAM action"))
        .unwrap();
    assert_eq!(
        (w.table.as_deref(), w.row),
        (Some("API operations"), Some(2))
    );
}
