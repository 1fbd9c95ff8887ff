#!/bin/sh
# kiln-relocate: make an unpacked Kiln bundle name the directory it is in
# (docs/bundle.md). It needs no Kiln, no Node and no root: a POSIX shell and
# the tools every Linux has (cat cp dd head mv rm sed tail tr uname wc; grep;
# sha256sum and readlink for --verify). Run it again after moving the
# directory. Written by `kiln bundle`; the CPU feature table below comes from
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
# pad PREFIX ROOM: the prefix followed by "/" up to ROOM bytes.
pad() {
  p=$1
  while [ ${#p} -lt "$2" ]; do p=$p/; done
  printf '%s' "$p"
}

# bytes FILE OFFSET COUNT: COUNT bytes of FILE from OFFSET.
bytes() { tail -c +"$(($2 + 1))" "$1" | head -c "$3"; }

# starts TYPE OFFSETS PREFIX: where each occurrence starts in a file holding PREFIX.
starts() {
  shift_by=0
  [ "$1" = t ] && shift_by=$((${#3} - blen))
  i=0
  for off in $(printf '%s' "$2" | tr ',' ' '); do
    printf '%s ' $((off + i * shift_by))
    i=$((i + 1))
  done
}

# holds FILE TYPE SIZE ROOM OFFSETS PREFIX: the file holds PREFIX at every occurrence.
holds() {
  if [ "$2" = b ]; then
    [ ${#6} -le "$4" ] || return 1
    want=$(pad "$6" "$4")
  else
    count=$(printf '%s' "$5" | tr ',' '\n' | wc -l)
    [ $(($(wc -c <"$1"))) -eq $(($3 + (count + 1) * (${#6} - blen))) ] || return 1
    want=$6
  fi
  for at in $(starts "$2" "$5" "$6"); do
    [ "$(bytes "$1" "$at" ${#want})" = "$want" ] || return 1
  done
  return 0
}

# rewrite FILE TYPE ROOM OFFSETS FROM TO OUT: OUT is FILE holding TO where it held FROM.
rewrite() {
  if [ "$2" = b ]; then
    cp "$1" "$7" || return 1
    padded=$(pad "$6" "$3")
    for at in $(printf '%s' "$4" | tr ',' ' '); do
      printf '%s' "$padded" | dd of="$7" bs=1 seek="$at" conv=notrunc 2>/dev/null || return 1
    done
    return 0
  fi
  {
    pos=0
    for at in $(starts t "$4" "$5"); do
      [ "$at" -gt "$pos" ] && bytes "$1" "$pos" $((at - pos))
      printf '%s' "$6"
      pos=$((at + ${#5}))
    done
    tail -c +$((pos + 1)) "$1"
  } >"$7"
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
  sums=${TMPDIR:-/tmp}/kiln-relocate-verify.$$
  trap 'rm -f "$sums" "$sums.file"' EXIT
  bad=0
  : >"$sums"
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
    t | b)
      if [ ! -f "$file" ]; then
        echo "missing: $path"
        bad=$((bad + 1))
      elif ! holds "$file" "$type" "$size" "$rroom" "$offsets" "$current" ||
        ! rewrite "$file" "$type" "$rroom" "$offsets" "$current" "$placeholder" "$sums.file" ||
        [ "$(sha256sum <"$sums.file" | cut -d ' ' -f 1)" != "$sha" ]; then
        echo "changed: $path"
        bad=$((bad + 1))
      fi
      ;;
    esac
  done <"$meta/files.txt"
  failed=$(cd "$root" && sha256sum -c "$sums" 2>/dev/null | grep -v ': OK$')
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
  changed=0 bad=0
  while read -r type sha mode size rroom offsets path; do
    case $type in t | b) ;; *) continue ;; esac
    file=$root/$path
    [ -f "$file" ] || {
      warn "$path is missing; left as it is"
      bad=$((bad + 1))
      continue
    }
    # Only files inside the bundle are rewritten: not through a symbolic link, not out of it.
    real=$(cd -P -- "$(dirname -- "$file")" 2>/dev/null && pwd -P)
    case $real/ in "$root"/*) ;; *) real= ;; esac
    if [ -L "$file" ] || [ -z "$real" ]; then
      warn "$path is a symbolic link or lies outside $root; left as it is"
      bad=$((bad + 1))
      continue
    fi
    holds "$file" "$type" "$size" "$rroom" "$offsets" "$to" && continue
    from=
    for candidate in "$current" "$moving"; do
      [ -n "$candidate" ] && [ "$candidate" != "$to" ] && holds "$file" "$type" "$size" "$rroom" "$offsets" "$candidate" &&
        from=$candidate && break
    done
    tmp=$file.kiln-relocate.$$
    if [ -n "$from" ]; then
      rewrite "$file" "$type" "$rroom" "$offsets" "$from" "$to" "$tmp" || fail "cannot write $tmp"
    elif [ "$type" = t ]; then
      # Edited since it was bundled (a configuration file): the paths are found by their text.
      from=$current
      [ -n "$moving" ] && grep -F -q -- "$moving" "$file" && from=$moving
      if ! grep -F -q -- "$from" "$file"; then
        warn "$path was changed and no longer names $from; left as it is"
        continue
      fi
      warn "$path was changed since it was bundled; its paths were found by their text"
      sed "s|$(sed_pattern "$from")|$(sed_replacement "$to")|g" "$file" >"$tmp" || fail "cannot write $tmp"
    else
      warn "$path does not hold the bundle's path where the manifest says; left as it is"
      bad=$((bad + 1))
      continue
    fi
    # A new file renamed over the old one: a program running from the old one keeps it ("text file busy" never happens).
    chmod "$mode" "$tmp" && mv -f "$tmp" "$file" || fail "cannot replace $file"
    changed=$((changed + 1))
  done <"$meta/files.txt"
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
