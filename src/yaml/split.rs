//! Cuts a stream into independently parseable chunks with a byte scan.
//!
//! A line that starts with `---` followed by a blank or the end of the line is always a
//! document start marker: YAML forbids such a line inside any scalar (quoted, plain or
//! block), so the cut never lands inside a document. Directive lines (`%YAML`, `%TAG`)
//! that follow a `...` end marker belong to the next document and move the cut up to them.
//! A chunk may still hold several documents (bare documents after `...`); the parser sees
//! each chunk as a stream of its own.

use memchr::memchr_iter;
use rayon::prelude::*;

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
        && !contains(bytes, b"\n...")
        && !contains(bytes, b"\n%");
    if plain {
        let mut chunks = Vec::new();
        let mut chunk_start = 0usize;
        let starts = std::iter::once(0).chain(find_all(bytes, b"\n---").into_iter().map(|i| i + 1));
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

/// Inputs from this size on are scanned on every core (a scan runs at several GB/s: below
/// this, starting the other threads costs more than it saves).
const PARALLEL_SCAN: usize = 1 << 20;

/// The parts a large input is scanned in: `[start, end)` byte ranges, a few per core so
/// that a slow core does not hold the others up.
fn parts(len: usize) -> Vec<(usize, usize)> {
    let n = (rayon::current_num_threads() * 4).max(1);
    (0..n).map(|k| (k * len / n, (k + 1) * len / n)).collect()
}

/// Where `needle` occurs in `bytes`, in order (matches may not overlap themselves: each
/// needle used here starts with a line break that it holds only there).
fn find_all(bytes: &[u8], needle: &[u8]) -> Vec<usize> {
    if bytes.len() < PARALLEL_SCAN {
        return memchr::memmem::find_iter(bytes, needle).collect();
    }
    let finder = memchr::memmem::Finder::new(needle);
    parts(bytes.len())
        .into_par_iter()
        .map(|(start, end)| {
            // A match that starts in the part may end after it.
            let stop = bytes.len().min(end + needle.len() - 1);
            bytes.get(start..stop).map_or_else(Vec::new, |part| {
                finder.find_iter(part).map(|i| start + i).collect()
            })
        })
        .collect::<Vec<Vec<usize>>>()
        .concat()
}

/// Whether `needle` occurs in `bytes`.
fn contains(bytes: &[u8], needle: &[u8]) -> bool {
    if bytes.len() < PARALLEL_SCAN {
        return memchr::memmem::find(bytes, needle).is_some();
    }
    let finder = memchr::memmem::Finder::new(needle);
    parts(bytes.len()).into_par_iter().any(|(start, end)| {
        let stop = bytes.len().min(end + needle.len() - 1);
        bytes
            .get(start..stop)
            .is_some_and(|part| finder.find(part).is_some())
    })
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
    fn a_large_input_is_cut_where_a_small_one_is() {
        // Markers at every offset around the parts' borders, and a long input with
        // `...` and directives that takes the line-by-line path.
        let doc = "kind: Pod\nspec: {}\n---\n";
        let mut big = String::new();
        while big.len() < 3 * PARALLEL_SCAN {
            big.push_str(doc);
            big.push_str(&"x".repeat(big.len() % 7));
            big.push('\n');
        }
        let chunks = split_stream(&big);
        let starts: Vec<usize> = memchr::memmem::find_iter(big.as_bytes(), b"\n---\n")
            .map(|i| i + 1)
            .collect();
        assert_eq!(chunks.len(), starts.len() + 1);
        for (c, at) in chunks.iter().skip(1).zip(&starts) {
            assert_eq!(c.start, *at);
        }
        for (a, b) in chunks.iter().zip(chunks.iter().skip(1)) {
            assert_eq!(a.end, b.start);
        }
        assert_eq!(find_all(big.as_bytes(), b"\n---"), {
            memchr::memmem::find_iter(big.as_bytes(), b"\n---").collect::<Vec<_>>()
        });
        for (n, part) in parts(big.len()).iter().enumerate() {
            // A needle right across each border is found once.
            let mut b = vec![b'a'; big.len()];
            let at = part.1.saturating_sub(2).min(b.len() - 4);
            b[at..at + 4].copy_from_slice(b"\n---");
            assert_eq!(find_all(&b, b"\n---"), vec![at], "part {n}");
            assert!(contains(&b, b"\n---"), "part {n}");
        }
        let mut with_end = big.clone();
        with_end.push_str("...\n%YAML 1.2\n---\nb: 1\n");
        assert!(contains(with_end.as_bytes(), b"\n..."));
        let last = split_stream(&with_end);
        assert_eq!(
            last.last().map(|c| &with_end[c.start..c.end]),
            Some("%YAML 1.2\n---\nb: 1\n")
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
