//! KRM function golden cases: `testdata/krm/<case>/` holds `input.yaml` (one
//! `ResourceList`, given on standard input), `expected.yaml` (the exact standard output),
//! an optional `exit-code` (default 0) and optional `args` (extra arguments, one a line).
//! The binary runs in the case directory with an environment holding nothing but `PATH`,
//! so no `TRUST_INJECT_*`, Argo CD or Helm variable of the caller leaks in.
//!
//! Every successful case is run a second time on its own output and must give the same
//! bytes (kpt runs a Kptfile pipeline on every `kpt fn render`).
//!
//! `UPDATE_GOLDEN=1 cargo test --test krm` rewrites `expected.yaml`; review the diff.

mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cases_dir() -> PathBuf {
    util::repo_root().join("testdata").join("krm")
}

/// The binary in `dir` with nothing but PATH in its environment.
fn run(dir: &Path, args: &[String], stdin: &[u8]) -> Output {
    util::run_with_stdin(
        Command::new(env!("CARGO_BIN_EXE_trust-inject"))
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default()),
        stdin,
    )
}

fn run_case(name: &str) {
    let dir = cases_dir().join(name);
    assert!(dir.is_dir(), "case directory {} is missing", dir.display());
    let input = std::fs::read(dir.join("input.yaml")).expect("input.yaml");
    let args: Vec<String> = std::fs::read_to_string(dir.join("args"))
        .map(|a| {
            a.lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let want_code: i32 = std::fs::read_to_string(dir.join("exit-code"))
        .map(|c| c.trim().parse().expect("exit-code holds a number"))
        .unwrap_or(0);
    let expected_path = dir.join("expected.yaml");

    let out = run(&dir, &args, &input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&expected_path, &out.stdout).expect("write expected.yaml");
    }
    let expected = std::fs::read(&expected_path)
        .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));

    let mut failures = Vec::new();
    if code != want_code {
        failures.push(format!("exit code {code}, expected {want_code}"));
    }
    if out.stdout != expected {
        failures.push(format!(
            "standard output differs from expected.yaml:\n{}",
            util::line_diff(
                &String::from_utf8_lossy(&expected),
                &String::from_utf8_lossy(&out.stdout)
            )
        ));
    }
    if want_code == 0 && code == 0 {
        let again = run(&dir, &args, &out.stdout);
        if again.status.code() != Some(0) {
            failures.push(format!(
                "second run on the output failed ({}): {}",
                again.status,
                String::from_utf8_lossy(&again.stderr)
            ));
        } else if again.stdout != out.stdout {
            failures.push(format!(
                "second run on the output is not idempotent:\n{}",
                util::line_diff(
                    &String::from_utf8_lossy(&out.stdout),
                    &String::from_utf8_lossy(&again.stdout)
                )
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "KRM case {name}:\n{}\n--- standard error:\n{stderr}",
        failures.join("\n")
    );
}

macro_rules! cases {
    ($($test:ident => $dir:literal,)*) => {
        $(
            #[test]
            fn $test() {
                run_case($dir);
            }
        )*

        /// Every directory under testdata/krm is listed above (a case cannot be forgotten).
        #[test]
        fn every_case_directory_is_run() {
            let listed = [$($dir),*];
            let mut missing = Vec::new();
            for e in std::fs::read_dir(cases_dir()).expect("testdata/krm") {
                let e = e.expect("dir entry");
                if e.path().is_dir() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if !listed.contains(&name.as_str()) {
                        missing.push(name);
                    }
                }
            }
            assert!(missing.is_empty(), "add these cases to tests/krm.rs: {missing:?}");
        }
    };
}

cases! {
    items_untouched_configmap_fn_config => "items-untouched-configmap-fn-config",
    trust_injection_fn_config => "trust-injection-fn-config",
    warnings_windows_and_user_env => "warnings-windows-and-user-env",
    existing_results_appended => "existing-results-appended",
    generated_configmap_from_files => "generated-configmap-from-files",
    flags_override_function_config => "flags-override-function-config",
    error_bad_function_config => "error-bad-function-config",
    error_unknown_function_config_kind => "error-unknown-function-config-kind",
    error_conflicting_volume => "error-conflicting-volume",
    rerun_excluded_namespace => "rerun-excluded-namespace",
    error_generated_collides => "error-generated-collides",
    merge_at_start_trust_injection => "merge-at-start-trust-injection",
    merge_at_start_configmap_fn_config => "merge-at-start-configmap-fn-config",
    proxy_configmap_fn_config => "proxy-configmap-fn-config",
}

/// The committed test CA is a certificate only: no private key may ever be committed.
#[test]
fn test_ca_has_no_private_key() {
    for e in std::fs::read_dir(cases_dir()).expect("testdata/krm") {
        let path = e.expect("dir entry").path();
        if path.is_file() {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                !text.contains("PRIVATE KEY"),
                "{} holds a private key",
                path.display()
            );
        }
    }
    let pem = std::fs::read_to_string(cases_dir().join("test-ca.pem")).expect("test-ca.pem");
    assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 1);
}
