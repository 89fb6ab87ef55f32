//! The semantic fuzzer: tests the promise itself. What Kubernetes reads from the output
//! (the Go oracle `k8s-yaml2json`) is what it reads from the input plus exactly the
//! injection the options ask for; every PodSpec keeps the rules an injection can break;
//! a second run gives the same bytes; and after an option change the output converges:
//! `run(B, run(A, x))` reads as `run(B, x)`.
//!
//! Streams come from the structure-aware generator in `tests/util/semantic.rs` (shared
//! with `fuzz/fuzz_targets/semantic.rs`): every workload kind, Lists, non-workloads, block,
//! flow and JSON styles, every quoting style, comments everywhere, anchors, aliases and
//! merge keys, CRLF, BOM, document markers, indentations 0/2/3/4, odd key orders and
//! null or empty fields. An input the oracle refuses (or reads other than the generator
//! meant) is discarded and counted; more than 5% discarded fails the run.
//!
//! `PROPTEST_CASES` sets the number of streams (default 48); `SEMANTIC_OFF=known` (or a
//! comma-separated list of switches, see `KNOWN_DEFECTS`) turns off generator features
//! that known defects trip, to look for new ones. By default every feature is on: this is
//! the regression net for those defects.

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use serde_json::Value;

#[path = "util/semantic.rs"]
mod semantic;
mod util;

use semantic::{CA_FILE, Features, OPTION_SETS, OptSet, Stream};

/// The seed of the default run: a fixed one, so that the suite is a repeatable regression
/// net; `PROPTEST_RNG_SEED=N` (or `scripts/fuzz.sh semantic`) explores other streams.
const DEFAULT_SEED: u64 = 20_261_130;

fn rng_seed() -> RngSeed {
    match std::env::var("PROPTEST_RNG_SEED") {
        Ok(_) => Config::default().rng_seed,
        Err(_) => RngSeed::Fixed(DEFAULT_SEED),
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

fn args(set: &OptSet) -> Vec<String> {
    set.flags
        .iter()
        .map(|(f, v)| {
            let v = if *v == CA_FILE {
                util::repo_root()
                    .join("testdata/pki/corp-root.pem")
                    .display()
                    .to_string()
            } else {
                (*v).to_owned()
            };
            format!("--{f}={v}")
        })
        .chain(["--quiet".to_owned()])
        .collect()
}

/// One run of the binary.
struct Run {
    ok: bool,
    stdout: Vec<u8>,
    stderr: String,
}

fn run(set: &OptSet, input: &[u8]) -> Run {
    let out = util::run_bin(&args(set), input);
    Run {
        ok: out.status.success(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const MARKER: &str = "SemanticBatchMarker";

/// What Kubernetes reads from each of `streams` (documents with content), in one oracle
/// call: the streams are joined with a marker document between them. `Err` for a stream
/// with a document that does not convert.
fn read_many(streams: &[&[u8]]) -> Vec<Result<Vec<Value>, String>> {
    let mut joined = Vec::new();
    for s in streams {
        let s = s.strip_prefix("\u{feff}".as_bytes()).unwrap_or(s);
        joined.extend_from_slice(s);
        joined.extend_from_slice(format!("\n---\nkind: {MARKER}\n---\n").as_bytes());
    }
    let docs = util::oracle_read(&joined).unwrap_or_else(|e| panic!("oracle: {e}"));
    let mut out = Vec::new();
    let mut cur: Result<Vec<Value>, String> = Ok(Vec::new());
    for d in docs {
        if d.get("kind").and_then(Value::as_str) == Some(MARKER) {
            out.push(std::mem::replace(&mut cur, Ok(Vec::new())));
        } else if d
            .as_object()
            .is_some_and(|m| m.len() == 1 && m.contains_key("error"))
        {
            cur = Err(d.to_string());
        } else if !d.is_null()
            && let Ok(v) = &mut cur
        {
            v.push(d);
        }
    }
    assert_eq!(out.len(), streams.len(), "markers lost in the oracle batch");
    out
}

/// A failure is acceptable only with empty stdout and an error naming a document, and
/// only as one of the README's deliberate refusals.
fn judge_failure(r: &Run, what: &str) -> Result<(), String> {
    if !r.stdout.is_empty() {
        return Err(format!("{what}: failed but wrote to stdout"));
    }
    if !regex_lite::Regex::new(r"document \d+")
        .expect("regex")
        .is_match(&r.stderr)
    {
        return Err(format!("{what}: the error names no document: {}", r.stderr));
    }
    if semantic::DOCUMENTED_REFUSALS
        .iter()
        .any(|p| r.stderr.contains(p))
    {
        return Ok(());
    }
    Err(format!(
        "{what}: refused a stream Kubernetes accepts: {}",
        r.stderr.trim_end()
    ))
}

static TOTAL: AtomicUsize = AtomicUsize::new(0);
static DISCARDED: AtomicUsize = AtomicUsize::new(0);
static REFUSED: AtomicUsize = AtomicUsize::new(0);

/// Runs every check on one generated stream with option sets `a` and `b`.
fn check_case(st: &Stream, a: &OptSet, b: &OptSet) -> Result<(), String> {
    let x = st.text.as_bytes();
    let ra = run(a, x);
    let rb = run(b, x);
    let raa = ra.ok.then(|| run(a, &ra.stdout));
    let rba = ra.ok.then(|| run(b, &ra.stdout));
    fn stdout(r: Option<&Run>) -> &[u8] {
        r.filter(|r| r.ok).map_or(&[], |r| &r.stdout)
    }
    let reads = read_many(&[
        x,
        stdout(Some(&ra)),
        stdout(Some(&rb)),
        stdout(rba.as_ref()),
    ]);
    TOTAL.fetch_add(1, Ordering::Relaxed);
    let input = match &reads[0] {
        Ok(v) if *v == st.expected() => v,
        _ => {
            DISCARDED.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
    };
    let mut problems = Vec::new();
    let specs = st.specs();
    for (set, r, read) in [(a, &ra, &reads[1]), (b, &rb, &reads[2])] {
        let what = format!("run with {}", set.name);
        if !r.ok {
            REFUSED.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = judge_failure(r, &what) {
                problems.push(e);
            }
            continue;
        }
        match read {
            Err(e) => problems.push(format!("{what}: the output does not convert: {e}")),
            Ok(out) => problems.extend(
                semantic::check_output(input, out, &specs, &set.expect())
                    .into_iter()
                    .chain(semantic::check_faithful(
                        st,
                        &String::from_utf8_lossy(&r.stdout),
                    ))
                    .map(|p| format!("{what}: {p}")),
            ),
        }
    }
    if let Some(again) = &raa
        && (!again.ok || again.stdout != ra.stdout)
    {
        problems.push(format!(
            "a second run with {} changed the output:\n{}{}",
            a.name,
            util::line_diff(
                &String::from_utf8_lossy(&ra.stdout),
                &String::from_utf8_lossy(&again.stdout)
            ),
            again.stderr
        ));
    }
    if let Some(rba) = &rba
        && rb.ok
        && semantic::converges(a)
    {
        if !rba.ok {
            problems.push(format!(
                "run with {} refuses the output of a run with {}: {}",
                b.name,
                a.name,
                rba.stderr.trim_end()
            ));
        } else if let problems_ba @ [_, ..] =
            semantic::check_faithful(st, &String::from_utf8_lossy(&rba.stdout)).as_slice()
        {
            problems.push(format!(
                "run with {} on the output of {}: {}\n--- output of {} on it:\n{}",
                b.name,
                a.name,
                problems_ba.join("\n"),
                b.name,
                String::from_utf8_lossy(&rba.stdout)
            ));
        } else if reads[3].as_ref().map(|d| semantic::convergence_view(d, b))
            != reads[2].as_ref().map(|d| semantic::convergence_view(d, b))
        {
            problems.push(format!(
                "run with {} on the output of {} does not read as a run with {} on the input:\n  {}: {:?}\n  direct: {:?}\n--- output of {}:\n{}",
                b.name,
                a.name,
                b.name,
                a.name,
                reads[3],
                reads[2],
                a.name,
                String::from_utf8_lossy(&rba.stdout)
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "options A: {:?}, B: {:?}\n{}\n--- input:\n{}--- output of A:\n{}",
            args(a),
            args(b),
            problems.join("\n"),
            st.text,
            String::from_utf8_lossy(&ra.stdout)
        ))
    }
}

#[test]
fn kubernetes_reads_the_input_plus_exactly_the_injection() {
    let feats = Features::from_env();
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        rng_seed: rng_seed(),
        failure_persistence: None,
        // Each case runs the binary four times: bound the shrinking.
        max_shrink_time: std::env::var("PROPTEST_MAX_SHRINK_TIME")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000),
        ..Config::default()
    });
    let strategy = (
        prop::collection::vec(any::<u8>(), 16..1500),
        0..OPTION_SETS.len(),
        0..OPTION_SETS.len(),
    );
    let result = runner.run(&strategy, |(bytes, a, b)| {
        let st = semantic::generate(&bytes, &feats);
        let a = semantic::option_set(&feats, a);
        let b = if feats.on("option-change") {
            semantic::option_set(&feats, b)
        } else {
            a
        };
        check_case(&st, &OPTION_SETS[a], &OPTION_SETS[b]).map_err(TestCaseError::fail)
    });
    let (total, discarded, refused) = (
        TOTAL.load(Ordering::Relaxed),
        DISCARDED.load(Ordering::Relaxed),
        REFUSED.load(Ordering::Relaxed),
    );
    println!(
        "semantic: {total} streams checked (including shrinking), {discarded} discarded (the oracle refused them or read them otherwise), {refused} runs refused; switches off: {:?}",
        feats.off()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(
        discarded * 20 <= total,
        "{discarded} of {total} generated streams discarded: the generator is wrong"
    );
}

/// Pseudo-random bytes (splitmix64) for the tests that need many streams quickly.
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

/// The generator is right: the oracle reads nearly every stream as the generator meant
/// (one oracle call for all), and the fuzz target's independent loader reads each stream
/// the oracle accepts as the oracle does.
#[test]
fn generated_streams_read_as_meant_and_the_loader_agrees() {
    let feats = Features::from_env();
    let streams: Vec<Stream> = (0..400)
        .map(|i| semantic::generate(&bytes(i, 1200), &feats))
        .collect();
    let texts: Vec<&[u8]> = streams.iter().map(|s| s.text.as_bytes()).collect();
    let reads = read_many(&texts);
    let mut bad = Vec::new();
    let mut loader_refused = 0;
    for (st, read) in streams.iter().zip(&reads) {
        match read {
            Ok(v) if *v == st.expected() => match semantic::load(&st.text) {
                // The fuzz target discards what its loader refuses.
                Err(e) => {
                    if std::env::var_os("SEMANTIC_DEBUG").is_some() {
                        eprintln!("LOADER: {e}");
                    }
                    loader_refused += 1
                }
                Ok(loaded) => assert_eq!(
                    &loaded, v,
                    "the loader reads this stream otherwise than Kubernetes:\n{}",
                    st.text
                ),
            },
            Ok(v) if std::env::var_os("SEMANTIC_DEBUG").is_some() => {
                eprintln!(
                    "BAD:\n{}\n  oracle: {v:?}\n  meant:  {:?}",
                    st.text,
                    serde_json::to_string(&st.expected())
                );
                bad.push(String::new())
            }
            Ok(v) => bad.push(format!(
                "read otherwise:\n{}\n  oracle: {v:?}\n  meant:  {:?}",
                st.text,
                st.expected()
            )),
            Err(e) => {
                if std::env::var_os("SEMANTIC_DEBUG").is_some() {
                    eprintln!("REFUSED: {e}\n{}", st.text);
                }
                bad.push(format!("refused: {e}\n{}", st.text))
            }
        }
    }
    println!(
        "semantic: {} of {} generated streams read as meant; the loader refuses {loader_refused} of them",
        streams.len() - bad.len(),
        streams.len()
    );
    assert!(
        bad.len() * 20 <= streams.len(),
        "{} of {} streams discarded; first:\n{}",
        bad.len(),
        streams.len(),
        bad.first().map_or("", String::as_str)
    );
}

/// Every generator feature shows up (with every switch on).
#[test]
fn the_generator_covers_every_feature() {
    let feats = Features::all();
    let mut used = std::collections::BTreeSet::new();
    for i in 0..3000 {
        used.extend(semantic::generate(&bytes(1000 + i, 1500), &feats).used);
    }
    let want = [
        "kind:Pod",
        "kind:PodTemplate",
        "kind:ReplicationController",
        "kind:Deployment",
        "kind:ReplicaSet",
        "kind:StatefulSet",
        "kind:DaemonSet",
        "kind:Job",
        "kind:CronJob",
        "kind:List",
        "kind:Rollout",
        "kind:Service",
        "kind:Configuration",
        "kind:CloneSet",
        "kind:BroadcastJob",
        "kind:AdvancedCronJob",
        "kind:ScaledJob",
        "kind:Widget",
        "style:block",
        "style:flow",
        "style:json",
        "style:pretty-json",
        "style:flow-in-block",
        "indent:2",
        "indent:3",
        "indent:4",
        "seq:unindented",
        "scalar:plain",
        "scalar:plain-quote",
        "scalar:plain-quote-in-flow",
        "scalar:single",
        "scalar:double",
        "scalar:literal",
        "scalar:folded",
        "scalar:dq-multi-line",
        "scalar:dq-continuation-low",
        "scalar:block-indent-indicator",
        "scalar:octal",
        "scalar:yaml11-bool",
        "comment:after-key",
        "comment:after-value",
        "comment:between-keys",
        "comment:between-items",
        "comment:after-dash",
        "comment:in-flow",
        "comment:after-block-indicator",
        "comment:document-start",
        "comment:document-end",
        "comment:after-separator",
        "anchor",
        "alias",
        "merge",
        "merge:container",
        "alias:env",
        "key:str-tag-merge",
        "key:quoted-merge",
        "key:single",
        "key:double",
        "crlf",
        "bom",
        "marker:document-end",
        "document:empty",
        "field:null",
        "field:empty-list",
        "field:flow-empty",
        "field:empty-value",
        "flow:multi-line",
        "flow:trailing-comma",
        "flow:close-at-key-indent",
        "tab-after-colon",
        "order:shuffled",
        "order:kind-first",
        "order:metadata-last",
        "env:valuefrom-first",
        "env:value-first",
        "mount:own-path",
        "volume:tool-name",
        "container:sidecar",
        "container:ephemeral",
        "pod:windows",
        "pod:os-beta-label",
        "pod:os-affinity",
        "scalar:forced-block",
        "key:duplicate",
        "blank-line",
        "indent:odd-nested",
        "trailing-space",
        "marker:trailing-space",
        "workload:skip-annotation",
        "template:null-metadata",
        "configmap:bundle-name",
    ];
    let missing: Vec<&str> = want.iter().copied().filter(|f| !used.contains(f)).collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
    println!(
        "semantic: {} generator features seen in 3000 streams",
        used.len()
    );
}
