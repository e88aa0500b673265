// What test_spec and test_spec_user19 check of a model's checkpoint text: it reads back as a spec
// whose shapes — computed without compiling, from the layers' words — are the type's.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "spec.hpp"

namespace typegrad::cli::test {

/// The spec model M's checkpoint reads back as: parsed from its layer description, with the
/// widths, the positions with parameters and every parameter's size of M (what a checkpoint
/// records and a compiled-on-first-use network is checked against).
template <class M>
NetworkSpec spec_with_shapes_of() {
    using S = typename M::composition;
    std::string error;
    const NetworkSpec spec = parse_layers_description(layers_description<S>(), error);
    INFO(layers_description<S>() << ": " << error);
    REQUIRE(error.empty());
    const SpecShapes shapes = infer_shapes(spec);
    CHECK(shapes.error.empty());
    CHECK(shapes.widths == std::vector<std::uint64_t>(S::widths.begin(), S::widths.end()));
    CHECK(shapes.parameter_layers == std::vector<std::uint64_t>(S::parameter_positions.begin(), S::parameter_positions.end()));
    std::vector<std::uint64_t> sizes;
    M net{1};
    net.for_each_parameter([&](auto, const auto& t) { sizes.push_back(t.size()); });
    CHECK(shapes.parameter_sizes == sizes);
    return spec;
}

}  // namespace typegrad::cli::test
