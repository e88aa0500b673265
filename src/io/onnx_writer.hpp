// Writing an io::OnnxGraph (typegrad/io/onnx.hpp) as a .onnx file: the one place that uses
// ONNX's generated protobuf classes (src/io/onnx.cpp, the library typegrad_onnx, built only when
// CMake finds Debian's libonnx-dev and protobuf; TYPEGRAD_HAVE_ONNX says so to its users).
#pragma once

#include <filesystem>
#include <string>

#include "typegrad/io/onnx.hpp"

namespace typegrad::io {

/// Writes g as an ONNX model (IR version 7, opset 13, producer "typegrad" producer_version) to
/// file, atomically (write_file_atomically). Throws CheckpointError naming file if it cannot be
/// written; std::invalid_argument if g is not a well-formed graph (a bug, not a user error).
void write_onnx(const std::filesystem::path& file, const OnnxGraph& g, const std::string& producer_version);

}  // namespace typegrad::io
