// dynlib.hpp: the libraries only some inputs need, opened on their first use (dlopen).
//
// Purpose: libarchive (archives and compressed files, source_archive.cpp) and libpff/libbfio
// (PST, source_pst.cpp), with what they pull in (libxml2, ICU, lzma, zstd, bzip2, lz4,
// nettle, acl), cost every hdrscan process about 10 ms of dynamic linking at start-up, paid
// even when no archive or PST is read: an empty program linked with hdrscan's libraries
// started in 24.8 ms of CPU, 14.9 ms without these (issue 17; a scan of one message took 28).
// They are opened by soname the first time a reader needs them and stay open.
// Use: each library's functions are listed once (an X-macro in the reader's file); the table
// holds pointers typed from the library's own header (decltype), so a changed signature fails
// to compile, and LazyLibraries fills it once (load_functions per library, under call_once).
// Limits: sonames are the Debian 12 ABI's (libarchive13, libpff1, libbfio1; also the
// package's Depends, which dpkg-shlibdeps cannot see through dlopen).
// Diagnostics: a library that cannot be opened, or lacks a function, leaves the table unusable
// and `why` says which (dlerror's words); the reader then yields one error record for that
// input (code library_missing) and the scan goes on.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <mutex>
#include <string>
#include <vector>

namespace hdrscan::mime::detail {

// Opens `soname` (RTLD_NOW | RTLD_LOCAL) unless already open, and resolves names[i] into
// *slots[i] for i < n. Returns true when every function resolved; otherwise false, `why` set.
// A slot is the address of a function pointer member, passed as void*; it is written by
// memcpy, so any function pointer type fits.
bool load_functions(const char* soname, const char* const* names, void* const* slots, std::size_t n,
                    std::string& why);

// One function table of one library.
struct LibraryPart {
  const char* soname;
  const char* const* names;
  void* const* slots;
  std::size_t n;
};

// Libraries opened once, by the first reader that asks (from any thread): each part in turn,
// until one fails. The readers' tables, their sonames and the error they report live here, not
// in each reader.
class LazyLibraries {
 public:
  explicit LazyLibraries(std::initializer_list<LibraryPart> parts) : parts_(parts) {}
  // Whether every function of every part resolved; `why` otherwise (the same every call).
  bool loaded(std::string& why);

 private:
  std::vector<LibraryPart> parts_;
  std::once_flag once_;
  bool ok_ = false;
  std::string error_;
};

}  // namespace hdrscan::mime::detail
