#!/usr/bin/env bash
# The whole ports tree end to end: build every recipe from the real upstream
# sources into a fresh signed repository (kiln bulk, dependencies first),
# install Python and Redis from it into a fresh prefix and run them, bundle
# Python and run it from the unpacked bundle before and after a move, then
# print how long each build took.
#
#   bash scripts/e2e-full.sh                 (npm run e2e:full)
#   SKIP_SETUP=1 bash scripts/e2e-full.sh    (dist/ already built: skip scripts/setup.sh)
#
# Then the build farm builds zlib, pcre2, lua, bzip2 and nginx with three workers, which must
# publish what kiln bulk did (test/e2e/farmRealRecipes.ts).
# As root it then installs nginx into / of a real Debian root (scripts/rootfs.sh),
# serves a page, upgrades it to a rebuilt revision and removes it
# (test/e2e/realRootNginx.ts). Slow: OpenSSL, Python, Redis and SQLite take
# most of the time (about 15 minutes on 2 cores). Everything goes into a new temporary directory, kept
# for inspection; its path and the JSON report are printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=$EPOCHREALTIME

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

# Host tools some recipes build with, as every recipe uses make and gcc:
# cmake for expat (its tag archive has no configure), tclsh for sqlite (the
# source tree generates its amalgamation with Tcl scripts).
build_tools() {
  local missing=()
  command -v cmake >/dev/null 2>&1 || missing+=(cmake)
  command -v tclsh >/dev/null 2>&1 || missing+=(tcl)
  ((${#missing[@]} == 0)) && return
  echo "e2e-full: installing ${missing[*]} with apt-get" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

[ "${SKIP_SETUP:-}" = 1 ] || bash scripts/setup.sh
bash scripts/distfiles.sh
build_tools

work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-e2e-full.XXXXXX")
kiln() { node "$root/dist/src/cli/kiln.cjs" "$@"; }
echo "e2e-full: working in $work" >&2

kiln key generate --out "$work/keys" >/dev/null
kiln repo init "$work/repo" --key "$work/keys/kiln.key" --name e2e-full >/dev/null

# Progress goes to stderr; the JSON report (one entry per recipe, with its seconds) to bulk.json.
bulk_started=$EPOCHREALTIME
bulk_status=0
kiln bulk --all --repo "$work/repo" --distfiles "$root/.cache/distfiles" \
  --work "$work/build" --report-dir "$work/build/reports" --json >"$work/bulk.json" || bulk_status=$?
built=$EPOCHREALTIME
if [ ! -s "$work/bulk.json" ]; then
  echo "e2e-full: kiln bulk stopped before writing its report (status $bulk_status)" >&2
  exit 1
fi

checks=()
if [ "$bulk_status" = 0 ]; then
  prefix=$work/prefix
  kiln --prefix "$prefix" init >/dev/null
  kiln --prefix "$prefix" remote add ports "$work/repo/public" --key "$work"/repo/public/keys/*.pub >/dev/null
  kiln --prefix "$prefix" sync >/dev/null
  kiln --prefix "$prefix" install python3 redis -y
  checks+=("$("$prefix/bin/python3" -c 'import sqlite3, ssl, zlib, bz2, lzma, ctypes, readline, curses, pyexpat
print("python3: sqlite", sqlite3.sqlite_version, "|", ssl.OPENSSL_VERSION, "| zlib", zlib.ZLIB_VERSION)')")
  checks+=("$("$prefix/bin/redis-server" --version)")
  # A bundle of python3 (with openssl, sqlite and the rest of its closure), unpacked elsewhere with a clean
  # environment, fixed up by its own script, then moved and fixed up again (docs/bundle.md).
  kiln --prefix "$prefix" bundle python3 --out "$work/python3-bundle.tar.gz"
  shipped="$work/shipped python/py"
  mkdir -p "$shipped"
  unpack_started=$EPOCHREALTIME
  env -i PATH=/usr/bin:/bin sh -c 'tar -xzf "$1" -C "$2" && "$2/bin/kiln-relocate"' sh "$work/python3-bundle.tar.gz" "$shipped"
  unpacked=$EPOCHREALTIME
  env -i PATH=/usr/bin:/bin "$shipped/bin/python3" -c 'import ssl, sqlite3'
  mv "$shipped" "$work/moved-python"
  env -i PATH=/usr/bin:/bin "$work/moved-python/bin/kiln-relocate"
  checks+=("bundle: $(env -i PATH=/usr/bin:/bin "$work/moved-python/bin/python3" -c 'import ssl, sqlite3, sys
print(sys.prefix, "|", ssl.OPENSSL_VERSION, "| sqlite", sqlite3.sqlite_version)') | $(stat -c %s "$work/python3-bundle.tar.gz") bytes, unpack + fix-up $(awk "BEGIN { printf \"%.2f\", $unpacked - $unpack_started }") s")
  # The build farm: a coordinator and three workers build zlib, pcre2, lua, bzip2 and nginx; the packages must equal
  # what kiln bulk just published; a client installs nginx from the coordinator and fetches a page.
  node "$root/dist/test/e2e/farmRealRecipes.js" "$work/farm" "$root/.cache/distfiles" "$work/repo"
  checks+=("build farm: 3 workers published what kiln bulk did; nginx installed from the coordinator served a page")
  # As root: nginx into / of a real Debian root (scripts/rootfs.sh), run, verified, upgraded to a rebuilt revision, removed.
  if [ "$(id -u)" = 0 ]; then
    node "$root/dist/test/e2e/realRootNginx.js" "$work" "$root/.cache/distfiles"
    checks+=("real root: nginx installed into /, served, upgraded, removed")
  else
    echo "e2e-full: not root: nginx into a real root is left out (it needs root)" >&2
  fi
fi
finished=$EPOCHREALTIME

# The table on stdout and the JSON report beside the repository.
node --input-type=module -e '
  import { readFileSync, writeFileSync } from "node:fs";
  const [work, started, bulkStarted, built, finished, bulkStatus, ...checks] = process.argv.slice(1);
  const bulk = JSON.parse(readFileSync(`${work}/bulk.json`, "utf8")).data;
  const seconds = (from, to) => Math.round((Number(to) - Number(from)) * 10) / 10;
  const report = {
    started: new Date(Number(started) * 1000).toISOString(),
    work,
    repo: `${work}/repo`,
    builds: bulk.entries.map(({ recipe, version, status, seconds, reason }) => ({ recipe, version, status, seconds: Math.round(seconds * 10) / 10, ...(reason === undefined ? {} : { reason }) })),
    buildSeconds: seconds(bulkStarted, built),
    installAndCheckSeconds: bulkStatus === "0" ? seconds(built, finished) : null,
    totalSeconds: seconds(started, finished),
    checks,
  };
  const path = `${work}/e2e-full-report.json`;
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  const rows = [["recipe", "version", "seconds", ""],
    ...report.builds.map((b) => [b.recipe, b.version, b.seconds.toFixed(1), b.status === "built" ? "" : `${b.status}${b.reason === undefined ? "" : `: ${b.reason}`}`]),
    ["install + run", "python3, redis", report.installAndCheckSeconds?.toFixed(1) ?? "-", ""],
    ["total wall time", "", report.totalSeconds.toFixed(1), "(setup, distfiles, builds, install)"]];
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => `${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2].padStart(8)}  ${r[3]}`.trimEnd();
  console.log(["", ...checks, "", ...rows.map(line), "", `report: ${path}`].join("\n"));
' "$work" "$started" "$bulk_started" "$built" "$finished" "$bulk_status" "${checks[@]}"

if [ "$bulk_status" != 0 ]; then
  echo "e2e-full: some recipes did not build (see the table above and $work/build/reports)" >&2
  exit 1
fi
