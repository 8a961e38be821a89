// main.cpp: the hdrscan binary: a CLI11 app whose subcommands (scan, explain, milter, audit,
// signals, waves) are registered by their own application folders, each through one header
// (scanner/<app>/<app>.hpp declaring add_<app>_command); this file is the list of them.
// Exit status: the subcommand's, the same convention everywhere (0 nothing flagged, 1
// something at/above the threshold, 2 error); a command-line error is 2 (as grep and clamscan
// do), --help and --version are 0. --version prints the program version (CMake's project
// version, the one the Debian package carries) and the compiled-in indicator pack's
// @version and @date, the two things a report about a verdict needs.
// Diagnostics: CLI11's parse errors go to standard error with a hint to --help; an exception
// escaping a subcommand is printed as "hdrscan: error: ..." and gives 2.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include <string>

#include "heuristics/indicators.hpp"
#include "scanner/heap_pages.hpp"
#include "scanner/audit/audit.hpp"
#include "scanner/explain/explain.hpp"
#include "scanner/milter/milter.hpp"
#include "scanner/scan/scan.hpp"
#include "scanner/signals/signals.hpp"
#include "scanner/waves/waves.hpp"

#ifdef HDRSCAN_MIMALLOC
#include <mimalloc.h>
#endif

#ifndef HDRSCAN_VERSION
#error "HDRSCAN_VERSION comes from project(VERSION) in CMakeLists.txt"
#endif

namespace {

// Built only when --version is asked for (it parses the built-in pack).
std::string version_text() {
  std::string v = "hdrscan " HDRSCAN_VERSION;
#ifdef HDRSCAN_MIMALLOC
  const int mv = mi_version();
  v += " (mimalloc " + std::to_string(mv / 100) + "." + std::to_string(mv / 10 % 10) + "." +
       std::to_string(mv % 10) + ")";
#endif
  for (const auto& s : hdrscan::heuristics::IndicatorPack::builtin().stamps)
    v += "\nindicator pack " + s.label + ": version " + (s.version.empty() ? "-" : s.version) +
         ", date " + (s.date.empty() ? "-" : s.date);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything else touches the heap: fresh 4 KiB pages are the dearest part of a short
  // run (scanner/heap_pages.hpp). Never fatal.
#ifdef HDRSCAN_MIMALLOC
  if (!hdrscan::scanner::huge_heap_pages_declined()) mi_option_enable(mi_option_large_os_pages);
#endif
  (void)hdrscan::scanner::advise_huge_heap_pages();
  CLI::App app{"hdrscan: email header forensic scanner for the 2022 Exchange Online "
               "connector-relay sweepstakes campaign",
               "hdrscan"};
  app.set_version_flag("--version", version_text);
  app.require_subcommand(1);
  app.fallthrough(false);

  int exit_code = 0;
  hdrscan::scanner::add_scan_command(app, exit_code);
  hdrscan::scanner::add_explain_command(app, exit_code);
  hdrscan::scanner::add_milter_command(app, exit_code);
  hdrscan::scanner::add_audit_command(app, exit_code);
  hdrscan::scanner::add_signals_command(app, exit_code);
  hdrscan::scanner::add_waves_command(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help / version / the error
    return rc == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hdrscan: error: %s\n", e.what());
    return 2;
  }
  return exit_code;
}
