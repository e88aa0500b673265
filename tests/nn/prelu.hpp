// A layer that is not built into typegrad, written as a user would in a header of their own
// (docs/layers.md walks through it): PReLU, y = max(x, 0) + α ⊙ min(x, 0) with one learnable
// slope α per unit (He et al. 2015; PyTorch's nn.PReLU(num_parameters=n), α starting at ¼).
// Nothing in typegrad's headers knows it; its word makes it a --net layer too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <typegrad/nn/spec.hpp>
#include <typegrad/typegrad.hpp>

namespace user {

/// min(x, 0) and its derivative, for scalars and xsimd batches alike.
struct NegativePart {
    static constexpr std::string_view name = "min0";
    template <class V>
    static V value(V x) noexcept {
        if constexpr (std::is_floating_point_v<V>) return x < V(0) ? x : V(0);
        else return xsimd::min(x, V(0));
    }
    template <class V>
    static V derivative(V x, V /*y*/) noexcept {
        if constexpr (std::is_floating_point_v<V>) return x < V(0) ? V(1) : V(0);
        else return xsimd::select(x < V(0), V(1), V(0));
    }
};

struct PReLU {
    static constexpr std::string_view name = "prelu";
    static constexpr std::string_view symbol = "a";  // its output reads as an activation in `derive`

    /// Any shape in, the same shape out.
    template <class In>
    using output_shape = In;
    /// One slope per unit, starting at ¼; a scale (PyTorch calls it "weight"; not decayed by L2).
    template <class In>
    using parameters = typegrad::params<typegrad::param<"α", In, typegrad::init::Constant<1, 4>, typegrad::ParamRole::scale>>;
    /// relu(x) + α ⊙ min0(x): α has the layer's shape and repeats over the examples of a batch.
    template <class X, class Alpha>
    using expression = typegrad::expr::Add<typegrad::expr::Map<typegrad::fn::Relu, X>,
                                           typegrad::expr::Hadamard<Alpha, typegrad::expr::Map<NegativePart, X>>>;

    /// Export: torch.nn.PReLU(num_parameters=n), whose parameter "weight" is α (a vector (n));
    /// ONNX PRelu(x, slope), the slope broadcast over the batch.
    template <class In>
    static std::string torch_module() {
        static_assert(typegrad::rank_v<In> == 1, "prelu exports after a vector only");
        return "{\"type\": \"PReLU\", \"kwargs\": {\"num_parameters\": " + std::to_string(typegrad::size_v<In>) + "}}";
    }
    template <class In, class Builder>
    static bool onnx(Builder& b) {
        b.node("PRelu", {b.parameter("weight")});
        return true;
    }
};

inline constexpr PReLU prelu{};

/// Its word in `--net` ("784-64:linear-prelu-10:softmax", typegrad/nn/spec.hpp): no arguments, the
/// C++ object user::prelu; its output has its input's shape and α one element per unit.
inline constexpr typegrad::spec::Word prelu_word{
    .keyword = "prelu",
    .cpp = "user::prelu",
    .description = PReLU::name,
    .shape = [](const typegrad::spec::Values&, typegrad::spec::Extents& shape, std::vector<std::uint64_t>& parameters) {
        parameters.push_back(typegrad::spec::elements(shape));
        return std::string();
    },
};
inline const bool prelu_registered = typegrad::spec::add(prelu_word);

}  // namespace user

/// The hand-written rule for the reference: y = x for x > 0, α x otherwise;
/// ∂J/∂α = ∂J/∂y ⊙ min(x, 0), ∂J/∂x = ∂J/∂y ⊙ (1 if x > 0 else α).
template <>
struct typegrad::reference::rule<user::PReLU> {
    template <class In, class T, class P>
    static void forward(const P& p, const T* x, T* y) noexcept {
        const auto& alpha = p.template get<"α">();
        for (std::size_t i = 0; i < size_v<In>; ++i) y[i] = x[i] > T(0) ? x[i] : alpha.data()[i] * x[i];
    }
    template <class In, class T, class P, class G>
    static void backward(const P& p, const T* x, const T*, const T* gy, T* gx, G& g, Accumulate acc) noexcept {
        const auto& alpha = p.template get<"α">();
        auto& dalpha = g.template get<"α">();
        for (std::size_t i = 0; i < size_v<In>; ++i) {
            const T d = gy[i] * (x[i] < T(0) ? x[i] : T(0));
            dalpha.data()[i] = acc == Accumulate::yes ? dalpha.data()[i] + d : d;
            if (gx) gx[i] = gy[i] * (x[i] > T(0) ? T(1) : alpha.data()[i]);
        }
    }
};
