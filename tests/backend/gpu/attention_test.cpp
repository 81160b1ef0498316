// GPU attention kernels (split-K for decode, tiled for prefill) against a scalar reference on a
// random paged KV cache: ragged sequences with cached prefixes, GQA, odd head dims, K and V of
// different widths, block tables out of order, tiles cut (as the backend cuts them) at kTileRows
// and at sequence boundaries; split-K also with contexts of thousands of keys, key bounds rounded
// up as recorded graphs round them, and one scratch and counter array reused across calls.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <memory>
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
    int32_t head_dim_v = 0;  // 0: head_dim
    int32_t kv_bucket = 0;   // batch.max_kv rounded up to a multiple of this (as with graphs); 0: exact
};

// The partials scratch and merge counters that split-K calls share, as the backend keeps them:
// counters zeroed once, scratch grown (never shrunk) to the largest call.
class SplitScratch {
public:
    SplitScratch() : counters_(kAttentionCounters) {
        RF_GPU_CHECK(gpuMemset(counters_.get(), 0, counters_.bytes()));
    }
    float* partials(int64_t floats) {
        if (partials_ == nullptr || static_cast<size_t>(floats) > partials_->bytes() / sizeof(float)) {
            partials_ = std::make_unique<DeviceBuffer<float>>(static_cast<size_t>(std::max<int64_t>(floats, 1)));
        }
        return partials_->get();
    }
    uint32_t* counters() const { return counters_.get(); }
    // Whether every counter is back at zero.
    bool counters_zero() const {
        const std::vector<uint32_t> host = counters_.to_host();
        return std::all_of(host.begin(), host.end(), [](uint32_t c) { return c == 0; });
    }

private:
    DeviceBuffer<uint32_t> counters_;
    std::unique_ptr<DeviceBuffer<float>> partials_;
};

class AttentionFixture {
public:
    AttentionFixture(const Case& c, std::mt19937& rng)
        : c_(c), dk_(c.head_dim), dv_(c.head_dim_v != 0 ? c.head_dim_v : c.head_dim) {
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
        const size_t rows = static_cast<size_t>(c.n_head_kv) * kBlockSize * static_cast<size_t>(n_blocks);
        for (size_t i = 0; i < rows * static_cast<size_t>(dk_); ++i) k_.push_back(float_to_fp16(normal(rng)));
        for (size_t i = 0; i < rows * static_cast<size_t>(dv_); ++i) v_.push_back(float_to_fp16(normal(rng)));
        q_.resize(positions_.size() * static_cast<size_t>(c.n_head * dk_));
        for (float& x : q_) x = normal(rng);
    }

    int32_t n_tokens() const { return static_cast<int32_t>(positions_.size()); }
    float scale() const { return 1.0f / std::sqrt(static_cast<float>(dk_)); }
    size_t out_size() const { return positions_.size() * static_cast<size_t>(c_.n_head * dv_); }

    // Element d of the key (pool k_, dim dk_) or value (v_, dv_) of head group g at position p of
    // sequence s.
    float kv_at(const std::vector<uint16_t>& pool, int32_t dim, int32_t s, int32_t p, int32_t g, int32_t d) const {
        const int64_t block = tables_[static_cast<size_t>(offsets_[static_cast<size_t>(s)] + p / kBlockSize)];
        return fp16_to_float(pool[static_cast<size_t>(((block * c_.n_head_kv + g) * kBlockSize + p % kBlockSize) * dim + d)]);
    }

    // out [n_tokens][n_head][dv] by the definition, in double.
    std::vector<float> reference() const {
        std::vector<float> out(out_size());
        for (int32_t t = 0; t < n_tokens(); ++t) {
            const int32_t s = token_seq_[static_cast<size_t>(t)], pos = positions_[static_cast<size_t>(t)];
            for (int32_t h = 0; h < c_.n_head; ++h) {
                const int32_t g = h / (c_.n_head / c_.n_head_kv);
                const float* q = &q_[static_cast<size_t>((t * c_.n_head + h) * dk_)];
                std::vector<double> score;
                double mx = -1e300;
                for (int32_t p = 0; p <= pos; ++p) {
                    double dot = 0.0;
                    for (int32_t d = 0; d < dk_; ++d) dot += double(q[d]) * double(kv_at(k_, dk_, s, p, g, d));
                    score.push_back(dot * double(scale()));
                    mx = std::max(mx, score.back());
                }
                double total = 0.0;
                for (double& x : score) total += (x = std::exp(x - mx));
                for (int32_t d = 0; d < dv_; ++d) {
                    double a = 0.0;
                    for (int32_t p = 0; p <= pos; ++p) a += score[static_cast<size_t>(p)] * double(kv_at(v_, dv_, s, p, g, d));
                    out[static_cast<size_t>((t * c_.n_head + h) * dv_ + d)] = static_cast<float>(a / total);
                }
            }
        }
        return out;
    }

    // The split-K kernel's output with its quantized form written by the merge (fused) or by
    // quantize_acts afterwards: {out, qs, ds as floats}.
    std::tuple<std::vector<float>, std::vector<int8_t>, std::vector<float>> run_quantized(bool fused,
                                                                                          SplitScratch& scratch) const {
        OnDevice d(*this);
        const DeviceBatch& batch = d.batch;
        const int64_t width = int64_t{c_.n_head} * dv_;
        const int64_t padded = padded_act_cols(width);
        DeviceBuffer<int8_t> qs(static_cast<size_t>(padded * n_tokens()));
        DeviceBuffer<float2> ds(static_cast<size_t>(padded / 32 * n_tokens()));
        const QuantizedActs acts{qs.get(), ds.get(), padded};
        float* partials = scratch.partials(attention_scratch_floats(batch.n_tokens, c_.n_head, batch.max_kv, dv_));
        attention(d.view, batch, d.q.get(), c_.n_head, scale(), d.out.get(), partials, scratch.counters(), nullptr,
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

    // The tiled kernel's output.
    std::vector<float> run_tiled() const {
        OnDevice d(*this);
        std::vector<int32_t> starts;
        query_tile_starts(token_seq_, positions_, starts);
        DeviceBuffer<int32_t> d_starts(starts);
        attention_tiled(d.view, d.batch, d_starts.get(), static_cast<int32_t>(starts.size()) - 1, d.q.get(),
                        c_.n_head, scale(), d.out.get(), nullptr);
        RF_GPU_CHECK(gpuDeviceSynchronize());
        return d.out.to_host();
    }

    // The split-K kernel's outputs of `n_calls` calls in a row on `scratch`, each into an output
    // filled with NaNs first (so a merge that never ran shows).
    std::vector<std::vector<float>> run_split(SplitScratch& scratch, int n_calls) const {
        OnDevice d(*this);
        const DeviceBatch& batch = d.batch;
        float* partials = scratch.partials(attention_scratch_floats(batch.n_tokens, c_.n_head, batch.max_kv, dv_));
        std::vector<std::vector<float>> outs;
        for (int i = 0; i < n_calls; ++i) {
            RF_GPU_CHECK(gpuMemset(d.out.get(), 0xff, d.out.bytes()));
            attention(d.view, batch, d.q.get(), c_.n_head, scale(), d.out.get(), partials, scratch.counters(), nullptr);
            RF_GPU_CHECK(gpuDeviceSynchronize());
            outs.push_back(d.out.to_host());
        }
        return outs;
    }

private:
    // The fixture's arrays on the device, and the cache view and batch the kernels take.
    struct OnDevice {
        explicit OnDevice(const AttentionFixture& f)
            : k(f.k_), v(f.v_), q(f.q_), out(f.out_size()), positions(f.positions_), token_seq(f.token_seq_),
              offsets(f.offsets_), tables(f.tables_), view{k.get(), v.get(), kBlockSize, f.c_.n_head_kv, f.dk_, f.dv_} {
            batch.n_tokens = f.n_tokens();
            batch.positions = positions.get();
            batch.token_seq = token_seq.get();
            batch.block_table_offsets = offsets.get();
            batch.block_tables = tables.get();
            batch.max_kv = *std::max_element(f.positions_.begin(), f.positions_.end()) + 1;
            if (f.c_.kv_bucket > 0) batch.max_kv = (batch.max_kv + f.c_.kv_bucket - 1) / f.c_.kv_bucket * f.c_.kv_bucket;
        }
        DeviceBuffer<uint16_t> k, v;
        DeviceBuffer<float> q, out;
        DeviceBuffer<int32_t> positions, token_seq, offsets, tables;
        PagedKvView view;
        DeviceBatch batch;
    };

    Case c_;
    int32_t dk_, dv_;
    std::vector<int32_t> positions_, token_seq_, offsets_, tables_;
    std::vector<uint16_t> k_, v_;
    std::vector<float> q_;
};

void expect_close(const std::vector<float>& got, const std::vector<float>& ref, const char* what, const Case& c) {
    ASSERT_EQ(got.size(), ref.size()) << what;
    double max_err = 0.0;
    size_t not_finite = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        const double err = std::fabs(double(got[i]) - double(ref[i]));
        if (std::isfinite(err)) {
            max_err = std::max(max_err, err);
        } else {
            ++not_finite;
        }
    }
    // fp32 accumulation of O(1) values over up to a few thousand keys.
    EXPECT_EQ(not_finite, 0u) << what << ": head_dim " << c.head_dim << ", heads " << c.n_head << "/" << c.n_head_kv;
    EXPECT_LE(max_err, 2e-4) << what << ": head_dim " << c.head_dim << "/" << c.head_dim_v << ", heads " << c.n_head
                             << "/" << c.n_head_kv << ", tokens " << c.seqs.size();
}

// Decode-style steps: one new token in each of these sequences (of n_cached + 1 keys).
std::vector<SeqSpec> decode_steps(std::initializer_list<int32_t> n_cached) {
    std::vector<SeqSpec> seqs;
    for (int32_t n : n_cached) seqs.push_back({n, 1});
    return seqs;
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
        {4, 2, 192, {{0, 20}, {90, 3}}, 128},        // K wider than V
        {4, 4, 64, {{0, 12}, {150, 2}}, 128},        // V wider than K
    };
    SplitScratch scratch;
    for (const Case& c : cases) {
        const AttentionFixture f(c, rng);
        const std::vector<float> ref = f.reference();
        expect_close(f.run_split(scratch, 1)[0], ref, "split-K", c);
        expect_close(f.run_tiled(), ref, "tiled", c);
    }
    EXPECT_TRUE(scratch.counters_zero());
}

// Decode steps as the backend runs them through split-K: one token per sequence, 1 to 64 of
// them, contexts from one key to thousands (many splits, lengths that are no multiple of any
// split), GQA and K/V widths apart, key bounds rounded up as recorded graphs round them. All
// calls share one scratch and counter array, and each case runs twice in a row on it: the
// counters must be back at zero after every call for the next one to merge.
TEST(GpuAttention, SplitKDecodeMatchesReference) {
    RF_SKIP_WITHOUT_GPU();
    std::mt19937 rng(13);
    std::vector<int32_t> many(64);
    for (size_t i = 0; i < many.size(); ++i) many[i] = static_cast<int32_t>((i * 37) % 700);
    std::vector<SeqSpec> batched;
    for (int32_t n : many) batched.push_back({n, 1});
    const std::vector<Case> cases = {
        {32, 32, 128, decode_steps({99})},                         // LLaMA-2-7B shape, ~100 keys
        {32, 32, 128, decode_steps({99}), 0, 1024},                // the same, graph-sized grid
        {32, 32, 128, decode_steps({0})},                          // a single key
        {8, 8, 128, decode_steps({2999})},                         // many splits
        {8, 2, 128, decode_steps({3000, 64, 1000, 128, 5}), 0, 4096},  // GQA, ragged, graph-sized
        {8, 2, 64, decode_steps({4200, 63, 129, 777})},            // keys no multiple of a split
        {4, 1, 256, decode_steps({2500, 31})},                     // widest heads, MQA
        {4, 2, 40, decode_steps({1800, 9}), 0, 2048},              // odd head dim
        {8, 4, 192, decode_steps({1500, 200}), 128},               // K wider than V
        {8, 8, 64, decode_steps({900, 3}), 128, 1024},             // V wider than K
        {32, 8, 128, decode_steps({50, 700, 1300, 9, 260, 2048, 128, 4000})},  // 8 tokens
        {16, 4, 64, batched},                                      // batched decode: 64 tokens
        {64, 8, 128, decode_steps({2100, 40, 600, 1000, 5, 70, 1, 3333})},  // 512 (token, head) pairs
    };
    SplitScratch scratch;
    for (const Case& c : cases) {
        const AttentionFixture f(c, rng);
        const std::vector<float> ref = f.reference();
        const std::vector<std::vector<float>> outs = f.run_split(scratch, 2);
        expect_close(outs[0], ref, "split-K", c);
        expect_close(outs[1], ref, "split-K, second call", c);
        EXPECT_TRUE(outs[0] == outs[1]) << "split-K calls differ: head_dim " << c.head_dim << ", heads " << c.n_head;
        EXPECT_TRUE(scratch.counters_zero()) << "head_dim " << c.head_dim << ", heads " << c.n_head;
    }
}

// Decode steps take the output projection's int8 activations from the attention merge: the same
// bytes quantize_acts writes from the float output.
TEST(GpuAttention, MergeWritesQuantizedOutput) {
    RF_SKIP_WITHOUT_GPU();
    std::mt19937 rng(11);
    const std::vector<Case> cases = {
        {8, 4, 64, {{30, 1}, {0, 1}, {140, 1}}},          // width 512
        {16, 16, 128, {{200, 1}, {7, 1}}},                 // width 2048, keys over two splits
        {32, 32, 128, {{3000, 1}, {99, 1}}, 0, 4096},      // width 4096, many splits, graph-sized
        {16, 4, 192, {{1200, 1}, {3, 1}, {64, 1}}, 128},   // K wider than V: width 2048
    };
    SplitScratch scratch;
    for (const Case& c : cases) {
        const int32_t dv = c.head_dim_v != 0 ? c.head_dim_v : c.head_dim;
        ASSERT_TRUE(attention_can_quantize(c.n_head, dv));
        const AttentionFixture f(c, rng);
        const auto [out_ref, qs_ref, ds_ref] = f.run_quantized(false, scratch);
        const auto [out_got, qs_got, ds_got] = f.run_quantized(true, scratch);
        EXPECT_EQ(out_got, out_ref) << "head_dim " << c.head_dim;
        EXPECT_EQ(qs_got, qs_ref) << "head_dim " << c.head_dim;
        EXPECT_EQ(ds_got, ds_ref) << "head_dim " << c.head_dim;
    }
    EXPECT_TRUE(scratch.counters_zero());
    EXPECT_FALSE(attention_can_quantize(4, 40));  // head dims not a multiple of 32
    EXPECT_FALSE(attention_can_quantize(3, 96));  // 288 columns: padded to 512
}

}  // namespace
}  // namespace rf::gpu
