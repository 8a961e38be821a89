// explain.hpp: the `hdrscan explain FILE [--index N] [--format text|json]` subcommand, the
// forensic view of one message (what it shows and its limits: head comment of explain.cpp).
#pragma once

namespace CLI { class App; }

namespace hdrscan::scanner {

// Registers "explain" on `app`; its callback stores the exit status (0 below --min-verdict,
// 1 at/above it, 2 error) in `exit_code`.
void add_explain_command(CLI::App& app, int& exit_code);

}  // namespace hdrscan::scanner
