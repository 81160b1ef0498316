// Causal attention over the paged KV cache on the CPU (online softmax, GQA/MQA), and the store
// of a step's K/V rows into their cache slots.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "engine/backend.h"
#include "engine/batch.h"

namespace rf::cpu {

// One layer's K and V pools: block b, head g, slot j lives at
// ((b * n_head_kv + g) * block_size + j) * head_dim elements of `type` (F16 or F32).
struct PagedKv {
    void* k = nullptr;
    void* v = nullptr;
    quant::GgmlType type = quant::GgmlType::kF16;
    int32_t block_size = 16;
    int32_t n_head_kv = 0;
    int32_t head_dim_k = 0;
    int32_t head_dim_v = 0;
};

// Per-thread scratch of paged_attention; grows on first use, then reused.
struct AttentionScratch {
    std::vector<std::vector<float>> per_thread;
    std::vector<int32_t> tile_begin;  // first batch token of each tile, plus the end
};

// Writes token t's k [n_head_kv * head_dim_k] and v rows to slot batch.kv_slots[t].
void store_kv_rows(const PagedKv& kv, const engine::BatchInfo& batch, const float* k,
                   size_t k_stride, const float* v, size_t v_stride);

// out[t] (n_head * head_dim_v) = softmax(q[t] K^T * scale) V over positions [0, positions[t]]
// of the token's sequence, for every query head (query head h reads KV head h / (n_head /
// n_head_kv)). q rows are q_stride floats apart, out rows out_stride.
void paged_attention(const PagedKv& kv, const engine::AttentionParams& p,
                     const engine::BatchInfo& batch, const float* q, size_t q_stride, float* out,
                     size_t out_stride, ThreadPool& pool, AttentionScratch& scratch);

}  // namespace rf::cpu
