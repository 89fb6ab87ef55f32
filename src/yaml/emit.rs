//! Writing YAML: the small values the tool inserts ([`Val`]), in block or JSON form, and
//! whole documents re-emitted from a resolved tree when an in-place edit is impossible.
//!
//! Every scalar is written so that go-yaml v2 (what Kubernetes reads through
//! sigs.k8s.io/yaml) resolves it to the same value it had: plain scalars keep their text
//! (the text decides their type), everything that was quoted or a block scalar is written
//! double-quoted (always a string).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::Arc;

use super::tree::{Node, ScalarStyle, Value, is_null};

/// A value the tool inserts.
#[derive(Clone, Debug, Eq)]
pub enum Val {
    /// A string; quoted when it could read as anything else.
    Str(String),
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A mapping, in order.
    Map(Vec<(String, Val)>),
    /// A sequence.
    Seq(Vec<Val>),
    /// A value prepared once and inserted in many places (the mounts every container
    /// gets): written exactly as the value itself.
    Shared(Arc<Val>),
}

/// Values are equal when they are written the same; a shared value is equal to itself
/// without a look inside (the render cache compares the values of every insertion).
impl PartialEq for Val {
    fn eq(&self, other: &Val) -> bool {
        match (self, other) {
            (Val::Shared(a), Val::Shared(b)) => Arc::ptr_eq(a, b) || a == b,
            (Val::Str(a), Val::Str(b)) => a == b,
            (Val::Bool(a), Val::Bool(b)) => a == b,
            (Val::Int(a), Val::Int(b)) => a == b,
            (Val::Map(a), Val::Map(b)) => a == b,
            (Val::Seq(a), Val::Seq(b)) => a == b,
            _ => false,
        }
    }
}

impl Val {
    /// The value itself, looked through any [`Val::Shared`] around it.
    #[must_use]
    pub fn unshared(&self) -> &Val {
        let mut v = self;
        while let Val::Shared(inner) = v {
            v = inner;
        }
        v
    }

    /// A string value.
    #[must_use]
    pub fn str(s: impl Into<String>) -> Val {
        Val::Str(s.into())
    }

    /// A mapping from pairs.
    #[must_use]
    pub fn map<const N: usize>(pairs: [(&str, Val); N]) -> Val {
        Val::Map(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }
}

/// Layout of inserted block YAML, matched to the surrounding document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Extra indentation of a nested mapping's keys.
    pub map_indent: usize,
    /// Indentation of a sequence's dashes relative to its parent key (0 or 2 in practice).
    pub seq_indent: usize,
    /// The line ending, `\n` or `\r\n`.
    pub newline: &'static str,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            map_indent: 2,
            seq_indent: 0,
            newline: "\n",
        }
    }
}

/// Writes `val` as JSON (also valid flow YAML).
#[must_use]
pub fn render_json(val: &Val) -> String {
    let mut out = String::new();
    json_into(val, &mut out);
    out
}

fn json_into(val: &Val, out: &mut String) {
    match val {
        Val::Shared(v) => json_into(v, out),
        Val::Str(s) => json_string(s, out),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Val::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_string(k, out);
                out.push_str(": ");
                json_into(v, out);
            }
            out.push('}');
        }
        Val::Seq(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_into(v, out);
            }
            out.push(']');
        }
    }
}

/// Writes `val` as indented JSON (also valid flow YAML), the way pretty-printed JSON
/// looks: nested entries one per line, `step` columns deeper than the line holding their
/// bracket, which sits at column `col`.
#[must_use]
pub fn render_json_pretty(val: &Val, col: usize, step: usize, newline: &str) -> String {
    let mut out = String::new();
    pretty_into(val, col, step, newline, &mut out);
    out
}

fn pretty_into(val: &Val, col: usize, step: usize, newline: &str, out: &mut String) {
    let (open, close, len) = match val {
        Val::Shared(v) => return pretty_into(v, col, step, newline, out),
        Val::Map(m) => ('{', '}', m.len()),
        Val::Seq(s) => ('[', ']', s.len()),
        _ => return json_into(val, out),
    };
    if len == 0 {
        return json_into(val, out);
    }
    out.push(open);
    for i in 0..len {
        if i > 0 {
            out.push(',');
        }
        out.push_str(newline);
        pad(out, col + step);
        match val {
            Val::Map(m) => {
                if let Some((k, v)) = m.get(i) {
                    json_string(k, out);
                    out.push_str(": ");
                    pretty_into(v, col + step, step, newline, out);
                }
            }
            Val::Seq(s) => {
                if let Some(v) = s.get(i) {
                    pretty_into(v, col + step, step, newline, out);
                }
            }
            _ => {}
        }
    }
    out.push_str(newline);
    pad(out, col);
    out.push(close);
}

/// Writes a double-quoted string that YAML and JSON read alike.
pub(crate) fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20
                || c == '\u{7f}'
                || c == '\u{feff}'
                || ('\u{80}'..='\u{9f}').contains(&c)
                || c == '\u{2028}'
                || c == '\u{2029}' =>
            {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Whether `s` can be written as a plain scalar that reads back as the same *string* in
/// YAML 1.1 and 1.2 (so: nothing that looks like a bool, null, number or timestamp).
pub fn is_plain_string(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '/' || first == '_') {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-=+,@".contains(c))
    {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    !matches!(
        lower.as_str(),
        "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null" | "nan" | "inf"
    )
}

/// Writes a value where a scalar goes in block context: a scalar as
/// [`emit_document`] writes it, a non-empty collection as JSON.
pub(crate) fn scalar_for_block(val: &Val, out: &mut String) {
    match val {
        Val::Shared(v) => scalar_for_block(v, out),
        Val::Map(m) if !m.is_empty() => json_into(val, out),
        Val::Seq(s) if !s.is_empty() => json_into(val, out),
        _ => emit_scalar(&val_to_node(val), out),
    }
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Writes `key: val` as block YAML with the key at column `col`.
pub fn render_entry(key: &str, val: &Val, col: usize, layout: &Layout, out: &mut String) {
    let entry = [(val_to_node(&Val::str(key)), val_to_node(val))];
    // Keys are strings here, the one case emitting can refuse cannot happen.
    let _ = emit_entries(&entry, col, layout, out);
}

/// A rendered snippet: `key: val` at column `col` when `key` is given, `- val` with the
/// dash at `col` otherwise.
struct Rendered {
    key: Option<String>,
    val: Val,
    col: usize,
    layout: Layout,
    text: Arc<str>,
    /// The snippet asked for right after this one, the last time (an index, checked
    /// before it is trusted).
    next: usize,
}

impl Rendered {
    /// Whether this is the snippet for these inputs: the column and key first (they tell
    /// most snippets apart), strings by length, then by address, and only then by content,
    /// the value last (a shared one by address).
    #[inline]
    fn is(&self, key: Option<&str>, val: &Val, col: usize, layout: &Layout) -> bool {
        self.col == col
            && match (self.key.as_deref(), key) {
                (Some(a), Some(b)) => same_str(a, b),
                (None, None) => true,
                _ => false,
            }
            && self.layout.map_indent == layout.map_indent
            && self.layout.seq_indent == layout.seq_indent
            && same_str(self.layout.newline, layout.newline)
            && match (&self.val, val) {
                (Val::Shared(a), Val::Shared(b)) if Arc::ptr_eq(a, b) => true,
                (a, b) => a == b,
            }
    }
}

/// `a == b`, without a look at the bytes when the lengths differ or the addresses agree.
fn same_str(a: &str, b: &str) -> bool {
    a.len() == b.len() && (std::ptr::eq(a.as_ptr(), b.as_ptr()) || a == b)
}

/// Distinct snippets kept per thread, the most recently rendered last; past this the oldest
/// goes, so a stream that inserts at ever new columns cannot grow the cache without bound.
/// A workload-dense stream inserts the same few values at the same few columns for every
/// workload: each is rendered once and its text shared by every splice that inserts it.
const RENDER_CACHE_MAX: usize = 64;

/// The snippets, and which one was asked for last: the documents of a stream insert their
/// snippets in the same order, so the one asked for next is most often the one that came
/// after it the time before.
#[derive(Default)]
struct RenderCache {
    snippets: Vec<Rendered>,
    last: usize,
}

thread_local! {
    static RENDER_CACHE: RefCell<RenderCache> = RefCell::new(RenderCache::default());
}

/// [`render_entry`] (with `key`) or [`render_item`] (without), rendered once per thread for
/// each distinct input and shared.
pub(crate) fn render_shared(key: Option<&str>, val: &Val, col: usize, layout: &Layout) -> Arc<str> {
    RENDER_CACHE.with_borrow_mut(|cache| {
        // The one that followed the last one asked for first, then a linear scan (the
        // cache is small, and the cheap fields reject most entries before the values are
        // compared).
        let last = cache.last;
        let hit = cache
            .snippets
            .get(last)
            .map(|r| r.next)
            .filter(|&g| {
                cache
                    .snippets
                    .get(g)
                    .is_some_and(|r| r.is(key, val, col, layout))
            })
            .or_else(|| {
                cache
                    .snippets
                    .iter()
                    .rposition(|r| r.is(key, val, col, layout))
            });
        if let Some(i) = hit
            && let Some(r) = cache.snippets.get(i)
        {
            let text = Arc::clone(&r.text);
            if let Some(prev) = cache.snippets.get_mut(last) {
                prev.next = i;
            }
            cache.last = i;
            return text;
        }
        let mut text = String::new();
        match key {
            Some(k) => render_entry(k, val, col, layout, &mut text),
            None => render_item(val, col, layout, &mut text),
        }
        let text: Arc<str> = text.into();
        let full = cache.snippets.len() >= RENDER_CACHE_MAX;
        if full {
            cache.snippets.remove(0);
        }
        let new = cache.snippets.len();
        // Once the oldest went, the indices moved: no link until the next hit.
        if let Some(prev) = cache.snippets.get_mut(last).filter(|_| !full) {
            prev.next = new;
        }
        cache.snippets.push(Rendered {
            key: key.map(str::to_owned),
            val: val.clone(),
            col,
            layout: *layout,
            text: Arc::clone(&text),
            next: 0,
        });
        cache.last = new;
        text
    })
}

/// Writes `- val` as block YAML with the dash at column `dash`.
pub fn render_item(val: &Val, dash: usize, layout: &Layout, out: &mut String) {
    let _ = emit_items(&[val_to_node(val)], dash, layout, out);
}

/// The tree of a value the tool inserts: strings plain where they read back as the same
/// string, double-quoted otherwise.
#[must_use]
pub fn val_to_node(v: &Val) -> Node {
    let value = match v {
        Val::Shared(v) => return val_to_node(v),
        Val::Str(s) => Value::Scalar {
            text: s.into(),
            style: if is_plain_string(s) {
                ScalarStyle::Plain
            } else {
                ScalarStyle::DoubleQuoted
            },
        },
        Val::Bool(b) => Value::Scalar {
            text: smol_str::ToSmolStr::to_smolstr(b),
            style: ScalarStyle::Plain,
        },
        Val::Int(i) => Value::Scalar {
            text: smol_str::ToSmolStr::to_smolstr(i),
            style: ScalarStyle::Plain,
        },
        Val::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (val_to_node(&Val::Str(k.clone())), val_to_node(v)))
                .collect(),
        ),
        Val::Seq(items) => Value::Seq(items.iter().map(val_to_node).collect()),
    };
    Node {
        value,
        start: 0,
        end: 0,
        line: 0,
        anchor: 0,
        tag: None,
        flow: false,
        unique_keys: false,
    }
}

/// Why a resolved tree cannot be written back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// A mapping key that is itself a collection.
    #[error("line {line}: a mapping key that is a list or mapping cannot be written back")]
    ComplexKey {
        /// Where.
        line: usize,
    },
}

/// Re-emits a resolved tree as block YAML (keys at column 0, nested mappings indented by
/// two, sequences not indented), keeping what every scalar reads as.
///
/// # Errors
/// An `EmitError` for mapping keys that are collections.
pub fn emit_document(node: &Node, newline: &'static str) -> Result<String, EmitError> {
    let layout = Layout {
        map_indent: 2,
        seq_indent: 0,
        newline,
    };
    let mut out = String::new();
    match &node.value {
        Value::Map(entries) if !entries.is_empty() => emit_entries(entries, 0, &layout, &mut out)?,
        Value::Seq(items) if !items.is_empty() => emit_items(items, 0, &layout, &mut out)?,
        _ => {
            emit_scalar(node, &mut out);
            out.push_str(newline);
        }
    }
    Ok(out)
}

fn node_is_nested(n: &Node) -> bool {
    matches!(&n.value, Value::Map(m) if !m.is_empty())
        || matches!(&n.value, Value::Seq(s) if !s.is_empty())
}

fn emit_entries(
    entries: &[(Node, Node)],
    col: usize,
    layout: &Layout,
    out: &mut String,
) -> Result<(), EmitError> {
    for (k, v) in entries {
        if !matches!(k.value, Value::Scalar { .. }) {
            return Err(EmitError::ComplexKey { line: k.line });
        }
        pad(out, col);
        emit_scalar(k, out);
        out.push(':');
        match &v.value {
            Value::Map(m) if !m.is_empty() => {
                out.push_str(layout.newline);
                emit_entries(m, col + layout.map_indent, layout, out)?;
            }
            Value::Seq(s) if !s.is_empty() => {
                out.push_str(layout.newline);
                emit_items(s, col + layout.seq_indent, layout, out)?;
            }
            _ => {
                out.push(' ');
                emit_scalar(v, out);
                out.push_str(layout.newline);
            }
        }
    }
    Ok(())
}

fn emit_items(
    items: &[Node],
    dash: usize,
    layout: &Layout,
    out: &mut String,
) -> Result<(), EmitError> {
    for item in items {
        if node_is_nested(item) {
            let mut inner = String::new();
            match &item.value {
                Value::Map(m) => emit_entries(m, dash + 2, layout, &mut inner)?,
                Value::Seq(s) => emit_items(s, dash + 2, layout, &mut inner)?,
                _ => {}
            }
            pad(out, dash);
            out.push_str("- ");
            out.push_str(inner.get(dash + 2..).unwrap_or(""));
        } else {
            pad(out, dash);
            out.push_str("- ");
            emit_scalar(item, out);
            out.push_str(layout.newline);
        }
    }
    Ok(())
}

/// Whether a plain scalar's text can be written plain in block context unchanged.
fn plain_text_is_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.contains('\n') || s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if first.is_whitespace() || s.ends_with(char::is_whitespace) {
        return false;
    }
    if ",[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if "-?:".contains(first) && s.chars().nth(1).is_none_or(char::is_whitespace) {
        return false;
    }
    !s.starts_with("---") && !s.starts_with("...")
}

fn emit_scalar(node: &Node, out: &mut String) {
    if let Some(tag) = &node.tag {
        out.push_str(tag);
        out.push(' ');
    }
    match &node.value {
        Value::Scalar {
            text,
            style: ScalarStyle::Plain,
        } => {
            if node.tag.is_none() && is_null(text) {
                out.push_str(if text.is_empty() { "null" } else { text });
            } else if plain_text_is_safe(text) {
                out.push_str(text);
            } else {
                json_string(text, out);
            }
        }
        Value::Scalar { text, .. } => json_string(text, out),
        Value::Map(_) => out.push_str("{}"),
        Value::Seq(_) => out.push_str("[]"),
        Value::Alias(_) => out.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared render gives what a fresh render gives, whatever the order of the
    /// requests: repeated, interleaved, past the cache's room (the oldest went), with
    /// keys, values and layouts that differ in one field only.
    #[test]
    fn shared_renders_are_fresh_renders() {
        let shared = Val::Shared(Arc::new(Val::Seq(vec![Val::map([(
            "name",
            Val::str("v"),
        )])])));
        let crlf = Layout {
            newline: "\r\n",
            ..Layout::default()
        };
        let wide = Layout {
            map_indent: 4,
            ..Layout::default()
        };
        let mut asks = Vec::new();
        for round in 0..3 {
            for col in 0..(RENDER_CACHE_MAX + 8) {
                let col = if round == 1 { col % 3 } else { col };
                asks.push((Some("env"), shared.clone(), col, Layout::default()));
                asks.push((Some("envs"), shared.clone(), col, Layout::default()));
                asks.push((None, shared.clone(), col, crlf));
                asks.push((Some("env"), Val::str("x"), col, wide));
                asks.push((Some("env"), Val::str("y"), col, wide));
            }
        }
        for (key, val, col, layout) in &asks {
            let mut fresh = String::new();
            match key {
                Some(k) => render_entry(k, val, *col, layout, &mut fresh),
                None => render_item(val, *col, layout, &mut fresh),
            }
            assert_eq!(&*render_shared(*key, val, *col, layout), fresh);
        }
    }

    #[test]
    fn quotes_what_could_read_as_something_else() {
        let mut out = String::new();
        for s in [
            "yes",
            "0644",
            "true",
            "/etc/ssl",
            "-Dx=y",
            "a b",
            "trust-bundle",
            "1.5",
        ] {
            scalar_for_block(&Val::str(s), &mut out);
            out.push('|');
        }
        assert_eq!(
            out,
            "\"yes\"|\"0644\"|\"true\"|/etc/ssl|\"-Dx=y\"|\"a b\"|trust-bundle|\"1.5\"|"
        );
    }

    #[test]
    fn renders_items_with_maps() {
        let v = Val::map([
            ("name", Val::str("x")),
            ("configMap", Val::map([("name", Val::str("c"))])),
        ]);
        let mut out = String::new();
        render_item(&v, 4, &Layout::default(), &mut out);
        assert_eq!(out, "    - name: x\n      configMap:\n        name: c\n");
        assert_eq!(
            render_json(&v),
            r#"{"name": "x", "configMap": {"name": "c"}}"#
        );
    }
}
