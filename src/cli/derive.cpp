// `typegrad derive` and `typegrad gradcheck`.
#include "derive.hpp"

#include <string>

#include "commands.hpp"
#include "jit.hpp"

namespace typegrad::cli {

namespace {
/// The request for a --net spec that is not in the menu (in canonical form: checked by the
/// option's validator).
JitRequest spec_request(const std::string& net, const std::string& element_type) {
    std::string error;
    NetworkSpec spec = parse_network(net, error);
    if (!error.empty()) throw UsageError(cat("--net: ", error));
    std::string cost = default_cost(spec);
    return {std::move(spec), std::move(cost), element_type, "--net"};
}
}  // namespace

int run_derive(const std::string& net) {
    int rc = exit_ok;
    if (with_network<float>(net, [&]<class M>() { rc = derive_network<M>(); })) return rc;
    return load_network(spec_request(net, "float")).derive();
}

int run_gradcheck(const GradcheckOptions& o) {
    int rc = exit_ok;
    if (with_network<double>(o.net, [&]<class M>() { rc = gradcheck_network<M>(o); })) return rc;
    return load_network(spec_request(o.net, "double")).gradcheck(o);
}

}  // namespace typegrad::cli
