#!/usr/bin/env bash
# install_layout.sh: what `cmake --install` puts where (issue 19), checked on an install of
# this build into a scratch DESTDIR:
#  - hdrscan --version: "hdrscan <project version>" (CMakeLists.txt) and the built-in pack's
#    @version and @date (corpus/indicators/builtin.ind), from the build and the installed copy;
#  - the files: binary, unit, milter config (the shipped example), bash completion, documents,
#    the pack's readable copy (byte-identical to the compiled-in source), sample mail, and
#    the man pages when the build made them;
#  - the unit: ExecStart is the installed binary with the installed config, and
#    `systemd-analyze verify` reports nothing (run on a copy whose ExecStart points into the
#    DESTDIR, where the binary is; man pages are checked by man_pages.sh);
#  - the bash completion, sourced over bash-completion with the installed binary first in
#    PATH: subcommands, a command's options, an option's choices.
# The Debian layout (/usr, /etc, /lib/systemd/system) is tools/package's; this checks that
# the install rules are whole and consistent for the prefix the build was configured with.
set -euo pipefail
BIN=$(realpath "$1") SRC=$(realpath "$2") SCRATCH=$4
BUILD=$(cd "$(dirname "$BIN")/.." && pwd)
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }
rm -rf "$SCRATCH"; mkdir -p "$SCRATCH"; cd "$SCRATCH"

# --version
version=$(sed -nE 's/^project\(hdrscan VERSION ([0-9.]+) .*/\1/p' "$SRC/CMakeLists.txt")
pack_v=$(sed -n 's/^@version //p' "$SRC/corpus/indicators/builtin.ind")
pack_d=$(sed -n 's/^@date //p' "$SRC/corpus/indicators/builtin.ind")
[ -n "$version" ] && [ -n "$pack_v" ] && [ -n "$pack_d" ] ||
  fail "version '$version', pack @version '$pack_v', @date '$pack_d' not all found"
"$BIN" --version >v.txt
head -1 v.txt | grep -qE "^hdrscan $version( |$)" || fail "--version line 1: $(head -1 v.txt)"
expect="indicator pack builtin: version $pack_v, date $pack_d"
[ "$(sed -n 2p v.txt)" = "$expect" ] || fail "--version line 2: '$(sed -n 2p v.txt)' != '$expect'"
pass "--version: $(tr '\n' '|' <v.txt)"

# Install into a DESTDIR with the configured prefix.
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD/CMakeCache.txt")
unitdir=$(sed -n 's/^HDRSCAN_SYSTEMD_UNITDIR:STRING=//p' "$BUILD/CMakeCache.txt")
case $unitdir in /*) ;; *) unitdir=$prefix/$unitdir ;; esac
etc=$prefix/etc; [ "$prefix" = /usr ] && etc=/etc
D=$SCRATCH/root
DESTDIR=$D cmake --install "$BUILD" >install.log 2>&1 ||
  { cat install.log; fail "cmake --install"; }
want=("$prefix/bin/hdrscan" "$unitdir/hdrscan-milter.service" "$etc/hdrscan/milter.conf"
      "$prefix/share/bash-completion/completions/hdrscan"
      "$prefix/share/doc/hdrscan/README.md" "$prefix/share/doc/hdrscan/milter.md"
      "$prefix/share/doc/hdrscan/output-schema.json"
      "$prefix/share/hdrscan/indicators/builtin.ind"
      "$prefix/share/doc/hdrscan/examples/samples/campaign-consumer-1.eml")
for m in "$BUILD"/docs/man/*.[0-9]; do
  [ -e "$m" ] && want+=("$prefix/share/man/man${m##*.}/${m##*/}")
done
for f in "${want[@]}"; do [ -f "$D$f" ] || fail "not installed: $f"; done
[ -x "$D$prefix/bin/hdrscan" ] || fail "installed binary not executable"
cmp -s "$D$etc/hdrscan/milter.conf" "$SRC/docs/hdrscan-milter.conf.example" ||
  fail "installed milter.conf differs from docs/hdrscan-milter.conf.example"
cmp -s "$D$prefix/share/hdrscan/indicators/builtin.ind" "$SRC/corpus/indicators/builtin.ind" ||
  fail "installed builtin.ind differs from the compiled-in source"
cmp -s <("$D$prefix/bin/hdrscan" --version) v.txt || fail "installed binary: other --version"
samples=$(ls "$SRC"/corpus/samples/*.eml | wc -l)
[ "$(ls "$D$prefix"/share/doc/hdrscan/examples/samples/*.eml | wc -l)" = "$samples" ] ||
  fail "not every sample installed"
pages=$(ls "$BUILD"/docs/man/*.[0-9] 2>/dev/null | wc -l)
pass "${#want[@]} files installed under $prefix (man pages: $pages)"

# The unit.
unit=$D$unitdir/hdrscan-milter.service
# Continuation lines joined first.
exec_start=$(sed -e ':a' -e '/\\$/{N;s/\\\n *//;ba' -e '}' "$unit" | sed -n 's/^ExecStart=//p')
[ "$exec_start" = "$prefix/bin/hdrscan milter --config $etc/hdrscan/milter.conf" ] ||
  fail "unit ExecStart: $exec_start"
grep -q '@[A-Za-z_]*@' "$unit" && fail "unit: unreplaced @VARIABLE@"
grep -qx 'ReadWritePaths=-/var/spool/postfix/hdrscan' "$unit" || fail "unit: socket dir not writable"
grep -q '^listen = unix:/var/spool/postfix/hdrscan/hdrscan.sock$' "$D$etc/hdrscan/milter.conf" ||
  fail "installed config does not listen on the socket in Postfix's chroot"
if command -v systemd-analyze >/dev/null; then
  sed "s#^ExecStart=$prefix/bin/hdrscan #ExecStart=$D$prefix/bin/hdrscan #" "$unit" \
    >hdrscan-milter.service
  out=$(systemd-analyze verify --man=no "$SCRATCH/hdrscan-milter.service" 2>&1) ||
    fail "systemd-analyze verify: $out"
  [ -z "$out" ] || fail "systemd-analyze verify reports: $out"
  pass "unit: ExecStart, config path; systemd-analyze verify silent"
else
  fail "systemd-analyze missing (package systemd; tools/install-deps.sh installs it)"
fi

# The bash completion.
BC=/usr/share/bash-completion/bash_completion
[ -f "$BC" ] || fail "bash-completion missing (tools/install-deps.sh installs it)"
complete_words() {  # complete_words WORD... : the completions of the last word
  PATH="$D$prefix/bin:$PATH" bash -c '
    source "$1"; source "$2"; shift 2
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    _hdrscan; printf "%s\n" "${COMPREPLY[@]}" | sort' \
    bash "$BC" "$D$prefix/share/bash-completion/completions/hdrscan" "$@"
}
[ "$(complete_words hdrscan '' | tr '\n' ' ')" = "audit explain milter scan signals waves " ] ||
  fail "completion of subcommands: $(complete_words hdrscan '' | tr '\n' ' ')"
complete_words hdrscan scan --only | grep -qx -- --only-matches || fail "completion: --only"
complete_words hdrscan milter --con | grep -qx -- --config || fail "completion: milter --con"
[ "$(complete_words hdrscan scan --format '' | tr '\n' ' ')" = "csv jsonl text " ] ||
  fail "completion of --format values: $(complete_words hdrscan scan --format '' | tr '\n' ' ')"
[ "$(complete_words hdrscan audit --min-severity h | tr '\n' ' ')" = "high " ] ||
  fail "completion of --min-severity values"
pass "bash completion: subcommands, options, choices"
