#!/bin/sh
# Entry point of the Helm 4 post-renderer plugin: prefer the binary bundled in the plugin
# directory ($HELM_PLUGIN_DIR/bin/trust-inject), fall back to `trust-inject` on PATH.
# Helm 4 hides a post-renderer's standard error; trust-inject sees HELM_PLUGIN_NAME and
# also appends its errors to ${XDG_CACHE_HOME:-~/.cache}/trust-inject/helm-post-renderer.log.
set -eu
dir=${HELM_PLUGIN_DIR:-$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)}
if [ -x "$dir/bin/trust-inject" ]; then
  exec "$dir/bin/trust-inject" "$@"
fi
if command -v trust-inject >/dev/null 2>&1; then
  exec trust-inject "$@"
fi
msg="trust-inject: error: the trust-inject binary was found neither at $dir/bin/trust-inject nor on PATH"
echo "$msg" >&2
log=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/trust-inject/helm-post-renderer.log
mkdir -p "$(dirname -- "$log")" 2>/dev/null && echo "$msg" >>"$log" 2>/dev/null || true
exit 127
