// fp16/bf16 conversions: exhaustive round trips and rounding at the boundaries.
#include "core/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace rf {
namespace {

TEST(Half, EveryFp16RoundTripsExactly) {
    for (uint32_t h = 0; h <= 0xffff; ++h) {
        const float f = fp16_to_float(static_cast<uint16_t>(h));
        if (std::isnan(f)) {
            EXPECT_TRUE(std::isnan(fp16_to_float(float_to_fp16(f))));
            continue;
        }
        EXPECT_EQ(float_to_fp16(f), h) << "h=" << h;
    }
}

TEST(Half, KnownValues) {
    EXPECT_EQ(fp16_to_float(0x3c00), 1.0f);
    EXPECT_EQ(fp16_to_float(0xc000), -2.0f);
    EXPECT_EQ(fp16_to_float(0x7bff), 65504.0f);
    EXPECT_EQ(fp16_to_float(0x0001), std::ldexp(1.0f, -24));
    EXPECT_TRUE(std::isinf(fp16_to_float(0x7c00)));
    EXPECT_EQ(float_to_fp16(65520.0f), 0x7c00);  // halfway to the next binade rounds to inf
    EXPECT_EQ(float_to_fp16(65519.0f), 0x7bff);
    EXPECT_EQ(float_to_fp16(std::ldexp(1.0f, -25)), 0x0000);          // tie rounds to even (0)
    EXPECT_EQ(float_to_fp16(std::ldexp(1.5f, -25)), 0x0001);          // above the tie
    EXPECT_EQ(float_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);   // tie to even
    EXPECT_EQ(float_to_fp16(1.0f + std::ldexp(3.0f, -11)), 0x3c02);   // tie to even (up)
    EXPECT_EQ(float_to_fp16(-0.0f), 0x8000);
}

TEST(Half, MatchesNearestForRandomFloats) {
    uint32_t state = 12345;
    for (int i = 0; i < 200000; ++i) {
        state = state * 1664525u + 1013904223u;
        const float f = std::ldexp(static_cast<float>(state >> 8) / 16777216.0f - 0.5f,
                                   static_cast<int>(state % 40) - 26);
        const float back = fp16_to_float(float_to_fp16(f));
        // The result is one of the two neighbours and no farther than the other neighbour.
        const uint16_t h = float_to_fp16(f);
        const float up = fp16_to_float(static_cast<uint16_t>(h + 1));
        const float down = (h & 0x7fff) ? fp16_to_float(static_cast<uint16_t>(h - 1)) : back;
        EXPECT_LE(std::fabs(back - f), std::fabs(up - f));
        EXPECT_LE(std::fabs(back - f), std::fabs(down - f));
    }
}

TEST(BFloat16, RoundTripAndRounding) {
    for (uint32_t h = 0; h <= 0xffff; ++h) {
        const float f = bf16_to_float(static_cast<uint16_t>(h));
        if (std::isnan(f)) continue;
        EXPECT_EQ(float_to_bf16(f), h);
    }
    EXPECT_EQ(float_to_bf16(bits_to_float(0x3f808000u)), 0x3f80);  // tie to even (down)
    EXPECT_EQ(float_to_bf16(bits_to_float(0x3f818000u)), 0x3f82);  // tie to even (up)
    EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
}

}  // namespace
}  // namespace rf
