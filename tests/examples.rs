//! Every example under `examples/` that ships an expected output still produces it, byte for
//! byte, and is idempotent.

use std::process::Command;

mod util;

/// The binary's standard output for `args`, run in `examples/<dir>`; the test fails unless
/// it succeeds.
fn run(dir: &str, args: &[&str]) -> String {
    util::run_ok(
        Command::new(env!("CARGO_BIN_EXE_trust-inject"))
            .current_dir(format!("{}/examples/{dir}", env!("CARGO_MANIFEST_DIR")))
            .args(args),
    )
}

/// The plain example as the README runs it (`-q`, then `extra`, then its CA file without
/// public roots, on manifests.yaml), and the file it ships as the expected output.
fn plain_example(extra: &[&str], expected: &str) -> (String, String) {
    let mut args = vec!["-q"];
    args.extend(extra);
    args.extend([
        "--ca-file",
        "corp-root-ca.pem",
        "--public-roots",
        "none",
        "manifests.yaml",
    ]);
    let want = std::fs::read_to_string(format!(
        "{}/examples/plain/{expected}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_else(|e| panic!("{expected}: {e}"));
    (run("plain", &args), want)
}

#[test]
fn plain_pipe_example() {
    let (got, want) = plain_example(&[], "expected.yaml");
    assert_eq!(got, want, "examples/plain/expected.yaml is out of date");
    let dir = util::TempDir::new("example");
    let again = dir.join("injected.yaml");
    std::fs::write(&again, &got).expect("write");
    let pem = format!(
        "{}/examples/plain/corp-root-ca.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    let twice = run(
        "plain",
        &[
            "-q",
            "--ca-file",
            &pem,
            "--public-roots",
            "none",
            again.to_str().expect("utf-8 path"),
        ],
    );
    assert_eq!(twice, got, "not idempotent");
}

#[test]
fn readme_main_command_runs_on_the_example() {
    // The README's first command, without cargo around it (tests/snippets.rs runs it as
    // written): a diff that a person can read, shipped as expected.diff.
    let (got, want) = plain_example(&["--diff"], "expected.diff");
    assert_eq!(got, want, "examples/plain/expected.diff is out of date");
    assert!(
        got.lines()
            .all(|l| !l.starts_with('-') || l.starts_with("---")),
        "the injection only adds lines"
    );
}
