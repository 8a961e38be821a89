// common.cpp: the analysis options shared by scan, explain and milter; terminal colours.
#include "scanner/common.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <unistd.h>

namespace hdrscan::scanner {

bool use_color(std::string_view when, bool to_terminal) {
  if (when == "always") return true;
  if (when != "auto" || !to_terminal || std::getenv("NO_COLOR")) return false;
  const char* term = std::getenv("TERM");
  return !(term && std::string_view(term) == "dumb");
}

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }
bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

void AnalysisOptions::add_to(CLI::App& cmd) {
  cmd.add_option("--indicators", add_indicators,
                 "Indicator file to add to the built-in pack (repeatable)")
      ->check(CLI::ExistingFile)
      ->allow_extra_args(false);  // one file per option: the next word is an input again
  cmd.add_option("--replace-indicators", replace_indicators,
                 "Indicator file used INSTEAD of the built-in pack (repeatable)")
      ->check(CLI::ExistingFile)
      ->allow_extra_args(false);
  cmd.add_option("--suspicious-at", thresholds.suspicious,
                 "Score at or above which a message is 'suspicious'")->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd.add_option("--campaign-at", thresholds.campaign,
                 "Score at or above which a message is 'campaign'")->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd.add_option("--max-message-size", limits.max_message_bytes,
                 "Bytes; larger messages get header analysis only")->capture_default_str();
  cmd.add_option("--max-headers", limits.max_header_count, "Header fields per message")->capture_default_str();
  cmd.add_option("--max-header-line", limits.max_header_line, "Bytes per header field")->capture_default_str();
  cmd.add_option("--max-mime-depth", limits.max_mime_depth, "MIME nesting depth")->capture_default_str();
  cmd.add_option("--max-parts", limits.max_parts, "MIME parts per message")->capture_default_str();
}

std::shared_ptr<const heuristics::IndicatorPack> AnalysisOptions::load_pack() const {
  auto pack = std::make_shared<heuristics::IndicatorPack>(
      replace_indicators.empty() ? heuristics::IndicatorPack::builtin()
                                 : heuristics::IndicatorPack::empty());
  for (const auto& f : replace_indicators) pack->add_file(f);
  for (const auto& f : add_indicators) pack->add_file(f);
  return pack;
}

std::shared_ptr<const heuristics::Analyzer> AnalysisOptions::make_analyzer() const {
  return std::make_shared<const heuristics::Analyzer>(load_pack(), thresholds);
}

std::shared_ptr<const heuristics::Analyzer> AnalysisOptions::make_analyzer_or_report() const {
  // Contradictory thresholds would silently turn scores into the wrong words.
  if (thresholds.suspicious > thresholds.campaign) {
    std::fprintf(stderr, "hdrscan: --suspicious-at %d is above --campaign-at %d: the suspicious threshold "
                 "must not exceed the campaign threshold\n", thresholds.suspicious, thresholds.campaign);
    return nullptr;
  }
  try {
    return make_analyzer();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hdrscan: indicators: %s\n", e.what());
    return nullptr;
  }
}

mime::ReaderOptions AnalysisOptions::reader_options() const {
  mime::ReaderOptions r;
  r.max_message_bytes = std::max(r.max_message_bytes, limits.max_message_bytes);
  return r;
}

void InputOptions::add_to(CLI::App& cmd) {
  cmd.add_option("--password", passwords,
                 "Password for encrypted archive members (repeatable, tried in order; also "
                 "$HDRSCAN_PASSWORD)")
      ->type_name("PW")
      ->allow_extra_args(false);
  cmd.add_option("--password-file", password_file,
                 "File with passwords for encrypted archive members, one per line")
      ->type_name("FILE");
}

bool InputOptions::apply(mime::ReaderOptions& ropt) const {
  ropt.passwords = passwords;
  if (!password_file.empty()) {
    std::ifstream in(password_file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "hdrscan: --password-file %s: %s\n", password_file.c_str(),
                   std::strerror(errno));
      return false;
    }
    constexpr std::size_t kMaxPasswords = 10000, kMaxLine = 4096;
    std::string line;
    while (std::getline(in, line) && ropt.passwords.size() < kMaxPasswords) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line.size() > kMaxLine) continue;
      ropt.passwords.push_back(line);
    }
    if (in.bad()) {
      std::fprintf(stderr, "hdrscan: --password-file %s: read error\n", password_file.c_str());
      return false;
    }
  }
  if (const char* env = std::getenv("HDRSCAN_PASSWORD"); env && *env)
    ropt.passwords.emplace_back(env);
  return true;
}

}  // namespace hdrscan::scanner
