#!/usr/bin/env bash
# Kiln's main job end to end, on embedded defaults: build a small C program
# with the real gcc into a staging tree (twice: two option variants), pack it
# and a data package, publish all three in a signed repository, verify it, and
# check the signatures with the real minisign. Everything goes to demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

root=$PWD
work=$root/demo-out
rm -rf "$work"
mkdir -p "$work"
cd "$work"

bold=''; plain=''
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m'; plain=$'\033[0m'; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
kiln() {
  printf '%s$ kiln' "$bold"; printf ' %q' "$@"; printf '%s\n' "$plain"
  node "$root/dist/src/cli/bin.js" "$@"
}

# A long, distinctive build prefix: packages record where it occurs, so that
# installing into any prefix is a table lookup, not a rebuild.
placeholder="/opt/kiln-placeholder-$(printf 'x%.0s' $(seq 1 48))"

say "1. A signing key (minisign format)"
kiln key generate --out keys

say "2. Build 'greet' with gcc into a staging tree, once per variant (+color and -color)"
for color in true false; do
  stage=build/greet-$color/stage
  mkdir -p "$stage/bin" "$stage/etc" "$stage/share/doc/greet"
  flags=()
  [ "$color" = true ] && flags+=(-DUSE_COLOR)
  gcc -O2 "${flags[@]}" -DSYSCONFDIR="\"$placeholder/etc\"" -o "$stage/bin/greet" "$root/scripts/demo/greet.c"
  echo "Hello" > "$stage/etc/greet.conf"
  echo "greet: a demo package for Kiln" > "$stage/share/doc/greet/README"
  sed -e "s|@PLACEHOLDER@|$placeholder|" -e "s|@COLOR@|$color|" "$root/scripts/demo/greet.toml.in" > "build/greet-$color/meta.toml"
  echo "built $stage/bin/greet ($(wc -c < "$stage/bin/greet") bytes)"
done

say "3. Pack: one signed package per variant, plus a data package"
for color in true false; do
  kiln pack "build/greet-$color/stage" --meta "build/greet-$color/meta.toml" --out packages --key keys/kiln.key
done
mkdir -p build/greet-data/stage/share/greet
printf 'en Hello\nfr Bonjour\nde Hallo\n' > build/greet-data/stage/share/greet/greetings
kiln pack build/greet-data/stage --meta "$root/scripts/demo/greet-data.toml" --out packages --key keys/kiln.key

say "4. Inspect a package (metadata read without decompressing; every hash checked)"
kiln inspect "$(ls packages/greet-1.2.3-r1-*.kpkg | head -n 1)" --trust keys/kiln.pub

say "5. Publish: a signed repository, git-like"
kiln repo init repo --key keys/kiln.key --name demo
kiln repo add repo packages/*.kpkg
kiln repo status repo
kiln repo commit repo -m "greet 1.2.3 (+color, -color) and greet-data 1.0"
kiln repo verify repo
kiln repo log repo

say "6. The real minisign verifies what Kiln signed"
printf '$ minisign -Vm repo/index.json -p repo/keys/*.pub\n'
minisign -Vm repo/index.json -p repo/keys/*.pub
mkdir -p extracted
tar -xf "$(ls repo/packages/app-misc/greet/*.kpkg | head -n 1)" -C extracted metadata.json metadata.json.minisig
printf '$ minisign -Vm extracted/metadata.json -p repo/keys/*.pub\n'
minisign -Vm extracted/metadata.json -p repo/keys/*.pub

say "Done"
echo "The repository in $work/repo is a static tree: serve it with any HTTP server."
find repo -path repo/.kiln -prune -o -type f -print | sort
