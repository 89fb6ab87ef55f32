//! Applies [`Intent`]s to the text of one document by inserting lines (or, in flow
//! collections, JSON) next to the existing keys. Nothing that exists is re-written, except
//! a scalar that an intent explicitly replaces.

use std::sync::Arc;

use super::Val;
use super::emit::{
    Layout, json_string, render_entry, render_item, render_json, render_json_pretty, render_shared,
    scalar_for_block,
};
use super::tree::{FlowParts, Node, ScalarStyle, Value, content_end, flow_parts};
use super::{Intent, Op, Path, PathSeg, Segs};

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
    text: Arc<str>,
}

/// The most splices a kept list has room for.
const SPARE_SPLICES_MAX: usize = 1024;

thread_local! {
    /// The splice list of the last document edited on this thread, emptied: the next
    /// editor fills it instead of growing a new one from empty.
    static SPARE_SPLICES: std::cell::Cell<Vec<Splice>> = const { std::cell::Cell::new(Vec::new()) };
}

/// The end of a flow sequence whose last items go, each on lines of its own (see
/// [`TextEditor::flow_tail_lines`]).
struct FlowTail {
    /// The index of the last item that stays.
    keep: usize,
    /// The offset of the comma right after it.
    comma: usize,
    /// The lines (`start..end`, line break included) of each item that goes, by index.
    lines: Vec<(usize, (usize, usize))>,
}

/// A range of text to remove, and within it what goes away entirely (comments outside it
/// stay).
type RemovalRange = ((usize, usize), (usize, usize));

/// Notes kept per flow collection, by its start offset: a list, as a document has few flow
/// collections edited (and most none, so it costs nothing to make or drop).
struct Notes<V>(Vec<(usize, V)>);

impl<V> Default for Notes<V> {
    fn default() -> Self {
        Notes(Vec::new())
    }
}

impl<V: Default> Notes<V> {
    fn get(&self, at: &usize) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == at).map(|(_, v)| v)
    }

    fn or_default(&mut self, at: usize) -> &mut V {
        let i = match self.0.iter().position(|(k, _)| *k == at) {
            Some(i) => i,
            None => {
                self.0.push((at, V::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }
}

/// Collects text edits for one document of `input`.
pub struct TextEditor<'a> {
    input: &'a str,
    root: &'a Node,
    layout: Layout,
    splices: Vec<Splice>,
    /// Entries already added to each empty flow collection (by its start offset), so a
    /// second one gets its comma.
    flow_added: Notes<usize>,
    /// Items to be removed from each flow sequence (by its start offset), so removals
    /// and additions in one flow sequence agree on what stays.
    flow_removed: Notes<Vec<usize>>,
    /// Keys to be removed from each flow mapping (by its start offset), so removals of
    /// neighbouring keys agree on which of them takes the comma between them.
    flow_keys_removed: Notes<Vec<String>>,
    /// The steps of the last path walked (see [`TextEditor::find_from_last`]): the intents
    /// of one container share all but their last keys, so each walk starts where the
    /// last one parts from it instead of at the root. The first [`WALK_MAX`] steps are
    /// kept (`walk_len` of them hold the last walk), in place: nothing to allocate or drop.
    walk: [Step<'a>; WALK_MAX],
    walk_len: usize,
    /// The last path looked up, and what it led to: the intents of one container name one
    /// path (copies of it), which is then looked up once.
    last_path: Segs,
    last_found: Option<Found<'a>>,
}

/// What a path leads to: the node, whether its parent is a flow collection, and its key
/// node (for mapping values).
type Found<'n> = (&'n Node, bool, Option<&'n Node>);

/// The most steps of a walked path kept (a PodSpec's containers sit 4 to 8 deep).
const WALK_MAX: usize = 12;

/// One step of a walked path: what it led to (the node, whether its parent is a flow
/// collection, its key node for mapping values) and the segment, as the index for an item
/// (a key is its key node's text).
#[derive(Clone, Copy)]
struct Step<'n> {
    index: Option<usize>,
    node: &'n Node,
    parent_flow: bool,
    key: Option<&'n Node>,
}

impl Step<'_> {
    /// Whether this step is the one `seg` takes from the same node: the same index, or a
    /// key spelt like this step's key node (whose last occurrence, so the same node).
    fn takes(&self, seg: &PathSeg) -> bool {
        match seg {
            PathSeg::Key(k) => self.index.is_none() && self.key.is_some_and(|kn| key_is(kn, k)),
            PathSeg::Index(i) => self.index == Some(*i),
        }
    }
}

fn line_start(input: &str, pos: usize) -> usize {
    let before = input
        .as_bytes()
        .get(..pos.min(input.len()))
        .unwrap_or_default();
    memchr::memrchr(b'\n', before).map_or(0, |i| i + 1)
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
            splices: SPARE_SPLICES.take(),
            flow_added: Notes::default(),
            flow_removed: Notes::default(),
            flow_keys_removed: Notes::default(),
            walk: [Step {
                index: None,
                node: root,
                parent_flow: false,
                key: None,
            }; WALK_MAX],
            walk_len: 0,
            last_path: Segs::default(),
            last_found: None,
        }
    }

    /// [`find`]: what the last path looked up led to when `path` is a copy of it, else
    /// [`TextEditor::walk_from_last`].
    fn find_from_last(&mut self, path: &Path) -> Option<Found<'a>> {
        if let Some(found) = self.last_found
            && path.0.same(&self.last_path)
        {
            return Some(found);
        }
        let found = self.walk_from_last(path);
        self.last_path = path.0.clone();
        self.last_found = found;
        found
    }

    /// [`find`], starting from the deepest node of the last path walked that `path` shares
    /// (the same segments from the root): the tree does not change while editing, so
    /// the shared steps lead to the same nodes.
    fn walk_from_last(&mut self, path: &Path) -> Option<Found<'a>> {
        let steps = self.walk.get(..self.walk_len).unwrap_or_default();
        let shared = steps
            .iter()
            .zip(&path.0)
            .take_while(|(step, seg)| step.takes(seg))
            .count();
        let (mut node, mut parent_flow, mut key_node) = shared
            .checked_sub(1)
            .and_then(|last| steps.get(last))
            .map_or((self.root, false, None), |s| (s.node, s.parent_flow, s.key));
        self.walk_len = shared;
        for seg in path.0.get(shared..).unwrap_or_default() {
            (node, parent_flow, key_node) = step(node, seg)?;
            if let Some(slot) = self.walk.get_mut(self.walk_len) {
                *slot = Step {
                    index: match seg {
                        PathSeg::Index(i) => Some(*i),
                        PathSeg::Key(_) => None,
                    },
                    node,
                    parent_flow,
                    key: key_node,
                };
                self.walk_len += 1;
            }
        }
        Some((node, parent_flow, key_node))
    }

    /// Notes the items that `intents` remove from flow sequences; call it before
    /// [`TextEditor::apply`] with all the intents of the document.
    pub fn note_removals(&mut self, intents: &[Intent]) {
        for i in intents {
            if let Op::RemoveItem(index) = i.op
                && let Some((node, _, _)) = find(self.root, &i.path)
                && node.flow
            {
                self.flow_removed.or_default(node.start).push(index);
            }
            if let Op::RemoveKey(key) = &i.op
                && let Some((node, _, _)) = find(self.root, &i.path)
                && node.flow
            {
                self.flow_keys_removed
                    .or_default(node.start)
                    .push(key.to_string());
            }
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
        let (node, parent_flow, key_node) = self
            .find_from_last(&intent.path)
            .ok_or_else(|| fail("path not found"))?;
        let seq = self.splices.len();
        match &intent.op {
            Op::AddKey(key, val) => self.add_key(node, key, val, seq),
            Op::Append(val) => self.append(node, val, seq),
            Op::Prepend(val) => self.prepend(node, val, seq),
            // A shared value is written as the value itself.
            Op::Replace(val) => match val.unshared() {
                val @ (Val::Map(_) | Val::Seq(_))
                    if node.is_null()
                        && node.start == node.end
                        && !parent_flow
                        && key_node.is_some() =>
                {
                    self.fill_empty_value(node, key_node, val, seq)
                }
                val => self.replace_scalar(node, parent_flow, key_node, val, seq),
            },
            Op::RemoveKey(key) => self.remove_key(node, key, seq),
            Op::ReplaceEntry(old, new, val) => self.replace_entry(node, old, new, val, seq),
            Op::RemoveItem(index) if node.flow => self.remove_flow_item(node, *index, seq),
            Op::RemoveItem(index) => self.remove_block_item(node, *index, seq),
            Op::AppendBlock(block) => self.append_block(node, block, seq),
        }
        .map_err(fail)
    }

    /// Adds the entry `key: val` to the mapping `node`, after its last entry (block) or before
    /// its closing bracket (flow).
    fn add_key(
        &mut self,
        node: &Node,
        key: &str,
        val: &Val,
        seq: usize,
    ) -> Result<(), &'static str> {
        let fail = |why: &'static str| why;
        let Value::Map(entries) = &node.value else {
            return Err(fail("not a mapping"));
        };
        if node.flow {
            let render = |pretty: Option<(usize, usize)>| {
                let mut text = String::new();
                json_string(key, &mut text);
                text.push_str(": ");
                text.push_str(&match pretty {
                    Some((col, step)) => render_json_pretty(val, col, step, self.layout.newline),
                    None => render_json(val),
                });
                text
            };
            self.push_flow_add(node, seq, render)
                .ok_or_else(|| fail("the flow mapping's brackets were not found"))?;
        } else {
            let first = entries.first().ok_or_else(|| fail("empty block mapping"))?;
            let col = col_of(self.input, first.0.start);
            let text = render_shared(Some(key), val, col, &self.layout);
            let at = self.after(node.end);
            self.push_lines(at, col, 1, seq, text);
        }
        Ok(())
    }

    /// Appends `val` to the list `node`, after its last item.
    fn append(&mut self, node: &Node, val: &Val, seq: usize) -> Result<(), &'static str> {
        let fail = |why: &'static str| why;
        let Value::Seq(items) = &node.value else {
            return Err(fail("not a list"));
        };
        if node.flow {
            let render = |pretty: Option<(usize, usize)>| match pretty {
                Some((col, step)) => render_json_pretty(val, col, step, self.layout.newline),
                None => render_json(val),
            };
            self.push_flow_add(node, seq, render)
                .ok_or_else(|| fail("the flow sequence's brackets were not found"))?;
        } else {
            let first = items.first().ok_or_else(|| fail("empty block list"))?;
            let dash = dash_before(self.input, first.start)
                .ok_or_else(|| fail("no `-` found before the first item"))?;
            let col = col_of(self.input, dash);
            let text = render_shared(None, val, col, &self.layout);
            let at = self.after(node.end);
            self.push_lines(at, col, 0, seq, text);
        }
        Ok(())
    }

    /// Inserts `val` before the first item of the non-empty list `node`.
    fn prepend(&mut self, node: &Node, val: &Val, seq: usize) -> Result<(), &'static str> {
        let fail = |why: &'static str| why;
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
        Ok(())
    }

    /// Writes the collection `val` on the lines below `key:`, whose value `node` is empty: the
    /// key's own line stays as it was.
    fn fill_empty_value(
        &mut self,
        node: &Node,
        key_node: Option<&Node>,
        val: &Val,
        seq: usize,
    ) -> Result<(), &'static str> {
        // `key:` with nothing after it: the new value goes on the lines below, so
        // the key's own line stays as it was.
        let key_col = col_of(self.input, key_node.map_or(0, |k| k.start));
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
        self.push_lines(at, key_col + 1, 0, seq, text.into());
        Ok(())
    }

    /// Replaces the scalar `node` (its key `key_node`, in a flow collection when `parent_flow`)
    /// by `val`, where it stands: a block scalar keeps its header's place and comment.
    fn replace_scalar(
        &mut self,
        node: &Node,
        parent_flow: bool,
        key_node: Option<&Node>,
        val: &Val,
        seq: usize,
    ) -> Result<(), &'static str> {
        let fail = |why: &'static str| why;
        let ok_style = matches!(&node.value, Value::Scalar { .. });
        // A `!!str` tag goes with the old text (the new value is written as a string).
        let tag_ok = matches!(node.tag.as_deref(), None | Some("!!str"));
        if !ok_style || node.anchor != 0 || !tag_ok {
            return Err(fail(
                "the value is not a scalar, or carries an anchor or tag",
            ));
        }
        if let Value::Scalar {
            style: ScalarStyle::Literal | ScalarStyle::Folded,
            ..
        } = &node.value
        {
            let key = key_node.ok_or_else(|| fail("a block scalar that is not a mapping value"))?;
            let (header, header_eol, content_eol) = block_scalar_parts(self.input, key, node)
                .ok_or_else(|| fail("the block scalar's header or content was not found"))?;
            let mut text = String::new();
            scalar_for_block(val, &mut text);
            self.push(header.0, header.1, usize::MAX, 0, seq, text);
            if content_eol > header_eol {
                self.push(header_eol, content_eol, usize::MAX, 0, seq, String::new());
            }
            return Ok(());
        }
        // A quoted scalar's span ends with its quote; anything else is doubt.
        let props_end = super::tree::skip_properties(self.input.as_bytes(), node.start);
        let span = self.input.get(props_end..node.end).unwrap_or("");
        let quoted = match &node.value {
            Value::Scalar {
                style: ScalarStyle::SingleQuoted,
                ..
            } => Some('\''),
            Value::Scalar {
                style: ScalarStyle::DoubleQuoted,
                ..
            } => Some('"'),
            _ => None,
        };
        if let Some(q) = quoted
            && !(span.len() >= 2 && span.starts_with(q) && span.ends_with(q))
        {
            return Err(fail("the quoted scalar's quotes were not found"));
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
        Ok(())
    }

    /// Removes every occurrence of `key` from the mapping `node`: Kubernetes reads the last
    /// one, and an earlier one would show once the last is gone.
    fn remove_key(&mut self, node: &Node, key: &str, seq: usize) -> Result<(), &'static str> {
        let fail = |why: &'static str| why;
        let entries = node.entries().ok_or_else(|| fail("not a mapping"))?;
        let hits: Vec<usize> = entries
            .iter()
            .enumerate()
            .filter(|(_, (k, _))| k.as_str() == Some(key))
            .map(|(i, _)| i)
            .collect();
        if hits.is_empty() {
            return Err(fail("key not found"));
        }
        // Every occurrence goes: Kubernetes reads the last one, and an earlier one
        // would show once the last is gone.
        let mut ranges = Vec::new();
        for &i in &hits {
            // The range, and within it what goes away entirely (a flow mapping
            // keeps the comments outside it; a block one removes whole lines).
            let (range, inner) = if node.flow {
                self.flow_key_range(node, key, i)?
            } else {
                self.block_key_range(entries, &hits, i, seq)?
            };
            ranges.push((range.0, range.1, inner));
        }
        ranges.sort_unstable();
        if ranges.windows(2).any(|w| w[0].1 > w[1].0) {
            return Err(fail("the key's occurrences overlap"));
        }
        for (start, end, inner) in ranges {
            self.push_removal_keeping_comments(start, end, inner, seq);
        }
        Ok(())
    }

    /// The range that removing entry `i` (of key `key`) of the flow mapping `node` takes:
    /// from the key to the next key, or from the end of the previous value (its comma
    /// included) to the end of this one; and within it what goes away entirely (the
    /// entry itself: comments outside it stay).
    fn flow_key_range(
        &self,
        node: &Node,
        key: &str,
        i: usize,
    ) -> Result<RemovalRange, &'static str> {
        let fail = |why: &'static str| why;
        let entries = node.entries().ok_or_else(|| fail("not a mapping"))?;
        let (k, v) = entries.get(i).ok_or_else(|| fail("key not found"))?;
        let next = entries.get(i + 1);
        let v_end = content_end(v).max(v.end);
        // Whether the entry at `j` goes too (removed by this or another
        // intent of the document).
        let removed_too = |j: usize| {
            entries.get(j).is_some_and(|(jk, _)| {
                jk.as_str().is_some_and(|name| {
                    name == key
                        || self
                            .flow_keys_removed
                            .get(&node.start)
                            .is_some_and(|ks| ks.iter().any(|x| x == name))
                })
            })
        };
        // Whether every entry after this one goes too: then this one takes
        // the comma before it rather than the one after, so that removals
        // of neighbouring keys never claim the same comma.
        let tail = (i + 1..entries.len()).all(removed_too);
        let range = match (next, i.checked_sub(1).and_then(|p| entries.get(p))) {
            // From the key to the next key, or from the end of the previous
            // value (its comma included) to the end of this one.
            (Some((nk, _)), _) if !tail => (k.start, nk.start),
            (_, Some((_, pv))) => {
                if (0..i).all(removed_too) {
                    return Err(fail(
                        "a flow mapping would lose every key; it is re-emitted",
                    ));
                }
                // A previous entry that goes too ends its own range at the
                // end of its value, where this one starts.
                let from = if removed_too(i - 1) {
                    content_end(pv).max(pv.end)
                } else {
                    content_end(pv)
                };
                (from, v_end)
            }
            (_, None) => {
                return Err(fail(
                    "a flow mapping with nothing but the key is re-emitted",
                ));
            }
        };
        Ok((range, (k.start, v_end)))
    }

    /// The range that removing entry `i` of the block mapping `entries` takes (whole lines,
    /// or what is under a key the chart commented, which stays empty), and within it what
    /// goes away entirely; `hits` are the entries of the same key, removed together.
    fn block_key_range(
        &mut self,
        entries: &[(Node, Node)],
        hits: &[usize],
        i: usize,
        seq: usize,
    ) -> Result<RemovalRange, &'static str> {
        let fail = |why: &'static str| why;
        let (k, v) = entries.get(i).ok_or_else(|| fail("key not found"))?;
        let next = entries.get(i + 1);
        let ls = line_start(self.input, k.start);
        let v_end = written_end(
            self.input,
            v,
            col_of(self.input, k.start),
            key_colon_end(self.input, k).unwrap_or(k.end),
        )
        .unwrap_or(v.end);
        let range = if self.input.as_bytes()[ls..k.start]
            .iter()
            .all(|&b| b == b' ')
        {
            // A key with a comment on its line is the chart's (the tool
            // writes none): only what is under it goes, and the key keeps its
            // comment, empty as the chart wrote it (null for a block value,
            // `[]` or `{}` for a flow one).
            let b = self.input.as_bytes();
            let key_eol = memchr::memchr(b'\n', &b[k.end..]).map_or(b.len(), |e| k.end + e);
            let collection = matches!(v.value, Value::Map(_) | Value::Seq(_));
            let block_below = collection && !v.flow && v.start > key_eol;
            let flow_here = collection && v.flow && v_end <= key_eol;
            let commented = |from: usize| {
                self.input
                    .get(from..key_eol)
                    .is_some_and(|t| t.contains('#'))
                    && {
                        let mut opaque = Vec::new();
                        opaque_spans(self.input, self.root, 0, 0, &mut opaque);
                        comment_at(b, from, key_eol, &opaque).is_some()
                    }
            };
            let colon = key_colon_end(self.input, k);
            match colon {
                Some(_) if block_below && commented(k.end) => {
                    ((key_eol + 1, self.after(v_end)), (0, usize::MAX))
                }
                Some(_) if flow_here && commented(v_end) => {
                    // Emptied as the chart wrote it (`[]`, `{}`).
                    let empty = if v.entries().is_some() { "{}" } else { "[]" };
                    self.push(v.start, v_end, 0, u8::MAX, seq, empty);
                    ((v_end, v_end), (0, usize::MAX))
                }
                _ => ((ls, self.after(v_end)), (0, usize::MAX)),
            }
        } else {
            // The key shares its line with a `-` (or `? `): its lines go, up
            // to the next key, which takes its place after the dash, or up to
            // a comment line before that key, which then follows the dash.
            match next {
                Some((nk, _)) if !hits.contains(&(i + 1)) => (
                    (k.start, self.next_token(self.after(v_end), nk.start)),
                    (0, usize::MAX),
                ),
                _ => {
                    return Err(fail(
                        "the key shares its line with a `-` and no other key follows it",
                    ));
                }
            }
        };
        Ok(range)
    }

    /// Replaces the entry `old` of the mapping `node` by `new: val` where it stands, keeping
    /// the comments of the old one.
    fn replace_entry(
        &mut self,
        node: &Node,
        old: &str,
        new: &str,
        val: &Val,
        seq: usize,
    ) -> Result<(), &'static str> {
        let fail = |why: &'static str| why;
        let entries = node.entries().ok_or_else(|| fail("not a mapping"))?;
        let mut hits = entries.iter().filter(|(k, _)| k.as_str() == Some(old));
        let (Some((k, v)), None) = (hits.next(), hits.next()) else {
            return Err(fail("the key is missing, or written more than once"));
        };
        if new != old && entries.iter().any(|(k, _)| k.as_str() == Some(new)) {
            return Err(fail("the mapping has the new key already"));
        }
        let b = self.input.as_bytes();
        let mut before = k.start;
        while before > 0 && matches!(b[before - 1], b' ' | b'\t') {
            before -= 1;
        }
        if before > 0 && b[before - 1] == b'?' {
            return Err(fail("an explicit key (`? `) is re-emitted"));
        }
        let colon = key_colon_end(self.input, k)
            .ok_or_else(|| fail("the key's `:` was not found on its line"))?;
        let col = col_of(self.input, k.start);
        let end = written_end(self.input, v, col, colon)
            .ok_or_else(|| fail("the end of the old value was not found"))?
            .max(colon);
        let mut text = String::new();
        if node.flow {
            json_string(new, &mut text);
            text.push_str(": ");
            text.push_str(&render_json(val));
        } else {
            render_entry(new, val, col, &self.layout, &mut text);
            let nl = self.layout.newline;
            text = text
                .trim_start_matches(' ')
                .strip_suffix(nl)
                .unwrap_or(&text)
                .to_owned();
        }
        self.replace_keeping_comments(k.start, end, &text, seq);
        Ok(())
    }

    /// Removes item `index` from the flow list `node`, in agreement with the other removals
    /// noted for it.
    fn remove_flow_item(
        &mut self,
        node: &Node,
        index: usize,
        seq: usize,
    ) -> Result<(), &'static str> {
        let fail = |why: &'static str| why;
        let items = node.items().ok_or_else(|| fail("not a list"))?;
        let removed = self
            .flow_removed
            .get(&node.start)
            .filter(|r| r.contains(&index))
            .ok_or_else(|| fail("a flow list item removed without note_removals"))?;
        let parts = flow_parts(self.input, 0, node)
            .ok_or_else(|| fail("the flow sequence's brackets were not found"))?;
        let kept = |j: usize| j < items.len() && !removed.contains(&j);
        let item = items.get(index).ok_or_else(|| fail("item not found"))?;
        let ce = |n: &Node| content_end(n).max(n.start);
        if let Some(tail) = self.flow_tail_lines(node)
            && let Some(&(_, (from, to))) = tail.lines.iter().find(|(j, _)| *j == index)
        {
            // The items after the last one that stays each go with their lines (a
            // comment at the end of the last one stays there, on a line of its own);
            // the comma after that last one goes once, unless the list ends with a
            // comma.
            let b = self.input.as_bytes();
            let comment = (ce(item)..to).find(|&i| b[i] == b'#');
            match comment {
                Some(c) => {
                    let mut le = to;
                    while le > c && matches!(b[le - 1], b'\n' | b'\r') {
                        le -= 1;
                    }
                    let text = format!("{}{}", &self.input[from..item.start], &self.input[c..le]);
                    self.push(from, le, 0, u8::MAX, seq, text);
                }
                None => self.push_removal(from, to, seq),
            }
            if index == tail.keep + 1 && !parts.trailing_comma {
                self.push_removal(tail.comma, tail.comma + 1, seq);
            }
            return Ok(());
        }
        let range = if (index + 1..items.len()).any(kept) {
            // An item stays after it: up to the next item.
            (
                item.start,
                items.get(index + 1).map_or(item.end, |n| n.start),
            )
        } else if (0..index).any(kept) {
            // Only removed items follow: from the end of the one before, its comma
            // included.
            (ce(&items[index - 1]), ce(item))
        } else if index + 1 == items.len() {
            // Nothing stays: the last item takes a trailing comma with it.
            (
                if index == 0 {
                    item.start
                } else {
                    ce(&items[index - 1])
                },
                parts.close,
            )
        } else {
            (
                if index == 0 {
                    item.start
                } else {
                    ce(&items[index - 1])
                },
                ce(item),
            )
        };
        self.push_removal_keeping_comments(range.0, range.1, (item.start, ce(item)), seq);
        Ok(())
    }

    /// Removes item `index` from the block list `node`, with its lines.
    fn remove_block_item(
        &mut self,
        node: &Node,
        index: usize,
        seq: usize,
    ) -> Result<(), &'static str> {
        let fail = |why: &'static str| why;
        let items = node.items().ok_or_else(|| fail("not a list"))?;
        let item = items.get(index).ok_or_else(|| fail("item not found"))?;
        let dash = dash_before(self.input, item.start)
            .ok_or_else(|| fail("no `-` found before the item"))?;
        let ls = line_start(self.input, dash);
        if !self.input.as_bytes()[ls..dash].iter().all(|&b| b == b' ') {
            return Err(fail("the item shares its line with a key or another `-`"));
        }
        let item_end =
            written_end(self.input, item, col_of(self.input, dash), dash + 1).unwrap_or(item.end);
        let end = self.after(item_end);
        self.push_removal(ls, end, seq);
        Ok(())
    }

    /// Appends the item written as block YAML `block` to the non-empty block list `node`.
    fn append_block(&mut self, node: &Node, block: &str, seq: usize) -> Result<(), &'static str> {
        let fail = |why: &'static str| why;
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
        self.push_lines(at, col, 0, seq, text.into());
        Ok(())
    }

    /// Adds one entry, rendered by `render`, to the flow collection `node` (see
    /// [`TextEditor::flow_add`]); `None` when its brackets are not found.
    fn push_flow_add(
        &mut self,
        node: &Node,
        seq: usize,
        render: impl Fn(Option<(usize, usize)>) -> String,
    ) -> Option<()> {
        for (at, text) in self.flow_add(node, render)? {
            self.push(at, at, usize::MAX, 0, seq, text);
        }
        Some(())
    }

    /// The insertions that add one entry, rendered by `render`, to the flow collection
    /// `node`: right before its closing bracket (with a `, ` when an entry precedes it),
    /// or, when the bracket stands on a line of its own, on a new line after the last
    /// entry that stays (see [`TextEditor::flow_add_on_own_line`]).
    fn flow_add(
        &mut self,
        node: &Node,
        render: impl Fn(Option<(usize, usize)>) -> String,
    ) -> Option<Vec<(usize, String)>> {
        let mut parts = flow_parts(self.input, 0, node)?;
        let b = self.input.as_bytes();
        // Entries added earlier in this run sit at the same place, after the last one.
        let added = self.flow_added.get(&node.start).copied().unwrap_or(0);
        *self.flow_added.or_default(node.start) += 1;
        let (children, tail_gone) = self.flow_kept(node);
        // When the entries after the last one that stays go, the new ones follow that last
        // one: on lines of their own after it when the removed ones take their own lines;
        // otherwise (the removals there span the lines after it) right before the closing
        // bracket.
        let mut inline = false;
        if tail_gone && let Some(last) = children.last() {
            match self.flow_tail_lines(node) {
                Some(_) => parts.last_end = content_end(last).max(last.start),
                None => inline = true,
            }
        }
        let close_ls = line_start(self.input, parts.close);
        let own_line = !inline
            && !children.is_empty()
            && close_ls > parts.last_end
            && b[close_ls..parts.close]
                .iter()
                .all(|&c| c == b' ' || c == b'\t');
        if own_line {
            return self.flow_add_on_own_line(node, &children, parts, added, render);
        }
        let mut text = String::new();
        if added > 0 || (!children.is_empty() && !parts.trailing_comma) {
            text.push_str(", ");
        }
        text.push_str(&render(None));
        Some(vec![(parts.close, text)])
    }

    /// The entries of the flow collection `node` that stay (a mapping's keys and values),
    /// and whether its last entry goes (per [`TextEditor::note_removals`]).
    fn flow_kept<'n>(&self, node: &'n Node) -> (Vec<&'n Node>, bool) {
        let removed = self.flow_removed.get(&node.start);
        let keys_removed = self.flow_keys_removed.get(&node.start);
        let key_removed = |k: &Node| {
            k.as_str()
                .is_some_and(|name| keys_removed.is_some_and(|ks| ks.iter().any(|x| x == name)))
        };
        match &node.value {
            Value::Seq(items) => (
                items
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !removed.is_some_and(|r| r.contains(i)))
                    .map(|(_, n)| n)
                    .collect(),
                removed.is_some_and(|r| r.contains(&(items.len().wrapping_sub(1)))),
            ),
            Value::Map(entries) => (
                entries
                    .iter()
                    .filter(|(k, _)| !key_removed(k))
                    .flat_map(|(k, v)| [k, v])
                    .collect(),
                entries.last().is_some_and(|(k, _)| key_removed(k)),
            ),
            _ => (Vec::new(), false),
        }
    }

    /// [`TextEditor::flow_add`] for a collection whose closing bracket stands on a line of
    /// its own: the new entry goes on a new line after the last entry that stays
    /// (`parts.last_end`, `children`), indented like it, with the value rendered as indented
    /// JSON if the collection already spreads its values over lines (`render` gets the
    /// column and the step); a comma goes after that entry unless the collection ends
    /// with one.
    fn flow_add_on_own_line(
        &self,
        node: &Node,
        children: &[&Node],
        parts: FlowParts,
        added: usize,
        render: impl Fn(Option<(usize, usize)>) -> String,
    ) -> Option<Vec<(usize, String)>> {
        let FlowParts {
            open,
            close,
            last_end,
            trailing_comma,
        } = parts;
        let b = self.input.as_bytes();
        let close_ls = line_start(self.input, close);
        // The last entry's key (or item) starts the line it is written on: match its
        // column; otherwise indent one step from the closing bracket.
        let close_col = close - close_ls;
        let last_start = match &node.value {
            Value::Map(entries) => entries.last().map(|(k, _)| k.start),
            _ => children.last().map(|n| n.start),
        }?;
        let ls = line_start(self.input, last_start);
        let own_line_entries = ls > open && b[ls..last_start].iter().all(|&c| c == b' ');
        let col = if own_line_entries {
            last_start - ls
        } else {
            close_col + 2
        };
        let step = col.saturating_sub(close_col).max(1);
        // Collections written over several lines get their new values written so; a
        // mapping of scalars, one entry a line (a pretty-printed container), too.
        let spread = children
            .iter()
            .any(|c| c.start < c.end && self.input[c.start..c.end].contains('\n'))
            || (own_line_entries
                && node.entries().is_some()
                && children
                    .iter()
                    .all(|c| matches!(c.value, Value::Scalar { .. })));
        let nl = self.layout.newline;
        let eol = last_end + memchr::memchr(b'\n', &b[last_end..close])?;
        let eol = if eol > last_end && b[eol - 1] == b'\r' {
            eol - 1
        } else {
            eol
        };
        let mut out = Vec::new();
        let mut text = String::new();
        if added > 0 {
            if !trailing_comma {
                text.push(',');
            }
        } else if !trailing_comma {
            out.push((last_end, ",".to_owned()));
        }
        text.push_str(nl);
        text.push_str(&" ".repeat(col));
        text.push_str(&render(spread.then_some((col, step))));
        if trailing_comma {
            text.push(',');
        }
        out.push((eol, text));
        Some(out)
    }

    /// For the flow sequence `node` when the items after the last one that stays all go
    /// (per [`TextEditor::note_removals`]): that last item, the comma right after it, and
    /// the lines of each item that goes, by index, when each of them is written on lines of
    /// its own (nothing but blanks before it; a comma, blanks and a comment after it).
    /// `None` otherwise, or when no item stays.
    fn flow_tail_lines(&self, node: &Node) -> Option<FlowTail> {
        let items = node.items()?;
        let removed = self.flow_removed.get(&node.start)?;
        let keep = (0..items.len()).rev().find(|j| !removed.contains(j))?;
        if keep + 1 == items.len() {
            return None;
        }
        let b = self.input.as_bytes();
        let kept = items.get(keep)?;
        let mut comma = content_end(kept).max(kept.start);
        while matches!(b.get(comma), Some(b' ' | b'\t')) {
            comma += 1;
        }
        if b.get(comma) != Some(&b',') {
            return None;
        }
        let mut lines = Vec::new();
        for (j, item) in items.iter().enumerate().skip(keep + 1) {
            let ls = line_start(self.input, item.start);
            if !b
                .get(ls..item.start)?
                .iter()
                .all(|&c| c == b' ' || c == b'\t')
            {
                return None;
            }
            let mut i = content_end(item).max(item.start);
            let le = memchr::memchr(b'\n', b.get(i..)?).map_or(b.len(), |e| i + e);
            while matches!(b.get(i), Some(b' ' | b'\t')) {
                i += 1;
            }
            if b.get(i) == Some(&b',') {
                i += 1;
            }
            let blank_before = |i: usize| matches!(b.get(i.wrapping_sub(1)), Some(b' ' | b'\t'));
            while matches!(b.get(i), Some(b' ' | b'\t' | b'\r')) {
                i += 1;
            }
            let comment = b.get(i) == Some(&b'#') && blank_before(i);
            if !(i >= le || comment) {
                return None;
            }
            lines.push((j, (ls, (le + 1).min(b.len()))));
        }
        Some(FlowTail { keep, comma, lines })
    }

    /// Where new lines go after a node that ends at `end`: the start of the next line, or
    /// the start of `end`'s own line when only indentation precedes it there (a block
    /// scalar ends where the next token starts).
    fn after(&self, end: usize) -> usize {
        let b = self.input.as_bytes();
        // Back over the blanks before `end`: at a line break (or the start) only
        // indentation precedes it; else (mostly at once) something else does.
        let before = b.get(..end).unwrap_or(b);
        let blanks = before
            .iter()
            .rev()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count();
        let ls = before.len() - blanks;
        if ls == 0 || before.get(ls - 1) == Some(&b'\n') {
            return ls;
        }
        let rest = b.get(end..).unwrap_or_default();
        // A value mostly ends right at its line break.
        if rest.first() == Some(&b'\n') {
            return end + 1;
        }
        match memchr::memchr(b'\n', rest) {
            Some(i) => end + i + 1,
            None => self.input.len(),
        }
    }

    /// The first byte at or after `from` (and before `limit`) that is neither a blank nor
    /// a line break: where the next token or comment starts.
    fn next_token(&self, from: usize, limit: usize) -> usize {
        let b = self.input.as_bytes();
        let mut i = from.min(limit);
        while i < limit && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        i
    }

    /// Replaces `start..end` (from a key to the end of its value's content) by `text`
    /// without losing a comment: the comment at the end of the first line stays there
    /// (after the first line of `text`), comment lines and blank lines in between stay
    /// where they are, and a comment at the end of a replaced line is kept on a line of
    /// its own. What follows `end` stays where it is (on a line of its own after a kept
    /// comment), so that other edits there still apply.
    fn replace_keeping_comments(&mut self, start: usize, end: usize, text: &str, seq: usize) {
        let input = self.input;
        let b = input.as_bytes();
        let nl = self.layout.newline;
        let first_eol = eol_at(b, start);
        let one_line = end <= first_eol;
        if one_line && !text.contains(nl) {
            self.push(start, end, usize::MAX, 0, seq, text.to_owned());
            return;
        }
        let mut opaque = Vec::new();
        opaque_spans(input, self.root, 0, 0, &mut opaque);
        let (first, more) = match text.split_once(nl) {
            Some((f, m)) => (f, Some(m)),
            None => (text, None),
        };
        if one_line {
            self.replace_one_line(start, end, first, more, &opaque, seq);
            return;
        }
        let first_end = without_cr(b, start, first_eol);
        let mut out = String::from(first);
        let mut tail = Tail::Value;
        if let Some(c) = comment_at(b, start, first_end, &opaque) {
            out.push_str(with_blanks(input, c, start, first_end));
            tail = Tail::Comment;
        }
        if let Some(m) = more {
            out.push_str(nl);
            out.push_str(m);
            tail = Tail::Value;
        }
        let last_ls = line_start(input, end);
        self.kept_between(first_eol + 1, end, &opaque, &mut out, &mut tail);
        // What follows the old value on its last line stays; after a comment or a blank
        // line, on a line of its own, indented like that line.
        let last_eol = without_cr(b, last_ls, eol_at(b, end));
        let rest = end
            + b[end..last_eol]
                .iter()
                .take_while(|&&c| c == b' ' || c == b'\t')
                .count();
        let mut until = end;
        if tail != Tail::Value && rest < last_eol {
            if tail == Tail::Comment {
                out.push_str(nl);
            } else {
                out.truncate(out.trim_end_matches([' ', '\t']).len());
            }
            out.push_str(&input[last_ls..indent_at(b, last_ls)]);
            until = rest;
        }
        self.push(start, until, usize::MAX, 0, seq, out);
    }

    /// [`TextEditor::replace_keeping_comments`] for an old value of one line (`start..end`)
    /// and a new one of several (`first`, then `more`): the comment after the old one goes
    /// on the key's line, when nothing else follows it there.
    fn replace_one_line(
        &mut self,
        start: usize,
        end: usize,
        first: &str,
        more: Option<&str>,
        opaque: &[(usize, usize)],
        seq: usize,
    ) {
        let input = self.input;
        let b = input.as_bytes();
        let last_eol = without_cr(b, line_start(input, end), eol_at(b, end));
        let mut out = String::from(first);
        let mut until = end;
        if let Some(c) = comment_at(b, end, last_eol, opaque)
            && input[end..c].trim().is_empty()
        {
            out.push_str(with_blanks(input, c, end, last_eol));
            until = last_eol;
        }
        if let Some(m) = more {
            out.push_str(self.layout.newline);
            out.push_str(m);
        }
        self.push(start, until, usize::MAX, 0, seq, out);
    }

    /// Appends to `out` what stays of the lines from `from` (a line start) to `end` (on the
    /// last line) of a replaced value: blank lines (not inside a scalar) and comments, each
    /// on a line of its own; content goes. `tail` tells what the last line written holds.
    fn kept_between(
        &self,
        from: usize,
        end: usize,
        opaque: &[(usize, usize)],
        out: &mut String,
        tail: &mut Tail,
    ) {
        let input = self.input;
        let b = input.as_bytes();
        let nl = self.layout.newline;
        let last_ls = line_start(input, end);
        let mut ls = from;
        while ls <= last_ls {
            let le_raw = eol_at(b, ls);
            let le = if ls == last_ls {
                end
            } else {
                without_cr(b, ls, le_raw)
            };
            let body = indent_at(b, ls).min(le);
            if ls < last_ls && body == le {
                // A blank line, unless it is inside a scalar.
                if !opaque.iter().any(|&(os, oe)| os < ls && le_raw < oe) {
                    out.push_str(nl);
                    out.push_str(&input[ls..le]);
                    *tail = Tail::Blank;
                }
            } else if let Some(c) = comment_at(b, ls, le, opaque) {
                out.push_str(nl);
                out.push_str(&input[ls..body]);
                out.push_str(&input[c..le]);
                *tail = Tail::Comment;
            }
            ls = le_raw + 1;
        }
    }

    fn push_lines(&mut self, at: usize, col: usize, rank: u8, seq: usize, text: Arc<str>) {
        if at == self.input.len() && !self.input.is_empty() && !self.input.ends_with('\n') {
            let nl = self.layout.newline;
            let body = text.strip_suffix(nl).unwrap_or(&text);
            self.push(at, at, col, rank, seq, format!("{nl}{body}"));
            return;
        }
        self.push(at, at, col, rank, seq, text);
    }

    /// Removes `start..end` (in a flow collection), but for the comments in it outside
    /// `inner` (what goes away entirely): those before or after an entry that goes stay.
    fn push_removal_keeping_comments(
        &mut self,
        start: usize,
        end: usize,
        inner: (usize, usize),
        seq: usize,
    ) {
        let input = self.input;
        let b = input.as_bytes();
        let eol = |p: usize| memchr::memchr(b'\n', &b[p..]).map_or(b.len(), |i| p + i);
        let mut opaque = Vec::new();
        let mut kept = Vec::new();
        if input.get(start..end).is_some_and(|t| t.contains('#')) {
            opaque_spans(input, self.root, 0, 0, &mut opaque);
            let mut i = start;
            while let Some(c) = comment_at(b, i, end, &opaque) {
                let le = eol(c);
                let le_text = if le > c && b[le - 1] == b'\r' {
                    le - 1
                } else {
                    le
                };
                if le <= end && !(inner.0 <= c && c < inner.1) {
                    kept.push(&input[c..le_text]);
                }
                i = le;
            }
        }
        if kept.is_empty() {
            self.push_removal(start, end, seq);
            return;
        }
        // What follows `end` on its line: a comment kept last ends at the line break, unless
        // content follows, which then goes on a line of its own, indented like `end`'s.
        let rest_blank = input[end..eol(end)].trim().is_empty();
        let ls = line_start(input, end);
        let indent = &input[ls..ls + b[ls..end].iter().take_while(|&&c| c == b' ').count()];
        let nl = self.layout.newline;
        let mut text = String::new();
        let own_line = b[line_start(input, start)..start]
            .iter()
            .all(|&c| c == b' ');
        for (n, c) in kept.iter().enumerate() {
            if n == 0 && !own_line {
                text.push(' ');
            }
            text.push_str(c);
            if n + 1 < kept.len() || !rest_blank {
                text.push_str(nl);
                text.push_str(indent);
            }
        }
        self.push(start, end, 0, u8::MAX, seq, text);
    }

    /// Removes the lines `at..end`. Lines inserted at `at` (the end of what precedes)
    /// go before the removal, whatever their column.
    fn push_removal(&mut self, at: usize, end: usize, seq: usize) {
        self.push(at, end, 0, u8::MAX, seq, String::new());
    }

    fn push(
        &mut self,
        at: usize,
        end: usize,
        col: usize,
        rank: u8,
        seq: usize,
        text: impl Into<Arc<str>>,
    ) {
        self.splices.push(Splice {
            at,
            end,
            col,
            rank,
            seq,
            text: text.into(),
        });
    }

    /// The edits, as `(start, end, replacement)` in the order they apply (the editor is left
    /// with none). Replacements that insert the same snippet at the same column share one
    /// text. Taken by reference: an editor is large, and moving it costs a copy.
    #[must_use]
    pub fn finish(&mut self) -> Vec<(usize, usize, Arc<str>)> {
        self.splices.sort_by(|a, b| {
            a.at.cmp(&b.at)
                .then(b.col.cmp(&a.col))
                .then(a.rank.cmp(&b.rank))
                .then(a.seq.cmp(&b.seq))
        });
        let edits = self
            .splices
            .drain(..)
            .map(|s| (s.at, s.end, s.text))
            .collect();
        // A document with very many edits does not keep its list's room for the rest of
        // the run.
        if self.splices.capacity() <= SPARE_SPLICES_MAX {
            SPARE_SPLICES.set(std::mem::take(&mut self.splices));
        }
        edits
    }
}

/// What the last line written by [`TextEditor::replace_keeping_comments`] holds.
#[derive(PartialEq)]
enum Tail {
    /// The new value.
    Value,
    /// A comment kept.
    Comment,
    /// A blank line kept.
    Blank,
}

/// The offset of the line break that ends the line holding `p` (or the end of `b`).
fn eol_at(b: &[u8], p: usize) -> usize {
    memchr::memchr(b'\n', &b[p..]).map_or(b.len(), |i| p + i)
}

/// `le` (a line's end, from `ls`), before a carriage return that ends the line.
fn without_cr(b: &[u8], ls: usize, le: usize) -> usize {
    if le > ls && b[le - 1] == b'\r' {
        le - 1
    } else {
        le
    }
}

/// Where the text of the line starting at `ls` starts, after its indentation.
fn indent_at(b: &[u8], ls: usize) -> usize {
    ls + b[ls..]
        .iter()
        .take_while(|&&c| c == b' ' || c == b'\t')
        .count()
}

/// The comment at `c` up to `to`, with the blanks before it (down to `floor`).
fn with_blanks(input: &str, c: usize, floor: usize, to: usize) -> &str {
    let b = input.as_bytes();
    let mut w = c;
    while w > floor && matches!(b[w - 1], b' ' | b'\t') {
        w -= 1;
    }
    &input[w..to]
}

/// The node at `path`, whether its parent is a flow collection, and its key (for mapping
/// values).
fn find<'n>(root: &'n Node, path: &Path) -> Option<(&'n Node, bool, Option<&'n Node>)> {
    let mut found = (root, false, None);
    for seg in &path.0 {
        found = step(found.0, seg)?;
    }
    Some(found)
}

/// Whether the mapping key `key` is the string `k` (`key.as_str() == Some(k)`): the text
/// is looked up once and compared by length first, and only an equal one is asked whether
/// it is a null.
#[inline(always)]
fn key_is(key: &Node, k: &str) -> bool {
    let Value::Scalar { text, style } = &key.value else {
        return false;
    };
    text.as_bytes() == k.as_bytes()
        && !(*style == ScalarStyle::Plain && key.tag.is_none() && super::tree::is_null(k))
}

/// The child of `node` at `seg` (the last occurrence of a key, as Kubernetes reads it),
/// whether `node` is a flow collection, and the child's key node (for mapping values).
fn step<'n>(node: &'n Node, seg: &PathSeg) -> Option<(&'n Node, bool, Option<&'n Node>)> {
    match seg {
        PathSeg::Key(k) => {
            let (key, value) = node
                .entries()?
                .iter()
                .rev()
                .find(|(key, _)| key_is(key, k))?;
            Some((value, node.flow, Some(key)))
        }
        PathSeg::Index(i) => Some((node.items()?.get(*i)?, node.flow, None)),
    }
}

/// The places to edit when a block scalar (`|`, `>`, with chomping) that is the value of
/// `key` is replaced: its header indicator `(start, end)`, the end of the header's line
/// (before a comment's end — the comment stays), and the end of its last content line.
/// `None` for anything unexpected (an explicit indentation indicator, a header not on the
/// key's line, content that runs past the node).
fn block_scalar_parts(
    input: &str,
    key: &Node,
    node: &Node,
) -> Option<((usize, usize), usize, usize)> {
    let b = input.as_bytes();
    let mut i = key.end;
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i = super::tree::skip_properties(b, i);
    block_scalar_at(input, i, col_of(input, key.start), node.end)
}

/// [`block_scalar_parts`] for the block scalar whose header indicator is at `h_start`,
/// inside a block collection at column `parent`, ending (as the parser says) at `end`.
fn block_scalar_at(
    input: &str,
    h_start: usize,
    parent: usize,
    end: usize,
) -> Option<((usize, usize), usize, usize)> {
    let b = input.as_bytes();
    let mut i = h_start;
    if !matches!(b.get(i), Some(b'|' | b'>')) {
        return None;
    }
    i += 1;
    // Chomping and indentation indicators, in either order (`|2-`, `>-1`).
    let mut explicit = None;
    while let Some(&c) = b.get(i) {
        match c {
            b'+' | b'-' => {}
            b'1'..=b'9' => explicit = Some(usize::from(c - b'0')),
            _ => break,
        }
        i += 1;
    }
    let h_end = i;
    // Then only blanks and a comment up to the line break.
    let eol = i + memchr::memchr(b'\n', b.get(i..)?)?;
    let rest = input.get(h_end..eol)?.trim_end_matches('\r');
    let rest_t = rest.trim_start_matches([' ', '\t']);
    if !(rest_t.is_empty() || (rest_t.starts_with('#') && rest_t.len() < rest.len())) {
        return None;
    }
    let header_eol = if eol > h_end && b[eol - 1] == b'\r' {
        eol - 1
    } else {
        eol
    };
    // Content: the lines indented at least as much as the first non-blank one, which is
    // indented more than the key.
    // An indentation indicator fixes the content's indentation: its first line may be
    // indented more.
    let mut content_indent = explicit.map(|n| parent + n);
    let mut content_eol = header_eol;
    let mut ls = eol + 1;
    while ls < b.len() {
        let le = memchr::memchr(b'\n', &b[ls..]).map_or(b.len(), |e| ls + e);
        let line = &b[ls..le];
        let indent = line.iter().take_while(|&&c| c == b' ').count();
        let blank = line[indent..]
            .iter()
            .all(|&c| matches!(c, b' ' | b'\t' | b'\r'));
        if !blank {
            let m = *content_indent.get_or_insert(indent);
            if indent < m || indent <= parent {
                break;
            }
            content_eol = if le > ls && b[le - 1] == b'\r' {
                le - 1
            } else {
                le
            };
        }
        ls = le + 1;
    }
    if content_eol > end {
        return None;
    }
    Some(((h_start, h_end), header_eol, content_eol))
}

/// One past the `:` after the mapping key `key`, on the key's line (`None` if it is not
/// there: an explicit key, a key spread over lines).
fn key_colon_end(input: &str, key: &Node) -> Option<usize> {
    let b = input.as_bytes();
    let mut i = key.end;
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    (b.get(i) == Some(&b':')).then_some(i + 1)
}

/// Where a block scalar's header starts, for a node written after the indicator (`:` or
/// `-`) that ends at `from`.
fn header_from(b: &[u8], mut from: usize) -> usize {
    while matches!(b.get(from), Some(b' ' | b'\t')) {
        from += 1;
    }
    super::tree::skip_properties(b, from)
}

/// One past the last written character of `node` (a comment or a blank line after it is
/// not part of it), which sits in a block collection at column `parent`, after the `:` or
/// `-` that ends at `from`. `None` when a block scalar in it is not as expected.
fn written_end(input: &str, node: &Node, parent: usize, from: usize) -> Option<usize> {
    let b = input.as_bytes();
    Some(match &node.value {
        Value::Scalar {
            style: ScalarStyle::Literal | ScalarStyle::Folded,
            ..
        } => block_scalar_at(input, header_from(b, from), parent, node.end)?.2,
        Value::Scalar {
            text,
            style: ScalarStyle::Plain,
        } if text.is_empty() => content_end(node),
        Value::Scalar { .. } | Value::Alias(_) => {
            let mut e = node.end.min(b.len());
            while e > node.start && matches!(b[e - 1], b' ' | b'\t' | b'\r' | b'\n') {
                e -= 1;
            }
            e
        }
        Value::Map(entries) if !node.flow => {
            let (k, v) = entries.last()?;
            let colon = key_colon_end(input, k).unwrap_or(k.end);
            written_end(input, v, col_of(input, k.start), colon)?.max(colon)
        }
        Value::Seq(items) if !node.flow => {
            let item = items.last()?;
            let dash = dash_before(input, item.start)?;
            written_end(input, item, col_of(input, dash), dash + 1)?.max(dash + 1)
        }
        _ => node.end,
    })
}

/// The spans of `node` where a `#` is text, not a comment: its scalars, and of a block
/// scalar its header indicator and content (`parent` and `from` as for [`written_end`]).
fn opaque_spans(
    input: &str,
    node: &Node,
    parent: usize,
    from: usize,
    out: &mut Vec<(usize, usize)>,
) {
    match &node.value {
        Value::Scalar {
            style: ScalarStyle::Literal | ScalarStyle::Folded,
            ..
        } => {
            let h = header_from(input.as_bytes(), from);
            match block_scalar_at(input, h, parent, node.end) {
                Some(((h_start, h_end), header_eol, content_eol)) => {
                    out.push((h_start, h_end));
                    out.push((header_eol, content_eol));
                }
                None => out.push((from, node.end)),
            }
        }
        Value::Scalar { .. } | Value::Alias(_) => out.push((node.start, node.end)),
        Value::Map(entries) => {
            for (k, v) in entries {
                let col = col_of(input, k.start);
                opaque_spans(input, k, col, k.start, out);
                let colon = key_colon_end(input, k).unwrap_or(k.end);
                opaque_spans(input, v, col, colon, out);
            }
        }
        Value::Seq(items) => {
            for item in items {
                match dash_before(input, item.start) {
                    Some(d) => opaque_spans(input, item, col_of(input, d), d + 1, out),
                    None => opaque_spans(input, item, parent, item.start, out),
                }
            }
        }
    }
}

/// The first comment in `from..to` (a `#` at a line's start or after a blank, outside
/// the `opaque` spans).
fn comment_at(b: &[u8], from: usize, to: usize, opaque: &[(usize, usize)]) -> Option<usize> {
    (from..to.min(b.len())).find(|&i| {
        b[i] == b'#'
            && (i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'\n'))
            && !opaque.iter().any(|&(s, e)| s <= i && i < e)
    })
}

/// The `-` that introduces the sequence item starting at `pos`: the last thing before it
/// other than blanks, line breaks and comments (`- # data volume` puts the item on the next
/// line).
fn dash_before(input: &str, pos: usize) -> Option<usize> {
    let bytes = input.as_bytes();
    // Mostly `- ` alone before the item on its line, after indentation: nothing there can
    // be a comment, so the dash is the one.
    let blanks_before = |to: usize| {
        bytes.get(..to).map_or(0, |b| {
            b.iter()
                .rev()
                .take_while(|&&c| c == b' ' || c == b'\t')
                .count()
        })
    };
    if let Some(dash) = pos.checked_sub(blanks_before(pos) + 1)
        && bytes.get(dash) == Some(&b'-')
    {
        let ls = dash - blanks_before(dash);
        if ls == 0 || bytes.get(ls - 1) == Some(&b'\n') {
            return Some(dash);
        }
    }
    let mut end = pos;
    loop {
        let ls = line_start(input, end);
        let line = &bytes[ls..end];
        // A comment starts at a `#` after a blank (or at the line's start); the text before
        // an item holds no scalar, so no `#` here sits inside quotes.
        let cut = line
            .iter()
            .enumerate()
            .position(|(i, &c)| c == b'#' && (i == 0 || matches!(line[i - 1], b' ' | b'\t')))
            .unwrap_or(line.len());
        let content = line[..cut]
            .iter()
            .rposition(|&c| !matches!(c, b' ' | b'\t' | b'\r'))
            .map(|i| i + 1)
            .unwrap_or(0);
        if content == 0 {
            end = ls.checked_sub(1)?;
            continue;
        }
        let dash = ls + content - 1;
        let lone = content == 1 || matches!(line[content - 2], b' ' | b'\t');
        return (bytes[dash] == b'-' && lone).then_some(dash);
    }
}

/// A last-in, first-out list of nodes whose first entries need no allocation: the layout
/// scan of a document usually needs a few.
struct NodeStack<'n> {
    inline: [&'n Node; NodeStack::INLINE],
    len: usize,
    spill: Vec<&'n Node>,
}

impl<'n> NodeStack<'n> {
    const INLINE: usize = 16;

    fn new(first: &'n Node) -> Self {
        NodeStack {
            inline: [first; Self::INLINE],
            len: 1,
            spill: Vec::new(),
        }
    }

    fn push(&mut self, n: &'n Node) {
        // Once the inline room is full, the rest goes to the spill (popped first).
        if let Some(slot) = self.inline.get_mut(self.len) {
            *slot = n;
            self.len += 1;
        } else {
            self.spill.push(n);
        }
    }

    fn pop(&mut self) -> Option<&'n Node> {
        if let Some(n) = self.spill.pop() {
            return Some(n);
        }
        self.len = self.len.checked_sub(1)?;
        self.inline.get(self.len).copied()
    }
}

fn detect_layout(
    input: &str,
    node: &Node,
    seq_indent: &mut Option<usize>,
    map_indent: &mut Option<usize>,
) {
    let mut stack = NodeStack::new(node);
    while let Some(n) = stack.pop() {
        if seq_indent.is_some() && map_indent.is_some() {
            return;
        }
        match &n.value {
            Value::Map(entries) if !n.flow => {
                for (k, v) in entries {
                    match &v.value {
                        Value::Seq(items) if !v.flow && seq_indent.is_none() => {
                            if let Some(d) = items.first().and_then(|f| dash_before(input, f.start))
                            {
                                let key_col = col_of(input, k.start);
                                *seq_indent = Some(col_of(input, d).saturating_sub(key_col));
                            }
                        }
                        Value::Map(sub) if !v.flow && map_indent.is_none() => {
                            if let Some((sk, _)) = sub.first() {
                                let key_col = col_of(input, k.start);
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
            Value::Seq(items) => items.iter().for_each(|i| stack.push(i)),
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
        spliced(input, ed)
    }

    /// `input` with the splices of the editor `ed` applied.
    fn spliced(input: &str, mut ed: TextEditor<'_>) -> String {
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
        Path(keys.iter().map(|k| PathSeg::Key((*k).into())).collect())
    }

    /// A shared value replacing an empty one is written as the value itself: on the lines
    /// below the key, like the same value unshared, not as a scalar.
    #[test]
    fn replaces_an_empty_value_with_a_shared_collection() {
        let input = "spec:\n  volumes:\n  containers: []\n";
        let list = Val::Seq(vec![Val::map([("name", Val::str("v"))])]);
        let plain = edit(
            input,
            &[Intent {
                path: p(&["spec", "volumes"]),
                op: Op::Replace(list.clone()),
            }],
        );
        let shared = edit(
            input,
            &[Intent {
                path: p(&["spec", "volumes"]),
                op: Op::Replace(Val::Shared(std::sync::Arc::new(Val::Shared(
                    std::sync::Arc::new(list),
                )))),
            }],
        );
        assert_eq!(
            plain,
            "spec:\n  volumes:\n    - name: v\n  containers: []\n"
        );
        assert_eq!(shared, plain);
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

    /// Each intent's node is found from where the last intent's path parts from its own:
    /// paths that go back up, to a sibling item, or nowhere lead where a walk from the root
    /// leads.
    #[test]
    fn intents_in_any_order_find_their_nodes() {
        let input = "spec:\n  containers:\n  - name: a\n    env:\n    - name: X\n  - name: b\n    env:\n    - name: Y\n  volumes:\n  - name: w\n";
        let c = |i: usize| p(&["spec", "containers"]).index(i);
        let item = |n: &str| Val::map([("name", Val::str(n))]);
        let docs = parse_chunk(input, 0, 1, &Limits::default(), true).expect("valid");
        let root = docs[0].root.as_ref().expect("root");
        let mut ed = TextEditor::new(input, root, false);
        let steps = [
            (c(1).key("env"), Op::Append(item("Z1"))),
            (c(0).key("env"), Op::Append(item("Z0"))),
            (c(0), Op::AddKey("m".into(), Val::str("0"))),
            (p(&["spec", "volumes"]), Op::Append(item("v"))),
            (c(1), Op::AddKey("m".into(), Val::str("1"))),
            (c(2), Op::AddKey("m".into(), Val::str("2"))),
            (c(1).key("nope"), Op::Append(item("n"))),
            (
                c(1).key("env").index(0),
                Op::AddKey("value".into(), Val::str("y")),
            ),
            (p(&["spec"]), Op::AddKey("s".into(), Val::str("s"))),
        ];
        let applied: Vec<bool> = steps
            .into_iter()
            .map(|(path, op)| ed.apply(&Intent { path, op }).is_ok())
            .collect();
        assert_eq!(
            applied,
            [true, true, true, true, true, false, false, true, true]
        );
        let out = spliced(input, ed);
        assert_eq!(
            out,
            "spec:\n  containers:\n  - name: a\n    env:\n    - name: X\n    - name: Z0\n    m: \"0\"\n  - name: b\n    env:\n    - name: Y\n      value: \"y\"\n    - name: Z1\n    m: \"1\"\n  volumes:\n  - name: w\n  - name: v\n  s: s\n"
        );
    }

    /// Paths deeper than the steps the editor keeps are found all the same, from where
    /// the kept steps end, in any order.
    #[test]
    fn finds_nodes_deeper_than_the_kept_steps() {
        let depth = WALK_MAX + 3;
        let mut input = String::new();
        for d in 0..depth {
            input.push_str(&format!("{}k{d}:\n", "  ".repeat(d)));
        }
        input.push_str(&format!("{}leaf: x\n", "  ".repeat(depth)));
        let keys: Vec<String> = (0..depth).map(|d| format!("k{d}")).collect();
        let at = |n: usize| Path(keys[..n].iter().map(|k| PathSeg::Key(k.into())).collect());
        let add = |n: usize, k: &str| Intent {
            path: at(n),
            op: Op::AddKey(k.into(), Val::str("1")),
        };
        let out = edit(
            &input,
            &[
                add(depth, "a"),
                add(depth - 1, "b"),
                add(depth, "c"),
                add(WALK_MAX, "d"),
            ],
        );
        let pad = |n: usize| "  ".repeat(n);
        let mut want = input.clone();
        want.push_str(&format!("{}a: \"1\"\n{}c: \"1\"\n", pad(depth), pad(depth)));
        want.push_str(&format!("{}b: \"1\"\n", pad(depth - 1)));
        // Deeper insertions at one place go first.
        want.push_str(&format!("{}d: \"1\"\n", pad(WALK_MAX)));
        assert_eq!(out, want);
    }

    /// The dash of an item is found wherever it stands: alone after indentation, after a
    /// key on the same line, on the line before a comment, after tabs or a CRLF.
    #[test]
    fn finds_the_dash_before_an_item() {
        let at = |s: &str| dash_before(s, s.find('a').expect("an item"));
        assert_eq!(at("- a"), Some(0));
        assert_eq!(at("x:\n  -   a"), Some(5));
        assert_eq!(at("x:\r\n\t- a"), Some(5));
        assert_eq!(at("k: - a"), Some(3));
        assert_eq!(at("- # c\n  a"), Some(0));
        assert_eq!(at("-\n  a"), Some(0));
        assert_eq!(at("x\n  a"), None);
        assert_eq!(at("x-a"), None);
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
