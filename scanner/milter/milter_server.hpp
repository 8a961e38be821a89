// milter_server.hpp: the `hdrscan milter` server (Boost.Asio, milter protocol v6).
//
// Purpose: accept MTA connections on inet:HOST:PORT or unix:PATH, run one milter Session per
// connection (milter_protocol.hpp), score each message at end of message on a thread pool
// with the same pipeline as `hdrscan scan`, and reply per the configured policy
// (milter_config.hpp).
// Signals: SIGTERM/SIGINT stop accepting, let in-flight messages finish (at most
// drain-timeout seconds) and exit 0; SIGHUP re-reads the config file and the indicator files
// without dropping connections (a failed reload is logged and the old set stays);
// SIGUSR1 logs the counters (and writes stats-file when configured).
// Limits: see Config (timeouts, body/header bytes analysed, max connections).
// Diagnostics: one line per message on stderr (queue id, client, verdict, score, action, ms);
// one line per protocol error, timeout or internal error, naming the client.
#pragma once
#include <string>

#include "scanner/common.hpp"

namespace hdrscan::scanner::milter {

struct ServerOptions {
  std::string listen;       // command line; overrides the config file's `listen`
  std::string config_path;  // "" = defaults
  bool dry_run = false;     // command line --dry-run (forces dry-run on)
  std::string stats_file;   // command line; overrides the config file's `stats-file`
  AnalysisOptions analysis; // indicator pack, thresholds, parser limits (same as scan)
};

// Runs until SIGTERM/SIGINT. Returns 0 after a clean drain, 2 when start-up fails (bad
// config, unreadable indicators, cannot listen): the reason is printed on stderr.
int run_server(const ServerOptions& options);

}  // namespace hdrscan::scanner::milter
