// `typegrad derive` and `typegrad gradcheck`.
#include "derive.hpp"

#include <string>

#include "compiled_in.hpp"
#include "options.hpp"
#include "text.hpp"

namespace typegrad::cli {

namespace {
/// The request for a --net spec that is not compiled in (in canonical form: checked by the
/// option's validator) or not with this cost or element type; without --cost, a menu spec takes
/// the menu's cost, another spec its default; a cost that does not fit the output is refused.
JitRequest spec_request(const std::string& net, const std::string& given_cost, const std::string& element_type) {
    std::string error;
    NetworkSpec spec = parse_network(net, error);
    if (!error.empty()) throw UsageError(cat("--net: ", error));
    if (reads_text(spec) && bound_vocabulary(spec) == 0)
        throw UsageError(cat("--net ", net, ": 'vocab' is the size of a training text's vocabulary; without a text, write it as "
                             "a number (…-layernorm-65:softmax)"));
    if (const SpecShapes shapes = infer_shapes(spec); reads_text(spec) && !shapes.error.empty())
        throw UsageError(cat("--net ", net, ": ", shapes.error));
    std::string cost = !given_cost.empty() ? given_cost : compiled_in_cost(net);
    if (cost.empty()) cost = default_cost(spec);
    if (const std::string why = cost_fit_error(spec, cost); !why.empty()) throw UsageError(why);
    return {std::move(spec), std::move(cost), element_type, "--net"};
}
}  // namespace

int run_derive(const DeriveOptions& o) {
    if (const PluginApi* n = compiled_in_network(o.net, o.cost, o.dtype)) return n->derive();
    return load_network(spec_request(o.net, o.cost, o.dtype)).derive();
}

int run_gradcheck(const GradcheckOptions& o) {
    if (const PluginApi* n = compiled_in_network(o.net, o.cost, "double", Need::gradcheck)) return n->gradcheck(o);
    // only what gradcheck needs: the double network's derive and gradcheck (plugin_api<M, Entries::checking>)
    JitRequest r = spec_request(o.net, o.cost, "double");
    r.variant = JitRequest::Variant::checking;
    return load_network(r).gradcheck(o);
}

}  // namespace typegrad::cli
