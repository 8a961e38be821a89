// audit_reader_test: the audit export readers on the project's test exports (corpus/audit/)
// and on small hand-written inputs: format detection, CSV quoting across lines, recovery
// after truncated rows, malformed rows reported with their line, bounded record size.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "scanner/audit/audit_reader.hpp"

using namespace hdrscan::scanner::audit;

namespace {

struct Collected {
  std::vector<AuditRecord> records;
  std::vector<Diagnostic> diags;
  ReadSummary summary;
};

Collected read_file(const std::string& name, ReadLimits limits = {}) {
  Collected c;
  c.summary = read_audit_file(
      std::string(HDRSCAN_SOURCE_DIR) + "/corpus/audit/" + name,
      [&](const AuditRecord& r) { c.records.push_back(r); }, [&](const Diagnostic& d) { c.diags.push_back(d); },
      limits);
  return c;
}

Collected read_text(const std::string& text, ReadLimits limits = {}) {
  Collected c;
  c.summary = read_audit_buffer(
      text, "t", [&](const AuditRecord& r) { c.records.push_back(r); },
      [&](const Diagnostic& d) { c.diags.push_back(d); }, limits);
  return c;
}

const std::string kHeader = "CreationDate,UserIds,Operations,AuditData\r\n";
std::string row(const std::string& time, const std::string& op, const std::string& extra = "") {
  return time + ".0000000Z,admin@contoso.example," + op + ",\"{\"\"CreationTime\"\":\"\"" + time +
         "\"\",\"\"Operation\"\":\"\"" + op + "\"\",\"\"OrganizationId\"\":\"\"org-1\"\"" + extra + "}\"\r\n";
}

}  // namespace

TEST_CASE("every form of the attack export yields the same 38 records") {
  for (const char* name : {"attack.csv", "attack.json", "attack.jsonl", "attack-cloudappevents.csv"}) {
    CAPTURE(name);
    auto c = read_file(name);
    CHECK(c.diags.empty());
    CHECK(c.summary.records == 38);
    CHECK(c.summary.skipped == 0);
    REQUIRE(c.records.size() == 38);
    int connectors = 0, rules = 0;
    for (const auto& r : c.records) {
      CHECK(r.organization_id.size() == 36);
      CHECK(r.line > 0);
      if (r.operation == "New-InboundConnector") {
        ++connectors;
        REQUIRE(r.param("SenderIPAddresses"));
        CHECK(r.param("senderipaddresses")->value.find("170.75.174.97") == 0);
        CHECK(r.param("Name")->value == "Ran_jBelh");
        CHECK(r.time.rfind("2022-09-01T10:02:11", 0) == 0);
      }
      if (r.operation == "New-TransportRule") ++rules;
    }
    CHECK(connectors == 1);
    CHECK(rules == 12);
  }
  CHECK(read_file("attack.csv").summary.format == InputFormat::purview_csv);
  CHECK(read_file("attack.json").summary.format == InputFormat::json_array);
  CHECK(read_file("attack.jsonl").summary.format == InputFormat::jsonl);
  CHECK(read_file("attack-cloudappevents.csv").summary.format == InputFormat::cloudapp_csv);
}

TEST_CASE("CloudAppEvents rows: ActionType is the operation, UserAgent and IPAddress columns are used") {
  auto c = read_file("attack-cloudappevents.csv");
  bool swagger = false;
  for (const auto& r : c.records)
    if (r.operation == "Add app role assignment to service principal.") {
      CHECK(r.user_agent == "Swagger-Codegen/1.4.0.0/csharp");
      swagger = true;
    }
  CHECK(swagger);
}

TEST_CASE("Purview CSV: the AzureActiveDirectory user agent comes from ExtendedProperties additionalDetails") {
  auto c = read_file("attack.csv");
  int swagger = 0;
  for (const auto& r : c.records)
    if (r.user_agent == "Swagger-Codegen/1.4.0.0/csharp") ++swagger;
  CHECK(swagger == 5);
}

TEST_CASE("malformed Purview CSV: each bad row reported at its line, every good row read") {
  auto c = read_file("attack-malformed.csv");
  CHECK(c.summary.records == 38);
  CHECK(c.summary.skipped == 4);
  REQUIRE(c.diags.size() == 5);
  CHECK(c.diags[0].line == 5);
  CHECK(c.diags[0].reason.find("AuditData is not valid JSON") == 0);
  CHECK(c.diags[1].line == 9);  // truncated row: its open quote runs into line 10
  CHECK(c.diags[1].reason.find("truncated row") != std::string::npos);
  CHECK(c.diags[2].line == 14);
  CHECK(c.diags[2].reason == "CSV: 5 columns, header has 4");
  CHECK(c.diags[3].line == 17);
  CHECK(c.diags[3].reason == "record has no Operation");
  CHECK(c.diags[4].line == 32);  // Latin-1 byte: repaired, row kept
  CHECK(c.diags[4].warning);
  CHECK(c.diags[4].to_string().rfind("/corpus/audit/attack-malformed.csv:32: 1 invalid UTF-8") != std::string::npos);
  bool repaired = false;
  for (const auto& r : c.records)
    if (r.line == 32) {
      repaired = true;
      CHECK(r.operation == "Set-Mailbox");
    }
  CHECK(repaired);
  // the row right after the truncated one is read
  bool line10 = false;
  for (const auto& r : c.records) line10 = line10 || r.line == 10;
  CHECK(line10);
}

TEST_CASE("malformed JSON Lines and JSON array: reported with line, rest read") {
  auto l = read_file("attack-malformed.jsonl");
  CHECK(l.summary.records == 38);
  CHECK(l.summary.skipped == 3);
  std::vector<std::size_t> lines;
  for (const auto& d : l.diags) lines.push_back(d.line);
  CHECK(lines == std::vector<std::size_t>{1, 5, 10, 12});
  CHECK(l.diags[0].warning);
  CHECK(l.diags[1].reason.find("bad JSON") == 0);
  CHECK(l.diags[2].reason == "record is not a JSON object");
  CHECK(l.diags[3].reason.find("unreadable CreationTime") != std::string::npos);

  auto a = read_file("attack-malformed.json");
  CHECK(a.summary.records == 38);
  CHECK(a.summary.skipped == 3);
  REQUIRE(a.diags.size() == 3);
  CHECK(a.diags[0].reason == "Parameters is not an array");
  CHECK(a.diags[1].reason == "record is not a JSON object");
  CHECK(a.diags[2].reason.find("not closed at end of file") != std::string::npos);
  CHECK(a.diags[0].line + 1 == a.diags[1].line);
}

TEST_CASE("CSV: quoted fields may span lines; doubled quotes; blank lines; CRLF") {
  std::string text = kHeader + row("2022-09-01T10:00:00", "Set-Mailbox") + "\r\n" +
                     "2022-09-01T10:01:00Z,\"multi\nline user\",Set-Mailbox,\"{\"\"CreationTime\"\":\"\"2022-09-01T10:01:00\"\","
                     "\"\"Operation\"\":\"\"Set-Mailbox\"\"}\"\r\n" +
                     row("2022-09-01T10:02:00", "New-TransportRule");
  auto c = read_text(text);
  CHECK(c.diags.empty());
  REQUIRE(c.records.size() == 3);
  CHECK(c.records[0].line == 2);
  CHECK(c.records[1].line == 4);
  CHECK(c.records[1].user_id == "multi\nline user");
  CHECK(c.records[2].line == 6);
  CHECK(c.records[2].organization_id == "org-1");
}

TEST_CASE("CSV: a row truncated inside its last field costs that row only") {
  std::string text = kHeader + row("2022-09-01T10:00:00", "Set-Mailbox") +
                     "2022-09-01T10:01:00Z,admin,Set-Mailbox,\"{\"\"CreationTime\"\":\"\"2022-09\r\n" +
                     row("2022-09-01T10:02:00", "New-TransportRule") + row("2022-09-01T10:03:00", "Remove-TransportRule");
  auto c = read_text(text);
  REQUIRE(c.diags.size() == 1);
  CHECK(c.diags[0].line == 3);
  REQUIRE(c.records.size() == 3);
  CHECK(c.records[1].operation == "New-TransportRule");
  CHECK(c.records[1].line == 4);
  CHECK(c.records[2].line == 5);
}

TEST_CASE("CSV: truncated at end of file inside a quote") {
  auto c = read_text(kHeader + row("2022-09-01T10:00:00", "Set-Mailbox") + "2022-09-01T10:01:00Z,a,b,\"{\"\"Creat");
  CHECK(c.records.size() == 1);
  REQUIRE(c.diags.size() == 1);
  CHECK(c.diags[0].line == 3);
  CHECK(c.diags[0].reason.find("end of file") != std::string::npos);
}

TEST_CASE("record size is bounded: an oversized row is reported and skipped") {
  ReadLimits lim;
  lim.max_record_bytes = 2048;
  std::string big = row("2022-09-01T10:01:00", "Set-Mailbox", ",\"\"Pad\"\":\"\"" + std::string(5000, 'x') + "\"\"");
  auto c = read_text(kHeader + row("2022-09-01T10:00:00", "Set-Mailbox") + big + row("2022-09-01T10:02:00", "Set-Mailbox"), lim);
  CHECK(c.records.size() == 2);
  REQUIRE(c.diags.size() == 1);
  CHECK(c.diags[0].line == 3);
  CHECK(c.diags[0].reason.find("longer than 2048") != std::string::npos);

  // a quoted field that never closes stops at max_record_lines and resumes on the next line
  lim.max_record_bytes = 1 << 20;
  lim.max_record_lines = 4;
  std::string text = kHeader + "2022-09-01T10:01:00Z,a,b,\"never closed\r\n";
  for (int i = 0; i < 6; ++i) text += "just text " + std::to_string(i) + "\r\n";
  text += row("2022-09-01T10:02:00", "Set-Mailbox");
  auto d = read_text(text, lim);
  REQUIRE(!d.records.empty());
  CHECK(d.records.back().operation == "Set-Mailbox");
  CHECK(d.records.back().line == 9);
  CHECK(d.diags.front().line == 2);
}

TEST_CASE("JSON array: brackets and quotes inside strings do not confuse the element splitter") {
  std::string text =
      "[\n {\"CreationTime\":\"2022-09-01T10:00:00\",\"Operation\":\"Set-Mailbox\",\"ObjectId\":\"a]b}\\\"c[{\"},\n"
      " {\"CreationTime\":\"2022-09-01T10:00:01Z\",\"Operation\":\"New-TransportRule\",\"Parameters\":[{\"Name\":\"RemoveHeader\",\"Value\":\"ARC-Seal\"}]}\n]\n";
  auto c = read_text(text);
  CHECK(c.diags.empty());
  REQUIRE(c.records.size() == 2);
  CHECK(c.records[0].object_id == "a]b}\"c[{");
  CHECK(c.records[1].line == 3);
  REQUIRE(c.records[1].param("removeheader"));
  CHECK(c.records[1].param("RemoveHeader")->value == "ARC-Seal");
}

TEST_CASE("JSON Lines wrappers: Search-UnifiedAuditLog objects and CloudAppEvents rows") {
  std::string text =
      R"({"CreationDate":"2022-09-01 10:00:00","Operations":"Set-Mailbox","AuditData":"{\"CreationTime\":\"2022-09-01T10:00:00\",\"Operation\":\"Set-Mailbox\",\"OrganizationId\":\"o1\"}"})"
      "\n"
      R"({"Timestamp":"2022-09-01T10:00:05.1230000Z","ActionType":"New-InboundConnector","IPAddress":"198.51.100.1","UserAgent":"ua/1","RawEventData":{"CreationTime":"2022-09-01T10:00:05","Operation":"New-InboundConnector","OrganizationId":"o2"}})"
      "\n";
  auto c = read_text(text);
  CHECK(c.diags.empty());
  REQUIRE(c.records.size() == 2);
  CHECK(c.records[0].organization_id == "o1");
  CHECK(c.records[1].operation == "New-InboundConnector");
  CHECK(c.records[1].client_ip == "198.51.100.1");
  CHECK(c.records[1].user_agent == "ua/1");
}

TEST_CASE("not an audit export, empty file and unreadable file") {
  auto c = read_text("hello,world\r\n1,2\r\n");
  CHECK(c.summary.fatal);
  REQUIRE(c.diags.size() == 1);
  CHECK(c.diags[0].fatal);
  auto e = read_text("");
  CHECK(!e.summary.fatal);
  CHECK(e.records.empty());
  Collected m;
  m.summary = read_audit_file("/nonexistent/x.csv", nullptr, [&](const Diagnostic& d) { m.diags.push_back(d); });
  CHECK(m.summary.fatal);
  REQUIRE(m.diags.size() == 1);
  CHECK(m.diags[0].reason.find("cannot open") == 0);
}

TEST_CASE("time parsing and formatting") {
  std::int64_t t = 0;
  REQUIRE(parse_time("2022-09-01T10:02:11", t));
  CHECK(format_time(t) == "2022-09-01T10:02:11Z");
  REQUIRE(parse_time("2022-09-01T10:02:11.1234567Z", t));
  CHECK(format_time(t) == "2022-09-01T10:02:11Z");
  REQUIRE(parse_time("2022-09-01 12:02:11+02:00", t));
  CHECK(format_time(t) == "2022-09-01T10:02:11Z");
  REQUIRE(parse_time("1970-01-01T00:00:00Z", t));
  CHECK(t == 0);
  CHECK(!parse_time("9/1/2022 10:02:11 AM", t));
  CHECK(!parse_time("2022-13-01T10:02:11", t));
  CHECK(!parse_time("2022-09-01T10:02:11junk", t));
}

TEST_CASE("UTF-8 repair") {
  std::string s = "ok \xE9t\xC3\xA9 \xF0\x9F\x98\x80 \xED\xA0\x80";
  CHECK(repair_utf8(s) == 4);  // é (Latin-1), and the 3 bytes of an encoded surrogate
  CHECK(s == "ok \xEF\xBF\xBDt\xC3\xA9 \xF0\x9F\x98\x80 \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  std::string good = "plain ascii";
  CHECK(repair_utf8(good) == 0);
}

TEST_CASE("deeply nested JSON is refused, not recursed into") {
  std::string deep = "{\"CreationTime\":\"2022-09-01T10:00:00\",\"Operation\":\"Set-Mailbox\",\"X\":" +
                     std::string(100000, '[') + std::string(100000, ']') + "}\n";
  auto c = read_text(deep + "{\"CreationTime\":\"2022-09-01T10:00:01\",\"Operation\":\"Set-Mailbox\"}\n");
  REQUIRE(c.diags.size() == 1);
  CHECK(c.diags[0].line == 1);
  CHECK(c.diags[0].reason.find("nested deeper than 64") != std::string::npos);
  CHECK(c.records.size() == 1);
}

TEST_CASE("the newer Purview CSV layout (RecordId, ..., AuditData, AssociatedAdminUnits...)") {
  std::string text =
      "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n"
      "5f1e,2022-09-01T10:02:11Z,ExchangeAdmin,New-InboundConnector,sp,\"{\"\"CreationTime\"\":\"\"2022-09-01T10:02:11\"\","
      "\"\"Operation\"\":\"\"New-InboundConnector\"\",\"\"Parameters\"\":[{\"\"Name\"\":\"\"Name\"\",\"\"Value\"\":\"\"Ran_jBelh\"\"}]}\",,\r\n";
  auto c = read_text(text);
  CHECK(c.diags.empty());
  CHECK(c.summary.format == InputFormat::purview_csv);
  REQUIRE(c.records.size() == 1);
  CHECK(c.records[0].param("Name")->value == "Ran_jBelh");
  CHECK(c.records[0].user_id == "sp");
}
