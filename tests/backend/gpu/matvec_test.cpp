// GPU mat-vec vs the scalar reference: every supported type x odd shapes x 1..8 tokens.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <tuple>
#include <vector>

#include "backend/gpu/gpu_matrix.h"
#include "backend/gpu/matvec.h"
#include "gpu_test_util.h"
#include "quant/reference.h"

namespace rf::gpu {
namespace {

using quant::GgmlType;
using test::DeviceBuffer;

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

TEST(GpuMatvec, EveryTypeOddShapes) {
    RF_SKIP_WITHOUT_GPU();
    gpuDeviceProp prop{};
    RF_GPU_CHECK(gpuGetDeviceProperties(&prop, 0));
    std::mt19937 rng(1234);
    for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K,
                          GgmlType::kF16, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kMXFP4,
                          GgmlType::kQ2_K, GgmlType::kQ3_K, GgmlType::kIQ4_NL, GgmlType::kIQ4_XS}) {
        for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 256}, {3, 512}, {67, 768}, {257, 4096}}) {
            for (int tokens : {1, 2, 5, 8}) run_case({type, rows, cols, tokens}, prop.warpSize, rng);
        }
    }
}

}  // namespace
}  // namespace rf::gpu
