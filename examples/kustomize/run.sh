#!/usr/bin/env bash
# kustomize with trust-inject as a legacy exec plugin (works with standalone kustomize and
# with `kubectl kustomize`; kubectl 1.35 silently skips exec KRM functions). Needs kustomize
# and trust-inject on PATH.
set -euo pipefail
here=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
plugin_dir="$tmp/trust-inject.dev/v1alpha1/trustinjection"
mkdir -p "$plugin_dir"
ln -s "$(command -v trust-inject)" "$plugin_dir/TrustInjection"
KUSTOMIZE_PLUGIN_HOME="$tmp" kustomize build --enable-alpha-plugins "$here"
