#!/usr/bin/env bash
# Benchmarks: `npm run bench` runs them all; `npm run bench:NAME` one of them.
# Figures are printed and written as JSON under bench-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
which=${1:-all}
shift || true
case "$which" in
  repo) node dist/bench/repoIndex.js "$@" ;;
  # Installs into a fresh filesystem per run: a loop-mounted ext4 image as root.
  install) node dist/bench/installBench.js "$@" ;;
  # The resolver against Debian's testsolv (libsolv) on the same generated problems.
  solve) node dist/bench/solveBench.js "$@" ;;
  all)
    if (($# > 0)); then
      echo "bench: options go to one benchmark: npm run bench:NAME -- OPTIONS" >&2
      exit 2
    fi
    node dist/bench/repoIndex.js
    node dist/bench/installBench.js
    node dist/bench/solveBench.js
    ;;
  *) echo "bench: unknown benchmark '$which' (known: repo, install, solve)" >&2; exit 2 ;;
esac
