#!/usr/bin/env python3
"""bench_report.py: tools/bench's results (real.tsv, results.tsv, milter.tsv) as markdown.

Reads OUT/real.tsv (the real-mail part, tools/bench-real.sh: medians of rounds) and its
inputs' manifest, OUT/results.tsv (the generated mbox: name, messages, bytes, seconds,
peak_rss_kb, cpu_seconds, note) and, when present, OUT/milter.tsv (mode, messages, seconds,
p50_ms, p99_ms, probe_n, note); prints the tables, the ratios and the issue-17 and issue-7
targets with the measured value beside each (no pass is assumed: each line says met / NOT
met from the numbers above it).
"""
import argparse
import glob
import datetime as dt
import os
import platform
import subprocess


def load(path):
    rows = []
    with open(path) as f:
        hdr = f.readline().rstrip("\n").split("\t")
        for line in f:
            if line.strip():
                rows.append(dict(zip(hdr, line.rstrip("\n").split("\t"))))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--nproc", type=int, required=True)
    ap.add_argument("--load-start", default="")
    ap.add_argument("--load-end", default="")
    ap.add_argument("--mbox", default="")
    ap.add_argument("--manifest", default="")
    ap.add_argument("--repeat", default="")
    ap.add_argument("--hdrscan", default="")
    ap.add_argument("--real", default="")
    ap.add_argument("--real-manifest", default="")
    a = ap.parse_args()
    rows = load(a.results)
    by = {r["name"]: r for r in rows}
    n = a.nproc

    def rate(r):
        s = float(r["seconds"])
        return int(r["messages"]) / s, int(r["bytes"]) / 1e6 / s

    out = []
    cpu = ""
    try:
        cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
    except Exception:
        pass
    commit = ""
    try:
        commit = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
    except Exception:
        pass
    out.append("Run %s UTC on %s, %d cores (%s), hdrscan at commit %s (%s). Load average (1/5/15 min) at start %s, "
               "after the peers %s: the machine is shared, so wall-clock figures carry that noise. Page cache hot; "
               "hdrscan and floor rows are the best of %s runs, peers one timed run after a warm-up."
               % (dt.datetime.utcnow().strftime("%Y-%m-%d %H:%M"), platform.node(), n, cpu, commit or "?", a.hdrscan,
                  a.load_start or "?", a.load_end or "?", a.repeat or "?"))
    out.append("")
    if a.real and os.path.exists(a.real):
        out.extend(real_report(load(a.real), a.real_manifest, n))
    if rows:
        out.append("### The generated mbox (secondary)")
        out.append("")
    if rows and a.manifest and os.path.exists(a.manifest):
        mf = load_manifest(a.manifest)
        out.append("Input: `%s`, %s; mix by kind (messages / MB): %s." % (
            os.path.basename(a.mbox), "%d messages, %.0f MB" % (mf["total"][0], mf["total"][1] / 1e6),
            ", ".join("%s %d / %.0f" % (k, v[0], v[1] / 1e6) for k, v in mf.items() if k != "total")))
        out.append("")
    if rows:
        out.append("| run | input | messages | MB | wall s | messages/s | MB/s | peak RSS MB | CPU s | messages per CPU-s | MB per CPU-s |")
        out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        mps, mbs = rate(r)
        cpu = float(r.get("cpu_seconds") or 0)
        out.append("| %s | %s | %s | %.1f | %.3f | %.0f | %.1f | %.1f | %.2f | %s | %s |" % (
            r["name"], r["note"], r["messages"], int(r["bytes"]) / 1e6, float(r["seconds"]), mps, mbs,
            int(r["peak_rss_kb"]) / 1024, cpu, "%.0f" % (int(r["messages"]) / cpu) if cpu > 0 else "",
            "%.1f" % (int(r["bytes"]) / 1e6 / cpu) if cpu > 0 else ""))
    out.append("")
    if rows:
        out.append("CPU s = user+system seconds of all the run's processes (all of hdrscan's threads; "
                   "all daemon processes of a peer). On a shared machine CPU seconds "
                   "stay put while wall seconds grow with the other users' load.")
        out.append("")

    ratios = []
    def cpu_rate(r):
        c = float(r.get("cpu_seconds") or 0)
        return (int(r["messages"]) / c, int(r["bytes"]) / 1e6 / c) if c > 0 else (0.0, 0.0)
    def ratio(label, a_name, b_name, idx, target=None, fmt="%.2f", f=rate):
        if a_name in by and b_name in by and f(by[b_name])[idx] > 0:
            x = f(by[a_name])[idx] / f(by[b_name])[idx]
            t = ""
            if target is not None:
                t = " (target >= %g: %s)" % (target, "met" if x >= target else "NOT met")
            ratios.append("| %s | %s / %s | %s%s |" % (label, a_name, b_name, fmt % x, t))
    ratio("hdrscan 1 thread / rspamd, messages/s (same messages)", "hdrscan-peer-rspamd-1t", "rspamd-%dw" % n, 0, 30, "%.1f")
    ratio("hdrscan %d threads / rspamd, messages/s (same messages)" % n, "hdrscan-peer-rspamd-%dt" % n, "rspamd-%dw" % n, 0, None, "%.1f")
    ratio("hdrscan 1 thread / rspamd, messages per CPU-second (same messages)", "hdrscan-peer-rspamd-1t", "rspamd-%dw" % n, 0, 30, "%.1f", cpu_rate)
    ratio("hdrscan 1 thread / SpamAssassin, messages per CPU-second (same messages)", "hdrscan-peer-sa-1t", "spamassassin-%dc" % n, 0, None, "%.0f", cpu_rate)
    ratio("hdrscan 1 thread / floor (split + SHA-256), MB per CPU-second", "hdrscan-mbox-1t", "floor-sha", 1, None, "%.3f", cpu_rate)
    ratio("hdrscan 1 thread / SpamAssassin, messages/s (same messages)", "hdrscan-peer-sa-1t", "spamassassin-%dc" % n, 0, None, "%.0f")
    ratio("hdrscan %d threads / 1 thread, mbox" % n, "hdrscan-mbox-%dt" % n, "hdrscan-mbox-1t", 0, 1.8)
    ratio("hdrscan 1 thread / floor (split), MB/s", "hdrscan-mbox-1t", "floor-split", 1, None, "%.3f")
    ratio("hdrscan 1 thread / floor (split + SHA-256), MB/s", "hdrscan-mbox-1t", "floor-sha", 1, None, "%.3f")
    ratio("hdrscan 1 thread / floor (read), MB/s", "hdrscan-mbox-1t", "floor-read", 1, None, "%.3f")
    ratio("hdrscan / hdrscan-b (--hdrscan-b), 1 thread, MB per CPU-second", "hdrscan-mbox-1t", "hdrscan-b-mbox-1t", 1, None, "%.3f", cpu_rate)
    if ratios:
        out.append("| ratio | runs | value |")
        out.append("|---|---|---:|")
        out.extend(ratios)
        out.append("")

    targets = []
    if "hdrscan-mbox-1t" in by:
        mbs = rate(by["hdrscan-mbox-1t"])[1]
        targets.append("- full analysis, 1 thread, >= 150 MB/s: %.1f MB/s wall, %s (%.1f MB per CPU-second of the whole process)" % (
            mbs, "met" if mbs >= 150 else "NOT met", cpu_rate(by["hdrscan-mbox-1t"])[1]))
    if "hdrscan-mbox-%dt" % n in by:
        rss = int(by["hdrscan-mbox-%dt" % n]["peak_rss_kb"]) / 1024
        small = [int(by[k]["peak_rss_kb"]) / 1024 for k in by if k.startswith("hdrscan-peer-")]
        targets.append("- peak RSS < 200 MB on the %.0f MB mbox: %.1f MB (%s); on the small file subsets %s MB" % (
            int(by["hdrscan-mbox-%dt" % n]["bytes"]) / 1e6, rss, "met" if rss < 200 else "NOT met",
            "/".join("%.1f" % s for s in small)))
    mil = os.path.join(os.path.dirname(a.results), "milter.tsv")
    if os.path.exists(mil):
        rows = load(mil)
        levels = sorted({int(r.get("sessions") or 20) for r in rows}, reverse=True)
        out.append("Milter: private Postfix 3.7 on 127.0.0.1 (queue on tmpfs), the same smtp-source load for each mode; "
                   "latency = one extra SMTP session sending messages one after another during the load, "
                   "time from DATA to the final 250; \"added\" = this mode minus Postfix alone. "
                   "Throughput and CPU: the median of the interleaved rounds; latency: percentiles over all probe "
                   "samples of all rounds. One table per load (smtp-source sessions).")
        out.append("")
        for sess in levels:
            m = milter_medians([r for r in rows if int(r.get("sessions") or 20) == sess],
                               os.path.dirname(mil), sess)
            rounds = max((r["rounds"] for r in m.values()), default=0)
            out.append("Load: smtp-source -s %d, %d rounds; probe samples: %s." % (
                sess, rounds, ", ".join("%s %d" % (k, r.get("probe_n", 0)) for k, r in m.items())))
            out.append("")
            out.append("| Postfix with | messages | seconds | messages/s | vs no milter | vs null milter | latency p50 ms | p99 ms | added p50 ms | added p99 ms | milter CPU ms/msg | Postfix CPU ms/msg | note |")
            out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
            base, null = m.get("none"), m.get("null")
            names = {"none": "no milter", "null": "null milter (floor)",
                     "null-unix": "null milter, unix socket (floor)", "hdrscan-unix": "hdrscan milter, unix socket"}
            # a unix-socket mode is compared with the null milter on the same transport
            floor_of = lambda k: m.get("null-unix") if k.endswith("-unix") else null
            for k in ("none", "null", "hdrscan", "hdrscan-b", "null-unix", "hdrscan-unix", "rspamd"):
                if k not in m:
                    continue
                r = m[k]
                rel = relnull = add50 = add99 = ""
                if base and k != "none":
                    rel = "%.0f%%" % (100 * r["mps"] / base["mps"])
                    add50 = "%.2f" % (r["p50_ms"] - base["p50_ms"])
                    add99 = "%.2f" % (r["p99_ms"] - base["p99_ms"])
                fl = floor_of(k)
                if fl and k not in ("none", "null", "null-unix"):
                    relnull = "%.0f%%" % (100 * r["mps"] / fl["mps"])
                out.append("| %s | %d | %.2f | %.0f | %s | %s | %.2f | %.2f | %s | %s | %s | %.3f | %s |" % (
                    names.get(k, k + " milter"), r["messages"], r["seconds"], r["mps"], rel, relnull,
                    r["p50_ms"], r["p99_ms"], add50, add99,
                    "%.3f" % r["milter_cpu_ms"] if k != "none" else "", r["postfix_cpu_ms"], r["note"]))
            out.append("")
            # the targets, per transport, each beside the null milter on the same transport
            for mode, where in (("hdrscan", ""), ("hdrscan-unix", ", unix socket")):
                if not base or mode not in m:
                    continue
                r, fl = m[mode], floor_of(mode)
                x = r["mps"] / base["mps"]
                d99 = r["p99_ms"] - base["p99_ms"]
                fl_tp = "; the null milter (floor) reaches %.0f%%" % (100 * fl["mps"] / base["mps"]) if fl else ""
                fl_p99 = "; the null milter adds %.2f ms" % (fl["p99_ms"] - base["p99_ms"]) if fl else ""
                targets.append("- milter throughput >= 90%% of Postfix alone, %d sessions%s: %.0f%% (%s)%s" % (
                    sess, where, 100 * x, "met" if x >= 0.9 else "NOT met", fl_tp))
                targets.append("- milter p99 added latency < 5 ms, %d sessions%s: %.2f ms (%s)%s" % (
                    sess, where, d99, "met" if d99 < 5 else "NOT met", fl_p99))
    if targets:
        out.append("Issue 7 targets, from the numbers above:")
        out.append("")
        out.extend(targets)
        out.append("")
    print("\n".join(out))


def real_report(rows, manifest, nproc):
    """The real-mail part: inputs, runs (medians of the rounds), ratios, issue-17 targets."""
    out = ["### Real mail (the main input)", ""]
    if manifest and os.path.exists(manifest):
        out.append("| set | messages | MB (files) | median message KB | mean message KB | mbox MB |")
        out.append("|---|---:|---:|---:|---:|---:|")
        for m in load(manifest):
            out.append("| %s | %s | %.1f | %.1f | %.1f | %.1f |" % (
                m["set"], m["messages"], int(m["bytes"]) / 1e6, float(m["median_size"]) / 1e3,
                float(m["mean_size"]) / 1e3, int(m["mbox_bytes"]) / 1e6))
        out.append("")
    out.append("| run | messages | MB | rounds | wall s (median) | messages/s | MB/s | CPU s (median) | "
               "messages per CPU-s | MB per CPU-s | peak RSS MB | CPU s of each round |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    by = {}
    for r in rows:
        by[r["name"]] = r
        m, b, w, c = int(r["messages"]), int(r["bytes"]) / 1e6, float(r["wall_s"]), float(r["cpu_s"])
        rounds = r["rounds"]  # as many as its CPU figures (rspamd: its timed passes)
        out.append("| %s | %d | %.1f | %s | %.3f | %.0f | %.1f | %.3f | %s | %s | %.1f | %s |" % (
            r["name"], m, b, rounds, w, m / w if w else 0, b / w if w else 0, c,
            "%.0f" % (m / c) if c > 0 else "", "%.1f" % (b / c) if c > 0 else "",
            int(r["peak_rss_kb"] or 0) / 1024, r["cpu_rounds"].replace(",", " ")))
    out.append("")
    out.append("hdrscan rows: `--threads N` (the name's last part), medians of the rounds, peak RSS the "
               "largest round's; `-repeated-` rows: the set's mbox repeated in one file (one process, its "
               "start-up amortised over all the messages: the steady-state cost per message); "
               "rspamd: all its processes' CPU and PSS, the median of its timed passes (the rounds "
               "column) after a warm-up, "
               "%d workers driven by `rspamc -n 8`." % nproc)
    out.append("")

    def per(r, cpu):  # (messages/s, MB/s) by wall or by CPU second
        t = float(r["cpu_s"] if cpu else r["wall_s"])
        return (int(r["messages"]) / t, int(r["bytes"]) / 1e6 / t) if t > 0 else (0.0, 0.0)
    ratios, targets = [], []
    sets = []
    for r in rows:
        if r["set"] not in sets:
            sets.append(r["set"])
    for st in sets:
        for kind in ("mbox", "files", "repeated"):
            h = by.get("hdrscan-%s-%s-1t" % (st, kind))
            if not h:
                continue
            if kind == "repeated":
                ratios.extend(steady_state(st, h, by.get("hdrscan-%s-mbox-1t" % st),
                                           by.get("rspamd-%s-files-%dw" % (st, nproc)), per))
            if kind == "mbox":
                for fl in ("split", "sha", "crypto"):
                    f = by.get("floor-%s-%s" % (fl, st))
                    if f and per(f, True)[1] > 0:
                        ratios.append("| %s mbox: hdrscan 1 thread / floor (%s), MB per CPU-s | %.3f |" % (
                            st, FLOOR_LABELS[fl], per(h, True)[1] / per(f, True)[1]))
            rs = by.get("rspamd-%s-files-%dw" % (st, nproc))
            if kind == "files" and rs:
                x_wall = per(h, False)[0] / per(rs, False)[0]
                x_cpu = per(h, True)[0] / per(rs, True)[0]
                ratios.append("| %s files: hdrscan 1 thread / rspamd, messages/s | %.1f |" % (st, x_wall))
                ratios.append("| %s files: hdrscan 1 thread / rspamd, messages per CPU-s | %.1f |" % (st, x_cpu))
                warm = ""
                su = by.get("hdrscan-startup-1t")
                if su and float(h["cpu_s"]) > float(su["cpu_s"]) > 0:
                    # rspamd is timed warm (after its start-up and a warm-up pass); hdrscan's
                    # figure holds one process start-up: the same ratio without it.
                    x_warm = int(h["messages"]) / (float(h["cpu_s"]) - float(su["cpu_s"])) / per(rs, True)[0]
                    ratios.append("| %s files: hdrscan 1 thread / rspamd, messages per CPU-s, hdrscan's start-up "
                                  "(%.3f CPU-s) taken out | %.1f |" % (st, float(su["cpu_s"]), x_warm))
                    warm = "; per CPU-second without hdrscan's start-up %.1fx (%s)" % (
                        x_warm, "met" if x_warm >= 30 else "NOT met")
                rep = by.get("hdrscan-%s-repeated-1t" % st)
                if rep and per(rep, True)[0] > 0:
                    x_ss = per(rep, True)[0] / per(rs, True)[0]
                    warm += "; per CPU-second at steady state (the repeated mbox, start-up amortised) %.1fx (%s)" % (
                        x_ss, "met" if x_ss >= 30 else "NOT met")
                # What 30x rspamd leaves for the set's messages, against what the cryptography
                # every record needs costs alone on the same files (tools/bench-real.sh runs the
                # files floor for every set it runs hdrscan on as files).
                fc = by.get("floor-crypto-files-%s" % st)
                if fc and float(fc["cpu_s"]) > 0:
                    budget = int(h["messages"]) / (30 * per(rs, True)[0])
                    warm += ("; 30x leaves %.1f ms of CPU for its %s messages, the cryptography floor alone "
                             "(%s, on the set's files, its own start included) takes %.1f ms" % (
                                 1e3 * budget, h["messages"], FLOOR_LABELS["crypto-files"], 1e3 * float(fc["cpu_s"])))
                targets.append("- %s files, >= 30x rspamd's messages/s: %.1fx (%s); per CPU-second %.1fx (%s)%s" % (
                    st, x_wall, "met" if x_wall >= 30 else "NOT met", x_cpu, "met" if x_cpu >= 30 else "NOT met",
                    warm))
            b = by.get("hdrscan-b-%s-%s-1t" % (st, kind))
            if b and float(h["cpu_s"]) > 0:
                ratios.append("| %s %s: hdrscan-b CPU s / hdrscan CPU s, 1 thread (> 1: hdrscan faster) | %.3f |" % (
                    st, kind, float(b["cpu_s"]) / float(h["cpu_s"])))
    big = by.get("hdrscan-hamspam-big-mbox-1t")
    if big:
        mc, bc = per(big, True)
        mw, bw = per(big, False)
        targets.insert(0, "- ham-spam mbox repeated to %.0f MB, 1 thread: %.1f MB per CPU-s (>= 150: %s), "
                       "%.0f messages per CPU-s (>= 25,000: %s); wall %.1f MB/s, %.0f messages/s" % (
                           int(big["bytes"]) / 1e6, bc, "met" if bc >= 150 else "NOT met", mc,
                           "met" if mc >= 25000 else "NOT met", bw, mw))
    big2 = by.get("hdrscan-hamspam-big-mbox-%dt" % nproc)
    if big and big2:
        ratios.append("| hamspam-big mbox: %d threads / 1 thread, messages/s (wall) | %.2f |" % (
            nproc, per(big2, False)[0] / per(big, False)[0]))
    if ratios:
        out.append("| ratio | value |")
        out.append("|---|---:|")
        out.extend(ratios)
        out.append("")
    if targets:
        out.append("Issue 17 targets (real mail), from the numbers above:")
        out.append("")
        out.extend(targets)
        out.append("")
    return out


# tools/bench_floor.cpp's modes as the report names them.
FLOOR_LABELS = {"split": "split", "sha": "split + SHA-256",
                "crypto": "split + SHA-256 of message and body + one RSA-2048 check per ARC-Seal",
                "crypto-files": "each file read whole + SHA-256 of message and body + one RSA-2048 check per ARC-Seal"}


def steady_state(st, h, mbox, rs, per):
    """Ratio-table lines of a repeated-mbox row: hdrscan's messages per CPU-second and CPU
    microseconds per message with its start-up amortised, and that rate over rspamd's
    messages per CPU-second on the set's files (rspamd is timed warm) when rspamd ran."""
    m, c = int(h["messages"]), float(h["cpu_s"])
    if m <= 0 or c <= 0:
        return []
    what = "%d messages" % m
    if mbox and int(mbox["messages"]) > 0 and m % int(mbox["messages"]) == 0:
        what = "x%d, %d messages" % (m // int(mbox["messages"]), m)
    label = "%s mbox repeated (%s), steady state (per message, start-up amortised): hdrscan 1 thread" % (st, what)
    res = ["| %s, messages per CPU-s | %.0f |" % (label, m / c),
           "| %s, microseconds per message (CPU) | %.1f |" % (label, 1e6 * c / m)]
    if rs and per(rs, True)[0] > 0:
        res.append("| %s / rspamd (its %s files), messages per CPU-s | %.1f |" % (label, st, (m / c) / per(rs, True)[0]))
    return res


def milter_medians(rows, probe_dir, sessions):
    """milter.tsv rows (one per run) -> per mode the median of every measured column."""
    by = {}
    for r in rows:
        by.setdefault(r["mode"], []).append(r)
    res = {}
    for mode, rs in by.items():
        def med(col):
            v = sorted(float(x.get(col) or 0) for x in rs)
            return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2
        mps = sorted(int(x["messages"]) / float(x["seconds"]) for x in rs)
        res[mode] = {
            "rounds": len(rs), "messages": int(rs[0]["messages"]),
            "mps": mps[len(mps) // 2] if len(mps) % 2 else (mps[len(mps) // 2 - 1] + mps[len(mps) // 2]) / 2,
            "seconds": med("seconds"), "p50_ms": med("p50_ms"), "p99_ms": med("p99_ms"),
            "milter_cpu_ms": med("milter_cpu_ms"), "postfix_cpu_ms": med("postfix_cpu_ms"),
            "note": rs[0].get("note", "").split("; probe replies")[0]}
        # latency percentiles over every probe sample of every round (one run gives ~150
        # samples, too few for a stable p99 on its own); the per-run medians otherwise
        lat = []
        for f in glob.glob(os.path.join(probe_dir, "probe-%s.s%d.r*.txt" % (mode, sessions))):
            with open(f) as fh:
                lat += [float(x) for x in fh if x.strip()]
        if lat:
            xs = sorted(lat)
            q = lambda p: xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]
            res[mode].update(p50_ms=q(0.5), p99_ms=q(0.99), probe_n=len(xs))
    return res


def load_manifest(path):
    res = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or line.startswith("kind\t") or not line.strip():
                continue
            k, n, b = line.rstrip("\n").split("\t")
            res[k] = (int(n), int(b))
    return res


if __name__ == "__main__":
    main()
