// Writes the seed corpora for the fuzzers (run by scripts/fuzz.sh; nothing binary is committed):
//   DIR/fuzz_idx/         tiny valid IDX image and label files, plain and gzip (one and two members)
//   DIR/fuzz_checkpoint/  tiny valid checkpoints made by serialize_checkpoint (float and double;
//                         version 3 with momentum, Nesterov and Adam state too)
//   DIR/fuzz_resume/      checkpoints of the 4-3-2 networks fuzz_resume trains, with SGD and with
//                         the state of momentum, Nesterov and Adam after two real steps
// Usage: fuzz_make_seeds DIR
#include "tiny_network.hpp"
#include "typegrad/io/checkpoint_file.hpp"
#include "typegrad/train/optimizer.hpp"

#include <zlib.h>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Bytes = std::vector<unsigned char>;

namespace {

void put_u32(Bytes& b, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<unsigned char>(v >> shift));
}

Bytes idx(std::uint8_t dims_count, const std::vector<std::uint32_t>& dims, const Bytes& payload) {
    Bytes b{0, 0, 0x08, dims_count};
    for (const auto d : dims) put_u32(b, d);
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

void write_plain(const fs::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

/// bytes as gzip members of `pieces` parts (several members: what `cat a.gz b.gz` makes).
void write_gzip(const fs::path& path, const Bytes& bytes, std::size_t pieces = 1) {
    std::remove(path.c_str());
    const std::size_t step = (bytes.size() + pieces - 1) / pieces;
    for (std::size_t at = 0; at < bytes.size(); at += step) {
        gzFile f = gzopen(path.c_str(), "ab9");
        if (f == nullptr) throw std::runtime_error("cannot gzopen " + path.string());
        const auto n = static_cast<unsigned>(std::min(step, bytes.size() - at));
        const int written = gzwrite(f, bytes.data() + at, n);
        if (gzclose(f) != Z_OK || written != static_cast<int>(n)) throw std::runtime_error("cannot gzwrite " + path.string());
    }
}

/// The state a built-in optimizer saves for `n` parameters of T (state.hpp): none for SGD, a
/// velocity each for momentum and Nesterov, the step count then two moments each for Adam.
template <class T>
Bytes optimizer_state(const std::string& optimizer, std::size_t n) {
    Bytes b;
    const auto put = [&](auto bits) {
        for (std::size_t i = 0; i < sizeof bits; ++i) b.push_back(static_cast<unsigned char>(bits >> (8 * i)));
    };
    if (optimizer == "adam") put(std::uint64_t{7});
    const std::size_t values = optimizer == "sgd" ? 0 : optimizer == "adam" ? 2 * n : n;
    for (std::size_t k = 0; k < values; ++k) put(std::bit_cast<typegrad::fuzz::bits_of<T>>(static_cast<T>(0.125 * k)));
    return b;
}

/// version 3 with a validation history (a run halved once, best at epoch 1), or an older
/// version; with the state of `optimizer` (version 2 and later).
Bytes checkpoint(const std::string& element_type, std::size_t element_bytes, bool has_spare,
                 std::uint32_t version = typegrad::io::checkpoint_version, const std::string& optimizer = "sgd") {
    typegrad::io::CheckpointHeader h;
    h.version = version;
    h.element_type = element_type;
    h.widths = {3, 2, 2, 1, 1};  // input<3> | dense<2> | sigmoid | dense<1> | sigmoid
    h.parameter_layers = {0, 2};
    h.layers = "input<3> | dense<2> | σ | dense<1> | σ";
    h.cost = "quadratic";
    h.training = "fuzz seed";
    h.epochs_done = 2;
    typegrad::Rng rng(7);
    if (has_spare) (void)rng.normal();
    h.rng = rng.state();
    if (version >= 3) {
        h.best_epoch = 1;
        h.best_accuracy = 0.5;
        h.epochs_without_improvement = 1;
        h.epochs_since_halving = 0;
        h.halvings = 1;
        h.eta = 1.5;
    }
    h.parameter_sizes = {3 * 2, 2, 2 * 1, 1};  // W₀, b₀, W₁, b₁ (written from version 2 on; the seeds had none
                                              // before issue 18, and stopped at "sizes are missing")
    constexpr std::size_t parameters = 3 * 2 + 2 + 2 * 1 + 1;
    h.optimizer = optimizer;
    h.optimizer_state = element_bytes == 4 ? optimizer_state<float>(optimizer, parameters)
                                           : optimizer_state<double>(optimizer, parameters);
    Bytes payload(parameters * element_bytes);
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<unsigned char>(i * 29 + 3);
    return typegrad::io::serialize_checkpoint(h, payload);
}

/// A checkpoint of fuzz_resume's 4-3-2 network with a generator that has drawn a little, and the
/// state of `optimizer` after two steps of a made-up gradient.
template <class T>
Bytes tiny_checkpoint(typegrad::train::AnyOptimizer optimizer = typegrad::train::Sgd{}) {
    using M = typegrad::fuzz::Tiny<T>;
    M net{3};
    typegrad::Gradients<M> g;
    T x = T(-1);
    g.for_each_parameter([&](auto, auto& t) {
        for (auto& v : t) v = x += T(0.375);
    });
    for (int step = 0; step < 2; ++step) optimizer.step(net, g, {.eta = 0.5, .batch = 2, .training_examples = 6});
    typegrad::io::CheckpointHeader h = typegrad::fuzz::tiny_header<T>();
    h.training = "fuzz seed";
    h.epochs_done = 1;
    typegrad::Rng rng(3);
    for (int i = 0; i < 5; ++i) (void)rng.below(6);
    h.rng = rng.state();
    h.optimizer = optimizer.name();
    h.optimizer_state = optimizer.state();
    return typegrad::io::serialize_checkpoint(h, typegrad::fuzz::tiny_payload<T>(net));
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const fs::path dir = argv[1];
    const fs::path idx_dir = dir / "fuzz_idx";
    const fs::path ck_dir = dir / "fuzz_checkpoint";
    fs::create_directories(idx_dir);
    fs::create_directories(ck_dir);

    const Bytes pixels{0, 255, 128, 1, 2, 3, 10, 20, 30, 40, 50, 60, 254, 253, 252, 251, 250, 249};
    const Bytes images = idx(3, {3, 2, 3}, pixels);
    const Bytes labels = idx(1, {3}, {7, 0, 9});
    write_plain(idx_dir / "seed-images", images);
    write_plain(idx_dir / "seed-labels", labels);
    write_gzip(idx_dir / "seed-images.gz", images);
    write_gzip(idx_dir / "seed-labels.gz", labels);
    write_gzip(idx_dir / "seed-images-2-members.gz", images, 2);
    write_plain(idx_dir / "seed-one-image-1x1", idx(3, {1, 1, 1}, {42}));

    write_plain(ck_dir / "seed-float.tgck", checkpoint("float", 4, false));
    write_plain(ck_dir / "seed-double-spare.tgck", checkpoint("double", 8, true));
    write_plain(ck_dir / "seed-float-v2.tgck", checkpoint("float", 4, false, 2));
    write_plain(ck_dir / "seed-float-momentum.tgck", checkpoint("float", 4, false, 3, "momentum"));
    write_plain(ck_dir / "seed-double-nesterov.tgck", checkpoint("double", 8, true, 3, "nesterov"));
    write_plain(ck_dir / "seed-float-adam.tgck", checkpoint("float", 4, true, 3, "adam"));
    write_plain(ck_dir / "seed-double-adam.tgck", checkpoint("double", 8, false, 3, "adam"));
    const fs::path resume_dir = dir / "fuzz_resume";
    fs::create_directories(resume_dir);
    write_plain(resume_dir / "seed-float.tgck", tiny_checkpoint<float>());
    write_plain(resume_dir / "seed-double.tgck", tiny_checkpoint<double>());
    typegrad::train::Momentum nesterov;
    nesterov.nesterov = true;
    write_plain(resume_dir / "seed-float-momentum.tgck", tiny_checkpoint<float>(typegrad::train::Momentum{}));
    write_plain(resume_dir / "seed-double-nesterov.tgck", tiny_checkpoint<double>(nesterov));
    write_plain(resume_dir / "seed-float-adam.tgck", tiny_checkpoint<float>(typegrad::train::Adam{}));
    write_plain(resume_dir / "seed-double-adam.tgck", tiny_checkpoint<double>(typegrad::train::Adam{}));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_make_seeds: %s\n", e.what());
    return 1;
}
