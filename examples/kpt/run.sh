#!/usr/bin/env bash
# kpt: run trust-inject as an exec function on a copy of ./pkg, options as key=value
# (kpt turns them into a ConfigMap functionConfig), then show the changed file.
# Needs kpt and trust-inject on PATH.
set -euo pipefail
here=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -R "$here/pkg" "$tmp/pkg"
kpt fn eval "$tmp/pkg" --exec "$(command -v trust-inject)" -- configmap=corp-ca >&2
cat "$tmp/pkg/deployment.yaml"
