//! Markdown: the README's findings table (`policy check`'s codes) and
//! inline code spans (`diff --format markdown`'s release note).

use iamref_policy::finding::CODES;

/// The README's findings table, generated from [`CODES`] (a test keeps
/// the README equal to it).
pub fn codes_markdown() -> String {
    let mut s =
        String::from("| code | severity | parliament | what it means |\n|---|---|---|---|\n");
    for (code, sev, parliament, desc) in CODES {
        let p = if parliament.is_empty() {
            "".to_string()
        } else {
            format!("`{parliament}`")
        };
        s.push_str(&format!(
            "| `{code}` | {} | {p} | {} |\n",
            sev.as_str(),
            desc.replace('|', "\\|")
        ));
    }
    s
}

/// Inline code in Markdown, safe for any text.
pub fn code(s: &str) -> String {
    if s.is_empty() {
        return "(none)".to_string();
    }
    let ticks = if s.contains('`') { "``" } else { "`" };
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{}{pad}{ticks}", s.replace('\n', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_code_spans_survive_backticks() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`a"), "`` `a ``");
        assert_eq!(code(""), "(none)");
    }

    #[test]
    fn codes_table_has_a_row_per_code() {
        let t = codes_markdown();
        assert_eq!(t.lines().count(), CODES.len() + 2);
        assert!(t.contains("| `resource-mismatch` | error | `RESOURCE_MISMATCH` |"));
    }
}
