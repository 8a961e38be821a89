// mime_sources_msg_test.cpp: Outlook .msg files (mime/sources/source_msg.cpp, cfb.cpp,
// outlook.cpp, rtf.cpp) on the real files of ../shared/corpus/outlook/msg, against the oracle
// msgconvert (Debian libemail-outlook-message-perl) run at test time: where a .msg has
// transport headers, every header field hdrscan takes from them equals msgconvert's, field by
// field (less the fields msgconvert itself drops or writes: the MIME structure fields,
// X-Mailer, X-MS-TNEF-Correlator, X-MS-Has-Attach, and a Date it makes up from the properties
// when the headers have none); subject and Message-ID always agree; where
// there are none, the subject agrees. Then what the oracle does not do: the HTML
// de-encapsulated from compressed RTF, embedded messages as message/rfc822 parts; and the
// [MS-OXRTFCP] decompressor on the specification's own example, damaged files and the
// not-mail cases.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "mime/message.hpp"
#include "mime/sources/rtf.hpp"
#include "mime/sources/sources.hpp"
#include "mime/utf8.hpp"
#include "tests/support/test_support.hpp"

namespace fs = std::filesystem;
using hdrscan::mime::RawMessage;

namespace {

std::vector<RawMessage> read_all(std::unique_ptr<hdrscan::mime::MessageSource> s) {
  std::vector<RawMessage> all;
  RawMessage m;
  while (s->next(m)) all.push_back(m);
  return all;
}

// Header fields by lower-case name: decoded values, blanks collapsed (msgconvert refolds).
std::map<std::string, std::vector<std::string>> fields_of(const std::string& bytes) {
  const auto msg = hdrscan::mime::parse_message(bytes);
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& f : msg.headers.fields) {
    std::string name(f.name), v;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char c : f.decoded) {
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        if (!v.empty() && v.back() != ' ') v += ' ';
      } else {
        v += c;
      }
    }
    while (!v.empty() && v.back() == ' ') v.pop_back();
    out[name].push_back(v);
  }
  return out;
}

std::string run_msgconvert(const fs::path& msg, const fs::path& dir) {
  const fs::path eml = dir / (msg.stem().string() + ".eml");
  const std::string cmd = "msgconvert --outfile '" + eml.string() + "' '" + msg.string() +
                          "' >/dev/null 2>&1";
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0,
                  "msgconvert failed or is missing (Debian libemail-outlook-message-perl and "
                  "libemail-address-perl, tools/install-deps.sh): " << cmd);
  return hdrscan::test::slurp(eml);
}

}  // namespace

TEST_CASE("compressed RTF: the [MS-OXRTFCP] example decompresses exactly") {
  // [MS-OXRTFCP] 3.1.1: "{\rtf1\ansi\ansicpg1252\pard hello world}\r\n", compressed.
  const unsigned char in[] = {0x2d, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x00, 0x4c, 0x5a, 0x46,
                              0x75, 0xf1, 0xc5, 0xc7, 0xa7, 0x03, 0x00, 0x0a, 0x00, 0x72, 0x63,
                              0x70, 0x67, 0x31, 0x32, 0x35, 0x42, 0x32, 0x0a, 0xf3, 0x20, 0x68,
                              0x65, 0x6c, 0x09, 0x00, 0x20, 0x62, 0x77, 0x05, 0xb0, 0x6c, 0x64,
                              0x7d, 0x0a, 0x80, 0x0f, 0xa0};
  std::string out, error;
  REQUIRE(hdrscan::mime::detail::rtf_decompress(
      std::string_view(reinterpret_cast<const char*>(in), sizeof in), 1 << 20, out, error));
  CHECK(out == "{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n");
  CHECK_FALSE(hdrscan::mime::detail::rtf_decompress("short", 1 << 20, out, error));
  std::string bad(reinterpret_cast<const char*>(in), sizeof in);
  bad[8] = 'X';  // neither LZFu nor MELA
  CHECK_FALSE(hdrscan::mime::detail::rtf_decompress(bad, 1 << 20, out, error));
}

TEST_CASE("RTF de-encapsulation: the HTML of \\fromhtml1, nothing of \\htmlrtf or tables") {
  using hdrscan::mime::detail::rtf_html;
  const std::string rtf =
      "{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0{\\fonttbl{\\f0\\fswiss Arial;}}"
      "{\\colortbl\\red0\\green0\\blue0;}"
      "{\\*\\htmltag19 <html>}{\\*\\htmltag34 <body>}\\htmlrtf {\\f0 rtf only}\\htmlrtf0 "
      "Caf\\'e9 \\u8364?{\\*\\htmltag84 <a href=\"http://x.example/\">}click"
      "{\\*\\htmltag92 </a>}\\par {\\*\\mhtmltag84 <a href=\"cid:y\">}\\{x\\}"
      "{\\*\\htmltag58 </body></html>}}";
  auto html = rtf_html(rtf);
  REQUIRE(html);
  CHECK(*html == "<html><body>Caf\xc3\xa9 \xe2\x82\xac<a href=\"http://x.example/\">click</a>\r\n"
                 "{x}</body></html>");
  CHECK_FALSE(rtf_html("{\\rtf1\\ansi\\fromtext plain}"));
  // A character outside the BMP is two \\uN (a UTF-16 pair): one character; a lone half, an
  // out-of-range value and \\u0 are U+FFFD, never invalid UTF-8.
  CHECK(*rtf_html("{\\rtf1\\fromhtml1 {\\*\\htmltag19 <p>}\\u-10179?\\u-8704?!}") == "<p>\xf0\x9f\x98\x80!");
  CHECK(*rtf_html("{\\rtf1\\fromhtml1 \\u-10179?x\\u-8704?\\u1114112?\\u0?}") ==
        "\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  // windows-1252's 0x80-0x9F and Latin-1 above them.
  CHECK(*rtf_html("{\\rtf1\\fromhtml1 \\'93q\\'94 \\'e9}") == "\xe2\x80\x9cq\xe2\x80\x9d \xc3\xa9");
  // Hostile nesting is flattened, not a crash.
  CHECK(rtf_html("{\\rtf1\\fromhtml1 " + std::string(100000, '{') + "x")->find('x') !=
        std::string::npos);
}

TEST_CASE("UTF-16LE strings (the .msg properties, compound-file names) as UTF-8") {
  using hdrscan::mime::utf16le_to_utf8;
  using namespace std::string_literals;
  CHECK(utf16le_to_utf8("A\0\xe9\0\xac\x20"s) == "A\xc3\xa9\xe2\x82\xac");
  CHECK(utf16le_to_utf8("\x3d\xd8\x00\xde"s) == "\xf0\x9f\x98\x80");          // a pair
  CHECK(utf16le_to_utf8("\x3d\xd8x\0"s) == "\xef\xbf\xbdx");                    // lone high half
  CHECK(utf16le_to_utf8("\x00\xdex\0\x3d\xd8"s) == "\xef\xbf\xbdx\xef\xbf\xbd");  // lone low, cut pair
  CHECK(utf16le_to_utf8("a\0\0\0b"s) == "a\0"s);  // NUL kept, an odd last byte ignored
}

TEST_CASE("real .msg files agree with msgconvert, header field by header field" *
          hdrscan::test::needs_shared()) {
  const fs::path dir = hdrscan::test::shared_path("outlook/msg");
  char tmpl[] = "/tmp/hdrscan-msg-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const fs::path scratch = tmpl;
  const std::vector<std::string> oracle_own = {"mime-version", "content-type",
                                               "content-transfer-encoding", "content-disposition",
                                               "x-mailer", "x-ms-tnef-correlator",
                                               "x-ms-has-attach"};
  std::size_t files = 0, with_headers = 0, top_with_headers = 0, compared_fields = 0;
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(dir)) paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    CAPTURE(p.filename().string());
    auto all = read_all(hdrscan::mime::open_source(p.string()));
    REQUIRE(all.size() == 1);
    const RawMessage& m = all[0];
    CHECK(m.error.empty());
    CHECK(m.not_mail.empty());
    ++files;
    // The message and the first embedded one (msgInMsg: only the embedded one was sent).
    const auto ours_msg = hdrscan::mime::parse_message(m.bytes);
    const std::string oracle_bytes = run_msgconvert(p, scratch);
    const auto oracle_msg = hdrscan::mime::parse_message(oracle_bytes);
    for (int level = 0; level < 2; ++level) {
      CAPTURE(level);
      if (level == 1 && (ours_msg.nested.empty() || oracle_msg.nested.empty())) break;
      auto ours = fields_of(level == 0 ? m.bytes : std::string(ours_msg.nested[0].raw));
      auto oracle = fields_of(level == 0 ? oracle_bytes : std::string(oracle_msg.nested[0].raw));
      CHECK(ours["subject"] == oracle["subject"]);
      if (!ours.count("received")) continue;  // no transport headers: the subject only
      ++with_headers;
      CHECK(ours["message-id"] == oracle["message-id"]);
      for (auto* side : {&ours, &oracle})
        for (const auto& skip : oracle_own) side->erase(skip);
      // msgconvert writes a Date from the properties when the transport headers have none
      // (msgInMsg's embedded message); hdrscan keeps what the headers say.
      if (!ours.count("date")) oracle.erase("date");
      for (const auto& [name, values] : oracle) {
        CAPTURE(name);
        CHECK(ours[name] == values);
        ++compared_fields;
      }
      for (const auto& [name, values] : ours) {
        CAPTURE(name);
        CHECK(oracle.count(name) == 1);  // no field the oracle does not have
      }
    }
    if (m.note.find("msg_no_transport_headers") == std::string::npos) ++top_with_headers;
  }
  CHECK(files == 13);
  // ../shared/corpus/README.md: 7 files whose msgconvert output has Received lines; in one
  // (msgInMsg) only the embedded message has them; two embedded messages have their own.
  CHECK(top_with_headers == 6);
  CHECK(with_headers == 8);
  CHECK(compared_fields > 180);
  fs::remove_all(scratch);
}

TEST_CASE("what the oracle does not do: HTML from RTF, embedded messages, 8-bit headers" *
          hdrscan::test::needs_shared()) {
  auto one = [](const char* rel) {
    auto all = read_all(hdrscan::mime::open_source(hdrscan::test::shared_path(rel).string()));
    REQUIRE(all.size() == 1);
    return all[0];
  };
  // Only compressed RTF holds the HTML body: it is de-encapsulated (msgconvert leaves it out).
  const RawMessage rtf = one("outlook/msg/MSGReader_HtmlSampleEmail.msg");
  const auto parsed = hdrscan::mime::parse_message(rtf.bytes);
  const auto* html = parsed.first_html();
  REQUIRE(html != nullptr);
  CHECK(html->text.find("www.leeds.gov.uk") != std::string::npos);
  CHECK(parsed.html.links.size() > 0);
  // An embedded .msg becomes a message/rfc822 part, analysed like a forwarded mail.
  const RawMessage fw = one("outlook/msg/MSGReader_EmailWithMsgAttachment.msg");
  const auto outer = hdrscan::mime::parse_message(fw.bytes);
  REQUIRE(outer.nested.size() == 1);
  const auto* inner_subject = outer.nested[0].headers.first("Subject");
  REQUIRE(inner_subject != nullptr);
  CHECK(inner_subject->decoded == "Msg Attachment Test");
  CHECK(outer.headers.first("X-Forefront-Antispam-Report") != nullptr);
  // 8-bit transport headers (007D001E) keep their bytes; the subject decodes as mail does.
  const RawMessage special = one("outlook/msg/MSGReader_EmailWithSpecialCharsInSubject.msg");
  CHECK(special.note.empty());
  // A sent item says it has no transport headers (a defect in the record).
  const RawMessage sent = one("outlook/msg/msgreaderjs_sent.msg");
  CHECK(sent.note.rfind("msg_no_transport_headers:", 0) == 0);
  CHECK(fields_of(sent.bytes)["from"] ==
        std::vector<std::string>{"\"xmailuser\" <xmailuser@xmailserver.test>"});
}

TEST_CASE("damaged .msg files: an error with a code, never a crash" *
          hdrscan::test::needs_shared()) {
  const std::string good = hdrscan::test::slurp(
      hdrscan::test::shared_path("outlook/msg/MSGReader_EmailWithMsgAttachment.msg"));
  auto read = [](const std::string& bytes) {
    return read_all(hdrscan::mime::open_buffer(bytes, "x.msg"));
  };
  auto cut = read(good.substr(0, good.size() / 2));
  REQUIRE(cut.size() == 1);
  CHECK((cut[0].error_code == "corrupt" || cut[0].note.find("unreadable") != std::string::npos));
  // Flipped bytes all over the file (a poor man's fuzzer: the real one is fuzz_msg): every
  // result is one message, an error with a code, or not mail.
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int round = 0; round < 300; ++round) {
    std::string b = good;
    for (int k = 0; k < 8; ++k) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      b[512 + x % (b.size() - 512)] = static_cast<char>(x >> 32);
    }
    auto r = read(b);
    REQUIRE(r.size() == 1);
    if (!r[0].error.empty()) CHECK(!r[0].error_code.empty());
  }
  // A compound file that holds no message (an Office document) is read and is not mail.
  std::string doc = good;
  // Rename every "__substg1.0_" and "__properties" entry: no message properties are left.
  for (const char* from : {"_\0_\0s\0u\0b\0s\0t\0g\0", "_\0_\0p\0r\0o\0p\0e\0r\0"}) {
    const std::string pat(from, 16);
    for (auto at = doc.find(pat); at != std::string::npos; at = doc.find(pat, at + 1))
      doc[at] = 'W';
  }
  auto d = read(doc);
  REQUIRE(d.size() == 1);
  CHECK(d[0].not_mail.find("without message properties") != std::string::npos);
}

TEST_CASE("PST: a message read by libpff equals its .msg twin read by the own reader" *
          hdrscan::test::needs_shared()) {
  // ruby-msg's msgInMsg.pst and msgreader's msgInMsg.msg hold the same message (an Outlook
  // test message attached to "I have attachments!"); readpst writes only part of the attached
  // message's transport headers (Received, From, To, Subject; not Return-Path, Delivered-To,
  // X-AuthUser), so the .msg reader (checked against msgconvert above) is the oracle for the
  // whole block here, and readpst -e for the fields it does write.
  auto pst = read_all(hdrscan::mime::open_source(
      hdrscan::test::shared_path("outlook/pst/rubymsg_msgInMsg.pst").string()));
  auto msg = read_all(hdrscan::mime::open_source(
      hdrscan::test::shared_path("outlook/msg/msgreaderjs_msgInMsg.msg").string()));
  REQUIRE(pst.size() == 1);
  REQUIRE(msg.size() == 1);
  CHECK(pst[0].where.folder.rfind("/", 0) == 0);
  CHECK(pst[0].where.index == 0u);
  const auto a = hdrscan::mime::parse_message(pst[0].bytes);
  const auto b = hdrscan::mime::parse_message(msg[0].bytes);
  CHECK(fields_of(pst[0].bytes)["subject"] == fields_of(msg[0].bytes)["subject"]);
  REQUIRE(a.nested.size() == 1);
  REQUIRE(b.nested.size() == 1);
  auto fa = fields_of(std::string(a.nested[0].raw));
  auto fb = fields_of(std::string(b.nested[0].raw));
  CHECK(fa.count("received") == 1);
  for (const char* f : {"content-type", "mime-version"}) {
    fa.erase(f);
    fb.erase(f);
  }
  CHECK(fa == fb);
  CHECK(a.nested[0].first_html() != nullptr);  // the attached message's HTML, from its RTF

  // readpst -e (pst-utils): the outer message's subject, and every transport field it writes
  // for the attached message equal ours (the outer message has no transport headers: readpst
  // makes its own From and Status up).
  char tmpl[] = "/tmp/hdrscan-pst-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const fs::path scratch = tmpl;
  const std::string cmd = "readpst -q -e -o '" + scratch.string() + "' '" +
                          hdrscan::test::shared_path("outlook/pst/rubymsg_msgInMsg.pst").string() +
                          "' >/dev/null 2>&1";
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "readpst failed or is missing (pst-utils, tools/install-deps.sh)");
  std::vector<fs::path> emls;
  for (const auto& e : fs::recursive_directory_iterator(scratch))
    if (e.path().extension() == ".eml") emls.push_back(e.path());
  REQUIRE(emls.size() == 1);
  const std::string oracle_bytes = hdrscan::test::slurp(emls[0]);
  fs::remove_all(scratch);
  const auto o = hdrscan::mime::parse_message(oracle_bytes);
  CHECK(fields_of(oracle_bytes)["subject"] == fields_of(pst[0].bytes)["subject"]);
  REQUIRE(o.nested.size() == 1);
  auto fo = fields_of(std::string(o.nested[0].raw));
  for (const char* f : {"received", "from", "to", "subject"}) {
    INFO("field " << f);
    REQUIRE(fo.count(f) == 1);
    CHECK(fo[f] == fa[f]);
  }
}
