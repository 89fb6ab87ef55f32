//! Hostile inputs through the binary: each gives correct output or a clean error (exit
//! 1-4, a message naming the place, nothing on stdout), never a panic, a signal or a
//! hang. Every run has a generous timeout (60 s) to catch hangs; speed and memory are
//! measured by `scripts/hostile.sh`, not here.
//!
//! Inputs that crashed the fuzzers (`scripts/fuzz.sh`) are added here as regression tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::time::Duration;

mod util;

const TIMEOUT: Duration = Duration::from_secs(60);

/// A workload to carry hostile content; `{extra_meta}` goes under `metadata`, `{extra}`
/// under the container.
fn deployment(extra_meta: &str, extra: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n{extra_meta}spec:\n  \
         selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        \
         app: web\n    spec:\n      containers:\n      - name: app\n        image: nginx\n{extra}"
    )
}

const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n";

struct Run {
    status: Option<ExitStatus>,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn describe(&self) -> String {
        format!(
            "status {:?}, {} bytes on stdout, stderr:\n{}",
            self.status,
            self.stdout.len(),
            self.stderr.chars().take(2000).collect::<String>()
        )
    }

    /// Asserts: no crash, no hang, exit 0.
    fn assert_ok(&self) -> &str {
        assert!(
            !self.stderr.contains("panicked"),
            "panic: {}",
            self.describe()
        );
        assert_eq!(
            self.status.and_then(|s| s.code()),
            Some(0),
            "{}",
            self.describe()
        );
        std::str::from_utf8(&self.stdout).expect("output is UTF-8")
    }

    /// Asserts a clean failure with exit `code`, nothing on stdout, and a message that
    /// contains every one of `words`.
    fn assert_clean_error(&self, code: i32, words: &[&str]) {
        assert!(
            !self.stderr.contains("panicked"),
            "panic: {}",
            self.describe()
        );
        assert!(self.status.is_some(), "hang: {}", self.describe());
        assert_eq!(
            self.status.and_then(|s| s.code()),
            Some(code),
            "{}",
            self.describe()
        );
        assert!(
            self.stdout.is_empty(),
            "partial output after an error: {}",
            self.describe()
        );
        assert!(
            self.stderr.starts_with("trust-inject: error: "),
            "{}",
            self.describe()
        );
        for w in words {
            assert!(
                self.stderr.contains(w),
                "the message lacks {w:?}: {}",
                self.describe()
            );
        }
    }
}

/// Runs the binary with `args`; `feed` writes standard input (errors writing it, such as
/// a closed pipe after an early refusal, are the feeder's to ignore).
fn run_with(args: &[&str], feed: impl FnOnce(ChildStdin) + Send + 'static) -> Run {
    let (status, stdout, stderr) = util::run_timed(
        Command::new(env!("CARGO_BIN_EXE_trust-inject"))
            .args(args)
            .env_remove("TRUST_INJECT_CONFIG")
            .env_remove("TRUST_INJECT_VERBOSE")
            .env_remove("TRUST_INJECT_MAX_INPUT_BYTES")
            .env_remove("TRUST_INJECT_MAX_DEPTH")
            .env_remove("TRUST_INJECT_MAX_ALIAS_NODES"),
        feed,
        TIMEOUT,
    );
    let run = Run {
        status,
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    };
    assert!(
        run.status.is_some(),
        "no exit within {TIMEOUT:?}: {}",
        run.describe()
    );
    run
}

fn run(input: impl Into<Vec<u8>>) -> Run {
    let input = input.into();
    run_with(&["--configmap", "corp-ca"], move |mut stdin| {
        let _ = stdin.write_all(&input);
    })
}

/// `depth` nested aliases, each list holding nine copies of the one before: 9^depth
/// nodes once expanded.
fn laughs(indent: &str, depth: usize) -> String {
    let mut s = format!(
        "{indent}a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    );
    for i in 1..=depth {
        let p = format!("*a{}", i - 1);
        s.push_str(&format!(
            "{indent}a{i}: &a{i} [{}]\n",
            [p.as_str(); 9].join(",")
        ));
    }
    s
}

fn oracle() -> PathBuf {
    let tools = std::env::var_os("TRUST_INJECT_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools"));
    let p = tools.join("bin").join("k8s-yaml2json");
    assert!(
        p.is_file(),
        "k8s-yaml2json not found at {}: run scripts/build-oracle.sh (see tests/oracle/README.md)",
        p.display()
    );
    p
}

/// Billion laughs in a workload: the tool must expand aliases to inject, so it must stop
/// at the limit and say which document. Exit 3: docs/usage.md lists "over a limit" as an
/// input error.
#[test]
fn alias_bomb_in_a_deployment_is_refused_naming_the_document() {
    let bomb = deployment("", "").replace(
        "spec:\n  selector:",
        &format!("spec:\n  bomb:\n{}  selector:", laughs("    ", 9)),
    );
    let input = format!("{CONFIG_MAP}---\n{bomb}");
    let r = run(input.clone());
    r.assert_clean_error(
        3,
        &["document 2", "excessive aliasing", "--max-alias-nodes"],
    );

    // Kubernetes refuses it too.
    let mut child = Command::new(oracle())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start k8s-yaml2json");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.as_bytes())
        .expect("write to k8s-yaml2json");
    let out = child.wait_with_output().expect("k8s-yaml2json");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .nth(1)
            .is_some_and(|l| l.contains("excessive aliasing")),
        "k8s-yaml2json: {text}"
    );
}

/// The same bomb in a document the tool does not edit is not expanded: it comes out
/// byte for byte, quickly (Kubernetes will refuse it at apply time).
#[test]
fn alias_bomb_in_a_config_map_passes_through_unexpanded() {
    let input = format!("{CONFIG_MAP}data:\n  x: y\nbomb:\n{}", laughs("  ", 9));
    let r = run(input.clone());
    assert_eq!(r.assert_ok(), input);
}

#[test]
fn flow_nesting_100000_deep_in_a_deployment_is_refused() {
    let n = 100_000;
    let input = deployment(
        "",
        &format!("        args: {}{}\n", "[".repeat(n), "]".repeat(n)),
    );
    run(input).assert_clean_error(3, &["document 1", "Deployment web"]);
}

#[test]
fn block_nesting_100000_deep_is_refused() {
    let n = 100_000;
    let input = format!("{CONFIG_MAP}---\n{}x\n", "- ".repeat(n));
    run(input).assert_clean_error(3, &["document 2", "deeper than 1000"]);
}

#[test]
fn block_mapping_nesting_within_the_limit_passes_through() {
    // 900 levels (under the default 1000): accepted, byte for byte.
    let mut input = String::from(CONFIG_MAP);
    input.push_str("data: {}\nnested:\n");
    for i in 0..900 {
        input.push_str(&format!("{}k{i}:\n", " ".repeat(2 * i + 2)));
    }
    let r = run(input.clone());
    assert_eq!(r.assert_ok(), input);
}

#[test]
fn one_megabyte_single_line_scalars() {
    let big = "x".repeat(1 << 20);
    let quoted = format!("\"{}\"", "y".repeat(1 << 20));
    let input = format!(
        "{CONFIG_MAP}data:\n  big: {big}\n---\n{}",
        deployment(&format!("  annotations:\n    big: {quoted}\n"), "")
    );
    let r = run(input.clone());
    let out = r.assert_ok();
    assert!(out.starts_with(&input[..input.find("---\n").expect("a separator")]));
    assert!(out.contains(&format!("\n    big: {quoted}\n")));
    assert_eq!(out.matches("mountPath: /etc/trust-inject\n").count(), 1);
}

#[test]
fn a_million_tiny_documents() {
    let input = "---\na: 1\n".repeat(1_000_000);
    let r = run(input.clone());
    assert!(r.assert_ok() == input, "the output differs from the input");
}

#[test]
fn a_million_keys_in_one_document() {
    let keys: String = (0..1_000_000).map(|i| format!("  k{i}: v\n")).collect();
    let input = format!("{CONFIG_MAP}data:\n{keys}");
    let r = run(input.clone());
    assert!(r.assert_ok() == input, "the ConfigMap changed");

    // The same keys as annotations of a workload, which the tool must read to inject.
    let annotations: String = keys.lines().map(|l| format!("  {l}\n")).collect();
    let input = deployment(&format!("  annotations:\n{annotations}"), "");
    // Over the workload document limit (Kubernetes stores no object that large): a clean
    // error naming the document; with the limit raised, it is injected.
    run(input.clone()).assert_clean_error(3, &["document 1", "Deployment", "--max-workload-bytes"]);
    let r = run_with(
        &["--configmap", "corp-ca", "--max-workload-bytes", "67108864"],
        {
            let input = input.clone();
            move |mut stdin| {
                let _ = stdin.write_all(input.as_bytes());
            }
        },
    );
    let out = r.assert_ok();
    let object_metadata = &input[..input.find("spec:\n").expect("the spec")];
    assert!(
        out.starts_with(object_metadata),
        "the workload's own metadata and its million annotations come out as they were"
    );
    assert_eq!(out.matches("mountPath: /etc/trust-inject\n").count(), 1);
}

/// Two gigabytes on standard input, over the default 256 MiB limit: a clean input error.
/// The input is generated on the fly; the feeder stops when the tool closes the pipe.
#[test]
fn two_gigabytes_on_stdin_are_refused() {
    let r = run_with(&["--configmap", "corp-ca"], |mut stdin| {
        let block = "a: 1\n".repeat(1 << 16).into_bytes();
        let mut written = 0u64;
        while written < 2 << 30 {
            if stdin.write_all(&block).is_err() {
                return;
            }
            written += block.len() as u64;
        }
    });
    r.assert_clean_error(3, &["larger than 268435456 bytes", "--max-input-bytes"]);
}

#[test]
fn a_lowered_input_limit_is_enforced_for_files_too() {
    let dir = util::TempDir::new("hostile");
    let file = dir.join("big.yaml");
    std::fs::write(&file, "a: 1\n".repeat(400_000)).expect("write");
    let path = file.to_str().expect("UTF-8 path").to_owned();
    let r = run_with(
        &[
            "--configmap",
            "corp-ca",
            "--max-input-bytes",
            "1000000",
            &path,
        ],
        |_| {},
    );
    r.assert_clean_error(3, &["larger than 1000000 bytes"]);
}

#[test]
fn invalid_utf8_is_refused() {
    let mut input = deployment("", "").into_bytes();
    input.extend_from_slice(b"        args: [\"\xff\xfe\"]\n");
    run(input).assert_clean_error(3, &["not UTF-8", "offset"]);
    // A lone continuation byte, and a truncated sequence at the very end.
    run(b"a: \x80\n".to_vec()).assert_clean_error(3, &["not UTF-8"]);
    run(b"a: \xe2\x82".to_vec()).assert_clean_error(3, &["not UTF-8"]);
}

#[test]
fn nul_bytes_are_refused_naming_the_document() {
    run(format!("{CONFIG_MAP}data:\n  a: b\0c\n")).assert_clean_error(3, &["document 1"]);
    let input = format!(
        "{CONFIG_MAP}---\n{}",
        deployment("", "        args: [\"a\0b\"]\n")
    );
    run(input).assert_clean_error(3, &["document 2"]);
    run("\0".repeat(1000)).assert_clean_error(3, &["document 1"]);
}

#[test]
fn a_hundred_thousand_containers_each_get_their_mounts() {
    let containers: String = (0..100_000)
        .map(|i| format!("      - name: c{i}\n        image: nginx\n"))
        .collect();
    let input =
        deployment("", "").replace("      - name: app\n        image: nginx\n", &containers);
    run(input.clone()).assert_clean_error(3, &["document 1", "--max-workload-bytes"]);
    let r = run_with(
        &["--configmap", "corp-ca", "--max-workload-bytes", "67108864"],
        move |mut stdin| {
            let _ = stdin.write_all(input.as_bytes());
        },
    );
    let out = r.assert_ok();
    assert_eq!(
        out.matches("mountPath: /etc/trust-inject\n").count(),
        100_000
    );
    assert_eq!(
        out.matches("mountPath: /etc/ssl/certs/trust-inject-ca.crt\n")
            .count(),
        100_000
    );
}

#[test]
fn a_hundred_thousand_quoted_scalars_continued_below_their_key_end_cleanly() {
    // go-yaml v2 reads each; every one costs the lenient reader a repair, and the repairs'
    // work is bounded: the document is refused naming its place, not read for minutes.
    let mut input = String::from(CONFIG_MAP);
    input.push_str("data:\n");
    for i in 0..100_000 {
        input.push_str(&format!("  k{i}: \"a\nb\"\n"));
    }
    run(input).assert_clean_error(3, &["document 1", "ConfigMap settings", "quoted scalar"]);
}

#[test]
fn a_five_thousand_line_flow_collection_below_its_key_is_read() {
    // `toPrettyJson` rendered without `nindent`: every line at column 0. One repair covers
    // the whole collection (a repair per line would exceed the lenient reader's budget).
    let mut extra = String::from("        args: [\n");
    for i in 0..5000 {
        extra.push_str(&format!("\"--flag-{i}\",\n"));
    }
    extra.push_str("\"--last\"\n]\n");
    let input = deployment("", &extra);
    let out = run(input.clone()).assert_ok().to_owned();
    assert!(out.contains(&extra[..extra.find("]\n").expect("the bracket")]));
    assert!(out.contains("mountPath: /etc/trust-inject"));
}
