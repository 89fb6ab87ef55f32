#!/usr/bin/env bash
# Runs every test: installs what the tests need (scripts/install-tools.sh: Helm 3 and 4,
# kubectl, kustomize, the Kubernetes YAML oracle, shellcheck; it links kpt when one is
# installed), then every Rust test target (unit, integration, end-to-end, the benchmarks in
# test mode, doc tests). A failing target does not stop the others. The summary at the end
# gives, per suite, the tests passed, failed and not run, the tests not run with the
# reason, and last the line "tests: N passed, N failed". The exit status is 0 when no test
# failed.
#
# Tests that need what the repository does not hold (the data sets beside the checkout,
# ../shared/corpus and ../shared/yaml-test-suite, or kpt) are listed as not run when it is
# missing; under CI (CI=true) they fail instead. See docs/testing.md.
#
# Usage: scripts/test.sh [cargo test options]     e.g. scripts/test.sh --release
# (the options go to the run of every target but the doc tests, which always run whole).
# Environment: TRUST_INJECT_TOOLS (where the tools go, default ./.tools), CI.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
export TRUST_INJECT_TOOLS="${TRUST_INJECT_TOOLS:-$PWD/.tools}"

if ! command -v cargo >/dev/null 2>&1; then
  echo "test.sh: cargo not found: install Rust (https://rustup.rs) and re-run" >&2
  exit 1
fi
if ! bin=$(scripts/install-tools.sh); then
  echo "test.sh: scripts/install-tools.sh failed (see above): the tests need those tools" >&2
  exit 1
fi
export PATH="$bin:$PATH"

work=$(mktemp -d "${TMPDIR:-/tmp}/trust-inject-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Tests whose needs are missing append "<suite>\t<test>\t<reason>" here (tests/util/external.rs).
export TRUST_INJECT_NOT_RUN="$work/not-run.tsv"
: >"$TRUST_INJECT_NOT_RUN"

status=0
cargo test --all-targets --locked --no-fail-fast "$@" 2>&1 | tee "$work/log" || status=$?
cargo test --doc --locked --no-fail-fast 2>&1 | tee -a "$work/log" || status=$?

# The benchmarks' corpus group (run once each in test mode) skips itself without the corpus.
if [ ! -d ../shared/corpus ]; then
  printf 'benches/process.rs\tcorpus benchmarks\t%s\tuncounted\n' \
    "the real-world manifest corpus not found at ../shared/corpus (see docs/testing.md)" \
    >>"$TRUST_INJECT_NOT_RUN"
fi

# The summary: libtest prints "Running <suite> (...)" or "Doc-tests <crate>" before a
# target's tests and "test result: ... N passed; N failed; ..." after them; criterion's test
# mode prints "Success" per benchmark. A target that ends without a result line failed.
awk -F '\t' -v status="$status" '
  FILENAME == ARGV[1] {
    if (!seen[$1 "\t" $2]++) {
      kind = ($4 == "uncounted") ? "left out" : "not run"
      if (kind == "not run") notrun[$1]++
      key = kind "\t" $1 "\t" $3
      reason[key] = reason[key] (reason[key] == "" ? "" : ", ") $2
      if (!(key in rorder)) { rorder[key] = ++nreasons; rkey[nreasons] = key }
    }
    next
  }
  function close_suite() {
    if (suite == "") return
    if (!done && successes == 0) { failed[suite]++; broken[suite] = 1 }
    else if (!done) passed[suite] += successes
    suite = ""
  }
  function open_suite(name) {
    close_suite()
    suite = name; done = 0; successes = 0; infail = 0
    if (!(name in order)) { order[name] = ++nsuites; names[nsuites] = name }
  }
  {
    line = $0
    gsub(/\033\[[0-9;]*[A-Za-z]/, "", line)
    sub(/\r$/, "", line)
    if (match(line, /^ +Running [^ ]+( [^ ]+)? \(/)) {
      s = substr(line, 1, RLENGTH - 2); sub(/^ +Running /, "", s); open_suite(s); next
    }
    if (match(line, /^ +Doc-tests [^ ]+$/)) {
      s = line; sub(/^ +Doc-tests /, "doc-tests ", s); open_suite(s); next
    }
    if (suite == "") next
    if (line == "failures:") { infail = 1; nf = 0; next }
    if (infail && line ~ /^    [^ ]+$/) { fl[++nf] = substr(line, 5); next }
    if (line ~ /^test result: /) {
      n = split(line, w, /[ ;.]+/)
      for (i = 2; i <= n; i++) {
        if (w[i] == "passed") passed[suite] += w[i - 1]
        if (w[i] == "failed") failed[suite] += w[i - 1]
      }
      for (i = 1; i <= nf; i++) failing[++nfailing] = suite ": " fl[i]
      done = 1; infail = 0; nf = 0
      close_suite(); next
    }
    if (line == "Success") successes++
  }
  END {
    close_suite()
    for (i = 1; i <= nreasons; i++) { split(rkey[i], k, "\t"); s = k[2]; if (!(s in order)) { order[s] = ++nsuites; names[nsuites] = s } }
    printf "\n==== Test summary ====\n"
    printf "%-32s %7s %7s %8s\n", "suite", "passed", "failed", "not run"
    tp = 0; tf = 0; tn = 0
    for (i = 1; i <= nsuites; i++) {
      s = names[i]
      nr = notrun[s] + 0
      p = passed[s] - nr
      if (p < 0) p = 0
      printf "%-32s %7d %7d %8d%s\n", s, p, failed[s], nr, (s in broken) ? "   (ended without a result: crashed?)" : ""
      tp += p; tf += failed[s]; tn += nr
    }
    if (status != 0 && tf == 0) {
      printf "cargo test exited with status %s before any test failed (a build error? see above)\n", status
      tf = 1
    }
    if (nfailing > 0) {
      printf "\nFailed:\n"
      for (i = 1; i <= nfailing; i++) printf "  %s\n", failing[i]
    }
    for (pass = 1; pass <= 2; pass++) {
      want = (pass == 1) ? "not run" : "left out"
      head = 0
      for (i = 1; i <= nreasons; i++) {
        split(rkey[i], k, "\t")
        if (k[1] != want) continue
        if (!head++) printf (pass == 1) ? "\nNot run (tests, counted above; under CI they fail):\n" : "\nAlso left out (not tests, not counted):\n"
        printf "  %s: %s\n      (%s)\n", k[2], reason[rkey[i]], k[3]
      }
    }
    printf "\n%d not run\n", tn
    printf "tests: %d passed, %d failed\n", tp, tf
    exit (tf > 0)
  }
' "$TRUST_INJECT_NOT_RUN" "$work/log"
