// waves_records_test.cpp: the pieces `hdrscan waves` stands on, on real messages: grouping
// features of a parsed message (mime/fields/features.hpp: URL hosts and URLs, tenant name,
// template fingerprint, recipients kept private), a scan record read back
// (scanner/records.hpp) and its errors, UUIDv5 (the export ids), grouping of records made by
// the pipeline from the repository's samples.
#include <doctest/doctest.h>

#include "mime/fields/features.hpp"
#include "mime/fields/fields.hpp"
#include "mime/message.hpp"
#include "scanner/pipeline.hpp"
#include "scanner/printers.hpp"
#include "scanner/records.hpp"
#include "scanner/waves/waves.hpp"
#include "tests/support/test_support.hpp"

namespace {

using namespace hdrscan;
const std::filesystem::path kSamples = std::filesystem::path(HDRSCAN_SOURCE_DIR) / "corpus/samples";

scanner::MessageReport report_of(const std::filesystem::path& p,
                                 scanner::Features f = scanner::Features::extract) {
  static const heuristics::Analyzer analyzer(
      std::make_shared<heuristics::IndicatorPack>(heuristics::IndicatorPack::builtin()));
  mime::RawMessage raw;
  raw.where.path = p.string();
  raw.bytes = test::slurp(p);
  return scanner::analyze(raw, analyzer, {}, scanner::Digest::sha256, f);
}

}  // namespace

TEST_CASE("url_host: userinfo, ports, IP literals and junk") {
  CHECK(mime::url_host("https://Img.Example.CO.UK:8443/a?b#c") == "img.example.co.uk");
  CHECK(mime::url_host("http://paypal.com@203.0.113.9/x") == "203.0.113.9");
  CHECK(mime::url_host("//cdn.example.net/x.png") == "cdn.example.net");
  CHECK(mime::url_host("http://[2001:db8::1]:80/") == "2001:db8::1");
  CHECK(mime::url_host("mailto:a@example.com").empty());
  CHECK(mime::url_host("http://exa mple.com/").empty());
  CHECK(mime::url_host("http:///path").empty());
}

TEST_CASE("features of a campaign sample: tenant name, sender and URL domains, fingerprint") {
  const auto r = report_of(kSamples / "campaign-consumer-1.eml");
  REQUIRE(r.features.has_value());
  const auto& f = *r.features;
  CHECK(f.tenant_name == "ilnrkles.onmicrosoft.com");
  CHECK(r.tenant_name == f.tenant_name);
  CHECK(f.envelope_domain == "ilnrkles.onmicrosoft.com");
  CHECK(f.from_domain == "loyaltybybkm.info");
  CHECK(std::find(f.url_domains.begin(), f.url_domains.end(), "yusfobkal.co.uk") !=
        f.url_domains.end());
  CHECK(f.template_shingles > 16);
  CHECK(f.template_hash != 0);
  // the same bytes give the same fingerprint; a clean message carries none
  CHECK(report_of(kSamples / "campaign-consumer-1.eml").features->template_hash == f.template_hash);
  const auto clean = report_of(kSamples / "clean-hybrid-relay.eml");
  CHECK(clean.assessment.verdict == heuristics::Verdict::clean);
  CHECK_FALSE(clean.features.has_value());
}

TEST_CASE("address lists: every mailbox, groups and display names dropped") {
  CHECK(mime::extract_addresses("A <a@x.com>, \"B, C\" <b@y.org> (c, d), e@z.net", 16) ==
        std::vector<std::string>{"a@x.com", "b@y.org", "e@z.net"});
  CHECK(mime::extract_addresses("undisclosed-recipients:;", 16).empty());
  CHECK(mime::extract_addresses("Team: a@x.com, b@x.com;", 16) ==
        std::vector<std::string>{"a@x.com", "b@x.com"});
  CHECK(mime::extract_addresses("Recipients <>", 16).empty());
  CHECK(mime::extract_addresses("a@x.com, b@x.com, c@x.com", 2).size() == 2);
}

TEST_CASE("recipient addresses are redacted as written, percent-encoded and in base64") {
  const std::vector<std::string> to{"John.Doe@Example.com"};
  std::string u = "https://t.example/u?email=john.doe%40example.com&e=Sm9obi5Eb2VARXhhbXBsZS5jb20=";
  CHECK(mime::redact_addresses(u, to) == 2);
  CHECK(u == "https://t.example/u?email={recipient}&e={recipient}b20=");
  std::string subj = "JOHN.DOE@EXAMPLE.COM, your reward";
  CHECK(mime::redact_addresses(subj, to) == 1);
  CHECK(subj == "{recipient}, your reward");
  std::string other = "https://t.example/u?email=jane%40example.com";
  CHECK(mime::redact_addresses(other, to) == 0);
}

TEST_CASE("features: URLs bounded, recipients as domains unless asked for") {
  const auto r = report_of(kSamples / "campaign-thirdparty-1.eml");
  REQUIRE(r.features.has_value());
  const auto& f = *r.features;
  REQUIRE_FALSE(f.urls.empty());
  CHECK(f.urls.size() <= mime::kMaxUrls);
  for (const auto& u : f.urls) {
    CHECK(u.rfind("http", 0) == 0);
    CHECK(u.size() <= mime::kMaxUrlBytes);
    CHECK_FALSE(mime::url_host(u).empty());
  }
  CHECK(f.recipient_domains == std::vector<std::string>{"example.net"});
  CHECK_FALSE(f.recipients.has_value());
  CHECK_FALSE(f.from_is_recipient);
  const auto g = nlohmann::json::parse(scanner::record_to_jsonl({1, &r}))["grouping"];
  CHECK(g["recipients"]["addresses"].is_null());
  CHECK(g.dump().find("ykhq.tybpsz") == std::string::npos);  // the To: address
  const auto with = report_of(kSamples / "campaign-thirdparty-1.eml",
                              scanner::Features::extract_with_recipients);
  REQUIRE(with.features->recipients.has_value());
  CHECK(*with.features->recipients == std::vector<std::string>{"ykhq.tybpsz@example.net"});
  std::string why;
  const auto rec = scanner::parse_scan_record(scanner::record_to_jsonl({1, &with}), why);
  REQUIRE_MESSAGE(rec.has_value(), why);
  CHECK(rec->urls == with.features->urls);
  REQUIRE(rec->recipients.has_value());
  CHECK(rec->recipients->front() == "ykhq.tybpsz@example.net");
  CHECK(rec->recipient_domains == std::vector<std::string>{"example.net"});
}

TEST_CASE("a wrapper's features are the attached message's") {
  const auto r = report_of(kSamples / "campaign-wrapped-report.eml");
  REQUIRE(r.features.has_value());
  CHECK(r.assessment.nested_from == "nested[0]");
  CHECK(r.features->subject != r.subject);  // the lure, not the user's "FW:" wrapper
  CHECK_FALSE(r.features->subject.empty());
}

TEST_CASE("template fingerprint: repeated rows, a footer row, a tracking pixel and banner sizes do not move it") {
  auto fp = [](const std::string& rows, const std::string& after) {
    const std::string raw =
        "From: a@example.com\r\nTo: b@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><table><tr><td><table>" +
        rows + "</table></td></tr></table><p>To stop these messages <a href=\"https://u.example/"
        "x\">unsubscribe</a>.<br></p>" + after + "</body></html>\r\n";
    return mime::extract_features(mime::parse_message(raw)).template_hash;
  };
  // (the prose, alt and link texts, is held equal: only the structure varies)
  auto row = [](int h, bool alt = true) {
    return "<tr><td><a href=\"https://l.example/" + std::to_string(h) +
           "\"><img src=\"https://i.example/b.png\" width=\"600\" height=\"" + std::to_string(h) +
           "\" alt=\"" + (alt ? "You have won a gift card from our store, claim it today" : "") +
           "\"></a></td></tr>";
  };
  const auto one = fp(row(400), "");
  CHECK(one == fp(row(400) + row(320, false), ""));  // a second banner of another size
  CHECK(one == fp(row(500) + "<tr><td>small print</td></tr>", ""));  // a footer row
  CHECK(one == fp(row(400), "<img src=\"https://p.example/t.gif\" width=\"1\" height=\"1\">"));
  // another layout (a div kit) is far
  const std::string div =
      "From: a@example.com\r\nTo: b@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/html\r\n\r\n<html><body><div><header><h2>Hi</h2></header><section>"
      "<div class=\"card\"><figure><a href=\"https://l.example/1\"><img src=\"https://i.example/"
      "b.png\" width=\"600\" height=\"400\" alt=\"You have won a gift card from our store, claim "
      "it today\"></a><figcaption><span>Claim</span></figcaption></figure></div></section></div>"
      "</body></html>\r\n";
  CHECK(mime::hamming(one, mime::extract_features(mime::parse_message(div)).template_hash) >= 8);
}

TEST_CASE("SimHash: identical sets agree, a changed feature moves few bits") {
  mime::SimHasher a, b;
  for (int i = 0; i < 40; ++i) {
    a.add("f" + std::to_string(i));
    b.add("f" + std::to_string(i == 7 ? 1000 : i));
  }
  CHECK(mime::hamming(a.value(), a.value()) == 0);
  CHECK(mime::hamming(a.value(), b.value()) <= 12);
}

TEST_CASE("a record written by the printer reads back") {
  const auto r = report_of(kSamples / "campaign-thirdparty-1.eml");
  const std::string line = scanner::record_to_jsonl({7, &r});
  std::string why;
  const auto rec = scanner::parse_scan_record(line, why);
  REQUIRE_MESSAGE(rec.has_value(), why);
  CHECK(rec->seq == 7);
  CHECK(rec->verdict == "campaign");
  CHECK(rec->has_grouping);
  REQUIRE(rec->connection.has_value());
  CHECK(rec->connection->tenant_id == r.assessment.connection->tenant_id);
  CHECK(rec->template_hash == r.features->template_hash);
  REQUIRE(rec->time.has_value());
  CHECK(scanner::iso_utc(*rec->time) == scanner::iso_utc(*r.assessment.exo_time));
}

TEST_CASE("bad records: a reason, never an exception") {
  std::string why;
  CHECK_FALSE(scanner::parse_scan_record("{\"schema\":\"hdrscan.scan/2\",\"seq\":1", why));
  CHECK(why.find("not JSON") != std::string::npos);
  CHECK_FALSE(scanner::parse_scan_record("{\"schema\":\"hdrscan.audit/1\"}", why));
  CHECK(why.find("hdrscan.audit/1") != std::string::npos);
  CHECK_FALSE(scanner::parse_scan_record("{\"schema\":\"hdrscan.scan/2\",\"seq\":-1}", why));
  CHECK(why.find("seq") != std::string::npos);
  CHECK_FALSE(scanner::parse_scan_record("[1,2]", why));
  CHECK(scanner::parse_iso_utc("2022-07-17T09:20:13Z") == 1658049613);
  CHECK_FALSE(scanner::parse_iso_utc("2022-07-17 09:20:13"));
}

TEST_CASE("uuid5: the RFC 4122 construction") {
  // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org")
  CHECK(scanner::uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org") ==
        "886313e1-3b8a-5372-9b90-0c9aee199e5d");
}

TEST_CASE("grouping: the samples' campaign messages, linked only within the window") {
  std::vector<scanner::WaveRecord> recs;
  for (const char* name : {"campaign-consumer-1.eml", "campaign-consumer-2.eml",
                           "campaign-thirdparty-1.eml", "campaign-thirdparty-2.eml"}) {
    const auto r = report_of(kSamples / name);
    std::string why;
    auto rec = scanner::parse_scan_record(scanner::record_to_jsonl({0, &r}), why);
    REQUIRE(rec.has_value());
    recs.push_back({*rec, name, 1});
  }
  // Two records of one tenant and IP, a day apart: one wave within 72 h, none within 1 h.
  auto twin = recs[0];
  twin.rec.sha256 = std::string(64, 'f');
  *twin.rec.time += 86400;
  recs.push_back(twin);
  scanner::WaveOptions opt;
  const auto waves = scanner::group_waves(recs, opt);
  REQUIRE(waves.size() >= 1);
  const auto& w = waves.front();
  CHECK(w.members.size() >= 2);
  CHECK(w.links.count("tenant") == 1);
  opt.window = 3600;
  opt.link_template = false;
  opt.link_url = false;
  for (const auto& v : scanner::group_waves(recs, opt))
    for (const auto i : v.members) CHECK(recs[i].file != recs[0].file);  // consumer-1 alone
}
