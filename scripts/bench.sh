#!/usr/bin/env bash
# End-to-end performance of the release binary against the targets of the performance issue.
#
# Usage: scripts/bench.sh [--smoke]
#
# Builds target/release/trust-inject and the serde_yaml baseline (tools/roundtrip, its own
# cargo project), generates the inputs into a temporary directory from ../shared/corpus,
# measures with hyperfine (medians; --warmup 3; commands interleaved in rounds) and /usr/bin/time -v, and prints one line per
# target marked PASS or FAIL:
#
#   throughput  trust-inject >= 200 MB/s on a 50 MB stream of corpus documents (~15% workloads,
#               the large argo CRDs weighted down to ~25% of the bytes), measured in one run
#               with `cat` and the roundtrip baseline (all three read the file on standard input
#               and write to a pipe):
#   vs cat      trust-inject time <= 7x cat's
#   vs serde    roundtrip time >= 5x trust-inject's
#   start-up    podinfo-chart-with-tests.yaml (11 KB): trust-inject median - cat median <= 1 ms
#   memory      peak RSS on the 50 MB stream <= 1.5 x input + 20 MB
#   scaling     1, 10, 100, 1000 copies of the podinfo chart: time per MB, net of the start-up
#               time (empty input), grows by at most 30% from each size to the next
#   dense       a 20 MB stream in which every document is a small block-style workload (~330
#               bytes: Pods, Deployments with an init container, CronJobs), in one run with
#               `cat` and the roundtrip: trust-inject >= 100 MB/s, <= 3.5 us per workload,
#               roundtrip time >= 5x trust-inject's, peak RSS <= 1.5 x input + 20 MB
#   dense scaling  1,000, 10,000 and 100,000 dense workloads: time per workload, net of the
#               start-up time, within +-30% of the 10,000-workload figure
#
# MB means 10^6 bytes throughout. The full run exits 1 when a target is missed.
# --smoke: small inputs, one or two runs, well under a minute once built; numbers are printed
# but targets are not enforced (exit 0 unless a command fails or crashes).
#
# Environment: BENCH_KEEP=1 keeps the temporary directory (its path is printed), BENCH_MB sets
# the size of the large stream (default 50; 2 with --smoke) and BENCH_DENSE_MB the size of the
# dense one (default 20; 2 with --smoke).
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
root=$PWD
export PATH="$HOME/.cargo/bin:$PATH"

smoke=false
case "${1:-}" in
    --smoke) smoke=true ;;
    "") ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "bench.sh: unknown argument: $1 (usage: scripts/bench.sh [--smoke])" >&2
        exit 2
        ;;
esac

corpus="$root/../shared/corpus"
if [[ ! -d $corpus ]]; then
    echo "bench.sh: the shared corpus is missing: expected $corpus" >&2
    exit 2
fi

log() { echo "bench.sh: $*" >&2; }

# Tools: hyperfine and GNU time from apt when missing, python3 for generating and reading JSON.
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v python3 >/dev/null || {
    log "python3 is required"
    exit 2
}

log "building release binaries"
cargo build --release --locked --quiet --bin trust-inject
cargo build --release --locked --quiet --manifest-path tools/roundtrip/Cargo.toml \
    --target-dir "$root/target/roundtrip"
tool="$root/target/release/trust-inject"
roundtrip="$root/target/roundtrip/release/roundtrip"
args=(--configmap corp-ca --key ca.crt -q)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/trust-inject-bench.XXXXXX")
if [[ ${BENCH_KEEP:-} == 1 ]]; then
    log "keeping $tmp"
else
    trap 'rm -rf "$tmp"' EXIT
fi

# Each comparison runs as ROUNDS hyperfine invocations of all its commands in turn, RUNS
# runs of each command per round, and takes the median of the pooled run times: a burst of
# other work on the machine then hits every command alike instead of one of them.
if $smoke; then
    stream_mb=${BENCH_MB:-2}
    dense_mb=${BENCH_DENSE_MB:-2}
    dense_counts=(1000 10000)
    copies=(1 10 100)
    warmup=1
    rounds=1
    runs_big=1
    runs_small=2
else
    stream_mb=${BENCH_MB:-50}
    dense_mb=${BENCH_DENSE_MB:-20}
    dense_counts=(1000 10000 100000)
    copies=(1 10 100 1000)
    warmup=3
    rounds=5
    runs_big=2
    runs_small=20
fi

# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------
cat >"$tmp/gen.py" <<'PY'
"""Builds the benchmark inputs from the corpus.

stream OUT MB: passes over the corpus files in name order, keeping each document with a
probability chosen per category so that ~15% of the documents are workloads and the
CustomResourceDefinitions (the argo files are mostly huge CRDs) make ~25% of the bytes, until
MB * 10^6 bytes. Fixed seed: the same corpus gives the same stream.
copies OUT FILE N: N copies of FILE, each starting a new document.
dense OUT MB|-N: small block-style workloads only (a Pod, a Deployment with an init
container, a CronJob, in turn; ~330 bytes each) until MB * 10^6 bytes, or exactly N of them.
"""
import os, random, re, sys

SEP = re.compile(r"^---(?:[ \t].*)?\r?\n", re.M)
KIND = re.compile(r"^kind:[ \t]*['\"]?([A-Za-z]+)", re.M)
CONTAINERS = re.compile(r"^[ \t-]*containers:", re.M)
WORKLOAD_SHARE = 0.15
CRD_BYTES_SHARE = 0.25


def as_document(text):
    """The text as one or more whole documents starting with a `---` line."""
    if not text.endswith("\n"):
        text += "\n"
    return text if SEP.match(text) else "---\n" + text


def documents(path):
    text = open(path, encoding="utf-8").read()
    starts = [m.start() for m in SEP.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    pieces = [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)])]
    return [as_document(p) for p in pieces if p.strip()]


def category(doc):
    kind = KIND.search(doc)
    if kind and kind.group(1) == "CustomResourceDefinition":
        return "crd"
    return "workload" if CONTAINERS.search(doc) else "other"


def stream(out, mb, corpus):
    files = sorted(f for f in os.listdir(corpus) if f.endswith(".yaml"))
    docs = [(d, category(d)) for f in files for d in documents(os.path.join(corpus, f))]
    n = {c: sum(1 for _, k in docs if k == c) for c in ("workload", "other", "crd")}
    b = {c: sum(len(d) for d, k in docs if k == c) for c in ("workload", "other", "crd")}
    # Keep every "other" document; solve for the other two probabilities:
    #   qw*nw = s*(qw*nw + no + qc*nc)       (workload share of documents)
    #   qc*bc = t*(qw*bw + bo + qc*bc)       (CRD share of bytes)
    s, t = WORKLOAD_SHARE, CRD_BYTES_SHARE
    # From the second: qc = t*(qw*bw + bo) / ((1-t)*bc); substitute into the first.
    a1 = n["workload"] * (1 - s) - s * n["crd"] * t * b["workload"] / ((1 - t) * b["crd"])
    c1 = s * (n["other"] + n["crd"] * t * b["other"] / ((1 - t) * b["crd"]))
    qw = c1 / a1
    qc = t * (qw * b["workload"] + b["other"]) / ((1 - t) * b["crd"])
    q = {"workload": qw, "other": 1.0, "crd": qc}
    top = max(q.values())
    q = {k: v / top for k, v in q.items()}
    rng = random.Random(20240607)
    size, count, kept = 0, {"workload": 0, "other": 0, "crd": 0}, {"crd": 0}
    limit = int(mb * 1e6)
    with open(out, "w", encoding="utf-8", newline="") as f:
        while size < limit:
            for d, k in docs:
                if rng.random() < q[k]:
                    f.write(d)
                    size += len(d.encode())
                    count[k] += 1
                    if k == "crd":
                        kept["crd"] += len(d.encode())
                    if size >= limit:
                        break
    total = sum(count.values())
    print(
        f"{size} bytes, {total} documents: {count['workload']} workloads "
        f"({100 * count['workload'] / total:.1f}%), {count['crd']} CRDs "
        f"({100 * kept['crd'] / size:.1f}% of the bytes), {count['other']} others"
    )


def copies(out, path, times):
    doc = as_document(open(path, encoding="utf-8").read())
    with open(out, "w", encoding="utf-8", newline="") as f:
        for _ in range(times):
            f.write(doc)


# The dense workloads, shared with the criterion benches (benches/process.rs).
DENSE = tuple(
    "---\n" + t
    for t in open("benches/dense-workloads.yaml", encoding="utf-8").read().split("---\n")
    if t
)


def dense(out, amount):
    """Writes dense workloads: `amount` MB of them, or exactly -amount of them."""
    limit, count = (int(amount * 1e6), None) if amount > 0 else (None, int(-amount))
    size, i = 0, 0
    with open(out, "w", encoding="utf-8", newline="") as f:
        while (size < limit) if limit is not None else (i < count):
            d = DENSE[i % 3].format(i=i, ns=i % 7)
            f.write(d)
            size += len(d)
            i += 1
    print(f"{size} bytes, {i} workloads ({size / i:.0f} bytes each)")


if sys.argv[1] == "stream":
    stream(sys.argv[2], float(sys.argv[3]), sys.argv[4])
elif sys.argv[1] == "dense":
    dense(sys.argv[2], float(sys.argv[3]))
else:
    copies(sys.argv[2], sys.argv[3], int(sys.argv[4]))
PY

cat >"$tmp/median.py" <<'PY'
"""Prints the median run time in seconds of each command over hyperfine JSON exports."""
import json, statistics, sys

pooled = []
for path in sys.argv[1:]:
    for i, r in enumerate(json.load(open(path))["results"]):
        if i == len(pooled):
            pooled.append([])
        pooled[i].extend(r["times"])
for times in pooled:
    print(f"{statistics.median(times):.9f}")
PY
# calc EXPR: a floating-point result from python3, formatted by EXPR itself.
calc() { python3 -c "print($1)"; }
size_of() { stat -c %s "$1"; }

podinfo="$corpus/podinfo-chart-with-tests.yaml"
stream="$tmp/stream.yaml"
log "generating a ${stream_mb} MB stream"
stream_info=$(python3 "$tmp/gen.py" stream "$stream" "$stream_mb" "$corpus")
for n in "${copies[@]}"; do
    python3 "$tmp/gen.py" copies "$tmp/copies-$n.yaml" "$podinfo" "$n"
done
dense="$tmp/dense.yaml"
log "generating a ${dense_mb} MB dense stream"
dense_info=$(python3 "$tmp/gen.py" dense "$dense" "$dense_mb")
dense_workloads=$(grep -c '^kind:' "$dense")
for n in "${dense_counts[@]}"; do
    python3 "$tmp/gen.py" dense "$tmp/dense-$n.yaml" "-$n" >/dev/null
done
: >"$tmp/empty.yaml"
: >"$tmp/hyperfine.log"
stream_bytes=$(size_of "$stream")

# The tool must accept the stream; its summary line tells what it found.
summary=$("$tool" --configmap corp-ca --key ca.crt "$stream" 2>&1 >"$tmp/out.yaml" | tail -n 1)
"$roundtrip" <"$stream" >"$tmp/roundtrip.yaml"
dense_summary=$("$tool" --configmap corp-ca --key ca.crt "$dense" 2>&1 >"$tmp/dense-out.yaml" | tail -n 1)

# ---------------------------------------------------------------------------
# Quiet machine check: other heavy processes skew every number.
# ---------------------------------------------------------------------------
# busy: percent of all CPUs busy over one second (from /proc/stat).
busy() {
    local a b
    read -ra a < <(head -n 1 /proc/stat)
    sleep 1
    read -ra b < <(head -n 1 /proc/stat)
    local idle=$((b[4] + b[5] - a[4] - a[5])) total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    echo $((total > 0 ? 100 * (total - idle) / total : 0))
}
cpu=$(busy)
load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)
if ! $smoke; then
    waited=0
    while ((cpu > 25 && waited < 120)); do
        log "machine ${cpu}% busy; waiting for it to settle"
        sleep 9
        waited=$((waited + 10))
        cpu=$(busy)
    done
    load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)
fi

# ---------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------
# measure NAME RUNS [hyperfine options] -- COMMAND...: `rounds` hyperfine invocations (the
# first with `warmup` warm-up runs, the others with one), then the pooled median of each
# command in seconds into the array `med`.
measure() {
    local name=$1 runs=$2 r opts=()
    shift 2
    while [[ $1 != -- ]]; do opts+=("$1"); shift; done
    shift
    for ((r = 1; r <= rounds; r++)); do
        hyperfine --style none --warmup "$(if ((r == 1)); then echo "$warmup"; else echo 1; fi)" \
            --runs "$runs" "${opts[@]}" --export-json "$tmp/$name-$r.json" "$@" \
            >/dev/null 2>>"$tmp/hyperfine.log"
    done
    mapfile -t med < <(python3 "$tmp/median.py" "$tmp/$name"-*.json)
}

fails=0
# verdict OK TEXT: prints TEXT marked PASS or FAIL and counts failures.
verdict() {
    if [[ $1 == 1 ]]; then
        echo "PASS  $2"
    else
        echo "FAIL  $2"
        fails=$((fails + 1))
    fi
}

log "measuring throughput on the stream (tool, cat, roundtrip)"
# Output goes through a pipe, as in `helm template | trust-inject | kubectl apply`: with
# /dev/null as its output `cat` runs at memory speed and stops being a meaningful floor.
measure throughput "$runs_big" --output pipe -- \
    "$tool ${args[*]} < $stream" "cat < $stream" "$roundtrip < $stream"
t_tool=${med[0]} t_cat=${med[1]} t_rt=${med[2]}

log "measuring start-up on podinfo (tool, cat)"
measure startup "$runs_small" -N -- "$tool ${args[*]} $podinfo" "cat $podinfo"
s_tool=${med[0]} s_cat=${med[1]}

log "measuring peak memory on the stream"
/usr/bin/time -v -o "$tmp/time.txt" "$tool" "${args[@]}" "$stream" >/dev/null 2>"$tmp/time.err"
rss_kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$tmp/time.txt")

log "measuring scaling (${copies[*]} copies of podinfo, and empty input)"
scale_cmds=("$tool ${args[*]} $tmp/empty.yaml")
for n in "${copies[@]}"; do scale_cmds+=("$tool ${args[*]} $tmp/copies-$n.yaml"); done
measure scaling "$((runs_big * 2))" -N -- "${scale_cmds[@]}"
scale_med=("${med[@]}")

log "measuring the dense stream (tool, cat, roundtrip)"
measure dense "$runs_big" --output pipe -- \
    "$tool ${args[*]} < $dense" "cat < $dense" "$roundtrip < $dense"
d_tool=${med[0]} d_cat=${med[1]} d_rt=${med[2]}
/usr/bin/time -v -o "$tmp/dense-time.txt" "$tool" "${args[@]}" "$dense" >/dev/null 2>"$tmp/time.err"
dense_rss_kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$tmp/dense-time.txt")

log "measuring dense scaling (${dense_counts[*]} workloads, and empty input)"
dscale_cmds=("$tool ${args[*]} $tmp/empty.yaml")
for n in "${dense_counts[@]}"; do dscale_cmds+=("$tool ${args[*]} $tmp/dense-$n.yaml"); done
measure dscaling "$runs_big" --output pipe -- "${dscale_cmds[@]}"
dscale_med=("${med[@]}")

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
mb=$(calc "$stream_bytes / 1e6")
echo "trust-inject end-to-end benchmark ($(if $smoke; then echo "smoke run: targets not enforced"; else echo "full run"; fi))"
echo "  commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src 2>/dev/null || echo " + uncommitted src changes"), $(nproc) CPUs, ${cpu}% busy before measuring (load $load_before), load $(cut -d ' ' -f 1-3 /proc/loadavg) after"
echo "  hyperfine warnings (outliers, slow first runs): $(grep -c 'Warning' "$tmp/hyperfine.log" || true)"
echo "  stream: $stream_info"
echo "  tool on the stream: $summary"
echo "  dense stream: $dense_info"
echo "  tool on the dense stream: $dense_summary"
echo "  medians of pooled hyperfine runs, $rounds round(s) interleaving the commands compared (warmup $warmup): $((rounds * runs_big)) runs per command on the stream, $((rounds * runs_small)) on podinfo, $((rounds * runs_big * 2)) for scaling; MB = 10^6 bytes"
echo
tool_mbs=$(calc "round($mb / $t_tool, 1)")
cat_mbs=$(calc "round($mb / $t_cat, 1)")
rt_mbs=$(calc "round($mb / $t_rt, 1)")
tool_cat=$(calc "round($t_tool / $t_cat, 2)")
rt_tool=$(calc "round($t_rt / $t_tool, 2)")
verdict "$(calc "int($tool_mbs >= 200)")" \
    "throughput   trust-inject $tool_mbs MB/s on $(calc "round($mb, 1)") MB ($(calc "round($t_tool * 1000, 1)") ms)   target >= 200 MB/s"
echo "      cat          $cat_mbs MB/s ($(calc "round($t_cat * 1000, 1)") ms)"
echo "      roundtrip    $rt_mbs MB/s ($(calc "round($t_rt * 1000, 1)") ms, serde_yaml parse + emit)"
verdict "$(calc "int($tool_cat <= 7)")" \
    "vs cat       trust-inject / cat = ${tool_cat}x   target <= 7x"
verdict "$(calc "int($rt_tool >= 5)")" \
    "vs serde     roundtrip / trust-inject = ${rt_tool}x   target >= 5x"
delta=$(calc "round(($s_tool - $s_cat) * 1000, 2)")
verdict "$(calc "int($delta <= 1)")" \
    "start-up     podinfo ($(size_of "$podinfo") bytes): trust-inject $(calc "round($s_tool * 1000, 2)") ms, cat $(calc "round($s_cat * 1000, 2)") ms, delta $delta ms   target <= 1 ms"
rss_mb=$(calc "round($rss_kb * 1024 / 1e6, 1)")
budget_mb=$(calc "round(1.5 * $mb + 20, 1)")
verdict "$(calc "int($rss_mb <= $budget_mb)")" \
    "memory       peak RSS $rss_mb MB on $(calc "round($mb, 1)") MB ($(calc "round($rss_kb * 1024 / $stream_bytes, 2)")x input)   budget 1.5 x input + 20 MB = $budget_mb MB"
t_empty=${scale_med[0]}
echo "      scaling      empty input: $(calc "round($t_empty * 1000, 2)") ms (start-up, subtracted below)"
linear=1
prev=""
for i in "${!copies[@]}"; do
    n=${copies[$i]}
    t=${scale_med[$((i + 1))]}
    bytes=$(size_of "$tmp/copies-$n.yaml")
    per_mb=$(calc "round($t * 1000 / ($bytes / 1e6), 2)")
    net=$(calc "round(max($t - $t_empty, 0) * 1000 / ($bytes / 1e6), 2)")
    growth=""
    # 1 copy is mostly start-up: its net time is noise, so the check starts at 10 copies.
    if ((n >= 10)); then
        if [[ -n $prev ]]; then
            growth="   x$(calc "round($net / $prev, 2)") vs previous"
            [[ $(calc "int($net <= 1.3 * $prev)") == 1 ]] || linear=0
        fi
        prev=$net
    fi
    printf '      %5d copies %10d bytes %9.2f ms   %8.2f ms/MB   net of start-up %8.2f ms/MB%s\n' \
        "$n" "$bytes" "$(calc "$t * 1000")" "$per_mb" "$net" "$growth"
done
verdict "$linear" "scaling      net time per MB grows by at most 30% from each size to the next (10 copies up)"

dmb=$(calc "$(size_of "$dense") / 1e6")
d_mbs=$(calc "round($dmb / $d_tool, 1)")
d_us=$(calc "round($d_tool * 1e6 / $dense_workloads, 2)")
d_rt_tool=$(calc "round($d_rt / $d_tool, 2)")
echo "  dense stream: $dense_workloads workloads, $(calc "round($dmb, 1)") MB"
verdict "$(calc "int($d_mbs >= 100)")" \
    "dense        trust-inject $d_mbs MB/s ($(calc "round($d_tool * 1000, 1)") ms)   target >= 100 MB/s"
echo "      cat          $(calc "round($dmb / $d_cat, 1)") MB/s ($(calc "round($d_cat * 1000, 1)") ms)"
echo "      roundtrip    $(calc "round($dmb / $d_rt, 1)") MB/s ($(calc "round($d_rt * 1000, 1)") ms)"
verdict "$(calc "int($d_us <= 3.5)")" \
    "dense        $d_us us per workload   target <= 3.5 us"
verdict "$(calc "int($d_rt_tool >= 5)")" \
    "dense        roundtrip / trust-inject = ${d_rt_tool}x   target >= 5x"
d_rss_mb=$(calc "round($dense_rss_kb * 1024 / 1e6, 1)")
d_budget=$(calc "round(1.5 * $dmb + 20, 1)")
verdict "$(calc "int($d_rss_mb <= $d_budget)")" \
    "dense        peak RSS $d_rss_mb MB ($(calc "round($dense_rss_kb * 1024 / ($dmb * 1e6), 2)")x input)   budget 1.5 x input + 20 MB = $d_budget MB"
d_empty=${dscale_med[0]}
flat=1
ref=""
for i in "${!dense_counts[@]}"; do
    n=${dense_counts[$i]}
    [[ $n == 10000 ]] && ref=$(calc "max(${dscale_med[$((i + 1))]} - $d_empty, 0) * 1e6 / $n")
done
for i in "${!dense_counts[@]}"; do
    n=${dense_counts[$i]}
    t=${dscale_med[$((i + 1))]}
    per=$(calc "round(max($t - $d_empty, 0) * 1e6 / $n, 3)")
    [[ -z $ref || $(calc "int(abs($per - $ref) <= 0.3 * $ref)") == 1 ]] || flat=0
    printf '      %6d workloads %9.2f ms   net of start-up %7.3f us per workload\n' \
        "$n" "$(calc "$t * 1000")" "$per"
done
verdict "$flat" "dense scaling  time per workload within +-30% of the 10,000-workload figure"

if $smoke; then
    echo "smoke run: $fails target(s) missed, not enforced"
    exit 0
fi
echo "$fails target(s) missed"
((fails == 0)) || exit 1
