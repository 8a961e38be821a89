#!/usr/bin/env bash
# bench_tools: tools/bench's real-mail inputs and report (issue 17), on a small fixture made
#  here (no timing: tools/bench measures, nothing here does). tools/bench_real.py on a fake
#  shared tree of three tiny sets: SET-repeated.mbox is SET.mbox repeated REPEATS[SET] times,
#  byte for byte, only for the sets --repeated names (a set no longer named loses its file),
#  and is kept, not rewritten, when nothing changed. tools/bench_report.py on a real.tsv
#  fixture: the steady-state lines of a repeated row (messages per CPU-second, CPU
#  microseconds per message, the ratio to rspamd's messages per CPU-second on the set's
#  files, the target line) carry the values computed from the fixture's numbers, the
#  existing ratio lines stay, and without an rspamd row there is no steady-state ratio.
#  tools/rusage-run writes peak RSS, user, system and the command's own wall seconds (-n N:
#  the mean of N runs), its exit status is the command's, and the measured command's peak RSS
#  is its own, not the measuring parent's.
#  An rspamd row shows as many rounds as its timed passes, its median as its CPU seconds
#  (bench_report.py on a fixture; real_record writing such a row).
#  tools/bench-real.sh's real_warm puts a folder's files and a single file back in the page
#  cache after they were dropped from it. tools/bench_floor.cpp's crypto floor counts one seal
#  check for each message with an ARC-Seal field and no other, and its report lines (the ratio
#  to hdrscan, the budget 30x rspamd leaves against the floor) carry the fixture's numbers.
#  real_floor writes those floors' rows with the program's message and byte counts.
set -euo pipefail
SRC=$2; SCRATCH=$4
rm -rf "$SCRATCH" && mkdir -p "$SCRATCH"
S=$SCRATCH/shared; R=$SCRATCH/real
for d in ham-spam dev_m365_legit dev_relays; do
  mkdir -p "$S/$d"
  for i in 1 2 3; do
    printf 'From: a%s@example.org\nTo: b@example.net\nSubject: %s %s\n\nFrom the body, line %s\n' \
      "$i" "$d" "$i" "$i" > "$S/$d/$i.eml"
  done
done
echo "not mail" > "$S/ham-spam/LICENSE"

python3 - "$SRC" "$S" "$R" <<'PY'
import importlib.util, os, subprocess, sys
src, shared, out = sys.argv[1:4]
tool = os.path.join(src, "tools", "bench_real.py")
spec = importlib.util.spec_from_file_location("bench_real", tool)
br = importlib.util.module_from_spec(spec); spec.loader.exec_module(br)
assert set(br.REPEATS) == {"m365", "relays"}, br.REPEATS
def run(sets):
    subprocess.run([sys.executable, tool, "--shared", shared, "--out", out, "--big-mb", "0.001",
                    "--repeated", sets], check=True)
def rep(name):
    return os.path.join(out, name + "-repeated.mbox")
def check(name):
    one = open(os.path.join(out, name + ".mbox"), "rb").read()
    assert one.count(b"\nFrom ") + one.startswith(b"From ") == 3, one
    got = open(rep(name), "rb").read()
    assert got == one * br.REPEATS[name], (name, len(got), len(one))

run("hamspam-big m365")                       # tools/bench passes its --real-sets as they are
check("m365")
assert not os.path.exists(rep("relays")), "relays not chosen, yet built"
assert not os.path.exists(rep("hamspam")) and not os.path.exists(rep("hamspam-big"))
before = os.stat(rep("m365")).st_mtime_ns
os.utime(rep("m365"), ns=(before - 10**9, before - 10**9))
run("m365 relays")
check("m365"); check("relays")
assert os.stat(rep("m365")).st_mtime_ns == before - 10**9, "unchanged m365-repeated.mbox was rewritten"
run("relays")
check("relays")
assert not os.path.exists(rep("m365")), "m365 no longer chosen, its repeated mbox kept"
assert not os.path.exists(os.path.join(out, "m365-repeated.key"))
print("bench_real.py: repeated mboxes as chosen, byte for byte, reused")
PY

# report: a real.tsv fixture (the columns tools/bench-real.sh writes)
T=$SCRATCH/report
mkdir -p "$T"
printf 'name\tmessages\tbytes\tseconds\tpeak_rss_kb\tcpu_seconds\tnote\n' > "$T/results.tsv"
{
  printf 'name\tset\tinput\tmessages\tbytes\twall_s\tcpu_s\tpeak_rss_kb\trounds\tcpu_rounds\tnote\n'
  printf 'hdrscan-startup-1t\tstartup\tmbox\t1\t52\t0.0180\t0.0210\t0\t3\t0.021,0.021,0.022\tx\n'
  printf 'hdrscan-m365-mbox-1t\tm365\tmbox\t600\t9160550\t0.3000\t0.1027\t20000\t3\t0.1,0.1027,0.11\tx\n'
  printf 'hdrscan-m365-files-1t\tm365\tfiles\t600\t9133549\t0.3500\t0.1091\t20000\t3\t0.1,0.1091,0.12\tx\n'
  printf 'hdrscan-m365-repeated-1t\tm365\trepeated\t12000\t183211000\t1.5000\t1.1800\t20500\t3\t1.17,1.18,1.2\tx\n'
  printf 'hdrscan-b-m365-repeated-1t\tm365\trepeated\t12000\t183211000\t1.7000\t1.4100\t20500\t3\t1.4,1.41,1.5\tx\n'
  printf 'hdrscan-relays-mbox-1t\trelays\tmbox\t80\t2309233\t0.0800\t0.0564\t20000\t3\t0.05,0.0564,0.06\tx\n'
  printf 'hdrscan-relays-files-1t\trelays\tfiles\t80\t2333810\t0.0900\t0.0530\t20000\t3\t0.05,0.053,0.06\tx\n'
  printf 'hdrscan-relays-repeated-1t\trelays\trepeated\t4000\t115461650\t1.1000\t0.8500\t21000\t3\t0.84,0.85,0.9\tx\n'
  printf 'rspamd-m365-files-2w\tm365\tfiles\t600\t9133549\t1.8000\t1.8519\t290000\t3\t2.1,1.8519,1.7\tx\n'
  printf 'floor-crypto-m365\tm365\tmbox\t600\t9160550\t0.0290\t0.0312\t15000\t3\t0.03,0.0312,0.033\tx\n'
  printf 'floor-crypto-files-m365\tm365\tfiles\t600\t9133549\t0.0300\t0.0345\t15000\t3\t0.033,0.0345,0.036\tx\n'
} > "$T/real.tsv"
python3 "$SRC/tools/bench_report.py" --results "$T/results.tsv" --nproc 2 --real "$T/real.tsv" > "$T/report.md"

python3 - "$T/real.tsv" "$T/report.md" <<'PY'
import sys
rows = {}
with open(sys.argv[1]) as f:
    hdr = f.readline().rstrip("\n").split("\t")
    for line in f:
        r = dict(zip(hdr, line.rstrip("\n").split("\t")))
        rows[r["name"]] = r
rep = open(sys.argv[2]).read()
lines = rep.splitlines()
def rate(name):
    return int(rows[name]["messages"]) / float(rows[name]["cpu_s"])
def value(prefix):
    hits = [l for l in lines if l.startswith("| " + prefix)]
    assert len(hits) == 1, (prefix, hits)
    return hits[0].rsplit("|", 2)[1].strip()
for st, mult in (("m365", 20), ("relays", 50)):
    h = rows["hdrscan-%s-repeated-1t" % st]
    m = int(h["messages"])
    assert m == mult * int(rows["hdrscan-%s-mbox-1t" % st]["messages"])
    label = ("%s mbox repeated (x%d, %d messages), steady state (per message, start-up amortised): "
             "hdrscan 1 thread" % (st, mult, m))
    assert value(label + ", messages per CPU-s") == "%.0f" % rate(h["name"]), st
    assert value(label + ", microseconds per message (CPU)") == "%.1f" % (1e6 * float(h["cpu_s"]) / m), st
    # the row itself is in the runs table, as every other row
    assert any(l.startswith("| hdrscan-%s-repeated-1t | %d |" % (st, m)) for l in lines), st
# rspamd's row: its timed passes counted from its CPU figures, the median as its CPU seconds
rs = [l for l in lines if l.startswith("| rspamd-m365-files-2w |")]
assert len(rs) == 1 and rs[0].split("|")[4].strip() == "3", rs
assert rs[0].split("|")[8].strip() == "1.852" and rs[0].rstrip(" |").endswith("2.1 1.8519 1.7"), rs
# m365 has an rspamd row: the steady-state ratio and the target line's steady-state part
x = rate("hdrscan-m365-repeated-1t") / rate("rspamd-m365-files-2w")
lab = ("m365 mbox repeated (x20, 12000 messages), steady state (per message, start-up amortised): "
       "hdrscan 1 thread / rspamd (its m365 files), messages per CPU-s")
assert value(lab) == "%.1f" % x, (value(lab), x)
tgt = [l for l in lines if l.startswith("- m365 files, >= 30x")]
assert len(tgt) == 1 and (
    "per CPU-second at steady state (the repeated mbox, start-up amortised) %.1fx (%s);"
    % (x, "met" if x >= 30 else "NOT met")) in tgt[0], tgt
# the cryptography floor: its ratio line (the mbox floor), and in the target line the budget
# 30x rspamd leaves for the 600 messages against the floor's CPU on the set's files
crypto = "split + SHA-256 of message and body + one RSA-2048 check per ARC-Seal"
h, f = rows["hdrscan-m365-mbox-1t"], rows["floor-crypto-m365"]
mb = lambda r: int(r["bytes"]) / float(r["cpu_s"])
assert value("m365 mbox: hdrscan 1 thread / floor (%s), MB per CPU-s" % crypto) == "%.3f" % (mb(h) / mb(f))
budget = 600 / (30 * rate("rspamd-m365-files-2w"))
assert tgt[0].endswith("; 30x leaves %.1f ms of CPU for its 600 messages, the cryptography floor alone "
                       "(each file read whole + SHA-256 of message and body + one RSA-2048 check per ARC-Seal, "
                       "on the set's files, its own start included) takes 34.5 ms" % (1e3 * budget)), tgt
# the existing files ratio is still there, with its value, before the steady-state lines
files = rate("hdrscan-m365-files-1t") / rate("rspamd-m365-files-2w")
fl = "| m365 files: hdrscan 1 thread / rspamd, messages per CPU-s | %.1f |" % files
assert fl in lines and lines.index(fl) < lines.index("| %s | %.1f |" % (lab, x))
# A/B of the repeated row
b = float(rows["hdrscan-b-m365-repeated-1t"]["cpu_s"]) / float(rows["hdrscan-m365-repeated-1t"]["cpu_s"])
assert value("m365 repeated: hdrscan-b CPU s / hdrscan CPU s") == "%.3f" % b
# relays: no rspamd row, so no ratio to rspamd and no target line
assert not any(l.startswith("| relays mbox repeated") and "rspamd" in l for l in lines)
assert not any(l.startswith("- relays files") for l in lines)
print("bench_report.py: steady-state lines as computed from the fixture (m365 %.1fx rspamd)" % x)
PY

# tools/bench_floor.cpp crypto: every message split out and hashed, one seal check for each
# message whose header block has an ARC-Seal field (any case, LF or CRLF), none for a body
# that only mentions one; each check verifies (the embedded key and signature belong together).
g++ -O2 -std=c++20 "$SRC/tools/bench_floor.cpp" -o "$SCRATCH/bench_floor" -lcrypto
{
  printf 'From a@example.org Thu Jan  1 00:00:00 2026\n'
  printf 'ARC-Seal: i=1; a=rsa-sha256; b=x\nFrom: a@example.org\n\nbody one\n\n'
  printf 'From b@example.org Thu Jan  1 00:00:00 2026\n'
  printf 'Subject: two\r\narc-seal: i=1; b=y\r\n\r\nbody two\r\n\n'
  printf 'From c@example.org Thu Jan  1 00:00:00 2026\n'
  printf 'Subject: three\n\nARC-Seal: only in the body\n\n'
  printf 'From d@example.org Thu Jan  1 00:00:00 2026\n'
  printf 'Subject: four\nX-Note: ARC-Seal: not at a line start\n\nbody\n'
} > "$SCRATCH/seals.mbox"
read -r msgs _ _ < <("$SCRATCH/bench_floor" crypto "$SCRATCH/seals.mbox" 2>"$SCRATCH/floor.err")
[ "$msgs" = 4 ] || { echo "bench_floor crypto: $msgs messages, expected 4" >&2; exit 1; }
grep -qx 'seals 2 verified 2' "$SCRATCH/floor.err" ||
  { echo "bench_floor crypto: $(cat "$SCRATCH/floor.err"), expected 'seals 2 verified 2'" >&2; exit 1; }
# crypto-files: the same messages as files named in a list (the second one larger than the
# first buffer: it grows), each read whole; the same seal checks and the same digests.
mkdir -p "$SCRATCH/sealfiles"
awk -v d="$SCRATCH/sealfiles" '/^From [a-d]@example.org /{n++; next} {f = d "/" n ".eml"; printf "%s\n", $0 > f}' \
  "$SCRATCH/seals.mbox"
head -c 1500000 /dev/zero | tr '\0' 'x' >> "$SCRATCH/sealfiles/2.eml"
ls "$SCRATCH"/sealfiles/*.eml > "$SCRATCH/seals.list"
read -r msgs bytes _ < <("$SCRATCH/bench_floor" crypto-files "$SCRATCH/seals.list" 2>"$SCRATCH/floor.err")
want_bytes=$(cat "$SCRATCH"/sealfiles/*.eml | wc -c)
[ "$msgs $bytes" = "4 $want_bytes" ] ||
  { echo "bench_floor crypto-files: $msgs messages $bytes bytes, expected 4 $want_bytes" >&2; exit 1; }
grep -qx 'seals 2 verified 2' "$SCRATCH/floor.err" ||
  { echo "bench_floor crypto-files: $(cat "$SCRATCH/floor.err"), expected 'seals 2 verified 2'" >&2; exit 1; }
echo "bench_floor crypto and crypto-files: 4 messages, 2 seal checks, both verified"

# tools/rusage-run (compiled into this scratch's cache, not the user's): four fields; the wall time is the command's (a 0.2 s sleep cannot take
# less), and the exit status is the command's.
export XDG_CACHE_HOME=$SCRATCH/cache
"$SRC/tools/rusage-run" -o "$SCRATCH/ru.out" sleep 0.2
python3 - "$SCRATCH/ru.out" <<'PY'
import sys
f = open(sys.argv[1]).read().split()
assert len(f) == 4, f
rss, user, sys_s, wall = int(f[0]), float(f[1]), float(f[2]), float(f[3])
assert rss > 0 and user >= 0 and sys_s >= 0, f
assert wall >= 0.2, f
print("rusage-run: peak RSS %d KB, wall %.3f s" % (rss, wall))
PY
rc=0; "$SRC/tools/rusage-run" -o "$SCRATCH/ru.out" sh -c 'exit 3' || rc=$?
[ "$rc" = 3 ] || { echo "rusage-run: exit status $rc, expected 3" >&2; exit 1; }
# -n 3: three runs, the wall time is one run's mean (a 0.2 s sleep: >= 0.2, and below the
# 0.6 s the three take together); the measured command does not carry the measuring parent's
# memory (a fork from a Python interpreter reported true at ~10 MB peak RSS and ~10 ms CPU;
# it is ~1 MB).
"$SRC/tools/rusage-run" -n 3 -o "$SCRATCH/ru.out" sleep 0.2
"$SRC/tools/rusage-run" -n 5 -o "$SCRATCH/true.out" true
python3 - "$SCRATCH/ru.out" "$SCRATCH/true.out" <<'PY'
import sys
rss, user, sys_s, wall = open(sys.argv[1]).read().split()
assert 0.2 <= float(wall) < 0.6, wall
rss = int(open(sys.argv[2]).read().split()[0])
assert 0 < rss < 4096, "true's peak RSS %d KB: the measuring parent's memory is counted" % rss
print("rusage-run -n 3: mean wall %.3f s; true: peak RSS %d KB" % (float(wall), rss))
PY
rc=0; "$SRC/tools/rusage-run" -n 3 -o "$SCRATCH/ru.out" sh -c 'kill -TERM $$' || rc=$?
[ "$rc" = 143 ] || { echo "rusage-run: status $rc for a command killed by SIGTERM, expected 143" >&2; exit 1; }
rc=0; "$SRC/tools/rusage-run" -n 0 -o "$SCRATCH/ru.out" true 2>/dev/null || rc=$?
[ "$rc" = 2 ] || { echo "rusage-run -n 0: status $rc, expected 2 (usage)" >&2; exit 1; }

# real_warm (tools/bench-real.sh): every file of a folder, and a single file, are in the page
# cache after it, having been dropped from it first (dd's nocache: posix_fadvise DONTNEED), as
# DAMON's pageout drops inputs left idle for a minute on the benchmark's VMs.
W=$SCRATCH/warm; mkdir -p "$W/sub"
for f in a b sub/c; do head -c 300000 /dev/urandom > "$W/$f"; done
head -c 200000 /dev/urandom > "$SCRATCH/one.mbox"
sync
resident() { fincore -b -n -o RES "$@" | awk '{s += $1} END {print s + 0}'; }
for f in "$W/a" "$W/b" "$W/sub/c" "$SCRATCH/one.mbox"; do dd if="$f" iflag=nocache count=0 status=none; done
before=$(resident "$W/a" "$W/b" "$W/sub/c" "$SCRATCH/one.mbox")
if [ "$before" -ge 400000 ]; then  # a file system that ignores DONTNEED: drop clean caches (root)
  sync; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || true
  before=$(resident "$W/a" "$W/b" "$W/sub/c" "$SCRATCH/one.mbox")
fi
[ "$before" -lt 400000 ] || { echo "real_warm: cannot drop the fixture from the page cache here ($before bytes stay resident)" >&2; exit 1; }
( . "$SRC/tools/bench-real.sh"; real_warm "$W" "$SCRATCH/one.mbox" )
for f in "$W/a" "$W/b" "$W/sub/c" "$SCRATCH/one.mbox"; do
  size=$(stat -c %s "$f"); got=$(resident "$f")
  [ "$got" -ge "$size" ] || { echo "real_warm: $f has $got of $size bytes in the page cache" >&2; exit 1; }
done
echo "real_warm: 1,100,000 bytes back in the page cache ($before before)"

# real_record (tools/bench-real.sh): the rounds column counts the CPU figures it was given (an
# rspamd row's timed passes, whatever --rounds says), the CPU column is their median.
(
  . "$SRC/tools/bench-real.sh"
  log() { :; }
  REAL_RES=$SCRATCH/record.tsv; ROUNDS=7; : > "$REAL_RES"
  real_record rspamd-m365-files-2w m365 files 600 9133549 "1.9 1.8 2.0 " "1.53 1.39 1.33 1.36 1.30 " 290000 note
)
IFS=$'\t' read -r name _ _ _ _ wall cpu _ rounds cpu_rounds _ < "$SCRATCH/record.tsv"
[ "$name $wall $cpu $rounds $cpu_rounds" = "rspamd-m365-files-2w 1.9 1.36 5 1.53,1.39,1.33,1.36,1.30" ] ||
  { echo "real_record: got '$name $wall $cpu $rounds $cpu_rounds'" >&2; exit 1; }
echo "real_record: 5 rounds from 5 CPU figures, median 1.36"

# real_floor (tools/bench-real.sh): a row per floor mode with the program's message and byte
# counts, one round per run; the mbox's kind and size, or (crypto-files) the files' kind and
# the bytes read from them.
(
  . "$SRC/tools/bench-real.sh"
  eval "$(grep -E '^time_(cpu|rss)\(\)' "$SRC/tools/bench")"  # tools/bench's own readers
  log() { :; }
  REPO=$SRC; OUT=$SCRATCH; ROUNDS=2; REAL_RES=$SCRATCH/floor.tsv; : > "$REAL_RES"
  real_floor m365 "$SCRATCH/seals.mbox" crypto
  real_floor m365 "$SCRATCH/seals.list" crypto-files "$SCRATCH/sealfiles"
)
mbox_bytes=$(stat -c %s "$SCRATCH/seals.mbox")
got=$(cut -f1,3,4,5,9 "$SCRATCH/floor.tsv" | tr '\t\n' ' ;')
want="floor-crypto-m365 mbox 4 $mbox_bytes 2;floor-crypto-files-m365 files 4 $want_bytes 2;"
[ "$got" = "$want" ] || { echo "real_floor: got '$got', expected '$want'" >&2; exit 1; }
echo "real_floor: the mbox and the files floors' rows ($want)"
