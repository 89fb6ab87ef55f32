//! The official YAML test suite (`../shared/yaml-test-suite/data`, see its README) through
//! the binary (`--configmap corp-ca`):
//!
//! * a valid case (no `error` file) exits 0 and comes out byte for byte, unless Kubernetes
//!   cannot read it either (the `k8s-yaml2json` oracle rejects the stream or a document),
//!   in which case it must fail cleanly: exit 1-4, a message on stderr, nothing on stdout;
//! * an invalid case (`error` file) fails cleanly the same way;
//! * never a panic, a signal or a hang (each run has a generous 60 s timeout);
//! * every case's text, wrapped as a double-quoted string into a Deployment annotation
//!   and into a container's `args` item, survives injection: the workload is injected,
//!   the annotation and args lines are kept verbatim, and Kubernetes reads the same
//!   strings back from the output.
//!
//! The counts and every clean rejection of a valid case are printed (`--nocapture`).
//!
//! Without the suite's data, the test that needs it is listed as not run by
//! `scripts/test.sh` and fails anywhere else, CI included (`tests/util/external.rs`,
//! `docs/testing.md`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

mod util;

/// Generous: a run that takes this long is a hang, not a slow machine.
const TIMEOUT: Duration = Duration::from_secs(60);
const ARGS: &[&str] = &["--configmap", "corp-ca"];
const ANNOTATION_KEY: &str = "yaml-test-suite/in.yaml";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The suite's data folder, or `None` when it is absent and the calling test is recorded
/// as not run (see `util::external`).
fn suite_dir() -> Option<PathBuf> {
    util::external::data_dir(
        "../shared/yaml-test-suite/data",
        "the YAML test suite",
        "it lives beside the repository; see docs/testing.md",
    )
}

fn oracle() -> PathBuf {
    let tools = std::env::var_os("TRUST_INJECT_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tools"));
    let p = tools.join("bin").join("k8s-yaml2json");
    assert!(
        p.is_file(),
        "k8s-yaml2json not found at {}: run scripts/build-oracle.sh (see tests/oracle/README.md)",
        p.display()
    );
    p
}

/// One case of the suite: a folder with an `in.yaml`.
struct Case {
    id: String,
    input: Vec<u8>,
    is_error: bool,
}

fn cases(root: &Path) -> Vec<Case> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(root).expect("read the suite folder") {
        let dir = entry.expect("suite entry").path();
        if !dir.is_dir() {
            continue;
        }
        if dir.join("in.yaml").is_file() {
            dirs.push(dir.clone());
        }
        // Some cases hold numbered sub-cases (00, 01, ...).
        for sub in std::fs::read_dir(&dir).expect("read a case folder") {
            let sub = sub.expect("case entry").path();
            if sub.is_dir() && sub.join("in.yaml").is_file() {
                dirs.push(sub);
            }
        }
    }
    dirs.sort();
    let cases: Vec<Case> = dirs
        .into_iter()
        .map(|d| Case {
            id: d
                .strip_prefix(root)
                .expect("below the suite root")
                .display()
                .to_string(),
            input: std::fs::read(d.join("in.yaml"))
                .unwrap_or_else(|e| panic!("{}: {e}", d.display())),
            is_error: d.join("error").exists(),
        })
        .collect();
    assert!(
        cases.len() > 300,
        "only {} cases found in {}: is the suite complete?",
        cases.len(),
        root.display()
    );
    cases
}

/// What a run did.
struct Run {
    status: Option<ExitStatus>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Run {
    fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    /// A panic, a signal, a hang or an exit code outside the documented ones.
    fn crash(&self) -> Option<String> {
        let stderr = String::from_utf8_lossy(&self.stderr);
        match (self.status, self.code()) {
            (None, _) => Some(format!("no exit within {TIMEOUT:?} (killed)")),
            (Some(s), None) => Some(format!("killed by a signal ({s})")),
            _ if stderr.contains("panicked") => Some(format!("panic: {}", first_line(&stderr))),
            (_, Some(c)) if !(0..=4).contains(&c) => Some(format!(
                "undocumented exit code {c}: {}",
                first_line(&stderr)
            )),
            _ => None,
        }
    }

    /// Why this is not a clean failure (exit 1-4, a message, nothing on stdout), if it is
    /// not.
    fn unclean_failure(&self) -> Option<String> {
        if let Some(c) = self.crash() {
            return Some(c);
        }
        match self.code() {
            Some(0) => Some("exit 0".to_owned()),
            _ if !self.stdout.is_empty() => Some(format!(
                "{} bytes on stdout after a failure",
                self.stdout.len()
            )),
            _ if !String::from_utf8_lossy(&self.stderr).contains("error") => {
                Some("no error message on stderr".to_owned())
            }
            _ => None,
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
}

/// Runs `program` with `args`, feeding `stdin`, killing it after [`TIMEOUT`].
fn run(program: &Path, args: &[&str], stdin: &[u8]) -> Run {
    let input = stdin.to_vec();
    let (status, stdout, stderr) = util::run_timed(
        Command::new(program)
            .args(args)
            .env_remove("TRUST_INJECT_CONFIG")
            .env_remove("TRUST_INJECT_VERBOSE"),
        // The program may exit before reading everything (an early error); that is fine.
        move |mut pipe| {
            let _ = pipe.write_all(&input);
        },
        TIMEOUT,
    );
    Run {
        status,
        stdout,
        stderr,
    }
}

fn run_tool(stdin: &[u8]) -> Run {
    run(Path::new(env!("CARGO_BIN_EXE_trust-inject")), ARGS, stdin)
}

/// What Kubernetes reads: one JSON value per document, or why the whole stream is
/// rejected.
fn oracle_read(stream: &[u8]) -> Result<Vec<Value>, String> {
    let r = run(&oracle(), &[], stream);
    match r.code() {
        Some(0) => {}
        Some(1) => return Err(first_line(&String::from_utf8_lossy(&r.stderr)).to_owned()),
        _ => panic!(
            "k8s-yaml2json failed ({:?}): {}",
            r.status,
            String::from_utf8_lossy(&r.stderr)
        ),
    }
    String::from_utf8(r.stdout)
        .expect("oracle output is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).map_err(|e| format!("bad oracle line {l:?}: {e}")))
        .collect()
}

/// Why Kubernetes would not read the stream, if it would not.
fn kubernetes_objection(stream: &[u8]) -> Option<String> {
    match oracle_read(stream) {
        Err(e) => Some(format!("stream rejected: {e}")),
        Ok(docs) => docs
            .iter()
            .find_map(|d| d.get("error").and_then(Value::as_str))
            .map(|e| format!("document rejected: {e}")),
    }
}

/// `text` as a YAML double-quoted scalar that is pure ASCII: `"` and `\` escaped, every
/// other character outside printable ASCII as `\uXXXX` or `\UXXXXXXXX` (both YAML 1.1,
/// which Kubernetes reads, and YAML 1.2 know these escapes).
fn double_quoted(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push('"');
    for ch in text.chars() {
        match ch {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            ' '..='~' => s.push(ch),
            c if (c as u32) <= 0xFFFF => s.push_str(&format!("\\u{:04X}", c as u32)),
            c => s.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    s.push('"');
    s
}

/// Two Deployments: the text as an annotation value, and as a container's args item.
/// Returns the stream and the two lines that must come out verbatim.
fn wrapped(text: &str) -> (String, [String; 2]) {
    let q = double_quoted(text);
    let annotation = format!("    {ANNOTATION_KEY}: {q}\n");
    let arg = format!("        - {q}\n");
    let deployment = |name: &str, annotations: &str, args: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n{annotations}\
             spec:\n  selector:\n    matchLabels:\n      app: suite\n  template:\n    \
             metadata:\n      labels:\n        app: suite\n    spec:\n      containers:\n      \
             - name: app\n        image: busybox\n{args}"
        )
    };
    let stream = format!(
        "{}---\n{}",
        deployment(
            "in-annotation",
            &format!("  annotations:\n{annotation}"),
            ""
        ),
        deployment("in-args", "", &format!("        args:\n{arg}")),
    );
    (stream, [annotation, arg])
}

/// Checks the wrapped text; `Err` says what went wrong.
fn check_wrapped(text: &str) -> Result<(), String> {
    let (stream, lines) = wrapped(text);
    let r = run_tool(stream.as_bytes());
    if let Some(c) = r.crash() {
        return Err(c);
    }
    if r.code() != Some(0) {
        return Err(format!(
            "exit {:?}: {}",
            r.code(),
            first_line(&String::from_utf8_lossy(&r.stderr))
        ));
    }
    let out = String::from_utf8(r.stdout).map_err(|e| format!("output is not UTF-8: {e}"))?;
    let mounts = out.matches("mountPath: /etc/trust-inject\n").count();
    if mounts != 2 {
        return Err(format!(
            "{mounts} mounts of /etc/trust-inject in two workloads"
        ));
    }
    for line in &lines {
        if !out.contains(line.as_str()) {
            return Err(format!("line not kept verbatim: {line:?}"));
        }
    }
    // Kubernetes reads the same strings from the input and from the output.
    for (which, stream) in [("input", &stream), ("output", &out)] {
        let docs = oracle_read(stream.as_bytes()).map_err(|e| format!("{which}: {e}"))?;
        let ann = docs
            .first()
            .and_then(|d| d.pointer("/metadata/annotations"))
            .and_then(|a| a.get(ANNOTATION_KEY))
            .and_then(Value::as_str);
        let arg = docs
            .get(1)
            .and_then(|d| d.pointer("/spec/template/spec/containers/0/args/0"))
            .and_then(Value::as_str);
        if ann != Some(text) || arg != Some(text) {
            return Err(format!(
                "Kubernetes reads a different string from the {which}: annotation {ann:?}, \
                 args item {arg:?}"
            ));
        }
    }
    Ok(())
}

/// Maps `f` over `items` on two threads (the machine is shared), keeping the order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    results.lock().expect("results")[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("results")
        .into_iter()
        .map(|r| r.expect("every item mapped"))
        .collect()
}

/// How one case went through the binary on its own.
enum Outcome {
    /// Valid, exit 0, byte for byte.
    Passed,
    /// Valid YAML that Kubernetes cannot read either, refused cleanly.
    ValidRefused { message: String, kubernetes: String },
    /// Invalid YAML, refused cleanly.
    InvalidRefused,
    /// Invalid YAML 1.2 that Kubernetes reads (go-yaml v2 is more lenient), passed
    /// through byte for byte.
    InvalidReadLikeKubernetes,
    /// A panic, signal, hang or undocumented exit code.
    Crashed(String),
    /// Anything else that breaks the contract.
    Wrong(String),
}

fn check_plain(case: &Case) -> Outcome {
    let r = run_tool(&case.input);
    if let Some(c) = r.crash() {
        return Outcome::Crashed(c);
    }
    if case.is_error {
        if r.code() == Some(0)
            && r.stdout == case.input
            && kubernetes_objection(&case.input).is_none()
        {
            return Outcome::InvalidReadLikeKubernetes;
        }
        return match r.unclean_failure() {
            None => Outcome::InvalidRefused,
            Some(why) => Outcome::Wrong(format!("invalid YAML not refused cleanly: {why}")),
        };
    }
    if r.code() == Some(0) {
        return if r.stdout == case.input {
            Outcome::Passed
        } else {
            Outcome::Wrong(format!(
                "output differs from the input ({} bytes in, {} out)",
                case.input.len(),
                r.stdout.len()
            ))
        };
    }
    if let Some(why) = r.unclean_failure() {
        return Outcome::Wrong(format!("valid YAML refused, and not cleanly: {why}"));
    }
    let message = first_line(&String::from_utf8_lossy(&r.stderr)).to_owned();
    match kubernetes_objection(&case.input) {
        Some(kubernetes) => Outcome::ValidRefused {
            message,
            kubernetes,
        },
        None => Outcome::Wrong(format!(
            "valid YAML that Kubernetes reads was refused: {message}"
        )),
    }
}

#[test]
fn yaml_test_suite_through_the_binary() {
    let Some(root) = suite_dir() else { return };
    let cases = cases(&root);
    let results = par_map(&cases, |c| {
        let plain = check_plain(c);
        let wrap = std::str::from_utf8(&c.input)
            .map_err(|e| format!("in.yaml is not UTF-8: {e}"))
            .and_then(check_wrapped);
        (plain, wrap)
    });

    let (mut passed, mut invalid_refused, mut crashed) = (0, 0, 0);
    let mut read_like_kubernetes = 0;
    let mut valid_refused = Vec::new();
    let mut failures = Vec::new();
    let mut wrapped_ok = 0;
    for (case, (plain, wrap)) in cases.iter().zip(&results) {
        match plain {
            Outcome::Passed => passed += 1,
            Outcome::InvalidRefused => invalid_refused += 1,
            Outcome::InvalidReadLikeKubernetes => read_like_kubernetes += 1,
            Outcome::ValidRefused {
                message,
                kubernetes,
            } => valid_refused.push(format!(
                "  {}: {message}\n      (Kubernetes: {kubernetes})",
                case.id
            )),
            Outcome::Crashed(why) => {
                crashed += 1;
                failures.push(format!("{}: CRASH: {why}", case.id));
            }
            Outcome::Wrong(why) => failures.push(format!("{}: {why}", case.id)),
        }
        match wrap {
            Ok(()) => wrapped_ok += 1,
            Err(why) => {
                if why.contains("panic") || why.contains("signal") || why.contains("killed") {
                    crashed += 1;
                }
                failures.push(format!("{}: wrapped in a Deployment: {why}", case.id));
            }
        }
    }
    let valid = cases.iter().filter(|c| !c.is_error).count();
    println!(
        "yaml-test-suite: {} cases ({valid} valid, {} invalid)\n  \
         valid, passed byte for byte: {passed}\n  \
         valid, refused cleanly (Kubernetes cannot read them either): {}\n  \
         invalid, refused cleanly: {invalid_refused}\n  \
         invalid, but read as Kubernetes reads them, byte for byte: {read_like_kubernetes}\n  \
         errored cleanly in all: {}\n  \
         crashed: {crashed}\n  \
         wrapped into an annotation and an args item, injected and kept: {wrapped_ok} of {}",
        cases.len(),
        cases.len() - valid,
        valid_refused.len(),
        valid_refused.len() + invalid_refused,
        cases.len(),
    );
    if !valid_refused.is_empty() {
        println!("valid cases refused cleanly:\n{}", valid_refused.join("\n"));
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases broke the contract (crashed: {crashed}):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert_eq!(crashed, 0);
}

#[test]
fn double_quoted_reads_back_as_the_same_string() {
    let text = "a\"b\\c\td\n\u{7f}é\u{FEFF}😀 \r";
    let (stream, _) = wrapped(text);
    let docs = oracle_read(stream.as_bytes()).expect("the oracle reads the wrapper");
    assert_eq!(
        docs[0]
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(ANNOTATION_KEY))
            .and_then(Value::as_str),
        Some(text)
    );
}
