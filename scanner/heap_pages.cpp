// heap_pages.cpp: see heap_pages.hpp.
#include "scanner/heap_pages.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

namespace hdrscan::scanner {
namespace {

// Linux >= 6.1; Debian 12's glibc headers predate the name.
#ifdef MADV_COLLAPSE
constexpr int kMadvCollapse = MADV_COLLAPSE;
#else
constexpr int kMadvCollapse = 25;
#endif

// /proc/self/maps, whole (tens of lines; bounded at 1 MiB all the same).
bool read_maps(std::string& out) {
  int fd = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[16384];
  for (;;) {
    ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0 || out.size() > (1u << 20)) break;
    out.append(buf, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return !out.empty();
}

// The [start, end) of the mapping holding `addr`, from the maps text; false if none does.
bool mapping_of(std::string_view maps, std::uintptr_t addr, std::uintptr_t& start,
                std::uintptr_t& end) {
  while (!maps.empty()) {
    std::size_t nl = maps.find('\n');
    std::string_view line = maps.substr(0, nl);
    maps = nl == std::string_view::npos ? std::string_view{} : maps.substr(nl + 1);
    std::size_t dash = line.find('-'), space = line.find(' ');
    if (dash == std::string_view::npos || space == std::string_view::npos || space < dash) continue;
    std::uintptr_t a = 0, b = 0;
    if (std::from_chars(line.data(), line.data() + dash, a, 16).ec != std::errc{}) continue;
    if (std::from_chars(line.data() + dash + 1, line.data() + space, b, 16).ec != std::errc{})
      continue;
    if (addr >= a && addr < b) {
      start = a;
      end = b;
      return true;
    }
  }
  return false;
}

}  // namespace

bool huge_heap_pages_declined() { return std::getenv("MIMALLOC_LARGE_OS_PAGES") != nullptr; }

std::string advise_huge_heap_pages() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // Their allocators spread size classes over separate regions: 2 MiB pages there would
  // multiply the memory of the sanitizer runs for nothing they measure.
  return "sanitizer build: its allocator is left alone";
#endif
  if (huge_heap_pages_declined()) return "MIMALLOC_LARGE_OS_PAGES is set: left to mimalloc";
  // A small block sits in the allocator's general heap mapping, not in a private mmap.
  std::unique_ptr<char[]> probe(new char[64]);
  const auto addr = reinterpret_cast<std::uintptr_t>(probe.get());
  std::string maps;
  if (!read_maps(maps)) return "cannot read /proc/self/maps";
  std::uintptr_t start = 0, end = 0;
  if (!mapping_of(maps, addr, start, end)) return "no mapping holds the heap";
  if (::madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE) != 0)
    return std::string("madvise(MADV_HUGEPAGE): ") + std::strerror(errno);
  // The 2 MiB around the probe already has 4 KiB pages (what ran before main allocated there),
  // so the kernel would go on faulting it in small pages: collapse it now (Linux >= 6.1;
  // older kernels refuse, harmlessly).
  constexpr std::uintptr_t kHuge = 2u << 20;
  const std::uintptr_t lo = addr & ~(kHuge - 1);
  if (lo >= start && lo + kHuge <= end)
    (void)::madvise(reinterpret_cast<void*>(lo), kHuge, kMadvCollapse);
  return {};
}

}  // namespace hdrscan::scanner
