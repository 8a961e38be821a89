// scan.hpp: the `hdrscan scan [options] PATH...` subcommand, the parallel batch scanner
// (design, threads, sharding and exit status: head comment of scan.cpp; the record it writes:
// scanner/printers.hpp; the --report page: report.hpp).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mime/sources/sources.hpp"

namespace CLI { class App; }

namespace hdrscan::scanner {

// Registers "scan" on `app`; its callback runs the scan and stores the exit status (0 nothing
// at/above --min-verdict, 1 something, 2 error) in `exit_code`.
void add_scan_command(CLI::App& app, int& exit_code);

// Which messages of the inputs a walker yields: with --shard K/N the messages with global
// sequence number i mod n == k (k 0-based).
struct Shard {
  std::uint64_t k = 0, n = 1;
};

// The inputs of `scan` as messages: opens the paths in order (mime::open_source), numbers their
// messages by global sequence (0-based over all inputs) and yields those of the shard. An input
// that cannot be opened, or fails before yielding anything, yields one unreadable message
// (not_found, io_error, internal_error) so nothing is lost; with `report_errors` the reason also
// goes to standard error ("hdrscan: PATH: reason", the CLI). The one walker of `scan` and the
// Python module's Analyzer.scan, so both yield the same messages at the same locations.
// Not thread-safe: the scan driver serialises next().
class InputWalker {
 public:
  InputWalker(std::vector<std::string> paths, const mime::ReaderOptions& ropt, Shard shard = {},
              bool report_errors = true);
  ~InputWalker();
  // The next message of this shard and its global sequence number; false at the end.
  bool next(std::uint64_t& seq, mime::RawMessage& out);
  std::uint64_t input_errors() const { return input_errors_; }

 private:
  std::vector<std::string> paths_;
  mime::ReaderOptions ropt_;
  Shard shard_;
  bool report_errors_;
  std::size_t next_path_ = 0;
  const std::string* path_ = nullptr;  // the input being read; null between inputs
  std::unique_ptr<mime::MessageSource> src_;
  std::uint64_t seq_ = 0, yielded_ = 0, input_errors_ = 0;
  std::string error_;  // why the current input could not be (fully) read
  std::string code_;   // its error code
};

}  // namespace hdrscan::scanner
