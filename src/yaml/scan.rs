//! Quick reads of a document's text that need no parse (its kind, the Helm template it came
//! from, a name for messages, line breaks Kubernetes reads differently) and checks of a
//! parsed tree (repeated keys, applying an intent to it).

use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::{Intent, Node, Op, Path, PathSeg, Val, Value};

/// The `apiVersion` and `kind` of a chunk that is one plain block-style document, read
/// from its top-level lines without parsing; `None` whenever that is not certain (several
/// or no `kind:` lines, quoting with escapes, flow style, directives, `...` markers).
pub(crate) fn top_level_kind(text: &str) -> Option<(&str, &str)> {
    // Searchers built once: building one costs more than searching a small document.
    static END: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\n..."));
    static DIRECTIVE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\n%"));
    static API: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"apiVersion:"));
    static KIND: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"kind:"));
    let b = text.as_bytes();
    if matches!(b.first(), Some(b'{' | b'[' | b'%' | b'.'))
        || END.find(b).is_some()
        || DIRECTIVE.find(b).is_some()
    {
        return None;
    }
    let one = |key: &Finder<'_>| -> Option<&str> {
        let mut found = None;
        let mut at_line_start = key
            .find_iter(b)
            .filter(|&i| i == 0 || b.get(i - 1) == Some(&b'\n'));
        if let Some(i) = at_line_start.next() {
            found = Some(i);
        }
        if at_line_start.next().is_some() {
            return None;
        }
        let i = found? + key.needle().len();
        let end = memchr::memchr(b'\n', b.get(i..)?).map_or(b.len(), |e| i + e);
        simple_scalar(text.get(i..end)?)
    };
    Some((one(&API)?, one(&KIND)?))
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
pub(crate) fn duplicate_keys(root: &Node) -> Vec<(String, String)> {
    let mut walk = Walk {
        steps: Vec::with_capacity(64),
        stack: Vec::with_capacity(16),
    };
    walk.steps.push((0, Seg::Root));
    walk.stack.push((root, 0));
    // The keys of a small mapping, without an allocation.
    let mut small: [Option<&str>; 32] = [None; 32];
    let mut out = Vec::new();
    while let Some((n, at)) = walk.stack.pop() {
        match &n.value {
            Value::Map(entries) => map_duplicates(entries, at, &mut small, &mut walk, &mut out),
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk.push(at, Seg::Index(i), item);
                }
            }
            _ => {}
        }
    }
    out.sort();
    out
}

/// A step from a node to one of its children, for the path of a duplicate.
enum Seg<'n> {
    Root,
    Key(&'n str),
    Index(usize),
}

/// The nodes of a tree left to visit, and how each visited node was reached.
struct Walk<'n> {
    /// Each visited node's parent and the step to it; paths are only built for a duplicate.
    steps: Vec<(usize, Seg<'n>)>,
    /// The nodes left to visit, each with its index in `steps`.
    stack: Vec<(&'n Node, usize)>,
}

impl<'n> Walk<'n> {
    /// Schedules `node`, reached by `seg` from the node at `parent` of `steps`.
    fn push(&mut self, parent: usize, seg: Seg<'n>, node: &'n Node) {
        self.steps.push((parent, seg));
        self.stack.push((node, self.steps.len() - 1));
    }

    /// The path of the node at `at` of `steps`.
    fn path_of(&self, mut at: usize) -> String {
        let mut segs = Vec::new();
        while at != 0 {
            let (parent, seg) = &self.steps[at];
            segs.push(match seg {
                Seg::Key(k) => PathSeg::Key((*k).into()),
                Seg::Index(i) => PathSeg::Index(*i),
                Seg::Root => break,
            });
            at = *parent;
        }
        segs.reverse();
        Path(segs).to_string()
    }
}

/// The key of an entry, when Kubernetes sees it as one (merge keys it does not).
fn key_of(e: &(Node, Node)) -> Option<&str> {
    e.0.as_str().filter(|_| !e.0.is_merge_key())
}

/// Adds to `out` the keys that appear more than once in the mapping of `entries` (at `at`
/// of the walk), and schedules the value of the last of each key; `small` is room for the
/// keys of a small mapping.
fn map_duplicates<'n>(
    entries: &'n [(Node, Node)],
    at: usize,
    small: &mut [Option<&'n str>; 32],
    walk: &mut Walk<'n>,
    out: &mut Vec<(String, String)>,
) {
    let large: Vec<Option<&str>>;
    let keys: &[Option<&str>] = if entries.len() <= small.len() {
        for (slot, e) in small.iter_mut().zip(entries) {
            *slot = key_of(e);
        }
        small.get(..entries.len()).unwrap_or(&[])
    } else {
        large = entries.iter().map(key_of).collect();
        &large
    };
    let mut reported: Vec<&str> = Vec::new();
    let dup = |i: usize, key: &str| {
        if keys.len() <= 32 {
            keys[..i].contains(&Some(key))
        } else {
            false
        }
    };
    let mut seen: Option<std::collections::HashSet<&str>> =
        (keys.len() > 32).then(std::collections::HashSet::new);
    // Kubernetes sees only the last value of a key: what an earlier one holds
    // (duplicates included) is gone, so it is not looked into. A small mapping
    // is scanned instead of hashed: no allocation for the common case.
    let last: Option<std::collections::HashMap<&str, usize>> = (keys.len() > 32).then(|| {
        keys.iter()
            .enumerate()
            .filter_map(|(i, k)| k.map(|k| (k, i)))
            .collect()
    });
    let is_last = |i: usize, key: &str| match &last {
        Some(last) => last.get(key) == Some(&i),
        None => !keys.get(i + 1..).unwrap_or(&[]).contains(&Some(key)),
    };
    for (i, (k, v)) in entries.iter().enumerate() {
        // Merge keys are not keys Kubernetes sees, however many there are.
        if k.is_merge_key() {
            continue;
        }
        let Some(key) = k.as_str() else { continue };
        let is_dup = match seen.as_mut() {
            Some(set) => !set.insert(key),
            None => dup(i, key),
        };
        if is_dup && !reported.contains(&key) {
            reported.push(key);
            out.push((walk.path_of(at), key.to_owned()));
        }
        if is_last(i, key) {
            walk.push(at, Seg::Key(key), v);
        }
    }
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
            crate::yaml::val_to_node(&Val::Str(k.clone())),
            crate::yaml::val_to_node(v),
        )),
        (Op::Append(v), Value::Seq(items)) => items.push(crate::yaml::val_to_node(v)),
        (Op::Prepend(v), Value::Seq(items)) => items.insert(0, crate::yaml::val_to_node(v)),
        (Op::Replace(v) | Op::ReplaceNode(v), _) => *node = crate::yaml::val_to_node(v),
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
                crate::yaml::val_to_node(&Val::Str(new.clone())),
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
