// `typegrad predict` with one network type M: shared by the compiled-in menu (predict.cpp) and by
// networks compiled on first use (plugin.hpp).
#pragma once

#include <algorithm>
#include <cmath>
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
#include "report.hpp"
#include "text.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/io/checkpoint.hpp"
#include "typegrad/nn/layers/embedding.hpp"
#include "typegrad/train/example.hpp"
#include "typegrad/util/random.hpp"

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

/// The vocabulary of a text network's checkpoint (its characters in token id order); RunError
/// naming the file when it is missing or not V distinct characters in order.
inline std::u32string checkpoint_vocabulary(const io::CheckpointImage& checkpoint, const std::filesystem::path& file,
                                            std::size_t v) {
    std::u32string vocabulary;
    if (!data::decode_utf8(checkpoint.header.vocabulary, vocabulary) || vocabulary.size() != v ||
        !std::is_sorted(vocabulary.begin(), vocabulary.end()) ||
        std::adjacent_find(vocabulary.begin(), vocabulary.end()) != vocabulary.end())
        throw RunError(cat("--model ", file.string(), ": its network reads text over a vocabulary of ", v,
                           " characters, but the file does not hold one (", vocabulary.size(), " characters): the file is damaged"));
    return vocabulary;
}

/// `typegrad generate` with a checkpoint holding network M (predict.hpp).
template <class M>
int generate_network(const GenerateOptions& o, const io::CheckpointImage& checkpoint) {
    using S = typename M::composition;
    constexpr std::size_t V = embedding_vocabulary_v<typename S::template layer_at<0>>;
    if constexpr (V == 0 || M::output_width != M::input_width * V) {
        throw RunError(cat("--model ", o.model.string(), ": its network (", network_description<M>(),
                           ") reads no text: generate continues a prompt with a network whose input is seqT"));
    } else {
        using T = typename M::value_type;
        constexpr std::size_t window = M::input_width;
        M net;
        restore_model(checkpoint, net, o.model);
        const std::u32string vocabulary = checkpoint_vocabulary(checkpoint, o.model, V);
        std::u32string prompt;
        if (!data::decode_utf8(o.prompt, prompt)) throw UsageError("--prompt: not UTF-8 text");
        std::vector<std::size_t> ids;
        for (const char32_t c : prompt) {
            const auto at = std::lower_bound(vocabulary.begin(), vocabulary.end(), c);
            if (at == vocabulary.end() || *at != c)
                throw UsageError(cat("--prompt: the character '", io::printable_text(data::utf8(std::u32string(1, c))),
                                     "' is not in the model's vocabulary of ", V, " characters"));
            ids.push_back(static_cast<std::size_t>(at - vocabulary.begin()));
        }
        if (ids.empty()) throw UsageError("--prompt: empty: the model continues at least one character");
        Rng rng(o.seed);
        typename M::input_type x;
        std::string text;
        std::vector<double> weights(V);
        for (std::size_t n = 0; n < o.tokens; ++n) {
            const std::size_t used = std::min(window, ids.size());
            x.fill(T(0));  // padding after the context: the causal mask hides it from the positions before
            for (std::size_t t = 0; t < used; ++t) x.data()[t] = static_cast<T>(ids[ids.size() - used + t]);
            const auto out = net.forward(x);
            const T* p = out.data() + (used - 1) * V;
            std::size_t next = 0;
            double total = 0;
            if (o.temperature > 0) {
                for (std::size_t k = 0; k < V; ++k) {
                    const double q = static_cast<double>(p[k]);
                    weights[k] = q > 0 ? std::exp(std::log(q) / o.temperature) : 0.0;
                    total += weights[k];
                }
            }
            if (!(total > 0) || !std::isfinite(total)) {  // greedy (or every weight under/overflowed: the mode)
                for (std::size_t k = 1; k < V; ++k)
                    if (p[k] > p[next]) next = k;
            } else {
                double u = rng.uniform() * total;
                next = V - 1;
                for (std::size_t k = 0; k < V; ++k) {
                    if (u < weights[k]) {
                        next = k;
                        break;
                    }
                    u -= weights[k];
                }
            }
            ids.push_back(next);
            const char32_t c = vocabulary[next];
            const std::string bytes = data::utf8(std::u32string(1, c));
            text += (c < 0x20 && c != U'\n' && c != U'\t') || c == 0x7f ? io::printable_text(bytes) : bytes;
        }
        std::printf("%s\n", text.c_str());
        (void)flush_stdout();
        return exit_ok;
    }
}

}  // namespace typegrad::cli
