#!/usr/bin/env python3
"""gen_corpus.py: write hdrscan's own labelled corpus (campaign-shaped mail and look-alikes).

Purpose
    Generates, deterministically from --seed, messages shaped like the 2022 Exchange Online
    connector-relay sweepstakes campaign (../shared/docs/campaign.md) in two views, the
    suspicious-but-not-stripped technique ("related"), and look-alikes that must stay clean,
    then writes corpus/labels.tsv (merging the hand-written corpus/lookalikes/index.tsv) and
    a small demo set under corpus/samples/.

    Every template here was written for the project: names, tenants, GUIDs, hosts, lure texts
    and filler are invented (reserved or random-letter domains). Only the header *structure*
    follows what real mail shows. The 8 connector IPs are the published ones; Microsoft's own
    hops use Microsoft ranges. No byte of ../shared/corpus is copied.

Views
    consumer   as an outlook.com mailbox receives it (receiver's hops and ARC set on top,
               receiver-stamped CrossTenant headers, the sender's verdict renamed -Untrusted)
    thirdparty as a Postfix MX receives it (Postfix hop on top, the sending tenant's
               CrossTenant headers: HybridOnPrem, AuthAs Anonymous, connecting IP)

Limits
    Signatures carry random b= values (nobody can verify them without Microsoft's keys), but
    every bh= is the correct body hash of the body as written (relaxed or simple), so an
    integrity check sees a matching body, as on real relayed mail.
    Python stdlib only; output depends only on --seed and this file (no clock, no hash order).

Usage
    tools/gen_corpus.py [--seed N] [--root DIR] [--lookalikes DIR] [--scale F]
    Default root: <repo>/corpus. Writes ROOT/generated/**, ROOT/samples/**, ROOT/labels.tsv.
    tools/gen_corpus.py --waves DIR [--seed N]: a corpus of known campaign waves (distinct
    tenants, IP sets, lures and layouts, overlapping in time), single campaign messages and
    clean look-alikes, labelled in DIR/waves.tsv (for `hdrscan waves`, tools/waves-eval).
"""

import argparse
import base64
import datetime as dt
import hashlib
import os
import quopri
import random
import shutil
import string
import sys

CONNECTOR_IPS = ["170.75.174.97", "170.75.172.8", "170.75.170.69", "170.75.174.95",
                 "54.39.94.145", "149.56.200.36", "158.69.21.185", "66.70.201.131"]
OUTLOOK_CONSUMER_TENANT = "84df9e7f-e9f6-40af-b435-aaaaaaaaaaaa"  # outlook.com's tenant id

LABEL_HEADER = ["path", "label", "view", "family", "split", "notes"]

# ---------------------------------------------------------------------------------------
# Family table: name -> (label, view, split, count at scale 1.0). Whole families go to one
# split so weights are tuned on some and reported on the others (see tools/README-corpus.md).
# The split crosses the variation axes: every axis value (view, on/off list, full/partial
# stripping, wrapper kind) occurs in both splits, but each combination in only one.
FAMILIES = [
    # campaign
    ("consumer-onlist-full",       "campaign", "consumer",   "tune",    75),
    ("consumer-onlist-partial",    "campaign", "consumer",   "holdout", 60),
    ("consumer-offlist-full",      "campaign", "consumer",   "holdout", 65),
    ("consumer-offlist-partial",   "campaign", "consumer",   "tune",    60),
    ("thirdparty-onlist-full",     "campaign", "thirdparty", "holdout", 65),
    ("thirdparty-onlist-partial",  "campaign", "thirdparty", "tune",    60),
    ("thirdparty-offlist-full",    "campaign", "thirdparty", "tune",    65),
    ("thirdparty-offlist-partial", "campaign", "thirdparty", "holdout", 60),
    ("wrapped-report",             "campaign", "consumer",   "holdout", 25),  # view of inner
    ("wrapped-quarantine",         "campaign", "thirdparty", "tune",    25),
    ("wrapped-arf",                "campaign", "consumer",   "holdout", 15),
    ("wrapped-report-tp",          "campaign", "thirdparty", "tune",    25),
    # related: the technique (connector relay, lure body), nothing stripped
    ("related-consumer-intact",    "related",  "consumer",   "tune",    30),
    ("related-thirdparty-intact",  "related",  "thirdparty", "holdout", 30),
    # clean look-alikes
    ("lookalike-hybrid",           "clean",    "thirdparty", "tune",    60),
    ("lookalike-hybrid-consumer",  "clean",    "consumer",   "holdout", 30),
    ("lookalike-hybrid-neighbor",  "clean",    "thirdparty", "holdout", 20),
    ("lookalike-cloud",            "clean",    "thirdparty", "tune",    45),
    ("lookalike-cloud-noverdict",  "clean",    "thirdparty", "holdout", 25),
    ("lookalike-dkim-h-messagedata", "clean",  "thirdparty", "holdout", 20),
    ("lookalike-spam-nonms",       "clean",    "none",       "tune",    40),
    ("lookalike-spam-nonms-b",     "clean",    "none",       "holdout", 20),
    ("lookalike-esp-newsletter",   "clean",    "none",       "holdout", 30),
    ("lookalike-wrapped-clean",    "clean",    "none",       "tune",    15),
    # quarantine exports as .zip (one to three .eml members, at least one campaign message)
    ("wrapped-zip",                "campaign", "mixed",      "holdout", 10),  # view of the campaign member
    ("lookalike-zip-clean",        "clean",    "none",       "tune",     5),
]

# ---------------------------------------------------------------------------------------
# Word material (written for the project)

WORDS = ("river stone garden window orange paper coffee morning silver planet yellow forest "
         "candle bridge winter summer cotton marble pencil harbor meadow castle village "
         "lantern thunder whisper velvet copper island mountain valley breeze ocean shadow "
         "feather pepper basket ladder mirror button pocket saddle tunnel anchor compass "
         "blanket kettle violin rocket cabinet helmet jacket pillow rabbit turtle walnut "
         "almond cherry lemon mango peach plum tomato carrot potato onion garlic ginger "
         "honey butter cheese bread noodle pickle waffle pretzel muffin cookie biscuit "
         "quiet gentle rapid bright humble clever eager fancy jolly lively proud silly "
         "brave calm happy lucky merry witty zesty crisp fresh brisk vivid mellow sturdy "
         "walk jump swim climb read write paint sing dance laugh smile wander gather "
         "follow borrow carry cover deliver explore fasten gather handle imagine juggle "
         "kindle measure notice observe polish question remember sprinkle travel unfold "
         "visit whistle yield zigzag under over beside between across around through "
         "always never often seldom today tomorrow yesterday tonight sometimes").split()

BIZ_SENTENCES = [
    "Please find the revised figures for the third quarter attached to the shared folder.",
    "The maintenance window for the build servers moves to Thursday evening.",
    "Could you review the draft agreement before our call on Monday?",
    "Minutes from yesterday's steering meeting are below; action items are in bold.",
    "The supplier confirmed delivery of the replacement parts for next week.",
    "I have updated the onboarding checklist with the new badge request process.",
    "Our audit fieldwork starts on the 12th; please keep your calendars free.",
    "Attached is the invoice for the consulting hours logged in August.",
    "The firmware patch passed regression testing on all three hardware revisions.",
    "Reminder: the office will be closed on Friday for the facilities inspection.",
    "Thanks for the quick turnaround on the translation of the user manual.",
    "Let me know whether the proposed agenda works for the partner workshop.",
    "The new expense policy takes effect at the start of next month.",
    "We traced the outage to an expired certificate on the load balancer.",
    "Can you send me the signed copy of the purchase order for our records?",
]

LURES = {
    "giftcard": {
        "brands": ["Crestmart", "ShopNest", "Maplewood Market", "Valuline"],
        "subjects": ["Your {b} $500 Gift Card is waiting", "Congratulations! You've been selected for a {b} gift card",
                     "{b}: claim your $750 reward card today", "Final notice: your {b} gift card expires"],
        "heads": ["You have won a {b} Gift Card!", "Your $500 {b} reward is ready"],
        "paras": ["Our records show you were chosen as this week's winner. Complete a short survey to claim your gift card before it expires.",
                  "As a loyal shopper you qualify for an exclusive reward. Just pay the small processing fee and your card ships today."],
        "cta": ["CLAIM MY GIFT CARD", "GET MY REWARD", "Claim Now"],
    },
    "phone": {
        "brands": ["Volt Mobile", "TelcoPrime", "Nimbus Wireless"],
        "subjects": ["You've won a new Nebula X15 Pro from {b}", "{b} winner notification #{n}",
                     "Your {b} prize: a brand new smartphone", "Confirm your details to receive your {b} phone"],
        "heads": ["Congratulations, you are our lucky winner!", "A new Nebula X15 Pro is reserved for you"],
        "paras": ["You have been randomly selected to receive a brand-new Nebula X15 Pro. Answer 3 quick questions and cover the shipping fee of $2.95.",
                  "Only 5 prizes remain today. Confirm your shipping address to claim your reward."],
        "cta": ["CLAIM YOUR PHONE", "Confirm shipping", "START"],
    },
    "retail": {
        "brands": ["Roadstar Motor Club", "Harbor & Pine", "Brightway Rewards", "Kitchenly"],
        "subjects": ["Your Loyalty Has Been Rewarded by {b}", "{b} Member Exclusive: claim your reward",
                     "A special thank-you from {b}", "{b}: your emergency car kit is on us"],
        "heads": ["Your loyalty has paid off!", "Member exclusive reward inside"],
        "paras": ["Loyalty should always be rewarded and today it's your turn. Claim your exclusive member benefit before the offer ends.",
                  "Thank you for being a valued member. Your reward is reserved; just confirm and pay shipping to receive it."],
        "cta": ["GET MY REWARD", "CLAIM IT NOW", "Redeem reward"],
    },
    "survey": {
        "brands": ["ParcelPoint", "ShipSwift", "Opinion Circle", "QuickCourier"],
        "subjects": ["{b}: your package is on hold, confirm shipping", "Take our 30-second survey and get a $100 reward",
                     "Action required: delivery fee unpaid ({b})", "{b} customer survey: you've been chosen"],
        "heads": ["Your parcel is waiting for confirmation", "Tell us what you think and win"],
        "paras": ["We attempted to deliver your package but a shipping fee of $1.99 is outstanding. Confirm your details to release it.",
                  "Complete our short customer survey and receive a reward worth $100. Offer limited to today's participants."],
        "cta": ["CONFIRM SHIPPING", "TAKE THE SURVEY", "Release my package"],
    },
    "appliance": {
        "brands": ["Ninjara", "CoolCrate", "AirPure Home"],
        "subjects": ["Claim your free {b} cooler", "{b}: you've been selected for our product test",
                     "Final reminder: your {b} prize is unclaimed"],
        "heads": ["Your free {b} is waiting", "You've been selected!"],
        "paras": ["You are one of 100 customers selected to receive a {b} at no cost. Just cover delivery.",
                  "Congratulations! Our prize draw selected your email. Claim your prize before midnight."],
        "cta": ["CLAIM PRIZE", "Get it now"],
    },
}

FILLER_STYLES = ["hidden-div", "font-zero", "white-on-white", "css-class", "word-salad", "b64-tokens"]
ENCODINGS = ["8bit", "quoted-printable", "base64", "7bit-entities"]
CHARSETS = ["utf-8", "UTF-8", "iso-8859-1", "windows-1252"]
TLDS = ["com", "net", "info", "co.uk", "shop", "online", "site", "xyz", "biz", "top"]
MS_REGIONS = [("namprd", "NAM", "2603:10b6"), ("eurprd", "EUR", "2603:10a6"),
              ("apcprd", "APC", "2603:1096"), ("jpnprd", "JPN", "2603:1096"),
              ("ausprd", "AUS", "2603:10c6"), ("gbrprd", "GBR", "2603:10a6"),
              ("canprd", "CAN", "2603:10b6"), ("indprd", "IND", "2603:1096")]

# off-list, non-Microsoft, public-looking addresses: documentation ranges and invented hosts
OFFLIST_PREFIXES = ["192.0.2.", "198.51.100.", "203.0.113.", "45.{a}.", "91.{a}.", "185.{a}.",
                    "64.{a}.", "23.{a}.", "107.{a}.", "142.{a}.", "5.{a}.", "195.{a}."]


class G:
    """Per-message random helpers over one seeded random.Random."""

    def __init__(self, rng):
        self.r = rng

    def choice(self, seq):
        return self.r.choice(seq)

    def chance(self, p):
        return self.r.random() < p

    def token(self, n, alphabet=string.ascii_lowercase + string.digits):
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def upper(self, n):
        return self.token(n, string.ascii_uppercase + string.digits)

    def letters(self, n):
        return self.token(n, string.ascii_lowercase)

    def hexs(self, n):
        return self.token(n, "0123456789abcdef")

    def guid(self):
        return "-".join([self.hexs(8), self.hexs(4), "4" + self.hexs(3),
                         self.choice("89ab") + self.hexs(3), self.hexs(12)])

    def b64(self, n):
        return self.token(n, string.ascii_letters + string.digits + "+/")

    def word(self):
        return self.choice(WORDS)

    def words(self, n):
        return " ".join(self.word() for _ in range(n))

    # -- addresses
    def offlist_ip(self):
        p = self.choice(OFFLIST_PREFIXES).format(a=self.r.randint(1, 254))
        if p.count(".") == 3:
            return p + str(self.r.randint(2, 250))
        return p + "%d.%d" % (self.r.randint(0, 255), self.r.randint(2, 250))

    def neighbor_ip(self):
        """Same /24 as a campaign IP but not on the list (a hard negative)."""
        while True:
            base = self.choice(CONNECTOR_IPS)
            ip = base.rsplit(".", 1)[0] + "." + str(self.r.randint(2, 250))
            if ip not in CONNECTOR_IPS:
                return ip

    def eop_out_ip(self):  # Exchange Online outbound
        if self.chance(0.5):
            return "40.107.%d.%d" % (self.r.randint(0, 255), self.r.randint(1, 254))
        return "52.%d.%d.%d" % (self.r.randint(100, 103), self.r.randint(0, 255), self.r.randint(1, 254))

    def internal_ip(self):
        return "10.%d.%d.%d" % (self.r.randint(0, 255), self.r.randint(0, 255), self.r.randint(1, 254))

    def v6(self, prefix, cafe=False):
        tail = ("cafe::%x" % self.r.randint(1, 255)) if cafe else ("%x::%x" % (self.r.randint(1, 0xfff), self.r.randint(1, 0xff)))
        return "%s:%x:%x:%s" % (prefix, self.r.randint(1, 0xfff), self.r.randint(1, 0xfff), tail)

    def region(self):
        return self.choice(MS_REGIONS)

    def ms_mailbox_host(self, reg):
        pre, up, _ = reg
        return "%s%02dMB%d.%s%02d.prod.outlook.com" % (self.choice(["BL3PR", "MW4PR", "SN6PR", "DM6PR", "PH0PR", "AS8PR", "DB9PR", "TYZPR", "SY4PR"]),
                                                      self.r.randint(1, 19), self.r.randint(1000, 9999),
                                                      pre, self.r.randint(1, 19))

    def ms_ca_host(self, reg):
        pre = reg[0]
        return "%s%02dCA%04d.%s%02d.prod.outlook.com" % (self.choice(["BYAPR", "SG2PR", "DB7PR", "MN2PR", "CH2PR", "AM6PR"]),
                                                        self.r.randint(1, 19), self.r.randint(1, 9999), pre, self.r.randint(1, 19))

    def ms_ft_host(self, reg):
        pre, up, _ = reg
        if self.chance(0.5):
            return "%sPEPF0000%s.%s%02d.prod.outlook.com" % (self.choice(["SG2", "SJ1", "DS3", "CO1", "AM4", "BN2"]),
                                                            self.upper(4), pre, self.r.randint(1, 19))
        return "%s%02dFT%03d.eop-%s%02d.prod.protection.outlook.com" % (up[:2] + self.choice(["1", "5", "6"]) + up,
                                                                      self.r.randint(1, 9), self.r.randint(1, 999),
                                                                      up, self.r.randint(1, 19))

    def outbound_host(self, reg):
        up = reg[1]
        if self.chance(0.5):
            return "%s%02d-%s-obe.outbound.protection.outlook.com" % (up, self.r.randint(1, 9), self.upper(3))
        return "%sPR%02dCU%03d.outbound.protection.outlook.com" % (self.token(3, string.ascii_uppercase), self.r.randint(1, 9), self.r.randint(1, 99))

    def eopbgr(self, ip):
        return "mail-eopbgr%s.outbound.protection.outlook.com" % "".join(ip.split(".")[2:]) if self.chance(0.5) else \
            "mail-%s%s.outbound.protection.outlook.com" % (self.choice(["dm6nam", "bn8nam", "eur05", "he1eur", "sn1nam", "mw2nam"]), self.r.randint(10, 99) * 100 + self.r.randint(0, 99))

    def tenant_name(self):
        kind = self.r.randint(0, 3)
        if kind == 0:
            return self.letters(3) + str(self.r.randint(10000000, 99999999))
        if kind == 1:
            return self.letters(self.r.randint(6, 12))
        if kind == 2:
            return self.letters(4).capitalize() + self.letters(4) + str(self.r.randint(10, 999))
        return self.token(self.r.randint(8, 14))

    def lure_domain(self):
        stems = ["rewards", "promo", "offers", "prize", "winner", "loyalty", "perks", "gifts", "deals", "bonus"]
        return "%s%s%s.%s" % (self.choice(stems), self.choice(["by", "-", "", "4"]), self.letters(self.r.randint(3, 6)), self.choice(TLDS))

    def company(self):
        a = ["North", "Blue", "Granite", "Alder", "Summit", "Pioneer", "Cedar", "Lumen", "Orbit", "Vantage", "Harbor", "Keystone"]
        b = ["works", "tech", "systems", "labs", "industries", "logistics", "health", "energy", "analytics", "group"]
        name = self.choice(a) + self.choice(b)
        return name, "%s.%s" % (name.lower(), self.choice(["example.com", "example.net", "example.org", "test"]))

    def person(self):
        first = ["Alice", "Bram", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ines", "Jonas", "Kemal", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomas", "Uma", "Viktor", "Wen", "Yara"]
        last = ["Abbott", "Berger", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ivanova", "Jensen", "Kowalski", "Lindqvist", "Moreau", "Novak", "Okafor", "Petrov", "Rossi", "Schmidt", "Tanaka", "Varga"]
        return self.choice(first), self.choice(last)


# ---------------------------------------------------------------------------------------
# Dates and formatting

BASE = dt.datetime(2022, 6, 1, 0, 0, 0, tzinfo=dt.timezone.utc)


def rfc2822(d, tz_minutes=0):
    tz = dt.timezone(dt.timedelta(minutes=tz_minutes))
    d = d.astimezone(tz)
    sign = "+" if tz_minutes >= 0 else "-"
    off = abs(tz_minutes)
    return "%s, %d %s %d %02d:%02d:%02d %s%02d%02d" % (
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][d.weekday()], d.day,
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][d.month - 1],
        d.year, d.hour, d.minute, d.second, sign, off // 60, off % 60)


def ms_time(d):
    return "%02d %s %d %02d:%02d:%02d.%04d (UTC)" % (
        d.day, ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][d.month - 1],
        d.year, d.hour, d.minute, d.second, d.microsecond // 100)


def fold(text, width=76):
    """Fold a header value at spaces (or hard-split long tokens) into continuation lines."""
    out, line = [], ""
    for tok in text.split(" "):
        cand = tok if not line else line + " " + tok
        if len(cand) <= width or not line:
            line = cand
        else:
            out.append(line)
            line = tok
    out.append(line)
    return "\n ".join(out)


def fold_b64(prefix, blob, width=72):
    lines = [blob[i:i + width] for i in range(0, len(blob), width)]
    return prefix + "\n " + "\n ".join(lines)


def encoded_words(g, n):
    return "\n ".join("=?utf-8?B?%s?=" % g.b64(60) for _ in range(n))


# ---------------------------------------------------------------------------------------
# Body hashes (RFC 6376 3.4.3 / 3.4.4), over the body as written with CRLF line ends.

def body_hash(body, canon="relaxed"):
    text = body.replace(b"\r\n", b"\n").split(b"\n")
    if text and text[-1] == b"":
        text = text[:-1]
    if canon == "relaxed":
        lines = []
        for ln in text:
            ln = b" ".join(ln.replace(b"\t", b" ").split(b" "))
            while b"  " in ln:
                ln = ln.replace(b"  ", b" ")
            lines.append(ln.rstrip(b" \t"))
        while lines and lines[-1] == b"":
            lines.pop()
        data = b"".join(l + b"\r\n" for l in lines)
    else:
        lines = list(text)
        while lines and lines[-1] == b"":
            lines.pop()
        data = b"".join(l + b"\r\n" for l in lines) if lines else b"\r\n"
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


# ---------------------------------------------------------------------------------------
# HTML bodies

def lure_html(g, lure_key, brand, nimg, fillers, recip, layout="table", kit=None):
    L = LURES[lure_key]
    head = g.choice(L["heads"]).format(b=brand)
    para = g.choice(L["paras"]).format(b=brand)
    cta = g.choice(L["cta"])
    link_host = g.letters(g.r.randint(6, 12)) + "." + g.choice(TLDS)
    def url():
        style = g.r.randint(0, 3)
        tok = g.token(g.r.randint(30, 70), string.ascii_letters + string.digits)
        if style == 0:
            return "http://%s.com@%s/%s" % (g.token(10), g.token(12, string.digits), tok)
        if style == 1:
            return "https://%s.%s/%s/%s" % (g.letters(g.r.randint(5, 11)), g.choice(TLDS), g.token(6), tok)
        if style == 2:
            return "http://%s/%s%s" % (link_host, g.choice(["4", "5", "3"]), tok)
        return "https://%s.%s/?%s=%s" % (g.token(8), g.choice(TLDS), g.letters(2), tok)
    img_host = g.choice(["img", "cdn", "static", "media", "assets"]) + "." + g.letters(g.r.randint(5, 9)) + "." + g.choice(TLDS)
    css_hidden = g.letters(g.r.randint(4, 8))
    parts = []
    style_block = ""
    if "css-class" in fillers:
        style_block = "<style type=\"text/css\">.%s{display:none!important;visibility:hidden;mso-hide:all;max-height:0;overflow:hidden}</style>" % css_hidden
    bg = g.choice(["#ffffff", "#f4f4f4", "#fafafa"])
    parts.append("<!DOCTYPE html><html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\"><title>%s</title>%s</head>" % (head, style_block))
    parts.append("<body style=\"margin:0;padding:0;background-color:%s;font-family:Arial,Helvetica,sans-serif;\">" % bg)

    def filler_block(style):
        if style == "hidden-div":
            return "<div style=\"display:none;max-height:0px;overflow:hidden;\">%s</div>" % g.words(g.r.randint(40, 160))
        if style == "font-zero":
            sz = g.choice(["0px", "0", "1px"])
            return "<span style=\"font-size:%s;line-height:0;color:transparent;\">%s</span>" % (sz, g.words(g.r.randint(30, 120)))
        if style == "white-on-white":
            return "<p style=\"color:%s;background-color:%s;font-size:9px;\">%s</p>" % (bg, bg, g.words(g.r.randint(40, 140)))
        if style == "css-class":
            return "<div class=\"%s\">%s</div>" % (css_hidden, g.words(g.r.randint(40, 140)))
        if style == "word-salad":
            return "<p style=\"font-size:10px;color:#999999;\">%s</p>" % g.words(g.r.randint(60, 200))
        return "<div style=\"display:none\">%s</div>" % " ".join(g.token(g.r.randint(8, 24), string.ascii_letters + string.digits + "+/=") for _ in range(g.r.randint(20, 60)))

    if fillers:
        parts.append(filler_block(fillers[0]))
    if layout == "table":
        parts.append("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr><td align=\"center\">")
        parts.append("<table width=\"600\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"max-width:600px;background:#ffffff;\">")
        for i in range(nimg):
            w, h = g.choice([(600, 400), (600, 320), (560, 450), (600, 500)])
            parts.append("<tr><td align=\"center\"><a href=\"%s\" target=\"_blank\"><img src=\"https://%s/%s/%s.%s\" width=\"%d\" height=\"%d\" alt=\"%s\" border=\"0\" style=\"display:block;\"></a></td></tr>"
                         % (url(), img_host, g.token(8), g.token(16), g.choice(["png", "jpg", "gif"]), w, h,
                            (head if i == 0 else cta)))
        if g.chance(0.5):
            parts.append("<tr><td style=\"font-size:11px;color:#888888;text-align:center;padding:8px;\">%s %s</td></tr>" % (para if g.chance(0.4) else "", ""))
        parts.append("</table></td></tr></table>")
    else:
        # wave corpora (--waves): other kits' layouts, so waves differ in template as well
        if layout == "div":
            parts.append("<div class=\"wrap\" style=\"max-width:640px;margin:0 auto;\"><header><h2 style=\"font-size:22px;\">%s</h2></header><section>" % head)
        else:  # "center": an old-style kit of <center>, <font> and <p>
            parts.append("<center><font face=\"Verdana\" size=\"3\"><b>%s</b></font><br><br>" % head)
        for i in range(nimg):
            w, h = g.choice([(600, 400), (600, 320), (560, 450), (600, 500)])
            img = "<img src=\"https://%s/%s/%s.%s\" width=\"%d\" height=\"%d\" alt=\"%s\">" % (
                img_host, g.token(8), g.token(16), g.choice(["png", "jpg", "gif"]), w, h, (head if i == 0 else cta))
            if layout == "div":
                parts.append("<div class=\"card\"><figure><a href=\"%s\">%s</a><figcaption><span>%s</span></figcaption></figure></div>" % (url(), img, cta))
            else:
                parts.append("<p><a href=\"%s\">%s</a></p><p><font size=\"2\"><i>%s</i></font></p>" % (url(), img, cta))
        parts.append("<p><strong>%s</strong></p>" % para)
        parts.append("</section></div>" if layout == "div" else "</center>")
    for st in fillers[1:]:
        parts.append(filler_block(st))
    # A wave's kit (wave corpora only): a static unsubscribe page shared by the wave's messages
    # ("unsub"), the recipient's address in the unsubscribe link (percent-encoded) or in the
    # tracking pixel (base64) ("rtoken"), as real kits personalise them.
    unsub = kit["unsub"] if kit and kit.get("unsub") else url()
    if kit and kit.get("rtoken") == "pct":
        unsub += ("&amp;" if "?" in unsub else "?") + "email=" + recip.replace("@", "%40")
    parts.append("<p style=\"font-size:10px;color:#aaaaaa;text-align:center;\">To stop receiving these messages <a href=\"%s\">unsubscribe</a>.<br>%s</p>"
                 % (unsub, "" if g.chance(0.5) else "Sent to %s" % recip))
    if g.chance(0.6):
        pixel = url()
        if kit and kit.get("rtoken") == "b64":
            pixel += ("&amp;" if "?" in pixel else "?") + "e=" + base64.b64encode(recip.encode()).decode()
        parts.append("<img src=\"%s\" width=\"1\" height=\"1\" alt=\"\">" % pixel)
    parts.append("</body></html>")
    sep = "\n" if g.chance(0.7) else ""
    return sep.join(parts) + "\n", head, cta


def business_text(g, sender_name):
    paras = [" ".join(g.choice(BIZ_SENTENCES) for _ in range(g.r.randint(1, 3))) for _ in range(g.r.randint(1, 4))]
    return "Hello,\n\n" + "\n\n".join(paras) + "\n\nBest regards,\n%s\n" % sender_name


def business_html(text):
    esc = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    paras = "".join("<p>%s</p>" % p.replace("\n", "<br>") for p in esc.split("\n\n"))
    return "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body><div style=\"font-family:Calibri,Arial,sans-serif;font-size:11pt\">%s</div></body></html>\n" % paras


def newsletter_html(g, brand, lurey=False):
    items = []
    for _ in range(g.r.randint(2, 4)):
        items.append("<tr><td style=\"padding:12px\"><a href=\"https://www.%s.example.com/articles/%s?utm_source=newsletter&utm_medium=email\"><img src=\"https://www.%s.example.com/img/%s.jpg\" width=\"280\" alt=\"%s\"></a><h3>%s</h3><p>%s</p></td></tr>"
                     % (brand.lower(), g.token(10), brand.lower(), g.token(8), g.words(3), g.words(4).title(), " ".join(g.choice(BIZ_SENTENCES) for _ in range(2))))
    extra = ""
    if lurey:
        extra = "<p><b>Enter our summer prize draw</b>: one winner gets a $500 gift card. Take the two-minute reader survey to enter.</p>"
    return ("<html><head><meta charset=\"utf-8\"><title>%s newsletter</title></head><body style=\"font-family:Georgia,serif\">"
            "<div style=\"display:none;max-height:0;overflow:hidden\">This month at %s: news, tips and events.</div>"
            "<h1>%s monthly</h1>%s<table>%s</table>"
            "<p style=\"font-size:11px;color:#666\">You receive this because you subscribed at %s.example.com. "
            "<a href=\"https://www.%s.example.com/unsubscribe?u=%s\">Unsubscribe</a> | %s Inc., 100 Example Street, Springfield</p>"
            "</body></html>\n" % (brand, brand, brand, extra, "".join(items), brand.lower(), brand.lower(), g.token(16), brand))


# ---------------------------------------------------------------------------------------
# Encoding a single-part or multipart/alternative body

def encode_part(g, text, subtype, charset, cte):
    """Return (headers list, body bytes with LF line ends)."""
    cs = charset.lower()
    if cte == "7bit-entities":
        raw = text.encode("ascii", "xmlcharrefreplace")
        cte_out = "7bit"
    else:
        raw = text.encode("utf-8" if cs == "utf-8" else cs, "xmlcharrefreplace")
        cte_out = cte
    if cte_out == "quoted-printable":
        body = quopri.encodestring(raw).replace(b"\r\n", b"\n")
    elif cte_out == "base64":
        enc = base64.b64encode(raw).decode()
        body = ("\n".join(enc[i:i + 76] for i in range(0, len(enc), 76)) + "\n").encode()
    else:
        body = raw
        if not body.endswith(b"\n"):
            body += b"\n"
    hdrs = [("Content-Type", "text/%s; charset=\"%s\"" % (subtype, charset)),
            ("Content-Transfer-Encoding", cte_out)]
    return hdrs, body


def html_to_text(html):
    out, intag = [], False
    for ch in html:
        if ch == "<":
            intag = True
        elif ch == ">":
            intag = False
            out.append(" ")
        elif not intag:
            out.append(ch)
    return " ".join("".join(out).split()) + "\n"


def make_body(g, html, charset, cte, alt_plain):
    """Return (content headers, body bytes LF)."""
    if not alt_plain:
        return encode_part(g, html, "html", charset, cte)
    boundary = "_%s_" % g.token(24, string.ascii_letters + string.digits)
    th, tb = encode_part(g, html_to_text(html), "plain", charset, g.choice(["quoted-printable", "8bit", cte]))
    hh, hb = encode_part(g, html, "html", charset, cte)
    def part(h, b):
        return ("".join("%s: %s\n" % kv for kv in h) + "\n").encode() + b
    body = (b"--" + boundary.encode() + b"\n" + part(th, tb) + b"\n--" + boundary.encode() + b"\n" +
            part(hh, hb) + b"\n--" + boundary.encode() + b"--\n")
    return [("Content-Type", "multipart/alternative;\n boundary=\"%s\"" % boundary)], body


def serialize(headers, body, crlf):
    data = ("".join("%s: %s\n" % (n, v) for n, v in headers) + "\n").encode("utf-8") + body
    if crlf:
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return data


# ---------------------------------------------------------------------------------------
# Header building blocks

# The generated ARC sets carry random signatures: no key can verify them. Their selectors
# (synselector9901/10001, named after Exchange Online's arcselector9901/10001 and of the same
# length) are ones the indicator pack has no `arc-seal-key` for, so generated mail takes the
# unkeyed path of detect_stripping (form checked only), as any seal without a key does; with
# Microsoft's real selector names the pack's keys would reject every generated seal as a
# sender's look-alike. The keyed path is tested on real Microsoft-sealed mail
# (tests/unit/heuristics_arcseal_test.cpp).
def arc_set(g, i, cv, aar_text, bh, signed_headers, selector="synselector10001"):
    seal = ("ARC-Seal", fold_b64("i=%d; a=rsa-sha256; s=%s; d=microsoft.com; cv=%s;" % (i, selector, cv), "b=" + g.b64(342) + "=="))
    ams = ("ARC-Message-Signature", "i=%d; a=rsa-sha256; c=relaxed/relaxed; d=microsoft.com;\n s=%s;\n h=%s;\n bh=%s;\n %s"
           % (i, selector, signed_headers, bh, fold_b64("", "b=" + g.b64(342) + "==").lstrip("\n ")))
    aar = ("ARC-Authentication-Results", fold("i=%d; mx.microsoft.com 1; %s" % (i, aar_text)))
    return [seal, ams, aar]


MS_SIGNED = ["From:Date:Subject:Message-ID:Content-Type:MIME-Version:X-MS-Exchange-AntiSpam-MessageData-ChunkCount:X-MS-Exchange-AntiSpam-MessageData-0:X-MS-Exchange-AntiSpam-MessageData-1",
             "From:Date:Subject:Message-ID:Content-Type:MIME-Version:X-MS-Exchange-SenderADCheck",
             "From:Date:Subject:Message-ID:Content-Type:MIME-Version:X-MS-Exchange-AntiSpam-MessageData-ChunkCount:X-MS-Exchange-AntiSpam-MessageData-0",
             "From:Date:Subject:Message-ID:Content-Type:MIME-Version"]


def sfs(g):
    return "".join("(%d)" % g.r.randint(1000, 99999999999) for _ in range(g.r.randint(4, 14)))


def ara(g):
    return "|".join(str(g.r.randint(10000000, 99999999999)) for _ in range(g.r.randint(2, 10)))


def ms_hop(g, frm, frm_ip, by, by_ip, when, tls=True, frontend=False, simple=False):
    s = "from %s (%s) by %s (%s) with Microsoft SMTP Server" % (frm, frm_ip, by, by_ip)
    if simple:
        s += " id 15.20.%d.%d" % (g.r.randint(5000, 5999), g.r.randint(1, 30))
    elif tls:
        s += " (version=%s) id 15.20.%d.%d" % (g.choice(["TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS1_3, cipher=TLS_AES_256_GCM_SHA384"]),
                                             g.r.randint(5000, 5999), g.r.randint(1, 30))
    if frontend:
        s += " via Frontend Transport"
    return ("Received", fold(s + "; " + rfc2822(when)))



def mx_hops(g, rdns, helo, ip, mx, rcpt, t, mailfrom="", tls=True):
    """The receiving MX's Received header(s), top first: Postfix (most), Exim or Sendmail,
    sometimes with a local content-filter or LMTP delivery hop above."""
    kind = g.r.choices(["postfix", "exim", "sendmail"], [6, 2, 1])[0]
    if kind == "postfix":
        first = "from %s (%s [%s])\n\tby %s (Postfix) with %s id %s\n\tfor <%s>; %s" % (
            helo if g.chance(0.3) else rdns, rdns, ip, mx, "ESMTPS" if tls else "ESMTP", g.upper(g.r.randint(10, 12)), rcpt, rfc2822(t, g.choice([0, 60, 120, -300])))
    elif kind == "exim":
        first = "from %s ([%s] helo=%s)\n\tby %s with esmtps  (TLS1.2) tls TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n\t(Exim 4.96)\n\t(envelope-from <%s>)\n\tid 1o%s-000%s-%s\n\tfor %s; %s" % (
            rdns, ip, helo, mx, mailfrom, g.token(4, string.ascii_letters + string.digits), g.token(3), g.token(2, string.ascii_letters), rcpt, rfc2822(t, g.choice([0, 60])))
    else:
        first = "from %s (%s [%s])\n\tby %s (8.15.2/8.15.2) with ESMTPS id %s\n\t(version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 bits=256 verify=NOT)\n\tfor <%s>; %s" % (
            helo, rdns, ip, mx, g.token(14, string.ascii_letters + string.digits), rcpt, rfc2822(t, g.choice([0, -300, -420])))
    hops = [("Received", first)]
    r = g.r.random()
    if r < 0.15:
        hops.insert(0, ("Received", "from localhost (localhost [127.0.0.1])\n\tby %s (Postfix) with ESMTP id %s\n\tfor <%s>; %s" % (mx, g.upper(11), rcpt, rfc2822(t + dt.timedelta(seconds=1)))))
    elif r < 0.25:
        hops.insert(0, ("Received", "from %s\n\tby imap.%s with LMTP\n\tid %s\n\t(envelope-from <%s>)\n\tfor <%s>; %s" % (mx, mx.split(".", 1)[1], g.b64(22), mailfrom, rcpt, rfc2822(t + dt.timedelta(seconds=1)))))
    return hops

class Msg:
    """Parts of one message before the view-specific assembly."""
    pass


def campaign_core(g, when, recip, lure_key, residue, envelope_kind, wave=None):
    m = Msg()
    if wave:
        m.tenant, m.tenant_id = g.choice(wave["tenants"])
    else:
        m.tenant = g.tenant_name()
    m.tenant_dom = m.tenant + ".onmicrosoft.com"
    if not wave:
        m.tenant_id = g.guid()
    m.lure = lure_key
    L = LURES[lure_key]
    m.brand = wave["brand"] if wave else g.choice(L["brands"])
    m.from_dom = g.choice(wave["from_doms"]) if wave else g.lure_domain()
    m.from_local = g.choice([m.brand.split()[0].lower(), "rewards", "noreply", "winner", "info", "support", g.token(6)])
    m.from_disp = "%s %s" % (m.brand, g.choice(["Rewards", "Member Perks", "Customer Care", "Prize Team", "Promotions", "\u2011 Loyalty Program"]))
    m.subject = g.choice(L["subjects"]).format(b=m.brand, n=g.r.randint(1000, 99999))
    if wave and wave.get("subject_recip") and g.chance(0.3):
        m.subject = "%s: %s" % (recip, m.subject)  # a kit that greets the recipient by address
    if envelope_kind == "mailchimp":
        m.mailfrom_dom = "mail%d.%s%d.mcdlv.net" % (g.r.randint(1, 250), g.choice(["atl", "sea", "suw", "wdc"]), g.r.randint(10, 99))
        m.mailfrom = "bounce-mc.us%d_%d.%d-%s=%s@%s" % (g.r.randint(1, 21), g.r.randint(1000000, 99999999), g.r.randint(100000, 999999),
                                                        recip.split("@")[0], recip.split("@")[1], m.mailfrom_dom)
    elif envelope_kind == "victim":
        # the victim tenant's own (custom) domain as envelope sender, sometimes as From too
        _co, vdom = g.company()
        m.tenant_dom = vdom
        m.mailfrom_dom = vdom
        m.mailfrom = "%s@%s" % (g.token(g.r.randint(6, 12)), vdom)
        if g.chance(0.5):
            m.from_dom = vdom
    else:
        m.mailfrom_dom = m.tenant_dom
        m.mailfrom = "%s@%s" % (g.token(g.r.randint(6, 12)), m.tenant_dom)
    m.nimg = 2 if g.chance(0.7) else 1
    nf = g.r.randint(1, 3)
    fl = []
    while len(fl) < nf:
        s = g.choice(FILLER_STYLES)
        if s not in fl:
            fl.append(s)
    m.fillers = fl
    m.html, m.head, m.cta = lure_html(g, lure_key, m.brand, m.nimg, fl, recip, wave["layout"] if wave else "table", wave)
    m.charset = g.choice(CHARSETS)
    m.cte = g.choice(ENCODINGS)
    m.alt = g.chance(0.3)
    m.ctype_hdrs, m.body = make_body(g, m.html, m.charset, m.cte, m.alt)
    m.msgid = "<%s@%s>" % (g.guid(), g.choice([m.from_dom, m.tenant_dom, "%s.%s.prod.outlook.com" % (g.upper(14), g.region()[0] + "%02d" % g.r.randint(1, 19))]))
    m.residue = residue
    m.residue_hdrs = []
    if residue == "ses":
        m.residue_hdrs = [("X-SES-Outgoing", "2022.%02d.%02d-54.240.%d.%d" % (when.month, when.day, g.r.randint(0, 60), g.r.randint(1, 250))),
                          ("Feedback-ID", "1.us-east-1.%s=:AmazonSES" % g.b64(43))]
        if g.chance(0.5):
            m.residue_hdrs.append(("X-SES-Configuration-Set", g.letters(8)))
    elif residue == "mailchimp":
        m.residue_hdrs = [("X-MC-User", g.hexs(25)), ("Feedback-ID", "%d:%d.%d:us%d:mc" % (g.r.randint(10000000, 99999999), g.r.randint(1000000, 9999999), g.r.randint(100000, 999999), g.r.randint(1, 21))),
                          ("X-Mailer", "Mailchimp Mailer - **CID%s**" % g.hexs(20))]
    m.helo = g.choice([m.tenant_dom, m.tenant_dom, "mail.%s.%s" % (g.letters(7), g.choice(TLDS)), "%s.%s" % (g.letters(8), g.choice(["local", "lan", "net"])), "WIN-%s" % g.upper(11)])
    m.when = when
    m.recip = recip
    return m


def message_headers(g, m, date, to, extra_order=0):
    hs = [("To", "<%s>" % to if g.chance(0.6) else to), ("Date", rfc2822(date, g.choice([0, 0, -300, 60, 120, 480]))),
          ("Subject", m.subject), ("From", "\"%s\" <%s@%s>" % (m.from_disp, m.from_local, m.from_dom)),
          ("Message-ID", m.msgid), ("MIME-Version", "1.0")]
    if g.chance(0.4):
        hs.append(("List-Unsubscribe", "<https://%s/u/%s>" % (m.from_dom, g.token(20))))
    if g.chance(0.4):
        g.r.shuffle(hs)
    return hs + m.ctype_hdrs + m.residue_hdrs


def sender_tenant_hops(g, m, reg, t0, conn_ip):
    """Bottom-up hops inside the sending tenant; returns (headers top-first, mailbox host, ft host)."""
    ft = g.ms_ft_host(reg)
    ca = g.ms_ca_host(reg)
    mb = g.ms_mailbox_host(reg)
    prefix = reg[2]
    ft_ip = g.internal_ip()
    h_conn = ms_hop(g, m.helo, conn_ip, ft.split(".")[0] + ".mail.protection.outlook.com", ft_ip, t0, tls=g.chance(0.4), frontend=True, simple=True)
    spf = ("Received-SPF", fold("Fail (protection.outlook.com: domain of %s does not designate %s as permitted sender) receiver=protection.outlook.com; client-ip=%s; helo=%s;"
                                % (m.mailfrom_dom, conn_ip, conn_ip, m.helo)))
    xauth = ("X-MS-Exchange-Authentication-Results", fold("spf=fail (sender IP is %s) smtp.mailfrom=%s; dkim=none (message not signed) header.d=none;dmarc=%s action=none header.from=%s;"
                                                         % (conn_ip, m.mailfrom_dom, g.choice(["none", "fail"]), m.from_dom)))
    t1 = t0 + dt.timedelta(seconds=g.r.randint(0, 2))
    h_ca = ("Received", fold("from %s (%s) by %s (%s) with Microsoft SMTP Server (version=TLS1_3, cipher=TLS_AES_256_GCM_SHA384) id 15.20.%d.%d via Frontend Transport; %s"
                             % (ft, g.v6(prefix, cafe=True), ca.split(".")[0] + ".outlook.office365.com", g.v6(prefix), g.r.randint(5000, 5999), g.r.randint(1, 30), rfc2822(t1))))
    t2 = t1 + dt.timedelta(seconds=g.r.randint(0, 3))
    h_mb = ("Received", fold("from %s (%s) by %s (%s) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.%d.%d; %s"
                             % (ca, g.v6(prefix), mb, g.v6(prefix), g.r.randint(5000, 5999), g.r.randint(1, 30), rfc2822(t2))))
    if g.chance(0.2):
        # shorter path: the frontend hands the message straight to the mailbox server
        h_mb = ("Received", fold("from %s (%s) by %s (%s) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.%d.%d; %s"
                                 % (ft, g.v6(prefix, cafe=True), mb, g.v6(prefix), g.r.randint(5000, 5999), g.r.randint(1, 30), rfc2822(t2))))
        return [h_mb, xauth, spf, h_conn], mb, ft, t2
    return [h_mb, h_ca, xauth, spf, h_conn], mb, ft, t2


def tenant_trailer(g, m, conn_ip, mb, ft, t, fromentity, authas, stamped_untrusted=False, bcl_scl=(0, 1), ipv="CAL"):
    """The sending tenant's X-MS-* block as it leaves Exchange Online."""
    corr = g.guid()
    sfv = "SPM" if bcl_scl[1] >= 5 else "NSPM"
    suf = "-Untrusted" if stamped_untrusted else ""
    fr = [("X-EOPAttributedMessage", "0" if not stamped_untrusted else "1"),
          ("X-MS-PublicTrafficType", "Email"),
          ("X-MS-TrafficTypeDiagnostic", "%s:EE_|%s:EE_" % (ft.split(".")[0], mb.split(".")[0])),
          ("X-MS-Office365-Filtering-Correlation-Id", corr),
          ("X-MS-Exchange-SenderADCheck", g.choice(["1", "2"])),
          ("X-MS-Exchange-AntiSpam-Relay", "0"),
          ("X-Microsoft-Antispam" + suf, "BCL:%d;ARA:%s;" % (bcl_scl[0], ara(g))),
          ("X-Microsoft-Antispam-Message-Info" + ("-Original" if stamped_untrusted else ""), encoded_words(g, g.r.randint(3, 8))),
          ("X-Forefront-Antispam-Report" + suf, fold("CIP:%s;CTRY:%s;LANG:en;SCL:%d;SRV:;IPV:%s;SFV:%s;H:%s;PTR:%s;CAT:%s;SFS:%s;DIR:OUT;SFP:%d;"
                                                      % (conn_ip, g.choice(["US", "CA", "FR", "SG", "DE", "NL"]), bcl_scl[1], ipv, sfv, m.helo,
                                                         g.choice(["InfoDomainNonexistent", "InfoNoRecords", m.helo]), "OSPM" if sfv == "SPM" else "NONE",
                                                         sfs(g), g.choice([1101, 1102, 1501])), 200)),
          ]
    ct = [("X-OriginatorOrg", m.tenant_dom),
          ("X-MS-Exchange-CrossTenant-OriginalArrivalTime", ms_time(t)),
          ("X-MS-Exchange-CrossTenant-Network-Message-Id", corr),
          ("X-MS-Exchange-CrossTenant-Id", m.tenant_id),
          ("X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp", "TenantId=%s;Ip=[%s];Helo=[%s]" % (m.tenant_id, conn_ip, m.helo)),
          ("X-MS-Exchange-CrossTenant-AuthSource", ft),
          ("X-MS-Exchange-CrossTenant-AuthAs", authas),
          ("X-MS-Exchange-CrossTenant-FromEntityHeader", fromentity),
          ("X-MS-Exchange-Transport-CrossTenantHeadersStamped", mb.split(".")[0])]
    return fr, ct


# Names a transport rule may remove in each view (third-party: as stamped; consumer: renamed)
TP_ARC = ["ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results"]
TP_VERDICT = ["X-Forefront-Antispam-Report", "X-Microsoft-Antispam", "X-Microsoft-Antispam-Message-Info"]
CS_VERDICT = ["X-Forefront-Antispam-Report-Untrusted", "X-Microsoft-Antispam-Untrusted", "X-Microsoft-Antispam-Message-Info-Original"]

# partial-stripping patterns: (name, removes ARC parts, removes verdict parts); each pattern
# leaves at least one of the sender's ARC set or verdict absent (otherwise it is not the rules'
# trace), and at least one of them present (otherwise it is full stripping).
PARTIAL = [
    ("ams-only",        ["ARC-Message-Signature"], []),
    ("arc-set",         TP_ARC, []),
    ("seal+ams",        ["ARC-Seal", "ARC-Message-Signature"], []),
    ("verdict-only",    [], "ALL"),
    ("forefront-only",  [], ["forefront"]),
    ("ams+forefront",   ["ARC-Message-Signature"], ["forefront"]),
    ("arc+antispam",    TP_ARC, ["antispam"]),
]


def strip_sets(g, full, consumer):
    verdict = CS_VERDICT if consumer else TP_VERDICT
    if full:
        # the rules may or may not have caught Message-Info; the verdict and ARC set always go
        rm = TP_ARC + verdict[:2] + ([verdict[2]] if g.chance(0.8) else [])
        return "full", rm
    name, arc, ver = g.choice(PARTIAL)
    rm = list(arc)
    if ver == "ALL":
        rm += verdict
    else:
        if "forefront" in ver:
            rm.append(verdict[0])
        if "antispam" in ver:
            rm += verdict[1:]
    return name, rm


def consumer_assemble(g, m, conn_ip, strip, dkim_tenant):
    """outlook.com consumer view; strip: list of sender-side header names to remove."""
    reg = g.region()
    t0 = m.when
    s_hops, s_mb, s_ft, t = sender_tenant_hops(g, m, reg, t0, conn_ip)
    fr, _ct = tenant_trailer(g, m, conn_ip, s_mb, s_ft, t, "HybridOnPrem", "Anonymous", stamped_untrusted=True,
                             bcl_scl=(0, g.choice([1, 5, 8])), ipv="CAL")
    body_bh = body_hash(m.body)
    sender_arc_present = not all(h in strip for h in TP_ARC)
    sender_arc = arc_set(g, 1, "none", "spf=fail (sender ip is %s) smtp.rcpttodomain=%s smtp.mailfrom=%s; dmarc=none action=none header.from=%s; dkim=none (message not signed); arc=none (0)"
                         % (conn_ip, m.recip.split("@")[1], m.mailfrom_dom, m.from_dom), body_bh, g.choice(MS_SIGNED))
    sender_arc = [h for h in sender_arc if h[0] not in strip]
    # receiver side
    rreg = ("namprd", "NAM", "2603:10b6")
    out_host = g.outbound_host(reg)
    out_ip = g.eop_out_ip()
    r_ft = g.ms_ft_host(rreg)
    r_ca = g.ms_ca_host(rreg)
    r_mb = g.ms_mailbox_host(rreg)
    r_top = g.ms_mailbox_host(rreg)
    t3 = t + dt.timedelta(seconds=g.r.randint(1, 4))
    h_in = ms_hop(g, out_host, out_ip, r_ft.split(".")[0] + ".mail.protection.outlook.com", g.internal_ip(), t3, frontend=True)
    rspf = ("Received-SPF", fold("Pass (protection.outlook.com: domain of %s designates %s as permitted sender) receiver=protection.outlook.com; client-ip=%s; helo=%s; pr=C"
                                 % (m.mailfrom_dom, out_ip, out_ip, out_host)))
    dmarc = g.choice(["none", "fail"])
    authres = ("Authentication-Results", fold("spf=pass (sender IP is %s) smtp.mailfrom=%s; dkim=%s header.d=%s;dmarc=%s action=%s header.from=%s;compauth=fail reason=%s"
                                              % (out_ip, m.mailfrom_dom, "pass (signature was verified)" if dkim_tenant else "none (message not signed)",
                                                 m.tenant_dom if dkim_tenant else "none", dmarc, "none" if dmarc == "none" else g.choice(["none", "oreject", "quarantine"]),
                                                 m.from_dom, g.choice(["001", "000", "601"]))))
    t4 = t3 + dt.timedelta(seconds=1)
    h_ca = ("Received", fold("from %s (%s) by %s (%s) with Microsoft SMTP Server (version=TLS1_3, cipher=TLS_AES_256_GCM_SHA384) id 15.20.%d.%d via Frontend Transport; %s"
                             % (r_ft, g.v6(rreg[2], cafe=True), r_ca.split(".")[0] + ".outlook.office365.com", g.v6(rreg[2]), g.r.randint(5000, 5999), g.r.randint(1, 30), rfc2822(t4))))
    h_mb = ("Received", fold("from %s (%s) by %s (%s) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.%d.%d; %s"
                             % (r_ca, g.v6(rreg[2]), r_mb, g.v6(rreg[2]), g.r.randint(5000, 5999), g.r.randint(1, 30), rfc2822(t4 + dt.timedelta(seconds=1)))))
    h_top = ("Received", fold("from %s (::1) by %s with HTTPS; %s" % (r_mb, r_top, rfc2822(t4 + dt.timedelta(seconds=3)))))
    rcv_i = 2 if sender_arc_present else 1
    rcv_cv = ("pass" if g.chance(0.3) else "fail") if sender_arc_present else "none"
    rcv_arc = arc_set(g, rcv_i, rcv_cv, "spf=pass (sender ip is %s) smtp.rcpttodomain=%s smtp.mailfrom=%s; dmarc=%s action=none header.from=%s; dkim=none (message not signed); arc=%s"
                      % (out_ip, m.recip.split("@")[1], m.mailfrom_dom, dmarc, m.from_dom, ("fail (48)" if rcv_cv == "fail" else "pass") if sender_arc_present else "none"),
                      body_bh, MS_SIGNED[0])
    marker = ("X-IncomingTopHeaderMarker", "OriginalChecksum:%s;UpperCasedChecksum:%s;SizeAsReceived:%d;Count:%d"
              % (g.token(64, "0123456789ABCDEF"), g.token(64, "0123456789ABCDEF"), g.r.randint(2000, 9000), g.r.randint(25, 45)))
    dkim = []
    if dkim_tenant:
        dkim = [("DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s;\n s=selector1-%s;\n h=From:Date:Subject:Message-ID:Content-Type:MIME-Version:X-MS-Exchange-SenderADCheck;\n bh=%s;\n %s"
                 % (m.tenant_dom, m.tenant_dom.replace(".", "-"), body_bh, fold_b64("", "b=" + g.b64(342) + "==").lstrip("\n ")))]
    top = [h_top] if g.chance(0.7) else []  # the mailbox's HTTPS hop is not in every export
    hs = top + rcv_arc + [h_mb, h_ca, authres, rspf, h_in, marker] + sender_arc + dkim + s_hops
    hs += message_headers(g, m, t0 - dt.timedelta(seconds=g.r.randint(0, 30)), m.recip)
    hs.append(("Return-Path", m.mailfrom))
    hs += [h for h in fr if h[0] not in strip]
    if g.chance(0.4 if not strip else 0.3):
        # the sender's chunked MessageData headers: present on many real connector relays, and
        # they survive a transport rule that removes only the bare X-MS-Exchange-AntiSpam-MessageData
        # name; neither presence nor absence is evidence (campaign.md section 2)
        n = g.r.randint(1, 2)
        hs += [("X-MS-Exchange-AntiSpam-MessageData-ChunkCount", str(n))] + \
              [("X-MS-Exchange-AntiSpam-MessageData-%d" % k, g.b64(g.r.randint(200, 600))) for k in range(n)]
    hs.append(("X-MS-Exchange-Transport-CrossTenantHeadersStamped", s_mb.split(".")[0]))
    rnet = g.guid()
    hs += [("X-IncomingHeaderCount", str(g.r.randint(25, 45))),
           ("X-MS-Exchange-Organization-ExpirationStartTime", ms_time(t4)),
           ("X-MS-Exchange-Organization-ExpirationStartTimeReason", "OriginalSubmit"),
           ("X-MS-Exchange-Organization-ExpirationInterval", "1:00:00:00.0000000"),
           ("X-MS-Exchange-Organization-Network-Message-Id", rnet),
           ("X-EOPTenantAttributedMessage", OUTLOOK_CONSUMER_TENANT + ":0"),
           ("X-MS-Exchange-Organization-MessageDirectionality", "Incoming"),
           ("X-MS-Exchange-Transport-CrossTenantHeadersStripped", r_ft),
           ("X-MS-Exchange-Transport-CrossTenantHeadersPromoted", r_ft),
           ("X-MS-PublicTrafficType", "Email"),
           ("X-MS-Exchange-Organization-AuthSource", r_ft),
           ("X-MS-Exchange-Organization-AuthAs", "Anonymous"),
           ("X-MS-Exchange-EOPDirect", "true"),
           ("X-Sender-IP", out_ip),
           ("X-SID-PRA", ("%s@%s" % (m.from_local, m.from_dom)).upper()),
           ("X-SID-Result", g.choice(["NONE", "FAIL"])),
           ("X-MS-Exchange-Organization-SCL", str(g.choice([1, 5, 6, 8, 9]))),
           ("X-Microsoft-Antispam", "BCL:0;ARA:%s;" % ara(g)),
           ("X-MS-Exchange-CrossTenant-OriginalArrivalTime", ms_time(t4)),
           ("X-MS-Exchange-CrossTenant-Network-Message-Id", rnet),
           ("X-MS-Exchange-CrossTenant-Id", OUTLOOK_CONSUMER_TENANT),
           ("X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp", "TenantId=%s;Ip=[%s];Helo=[%s]" % (m.tenant_id, conn_ip, m.helo)),
           ("X-MS-Exchange-CrossTenant-AuthSource", r_ft),
           ("X-MS-Exchange-CrossTenant-AuthAs", "Anonymous"),
           ("X-MS-Exchange-CrossTenant-FromEntityHeader", "Internet"),
           ("X-MS-Exchange-CrossTenant-RMS-PersistedConsumerOrg", "00000000-0000-0000-0000-000000000000"),
           ("X-MS-Exchange-Transport-CrossTenantHeadersStamped", r_mb.split(".")[0]),
           ("X-MS-Exchange-Transport-EndToEndLatency", "00:00:%02d.%07d" % (g.r.randint(1, 9), g.r.randint(0, 9999999))),
           ("X-Microsoft-Antispam-Mailbox-Delivery", "ucf:0;jmr:0;ex:0;psp:0;auth:0;dest:%s;OFR:SpamFilterAuthJ;ENG:(5062000305)(90000117)(91005020);RF:JunkEmail;" % g.choice(["J", "I"])),
           ("X-Microsoft-Antispam-Message-Info", encoded_words(g, g.r.randint(3, 8)))]
    return hs


def thirdparty_assemble(g, m, conn_ip, strip, dkim_tenant, mx=None):
    reg = g.region()
    t0 = m.when
    s_hops, s_mb, s_ft, t = sender_tenant_hops(g, m, reg, t0, conn_ip)
    fr, ct = tenant_trailer(g, m, conn_ip, s_mb, s_ft, t, "HybridOnPrem", "Anonymous", bcl_scl=(0, g.choice([1, 1, 5])), ipv="CAL" if g.chance(0.85) else "NLI")
    body_bh = body_hash(m.body)
    arc = arc_set(g, 1, "none", "spf=fail (sender ip is %s) smtp.rcpttodomain=%s smtp.mailfrom=%s; dmarc=%s action=none header.from=%s; dkim=none (message not signed); arc=none"
                  % (conn_ip, m.recip.split("@")[1], m.mailfrom_dom, g.choice(["none", "fail"]), m.from_dom), body_bh, g.choice(MS_SIGNED),
                  selector=g.choice(["synselector9901", "synselector10001"]))
    arc = [h for h in arc if h[0] not in strip]
    out_ip = "40.107.%d.%d" % (g.r.randint(0, 255), g.r.randint(1, 254))
    out_helo = g.outbound_host(reg)
    mx = mx or g.choice(["mx.example.net", "mx1.example.org", "mail.example.com", "smtp-in.%s.test" % g.letters(6)])
    t3 = t + dt.timedelta(seconds=g.r.randint(1, 5))
    qid = g.upper(g.r.randint(10, 12))
    top = mx_hops(g, g.eopbgr(out_ip), out_helo, out_ip, mx, m.recip, t3, m.mailfrom)
    dm = g.choice(["none", "fail"])
    hs = []
    if g.chance(0.9):
        hs.append(("Return-Path", "<%s>" % m.mailfrom))
    if g.chance(0.7):
        hs.append(("Delivered-To", m.recip))
    if g.chance(0.7):
        hs.append(("Authentication-Results", fold("%s; spf=pass smtp.mailfrom=%s; dkim=%s; dmarc=%s (p=%s dis=none) header.from=%s"
                                                  % (mx, m.mailfrom_dom, "pass header.d=%s" % m.tenant_dom if dkim_tenant else "none", dm, g.choice(["none", "quarantine", "reject"]), m.from_dom))))
    hs += top
    dkim = []
    if dkim_tenant:
        dkim = [("DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s;\n s=selector1-%s;\n h=%s;\n bh=%s;\n %s"
                 % (m.tenant_dom, m.tenant_dom.replace(".", "-"), g.choice(MS_SIGNED), body_bh, fold_b64("", "b=" + g.b64(342) + "==").lstrip("\n ")))]
    hs += arc + dkim + s_hops
    hs += message_headers(g, m, t0 - dt.timedelta(seconds=g.r.randint(0, 30)), m.recip)
    hs += [h for h in fr if h[0] not in strip]
    hs += ct
    return hs


def campaign_message(g, family_view, ip_mode, full, when, lure=None, residue=None, force_strip=None, wave=None):
    consumer = family_view == "consumer"
    if consumer:
        recip = "%s@%s" % (g.token(g.r.randint(5, 10)), g.choice(["outlook.com", "hotmail.com", "live.com", "msn.com"]))
    else:
        recip = "%s.%s@%s" % (g.letters(4), g.letters(6), g.choice(["example.net", "example.org", "example.com"]))
    lure = lure or g.choice(sorted(LURES))
    if residue is None:
        residue = g.choice(["none"] * 6 + ["ses", "mailchimp"])
    env = "mailchimp" if residue == "mailchimp" and g.chance(0.5) else ("victim" if g.chance(0.2) else "tenant")
    m = campaign_core(g, when, recip, lure, residue, env, wave)
    if wave:
        conn_ip = g.choice(wave["ips"])
    elif ip_mode == "onlist":
        conn_ip = g.choice(CONNECTOR_IPS)
    elif g.chance(0.1):
        conn_ip = "2001:db8:%x:%x::%x" % (g.r.randint(1, 0xffff), g.r.randint(1, 0xffff), g.r.randint(1, 0xff))
    else:
        conn_ip = g.offlist_ip()
    if force_strip is not None:
        sname, strip = force_strip
    else:
        sname, strip = strip_sets(g, full, consumer)
    dkim_tenant = g.chance(0.3)
    hs = consumer_assemble(g, m, conn_ip, strip, dkim_tenant) if consumer else thirdparty_assemble(g, m, conn_ip, strip, dkim_tenant)
    crlf = g.chance(0.3)
    attrs = ["ip=%s" % conn_ip, "strip=%s" % sname, "lure=%s" % lure, "imgs=%d" % m.nimg, "filler=%s" % "+".join(m.fillers),
             "cte=%s" % m.cte, "charset=%s" % m.charset.lower(), "alt=%d" % m.alt, "residue=%s" % residue,
             "env=%s" % {"mailchimp": "mcdlv", "victim": "victim-domain", "tenant": "onmicrosoft"}[env], "from=%s" % ("victim" if m.from_dom == m.tenant_dom else "unrelated"), "eol=%s" % ("crlf" if crlf else "lf")]
    return hs, m.body, crlf, attrs, m


# ---------------------------------------------------------------------------------------
# Wrappers (a user's report, a quarantine export, an ARF abuse report)

def wrap(g, kind, inner_bytes_lf, inner_subject, when, crlf):
    boundary = "----=_Part_%d_%s" % (g.r.randint(100000, 999999), g.token(12))
    co, dom = g.company()
    fn, ln = g.person()
    user = "%s.%s@%s" % (fn.lower(), ln.lower(), dom)
    t = when + dt.timedelta(hours=g.r.randint(1, 72))
    relay = "mail.%s" % dom
    hs = [("Received", "from %s (%s [%s])\n\tby helpdesk.%s (Postfix) with ESMTPS id %s\n\tfor <%s>; %s"
           % (relay, relay, g.choice(["192.0.2.", "198.51.100.", "203.0.113."]) + str(g.r.randint(2, 250)), dom, g.upper(11),
              "abuse@" + dom, rfc2822(t)))]
    if kind == "report":
        hs += [("From", "%s %s <%s>" % (fn, ln, user)), ("To", "Security Team <abuse@%s>" % dom),
               ("Subject", "%s %s" % (g.choice(["FW:", "Fwd:", "Suspicious:", "Phishing report:"]), inner_subject)),
               ("Date", rfc2822(t)), ("Message-ID", "<%s@%s>" % (g.token(20), dom)), ("MIME-Version", "1.0"),
               ("Content-Type", "multipart/mixed; boundary=\"%s\"" % boundary)]
        note = "Hi team,\n\nI received the attached message in my mailbox and I think it is spam or a scam.\nPlease have a look.\n\nThanks,\n%s\n" % fn
        first = "Content-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: 7bit\n\n" + note
        att = "Content-Type: message/rfc822; name=\"%s.eml\"\nContent-Disposition: attachment; filename=\"%s.eml\"\n\n" % ("suspicious", "suspicious")
    elif kind == "quarantine":
        qid = g.guid()
        hs += [("From", "Quarantine <quarantine@%s>" % dom), ("To", "mail-admins@%s" % dom),
               ("Subject", "Quarantine export %s" % qid), ("Date", rfc2822(t)), ("Message-ID", "<%s@%s>" % (qid, dom)),
               ("MIME-Version", "1.0"), ("X-Quarantine-ID", qid),
               ("Content-Type", "multipart/mixed; boundary=\"%s\"" % boundary)]
        note = ("Message released from quarantine for analysis.\nQuarantine ID: %s\nReason: Spam (high confidence)\nOriginal recipient: user@%s\n" % (qid, dom))
        first = "Content-Type: text/plain; charset=\"us-ascii\"\n\n" + note
        att = "Content-Type: message/rfc822\nContent-Description: original message\n\n"
    else:  # ARF
        hs += [("From", "Abuse Desk <arf@%s>" % dom), ("To", "abuse@%s" % g.lure_domain()),
               ("Subject", "Abuse report: %s" % inner_subject), ("Date", rfc2822(t)), ("Message-ID", "<%s@%s>" % (g.token(20), dom)),
               ("MIME-Version", "1.0"),
               ("Content-Type", "multipart/report; report-type=feedback-report;\n boundary=\"%s\"" % boundary)]
        first = ("Content-Type: text/plain; charset=\"us-ascii\"\n\nThis is an email abuse report for a message received from IP %s on %s.\n\n"
                 "--%s\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: %s-FBL/1.0\nVersion: 1\n"
                 "Arrival-Date: %s\n" % (g.eop_out_ip(), rfc2822(when), boundary, co, rfc2822(when)))
        att = "Content-Type: message/rfc822\nContent-Disposition: inline\n\n"
    body = ("This is a multi-part message in MIME format.\n\n--%s\n%s\n--%s\n%s" % (boundary, first, boundary, att)).encode() + \
        inner_bytes_lf + ("\n--%s--\n" % boundary).encode()
    return serialize(hs, body, crlf)


# ---------------------------------------------------------------------------------------
# Related (technique, nothing stripped) and clean look-alikes

def related_message(g, view, when):
    hs, body, crlf, attrs, m = campaign_message(g, view, "offlist", True, when, force_strip=("none", []))
    return hs, body, crlf, attrs


def hybrid_legit(g, when, view="thirdparty", ip=None, dkim_h_messagedata=False):
    """Legitimate hybrid relay: on-prem Exchange -> connector -> Exchange Online -> recipient."""
    co, dom = g.company()
    fn, ln = g.person()
    sender = "%s.%s@%s" % (fn.lower(), ln.lower(), dom)
    reg = g.region()
    m = Msg()
    m.tenant_dom = dom
    m.tenant_id = g.guid()
    m.helo = g.choice(["hybrid.%s", "mail.%s", "exch01.%s", "smtp-out.%s", "edge.%s"]) % dom
    m.mailfrom_dom = dom
    m.from_dom = dom
    conn_ip = ip or g.offlist_ip()
    text = business_text(g, "%s %s" % (fn, ln))
    charset = g.choice(["us-ascii", "utf-8", "iso-8859-1"])
    if g.chance(0.5):
        ch, body = encode_part(g, text, "plain", charset, g.choice(["7bit", "quoted-printable"]))
    else:
        ch, body = make_body(g, business_html(text), "utf-8", g.choice(["quoted-printable", "base64"]), True)
    body_bh = body_hash(body)
    s_hops, s_mb, s_ft, t = sender_tenant_hops(g, m, reg, when, conn_ip)
    # legitimate: SPF passes for the company's own on-prem gateway
    s_hops = [h for h in s_hops if h[0] not in ("Received-SPF", "X-MS-Exchange-Authentication-Results")]
    s_hops.insert(1, ("X-MS-Exchange-Authentication-Results", fold("spf=pass (sender IP is %s) smtp.mailfrom=%s; dkim=none (message not signed) header.d=none;dmarc=pass action=none header.from=%s;" % (conn_ip, dom, dom))))
    s_hops.insert(2, ("Received-SPF", fold("Pass (protection.outlook.com: domain of %s designates %s as permitted sender) receiver=protection.outlook.com; client-ip=%s; helo=%s;" % (dom, conn_ip, conn_ip, m.helo))))
    onprem_ip = "10.%d.%d.%d" % (g.r.randint(0, 255), g.r.randint(0, 255), g.r.randint(2, 250)) if g.chance(0.5) else "172.%d.%d.%d" % (g.r.randint(16, 31), g.r.randint(0, 255), g.r.randint(2, 250))
    onprem = []
    if g.chance(0.7):
        onprem.append(("Received", fold("from EXMB%02d.corp.%s (%s) by %s (%s) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) id 15.1.%d.%d; %s"
                                        % (g.r.randint(1, 9), dom, onprem_ip, m.helo, conn_ip, g.r.randint(2000, 2500), g.r.randint(1, 30), rfc2822(when - dt.timedelta(seconds=2), 60)))))
    ipv = "CAL" if g.chance(0.8) else "NLI"
    msg = Msg()
    msg.tenant_dom = dom
    msg.tenant_id = m.tenant_id
    msg.helo = m.helo
    fr, ct = tenant_trailer(g, msg, conn_ip, s_mb, s_ft, t, "HybridOnPrem", "Anonymous", stamped_untrusted=(view == "consumer"), bcl_scl=(0, 1), ipv=ipv)
    ct[0] = ("X-OriginatorOrg", dom)
    to_dom = g.choice(["example.net", "example.org"]) if view != "consumer" else g.choice(["outlook.com", "hotmail.com"])
    rfn, rln = g.person()
    to = "%s.%s@%s" % (rfn.lower(), rln.lower(), to_dom)
    subj = g.choice(["Re: ", "", "FW: ", ""]) + g.choice(["Q3 figures", "Maintenance window", "Contract draft", "Steering meeting minutes", "Parts delivery",
                                                          "Onboarding checklist", "Audit schedule", "Invoice August", "Firmware patch results", "Office closure Friday",
                                                          "Workshop agenda", "Expense policy update", "Incident review: certificate expiry"])
    mh = [("From", "%s %s <%s>" % (fn, ln, sender)), ("To", "%s %s <%s>" % (rfn, rln, to)), ("Subject", subj),
          ("Date", rfc2822(when - dt.timedelta(seconds=3), 60)), ("Message-ID", "<%s@%s>" % (g.token(24), "EXMB%02d.corp.%s" % (g.r.randint(1, 9), dom))),
          ("MIME-Version", "1.0")] + ch
    if g.chance(0.5):
        mh += [("X-Originating-IP", "[%s]" % onprem_ip), ("X-ClientProxiedBy", "EXCAS%02d.corp.%s (%s) To EXMB01.corp.%s (%s)" % (g.r.randint(1, 9), dom, onprem_ip, dom, onprem_ip))]
    sel = g.choice(["synselector9901", "synselector10001"])
    arc_h = MS_SIGNED[0] if dkim_h_messagedata else g.choice(MS_SIGNED)
    dkim = []
    if dkim_h_messagedata or g.chance(0.4):
        dkim = [("DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s;\n s=selector%d;\n h=%s;\n bh=%s;\n %s"
                 % (dom, g.r.randint(1, 2), MS_SIGNED[0] if dkim_h_messagedata else "From:Date:Subject:Message-ID:Content-Type:MIME-Version:X-MS-Exchange-SenderADCheck",
                    body_bh, fold_b64("", "b=" + g.b64(342) + "==").lstrip("\n ")))]
    if view == "consumer":
        # at an outlook.com mailbox: sender set kept (i=1), receiver set i=2
        hs = consumer_like_top(g, m, msg, to, conn_ip, body_bh, dom, sel, arc_h, dkim, s_hops + onprem, mh, fr, s_mb, legit=True, when=when)
        return hs, body, ["ip=%s" % conn_ip, "ipv=%s" % ipv, "dkim=%d" % bool(dkim)]
    arc = arc_set(g, 1, "none", "spf=pass (sender ip is %s) smtp.rcpttodomain=%s smtp.mailfrom=%s; dmarc=pass (p=none sp=none pct=100) action=none header.from=%s; dkim=none (message not signed); arc=none"
                  % (conn_ip, to_dom, dom, dom), body_bh, arc_h, selector=sel)
    out_ip = "40.107.%d.%d" % (g.r.randint(0, 255), g.r.randint(1, 254))
    mx = "mx.%s" % to_dom
    top = mx_hops(g, g.eopbgr(out_ip), g.outbound_host(reg), out_ip, mx, to, t + dt.timedelta(seconds=2), sender)
    hs = [("Return-Path", "<%s>" % sender), ("Delivered-To", to)]
    if g.chance(0.6):
        hs.append(("Authentication-Results", fold("%s; spf=pass smtp.mailfrom=%s; dkim=%s; dmarc=pass (p=none dis=none) header.from=%s; arc=pass" % (mx, dom, "pass header.d=%s" % dom if dkim else "none", dom))))
    hs += top + arc + dkim + s_hops + onprem + mh + fr + ct
    return hs, body, ["ip=%s" % conn_ip, "ipv=%s" % ipv, "dkim=%d" % bool(dkim), "dkim_h_md=%d" % dkim_h_messagedata]


def consumer_like_top(g, m, msg, to, conn_ip, body_bh, dom, sel, arc_h, dkim, lower_hops, mh, fr, s_mb, legit, when):
    rreg = ("namprd", "NAM", "2603:10b6")
    reg = g.region()
    out_host = g.outbound_host(reg)
    out_ip = g.eop_out_ip()
    r_ft = g.ms_ft_host(rreg)
    r_mb = g.ms_mailbox_host(rreg)
    r_top = g.ms_mailbox_host(rreg)
    t = when + dt.timedelta(seconds=g.r.randint(2, 6))
    sender_arc = arc_set(g, 1, "none", "spf=pass (sender ip is %s) smtp.rcpttodomain=%s smtp.mailfrom=%s; dmarc=pass action=none header.from=%s; dkim=none (message not signed); arc=none"
                         % (conn_ip, to.split("@")[1], dom, dom), body_bh, arc_h, selector=sel)
    rcv_arc = arc_set(g, 2, "pass", "spf=pass (sender ip is %s) smtp.rcpttodomain=%s smtp.mailfrom=%s; dmarc=pass action=none header.from=%s; dkim=%s; arc=pass (0 oda=1 ltdi=1 spf=[1,1,smtp.mailfrom=%s] dmarc=[1,1,header.from=%s])"
                      % (out_ip, to.split("@")[1], dom, dom, "pass (signature was verified) header.d=%s" % dom if dkim else "none (message not signed)", dom, dom),
                      body_bh, MS_SIGNED[0])
    h_in = ms_hop(g, out_host, out_ip, r_ft.split(".")[0] + ".mail.protection.outlook.com", g.internal_ip(), t, frontend=True)
    authres = ("Authentication-Results", fold("spf=pass (sender IP is %s) smtp.mailfrom=%s; dkim=%s header.d=%s;dmarc=pass action=none header.from=%s;compauth=pass reason=100"
                                              % (out_ip, dom, "pass (signature was verified)" if dkim else "none (message not signed)", dom if dkim else "none", dom)))
    rspf = ("Received-SPF", fold("Pass (protection.outlook.com: domain of %s designates %s as permitted sender) receiver=protection.outlook.com; client-ip=%s; helo=%s; pr=C" % (dom, out_ip, out_ip, out_host)))
    h_mb = ms_hop(g, r_ft, g.v6(rreg[2], cafe=True), r_mb, g.v6(rreg[2]), t)
    h_top = ("Received", "from %s (::1) by\n %s with HTTPS; %s" % (r_mb, r_top, rfc2822(t)))
    rnet = g.guid()
    trailer = [("X-IncomingHeaderCount", str(g.r.randint(25, 45))),
               ("X-MS-Exchange-Organization-Network-Message-Id", rnet),
               ("X-EOPTenantAttributedMessage", OUTLOOK_CONSUMER_TENANT + ":0"),
               ("X-MS-Exchange-Organization-MessageDirectionality", "Incoming"),
               ("X-MS-Exchange-Transport-CrossTenantHeadersStripped", r_ft),
               ("X-MS-PublicTrafficType", "Email"),
               ("X-MS-Exchange-Organization-AuthAs", "Anonymous"),
               ("X-Sender-IP", out_ip),
               ("X-MS-Exchange-Organization-SCL", "1"),
               ("X-Microsoft-Antispam", "BCL:0;ARA:%s;" % ara(g)),
               ("X-MS-Exchange-CrossTenant-Network-Message-Id", rnet),
               ("X-MS-Exchange-CrossTenant-Id", OUTLOOK_CONSUMER_TENANT),
               ("X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp", "TenantId=%s;Ip=[%s];Helo=[%s]" % (msg.tenant_id, conn_ip, msg.helo)),
               ("X-MS-Exchange-CrossTenant-AuthAs", "Anonymous"),
               ("X-MS-Exchange-CrossTenant-FromEntityHeader", "Internet"),
               ("X-MS-Exchange-Transport-CrossTenantHeadersStamped", r_mb.split(".")[0]),
               ("X-Microsoft-Antispam-Mailbox-Delivery", "ucf:0;jmr:0;ex:0;auth:1;dest:I;ENG:(5062000305)(90000117);RF:Inbox;"),
               ("X-Microsoft-Antispam-Message-Info", encoded_words(g, 3))]
    return ([h_top] + rcv_arc + [h_mb, authres, rspf, h_in] + sender_arc + dkim + lower_hops + mh + fr +
            [("X-MS-Exchange-Transport-CrossTenantHeadersStamped", s_mb.split(".")[0])] + trailer)


def cloud_legit(g, when, verdict=True):
    """Legitimate cloud-mailbox mail (FromEntityHeader Hosted) received by a third-party MX."""
    co, dom = g.company()
    fn, ln = g.person()
    sender = "%s.%s@%s" % (fn.lower(), ln.lower(), dom)
    reg = g.region()
    text = business_text(g, "%s %s" % (fn, ln))
    if g.chance(0.5):
        ch, body = encode_part(g, text, "plain", "us-ascii", "7bit")
    else:
        ch, body = make_body(g, business_html(text), g.choice(["utf-8", "iso-8859-1"]), g.choice(["quoted-printable", "base64"]), True)
    body_bh = body_hash(body)
    mb1 = g.ms_mailbox_host(reg)
    mb2 = g.ms_mailbox_host(reg)
    out_ip = "40.107.%d.%d" % (g.r.randint(0, 255), g.r.randint(1, 254))
    to_dom = g.choice(["example.net", "example.org"])
    rfn, rln = g.person()
    to = "%s.%s@%s" % (rfn.lower(), rln.lower(), to_dom)
    mx = "mx.%s" % to_dom
    tid = g.guid()
    corr = g.guid()
    t = when
    hs = [("Return-Path", "<%s>" % sender), ("Delivered-To", to),
          ] + mx_hops(g, g.eopbgr(out_ip), g.outbound_host(reg), out_ip, mx, to, t, sender)
    hs += arc_set(g, 1, "none", "spf=pass smtp.mailfrom=%s; dmarc=pass action=none header.from=%s; dkim=pass header.d=%s; arc=none" % (dom, dom, dom), body_bh, g.choice(MS_SIGNED),
                  selector=g.choice(["synselector9901", "synselector10001"]))
    hs.append(("DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s;\n s=selector%d;\n h=%s;\n bh=%s;\n %s"
               % (dom, g.r.randint(1, 2), g.choice(MS_SIGNED), body_bh, fold_b64("", "b=" + g.b64(342) + "==").lstrip("\n "))))
    hs.append(ms_hop(g, mb1, g.v6(reg[2]), mb2, g.v6(reg[2]), t))
    hs.append(("Received", fold("from %s ([fe80::%x:%x:%x:%x]) by %s ([fe80::%x:%x:%x:%x%%%d]) with mapi id 15.20.%d.%03d; %s"
                                % (mb1, *(g.r.randint(1, 0xffff) for _ in range(4)), mb1, *(g.r.randint(1, 0xffff) for _ in range(4)), g.r.randint(1, 9),
                                   g.r.randint(5000, 5999), g.r.randint(1, 30), rfc2822(t)))))
    subj = g.choice(["Re: ", "", "RE: "]) + g.choice(["Project status", "Design review notes", "Travel approval", "Vendor onboarding", "Budget question", "Lab access"])
    hs += [("From", "%s %s <%s>" % (fn, ln, sender)), ("To", "%s %s <%s>" % (rfn, rln, to)), ("Subject", subj),
           ("Thread-Topic", subj), ("Thread-Index", g.b64(28) + "=="), ("Date", rfc2822(t)),
           ("Message-ID", "<%s@%s>" % (mb1.split(".")[0] + g.upper(20), mb1.upper())),
           ("Accept-Language", "en-US"), ("Content-Language", "en-US"), ("X-MS-Has-Attach", ""), ("X-MS-TNEF-Correlator", "")]
    hs += [("x-ms-publictraffictype", "Email"), ("x-ms-traffictypediagnostic", "%s:EE_" % mb1.split(".")[0]),
           ("x-ms-office365-filtering-correlation-id", corr), ("x-microsoft-antispam", "BCL:0;ARA:%s;" % ara(g)),
           ("x-microsoft-antispam-message-info", encoded_words(g, 3))]
    if verdict:
        hs.append(("x-forefront-antispam-report", fold("CIP:255.255.255.255;CTRY:;LANG:en;SCL:1;SRV:;IPV:NLI;SFV:NSPM;H:%s;PTR:;CAT:NONE;SFS:%s;DIR:OUT;SFP:1102;" % (mb1.split(".")[0] + "." + mb1.split(".")[1].upper() + ".PROD.OUTLOOK.COM", sfs(g)), 200)))
    if g.chance(0.85):
        hs += [("x-ms-exchange-antispam-messagedata-chunkcount", "1"), ("x-ms-exchange-antispam-messagedata-0", g.b64(200))]
    hs += [("MIME-Version", "1.0")] + ch
    hs += [("X-OriginatorOrg", dom), ("X-MS-Exchange-CrossTenant-AuthAs", "Internal"), ("X-MS-Exchange-CrossTenant-AuthSource", mb1),
           ("X-MS-Exchange-CrossTenant-Network-Message-Id", corr), ("X-MS-Exchange-CrossTenant-originalarrivaltime", ms_time(t)),
           ("X-MS-Exchange-CrossTenant-fromentityheader", "Hosted"), ("X-MS-Exchange-CrossTenant-id", tid),
           ("X-MS-Exchange-CrossTenant-mailboxtype", "HOSTED"), ("X-MS-Exchange-CrossTenant-userprincipalname", g.b64(60)),
           ("X-MS-Exchange-Transport-CrossTenantHeadersStamped", mb2.split(".")[0])]
    return hs, body, ["verdict=%d" % verdict]


def spam_nonms(g, when, variant):
    """Ordinary sweepstakes spam from non-Microsoft infrastructure (lure, linked images, filler)."""
    lure = g.choice(sorted(LURES))
    brand = g.choice(LURES[lure]["brands"])
    to = "%s@%s" % (g.token(8), g.choice(["example.net", "example.org", "outlook.com", "gmail.example"]))
    nimg = 2 if g.chance(0.6) else 1
    fl = [g.choice(FILLER_STYLES)] if g.chance(0.7) else []
    html, head, _ = lure_html(g, lure, brand, nimg, fl, to)
    ch, body = make_body(g, html, g.choice(CHARSETS), g.choice(ENCODINGS), g.chance(0.3))
    from_dom = g.lure_domain()
    ip = g.offlist_ip()
    host = g.choice(["mail", "smtp", "mx", "out", "relay"]) + "%d.%s" % (g.r.randint(1, 99), from_dom)
    mx = "mx.%s" % (to.split("@")[1] if "example" in to else "example.net")
    hs = [("Return-Path", "<bounce-%s@%s>" % (g.token(10), from_dom)),
          ("Received", "from %s (%s [%s])\n\tby %s (Postfix) with %s id %s\n\tfor <%s>; %s" % (host, host, ip, mx, g.choice(["ESMTP", "ESMTPS", "SMTP"]), g.upper(11), to, rfc2822(when)))]
    if variant == "b" and g.chance(0.7):
        # through a second, compromised relay (still not Exchange Online)
        ip2 = g.offlist_ip()
        hs.append(("Received", "from [%s] (unknown [%s])\n\tby %s with ESMTPA id %s; %s" % (ip2, ip2, host, g.token(12), rfc2822(when - dt.timedelta(seconds=20)))))
    hs.append(("Authentication-Results", "%s; spf=%s smtp.mailfrom=%s; dkim=%s; dmarc=%s header.from=%s" % (
        mx, g.choice(["pass", "softfail", "neutral", "none"]), from_dom, g.choice(["none", "pass header.d=%s" % from_dom, "fail"]), g.choice(["none", "pass", "fail"]), from_dom)))
    if g.chance(0.5):
        hs.append(("DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=%s;\n h=from:to:subject:date:message-id:mime-version;\n bh=%s;\n %s"
                   % (from_dom, g.letters(5), body_hash(body), fold_b64("", "b=" + g.b64(170) + "==").lstrip("\n "))))
    hs += [("From", "\"%s\" <%s@%s>" % (brand, g.choice(["promo", "winner", "rewards", "info"]), from_dom)), ("To", to),
           ("Subject", g.choice(LURES[lure]["subjects"]).format(b=brand, n=g.r.randint(1000, 99999))),
           ("Date", rfc2822(when)), ("Message-ID", "<%s@%s>" % (g.token(24), from_dom)), ("MIME-Version", "1.0")] + ch
    if g.chance(0.3):
        hs.append(("X-Mailer", g.choice(["PHPMailer 6.5.0", "Microsoft Outlook 16.0", "MailKing 4.2"])))
    if variant == "b" and g.chance(0.5):
        # a spoofed-looking Microsoft header pasted by the spammer (no route through Exchange)
        hs.append(("X-MS-Exchange-Organization-SCL", "-1"))
    return hs, body, ["lure=%s" % lure, "imgs=%d" % nimg, "filler=%s" % "+".join(fl) if fl else "filler=none"]


def esp_newsletter(g, when):
    """A legitimate newsletter sent through Amazon SES or Mailchimp."""
    co, dom = g.company()
    esp = g.choice(["ses", "mailchimp"])
    to = "%s.%s@example.net" % (g.letters(4), g.letters(6))
    html = newsletter_html(g, co, lurey=g.chance(0.3))
    ch, body = make_body(g, html, "utf-8", g.choice(["quoted-printable", "base64"]), True)
    bh = body_hash(body)
    if esp == "ses":
        ip = "54.240.%d.%d" % (g.r.randint(0, 60), g.r.randint(1, 250))
        host = "a%s.smtp-out.amazonses.com" % ip.replace("54.240.", "").replace(".", "-")
        mailfrom = "0100%s-%s-000000@amazonses.com" % (g.hexs(12), g.guid())
        extra = [("X-SES-Outgoing", "2022.%02d.%02d-%s" % (when.month, when.day, ip)),
                 ("Feedback-ID", "1.us-east-1.%s=:AmazonSES" % g.b64(43))]
        dk = [("DKIM-Signature", "v=1; a=rsa-sha256; q=dns/txt; c=relaxed/simple;\n s=%s; d=amazonses.com; t=%d;\n h=From:To:Subject:MIME-Version:Content-Type:Message-ID:Date:Feedback-ID;\n bh=%s;\n b=%s"
               % (g.letters(32), 1650000000 + g.r.randint(0, 9999999), body_hash(body, "simple"), g.b64(340)))]
    else:
        ip = "198.2.%d.%d" % (g.r.randint(128, 191), g.r.randint(1, 250))
        host = "mail%d.%s%d.mcsv.net" % (g.r.randint(1, 250), g.choice(["atl", "sea", "suw"]), g.r.randint(10, 99))
        mailfrom = "bounce-mc.us%d_%d.%d-%s=example.net@%s" % (g.r.randint(1, 21), g.r.randint(1000000, 99999999), g.r.randint(100000, 999999), to.split("@")[0], host.replace("mcsv", "mcdlv"))
        extra = [("X-MC-User", g.hexs(25)), ("Feedback-ID", "%d:%d.%d:us%d:mc" % (g.r.randint(10000000, 99999999), g.r.randint(1000000, 9999999), g.r.randint(100000, 999999), g.r.randint(1, 21))),
                 ("X-Mailer", "Mailchimp Mailer - **CID%s**" % g.hexs(20)), ("List-Unsubscribe", "<https://%s.us%d.list-manage.com/unsubscribe?u=%s>" % (co.lower(), g.r.randint(1, 21), g.hexs(25)))]
        dk = [("DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; d=mcsv.net;\n s=k%d; h=Subject:From:To:Date:MIME-Version:Content-Type:Message-ID;\n bh=%s;\n b=%s" % (g.r.randint(1, 3), bh, g.b64(340)))]
    hs = [("Return-Path", "<%s>" % mailfrom),
          ("Received", "from %s (%s [%s])\n\tby mx.example.net (Postfix) with ESMTPS id %s\n\tfor <%s>; %s" % (host, host, ip, g.upper(11), to, rfc2822(when))),
          ("Authentication-Results", "mx.example.net; spf=pass smtp.mailfrom=%s; dkim=pass header.d=%s; dmarc=pass header.from=%s" % (mailfrom.split("@")[1], dom, dom)),
          ("DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=news;\n h=From:To:Subject:Date:Message-ID:MIME-Version;\n bh=%s;\n b=%s" % (dom, bh, g.b64(340)))] + dk
    hs += [("From", "%s <news@%s>" % (co, dom)), ("To", to), ("Subject", "%s monthly: %s" % (co, g.words(3).title())),
           ("Date", rfc2822(when)), ("Message-ID", "<%s@%s>" % (g.token(30), "email.amazonses.com" if esp == "ses" else host)),
           ("MIME-Version", "1.0")] + ch + extra
    return hs, body, ["esp=%s" % esp]


def clean_wrapped(g, when):
    """A user report wrapping a legitimate newsletter (the wrapper itself is not evidence)."""
    hs, body, attrs = esp_newsletter(g, when)
    inner = serialize(hs, body, False)
    subj = [v for n, v in hs if n == "Subject"][0]
    return inner, subj, attrs


def zip_export(g, when, campaign):
    """A quarantine export as a zip of .eml files (fixed timestamps: byte-reproducible)."""
    import io
    import zipfile
    members, kinds = [], []
    n = g.r.randint(1, 3)
    lead = g.r.randint(0, n - 1)
    for k in range(n):
        if campaign and k == lead:
            view = g.choice(["consumer", "thirdparty"])
            hs, body, crlf, attrs, m = campaign_message(g, view, "onlist" if g.chance(0.5) else "offlist", g.chance(0.6), when)
            members.append(serialize(hs, body, crlf))
            kinds.append("campaign-%s-%s" % (view, [a for a in attrs if a.startswith("strip=")][0][6:]))
        else:
            pick = g.r.randint(0, 2)
            if pick == 0:
                hs, body, _a = esp_newsletter(g, when)
                kinds.append("esp")
            elif pick == 1:
                hs, body, _a = cloud_legit(g, when, verdict=True)
                kinds.append("cloud")
            else:
                hs, body, _a = spam_nonms(g, when, "a")
                kinds.append("spam")
            members.append(serialize(hs, body, g.chance(0.5)))
    buf = io.BytesIO()
    stamp = (when.year, when.month, when.day, when.hour, when.minute, when.second - when.second % 2)
    # stored, not deflated: byte-identical output whatever the zlib version
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        for k, data in enumerate(members):
            zi = zipfile.ZipInfo("quarantine/%s.eml" % g.guid(), date_time=stamp)
            zi.compress_type = zipfile.ZIP_STORED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data)
    views = [k.split("-")[1] for k in kinds if k.startswith("campaign-")]
    return buf.getvalue(), ["members=%d" % n, "kinds=%s" % "+".join(kinds)], (views[0] if views else "none")


# ---------------------------------------------------------------------------------------
# Driver

def when_for(g, i):
    # mostly the 2022 waves, some later (the technique outlived them; real samples run to 2025)
    if g.chance(0.7):
        return BASE + dt.timedelta(days=g.r.randint(0, 120), seconds=g.r.randint(0, 86399))
    return BASE + dt.timedelta(days=g.r.randint(120, 1280), seconds=g.r.randint(0, 86399))


def generate(seed, root, lookalikes_dir, scale):
    rng = random.Random(seed)
    gen_dir = os.path.join(root, "generated")
    sample_dir = os.path.join(root, "samples")
    for d in (gen_dir, sample_dir):
        if os.path.isdir(d):
            shutil.rmtree(d)
        os.makedirs(d)
    rows = []
    written = {}
    for fam, label, view, split, count in FAMILIES:
        n = max(1, int(round(count * scale)))
        os.makedirs(os.path.join(gen_dir, fam))
        # a per-family stream: adding a family does not change the others
        fseed = int.from_bytes(hashlib.sha256(("%d/%s" % (seed, fam)).encode()).digest()[:8], "big")
        g = G(random.Random(fseed))
        for i in range(n):
            when = when_for(g, i)
            attrs = []
            if label == "campaign" and not fam.startswith("wrapped"):
                v, ip_mode, strip_kind = fam.split("-")
                hs, body, crlf, attrs, _m = campaign_message(g, v, ip_mode, strip_kind == "full", when)
                data = serialize(hs, body, crlf)
            elif fam in ("wrapped-zip", "lookalike-zip-clean"):
                data, attrs, zview = zip_export(g, when, campaign=(fam == "wrapped-zip"))
            elif fam.startswith("wrapped"):
                ip_mode = "onlist" if g.chance(0.6) else "offlist"
                full = g.chance(0.6)
                hs, body, crlf, attrs, m = campaign_message(g, view, ip_mode, full, when)
                inner = serialize(hs, body, False)
                kind = {"wrapped-report": "report", "wrapped-report-tp": "report", "wrapped-quarantine": "quarantine", "wrapped-arf": "arf"}[fam]
                data = wrap(g, kind, inner, m.subject, when, crlf)
                attrs = ["wrapper=%s" % kind, "iplist=%s" % ip_mode, "full=%d" % full] + attrs
            elif label == "related":
                hs, body, crlf, attrs = related_message(g, view, when)
                data = serialize(hs, body, crlf)
            elif fam in ("lookalike-hybrid", "lookalike-hybrid-consumer", "lookalike-hybrid-neighbor", "lookalike-dkim-h-messagedata"):
                ip = g.neighbor_ip() if fam == "lookalike-hybrid-neighbor" else None
                hs, body, attrs = hybrid_legit(g, when, view=view, ip=ip, dkim_h_messagedata=(fam == "lookalike-dkim-h-messagedata"))
                data = serialize(hs, body, g.chance(0.3))
            elif fam in ("lookalike-cloud", "lookalike-cloud-noverdict"):
                hs, body, attrs = cloud_legit(g, when, verdict=(fam == "lookalike-cloud"))
                data = serialize(hs, body, g.chance(0.3))
            elif fam in ("lookalike-spam-nonms", "lookalike-spam-nonms-b"):
                hs, body, attrs = spam_nonms(g, when, "b" if fam.endswith("-b") else "a")
                data = serialize(hs, body, g.chance(0.3))
            elif fam == "lookalike-esp-newsletter":
                hs, body, attrs = esp_newsletter(g, when)
                data = serialize(hs, body, g.chance(0.3))
            elif fam == "lookalike-wrapped-clean":
                inner, subj, attrs = clean_wrapped(g, when)
                data = wrap(g, g.choice(["report", "quarantine"]), inner, subj, when, g.chance(0.3))
            else:
                raise SystemExit("unknown family " + fam)
            rel = "generated/%s/%04d.%s" % (fam, i + 1, "zip" if "zip" in fam else "eml")
            with open(os.path.join(root, rel), "wb") as f:
                f.write(data)
            written[rel] = data
            rows.append([rel, label, zview if "zip" in fam else view, fam, split, ";".join(attrs)])
    # demo samples: fixed picks, copied byte for byte
    picks = [("consumer-onlist-full", 1, "campaign-consumer-1.eml"), ("consumer-offlist-partial", 5, "campaign-consumer-2.eml"),
             ("thirdparty-onlist-full", 1, "campaign-thirdparty-1.eml"), ("thirdparty-offlist-partial", 3, "campaign-thirdparty-2.eml"),
             ("wrapped-report", 2, "campaign-wrapped-report.eml"), ("related-consumer-intact", 1, "related-relay-intact.eml"),
             ("lookalike-hybrid", 1, "clean-hybrid-relay.eml"), ("lookalike-cloud-noverdict", 1, "clean-cloud-mailbox.eml"),
             ("lookalike-spam-nonms", 1, "clean-ordinary-spam.eml")]
    famrow = {r[0]: r for r in rows}
    for fam, idx, name in picks:
        src = "generated/%s/%04d.eml" % (fam, idx)
        if src not in written:
            continue
        dst = "samples/" + name
        with open(os.path.join(root, dst), "wb") as f:
            f.write(written[src])
        r = famrow[src]
        rows.append([dst, r[1], r[2], r[3], "sample", "copy-of=" + src])
    # hand-written look-alikes
    if lookalikes_dir and os.path.isfile(os.path.join(lookalikes_dir, "index.tsv")):
        with open(os.path.join(lookalikes_dir, "index.tsv"), encoding="utf-8") as f:
            lines = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
        hdr = lines[0].split("\t")
        for l in lines[1:]:
            d = dict(zip(hdr, l.split("\t")))
            rows.append(["lookalikes/" + d["file"], d["label"], d["view"], d["family"], d["split"], d.get("notes", "")])
    with open(os.path.join(root, "labels.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("# hdrscan corpus labels, written by tools/gen_corpus.py --seed %d; see tools/README-corpus.md\n" % seed)
        f.write("\t".join(LABEL_HEADER) + "\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    return rows


# ---------------------------------------------------------------------------------------
# Wave corpora (--waves DIR): several known waves for `hdrscan waves` (issue 20)

# name, lure, layout, tenants, IPs ("on": the published connector IPs, "off": invented),
# start (days after BASE), duration (days), messages. Waves overlap in time; w4 re-uses w1's
# lure and layout through other tenants and IPs ten days later (the same kit, another wave);
# w5 shares w1's layout and time but not its lure or infrastructure.
# WAVE_KITS: how a wave's kit personalises its URLs and subject (lure_html): a static
# unsubscribe page (the same URL in every message of the wave: an IDS-worthy URL), the
# recipient's address in the unsubscribe link (percent-encoded) or tracking pixel (base64),
# the address in the subject; scans must keep every recipient address out of the exports.
WAVE_KITS = {
    "w1": {"unsub": True, "rtoken": "pct"},
    "w2": {"rtoken": "b64", "subject_recip": True},
    "w3": {"unsub": True},
    "w4": {"rtoken": "pct"},
    "w6": {"unsub": True, "rtoken": "b64", "subject_recip": True},
}
WAVES = [
    ("w1", "giftcard", "table", 2, ("on", 3), 0.0, 2.0, 30),
    ("w2", "survey", "div", 1, ("off", 2), 1.0, 2.5, 25),
    ("w3", "appliance", "center", 3, ("off", 2), 1.5, 2.0, 20),
    ("w4", "giftcard", "table", 2, ("off", 3), 12.0, 1.5, 20),
    ("w5", "phone", "table", 1, ("off", 1), 0.5, 1.0, 15),
    ("w6", "survey", "center", 2, ("on", 2), 20.0, 3.0, 25),
]


def generate_waves(seed, out):
    """Write OUT/<wave>/NNNN.eml for the WAVES above, OUT/single/ (campaign messages each
    through its own tenant and IP: in no wave), OUT/lookalike/ (clean look-alikes) and
    OUT/waves.tsv (path, wave; "-" for a message in no wave)."""
    rng = random.Random(seed)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    rows = []
    onlist = list(CONNECTOR_IPS)
    rng.shuffle(onlist)
    for name, lure, layout, ntenants, (iptype, nips), start, span, count in WAVES:
        fseed = int.from_bytes(hashlib.sha256(("%d/wave/%s" % (seed, name)).encode()).digest()[:8], "big")
        g = G(random.Random(fseed))
        if iptype == "on":
            ips, onlist = onlist[:nips], onlist[nips:]
        else:
            ips = [g.offlist_ip() for _ in range(nips)]
        wave = {"tenants": [(g.tenant_name(), g.guid()) for _ in range(ntenants)], "ips": ips,
                "brand": g.choice(LURES[lure]["brands"]), "layout": layout,
                "from_doms": [g.lure_domain() for _ in range(2)]}
        kit = WAVE_KITS.get(name, {})
        if kit.get("unsub"):
            wave["unsub"] = "https://%s.%s/unsubscribe/%s" % (g.letters(g.r.randint(6, 10)), g.choice(TLDS), g.token(10))
        wave["rtoken"] = kit.get("rtoken")
        wave["subject_recip"] = kit.get("subject_recip", False)
        os.makedirs(os.path.join(out, name))
        for i in range(count):
            when = BASE + dt.timedelta(days=start + g.r.random() * span)
            view = g.choice(["consumer", "thirdparty"])
            hs, body, crlf, _attrs, _m = campaign_message(g, view, "offlist", g.chance(0.6), when, lure=lure, wave=wave)
            rel = "%s/%04d.eml" % (name, i + 1)
            with open(os.path.join(out, rel), "wb") as f:
                f.write(serialize(hs, body, crlf))
            rows.append((rel, name))
    g = G(random.Random(seed + 1))
    os.makedirs(os.path.join(out, "single"))
    os.makedirs(os.path.join(out, "lookalike"))
    for i in range(15):
        when = BASE + dt.timedelta(days=g.r.random() * 24)
        hs, body, crlf, _attrs, _m = campaign_message(g, g.choice(["consumer", "thirdparty"]), "offlist", True, when)
        rel = "single/%04d.eml" % (i + 1)
        with open(os.path.join(out, rel), "wb") as f:
            f.write(serialize(hs, body, crlf))
        rows.append((rel, "-"))
    for i in range(30):
        when = BASE + dt.timedelta(days=g.r.random() * 24)
        kind = i % 3
        if kind == 0:
            hs, body, _a = spam_nonms(g, when, "a")
        elif kind == 1:
            hs, body, _a = hybrid_legit(g, when)
        else:
            hs, body, _a = cloud_legit(g, when)
        rel = "lookalike/%04d.eml" % (i + 1)
        with open(os.path.join(out, rel), "wb") as f:
            f.write(serialize(hs, body, g.chance(0.3)))
        rows.append((rel, "-"))
    with open(os.path.join(out, "waves.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("# written by tools/gen_corpus.py --waves --seed %d\npath\twave\n" % seed)
        for r in rows:
            f.write("%s\t%s\n" % r)
    return rows


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=2022)
    ap.add_argument("--root", default=os.path.join(repo, "corpus"), help="corpus root to write generated/, samples/, labels.tsv into")
    ap.add_argument("--lookalikes", default=os.path.join(repo, "corpus", "lookalikes"),
                    help="directory holding the hand-written look-alikes and their index.tsv")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every family's count (default 1.0)")
    ap.add_argument("--waves", metavar="DIR", help="write a corpus of known campaign waves to DIR instead "
                    "(DIR/waves.tsv labels it; tools/waves-eval reads it)")
    a = ap.parse_args()
    if a.waves:
        rows = generate_waves(a.seed, a.waves)
        sys.stderr.write("wrote %d files under %s\n" % (len(rows), a.waves))
        return
    rows = generate(a.seed, a.root, a.lookalikes, a.scale)
    counts = {}
    for r in rows:
        counts[r[1]] = counts.get(r[1], 0) + 1
    sys.stderr.write("wrote %d labelled files under %s (%s)\n" % (len(rows), a.root, ", ".join("%s=%d" % kv for kv in sorted(counts.items()))))


if __name__ == "__main__":
    main()
