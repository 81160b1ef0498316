// GPU mat-vec vs the scalar reference: every supported type x odd shapes x 1..8 tokens; and the
// GPU dequantizers (get_rows, dequantize_to_f16) of every packed layout vs the CPU's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <tuple>
#include <vector>

#include "backend/gpu/gpu_matrix.h"
#include "backend/gpu/matvec.h"
#include "backend/gpu/ops.h"
#include "core/half.h"
#include "gpu_test_util.h"
#include "quant/reference.h"

namespace rf::gpu {
namespace {

using quant::GgmlType;
using test::DeviceBuffer;
using test::device_warp_size;

struct Case {
    GgmlType type;
    int64_t n_rows;
    int64_t n_cols;
    int n_tokens;
};

// Bound on |y - ref| / (|w| |x|): the reference uses the dequantized weights, so only the int8
// activation rounding counts: per element <= amax/254, rms ~ amax/440, and amax ~ 2.5 rms(x) for
// Gaussian blocks of 32 -> ~0.6% expected; 1.5% leaves room. fp16 paths only reorder sums.
double error_bound(GgmlType type) { return type == GgmlType::kF16 ? 1e-5 : 1.5e-2; }

void run_case(const Case& c, int warp_size, std::mt19937& rng) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> w_f32(static_cast<size_t>(c.n_rows * c.n_cols));
    for (float& v : w_f32) v = normal(rng);
    std::vector<float> x(static_cast<size_t>(c.n_tokens * c.n_cols));
    for (float& v : x) v = normal(rng);

    // Weights in the GGUF type, and their exact dequantized values for the reference.
    const size_t row_bytes = quant::row_bytes(c.type, static_cast<size_t>(c.n_cols));
    std::vector<uint8_t> w_q(row_bytes * static_cast<size_t>(c.n_rows));
    std::vector<float> w_deq(w_f32.size());
    for (int64_t r = 0; r < c.n_rows; ++r) {
        quant::quantize_row(c.type, &w_f32[r * c.n_cols], &w_q[r * row_bytes], c.n_cols);
        quant::dequantize_row(c.type, &w_q[r * row_bytes], &w_deq[r * c.n_cols], c.n_cols);
    }
    auto packed = pack_matrix(c.type, w_q.data(), c.n_rows, c.n_cols);
    ASSERT_TRUE(packed.is_ok()) << packed.message();

    DeviceBuffer<uint8_t> d_qs(packed->qs);
    DeviceBuffer<uint16_t> d_scales(packed->scales.empty() ? std::vector<uint16_t>(8) : packed->scales);
    DeviceMatrix dm{c.type, c.n_rows, c.n_cols, d_qs.get(), packed->scales.empty() ? nullptr : d_scales.get(),
                    packed->qs_row_bytes, packed->scale_row_count};
    const int64_t padded = padded_act_cols(c.n_cols);
    DeviceBuffer<float> d_x(x);
    DeviceBuffer<int8_t> d_act_qs(static_cast<size_t>(padded * c.n_tokens));
    DeviceBuffer<float2> d_act_ds(static_cast<size_t>(padded / 32 * c.n_tokens));
    // Poison the output so unwritten elements show up.
    std::vector<float> poison(static_cast<size_t>(c.n_rows * c.n_tokens), std::nanf(""));
    DeviceBuffer<float> d_y(poison);
    QuantizedActs acts{d_act_qs.get(), d_act_ds.get(), padded};
    quantize_acts(d_x.get(), c.n_cols, c.n_tokens, acts, nullptr);
    matvec(dm, acts, d_x.get(), c.n_tokens, d_y.get(), warp_size, nullptr);
    RF_GPU_CHECK(gpuDeviceSynchronize());
    const std::vector<float> y = d_y.to_host();

    // Error of each dot product relative to its natural scale |w_r| |x_t| (a single dot product
    // can cancel to near zero, so |ref| itself is no scale).
    double err2 = 0.0, scale2 = 0.0;
    for (int t = 0; t < c.n_tokens; ++t) {
        double x_norm2 = 0.0;
        for (int64_t k = 0; k < c.n_cols; ++k) x_norm2 += double(x[t * c.n_cols + k]) * double(x[t * c.n_cols + k]);
        for (int64_t r = 0; r < c.n_rows; ++r) {
            double ref = 0.0, w_norm2 = 0.0;
            for (int64_t k = 0; k < c.n_cols; ++k) {
                ref += double(w_deq[r * c.n_cols + k]) * double(x[t * c.n_cols + k]);
                w_norm2 += double(w_deq[r * c.n_cols + k]) * double(w_deq[r * c.n_cols + k]);
            }
            const double got = double(y[t * c.n_rows + r]);
            ASSERT_TRUE(std::isfinite(got)) << "row " << r << " token " << t << " not written";
            err2 += (got - ref) * (got - ref);
            scale2 += w_norm2 * x_norm2;
        }
    }
    const double rel = std::sqrt(err2 / scale2);
    EXPECT_LT(rel, error_bound(c.type)) << quant::traits(c.type).name << " rows=" << c.n_rows
                                        << " cols=" << c.n_cols << " tokens=" << c.n_tokens;
}

constexpr GgmlType kEveryType[] = {GgmlType::kQ4_0,  GgmlType::kQ8_0,  GgmlType::kQ4_K, GgmlType::kQ5_K,
                                   GgmlType::kQ6_K,  GgmlType::kF16,   GgmlType::kQ4_1, GgmlType::kQ5_0,
                                   GgmlType::kQ5_1,  GgmlType::kMXFP4, GgmlType::kQ2_K, GgmlType::kQ3_K,
                                   GgmlType::kIQ4_NL, GgmlType::kIQ4_XS};

TEST(GpuMatvec, EveryTypeOddShapes) {
    RF_SKIP_WITHOUT_GPU();
    const int warp_size = device_warp_size();
    std::mt19937 rng(1234);
    for (GgmlType type : kEveryType) {
        // 1280 columns: 40 blocks of 32 or 5 super-blocks, unit counts that are no multiple of the
        // warp (the walk's tail loop).
        for (auto [rows, cols] :
             {std::pair<int64_t, int64_t>{1, 256}, {3, 512}, {67, 768}, {5, 1280}, {257, 4096}}) {
            for (int tokens = 1; tokens <= kMaxMatvecTokens; ++tokens) {
                run_case({type, rows, cols, tokens}, warp_size, rng);
            }
        }
    }
}

// Even row counts: one-token F16 takes two adjacent rows per warp. 11008 columns (the 7B FFN
// width) need three steps of the row walk, the last one partly past the row's end.
TEST(GpuMatvec, EveryTypeEvenRowsAndLongRows) {
    RF_SKIP_WITHOUT_GPU();
    const int warp_size = device_warp_size();
    std::mt19937 rng(4321);
    for (GgmlType type : kEveryType) {
        for (auto [rows, cols] : {std::pair<int64_t, int64_t>{2, 256}, {130, 4096}, {6, 11008}}) {
            for (int tokens : {1, 2, 5}) run_case({type, rows, cols, tokens}, warp_size, rng);
        }
    }
}

// Blocks of 32-element types whose count per row is not a multiple of 4 (Q5_0 / Q5_1 pack groups
// of 4 blocks, the last one partial here).
TEST(GpuMatvec, PartialBlockGroups) {
    RF_SKIP_WITHOUT_GPU();
    const int warp_size = device_warp_size();
    std::mt19937 rng(99);
    for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ8_0,
                          GgmlType::kMXFP4, GgmlType::kIQ4_NL}) {
        for (int64_t cols : {32, 96, 160, 2880}) {
            for (int tokens : {1, 3, 8}) run_case({type, 9, cols, tokens}, warp_size, rng);
        }
    }
}

// get_rows and dequantize_to_f16 read every packed layout through packed_dequant.cuh: both must
// give the CPU's dequantized values (up to float rounding, and fp16 rounding for the latter).
TEST(GpuDequantize, EveryTypeMatchesCpu) {
    RF_SKIP_WITHOUT_GPU();
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (GgmlType type : kEveryType) {
        for (auto [rows, cols] : {std::pair<int64_t, int64_t>{3, 256}, {2, 160}, {5, 2816}}) {
            if (cols % quant::traits(type).block_size != 0) continue;
            std::vector<float> w(static_cast<size_t>(rows * cols));
            for (float& v : w) v = normal(rng);
            const size_t row_bytes = quant::row_bytes(type, static_cast<size_t>(cols));
            std::vector<uint8_t> q(row_bytes * static_cast<size_t>(rows));
            std::vector<float> ref(w.size());
            for (int64_t r = 0; r < rows; ++r) {
                quant::quantize_row(type, &w[r * cols], &q[r * row_bytes], cols);
                quant::dequantize_row(type, &q[r * row_bytes], &ref[r * cols], cols);
            }
            auto packed = pack_matrix(type, q.data(), rows, cols);
            ASSERT_TRUE(packed.is_ok()) << packed.message();
            DeviceBuffer<uint8_t> d_qs(packed->qs);
            DeviceBuffer<uint16_t> d_scales(packed->scales.empty() ? std::vector<uint16_t>(8) : packed->scales);
            const DeviceMatrix dm{type, rows, cols, d_qs.get(), packed->scales.empty() ? nullptr : d_scales.get(),
                                  packed->qs_row_bytes, packed->scale_row_count};

            // Every row, in reverse order.
            std::vector<int32_t> tokens(static_cast<size_t>(rows));
            for (int64_t r = 0; r < rows; ++r) tokens[static_cast<size_t>(r)] = static_cast<int32_t>(rows - 1 - r);
            DeviceBuffer<int32_t> d_tokens(tokens);
            DeviceBuffer<float> d_rows(w.size());
            DeviceBuffer<uint16_t> d_f16(w.size());
            get_rows(dm, d_tokens.get(), rows, d_rows.get(), nullptr);
            dequantize_to_f16(dm, d_f16.get(), nullptr);
            RF_GPU_CHECK(gpuDeviceSynchronize());
            const std::vector<float> got_rows = d_rows.to_host();
            const std::vector<uint16_t> got_f16 = d_f16.to_host();

            for (int64_t r = 0; r < rows; ++r) {
                float row_max = 0.0f;
                for (int64_t c = 0; c < cols; ++c) row_max = std::max(row_max, std::fabs(ref[r * cols + c]));
                for (int64_t c = 0; c < cols; ++c) {
                    const float want = ref[r * cols + c];
                    const float got = got_rows[static_cast<size_t>((rows - 1 - r) * cols + c)];
                    ASSERT_NEAR(got, want, 1e-6f * row_max)
                        << quant::traits(type).name << " get_rows row " << r << " col " << c;
                    const float got_half = fp16_to_float(got_f16[static_cast<size_t>(r * cols + c)]);
                    ASSERT_NEAR(got_half, want, std::fabs(want) / 1024.0f + 1e-6f * row_max)
                        << quant::traits(type).name << " dequantize_to_f16 row " << r << " col " << c;
                }
            }
        }
    }
}

}  // namespace
}  // namespace rf::gpu
