// heuristics_forwards_test.cpp: what hdrscan says about forwarded campaign mail (issue 14
// item 5; docs/scoring.md, "Forwards"). Every message is assembled at test time from real
// header lines read in place, never copied into the project:
//   - the forwarder: ../shared/corpus/dev_field_m365/linux-i2c/00100.eml, a real inline
//     "Fw:" sent out of an Exchange Online tenant (persistentsystems.com) to a list, received
//     through Proofpoint and kernel.org;
//   - the campaign mail: corpus/samples/campaign-consumer-{1,2}.eml (generated, a seed
//     connector IP and an off-list one) and ../shared/docs/examples/{consumer,thirdparty}-view.eml
//     (illustrations on real templates), each `campaign` on its own (checked first).
// Cases:
//   - forward as attachment (message/rfc822) in the forwarder's real header block: the wrapper
//     takes the attached message's verdict and names it (nested_from);
//   - inline forward, the original quoted in the body (its whole header block pasted as text,
//     or its HTML quoted as Outlook does): judged on the forwarder's own route; the quoted
//     lines are body text, never headers: the same non-body signals as the real message alone;
//   - auto-forward by a mailbox rule (the laundering case): the campaign mail as a Microsoft
//     mailbox received it (consumer view), sent on by the mailbox's rule in the shape real
//     auto-forwarded Exchange Online messages show (sources in auto_forward() below and in
//     docs/scoring.md): the received copy's delivery stamps and ARC set kept, the rule's
//     markers added, out through the real forwarder's exit. The route splits at the hand-over
//     from the original tenant's outbound into the forwarding side, so the original tenant is
//     judged on its own: `campaign` as the received copy is. Legitimate mail forwarded the same
//     way (a look-alike and the 80 real consumer-view relays of dev_relays) keeps its route,
//     relay and stripping signals and is never `campaign`.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "heuristics/heuristics.hpp"
#include "heuristics/signals.hpp"
#include "mime/message.hpp"
#include "tests/support/test_support.hpp"

using namespace hdrscan;

namespace {

const heuristics::Analyzer& analyzer() {
  static heuristics::Analyzer a(
      std::make_shared<heuristics::IndicatorPack>(heuristics::IndicatorPack::builtin()));
  return a;
}

std::string lf(std::string s) {
  std::string o;
  o.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) o += s[i];
  return o;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A real message split into its header fields (exact bytes, folds kept, LF line ends) and body.
struct Mail {
  std::vector<std::string> fields;
  std::string body;
  std::string html;  // decoded first text/html part ("" when none)
};

Mail read_mail(const std::string& path) {
  const std::string bytes = lf(test::slurp(path));
  const mime::ParsedMessage m = mime::parse_message(bytes);
  Mail out;
  for (const auto& f : m.headers.fields) out.fields.emplace_back(f.raw);
  out.body = std::string(m.body());
  if (const auto* h = m.first_html()) out.html = h->text;
  REQUIRE_MESSAGE(out.fields.size() > 10, path << ": not a real header block");
  return out;
}

std::string name_of(const std::string& field) { return lower(field.substr(0, field.find(':'))); }

std::string assemble(const std::vector<std::string>& fields, const std::string& body) {
  std::string m;
  for (const auto& f : fields) m += f + "\n";
  return m + "\n" + body;
}

heuristics::Assessment assess(const std::string& bytes) {
  return analyzer().assess(mime::parse_message(bytes));
}

bool fired(const heuristics::Assessment& a, std::string_view prefix) {
  for (const auto& e : a.evidence)
    if (e.signal.rfind(prefix, 0) == 0) return true;
  return false;
}

// Signals with a weight outside the body family: what the route and the headers say.
std::set<std::string> header_signals(const heuristics::Assessment& a) {
  std::set<std::string> s;
  for (const auto& e : a.evidence) {
    const auto* spec = heuristics::find_signal(e.signal);
    if (e.weight != 0 && (!spec || spec->family != heuristics::Family::body)) s.insert(e.signal);
  }
  return s;
}

// The header signals outside the sender family: what the route, relay and stripping say.
std::set<std::string> route_signals(const heuristics::Assessment& a) {
  std::set<std::string> s;
  for (const auto& n : header_signals(a))
    if (n.rfind("sender.", 0) != 0) s.insert(n);
  return s;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

const char* const kForwarder = "dev_field_m365/linux-i2c/00100.eml";

struct Original {
  const char* label;
  std::string path;
};

std::vector<Original> campaign_originals() {
  const std::string src = HDRSCAN_SOURCE_DIR;
  return {{"campaign-consumer-1 (seed connector IP)", src + "/corpus/samples/campaign-consumer-1.eml"},
          {"campaign-consumer-2 (off-list IP)", src + "/corpus/samples/campaign-consumer-2.eml"},
          {"consumer-view", test::shared_docs_path("examples/consumer-view.eml").string()},
          {"thirdparty-view", test::shared_docs_path("examples/thirdparty-view.eml").string()}};
}

}  // namespace

TEST_CASE("forward as attachment in a real forwarder's header block: the attached verdict, named" *
          test::needs_shared()) {
  const Mail fw = read_mail(test::shared_path(kForwarder).string());
  for (const auto& o : campaign_originals()) {
    CAPTURE(o.label);
    const std::string original = lf(test::slurp(o.path));
    REQUIRE(assess(original).verdict == heuristics::Verdict::campaign);
    // The forwarder's header block, its body replaced by what Outlook's "Forward as
    // attachment" writes: multipart/mixed, a note, the original as message/rfc822.
    std::vector<std::string> head;
    for (const auto& f : fw.fields) {
      const std::string n = name_of(f);
      if (n == "content-type") head.push_back("Content-Type: multipart/mixed; boundary=\"_fwd_\"");
      else if (n != "content-transfer-encoding") head.push_back(f);
    }
    const std::string body = "--_fwd_\nContent-Type: text/plain; charset=\"us-ascii\"\n\n"
                             "Please check the attached, it looks like spam.\n\n"
                             "--_fwd_\nContent-Type: message/rfc822\n"
                             "Content-Disposition: attachment; filename=\"original.eml\"\n\n" +
                             original + "\n--_fwd_--\n";
    const auto a = assess(assemble(head, body));
    CHECK(a.verdict == heuristics::Verdict::campaign);
    CHECK(a.nested_from == "nested[0]");
    for (const auto& e : a.evidence) CHECK(e.message == "nested[0]");
  }
}

TEST_CASE("inline forward: judged on the forwarder's own route, the quoted headers are body text" *
          test::needs_shared()) {
  const Mail fw = read_mail(test::shared_path(kForwarder).string());
  const auto alone = assess(assemble(fw.fields, fw.body));
  REQUIRE(alone.verdict == heuristics::Verdict::clean);  // the real "Fw:" as it was sent
  std::vector<std::string> as_text, as_html;
  for (const auto& f : fw.fields) {
    const std::string n = name_of(f);
    if (n == "content-transfer-encoding") {
      as_text.push_back("Content-Transfer-Encoding: 8bit");
      as_html.push_back("Content-Transfer-Encoding: 8bit");
    } else if (n == "content-type") {
      as_text.push_back(f);
      as_html.push_back("Content-Type: text/html; charset=\"utf-8\"");
    } else {
      as_text.push_back(f);
      as_html.push_back(f);
    }
  }
  for (const auto& o : campaign_originals()) {
    CAPTURE(o.label);
    const Mail orig = read_mail(o.path);
    REQUIRE(assess(assemble(orig.fields, orig.body)).verdict == heuristics::Verdict::campaign);
    // (1) The original's whole header block pasted into a plain-text forward (what a helpdesk
    // asks for), unprefixed, then its raw body: Received lines, the connector IP in
    // OriginalAttributedTenantConnectingIp, the missing ARC set... all in the body.
    std::string pasted = "Please check this one, looks like spam.\n\n-----Original Message-----\n";
    for (const auto& f : orig.fields) pasted += f + "\n";
    pasted += "\n" + orig.body;
    // (2) Outlook's inline forward of the HTML: the From/Sent/Subject block, then the
    // original's HTML (images, filler, tracking links and lure words included).
    REQUIRE_FALSE(orig.html.empty());
    const std::string quoted =
        "<html><body><p>Please check this one, looks like spam.</p><hr><div><b>From:</b> "
        "prize desk<br><b>Subject:</b> You have won</div>" + orig.html + "</body></html>";
    for (const auto& [variant, bytes] :
         {std::pair{"pasted headers", assemble(as_text, pasted)},
          std::pair{"quoted HTML", assemble(as_html, quoted)}}) {
      CAPTURE(variant);
      const auto a = assess(bytes);
      CHECK(a.verdict == heuristics::Verdict::clean);
      CHECK(a.nested_from.empty());
      // The route, the stripping and sender checks see the forwarder's headers only.
      CHECK(header_signals(a) == header_signals(alone));
      CHECK(a.route == alone.route);
      CHECK(a.connection.has_value() == alone.connection.has_value());
      CHECK_FALSE(fired(a, "strip."));
      CHECK_FALSE(fired(a, "relay.known_connector_ip"));
    }
  }
}

namespace {

// The laundering case: `orig` as a Microsoft mailbox received it (consumer view), sent on by
// that mailbox's rule. The shape follows real auto-forwarded Exchange Online messages:
//   - an outlook.com mailbox's inbox rule (the "Original message headers" of an outlook.com
//     non-delivery report, 2026-05, public GitHub file, see docs/scoring.md "Forwards"): the
//     received copy's header block is sent on whole, its Microsoft ARC set (sealed on arrival,
//     next in the chain), its CrossTenant-* stamps (FromEntityHeader Internet, AuthAs
//     Anonymous, the arrival time and Network-Message-Id of the delivery) and X-Microsoft-
//     Antispam are the delivery's, not restamped; above them a resubmission hop "from <mbx>
//     ([::1]) by <mbx>", `Resent-From: <mailbox>`, the hop to the transport server; in the
//     trailer `X-MS-Exchange-Inbox-Rules-Loop: <mailbox>`. No second ARC set is added.
//   - a tenant mailbox forwarding to an outside address (jstedfast/MimeKit
//     Benchmarks/MimeParserBenchmarks.cs @ a01f4c8a, "MessageHeaderStressTest", a redacted
//     real header block, 2021-08): the same delivery stamps kept (X-Forefront-Antispam-Report
//     of the arrival, CrossTenant-* FromEntityHeader Internet, AuthAs Anonymous), plus
//     `X-LD-Processed: <tenant id>,ExtFwd`, `X-MS-Exchange-Transport-Forked: True`,
//     `X-MS-Exchange-ForwardingLoop: <mailbox>;<tenant id>`.
// The exit out of Exchange Online and everything above it are the real forwarder's (a real
// message sent out of an Exchange Online tenant), its first internal hop (mailbox to
// transport) under the exit, all dated the day the original arrived (a rule forwards at
// once). `kind`: 0 inbox rule (Resent-From, Inbox-Rules-Loop), 1 mailbox forwarding
// (ForwardingLoop, X-LD-Processed). `keep_attribution`: whether the receiver's
// OriginalAttributedTenantConnectingIp survives: every other CrossTenant-* stamp does in
// both real shapes, this one is in neither (the originals came from the Internet), so both
// are measured.
std::string auto_forward(const Mail& fw, const Mail& orig, bool keep_attribution, int kind) {
  std::size_t exit = 0;
  while (exit < fw.fields.size() &&
         !(name_of(fw.fields[exit]) == "received" &&
           fw.fields[exit].substr(0, fw.fields[exit].find('\n')).find("outbound.protection.outlook.com") !=
               std::string::npos))
    ++exit;
  REQUIRE(exit + 4 < fw.fields.size());
  REQUIRE(name_of(fw.fields[exit + 4]) == "received");
  std::string day, mailbox, tenant, stamped;  // from the received copy's delivery stamps
  for (const auto& f : orig.fields) {
    const std::string n = name_of(f);
    const std::string v = f.substr(f.find(':') + 2);
    if (n == "x-ms-exchange-crosstenant-originalarrivaltime") day = v.substr(0, 11);
    if (n == "to" && mailbox.empty()) {  // the forwarding mailbox: the first address in To
      const std::size_t at = v.find('@');
      if (at != std::string::npos) {
        std::size_t b = v.find_last_of(" <,\t\n", at), e = v.find_first_of(" >,\t\n", at);
        mailbox = v.substr(b == std::string::npos ? 0 : b + 1, e == std::string::npos ? std::string::npos : e - b - 1);
      }
    }
    if (n == "x-ms-exchange-crosstenant-id") tenant = v.substr(0, 36);
    if (n == "x-ms-exchange-transport-crosstenantheadersstamped") stamped = v.substr(0, v.find('\n'));
  }
  REQUIRE(day.size() == 11);
  if (mailbox.empty()) mailbox = "inbox@outlook.com";  // To names nobody ("Undisclosed recipients:;")
  REQUIRE(tenant.size() == 36);
  REQUIRE_FALSE(stamped.empty());
  auto dated = [&](std::string f) {
    f = replace_all(f, "20 Aug 2025", day);
    return replace_all(f, "20 Aug\n 2025", day.substr(0, 6) + "\n " + day.substr(7));
  };
  std::vector<std::string> out(fw.fields.begin(), fw.fields.begin() + static_cast<long>(exit) + 1);
  out.push_back(fw.fields[exit + 4]);
  if (kind == 0) out.push_back("Resent-From: <" + mailbox + ">");
  out.push_back("Received: from " + stamped + ".namprd07.prod.outlook.com ([::1]) by\n " + stamped +
                ".namprd07.prod.outlook.com ([fe80::1d36:dae5:4d49:de87%4]) with\n Microsoft SMTP Server id "
                "15.20.5373.000; Wed, 20 Aug 2025 14:44:40 +0000");
  for (const auto& f : orig.fields) {
    if (!keep_attribution && name_of(f) == "x-ms-exchange-crosstenant-originalattributedtenantconnectingip") continue;
    out.push_back(f);
  }
  if (kind == 0) {
    out.push_back("X-MS-Exchange-Inbox-Rules-Loop: " + mailbox);
  } else {
    out.push_back("X-LD-Processed: " + tenant + ",ExtFwd");
    out.push_back("X-MS-Exchange-Transport-Forked: True");
    out.push_back("X-MS-Exchange-ForwardingLoop: " + mailbox + ";" + tenant);
  }
  for (auto& f : out) f = dated(f);
  return assemble(out, orig.body);
}

}  // namespace

TEST_CASE("auto-forward by a mailbox rule (laundering): the original tenant judged on its own" *
          test::needs_shared()) {
  const Mail fw = read_mail(test::shared_path(kForwarder).string());
  // The consumer-view originals: a seed connector IP in the campaign window (2022), an
  // off-list IP (2022), a seed IP outside the window (2025). Each `campaign` on its own.
  const auto originals = campaign_originals();
  for (std::size_t i = 0; i < 3; ++i) {
    const Original& o = originals[i];
    const Mail orig = read_mail(o.path);
    const auto direct = assess(assemble(orig.fields, orig.body));
    REQUIRE(direct.verdict == heuristics::Verdict::campaign);
    REQUIRE(fired(direct, "strip."));
    REQUIRE(direct.connection.has_value());
    for (int kind : {0, 1})
      for (bool keep : {true, false}) {
        CAPTURE(o.label);
        CAPTURE(kind);
        CAPTURE(keep);
        const std::string bytes = auto_forward(fw, orig, keep, kind);
        const auto a = assess(bytes);
        INFO("route: ", a.route, " score ", a.score);
        CHECK(a.verdict == heuristics::Verdict::campaign);
        // explain's zones name both exits: the forwarding side's and the sending tenant's.
        std::vector<std::string> zones;
        for (const auto& [field, zone] : analyzer().hop_zones(mime::parse_message(bytes))) zones.push_back(zone);
        CHECK(std::count(zones.begin(), zones.end(), "receiving (forwarded on: exit)") == 1);
        CHECK(std::count(zones.begin(), zones.end(), "receiving (exit)") == 1);
        CHECK(std::count(zones.begin(), zones.end(), "tenant (entry)") == 1);
        CHECK(a.nested_from.empty());
        // The route splits at the hand-over from the original tenant's outbound into the
        // forwarding side's front end: the forwarding side is the receiving side (a Microsoft
        // receiver, as in the consumer view), the sending tenant is the original's alone...
        CHECK(a.route.find("forwarded on out of Exchange Online") != std::string::npos);
        CHECK(a.route.find("(Microsoft receiver: consumer view)") != std::string::npos);
        CHECK(a.route.find("sending Exchange Online tenant: 3 hop(s)") != std::string::npos);
        REQUIRE(a.connection.has_value());
        CHECK(a.connection->ip == direct.connection->ip);
        // ...so the forwarding side's ARC set and delivery stamps do not stand in for the ones
        // the attacker's rules removed: the stripping evidence is the original's.
        CHECK(fired(a, "strip."));
        CHECK(a.gate.open());
        // Nothing the forward adds outweighs the original: at most the receiver's connecting-IP
        // stamp dropped (keep=false) costs its relay weight.
        CHECK(a.score <= direct.score);
        CHECK(a.score >= direct.score - 17);
      }
  }
}

TEST_CASE("auto-forward of legitimate mail: the same verdict as the received copy, never campaign" *
          test::needs_shared()) {
  const Mail fw = read_mail(test::shared_path(kForwarder).string());
  const int margin_max = analyzer().thresholds().campaign - 15;
  // A legitimate connector relay as outlook.com received it (the hand-written look-alike on
  // real templates), then the 80 real consumer-view connector relays of dev_relays (spam from
  // random-named tenants, nothing stripped: `related`, never `campaign` on their own).
  std::vector<std::string> paths = {std::string(HDRSCAN_SOURCE_DIR) + "/corpus/lookalikes/hybrid-consumer-view.eml"};
  for (const auto& e : std::filesystem::directory_iterator(test::shared_path("dev_relays")))
    if (e.path().extension() == ".eml") paths.push_back(e.path().string());
  std::sort(paths.begin() + 1, paths.end());
  REQUIRE(paths.size() == 81);
  int forwarded = 0;
  std::vector<int> diffs;
  int moved = 0;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    CAPTURE(paths[i]);
    const Mail orig = read_mail(paths[i]);
    const auto direct = assess(assemble(orig.fields, orig.body));
    REQUIRE(direct.verdict != heuristics::Verdict::campaign);
    for (int kind : {0, 1}) {
      CAPTURE(kind);
      const auto a = assess(auto_forward(fw, orig, true, kind));
      INFO("route: ", a.route, " score ", a.score, " direct ", direct.score);
      forwarded += a.route.find("forwarded on out of Exchange Online") != std::string::npos;
      CHECK(a.verdict != heuristics::Verdict::campaign);
      // The route, relay and stripping signals are the received copy's; only sender checks may
      // differ (the forwarder's envelope is not the original's: an `onmicrosoft.com` or random
      // envelope sender of the original is gone, the forwarder's list bounce address differs
      // from From), which moves a few of these spam relays across the `suspicious` line.
      CHECK(route_signals(a) == route_signals(direct));
      CHECK(a.score <= direct.score + 5);
      diffs.push_back(a.score - direct.score);
      if (a.verdict != direct.verdict) ++moved;
      if (i == 0) CHECK(a.score <= margin_max);
    }
  }
  CHECK(forwarded == 2 * static_cast<int>(paths.size()));
  std::sort(diffs.begin(), diffs.end());
  MESSAGE("forwarded minus received copy: min " << diffs.front() << ", median " << diffs[diffs.size() / 2]
                                                << ", max " << diffs.back() << "; verdict moved (clean <-> suspicious) in " << moved
                                                << " of " << diffs.size());
}
