// Checkpoint files: round trips, every kind of damage, mismatched networks, atomic writes, and
// that a diverged run never overwrites the last good checkpoint.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "typegrad/data/dataset.hpp"
#include "typegrad/io/checkpoint.hpp"
#include "typegrad/nn/layers.hpp"
#include "typegrad/nn/model.hpp"
#include "typegrad/train/sgd.hpp"

using namespace typegrad;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<unsigned char>;

/// A fresh directory under the system's temporary directory, removed at the end of the test.
struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() /
               ("typegrad-test-checkpoint-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path, ec);
    }
    static int& counter() {
        static int n = 0;
        return n;
    }
};

Bytes read_bytes(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& p, const Bytes& b) {
    std::ofstream f(p, std::ios::binary);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

/// The message of the CheckpointError that parsing `bytes` throws ("" if it does not throw).
std::string parse_error(const Bytes& bytes) {
    try {
        io::parse_checkpoint(bytes, "x.tgck");
    } catch (const io::CheckpointError& e) {
        return e.what();
    }
    return "";
}

bool same_state(const train::TrainerState& a, const train::TrainerState& b) {
    return a.epochs_done == b.epochs_done && std::equal(std::begin(a.rng.words), std::end(a.rng.words), b.rng.words) &&
           std::bit_cast<std::uint64_t>(a.rng.spare) == std::bit_cast<std::uint64_t>(b.rng.spare) &&
           a.rng.has_spare == b.rng.has_spare && a.optimizer == b.optimizer && a.optimizer_state == b.optimizer_state &&
           a.monitor == b.monitor && std::bit_cast<std::uint64_t>(a.eta) == std::bit_cast<std::uint64_t>(b.eta);
}

/// Every parameter of a and b has the same bits.
template <class M>
bool same_parameters(const M& a, const M& b) {
    return io::checkpoint_payload(a) == io::checkpoint_payload(b);
}

/// A state with every field set to something recognisable.
train::TrainerState some_state(std::size_t epochs) {
    Rng rng(77);
    rng.normal();  // leaves a spare deviate
    train::TrainerState s{epochs, rng.state(), "sgd", {}, {}, 0.0};
    if (epochs >= 2) {  // a validation history: best at epoch epochs - 1, halved twice
        s.monitor = {.best_epoch = epochs - 1, .best_accuracy = 0.9375, .epochs_without_improvement = 1,
                     .epochs_since_halving = 1, .halvings = 2};
        s.eta = 0.75;
    }
    return s;
}

data::Dataset tiny(std::size_t n, std::size_t width, std::size_t classes, std::uint64_t seed) {
    data::Dataset d;
    d.rows = 1;
    d.cols = width;
    Rng rng(seed);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t k = 0; k < width; ++k) d.pixels.push_back(static_cast<std::uint8_t>(rng.below(256)));
        d.labels.push_back(static_cast<std::uint8_t>(rng.below(classes)));
    }
    return d;
}

using Small = Network<float, 9, 5, 3>;
using SmallWide = Network<float, 9, 6, 3>;
using SmallDouble = Network<double, 9, 5, 3>;
using SmallTanh = Model<float, decltype(input<9> | dense<5> | tanh_ | dense<3> | sigmoid)>;
using SmallCrossEntropy = Model<float, sigmoid_mlp_t<9, 5, 3>, cost::CrossEntropy>;
using Deep = Model<double, decltype(input<12> | dense<7> | tanh_ | dense<4> | relu | dense<2> | softmax), cost::LogLikelihood>;

// Offsets in a version-1 file of a float network (see checkpoint_file.hpp).
constexpr std::size_t version_offset = 8;
constexpr std::size_t element_type_offset = 12;  // its u32 length; "float" follows
constexpr std::size_t widths_offset = 12 + 4 + 5;

void put_u32(Bytes& b, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<unsigned char>(v >> (8 * i));
}

}  // namespace

// --- round trips -------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("a saved checkpoint loads back bit for bit, with the trainer's state", "[io][roundtrip]", Small,
                   SmallDouble, Deep, (Network<float, 784, 30, 10>), (Network<double, 784, 60, 30, 10>)) {
    using M = TestType;
    TempDir dir;
    const fs::path file = dir.path / "run.tgck";
    const M net{5};
    const auto state = some_state(17);
    io::save_checkpoint(file, net, state, "batch 10, eta 3");

    M loaded{6};
    REQUIRE_FALSE(same_parameters(net, loaded));
    const train::TrainerState restored = io::load_checkpoint(file, loaded);
    CHECK(same_parameters(net, loaded));
    CHECK(same_state(restored, state));
    CHECK(restored.rng.has_spare);

    const auto image = io::read_checkpoint_file(file);
    CHECK(image.header.training == "batch 10, eta 3");
    CHECK(image.header.epochs_done == 17);
    CHECK(image.header.payload_bytes == M::parameter_count * sizeof(typename M::value_type));
    CHECK(fs::file_size(file) == io::checkpoint_bytes(net, state, "batch 10, eta 3").size());
    CHECK_FALSE(fs::exists(fs::path(file.string() + ".tmp-" + std::to_string(::getpid()))));
}

TEST_CASE("the header describes the network's type", "[io][header]") {
    const auto h = io::checkpoint_header<Network<float, 784, 30, 10>>();
    CHECK(h.element_type == "float");
    CHECK(h.widths == std::vector<std::uint64_t>{784, 30, 30, 10, 10});
    CHECK(h.parameter_layers == std::vector<std::uint64_t>{0, 2});
    CHECK(h.layers == "input<784> | dense<30> | σ | dense<10> | σ");
    CHECK(h.cost == "quadratic");
    CHECK(h.payload_bytes == (784 * 30 + 30 + 30 * 10 + 10) * 4);
    CHECK(io::describe_network(h) == "784-30-10 float network");

    const auto d = io::checkpoint_header<Deep>();
    CHECK(d.layers == "input<12> | dense<7> | tanh | dense<4> | relu | dense<2> | softmax");
    CHECK(d.cost == "log-likelihood");
    CHECK(io::describe_network(d) == "12-7-4-2 double network");
}

TEST_CASE("the same model and state give the same bytes; the layout is as documented", "[io][format]") {
    const Small net{3};
    const auto state = some_state(2);
    const Bytes a = io::checkpoint_bytes(net, state, "note");
    const Bytes b = io::checkpoint_bytes(Small{3}, state, "note");
    CHECK(a == b);
    REQUIRE(a.size() > 40);
    CHECK(std::equal(a.begin(), a.begin() + 8, io::checkpoint_magic));
    CHECK(std::string(a.begin(), a.begin() + 8) == std::string("TGCKPT\r\n"));
    CHECK(a[version_offset] == 3);
    CHECK(a[version_offset + 1] == 0);
    CHECK(a[element_type_offset] == 5);
    CHECK(std::string(a.begin() + 16, a.begin() + 21) == "float");
    CHECK(a[widths_offset] == 5);  // 9, 5, 5, 3, 3

    // The payload ends 4 bytes before the end: the last bias, little-endian.
    const float last_bias = net.biases<1>()[2];
    const auto bits = std::bit_cast<std::uint32_t>(last_bias);
    for (int i = 0; i < 4; ++i)
        CHECK(a[a.size() - 8 + static_cast<std::size_t>(i)] == static_cast<unsigned char>(bits >> (8 * i)));
}

// --- damaged files ---------------------------------------------------------------------------

TEST_CASE("every flipped byte is found; in the payload and checksum it is a checksum mismatch", "[io][corrupt]") {
    const Bytes good = io::checkpoint_bytes(Small{1}, some_state(4), "note");
    REQUIRE(parse_error(good).empty());
    const std::size_t payload_start = good.size() - 4 - Small::parameter_count * sizeof(float);
    for (std::size_t i = 0; i < good.size(); ++i) {
        for (unsigned char mask : {0x01, 0x80, 0xff}) {
            Bytes bad = good;
            bad[i] ^= mask;
            const std::string e = parse_error(bad);
            INFO("byte " << i << " ^ " << int(mask) << ": " << e);
            REQUIRE(e.rfind("x.tgck: ", 0) == 0);
            if (i >= payload_start) REQUIRE(e == "x.tgck: checksum mismatch: the file is corrupted");
        }
    }
}

TEST_CASE("a truncated file says so, at every length", "[io][corrupt]") {
    const Bytes good = io::checkpoint_bytes(Small{1}, some_state(4), "note");
    CHECK(parse_error(Bytes{}) == "x.tgck: the file is empty, not a typegrad checkpoint");
    for (std::size_t n = 1; n < good.size(); ++n) {
        const std::string e = parse_error(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)));
        INFO("first " << n << " of " << good.size() << " bytes: " << e);
        REQUIRE(e.rfind("x.tgck: truncated", 0) == 0);
    }
    const auto at = [&](std::size_t n) { return parse_error(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n))); };
    CHECK(at(5) == "x.tgck: truncated: 5 bytes, inside the magic number");
    CHECK(at(10) == "x.tgck: truncated: the file ends inside the header (10 bytes, reading the format version)");
    CHECK(at(14) == "x.tgck: truncated: the file ends inside the header (14 bytes, reading the element type)");
    CHECK(at(18) == "x.tgck: truncated or corrupted: the element type (5 bytes) does not fit in the 2 bytes that follow");
    CHECK(at(good.size() - 100) == "x.tgck: truncated: the payload is " + std::to_string(Small::parameter_count * 4) +
                                       " bytes but only " +
                                       std::to_string(Small::parameter_count * 4 + 4 - 100) +
                                       " bytes follow the header");
    CHECK(at(good.size() - 1) == "x.tgck: truncated: the checksum after the payload is missing (3 of 4 bytes)");
}

TEST_CASE("files that are not checkpoints, or of another version", "[io][corrupt]") {
    Bytes text(100, 'x');
    CHECK(parse_error(text) == "x.tgck: not a typegrad checkpoint (bad magic number)");
    CHECK(parse_error(Bytes{'T', 'G', 'X'}) == "x.tgck: not a typegrad checkpoint (bad magic number)");

    Bytes v7 = io::checkpoint_bytes(Small{1}, {}, "");
    put_u32(v7, version_offset, 7);
    CHECK(parse_error(v7) == "x.tgck: checkpoint version 7, this build reads versions 1 to 4");
    // A version-7 header written properly (its checksum right) is refused just the same.
    io::CheckpointHeader h = io::checkpoint_header<Small>();
    h.version = 7;
    CHECK(parse_error(io::serialize_checkpoint(h, io::checkpoint_payload(Small{1}))) ==
          "x.tgck: checkpoint version 7, this build reads versions 1 to 4");
}

TEST_CASE("lengths are checked against the bytes left before they are used", "[io][corrupt]") {
    const Bytes good = io::checkpoint_bytes(Small{1}, {}, "");
    Bytes huge_string = good;
    put_u32(huge_string, element_type_offset, 0xffffffffu);
    CHECK(parse_error(huge_string) == "x.tgck: truncated or corrupted: the element type (4294967295 bytes) does not fit in the " +
                                          std::to_string(good.size() - 16) + " bytes that follow");
    Bytes huge_list = good;
    put_u32(huge_list, widths_offset, 0x40000000u);
    CHECK(parse_error(huge_list) == "x.tgck: truncated or corrupted: the widths (1073741824 entries, 8589934592 bytes) do not fit in the " +
                                        std::to_string(good.size() - widths_offset - 4) + " bytes that follow");
    // A payload size that runs past the end.
    io::CheckpointHeader h = io::checkpoint_header<Small>();
    Bytes big = io::serialize_checkpoint(h, io::checkpoint_payload(Small{1}));
    const std::size_t size_at = big.size() - 4 - Small::parameter_count * 4 - 8;
    for (int i = 0; i < 8; ++i) big[size_at + static_cast<std::size_t>(i)] = 0xff;
    CHECK(parse_error(big).rfind("x.tgck: truncated: the payload is 18446744073709551615 bytes but only", 0) == 0);

    Bytes trailing = good;
    trailing.push_back(0);
    trailing.push_back(0);
    CHECK(parse_error(trailing) == "x.tgck: corrupted: 2 unexpected bytes after the end of the checkpoint");
}

TEST_CASE("a well-formed file whose header does not fit its payload is refused", "[io][corrupt]") {
    const Bytes payload = io::checkpoint_payload(Small{1});
    io::CheckpointHeader h = io::checkpoint_header<Small>();

    io::CheckpointHeader half = h;
    half.element_type = "half";
    CHECK(parse_error(io::serialize_checkpoint(half, payload)) ==
          "x.tgck: unknown element type 'half' (this build reads float and double)");

    const Bytes short_payload(payload.begin(), payload.end() - 4);
    CHECK(parse_error(io::serialize_checkpoint(h, short_payload)) ==
          "x.tgck: the payload is 268 bytes, but a 9-5-3 float network has 68 parameters (272 bytes)");

    io::CheckpointHeader as_double = h;
    as_double.element_type = "double";
    CHECK(parse_error(io::serialize_checkpoint(as_double, payload)) ==
          "x.tgck: the payload is 272 bytes, but a 9-5-3 double network has 68 parameters (544 bytes)");

    io::CheckpointHeader bad_positions = h;
    bad_positions.parameter_layers = {0, 9};
    CHECK(parse_error(io::serialize_checkpoint(bad_positions, payload)) ==
          "x.tgck: invalid header: the positions of the layers with parameters do not fit the 4 layers");

    io::CheckpointHeader overflow = h;
    overflow.parameter_sizes = {std::uint64_t{1} << 62, std::uint64_t{1} << 62, std::uint64_t{1} << 62, std::uint64_t{1} << 62};
    CHECK(parse_error(io::serialize_checkpoint(overflow, payload)) ==
          "x.tgck: invalid header: a 9-5-3 float network has more than 2^64 bytes of parameters");

    io::CheckpointHeader overflow_v1 = h;  // version 1: the sizes follow from the widths
    overflow_v1.version = 1;
    overflow_v1.widths = {std::uint64_t{1} << 40, std::uint64_t{1} << 40};
    overflow_v1.parameter_layers = {0};
    CHECK(parse_error(io::serialize_checkpoint(overflow_v1, payload)) ==
          "x.tgck: invalid header: a 1099511627776-1099511627776 float network has more than 2^64 bytes of parameters");

    io::CheckpointHeader no_sizes = h;
    no_sizes.parameter_sizes = {};
    CHECK(parse_error(io::serialize_checkpoint(no_sizes, payload)) ==
          "x.tgck: invalid header: the parameter tensors' sizes are missing or 0");

    io::CheckpointHeader other_sizes = h;  // a layer of another kind with as many parameters
    other_sizes.parameter_sizes = {5, 45, 3, 15};
    CHECK(io::parse_checkpoint(io::serialize_checkpoint(other_sizes, payload), "x.tgck").header.parameter_sizes ==
          std::vector<std::uint64_t>{5, 45, 3, 15});
    Small net{2};
    CHECK_THROWS_WITH(io::restore_checkpoint(io::parse_checkpoint(io::serialize_checkpoint(other_sizes, payload), "x.tgck"), net,
                                             "x.tgck"),
                      Catch::Contains("x.tgck: holds a 9-5-3 float network"));
}

TEST_CASE("a checkpoint of version 1 (written before layers had named parameters) still loads", "[io][format]") {
    const Small net{5};
    const auto state = some_state(4);
    io::CheckpointHeader h = io::checkpoint_header<Small>(state, "old");
    h.version = 1;  // the version 1 layout: no parameter sizes, no optimizer
    const Bytes v1 = io::serialize_checkpoint(h, io::checkpoint_payload(net));
    CHECK(v1.size() + 4 + 4 * 8 + 4 + 3 + 4 + 6 * 8 == io::checkpoint_bytes(net, state, "old").size());
    const io::CheckpointImage image = io::parse_checkpoint(v1, "old.tgck");
    CHECK(image.header.version == 1);
    CHECK(image.header.parameter_sizes == std::vector<std::uint64_t>{45, 5, 15, 3});
    CHECK(image.header.optimizer == "sgd");
    Small loaded{9};
    const train::TrainerState restored = io::restore_checkpoint(image, loaded, "old.tgck");
    CHECK(same_parameters(net, loaded));
    train::TrainerState without_history = state;  // version 1 has no validation monitor
    without_history.monitor = {};
    without_history.eta = 0.0;
    CHECK(same_state(restored, without_history));
}

TEST_CASE("a checkpoint of version 2 (before the validation monitor) loads with no validation history", "[io][format]") {
    const Small net{5};
    const auto state = some_state(4);
    REQUIRE(state.monitor.best_epoch == 3);
    io::CheckpointHeader h = io::checkpoint_header<Small>(state, "v2");
    h.version = 2;
    const Bytes v2 = io::serialize_checkpoint(h, io::checkpoint_payload(net));
    CHECK(v2.size() + 6 * 8 == io::checkpoint_bytes(net, state, "v2").size());
    const io::CheckpointImage image = io::parse_checkpoint(v2, "v2.tgck");
    CHECK(image.header.version == 2);
    CHECK(image.header.best_epoch == 0);
    Small loaded{9};
    const train::TrainerState restored = io::restore_checkpoint(image, loaded, "v2.tgck");
    CHECK(same_parameters(net, loaded));
    CHECK(restored.monitor == train::MonitorState{});
    CHECK(restored.optimizer == "sgd");
    CHECK(restored.epochs_done == 4);
}

TEST_CASE("the validation monitor's state is kept, and refused when no trainer can have written it", "[io][format]") {
    const Small net{5};
    const auto state = some_state(6);
    const io::CheckpointImage image = io::parse_checkpoint(io::checkpoint_bytes(net, state, "m"), "m.tgck");
    CHECK(image.header.version == 3);
    CHECK(image.header.best_epoch == 5);
    CHECK(image.header.halvings == 2);
    Small loaded{9};
    CHECK(same_state(io::restore_checkpoint(image, loaded, "m.tgck"), state));

    const auto refused = [&](auto change) {
        io::CheckpointHeader h = io::checkpoint_header<Small>(state, "m");
        change(h);
        try {
            (void)io::parse_checkpoint(io::serialize_checkpoint(h, io::checkpoint_payload(net)), "m.tgck");
            return std::string("accepted");
        } catch (const io::CheckpointError& e) {
            return std::string(e.what());
        }
    };
    CHECK(refused([](io::CheckpointHeader& h) { h.best_epoch = 7; }) ==
          "m.tgck: invalid header: the validation monitor's epochs (best 7, 1 and 1 without improvement) do not fit "
          "the 6 epochs done");
    CHECK(refused([](io::CheckpointHeader& h) { h.epochs_since_halving = 2; }).find("do not fit the 6 epochs done") !=
          std::string::npos);
    const std::string bad_score = "m.tgck: invalid header: the best validation score is neither an accuracy in [0, 1] "
                                  "nor a regression's negated MSE (finite, <= 0)";
    CHECK(refused([](io::CheckpointHeader& h) { h.best_accuracy = 1.5; }) == bad_score);
    CHECK(refused([](io::CheckpointHeader& h) { h.best_accuracy = std::nan(""); }) == bad_score);
    CHECK(refused([](io::CheckpointHeader& h) { h.best_accuracy = -INFINITY; }) == bad_score);
    CHECK(refused([](io::CheckpointHeader& h) { h.best_accuracy = -2913.5; }) == "accepted");  // a regression's
    CHECK(refused([](io::CheckpointHeader& h) { h.halvings = 1001; }) ==
          "m.tgck: invalid header: the learning rate was halved 1001 times (at most 1000)");
    CHECK(refused([](io::CheckpointHeader& h) { h.eta = -1.0; }) ==
          "m.tgck: invalid header: the learning rate is not a finite number >= 0");
    CHECK(refused([](io::CheckpointHeader& h) { h.eta = 1.0; }) == "accepted");
}

TEST_CASE("random damage is always refused with a CheckpointError, never read out of bounds", "[io][corrupt]") {
    // Run under TYPEGRAD_SANITIZE=ON to have AddressSanitizer check the bounds as well.
    const Bytes good = io::checkpoint_bytes(Network<float, 6, 4, 3>{1}, some_state(2), "note");
    Rng rng(99);
    for (int round = 0; round < 5000; ++round) {
        Bytes bad = good;
        switch (rng.below(4)) {
            case 0:  // a few bytes changed
                for (std::uint64_t k = 1 + rng.below(4); k > 0; --k) bad[rng.below(bad.size())] ^= static_cast<unsigned char>(1 + rng.below(255));
                break;
            case 1:  // a header byte set to an extreme
                bad[8 + rng.below(120)] = rng.below(2) ? 0xff : 0x00;
                break;
            case 2:  // cut short, and maybe a byte changed
                bad.resize(rng.below(bad.size()));
                if (!bad.empty() && rng.below(2)) bad[rng.below(bad.size())] ^= 0x55;
                break;
            default:  // random bytes after a valid magic and version
                bad.resize(12 + rng.below(300));
                for (std::size_t i = 12; i < bad.size(); ++i) bad[i] = static_cast<unsigned char>(rng.below(256));
                break;
        }
        if (bad == good) continue;
        INFO("round " << round);
        CHECK_THROWS_AS(io::parse_checkpoint(bad, "x"), io::CheckpointError);
    }
}

// --- mismatched networks ---------------------------------------------------------------------

namespace {
/// Saves a network of type Saved, loads it into a network of type Loaded and returns the error;
/// checks that the loaded-into network is unchanged.
template <class Saved, class Loaded>
std::string load_error() {
    TempDir dir;
    const fs::path file = dir.path / "run.tgck";
    io::save_checkpoint(file, Saved{1}, some_state(3));
    Loaded net{2};
    const Loaded before = net;
    try {
        io::load_checkpoint(file, net);
    } catch (const io::CheckpointError& e) {
        CHECK(same_parameters(net, before));
        return std::string(e.what()).substr(file.string().size());
    }
    return "";
}
}  // namespace

TEST_CASE("loading into another network is refused, naming both; the model is untouched", "[io][mismatch]") {
    CHECK(load_error<Small, SmallWide>() == ": holds a 9-5-3 float network, this is a 9-6-3 float network");
    CHECK(load_error<Small, SmallDouble>() == ": holds a 9-5-3 float network, this is a 9-5-3 double network");
    CHECK(load_error<Network<double, 784, 100, 10>, Network<float, 784, 30, 10>>() ==
          ": holds a 784-100-10 double network, this is a 784-30-10 float network");
    CHECK(load_error<Small, SmallTanh>() ==
          ": holds a 9-5-3 float network (input<9> | dense<5> | σ | dense<3> | σ), this is a 9-5-3 float network "
          "(input<9> | dense<5> | tanh | dense<3> | σ)");
    CHECK(load_error<Small, SmallCrossEntropy>() ==
          ": holds a 9-5-3 float network with quadratic cost, this is a 9-5-3 float network with cross-entropy cost");
    CHECK(load_error<Small, Deep>().rfind(": holds a 9-5-3 float network (input<9>", 0) == 0);
    CHECK(load_error<Small, Small>().empty());
    CHECK(io::holds<Small>(io::checkpoint_header<Small>()));
    CHECK_FALSE(io::holds<SmallDouble>(io::checkpoint_header<Small>()));
}

TEST_CASE("a damaged file leaves the model untouched", "[io][mismatch]") {
    TempDir dir;
    const fs::path file = dir.path / "run.tgck";
    io::save_checkpoint(file, Small{1}, some_state(3));
    Bytes b = read_bytes(file);
    b[b.size() - 10] ^= 0x10;
    write_bytes(file, b);
    Small net{2};
    const Small before = net;
    CHECK_THROWS_WITH(io::load_checkpoint(file, net), file.string() + ": checksum mismatch: the file is corrupted");
    CHECK(same_parameters(net, before));
}

// --- files -----------------------------------------------------------------------------------

TEST_CASE("reading names the file and the system's reason", "[io][files]") {
    TempDir dir;
    const fs::path missing = dir.path / "missing.tgck";
    CHECK_THROWS_WITH(io::read_checkpoint_file(missing), missing.string() + ": cannot open: No such file or directory");
    CHECK_THROWS_WITH(io::read_checkpoint_file(dir.path), dir.path.string() + ": is a directory, not a checkpoint file");
    const fs::path text = dir.path / "notes.txt";
    write_bytes(text, Bytes(1000, 'a'));
    CHECK_THROWS_WITH(io::read_checkpoint_file(text), text.string() + ": not a typegrad checkpoint (bad magic number)");
    const fs::path tiny_file = dir.path / "tiny.tgck";
    write_bytes(tiny_file, Bytes{'T', 'G', 'C', 'K', 'P', 'T', '\r', '\n', 1});
    CHECK_THROWS_WITH(io::read_checkpoint_file(tiny_file), tiny_file.string() + ": truncated: the file ends inside the header (9 bytes, reading the format version)");
}

TEST_CASE("write_file_atomically replaces the file and leaves no temporary file", "[io][files]") {
    TempDir dir;
    const fs::path file = dir.path / "out.bin";
    const fs::path temp = file.string() + ".tmp-" + std::to_string(::getpid());
    io::write_file_atomically(file, Bytes{1, 2, 3});
    CHECK(read_bytes(file) == Bytes{1, 2, 3});
    io::write_file_atomically(file, Bytes(5000, 7));
    CHECK(read_bytes(file) == Bytes(5000, 7));
    io::write_file_atomically(file, Bytes{});
    CHECK(fs::file_size(file) == 0);
    CHECK_FALSE(fs::exists(temp));
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);

    // A relative name is written in the working directory.
    const fs::path cwd = fs::current_path();
    fs::current_path(dir.path);
    io::write_file_atomically("relative.bin", Bytes{9});
    fs::current_path(cwd);
    CHECK(read_bytes(dir.path / "relative.bin") == Bytes{9});
}

TEST_CASE("write_file_atomically fails with the path and the reason, and cleans up", "[io][files]") {
    TempDir dir;
    const fs::path nowhere = dir.path / "no-such-dir" / "out.bin";
    CHECK_THROWS_WITH(io::write_file_atomically(nowhere, Bytes{1}),
                      nowhere.string() + ": cannot create '" + nowhere.string() + ".tmp-" + std::to_string(::getpid()) +
                          "': No such file or directory");
    // Over a directory: refused before any temporary file is written.
    const fs::path sub = dir.path / "sub";
    fs::create_directory(sub);
    fs::create_directory(sub / "x");
    const fs::path onto_dir = sub / "x";
    CHECK_THROWS_WITH(io::write_file_atomically(onto_dir, Bytes{1}), onto_dir.string() + ": is a directory");
    CHECK(std::distance(fs::directory_iterator(sub), fs::directory_iterator()) == 1);

    if (::geteuid() != 0) {  // root writes anywhere
        const fs::path ro = dir.path / "read-only";
        fs::create_directory(ro);
        fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
        CHECK_THROWS_WITH(io::write_file_atomically(ro / "out.bin", Bytes{1}),
                          Catch::Matchers::EndsWith("Permission denied"));
        fs::permissions(ro, fs::perms::owner_all);
    }
}

// --- training ----------------------------------------------------------------------------------

TEST_CASE("a diverging run never overwrites the last good checkpoint", "[io][diverge]") {
    // Two good epochs saved after each one, then a learning rate whose step η/m overflows float
    // (as `typegrad train --eta 1e40` does): the trainer stops with Diverged before the epoch's
    // checkpoint would be written.
    using M = Network<float, 9, 5, 3>;
    const auto d = tiny(60, 9, 3, 5);
    TempDir dir;
    const fs::path file = dir.path / "run.tgck";
    M net{1};
    train::Trainer<M> good(net, {.epochs = 2, .batch = 10, .eta = 3.0, .seed = 2});
    const auto save = [&](auto& trainer) {
        return [&](const train::EpochStats&) { io::save_checkpoint(file, net, trainer.state()); };
    };
    good.run(d, d, save(good), [](std::size_t, std::size_t) {});
    const Bytes saved = read_bytes(file);

    M resumed{9};
    train::Trainer<M> bad(resumed, {.epochs = 5, .batch = 10, .eta = 1e40, .seed = 2});
    bad.restore(io::load_checkpoint(file, resumed));
    REQUIRE(bad.epochs_done() == 2);
    try {
        bad.run(d, d, [&](const train::EpochStats&) { io::save_checkpoint(file, resumed, bad.state()); },
                [](std::size_t, std::size_t) {});
        FAIL("eta = 1e40 did not diverge");
    } catch (const train::Diverged& e) {
        CHECK(e.epoch() == 3);
        CHECK(e.batch() == 2);
        CHECK(std::string(e.what()) == "training diverged at epoch 3, batch 2 of 6: the cost is NaN");
    }
    CHECK(read_bytes(file) == saved);
    CHECK_FALSE(train::parameters_finite(resumed));
    M reloaded{4};
    CHECK(io::load_checkpoint(file, reloaded).epochs_done == 2);
    CHECK(train::parameters_finite(reloaded));
    CHECK(same_parameters(reloaded, net));
}

TEST_CASE("resuming from a checkpoint gives the weights of an uninterrupted run", "[io][resume]") {
    using M = Network<float, 9, 5, 3>;
    const auto d = tiny(57, 9, 3, 7);
    TempDir dir;
    const fs::path file = dir.path / "run.tgck";

    M straight{3};
    train::Trainer<M> t1(straight, {.epochs = 3, .batch = 10, .eta = 3.0, .seed = 4});
    t1.run(d, d, [](const train::EpochStats&) {}, [](std::size_t, std::size_t) {});

    M first{3};
    train::Trainer<M> t2(first, {.epochs = 1, .batch = 10, .eta = 3.0, .seed = 4});
    t2.run(d, d, [&](const train::EpochStats&) { io::save_checkpoint(file, first, t2.state()); },
           [](std::size_t, std::size_t) {});

    M resumed{123};
    train::Trainer<M> t3(resumed, {.epochs = 3, .batch = 10, .eta = 3.0, .seed = 999});
    t3.restore(io::load_checkpoint(file, resumed));
    t3.run(d, d, [](const train::EpochStats&) {}, [](std::size_t, std::size_t) {});
    CHECK(same_parameters(resumed, straight));
    CHECK(io::checkpoint_bytes(resumed, t3.state()) == io::checkpoint_bytes(straight, t1.state()));
}

// --- issue 9: hangs, clobbered files, unbounded reads ------------------------------------------

TEST_CASE("a checkpoint whose generator state is all zero is refused; Rng's loops terminate anyway", "[io][issue9]") {
    using Small = Network<float, 9, 5, 3>;
    // A valid checksum around an all-zero state: before, a trainer restored from it looped
    // forever in the first shuffle (Rng::below's rejection loop drew 0 for ever).
    const Bytes zero = io::checkpoint_bytes(Small{1}, {2, Rng::State{}, "sgd", {}, {}, 0.0}, "");
    CHECK(parse_error(zero) ==
          "x.tgck: invalid header: the shuffling generator's state is all zero (a generator in that state never "
          "changes; no trainer saves it)");
    train::TrainerState nan_spare = some_state(2);
    nan_spare.rng.has_spare = true;
    nan_spare.rng.spare = std::numeric_limits<double>::quiet_NaN();
    CHECK(parse_error(io::checkpoint_bytes(Small{1}, nan_spare, "")) ==
          "x.tgck: invalid header: the generator's spare normal deviate is not a finite number");
    CHECK(parse_error(io::checkpoint_bytes(Small{1}, some_state(2), "")).empty());

    CHECK_FALSE(Rng::valid(Rng::State{}));
    CHECK(Rng::valid(Rng(0).state()));
    // Even restored into a trainer, the zero state cannot hang it: every loop of Rng is
    // bounded (the test would time out otherwise).
    Rng stuck;
    stuck.set_state(Rng::State{});
    CHECK(stuck.below(10) == 0);
    CHECK(stuck.below(0) == 0);
    CHECK(std::isfinite(stuck.normal()));
    std::vector<int> v{1, 2, 3, 4, 5, 6, 7};
    stuck.shuffle(v.begin(), v.end());
    CHECK(v.size() == 7);
    Small net{1};
    train::Trainer<Small> trainer(net, {.epochs = 1, .batch = 2, .eta = 1.0, .seed = 1});
    trainer.restore({0, Rng::State{}, "sgd", {}, {}, 0.0});
    const auto d = tiny(6, 9, 3, 5);
    trainer.epoch(d);
    CHECK(trainer.epochs_done() == 1);
    // A valid state draws exactly what the unbounded rejection loop drew (the bound is never
    // reached), also for n just above 2^63, where about every other draw is rejected.
    Rng a(123), b(123);
    for (std::uint64_t i = 0; i < 20000; ++i) {
        const std::uint64_t n = i % 2 == 0 ? 1 + (i * 7919) % 1000003 : (std::uint64_t{1} << 63) + i;
        const std::uint64_t threshold = (0 - n) % n;
        std::uint64_t r = 0;
        do r = a(); while (r < threshold);
        REQUIRE(b.below(n) == r % n);
    }
}

TEST_CASE("read_checkpoint_file refuses FIFOs and devices before opening them", "[io][issue9]") {
    TempDir dir;
    const fs::path fifo = dir.path / "run.tgck";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // open() of a FIFO without a writer blocks: this would hang (and time out) before the fix.
    CHECK_THROWS_WITH(io::read_checkpoint_file(fifo), fifo.string() + ": is not a regular file (a FIFO)");
    CHECK_THROWS_WITH(io::read_checkpoint_file("/dev/zero"), "/dev/zero: is not a regular file (a character device)");
    CHECK_THROWS_WITH(io::read_checkpoint_file("/dev/null"), "/dev/null: is not a regular file (a character device)");
}

TEST_CASE("a long file with a valid checkpoint header is refused from its size, without reading it", "[io][issue9]") {
    using Small = Network<float, 9, 5, 3>;
    TempDir dir;
    const fs::path file = dir.path / "big.tgck";
    const Bytes good = io::checkpoint_bytes(Small{1}, some_state(1), "note");
    write_bytes(file, good);
    // 2 GB (sparse: no disk space): the valid checkpoint, then zeros.
    const std::uintmax_t size = std::uintmax_t{2} << 30;
    fs::resize_file(file, size);
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH(io::read_checkpoint_file(file),
                      file.string() + ": corrupted: " + std::to_string(size - good.size()) +
                          " unexpected bytes after the end of the checkpoint");
    // Reading 2 GB takes seconds and 2 GB of memory; the header alone, microseconds.
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
    // A file shorter than its header says is refused the same way, with the message parsing
    // the whole file gives.
    write_bytes(file, Bytes(good.begin(), good.end() - 100));
    CHECK_THROWS_WITH(io::read_checkpoint_file(file), Catch::Matchers::StartsWith(file.string() + ": truncated: the payload is"));
    CHECK(parse_error(Bytes(good.begin(), good.end() - 100)).substr(7) ==
          [&] {
              try {
                  io::read_checkpoint_file(file);
              } catch (const io::CheckpointError& e) {
                  return std::string(e.what()).substr(file.string().size() + 1);
              }
              return std::string();
          }());
    // A header whose strings are longer than a first read still loads.
    write_bytes(file, io::checkpoint_bytes(Small{1}, some_state(1), std::string(100000, 'n')));
    CHECK(io::read_checkpoint_file(file).header.training.size() == 100000);
}

TEST_CASE("write_file_atomically replaces only regular files, and writes through symbolic links", "[io][issue9]") {
    TempDir dir;
    // Devices are refused (as root, the temporary file used to be renamed over /dev/null).
    CHECK_THROWS_WITH(io::write_file_atomically("/dev/null", Bytes{1}),
                      "/dev/null: is not a regular file (a character device): only a regular file or a new name is "
                      "replaced");
    CHECK(fs::is_character_file("/dev/null"));
    const fs::path fifo = dir.path / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_WITH(io::write_file_atomically(fifo, Bytes{1}),
                      fifo.string() + ": is not a regular file (a FIFO): only a regular file or a new name is replaced");
    CHECK(fs::is_fifo(fifo));
    const fs::path to_device = dir.path / "null-link";
    fs::create_symlink("/dev/null", to_device);
    CHECK_THROWS_WITH(io::write_file_atomically(to_device, Bytes{1}),
                      to_device.string() + ": links to '/dev/null', which is not a regular file (a character device): "
                                           "only a regular file or a new name is replaced");

    // A link (relative, through two links) to a regular file: the file is replaced, the links stay.
    fs::create_directory(dir.path / "real");
    write_bytes(dir.path / "real" / "target.bin", Bytes{1, 2});
    fs::create_symlink("real/target.bin", dir.path / "link1");
    fs::create_symlink("link1", dir.path / "link2");
    io::write_file_atomically(dir.path / "link2", Bytes{7, 7, 7});
    CHECK(fs::is_symlink(dir.path / "link2"));
    CHECK(fs::is_symlink(dir.path / "link1"));
    CHECK(read_bytes(dir.path / "real" / "target.bin") == Bytes{7, 7, 7});
    CHECK(io::replace_target(dir.path / "link2") == dir.path / "real/target.bin");
    // A dangling link creates its target.
    fs::create_symlink("real/new.bin", dir.path / "dangling");
    io::write_file_atomically(dir.path / "dangling", Bytes{5});
    CHECK(fs::is_symlink(dir.path / "dangling"));
    CHECK(read_bytes(dir.path / "real" / "new.bin") == Bytes{5});
    // A loop of links.
    fs::create_symlink("loop-b", dir.path / "loop-a");
    fs::create_symlink("loop-a", dir.path / "loop-b");
    CHECK_THROWS_WITH(io::write_file_atomically(dir.path / "loop-a", Bytes{1}),
                      (dir.path / "loop-a").string() + ": too many levels of symbolic links");
    // No temporary file is left anywhere.
    for (const auto& e : fs::recursive_directory_iterator(dir.path))
        CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
}

TEST_CASE("OutputLock: one writer per target, naming the holder; stale temporaries are removed", "[io][issue9]") {
    TempDir dir;
    const fs::path target = dir.path / "run.tgck";
    {
        io::OutputLock lock(target);
        CHECK(fs::exists(dir.path / "run.tgck.lock"));
        // Another process trying the same target is told who holds it.
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            try {
                io::OutputLock second(target);
                ::_exit(1);
            } catch (const io::CheckpointError& e) {
                const std::string expected = target.string() + ": is being written by another process (pid " +
                                             std::to_string(::getppid()) + ", which holds the lock on '" +
                                             target.string() + ".lock')";
                ::_exit(std::string(e.what()) == expected ? 0 : 2);
            }
        }
        int status = 0;
        REQUIRE(::waitpid(child, &status, 0) == child);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);  // 1: it got the lock; 2: another message
    }
    CHECK_FALSE(fs::exists(dir.path / "run.tgck.lock"));  // removed on release
    io::OutputLock again(target);                         // and free again

    // Temporary files of dead writers go, those of live ones (and other names) stay.
    const pid_t dead = ::fork();
    REQUIRE(dead >= 0);
    if (dead == 0) ::_exit(0);
    REQUIRE(::waitpid(dead, nullptr, 0) == dead);
    write_bytes(dir.path / ("run.tgck.tmp-" + std::to_string(dead)), Bytes{1});
    write_bytes(dir.path / ("run.tgck.tmp-" + std::to_string(::getppid())), Bytes{1});  // alive
    write_bytes(dir.path / "run.tgck.tmp-notapid", Bytes{1});
    write_bytes(dir.path / ("other.tgck.tmp-" + std::to_string(dead)), Bytes{1});
    const auto removed = io::remove_stale_temporaries(target);
    REQUIRE(removed.size() == 1);
    CHECK(removed[0] == dir.path / ("run.tgck.tmp-" + std::to_string(dead)));
    CHECK(fs::exists(dir.path / ("run.tgck.tmp-" + std::to_string(::getppid()))));
    CHECK(fs::exists(dir.path / "run.tgck.tmp-notapid"));
    CHECK(fs::exists(dir.path / ("other.tgck.tmp-" + std::to_string(dead))));
}

TEST_CASE("printable_text escapes control characters, C1 controls and bytes that are not UTF-8", "[io][issue9]") {
    CHECK(io::printable_text("input<784> | dense<30> | σ") == "input<784> | dense<30> | σ");
    CHECK(io::printable_text("a\nb\x1b[31mc\x7f") == "a\\x0ab\\x1b[31mc\\x7f");
    CHECK(io::printable_text("csi \xc2\x9b" "2J") == "csi \\xc2\\x9b2J");   // U+009B, the 8-bit CSI
    CHECK(io::printable_text("raw \x9b" "2J") == "raw \\x9b2J");            // not UTF-8
    CHECK(io::printable_text("cut \xe2\x82") == "cut \\xe2\\x82");
    CHECK(io::printable_text("nbsp \xc2\xa0 ok") == "nbsp \xc2\xa0 ok");
}

#include "../fuzz/tiny_network.hpp"

TEST_CASE("fuzz_resume's hand-written header and payload are what the checkpoint writer writes", "[io][fuzz]") {
    // tests/fuzz/tiny_network.hpp spells them out because clang 14 cannot compile io/checkpoint.hpp.
    auto state = some_state(3);
    state.monitor = {};  // no validation history: fuzz_resume's header leaves it at zero
    state.eta = 0.0;
    fuzz::Tiny<float> f{4};
    io::CheckpointHeader hf = fuzz::tiny_header<float>();
    hf.training = "n";
    hf.epochs_done = 3;
    hf.rng = state.rng;
    CHECK(io::serialize_checkpoint(hf, fuzz::tiny_payload<float>(f)) == io::checkpoint_bytes(f, state, "n"));
    fuzz::Tiny<double> d{5};
    io::CheckpointHeader hd = fuzz::tiny_header<double>();
    hd.epochs_done = 3;
    hd.rng = state.rng;
    CHECK(io::serialize_checkpoint(hd, fuzz::tiny_payload<double>(d)) == io::checkpoint_bytes(d, state));
    fuzz::Tiny<double> back{9};
    fuzz::tiny_restore<double>(fuzz::tiny_payload<double>(d), back);
    CHECK(io::checkpoint_payload(back) == io::checkpoint_payload(d));
}

// --- issue 18, defect 7: a damaged optimizer state ----------------------------------------------

namespace {

/// The state bytes of a trainer of Small with optimizer O after one epoch on a tiny data set.
template <class O>
train::TrainerState trained_state(O optimizer, Small& net) {
    const auto d = tiny(20, 9, 3, 5);
    train::Trainer<Small, train::AutodiffEngine<Small>, O> t(net, {.epochs = 1, .batch = 5, .eta = 0.1, .seed = 6}, optimizer);
    t.run(d, d, [](const train::EpochStats&) {}, [](std::size_t, std::size_t) {});
    return t.state();
}

/// Puts a float at value `k` of an optimizer state (after `skip` bytes).
void put_float(std::vector<unsigned char>& state, std::size_t skip, std::size_t k, float v) {
    const auto bits = std::bit_cast<std::uint32_t>(v);
    for (std::size_t i = 0; i < 4; ++i) state[skip + 4 * k + i] = static_cast<unsigned char>(bits >> (8 * i));
}

/// The error parsing a version-3 checkpoint of net with `state` (its checksum right) gives, or
/// "accepted".
std::string state_error(const Small& net, const train::TrainerState& state) {
    const std::string e = parse_error(io::checkpoint_bytes(net, state, "note"));
    return e.empty() ? "accepted" : e;
}

}  // namespace

TEST_CASE("a damaged optimizer state is refused when the checkpoint is parsed, naming what is wrong", "[io][issue18]") {
    constexpr std::size_t n = Small::parameter_count;  // 9·5 + 5 + 5·3 + 3 = 68 float values
    static_assert(n == 68);
    Small net{4};

    SECTION("momentum and nesterov: a velocity per parameter, finite") {
        for (const bool nesterov : {false, true}) {
            const std::string name = nesterov ? "nesterov" : "momentum";
            Small m{4};
            train::Momentum momentum;
            momentum.nesterov = nesterov;
            const train::TrainerState good = trained_state(momentum, m);
            REQUIRE(good.optimizer == name);
            REQUIRE(good.optimizer_state.size() == n * 4);
            CHECK(state_error(m, good) == "accepted");
            auto s = good;
            s.optimizer_state.resize(n * 4 - 4);
            CHECK(state_error(m, s) == "x.tgck: damaged checkpoint: the " + name +
                                           " state is 268 bytes; for 68 float parameters it is 272 (a velocity per "
                                           "parameter), or 0 before the first step");
            s.optimizer_state.resize(n * 8);
            CHECK(state_error(m, s).find("the " + name + " state is 544 bytes; for 68 float") != std::string::npos);
            s = good;
            put_float(s.optimizer_state, 0, 17, std::nanf(""));
            CHECK(state_error(m, s) == "x.tgck: damaged checkpoint: velocity 17 of the " + name +
                                           " state is not a finite number");
            s = good;
            put_float(s.optimizer_state, 0, 67, -std::numeric_limits<float>::infinity());
            CHECK(state_error(m, s) == "x.tgck: damaged checkpoint: velocity 67 of the " + name +
                                           " state is not a finite number");
            s.optimizer_state.clear();  // before the first step
            CHECK(state_error(m, s) == "accepted");
        }
    }
    SECTION("adam: the step count, then two moments per parameter; finite, the second >= 0") {
        Small a{4};
        const train::TrainerState good = trained_state(train::Adam{}, a);
        REQUIRE(good.optimizer == "adam");
        REQUIRE(good.optimizer_state.size() == 8 + 2 * n * 4);
        REQUIRE(good.optimizer_state[0] == 4);  // 20 examples in batches of 5: 4 steps
        CHECK(state_error(a, good) == "accepted");
        auto s = good;
        s.optimizer_state.pop_back();
        CHECK(state_error(a, s) == "x.tgck: damaged checkpoint: the adam state is 551 bytes; for 68 float parameters it "
                                   "is 552 (the step count, then two moments per parameter), or 0 before the first step");
        s.optimizer_state.resize(4);
        CHECK(state_error(a, s).find("the adam state is 4 bytes") != std::string::npos);
        s = good;
        put_float(s.optimizer_state, 8, 3, std::nanf(""));
        CHECK(state_error(a, s) == "x.tgck: damaged checkpoint: first moment 3 of the adam state is not a finite number");
        s = good;
        put_float(s.optimizer_state, 8, n + 5, std::numeric_limits<float>::infinity());
        CHECK(state_error(a, s) == "x.tgck: damaged checkpoint: second moment 5 of the adam state is not a finite number >= 0");
        s = good;
        put_float(s.optimizer_state, 8, n + 5, -1.0f);
        CHECK(state_error(a, s) == "x.tgck: damaged checkpoint: second moment 5 of the adam state is not a finite number >= 0");
        s = good;
        std::fill_n(s.optimizer_state.begin(), 8, 0xff);  // 2^64 - 1 steps: the next wraps to 0
        CHECK(state_error(a, s) == "x.tgck: damaged checkpoint: the adam step count is 18446744073709551615 (a state "
                                   "with moments has made 1 to 2^53 steps)");
        std::fill_n(s.optimizer_state.begin(), 8, 0);
        CHECK(state_error(a, s) == "x.tgck: damaged checkpoint: the adam step count is 0 (a state with moments has made "
                                   "1 to 2^53 steps)");
        s.optimizer_state[6] = 0x20;  // 2^53: the largest
        CHECK(state_error(a, s) == "accepted");
        s.optimizer_state[0] = 1;  // 2^53 + 1
        CHECK(state_error(a, s).find("the adam step count is 9007199254740993") != std::string::npos);
    }
    SECTION("sgd carries none; another name (an optimizer of the library's user) is not checked") {
        auto s = some_state(2);
        s.optimizer_state = {1, 2, 3};
        CHECK(state_error(net, s) == "x.tgck: damaged checkpoint: the sgd state is 3 bytes; sgd carries no state");
        s.optimizer = "my-own";
        CHECK(state_error(net, s) == "accepted");
    }
    SECTION("a double network's state is made of doubles") {
        SmallDouble d{4};
        auto s = some_state(2);
        s.optimizer = "momentum";
        s.optimizer_state.assign(n * 8, 0);
        CHECK(parse_error(io::checkpoint_bytes(d, s)).empty());
        s.optimizer_state.assign(n * 4, 0);
        CHECK(parse_error(io::checkpoint_bytes(d, s)) ==
              "x.tgck: damaged checkpoint: the momentum state is 272 bytes; for 68 double parameters it is 544 (a "
              "velocity per parameter), or 0 before the first step");
        s.optimizer_state.assign(n * 8, 0);
        s.optimizer_state[8 * 9 + 7] = 0x7f;  // value 9 becomes 0x7ff0000000000000: +infinity
        s.optimizer_state[8 * 9 + 6] = 0xf0;
        CHECK(parse_error(io::checkpoint_bytes(d, s)) ==
              "x.tgck: damaged checkpoint: velocity 9 of the momentum state is not a finite number");
    }
}

TEST_CASE("restore_checkpoint refuses a damaged optimizer state in an image that was not parsed", "[io][issue18]") {
    Small net{4};
    auto s = some_state(2);
    s.optimizer = "adam";
    s.optimizer_state.assign(8 + Small::parameter_count * 4, 0);  // one moment instead of two
    s.optimizer_state[0] = 1;
    io::CheckpointImage image{io::checkpoint_header<Small>(s), io::checkpoint_payload(net)};
    Small loaded{5};
    const auto before = io::checkpoint_payload(loaded);
    CHECK_THROWS_WITH(io::restore_checkpoint(image, loaded, "y.tgck"),
                      "y.tgck: damaged checkpoint: the adam state is 280 bytes; for 68 float parameters it is 552 (the "
                      "step count, then two moments per parameter), or 0 before the first step");
    CHECK(io::checkpoint_payload(loaded) == before);  // untouched
}

TEST_CASE("an optimizer refuses a restored step count that would wrap or was never reached", "[io][issue18]") {
    std::vector<unsigned char> state(8 + 8, 0);
    train::Adam adam;
    std::fill_n(state.begin(), 8, 0xff);
    CHECK_THROWS_AS(adam.restore(state), std::invalid_argument);
    std::fill_n(state.begin(), 8, 0);
    CHECK_THROWS_AS(adam.restore(state), std::invalid_argument);
    state[0] = 3;
    CHECK_NOTHROW(adam.restore(state));
    CHECK(adam.state() == state);
}
