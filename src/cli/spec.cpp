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
#include "typegrad/nn/layers.hpp"  // the built-in layers, and so their words

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

using spec::Argument;
using spec::Values;
using spec::Word;

/// The activation `keyword` ("relu"), or nullptr.
const Word* find_activation(std::string_view keyword) {
    for (const Word* w : spec::registry())
        if (w->role == Word::Role::activation && w->keyword == keyword) return w;
    return nullptr;
}
bool is_activation(std::string_view a) { return find_activation(a) != nullptr; }

/// "sigmoid, tanh, …, linear": the registered activations, and "linear" (none).
std::string activation_list() {
    std::vector<std::string> names;
    for (const Word* w : spec::registry())
        if (w->role == Word::Role::activation) names.emplace_back(w->keyword);
    names.emplace_back("linear");
    return join(names, ", ");
}

/// A layer word's name in prose: its keyword, or its C++ name for the plain number ("dense").
std::string_view word_name(const Word& w) { return w.keyword.empty() ? w.cpp : w.keyword; }

/// "dense and conv": the layers that take ':ACT', the plain number first.
std::string activated_layers() {
    std::vector<const Word*> ws;
    for (const Word* w : spec::registry())
        if (w->role == Word::Role::layer && w->takes_activation) ws.push_back(w);
    std::stable_sort(ws.begin(), ws.end(), [](const Word* a, const Word* b) { return a->keyword < b->keyword; });
    std::string out;
    for (std::size_t i = 0; i < ws.size(); ++i) out += cat(i == 0 ? "" : i + 1 == ws.size() ? " and " : ", ", word_name(*ws[i]));
    return out;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

/// The layer word `body` is spelled with ("conv" for "conv6k5", the plain number for "30"), the
/// longest keyword that fits; nullptr if none does.
const Word* find_layer(std::string_view body) {
    const Word* best = nullptr;
    for (const Word* w : spec::registry()) {
        if (w->role != Word::Role::layer || !w->spoken) continue;
        const bool fits = w->keyword.empty() ? !body.empty() && std::isdigit(static_cast<unsigned char>(body[0]))
                          : w->arguments.empty() ? body == w->keyword
                                                 : starts_with(body, w->keyword);
        if (fits && (best == nullptr || w->keyword.size() > best->keyword.size())) best = w;
    }
    return best;
}

/// The word of the layer an image is flattened with, before a layer of Input::flattened.
const Word* flatten_word() {
    for (const Word* w : spec::registry())
        if (w->role == Word::Role::layer && w->keyword == "flatten") return w;
    return nullptr;
}

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

/// The arguments of word w from `rest`, the text after its keyword ("6k5s2p1" of "conv6k5s2p1"
/// → 6, 5, 2, 1); false if they are not w's.
bool read_values(const Word& w, std::string_view rest, Values& v) {
    for (const Argument& a : w.arguments) {
        if (a.kind == Argument::Kind::rate) {
            if (!read_rate(std::string(rest), v.rate)) return false;
            rest = {};
            continue;
        }
        const bool present = a.tag.empty() ? !rest.empty() && std::isdigit(static_cast<unsigned char>(rest[0])) : starts_with(rest, a.tag);
        if (!present) {
            if (!a.optional) return false;
            v.n.push_back(a.fallback);
            continue;
        }
        rest.remove_prefix(a.tag.size());
        std::size_t n = 0;
        while (n < rest.size() && std::isdigit(static_cast<unsigned char>(rest[n]))) ++n;
        const std::string_view digits = rest.substr(0, n);
        std::size_t x = 0;
        const bool zero = a.kind == Argument::Kind::count_or_zero && !digits.empty() && digits.find_first_not_of('0') == std::string_view::npos;
        if (!zero && !read_count(digits, x)) return false;
        v.n.push_back(x);
        rest.remove_prefix(n);
    }
    return rest.empty();
}

/// An argument's value as text: "6", "0.25".
std::string value_text(const Argument& a, const Values& v, std::size_t count_index) {
    return a.kind == Argument::Kind::rate ? rate_text(v.rate) : cat(v.n[count_index]);
}

/// "conv6k5s2": the keyword, then each argument not at its fallback, with its tag.
std::string word_text(const Word& w, const Values& v) {
    std::string out(w.keyword);
    std::size_t i = w.vocabulary_first ? 1 : 0;
    for (const Argument& a : w.arguments) {
        const bool rate = a.kind == Argument::Kind::rate;
        if (v.vocabulary && v.n[0] == 0 && i == 0 && !rate) out += cat(a.tag, "vocab");  // until bound
        else if (!(a.optional && !rate && v.n[i] == a.fallback)) out += cat(a.tag, value_text(a, v, i));
        if (!rate) ++i;
    }
    return out;
}

/// "conv2d<6, 5, 2, 0>": the C++ layer object with every argument.
std::string word_cpp(const Word& w, const Values& v) {
    std::string args = w.vocabulary_first ? cat(v.n[0]) : std::string();
    std::size_t i = w.vocabulary_first ? 1 : 0;
    for (const Argument& a : w.arguments) {
        args += cat(args.empty() ? "" : ", ", value_text(a, v, i));
        if (a.kind != Argument::Kind::rate) ++i;
    }
    return args.empty() ? std::string(w.cpp) : cat(w.cpp, "<", args, ">");
}

LayerSpec word_layer(const Word& w, Values v = {}) {
    LayerSpec l;
    l.kind = Kind::word;
    l.word = &w;
    l.values = std::move(v);
    return l;
}

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

/// The rank after word w on an input of rank `rank` (1: a vector, 2: a sequence, 3: an image):
/// a layer that takes a flattened input acts at every position of a sequence.
std::size_t rank_of(const Word& w, std::size_t rank) {
    if (w.rank_out != 0) return w.rank_out;
    if (w.vector_out && !(rank == 2 && w.input == Word::Input::flattened)) return 1;
    return rank;
}

/// The word with keyword `keyword` (a layer's), or nullptr.
const Word* layer_word(std::string_view keyword) {
    for (const Word* w : spec::registry())
        if (w->role == Word::Role::layer && w->keyword == keyword) return w;
    return nullptr;
}

/// The rank after layers ls on an input of rank `rank` (1: a vector, 2: a sequence, 3: an image).
std::size_t rank_after(const std::vector<LayerSpec>& ls, std::size_t rank) {
    for (const LayerSpec& l : ls) {
        if (l.kind == Kind::word) rank = rank_of(*l.word, rank);
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
                         const std::string& where, std::size_t& count, bool tokens = false) {
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
        if (body.empty()) return cat("unknown layer '", p, "'");
        if (const Word* a = find_activation(body)) {
            if (has_activation) return cat("the activation '", body, "' takes no activation");
            out.push_back(word_layer(*a));
            ++count;
            continue;
        }
        const bool vocab = body == "vocab";  // a dense layer as wide as the vocabulary
        const Word* w = vocab ? layer_word("") : find_layer(body);
        if (w == nullptr) return cat("unknown layer '", body, "'");
        Values values;
        if (w->vocabulary_first) values.n.push_back(0);  // bound with the data (bind_vocabulary)
        if (vocab) values = Values{{0}, 0, true};
        else if (!read_values(*w, std::string_view(body).substr(w->keyword.size()), values)) return cat("'", body, "' is not ", w->what);
        if (w->vocabulary_first && !(tokens && i == first && where.empty()))
            return cat("'", body, "' embeds the token ids of a seqT input: it is the first layer after seqT");
        if (w->input == Word::Input::vector && rank == 3)  // its static_assert would say so too, in a page of compiler output
            return cat(word_name(*w), " takes a vector, not an image (put a dense layer, or flatten, before it)");
        if (has_activation && !w->takes_activation) return cat("only ", activated_layers(), " layers take an activation, not '", body, "'");
        if (has_activation && !is_activation(activation) && activation != "linear")
            return cat("unknown activation '", activation, "' (", activation_list(), ")");
        if (w->input == Word::Input::flattened && rank == 3) {
            const Word* f = flatten_word();
            if (f == nullptr) return cat(word_name(*w), " takes a vector: put flatten before it");
            out.push_back(word_layer(*f));
            ++count;
        }
        rank = rank_of(*w, rank);
        out.push_back(word_layer(*w, std::move(values)));
        ++count;
        if (!w->then.empty()) {
            const Word* t = layer_word(w->then);
            if (t == nullptr) return cat(word_name(*w), " needs the layer '", w->then, "', whose header is not included");
            out.push_back(word_layer(*t));
            ++count;
        }
        const std::string a = has_activation ? activation : std::string(w->default_activation);
        if (w->takes_activation && a != "linear") {
            out.push_back(word_layer(*find_activation(a)));
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
    case Kind::word: return word_cpp(*l.word, l.values);
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
        if (l.kind == Kind::residual) {
            items.push_back(cat("res(", l.branches.empty() ? std::string() : layers_text(l.branches[0], rank), ")"));
            continue;
        }
        if (l.kind == Kind::concat) {
            std::string branches;
            for (const auto& b : l.branches) branches += cat(branches.empty() ? "" : "|", layers_text(b, rank));
            items.push_back(cat("cat(", branches, ")"));
            if (!l.branches.empty()) rank = rank_after(l.branches[0], rank);
            continue;
        }
        const Word& w = *l.word;
        const bool implied = (&w == flatten_word() && rank == 3 && i + 1 < ls.size() && ls[i + 1].kind == Kind::word &&
                              ls[i + 1].word->input == Word::Input::flattened) ||
                             (i > 0 && ls[i - 1].kind == Kind::word && !ls[i - 1].word->then.empty() &&
                              ls[i - 1].word->then == w.keyword);
        rank = rank_of(w, rank);
        if (implied) continue;
        items.push_back(word_text(w, l.values));
        if (!w.takes_activation) continue;
        // its activation, if the next layer is one: left out when it is the default
        const bool activated = i + 1 < ls.size() && ls[i + 1].kind == Kind::word && ls[i + 1].word->role == Word::Role::activation;
        const std::string_view a = activated ? ls[++i].word->keyword : std::string_view("linear");
        if (a != w.default_activation) items.back() += cat(":", a);
    }
    return join(items, "-");
}

/// "64", "8x28x28".
std::string shape_text(const std::vector<std::uint64_t>& shape) {
    std::string out;
    for (const std::uint64_t e : shape) out += cat(out.empty() ? "" : "x", e);
    return out;
}

std::uint64_t elements_of(const std::vector<std::uint64_t>& shape) { return spec::elements(shape); }

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
        switch (l.kind) {
        case Kind::word:
            if (l.word->shape != nullptr) {
                if (std::string why = l.word->shape(l.values, shape, out.parameter_sizes); !why.empty()) return fail(why);
                for (std::size_t i = sizes_before; i < out.parameter_sizes.size(); ++i) out.parameters += out.parameter_sizes[i];
            }
            break;
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
    for (const LayerSpec& l : ls) {
        if (l.kind == Kind::word) {
            if (l.word->weighted) ++weighted;
            if (l.word->limits != nullptr)
                if (std::string why = l.word->limits(l.values); !why.empty()) return why;
        }
        for (const auto& b : l.branches)
            if (std::string why = layer_limits_error(b, weighted); !why.empty()) return why;
    }
    return {};
}

/// The word whose layer_traits name is `name` ("conv2d", "σ", "tanh"), with `arguments` read into
/// l: the required ones, or all; false if none.
bool read_description_word(const std::string& name, const std::vector<std::string>& arguments, LayerSpec& l) {
    for (const Word* w : spec::registry()) {
        if (name != (w->description.empty() ? w->cpp : w->description) && name != w->cpp) continue;
        std::size_t required = 0;
        for (const Argument& a : w->arguments) required += a.optional ? 0 : 1;
        Values v;
        std::vector<std::string> given = arguments;
        if (w->vocabulary_first) {  // "embedding<65, 64>": the vocabulary, then the word's arguments
            std::size_t n = 0;
            if (given.empty() || !read_count(given[0], n)) return false;
            v.n.push_back(n);
            given.erase(given.begin());
        }
        if (given.size() != required && given.size() != w->arguments.size()) return false;
        for (std::size_t i = 0; i < w->arguments.size(); ++i) {
            const Argument& a = w->arguments[i];
            if (i >= given.size()) {
                v.n.push_back(a.fallback);
                continue;
            }
            std::size_t x = 0;
            if (a.kind == Argument::Kind::rate) {
                if (!read_rate(given[i], v.rate)) return false;
                continue;
            }
            if (!(a.kind == Argument::Kind::count_or_zero && given[i] == "0") && !read_count(given[i], x)) return false;
            v.n.push_back(x);
        }
        l = word_layer(*w, std::move(v));
        return true;
    }
    return false;
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
    if (starts_with(item, "residual(")) return block("residual(", Kind::residual);
    if (starts_with(item, "concat(")) return block("concat(", Kind::concat);
    return ok && read_description_word(name, args, l);
}

/// Whether any word of ls, in blocks too, has the flag `Word::*flag`.
bool any_word(const std::vector<LayerSpec>& ls, bool Word::*flag) {
    for (const LayerSpec& l : ls) {
        if (l.kind == Kind::word && l.word->*flag) return true;
        for (const auto& b : l.branches)
            if (any_word(b, flag)) return true;
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
    if (parts[0].find(':') != std::string::npos) return fail("the input takes no activation");
    // the input: seqT (T token ids), WIDTH or CxHxW
    spec.tokens = starts_with(parts[0], "seq");
    const std::vector<std::string> extents = split(spec.tokens ? parts[0].substr(3) : parts[0], "x");
    if (spec.tokens) {
        std::size_t t = 0;
        if (!read_count(parts[0].substr(3), t)) return fail(cat("the input '", parts[0], "' is not seqT (T tokens, a positive integer)"));
        if (t > SpecLimits::sequence)
            return fail(cat("the input '", parts[0], "' has more than the ", SpecLimits::sequence, " tokens typegrad compiles"));
    }
    if (extents.size() != 1 && extents.size() != 3) return fail(cat("the input '", parts[0], "' is not WIDTH or CxHxW"));
    for (const auto& e : extents) {
        std::size_t v = 0;
        if (!read_count(e, v)) return fail(cat("the input '", parts[0], "' is not WIDTH or CxHxW of positive integers"));
        spec.input.push_back(v);
    }
    std::size_t rank = spec.input.size(), count = 0;
    if (const std::string why = parse_layers(parts, 1, rank, spec.layers, "", count, spec.tokens); !why.empty()) return fail(why);
    if (spec.tokens && (spec.layers[0].kind != Kind::word || !spec.layers[0].word->vocabulary_first))
        return fail(cat("the input ", parts[0], " is token ids: its first layer is an embedding embedD (", parts[0], "-embed64-…)"));
    bool vocab_word = false;
    for (const LayerSpec& l : spec.layers)
        if (l.kind == Kind::word && l.values.vocabulary) vocab_word = true;
    if (vocab_word && !spec.tokens) return fail("'vocab' is the width of a text's vocabulary: the input must be seqT");
    // without the word "vocab", the vocabulary is the output's width per position ("…-65:softmax")
    if (spec.tokens && !vocab_word)
        if (const SpecShapes shapes = infer_shapes(spec); shapes.error.empty() && shapes.widths.back() % spec.input[0] == 0)
            bind_vocabulary(spec, shapes.widths.back() / spec.input[0]);
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

bool has_convolution(const NetworkSpec& spec) { return any_word(spec.layers, &Word::convolution); }
bool uses_batch_norm(const NetworkSpec& spec) { return any_word(spec.layers, &Word::couples_examples); }

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
        if (!parse_description_item(items[i], l))
            return fail(cat("the layer '", items[i], "' has no --net spec (a layer of your own: name its header with --layers FILE)"));
        spec.layers.push_back(std::move(l));
    }
    spec.tokens = spec.layers[0].kind == Kind::word && spec.layers[0].word->vocabulary_first;
    return spec;
}

namespace {
void bind_layers(std::vector<LayerSpec>& ls, std::size_t vocabulary) {
    for (LayerSpec& l : ls) {
        if (l.kind == Kind::word && (l.word->vocabulary_first || l.values.vocabulary)) l.values.n[0] = vocabulary;
        for (auto& b : l.branches) bind_layers(b, vocabulary);
    }
}
std::size_t layers_vocabulary(const std::vector<LayerSpec>& ls) {
    for (const LayerSpec& l : ls) {
        if (l.kind == Kind::word && (l.word->vocabulary_first || l.values.vocabulary)) return l.values.n[0];
        for (const auto& b : l.branches)
            if (const std::size_t v = layers_vocabulary(b)) return v;
    }
    return 0;
}
}  // namespace

void bind_vocabulary(NetworkSpec& spec, std::size_t vocabulary) { bind_layers(spec.layers, vocabulary); }
std::size_t bound_vocabulary(const NetworkSpec& spec) { return layers_vocabulary(spec.layers); }

std::string spec_text(const NetworkSpec& spec) {
    std::string out = spec.tokens ? "seq" : "";
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
