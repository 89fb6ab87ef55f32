//! Parses one chunk into documents, each a [`Node`] tree that keeps byte offsets.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, Span, Tag};
use smol_str::SmolStr;

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
        /// The scalar's value (short ones are stored inline, without an allocation).
        text: SmolStr,
        /// Plain, quoted, literal or folded.
        style: ScalarStyle,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order, duplicates included.
    Map(Vec<(Node, Node)>),
    /// An alias to the node with this anchor id.
    Alias(u32),
}

/// A node and where it came from.
#[derive(Clone, Debug)]
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
    /// Anchor id, 0 when it has none (the parser's ids count the document's anchors).
    pub anchor: u32,
    /// The tag as written (`!!str`, `!custom`), if any (rare: a boxed `str` keeps the
    /// node small).
    pub tag: Option<Box<str>>,
    /// Whether the collection is written in flow style (`[...]`, `{...}`).
    pub flow: bool,
    /// Known true only on the root of a tree the fast reader built: no mapping in the tree
    /// has two keys of the same text (the reader compared each mapping's keys as it read
    /// them), so there is no duplicate key to look for. `false` means not known. Not part
    /// of the node's data (`==` ignores it); a tree changed after it was read must not
    /// keep it.
    pub unique_keys: bool,
}

impl PartialEq for Node {
    /// Equal data and places; [`Node::unique_keys`], a note of what is known, is ignored.
    fn eq(&self, other: &Node) -> bool {
        self.value == other.value
            && self.start == other.start
            && self.end == other.end
            && self.line == other.line
            && self.anchor == other.anchor
            && self.tag == other.tag
            && self.flow == other.flow
    }
}

impl Node {
    /// The value of `key` in a mapping: the last occurrence, as Kubernetes reads it.
    #[must_use]
    #[inline]
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.is_key(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Whether this node, as a mapping key, is `key` (`k.as_str() == Some(key)`): the
    /// lengths are compared first (most keys differ in length), then the first bytes (most
    /// keys of one length differ there), and only then the texts.
    #[inline]
    fn is_key(&self, key: &str) -> bool {
        match &self.value {
            Value::Scalar { text, style } => {
                let t = text.as_bytes();
                let k = key.as_bytes();
                t.len() == k.len()
                    && t.first() == k.first()
                    && t == k
                    && !(is_null(key) && *style == ScalarStyle::Plain && self.tag.is_none())
            }
            _ => false,
        }
    }

    /// How many times `key` appears in this mapping.
    #[must_use]
    pub fn key_count(&self, key: &str) -> usize {
        match &self.value {
            Value::Map(entries) => entries.iter().filter(|(k, _)| k.is_key(key)).count(),
            _ => 0,
        }
    }

    /// A scalar read as a string: quoted scalars always, plain ones unless they are null.
    #[must_use]
    #[inline]
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, style } => {
                // The text is looked up once (`SmolStr` branches on where it keeps it).
                let text = text.as_str();
                if is_null(text) && *style == ScalarStyle::Plain && self.tag.is_none() {
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

impl Node {
    /// Whether the text at `path` can be edited in place in a document that uses aliases
    /// or merge keys: no node on the way (the root and the target included) is an alias,
    /// carries an anchor that an alias refers to (its aliases would change too), or is a
    /// mapping with a merge key (what Kubernetes reads there is not what is written).
    #[must_use]
    pub fn path_is_unshared(&self, path: &super::Path) -> bool {
        let mut aliased = std::collections::HashSet::new();
        let mut stack = vec![self];
        while let Some(n) = stack.pop() {
            match &n.value {
                Value::Alias(id) => {
                    aliased.insert(*id);
                }
                Value::Seq(items) => stack.extend(items.iter()),
                Value::Map(entries) => {
                    for (k, v) in entries {
                        stack.push(k);
                        stack.push(v);
                    }
                }
                Value::Scalar { .. } => {}
            }
        }
        let shared = |n: &Node| {
            matches!(n.value, Value::Alias(_))
                || (n.anchor != 0 && aliased.contains(&n.anchor))
                || n.entries()
                    .is_some_and(|e| e.iter().any(|(k, _)| is_merge_key(k)))
        };
        let mut node = self;
        for seg in &path.0 {
            if shared(node) {
                return false;
            }
            node = match seg {
                super::PathSeg::Key(k) => match node.get(k) {
                    Some(n) => n,
                    None => return false,
                },
                super::PathSeg::Index(i) => match node.items().and_then(|items| items.get(*i)) {
                    Some(n) => n,
                    None => return false,
                },
            };
        }
        !shared(node)
    }
}

impl Node {
    /// Whether go-yaml v2 takes this mapping key for a `<<` merge key.
    #[must_use]
    pub fn is_merge_key(&self) -> bool {
        is_merge_key(self)
    }
}

/// Whether go-yaml v2 takes the key `k` for a merge key: a plain `<<` that is untagged or
/// carries the non-specific tag `!`, or a `<<` in any style tagged `!!merge`. A quoted `"<<"` or a
/// `!!str <<` is an ordinary key named `<<`.
fn is_merge_key(k: &Node) -> bool {
    let Value::Scalar { text, style } = &k.value else {
        return false;
    };
    match k.tag.as_deref() {
        None | Some("!<!>" | "!") => *style == ScalarStyle::Plain && text == "<<",
        Some("!!merge" | "!<tag:yaml.org,2002:merge>") => text == "<<",
        Some(_) => false,
    }
}

/// Whether a plain scalar reads as null in YAML 1.1.
#[must_use]
#[inline]
pub fn is_null(text: &str) -> bool {
    match text.len() {
        0 => true,
        1 => text == "~",
        4 => matches!(text, "null" | "Null" | "NULL"),
        _ => false,
    }
}

/// The lists of trees dropped on this thread, emptied and kept for the next trees it
/// builds: a stream of small documents then costs no allocation per collection. Lists are
/// kept by size class (a power of two of entries, up to [`POOL_CLASSES`]), at most
/// [`POOL_DEPTH`] of each.
#[derive(Default)]
struct Pool {
    maps: [Vec<Vec<(Node, Node)>>; POOL_CLASSES],
    seqs: [Vec<Vec<Node>>; POOL_CLASSES],
    /// The lists left to take apart.
    stack: Vec<List>,
}

/// The children of a collection, taken out of it.
enum List {
    Map(Vec<(Node, Node)>),
    Seq(Vec<Node>),
}

/// Drops a node whose children are not dropped with it: a collection's list goes on
/// `stack` (an empty one is dropped), what a scalar or tag owns is freed here. The node is
/// taken apart field by field, so that no call to the generic drop of a node (recursive,
/// so never inlined) is made for each of them.
#[inline(always)]
fn release(n: Node, stack: &mut Vec<List>) {
    let Node { value, tag, .. } = n;
    match value {
        Value::Map(entries) if entries.capacity() > 0 => stack.push(List::Map(entries)),
        Value::Seq(items) if items.capacity() > 0 => stack.push(List::Seq(items)),
        Value::Map(_) | Value::Seq(_) | Value::Alias(_) => {}
        Value::Scalar { text, .. } => drop(text),
    }
    drop(tag);
}

/// Size classes kept: lists of up to 2^(POOL_CLASSES - 1) entries.
const POOL_CLASSES: usize = 6;
/// Lists kept per size class and thread.
const POOL_DEPTH: usize = 64;

thread_local! {
    static POOL: std::cell::RefCell<Pool> = std::cell::RefCell::new(Pool::default());
}

/// The class of a list that must hold `n` entries: the smallest power of two that does.
fn class_for(n: usize) -> usize {
    n.next_power_of_two().trailing_zeros() as usize
}

/// The class a list of capacity `cap` can serve: the largest power of two not above it.
fn class_of(cap: usize) -> Option<usize> {
    cap.checked_ilog2().map(|c| c as usize)
}

/// An empty list for `n` mapping entries, from this thread's pool when it has one.
pub(crate) fn map_with_capacity(n: usize) -> Vec<(Node, Node)> {
    pooled(n, |p| &mut p.maps)
}

/// An empty list for `n` sequence items, from this thread's pool when it has one.
pub(crate) fn seq_with_capacity(n: usize) -> Vec<Node> {
    pooled(n, |p| &mut p.seqs)
}

/// An empty list for `n` elements, from the pool's `lists` when they have one of its class.
fn pooled<T>(n: usize, lists: fn(&mut Pool) -> &mut [Vec<Vec<T>>; POOL_CLASSES]) -> Vec<T> {
    if n == 0 {
        return Vec::new();
    }
    let c = class_for(n);
    if c < POOL_CLASSES
        && let Some(v) = POOL.with_borrow_mut(|p| lists(p).get_mut(c).and_then(Vec::pop))
    {
        return v;
    }
    Vec::with_capacity(if c < POOL_CLASSES { 1 << c } else { n })
}

/// Drops a tree, keeping its lists in this thread's pool for the next trees it builds.
/// Each list is emptied from its end: its nodes are taken apart (their collections' lists
/// wait on a stack), and the emptied list is kept.
pub(crate) fn recycle(node: Node) {
    POOL.with_borrow_mut(|pool| {
        let Pool { maps, seqs, stack } = pool;
        release(node, stack);
        while let Some(list) = stack.pop() {
            match list {
                List::Map(mut entries) => {
                    while let Some((k, v)) = entries.pop() {
                        release(k, stack);
                        release(v, stack);
                    }
                    if let Some(kept) = class_of(entries.capacity()).and_then(|c| maps.get_mut(c))
                        && kept.len() < POOL_DEPTH
                    {
                        kept.push(entries);
                    }
                }
                List::Seq(mut items) => {
                    while let Some(n) = items.pop() {
                        release(n, stack);
                    }
                    if let Some(kept) = class_of(items.capacity()).and_then(|c| seqs.get_mut(c))
                        && kept.len() < POOL_DEPTH
                    {
                        kept.push(items);
                    }
                }
            }
        }
        // A lone huge document does not pin its stack's memory.
        if stack.capacity() > POOL_STACK_MAX {
            *stack = Vec::new();
        }
    });
}

/// The most lists the pool's stack keeps room for between trees.
const POOL_STACK_MAX: usize = 4096;

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

fn tag_text(tag: Option<&Cow<'_, Tag>>) -> Option<Box<str>> {
    tag.map(|t| {
        if t.handle == "tag:yaml.org,2002:" {
            format!("!!{}", t.suffix)
        } else if t.handle.is_empty() {
            format!("!<{}>", t.suffix)
        } else {
            format!("{}{}", t.handle, t.suffix)
        }
        .into_boxed_str()
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

/// One past the closing quote of the quoted scalar whose opening quote is at `start` of
/// `text` (the parser's span may also cover the spaces and comment after it). `start`
/// must be a quote that opens a scalar; a quote inside a plain scalar opens nothing.
fn quoted_end(text: &str, start: usize) -> Option<usize> {
    let b = text.as_bytes();
    let quote = *b.get(start)?;
    let mut i = start + 1;
    while let Some(&c) = b.get(i) {
        match c {
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

/// The offset after the node properties (`&anchor`, `!tag`, and the blanks after each)
/// that start at `i` of `b`. A property ends at a blank, a line break or a flow indicator.
pub(crate) fn skip_properties(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b'&' | b'!')) {
        while let Some(&c) = b.get(i) {
            if matches!(
                c,
                b' ' | b'\t' | b'\r' | b'\n' | b',' | b'[' | b']' | b'{' | b'}'
            ) {
                break;
            }
            i += 1;
        }
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
    }
    i
}

/// Where the written content of `n` stops. An empty plain scalar has no content: its span
/// may run over the bracket or the token that follows it, so only its properties count.
pub(crate) fn content_end(n: &Node) -> usize {
    match &n.value {
        Value::Scalar {
            text,
            style: ScalarStyle::Plain,
        } if text.is_empty() => n.start,
        Value::Map(entries) if !n.flow => entries
            .last()
            .map_or(n.start, |(k, v)| content_end(k).max(content_end(v))),
        _ => n.end,
    }
}

/// The parts of a flow collection's text that edits need (offsets as in the node).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FlowParts {
    /// The opening bracket.
    pub open: usize,
    /// The closing bracket.
    pub close: usize,
    /// One past the written content of the last entry (the opening bracket's offset plus
    /// one when there is no entry).
    pub last_end: usize,
    /// Whether a comma follows the last entry.
    pub trailing_comma: bool,
}

/// Finds the brackets of the flow collection `node` (with its children) in `text`, which
/// starts at byte `base` of the input. The closing bracket is found from the end of the
/// last child: only blanks, line breaks, commas, `:` and `?` indicators and comments may
/// stand between them, so a quote, bracket or `#` inside a scalar is never mistaken for
/// syntax, and the scan never leaves the node. `None` when the text is not as expected;
/// callers then do not edit the collection in place.
pub(crate) fn flow_parts(text: &str, base: usize, node: &Node) -> Option<FlowParts> {
    let b = text.as_bytes();
    let (want_open, want_close, last) = match &node.value {
        Value::Seq(items) => (b'[', b']', items.iter().map(content_end).max()),
        Value::Map(entries) => (
            b'{',
            b'}',
            entries
                .iter()
                .map(|(k, v)| content_end(k).max(content_end(v)))
                .max(),
        ),
        _ => return None,
    };
    let mut open = skip_properties(b, node.start.checked_sub(base)?);
    // Properties may stand on the line before the collection.
    loop {
        match b.get(open)? {
            b' ' | b'\t' | b'\r' | b'\n' => open += 1,
            b'#' if open > 0 && matches!(b[open - 1], b' ' | b'\t' | b'\n' | b'\r') => {
                open += memchr::memchr(b'\n', &b[open..])?;
            }
            _ => break,
        }
    }
    if b[open] != want_open {
        return None;
    }
    let from = last.map_or(open + 1, |l| l.saturating_sub(base).max(open + 1));
    let mut i = from;
    let mut trailing_comma = false;
    let mut after_comma = last.is_none();
    loop {
        let c = *b.get(i)?;
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => {}
            b',' if !after_comma => {
                trailing_comma = true;
                after_comma = true;
            }
            b':' | b'?' if !after_comma => {}
            b'#' if i > 0 && matches!(b[i - 1], b' ' | b'\t' | b'\n' | b'\r') => {
                i += memchr::memchr(b'\n', &b[i..])?;
                continue;
            }
            c if c == want_close => {
                return Some(FlowParts {
                    open: base + open,
                    close: base + i,
                    last_end: base + from,
                    trailing_comma,
                });
            }
            _ => return None,
        }
        i += 1;
    }
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
    let mut parser = Parser::new_from_str(text).keep_tags(true);
    let mut b = ChunkBuilder {
        text,
        offsets: Offsets::new(text, base),
        base_line,
        limits,
        build,
        docs: Vec::new(),
        stack: Vec::new(),
        depth: 0,
        current: None,
    };
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(x) => x,
            Err(e) => return Err(b.err_at(e.marker(), e.info().to_owned())),
        };
        b.event(event, &span)?;
    }
    if let Some(d) = b.current.take() {
        b.docs.push(d);
    }
    Ok(b.docs)
}

/// The documents of one chunk, built from the parser's events as they come.
struct ChunkBuilder<'a> {
    /// The chunk.
    text: &'a str,
    /// Maps the parser's character positions to byte offsets in the input.
    offsets: Offsets<'a>,
    /// The input line the chunk starts on.
    base_line: usize,
    limits: &'a Limits,
    /// Whether each document gets its tree (spans only otherwise).
    build: bool,
    /// The documents finished.
    docs: Vec<Document>,
    /// The collections open, outermost first (only when `build`).
    stack: Vec<Frame>,
    /// How many collections are open.
    depth: usize,
    /// The document being read.
    current: Option<Document>,
}

impl ChunkBuilder<'_> {
    /// The input line of a parser position.
    fn line_of(&self, m: &saphyr_parser::Marker) -> usize {
        self.base_line + m.line() - 1
    }

    /// The error `message` at a parser position, cited within the chunk's content.
    fn err_at(&self, m: &saphyr_parser::Marker, message: String) -> ParseError {
        let (line, col) = clamp_to_content(self.text, m.line(), m.col() + 1);
        ParseError {
            line: self.base_line + line - 1,
            col,
            message,
            docs_before: self.docs.len(),
        }
    }

    /// The parser's anchor id as stored in a node (ids count a document's anchors, so
    /// only an input of more than 8 GB could run out of them).
    fn anchor_id(&self, id: usize, span: &Span) -> Result<u32, ParseError> {
        u32::try_from(id).map_err(|_| {
            self.err_at(
                &span.start,
                "more anchors than a document may hold (4,294,967,295)".to_owned(),
            )
        })
    }

    /// Takes in the parser's next event and its span.
    fn event(&mut self, event: Event<'_>, span: &Span) -> Result<(), ParseError> {
        let start = self.offsets.byte(span.start.index());
        let end = self.offsets.byte(span.end.index());
        let is_map = matches!(event, Event::MappingStart(..));
        let finished = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => None,
            Event::DocumentStart(_) => {
                self.current = Some(Document {
                    start,
                    end,
                    first_line: self.line_of(&span.start),
                    last_line: self.line_of(&span.end),
                    root: None,
                    root_is_map: false,
                    is_empty: true,
                    simple: false,
                });
                None
            }
            Event::DocumentEnd => {
                let last_line = self.line_of(&span.end);
                if let Some(mut d) = self.current.take() {
                    d.end = d.end.max(end);
                    d.last_line = d.last_line.max(last_line);
                    self.docs.push(d);
                }
                None
            }
            Event::Scalar(value, style, anchor, tag) => {
                let anchor = self.anchor_id(anchor, span)?;
                Some(self.scalar(&value, style, anchor, tag.as_ref(), span, (start, end)))
            }
            Event::Alias(id) => {
                let id = self.anchor_id(id, span)?;
                if self.depth == 0
                    && let Some(d) = self.current.as_mut()
                {
                    d.is_empty = false;
                }
                Some(Node {
                    value: Value::Alias(id),
                    start,
                    end,
                    line: self.line_of(&span.start),
                    anchor: 0,
                    tag: None,
                    flow: false,
                    unique_keys: false,
                })
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                let anchor = self.anchor_id(anchor, span)?;
                self.open(is_map, anchor, tag.as_ref(), span, (start, end))?;
                None
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(end),
        };
        if let (true, Some(node)) = (self.build, finished) {
            self.attach(node);
        }
        Ok(())
    }

    /// The node of a scalar spanning `at` (its end corrected for a quoted scalar); marks
    /// the document empty or not when the scalar is its root.
    fn scalar(
        &mut self,
        value: &str,
        style: ScalarStyle,
        anchor: u32,
        tag: Option<&Cow<'_, Tag>>,
        span: &Span,
        (start, end): (usize, usize),
    ) -> Node {
        let text = self.text;
        let base = self.offsets.base;
        let end = match style {
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                // Skip an anchor or tag before the quote; the real end is never past
                // the parser's.
                let quote = if style == ScalarStyle::SingleQuoted {
                    b'\''
                } else {
                    b'"'
                };
                let q = skip_properties(text.as_bytes(), start - base);
                (text.as_bytes().get(q) == Some(&quote))
                    .then(|| quoted_end(text, q))
                    .flatten()
                    .map(|e| base + e)
                    .filter(|&e| e <= end)
                    .unwrap_or(end)
            }
            _ => end,
        };
        let node = Node {
            value: Value::Scalar {
                text: if self.build {
                    SmolStr::from(value)
                } else {
                    SmolStr::default()
                },
                style,
            },
            start,
            end,
            line: self.line_of(&span.start),
            anchor,
            tag: tag_text(tag),
            flow: false,
            unique_keys: false,
        };
        if self.depth == 0
            && let Some(d) = self.current.as_mut()
        {
            d.is_empty = node.is_null_text_unbuilt(self.build);
        }
        node
    }

    /// Opens a mapping (`is_map`) or a sequence spanning `at`, refusing one nested deeper
    /// than the limit.
    fn open(
        &mut self,
        is_map: bool,
        anchor: u32,
        tag: Option<&Cow<'_, Tag>>,
        span: &Span,
        (start, end): (usize, usize),
    ) -> Result<(), ParseError> {
        if self.depth == 0
            && let Some(d) = self.current.as_mut()
        {
            d.is_empty = false;
            d.root_is_map = is_map;
        }
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(self.err_at(
                &span.start,
                format!(
                    "nesting is deeper than {} levels (raise the limit with --max-depth)",
                    self.limits.max_depth
                ),
            ));
        }
        if self.build {
            let node = Node {
                value: Value::Scalar {
                    text: SmolStr::default(),
                    style: ScalarStyle::Plain,
                },
                start,
                end,
                line: self.line_of(&span.start),
                anchor,
                tag: tag_text(tag),
                flow: is_flow_start(self.text, &self.offsets, span),
                unique_keys: false,
            };
            self.stack.push(if is_map {
                Frame::Map(node, Vec::new(), None)
            } else {
                Frame::Seq(node, Vec::new())
            });
        }
        Ok(())
    }

    /// Closes the innermost collection, whose end event ends at `end`: its finished node
    /// when trees are built.
    fn close(&mut self, end: usize) -> Option<Node> {
        self.depth = self.depth.saturating_sub(1);
        if !self.build {
            return None;
        }
        let (text, base) = (self.text, self.offsets.base);
        match self.stack.pop() {
            Some(Frame::Seq(mut node, items)) => {
                let block_end = items.last().map_or(node.end, |n| n.end);
                node.value = Value::Seq(items);
                node.end = flow_or_block_end(text, base, &node, end, block_end);
                Some(node)
            }
            Some(Frame::Map(mut node, entries, _)) => {
                let block_end = entries.last().map_or(node.end, |(_, v)| v.end);
                node.value = Value::Map(entries);
                node.end = flow_or_block_end(text, base, &node, end, block_end);
                Some(node)
            }
            None => None,
        }
    }

    /// Puts a finished node in its place: the next item or key or value of the innermost
    /// collection, or the root of the document.
    fn attach(&mut self, node: Node) {
        match self.stack.last_mut() {
            Some(Frame::Seq(_, items)) => items.push(node),
            Some(Frame::Map(_, entries, pending)) => match pending.take() {
                Some(key) => entries.push((key, node)),
                None => *pending = Some(node),
            },
            None => {
                if let Some(d) = self.current.as_mut() {
                    d.root = Some(node);
                }
            }
        }
    }
}

/// The end of a finished collection: for a flow collection one past its closing bracket
/// (the parser's end event stops short of it after a trailing comma), or the parser's end
/// when the bracket is not where it must be (the editor then refuses to edit it); for a
/// block collection the end of its last child.
fn flow_or_block_end(
    text: &str,
    base: usize,
    node: &Node,
    parser_end: usize,
    block_end: usize,
) -> usize {
    if node.flow {
        flow_parts(text, base, node).map_or(parser_end, |p| p.close + 1)
    } else {
        block_end
    }
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

/// Bytes [`parse_chunk_lenient`] may run the parser over for one chunk: each repair costs a
/// parse of the chunk up to the repair, so a hostile chunk is refused in about a second.
const REPAIR_BUDGET: usize = 16 << 20;

/// Like [`parse_chunk`], but also accepts three things go-yaml v2 (what Kubernetes reads)
/// accepts and the YAML 1.2 parser refuses, where their meaning is unambiguous: lines of a
/// flow collection indented less than its key (`command: [` … `]` with `]` under the
/// key), continuation lines of a quoted scalar indented less than its key, and a tab after
/// a `:` indicator. The parser reads a repaired copy (spaces inserted at the start of
/// such lines, where YAML ignores them; the tab read as a space) and every span is mapped
/// back to `text`, which is never changed. The `bool` says whether a repair was needed.
///
/// # Errors
/// The [`ParseError`] of the unrepaired text when a repair does not make it valid.
pub fn parse_chunk_lenient(
    text: &str,
    base: usize,
    base_line: usize,
    limits: &Limits,
    build: bool,
) -> Result<(Vec<Document>, bool), ParseError> {
    let strict = match parse_chunk(text, base, base_line, limits, build) {
        Ok(docs) => return Ok((docs, false)),
        Err(e) => e,
    };
    let mut norm = text.to_owned();
    // Sorted (offset in `text`, spaces inserted there).
    let mut inserted: Vec<(usize, usize)> = Vec::new();
    let mut budget = REPAIR_BUDGET;
    while let Some((at, what)) = repair_point(&norm) {
        // The parser ran up to about where it stopped.
        match budget.checked_sub(at.max(1)) {
            Some(left) => budget = left,
            None => break,
        }
        match what {
            Repair::TabsToSpaces(n) => {
                norm.replace_range(at..at + n, &" ".repeat(n));
            }
            Repair::Indent(lines) => {
                // From the last line up, so earlier offsets stay valid.
                for &(at, n) in lines.iter().rev() {
                    norm.insert_str(at, &" ".repeat(n));
                    let orig = to_original(&inserted, at);
                    match inserted.binary_search_by_key(&orig, |&(o, _)| o) {
                        Ok(i) => inserted[i].1 += n,
                        Err(i) => inserted.insert(i, (orig, n)),
                    }
                }
            }
            Repair::Done => {
                let mut docs =
                    parse_chunk(&norm, 0, base_line, limits, build).map_err(|_| strict.clone())?;
                let map = |o: usize| base + to_original(&inserted, o);
                for d in &mut docs {
                    d.start = map(d.start);
                    d.end = map(d.end);
                    if let Some(root) = d.root.as_mut() {
                        let mut stack = vec![root];
                        while let Some(n) = stack.pop() {
                            n.start = map(n.start);
                            n.end = map(n.end);
                            match &mut n.value {
                                Value::Seq(items) => stack.extend(items.iter_mut()),
                                Value::Map(entries) => {
                                    for (k, v) in entries.iter_mut() {
                                        stack.push(k);
                                        stack.push(v);
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
                return Ok((docs, true));
            }
        }
    }
    Err(strict)
}

/// The offset in the original text of offset `o` of the repaired text (inserted spaces
/// map to the place they were inserted at).
fn to_original(inserted: &[(usize, usize)], o: usize) -> usize {
    let mut shift = 0usize;
    for &(at, n) in inserted {
        if at + shift >= o {
            break;
        }
        if o < at + shift + n {
            return at;
        }
        shift += n;
    }
    o - shift
}

enum Repair {
    /// Nothing to repair: the text parses.
    Done,
    /// Replace this many tabs (after a `:`) by spaces.
    TabsToSpaces(usize),
    /// Insert spaces at the start of lines: (offset of the line, how many), in order.
    Indent(Vec<(usize, usize)>),
}

fn col_of_byte(text: &str, at: usize) -> usize {
    let ls = text.as_bytes()[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    text[ls..at].chars().count()
}

/// The lines from `from` to `end` (offsets of line starts) that are not blank and are
/// indented less than `want`, with the spaces each needs.
fn under_indented(b: &[u8], from: usize, end: usize, want: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut l = from;
    while l < end {
        let indent = b[l..].iter().take_while(|&&c| c == b' ').count();
        let blank = matches!(b.get(l + indent), Some(b'\n' | b'\r') | None);
        if !blank && indent < want {
            out.push((l, want - indent));
        }
        match memchr::memchr(b'\n', &b[l..]) {
            Some(i) => l += i + 1,
            None => break,
        }
    }
    out
}

/// The end of the line holding the bracket that closes the flow collection opened by the
/// bracket at `open.0` (at nesting `open.1`), which is before line `ls` of `text`: read
/// from a copy of `text` with `want` spaces before every line from `ls` on (indentation
/// means nothing inside a flow collection; what follows it may no longer parse, and need
/// not).
fn flow_close_line_end(
    text: &str,
    ls: usize,
    want: usize,
    (bracket, depth): (usize, usize),
) -> Option<usize> {
    let mut probe = String::with_capacity(text.len() + want * 64);
    probe.push_str(&text[..ls]);
    let pad = " ".repeat(want);
    for line in text[ls..].split_inclusive('\n') {
        probe.push_str(&pad);
        probe.push_str(line);
    }
    let offsets = Offsets::new(&probe, 0);
    let mut parser = Parser::new_from_str(&probe);
    let mut level = 0usize;
    let mut inside = false;
    while let Some(Ok((event, span))) = parser.next_event() {
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                level += 1;
                if level == depth
                    && skip_properties(probe.as_bytes(), offsets.byte(span.start.index()))
                        == bracket
                {
                    inside = true;
                }
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if level == depth && inside {
                    // Same line in `text`: only spaces were inserted.
                    let at = offsets.byte(span.start.index());
                    let line = count_lines(&probe[..at.min(probe.len())]);
                    let mut end = 0usize;
                    for _ in 0..=line {
                        end += memchr::memchr(b'\n', &text.as_bytes()[end..])
                            .map_or(text.len() - end, |i| i + 1);
                    }
                    return Some(end.max(ls));
                }
                level = level.saturating_sub(1);
            }
            _ => {}
        }
    }
    None
}

/// Runs the parser over `text` and, when it stops on one of the things go-yaml v2
/// accepts, says where and how to repair it; `None` when the error is anything else.
fn repair_point(text: &str) -> Option<(usize, Repair)> {
    let offsets = Offsets::new(text, 0);
    let mut parser = Parser::new_from_str(text);
    // Open collections: whether each is a flow collection, and where it starts.
    let mut open: Vec<(bool, usize)> = Vec::new();
    let mut last_end = 0usize;
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(x) => x,
            Err(e) => {
                let at = offsets.byte(e.marker().index());
                return repair_for(text, at, e.info(), &open, last_end);
            }
        };
        last_end = offsets.byte(span.end.index());
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                open.push((
                    is_flow_start(text, &offsets, &span),
                    offsets.byte(span.start.index()),
                ));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                open.pop();
            }
            _ => {}
        }
    }
    Some((0, Repair::Done))
}

/// The repair for the parser error `info` at byte `at` of `text`, given the collections
/// open there (whether each is a flow collection, and where it starts) and the end of the
/// last event; `None` when go-yaml v2 refuses it too.
fn repair_for(
    text: &str,
    at: usize,
    info: &str,
    open: &[(bool, usize)],
    last_end: usize,
) -> Option<(usize, Repair)> {
    let b = text.as_bytes();
    let ls = b[..at]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1);
    if info == "':' must be followed by a valid YAML whitespace" {
        return tab_repair(b, ls, at);
    }
    if info == "invalid indentation in quoted scalar" {
        // The marker is the opening quote; indent each continuation line to
        // its column.
        let end = quoted_end(text, at)?;
        let want = col_of_byte(text, at);
        let from = at + memchr::memchr(b'\n', &b[at..end])? + 1;
        let lines = under_indented(b, from, end, want);
        return (!lines.is_empty()).then_some((from, Repair::Indent(lines)));
    }
    if matches!(
        info,
        "invalid indentation" | "invalid indentation in flow construct"
    ) && let Some(flow) = enclosing_flow(b, ls, open, last_end)
    {
        return flow_repair(text, ls, at, flow);
    }
    None
}

/// The repair of tabs after an implicit key's `:` on the line starting at `ls`, the value
/// starting at `at`.
fn tab_repair(b: &[u8], ls: usize, at: usize) -> Option<(usize, Repair)> {
    // The tabs between the `:` and the value the parser stopped at.
    let mut s = at;
    while s > ls && matches!(b[s - 1], b'\t' | b' ') {
        s -= 1;
    }
    let tabs = b[s..at].iter().take_while(|&&c| c == b'\t').count();
    // Only after an implicit key's `:` (go-yaml v2 refuses a tab after
    // an explicit `:` at the start of a line).
    let implicit = s > ls + 1 && !b[ls..s - 1].iter().all(|&c| c == b' ');
    (implicit && b[s - 1] == b':' && tabs > 0).then_some((s, Repair::TabsToSpaces(tabs)))
}

/// The flow collection the line starting at `ls` is in, as (its bracket, its nesting
/// depth): the outermost one open, or one the scanner read but the parser has not
/// reported yet (its bracket ends the line before, after the last event).
fn enclosing_flow(
    b: &[u8],
    ls: usize,
    open: &[(bool, usize)],
    last_end: usize,
) -> Option<(usize, usize)> {
    let pending = || {
        let prev = b[..ls.checked_sub(1)?]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1);
        let last = prev
            + b[prev..ls]
                .iter()
                .rposition(|&c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n'))?;
        (matches!(b[last], b'[' | b'{') && last >= last_end).then_some((last, open.len() + 1))
    };
    open.iter()
        .position(|(flow, _)| *flow)
        .and_then(|i| {
            open.get(i)
                .map(|&(_, start)| (skip_properties(b, start), i + 1))
        })
        .or_else(pending)
}

/// The repair of the line starting at `ls` (the parser stopped at `at`) inside the flow
/// collection opened at `bracket`: indent it, and the lines after it up to the closing
/// bracket, past the opening bracket, where indentation means nothing.
fn flow_repair(
    text: &str,
    ls: usize,
    at: usize,
    (bracket, depth): (usize, usize),
) -> Option<(usize, Repair)> {
    let b = text.as_bytes();
    let want = col_of_byte(text, bracket) + 1;
    let indent = b[ls..].iter().take_while(|&&c| c == b' ').count();
    // A line that starts with a `:` or `?` indicator would make a key
    // span lines, which go-yaml v2 refuses: no repair.
    let next_line = memchr::memchr(b'\n', &b[ls..]).map(|i| ls + i + 1);
    let starts_with_indicator = |l: usize| {
        b[l..]
            .iter()
            .find(|&&c| c != b' ' && c != b'\t')
            .is_some_and(|&c| c == b':' || c == b'?')
    };
    if starts_with_indicator(ls) || next_line.is_some_and(starts_with_indicator) {
        return None;
    }
    let first_on_line =
        ls + indent == at || b[ls + indent..at].iter().all(|&c| c == b' ' || c == b'\t');
    if !(first_on_line && indent < want && bracket < ls) {
        return None;
    }
    // Every line up to the collection's closing bracket at once (found by
    // parsing a copy with all lines from here pushed right), or this one.
    let lines = match flow_close_line_end(text, ls, want, (bracket, depth)) {
        Some(end) => under_indented(b, ls, end, want),
        None => vec![(ls, want - indent)],
    };
    if lines.iter().any(|&(l, _)| starts_with_indicator(l)) {
        return None;
    }
    (!lines.is_empty()).then_some((ls, Repair::Indent(lines)))
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
    /// An alias inside the node its anchor names: its value would contain itself (go-yaml
    /// v2 refuses it so, and so does Kubernetes).
    #[error("line {line}: {ALIAS_IN_ITS_ANCHOR}")]
    AliasInItsAnchor {
        /// The alias's line, 1-based.
        line: usize,
        /// The alias's byte offset.
        start: usize,
    },
}

/// What [`ResolveError::AliasInItsAnchor`] says.
pub(crate) const ALIAS_IN_ITS_ANCHOR: &str = "an alias inside the node its anchor names: its value would contain itself (remove the alias or move the anchor)";

impl Node {
    /// The tree as Kubernetes reads it: aliases expanded, `<<` merge keys applied the way
    /// go-yaml v2 applies them (in order, later keys win), duplicate keys collapsed to
    /// their last value.
    ///
    /// # Errors
    /// [`ResolveError`] when expansion would exceed the limit or a merge is malformed.
    pub fn resolve(&self, limits: &Limits) -> Result<Node, ResolveError> {
        let mut anchors: HashMap<u32, &Node> = HashMap::new();
        collect_anchors(self, &mut anchors);
        let mut budget = limits.max_alias_nodes;
        let mut expanding = Vec::new();
        resolve_node(
            self,
            &anchors,
            &mut budget,
            limits.max_alias_nodes,
            false,
            &mut expanding,
        )
    }
}

fn collect_anchors<'a>(node: &'a Node, anchors: &mut HashMap<u32, &'a Node>) {
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

/// `node` resolved (see [`Node::resolve`]); `expanding` holds the anchors of the nodes
/// being resolved around it, so that an alias to one of them is refused rather than
/// expanded forever.
fn resolve_node(
    node: &Node,
    anchors: &HashMap<u32, &Node>,
    budget: &mut usize,
    limit: usize,
    in_alias: bool,
    expanding: &mut Vec<u32>,
) -> Result<Node, ResolveError> {
    if node.anchor == 0 {
        return resolve_value(node, anchors, budget, limit, in_alias, expanding);
    }
    expanding.push(node.anchor);
    let out = resolve_value(node, anchors, budget, limit, in_alias, expanding);
    expanding.pop();
    out
}

/// [`resolve_node`] once the node's own anchor is in `expanding`.
fn resolve_value(
    node: &Node,
    anchors: &HashMap<u32, &Node>,
    budget: &mut usize,
    limit: usize,
    in_alias: bool,
    expanding: &mut Vec<u32>,
) -> Result<Node, ResolveError> {
    if in_alias {
        if *budget == 0 {
            return Err(ResolveError::TooManyAliasNodes { limit });
        }
        *budget -= 1;
    }
    let value = match &node.value {
        Value::Alias(id) if expanding.contains(id) => {
            return Err(ResolveError::AliasInItsAnchor {
                line: node.line,
                start: node.start,
            });
        }
        Value::Alias(id) => {
            return match anchors.get(id) {
                Some(target) => resolve_node(target, anchors, budget, limit, true, expanding),
                None => Ok(Node {
                    value: Value::Scalar {
                        text: SmolStr::default(),
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
                .map(|i| resolve_node(i, anchors, budget, limit, in_alias, expanding))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(entries) => {
            let mut out: Vec<(Node, Node)> = Vec::new();
            for (k, v) in entries {
                if is_merge_key(k) {
                    let v = resolve_node(v, anchors, budget, limit, in_alias, expanding)?;
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
                let rk = resolve_node(k, anchors, budget, limit, in_alias, expanding)?;
                let rv = resolve_node(v, anchors, budget, limit, in_alias, expanding)?;
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
                text: SmolStr::default(),
                style: ScalarStyle::Plain,
            },
            start: self.start,
            end: self.end,
            line: self.line,
            anchor: self.anchor,
            tag: self.tag.clone(),
            flow: self.flow,
            unique_keys: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every mapping entry is two nodes, moved while the reader builds its collection:
    /// the rare fields (tag, anchor) must not make each node bigger than it needs to be.
    #[test]
    fn a_node_stays_small() {
        assert!(
            std::mem::size_of::<Node>() <= 80,
            "{}",
            std::mem::size_of::<Node>()
        );
    }

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
    fn lenient_spans_point_into_the_untouched_text() {
        let s = "a:\n  command: [\nx,\n  \"y\"\n]\n  q: \"p\n r\"\n  b:\tc\n";
        assert!(parse_chunk(s, 0, 1, &Limits::default(), true).is_err());
        let (docs, repaired) =
            parse_chunk_lenient(s, 10, 1, &Limits::default(), true).expect("go-yaml reads it");
        assert!(repaired);
        let root = docs[0].root.as_ref().expect("a root");
        let a = root.get("a").expect("a");
        let at = |n: &Node| &s[n.start - 10..n.end - 10];
        let cmd = a.get("command").expect("command");
        assert_eq!(at(cmd), "[\nx,\n  \"y\"\n]");
        let items = cmd.items().expect("items");
        assert_eq!((at(&items[0]), at(&items[1])), ("x", "\"y\""));
        let q = a.get("q").expect("q");
        assert_eq!((at(q), q.as_str()), ("\"p\n r\"", Some("p r")));
        assert_eq!(at(a.get("b").expect("b")), "c");
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
