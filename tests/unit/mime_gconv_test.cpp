// mime_gconv_test.cpp: issue 22. glibc unloads a gconv module (dlclose) a few iconv_close
// calls after its last descriptor is closed; threads that exit together then ran ld.so's
// unloading at once (a ThreadSanitizer report in the thread-exit path, where each thread's
// iconv cache closes). to_utf8 keeps every gconv module it loaded for the process's life.
// This checks that directly, without TSan and without timing: a thread converts and exits
// (its cache closes), other threads convert other charsets and exit (more iconv_close calls,
// which is what made glibc unload the first module), and the first thread's module must
// still be loaded. A binary of its own: no other test may hold a descriptor open.
#include <doctest/doctest.h>

#include <link.h>

#include <set>
#include <string>
#include <thread>

#include "mime/decode.hpp"

using namespace hdrscan::mime;

namespace {

// Shared objects loaded right now from a gconv directory (glibc's charset modules).
std::set<std::string> loaded_gconv_modules() {
  std::set<std::string> out;
  dl_iterate_phdr([](dl_phdr_info* info, std::size_t, void* p) {
    const std::string name = info->dlpi_name != nullptr ? info->dlpi_name : "";
    auto& out = *static_cast<std::set<std::string>*>(p);
    if (name.find("/gconv/") != std::string::npos) out.insert(name);
    return 0;
  }, &out);
  return out;
}

void convert_in_thread(const char* charset, std::string_view bytes, std::string_view want) {
  std::string got;
  std::thread([&] { got = to_utf8(bytes, charset); }).join();  // its cache closes at exit
  CHECK_MESSAGE(got == want, charset);
}

}  // namespace

TEST_CASE("to_utf8: gconv modules stay loaded after the converting threads exit") {
  const auto before = loaded_gconv_modules();
  // KOI8-R is a module of its own in glibc (not built in): 0xC1 is CYRILLIC SMALL LETTER A.
  convert_in_thread("koi8-r", "\xC1", "\xD0\xB0");
  const auto first = loaded_gconv_modules();
  REQUIRE_MESSAGE(first.size() > before.size(), "koi8-r loaded no gconv module: nothing to watch");

  // Each of these is another module; each thread's exit closes a descriptor, and glibc's
  // iconv_close walks every loaded module, unloading those unused for a few walks.
  convert_in_thread("iso-8859-2", "\xB1", "\xC4\x85");      // LATIN SMALL LETTER A WITH OGONEK
  convert_in_thread("windows-1251", "\xE0", "\xD0\xB0");    // CYRILLIC SMALL LETTER A
  convert_in_thread("iso-8859-7", "\xE1", "\xCE\xB1");      // GREEK SMALL LETTER ALPHA
  convert_in_thread("ks_c_5601-1987", "\xB0\xA1", "\xEA\xB0\x80");  // HANGUL SYLLABLE GA
  convert_in_thread("koi8-u", "\xA4", "\xD1\x94");          // CYRILLIC SMALL LETTER UKRAINIAN IE

  const auto last = loaded_gconv_modules();
  for (const auto& m : first) CHECK_MESSAGE(last.count(m) == 1, "unloaded: " << m);
  CHECK(last.size() > first.size());  // the other charsets' modules were loaded too
}
