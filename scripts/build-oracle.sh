#!/usr/bin/env bash
# Build the "what Kubernetes reads" oracle (tests/oracle) into
#   ${TRUST_INJECT_TOOLS:-$PWD/.tools}/bin/k8s-yaml2json
#
# The oracle only needs the Go standard library and sigs.k8s.io/yaml, both
# taken from Debian packages (golang-go, golang-k8s-sigs-yaml-dev). It is
# built fully offline in GOPATH mode against /usr/share/gocode: Debian ships
# no module cache, and module mode with `replace` directives still tries to
# resolve the test-only requirements of sigs.k8s.io/yaml (go-spew, check.v1),
# which fails with GOPROXY=off.
#
# Usage: scripts/build-oracle.sh [--no-apt] [--force]
#   --no-apt  never call apt-get; fail if a package is missing
#   --force   rebuild even if the binary is up to date
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd -- "$script_dir/.." && pwd)
src_dir="$repo_root/tests/oracle"
tools_dir=${TRUST_INJECT_TOOLS:-$PWD/.tools}
bin_dir="$tools_dir/bin"
out="$bin_dir/k8s-yaml2json"
gopath=/usr/share/gocode

use_apt=1
force=0
for arg in "$@"; do
  case "$arg" in
    --no-apt) use_apt=0 ;;
    --force) force=1 ;;
    -h | --help)
      sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "build-oracle: unknown option: $arg" >&2
      exit 2
      ;;
  esac
done

log() { printf 'build-oracle: %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for pkg in golang-go golang-k8s-sigs-yaml-dev; do
  pkg_installed "$pkg" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$use_apt" -eq 0 ]; then
    die "missing Debian packages: ${missing[*]} (apt-get install -y ${missing[*]})"
  fi
  log "installing ${missing[*]} with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

go_bin=$(command -v go || true)
[ -n "$go_bin" ] || go_bin=/usr/lib/go/bin/go
[ -x "$go_bin" ] || die "go not found (install golang-go)"
[ -f "$gopath/src/sigs.k8s.io/yaml/yaml.go" ] ||
  die "$gopath/src/sigs.k8s.io/yaml missing (install golang-k8s-sigs-yaml-dev)"

mkdir -p "$bin_dir"

if [ "$force" -eq 0 ] && [ -x "$out" ]; then
  stale=0
  for f in "$src_dir"/*.go "$0"; do
    if [ "$f" -nt "$out" ]; then
      stale=1
      break
    fi
  done
  if [ "$stale" -eq 0 ]; then
    log "up to date: $out"
    exit 0
  fi
fi

cache_dir="$tools_dir/go-build-cache"
mkdir -p "$cache_dir"
log "building $out ($("$go_bin" version))"
(
  cd "$src_dir"
  env GO111MODULE=off GOPATH="$gopath" GOFLAGS= GOPROXY=off GOTOOLCHAIN=local \
    GOCACHE="$cache_dir" CGO_ENABLED=0 \
    "$go_bin" build -trimpath -o "$out.tmp" .
)
mv -f "$out.tmp" "$out"

# Smoke test: YAML 1.1 scalars as Kubernetes decodes them.
want='{"a":420,"b":true,"c":"yes","d":"0123","e":1000}'
got=$(printf 'a: 0644\nb: yes\nc: "yes"\nd: "0123"\ne: 1_000\n' | "$out")
[ "$got" = "$want" ] || die "smoke test failed: got $got, want $want"
log "ok: $out"
