// --net SPEC: parsing, the canonical form and the C++ composition (spec.hpp).
#include "spec.hpp"

#include <algorithm>
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

/// Splits s at `by` where no parenthesis (and, with `angles`, no angle bracket) is open.
std::vector<std::string> split_top(const std::string& s, std::string_view by, bool angles = false) {
    std::vector<std::string> parts;
    std::size_t from = 0;
    long depth = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '(' || (angles && c == '<')) ++depth;
        else if (c == ')' || (angles && c == '>')) --depth;
        else if (depth == 0 && s.compare(i, by.size(), by) == 0) {
            parts.push_back(s.substr(from, i - from));
            from = i + by.size();
            i = from - 1;
        }
    }
    parts.push_back(s.substr(from));
    return parts;
}

/// "" when the parentheses of s balance, else what is wrong with them.
std::string parentheses_error(const std::string& s) {
    long depth = 0;
    for (const char c : s) {
        if (c == '(') ++depth;
        if (c == ')' && --depth < 0) return "unbalanced parentheses: a ')' closes nothing";
    }
    return depth > 0 ? "unbalanced parentheses: a '(' is not closed" : "";
}

/// The rank after layers ls on an input of rank `rank` (1: a vector, 3: an image).
std::size_t rank_after(const std::vector<LayerSpec>& ls, std::size_t rank) {
    for (const LayerSpec& l : ls) {
        if (l.kind == Kind::dense || l.kind == Kind::flatten) rank = 1;
        else if (l.kind == Kind::concat && !l.branches.empty()) rank = rank_after(l.branches[0], rank);
    }
    return rank;
}

std::size_t count_layers(const std::vector<LayerSpec>& ls) {
    std::size_t n = ls.size();
    for (const LayerSpec& l : ls)
        for (const auto& b : l.branches) n += count_layers(b);
    return n;
}

/// The layers of one '-'-joined list (a network's, a block's body, a branch), parsed into `out`
/// after an input of rank `rank` (updated); "" or what is wrong. `where` names the block they
/// are in (" of 'res(…)'"), `count` counts every layer read, to stop early past the limit.
std::string parse_layers(const std::vector<std::string>& parts, std::size_t first, std::size_t& rank, std::vector<LayerSpec>& out,
                         const std::string& where, std::size_t& count) {
    for (std::size_t i = first; i < parts.size(); ++i) {
        const std::string& p = parts[i];
        if (p.empty()) return cat("layer ", i + 1 - first, where, " is empty");
        if (starts_with(p, "res(") || starts_with(p, "cat(")) {
            // the block's own text ends at the ')' that closes its '('
            std::size_t close = 3;
            for (long depth = 0; close < p.size(); ++close) {
                if (p[close] == '(') ++depth;
                if (p[close] == ')' && --depth == 0) break;
            }
            const std::string block = p.substr(0, close + 1), inner = p.substr(4, close - 4), after = p.substr(close + 1);
            if (!after.empty() && after[0] == ':') return cat("only dense and conv layers take an activation, not '", block, "'");
            if (!after.empty()) return cat("'", p, "' goes on after its closing parenthesis");
            LayerSpec l;
            const bool residual = p[0] == 'r';
            l.kind = residual ? Kind::residual : Kind::concat;
            const std::vector<std::string> branches = split_top(inner, "|");
            if (residual && inner.empty()) return cat("'", block, "' is empty: a residual block needs at least one layer");
            if (residual && branches.size() > 1)
                return cat("'", block, "' has branches: '|' joins the branches of cat(…); res(…) takes one body");
            if (!residual && branches.size() < 2)
                return cat("'", block, "' has one branch: a concatenation needs two or more, joined by '|'");
            std::size_t rank_out = rank;
            for (std::size_t b = 0; b < branches.size() && count <= SpecLimits::layers; ++b) {
                if (branches[b].empty()) return cat("branch ", b + 1, " of '", block, "' is empty");
                std::size_t r = rank;
                l.branches.emplace_back();
                const std::string in = residual ? cat(" of '", block, "'") : cat(" of branch ", b + 1, " of '", block, "'");
                if (std::string why = parse_layers(split_top(branches[b], "-"), 0, r, l.branches.back(), in, count); !why.empty())
                    return why;
                if (b == 0) rank_out = r;
            }
            if (!residual) rank = rank_out;  // a residual block keeps its input's (the shape check says if not)
            out.push_back(std::move(l));
            if (++count > SpecLimits::layers) return {};  // limits_error says so (the block's layers so far count)
            continue;
        }
        if (p.find_first_of("()") != std::string::npos)
            return cat("unknown layer '", p, "' (the blocks are res(LAYERS) and cat(LAYERS|LAYERS…))");
        const std::size_t colon = p.find(':');
        const std::string body = p.substr(0, colon);
        const bool has_activation = colon != std::string::npos;
        const std::string activation = has_activation ? p.substr(colon + 1) : std::string();
        LayerSpec l;
        if (body.empty()) return cat("unknown layer '", p, "'");
        if (std::isdigit(static_cast<unsigned char>(body[0]))) {
            if (!read_count(body, l.size)) return cat("'", body, "' is not a width (a positive integer of at most 7 digits)");
            l.kind = Kind::dense;
            if (rank == 3) {
                LayerSpec f;
                f.kind = Kind::flatten;
                out.push_back(f);
                ++count;
            }
            rank = 1;
        } else if (starts_with(body, "conv")) {
            if (!read_conv(body, l)) return cat("'", body, "' is not a convolution convCkK[sS][pP], e.g. conv6k5 or conv16k3s2p1");
            l.kind = Kind::conv;
        } else if (starts_with(body, "maxpool") || starts_with(body, "avgpool")) {
            if (!read_count(std::string_view(body).substr(7), l.size)) return cat("'", body, "' is not a pooling maxpoolK or avgpoolK");
            l.kind = body[0] == 'm' ? Kind::max_pool : Kind::avg_pool;
        } else if (starts_with(body, "dropout")) {
            if (!read_rate(body.substr(7), l.rate))
                return cat("'", body, "' is not dropoutRATE with RATE in [0, 1) of at most 6 significant digits, e.g. dropout0.5");
            l.kind = Kind::dropout;
        } else if (body == "flatten") {
            l.kind = Kind::flatten;
            rank = 1;
        } else if (body == "layernorm") {
            // nn/layers/layer_norm.hpp refuses an image too, in a page of compiler output
            if (rank == 3) return "layernorm takes a vector, not an image (put a dense layer, or flatten, before it)";
            l.kind = Kind::layer_norm;
        } else if (body == "batchnorm") {
            l.kind = Kind::batch_norm;
        } else if (is_activation(body)) {
            if (has_activation) return cat("the activation '", body, "' takes no activation");
            out.push_back(activation_layer(body));
            ++count;
            continue;
        } else {
            return cat("unknown layer '", body, "'");
        }
        const bool weighted = l.kind == Kind::dense || l.kind == Kind::conv;
        if (has_activation && !weighted) return cat("only dense and conv layers take an activation, not '", body, "'");
        if (has_activation && !is_activation(activation) && activation != "linear")
            return cat("unknown activation '", activation, "' (", activation_list, ")");
        out.push_back(l);
        ++count;
        if (weighted && activation != "linear") {
            out.push_back(activation_layer(has_activation ? activation : "sigmoid"));
            ++count;
        }
        if (count > SpecLimits::layers) return {};  // limits_error says so, before any more is read
    }
    return {};
}

std::string layer_cpp(const LayerSpec& l);
std::string chain_cpp(const std::vector<LayerSpec>& ls) {
    std::string out;
    for (const LayerSpec& l : ls) out += cat(out.empty() ? "" : " | ", layer_cpp(l));
    return out;
}
std::string layer_cpp(const LayerSpec& l) {
    switch (l.kind) {
    case Kind::dense: return cat("dense<", l.size, ">");
    case Kind::conv: return cat("conv2d<", l.size, ", ", l.kernel, ", ", l.stride, ", ", l.padding, ">");
    case Kind::max_pool: return cat("max_pool<", l.size, ">");
    case Kind::avg_pool: return cat("avg_pool<", l.size, ">");
    case Kind::dropout: return cat("dropout<", rate_text(l.rate), ">");
    case Kind::flatten: return "flatten";
    case Kind::layer_norm: return "layer_norm";
    case Kind::batch_norm: return "batch_norm";
    case Kind::activation: {
        const ActivationName* a = find_activation(l.activation, &ActivationName::spec);
        return std::string(a ? a->cpp : std::string_view(l.activation));
    }
    case Kind::residual: return cat("residual(", l.branches.empty() ? std::string() : chain_cpp(l.branches[0]), ")");
    case Kind::concat: {
        std::string out;
        for (const auto& b : l.branches) out += cat(out.empty() ? "" : ", ", chain_cpp(b));
        return cat("concat(", out, ")");
    }
    }
    return {};
}

/// The canonical text of '-'-joined layers after an input of rank `rank`: "64:relu-64:linear".
std::string layers_text(const std::vector<LayerSpec>& ls, std::size_t rank) {
    std::vector<std::string> items;
    for (std::size_t i = 0; i < ls.size(); ++i) {
        const LayerSpec& l = ls[i];
        switch (l.kind) {
        case Kind::flatten:
            // implied when a dense layer follows an image
            if (!(rank == 3 && i + 1 < ls.size() && ls[i + 1].kind == Kind::dense)) items.push_back("flatten");
            rank = 1;
            continue;
        case Kind::dense: items.push_back(cat(l.size)); break;
        case Kind::conv:
            items.push_back(cat("conv", l.size, "k", l.kernel));
            if (l.stride != 1) items.back() += cat("s", l.stride);
            if (l.padding != 0) items.back() += cat("p", l.padding);
            break;
        case Kind::max_pool: items.push_back(cat("maxpool", l.size)); continue;
        case Kind::avg_pool: items.push_back(cat("avgpool", l.size)); continue;
        case Kind::dropout: items.push_back(cat("dropout", rate_text(l.rate))); continue;
        case Kind::layer_norm: items.push_back("layernorm"); continue;
        case Kind::batch_norm: items.push_back("batchnorm"); continue;
        case Kind::activation: items.push_back(l.activation); continue;
        case Kind::residual:
            items.push_back(cat("res(", l.branches.empty() ? std::string() : layers_text(l.branches[0], rank), ")"));
            continue;
        case Kind::concat: {
            std::string branches;
            for (const auto& b : l.branches) branches += cat(branches.empty() ? "" : "|", layers_text(b, rank));
            items.push_back(cat("cat(", branches, ")"));
            if (!l.branches.empty()) rank = rank_after(l.branches[0], rank);
            continue;
        }
        }
        // a dense or conv layer: its activation, if the next layer is one
        if (l.kind == Kind::dense) rank = 1;
        if (i + 1 < ls.size() && ls[i + 1].kind == Kind::activation) {
            if (ls[i + 1].activation != "sigmoid") items.back() += cat(":", ls[i + 1].activation);
            ++i;
        } else {
            items.back() += ":linear";
        }
    }
    return join(items, "-");
}

/// "64", "8x28x28".
std::string shape_text(const std::vector<std::uint64_t>& shape) {
    std::string out;
    for (const std::uint64_t e : shape) out += cat(out.empty() ? "" : "x", e);
    return out;
}

std::uint64_t elements_of(const std::vector<std::uint64_t>& shape) {
    std::uint64_t n = 1;
    for (const std::uint64_t e : shape) n = e > (std::uint64_t{1} << 40) / n ? (std::uint64_t{1} << 40) : n * e;
    return n;
}

/// The shapes through layers ls from `shape` (updated): parameter sizes appended to out, and
/// at the top level (widths non-null) the widths and positions with parameters. false, with
/// out.error set, when a layer does not fit its input.
bool walk_shapes(const std::vector<LayerSpec>& ls, std::vector<std::uint64_t>& shape, SpecShapes& out, bool top) {
    for (std::size_t k = 0; k < ls.size(); ++k) {
        const LayerSpec& l = ls[k];
        const auto fail = [&](const std::string& why) {
            out.error = cat("layer ", k + 1, " (", layer_cpp(l), ") ", why);
            return false;
        };
        const std::size_t sizes_before = out.parameter_sizes.size();
        const auto add = [&](std::uint64_t weights, std::uint64_t biases) {
            out.parameter_sizes.push_back(weights);
            out.parameter_sizes.push_back(biases);
            out.parameters += weights + biases;
        };
        switch (l.kind) {
        case Kind::dense:
            add(elements_of(shape) * l.size, l.size);
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
        case Kind::flatten: shape = {elements_of(shape)}; break;
        case Kind::layer_norm:  // γ then β, one per feature
            if (shape.size() != 1) return fail("takes a vector");
            add(shape[0], shape[0]);
            break;
        case Kind::batch_norm:  // γ, β, the running mean and variance, one per feature or channel
            if (shape.size() != 1 && shape.size() != 3) return fail("takes a vector or an image");
            for (int i = 0; i < 4; ++i) out.parameter_sizes.push_back(shape[0]);
            out.parameters += 4 * shape[0];
            break;
        case Kind::dropout:
        case Kind::activation: break;
        case Kind::residual: {
            std::vector<std::uint64_t> body = shape;
            if (l.branches.size() != 1 || !walk_shapes(l.branches[0], body, out, false)) return out.error.empty() ? fail("has no body") : false;
            if (body != shape) {
                out.refused = true;
                out.error = cat("'", layers_text({l}, shape.size()), "' changes the shape: its input is ", shape_text(shape), ", its output ",
                                shape_text(body), " (a residual block must keep it)");
                return false;
            }
            break;
        }
        case Kind::concat: {
            std::vector<std::vector<std::uint64_t>> outs;
            for (const auto& b : l.branches) {
                outs.push_back(shape);
                if (!walk_shapes(b, outs.back(), out, false)) return false;
            }
            if (outs.size() < 2) return fail("has fewer than two branches");
            std::vector<std::uint64_t> joined = outs[0];
            for (std::size_t b = 1; b < outs.size(); ++b) {
                const auto& o = outs[b];
                const bool fits = o.size() == joined.size() && (o.size() == 1 || (o.size() == 3 && o[1] == joined[1] && o[2] == joined[2]));
                if (!fits) {
                    out.refused = true;
                    out.error = cat("'", layers_text({l}, shape.size()), "' joins branches of different shapes: ", shape_text(outs[0]),
                                    " and ", shape_text(o), " (a concatenation joins vectors, or images of the same height and width)");
                    return false;
                }
                joined[0] += o[0];
            }
            shape = joined;
            break;
        }
        }
        if (top) {
            if (out.parameter_sizes.size() > sizes_before) out.parameter_layers.push_back(k);
            out.widths.push_back(elements_of(shape));
        }
        out.largest = std::max(out.largest, elements_of(shape));
    }
    return true;
}

/// What SpecLimits says of each layer in ls, blocks' inner layers too; counts the dense and
/// conv layers into `weighted`.
std::string layer_limits_error(const std::vector<LayerSpec>& ls, std::size_t& weighted) {
    using L = SpecLimits;
    for (const LayerSpec& l : ls) {
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
        for (const auto& b : l.branches)
            if (std::string why = layer_limits_error(b, weighted); !why.empty()) return why;
    }
    return {};
}

/// One item of a layer description ("dense<30>", "σ", "residual(dense<4> | relu)"); false if
/// it has no --net spec.
bool parse_description_item(const std::string& item, LayerSpec& l) {
    // "name<1, 2>" → name, {1, 2}
    std::string name;
    std::vector<std::string> args;
    const std::size_t open = item.find('<');
    name = item.substr(0, open);
    bool ok = true;
    if (open != std::string::npos) {
        if (item.back() != '>') ok = false;
        else args = split(item.substr(open + 1, item.size() - open - 2), ", ");
    }
    const auto block = [&](std::string_view keyword, Kind kind) {
        if (!starts_with(item, keyword) || item.back() != ')' || !parentheses_error(item).empty()) return false;
        const std::string inner = item.substr(keyword.size(), item.size() - keyword.size() - 1);
        l.kind = kind;
        for (const std::string& branch : kind == Kind::residual ? std::vector<std::string>{inner} : split_top(inner, ", ", true)) {
            l.branches.emplace_back();
            for (const std::string& inner_item : split_top(branch, " | ", true)) {
                LayerSpec inner_layer;
                if (!parse_description_item(inner_item, inner_layer)) return false;
                l.branches.back().push_back(std::move(inner_layer));
            }
        }
        return kind == Kind::residual || l.branches.size() >= 2;
    };
    if (const ActivationName* a = find_activation(item, &ActivationName::description)) l = activation_layer(std::string(a->spec));
    else if (item == "sigmoid") l = activation_layer(item);
    else if (item == "flatten") l.kind = Kind::flatten;
    else if (item == "layer_norm") l.kind = Kind::layer_norm;
    else if (item == "batch_norm") l.kind = Kind::batch_norm;
    else if (starts_with(item, "residual(")) return block("residual(", Kind::residual);
    else if (starts_with(item, "concat(")) return block("concat(", Kind::concat);
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
    return ok;
}

bool any_convolution(const std::vector<LayerSpec>& ls) {
    for (const LayerSpec& l : ls) {
        if (l.kind == Kind::conv) return true;
        for (const auto& b : l.branches)
            if (any_convolution(b)) return true;
    }
    return false;
}

bool any_batch_norm(const std::vector<LayerSpec>& ls) {
    for (const LayerSpec& l : ls) {
        if (l.kind == Kind::batch_norm) return true;
        for (const auto& b : l.branches)
            if (any_batch_norm(b)) return true;
    }
    return false;
}

}  // namespace

NetworkSpec parse_network(const std::string& text, std::string& error) {
    error.clear();
    if (text == "lenet") return parse_network(lenet_spec, error);
    const auto fail = [&](const std::string& why) {
        error = cat("'", text, "' is not a network: ", why, " (", grammar_hint, ")");
        return NetworkSpec{};
    };
    if (const std::string why = parentheses_error(text); !why.empty()) return fail(why);
    const std::vector<std::string> parts = split_top(text, "-");
    for (const std::string& p : parts)
        if (split_top(p, "|").size() > 1) return fail(cat("'", p, "': '|' joins the branches of cat(LAYERS|LAYERS…) only"));
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
    std::size_t rank = spec.input.size(), count = 0;
    if (const std::string why = parse_layers(parts, 1, rank, spec.layers, "", count); !why.empty()) return fail(why);
    if (const std::string why = limits_error(spec); !why.empty()) {
        error = cat("'", text.size() > 80 ? text.substr(0, 77) + "..." : text, "' is beyond what typegrad compiles: ", why,
                    " (README, \"Limits\")");
        return NetworkSpec{};
    }
    // a block that changes the shape: the compiler would say so in a page, this in one line
    if (const SpecShapes shapes = infer_shapes(spec); shapes.refused) {
        error = shapes.error;
        return NetworkSpec{};
    }
    return spec;
}

SpecShapes infer_shapes(const NetworkSpec& spec) {
    SpecShapes out;
    std::vector<std::uint64_t> shape(spec.input.begin(), spec.input.end());
    out.widths.push_back(elements_of(shape));
    out.largest = out.widths[0];
    walk_shapes(spec.layers, shape, out, true);
    return out;
}

bool has_convolution(const NetworkSpec& spec) { return any_convolution(spec.layers); }
bool uses_batch_norm(const NetworkSpec& spec) { return any_batch_norm(spec.layers); }

std::string limits_error(const NetworkSpec& spec) {
    using L = SpecLimits;
    if (const std::size_t n = count_layers(spec.layers); n > L::layers)
        return cat("more than ", L::layers, " layers (activations included)");
    std::size_t weighted = 0;
    if (std::string why = layer_limits_error(spec.layers, weighted); !why.empty()) return why;
    if (weighted > L::parameter_layers)
        return cat(weighted, " dense and conv layers, more than the ", L::parameter_layers, " typegrad compiles");
    const SpecShapes shapes = infer_shapes(spec);
    for (std::size_t k = 0; k < shapes.widths.size(); ++k)
        if (shapes.widths[k] > L::elements)
            return k == 0 ? cat("an input of ", shapes.widths[k], " elements, more than the ", L::elements, " typegrad compiles")
                          : cat("layer ", k, " outputs ", shapes.widths[k], " elements per example, more than the ", L::elements,
                                " typegrad compiles");
    if (shapes.largest > L::elements)
        return cat("a layer inside a block outputs ", shapes.largest, " elements per example, more than the ", L::elements,
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
    const std::vector<std::string> items = split_top(text, " | ", true);
    NetworkSpec spec;
    const std::string& input = items[0];
    const std::size_t open = input.find('<');
    const std::vector<std::string> args =
        open == std::string::npos || input.back() != '>' ? std::vector<std::string>{} : split(input.substr(open + 1, input.size() - open - 2), ", ");
    if (input.substr(0, open) != "input" || (args.size() != 1 && args.size() != 3)) return fail(cat("'", input, "' is not an input layer"));
    for (const auto& a : args) {
        std::size_t v = 0;
        if (!read_count(a, v)) return fail(cat("'", input, "' is not an input layer"));
        spec.input.push_back(v);
    }
    if (items.size() < 2) return fail("there are no layers");
    for (std::size_t i = 1; i < items.size(); ++i) {
        LayerSpec l;
        if (!parse_description_item(items[i], l)) return fail(cat("the layer '", items[i], "' has no --net spec"));
        spec.layers.push_back(std::move(l));
    }
    return spec;
}

std::string spec_text(const NetworkSpec& spec) {
    std::string out;
    for (std::size_t i = 0; i < spec.input.size(); ++i) out += cat(i ? "x" : "", spec.input[i]);
    if (!spec.layers.empty()) out += cat("-", layers_text(spec.layers, spec.input.size()));
    return out == lenet_spec ? "lenet" : out;
}

std::string cpp_layers(const NetworkSpec& spec) {
    std::string out = "input<";
    for (std::size_t i = 0; i < spec.input.size(); ++i) out += cat(i ? ", " : "", spec.input[i]);
    out += ">";
    for (const LayerSpec& l : spec.layers) out += cat(" | ", layer_cpp(l));
    return out;
}

std::string canonical_network(const std::string& text, std::string& error) {
    const NetworkSpec spec = parse_network(text, error);
    return error.empty() ? spec_text(spec) : std::string();
}

}  // namespace typegrad::cli
