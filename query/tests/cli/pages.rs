//! Per-page facts of a prefix documented on several pages: `iamref diff`
//! names the page whose access level, description or permission-only flag
//! changed, in every format. The snapshots here are constructed (two
//! pages of a made-up prefix `demo`), not AWS data.

use crate::support::iamref;
use std::path::Path;

/// A constructed snapshot folder: prefix `demo` on two pages, action
/// `ListViews` on both, with what the second page says given here.
fn snapshot(dir: &Path, level2: &str, desc2: &str, po2: bool) {
    std::fs::create_dir_all(dir.join("services")).unwrap();
    let manifest = serde_json::json!({
        "format": 2,
        "source": "constructed",
        "tool_version": "0.1.0",
        "counts": {"pages": 2, "prefixes": 1, "actions": 1, "resource_types": 0, "condition_keys": 0},
        "pages": {"list_demo_a.html": "aa", "list_demo_b.html": "bb"},
    });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    let mut second = serde_json::json!({"page": "list_demo_b.html", "access_level": level2, "description": desc2});
    if po2 {
        second["permission_only"] = true.into();
    }
    let service = serde_json::json!({
        "prefix": "demo",
        "name": "Demo",
        "sources": "html",
        "pages": [
            {"file": "list_demo_a.html", "service_name": "Demo A", "layout": "classic"},
            {"file": "list_demo_b.html", "service_name": "Demo B", "layout": "classic"},
        ],
        "actions": [{
            "name": "ListViews",
            "description": "Grants permission to list views",
            "access_level": "List",
            "permission_only": po2,
            "resource_types": [],
            "condition_keys": [],
            "pages": ["list_demo_a.html", "list_demo_b.html"],
            "per_page": [
                {"page": "list_demo_a.html", "access_level": "List", "description": "Grants permission to list views"},
                second,
            ],
        }],
        "resource_types": [],
        "condition_keys": [],
    });
    std::fs::write(
        dir.join("services/demo.json"),
        serde_json::to_vec_pretty(&service).unwrap(),
    )
    .unwrap();
}

fn diff(dir: &Path, format: &str) -> (i32, String, String) {
    let out = iamref(dir)
        .current_dir(dir)
        .args(["diff", "old", "new", "-f", format])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_change_on_one_page_is_named_in_every_format() {
    let t = tempfile::tempdir().unwrap();
    // Old: the second page agrees on the level; new: it says Read, another
    // description, and permission-only. The merged level (the first
    // page's) stays List.
    snapshot(
        &t.path().join("old"),
        "List",
        "Grants permission to list views",
        false,
    );
    snapshot(
        &t.path().join("new"),
        "Read",
        "Grants permission to list the views",
        true,
    );
    let (code, out, err) = diff(t.path(), "table");
    assert_eq!((code, err.as_str()), (1, ""));
    assert_eq!(
        out,
        "demo  Demo
  ~ action        demo:ListViews  per_page[list_demo_b.html].access_level: List -> Read
  ~ action        demo:ListViews  per_page[list_demo_b.html].description: Grants permission to list views -> Grants permission to list the views
  ~ action        demo:ListViews  per_page[list_demo_b.html].permission_only: false -> true
  ~ action        demo:ListViews  permission_only: false -> true

4 changes: 1 access levels changed, 1 items with changed fields
"
    );

    let (code, out, err) = diff(t.path(), "markdown");
    assert_eq!((code, err.as_str()), (1, ""));
    let body = out
        .split("## `demo` Demo\n\n")
        .nth(1)
        .expect("the demo section");
    assert_eq!(
        body,
        "- **changed** action `demo:ListViews`: per_page[list_demo_b.html].access_level `List` → `Read`
- **changed** action `demo:ListViews`: per_page[list_demo_b.html].description `Grants permission to list views` → `Grants permission to list the views`
- **changed** action `demo:ListViews`: per_page[list_demo_b.html].permission_only `false` → `true`
- **changed** action `demo:ListViews`: permission_only `false` → `true`
"
    );

    let (code, out, err) = diff(t.path(), "json");
    assert_eq!((code, err.as_str()), (1, ""));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let p = "per_page[list_demo_b.html]";
    assert_eq!(
        v["changes"],
        serde_json::json!([
            {"prefix": "demo", "kind": "action", "name": "ListViews", "change": "changed",
             "field": format!("{p}.access_level"), "old": "List", "new": "Read"},
            {"prefix": "demo", "kind": "action", "name": "ListViews", "change": "changed",
             "field": format!("{p}.description"), "old": "Grants permission to list views",
             "new": "Grants permission to list the views"},
            {"prefix": "demo", "kind": "action", "name": "ListViews", "change": "changed",
             "field": format!("{p}.permission_only"), "old": false, "new": true},
            {"prefix": "demo", "kind": "action", "name": "ListViews", "change": "changed",
             "field": "permission_only", "old": false, "new": true},
        ])
    );
    assert_eq!(v["summary"]["changes"], 4);

    // The same snapshot on both sides: no change, exit 0.
    let out = iamref(t.path())
        .current_dir(t.path())
        .args(["diff", "old", "old"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
}
