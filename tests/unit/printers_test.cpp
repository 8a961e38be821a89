// printers_test.cpp: the output printers (scanner/printers.hpp) and the HTML report's
// aggregation (scanner/scan/report.hpp) on hand-made reports with hostile strings, and the JSONL
// record of a real generated campaign message run through the shared pipeline.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <set>
#include <fstream>
#include <sstream>
#include <string>

#include "mime/decode.hpp"
#include "scanner/pipeline.hpp"
#include "tests/support/test_support.hpp"
#include "scanner/printers.hpp"
#include "scanner/scan/report.hpp"

using namespace hdrscan;
using scanner::MessageReport;
using scanner::ScanRecord;

namespace {

MessageReport sample(heuristics::Verdict v, int score) {
  MessageReport r;
  r.where.path = "quarantine/export.mbox";
  r.where.index = 7;
  r.where.offset = 4096;
  r.size = 1234;
  r.sha256 = std::string(64, 'a');
  r.message_id = "<id@example.org>";
  r.date = "Tue, 20 Sep 2022 10:00:00 +0000";
  r.from = "=cmd|' /C calc'!A0 <x@example.org>";
  r.subject = std::string("You \xff\xfe won, \"claim\"\nnow </script><script>alert(1)</script>");
  r.assessment.verdict = v;
  r.assessment.score = score;
  r.assessment.route = "receiving side: 2 hop(s)";
  r.assessment.connection = heuristics::TenantConnection{"170.75.174.95", "mar20593117.onmicrosoft.com",
                                                         "28be3916-1e52-460c-b465-99ad2299a6ea", "connecting-ip-header"};
  r.assessment.evidence = {
      {"relay.known_connector_ip", 30, "X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp[0]",
       "TenantId=28BE3916-1e52-460c-b465-99ad2299a6ea;Ip=[170.75.174.95];Helo=[mar20593117.onmicrosoft.com]", ""},
      {"relay.first_hop_external", 8, "Received[6]",
       "from x (170.75.174.95) by y.mail.protection.outlook.com (10.167.240.27) with Microsoft SMTP Server", ""},
      {"strip.tenant_arc_missing", 25, "Received[3]", "left Exchange Online", ""},
      {"body.lure_vocabulary", 8, "subject+body", "3 lure terms", "nested[0]"},
  };
  return r;
}

// The record as written, parsed back by nlohmann (an independent JSON implementation), keys in
// the order written.
nlohmann::ordered_json parsed_record(const ScanRecord& rec) {
  return nlohmann::ordered_json::parse(scanner::record_to_jsonl(rec));
}

std::string capture(const scanner::PrinterOptions& opt, const std::vector<ScanRecord>& recs,
                    const scanner::ScanSummary* summary = nullptr) {
  char* buf = nullptr;
  std::size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  REQUIRE(f != nullptr);
  auto p = scanner::make_printer(opt, f);
  p->begin();
  for (const auto& r : recs) p->message(r);
  if (summary) p->end(*summary);
  std::fclose(f);
  std::string out(buf, len);
  std::free(buf);
  return out;
}

}  // namespace

TEST_CASE("JSONL record: schema fields in order, nullable source fields, UTF-8 made valid") {
  MessageReport r = sample(heuristics::Verdict::campaign, 130);
  r.where.index.reset();
  r.where.offset.reset();
  r.errors.push_back({"too_large", "message cut at 64 MiB \xc3", true});
  const std::string line = scanner::record_to_jsonl(ScanRecord{42, &r});
  const auto j = nlohmann::ordered_json::parse(line);
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"schema", "seq", "source", "size", "sha256", "message_id", "date", "from",
                                         "subject", "verdict", "score", "evidence", "errors", "defects", "failed",
                                         "route", "nested_from", "connection", "score_breakdown", "gate", "exo_time",
                                         "grouping"});
  CHECK(j["grouping"].is_null());  // a report made by hand, not by analyze(): no features
  CHECK(j["connection"]["tenant_name"] == "");
  CHECK(j["schema"] == "hdrscan.scan/2");
  CHECK(j["connection"]["ip"] == "170.75.174.95");
  CHECK(j["connection"]["tenant_id"] == "28be3916-1e52-460c-b465-99ad2299a6ea");
  CHECK(j["connection"]["source"] == "connecting-ip-header");
  r.assessment.connection.reset();
  CHECK(parsed_record(ScanRecord{42, &r})["connection"].is_null());
  CHECK(j["seq"] == 42);
  CHECK(j["source"]["index"].is_null());
  CHECK(j["source"]["offset"].is_null());
  CHECK(j["source"]["member"].is_null());
  CHECK(j["source"]["folder"].is_null());
  CHECK(j["score"] == 100);  // clamped to the documented range
  CHECK(j["verdict"] == "campaign");
  CHECK(j["evidence"].size() == 4);
  CHECK(j["evidence"][3]["message"] == "nested[0]");
  CHECK(j["errors"][0]["code"] == "too_large");
  const std::string subject = j["subject"];
  CHECK(subject.rfind("You \xef\xbf\xbd", 0) == 0);  // U+FFFD for the bad bytes
  CHECK(line.find('\n') == std::string::npos);
  const auto back = nlohmann::json::parse(line);  // throws on invalid UTF-8
  CHECK(back["errors"][0]["detail"].get<std::string>().find("\xef\xbf\xbd") != std::string::npos);
}

TEST_CASE("CSV fields: RFC 4180 quoting, one line, formulas defused") {
  CHECK(scanner::csv_field("plain") == "plain");
  CHECK(scanner::csv_field("a,b") == "\"a,b\"");
  CHECK(scanner::csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(scanner::csv_field("two\r\nlines") == "two  lines");
  CHECK(scanner::csv_field("=1+2", true) == "'=1+2");
  CHECK(scanner::csv_field("@SUM(A1)", true) == "'@SUM(A1)");
  CHECK(scanner::csv_field("=1+2", false) == "=1+2");
  CHECK(scanner::csv_field(" padded") == "\" padded\"");
  MessageReport r = sample(heuristics::Verdict::suspicious, 40);
  scanner::PrinterOptions opt;
  opt.format = scanner::OutputFormat::csv;
  const std::string out = capture(opt, {ScanRecord{0, &r}, ScanRecord{1, &r}});
  CHECK(std::count(out.begin(), out.end(), '\n') == 3);
  CHECK(out.rfind("seq,path,index,offset,member,folder,size,sha256,", 0) == 0);
  CHECK(out.find("\"'=cmd|' /C calc'!A0 <x@example.org>\"") == std::string::npos);  // no comma: unquoted
  CHECK(out.find(",'=cmd|' /C calc'!A0 <x@example.org>,") != std::string::npos);
  CHECK(out.find("relay.known_connector_ip:+30;relay.first_hop_external:+8;") != std::string::npos);
  CHECK(out.find(",quarantine/export.mbox,7,4096,,,1234,") != std::string::npos);
  CHECK(out.find(",suspicious,40,") != std::string::npos);
  MessageReport gone;  // an unreadable record: its verdict word, an empty score
  gone.where.path = "q.zip";
  gone.where.add_member("a!b.eml");
  gone.status = scanner::Status::unreadable;
  gone.failed = true;
  gone.errors.push_back({"wrong_password", "Incorrect passphrase", true});
  const std::string bad = capture(opt, {ScanRecord{5, &gone}});
  CHECK(bad.find("\n5,q.zip,,,a\\!b.eml,,0,,,,,,unreadable,,,wrong_password,,\n") != std::string::npos);
}

TEST_CASE("text printer: one line per message, top signals, errors, colour only when asked") {
  MessageReport r = sample(heuristics::Verdict::campaign, 92);
  MessageReport bad;
  bad.where.path = "missing.eml";
  bad.status = scanner::Status::unreadable;
  bad.failed = true;
  bad.errors.push_back({"not_found", "No such file\nor directory", true});
  scanner::PrinterOptions opt;
  scanner::ScanSummary s;
  s.add(r, heuristics::Verdict::campaign);
  s.add(bad, heuristics::Verdict::campaign);
  s.elapsed_seconds = 2;
  const std::string out = capture(opt, {ScanRecord{0, &r}, ScanRecord{1, &bad}}, &s);
  std::istringstream in(out);
  std::string l1, l2, sep, l4;
  std::getline(in, l1);
  std::getline(in, l2);
  std::getline(in, sep);
  std::getline(in, l4);
  CHECK(l1.rfind("quarantine/export.mbox", 0) == 0);
  CHECK(l1.find("campaign") != std::string::npos);
  CHECK(l1.find(" 92") != std::string::npos);
  CHECK(l1.find("relay.known_connector_ip(+30), relay.first_hop_external(+8), strip.tenant_arc_missing(+25), +1 more") !=
        std::string::npos);
  CHECK(l2.rfind("missing.eml  unreadable   -  error: not_found (No such file or directory)", 0) ==
        0);
  CHECK(sep == "--");
  CHECK(l4 == "messages: 2  unreadable: 1  not_mail: 0  campaign: 1  suspicious: 0  clean: 0");
  CHECK(out.find("errors: 1 message (not_found 1)") != std::string::npos);
  CHECK(out.find('\x1b') == std::string::npos);
  opt.color = true;
  CHECK(capture(opt, {ScanRecord{0, &r}}).find("\x1b[1;31m") != std::string::npos);
}

TEST_CASE("summary: per-verdict counts, threshold, error codes once per message") {
  scanner::ScanSummary s;
  MessageReport a = sample(heuristics::Verdict::campaign, 90), b = sample(heuristics::Verdict::suspicious, 40),
                c = sample(heuristics::Verdict::clean, 0);
  c.errors = {{"no_headers", "x", true}, {"no_headers", "y", true}, {"bad_base64", "z", true}};
  for (auto* r : {&a, &b, &c}) s.add(*r, heuristics::Verdict::suspicious);
  CHECK(s.messages == 3);
  CHECK(s.campaign == 1);
  CHECK(s.suspicious == 1);
  CHECK(s.clean == 1);
  CHECK(s.flagged == 2);
  CHECK(s.with_errors == 1);
  CHECK(s.error_codes["no_headers"] == 1);
  CHECK(s.error_codes["bad_base64"] == 1);
  CHECK(s.bytes == 3 * 1234);
  const auto j = s.to_json();
  CHECK(j["verdicts"]["suspicious"] == 1);
  CHECK(j["shard"].is_null());
}

TEST_CASE("unreadable and not_mail: from the reader's message to the record and the summary") {
  heuristics::Analyzer analyzer(
      std::make_shared<heuristics::IndicatorPack>(heuristics::IndicatorPack::builtin()));
  const std::string path =
      std::string(HDRSCAN_SOURCE_DIR) + "/corpus/generated/consumer-onlist-full/0001.eml";
  mime::RawMessage good;
  good.where.path = path;
  good.bytes = test::slurp(path);
  // A fatal read error leaves the message unanalysed even when bytes were read (a member cut
  // by a CRC error): unreadable, no score, failed.
  mime::RawMessage cut = good;
  cut.error = "archive member unreadable: ZIP bad CRC";
  cut.error_code = "corrupt";
  const MessageReport u = scanner::analyze(cut, analyzer);
  CHECK(u.status == scanner::Status::unreadable);
  CHECK(u.failed);
  CHECK(u.assessment.evidence.empty());
  const auto ju = parsed_record(ScanRecord{0, &u});
  CHECK(ju["verdict"] == "unreadable");
  CHECK(ju["score"].is_null());
  CHECK(ju["failed"] == true);
  CHECK(ju["errors"][0]["code"] == "corrupt");
  // A size cap is not fatal: the message is analysed on what was read.
  mime::RawMessage big = good;
  big.error = "message larger than 64 bytes; truncated";
  big.error_code = "too_large";
  const MessageReport t = scanner::analyze(big, analyzer);
  CHECK(t.status == scanner::Status::analysed);
  CHECK(scanner::verdict_word(t) == "campaign");
  // Not mail: the reason as the error "not_mail", no analysis, not failed.
  mime::RawMessage bin;
  bin.where.path = "/bin/ls";
  bin.bytes = std::string("\x7f" "ELF\x02\x01", 6);
  bin.not_mail = "ELF executable";
  const MessageReport n = scanner::analyze(bin, analyzer);
  CHECK(n.status == scanner::Status::not_mail);
  CHECK_FALSE(n.failed);
  const auto jn = parsed_record(ScanRecord{1, &n});
  CHECK(jn["verdict"] == "not_mail");
  CHECK(jn["score"].is_null());
  CHECK(jn["errors"][0]["code"] == "not_mail");
  CHECK(jn["sha256"].get<std::string>().size() == 64);  // the bytes were read: their hash
  const MessageReport a = scanner::analyze(good, analyzer);
  scanner::ScanSummary s;
  for (const auto* r : {&u, &t, &n, &a}) s.add(*r, heuristics::Verdict::suspicious);
  CHECK(s.messages == 4);
  CHECK(s.unreadable == 1);
  CHECK(s.not_mail == 1);
  CHECK(s.failed == 1);
  CHECK(s.campaign == 2);
  CHECK(s.clean == 0);    // neither the unreadable nor the not-mail record counts as clean
  CHECK(s.flagged == 2);
  const auto j = s.to_json();
  CHECK(j["schema"] == "hdrscan.summary/2");
  CHECK(j["verdicts"]["unreadable"] == 1);
  CHECK(j["verdicts"]["not_mail"] == 1);
  scanner::HtmlReport rep;
  for (const auto* r : {&u, &t, &n, &a}) rep.add(ScanRecord{0, r});
  const auto data = rep.data(s);
  CHECK(data["verdicts"]["unreadable"] == 1);
  CHECK(data["verdicts"]["not_mail"] == 1);
  int binned = 0;
  for (const auto& c : data["histogram"]) binned += c.get<int>();
  CHECK(binned == 2);  // only analysed messages have a score to bin
}

TEST_CASE("HTML report: aggregates, connecting IPs and tenants of flagged mail, capped flagged table, no markup injection") {
  scanner::ReportOptions ro;
  ro.max_flagged_rows = 2;
  ro.min_verdict = heuristics::Verdict::suspicious;  // scan --min-verdict suspicious
  scanner::HtmlReport rep(ro);
  MessageReport a = sample(heuristics::Verdict::campaign, 100), b = sample(heuristics::Verdict::suspicious, 45),
                c = sample(heuristics::Verdict::campaign, 75), d = sample(heuristics::Verdict::clean, 3);
  d.date = "not a date";
  d.assessment.evidence = {{"relay.tenant_connecting_ip", 10, "h", "TenantId=x;Ip=[203.0.113.9];Helo=[a]", ""}};
  d.assessment.connection = heuristics::TenantConnection{"203.0.113.9", "gw.example.com",
                                                         "5d2e7a90-1b3c-4f6e-9a8d-2c4b6e8f0a1c", "connecting-ip-header"};
  b.assessment.connection->ip = "10.1.2.3";  // a private address is not infrastructure worth listing
  rep.add(ScanRecord{0, &a});
  rep.add(ScanRecord{1, &b});
  rep.add(ScanRecord{2, &c});
  rep.add(ScanRecord{3, &d});
  scanner::ScanSummary s;
  const auto data = rep.data(s);
  CHECK(data["messages"] == 4);
  CHECK(data["verdicts"]["campaign"] == 2);
  CHECK(data["histogram"][9] == 1);
  CHECK(data["histogram"][7] == 1);
  CHECK(data["histogram"][4] == 1);
  CHECK(data["histogram"][0] == 1);
  CHECK(data["undated"] == 1);
  REQUIRE(data["days"].size() == 1);
  CHECK(data["days"][0]["day"] == "2022-09-20");
  CHECK(data["days"][0]["campaign"] == 2);
  // Connecting IPs and tenants of flagged mail only: d (clean, a legitimate relay) is not
  // counted, b's private address is not listed.
  REQUIRE(data["ips"].size() == 1);
  CHECK(data["ips"][0]["key"] == "170.75.174.95");
  CHECK(data["ips"][0]["count"] == 2);
  std::set<std::string> tenants;
  for (const auto& t : data["tenants"]) tenants.insert(t["key"].get<std::string>());
  CHECK(tenants == std::set<std::string>{"28be3916-1e52-460c-b465-99ad2299a6ea", "mar20593117.onmicrosoft.com"});
  CHECK(data["signals"][0]["key"] == "body.lure_vocabulary");  // 3 messages; ties keep name order
  CHECK(data["signals"][0]["count"] == 3);
  CHECK(data["flagged_total"] == 3);
  CHECK(data["flagged"].size() == 2);
  const std::string page = rep.render(s);
  CHECK(page.find("</script><script>alert(1)") == std::string::npos);
  CHECK(page.find("\\u003c/script\\u003e\\u003cscript\\u003ealert(1)") != std::string::npos);
  CHECK(page.find("default-src 'none'") != std::string::npos);
  // Rendered by hdrscan (complete without JavaScript): the flagged rows, escaped, and what
  // "flagged" means.
  CHECK(page.find("&lt;/script&gt;&lt;script&gt;alert(1)") != std::string::npos);
  CHECK(page.find("</style>\n</head>\n<body") != std::string::npos);  // no stray CSS as text
  CHECK(page.find("</style>") == page.rfind("</style>"));
  CHECK(page.find("data-min-verdict=\"suspicious\" data-flagged=\"3\"") != std::string::npos);
  std::size_t rows = 0;
  for (std::size_t p = page.find("<tr class=\"flagged\""); p != std::string::npos; p = page.find("<tr class=\"flagged\"", p + 1))
    ++rows;
  CHECK(rows == 2);
  // The default, as scan's --min-verdict: campaign only, for the table and the IPs.
  scanner::HtmlReport def;
  for (const MessageReport* m : {&a, &b, &c, &d}) def.add(ScanRecord{0, m});
  const auto dd = def.data(s);
  CHECK(dd["flagged_total"] == 2);
  CHECK(dd["flagged_min_verdict"] == "campaign");
}

TEST_CASE("a real generated campaign message through the pipeline gives a complete record") {
  const std::string path = std::string(HDRSCAN_SOURCE_DIR) + "/corpus/generated/consumer-onlist-full/0001.eml";
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing " << path);
  mime::RawMessage raw;
  raw.where.path = path;
  raw.bytes.assign(std::istreambuf_iterator<char>(in), {});
  heuristics::Analyzer analyzer(std::make_shared<heuristics::IndicatorPack>(heuristics::IndicatorPack::builtin()));
  const MessageReport r = scanner::analyze(raw, analyzer);
  const auto j = parsed_record(ScanRecord{0, &r});
  CHECK(j["verdict"] == "campaign");
  CHECK(j["size"] == raw.bytes.size());
  CHECK(j["sha256"].get<std::string>().size() == 64);
  CHECK(!j["message_id"].get<std::string>().empty());
  CHECK(!j["evidence"].empty());
  CHECK(j["errors"].empty());
  scanner::HtmlReport rep;
  rep.add(ScanRecord{0, &r});
  CHECK(rep.data({})["flagged"].size() == 1);

  // the milter's analysis skips the digest and nothing else: same verdict, score, evidence
  const MessageReport m = scanner::analyze(raw, analyzer, {}, scanner::Digest::skip);
  CHECK(m.sha256.empty());
  CHECK(m.assessment.verdict == r.assessment.verdict);
  CHECK(m.assessment.score == r.assessment.score);
  CHECK(parsed_record(ScanRecord{0, &m})["evidence"] == j["evidence"]);
}

// Issue 14 item 5: a user who forwards campaign mail as an attachment (message/rfc822) to the
// helpdesk is not the spammer. The wrapper takes the attached message's verdict, and every
// format says so: JSONL and CSV in the field/column nested_from (CSV: the last column, so the
// column order of older readers holds), text after the signals. A message without an attached
// one says nothing of the sort.
TEST_CASE("a wrapper's verdict is marked as an attached message's in JSONL, CSV and text") {
  heuristics::Analyzer analyzer(std::make_shared<heuristics::IndicatorPack>(heuristics::IndicatorPack::builtin()));
  auto report = [&](const char* rel) {
    mime::RawMessage raw;
    raw.where.path = std::string(HDRSCAN_SOURCE_DIR) + "/corpus/samples/" + rel;
    raw.bytes = test::slurp(raw.where.path);
    REQUIRE_MESSAGE(!raw.bytes.empty(), "missing " << raw.where.path);
    return scanner::analyze(raw, analyzer);
  };
  // A user's report holding the campaign mail as message/rfc822 (corpus/labels.tsv: campaign).
  const MessageReport w = report("campaign-wrapped-report.eml");
  const MessageReport d = report("campaign-consumer-1.eml");  // the campaign mail itself
  REQUIRE(w.assessment.verdict == heuristics::Verdict::campaign);
  REQUIRE(d.assessment.verdict == heuristics::Verdict::campaign);
  CHECK(parsed_record(ScanRecord{0, &w})["nested_from"] == "nested[0]");
  CHECK(parsed_record(ScanRecord{1, &d})["nested_from"] == "");

  scanner::PrinterOptions opt;
  opt.format = scanner::OutputFormat::csv;
  std::istringstream csv(capture(opt, {ScanRecord{0, &w}, ScanRecord{1, &d}}));
  std::string head, lw, ld;
  std::getline(csv, head);
  std::getline(csv, lw);
  std::getline(csv, ld);
  CHECK(head == "seq,path,index,offset,member,folder,size,sha256,message_id,date,from,subject,"
                "verdict,score,signals,errors,route,nested_from");
  CHECK(lw.size() > 11);
  CHECK(lw.substr(lw.size() - 10) == ",nested[0]");
  CHECK(ld.back() == ',');  // the direct message: an empty last column
  CHECK(std::count(lw.begin(), lw.end(), ',') >= 17);

  opt.format = scanner::OutputFormat::text;
  std::istringstream text(capture(opt, {ScanRecord{0, &w}, ScanRecord{1, &d}}));
  std::getline(text, lw);
  std::getline(text, ld);
  CHECK(lw.find("campaign") != std::string::npos);
  CHECK(lw.find("(verdict from attached message nested[0])") != std::string::npos);
  CHECK(ld.find("attached") == std::string::npos);

  scanner::HtmlReport rep;
  rep.add(ScanRecord{0, &w});
  rep.add(ScanRecord{1, &d});
  const auto data = rep.data({});
  REQUIRE(data["flagged"].size() == 2);
  CHECK(data["flagged"][0]["nested_from"] == "nested[0]");
  CHECK(data["flagged"][1]["nested_from"] == "");
}

// The JSONL record is written directly (record_to_jsonl), without a DOM; parsed back by
// nlohmann it must carry every string (quotes, backslashes, every control byte, DEL, invalid
// UTF-8, non-ASCII) as sanitize_utf8 made it, and nlohmann must re-serialise it to the same
// bytes, on every nullable field both ways. fuzz_pipeline checks the same on fuzzed messages.
TEST_CASE("record_to_jsonl round-trips through nlohmann byte for byte") {
  MessageReport r = sample(heuristics::Verdict::suspicious, 42);
  std::string nasty = "q\"b\\s/";
  for (int c = 0; c < 0x20; ++c) nasty.push_back(static_cast<char>(c));
  nasty += "\x7f caf\xc3\xa9 \xff\xfe bad \xe2\x82 cut \xf0\x9f\x98\x80";
  r.subject = nasty;
  r.from = nasty;
  r.where.member = nasty;
  r.where.folder = "/Top of Information Store/Inbox";
  r.errors = {{"bad_base64", nasty, true}};
  r.defects = {{"odd", "x", false}, {nasty, nasty, false}};
  r.assessment.evidence.push_back({nasty, -3, nasty, nasty, nasty});
  r.assessment.route = nasty;
  r.assessment.connection->helo = nasty;
  r.failed = true;
  for (int variant = 0; variant < 4; ++variant) {
    CAPTURE(variant);
    if (variant == 1) {
      r.where.index.reset();
      r.where.offset.reset();
      r.where.member.clear();
      r.assessment.connection.reset();
    }
    if (variant == 2) {
      r.assessment.evidence.clear();
      r.errors.clear();
      r.defects.clear();
      r.failed = false;
    }
    if (variant == 3) r.assessment.score = 250;  // clamped the same way
    const ScanRecord rec{static_cast<std::uint64_t>(variant) * 1000003u, &r};
    const std::string direct = scanner::record_to_jsonl(rec);
    const auto back = nlohmann::ordered_json::parse(direct);  // throws on invalid JSON / UTF-8
    CHECK(back.dump(-1, ' ', false) == direct);               // nlohmann writes the same bytes
    CHECK(direct.find('\n') == std::string::npos);
    // every hostile string survives, made valid UTF-8 and nothing else
    const std::string clean = mime::sanitize_utf8(nasty);
    CHECK(back["subject"] == clean);
    CHECK(back["from"] == clean);
    CHECK(back["route"] == clean);
    CHECK(back["seq"] == rec.seq);
    CHECK(back["score"] == std::clamp(r.assessment.score, 0, 100));
    CHECK(back["source"]["folder"] == "/Top of Information Store/Inbox");
    CHECK(back["failed"] == r.failed);
    if (variant == 0) {
      CHECK(back["source"]["member"] == clean);
      CHECK(back["errors"][0]["detail"] == clean);
      CHECK(back["defects"][1]["code"] == clean);
      CHECK(back["evidence"].back()["excerpt"] == clean);
      CHECK(back["evidence"].back()["weight"] == -3);
      CHECK(back["connection"]["helo"] == clean);
    } else {
      CHECK(back["source"]["member"].is_null());
      CHECK(back["connection"].is_null());
    }
  }
  // an unreadable record: verdict word, null score, the same bytes back
  r.status = scanner::Status::unreadable;
  const std::string gone = scanner::record_to_jsonl(ScanRecord{7, &r});
  const auto gone_back = nlohmann::ordered_json::parse(gone);
  CHECK(gone_back.dump(-1, ' ', false) == gone);
  CHECK(gone_back["score"].is_null());
  CHECK(gone_back["verdict"] == "unreadable");
  r.status = scanner::Status::analysed;
  // and on a real message through the whole pipeline
  const std::string path = std::string(HDRSCAN_SOURCE_DIR) + "/corpus/generated/consumer-onlist-full/0001.eml";
  mime::RawMessage raw;
  raw.where.path = path;
  raw.bytes = test::slurp(path);
  const heuristics::Analyzer an(std::make_shared<heuristics::IndicatorPack>(heuristics::IndicatorPack::builtin()));
  const MessageReport real = scanner::analyze(raw, an);
  REQUIRE(!real.assessment.evidence.empty());
  const ScanRecord rec{7, &real};
  const std::string line = scanner::record_to_jsonl(rec);
  CHECK(nlohmann::ordered_json::parse(line).dump(-1, ' ', false) == line);
}
