// apps.hpp: the subcommands of the hdrscan binary. Each module registers its own CLI11
// subcommand; the callback runs the application and stores its exit status in `exit_code`.
// Exit status everywhere: 0 nothing flagged, 1 something at/above the threshold, 2 error.
#pragma once

namespace CLI { class App; }

namespace hdrscan::scanner {

void add_scan_command(CLI::App& app, int& exit_code);     // scan.cpp
void add_explain_command(CLI::App& app, int& exit_code);  // explain.cpp
void add_milter_command(CLI::App& app, int& exit_code);   // milter.cpp
void add_audit_command(CLI::App& app, int& exit_code);    // audit.cpp

}  // namespace hdrscan::scanner
