#!/usr/bin/env bash
# The closing summary of scripts/test.sh, from the "not run" records the tests wrote
# (tests/util/external.rs: "<suite>\t<test>\t<reason>[\tuncounted]" lines) and the output of
# the cargo test runs.
#
# Usage: scripts/test-summary.sh NOT_RUN_FILE LOG CARGO_STATUS
#
# libtest prints "Running <suite> (...)" or "Doc-tests <crate>" before a target's tests and
# "test result: ... N passed; N failed; ..." after them; criterion's test mode prints
# "Success" per benchmark. A target that ends without either failed (it crashed). A test
# recorded as not run is subtracted from its suite's passed count; an "uncounted" record
# (a documentation snippet left out) is only listed. Prints, per suite, the tests passed,
# failed and not run, the failing tests, what did not run and why, and last the line
# "tests: N passed, N failed". Exits 1 when a test failed, or when cargo failed without a
# failing test (a build error).
set -euo pipefail
if [ "$#" -ne 3 ]; then
  echo "usage: scripts/test-summary.sh NOT_RUN_FILE LOG CARGO_STATUS" >&2
  exit 2
fi
awk -F '\t' -v status="$3" '
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
' "$1" "$2"
