//! Markdown: the README's findings table (`policy check`'s codes).

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_table_has_a_row_per_code() {
        let t = codes_markdown();
        assert_eq!(t.lines().count(), CODES.len() + 2);
        assert!(t.contains("| `resource-mismatch` | error | `RESOURCE_MISMATCH` |"));
    }
}
