//! The fast check (`trust_inject::internals::fast::check`) may only accept what the parser
//! accepts, with the same shape. Checked over every chunk of the YAML test suite, the
//! corpus, and the golden inputs; and it must accept most plain rendered manifests, or it
//! saves nothing.
//!
//! Without the YAML test suite or the corpus (beside the checkout, `docs/testing.md`), the
//! test that needs it is listed as not run by `scripts/test.sh` and fails anywhere else.

use std::path::{Path, PathBuf};

use trust_inject::Limits;
use trust_inject::internals::{Node, ScalarStyle, Value, fast, parse_chunk, split_stream};

mod util;

fn files_under(dir: &Path, name: Option<&str>, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, name, out);
        } else if name.is_none_or(|n| p.file_name().is_some_and(|f| f == n))
            || (name.is_none() && p.extension().is_some_and(|e| e == "yaml"))
        {
            out.push(p);
        }
    }
}

/// Compares two trees: structure, values and styles, and the spans of every scalar that
/// is not a block scalar (the editor places lines by those).
fn same(a: &Node, b: &Node, chunk: &str, file: &str, path: &str) {
    same_in(a, b, chunk, file, path, false);
}

/// In a flow collection the parser's scalar spans may include the spaces that follow a
/// scalar; only their starts are compared there.
fn same_in(a: &Node, b: &Node, chunk: &str, file: &str, path: &str, in_flow: bool) {
    let fail = |what: &str| panic!("{file}: {path}: {what}\nfast: {a:?}\nparser: {b:?}\n{chunk}");
    match (&a.value, &b.value) {
        (
            Value::Scalar {
                text: ta,
                style: sa,
            },
            Value::Scalar {
                text: tb,
                style: sb,
            },
        ) => {
            if ta != tb || sa != sb {
                fail("scalars differ");
            }
            let block = matches!(sa, ScalarStyle::Literal | ScalarStyle::Folded);
            // Where an empty value of a `-` sits varies with the spaces after it; the editor
            // finds the indicator itself.
            let empty_item =
                ta.is_empty() && *sa == ScalarStyle::Plain && a.start == a.end && b.start == b.end;
            if !block && !empty_item && (a.start != b.start || (a.end != b.end && !in_flow)) {
                fail("scalar spans differ");
            }
        }
        (Value::Map(ea), Value::Map(eb)) => {
            if ea.len() != eb.len() || a.flow != b.flow {
                fail("mappings differ in size or style");
            }
            for ((ka, va), (kb, vb)) in ea.iter().zip(eb) {
                same(ka, kb, chunk, file, path);
                let key = ka.as_str().unwrap_or("?");
                same(va, vb, chunk, file, &format!("{path}.{key}"));
            }
        }
        (Value::Seq(ia), Value::Seq(ib)) => {
            if ia.len() != ib.len() || a.flow != b.flow {
                fail("sequences differ in size or style");
            }
            for (i, (x, y)) in ia.iter().zip(ib).enumerate() {
                same_in(x, y, chunk, file, &format!("{path}[{i}]"), a.flow);
            }
        }
        _ => fail("node kinds differ"),
    }
}

/// Whether a mapping of the tree (the parser's) has two scalar keys of the same text.
fn repeats_a_key(n: &Node) -> bool {
    match &n.value {
        Value::Map(entries) => {
            let keys: Vec<&str> = entries
                .iter()
                .filter_map(|(k, _)| match &k.value {
                    Value::Scalar { text, .. } => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            keys.iter()
                .enumerate()
                .any(|(i, k)| keys.get(i + 1..).is_some_and(|rest| rest.contains(k)))
                || entries
                    .iter()
                    .any(|(k, v)| repeats_a_key(k) || repeats_a_key(v))
        }
        Value::Seq(items) => items.iter().any(repeats_a_key),
        Value::Scalar { .. } | Value::Alias(_) => false,
    }
}

/// The most keys a mapping of the tree has.
fn widest_mapping(n: &Node) -> usize {
    match &n.value {
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| widest_mapping(k).max(widest_mapping(v)))
            .fold(entries.len(), usize::max),
        Value::Seq(items) => items.iter().map(widest_mapping).max().unwrap_or(0),
        Value::Scalar { .. } | Value::Alias(_) => 0,
    }
}

/// Returns (chunks checked, chunks accepted); panics on any disagreement.
fn differential(files: &[PathBuf]) -> (usize, usize) {
    let (mut checked, mut accepted) = (0, 0);
    let (mut trees, mut repeating) = (0, 0);
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for c in split_stream(&text) {
            let chunk = &text[c.start..c.end];
            checked += 1;
            let Some(shape) = fast::check(chunk) else {
                continue;
            };
            accepted += 1;
            let docs = parse_chunk(chunk, 0, 1, &Limits::default(), false).unwrap_or_else(|e| {
                panic!(
                    "{}: the fast check accepted a chunk the parser rejects ({e}):\n{chunk}",
                    f.display()
                )
            });
            assert!(
                docs.len() <= 1,
                "{}: accepted a chunk of {} documents:\n{chunk}",
                f.display(),
                docs.len()
            );
            let parsed_map = docs.first().is_some_and(|d| d.root_is_map);
            assert_eq!(
                parsed_map,
                shape.root_is_map,
                "{}: root shape differs:\n{chunk}",
                f.display()
            );
            let parsed_empty = docs.first().is_none_or(|d| d.is_empty);
            assert_eq!(
                parsed_empty,
                shape.is_empty,
                "{}: emptiness differs:\n{chunk}",
                f.display()
            );
            // With a tree: the same tree as the parser's, where the fast reader builds one.
            if let Some((_, tree)) = fast::parse(chunk, 0, 1, usize::MAX) {
                trees += 1;
                let full = parse_chunk(chunk, 0, 1, &Limits::default(), true).expect("parses");
                let want = full.into_iter().next().and_then(|d| d.root);
                match (&tree, &want) {
                    (Some(a), Some(b)) => {
                        same(a, b, chunk, &f.display().to_string(), "(root)");
                        // The reader's note that no mapping repeats a key is right, and
                        // missing only where a key repeats or a mapping is wide (more than
                        // 32 keys: left to the full scan).
                        let repeats = repeats_a_key(b);
                        assert!(
                            !(a.unique_keys && repeats),
                            "{}: unique_keys on a tree that repeats a key:\n{chunk}",
                            f.display()
                        );
                        assert!(
                            a.unique_keys || repeats || widest_mapping(b) > 32,
                            "{}: unique_keys missing:\n{chunk}",
                            f.display()
                        );
                        repeating += usize::from(!a.unique_keys);
                    }
                    (None, None) => {}
                    (None, Some(b)) if b.is_null() => {}
                    _ => panic!(
                        "{}: one reader built a tree, the other not:\n{chunk}",
                        f.display()
                    ),
                }
            }
        }
    }
    println!(
        "{trees} trees compared, {repeating} without `unique_keys` (a key repeated, or a wide mapping)"
    );
    (checked, accepted)
}

#[test]
fn never_accepts_what_the_parser_rejects_in_the_yaml_test_suite() {
    let Some(dir) = util::external::data_dir(
        "../shared/yaml-test-suite/data",
        "the YAML test suite",
        "it lives beside the repository; see docs/testing.md",
    ) else {
        return;
    };
    let mut files = Vec::new();
    files_under(&dir, Some("in.yaml"), &mut files);
    assert!(files.len() > 300, "only {} cases found", files.len());
    // An invalid case must never be accepted whole: at least one of its chunks goes to the
    // parser, which reports the error.
    for f in &files {
        if f.parent().is_some_and(|d| d.join("error").exists()) {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            let all = split_stream(&text)
                .iter()
                .all(|c| fast::check(&text[c.start..c.end]).is_some());
            assert!(!all, "{}: accepted an invalid case:\n{text}", f.display());
        }
    }
    let (checked, accepted) = differential(&files);
    println!("yaml-test-suite: {checked} chunks, {accepted} accepted by the fast check");
}

#[test]
fn agrees_with_the_parser_on_the_corpus_and_accepts_most_of_it() {
    let Some(dir) = util::external::data_dir(
        "../shared/corpus",
        "the real-world manifest corpus",
        "it lives beside the repository; see docs/testing.md",
    ) else {
        return;
    };
    let mut files = Vec::new();
    files_under(&dir, None, &mut files);
    assert!(
        !files.is_empty(),
        "the corpus is missing at {}",
        dir.display()
    );
    let (checked, accepted) = differential(&files);
    println!("corpus: {checked} chunks, {accepted} accepted by the fast check");
    assert!(
        accepted * 10 >= checked * 8,
        "the fast check accepts only {accepted} of {checked} corpus chunks"
    );
}

#[test]
fn agrees_with_the_parser_on_the_golden_inputs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut files = Vec::new();
    files_under(&dir, None, &mut files);
    let (checked, accepted) = differential(&files);
    println!("testdata: {checked} chunks, {accepted} accepted by the fast check");
    assert!(checked > 50);
}
