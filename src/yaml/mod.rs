//! Everything that touches YAML text: splitting a stream into documents, parsing one
//! document into a tree that remembers where each node came from, editing that text in
//! place, and re-emitting a document where an in-place edit is impossible.
//!
//! This is the only module that names the YAML parser crate (`saphyr-parser`). Nothing here
//! knows about Kubernetes; callers get [`Node`] trees and hand back [`Intent`]s.

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
pub struct Path(pub Vec<PathSeg>);

impl Path {
    /// A new path with `key` appended.
    #[must_use]
    pub fn key(&self, key: &str) -> Path {
        let mut p = Path(Vec::with_capacity(self.0.len() + 1));
        p.0.extend_from_slice(&self.0);
        p.0.push(PathSeg::Key(key.into()));
        p
    }

    /// A new path with the field name `key` and then `index` appended (one allocation; the
    /// name is not copied).
    #[must_use]
    pub fn key_index(&self, key: &'static str, index: usize) -> Path {
        let mut p = Path(Vec::with_capacity(self.0.len() + 2));
        p.0.extend_from_slice(&self.0);
        p.0.push(PathSeg::Key(smol_str::SmolStr::new_static(key)));
        p.0.push(PathSeg::Index(index));
        p
    }

    /// A new path with `index` appended.
    #[must_use]
    pub fn index(&self, index: usize) -> Path {
        let mut p = Path(Vec::with_capacity(self.0.len() + 1));
        p.0.extend_from_slice(&self.0);
        p.0.push(PathSeg::Index(index));
        p
    }
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
