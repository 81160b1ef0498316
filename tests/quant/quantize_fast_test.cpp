// Round-to-nearest quantizers: their error stays close to the searching reference's, the
// per-element error is bounded by the block's step, and degenerate blocks decode sanely.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string_view>
#include <vector>

#include "quant/quantize_fast.h"
#include "quant/reference.h"
#include "quant_test_util.h"

namespace rf::quant {
namespace {

using test::gaussian_row;
using test::normalised_rmse;

std::vector<float> fast_round_trip(GgmlType type, const std::vector<float>& x) {
    const auto n = static_cast<int64_t>(x.size());
    std::vector<uint8_t> bytes(row_bytes(type, x.size()));
    EXPECT_EQ(quantize_row_fast(type, x.data(), bytes.data(), n), bytes.size());
    std::vector<float> y(x.size());
    dequantize_row(type, bytes.data(), y.data(), n);
    return y;
}

// Round-to-nearest normalised RMSE on N(0,1) rows may exceed the searching reference's by at
// most this factor (measured: 1.0-1.25, Q2_K the 1.25); and it must stay under `cap`.
struct Case {
    GgmlType type;
    double cap;
};
constexpr Case kCases[] = {
    {GgmlType::kQ4_0, 0.12}, {GgmlType::kQ4_1, 0.11}, {GgmlType::kQ5_0, 0.06},
    {GgmlType::kQ5_1, 0.055}, {GgmlType::kQ8_0, 0.006}, {GgmlType::kQ4_K, 0.11},
    {GgmlType::kQ5_K, 0.055}, {GgmlType::kQ6_K, 0.03}, {GgmlType::kQ2_K, 0.36},
    {GgmlType::kQ3_K, 0.17}, {GgmlType::kIQ4_NL, 0.085}, {GgmlType::kIQ4_XS, 0.085},
};

TEST(QuantizeFast, ErrorCloseToReference) {
    for (const Case& c : kCases) {
        SCOPED_TRACE(traits(c.type).name);
        EXPECT_TRUE(has_fast_quantizer(c.type));
        const std::vector<float> x = gaussian_row(4 * 256, 7, 0.02f);
        const double fast = normalised_rmse(x, fast_round_trip(c.type, x));
        const double ref = normalised_rmse(x, test::round_trip(c.type, x));
        const std::string_view name = traits(c.type).name;
        std::printf("    %-7.*s fast nrmse %.5f, searching reference %.5f\n",
                    static_cast<int>(name.size()), name.data(), fast, ref);
        EXPECT_LT(fast, c.cap);
        EXPECT_LT(fast, 1.35 * ref + 1e-6) << "reference " << ref;
    }
}

TEST(QuantizeFast, Q8_0MatchesReference) {
    const std::vector<float> x = gaussian_row(512, 3);
    std::vector<uint8_t> a(row_bytes(GgmlType::kQ8_0, x.size())), b(a.size());
    quantize_row_fast(GgmlType::kQ8_0, x.data(), a.data(), static_cast<int64_t>(x.size()));
    quantize_row(GgmlType::kQ8_0, x.data(), b.data(), static_cast<int64_t>(x.size()));
    EXPECT_EQ(a, b);
}

// The symmetric formats put the block's extreme exactly on a level: it decodes to itself up to
// the fp16 rounding of the scale.
TEST(QuantizeFast, ExtremeIsExact) {
    for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ5_0}) {
        std::vector<float> x = gaussian_row(32, 11);
        x[5] = -4.0f;
        const std::vector<float> y = fast_round_trip(type, x);
        EXPECT_NEAR(y[5], -4.0f, 4.0f * 1e-3f) << traits(type).name;
    }
}

TEST(QuantizeFast, ZeroAndConstantBlocks) {
    for (const Case& c : kCases) {
        SCOPED_TRACE(traits(c.type).name);
        const std::vector<float> zeros(256, 0.0f);
        for (float v : fast_round_trip(c.type, zeros)) EXPECT_EQ(v, 0.0f);
        const std::vector<float> negative(256, -0.5f);
        for (float v : fast_round_trip(c.type, negative)) EXPECT_NEAR(v, -0.5f, 0.02f);
    }
}

// Mixed magnitudes across sub-blocks (10x, well inside the 6-bit sub-block scale codes' range):
// the small sub-blocks keep a bounded relative error.
TEST(QuantizeFast, SubBlocksOfDifferentScale) {
    std::vector<float> x = gaussian_row(256, 5);
    for (int i = 128; i < 256; ++i) x[static_cast<size_t>(i)] *= 0.1f;
    for (GgmlType type : {GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K}) {
        const std::vector<float> y = fast_round_trip(type, x);
        const std::vector<float> lo_x(x.begin() + 128, x.end()), lo_y(y.begin() + 128, y.end());
        EXPECT_LT(normalised_rmse(lo_x, lo_y), 0.25) << traits(type).name;
    }
}

// Non-finite input must not hit undefined behaviour (UBSan) and keeps the other blocks intact.
TEST(QuantizeFast, NonFiniteInputIsContained) {
    for (const Case& c : kCases) {
        std::vector<float> x = gaussian_row(512, 9);
        x[3] = std::numeric_limits<float>::quiet_NaN();
        x[40] = std::numeric_limits<float>::infinity();
        const std::vector<float> y = fast_round_trip(c.type, x);
        const std::vector<float> tail_x(x.begin() + 256, x.end()), tail_y(y.begin() + 256, y.end());
        EXPECT_LT(normalised_rmse(tail_x, tail_y), c.cap) << traits(c.type).name;
    }
}

TEST(QuantizeFast, OtherTypesFallBackToReference) {
    EXPECT_FALSE(has_fast_quantizer(GgmlType::kIQ3_S));
    const std::vector<float> x = gaussian_row(256, 13);
    std::vector<uint8_t> a(row_bytes(GgmlType::kIQ3_S, x.size())), b(a.size());
    quantize_row_fast(GgmlType::kIQ3_S, x.data(), a.data(), 256);
    quantize_row(GgmlType::kIQ3_S, x.data(), b.data(), 256);
    EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace rf::quant
