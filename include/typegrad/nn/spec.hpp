// A layer's word in the --net grammar, declared in the layer's own header. The command line
// (src/cli/spec.cpp) knows no kind of layer: it reads the words registered here, so a header
// that declares and registers a word — built-in or a user's — makes its layer speakable in
// `--net`, printable in canonical form, rebuildable from a checkpoint's layer description, and
// sized (shapes, parameter counts, limits) before anything is compiled.
//
//   inline constexpr spec::Argument pool_arguments[] = {{""}};        // "maxpool2": one count
//   inline constexpr spec::Word max_pool_word{
//       .keyword = "maxpool", .what = "a pooling maxpoolK or avgpoolK",
//       .cpp = "max_pool",                      // C++: max_pool<2>; layer_traits name(): "max_pool<2>"
//       .arguments = pool_arguments, .shape = pool_shape, .limits = pool_limits};
//   inline const bool max_pool_registered = spec::add(max_pool_word);
//
// A word is read as its keyword followed by its arguments, each a tag and a number ("conv6k5s2p1":
// keyword "conv", arguments "", "k", "s" (optional, 1), "p" (optional, 0)); it prints the same way,
// optional arguments at their default left out; its C++ form is the layer object `cpp<a, b, …>`
// (all arguments) and a checkpoint's description `description<…>` (the required arguments, or
// all). The grammar itself — the input, '-', ':ACT', res(…), cat(…|…) — is src/cli/spec.hpp's.
//
// Registration is a dynamic initialisation (an inline variable), so a word is known in every
// program that includes its header; the registry is a function-local static, so the order in
// which headers register does not matter.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace typegrad::spec {

/// The extents of one example: {784} (a vector), {1, 28, 28} (an image).
using Extents = std::vector<std::uint64_t>;

/// One argument of a word: a tag and a number ("k5"); the first is usually untagged ("conv6").
struct Argument {
    enum class Kind {
        count,          // a positive integer of at most 7 digits
        count_or_zero,  // the same, or 0
        rate,           // a real in [0, 1) of at most 6 significant digits: the rest of the word
    };
    std::string_view tag = {};
    Kind kind = Kind::count;
    bool optional = false;
    std::uint64_t fallback = 0;  // its value when left out (and then not printed)
};

/// A word's arguments as read: the counts in order (optional ones at their fallback), the rate.
struct Values {
    std::vector<std::uint64_t> n;
    double rate = 0;
    /// "vocab" as a dense layer's width ("vocab:softmax"): n[0] is the size of the vocabulary,
    /// 0 until the data binds it (the --net text keeps the word "vocab").
    bool vocabulary = false;
    bool operator==(const Values&) const = default;
};

/// What a layer computes to without compiling it: updates `shape` from its input's extents to its
/// output's, appends the element count of each parameter tensor in checkpoint order; "" or why
/// it does not fit ("takes an image").
using ShapeRule = std::string (*)(const Values&, Extents& shape, std::vector<std::uint64_t>& parameters);
/// "" or which of the limits below the layer exceeds, in words ("a dense layer of 9000 units,
/// more than the 8192 typegrad compiles").
using LimitRule = std::string (*)(const Values&);

/// A kind of layer (or activation) as the --net grammar spells it.
struct Word {
    enum class Role { layer, activation };
    enum class Input {
        any,
        vector,     // refused after an image, in one line, before any compile (layernorm)
        flattened,  // an image before it is flattened, `flatten` implied (a dense layer)
    };
    std::string_view keyword = {};      // "conv", "maxpool", "layernorm", "relu"; "" for a plain number ("30": dense)
    std::string_view what = {};         // a malformed word is "'conv6' is not " + what
    std::string_view cpp = {};          // the C++ layer object, a variable template when there are arguments
    std::string_view description = {};  // layer_traits<L>::name() up to '<', when it is not `cpp` ("σ")
    std::span<const Argument> arguments = {};
    Role role = Role::layer;
    bool takes_activation = false;               // "30:relu", "conv6k5:tanh"
    std::string_view default_activation = "linear";  // what a takes_activation word without ':' gets
    Input input = Input::any;
    bool vector_out = false;        // its output is a vector whatever its input (flatten; dense, but
                                    // on a sequence (T, D) a flattened-input word acts at every position)
    bool weighted = false;          // counts toward limits::parameter_layers (a dense or conv layer)
    bool convolution = false;       // the default η of a network that has one is 0.05
    bool couples_examples = false;  // batch statistics: the network trains on whole mini-batches
    bool vocabulary_first = false;  // n[0] is the size of the vocabulary, not written ("embed64": embedding<V, 64>)
    std::string_view then = {};     // the keyword of a layer that always follows it, not written (embed: positional)
    bool spoken = true;             // false: only ever implied by another word's `then`
    std::size_t rank_out = 0;       // the rank of its output when it sets one (embed: 2, a sequence (T, D))
    ShapeRule shape = nullptr;      // nullptr: the shape is kept and there are no parameters
    LimitRule limits = nullptr;     // nullptr: none
};

/// The words of this program, in the order their headers registered them.
inline std::vector<const Word*>& registry() {
    static std::vector<const Word*> words;
    return words;
}

/// Registers w (its storage must outlive the program: an inline constexpr variable); false, and
/// nothing registered, when a word of the same role and keyword is already known.
inline bool add(const Word& w) {
    for (const Word* k : registry())
        if (k == &w || (k->role == w.role && k->keyword == w.keyword)) return false;
    registry().push_back(&w);
    return true;
}

/// a · b, saturating at 2⁴⁰ (far beyond every limit, so sizes of absurd specs stay comparable).
inline std::uint64_t product(std::uint64_t a, std::uint64_t b) {
    constexpr std::uint64_t top = std::uint64_t{1} << 40;
    return a != 0 && b > top / a ? top : a * b;
}
/// The elements of one example of the given extents (saturating at 2⁴⁰).
inline std::uint64_t elements(const Extents& shape) {
    std::uint64_t n = 1;
    for (const std::uint64_t e : shape) n = product(n, e);
    return n;
}

/// What typegrad compiles on first use: a network beyond these is refused before any compile (a
/// deep or wide network compiles for many minutes and gigabytes). README "Limits". A word's
/// LimitRule states its own in these terms.
struct limits {
    static constexpr std::size_t layers = 40;                // every layer, activations, blocks and their inner layers included
    static constexpr std::size_t parameter_layers = 16;      // weighted layers (dense, conv), inside blocks too
    static constexpr std::size_t dense_width = 8192;         // units of a dense layer
    static constexpr std::size_t conv_channels = 512;        // output channels of a convolution
    static constexpr std::size_t kernel = 15;                // a convolution's or pooling's K (K × K)
    static constexpr std::size_t stride = 8;
    static constexpr std::size_t elements = 1u << 20;        // the input, and every layer's output, per example
    static constexpr std::uint64_t parameters = 1ull << 24;  // all parameters together
    static constexpr std::size_t sequence = 1024;            // tokens of a seqT input
    static constexpr std::size_t vocabulary = 65536;         // characters of a text's vocabulary
};

}  // namespace typegrad::spec
