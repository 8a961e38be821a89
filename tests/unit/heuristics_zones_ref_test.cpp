// heuristics_zones_ref_test.cpp: fields_in_zones (heuristics/findings.cpp), the route-zone
// filter every detector reads headers through, rewritten for speed in issue 17 (field count
// read once, other name lengths passed over first), against the loop it replaced, kept here
// verbatim as the reference: the same fields in the same order for every field name of every
// message of ../shared/corpus's dev_m365_legit and dev_relays, under each zone set and limit.
#include <doctest/doctest.h>

#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "heuristics/detectors.hpp"
#include "heuristics/heuristics.hpp"
#include "mime/message.hpp"
#include "mime/text.hpp"
#include "tests/support/test_support.hpp"

using namespace hdrscan;
using heuristics::Zone;
using heuristics::ZoneSet;

namespace {

// fields_in_zones as of a18c9cc, verbatim.
std::vector<const mime::HeaderField*> ref_fields_in_zones(const mime::ParsedMessage& msg,
                                                          const heuristics::Route& route, std::string_view name,
                                                          ZoneSet zones, std::size_t max) {
  std::vector<const mime::HeaderField*> out;
  const auto& fields = msg.headers.fields;
  for (std::size_t i = 0; i < fields.size() && out.size() < max; ++i)
    if (mime::text::iequals(fields[i].name, name) && zones.has(route.zone_of(i)))
      out.push_back(&fields[i]);
  return out;
}

// Every name of the message (and a few it lacks, one of them a case variant) under every
// zone set and limit: the new filter gives the reference's fields.
std::size_t check_message(const mime::ParsedMessage& msg, const heuristics::IndicatorPack& pack) {
  const auto route = heuristics::analyze_route(msg, pack);
  std::set<std::string> names = {"", "X-None", "arc-seal", "ARC-SEAL", "received", "X"};
  for (const auto& f : msg.headers.fields) names.emplace(f.name);
  const ZoneSet sets[] = {heuristics::kAnyZone, heuristics::kNotOrigin, ZoneSet{Zone::tenant, Zone::trailer},
                          ZoneSet{Zone::tenant, Zone::trailer, Zone::origin}, ZoneSet{Zone::receiving},
                          ZoneSet{Zone::origin}, ZoneSet{}};
  const std::size_t limits[] = {0, 1, 2, 3, 64, std::numeric_limits<std::size_t>::max()};
  std::size_t found = 0;
  for (const auto& name : names)
    for (const ZoneSet zones : sets)
      for (const std::size_t max : limits) {
        const auto want = ref_fields_in_zones(msg, route, name, zones, max);
        const auto got = heuristics::fields_in_zones(msg, route, name, zones, max);
        INFO("name " << name << " zones " << zones.bits << " max " << max);
        CHECK(got == want);
        found += got.size();
      }
  return found;
}

const heuristics::IndicatorPack& pack() {
  static const auto p = heuristics::IndicatorPack::builtin();
  return p;
}

}  // namespace

TEST_CASE("fields_in_zones equals the reference on small messages") {
  const std::string messages[] = {
      "",
      "Subject: x\r\n\r\nbody",
      "A: 1\r\nB: 2\r\na: 3\r\nAB: 4\r\nBA: 5\r\n\r\n",
      "Received: from a.example by b.example; Thu, 1 Jan 2026 00:00:00 +0000\r\nARC-Seal: i=1\r\n"
      "arc-seal: i=2\r\nReceived: from c.example by a.example; Thu, 1 Jan 2026 00:00:00 +0000\r\n"
      "ARC-Seal: i=3\r\nX-MS-Exchange-CrossTenant-Id: 1\r\n\r\n",
  };
  for (const auto& m : messages) check_message(mime::parse_message(m), pack());
}

TEST_CASE("fields_in_zones equals the reference on the dev sets" * hdrscan::test::needs_shared()) {
  std::size_t messages = 0, found = 0;
  for (const char* set : {"dev_m365_legit", "dev_relays"}) {
    for (const auto& path : hdrscan::test::shared_files(set)) {
      INFO(path.filename().string());
      const std::string bytes = hdrscan::test::slurp(path);
      found += check_message(mime::parse_message(bytes), pack());
      ++messages;
    }
  }
  MESSAGE(messages << " messages, " << found << " fields found");
  CHECK(messages >= 680);
  CHECK(found > 100000);
}

TEST_CASE("analyze_route: one hop per Received field in order, any case, at most 100") {
  // The hops are parsed into room reserved for them first: the count, the order, each hop's
  // field and the bound must be what the fields say.
  for (const int n : {0, 1, 3, 99, 100, 101, 150}) {
    CAPTURE(n);
    std::string m = "Subject: x\r\n";
    for (int k = 0; k < n; ++k) {
      const char* name = k % 3 == 0 ? "Received" : k % 3 == 1 ? "RECEIVED" : "received";
      m += std::string(name) + ": from h" + std::to_string(k) + ".example by r.example; Thu, 1 Jan 2026 00:00:00 +0000\r\n";
      if (k % 7 == 0) m += "X-Other-" + std::to_string(k) + ": y\r\n";
    }
    m += "\r\nbody\r\n";
    const auto msg = mime::parse_message(m);
    const auto route = heuristics::analyze_route(msg, pack());
    const std::size_t expect = static_cast<std::size_t>(std::min(n, 100));
    REQUIRE(route.hops.size() == expect);
    for (std::size_t k = 0; k < expect; ++k) {
      CAPTURE(k);
      CHECK(route.hops[k].hop.from_host == "h" + std::to_string(k) + ".example");
      const auto& f = msg.headers.fields[route.hops[k].field_index];
      CHECK(mime::text::iequals(f.name, "received"));
      CHECK(f.value.find("from h" + std::to_string(k) + ".example") != std::string::npos);
    }
    if (expect > 0) CHECK(route.last_received_field == route.hops.back().field_index);
  }
}
