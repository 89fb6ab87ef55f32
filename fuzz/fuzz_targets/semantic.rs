//! The semantic fuzzer: structure-aware streams (the generator in tests/util/semantic.rs)
//! through the whole pipeline, read back with an independent loader over saphyr-parser's
//! events (YAML 1.1 scalars as go-yaml v2 reads them), never the crate's own readers.
//! Checks that the output reads as the input plus exactly the injection the options ask
//! for, that documents are edited in place (comments kept, flow stays flow), that every
//! PodSpec keeps the rules an injection can break, that a second run gives the same bytes
//! and that `run(B, run(A, x))` reads as `run(B, x)` (within the README's documented
//! re-run limits). A refusal must name a document and be a documented one. The first two
//! bytes pick the option sets A and B. `SEMANTIC_OFF=known` turns off the generator
//! features that known defects trip. Streams the loader refuses are skipped (it uses the
//! parser the tool uses, so go-yaml v2 leniencies are the proptest's to check).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use trust_inject::{Options, Settings, process};

#[path = "../../tests/util/semantic.rs"]
mod semantic;

use semantic::{CA_FILE, Features, OPTION_SETS, OptSet};

fn features() -> &'static Features {
    static F: OnceLock<Features> = OnceLock::new();
    F.get_or_init(Features::from_env)
}

/// The options of each set, built once (reading the CA file and the public roots is slow).
fn options() -> &'static [Options] {
    static O: OnceLock<Vec<Options>> = OnceLock::new();
    O.get_or_init(|| {
        let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/pki/corp-root.pem");
        OPTION_SETS
            .iter()
            .map(|set| {
                let pairs = set
                    .flags
                    .iter()
                    .map(|(f, v)| (*f, if *v == CA_FILE { ca } else { *v }));
                let settings = Settings::from_flat(pairs, set.name)
                    .unwrap_or_else(|e| panic!("option set {}: {e}", set.name));
                let mut opts = Options::from_settings(&settings)
                    .unwrap_or_else(|e| panic!("option set {}: {e}", set.name));
                opts.load_bundle()
                    .unwrap_or_else(|e| panic!("option set {}: {e}", set.name));
                opts
            })
            .collect()
    })
}

/// Runs `set` on `text`: `Some(output)`, or `None` after checking that the refusal names
/// a document and is a documented one.
fn run(set: &OptSet, opts: &Options, text: &str, what: &str) -> Option<String> {
    match process(text, opts) {
        Ok(out) => Some(out.output),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains("document "),
                "{what}: run with {} fails without naming a document: {msg}\n--- input:\n{text}",
                set.name
            );
            assert!(
                semantic::DOCUMENTED_REFUSALS
                    .iter()
                    .any(|p| msg.contains(p)),
                "{what}: run with {} refuses a stream Kubernetes accepts: {msg}\n--- input:\n{text}",
                set.name
            );
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [a, b, rest @ ..] = data else { return };
    let feats = features();
    let a = semantic::option_set(feats, usize::from(*a));
    let b = if feats.on("option-change") {
        semantic::option_set(feats, usize::from(*b))
    } else {
        a
    };
    let st = semantic::generate(rest, feats);
    // Only streams the loader reads as the generator meant: then it can judge the output.
    let Ok(input) = semantic::load(&st.text) else {
        return;
    };
    if input != st.expected() {
        return;
    }
    let specs = st.specs();
    let (set_a, set_b) = (&OPTION_SETS[a], &OPTION_SETS[b]);
    let (opts_a, opts_b) = (&options()[a], &options()[b]);
    let x = st.text.as_str();
    let check = |set: &OptSet, out: &str| {
        let read = semantic::load(out).unwrap_or_else(|e| {
            panic!(
                "run with {}: the output does not parse ({e}):\n{out}\n--- input:\n{x}",
                set.name
            )
        });
        let mut problems = semantic::check_output(&input, &read, &specs, &set.expect());
        problems.extend(semantic::check_faithful(&st, out));
        assert!(
            problems.is_empty(),
            "run with {}:\n{}\n--- input:\n{x}--- output:\n{out}",
            set.name,
            problems.join("\n")
        );
    };
    let out_a = run(set_a, opts_a, x, "input");
    if let Some(out) = &out_a {
        check(set_a, out);
        let again = run(set_a, opts_a, out, "output");
        assert!(
            again.as_ref() == Some(out),
            "a second run with {} changed the output\n--- input:\n{x}--- output:\n{out}--- second output:\n{again:?}",
            set_a.name
        );
    }
    if b == a {
        return;
    }
    let out_b = run(set_b, opts_b, x, "input");
    if let Some(out) = &out_b {
        check(set_b, out);
    }
    if let (Some(out_a), Some(out_b), true) = (&out_a, &out_b, semantic::converges(set_a)) {
        let out_ba = run(set_b, opts_b, out_a, "output of A");
        let view = |r: Result<Vec<serde_json::Value>, String>| {
            r.map(|d| semantic::convergence_view(&d, set_b))
        };
        let direct = view(semantic::load(out_b));
        let after = out_ba.as_deref().map(|o| view(semantic::load(o)));
        assert!(
            after.as_ref() == Some(&direct),
            "run with {} on the output of {} does not read as on the input\n--- input:\n{x}--- direct:\n{out_b}--- after {}:\n{out_ba:?}",
            set_b.name,
            set_a.name,
            set_a.name
        );
        if let Some(out_ba) = &out_ba {
            let problems = semantic::check_faithful(&st, out_ba);
            assert!(
                problems.is_empty(),
                "run with {} on the output of {}:\n{}\n--- input:\n{x}--- output:\n{out_ba}",
                set_b.name,
                set_a.name,
                problems.join("\n")
            );
        }
    }
});
