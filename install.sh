#!/bin/sh
# Installs resource-tracker.
#
#   curl -fsSL https://github.com/sparecores/resource-tracker-deno/releases/latest/download/install.sh | sh
#   curl -fsSL …/install.sh | sh -s -- --prefix /opt/rt --version v0.1.0
#   sh install.sh --from-clone          # from a clone: put bin/resource-tracker on PATH (needs Deno
#                                       # or npm, no release download)
#
# Downloads resource-tracker-TARGET.tar.gz for this OS and CPU and its .sha256, checks the
# SHA-256, and copies the binary to PREFIX/bin (default ~/.local/bin). It never uses root unless
# asked with --sudo. Options (or variables):
#   --prefix DIR       install to DIR/bin (RESOURCE_TRACKER_PREFIX; default ~/.local)
#   --version TAG      a release tag, e.g. v0.1.0 (RESOURCE_TRACKER_VERSION; default: latest)
#   --base-url URL     where the artifacts are (RESOURCE_TRACKER_BASE_URL; default: the project's
#                      GitHub releases for that version)
#   --from-clone       link this clone's launcher instead of downloading a binary
#   --sudo             use sudo to write PREFIX/bin when it is not writable
set -eu

RELEASES=https://github.com/sparecores/resource-tracker-deno/releases

prefix=${RESOURCE_TRACKER_PREFIX:-${HOME:?}/.local}
version=${RESOURCE_TRACKER_VERSION:-latest}
base_url=${RESOURCE_TRACKER_BASE_URL:-}
from_clone=false
sudo=

usage() {
  cat <<'USAGE'
install.sh [--prefix DIR] [--version TAG] [--base-url URL] [--sudo] | --from-clone
  Downloads resource-tracker-TARGET.tar.gz for this OS/CPU with its .sha256, checks the SHA-256
  and installs resource-tracker to PREFIX/bin (default ~/.local/bin). Never uses root unless
  --sudo is given. --from-clone links this clone's launcher (bin/resource-tracker) instead.
  Variables: RESOURCE_TRACKER_PREFIX, RESOURCE_TRACKER_VERSION, RESOURCE_TRACKER_BASE_URL.
USAGE
}

die() {
  echo "install.sh: error: $*" >&2
  exit 1
}
say() { echo "install.sh: $*" >&2; }

while [ $# -gt 0 ]; do
  case $1 in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --version) [ $# -ge 2 ] || die "--version needs a tag"; version=$2; shift 2 ;;
    --version=*) version=${1#--version=}; shift ;;
    --base-url) [ $# -ge 2 ] || die "--base-url needs a URL"; base_url=$2; shift 2 ;;
    --base-url=*) base_url=${1#--base-url=}; shift ;;
    --from-clone) from_clone=true; shift ;;
    --sudo) sudo=sudo; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option $1 (try --help)" ;;
  esac
done
[ -n "$prefix" ] || die "--prefix is empty"
bindir=${prefix%/}/bin

# Copies $1 to $bindir/resource-tracker (mode 0755), with sudo only when asked.
place() {
  if ! mkdir -p "$bindir" 2>/dev/null || [ ! -w "$bindir" ]; then
    if [ -z "$sudo" ]; then
      die "cannot write to $bindir; choose another --prefix or rerun with --sudo"
    fi
    $sudo mkdir -p "$bindir"
  fi
  $sudo rm -f "$bindir/resource-tracker.new"
  if [ "$2" = link ]; then
    $sudo ln -s "$1" "$bindir/resource-tracker.new"
  else
    $sudo cp "$1" "$bindir/resource-tracker.new"
    $sudo chmod 0755 "$bindir/resource-tracker.new"
  fi
  $sudo mv -f "$bindir/resource-tracker.new" "$bindir/resource-tracker"
  say "installed $bindir/resource-tracker"
  case ":${PATH:-}:" in
    *":$bindir:"*) ;;
    *) say "note: $bindir is not on PATH; add it, e.g. export PATH=\"$bindir:\$PATH\"" ;;
  esac
}

if $from_clone; then
  root=$(cd -- "$(dirname -- "$0")" && pwd -P)
  [ -f "$root/main.ts" ] && [ -x "$root/bin/resource-tracker" ] ||
    die "--from-clone: $root is not a resource-tracker clone (no main.ts, bin/resource-tracker)"
  place "$root/bin/resource-tracker" link
  exit 0
fi

case $(uname -s) in
  Linux) os=unknown-linux-gnu ;;
  Darwin) os=apple-darwin ;;
  *) die "unsupported operating system $(uname -s) (Linux and macOS are built)" ;;
esac
case $(uname -m) in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  *) die "unsupported CPU $(uname -m) (x86_64 and aarch64 are built)" ;;
esac
target=$arch-$os
artifact=resource-tracker-$target.tar.gz

if [ -z "$base_url" ]; then
  if [ "$version" = latest ]; then
    base_url=$RELEASES/latest/download
  else
    base_url=$RELEASES/download/$version
  fi
fi
base_url=${base_url%/}

# fetch URL FILE: fails (non-zero) on HTTP errors.
if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL --retry 2 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  die "neither curl nor wget found"
fi

if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
elif command -v openssl >/dev/null 2>&1; then
  sha256() { openssl dgst -sha256 -r "$1" | cut -d' ' -f1; }
else
  die "no sha256sum, shasum or openssl to verify the download"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/resource-tracker-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

say "downloading $base_url/$artifact"
fetch "$base_url/$artifact" "$tmp/$artifact" ||
  die "no release artifact for $(uname -s)/$(uname -m) ($artifact) at $base_url"
fetch "$base_url/$artifact.sha256" "$tmp/$artifact.sha256" ||
  die "no checksum file $artifact.sha256 at $base_url: not installing an unverified download"

expected=$(sed -n '1s/^\([0-9a-fA-F]\{64\}\).*/\1/p' "$tmp/$artifact.sha256" | tr 'A-F' 'a-f')
[ -n "$expected" ] || die "$artifact.sha256 holds no SHA-256: not installing an unverified download"
actual=$(sha256 "$tmp/$artifact")
if [ "$actual" != "$expected" ]; then
  die "checksum mismatch for $artifact: expected $expected, got $actual — the download is" \
    "corrupt or was tampered with; nothing was installed"
fi

mkdir "$tmp/x"
tar -xzf "$tmp/$artifact" -C "$tmp/x" || die "$artifact is not a readable .tar.gz"
[ -f "$tmp/x/resource-tracker" ] || die "$artifact has no resource-tracker inside"
place "$tmp/x/resource-tracker" copy
"$bindir/resource-tracker" --version >&2 || die "the installed binary does not run on this machine"
