// weights<L>() of a layer whose only parameter is named "α" (a PReLU-like layer).
#include <typegrad/nn/model.hpp>

#include <string_view>

struct Scale {
    static constexpr std::string_view name = "scale";
    template <class In>
    using output_shape = In;
    template <class In>
    using parameters = typegrad::params<typegrad::param<"α", In>>;
    template <class X, class A>
    using expression = typegrad::expr::Node<typegrad::expr::MulOp, A, X>;
};

int main() {
    typegrad::Model<float, decltype(typegrad::input<4> | Scale{} | typegrad::dense<2>)> net{1};
#ifdef TYPEGRAD_CONTROL
    return net.parameter<0, "α">()[0] > 100.0f;
#else
    return net.weights<0>()[0] > 100.0f;
#endif
}
