// findings.cpp: evidence collection and the small text helpers detectors share.
#include <algorithm>

#include "heuristics/detectors.hpp"
#include "heuristics/signals.hpp"
#include "mime/decode.hpp"

namespace hdrscan::heuristics {

void Findings::fire(std::string_view signal, std::string where, std::string_view excerpt,
                    std::optional<int> weight_override) {
  if (fired(signal)) return;  // one piece of evidence per signal: the first (topmost) wins
  const SignalSpec* spec = find_signal(signal);
  int w = weight_override ? *weight_override : (spec ? spec->weight : 0);
  evidence.push_back({std::string(signal), w, std::move(where), excerpt_of(excerpt), ""});
  checks.push_back({std::string(signal), true, spec ? std::string(spec->meaning) : std::string()});
}

void Findings::pass(std::string_view signal, std::string why) {
  for (const auto& c : checks)
    if (c.signal == signal) return;
  checks.push_back({std::string(signal), false, std::move(why)});
}

bool Findings::fired(std::string_view signal) const {
  return std::any_of(evidence.begin(), evidence.end(),
                     [&](const Evidence& e) { return e.signal == signal; });
}

std::string excerpt_of(std::string_view s, std::size_t max) {
  std::string t;
  t.reserve(std::min(s.size(), max + 8));
  bool space = false;
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !t.empty()) t.push_back(' ');
    space = false;
    t.push_back(c);
    if (t.size() >= max) {
      // back off to a UTF-8 boundary
      while (!t.empty() && (static_cast<unsigned char>(t.back()) & 0xC0) == 0x80) t.pop_back();
      if (!t.empty() && static_cast<unsigned char>(t.back()) >= 0xC0) t.pop_back();
      t += "...";
      break;
    }
  }
  return mime::sanitize_utf8(t);
}


std::string where_of(const mime::ParsedMessage& msg, const mime::HeaderField* f) {
  if (!f) return {};
  std::size_t idx = static_cast<std::size_t>(f - msg.headers.fields.data());
  int nth = 0;
  for (std::size_t i = 0; i < idx; ++i)
    if (mime::text::iequals(msg.headers.fields[i].name, f->name)) ++nth;
  return std::string(f->name) + "[" + std::to_string(nth) + "]";
}

std::vector<const mime::HeaderField*> fields_in_zones(const mime::ParsedMessage& msg,
                                                      const Route& route, std::string_view name,
                                                      ZoneSet zones, std::size_t max) {
  std::vector<const mime::HeaderField*> out;
  if (max == 0) return out;
  // The field count read once: `out.push_back` could alias the vector for the compiler, which
  // otherwise reloads and divides `fields.size()` on every field (this runs ~20 times per
  // message over every field). Names of another length are passed over before iequals.
  const mime::HeaderField* const fields = msg.headers.fields.data();
  const std::size_t n = msg.headers.fields.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (fields[i].name.size() != name.size() || !mime::text::iequals(fields[i].name, name) ||
        !zones.has(route.zone_of(i)))
      continue;
    out.push_back(&fields[i]);
    if (out.size() >= max) break;
  }
  return out;
}

std::vector<const mime::HeaderField*> trusted_fields(const mime::ParsedMessage& msg, const Route& route,
                                                     std::string_view name) {
  return fields_in_zones(msg, route, name, route.earlier_pass ? kAnyZone : kNotOrigin, 64);
}

const mime::HeaderField* trusted_field(const mime::ParsedMessage& msg, const Route& route,
                                       std::string_view name) {
  const auto found = fields_in_zones(msg, route, name, kNotOrigin, 1);
  return found.empty() ? nullptr : found.front();
}

}  // namespace hdrscan::heuristics
