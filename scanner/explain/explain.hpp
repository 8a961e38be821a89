// explain.hpp: the `hdrscan explain FILE [--index N] [--format text|json]` subcommand, the
// forensic view of one message (what it shows and its limits: head comment of explain.cpp).
#pragma once
#include <nlohmann/json.hpp>

#include "heuristics/heuristics.hpp"
#include "mime/message.hpp"
#include "mime/sources/sources.hpp"

namespace CLI { class App; }

namespace hdrscan::scanner {

// Registers "explain" on `app`; its callback stores the exit status (0 below --min-verdict,
// 1 at/above it, 2 error) in `exit_code`.
void add_explain_command(CLI::App& app, int& exit_code);

// The `explain --format json` object ("hdrscan.explain/1") of one message that was read (the
// caller has turned an unreadable or not_mail message away, as the command does). The one
// model the command prints (with a wrapper's attached message that gave the verdict as `nested`,
// as without --nested) and the Python module's Analyzer.explain returns.
nlohmann::ordered_json explain_model(const mime::RawMessage& raw,
                                     const heuristics::Analyzer& analyzer,
                                     const mime::Limits& limits);

}  // namespace hdrscan::scanner
