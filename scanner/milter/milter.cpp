// milter.cpp: the `hdrscan milter` subcommand (command line -> milter_server).
//
// Purpose: registers "milter" with --listen inet:HOST:PORT|unix:PATH, --config FILE,
// --dry-run, --stats-file FILE and the analysis options shared with `scan` (indicator files,
// thresholds, parser limits), then runs the server until SIGTERM.
// Limits: see milter_config.hpp / milter_server.hpp.
// Diagnostics: start-up errors (bad config line, unreadable indicator file, cannot listen)
// are printed on stderr and give exit status 2; a clean shutdown gives 0.
#include <CLI/CLI.hpp>

#include <memory>

#include "scanner/milter/milter.hpp"
#include "scanner/milter/milter_server.hpp"

namespace hdrscan::scanner {

void add_milter_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<milter::ServerOptions>();
  CLI::App* cmd = app.add_subcommand(
      "milter", "Run as a Postfix milter (protocol v6): tag, quarantine or reject per verdict");
  cmd->add_option("--listen", o->listen,
                  "inet:HOST:PORT or unix:PATH (overrides `listen` in the config file)");
  cmd->add_option("--config", o->config_path,
                  "Config file (actions per verdict, limits, timeouts); re-read on SIGHUP")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--dry-run", o->dry_run, "Only log what would be done; never change a message");
  cmd->add_option("--stats-file", o->stats_file,
                  "Write the counters as JSON to FILE on SIGUSR1 and at exit");
  o->analysis.add_to(*cmd);
  cmd->callback([o, &exit_code] { exit_code = milter::run_server(*o); });
}

}  // namespace hdrscan::scanner
