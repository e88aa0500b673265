// `typegrad derive` and `typegrad gradcheck`.
#include "derive.hpp"

#include <cstdio>
#include <string>

#include "menu.hpp"
#include "options.hpp"
#include "text.hpp"
#include "typegrad/autodiff/backprop.hpp"
#include "typegrad/data/dataset.hpp"
#include "typegrad/autodiff/gradcheck.hpp"

namespace typegrad::cli {

namespace {
std::string menu() { return join(shape_names_of(networks<float>{})); }

// The thresholds gradcheck reports against: autodiff and reference run the same kernels in the
// same order, so they agree to rounding; central differences with h = 1e-6 in double are good
// to about 1e-9 relative.
constexpr double ad_vs_ref_limit = 1e-12;
constexpr double fd_limit = 1e-6;
}  // namespace

int run_derive(const std::string& net) {
    const bool found = with_network<float>(net, [&]<class M>() {
        std::printf("typegrad derive: %s, %s cost; derived from the network's type\n", network_description<M>().c_str(),
                    std::string(M::cost_type::name).c_str());
        for (const auto& line : autodiff::derivation<M>()) std::printf("%s\n", line.c_str());
    });
    if (!found) throw UsageError(cat("--net: unknown network shape '", net, "'; the compiled-in shapes are ", menu()));
    return exit_ok;
}

int run_gradcheck(const GradcheckOptions& o) {
    int rc = exit_ok;
    const bool found = with_network<double>(o.net, [&]<class M>() {
        M net{o.seed};
        // a realistic input: a synthetic digit, and its one-hot label as the target
        const auto digits = data::synthetic_digits(1, o.seed);
        typename M::input_type x;
        typename M::output_type y;
        for (std::size_t i = 0; i < M::input_width; ++i) x.data()[i] = digits.pixel(0, i);
        y.fill(0.0);
        y[digits.labels[0]] = 1.0;
        const auto r = gradcheck(net, x, y, {.step = o.step, .samples_per_tensor = o.samples});
        std::printf("typegrad gradcheck: %s, double, seed %llu, a synthetic digit %d as input, h = %g, %zu of %zu "
                    "parameters by central differences\n",
                    o.net.c_str(), static_cast<unsigned long long>(o.seed), int(digits.labels[0]), o.step, r.fd_entries,
                    M::parameter_count);
        std::printf("J = %.10g\n", r.cost);
        std::printf("max relative error, ‖a − b‖∞ / max(‖a‖∞, ‖b‖∞) per tensor:\n");
        std::printf("  autodiff vs reference             %.3e  (limit %.0e)\n", r.autodiff_vs_reference, ad_vs_ref_limit);
        std::printf("  autodiff vs finite differences    %.3e  (limit %.0e)\n", r.autodiff_vs_fd, fd_limit);
        std::printf("  reference vs finite differences   %.3e  (limit %.0e)\n", r.reference_vs_fd, fd_limit);
        const bool ok = r.autodiff_vs_reference <= ad_vs_ref_limit && r.autodiff_vs_fd <= fd_limit &&
                        r.reference_vs_fd <= fd_limit;
        std::printf("%s\n", ok ? "gradients agree" : "GRADIENTS DISAGREE");
        rc = ok ? exit_ok : exit_failure;
    });
    if (!found) throw UsageError(cat("--net: unknown network shape '", o.net, "'; the compiled-in shapes are ", menu()));
    return rc;
}

}  // namespace typegrad::cli
