// signals.hpp: the `hdrscan signals [--format text|json]` subcommand: the signal table the
// scanner scores with, from heuristics/signals.hpp (the one definition), printed for analysts
// and for tools (tools/fit-weights reads the JSON instead of parsing signals.cpp).
#pragma once
#include <string>
#include <string_view>

namespace CLI { class App; }

namespace hdrscan::scanner {

// The table in `format` ("text" or "json"; the forms: head comment of signals.cpp).
std::string render_signals(std::string_view format);

// Registers "signals"; its callback prints the table and stores 0 in `exit_code` (2 when
// standard output cannot be written).
void add_signals_command(CLI::App& app, int& exit_code);

}  // namespace hdrscan::scanner
