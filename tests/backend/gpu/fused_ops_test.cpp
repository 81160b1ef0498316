// Fused GPU ops against their unfused forms on the same device: mat-vec sets (Q/K/V in one
// launch), the accumulate and SwiGLU epilogues, RMSNorm fused with activation quantization, and
// the norm folded into the mat-vecs around it. Most fused kernels run the same arithmetic, so
// their results must match exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
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

// max |got - want| / max |want|.
double normalised_error(const std::vector<float>& got, const std::vector<float>& want) {
    double err = 0.0, scale = 0.0;
    for (size_t i = 0; i < want.size(); ++i) {
        err = std::max(err, std::fabs(double(got[i]) - double(want[i])));
        scale = std::max(scale, std::fabs(double(want[i])));
    }
    return scale > 0.0 ? err / scale : err;
}

// A residual mat-vec with the next block's norm folded in (kAccumulateRmsNorm), read by mat-vecs
// that finish the norm (PendingRmsNorm), against matvec + add, rms_norm, quantize, matvec. The
// activations are quantized before the division by rms here, so the dot products may differ by
// an int8 rounding step; the residual sum is the same arithmetic.
TEST(GpuFusedOps, ResidualNormOutputFeedsMatvecsThatFinishTheNorm) {
    RF_SKIP_WITHOUT_GPU();
    const int warp = device_warp_size();
    std::mt19937 rng(13);
    constexpr float kEps = 1e-5f;
    for (GgmlType type : kTypes) {
        for (int n_tokens : {1, 3, 8}) {
            const int64_t n_in = 512, width = 768;  // 768: 24 partial sums, acts padded to 1024
            const int64_t rows[2] = {96, 160}, ffn_rows = 8;  // ffn: 2 blocks, fewer threads than width
            TestMatrix wo(type, width, n_in, rng), wq(type, rows[0], width, rng), wk(type, rows[1], width, rng),
                gate(type, ffn_rows, width, rng), up(type, ffn_rows, width, rng);
            DeviceBuffer<float> x(random_floats(static_cast<size_t>(n_in * n_tokens), rng));
            TestActs acts(x, n_in, n_tokens);
            const std::vector<float> residual = random_floats(static_cast<size_t>(width * n_tokens), rng);
            DeviceBuffer<float> norm_w(random_floats(static_cast<size_t>(width), rng));
            const size_t n_x = static_cast<size_t>(width * n_tokens);

            // Unfused: acc += Wo x; xn = rms_norm(acc) * w; q, k = Wq xn, Wk xn; ffn = swiglu.
            DeviceBuffer<float> acc_ref(residual), xn_ref(n_x);
            DeviceBuffer<float> q_ref(static_cast<size_t>(rows[0] * n_tokens)), k_ref(static_cast<size_t>(rows[1] * n_tokens)),
                ffn_ref(static_cast<size_t>(ffn_rows * n_tokens));
            MatvecSet add_set;
            add_set.add(wo.get(), acc_ref.get());
            matvec_set(add_set, MatvecEpilogue::kAccumulate, acts.get(), x.get(), n_tokens, warp, nullptr);
            rms_norm(acc_ref.get(), norm_w.get(), kEps, width, n_tokens, xn_ref.get(), nullptr);
            TestActs xn_acts(xn_ref, width, n_tokens);
            MatvecSet qk_ref;
            qk_ref.add(wq.get(), q_ref.get());
            qk_ref.add(wk.get(), k_ref.get());
            matvec_set(qk_ref, MatvecEpilogue::kStore, xn_acts.get(), xn_ref.get(), n_tokens, warp, nullptr);
            MatvecSet ffn_set_ref;
            ffn_set_ref.add(gate.get(), ffn_ref.get());
            ffn_set_ref.w[1] = up.get();
            matvec_set(ffn_set_ref, MatvecEpilogue::kSwiglu, xn_acts.get(), xn_ref.get(), n_tokens, warp, nullptr);

            // Fused.
            const int64_t padded = padded_act_cols(width);
            DeviceBuffer<float> acc(residual), xw(n_x), partials(static_cast<size_t>(width / 32 * n_tokens));
            DeviceBuffer<float> xn_first(n_x), xn_second(n_x);
            DeviceBuffer<int8_t> qs(std::vector<int8_t>(static_cast<size_t>(padded * n_tokens), 0x55));
            DeviceBuffer<float2> ds(static_cast<size_t>(padded / 32 * n_tokens));
            DeviceBuffer<float> q(static_cast<size_t>(rows[0] * n_tokens)), k(static_cast<size_t>(rows[1] * n_tokens)),
                ffn(static_cast<size_t>(ffn_rows * n_tokens));
            MatvecInput producer_in;
            producer_in.acts = acts.get();
            producer_in.x = x.get();
            producer_in.norm_out = {norm_w.get(), {qs.get(), ds.get(), padded}, xw.get(), partials.get()};
            MatvecSet fused_add;
            fused_add.add(wo.get(), acc.get());
            matvec_set(fused_add, MatvecEpilogue::kAccumulateRmsNorm, producer_in, n_tokens, warp, nullptr);
            MatvecInput reader_in;
            reader_in.acts = {qs.get(), ds.get(), padded};
            reader_in.x = xw.get();
            reader_in.pending = {partials.get(), static_cast<int>(width / 32), kEps, xn_first.get()};
            MatvecSet qk;
            qk.add(wq.get(), q.get());
            qk.add(wk.get(), k.get());
            matvec_set(qk, MatvecEpilogue::kStore, reader_in, n_tokens, warp, nullptr);
            reader_in.pending.out = xn_second.get();
            MatvecSet ffn_set;
            ffn_set.add(gate.get(), ffn.get());
            ffn_set.w[1] = up.get();
            matvec_set(ffn_set, MatvecEpilogue::kSwiglu, reader_in, n_tokens, warp, nullptr);
            RF_GPU_CHECK(gpuDeviceSynchronize());

            const std::string what = std::string(quant::traits(type).name) + " tokens " + std::to_string(n_tokens);
            EXPECT_LE(normalised_error(acc.to_host(), acc_ref.to_host()), 1e-6) << what;
            EXPECT_LE(normalised_error(xn_first.to_host(), xn_ref.to_host()), 1e-5) << what;
            EXPECT_LE(normalised_error(xn_second.to_host(), xn_ref.to_host()), 1e-5) << what;
            EXPECT_LE(normalised_error(q.to_host(), q_ref.to_host()), 5e-3) << what;
            EXPECT_LE(normalised_error(k.to_host(), k_ref.to_host()), 5e-3) << what;
            EXPECT_LE(normalised_error(ffn.to_host(), ffn_ref.to_host()), 5e-3) << what;
            const std::vector<int8_t> got_qs = qs.to_host();
            for (int t = 0; t < n_tokens; ++t) {
                for (int64_t c = width; c < padded; ++c) ASSERT_EQ(got_qs[t * padded + c], 0) << what << " column " << c;
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
