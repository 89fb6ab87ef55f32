//! Quick reads of a document's text that need no parse (its kind, the Helm template it came
//! from, a name for messages, line breaks Kubernetes reads differently) and checks of a
//! parsed tree (repeated keys, applying an intent to it).

use super::fast::KEY_BYTE;
use super::{Intent, Node, Op, Path, PathSeg, Val, Value};

/// The `apiVersion` and `kind` of a chunk that is one plain block-style document, read
/// from its top-level lines without parsing; `None` whenever that is not certain.
///
/// Certain means that the root is a block mapping whose keys all start a line at column 0
/// (its first content is a plain key there), that each of the two keys is written plain
/// and once, as `apiVersion:` or `kind:` at the start of a line, and that its value is a
/// plain or simply quoted scalar the line holds whole (no continuation line after it).
/// Anything else at column 0 that could hide a top-level key or change what the root is
/// (quoted or explicit keys, a key spelled with a blank before its `:`, flow collections,
/// directives, `...` markers) makes it uncertain.
pub(crate) fn top_level_kind(text: &str) -> Option<(&str, &str)> {
    let b = text.as_bytes();
    let (mut api, mut kind) = (None, None);
    // Whether the root's first key was seen.
    let mut content = false;
    // Whether one of the two keys was the last key seen, with only blank lines or comments
    // since: a more indented line would continue its value.
    let mut after_key = false;
    // One `memchr` per line: vectorised, it beats any scan of every byte on the long lines
    // of large documents, and costs about as much on the short lines of small ones.
    let mut next = Some(0);
    while let Some(start) = next {
        next = memchr::memchr(b'\n', b.get(start..).unwrap_or_default()).map(|i| start + i + 1);
        let Some(&first) = b.get(start) else { continue };
        let (found, len) = match first {
            // Most lines: a child of a top-level key.
            b' ' | b'\t' if content && !after_key => continue,
            // Before the first key or right after one of the two, an indented line could be
            // the root itself or the value's continuation, unless it is blank (or a
            // comment, before the first key).
            b' ' | b'\t' => {
                let line = b.get(start..).unwrap_or_default();
                let rest = line
                    .iter()
                    .position(|&c| c != b' ' && c != b'\t')
                    .and_then(|i| line.get(i..))
                    .unwrap_or_default();
                let blank = matches!(rest.first(), None | Some(b'\n')) || rest.starts_with(b"\r\n");
                if blank || (!content && rest.first() == Some(&b'#')) {
                    continue;
                }
                return None;
            }
            b'\n' | b'#' => continue,
            b'\r' if b.get(start + 1) == Some(&b'\n') => continue,
            // The document's marker, alone on its line (content after it would be the root).
            b'-' if start == 0 && b.starts_with(b"---") => {
                let end = memchr::memchr(b'\n', b).unwrap_or(b.len());
                if text.get(3..end).is_some_and(blank_or_comment) {
                    continue;
                }
                return None;
            }
            // An item of a sequence that is the value of a top-level key.
            b'-' if content
                && matches!(b.get(start + 1), None | Some(b' ' | b'\t' | b'\r' | b'\n')) =>
            {
                after_key = false;
                continue;
            }
            b'a' | b'k' => {
                let line = b.get(start..).unwrap_or_default();
                let (found, name): (_, &[u8]) = if first == b'a' {
                    (&mut api, b"apiVersion")
                } else {
                    (&mut kind, b"kind")
                };
                content = true;
                after_key = false;
                if !line.starts_with(name) {
                    continue;
                }
                match line.get(name.len()) {
                    // The key, when a blank or the line's end follows its `:`.
                    Some(b':')
                        if matches!(
                            line.get(name.len() + 1),
                            None | Some(b' ' | b'\t' | b'\r' | b'\n')
                        ) =>
                    {
                        after_key = true;
                        (found, start + name.len() + 1)
                    }
                    // Another key that starts with the same letters.
                    Some(&c) if KEY_BYTE[usize::from(c)] => continue,
                    // `kind :` is the key too, `kind:x` no key at all: left to the parser.
                    _ => return None,
                }
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                content = true;
                after_key = false;
                continue;
            }
            // Quoted or explicit keys, flow collections, anchors, tags, aliases, block
            // scalars, directives, markers, a lone carriage return: not certain.
            _ => return None,
        };
        if found.replace(len).is_some() {
            return None;
        }
    }
    Some((simple_scalar(text, api?)?, simple_scalar(text, kind?)?))
}

/// Whether `s` holds nothing but blanks, or blanks and then a comment (a line's carriage
/// return aside).
fn blank_or_comment(s: &str) -> bool {
    let t = s.trim_start_matches([' ', '\t']);
    t.is_empty() || t == "\r" || (t.starts_with('#') && t.len() < s.len())
}

/// The simple scalar that follows a `key:` at byte `at` of `text`, and ends its line: made
/// of letters, digits, `.`, `/`, `-` and `_` only, plain or in quotes, with blanks around
/// it, then maybe a comment (after a blank), then the line break. One pass over the bytes.
fn simple_scalar(text: &str, at: usize) -> Option<&str> {
    let b = text.as_bytes();
    let mut i = at;
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    let quote = match b.get(i) {
        Some(&q @ (b'"' | b'\'')) => {
            i += 1;
            Some(q)
        }
        _ => None,
    };
    let start = i;
    while b.get(i).is_some_and(|&c| KEY_BYTE[usize::from(c)]) {
        i += 1;
    }
    let end = i;
    if let Some(q) = quote {
        if b.get(i) != Some(&q) {
            return None;
        }
        i += 1;
    }
    let value_end = i;
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    match b.get(i) {
        None | Some(b'\n') => {}
        // A comment, which needs a blank before it: the line's end is the next line feed.
        Some(b'#') if i > value_end => {}
        // The line's carriage returns.
        Some(b'\r') => {
            let rest = b.get(i..).unwrap_or_default();
            let crs = rest.iter().take_while(|&&c| c == b'\r').count();
            if !matches!(rest.get(crs), None | Some(b'\n')) {
                return None;
            }
        }
        _ => return None,
    }
    (end > start).then(|| text.get(start..end)).flatten()
}

/// A line break other than LF or CRLF: a lone CR (old Mac files), or NEL, LS, PS (line
/// breaks in YAML 1.1 only).
pub(crate) fn odd_line_break(text: &str) -> Option<crate::error::OddLineBreak> {
    // One vectorised search for the bytes that can start one: a carriage return, and the
    // first bytes of NEL (`C2 85`) and of LS and PS (`E2 80 A8`, `E2 80 A9`) in UTF-8.
    let b = text.as_bytes();
    let mut unicode = false;
    for i in memchr::memchr3_iter(b'\r', 0xc2, 0xe2, b) {
        match b.get(i..) {
            Some([b'\r', b'\n', ..]) | Some([0xc2 | 0xe2, ..]) => {}
            Some([b'\r', ..]) => return Some(crate::error::OddLineBreak::LoneCr),
            _ => {}
        }
        unicode |= matches!(
            b.get(i..),
            Some([0xc2, 0x85, ..] | [0xe2, 0x80, 0xa8 | 0xa9, ..])
        );
    }
    unicode.then_some(crate::error::OddLineBreak::Unicode)
}

/// The Helm template a chunk came from, from its `# Source: path` comment.
pub(crate) fn helm_source(text: &str) -> Option<String> {
    let mut rest = text;
    for _ in 0..8 {
        // Most documents start with a line that is neither blank, nor a comment, nor a
        // `---`: its first byte tells, without looking for its end.
        if !matches!(rest.as_bytes().first(), Some(b'#' | b'-' | b'\r' | b'\n')) {
            return None;
        }
        let (line, next) = rest.split_once('\n').unwrap_or((rest, ""));
        let l = line.trim_end_matches('\r');
        if let Some(src) = l.strip_prefix("# Source: ") {
            return Some(src.trim().to_owned());
        }
        if !(l.is_empty() || l.starts_with('#') || l.starts_with("---")) {
            return None;
        }
        rest = next;
    }
    None
}

/// A best guess at the object in a document that does not parse: its top-level `kind:`
/// and the `name:`/`namespace:` under `metadata:`.
pub(crate) fn guess_object(text: &str) -> Option<String> {
    let mut kind = None;
    let mut name = None;
    let mut ns = None;
    let mut in_meta = false;
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    // The scalar after `key:` on line `at` (indented by `indent`), as YAML reads it.
    let value = |at: usize, rest: &str, indent: usize| {
        let continued = lines.get(at + 1..).unwrap_or(&[]).iter().find(|l| {
            let t = l.trim_start();
            !t.is_empty() && !t.starts_with('#')
        });
        // A plain scalar may go on over the next, more indented lines.
        let more = continued.is_some_and(|l| l.len() - l.trim_start().len() > indent);
        (!more).then(|| one_line_scalar(rest)).flatten()
    };
    for (at, l) in lines.iter().enumerate() {
        if let Some(k) = l.strip_prefix("kind:") {
            kind = value(at, k, 0);
        }
        if l.starts_with("metadata:") {
            in_meta = true;
            continue;
        }
        if in_meta {
            if !l.starts_with(' ') && !l.is_empty() {
                in_meta = false;
            } else if let Some(v) = l.trim_start().strip_prefix("name:") {
                if l.len() - l.trim_start().len() == 2 && name.is_none() {
                    name = Some(value(at, v, 2));
                }
            } else if let Some(v) = l.trim_start().strip_prefix("namespace:")
                && l.len() - l.trim_start().len() == 2
                && ns.is_none()
            {
                ns = Some(value(at, v, 2));
            }
        }
    }
    let kind = kind.filter(|k| !k.is_empty())?;
    Some(match (ns.flatten(), name.flatten()) {
        (Some(ns), Some(n)) => format!("{kind} {ns}/{n}"),
        (None, Some(n)) => format!("{kind} {n}"),
        _ => kind,
    })
}

/// The scalar `rest` (what follows `key:` on a line) reads as, when it is one a line holds
/// whole: plain (up to a comment) or quoted without escapes. None for anything else (a block
/// scalar, an anchor, a tag, a flow collection, an escape, a value on the next lines).
fn one_line_scalar(rest: &str) -> Option<String> {
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    let v = rest.trim();
    let quoted = |q: char| {
        let inner = v.strip_prefix(q)?;
        let end = inner.rfind(q)?;
        let (body, after) = (inner.get(..end)?, inner.get(end + 1..)?);
        let after = after.trim_start();
        if !(after.is_empty() || after.starts_with('#')) {
            return None;
        }
        match q {
            '"' => (!body.contains(['"', '\\'])).then(|| body.to_owned()),
            _ => (!body.replace("''", "").contains('\'')).then(|| body.replace("''", "'")),
        }
    };
    if v.starts_with('"') {
        return quoted('"');
    }
    if v.starts_with('\'') {
        return quoted('\'');
    }
    let v = match v.find(" #").or_else(|| v.find("\t#")) {
        Some(at) => v.get(..at)?.trim_end(),
        None => v,
    };
    let indicator = v.starts_with([
        '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '%', '@', '`',
    ]);
    if v.is_empty() || indicator || v.contains(": ") || v.ends_with(':') || v.contains('\t') {
        return None;
    }
    Some(v.to_owned())
}

/// Keys that appear more than once in a mapping, with the mapping's path.
///
/// The tree is walked depth first; the way down (each collection on it, with the child
/// being visited) is the path of a duplicate, so nothing is recorded per node and a
/// document of ordinary depth costs one small allocation.
pub(crate) fn duplicate_keys(root: &Node) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // The fast reader compared each mapping's keys already.
    if root.unique_keys {
        return out;
    }
    let mut down: Vec<Down<'_>> = Vec::with_capacity(16);
    // The keys of a small mapping, without an allocation.
    let mut small: [Option<&str>; 32] = [None; 32];
    if let Some(d) = enter(root, &down, &mut small, &mut out) {
        down.push(d);
    }
    while let Some(top) = down.last_mut() {
        let next = top.next_child();
        match next {
            Some(child) => {
                if let Some(d) = enter(child, &down, &mut small, &mut out) {
                    down.push(d);
                }
            }
            None => {
                down.pop();
            }
        }
    }
    out.sort();
    out
}

/// A collection on the way down, and where its walk stands.
struct Down<'n> {
    node: &'n Node,
    /// How many of its children (or of `only`) were handed out.
    next: usize,
    /// The entries to visit (the last of each key), for a mapping with duplicates.
    only: Option<Vec<usize>>,
}

impl<'n> Down<'n> {
    /// The next child to visit: each item of a sequence; the value of the last occurrence
    /// of each key of a mapping (Kubernetes sees only that one, so what an earlier one holds,
    /// duplicates included, is not looked into).
    fn next_child(&mut self) -> Option<&'n Node> {
        match &self.node.value {
            Value::Seq(items) => {
                let item = items.get(self.next);
                self.next += 1;
                item
            }
            Value::Map(entries) => {
                if let Some(only) = &self.only {
                    let i = *only.get(self.next)?;
                    self.next += 1;
                    return entries.get(i).map(|(_, v)| v);
                }
                // Without duplicates, every key is the last of its name.
                while let Some(e) = entries.get(self.next) {
                    self.next += 1;
                    if key_of(e).is_some() {
                        return Some(&e.1);
                    }
                }
                None
            }
            _ => None,
        }
    }

    /// The step from this collection to the child handed out last.
    fn step(&self) -> Option<PathSeg> {
        let at = self.next.checked_sub(1)?;
        match &self.node.value {
            Value::Seq(_) => Some(PathSeg::Index(at)),
            Value::Map(entries) => {
                let i = match &self.only {
                    Some(only) => *only.get(at)?,
                    None => at,
                };
                entries
                    .get(i)
                    .and_then(key_of)
                    .map(|k| PathSeg::Key(k.into()))
            }
            _ => None,
        }
    }
}

/// Starts the walk of `node`, reached along `down`: reports the duplicate keys of a mapping,
/// and returns the collection to walk (`None` for a scalar or an alias).
fn enter<'n>(
    node: &'n Node,
    down: &[Down<'n>],
    small: &mut [Option<&'n str>; 32],
    out: &mut Vec<(String, String)>,
) -> Option<Down<'n>> {
    let only = match &node.value {
        Value::Map(entries) => map_duplicates(entries, down, small, out),
        Value::Seq(_) => None,
        _ => return None,
    };
    Some(Down {
        node,
        next: 0,
        only,
    })
}

/// The path of the collection at the end of `down`.
fn path_of(down: &[Down<'_>]) -> String {
    Path(down.iter().filter_map(Down::step).collect()).to_string()
}

/// The key of an entry, when Kubernetes sees it as one (merge keys it does not).
fn key_of(e: &(Node, Node)) -> Option<&str> {
    let key = e.0.as_str()?;
    // Only a key spelled `<<` may be a merge key.
    if key == "<<" && e.0.is_merge_key() {
        None
    } else {
        Some(key)
    }
}

/// Whether two keys are the same, comparing their lengths and first bytes before their
/// texts (most keys of a mapping differ in one of those).
fn same_key(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// The bit of the duplicate filter of [`map_duplicates`] (and of the fast reader) that
/// `key` sets: equal keys set the same bit.
pub(crate) fn key_bit(key: &str) -> u32 {
    let b = key.as_bytes();
    let (first, last) = (b.first().copied(), b.last().copied());
    let mix = (b.len() as u32)
        .wrapping_mul(0x9e37)
        .wrapping_add(u32::from(first.unwrap_or(0)).wrapping_mul(0x2f))
        .wrapping_add(u32::from(last.unwrap_or(0)).wrapping_mul(0x61));
    (mix ^ (mix >> 7)) & 63
}

/// Whether `keys` holds `key`.
fn has_key(keys: &[Option<&str>], key: &str) -> bool {
    keys.iter().any(|k| k.is_some_and(|k| same_key(k, key)))
}

/// Adds to `out` the keys that appear more than once in the mapping of `entries` (reached
/// along `down`); `small` is room for the keys of a small mapping. When there are any,
/// returns the entries to walk into: the last of each key.
fn map_duplicates<'n>(
    entries: &'n [(Node, Node)],
    down: &[Down<'n>],
    small: &mut [Option<&'n str>; 32],
    out: &mut Vec<(String, String)>,
) -> Option<Vec<usize>> {
    let mut reported: Vec<&str> = Vec::new();
    if entries.len() <= small.len() {
        // A small mapping is scanned instead of hashed: no allocation for the common case.
        // Each key also sets one bit of a 64-bit filter, picked by its length and its first
        // and last bytes: when no two keys pick the same bit, no two are the same, and the
        // pairwise comparison below is skipped (most mappings).
        let mut filter = 0u64;
        let mut clash = false;
        for (slot, e) in small.iter_mut().zip(entries) {
            let key = key_of(e);
            if let Some(k) = key {
                let bit = 1u64 << key_bit(k);
                clash |= filter & bit != 0;
                filter |= bit;
            }
            *slot = key;
        }
        if !clash {
            return None;
        }
        let keys = small.get(..entries.len()).unwrap_or(&[]);
        for (i, key) in keys.iter().enumerate() {
            let Some(key) = *key else { continue };
            let before = keys.get(..i).unwrap_or(&[]);
            if has_key(before, key) && !reported.contains(&key) {
                reported.push(key);
                out.push((path_of(down), key.to_owned()));
            }
        }
        if reported.is_empty() {
            return None;
        }
        let only = (0..keys.len())
            .filter(|&i| {
                keys.get(i)
                    .copied()
                    .flatten()
                    .is_some_and(|key| !has_key(keys.get(i + 1..).unwrap_or(&[]), key))
            })
            .collect();
        return Some(only);
    }
    let mut seen = std::collections::HashSet::new();
    let mut last: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        let Some(key) = key_of(e) else { continue };
        if !seen.insert(key) && !reported.contains(&key) {
            reported.push(key);
            out.push((path_of(down), key.to_owned()));
        }
        last.insert(key, i);
    }
    if reported.is_empty() {
        return None;
    }
    let mut only: Vec<usize> = last.into_values().collect();
    only.sort_unstable();
    Some(only)
}

/// Applies an intent to a resolved tree; `Err` names the path that was not found.
pub(crate) fn apply_to_tree(root: &mut Node, intent: &Intent) -> Result<(), String> {
    let missing = || intent.path.to_string();
    let mut node = root;
    for seg in &intent.path.0 {
        node = match (seg, &mut node.value) {
            (PathSeg::Key(k), Value::Map(entries)) => {
                &mut entries
                    .iter_mut()
                    .rev()
                    .find(|(ek, _)| ek.as_str() == Some(k.as_str()))
                    .ok_or_else(missing)?
                    .1
            }
            (PathSeg::Index(i), Value::Seq(items)) => items.get_mut(*i).ok_or_else(missing)?,
            _ => return Err(missing()),
        };
    }
    match (&intent.op, &mut node.value) {
        (Op::AddKey(k, v), Value::Map(entries)) => entries.push((
            crate::yaml::val_to_node(&Val::Str(k.to_string())),
            crate::yaml::val_to_node(v),
        )),
        (Op::Append(v), Value::Seq(items)) => items.push(crate::yaml::val_to_node(v)),
        (Op::Prepend(v), Value::Seq(items)) => items.insert(0, crate::yaml::val_to_node(v)),
        (Op::Replace(v), _) => *node = crate::yaml::val_to_node(v),
        (Op::AppendBlock(_), _) => return Err(missing()),
        (Op::RemoveKey(k), Value::Map(entries)) => {
            entries.retain(|(ek, _)| ek.as_str() != Some(k.as_str()))
        }
        (Op::ReplaceEntry(old, new, v), Value::Map(entries)) => {
            // Kubernetes reads the last occurrence: the new entry takes its place, and
            // every other occurrence of either key goes.
            let at = entries
                .iter()
                .rposition(|(ek, _)| ek.as_str() == Some(old.as_str()))
                .ok_or_else(missing)?;
            entries[at] = (
                crate::yaml::val_to_node(&Val::Str(new.to_string())),
                crate::yaml::val_to_node(v),
            );
            let mut i = 0;
            entries.retain(|(ek, _)| {
                let keep = i == at || !matches!(ek.as_str(), Some(k) if k == old || k == new);
                i += 1;
                keep
            });
        }
        (Op::RemoveItem(i), Value::Seq(items)) if *i < items.len() => {
            items.remove(*i);
        }
        _ => return Err(missing()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse_chunk_lenient, split_stream};

    /// The root's `apiVersion` and `kind` as the parser reads them the way go-yaml v2 does
    /// (aliases and merge keys applied, the last of a repeated key kept, as Kubernetes reads
    /// them): `None` when the parser (or the resolution) refuses the text, `Some(None)` when
    /// it is no mapping
    /// or either value is not a string.
    fn parsed_kind(text: &str) -> Option<Option<(String, String)>> {
        let (docs, _) = parse_chunk_lenient(text, 0, 1, &Limits::default(), true).ok()?;
        let root = docs.first().and_then(|d| d.root.as_ref());
        let resolved = match root {
            Some(r) => Some(r.resolve(&Limits::default()).ok()?),
            None => None,
        };
        let get = |k: &str| {
            resolved
                .as_ref()
                .and_then(|r| r.get(k))
                .and_then(Node::as_str)
                .map(str::to_owned)
        };
        Some(get("apiVersion").zip(get("kind")))
    }

    /// The promise: what the line scan reads in a document the parser reads, the parser
    /// reads too.
    fn agrees(text: &str) -> Option<(String, String)> {
        let fast = top_level_kind(text).map(|(a, k)| (a.to_owned(), k.to_owned()));
        if let (Some(f), Some(parsed)) = (&fast, parsed_kind(text)) {
            assert_eq!(Some(f), parsed.as_ref(), "{text:?}");
        }
        fast
    }

    const BODY: &str = "metadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: nginx\n";

    #[test]
    fn reads_what_the_parser_reads_in_the_golden_inputs() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/stream");
        let mut read = 0;
        for case in std::fs::read_dir(&dir).expect("the golden cases") {
            let path = case.expect("a case").path().join("input.yaml");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            for c in split_stream(&text) {
                read += usize::from(agrees(&text[c.start..c.end]).is_some());
            }
        }
        assert!(read > 300, "only {read} documents read");
    }

    #[test]
    fn reads_plain_documents_in_every_common_layout() {
        for (text, api, kind) in [
            ("apiVersion: v1\nkind: Pod\n", "v1", "Pod"),
            ("---\napiVersion: v1\nkind: Pod\n", "v1", "Pod"),
            (
                "--- # first\n\n# Source: x\napiVersion: v1\nkind: Pod\n",
                "v1",
                "Pod",
            ),
            ("kind: Pod\r\napiVersion: v1\r\nmetadata: {}", "v1", "Pod"),
            (
                "apiVersion: \"apps/v1\"\nkind: 'Deployment' # c\n",
                "apps/v1",
                "Deployment",
            ),
            (
                "apiVersion: apps/v1\t# c\nkind:\tDeployment \n",
                "apps/v1",
                "Deployment",
            ),
            ("apiVersion: v1 \r\nkind: Pod # c: 'x'\r\n", "v1", "Pod"),
            (
                "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n\n- kind: Service\n",
                "v1",
                "List",
            ),
            (
                "apiVersion: v1\nkinds: 1\napiVersions: 2\nkind: Pod\n",
                "v1",
                "Pod",
            ),
            (
                "apiVersion: v1\nkind: Pod\n\nmetadata:\n    name: a\n    kind: x\n",
                "v1",
                "Pod",
            ),
        ] {
            assert_eq!(
                agrees(text),
                Some((api.to_owned(), kind.to_owned())),
                "{text:?}"
            );
        }
    }

    /// Column-0 lines that a line scan would misread: a key it does not see (quoted,
    /// explicit, spelled with a blank before its `:`), a value that goes on, white space
    /// YAML does not trim, a root that is no block mapping.
    #[test]
    fn leaves_to_the_parser_what_a_line_scan_misreads() {
        let hostile = [
            "apiVersion: v1\nkind: ConfigMap\napiVersion : apps/v1\nkind : Deployment\n",
            "apiVersion: v1\nkind: ConfigMap\n\"apiVersion\": apps/v1\n'kind': Deployment\n",
            "apiVersion: v1\nkind: ConfigMap\n? apiVersion\n: apps/v1\n? kind\n: Deployment\n",
            "apiVersion: v1\nkind: ConfigMap\napiVersion\t: apps/v1\nkind\t: Deployment\n",
            "apiVersion: v1\nkind: ConfigMap\n  Extra\n",
            "apiVersion: v1\nkind: ConfigMap\n\n  Extra\n",
            "apiVersion: v1\nkind: ConfigMap\r\n\r\n  Extra\r\n",
            "apiVersion: v1\r\n  more\r\nkind: ConfigMap\r\n",
            "apiVersion: v1\nkind: ConfigMap\u{a0}\n",
            "apiVersion: v1\nkind: \u{2003}ConfigMap\n",
            "apiVersion: v1\u{85}\nkind: ConfigMap\n",
            "# c\n{apiVersion: apps/v1, kind: Deployment, x: {\napiVersion: v1\n, y: {\nkind: ConfigMap\n}}}\n",
            "--- {apiVersion: apps/v1, kind: Deployment, x: {\napiVersion: v1\n, y: {\nkind: ConfigMap\n}}}\n",
            " {apiVersion: apps/v1, kind: Deployment, x: {\napiVersion: v1\n, y: {\nkind: ConfigMap\n}}}\n",
            "- a\napiVersion: v1\nkind: ConfigMap\n",
            "--- |\napiVersion: v1\nkind: ConfigMap\n",
            "--- !!map\napiVersion: v1\nkind: ConfigMap\n",
            "apiVersion: v1\nkind: ConfigMap\n<<: {kind: Deployment}\n",
            "apiVersion: v1\nkind: *k\n",
            "apiVersion: v1\nkind:ConfigMap\n",
            "apiVersion: v1\nkind: ConfigMap#x\n",
            "apiVersion: v1\nkind: \"ConfigMap\"#x\n",
            "apiVersion: v1\nkind: 'ConfigMap\n",
            "apiVersion: v1\nkind: Config Map\n",
            "apiVersion: v1\nkind: ConfigMap\r \n",
        ];
        for text in hostile {
            for t in [text.to_owned(), format!("{text}{BODY}")] {
                assert_eq!(agrees(&t), None, "{t:?}");
            }
        }
    }

    #[test]
    fn finds_line_breaks_kubernetes_reads_differently() {
        use crate::error::OddLineBreak::{LoneCr, Unicode};
        for (text, want) in [
            ("a\r\nb\r\n", None),
            ("a\rb", Some(LoneCr)),
            ("a\r", Some(LoneCr)),
            ("\r\r\n", Some(LoneCr)),
            ("a\u{85}b", Some(Unicode)),
            ("\u{2028}", Some(Unicode)),
            ("x: \u{2029}\n", Some(Unicode)),
            ("\u{85}\r", Some(LoneCr)),
            ("\u{2027}\u{202a}\u{a0}\u{c5}\u{e5} é\r\n", None),
            ("", None),
        ] {
            assert_eq!(odd_line_break(text), want, "{text:?}");
        }
    }

    #[test]
    fn finds_the_helm_source_among_the_leading_comments() {
        for (text, want) in [
            (
                "---\n# Source: c/templates/x.yaml\nkind: Pod\n",
                Some("c/templates/x.yaml"),
            ),
            ("# Source: a.yaml \r\nkind: Pod\r\n", Some("a.yaml")),
            ("---\n\n# other\n#\n# Source: b.yaml", Some("b.yaml")),
            ("\r\n# Source: c.yaml\n", Some("c.yaml")),
            ("kind: Pod\n# Source: a.yaml\n", None),
            ("#Source: a.yaml\n", None),
            ("-- x\n# Source: a.yaml\n", None),
            ("\rx\n# Source: a.yaml\n", None),
            (
                "#\n#\n#\n#\n#\n#\n#\n# Source: eighth.yaml\n",
                Some("eighth.yaml"),
            ),
            ("#\n#\n#\n#\n#\n#\n#\n#\n# Source: ninth.yaml\n", None),
            ("", None),
        ] {
            assert_eq!(helm_source(text).as_deref(), want, "{text:?}");
        }
    }
}
