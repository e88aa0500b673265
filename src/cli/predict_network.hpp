// `typegrad predict` with one network type M: shared by the compiled-in menu (predict.cpp) and by
// networks compiled on first use (plugin.hpp).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "checkpoints.hpp"
#include "image.hpp"
#include "menu.hpp"
#include "options.hpp"
#include "predict.hpp"
#include "text.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/io/checkpoint.hpp"
#include "typegrad/train/example.hpp"

namespace typegrad::cli {

/// What the outputs of M are, as its last layer says (layer_traits::outputs).
template <class M>
const char* output_kind() {
    using S = typename M::composition;
    constexpr std::string_view said = layer_traits<typename S::template layer_at<S::depth - 1>>::outputs;
    return said.empty() ? "output activations" : said.data();
}

/// `typegrad predict` with a checkpoint holding network M.
template <class M>
int predict_network(const PredictOptions& o, const io::CheckpointImage& checkpoint) {
    constexpr auto e = shape_traits<typename M::input_shape>::extents;
    constexpr bool takes_images = M::input_width == image_side * image_side && (e.size() == 1 || (e.size() == 3 && e[0] == 1));
    if (!takes_images)
        throw RunError(cat("--model ", o.model.string(), ": its network (", network_description<M>(), ") takes inputs of ",
                           M::input_width, " values; predict classifies 28×28 grayscale images (a network of 784 or "
                           "1×28×28 inputs)"));
    M net;
    restore_model(checkpoint, net, o.model);
    std::vector<GrayImage> images;
    for (const auto& file : o.images) images.push_back(read_gray_image(file));  // every image, before printing

    say(stdout, "typegrad predict: %s: %s, %s; per image: the class, then the %zu %s%s", o.model.c_str(),
                network_description<M>().c_str(), checkpoint.header.element_type.c_str(),
                M::output_width, output_kind<M>(), o.invert ? " (images inverted)" : "");
    typename M::input_type x;
    for (std::size_t i = 0; i < images.size(); ++i) {
        for (std::size_t k = 0; k < M::input_width; ++k) {
            const std::uint8_t b = images[i].pixels[k];
            x.data()[k] = static_cast<typename M::value_type>(data::unit_pixel(o.invert ? static_cast<std::uint8_t>(255 - b) : b));
        }
        const auto out = net.forward(x);
        std::string line = cat(o.images[i].string(), ": ", train::argmax(out), " ");
        char value[32];
        for (std::size_t k = 0; k < M::output_width; ++k) {
            std::snprintf(value, sizeof value, " %.6f", static_cast<double>(out[k]));
            line += value;
        }
        say(stdout, "%s", line.c_str());
    }
    return exit_ok;
}

}  // namespace typegrad::cli
