#!/usr/bin/env python3
"""bench_waves.py: memory and time of `hdrscan waves` over a big record stream (issue 20: "a
10-million-record JSONL with 10,000 flagged streams through"); wall time, CPU and peak RSS
from /usr/bin/time, never asserted (numbers go into docs/benchmarks.md).

The records: real records of a scan of the wave corpus (tools/gen_corpus.py --waves), clean
ones repeated with a changing seq, and FLAGGED campaign records (their seq, sha256 and time
changed so each is its own message) spread evenly through RECORDS records.
Two ways to feed them:
  (default)    piped into `hdrscan waves --format json -` as they are made (nothing on disk);
               run once with RECORDS and once with RECORDS/10 at the same FLAGGED: RSS that
               follows the flagged records, not the records read, is the same in both.
  --file DIR   written (streaming, 4096 lines at a time) to DIR/bench-waves-N.jsonl, then
               `hdrscan waves --format json FILE` reads the file, as a user runs it on a saved
               scan; the file is deleted afterwards (--keep keeps it). Free disk is checked
               first (the file's estimated size, plus 10 %, must fit).
Usage: tools/bench_waves.py [--bin BIN] [--records N (10000000)] [--flagged N (10000)]
                            [--file DIR [--keep]]
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
TIME_FMT = "%M %e %U %S"  # peak RSS KB, wall s, user s, system s


def lines(clean, flagged, n, nflag):
    """The record stream, in batches of 4096 lines."""
    every = max(1, n // max(1, nflag))
    made = 0
    buf = []
    for i in range(n):
        if i % every == 0 and made < nflag:
            r = flagged[made % len(flagged)]
            line = r.replace('"seq":0,', '"seq":%d,' % i, 1).replace(
                r[r.index('"sha256":"') + 10:][:64], "%064x" % (i + 1), 1)
            made += 1
        else:
            line = clean.replace('"seq":0,', '"seq":%d,' % i, 1)
        buf.append(line)
        if len(buf) == 4096:
            yield "".join(buf)
            buf = []
    if buf:
        yield "".join(buf)


def timed(binary, args, stdin=None):
    p = subprocess.Popen(["/usr/bin/time", "-f", TIME_FMT, binary, "waves", "--format", "json",
                          "-o", os.devnull] + args, stdin=stdin, stderr=subprocess.PIPE)
    return p


def result(p):
    err = p.stderr.read().decode().strip().splitlines()
    p.wait()
    kb, wall, user, system = err[-1].split()
    return {"rss_mb": int(kb) / 1024, "wall": float(wall), "cpu": float(user) + float(system),
            "user": float(user), "rc": p.returncode}


def run_pipe(binary, clean, flagged, n, nflag):
    p = timed(binary, ["-"], stdin=subprocess.PIPE)
    for chunk in lines(clean, flagged, n, nflag):
        p.stdin.write(chunk.encode())
    p.stdin.close()
    return result(p)


def run_file(binary, clean, flagged, n, nflag, folder, keep):
    est = n * len(clean.encode()) + nflag * max(len(f.encode()) for f in flagged)
    free = shutil.disk_usage(folder).free
    if est * 1.1 > free:
        sys.exit("bench_waves: %s has %.1f GB free, the file needs about %.1f GB"
                 % (folder, free / 1e9, est / 1e9))
    path = os.path.join(folder, "bench-waves-%d.jsonl" % n)
    try:
        t0 = time.monotonic()
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            for chunk in lines(clean, flagged, n, nflag):
                f.write(chunk)
        made = time.monotonic() - t0
        size = os.path.getsize(path)
        r = result(timed(binary, [path]))
        r.update(file_gb=size / 1e9, write_s=made)
        return r
    finally:
        if not keep and os.path.exists(path):
            os.remove(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "build", "scanner", "hdrscan"))
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--flagged", type=int, default=10_000)
    ap.add_argument("--file", metavar="DIR", help="write the records to a file in DIR and read that")
    ap.add_argument("--keep", action="store_true", help="with --file: keep the file")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, os.path.join(HERE, "gen_corpus.py"), "--waves", d + "/wv"],
                       check=True, stderr=subprocess.DEVNULL)
        out = subprocess.run([a.bin, "scan", "--format", "jsonl", d + "/wv"], capture_output=True,
                             text=True).stdout
    recs = [json.loads(l) for l in out.splitlines()]
    def line(r):
        r = dict(r, seq=0)
        return json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n"
    clean = line(next(r for r in recs if r["verdict"] == "clean"))
    flagged = [line(r) for r in recs if r["verdict"] == "campaign"]
    sizes = [a.records] if a.file else [a.records // 10, a.records]
    for n in sizes:
        if a.file:
            r = run_file(a.bin, clean, flagged, n, a.flagged, a.file, a.keep)
            print("records %d (file %.2f GB, written in %.0f s), flagged %d: wall %.1f s, CPU %.1f s "
                  "(user %.1f), peak RSS %.1f MB, exit %d"
                  % (n, r["file_gb"], r["write_s"], min(a.flagged, n), r["wall"], r["cpu"], r["user"],
                     r["rss_mb"], r["rc"]))
        else:
            r = run_pipe(a.bin, clean, flagged, n, a.flagged)
            print("records %d, flagged %d: peak RSS %.1f MB, %.1f s (%.1f s CPU in waves), exit %d"
                  % (n, min(a.flagged, n), r["rss_mb"], r["wall"], r["cpu"], r["rc"]))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
