#!/usr/bin/env python3
"""bench_python.py: the Python module and Dask against the CLI on the same real mail (issue 21).

Usage: PYTHONPATH=build/python /usr/bin/python3 tools/bench_python.py [--hdrscan BIN]
         [--mail DIR]... [--mbox-messages N] [--rounds R] [--skip-dask] [--threads-only]
Measures, on the real-mail files of --mail (default: ../shared/corpus/ham-spam/spamassassin/*):
  1. the CLI `hdrscan scan --format jsonl -j1` over the files, against Analyzer.scan over the
     same paths and an Analyzer.analyze loop over the same bytes read beforehand: wall and CPU
     seconds, messages/s, and the module's overhead per message against the CLI (microseconds);
  2. analyze from a ThreadPoolExecutor with 1 and 2 threads (the GIL is released: messages/s),
     the rounds of 1 and 2 threads interleaved (a change of the machine's load between them
     then touches both), with the median beside the best and the two-thread speed-up;
     --threads-only runs this part alone (with --rounds 10 or more on a shared machine);
  3. an mbox of --mbox-messages of those messages (written to a temporary directory) scanned
     by hdrscan.dask on a distributed.LocalCluster (127.0.0.1) of 1 and 2 worker processes,
     against the CLI with -j1 and -j2 on it: messages/s and the overhead (cluster start-up is
     reported apart, not counted), and the mbox read without analysis (what a byte range pays
     for the messages before it).
Each figure is the best of --rounds runs. Prints a Markdown table; no assertion (speed is
measured here, never asserted in tests). The machine's load average is printed with it:
numbers from a shared, loaded machine are lower bounds.
"""
import argparse
import glob
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_cli(binary, args, paths):
    """Wall and CPU seconds of one CLI scan, output to /dev/null."""
    c0, t0 = children_cpu(), time.perf_counter()
    with open(os.devnull, "wb") as null:
        r = subprocess.run([binary, "scan", "--format", "jsonl", *args, *paths], stdout=null)
    assert r.returncode in (0, 1, 2)
    return time.perf_counter() - t0, children_cpu() - c0


def best(fn, rounds):
    results = [fn() for _ in range(rounds)]
    return min(results, key=lambda x: x[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hdrscan", default=os.path.join(ROOT, "build", "scanner", "hdrscan"))
    ap.add_argument("--mail", action="append")
    ap.add_argument("--mbox-messages", type=int, default=6000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--threads-only", action="store_true")
    o = ap.parse_args()
    import hdrscan

    dirs = o.mail or sorted(glob.glob(os.path.join(ROOT, "..", "shared", "corpus", "ham-spam",
                                                    "spamassassin", "*", "")))
    files = sorted(f for d in dirs for f in glob.glob(os.path.join(d, "**", "*"), recursive=True)
                   if os.path.isfile(f))
    if not files:
        sys.exit("bench_python: no mail files (give --mail DIR)")
    data = []
    for f in files:
        with open(f, "rb") as fh:
            data.append(fh.read())
    an = hdrscan.Analyzer()
    # Files that hold several messages (concatenated: analyze refuses them, scan splits them)
    # are left out, so every run below analyses the same n messages.
    keep = []
    for f, d in zip(files, data):
        try:
            an.analyze(d, location=f)
            keep.append((f, d))
        except ValueError:
            pass
    files, data = [f for f, _ in keep], [d for _, d in keep]
    n = len(files)
    mb = sum(map(len, data)) / 1e6
    rows = []

    def row(what, wall, cpu, msgs):
        rows.append((what, wall, cpu, msgs / wall, msgs / cpu if cpu else float("nan")))

    scan_over = analyze_over = None
    loads = [os.getloadavg()[0]]
    # 1. CLI vs module, one core. The CLI gets the file list (no directory walk either side).
    if not o.threads_only:
        wall, cpu = best(lambda: run_cli(o.hdrscan, ["-j1"], files), o.rounds)
        row(f"CLI scan -j1, {n} files", wall, cpu, n)
        cli_cpu_per_msg = cpu / n

        def mod_scan():
            c0, t0 = self_cpu(), time.perf_counter()
            k = sum(1 for _ in an.scan(files))
            assert k == n
            return time.perf_counter() - t0, self_cpu() - c0
        wall, cpu = best(mod_scan, o.rounds)
        row("Analyzer.scan over the same paths", wall, cpu, n)
        scan_over = (cpu / n - cli_cpu_per_msg) * 1e6

        def mod_analyze():
            c0, t0 = self_cpu(), time.perf_counter()
            for f, d in zip(files, data):
                an.analyze(d, location=f)
            return time.perf_counter() - t0, self_cpu() - c0
        wall, cpu = best(mod_analyze, o.rounds)
        row("Analyzer.analyze loop (bytes read before)", wall, cpu, n)
        analyze_over = (cpu / n - cli_cpu_per_msg) * 1e6

    # 2. Threads: rounds of 1 and 2 threads interleaved.
    def pool(threads):
        # One task per thread, each a loop over its share: a Future per message would cost
        # more than the GIL (tens of microseconds each, against ~100 us of analysis).
        def share(k):
            for f, d in zip(files[k::threads], data[k::threads]):
                an.analyze(d, location=f)
        c0, t0 = self_cpu(), time.perf_counter()
        with ThreadPoolExecutor(threads) as ex:
            list(ex.map(share, range(threads)))
        return time.perf_counter() - t0, self_cpu() - c0
    runs = {1: [], 2: []}
    for _ in range(o.rounds):
        for threads in (1, 2):
            runs[threads].append(pool(threads))
        loads.append(os.getloadavg()[0])
    for threads in (1, 2):
        wall, cpu = min(runs[threads], key=lambda x: x[0])
        row(f"analyze, ThreadPoolExecutor({threads}), best", wall, cpu, n)
        med = sorted(runs[threads], key=lambda x: x[0])[len(runs[threads]) // 2]
        row(f"analyze, ThreadPoolExecutor({threads}), median", med[0], med[1], n)
    speedup_best = min(w for w, _ in runs[1]) / min(w for w, _ in runs[2])
    speedup_med = (sorted(w for w, _ in runs[1])[o.rounds // 2] /
                   sorted(w for w, _ in runs[2])[o.rounds // 2])

    # 3. Dask on an mbox of real mail.
    startup = {}
    if not o.skip_dask and not o.threads_only:
        from distributed import Client, LocalCluster

        import hdrscan.dask
        with tempfile.TemporaryDirectory() as tmp:
            mbox = os.path.join(tmp, "real.mbox")
            k = 0
            with open(mbox, "wb") as out:
                while k < o.mbox_messages:
                    d = data[k % n]
                    out.write(d if d.startswith(b"From ") else b"From bench@localhost "
                              b"Thu Jan  1 00:00:00 2026\n" + d)
                    out.write(b"\n" if d.endswith(b"\n") else b"\n\n")
                    k += 1
            msgs = sum(1 for _ in an.scan(mbox))
            size = os.path.getsize(mbox)

            def read_only():  # what a range pays for the messages before it: read, not analysed
                c0, t0 = self_cpu(), time.perf_counter()
                assert not list(an.scan(mbox, byte_range=(1 << 62, 1 << 63)))
                return time.perf_counter() - t0, self_cpu() - c0
            wall, cpu = best(read_only, o.rounds)
            row(f"mbox read, nothing analysed ({size / 1e6:.0f} MB: {size / 1e6 / wall:.0f} MB/s)",
                wall, cpu, msgs)
            for j in (1, 2):
                wall, cpu = best(lambda: run_cli(o.hdrscan, [f"-j{j}"], [mbox]), o.rounds)
                row(f"CLI scan -j{j}, mbox of {msgs} messages", wall, cpu, msgs)
            for workers in (1, 2):
                t0 = time.perf_counter()
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
                client = Client(cluster)
                startup[workers] = time.perf_counter() - t0
                bag = hdrscan.dask.scan([mbox], partition_bytes=max(1, size // (4 * workers)),
                                        dataframe=False)

                def dask_run():
                    before = client.run(self_cpu)
                    t0 = time.perf_counter()
                    k = client.compute(bag.count()).result()
                    wall = time.perf_counter() - t0
                    after = client.run(self_cpu)
                    assert k == msgs
                    return wall, sum(after[w] - before[w] for w in after)
                wall, cpu = best(dask_run, o.rounds)
                row(f"hdrscan.dask, {workers} worker process(es), {4 * workers} partitions",
                    wall, cpu, msgs)
                client.close()
                cluster.close()

    print(f"{n} real messages, {mb:.1f} MB; load average {min(loads):.1f}-{max(loads):.1f} "
          f"during the thread rounds on {os.cpu_count()} cores; best of {o.rounds}\n")
    print("| run | wall s | CPU s | messages/s (wall) | messages/CPU-s |")
    print("|---|---|---|---|---|")
    for what, wall, cpu, rate, crate in rows:
        print(f"| {what} | {wall:.2f} | {cpu:.2f} | {rate:,.0f} | {crate:,.0f} |")
    print(f"\nThreadPoolExecutor(2) against (1), wall: {speedup_best:.2f}x (best of each), "
          f"{speedup_med:.2f}x (medians)")
    if scan_over is not None:
        print(f"Module overhead per message against the CLI (CPU): Analyzer.scan "
              f"{scan_over:+.0f} us, analyze loop {analyze_over:+.0f} us")
    for w, s in startup.items():
        print(f"LocalCluster start-up with {w} worker(s): {s:.1f} s (not counted above)")


if __name__ == "__main__":
    main()
