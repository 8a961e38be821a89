#!/usr/bin/env python3
"""msg_writer.py: writes an Outlook .msg ([MS-OXMSG] in a [MS-CFB] compound file) from an
.eml, for the tests: no public .msg holds a campaign message, so campaign positives are
written into .msg form here and must get the verdict and score of the .eml they came from.
Python standard library only; independent of hdrscan's reader (cfb.cpp, source_msg.cpp).

  msg_writer.py [--no-transport-headers] [--rtf-only] [--8bit] IN.eml OUT.msg [IN OUT ...]

What goes in, as Outlook stores a received message: PR_TRANSPORT_MESSAGE_HEADERS (the .eml's
header block), PR_SUBJECT, PR_SENDER_NAME / PR_SENDER_SMTP_ADDRESS, PR_INTERNET_MESSAGE_ID,
PR_CLIENT_SUBMIT_TIME, PR_BODY (the text/plain part), PR_HTML (the text/html part, UTF-8,
PR_INTERNET_CPID 65001) or, with --rtf-only, only PR_RTF_COMPRESSED holding the HTML
encapsulated in RTF (\\fromhtml1, stored "MELA" uncompressed), one recipient per To address,
and every other leaf part as an attachment (PR_ATTACH_DATA_BIN, file name, MIME tag; an
attached message/rfc822 keeps its bytes, as Outlook keeps an attached .eml). --8bit
writes the strings as 001E (code page 1252) instead of 001F (UTF-16LE).
The compound file: version 3, 512-byte sectors, streams under 4096 bytes in the mini stream,
each storage's children chained through their right-sibling links (a degenerate tree that
readers walk like a balanced one). No DIFAT: files up to about 7 MB.
"""
import email
import email.header
import email.policy
import email.utils
import struct
import sys

SECTOR, MINI, CUTOFF = 512, 64, 4096
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


class Node:
    def __init__(self, name, data=None):
        self.name, self.data, self.children = name, data, []  # data None: a storage
        self.id = None

    def storage(self, name):
        n = Node(name)
        self.children.append(n)
        return n

    def stream(self, name, data):
        self.children.append(Node(name, data))


def cfb(root):
    """The compound file bytes for the tree under `root` (the root storage)."""
    entries = []

    def number(n):
        n.id = len(entries)
        entries.append(n)
        for c in n.children:
            number(c)
    number(root)
    mini, big = bytearray(), []  # mini stream bytes; (node, bytes) of big streams
    minifat = []
    for n in entries:
        if n.data is None:
            continue
        if len(n.data) < CUTOFF:
            n.start = len(mini) // MINI if n.data else END
            k = (len(n.data) + MINI - 1) // MINI
            for i in range(k):
                minifat.append(n.start + i + 1 if i + 1 < k else END)
            mini += n.data + b"\0" * (k * MINI - len(n.data))
        else:
            big.append(n)
    secs = lambda size: (size + SECTOR - 1) // SECTOR
    dir_secs = secs(len(entries) * 128)
    minifat_secs = secs(len(minifat) * 4)
    mini_secs = secs(len(mini))
    big_secs = sum(secs(len(n.data)) for n in big)
    data_secs = dir_secs + minifat_secs + mini_secs + big_secs
    fat_secs = 1
    while fat_secs * 128 < fat_secs + data_secs:
        fat_secs += 1
    assert fat_secs <= 109, "too large for a writer without DIFAT"
    fat = [FATSECT] * fat_secs
    def chain(count):
        first = len(fat)
        for i in range(count):
            fat.append(first + i + 1 if i + 1 < count else END)
        return first if count else END
    dir_start = chain(dir_secs)
    minifat_start = chain(minifat_secs)
    mini_start = chain(mini_secs)
    for n in big:
        n.start = chain(secs(len(n.data)))
    fat += [FREE] * (fat_secs * 128 - len(fat))

    def name16(s):
        b = s.encode("utf-16-le") + b"\0\0"
        assert len(b) <= 64
        return b + b"\0" * (64 - len(b)), len(b)
    d = bytearray()
    for n in entries:
        nb, nl = name16(n.name)
        kind = 5 if n is root else (1 if n.data is None else 2)
        right = NOSTREAM
        for parent in entries:
            if n in parent.children:
                i = parent.children.index(n)
                if i + 1 < len(parent.children):
                    right = parent.children[i + 1].id
        child = n.children[0].id if n.children else NOSTREAM
        if n is root:
            start, size = (mini_start if mini else END), len(mini)
        elif n.data is None:
            start, size = 0, 0
        else:
            start, size = n.start, len(n.data)
        d += nb + struct.pack("<HBBIII", nl, kind, 1, NOSTREAM, right, child)
        d += b"\0" * 16 + struct.pack("<I", 0) + b"\0" * 16 + struct.pack("<IQ", start, size)
    d += b"\0" * (dir_secs * SECTOR - len(d))
    header = bytearray(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1" + b"\0" * 16)
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
    header += struct.pack("<IIIIIIIII", 0, fat_secs, dir_start, 0, CUTOFF,
                          minifat_start if minifat else END, minifat_secs, END, 0)
    difat = list(range(fat_secs)) + [FREE] * (109 - fat_secs)
    header += struct.pack("<109I", *difat)
    assert len(header) == 512
    out = bytearray(header)
    out += struct.pack("<%dI" % len(fat), *fat)
    out += d
    mf = struct.pack("<%dI" % len(minifat), *minifat)
    out += mf + b"\xff" * (minifat_secs * SECTOR - len(mf))
    out += mini + b"\0" * (mini_secs * SECTOR - len(mini))
    for n in big:
        out += n.data + b"\0" * (secs(len(n.data)) * SECTOR - len(n.data))
    return bytes(out)


class Props:
    """The properties of one storage: streams and the __properties_version1.0 entries."""

    def __init__(self, node, header):
        self.node, self.header, self.entries = node, header, b""

    def string(self, pid, text, eight_bit=False):
        if text is None:
            return
        if eight_bit:
            self.binary(pid, 0x001E, text.encode("cp1252", "replace") + b"\0")
        else:
            self.binary(pid, 0x001F, text.encode("utf-16-le") + b"\0\0")

    def binary(self, pid, ptype, data):
        self.node.stream("__substg1.0_%04X%04X" % (pid, ptype), data)
        self.entries += struct.pack("<IIII", pid << 16 | ptype, 6, len(data), 0)

    def fixed(self, pid, ptype, value):
        self.entries += struct.pack("<IIQ", pid << 16 | ptype, 6, value)

    def close(self):
        self.node.stream("__properties_version1.0", self.header + self.entries)


def rtf_for_html(html):
    """HTML encapsulated in RTF ([MS-OXRTFEX]), stored uncompressed ("MELA")."""
    body = []
    for ch in html:
        o = ord(ch)
        if ch in "\\{}":
            body.append("\\" + ch)
        elif ch == "\n":
            body.append("\\par\n")
        elif ch == "\r":
            continue
        elif o < 128:
            body.append(ch)
        else:
            body.append("\\u%d?" % (o if o < 32768 else o - 65536))
    rtf = ("{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0{\\fonttbl{\\f0\\fswiss Arial;}}"
           "{\\*\\htmltag0 " + "".join(body) + "}}").encode("ascii")
    return struct.pack("<IIII", len(rtf) + 12, len(rtf), 0x414C454D, 0) + rtf


def leaves(part, out):
    """The leaf parts in order; an attached message is one leaf (it is not walked into)."""
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        out.append(part)
    else:
        for p in part.get_payload():
            leaves(p, out)
    return out


def write_msg(src, dst, opts):
    raw = open(src, "rb").read()
    if raw.startswith(b"From "):
        raw = raw.split(b"\n", 1)[1]
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    sep = raw.find(b"\r\n\r\n")
    sep2 = raw.find(b"\n\n")
    cut = min(x for x in (sep + 4 if sep >= 0 else len(raw), sep2 + 2 if sep2 >= 0 else len(raw)))
    headers = raw[:cut].decode("utf-8", "replace")
    eight = "--8bit" in opts
    root = Node("Root Entry")
    attachments, text, html = [], None, None
    def decoded_text(part):
        data = part.get_payload(decode=True) or b""
        return data.decode(part.get_content_charset() or "us-ascii", "replace")
    for part in leaves(msg, []):
        ctype = part.get_content_type()
        disp = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        if ctype == "text/plain" and text is None and disp != "attachment":
            text = decoded_text(part)
        elif ctype == "text/html" and html is None and disp != "attachment":
            html = decoded_text(part)
        else:
            attachments.append(part)
    to = email.utils.getaddresses(msg.get_all("To", []))
    p = Props(root, struct.pack("<QIIII", 0, len(to), len(attachments), len(to), len(attachments)) + b"\0" * 8)
    p.string(0x001A, "IPM.Note", eight)
    subject = str(email.header.make_header(email.header.decode_header(msg.get("Subject", ""))))
    p.string(0x0037, subject, eight)
    if "--no-transport-headers" not in opts:
        p.string(0x007D, headers, eight)
    name, addr = email.utils.parseaddr(str(msg.get("From", "")))
    p.string(0x0C1A, name or addr, eight)
    p.string(0x5D01, addr, eight)
    if msg.get("Message-ID"):
        p.string(0x1035, str(msg.get("Message-ID")).strip(), eight)
    if msg.get("Date"):
        try:
            when = email.utils.parsedate_to_datetime(str(msg.get("Date")))
            p.fixed(0x0039, 0x0040, int((when.timestamp() + 11644473600) * 10000000))
        except (TypeError, ValueError):
            pass
    p.fixed(0x3FFD, 0x0003, 1252 if eight else 65001)
    if text is not None:
        p.string(0x1000, text, eight)
    if html is not None:
        if "--rtf-only" in opts:
            p.binary(0x1009, 0x0102, rtf_for_html(html))
        else:
            p.binary(0x1013, 0x0102, html.encode("utf-8"))
            p.fixed(0x3FDE, 0x0003, 65001)
    p.close()
    for i, (rname, raddr) in enumerate(to):
        r = root.storage("__recip_version1.0_#%08X" % i)
        rp = Props(r, b"\0" * 8)
        rp.string(0x3001, rname or raddr, eight)
        rp.string(0x39FE, raddr, eight)
        rp.fixed(0x0C15, 0x0003, 1)
        rp.close()
    for i, part in enumerate(attachments):
        a = root.storage("__attach_version1.0_#%08X" % i)
        ap = Props(a, b"\0" * 8)
        ctype = part.get_content_type()
        fname = part.get_filename() or ("part%d.eml" % i if ctype == "message/rfc822" else "part%d" % i)
        ap.string(0x3707, fname, eight)
        ap.string(0x370E, ctype, eight)
        if ctype == "message/rfc822":
            data = part.get_payload(0).as_bytes()
        else:
            data = part.get_payload(decode=True) or b""
        ap.binary(0x3701, 0x0102, data)
        ap.fixed(0x3705, 0x0003, 1)
        ap.close()
    open(dst, "wb").write(cfb(root))


def main(argv):
    opts = {a for a in argv[1:] if a.startswith("--")}
    files = [a for a in argv[1:] if not a.startswith("--")]
    if not files or len(files) % 2:
        print(__doc__, file=sys.stderr)
        return 2
    for i in range(0, len(files), 2):
        write_msg(files[i], files[i + 1], opts)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
