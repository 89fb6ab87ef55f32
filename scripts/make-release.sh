#!/bin/sh
# Builds a release archive in the layout install.sh downloads:
#
#   <out>/trust-inject-<version>-<platform>.tar.gz   trust-inject (the binary), README.md,
#                                                    LICENSE*, CHANGELOG.md, SECURITY.md,
#                                                    docs/ and examples/ (what README links
#                                                    to), and helm-plugin/ when present
#   <out>/SHA256SUMS                                 sha256sum lines for every archive in <out>
#
# Run once per platform into the same <out> folder, then upload the folder's files as the
# assets of the GitHub release v<version>. POSIX sh; `shellcheck -s sh scripts/make-release.sh`.
set -eu

usage() {
	cat <<USAGE
Usage: scripts/make-release.sh [OPTIONS]

  --out DIR        Folder for the archives and SHA256SUMS. Default: target/dist
  --version V      Version in the archive name. Default: the version in Cargo.toml
  --platform P     linux-x86_64, linux-aarch64, darwin-x86_64 or darwin-aarch64.
                   Default: this machine's platform
  --binary PATH    Package this binary instead of running cargo build --release --locked
  -h, --help       Show this help
USAGE
}

die() {
	printf 'make-release.sh: error: %s\n' "$*" >&2
	exit 1
}

root=$(cd "$(dirname "$0")/.." && pwd -P)
out=
version=
platform=
binary=
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help)
		usage
		exit 0
		;;
	--out | --version | --platform | --binary)
		[ $# -ge 2 ] || die "option $1 needs a value"
		case $1 in
		--out) out=$2 ;;
		--version) version=$2 ;;
		--platform) platform=$2 ;;
		--binary) binary=$2 ;;
		esac
		shift 2
		;;
	*) die "unknown option: $1 (see --help)" ;;
	esac
done

if [ -z "$version" ]; then
	version=$(sed -n 's/^version[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)
	[ -n "$version" ] || die "cannot read the version from $root/Cargo.toml; give --version"
fi
version=${version#v}

if [ -z "$platform" ]; then
	case $(uname -s) in
	Linux) os=linux ;;
	Darwin) os=darwin ;;
	*) die "unsupported operating system $(uname -s)" ;;
	esac
	case $(uname -m) in
	x86_64 | amd64) arch=x86_64 ;;
	aarch64 | arm64) arch=aarch64 ;;
	*) die "unsupported CPU architecture $(uname -m)" ;;
	esac
	platform=$os-$arch
fi
case $platform in
linux-x86_64 | linux-aarch64 | darwin-x86_64 | darwin-aarch64) ;;
*) die "unknown platform $platform" ;;
esac

if [ -z "$binary" ]; then
	(cd "$root" && cargo build --release --locked) || die "cargo build failed"
	binary=${CARGO_TARGET_DIR:-$root/target}/release/trust-inject
fi
[ -x "$binary" ] || die "no executable binary at $binary"

out=${out:-$root/target/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd -P)

stage=$(mktemp -d 2>/dev/null || mktemp -d -t trust-inject-release)
trap 'rm -rf "$stage"' EXIT
cp "$binary" "$stage/trust-inject"
chmod 755 "$stage/trust-inject"
for f in "$root"/README.md "$root"/LICENSE* "$root"/CHANGELOG.md "$root"/SECURITY.md; do
	if [ -f "$f" ]; then cp "$f" "$stage/"; fi
done
for d in docs examples; do
	if [ -d "$root/$d" ]; then cp -R "$root/$d" "$stage/$d"; fi
done
if [ -d "$root/helm-plugin" ]; then cp -R "$root/helm-plugin" "$stage/helm-plugin"; fi

archive=trust-inject-$version-$platform.tar.gz
(cd "$stage" && tar -czf "$out/.$archive.tmp" .)
mv -f "$out/.$archive.tmp" "$out/$archive"

if command -v sha256sum >/dev/null 2>&1; then
	sum() { sha256sum "$@"; }
else
	sum() { shasum -a 256 "$@"; }
fi
(cd "$out" && sum trust-inject-*.tar.gz >.SHA256SUMS.tmp && mv -f .SHA256SUMS.tmp SHA256SUMS)
printf '%s\n' "$out/$archive" "$out/SHA256SUMS"
