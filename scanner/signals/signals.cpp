// signals.cpp: `hdrscan signals [--format text|json]`: the signal table the scanner scores with
// (heuristics/signals.hpp: all_signals, family_cap, stripping_cap_without_relay), so analysts
// and tools read the model from the binary that uses it, not from the source.
//
// JSON (a contract, issue 15; tools/fit-weights reads it): one array, one object per signal
// in table order, one object per line:
//   {"id", "family", "weight", "cap", "cap_without_relay", "gate", "meaning"}
// `cap` is the family's cap (the most the family adds to the score); `cap_without_relay` is
// the cap that applies when no signal with gate role relay or ioc fired: the stripping
// family's lower cap (stripping_cap_without_relay), the family cap for every other family.
// `gate` is the signal's part in the campaign gate: relay, ioc, strip_one, strip_both,
// strip_tamper, or none (heuristics/signals.hpp, GateRole).
// Text: the same columns as a table, then the caps and the gate rule in two lines.
// Limits: none (the table is compiled in; analysts' rule.* signals come from indicator files
// and are not listed). Diagnostics: a write error on standard output gives exit status 2.
#include "scanner/signals/signals.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "heuristics/signals.hpp"

namespace hdrscan::scanner {
namespace {

namespace h = heuristics;

std::string_view gate_name(h::GateRole g) {
  const std::string_view s = h::to_string(g);
  return s.empty() ? "none" : s;
}

std::string render_json() {
  std::string out = "[\n";
  const auto table = h::all_signals();
  for (std::size_t i = 0; i < table.size(); ++i) {
    const h::SignalSpec& s = table[i];
    nlohmann::ordered_json j;
    j["id"] = s.id;
    j["family"] = h::to_string(s.family);
    j["weight"] = s.weight;
    j["cap"] = h::family_cap(s.family);
    j["cap_without_relay"] = h::family_cap(s.family, false);
    j["gate"] = gate_name(s.gate);
    j["meaning"] = s.meaning;
    out += "  " + j.dump() + (i + 1 < table.size() ? ",\n" : "\n");
  }
  return out + "]\n";
}

std::string render_text() {
  const auto table = h::all_signals();
  std::size_t id_w = 2;
  for (const auto& s : table) id_w = std::max(id_w, s.id.size());
  std::string out = fmt::format("{:<{}}  {:<9}  {:>6}  {:>3}  {:<12}  {}\n", "id", id_w, "family",
                                "weight", "cap", "gate", "meaning");
  for (const auto& s : table)
    out += fmt::format("{:<{}}  {:<9}  {:>6}  {:>3}  {:<12}  {}\n", s.id, id_w,
                       h::to_string(s.family), s.weight, h::family_cap(s.family),
                       gate_name(s.gate), s.meaning);
  out += fmt::format(
      "\nscore: the sum over families of min(cap, the weights that fired);\n"
      "  the stripping family's cap is {} when no relay or ioc signal fired.\n"
      "campaign: score at the campaign threshold and relay AND (ioc OR strip_tamper OR "
      "strip_both).\n",
      h::stripping_cap_without_relay());
  return out;
}

}  // namespace

std::string render_signals(std::string_view format) {
  return format == "json" ? render_json() : render_text();
}

void add_signals_command(CLI::App& app, int& exit_code) {
  auto format = std::make_shared<std::string>("text");
  CLI::App* cmd = app.add_subcommand(
      "signals", "Print the signal table: id, family, weight, family cap, gate role, meaning");
  cmd->add_option("--format", *format, "text or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  cmd->callback([format, &exit_code] {
    const std::string out = render_signals(*format);
    const bool ok = std::fwrite(out.data(), 1, out.size(), stdout) == out.size() &&
                    std::fflush(stdout) == 0;
    if (!ok) std::fprintf(stderr, "hdrscan: signals: cannot write standard output\n");
    exit_code = ok ? 0 : 2;
  });
}

}  // namespace hdrscan::scanner
