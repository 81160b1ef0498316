// Paged causal attention on the CPU. Work is split into (token tile, KV head) items: a tile is up
// to kTileTokens consecutive batch tokens of one sequence, so each K/V block is converted to
// float once and reused by every query row of the tile and of the GQA group (flash-attention
// style online softmax; nothing of size n_kv is materialised).
#include "backend/cpu/ops_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "backend/cpu/ops_math.h"
#include "core/check.h"
#include "core/cpu_features.h"
#include "core/half.h"
#include "core/platform.h"

namespace rf::cpu {
namespace {

constexpr int32_t kTileTokens = 16;

// fp16 -> float by table: exact, branch-free, and cheap next to the dot products it feeds.
struct Fp16Table {
    float values[65536];
    Fp16Table() {
        for (uint32_t i = 0; i < 65536; ++i) values[i] = fp16_to_float(static_cast<uint16_t>(i));
    }
};
const float* fp16_table() {
    static const Fp16Table table;
    return table.values;
}

size_t slot_offset(const PagedKv& kv, int32_t block, int32_t head, int32_t row, int32_t head_dim) {
    return ((static_cast<size_t>(block) * static_cast<size_t>(kv.n_head_kv) + static_cast<size_t>(head)) *
                static_cast<size_t>(kv.block_size) + static_cast<size_t>(row)) * static_cast<size_t>(head_dim);
}

// Copies n_rows rows of one head of one block to float.
void load_rows(const PagedKv& kv, const void* pool, int32_t block, int32_t head, int32_t head_dim,
               int32_t n_rows, float* dst) {
    const size_t offset = slot_offset(kv, block, head, 0, head_dim);
    const size_t n = static_cast<size_t>(n_rows) * static_cast<size_t>(head_dim);
    if (kv.type == quant::GgmlType::kF32) {
        std::memcpy(dst, static_cast<const float*>(pool) + offset, n * sizeof(float));
        return;
    }
    const uint16_t* src = static_cast<const uint16_t*>(pool) + offset;
    const float* table = fp16_table();
    for (size_t i = 0; i < n; ++i) dst[i] = table[src[i]];
}

void store_row(const PagedKv& kv, void* pool, int32_t slot, int32_t head, int32_t head_dim,
               const float* src) {
    const size_t offset = slot_offset(kv, slot / kv.block_size, head, slot % kv.block_size, head_dim);
    if (kv.type == quant::GgmlType::kF32) {
        std::memcpy(static_cast<float*>(pool) + offset, src, static_cast<size_t>(head_dim) * sizeof(float));
        return;
    }
    uint16_t* dst = static_cast<uint16_t*>(pool) + offset;
    // Clamp to the finite fp16 range: an infinity would poison the softmax.
    for (int32_t i = 0; i < head_dim; ++i) dst[i] = float_to_fp16(std::clamp(src[i], -65504.0f, 65504.0f));
}

// Splits the batch into tiles of consecutive tokens of one sequence.
void make_tiles(const engine::BatchInfo& batch, std::vector<int32_t>& begin) {
    begin.clear();
    for (int32_t t = 0; t < batch.n_tokens; ++t) {
        if (begin.empty() || t - begin.back() >= kTileTokens ||
            batch.token_seq[static_cast<size_t>(t)] != batch.token_seq[static_cast<size_t>(begin.back())]) {
            begin.push_back(t);
        }
    }
    begin.push_back(batch.n_tokens);
}

struct ItemShape {
    int32_t t_begin, t_end;  // batch tokens of the tile
    int32_t g;               // KV head
    int32_t h_begin, h_end;  // query heads handled
};

// Scores of one query row against a transposed key block: s[j] = q . k_j for j < bs.
// Vectorised across keys (no horizontal sums): kt is [dk][bs].
RF_ALWAYS_INLINE void block_scores(const float* q, const float* kt, int32_t dk, int32_t bs, float* s) {
    for (int32_t j = 0; j < bs; ++j) s[j] = 0.0f;
    for (int32_t i = 0; i < dk; ++i) {
        const float qi = q[i];
        const float* krow = kt + i * bs;
        for (int32_t j = 0; j < bs; ++j) s[j] += qi * krow[j];
    }
}

// Online-softmax attention of one item; `buf` holds the per-thread scratch. Always inlined into
// the per-ISA entry points below, so the same source is compiled for each instruction set.
RF_ALWAYS_INLINE void attend_item_impl(const PagedKv& kv, const engine::AttentionParams& p,
                                       const engine::BatchInfo& batch, const ItemShape& it,
                                       const float* q, size_t q_stride, float* out,
                                       size_t out_stride, float* buf) {
    const int32_t bs = kv.block_size;
    const int32_t dk = p.head_dim_k;
    const int32_t dv = p.head_dim_v;
    const int32_t n_h = it.h_end - it.h_begin;
    const int32_t nq = (it.t_end - it.t_begin) * n_h;
    float* kf = buf;                 // [bs][dk] keys as stored
    float* kt = kf + bs * dk;        // [dk][bs] keys transposed
    float* vf = kt + bs * dk;        // [bs][dv]
    float* scores = vf + bs * dv;    // [bs]
    float* m = scores + bs;          // [nq] running max
    float* l = m + nq;               // [nq] running sum
    float* acc = l + nq;             // [nq][dv]
    std::fill(m, m + nq, -std::numeric_limits<float>::infinity());
    std::fill(l, l + nq, 0.0f);
    std::fill(acc, acc + static_cast<size_t>(nq) * static_cast<size_t>(dv), 0.0f);

    const int32_t seq = batch.token_seq[static_cast<size_t>(it.t_begin)];
    const int32_t* table = batch.block_tables.data() + batch.block_table_offsets[static_cast<size_t>(seq)];
    int32_t max_pos = 0;
    for (int32_t t = it.t_begin; t < it.t_end; ++t) max_pos = std::max(max_pos, batch.positions[static_cast<size_t>(t)]);
    const int32_t n_kv = max_pos + 1;

    for (int32_t base = 0; base < n_kv; base += bs) {
        const int32_t block = table[base / bs];
        const int32_t n_valid = std::min(bs, n_kv - base);
        load_rows(kv, kv.k, block, it.g, dk, n_valid, kf);
        load_rows(kv, kv.v, block, it.g, dv, n_valid, vf);
        for (int32_t i = 0; i < dk; ++i) {
            for (int32_t j = 0; j < bs; ++j) kt[i * bs + j] = j < n_valid ? kf[j * dk + i] : 0.0f;
        }
        for (int32_t t = it.t_begin; t < it.t_end; ++t) {
            const int32_t visible = std::min(n_valid, batch.positions[static_cast<size_t>(t)] - base + 1);
            if (visible <= 0) continue;
            for (int32_t h = it.h_begin; h < it.h_end; ++h) {
                const int32_t r = (t - it.t_begin) * n_h + (h - it.h_begin);
                const float* qr = q + static_cast<size_t>(t) * q_stride + static_cast<size_t>(h) * static_cast<size_t>(dk);
                block_scores(qr, kt, dk, bs, scores);
                float mx = m[r];
                for (int32_t j = 0; j < visible; ++j) {
                    scores[j] *= p.scale;
                    mx = std::max(mx, scores[j]);
                }
                float* a = acc + static_cast<size_t>(r) * static_cast<size_t>(dv);
                const float corr = fast_exp(m[r] - mx);  // ~0 on the first block (m = -inf)
                if (corr != 1.0f) {
                    for (int32_t d = 0; d < dv; ++d) a[d] *= corr;
                }
                float sum = l[r] * corr;
                for (int32_t j = 0; j < visible; ++j) {
                    const float w = fast_exp(scores[j] - mx);
                    sum += w;
                    const float* vr = vf + j * dv;
                    for (int32_t d = 0; d < dv; ++d) a[d] += w * vr[d];
                }
                l[r] = sum;
                m[r] = mx;
            }
        }
    }
    for (int32_t t = it.t_begin; t < it.t_end; ++t) {
        for (int32_t h = it.h_begin; h < it.h_end; ++h) {
            const int32_t r = (t - it.t_begin) * n_h + (h - it.h_begin);
            const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
            const float* a = acc + static_cast<size_t>(r) * static_cast<size_t>(dv);
            float* o = out + static_cast<size_t>(t) * out_stride + static_cast<size_t>(h) * static_cast<size_t>(dv);
            for (int32_t d = 0; d < dv; ++d) o[d] = a[d] * inv;
        }
    }
}

using AttendFn = void (*)(const PagedKv&, const engine::AttentionParams&, const engine::BatchInfo&,
                          const ItemShape&, const float*, size_t, float*, size_t, float*);

void attend_item_generic(const PagedKv& kv, const engine::AttentionParams& p,
                         const engine::BatchInfo& batch, const ItemShape& it, const float* q,
                         size_t q_stride, float* out, size_t out_stride, float* buf) {
    attend_item_impl(kv, p, batch, it, q, q_stride, out, out_stride, buf);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// The same loops compiled for AVX2 + FMA (8-wide), picked at run time.
[[gnu::target("avx2,fma")]] void attend_item_avx2(const PagedKv& kv, const engine::AttentionParams& p,
                                                  const engine::BatchInfo& batch, const ItemShape& it,
                                                  const float* q, size_t q_stride, float* out,
                                                  size_t out_stride, float* buf) {
    attend_item_impl(kv, p, batch, it, q, q_stride, out, out_stride, buf);
}
#endif

AttendFn pick_attend() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    const CpuFeatures& f = cpu_features();
    if (f.avx2 && f.fma) return attend_item_avx2;
#endif
    return attend_item_generic;
}

}  // namespace

void store_kv_rows(const PagedKv& kv, const engine::BatchInfo& batch, const float* k,
                   size_t k_stride, const float* v, size_t v_stride) {
    for (int32_t t = 0; t < batch.n_tokens; ++t) {
        const int32_t slot = batch.kv_slots[static_cast<size_t>(t)];
        for (int32_t g = 0; g < kv.n_head_kv; ++g) {
            store_row(kv, kv.k, slot, g, kv.head_dim_k, k + static_cast<size_t>(t) * k_stride + static_cast<size_t>(g) * static_cast<size_t>(kv.head_dim_k));
            store_row(kv, kv.v, slot, g, kv.head_dim_v, v + static_cast<size_t>(t) * v_stride + static_cast<size_t>(g) * static_cast<size_t>(kv.head_dim_v));
        }
    }
}

void paged_attention(const PagedKv& kv, const engine::AttentionParams& p,
                     const engine::BatchInfo& batch, const float* q, size_t q_stride, float* out,
                     size_t out_stride, ThreadPool& pool, AttentionScratch& scratch) {
    RF_CHECK(p.n_head_kv == kv.n_head_kv && p.n_head % p.n_head_kv == 0);
    RF_CHECK(p.head_dim_k == kv.head_dim_k && p.head_dim_v == kv.head_dim_v);
    make_tiles(batch, scratch.tile_begin);
    const int32_t n_tiles = static_cast<int32_t>(scratch.tile_begin.size()) - 1;
    const int32_t group = p.n_head / p.n_head_kv;
    // Split a GQA group over several items when there are too few items to keep threads busy.
    int32_t splits = 1;
    while (int64_t{n_tiles} * p.n_head_kv * splits < 2 * int64_t{pool.size()} &&
           group % (splits * 2) == 0) {
        splits *= 2;
    }
    const int32_t heads_per_item = group / splits;
    const size_t need = static_cast<size_t>(kv.block_size) * static_cast<size_t>(2 * p.head_dim_k + p.head_dim_v + 1) +
                        static_cast<size_t>(kTileTokens * heads_per_item) * static_cast<size_t>(p.head_dim_v + 2);
    scratch.per_thread.resize(static_cast<size_t>(pool.size()));
    for (auto& b : scratch.per_thread) {
        if (b.size() < need) b.resize(need);
    }
    const int64_t n_items = int64_t{n_tiles} * p.n_head_kv * splits;
    static const AttendFn attend_item = pick_attend();
    auto body = [&](int64_t begin, int64_t end, int thread) {
        float* buf = scratch.per_thread[static_cast<size_t>(thread)].data();
        for (int64_t i = begin; i < end; ++i) {
            const int32_t tile = static_cast<int32_t>(i / (p.n_head_kv * splits));
            const int32_t rest = static_cast<int32_t>(i % (p.n_head_kv * splits));
            ItemShape it;
            it.t_begin = scratch.tile_begin[static_cast<size_t>(tile)];
            it.t_end = scratch.tile_begin[static_cast<size_t>(tile) + 1];
            it.g = rest / splits;
            it.h_begin = it.g * group + (rest % splits) * heads_per_item;
            it.h_end = it.h_begin + heads_per_item;
            attend_item(kv, p, batch, it, q, q_stride, out, out_stride, buf);
        }
    };
    pool.parallel_for(n_items, 1, std::ref(body));  // by reference: no closure allocation
}

}  // namespace rf::cpu
