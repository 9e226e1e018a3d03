//! A page that is incomplete is an error, never a smaller page: cut short,
//! a known column renamed, a section its contents list announces missing, a
//! heading without its table, actions naming resource types the page never
//! defines. On the constructed fixture `tests/fixtures/classic.html`.

use iamref_scraper::parse::parse_page;

fn classic() -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/classic.html");
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn the_fixture_is_complete() {
    let p = parse_page("list_c.html", &classic()).unwrap();
    assert!(p.actions.len() >= 5);
    assert!(!p.resource_types.is_empty());
    assert!(!p.condition_keys.is_empty());
}

#[test]
fn a_page_cut_anywhere_before_its_end_is_an_error() {
    let html = classic();
    let end = html.rfind("</html>").unwrap();
    let mut cuts = 0;
    for cut in (0..end).step_by(53) {
        if !html.is_char_boundary(cut) {
            continue;
        }
        cuts += 1;
        let w = parse_page("list_c.html", &html[..cut])
            .map(|p| {
                panic!(
                    "cut at {cut} of {}: parsed with {} actions",
                    html.len(),
                    p.actions.len()
                )
            })
            .unwrap_err()
            .0;
        assert_eq!(w.page, "list_c.html");
    }
    assert!(cuts > 100);
    // Cut inside the actions table: the message says why.
    let cut = html.find("GetObject").unwrap() + 400;
    let w = parse_page("list_c.html", &html[..cut]).unwrap_err().0;
    assert!(w.message.contains("does not end"), "{w}");
    assert!(w.message.contains("</html>"), "{w}");
}

/// The classic fixture with the header cell `old` of `table` renamed.
fn renamed(old: &str, new: &str, nth: usize) -> String {
    let html = classic();
    let needle = format!("\n         {old}\n");
    let at = html
        .match_indices(&needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("no header {old:?} #{nth}"))
        .0;
    format!(
        "{}\n         {new}\n{}",
        &html[..at],
        &html[at + needle.len()..]
    )
}

#[test]
fn every_renamed_known_column_is_an_error_naming_page_table_and_column() {
    // (header, which occurrence in the page, table label)
    for (old, nth, table) in [
        ("Actions", 0, "actions"),
        ("Description", 0, "actions"),
        ("Access level", 0, "actions"),
        ("Resource types (*required)", 0, "actions"),
        ("Condition keys", 0, "actions"),
        ("Dependent actions", 0, "actions"),
        ("Resource types", 0, "resource types"),
        ("ARN", 0, "resource types"),
        ("Condition keys", 1, "resource types"),
        ("Condition keys", 2, "condition keys"),
        ("Description", 1, "condition keys"),
        ("Type", 0, "condition keys"),
    ] {
        let html = renamed(old, "Renamed column", nth);
        let w = parse_page("list_c.html", &html)
            .map(|p| panic!("{old} renamed: parsed with {} actions", p.actions.len()))
            .unwrap_err()
            .0;
        assert_eq!(w.page, "list_c.html", "{old}");
        assert_eq!(w.table.as_deref(), Some(table), "{old}: {w}");
        assert!(w.message.contains("renamed column"), "{old}: {w}");
        assert!(w.message.contains("\"renamed column\""), "{old}: {w}");
    }
}

#[test]
fn a_table_without_its_description_column_is_an_error() {
    // (Without Dependent actions, the July 2026 layout, pages read fine:
    // parse_fixtures.rs, live_2026_layout.)
    let html = classic();
    let full = parse_page("list_c.html", &html).unwrap();
    // Without a Description column at all: an error naming it.
    let no_desc = renamed("Description", "", 0).replace("<th>\n         \n", "<th>\n");
    let r = parse_page("list_c.html", &no_desc);
    // An empty header cell is not a known column either: an error.
    let w = r.unwrap_err().0;
    assert_eq!(w.table.as_deref(), Some("actions"));
    assert!(w.message.contains("Description"), "{w}");
    assert!(full.actions.iter().all(|a| a.description.is_some()));
}

#[test]
fn a_new_extra_column_is_a_warning() {
    let html = classic().replacen(
        "\n         Dependent actions\n        </th>",
        "\n         Dependent actions\n        </th><th>Notes</th>",
        1,
    );
    let p = parse_page("list_c.html", &html).unwrap();
    assert!(
        p.warnings
            .iter()
            .any(|w| w.message.contains("unknown column \"notes\"")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn a_section_announced_by_the_contents_list_must_exist() {
    let html = classic();
    // Drop the resource types heading's id: the page's contents list links
    // to #amazonexamplestorage-actions-as-permissions; remove that heading.
    let html = html.replacen(
        "<h2 id=\"amazonexamplestorage-actions-as-permissions\">",
        "<h2 id=\"something-else\">",
        1,
    );
    let w = parse_page("list_c.html", &html).unwrap_err().0;
    assert!(w.message.contains("contents list announces"), "{w}");
    assert!(
        w.message
            .contains("#amazonexamplestorage-actions-as-permissions"),
        "{w}"
    );
    assert_eq!(w.table.as_deref(), Some("actions"));
}

#[test]
fn resource_and_key_headings_need_a_table_or_the_sentence_that_replaces_it() {
    let html = classic();
    let start = html
        .find("<h2 id=\"amazonexamplestorage-policy-keys\">")
        .unwrap();
    let table_start = start + html[start..].find("<table").unwrap();
    let table_end = table_start + html[table_start..].find("</table>").unwrap() + 8;
    let without = format!("{}{}", &html[..table_start], &html[table_end..]);
    let w = parse_page("list_c.html", &without).unwrap_err().0;
    assert_eq!(w.table.as_deref(), Some("condition keys"));
    assert!(w.message.contains("not followed by a table"), "{w}");
    // AWS's sentence for a service without keys stands in for the table
    // (parse_fixtures.rs: resource_and_key_sections_may_have_no_table); but
    // this page's actions name keys, which it then never defines.
    let with_sentence = format!(
        "{}<p>Example has no service-specific context keys that can be used in the Condition element.</p>{}",
        &html[..table_start],
        &html[table_end..]
    );
    let w = parse_page("list_c.html", &with_sentence).unwrap_err().0;
    assert_eq!(w.table.as_deref(), Some("condition keys"));
    assert!(
        w.message
            .contains("condition keys the actions and resource types name are not defined"),
        "{w}"
    );
    assert!(w.message.contains("exs:AuthType"), "{w}");
}

#[test]
fn actions_naming_undefined_resource_types_are_an_error() {
    let html = classic();
    let start = html
        .find("<h2 id=\"amazonexamplestorage-resources-for-iam-policies\">")
        .unwrap();
    let table_start = start + html[start..].find("<table").unwrap();
    let table_end = table_start + html[table_start..].find("</table>").unwrap() + 8;
    // The table replaced by the "does not support" sentence: the actions
    // still name resource types, so the page is incomplete.
    let without = format!(
        "{}<p>Example does not support specifying a resource ARN.</p>{}",
        &html[..table_start],
        &html[table_end..]
    );
    let w = parse_page("list_c.html", &without).unwrap_err().0;
    assert_eq!(w.table.as_deref(), Some("resource types"));
    assert!(w.message.contains("not defined"), "{w}");
    assert!(w.message.contains("object"), "{w}");
}
