#!/usr/bin/env bash
# A real Debian root file system for the tests that install into `/` as root
# (test/real-root.test.ts): a minimal root of this machine's own release, made
# with Debian's mmdebstrap from the package archive this machine already uses
# (its apt sources), packed as a tarball and cached.
#
#   bash scripts/rootfs.sh [DIR]        (default DIR: .cache/rootfs)
#
# Prints the tarball's path. Idempotent: an existing tarball is kept. Needs
# root (mmdebstrap makes device nodes and owners); without root it says so and
# exits 0 without a tarball, and the tests that need one say why they cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.cache/rootfs}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

. /etc/os-release
suite=${VERSION_CODENAME:?this machine does not say its release in /etc/os-release}
tarball="$dir/$ID-$suite-minbase.tar"
if [ -f "$tarball" ] && [ -s "$tarball" ]; then
  echo "$tarball"
  exit 0
fi
rm -rf "$tarball" "$tarball.part"
if [ "$(id -u)" != 0 ]; then
  echo "rootfs: not root: no Debian root file system is made (the real-root tests need root)" >&2
  exit 0
fi
if ! command -v mmdebstrap >/dev/null 2>&1; then
  echo "rootfs: installing mmdebstrap with apt-get" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
fi

# The archive this machine's apt uses: the deb822 sources of its release (deb lines only), else sources.list.
sources=$(mktemp)
trap 'rm -f "$sources" "$tarball.part"' EXIT
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  cp /etc/apt/sources.list.d/debian.sources "$sources"
else
  grep -hE '^deb ' /etc/apt/sources.list >"$sources"
fi
echo "rootfs: making a minimal $ID $suite root with mmdebstrap (about two minutes)" >&2
# --format: the name ends in .part, from which mmdebstrap would guess a directory.
mmdebstrap --quiet --variant=minbase --format=tar "$suite" "$tarball.part" - <"$sources"
mv "$tarball.part" "$tarball"
echo "$tarball"
