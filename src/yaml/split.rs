//! Cuts a stream into independently parseable chunks with a byte scan.
//!
//! A line that starts with `---` followed by a blank or the end of the line is always a
//! document start marker: YAML forbids such a line inside any scalar (quoted, plain or
//! block), so the cut never lands inside a document. Directive lines (`%YAML`, `%TAG`)
//! that follow a `...` end marker belong to the next document and move the cut up to them.
//! A chunk may still hold several documents (bare documents after `...`); the parser sees
//! each chunk as a stream of its own.

use memchr::memchr_iter;

/// A piece of the input that parses on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// Byte offset of the chunk in the input.
    pub start: usize,
    /// Byte offset one past its end.
    pub end: usize,
}

fn is_marker(line: &[u8], marker: &[u8; 3]) -> bool {
    line.starts_with(marker) && matches!(line.get(3), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
}

/// Splits `input` at document start markers.
///
/// # Examples
/// ```
/// let chunks = trust_inject::internals::split_stream("a: 1\n---\nb: 2\n");
/// assert_eq!(chunks.len(), 2);
/// assert_eq!(chunks[1].start, 5);
/// ```
#[must_use]
pub fn split_stream(input: &str) -> Vec<Chunk> {
    let bytes = input.as_bytes();
    // Without `...` markers or directives, only `---` lines matter: find them directly.
    let plain = !bytes.starts_with(b"...")
        && !bytes.starts_with(b"%")
        && memchr::memmem::find(bytes, b"\n...").is_none()
        && memchr::memmem::find(bytes, b"\n%").is_none();
    if plain {
        let mut chunks = Vec::new();
        let mut chunk_start = 0usize;
        let starts =
            std::iter::once(0).chain(memchr::memmem::find_iter(bytes, b"\n---").map(|i| i + 1));
        for at in starts {
            if at == 0 && !bytes.starts_with(b"---") {
                continue;
            }
            if is_marker(&bytes[at..], b"---") && at > chunk_start {
                chunks.push(Chunk {
                    start: chunk_start,
                    end: at,
                });
                chunk_start = at;
            }
        }
        chunks.push(Chunk {
            start: chunk_start,
            end: bytes.len(),
        });
        return chunks;
    }
    let mut chunks = Vec::new();
    let mut chunk_start = 0usize;
    // Start of a run of directive lines seen after a `...` marker (or at the very start).
    let mut directives_at: Option<usize> = None;
    let mut between_documents = true;
    let mut line_start = 0usize;
    let lines = memchr_iter(b'\n', bytes)
        .map(|i| i + 1)
        .chain(std::iter::once(bytes.len()));
    for next in lines {
        if line_start >= bytes.len() {
            break;
        }
        let line = &bytes[line_start..next];
        if is_marker(line, b"---") {
            let cut = directives_at.take().unwrap_or(line_start);
            if cut > chunk_start {
                chunks.push(Chunk {
                    start: chunk_start,
                    end: cut,
                });
                chunk_start = cut;
            }
            between_documents = false;
        } else if is_marker(line, b"...") {
            between_documents = true;
            directives_at = None;
        } else if line.first() == Some(&b'%') {
            if between_documents && directives_at.is_none() {
                directives_at = Some(line_start);
            }
        } else if !is_blank_or_comment(line) {
            between_documents = false;
            directives_at = None;
        }
        line_start = next;
    }
    if chunk_start < bytes.len() || chunks.is_empty() {
        chunks.push(Chunk {
            start: chunk_start,
            end: bytes.len(),
        });
    }
    chunks
}

fn is_blank_or_comment(line: &[u8]) -> bool {
    for &b in line {
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => {}
            b'#' => return true,
            // A byte-order mark at the start of the stream.
            0xEF | 0xBB | 0xBF => {}
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(s: &str) -> Vec<&str> {
        split_stream(s).iter().map(|c| &s[c.start..c.end]).collect()
    }

    #[test]
    fn splits_at_markers_only() {
        assert_eq!(pieces("a: 1\n---\nb: 2\n"), vec!["a: 1\n", "---\nb: 2\n"]);
        assert_eq!(pieces("---\na\n--- b\n"), vec!["---\na\n", "--- b\n"]);
        assert_eq!(pieces("a: |\n  ---\n---x\n"), vec!["a: |\n  ---\n---x\n"]);
        assert_eq!(pieces(""), vec![""]);
        assert_eq!(
            pieces("---\r\na\r\n---\r\n"),
            vec!["---\r\na\r\n", "---\r\n"]
        );
    }

    #[test]
    fn directives_after_end_marker_start_the_next_chunk() {
        assert_eq!(
            pieces("a\n...\n%YAML 1.2\n---\nb\n"),
            vec!["a\n...\n", "%YAML 1.2\n---\nb\n"]
        );
        assert_eq!(pieces("%YAML 1.2\n---\nb\n"), vec!["%YAML 1.2\n---\nb\n"]);
    }
}
