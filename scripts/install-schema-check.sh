#!/usr/bin/env bash
# Installs kubernetes-validate (PyPI), which tests/schema.rs uses to validate the PodSpecs of
# the golden outputs strictly against the Kubernetes OpenAPI schema, when it is missing.
#
# Usage: scripts/install-schema-check.sh [DIR]   (DIR defaults to target/tmp/schema-check)
#
# Installs into the virtual environment DIR/venv (python3 -m venv, then pip). Logs go to
# stderr; standard output is the path of the kubernetes-validate program. Cheap to re-run.
set -euo pipefail

version=1.37.0
dir=${1:-"$(cd "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)/target/tmp/schema-check"}
log() { printf 'schema-check: %s\n' "$*" >&2; }

venv="$dir/venv"
program="$venv/bin/kubernetes-validate"
if [ -x "$program" ] && "$venv/bin/python" -m pip show kubernetes-validate 2>/dev/null | grep -qx "Version: $version"; then
    printf '%s\n' "$program"
    exit 0
fi
command -v python3 >/dev/null || { log "python3 is needed (apt-get install python3 python3-venv)"; exit 1; }
mkdir -p "$dir"
if [ ! -x "$venv/bin/python" ]; then
    log "python3 -m venv $venv"
    python3 -m venv "$venv" >&2
fi
log "pip install kubernetes-validate==$version"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "kubernetes-validate==$version" >&2
printf '%s\n' "$program"
