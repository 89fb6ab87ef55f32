//! Arbitrary bytes through the stream splitter and the document parser: never a panic;
//! the chunks tile the input exactly, on character boundaries; every parsed document
//! lies inside its chunk and resolves (aliases, merges) or fails cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trust_inject::Limits;
use trust_inject::internals::{parse_chunk, split_stream};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let chunks = split_stream(&text);
    assert!(!chunks.is_empty(), "no chunk for {} bytes", text.len());
    let mut pos = 0;
    for c in &chunks {
        assert_eq!(c.start, pos, "chunks must be contiguous");
        assert!(c.start <= c.end && c.end <= text.len());
        assert!(text.is_char_boundary(c.start) && text.is_char_boundary(c.end));
        pos = c.end;
    }
    assert_eq!(pos, text.len(), "chunks must cover the input");
    // Small limits keep each run fast while still exercising the limit paths.
    let limits = Limits {
        max_depth: 200,
        max_alias_nodes: 10_000,
    };
    for c in &chunks {
        let Ok(docs) = parse_chunk(&text[c.start..c.end], c.start, 1, &limits, true) else {
            continue;
        };
        for d in docs {
            assert!(c.start <= d.start && d.start <= d.end && d.end <= c.end);
            if let Some(root) = d.root {
                let _ = root.resolve(&limits);
            }
        }
    }
});
