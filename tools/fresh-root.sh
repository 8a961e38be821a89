#!/usr/bin/env bash
# fresh-root.sh: a fresh Debian root (debootstrap) to run a command as on a new CI machine,
# with nothing installed but what the command installs itself (no libc6-dbg, no warm caches).
#
#   tools/fresh-root.sh create DIR [SUITE]   debootstrap --variant=minbase SUITE (bookworm)
#                                            into DIR, with the host's Debian mirror
#   tools/fresh-root.sh checkout DIR [REV]   a clean copy of this repository at REV (default
#                                            HEAD, committed files only) in DIR/work/NAME,
#                                            NAME = the repository folder's name; replaces
#                                            an earlier copy and its build dirs
#   tools/fresh-root.sh run DIR CMD [ARG...] CMD inside the root, as root, cwd /work/NAME if
#                                            it exists
#   tools/fresh-root.sh destroy DIR          removes the root
#
# run: a private mount and PID namespace (unshare), so /proc, /sys, /dev, /dev/pts,
# /dev/shm and /tmp (tmpfs) are mounted only for that command and every process it starts
# (daemons included) ends with it; nothing to unmount or kill afterwards. The folder
# ../shared beside this repository (the read-only shared data) is bind-mounted read-only at
# DIR/work/shared, so ../shared is beside the checkout inside the root, as in CI. The host's
# network is shared (apt needs the mirror; tests use 127.0.0.1 only). Extra bind mounts:
# FRESH_ROOT_BIND="HOSTPATH:INSIDE[:ro] ..." (e.g. a folder of .deb files to install).
# Environment inside: a clean one (HOME=/root, PATH, LANG=C.UTF-8, CI=true,
# DEBIAN_FRONTEND=noninteractive; no TERM) plus HDRSCAN_* and FRESH_ROOT_ENV="NAME ..." from the
# caller's.
# create: the mirror is the first deb.debian.org-style URI in /etc/apt/sources.list* of the
# host (FRESH_ROOT_MIRROR overrides); the root gets SUITE, SUITE-updates and SUITE-security
# like a standard install, a policy-rc.d that stops package scripts starting daemons (a
# chroot has no init; tests start their own instances), the host's resolv.conf and an
# /etc/hosts as a Debian install has.
# Limits: Linux, root, needs debootstrap (apt-get install debootstrap) and unshare
# (util-linux). Two `run`s on one root at once share its files (build dirs included): give
# each concurrent job its own root (cp -a of a created one is fine).
# Exit status: the command's for run; 2 on a usage or set-up error.
set -euo pipefail
die() { echo "fresh-root: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "must run as root"
REPO=$(cd "$(dirname "$0")/.." && pwd)
NAME=$(basename "$REPO")
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,32p' "$0" >&2; exit 2; }
shift 2

host_mirror() {
  [ -n "${FRESH_ROOT_MIRROR:-}" ] && { echo "$FRESH_ROOT_MIRROR"; return; }
  local m
  m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
        /etc/apt/sources.list.d/*.sources 2>/dev/null \
      | grep -v '^[[:space:]]*#' | grep -oE 'https?://[^ ]*/debian/?' | grep -v security | head -1)
  echo "${m:-http://deb.debian.org/debian}"
}

case "$cmd" in
create)
  suite=${1:-bookworm}
  command -v debootstrap >/dev/null || die "debootstrap missing (apt-get install debootstrap)"
  [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ] && die "$dir exists and is not empty"
  mirror=$(host_mirror)
  echo "fresh-root: debootstrap --variant=minbase $suite $dir $mirror"
  debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$dir.debootstrap.log" 2>&1 \
    || { tail -20 "$dir.debootstrap.log" >&2; die "debootstrap failed (log $dir.debootstrap.log)"; }
  security=${mirror%/debian*}/debian-security
  cat >"$dir/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
  chmod 755 "$dir/usr/sbin/policy-rc.d"
  cp -L /etc/resolv.conf "$dir/etc/resolv.conf"
  # debootstrap writes no /etc/hosts; a Debian install does (localhost must resolve).
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
    "$(cat "$dir/etc/hostname")" >"$dir/etc/hosts"
  mkdir -p "$dir/work/shared"
  echo "fresh-root: created $dir ($suite)"
  ;;
checkout)
  rev=${1:-HEAD}
  [ -d "$dir/etc/apt" ] || die "$dir is not a root made by create"
  dest="$dir/work/$NAME"
  rm -rf "$dest" "$dir/work/build-tsan" "$dir/work/build-asan" "$dir/work/build-fuzz"
  mkdir -p "$dest"
  git -C "$REPO" archive --format=tar "$rev" | tar -x -C "$dest"
  echo "fresh-root: $NAME at $(git -C "$REPO" rev-parse --short "$rev") in $dest"
  ;;
run)
  [ $# -ge 1 ] || die "run: no command"
  [ -d "$dir/etc/apt" ] || die "$dir is not a root made by create"
  root=$(cd "$dir" && pwd)
  shared=$(cd "$REPO/.." && pwd)/shared
  env_keep=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
            LANG=C.UTF-8 CI=true DEBIAN_FRONTEND=noninteractive)
  for v in $(compgen -e | grep '^HDRSCAN_' || true) ${FRESH_ROOT_ENV:-}; do
    [ -n "${!v+x}" ] && env_keep+=("$v=${!v}")
  done
  cwd=/
  [ -d "$root/work/$NAME" ] && cwd=/work/$NAME
  # The inner script runs in the new namespaces: mounts vanish and processes end with it.
  # shellcheck disable=SC2016
  exec unshare --mount --pid --fork --propagation private bash -euc '
    root=$1 shared=$2 cwd=$3 binds=$4; shift 4
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
    mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
    if [ -d "$shared" ]; then
      mkdir -p "$root/work/shared"
      mount --bind "$shared" "$root/work/shared"
      mount -o remount,bind,ro "$root/work/shared"
    fi
    for b in $binds; do
      IFS=: read -r src dst mode <<<"$b"
      mkdir -p "$root$dst"
      mount --bind "$src" "$root$dst"
      [ "$mode" = ro ] && mount -o remount,bind,ro "$root$dst"
    done
    envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    exec chroot "$root" /usr/bin/env -i "${envs[@]}" \
      /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "$@"
  ' fresh-root "$root" "$shared" "$cwd" "${FRESH_ROOT_BIND:-}" "${env_keep[@]}" -- "$@"
  ;;
destroy)
  [ -d "$dir/etc/apt" ] || die "$dir is not a root made by create"
  # run leaves no mounts behind (private namespace); refuse anyway if something is mounted.
  if grep -q " $(cd "$dir" && pwd)/" /proc/mounts; then die "something is mounted under $dir"; fi
  rm -rf "$dir" "$dir.debootstrap.log"
  ;;
*) die "unknown command $cmd (create|checkout|run|destroy)" ;;
esac
