//! Every PodSpec of the golden outputs of the start-up merge, ClusterTrustBundle and
//! source-key cases validates strictly (no unknown field, every required one, the right
//! types) against the Kubernetes 1.33 OpenAPI schema, read the way the API server reads the
//! output: through the Go reader (`k8s-yaml2json`), each PodSpec put in a bare Pod.
//!
//! The validator is `kubernetes-validate` from PyPI, installed into `target/tmp` by
//! `scripts/install-schema-check.sh`, which the test runs (it installs only what is missing).

mod util;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use util::{oracle_read, read, repo_root};

/// The Kubernetes version the PodSpecs must validate against (ClusterTrustBundle
/// projections are beta there).
const KUBERNETES: &str = "1.33.0";

/// The golden cases whose outputs are checked: those of the start-up merge, the
/// ClusterTrustBundle source, the partial-trust notice and the source key.
fn cases() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (dir, prefixes) in [
        (
            "testdata/stream",
            &[
                "merge-",
                "ctb-",
                "partial-trust-",
                "source-key-",
                "missing-key-",
            ][..],
        ),
        ("testdata/krm", &["merge-at-start-"][..]),
    ] {
        for e in std::fs::read_dir(repo_root().join(dir)).expect("golden cases") {
            let path = e.expect("entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if prefixes.iter().any(|p| name.starts_with(p)) && path.join("expected.yaml").exists() {
                out.push(path.join("expected.yaml"));
            }
        }
    }
    out.sort();
    out
}

/// Every PodSpec (an object with a `containers` list) under `v`.
fn pod_specs<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            if matches!(m.get("containers"), Some(Value::Array(_))) {
                out.push(v);
            }
            m.values().for_each(|x| pod_specs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| pod_specs(x, out)),
        _ => {}
    }
}

fn validator() -> PathBuf {
    let script = repo_root().join("scripts/install-schema-check.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} could not install kubernetes-validate (it needs python3 with venv and PyPI): {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn validate(program: &Path, files: &[PathBuf]) -> (bool, String) {
    let out = Command::new(program)
        .args(["--strict", "--quiet", "-k", KUBERNETES])
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn every_pod_spec_of_the_outputs_validates_against_kubernetes_1_33() {
    let program = validator();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("schema-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    let mut files = Vec::new();
    let mut with_merge = 0;
    for case in cases() {
        let docs = oracle_read(&read(&case)).unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let mut specs = Vec::new();
        docs.iter().for_each(|d| pod_specs(d, &mut specs));
        let case_name = case
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .unwrap_or("case")
            .to_owned();
        for (i, spec) in specs.into_iter().enumerate() {
            if spec.to_string().contains("trust-bundle-merge") {
                with_merge += 1;
            }
            let pod = json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": format!("{case_name}-{i}")},
                "spec": spec,
            });
            let file = dir.join(format!("{case_name}-{i}.json"));
            std::fs::write(&file, pod.to_string()).expect("pod file");
            files.push(file);
        }
    }
    assert!(
        with_merge >= 10,
        "the cases hold merge init containers ({with_merge})"
    );

    // The validator itself rejects what it must: an unknown field in a container.
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bad"},
               "spec": {"containers": [{"name": "a", "image": "x", "bogus": 1}]}})
        .to_string(),
    )
    .expect("bad pod");
    let (ok, text) = validate(&program, std::slice::from_ref(&bad));
    assert!(
        !ok && text.contains("bogus"),
        "the validator is strict: {text}"
    );

    let (ok, text) = validate(&program, &files);
    assert!(
        ok,
        "PodSpecs that Kubernetes {KUBERNETES} would reject ({} checked):\n{text}",
        files.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
