#!/usr/bin/env bash
# install-deps.sh: install every Debian 12 package hdrscan needs to build, test and benchmark.
# Idempotent; run as root (or with sudo). Postfix is installed with debconf set to
# "No configuration" so it never touches the system's own mail set-up: tests start a
# private loopback instance of their own. go-md2man builds the man pages (docs/man);
# bash-completion and systemd (systemd-analyze verify) are for tests/integration/install_layout.sh;
# debhelper, dh-python and lintian for tools/package (the Debian packages), debootstrap and
# systemd-container for tools/package-check.sh (a fresh root, booted by systemd-nspawn);
# pybind11-dev, python3-pybind11 for the Python module (python/), python3-pandas,
# python3-dask, python3-distributed for records_to_dataframe and hdrscan.dask (tests/python);
# python3-cryptography for tools/verify_arc_seals.py (the ARC-Seal oracle).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config \
  libmimetic-dev libboost-dev libboost-system-dev libssl-dev libfmt-dev doctest-dev \
  nlohmann-json3-dev libcli11-dev libarchive-dev libre2-dev libmimalloc-dev libpsl-dev \
  libpff-dev libbfio-dev pst-utils \
  python3 python3-jsonschema zip unzip p7zip-full libarchive-tools libemail-outlook-message-perl \
  libemail-address-perl chromium time \
  go-md2man bash-completion systemd debhelper dh-python lintian debootstrap systemd-container \
  postfix swaks miltertest \
  pybind11-dev python3-pybind11 python3-dev python3-venv python3-pip python3-setuptools \
  python3-pandas python3-dask python3-distributed python3-cryptography \
  clang libclang-rt-14-dev >/dev/null
# postfix's package starts its own daemon on some set-ups; the tests use a private instance.
$SUDO systemctl disable --now postfix >/dev/null 2>&1 || true
$SUDO postfix stop >/dev/null 2>&1 || true
echo "install-deps: done"
