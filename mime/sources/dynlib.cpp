// dynlib.cpp: see dynlib.hpp.
#include "mime/sources/dynlib.hpp"

#include <dlfcn.h>

#include <cstring>

namespace hdrscan::mime::detail {

bool load_functions(const char* soname, const char* const* names, void* const* slots, std::size_t n,
                    std::string& why) {
  void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* e = dlerror();
    why = std::string("cannot load ") + soname + ": " + (e ? e : "unknown dlopen error");
    return false;
  }
  for (std::size_t i = 0; i < n; ++i) {
    dlerror();
    void* f = dlsym(handle, names[i]);
    if (!f) {
      why = std::string(soname) + " has no function " + names[i];
      return false;  // the handle stays open: the library may be in use elsewhere in the process
    }
    // A data pointer converted to a function pointer through its bytes: POSIX guarantees the
    // representations agree for dlsym's results; a cast would be conditionally-supported C++.
    std::memcpy(slots[i], &f, sizeof f);
  }
  return true;
}

bool LazyLibraries::loaded(std::string& why) {
  std::call_once(once_, [this] {
    ok_ = true;
    for (const auto& p : parts_)
      if (!(ok_ = load_functions(p.soname, p.names, p.slots, p.n, error_))) break;
  });
  if (!ok_) why = error_;
  return ok_;
}

}  // namespace hdrscan::mime::detail
