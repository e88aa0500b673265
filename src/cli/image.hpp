// The images `typegrad predict` classifies: 28×28 grayscale, as MNIST's, from PGM (P2, P5, read
// here) or PNG (libpng) files, recognised by their content, not their name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

namespace typegrad::cli {

/// MNIST's image size: predict takes nothing else (no resizing: it would change what the network
/// sees in ways the user did not choose).
inline constexpr std::size_t image_side = 28;

/// A 28×28 grayscale image, row by row, one byte per pixel from 0 (black) to 255 (white): the
/// bytes of an MNIST image, whose value for the network is data::unit_pixel(b) = b / 255.
struct GrayImage {
    std::vector<std::uint8_t> pixels;  // image_side × image_side
};

/// Reads a 28×28 image. PGM: P5 (binary) or P2 (text), maxval 1 to 255, a sample v becoming the
/// byte round(255 v / maxval); in P5 exactly one whitespace byte between maxval and the pixels
/// (no comment there), and after the 784 pixels only whitespace or another image. PNG: 8-bit or
/// less, grayscale as it is; colour (RGB, palette) to gray as PIL's Image.convert("L") does,
/// L = (19595 R + 38470 G + 7471 B + 2¹⁵) >> 16; an alpha channel or transparency (tRNS) is
/// ignored (as there); no gamma is applied; ancillary chunks (text, ICC profile ...) are skipped
/// unread, so memory stays small whatever they hold. Throws RunError "FILE: what is wrong" for a
/// missing or unreadable file, anything but a regular file, more than 16 MiB, a file that is
/// neither PGM nor PNG, another size, 16-bit samples, or a damaged or truncated file.
GrayImage read_gray_image(const std::filesystem::path& file);

/// What read_gray_image does with the bytes of the file, from memory (`file` names them in
/// messages): for the fuzzer (tests/fuzz/fuzz_image.cpp).
GrayImage decode_gray_image(const std::filesystem::path& file, std::string_view bytes);

}  // namespace typegrad::cli
