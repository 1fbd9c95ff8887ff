#!/usr/bin/env bash
# Benchmarks: `npm run bench` runs them all; `npm run bench:NAME` one of them.
# Figures are printed and written as JSON under bench-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
which=${1:-all}
shift || true

# The install benchmark compares Kiln with dpkg (always there on Debian), pacman
# and rpm, counts sync calls with strace and peak memory with GNU time. As root,
# install what is missing; otherwise (or when apt-get fails) the benchmark skips
# what it cannot run and says so.
install_bench_tools() {
  local missing=() tool package
  for tool in pacman rpm rpmbuild zstd bsdtar strace /usr/bin/time /usr/sbin/nginx; do
    case $tool in
      /usr/sbin/nginx) package=nginx ;;
      pacman) package=pacman-package-manager ;;
      rpm | rpmbuild) package=rpm ;;
      bsdtar) package=libarchive-tools ;;
      /usr/bin/time) package=time ;;
      *) package=$tool ;;
    esac
    command -v "$tool" >/dev/null 2>&1 || [[ " ${missing[*]} " == *" $package "* ]] || missing+=("$package")
  done
  ((${#missing[@]} == 0)) && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "bench: not root: not installing ${missing[*]}; the install benchmark skips what needs them" >&2
    return 0
  fi
  echo "bench: installing ${missing[*]} with apt-get" >&2
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
    echo "bench: apt-get could not install ${missing[*]}; the install benchmark skips what needs them" >&2
  fi
}

case "$which" in
  repo) node dist/bench/repoIndex.js "$@" ;;
  # Installs into a fresh filesystem per run: a loop-mounted ext4 image as root.
  install)
    install_bench_tools
    node dist/bench/installBench.js "$@"
    ;;
  # Sync, search and start-up on a 20,000-package index: Kiln, pacman and apt over loopback HTTP.
  index)
    install_bench_tools
    node dist/bench/indexBench.js "$@"
    ;;
  # The resolver against Debian's testsolv (libsolv) on the same generated problems.
  solve) node dist/bench/solveBench.js "$@" ;;
  # kiln serve against nginx on the same published tree, loaded with autocannon.
  serve)
    install_bench_tools
    node dist/bench/serveBench.js "$@"
    ;;
  # kiln bundle of the demo's nginx (npm run demo first): size trimmed and untrimmed, unpack + fix-up time.
  bundle) node dist/bench/bundleBench.js "$@" ;;
  # What a query costs over Node's own start-up: the bundled command against its modules (docs/performance.md, "Start-up").
  startup) node dist/bench/startupBench.js "$@" ;;
  # The build farm's queue on PostgreSQL and SQLite, driven by simulated workers (docs/scale.md).
  farm) node dist/bench/farmBench.js "$@" ;;
  # The farm's coordinator over real HTTP: claims and uploads checked, signed and published (docs/scale.md).
  farm-http) node dist/bench/farmHttpBench.js "$@" ;;
  # Index format v2 at 100,000 and 1,000,000 entries: sync, lazy plans, re-sync by delta.
  shards) node --max-old-space-size=8192 dist/bench/shardBench.js "$@" ;;
  all)
    if (($# > 0)); then
      echo "bench: options go to one benchmark: npm run bench:NAME -- OPTIONS" >&2
      exit 2
    fi
    node dist/bench/repoIndex.js
    install_bench_tools
    for shape in mixed medium huge; do node dist/bench/installBench.js --shape "$shape"; done
    node dist/bench/indexBench.js
    node dist/bench/startupBench.js
    node dist/bench/solveBench.js
    node dist/bench/solveBench.js --shape distro
    node dist/bench/serveBench.js
    node --max-old-space-size=8192 dist/bench/shardBench.js
    node dist/bench/farmBench.js
    node dist/bench/farmHttpBench.js
    ;;
  *) echo "bench: unknown benchmark '$which' (known: repo, install, index, solve, shards, serve, bundle, startup, farm)" >&2; exit 2 ;;
esac
