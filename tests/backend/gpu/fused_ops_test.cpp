// Fused GPU ops against their unfused forms on the same device: mat-vec sets (Q/K/V in one
// launch), the accumulate and SwiGLU epilogues, and RMSNorm fused with activation quantization.
// The fused kernels run the same arithmetic, so results must match exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <tuple>
#include <vector>

#include "backend/gpu/gpu_matrix.h"
#include "backend/gpu/matvec.h"
#include "backend/gpu/ops.h"
#include "gpu_test_util.h"
#include "quant/reference.h"

namespace rf::gpu {
namespace {

using quant::GgmlType;
using test::DeviceBuffer;
using test::device_warp_size;

std::vector<float> random_floats(size_t n, std::mt19937& rng) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> v(n);
    for (float& x : v) x = normal(rng);
    return v;
}

// A random matrix of `type` resident on the device.
class TestMatrix {
  public:
    TestMatrix(GgmlType type, int64_t n_rows, int64_t n_cols, std::mt19937& rng) {
        const std::vector<float> w = random_floats(static_cast<size_t>(n_rows * n_cols), rng);
        const size_t row_bytes = quant::row_bytes(type, static_cast<size_t>(n_cols));
        std::vector<uint8_t> q(row_bytes * static_cast<size_t>(n_rows));
        for (int64_t r = 0; r < n_rows; ++r)
            quant::quantize_row(type, &w[r * n_cols], &q[r * row_bytes], n_cols);
        auto packed = pack_matrix(type, q.data(), n_rows, n_cols);
        EXPECT_TRUE(packed.is_ok()) << packed.message();
        qs_ = std::make_unique<DeviceBuffer<uint8_t>>(packed->qs);
        scales_ = std::make_unique<DeviceBuffer<uint16_t>>(
            packed->scales.empty() ? std::vector<uint16_t>(8) : packed->scales);
        m_ = {type,
              n_rows,
              n_cols,
              qs_->get(),
              packed->scales.empty() ? nullptr : scales_->get(),
              packed->qs_row_bytes,
              packed->scale_row_count};
    }
    const DeviceMatrix& get() const { return m_; }

  private:
    std::unique_ptr<DeviceBuffer<uint8_t>> qs_;
    std::unique_ptr<DeviceBuffer<uint16_t>> scales_;
    DeviceMatrix m_;
};

// Quantized activations of x [n_tokens][n_cols] on the device.
struct TestActs {
    TestActs(const DeviceBuffer<float>& x, int64_t n_cols, int n_tokens)
        : padded(padded_act_cols(n_cols)),
          qs(static_cast<size_t>(padded * n_tokens)),
          ds(static_cast<size_t>(padded / 32 * n_tokens)) {
        quantize_acts(x.get(), n_cols, n_tokens, get(), nullptr);
    }
    QuantizedActs get() const { return {qs.get(), ds.get(), padded}; }
    int64_t padded;
    DeviceBuffer<int8_t> qs;
    DeviceBuffer<float2> ds;
};

const GgmlType kTypes[] = {GgmlType::kQ4_0, GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kQ5_K,
                           GgmlType::kQ6_K, GgmlType::kF16,  GgmlType::kQ5_0, GgmlType::kQ3_K};

TEST(GpuFusedOps, MatvecSetMatchesSeparateLaunches) {
    RF_SKIP_WITHOUT_GPU();
    const int warp = device_warp_size();
    std::mt19937 rng(7);
    for (GgmlType type : kTypes) {
        for (int n_tokens : {1, 3, 8}) {
            const int64_t cols = 768;
            const int64_t rows[3] = {67, 33, 130};  // odd, unequal heights as with GQA
            TestMatrix a(type, rows[0], cols, rng), b(type, rows[1], cols, rng),
                c(type, rows[2], cols, rng);
            DeviceBuffer<float> x(random_floats(static_cast<size_t>(cols * n_tokens), rng));
            TestActs acts(x, cols, n_tokens);
            MatvecSet set;
            std::vector<std::unique_ptr<DeviceBuffer<float>>> fused, single;
            const DeviceMatrix* ms[3] = {&a.get(), &b.get(), &c.get()};
            for (int i = 0; i < 3; ++i) {
                fused.push_back(
                    std::make_unique<DeviceBuffer<float>>(static_cast<size_t>(rows[i] * n_tokens)));
                single.push_back(
                    std::make_unique<DeviceBuffer<float>>(static_cast<size_t>(rows[i] * n_tokens)));
                set.add(*ms[i], fused.back()->get());
                matvec(*ms[i], acts.get(), x.get(), n_tokens, single.back()->get(), warp, nullptr);
            }
            matvec_set(set, MatvecEpilogue::kStore, acts.get(), x.get(), n_tokens, warp, nullptr);
            RF_GPU_CHECK(gpuDeviceSynchronize());
            for (int i = 0; i < 3; ++i) {
                EXPECT_EQ(fused[i]->to_host(), single[i]->to_host())
                    << quant::traits(type).name << " matrix " << i << " tokens " << n_tokens;
            }
        }
    }
}

TEST(GpuFusedOps, AccumulateAndSwigluEpilogues) {
    RF_SKIP_WITHOUT_GPU();
    const int warp = device_warp_size();
    std::mt19937 rng(11);
    for (GgmlType type : kTypes) {
        for (int n_tokens : {1, 2, 5}) {
            const int64_t rows = 257, cols = 512;
            TestMatrix gate(type, rows, cols, rng), up(type, rows, cols, rng);
            DeviceBuffer<float> x(random_floats(static_cast<size_t>(cols * n_tokens), rng));
            TestActs acts(x, cols, n_tokens);
            const size_t n_out = static_cast<size_t>(rows * n_tokens);
            DeviceBuffer<float> g(n_out), u(n_out), expected(n_out);
            matvec(gate.get(), acts.get(), x.get(), n_tokens, g.get(), warp, nullptr);
            matvec(up.get(), acts.get(), x.get(), n_tokens, u.get(), warp, nullptr);

            // acc += W x
            const std::vector<float> residual = random_floats(n_out, rng);
            DeviceBuffer<float> acc(residual), sum(n_out);
            DeviceBuffer<float> residual_dev(residual);
            MatvecSet add_set;
            add_set.add(gate.get(), acc.get());
            matvec_set(add_set, MatvecEpilogue::kAccumulate, acts.get(), x.get(), n_tokens, warp,
                       nullptr);
            add(residual_dev.get(), g.get(), sum.get(), static_cast<int64_t>(n_out), nullptr);

            // silu(gate x) * (up x)
            DeviceBuffer<float> fused(n_out);
            MatvecSet swiglu_set;
            swiglu_set.add(gate.get(), fused.get());
            swiglu_set.w[1] = up.get();
            matvec_set(swiglu_set, MatvecEpilogue::kSwiglu, acts.get(), x.get(), n_tokens, warp,
                       nullptr);
            swiglu(g.get(), u.get(), expected.get(), static_cast<int64_t>(n_out), nullptr);
            RF_GPU_CHECK(gpuDeviceSynchronize());
            EXPECT_EQ(acc.to_host(), sum.to_host())
                << quant::traits(type).name << " tokens " << n_tokens;
            EXPECT_EQ(fused.to_host(), expected.to_host())
                << quant::traits(type).name << " tokens " << n_tokens;
        }
    }
}

TEST(GpuFusedOps, RmsNormQuantizeMatchesRmsNormThenQuantize) {
    RF_SKIP_WITHOUT_GPU();
    std::mt19937 rng(3);
    for (int64_t width : {32, 96, 4096, 5120}) {
        for (int n_rows : {1, 4, 8}) {
            const size_t n = static_cast<size_t>(width * n_rows);
            DeviceBuffer<float> x(random_floats(n, rng));
            DeviceBuffer<float> w(random_floats(static_cast<size_t>(width), rng));
            DeviceBuffer<float> plain(n), fused(n);
            rms_norm(x.get(), w.get(), 1e-5f, width, n_rows, plain.get(), nullptr);
            TestActs expected(plain, width, n_rows);
            const int64_t padded = padded_act_cols(width);
            // Poisoned so any byte the fused kernel fails to write shows up.
            DeviceBuffer<int8_t> qs(
                std::vector<int8_t>(static_cast<size_t>(padded * n_rows), 0x55));
            DeviceBuffer<float2> ds(static_cast<size_t>(padded / 32 * n_rows));
            rms_norm_quant(x.get(), w.get(), 1e-5f, width, n_rows, fused.get(),
                           {qs.get(), ds.get(), padded}, nullptr);
            RF_GPU_CHECK(gpuDeviceSynchronize());
            EXPECT_EQ(fused.to_host(), plain.to_host()) << "width " << width << " rows " << n_rows;
            EXPECT_EQ(qs.to_host(), expected.qs.to_host())
                << "width " << width << " rows " << n_rows;
            const std::vector<float2> got_ds = ds.to_host(), want_ds = expected.ds.to_host();
            for (size_t i = 0; i < got_ds.size(); ++i) {
                ASSERT_EQ(got_ds[i].x, want_ds[i].x) << "block " << i;
                ASSERT_EQ(got_ds[i].y, want_ds[i].y) << "block " << i;
            }
        }
    }
}

// rope_store_kv against rope (q), rope (k), store_kv: normal and NeoX pairing, partial rotary
// dims, GQA, K rows wider or narrower than V rows, tokens of two sequences in shuffled cache slots.
TEST(GpuFusedOps, RopeStoreKvMatchesRopeThenStore) {
    RF_SKIP_WITHOUT_GPU();
    std::mt19937 rng(5);
    struct Shape {
        bool neox;
        int32_t n_head, n_head_kv, head_dim, n_rot;
        int32_t head_dim_v = 0;  // 0: head_dim
    };
    for (const Shape& sh : {Shape{false, 4, 2, 64, 64}, Shape{true, 6, 3, 128, 128}, Shape{true, 4, 4, 40, 24},
                            Shape{false, 2, 1, 256, 128}, Shape{false, 8, 4, 192, 64, 128},
                            Shape{true, 4, 2, 64, 64, 128}}) {
        constexpr int32_t kTokens = 11, kBlockSize = 16, kBlocks = 4;
        const int32_t dk = sh.head_dim, dv = sh.head_dim_v != 0 ? sh.head_dim_v : sh.head_dim;
        RopeKernelParams p;
        p.neox = sh.neox;
        p.n_rot = sh.n_rot;
        p.freq_base = 10000.0f;
        const std::vector<int32_t> positions = {0, 1, 2, 3, 4, 5, 6, 17, 18, 19, 20};
        const std::vector<int32_t> slots = {48, 49, 50, 51, 52, 53, 54, 1, 2, 3, 4};
        DeviceBuffer<int32_t> d_pos(positions), d_slots(slots);
        DeviceBatch batch;
        batch.n_tokens = kTokens;
        batch.positions = d_pos.get();
        batch.kv_slots = d_slots.get();
        const size_t n_q = static_cast<size_t>(kTokens * sh.n_head * dk);
        const std::vector<float> q = random_floats(n_q, rng);
        const std::vector<float> k = random_floats(static_cast<size_t>(kTokens * sh.n_head_kv * dk), rng);
        const std::vector<float> v = random_floats(static_cast<size_t>(kTokens * sh.n_head_kv * dv), rng);
        const size_t rows = static_cast<size_t>(kBlocks * sh.n_head_kv * kBlockSize);
        auto run = [&](bool fused) {
            DeviceBuffer<float> dq(q), dk_buf(k), dv_buf(v);
            DeviceBuffer<uint16_t> kc(std::vector<uint16_t>(rows * dk, 0)), vc(std::vector<uint16_t>(rows * dv, 0));
            const PagedKvView view{kc.get(), vc.get(), kBlockSize, sh.n_head_kv, dk, dv};
            if (fused) {
                rope_store_kv(dq.get(), dk_buf.get(), dv_buf.get(), view, batch, sh.n_head, p, nullptr);
            } else {
                rope(dq.get(), d_pos.get(), kTokens, sh.n_head, dk, p, nullptr);
                rope(dk_buf.get(), d_pos.get(), kTokens, sh.n_head_kv, dk, p, nullptr);
                store_kv(view, batch, dk_buf.get(), dv_buf.get(), nullptr);
            }
            RF_GPU_CHECK(gpuDeviceSynchronize());
            return std::make_tuple(dq.to_host(), kc.to_host(), vc.to_host());
        };
        const auto [q_ref, k_ref, v_ref] = run(false);
        const auto [q_got, k_got, v_got] = run(true);
        double q_err = 0.0;
        for (size_t i = 0; i < n_q; ++i) q_err = std::max(q_err, std::fabs(double(q_got[i]) - double(q_ref[i])));
        EXPECT_LE(q_err, 1e-5) << "head_dim " << dk;
        EXPECT_EQ(v_got, v_ref) << "head_dim " << dk << "/" << dv;
        // The same formula in two kernels: allow one fp16 step for contraction differences.
        int off = 0;
        for (size_t i = 0; i < k_ref.size(); ++i) off += std::abs(int(k_got[i]) - int(k_ref[i])) > 1;
        EXPECT_EQ(off, 0) << "head_dim " << dk << "/" << dv << " n_rot " << sh.n_rot << (sh.neox ? " neox" : "");
    }
}

}  // namespace
}  // namespace rf::gpu
