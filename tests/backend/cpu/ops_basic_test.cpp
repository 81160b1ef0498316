// Row-wise CPU ops (RMSNorm, add, SwiGLU, row dequantization) against float64 references on
// odd shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "backend/cpu/ops_basic.h"
#include "backend/cpu/ops_math.h"
#include "core/half.h"

namespace rf::cpu {
namespace {

std::vector<float> random_vec(size_t n, uint32_t seed, float lo = -2.0f, float hi = 2.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

TEST(OpsBasic, RmsNormOddShapes) {
    for (int64_t width : {1, 7, 64, 333}) {
        const int64_t rows = 5;
        const size_t stride = static_cast<size_t>(width) + 3;  // padded rows
        auto x = random_vec(stride * rows, 1);
        auto w = random_vec(static_cast<size_t>(width), 2, 0.5f, 1.5f);
        std::vector<float> out(stride * rows, 0.0f);
        rms_norm_rows(x.data(), w.data(), 1e-5f, width, rows, stride, out.data(), stride);
        for (int64_t r = 0; r < rows; ++r) {
            double ss = 0.0;
            for (int64_t i = 0; i < width; ++i) ss += std::pow(static_cast<double>(x[static_cast<size_t>(r) * stride + static_cast<size_t>(i)]), 2);
            const double scale = 1.0 / std::sqrt(ss / static_cast<double>(width) + 1e-5);
            for (int64_t i = 0; i < width; ++i) {
                const size_t k = static_cast<size_t>(r) * stride + static_cast<size_t>(i);
                const double ref = static_cast<double>(x[k]) * scale * static_cast<double>(w[static_cast<size_t>(i)]);
                EXPECT_NEAR(out[k], ref, 1e-5 * (1.0 + std::fabs(ref))) << "width " << width;
            }
        }
    }
}

TEST(OpsBasic, RmsNormInPlace) {
    auto x = random_vec(37, 3);
    auto copy = x;
    std::vector<float> w(37, 1.0f), out(37);
    rms_norm_rows(copy.data(), w.data(), 1e-6f, 37, 1, 37, out.data(), 37);
    rms_norm_rows(x.data(), w.data(), 1e-6f, 37, 1, 37, x.data(), 37);
    EXPECT_EQ(x, out);
}

TEST(OpsBasic, AddAndSwiglu) {
    const int64_t n = 1001;
    auto a = random_vec(static_cast<size_t>(n), 4, -8.0f, 8.0f);
    auto b = random_vec(static_cast<size_t>(n), 5);
    std::vector<float> sum(static_cast<size_t>(n)), sw(static_cast<size_t>(n));
    add_vec(a.data(), b.data(), sum.data(), n);
    swiglu_vec(a.data(), b.data(), sw.data(), n);
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
        EXPECT_FLOAT_EQ(sum[i], a[i] + b[i]);
        const double g = static_cast<double>(a[i]);
        const double ref = g / (1.0 + std::exp(-g)) * static_cast<double>(b[i]);
        EXPECT_NEAR(sw[i], ref, 1e-5 * (1.0 + std::fabs(ref)));
    }
}

TEST(OpsBasic, FastExpAccuracy) {
    for (double x = -87.0; x <= 88.0; x += 0.013) {
        const double ref = std::exp(x);
        EXPECT_NEAR(static_cast<double>(fast_exp(static_cast<float>(x))), std::exp(static_cast<double>(static_cast<float>(x))),
                    5e-7 * ref) << x;
    }
    EXPECT_GT(fast_exp(-1e30f), 0.0f);
    EXPECT_TRUE(std::isfinite(fast_exp(1e30f)));
    EXPECT_LT(fast_exp(-std::numeric_limits<float>::infinity()), 1e-37f);
}

TEST(OpsBasic, DequantizeRowF16AndF32) {
    auto v = random_vec(45, 6);
    std::vector<uint16_t> h(45);
    for (size_t i = 0; i < 45; ++i) h[i] = float_to_fp16(v[i]);
    std::vector<float> out(45);
    dequantize_row_to_float(quant::GgmlType::kF16, h.data(), 45, out.data());
    for (size_t i = 0; i < 45; ++i) EXPECT_EQ(out[i], fp16_to_float(h[i]));
    dequantize_row_to_float(quant::GgmlType::kF32, v.data(), 45, out.data());
    EXPECT_EQ(out, v);
}

}  // namespace
}  // namespace rf::cpu
