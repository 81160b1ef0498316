// Fused GPU ops against their unfused forms on the same device: mat-vec sets (Q/K/V in one
// launch), the accumulate and SwiGLU epilogues, grouped outputs (residual add + RMSNorm +
// quantization, the norm folded into the next mat-vec), and RMSNorm fused with activation
// quantization. Where the fused kernels run the same arithmetic, results must match exactly.
#include <gtest/gtest.h>

#include <cmath>
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

int device_warp_size() {
    gpuDeviceProp prop{};
    RF_GPU_CHECK(gpuGetDeviceProperties(&prop, 0));
    return prop.warpSize;
}

// The input of a mat-vec without a pending norm.
MatvecInput plain_input(const QuantizedActs& acts, const float* x) {
    MatvecInput in;
    in.acts = acts;
    in.x = x;
    return in;
}

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
            matvec_set(set, MatvecEpilogue::kStore, plain_input(acts.get(), x.get()), n_tokens, warp, nullptr);
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
            matvec_set(add_set, MatvecEpilogue::kAccumulate, plain_input(acts.get(), x.get()), n_tokens, warp,
                       nullptr);
            add(residual_dev.get(), g.get(), sum.get(), static_cast<int64_t>(n_out), nullptr);

            // silu(gate x) * (up x)
            DeviceBuffer<float> fused(n_out);
            MatvecSet swiglu_set;
            swiglu_set.add(gate.get(), fused.get());
            swiglu_set.w[1] = up.get();
            matvec_set(swiglu_set, MatvecEpilogue::kSwiglu, plain_input(acts.get(), x.get()), n_tokens, warp,
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

// Expects two quantized activation sets of n_tokens rows over the first n_cols columns to be equal.
void expect_same_acts(const QuantizedActs& got, const QuantizedActs& want, int64_t n_cols, int n_tokens,
                      const std::string& what) {
    const size_t n_q = static_cast<size_t>(got.n_cols_padded * n_tokens);
    std::vector<int8_t> gq(n_q), wq(n_q);
    std::vector<float2> gd(n_q / 32), wd(n_q / 32);
    RF_GPU_CHECK(gpuMemcpy(gq.data(), got.qs, n_q, gpuMemcpyDeviceToHost));
    RF_GPU_CHECK(gpuMemcpy(wq.data(), want.qs, n_q, gpuMemcpyDeviceToHost));
    RF_GPU_CHECK(gpuMemcpy(gd.data(), got.ds, n_q / 32 * sizeof(float2), gpuMemcpyDeviceToHost));
    RF_GPU_CHECK(gpuMemcpy(wd.data(), want.ds, n_q / 32 * sizeof(float2), gpuMemcpyDeviceToHost));
    for (int t = 0; t < n_tokens; ++t) {
        for (int64_t c = 0; c < n_cols; ++c) {
            const size_t i = static_cast<size_t>(t * got.n_cols_padded + c);
            ASSERT_EQ(gq[i], wq[i]) << what << " token " << t << " column " << c;
            if (c % 32 == 0) {
                ASSERT_EQ(gd[i / 32].x, wd[i / 32].x) << what << " token " << t << " block " << c / 32;
                ASSERT_EQ(gd[i / 32].y, wd[i / 32].y) << what << " token " << t << " block " << c / 32;
            }
        }
    }
}

// The residual add with a grouped output (acc += W x, then acc * g quantized, as floats, and
// its sums of squares), and the next mat-vec folding in the 1 / rms: against the accumulate
// epilogue, quantize_acts of acc * g, float64 sums and the consumer's plain products scaled on
// the host. Run twice on the same tickets (they must be left at zero). Also SwiGLU's grouped
// output with a partial last group.
TEST(GpuFusedOps, GroupedOutputAndInputNorm) {
    RF_SKIP_WITHOUT_GPU();
    const int warp = device_warp_size();
    std::mt19937 rng(13);
    for (GgmlType type : kTypes) {
        for (int n_tokens : {1, 3, 8}) {
            const int64_t width = 512, n_out = 160;  // producer W [width x width], consumer V [n_out x width]
            const float eps = 1e-5f;
            TestMatrix w(type, width, width, rng), v(type, n_out, width, rng);
            DeviceBuffer<float> x(random_floats(static_cast<size_t>(width * n_tokens), rng));
            TestActs acts(x, width, n_tokens);
            const std::vector<float> residual = random_floats(static_cast<size_t>(width * n_tokens), rng);
            const std::vector<float> gain = random_floats(static_cast<size_t>(width), rng);
            DeviceBuffer<float> d_gain(gain);
            const int64_t n_groups = group_count(width);
            const int64_t padded = padded_act_cols(width);
            DeviceBuffer<int32_t> counters(std::vector<int32_t>(static_cast<size_t>(n_groups), 0));
            for (int repeat = 0; repeat < 2; ++repeat) {
                const std::string what = std::string(quant::traits(type).name) + " tokens " +
                                         std::to_string(n_tokens) + " run " + std::to_string(repeat);
                DeviceBuffer<float> acc(residual), plain(residual);
                DeviceBuffer<float> scaled(static_cast<size_t>(width * n_tokens));
                DeviceBuffer<float> sums(static_cast<size_t>(n_groups * n_tokens));
                DeviceBuffer<int8_t> qs(static_cast<size_t>(padded * n_tokens));
                DeviceBuffer<float2> ds(static_cast<size_t>(padded / 32 * n_tokens));
                GroupOutput group;
                group.acts = {qs.get(), ds.get(), padded};
                group.gain = d_gain.get();
                group.scaled = scaled.get();
                group.sum_squares = sums.get();
                group.counters = counters.get();
                MatvecSet set, plain_set;
                set.add(w.get(), acc.get());
                plain_set.add(w.get(), plain.get());
                matvec_set(set, MatvecEpilogue::kAccumulate, plain_input(acts.get(), x.get()), n_tokens, warp, nullptr,
                           &group);
                matvec_set(plain_set, MatvecEpilogue::kAccumulate, plain_input(acts.get(), x.get()), n_tokens, warp,
                           nullptr);
                RF_GPU_CHECK(gpuDeviceSynchronize());
                const std::vector<float> acc_host = acc.to_host();
                EXPECT_EQ(acc_host, plain.to_host()) << what;
                EXPECT_EQ(counters.to_host(), std::vector<int32_t>(static_cast<size_t>(n_groups), 0)) << what;
                // scaled = acc * g exactly, quantized as quantize_acts would.
                std::vector<float> want_scaled(acc_host.size());
                for (size_t i = 0; i < acc_host.size(); ++i) want_scaled[i] = acc_host[i] * gain[i % width];
                EXPECT_EQ(scaled.to_host(), want_scaled) << what;
                TestActs want_acts(scaled, width, n_tokens);
                expect_same_acts(group.acts, want_acts.get(), width, n_tokens, what);
                // Sums of squares per group, and the consumer's scaling.
                const std::vector<float> got_sums = sums.to_host();
                std::vector<double> inv_rms(static_cast<size_t>(n_tokens));
                for (int t = 0; t < n_tokens; ++t) {
                    double total = 0.0;
                    for (int64_t gi = 0; gi < n_groups; ++gi) {
                        double want = 0.0;
                        for (int64_t c = 32 * gi; c < 32 * gi + 32; ++c) {
                            want += double(acc_host[t * width + c]) * double(acc_host[t * width + c]);
                        }
                        EXPECT_NEAR(got_sums[t * n_groups + gi], want, 1e-5 * want + 1e-6) << what;
                        total += want;
                    }
                    inv_rms[static_cast<size_t>(t)] = 1.0 / std::sqrt(total / double(width) + double(eps));
                }
                DeviceBuffer<float> y(static_cast<size_t>(n_out * n_tokens)), y_plain(static_cast<size_t>(n_out * n_tokens));
                DeviceBuffer<float> normalized(static_cast<size_t>(width * n_tokens));
                MatvecInput in = plain_input(group.acts, scaled.get());
                in.norm = InputNorm{sums.get(), static_cast<int32_t>(n_groups), width, eps};
                in.normalized = normalized.get();
                MatvecSet consumer, consumer_plain;
                consumer.add(v.get(), y.get());
                consumer_plain.add(v.get(), y_plain.get());
                matvec_set(consumer, MatvecEpilogue::kStore, in, n_tokens, warp, nullptr);
                matvec_set(consumer_plain, MatvecEpilogue::kStore, plain_input(group.acts, scaled.get()), n_tokens, warp,
                           nullptr);
                DeviceBuffer<float> settled(static_cast<size_t>(width * n_tokens));
                apply_input_norm(scaled.get(), in.norm, n_tokens, settled.get(), nullptr);
                RF_GPU_CHECK(gpuDeviceSynchronize());
                const std::vector<float> got_y = y.to_host(), plain_y = y_plain.to_host();
                for (int t = 0; t < n_tokens; ++t) {
                    for (int64_t r = 0; r < n_out; ++r) {
                        const double want = double(plain_y[t * n_out + r]) * inv_rms[static_cast<size_t>(t)];
                        ASSERT_NEAR(got_y[t * n_out + r], want, 1e-5 * std::fabs(want) + 1e-6) << what << " row " << r;
                    }
                }
                const std::vector<float> got_norm = normalized.to_host();
                EXPECT_EQ(got_norm, settled.to_host()) << what;
                for (int t = 0; t < n_tokens; ++t) {
                    for (int64_t c = 0; c < width; ++c) {
                        const double want = double(want_scaled[t * width + c]) * inv_rms[static_cast<size_t>(t)];
                        ASSERT_NEAR(got_norm[t * width + c], want, 1e-5 * std::fabs(want) + 1e-6) << what;
                    }
                }
            }
            // SwiGLU with its output quantized (257 rows: the last group is partial).
            const int64_t rows = 257;
            TestMatrix gate(type, rows, width, rng), up(type, rows, width, rng);
            DeviceBuffer<float> fused(static_cast<size_t>(rows * n_tokens));
            const int64_t out_padded = padded_act_cols(rows);
            DeviceBuffer<int8_t> qs(static_cast<size_t>(out_padded * n_tokens));
            DeviceBuffer<float2> ds(static_cast<size_t>(out_padded / 32 * n_tokens));
            DeviceBuffer<int32_t> swiglu_counters(std::vector<int32_t>(static_cast<size_t>(group_count(rows)), 0));
            GroupOutput group;
            group.acts = {qs.get(), ds.get(), out_padded};
            group.counters = swiglu_counters.get();
            MatvecSet swiglu_set;
            swiglu_set.add(gate.get(), fused.get());
            swiglu_set.w[1] = up.get();
            matvec_set(swiglu_set, MatvecEpilogue::kSwiglu, plain_input(acts.get(), x.get()), n_tokens, warp, nullptr,
                       &group);
            RF_GPU_CHECK(gpuDeviceSynchronize());
            TestActs want_acts(fused, rows, n_tokens);
            expect_same_acts(group.acts, want_acts.get(), rows, n_tokens,
                             std::string(quant::traits(type).name) + " swiglu tokens " + std::to_string(n_tokens));
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

// The Q/K/V mat-vec with RoPE and the KV store in its epilogue against matvec_set then
// rope_store_kv: normal and NeoX pairing, partial rotary dims, GQA, several tokens.
TEST(GpuFusedOps, QkvRopeStoreMatchesMatvecThenRopeStore) {
    RF_SKIP_WITHOUT_GPU();
    const int warp = device_warp_size();
    std::mt19937 rng(17);
    struct Shape {
        bool neox;
        int32_t n_head, n_head_kv, head_dim, n_rot;
    };
    for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ4_K, GgmlType::kQ8_0, GgmlType::kF16}) {
        for (const Shape& sh : {Shape{false, 4, 2, 64, 64}, Shape{true, 6, 3, 128, 128}, Shape{true, 4, 4, 40, 24}}) {
            for (int n_tokens : {1, 3}) {
                constexpr int32_t kBlockSize = 16, kBlocks = 4;
                const int64_t cols = 512;
                RopeKernelParams p;
                p.neox = sh.neox;
                p.n_rot = sh.n_rot;
                p.freq_base = 10000.0f;
                const std::vector<int32_t> positions = {5, 17, 40}, slots = {21, 3, 60};
                DeviceBuffer<int32_t> d_pos(positions), d_slots(slots);
                DeviceBatch batch;
                batch.n_tokens = n_tokens;
                batch.positions = d_pos.get();
                batch.kv_slots = d_slots.get();
                const int64_t rows_q = int64_t{sh.n_head} * sh.head_dim, rows_kv = int64_t{sh.n_head_kv} * sh.head_dim;
                TestMatrix wq(type, rows_q, cols, rng), wk(type, rows_kv, cols, rng), wv(type, rows_kv, cols, rng);
                DeviceBuffer<float> x(random_floats(static_cast<size_t>(cols * n_tokens), rng));
                TestActs acts(x, cols, n_tokens);
                const size_t pool = static_cast<size_t>(kBlocks * sh.n_head_kv * kBlockSize * sh.head_dim);
                DeviceBuffer<int32_t> counters(std::vector<int32_t>(static_cast<size_t>(sh.n_head + 2 * sh.n_head_kv), 0));
                auto run = [&](bool fused) {
                    DeviceBuffer<float> q(static_cast<size_t>(rows_q * n_tokens)), k(static_cast<size_t>(rows_kv * n_tokens)),
                        v(static_cast<size_t>(rows_kv * n_tokens));
                    DeviceBuffer<uint16_t> kc(std::vector<uint16_t>(pool, 0)), vc(std::vector<uint16_t>(pool, 0));
                    const PagedKvView view{kc.get(), vc.get(), kBlockSize, sh.n_head_kv, sh.head_dim, sh.head_dim};
                    MatvecSet set;
                    set.add(wq.get(), q.get());
                    set.add(wk.get(), k.get());
                    set.add(wv.get(), v.get());
                    if (fused) {
                        HeadOutput heads;
                        heads.kv = view;
                        heads.positions = d_pos.get();
                        heads.slots = d_slots.get();
                        heads.rope = p;
                        heads.n_head = sh.n_head;
                        heads.counters = counters.get();
                        matvec_qkv_rope_store(set, plain_input(acts.get(), x.get()), n_tokens, warp, heads, nullptr);
                    } else {
                        matvec_set(set, MatvecEpilogue::kStore, plain_input(acts.get(), x.get()), n_tokens, warp, nullptr);
                        rope_store_kv(q.get(), k.get(), v.get(), view, batch, sh.n_head, p, nullptr);
                    }
                    RF_GPU_CHECK(gpuDeviceSynchronize());
                    return std::make_tuple(q.to_host(), kc.to_host(), vc.to_host());
                };
                const auto [q_ref, k_ref, v_ref] = run(false);
                const auto [q_got, k_got, v_got] = run(true);
                const std::string what = std::string(quant::traits(type).name) + " head_dim " +
                                         std::to_string(sh.head_dim) + " tokens " + std::to_string(n_tokens);
                double q_err = 0.0;
                for (size_t i = 0; i < q_ref.size(); ++i) q_err = std::max(q_err, std::fabs(double(q_got[i]) - double(q_ref[i])));
                EXPECT_LE(q_err, 1e-4) << what;
                EXPECT_EQ(v_got, v_ref) << what;
                int off = 0;
                for (size_t i = 0; i < pool; ++i) off += std::abs(int(k_got[i]) - int(k_ref[i])) > 1;
                EXPECT_EQ(off, 0) << what;
                EXPECT_EQ(counters.to_host(), std::vector<int32_t>(static_cast<size_t>(sh.n_head + 2 * sh.n_head_kv), 0))
                    << what;
            }
        }
    }
}

// rope_store_kv against rope (q), rope (k), store_kv: normal and NeoX pairing, partial rotary
// dims, GQA, tokens of two sequences in shuffled cache slots.
TEST(GpuFusedOps, RopeStoreKvMatchesRopeThenStore) {
    RF_SKIP_WITHOUT_GPU();
    std::mt19937 rng(5);
    struct Shape {
        bool neox;
        int32_t n_head, n_head_kv, head_dim, n_rot;
    };
    for (const Shape& sh : {Shape{false, 4, 2, 64, 64}, Shape{true, 6, 3, 128, 128}, Shape{true, 4, 4, 40, 24},
                            Shape{false, 2, 1, 256, 128}}) {
        constexpr int32_t kTokens = 11, kBlockSize = 16, kBlocks = 4;
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
        const size_t n_q = static_cast<size_t>(kTokens * sh.n_head * sh.head_dim);
        const size_t n_kv = static_cast<size_t>(kTokens * sh.n_head_kv * sh.head_dim);
        const std::vector<float> q = random_floats(n_q, rng), k = random_floats(n_kv, rng), v = random_floats(n_kv, rng);
        const size_t pool = static_cast<size_t>(kBlocks * sh.n_head_kv * kBlockSize * sh.head_dim);
        auto run = [&](bool fused) {
            DeviceBuffer<float> dq(q), dk(k), dv(v);
            DeviceBuffer<uint16_t> kc(std::vector<uint16_t>(pool, 0)), vc(std::vector<uint16_t>(pool, 0));
            const PagedKvView view{kc.get(), vc.get(), kBlockSize, sh.n_head_kv, sh.head_dim, sh.head_dim};
            if (fused) {
                rope_store_kv(dq.get(), dk.get(), dv.get(), view, batch, sh.n_head, p, nullptr);
            } else {
                rope(dq.get(), d_pos.get(), kTokens, sh.n_head, sh.head_dim, p, nullptr);
                rope(dk.get(), d_pos.get(), kTokens, sh.n_head_kv, sh.head_dim, p, nullptr);
                store_kv(view, batch, dk.get(), dv.get(), nullptr);
            }
            RF_GPU_CHECK(gpuDeviceSynchronize());
            return std::make_tuple(dq.to_host(), kc.to_host(), vc.to_host());
        };
        const auto [q_ref, k_ref, v_ref] = run(false);
        const auto [q_got, k_got, v_got] = run(true);
        double q_err = 0.0;
        for (size_t i = 0; i < n_q; ++i) q_err = std::max(q_err, std::fabs(double(q_got[i]) - double(q_ref[i])));
        EXPECT_LE(q_err, 1e-5) << "head_dim " << sh.head_dim;
        EXPECT_EQ(v_got, v_ref) << "head_dim " << sh.head_dim;
        // The same formula in two kernels: allow one fp16 step for contraction differences.
        int off = 0;
        for (size_t i = 0; i < pool; ++i) off += std::abs(int(k_got[i]) - int(k_ref[i])) > 1;
        EXPECT_EQ(off, 0) << "head_dim " << sh.head_dim << " n_rot " << sh.n_rot << (sh.neox ? " neox" : "");
    }
}

}  // namespace
}  // namespace rf::gpu
