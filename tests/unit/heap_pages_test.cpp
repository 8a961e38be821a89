// heap_pages_test.cpp: scanner/heap_pages.hpp on this process: the mapping that holds the heap
// gets the kernel's huge-page advice (VmFlags "hg" in /proc/self/smaps), and the user's
// MIMALLOC_LARGE_OS_PAGES keeps hdrscan's hands off. Cases run in file order (doctest's
// default): the declined case must see the heap before anything advised it.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "scanner/heap_pages.hpp"

namespace {

// The VmFlags line of the /proc/self/smaps entry holding `addr` ("" if none).
std::string vmflags_of(const void* addr) {
  const auto a = reinterpret_cast<std::uintptr_t>(addr);
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    const auto dash = line.find('-'), space = line.find(' ');
    if (dash != std::string::npos && space != std::string::npos && dash < space &&
        line.find(':') > space) {  // a mapping's header line: "start-end perms ..."
      std::uintptr_t lo = std::stoull(line.substr(0, dash), nullptr, 16);
      std::uintptr_t hi = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
      inside = a >= lo && a < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

bool has_flag(const std::string& vmflags, const std::string& flag) {
  std::istringstream words(vmflags);
  std::string w;
  while (words >> w)
    if (w == flag) return true;
  return false;
}

[[maybe_unused]] bool kernel_has_thp() {  // unused in sanitizer builds
  struct stat st {};
  return ::stat("/sys/kernel/mm/transparent_hugepage", &st) == 0;
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
TEST_CASE("sanitizer build: the sanitizer's allocator is left alone") {
  std::unique_ptr<char[]> block(new char[64]);
  CHECK(hdrscan::scanner::advise_huge_heap_pages().find("sanitizer") != std::string::npos);
  CHECK_FALSE(has_flag(vmflags_of(block.get()), "hg"));
}
#else
TEST_CASE("MIMALLOC_LARGE_OS_PAGES set: the user's choice, nothing advised") {
  std::unique_ptr<char[]> block(new char[64]);
  const std::string before = vmflags_of(block.get());
  REQUIRE_FALSE(before.empty());
  REQUIRE_FALSE(has_flag(before, "hg"));  // nothing advised the heap yet
  ::setenv("MIMALLOC_LARGE_OS_PAGES", "0", 1);
  CHECK(hdrscan::scanner::huge_heap_pages_declined());
  const std::string why = hdrscan::scanner::advise_huge_heap_pages();
  ::unsetenv("MIMALLOC_LARGE_OS_PAGES");
  CHECK(why.find("MIMALLOC_LARGE_OS_PAGES") != std::string::npos);
  CHECK_FALSE(has_flag(vmflags_of(block.get()), "hg"));
  CHECK_FALSE(hdrscan::scanner::huge_heap_pages_declined());
}

TEST_CASE("the heap's mapping is advised MADV_HUGEPAGE, new blocks in it included") {
  const std::string why = hdrscan::scanner::advise_huge_heap_pages();
  std::unique_ptr<char[]> block(new char[64]);
  if (!kernel_has_thp()) {  // a kernel without transparent huge pages refuses the advice
    CHECK(why.find("madvise") != std::string::npos);
    return;
  }
  CHECK(why == "");
  CHECK(has_flag(vmflags_of(block.get()), "hg"));
  // Idempotent: a second call advises the same mapping again without error.
  CHECK(hdrscan::scanner::advise_huge_heap_pages() == "");
}
#endif
