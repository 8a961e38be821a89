#!/usr/bin/env bash
# package-check-root.sh: the checks of tools/package-check.sh that run inside the fresh Debian
# root, as an admin would run them. Not for use on a real machine: it installs, configures and
# purges packages and rewrites Postfix's main.cf.
#
#   package-check-root.sh chroot|chroot-short   (in the root by chroot: tools/fresh-root.sh run)
#     1. `apt-get install ./hdrscan_*.deb` in a root that has none of its dependencies: every
#        library dpkg-shlibdeps named is pulled in; `hdrscan --version`; `hdrscan scan` on the
#        installed samples (campaign-* -> campaign, clean-* -> clean, exit status 1); the same
#        samples zipped and a real PST (libarchive13, libpff1, libbfio1 are opened on first use,
#        so their Depends are by hand: these scans prove them);
#     1b. `apt-get install ./python3-hdrscan_*.deb` in the root without Python: python3 is
#        pulled in; `import hdrscan` loads the packaged module, Analyzer.analyze gives the
#        campaign sample `campaign`, Analyzer.scan over the installed samples gives the
#        records step 1's `hdrscan scan --format jsonl` wrote (equal as JSON values, in order);
#     2. installs man-db, and (not for chroot-short, which no boot phase follows) what the boot
#        phase needs (systemd, Postfix "Local only", swaks, a local user `tester`); `man -w`
#        finds every page;
#     3. `apt-get purge hdrscan python3-hdrscan`: none of `dpkg -L` of either is left (nor
#        the module's byte-code); then the file list of the root is saved (the base for the
#        boot phase).
#   package-check-root.sh boot     (as a oneshot service in the root booted by systemd-nspawn)
#     4. `apt-get install ./hdrscan_*.deb` under systemd: the unit is installed disabled and
#        not started;
#     5. docs/milter.md's steps: postconf -e (smtpd_milters = unix:hdrscan/hdrscan.sock,
#        milter_protocol, milter_default_action) with smtpd chrooted (master.cf chroot y),
#        `systemctl enable --now hdrscan-milter`;
#     6. the service: user hdrscan, group postfix; socket dir hdrscan:postfix 0750, socket
#        0660; NoNewPrivs, seccomp filter, no capabilities; /usr and /etc read-only and the
#        socket dir writable in its mount namespace; `systemd-analyze security` printed;
#     7. swaks through the chrooted smtpd: a campaign sample is held with X-Hdrscan-Verdict:
#        campaign, a clean one delivered to tester's mailbox with X-Hdrscan-Verdict: clean;
#        the journal has both verdict lines; `systemctl reload` keeps it running;
#     8. `apt-get purge hdrscan`: the service is stopped, none of its files is left
#        (dpkg -L, the unit, /etc/hdrscan, /var/spool/postfix/hdrscan), no path anywhere is
#        named hdrscan, and the root's file list equals the base but for listed state (logs,
#        dpkg/apt/systemd state, mail queue and mailbox of the test mail, the kept user).
# Result: the last line "package-check: PASS" or "package-check: FAIL: reason"; the boot phase
# also writes it to /root/check/result. Exit status 0 pass, 1 fail.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
CHECK=/root/check
phase=${1:?chroot, chroot-short or boot}
deb=$(ls "$CHECK"/hdrscan_*.deb)
pydeb=$(ls "$CHECK"/python3-hdrscan_*.deb)
SAMPLES=/usr/share/doc/hdrscan/examples/samples
fail() {
  echo "package-check: FAIL: $*"
  [ "$phase" = boot ] && echo "FAIL: $*" >"$CHECK/result"
  exit 1
}
ok() { echo "ok: $*"; }
step() { echo; echo "== $*"; }

# The root's files, less what lives and changes by itself (pseudo file systems, caches).
file_list() {
  find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp \
       -o -path /var/cache -o -path /var/lib/apt/lists -o -path /work -o -path "$CHECK" \) \
       -prune \
       -o -print | sort
}

if [ "$phase" = chroot ] || [ "$phase" = chroot-short ]; then
  step "1. apt-get install $(basename "$deb") in a root without its dependencies"
  apt-get update -qq
  depends=$(dpkg-deb -f "$deb" Depends)
  pkgs=$(echo "$depends" | tr ',' '\n' | sed 's/(.*//; s/ //g' | grep -v '^$')
  missing_before=0
  for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing_before=$((missing_before + 1)); done
  [ "$missing_before" -ge 5 ] ||
    fail "the root already had the dependencies ($missing_before missing)"
  apt-get install -y -q --no-install-recommends "$deb" >"$CHECK/install.log" 2>&1 ||
    { tail -20 "$CHECK/install.log"; fail "apt-get install ./$(basename "$deb")"; }
  for p in $pkgs; do
    dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' ||
      fail "dependency $p not installed"
  done
  ok "Depends: $depends"
  ok "$missing_before of them pulled in by apt-get install ./$(basename "$deb")"
  hdrscan --version
  getent passwd hdrscan >/dev/null || fail "postinst made no user hdrscan"
  rc=0; hdrscan scan --format jsonl "$SAMPLES" >"$CHECK/scan.jsonl" || rc=$?
  [ "$rc" = 1 ] || fail "hdrscan scan on the samples: exit $rc (1 = campaign found)"
  n=0
  while read -r rec; do  # no JSON tool in a minbase root: the two fields by pattern
    n=$((n + 1))
    path=$(sed -E 's/.*"source":\{"path":"([^"]+)".*/\1/' <<<"$rec")
    verdict=$(sed -E 's/.*"verdict":"([a-z]+)".*/\1/' <<<"$rec")
    case $(basename "$path") in
      campaign-*) [ "$verdict" = campaign ] || fail "$path: $verdict, not campaign" ;;
      clean-*) [ "$verdict" = clean ] || fail "$path: $verdict, not clean" ;;
      *.eml) ;;
      *) fail "record without a sample path: ${rec:0:200}" ;;
    esac
  done <"$CHECK/scan.jsonl"
  [ "$n" = "$(ls "$SAMPLES"/*.eml | wc -l)" ] ||
    fail "$n records for $(ls "$SAMPLES" | wc -l) samples"
  ok "hdrscan scan: $n samples, campaign-* campaign, clean-* clean, exit 1"
  # The libraries opened on first use (libarchive13, libpff1, libbfio1: Depends by hand).
  rc=0; hdrscan scan --format jsonl "$CHECK/samples.zip" >"$CHECK/zip.jsonl" || rc=$?
  [ "$rc" = 1 ] || fail "hdrscan scan on samples.zip: exit $rc (1 = campaign found)"
  ! grep -q '"library_missing"' "$CHECK/zip.jsonl" || fail "libarchive not loadable: $(head -c 400 "$CHECK/zip.jsonl")"
  while read -r rec; do
    member=$(sed -E 's/.*"member":"([^"]+)".*/\1/' <<<"$rec")
    verdict=$(sed -E 's/.*"verdict":"([a-z]+)".*/\1/' <<<"$rec")
    case $member in
      campaign-*) [ "$verdict" = campaign ] || fail "samples.zip!$member: $verdict, not campaign" ;;
      clean-*) [ "$verdict" = clean ] || fail "samples.zip!$member: $verdict, not clean" ;;
      *.eml) ;;
      *) fail "record without a member name: ${rec:0:200}" ;;
    esac
  done <"$CHECK/zip.jsonl"
  [ "$(wc -l <"$CHECK/zip.jsonl")" = "$n" ] || fail "$(wc -l <"$CHECK/zip.jsonl") records for $n zipped samples"
  ok "hdrscan scan samples.zip: $n members read through libarchive (opened on first use)"
  if [ -f "$CHECK/sample.pst" ]; then
    rc=0; hdrscan scan --format jsonl "$CHECK/sample.pst" >"$CHECK/pst.jsonl" || rc=$?
    [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "hdrscan scan on sample.pst: exit $rc"
    ! grep -q '"library_missing"\|"verdict":"unreadable"' "$CHECK/pst.jsonl" ||
      fail "the PST was not read: $(head -c 400 "$CHECK/pst.jsonl")"
    ok "hdrscan scan sample.pst: $(wc -l <"$CHECK/pst.jsonl") records read through libpff (opened on first use)"
  else
    fail "no sample.pst (../shared/corpus/outlook/pst missing)"
  fi

  step "1b. apt-get install $(basename "$pydeb") in a root without Python"
  ! command -v python3 >/dev/null || fail "the root already had python3"
  apt-get install -y -q --no-install-recommends "$pydeb" >"$CHECK/install-py.log" 2>&1 ||
    { tail -20 "$CHECK/install-py.log"; fail "apt-get install ./$(basename "$pydeb")"; }
  ok "Depends: $(dpkg-deb -f "$pydeb" Depends)"
  ok "python3 pulled in: $(python3 --version)"
  python3 - "$SAMPLES" "$CHECK/scan.jsonl" <<'PY' || fail "the Python module (above)"
import json, os, sys
samples, cli = sys.argv[1:]
import hdrscan
site = "/usr/lib/python3/dist-packages/hdrscan/"
assert hdrscan.__file__ == site + "__init__.py", hdrscan.__file__
an = hdrscan.Analyzer()
path = os.path.join(samples, "campaign-consumer-1.eml")
with open(path, "rb") as f:
    rec = an.analyze(f.read(), location=path)
assert rec["verdict"] == "campaign", rec["verdict"]
print(f"ok: import hdrscan {hdrscan.__version__} ({site}); analyze: campaign-consumer-1.eml "
      f"campaign, score {rec['score']}")
got = list(an.scan(samples))
with open(cli, encoding="utf-8") as f:
    want = [json.loads(line) for line in f]
assert got == want, "Analyzer.scan differs from hdrscan scan --format jsonl on the samples"
print(f"ok: Analyzer.scan on the samples = the CLI's {len(want)} records")
PY

  if [ "$phase" = chroot-short ]; then
    step "2. man-db"
    apt-get install -y -q --no-install-recommends man-db >"$CHECK/install2.log" 2>&1 ||
      { tail -20 "$CHECK/install2.log"; fail "installing man-db"; }
  else
    step "2. what the boot phase needs: systemd, Postfix (Local only), swaks, man-db"
    echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
    echo "postfix postfix/mailname string pkgcheck.test" | debconf-set-selections
    apt-get install -y -q --no-install-recommends systemd systemd-sysv dbus postfix swaks \
      man-db procps util-linux >"$CHECK/install2.log" 2>&1 ||
      { tail -20 "$CHECK/install2.log"; fail "installing systemd, postfix, swaks, man-db"; }
    useradd --create-home tester
  fi
  for page in 1:hdrscan 1:hdrscan-scan 1:hdrscan-explain 1:hdrscan-audit 1:hdrscan-signals \
              1:hdrscan-waves 8:hdrscan-milter 5:hdrscan-milter.conf; do
    found=$(man -w "${page%%:*}" "${page#*:}") || fail "man -w ${page#*:}"
    ok "man -w ${page#*:}: $found"
  done

  step "3. apt-get purge hdrscan python3-hdrscan"
  dpkg -L hdrscan python3-hdrscan >"$CHECK/dpkg-L"
  apt-get purge -y -q hdrscan python3-hdrscan >/dev/null
  left=$(while read -r f; do if [ -e "$f" ] && [ ! -d "$f" ]; then echo "$f"; fi; done \
       <"$CHECK/dpkg-L")
  [ -z "$left" ] || fail "left after purge: $left"
  for d in /etc/hdrscan /usr/share/doc/hdrscan /usr/share/hdrscan \
           /usr/share/doc/python3-hdrscan /usr/lib/python3/dist-packages/hdrscan; do
    [ ! -e "$d" ] || fail "left after purge: $d"
  done
  ok "nothing of the packages left ($(wc -l <"$CHECK/dpkg-L") paths)"
  file_list >"$CHECK/files.base"
  echo "package-check: PASS (chroot phase)"
  exit 0
fi

[ "$phase" = boot ] || fail "unknown phase $phase"
rm -f "$CHECK/result"
step "4. apt-get install $(basename "$deb") under systemd"
[ "$(cat /proc/1/comm)" = systemd ] || fail "PID 1 is not systemd"
apt-get install -y -q --no-install-recommends "$deb" >"$CHECK/install3.log" 2>&1 ||
  { tail -20 "$CHECK/install3.log"; fail "apt-get install under systemd"; }
state=$(systemctl is-enabled hdrscan-milter || true)
[ "$state" = disabled ] || fail "hdrscan-milter is '$state' after install, not disabled"
! systemctl is-active -q hdrscan-milter || fail "hdrscan-milter started by the install"
ok "installed: hdrscan-milter disabled and not running"

step "5. Postfix: docs/milter.md's postconf lines, smtpd chrooted; enable --now"
postconf -e 'smtpd_milters = unix:hdrscan/hdrscan.sock' 'milter_protocol = 6' \
  'milter_default_action = tempfail'
postconf -F -e 'smtp/inet/chroot = y'
[ "$(postconf -Fh smtp/inet/chroot)" = y ] || fail "smtpd is not chrooted"
systemctl restart postfix
systemctl enable --now hdrscan-milter
sock=/var/spool/postfix/hdrscan/hdrscan.sock
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { journalctl -u hdrscan-milter --no-pager | tail; fail "no socket $sock"; }
ok "enabled and started; socket $sock"

step "6. the service under its hardening"
pid=$(systemctl show -p MainPID --value hdrscan-milter)
[ "$pid" -gt 0 ] || fail "no MainPID"
[ "$(ps -o user= -p "$pid")" = hdrscan ] || fail "runs as $(ps -o user= -p "$pid")"
[ "$(ps -o group= -p "$pid")" = postfix ] || fail "runs with group $(ps -o group= -p "$pid")"
[ "$(stat -c '%U:%G %a' "$(dirname "$sock")")" = "hdrscan:postfix 750" ] ||
  fail "socket dir: $(stat -c '%U:%G %a' "$(dirname "$sock")")"
[ "$(stat -c '%U:%G %a' "$sock")" = "hdrscan:postfix 660" ] ||
  fail "socket: $(stat -c '%U:%G %a' "$sock")"
grep -q '^NoNewPrivs:[[:space:]]*1' /proc/"$pid"/status || fail "NoNewPrivs not set"
grep -q '^Seccomp:[[:space:]]*2' /proc/"$pid"/status || fail "no seccomp filter"
grep -q '^CapEff:[[:space:]]*0000000000000000' /proc/"$pid"/status || fail "has capabilities"
nsenter -t "$pid" -m -- sh -c 'touch /etc/hdrscan/x' 2>/dev/null &&
  fail "/etc writable in the service's mount namespace"
nsenter -t "$pid" -m -- sh -c 'touch /usr/bin/x' 2>/dev/null &&
  fail "/usr writable in the service's mount namespace"
nsenter -t "$pid" -m -- sh -c 'f=/var/spool/postfix/hdrscan/x; touch $f && rm $f' ||
  fail "socket dir not writable in the service's mount namespace"
nsenter -t "$pid" -m -- sh -c '[ -z "$(ls -A /home)" ]' || fail "/home visible to the service"
ok "user hdrscan, group postfix; dir 750, socket 660; NoNewPrivs, seccomp, no capabilities;"
ok "/etc and /usr read-only, /home hidden, socket dir writable (its mount namespace)"
systemd-analyze security hdrscan-milter --no-pager | tail -1

step "7. swaks through the chrooted smtpd"
send() {  # send ID FILE
  swaks --server 127.0.0.1 --from sender@example.net --to tester@localhost --data "@$2" \
    --add-header "X-Check-Id: $1" >"$CHECK/$1.swaks" 2>&1 ||
    { cat "$CHECK/$1.swaks"; fail "swaks $1"; }
}
send campaign "$SAMPLES/campaign-consumer-1.eml"
send clean "$SAMPLES/clean-cloud-mailbox.eml"
held="" mbox=/var/mail/tester
for _ in $(seq 300); do
  held=$(postqueue -j | grep '"queue_name": *"hold"' | sed -E 's/.*"queue_id": *"([^"]+)".*/\1/')
  [ -n "$held" ] && grep -qs '^X-Check-Id: clean' "$mbox" && break
  sleep 0.1
done
[ -n "$held" ] || { postqueue -p; fail "the campaign sample is not in the hold queue"; }
[ "$(echo "$held" | wc -l)" = 1 ] || fail "more than one held message: $held"
postcat -hq "$held" | grep -q '^X-Check-Id: campaign' || fail "held message is not the campaign one"
postcat -hq "$held" | grep -q '^X-Hdrscan-Verdict: campaign' || fail "held: no campaign verdict"
ok "campaign sample held ($held) with X-Hdrscan-Verdict: campaign"
grep -qs '^X-Check-Id: clean' "$mbox" || fail "the clean sample did not arrive in $mbox"
grep -q '^X-Hdrscan-Verdict: clean' "$mbox" || fail "delivered mail has no clean verdict"
grep -q '^X-Check-Id: campaign' "$mbox" && fail "the campaign sample was delivered"
ok "clean sample delivered to $mbox with X-Hdrscan-Verdict: clean"
journalctl -u hdrscan-milter --no-pager | grep 'verdict=' | tail -2
journalctl -u hdrscan-milter --no-pager | grep -q 'verdict=campaign' || fail "no campaign log line"
journalctl -u hdrscan-milter --no-pager | grep -q 'verdict=clean' || fail "no clean log line"
systemctl reload hdrscan-milter
sleep 1
systemctl is-active -q hdrscan-milter || fail "not running after reload"
ok "journal: both verdicts; running after systemctl reload"
postsuper -d ALL hold >/dev/null 2>&1

step "8. apt-get purge hdrscan under systemd"
dpkg -L hdrscan >"$CHECK/dpkg-L"
apt-get purge -y -q hdrscan >"$CHECK/purge.log" 2>&1 || { cat "$CHECK/purge.log"; fail "purge"; }
! systemctl is-active -q hdrscan-milter || fail "still running after purge"
pgrep -u hdrscan >/dev/null && fail "processes of user hdrscan left"
left=$(while read -r f; do if [ -e "$f" ] && [ ! -d "$f" ]; then echo "$f"; fi; done \
       <"$CHECK/dpkg-L")
[ -z "$left" ] || fail "left after purge: $left"
for d in /etc/hdrscan /var/spool/postfix/hdrscan /usr/share/doc/hdrscan /usr/share/hdrscan \
         /lib/systemd/system/hdrscan-milter.service \
         /etc/systemd/system/multi-user.target.wants/hdrscan-milter.service; do
  [ ! -e "$d" ] && [ ! -L "$d" ] || fail "left after purge: $d"
done
file_list >"$CHECK/files.after"
# State that changes by itself, by booting, by the test mail or by this harness (its unit,
# the policy-rc.d it removed); everything else must be as before.
allowed='/(etc/(passwd|group|shadow|gshadow|subuid|subgid)-?|etc/ld\.so\.cache|var/log/.*'
allowed+='|var/lib/(dpkg|apt|systemd|dbus|postfix|man-db|private)(/.*)?|var/spool/postfix/.*'
allowed+='|var/mail/tester|var/tmp/systemd-private-.*|etc/machine-id|etc/mtab|etc/postfix/.*'
allowed+='|usr/sbin/policy-rc\.d|etc/systemd/system/(multi-user\.target\.wants/)?'
allowed+='hdrscan-package-check\.service)'
changes=$(diff "$CHECK/files.base" "$CHECK/files.after" | grep '^[<>]' || true)
{ echo "$changes" | grep -E "^[<>] ${allowed}$" | sed 's/^/  allowed: /' | head -40; } || true
unexpected=$(echo "$changes" | grep -vE "^[<>] ${allowed}$" | grep -v '^$' || true)
[ -z "$unexpected" ] || fail "files differ from before the install: $unexpected"
ok "after purge the root's files are the base's (the allowed state above aside)"
named=$(grep -i hdrscan "$CHECK/files.after" | grep -v 'hdrscan-package-check\.service$' || true)
[ -z "$named" ] || fail "paths named hdrscan after purge: $named"
ok "no path named hdrscan left (state directories included)"
getent passwd hdrscan >/dev/null && ok "system user hdrscan kept, as Debian policy allows"
echo PASS >"$CHECK/result"
echo "package-check: PASS (boot phase)"
