#!/usr/bin/env bash
# npm run fuzz -- [TARGET...|all] [--seconds N] [--replay]: set up and build, then fuzz (fuzz/run.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
exec node dist/fuzz/run.js "$@"
