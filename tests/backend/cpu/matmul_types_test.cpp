// rf::cpu::matmul against a float64 reference for every weight type, odd shapes and every ISA
// table this CPU can run (the generic scalar table is always forced too).
//
// Error bound. The reference is y_ref = sum_k w_k * x_k in double, with w_k the scalar
// reference dequantization of the weights and x_k the float activations. Native kernels see
// x quantized per block b of the partner format (32 elements for Q8_32, 256 for Q8_K):
// x_k = d_b * q_k + e_k, d_b = max|x in b| / 127, |e_k| <= d_b / 2. The products with the
// weights are then exact in integer arithmetic, so the error is sum_k w_k e_k plus float
// rounding of the per-block partial sums. With rounding errors e_k independent and uniform on
// [-d_b/2, d_b/2] this sum has standard deviation
//     sigma = sqrt( sum_b d_b^2 / 12 * sum_{k in b} w_k^2 ),
// and the test allows 7 sigma (a false alarm below 1e-11 per output) plus 2e-6 * sum_k |w_k x_k|
// for float accumulation and the fp16/float scale products. Float-activation paths (F32, F16,
// BF16, dequantize-to-tile) have sigma = 0 and only the rounding term. The hard worst case
// (sum_b d_b / 2 * sum |w_k|) grows like n while y grows like sqrt(n), so it would hide a
// broken block; the 7-sigma bound does not.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/matmul.h"
#include "backend/cpu/vec_dot.h"
#include "backend/cpu/vec_dot_packed.h"
#include "quant/reference.h"
#include "quant/types.h"

namespace rf::cpu {
namespace {

using quant::GgmlType;

struct Weights {
    std::vector<uint8_t> bytes;  // n_rows rows of row_stride bytes
    std::vector<float> dequant;  // n_rows x n_cols, from the reference decoder
    size_t row_stride = 0;
};

// Random weights of `type`: quantized from Gaussian floats where the reference can quantize the
// type, otherwise random bytes block by block, redrawn until the block decodes to finite values.
Weights make_weights(GgmlType type, int64_t n_rows, int64_t n_cols, size_t pad, std::mt19937& rng) {
    const quant::TypeTraits& tr = quant::traits(type);
    const size_t row_bytes = quant::row_bytes(type, static_cast<size_t>(n_cols));
    Weights w;
    w.row_stride = row_bytes + pad;
    w.bytes.assign(w.row_stride * static_cast<size_t>(n_rows), 0xA5);
    w.dequant.resize(static_cast<size_t>(n_rows * n_cols));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_int_distribution<int> byte(0, 255);
    std::vector<float> row(static_cast<size_t>(n_cols));
    for (int64_t r = 0; r < n_rows; ++r) {
        uint8_t* dst = w.bytes.data() + r * w.row_stride;
        if (quant::can_quantize(type)) {
            for (float& v : row) v = normal(rng);
            quant::quantize_row(type, row.data(), dst, n_cols);
        } else {
            std::vector<float> block(tr.block_size);
            for (int64_t b = 0; b < n_cols / tr.block_size; ++b) {
                uint8_t* blk = dst + b * tr.type_size;
                for (int attempt = 0;; ++attempt) {
                    for (uint32_t i = 0; i < tr.type_size; ++i)
                        blk[i] = static_cast<uint8_t>(byte(rng));
                    quant::dequantize_row(type, blk, block.data(), tr.block_size);
                    const bool ok = std::all_of(block.begin(), block.end(), [](float v) {
                        return std::isfinite(v) && std::fabs(v) < 1e4f;
                    });
                    if (ok || attempt > 1000) {
                        EXPECT_TRUE(ok) << "cannot draw a finite block";
                        break;
                    }
                }
            }
        }
        quant::dequantize_row(type, dst, w.dequant.data() + r * n_cols, n_cols);
    }
    return w;
}

int act_block(GgmlType type) {
    if (!has_native_matmul(type)) return 0;
    switch (act_format(type)) {
        case ActFormat::kQ8_32:
            return 32;
        case ActFormat::kQ8_K:
            return 256;
        case ActFormat::kF32:
            return 0;
    }
    return 0;
}

// x as the kernels see it: each partner block quantized exactly as vec_dot.h specifies
// (d = max|x| / 127 in float, q = round-half-even(x * (1 / d))), returned dequantized.
std::vector<double> emulate_act_quant(const float* x, int64_t n_cols, int block) {
    std::vector<double> out(x, x + n_cols);
    if (block == 0) return out;
    for (int64_t b0 = 0; b0 < n_cols; b0 += block) {
        float amax = 0.0f;
        for (int64_t k = b0; k < b0 + block; ++k) amax = std::max(amax, std::fabs(x[k]));
        const float d = amax / 127.0f;
        const float id = d > 0.0f ? 1.0f / d : 0.0f;
        for (int64_t k = b0; k < b0 + block; ++k)
            out[static_cast<size_t>(k)] =
                static_cast<double>(d) * static_cast<double>(std::nearbyint(x[k] * id));
    }
    return out;
}

// Checks y (n_tokens x n_rows) twice: against the float64 reference with the 7-sigma bound of
// the header, and against the float64 product with the emulated quantized activations, where
// only float rounding (2e-6 of sum |w x|) may differ — this catches single-step decode errors
// that hide inside the activation-quantization noise.
void expect_close(GgmlType type, const Weights& w, const std::vector<float>& x,
                  const std::vector<float>& y, int64_t n_rows, int64_t n_cols, int64_t n_tokens,
                  const std::string& what) {
    const int ab = act_block(type);
    const int64_t step = ab > 0 ? ab : 1;
    int failures = 0;
    for (int64_t t = 0; t < n_tokens && failures < 5; ++t) {
        const float* xt = x.data() + t * n_cols;
        const std::vector<double> xq = emulate_act_quant(xt, n_cols, ab);
        for (int64_t r = 0; r < n_rows && failures < 5; ++r) {
            const float* wr = w.dequant.data() + r * n_cols;
            double ref = 0.0, ref_q = 0.0, abs_sum = 0.0, variance = 0.0;
            for (int64_t b0 = 0; b0 < n_cols; b0 += step) {
                double amax = 0.0, w2 = 0.0;
                for (int64_t k = b0; k < b0 + step; ++k) {
                    const double wk = static_cast<double>(wr[k]), xk = static_cast<double>(xt[k]);
                    ref += wk * xk;
                    ref_q += wk * xq[static_cast<size_t>(k)];
                    abs_sum += std::fabs(wk * xk);
                    amax = std::max(amax, std::fabs(xk));
                    w2 += wk * wk;
                }
                const double d = amax / 127.0;
                if (ab > 0) variance += d * d / 12.0 * w2;
            }
            const double rounding = 2e-6 * abs_sum + 1e-30;
            const double bound = 7.0 * std::sqrt(variance) + rounding;
            const double got = static_cast<double>(y[static_cast<size_t>(t * n_rows + r)]);
            if (!(std::fabs(got - ref) <= bound) || !(std::fabs(got - ref_q) <= rounding)) {
                ++failures;
                ADD_FAILURE() << what << " t=" << t << " r=" << r << " got " << got << " want "
                              << ref << " (bound " << bound << "), with quantized x " << ref_q
                              << " (bound " << rounding << ")";
            }
        }
    }
}

std::vector<const KernelTable*> available_tables() {
    std::vector<const KernelTable*> out;
    for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512, Isa::kNeon}) {
        if (const KernelTable* t = kernel_table(isa)) out.push_back(t);
    }
    return out;
}

std::vector<int64_t> col_sizes(GgmlType type) {
    const uint32_t bs = quant::traits(type).block_size;
    if (bs == 1) return {1, 3, 37, 256};
    if (bs == 32) return {32, 96, 512};
    return {bs, 3 * int64_t{bs}};
}

class MatmulTypeTest : public ::testing::TestWithParam<GgmlType> {};

TEST_P(MatmulTypeTest, OddShapesOnEveryIsa) {
    const GgmlType type = GetParam();
    std::mt19937 rng(1234 + static_cast<unsigned>(type));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    ThreadPool pool(2);
    for (int64_t n_cols : col_sizes(type)) {
        for (int64_t n_rows : {1, 3, 17, 67}) {
            const Weights w = make_weights(type, n_rows, n_cols, n_rows == 17 ? 8 : 0, rng);
            MatrixView view{type, w.bytes.data(), n_cols, n_rows, w.row_stride};
            std::vector<uint8_t> packed_bytes(quant::row_bytes(type, static_cast<size_t>(n_cols)) *
                                              static_cast<size_t>(n_rows));
            const MatrixView packed =
                can_pack_weights(type) ? pack_weights(view, packed_bytes.data(), pool) : view;
            for (int64_t n_tokens : {1, 2, 5, 33}) {
                std::vector<float> x(static_cast<size_t>(n_tokens * n_cols));
                for (float& v : x) v = normal(rng);
                for (const KernelTable* table : available_tables()) {
                    std::vector<float> y(static_cast<size_t>(n_tokens * n_rows), -1e30f);
                    matmul_with(*table, view, x.data(), n_tokens, y.data(), pool);
                    if (can_pack_weights(type)) {
                        // The packed layout must give the same result.
                        std::vector<float> yp(y.size(), -1e30f);
                        matmul_with(*table, packed, x.data(), n_tokens, yp.data(), pool);
                        expect_close(type, w, x, yp, n_rows, n_cols, n_tokens,
                                     std::string("packed ") + isa_name(table->isa));
                    }
                    const std::string what =
                        std::string(isa_name(table->isa)) + " " +
                        std::string(quant::traits(type).name) + " cols=" + std::to_string(n_cols) +
                        " rows=" + std::to_string(n_rows) + " tokens=" + std::to_string(n_tokens);
                    expect_close(type, w, x, y, n_rows, n_cols, n_tokens, what);
                }
            }
        }
    }
}

// Batches past one token block, several row items and three threads.
TEST_P(MatmulTypeTest, LargeBatchAcrossThreads) {
    const GgmlType type = GetParam();
    std::mt19937 rng(99 + static_cast<unsigned>(type));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    ThreadPool pool(3);
    const int64_t n_rows = 100, n_tokens = 70;
    const int64_t n_cols = std::max<int64_t>(512, quant::traits(type).block_size * 2);
    const Weights w = make_weights(type, n_rows, n_cols, 0, rng);
    MatrixView view{type, w.bytes.data(), n_cols, n_rows, w.row_stride};
    std::vector<uint8_t> packed_bytes(quant::row_bytes(type, static_cast<size_t>(n_cols)) *
                                      static_cast<size_t>(n_rows));
    const MatrixView packed =
        can_pack_weights(type) ? pack_weights(view, packed_bytes.data(), pool) : view;
    std::vector<float> x(static_cast<size_t>(n_tokens * n_cols));
    for (float& v : x) v = normal(rng);
    for (const KernelTable* table : available_tables()) {
        for (const MatrixView* v : {static_cast<const MatrixView*>(&view), &packed}) {
            std::vector<float> y(static_cast<size_t>(n_tokens * n_rows), -1e30f);
            matmul_with(*table, *v, x.data(), n_tokens, y.data(), pool);
            expect_close(type, w, x, y, n_rows, n_cols, n_tokens,
                         std::string(isa_name(table->isa)) +
                             (v == &view ? " large batch" : " large batch packed"));
        }
    }
}

const GgmlType kTypes[] = {
    GgmlType::kQ4_0,   GgmlType::kQ4_1,    GgmlType::kQ5_0,  GgmlType::kQ5_1,  GgmlType::kQ8_0,
    GgmlType::kQ2_K,   GgmlType::kQ3_K,    GgmlType::kQ4_K,  GgmlType::kQ5_K,  GgmlType::kQ6_K,
    GgmlType::kIQ4_NL, GgmlType::kIQ4_XS,  GgmlType::kMXFP4, GgmlType::kF16,   GgmlType::kBF16,
    GgmlType::kF32,  // native above, dequantize-to-tile below
    GgmlType::kQ8_1,   GgmlType::kIQ2_XXS, GgmlType::kIQ3_S, GgmlType::kTQ2_0, GgmlType::kF64,
};

INSTANTIATE_TEST_SUITE_P(AllTypes, MatmulTypeTest, ::testing::ValuesIn(kTypes),
                         [](const ::testing::TestParamInfo<GgmlType>& param_info) {
                             return std::string(quant::traits(param_info.param).name);
                         });

TEST(Matmul, NativeTypes) {
    for (GgmlType type :
         {GgmlType::kQ4_0, GgmlType::kQ6_K, GgmlType::kIQ4_XS, GgmlType::kMXFP4, GgmlType::kBF16}) {
        EXPECT_TRUE(has_native_matmul(type)) << quant::traits(type).name;
    }
    for (GgmlType type : {GgmlType::kQ8_1, GgmlType::kIQ2_XXS, GgmlType::kTQ1_0, GgmlType::kF64}) {
        EXPECT_FALSE(has_native_matmul(type)) << quant::traits(type).name;
    }
}

TEST(Matmul, PackedLayoutRoundTrips) {
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> byte(0, 255);
    ThreadPool pool(2);
    for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kQ6_K}) {
        ASSERT_TRUE(can_pack_weights(type));
        const int64_t n_rows = 19, n_cols = 512;
        const size_t row_bytes = quant::row_bytes(type, n_cols);
        std::vector<uint8_t> src(row_bytes * n_rows), packed(src.size()), back(src.size());
        for (uint8_t& b : src) b = static_cast<uint8_t>(byte(rng));
        const MatrixView view{type, src.data(), n_cols, n_rows, row_bytes};
        const MatrixView p = pack_weights(view, packed.data(), pool);
        EXPECT_EQ(p.layout, WeightLayout::kPacked8);
        EXPECT_NE(packed, src);
        const PackedFormat& f = *packed_format(type);
        for (int64_t g = 0; g < n_rows / 8; ++g) {
            uint8_t* rows[8];
            for (int r = 0; r < 8; ++r) rows[r] = back.data() + (g * 8 + r) * row_bytes;
            unpack_group(f, packed.data() + g * 8 * row_bytes, n_cols, rows);
        }
        std::copy(packed.begin() + 16 * row_bytes, packed.end(), back.begin() + 16 * row_bytes);
        EXPECT_EQ(back, src) << quant::traits(type).name;
    }
    EXPECT_FALSE(can_pack_weights(GgmlType::kQ5_K));
}

TEST(Matmul, GenericTableIsAlwaysAvailable) {
    std::string names;
    for (const KernelTable* t : available_tables()) names += std::string(" ") + isa_name(t->isa);
    std::printf("kernel tables tested on this CPU:%s (best: %s)\n", names.c_str(),
                isa_name(best_kernel_table().isa));
    ASSERT_NE(kernel_table(Isa::kGeneric), nullptr);
    EXPECT_NE(best_kernel_table().gemm[static_cast<int>(GgmlType::kQ4_0)], nullptr);
}

}  // namespace
}  // namespace rf::cpu
