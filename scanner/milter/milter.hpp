// milter.hpp: the `hdrscan milter` subcommand: a Postfix milter (protocol v6) that tags,
// quarantines or rejects live mail per verdict. The pieces: milter_server.hpp (Boost.Asio
// server), milter_protocol.hpp (packet codec and session state, no sockets),
// milter_config.hpp (config file and verdict -> action policy); milter.cpp (command line).
#pragma once

namespace CLI { class App; }

namespace hdrscan::scanner {

// Registers "milter" on `app`; its callback runs the server until SIGTERM and stores the exit
// status (0 clean shutdown, 2 start-up error) in `exit_code`.
void add_milter_command(CLI::App& app, int& exit_code);

}  // namespace hdrscan::scanner
