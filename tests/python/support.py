"""support.py: what the Python tests share (tests/python/, run by ctest as py:*).

Paths come from the environment ctest sets (tests/CMakeLists.txt): HDRSCAN_BINARY (the CLI,
the oracle), HDRSCAN_SOURCE_DIR, HDRSCAN_SHARED_CORPUS, HDRSCAN_SCRATCH (a scratch directory).
The ../shared rule (issue 14): where ../shared exists, missing data is a failure (fail());
only when it is absent as a whole does a test skip, with exit status 77 (ctest "Skipped").
Inputs the tests build (an mbox from real messages, zips, a tar.gz) go to the scratch directory,
never into the project.
"""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tarfile

BINARY = os.environ["HDRSCAN_BINARY"]
SOURCE = os.environ["HDRSCAN_SOURCE_DIR"]
SHARED = os.environ["HDRSCAN_SHARED_CORPUS"]
SCRATCH = os.environ["HDRSCAN_SCRATCH"]
GEN = os.path.join(SOURCE, "corpus", "generated")
SAMPLES = os.path.join(SOURCE, "corpus", "samples")
PASSWORD = "Quarant1ne!"


def read(path):
    with open(path, "rb") as f:
        return f.read()


def shared_absent():
    return not os.path.exists(SHARED) and not os.path.exists(
        os.path.join(os.path.dirname(SHARED), "docs"))


def require_shared(*parts):
    """The shared paths, each checked: a failure when ../shared exists, exit 77 when absent."""
    if shared_absent():
        print(f"SKIP: ../shared is absent ({SHARED})")
        sys.exit(77)
    paths = [os.path.join(SHARED, p) for p in parts]
    for p in paths:
        if not os.path.exists(p):
            raise AssertionError(f"missing {p} (../shared exists, so missing data is a failure)")
    return paths


def cli_records(args, *paths):
    """`hdrscan scan --format jsonl ARGS PATHS` as a list of records (the oracle)."""
    r = subprocess.run([BINARY, "scan", "--format", "jsonl", *args, *paths],
                       capture_output=True, check=False)
    assert r.returncode in (0, 1, 2), r.stderr
    return [json.loads(line) for line in r.stdout.decode().splitlines()]


def cli_explain(path, *args):
    r = subprocess.run([BINARY, "explain", "--format", "json", *args, path],
                       capture_output=True, check=False)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


def real_mbox(name, count, start=0):
    """An mbox of `count` real SpamAssassin ham messages (each file starts with its own "From "
    line), written to the scratch directory; returns its path."""
    src = os.path.join(SHARED, "ham-spam", "spamassassin", "easy_ham")
    files = sorted(os.listdir(src))[start:start + count]
    assert len(files) == count, f"{src}: only {len(files)} messages"
    path = os.path.join(SCRATCH, name)
    with open(path, "wb") as out:
        for f in files:
            data = read(os.path.join(src, f))
            assert data.startswith(b"From "), f
            out.write(data if data.endswith(b"\n") else data + b"\n")
            out.write(b"\n")
    return path


def containers():
    """Inputs of every kind scan reads, built in the scratch directory from real mail: an
    mbox.gz, a password zip (zip -P, the Defender portal's form), a tar.gz of a Maildir, plus an
    empty file and a path that does not exist (unreadable records)."""
    os.makedirs(SCRATCH, exist_ok=True)
    out = {}
    mbox = real_mbox("ham.mbox", 12, start=100)
    out["mbox_gz"] = os.path.join(SCRATCH, "ham.mbox.gz")
    with open(mbox, "rb") as f, gzip.open(out["mbox_gz"], "wb") as g:
        shutil.copyfileobj(f, g)
    c1 = os.path.join(GEN, "consumer-onlist-full", "0001.eml")
    l1 = os.path.join(GEN, "lookalike-hybrid", "0001.eml")
    out["zip_pw"] = os.path.join(SCRATCH, "Quarantined Messages.zip")
    if os.path.exists(out["zip_pw"]):
        os.remove(out["zip_pw"])
    members = []
    for name, src in (("campaign.eml", c1), ("hybrid.eml", l1)):
        members.append(os.path.join(SCRATCH, name))
        shutil.copy(src, members[-1])
    subprocess.run(["zip", "-q", "-j", "-P", PASSWORD, out["zip_pw"], *members], check=True)
    maildir = os.path.join(SCRATCH, "Maildir")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    shutil.copy(c1, os.path.join(maildir, "cur", "1.host:2,S"))
    shutil.copy(l1, os.path.join(maildir, "new", "2.host"))
    out["tar_gz"] = os.path.join(SCRATCH, "maildir.tar.gz")
    with tarfile.open(out["tar_gz"], "w:gz") as t:
        t.add(maildir, arcname="Maildir")
    out["empty"] = os.path.join(SCRATCH, "empty.eml")
    open(out["empty"], "wb").close()
    out["missing"] = os.path.join(SCRATCH, "no-such-file.eml")
    return out
