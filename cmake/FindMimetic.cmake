# FindMimetic: Debian's libmimetic-dev ships neither a CMake config nor a pkg-config file.
# Makes the IMPORTED target Mimetic::Mimetic; its include dir is SYSTEM because mimetic's
# headers use `register` and std::unary_function, which warn under C++20.
find_path(MIMETIC_INCLUDE_DIR mimetic/mimetic.h)
find_library(MIMETIC_LIBRARY mimetic)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Mimetic DEFAULT_MSG MIMETIC_LIBRARY MIMETIC_INCLUDE_DIR)
if(Mimetic_FOUND AND NOT TARGET Mimetic::Mimetic)
  add_library(Mimetic::Mimetic UNKNOWN IMPORTED)
  set_target_properties(Mimetic::Mimetic PROPERTIES
    IMPORTED_LOCATION "${MIMETIC_LIBRARY}"
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${MIMETIC_INCLUDE_DIR}")
endif()
