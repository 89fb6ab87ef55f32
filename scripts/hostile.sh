#!/usr/bin/env bash
# Measures trust-inject on hostile inputs: wall time and peak resident memory per input
# (GNU time, `/usr/bin/time -v`; on Debian `apt-get install time`), printed as a table.
# The functional checks (clean error or correct output, no crash, no hang) are in
# tests/hostile.rs; this script only measures.
#
#   scripts/hostile.sh [BINARY]     default: builds and uses target/release/trust-inject
#
# Inputs are generated into a temporary directory (removed at exit); the 2 GB input is
# streamed into standard input and never stored.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
[ -x /usr/bin/time ] || {
    echo "hostile.sh: /usr/bin/time (GNU time) not found: apt-get install time" >&2
    exit 2
}
bin=${1:-}
if [ -z "$bin" ]; then
    cargo build --release --quiet
    bin=$PWD/target/release/trust-inject
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/trust-inject-hostile.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

deployment() { # $1: lines under metadata, $2: lines under the container
    printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n%sspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: app\n        image: nginx\n%s' "$1" "$2"
}
configmap() { printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n'; }

# Billion laughs: nine levels of nine aliases each (9^9 nodes expanded).
laughs() {
    awk -v ind="$1" 'BEGIN {
        printf "%sa0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n", ind
        for (i = 1; i <= 9; i++) {
            p = "*a" (i - 1); printf "%sa%d: &a%d [%s", ind, i, i, p
            for (j = 1; j < 9; j++) printf ",%s", p
            print "]"
        }
    }'
}
{ configmap; echo ---; deployment '' '' | awk -v b="$(laughs '    ')" '/^  selector:/ { print "  bomb:"; print b } { print }'; } >"$tmp/alias-bomb-deployment.yaml"
{ configmap; echo 'bomb:'; laughs '  '; } >"$tmp/alias-bomb-configmap.yaml"
deployment '' "        args: $(head -c 100000 /dev/zero | tr '\0' '[')$(head -c 100000 /dev/zero | tr '\0' ']')
" >"$tmp/deep-flow-100k.yaml"
{ configmap; echo ---; awk 'BEGIN { for (i = 0; i < 100000; i++) printf "- "; print "x" }'; } >"$tmp/deep-block-100k.yaml"
{ configmap; printf 'data:\n  big: '; head -c 1048576 /dev/zero | tr '\0' x; printf '\n---\n'
  deployment "  annotations:
    big: \"$(head -c 1048576 /dev/zero | tr '\0' y)\"
" ''; } >"$tmp/scalar-1mb.yaml"
awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "---\na: 1\n" }' >"$tmp/docs-1m.yaml"
{ configmap; echo 'data:'; awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "  k%d: v\n", i }'; } >"$tmp/keys-1m-configmap.yaml"
deployment "  annotations:
$(awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "    k%d: v\n", i }')
" '' >"$tmp/keys-1m-deployment.yaml"
deployment '' '' | awk -v n=100000 '/^      - name: app$/ { for (i = 0; i < n; i++) printf "      - name: c%d\n        image: nginx\n", i; getline; next } { print }' >"$tmp/containers-100k.yaml"
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p%d\nspec:\n  containers:\n  - name: app\n    image: nginx\n", i }' >"$tmp/pods-100k.yaml"
{ deployment '' ''; printf '        args: ["\xff\xfe"]\n'; } >"$tmp/invalid-utf8.yaml"
{ configmap; printf 'data:\n  a: b\0c\n'; } >"$tmp/nul-bytes.yaml"
# A sparse 2 GiB file (no disk used): does a file argument get refused by its size?
truncate -s 2G "$tmp/sparse-2g.yaml"

printf '%-26s %10s %5s %9s %11s  %s\n' input bytes exit wall_s peak_rss_mb "message (first line of stderr)"
measure() { # $1: name, $2: size shown, rest: command run under time (stdin already set)
    local name=$1 size=$2 rc=0
    shift 2
    /usr/bin/time -v -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    local wall rss
    wall=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$tmp/time" |
        awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }')
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time")
    printf '%-26s %10s %5s %9s %11s  %s\n' "$name" "$size" "$rc" "$wall" \
        "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" \
        "$(grep -v '^\s*$' "$tmp/err" | head -n 1 | cut -c1-110)"
}
for f in alias-bomb-deployment alias-bomb-configmap deep-flow-100k deep-block-100k scalar-1mb \
    docs-1m keys-1m-configmap keys-1m-deployment containers-100k pods-100k invalid-utf8 nul-bytes; do
    measure "$f" "$(wc -c <"$tmp/$f.yaml")" "$bin" --configmap corp-ca <"$tmp/$f.yaml"
done
yes 'a: 1' | head -c 2147483648 | measure stdin-2g 2147483648 "$bin" --configmap corp-ca || true
measure file-2g-sparse 2147483648 "$bin" --configmap corp-ca "$tmp/sparse-2g.yaml" </dev/null
