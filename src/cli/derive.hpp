// `typegrad derive` and `typegrad gradcheck`: what the autodiff engine derives from a network's
// type, and the three-way gradient check on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace typegrad::cli {

struct DeriveOptions {
    std::string net = "784-30-10";
    std::string cost;             // --cost: "" for the network's default (as train's)
    std::string dtype = "float";  // --dtype: the derivation is the same in both; accepted as train's
};

/// Prints the recurrences derived for the network `net` with its cost (the output's δ depends on it).
int run_derive(const DeriveOptions& options);

struct GradcheckOptions {
    std::string net = "784-30-10";
    std::string cost;  // --cost: "" for the network's default
    std::uint64_t seed = 42;
    std::size_t samples = 0;  // finite differences per tensor; 0: every parameter
    double step = 1e-6;
};

/// gradcheck's options as given (strings, like train's: one validation for every command).
struct GradcheckArgs {
    std::string net = "784-30-10";
    std::string cost;
    std::string dtype = "double";
    std::string seed = "42";
    std::string samples = "0";
    std::string step = "1e-6";
};

/// Validated with the same rules and messages as train's options (options.cpp); throws
/// UsageError naming the option.
[[nodiscard]] GradcheckOptions validate(const GradcheckArgs& args);

/// Compares autodiff, the hand-written reference and central finite differences on the network
/// `net` in double, at a synthetic digit; prints the three maximum relative errors. Returns 0
/// when autodiff and reference agree to 1e-12 and both agree with finite differences to 1e-6.
int run_gradcheck(const GradcheckOptions& options);

}  // namespace typegrad::cli
