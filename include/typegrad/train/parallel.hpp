// Synchronous data parallelism on one machine: a batch's gradient computed by the N threads of a
// ThreadPool, and evaluation counted by them.
//
// ParallelEngine<M, Engine>: the examples of a step are cut into N contiguous shares (share(m, N,
// k): the first m mod N shares one example longer; with fewer examples than threads the last
// shares are empty). Thread k computes the summed gradient of share k with its own Engine — share
// 0 into the caller's Gradients, share k ≥ 1 into a buffer of its own — then the buffers are
// added into the caller's, for every element in the order k = 0, 1, …, N − 1 (the threads split
// the elements between them, not the buffers, so the order per element is fixed). The cost and
// the correct count are summed in the same order. The result depends on N and on nothing else:
// with N = 2 it differs from one thread's in the last bits (another order of the same sums), two
// runs with N = 2 are identical.
//
// Dropout and any other noise drawn through expr::current_noise(): when the caller has a
// NoiseScope (the trainer's), share k draws from a generator of its own, seeded from the
// caller's generator (one peek, the same for every share, plus k); after the step the caller's
// generator is advanced by one draw if any share drew. So masks are deterministic for a given N
// but not the same as with one thread or another N (one thread draws the whole batch from one
// stream; masks per example, independent of N, would need a generator per example in every
// engine). A model without noise never draws: its runs shuffle as one thread's do.
//
// The threads' engines: share_engine_t<Engine>, the Engine itself except for AutodiffEngine<M, C>,
// whose threads use chunks of C/2: at the article's batch of 10 and two threads a share is 5
// examples, which a chunk of 10 would run one at a time (35 µs for 784-100-10 where a chunk of 5
// takes 21 µs); on long shares chunks of 5 and of 10 cost the same per example.
//
// ParallelEvaluator<M>: count_correct over N shares of the dataset whose boundaries are
// multiples of the evaluator's chunk, so every example goes through the same program (chunk or
// single) as with one thread: the counts are exactly one thread's.
//
// ParallelEngine::step(net, d, examples, g, optimizer, s) is a whole training step in one hand-off:
// the shares' gradients as above, then (after a barrier) each thread k adds the buffers into g and
// applies the optimizer on its Slice{k, N} of every parameter tensor (optimizer.hpp's
// SlicedOptimizer). The update is spread over the threads and each slice of the parameters and
// of g is written by one core only, step after step; the result is bit for bit gradient()
// followed by optimizer.step(). On the rows of a first dense layer's weight that no share's inputs
// touched (InputRows, nn/gradients.hpp) every share's gradient is 0: there the threads neither add
// nor update (the sum's zeros may then differ in sign from gradient()'s, the parameters do not).
// That is Parallelism::examples.
//
// Parallelism::rows, step() only (expr/split.hpp): a model that starts with a dense layer on a
// vector input (784-30-10) spends nearly all its time on that layer's weight, whose gradient the
// threads of the examples mode each write whole and then add (313 KB each for 784-100-10, per
// step: at the article's batch of 10 that costs what the threads save). Instead every thread runs
// the whole batch and owns the rows of that weight in its Slice (cut at whole rows): its part of
// W¹ᵀx, exchanged with the others' at a barrier; its rows of ∂J/∂W¹, written into g; their
// update. Everything after W¹ᵀx is computed by every thread alike (thread 0's into g), so it is
// the default only when the first layer's weight holds ≥ split_share of the parameters; a
// thread's part of W¹ and of its gradient stays in its own core's cache. One barrier per chunk of
// the engine and one before the update; the result depends on N only (W¹ᵀx is summed per part),
// and the masks of dropout are one thread's (every thread draws the same from a copy of the
// caller's generator, which then moves on as with one thread). With SGD without L2 and a batch
// of one chunk, each thread applies the step to its own rows inside the backward sweep, as the
// trainer does on one thread (fuse(); simd::gemm_xtd_apply_rows; Options::fuse): g then does
// not hold the first layer's weight gradient.
//
// Neither allocates after construction.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "typegrad/data/dataset.hpp"
#include "typegrad/expr/noise.hpp"
#include "typegrad/expr/split.hpp"
#include "typegrad/nn/gradients.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/train/engine.hpp"
#include "typegrad/train/evaluate.hpp"
#include "typegrad/train/optimizer.hpp"
#include "typegrad/util/random.hpp"
#include "typegrad/util/thread_pool.hpp"

namespace typegrad::train {

/// Share k of m items among n: [first, last), contiguous, in order; the first m mod n shares
/// have one item more.
[[nodiscard]] constexpr std::pair<std::size_t, std::size_t> share(std::size_t m, std::size_t n, std::size_t k) noexcept {
    const std::size_t q = m / n, r = m % n;
    const std::size_t first = k * q + std::min(k, r);
    return {first, first + q + (k < r ? 1 : 0)};
}

/// The engine a thread of ParallelEngine<M, Engine> runs on its share (see above).
template <class Engine>
struct share_engine {
    using type = Engine;
};
template <AnyModel M, std::size_t C>
struct share_engine<AutodiffEngine<M, C>> {
    using type = AutodiffEngine<M, (C >= 2 ? C / 2 : 1)>;
};
template <class Engine>
using share_engine_t = typename share_engine<Engine>::type;

/// The engine every thread of Parallelism::rows runs on the whole batch: an AutodiffEngine, or
/// the one inside an engine that wraps one (`inner_type`: the CLI's dist::DataParallelEngine,
/// which the pool's threads never join to other processes, so that it is its inner engine);
/// void where rows cannot be split.
template <class Engine>
struct split_engine {
    using type = void;
};
template <AnyModel M, std::size_t C>
struct split_engine<AutodiffEngine<M, C>> {
    using type = AutodiffEngine<M, C>;
};
template <class Engine>
    requires requires { typename Engine::inner_type; }
struct split_engine<Engine> : split_engine<typename Engine::inner_type> {};
template <class Engine>
using split_engine_t = typename split_engine<Engine>::type;

/// The engine inside e that runs the program (split_engine_t<Engine>), or null when e sums its
/// gradient with other processes' (a joined dist::DataParallelEngine of several).
template <class Engine>
    requires(!std::is_void_v<split_engine_t<Engine>>)
split_engine_t<Engine>* whole_engine_of(Engine& e) noexcept {
    if constexpr (std::is_same_v<Engine, split_engine_t<Engine>>) {
        return &e;
    } else {
        if constexpr (requires { e.communicator()->size(); })
            if (e.communicator() != nullptr && e.communicator()->size() > 1) return nullptr;
        return whole_engine_of(e.inner());
    }
}

/// The storage of the first dense layer's weight (input_row_weight_v) in a model's parameters
/// or in its Gradients: what a split or fused first layer (expr/split.hpp) points at.
template <class T, class Tensors>
T* input_row_weight_data(Tensors& x) noexcept {
    T* data = nullptr;
    x.for_each_parameter([&](auto ref, auto& t) {
        if constexpr (input_row_weight_v<decltype(ref)>) data = t.data();
    });
    return data;
}

/// Whether a batch of `batch` examples is one program of engine E that can fuse SGD's step on
/// the first layer (exactly one chunk, of at most expr::max_fused_rows examples).
template <class E>
constexpr bool fusable_batch(std::size_t batch) noexcept {
    return batch == E::chunk && E::chunk <= expr::max_fused_rows;
}

/// How the threads of ParallelEngine::step share a step's work (see above).
enum class Parallelism {
    examples,  // each thread a share of the examples; the gradients summed
    rows,      // each thread all the examples, and its rows of a first dense layer's weight
};

template <AnyModel M, class Engine>
class ParallelEngine {
public:
    using T = typename M::value_type;
    using engine_type = share_engine_t<Engine>;  // what each thread runs
    static constexpr bool counts_correct =
        requires(engine_type e, const M& net, const data::Dataset& d, std::span<const std::size_t> examples, Gradients<M>& g,
                 std::size_t* c) { e.gradient(net, d, examples, g, c); };

    /// One Engine and one gradient buffer per thread of the pool (which must outlive this).
    explicit ParallelEngine(ThreadPool& pool)
        : pool_(pool), barrier_(pool.size()), slots_(pool.size()), partials_(pool.size() - 1) {
        for (auto& s : slots_) {
            s.engine = std::make_unique<engine_type>();
            if constexpr (lists_rows) s.rows.resize(M::input_width);
        }
        for (auto& p : partials_) {
            std::vector<Span> spans;
            p.for_each_parameter([&](auto, auto& t) { spans.push_back({t.data(), t.size()}); });
            partial_spans_.push_back(std::move(spans));
        }
        Gradients<M> probe;  // the parameter list, once, to size the target's span list
        probe.for_each_parameter([&](auto ref, auto& t) {
            if constexpr (input_row_weight_v<decltype(ref)>) rows_tensor_ = target_spans_.size();
            target_spans_.push_back({nullptr, t.size()});
        });
        if constexpr (can_split_rows) {
            // two threads or more, and whole rows for every thread
            if (pool.size() >= 2 && M::input_width * first_width / row_block >= pool.size()) {
                const std::size_t n = pool.size();
                whole_engines_.resize(n);
                exchange_.resize(2 * n);
                for (auto& e : whole_engines_) e = std::make_unique<whole_engine>();
                for (auto& b : exchange_) b.assign(whole_engine::chunk * first_width, T(0));
                for (auto& b : exchange_) exchange_pointers_.push_back(b.data());
                splits_.resize(n);
                for (std::size_t k = 0; k < n; ++k) {
                    auto& sp = splits_[k];
                    const auto [e0, e1] = Slice{k, n, row_block}.of(M::input_width * first_width);
                    sp.first = e0 / first_width;
                    sp.last = e1 / first_width;
                    sp.part = k;
                    sp.parts = n;
                    sp.exchange = exchange_pointers_.data();
                    sp.capacity = whole_engine::chunk * first_width;
                    sp.wait = [](void* b) noexcept { static_cast<SpinBarrier*>(b)->arrive_and_wait(); };
                    sp.barrier = &barrier_;
                    sp.input = whole_engines_[k]->X.data();
                }
            }
        }
    }

    /// Whether step() can split the rows of the first layer (Parallelism::rows): the model starts
    /// with a dense layer on a vector input, does not couple the examples of a batch, the engine
    /// is an AutodiffEngine, the pool has two threads or more, and that layer's weight has a slice
    /// of whole rows for every thread.
    [[nodiscard]] bool can_split() const noexcept { return !splits_.empty(); }
    /// How step() shares a batch of `batch` examples: as chosen with parallelism(p) if it was;
    /// by default Parallelism::rows when it can split rows, the first layer's weight holds at
    /// least `split_share` of the parameters (the rest is computed by every thread) and the batch
    /// has fewer than `rows_below` examples (every chunk of the engine computes that rest again,
    /// where sharing the examples pays for its sum of the gradients once per step);
    /// Parallelism::examples otherwise.
    [[nodiscard]] Parallelism parallelism(std::size_t batch) const noexcept {
        if (!can_split()) return Parallelism::examples;
        if (chosen_) return *chosen_;
        return first_share() >= split_share && batch < rows_below ? Parallelism::rows : Parallelism::examples;
    }
    /// Chooses how step() shares every batch (rows only where can_split()); returns the choice
    /// made.
    Parallelism parallelism(Parallelism p) noexcept {
        chosen_ = p;
        return can_split() ? p : Parallelism::examples;
    }
    /// Whether a rows step fuses an SGD step on the first layer's weight into its gradient, when
    /// the batch is one chunk of the engine (as the trainer does on one thread; Options::fuse):
    /// the same parameters, and g does not hold that weight's gradient. On by default.
    void fuse(bool on) noexcept { fuse_ = on; }
    /// The default's thresholds (see parallelism(batch)): measured on Zen 3 with 784-100-10
    /// (docs/benchmarks.md), rows 1.6× faster than one thread at batch 10 where sharing the
    /// examples is 1.1×, and no faster than sharing them at batch 100.
    static constexpr double split_share = 0.9;
    static constexpr std::size_t rows_below = 50;

    std::size_t threads() const noexcept { return pool_.size(); }
    /// The engine of thread k (share k).
    engine_type& engine(std::size_t k) noexcept { return *slots_[k].engine; }

    /// The summed gradient of `examples` of d into g, computed by the pool's threads; returns
    /// their summed cost.
    T gradient(const M& net, const data::Dataset& d, std::span<const std::size_t> examples, Gradients<M>& g) noexcept {
        return compute(net, d, examples, g, nullptr);
    }
    /// The same, adding the number of examples the forward passes classified correctly to *correct.
    T gradient(const M& net, const data::Dataset& d, std::span<const std::size_t> examples, Gradients<M>& g,
               std::size_t* correct) noexcept
        requires counts_correct
    {
        return compute(net, d, examples, g, correct);
    }

    /// One training step: the summed gradient of `examples` into g (as gradient()), then the
    /// optimizer's update of net with s, reduced and applied slice by slice by the pool's threads
    /// (see above). Returns the summed cost; with `correct` (and an engine that counts), adds the
    /// number of examples classified correctly. `next`: the examples of the next step, if known;
    /// thread k prefetches the images of its share of them into its core's cache. Throws what
    /// opt.begin_step throws, before anything is changed. `again`: g is the g of this engine's
    /// last step() and nothing has written it since (the trainer's promise, as to
    /// AutodiffEngine::gradient_again): with Parallelism::rows only the rows of the first layer's
    /// weight that step flagged are then cleared, not the whole matrix.
    template <class Opt>
        requires SlicedOptimizer<Opt, M>
    T step(M& net, const data::Dataset& d, std::span<const std::size_t> examples, Gradients<M>& g, Opt& opt,
           const Step& s, std::size_t* correct = nullptr, std::span<const std::size_t> next = {}, bool again = false) {
        if (examples.empty()) return T(0);
        opt.begin_step(net, s);
        if constexpr (!counts_correct) correct = nullptr;
        if constexpr (can_split_rows)
            if (parallelism(examples.size()) == Parallelism::rows)
                return split_step(net, d, examples, g, opt, s, correct, next, again);
        last_split_ = nullptr;
        const std::size_t n = pool_.size();
        const std::size_t active = std::min(n, examples.size());
        Rng* noise = seed_shares(active);
        point_at(g);
        pool_.run([&](std::size_t k) noexcept {
            const auto [p0, p1] = share(next.size(), n, k);
            for (std::size_t i = p0; i < p1; ++i) prefetch_example<M>(d, next[i]);
            one_share(k, active, net, d, examples, g, noise, correct != nullptr);
            barrier_.arrive_and_wait();  // every share's gradient is in its buffer
            const Slice slice{k, n};
            // the rows of the first dense layer's weight some share touched: the others are 0 in
            // every share's gradient, and are neither added nor updated (nn/gradients.hpp)
            Step mine = s;
            mine.input_rows = union_rows(k, active);
            if (active > 1) reduce_slice(active, slice, mine.input_rows);
            opt.step_slice(net, g, mine, slice);
        });
        return finish(g, active, noise, correct);
    }

private:
    struct Span {
        T* data;
        std::size_t size;
    };
    // one thread's state, a cache line apart from the others' (the results are written by the
    // threads while the others work)
    struct alignas(64) Slot {
        std::unique_ptr<engine_type> engine;
        Rng rng;
        Rng::State drawn_from{};  // rng's state before the share: whether it drew is a comparison
        T cost = 0;
        std::size_t correct = 0;
        std::vector<std::uint8_t> rows;  // union_rows' buffer
    };
    static constexpr bool lists_rows = requires(const engine_type& e) { e.input_rows(); };
    std::size_t rows_tensor_ = SIZE_MAX;  // the first dense layer's weight in target_spans_, if any

    // --- Parallelism::rows (expr/split.hpp) ---
    static constexpr bool can_split_rows =
        has_input_row_weight_v<M> && !std::is_void_v<split_engine_t<Engine>> && !couples_examples_v<M>;
    using whole_engine = split_engine_t<Engine>;
    // the first layer's width (its weight is input_width × first_width)
    static constexpr std::size_t first_width = [] {
        if constexpr (can_split_rows) return size_v<typename M::composition::template shape_at<1>>;
        else return std::size_t{1};
    }();
    // the slices' block: a multiple of 16 (Slice) and of a row of the first layer's weight
    static constexpr std::size_t row_block = std::lcm(std::size_t{16}, first_width);
    // the first layer's weight's share of the parameters
    static double first_share() noexcept {
        return static_cast<double>(M::input_width * first_width) / static_cast<double>(M::parameter_count);
    }

    // Every thread runs the whole batch with its InputSplit in scope: its rows of the first layer
    // (forward, weight gradient into g) and all the rest; thread 0's rest into g, the others' into
    // their buffers (the same values). After a barrier, thread k updates Slice{k, N} of every
    // tensor from g: for the first layer's weight, exactly its own rows.
    template <class Opt>
    T split_step(M& net, const data::Dataset& d, std::span<const std::size_t> examples, Gradients<M>& g, Opt& opt,
                 const Step& s, std::size_t* correct, std::span<const std::size_t> next, bool again) noexcept {
        const std::size_t n = pool_.size();
        // the engines' gradient_again: the rows each flagged in g at the last step are all that
        // is not 0 there, when that step was a rows step into the same g
        again = again && last_split_ == &g;
        last_split_ = &g;
        Rng* noise = expr::current_noise();
        for (std::size_t k = 0; k < n; ++k) {  // every thread draws the masks one thread would
            if (noise != nullptr) slots_[k].rng = *noise;
            slots_[k].cost = 0;
            slots_[k].correct = 0;
        }
        T* const dw = input_row_weight_data<T>(g);
        T* const w = input_row_weight_data<T>(net);
        // a batch that is one program of the engine, and an optimizer whose step on W¹ is
        // w − r·g: each thread applies it to its rows in the backward sweep (split.hpp)
        const double rate = fuse_ && fusable_batch<whole_engine>(examples.size()) ? first_layer_rate(opt, s) : 0.0;
        for (std::size_t k = 0; k < n; ++k) {
            splits_[k].weight = w;
            splits_[k].gradient = rate > 0 ? nullptr : dw;
            splits_[k].apply_to = rate > 0 ? w : nullptr;
            splits_[k].rate = static_cast<T>(rate);
            splits_[k].flags = whole_engines_[k]->seen.data();
            Gradients<M>& into = k == 0 ? g : partials_[k - 1];
            splits_[k].bound_gradient = input_row_weight_data<T>(into);
        }
        pool_.run([&](std::size_t k) noexcept {
            // the thread's rows of every image of the next step: all it will read of them
            for (const std::size_t i : next) prefetch_example<M>(d, i, splits_[k].first, splits_[k].last);
            Slot& sl = slots_[k];
            whole_engine& e = *whole_engines_[k];
            Gradients<M>& into = k == 0 ? g : partials_[k - 1];
            std::size_t* count = k == 0 && correct != nullptr ? &sl.correct : nullptr;
            {
                const expr::InputSplitScope<T> split(splits_[k]);
                if (noise != nullptr) {
                    const expr::NoiseScope scope(sl.rng);
                    sl.cost = whole_gradient(e, net, d, examples, into, count, again);
                } else {
                    sl.cost = whole_gradient(e, net, d, examples, into, count, again);
                }
            }
            barrier_.arrive_and_wait();  // g complete; every read of the parameters done
            Step mine = s;
            mine.input_rows = e.input_rows();
            mine.first_layer_applied = rate > 0;
            opt.step_slice(net, g, mine, Slice{k, n, row_block});
        });
        if (noise != nullptr) *noise = slots_[0].rng;
        if (correct != nullptr) *correct += slots_[0].correct;
        return slots_[0].cost;
    }
    template <class E>
    static T whole_gradient(E& e, const M& net, const data::Dataset& d, std::span<const std::size_t> examples,
                            Gradients<M>& g, std::size_t* correct, bool again) noexcept {
        return again ? e.gradient_again(net, d, examples, g, correct) : e.gradient(net, d, examples, g, correct);
    }

    static bool same(const Rng::State& a, const Rng::State& b) noexcept {
        return a.words[0] == b.words[0] && a.words[1] == b.words[1] && a.words[2] == b.words[2] &&
               a.words[3] == b.words[3] && a.has_spare == b.has_spare;
    }

    T compute(const M& net, const data::Dataset& d, std::span<const std::size_t> examples, Gradients<M>& g,
              std::size_t* correct) noexcept {
        last_split_ = nullptr;
        const std::size_t active = std::min(pool_.size(), examples.size());  // the shares with examples: 0 … active − 1
        Rng* noise = seed_shares(active);
        const auto job = [&](std::size_t k) noexcept { one_share(k, active, net, d, examples, g, noise, correct != nullptr); };
        if (active == 1) job(0);  // nothing to share: no hand-off
        else pool_.run(job);
        if (active > 1) reduce(g, active);
        return finish(g, active, noise, correct);
    }

    // With the caller's noise generator (a NoiseScope's), seeds each active share's own: one peek
    // of the caller's, plus k. Returns the caller's generator, or nullptr.
    Rng* seed_shares(std::size_t active) noexcept {
        Rng* noise = expr::current_noise();
        if (noise != nullptr) {
            Rng peek = *noise;
            const std::uint64_t seed = peek();
            for (std::size_t k = 0; k < active; ++k) {
                slots_[k].rng = Rng(seed + 0x9e3779b97f4a7c15ULL * k);
                slots_[k].drawn_from = slots_[k].rng.state();
            }
        }
        return noise;
    }

    // Share k's gradient: share 0 into g, share k ≥ 1 into partials_[k − 1].
    void one_share(std::size_t k, std::size_t active, const M& net, const data::Dataset& d,
                   std::span<const std::size_t> examples, Gradients<M>& g, Rng* noise, bool count) noexcept {
        Slot& s = slots_[k];
        s.cost = 0;
        s.correct = 0;
        if (k >= active) return;
        const auto [first, last] = share(examples.size(), pool_.size(), k);
        const auto mine = examples.subspan(first, last - first);
        Gradients<M>& into = k == 0 ? g : partials_[k - 1];
        if (noise != nullptr) {
            const expr::NoiseScope scope(s.rng);
            run_share(s, net, d, mine, into, count);
        } else {
            run_share(s, net, d, mine, into, count);
        }
    }

    // The shares' costs and counts summed in share order; the caller's generator advanced once if
    // any share drew; δᴸ of the batch's last example (the last share's) into g.
    T finish(Gradients<M>& g, std::size_t active, Rng* noise, std::size_t* correct) noexcept {
        T cost = 0;
        bool drew = false;
        for (std::size_t k = 0; k < active; ++k) {
            cost += slots_[k].cost;
            if (correct != nullptr) *correct += slots_[k].correct;
            if (noise != nullptr) drew |= !same(slots_[k].rng.state(), slots_[k].drawn_from);
        }
        if (drew) (*noise)();
        if (active > 1) copy_deltas(g, partials_[active - 2]);
        return cost;
    }

    static void run_share(Slot& s, const M& net, const data::Dataset& d, std::span<const std::size_t> examples,
                          Gradients<M>& g, bool count) noexcept {
        if constexpr (counts_correct) s.cost = s.engine->gradient(net, d, examples, g, count ? &s.correct : nullptr);
        else s.cost = s.engine->gradient(net, d, examples, g);
    }

    // g += partials_[0] + … + partials_[active − 2], element by element in that order; thread k
    // adds Slice{k, N} of every tensor (the slices the sliced update then applies).
    void reduce(Gradients<M>& g, std::size_t active) noexcept {
        point_at(g);
        pool_.run([&](std::size_t k) noexcept { reduce_slice(active, Slice{k, pool_.size()}); });
    }
    void point_at(Gradients<M>& g) noexcept {
        std::size_t p = 0;
        g.for_each_parameter([&](auto, auto& t) { target_spans_[p++].data = t.data(); });
    }
    void reduce_slice(std::size_t active, Slice slice, InputRows rows = {}) noexcept {
        for (std::size_t t = 0; t < target_spans_.size(); ++t) {
            const auto [lo, hi] = slice.of(target_spans_[t].size);
            T* dst = target_spans_[t].data;
            for (std::size_t s = 0; s + 1 < active; ++s) {
                const T* src = partial_spans_[s][t].data;
                if (t == rows_tensor_ && rows.known())
                    simd::add_rows(dst, src, rows.flags, rows.n, target_spans_[t].size / rows.n, lo, hi);
                else
                    for (std::size_t i = lo; i < hi; ++i) dst[i] += src[i];
            }
        }
    }
    // The OR of the active shares' InputRows, in thread k's buffer; nothing known when a share's
    // engine does not know its own.
    InputRows union_rows(std::size_t k, std::size_t active) noexcept {
        if constexpr (lists_rows) {
            auto& u = slots_[k].rows;
            for (std::size_t j = 0; j < active; ++j) {
                const InputRows r = slots_[j].engine->input_rows();
                if (!r.known() || r.n != u.size()) return {};
                if (j == 0) std::copy_n(r.flags, r.n, u.data());
                else simd::or_bytes(u.data(), r.flags, r.n);
            }
            return {u.data(), u.size()};
        } else {
            return {};
        }
    }
    static void copy_deltas(Gradients<M>& g, const Gradients<M>& from) noexcept {
        [&]<std::size_t... L>(std::index_sequence<L...>) {
            ((g.template delta<L>() = from.template delta<L>()), ...);
        }(std::make_index_sequence<M::layers>{});
    }

    ThreadPool& pool_;
    SpinBarrier barrier_;  // between the shares' gradients and the sliced update of step()
    std::vector<Slot> slots_;
    std::vector<Gradients<M>> partials_;            // of shares 1 … N − 1
    std::vector<std::vector<Span>> partial_spans_;  // their parameters' storage
    std::vector<Span> target_spans_;                // the caller's, filled at every step
    // Parallelism::rows: every thread's engine (whole chunks), exchange buffers and split
    std::vector<std::unique_ptr<std::conditional_t<can_split_rows, whole_engine, int>>> whole_engines_;
    std::vector<std::vector<T>> exchange_;
    std::vector<T*> exchange_pointers_;
    std::vector<expr::InputSplit<T>> splits_;
    std::optional<Parallelism> chosen_;  // parallelism(p)
    const Gradients<M>* last_split_ = nullptr;  // the g of the last step, if it split rows
    bool fuse_ = true;
};

/// Evaluation by the threads of a pool: the counts are one thread's exactly.
template <AnyModel M, std::size_t Chunk = 10>
class ParallelEvaluator {
public:
    explicit ParallelEvaluator(ThreadPool& pool) : pool_(pool), evaluators_(pool.size()) {
        for (auto& e : evaluators_) e.evaluator = std::make_unique<Evaluator<M, Chunk>>();
    }

    /// Number of examples of d whose predicted class equals the label.
    std::size_t count_correct(const M& net, const data::Dataset& d) { return evaluate(net, d).correct; }

    /// The scores of d: the counts are one thread's exactly; the sums of the cost and errors add
    /// the shares' sums in order (so they may differ from one thread's in the last bits).
    Scores evaluate(const M& net, const data::Dataset& d) {
        // whole chunks shared out; the examples after the last whole chunk go with the last share,
        // one at a time as with one thread
        const std::size_t chunks = d.size() / Chunk;
        pool_.run([&](std::size_t k) noexcept {
            const auto [c0, c1] = share(chunks, pool_.size(), k);
            const std::size_t last = k + 1 == pool_.size() ? d.size() : c1 * Chunk;
            evaluators_[k].scores = evaluators_[k].evaluator->evaluate(net, d, c0 * Chunk, last);
        });
        Scores s;
        for (const auto& e : evaluators_) s += e.scores;
        return s;
    }

private:
    struct alignas(64) Slot {
        std::unique_ptr<Evaluator<M, Chunk>> evaluator;
        Scores scores;
    };
    ThreadPool& pool_;
    std::vector<Slot> evaluators_;
};

}  // namespace typegrad::train
