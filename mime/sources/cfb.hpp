// cfb.hpp (internal to mime/sources/): a small reader of Microsoft compound files ([MS-CFB],
// "OLE2" structured storage), the container of Outlook .msg files. Read-only, over bytes in
// memory; written here rather than taken from libolecf or libgsf so that it is bounded,
// fuzzable alone and needs no library (README, "Outlook .msg").
//
// What it does: validates the header (version 3 or 4, sector shifts 9/12 and 6), builds the
// FAT from the DIFAT (header entries and the DIFAT chain), reads the directory chain, the
// mini FAT and the mini stream, and reads any stream by its directory entry, following the FAT
// or the mini FAT. Children of a storage are listed by walking its red-black tree in order.
// Limits: every chain is walked at most as many steps as the file has sectors (a loop is an
// error, never a hang); at most kMaxEntries directory entries; a stream is read up to the
// `max` bytes the caller allows (more: error). Tree walks are iterative and visit each entry
// once.
// Diagnostics: open() returns nullopt with the reason; read() returns false with the reason.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hdrscan::mime::detail {

class Cfb {
 public:
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;  // NOSTREAM
  static constexpr std::size_t kMaxEntries = 1u << 20;

  enum class Type : std::uint8_t { empty = 0, storage = 1, stream = 2, root = 5 };
  struct Entry {
    std::string name;  // UTF-8 (names are UTF-16LE on disk)
    Type type = Type::empty;
    std::uint32_t left = kNone, right = kNone, child = kNone;
    std::uint32_t start = 0;
    std::uint64_t size = 0;
  };

  // `bytes` must outlive the Cfb.
  static std::optional<Cfb> open(std::string_view bytes, std::string& error);

  std::uint32_t root() const { return 0; }
  const Entry& entry(std::uint32_t id) const { return entries_[id]; }
  std::size_t entry_count() const { return entries_.size(); }
  // The entries directly inside storage `id`, in tree order (at most entry_count()).
  std::vector<std::uint32_t> children(std::uint32_t id) const;
  // The child of storage `id` named `name` (ASCII case-insensitive), or kNone.
  std::uint32_t find(std::uint32_t id, std::string_view name) const;
  // The bytes of stream `id`; false (with the reason) when it is broken or over `max`.
  bool read(std::uint32_t id, std::uint64_t max, std::string& out, std::string& error) const;

 private:
  bool chain(const std::vector<std::uint32_t>& fat, std::uint32_t start, std::size_t limit,
             std::vector<std::uint32_t>& out, std::string& error) const;
  bool read_sector_chain(std::uint32_t start, std::uint64_t size, std::string& out,
                         std::string& error) const;

  std::string_view bytes_;
  std::uint32_t sector_size_ = 512, mini_size_ = 64, mini_cutoff_ = 4096;
  std::size_t sector_count_ = 0;
  std::vector<std::uint32_t> fat_, minifat_;
  std::vector<Entry> entries_;
  std::string ministream_;
};

}  // namespace hdrscan::mime::detail
