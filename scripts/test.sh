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

scripts/test-summary.sh "$TRUST_INJECT_NOT_RUN" "$work/log" "$status"
