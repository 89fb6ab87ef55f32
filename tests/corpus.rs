//! Real-world manifests from `../shared/corpus` (rendered charts, release manifests,
//! kustomize builds; provenance in its `SOURCES.md`). For every file, with the default
//! options and with `--complete-bundle`:
//! (a) the workloads found match the counts by kind in `SOURCES.md`;
//! (b) every document that is not a workload comes out byte for byte;
//! (c) an edited document only gains lines;
//! (d) a second run changes nothing;
//! (e) the binary gives the same bytes as the library;
//! and Kubernetes (the `k8s-yaml2json` oracle) reads input and output the same once
//! exactly what was injected is removed.
//!
//! Without the corpus, a test that needs it is listed as not run by `scripts/test.sh` and
//! fails anywhere else, CI included (`tests/util/external.rs`, `docs/testing.md`).

mod util;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use trust_inject::{Options, process};
use util::{Injected, is_line_subsequence, line_diff, oracle_check, run_bin, split_docs};

/// The corpus folder, or `None` when it is absent and the calling test is recorded as not
/// run (see `util::external`).
#[track_caller]
fn corpus_dir() -> Option<PathBuf> {
    util::external::data_dir(
        "../shared/corpus",
        "the real-world manifest corpus",
        "it lives beside the repository; see docs/testing.md",
    )
}

/// The corpus files, sorted.
fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.yaml files in {}", dir.display());
    files
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned()
}

fn read_text(p: &Path) -> String {
    String::from_utf8(util::read(p)).unwrap_or_else(|e| panic!("{}: not UTF-8: {e}", p.display()))
}

/// Expected workload counts by kind, per file, from the table in `SOURCES.md` (column
/// "by kind": `Deployment=2, Job=2, Pod=4`).
fn expected_counts(dir: &Path) -> BTreeMap<String, BTreeMap<String, usize>> {
    let path = dir.join("SOURCES.md");
    let text = read_text(&path);
    let mut out = BTreeMap::new();
    let mut columns: Option<(usize, usize)> = None;
    for line in text.lines() {
        let line = line.trim();
        if !line.starts_with('|') {
            columns = None;
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells.contains(&"by kind") {
            let file = cells
                .iter()
                .position(|c| *c == "file")
                .expect("a file column");
            let kinds = cells.iter().position(|c| *c == "by kind").expect("by kind");
            columns = Some((file, kinds));
            continue;
        }
        let Some((file_col, kinds_col)) = columns else {
            continue;
        };
        if cells
            .iter()
            .all(|c| c.chars().all(|ch| matches!(ch, '-' | ':')))
        {
            continue;
        }
        let file = cells[file_col].to_owned();
        let mut counts = BTreeMap::new();
        for part in cells[kinds_col]
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (kind, n) = part
                .split_once('=')
                .unwrap_or_else(|| panic!("SOURCES.md: bad count {part:?} for {file}"));
            let n: usize = n
                .parse()
                .unwrap_or_else(|_| panic!("SOURCES.md: bad count {part:?} for {file}"));
            counts.insert(kind.to_owned(), n);
        }
        out.insert(file, counts);
    }
    assert!(
        !out.is_empty(),
        "no table with a \"by kind\" column in {}",
        path.display()
    );
    out
}

/// `Deployment` for the built-in groups, `Rollout.argoproj.io` for the others (the
/// naming of `SOURCES.md`).
fn kind_key(api_version: &str, kind: &str) -> String {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    match group {
        "" | "apps" | "batch" | "extensions" => kind.to_owned(),
        g => format!("{kind}.{g}"),
    }
}

fn default_opts() -> Options {
    Options::from_configmap("corp-ca", "ca.crt")
}

fn complete_opts() -> Options {
    default_opts().with_complete_bundle(true)
}

/// Checks (a) to (d) for one file; returns the problems found.
fn check_file(path: &Path, opts: &Options, expected: &BTreeMap<String, usize>) -> Vec<String> {
    let mut problems = Vec::new();
    let input = read_text(path);
    let processed = match process(&input, opts) {
        Ok(p) => p,
        Err(e) => return vec![format!("process failed: {e}")],
    };
    let output = &processed.output;

    // (a) Workloads by kind, skipped ones included.
    let mut got: BTreeMap<String, usize> = BTreeMap::new();
    for w in &processed.workloads {
        *got.entry(kind_key(&w.object.api_version, &w.object.kind))
            .or_default() += 1;
    }
    if &got != expected {
        problems.push(format!(
            "workloads by kind: got {got:?}, SOURCES.md says {expected:?}"
        ));
    }

    // (b) + (c) Document by document.
    let ins = split_docs(&input);
    let outs = split_docs(output);
    if ins.len() != outs.len() {
        problems.push(format!("{} documents in, {} out", ins.len(), outs.len()));
    } else {
        for (i, (d_in, d_out)) in ins.iter().zip(&outs).enumerate() {
            if d_in == d_out {
                continue;
            }
            // A changed document must be a workload on its own, and edit the same way alone.
            match process(d_in, opts) {
                Ok(alone) if alone.workloads.is_empty() => problems.push(format!(
                    "document {} is not a workload but changed:\n{}",
                    i + 1,
                    line_diff(d_in, d_out)
                )),
                Ok(alone) if alone.output != *d_out => problems.push(format!(
                    "document {} is edited differently when processed alone:\n{}",
                    i + 1,
                    line_diff(&alone.output, d_out)
                )),
                Ok(_) => {}
                Err(e) => problems.push(format!("document {} alone fails: {e}", i + 1)),
            }
            if !is_line_subsequence(d_in, d_out) {
                problems.push(format!(
                    "document {} did not only gain lines:\n{}",
                    i + 1,
                    line_diff(d_in, d_out)
                ));
            }
        }
    }
    let changed_docs = ins.iter().zip(&outs).filter(|(a, b)| a != b).count();
    let injected = processed.workloads.iter().filter(|w| w.changed).count();
    if changed_docs > injected {
        problems.push(format!(
            "{changed_docs} documents changed but only {injected} workloads were edited"
        ));
    }
    if !is_line_subsequence(&input, output) {
        problems.push("the output does not contain every input line in order".into());
    }

    // (d) Idempotence.
    match process(output, opts) {
        Ok(again) if again.output == *output => {}
        Ok(again) => problems.push(format!(
            "a second run changes the output:\n{}",
            line_diff(output, &again.output)
        )),
        Err(e) => problems.push(format!("a second run fails: {e}")),
    }
    problems
}

fn check_all(opts: &Options, label: &str) {
    let Some(dir) = corpus_dir() else { return };
    let expected = expected_counts(&dir);
    let mut report = String::new();
    let mut checked = 0;
    for path in corpus_files(&dir) {
        let name = file_name(&path);
        let Some(want) = expected.get(&name) else {
            let _ = writeln!(report, "== {name}: not listed in SOURCES.md");
            continue;
        };
        checked += 1;
        let problems = check_file(&path, opts, want);
        if !problems.is_empty() {
            let _ = writeln!(report, "== {name} ({label})");
            for p in problems {
                let _ = writeln!(report, "- {p}");
            }
        }
    }
    for name in expected.keys() {
        if !dir.join(name).is_file() {
            let _ = writeln!(report, "== {name}: listed in SOURCES.md but missing");
        }
    }
    assert!(checked > 0, "no corpus file was checked");
    assert!(report.is_empty(), "corpus problems:\n{report}");
}

#[test]
fn corpus_default_options() {
    check_all(&default_opts(), "default options");
}

#[test]
fn corpus_complete_bundle() {
    check_all(&complete_opts(), "--complete-bundle");
}

/// The binary writes exactly what the library computes.
#[test]
fn corpus_through_the_binary() {
    let Some(dir) = corpus_dir() else { return };
    let mut report = String::new();
    for (name, extra) in [
        ("podinfo-chart-with-tests.yaml", &[][..]),
        ("argo-rollouts-example-workload-ref.yaml", &[][..]),
        (
            "ingress-nginx-chart-daemonset.yaml",
            &["--complete-bundle"][..],
        ),
    ] {
        let path = dir.join(name);
        let input = read_text(&path);
        let opts = if extra.is_empty() {
            default_opts()
        } else {
            complete_opts()
        };
        let want = process(&input, &opts).expect("library run").output;
        let mut args: Vec<String> = vec!["--configmap".into(), "corp-ca".into()];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let out = run_bin(&args, input.as_bytes());
        if !out.status.success() || out.stdout != want.as_bytes() {
            let _ = writeln!(
                report,
                "== {name} {args:?}: status {}\n{}\nstderr: {}",
                out.status,
                line_diff(&want, &String::from_utf8_lossy(&out.stdout)),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    assert!(report.is_empty(), "binary and library disagree:\n{report}");
}

fn oracle_all(opts: &Options, label: &str) {
    let Some(dir) = corpus_dir() else { return };
    let mut report = String::new();
    for path in corpus_files(&dir) {
        let input = read_text(&path);
        let output = match process(&input, opts) {
            Ok(p) => p.output,
            Err(e) => {
                let _ = writeln!(report, "== {}: process failed: {e}", file_name(&path));
                continue;
            }
        };
        let problems = oracle_check(input.as_bytes(), output.as_bytes(), &Injected::default());
        if !problems.is_empty() {
            let _ = writeln!(report, "== {} ({label})", file_name(&path));
            for p in problems {
                let _ = writeln!(report, "- {p}");
            }
        }
    }
    assert!(
        report.is_empty(),
        "Kubernetes reads the output differently:\n{report}"
    );
}

#[test]
fn corpus_reads_the_same_to_kubernetes() {
    util::oracle();
    oracle_all(&default_opts(), "default options");
}

#[test]
fn corpus_reads_the_same_to_kubernetes_complete_bundle() {
    util::oracle();
    oracle_all(&complete_opts(), "--complete-bundle");
}

#[test]
fn sources_table_is_read() {
    let Some(dir) = corpus_dir() else { return };
    let counts = expected_counts(&dir);
    assert_eq!(
        counts
            .get("podinfo-chart-with-tests.yaml")
            .map(|c| c.values().sum::<usize>()),
        Some(8),
        "podinfo row of SOURCES.md: {:?}",
        counts.get("podinfo-chart-with-tests.yaml")
    );
    assert_eq!(
        counts
            .get("argo-rollouts-example-alb-experiment-step.yaml")
            .and_then(|c| c.get("Rollout.argoproj.io")),
        Some(&1)
    );
}

#[test]
fn split_docs_rule() {
    assert_eq!(
        split_docs("a: 1\n---\nb: 2\n"),
        vec!["a: 1\n", "---\nb: 2\n"]
    );
    assert_eq!(
        split_docs("---\na\n--- # c\nb"),
        vec!["---\na\n", "--- # c\nb"]
    );
    assert_eq!(
        split_docs("a: |\n  ---\n----\n"),
        vec!["a: |\n  ---\n----\n"]
    );
    assert_eq!(split_docs(""), vec![""]);
}

/// The oracle comparison accepts exactly the injection and nothing else.
#[test]
fn oracle_check_catches_other_changes() {
    util::oracle();
    let input = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: a\n    env:\n    - name: X\n      value: \"0644\"\n---\nkind: ConfigMap\ndata:\n  a: \"1\"\n";
    let output = process(input, &default_opts()).expect("process").output;
    let inj = Injected::default();
    assert_eq!(
        oracle_check(input.as_bytes(), output.as_bytes(), &inj),
        Vec::<String>::new()
    );
    // A YAML 1.1 change in the workload, and one in the ConfigMap.
    let bad = output.replace("value: \"0644\"", "value: 0644");
    assert_eq!(
        oracle_check(input.as_bytes(), bad.as_bytes(), &inj).len(),
        1,
        "{bad}"
    );
    let bad = output.replace("a: \"1\"", "a: 1");
    assert_eq!(
        oracle_check(input.as_bytes(), bad.as_bytes(), &inj).len(),
        1,
        "{bad}"
    );
    // An extra mount of another volume is not part of the injection.
    let bad = output.replace(
        "    volumeMounts:\n",
        "    volumeMounts:\n    - name: other\n      mountPath: /x\n",
    );
    assert_eq!(
        oracle_check(input.as_bytes(), bad.as_bytes(), &inj).len(),
        1,
        "{bad}"
    );
}

/// With `--ca-file`, every stream gets exactly one generated ConfigMap per namespace that
/// has an injected workload (none without), stays faithful, and is idempotent.
#[test]
fn corpus_with_ca_file_generates_one_configmap_per_namespace() {
    let Some(dir) = corpus_dir() else { return };
    let pem = format!("{}/testdata/pki/corp-root.pem", env!("CARGO_MANIFEST_DIR"));
    let settings = trust_inject::Settings::from_flat(
        [("ca-file", pem.as_str()), ("public-roots", "none")],
        "test",
    )
    .expect("valid settings");
    let mut opts = Options::from_settings(&settings).expect("valid options");
    opts.load_bundle().expect("the test CA reads");
    let mut failures = Vec::new();
    for path in corpus_files(&dir) {
        let name = file_name(&path);
        let input = read_text(&path);
        let out = match trust_inject::process(&input, &opts) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let namespaces: std::collections::BTreeSet<String> = out
            .workloads
            .iter()
            .filter(|w| w.skipped.is_none())
            .map(|w| w.object.namespace.clone().unwrap_or_default())
            .collect();
        let generated: Vec<&str> = out
            .output
            .split("\n---\n")
            .filter(|d| d.contains("trust-inject.dev/generated: \"true\""))
            .collect();
        if generated.len() != namespaces.len() {
            failures.push(format!(
                "{name}: {} generated ConfigMaps for namespaces {namespaces:?}",
                generated.len()
            ));
        }
        for ns in &namespaces {
            let want = if ns.is_empty() {
                String::new()
            } else {
                format!("  namespace: {ns}\n")
            };
            let found = generated
                .iter()
                .filter(|d| {
                    if ns.is_empty() {
                        !d.contains("\n  namespace: ")
                    } else {
                        d.contains(&want)
                    }
                })
                .count();
            if found != 1 {
                failures.push(format!(
                    "{name}: namespace {ns:?} has {found} generated ConfigMaps"
                ));
            }
        }
        if !util::is_line_subsequence(&input, &out.output) {
            failures.push(format!("{name}: an input line is missing from the output"));
        }
        match trust_inject::process(&out.output, &opts) {
            Ok(again) if again.output == out.output => {}
            Ok(_) => failures.push(format!("{name}: not idempotent with --ca-file")),
            Err(e) => failures.push(format!("{name}: the output does not process again: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
