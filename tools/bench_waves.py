#!/usr/bin/env python3
"""bench_waves.py: memory and time of `hdrscan waves` over a big record stream (issue 20: "a
10-million-record JSONL with 10,000 flagged streams through"); peak RSS from /usr/bin/time,
never asserted (numbers go into the issue's note and docs/benchmarks.md).

The stream is made on the fly (nothing written to disk): real records of a scan of the wave
corpus (tools/gen_corpus.py --waves), clean ones repeated with a changing seq, and FLAGGED
campaign records (their seq, sha256 and time changed so each is its own message) spread
evenly through RECORDS records, piped into `hdrscan waves --format json -`. Run once with
RECORDS and once with RECORDS/10 at the same FLAGGED: RSS that follows the flagged records,
not the records read, is the same in both.
Usage: tools/bench_waves.py [--bin BIN] [--records N (10000000)] [--flagged N (10000)]
"""
import argparse, json, os, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run(binary, clean, flagged, n, nflag):
    every = max(1, n // max(1, nflag))
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M %e %U", binary, "waves", "--format", "json",
                          "-o", os.devnull, "-"],
                         stdin=subprocess.PIPE, stderr=subprocess.PIPE)
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
            p.stdin.write("".join(buf).encode())
            buf = []
    p.stdin.write("".join(buf).encode())
    p.stdin.close()
    err = p.stderr.read().decode().strip().splitlines()
    p.wait()
    kb, secs, user = err[-1].split()
    return int(kb), float(secs), float(user), p.returncode


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "build", "scanner", "hdrscan"))
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--flagged", type=int, default=10_000)
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
    for n in (a.records // 10, a.records):
        kb, secs, user, rc = run(a.bin, clean, flagged, n, a.flagged)
        print("records %d, flagged %d: peak RSS %.1f MB, %.1f s (%.1f s user in waves), exit %d"
              % (n, min(a.flagged, n), kb / 1024, secs, user, rc))


if __name__ == "__main__":
    main()
