//! A fast, conservative reader for the plain block style that rendered manifests use: it
//! proves a chunk is one valid YAML document (and, on request, builds its [`Node`] tree
//! with byte offsets) without running the full parser.
//!
//! It accepts only a strict subset of YAML: block mappings with simple keys, block
//! sequences (indented or not), plain scalars (on one line or continued on more indented
//! lines), single- and double-quoted scalars without escapes (on one or more lines),
//! literal block scalars (`|`, with chomping; folded `>` only when no tree is wanted),
//! `{}`, `[]`, comments and blank lines, one leading `---`. Anything else — anchors,
//! aliases, tags, flow collections, escapes, tabs outside comments and block scalars,
//! directives, `...`, keys with unusual characters — returns `None`, and the caller runs
//! the real parser. So a `Some` is always right; the tests check it against the parser
//! over the YAML test suite, the corpus and the golden inputs, trees included.

use std::borrow::Cow;

use smol_str::SmolStr;

use super::scan::key_bit;
use super::tree::{Node, ScalarStyle, Value, map_with_capacity, seq_with_capacity};

/// What the check learned about an accepted document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// The root is a block mapping.
    pub root_is_map: bool,
    /// There is no content at all (only comments, blank lines, a `---`).
    pub is_empty: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Map,
    Seq,
}

/// A collection still open. Its children wait in the lists of its depth
/// ([`Reader::levels`]), so that building one costs a single allocation when it closes.
#[derive(Debug)]
struct Frame {
    indent: usize,
    kind: Kind,
    start: usize,
    line: usize,
    /// The key of a mapping's entry whose value is not read yet.
    key: Option<Key>,
    /// The bits of a mapping's keys so far in the duplicate filter ([`key_bit`]).
    keys: u64,
}

/// A plain or quoted key, kept as its place in the chunk until its value is read: its
/// node is built right into the mapping's entry.
#[derive(Clone, Copy, Debug)]
struct Key {
    /// Its first byte (the quote, for a quoted key) in the chunk.
    start: usize,
    /// Its length, quotes included.
    len: usize,
    /// Its line in the chunk, from 0.
    line: usize,
}

/// The children read so far of the collection open at one depth (one of the two lists is
/// used). Kept, emptied, for the next collection at that depth.
#[derive(Debug, Default)]
struct Level {
    entries: Vec<(Node, Node)>,
    items: Vec<Node>,
}

/// A scalar or collection still open at the end of a line.
#[derive(Clone, Copy, Debug)]
enum Open {
    None,
    /// `key:` or `-` with nothing after it (the null would sit at `null_at`): the next
    /// line may open a nested collection. `from_map` allows a sequence at the same column.
    Pending {
        at: usize,
        from_map: bool,
        null_at: usize,
        line: usize,
    },
    /// A plain scalar that may continue on lines indented more than `parent`, attached
    /// already (the last node read). Its value is the text from `start` to `end` until a
    /// continuation line makes [`Reader::text`] hold it (`folded`; only when a tree is
    /// built).
    Plain {
        parent: usize,
        start: usize,
        end: usize,
        folded: bool,
        blanks: usize,
    },
    /// A quoted scalar not yet closed, its value so far in [`Reader::text`]; lines must be
    /// indented more than `parent`.
    Quoted {
        parent: usize,
        quote: u8,
        start: usize,
        line: usize,
        blanks: usize,
    },
    /// A block scalar ([`Reader::block`]).
    Block,
}

#[derive(Debug, Default)]
struct BlockScalar {
    parent: usize,
    content: Option<usize>,
    leading_blank: usize,
    start: usize,
    line: usize,
    folded: bool,
    chomp: u8,
    /// Content lines so far, each with its line break (blank ones as their spaces beyond
    /// the content indentation).
    text: String,
    /// How many content lines `text` holds.
    lines: usize,
    /// Blank lines seen since the last content line.
    trailing: Vec<usize>,
}

/// Whether every character of `text` is printable in YAML's sense (tabs and line breaks
/// allowed; a carriage return only before a line feed). NEL, LS and PS are refused: YAML
/// 1.1 (what Kubernetes reads) takes them for line breaks, YAML 1.2 does not.
fn printable(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Most text is ASCII with no control character but line feeds and tabs: that is checked
    // 32 bytes at a time (a branch-free loop of fixed length, which vectorises) before the
    // exact walks below.
    let plain = |c: &[u8]| {
        c.iter().fold(true, |ok, &b| {
            ok & ((b.wrapping_sub(0x20) < 0x5f) | (b == b'\n') | (b == b'\t'))
        })
    };
    let (chunks, tail) = bytes.as_chunks::<32>();
    if chunks.iter().all(|c| plain(c)) && plain(tail) {
        return true;
    }
    if text.is_ascii() {
        return bytes.iter().enumerate().all(|(i, &b)| match b {
            0x20..=0x7e | b'\n' | b'\t' => true,
            b'\r' => bytes.get(i + 1) == Some(&b'\n'),
            _ => false,
        });
    }
    let mut prev_cr = false;
    for c in text.chars() {
        if prev_cr && c != '\n' {
            return false;
        }
        prev_cr = c == '\r';
        let ok = matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
            && c != '\u{feff}'
            && c != '\u{2028}'
            && c != '\u{2029}';
        if !ok {
            return false;
        }
    }
    !prev_cr
}

/// How many spaces `line` starts with, read eight bytes at a time (a line's indentation is
/// mostly under eight).
fn indent_of(line: &str) -> usize {
    let b = line.as_bytes();
    let mut at = 0;
    while let Some(word) = b.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        // The first byte that is not a space is the lowest non-zero byte.
        let other = u64::from_le_bytes(*word) ^ 0x2020_2020_2020_2020;
        if other != 0 {
            return at + (other.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at + b
        .get(at..)
        .unwrap_or_default()
        .iter()
        .position(|&c| c != b' ')
        .unwrap_or(b.len().saturating_sub(at))
}

/// `s` without the spaces it ends with (compared byte by byte: `trim_end_matches` decodes
/// characters).
fn trim_end_spaces(s: &str) -> &str {
    let spaces = s.bytes().rev().take_while(|&c| c == b' ').count();
    s.get(..s.len() - spaces).unwrap_or(s)
}

/// Nothing but spaces, or spaces and then a comment (which needs a space before it).
fn only_comment_or_space(s: &str) -> bool {
    let spaces = indent_of(s);
    match s.as_bytes().get(spaces) {
        None => true,
        Some(b'#') => spaces > 0,
        Some(_) => false,
    }
}

/// Whether `v` (a value, without the spaces before it) may start a plain scalar in block
/// context: not with an indicator, nor with `-`, `?` or `:` followed by a space or nothing.
fn plain_start(v: &[u8]) -> bool {
    match v.first() {
        Some(b'-' | b'?' | b':') => v.get(1).is_some_and(|&c| c != b' '),
        Some(
            b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
            | b'"' | b'%' | b'@' | b'`',
        )
        | None => false,
        Some(_) => true,
    }
}

/// Whether `v` (a line's text after its indentation) may continue a plain scalar. In
/// block context both YAML 1.2 and go-yaml v2 continue the scalar with any character but
/// a comment's `#` and a `:` before a space: quotes and brackets are text there, as in the
/// ``(e.g. "2m", "1h")`` that generated CRD descriptions wrap onto a line of their own.
/// A `-`, `?` or `:` before a space, and the reserved `%`, `@` and backquote, are left
/// to the parser.
fn continuation_start(v: &[u8]) -> bool {
    match v.first() {
        Some(b'-' | b'?' | b':') => v.get(1).is_some_and(|&c| c != b' '),
        Some(c) => !b"#%@`".contains(c),
        None => true,
    }
}

/// The bytes that may end a plain scalar's text on its line or make it something else: `#`,
/// `:` and tab (a table: one load per byte).
static PLAIN_STOP: [bool; 256] = {
    let mut table = [false; 256];
    table[b'#' as usize] = true;
    table[b':' as usize] = true;
    table[b'\t' as usize] = true;
    table
};

/// The text of a plain scalar on one line, `v` (from its first character to the end of
/// the line): its length without the ` #` comment and the spaces before it, and whether
/// a comment follows. `None` when `v` holds a `: ` or a tab before the comment, or ends
/// with `:`: what ends or breaks a plain scalar on its line. One pass over the bytes.
fn plain_text(v: &[u8]) -> Option<(usize, bool)> {
    // Short values (most) are read byte by byte; a long one is searched a vector at a time.
    if v.len() < 64 {
        let stops = v
            .iter()
            .enumerate()
            .filter(|&(_, &c)| PLAIN_STOP[usize::from(c)]);
        plain_text_with(v, stops.map(|(i, _)| i))
    } else {
        plain_text_with(v, memchr::memchr3_iter(b'#', b':', b'\t', v))
    }
}

/// [`plain_text`], given where the `#`, `:` and tabs of `v` are.
fn plain_text_with(v: &[u8], stops: impl Iterator<Item = usize>) -> Option<(usize, bool)> {
    let mut end = v.len();
    let mut comment = false;
    for i in stops {
        match v.get(i) {
            Some(b'#') => {
                if i > 0 && v.get(i - 1) == Some(&b' ') {
                    end = i;
                    comment = true;
                    break;
                }
            }
            Some(b':') => {
                if matches!(v.get(i + 1), None | Some(b' ')) {
                    return None;
                }
            }
            _ => return None,
        }
    }
    let text = v.get(..end)?;
    let spaces = text.iter().rev().take_while(|&&c| c == b' ').count();
    Some((end - spaces, comment))
}

/// Where a quoted scalar closes on this line: the index of the closing quote, or `None`
/// when it stays open; `Err` for anything this reader does not vouch for.
fn find_close(v: &str, quote: u8) -> Result<Option<usize>, ()> {
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if (quote == b'"' && c == b'\\') || c == b'\t' {
            return Err(());
        }
        if c == quote {
            if quote == b'\'' && b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return if only_comment_or_space(&v[i + 1..]) {
                Ok(Some(i))
            } else {
                Err(())
            };
        }
        i += 1;
    }
    Ok(None)
}

/// The value of a quoted scalar's text (`''` in single quotes is one quote; the reader
/// takes no double-quoted text with escapes).
fn unquote(s: &str, quote: u8) -> Cow<'_, str> {
    if quote == b'\'' && s.contains("''") {
        Cow::Owned(s.replace("''", "'"))
    } else {
        Cow::Borrowed(s)
    }
}

/// The bytes of a plain key after its first: letters, digits, `_`, `-`, `.` and `/` (a
/// table: one load per byte instead of five comparisons).
pub(super) static KEY_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0u8;
    loop {
        table[c as usize] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'/');
        if c == u8::MAX {
            break table;
        }
        c += 1;
    }
};

/// The length of a key and where its `:` is. A plain key (most) is read here, inlined
/// into its callers; a quoted one out of line.
#[inline(always)]
fn key_end(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let first = *b.first()?;
    if first.is_ascii_alphanumeric() || first == b'_' {
        let len = b.iter().position(|&c| !KEY_BYTE[usize::from(c)])?;
        return (len <= 1024 && b.get(len) == Some(&b':')).then_some(len);
    }
    quoted_key_end(rest)
}

/// [`key_end`] of a quoted key (or of no key at all).
#[inline(never)]
fn quoted_key_end(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let q = *b.first()?;
    if !matches!(q, b'"' | b'\'') {
        return None;
    }
    let close = b.get(1..)?.iter().position(|&c| c == q)? + 1;
    let inner = rest.get(1..close)?;
    if inner.contains('\\') || inner.contains('\t') || close + 1 > 1024 {
        return None;
    }
    (b.get(close + 1) == Some(&b':')).then_some(close + 1)
}

/// The lists a reader works in, kept per thread between chunks (always empty here).
type Lists = (Vec<Frame>, Vec<Level>);

thread_local! {
    static SPARE: std::cell::RefCell<Lists> = const {
        std::cell::RefCell::new((Vec::new(), Vec::new()))
    };
}

impl Drop for Reader<'_> {
    /// Hands the lists back, emptied, for the next chunk this thread reads.
    fn drop(&mut self) {
        let (mut stack, mut levels) = (
            std::mem::take(&mut self.stack),
            std::mem::take(&mut self.levels),
        );
        stack.clear();
        // A deep document does not pin its levels (nor a wide one its lists: see `pop`).
        levels.truncate(LEVELS_KEPT);
        // A chunk read to its end closed every collection, which emptied its level.
        if !self.emptied {
            for l in &mut levels {
                l.entries.clear();
                l.items.clear();
            }
        }
        SPARE.with_borrow_mut(|spare| *spare = (stack, levels));
    }
}

/// The most levels a thread keeps between chunks.
const LEVELS_KEPT: usize = 32;
/// The longest list a level keeps between collections.
const LEVEL_LIST_KEPT: usize = 64;

/// The children gathered in `list`, taken out of it: the list itself when it is small
/// enough to be kept between collections (it is replaced by an empty one from the pool,
/// of the same class), or a copy that fits them when it grew larger.
fn take_list<T>(list: &mut Vec<T>, pooled: fn(usize) -> Vec<T>) -> Vec<T> {
    if list.is_empty() {
        return Vec::new();
    }
    let cap = list.capacity();
    if cap > LEVEL_LIST_KEPT {
        let mut fitted = pooled(list.len());
        fitted.append(list);
        *list = Vec::new();
        return fitted;
    }
    std::mem::replace(list, pooled(cap))
}

/// The reader's state for one chunk.
struct Reader<'t> {
    /// The chunk.
    src: &'t str,
    base: usize,
    base_line: usize,
    build: bool,
    stack: Vec<Frame>,
    /// The children of the collection open at each depth (`levels[d]` for `stack[d]`);
    /// deeper ones are empty.
    levels: Vec<Level>,
    root: Option<Node>,
    /// The value so far of the quoted or continued plain scalar being read (kept in the
    /// reader, so that what is open at the end of a line is small and plain data).
    text: String,
    /// The block scalar being read.
    block: BlockScalar,
    /// Whether every level is empty (the chunk was read to its end).
    emptied: bool,
    /// Whether a mapping read so far has two keys of the same text.
    repeated: bool,
}

/// The most keys a mapping may have for the reader to compare a new key with them all.
const WIDE_MAPPING: usize = 32;

/// Whether `k` is a scalar whose text is `text`.
fn same_text(k: &Node, text: &str) -> bool {
    matches!(&k.value, Value::Scalar { text: t, .. } if t == text)
}

fn scalar(text: SmolStr, style: ScalarStyle, start: usize, end: usize, line: usize) -> Node {
    Node {
        value: Value::Scalar { text, style },
        start,
        end,
        line,
        anchor: 0,
        tag: None,
        flow: false,
        unique_keys: false,
    }
}

/// `text` as a `SmolStr`. A short text (most keys and values) is copied inline with a
/// size known to the compiler: each length has its own arm, so the copy is a few moves,
/// where `SmolStr::new` zeroes its buffer and calls `memcpy` for a length it does not know.
fn small_str(text: &str) -> SmolStr {
    macro_rules! by_length {
        ($($n:literal)*) => {
            match text.len() {
                $($n => SmolStr::new_inline(text.get(..$n).unwrap_or_default()),)*
                _ => SmolStr::new(text),
            }
        };
    }
    by_length!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23)
}

fn quote_style(quote: u8) -> ScalarStyle {
    if quote == b'\'' {
        ScalarStyle::SingleQuoted
    } else {
        ScalarStyle::DoubleQuoted
    }
}

impl<'t> Reader<'t> {
    /// A reader over `src` that borrows this thread's lists (empty, but grown by earlier
    /// chunks), so that a stream of small documents does not grow them again for each.
    fn new(src: &'t str, base: usize, base_line: usize, build: bool) -> Self {
        let (stack, levels) = SPARE.with_borrow_mut(std::mem::take);
        Reader {
            src,
            base,
            base_line,
            build,
            stack,
            levels,
            root: None,
            text: String::new(),
            block: BlockScalar::default(),
            emptied: false,
            repeated: false,
        }
    }

    fn node(&self, value: Value, start: usize, end: usize, line: usize) -> Node {
        Node {
            value,
            start: self.base + start,
            end: self.base + end,
            line: self.base_line + line,
            anchor: 0,
            tag: None,
            flow: false,
            unique_keys: false,
        }
    }

    /// The node of a key.
    #[inline(always)]
    fn key_node(&self, k: Key) -> Option<Node> {
        let text = self.src.get(k.start..k.start + k.len)?;
        let (text, style) = match text.as_bytes().first() {
            Some(&q @ (b'"' | b'\'')) => (
                small_str(&unquote(text.get(1..k.len - 1)?, q)),
                quote_style(q),
            ),
            _ => (small_str(text), ScalarStyle::Plain),
        };
        Some(scalar(
            text,
            style,
            self.base + k.start,
            self.base + k.start + k.len,
            self.base_line + k.line,
        ))
    }

    /// Opens a collection at column `indent`, starting at byte `start` of the chunk.
    fn push(&mut self, indent: usize, kind: Kind, start: usize, line: usize) {
        self.stack.push(Frame {
            indent,
            kind,
            start,
            line,
            key: None,
            keys: 0,
        });
        if self.build && self.levels.len() < self.stack.len() {
            self.levels.push(Level::default());
        }
    }

    /// Attaches a finished value to the collection it belongs to (the top frame). Inlined,
    /// so that the node is built where it is stored, not moved there.
    #[inline(always)]
    fn attach(&mut self, node: Node) -> Option<()> {
        if !self.build {
            return Some(());
        }
        let depth = self.stack.len();
        match self.stack.last_mut() {
            Some(f) if f.kind == Kind::Map => {
                let k = f.key.take()?;
                let key = self.key_node(k)?;
                let level = self.levels.get_mut(depth - 1)?;
                // Keys of the same text set the same bit: only when the bit is set already
                // are the mapping's keys so far compared with this one. In a wide mapping
                // (whose filter fills up) a clash is left to the full scan, which hashes:
                // comparing with every key so far would take quadratic time.
                if !self.repeated
                    && let (Value::Scalar { text, .. }, Some(f)) =
                        (&key.value, self.stack.last_mut())
                {
                    let bit = 1u64 << key_bit(text);
                    if f.keys & bit != 0 {
                        self.repeated = level.entries.len() > WIDE_MAPPING
                            || level.entries.iter().any(|(k, _)| same_text(k, text));
                    }
                    f.keys |= bit;
                }
                level.entries.push((key, node));
            }
            Some(_) => self.levels.get_mut(depth - 1)?.items.push(node),
            None => self.root = Some(node),
        }
        Some(())
    }

    /// The node attached last: the last child of the innermost open collection, or the
    /// root.
    fn last_mut(&mut self) -> Option<&mut Node> {
        let depth = self.stack.len();
        match self.stack.last() {
            Some(f) if f.kind == Kind::Map => self
                .levels
                .get_mut(depth - 1)?
                .entries
                .last_mut()
                .map(|(_, v)| v),
            Some(_) => self.levels.get_mut(depth - 1)?.items.last_mut(),
            None => self.root.as_mut(),
        }
    }

    fn pop(&mut self) -> Option<()> {
        let f = self.stack.pop()?;
        if !self.build {
            return Some(());
        }
        if f.key.is_some() {
            return None;
        }
        let level = self.levels.get_mut(self.stack.len())?;
        let empty_end = f.start + self.base;
        let (value, end) = match f.kind {
            // The level's list becomes the collection's (its children are not copied), and
            // the level takes an empty list from the pool for the next collection at its
            // depth.
            Kind::Map => {
                let entries = take_list(&mut level.entries, map_with_capacity);
                let end = entries.last().map_or(empty_end, |(_, v)| v.end);
                (Value::Map(entries), end)
            }
            Kind::Seq => {
                let items = take_list(&mut level.items, seq_with_capacity);
                let end = items.last().map_or(empty_end, |v| v.end);
                (Value::Seq(items), end)
            }
        };
        let mut node = self.node(value, f.start, 0, f.line);
        node.end = end;
        self.attach(node)
    }

    /// Closes whatever scalar or null is open, attaching it.
    fn finish(&mut self, open: Open, at: usize) -> Option<()> {
        match open {
            Open::None => Some(()),
            Open::Pending { null_at, line, .. } => {
                let n = self.node(
                    Value::Scalar {
                        text: SmolStr::default(),
                        style: ScalarStyle::Plain,
                    },
                    null_at,
                    null_at,
                    line,
                );
                self.attach(n)
            }
            Open::Plain { end, folded, .. } => {
                // The scalar was attached with its first line; lines that continued it
                // change it now.
                if folded {
                    let (text, end) = (SmolStr::new(&self.text), self.base + end);
                    let n = self.last_mut()?;
                    n.value = Value::Scalar {
                        text,
                        style: ScalarStyle::Plain,
                    };
                    n.end = end;
                }
                Some(())
            }
            Open::Quoted { .. } => None,
            Open::Block => self.finish_block(at),
        }
    }

    /// Closes a block scalar whose content ends where the next token starts, at `at`.
    fn finish_block(&mut self, at: usize) -> Option<()> {
        if !self.build {
            return Some(());
        }
        let b = &mut self.block;
        // Folded scalars, and space-only lines at the end (content or not depends on
        // subtleties), are left to the parser.
        if b.folded || b.trailing.iter().any(|&extra| extra > 0) {
            return None;
        }
        let text = &mut b.text;
        match b.chomp {
            b'-' => {
                while text.ends_with('\n') {
                    text.pop();
                }
            }
            b'+' => {
                if b.lines == 0 {
                    return None;
                }
                for _ in &b.trailing {
                    text.push('\n');
                }
            }
            _ => {
                while text.ends_with("\n\n") {
                    text.pop();
                }
            }
        }
        let n = scalar(
            SmolStr::new(text),
            ScalarStyle::Literal,
            self.base + b.start,
            self.base + at,
            self.base_line + b.line,
        );
        self.attach(n)
    }
}

/// Checks `text` (one chunk). `Some` only when it is certainly one valid YAML document (or
/// none) in the plain block subset.
#[must_use]
pub fn check(text: &str) -> Option<Shape> {
    check_within(text, usize::MAX)
}

/// Like [`check`], but leaves documents nested deeper than `max_depth` to the parser (which
/// reports them).
#[must_use]
pub fn check_within(text: &str, max_depth: usize) -> Option<Shape> {
    read(text, 0, 1, max_depth, false).map(|(s, _)| s)
}

/// Reads `text` (one chunk, at byte `base` and line `base_line` of the input) and builds
/// its tree, when it is certainly one valid YAML document in the plain block subset.
#[must_use]
pub fn parse(
    text: &str,
    base: usize,
    base_line: usize,
    max_depth: usize,
) -> Option<(Shape, Option<Node>)> {
    read(text, base, base_line, max_depth, true)
}

/// One line of a chunk.
struct Line<'t> {
    /// The line without its line break.
    text: &'t str,
    /// Its first byte in the chunk.
    start: usize,
    /// Its number in the chunk, from 0.
    n: usize,
    /// Its indentation.
    ind: usize,
    /// Whether it ends the chunk without a line break.
    last: bool,
}

fn read(
    text: &str,
    base: usize,
    base_line: usize,
    max_depth: usize,
    build: bool,
) -> Option<(Shape, Option<Node>)> {
    if !printable(text) {
        return None;
    }
    let mut r = Reader::new(text, base, base_line, build);
    let mut open = Open::None;
    let mut seen_content = false;
    let mut ls = 0usize;
    let mut n = 0usize;
    while ls < text.len() {
        let le = memchr::memchr(b'\n', &text.as_bytes()[ls..]).map_or(text.len(), |i| ls + i);
        let raw = text.get(ls..le)?;
        let line = match raw.as_bytes().last() {
            Some(b'\r') => raw.get(..raw.len() - 1)?,
            _ => raw,
        };
        let l = Line {
            text: line,
            start: ls,
            n,
            ind: indent_of(line),
            last: le == text.len(),
        };
        ls = le + 1;
        n += 1;
        seen_content |= r.line(&mut open, &l, max_depth)?;
    }
    if let Open::Quoted { .. } = open {
        return None;
    }
    r.finish(open, text.len())?;
    let root_is_map = r.stack.first().is_some_and(|f| f.kind == Kind::Map);
    while !r.stack.is_empty() {
        r.pop()?;
    }
    r.emptied = true;
    let mut root = r.root.take();
    if let Some(root) = &mut root {
        root.unique_keys = !r.repeated;
    }
    Some((
        Shape {
            root_is_map,
            is_empty: !seen_content,
        },
        root,
    ))
}

/// A line after the header of a block scalar: `Some(true)` when it belongs to the
/// scalar (anything indented enough, and blank lines).
fn block_line(build: bool, b: &mut BlockScalar, l: &Line<'_>) -> Option<bool> {
    let ind = l.ind;
    if l.text.len() == ind {
        if l.last && ind > 0 {
            // A space-only last line without a line break: readers disagree on it.
            return None;
        }
        match b.content {
            None => {
                b.leading_blank = b.leading_blank.max(ind);
                b.trailing.push(0);
            }
            Some(ci) => b.trailing.push(ind.saturating_sub(ci)),
        }
        return Some(true);
    }
    let (ci, first) = match b.content {
        None if ind > b.parent => {
            if b.leading_blank > ind || l.text.as_bytes().get(ind) == Some(&b'\t') {
                return None;
            }
            b.content = Some(ind);
            (ind, true)
        }
        Some(ci) if ind >= ci => (ci, false),
        _ => return Some(false),
    };
    if build {
        // Blank lines before the first content line are empty lines of the content.
        for extra in b.trailing.drain(..) {
            if !first {
                b.text.extend(std::iter::repeat_n(' ', extra));
            }
            b.text.push('\n');
            b.lines += 1;
        }
        b.text.push_str(l.text.get(ci..)?);
        b.text.push('\n');
        b.lines += 1;
    } else if !first {
        b.trailing.clear();
    }
    Some(true)
}

impl Reader<'_> {
    /// Reads one line; `Some(true)` when it holds content that does not belong to a scalar
    /// opened on an earlier line.
    fn line(&mut self, open: &mut Open, l: &Line<'_>, max_depth: usize) -> Option<bool> {
        if let Open::Block = open {
            if block_line(self.build, &mut self.block, l)? {
                return Some(false);
            }
            let done = std::mem::replace(open, Open::None);
            self.finish(done, l.start)?;
        }
        if matches!(open, Open::Quoted { .. }) {
            self.quoted_line(open, l)?;
            return Some(false);
        }
        let rest = l.text.get(l.ind..)?;
        if rest.is_empty() {
            if let Open::Plain { blanks, .. } = open {
                *blanks += 1;
            }
            return Some(false);
        }
        if rest.starts_with('\t') {
            return None;
        }
        if rest.starts_with('#') {
            // A comment ends a plain scalar: nothing may continue it after this.
            if matches!(open, Open::Plain { .. }) {
                let done = std::mem::replace(open, Open::None);
                self.finish(done, l.start)?;
            }
            return Some(false);
        }
        if l.n == 0 && l.ind == 0 && rest.starts_with("---") {
            if rest.len() == 3
                || (rest.as_bytes().get(3) == Some(&b' ') && only_comment_or_space(&rest[3..]))
            {
                return Some(false);
            }
            return None;
        }
        if l.ind == 0
            && (rest.starts_with("---") || rest.starts_with("...") || rest.starts_with('%'))
        {
            return None;
        }
        if matches!(open, Open::Plain { .. }) {
            if self.plain_line(open, rest, l)? {
                return Some(false);
            }
            let done = std::mem::replace(open, Open::None);
            self.finish(done, l.start)?;
        }
        self.node_line(open, rest, l, max_depth)?;
        Some(true)
    }

    /// A line of a quoted scalar opened on an earlier line.
    fn quoted_line(&mut self, open: &mut Open, l: &Line<'_>) -> Option<()> {
        let Open::Quoted {
            parent,
            quote,
            blanks,
            ..
        } = open
        else {
            return None;
        };
        if l.text.len() == l.ind {
            *blanks += 1;
            return Some(());
        }
        if l.ind <= *parent {
            return None;
        }
        let body = l.text.get(l.ind..)?;
        let (part, closed_at) = match find_close(body, *quote).ok()? {
            Some(i) => (&body[..i], Some(i)),
            None => (trim_end_spaces(body), None),
        };
        if part.trim().is_empty() && closed_at.is_some() {
            // A line break right before the closing quote: leave it to the parser.
            return None;
        }
        if self.build {
            fold(&mut self.text, *blanks, &unquote(part, *quote));
        }
        *blanks = 0;
        let Some(i) = closed_at else {
            return Some(());
        };
        let Open::Quoted {
            start, line, quote, ..
        } = std::mem::replace(open, Open::None)
        else {
            return None;
        };
        let end = l.start + l.ind + i + 1;
        self.attach(scalar(
            SmolStr::new(&self.text),
            quote_style(quote),
            self.base + start,
            self.base + end,
            self.base_line + line,
        ))
    }

    /// A line that may continue the plain scalar opened on an earlier line: `Some(true)`
    /// when it does.
    fn plain_line(&mut self, open: &mut Open, rest: &str, l: &Line<'_>) -> Option<bool> {
        let Open::Plain {
            parent,
            start,
            end,
            folded,
            blanks,
            ..
        } = open
        else {
            return Some(false);
        };
        if l.ind <= *parent {
            return Some(false);
        }
        if !continuation_start(rest.as_bytes()) {
            return None;
        }
        // A comment ends the scalar; one on a continuation line is left to the parser.
        let (len, comment) = plain_text(rest.as_bytes())?;
        if comment {
            return None;
        }
        let body = rest.get(..len)?;
        if self.build {
            if !*folded {
                self.text.clear();
                self.text.push_str(self.src.get(*start..*end)?);
                *folded = true;
            }
            fold(&mut self.text, *blanks, body);
        }
        *blanks = 0;
        *end = l.start + l.ind + body.len();
        Some(true)
    }

    /// A line that starts a node: a `- ` item or a `key:` entry, in the collection its
    /// indentation selects (closing deeper ones, or opening one under a pending key or dash).
    fn node_line(
        &mut self,
        open: &mut Open,
        rest: &str,
        l: &Line<'_>,
        max_depth: usize,
    ) -> Option<()> {
        let (ind, line_start, this_line) = (l.ind, l.start, l.n);
        let is_item = rest == "-" || rest.starts_with("- ");
        let kind = if is_item { Kind::Seq } else { Kind::Map };
        // A line after `key:`/`-` with nothing may open a nested collection.
        if let Open::Pending { at, .. } = *open
            && ind > at
            && (rest.starts_with("{}") || rest.starts_with("[]"))
        {
            *open = Open::None;
            value(self, rest, line_start + ind, at, this_line)?;
            return Some(());
        }
        if let Open::Pending { at, from_map, .. } = *open {
            if ind > at || (ind == at && from_map && is_item) {
                self.push(ind, kind, line_start + ind, this_line);
            } else {
                let done = std::mem::replace(open, Open::None);
                self.finish(done, line_start)?;
            }
        }
        if self.stack.is_empty() {
            if ind != 0 || self.root.is_some() {
                return None;
            }
            self.push(0, kind, line_start, this_line);
        }
        while self.stack.last().is_some_and(|f| f.indent > ind) {
            self.pop()?;
        }
        // A key at the column of a compact sequence ends that sequence.
        if !is_item
            && let [.., outer, inner] = self.stack.as_slice()
            && inner.kind == Kind::Seq
            && inner.indent == ind
            && outer.kind == Kind::Map
            && outer.indent == ind
        {
            self.pop()?;
        }
        if self.stack.len() > max_depth {
            return None;
        }
        let top = self.stack.last()?;
        if top.indent != ind {
            return None;
        }
        *open = match (top.kind, is_item) {
            (Kind::Seq, true) => item(self, rest, line_start, ind, this_line)?,
            (Kind::Map, false) => entry(self, rest, line_start, ind, this_line)?,
            _ => return None,
        };
        Some(())
    }
}

/// Adds a line of a multi-line scalar, folding the line break before it.
fn fold(acc: &mut String, blanks: usize, part: &str) {
    let part = part.get(indent_of(part)..).unwrap_or_default();
    if blanks > 0 {
        for _ in 0..blanks {
            acc.push('\n');
        }
    } else {
        acc.push(' ');
    }
    acc.push_str(part);
}

/// A `- ...` line whose dash is at column `dash`.
fn item(r: &mut Reader<'_>, rest: &str, ls: usize, dash: usize, line: usize) -> Option<Open> {
    let after = rest.get(1..)?;
    let spaces = indent_of(after);
    let content = after.get(spaces..)?;
    if content.is_empty() || (spaces > 0 && content.starts_with('#')) {
        return Some(Open::Pending {
            at: dash,
            from_map: false,
            null_at: ls + dash + 1,
            line,
        });
    }
    let col = dash + 1 + spaces;
    if content == "-" || content.starts_with("- ") {
        return None;
    }
    if let Some(end) = key_end(content)
        && matches!(content.as_bytes().get(end + 1), None | Some(b' '))
    {
        r.push(col, Kind::Map, ls + col, line);
        return entry_after_key(r, content, end, ls, col, line);
    }
    value(r, content, ls + col, dash, line)
}

/// A `key: value` line whose key is at column `col` of a mapping at that column.
fn entry(r: &mut Reader<'_>, rest: &str, ls: usize, col: usize, line: usize) -> Option<Open> {
    let end = key_end(rest)?;
    entry_after_key(r, rest, end, ls, col, line)
}

/// [`entry`], its key's `:` at `end` of `rest`.
#[inline(always)]
fn entry_after_key(
    r: &mut Reader<'_>,
    rest: &str,
    end: usize,
    ls: usize,
    col: usize,
    line: usize,
) -> Option<Open> {
    let after = rest.get(end + 1..)?;
    // A blank (or the line's end) after the `:`, then the value, a comment, or nothing.
    let spaces = indent_of(after);
    if spaces == 0 && !after.is_empty() {
        return None;
    }
    if r.build
        && let Some(f) = r.stack.last_mut()
    {
        f.key = Some(Key {
            start: ls + col,
            len: end,
            line,
        });
    }
    let v = after.get(spaces..)?;
    if v.is_empty() || v.starts_with('#') {
        // Like the parser, place the null on the `:`.
        return Some(Open::Pending {
            at: col,
            from_map: true,
            null_at: ls + col + end,
            line,
        });
    }
    value(r, v, ls + col + end + 1 + spaces, col, line)
}

/// A scalar value (or `{}`/`[]`) starting at byte `at`, of a node whose parent
/// collection is at column `parent`.
fn value(r: &mut Reader<'_>, v: &str, at: usize, parent: usize, line: usize) -> Option<Open> {
    let b = v.as_bytes();
    match b.first()? {
        c @ (b'|' | b'>') => {
            let mut i = 1;
            let mut chomp = b' ';
            if let Some(&c2 @ (b'+' | b'-')) = b.get(i) {
                chomp = c2;
                i += 1;
            }
            let tail = &v[i..];
            if !(tail.is_empty() || (tail.starts_with(' ') && only_comment_or_space(tail))) {
                return None;
            }
            // The block's lists are kept from one block scalar to the next.
            let b = &mut r.block;
            b.text.clear();
            b.trailing.clear();
            *b = BlockScalar {
                parent,
                content: None,
                leading_blank: 0,
                start: at,
                line,
                folded: *c == b'>',
                chomp,
                text: std::mem::take(&mut b.text),
                lines: 0,
                trailing: std::mem::take(&mut b.trailing),
            };
            Some(Open::Block)
        }
        q @ (b'"' | b'\'') => quoted(r, *q, v, at, parent, line),
        b'[' if !v.starts_with("[]") => {
            let (node, used) = flow_seq(r, v, at, line)?;
            if !only_comment_or_space(&v[used..]) {
                return None;
            }
            r.attach(node)?;
            Some(Open::None)
        }
        b'{' | b'[' => {
            let close = if b[0] == b'{' { "{}" } else { "[]" };
            let tail = v.strip_prefix(close)?;
            if !only_comment_or_space(tail) {
                return None;
            }
            let value = if b[0] == b'{' {
                Value::Map(Vec::new())
            } else {
                Value::Seq(Vec::new())
            };
            let mut node = r.node(value, at, at + 2, line);
            node.flow = true;
            r.attach(node)?;
            Some(Open::None)
        }
        _ => {
            if !plain_start(b) {
                return None;
            }
            let (len, comment) = plain_text(b)?;
            if r.build {
                let text = small_str(v.get(..len)?);
                let (start, end) = (r.base + at, r.base + at + len);
                r.attach(scalar(
                    text,
                    ScalarStyle::Plain,
                    start,
                    end,
                    r.base_line + line,
                ))?;
            }
            if comment {
                // A comment ends the scalar on this line.
                return Some(Open::None);
            }
            // Attached already: lines that continue it change its text and end.
            Some(Open::Plain {
                parent,
                start: at,
                end: at + len,
                folded: false,
                blanks: 0,
            })
        }
    }
}

/// A quoted scalar value `v` (quote `q` included) starting at byte `at`, of a node whose
/// parent collection is at column `parent`.
fn quoted(
    r: &mut Reader<'_>,
    q: u8,
    v: &str,
    at: usize,
    parent: usize,
    line: usize,
) -> Option<Open> {
    let inner = &v[1..];
    if let Some(i) = find_close(inner, q).ok()? {
        let text = if r.build {
            small_str(&unquote(&inner[..i], q))
        } else {
            SmolStr::default()
        };
        r.attach(scalar(
            text,
            quote_style(q),
            r.base + at,
            r.base + at + i + 2,
            r.base_line + line,
        ))?;
        return Some(Open::None);
    }
    let first = trim_end_spaces(inner);
    if first.trim().is_empty() {
        // A line break right after the opening quote: leave it to the parser.
        return None;
    }
    r.text.clear();
    if r.build {
        r.text.push_str(&unquote(first, q));
    }
    Some(Open::Quoted {
        parent,
        quote: q,
        start: at,
        line,
        blanks: 0,
    })
}

/// A flow sequence of simple scalars on one line (`["a", 'b', c]`), starting at byte `at`.
/// Returns the node and how many bytes of `v` it used.
fn flow_seq(r: &Reader<'_>, v: &str, at: usize, line: usize) -> Option<(Node, usize)> {
    let b = v.as_bytes();
    let mut i = 1;
    // At most one item per comma, and one more.
    let mut items = if r.build {
        seq_with_capacity(memchr::memchr_iter(b',', b).count() + 1)
    } else {
        Vec::new()
    };
    let skip = |i: &mut usize| {
        while b.get(*i) == Some(&b' ') {
            *i += 1;
        }
    };
    skip(&mut i);
    if b.get(i) == Some(&b']') {
        return None;
    }
    loop {
        skip(&mut i);
        let start = i;
        let (text, style) = match b.get(i)? {
            q @ (b'"' | b'\'') => {
                let q = *q;
                let rel = b[i + 1..].iter().position(|&c| c == q)?;
                let inner = &v[i + 1..i + 1 + rel];
                if inner.contains('\\')
                    || inner.contains('\t')
                    || (q == b'\'' && b.get(i + 2 + rel) == Some(&b'\''))
                {
                    return None;
                }
                i += rel + 2;
                (small_str(inner), quote_style(q))
            }
            _ => {
                let len = b[i..].iter().position(|&c| matches!(c, b',' | b']'))?;
                let word = trim_end_spaces(&v[i..i + len]);
                let plain = !word.is_empty()
                    && word.bytes().all(|c| {
                        c.is_ascii_alphanumeric()
                            || matches!(c, b'-' | b'_' | b'.' | b'/' | b'=' | b'+')
                    })
                    && !word.starts_with('-');
                if !plain {
                    return None;
                }
                i += word.len();
                (small_str(word), ScalarStyle::Plain)
            }
        };
        if r.build {
            items.push(scalar(
                text,
                style,
                r.base + at + start,
                r.base + at + i,
                r.base_line + line,
            ));
        }
        skip(&mut i);
        match b.get(i)? {
            b',' => i += 1,
            b']' => {
                i += 1;
                break;
            }
            _ => return None,
        }
    }
    let mut node = r.node(Value::Seq(items), at, at + i, line);
    node.flow = true;
    Some((node, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> bool {
        check(s).is_some()
    }

    #[test]
    fn accepts_rendered_manifests() {
        assert!(ok(
            "---\n# Source: x\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    app.kubernetes.io/name: \"a\"\ndata:\n  k: |\n    line\n\n    more\n  j: 'it''s'\n"
        ));
        assert!(ok(
            "spec:\n  containers:\n  - name: a\n    args:\n    - --flag\n    - -x\n    env: []\n  volumes:\n    - name: v\n      emptyDir: {}\n"
        ));
        assert!(ok(
            "description: a long\n  continued line\n  and more\nnext: 1\n"
        ));
        assert!(ok("a: 'multi\n  line'\nb: \"x\n  y\"\n"));
        assert_eq!(
            check("# only a comment\n"),
            Some(Shape {
                root_is_map: false,
                is_empty: true
            })
        );
        assert!(ok("a:\r\n  b: c\r\n"));
    }

    #[test]
    fn continues_plain_scalars_on_lines_that_start_with_an_indicator() {
        for first in [
            "\"2m\", \"1h\")",
            "'a'",
            "[a, b]",
            "]",
            "{c}",
            "}",
            ",d",
            "*x",
            "&x",
            "!x",
            "|x",
            ">x",
            "?x",
            ":x",
            "-x",
        ] {
            assert!(ok(&format!("a: one\n  {first}\nb: 2\n")), "{first}");
            assert!(ok(&format!("- one\n  {first}\n- 2\n")), "{first}");
        }
        for first in ["- x", "? x", ": x", "%x", "@x", "`x", "x: y", "\tx"] {
            assert!(!ok(&format!("a: one\n  {first}\n")), "{first}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_vouch_for() {
        for s in [
            "a: 1\n  b: 2\n",
            "a:\n    b: 1\n  c: 2\n",
            "a: b: c\n",
            "a: &x 1\n",
            "a: *x\n",
            "a: !!str 1\n",
            "a: {b: 1}\n",
            "a: \"x\\ny\"\n",
            "a:\tb\n",
            "a: 1\n- b\n",
            "- a\n  b: 1\n",
            "a: foo:\n",
            "a: 'x' y\n",
            "a: |2\n   x\n",
            "a: |\n   \n  x\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: 1\n...\nb: 2\n",
            "a: -\n",
            "<<: {a: 1}\n",
            "a: b\n  # c\n  d\n",
            "  a: 1\n",
            "a: \"open\n",
            "a: 1\u{0}\n",
            "a: 1\u{85}\n",
            // Found by fuzzing: a space-only last line, without a line break, ending a block
            // scalar; the parser reads one more line break than the clip rule gives.
            "foo: |\n\n   type: string\n     items:\n   ",
        ] {
            assert!(!ok(s), "accepted {s:?}");
        }
    }

    /// Whether two trees are the same, with the spans and lines of every scalar (the
    /// editor places lines by those; the parser starts some block sequences elsewhere).
    fn same_with_spans(a: &Node, b: &Node) -> bool {
        a.flow == b.flow
            && match (&a.value, &b.value) {
                (Value::Seq(x), Value::Seq(y)) => {
                    x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_with_spans(p, q))
                }
                (Value::Map(x), Value::Map(y)) => {
                    x.len() == y.len()
                        && x.iter().zip(y).all(|((ka, va), (kb, vb))| {
                            same_with_spans(ka, kb) && same_with_spans(va, vb)
                        })
                }
                _ => a.same_data(b) && a.start == b.start && a.end == b.end && a.line == b.line,
            }
    }

    #[test]
    fn builds_the_parsers_tree_with_its_spans() {
        use crate::yaml::{Limits, parse_chunk};
        let long = "x".repeat(70);
        let cases = [
            // Plain scalars continued on later lines (attached with their first line, then
            // changed), at the end of a mapping, of a sequence item, of the document, before
            // a comment, with blank lines between their lines.
            "a: one\n  two\nb: 1\n".to_owned(),
            "a:\n  b: one\n    two\n\n    three\nc: 1\n".to_owned(),
            "- one\n  two\n- k: v\n    w\n  l: x\n".to_owned(),
            "a: b\n  c\n# done\nd: e\n  f".to_owned(),
            "a:\n    - x\n      y\n    - z\n".to_owned(),
            // Text with what only looks like a comment or an indicator.
            "a: b#c\nd: e:f\ng: h # i\nj: k  \nl: -m\n".to_owned(),
            // Quoted keys and values, flow sequences, empty collections, nulls.
            "'it s': \"x\"\n\"k\": 'y''z'\nc: [\"sh\", '-c', true]\nd: {}\ne:\nf: []\n".to_owned(),
            // Long values (searched a vector at a time), with a comment, a colon, a hash.
            format!("a: {long} # c\nb: {long}:{long}\nc: {long}#{long}\n"),
            // Line breaks as on Windows, indentations of 4 and 0.
            "a:\r\n    b: c\r\n      d\r\nl:\r\n- 1\r\n- 2\r\n".to_owned(),
        ];
        for text in &cases {
            let Some((_, Some(tree))) = parse(text, 5, 3, usize::MAX) else {
                panic!("refused {text:?}");
            };
            let full = parse_chunk(text, 5, 3, &Limits::default(), true).expect("valid YAML");
            let want = full.into_iter().next().and_then(|d| d.root);
            assert!(
                want.as_ref().is_some_and(|w| same_with_spans(&tree, w)),
                "{text:?}\nfast: {tree:#?}\nparser: {want:#?}"
            );
        }
    }

    #[test]
    fn a_refused_chunk_leaves_nothing_for_the_next_one() {
        use crate::yaml::{Limits, parse_chunk};
        // Refused with collections, entries and items still open: the lists the thread
        // keeps for the next chunk must come back empty.
        let refused = "a:\n  b:\n  - c\n  - d: 1\n    e: \"x\\ny\"\n";
        assert!(parse(refused, 0, 1, usize::MAX).is_none());
        let text = "k: v\nl:\n- 1\n- m: 'it''s'\n  n: |\n    x\n";
        let Some((_, Some(tree))) = parse(text, 0, 1, usize::MAX) else {
            panic!("refused {text:?}");
        };
        let full = parse_chunk(text, 0, 1, &Limits::default(), true).expect("valid YAML");
        let want = full
            .into_iter()
            .next()
            .and_then(|d| d.root)
            .expect("a tree");
        assert!(tree.same_data(&want), "{tree:#?}\n{want:#?}");
        let item = tree.get("l").and_then(Node::items).and_then(|i| i.get(1));
        assert_eq!(
            item.and_then(|m| m.get("m")).and_then(Node::as_str),
            Some("it's")
        );
        assert_eq!(
            item.and_then(|m| m.get("n")).and_then(Node::as_str),
            Some("x\n")
        );
    }

    #[test]
    fn counts_indentation_of_any_length() {
        for spaces in 0..40 {
            for rest in ["", "a", "ab: c d e f g h", "\t"] {
                let line = format!("{}{rest}", " ".repeat(spaces));
                assert_eq!(indent_of(&line), spaces, "{line:?}");
            }
        }
    }

    #[test]
    fn printable_is_checked_whatever_the_length() {
        for len in 0..70 {
            let mut text = "a".repeat(len);
            assert!(printable(&text));
            for bad in ["\u{7f}", "\u{1}", "\r", "\u{85}", "\u{feff}"] {
                text.push_str(bad);
                assert!(!printable(&text), "{text:?}");
                text.truncate(len);
            }
            text.push_str("\r\n\t é");
            assert!(printable(&text), "{text:?}");
        }
    }

    #[test]
    fn short_texts_are_copied_whole() {
        let text = "abcdefghijklmnopqrstuvwxyzé0123456789";
        for end in (0..=text.len()).filter(|&e| text.is_char_boundary(e)) {
            let t = &text[..end];
            assert_eq!(small_str(t), SmolStr::new(t));
            assert_eq!(small_str(t).as_str(), t);
        }
    }

    #[test]
    fn reports_the_root_shape() {
        assert_eq!(
            check("- a\n- b\n"),
            Some(Shape {
                root_is_map: false,
                is_empty: false
            })
        );
        assert_eq!(
            check("a: 1\n"),
            Some(Shape {
                root_is_map: true,
                is_empty: false
            })
        );
    }
}
