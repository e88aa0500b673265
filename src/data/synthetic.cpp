// Synthetic handwritten-like digits, so the library can be trained and tested without
// downloading MNIST.
//
// Each digit has one or more stroke skeletons (lines, arcs and Bezier curves in a unit box),
// and every image bends, shifts, scales, slants and rotates one of them, draws it with an
// antialiased pen of random width and adds pixel noise. Image i depends only on (seed, i),
// so a longer set starts with the images of a shorter one.
#include "typegrad/data/dataset.hpp"

#include "typegrad/util/random.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <numbers>
#include <vector>

namespace typegrad::data {
namespace {

constexpr int side = 28;
/// A digit at scale 1 is this many pixels tall; with the scale jitter and the pen width
/// that gives MNIST's roughly 20x20 box.
constexpr float nominal_height = 18.0f;
/// The pen puts full ink within its width and fades out over this many pixels beyond each
/// side, which also antialiases the stroke (MNIST strokes have soft edges of about that size).
constexpr float edge_width = 1.5f;
/// Random variation beyond the affine jitter, in glyph units (height 1) and pixels. Tuned so
/// that a 784-30-10 sigmoid network learns the set well but not perfectly in a few epochs.
constexpr double bend_range = 0.3;
constexpr double stroke_offset = 0.04;
constexpr double shift_sigma = 0.8;
constexpr double noise_min = 0.02;
constexpr double noise_max = 0.08;

struct Point {
    float x;
    float y;
};

/// A polyline in glyph units: height 1, y from -0.5 (top) to 0.5 (bottom), x around 0.
using Stroke = std::vector<Point>;
using Glyph = std::vector<Stroke>;

/// A straight line, split so that the bending warp can curve it.
Stroke line(Point a, Point b) {
    constexpr int pieces = 3;
    Stroke s;
    for (int k = 0; k <= pieces; ++k) {
        const float t = static_cast<float>(k) / pieces;
        s.push_back({a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)});
    }
    return s;
}

/// Elliptic arc from angle `from` to `to` in degrees, counterclockwise as seen on the page
/// when to > from (0 = right, 90 = top).
Stroke arc(Point c, float rx, float ry, float from, float to) {
    const int pieces = std::max(4, static_cast<int>(std::abs(to - from) / 24.0f));
    Stroke s;
    for (int k = 0; k <= pieces; ++k) {
        const float a = (from + (to - from) * static_cast<float>(k) / static_cast<float>(pieces)) *
                        std::numbers::pi_v<float> / 180.0f;
        s.push_back({c.x + rx * std::cos(a), c.y - ry * std::sin(a)});
    }
    return s;
}

/// Cubic Bezier curve.
Stroke bezier(Point p0, Point p1, Point p2, Point p3) {
    constexpr int pieces = 8;
    Stroke s;
    for (int k = 0; k <= pieces; ++k) {
        const float t = static_cast<float>(k) / pieces;
        const float u = 1.0f - t;
        const float w0 = u * u * u, w1 = 3 * u * u * t, w2 = 3 * u * t * t, w3 = t * t * t;
        s.push_back({w0 * p0.x + w1 * p1.x + w2 * p2.x + w3 * p3.x, w0 * p0.y + w1 * p1.y + w2 * p2.y + w3 * p3.y});
    }
    return s;
}

/// Pieces drawn in one movement of the pen, so they share the per-stroke jitter.
Stroke join(std::initializer_list<Stroke> parts) {
    Stroke s;
    for (const Stroke& p : parts) s.insert(s.end(), p.begin(), p.end());
    return s;
}

/// Two or three ways of writing each digit, as people do (open or closed 4, 7 with or
/// without a bar, 1 with or without a flag...).
std::array<std::vector<Glyph>, 10> build_glyphs() {
    std::array<std::vector<Glyph>, 10> g;
    g[0] = {
        {arc({0.0f, 0.0f}, 0.28f, 0.48f, 95.0f, 465.0f)},
        {arc({0.0f, 0.0f}, 0.22f, 0.48f, 80.0f, -290.0f)},
    };
    g[1] = {
        {line({0.02f, -0.5f}, {0.0f, 0.5f})},
        {join({line({-0.14f, -0.34f}, {0.04f, -0.5f}), line({0.04f, -0.5f}, {0.02f, 0.5f})})},
        {join({line({-0.14f, -0.34f}, {0.04f, -0.5f}), line({0.04f, -0.5f}, {0.02f, 0.5f})}),
         line({-0.14f, 0.5f}, {0.18f, 0.5f})},
    };
    g[2] = {
        {join({arc({0.0f, -0.24f}, 0.26f, 0.26f, 160.0f, -20.0f),
               bezier({0.244f, -0.151f}, {0.2f, 0.05f}, {-0.1f, 0.25f}, {-0.3f, 0.5f}),
               line({-0.3f, 0.5f}, {0.32f, 0.48f})})},
        {join({arc({0.0f, -0.26f}, 0.28f, 0.24f, 150.0f, -35.0f), line({0.229f, -0.122f}, {-0.3f, 0.5f}),
               line({-0.3f, 0.5f}, {0.3f, 0.5f})})},
        {join({arc({0.0f, -0.24f}, 0.26f, 0.26f, 160.0f, -20.0f),
               bezier({0.244f, -0.151f}, {0.2f, 0.1f}, {-0.1f, 0.3f}, {-0.22f, 0.42f}),
               arc({-0.14f, 0.44f}, 0.08f, 0.06f, 180.0f, 360.0f), line({-0.06f, 0.44f}, {0.32f, 0.5f})})},
    };
    g[3] = {
        {join({arc({0.0f, -0.26f}, 0.24f, 0.24f, 150.0f, -90.0f), arc({0.0f, 0.24f}, 0.28f, 0.26f, 90.0f, -150.0f)})},
        {join({line({-0.25f, -0.5f}, {0.25f, -0.5f}), line({0.25f, -0.5f}, {-0.02f, -0.06f}),
               arc({0.0f, 0.22f}, 0.28f, 0.28f, 100.0f, -150.0f)})},
    };
    g[4] = {
        {join({line({0.12f, -0.5f}, {-0.3f, 0.16f}), line({-0.3f, 0.16f}, {0.32f, 0.16f})}),
         line({0.14f, -0.3f}, {0.14f, 0.5f})},
        {join({line({-0.22f, -0.5f}, {-0.26f, 0.1f}), line({-0.26f, 0.1f}, {0.3f, 0.1f})}),
         line({0.16f, -0.5f}, {0.16f, 0.5f})},
    };
    g[5] = {
        {line({0.28f, -0.5f}, {-0.18f, -0.5f}),
         join({line({-0.18f, -0.5f}, {-0.2f, -0.04f}), arc({0.0f, 0.2f}, 0.29f, 0.28f, 125.0f, -150.0f)})},
        {join({line({0.26f, -0.5f}, {-0.16f, -0.48f}), line({-0.16f, -0.48f}, {-0.22f, -0.02f}),
               arc({0.0f, 0.22f}, 0.27f, 0.27f, 140.0f, -160.0f)})},
    };
    g[6] = {
        {join({bezier({0.2f, -0.5f}, {-0.12f, -0.38f}, {-0.28f, -0.05f}, {-0.27f, 0.22f}),
               arc({0.0f, 0.22f}, 0.27f, 0.27f, 180.0f, 540.0f)})},
        {join({bezier({0.12f, -0.5f}, {-0.1f, -0.3f}, {-0.22f, 0.0f}, {-0.22f, 0.26f}),
               arc({0.02f, 0.26f}, 0.24f, 0.24f, 180.0f, 530.0f)})},
    };
    const Stroke seven = join({line({-0.28f, -0.5f}, {0.3f, -0.5f}),
                               bezier({0.3f, -0.5f}, {0.18f, -0.2f}, {0.02f, 0.15f}, {-0.04f, 0.5f})});
    g[7] = {
        {seven},
        {seven, line({-0.1f, 0.02f}, {0.22f, 0.02f})},
    };
    g[8] = {
        {arc({0.0f, -0.26f}, 0.21f, 0.235f, 270.0f, 630.0f), arc({0.0f, 0.245f}, 0.27f, 0.255f, 90.0f, 450.0f)},
        {arc({-0.03f, -0.25f}, 0.24f, 0.245f, 270.0f, 630.0f), arc({0.03f, 0.25f}, 0.25f, 0.25f, 90.0f, 450.0f)},
    };
    g[9] = {
        {arc({0.0f, -0.22f}, 0.26f, 0.27f, 0.0f, 360.0f), line({0.26f, -0.22f}, {0.2f, 0.5f})},
        {arc({0.0f, -0.22f}, 0.26f, 0.27f, 0.0f, 360.0f),
         bezier({0.26f, -0.22f}, {0.26f, 0.2f}, {0.1f, 0.45f}, {-0.18f, 0.5f})},
    };
    return g;
}

const std::array<std::vector<Glyph>, 10>& glyphs() {
    static const std::array<std::vector<Glyph>, 10> all = build_glyphs();
    return all;
}

std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// An independent random stream per (seed, purpose, index), hashed so that neighbouring
/// seeds or indices do not give overlapping generator states.
Rng stream(std::uint64_t seed, std::uint64_t purpose, std::uint64_t index) {
    return Rng(mix64(mix64(seed ^ purpose) + index));
}

constexpr std::uint64_t label_purpose = 0x6c6162656c73ULL;  // "labels"
constexpr std::uint64_t image_purpose = 0x696d61676573ULL;  // "images"

/// Pixel noise is drawn from a table of normal quantiles: Box-Muller per pixel would cost
/// more than drawing the digit, and ten bits of a generator call give one N(0, 1) value
/// (truncated at about 3.1 sigma, which is all pixel noise needs).
constexpr int noise_bits = 10;
constexpr std::size_t noise_levels = std::size_t{1} << noise_bits;

std::array<float, noise_levels> build_normal_quantiles() {
    std::array<float, noise_levels> table{};
    for (std::size_t k = 0; k < noise_levels; ++k) {
        const double p = (static_cast<double>(k) + 0.5) / noise_levels;
        // Bisection on the standard normal CDF, 0.5 * erfc(-x / sqrt 2).
        double lo = -10.0, hi = 10.0;
        for (int it = 0; it < 60; ++it) {
            const double mid = 0.5 * (lo + hi);
            (0.5 * std::erfc(-mid / std::numbers::sqrt2) < p ? lo : hi) = mid;
        }
        table[k] = static_cast<float>(0.5 * (lo + hi));
    }
    return table;
}

const std::array<float, noise_levels>& normal_quantiles() {
    static const std::array<float, noise_levels> table = build_normal_quantiles();
    return table;
}

/// Clamp to [0, 1] without branches: std::clamp (and even max(v, 0)) compile to jumps,
/// which mispredict on noise that is negative half the time. (v + |v|) / 2 is exactly
/// max(v, 0) for finite v.
float unit_clamp(float v) {
    const float non_negative = 0.5f * (v + std::fabs(v));
    return std::min(non_negative, 1.0f);
}

/// Adds sigma * N(0, 1) to every pixel and clamps to [0, 1], six pixels per generator call.
void add_noise(float* image, std::size_t n, float sigma, Rng& rng) {
    const auto& quantile = normal_quantiles();
    constexpr int per_call = 64 / noise_bits;
    std::size_t i = 0;
    while (i < n) {
        std::uint64_t r = rng();
        for (int k = 0; k < per_call && i < n; ++k, ++i, r >>= noise_bits)
            image[i] = unit_clamp(image[i] + sigma * quantile[r & (noise_levels - 1)]);
    }
}

/// Maps glyph units to pixels around the origin: a smooth bend, then slant, rotation and
/// scale. The bend (a random quadratic displacement) is what makes strokes curve and
/// proportions vary from one writer to the next.
struct Pose {
    std::array<float, 6> bend{};  // dx = b0 x^2 + b1 y^2 + b2 xy, dy = b3 x^2 + b4 y^2 + b5 xy
    float m00 = 1, m01 = 0, m10 = 0, m11 = 1;

    static Pose random(Rng& rng) {
        Pose p;
        for (float& b : p.bend) b = static_cast<float>(rng.uniform(-bend_range, bend_range));
        const auto scale = static_cast<float>(rng.uniform(0.8, 1.15)) * nominal_height;
        const auto aspect = static_cast<float>(rng.uniform(0.8, 1.2));
        const auto slant = static_cast<float>(rng.uniform(-0.35, 0.35));
        const auto angle = static_cast<float>(rng.uniform(-0.2, 0.2));
        const float c = std::cos(angle), s = std::sin(angle);
        // [c -s; s c] * [1 -slant; 0 1] * diag(aspect, 1) * scale: slant > 0 leans the top right.
        p.m00 = c * aspect * scale;
        p.m01 = (-c * slant - s) * scale;
        p.m10 = s * aspect * scale;
        p.m11 = (-s * slant + c) * scale;
        return p;
    }

    [[nodiscard]] Point apply(Point q) const {
        const float x = q.x + bend[0] * q.x * q.x + bend[1] * q.y * q.y + bend[2] * q.x * q.y;
        const float y = q.y + bend[3] * q.x * q.x + bend[4] * q.y * q.y + bend[5] * q.x * q.y;
        return {m00 * x + m01 * y, m10 * x + m11 * y};
    }
};

/// Squared distance from each pixel centre to the nearest stroke so far. The pen's ink is a
/// function of that distance alone, so strokes are traced first and inked once at the end
/// (no square root per visit, and overlapping segments cost a min each).
using DistanceMap = std::array<float, side * side>;

/// Lowers the distance map to segment a-b for the pixels within `reach` of it: only the
/// segment's bounding box grown by `reach` is visited.
void trace_segment(DistanceMap& dist2, Point a, Point b, float reach) {
    const int x0 = std::max(0, static_cast<int>(std::floor(std::min(a.x, b.x) - reach)));
    const int x1 = std::min(side - 1, static_cast<int>(std::ceil(std::max(a.x, b.x) + reach)));
    const int y0 = std::max(0, static_cast<int>(std::floor(std::min(a.y, b.y) - reach)));
    const int y1 = std::min(side - 1, static_cast<int>(std::ceil(std::max(a.y, b.y) + reach)));
    const float dx = b.x - a.x, dy = b.y - a.y;
    const float len2 = dx * dx + dy * dy;
    const float inv_len2 = len2 > 0 ? 1.0f / len2 : 0.0f;
    for (int py = y0; py <= y1; ++py) {
        for (int px = x0; px <= x1; ++px) {
            // Pixel centres are at half-integer coordinates.
            const float qx = static_cast<float>(px) + 0.5f - a.x;
            const float qy = static_cast<float>(py) + 0.5f - a.y;
            const float t = unit_clamp((qx * dx + qy * dy) * inv_len2);
            const float ex = qx - t * dx, ey = qy - t * dy;
            float& d2 = dist2[static_cast<std::size_t>(py * side + px)];
            d2 = std::min(d2, ex * ex + ey * ey);
        }
    }
}

/// Scratch space for one digit's strokes in pixel coordinates, reused across images.
struct Strokes {
    std::vector<Point> points;
    std::vector<std::size_t> ends;  // one past each stroke's last point
};

/// Centre of the skeleton's ink (segment midpoints weighted by length): MNIST centres each
/// digit by its centre of mass, so a 1 or a 7 sits in the middle like a 0 does.
Point centre_of_ink(const Strokes& s) {
    float sx = 0, sy = 0, total = 0;
    std::size_t begin = 0;
    for (const std::size_t end : s.ends) {
        for (std::size_t k = begin + 1; k < end; ++k) {
            const Point a = s.points[k - 1], b = s.points[k];
            const float len = std::hypot(b.x - a.x, b.y - a.y);
            sx += len * (a.x + b.x) / 2;
            sy += len * (a.y + b.y) / 2;
            total += len;
        }
        begin = end;
    }
    return total > 0 ? Point{sx / total, sy / total} : Point{0, 0};
}

void draw_digit(float* image, int digit, Rng& rng, Strokes& strokes) {
    const auto& variants = glyphs()[static_cast<std::size_t>(digit)];
    const Glyph& glyph = variants[rng.below(variants.size())];
    const Pose pose = Pose::random(rng);
    strokes.points.clear();
    strokes.ends.clear();
    for (const Stroke& stroke : glyph) {
        // Each pen movement lands a little off where the skeleton puts it, as in handwriting
        // (a 4's bar, a 7's top, a 5's cap do not meet exactly).
        const Point offset{static_cast<float>(rng.uniform(-stroke_offset, stroke_offset)),
                           static_cast<float>(rng.uniform(-stroke_offset, stroke_offset))};
        for (const Point q : stroke) strokes.points.push_back(pose.apply({q.x + offset.x, q.y + offset.y}));
        strokes.ends.push_back(strokes.points.size());
    }

    // Off-centre by up to 3 px, mostly by less: a fully connected network has no notion of
    // translation, and uniform 3 px shifts make the task much harder than MNIST.
    const Point centre = centre_of_ink(strokes);
    const auto shift = [&rng] { return static_cast<float>(std::clamp(shift_sigma * rng.normal(), -3.0, 3.0)); };
    const float tx = side / 2.0f + shift() - centre.x;
    const float ty = side / 2.0f + shift() - centre.y;

    // Full ink within half the pen width of the skeleton, fading to none edge_width further.
    const float half_width = static_cast<float>(rng.uniform(1.0, 2.6)) / 2;
    const float reach = half_width + edge_width;
    DistanceMap dist2;
    dist2.fill(reach * reach);
    std::size_t begin = 0;
    for (const std::size_t end : strokes.ends) {
        for (std::size_t k = begin + 1; k < end; ++k) {
            const Point a = strokes.points[k - 1], b = strokes.points[k];
            trace_segment(dist2, {a.x + tx, a.y + ty}, {b.x + tx, b.y + ty}, reach);
        }
        begin = end;
    }
    // Pen pressure varies; then sensor-like noise, clamped back into [0, 1].
    const auto darkness = static_cast<float>(rng.uniform(0.75, 1.0));
    const auto noise = static_cast<float>(rng.uniform(noise_min, noise_max));
    for (std::size_t i = 0; i < dist2.size(); ++i) {
        image[i] = dist2[i] < reach * reach
                       ? darkness * unit_clamp((reach - std::sqrt(dist2[i])) * (1.0f / edge_width))
                       : 0.0f;
    }
    add_noise(image, side * side, noise, rng);
}

}  // namespace

Dataset synthetic_digits(std::size_t count, std::uint64_t seed) {
    Dataset d;
    d.rows = side;
    d.cols = side;
    d.pixels.assign(count * side * side, 0);
    d.labels.resize(count);
    // Drawn in float, stored as bytes like an IDX file's pixels (rounded to the nearest of the
    // 256 levels).
    std::array<float, side * side> image{};
    // Labels come in shuffled blocks of ten, so every class is equally common in any prefix
    // up to one block.
    std::array<std::uint8_t, 10> block{};
    Strokes strokes;
    for (std::size_t i = 0; i < count; ++i) {
        if (i % 10 == 0) {
            for (std::uint8_t k = 0; k < 10; ++k) block[k] = k;
            Rng rng = stream(seed, label_purpose, i / 10);
            rng.shuffle(block.begin(), block.end());
        }
        d.labels[i] = block[i % 10];
        Rng rng = stream(seed, image_purpose, i);
        image.fill(0.0f);
        draw_digit(image.data(), d.labels[i], rng, strokes);
        std::uint8_t* out = d.pixels.data() + i * side * side;
        for (std::size_t k = 0; k < image.size(); ++k) out[k] = static_cast<std::uint8_t>(image[k] * 255.0f + 0.5f);
    }
    return d;
}

Split synthetic_split(std::size_t train_count, std::size_t test_count, std::uint64_t seed) {
    // A fixed, odd constant turns the seed into an unrelated one for the test set.
    return {synthetic_digits(train_count, seed), synthetic_digits(test_count, seed ^ 0x5eed5eed5eed5eedULL)};
}

}  // namespace typegrad::data
