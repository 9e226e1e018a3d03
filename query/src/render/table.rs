//! The one column aligner of the terminal tables: every cell but a row's
//! last padded to its column's widest cell plus two spaces, trailing
//! white space trimmed. [`crate::output::Out::table`], `iamref sql`'s
//! streamed table and `policy simulate`'s tables all use it.

use std::io::Write;

/// Grow `widths` to fit the cells of one row (widths in characters).
pub fn fit<S: AsRef<str>>(widths: &mut Vec<usize>, cells: &[S]) {
    if widths.len() < cells.len() {
        widths.resize(cells.len(), 0);
    }
    for (w, c) in widths.iter_mut().zip(cells) {
        *w = (*w).max(c.as_ref().chars().count());
    }
}

/// The widths that fit every row.
pub fn widths<S: AsRef<str>, R: AsRef<[S]>>(rows: &[R]) -> Vec<usize> {
    let mut widths = Vec::new();
    for r in rows {
        fit(&mut widths, r.as_ref());
    }
    widths
}

/// One row aligned to `widths`. A cell wider than its column (a streamed
/// table keeps the widths of its first rows) is not padded; a column
/// without a width gets none.
pub fn line<S: AsRef<str>>(cells: &[S], widths: &[usize]) -> String {
    let mut s = String::new();
    for (i, c) in cells.iter().enumerate() {
        let c = c.as_ref();
        s.push_str(c);
        if i + 1 < cells.len() {
            let pad = (widths.get(i).copied().unwrap_or(0) + 2).saturating_sub(c.chars().count());
            s.extend(std::iter::repeat_n(' ', pad));
        }
    }
    s.truncate(s.trim_end().len());
    s
}

/// `rows` (a header among them, if any) aligned, one line each.
pub fn write(w: &mut dyn Write, rows: &[Vec<String>]) -> std::io::Result<()> {
    let widths = widths(rows);
    for r in rows {
        writeln!(w, "{}", line(r, &widths))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_padded_to_the_widest_cell_plus_two() {
        let rows = vec![
            vec!["A".to_string(), "BB".to_string(), "C".to_string()],
            vec!["ééé".to_string(), "".to_string(), "x ".to_string()],
        ];
        let mut out = Vec::new();
        write(&mut out, &rows).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "A    BB  C\nééé      x\n");
    }

    #[test]
    fn a_cell_wider_than_its_column_is_not_padded() {
        assert_eq!(line(&["abcdef", "x"], &[2]), "abcdefx");
        assert_eq!(line(&["a", "b", "c"], &[1]), "a  b c");
        assert_eq!(line(&["a", " "], &[1]), "a");
        assert_eq!(line::<&str>(&[], &[]), "");
    }
}
