// --net SPEC: parsing, the canonical form and the C++ composition (spec.hpp).
#include "spec.hpp"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "text.hpp"

namespace typegrad::cli {
namespace {

using Kind = LayerSpec::Kind;

constexpr const char* grammar_hint =
    "expected INPUT-LAYER-…: 784-30-10, 784-100:tanh-10:softmax, 1x28x28-conv6k5:relu-maxpool2-10:softmax, or lenet";

std::vector<std::string> split(const std::string& s, std::string_view by) {
    std::vector<std::string> parts;
    std::size_t from = 0;
    for (std::size_t at; (at = s.find(by, from)) != std::string::npos; from = at + by.size()) parts.push_back(s.substr(from, at - from));
    parts.push_back(s.substr(from));
    return parts;
}

/// Each activation of the grammar: its spec word, its C++ layer object (cpp_layers), and its
/// layer name as a checkpoint's layer description prints it (layer_traits<…>::name()).
struct ActivationName {
    std::string_view spec, cpp, description;
};
constexpr ActivationName activations[] = {
    {"sigmoid", "sigmoid", "σ"}, {"tanh", "tanh_", "tanh"},      {"relu", "relu", "relu"},
    {"gelu", "gelu", "gelu"},     {"silu", "silu", "silu"},       {"leakyrelu", "leaky_relu", "leaky_relu"},
    {"softmax", "softmax", "softmax"},
};
constexpr const char* activation_list = "sigmoid, tanh, relu, gelu, silu, leakyrelu, softmax, linear";

const ActivationName* find_activation(std::string_view word, std::string_view ActivationName::*by) {
    for (const ActivationName& a : activations)
        if (a.*by == word) return &a;
    return nullptr;
}
bool is_activation(std::string_view a) { return find_activation(a, &ActivationName::spec) != nullptr; }

/// A positive count of at most 7 digits ("010" is 10); false if `text` is not one.
bool read_count(std::string_view text, std::size_t& out) {
    if (text.empty() || text.size() > 16) return false;
    for (unsigned char c : text)
        if (!std::isdigit(c)) return false;
    const std::size_t first = text.find_first_not_of('0');
    if (first == std::string_view::npos || text.size() - first > 7) return false;
    out = std::stoul(std::string(text.substr(first)));
    return true;
}

/// "0.5": a dropout rate in [0, 1) that survives being printed with 6 significant digits (the
/// precision of a checkpoint's layer description).
std::string rate_text(double rate) {
    char s[32];
    std::snprintf(s, sizeof s, "%g", rate);
    return s;
}
bool read_rate(const std::string& text, double& out) {
    if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '.')) return false;
    char* end = nullptr;
    out = std::strtod(text.c_str(), &end);
    return end == text.c_str() + text.size() && out >= 0 && out < 1 && std::strtod(rate_text(out).c_str(), nullptr) == out;
}

/// "conv6k5s2p1" → C 6, K 5, stride 2, padding 1.
bool read_conv(std::string_view text, LayerSpec& l) {
    const auto number = [&](char tag, std::size_t& v, bool required) {
        if (text.empty() || text.front() != tag) return !required;
        text.remove_prefix(1);
        std::size_t n = 0;
        while (n < text.size() && std::isdigit(static_cast<unsigned char>(text[n]))) ++n;
        const std::string_view digits = text.substr(0, n);
        const bool zero = tag == 'p' && !digits.empty() && digits.find_first_not_of('0') == std::string_view::npos;
        if (zero) v = 0;
        else if (!read_count(digits, v)) return false;
        text.remove_prefix(n);
        return true;
    };
    text.remove_prefix(4);  // "conv"
    std::size_t n = 0;
    while (n < text.size() && std::isdigit(static_cast<unsigned char>(text[n]))) ++n;
    if (!read_count(text.substr(0, n), l.size)) return false;
    text.remove_prefix(n);
    return number('k', l.kernel, true) && number('s', l.stride, false) && number('p', l.padding, false) && text.empty();
}

LayerSpec activation_layer(std::string name) {
    LayerSpec l;
    l.kind = Kind::activation;
    l.activation = std::move(name);
    return l;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

NetworkSpec parse_network(const std::string& text, std::string& error) {
    error.clear();
    if (text == "lenet") return parse_network(lenet_spec, error);
    const auto fail = [&](const std::string& why) {
        error = cat("'", text, "' is not a network: ", why, " (", grammar_hint, ")");
        return NetworkSpec{};
    };
    const std::vector<std::string> parts = split(text, "-");
    if (parts.size() < 2) return fail("it needs an input and at least one layer");
    NetworkSpec spec;
    // the input: WIDTH or CxHxW
    const std::vector<std::string> extents = split(parts[0], "x");
    if (parts[0].find(':') != std::string::npos) return fail("the input takes no activation");
    if (extents.size() != 1 && extents.size() != 3) return fail(cat("the input '", parts[0], "' is not WIDTH or CxHxW"));
    for (const auto& e : extents) {
        std::size_t v = 0;
        if (!read_count(e, v)) return fail(cat("the input '", parts[0], "' is not WIDTH or CxHxW of positive integers"));
        spec.input.push_back(v);
    }
    std::size_t rank = spec.input.size();
    for (std::size_t i = 1; i < parts.size(); ++i) {
        const std::string& p = parts[i];
        if (p.empty()) return fail(cat("layer ", i, " is empty"));
        const std::size_t colon = p.find(':');
        const std::string body = p.substr(0, colon);
        const bool has_activation = colon != std::string::npos;
        const std::string activation = has_activation ? p.substr(colon + 1) : std::string();
        LayerSpec l;
        if (std::isdigit(static_cast<unsigned char>(body[0]))) {
            if (!read_count(body, l.size)) return fail(cat("'", body, "' is not a width (a positive integer of at most 7 digits)"));
            l.kind = Kind::dense;
            if (rank == 3) {
                LayerSpec f;
                f.kind = Kind::flatten;
                spec.layers.push_back(f);
            }
            rank = 1;
        } else if (starts_with(body, "conv")) {
            if (!read_conv(body, l)) return fail(cat("'", body, "' is not a convolution convCkK[sS][pP], e.g. conv6k5 or conv16k3s2p1"));
            l.kind = Kind::conv;
        } else if (starts_with(body, "maxpool") || starts_with(body, "avgpool")) {
            if (!read_count(std::string_view(body).substr(7), l.size)) return fail(cat("'", body, "' is not a pooling maxpoolK or avgpoolK"));
            l.kind = body[0] == 'm' ? Kind::max_pool : Kind::avg_pool;
        } else if (starts_with(body, "dropout")) {
            if (!read_rate(body.substr(7), l.rate))
                return fail(cat("'", body, "' is not dropoutRATE with RATE in [0, 1) of at most 6 significant digits, e.g. dropout0.5"));
            l.kind = Kind::dropout;
        } else if (body == "flatten") {
            l.kind = Kind::flatten;
            rank = 1;
        } else if (is_activation(body)) {
            if (has_activation) return fail(cat("the activation '", body, "' takes no activation"));
            spec.layers.push_back(activation_layer(body));
            continue;
        } else {
            return fail(cat("unknown layer '", body, "'"));
        }
        const bool weighted = l.kind == Kind::dense || l.kind == Kind::conv;
        if (has_activation && !weighted) return fail(cat("only dense and conv layers take an activation, not '", body, "'"));
        if (has_activation && !is_activation(activation) && activation != "linear")
            return fail(cat("unknown activation '", activation, "' (", activation_list, ")"));
        spec.layers.push_back(l);
        if (weighted && activation != "linear") spec.layers.push_back(activation_layer(has_activation ? activation : "sigmoid"));
        if (spec.layers.size() > SpecLimits::layers) break;  // limits_error says so, before any more is read
    }
    if (const std::string why = limits_error(spec); !why.empty()) {
        error = cat("'", text.size() > 80 ? text.substr(0, 77) + "..." : text, "' is beyond what typegrad compiles: ", why,
                    " (README, \"Limits\")");
        return NetworkSpec{};
    }
    return spec;
}

SpecShapes infer_shapes(const NetworkSpec& spec) {
    SpecShapes out;
    std::vector<std::uint64_t> shape(spec.input.begin(), spec.input.end());
    const auto elements = [&] {
        std::uint64_t n = 1;
        for (const std::uint64_t e : shape) n = e > (std::uint64_t{1} << 40) / n ? (std::uint64_t{1} << 40) : n * e;
        return n;
    };
    out.widths.push_back(elements());
    for (std::size_t k = 0; k < spec.layers.size(); ++k) {
        const LayerSpec& l = spec.layers[k];
        const auto fail = [&](const std::string& why) {
            out.error = cat("layer ", k + 1, " (", cpp_layers(NetworkSpec{{1}, {l}}).substr(11), ") ", why);
            return out;
        };
        const auto add = [&](std::uint64_t weights, std::uint64_t biases) {
            out.parameter_layers.push_back(k);
            out.parameter_sizes.push_back(weights);
            out.parameter_sizes.push_back(biases);
            out.parameters += weights + biases;
        };
        switch (l.kind) {
        case Kind::dense:
            add(elements() * l.size, l.size);
            shape = {l.size};
            break;
        case Kind::conv: {
            if (shape.size() != 3) return fail("takes an image");
            if (l.kernel > shape[1] + 2 * l.padding || l.kernel > shape[2] + 2 * l.padding || l.stride == 0)
                return fail("does not fit its input");
            add(std::uint64_t{l.size} * shape[0] * l.kernel * l.kernel, l.size);
            shape = {l.size, (shape[1] + 2 * l.padding - l.kernel) / l.stride + 1, (shape[2] + 2 * l.padding - l.kernel) / l.stride + 1};
            break;
        }
        case Kind::max_pool:
        case Kind::avg_pool:
            if (shape.size() != 3 || l.size == 0 || shape[1] % l.size != 0 || shape[2] % l.size != 0)
                return fail("does not divide its input");
            shape = {shape[0], shape[1] / l.size, shape[2] / l.size};
            break;
        case Kind::flatten: shape = {elements()}; break;
        case Kind::dropout:
        case Kind::activation: break;
        }
        out.widths.push_back(elements());
    }
    return out;
}

std::string limits_error(const NetworkSpec& spec) {
    using L = SpecLimits;
    if (spec.layers.size() > L::layers) return cat("more than ", L::layers, " layers (activations included)");
    std::size_t weighted = 0;
    for (const LayerSpec& l : spec.layers) {
        if (l.kind == Kind::dense || l.kind == Kind::conv) ++weighted;
        if (l.kind == Kind::dense && l.size > L::dense_width)
            return cat("a dense layer of ", l.size, " units, more than the ", L::dense_width, " typegrad compiles");
        if (l.kind == Kind::conv && l.size > L::conv_channels)
            return cat("a convolution of ", l.size, " channels, more than the ", L::conv_channels, " typegrad compiles");
        if (l.kind == Kind::conv && l.kernel > L::kernel)
            return cat("a ", l.kernel, "x", l.kernel, " kernel, larger than the ", L::kernel, "x", L::kernel, " typegrad compiles");
        if (l.kind == Kind::conv && l.stride > L::stride)
            return cat("a stride of ", l.stride, ", more than the ", L::stride, " typegrad compiles");
        if (l.kind == Kind::conv && l.padding >= l.kernel)
            return cat("a padding of ", l.padding, " with a ", l.kernel, "x", l.kernel, " kernel (the padding must be smaller than the kernel)");
        if ((l.kind == Kind::max_pool || l.kind == Kind::avg_pool) && l.size > L::kernel)
            return cat("a ", l.size, "x", l.size, " pooling window, larger than the ", L::kernel, "x", L::kernel, " typegrad compiles");
    }
    if (weighted > L::parameter_layers)
        return cat(weighted, " dense and conv layers, more than the ", L::parameter_layers, " typegrad compiles");
    const SpecShapes shapes = infer_shapes(spec);
    for (std::size_t k = 0; k < shapes.widths.size(); ++k)
        if (shapes.widths[k] > L::elements)
            return k == 0 ? cat("an input of ", shapes.widths[k], " elements, more than the ", L::elements, " typegrad compiles")
                          : cat("layer ", k, " outputs ", shapes.widths[k], " elements per example, more than the ", L::elements,
                                " typegrad compiles");
    if (shapes.parameters > L::parameters)
        return cat(shapes.parameters, " parameters, more than the ", L::parameters, " typegrad compiles");
    return {};
}

NetworkSpec parse_layers_description(const std::string& text, std::string& error) {
    error.clear();
    const auto fail = [&](const std::string& why) {
        error = why;
        return NetworkSpec{};
    };
    // "name<1, 2>" → name, {1, 2}
    const auto template_arguments = [](const std::string& item, std::string& name, std::vector<std::string>& args) {
        const std::size_t open = item.find('<');
        name = item.substr(0, open);
        args.clear();
        if (open == std::string::npos) return true;
        if (item.back() != '>') return false;
        args = split(item.substr(open + 1, item.size() - open - 2), ", ");
        return true;
    };
    const std::vector<std::string> items = split(text, " | ");
    NetworkSpec spec;
    std::string name;
    std::vector<std::string> args;
    if (!template_arguments(items[0], name, args) || name != "input" || (args.size() != 1 && args.size() != 3))
        return fail(cat("'", items[0], "' is not an input layer"));
    for (const auto& a : args) {
        std::size_t v = 0;
        if (!read_count(a, v)) return fail(cat("'", items[0], "' is not an input layer"));
        spec.input.push_back(v);
    }
    if (items.size() < 2) return fail("there are no layers");
    for (std::size_t i = 1; i < items.size(); ++i) {
        const std::string& item = items[i];
        LayerSpec l;
        bool ok = template_arguments(item, name, args);
        if (const ActivationName* a = find_activation(item, &ActivationName::description)) l = activation_layer(std::string(a->spec));
        else if (item == "sigmoid") l = activation_layer(item);
        else if (item == "flatten") l.kind = Kind::flatten;
        else if (ok && name == "dense" && args.size() == 1) {
            l.kind = Kind::dense;
            ok = read_count(args[0], l.size);
        } else if (ok && (name == "max_pool" || name == "avg_pool") && args.size() == 1) {
            l.kind = name == "max_pool" ? Kind::max_pool : Kind::avg_pool;
            ok = read_count(args[0], l.size);
        } else if (ok && name == "dropout" && args.size() == 1) {
            l.kind = Kind::dropout;
            ok = read_rate(args[0], l.rate);
        } else if (ok && name == "conv2d" && (args.size() == 2 || args.size() == 4)) {
            l.kind = Kind::conv;
            ok = read_count(args[0], l.size) && read_count(args[1], l.kernel);
            if (ok && args.size() == 4) ok = read_count(args[2], l.stride) && (args[3] == "0" || read_count(args[3], l.padding));
        } else {
            ok = false;
        }
        if (!ok) return fail(cat("the layer '", item, "' has no --net spec"));
        spec.layers.push_back(l);
    }
    return spec;
}

std::string spec_text(const NetworkSpec& spec) {
    std::string out;
    for (std::size_t i = 0; i < spec.input.size(); ++i) out += cat(i ? "x" : "", spec.input[i]);
    std::size_t rank = spec.input.size();
    const auto& ls = spec.layers;
    for (std::size_t i = 0; i < ls.size(); ++i) {
        const LayerSpec& l = ls[i];
        switch (l.kind) {
        case Kind::flatten:
            // implied when a dense layer follows an image
            if (!(rank == 3 && i + 1 < ls.size() && ls[i + 1].kind == Kind::dense)) out += "-flatten";
            rank = 1;
            continue;
        case Kind::dense: out += cat("-", l.size); break;
        case Kind::conv:
            out += cat("-conv", l.size, "k", l.kernel);
            if (l.stride != 1) out += cat("s", l.stride);
            if (l.padding != 0) out += cat("p", l.padding);
            break;
        case Kind::max_pool: out += cat("-maxpool", l.size); continue;
        case Kind::avg_pool: out += cat("-avgpool", l.size); continue;
        case Kind::dropout: out += cat("-dropout", rate_text(l.rate)); continue;
        case Kind::activation: out += cat("-", l.activation); continue;
        }
        // a dense or conv layer: its activation, if the next layer is one
        if (l.kind == Kind::dense) rank = 1;
        if (i + 1 < ls.size() && ls[i + 1].kind == Kind::activation) {
            if (ls[i + 1].activation != "sigmoid") out += cat(":", ls[i + 1].activation);
            ++i;
        } else {
            out += ":linear";
        }
    }
    return out == lenet_spec ? "lenet" : out;
}

std::string cpp_layers(const NetworkSpec& spec) {
    std::string out = "input<";
    for (std::size_t i = 0; i < spec.input.size(); ++i) out += cat(i ? ", " : "", spec.input[i]);
    out += ">";
    for (const LayerSpec& l : spec.layers) {
        switch (l.kind) {
        case Kind::dense: out += cat(" | dense<", l.size, ">"); break;
        case Kind::conv: out += cat(" | conv2d<", l.size, ", ", l.kernel, ", ", l.stride, ", ", l.padding, ">"); break;
        case Kind::max_pool: out += cat(" | max_pool<", l.size, ">"); break;
        case Kind::avg_pool: out += cat(" | avg_pool<", l.size, ">"); break;
        case Kind::dropout: out += cat(" | dropout<", rate_text(l.rate), ">"); break;
        case Kind::flatten: out += " | flatten"; break;
        case Kind::activation: {
            const ActivationName* a = find_activation(l.activation, &ActivationName::spec);
            out += cat(" | ", a ? a->cpp : std::string_view(l.activation));
            break;
        }
        }
    }
    return out;
}

std::string canonical_network(const std::string& text, std::string& error) {
    const NetworkSpec spec = parse_network(text, error);
    return error.empty() ? spec_text(spec) : std::string();
}

}  // namespace typegrad::cli
