//! A request body as a tree of members, per wire protocol, for the proxy
//! recorder ([`super::proxy`]): pure, bounded, never panics.
//!
//! - JSON (json, rest-json): the object as sent.
//! - smithy-rpc-v2-cbor: the CBOR map decoded (with `ciborium`) into the
//!   same JSON shape: text strings, numbers, booleans, arrays, maps with
//!   text (or integer) keys; byte strings (blobs) and undefined become
//!   `null`, tags are read through (a timestamp is its number).
//! - rest-xml: the elements of the body ([`xml`]): an element with child
//!   elements is an object, one with text only a string, a name repeated
//!   under one parent an array (S3 DeleteObjects' `<Object>`s). Namespace
//!   prefixes and attributes are dropped; no DTD or entity declaration is
//!   read (a body with one is refused).
//!
//! The proxy keeps at most [`super::proxy::BODY_PREFIX`] bytes of a body:
//! a body cut there is read as far as it is whole (XML) or not at all
//! (JSON, CBOR), and said so ([`BodyError::Cut`]). A body that does not
//! parse is a [`BodyError`]; the call is still recorded, with what the
//! URI, query and headers say.

use serde_json::{Map, Value};

/// How deep a body's members may nest.
pub const MAX_DEPTH: usize = 64;

/// Why a request body (or part of it) was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("JSON body not read: {0}")]
    Json(String),
    #[error("JSON body is not an object")]
    JsonNotObject,
    #[error("CBOR body not read: {0}")]
    Cbor(String),
    #[error("CBOR body is not a map")]
    CborNotMap,
    #[error("XML body not read at byte {at}: {what}")]
    Xml { at: usize, what: String },
    #[error("body of {length} bytes cut at the first {kept}: members after that not read")]
    Cut { kept: usize, length: u64 },
}

/// The body format a request is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Cbor,
    Xml,
}

/// A JSON body: its object.
pub fn json(body: &[u8]) -> Result<Value, BodyError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| BodyError::Json(e.to_string()))?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(BodyError::JsonNotObject)
    }
}

/// A CBOR body: its map, as JSON.
pub fn cbor(body: &[u8]) -> Result<Value, BodyError> {
    let v: ciborium::Value = ciborium::de::from_reader_with_recursion_limit(body, MAX_DEPTH)
        .map_err(|e| BodyError::Cbor(cbor_error(&e)))?;
    match cbor_to_json(v) {
        v @ Value::Object(_) => Ok(v),
        _ => Err(BodyError::CborNotMap),
    }
}

fn cbor_error(e: &ciborium::de::Error<std::io::Error>) -> String {
    match e {
        ciborium::de::Error::Io(e) => format!("input ended early ({e})"),
        ciborium::de::Error::Syntax(at) => format!("syntax error at byte {at}"),
        ciborium::de::Error::Semantic(at, what) => match at {
            Some(at) => format!("{what} at byte {at}"),
            None => what.clone(),
        },
        ciborium::de::Error::RecursionLimitExceeded => {
            format!("nested deeper than {MAX_DEPTH} levels")
        }
    }
}

fn cbor_to_json(v: ciborium::Value) -> Value {
    use ciborium::Value as C;
    match v {
        C::Integer(i) => {
            let i = i128::from(i);
            if let Ok(n) = i64::try_from(i) {
                Value::from(n)
            } else if let Ok(n) = u64::try_from(i) {
                Value::from(n)
            } else {
                Value::String(i.to_string())
            }
        }
        C::Float(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        C::Text(s) => Value::String(s),
        C::Bool(b) => Value::Bool(b),
        C::Tag(_, v) => cbor_to_json(*v),
        C::Array(a) => Value::Array(a.into_iter().map(cbor_to_json).collect()),
        C::Map(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let k = match k {
                    C::Text(s) => s,
                    C::Integer(i) => i128::from(i).to_string(),
                    _ => continue,
                };
                out.insert(k, cbor_to_json(v));
            }
            Value::Object(out)
        }
        // Blobs name nothing; `null` and `undefined` are absent.
        _ => Value::Null,
    }
}

/// An XML body as members: `{"Root": {children}}` merged with the root's
/// children, so a member path finds both a payload's root
/// (`ReplicationConfiguration.Role`) and an input's own members (`Name`
/// under `<CreateHostedZoneRequest>`). `cut`: the body was cut at the
/// prefix; what is whole is read (open elements closed where it ends).
pub fn xml(body: &[u8], cut: bool) -> (Option<Value>, Option<BodyError>) {
    let text = String::from_utf8_lossy(body);
    match xml::parse(&text, cut) {
        Ok((root, children, _whole)) => {
            let mut m = match &children {
                Value::Object(m) => m.clone(),
                _ => Map::new(),
            };
            m.entry(root).or_insert(children);
            (Some(Value::Object(m)), None)
        }
        Err(e) => (None, Some(e)),
    }
}

/// A small reader of the XML AWS's SDKs send (elements, text, entity and
/// character references, CDATA, comments, processing instructions); a
/// DTD is refused. Bounded by [`MAX_DEPTH`] and the input.
pub mod xml {
    use super::{BodyError, MAX_DEPTH};
    use serde_json::{Map, Value};

    fn err(at: usize, what: impl Into<String>) -> BodyError {
        BodyError::Xml {
            at,
            what: what.into(),
        }
    }

    /// The local name of `ns:Name`.
    fn local(name: &str) -> &str {
        name.rsplit(':').next().unwrap_or(name)
    }

    /// Decode `&lt;`, `&amp;`, `&#65;`, `&#x41;` …; an unknown reference
    /// is an error.
    pub fn unescape(s: &str, at: usize) -> Result<String, BodyError> {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(i) = rest.find('&') {
            out.push_str(&rest[..i]);
            let r = &rest[i + 1..];
            let j = r
                .find(';')
                .filter(|&j| j <= 12)
                .ok_or_else(|| err(at, "an '&' that starts no reference"))?;
            let name = &r[..j];
            let c = match name {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| err(at, format!("bad character reference &{n};")))?,
                n if n.starts_with('#') => n[1..]
                    .parse::<u32>()
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| err(at, format!("bad character reference &{n};")))?,
                n => return Err(err(at, format!("unknown entity &{n};"))),
            };
            out.push(c);
            rest = &r[j + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    struct Open {
        name: String,
        children: Map<String, Value>,
        text: String,
    }

    fn close(o: Open) -> (String, Value) {
        let v = if o.children.is_empty() {
            Value::String(o.text)
        } else {
            Value::Object(o.children)
        };
        (o.name, v)
    }

    /// Add a child: a name seen before under this parent makes an array.
    fn add(parent: &mut Map<String, Value>, name: String, v: Value) {
        match parent.get_mut(&name) {
            None => {
                parent.insert(name, v);
            }
            // An element's value is never an array: one here is repeats.
            Some(Value::Array(a)) => a.push(v),
            Some(prev) => {
                let first = prev.take();
                *prev = Value::Array(vec![first, v]);
            }
        }
    }

    /// The root element's name, its value, and whether the document was
    /// whole (`false`: `cut`, and it ended inside an element).
    pub fn parse(s: &str, cut: bool) -> Result<(String, Value, bool), BodyError> {
        let b = s.as_bytes();
        let mut stack: Vec<Open> = Vec::new();
        let mut root: Option<(String, Value)> = None;
        let mut i = 0;
        // A cut body: the end is no error, the whole elements stand.
        let ended = |stack: Vec<Open>, root: Option<(String, Value)>| {
            if let Some((n, v)) = root {
                return Ok((n, v, true));
            }
            // Each open element keeps the children it had whole; one
            // with none (a value cut short) is dropped, the root kept.
            let mut stack = stack;
            let mut last: Option<(String, Value)> = None;
            while let Some(mut o) = stack.pop() {
                if let Some((n, v)) = last.take() {
                    add(&mut o.children, n, v);
                }
                if !o.children.is_empty() {
                    last = Some((o.name, Value::Object(o.children)));
                } else if stack.is_empty() {
                    last = Some((o.name, Value::Object(Map::new())));
                }
            }
            last.map(|(n, v)| (n, v, false))
                .ok_or_else(|| err(s.len(), "no element"))
        };
        while i < b.len() {
            if b[i] != b'<' {
                let j = s[i..].find('<').map(|j| i + j).unwrap_or(b.len());
                let t = &s[i..j];
                match stack.last_mut() {
                    Some(o) => {
                        if j == b.len() && cut {
                            return ended(stack, root);
                        }
                        o.text.push_str(&unescape(t, i)?);
                    }
                    None if t.trim().is_empty() => {}
                    None => return Err(err(i, "text outside the root element")),
                }
                i = j;
                continue;
            }
            let r = &s[i..];
            let end_of = |pat: &str| r.find(pat);
            if r.starts_with("<?") {
                match end_of("?>") {
                    Some(j) => i += j + 2,
                    None if cut => return ended(stack, root),
                    None => return Err(err(i, "unclosed processing instruction")),
                }
                continue;
            }
            if r.starts_with("<!--") {
                match end_of("-->") {
                    Some(j) => i += j + 3,
                    None if cut => return ended(stack, root),
                    None => return Err(err(i, "unclosed comment")),
                }
                continue;
            }
            if r.starts_with("<![CDATA[") {
                let Some(o) = stack.last_mut() else {
                    return Err(err(i, "CDATA outside the root element"));
                };
                match end_of("]]>") {
                    Some(j) => {
                        o.text.push_str(&r[9..j]);
                        i += j + 3;
                    }
                    None if cut => return ended(stack, root),
                    None => return Err(err(i, "unclosed CDATA section")),
                }
                continue;
            }
            if r.starts_with("<!") {
                return Err(err(i, "a DTD or declaration (not read)"));
            }
            // A tag: up to its '>' outside quoted attribute values.
            let mut j = 1;
            let mut quote: Option<u8> = None;
            let rb = r.as_bytes();
            while j < rb.len() {
                match (quote, rb[j]) {
                    (Some(q), c) if c == q => quote = None,
                    (Some(_), _) => {}
                    (None, b'"' | b'\'') => quote = Some(rb[j]),
                    (None, b'>') => break,
                    (None, b'<') => return Err(err(i + j, "'<' inside a tag")),
                    _ => {}
                }
                j += 1;
            }
            if j >= rb.len() {
                if cut {
                    return ended(stack, root);
                }
                return Err(err(i, "unclosed tag"));
            }
            let tag = &r[1..j];
            i += j + 1;
            if let Some(name) = tag.strip_prefix('/') {
                let name = local(name.trim());
                let Some(o) = stack.pop() else {
                    return Err(err(i, format!("</{name}> closes nothing")));
                };
                if o.name != name {
                    return Err(err(i, format!("</{name}> closes <{}>", o.name)));
                }
                let (n, v) = close(o);
                match stack.last_mut() {
                    Some(p) => add(&mut p.children, n, v),
                    None => root = Some((n, v)),
                }
                continue;
            }
            let empty = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name = tag
                .split(|c: char| c.is_ascii_whitespace())
                .next()
                .unwrap_or("");
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_alphanumeric() || "_-.:".contains(c))
            {
                return Err(err(i, "a tag without a name"));
            }
            if root.is_some() {
                return Err(err(i, "a second root element"));
            }
            if stack.len() >= MAX_DEPTH {
                return Err(err(i, format!("nested deeper than {MAX_DEPTH} elements")));
            }
            let o = Open {
                name: local(name).to_string(),
                children: Map::new(),
                text: String::new(),
            };
            if empty {
                let (n, v) = close(o);
                match stack.last_mut() {
                    Some(p) => add(&mut p.children, n, v),
                    None => root = Some((n, v)),
                }
            } else {
                stack.push(o);
            }
        }
        if let Some(o) = stack.last() {
            if cut {
                return ended(stack, root);
            }
            return Err(err(s.len(), format!("<{}> not closed", o.name)));
        }
        root.map(|(n, v)| (n, v, true))
            .ok_or_else(|| err(0, "no element"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Every body below is constructed for these tests.

    #[test]
    fn xml_elements_become_members_repeated_names_arrays() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>reports/a.txt</Key></Object><Object><Key>a &amp; b&#x2F;c.txt</Key><VersionId>v1</VersionId></Object><Quiet>true</Quiet></Delete>"#;
        let (v, e) = xml(body, false);
        assert_eq!(e, None);
        let v = v.unwrap();
        let delete = json!({
            "Object": [{"Key": "reports/a.txt"}, {"Key": "a & b/c.txt", "VersionId": "v1"}],
            "Quiet": "true"
        });
        assert_eq!(v["Delete"], delete);
        assert_eq!(v["Quiet"], "true");
        // A namespace prefix, attributes with '>' in quotes, CDATA, a
        // comment, an empty element.
        let (v, e) = xml(
            br#"<s3:Tagging a="x>y" b='1'><!-- constructed --><TagSet><Tag><Key><![CDATA[k<1>]]></Key><Value/></Tag></TagSet></s3:Tagging>"#,
            false,
        );
        assert_eq!(e, None);
        assert_eq!(
            v.unwrap()["Tagging"],
            json!({"TagSet": {"Tag": {"Key": "k<1>", "Value": ""}}})
        );
    }

    #[test]
    fn malformed_xml_is_an_error_naming_the_byte() {
        for (body, what) in [
            (&b"<a><b></a>"[..], "</a> closes <b>"),
            (b"<a>", "<a> not closed"),
            (b"<a>&bogus;</a>", "unknown entity &bogus;"),
            (b"<a>&#xZZ;</a>", "bad character reference"),
            (b"<!DOCTYPE a [<!ENTITY x \"y\">]><a/>", "DTD"),
            (b"<a/><b/>", "a second root element"),
            (b"</a>", "closes nothing"),
            (b"text", "text outside the root element"),
            (b"", "no element"),
            (b"<a><", "unclosed tag"),
            (b"< >", "a tag without a name"),
        ] {
            let (v, e) = xml(body, false);
            assert!(v.is_none(), "{body:?}");
            let e = e.unwrap().to_string();
            assert!(e.contains(what), "{body:?}: {e}");
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(xml(deep.as_bytes(), false)
            .1
            .unwrap()
            .to_string()
            .contains("nested deeper"));
    }

    proptest::proptest! {
        /// Any bytes, whole or cut: a tree or an error, never a panic.
        #[test]
        fn any_body_is_read_or_refused(
            b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
            cut in proptest::prelude::any::<bool>(),
        ) {
            let _ = xml(&b, cut);
            let _ = cbor(&b);
            let _ = json(&b);
        }

        /// A constructed XML body cut anywhere (as the proxy's prefix
        /// cuts): what is whole is kept, never more than the body says.
        #[test]
        fn a_body_cut_anywhere_keeps_only_whole_keys(n in 0usize..140) {
            let body = "<Delete><Object><Key>k1</Key></Object><Object><Key>k&amp;2</Key></Object><!-- c --><Object><Key><![CDATA[k3]]></Key></Object></Delete>";
            let (v, _) = xml(&body.as_bytes()[..n.min(body.len())], true);
            if let Some(v) = v {
                let keys: Vec<String> = crate::record::cloudtrail::param_values(&v, "Delete.Object[].Key")
                    .iter()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect();
                for k in &keys {
                    proptest::prop_assert!(["k1", "k&2", "k3"].contains(&k.as_str()), "{k}");
                }
            }
        }
    }

    #[test]
    fn a_cut_xml_body_keeps_its_whole_elements() {
        let body = b"<Delete><Object><Key>one</Key></Object><Object><Key>tw";
        let (v, e) = xml(body, true);
        assert_eq!(e, None);
        assert_eq!(v.unwrap()["Delete"], json!({"Object": {"Key": "one"}}));
        // Cut inside a tag or a comment: the same.
        for body in [&b"<a><b>1</b><c"[..], b"<a><b>1</b><!-- x"] {
            let (v, _) = xml(body, true);
            assert_eq!(v.unwrap()["a"]["b"], "1", "{body:?}");
        }
    }

    #[test]
    fn cbor_maps_become_json_members() {
        // Constructed: what a smithy-rpc-v2-cbor client sends, encoded here.
        let mut body = Vec::new();
        use ciborium::Value as C;
        let t = |s: &str| C::Text(s.into());
        let v = C::Map(vec![
            (
                t("EventBusArn"),
                t("arn:aws:events:us-east-1:123456789012:event-bus/b"),
            ),
            (
                t("InvokeConfiguration"),
                C::Map(vec![(t("RoleArn"), t("arn:aws:iam::123456789012:role/r"))]),
            ),
            (t("Count"), C::Integer(3.into())),
            (t("Big"), C::Integer(u64::MAX.into())),
            (t("Ratio"), C::Float(0.5)),
            (t("Blob"), C::Bytes(vec![0, 1])),
            (
                t("When"),
                C::Tag(1, Box::new(C::Integer(1_700_000_000.into()))),
            ),
            (t("List"), C::Array(vec![t("a"), t("b")])),
            (C::Integer(7.into()), t("seven")),
        ]);
        ciborium::ser::into_writer(&v, &mut body).unwrap();
        let j = cbor(&body).unwrap();
        assert_eq!(
            j,
            json!({
                "EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/b",
                "InvokeConfiguration": {"RoleArn": "arn:aws:iam::123456789012:role/r"},
                "Count": 3, "Big": u64::MAX, "Ratio": 0.5, "Blob": null,
                "When": 1_700_000_000, "List": ["a", "b"], "7": "seven"
            })
        );
    }

    #[test]
    fn malformed_cbor_and_json_are_errors_never_panics() {
        // A map announcing 2^60 entries in 9 bytes; a cut text; not a map;
        // an indefinite array never closed; nesting past the limit.
        let deep: Vec<u8> = std::iter::repeat_n(0x81u8, MAX_DEPTH + 2)
            .chain([0x01])
            .collect();
        for body in [
            &[0xbb, 0x10, 0, 0, 0, 0, 0, 0, 0][..],
            &[0xa1, 0x63, b'a', b'b'],
            &[0x01],
            &[0x9f, 0x01],
            &deep,
            &[0xff],
            &[],
            // Byte and text strings announcing 2^64-1 bytes, and an array
            // 2^64-1 elements: read as far as the input goes, no more.
            &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00],
            &[
                0xa1, 0x61, b'k', 0x7b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, b'a',
            ],
            &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        ] {
            assert!(cbor(body).is_err(), "{body:?}");
        }
        assert_eq!(cbor(&[0x01]), Err(BodyError::CborNotMap));
        assert!(matches!(json(b"{\"a\":"), Err(BodyError::Json(_))));
        assert_eq!(json(b"[1]"), Err(BodyError::JsonNotObject));
    }
}
