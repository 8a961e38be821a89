#!/usr/bin/env bash
# fuzz-seeds.sh: builds the libFuzzer seed corpora (one directory per harness) from the
# project's own mail (corpus/) and the malformed-MIME sets under ../shared/corpus/malformed,
# read in place (nothing from ../shared is copied into the repository: the seeds go to OUT,
# a scratch/build directory).
#
# Usage: tools/fuzz-seeds.sh [OUT]          (default: ../build-fuzz/seeds next to the repo)
#        HDRSCAN_SHARED_CORPUS=/path tools/fuzz-seeds.sh OUT
# Seeds larger than 256 KiB are skipped (libFuzzer works on small inputs; the big ones are
# covered by tests/integration/adversarial.sh and the sanitizer corpus run).
# Harnesses whose first input byte is a selector (fuzz_message, fuzz_header_block, fuzz_mbox,
# fuzz_archive, fuzz_msg, fuzz_rtf, fuzz_pst, fuzz_decode, fuzz_milter) get seeds with that
# byte prepended, see their head comments. Existing seed dirs are replaced; findings libFuzzer
# added to its own working corpus (OUT/../corpus/<harness>) are not touched.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/../build-fuzz/seeds}
SHARED=${HDRSCAN_SHARED_CORPUS:-$ROOT/../shared/corpus}
mkdir -p "$OUT"
if [ ! -d "$SHARED/malformed" ]; then
  echo "fuzz-seeds: $SHARED/malformed absent: seeding from corpus/ only" >&2
fi
python3 - "$ROOT/corpus" "$SHARED/malformed" "$OUT" <<'PY'
import email, email.policy, gzip, hashlib, io, os, shutil, struct, sys, tarfile, zipfile

own, shared, out = sys.argv[1], sys.argv[2], sys.argv[3]
MAX = 256 * 1024
PER_FIELD = 400

def files(root):
    if not os.path.isdir(root):
        return
    for d, dirs, fs in os.walk(root):
        dirs.sort()
        for f in sorted(fs):
            p = os.path.join(d, f)
            try:
                if os.path.isfile(p) and 0 < os.path.getsize(p) <= MAX:
                    yield p
            except OSError:
                pass

msgs = []
for p in list(files(own)) + list(files(shared)):
    if p.endswith(('.ind', '.tsv', '.md', '.json', '.csv', '.py', '.gitattributes', '.zip')):
        continue
    with open(p, 'rb') as fh:
        msgs.append((p, fh.read()))

harness = {}
def put(h, data):
    d = os.path.join(out, h)
    if h not in harness:
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        harness[h] = 0
    name = hashlib.sha1(data).hexdigest()
    path = os.path.join(d, name)
    if not os.path.exists(path):
        with open(path, 'wb') as fh:
            fh.write(data)
        harness[h] += 1

FIELDS = {
    'received': ['received'],
    'auth_results': ['authentication-results', 'arc-authentication-results'],
    'tag_list': ['dkim-signature', 'arc-seal', 'arc-message-signature'],
    'key_value_list': ['x-forefront-antispam-report', 'x-forefront-antispam-report-untrusted',
                       'x-microsoft-antispam', 'x-microsoft-antispam-untrusted',
                       'x-microsoft-antispam-mailbox-delivery'],
    'tenant_connecting_ip': ['x-ms-exchange-crosstenant-originalattributedtenantconnectingip'],
    'received_spf': ['received-spf'],
    'date': ['date'],
    'address': ['from', 'to', 'reply-to', 'return-path', 'sender'],
}
field_count = {k: 0 for k in FIELDS}

def headers_raw(data):
    """Unfolded (name, value bytes) pairs of the header block, bytes kept as is."""
    end = data.find(b'\n\n')
    e2 = data.find(b'\r\n\r\n')
    if e2 >= 0 and (end < 0 or e2 < end):
        end = e2
    block = data if end < 0 else data[:end]
    cur = None
    for line in block.replace(b'\r\n', b'\n').split(b'\n'):
        if line[:1] in (b' ', b'\t') and cur is not None:
            cur[1] += b' ' + line.strip()
            continue
        if cur is not None:
            yield cur[0], cur[1]
        i = line.find(b':')
        cur = [line[:i].strip().lower(), line[i + 1:].strip()] if i > 0 else None
    if cur is not None:
        yield cur[0], cur[1]

for p, data in msgs:
    put('fuzz_pipeline', data)
    put('fuzz_message', b'\x00' + data)
    if len(data) < 64 * 1024:
        put('fuzz_message', b'\x03' + data)  # tight depth/header limits
    put('fuzz_header_block', b'\x00' + data[:16384])
    put('fuzz_mbox', b'\x00' + (data if data.startswith(b'From ') else
                               b'From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n' + data))
    for name, value in headers_raw(data):
        try:
            n = name.decode('ascii')
        except UnicodeDecodeError:
            continue
        for h, names in FIELDS.items():
            if n in names and field_count[h] < PER_FIELD:
                put('fuzz_field_' + h, value)
                field_count[h] += 1
        if b'=?' in value and harness.get('fuzz_decode', 0) < 800:
            put('fuzz_decode', b'\x02' + value)
        if value and harness.get('fuzz_decode', 0) < 800 and hashlib.sha1(value).digest()[0] % 8 == 0:
            put('fuzz_decode', b'\x04' + value)

# Bodies: HTML parts for the extractor, encoded parts and charsets for the decoders.
html_n = dec_n = 0
for p, data in msgs:
    try:
        m = email.message_from_bytes(data, policy=email.policy.compat32)
        parts = list(m.walk())
    except Exception:
        continue
    for part in parts:
        if part.is_multipart():
            continue
        try:
            raw = part.get_payload(decode=False)
            raw = raw.encode('latin-1', 'replace') if isinstance(raw, str) else b''
            body = part.get_payload(decode=True) or b''
        except Exception:
            continue
        ctype = part.get_content_type()
        cte = (part.get('Content-Transfer-Encoding') or '').strip().lower()
        if ctype == 'text/html' and html_n < 600 and body:
            put('fuzz_html', body[:65536]); html_n += 1
        if dec_n < 800 and raw:
            if cte == 'base64':
                put('fuzz_decode', b'\x00' + raw[:16384]); dec_n += 1
            elif cte == 'quoted-printable':
                put('fuzz_decode', b'\x01' + raw[:16384]); dec_n += 1
            cs = part.get_content_charset()
            if cs and body:
                put('fuzz_decode', b'\x03' + cs.encode('ascii', 'replace') + b'\n' + body[:8192]); dec_n += 1
for cs in ('utf-8', 'iso-8859-1', 'windows-1252', 'shift_jis', 'iso-2022-jp', 'gb2312', 'koi8-r',
           'utf-16', 'utf-7', 'big5', 'euc-kr', 'bogus-charset', ''):
    put('fuzz_decode', b'\x03' + cs.encode() + b'\n' + 'Gr\u00fc\u00dfe \u65e5\u672c'.encode('utf-8'))
if 'fuzz_html' not in harness:
    put('fuzz_html', b'<html><body><a href="http://x/"><img src="a.png"></a></body></html>')

# mbox: several messages per file, real mbox files from the malformed sets, From-quoting.
small = [d for _, d in msgs if len(d) < 16384][:400]
for i in range(0, len(small), 4):
    buf = b''
    for d in small[i:i + 4]:
        if d.startswith(b'From '):
            d = d[d.find(b'\n') + 1:]
        d = d.replace(b'\nFrom ', b'\n>From ')
        buf += b'From sender@example.org Mon Jan  2 03:04:05 2023\n' + d + b'\n'
    put('fuzz_mbox', b'\x00' + buf)
    put('fuzz_mbox', b'\x01' + buf)
put('fuzz_mbox', b'\x00From a@b Thu Jan  1 00:00:00 1970\nContent-Length: 5\n\nFrom x\nFrom a@b Thu Jan  1 00:00:00 1970\nSubject: 2\n\nbody\n')
for p, d in msgs:
    if p.endswith('.mbox'):
        put('fuzz_mbox', b'\x00' + d)

# archives: a handful of zips (stored, deflated, ../ names, nested zip, mbox member), gzip
# around an mbox and a tar, read from a file (flag 0x04) and as a stream (0x44).
def mkzip(members, method=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w', method) as z:
        for n, d in members:
            z.writestr(n, d)
    return b.getvalue()
few = [d for _, d in msgs if len(d) < 8192][:40]
for i in range(0, len(few), 2):
    grp = few[i:i + 2]
    put('fuzz_archive', b'\x04' + mkzip([('m%d.eml' % k, d) for k, d in enumerate(grp)]))
    put('fuzz_archive', b'\x04' + mkzip([('../../evil%d.eml' % k, d) for k, d in enumerate(grp)], zipfile.ZIP_STORED))
inner = mkzip([('in.eml', few[0] if few else b'Subject: x\n\nx\n')])
put('fuzz_archive', b'\x04' + mkzip([('nested.zip', inner), ('a.eml', b'Subject: a\n\nb\n')]))
put('fuzz_archive', b'\x05' + mkzip([('bomb.eml', b'Subject: z\n\n' + b'A' * 200000)]))
put('fuzz_archive', b'\x04' + mkzip([('box.mbox', b'From a@b Thu Jan  1 00:00:00 1970\nSubject: 1\n\nx\n'
                                  b'From a@b Thu Jan  1 00:00:00 1970\nSubject: 2\n\ny\n')]))
if os.path.isdir(own):
    for d, _, fs in os.walk(own):
        for f in sorted(fs):
            if f.endswith('.zip') and os.path.getsize(os.path.join(d, f)) <= MAX:
                with open(os.path.join(d, f), 'rb') as fh:
                    put('fuzz_archive', b'\x04' + fh.read())
box = b'From a@b Thu Jan  1 00:00:00 1970\nSubject: 1\n\nx\nFrom a@b Thu Jan  1 00:00:00 1970\n'
put('fuzz_archive', b'\x04' + gzip.compress(box + (few[0] if few else b'Subject: 2\n\ny\n')))
tb = io.BytesIO()
with tarfile.open(fileobj=tb, mode='w:gz') as t:
    for k, d in enumerate(few[:3]):
        ti = tarfile.TarInfo('maildir/cur/%d:2,S' % k)
        ti.size = len(d)
        t.addfile(ti, io.BytesIO(d))
put('fuzz_archive', b'\x04' + tb.getvalue())
put('fuzz_archive', b'\x44' + tb.getvalue())
put('fuzz_archive', b'\x44' + mkzip([('nested.zip', inner), ('a.eml.gz', gzip.compress(b'Subject: a\n\nb\n'))]))

# msg: the real .msg files (read in place from ../shared/corpus/outlook and malformed/), and
# .msg files written from the project's mail by tests/support/msg_writer.py (flag 0x01: as is).
# rtf: the specification's compressed example (flag 0x01) and HTML-encapsulating RTF (0x00).
sys.path.insert(0, os.path.join(os.path.dirname(own), 'tests', 'support'))
import msg_writer
outlook = os.path.join(os.path.dirname(shared), 'outlook', 'msg')
for d in (outlook, shared):
    if os.path.isdir(d):
        for base, _, fs in os.walk(d):
            for f in sorted(fs):
                p = os.path.join(base, f)
                if os.path.getsize(p) <= MAX:
                    with open(p, 'rb') as fh:
                        head = fh.read()
                    if head.startswith(b'\xd0\xcf\x11\xe0'):
                        put('fuzz_msg', b'\x01' + head)
tmp = os.path.join(out, 'msg-tmp.msg')
for p, d in msgs[:12]:
    if p.endswith('.eml') and len(d) < 64 * 1024:
        src = os.path.join(out, 'msg-tmp.eml')
        with open(src, 'wb') as fh:
            fh.write(d)
        try:
            msg_writer.write_msg(src, tmp, set())
            with open(tmp, 'rb') as fh:
                put('fuzz_msg', b'\x01' + fh.read())
            with open(src, 'rb') as fh:
                html = fh.read().decode('latin-1')
            put('fuzz_rtf', b'\x00' + msg_writer.rtf_for_html(html)[16:])
        except Exception:
            pass
for f in ('msg-tmp.msg', 'msg-tmp.eml'):
    if os.path.exists(os.path.join(out, f)):
        os.remove(os.path.join(out, f))
pst_dir = os.path.join(os.path.dirname(shared), 'outlook', 'pst')
if os.path.isdir(pst_dir):
    for f in sorted(os.listdir(pst_dir)):
        p = os.path.join(pst_dir, f)
        if f.endswith('.pst') and os.path.getsize(p) <= 2 * MAX:  # the smallest PSTs are 265 KiB
            with open(p, 'rb') as fh:
                put('fuzz_pst', b'\x01' + fh.read())
put('fuzz_rtf', b'\x01' + bytes.fromhex('2d0000002b0000004c5a4675f1c5c7a703000a00726370673132354232'
                                          '0af32068656c090020627705b06c647d0a800fa0'))

# milter: structured records ([cmd][len lo][len hi][data]) of a Postfix-like session, and the
# same session as raw wire bytes (mode byte 1).
def rec(cmd, data=b''):
    return cmd + struct.pack('<H', len(data)) + data
def pkt(cmd, data=b''):
    return struct.pack('>I', len(data) + 1) + cmd + data
def session(msg, wire):
    hdr_end = msg.find(b'\n\n')
    heads = list(headers_raw(msg))[:30]
    body = msg[hdr_end + 2:] if hdr_end >= 0 else b''
    enc = pkt if wire else rec
    s = b''
    if wire:
        s += pkt(b'O', struct.pack('>III', 6, 0x1ff, 0x1fffff))
    s += enc(b'D', b'C' + b'j\0mx.test\0')
    s += enc(b'C', b'client.example\0' + b'4\x1f\x90' + b'192.0.2.1\0')
    s += enc(b'H', b'client.example\0')
    s += enc(b'M', b'<a@example.org>\0size=10\0')
    s += enc(b'D', b'R' + b'i\0ABC123\0')
    s += enc(b'R', b'<b@test.local>\0')
    s += enc(b'T')
    for n, v in heads:
        s += enc(b'L', n + b'\0 ' + v[:400] + b'\0')
    s += enc(b'L', b'X-Hdrscan-Verdict\0 forged\0')
    s += enc(b'N')
    for i in range(0, min(len(body), 4000), 1000):
        s += enc(b'B', body[i:i + 1000])
    s += enc(b'E')
    s += enc(b'A') + enc(b'Q')
    return s
for d in few[:30]:
    put('fuzz_milter', b'\x08\x00' + session(d, False))
    put('fuzz_milter', b'\x01\x07' + session(d, True))
put('fuzz_milter', b'\x01\x00' + struct.pack('>I', 0xFFFFFFFF) + b'O')
put('fuzz_milter', b'\x01\x00GET / HTTP/1.0\r\n\r\n')

for h in sorted(harness):
    print('%-32s %6d seeds' % (h, harness[h]))
PY
