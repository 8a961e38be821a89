#!/usr/bin/env python3
"""gen_adversarial.py: writes adversarial inputs the torture sets lack into a scratch dir.

Usage: tools/gen_adversarial.py OUTDIR [--full]
       tools/gen_adversarial.py --big-mbox GIB FILE [SAMPLES_DIR]
         writes a GIB-gigabyte mbox of real-looking messages (corpus/samples and
         corpus/generated repeated with fresh Message-IDs) to measure streaming memory

Default sizes keep CI fast; --full (or HDRSCAN_FULL=1) writes the sizes the issue names
(100 MB single body line, a 4.5 GB zip bomb). Every file is streamed to disk in
chunks, so the generator itself runs in a few MB of memory.

Writes OUTDIR/manifest.json: one entry per file with the number of JSON records hdrscan must
print for it ("records") and error codes that at least one record must carry
("expect_codes"; empty = no particular error expected). Inputs:
  nested-multipart.eml     10,000-level nested multipart/mixed
  nested-rfc822.eml        10,000-level nested message/rfc822
  header-line-1mb.eml      one 1 MiB unfolded header line, one 1 MiB folded field
  headers-100k.eml         100,000 header fields
  body-line.eml            one single body line: 10 MiB (100 MiB with --full)
  nul-invalid-utf8.eml     NUL bytes, invalid UTF-8, overlongs, surrogates in names and values
  broken-encodings.eml     broken base64 / quoted-printable / RFC 2047 / charsets
  zip-bomb.zip             highly compressible members: one of 300 MiB (--full: 70 of 65 MiB,
                           past the 4 GiB archive cap), then a normal member (still listed)
  zip-traversal.zip        members named ../x, ../../x, /abs/x, a/../../x (never extracted)
  mbox-unquoted-from.mbox  3 messages whose bodies hold unquoted "From " lines
  deep-boundaries.eml      5,000 parts in one multipart (over --max-parts)
"""
import json, os, sys, zipfile, zlib

MIB = 1 << 20


def big_mbox(gib, dest, samples):
    """Streams a GIB GiB mbox built from the project's own mail; prints the message count."""
    msgs = []
    for d, dirs, fs in os.walk(samples):
        dirs.sort()
        for f in sorted(fs):
            if f.endswith('.eml'):
                with open(os.path.join(d, f), 'rb') as fh:
                    b = fh.read()
                if b.startswith(b'From '):
                    b = b[b.find(b'\n') + 1:]
                b = b.replace(b'\r\n', b'\n').replace(b'\nFrom ', b'\n>From ')
                msgs.append(b if b.endswith(b'\n') else b + b'\n')
    if not msgs:
        print('no .eml under %s' % samples, file=sys.stderr)
        return 2
    target = int(gib * (1 << 30))
    n = written = 0
    with open(dest, 'wb', buffering=8 * MIB) as f:
        while written < target:
            m = msgs[n % len(msgs)]
            rec = (b'From sender@example.com Mon Jan  2 03:04:05 2023\n'
                   b'X-Big-Mbox-Seq: %d\n' % n + m + b'\n')
            f.write(rec)
            written += len(rec)
            n += 1
    print('%s: %d messages, %d bytes' % (dest, n, written))
    return 0


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == '--big-mbox':
        here = os.path.dirname(os.path.abspath(__file__))
        samples = sys.argv[4] if len(sys.argv) > 4 else os.path.join(here, '..', 'corpus', 'generated')
        return big_mbox(float(sys.argv[2]), sys.argv[3], samples)
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    full = '--full' in sys.argv or os.environ.get('HDRSCAN_FULL') == '1'
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = args[0]
    os.makedirs(out, exist_ok=True)
    manifest = []

    def add(name, records=1, expect_codes=(), note=''):
        manifest.append({'file': name, 'records': records, 'expect_codes': list(expect_codes),
                         'bytes': os.path.getsize(os.path.join(out, name)), 'note': note})

    def path(name):
        return os.path.join(out, name)

    head = (b'From: "Prize Team" <winner@example.com>\r\nTo: victim@example.org\r\n'
            b'Date: Mon, 2 Jan 2023 03:04:05 +0000\r\nMessage-ID: <adv@example.com>\r\n')

    # 10,000-level nested multipart.
    depth = 10000
    with open(path('nested-multipart.eml'), 'wb') as f:
        f.write(head + b'Subject: nested multipart\r\nMIME-Version: 1.0\r\n')
        for i in range(depth):
            f.write(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i))
        f.write(b'Content-Type: text/plain\r\n\r\ninnermost\r\n')
        for i in reversed(range(depth)):
            f.write(b'--b%d--\r\n' % i)
    add('nested-multipart.eml', expect_codes=['mime_too_deep'], note='10,000 levels')

    # 10,000-level nested message/rfc822.
    with open(path('nested-rfc822.eml'), 'wb') as f:
        for i in range(depth):
            f.write(b'From: level%d@example.com\r\nSubject: level %d\r\nMIME-Version: 1.0\r\n'
                    b'Content-Type: message/rfc822\r\n\r\n' % (i, i))
        f.write(head + b'Subject: innermost\r\n\r\nbody\r\n')
    add('nested-rfc822.eml', expect_codes=['too_many_nested_messages'], note='10,000 levels')

    # A 1 MiB header line (unfolded) and a 1 MiB folded field.
    with open(path('header-line-1mb.eml'), 'wb') as f:
        f.write(head + b'Subject: ' + b'A' * MIB + b'\r\n')
        f.write(b'X-Folded: start')
        for _ in range(MIB // 64):
            f.write(b'\r\n ' + b'f' * 61)
        f.write(b'\r\nX-After: still-parsed\r\n\r\nbody\r\n')
    add('header-line-1mb.eml', expect_codes=['header_line_too_long'])

    # 100,000 header fields.
    with open(path('headers-100k.eml'), 'wb') as f:
        f.write(head + b'Subject: many headers\r\n')
        for i in range(100000):
            f.write(b'X-H-%d: value %d\r\n' % (i, i))
        f.write(b'\r\nbody\r\n')
    add('headers-100k.eml', expect_codes=['too_many_headers'])

    # One huge body line.
    blen = (100 if full else 10) * MIB
    with open(path('body-line.eml'), 'wb') as f:
        f.write(head + b'Subject: one long line\r\nContent-Type: text/plain\r\n\r\n')
        chunk = b'x' * MIB
        for _ in range(blen // MIB):
            f.write(chunk)
        f.write(b'\r\n')
    add('body-line.eml', expect_codes=['body_line_too_long'], note='%d MiB single line' % (blen // MIB))

    # NUL bytes and invalid UTF-8 in header names and values.
    with open(path('nul-invalid-utf8.eml'), 'wb') as f:
        f.write(b'From: "Bad\x00Name" <a\x00b@example.com>\r\n')
        f.write(b'To: \xff\xfe\xfd victim@example.org\r\n')
        f.write(b'Subject: overlong \xc0\xaf \xe0\x80\xaf surrogate \xed\xa0\x80 cut \xe2\x82\r\n')
        f.write(b'X-N\x00ul-Name: value\r\n')
        f.write(b'X-\xc3\xa9\xff: 8-bit name\r\n')
        f.write(b'Received: from \x00evil ([192.0.2.\x001]) by mx\xff.example.org; Mon, 2 Jan 2023 03:04:05 +0000\r\n')
        f.write(b'Authentication-Results: mx\x00.example.org; spf=pa\xffss smtp.mailfrom=\x00\r\n')
        f.write(b'X-Forefront-Antispam-Report: CIP:\x00;IPV:\xffCAL;SFV:\x00\r\n')
        f.write(b'DKIM-Signature: v=1; d=\x00; s=\xff; h=from:\x00to; b=\xff\xff\r\n')
        f.write(b'Date: Mon, 2 Jan 2023 03:04:\x0005 +0000\r\n')
        f.write(b'\x00\x00\x00\r\n')
        f.write(b'Content-Type: text/html; charset=\x00utf-8\r\n\r\n<a href="http://\x00x/">\xff</a>\x00\r\n')
    add('nul-invalid-utf8.eml')

    # Broken base64 / QP / encoded-words / charsets.
    with open(path('broken-encodings.eml'), 'wb') as f:
        f.write(head)
        f.write(b'Subject: =?utf-8?B?not*base64!?= =?utf-8?Q?=ZZ=4?= =?bogus-cs?B?SGVsbG8=?= '
                b'=?utf-8?B?SGVsbG8 =?x?y?z?= =?utf-8?B??= =?==?=\r\n')
        f.write(b'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="bb"\r\n\r\n')
        f.write(b'--bb\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n')
        f.write(b'SGVsbG8gd29y!!!bGQ=\r\n====\r\nAAA\r\nA=B=C\r\n' + b'*' * 5000 + b'\r\nQQ\r\n')
        f.write(b'--bb\r\nContent-Type: text/html; charset=iso-2022-jp\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n')
        f.write(b'<p>=ZZ =4 =\r\n=\r\n=0D=0A=00=FF=\r\n' + b'=' * 3000 + b'\x1b$B\x1b(J\xff</p>\r\n')
        f.write(b'--bb\r\nContent-Type: text/plain; charset="unknown-\xff-cs"\r\nContent-Transfer-Encoding: x-uue\r\n\r\nbegin 644\r\n')
        f.write(b'--bb\r\nContent-Type: text/plain; charset=utf-16\r\nContent-Transfer-Encoding: base64\r\n\r\n/v8A\r\n')
        f.write(b'--bb')  # no closing delimiter, no final newline
    add('broken-encodings.eml')

    # Zip bomb: highly compressible member(s), then a normal member.
    # Default: one 300 MiB member (over the 64 MiB message and 256 MiB member caps).
    # --full: 70 members of 65 MiB (4.5 GB): each is read up to the 64 MiB message cap (the
    # rest skipped), so the 4 GiB per-archive cap is spent after 64 of them and the later
    # members must come out as "archive_limit" (listed, not lost).
    bomb_members = 70 if full else 1
    bomb_size = (65 if full else 300) * MIB
    zero = b'A' * MIB
    with zipfile.ZipFile(path('zip-bomb.zip'), 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for k in range(bomb_members):
            with z.open('bomb%d.eml' % k, 'w', force_zip64=True) as m:
                m.write(b'Subject: bomb %d\r\n\r\n' % k)
                for _ in range(bomb_size // MIB):
                    m.write(zero)
        z.writestr('after-bomb.eml', head + b'Subject: after the bomb\r\n\r\nread me\r\n')
    add('zip-bomb.zip', records=bomb_members + 1,
        expect_codes=['too_large', 'archive_limit'] if full else ['too_large'],
        note='%d member(s) of %d MiB' % (bomb_members, bomb_size // MIB))

    # Zip whose member names try to leave the directory.
    names = ['../evil-parent.eml', '../../evil-grandparent.eml', '/tmp/hdrscan-evil-abs.eml',
             'a/../../evil-dotdot.eml']
    with zipfile.ZipFile(path('zip-traversal.zip'), 'w', zipfile.ZIP_DEFLATED) as z:
        for n in names:
            zi = zipfile.ZipInfo(n)  # ZipInfo keeps the name as given (no sanitising)
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, head + b'Subject: traversal ' + n.encode() + b'\r\n\r\nbody\r\n')
    add('zip-traversal.zip', records=len(names), note='members: ' + ' '.join(names))

    # mbox with unquoted "From " lines in bodies (mboxo): none of them is a separator.
    with open(path('mbox-unquoted-from.mbox'), 'wb') as f:
        for k in range(3):
            f.write(b'From sender%d@example.com Mon Jan  2 03:04:05 2023\n' % k)
            f.write(b'From: sender%d@example.com\nTo: victim@example.org\nSubject: msg %d\n\n' % (k, k))
            f.write(b'From time to time we write.\n')
            f.write(b'From Russia with love\nYear: 1963\n')
            f.write(b'\nFrom the desk of the prize committee:\n')
            f.write(b'>From already quoted\n')
            f.write(b'From \nFrom\n\n')
    add('mbox-unquoted-from.mbox', records=3)

    # Many sibling parts (over --max-parts).
    with open(path('deep-boundaries.eml'), 'wb') as f:
        f.write(head + b'Subject: 5000 parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n')
        for i in range(5000):
            f.write(b'--p\r\nContent-Type: text/plain\r\n\r\npart %d\r\n' % i)
        f.write(b'--p--\r\n')
    add('deep-boundaries.eml', expect_codes=['too_many_parts'])

    with open(path('manifest.json'), 'w') as f:
        json.dump({'full': full, 'inputs': manifest}, f, indent=1)
    for m in manifest:
        print('%-26s %12d bytes  records=%d %s' % (m['file'], m['bytes'], m['records'], m['note']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
