// `hdrscan signals`: the JSON contract tools/fit-weights reads (issue 15: a list of
// {id, family, weight, cap, gate}, plus cap_without_relay and meaning) holds the compiled-in
// table entry for entry, and the text table names every signal.
#include <doctest/doctest.h>

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "heuristics/signals.hpp"
#include "scanner/signals/signals.hpp"

using namespace hdrscan;
namespace h = hdrscan::heuristics;

TEST_CASE("signals --format json: one object per table entry, in order, with the scoring model") {
  const auto j = nlohmann::ordered_json::parse(scanner::render_signals("json"));
  const auto table = h::all_signals();
  REQUIRE(j.is_array());
  REQUIRE(j.size() == table.size());
  std::set<std::string> ids;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto& o = j[i];
    const auto& s = table[i];
    CAPTURE(s.id);
    std::vector<std::string> keys;
    for (const auto& [k, v] : o.items()) keys.push_back(k);
    CHECK(keys == std::vector<std::string>{"id", "family", "weight", "cap", "cap_without_relay",
                                           "gate", "meaning"});
    CHECK(o["id"] == s.id);
    CHECK(o["family"] == h::to_string(s.family));
    CHECK(o["weight"] == s.weight);
    CHECK(o["cap"] == h::family_cap(s.family));
    CHECK(o["cap_without_relay"] == (s.family == h::Family::stripping
                                         ? h::stripping_cap_without_relay()
                                         : h::family_cap(s.family)));
    CHECK(o["gate"] == (s.gate == h::GateRole::none ? "none" : h::to_string(s.gate)));
    CHECK(o["meaning"] == s.meaning);
    ids.insert(o["id"].get<std::string>());
  }
  CHECK(ids.size() == table.size());
  // The ids whose prefix is not their family (the reason the table states the family).
  for (const auto& o : j)
    if (o["id"] == "relay.known_connector_ip") CHECK(o["family"] == "known_ip");
}

TEST_CASE("signals --format text: a row per signal and the stripping cap without relay") {
  const std::string text = scanner::render_signals("text");
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  CHECK(line.rfind("id ", 0) == 0);
  std::set<std::string> rows;
  while (std::getline(in, line) && !line.empty()) rows.insert(line.substr(0, line.find(' ')));
  for (const auto& s : h::all_signals()) CHECK(rows.count(std::string(s.id)) == 1);
  CHECK(rows.size() == h::all_signals().size());
  const std::string cap = std::to_string(h::stripping_cap_without_relay());
  CHECK(text.find("cap is " + cap + " when no relay") != std::string::npos);
}

TEST_CASE("signals: registered as a subcommand whose --format takes text or json only") {
  CLI::App app;
  int rc = -1;
  scanner::add_signals_command(app, rc);
  CHECK_THROWS_AS(app.parse(std::vector<std::string>{"xml", "--format", "signals"}),
                  CLI::ValidationError);
}
