#!/usr/bin/env bash
# The long run of the lock stress tests (test/writer-lock.test.ts runs a short one):
#   npm run stress                       # prefix and repository, 2,000 prefix commands
#   npm run stress -- prefix --commands 5000 --seed 7 --shared-cache
# Prints what happened and every problem found; exits 1 if there was one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/test/stress/run.js "$@"
