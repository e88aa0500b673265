// The first lines of every network compiled on first use (jit.cpp, plugin_source): everything a
// generated translation unit includes before its own network and the user's --layers headers.
// One header, so that the build can precompile it (CMake: typegrad_jit_pch, a .gch beside the
// build with the flags of the compile on first use); a plugin compile then loads the parsed
// headers instead of parsing them again (3.4 of 17.7 s for an MLP on Zen 2; docs/benchmarks.md).
// Without the .gch, or when it is older than a header it was made from, the compile parses this
// header as any other: the same program either way.
#pragma once

#define TYPEGRAD_PLUGIN_SOURCE
#include "plugin.hpp"
// residual(…), concat(…) and their reference rules
#include "typegrad/nn/graph.hpp"
#include "typegrad/reference/graph.hpp"
