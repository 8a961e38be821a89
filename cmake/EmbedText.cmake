# hdrscan_embed_text(TARGET FILE NAMESPACE FUNCTION): compiles the bytes of the data file FILE
# into TARGET as `std::string_view NAMESPACE::FUNCTION()`, so the file stays the one place it
# is edited and the binary works wherever it is installed (the built-in indicator pack, the
# explain header meanings). CMake re-configures when FILE changes; the generated source is
# rewritten only when its content changes (no needless rebuilds).
function(hdrscan_embed_text target file ns fn)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${file}")
  file(READ "${file}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  file(RELATIVE_PATH rel "${PROJECT_SOURCE_DIR}" "${file}")
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${fn}.cpp")
  file(WRITE "${out}.tmp"
    "// generated from ${rel} by cmake/EmbedText.cmake; do not edit\n#include <string_view>\n"
    "namespace ${ns} { static const char kText[] = {${bytes} 0};\n"
    "std::string_view ${fn}() { return {kText, sizeof(kText) - 1}; } }\n")
  configure_file("${out}.tmp" "${out}" COPYONLY)
  target_sources(${target} PRIVATE "${out}")
endfunction()
