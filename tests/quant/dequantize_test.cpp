// Hand-built blocks with values that follow from the format definitions: every nibble / bit
// position, scale packing, sign conventions and extreme scales of each non-grid type.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/k_scales.h"
#include "quant/reference.h"
#include "quant/value_tables.h"

namespace rf::quant {
namespace {

constexpr uint16_t kOne = 0x3c00, kHalf = 0x3800, kMinusTwo = 0xc000, kMaxHalf = 0x7bff,
                   kTiny = 0x0001;

template <class Block>
std::vector<float> decode(GgmlType type, const std::vector<Block>& blocks) {
    std::vector<float> out(blocks.size() * traits(type).block_size);
    dequantize_row(type, blocks.data(), out.data(), static_cast<int64_t>(out.size()));
    return out;
}

// ---- plain types ------------------------------------------------------------------------------

TEST(DequantizePlain, IntegerAndFloatTypes) {
    const int8_t i8[] = {-128, -1, 0, 127};
    const int16_t i16[] = {-32768, -1, 0, 32767};
    const int32_t i32[] = {-2147483647 - 1, -7, 0, 16777217};
    const int64_t i64[] = {INT64_MIN, -3, 0, int64_t{1} << 40};
    const double f64[] = {-1.5, 0.1, 1e300, -0.0};
    float out[4];
    dequantize_row(GgmlType::kI8, i8, out, 4);
    EXPECT_EQ(out[0], -128.0f);
    EXPECT_EQ(out[3], 127.0f);
    dequantize_row(GgmlType::kI16, i16, out, 4);
    EXPECT_EQ(out[0], -32768.0f);
    EXPECT_EQ(out[3], 32767.0f);
    dequantize_row(GgmlType::kI32, i32, out, 4);
    EXPECT_EQ(out[0], -2147483648.0f);
    EXPECT_EQ(out[1], -7.0f);
    EXPECT_EQ(out[3], 16777216.0f);  // nearest float
    dequantize_row(GgmlType::kI64, i64, out, 4);
    EXPECT_EQ(out[0], -9223372036854775808.0f);
    EXPECT_EQ(out[3], 1099511627776.0f);
    dequantize_row(GgmlType::kF64, f64, out, 4);
    EXPECT_EQ(out[0], -1.5f);
    EXPECT_EQ(out[1], 0.1f);
    EXPECT_TRUE(std::isinf(out[2]));  // beyond float range
    EXPECT_TRUE(std::signbit(out[3]));
}

TEST(DequantizePlain, HalfTypes) {
    const uint16_t f16[] = {kOne, kMinusTwo, kMaxHalf, kTiny, 0x8000, 0x7c00};
    const uint16_t bf16[] = {0x3f80, 0xc000, 0x7f7f, 0x0001, 0x8000, 0xff80};
    float out[6];
    dequantize_row(GgmlType::kF16, f16, out, 6);
    EXPECT_EQ(out[0], 1.0f);
    EXPECT_EQ(out[1], -2.0f);
    EXPECT_EQ(out[2], 65504.0f);
    EXPECT_EQ(out[3], std::ldexp(1.0f, -24));
    EXPECT_TRUE(out[4] == 0.0f && std::signbit(out[4]));
    EXPECT_TRUE(std::isinf(out[5]));
    dequantize_row(GgmlType::kBF16, bf16, out, 6);
    EXPECT_EQ(out[0], 1.0f);
    EXPECT_EQ(out[1], -2.0f);
    EXPECT_EQ(out[2], 3.3895313892515355e38f);
    EXPECT_EQ(out[3], std::ldexp(1.0f, -133));
    EXPECT_TRUE(std::isinf(out[5]) && out[5] < 0);
    const float f32[] = {1.25f, -0.0f};
    dequantize_row(GgmlType::kF32, f32, out, 2);
    EXPECT_EQ(out[0], 1.25f);
}

// Every type in the type table decodes (all-zero bytes give finite values, zeros for blocks).
TEST(DequantizePlain, EveryTypeHasADequantizer) {
    for (const TypeTraits& t : all_types()) {
        const int64_t n = 2 * t.block_size;
        const std::vector<uint8_t> zeros(row_bytes(t.type, static_cast<size_t>(n)), 0);
        std::vector<float> out(static_cast<size_t>(n), 1.0f);
        dequantize_row(t.type, zeros.data(), out.data(), n);
        for (float v : out) ASSERT_EQ(v, 0.0f) << t.name;
    }
}

// ---- 32-element formats -------------------------------------------------------------------------

TEST(DequantizeQ4_0, EveryNibblePositionAndValue) {
    BlockQ4_0 b{};
    b.d = kHalf;
    for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    const auto y = decode(GgmlType::kQ4_0, std::vector<BlockQ4_0>{b});
    for (int j = 0; j < 16; ++j) {
        EXPECT_EQ(y[j], 0.5f * static_cast<float>(j - 8)) << j;       // low nibble: element j
        EXPECT_EQ(y[j + 16], 0.5f * static_cast<float>(7 - j)) << j;  // high nibble: j + 16
    }
}

TEST(DequantizeQ4_0, ExtremeAndNegativeScales) {
    BlockQ4_0 b{};
    for (int j = 0; j < 16; ++j) b.qs[j] = 0xF0;  // elements 0..15: q = 0, 16..31: q = 15
    std::vector<BlockQ4_0> blocks(3, b);
    blocks[0].d = kMaxHalf;
    blocks[1].d = kTiny;
    blocks[2].d = kMinusTwo;
    const auto y = decode(GgmlType::kQ4_0, blocks);
    EXPECT_EQ(y[0], -8.0f * 65504.0f);
    EXPECT_EQ(y[16], 7.0f * 65504.0f);
    EXPECT_EQ(y[32], -8.0f * std::ldexp(1.0f, -24));
    EXPECT_EQ(y[64], 16.0f);
    EXPECT_EQ(y[80], -14.0f);
}

TEST(DequantizeQ4_1, ScalePlusMin) {
    BlockQ4_1 b{};
    b.d = 0x3400;  // 0.25
    b.m = 0xbe00;  // -1.5
    for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    const auto y = decode(GgmlType::kQ4_1, std::vector<BlockQ4_1>{b});
    for (int j = 0; j < 16; ++j) {
        EXPECT_EQ(y[j], 0.25f * static_cast<float>(j) - 1.5f);
        EXPECT_EQ(y[j + 16], 0.25f * static_cast<float>(15 - j) - 1.5f);
    }
}

TEST(DequantizeQ5, FifthBitIsLittleEndianBitJ) {
    for (int j = 0; j < 32; ++j) {
        BlockQ5_0 b{};
        b.d = kOne;
        const uint32_t qh = 1u << j;
        std::memcpy(b.qh, &qh, 4);
        const auto y = decode(GgmlType::kQ5_0, std::vector<BlockQ5_0>{b});
        for (int k = 0; k < 32; ++k) EXPECT_EQ(y[k], k == j ? 0.0f : -16.0f) << j << " " << k;
    }
    BlockQ5_1 b{};
    b.d = kHalf;
    b.m = kOne;
    for (int j = 0; j < 16; ++j) b.qs[j] = 0xFF;
    b.qh[0] = 0x01;
    b.qh[3] = 0x80;
    const auto y = decode(GgmlType::kQ5_1, std::vector<BlockQ5_1>{b});
    EXPECT_EQ(y[0], 0.5f * 31 + 1);
    EXPECT_EQ(y[1], 0.5f * 15 + 1);
    EXPECT_EQ(y[31], 0.5f * 31 + 1);
}

TEST(DequantizeQ8, SignedQuantsAndIgnoredSum) {
    BlockQ8_0 b{};
    b.d = kMinusTwo;
    for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(j * 8 - 128);
    BlockQ8_1 c{};
    c.d = kHalf;
    c.s = kMaxHalf;  // a cached sum; must not change the values
    for (int j = 0; j < 32; ++j) c.qs[j] = static_cast<int8_t>(127 - j);
    const auto y0 = decode(GgmlType::kQ8_0, std::vector<BlockQ8_0>{b});
    const auto y1 = decode(GgmlType::kQ8_1, std::vector<BlockQ8_1>{c});
    for (int j = 0; j < 32; ++j) {
        EXPECT_EQ(y0[j], -2.0f * static_cast<float>(j * 8 - 128));
        EXPECT_EQ(y1[j], 0.5f * static_cast<float>(127 - j));
    }
}

TEST(DequantizeIQ4_NL, CodebookInBothNibbles) {
    BlockIQ4_NL b{};
    b.d = kMinusTwo;
    for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    const auto y = decode(GgmlType::kIQ4_NL, std::vector<BlockIQ4_NL>{b});
    const float table[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                             1,    13,   25,  38,  53,  69,  89,  113};
    for (int j = 0; j < 16; ++j) {
        EXPECT_EQ(y[j], -2.0f * table[j]);
        EXPECT_EQ(y[j + 16], -2.0f * table[15 - j]);
    }
}

TEST(DequantizeMXFP4, E8M0ScaleAndFp4Values) {
    const float fp4[16] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};
    std::vector<BlockMXFP4> blocks(5);
    const uint8_t exps[5] = {127, 0, 1, 130, 252};
    for (int i = 0; i < 5; ++i) {
        blocks[i].e = exps[i];
        for (int j = 0; j < 16; ++j) blocks[i].qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    }
    const auto y = decode(GgmlType::kMXFP4, blocks);
    for (int i = 0; i < 5; ++i) {
        const float scale = std::ldexp(1.0f, exps[i] - 127);  // 2^(e-127); fp4 values are exact
        for (int j = 0; j < 16; ++j) {
            EXPECT_EQ(y[32 * i + j], fp4[j] * scale) << "e=" << int(exps[i]) << " j=" << j;
            EXPECT_EQ(y[32 * i + 16 + j], fp4[15 - j] * scale);
        }
    }
    EXPECT_EQ(e8m0_to_float_half(0), std::ldexp(1.0f, -128));
    EXPECT_EQ(e8m0_to_float_half(255), std::ldexp(1.0f, 127));
}

// ---- scale packing ------------------------------------------------------------------------------

TEST(KScales, Q4KPackingKnownBytes) {
    const uint8_t bytes[12] = {0x3F, 0x01, 0xC2, 0x43, 0x05, 0x86,
                               0x07, 0x48, 0xA9, 0x3B, 0xFC, 0x0D};
    const uint8_t want_sc[8] = {63, 1, 2, 3, 9, 11, 60, 29};
    const uint8_t want_m[8] = {5, 6, 7, 8, 10, 35, 15, 16};
    for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        unpack_scale_min_k4(j, bytes, &sc, &m);
        EXPECT_EQ(sc, want_sc[j]) << j;
        EXPECT_EQ(m, want_m[j]) << j;
    }
    uint8_t packed[12];
    pack_scale_min_k4(want_sc, want_m, packed);
    // Bits the format leaves unused may differ; the decoded values may not.
    for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        unpack_scale_min_k4(j, packed, &sc, &m);
        EXPECT_EQ(sc, want_sc[j]);
        EXPECT_EQ(m, want_m[j]);
    }
}

TEST(KScales, Q3KPackingKnownBytes) {
    const uint8_t bytes[12] = {0x10, 0x32, 0x54, 0x76, 0x98, 0xBA,
                               0xDC, 0xFE, 0xE4, 0x00, 0x00, 0xFF};
    // Low nibbles: j < 8 -> 0, 2, .., 14; j >= 8 -> 1, 3, .., 15. High pairs from bytes[8 + j%4].
    EXPECT_EQ(unpack_scale_q3_k(0, bytes), 0 - 32);
    EXPECT_EQ(unpack_scale_q3_k(4, bytes), (8 | (1 << 4)) - 32);
    EXPECT_EQ(unpack_scale_q3_k(8, bytes), (1 | (2 << 4)) - 32);
    EXPECT_EQ(unpack_scale_q3_k(12, bytes), (9 | (3 << 4)) - 32);
    EXPECT_EQ(unpack_scale_q3_k(3, bytes), (6 | (3 << 4)) - 32);
    EXPECT_EQ(unpack_scale_q3_k(15, bytes), (15 | (3 << 4)) - 32);
    uint8_t biased[16], packed[12];
    for (int j = 0; j < 16; ++j) biased[j] = static_cast<uint8_t>((j * 37 + 5) % 64);
    pack_scales_q3_k(biased, packed);
    for (int j = 0; j < 16; ++j) EXPECT_EQ(unpack_scale_q3_k(j, packed), biased[j] - 32) << j;
}

// ---- K-quants -----------------------------------------------------------------------------------

// Q2_K: scales[s] low nibble scales sub-block s (16 elements), high nibble is its min.
TEST(DequantizeQ2_K, ScaleAndMinNibblesPerSubBlock) {
    BlockQ2_K b{};
    b.d = kOne;
    b.dmin = kHalf;
    for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<uint8_t>(s | ((15 - s) << 4));
    for (uint8_t& q : b.qs) q = 0xFF;  // every element q = 3
    const auto y = decode(GgmlType::kQ2_K, std::vector<BlockQ2_K>{b});
    for (int e = 0; e < 256; ++e) {
        const int s = e / 16;
        EXPECT_EQ(y[e], static_cast<float>(s) * 3.0f - 0.5f * static_cast<float>(15 - s)) << e;
    }
}

TEST(DequantizeQ2_K, EveryBitPairPosition) {
    for (int e = 0; e < 256; ++e) {
        BlockQ2_K b{};
        b.d = kOne;
        for (uint8_t& s : b.scales) s = 1;
        const int q = 1 + e % 3;
        b.qs[32 * (e / 128) + e % 32] = static_cast<uint8_t>(q << (2 * ((e % 128) / 32)));
        const auto y = decode(GgmlType::kQ2_K, std::vector<BlockQ2_K>{b});
        for (int k = 0; k < 256; ++k)
            ASSERT_EQ(y[k], k == e ? static_cast<float>(q) : 0.0f) << e << " " << k;
    }
}

TEST(DequantizeQ3_K, HighBitMaskAndSignedScales) {
    for (int e = 0; e < 256; ++e) {
        BlockQ3_K b{};
        b.d = kMinusTwo;
        uint8_t biased[16];
        for (int s = 0; s < 16; ++s) biased[s] = 33;  // scale +1
        pack_scales_q3_k(biased, b.scales);
        for (uint8_t& h : b.hmask) h = 0xFF;                        // high bit set: no -4 offset
        b.hmask[e % 32] = static_cast<uint8_t>(~(1u << (e / 32)));  // element e: q - 4
        b.qs[32 * (e / 128) + e % 32] = static_cast<uint8_t>(3 << (2 * ((e % 128) / 32)));
        const auto y = decode(GgmlType::kQ3_K, std::vector<BlockQ3_K>{b});
        for (int k = 0; k < 256; ++k) {
            const float want = k == e ? -2.0f * (3 - 4) : 0.0f;
            ASSERT_EQ(y[k], want) << e << " " << k;
        }
    }
    BlockQ3_K b{};
    b.d = kOne;
    uint8_t biased[16];
    for (int s = 0; s < 16; ++s) biased[s] = static_cast<uint8_t>(s * 4 + 3);  // -29 .. 31
    pack_scales_q3_k(biased, b.scales);
    const auto y = decode(GgmlType::kQ3_K, std::vector<BlockQ3_K>{b});  // all q = 0 - 4
    for (int e = 0; e < 256; ++e)
        EXPECT_EQ(y[e], static_cast<float>((e / 16) * 4 + 3 - 32) * -4.0f);
}

// Sets the 4-bit quant of element e in a Q4_K / Q5_K qs array (chunks of 64: low nibbles first).
void set_k_nibble(uint8_t* qs, int e, int v) {
    const int c = e / 64, half = (e % 64) / 32, l = e % 32;
    qs[32 * c + l] = static_cast<uint8_t>(qs[32 * c + l] | (v << (4 * half)));
}

TEST(DequantizeQ4_K, NibblesScalesAndMins) {
    BlockQ4_K b{};
    b.d = kHalf;
    b.dmin = kOne;
    const uint8_t sc[8] = {1, 63, 2, 40, 7, 0, 33, 16}, mn[8] = {0, 1, 63, 5, 32, 17, 9, 2};
    pack_scale_min_k4(sc, mn, b.scales);
    for (int e = 0; e < 256; ++e) set_k_nibble(b.qs, e, e % 16);
    const auto y = decode(GgmlType::kQ4_K, std::vector<BlockQ4_K>{b});
    for (int e = 0; e < 256; ++e) {
        const int s = e / 32;
        EXPECT_EQ(y[e], 0.5f * static_cast<float>(sc[s]) * static_cast<float>(e % 16) -
                            static_cast<float>(mn[s]))
            << e;
    }
}

TEST(DequantizeQ5_K, FifthBitIsBitSOfQh) {
    BlockQ5_K b{};
    b.d = kOne;
    const uint8_t sc[8] = {1, 1, 1, 1, 1, 1, 1, 1}, mn[8] = {};
    pack_scale_min_k4(sc, mn, b.scales);
    for (int e = 0; e < 256; ++e) {
        set_k_nibble(b.qs, e, (e * 7) % 16);
        if ((e / 3) % 2) b.qh[e % 32] |= static_cast<uint8_t>(1u << (e / 32));
    }
    const auto y = decode(GgmlType::kQ5_K, std::vector<BlockQ5_K>{b});
    for (int e = 0; e < 256; ++e)
        EXPECT_EQ(y[e], static_cast<float>((e * 7) % 16 + ((e / 3) % 2) * 16)) << e;
}

TEST(DequantizeQ6_K, SixBitQuantsAndInt8Scales) {
    BlockQ6_K b{};
    b.d = kHalf;
    for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<int8_t>(s % 2 ? -128 + s : 127 - s);
    auto q_of = [](int e) { return (e * 29 + 3) % 64; };
    for (int e = 0; e < 256; ++e) {
        const int h = e / 128, quarter = (e % 128) / 32, l = e % 32, q = q_of(e);
        b.ql[64 * h + 32 * (quarter % 2) + l] |=
            static_cast<uint8_t>((q & 0xF) << (quarter < 2 ? 0 : 4));
        b.qh[32 * h + l] |= static_cast<uint8_t>((q >> 4) << (2 * quarter));
    }
    const auto y = decode(GgmlType::kQ6_K, std::vector<BlockQ6_K>{b});
    for (int e = 0; e < 256; ++e) {
        EXPECT_EQ(y[e],
                  0.5f * static_cast<float>(b.scales[e / 16]) * static_cast<float>(q_of(e) - 32))
            << e;
    }
}

TEST(DequantizeQ8_K, FloatScale) {
    BlockQ8_K b{};
    b.d = -0.375f;
    for (int e = 0; e < 256; ++e) b.qs[e] = static_cast<int8_t>(e - 128);
    const auto y = decode(GgmlType::kQ8_K, std::vector<BlockQ8_K>{b});
    for (int e = 0; e < 256; ++e) EXPECT_EQ(y[e], -0.375f * static_cast<float>(e - 128));
}

// The largest and smallest fp16 scales with the extreme codes of each K-quant: exact products,
// nothing overflows a float.
TEST(DequantizeKQuants, ExtremeScalesAndCodes) {
    const float big = 65504.0f, tiny = std::ldexp(1.0f, -24);
    {
        BlockQ4_K b{};
        b.d = kMaxHalf;
        b.dmin = kTiny;
        const uint8_t sc[8] = {63, 63, 63, 63, 63, 63, 63, 63},
                      mn[8] = {63, 0, 63, 0, 63, 0, 63, 0};
        pack_scale_min_k4(sc, mn, b.scales);
        for (uint8_t& q : b.qs) q = 0xFF;
        const auto y = decode(GgmlType::kQ4_K, std::vector<BlockQ4_K>{b});
        for (int e = 0; e < 256; ++e) {
            const float ml = (e / 32) % 2 ? 0.0f : tiny * 63.0f;
            ASSERT_EQ(y[e], big * 63.0f * 15.0f - ml) << e;
        }
    }
    {
        BlockQ6_K b{};
        b.d = 0xfbff;  // -65504
        for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<int8_t>(s % 2 ? -128 : 127);
        const auto y = decode(GgmlType::kQ6_K, std::vector<BlockQ6_K>{b});  // all q = 0 - 32
        for (int e = 0; e < 256; ++e) {
            const float sc = (e / 16) % 2 ? -128.0f : 127.0f;
            ASSERT_EQ(y[e], -big * sc * -32.0f) << e;
            ASSERT_TRUE(std::isfinite(y[e]));
        }
    }
    {
        BlockQ3_K b{};
        b.d = kMaxHalf;
        uint8_t biased[16] = {};  // every scale -32
        pack_scales_q3_k(biased, b.scales);
        const auto y = decode(GgmlType::kQ3_K, std::vector<BlockQ3_K>{b});  // all q = 0 - 4
        for (float v : y) ASSERT_EQ(v, big * -32.0f * -4.0f);
    }
    {
        BlockQ2_K b{};
        b.d = kMaxHalf;
        b.dmin = kMaxHalf;
        for (uint8_t& s : b.scales) s = 0xFF;
        const auto y = decode(GgmlType::kQ2_K, std::vector<BlockQ2_K>{b});  // all q = 0
        for (float v : y) ASSERT_EQ(v, -big * 15.0f);
    }
}

TEST(DequantizeIQ4_XS, SixBitScalesPerSubBlock) {
    BlockIQ4_XS b{};
    b.d = kHalf;
    const int biased[8] = {0, 63, 32, 31, 1, 48, 17, 40};
    for (int s = 0; s < 8; ++s) {
        b.scales_l[s / 2] =
            static_cast<uint8_t>(b.scales_l[s / 2] | ((biased[s] & 0xF) << (4 * (s % 2))));
        b.scales_h = static_cast<uint16_t>(b.scales_h | ((biased[s] >> 4) << (2 * s)));
        for (int j = 0; j < 16; ++j) b.qs[16 * s + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    }
    const auto y = decode(GgmlType::kIQ4_XS, std::vector<BlockIQ4_XS>{b});
    for (int s = 0; s < 8; ++s) {
        const float dl = 0.5f * static_cast<float>(biased[s] - 32);
        for (int j = 0; j < 16; ++j) {
            EXPECT_EQ(y[32 * s + j], dl * static_cast<float>(kIQ4NLValues[j])) << s << " " << j;
            EXPECT_EQ(y[32 * s + 16 + j], dl * static_cast<float>(kIQ4NLValues[15 - j]));
        }
    }
}

// ---- ternary ------------------------------------------------------------------------------------

// Every 5-trit value v (0..242) stored as ceil(v * 256 / 243) decodes to its base-3 digits,
// most significant first, as elements m, m + 32, .., m + 128 of qs[m].
TEST(DequantizeTQ1_0, AllFiveTritValues) {
    for (int v = 0; v < 243; ++v) {
        BlockTQ1_0 b{};
        b.d = kOne;
        for (uint8_t& q : b.qs) q = 128;  // 11111 (base 3): all zeros
        for (uint8_t& q : b.qh) q = 128;
        const int m = v % 32;
        b.qs[m] = static_cast<uint8_t>((v * 256 + 242) / 243);
        const auto y = decode(GgmlType::kTQ1_0, std::vector<BlockTQ1_0>{b});
        int digits[5];
        for (int n = 4, r = v; n >= 0; --n, r /= 3) digits[n] = r % 3;
        for (int e = 0; e < 256; ++e) {
            const bool mine = e < 160 && e % 32 == m;
            ASSERT_EQ(y[e], mine ? static_cast<float>(digits[e / 32] - 1) : 0.0f) << v << " " << e;
        }
    }
}

TEST(DequantizeTQ1_0, TailBytesAndQh) {
    BlockTQ1_0 b{};
    b.d = kMinusTwo;
    for (uint8_t& q : b.qs) q = 128;  // 128 decodes to trit 1 (value 0) in every position
    for (uint8_t& q : b.qh) q = 128;
    b.qs[32 + 5] = 255;  // 22222: elements 160 + 16n + 5 are +1
    // qh carries 4 trits shifted up by one place: 2000 (base 3) -> 54 * 3 = 162 -> ceil(162 * 256 /
    // 243).
    b.qh[2] = static_cast<uint8_t>((162 * 256 + 242) / 243);
    const auto y = decode(GgmlType::kTQ1_0, std::vector<BlockTQ1_0>{b});
    for (int e = 160; e < 240; ++e) EXPECT_EQ(y[e], (e - 160) % 16 == 5 ? -2.0f : 0.0f) << e;
    // qh[j] holds elements 240 + j, 244 + j, 248 + j, 252 + j.
    EXPECT_EQ(y[242], -2.0f);
    EXPECT_EQ(y[246], 2.0f);
    EXPECT_EQ(y[250], 2.0f);
    EXPECT_EQ(y[254], 2.0f);
    EXPECT_EQ(y[240], 0.0f);
    EXPECT_EQ(y[255], 0.0f);
}

TEST(DequantizeTQ2_0, EveryBitPair) {
    BlockTQ2_0 b{};
    b.d = kHalf;
    for (int e = 0; e < 256; ++e) {
        b.qs[32 * (e / 128) + e % 32] |= static_cast<uint8_t>((e % 4) << (2 * ((e % 128) / 32)));
    }
    const auto y = decode(GgmlType::kTQ2_0, std::vector<BlockTQ2_0>{b});
    for (int e = 0; e < 256; ++e)
        EXPECT_EQ(y[e], 0.5f * static_cast<float>(e % 4 - 1)) << e;  // 3 -> +2
}

}  // namespace
}  // namespace rf::quant
