#!/usr/bin/env bash
# The test command (README, .ci/run): set up, type-check and build, then run
# every unit test (src/**/*.test.ts) and end-to-end test (test/*.test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Format and lint (Biome): a difference from the formatter's output or a lint finding fails the run.
npx --no-install biome check .
# The real upstream tarballs the build tests use (Debian's copies; fetched once, then cached).
bash scripts/distfiles.sh .cache/distfiles sys-libs/zlib dev-libs/pcre2 www-servers/nginx
# A minimal Debian root of this machine's release for the tests that install into / as root (made once, then cached).
bash scripts/rootfs.sh .cache/rootfs >/dev/null
mapfile -t files < <(find dist/src dist/test -name '*.test.js' | sort)
if ((${#files[@]} == 0)); then
  echo "test: no test files found under dist/" >&2
  exit 1
fi
exec node --test --test-concurrency=2 "$@" "${files[@]}"
