// Paged attention (F32 and F16 cache, GQA / MQA, odd head and block sizes, several sequences
// with scattered block tables) and the K/V store, against a float64 reference.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backend/cpu/ops_attention.h"
#include "core/half.h"

namespace rf::cpu {
namespace {

struct Case {
    int n_head, n_head_kv, head_dim_k, head_dim_v, block_size;
    quant::GgmlType type;
};

class AttentionCase {
public:
    explicit AttentionCase(const Case& c) : c_(c), rng_(17) {
        kv_.type = c.type;
        kv_.block_size = c.block_size;
        kv_.n_head_kv = c.n_head_kv;
        kv_.head_dim_k = c.head_dim_k;
        kv_.head_dim_v = c.head_dim_v;
        const size_t slots = static_cast<size_t>(n_blocks_ * c.block_size * c.n_head_kv);
        kf_ = random(slots * static_cast<size_t>(c.head_dim_k));
        vf_ = random(slots * static_cast<size_t>(c.head_dim_v));
        if (c.type == quant::GgmlType::kF16) {
            for (float& x : kf_) kh_.push_back(float_to_fp16(x)), x = fp16_to_float(kh_.back());
            for (float& x : vf_) vh_.push_back(float_to_fp16(x)), x = fp16_to_float(vh_.back());
            kv_.k = kh_.data();
            kv_.v = vh_.data();
        } else {
            kv_.k = kf_.data();
            kv_.v = vf_.data();
        }
    }

    std::vector<float> random(size_t n) {
        std::uniform_real_distribution<float> d(-1.5f, 1.5f);
        std::vector<float> v(n);
        for (float& x : v) x = d(rng_);
        return v;
    }

    float k_at(int block, int head, int row, int i) const {
        return kf_[((static_cast<size_t>(block) * c_.n_head_kv + head) * c_.block_size + row) * c_.head_dim_k + i];
    }
    float v_at(int block, int head, int row, int i) const {
        return vf_[((static_cast<size_t>(block) * c_.n_head_kv + head) * c_.block_size + row) * c_.head_dim_v + i];
    }

    void run(int threads) {
        // Sequence 0: blocks {5, 1, 8, 3}; sequence 1: blocks {0, 7}. Batch: tokens of seq 1
        // at positions 3..5 interleaved with seq 0 at 9, 10, then seq 0 at 14.
        std::vector<int32_t> tables = {5, 1, 8, 3, 0, 7};
        std::vector<int32_t> offsets = {0, 4, 6};
        std::vector<int32_t> token_seq = {1, 1, 0, 0, 1, 0};
        std::vector<int32_t> positions = {3, 4, 9, 10, 5, 14};
        const int n_tokens = static_cast<int>(positions.size());
        engine::BatchInfo b;
        b.n_tokens = n_tokens;
        b.positions = positions;
        b.token_seq = token_seq;
        b.n_seqs = 2;
        b.block_table_offsets = offsets;
        b.block_tables = tables;
        engine::AttentionParams p{c_.n_head, c_.n_head_kv, c_.head_dim_k, c_.head_dim_v,
                                  1.0f / std::sqrt(static_cast<float>(c_.head_dim_k))};
        const size_t q_stride = static_cast<size_t>(c_.n_head * c_.head_dim_k) + 5;  // padded
        const size_t o_stride = static_cast<size_t>(c_.n_head * c_.head_dim_v);
        auto q = random(q_stride * static_cast<size_t>(n_tokens));
        std::vector<float> out(o_stride * static_cast<size_t>(n_tokens));
        ThreadPool pool(threads);
        AttentionScratch scratch;
        paged_attention(kv_, p, b, q.data(), q_stride, out.data(), o_stride, pool, scratch);

        const int group = c_.n_head / c_.n_head_kv;
        for (int t = 0; t < n_tokens; ++t) {
            const int s = token_seq[static_cast<size_t>(t)];
            for (int h = 0; h < c_.n_head; ++h) {
                const int g = h / group;
                const float* qr = q.data() + static_cast<size_t>(t) * q_stride + static_cast<size_t>(h * c_.head_dim_k);
                std::vector<double> sc;
                for (int j = 0; j <= positions[static_cast<size_t>(t)]; ++j) {
                    const int blk = tables[static_cast<size_t>(offsets[static_cast<size_t>(s)] + j / c_.block_size)];
                    double d = 0;
                    for (int i = 0; i < c_.head_dim_k; ++i) d += static_cast<double>(qr[i]) * static_cast<double>(k_at(blk, g, j % c_.block_size, i));
                    sc.push_back(d / std::sqrt(static_cast<double>(c_.head_dim_k)));
                }
                double mx = -1e300, sum = 0;
                for (double x : sc) mx = std::max(mx, x);
                for (double& x : sc) sum += x = std::exp(x - mx);
                for (int i = 0; i < c_.head_dim_v; ++i) {
                    double ref = 0;
                    for (size_t j = 0; j < sc.size(); ++j) {
                        const int jj = static_cast<int>(j);
                        const int blk = tables[static_cast<size_t>(offsets[static_cast<size_t>(s)] + jj / c_.block_size)];
                        ref += sc[j] / sum * static_cast<double>(v_at(blk, g, jj % c_.block_size, i));
                    }
                    EXPECT_NEAR(out[static_cast<size_t>(t) * o_stride + static_cast<size_t>(h * c_.head_dim_v + i)], ref, 2e-5)
                        << "token " << t << " head " << h << " dim " << i;
                }
            }
        }
    }

private:
    Case c_;
    std::mt19937 rng_;
    int n_blocks_ = 9;
    PagedKv kv_;
    std::vector<float> kf_, vf_;
    std::vector<uint16_t> kh_, vh_;
};

TEST(OpsAttention, GqaF32OddSizes) { AttentionCase({6, 2, 40, 40, 5, quant::GgmlType::kF32}).run(2); }
TEST(OpsAttention, MqaF16) { AttentionCase({4, 1, 16, 16, 4, quant::GgmlType::kF16}).run(3); }
TEST(OpsAttention, MhaDifferentKvDims) { AttentionCase({3, 3, 24, 8, 7, quant::GgmlType::kF16}).run(1); }
TEST(OpsAttention, LargeBlocks) { AttentionCase({8, 4, 64, 64, 16, quant::GgmlType::kF32}).run(2); }

TEST(OpsAttention, StoreWritesSlots) {
    PagedKv kv;
    kv.type = quant::GgmlType::kF32;
    kv.block_size = 3;
    kv.n_head_kv = 2;
    kv.head_dim_k = 4;
    kv.head_dim_v = 2;
    std::vector<float> kpool(4 * 3 * 2 * 4, 0.0f), vpool(4 * 3 * 2 * 2, 0.0f);
    kv.k = kpool.data();
    kv.v = vpool.data();
    std::vector<int32_t> slots = {7, 2};  // block 2 row 1; block 0 row 2
    engine::BatchInfo b;
    b.n_tokens = 2;
    b.kv_slots = slots;
    std::vector<float> k(2 * 8), v(2 * 4);
    for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<float>(i + 1);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(100 + i);
    store_kv_rows(kv, b, k.data(), 8, v.data(), 4);
    // token 0, head 1 -> block 2, head 1, row 1.
    EXPECT_EQ(kpool[((2 * 2 + 1) * 3 + 1) * 4 + 0], k[4]);
    EXPECT_EQ(vpool[((2 * 2 + 1) * 3 + 1) * 2 + 1], v[3]);
    // token 1, head 0 -> block 0, head 0, row 2.
    EXPECT_EQ(kpool[((0 * 2 + 0) * 3 + 2) * 4 + 3], k[8 + 3]);
}

}  // namespace
}  // namespace rf::cpu
