// mime_taglist_ref_test.cpp: parse_tag_list (mime/fields/field_lists.cpp), rewritten for speed
// in issue 17 (values copied a run of non-blanks at a time, duplicates found without copies),
// and the one-tag look-ups find_tag / find_tag_int / find_tag_raw, against the algorithm
// parse_tag_list replaced, kept here verbatim as the reference: the same tags,
// values, reason and ok on every DKIM-Signature / ARC-* field of ../shared/corpus's
// dev_m365_legit and dev_relays (both as the scanner sees them, unfolded, and as written, with
// their CRLF folds) and on malformed and hostile input.
#include <doctest/doctest.h>

#include <charconv>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mime/fields/fields.hpp"
#include "mime/message.hpp"
#include "mime/text.hpp"
#include "tests/support/test_support.hpp"

using namespace hdrscan::mime;

namespace {

// ---- the reference: parse_tag_list as of a18c9cc, verbatim ------------------------------
namespace ref {
using text::is_space;
constexpr std::size_t kMaxItems = 256;
constexpr std::size_t kMaxReasonQuote = 32;
template <typename Fn>
void for_each_piece(std::string_view value, char sep, Fn&& fn) {
  std::size_t pos = 0;
  while (pos <= value.size()) {
    const auto next = value.find(sep, pos);
    fn(value.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
}
bool valid_tag_name(std::string_view name) {
  if (name.empty() || !text::is_alpha(name.front())) return false;
  for (char c : name)
    if (!(text::is_alpha(c) || text::is_digit(c) || c == '_')) return false;
  return true;
}
std::string quote(std::string_view s) { return std::string(s.substr(0, kMaxReasonQuote)); }
struct RefTagList {
  bool ok = false;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> tags;
  std::optional<std::string> get(std::string_view tag) const {
    for (const auto& [k, v] : tags)
      if (k == tag) return v;
    return std::nullopt;
  }
  std::optional<int> get_int(std::string_view tag) const {
    auto v = get(tag);
    if (!v || v->empty()) return std::nullopt;
    int n = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc{} || end != v->data() + v->size() || n < 0) return std::nullopt;
    return n;
  }
};
RefTagList parse_tag_list(std::string_view value) {
  RefTagList out;
  for_each_piece(text::bounded(value), ';', [&](std::string_view spec) {
    spec = text::trim(spec);
    if (spec.empty()) return;  // "a=1;" and ";;" are allowed
    const auto eq = spec.find('=');
    if (eq == std::string_view::npos) {
      if (out.reason.empty()) out.reason = "tag without '=': '" + quote(spec) + "'";
      return;
    }
    const auto name = text::trim(spec.substr(0, eq));
    if (!valid_tag_name(name)) {
      if (out.reason.empty()) out.reason = "bad tag name '" + quote(name) + "'";
      return;
    }
    if (out.get(name)) {
      if (out.reason.empty()) out.reason = "duplicate tag '" + quote(name) + "'";
      return;
    }
    if (out.tags.size() >= kMaxItems) {
      if (out.reason.empty()) out.reason = "too many tags";
      return;
    }
    std::string tag_value;
    for (char c : spec.substr(eq + 1))
      if (!is_space(c)) tag_value += c;
    out.tags.emplace_back(std::string(name), std::move(tag_value));
  });
  if (out.tags.empty() && out.reason.empty()) out.reason = "no tags";
  out.ok = out.reason.empty();
  return out;
}
}  // namespace ref

// The new parser agrees with the reference on `value`, and its lookups with a lookup over the
// reference's tags.
void check_same(std::string_view value) {
  const auto want = ref::parse_tag_list(value);
  const auto got = parse_tag_list(value);
  INFO("value: " << std::string(value.substr(0, 300)));
  CHECK(got.ok == want.ok);
  CHECK(got.reason == want.reason);
  REQUIRE(got.tags.size() == want.tags.size());
  for (std::size_t i = 0; i < want.tags.size(); ++i) {
    CHECK(got.tags[i].first == want.tags[i].first);
    CHECK(got.tags[i].second == want.tags[i].second);
    const std::string* found = got.find(want.tags[i].first);
    REQUIRE(found != nullptr);
    CHECK(*found == *want.get(want.tags[i].first));
    CHECK(got.get(want.tags[i].first) == want.get(want.tags[i].first));
  }
  CHECK(got.find("no_such_tag") == nullptr);
  // find_tag / find_tag_int / find_tag_raw: the same as a whole parse, for every name kept,
  // every name-like text before an '=' (refused duplicates, bad names), and the usual tags.
  std::vector<std::string> names = {"i", "d", "b", "cv", "s", "a", "h", "bh", "zz", "", "I", " d"};
  for (const auto& [k, v] : want.tags) names.push_back(k);
  for (std::size_t p = value.find('='); p != std::string_view::npos && names.size() < 600;
       p = value.find('=', p + 1)) {
    const auto start = value.find_last_of(";", p);
    names.emplace_back(text::trim(value.substr(start == std::string_view::npos ? 0 : start + 1,
                                               p - (start == std::string_view::npos ? 0 : start + 1))));
  }
  for (const auto& n : names) {
    INFO("tag: " << n);
    const auto v = find_tag(value, n);
    CHECK(v == want.get(n));
    CHECK(find_tag_int(value, n) == want.get_int(n));
    const auto raw = find_tag_raw(value, n);
    REQUIRE(raw.has_value() == v.has_value());
    if (raw) {
      std::string stripped;
      for (char c : *raw)
        if (!text::is_space(c)) stripped += c;
      CHECK(stripped == *v);
      // A view into the value itself.
      CHECK(raw->data() >= value.data());
      CHECK(raw->data() + raw->size() <= value.data() + value.size());
    }
  }
}

}  // namespace

TEST_CASE("parse_tag_list equals the reference on edge cases") {
  const std::vector<std::string> cases = {
      "", ";", ";;", " ; ;", "a", "a=", "=", "=b", " = ", "a=1", "a=1;", ";a=1;;b=2;",
      "a = 1 ; b\t=\t2", "a=1 2\t3\r\n 4", "a=\r\n\t", "v=1; garbage; d=x", "1x=3", "_a=1", "a-b=1",
      "a b=1", "a=1;a=2", "a=1;b=2;a=3;c=4", "A=1;a=2", "a==b", "a=b=c", "i=-1", "i=99999999999999",
      "b=\x80\xff\xc3\xa9 \xe2\x82\xac", "\x80=1", "a\x80=1", "a=1;\x01;b=2", std::string("a=1\0b;c=2", 9),
      std::string("a=\0\0 \0;b", 8), "a=\r", "a=\n", "a=\r\n", "\r\n a=1\r\n ;\r\n b=2\r\n",
      "h=From:To:\r\n\t Subject : Date::; b=AA\r\n BB\r\n\tCC", "d=x;   ;d=y; garbage; 9=1",
  };
  for (const auto& c : cases) check_same(c);
  // Values around lengths where a copy might go by blocks, blanks at every position.
  for (std::size_t n : {1u, 7u, 8u, 9u, 15u, 16u, 17u, 31u, 32u, 33u, 63u, 64u, 65u, 344u, 345u}) {
    std::string v(n, 'x');
    check_same("b=" + v);
    check_same("b= " + v + " ");
    for (std::size_t k = 0; k <= n; ++k) {
      std::string w = v;
      w.insert(k, k % 2 ? "\r\n\t" : " ");
      check_same("a=1; b=" + w + "; c=2");
    }
  }
  // Too many tags: the 257th distinct tag is refused with "too many tags".
  std::string many;
  for (int i = 0; i < 300; ++i) many += "t" + std::to_string(i) + "=v" + std::to_string(i) + ";";
  check_same(many);
  check_same(many + "i=5");  // i= after 256 distinct tags: refused, find_tag must say absent
  // i= after more than 256 well-formed pieces but few distinct tags: kept, found by the
  // fallback to the whole parse.
  std::string repeats;
  for (int i = 0; i < 300; ++i) repeats += "a=" + std::to_string(i) + ";";
  check_same(repeats + "i=7; d=x");
  check_same(many.substr(0, many.find("t255=")) + "i=1;" + many.substr(many.find("t255=")));
  check_same(many.substr(0, many.find("t256=")) + "i=1;" + many.substr(many.find("t256=")));
  // Longer than text::kMaxFieldInput: cut there, as before.
  std::string huge = "b=";
  while (huge.size() < 3 * text::kMaxFieldInput) huge += "abc def\r\n ";
  check_same(huge);
  std::string dups;
  while (dups.size() < (1u << 16)) dups += "a=b;";
  check_same(dups);
}

TEST_CASE("parse_tag_list equals the reference on every signature field of the dev sets" *
          hdrscan::test::needs_shared()) {
  std::size_t fields = 0, folded = 0;
  for (const char* set : {"dev_m365_legit", "dev_relays"}) {
    for (const auto& path : hdrscan::test::shared_files(set)) {
      const std::string bytes = hdrscan::test::slurp(path);
      HeaderBlock block;
      std::vector<Defect> defects;
      parse_header_block(bytes, Limits{}, block, defects);
      for (const auto& f : block.fields) {
        if (!text::iequals(f.name, "DKIM-Signature") && !text::istarts_with(f.name, "ARC-")) continue;
        INFO(path.filename().string() << " " << std::string(f.name));
        ++fields;
        check_same(f.value);  // unfolded, as the detectors see it
        const auto colon = f.raw.find(':');
        REQUIRE(colon != std::string_view::npos);
        const auto written = f.raw.substr(colon + 1);  // with its folds
        if (written.find('\n') != std::string_view::npos) ++folded;
        check_same(written);
      }
    }
  }
  MESSAGE(fields << " DKIM-Signature / ARC-* fields, " << folded << " folded");
  CHECK(fields > 3000);
  CHECK(folded > 1000);
}
