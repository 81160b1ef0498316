// Grid i-quant dequantization: codebook invariants, hand-built blocks whose values follow from
// the format definition, and bit-exact agreement with an independent numpy implementation.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "core/half.h"
#include "quant/dequantize_iq.h"
#include "quant/iq_grids.h"
#include "quant/types.h"

namespace rf::quant {
namespace {

// ---- codebooks -----------------------------------------------------------------------------

template <typename T, size_t N>
void expect_grid(const T (&grid)[N], const std::set<uint8_t>& allowed, const char* name) {
    std::set<T> distinct(std::begin(grid), std::end(grid));
    EXPECT_EQ(distinct.size(), N) << name << " entries must be unique";
    for (size_t i = 0; i < N; ++i) {
        for (size_t j = 0; j < sizeof(T); ++j) {
            const uint8_t byte = static_cast<uint8_t>(grid[i] >> (8 * j));
            ASSERT_TRUE(allowed.count(byte)) << name << "[" << i << "] byte " << j;
        }
    }
}

TEST(IqGrids, ValueSetsAndUniqueness) {
    const std::set<uint8_t> iq2 = {8, 25, 43};
    expect_grid(kIq2xxsGrid, iq2, "iq2xxs");
    expect_grid(kIq2xsGrid, iq2, "iq2xs");
    expect_grid(kIq2sGrid, iq2, "iq2s");
    expect_grid(kIq3xxsGrid, {4, 12, 20, 28, 36, 44, 52, 62}, "iq3xxs");
    expect_grid(kIq3sGrid, {1, 3, 5, 7, 9, 11, 13, 15}, "iq3s");
    expect_grid(kIq1sGrid, {0xff, 0x00, 0x01}, "iq1s");
}

TEST(IqGrids, FirstEntriesAreTheSmallestPoints) {
    static_assert(kIq2xxsGrid[0] == 0x0808080808080808u);
    static_assert(kIq2xsGrid[0] == 0x0808080808080808u);
    static_assert(kIq2sGrid[0] == 0x0808080808080808u);
    static_assert(kIq3xxsGrid[0] == 0x04040404u);
    static_assert(kIq3sGrid[0] == 0x01010101u);
    static_assert(kIq1sGrid[0] == 0xffffffffffffffffu);
    static_assert(iq1_grid_value(kIq1sGrid[0], 7) == -1);
    static_assert(iq_grid_byte(kIq2xxsGrid[1], 0) == 43);  // 0x...2b: element 0 is the low byte
    SUCCEED();
}

TEST(IqSigns, SevenBitCodesExpandToEvenParityBytes) {
    static_assert(iq_sign_byte(0) == 0x00);
    static_assert(iq_sign_byte(1) == 0x81);   // one negative -> the eighth is negated too
    static_assert(iq_sign_byte(3) == 0x03);   // two negatives: already even
    static_assert(iq_sign_byte(0x7f) == 0xff);
    static_assert(iq_sign_byte(0x80 | 5) == 0x05);  // bits above the code are ignored
    std::set<uint8_t> seen;
    for (uint32_t code = 0; code < 128; ++code) {
        const uint8_t b = kIqSignTables.sign_bytes[code];
        EXPECT_EQ(b & 0x7f, code);
        EXPECT_EQ(std::popcount(b) % 2, 0) << code;
        seen.insert(b);
        for (int j = 0; j < 8; ++j) {
            const uint64_t mask = kIqSignTables.sign_masks[code];
            EXPECT_EQ(static_cast<uint8_t>(mask >> (8 * j)), ((b >> j) & 1) ? 0xff : 0x00);
        }
    }
    EXPECT_EQ(seen.size(), 128u);
}

TEST(IqScales, Iq1mScaleNibblesReassemble) {
    // fp16 0x1234: nibble k goes to the top nibble of little-endian word k (odd bytes).
    const uint8_t scales[8] = {0xff, 0x4f, 0xff, 0x3f, 0x00, 0x20, 0x00, 0x10};
    EXPECT_EQ(iq1m_scale_bits(scales), 0x1234);
}

// ---- hand-built blocks ---------------------------------------------------------------------

constexpr uint16_t kOne = 0x3c00;    // fp16 1.0
constexpr uint16_t kTwo = 0x4000;    // fp16 2.0
constexpr uint16_t kMax = 0x7bff;    // fp16 65504

std::vector<float> run_iq2_xxs(const BlockIQ2_XXS& b) {
    std::vector<float> out(kQK_K);
    dequantize_row_iq2_xxs(&b, out.data(), kQK_K);
    return out;
}

TEST(IqDequantHand, Iq2xxsZeroBlockIsOneEighthOfGridZero) {
    BlockIQ2_XXS b{};
    b.d = kOne;  // scale code 0: d * 0.5 / 4 = 0.125; grid 0 = all 8 -> every value is 1.0
    for (float v : run_iq2_xxs(b)) EXPECT_EQ(v, 1.0f);
}

TEST(IqDequantHand, Iq2xxsScaleSignsAndIndex) {
    BlockIQ2_XXS b{};
    b.d = kTwo;
    // Group 1: entries l = 0..3 use grid indices 1, 0, 0, 0; sign codes 1, 0, 0, 0x7f; scale 15.
    b.qs[4] = 0x0001;
    b.qs[5] = 0x0000;
    const uint32_t aux = 1u | (0x7fu << 21) | (15u << 28);
    b.qs[6] = static_cast<uint16_t>(aux & 0xffff);
    b.qs[7] = static_cast<uint16_t>(aux >> 16);
    const std::vector<float> y = run_iq2_xxs(b);
    const float db = 2.0f * 15.5f * 0.25f;
    // Grid entry 1 is 0x080808080808082b: element 0 = 43, others 8. Code 1 negates 0 and 7.
    EXPECT_EQ(y[32 + 0], -43.0f * db);
    for (int j = 1; j < 7; ++j) EXPECT_EQ(y[32 + j], 8.0f * db);
    EXPECT_EQ(y[32 + 7], -8.0f * db);
    for (int j = 8; j < 24; ++j) EXPECT_EQ(y[32 + j], 8.0f * db);
    for (int j = 24; j < 32; ++j) EXPECT_EQ(y[32 + j], -8.0f * db);  // code 0x7f: all negative
    EXPECT_EQ(y[0], 2.0f * 0.125f * 8.0f);                               // group 0 untouched
}

TEST(IqDequantHand, Iq2xsNineBitIndexAndNibbleScales) {
    BlockIQ2_XS b{};
    b.d = kOne;
    b.qs[0] = static_cast<uint16_t>(511 | (1u << 9));  // last grid point, sign code 1
    b.qs[2] = 0;
    b.scales[0] = 0xf0;  // first 16 elements scale code 0, next 16 code 15
    std::vector<float> y(kQK_K);
    dequantize_row_iq2_xs(&b, y.data(), kQK_K);
    const float lo = 0.5f * 0.25f;
    const float hi = 15.5f * 0.25f;
    for (int j = 0; j < 8; ++j) {
        const float mag = static_cast<float>(iq_grid_byte(kIq2xsGrid[511], j));
        const bool neg = j == 0 || j == 7;
        EXPECT_EQ(y[j], neg ? -mag * lo : mag * lo) << j;
    }
    for (int j = 16; j < 24; ++j) EXPECT_EQ(y[j], 8.0f * hi);
}

TEST(IqDequantHand, Iq2sExplicitSignsAndHighIndexBits) {
    BlockIQ2_S b{};
    b.d = kOne;
    b.qs[1] = 0x07;             // entry 1 of group 0: low index bits
    b.qh[0] = 0x3u << 2;        // ...and high bits 3 -> index 0x307
    b.qs[32 + 1] = 0x01;        // explicit sign byte: only element 0 negative, no parity
    b.scales[0] = 0x00;
    std::vector<float> y(kQK_K);
    dequantize_row_iq2_s(&b, y.data(), kQK_K);
    const float db = 0.125f;
    for (int j = 0; j < 8; ++j) {
        const float mag = static_cast<float>(iq_grid_byte(kIq2sGrid[0x307], j));
        EXPECT_EQ(y[8 + j], j == 0 ? -mag * db : mag * db) << j;
    }
    for (int j = 0; j < 8; ++j) EXPECT_EQ(y[j], 1.0f);
}

TEST(IqDequantHand, Iq3xxsTwoEntriesPerGroupOfEight) {
    BlockIQ3_XXS b{};
    b.d = kOne;
    b.qs[0] = 0;      // elements 0..3: grid 0 (all 4)
    b.qs[1] = 255;    // elements 4..7: last grid point
    const uint32_t aux = 0x02u | (3u << 28);  // sign code 2 -> element 1 and 7 negative
    std::memcpy(b.qs + kQK_K / 4, &aux, sizeof aux);
    std::vector<float> y(kQK_K);
    dequantize_row_iq3_xxs(&b, y.data(), kQK_K);
    const float db = 3.5f * 0.5f;
    EXPECT_EQ(y[0], 4.0f * db);
    EXPECT_EQ(y[1], -4.0f * db);
    for (int j = 4; j < 8; ++j) {
        const float mag = static_cast<float>(iq_grid_byte(kIq3xxsGrid[255], j - 4));
        EXPECT_EQ(y[j], j == 7 ? -mag * db : mag * db) << j;
    }
    EXPECT_EQ(y[32], 4.0f * 0.25f);  // group 1: zero word -> d * 0.5 * 0.5 * 4
}

TEST(IqDequantHand, Iq3sNinthIndexBitAndOddScales) {
    BlockIQ3_S b{};
    b.d = kOne;
    b.qs[8 + 1] = 0x00;
    b.qh[1] = 0x02;            // group 1, entry 1 (elements 4..7): index 256
    b.signs[4] = 0x80;         // element 7 of group 1 negative
    b.scales[0] = 0x70;        // group 0 scale code 0 -> 1, group 1 code 7 -> 15
    std::vector<float> y(kQK_K);
    dequantize_row_iq3_s(&b, y.data(), kQK_K);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], 1.0f);  // grid 0 = all 1, scale 1
    for (int j = 4; j < 8; ++j) {
        const float mag = static_cast<float>(iq_grid_byte(kIq3sGrid[256], j - 4));
        EXPECT_EQ(y[32 + j], j == 7 ? -15.0f * mag : 15.0f * mag) << j;
    }
    EXPECT_EQ(y[64], 1.0f);  // group 2 uses scales[1] low nibble (0) -> 1
}

TEST(IqDequantHand, Iq1sDeltaSignScaleAndIndex) {
    BlockIQ1_S b{};
    b.d = kOne;
    b.qh[0] = static_cast<uint16_t>(7u << 12);           // scale 2*7+1 = 15, delta +1/8
    b.qh[1] = static_cast<uint16_t>(0x8000u | (7u << 3));  // scale 1, delta -1/8, entry 1 high 7
    b.qs[4 + 1] = 0xff;                                    // -> entry 1 of group 1: index 2047
    std::vector<float> y(kQK_K);
    dequantize_row_iq1_s(&b, y.data(), kQK_K);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], 15.0f * (-1.0f + 0.125f));
    for (int j = 32; j < 40; ++j) EXPECT_EQ(y[j], -1.125f);
    for (int j = 0; j < 8; ++j) {
        const float g = static_cast<float>(iq1_grid_value(kIq1sGrid[2047], j));
        EXPECT_EQ(y[40 + j], g - 0.125f) << j;
    }
}

TEST(IqDequantHand, Iq1mSpreadScaleSubScalesAndDeltas) {
    BlockIQ1_M b{};
    // d = fp16 2.0 = 0x4000: only word 3's top nibble is non-zero.
    b.scales[7] = 0x40;
    // Word 0: group 0 sub-scales 1 (bits 0..2) and 3 (bits 3..5); group 1: 0 and 7 (bits 9..11).
    const uint16_t word0 = static_cast<uint16_t>(1u | (3u << 3) | (7u << 9));
    b.scales[0] = static_cast<uint8_t>(word0);
    b.scales[1] = static_cast<uint8_t>(word0 >> 8);
    b.qh[0] = 0x80;  // group 0: entry 0 delta +, entry 1 delta -
    b.qh[1] = 0x0f;  // entry 2: index high bits 7 + delta -, entry 3 default
    b.qs[2] = 0xff;
    std::vector<float> y(kQK_K);
    dequantize_row_iq1_m(&b, y.data(), kQK_K);
    const float d = 2.0f;
    for (int j = 0; j < 8; ++j) EXPECT_EQ(y[j], d * 3.0f * (-1.0f + 0.125f));
    for (int j = 8; j < 16; ++j) EXPECT_EQ(y[j], d * 3.0f * (-1.0f - 0.125f));
    for (int j = 0; j < 8; ++j) {
        const float g = static_cast<float>(iq1_grid_value(kIq1sGrid[2047], j));
        EXPECT_EQ(y[16 + j], d * 7.0f * (g - 0.125f)) << j;
    }
    for (int j = 24; j < 32; ++j) EXPECT_EQ(y[j], d * 7.0f * (-1.0f + 0.125f));
    for (int j = 32; j < 48; ++j) EXPECT_EQ(y[j], d * 1.0f * (-1.0f + 0.125f));
    for (int j = 48; j < 64; ++j) EXPECT_EQ(y[j], d * 15.0f * (-1.0f + 0.125f));
}

TEST(IqDequantHand, ScaleExtremesStayFinite) {
    BlockIQ3_S b{};
    b.d = kMax;
    std::memset(b.scales, 0xff, sizeof b.scales);  // code 15 -> 31
    std::memset(b.qs, 0xff, sizeof b.qs);
    std::memset(b.qh, 0xff, sizeof b.qh);          // index 511 everywhere
    std::vector<float> y(kQK_K);
    dequantize_row_iq3_s(&b, y.data(), kQK_K);
    const float mag0 = static_cast<float>(iq_grid_byte(kIq3sGrid[511], 0));
    EXPECT_EQ(y[0], 65504.0f * 31.0f * mag0);
    for (float v : y) EXPECT_TRUE(std::isfinite(v));
}

// ---- cross-check against an independent implementation ---------------------------------------
//
// tests/fixtures/quant/iq_<type>.bin were produced by gguf-py's numpy dequantizers (the Python
// package published with llama.cpp; it stores the grids in its own packed encoding) from random
// block bytes whose fp16 scale fields were forced to finite values (first blocks: 1.0, 65504,
// -65504, the smallest subnormal, -0, +0, the largest subnormal, the smallest normal).
// Layout, little-endian:
//   char magic[4] = "RFIQ"; uint32 version = 1; uint32 ggml_type; uint32 n_blocks;
//   uint32 block_bytes; uint8 blocks[n_blocks * block_bytes]; float32 expected[n_blocks * 256]

struct Fixture {
    uint32_t type = 0;
    uint32_t n_blocks = 0;
    uint32_t block_bytes = 0;
    std::vector<uint8_t> blocks;
    std::vector<float> expected;
};

// Reads tests/fixtures/quant/<name>; returns an empty message on success.
std::string load_fixture(const std::string& name, Fixture* fx) {
    const std::string path = std::string(RF_FIXTURES_DIR) + "/quant/" + name;
    std::ifstream in(path, std::ios::binary);
    if (!in) return "cannot open " + path;
    char magic[4];
    uint32_t header[4];
    in.read(magic, sizeof magic);
    in.read(reinterpret_cast<char*>(header), sizeof header);
    if (!in || std::memcmp(magic, "RFIQ", 4) != 0 || header[0] != 1) return path + ": bad header";
    fx->type = header[1];
    fx->n_blocks = header[2];
    fx->block_bytes = header[3];
    fx->blocks.resize(size_t{fx->n_blocks} * fx->block_bytes);
    fx->expected.resize(size_t{fx->n_blocks} * kQK_K);
    in.read(reinterpret_cast<char*>(fx->blocks.data()),
            static_cast<std::streamsize>(fx->blocks.size()));
    in.read(reinterpret_cast<char*>(fx->expected.data()),
            static_cast<std::streamsize>(fx->expected.size() * sizeof(float)));
    if (!in || in.peek() != std::char_traits<char>::eof()) return path + ": wrong size";
    return {};
}

template <typename Block>
using DequantizeFn = void (*)(const Block*, float*, int64_t);

template <typename Block>
void run_row(DequantizeFn<Block> fn, const Fixture& fx, std::vector<float>* out) {
    fn(reinterpret_cast<const Block*>(fx.blocks.data()), out->data(),
       static_cast<int64_t>(out->size()));
}

// Dequantizes a whole fixture row (all blocks in one call) through the function for its type.
std::vector<float> dequantize_fixture(const Fixture& fx) {
    std::vector<float> out(fx.expected.size());
    switch (static_cast<GgmlType>(fx.type)) {
        case GgmlType::kIQ2_XXS: run_row(dequantize_row_iq2_xxs, fx, &out); break;
        case GgmlType::kIQ2_XS: run_row(dequantize_row_iq2_xs, fx, &out); break;
        case GgmlType::kIQ2_S: run_row(dequantize_row_iq2_s, fx, &out); break;
        case GgmlType::kIQ3_XXS: run_row(dequantize_row_iq3_xxs, fx, &out); break;
        case GgmlType::kIQ3_S: run_row(dequantize_row_iq3_s, fx, &out); break;
        case GgmlType::kIQ1_S: run_row(dequantize_row_iq1_s, fx, &out); break;
        case GgmlType::kIQ1_M: run_row(dequantize_row_iq1_m, fx, &out); break;
        default: ADD_FAILURE() << "unexpected type " << fx.type;
    }
    return out;
}

struct FixtureCase {
    const char* file;
    GgmlType type;
};

void PrintTo(const FixtureCase& c, std::ostream* os) { *os << c.file; }

class IqFixture : public testing::TestWithParam<FixtureCase> {};

TEST_P(IqFixture, MatchesIndependentImplementationBitExactly) {
    const auto [file, type] = GetParam();
    Fixture fx;
    const std::string error = load_fixture(file, &fx);
    ASSERT_TRUE(error.empty()) << error;
    ASSERT_EQ(fx.type, static_cast<uint32_t>(type));
    ASSERT_EQ(fx.block_bytes, traits(type).type_size);
    ASSERT_GE(fx.n_blocks, 8u);
    const std::vector<float> got = dequantize_fixture(fx);
    int mismatches = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        if (std::bit_cast<uint32_t>(got[i]) == std::bit_cast<uint32_t>(fx.expected[i])) continue;
        if (++mismatches <= 5) {
            ADD_FAILURE() << file << " element " << i << " (block " << i / kQK_K << "): got "
                          << got[i] << " expected " << fx.expected[i];
        }
    }
    EXPECT_EQ(mismatches, 0);
}

INSTANTIATE_TEST_SUITE_P(
    AllGridTypes, IqFixture,
    testing::Values(FixtureCase{"iq_iq2_xxs.bin", GgmlType::kIQ2_XXS},
                    FixtureCase{"iq_iq2_xs.bin", GgmlType::kIQ2_XS},
                    FixtureCase{"iq_iq2_s.bin", GgmlType::kIQ2_S},
                    FixtureCase{"iq_iq3_xxs.bin", GgmlType::kIQ3_XXS},
                    FixtureCase{"iq_iq3_s.bin", GgmlType::kIQ3_S},
                    FixtureCase{"iq_iq1_s.bin", GgmlType::kIQ1_S},
                    FixtureCase{"iq_iq1_m.bin", GgmlType::kIQ1_M}),
    [](const auto& param_info) { return std::string(traits(param_info.param.type).name); });

}  // namespace
}  // namespace rf::quant
