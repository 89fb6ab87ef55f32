#!/bin/sh
# Installs trust-inject.
#
#   From a checkout:   ./install.sh [--helm-plugin]        (builds with cargo install --locked)
#   From a release:    curl -fsSL <url>/install.sh | sh    (downloads, verifies SHA-256, installs)
#                      curl -fsSL <url>/install.sh | sh -s -- --version 0.1.0 --prefix /usr/local
#
# Run with --help for every option. POSIX sh; check with `shellcheck -s sh install.sh`.

set -eu

# The release this script installs when no --version is given.
PINNED_VERSION=0.1.0
RELEASES_URL=https://github.com/trust-inject/trust-inject/releases/download

me=install.sh
tmp_dir=
staged=

say() { printf '%s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$me" "$*" >&2; }
die() {
	printf '%s: error: %s\n' "$me" "$*" >&2
	exit 1
}

cleanup() {
	if [ -n "$staged" ]; then rm -rf "$staged"; fi
	if [ -n "$tmp_dir" ]; then rm -rf "$tmp_dir"; fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

usage() {
	cat <<EOF
Install trust-inject.

Usage:
  sh install.sh [OPTIONS]
  curl -fsSL https://.../install.sh | sh -s -- [OPTIONS]

Modes:
  In a checkout (the script's folder holds the Cargo.toml of trust-inject) the binary is
  built and installed with
      cargo install --locked --path <checkout> --root <prefix>
  Otherwise, or with --download, the release archive for this platform is downloaded with its
  SHA256SUMS file, verified, and installed. Nothing is installed unless every step succeeded.

Options:
  --prefix DIR        Install the binary as DIR/bin/trust-inject. Default: \$HOME/.local
  --download          Download a release even when run from a checkout.
  --version V         Release version to download (without the leading v).
                      Default: $PINNED_VERSION (the version this script pins).
  --base-url URL      Where the release files are: URL/trust-inject-<version>-<platform>.tar.gz
                      and URL/SHA256SUMS. https://, http://, file:// and plain local folders
                      are accepted. Default: \$TRUST_INJECT_BASE_URL, else
                      $RELEASES_URL/v<version>
  --platform P        Platform of the archive to download instead of the detected one:
                      linux-x86_64, linux-aarch64, darwin-x86_64 or darwin-aarch64.
  --binary PATH       Install this already-built binary instead of building or downloading
                      (no cargo, no network). Default: \$TRUST_INJECT_INSTALL_BINARY.
  --helm-plugin       Also install the Helm 4 post-renderer plugin (postrenderer/v1): the
                      checkout's helm-plugin/ folder (or the release archive's) is copied to
                      <plugins>/trust-inject and the binary to <plugins>/trust-inject/bin/.
  --helm-plugins DIR  The Helm 4 plugin folder <plugins>. Default: \$HELM_PLUGINS, else
                      \${XDG_DATA_HOME:-\$HOME/.local/share}/helm/plugins
                      (\$HOME/Library/helm/plugins on macOS without XDG_DATA_HOME).
                      Helm 3 and Helm 4 share that default folder, and Helm 3 fails to load a
                      postrenderer/v1 plugin: give Helm 4 its own HELM_PLUGINS folder.
  -h, --help          Show this help and exit.

Environment:
  TRUST_INJECT_BASE_URL         Default for --base-url.
  TRUST_INJECT_INSTALL_BINARY   Default for --binary.
  HELM_PLUGINS                  Default for --helm-plugins.
  CARGO_TARGET_DIR              Passed through to cargo install (reuse an existing build).

Downloads use curl or wget, whichever is found; checksums use sha256sum or shasum -a 256.
EOF
}

# ---------------------------------------------------------------------------------------------
# Options

prefix=
force_download=0
version=
base_url=${TRUST_INJECT_BASE_URL:-}
platform=
binary=${TRUST_INJECT_INSTALL_BINARY:-}
helm_plugin=0
helm_plugins=

need_arg() {
	if [ "$2" -lt 2 ]; then die "option $1 needs a value (see --help)"; fi
}

while [ $# -gt 0 ]; do
	case $1 in
	-h | --help)
		usage
		exit 0
		;;
	--prefix)
		need_arg "$1" $#
		prefix=$2
		shift 2
		;;
	--prefix=*)
		prefix=${1#*=}
		shift
		;;
	--download)
		force_download=1
		shift
		;;
	--version)
		need_arg "$1" $#
		version=$2
		shift 2
		;;
	--version=*)
		version=${1#*=}
		shift
		;;
	--base-url)
		need_arg "$1" $#
		base_url=$2
		shift 2
		;;
	--base-url=*)
		base_url=${1#*=}
		shift
		;;
	--platform)
		need_arg "$1" $#
		platform=$2
		shift 2
		;;
	--platform=*)
		platform=${1#*=}
		shift
		;;
	--binary)
		need_arg "$1" $#
		binary=$2
		shift 2
		;;
	--binary=*)
		binary=${1#*=}
		shift
		;;
	--helm-plugin)
		helm_plugin=1
		shift
		;;
	--helm-plugins)
		need_arg "$1" $#
		helm_plugins=$2
		shift 2
		;;
	--helm-plugins=*)
		helm_plugins=${1#*=}
		shift
		;;
	--)
		shift
		;;
	*)
		die "unknown option: $1 (see --help)"
		;;
	esac
done

if [ -z "$prefix" ]; then
	[ -n "${HOME:-}" ] || die "HOME is not set; give --prefix DIR"
	prefix=$HOME/.local
fi
version=${version:-$PINNED_VERSION}
version=${version#v}
[ -n "$version" ] || die "--version must not be empty"
base_url=${base_url:-$RELEASES_URL/v$version}

# ---------------------------------------------------------------------------------------------
# Helpers

make_tmp_dir() {
	tmp_dir=$(mktemp -d 2>/dev/null || mktemp -d -t trust-inject) ||
		die "cannot create a temporary folder"
}

# The folder of this script when it is run from a file (not piped into sh) and that folder is a
# trust-inject checkout; empty otherwise.
find_checkout() {
	case $0 in
	*/*) dir=${0%/*} ;;
	*) dir=. ;;
	esac
	[ -f "$0" ] || return 0
	[ -f "$dir/Cargo.toml" ] || return 0
	grep -q '^[[:space:]]*name[[:space:]]*=[[:space:]]*"trust-inject"' "$dir/Cargo.toml" ||
		return 0
	(cd "$dir" && pwd -P)
}

detect_platform() {
	os=$(uname -s) || die "uname -s failed"
	arch=$(uname -m) || die "uname -m failed"
	case $os in
	Linux) os=linux ;;
	Darwin) os=darwin ;;
	*) die "unsupported operating system: $os (releases exist for Linux and macOS; build from a checkout with cargo instead)" ;;
	esac
	case $arch in
	x86_64 | amd64) arch=x86_64 ;;
	aarch64 | arm64) arch=aarch64 ;;
	*) die "unsupported CPU architecture: $arch (releases exist for x86_64 and aarch64; build from a checkout with cargo instead)" ;;
	esac
	printf '%s-%s\n' "$os" "$arch"
}

# fetch URL-OR-PATH DEST: copies a local file (plain path or file:// URL) or downloads it.
fetch() {
	src=$1
	dest=$2
	case $src in
	file://*)
		path=${src#file://}
		case $path in
		localhost/*) path=${path#localhost} ;;
		esac
		[ -f "$path" ] || return 1
		cp "$path" "$dest"
		;;
	http://* | https://*)
		if command -v curl >/dev/null 2>&1; then
			curl -fsSL --retry 2 -o "$dest" "$src"
		elif command -v wget >/dev/null 2>&1; then
			wget -q -O "$dest" "$src"
		else
			die "neither curl nor wget is installed; install one of them (or use --base-url with a local folder)"
		fi
		;;
	*://*)
		die "unsupported URL scheme in $src (use https://, http://, file:// or a local folder)"
		;;
	*)
		[ -f "$src" ] || return 1
		cp "$src" "$dest"
		;;
	esac
}

sha256_of() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | awk '{ print $1 }'
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$1" | awk '{ print $1 }'
	else
		die "neither sha256sum nor shasum is installed; cannot verify the download"
	fi
}

# Copies FILE to DIR/NAME atomically: a temporary file in DIR, then mv over the target.
install_file() {
	file=$1
	dir=$2
	name=$3
	mkdir -p "$dir" || die "cannot create $dir"
	staged=$dir/.$name.tmp.$$
	cp "$file" "$staged" || die "cannot write $staged"
	chmod 755 "$staged"
	mv -f "$staged" "$dir/$name" || die "cannot install $dir/$name"
	staged=
}

default_helm_plugins() {
	if [ -n "${XDG_DATA_HOME:-}" ]; then
		printf '%s\n' "$XDG_DATA_HOME/helm/plugins"
	elif [ "$(uname -s)" = Darwin ]; then
		printf '%s\n' "$HOME/Library/helm/plugins"
	else
		printf '%s\n' "$HOME/.local/share/helm/plugins"
	fi
}

# install_helm_plugin PLUGIN_SRC_DIR BINARY: PLUGIN_SRC_DIR holds plugin.yaml.
install_helm_plugin() {
	src=$1
	bin=$2
	[ -f "$src/plugin.yaml" ] || die "no Helm plugin manifest at $src/plugin.yaml"
	plugins_dir=$helm_plugins
	from_default=0
	if [ -z "$plugins_dir" ]; then plugins_dir=${HELM_PLUGINS:-}; fi
	if [ -z "$plugins_dir" ]; then
		[ -n "${HOME:-}" ] || die "HOME is not set; give --helm-plugins DIR"
		plugins_dir=$(default_helm_plugins)
		from_default=1
	fi
	mkdir -p "$plugins_dir" || die "cannot create $plugins_dir"
	target=$plugins_dir/trust-inject
	staged=$plugins_dir/.trust-inject.tmp.$$
	rm -rf "$staged"
	mkdir "$staged" || die "cannot create $staged"
	cp -R "$src/." "$staged/" || die "cannot copy the plugin into $staged"
	mkdir -p "$staged/bin"
	cp "$bin" "$staged/bin/trust-inject" || die "cannot copy the binary into the plugin"
	chmod 755 "$staged/bin/trust-inject"
	if [ -e "$target" ]; then
		old=$plugins_dir/.trust-inject.old.$$
		mv "$target" "$old" || die "cannot replace $target"
		if ! mv "$staged" "$target"; then
			mv "$old" "$target"
			die "cannot install $target"
		fi
		rm -rf "$old"
	else
		mv "$staged" "$target" || die "cannot install $target"
	fi
	staged=
	say "Installed the Helm 4 plugin: $target (use: helm install ... --post-renderer trust-inject)"
	if [ "$from_default" = 1 ]; then
		warn "Helm 3 and Helm 4 share the default plugin folder $plugins_dir, and a postrenderer/v1 plugin breaks Helm 3's plugin loading. Give Helm 4 its own folder: rerun with HELM_PLUGINS=<dir> (or --helm-plugins <dir>) and set the same HELM_PLUGINS whenever you run Helm 4; keep Helm 3 on the default."
	fi
}

path_hint() {
	case :${PATH:-}: in
	*:"$prefix/bin":*) ;;
	*) say "Note: $prefix/bin is not on your PATH; add it, e.g. export PATH=\"$prefix/bin:\$PATH\"" ;;
	esac
}

# ---------------------------------------------------------------------------------------------
# Modes

# Prints the path of the binary inside the extracted archive.
download_release() {
	# Called as $(download_release) || exit: set -e is off in here, so every step checks itself.
	if [ -z "$platform" ]; then platform=$(detect_platform) || exit 1; fi
	case $platform in
	linux-x86_64 | linux-aarch64 | darwin-x86_64 | darwin-aarch64) ;;
	*) die "unknown platform $platform (expected linux-x86_64, linux-aarch64, darwin-x86_64 or darwin-aarch64)" ;;
	esac
	base=${base_url%/}
	archive=trust-inject-$version-$platform.tar.gz

	say "Downloading trust-inject $version for $platform from $base" >&2
	fetch "$base/SHA256SUMS" "$tmp_dir/SHA256SUMS" ||
		die "download failed: $base/SHA256SUMS (is version $version released? check --version and --base-url)"
	fetch "$base/$archive" "$tmp_dir/$archive" ||
		die "download failed: $base/$archive (no release archive for $platform in version $version?)"

	expected=$(awk -v name="$archive" '
		{ sub(/\r$/, "") }
		($2 == name || $2 == "*" name) { print tolower($1); exit }
	' "$tmp_dir/SHA256SUMS")
	[ -n "$expected" ] || die "SHA256SUMS has no entry for $archive; refusing to install an unverified archive"
	actual=$(sha256_of "$tmp_dir/$archive")
	[ -n "$actual" ] || die "cannot compute the SHA-256 of $archive"
	if [ "$expected" != "$actual" ]; then
		die "checksum mismatch for $archive: SHA256SUMS says $expected, the download is $actual; nothing was installed"
	fi
	say "Verified SHA-256 of $archive" >&2

	mkdir "$tmp_dir/x" || die "cannot create $tmp_dir/x"
	tar -xzf "$tmp_dir/$archive" -C "$tmp_dir/x" || die "cannot extract $archive"
	found=
	for candidate in "$tmp_dir/x/trust-inject" "$tmp_dir"/x/*/trust-inject; do
		if [ -f "$candidate" ]; then
			found=$candidate
			break
		fi
	done
	[ -n "$found" ] || die "$archive holds no trust-inject binary"
	printf '%s\n' "$found"
}

make_tmp_dir

checkout=
if [ "$force_download" = 0 ]; then checkout=$(find_checkout); fi

# Decide what to install and check that everything is there before touching the prefix.
plugin_src=
if [ -n "$binary" ]; then
	[ -f "$binary" ] || die "--binary $binary: no such file"
	[ -x "$binary" ] || die "--binary $binary: not executable"
	mode=binary
	bin_src=$binary
	if [ -n "$checkout" ]; then plugin_src=$checkout/helm-plugin; fi
elif [ -n "$checkout" ]; then
	mode=cargo
	plugin_src=$checkout/helm-plugin
else
	mode=download
	bin_src=$(download_release) || exit 1
	plugin_src=${bin_src%/trust-inject}/helm-plugin
fi
if [ "$helm_plugin" = 1 ]; then
	if [ -z "$plugin_src" ]; then
		die "--helm-plugin needs the plugin manifest helm-plugin/plugin.yaml: run install.sh from a checkout"
	fi
	if [ ! -f "$plugin_src/plugin.yaml" ]; then
		if [ "$mode" = download ]; then
			die "--helm-plugin: the release archive has no helm-plugin/plugin.yaml; nothing was installed"
		fi
		die "--helm-plugin: no Helm plugin manifest at $plugin_src/plugin.yaml; nothing was installed"
	fi
fi

case $mode in
cargo)
	command -v cargo >/dev/null 2>&1 ||
		die "cargo not found: install Rust (https://rustup.rs), or use --download to install a release"
	say "Building trust-inject from $checkout with cargo install --locked" >&2
	cargo install --locked --path "$checkout" --root "$prefix" ||
		die "cargo install failed"
	[ -x "$prefix/bin/trust-inject" ] || die "cargo install did not produce $prefix/bin/trust-inject"
	;;
*)
	install_file "$bin_src" "$prefix/bin" trust-inject
	;;
esac
say "Installed $prefix/bin/trust-inject"

if [ "$helm_plugin" = 1 ]; then
	install_helm_plugin "$plugin_src" "$prefix/bin/trust-inject"
fi

path_hint
