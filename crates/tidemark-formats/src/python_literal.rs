//! A parser for Python literals, as written by `repr()`.
//!
//! The CrowdStrike/LMG Activities retriever wrote each activity's `CustomProperties` into its CSV as
//! the `repr()` of a Python dict (`{'ClientIP': '203.0.113.50', 'UserAgent': "Mozilla/5.0 'x'"}`),
//! not as JSON: single-quoted strings, double quotes when the value holds a `'`, backslash escapes,
//! `u''` prefixes from Python 2, `True`/`False`/`None`. Python's own `ast.literal_eval` is not
//! available to us, so this module reads that subset: strings (single, double and triple quotes;
//! `u`, `b`, `r` prefixes; every escape `repr` writes; adjacent literals concatenated), integers,
//! floats, `True`, `False`, `None`, and nested dicts, lists, tuples and sets.
//! Anything else is an error naming the position; the caller keeps the record raw.

/// A Python literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    /// `None`.
    None,
    /// `True` or `False`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A float, or an integer too large for 64 bits, kept as written.
    Number(String),
    /// A `str` (or `bytes`, decoded as Latin-1 code points).
    Str(String),
    /// A list, tuple or set, in order.
    List(Vec<PyValue>),
    /// A dict, pairs in order.
    Dict(Vec<(PyValue, PyValue)>),
}

impl PyValue {
    /// The value as plain text: strings as they are, numbers and constants as Python prints them,
    /// containers as JSON.
    pub fn to_text(&self) -> String {
        match self {
            Self::Str(s) => s.clone(),
            Self::None => "None".to_owned(),
            Self::Bool(true) => "True".to_owned(),
            Self::Bool(false) => "False".to_owned(),
            Self::Int(i) => i.to_string(),
            Self::Number(n) => n.clone(),
            Self::List(_) | Self::Dict(_) => self.to_json().to_string(),
        }
    }

    /// The value as JSON (dict keys as text).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Self::None => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Int(i) => Value::from(*i),
            Self::Number(n) => n
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| Value::String(n.clone()), Value::Number),
            Self::Str(s) => Value::String(s.clone()),
            Self::List(items) => Value::Array(items.iter().map(Self::to_json).collect()),
            Self::Dict(pairs) => Value::Object(pairs.iter().map(|(k, v)| (k.to_text(), v.to_json())).collect()),
        }
    }
}

/// Parses one Python literal (surrounding whitespace allowed).
pub fn parse(text: &str) -> Result<PyValue, String> {
    let mut p = Parser { s: text.as_bytes(), text, i: 0, depth: 0 };
    p.ws();
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected text after the value at position {}", p.i));
    }
    Ok(v)
}

/// Parses a dict literal into `(key, value)` text pairs, in order (values via [`PyValue::to_text`]).
pub fn parse_dict(text: &str) -> Result<Vec<(String, String)>, String> {
    match parse(text)? {
        PyValue::Dict(pairs) => Ok(pairs.into_iter().map(|(k, v)| (k.to_text(), v.to_text())).collect()),
        _ => Err("not a Python dict: expected { … }".to_owned()),
    }
}

const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\r' | b'\n') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        match self.peek() {
            Some(_) => Err(format!("{what} at position {}", self.i)),
            None => Err(format!("{what}: the text ends too early")),
        }
    }

    fn value(&mut self) -> Result<PyValue, String> {
        match self.peek() {
            Some(b'{') => self.container(b'{', b'}'),
            Some(b'[') => self.container(b'[', b']'),
            Some(b'(') => self.container(b'(', b')'),
            Some(b'\'' | b'"') => self.strings(),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
                    self.i += 1;
                }
                let word = &self.text[start..self.i];
                match (word, self.peek()) {
                    (_, Some(b'\'' | b'"')) if word.len() <= 2 && is_prefix(word) => {
                        self.i = start;
                        self.strings()
                    }
                    ("None", _) => Ok(PyValue::None),
                    ("True", _) => Ok(PyValue::Bool(true)),
                    ("False", _) => Ok(PyValue::Bool(false)),
                    _ => {
                        self.i = start;
                        self.err(&format!("\"{word}\" is not a Python literal"))
                    }
                }
            }
            Some(c) if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.') => self.number(),
            _ => self.err("expected a value"),
        }
    }

    fn container(&mut self, open: u8, close: u8) -> Result<PyValue, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("the value is nested too deeply");
        }
        debug_assert_eq!(self.peek(), Some(open));
        self.i += 1;
        let mut items = Vec::new();
        let mut pairs = Vec::new();
        let mut is_dict = open == b'{';
        let mut first = true;
        loop {
            self.ws();
            if self.peek() == Some(close) {
                self.i += 1;
                break;
            }
            if !first {
                if self.peek() != Some(b',') {
                    return self.err(&format!("expected ',' or '{}'", close as char));
                }
                self.i += 1;
                self.ws();
                if self.peek() == Some(close) {
                    self.i += 1;
                    break;
                }
            }
            let v = self.value()?;
            self.ws();
            if open == b'{' && (first || is_dict) && self.peek() == Some(b':') {
                self.i += 1;
                self.ws();
                let val = self.value()?;
                pairs.push((v, val));
            } else if open == b'{' && is_dict && !first {
                return self.err("expected ':' after a dict key");
            } else {
                is_dict = false; // a set literal
                items.push(v);
            }
            first = false;
        }
        self.depth -= 1;
        Ok(if is_dict { PyValue::Dict(pairs) } else { PyValue::List(items) })
    }

    fn number(&mut self) -> Result<PyValue, String> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'+' | b'-')) {
            // A sign is part of the number only at its start or after an exponent.
            let c = self.s[self.i];
            if matches!(c, b'+' | b'-') && self.i > start && !matches!(self.s[self.i - 1], b'e' | b'E') {
                break;
            }
            self.i += 1;
        }
        let raw: String = self.text[start..self.i].chars().filter(|&c| c != '_').collect();
        if let Ok(i) = raw.parse::<i64>() {
            return Ok(PyValue::Int(i));
        }
        let digits = raw.trim_start_matches(['+', '-']);
        if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
            return Ok(PyValue::Number(raw));
        }
        if raw.parse::<f64>().is_ok() && !raw.eq_ignore_ascii_case("inf") && !raw.eq_ignore_ascii_case("nan") {
            return Ok(PyValue::Number(raw));
        }
        self.i = start;
        self.err(&format!("\"{raw}\" is not a number"))
    }

    /// One or more adjacent string literals, concatenated.
    fn strings(&mut self) -> Result<PyValue, String> {
        let mut out = String::new();
        loop {
            self.string(&mut out)?;
            let save = self.i;
            self.ws();
            let mut j = self.i;
            while j < self.s.len() && j - self.i < 2 && self.s[j].is_ascii_alphabetic() {
                j += 1;
            }
            let at_string = matches!(self.s.get(j), Some(b'\'' | b'"')) && is_prefix(&self.text[self.i..j]);
            if !at_string {
                self.i = save;
                return Ok(PyValue::Str(out));
            }
        }
    }

    fn string(&mut self, out: &mut String) -> Result<(), String> {
        let mut raw = false;
        let mut bytes = false;
        while let Some(c) = self.peek().filter(u8::is_ascii_alphabetic) {
            match c.to_ascii_lowercase() {
                b'r' => raw = true,
                b'b' => bytes = true,
                b'u' => {}
                _ => return self.err("unknown string prefix"),
            }
            self.i += 1;
        }
        let Some(q) = self.peek().filter(|c| matches!(c, b'\'' | b'"')) else {
            return self.err("expected a quote");
        };
        let triple = self.s[self.i..].starts_with(&[q, q, q]);
        let start_at = self.i;
        self.i += if triple { 3 } else { 1 };
        loop {
            let Some(c) = self.peek() else {
                self.i = start_at;
                return self.err("a string is never closed");
            };
            if c == q && (!triple || self.s[self.i..].starts_with(&[q, q, q])) {
                self.i += if triple { 3 } else { 1 };
                return Ok(());
            }
            if c == b'\n' && !triple {
                return self.err("a line break inside a one-line string");
            }
            if c == b'\\' {
                if raw {
                    // Raw strings keep the backslash; it still protects the next character.
                    out.push('\\');
                    self.i += 1;
                    if let Some(ch) = self.text[self.i..].chars().next() {
                        out.push(ch);
                        self.i += ch.len_utf8();
                    }
                    continue;
                }
                self.escape(out, bytes)?;
                continue;
            }
            let ch = self.text[self.i..].chars().next().unwrap_or('\u{FFFD}');
            out.push(ch);
            self.i += ch.len_utf8();
        }
    }

    fn hex(&mut self, n: usize) -> Result<u32, String> {
        let digits = self.text.get(self.i..self.i + n).filter(|d| d.bytes().all(|c| c.is_ascii_hexdigit()));
        let Some(d) = digits else {
            return self.err(&format!("expected {n} hex digits in an escape"));
        };
        self.i += n;
        u32::from_str_radix(d, 16).map_err(|e| e.to_string())
    }

    fn escape(&mut self, out: &mut String, bytes: bool) -> Result<(), String> {
        self.i += 1; // the backslash
        let Some(c) = self.peek() else {
            return self.err("a string ends in a backslash");
        };
        self.i += 1;
        let ch = match c {
            b'\n' => return Ok(()), // line continuation
            b'\\' => '\\',
            b'\'' => '\'',
            b'"' => '"',
            b'a' => '\u{7}',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'v' => '\u{b}',
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                for _ in 0..2 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            self.i += 1;
                        }
                        _ => break,
                    }
                }
                char::from_u32(v).unwrap_or('\u{FFFD}')
            }
            b'x' => char::from_u32(self.hex(2)?).unwrap_or('\u{FFFD}'),
            b'u' if !bytes => self.code_point(4)?,
            b'U' if !bytes => self.code_point(8)?,
            b'N' if !bytes && self.peek() == Some(b'{') => {
                // A named character; we have no name table, so the escape is kept as written.
                let end = self.text[self.i..].find('}').map(|e| self.i + e + 1);
                let Some(end) = end else {
                    return self.err("an unterminated \\N{…} escape");
                };
                out.push_str("\\N");
                out.push_str(&self.text[self.i..end]);
                self.i = end;
                return Ok(());
            }
            _ => {
                // Unknown escapes keep their backslash, as in Python.
                self.i -= 1;
                let ch = self.text[self.i..].chars().next().unwrap_or('\u{FFFD}');
                self.i += ch.len_utf8();
                out.push('\\');
                ch
            }
        };
        out.push(ch);
        Ok(())
    }

    fn code_point(&mut self, n: usize) -> Result<char, String> {
        let v = self.hex(n)?;
        // A surrogate pair written as two \u escapes (not what Python writes, but JSON-minded tools do).
        if (0xD800..0xDC00).contains(&v) && self.s[self.i..].starts_with(b"\\u") {
            let save = self.i;
            self.i += 2;
            if let Ok(lo) = self.hex(4) {
                if (0xDC00..0xE000).contains(&lo) {
                    let c = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                    return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
                }
            }
            self.i = save;
        }
        Ok(char::from_u32(v).unwrap_or('\u{FFFD}'))
    }
}

fn is_prefix(word: &str) -> bool {
    matches!(word.to_ascii_lowercase().as_str(), "" | "u" | "r" | "b" | "br" | "rb")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> PyValue {
        PyValue::Str(v.to_owned())
    }

    #[test]
    fn parses_repr_of_custom_properties() {
        let text = r#"{'UserName': 'victim@contoso.com', 'ClientIP': '203.0.113.50', 'UserAgent': "Mozilla/5.0 'quoted'", u'Subject': u'Invoice \u00fc\xe9 \\\\server\\share \'x\' "y"\n', 'Count': 3, 'Ok': True, 'Nothing': None, 'Ratio': -1.5e3}"#;
        let pairs = parse_dict(text).unwrap();
        assert_eq!(
            pairs,
            vec![
                ("UserName".to_owned(), "victim@contoso.com".to_owned()),
                ("ClientIP".to_owned(), "203.0.113.50".to_owned()),
                ("UserAgent".to_owned(), "Mozilla/5.0 'quoted'".to_owned()),
                ("Subject".to_owned(), "Invoice üé \\\\server\\share 'x' \"y\"\n".to_owned()),
                ("Count".to_owned(), "3".to_owned()),
                ("Ok".to_owned(), "True".to_owned()),
                ("Nothing".to_owned(), "None".to_owned()),
                ("Ratio".to_owned(), "-1.5e3".to_owned()),
            ]
        );
    }

    #[test]
    fn parses_nested_containers_prefixes_and_escapes() {
        assert_eq!(parse("{}").unwrap(), PyValue::Dict(vec![]));
        assert_eq!(
            parse("{'a': [1, (2,), {'b': None}], 'c': {1, 2}}").unwrap(),
            PyValue::Dict(vec![
                (
                    s("a"),
                    PyValue::List(vec![
                        PyValue::Int(1),
                        PyValue::List(vec![PyValue::Int(2)]),
                        PyValue::Dict(vec![(s("b"), PyValue::None)])
                    ])
                ),
                (s("c"), PyValue::List(vec![PyValue::Int(1), PyValue::Int(2)])),
            ])
        );
        assert_eq!(parse(r"r'C:\new\'x'").unwrap(), s(r"C:\new\'x"));
        assert_eq!(parse(r"b'\x00\xff'").unwrap(), s("\u{0}\u{ff}"));
        assert_eq!(parse(r"'\101\t\U0001F600\N{BULLET}\q'").unwrap(), s("A\t😀\\N{BULLET}\\q"));
        assert_eq!(parse("'a' \"b\" u'c'").unwrap(), s("abc"));
        assert_eq!(parse("'''multi\nline'''").unwrap(), s("multi\nline"));
        assert_eq!(
            parse("123456789012345678901234567890").unwrap(),
            PyValue::Number("123456789012345678901234567890".into())
        );
        assert_eq!(
            parse("[1_000, -2, +3]").unwrap(),
            PyValue::List(vec![PyValue::Int(1000), PyValue::Int(-2), PyValue::Int(3)])
        );
        assert_eq!(parse("{'k': [1, 2]}").unwrap().to_json(), serde_json::json!({"k": [1, 2]}));
    }

    #[test]
    fn refuses_what_is_not_a_literal_with_a_position() {
        assert!(parse("{'a': 'open}").unwrap_err().contains("never closed"));
        assert!(parse("{'a': 1, 'b'}").unwrap_err().contains("expected ':'"));
        assert!(parse("{'a': os.system('x')}").unwrap_err().contains("not a Python literal"));
        assert!(parse("{'a': 1} trailing").unwrap_err().contains("after the value"));
        assert!(parse("{'a': 1").unwrap_err().contains("ends too early"));
        assert!(parse_dict("[1]").unwrap_err().contains("not a Python dict"));
        assert!(parse(&"[".repeat(100)).unwrap_err().contains("nested too deeply"));
        assert!(parse("'\\x4'").unwrap_err().contains("hex digits"));
    }
}
