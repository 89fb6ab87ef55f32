//! The closing summary of `scripts/test.sh` (`scripts/test-summary.sh`), on the output of
//! cargo test runs as libtest and criterion print it: counts per suite, failures and crashed
//! targets counted, tests not run never counted as passed, and the exit status.

use std::path::Path;
use std::process::Command;

/// Runs the summary on `ledger` (the not-run records) and `log`; returns (exit code, stdout).
fn summary(name: &str, ledger: &str, log: &str, status: i32) -> (Option<i32>, String) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("test-summary")
        .join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let (l, g) = (dir.join("not-run.tsv"), dir.join("log"));
    std::fs::write(&l, ledger).expect("write");
    std::fs::write(&g, log).expect("write");
    let out = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test-summary.sh"))
        .arg(&l)
        .arg(&g)
        .arg(status.to_string())
        .output()
        .expect("bash runs");
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("UTF-8"),
    )
}

/// The row of `suite`: (passed, failed, not run).
fn row(out: &str, suite: &str) -> (u32, u32, u32) {
    let line = out
        .lines()
        .find(|l| l.starts_with(suite) && l[suite.len()..].starts_with(' '))
        .unwrap_or_else(|| panic!("no row for {suite}:\n{out}"));
    let n: Vec<u32> = line[suite.len()..]
        .split_whitespace()
        .take(3)
        .map(|w| w.parse().expect("a count"))
        .collect();
    (n[0], n[1], n[2])
}

const OK_LIB: &str = "   Compiling trust-inject v0.1.0 (/x)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 46.91s
     Running unittests src/lib.rs (target/debug/deps/trust_inject-7f354fc3cd85c662)

running 3 tests
test a ... ok
test b ... ok
test c ... ok

test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 4.41s

";

#[test]
fn counts_failures_crashes_and_tests_not_run() {
    let log = format!(
        "{OK_LIB}\x1b[1m\x1b[32m     Running\x1b[0m tests/corpus.rs (target/debug/deps/corpus-d9b758ac9993aa0e)

running 4 tests
test one ... ok
test two ... ok
test three ... ok
test four ... FAILED

failures:

---- four stdout ----
    not a test name line
thread 'four' panicked at tests/corpus.rs:1:1:
boom

failures:
    four

test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 6.32s

error: test failed, to rerun pass `--test corpus`
     Running tests/e2e.rs (target/debug/deps/e2e-0c12340dc9ca9d13)

running 2 tests
test x ... ok
error: test failed, to rerun pass `--test e2e`

Caused by:
  process didn't exit successfully: (signal: 11, SIGSEGV: invalid memory reference)
     Running benches/process.rs (target/debug/deps/process-7f009a29965796dc)
Testing generated/100
Success
Testing generated/1000
Success
   Doc-tests trust_inject

running 1 test
test src/lib.rs - (line 3) ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.50s

"
    );
    let ledger = "tests/corpus.rs\tone\tthe corpus is missing\n\
                  tests/corpus.rs\ttwo\tthe corpus is missing\n\
                  tests/corpus.rs\ttwo\tthe corpus is missing\n\
                  tests/snippets.rs\treadme: README.md:24\tit runs this\tuncounted\n";
    let (code, out) = summary("mixed", ledger, &log, 101);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(row(&out, "unittests src/lib.rs"), (3, 0, 0), "{out}");
    // Two of the three passed tests only recorded themselves as not run.
    assert_eq!(row(&out, "tests/corpus.rs"), (1, 1, 2), "{out}");
    assert_eq!(
        row(&out, "tests/e2e.rs"),
        (0, 1, 0),
        "a crash is a failure:\n{out}"
    );
    assert_eq!(row(&out, "benches/process.rs"), (2, 0, 0), "{out}");
    assert_eq!(row(&out, "doc-tests trust_inject"), (1, 0, 0), "{out}");
    assert!(out.contains("  tests/corpus.rs: four\n"), "{out}");
    assert!(
        !out.contains("not a test name line\n  "),
        "only the failing tests are listed:\n{out}"
    );
    assert!(
        out.contains("  tests/corpus.rs: one, two\n      (the corpus is missing)\n"),
        "{out}"
    );
    assert!(
        out.contains("Also left out (not tests, not counted):\n  tests/snippets.rs: readme: README.md:24\n      (it runs this)\n"),
        "{out}"
    );
    assert!(
        out.ends_with("\n2 not run\ntests: 7 passed, 2 failed\n"),
        "{out}"
    );
}

#[test]
fn a_build_error_is_a_failure() {
    let log = "   Compiling trust-inject v0.1.0 (/x)\nerror[E0425]: cannot find value `x`\n";
    let (code, out) = summary("build-error", "", log, 101);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("before any test failed (a build error?"),
        "{out}"
    );
    assert!(out.ends_with("tests: 0 passed, 1 failed\n"), "{out}");
}

#[test]
fn all_passed_exits_zero() {
    let (code, out) = summary("ok", "", OK_LIB, 0);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("Not run"), "{out}");
    assert!(
        out.ends_with("\n0 not run\ntests: 3 passed, 0 failed\n"),
        "{out}"
    );
}
