// mime_sources_test.cpp: the input readers (mime/sources/sources.hpp) on real and hand-made
// inputs:
// .eml line endings, every mbox variant (mboxo, mboxrd, mboxcl/cl2 Content-Length framing that
// checks out and that lies, CRLF), Maildir, directory order, zip (caps, hostile member names,
// nothing written to disk), pipes (stdin), unreadable entries, and the mbox files of the
// shared corpus with message counts verified by hand; content detection by magic bytes, the
// mail-likeness check, locations (escaping, parse_location), archives and compressed files
// (tar.gz, gzip, xz, nested, encrypted zips, depth and size limits, every failure code).
// Archives are written with libarchive's writer here; tests/integration/scan_archives.sh
// builds them with independent tools (zip, 7z, tar, gzip).
// Scratch files live in a fresh mkdtemp directory under /tmp, removed at the end of each case.
#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "mime/sources/dynlib.hpp"
#include "mime/sources/readers.hpp"
#include "mime/sources/source_window.hpp"
#include "mime/sources/sources.hpp"
#include "tests/support/test_support.hpp"

namespace fs = std::filesystem;
using hdrscan::mime::detect_kind;
using hdrscan::mime::InputKind;
using hdrscan::mime::RawMessage;
using hdrscan::mime::ReaderOptions;
using hdrscan::mime::SourceLocation;

namespace {

struct ScratchDir {
  fs::path path;
  ScratchDir() {
    char tmpl[] = "/tmp/hdrscan-sources-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& rel, const std::string& bytes) const {
    fs::path p = path / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
};

std::vector<RawMessage> read_all(std::unique_ptr<hdrscan::mime::MessageSource> source) {
  std::vector<RawMessage> all;
  RawMessage m;
  while (source->next(m)) all.push_back(m);
  return all;
}

std::vector<RawMessage> read_path(const std::string& path, const ReaderOptions& opt = {}) {
  return read_all(hdrscan::mime::open_source(path, opt));
}

std::vector<RawMessage> read_mbox(const std::string& bytes, const ReaderOptions& opt = {}) {
  return read_all(hdrscan::mime::open_mbox_buffer(bytes, "box", opt));
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A zip written with libarchive; entries with an empty body and a trailing '/' are dirs.
void write_zip(const std::string& path,
               const std::vector<std::pair<std::string, std::string>>& members) {
  struct archive* a = archive_write_new();
  REQUIRE(archive_write_set_format_zip(a) == ARCHIVE_OK);
  REQUIRE(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK);
  for (const auto& [name, body] : members) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    bool dir = !name.empty() && name.back() == '/';
    archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, dir ? 0 : static_cast<la_int64_t>(body.size()));
    REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    if (!dir) REQUIRE(archive_write_data(a, body.data(), body.size()) ==
                      static_cast<la_ssize_t>(body.size()));
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

// Any archive written with libarchive: `format` e.g. ARCHIVE_FORMAT_TAR_PAX_RESTRICTED,
// `filter` ARCHIVE_FILTER_NONE/GZIP/XZ, `options` for archive_write_set_options ("" none).
// The raw format writes the one member's bytes alone (a compressed single file).
std::string write_archive(const std::string& path, int format, int filter,
                          const std::vector<std::pair<std::string, std::string>>& members,
                          const std::string& options = "", const std::string& passphrase = "") {
  struct archive* a = archive_write_new();
  REQUIRE(archive_write_set_format(a, format) == ARCHIVE_OK);
  if (filter != ARCHIVE_FILTER_NONE) REQUIRE(archive_write_add_filter(a, filter) == ARCHIVE_OK);
  if (!options.empty()) REQUIRE(archive_write_set_options(a, options.c_str()) == ARCHIVE_OK);
  if (!passphrase.empty()) REQUIRE(archive_write_set_passphrase(a, passphrase.c_str()) == ARCHIVE_OK);
  REQUIRE(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK);
  for (const auto& [name, body] : members) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(body.size()));
    REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    REQUIRE(archive_write_data(a, body.data(), body.size()) == static_cast<la_ssize_t>(body.size()));
    archive_entry_free(e);
  }
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
  return path;
}

const std::string kMsgA = "From: a@example.com\nSubject: A\n\nbody A\n";
const std::string kMsgB = "From: b@example.com\nSubject: B\n\nbody B\n";

}  // namespace

TEST_CASE("SourceLocation::to_string names path, member, index and offset") {
  SourceLocation w;
  w.path = "box.mbox";
  CHECK(w.to_string() == "box.mbox");
  w.index = 3;
  w.offset = 1024;
  CHECK(w.to_string() == "box.mbox#3@1024");
  SourceLocation z;
  z.path = "q.zip";
  z.member = "in/x.eml";
  CHECK(z.to_string() == "q.zip!in/x.eml");
}

TEST_CASE("eml: any line ending, a leading From line dropped, no trailing newline kept") {
  ScratchDir dir;
  SUBCASE("CRLF, LF and bare CR bytes are passed through unchanged") {
    for (std::string eol : {"\r\n", "\n", "\r"}) {
      std::string msg = "Subject: x" + eol + "To: y@example.com" + eol + eol + "hi" + eol;
      auto all = read_path(dir.write("m.eml", msg));
      REQUIRE(all.size() == 1);
      CHECK(all[0].bytes == msg);
      CHECK(all[0].error.empty());
      CHECK(all[0].where.to_string() == (dir.path / "m.eml").string());
      CHECK_FALSE(all[0].where.index.has_value());
    }
  }
  SUBCASE("a leading mbox separator line is dropped from an .eml") {
    std::string msg = "Subject: x\r\n\r\nFrom me Mon Jan  1 00:00:00 2001\r\n";
    auto all = read_path(dir.write("m.eml", "From someone@example.com Mon Jan  1 00:00:00 2001\r\n" + msg));
    REQUIRE(all.size() == 1);
    CHECK(all[0].bytes == msg);  // one message: an .eml is never split
    CHECK(detect_kind((dir.path / "m.eml").string()) == InputKind::eml);
  }
  SUBCASE("no trailing newline") {
    auto all = read_path(dir.write("n.eml", "Subject: x\n\nlast line"));
    REQUIRE(all.size() == 1);
    CHECK(all[0].bytes == "Subject: x\n\nlast line");
  }
  SUBCASE("an empty file is one message with error_code empty_input") {
    auto all = read_path(dir.write("e.eml", ""));
    REQUIRE(all.size() == 1);
    CHECK(all[0].error_code == "empty_input");
    CHECK(all[0].bytes.empty());
  }
  SUBCASE("over max_message_bytes: yielded truncated, too_large") {
    ReaderOptions opt;
    opt.max_message_bytes = 16;
    auto all = read_path(dir.write("big.eml", "Subject: 0123456789abcdef\n\nbody\n"), opt);
    REQUIRE(all.size() == 1);
    CHECK(all[0].truncated);
    CHECK(all[0].error_code == "too_large");
    CHECK(all[0].bytes == "Subject: 0123456");
  }
}

TEST_CASE("mbox: split at From lines with index and offset, framing line dropped") {
  std::string box = "From a@example.com Mon Jan  1 00:00:00 2001\n" + kMsgA + "\n" +
                    "From b@example.com Tue Jan  2 00:00:00 2001\n" + kMsgB + "\n";
  auto all = read_mbox(box);
  REQUIRE(all.size() == 2);
  CHECK(all[0].bytes == kMsgA);
  CHECK(all[1].bytes == kMsgB);
  CHECK(*all[0].where.index == 0);
  CHECK(*all[1].where.index == 1);
  // offset = first byte of the message (just after its separator line)
  CHECK(*all[0].where.offset == 44);
  CHECK(box.compare(*all[1].where.offset, kMsgB.size(), kMsgB) == 0);
  CHECK(all[1].where.to_string() == "box#1@" + std::to_string(*all[1].where.offset));
  CHECK(read_mbox("").empty());
  SUBCASE("a separator line with nothing after it is an empty message, reported") {
    auto tail = read_mbox(box + "From z Mon Jan  1 00:00:00 2001");
    REQUIRE(tail.size() == 3);
    CHECK(tail[1].bytes == kMsgB);
    CHECK(tail[2].bytes.empty());
    CHECK(tail[2].error_code == "empty_input");
  }
  SUBCASE("a separator line longer than a tiny max_message_bytes is still dropped") {
    ReaderOptions tiny;
    tiny.max_message_bytes = 8;
    auto cut = read_mbox(box, tiny);
    REQUIRE(cut.size() == 2);
    CHECK(cut[0].bytes == kMsgA.substr(0, 8));
    CHECK(cut[1].bytes == kMsgB.substr(0, 8));
  }
}

TEST_CASE("mbox with CRLF line endings") {
  std::string a = "Subject: A\r\n\r\nbody A\r\n";
  std::string b = "Subject: B\r\n\r\nbody B\r\n";
  auto all = read_mbox("From x Mon Jan  1 00:00:00 2001\r\n" + a + "\r\n" +
                       "From y Mon Jan  1 00:00:00 2001\r\n" + b + "\r\n");
  REQUIRE(all.size() == 2);
  CHECK(all[0].bytes == a);
  CHECK(all[1].bytes == b);
  SUBCASE("with a Content-Length that checks out across a CRLF empty line") {
    std::string body = "x\r\n\r\nFrom z Mon Jan  1 00:00:00 2001\r\nSubject: in body\r\n";
    std::string c = "Subject: C\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    auto framed = read_mbox("From x Mon Jan  1 00:00:00 2001\r\n" + c + "\r\n" +
                            "From y Mon Jan  1 00:00:00 2001\r\n" + b);
    REQUIRE(framed.size() == 2);
    CHECK(framed[0].bytes == c);
    CHECK(framed[0].note.empty());
    CHECK(framed[1].bytes == b);
  }
}

TEST_CASE("mboxrd: one '>' removed from >+From lines - other > lines untouched") {
  std::string box =
      "From x Mon Jan  1 00:00:00 2001\nSubject: q\n\n>From here\n>>From there\n> quoted\n"
      ">>> deep\n>Fromage\n";
  auto all = read_mbox(box);
  REQUIRE(all.size() == 1);
  CHECK(all[0].bytes == "Subject: q\n\nFrom here\n>From there\n> quoted\n>>> deep\n>Fromage\n");
}

TEST_CASE("mboxo: unquoted From lines in a body do not split") {
  std::string body =
      "Subject: q\n\nHello\n\nFrom time to time\n\nFrom Russia with love\nYear: 1963\n"
      "signed,\nFrom the team\nFrom x Mon Jan  1 00:00:00 2001\nnot a header line\n";
  auto all = read_mbox("From x Mon Jan  1 00:00:00 2001\n" + body);
  REQUIRE(all.size() == 1);
  CHECK(all[0].bytes == body);
}

TEST_CASE("mbox separators without an empty line before them (Thunderbird From -)") {
  auto all = read_mbox("From - \nSubject: 1\n\nlast line of 1\nFrom - Fri Dec 13 15:01:22 1996\n"
                       "Subject: 2\n\ntwo\n\nFrom 123@xxx\nSubject: 3\n\nthree");
  REQUIRE(all.size() == 3);
  CHECK(all[0].bytes == "Subject: 1\n\nlast line of 1\n");
  SUBCASE("an address with an ISO date is a separator when a header follows") {
    auto iso = read_mbox("From a@b 2024-01-01T10:00:00Z\nSubject: 1\n\none\n\n"
                         "From c@d 2024-01-02T10:00:00Z\nSubject: 2\n\ntwo\n\n"
                         "From e@f said:\n\nquoted\n");
    REQUIRE(iso.size() == 2);
    CHECK(iso[1].bytes == "Subject: 2\n\ntwo\n\nFrom e@f said:\n\nquoted\n");
  }
  CHECK(all[1].bytes == "Subject: 2\n\ntwo\n");
  SUBCASE("an address-only From line inside a header block is a broken field, not a split") {
    auto broken = read_mbox("From x Mon Jan  1 00:00:00 2001\nSubject: q\nFrom bad@example.com\n"
                            "To: y@example.com\n\nbody\n");
    REQUIRE(broken.size() == 1);
    CHECK(broken[0].bytes == "Subject: q\nFrom bad@example.com\nTo: y@example.com\n\nbody\n");
  }
  CHECK(all[2].bytes == "Subject: 3\n\nthree");  // no trailing newline at the end
}

TEST_CASE("mboxcl2: a Content-Length that checks out frames the body verbatim") {
  std::string body = "line\n\nFrom y Mon Jan  1 00:00:00 2001\nSubject: fake\n\n>From x\n";
  std::string a = "Subject: A\nContent-Length: " + std::to_string(body.size()) + "\n\n" + body;
  std::string box = "From x Mon Jan  1 00:00:00 2001\n" + a + "\n" +
                    "From y Mon Jan  1 00:00:00 2001\n" + kMsgB;
  auto all = read_mbox(box);
  REQUIRE(all.size() == 2);
  CHECK(all[0].bytes == a);  // the From line in the body did not split; no unquoting
  CHECK(all[0].note.empty());
  CHECK(all[1].bytes == kMsgB);
  SUBCASE("also when it ends exactly at the end of the input") {
    auto one = read_mbox("From x Mon Jan  1 00:00:00 2001\n" + a);
    REQUIRE(one.size() == 1);
    CHECK(one[0].bytes == a);
  }
}

TEST_CASE("mboxcl: a Content-Length that lies is ignored, split at From lines, noted") {
  for (std::string length : {"5", "9999", "2"}) {
    std::string a = "Subject: A\nContent-Length: " + length + "\n\nbody A\n";
    auto all = read_mbox("From x Mon Jan  1 00:00:00 2001\n" + a + "\n" +
                         "From y Mon Jan  1 00:00:00 2001\n" + kMsgB);
    REQUIRE(all.size() == 2);
    CHECK(all[0].bytes == a);
    CHECK(all[0].note.find("content_length_ignored") != std::string::npos);
    CHECK(all[1].bytes == kMsgB);
  }
}

TEST_CASE("mboxcl: a Content-Length over max_message_bytes is not trusted, noted") {
  ReaderOptions opt;
  opt.max_message_bytes = 100;
  std::string a = "Subject: A\nContent-Length: 500\n\nbody A\n";
  auto all = read_mbox("From x Mon Jan  1 00:00:00 2001\n" + a + "\n" +
                           "From y Mon Jan  1 00:00:00 2001\n" + kMsgB,
                       opt);
  REQUIRE(all.size() == 2);
  CHECK(all[0].bytes == a);
  CHECK(all[0].note.find("over max_message_bytes") != std::string::npos);
}

TEST_CASE("mbox: a message over max_message_bytes is truncated and the next one is found") {
  ReaderOptions opt;
  opt.max_message_bytes = 64;
  std::string huge = "Subject: big\n\n" + std::string(5000, 'x') + "\n";
  auto all = read_mbox("From x Mon Jan  1 00:00:00 2001\n" + huge + "\n" +
                           "From y Mon Jan  1 00:00:00 2001\n" + kMsgB,
                       opt);
  REQUIRE(all.size() == 2);
  CHECK(all[0].truncated);
  CHECK(all[0].error_code == "too_large");
  CHECK(all[0].bytes == huge.substr(0, 64));
  CHECK(all[1].bytes == kMsgB);
  CHECK_FALSE(all[1].truncated);
  CHECK(*all[1].where.index == 1);
}

TEST_CASE("mbox file: a message far over the cap is skipped in bounded steps, the next found") {
  ScratchDir dir;
  ReaderOptions opt;
  opt.max_message_bytes = 1000;
  std::string huge = "Subject: huge\n\n";
  for (int i = 0; i < 40000; ++i) huge += "From here on, line " + std::to_string(i) + " of many\n";
  std::string box = "From x Mon Jan  1 00:00:00 2001\n" + huge + "\n" +
                    "From y Mon Jan  1 00:00:00 2001\n" + kMsgB;
  REQUIRE(huge.size() > (1u << 20) + 1000);
  auto all = read_path(dir.write("huge.mbox", box), opt);
  REQUIRE(all.size() == 2);
  CHECK(all[0].truncated);
  CHECK(all[0].error_code == "too_large");
  CHECK(all[0].bytes == huge.substr(0, 1000));
  CHECK(all[1].bytes == kMsgB);
  CHECK(*all[1].where.offset == box.size() - kMsgB.size());
}

TEST_CASE("mbox files: separators straddling the 1 MiB read chunk border") {
  ScratchDir dir;
  // Messages of every size around the chunk so a "\nFrom " falls on each byte of the border.
  std::string box;
  std::vector<std::string> bodies;
  for (int i = 0; box.size() < (3u << 20); ++i) {
    std::size_t fill = (i % 2) ? 1000 : (1u << 20) - 997 - static_cast<std::size_t>(i);
    std::string msg = "Subject: " + std::to_string(i) + "\n\n" + std::string(fill, 'a') + "\n";
    bodies.push_back(msg);
    box += "From z Mon Jan  1 00:00:00 2001\n" + msg + "\n";
  }
  auto all = read_path(dir.write("chunks.mbox", box));
  REQUIRE(all.size() == bodies.size());
  for (std::size_t i = 0; i < bodies.size(); ++i) CHECK(all[i].bytes == bodies[i]);
  CHECK(detect_kind((dir.path / "chunks.mbox").string()) == InputKind::mbox);
}

TEST_CASE("Maildir: cur/ and new/ in order, tmp/ and index files skipped") {
  ScratchDir dir;
  std::string md = (dir.path / "Maildir").string();
  dir.write("Maildir/new/1700000002.M2.host", kMsgB);
  dir.write("Maildir/cur/1700000001.M1.host:2,S", kMsgA);
  dir.write("Maildir/tmp/1700000003.M3.host", "Subject: half delivered\n");
  dir.write("Maildir/dovecot-uidlist", "3 V1 N4\n");
  dir.write("Maildir/.Sent/cur/1700000004.M4.host:2,S", "Subject: sent\n\n");
  fs::create_directories(dir.path / "Maildir/.Sent/tmp");
  CHECK(detect_kind(md) == InputKind::maildir);
  auto all = read_path(md);
  REQUIRE(all.size() == 3);
  CHECK(all[0].where.path == md + "/.Sent/cur/1700000004.M4.host:2,S");
  CHECK(all[1].where.path == md + "/cur/1700000001.M1.host:2,S");
  CHECK(all[1].bytes == kMsgA);
  CHECK(all[2].where.path == md + "/new/1700000002.M2.host");
  for (const auto& m : all) CHECK(m.error.empty());
}

TEST_CASE("directories: walked recursively in sorted order - mbox and zip inside opened") {
  ScratchDir dir;
  std::string root = dir.path.string();
  dir.write("b.eml", kMsgB);
  dir.write("a/z.eml", kMsgA);
  dir.write("a/c/1.eml", kMsgA);
  dir.write("a.eml", kMsgA);
  dir.write("m/box", "From x Mon Jan  1 00:00:00 2001\n" + kMsgA + "\nFrom y Mon Jan  1 00:00:00 2001\n" + kMsgB);
  write_zip(root + "/z.zip", {{"in.eml", kMsgB}});
  CHECK(detect_kind(root) == InputKind::directory);
  auto all = read_path(root);
  std::vector<std::string> got;
  for (const auto& m : all) got.push_back(m.where.to_string().substr(root.size() + 1));
  std::vector<std::string> want = {"a/c/1.eml", "a/z.eml", "a.eml", "b.eml",
                                   "m/box#0@32", "m/box#1@" + std::to_string(32 + kMsgA.size() + 1 + 32),
                                   "z.zip!in.eml"};
  CHECK(got == want);
  REQUIRE(all.size() == 7);
  CHECK(all[5].bytes == kMsgB);
  CHECK(all[6].bytes == kMsgB);
}

TEST_CASE("unreadable inputs are yielded as errors, never thrown or skipped") {
  ScratchDir dir;
  SUBCASE("a missing path") {
    auto all = read_path((dir.path / "nope.eml").string());
    REQUIRE(all.size() == 1);
    CHECK(all[0].error_code == "not_found");
    CHECK(all[0].error.find("No such file") != std::string::npos);
    CHECK(detect_kind((dir.path / "nope.eml").string()) == InputKind::unknown);
  }
  SUBCASE("a dangling link in a directory (an entry that vanished)") {
    dir.write("d/a.eml", kMsgA);
    fs::create_symlink(dir.path / "d/gone.eml", dir.path / "d/b.eml");
    auto all = read_path((dir.path / "d").string());
    REQUIRE(all.size() == 2);
    CHECK(all[0].error.empty());
    CHECK(all[1].where.path == (dir.path / "d/b.eml").string());
    CHECK(all[1].error_code == "not_found");
  }
  SUBCASE("a file without read permission") {
    std::string p = dir.write("secret.eml", kMsgA);
    ::chmod(p.c_str(), 0);
    if (::geteuid() == 0) {
      // Root reads any file (CI runs as root): the read runs in a child that gave up root
      // (uid/gid 65534, "nobody"), so the case is checked there too instead of skipped.
      ::chmod(dir.path.c_str(), 0755);  // the mkdtemp dir is 0700: let nobody reach the file
      const pid_t child = ::fork();
      REQUIRE(child >= 0);
      if (child == 0) {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
        auto all = read_path(p);
        ::_exit(all.size() != 1 ? 4 : all[0].error_code != "io_error" ? 5 : 0);
      }
      int status = 0;
      REQUIRE(::waitpid(child, &status, 0) == child);
      REQUIRE(WIFEXITED(status));
      CHECK_MESSAGE(WEXITSTATUS(status) == 0,
                    "child as nobody: 3 = could not drop root, 4 = not one record, "
                    "5 = no 'io_error' error; got " << WEXITSTATUS(status));
    } else {
      auto all = read_path(p);
      REQUIRE(all.size() == 1);
      CHECK(all[0].error_code == "io_error");
    }
  }
  SUBCASE("a directory link loop ends") {
    dir.write("loop/a.eml", kMsgA);
    fs::create_directory_symlink(dir.path / "loop", dir.path / "loop/self");
    auto all = read_path((dir.path / "loop").string());
    REQUIRE(all.size() == 1);
    CHECK(all[0].bytes == kMsgA);
  }
}

TEST_CASE("zip: members streamed, hostile names only labels, caps enforced") {
  ScratchDir dir;
  fs::create_directories(dir.path / "work/inner");
  std::string zip = (dir.path / "work/inner/export.zip").string();
  std::string box = "From x Mon Jan  1 00:00:00 2001\n" + kMsgA + "\nFrom y Mon Jan  1 00:00:00 2001\n" + kMsgB;
  write_zip(zip, {{"mail/", ""},
                  {"mail/a.eml", kMsgA},
                  {"../evil.eml", kMsgB},
                  {"/abs/evil2.eml", kMsgB},
                  {"box.mbox", box},
                  {"one.eml", box},
                  {"big.eml", "Subject: big\n\n" + std::string(5000, 'x')}});
  CHECK(detect_kind(zip) == InputKind::archive);
  ReaderOptions opt;
  opt.max_archive_member = 1000;
  fs::path before = fs::current_path();
  fs::current_path(dir.path / "work/inner");  // where an extracting reader would write
  auto all = read_path(zip, opt);
  fs::current_path(before);
  REQUIRE(all.size() == 7);
  CHECK(all[0].where.to_string() == zip + "!mail/a.eml");
  CHECK(all[0].bytes == kMsgA);
  CHECK(all[1].where.member == "../evil.eml");
  CHECK(all[1].bytes == kMsgB);
  CHECK(all[2].where.member == "\\/abs/evil2.eml");  // escaped: a folder starts with "/"
  CHECK(all[3].where.to_string() == zip + "!box.mbox#0@32");
  CHECK(all[3].bytes == kMsgA);
  CHECK(all[4].bytes == kMsgB);
  CHECK(all[5].where.to_string() == zip + "!one.eml");  // .eml: one message, never split
  CHECK(all[5].bytes == box.substr(box.find('\n') + 1));
  CHECK(all[6].where.member == "big.eml");
  CHECK(all[6].truncated);
  CHECK(all[6].error_code == "too_large");
  CHECK(all[6].bytes.size() == 1000);
  // Nothing was extracted: the scratch tree holds only the archive.
  CHECK_FALSE(fs::exists(dir.path / "work/evil.eml"));
  CHECK_FALSE(fs::exists(dir.path / "work/inner/mail"));
  CHECK_FALSE(fs::exists("/abs/evil2.eml"));
  std::size_t files = 0;
  for (auto& e : fs::recursive_directory_iterator(dir.path)) files += e.is_regular_file();
  CHECK(files == 1);
}

TEST_CASE("zip: the archive total cap cuts a member and lists the rest as archive_limit") {
  ScratchDir dir;
  std::string zip = (dir.path / "t.zip").string();
  std::string big(600, 'y');
  write_zip(zip, {{"1.eml", "Subject: 1\n\n" + big}, {"2.eml", "Subject: 2\n\n" + big},
                  {"3.eml", kMsgA}, {"nested.zip", "PK\x03\x04 not really"}});
  ReaderOptions opt;
  opt.max_archive_total = 1000;
  opt.max_archive_ratio = 0;  // the fixed cap only
  auto all = read_path(zip, opt);
  REQUIRE(all.size() == 4);
  CHECK(all[0].error.empty());
  CHECK(all[1].error_code == "archive_limit");
  CHECK(all[1].truncated);
  CHECK(all[2].where.member == "3.eml");
  CHECK(all[2].error_code == "archive_limit");
  CHECK(all[3].error_code == "archive_limit");
  SUBCASE("without the cap the nested zip is opened, and found broken") {
    auto free = read_path(zip);
    REQUIRE(free.size() == 4);
    CHECK(free[2].bytes == kMsgA);
    CHECK(free[3].where.member == "nested.zip");
    CHECK(hdrscan::mime::is_fatal_read_error(free[3].error_code));
    CHECK(free[3].bytes.empty());
  }
}

TEST_CASE("zip: a member with corrupt data is reported and the next member still read") {
  ScratchDir dir;
  std::string zip = (dir.path / "crc.zip").string();
  std::vector<std::pair<std::string, std::string>> members;
  for (int i = 0; i < 3; ++i) {
    std::string body = "Subject: " + std::to_string(i) + "\n\n";
    for (int k = 0; k < 200; ++k) body += "line " + std::to_string(k * i) + "\n";
    members.push_back({std::to_string(i) + ".eml", body});
  }
  write_zip(zip, members);
  std::string bytes = slurp(zip);
  std::size_t name = bytes.find("1.eml");  // the local header; its deflate data follows
  REQUIRE(name + 105 < bytes.size());
  bytes[name + 105] = static_cast<char>(bytes[name + 105] ^ 0x55);
  auto all = read_path(dir.write("crc2.zip", bytes));
  REQUIRE(all.size() == 3);
  CHECK(all[0].bytes == members[0].second);
  CHECK(all[1].where.member == "1.eml");
  CHECK(all[1].error_code == "corrupt");
  CHECK(all[2].bytes == members[2].second);
}

TEST_CASE("zip: a corrupt archive is one unreadable message") {
  ScratchDir dir;
  auto all = read_path(dir.write("bad.zip", std::string("PK\x03\x04", 4) + std::string(100, '\x7f')));
  REQUIRE(all.size() >= 1);
  CHECK(hdrscan::mime::is_fatal_read_error(all.back().error_code));
  CHECK((all.back().error_code == "truncated" || all.back().error_code == "corrupt"));
}

TEST_CASE("streams (stdin): read through a pipe in chunks, one message or an mbox") {
  auto via_pipe = [](const std::string& bytes, const ReaderOptions& opt = {}) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    std::thread writer([&] {
      std::size_t done = 0;
      while (done < bytes.size()) {
        std::size_t n = std::min<std::size_t>(65536, bytes.size() - done);
        ssize_t w = ::write(fds[1], bytes.data() + done, n);
        if (w <= 0) break;
        done += static_cast<std::size_t>(w);
      }
      ::close(fds[1]);
    });
    auto all = read_all(hdrscan::mime::open_fd_stream(fds[0], "-", opt));
    writer.join();
    ::close(fds[0]);
    return all;
  };
  SUBCASE("an mbox stream larger than the read buffer") {
    std::string box;
    for (int i = 0; i < 3000; ++i)
      box += "From x Mon Jan  1 00:00:00 2001\nSubject: " + std::to_string(i) + "\n\n" +
             std::string(1000, 'b') + "\n\n";
    auto all = via_pipe(box);
    REQUIRE(all.size() == 3000);
    CHECK(all[2999].bytes.rfind("Subject: 2999\n\n", 0) == 0);
    CHECK(all[2999].where.to_string().rfind("-#2999@", 0) == 0);
  }
  SUBCASE("one message over the cap: cut, and the rest of the pipe drained (writer ends)") {
    ReaderOptions opt;
    opt.max_message_bytes = 1000;
    std::string big = "Subject: big\n\n" + std::string(3u << 20, 'z');
    auto all = via_pipe(big, opt);  // would hang in join() if the reader stopped reading
    REQUIRE(all.size() == 1);
    CHECK(all[0].truncated);
    CHECK(all[0].bytes == big.substr(0, 1000));
  }
  SUBCASE("one message") {
    auto all = via_pipe(kMsgA);
    REQUIRE(all.size() == 1);
    CHECK(all[0].bytes == kMsgA);
    CHECK(all[0].where.path == "-");
  }
}

TEST_CASE("a named pipe (process substitution) is read as a stream") {
  ScratchDir dir;
  std::string fifo = (dir.path / "fifo").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(detect_kind(fifo) == InputKind::stdin_stream);
  std::string box = "From x Mon Jan  1 00:00:00 2001\n" + kMsgA + "\nFrom y Mon Jan  1 00:00:00 2001\n" + kMsgB;
  std::thread writer([&] { std::ofstream(fifo, std::ios::binary) << box; });
  auto all = read_path(fifo);
  writer.join();
  REQUIRE(all.size() == 2);
  CHECK(all[0].bytes == kMsgA);
  CHECK(all[1].bytes == kMsgB);
  SUBCASE("but inside a directory walk it is reported, never opened (it could block)") {
    auto walked = read_path(dir.path.string());
    REQUIRE(walked.size() == 1);
    CHECK(walked[0].error_code == "unsupported_format");
    CHECK(walked[0].error.find("not a regular file") == 0);
  }
}

TEST_CASE("shared corpus: mbox files split into the counts verified by hand" * hdrscan::test::needs_shared()) {
  const fs::path corpus = hdrscan::test::shared_corpus();
  struct Case {
    const char* path;
    std::size_t messages;
    std::size_t content_length_ignored;
  };
  // Counts from reading each file: every real separator found, no body "From " line taken.
  const Case cases[] = {
      {"malformed/cpython_test_email/mailbox_01.mbox", 1, 0},  // "From time to time" is body
      {"malformed/mime4j_testmsgs/mbox/src/test/resources/test-1/mbox.rlug", 5, 0},
      {"malformed/mimekit_testdata/UnitTests/TestData/mbox/content-length.mbox.txt", 29, 4},
      {"malformed/mimekit_testdata/UnitTests/TestData/mbox/issue1189.mbox.txt", 4, 0},
      {"malformed/mimekit_testdata/UnitTests/TestData/mbox/simple.mbox.txt", 3, 0},
      {"malformed/mimekit_testdata/UnitTests/TestData/mbox/unmunged.mbox.txt", 2, 0},
      {"malformed/gmime_testdata/mbox/input/substring.mbox", 3, 0},
      {"malformed/spamassassin_t_data/nice.mbox", 3, 0},
      {"malformed/spamassassin_t_data/spam/008", 1, 0},  // "From  :<x>" is a header
  };
  for (const Case& c : cases) {
    CAPTURE(c.path);
    auto all = read_path(hdrscan::test::shared_path(c.path).string());
    CHECK(all.size() == c.messages);
    std::size_t ignored = 0;
    for (const auto& m : all) {
      CHECK(m.error.empty());
      ignored += m.note.find("content_length_ignored") != std::string::npos;
      CHECK(m.bytes.rfind("From ", 0) != 0);  // never the separator
    }
    CHECK(ignored == c.content_length_ignored);
  }
  auto unmunged = read_path(
      (corpus / "malformed/mimekit_testdata/UnitTests/TestData/mbox/unmunged.mbox.txt").string());
  REQUIRE(unmunged.size() == 2);
  CHECK(unmunged[0].bytes.find("\nFrom Russia with love\n") != std::string::npos);
  CHECK(unmunged[1].bytes.find("\nFrom Russia with love\nYear: 1963\n") != std::string::npos);
}

TEST_CASE("shared corpus: each ham-spam file is one message, its From line dropped" * hdrscan::test::needs_shared()) {
  const fs::path dir = hdrscan::test::shared_path("ham-spam/spamassassin/spam");
  std::size_t files = 0, from_lines = 0;
  for (auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  auto all = read_path(dir.string());
  CHECK(all.size() == files);
  for (const auto& m : all) {
    CAPTURE(m.where.to_string());
    CHECK(m.error.empty());
    std::string original = slurp(m.where.path);
    if (original.rfind("From ", 0) == 0) {
      ++from_lines;
      CHECK(m.bytes == original.substr(original.find('\n') + 1));  // .eml: kept verbatim
    }
  }
  CHECK(from_lines > 400);
}

// ---- content detection, mail-likeness, locations, archives (issue 16)

namespace {

const std::string kBox = "From a@example.com Mon Jan  1 00:00:00 2001\n" + kMsgA + "\n" +
                         "From b@example.com Tue Jan  2 00:00:00 2001\n" + kMsgB;

std::vector<RawMessage> read_buffer(const std::string& bytes, const ReaderOptions& opt = {}) {
  return read_all(hdrscan::mime::open_buffer(bytes, "buf", opt));
}

}  // namespace

TEST_CASE("content is detected by its magic bytes, never by its name") {
  ScratchDir dir;
  std::string zip = (dir.path / "export.eml").string();  // a zip whatever its name says
  write_zip(zip, {{"a.eml", kMsgA}});
  CHECK(detect_kind(zip) == InputKind::archive);
  auto z = read_path(zip);
  REQUIRE(z.size() == 1);
  CHECK(z[0].where.to_string() == zip + "!a.eml");
  CHECK(z[0].bytes == kMsgA);
  std::string elf = dir.write("looks-like.eml", std::string("\x7f" "ELF\x02\x01\x01", 7) +
                                                    std::string(100, '\0'));
  CHECK(detect_kind(elf) == InputKind::not_mail);
  auto e = read_path(elf);
  REQUIRE(e.size() == 1);
  CHECK(e[0].not_mail == "ELF executable");
  CHECK(e[0].error.empty());
  CHECK(e[0].bytes.size() == 107);  // read (its hash is reported), not analysed
  std::string gz = write_archive((dir.path / "box.txt").string(), ARCHIVE_FORMAT_RAW,
                                 ARCHIVE_FILTER_GZIP, {{"data", kBox}});
  CHECK(detect_kind(gz) == InputKind::archive);
  auto g = read_path(gz);
  REQUIRE(g.size() == 2);
  CHECK(g[1].bytes == kMsgB);
  CHECK(g[1].where.member.empty());  // a compressed file adds no member to the location
  CHECK(g[1].where.to_string() == gz + "#1@" + std::to_string(kBox.find(kMsgB)));
  std::string cfb = dir.write("m.msg", std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) +
                                           std::string(504, '\0'));
  CHECK(detect_kind(cfb) == InputKind::msg);
  CHECK(detect_kind(dir.write("x.pst", "!BDN" + std::string(508, '\0'))) == InputKind::pst);
}

TEST_CASE("mail-likeness: clearly not a message is not_mail; broken or header-only mail is mail") {
  auto verdict_of = [](const std::string& bytes) {
    auto all = read_buffer(bytes);
    REQUIRE(all.size() == 1);
    return all[0].not_mail;
  };
  // Mail: a header block with no body (Get-QuarantineMessageHeader, a clipboard), a NUL in a
  // header value, a garbage first line, leading blank lines.
  CHECK(verdict_of("Received: from a.example by b.example; Mon, 2 Jan 2023 03:04:05 +0000\r\n"
                   "From: x@example.com\r\nSubject: s\r\n") == "");
  CHECK(verdict_of(std::string("From: \"Bad\0Name\" <a@example.com>\nSubject: x\n\nbody\n", 47)) ==
        "");
  CHECK(verdict_of("garbage line without a colon\nX-Mailer: y\n\nbody\n") == "");
  CHECK(verdict_of("\n\n\nSubject: late\n\nbody\n") == "");
  // Not mail: an export's Results.csv and Manifest.xml, a README, images, binaries, HTML.
  CHECK(verdict_of("Received,SenderAddress,RecipientAddress,Subject\n"
                   "2024-01-01T10:00:00,a@example.com,b@example.com,Hello\n")
            .find("no mail header field") == 0);
  CHECK(verdict_of("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Manifest/>\n") == "XML document");
  CHECK(verdict_of("Dear user,\nplease read this.\nNote: not a header\n")
            .find("no mail header field") == 0);
  CHECK(verdict_of(std::string("\x89PNG\r\n\x1A\n\0\0\0\rIHDR", 16)) == "PNG image");
  CHECK(verdict_of(std::string("\0\1\2\3 junk\n", 9)).find("binary data (NUL bytes)") == 0);
  CHECK(verdict_of("<!DOCTYPE html><html><body>x</body></html>") == "HTML document");
  CHECK(verdict_of("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n") == "PDF document");
}

TEST_CASE("locations: the text form escapes \\ ! # (and a member's leading /), parse_location reads it") {
  using hdrscan::mime::parse_location;
  SourceLocation w;
  w.path = "dir/we!rd#1.zip";
  w.add_member("GUID/a!b.eml");
  CHECK(w.member == "GUID/a\\!b.eml");
  CHECK(w.to_string() == "dir/we\\!rd\\#1.zip!GUID/a\\!b.eml");
  w.add_member("/abs\\x#y.mbox");
  w.index = 12;
  w.offset = 4096;
  CHECK(w.to_string() == "dir/we\\!rd\\#1.zip!GUID/a\\!b.eml!\\/abs\\\\x\\#y.mbox#12@4096");
  auto back = parse_location(w.to_string());
  REQUIRE(back);
  CHECK(back->path == w.path);
  CHECK(back->member == w.member);
  CHECK(back->folder.empty());
  CHECK(back->index == w.index);
  CHECK(back->offset == w.offset);
  SourceLocation pst;
  pst.path = "box.pst";
  pst.folder = "/Top of Information Store/Inbox #2";
  pst.index = 17;
  CHECK(pst.to_string() == "box.pst!/Top of Information Store/Inbox \\#2#17");
  auto p = parse_location(pst.to_string());
  REQUIRE(p);
  CHECK(p->folder == pst.folder);
  CHECK(p->member.empty());
  CHECK(p->index == 17u);
  auto m = parse_location("x.mbox#3@31964");
  REQUIRE(m);
  CHECK(m->path == "x.mbox");
  CHECK(m->index == 3u);
  CHECK(m->offset == 31964u);
  auto z = parse_location("q.zip!GUID1/GUID2.eml");
  REQUIRE(z);
  CHECK(z->member == "GUID1/GUID2.eml");
  CHECK_FALSE(z->index);
  for (const char* bad : {"", "a\\", "!m", "x.zip!", "x.zip!/f!m", "x#", "x#y", "x#1@", "x#1@2z",
                          "x#99999999999999999999"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_location(bad));
  }
}

TEST_CASE("archives: a tar.gz of a Maildir, an mbox.gz, an .eml.xz, from a file and as a stream") {
  ScratchDir dir;
  const std::string tgz = write_archive(
      (dir.path / "corpus.tar.gz").string(), ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP,
      {{"maildir/cur/1:2,S", kMsgA}, {"maildir/new/2", kMsgB}, {"maildir/box", kBox}});
  for (bool stream : {false, true}) {
    CAPTURE(stream);
    auto all = stream ? read_buffer(slurp(tgz)) : read_path(tgz);
    const std::string at = stream ? "buf" : tgz;
    REQUIRE(all.size() == 4);
    CHECK(all[0].where.to_string() == at + "!maildir/cur/1:2,S");
    CHECK(all[0].bytes == kMsgA);
    CHECK(all[1].where.to_string() == at + "!maildir/new/2");
    CHECK(all[1].bytes == kMsgB);
    CHECK(all[2].where.to_string() == at + "!maildir/box#0@44");  // an mbox member is split
    CHECK(all[3].bytes == kMsgB);
    for (const auto& m : all) CHECK(m.error.empty());
  }
  const std::string xz = write_archive((dir.path / "one.eml.xz").string(), ARCHIVE_FORMAT_RAW,
                                       ARCHIVE_FILTER_XZ, {{"data", kMsgA}});
  auto one = read_path(xz);
  REQUIRE(one.size() == 1);
  CHECK(one[0].bytes == kMsgA);
  CHECK(one[0].where.to_string() == xz);
}

TEST_CASE("archives: nested to the depth limit; a nested zip is read in memory within its cap") {
  ScratchDir dir;
  // inner.zip stores its member uncompressed: 20 KB that the tar.gz around it shrinks.
  const std::string inner = write_archive((dir.path / "inner.zip").string(), ARCHIVE_FORMAT_ZIP,
                                          ARCHIVE_FILTER_NONE,
                                          {{"a.eml", kMsgA + std::string(20000, 'x') + "\n"}},
                                          "zip:compression=store");
  const std::string mid = write_archive((dir.path / "mid.tar.gz").string(),
                                        ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP,
                                        {{"inner.zip", slurp(inner)}, {"b.eml", kMsgB}});
  const std::string outer = (dir.path / "outer.zip").string();
  write_zip(outer, {{"mid.tar.gz", slurp(mid)}, {"c.eml.gz", ""}});
  auto all = read_path(outer);
  REQUIRE(all.size() == 3);
  CHECK(all[0].where.to_string() == outer + "!mid.tar.gz!inner.zip!a.eml");
  CHECK(all[0].bytes.rfind(kMsgA, 0) == 0);
  CHECK(all[1].where.to_string() == outer + "!mid.tar.gz!b.eml");
  CHECK(all[1].bytes == kMsgB);
  CHECK(all[2].error_code == "empty_input");  // a zero-byte member: loud, not skipped
  ReaderOptions shallow;
  shallow.max_archive_depth = 2;  // outer.zip and mid.tar.gz are opened, inner.zip is not
  auto cut = read_path(outer, shallow);
  REQUIRE(cut.size() == 3);
  CHECK(cut[0].where.to_string() == outer + "!mid.tar.gz!inner.zip");
  CHECK(cut[0].error_code == "too_deep");
  CHECK(cut[1].bytes == kMsgB);
  ReaderOptions small;
  small.max_archive_member = 10000;  // inner.zip (20 KB) no longer fits in memory
  auto big = read_path(outer, small);
  REQUIRE(!big.empty());
  bool inner_too_large = false;
  for (const auto& m : big) {
    INFO(m.where.to_string() << " " << m.error_code << " " << m.error);
    if (m.where.member == "mid.tar.gz!inner.zip") inner_too_large = m.error_code == "too_large";
  }
  CHECK(inner_too_large);
}

TEST_CASE("archives: encrypted zip members without, with a wrong, with the right password") {
  ScratchDir dir;
  for (const char* method : {"zip:encryption=traditional", "zip:encryption=aes256"}) {
    CAPTURE(method);
    const std::string zip = write_archive((dir.path / "q.zip").string(), ARCHIVE_FORMAT_ZIP,
                                          ARCHIVE_FILTER_NONE,
                                          {{"GUID1/GUID2.eml", kMsgA}, {"GUID3/GUID4.eml", kMsgB}},
                                          method, "secret");
    auto none = read_path(zip);
    REQUIRE(none.size() == 2);
    for (const auto& m : none) {
      CHECK(m.error_code == "encrypted_no_password");
      CHECK(m.error.find("--password") != std::string::npos);
      CHECK(m.bytes.empty());
    }
    ReaderOptions wrong;
    wrong.passwords = {"guess"};
    auto w = read_path(zip, wrong);
    REQUIRE(w.size() == 2);
    CHECK(w[0].error_code == "wrong_password");
    CHECK(w[1].error_code == "wrong_password");
    ReaderOptions right;
    right.passwords = {"guess", "secret"};  // tried in turn
    for (bool stream : {false, true}) {
      auto r = stream ? read_buffer(slurp(zip), right) : read_path(zip, right);
      REQUIRE(r.size() == 2);
      CHECK(r[0].bytes == kMsgA);
      CHECK(r[0].where.member == "GUID1/GUID2.eml");
      CHECK(r[1].bytes == kMsgB);
      CHECK(r[1].error.empty());
    }
  }
}

TEST_CASE("archives: truncated, corrupt and empty inputs get their own codes") {
  ScratchDir dir;
  std::string big = kBox + "\n";
  std::uint64_t x = 88172645463325252ull;  // xorshift: bodies gzip cannot shrink much
  for (int i = 0; i < 300; ++i) {
    big += "From x@example.com Mon Jan  1 00:00:00 2001\n" + kMsgA;
    for (int k = 0; k < 40; ++k) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      big += std::to_string(x) + "\n";
    }
    big += "\n";
  }
  const std::string gz = slurp(write_archive((dir.path / "b.gz").string(), ARCHIVE_FORMAT_RAW,
                                             ARCHIVE_FILTER_GZIP, {{"data", big}}));
  auto cut = read_path(dir.write("cut.mbox.gz", gz.substr(0, gz.size() / 2)));
  REQUIRE(cut.size() >= 2);
  CHECK(cut[1].bytes == kMsgB);  // what came before the cut is read
  CHECK(cut.back().error_code == "truncated");
  CHECK(hdrscan::mime::is_fatal_read_error(cut.back().error_code));
  std::string bad = gz;
  for (std::size_t i = 20; i < 60; ++i) bad[i] = static_cast<char>(bad[i] ^ 0x5a);
  auto damaged = read_path(dir.write("bad.mbox.gz", bad));
  REQUIRE(!damaged.empty());
  CHECK((damaged.back().error_code == "corrupt" || damaged.back().error_code == "truncated"));
  auto empty_zip = read_path(dir.write("empty.zip", std::string("PK\x05\x06", 4) + std::string(18, '\0')));
  REQUIRE(empty_zip.size() == 1);
  CHECK(empty_zip[0].error_code == "empty_input");
  auto empty_gz = read_path(write_archive((dir.path / "e.gz").string(), ARCHIVE_FORMAT_RAW,
                                          ARCHIVE_FILTER_GZIP, {{"data", ""}}));
  REQUIRE(empty_gz.size() == 1);
  CHECK(empty_gz[0].error_code == "empty_input");
  auto nothing = read_buffer("");
  REQUIRE(nothing.size() == 1);
  CHECK(nothing[0].error_code == "empty_input");  // empty standard input: never clean
}

TEST_CASE("concatenated messages (cat *.eml > x): split when unambiguous, else a defect") {
  const std::string gen = std::string(HDRSCAN_SOURCE_DIR) + "/corpus/generated/";
  const std::string a = hdrscan::test::slurp(gen + "consumer-onlist-full/0001.eml");   // multipart
  const std::string b = hdrscan::test::slurp(gen + "lookalike-hybrid/0001.eml");
  const std::string c = hdrscan::test::slurp(gen + "thirdparty-onlist-full/0002.eml");
  auto all = read_buffer(a + b + c);
  REQUIRE(all.size() == 3);
  CHECK(all[0].bytes == a);
  CHECK(all[1].bytes == b);
  CHECK(all[2].bytes == c);
  CHECK(all[1].where.index == 1u);
  CHECK(all[2].where.offset == a.size() + b.size());
  CHECK(all[2].where.to_string() == "buf#2@" + std::to_string(a.size() + b.size()));
  for (const auto& m : all) CHECK(m.note.rfind("concatenated_messages: 3 messages", 0) == 0);
  // A whole message quoted after a lead-in line is not split: one message, with the defect.
  const std::string quoted = "Received: from a.example by b.example; Mon, 2 Jan 2023\n"
                             "From: x@example.com\nTo: y@example.com\nSubject: fwd\n"
                             "Date: Mon, 2 Jan 2023 03:04:05 +0000\n\nSee the spam below:\n\n" + b;
  auto q = read_buffer(quoted);
  REQUIRE(q.size() == 1);
  CHECK(q[0].note.find("concatenated_messages: likely 2 messages") != std::string::npos);
  // Forwarded headers quoted in a plain-text body ("From:" first) and a message/rfc822 part
  // are not messages concatenated: nothing found.
  const std::string forwarded = "Received: from a by b; Mon, 2 Jan 2023 03:04:05 +0000\n"
                                "From: x@example.com\nSubject: fw\nDate: Mon, 2 Jan 2023\n\n"
                                "-----Original Message-----\nFrom: z@example.com\n"
                                "Sent: Monday\nTo: x@example.com\nSubject: hi\n\nbody\n";
  auto f = read_buffer(forwarded);
  REQUIRE(f.size() == 1);
  CHECK(f[0].note.empty());
  const std::string rfc822 = "Received: from a by b; Mon, 2 Jan 2023 03:04:05 +0000\n"
                             "From: x@example.com\nDate: Mon, 2 Jan 2023\nMIME-Version: 1.0\n"
                             "Content-Type: multipart/mixed; boundary=\"bb\"\n\n--bb\n"
                             "Content-Type: message/rfc822\n\n" + b + "\n--bb--\n";
  auto r = read_buffer(rfc822);
  REQUIRE(r.size() == 1);
  CHECK(r[0].note.empty());
  // Linear on hostile bodies: a million header-like lines without an end are one message.
  std::string hostile = "Received: x\nFrom: a\nDate: b\nSubject: c\n\n";
  for (int i = 0; i < 200000; ++i) hostile += "X-A: b\n";
  CHECK(read_buffer(hostile).size() == 1);
}

// concatenated_messages skips the search when no line after the first empty line begins with
// a transport field's name (issue 17): the answer must be the search's on every input.
TEST_CASE("concatenated_messages' quick test never changes the search's answer" * hdrscan::test::needs_shared()) {
  using hdrscan::mime::detail::concatenated_messages;
  using hdrscan::mime::detail::concatenated_search;
  std::size_t inputs = 0, found = 0;
  auto same = [&](const std::string& b) {
    const auto quick = concatenated_messages(b), full = concatenated_search(b);
    CHECK(quick.starts == full.starts);
    CHECK(quick.unambiguous == full.unambiguous);
    ++inputs;
    found += full.starts.size() > 1;
  };
  std::vector<std::string> mail;
  for (const char* set : {"ham-spam", "dev_m365_legit", "dev_relays", "dev_field_m365", "malformed"})
    for (const auto& p : hdrscan::test::shared_files(set, 400)) mail.push_back(hdrscan::test::slurp(p.string()));
  REQUIRE(mail.size() > 1000);
  auto crlf = [](const std::string& s) {
    std::string o;
    for (char ch : s) {
      if (ch == '\n') o += '\r';
      o += ch;
    }
    return o;
  };
  auto lower_head = [](std::string s) {  // field names as some writers spell them: "received:"
    for (std::size_t i = 0, n = s.find("\n\n"); i < s.size() && i < n; ++i)
      if (i == 0 || s[i - 1] == '\n')
        for (std::size_t k = i; k < s.size() && s[k] != ':' && s[k] != '\n'; ++k)
          s[k] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[k])));
    return s;
  };
  for (std::size_t i = 0; i < mail.size(); ++i) {
    same(mail[i]);
    if (i % 4 != 0 || i + 1 >= mail.size()) continue;
    same(mail[i] + mail[i + 1]);
    same(mail[i] + "\n" + lower_head(mail[i + 1]));
    same(crlf(mail[i] + mail[i + 1]));
    same("\n" + mail[i] + mail[i + 1]);          // an empty first line: no header block
    same(mail[i].substr(0, mail[i].size() / 2));  // cut anywhere
  }
  // Hand-made edges: the second message right after the blank line, in LF and CRLF.
  const std::string head = "Received: from a by b; Mon, 2 Jan 2023 03:04:05 +0000\nFrom: x@example.com\n"
                           "Date: Mon, 2 Jan 2023\nSubject: s\n";
  for (const std::string& b : {head + "\n" + head + "\nbody\n", crlf(head + "\n" + head + "\nbody\n"),
                               head + "\nx\n" + lower_head(head) + "\nbody\n", head + "\n", head, std::string()}) {
    same(b);
  }
  CHECK(concatenated_messages(head + "\n" + head + "\nbody\n").starts.size() == 2);
  CHECK(concatenated_messages(crlf(head + "\nx\n" + head + "\nbody\n")).starts.size() == 2);
  MESSAGE(inputs << " inputs, " << found << " with more than one message found");
  CHECK(found > 100);  // the concatenations are found: the comparison is not of empty answers
}

// dynlib.hpp: libarchive and libpff are opened on first use, not linked (issue 17: start-up).
TEST_CASE("load_functions resolves typed functions and says why when a library or function is missing") {
  using hdrscan::mime::detail::load_functions;
  decltype(&::archive_version_number) version = nullptr;
  decltype(&::archive_read_new) read_new = nullptr;
  {
    const char* const names[] = {"archive_version_number", "archive_read_new"};
    void* const slots[] = {static_cast<void*>(&version), static_cast<void*>(&read_new)};
    std::string why;
    REQUIRE(load_functions("libarchive.so.13", names, slots, 2, why));
    CHECK(why.empty());
    REQUIRE(static_cast<bool>(version));
    CHECK(version() == ARCHIVE_VERSION_NUMBER);  // the header's version: the same library
    struct archive* a = read_new();
    CHECK(a != nullptr);
    archive_read_free(a);
  }
  {
    decltype(&::archive_version_number) none = nullptr;
    const char* const names[] = {"archive_version_number", "hdrscan_no_such_function"};
    void* const slots[] = {static_cast<void*>(&version), static_cast<void*>(&none)};
    std::string why;
    CHECK_FALSE(load_functions("libarchive.so.13", names, slots, 2, why));
    CHECK(why.find("hdrscan_no_such_function") != std::string::npos);
    CHECK_FALSE(static_cast<bool>(none));
  }
  {
    const char* const names[] = {"archive_version_number"};
    void* const slots[] = {static_cast<void*>(&version)};
    std::string why;
    CHECK_FALSE(load_functions("libhdrscan-missing.so.0", names, slots, 1, why));
    CHECK(why.find("cannot load libhdrscan-missing.so.0") != std::string::npos);
  }
}

TEST_CASE("the scanner links neither libarchive nor libpff: they load with the first archive or PST") {
  // Reads the built binary's dynamic section (ELF DT_NEEDED via the loader's own listing).
  const std::string bin = HDRSCAN_BINARY;
  REQUIRE(std::filesystem::exists(bin));
  const std::string cmd = "LD_TRACE_LOADED_OBJECTS=1 '" + bin + "' 2>&1";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
  }
  REQUIRE(out.find("libcrypto.so") != std::string::npos);  // the listing worked
  CHECK(out.find("libarchive.so") == std::string::npos);
  CHECK(out.find("libpff.so") == std::string::npos);
  CHECK(out.find("libbfio.so") == std::string::npos);
  CHECK(out.find("libicuuc.so") == std::string::npos);
}

TEST_CASE("LazyLibraries loads its parts once and keeps the first failure's reason") {
  using hdrscan::mime::detail::LazyLibraries;
  decltype(&::archive_version_number) version = nullptr;
  const char* const names[] = {"archive_version_number"};
  void* const slots[] = {static_cast<void*>(&version)};
  LazyLibraries ok{{"libarchive.so.13", names, slots, 1}};
  std::string why;
  REQUIRE(ok.loaded(why));
  CHECK(why.empty());
  REQUIRE(static_cast<bool>(version));
  CHECK(version() == ARCHIVE_VERSION_NUMBER);
  decltype(&::archive_version_number) other = nullptr;
  void* const other_slots[] = {static_cast<void*>(&other)};
  LazyLibraries bad{{"libarchive.so.13", names, other_slots, 1}, {"libhdrscan-missing.so.0", names, slots, 1}};
  CHECK_FALSE(bad.loaded(why));
  CHECK(why.find("cannot load libhdrscan-missing.so.0") != std::string::npos);
  std::string again;
  CHECK_FALSE(bad.loaded(again));  // loaded once: the same answer and reason
  CHECK(again == why);
}

namespace {

std::string pattern_bytes(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 977) % 26);
  return s;
}

}  // namespace

TEST_CASE("a regular file is read into one buffer of its size: no second chunk to see its end") {
  using hdrscan::mime::detail::BufferedWindow;
  ScratchDir d;
  const std::size_t chunk = BufferedWindow::kChunkBytes;
  for (std::size_t n : {std::size_t{1}, std::size_t{4095}, std::size_t{12604}, chunk - 1, chunk,
                        chunk + 17, 3 * chunk + 5}) {
    CAPTURE(n);
    const std::string bytes = pattern_bytes(n);
    const std::string path = d.write("f" + std::to_string(n) + ".eml", bytes);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    auto w = hdrscan::mime::detail::fd_window(fd, true);
    auto* bw = dynamic_cast<BufferedWindow*>(w.get());
    REQUIRE(bw != nullptr);
    w->fill(4096);                 // the single-message reader's probe, then
    w->fill((64ull << 20) + 1);    // everything up to its cap, as SingleReader asks
    CHECK(w->at_eof());
    REQUIRE(w->end() == n);
    CHECK(std::string(w->at(0), n) == bytes);
    if (n < chunk) CHECK(bw->capacity() == n + 1);  // the file's size and the spare byte only
  }
}

TEST_CASE("a file that grows after it was opened is read to its new end") {
  ScratchDir d;
  const std::string first = pattern_bytes(100), more = pattern_bytes(5000);
  const std::string path = d.write("growing.eml", first);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  auto w = hdrscan::mime::detail::fd_window(fd, true);  // its size at open: 100
  std::ofstream(path, std::ios::binary | std::ios::app) << more;
  w->fill(50);
  CHECK(w->end() == 101);  // the read for 100 bytes and one more was not short: read on
  CHECK_FALSE(w->at_eof());
  w->fill(1u << 20);
  CHECK(w->at_eof());
  REQUIRE(w->end() == 5100);
  CHECK(std::string(w->at(0), 5100) == first + more);
}

TEST_CASE("a short read at a file's size at open is its end; a short read before it is not") {
  ScratchDir d;
  const std::string first = pattern_bytes(100), more = pattern_bytes(5000);
  const std::string path = d.write("end.eml", first);
  // A window over the file; `size`: the size its caller fstat'ed (-1: the window asks).
  auto window = [&](long long size) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    return hdrscan::mime::detail::fd_window(fd, true, size);
  };
  SUBCASE("the end, seen by a read that stopped short at the size: no read after it") {
    auto w = window(-1);
    w->fill(50);
    CHECK(w->end() == 100);
    CHECK(w->at_eof());
    // Bytes appended after the end was seen are not followed (no tail -f): what was read is
    // the file as it was when its end was read, as with a read of 0 bytes at that moment.
    std::ofstream(path, std::ios::binary | std::ios::app) << more;
    w->fill(1u << 20);
    CHECK(w->end() == 100);
  }
  SUBCASE("a short read before the size the caller gave (the file shrank, or a file system "
          "that returns short reads) reads on until a read of 0 bytes") {
    auto w = window(200);
    w->fill(1u << 20);
    CHECK(w->at_eof());
    CHECK(w->end() == 100);
    CHECK(w->error().empty());
  }
  SUBCASE("a read past the size the caller gave (the file grew) reads on") {
    auto w = window(40);
    w->fill(1u << 20);
    CHECK(w->at_eof());
    REQUIRE(w->end() == 100);
    CHECK(std::string(w->at(0), 100) == first);
  }
}
