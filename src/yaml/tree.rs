//! Parses one chunk into documents, each a [`Node`] tree that keeps byte offsets.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, Span, Tag};

pub use saphyr_parser::ScalarStyle;

/// Bounds on what one document may cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of collections accepted.
    pub max_depth: usize,
    /// Nodes that alias expansion may create in one document before it is refused
    /// (Kubernetes refuses "excessive aliasing" too).
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 1000,
            max_alias_nodes: 100_000,
        }
    }
}

/// The content of a node.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A scalar: its value (after unescaping and folding) and how it was written.
    Scalar {
        /// The scalar's value.
        text: String,
        /// Plain, quoted, literal or folded.
        style: ScalarStyle,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order, duplicates included.
    Map(Vec<(Node, Node)>),
    /// An alias to the node with this anchor id.
    Alias(usize),
}

/// A node and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// What the node holds.
    pub value: Value,
    /// Byte offset of its first token (anchor and tag included).
    pub start: usize,
    /// Byte offset one past its last token; for block collections, the end of their last
    /// child. For a block scalar this is where the next token starts.
    pub end: usize,
    /// Line of `start`, 1-based, in the whole input.
    pub line: usize,
    /// Anchor id, 0 when it has none.
    pub anchor: usize,
    /// The tag as written (`!!str`, `!custom`), if any.
    pub tag: Option<String>,
    /// Whether the collection is written in flow style (`[...]`, `{...}`).
    pub flow: bool,
}

impl Node {
    /// The value of `key` in a mapping: the last occurrence, as Kubernetes reads it.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// How many times `key` appears in this mapping.
    #[must_use]
    pub fn key_count(&self, key: &str) -> usize {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .filter(|(k, _)| k.as_str() == Some(key))
                .count(),
            _ => 0,
        }
    }

    /// A scalar read as a string: quoted scalars always, plain ones unless they are null.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, style } => {
                if *style == ScalarStyle::Plain && self.tag.is_none() && is_null(text) {
                    None
                } else {
                    Some(text)
                }
            }
            _ => None,
        }
    }

    /// Whether this is a null (an empty plain scalar, `~` or `null`).
    #[must_use]
    pub fn is_null(&self) -> bool {
        let untagged = self.tag.is_none() || self.tag.as_deref() == Some("!!null");
        matches!(&self.value, Value::Scalar { text, style: ScalarStyle::Plain } if untagged && is_null(text))
    }

    /// The items of a sequence.
    #[must_use]
    pub fn items(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The entries of a mapping.
    #[must_use]
    pub fn entries(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// A short name for the kind of node, for messages.
    #[must_use]
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar { .. } if self.is_null() => "null",
            Value::Scalar { .. } => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
            Value::Alias(_) => "an alias",
        }
    }

    /// Whether two trees hold the same data written the same way: structure, keys, scalar
    /// values and styles, tags, flow or block (spans are not compared).
    #[must_use]
    pub fn same_data(&self, other: &Node) -> bool {
        if self.tag != other.tag || self.flow != other.flow {
            return false;
        }
        match (&self.value, &other.value) {
            (Value::Scalar { text: a, style: sa }, Value::Scalar { text: b, style: sb }) => {
                a == b && sa == sb
            }
            (Value::Seq(a), Value::Seq(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_data(y))
            }
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((ka, va), (kb, vb))| ka.same_data(kb) && va.same_data(vb))
            }
            (Value::Alias(a), Value::Alias(b)) => a == b,
            _ => false,
        }
    }

    /// Whether any mapping below (or at) this node uses a `<<` merge key, or any node is
    /// an alias.
    #[must_use]
    pub fn has_alias_or_merge(&self) -> bool {
        let mut stack = vec![self];
        while let Some(n) = stack.pop() {
            match &n.value {
                Value::Alias(_) => return true,
                Value::Scalar { .. } => {}
                Value::Seq(items) => stack.extend(items.iter()),
                Value::Map(entries) => {
                    for (k, v) in entries {
                        if is_merge_key(k) {
                            return true;
                        }
                        stack.push(k);
                        stack.push(v);
                    }
                }
            }
        }
        false
    }
}

fn is_merge_key(k: &Node) -> bool {
    matches!(&k.value, Value::Scalar { text, style: ScalarStyle::Plain } if text == "<<")
}

/// Whether a plain scalar reads as null in YAML 1.1.
#[must_use]
pub fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// One document of a chunk.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// Byte offset where the document starts (its `---` marker, if any).
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
    /// First line, 1-based.
    pub first_line: usize,
    /// Last line, 1-based.
    pub last_line: usize,
    /// The tree, when it was asked for.
    pub root: Option<Node>,
    /// Whether the root is a mapping (a candidate Kubernetes object).
    pub root_is_map: bool,
    /// Whether the document holds nothing but a null.
    pub is_empty: bool,
    /// Whether it was read by the fast reader (so it has no anchor, alias, tag or merge
    /// key).
    pub simple: bool,
}

/// Invalid YAML, with its place in the whole input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line} column {col}: {message}")]
pub struct ParseError {
    /// Line, 1-based.
    pub line: usize,
    /// Column, 1-based.
    pub col: usize,
    /// What is wrong.
    pub message: String,
    /// How many documents of the chunk were complete before the error.
    pub docs_before: usize,
}

/// Counts the line breaks in `text` (for turning chunk-relative lines into stream lines).
#[must_use]
pub fn count_lines(text: &str) -> usize {
    memchr::memchr_iter(b'\n', text.as_bytes()).count()
}

/// Maps the parser's character indices to byte offsets in the input.
struct Offsets<'a> {
    base: usize,
    table: Option<Vec<u32>>,
    text: &'a str,
}

impl<'a> Offsets<'a> {
    fn new(text: &'a str, base: usize) -> Self {
        let table = if text.is_ascii() {
            None
        } else {
            let mut t: Vec<u32> = text
                .char_indices()
                .map(|(i, _)| u32::try_from(i).unwrap_or(u32::MAX))
                .collect();
            t.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
            Some(t)
        };
        Offsets { base, table, text }
    }

    fn byte(&self, char_index: usize) -> usize {
        let local = match &self.table {
            None => char_index,
            Some(t) => t.get(char_index).map_or(self.text.len(), |&b| b as usize),
        };
        self.base + local.min(self.text.len())
    }
}

enum Frame {
    Seq(Node, Vec<Node>),
    Map(Node, Vec<(Node, Node)>, Option<Node>),
}

fn tag_text(tag: Option<&Cow<'_, Tag>>) -> Option<String> {
    tag.map(|t| {
        if t.handle == "tag:yaml.org,2002:" {
            format!("!!{}", t.suffix)
        } else if t.handle.is_empty() {
            format!("!<{}>", t.suffix)
        } else {
            format!("{}{}", t.handle, t.suffix)
        }
    })
}

fn is_flow_start(text: &str, offsets: &Offsets<'_>, span: &Span) -> bool {
    if span.end.index() <= span.start.index() {
        return false;
    }
    // The start token's span covers any anchor and tag, then `[` or `{` (and, for some
    // inputs, the spaces after it); a block collection's span holds neither.
    let start = offsets.byte(span.start.index()) - offsets.base;
    let end = offsets.byte(span.end.index()) - offsets.base;
    text.as_bytes()
        .get(start..end)
        .is_some_and(|t| t.iter().any(|&b| b == b'[' || b == b'{'))
}

/// One past the closing quote of the quoted scalar that starts at `start` of `text` (the
/// parser's span may also cover the spaces and comment after it).
fn quoted_end(text: &str, start: usize) -> Option<usize> {
    let b = text.as_bytes();
    let quote = *b.get(start)?;
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' if quote == b'"' => i += 2,
            c if c == quote => {
                if quote == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                } else {
                    return Some(i + 1);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// One past the bracket that closes the flow collection opening at or after `start` of
/// `text` (skipping an anchor or tag before it), minding quotes and comments. The parser's
/// end span stops short of it after a trailing comma.
pub(crate) fn flow_end(text: &str, start: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = start
        + b.get(start..)?
            .iter()
            .position(|&c| c == b'[' || c == b'{')?;
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'"' | b'\'' => i = quoted_end(text, i)? - 1,
            b'#' if i > 0 && matches!(b[i - 1], b' ' | b'\t' | b'\n' | b'\r') => {
                i += b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .unwrap_or(b.len() - i)
                    - 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// An error at the end of the chunk (an unclosed flow collection or quoted scalar) is
/// placed by the parser after the last line break, on a line past the end of the text or on
/// the next document's separator: it is cited at the end of the last line with content
/// instead. `line` and `col` are 1-based and relative to `text`.
fn clamp_to_content(text: &str, line: usize, col: usize) -> (usize, usize) {
    let content = text.trim_end();
    let last_line = count_lines(content) + 1;
    if line <= last_line {
        return (line, col);
    }
    let last = content.rsplit('\n').next().unwrap_or(content);
    (last_line, last.chars().count() + 1)
}

/// Parses the chunk `text` (which starts at byte `base` and line `base_line` of the
/// input). With `build` false only spans are recorded (the text is still fully
/// validated); with `build` true each document carries its tree.
///
/// # Errors
/// A [`ParseError`] for invalid YAML or a document nested deeper than the limit.
pub fn parse_chunk(
    text: &str,
    base: usize,
    base_line: usize,
    limits: &Limits,
    build: bool,
) -> Result<Vec<Document>, ParseError> {
    let offsets = Offsets::new(text, base);
    let mut parser = Parser::new_from_str(text).keep_tags(true);
    let mut docs: Vec<Document> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut depth = 0usize;
    let mut current: Option<Document> = None;
    let line_of = |m: &saphyr_parser::Marker| base_line + m.line() - 1;
    let err_at = |m: &saphyr_parser::Marker, message: String, docs_before: usize| {
        let (line, col) = clamp_to_content(text, m.line(), m.col() + 1);
        ParseError {
            line: base_line + line - 1,
            col,
            message,
            docs_before,
        }
    };
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(x) => x,
            Err(e) => {
                let m = e.marker();
                return Err(err_at(m, e.info().to_owned(), docs.len()));
            }
        };
        let start = offsets.byte(span.start.index());
        let end = offsets.byte(span.end.index());
        let mut finished: Option<Node> = None;
        let is_map = matches!(event, Event::MappingStart(..));
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                current = Some(Document {
                    start,
                    end,
                    first_line: line_of(&span.start),
                    last_line: line_of(&span.end),
                    root: None,
                    root_is_map: false,
                    is_empty: true,
                    simple: false,
                });
            }
            Event::DocumentEnd => {
                if let Some(mut d) = current.take() {
                    d.end = d.end.max(end);
                    d.last_line = d.last_line.max(line_of(&span.end));
                    docs.push(d);
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let end = if matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted)
                {
                    // Skip an anchor or tag before the quote.
                    let local = start - offsets.base;
                    text.as_bytes()[local.min(text.len())..]
                        .iter()
                        .position(|&c| c == b'"' || c == b'\'')
                        .and_then(|q| quoted_end(text, local + q))
                        .map_or(end, |e| offsets.base + e)
                } else {
                    end
                };
                let node = Node {
                    value: Value::Scalar {
                        text: if build {
                            value.into_owned()
                        } else {
                            String::new()
                        },
                        style,
                    },
                    start,
                    end,
                    line: line_of(&span.start),
                    anchor,
                    tag: tag_text(tag.as_ref()),
                    flow: false,
                };
                if depth == 0
                    && let Some(d) = current.as_mut()
                {
                    d.is_empty = node.is_null_text_unbuilt(build);
                }
                finished = Some(node);
            }
            Event::Alias(id) => {
                if depth == 0
                    && let Some(d) = current.as_mut()
                {
                    d.is_empty = false;
                }
                finished = Some(Node {
                    value: Value::Alias(id),
                    start,
                    end,
                    line: line_of(&span.start),
                    anchor: 0,
                    tag: None,
                    flow: false,
                });
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                if depth == 0
                    && let Some(d) = current.as_mut()
                {
                    d.is_empty = false;
                    d.root_is_map = is_map;
                }
                depth += 1;
                if depth > limits.max_depth {
                    return Err(err_at(
                        &span.start,
                        format!(
                            "nesting is deeper than {} levels (raise the limit with --max-depth)",
                            limits.max_depth
                        ),
                        docs.len(),
                    ));
                }
                if build {
                    let node = Node {
                        value: Value::Scalar {
                            text: String::new(),
                            style: ScalarStyle::Plain,
                        },
                        start,
                        end,
                        line: line_of(&span.start),
                        anchor,
                        tag: tag_text(tag.as_ref()),
                        flow: is_flow_start(text, &offsets, &span),
                    };
                    stack.push(if is_map {
                        Frame::Map(node, Vec::new(), None)
                    } else {
                        Frame::Seq(node, Vec::new())
                    });
                }
            }
            Event::SequenceEnd | Event::MappingEnd => {
                depth = depth.saturating_sub(1);
                if build {
                    finished = match stack.pop() {
                        Some(Frame::Seq(mut node, items)) => {
                            node.end = if node.flow {
                                flow_end(text, node.start - offsets.base)
                                    .map_or(end, |e| offsets.base + e)
                            } else {
                                items.last().map_or(node.end, |n| n.end)
                            };
                            node.value = Value::Seq(items);
                            Some(node)
                        }
                        Some(Frame::Map(mut node, entries, _)) => {
                            node.end = if node.flow {
                                flow_end(text, node.start - offsets.base)
                                    .map_or(end, |e| offsets.base + e)
                            } else {
                                entries.last().map_or(node.end, |(_, v)| v.end)
                            };
                            node.value = Value::Map(entries);
                            Some(node)
                        }
                        None => None,
                    };
                }
            }
        }
        if let (true, Some(node)) = (build, finished) {
            match stack.last_mut() {
                Some(Frame::Seq(_, items)) => items.push(node),
                Some(Frame::Map(_, entries, pending)) => match pending.take() {
                    Some(key) => entries.push((key, node)),
                    None => *pending = Some(node),
                },
                None => {
                    if let Some(d) = current.as_mut() {
                        d.root = Some(node);
                    }
                }
            }
        }
    }
    if let Some(d) = current.take() {
        docs.push(d);
    }
    Ok(docs)
}

impl Node {
    fn is_null_text_unbuilt(&self, built: bool) -> bool {
        // Without a built tree the text is not kept; a zero-length plain scalar is the only
        // empty document that matters (`---` followed by nothing).
        match &self.value {
            Value::Scalar {
                style: ScalarStyle::Plain,
                text,
            } if self.tag.is_none() && self.anchor == 0 => {
                if built {
                    is_null(text)
                } else {
                    self.start == self.end
                }
            }
            _ => false,
        }
    }
}

/// Validates a chunk without building trees.
///
/// # Errors
/// As [`parse_chunk`].
pub fn validate_chunk(
    text: &str,
    base: usize,
    base_line: usize,
    limits: &Limits,
) -> Result<Vec<Document>, ParseError> {
    parse_chunk(text, base, base_line, limits, false)
}

/// Why a document could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// Too many nodes created by aliases.
    #[error(
        "excessive aliasing: expanding aliases creates more than {limit} nodes (raise the limit with --max-alias-nodes)"
    )]
    TooManyAliasNodes {
        /// The limit in force.
        limit: usize,
    },
    /// A merge key whose value is not a mapping or a list of mappings.
    #[error("line {line}: a `<<` merge key must hold a mapping or a list of mappings")]
    BadMerge {
        /// Where.
        line: usize,
    },
}

impl Node {
    /// The tree as Kubernetes reads it: aliases expanded, `<<` merge keys applied the way
    /// go-yaml v2 applies them (in order, later keys win), duplicate keys collapsed to
    /// their last value.
    ///
    /// # Errors
    /// [`ResolveError`] when expansion would exceed the limit or a merge is malformed.
    pub fn resolve(&self, limits: &Limits) -> Result<Node, ResolveError> {
        let mut anchors: HashMap<usize, &Node> = HashMap::new();
        collect_anchors(self, &mut anchors);
        let mut budget = limits.max_alias_nodes;
        resolve_node(self, &anchors, &mut budget, limits.max_alias_nodes, false)
    }
}

fn collect_anchors<'a>(node: &'a Node, anchors: &mut HashMap<usize, &'a Node>) {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.anchor != 0 {
            anchors.entry(n.anchor).or_insert(n);
        }
        match &n.value {
            Value::Seq(items) => stack.extend(items.iter()),
            Value::Map(entries) => {
                for (k, v) in entries {
                    stack.push(k);
                    stack.push(v);
                }
            }
            _ => {}
        }
    }
}

fn resolve_node(
    node: &Node,
    anchors: &HashMap<usize, &Node>,
    budget: &mut usize,
    limit: usize,
    in_alias: bool,
) -> Result<Node, ResolveError> {
    if in_alias {
        if *budget == 0 {
            return Err(ResolveError::TooManyAliasNodes { limit });
        }
        *budget -= 1;
    }
    let value = match &node.value {
        Value::Alias(id) => {
            return match anchors.get(id) {
                Some(target) => resolve_node(target, anchors, budget, limit, true),
                None => Ok(Node {
                    value: Value::Scalar {
                        text: String::new(),
                        style: ScalarStyle::Plain,
                    },
                    ..node.clone()
                }),
            };
        }
        Value::Scalar { .. } => node.value.clone(),
        Value::Seq(items) => Value::Seq(
            items
                .iter()
                .map(|i| resolve_node(i, anchors, budget, limit, in_alias))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(entries) => {
            let mut out: Vec<(Node, Node)> = Vec::new();
            for (k, v) in entries {
                if is_merge_key(k) {
                    let v = resolve_node(v, anchors, budget, limit, in_alias)?;
                    let sources: Vec<&Node> = match &v.value {
                        Value::Map(_) => vec![&v],
                        // go-yaml v2 merges a list of maps from last to first, so the
                        // first map wins.
                        Value::Seq(items) => items.iter().rev().collect(),
                        _ => return Err(ResolveError::BadMerge { line: k.line }),
                    };
                    for s in sources {
                        let Value::Map(src) = &s.value else {
                            return Err(ResolveError::BadMerge { line: k.line });
                        };
                        for (mk, mv) in src {
                            set_entry(&mut out, mk.clone(), mv.clone());
                        }
                    }
                    continue;
                }
                let rk = resolve_node(k, anchors, budget, limit, in_alias)?;
                let rv = resolve_node(v, anchors, budget, limit, in_alias)?;
                set_entry(&mut out, rk, rv);
            }
            Value::Map(out)
        }
    };
    Ok(Node {
        value,
        anchor: 0,
        ..node.clone_shallow()
    })
}

fn set_entry(out: &mut Vec<(Node, Node)>, k: Node, v: Node) {
    let key = match &k.value {
        Value::Scalar { text, .. } => Some(text.clone()),
        _ => None,
    };
    if let Some(key) = key
        && let Some(slot) = out
            .iter_mut()
            .find(|(ek, _)| matches!(&ek.value, Value::Scalar { text, .. } if *text == key))
    {
        slot.1 = v;
        return;
    }
    out.push((k, v));
}

impl Node {
    fn clone_shallow(&self) -> Node {
        Node {
            value: Value::Scalar {
                text: String::new(),
                style: ScalarStyle::Plain,
            },
            start: self.start,
            end: self.end,
            line: self.line,
            anchor: self.anchor,
            tag: self.tag.clone(),
            flow: self.flow,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Node {
        let docs = parse_chunk(s, 0, 1, &Limits::default(), true).expect("valid");
        docs.into_iter()
            .next()
            .and_then(|d| d.root)
            .expect("a root")
    }

    #[test]
    fn spans_are_bytes() {
        let s = "a: \"é\"\nb: [1, 2]\nc: x\n";
        let n = parse(s);
        let b = n.get("b").expect("b");
        assert!(b.flow);
        assert_eq!(&s[b.start..b.end], "[1, 2]");
        let c = n.get("c").expect("c");
        assert_eq!(&s[c.start..c.end], "x");
    }

    #[test]
    fn last_duplicate_wins() {
        let n = parse("a: 1\na: 2\n");
        assert_eq!(n.get("a").and_then(Node::as_str), Some("2"));
        assert_eq!(n.key_count("a"), 2);
    }

    #[test]
    fn merges_like_go_yaml_v2() {
        let n = parse("x: &m {a: 1, b: 2}\ny:\n  b: 3\n  <<: *m\n  c: 4\n");
        let r = n.resolve(&Limits::default()).expect("resolves");
        let y = r.get("y").expect("y");
        assert_eq!(y.get("a").and_then(Node::as_str), Some("1"));
        assert_eq!(y.get("b").and_then(Node::as_str), Some("2"));
        assert_eq!(y.get("c").and_then(Node::as_str), Some("4"));
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            s.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let n = parse(&s);
        assert!(matches!(
            n.resolve(&Limits::default()),
            Err(ResolveError::TooManyAliasNodes { .. })
        ));
    }

    #[test]
    fn depth_is_bounded() {
        let mut s = String::new();
        for i in 0..1500 {
            s.push_str(&" ".repeat(i));
            s.push_str("a:\n");
        }
        let err = parse_chunk(&s, 0, 1, &Limits::default(), false).expect_err("too deep");
        assert!(err.message.contains("deeper than 1000"), "{err}");
        let err =
            parse_chunk(&"[".repeat(5000), 0, 1, &Limits::default(), false).expect_err("too deep");
        assert!(err.message.contains("recursion limit"), "{err}");
    }
}
