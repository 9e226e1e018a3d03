//! A strict JSON reader (RFC 8259) that keeps where every value and key
//! starts, so findings can name a line and column. Duplicate keys are kept
//! (the checker reports them); nesting depth and size are bounded so a
//! hostile document cannot exhaust the stack or memory.

use crate::finding::Location;

/// The deepest nesting accepted. IAM policies nest four or five levels.
pub const MAX_DEPTH: usize = 64;
/// The largest document accepted, in bytes (IAM's own limits are far
/// smaller: 6,144 characters for a managed policy, 20 KB for a bucket policy).
pub const MAX_BYTES: usize = 4 << 20;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The number as written.
    Number(String),
    String(String),
    Array(Vec<Node>),
    /// Members in document order, duplicates kept.
    Object(Vec<(Key, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub at: Location,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub at: Location,
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    /// What kind of value this is, for messages (`a string`, `an object`).
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "a list",
            Value::Object(_) => "an object",
        }
    }
    /// The scalar as IAM reads it in a condition (strings, numbers and
    /// booleans all become text).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.clone()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// Why a document is not JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {}, column {}: {message}", at.line, at.column)]
pub struct JsonError {
    pub message: String,
    pub at: Location,
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    /// Byte offset where the current line starts.
    line_start: usize,
    /// A column already counted on this line: (byte offset, column), so
    /// a long single-line document is counted once, not once per value.
    counted: std::cell::Cell<(usize, u32)>,
}

/// Parse a whole document.
pub fn parse(text: &str) -> Result<Node, JsonError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut r = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
        line_start: 0,
        counted: std::cell::Cell::new((0, 1)),
    };
    if text.len() > MAX_BYTES {
        return Err(r.error(format!(
            "the document is {} bytes; at most {MAX_BYTES} are read",
            text.len()
        )));
    }
    r.ws();
    let v = r.value(0)?;
    r.ws();
    if r.pos < r.bytes.len() {
        return Err(r.error("unexpected text after the end of the document".into()));
    }
    Ok(v)
}

impl<'a> Reader<'a> {
    fn at(&self) -> Location {
        let (mut from, mut column) = self.counted.get();
        if from < self.line_start || from > self.pos {
            (from, column) = (self.line_start, 1);
        }
        column += self.text[from..self.pos].chars().count() as u32;
        self.counted.set((self.pos, column));
        Location {
            line: self.line,
            column,
        }
    }
    fn error(&self, message: String) -> JsonError {
        JsonError {
            message,
            at: self.at(),
        }
    }
    fn ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                }
                _ => break,
            }
        }
    }
    fn describe(&self) -> String {
        match self.text[self.pos..].chars().next() {
            None => "the end of the document".into(),
            Some(c) => format!("{c:?}"),
        }
    }
    fn expect(&mut self, b: u8, what: &str) -> Result<(), JsonError> {
        if self.bytes.get(self.pos) == Some(&b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected {what}, found {}", self.describe())))
        }
    }
    fn value(&mut self, depth: usize) -> Result<Node, JsonError> {
        if depth >= MAX_DEPTH {
            return Err(self.error(format!("nested more than {MAX_DEPTH} levels deep")));
        }
        let at = self.at();
        let value = match self.bytes.get(self.pos) {
            Some(b'{') => {
                self.pos += 1;
                let mut members = Vec::new();
                self.ws();
                if self.bytes.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.ws();
                        let kat = self.at();
                        if self.bytes.get(self.pos) != Some(&b'"') {
                            return Err(self.error(format!(
                                "expected a member name in double quotes, found {}",
                                self.describe()
                            )));
                        }
                        let name = self.string()?;
                        self.ws();
                        self.expect(b':', "':' after a member name")?;
                        self.ws();
                        let v = self.value(depth + 1)?;
                        members.push((Key { name, at: kat }, v));
                        self.ws();
                        match self.bytes.get(self.pos) {
                            Some(b',') => self.pos += 1,
                            Some(b'}') => {
                                self.pos += 1;
                                break;
                            }
                            _ => {
                                return Err(self.error(format!(
                                    "expected ',' or '}}' in an object, found {}",
                                    self.describe()
                                )))
                            }
                        }
                    }
                }
                Value::Object(members)
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.bytes.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                } else {
                    loop {
                        self.ws();
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        match self.bytes.get(self.pos) {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            _ => {
                                return Err(self.error(format!(
                                    "expected ',' or ']' in a list, found {}",
                                    self.describe()
                                )))
                            }
                        }
                    }
                }
                Value::Array(items)
            }
            Some(b'"') => Value::String(self.string()?),
            Some(b't') if self.text[self.pos..].starts_with("true") => {
                self.pos += 4;
                Value::Bool(true)
            }
            Some(b'f') if self.text[self.pos..].starts_with("false") => {
                self.pos += 5;
                Value::Bool(false)
            }
            Some(b'n') if self.text[self.pos..].starts_with("null") => {
                self.pos += 4;
                Value::Null
            }
            Some(b'-' | b'0'..=b'9') => Value::Number(self.number()?),
            _ => {
                return Err(self.error(format!("expected a value, found {}", self.describe())));
            }
        };
        Ok(Node { at, value })
    }
    fn number(&mut self) -> Result<String, JsonError> {
        let start = self.pos;
        let digits = |r: &mut Self| {
            let s = r.pos;
            while r.bytes.get(r.pos).is_some_and(u8::is_ascii_digit) {
                r.pos += 1;
            }
            r.pos - s
        };
        if self.bytes[self.pos] == b'-' {
            self.pos += 1;
        }
        let int_start = self.pos;
        if digits(self) == 0 {
            return Err(self.error("a number needs digits".into()));
        }
        if self.bytes[int_start] == b'0' && self.pos - int_start > 1 {
            self.pos = int_start;
            return Err(self.error("a number cannot start with 0".into()));
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err(self.error("a number needs digits after '.'".into()));
            }
        }
        if matches!(self.bytes.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.bytes.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.error("a number needs digits in its exponent".into()));
            }
        }
        Ok(self.text[start..self.pos].to_string())
    }
    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[start..self.pos]);
            match self.bytes.get(self.pos) {
                None => return Err(self.error("a string is not closed".into())),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = match self.bytes.get(self.pos) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !self.text[self.pos..].starts_with("\\u") {
                                    return Err(self.error("an unpaired surrogate escape".into()));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.error("an unpaired surrogate escape".into()));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            let Some(c) = char::from_u32(code) else {
                                return Err(self.error("an invalid \\u escape".into()));
                            };
                            out.push(c);
                            continue;
                        }
                        _ => {
                            return Err(
                                self.error(format!("an invalid escape \\{}", self.describe()))
                            )
                        }
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(_) => {
                    return Err(self
                        .error("a control character in a string (write newlines as \\n)".into()))
                }
            }
        }
    }
    fn hex4(&mut self) -> Result<u32, JsonError> {
        let s = self.text.get(self.pos..self.pos + 4).unwrap_or("");
        match u32::from_str_radix(s, 16) {
            Ok(v) if s.len() == 4 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
                self.pos += 4;
                Ok(v)
            }
            _ => Err(self.error("\\u needs four hex digits".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_locations() {
        let doc = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [ {\"Effect\": \"Allow\", \"n\": -1.5e3, \"b\": true, \"z\": null} ]\n}";
        let v = parse(doc).unwrap();
        let Value::Object(m) = &v.value else { panic!() };
        assert_eq!(m[0].0.name, "Version");
        assert_eq!(m[0].0.at, Location { line: 2, column: 3 });
        assert_eq!(
            m[0].1.at,
            Location {
                line: 2,
                column: 14
            }
        );
        let Value::Array(st) = &m[1].1.value else {
            panic!()
        };
        assert_eq!(
            st[0].at,
            Location {
                line: 3,
                column: 18
            }
        );
        let Value::Object(s) = &st[0].value else {
            panic!()
        };
        assert_eq!(s[1].1.value, Value::Number("-1.5e3".into()));
    }

    #[test]
    fn escapes_and_duplicates() {
        let v = parse(r#"{"a": "x\u00e9\ud83d\ude00\n", "a": 1}"#).unwrap();
        let Value::Object(m) = &v.value else { panic!() };
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].1.as_str(), Some("xé😀\n"));
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse("{\n  \"a\": [1, 2,,]\n}").unwrap_err();
        assert_eq!(
            e.at,
            Location {
                line: 2,
                column: 14
            }
        );
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "01",
            "\"\\x\"",
            "\"a\nb\"",
            "{} x",
            "nul",
            "\"\\ud800\"",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(10_000);
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
    }
}
