#!/usr/bin/env bash
# Fuzzes trust-inject with cargo-fuzz (nightly toolchain; `cargo install cargo-fuzz`).
#
#   scripts/fuzz.sh TARGET [SECONDS]   seed and run one target (default 600 s)
#   scripts/fuzz.sh --smoke            every target for ~20 s each, one after another (CI)
#   scripts/fuzz.sh --list             the targets
#
# Targets live in fuzz/fuzz_targets/: split_stream (bytes -> splitter + parser), fast_reader
# (text -> the fast reader against the parser: same acceptance, same data), process
# (UTF-8 -> the whole pipeline, run twice), pem_bundle (bytes -> CA file reader), semantic
# (bytes -> generated streams; the output must read as the input plus exactly the
# injection, see tests/util/semantic.rs). The corpus in fuzz/corpus/TARGET is seeded from
# testdata/, ../shared/corpus and the YAML test suite (YAML targets), from PEM files
# (pem_bundle) or random bytes (semantic). Crashes land in fuzz/artifacts/TARGET; turn each
# into a test in tests/hostile.rs (a semantic one into a golden case). SEMANTIC_OFF=known
# turns off the semantic generator's features that known defects trip; --smoke sets it
# unless SEMANTIC_OFF is set (tests/semantic.rs, with every feature on, is their net), and
# libFuzzer's seed to FUZZ_SEED (default 1) so that a CI run can be repeated.
# Targets run one at a time: the machine is shared. Prints, per target, the executions,
# the corpus size and the crash files found.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
root=$PWD
targets=(split_stream process pem_bundle fast_reader semantic)

usage() {
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

command -v cargo-fuzz >/dev/null || {
    echo "fuzz.sh: cargo-fuzz not found: cargo install cargo-fuzz" >&2
    exit 2
}

# Copies every seed file into the corpus under its content hash (idempotent).
seed() {
    local target=$1 dir=$root/fuzz/corpus/$1 f
    mkdir -p "$dir"
    case $target in
    split_stream | process | fast_reader)
        {
            find "$root/testdata" -type f \( -name '*.yaml' -o -name '*.yml' \)
            [ -d "$root/../shared/corpus" ] && find "$root/../shared/corpus" -type f -name '*.yaml'
            [ -d "$root/../shared/yaml-test-suite/data" ] &&
                find "$root/../shared/yaml-test-suite/data" -type f -name 'in.yaml'
            find "$root/examples" -type f -name '*.yaml'
        } ;;
    semantic)
        # The generator reads choices from bytes: random seeds, kept once made.
        local i
        for i in $(seq 1 16); do
            [ -e "$dir/seed-random-$i" ] || head -c 1500 /dev/urandom >"$dir/seed-random-$i"
        done
        return ;;
    pem_bundle)
        {
            find "$root/examples" "$root/testdata" -type f \( -name '*.pem' -o -name '*.crt' -o -name '*.der' \)
            # A few real CA certificates, when the system has them.
            find /etc/ssl/certs -maxdepth 1 -name '*.pem' 2>/dev/null | sort | head -n 20
        } ;;
    esac | while IFS= read -r f; do
        cp -f -- "$f" "$dir/seed-$(sha1sum <"$f" | cut -c1-16)"
    done
}

# Runs one target for $2 seconds and prints a summary line.
run() {
    local target=$1 secs=$2 log max_len=65536 sanitizer=()
    [ "$target" = pem_bundle ] && max_len=16384
    # The semantic target checks meaning, not memory (the crate forbids unsafe code): it
    # runs without AddressSanitizer, several times faster.
    [ "$target" = semantic ] && max_len=4096 sanitizer=(-s none)
    seed "$target"
    mkdir -p "$root/fuzz/artifacts/$target"
    log=$(mktemp "${TMPDIR:-/tmp}/fuzz-$target.XXXXXX.log")
    local before
    before=$(find "$root/fuzz/artifacts/$target" -type f | wc -l)
    echo "fuzz.sh: $target for ${secs}s (log: $log)" >&2
    local rc=0 seed_arg=()
    [ -n "${FUZZ_SEED:-}" ] && seed_arg=(-seed="$FUZZ_SEED")
    (cd "$root/fuzz" && cargo +nightly fuzz run -O "${sanitizer[@]}" "$target" "corpus/$target" -- \
        -max_total_time="$secs" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
        "${seed_arg[@]}" -print_final_stats=1) >"$log" 2>&1 || rc=$?
    local execs crashes
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    crashes=$(($(find "$root/fuzz/artifacts/$target" -type f | wc -l) - before))
    printf '%-14s %6ss  executions %-12s corpus %-6s new crash files %s  exit %s\n' \
        "$target" "$secs" "${execs:-?}" "$(find "$root/fuzz/corpus/$target" -type f | wc -l)" \
        "$crashes" "$rc"
    if [ "$rc" -ne 0 ]; then
        grep -E 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" >&2 || tail -n 30 "$log" >&2
        return 1
    fi
}

case ${1:-} in
--smoke)
    export SEMANTIC_OFF=${SEMANTIC_OFF-known}
    # A fixed seed makes the smoke a repeatable regression net; the long runs explore.
    export FUZZ_SEED=${FUZZ_SEED-1}
    status=0
    for t in "${targets[@]}"; do run "$t" "${FUZZ_SMOKE_SECONDS:-20}" || status=1; done
    exit "$status" ;;
--list) printf '%s\n' "${targets[@]}" ;;
"" | -h | --help) usage ;;
*)
    [[ " ${targets[*]} " == *" $1 "* ]] || { echo "fuzz.sh: unknown target $1" >&2; usage; }
    run "$1" "${2:-600}" ;;
esac
