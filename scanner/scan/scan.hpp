// scan.hpp: the `hdrscan scan [options] PATH...` subcommand, the parallel batch scanner
// (design, threads, sharding and exit status: head comment of scan.cpp; the record it writes:
// scanner/printers.hpp; the --report page: report.hpp).
#pragma once

namespace CLI { class App; }

namespace hdrscan::scanner {

// Registers "scan" on `app`; its callback runs the scan and stores the exit status (0 nothing
// at/above --min-verdict, 1 something, 2 error) in `exit_code`.
void add_scan_command(CLI::App& app, int& exit_code);

}  // namespace hdrscan::scanner
