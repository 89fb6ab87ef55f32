//! What a test needs from outside the repository: data sets that live beside the checkout
//! (`../shared/corpus`, `../shared/yaml-test-suite`, see `docs/testing.md`) and tools no
//! reachable package registry publishes (kpt).
//!
//! A test whose need is missing never passes silently:
//!
//! * under CI (`CI` set to anything but empty, `0` or `false`) it fails: CI must run it;
//! * when `TRUST_INJECT_NOT_RUN` names a file (`scripts/test.sh` sets it), the test appends
//!   one record `<suite file>\t<test name>\t<reason>` to that file and returns; the script
//!   counts it as *not run*, not as passed, and lists it with the reason in its summary;
//! * run any other way (a bare `cargo test`), it fails, saying what is missing and how to
//!   get it.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The environment variable naming the file of "not run" records.
pub const NOT_RUN_ENV: &str = "TRUST_INJECT_NOT_RUN";

/// Whether this is a CI run (`CI` set, and not empty, `0` or `false`), where every test must
/// run.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE"))
}

/// `rel` (relative to the repository root, e.g. `../shared/corpus`) when it is a folder;
/// otherwise `None` after recording the calling test as not run (or a failure, see the
/// module documentation). `what` names the data, `how` says how to get it.
#[track_caller]
pub fn data_dir(rel: &str, what: &str, how: &str) -> Option<PathBuf> {
    let dir = super::repo_root().join(rel);
    if dir.is_dir() {
        return Some(dir);
    }
    not_run(&format!("{what} not found at {rel} ({how})"))
}

/// The first of `candidates` that is a file; otherwise `None` after recording the calling
/// test as not run (or a failure, see the module documentation).
#[track_caller]
pub fn tool(name: &str, candidates: &[PathBuf], how: &str) -> Option<PathBuf> {
    if let Some(p) = candidates.iter().find(|p| p.is_file()) {
        return Some(p.clone());
    }
    let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
    not_run(&format!(
        "{name} not found (looked at {}; {how})",
        looked.join(", ")
    ))
}

/// Where kpt may be: `$KPT_BIN` alone when it is set (as for `scripts/install-tools.sh`),
/// else the tools folder's link and `/usr/bin/kpt`.
pub fn kpt_candidates(tools_bin: &Path) -> Vec<PathBuf> {
    match std::env::var_os("KPT_BIN").filter(|v| !v.is_empty()) {
        Some(p) => vec![PathBuf::from(p)],
        None => vec![tools_bin.join("kpt"), PathBuf::from("/usr/bin/kpt")],
    }
}

/// Records the calling test as not run because of `reason`, or fails it (see the module
/// documentation).
#[track_caller]
pub fn not_run<T>(reason: &str) -> Option<T> {
    let suite = std::panic::Location::caller().file().replace('\\', "/");
    let current = std::thread::current();
    let test = current.name().unwrap_or("?");
    if in_ci() {
        panic!(
            "{test}: {reason}; CI (CI={:?}) must run every test",
            env("CI")
        );
    }
    let Some(ledger) = std::env::var_os(NOT_RUN_ENV).filter(|v| !v.is_empty()) else {
        panic!(
            "{test}: {reason}. scripts/test.sh lists such a test as not run instead of \
             failing it ({NOT_RUN_ENV} names the file it reads)"
        );
    };
    let line = format!("{suite}\t{test}\t{}\n", reason.replace(['\t', '\n'], " "));
    if let Err(e) = append(&ledger, &line) {
        panic!(
            "{test}: {reason}; and cannot record it as not run in {}: {e}",
            PathBuf::from(ledger).display()
        );
    }
    println!("NOT RUN: {test}: {reason}");
    None
}

/// Records something the calling test left out that is not a test of its own (a
/// documentation snippet that cannot run here), for `scripts/test.sh` to list with the
/// reason; it does not change the counts, and CI allows it.
#[track_caller]
pub fn left_out(what: &str, reason: &str) {
    let suite = std::panic::Location::caller().file().replace('\\', "/");
    let current = std::thread::current();
    let test = current.name().unwrap_or("?");
    println!("LEFT OUT: {test}: {what}: {reason}");
    if let Some(ledger) = std::env::var_os(NOT_RUN_ENV).filter(|v| !v.is_empty()) {
        let line = format!(
            "{suite}\t{test}: {what}\t{}\tuncounted\n",
            reason.replace(['\t', '\n'], " ")
        );
        if let Err(e) = append(&ledger, &line) {
            panic!("{test}: cannot record {what} as left out: {e}");
        }
    }
}

/// Appends one record to the ledger file.
fn append(ledger: impl AsRef<Path>, line: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(ledger)
        .and_then(|mut f| f.write_all(line.as_bytes()))
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}
