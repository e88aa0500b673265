// A small, portable, seeded random source. The standard library's distributions are
// implementation-defined, so "same seed, same result" would not hold across standard
// libraries; these are defined here bit for bit.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <utility>

namespace typegrad {

/// xoshiro256** seeded through splitmix64 (Blackman and Vigna).
class Rng {
public:
    using result_type = std::uint64_t;

    /// The whole state, for checkpoints: the four words and the spare normal deviate.
    struct State {
        std::uint64_t words[4];
        double spare;
        bool has_spare;
    };
    State state() const noexcept { return {{state_[0], state_[1], state_[2], state_[3]}, spare_, has_spare_}; }

    /// Whether s is a state this generator can be in: not all four words zero (xoshiro256**
    /// maps the zero state to itself and returns 0 forever; seeding never produces it, since
    /// splitmix64 is a bijection and the four seeding inputs differ) and, if the spare is
    /// marked valid, a finite spare. Check states read from outside (checkpoints) with this.
    static constexpr bool valid(const State& s) noexcept {
        const bool words = (s.words[0] | s.words[1] | s.words[2] | s.words[3]) != 0;
        const bool spare = !s.has_spare || (s.spare == s.spare && s.spare - s.spare == 0.0);  // finite
        return words && spare;
    }

    /// Sets the state; s should be valid(s). If it is not, nothing hangs: below(), normal()
    /// and shuffle() still terminate (their loops are bounded), with degenerate values.
    void set_state(const State& s) noexcept {
        for (int i = 0; i < 4; ++i) state_[i] = s.words[i];
        spare_ = s.spare;
        has_spare_ = s.has_spare;
    }

    explicit Rng(std::uint64_t seed = 0) noexcept {
        std::uint64_t x = seed;
        for (auto& s : state_) s = splitmix64(x);
    }

    static constexpr result_type min() noexcept { return 0; }
    static constexpr result_type max() noexcept { return ~result_type{0}; }

    result_type operator()() noexcept {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    /// Uniform in [0, 1) with 53 random bits.
    double uniform() noexcept { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

    /// Uniform in [lo, hi).
    double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }

    /// At most this many draws in a rejection loop. A valid state rejects a draw in below(n)
    /// with probability (2^64 mod n) / 2^64 < n / 2^64, so reaching the bound takes 64 rejections
    /// in a row (probability below 2^-2048 for n < 2^32): the results are those of the unbounded
    /// loop, but termination no longer depends on the state. The all-zero state returns 0
    /// forever and ends the loops at the bound.
    static constexpr int max_rejections = 64;

    /// Uniform integer in [0, n) without modulo bias (rejects the top partial range); 0 for
    /// n == 0. Always terminates (see max_rejections).
    std::uint64_t below(std::uint64_t n) noexcept {
        if (n == 0) return 0;
        const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
        std::uint64_t r = (*this)();
        for (int tries = 1; r < threshold && tries < max_rejections; ++tries) r = (*this)();
        return r % n;
    }

    /// Standard normal N(0, 1) by Box-Muller (both values used).
    double normal() noexcept {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u1 = uniform();
        for (int tries = 1; u1 == 0.0 && tries < max_rejections; ++tries) u1 = uniform();
        if (u1 == 0.0) u1 = 0x1.0p-53;  // only a degenerate (all-zero) state gets here
        const double u2 = uniform();
        const double r = std::sqrt(-2.0 * std::log(u1));
        const double theta = 2.0 * std::numbers::pi * u2;
        spare_ = r * std::sin(theta);
        has_spare_ = true;
        return r * std::cos(theta);
    }

    /// Fisher-Yates shuffle of [first, last).
    template <class It>
    void shuffle(It first, It last) noexcept {
        const auto n = static_cast<std::uint64_t>(last - first);
        for (std::uint64_t i = n; i > 1; --i) {
            const auto j = below(i);
            using std::swap;
            swap(first[static_cast<std::ptrdiff_t>(i - 1)], first[static_cast<std::ptrdiff_t>(j)]);
        }
    }

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
    static constexpr std::uint64_t splitmix64(std::uint64_t& x) noexcept {
        std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    std::uint64_t state_[4]{};
    double spare_ = 0.0;
    bool has_spare_ = false;
};

}  // namespace typegrad
