// dropout<Rate>: inverted dropout. While training, each element is zeroed with probability Rate
// and the others are scaled by 1/(1 − Rate), with a mask drawn per example from the trainer's
// seeded generator (expr/noise.hpp), so that runs are reproducible and resumable; in
// evaluation, forward() and predictions it is the identity. As PyTorch's nn.Dropout.
#pragma once

#include <cstddef>
#include <string>

#include "typegrad/expr/noise.hpp"
#include "typegrad/expr/ops.hpp"
#include "typegrad/nn/layer.hpp"
#include "typegrad/nn/spec.hpp"

namespace typegrad {

template <auto Rate>
struct Dropout {
    static_assert(static_cast<double>(Rate) >= 0.0 && static_cast<double>(Rate) < 1.0,
                  "dropout<Rate>: the rate is a probability in [0, 1)");
    static constexpr double rate = static_cast<double>(Rate);
    static std::string name() { return cat("dropout<", expr::rate_text(rate), ">"); }
    static constexpr std::string_view symbol = "a";
    template <class In>
    using output_shape = In;
    template <class X>
    using expression = expr::Node<expr::MulOp, X, expr::Node<expr::DropoutMaskOp<Rate>, X>>;

    /// Export (io/export.hpp, io/onnx.hpp read these): torch.nn.Dropout(p); no ONNX node (the
    /// identity at inference).
    template <class In>
    static std::string torch_module() {
        return cat("{\"type\": \"Dropout\", \"p\": ", expr::rate_text(rate), "}");
    }
    template <class In, class Builder>
    static bool onnx(Builder&) {
        return true;
    }
};

template <auto Rate>
inline constexpr Dropout<Rate> dropout{};

/// --net: "dropoutRATE", e.g. dropout0.5.
namespace spec::words {
inline constexpr Argument dropout_arguments[] = {{"", Argument::Kind::rate}};
inline constexpr Word dropout{.keyword = "dropout",
                              .what = "dropoutRATE with RATE in [0, 1) of at most 6 significant digits, e.g. dropout0.5",
                              .cpp = "dropout",
                              .arguments = dropout_arguments};
inline const bool dropout_registered = add(dropout);
}  // namespace spec::words

}  // namespace typegrad
