// mime_html_test.cpp: extract_html on the campaign illustrations, real connector-relay spam,
// a real HTML newsletter, and hand-made hiding tricks and hostile markup.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "tests/support/test_support.hpp"
namespace test = hdrscan::test;
#include "mime/decode.hpp"
#include "mime/html.hpp"

using namespace hdrscan::mime;
namespace fs = std::filesystem;

namespace {


// The body of a single-part 8bit message (what the example files are).
std::string body_of(const std::string& message) {
  auto at = message.find("\r\n\r\n");
  if (at != std::string::npos) return message.substr(at + 4);
  at = message.find("\n\n");
  return at == std::string::npos ? std::string() : message.substr(at + 2);
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("campaign illustrations: links, images, hidden preheader" * test::needs_shared()) {
  const fs::path dir = test::shared_docs_path("examples");
  for (const char* name : {"consumer-view.eml", "thirdparty-view.eml"}) {
    CAPTURE(name);
    const HtmlFacts f = extract_html(body_of(test::slurp(dir / name)));
    CHECK(f.present);
    CHECK_FALSE(f.truncated);
    // The VML button inside <!--[if mso]> is a comment, not a link.
    REQUIRE(f.links.size() == 2);
    CHECK(f.links[0].text == "GET MY REWARD");
    CHECK(f.links[0].href.rfind("http://3s7oltt3pn.com@027104311345/", 0) == 0);
    CHECK(f.links[1].text == "unsubscribe here");
    REQUIRE(f.images.size() == 3);
    CHECK(f.images[0].width == 120);
    CHECK(f.images[1].width == 520);  // style width:100% is not a pixel size; the attribute is
    CHECK(f.images[2].width == 1);    // the tracking pixel
    CHECK(f.images[2].height == 1);
    for (const auto& img : f.images) CHECK(img.link == -1);
    // The preheader is display:none: hidden, not visible.
    CHECK(f.hidden_elements == 1);
    CHECK(contains(f.hidden_text, "Your exclusive AAA member reward is waiting"));
    CHECK_FALSE(contains(f.visible_text, "Your exclusive AAA member reward"));
    CHECK(contains(f.visible_text, "Your Loyalty Has Paid Off! Loyalty should always be rewarded"));
    CHECK(contains(f.visible_text, "Discounts & Rewards"));  // &amp; decoded
    // <title> and <style> content is no text.
    CHECK_FALSE(contains(f.visible_text, "Member Exclusive Reward"));
    CHECK_FALSE(contains(f.visible_text, "padding"));
    CHECK(f.comment_bytes > 500);
  }
}

TEST_CASE("real connector-relay spam (dev_relays)" * test::needs_shared()) {
  const fs::path dir = test::shared_path("dev_relays");
  SUBCASE("two images inside the first link") {
    const HtmlFacts f = extract_html(body_of(test::slurp(dir / "sample-7552.eml")));
    REQUIRE(f.links.size() == 2);
    CHECK(f.links[0].images == 2);
    CHECK(f.links[0].text == "[username], Claim Your Health Kit Today");
    CHECK(f.links[1].text == "clicking here.");
    REQUIRE(f.images.size() == 2);
    CHECK(f.images[0].link == 0);
    CHECK(f.images[1].link == 0);
    CHECK(f.hidden_text.empty());
  }
  SUBCASE("hidden tracking pixel") {
    const HtmlFacts f = extract_html(body_of(test::slurp(dir / "sample-6454.eml")));
    CHECK(f.links.size() == 2);
    REQUIRE(f.images.size() == 2);
    CHECK_FALSE(f.images[0].hidden);
    CHECK(f.images[1].hidden);
    CHECK(f.images[1].width == 1);
    CHECK(f.hidden_elements == 1);
  }
  SUBCASE("the relay the illustrations took their body from: hidden preheader") {
    const HtmlFacts f = extract_html(body_of(test::slurp(dir / "sample-6819.eml")));
    CHECK(f.links.size() == 2);
    CHECK(f.images.size() == 3);
    CHECK(contains(f.hidden_text, "reward is waiting"));
    CHECK_FALSE(contains(f.visible_text, "reward is waiting"));
  }
}

TEST_CASE("real newsletter (hard_ham): links and images counted, commented-out markup ignored" * test::needs_shared()) {
  const fs::path file = test::shared_path("ham-spam/spamassassin/hard_ham/00018.75bf8472753f24aa22df72c7301e07ec.eml");
  // Declared ISO-8859-1, 7bit: converted as the MIME tree would.
  const HtmlFacts f = extract_html(to_utf8(body_of(test::slurp(file)), "iso-8859-1"));
  CHECK(f.links.size() == 73);   // <a ... href> outside comments
  CHECK(f.images.size() == 79);  // 80 <img in the source, one inside a comment
  CHECK(f.links[0].text == "ESftp 4.1");
  CHECK(f.hidden_text.empty());
  CHECK(f.hidden_elements == 0);
  CHECK(f.visible_text.size() > 2000);
}

TEST_CASE("real newsletters: colour hiding judged per element, background images respected" * test::needs_shared()) {
  const fs::path dir = test::shared_path("ham-spam/spamassassin/hard_ham");
  const fs::path letter = test::required_path(dir / "00234.12555461ce0bc373baab8daf9280d4ca.eml");
  // <td bgcolor=#183C8C><font color=#183C8C> wraps a table with bgcolor=#FFFFFF: the letter
  // inside is visible. The HTML part is quoted-printable; decode it the way the tree does.
  std::string message = test::slurp(letter);
  const auto html_at = message.find("<HTML>");
  REQUIRE(html_at != std::string::npos);
  std::string html;  // to the end of the message: the closing boundary after it is harmless
  decode_quoted_printable(std::string_view(message).substr(html_at), html);
  const HtmlFacts f = extract_html(to_utf8(html, "iso-8859-1"));
  CHECK(contains(f.visible_text, "Dear Mr Mason"));
  CHECK_FALSE(contains(f.hidden_text, "Dear Mr Mason"));
  // White text on a <td background=image>: not judged hidden.
  const HtmlFacts g = extract_html(
      "<body bgcolor=white><table><tr><td background='h.gif'><font color='#ffffff'>On an image</font></td></tr></table>"
      "<div style=\"background:#fff url(x.png)\"><span style=\"color:#fff\">also on an image</span></div>"
      "<p><font color=white>white on white</font></p></body>");
  CHECK(contains(g.visible_text, "On an image"));
  CHECK(contains(g.visible_text, "also on an image"));
  CHECK(contains(g.hidden_text, "white on white"));
}

TEST_CASE("hiding tricks") {
  const std::string html =
      "<html><head><style>\n"
      "/* filler */ .fx{display:none} .keep{color:red}\n"
      ".a1, .tiny { font-size:0px }\n"
      "@media screen and (max-width:600px){ .mob{display:none !important} }\n"
      "</style></head><body bgcolor=\"#FFFFFF\">"
      "<p>Claim your prize</p>"
      "<div class=\"x fx\">filler one</div>"
      "<span class=tiny>filler two</span>"
      "<div class=mob>mobile only</div>"
      "<div style=\"display: none\">filler three</div>"
      "<div style=\"VISIBILITY:hidden\">filler four</div>"
      "<div style=\"font-size:1px\">filler five</div>"
      "<div style=\"max-height:0px;overflow:hidden\">filler six</div>"
      "<div style=\"opacity:0\">filler seven</div>"
      "<div style=\"color:#fff\">filler eight</div>"
      "<table style=\"background-color:rgb(0,0,0)\"><tr><td><font color=black>filler nine</font>"
      "<span style=\"color:white\">shown on black</span></td></tr></table>"
      "<div hidden>filler ten</div>"
      "<div style=\"width:0;overflow:hidden\">filler eleven</div>"
      "<div style=\"text-indent:-9999px\">filler twelve</div>"
      "<div style=\"position:absolute;left:-5000px\">filler thirteen</div>"
      "<div style=\"position:relative;left:-5000px\">relative offset is not judged</div>"
      "<div style=\"max-height:0px\">not hidden without overflow</div>"
      "<div class=keep>red text</div>"
      "</body></html>";
  const HtmlFacts f = extract_html(html);
  for (const char* filler : {"filler one", "filler two", "filler three", "filler four", "filler five",
                             "filler six", "filler seven", "filler eight", "filler nine", "filler ten",
                             "filler eleven", "filler twelve", "filler thirteen"}) {
    CAPTURE(filler);
    CHECK(contains(f.hidden_text, filler));
    CHECK_FALSE(contains(f.visible_text, filler));
  }
  for (const char* shown : {"Claim your prize", "mobile only", "shown on black", "not hidden without overflow", "red text",
                            "relative offset is not judged"}) {
    CAPTURE(shown);
    CHECK(contains(f.visible_text, shown));
    CHECK_FALSE(contains(f.hidden_text, shown));
  }
  CHECK(f.hidden_elements == 13);
}

TEST_CASE("links, images, entities, whitespace") {
  const std::string html =
      "<a href=\"http://a.example/?x=1&amp;y=2\"><img src=one.png alt='One' width=300 height=\"250\">"
      "<IMG SRC=\"two.png\" style=\"width:120px;height:60px\"></a>\n"
      "<p>G<span>ET</span> &nbsp; now&#33; caf&eacute; &#x263A; &bogus; 5 &lt; 6</p>"
      "<a href=https://b.example/u>un<b>sub</b>scribe</a><img src=x.gif>"
      "<a name=anchor>not a link</a>"
      "<a href='https://c.example/'>first<a href='https://d.example/'>second</a>";
  const HtmlFacts f = extract_html(html);
  REQUIRE(f.links.size() == 4);
  CHECK(f.links[0].href == "http://a.example/?x=1&y=2");
  CHECK(f.links[0].images == 2);
  CHECK(f.links[1].text == "unsubscribe");
  CHECK(f.links[2].text == "first");  // an <a> inside an open <a> closes the first
  CHECK(f.links[3].text == "second");
  CHECK(f.links[2].images == 0);
  REQUIRE(f.images.size() == 3);
  CHECK(f.images[0].alt == "One");
  CHECK(f.images[0].width == 300);
  CHECK(f.images[0].height == 250);
  CHECK(f.images[1].width == 120);
  CHECK(f.images[1].height == 60);
  CHECK(f.images[1].link == 0);
  CHECK(f.images[2].link == -1);
  CHECK(contains(f.visible_text, "GET now! caf\xC3\xA9 \xE2\x98\xBA &bogus; 5 < 6"));
  CHECK(contains(f.visible_text, "not a link"));
}

TEST_CASE("hostile markup stays bounded") {
  SUBCASE("100,000 unclosed divs, then text") {
    std::string html;
    for (int i = 0; i < 100000; ++i) html += "<div style=\"color:#000\">";
    html += "deep text";
    const HtmlFacts f = extract_html(html);
    CHECK(contains(f.visible_text, "deep text"));
    CHECK(f.truncated);  // the element stack was capped
    CHECK(f.tag_count == 100000);
  }
  SUBCASE("unclosed hidden div hides the rest, unclosed comment swallows the rest") {
    const HtmlFacts f = extract_html("<p>shown<div style=display:none>rest<b>more</b><p>again");
    CHECK(f.visible_text == "shown");
    CHECK(f.hidden_text == "restmore again");  // <b> is inline, <p> a block
    const HtmlFacts g = extract_html("before<!-- <a href=x>in comment</a>");
    CHECK(g.visible_text == "before");
    CHECK(g.links.empty());
  }
  SUBCASE("void elements are not pushed") {
    std::string html = "<div style=\"display:none\">h</div>";
    for (int i = 0; i < 1000; ++i) html += "<br><img src=a><meta x><hr/>";
    html += "visible";
    const HtmlFacts f = extract_html(html);
    CHECK(f.visible_text == "visible");
    CHECK(f.images.size() == 1000);
    CHECK_FALSE(f.truncated);
  }
  SUBCASE("many links are capped") {
    std::string html;
    for (int i = 0; i < 5000; ++i) html += "<a href=x>l</a>";
    const HtmlFacts f = extract_html(html);
    CHECK(f.links.size() == 2000);
    CHECK(f.truncated);
  }
  SUBCASE("garbage") {
    const HtmlFacts f = extract_html("<<<>>> < a <1> </ > <a href=\"unterminated");
    CHECK(f.links.empty());
    CHECK(contains(f.visible_text, "<<<>>>"));
    const HtmlFacts g = extract_html(std::string("\0<b\0>\xff", 6));
    CHECK(g.present);
  }
}

// Found by fuzz_html: a CSS number beyond int's range (or inf / nan) was cast to int, which
// is undefined behaviour (UBSan: "5.56111e+127 is outside the range of representable values
// of type 'int'"). Now clamped: the colour saturates, a huge box is not a zero box. Run under
// the sanitizer build by tools/test, where the old code aborts.
TEST_CASE("out-of-range CSS numbers are clamped, not cast") {
  const std::string html =
      "<body bgcolor=white>"
      "<div style=\"color:rgb(5.56111e+127,0,0)\">saturated red on white</div>"
      "<div style=\"color:rgb(nan,inf,-1e300)\">odd but shown</div>"
      "<div style=\"color:rgb(1e300%,1e300%,1e300%)\">white on white</div>"
      "<div style=\"height:inf;width:1e300px;overflow:hidden\">huge box shown</div>"
      "<div style=\"height:0;width:nan;overflow:hidden\">zero height hidden</div>"
      "</body>";
  const HtmlFacts f = extract_html(html);
  CHECK(contains(f.visible_text, "saturated red on white"));
  CHECK(contains(f.visible_text, "odd but shown"));
  CHECK(contains(f.hidden_text, "white on white"));
  CHECK(contains(f.visible_text, "huge box shown"));
  CHECK(contains(f.hidden_text, "zero height hidden"));
}

TEST_CASE("the first of repeated attributes counts; inline and void elements as before") {
  // open() finds the attributes it reads in one pass (issue 17): the first occurrence of a
  // name wins, as the per-name search found it.
  auto f = extract_html("<a href=\"http://one.example/\" HREF=\"http://two.example/\">"
                        "<img src=\"a.png\" SRC=\"b.png\" alt=\"first\" alt=\"second\" width=\"1\" width=\"500\" "
                        "height=\"2\" height=\"400\"></a>"
                        "<div style=\"display:none\" style=\"color:red\">gone</div>"
                        "<font color=\"#ff0000\" color=\"#00ff00\" bgcolor=\"#ff0000\">red on red</font>");
  REQUIRE(f.links.size() == 1);
  CHECK(f.links[0].href == "http://one.example/");
  REQUIRE(f.images.size() == 1);
  CHECK(f.images[0].src == "a.png");
  CHECK(f.images[0].alt == "first");
  CHECK(f.images[0].width == 1);
  CHECK(f.images[0].height == 2);
  CHECK(f.hidden_text.find("gone") != std::string::npos);
  CHECK(f.hidden_text.find("red on red") != std::string::npos);
  CHECK(f.visible_text.find("gone") == std::string::npos);
  // Inline elements join words; block and void elements separate them.
  auto g = extract_html("<p>a<b>b</b><span>c</span><o:p>d</o:p>e<br>f<img src=x>g<div>h</div>i</p>");
  CHECK(g.visible_text == "abcde f g h i");
  CHECK(g.skeleton == "p b span o:p br img div");
}

namespace {

// The whitespace collapsing of extract_html's text sinks as it was before issue 17 (one word
// at a time): the reference the stretch-at-once version must match byte for byte, caps
// included. is_space is HTML's: space, tab, LF, CR, FF (not VT).
bool ref_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }

struct RefSink {
  explicit RefSink(std::size_t c) : cap(c) {}
  std::size_t cap;
  std::string out;
  bool pending_space = false;
  bool truncated = false;
  void add(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
      if (ref_space(text[i])) {
        pending_space = true;
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < text.size() && !ref_space(text[j])) ++j;
      if (pending_space && !out.empty()) out.push_back(' ');
      pending_space = false;
      if (out.size() + (j - i) > cap) {
        std::size_t room = cap > out.size() ? cap - out.size() : 0;
        while (room > 0 && (static_cast<unsigned char>(text[i + room]) & 0xC0) == 0x80) --room;
        out.append(text.data() + i, room);
        truncated = true;
        return;
      }
      out.append(text.data() + i, j - i);
      i = j;
    }
  }
};

constexpr std::size_t kRefMaxText = 512u << 10;   // html.cpp's kMaxText
constexpr std::size_t kRefMaxLinkText = 1024;     // html.cpp's kMaxLinkText

// Text with every whitespace byte, runs of them, VT, NUL, UTF-8 sequences and '>', never '<'
// or '&' (those would start markup or an entity).
std::string random_text(std::uint64_t& seed, std::size_t len) {
  static const char* kPieces[] = {"a", "b", "Z", "0", ".", ">", " ", " ", " ", "  ", "\t", "\n", "\r\n", "\r", "\f",
                                  "\v", "" /* NUL, below */, "\xC3\xA9", "\xE2\x82\xAC", "\x80", "\xFF"};
  std::string s;
  while (s.size() < len) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    const std::size_t k = static_cast<std::size_t>(seed >> 33) % (sizeof kPieces / sizeof kPieces[0]);
    if (k == 16) s.push_back('\0');
    else s += kPieces[k];
  }
  s.resize(len);
  return s;
}

void check_collapsed(const std::string& s) {
  CAPTURE(s);
  RefSink ref{kRefMaxText};
  ref.add(s);
  const auto f = extract_html(s);
  CHECK(f.visible_text == ref.out);
  CHECK(f.truncated == ref.truncated);
  // the same text as an anchor's (its own sink, 1 KiB cap) and as hidden text
  RefSink link{kRefMaxLinkText};
  link.add(s);
  const auto g = extract_html("<a href=\"x\">" + s + "</a>");
  REQUIRE(g.links.size() == 1);
  CHECK(g.links[0].text == link.out);
  CHECK(g.visible_text == ref.out);
  const auto h = extract_html("<div style=\"display:none\">" + s + "</div>");
  CHECK(h.hidden_text == ref.out);
  CHECK(h.visible_text.empty());
}

}  // namespace

TEST_CASE("text runs collapse whitespace as the word-by-word loop did (every length, block edges, caps)") {
  // Words one ' ' apart are appended as one stretch (issue 17), found 16 bytes at a time:
  // every length 0-70 with one whitespace byte (or two spaces) at every position.
  for (std::size_t len = 0; len <= 70; ++len)
    for (std::size_t pos = 0; pos <= len; ++pos)
      for (const char* w : {" ", "\t", "\n", "  ", "\f", "\v"}) {
        std::string s(len, 'x');
        if (pos < len) s.replace(pos, 1, w);
        check_collapsed(s);
      }
  // Random mixtures of every length 0-100, several seeds.
  std::uint64_t seed = 17;
  for (int round = 0; round < 6; ++round)
    for (std::size_t len = 0; len <= 100; ++len) check_collapsed(random_text(seed, len));
  // Anchor text around its 1 KiB cap (a word cut on a character boundary).
  for (std::size_t len = 1000; len <= 1100; ++len) check_collapsed(random_text(seed, len));
  // Several runs with one sink state: inline tags join, block tags separate.
  for (int round = 0; round < 200; ++round) {
    const std::string a = random_text(seed, static_cast<std::size_t>(round % 37));
    const std::string b = random_text(seed, static_cast<std::size_t>(round % 23));
    const std::string c = random_text(seed, static_cast<std::size_t>(round % 41));
    RefSink ref{kRefMaxText};
    ref.add(a);
    ref.add(b);
    ref.pending_space = true;  // </p>: a block boundary
    ref.add(c);
    CAPTURE(a);
    CAPTURE(b);
    CAPTURE(c);
    CHECK(extract_html(a + "<span>" + b + "</span></p>" + c).visible_text == ref.out);
  }
  // The visible-text cap (512 KiB): long text cut on a character boundary, truncated set.
  // Single-spaced words with 2-byte characters (nothing collapses) ending at every length
  // around the cap, then random text.
  std::string words;
  while (words.size() < kRefMaxText + 8) words += "ab\xC3\xA9 cd ";
  for (std::size_t len = kRefMaxText - 4; len <= kRefMaxText + 5; ++len) {
    const std::string s = words.substr(0, len);
    RefSink ref{kRefMaxText};
    ref.add(s);
    const auto f = extract_html(s);
    CHECK(f.visible_text == ref.out);
    CHECK(f.truncated == ref.truncated);
  }
  for (std::size_t len : {kRefMaxText - 1, kRefMaxText, kRefMaxText + 1, kRefMaxText + 70000}) {
    const std::string s = random_text(seed, len);
    RefSink ref{kRefMaxText};
    ref.add(s);
    const auto f = extract_html(s);
    CHECK(f.visible_text == ref.out);
    CHECK(f.truncated == ref.truncated);
  }
}

TEST_CASE("attribute names in any case; the first of each name among a tag's first 64 counts") {
  // parse_attributes keeps only the attributes open() reads, recognised by name as they are
  // read (issue 17); before, every name was lower-cased and kept, then searched.
  auto f = extract_html("<a HREF=\"http://x.example/?a=1&amp;b=2\" href=\"http://y.example/\">"
                        "<img SrC=\"a.png\" sRc=\"b.png\" ALT=\"x\" Alt=\"y\" WIDTH=10 width=20 HeIgHt='5'></a>"
                        "<img srcx=\"no\" sr=\"no\" data-src=\"no\" SRCSET=\"no\" src=\"yes.png\" altx=\"no\">"
                        "<div HIDDEN>gone</div><div hiddenx>shown</div><div hidde>also shown</div>");
  REQUIRE(f.links.size() == 1);
  CHECK(f.links[0].href == "http://x.example/?a=1&b=2");
  REQUIRE(f.images.size() == 2);
  CHECK(f.images[0].src == "a.png");
  CHECK(f.images[0].alt == "x");
  CHECK(f.images[0].width == 10);
  CHECK(f.images[0].height == 5);
  CHECK(f.images[1].src == "yes.png");
  CHECK(f.images[1].alt.empty());
  CHECK(f.hidden_text == "gone");
  CHECK(f.visible_text == "shown also shown");
  // A background image (any case) makes the background unknown: white on white shows again.
  CHECK(extract_html("<td bgcolor=#ffffff><font color=#ffffff>z</font></td>").hidden_text == "z");
  CHECK(extract_html("<td bgcolor=#ffffff BackGround=\"i.png\"><font color=#ffffff>z</font></td>").visible_text == "z");
  CHECK(extract_html("<td BGCOLOR=#ffffff backgroundx=\"i.png\"><font COLOR=#ffffff>z</font></td>").hidden_text == "z");
  // Only a tag's first 64 attributes are read.
  for (int filler : {62, 63, 64, 65}) {
    std::string tag = "<img";
    for (int k = 0; k < filler; ++k) tag += " f" + std::to_string(k) + "=\"v\"";
    const auto g = extract_html(tag + " src=\"in.png\" STYLE=\"display:none\">");
    REQUIRE(g.images.size() == 1);
    CAPTURE(filler);
    CHECK(g.images[0].src == (filler < 64 ? "in.png" : ""));
    CHECK(g.images[0].hidden == (filler < 63));
  }
  // Over-long values are cut and flagged, kept or not.
  const std::string big(9000, 'q');
  const auto h = extract_html("<img src=\"" + big + "\">");
  REQUIRE(h.images.size() == 1);
  CHECK(h.images[0].src.size() == 8192);
  CHECK(h.truncated);
  CHECK(extract_html("<img data-x=\"" + big + "\" src=\"s\">").truncated);
  CHECK_FALSE(extract_html("<img data-x=\"" + big.substr(0, 8192) + "\" src=\"s\">").truncated);

  // Random attribute lists against a model of the old search: names lower-cased, the first
  // of each name among the first 64 attributes wins.
  static const char* kNames[] = {"src", "alt", "href", "width", "height", "style", "class", "sr", "srcx", "alts",
                                 "wid", "heigh", "data-src", "title", "id", "border"};
  std::uint64_t seed = 99;
  auto next = [&seed](std::uint64_t m) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::size_t>((seed >> 33) % m);
  };
  for (int round = 0; round < 2000; ++round) {
    std::string tag = "<img";
    std::string want_src, want_alt;
    bool have_src = false, have_alt = false;
    const std::size_t count = next(70);
    for (std::size_t k = 0; k < count; ++k) {
      std::string name = kNames[next(sizeof kNames / sizeof kNames[0])];
      const std::string lower = name;
      for (char& c : name)
        if (next(2) && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      const std::string value = "v" + std::to_string(k);
      tag += " " + name + "=\"" + value + "\"";
      if (k < 64 && lower == "src" && !have_src) have_src = true, want_src = value;
      if (k < 64 && lower == "alt" && !have_alt) have_alt = true, want_alt = value;
    }
    const auto r = extract_html(tag + ">");
    REQUIRE(r.images.size() == 1);
    CAPTURE(tag);
    CHECK(r.images[0].src == want_src);
    CHECK(r.images[0].alt == want_alt);
  }
}

TEST_CASE("colour hiding: every colour form compared after normalising, nearest background wins") {
  // Element colours are kept as packed 0xrrggbb numbers (issue 17), compared as the
  // normalised "#rrggbb" strings were: equal forms hide, a one-step difference does not.
  const char* kWhite[] = {"#fff", "#ffffff", "#FFFFFF", "white", "WHITE", "rgb(255,255,255)", "rgb(100%,100%,100%)",
                          "#ffffffaa", "ffffff"};
  for (const char* text : kWhite)
    for (const char* bg : kWhite) {
      CAPTURE(text);
      CAPTURE(bg);
      const auto f = extract_html(std::string("<div style=\"background-color:") + bg + "\"><span style=\"color:" + text +
                                  "\">w</span></div>");
      CHECK(f.hidden_text == "w");
      CHECK(f.visible_text.empty());
    }
  CHECK(extract_html("<div style=\"background:#ffffff\"><span style=\"color:#fffffe\">w</span></div>").visible_text == "w");
  CHECK(extract_html("<div style=\"background:#000\"><span style=\"color:#000001\">w</span></div>").visible_text == "w");
  CHECK(extract_html("<div style=\"background:#000\"><span style=\"color:black\">w</span></div>").hidden_text == "w");
  // no background set: never assumed white
  CHECK(extract_html("<span style=\"color:#ffffff\">w</span>").visible_text == "w");
  // an unknown colour sets nothing
  CHECK(extract_html("<div bgcolor=\"#ffffff\"><font color=\"nosuch\">w</font></div>").visible_text == "w");
  // the nearest background counts: a nested one shows white text again, and the inner
  // element's own colour is compared with the inherited background
  const auto g = extract_html("<table bgcolor=\"#ffffff\"><tr><td style=\"background-color:navy\">"
                              "<font color=\"white\">shown</font></td><td><font color=\"#FFF\">hidden</font>"
                              "<span style=\"color:navy\">navy on white</span></td></tr></table>");
  CHECK(g.visible_text == "shown navy on white");
  CHECK(g.hidden_text == "hidden");
  CHECK(g.hidden_elements == 1);
  // a background image makes the background unknown
  CHECK(extract_html("<div style=\"background:#fff url(x.png)\"><span style=\"color:#fff\">w</span></div>").visible_text == "w");
  // the text colour is inherited by children, the background too
  const auto h = extract_html("<div style=\"background-color:#123456;color:#123456\">a<p>b<span>c</span></p></div>");
  CHECK(h.hidden_text == "a bc");  // <span> is inline
  CHECK(h.hidden_elements == 1);
}
