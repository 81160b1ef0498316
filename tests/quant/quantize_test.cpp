// quantize_row: round-trip error on Gaussian rows against per-type bounds (derived in
// docs/QUANT.md), importance weighting, and inputs that must never produce NaN or Inf.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/reference.h"
#include "quant/types.h"
#include "quant_test_util.h"

namespace rf::quant {
namespace {

using test::gaussian_row;
using test::normalised_rmse;
using test::round_trip;

// Normalised RMSE bounds on N(0, 1) data: 1.03 x the error of the textbook max-scaled
// round-to-nearest quantizer of the same format (docs/QUANT.md derives them); F16/BF16 are
// bounded by half an ulp (2^-11, 2^-8 relative).
struct Bound {
    GgmlType type;
    double nrmse;
};
constexpr Bound kBounds[] = {
    {GgmlType::kF32, 0.0},       {GgmlType::kF16, 4.9e-4},    {GgmlType::kBF16, 3.91e-3},
    {GgmlType::kQ4_0, 0.0885},   {GgmlType::kQ4_1, 0.0806},   {GgmlType::kQ5_0, 0.0440},
    {GgmlType::kQ5_1, 0.0390},   {GgmlType::kQ8_0, 0.00552},  {GgmlType::kQ8_1, 0.00552},
    {GgmlType::kQ2_K, 0.337},    {GgmlType::kQ3_K, 0.160},    {GgmlType::kQ4_K, 0.0806},
    {GgmlType::kQ5_K, 0.0390},   {GgmlType::kQ6_K, 0.0193},   {GgmlType::kQ8_K, 0.00717},
    {GgmlType::kIQ4_NL, 0.0824}, {GgmlType::kIQ4_XS, 0.0824}, {GgmlType::kMXFP4, 0.119},
    {GgmlType::kTQ1_0, 0.831},   {GgmlType::kTQ2_0, 0.831},
};

std::string name_of(GgmlType type) {
    return std::string(traits(type).name);
}

std::vector<uint8_t> quantize(GgmlType type, const std::vector<float>& x,
                              const float* importance = nullptr) {
    std::vector<uint8_t> bytes(row_bytes(type, x.size()));
    EXPECT_EQ(
        quantize_row(type, x.data(), bytes.data(), static_cast<int64_t>(x.size()), importance),
        bytes.size());
    return bytes;
}

// Row lengths of one block up to many; enough rows of each that 16384+ values are measured.
std::vector<int64_t> row_lengths(GgmlType type) {
    const int64_t bs = traits(type).block_size;
    if (bs == 32) return {32, 96, 256, 1024, 4096};
    return {256, 1024, 4096};
}

class QuantizeBound : public ::testing::TestWithParam<Bound> {};

TEST_P(QuantizeBound, GaussianRoundTripWithinBound) {
    const Bound b = GetParam();
    ASSERT_TRUE(can_quantize(b.type));
    for (const int64_t len : row_lengths(b.type)) {
        std::vector<float> x, y;
        for (uint32_t r = 0; x.size() < 16384; ++r) {
            const auto row = gaussian_row(len, 1000u * static_cast<uint32_t>(len) + r);
            const auto back = round_trip(b.type, row);
            x.insert(x.end(), row.begin(), row.end());
            y.insert(y.end(), back.begin(), back.end());
        }
        const double e = normalised_rmse(x, y);
        EXPECT_LE(e, b.nrmse) << name_of(b.type) << " row length " << len;
        if (len == 4096)
            std::printf("    %-7s nrmse %.5f (bound %.5f)\n", name_of(b.type).c_str(), e, b.nrmse);
    }
}

INSTANTIATE_TEST_SUITE_P(AllQuantizable, QuantizeBound, ::testing::ValuesIn(kBounds),
                         [](const ::testing::TestParamInfo<Bound>& param_info) {
                             return std::string(traits(param_info.param.type).name);
                         });

// The same data scaled by 2^k quantizes to the same codes (the search works on a normalised
// copy), so the relative error does not depend on magnitude anywhere in the fp16 range.
TEST(Quantize, ErrorIndependentOfPowerOfTwoScale) {
    for (const Bound& b : kBounds) {
        if (b.type == GgmlType::kQ8_K || b.type == GgmlType::kMXFP4 || !traits(b.type).is_quantized)
            continue;
        const auto x = gaussian_row(1024, 77);
        // Factors that keep every fp16 scale a normal number (subnormal scales lose precision).
        std::vector<float> big(x), small(x);
        for (float& v : big) v *= 64.0f;
        for (float& v : small) v /= 4.0f;
        const double e = normalised_rmse(x, round_trip(b.type, x));
        EXPECT_DOUBLE_EQ(normalised_rmse(big, round_trip(b.type, big)), e) << name_of(b.type);
        EXPECT_DOUBLE_EQ(normalised_rmse(small, round_trip(b.type, small)), e) << name_of(b.type);
    }
}

TEST(Quantize, ImportanceLowersTheWeightedError) {
    const GgmlType types[] = {
        GgmlType::kQ4_0,   GgmlType::kQ4_1,  GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ2_K,
        GgmlType::kQ3_K,   GgmlType::kQ4_K,  GgmlType::kQ5_K, GgmlType::kQ6_K, GgmlType::kIQ4_NL,
        GgmlType::kIQ4_XS, GgmlType::kTQ1_0, GgmlType::kMXFP4};
    const int64_t n = 4096;
    std::vector<float> importance(n);
    for (int64_t i = 0; i < n; ++i)
        importance[i] = std::exp(static_cast<float>((i * 7919) % 97) / 24.0f);
    for (const GgmlType type : types) {
        double plain = 0, guided = 0, ref = 0;
        for (uint32_t r = 0; r < 8; ++r) {
            const auto x = gaussian_row(n, 500 + r);
            const auto y0 = round_trip(type, x);
            const auto y1 = round_trip(type, x, importance.data());
            for (int64_t i = 0; i < n; ++i) {
                const double w = static_cast<double>(importance[i]), xi = static_cast<double>(x[i]);
                const double e0 = xi - static_cast<double>(y0[i]),
                             e1 = xi - static_cast<double>(y1[i]);
                plain += w * e0 * e0;
                guided += w * e1 * e1;
                ref += w * xi * xi;
            }
        }
        // One scale per 256 (ternary) or a power-of-two scale (FP4) leave little to steer.
        const bool few_choices = type == GgmlType::kTQ1_0 || type == GgmlType::kMXFP4;
        EXPECT_LT(guided, plain * (few_choices ? 1.0 : 0.99))
            << name_of(type) << " weighted nrmse " << std::sqrt(guided / ref) << " vs "
            << std::sqrt(plain / ref);
    }
}

// ---- inputs that must stay finite ---------------------------------------------------------------

// Every quantizable type: each row below must come back finite; returns the decoded row.
std::vector<float> finite_round_trip(GgmlType type, const std::vector<float>& x, const char* what) {
    const auto y = round_trip(type, x);
    for (size_t i = 0; i < y.size(); ++i) {
        EXPECT_TRUE(std::isfinite(y[i]))
            << name_of(type) << " " << what << " element " << i << " input " << x[i];
        if (!std::isfinite(y[i])) break;
    }
    return y;
}

TEST(Quantize, ZerosGiveZeros) {
    for (const Bound& b : kBounds) {
        const std::vector<float> x(512, 0.0f);
        const auto y = finite_round_trip(b.type, x, "zeros");
        for (float v : y) ASSERT_EQ(v, 0.0f) << name_of(b.type);
    }
}

TEST(Quantize, ConstantBlocksAreNearlyExact) {
    for (const Bound& b : kBounds) {
        for (const float c : {1.0f, -3.5f, 0.3f, -1234.5f, 2e-3f}) {
            const std::vector<float> x(512, c);
            const auto y = finite_round_trip(b.type, x, "constant");
            // FP4 values are 2 bits of mantissa apart (0.3 lies between 0.25 and 0.375: up to 20%),
            // bf16 has 8 significant bits, every other format >= 11. At 2e-3 the K-quant
            // super-block scales (c / 15 / 63) are fp16 subnormals with few significant bits.
            float tol =
                b.type == GgmlType::kMXFP4 ? 0.2f : (b.type == GgmlType::kBF16 ? 4e-3f : 1e-3f);
            if (c < 0.01f && c > 0) tol = std::fmax(tol, 0.02f);
            for (float v : y)
                ASSERT_NEAR(v, c, std::fabs(c) * tol) << name_of(b.type) << " c=" << c;
        }
    }
}

TEST(Quantize, HugeTinyAndNonFiniteInputsStayFinite) {
    const auto g = gaussian_row(512, 9);
    for (const Bound& b : kBounds) {
        if (b.type == GgmlType::kF32) continue;  // F32 stores inputs as they are
        std::vector<float> huge(g), tiny(g), subnormal(g), mixed(g), nonfinite(g), extremes(512);
        for (size_t i = 0; i < g.size(); ++i) {
            huge[i] *= 1e30f;
            tiny[i] *= 1e-30f;
            subnormal[i] *= 1e-40f;
            if (i % 64 == 5) mixed[i] = 3e38f;
            extremes[i] = (i % 3 == 0) ? FLT_MAX : ((i % 3 == 1) ? -FLT_MAX : FLT_MIN);
        }
        nonfinite[3] = std::numeric_limits<float>::quiet_NaN();
        nonfinite[40] = std::numeric_limits<float>::infinity();
        nonfinite[300] = -std::numeric_limits<float>::infinity();
        finite_round_trip(b.type, huge, "huge");
        finite_round_trip(b.type, tiny, "tiny");
        finite_round_trip(b.type, subnormal, "subnormal");
        finite_round_trip(b.type, mixed, "mixed");
        finite_round_trip(b.type, extremes, "extremes");
        // F16 / BF16 keep infinities and NaN as they are; every block format replaces them.
        if (traits(b.type).is_quantized) finite_round_trip(b.type, nonfinite, "non-finite");
    }
}

// Arbitrary bit patterns (NaN payloads, infinities, subnormals, every exponent) in every block
// format, with and without equally arbitrary importance: finite output, no crash.
TEST(Quantize, RandomBitPatternsStayFinite) {
    std::mt19937 rng(2024);
    std::vector<float> x(1024), importance(1024);
    for (size_t i = 0; i < x.size(); ++i) {
        const uint32_t a = rng(), b = rng();
        std::memcpy(&x[i], &a, 4);
        std::memcpy(&importance[i], &b, 4);
    }
    for (const Bound& b : kBounds) {
        if (!traits(b.type).is_quantized) continue;
        const float* const variants[] = {nullptr, importance.data()};
        for (const float* imp : variants) {
            const auto y = round_trip(b.type, x, imp);
            for (size_t i = 0; i < y.size(); ++i)
                ASSERT_TRUE(std::isfinite(y[i])) << name_of(b.type) << " " << i;
        }
    }
}

// Blocks whose values exceed what an fp16 scale can express saturate instead of overflowing.
TEST(Quantize, Fp16ScalesSaturate) {
    const std::vector<float> x(256, 1e9f);
    for (const GgmlType type :
         {GgmlType::kQ4_0, GgmlType::kQ4_K, GgmlType::kQ6_K, GgmlType::kIQ4_XS}) {
        const auto y = finite_round_trip(type, x, "saturating");
        for (float v : y) EXPECT_GT(v, 1e5f) << name_of(type);
    }
}

// ---- determinism, alignment, format details -----------------------------------------------------

TEST(Quantize, DeterministicAndAlignmentFree) {
    const auto x = gaussian_row(1024, 31);
    for (const Bound& b : kBounds) {
        const auto first = quantize(b.type, x);
        EXPECT_EQ(quantize(b.type, x), first) << name_of(b.type);
        std::vector<uint8_t> shifted(first.size() + 1);
        quantize_row(b.type, x.data(), shifted.data() + 1, 1024);
        EXPECT_EQ(std::memcmp(shifted.data() + 1, first.data(), first.size()), 0)
            << name_of(b.type);
    }
}

TEST(Quantize, TernaryInputIsExact) {
    std::vector<float> x(512);
    for (size_t i = 0; i < x.size(); ++i)
        x[i] = 0.75f * static_cast<float>(static_cast<int>((i * 37) % 3) - 1);
    for (const GgmlType type : {GgmlType::kTQ1_0, GgmlType::kTQ2_0})
        EXPECT_EQ(round_trip(type, x), x) << name_of(type);
}

TEST(Quantize, Q8KSumsAndQ81Sum) {
    const auto x = gaussian_row(256, 5);
    BlockQ8_K k;
    quantize_row(GgmlType::kQ8_K, x.data(), &k, 256);
    for (int j = 0; j < 16; ++j) {
        int sum = 0;
        for (int l = 0; l < 16; ++l) {
            sum += k.qs[16 * j + l];
            EXPECT_GE(k.qs[16 * j + l], -127);
        }
        EXPECT_EQ(k.bsums[j], sum);
    }
    BlockQ8_1 q;
    quantize_row(GgmlType::kQ8_1, x.data(), &q, 32);
    int sum = 0;
    for (int8_t v : q.qs) sum += v;
    EXPECT_NEAR(fp16_to_float(q.s), fp16_to_float(q.d) * static_cast<float>(sum), 0.01f);
}

TEST(Quantize, F16SaturatesInsteadOfOverflowing) {
    const std::vector<float> x = {1e6f, -1e6f, 65504.0f, 1.0f};
    EXPECT_EQ(round_trip(GgmlType::kF16, x),
              (std::vector<float>{65504.0f, -65504.0f, 65504.0f, 1.0f}));
}

// quantize_row reaches the grid i-quant quantizers (their own tests bound the error tightly).
TEST(Quantize, GridIQuantsThroughQuantizeRow) {
    const auto x = gaussian_row(512, 21);
    for (const GgmlType type : {GgmlType::kIQ2_XXS, GgmlType::kIQ2_XS, GgmlType::kIQ2_S,
                                GgmlType::kIQ3_XXS, GgmlType::kIQ3_S, GgmlType::kIQ1_S}) {
        ASSERT_TRUE(can_quantize(type)) << name_of(type);
        EXPECT_LT(normalised_rmse(x, round_trip(type, x)), 0.5) << name_of(type);
        std::vector<uint8_t> shifted(row_bytes(type, x.size()) + 1);
        quantize_row(type, x.data(), shifted.data() + 1, 512);  // any alignment
        EXPECT_EQ(std::vector<uint8_t>(shifted.begin() + 1, shifted.end()), quantize(type, x))
            << name_of(type);
    }
}

TEST(Quantize, CanQuantizeCoversTheReferenceTypes) {
    for (const Bound& b : kBounds) EXPECT_TRUE(can_quantize(b.type)) << name_of(b.type);
    EXPECT_FALSE(can_quantize(GgmlType::kIQ1_M));
    EXPECT_FALSE(can_quantize(GgmlType::kI32));
    EXPECT_FALSE(can_quantize(GgmlType::kF64));
}

}  // namespace
}  // namespace rf::quant
