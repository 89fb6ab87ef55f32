#!/usr/bin/env bash
# Runs every test: installs the pinned external tools the end-to-end tests need (Helm 3 and 4,
# kubectl, kustomize, the Kubernetes YAML oracle; see scripts/install-tools.sh), then the whole
# Rust test suite (unit, integration, end-to-end and doc tests).
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
export TRUST_INJECT_TOOLS="${TRUST_INJECT_TOOLS:-$PWD/.tools}"
bin=$(scripts/install-tools.sh)
export PATH="$bin:$PATH"
cargo test --all-targets --locked "$@"
cargo test --doc --locked
