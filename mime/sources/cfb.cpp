// cfb.cpp: the compound-file reader (cfb.hpp). Layout from [MS-CFB] 2.2-2.6: a 512-byte
// header, sectors of 512 (version 3) or 4096 bytes (version 4) numbered from the byte after
// the first sector's worth, the FAT as a chain of next-sector numbers, the directory of
// 128-byte entries, and the mini stream (64-byte sectors, for streams under 4096 bytes).
#include "mime/sources/cfb.hpp"

#include <algorithm>
#include <cstring>

#include "mime/text.hpp"
#include "mime/utf8.hpp"

namespace hdrscan::mime::detail {
namespace {

constexpr std::uint32_t kEndOfChain = 0xFFFFFFFEu;
constexpr std::uint32_t kMaxRegular = 0xFFFFFFFAu;

std::uint32_t u32(std::string_view b, std::size_t at) {
  std::uint32_t v = 0;
  std::memcpy(&v, b.data() + at, 4);  // little-endian hosts only (x86-64, arm64)
  return v;
}
std::uint16_t u16(std::string_view b, std::size_t at) {
  std::uint16_t v = 0;
  std::memcpy(&v, b.data() + at, 2);
  return v;
}

// A directory entry's name: `units` UTF-16LE code units, ending at the first NUL.
std::string utf16_name(std::string_view b, std::size_t at, std::size_t units) {
  std::string out = utf16le_to_utf8(b.substr(at, 2 * units));
  out.resize(std::min(out.find('\0'), out.size()));
  return out;
}

}  // namespace

bool Cfb::chain(const std::vector<std::uint32_t>& fat, std::uint32_t start, std::size_t limit,
                std::vector<std::uint32_t>& out, std::string& error) const {
  out.clear();
  std::uint32_t s = start;
  while (s != kEndOfChain) {
    if (s > kMaxRegular || s >= fat.size()) {
      error = "compound file: a sector chain points outside the allocation table";
      return false;
    }
    if (out.size() >= limit) {
      error = "compound file: a sector chain loops or is longer than the file";
      return false;
    }
    out.push_back(s);
    s = fat[s];
  }
  return true;
}

std::optional<Cfb> Cfb::open(std::string_view b, std::string& error) {
  Cfb c;
  c.bytes_ = b;
  if (b.size() < 512 || std::memcmp(b.data(), "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) != 0) {
    error = "not a compound file (no OLE signature)";
    return std::nullopt;
  }
  const std::uint16_t major = u16(b, 0x1A), shift = u16(b, 0x1E), mini_shift = u16(b, 0x20);
  if (!((major == 3 && shift == 9) || (major == 4 && shift == 12)) || mini_shift != 6) {
    error = "compound file: unsupported version or sector size";
    return std::nullopt;
  }
  c.sector_size_ = 1u << shift;
  c.mini_size_ = 1u << mini_shift;
  c.mini_cutoff_ = u32(b, 0x38);
  if (c.mini_cutoff_ != 4096) {
    error = "compound file: unexpected mini stream cutoff";
    return std::nullopt;
  }
  if (b.size() < c.sector_size_) {
    error = "compound file: shorter than its header sector";
    return std::nullopt;
  }
  // Sector n starts at (n + 1) * sector size: the header takes the first sector's place.
  c.sector_count_ = (b.size() - c.sector_size_ + c.sector_size_ - 1) / c.sector_size_;
  const std::uint32_t fat_sectors = u32(b, 0x2C), first_dir = u32(b, 0x30);
  const std::uint32_t first_minifat = u32(b, 0x3C), minifat_sectors = u32(b, 0x40);
  std::uint32_t difat_next = u32(b, 0x44);
  const std::uint32_t difat_sectors = u32(b, 0x48);
  if (fat_sectors > c.sector_count_ || minifat_sectors > c.sector_count_ ||
      difat_sectors > c.sector_count_) {
    error = "compound file: header counts larger than the file";
    return std::nullopt;
  }
  auto sector = [&](std::uint32_t s) -> std::string_view {
    const std::uint64_t at = (static_cast<std::uint64_t>(s) + 1) * c.sector_size_;
    if (s > kMaxRegular || at >= b.size()) return {};
    return b.substr(at, std::min<std::uint64_t>(c.sector_size_, b.size() - at));
  };
  // The FAT's own sectors: 109 in the header, the rest in the DIFAT chain.
  std::vector<std::uint32_t> fat_list;
  for (std::uint32_t i = 0; i < 109 && fat_list.size() < fat_sectors; ++i)
    fat_list.push_back(u32(b, 0x4C + 4 * i));
  const std::uint32_t per = c.sector_size_ / 4;
  for (std::uint32_t n = 0; fat_list.size() < fat_sectors; ++n) {
    std::string_view d = sector(difat_next);
    if (n >= difat_sectors || d.size() < c.sector_size_) {
      error = "compound file: the DIFAT chain ends before the FAT is complete";
      return std::nullopt;
    }
    for (std::uint32_t i = 0; i + 1 < per && fat_list.size() < fat_sectors; ++i)
      fat_list.push_back(u32(d, 4 * i));
    difat_next = u32(d, 4 * (per - 1));
  }
  c.fat_.reserve(static_cast<std::size_t>(fat_sectors) * per);
  for (std::uint32_t s : fat_list) {
    std::string_view f = sector(s);
    if (f.size() < c.sector_size_) {
      error = "compound file: a FAT sector lies outside the file";
      return std::nullopt;
    }
    for (std::uint32_t i = 0; i < per; ++i) c.fat_.push_back(u32(f, 4 * i));
  }
  // The directory.
  std::vector<std::uint32_t> sectors;
  if (!c.chain(c.fat_, first_dir, c.sector_count_, sectors, error)) return std::nullopt;
  for (std::uint32_t s : sectors) {
    std::string_view d = sector(s);
    for (std::size_t off = 0; off + 128 <= d.size(); off += 128) {
      if (c.entries_.size() >= kMaxEntries) {
        error = "compound file: too many directory entries";
        return std::nullopt;
      }
      Entry e;
      const std::uint16_t name_bytes = std::min<std::uint16_t>(u16(d, off + 0x40), 64);
      e.name = utf16_name(d, off, name_bytes / 2);
      e.type = static_cast<Type>(static_cast<std::uint8_t>(d[off + 0x42]));
      e.left = u32(d, off + 0x44);
      e.right = u32(d, off + 0x48);
      e.child = u32(d, off + 0x4C);
      e.start = u32(d, off + 0x74);
      std::uint64_t size = 0;
      std::memcpy(&size, d.data() + off + 0x78, 8);
      e.size = major == 3 ? (size & 0xFFFFFFFFu) : size;
      c.entries_.push_back(std::move(e));
    }
  }
  if (c.entries_.empty() || c.entries_[0].type != Type::root) {
    error = "compound file: no root entry";
    return std::nullopt;
  }
  // The mini FAT and the mini stream (the root entry's data).
  if (minifat_sectors > 0) {
    if (!c.chain(c.fat_, first_minifat, c.sector_count_, sectors, error)) return std::nullopt;
    for (std::uint32_t s : sectors) {
      std::string_view f = sector(s);
      for (std::size_t off = 0; off + 4 <= f.size(); off += 4) c.minifat_.push_back(u32(f, off));
    }
  }
  const Entry& root = c.entries_[0];
  if (root.size > 0 && !c.read_sector_chain(root.start, root.size, c.ministream_, error))
    return std::nullopt;
  return c;
}

bool Cfb::read_sector_chain(std::uint32_t start, std::uint64_t size, std::string& out,
                            std::string& error) const {
  std::vector<std::uint32_t> sectors;
  if (!chain(fat_, start, sector_count_, sectors, error)) return false;
  if (static_cast<std::uint64_t>(sectors.size()) * sector_size_ < size) {
    error = "compound file: a stream is longer than its sector chain";
    return false;
  }
  out.clear();
  out.reserve(static_cast<std::size_t>(size));
  for (std::uint32_t s : sectors) {
    const std::uint64_t at = (static_cast<std::uint64_t>(s) + 1) * sector_size_;
    const std::uint64_t want = std::min<std::uint64_t>(sector_size_, size - out.size());
    if (at + want > bytes_.size()) {
      error = "compound file: a stream sector lies outside the file (truncated?)";
      return false;
    }
    out.append(bytes_.data() + at, static_cast<std::size_t>(want));
    if (out.size() == size) break;
  }
  return true;
}

bool Cfb::read(std::uint32_t id, std::uint64_t max, std::string& out, std::string& error) const {
  out.clear();
  if (id >= entries_.size() || entries_[id].type != Type::stream) {
    error = "compound file: not a stream";
    return false;
  }
  const Entry& e = entries_[id];
  if (e.size > max) {
    error = "compound file: stream " + e.name + " is larger than " + std::to_string(max) +
            " bytes";
    return false;
  }
  if (e.size == 0) return true;
  if (e.size >= mini_cutoff_) return read_sector_chain(e.start, e.size, out, error);
  std::vector<std::uint32_t> sectors;
  if (!chain(minifat_, e.start, ministream_.size() / mini_size_ + 1, sectors, error)) return false;
  for (std::uint32_t s : sectors) {
    const std::uint64_t at = static_cast<std::uint64_t>(s) * mini_size_;
    const std::uint64_t want = std::min<std::uint64_t>(mini_size_, e.size - out.size());
    if (at + want > ministream_.size()) {
      error = "compound file: a mini stream sector lies outside the mini stream";
      return false;
    }
    out.append(ministream_.data() + at, static_cast<std::size_t>(want));
    if (out.size() == e.size) break;
  }
  if (out.size() != e.size) {
    error = "compound file: a stream is longer than its mini sector chain";
    return false;
  }
  return true;
}

std::vector<std::uint32_t> Cfb::children(std::uint32_t id) const {
  std::vector<std::uint32_t> out;
  if (id >= entries_.size()) return out;
  std::vector<bool> seen(entries_.size(), false);
  std::vector<std::uint32_t> stack;
  std::uint32_t node = entries_[id].child;
  // In-order walk of the red-black tree of siblings; an entry met twice ends that branch.
  while ((node != kNone && node < entries_.size() && !seen[node]) || !stack.empty()) {
    while (node != kNone && node < entries_.size() && !seen[node]) {
      seen[node] = true;
      stack.push_back(node);
      node = entries_[node].left;
    }
    if (stack.empty()) break;
    node = stack.back();
    stack.pop_back();
    out.push_back(node);
    node = entries_[node].right;
  }
  return out;
}

std::uint32_t Cfb::find(std::uint32_t id, std::string_view name) const {
  for (std::uint32_t c : children(id))
    if (text::iequals(entries_[c].name, name)) return c;
  return kNone;
}

}  // namespace hdrscan::mime::detail
