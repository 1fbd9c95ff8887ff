#!/usr/bin/env bash
# Benchmarks: `npm run bench` runs them all; `npm run bench:NAME` one of them.
# Figures are printed and written as JSON under bench-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
which=${1:-all}
shift || true
case "$which" in
  repo|all) node dist/bench/repoIndex.js "$@" ;;
  *) echo "bench: unknown benchmark '$which' (known: repo)" >&2; exit 2 ;;
esac
