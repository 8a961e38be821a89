#!/usr/bin/env bash
# tools/package-check.sh: the full check of the Debian package (issue 19), as an admin meets
# it on a new Debian 12 machine: install, scan, man pages, the milter as a systemd service
# under its hardening with a chrooted Postfix, purge.
#
#   tools/package-check.sh [--short] [--keep] [--from BASE] [DIR]
#
# Needs: root; dist/hdrscan_<version>_<arch>.deb and dist/python3-hdrscan_<version>_<arch>.deb
# (tools/package); debootstrap and systemd-nspawn (apt-get install debootstrap
# systemd-container; tools/install-deps.sh installs both); the Debian mirror.
# Steps (each timed; the times are printed at the end):
#  1. tools/fresh-root.sh create DIR (default /tmp/hdrscan-pkgroot): debootstrap
#     --variant=minbase bookworm, nothing else installed;
#  2. chroot phase (tools/fresh-root.sh run): tools/package-check-root.sh chroot: apt-get
#     install ./hdrscan_*.deb pulls every dependency; --version; scan of the installed samples;
#     apt-get install ./python3-hdrscan_*.deb pulls python3, import hdrscan, analyze a sample,
#     Analyzer.scan of the samples = the CLI's records; then systemd, Postfix, swaks, man-db;
#     man -w of every page; purge of both leaves nothing;
#  3. boot phase: the root booted with `systemd-nspawn --boot` (systemd as PID 1 inside, its
#     own loopback-only network namespace), where a oneshot unit runs package-check-root.sh
#     boot: the .deb installed under systemd (unit disabled, not started), docs/milter.md's
#     postconf lines with smtpd chrooted, `systemctl enable --now hdrscan-milter`, the
#     service's user, group, socket modes and hardening seen from /proc and its mount
#     namespace, swaks sending a campaign sample (held, verdict header) and a clean one
#     (delivered, verdict header) through the socket, reload, then purge leaving nothing;
#     the unit powers the container off.
#  4. DIR is destroyed unless --keep.
# --short: steps 1, 2 and 4 only, and step 2 installs man-db but not systemd, Postfix and swaks
# (package-check-root.sh chroot-short): the fresh-root install, scan, Python module, man pages
# and purge of issue 19's and 21's checks, without the booted milter (the part a CI run can
# afford; README "Debian package" has the times).
# --from BASE: instead of step 1, DIR is a copy (cp -a) of BASE, a root made by
# `tools/fresh-root.sh create BASE` and not used since: saves the debootstrap when iterating.
# The boot phase's output is taken from the container's journal into DIR.check.log (nspawn's
# own messages: DIR.boot.log); the result is the last line of each phase
# ("package-check: PASS" or "package-check: FAIL: reason").
# Exit status: 0 all passed, 1 a check failed, 2 a set-up error.
# Cost (measured on the 2-core machine, see README "Debian package"): several minutes, most
# of them debootstrap and apt-get; CI runs it as tools/test step 6, after tools/package.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
KEEP=0 BASE="" SHORT=0
while [ $# -gt 0 ]; do
  case $1 in
    --short) SHORT=1; shift ;;
    --keep) KEEP=1; shift ;;
    --from) BASE=${2:?--from BASE}; shift 2 ;;
    -*) sed -n '2,42p' "$0" >&2; exit 2 ;;
    *) break ;;
  esac
done
DIR=${1:-/tmp/hdrscan-pkgroot}
die() { echo "package-check: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "must run as root"
command -v debootstrap >/dev/null || die "debootstrap missing (apt-get install debootstrap)"
[ "$SHORT" = 1 ] || command -v systemd-nspawn >/dev/null ||
  die "systemd-nspawn missing (apt-get install systemd-container)"
arch=$(dpkg --print-architecture)
debs=(dist/hdrscan_*_"$arch".deb)
[ -f "${debs[0]}" ] && [ ${#debs[@]} = 1 ] ||
  die "need exactly one dist/hdrscan_*_$arch.deb (tools/package)"
pydebs=(dist/python3-hdrscan_*_"$arch".deb)
[ -f "${pydebs[0]}" ] && [ ${#pydebs[@]} = 1 ] ||
  die "need exactly one dist/python3-hdrscan_*_$arch.deb (tools/package)"
times=""
t0=$SECONDS
t=$SECONDS
step_done() { times="$times $1 $((SECONDS - t))s,"; t=$SECONDS; }

[ -e "$DIR" ] && { tools/fresh-root.sh destroy "$DIR" || die "cannot remove the old $DIR"; }
if [ -n "$BASE" ]; then
  [ -d "$BASE/etc/apt" ] || die "$BASE is not a root made by tools/fresh-root.sh create"
  cp -a "$BASE" "$DIR"
  step_done copy-of-base
else
  nice -n 10 tools/fresh-root.sh create "$DIR" bookworm
  step_done debootstrap
fi
mkdir -p "$DIR/root/check"
cp "${debs[0]}" "${pydebs[0]}" tools/package-check-root.sh "$DIR/root/check/"
# libarchive and libpff are opened on first use, not linked (mime/sources/dynlib.hpp), so
# dpkg-shlibdeps cannot see them: the root scans a zip and a PST to prove the Depends that
# debian/control lists by hand (a zip of the samples; a real PST from ../shared when present).
python3 - "$DIR/root/check/samples.zip" corpus/samples/*.eml <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for f in sys.argv[2:]:
        z.write(f, os.path.basename(f))
PY
pst=${HDRSCAN_SHARED_CORPUS:-../shared/corpus}/outlook/pst/rubymsg_msgInMsg.pst
[ -f "$pst" ] && cp "$pst" "$DIR/root/check/sample.pst"

phase=chroot
[ "$SHORT" = 1 ] && phase=chroot-short
echo "== $phase phase"
status=0
nice -n 10 tools/fresh-root.sh run "$DIR" bash /root/check/package-check-root.sh "$phase" ||
  status=1
step_done "$phase-phase"

if [ "$status" = 0 ] && [ "$SHORT" = 0 ]; then
  echo "== boot phase (systemd-nspawn --boot)"
  # Under systemd the package scripts may start services (the check is that ours is not).
  rm -f "$DIR/usr/sbin/policy-rc.d"
  cat >"$DIR/etc/systemd/system/hdrscan-package-check.service" <<'UNIT'
[Unit]
Description=hdrscan package check (tools/package-check.sh)
After=postfix.service network.target
[Service]
Type=oneshot
ExecStart=/bin/bash /root/check/package-check-root.sh boot
ExecStopPost=/bin/systemctl poweroff --no-block
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=600
[Install]
WantedBy=multi-user.target
UNIT
  ln -sf /etc/systemd/system/hdrscan-package-check.service \
    "$DIR/etc/systemd/system/multi-user.target.wants/hdrscan-package-check.service"
  rm -f "$DIR/root/check/result"
  timeout -k 30 900 systemd-nspawn --boot --directory="$DIR" --register=no --keep-unit \
    --private-network --console=pipe --machine=hdrscan-check </dev/null >"$DIR.boot.log" 2>&1 ||
    true
  # What the check printed, from the container's journal (its console output is not kept).
  journalctl -D "$DIR/var/log/journal" --no-pager -o cat -u hdrscan-package-check \
    >"$DIR.check.log" 2>&1 || true
  grep -E '^(==|ok:|  allowed:|package-check:|.*Overall exposure)' "$DIR.check.log" || true
  [ "$(cat "$DIR/root/check/result" 2>/dev/null)" = PASS ] ||
    { echo "package-check: FAIL: boot phase (logs: $DIR.check.log, $DIR.boot.log)"
      tail -30 "$DIR.check.log"; status=1; }
  step_done boot-phase
fi

if [ "$KEEP" = 0 ]; then
  tools/fresh-root.sh destroy "$DIR"
  rm -f "$DIR.boot.log" "$DIR.check.log"
fi
echo "== package-check times:$times total $((SECONDS - t0))s"
[ "$status" = 0 ] && echo "package-check: PASS" || echo "package-check: FAIL"
exit "$status"
