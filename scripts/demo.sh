#!/usr/bin/env bash
# Kiln's main job end to end, on embedded defaults: fill the distfiles with the
# real upstream tarballs, build zlib, pcre2 and nginx (+uwsgi) from source into
# a signed local repository, install nginx from it into a fresh unprivileged
# prefix, start it on a loopback port and show that it answers. Everything
# goes to demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
root=$PWD
started=$SECONDS

bold=''; plain=''
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m'; plain=$'\033[0m'; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '%s$' "$bold"; printf ' %q' "$@"; printf '%s\n' "$plain"; }

say "1. The real upstream sources (Debian's copies of the upstream tarballs; no other network here)"
bash scripts/distfiles.sh .cache/distfiles sys-libs/zlib dev-libs/pcre2 www-servers/nginx
distfiles=$root/.cache/distfiles

work=$root/demo-out
rm -rf "$work"
mkdir -p "$work"
cd "$work"
kiln_bin=$root/dist/src/cli/kiln.cjs
kiln() { show kiln "$@"; node "$kiln_bin" "$@"; }

say "2. A signing key and an empty signed repository (repo/.kiln private, repo/public the tree to serve)"
kiln key generate --out keys
kiln repo init repo --key keys/kiln.key --name demo

say "3. Build nginx with +uwsgi from source; its build dependencies pcre2 and zlib are built first"
build_started=$SECONDS
kiln build www-servers/nginx --with uwsgi --repo repo --distfiles "$distfiles" --work "$work/build"
build_seconds=$((SECONDS - build_started))

say "3b. Publish the security advisories shipped for the ports tree (advisories/): signed with the index"
kiln repo advisory add repo "$root"/advisories/CVE-*.json
kiln repo advisory triage repo CVE-2023-45853 zlib --status not-affected \
  --justification "the recipe builds the zlib library only; contrib/minizip is neither built nor installed"
kiln repo commit repo -m "advisories for the ports tree"
# nginx is built without ssl (so without HTTP/2: CVE-2023-44487 is not its), zlib's is triaged: nothing is affected.
kiln repo audit repo

# An unprivileged user installs: the invoking user, or (when run as root) a system account.
run_as=()
if [ "$(id -u)" = 0 ]; then
  id -u kiln-demo >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin kiln-demo
  run_as=(setpriv --reuid="$(id -u kiln-demo)" --regid="$(id -g kiln-demo)" --clear-groups --)
  if ! "${run_as[@]}" node -e "require('fs').accessSync('$kiln_bin')" 2>/dev/null; then
    # The checkout is private (a home directory): give the demo user a readable copy.
    mkdir -p "$work/kiln" && cp -r "$root/package.json" "$root/dist" "$root/node_modules" "$work/kiln/"
    chmod -R a+rX "$work/kiln"
    kiln_bin=$work/kiln/dist/src/cli/kiln.cjs
  fi
  chmod 755 "$work"
fi
mkdir -p "$work/home"
[ "$(id -u)" = 0 ] && chown kiln-demo: "$work/home"
prefix="$work/home/my stack"
user_kiln() { show kiln --prefix "$prefix" "$@"; "${run_as[@]}" node "$kiln_bin" --prefix "$prefix" "$@"; }

say "4. As ${run_as:+kiln-demo, }an unprivileged user: a fresh prefix (with a space in its path), the repository's published tree as a remote"
user_kiln init
user_kiln remote add demo "$work/repo/public" --key "$(ls "$work"/repo/public/keys/*.pub)"
user_kiln sync
user_kiln install "nginx[+uwsgi]" -y
user_kiln audit

say "5. nginx runs from the prefix: \$ORIGIN run path, no LD_LIBRARY_PATH, compiled-in paths relocated"
show readelf -d "$prefix/bin/nginx" '|' grep RPATH
readelf -d "$prefix/bin/nginx" | grep RPATH
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
# Start nginx ($1) as the demo user with the environment that $3... set (env …), GET the page on port $2 (status and
# title into $page), then stop it.
serve_page() {
  local nginx=$1 port=$2
  shift 2
  show "$nginx"
  "$@" "${run_as[@]}" "$nginx"
  trap '"${run_as[@]}" "'"$nginx"'" -s stop 2>/dev/null || true' EXIT
  page=
  for _ in $(seq 1 50); do
    page=$(node -e "require('http').get('http://127.0.0.1:$port/',r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>console.log(r.statusCode+' '+(b.match(/<title>(.*)<\/title>/)||[])[1]))}).on('error',()=>process.exit(1))" 2>/dev/null) && break
    sleep 0.1
  done
  printf "%s\$ GET http://127.0.0.1:%s/%s\n" "$bold" "$port" "$plain"
  echo "$page"
  "${run_as[@]}" "$nginx" -s stop
  trap - EXIT
}
port=$(free_port)
sed -i "s/listen       80;/listen 127.0.0.1:$port;/" "$prefix/etc/nginx/nginx.conf"
serve_page "$prefix/bin/nginx" "$port" env -u LD_LIBRARY_PATH
prefix_page=$page

say "6. Bundle it for a host without Kiln: unpacked elsewhere (a path with a space), fixed up by its own POSIX sh script"
user_kiln bundle nginx --out "$prefix/../nginx-bundle.tar.gz"
shipped="$work/home/shipped stack"
show tar -xzf nginx-bundle.tar.gz -C "$shipped" '&&' "$shipped/bin/kiln-relocate"
"${run_as[@]}" mkdir -p "$shipped"
"${run_as[@]}" tar -xzf "$work/home/nginx-bundle.tar.gz" -C "$shipped"
env -i PATH=/usr/bin:/bin "${run_as[@]}" "$shipped/bin/kiln-relocate"
bundle_port=$(free_port)
sed -i "s/listen 127.0.0.1:$port;/listen 127.0.0.1:$bundle_port;/" "$shipped/etc/nginx/nginx.conf"
serve_page "$shipped/bin/nginx" "$bundle_port" env -i PATH=/usr/bin:/bin
bundle_page=$page

say "Done in $((SECONDS - started)) s"
echo "built zlib, pcre2 and nginx +uwsgi from source in ${build_seconds} s; signed repository: $work/repo (published tree: $work/repo/public)"
echo "installed into: $prefix (no root, no LD_LIBRARY_PATH); nginx answered: $prefix_page"
echo "build logs: $work/build/logs"
echo "bundled into: $work/home/nginx-bundle.tar.gz; unpacked and fixed up in: $shipped; its nginx answered: $bundle_page"
case $prefix_page in 200*) ;; *) echo "demo: nginx did not answer as expected" >&2; exit 1 ;; esac
case $bundle_page in 200*) ;; *) echo "demo: the bundled nginx did not answer as expected" >&2; exit 1 ;; esac
