#!/usr/bin/env bash
# Helm 4: trust-inject as a postrenderer/v1 plugin. Installs helm-plugin/ into a throw-away
# plugin directory (never the default one: Helm 3 and 4 share it, and Helm 3 fails to load
# a v1 plugin), then post-renders the chart of ../helm3. Needs helm 4 and trust-inject on PATH.
set -euo pipefail
here=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Helm 4.1 installs local plugins into $HELM_DATA_HOME/plugins whatever HELM_PLUGINS says
# (helm/helm#32646), so point both at the same place.
export HELM_DATA_HOME="$tmp/data" HELM_PLUGINS="$tmp/data/plugins"
export HELM_CACHE_HOME="$tmp/cache" HELM_CONFIG_HOME="$tmp/config"
cp -R "$here/../../helm-plugin" "$tmp/trust-inject"   # no bin/: the plugin uses PATH
helm plugin install "$tmp/trust-inject" >&2
helm template shop "$here/../helm3/chart" \
  --post-renderer trust-inject \
  --post-renderer-args --configmap=corp-ca
