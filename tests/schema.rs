//! Every PodSpec of every golden output (stream and KRM cases) validates strictly (no
//! unknown field, every required one, the right types) against the Kubernetes 1.33 OpenAPI
//! schema, read the way the API server reads the output: through the Go reader
//! (`k8s-yaml2json`), each PodSpec put in a bare Pod. The one exception is a PodSpec that the
//! case's input already holds invalid in the same way (a chart's own mistake, such as a key
//! named `<<`): the injection must not make a valid PodSpec invalid, and cannot repair one.
//!
//! The validator is `kubernetes-validate` from PyPI, installed into `target/tmp` by
//! `scripts/install-schema-check.sh`, which the test runs (it installs only what is missing).

mod util;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use util::{oracle_read, pod_specs, read, repo_root};

/// The Kubernetes version the PodSpecs must validate against (ClusterTrustBundle
/// projections are beta there).
const KUBERNETES: &str = "1.33.0";

/// Every golden case with an expected output: `(input, expected output)`.
fn cases() -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for dir in ["testdata/stream", "testdata/krm"] {
        for e in std::fs::read_dir(repo_root().join(dir)).expect("golden cases") {
            let path = e.expect("entry").path();
            if path.join("expected.yaml").exists() && path.join("input.yaml").exists() {
                out.push((path.join("input.yaml"), path.join("expected.yaml")));
            }
        }
    }
    out.sort();
    out
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
    let mut inputs: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut with_merge = 0;
    for (input, expected) in cases() {
        let case_name = expected
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .unwrap_or("case")
            .to_owned();
        let specs_of = |file: &Path| -> Vec<Value> {
            let docs =
                oracle_read(&read(file)).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let mut specs = Vec::new();
            docs.iter().for_each(|d| pod_specs(d, &mut specs));
            specs.into_iter().cloned().collect()
        };
        let out_specs = specs_of(&expected);
        // The input's PodSpecs, where they pair one to one with the output's.
        let in_specs = oracle_read(&read(&input))
            .ok()
            .map(|docs| {
                let mut specs = Vec::new();
                docs.iter().for_each(|d| pod_specs(d, &mut specs));
                specs.into_iter().cloned().collect::<Vec<Value>>()
            })
            .filter(|s| s.len() == out_specs.len());
        let pod_file = |spec: &Value, name: String| {
            let pod = json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name},
                "spec": spec,
            });
            let file = dir.join(format!("{name}.json"));
            std::fs::write(&file, pod.to_string()).expect("pod file");
            file
        };
        for (i, spec) in out_specs.iter().enumerate() {
            if spec.to_string().contains("trust-bundle-merge") {
                with_merge += 1;
            }
            let out_file = pod_file(spec, format!("{case_name}-{i}"));
            if let Some(in_spec) = in_specs.as_ref().and_then(|s| s.get(i)) {
                let in_file = pod_file(in_spec, format!("{case_name}-{i}-input"));
                inputs.push((out_file.clone(), in_file));
            }
            files.push(out_file);
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

    let mut all = files.clone();
    all.extend(inputs.iter().map(|(_, i)| i.clone()));
    let (_, text) = validate(&program, &all);
    // "ERROR <file> did not validate for resource pod/<name> ...: <why>", one line a file.
    let failure = |file: &Path| -> Option<String> {
        let prefix = format!("ERROR {} did not validate", file.display());
        text.lines()
            .find(|l| l.starts_with(&prefix))
            .map(|l| l.split_once(": ").map_or(l, |(_, why)| why).to_owned())
    };
    let mut rejected = Vec::new();
    let mut inherited = Vec::new();
    for file in &files {
        let Some(why) = failure(file) else { continue };
        let same_in_input = inputs
            .iter()
            .find(|(o, _)| o == file)
            .and_then(|(_, i)| failure(i))
            .is_some_and(|input_why| input_why == why);
        if same_in_input {
            inherited.push(file.display().to_string());
        } else {
            rejected.push(format!("{}: {why}", file.display()));
        }
    }
    assert!(
        rejected.is_empty(),
        "PodSpecs that Kubernetes {KUBERNETES} would reject ({} checked):\n{}\n{text}",
        files.len(),
        rejected.join("\n")
    );
    // What the chart itself got wrong (a key named `<<`, a custom resource whose
    // `containers` is not a PodSpec) stays as it was: the injection neither causes nor
    // repairs it.
    for f in &inherited {
        eprintln!("schema: invalid as in its input: {f}");
    }
    let inherited = inherited.len();
    eprintln!(
        "schema: {} PodSpecs of {} cases valid against Kubernetes {KUBERNETES} ({inherited} invalid as in their input)",
        files.len() - inherited,
        cases().len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
