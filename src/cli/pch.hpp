// Whether a precompiled header may stand for the header it was made from (jit.cpp: the build's
// plugin_prelude.hpp.gch). GCC does not look at the headers' times when it loads a .gch: one made
// before a header was edited would compile the old header. So the .gch is used only while every
// file its depfile (the compiler's -MD output, make syntax) names exists and is not newer than it.
#pragma once

#include <filesystem>

namespace typegrad::cli {

/// True when `gch` exists and so does every prerequisite listed in `depfile` ("target: a.hpp
/// b.hpp", lines continued by a backslash, a space in a name escaped by one), none modified after
/// `gch`; false otherwise (no depfile, an empty list, a missing or newer file).
[[nodiscard]] bool precompiled_header_fresh(const std::filesystem::path& gch, const std::filesystem::path& depfile);

}  // namespace typegrad::cli
