// Grid i-quant reference quantizers: round-trip error bounds on Gaussian data, the expected
// ordering between formats, importance weighting, and hostile inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "quant/dequantize_iq.h"
#include "quant/quantize_iq.h"

namespace rf::quant {
namespace {

// Quantizes then dequantizes a row through one format.
using RoundTrip = std::function<std::vector<float>(const std::vector<float>&, const float*)>;

template <typename Block>
RoundTrip make_round_trip(void (*quantize)(const float*, Block*, int64_t, const float*),
                          void (*dequantize)(const Block*, float*, int64_t)) {
    return [quantize, dequantize](const std::vector<float>& x, const float* importance) {
        const int64_t n = static_cast<int64_t>(x.size());
        std::vector<Block> blocks(static_cast<size_t>(n / kQK_K));
        quantize(x.data(), blocks.data(), n, importance);
        std::vector<float> y(x.size());
        dequantize(blocks.data(), y.data(), n);
        return y;
    };
}

struct Format {
    const char* name;
    RoundTrip round_trip;
    double max_rel_rmse;  // bound on sqrt(sum (x - y)^2 / sum x^2) for Gaussian data (~8% over
                          // the measured value: a regression guard)
};

// Ordered from the fewest to the most bits per weight.
std::vector<Format> formats() {
    return {
        {"iq1_s", make_round_trip(quantize_row_iq1_s, dequantize_row_iq1_s), 0.48},
        {"iq2_xxs", make_round_trip(quantize_row_iq2_xxs, dequantize_row_iq2_xxs), 0.35},
        {"iq2_xs", make_round_trip(quantize_row_iq2_xs, dequantize_row_iq2_xs), 0.31},
        {"iq2_s", make_round_trip(quantize_row_iq2_s, dequantize_row_iq2_s), 0.26},
        {"iq3_xxs", make_round_trip(quantize_row_iq3_xxs, dequantize_row_iq3_xxs), 0.195},
        {"iq3_s", make_round_trip(quantize_row_iq3_s, dequantize_row_iq3_s), 0.145},
    };
}

// Gaussian values from a fully specified generator (mt19937 + Box-Muller), so every standard
// library produces the same data.
std::vector<float> gaussian(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<float> v(n);
    for (size_t i = 0; i < n; i += 2) {
        const double u1 = (static_cast<double>(rng()) + 1.0) / 4294967297.0;
        const double angle = 2.0 * std::numbers::pi * static_cast<double>(rng()) / 4294967296.0;
        const double r = std::sqrt(-2.0 * std::log(u1));
        v[i] = static_cast<float>(r * std::cos(angle));
        if (i + 1 < n) v[i + 1] = static_cast<float>(r * std::sin(angle));
    }
    return v;
}

// sqrt(sum (x - y)^2 / sum x^2) over all elements, or only the even (parity 0) or odd (1) ones.
double rel_rmse(const std::vector<float>& x, const std::vector<float>& y, int parity = -1) {
    double err = 0.0;
    double ref = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
        if (parity >= 0 && static_cast<int>(i % 2) != parity) continue;
        const double xi = static_cast<double>(x[i]);
        const double diff = xi - static_cast<double>(y[i]);
        err += diff * diff;
        ref += xi * xi;
    }
    return std::sqrt(err / ref);
}

constexpr size_t kBlocks = 24;

TEST(IqQuantize, GaussianRoundTripErrorIsBoundedAndOrderedByBits) {
    const std::vector<float> x = gaussian(kBlocks * kQK_K, 1234);
    double previous = 1.0;
    for (const Format& f : formats()) {
        const double e = rel_rmse(x, f.round_trip(x, nullptr));
        std::printf("%-8s relative RMSE %.4f\n", f.name, e);
        EXPECT_LT(e, f.max_rel_rmse) << f.name;
        EXPECT_LT(e, previous) << f.name << " should beat the format with fewer bits";
        previous = e;
    }
}

TEST(IqQuantize, ErrorScalesWithTheInput) {
    // The fp16 super-block scale carries the magnitude: tiny and large inputs round-trip with
    // the same relative error as unit-scale ones (within fp16 resolution).
    const std::vector<float> x = gaussian(4 * kQK_K, 99);
    for (const Format& f : formats()) {
        const double base = rel_rmse(x, f.round_trip(x, nullptr));
        for (float factor : {1e-3f, 300.0f}) {
            std::vector<float> xs(x);
            for (float& v : xs) v *= factor;
            EXPECT_NEAR(rel_rmse(xs, f.round_trip(xs, nullptr)), base, 0.02)
                << f.name << " x" << factor;
        }
    }
}

TEST(IqQuantize, ImportanceLowersTheErrorWhereItIsHigh) {
    const std::vector<float> x = gaussian(8 * kQK_K, 7);
    // Even elements matter 50x more. Weights only trade error between elements that share a
    // scale or a codebook point, so they must vary inside every group of 8.
    std::vector<float> importance(x.size(), 1.0f);
    for (size_t i = 0; i < x.size(); i += 2) importance[i] = 50.0f;
    for (const Format& f : formats()) {
        const std::vector<float> plain = f.round_trip(x, nullptr);
        const std::vector<float> weighted = f.round_trip(x, importance.data());
        EXPECT_LT(rel_rmse(x, weighted, 0), 0.9 * rel_rmse(x, plain, 0)) << f.name;
        EXPECT_GT(rel_rmse(x, weighted, 1), rel_rmse(x, plain, 1)) << f.name;
    }
}

TEST(IqQuantize, RequantizingADequantizedRowDoesNotDrift) {
    // Dequantized values are representable, so a second pass must lose (almost) nothing more.
    const std::vector<float> x = gaussian(4 * kQK_K, 5);
    for (const Format& f : formats()) {
        const std::vector<float> y = f.round_trip(x, nullptr);
        const std::vector<float> z = f.round_trip(y, nullptr);
        EXPECT_LT(rel_rmse(y, z), 0.25 * rel_rmse(x, y)) << f.name;
    }
}

TEST(IqQuantize, ZeroAndHostileBlocks) {
    std::vector<float> x(3 * kQK_K, 0.0f);  // block 0: all zero
    for (int i = 0; i < kQK_K; ++i) x[kQK_K + i] = 0.5f;  // block 1: constant
    x[2 * kQK_K + 0] = std::numeric_limits<float>::quiet_NaN();  // block 2: NaN, inf, huge
    x[2 * kQK_K + 1] = std::numeric_limits<float>::infinity();
    x[2 * kQK_K + 2] = -3e38f;
    x[2 * kQK_K + 3] = 1e-30f;
    std::vector<float> importance(x.size(), 1.0f);
    importance[5] = std::numeric_limits<float>::quiet_NaN();
    importance[6] = -1.0f;
    const float* const importance_options[] = {nullptr, importance.data()};
    for (const Format& f : formats()) {
        for (const float* imp : importance_options) {
            const std::vector<float> y = f.round_trip(x, imp);
            for (int i = 0; i < kQK_K; ++i) EXPECT_EQ(y[i], 0.0f) << f.name;
            for (float v : y) EXPECT_TRUE(std::isfinite(v)) << f.name;
            // A constant block is matched in sign and roughly in size.
            for (int i = kQK_K; i < 2 * kQK_K; ++i) {
                EXPECT_GT(y[i], 0.2f) << f.name << " " << i;
                EXPECT_LT(y[i], 0.8f) << f.name << " " << i;
            }
        }
    }
}

}  // namespace
}  // namespace rf::quant
