// milter_config.cpp: milter configuration file parser and verdict -> action policy.
//
// Purpose: see milter_config.hpp. Defaults (no config file): clean -> tag,
// suspicious -> tag, campaign -> quarantine (Postfix hold queue: nothing is lost on a false
// positive, an admin releases it with `postsuper -H`), a flagged wrapper (verdict from an
// attached message: a user's forward to the helpdesk) -> tag, errors -> tempfail.
// Limits: file <= 1 MiB, lines <= 4096 bytes, numbers <= 2^32-1 (byte sizes accept k/m).
// Diagnostics: ConfigError("file:line: reason").
#include "scanner/milter/milter_config.hpp"

#include <cctype>
#include <fstream>
#include <sstream>

#include "mime/text.hpp"

namespace hdrscan::scanner::milter {
namespace {

std::string_view trim(std::string_view s) { return mime::text::trim_if(s, mime::text::is_c_space); }

bool parse_unsigned(std::string_view v, std::uint64_t max, std::uint64_t& out, bool sizes) {
  if (v.empty()) return false;
  std::uint64_t mult = 1;
  if (sizes) {
    char last = static_cast<char>(std::tolower(static_cast<unsigned char>(v.back())));
    if (last == 'k') mult = 1024;
    if (last == 'm') mult = 1024 * 1024;
    if (mult != 1) v.remove_suffix(1);
  }
  if (v.empty() || v.size() > 10) return false;
  std::uint64_t n = 0;
  for (char c : v) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  n *= mult;
  if (n > max) return false;
  out = n;
  return true;
}

bool parse_action(std::string_view v, Action& out) {
  if (v == "accept") out = Action::accept;
  else if (v == "tag") out = Action::tag;
  else if (v == "quarantine" || v == "hold") out = Action::quarantine;
  else if (v == "reject") out = Action::reject;
  else if (v == "tempfail") out = Action::tempfail;
  else return false;
  return true;
}

bool parse_bool(std::string_view v, bool& out) {
  if (v == "yes" || v == "true" || v == "on" || v == "1") out = true;
  else if (v == "no" || v == "false" || v == "off" || v == "0") out = false;
  else return false;
  return true;
}

}  // namespace

std::string_view to_string(Action a) {
  switch (a) {
    case Action::accept: return "accept";
    case Action::tag: return "tag";
    case Action::quarantine: return "quarantine";
    case Action::reject: return "reject";
    case Action::tempfail: return "tempfail";
  }
  return "?";
}

std::string_view to_string(ErrorResult r) {
  switch (r) {
    case ErrorResult::tempfail: return "tempfail";
    case ErrorResult::accept: return "accept";
    case ErrorResult::reject: return "reject";
  }
  return "?";
}

Action Config::action_for(heuristics::Verdict v, bool wrapper) const {
  switch (v) {
    case heuristics::Verdict::campaign: return wrapper ? on_wrapper : on_campaign;
    case heuristics::Verdict::suspicious: return wrapper ? on_wrapper : on_suspicious;
    case heuristics::Verdict::clean: break;
  }
  return on_clean;
}

Config parse_config(std::string_view text, const std::string& label, Config cfg) {
  if (text.size() > (1u << 20)) throw ConfigError(label + ": config file larger than 1 MiB");
  bool listed_indicators = false;
  std::size_t lineno = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++lineno;
    auto fail = [&](const std::string& why) {
      throw ConfigError(label + ":" + std::to_string(lineno) + ": " + why);
    };
    if (line.size() > 4096) fail("line longer than 4096 bytes");
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) fail("expected 'key = value'");
    std::string key(trim(line.substr(0, eq)));
    std::string_view val = trim(line.substr(eq + 1));
    std::uint64_t n = 0;
    auto number = [&](std::uint64_t max, bool sizes) {
      if (!parse_unsigned(val, max, n, sizes))
        fail("bad number '" + std::string(val) + "' for " + key);
      return n;
    };
    if (key == "listen") {
      if (val.rfind("inet:", 0) != 0 && val.rfind("unix:", 0) != 0)
        fail("listen must be inet:HOST:PORT or unix:PATH");
      cfg.listen = std::string(val);
    } else if (key == "indicators") {
      if (!listed_indicators) cfg.indicators.clear();  // a file's list replaces the base's
      listed_indicators = true;
      if (val.empty()) fail("indicators needs a file name");
      cfg.indicators.emplace_back(val);
    } else if (key == "clean" || key == "suspicious" || key == "campaign" ||
               key == "wrapper-action") {
      Action a;
      if (!parse_action(val, a))
        fail("action must be accept, tag, quarantine, reject or tempfail, not '" +
             std::string(val) + "'");
      (key == "clean"        ? cfg.on_clean
       : key == "suspicious" ? cfg.on_suspicious
       : key == "campaign"   ? cfg.on_campaign
                             : cfg.on_wrapper) = a;
    } else if (key == "quarantine-reason") {
      if (val.empty()) fail("quarantine-reason must not be empty");
      if (val.size() > 500) fail("quarantine-reason longer than 500 bytes");
      cfg.quarantine_reason = std::string(val);
    } else if (key == "reject-reply") {
      std::string why = check_smtp_reply(val);
      if (!why.empty()) fail("reject-reply: " + why);
      if (val[0] != '5') fail("reject-reply must be a 5xx reply (use the tempfail action for 4xx)");
      cfg.reject_reply = std::string(val);
    } else if (key == "on-error") {
      if (val == "tempfail") cfg.on_error = ErrorResult::tempfail;
      else if (val == "accept") cfg.on_error = ErrorResult::accept;
      else if (val == "reject") cfg.on_error = ErrorResult::reject;
      else fail("on-error must be tempfail, accept or reject");
    } else if (key == "max-body-bytes") {
      cfg.max_body_bytes = number(1ull << 30, true);
    } else if (key == "max-header-bytes") {
      cfg.max_header_bytes = number(64ull << 20, true);
      if (cfg.max_header_bytes < 1024) fail("max-header-bytes must be at least 1k");
    } else if (key == "idle-timeout" || key == "read-timeout" || key == "scan-timeout" ||
               key == "progress-interval" || key == "drain-timeout") {
      unsigned v = static_cast<unsigned>(number(86400, false));
      if (v == 0) fail(key + " must be at least 1 second");
      (key == "idle-timeout"        ? cfg.idle_timeout
       : key == "read-timeout"      ? cfg.read_timeout
       : key == "scan-timeout"      ? cfg.scan_timeout
       : key == "progress-interval" ? cfg.progress_interval
                                    : cfg.drain_timeout) = v;
    } else if (key == "io-threads") {
      cfg.io_threads = static_cast<unsigned>(number(64, false));
      if (cfg.io_threads == 0) fail("io-threads must be at least 1");
    } else if (key == "scan-threads") {
      cfg.scan_threads = static_cast<unsigned>(number(256, false));
    } else if (key == "max-connections") {
      cfg.max_connections = static_cast<unsigned>(number(100000, false));
      if (cfg.max_connections == 0) fail("max-connections must be at least 1");
    } else if (key == "top-signals") {
      cfg.top_signals = static_cast<unsigned>(number(10, false));
    } else if (key == "dry-run") {
      if (!parse_bool(val, cfg.dry_run)) fail("dry-run must be yes or no");
    } else if (key == "stats-file") {
      cfg.stats_file = std::string(val);
    } else {
      fail("unknown key '" + key + "'");
    }
  }
  return cfg;
}

Config load_config_file(const std::string& path, Config base) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open config file");
  std::string text;
  text.resize(1u << 20);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (in.peek() != std::char_traits<char>::eof())
    throw ConfigError(path + ": config file larger than 1 MiB");
  return parse_config(text, path, std::move(base));
}

std::string verdict_header_value(heuristics::Verdict v) {
  return std::string(heuristics::to_string(v));
}

std::string score_header_value(int score, const std::vector<std::string>& signals,
                               std::string_view nested_from) {
  std::string out = std::to_string(score);
  if (!signals.empty()) {
    out += " signals=";
    for (std::size_t i = 0; i < signals.size(); ++i) {
      if (i) out += ',';
      out += signals[i];
    }
  }
  // "nested[0].nested[1]": only what that syntax needs may reach a header.
  std::string from;
  for (char c : nested_from.substr(0, 80))
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '[' || c == ']')
      from.push_back(c);
  if (!from.empty()) out += " nested_from=" + from;
  return out;
}

std::vector<std::string> top_signals(const heuristics::Assessment& a, std::size_t n) {
  std::vector<std::string> out;
  for (const auto& e : a.evidence) {
    if (out.size() >= n) break;
    if (e.weight <= 0 || e.signal.empty()) continue;
    bool seen = false;
    for (const auto& s : out) seen = seen || s == e.signal;
    if (seen) continue;
    // Signal ids are [a-z0-9._-]; anything else would not belong in a header.
    std::string id;
    for (char c : e.signal)
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')
        id.push_back(c);
    if (!id.empty()) out.push_back(id.substr(0, 80));
  }
  return out;
}

EomDecision decide(const Config& cfg, heuristics::Verdict verdict, int score,
                   const std::vector<std::string>& signals, std::string_view nested_from) {
  EomDecision d;
  if (cfg.dry_run) {
    d.delete_forged = false;
    d.final = Final::cont;
    return d;
  }
  Action a = cfg.action_for(verdict, !nested_from.empty());
  d.delete_forged = true;
  auto tag = [&] {
    d.add_headers.emplace_back(kVerdictHeader, verdict_header_value(verdict));
    d.add_headers.emplace_back(kScoreHeader, score_header_value(score, signals, nested_from));
  };
  switch (a) {
    case Action::accept:
      d.final = Final::cont;
      break;
    case Action::tag:
      tag();
      d.final = Final::cont;
      break;
    case Action::quarantine:
      tag();  // the held copy carries the evidence for whoever reviews the hold queue
      d.quarantine_reason = cfg.quarantine_reason + " (verdict " +
                            std::string(heuristics::to_string(verdict)) +
                            (nested_from.empty() ? "" : " of an attached message") +
                            ", score " + std::to_string(score) + ")";
      d.final = Final::cont;
      break;
    case Action::reject:
      d.final = Final::replycode;
      d.reply_text = cfg.reject_reply;
      break;
    case Action::tempfail:
      d.final = Final::tempfail;
      break;
  }
  return d;
}

}  // namespace hdrscan::scanner::milter
