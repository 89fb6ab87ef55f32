#!/usr/bin/env bash
# Installs the TLS clients that tests/trust.rs runs inside its pod view, when they are missing.
#
# Usage: scripts/trust-clients.sh [DIR]     (DIR defaults to target/tmp/trust-clients)
#
# With apt-get (only what is missing): openssl, curl, util-linux (unshare, mount), nodejs,
# openjdk-17-jdk-headless (java, keytool), golang-go, python3 and python3-venv.
# From PyPI, into the virtual environment DIR/venv: requests (which brings certifi).
#
# Logs go to stderr. Standard output is one NAME=PATH line per tool, read by the test:
#   OPENSSL CURL UNSHARE MOUNT NODE JAVA KEYTOOL GO PYTHON
# Cheap to re-run: nothing is installed twice. Runs at the same time take turns (flock on DIR/.lock).
set -euo pipefail

dir=${1:-"$(cd "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)/target/tmp/trust-clients"}
mkdir -p "$dir"
log() { printf 'trust-clients: %s\n' "$*" >&2; }

# One install at a time: the tests that need the clients run in parallel, and two runs would
# race on the virtual environment and on apt's lock. flock comes with util-linux.
if command -v flock >/dev/null; then
    exec 9>"$dir/.lock"
    flock 9
fi

apt_updated=
apt_install() {
    if ! command -v apt-get >/dev/null; then
        log "missing $*, and apt-get is not available to install it"
        exit 1
    fi
    if [ -z "$apt_updated" ]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        apt_updated=1
    fi
    log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# command  Debian package
need() {
    command -v "$1" >/dev/null || apt_install "$2"
}
need openssl openssl
need curl curl
need unshare util-linux
need mount mount
need node nodejs
need keytool openjdk-17-jdk-headless
need go golang-go
need python3 python3

java_bin=java
if ! java -version 2>&1 | grep -q 'version "17'; then
    apt_install openjdk-17-jdk-headless
    java_bin=/usr/lib/jvm/java-17-openjdk-amd64/bin/java
fi

venv="$dir/venv"
if ! "$venv/bin/python" -c 'import requests, certifi' 2>/dev/null; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >&2; then
        apt_install python3-venv
        rm -rf "$venv"
        python3 -m venv "$venv" >&2
    fi
    log "pip install requests into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check requests >&2
fi

printf 'OPENSSL=%s\n' "$(command -v openssl)"
printf 'CURL=%s\n' "$(command -v curl)"
printf 'UNSHARE=%s\n' "$(command -v unshare)"
printf 'MOUNT=%s\n' "$(command -v mount)"
printf 'NODE=%s\n' "$(command -v node)"
printf 'JAVA=%s\n' "$(readlink -f "$(command -v "$java_bin")")"
printf 'KEYTOOL=%s\n' "$(command -v keytool)"
printf 'GO=%s\n' "$(command -v go)"
printf 'PYTHON=%s\n' "$venv/bin/python"
