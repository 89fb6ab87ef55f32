//! Applies [`Intent`]s to the text of one document by inserting lines (or, in flow
//! collections, JSON) next to the existing keys. Nothing that exists is re-written, except
//! a scalar that an intent explicitly replaces.

use super::Val;
use super::emit::{Layout, json_string, render_entry, render_item, render_json, scalar_for_block};
use super::tree::{Node, ScalarStyle, Value};
use super::{Intent, Op, Path, PathSeg};

/// Why an intent cannot be applied to the text in place; the caller re-emits the document.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The path does not lead to a node of the expected kind.
    #[error("{path}: cannot edit in place: {why}")]
    NotInPlace {
        /// Where.
        path: String,
        /// Why.
        why: &'static str,
    },
}

#[derive(Debug)]
struct Splice {
    at: usize,
    end: usize,
    /// Deeper insertions at the same offset go first.
    col: usize,
    /// At one offset and column: appended items before new keys.
    rank: u8,
    seq: usize,
    text: String,
}

/// Collects text edits for one document of `input`.
pub struct TextEditor<'a> {
    input: &'a str,
    root: &'a Node,
    layout: Layout,
    splices: Vec<Splice>,
    /// Entries already added to each empty flow collection (by its start offset), so a
    /// second one gets its comma.
    flow_added: std::collections::HashMap<usize, usize>,
}

fn line_start(input: &str, pos: usize) -> usize {
    input.as_bytes()[..pos.min(input.len())]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

fn col_of(input: &str, pos: usize) -> usize {
    pos - line_start(input, pos)
}

impl<'a> TextEditor<'a> {
    /// Starts editing the document whose tree is `root`, inside `input`.
    #[must_use]
    pub fn new(input: &'a str, root: &'a Node, crlf: bool) -> Self {
        let mut layout = Layout {
            newline: if crlf { "\r\n" } else { "\n" },
            ..Layout::default()
        };
        let mut seq_indent = None;
        let mut map_indent = None;
        detect_layout(input, root, &mut seq_indent, &mut map_indent);
        layout.seq_indent = seq_indent.unwrap_or(2);
        layout.map_indent = map_indent.unwrap_or(2);
        TextEditor {
            input,
            root,
            layout,
            splices: Vec::new(),
            flow_added: std::collections::HashMap::new(),
        }
    }

    /// Applies one intent.
    ///
    /// # Errors
    /// [`EditError::NotInPlace`] when the text cannot be edited in place (flow scalars
    /// spanning lines, block scalars to replace, aliases, a missing path).
    pub fn apply(&mut self, intent: &Intent) -> Result<(), EditError> {
        let fail = |why| EditError::NotInPlace {
            path: intent.path.to_string(),
            why,
        };
        let (node, parent_flow, key_start) =
            find(self.root, &intent.path).ok_or_else(|| fail("path not found"))?;
        let seq = self.splices.len();
        match &intent.op {
            Op::AddKey(key, val) => {
                let Value::Map(entries) = &node.value else {
                    return Err(fail("not a mapping"));
                };
                if node.flow {
                    let mut text = String::new();
                    let at = self
                        .flow_insert(node, &mut text)
                        .ok_or_else(|| fail("the flow mapping's end was not found"))?;
                    json_string(key, &mut text);
                    text.push_str(": ");
                    text.push_str(&render_json(val));
                    self.push(at, at, usize::MAX, 0, seq, text);
                } else {
                    let first = entries.first().ok_or_else(|| fail("empty block mapping"))?;
                    let col = col_of(self.input, first.0.start);
                    let mut text = String::new();
                    render_entry(key, val, col, &self.layout, &mut text);
                    let at = self.after(node.end);
                    self.push_lines(at, col, 1, seq, text);
                }
            }
            Op::Append(val) => {
                let Value::Seq(items) = &node.value else {
                    return Err(fail("not a list"));
                };
                if node.flow {
                    let mut text = String::new();
                    let at = self
                        .flow_insert(node, &mut text)
                        .ok_or_else(|| fail("the flow sequence's end was not found"))?;
                    text.push_str(&render_json(val));
                    self.push(at, at, usize::MAX, 0, seq, text);
                } else {
                    let first = items.first().ok_or_else(|| fail("empty block list"))?;
                    let dash = dash_before(self.input, first.start)
                        .ok_or_else(|| fail("no `-` found before the first item"))?;
                    let col = col_of(self.input, dash);
                    let mut text = String::new();
                    render_item(val, col, &self.layout, &mut text);
                    let at = self.after(node.end);
                    self.push_lines(at, col, 0, seq, text);
                }
            }
            Op::Prepend(val) => {
                let Value::Seq(items) = &node.value else {
                    return Err(fail("not a list"));
                };
                if node.flow {
                    // Right after the `[`, with a `, ` before the first item.
                    if items.is_empty() || self.input.as_bytes().get(node.start) != Some(&b'[') {
                        return Err(fail("no `[` at the start of the flow list"));
                    }
                    let mut text = render_json(val);
                    text.push_str(", ");
                    self.push(node.start + 1, node.start + 1, usize::MAX, 0, seq, text);
                    return Ok(());
                }
                let first = items.first().ok_or_else(|| fail("empty block list"))?;
                let dash = dash_before(self.input, first.start)
                    .ok_or_else(|| fail("no `-` found before the first item"))?;
                let ls = line_start(self.input, dash);
                if !self.input.as_bytes()[ls..dash].iter().all(|&b| b == b' ') {
                    return Err(fail("the first item shares its line with a key"));
                }
                let col = col_of(self.input, dash);
                let mut text = String::new();
                render_item(val, col, &self.layout, &mut text);
                self.push(ls, ls, col, 0, seq, text);
            }
            Op::Replace(val @ (Val::Map(_) | Val::Seq(_)))
                if node.is_null()
                    && node.start == node.end
                    && !parent_flow
                    && key_start.is_some() =>
            {
                // `key:` with nothing after it: the new value goes on the lines below, so
                // the key's own line stays as it was.
                let key_col = col_of(self.input, key_start.unwrap_or_default());
                let mut text = String::new();
                match val {
                    Val::Map(entries) => {
                        for (k, v) in entries {
                            render_entry(
                                k,
                                v,
                                key_col + self.layout.map_indent,
                                &self.layout,
                                &mut text,
                            );
                        }
                    }
                    Val::Seq(items) => {
                        for item in items {
                            render_item(
                                item,
                                key_col + self.layout.seq_indent,
                                &self.layout,
                                &mut text,
                            );
                        }
                    }
                    _ => {}
                }
                let at = self.after(node.end);
                self.push_lines(at, key_col + 1, 0, seq, text);
            }
            Op::Replace(val) => {
                let single_line = !self.input[node.start..node.end].contains('\n');
                let ok_style = matches!(
                    &node.value,
                    Value::Scalar {
                        style: ScalarStyle::Plain
                            | ScalarStyle::SingleQuoted
                            | ScalarStyle::DoubleQuoted,
                        ..
                    }
                );
                if !single_line || !ok_style || node.anchor != 0 || node.tag.is_some() {
                    return Err(fail("the scalar spans lines or carries an anchor or tag"));
                }
                // An empty value in a flow collection has no reliable place in the text; a
                // written `null` or `~` whose span holds exactly that word does.
                let written = matches!(&node.value, Value::Scalar { text, .. } if !text.is_empty() && self.input.get(node.start..node.end) == Some(text.as_str()));
                if parent_flow && node.is_null() && !written {
                    return Err(fail(
                        "an empty value in a flow collection is replaced by re-emitting",
                    ));
                }
                let mut text = String::new();
                let mut at = node.start;
                if node.start == node.end {
                    // An empty value sits on the `:` (or right after `-`): write after the
                    // indicator, with a space.
                    let bytes = self.input.as_bytes();
                    if bytes.get(at) == Some(&b':') {
                        at += 1;
                    }
                    if matches!(bytes.get(at.wrapping_sub(1)), Some(b':' | b'-')) {
                        text.push(' ');
                    }
                }
                if parent_flow {
                    text.push_str(&render_json(val));
                } else {
                    scalar_for_block(val, &mut text);
                }
                self.push(at, at.max(node.end), usize::MAX, 0, seq, text);
            }
            Op::ReplaceNode(_) => return Err(fail("whole nodes are replaced by re-emitting")),
            Op::RemoveKey(key) => {
                if node.flow {
                    return Err(fail("keys of flow mappings are removed by re-emitting"));
                }
                let entries = node.entries().ok_or_else(|| fail("not a mapping"))?;
                let (k, v) = entries
                    .iter()
                    .rev()
                    .find(|(k, _)| k.as_str() == Some(key.as_str()))
                    .ok_or_else(|| fail("key not found"))?;
                let ls = line_start(self.input, k.start);
                if !self.input.as_bytes()[ls..k.start]
                    .iter()
                    .all(|&b| b == b' ')
                {
                    return Err(fail("the key shares its line with a `-`"));
                }
                let end = self.after(v.end);
                self.push_removal(ls, end, seq);
            }
            Op::RemoveItem(index) => {
                if node.flow {
                    return Err(fail("items of flow lists are removed by re-emitting"));
                }
                let items = node.items().ok_or_else(|| fail("not a list"))?;
                let item = items.get(*index).ok_or_else(|| fail("item not found"))?;
                let dash = dash_before(self.input, item.start)
                    .ok_or_else(|| fail("no `-` found before the item"))?;
                let ls = line_start(self.input, dash);
                if !self.input.as_bytes()[ls..dash].iter().all(|&b| b == b' ') {
                    return Err(fail("the item shares its line with a key or another `-`"));
                }
                let end = self.after(item.end);
                self.push_removal(ls, end, seq);
            }
            Op::AppendBlock(block) => {
                let Value::Seq(items) = &node.value else {
                    return Err(fail("not a list"));
                };
                let first = items
                    .first()
                    .filter(|_| !node.flow)
                    .ok_or_else(|| fail("not a non-empty block list"))?;
                let dash = dash_before(self.input, first.start)
                    .ok_or_else(|| fail("no `-` found before the first item"))?;
                let col = col_of(self.input, dash);
                let nl = self.layout.newline;
                let mut text = String::new();
                for (i, line) in block.lines().enumerate() {
                    if i == 0 {
                        text.push_str(&" ".repeat(col));
                        text.push_str("- ");
                    } else if !line.is_empty() {
                        text.push_str(&" ".repeat(col + 2));
                    }
                    text.push_str(line.trim_end_matches('\r'));
                    text.push_str(nl);
                }
                let at = self.after(node.end);
                self.push_lines(at, col, 0, seq, text);
            }
        }
        Ok(())
    }

    /// Where a new entry of the flow collection `node` goes — right before its closing
    /// bracket — pushing a `, ` onto `text` when the last thing before it is a value (not
    /// the opening bracket or a trailing comma). Quotes and comments are minded.
    fn flow_insert(&mut self, node: &Node, text: &mut String) -> Option<usize> {
        let b = self.input.as_bytes();
        let mut i = node.start
            + b.get(node.start..node.end)?
                .iter()
                .position(|&c| c == b'[' || c == b'{')?;
        let mut depth = 0usize;
        let mut last = i;
        let close = loop {
            let c = *b.get(i)?;
            match c {
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        break i;
                    }
                }
                b'"' | b'\'' => {
                    let mut j = i + 1;
                    loop {
                        match *b.get(j)? {
                            b'\\' if c == b'"' => j += 2,
                            q if q == c && c == b'\'' && b.get(j + 1) == Some(&b'\'') => j += 2,
                            q if q == c => break,
                            _ => j += 1,
                        }
                    }
                    i = j;
                }
                b'#' if matches!(b.get(i.wrapping_sub(1)), Some(b' ' | b'\t' | b'\n' | b'\r')) => {
                    i += b[i..].iter().position(|&x| x == b'\n')?;
                    continue;
                }
                _ => {}
            }
            if !matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
                last = i;
            }
            i += 1;
        };
        // Entries added earlier in this run sit at the same place, after `last`.
        let added = self.flow_added.get(&node.start).copied().unwrap_or(0);
        if added > 0 || !matches!(b[last], b',' | b'[' | b'{') {
            text.push_str(", ");
        }
        *self.flow_added.entry(node.start).or_default() += 1;
        Some(close)
    }

    /// Where new lines go after a node that ends at `end`: the start of the next line, or
    /// the start of `end`'s own line when only indentation precedes it there (a block
    /// scalar ends where the next token starts).
    fn after(&self, end: usize) -> usize {
        let ls = line_start(self.input, end);
        if self.input.as_bytes()[ls..end]
            .iter()
            .all(|&b| b == b' ' || b == b'\t')
        {
            return ls;
        }
        match memchr::memchr(b'\n', &self.input.as_bytes()[end..]) {
            Some(i) => end + i + 1,
            None => self.input.len(),
        }
    }

    fn push_lines(&mut self, at: usize, col: usize, rank: u8, seq: usize, mut text: String) {
        if at == self.input.len() && !self.input.is_empty() && !self.input.ends_with('\n') {
            let nl = self.layout.newline;
            if text.ends_with(nl) {
                text.truncate(text.len() - nl.len());
            }
            text.insert_str(0, nl);
        }
        self.push(at, at, col, rank, seq, text);
    }

    /// Removes the lines `at..end`. Lines inserted at `at` (the end of what precedes)
    /// go before the removal, whatever their column.
    fn push_removal(&mut self, at: usize, end: usize, seq: usize) {
        self.push(at, end, 0, u8::MAX, seq, String::new());
    }

    fn push(&mut self, at: usize, end: usize, col: usize, rank: u8, seq: usize, text: String) {
        self.splices.push(Splice {
            at,
            end,
            col,
            rank,
            seq,
            text,
        });
    }

    /// The edits, as `(start, end, replacement)` in the order they apply.
    #[must_use]
    pub fn finish(mut self) -> Vec<(usize, usize, String)> {
        self.splices.sort_by(|a, b| {
            a.at.cmp(&b.at)
                .then(b.col.cmp(&a.col))
                .then(a.rank.cmp(&b.rank))
                .then(a.seq.cmp(&b.seq))
        });
        self.splices
            .into_iter()
            .map(|s| (s.at, s.end, s.text))
            .collect()
    }
}

/// The node at `path`, whether its parent is a flow collection, and where its key starts
/// (for mapping values).
fn find<'n>(root: &'n Node, path: &Path) -> Option<(&'n Node, bool, Option<usize>)> {
    let mut node = root;
    let mut parent_flow = false;
    let mut key_start = None;
    for seg in &path.0 {
        parent_flow = node.flow;
        node = match seg {
            PathSeg::Key(k) => {
                let (key, value) = node
                    .entries()?
                    .iter()
                    .rev()
                    .find(|(key, _)| key.as_str() == Some(k.as_str()))?;
                key_start = Some(key.start);
                value
            }
            PathSeg::Index(i) => {
                key_start = None;
                node.items()?.get(*i)?
            }
        };
    }
    Some((node, parent_flow, key_start))
}

/// The `-` that introduces the sequence item starting at `pos`.
fn dash_before(input: &str, pos: usize) -> Option<usize> {
    let bytes = input.as_bytes();
    let mut i = pos;
    while i > 0 {
        i -= 1;
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'-' => return Some(i),
            _ => return None,
        }
    }
    None
}

fn detect_layout(
    input: &str,
    node: &Node,
    seq_indent: &mut Option<usize>,
    map_indent: &mut Option<usize>,
) {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if seq_indent.is_some() && map_indent.is_some() {
            return;
        }
        match &n.value {
            Value::Map(entries) if !n.flow => {
                for (k, v) in entries {
                    let key_col = col_of(input, k.start);
                    match &v.value {
                        Value::Seq(items) if !v.flow && seq_indent.is_none() => {
                            if let Some(d) = items.first().and_then(|f| dash_before(input, f.start))
                            {
                                *seq_indent = Some(col_of(input, d).saturating_sub(key_col));
                            }
                        }
                        Value::Map(sub) if !v.flow && map_indent.is_none() => {
                            if let Some((sk, _)) = sub.first() {
                                let c = col_of(input, sk.start);
                                if c > key_col {
                                    *map_indent = Some(c - key_col);
                                }
                            }
                        }
                        _ => {}
                    }
                    stack.push(v);
                }
            }
            Value::Seq(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse_chunk};

    fn edit(input: &str, intents: &[Intent]) -> String {
        let docs = parse_chunk(input, 0, 1, &Limits::default(), true).expect("valid");
        let root = docs[0].root.as_ref().expect("root");
        let mut ed = TextEditor::new(input, root, input.contains("\r\n"));
        for i in intents {
            ed.apply(i).expect("applies");
        }
        let mut out = String::new();
        let mut pos = 0;
        for (s, e, t) in ed.finish() {
            out.push_str(&input[pos..s]);
            out.push_str(&t);
            pos = e;
        }
        out.push_str(&input[pos..]);
        out
    }

    fn p(keys: &[&str]) -> Path {
        Path(keys.iter().map(|k| PathSeg::Key((*k).to_owned())).collect())
    }

    #[test]
    fn adds_keys_and_items_at_the_right_indentation() {
        let input = "spec:\n  containers:\n  - name: a\n    env:\n    - name: X\n      value: \"1\"\n  # trailing\nkind: Pod\n";
        let mut c0 = p(&["spec", "containers"]);
        c0 = c0.index(0);
        let out = edit(
            input,
            &[
                Intent {
                    path: c0.key("env"),
                    op: Op::Append(Val::map([
                        ("name", Val::str("Z")),
                        ("value", Val::str("2")),
                    ])),
                },
                Intent {
                    path: c0.clone(),
                    op: Op::AddKey(
                        "volumeMounts".into(),
                        Val::Seq(vec![Val::map([("name", Val::str("v"))])]),
                    ),
                },
                Intent {
                    path: p(&["spec"]),
                    op: Op::AddKey(
                        "volumes".into(),
                        Val::Seq(vec![Val::map([("name", Val::str("v"))])]),
                    ),
                },
            ],
        );
        assert_eq!(
            out,
            "spec:\n  containers:\n  - name: a\n    env:\n    - name: X\n      value: \"1\"\n    - name: Z\n      value: \"2\"\n    volumeMounts:\n    - name: v\n  volumes:\n  - name: v\n  # trailing\nkind: Pod\n"
        );
    }

    #[test]
    fn edits_flow_collections_with_json() {
        let out = edit(
            "{\"spec\": {\"containers\": [{\"name\": \"a\"}], \"volumes\": []}}",
            &[
                Intent {
                    path: p(&["spec", "volumes"]),
                    op: Op::Append(Val::map([("name", Val::str("v"))])),
                },
                Intent {
                    path: p(&["spec", "containers"]).index(0),
                    op: Op::AddKey("env".into(), Val::Seq(vec![])),
                },
            ],
        );
        assert_eq!(
            out,
            "{\"spec\": {\"containers\": [{\"name\": \"a\", \"env\": []}], \"volumes\": [{\"name\": \"v\"}]}}"
        );
    }

    #[test]
    fn inserts_after_block_scalars_and_at_eof_without_newline() {
        let out = edit(
            "a:\n  b: |+\n    x\n\n",
            &[Intent {
                path: p(&["a"]),
                op: Op::AddKey("c".into(), Val::str("d")),
            }],
        );
        assert_eq!(out, "a:\n  b: |+\n    x\n\n  c: d\n");
        let out = edit(
            "a:\n  b: x",
            &[Intent {
                path: p(&["a"]),
                op: Op::AddKey("c".into(), Val::str("d")),
            }],
        );
        assert_eq!(out, "a:\n  b: x\n  c: d");
    }

    #[test]
    fn keeps_crlf() {
        let out = edit(
            "a:\r\n  b: x\r\n",
            &[Intent {
                path: p(&["a"]),
                op: Op::AddKey("c".into(), Val::str("d")),
            }],
        );
        assert_eq!(out, "a:\r\n  b: x\r\n  c: d\r\n");
    }
}
