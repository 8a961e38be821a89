#!/usr/bin/env bash
# man_pages.sh: the man pages (docs/man/*.md, issue 19) cannot drift from the program:
#  - every subcommand in `hdrscan --help` has a page hdrscan-CMD.N.md and an entry in
#    hdrscan(1)'s COMMANDS, and every page hdrscan-X.N.md but the config page is a subcommand;
#  - the options in each page's OPTIONS section (its "**-x**" definition terms) are exactly the
#    options of `hdrscan [CMD] --help`, both ways (a new option without a page entry fails, and
#    so does a page entry for an option that is gone);
#  - the milter config keys the parser accepts (`key == "..."` in milter_config.cpp) are exactly
#    the keys of hdrscan-milter.conf(5)'s KEYS section, and each is in the shipped config;
#  - when the build made the pages (go-md2man installed), each renders with no warning from
#    man/groff (what lintian checks) and its title names the page; otherwise a visible SKIP.
set -euo pipefail
BIN=$1 SRC=$2
BUILD=$(cd "$(dirname "$BIN")/.." && pwd)
MAN=$SRC/docs/man
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }

# Sorted unique option names of a --help text: "-o,--output FILE" gives -o and --output.
help_options() { grep -oE '^  (-[a-zA-Z],)?--[a-z0-9-]+' | tr -d ' ' | tr ',' '\n' | sort -u; }
# Lines of section $2 ("# NAME" heading up to the next "# ") of page $1.
section() { awk -v s="# $2" '$0 == s { on = 1; next } /^# / { on = 0 } on' "$1"; }
# Option names in the definition terms (lines starting with "**-") of the OPTIONS section.
page_options() {
  section "$1" OPTIONS | grep -E '^\*\*-' | grep -oE '\*\*--?[a-zA-Z0-9-]+\*\*' | tr -d '*' |
    sort -u
}
same_sets() {  # same_sets WHAT EXPECTED ACTUAL
  local missing extra
  missing=$(comm -23 <(echo "$2") <(echo "$3") | tr '\n' ' ')
  extra=$(comm -13 <(echo "$2") <(echo "$3") | tr '\n' ' ')
  [ -z "$missing$extra" ] || fail "$1: missing [${missing% }], not in the program [${extra% }]"
}

cmds=$("$BIN" --help | sed -n '/^Subcommands:/,$s/^  \([a-z][a-z0-9-]*\) .*/\1/p')
[ "$(echo "$cmds" | wc -w)" -ge 4 ] || fail "no subcommands read from hdrscan --help: $cmds"

same_sets "hdrscan(1) options" "$("$BIN" --help | help_options)" \
  "$(page_options "$MAN/hdrscan.1.md")"
same_sets "hdrscan(1) COMMANDS" "$(echo "$cmds" | sort)" \
  "$(section "$MAN/hdrscan.1.md" COMMANDS | grep -oE '^\*\*[a-z-]+\*\*$' | tr -d '*' | sort)"
for c in $cmds; do
  pages=("$MAN"/hdrscan-"$c".[0-9].md)
  [ -f "${pages[0]}" ] && [ ${#pages[@]} = 1 ] || fail "$c: no page docs/man/hdrscan-$c.N.md"
  same_sets "${pages[0]##*/} options" "$("$BIN" "$c" --help | help_options)" \
    "$(page_options "${pages[0]}")"
  pass "hdrscan-$c: every option of hdrscan $c --help and no other"
done
for p in "$MAN"/hdrscan-*.md; do
  name=$(basename "$p" .md); name=${name%.[0-9]}; c=${name#hdrscan-}
  [ "$name" = hdrscan-milter.conf ] && continue
  echo "$cmds" | grep -qx "$c" || fail "${p##*/}: no subcommand '$c' in hdrscan --help"
done

keys=$(grep -oE 'key == "[a-z-]+"' "$SRC/scanner/milter/milter_config.cpp" | cut -d'"' -f2 |
       sort -u)
[ "$(echo "$keys" | wc -l)" -ge 15 ] || fail "milter config keys not found in the parser: $keys"
page_keys=$(section "$MAN/hdrscan-milter.conf.5.md" KEYS | grep -E '^\*\*[a-z]' |
            sed 's/ = .*//' | grep -oE '\*\*[a-z-]+\*\*' | tr -d '*' | sort -u)
same_sets "hdrscan-milter.conf(5) keys" "$keys" "$page_keys"
for k in $keys; do
  grep -qE "^(# )?$k = " "$SRC/docs/hdrscan-milter.conf.example" ||
    fail "config key $k is not in docs/hdrscan-milter.conf.example"
done
pass "hdrscan-milter.conf(5) and the shipped config: every key the parser accepts, no other"

srcs=("$MAN"/*.md)
built=("$BUILD"/docs/man/*.[0-9])
if [ ! -e "${built[0]}" ]; then
  echo "SKIP: rendering: the build made no man pages (go-md2man missing: tools/install-deps.sh)"
  exit 77
fi
[ ${#built[@]} = ${#srcs[@]} ] || fail "${#srcs[@]} sources but ${#built[@]} built pages"
for m in "${built[@]}"; do
  name=${m##*/}
  grep -q "^\.TH ${name%.[0-9]} ${name##*.} " "$m" || fail "$name: .TH does not name the page"
  warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
             man --warnings -E UTF-8 -l -Tutf8 -Z "$m" 2>&1 >/dev/null)
  [ -z "$warnings" ] || fail "$name: man/groff warnings: $warnings"
  grep -q '@[A-Z_]*@' "$m" && fail "$name: unreplaced @VARIABLE@"
done
pass "${#built[@]} pages render without warnings"
