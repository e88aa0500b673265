// `typegrad derive` and `typegrad gradcheck`.
#include "derive.hpp"

#include <string>

#include "commands.hpp"
#include "jit.hpp"

namespace typegrad::cli {

namespace {
/// The request for a --net spec that is not in the menu (in canonical form: checked by the
/// option's validator) or not with this cost; a cost that does not fit the output is refused.
JitRequest spec_request(const std::string& net, const std::string& given_cost, const std::string& element_type) {
    std::string error;
    NetworkSpec spec = parse_network(net, error);
    if (!error.empty()) throw UsageError(cat("--net: ", error));
    std::string cost = given_cost.empty() ? default_cost(spec) : given_cost;
    if (const std::string why = cost_fit_error(spec, cost); !why.empty()) throw UsageError(why);
    return {std::move(spec), std::move(cost), element_type, "--net"};
}
}  // namespace

int run_derive(const DeriveOptions& o) {
    int rc = exit_ok;
    if (o.dtype == "float" && with_network<float>(o.net, o.cost, [&]<class M>() { rc = derive_network<M>(); })) return rc;
    return load_network(spec_request(o.net, o.cost, o.dtype)).derive();
}

int run_gradcheck(const GradcheckOptions& o) {
    int rc = exit_ok;
    if (with_network<double>(o.net, o.cost, [&]<class M>() { rc = gradcheck_network<M>(o); })) return rc;
    return load_network(spec_request(o.net, o.cost, "double")).gradcheck(o);
}

}  // namespace typegrad::cli
