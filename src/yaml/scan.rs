//! Quick reads of a document's text that need no parse (its kind, the Helm template it came
//! from, a name for messages, line breaks Kubernetes reads differently) and checks of a
//! parsed tree (repeated keys, applying an intent to it).

use super::{Intent, Node, Op, Path, PathSeg, Val, Value};

/// The `apiVersion` and `kind` of a chunk that is one plain block-style document, read
/// from its top-level lines without parsing; `None` whenever that is not certain (several
/// or no `kind:` lines, quoting with escapes, flow style, directives, `...` markers).
pub(crate) fn top_level_kind(text: &str) -> Option<(&str, &str)> {
    let b = text.as_bytes();
    if matches!(b.first(), Some(b'{' | b'[' | b'%' | b'.')) {
        return None;
    }
    // One pass over the line starts (the first, and each after a line break): a `...` or a
    // directive anywhere makes the text too unusual; each key must start exactly one line.
    let (mut api, mut kind) = (None, None);
    for start in std::iter::once(0).chain(memchr::memchr_iter(b'\n', b).map(|i| i + 1)) {
        let line = b.get(start..).unwrap_or_default();
        let (found, len) = match line.first() {
            Some(b'.') if line.starts_with(b"...") => return None,
            Some(b'%') => return None,
            Some(b'a') if line.starts_with(b"apiVersion:") => (&mut api, "apiVersion:".len()),
            Some(b'k') if line.starts_with(b"kind:") => (&mut kind, "kind:".len()),
            _ => continue,
        };
        if found.replace(start + len).is_some() {
            return None;
        }
    }
    let value = |i: usize| {
        let end = memchr::memchr(b'\n', b.get(i..)?).map_or(b.len(), |e| i + e);
        simple_scalar(text.get(i..end)?)
    };
    Some((value(api?)?, value(kind?)?))
}

/// A plain or simply quoted scalar at the end of a `key:` line.
pub(crate) fn simple_scalar(rest: &str) -> Option<&str> {
    let v = rest.trim_end_matches('\r');
    let v = match v.find(" #") {
        Some(i) => &v[..i],
        None => v,
    };
    let v = v.trim();
    let v = if let Some(q) = v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        q
    } else if let Some(q) = v.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        q
    } else {
        v
    };
    let ok = !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/' || b == b'-' || b == b'_');
    ok.then_some(v)
}

/// A line break other than LF or CRLF: a lone CR (old Mac files), or NEL, LS, PS (line
/// breaks in YAML 1.1 only).
pub(crate) fn odd_line_break(text: &str) -> Option<crate::error::OddLineBreak> {
    let b = text.as_bytes();
    if memchr::memchr_iter(b'\r', b).any(|i| b.get(i + 1) != Some(&b'\n')) {
        return Some(crate::error::OddLineBreak::LoneCr);
    }
    if !text.is_ascii()
        && text
            .chars()
            .any(|c| matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}'))
    {
        return Some(crate::error::OddLineBreak::Unicode);
    }
    None
}

/// The Helm template a chunk came from, from its `# Source: path` comment.
pub(crate) fn helm_source(text: &str) -> Option<String> {
    for line in text.lines().take(8) {
        let l = line.trim_end_matches('\r');
        if let Some(src) = l.strip_prefix("# Source: ") {
            return Some(src.trim().to_owned());
        }
        if !(l.is_empty() || l.starts_with('#') || l.starts_with("---")) {
            break;
        }
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
