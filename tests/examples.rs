//! Every example under `examples/` that ships an expected output still produces it, byte for
//! byte, and is idempotent.

use std::process::Command;

fn run(dir: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_trust-inject"))
        .current_dir(format!("{}/examples/{dir}", env!("CARGO_MANIFEST_DIR")))
        .args(args)
        .output()
        .expect("the binary runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn plain_pipe_example() {
    let got = run(
        "plain",
        &[
            "-q",
            "--ca-file",
            "corp-root-ca.pem",
            "--public-roots",
            "none",
            "manifests.yaml",
        ],
    );
    let want = std::fs::read_to_string(format!(
        "{}/examples/plain/expected.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("expected.yaml");
    assert_eq!(got, want, "examples/plain/expected.yaml is out of date");
    let dir = std::env::temp_dir().join(format!("trust-inject-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
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
    let got = run(
        "plain",
        &[
            "-q",
            "--diff",
            "--ca-file",
            "corp-root-ca.pem",
            "--public-roots",
            "none",
            "manifests.yaml",
        ],
    );
    let want = std::fs::read_to_string(format!(
        "{}/examples/plain/expected.diff",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("expected.diff");
    assert_eq!(got, want, "examples/plain/expected.diff is out of date");
    assert!(
        got.lines()
            .all(|l| !l.starts_with('-') || l.starts_with("---")),
        "the injection only adds lines"
    );
}
