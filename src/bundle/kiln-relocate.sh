#!/bin/sh
# kiln-relocate: make an unpacked Kiln bundle name the directory it is in
# (docs/bundle.md). It needs no Kiln, no Node and no root: a POSIX shell and
# the tools every Linux has, from coreutils or busybox (cat chmod cp dd dirname
# grep head mv rm sed tail tr uname wc; and cut find readlink sha256sum tar for
# --verify). Run it again after moving the directory. Written by `kiln bundle`; the CPU feature table below comes from
# Kiln's own (src/solver/cpuLevel.ts).
set -u
LC_ALL=C
export LC_ALL
umask 022

usage() {
  cat <<'USAGE'
usage: kiln-relocate [--check | --verify] [--skip-checks] [DIR]

Rewrites the paths the bundle's files hold so that they name DIR (the
directory this script's bin/ is in, when DIR is not given), after checking
that this host can run the bundle (architecture, glibc version, CPU level).
Run it again after moving the directory; an interrupted run is finished by
the next one.

  --check        only check this host against the bundle's needs
  --verify       check every file against the bundle's manifest
  --skip-checks  relocate even when the host checks fail or cannot be made
USAGE
}

fail() {
  printf 'kiln-relocate: error: %s\n' "$1" >&2
  [ $# -gt 1 ] && printf '  hint: %s\n' "$2" >&2
  exit 1
}
warn() { printf 'kiln-relocate: warning: %s\n' "$1" >&2; }

action=relocate
checks=1
dir=
while [ $# -gt 0 ]; do
  case $1 in
  --check) action=check ;;
  --verify) action=verify ;;
  --skip-checks) checks=0 ;;
  -h | --help)
    usage
    exit 0
    ;;
  --) ;;
  -*) fail "unknown option $1" "kiln-relocate --help lists the options" ;;
  *)
    [ -z "$dir" ] || fail "more than one directory given ($dir, $1)"
    dir=$1
    ;;
  esac
  shift
done
if [ -z "$dir" ]; then
  case $0 in
  */*) dir=$(dirname -- "$0")/.. ;;
  *) fail "cannot tell where the bundle is from how this script was started ($0)" "run it by its path, or pass the bundle's directory" ;;
  esac
fi
root=$(cd -P -- "$dir" 2>/dev/null && pwd -P) || fail "cannot enter $dir"
meta=$root/.kiln-bundle
[ -f "$meta/files.txt" ] && [ -f "$meta/info" ] && [ -f "$meta/prefix" ] ||
  fail "$root is not an unpacked Kiln bundle: it has no .kiln-bundle/files.txt, info or prefix"

# ---- the bundle's facts (.kiln-bundle/info: KEY VALUE lines) ----
placeholder= room= arch= libc= libc_version= cpu= loaders=
while read -r key value; do
  case $key in
  placeholder) placeholder=$value ;;
  room) room=$value ;;
  arch) arch=$value ;;
  libc) libc=$value ;;
  libc-version) libc_version=$value ;;
  cpu) cpu=$value ;;
  loader) loaders="$loaders $value" ;;
  esac
done <"$meta/info"
[ -n "$placeholder" ] || fail "$meta/info names no placeholder"
blen=${#placeholder}

# ---- host checks ----
# version_ge A B: dotted version A is at least B.
version_ge() {
  a=$1 b=$2
  while [ -n "$a" ] || [ -n "$b" ]; do
    x=${a%%.*} y=${b%%.*}
    x=${x:-0} y=${y:-0}
    [ "$x" -gt "$y" ] && return 0
    [ "$x" -lt "$y" ] && return 1
    case $a in *.*) a=${a#*.} ;; *) a= ;; esac
    case $b in *.*) b=${b#*.} ;; *) b= ;; esac
  done
  return 0
}

# The psABI features of each x86-64 level: LEVEL FEATURE FLAGS IMPLIED-BY
# (flags: any of them shows the feature; implied-by: all of them do).
features='@X86_FEATURES@'

level_rank() {
  case $1 in
  x86-64) echo 1 ;; x86-64-v2) echo 2 ;; x86-64-v3) echo 3 ;; x86-64-v4) echo 4 ;; *) echo 0 ;;
  esac
}

# The features of the levels up to $1 that the flags in $2 do not show.
missing_features() {
  want=$(level_rank "$1")
  printf '%s\n' "$features" | while read -r level feature any all; do
    [ -n "$level" ] || continue
    [ "$(level_rank "$level")" -le "$want" ] || continue
    shown=0
    for flag in $(printf '%s' "$any" | tr ',' ' '); do
      case " $2 " in *" $flag "*) shown=1 ;; esac
    done
    if [ "$shown" = 0 ] && [ "$all" != - ]; then
      shown=1
      for flag in $(printf '%s' "$all" | tr ',' ' '); do
        case " $2 " in *" $flag "*) ;; *) shown=0 ;; esac
      done
    fi
    [ "$shown" = 1 ] || printf '%s ' "$feature"
  done
}

host_problem() {
  host_arch=$(uname -m)
  if [ "$host_arch" != "$arch" ]; then
    echo "the bundle is for $arch and this host is $host_arch"
    return
  fi
  loader=
  for each in $loaders; do
    if [ ! -e "$each" ]; then
      echo "this host has no $each, the loader the bundle's programs start with (it needs $libc $libc_version or newer)"
      return
    fi
    [ -n "$loader" ] || loader=$each
  done
  if [ -n "$loader" ] && [ "$libc" = glibc ]; then
    have=$("$loader" --version 2>/dev/null | sed -n '1s/.*version \([0-9][0-9]*\.[0-9][0-9.]*[0-9]\).*/\1/p')
    [ -n "$have" ] || have=$(getconf GNU_LIBC_VERSION 2>/dev/null | sed -n 's/^glibc \([0-9.]*\)$/\1/p')
    if [ -z "$have" ]; then
      echo "cannot tell this host's glibc version (neither $loader --version nor getconf says); the bundle needs $libc_version or newer"
      return
    fi
    if ! version_ge "$have" "$libc_version"; then
      echo "this host has glibc $have and the bundle needs $libc_version or newer"
      return
    fi
  fi
  if [ "$arch" = x86_64 ] && [ "$(level_rank "$cpu")" -gt 1 ]; then
    # glibc's loader knows best (glibc 2.33 and later list the levels); /proc/cpuinfo otherwise.
    listed=
    [ -n "$loader" ] && listed=$("$loader" --help 2>/dev/null | sed -n 's/^  \(x86-64-v[0-9]\) (\(.*\))$/\1 \2/p')
    if [ -n "$listed" ]; then
      printf '%s\n' "$listed" | grep -q "^$cpu .*supported" ||
        echo "this host's CPU does not run $cpu code, which the bundle holds (glibc's loader $loader says so)"
      return
    fi
    flags=$(sed -n 's/^flags[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
    if [ -z "$flags" ]; then
      echo "cannot tell this host's CPU level (no /proc/cpuinfo); the bundle needs $cpu"
      return
    fi
    missing=$(missing_features "$cpu" "$flags")
    [ -z "$missing" ] || echo "this host's CPU does not run $cpu code, which the bundle holds: it lacks ${missing% }"
  fi
}

check_host() {
  problem=$(host_problem)
  [ -z "$problem" ] && return 0
  [ "$checks" = 0 ] && {
    warn "$problem (going on: --skip-checks)"
    return 0
  }
  fail "$problem" "run the bundle on a host that meets its needs, or pass --skip-checks to relocate it anyway"
}

# ---- reading and rewriting occurrences ----
# Every tool run costs a process, and a bundle may have thousands of files to
# relocate (Python's .pyc files): the helpers below keep to shell built-ins
# where they can, and return their results in variables, not through $(…).
ifs=$IFS

# pad PREFIX ROOM: $padded is the prefix followed by "/" up to ROOM bytes.
pad() {
  padded=$1
  while [ ${#padded} -lt "$2" ]; do padded=$padded/; done
}

# count OFFSETS: $n is how many comma-separated offsets there are.
count() {
  n=1 rest=$1
  while :; do
    case $rest in *,*) rest=${rest#*,} n=$((n + 1)) ;; *) return ;; esac
  done
}

# bytes FILE OFFSET COUNT: COUNT bytes of FILE from OFFSET.
bytes() { dd if="$1" bs=1 skip="$2" count="$3" 2>/dev/null; }

# holds FILE SIZE OFFSETS PREFIX: the text file has the size it has when it holds PREFIX, and holds it at every
# occurrence.
holds() {
  count "$3"
  [ $(($(wc -c <"$1"))) -eq $(($2 + n * (${#4} - blen))) ] || return 1
  i=0
  IFS=,
  for off in $3; do
    IFS=$ifs
    [ "$(bytes "$1" $((off + i * (${#4} - blen))) ${#4})" = "$4" ] || return 1
    i=$((i + 1))
    IFS=,
  done
  IFS=$ifs
  return 0
}

# which FILE SIZE OFFSETS: $held is which of $to, $current and $moving the text file holds, told by its size and
# its first occurrence; empty when none.
which() {
  held=
  first=${3%%,*}
  count "$3"
  size=$(($(wc -c <"$1")))
  got=$(bytes "$1" "$first" "$longest")
  for candidate in "$to" "$current" "$moving"; do
    [ -n "$candidate" ] && [ "$size" -eq $(($2 + n * (${#candidate} - blen))) ] || continue
    case $got in "$candidate"*) held=$candidate && return ;; esac
  done
}

# rewrite FILE OFFSETS FROM TO OUT: OUT is the text FILE holding TO where it held FROM, with FILE's mode.
rewrite() {
  restore=
  cp -p "$1" "$5" 2>/dev/null || { cp "$1" "$5" && restore=1; } || return 1
  [ -w "$5" ] || { chmod u+w "$5" && restore=1; } || return 1
  {
    pos=0 i=0
    IFS=,
    for off in $2; do
      IFS=$ifs
      at=$((off + i * (${#3} - blen)))
      [ "$at" -gt "$pos" ] && tail -c +$((pos + 1)) "$1" | head -c $((at - pos))
      printf '%s' "$4"
      pos=$((at + ${#3})) i=$((i + 1))
      IFS=,
    done
    IFS=$ifs
    tail -c +$((pos + 1)) "$1"
  } >"$5"
}

# rewrite_binaries ROOM FILE...: the binary files (whose occurrences have ROOM bytes) name $to, whichever of
# $current and $moving each named. An occurrence is a path padded with "/" to ROOM bytes, a string no binary holds
# by chance, so it is found by its bytes, with one sed -i (GNU or busybox: both keep NUL bytes, and replace each
# file by a new one, renamed over it) for the whole batch instead of a few processes per file.
rewrite_binaries() {
  [ $# -gt 1 ] || return 0
  broom=$1
  shift
  pad "$to" "$broom"
  replacement=$(sed_replacement "$padded")
  script=
  for candidate in "$current" "$moving"; do
    [ -n "$candidate" ] && [ "$candidate" != "$to" ] && [ ${#candidate} -le "$broom" ] || continue
    pad "$candidate" "$broom"
    script="${script}s|$(sed_pattern "$padded")|$replacement|g;"
  done
  [ -n "$script" ] || return 0
  sed -i "$script" "$@" || fail "cannot rewrite the paths of binary files under $root" "the bundle's directory must be writable by you"
  changed=$((changed + $#))
}

sed_pattern() { printf '%s' "$1" | sed 's/[]\|.*[^$]/\\&/g'; }
sed_replacement() { printf '%s' "$1" | sed 's/[\|&]/\\&/g'; }

# ---- the actions ----
check_host_only() {
  problem=$(host_problem)
  if [ -n "$problem" ]; then
    printf 'kiln-relocate: this host cannot run the bundle: %s\n' "$problem"
    exit 1
  fi
  echo "kiln-relocate: this host runs the bundle ($arch, $libc $libc_version or newer, $cpu)"
}

verify() {
  current=$(cat "$meta/prefix")
  scratch=${TMPDIR:-/tmp}/kiln-relocate-verify.$$
  trap 'rm -rf "$scratch"' EXIT
  mkdir -p "$scratch/binary" || fail "cannot make $scratch"
  sums=$scratch/sums
  bad=0 batch_room=
  : >"$sums"
  set --
  while read -r type sha mode size rroom offsets path; do
    file=$root/$path
    case $type in
    d) [ -d "$file" ] || { echo "missing directory: $path" && bad=$((bad + 1)); } ;;
    f) printf '%s  %s\n' "$sha" "$path" >>"$sums" ;;
    l)
      if [ ! -L "$file" ]; then
        echo "missing symbolic link: $path"
        bad=$((bad + 1))
      elif [ "$(printf '%s' "$(readlink -- "$file")" | sha256sum | cut -d ' ' -f 1)" != "$sha" ]; then
        echo "changed link target: $path"
        bad=$((bad + 1))
      fi
      ;;
    b)
      # Copied in batches into a scratch tree per room, put back to the placeholder there, then hashed with the rest.
      if [ ! -f "$file" ]; then
        echo "missing: $path"
        bad=$((bad + 1))
        continue
      fi
      if [ "$rroom" != "$batch_room" ] || [ $# -ge 500 ]; then
        copy_binaries "$batch_room" "$@"
        set --
      fi
      batch_room=$rroom
      set -- "$@" "./$path"
      printf '%s  %s\n' "$sha" "$path" >>"$scratch/sums.$rroom"
      ;;
    t)
      if [ ! -f "$file" ]; then
        echo "missing: $path"
        bad=$((bad + 1))
      elif ! holds "$file" "$size" "$offsets" "$current" ||
        ! rewrite "$file" "$offsets" "$current" "$placeholder" "$scratch/file" ||
        [ "$(sha256sum <"$scratch/file" | cut -d ' ' -f 1)" != "$sha" ]; then
        echo "changed: $path"
        bad=$((bad + 1))
      fi
      ;;
    esac
  done <"$meta/files.txt"
  copy_binaries "$batch_room" "$@"
  failed=$(cd "$root" && sha256sum -c "$sums" 2>/dev/null | grep -v ': OK$')
  for list in "$scratch"/sums.*; do
    [ -f "$list" ] || continue
    broom=${list##*.}
    pad "$placeholder" "$broom"
    replacement=$(sed_replacement "$padded")
    pad "$current" "$broom"
    (cd "$scratch/binary/$broom" && find . -type f -exec sed -i "s|$(sed_pattern "$padded")|$replacement|g" {} +) ||
      fail "cannot check the binary files in $scratch"
    more=$(cd "$scratch/binary/$broom" && sha256sum -c "$list" 2>/dev/null | grep -v ': OK$')
    [ -z "$more" ] || failed=$(printf '%s\n%s' "$failed" "$more")
  done
  failed=$(printf '%s\n' "$failed" | grep -v '^$')
  if [ -n "$failed" ]; then
    printf '%s\n' "$failed" | sed 's/^\(.*\): FAILED open or read$/missing: \1/; s/^\(.*\): FAILED$/changed: \1/'
    bad=$((bad + $(printf '%s\n' "$failed" | wc -l)))
  fi
  if [ "$bad" -gt 0 ]; then
    echo "kiln-relocate: $bad problem(s) in $root"
    exit 1
  fi
  echo "kiln-relocate: ok: every file of $root matches the bundle's manifest"
}

# copy_binaries ROOM PATH...: copy the files (paths relative to the bundle) into the scratch tree of ROOM.
copy_binaries() {
  [ $# -gt 1 ] || return 0
  broom=$1
  shift
  mkdir -p "$scratch/binary/$broom" &&
    (cd "$root" && tar -cf - "$@") | (cd "$scratch/binary/$broom" && tar -xf -) ||
    fail "cannot copy the binary files into $scratch"
}

relocate() {
  check_host
  to=$root
  case $to in
  *[\'\"\$\`\\]*)
    fail "cannot relocate into $to: the path holds a quote, \$, \` or \\, which the bundle's scripts cannot carry" \
      "unpack it into a directory whose path has none of them"
    ;;
  esac
  if [ "$room" != - ] && [ ${#to} -gt "$room" ]; then
    fail "cannot relocate into $to: the path is ${#to} bytes long and the bundle's binary files have room for $room" \
      "unpack it into a directory whose path is at most $room bytes long"
  fi
  current=$(cat "$meta/prefix")
  moving=
  [ -f "$meta/moving" ] && moving=$(cat "$meta/moving")
  if [ "$current" = "$to" ] && [ -z "$moving" ]; then
    echo "kiln-relocate: $to already names itself; nothing to do"
    return 0
  fi
  # Where this run goes is written first: a run cut short leaves it, and the next run finishes the files it did not reach.
  if [ "$moving" != "$to" ]; then
    printf '%s\n' "$to" >"$meta/moving.new" && mv -f "$meta/moving.new" "$meta/moving" ||
      fail "cannot write $meta/moving" "the bundle's directory must be writable by you"
  fi
  longest=${#to}
  [ ${#current} -gt "$longest" ] && longest=${#current}
  [ ${#moving} -gt "$longest" ] && longest=${#moving}
  changed=0 bad=0 checked_dir= checked_ok= batch_room=
  set --
  while read -r type sha mode size rroom offsets path; do
    case $type in t | b) ;; *) continue ;; esac
    file=$root/$path
    [ -f "$file" ] || {
      warn "$path is missing; left as it is"
      bad=$((bad + 1))
      continue
    }
    # Only files inside the bundle are rewritten: not through a symbolic link, not out of it.
    dir=${file%/*}
    if [ "$dir" != "$checked_dir" ]; then
      real=$(cd -P -- "$dir" 2>/dev/null && pwd -P)
      checked_dir=$dir checked_ok=
      case $real/ in "$root"/*) checked_ok=1 ;; esac
    fi
    if [ -L "$file" ] || [ -z "$checked_ok" ]; then
      warn "$path is a symbolic link or lies outside $root; left as it is"
      bad=$((bad + 1))
      continue
    fi
    if [ "$type" = b ]; then
      # Binary files go to sed -i in batches: hundreds of files for one process (see rewrite_binaries).
      if [ "$rroom" != "$batch_room" ] || [ $# -ge 500 ]; then
        rewrite_binaries "$batch_room" "$@"
        set --
      fi
      batch_room=$rroom
      set -- "$@" "$file"
      continue
    fi
    which "$file" "$size" "$offsets"
    [ "$held" = "$to" ] && continue
    tmp=$file.kiln-relocate.$$
    if [ -n "$held" ]; then
      rewrite "$file" "$offsets" "$held" "$to" "$tmp" || fail "cannot write $tmp"
    else
      # Edited since it was bundled (a configuration file): the paths are found by their text.
      from=$current
      [ -n "$moving" ] && grep -F -q -- "$moving" "$file" && from=$moving
      if ! grep -F -q -- "$from" "$file"; then
        warn "$path was changed and no longer names $from; left as it is"
        continue
      fi
      warn "$path was changed since it was bundled; its paths were found by their text"
      restore=1
      sed "s|$(sed_pattern "$from")|$(sed_replacement "$to")|g" "$file" >"$tmp" || fail "cannot write $tmp"
    fi
    # The file's mode (cp -p kept it, unless it had to be made writable), and a new file renamed over the old
    # one: a program running from the old one keeps it ("text file busy" never happens).
    { [ -z "$restore" ] || chmod "$mode" "$tmp"; } && mv -f "$tmp" "$file" || fail "cannot replace $file"
    changed=$((changed + 1))
  done <"$meta/files.txt"
  rewrite_binaries "$batch_room" "$@"
  if [ "$bad" -gt 0 ]; then
    fail "$bad file(s) could not be relocated; the others now name $to" \
      "kiln-relocate --verify lists what differs from the bundle; unpack the bundle again to start over"
  fi
  printf '%s\n' "$to" >"$meta/prefix.new" && mv -f "$meta/prefix.new" "$meta/prefix" && rm -f "$meta/moving" ||
    fail "cannot write $meta/prefix"
  echo "kiln-relocate: $changed file(s) now name $to"
}

case $action in
check) check_host_only ;;
verify) verify ;;
relocate) relocate ;;
esac
