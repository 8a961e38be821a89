// What the detectors trust, and when (issue 14): margins of a legitimate relay that lost one
// artefact, Exchange Online's own time against the pack's expectations and IP windows, the
// campaign-IP path through the gate, receivers that look like Exchange Online (on-premises
// Exchange, a smart host behind an outbound connector), sender-written look-alike headers,
// mail that went out to a gateway and back, mail back in its own tenant. The messages are
// built from the header lines of a real hybrid relay (the Siemens template behind
// ../shared/docs/examples/thirdparty-view.eml); each case changes one fact.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "heuristics/heuristics.hpp"
#include "heuristics/signals.hpp"
#include "mime/message.hpp"

using namespace hdrscan;

namespace {

const heuristics::Analyzer& analyzer() {
  static heuristics::Analyzer a(std::make_shared<heuristics::IndicatorPack>(heuristics::IndicatorPack::builtin()));
  return a;
}

bool fired(const heuristics::Assessment& a, std::string_view signal) {
  for (const auto& e : a.evidence)
    if (e.signal == signal) return true;
  return false;
}

// An RSA-length signature of one repeated character. The built sets name synselector9901, a
// selector the pack has no arc-seal-key for (no key verifies a made-up signature): the
// unkeyed check is tested here; heuristics_arcseal_test.cpp tests Microsoft's keys on real
// sealed mail.
std::string sig(char c) { return std::string(342, c) + "=="; }

struct Shape {
  std::string ip = "194.138.21.72";            // who connected to the tenant
  std::string day = "Fri, 3 Dec 2021";         // Exchange Online's hops
  std::string receiver = "mx.example.net";     // the host that took it from Exchange Online
  std::string receiver_with = "ESMTP";
  bool arc = true, verdict = true, msantispam = true;
  std::string arc_b = sig('A');                // the ARC-Seal's signature
  std::string verdict_dir = "OUT";
  std::string verdict_cip = "";                // "" = the connecting IP
  std::string receiver_tenant = "";            // X-MS-Exchange-CrossTenant-Id on the receiving side
  bool earlier_pass = false;                   // out to a gateway and back before the connector
};

std::string build(const Shape& s) {
  const std::string tenant = "38ae3bcd-9579-4fd4-adda-b42e1495d55a";
  std::string m;
  if (!s.receiver_tenant.empty()) m += "X-MS-Exchange-CrossTenant-Id: " + s.receiver_tenant + "\r\n";
  m += "Received: from mail-eopbgr70077.outbound.protection.outlook.com ([40.107.7.77]) by " + s.receiver +
       " with " + s.receiver_with + " id S1382892AbhLCTja; " + s.day + " 14:39:30 -0500\r\n";
  std::string arc =
      "ARC-Seal: i=1; a=rsa-sha256; s=synselector9901; d=microsoft.com; cv=none; b=" + s.arc_b + "\r\n"
      "ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=microsoft.com;\r\n"
      " s=synselector9901; h=From:Date:Subject:Message-ID; bh=xxxx; b=" + sig('B') + "\r\n"
      "ARC-Authentication-Results: i=1; mx.microsoft.com 1; spf=pass (sender ip is " + s.ip + ")\r\n"
      " smtp.mailfrom=example.com; dmarc=pass action=none header.from=example.com; arc=none\r\n";
  if (s.arc && !s.earlier_pass) m += arc;
  m += "Received: from DB7PR03CA0090.eurprd03.prod.outlook.com (2603:10a6:10:72::31)\r\n"
       " by AS8PR10MB4725.EURPRD10.PROD.OUTLOOK.COM (2603:10a6:20b:337::21) with\r\n"
       " Microsoft SMTP Server id 15.20.4734.23; " + s.day + " 19:35:58 +0000\r\n"
       "Received: from DB5EUR01FT033.eop-EUR01.prod.protection.outlook.com\r\n"
       " (2603:10a6:10:72:cafe::47) by DB7PR03CA0090.outlook.office365.com\r\n"
       " (2603:10a6:10:72::31) with Microsoft SMTP Server id 15.20.4734.23 via Frontend\r\n"
       " Transport; " + s.day + " 19:35:57 +0000\r\n"
       "Received: from post.example.org (" + s.ip + ") by\r\n"
       " DB5EUR01FT033.mail.protection.outlook.com (10.152.4.248) with Microsoft SMTP\r\n"
       " Server id 15.20.4755.13 via Frontend Transport; " + s.day + " 19:35:57 +0000\r\n";
  if (s.earlier_pass) {
    // The first pass: the user's mailbox server inside Exchange Online, then out to the
    // gateway (which adds no Received line of its own), sealed on the way out.
    if (s.arc) m += arc;
    m += "Received: from AM0PR10MB3345.EURPRD10.PROD.OUTLOOK.COM (2603:10a6:20b:1::1) by\r\n"
         " AM0PR10MB3346.EURPRD10.PROD.OUTLOOK.COM with Microsoft SMTP Server id 15.20.4734.23;\r\n"
         " " + s.day + " 19:35:50 +0000\r\n";
  }
  m += "Date: " + s.day + " 20:35:54 +0100\r\n"
       "From: Someone <someone@example.com>\r\nTo: <list@example.net>\r\nSubject: Re: quarterly numbers\r\n"
       "Message-ID: <1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n";
  if (s.msantispam) m += "X-Microsoft-Antispam: BCL:0;\r\n";
  if (s.verdict)
    m += "X-Forefront-Antispam-Report: CIP:" + (s.verdict_cip.empty() ? s.ip : s.verdict_cip) +
         ";CTRY:DE;LANG:en;SCL:1;SRV:;IPV:CAL;SFV:NSPM;H:post.example.org;CAT:NONE;DIR:" + s.verdict_dir + ";\r\n";
  m += "X-OriginatorOrg: example.com\r\n"
       "X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp: TenantId=" + tenant + ";Ip=[" + s.ip +
       "];Helo=[post.example.org]\r\n"
       "X-MS-Exchange-CrossTenant-AuthAs: Anonymous\r\nX-MS-Exchange-CrossTenant-FromEntityHeader: HybridOnPrem\r\n"
       "\r\nHello, the numbers are attached.\r\n";
  return m;
}

heuristics::Assessment assess(const Shape& s) { return analyzer().assess(mime::parse_message(build(s))); }

constexpr int kMargin = 15;  // issue 14: no legitimate message within 15 points of `campaign`

}  // namespace

TEST_CASE("the intact legitimate relay is clean, and its score breakdown adds up") {
  auto a = assess(Shape{});
  CHECK(a.verdict == heuristics::Verdict::clean);
  CHECK(a.gate.relay);
  CHECK_FALSE(a.gate.open());
  int sum = 0;
  for (const auto& f : a.breakdown) {
    CHECK(f.points == std::min(f.raw, f.cap));
    sum += f.points;
  }
  CHECK(sum == a.score);
  REQUIRE(a.exo_time);
  CHECK(a.exo_time_source.rfind("Received[", 0) == 0);  // the tenant's own hop, not Date:
}

TEST_CASE("margins: a legitimate relay that lost ONE artefact stays 15 points below campaign, gate closed") {
  Shape no_arc;
  no_arc.arc = false;
  Shape no_verdict;
  no_verdict.verdict = false;
  Shape no_ms;
  no_ms.msantispam = false;
  for (const Shape& s : {no_arc, no_verdict, no_ms}) {
    auto a = assess(s);
    CAPTURE(a.score);
    CHECK(a.verdict != heuristics::Verdict::campaign);
    CHECK_FALSE(a.gate.open());
    CHECK(a.score <= analyzer().thresholds().campaign - kMargin);
  }
  // ...and the missing ARC set plus the receiver's chain restarting at i=1 is one fact.
  CHECK(heuristics::find_signal("strip.arc_chain_restart")->weight == 0);
}

TEST_CASE("two of the tenant's artefacts gone on a connector relay: the transport rules' trace, campaign") {
  // No legitimate message measured lacks both (campaign.md section 2; dev_field_m365,
  // dev_m365_legit): relay (capped) + stripping (capped) reach the threshold on their own.
  Shape s;
  s.arc = false;
  s.verdict = false;
  auto a = assess(s);
  CHECK(fired(a, "strip.two_artefacts_missing"));
  CHECK(a.gate.both);
  CHECK(a.gate.open());
  CHECK(a.score == heuristics::family_cap(heuristics::Family::relay) + heuristics::family_cap(heuristics::Family::stripping));
  CHECK(a.verdict == heuristics::Verdict::campaign);
  // Without the relay, the same absence is legitimate cloud mail's shape: capped low.
  CHECK(heuristics::stripping_cap_without_relay() < analyzer().thresholds().suspicious);
}

TEST_CASE("time: before Exchange Online sealed outbound ARC, a missing set is not judged") {
  Shape s;
  s.arc = false;
  s.day = "Mon, 6 May 2019";
  auto a = assess(s);
  CHECK_FALSE(fired(a, "strip.tenant_arc_missing"));
  bool explained = false;
  for (const auto& c : a.checks)
    if (c.signal == "strip.tenant_arc_missing") explained = c.why.find("2019-05-06") != std::string::npos;
  CHECK(explained);
  // The sender's Date: is not the time used: a forged 2019 Date: on 2021 mail changes nothing.
  std::string m = build(Shape{.arc = false});
  auto pos = m.find("Date: Fri, 3 Dec 2021");
  REQUIRE(pos != std::string::npos);
  m.replace(pos, 21, "Date: Mon, 6 May 2019");
  auto b = analyzer().assess(mime::parse_message(m));
  CHECK(fired(b, "strip.tenant_arc_missing"));
  // Nor a 2019 arrival stamp the sender wrote among its own headers (issue 14 item 6): it is
  // more than a day from the tenant's own hops, so it is not Exchange's.
  std::string forged = build(Shape{.arc = false});
  forged.insert(forged.find("Date: "), "X-MS-Exchange-CrossTenant-OriginalArrivalTime: 06 May 2019 19:35:57.1234\r\n (UTC)\r\n");
  auto c = analyzer().assess(mime::parse_message(forged));
  CHECK(fired(c, "strip.tenant_arc_missing"));
  REQUIRE(c.exo_time);
  CHECK(c.exo_time_source.rfind("Received[", 0) == 0);
  bool recorded = false;
  for (const auto& u : c.untrusted_copies) recorded = recorded || u.find("OriginalArrivalTime") != std::string::npos;
  CHECK(recorded);
  // Exchange's own stamp, consistent with its hops, is the time used.
  std::string own = build(Shape{.arc = false});
  own.insert(own.find("\r\n\r\n") + 2, "X-MS-Exchange-CrossTenant-OriginalArrivalTime: 03 Dec 2021 19:35:57.1234\r\n (UTC)\r\n");
  auto d = analyzer().assess(mime::parse_message(own));
  CHECK(d.exo_time_source.find("OriginalArrivalTime") != std::string::npos);
}

TEST_CASE("the IOC path: a campaign connector IP connecting inside the window, one artefact gone: campaign gate") {
  Shape s;
  s.ip = "54.39.94.145";
  s.verdict = false;  // the rules removed only part of the headers
  auto a = assess(s);
  CHECK(fired(a, "relay.known_connector_ip"));
  CHECK(a.gate.ioc);
  CHECK(a.gate.open());
  CHECK(a.score >= analyzer().thresholds().campaign);
  CHECK(a.verdict == heuristics::Verdict::campaign);
  // Outside the window (2025: the address may have been reassigned) it is weak evidence.
  s.day = "Mon, 3 Mar 2025";
  auto late = assess(s);
  CHECK_FALSE(fired(late, "relay.known_connector_ip"));
  CHECK(fired(late, "relay.known_connector_ip_unconfirmed"));
  CHECK_FALSE(late.gate.open());
  CHECK(late.verdict != heuristics::Verdict::campaign);
  // Nothing stripped at all: the IP alone is not campaign.
  Shape intact;
  intact.ip = "54.39.94.145";
  CHECK(assess(intact).verdict != heuristics::Verdict::campaign);
}

TEST_CASE("on-premises Exchange as the receiver is not the consumer view") {
  Shape s;
  s.receiver = "mail.company.example";
  s.receiver_with = "Microsoft SMTP Server (version=TLS1_2) id 15.1.2507.6";
  auto a = assess(s);
  CHECK(a.route.find("consumer view") == std::string::npos);
  CHECK_FALSE(fired(a, "strip.tenant_verdict_missing"));
  CHECK_FALSE(fired(a, "strip.tenant_msantispam_missing"));
  CHECK(a.verdict == heuristics::Verdict::clean);
}

TEST_CASE("a smart host behind an outbound connector gets no ARC set: not judged missing") {
  Shape s;
  s.arc = false;
  s.receiver = "eu-smtp-inbound-1.relay.mimecast.com";
  auto a = assess(s);
  CHECK_FALSE(fired(a, "strip.tenant_arc_missing"));
  CHECK(a.verdict == heuristics::Verdict::clean);
  // A part missing is still a removal, whoever received it.
  Shape partial = s;
  partial.arc = true;
  auto full = build(partial);
  auto at = full.find("ARC-Message-Signature:");
  full.erase(at, full.find("ARC-Authentication-Results:") - at);
  CHECK(fired(analyzer().assess(mime::parse_message(full)), "strip.partial_set"));
}

TEST_CASE("sender-written look-alikes are not the tenant's: placeholder ARC, inbound verdict, foreign CIP") {
  Shape placeholder;
  placeholder.arc_b = "AAAA";
  auto a = assess(placeholder);
  CHECK(fired(a, "strip.partial_set"));  // the seal is not a seal; the other two parts remain
  bool recorded = false;
  for (const auto& u : a.untrusted_copies) recorded = recorded || u.find("ARC-Seal") != std::string::npos;
  CHECK(recorded);

  Shape inbound;
  inbound.verdict_dir = "INB";
  auto b = assess(inbound);
  CHECK(fired(b, "strip.tenant_verdict_missing"));
  REQUIRE_FALSE(b.untrusted_copies.empty());
  CHECK(b.untrusted_copies.front().find("DIR:INB") != std::string::npos);

  Shape foreign;
  foreign.verdict_cip = "198.51.100.99";
  auto c = assess(foreign);
  CHECK(fired(c, "strip.tenant_verdict_missing"));
  // Exchange Online's internal submission address is the tenant's own writing.
  Shape internal;
  internal.verdict_cip = "255.255.255.255";
  CHECK_FALSE(fired(assess(internal), "strip.tenant_verdict_missing"));
}

TEST_CASE("out to a gateway and back: the first pass's ARC set counts") {
  Shape s;
  s.earlier_pass = true;
  auto a = assess(s);
  CHECK_FALSE(fired(a, "strip.tenant_arc_missing"));
  CHECK(a.verdict == heuristics::Verdict::clean);
  // Without the earlier pass, an ARC set below the tenant's entry is the origin's word.
  std::string m = build(Shape{.arc = false});
  const std::string origin_hop = "ARC-Seal: i=1; a=rsa-sha256; d=microsoft.com; s=synselector9901; cv=none; b=" +
                                 sig('C') + "\r\nReceived: from old.example.org (198.51.100.50) by post.example.org "
                                 "with ESMTP;\r\n Fri, 3 Dec 2021 19:30:00 +0000\r\n";
  m.insert(m.find("Date: "), origin_hop);
  CHECK(fired(analyzer().assess(mime::parse_message(m)), "strip.tenant_arc_missing"));
}

TEST_CASE("mail back in its own tenant: stripping not judged") {
  Shape s;
  s.arc = false;
  s.verdict = false;
  s.receiver = "DB5EUR03FT005.mail.protection.outlook.com";  // Exchange Online receives it again
  s.receiver_with = "Microsoft SMTP Server id 15.20.4020.17 via Frontend Transport";
  s.receiver_tenant = "38ae3bcd-9579-4fd4-adda-b42e1495d55a";
  auto a = assess(s);
  CHECK_FALSE(fired(a, "strip.tenant_arc_missing"));
  CHECK_FALSE(fired(a, "strip.two_artefacts_missing"));
  CHECK(a.verdict == heuristics::Verdict::clean);
  // Another tenant receiving it (outlook.com's id) is the consumer view, judged as usual.
  s.receiver_tenant = "84df9e7f-e9f6-40af-b435-aaaaaaaaaaaa";
  CHECK(fired(assess(s), "strip.two_artefacts_missing"));
  // The sender writes its own tenant id among its headers (issue 14 item 6). The receiver
  // stamps its own copy at the end of the header block (as outlook.com does in
  // ../shared/corpus/dev_relays), so the sender's copy is the topmost: the receiver's
  // different id keeps it from passing for a loop.
  Shape outside = s;
  outside.receiver_tenant.clear();
  std::string forged = build(outside);
  forged.insert(forged.find("Date: "), "X-MS-Exchange-CrossTenant-Id: 38ae3bcd-9579-4fd4-adda-b42e1495d55a\r\n");
  forged.insert(forged.find("\r\n\r\n") + 2, "X-MS-Exchange-CrossTenant-Id: 84df9e7f-e9f6-40af-b435-aaaaaaaaaaaa\r\n");
  CHECK(fired(analyzer().assess(mime::parse_message(forged)), "strip.two_artefacts_missing"));
  // A third-party receiver sees the sender's own id: not a loop.
  Shape third = s;
  third.receiver = "mx.example.net";
  third.receiver_with = "ESMTP";
  third.receiver_tenant = "38ae3bcd-9579-4fd4-adda-b42e1495d55a";
  CHECK(fired(assess(third), "strip.two_artefacts_missing"));
}

TEST_CASE("indicator pack: windows, tenant header names, expectations and egress hosts parse; errors name the line") {
  auto p = heuristics::IndicatorPack::builtin();
  for (const auto& c : p.connector_ips) CHECK(c.window);
  CHECK(p.tenant_header_names(heuristics::TenantHeader::verdict, true).front() == "X-Forefront-Antispam-Report-Untrusted");
  // An analyst's file naming a tenant header the pack has (any case) adds no second look-up;
  // a new name is added after the pack's.
  const auto views = p.tenant_header_names(heuristics::TenantHeader::arc_set, false);
  const std::vector<std::string> arc(views.begin(), views.end());  // add_text moves the entries
  p.add_text("@format hdrscan-indicators 1\n@source analyst\ntenant-header arc-set arc-seal\n"
             "tenant-header arc-set X-Example-Seal\n", "a.ind");
  const auto arc2 = p.tenant_header_names(heuristics::TenantHeader::arc_set, false);
  REQUIRE(arc2.size() == arc.size() + 1);
  CHECK(std::equal(arc.begin(), arc.end(), arc2.begin()));
  CHECK(arc2.back() == "X-Example-Seal");
  REQUIRE(p.expectation(heuristics::TenantHeader::arc_set));
  CHECK(p.egress_without_arc_host("EU-SMTP-1.relay.mimecast.com"));
  CHECK_FALSE(p.egress_without_arc_host("notrelay.mimecast.com.evil.example"));
  heuristics::IndicatorPack q;
  CHECK_THROWS_WITH_AS(q.add_text("@format hdrscan-indicators 1\n@source t\nconnector-ip 1.2.3.4 2022-13-01..2022-12-31\n", "t.ind"),
                       doctest::Contains("t.ind:3:"), heuristics::IndicatorError);
  CHECK_THROWS_AS(q.add_text("@format hdrscan-indicators 1\n@source t\nexpect arc-set after 2020-01-01\n", "t.ind"),
                  heuristics::IndicatorError);
  q.add_text("@format hdrscan-indicators 1\n@source t\n@window 2020-01-01..2020-01-31\nconnector-ip 192.0.2.0/24\n"
             "connector-ip 198.51.100.1 2021-01-01..2021-01-02\n", "t.ind");
  REQUIRE(q.connector_ips.size() == 2);
  CHECK(q.connector_ips[0].window->text == "2020-01-01..2020-01-31");
  CHECK(q.connector_ips[1].window->text == "2021-01-01..2021-01-02");
}

TEST_CASE("Enhanced Filtering headers stamped by the receiving tenant do not make a relay campaign") {
  // A receiving tenant with Enhanced Filtering for Connectors stamps these on what it
  // receives (Microsoft Learn, "Enhanced Filtering for Connectors"); they say where the
  // RECEIVER's mail came from. With the sender's artefacts intact they change nothing that
  // matters; with one artefact gone the gate stays closed.
  for (bool keep_arc : {true, false}) {
    std::string m = build(Shape{.arc = keep_arc});
    m.insert(m.find("Date: "), "X-MS-Exchange-SkipListedInternetSender: ip=[203.0.113.5];domain=gw.example.net\r\n"
                               "X-MS-Exchange-ExternalOriginalInternetSender: ip=[203.0.113.5];domain=gw.example.net\r\n");
    auto a = analyzer().assess(mime::parse_message(m));
    CHECK(fired(a, "relay.enhanced_filtering"));
    CHECK_FALSE(a.gate.open());
    CHECK(a.verdict != heuristics::Verdict::campaign);
    CHECK(a.score <= analyzer().thresholds().campaign - kMargin);
  }
}

TEST_CASE("a gateway in front of the receiving tenant: Proofpoint, then Exchange Online with its own stamps") {
  // The receiving organisation's MX is a filtering service (Proofpoint: *.pphosted.com, the
  // most common receiver after Microsoft in ../shared/corpus/dev_field_m365's README) that
  // hands the mail to its Exchange Online tenant through a connector. That tenant renames the
  // sender's verdict copies -Untrusted (as outlook.com does in ../shared/corpus/dev_relays),
  // writes its own inbound verdict (DIR:INB), X-Microsoft-Antispam, and seals its own ARC set
  // at i=1 on the receiving side. None of the receiver's artefacts may stand in for the
  // sender's, and a legitimate relay stays clear of `campaign` either way.
  auto receive = [](std::string m) {
    for (const char* n : {"X-Forefront-Antispam-Report:", "X-Microsoft-Antispam:"}) {
      auto at = m.find(std::string("\r\n") + n);
      if (at != std::string::npos) m.insert(at + 2 + std::string(n).size() - 1, "-Untrusted");
    }
    std::string top =
        "Received: from BN8NAM11FT012.eop-nam11.prod.protection.outlook.com (2603:10b6:408:e6:cafe::5) by\r\n"
        " BN0PR04CA0012.outlook.office365.com (2603:10b6:408:ee::17) with Microsoft SMTP Server\r\n"
        " id 15.20.7677.21 via Frontend Transport; Fri, 3 Dec 2021 19:36:04 +0000\r\n"
        "ARC-Seal: i=1; a=rsa-sha256; s=synselector9901; d=microsoft.com; cv=none; b=" + sig('R') + "\r\n"
        "ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=microsoft.com;\r\n"
        " s=synselector9901; h=From:Date:Subject:Message-ID; bh=yyyy; b=" + sig('S') + "\r\n"
        "ARC-Authentication-Results: i=1; mx.microsoft.com 1; spf=pass (sender ip is 148.163.137.20)\r\n"
        " smtp.mailfrom=example.com; dmarc=pass action=none header.from=example.com; arc=none\r\n"
        "Received: from mx0b-00154904.pphosted.com (148.163.137.20) by\r\n"
        " BN8NAM11FT012.mail.protection.outlook.com (10.13.177.44) with Microsoft SMTP Server\r\n"
        " id 15.20.7677.21 via Frontend Transport; Fri, 3 Dec 2021 19:36:03 +0000\r\n";
    m.insert(0, top);
    m.insert(m.find("\r\n\r\n") + 2,
             "X-Forefront-Antispam-Report: CIP:148.163.137.20;CTRY:US;LANG:en;SCL:1;SRV:;IPV:NLI;SFV:NSPM;"
             "H:mx0b-00154904.pphosted.com;CAT:NONE;DIR:INB;\r\nX-Microsoft-Antispam: BCL:0;\r\n"
             "X-MS-Exchange-CrossTenant-Id: 5f2b9a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b\r\n");
    return analyzer().assess(mime::parse_message(m));
  };
  Shape at_pp;
  at_pp.receiver = "mx0b-00154904.pphosted.com";
  auto intact = receive(build(at_pp));
  CHECK(intact.verdict == heuristics::Verdict::clean);
  CHECK_FALSE(fired(intact, "strip.tenant_arc_missing"));
  CHECK_FALSE(fired(intact, "strip.tenant_verdict_missing"));
  CHECK_FALSE(fired(intact, "strip.tenant_msantispam_missing"));
  // The sender's ARC set lost on the way out (one ordinary event): the receiver's own set is
  // not taken for it, and the margin holds.
  Shape no_arc = at_pp;
  no_arc.arc = false;
  auto one = receive(build(no_arc));
  CHECK(fired(one, "strip.tenant_arc_missing"));
  CHECK_FALSE(one.gate.open());
  CHECK(one.score <= analyzer().thresholds().campaign - kMargin);
  // The campaign's removal (ARC set and both verdict headers): the receiver's inbound verdict
  // and X-Microsoft-Antispam do not hide it.
  Shape stripped = no_arc;
  stripped.verdict = false;
  stripped.msantispam = false;
  auto camp = receive(build(stripped));
  CHECK(fired(camp, "strip.two_artefacts_missing"));
  CHECK(camp.gate.open());
}
