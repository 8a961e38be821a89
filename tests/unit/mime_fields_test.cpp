// mime_fields_test.cpp: the structured header parsers (mime/fields/fields.hpp) on real header
// values from ../shared/corpus (dev_m365_legit, dev_relays, ham-spam) and ../shared/docs/examples,
// on malformed and hostile input, plus a sweep over every Received: header of the dev corpus.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mime/fields/fields.hpp"
#include "mime/text.hpp"
#include "tests/support/test_support.hpp"

using namespace hdrscan::mime;

namespace {

std::string ip_text(const std::optional<IpAddress>& ip) { return ip ? ip->to_string() : "<none>"; }

// Minimal header-block reader for the sweep: the block ends at the first empty line, folded
// lines are joined with one space; an mbox "From " first line is skipped.
std::vector<std::pair<std::string, std::string>> read_header_block(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<std::pair<std::string, std::string>> fields;
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (first && line.rfind("From ", 0) == 0) {
      first = false;
      continue;
    }
    first = false;
    if (line.empty()) break;
    if ((line[0] == ' ' || line[0] == '\t') && !fields.empty()) {
      fields.back().second += ' ';
      fields.back().second += line;
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    fields.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return fields;
}

// Runs of whitespace (folding) become one space, so a phrase split across lines is found.
std::string collapse_spaces(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (!space)
      out += c;
    else if (!out.empty() && out.back() != ' ')
      out += ' ';
  }
  return out;
}

using hdrscan::mime::text::iequals;

}  // namespace

// ---- Received -----------------------------------------------------------------------------

TEST_CASE("Received: Microsoft internal hop with IPv6 literals and folded date") {
  // ../shared/docs/examples/thirdparty-view.eml, unfolded as a header reader would.
  auto h = parse_received(
      "from DB7PR03CA0090.eurprd03.prod.outlook.com (2603:10a6:10:72::31)\r\n"
      " by AS8PR10MB4725.EURPRD10.PROD.OUTLOOK.COM (2603:10a6:20b:337::21) with\r\n"
      " Microsoft SMTP Server (version=TLS1_2,\r\n"
      " cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.4734.23; Fri, 3 Dec\r\n"
      " 2021 19:35:58 +0000");
  REQUIRE(h.ok);
  CHECK(h.from_host == "DB7PR03CA0090.eurprd03.prod.outlook.com");
  CHECK(ip_text(h.from_ip) == "2603:10a6:10:72::31");
  CHECK(h.by_host == "AS8PR10MB4725.EURPRD10.PROD.OUTLOOK.COM");
  CHECK(ip_text(h.by_ip) == "2603:10a6:20b:337::21");
  CHECK(h.with == "Microsoft SMTP Server");
  CHECK(h.id == "15.20.4734.23");
  CHECK(h.via.empty());
  CHECK(h.microsoft_smtp_server);
  CHECK_FALSE(h.frontend_transport);
  REQUIRE(h.time);
  CHECK(*h.time == 1638560158);
}

TEST_CASE("Received: Microsoft frontend hop from the connecting server") {
  auto h = parse_received(
      "from post.metalab.net (54.39.94.145) by DB5EUR01FT033.mail.protection.outlook.com "
      "(10.152.4.248) with Microsoft SMTP Server (version=TLS1_2, "
      "cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) id 15.20.4755.13 via Frontend Transport; "
      "Fri, 3 Dec 2021 19:35:57 +0000");
  REQUIRE(h.ok);
  CHECK(h.from_host == "post.metalab.net");
  CHECK(ip_text(h.from_ip) == "54.39.94.145");
  CHECK(h.from_rdns.empty());
  CHECK(h.by_host == "DB5EUR01FT033.mail.protection.outlook.com");
  CHECK(ip_text(h.by_ip) == "10.152.4.248");
  CHECK(h.id == "15.20.4755.13");
  CHECK(h.via == "Frontend Transport");
  CHECK(h.microsoft_smtp_server);
  CHECK(h.frontend_transport);
  CHECK(h.date_text == "Fri, 3 Dec 2021 19:35:57 +0000");
  CHECK(h.time == 1638560157);
}

TEST_CASE("Received: Microsoft shapes from dev_relays: (::1) with HTTPS, empty from name") {
  // dev_relays/sample-6981.eml
  auto h = parse_received(
      "from SJ0PR10MB5582.namprd10.prod.outlook.com (::1) by\n"
      " SJ0PR10MB5743.namprd10.prod.outlook.com with HTTPS; Thu, 5 Feb 2026 22:54:52\n +0000");
  REQUIRE(h.ok);
  CHECK(ip_text(h.from_ip) == "::1");
  CHECK(h.from_ip->is_private());
  CHECK(h.by_host == "SJ0PR10MB5743.namprd10.prod.outlook.com");
  CHECK_FALSE(h.by_ip);
  CHECK(h.with == "HTTPS");
  CHECK_FALSE(h.microsoft_smtp_server);
  CHECK(h.time == 1770332092);

  auto anon = parse_received(
      "from (2603:10b6:208:3a::13) by MN2PR21MB1215.namprd21.prod.outlook.com "
      "(2603:10b6:208:3a::15) with Microsoft SMTP Server (version=TLS1_2, "
      "cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.4778.2; Mon, 6 Dec 2021 "
      "10:01:02 +0000");
  REQUIRE(anon.ok);
  CHECK(anon.from_host.empty());
  CHECK(ip_text(anon.from_ip) == "2603:10b6:208:3a::13");
  CHECK(anon.microsoft_smtp_server);

  // Outlook mapi hop with link-local addresses carrying a zone id.
  auto mapi = parse_received(
      "from SN6PR02MB4157.namprd02.prod.outlook.com ([fe80::cedd:1e64:8f61:b9df]) by "
      "SN6PR02MB4157.namprd02.prod.outlook.com ([fe80::cedd:1e64:8f61:b9df%4]) with mapi id "
      "15.20.7228.022; Wed, 31 Jan 2024 17:14:05 +0000");
  REQUIRE(mapi.ok);
  CHECK(ip_text(mapi.from_ip) == "fe80::cedd:1e64:8f61:b9df");
  CHECK(ip_text(mapi.by_ip) == "fe80::cedd:1e64:8f61:b9df");
  CHECK(mapi.with == "mapi");
  CHECK(mapi.id == "15.20.7228.022");
}

TEST_CASE("Received: Postfix with rDNS, TLS comments and for") {
  // dev_m365_legit/pdx86_connector_0183.eml
  auto h = parse_received(
      "from NAM02-BN1-obe.outbound.protection.outlook.com "
      "(mail-bn1nam02on2082.outbound.protection.outlook.com [40.107.212.82])\n"
      "\t(using TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits))\n"
      "\t(No client certificate requested)\n"
      "\tby smtp.subspace.kernel.org (Postfix) with ESMTPS id 8004E17C7CA;\n"
      "\tMon, 28 Oct 2024 02:02:21 +0000 (UTC)");
  REQUIRE(h.ok);
  CHECK(h.from_host == "NAM02-BN1-obe.outbound.protection.outlook.com");
  CHECK(h.from_rdns == "mail-bn1nam02on2082.outbound.protection.outlook.com");
  CHECK(ip_text(h.from_ip) == "40.107.212.82");
  CHECK(h.by_host == "smtp.subspace.kernel.org");
  CHECK(h.with == "ESMTPS");  // "with cipher" inside the comment must not count
  CHECK(h.id == "8004E17C7CA");
  CHECK(h.time == 1730080941);

  auto f = parse_received(
      "from am.mirrors.kernel.org (am.mirrors.kernel.org [147.75.80.249])\n"
      "\tby mail.lfdr.de (Postfix) with ESMTPS id 7471C9B2242\n"
      "\tfor <lists+platform-driver-x86@lfdr.de>; Mon, 28 Oct 2024 03:04:00 +0100 (CET)");
  REQUIRE(f.ok);
  CHECK(f.for_addr == "lists+platform-driver-x86@lfdr.de");
  CHECK(f.time == 1730081040);

  auto v6 = parse_received(
      "from out1.vger.email (out1.vger.email [IPv6:2620:137:e000::1:20]) by mail.lfdr.de "
      "(Postfix) with ESMTP id 2B4B0C14BA for <lists+linux-hyperv@lfdr.de>; "
      "Tue, 30 Jan 2024 18:24:07 +0100 (CET)");
  REQUIRE(v6.ok);
  CHECK(ip_text(v6.from_ip) == "2620:137:e000::1:20");
  CHECK(v6.from_rdns == "out1.vger.email");

  auto userid = parse_received(
      "by hub.freebsd.org (Postfix, from userid 538) id 1112037B401; "
      "Mon,  9 Sep 2002 21:57:43 -0700 (PDT)");
  REQUIRE(userid.ok);
  CHECK(userid.from_host.empty());
  CHECK_FALSE(userid.from_ip);
  CHECK(userid.by_host == "hub.freebsd.org");
  CHECK(userid.id == "1112037B401");
  REQUIRE(userid.time);
}

TEST_CASE("Received: vger (zmailer) with port, quoted EHLO and ';' inside a comment") {
  auto h = parse_received(
      "from mail-eopbgr70077.outbound.protection.outlook.com ([40.107.7.77]:54852\n"
      "        \"EHLO EUR04-HE1-obe.outbound.protection.outlook.com\"\n"
      "        rhost-flags-OK-OK-OK-FAIL) by vger.kernel.org with ESMTP\n"
      "        id S1382892AbhLCTja (ORCPT\n"
      "        <rfc822;platform-driver-x86@vger.kernel.org>);\n"
      "        Fri, 3 Dec 2021 14:39:30 -0500");
  REQUIRE(h.ok);
  CHECK(h.from_host == "mail-eopbgr70077.outbound.protection.outlook.com");
  CHECK(ip_text(h.from_ip) == "40.107.7.77");
  CHECK(h.from_helo == "EUR04-HE1-obe.outbound.protection.outlook.com");
  CHECK(h.by_host == "vger.kernel.org");
  CHECK(h.with == "ESMTP");
  CHECK(h.id == "S1382892AbhLCTja");
  CHECK(h.date_text == "Fri, 3 Dec 2021 14:39:30 -0500");
  CHECK(h.time == 1638560370);

  auto list = parse_received(
      "(majordomo@vger.kernel.org) by vger.kernel.org via listexpand id S1382933AbhLCTkJ "
      "(ORCPT <rfc822;linux-kernel@vger.kernel.org>); Fri, 3 Dec 2021 14:40:09 -0500");
  REQUIRE(list.ok);
  CHECK(list.by_host == "vger.kernel.org");
  CHECK(list.via == "listexpand");
  CHECK_FALSE(list.frontend_transport);
  REQUIRE(list.time);
}

TEST_CASE("Received: exim, sendmail and qmail oddities from ham-spam") {
  auto exim = parse_received(
      "from [217.36.117.194] (helo=firstloansdirect.co.uk) by\n"
      "    FUSMTA03-LRS with smtp (Exim 4.05) id 17ylQ4-000018-00; Tue,\n"
      "    08 Oct 2002 04:52:29 +0100");
  REQUIRE(exim.ok);
  CHECK(exim.from_host == "[217.36.117.194]");
  CHECK(ip_text(exim.from_ip) == "217.36.117.194");
  CHECK(exim.from_helo == "firstloansdirect.co.uk");
  CHECK(exim.by_host == "FUSMTA03-LRS");
  CHECK(exim.with == "smtp");
  CHECK(exim.id == "17ylQ4-000018-00");
  REQUIRE(exim.time);

  // The HELO was itself a private literal: the connecting address is the first bracket.
  auto exim_literal_helo = parse_received(
      "from [205.252.42.99] (helo=[192.168.1.20]) by RS01.mondialteknology.com with esmtp "
      "(Exim 4.01) id 17shcI-0004UC-00; Sat, 21 Sep 2002 12:36:02 +0200");
  REQUIRE(exim_literal_helo.ok);
  CHECK(ip_text(exim_literal_helo.from_ip) == "205.252.42.99");
  CHECK(exim_literal_helo.from_helo == "[192.168.1.20]");

  // sendmail's nested "(may be forged)" comment.
  auto sendmail = parse_received(
      "from exchange2000.dsl.gtei.net (exchange.balokannw.com\n"
      "    [66.12.180.211] (may be forged)) by lugh.tuatha.org (8.12.3/8.9.3) with\n"
      "    ESMTP id g8JGS8Ft008051 for <ilug@linux.ie>; Thu, 19 Sep 2002 17:28:09\n    +0100");
  REQUIRE(sendmail.ok);
  CHECK(sendmail.from_rdns == "exchange.balokannw.com");
  CHECK(ip_text(sendmail.from_ip) == "66.12.180.211");
  CHECK(sendmail.by_host == "lugh.tuatha.org");
  CHECK_FALSE(sendmail.by_ip);  // "(8.12.3/8.9.3)" is a version, not an address
  CHECK(sendmail.for_addr == "ilug@linux.ie");
  REQUIRE(sendmail.time);

  auto qmail = parse_received(
      "from unknown (HELO rly-xw01.mx.aol.com) (96.213.243.25) by\n"
      "    n9.groups.yahoo.com with asmtp; Aug, 28 2002 6:50:31 AM +1200");
  REQUIRE(qmail.ok);
  CHECK(qmail.from_host == "unknown");
  CHECK(qmail.from_helo == "rly-xw01.mx.aol.com");
  CHECK(ip_text(qmail.from_ip) == "96.213.243.25");
  CHECK(qmail.with == "asmtp");
  REQUIRE(qmail.time);
  CHECK(*qmail.time == *parse_rfc5322_date("28 Aug 2002 06:50:31 +1200"));

  // A version number in the by comment must not be read as the receiver's address.
  auto sparkpost = parse_received(
      "from [10.90.83.11] ([10.90.83.11:55504]) by i-08b537287fb19a22c.mta3vrest.sd.prd.sparkpost "
      "(ecelerity 4.2.38.62 r(msys-ecelerity:tags/4.2.38.62)) with REST id 21/92-12345-1; "
      "Wed, 03 Jan 2024 10:00:00 +0000");
  REQUIRE(sparkpost.ok);
  CHECK(ip_text(sparkpost.from_ip) == "10.90.83.11");
  CHECK_FALSE(sparkpost.by_ip);
  CHECK(sparkpost.with == "REST");
}

TEST_CASE("Received: no from/by is not ok, but the date still parses") {
  auto qmail = parse_received("(qmail 27055 invoked from network); 15 Mar 2022 19:57:25 -0000");
  CHECK_FALSE(qmail.ok);
  CHECK(qmail.reason == "no from or by clause");
  CHECK(qmail.time);

  auto empty = parse_received("   \r\n ");
  CHECK_FALSE(empty.ok);
  CHECK(empty.reason == "empty value");

  auto garbage = parse_received("\x01\x02;;;;((((");
  CHECK_FALSE(garbage.ok);
  CHECK_FALSE(garbage.time);
}

TEST_CASE("Received: robust to missing date, unbalanced parentheses, repeated keywords") {
  auto nodate = parse_received("from a.example (a.example [192.0.2.1]) by mx.example with SMTP");
  REQUIRE(nodate.ok);
  CHECK(nodate.date_text.empty());
  CHECK_FALSE(nodate.time);
  CHECK(ip_text(nodate.from_ip) == "192.0.2.1");

  // An unclosed comment swallows the rest; the date after the last ';' is still found.
  auto open = parse_received(
      "from a.example (a.example [192.0.2.1] by mx.example; "
      "Fri, 3 Dec 2021 19:35:57 +0000");
  REQUIRE(open.ok);
  CHECK(open.from_host == "a.example");
  CHECK(ip_text(open.from_ip) == "192.0.2.1");
  CHECK(open.by_host.empty());
  CHECK(open.time == 1638560157);

  auto stray = parse_received("from a.example) by mx.example) with ESMTP; 3 Dec 2021 19:35:57 GMT");
  REQUIRE(stray.ok);
  CHECK(stray.by_host == "mx.example");
  CHECK(stray.time == 1638560157);

  // Only the first by clause names the receiver.
  auto twice = parse_received("from a by b by c with SMTP id 1; 3 Dec 2021 19:35:57 +0000");
  REQUIRE(twice.ok);
  CHECK(twice.by_host == "b");

  // ';' only inside an unclosed comment: taken as the date separator only if a date follows.
  auto guess = parse_received("from a (x;y by b");
  REQUIRE(guess.ok);
  CHECK(guess.date_text.empty());
  CHECK_FALSE(guess.time);

  // No ';' at all (ham-spam, an old gateway): the date starts at the last "Day,".
  auto gateway = parse_received("from SMTP agent by mail gateway Wed, 24 Jul 2002 06:43:48 -0000");
  REQUIRE(gateway.ok);
  CHECK(gateway.by_host == "mail");
  CHECK(gateway.date_text == "Wed, 24 Jul 2002 06:43:48 -0000");
  CHECK(gateway.time == *parse_rfc5322_date("24 Jul 2002 06:43:48 +0000"));
  // ... but a weekday followed by no date is left alone.
  auto no_date = parse_received("from a by b with SMTP Wed, x");
  REQUIRE(no_date.ok);
  CHECK(no_date.with == "SMTP Wed, x");
  CHECK_FALSE(no_date.time);
}

TEST_CASE("Received: 1 MB of hostile input returns with a bounded result") {
  std::string huge = "from a.example (a.example [192.0.2.1]) by mx.example with ESMTP id X ";
  while (huge.size() < (1u << 20)) huge += "((((with by from id for via [1.2.3.4] ";
  huge += "; Fri, 3 Dec 2021 19:35:57 +0000";
  auto h = parse_received(huge);
  CHECK(h.ok);
  CHECK(h.by_host == "mx.example");
  CHECK(h.with.size() <= 256);

  std::string parens(1u << 20, '(');
  auto p = parse_received(parens);
  CHECK_FALSE(p.ok);

  std::string semis(1u << 20, ';');
  auto s = parse_received(semis);
  CHECK_FALSE(s.ok);
  CHECK_FALSE(s.time);
}

// ---- dates --------------------------------------------------------------------------------

TEST_CASE("RFC 5322 dates: standard, obsolete and broken real shapes") {
  CHECK(parse_rfc5322_date("Fri, 3 Dec 2021 19:35:57 +0000") == 1638560157);
  CHECK(parse_rfc5322_date("3 Dec 2021 19:35:57 +0000") == 1638560157);           // no weekday
  CHECK(parse_rfc5322_date("Fri, 3 Dec\r\n 2021 19:35:58 +0000") == 1638560158);  // folded
  CHECK(parse_rfc5322_date("  Fri,   03  Dec 2021   19:35:57   +0000  ") == 1638560157);
  CHECK(parse_rfc5322_date("Fri, 3 Dec 2021 20:35:57 +0100") == 1638560157);
  CHECK(parse_rfc5322_date("Fri, 3 Dec 2021 14:35:57 -0500 (EST)") == 1638560157);
  CHECK(parse_rfc5322_date("Fri, 3 Dec 2021 14:35:57 EST") == 1638560157);
  CHECK(parse_rfc5322_date("Fri, 3 Dec 2021 11:35:57 PST") == 1638560157);
  CHECK(parse_rfc5322_date("Fri, 3 Dec 2021 12:35:57 PDT") == 1638560157);
  CHECK(parse_rfc5322_date("Fri, 3 Dec 2021 19:35:57 GMT") == 1638560157);
  CHECK(parse_rfc5322_date("Fri, 3 Dec 2021 19:35:57 UT") == 1638560157);
  CHECK(parse_rfc5322_date("Fri, 3 Dec 2021 19:35:57 Z") == 1638560157);
  CHECK(parse_rfc5322_date("Fri, 3 Dec 2021 19:35:57 (UTC)") == 1638560157);
  CHECK(parse_rfc5322_date("Fri, 3 Dec 2021 19:35:57 +0000 (UTC)") == 1638560157);
  CHECK(parse_rfc5322_date("Fri, 3 Dec 21 19:35:57 +0000") == 1638560157);  // 2-digit year
  CHECK(parse_rfc5322_date("Thu, 22 Aug 02 12:36:23 +0000") == 1030019783);
  CHECK(parse_rfc5322_date("Fri, 31 Dec 99 23:59:59 +0000") == 946684799);
  CHECK(parse_rfc5322_date("Thu, 22 Aug 102 12:36:23 +0000") == 1030019783);   // 3-digit
  CHECK(parse_rfc5322_date("Thu, 22 Aug 0102 12:36:23 +0000") == 1030019783);  // Y2K bug
  CHECK(parse_rfc5322_date("Fri, 3 Dec 2021 19:35 +0000") == 1638560100);      // no seconds
  CHECK(parse_rfc5322_date("Wed, 29 May 2002 16:54:6 +0300"));                 // 1-digit sec
  CHECK(parse_rfc5322_date("01 Jan 2001 00:01+0000"));                         // glued zone
  CHECK(parse_rfc5322_date("Thu Aug 22 12:36:23 2002") == 1030019783);         // asctime
  CHECK(parse_rfc5322_date("22-Aug-2002 12:36:23 +0000") == 1030019783);
  CHECK(parse_rfc5322_date("22/08/2002 12:36:23") == 1030019783);  // qmail-scanner
  CHECK(parse_rfc5322_date("08/22/2002 12:36:23") == 1030019783);  // US order
  CHECK(parse_rfc5322_date("2002/08/22 Thu 12:36:23 GMT") == 1030019783);
  CHECK(parse_rfc5322_date("Mon, 26 Aug 2002 16:56:41 +0200 (MET DST)"));
  CHECK(parse_rfc5322_date("Tue, 29 Feb 2000 00:00:00 +0000") == 951782400);  // leap day
  CHECK(parse_rfc5322_date("Thu, 01 Jan 1970 00:00:00 +0000") == 0);
  CHECK(parse_rfc5322_date("Thu, 22 Aug 2002 12:36:23 CEST") == 1030019783);  // unknown=UTC
}

TEST_CASE("RFC 5322 dates: garbage is rejected") {
  for (const char* bad : {"", "Whenever", "<HR>", "Fri, 3 Dec 2021", "3 Dec 19:35:57 +0000",
                          "Fri, 32 Dec 2021 19:35:57 +0000", "Mon, 29 Feb 2021 10:00:00 +0000",
                          "Fri, 3 Foo 2021 19:35:57 +0000", "Fri, 3 Dec 2021 25:00:00 +0000",
                          "Fri, 3 Dec 2021 19:60:00 +0000", "Tue, 7 Apr 2026 10:00:t <a@b>",
                          "id XA00251", "a@b>)", "Pn, 29 paX 2007 21:13:00 +0100",
                          "13/13/2002 12:00:00", "1/2/3/4 12:00:00", "22/08 12:00:00"}) {
    INFO("input: '" << std::string(bad) << "'");
    CHECK_FALSE(parse_rfc5322_date(bad));
  }
  CHECK_FALSE(parse_rfc5322_date(std::string(1u << 20, '9')));
  CHECK_FALSE(parse_rfc5322_date(std::string(1u << 20, '(')));
}

// ---- Authentication-Results ---------------------------------------------------------------

TEST_CASE("ARC-Authentication-Results from Microsoft with instance and version") {
  // dev_m365_legit/pdx86_connector_0183.eml
  auto ar = parse_authentication_results(
      " i=1; mx.microsoft.com 1; spf=pass (sender ip is\n"
      " 165.204.84.17) smtp.rcpttodomain=redhat.com smtp.mailfrom=amd.com; dmarc=pass\n"
      " (p=quarantine sp=quarantine pct=100) action=none header.from=amd.com;\n"
      " dkim=none (message not signed); arc=none (0)");
  REQUIRE(ar.ok);
  CHECK(ar.instance == 1);
  CHECK(ar.authserv_id == "mx.microsoft.com");
  REQUIRE(ar.results.size() == 4);
  const auto* spf = ar.find("spf");
  REQUIRE(spf);
  CHECK(spf->result == "pass");
  CHECK(spf->reason == "sender ip is 165.204.84.17");
  CHECK(spf->prop("smtp.mailfrom") == "amd.com");
  CHECK(spf->prop("smtp.rcpttodomain") == "redhat.com");
  const auto* dmarc = ar.find("DMARC");
  REQUIRE(dmarc);
  CHECK(dmarc->result == "pass");
  CHECK(dmarc->reason == "p=quarantine sp=quarantine pct=100");
  CHECK(dmarc->prop("action") == "none");
  CHECK(dmarc->prop("header.from") == "amd.com");
  CHECK(ar.find("dkim")->result == "none");
  CHECK(ar.find("arc")->result == "none");
  CHECK(ar.find("compauth") == nullptr);
}

TEST_CASE("Authentication-Results without authserv-id (EOP / X-MS-Exchange-...)") {
  // ../shared/docs/examples/thirdparty-view.eml plus the compauth tail EOP adds.
  auto ar = parse_authentication_results(
      "spf=fail (sender IP is 54.39.94.145) smtp.mailfrom=siemens.com; dkim=none (message not "
      "signed) header.d=none;dmarc=fail action=none header.from=siemens.com;compauth=fail "
      "reason=001");
  REQUIRE(ar.ok);
  CHECK(ar.authserv_id.empty());
  CHECK_FALSE(ar.instance);
  REQUIRE(ar.results.size() == 4);
  CHECK(ar.results[0].method == "spf");
  CHECK(ar.results[0].result == "fail");
  CHECK(ar.results[0].reason == "sender IP is 54.39.94.145");
  CHECK(ar.results[1].prop("header.d") == "none");
  CHECK(ar.find("dmarc")->result == "fail");
  CHECK(ar.find("dmarc")->prop("header.from") == "siemens.com");
  CHECK(ar.find("compauth")->result == "fail");
  CHECK(ar.find("compauth")->reason == "001");
}

TEST_CASE("Authentication-Results: kernel.org shapes, quoted values, versions, none") {
  auto ar = parse_authentication_results(
      "smtp.subspace.kernel.org;\n\tdkim=pass (1024-bit key) header.d=amd.com "
      "header.i=@amd.com header.b=\"1dH3byZW\"");
  REQUIRE(ar.ok);
  CHECK(ar.authserv_id == "smtp.subspace.kernel.org");
  REQUIRE(ar.results.size() == 1);
  CHECK(ar.results[0].reason == "1024-bit key");
  CHECK(ar.results[0].prop("header.b") == "1dH3byZW");
  CHECK(ar.results[0].prop("header.i") == "@amd.com");

  auto arc2 = parse_authentication_results(
      "i=2; smtp.subspace.kernel.org; dmarc=pass (p=quarantine dis=none) header.from=amd.com; "
      "spf=fail smtp.mailfrom=amd.com; arc=fail smtp.client-ip=40.107.212.82");
  REQUIRE(arc2.ok);
  CHECK(arc2.instance == 2);
  CHECK(arc2.results.size() == 3);
  CHECK(arc2.find("arc")->prop("smtp.client-ip") == "40.107.212.82");

  auto quoted = parse_authentication_results(
      "mx.example.org 1; dkim/1=fail reason=\"signature; verification (failed)\" "
      "header.d=example.com");
  REQUIRE(quoted.ok);
  REQUIRE(quoted.results.size() == 1);
  CHECK(quoted.results[0].method == "dkim");
  CHECK(quoted.results[0].reason == "signature; verification (failed)");
  CHECK(quoted.results[0].prop("header.d") == "example.com");

  auto none = parse_authentication_results("mx.google.com; none");
  REQUIRE(none.ok);
  CHECK(none.authserv_id == "mx.google.com");
  CHECK(none.results.empty());
}

TEST_CASE("Authentication-Results: comments as written or rewritten (escapes, folding, nesting)") {
  // Tokens are views of the value where they read as their bytes, copies where they do not:
  // both kinds, and the edges between them.
  auto reason = [](std::string_view v) {
    auto ar = parse_authentication_results(v);
    REQUIRE(ar.ok);
    REQUIRE(ar.results.size() == 1);
    return ar.results[0].reason;
  };
  CHECK(reason("mx; spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=a.com") == "sender IP is 1.2.3.4");
  CHECK(reason("mx; spf=pass (sender IP\r\n\t is  1.2.3.4 ) x=y") == "sender IP is 1.2.3.4");
  CHECK(reason("mx; spf=pass ( spaced )") == "spaced");
  CHECK(reason("mx; spf=pass (tab\there)") == "tab here");
  CHECK(reason("mx; dkim=fail (bad \\(sig\\) here)") == "bad (sig) here");
  CHECK(reason("mx; dkim=fail (\\ lead)") == "lead");  // trimmed, escaped or not (as before views)
  CHECK(reason("mx; dmarc=pass (p=none (x) y)") == "p=none (x) y");
  CHECK(reason("mx; arc=pass (unterminated comment") == "unterminated comment");
  CHECK(reason("mx; spf=pass (x\\") == "x\\");  // a lone backslash at the value's end
  CHECK(reason("mx; spf=pass ()") == "");
  auto quoted = parse_authentication_results("mx; dkim=pass header.b=\"ab;c d\" header.d=x\"y\"z");
  REQUIRE(quoted.results.size() == 1);
  CHECK(quoted.results[0].prop("header.b") == "ab;c d");
  CHECK(quoted.results[0].prop("header.d") == "xyz");
  auto spf = parse_received_spf("Pass (mailfrom\r\n  check) identity=mailfrom; client-ip=\"1.2.3.4\"");
  CHECK(spf.ok);
  CHECK(spf.comment == "mailfrom check");
  CHECK(spf.prop("client-ip") == "1.2.3.4");
}

TEST_CASE("Authentication-Results: statements split on ';', empty ones skipped, past one token list's growth") {
  // The lexer keeps every statement's tokens in one list: a statement must end exactly where
  // its ';' is, however many statements are empty and however often the list grows.
  auto ar = parse_authentication_results(
      ";; mx.example ;;; spf=pass (a  b) smtp.mailfrom=\"x y\" ;(only a comment); ; "
      "dkim=fail (bad\\)sig) header.d=d.example header.b=\"q;r\";");
  REQUIRE(ar.ok);
  CHECK(ar.authserv_id == "mx.example");
  REQUIRE(ar.results.size() == 2);
  CHECK(ar.results[0].method == "spf");
  CHECK(ar.results[0].reason == "a b");
  CHECK(ar.results[0].prop("smtp.mailfrom") == "x y");
  CHECK(ar.results[0].props.size() == 1);
  CHECK(ar.results[1].method == "dkim");
  CHECK(ar.results[1].reason == "bad)sig");
  CHECK(ar.results[1].prop("header.b") == "q;r");
  CHECK(ar.results[1].props.size() == 2);

  // 40 statements of rewritten and plain tokens (hundreds of tokens: the list grows many
  // times): each result keeps its own words.
  std::string many = "mx.example";
  for (int k = 0; k < 40; ++k)
    many += "; m" + std::to_string(k) + "=pass (c\\" + std::to_string(k) + ") p.k=\"v" +
            std::to_string(k) + "\" q.k=w" + std::to_string(k) + " ;";
  auto big = parse_authentication_results(many);
  REQUIRE(big.ok);
  REQUIRE(big.results.size() == 40);
  for (int k = 0; k < 40; ++k) {
    CAPTURE(k);
    const auto& r = big.results[static_cast<std::size_t>(k)];
    CHECK(r.method == "m" + std::to_string(k));
    CHECK(r.reason == "c" + std::to_string(k));
    CHECK(r.prop("p.k") == "v" + std::to_string(k));
    CHECK(r.prop("q.k") == "w" + std::to_string(k));
    CHECK(r.props.size() == 2);
  }
  auto spf = parse_received_spf("; ;Pass ; (x) ; identity=mailfrom;;");
  CHECK(spf.ok);
  CHECK(spf.result == "pass");
  CHECK(spf.prop("identity") == "mailfrom");
}

TEST_CASE("Authentication-Results: garbage and hostile input") {
  auto empty = parse_authentication_results("");
  CHECK_FALSE(empty.ok);
  CHECK_FALSE(empty.reason.empty());
  CHECK_FALSE(parse_authentication_results(" ;;; ( ) ").ok);
  CHECK_FALSE(parse_authentication_results("i=1;").ok);
  // An absurd instance number is ignored, not overflowed (found by mutation fuzzing).
  auto huge_i = parse_authentication_results("i=99999999999999; mx.example; spf=pass");
  CHECK(huge_i.ok);
  CHECK_FALSE(huge_i.instance);
  CHECK(huge_i.authserv_id == "mx.example");

  std::string huge = "mx.example; ";
  while (huge.size() < (1u << 20)) huge += "spf=pass (c) smtp.mailfrom=a.example; ";
  auto big = parse_authentication_results(huge);
  CHECK(big.ok);
  CHECK(big.results.size() <= 64);
  auto open = parse_authentication_results("spf=pass (" + std::string(1u << 20, 'x'));
  CHECK(open.ok);
}

// ---- tag lists ----------------------------------------------------------------------------

TEST_CASE("DKIM-Signature and ARC tag lists: folding removed, h= list, i=") {
  // dev_m365_legit/pdx86_connector_0183.eml
  auto ams = parse_tag_list(
      "i=2; a=rsa-sha256; d=subspace.kernel.org;\n"
      "\ts=arc-20240116; t=1730080943; c=relaxed/simple;\n"
      "\tbh=XLPamADJLZfp+QRrnpgSyNvglDNODtTm97g6ac54/RI=;\n"
      "\th=From:To:CC:Subject:Date:Message-ID:In-Reply-To:References:\n"
      "\t MIME-Version:Content-Type; b=FG+lbgPA/DT3Mlp5mhMVqRCyRGlCI2j7jyOqILwmIZuIw+Nz\n"
      "\t PoqJRAFGz0HRg0AIhaDK+clpldVOi0PAs2+MzV4Wag5o7lBtM1CPOQdgLLxxsScr+2CFKguj+ENUiii0BQQBl");
  REQUIRE(ams.ok);
  CHECK(ams.get_int("i") == 2);
  CHECK(ams.get("d") == "subspace.kernel.org");
  CHECK(ams.get("c") == "relaxed/simple");
  CHECK(ams.get_int("t") == 1730080943);
  CHECK(ams.get("b")->find(' ') == std::string::npos);
  CHECK(ams.get("b")->rfind("FG+lbgPA", 0) == 0);
  const auto h = ams.header_list();
  REQUIRE(h.size() == 10);
  CHECK(h.front() == "From");
  CHECK(h[8] == "MIME-Version");
  CHECK(h.back() == "Content-Type");
  CHECK_FALSE(ams.get("z"));
  CHECK_FALSE(ams.get_int("d"));  // not a number
  CHECK_FALSE(ams.get("D"));      // tag names are case-sensitive

  auto seal = parse_tag_list(
      "i=1; a=rsa-sha256; s=arcselector10001; d=microsoft.com; cv=none;\n b=G2TIHntp==");
  REQUIRE(seal.ok);
  CHECK(seal.get("cv") == "none");
  CHECK(seal.get_int("i") == 1);
  CHECK(seal.header_list().empty());
}

TEST_CASE("tag lists: malformed") {
  auto dup = parse_tag_list("v=1; d=a.example; d=b.example");
  CHECK_FALSE(dup.ok);
  CHECK(dup.reason.find("duplicate") != std::string::npos);
  CHECK(dup.get("d") == "a.example");

  auto noeq = parse_tag_list("v=1; garbage; d=x");
  CHECK_FALSE(noeq.ok);
  CHECK(noeq.get("d") == "x");

  CHECK_FALSE(parse_tag_list("").ok);
  CHECK_FALSE(parse_tag_list(" ; ;").ok);
  CHECK_FALSE(parse_tag_list("1x=3").ok);
  CHECK_FALSE(parse_tag_list("i=-1").get_int("i"));
  CHECK_FALSE(parse_tag_list("i=99999999999999").get_int("i"));
  CHECK(parse_tag_list("v=1;").ok);  // a trailing ';' is allowed

  std::string huge;
  while (huge.size() < (1u << 20)) huge += "a=b;";
  auto big = parse_tag_list(huge);
  CHECK_FALSE(big.ok);  // "a" repeats
  CHECK(big.tags.size() == 1);
}

// ---- KEY:VALUE lists ----------------------------------------------------------------------

TEST_CASE("X-Forefront-Antispam-Report: first-colon split keeps an IPv6 CIP") {
  auto kv = parse_key_value_list(
      "CIP:2603:10b6::1;CTRY:;LANG:en;SCL:1;SRV:;IPV:NLI;SFV:NSPM;H:host;PTR:;CAT:NONE;"
      "SFS:(13230040)(4636009);DIR:OUT;SFP:1102;");
  REQUIRE(kv.ok);
  CHECK(kv.items.size() == 13);
  CHECK(kv.items[0].first == "CIP");
  CHECK(kv.get("CIP") == "2603:10b6::1");
  CHECK(kv.get("cip") == "2603:10b6::1");
  CHECK(kv.get("CTRY") == "");
  CHECK(kv.get("SFS") == "(13230040)(4636009)");
  CHECK(kv.get("SFP") == "1102");
  CHECK_FALSE(kv.get("ARA"));
  CHECK(kv.items.back().first == "SFP");

  // dev_relays: the sending tenant's untrusted verdict, folded.
  auto relay = parse_key_value_list(
      "\n\tCIP:178.162.221.6;CTRY:DE;LANG:en;SCL:1;SRV:;IPV:CAL;SFV:NSPM;\n"
      "\tH:ric20136326.onmicrosoft.com;PTR:ac-paris.fr;CAT:NONE;DIR:OUT;SFP:1501;");
  REQUIRE(relay.ok);
  CHECK(relay.get("IPV") == "CAL");
  CHECK(relay.get("H") == "ric20136326.onmicrosoft.com");

  auto spam = parse_key_value_list("BCL:0;ARA:1444111002|34130799006|470799035;");
  REQUIRE(spam.ok);
  CHECK(spam.get("BCL") == "0");
  CHECK(spam.get("ARA") == "1444111002|34130799006|470799035");

  auto bare = parse_key_value_list("01713B2841");
  REQUIRE(bare.ok);
  CHECK(bare.get("01713B2841") == "");

  CHECK_FALSE(parse_key_value_list("").ok);
  CHECK_FALSE(parse_key_value_list(" ; ;; ").ok);

  std::string huge;
  while (huge.size() < (1u << 20)) huge += "SFS:(13230040)(4636009);";
  auto big = parse_key_value_list(huge);
  CHECK(big.ok);
  CHECK(big.items.size() <= 256);
  CHECK(big.get("sfs") == "(13230040)(4636009)");
}

// ---- tenant connecting IP -----------------------------------------------------------------

TEST_CASE("OriginalAttributedTenantConnectingIp: bracketed, bare, IPv6, missing, broken") {
  auto t = parse_tenant_connecting_ip(
      "TenantId=28be3916-1e52-460c-b465-99ad2299a6ea;Ip=[170.75.174.95];"
      "Helo=[mar20593117.onmicrosoft.com]");
  REQUIRE(t.ok);
  CHECK(t.tenant_id == "28be3916-1e52-460c-b465-99ad2299a6ea");
  CHECK(ip_text(t.ip) == "170.75.174.95");
  CHECK(t.ip_text == "170.75.174.95");
  CHECK(t.helo == "mar20593117.onmicrosoft.com");

  auto spaced = parse_tenant_connecting_ip(
      " TenantId = 38ae3bcd-9579-4fd4-adda-b42e1495d55a ; Ip = 54.39.94.145 ; ");
  REQUIRE(spaced.ok);
  CHECK(spaced.tenant_id == "38ae3bcd-9579-4fd4-adda-b42e1495d55a");
  CHECK(ip_text(spaced.ip) == "54.39.94.145");
  CHECK(spaced.helo.empty());

  auto v6 = parse_tenant_connecting_ip("TenantId=x;Ip=[2603:10b6:208:2c7::24];Helo=[h]");
  REQUIRE(v6.ok);
  CHECK(ip_text(v6.ip) == "2603:10b6:208:2c7::24");

  auto noip = parse_tenant_connecting_ip("TenantId=28be3916;Helo=[x]");
  CHECK_FALSE(noip.ok);
  CHECK(noip.tenant_id == "28be3916");
  CHECK(noip.reason == "no Ip= field");

  auto badip = parse_tenant_connecting_ip("TenantId=t;Ip=[not-an-ip];Helo=[x]");
  CHECK_FALSE(badip.ok);
  CHECK(badip.ip_text == "not-an-ip");
  CHECK_FALSE(badip.ip);

  CHECK_FALSE(parse_tenant_connecting_ip("").ok);
  CHECK_FALSE(parse_tenant_connecting_ip(std::string(1u << 20, '=')).ok);
}

// ---- Received-SPF -------------------------------------------------------------------------

TEST_CASE("Received-SPF: Microsoft, policyd-spf and SpamAssassin shapes") {
  auto ms = parse_received_spf(
      "Fail (protection.outlook.com: domain of siemens.com does not\n"
      " designate 54.39.94.145 as permitted sender)\n"
      " receiver=protection.outlook.com; client-ip=54.39.94.145;\n"
      " helo=post.metalab.net;");
  REQUIRE(ms.ok);
  CHECK(ms.result == "fail");
  CHECK(ms.comment ==
        "protection.outlook.com: domain of siemens.com does not designate 54.39.94.145 as "
        "permitted sender");
  CHECK(ms.prop("client-ip") == "54.39.94.145");
  CHECK(ms.prop("helo") == "post.metalab.net");
  CHECK(ms.prop("Receiver") == "protection.outlook.com");

  auto policyd = parse_received_spf(
      "Pass (mailfrom) identity=mailfrom; client-ip=209.85.128.41; helo=mail-wm1-f41.google.com; "
      "envelope-from=someone@gmail.com; receiver=<UNKNOWN>");
  REQUIRE(policyd.ok);
  CHECK(policyd.result == "pass");
  CHECK(policyd.comment == "mailfrom");
  CHECK(policyd.prop("identity") == "mailfrom");
  CHECK(policyd.prop("envelope-from") == "someone@gmail.com");
  CHECK(policyd.prop("receiver") == "UNKNOWN");

  auto sa = parse_received_spf(
      "softfail (example.net: transitioning domain of a@example.com does not designate "
      "192.0.2.7 as permitted sender) client-ip=192.0.2.7; envelope-from=\"a@example.com\"; "
      "x-sender=\"a@example.com\"");
  REQUIRE(sa.ok);
  CHECK(sa.result == "softfail");
  CHECK(sa.prop("envelope-from") == "a@example.com");
  CHECK(sa.prop("x-sender") == "a@example.com");

  auto none = parse_received_spf(
      "None (protection.outlook.com: microsoft.com does not designate "
      "permitted sender hosts)");
  REQUIRE(none.ok);
  CHECK(none.result == "none");
  CHECK(none.props.empty());
}

TEST_CASE("Received-SPF: malformed") {
  auto empty = parse_received_spf("");
  CHECK_FALSE(empty.ok);
  CHECK(empty.reason == "no result word");
  auto custom = parse_received_spf("custom_header1");
  CHECK_FALSE(custom.ok);
  CHECK(custom.result == "custom_header1");
  auto props_only = parse_received_spf("client-ip=1.2.3.4; pass");
  CHECK_FALSE(props_only.ok);
  CHECK(props_only.prop("client-ip") == "1.2.3.4");
  CHECK_FALSE(parse_received_spf(std::string(1u << 20, '(')).ok);
}

// ---- addresses ----------------------------------------------------------------------------

TEST_CASE("extract_address and address_domain") {
  CHECK(extract_address("\"AAA \u2011 Loyalty\" <AAA@rewardsbyqoz.com>") == "AAA@rewardsbyqoz.com");
  CHECK(address_domain("AAA@rewardsbyqoz.com") == "rewardsbyqoz.com");
  CHECK(address_domain(extract_address("\"WellHeater\" <info@WellHeaterydl.com>")) ==
        "wellheaterydl.com");
  CHECK(extract_address(" zzde7g706x@ric20136326.onmicrosoft.com") ==
        "zzde7g706x@ric20136326.onmicrosoft.com");
  CHECK(extract_address("<platform-driver-x86@vger.kernel.org>") ==
        "platform-driver-x86@vger.kernel.org");
  CHECK(extract_address("Mario Limonciello <mario.limonciello@amd.com>") ==
        "mario.limonciello@amd.com");
  CHECK(extract_address("a@b.example (Comment <not@this>)") == "a@b.example");
  CHECK(extract_address("(c) \"x <y@z>\" <real@example.com>") == "real@example.com");
  CHECK(extract_address("Hans de Goede <hdegoede@redhat.com>, Ilpo <ilpo@linux.intel.com>") ==
        "hdegoede@redhat.com");
  CHECK(extract_address("first@a.example, second@b.example") == "first@a.example");
  CHECK(extract_address("Friends: Ann <ann@a.example>, bob@b.example;") == "ann@a.example");
  CHECK(extract_address("Friends: bob@b.example, c@c.example;") == "bob@b.example");
  CHECK(extract_address("undisclosed-recipients:;").empty());
  CHECK(extract_address("Undisclosed recipients:;").empty());
  CHECK(extract_address("<>").empty());
  CHECK(extract_address("").empty());
  CHECK(extract_address("<@relay.example:user@host.example>") == "user@host.example");
  CHECK(extract_address("<mailto:x@y.example>") == "x@y.example");
  CHECK(extract_address("root") == "root");

  CHECK(address_domain("Someone <USER@Example.COM>") == "example.com");
  CHECK(address_domain("user@Example.COM.") == "example.com");
  CHECK(address_domain("no-at-sign").empty());
  CHECK(address_domain("").empty());
  CHECK(address_domain("\"a@b\"@real.example") == "real.example");
  CHECK(address_domain("u@[192.0.2.1]") == "[192.0.2.1]");

  std::string huge(1u << 20, '"');
  CHECK(extract_address(huge).empty());
  std::string many(1u << 20, '<');
  CHECK(address_domain(many).empty());
}

// ---- corpus sweep -------------------------------------------------------------------------

TEST_CASE("corpus sweep: every Received of dev_m365_legit and dev_relays" * hdrscan::test::needs_shared()) {
  namespace fs = std::filesystem;
  const fs::path corpus = hdrscan::test::shared_corpus();
  for (const char* set : {"dev_m365_legit", "dev_relays"}) hdrscan::test::shared_path(set);
  std::size_t total = 0, good = 0, microsoft = 0, files = 0;
  std::vector<std::string> failures;
  for (const char* set : {"dev_m365_legit", "dev_relays"}) {
    for (const auto& entry : fs::directory_iterator(corpus / set)) {
      if (!entry.is_regular_file()) continue;
      ++files;
      for (const auto& [name, value] : read_header_block(entry.path())) {
        if (!iequals(name, "Received")) continue;
        ++total;
        const auto hop = parse_received(value);
        if (hop.ok && !hop.by_host.empty() && hop.time)
          ++good;
        else if (failures.size() < 20)
          failures.push_back(entry.path().filename().string() + ": " + value.substr(0, 120));
        if (collapse_spaces(value).find("with Microsoft SMTP Server") != std::string::npos) {
          ++microsoft;
          INFO(entry.path().string() << ": " << value);
          CHECK(hop.microsoft_smtp_server);
        }
      }
    }
  }
  for (const auto& f : failures) MESSAGE("not parsed: " << f);
  MESSAGE(files << " files, " << total << " Received, " << good << " complete, " << microsoft
                << " Microsoft hops");
  REQUIRE(files >= 600);
  REQUIRE(total > 1000);
  CHECK(microsoft > 500);
  CHECK(good * 100 >= total * 99);
}

TEST_CASE("corpus sweep: authentication, signature, SPF and tenant headers of the dev sets" * hdrscan::test::needs_shared()) {
  namespace fs = std::filesystem;
  const fs::path corpus = hdrscan::test::shared_corpus();
  for (const char* set : {"dev_m365_legit", "dev_relays"}) hdrscan::test::shared_path(set);
  std::size_t auth = 0, tags = 0, spf = 0, tenant = 0, forefront = 0;
  for (const char* set : {"dev_m365_legit", "dev_relays"}) {
    for (const auto& entry : fs::directory_iterator(corpus / set)) {
      if (!entry.is_regular_file()) continue;
      for (const auto& [name, value] : read_header_block(entry.path())) {
        INFO(entry.path().filename().string() << " " << name << ": " << value.substr(0, 200));
        if (iequals(name, "Authentication-Results") || iequals(name, "ARC-Authentication-Results") ||
            iequals(name, "X-MS-Exchange-Authentication-Results")) {
          ++auth;
          const auto ar = parse_authentication_results(value);
          CHECK(ar.ok);
          CHECK_FALSE(ar.results.empty());
          for (const auto& r : ar.results) CHECK_FALSE(r.result.empty());
          if (iequals(name, "ARC-Authentication-Results")) CHECK(ar.instance.has_value());
          if (iequals(name, "X-MS-Exchange-Authentication-Results")) {
            CHECK(ar.authserv_id.empty());
            CHECK(ar.find("spf") != nullptr);
          }
        } else if (iequals(name, "DKIM-Signature") || iequals(name, "ARC-Seal") ||
                   iequals(name, "ARC-Message-Signature")) {
          ++tags;
          const auto t = parse_tag_list(value);
          CHECK(t.ok);
          CHECK(t.get("b").has_value());
          if (!iequals(name, "ARC-Seal")) CHECK_FALSE(t.header_list().empty());
          if (!iequals(name, "DKIM-Signature")) CHECK(t.get_int("i").has_value());
        } else if (iequals(name, "Received-SPF")) {
          ++spf;
          CHECK(parse_received_spf(value).ok);
        } else if (iequals(name, "X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp")) {
          ++tenant;
          const auto t = parse_tenant_connecting_ip(value);
          CHECK(t.ok);
          CHECK_FALSE(t.tenant_id.empty());
        } else if (iequals(name, "X-Forefront-Antispam-Report") ||
                   iequals(name, "X-Forefront-Antispam-Report-Untrusted")) {
          const auto kv = parse_key_value_list(value);
          CHECK(kv.ok);
          if (const auto cip = kv.get("CIP")) {
            ++forefront;
            CHECK(parse_ip(*cip).has_value());
          }
        }
      }
    }
  }
  MESSAGE(auth << " auth results, " << tags << " signatures, " << spf << " Received-SPF, " << tenant
               << " tenant IPs, " << forefront << " Forefront CIPs");
  CHECK(auth > 1000);
  CHECK(tags > 1000);
  CHECK(spf > 300);
  CHECK(tenant > 300);
  CHECK(forefront > 300);
}

TEST_CASE("Received: one header's words and comments never reach the next one's result") {
  // parse_received reuses its word and comment lists from header to header on a thread
  // (issue 17): a full Postfix line, then lines without those clauses, must read as alone.
  const std::string full =
      "from mail.example.org (mail.example.org [198.51.100.7]) (helo=x.example) by mx.example.net "
      "(203.0.113.9) with ESMTPS id 4ABC via Frontend Transport for <a@example.net>; "
      "Mon, 1 Jan 2024 10:00:00 +0000";
  for (int round = 0; round < 2; ++round) {
    auto a = parse_received(full);
    CHECK(a.ok);
    CHECK(a.from_host == "mail.example.org");
    CHECK(a.from_rdns == "mail.example.org");
    CHECK(a.from_helo == "x.example");
    REQUIRE(a.from_ip);
    CHECK(a.from_ip->to_string() == "198.51.100.7");
    REQUIRE(a.by_ip);
    CHECK(a.by_ip->to_string() == "203.0.113.9");
    CHECK(a.with == "ESMTPS");
    CHECK(a.via == "Frontend Transport");
    CHECK(a.for_addr == "a@example.net");
    auto b = parse_received("by lists.example.org; Tue, 2 Jan 2024 10:00:00 +0000");
    CHECK(b.ok);
    CHECK(b.by_host == "lists.example.org");
    CHECK(b.from_host.empty());
    CHECK(b.from_rdns.empty());
    CHECK(b.from_helo.empty());
    CHECK_FALSE(b.from_ip);
    CHECK_FALSE(b.by_ip);
    CHECK(b.with.empty());
    CHECK(b.via.empty());
    CHECK(b.id.empty());
    CHECK(b.for_addr.empty());
    auto c = parse_received("");
    CHECK_FALSE(c.ok);
  }
}

TEST_CASE("dates: every month name, any case, abbreviated or long; other names rejected") {
  // month_number compares the first three letters packed into one number (issue 17).
  const char* names[] = {"jan", "FEB", "Mar", "april", "MAY", "June", "jUL", "August", "Sept", "OCTOBER", "Nov", "dec"};
  for (int m = 0; m < 12; ++m) {
    CAPTURE(names[m]);
    auto t = parse_rfc5322_date(std::string("1 ") + names[m] + " 2024 00:00:00 +0000");
    REQUIRE(t);
    CHECK(*t == days_from_civil(2024, static_cast<unsigned>(m + 1), 1) * 86400);
  }
  CHECK_FALSE(parse_rfc5322_date("1 Jux 2024 00:00:00 +0000"));
  CHECK_FALSE(parse_rfc5322_date("1 Ja 2024 00:00:00 +0000"));
  CHECK_FALSE(parse_rfc5322_date("1 Janu4ry 2024 00:00:00 +0000"));
}
