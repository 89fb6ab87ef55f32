//! The fast reader against the full parser, on arbitrary text: whatever the fast reader
//! accepts, the parser accepts too, as one document of the same shape and the same data.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trust_inject::Limits;
use trust_inject::internals::{fast, parse_chunk, split_stream};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for c in split_stream(text) {
        let chunk = &text[c.start..c.end];
        let Some((shape, tree)) = fast::parse(chunk, 0, 1, usize::MAX) else { continue };
        let docs = parse_chunk(chunk, 0, 1, &Limits::default(), true)
            .unwrap_or_else(|e| panic!("the fast reader accepted what the parser rejects ({e}): {chunk:?}"));
        assert!(docs.len() <= 1, "accepted {} documents: {chunk:?}", docs.len());
        let parsed = docs.into_iter().next();
        assert_eq!(parsed.as_ref().is_some_and(|d| d.root_is_map), shape.root_is_map, "{chunk:?}");
        let want = parsed.and_then(|d| d.root).filter(|r| !r.is_null());
        match (tree, want) {
            (Some(a), Some(b)) => assert!(a.same_data(&b), "different data: {chunk:?}\nfast: {a:?}\nparser: {b:?}"),
            (None, None) => {}
            (a, b) => panic!("one reader built a tree, the other not: {chunk:?}\nfast: {a:?}\nparser: {b:?}"),
        }
    }
});
