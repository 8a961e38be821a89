// milter_config.hpp: the milter's configuration file and its verdict -> action policy.
//
// Purpose: parse the `hdrscan milter --config FILE` format (documented in docs/milter.md and
// docs/hdrscan-milter.conf.example) and turn a verdict into what the session sends at end of
// message (tag headers, quarantine, reject reply...). Pure functions, unit-tested.
//
// File format: one `key = value` per line; '#' starts a comment line; blank lines ignored;
// unknown keys and bad values are errors ("FILE:LINE: reason"), so a typo never silently
// weakens the policy. `indicators` may repeat.
// Limits: a config file larger than 1 MiB or a line longer than 4096 bytes is refused.
// Diagnostics: ConfigError carries "file:line: reason".
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "heuristics/heuristics.hpp"
#include "scanner/milter/milter_protocol.hpp"

namespace hdrscan::scanner::milter {

enum class Action { accept, tag, quarantine, reject, tempfail };
std::string_view to_string(Action a);
std::string_view to_string(ErrorResult r);

struct Config {
  std::string listen;                    // inet:HOST:PORT | unix:PATH (command line wins)
  std::vector<std::string> indicators;   // indicator files added to the pack
  Action on_clean = Action::tag;
  Action on_suspicious = Action::tag;
  Action on_campaign = Action::quarantine;
  // A wrapper: a message whose verdict came from a message attached to it (message/rfc822,
  // Assessment::nested_from), e.g. a user forwarding campaign mail to the helpdesk or an abuse
  // desk as an attachment. Flagged (suspicious or campaign), it gets this action instead of
  // the verdict's: the forwarder is not the spammer, so it is delivered tagged by default.
  Action on_wrapper = Action::tag;
  std::string quarantine_reason = "hdrscan: connector-relay sweepstakes campaign";
  std::string reject_reply =
      "550 5.7.1 Message refused: it matches a known spam campaign (hdrscan)";
  ErrorResult on_error = ErrorResult::tempfail;
  std::size_t max_body_bytes = 2u << 20;    // body bytes analysed; the rest is passed on
  std::size_t max_header_bytes = 1u << 20;  // header bytes analysed
  unsigned idle_timeout = 600;       // s without any packet (between messages: SMTP idle)
  unsigned read_timeout = 30;        // s to complete a packet once it started / to write
  unsigned scan_timeout = 60;        // s for scoring one message; then on-error result
  unsigned progress_interval = 10;   // s between 'p' packets while scoring
  unsigned drain_timeout = 30;       // s SIGTERM waits for in-flight messages
  unsigned io_threads = 1;
  unsigned scan_threads = 0;         // 0 = number of CPUs
  unsigned max_connections = 1000;   // more are closed at once (MTA default action)
  unsigned top_signals = 3;          // signal ids in X-Hdrscan-Score
  bool dry_run = false;              // only log what would be done
  std::string stats_file;            // counters written here on SIGUSR1 and at exit

  // The action for a verdict; `wrapper`: the verdict came from an attached message (a clean
  // wrapper is clean mail: the clean action).
  Action action_for(heuristics::Verdict v, bool wrapper = false) const;
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses config text over `base` (defaults or a previous config). Throws ConfigError.
Config parse_config(std::string_view text, const std::string& label, Config base = {});
Config load_config_file(const std::string& path, Config base = {});

// Values of our two headers for an assessment. A wrapper's score header ends in
// " nested_from=nested[0]" (the attached message the verdict came from).
std::string verdict_header_value(heuristics::Verdict v);
std::string score_header_value(int score, const std::vector<std::string>& top_signals,
                               std::string_view nested_from = {});
// The first `n` distinct signal ids with a positive weight, strongest first.
std::vector<std::string> top_signals(const heuristics::Assessment& a, std::size_t n);

// What to send at end of message for this verdict. The action is what the config says
// (action_for; a non-empty `nested_from` marks a wrapper); dry-run only logs (the returned
// decision is a plain CONTINUE that changes nothing).
EomDecision decide(const Config& cfg, heuristics::Verdict verdict, int score,
                   const std::vector<std::string>& signals, std::string_view nested_from = {});

}  // namespace hdrscan::scanner::milter
