#!/usr/bin/env bash
# Prepares a fresh Debian machine to build, test and demo Kiln, then builds it.
# Idempotent: installs only what is missing, reinstalls npm packages only when
# package-lock.json changed, and rebuilds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
# bwrap: every build script runs in its sandbox (docs/recipes.md, "The sandbox").
# zsh, fish: the completion tests run the scripts `kiln completion` prints in the real shells.
for tool in minisign zstd tar gcc make patch bzip2 xz readelf bwrap zsh fish groff; do
  # Debian package names where they differ from the command's.
  case $tool in xz) package=xz-utils ;; readelf) package=binutils ;; bwrap) package=bubblewrap ;; groff) package=groff-base ;; *) package=$tool ;; esac
  command -v "$tool" >/dev/null 2>&1 || missing+=("$package")
done
# The host's zlib headers, library and pkg-config file: the sandbox tests check a build cannot reach them, so they must be there.
command -v pkg-config >/dev/null 2>&1 || missing+=(pkgconf)
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
# GNU time: the hostile-payload tests measure a refused bomb's peak memory with it.
[ -x /usr/bin/time ] || missing+=(time)
# Chromium: the web catalog's browser test drives Debian's build (playwright-core, no browser download).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# rsync and sshd: kiln repo push to an rsync-over-ssh mirror, tested against a throw-away sshd on loopback.
command -v rsync >/dev/null 2>&1 || missing+=(rsync)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
# busybox: a bundle's kiln-relocate is tested with busybox's tools alone, as on a minimal host.
command -v busybox >/dev/null 2>&1 || missing+=(busybox)
# PostgreSQL's server: the build farm's catalog tests start a throw-away one (initdb into a temporary directory).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if ((${#missing[@]} > 0)); then
  packages=("${missing[@]}")
  echo "setup: installing ${packages[*]} with apt-get" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  else
    echo "setup: missing ${packages[*]}; install them with: apt-get install ${packages[*]}" >&2
    exit 1
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (native addons compile from source)" >&2
  # JOBS lets node-gyp compile the bundled zstd on every core.
  JOBS=max npm ci --no-audit --no-fund --loglevel=error
fi

# kilnd's one native addon (native/peercred.c: SO_PEERCRED); npm ci builds it, this rebuilds it when its source changed.
if [ ! -f build/Release/kiln_peercred.node ] || [ native/peercred.c -nt build/Release/kiln_peercred.node ]; then
  npm run --silent build:native >/dev/null
fi

npx --no-install tsc -p tsconfig.json
# The `kiln` command as one file with V8's code cache (dist/kiln.cjs; docs/performance.md, "Start-up of a query").
node dist/src/cli/writeBundle.js >/dev/null
# The man pages (kiln(1), kiln-COMMAND(1), kiln.toml(5)), from the tables --help uses; package.json names dist/man.
node dist/src/cli/writeManPages.js dist/man
