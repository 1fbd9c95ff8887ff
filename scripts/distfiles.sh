#!/usr/bin/env bash
# Fill a local distfiles directory with the real upstream tarballs the recipes
# name, from Debian's source archive (this machine kind has no other network).
# Each recipe source that names a Debian source package (`debian = "..."`) is
# fetched with `apt-get source --download-only`, and the tarball whose sha256
# is the recipe's is copied in under the recipe's file name.
#
#   bash scripts/distfiles.sh [DIR] [RECIPE...]     (default DIR: .cache/distfiles)
#
# Idempotent: files already present with the right sha256 are not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.cache/distfiles}
shift || true
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# "debian-package file sha256" for every source still missing, from the recipes themselves.
missing=$(node --input-type=module -e '
  import { openPortsTree, loadRecipe } from "./dist/src/build/index.js";
  import { existsSync, readFileSync } from "node:fs";
  import { createHash } from "node:crypto";
  const [dir, ...wanted] = process.argv.slice(1);
  const tree = await openPortsTree("recipes");
  const ids = wanted.length > 0 ? wanted : tree.ids;
  for (const id of ids) {
    const recipe = await loadRecipe(tree, id);
    for (const source of recipe.sources) {
      const path = dir + "/" + source.file;
      if (existsSync(path) && createHash("sha256").update(readFileSync(path)).digest("hex") === source.sha256) continue;
      if (source.debian === undefined) { console.error(`distfiles: ${id}: ${source.file} names no Debian source package; fetch it by hand`); continue; }
      console.log(`${source.debian} ${source.file} ${source.sha256}`);
    }
  }' "$dir" "$@")
if [ -z "$missing" ]; then
  echo "distfiles: $dir holds every source" >&2
  exit 0
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

# apt-get source needs deb-src entries: derive them from the configured deb entries.
if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "distfiles: adding deb-src entries for the configured suites" >&2
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources | as_root tee /etc/apt/sources.list.d/kiln-deb-src.sources >/dev/null
  else
    grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | sed 's/^deb /deb-src /' | as_root tee /etc/apt/sources.list.d/kiln-deb-src.list >/dev/null
  fi
  as_root apt-get update -qq
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
packages=$(awk '{print $1}' <<<"$missing" | sort -u)
echo "distfiles: fetching $(wc -w <<<"$packages") source package(s): $(tr '\n' ' ' <<<"$packages")" >&2
# Whether $work holds a file with every sha256 wanted from source package $1.
have_wanted() {
  local sums
  sums=$(cd "$work" && find . -maxdepth 1 -type f -exec sha256sum {} + 2>/dev/null | cut -d' ' -f1)
  while read -r package _ sha; do
    [ "$package" = "$1" ] || continue
    grep -qx "$sha" <<<"$sums" || return 1
  done <<<"$missing"
}
for package in $packages; do
  # Some suites list a source whose .dsc is not on the mirror; the tarballs still come.
  (cd "$work" && apt-get source --download-only -qq "$package" >/dev/null 2>&1) || (cd "$work" && apt-get update -qq 2>/dev/null; apt-get source --download-only -qq "$package" >/dev/null 2>&1) || true
  # The newest version may be on a mirror that does not answer (a security update whose
  # pool is missing here), or carry another tarball: try every version the suites list.
  have_wanted "$package" && continue
  for version in $(apt-cache showsrc "$package" 2>/dev/null | awk '/^Version:/ {print $2}' | sort -u); do
    (cd "$work" && apt-get source --download-only -qq "$package=$version" >/dev/null 2>&1) || true
    have_wanted "$package" && break
  done
done

status=0
while read -r package file sha; do
  found=
  for candidate in "$work"/*; do
    [ -f "$candidate" ] || continue
    if [ "$(sha256sum "$candidate" | cut -d' ' -f1)" = "$sha" ]; then found=$candidate; break; fi
  done
  if [ -z "$found" ]; then
    echo "distfiles: no tarball of Debian source package $package has the sha256 of $file ($sha)" >&2
    status=1
    continue
  fi
  cp "$found" "$dir/$file.part" && mv "$dir/$file.part" "$dir/$file"
  echo "distfiles: $file (from $package)" >&2
done <<<"$missing"
exit $status
