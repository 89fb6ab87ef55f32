//! Everything that touches YAML text: splitting a stream into documents, parsing one
//! document into a tree that remembers where each node came from, editing that text in
//! place, and re-emitting a document where an in-place edit is impossible.
//!
//! This is the only module that names the YAML parser crate (`saphyr-parser`). Nothing here
//! knows about Kubernetes; callers get [`Node`] trees and hand back [`Intent`]s.

use std::rc::Rc;

mod edit;
mod emit;
pub mod fast;
mod scan;
mod split;
mod tree;

pub use edit::TextEditor;
pub use emit::{Val, emit_document, is_plain_string, render_json, val_to_node};
pub(crate) use scan::{
    apply_to_tree, duplicate_keys, guess_object, helm_source, odd_line_break, top_level_kind,
};
pub use split::{Chunk, split_stream};
pub(crate) use tree::ALIAS_IN_ITS_ANCHOR;
pub(crate) use tree::recycle;
pub use tree::{
    Document, Limits, Node, ParseError, ResolveError, ScalarStyle, Value, count_lines, parse_chunk,
    parse_chunk_lenient,
};

/// One step of a path from a document root to a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSeg {
    /// A mapping key (the last occurrence wins, as Kubernetes reads it). Short keys are
    /// stored inline, so that extending a path copies no strings.
    Key(smol_str::SmolStr),
    /// A sequence index.
    Index(usize),
}

/// A path from a document root, printed the way Kubernetes names fields
/// (`spec.template.spec.containers[0].env`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Path(pub Segs);

/// The segments of a [`Path`], read as a slice. A path of a built-in kind is a constant,
/// and any other is made once and shared by its copies: copying a path allocates nothing,
/// so that the intents of one container all name its path, and every workload makes a few.
#[derive(Clone)]
pub enum Segs {
    /// Segments known when the program is built (the paths of the built-in kinds).
    Static(&'static [PathSeg]),
    /// Segments made while running, shared by every copy of the path.
    Shared(Rc<[PathSeg]>),
}

impl Segs {
    /// Whether `self` and `other` are copies of one path (the same segments, in the same
    /// place): then they are equal without a look at the segments.
    #[must_use]
    pub fn same(&self, other: &Segs) -> bool {
        match (self, other) {
            (Segs::Static(a), Segs::Static(b)) => std::ptr::eq(*a, *b),
            (Segs::Shared(a), Segs::Shared(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Default for Segs {
    fn default() -> Self {
        Segs::Static(&[])
    }
}

impl std::ops::Deref for Segs {
    type Target = [PathSeg];

    fn deref(&self) -> &[PathSeg] {
        match self {
            Segs::Static(s) => s,
            Segs::Shared(s) => s,
        }
    }
}

impl PartialEq for Segs {
    fn eq(&self, other: &Segs) -> bool {
        self.same(other) || **self == **other
    }
}

impl Eq for Segs {}

impl std::fmt::Debug for Segs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Segs {
    type Item = &'a PathSeg;
    type IntoIter = std::slice::Iter<'a, PathSeg>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<PathSeg> for Segs {
    fn from_iter<I: IntoIterator<Item = PathSeg>>(iter: I) -> Self {
        Segs::Shared(iter.into_iter().collect())
    }
}

impl From<&'static [PathSeg]> for Segs {
    fn from(segs: &'static [PathSeg]) -> Self {
        Segs::Static(segs)
    }
}

impl Path {
    /// A new path with `key` appended.
    #[must_use]
    pub fn key(&self, key: &str) -> Path {
        self.with([PathSeg::Key(key.into())])
    }

    /// A new path with the field name `key` and then `index` appended (the name is not
    /// copied). Below a path of a built-in kind (a container's path), the path made last
    /// for the same place is shared.
    #[must_use]
    pub fn key_index(&self, key: &'static str, index: usize) -> Path {
        let more = || {
            [
                PathSeg::Key(smol_str::SmolStr::new_static(key)),
                PathSeg::Index(index),
            ]
        };
        let Segs::Static(parent) = &self.0 else {
            return self.with(more());
        };
        ITEMS.with_borrow_mut(|items| {
            let hit = items
                .iter()
                .rev()
                .find(|i| std::ptr::eq(i.parent, *parent) && i.index == index && i.key == key);
            if let Some(i) = hit {
                return Path(Segs::Shared(Rc::clone(&i.path)));
            }
            let path: Rc<[PathSeg]> = parent.iter().cloned().chain(more()).collect();
            if items.len() >= ITEMS_KEPT {
                items.remove(0);
            }
            items.push(ItemPath {
                parent,
                key,
                index,
                path: Rc::clone(&path),
            });
            Path(Segs::Shared(path))
        })
    }

    /// A new path with `index` appended.
    #[must_use]
    pub fn index(&self, index: usize) -> Path {
        self.with([PathSeg::Index(index)])
    }

    /// This path followed by `segs`, made in one allocation.
    #[must_use]
    pub fn with<const N: usize>(&self, segs: [PathSeg; N]) -> Path {
        Path(self.0.iter().cloned().chain(segs).collect())
    }

    /// The path of the first `len` segments (all of them when there are fewer).
    #[must_use]
    pub fn prefix(&self, len: usize) -> Path {
        match &self.0 {
            Segs::Static(s) => Path(Segs::Static(s.get(..len).unwrap_or(s))),
            Segs::Shared(s) if len >= s.len() => self.clone(),
            Segs::Shared(s) => Path(s.iter().take(len).cloned().collect()),
        }
    }
}

/// The most paths of items below paths of built-in kinds kept per thread.
const ITEMS_KEPT: usize = 16;

/// A path of an item below a path of a built-in kind, as made.
struct ItemPath {
    parent: &'static [PathSeg],
    key: &'static str,
    index: usize,
    path: Rc<[PathSeg]>,
}

thread_local! {
    /// The paths of items below paths of built-in kinds made last on this thread: every
    /// Deployment's first container is at `spec.template.spec.containers[0]`, a path then
    /// made once for all of them.
    static ITEMS: std::cell::RefCell<Vec<ItemPath>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                PathSeg::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                PathSeg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        if first {
            f.write_str("(root)")?;
        }
        Ok(())
    }
}

/// A mapping key that an intent names. Keys are short (`env`, `volumeMounts`, an
/// annotation's name): stored inline, an intent's key costs no allocation.
pub type Key = smol_str::SmolStr;

/// What to change at a path. Intents are computed on a read-only tree and then applied
/// either to the text ([`TextEditor`]) or to an owned tree that is re-emitted.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Add a key that the mapping at the path does not have.
    AddKey(Key, Val),
    /// Append an item to the sequence at the path.
    Append(Val),
    /// Insert an item before the first of the (non-empty) sequence at the path.
    Prepend(Val),
    /// Replace the scalar at the path.
    Replace(Val),
    /// Append block YAML text (written at column 0) as an item of the block sequence at
    /// the path.
    AppendBlock(String),
    /// Remove a key (and its value) from the mapping at the path.
    RemoveKey(Key),
    /// Replace the entry of the first key (its key and value) in the mapping at the path
    /// by an entry of the second key with this value, where the old one stands.
    ReplaceEntry(Key, Key, Val),
    /// Remove the item at this index (counted in the unedited document) from the sequence
    /// at the path.
    RemoveItem(usize),
}

/// One change to a document.
#[derive(Clone, Debug, PartialEq)]
pub struct Intent {
    /// Where.
    pub path: Path,
    /// What.
    pub op: Op,
}
