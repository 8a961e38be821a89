// common.hpp: options every application shares (indicator pack, thresholds, limits), so
// `scan`, `explain` and `milter` read them the same way; the input options of the commands
// that read files (`scan`, `explain`: archive passwords); and when text output is coloured.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "heuristics/heuristics.hpp"
#include "mime/message.hpp"
#include "mime/sources/sources.hpp"

namespace CLI { class App; }

namespace hdrscan::scanner {

struct AnalysisOptions {
  std::vector<std::string> add_indicators;      // --indicators FILE (repeatable): add to builtin
  std::vector<std::string> replace_indicators;  // --replace-indicators FILE: builtin not loaded
  heuristics::Thresholds thresholds;            // --suspicious-at N --campaign-at N
  mime::Limits limits;                          // --max-message-size ... (see add_to)
  void add_to(CLI::App& cmd);
  // Loads the pack; throws heuristics::IndicatorError with "file:line: reason".
  std::shared_ptr<const heuristics::IndicatorPack> load_pack() const;
  // The pack and thresholds as the one Analyzer every application scores with; throws as
  // load_pack() does.
  std::shared_ptr<const heuristics::Analyzer> make_analyzer() const;
  // The same for a command: on a bad indicator file prints "hdrscan: indicators: REASON" to
  // stderr and returns null (the command then exits 2).
  std::shared_ptr<const heuristics::Analyzer> make_analyzer_or_report() const;
  // Reader options matching these limits (a reader never cuts a message the parser accepts).
  mime::ReaderOptions reader_options() const;
};

// Whether text output gets ANSI colours for --color WHEN (auto, always, never): auto colours
// only output that goes to a terminal (`to_terminal`), and not when NO_COLOR is set
// (no-color.org) or TERM is "dumb". The one place scan and explain decide it.
bool use_color(std::string_view when, bool to_terminal);
bool stdout_is_terminal();
bool stderr_is_terminal();

// Passwords for encrypted archive members (zip: ZipCrypto, AES). Never written anywhere: they
// only go to libarchive, which decrypts members in memory.
struct InputOptions {
  std::vector<std::string> passwords;  // --password PW (repeatable)
  std::string password_file;           // --password-file FILE: one password per line
  void add_to(CLI::App& cmd);
  // ropt.passwords = --password values in order, then the file's lines (empty lines and a
  // trailing CR dropped), then $HDRSCAN_PASSWORD. False, with "hdrscan: --password-file FILE:
  // reason" on standard error, when the file cannot be read (the command then exits 2).
  bool apply(mime::ReaderOptions& ropt) const;
};

}  // namespace hdrscan::scanner
