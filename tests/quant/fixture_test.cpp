// dequantize_row against an independent implementation: tests/fixtures/quant/<type>.bin hold
// random blocks and the float32 values llama.cpp's numpy dequantizers (gguf-py) give for them,
// written by scripts/quant_crosscheck.py. Layout (little-endian):
//   "RFQF", u32 version = 1, u32 ggml type id, u32 n_blocks,
//   n_blocks * type_size block bytes, n_blocks * block_size float32 values.
// Every value must match bit for bit; one ulp is tolerated (and counted) for evaluation-order
// differences, though none occur today.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "quant/reference.h"
#include "quant/types.h"
#include "quant_test_util.h"

namespace rf::quant {
namespace {

struct Fixture {
    GgmlType type{};
    uint32_t n_blocks = 0;
    std::vector<uint8_t> blocks;
    std::vector<float> values;
};

uint32_t read_u32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
           (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

// Parses one fixture file; returns an error message or "".
std::string load(const std::string& name, Fixture* fx) {
    const std::string path = std::string(RF_FIXTURES_DIR) + "/quant/" + name + ".bin";
    std::ifstream in(path, std::ios::binary);
    if (!in) return "cannot open " + path;
    const std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
    if (data.size() < 16 || std::memcmp(data.data(), "RFQF", 4) != 0) return path + ": bad magic";
    if (read_u32(data.data() + 4) != 1) return path + ": unknown version";
    const TypeTraits* t = type_traits(read_u32(data.data() + 8));
    if (t == nullptr) return path + ": unknown type id";
    fx->type = t->type;
    fx->n_blocks = read_u32(data.data() + 12);
    const size_t block_bytes = static_cast<size_t>(fx->n_blocks) * t->type_size;
    const size_t n_values = static_cast<size_t>(fx->n_blocks) * t->block_size;
    if (data.size() != 16 + block_bytes + 4 * n_values)
        return path + ": size does not match header";
    fx->blocks.assign(data.begin() + 16,
                      data.begin() + 16 + static_cast<std::ptrdiff_t>(block_bytes));
    fx->values.resize(n_values);
    std::memcpy(fx->values.data(), data.data() + 16 + block_bytes, 4 * n_values);
    return "";
}

class DequantizeFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(DequantizeFixture, MatchesGgufPy) {
    Fixture fx;
    const std::string error = load(GetParam(), &fx);
    ASSERT_EQ(error, "");
    ASSERT_EQ(parse_type_name(GetParam()), fx.type) << "fixture holds another type";
    const int64_t n = static_cast<int64_t>(fx.values.size());
    std::vector<float> got(fx.values.size());
    dequantize_row(fx.type, fx.blocks.data(), got.data(), n);
    int off_by_one = 0;
    for (int64_t i = 0; i < n; ++i) {
        const int64_t ulps = test::ulp_distance(got[i], fx.values[i]);
        ASSERT_LE(ulps, 1) << GetParam() << " element " << i << " (block "
                           << i / traits(fx.type).block_size << "): got " << got[i] << " expected "
                           << fx.values[i];
        off_by_one += ulps == 1;
    }
    EXPECT_EQ(off_by_one, 0) << GetParam() << ": values within 1 ulp but not bit-exact";

    // The same bytes at an odd address decode identically (no alignment assumptions).
    std::vector<uint8_t> shifted(fx.blocks.size() + 1);
    std::memcpy(shifted.data() + 1, fx.blocks.data(), fx.blocks.size());
    std::vector<float> again(fx.values.size());
    dequantize_row(fx.type, shifted.data() + 1, again.data(), n);
    EXPECT_EQ(std::memcmp(again.data(), got.data(), got.size() * sizeof(float)), 0);
}

// Every type gguf-py can decode (F32 is a plain copy and has no fixture).
INSTANTIATE_TEST_SUITE_P(AllTypes, DequantizeFixture,
                         ::testing::Values("f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0",
                                           "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "iq4_nl",
                                           "iq4_xs", "tq1_0", "tq2_0", "mxfp4", "iq2_xxs", "iq2_xs",
                                           "iq2_s", "iq3_xxs", "iq3_s", "iq1_s", "iq1_m"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                             return std::string(param_info.param);
                         });

}  // namespace
}  // namespace rf::quant
