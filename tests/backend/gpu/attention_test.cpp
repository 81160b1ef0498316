// GPU attention kernels (split-K for decode, tiled for prefill) against a scalar reference on a
// random paged KV cache: ragged sequences with cached prefixes, GQA, odd head dims, block tables
// out of order, tiles cut (as the backend cuts them) at kTileRows and at sequence boundaries.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <tuple>
#include <vector>

#include "backend/gpu/ops.h"
#include "backend/gpu/quantize_act.h"
#include "core/half.h"
#include "gpu_test_util.h"

namespace rf::gpu {
namespace {

using test::DeviceBuffer;

constexpr int32_t kBlockSize = 16;

// One sequence of the step: `n_new` tokens continuing a cached prefix of `n_cached` positions.
struct SeqSpec {
    int32_t n_cached;
    int32_t n_new;
};

struct Case {
    int32_t n_head, n_head_kv, head_dim;
    std::vector<SeqSpec> seqs;
};

class AttentionFixture {
public:
    AttentionFixture(const Case& c, std::mt19937& rng) : c_(c) {
        std::normal_distribution<float> normal(0.0f, 1.0f);
        // Blocks of all sequences, handed out in a shuffled order.
        int32_t n_blocks = 0;
        for (const SeqSpec& s : c.seqs) n_blocks += (s.n_cached + s.n_new + kBlockSize - 1) / kBlockSize;
        std::vector<int32_t> order(static_cast<size_t>(n_blocks));
        std::iota(order.begin(), order.end(), 0);
        std::shuffle(order.begin(), order.end(), rng);
        size_t next_block = 0;
        offsets_.push_back(0);
        for (size_t si = 0; si < c.seqs.size(); ++si) {
            const SeqSpec& s = c.seqs[si];
            const int32_t len = s.n_cached + s.n_new;
            for (int32_t b = 0; b < (len + kBlockSize - 1) / kBlockSize; ++b) tables_.push_back(order[next_block++]);
            for (int32_t p = s.n_cached; p < len; ++p) {
                positions_.push_back(p);
                token_seq_.push_back(static_cast<int32_t>(si));
            }
            offsets_.push_back(static_cast<int32_t>(tables_.size()));
        }
        const size_t per_block = static_cast<size_t>(c.n_head_kv) * kBlockSize * c.head_dim;
        for (size_t i = 0; i < per_block * static_cast<size_t>(n_blocks); ++i) {
            k_.push_back(float_to_fp16(normal(rng)));
            v_.push_back(float_to_fp16(normal(rng)));
        }
        q_.resize(positions_.size() * static_cast<size_t>(c.n_head * c.head_dim));
        for (float& x : q_) x = normal(rng);
    }

    int32_t n_tokens() const { return static_cast<int32_t>(positions_.size()); }
    float scale() const { return 1.0f / std::sqrt(static_cast<float>(c_.head_dim)); }

    // Key or value element d of head group g at position p of sequence s.
    float kv_at(const std::vector<uint16_t>& pool, int32_t s, int32_t p, int32_t g, int32_t d) const {
        const int64_t block = tables_[static_cast<size_t>(offsets_[static_cast<size_t>(s)] + p / kBlockSize)];
        return fp16_to_float(pool[static_cast<size_t>(((block * c_.n_head_kv + g) * kBlockSize + p % kBlockSize) * c_.head_dim + d)]);
    }

    // out [n_tokens][n_head][head_dim] by the definition, in double.
    std::vector<float> reference() const {
        std::vector<float> out(q_.size());
        const int32_t dim = c_.head_dim;
        for (int32_t t = 0; t < n_tokens(); ++t) {
            const int32_t s = token_seq_[static_cast<size_t>(t)], pos = positions_[static_cast<size_t>(t)];
            for (int32_t h = 0; h < c_.n_head; ++h) {
                const int32_t g = h / (c_.n_head / c_.n_head_kv);
                const float* q = &q_[static_cast<size_t>((t * c_.n_head + h) * dim)];
                std::vector<double> score;
                double mx = -1e300;
                for (int32_t p = 0; p <= pos; ++p) {
                    double dot = 0.0;
                    for (int32_t d = 0; d < dim; ++d) dot += double(q[d]) * double(kv_at(k_, s, p, g, d));
                    score.push_back(dot * double(scale()));
                    mx = std::max(mx, score.back());
                }
                double total = 0.0;
                for (double& x : score) total += (x = std::exp(x - mx));
                for (int32_t d = 0; d < dim; ++d) {
                    double a = 0.0;
                    for (int32_t p = 0; p <= pos; ++p) a += score[static_cast<size_t>(p)] * double(kv_at(v_, s, p, g, d));
                    out[static_cast<size_t>((t * c_.n_head + h) * dim + d)] = static_cast<float>(a / total);
                }
            }
        }
        return out;
    }

    // The split-K kernel's output with its quantized form written by the merge (fused) or by
    // quantize_acts afterwards: {out, qs, ds as floats}.
    std::tuple<std::vector<float>, std::vector<int8_t>, std::vector<float>> run_quantized(bool fused) const {
        OnDevice d(*this);
        const DeviceBatch& batch = d.batch;
        const int64_t width = int64_t{c_.n_head} * c_.head_dim;
        const int64_t padded = padded_act_cols(width);
        DeviceBuffer<int8_t> qs(static_cast<size_t>(padded * n_tokens()));
        DeviceBuffer<float2> ds(static_cast<size_t>(padded / 32 * n_tokens()));
        const QuantizedActs acts{qs.get(), ds.get(), padded};
        DeviceBuffer<float> partials(static_cast<size_t>(
            attention_scratch_floats(batch.n_tokens, c_.n_head, batch.max_kv, c_.head_dim)));
        attention(d.view, batch, d.q.get(), c_.n_head, scale(), d.out.get(), partials.get(), nullptr,
                  fused ? &acts : nullptr);
        if (!fused) quantize_acts(d.out.get(), width, n_tokens(), acts, nullptr);
        RF_GPU_CHECK(gpuDeviceSynchronize());
        std::vector<float> ds_flat;
        for (const float2& pair : ds.to_host()) {
            ds_flat.push_back(pair.x);
            ds_flat.push_back(pair.y);
        }
        return {d.out.to_host(), qs.to_host(), ds_flat};
    }

    // Runs the split-K kernel (tiled = false) or the tiled one on the device.
    std::vector<float> run(bool tiled) const {
        OnDevice d(*this);
        const DeviceBatch& batch = d.batch;
        if (tiled) {
            std::vector<int32_t> starts;
            query_tile_starts(token_seq_, positions_, starts);
            DeviceBuffer<int32_t> d_starts(starts);
            attention_tiled(d.view, batch, d_starts.get(), static_cast<int32_t>(starts.size()) - 1, d.q.get(),
                            c_.n_head, scale(), d.out.get(), nullptr);
            RF_GPU_CHECK(gpuDeviceSynchronize());
            return d.out.to_host();
        }
        DeviceBuffer<float> partials(static_cast<size_t>(
            attention_scratch_floats(batch.n_tokens, c_.n_head, batch.max_kv, c_.head_dim)));
        attention(d.view, batch, d.q.get(), c_.n_head, scale(), d.out.get(), partials.get(), nullptr);
        RF_GPU_CHECK(gpuDeviceSynchronize());
        return d.out.to_host();
    }

private:
    // The fixture's arrays on the device, and the cache view and batch the kernels take.
    struct OnDevice {
        explicit OnDevice(const AttentionFixture& f)
            : k(f.k_), v(f.v_), q(f.q_), out(f.q_.size()), positions(f.positions_), token_seq(f.token_seq_),
              offsets(f.offsets_), tables(f.tables_),
              view{k.get(), v.get(), kBlockSize, f.c_.n_head_kv, f.c_.head_dim, f.c_.head_dim} {
            batch.n_tokens = f.n_tokens();
            batch.positions = positions.get();
            batch.token_seq = token_seq.get();
            batch.block_table_offsets = offsets.get();
            batch.block_tables = tables.get();
            batch.max_kv = *std::max_element(f.positions_.begin(), f.positions_.end()) + 1;
        }
        DeviceBuffer<uint16_t> k, v;
        DeviceBuffer<float> q, out;
        DeviceBuffer<int32_t> positions, token_seq, offsets, tables;
        PagedKvView view;
        DeviceBatch batch;
    };

    Case c_;
    std::vector<int32_t> positions_, token_seq_, offsets_, tables_;
    std::vector<uint16_t> k_, v_;
    std::vector<float> q_;
};

void expect_close(const std::vector<float>& got, const std::vector<float>& ref, const char* what, const Case& c) {
    double max_err = 0.0;
    for (size_t i = 0; i < ref.size(); ++i) max_err = std::max(max_err, std::fabs(double(got[i]) - double(ref[i])));
    // fp32 accumulation of O(1) values over a few hundred keys.
    EXPECT_LE(max_err, 2e-4) << what << ": head_dim " << c.head_dim << ", heads " << c.n_head << "/" << c.n_head_kv;
}

TEST(GpuAttention, SplitKAndTiledMatchReference) {
    RF_SKIP_WITHOUT_GPU();
    std::mt19937 rng(7);
    const std::vector<Case> cases = {
        {4, 2, 64, {{0, 45}, {20, 37}, {99, 1}}},    // GQA; a 45-token prompt cut 32 + 13
        {6, 6, 128, {{0, 70}, {5, 3}}},              // several key tiles; a short continuation
        {4, 1, 40, {{17, 33}, {0, 9}}},              // odd head dim (multiple of 8), MQA
        {2, 2, 256, {{0, 40}, {130, 2}}},            // the widest heads, keys past several blocks
        {8, 4, 128, {{300, 64}}},                    // a long cached prefix (chunked prefill)
    };
    for (const Case& c : cases) {
        const AttentionFixture f(c, rng);
        const std::vector<float> ref = f.reference();
        expect_close(f.run(false), ref, "split-K", c);
        expect_close(f.run(true), ref, "tiled", c);
    }
}

// Decode steps take the output projection's int8 activations from the attention merge: the same
// bytes quantize_acts writes from the float output.
TEST(GpuAttention, MergeWritesQuantizedOutput) {
    RF_SKIP_WITHOUT_GPU();
    std::mt19937 rng(11);
    const std::vector<Case> cases = {
        {8, 4, 64, {{30, 1}, {0, 1}, {140, 1}}},  // width 512
        {16, 16, 128, {{200, 1}, {7, 1}}},         // width 2048, keys over two splits
    };
    for (const Case& c : cases) {
        ASSERT_TRUE(attention_can_quantize(c.n_head, c.head_dim));
        const AttentionFixture f(c, rng);
        const auto [out_ref, qs_ref, ds_ref] = f.run_quantized(false);
        const auto [out_got, qs_got, ds_got] = f.run_quantized(true);
        EXPECT_EQ(out_got, out_ref) << "head_dim " << c.head_dim;
        EXPECT_EQ(qs_got, qs_ref) << "head_dim " << c.head_dim;
        EXPECT_EQ(ds_got, ds_ref) << "head_dim " << c.head_dim;
    }
    EXPECT_FALSE(attention_can_quantize(4, 40));  // head dims not a multiple of 32
    EXPECT_FALSE(attention_can_quantize(3, 96));  // 288 columns: padded to 512
}

}  // namespace
}  // namespace rf::gpu
