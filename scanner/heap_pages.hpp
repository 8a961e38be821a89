// heap_pages.hpp: asks the kernel to back the process heap with transparent huge pages.
//
// Purpose: a short run (a directory of a few hundred messages, one .eml) spends a large part
// of its time on first touches of fresh heap pages: on the 2-core VMs the benchmark runs on, a
// 4 KiB page fault costs 8-12 us, and a scan touches 4-5 MB of heap (issue 17: a quarter of
// the dev_relays run). With MADV_HUGEPAGE on the heap's mapping one fault maps 2 MiB.
// Limits: only the mapping holding the heap at the call (mimalloc's first segment, or glibc's
// [heap]) is advised; with mimalloc main.cpp also enables its large_os_pages option, which
// advises every later segment (worker threads). The kernel decides: with transparent huge
// pages "never" nothing changes; peak RSS may grow by up to one 2 MiB page per touched region.
// Diagnostics: never fatal; the result says why nothing was done. MIMALLOC_LARGE_OS_PAGES in
// the environment (either value) is the user's choice and is left to mimalloc alone; sanitizer
// builds leave their allocator alone.
#pragma once
#include <string>

namespace hdrscan::scanner {

// True when MIMALLOC_LARGE_OS_PAGES is set: the user chose, hdrscan does not advise.
bool huge_heap_pages_declined();

// Advises MADV_HUGEPAGE on the mapping that holds the heap. Returns "" when it did, else the
// reason it did not (declined, /proc/self/maps unreadable, madvise's error).
std::string advise_huge_heap_pages();

}  // namespace hdrscan::scanner
