// The header-meaning table explain shows (corpus/knowledge/header-meanings.tsv, compiled in):
// the built-in copy is the file in the tree and parses without a problem; the parser refuses
// what the format forbids (an entry without @source, a repeated entry, a malformed line),
// naming the line; the lookups are case-insensitive and follow the format's precedence rules.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "scanner/explain/meanings.hpp"

using hdrscan::scanner::HeaderMeanings;

namespace {

HeaderMeanings parse(const std::string& body, std::vector<std::string>& errors) {
  return HeaderMeanings::parse("@format hdrscan-header-meanings 1\n" + body, errors);
}

}  // namespace

TEST_CASE("header meanings: the compiled-in table is the file in the tree, and parses clean") {
  std::ifstream in(std::string(HDRSCAN_SOURCE_DIR) + "/corpus/knowledge/header-meanings.tsv",
                   std::ios::binary);
  REQUIRE(in);
  std::ostringstream file;
  file << in.rdbuf();
  CHECK(hdrscan::scanner::header_meanings_text() == file.str());

  std::vector<std::string> errors;
  const HeaderMeanings m = HeaderMeanings::parse(file.str(), errors);
  CHECK(errors.empty());
  for (const auto& e : errors) MESSAGE(e);
  CHECK(m.antispam_headers.size() >= 5);
  CHECK(!m.antispam_keys.empty());
  CHECK(!m.antispam_values.empty());
  CHECK(!m.exchange_headers.empty());
  CHECK(!m.exchange_prefixes.empty());
  CHECK(!m.exchange_values.empty());
  CHECK(!m.compauth_reasons.empty());
  CHECK(!m.compauth_classes.empty());
  CHECK(&HeaderMeanings::builtin() == &HeaderMeanings::builtin());
  CHECK(HeaderMeanings::builtin().antispam_keys.size() == m.antispam_keys.size());
}

TEST_CASE("header meanings: every problem is reported with its line and the entry is skipped") {
  std::vector<std::string> errors;
  auto m = HeaderMeanings::parse("antispam-key\tSCL\tspam confidence level\n", errors);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "line 1: entry before @format hdrscan-header-meanings 1");

  errors.clear();
  m = parse("antispam-key\tSCL\tspam confidence level\n"                // line 2: no @source
            "@source test\n"
            "antispam-key\tSCL\tspam confidence level\n"                // ok
            "antispam-key\tscl\tagain\n"                                // line 5: repeat
            "antispam-value\tSCL\t5\n"                                  // line 6: a field short
            "antispam-kee\tSCL\tx\n"                                    // line 7: unknown kind
            "compauth-reason\t01\tx\n"                                  // line 8: not 3 digits
            "compauth-class\t1x\tx\n"                                   // line 9: not 1 digit
            "exchange-header\tX-A\t \n"                                 // line 10: empty field
            "@source\n",                                                // line 11: no text
            errors);
  const std::vector<std::string> want = {
      "line 2: entry outside any @source",
      "line 5: repeats an earlier antispam-key entry",
      "line 6: antispam-value takes 3 TAB-separated fields, not 2",
      "line 7: unknown kind 'antispam-kee'",
      "line 8: compauth-reason CODE is three digits",
      "line 9: compauth-class DIGIT is one digit",
      "line 10: empty field",
      "line 11: @source without a text",
  };
  CHECK(errors == want);
  REQUIRE(m.antispam_keys.size() == 1);
  CHECK(m.antispam_keys[0].text == "spam confidence level");

  errors.clear();
  HeaderMeanings::parse("# nothing\n", errors);
  CHECK(errors == std::vector<std::string>{"no @format hdrscan-header-meanings 1 line"});
}

TEST_CASE("header meanings: lookups") {
  std::vector<std::string> errors;
  const auto m = parse("@source test\r\n"
                       "antispam-key\tSFV\tspam filtering verdict\r\n"
                       "antispam-value\tSFV\tSPM\tmarked spam\n"
                       "exchange-header\tX-MS-Exchange-CrossTenant-AuthAs\thow it authenticated\n"
                       "exchange-prefix\tX-MS-Exchange-CrossTenant-\n"
                       "exchange-value\tAuthAs\tAnonymous\tunauthenticated\n"
                       "exchange-value\tAs\tAnonymous\tshadowed by the entry above\n"
                       "compauth-reason\t001\tfailed implicit\n"
                       "compauth-class\t0\tfailed\n"
                       "compauth-class\t1\tpassed\n",
                       errors);
  REQUIRE(errors.empty());
  CHECK(m.key_meaning("sfv") == "spam filtering verdict");
  CHECK(m.key_meaning("SCL").empty());
  CHECK(m.value_meaning("sfv", "spm") == "marked spam");
  CHECK(m.value_meaning("SFV", "NSPM").empty());
  CHECK(m.header_meaning("x-ms-exchange-crosstenant-authas") == "how it authenticated");
  CHECK(m.exchange_family("X-MS-Exchange-CrossTenant-Id"));
  CHECK_FALSE(m.exchange_family("X-MS-Exchange-Organization-Id"));
  CHECK(m.exchange_value("X-MS-Exchange-Organization-AuthAs", "anonymous") == "unauthenticated");
  CHECK(m.exchange_value("X-MS-Exchange-Organization-AuthAs", "Internal").empty());
  CHECK(m.compauth("001") == "failed implicit");  // the exact code before its class
  CHECK(m.compauth("000") == "failed");
  CHECK(m.compauth("109") == "passed");
  CHECK(m.compauth("509").empty());
  CHECK(m.compauth("10").empty());
}
