#!/usr/bin/env bash
# Helm 3 (>= 3.9): trust-inject as an executable post-renderer, options through
# --post-renderer-args. Run from this directory with helm 3 and trust-inject on PATH.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")"
helm template shop ./chart \
  --post-renderer trust-inject \
  --post-renderer-args --configmap=corp-ca
