// Launchers of the GPU ops other than mat-vec. Activations are row-major float32
// [n_rows][width]; every launcher takes the stream it runs on and checks its launch.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "backend/gpu/gpu_runtime.h"
#include "backend/gpu/matvec.h"
#include "core/platform.h"
#include "sampling/top_logits.h"

namespace rf::gpu {

// ---- gpu_launch.cpp ----
// Programmatic dependent launch of the kernels (gpu_launch.cuh); the backend turns it on for
// devices that have it.
void set_dependent_launch(bool enabled);
bool dependent_launch_enabled();

// ---- elementwise.cu ----
// out = a + b over n floats (out may alias a).
void add(const float* a, const float* b, float* out, int64_t n, gpuStream_t stream);
// x[r][c] += bias[c] for rows of `width`.
void add_bias(float* x, const float* bias, int64_t width, int64_t n_rows, gpuStream_t stream);
// out = silu(gate) * up over n floats.
void swiglu(const float* gate, const float* up, float* out, int64_t n, gpuStream_t stream);
// out[i] = x[rows[i]] for n_out rows of `width` floats (rows in device memory).
void gather_rows(const float* x, const int32_t* rows, int64_t n_out, int64_t width, float* out, gpuStream_t stream);
// out[rows[i]] += weights[i] * src[i] for n rows of `width` (rows distinct within one call).
void scatter_add_rows(const float* src, const int32_t* rows, const float* weights, int64_t n, int64_t width,
                      float* out, gpuStream_t stream);
// out (fp16 bits) = x over n floats.
void f32_to_f16(const float* x, uint16_t* out, int64_t n, gpuStream_t stream);

// ---- rms_norm.cu ----
// out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w, rows of `width`.
void rms_norm(const float* x, const float* w, float eps, int64_t width, int64_t n_rows, float* out, gpuStream_t stream);
// The same, also quantizing each output row into `acts` (quantize_act.h); width % 32 == 0 and
// acts.n_cols_padded = padded_act_cols(width).
void rms_norm_quant(const float* x, const float* w, float eps, int64_t width, int64_t n_rows, float* out,
                    QuantizedActs acts, gpuStream_t stream);

// ---- rope.cu ----
struct RopeKernelParams {
    bool neox = false;       // rotate (i, i + n_rot/2) instead of (2i, 2i+1)
    int32_t n_rot = 0;
    float freq_base = 10000.0f;
    float freq_scale = 1.0f;
    float ext_factor = 0.0f;
    float attn_factor = 1.0f;
    float yarn_low = 0.0f;    // YaRN ramp bounds (pair indices), precomputed on the host
    float yarn_high = 0.0f;
    float mscale = 1.0f;      // magnitude scale of cos/sin
    const float* freq_factors = nullptr;  // device [n_rot / 2] or null
};
// In place on x [n_tokens][n_head][head_dim]; positions [n_tokens] in device memory.
void rope(float* x, const int32_t* positions, int64_t n_tokens, int32_t n_head, int32_t head_dim,
          const RopeKernelParams& p, gpuStream_t stream);

// ---- embedding.cu ----
// out[t] = row tokens[t] of the packed table (n_cols = width), as float.
void get_rows(const DeviceMatrix& table, const int32_t* tokens, int64_t n_tokens, float* out, gpuStream_t stream);
// out [n_rows][n_cols] fp16 = the whole packed matrix dequantized (for the GEMM path).
void dequantize_to_f16(const DeviceMatrix& w, uint16_t* out, gpuStream_t stream);

// ---- attention.cu ----
// Paged KV pools of one layer: [n_blocks][n_head_kv][block_size][head_dim] fp16.
struct PagedKvView {
    uint16_t* k = nullptr;
    uint16_t* v = nullptr;
    int32_t block_size = 16;
    int32_t n_head_kv = 0;
    int32_t head_dim_k = 0;
    int32_t head_dim_v = 0;
};
// The row of the K or V pool that holds cache slot `slot` of KV head g.
RF_HOST_DEVICE inline int64_t kv_cache_row(const PagedKvView& kv, int32_t slot, int32_t g) {
    return (static_cast<int64_t>(slot / kv.block_size) * kv.n_head_kv + g) * kv.block_size + slot % kv.block_size;
}
// The batch as device arrays (see engine/batch.h BatchInfo).
struct DeviceBatch {
    int32_t n_tokens = 0;
    const int32_t* positions = nullptr;
    const int32_t* kv_slots = nullptr;
    const int32_t* token_seq = nullptr;
    const int32_t* block_table_offsets = nullptr;
    const int32_t* block_tables = nullptr;
    int32_t max_kv = 0;  // largest position + 1 in the batch (host-known bound)
};
// Writes k [n_tokens][n_head_kv * head_dim_k] and v [...] into the tokens' slots.
void store_kv(const PagedKvView& kv, const DeviceBatch& batch, const float* k, const float* v, gpuStream_t stream);
// (rope.cu) RoPE on q [n_tokens][n_head][kv.head_dim_k] in place, and k / v
// [n_tokens][n_head_kv][dim] written into the batch's slots with k rotated on the way (the k
// array itself is left unrotated): rope + rope + store_kv in one launch.
void rope_store_kv(float* q, const float* k, const float* v, const PagedKvView& kv, const DeviceBatch& batch,
                   int32_t n_head, const RopeKernelParams& p, gpuStream_t stream);
// Split-K causal attention for decode steps (tokens of distinct sequences, or few tokens), one
// launch: q [n_tokens][n_head][head_dim_k] -> out [n_tokens][n_head][head_dim_v]. Head dims are
// multiples of 8, at most 256; n_head a multiple of kv.n_head_kv. `partials` is scratch of
// attention_scratch_floats(...) floats (for a max_kv >= batch.max_kv); `counters` is device
// memory of kAttentionCounters words, zeroed once before its first use: every call leaves it at
// zero again, so one array serves all calls and graph replays on a stream. With `out_acts`, out
// is also written quantized for the mat-vec that reads it (as quantize_acts would); that needs
// head_dim_v % 32 == 0 and no padding (n_head * head_dim_v == out_acts->n_cols_padded).
inline constexpr int32_t kAttentionCounters = 512;
void attention(const PagedKvView& kv, const DeviceBatch& batch, const float* q, int32_t n_head, float scale,
               float* out, float* partials, uint32_t* counters, gpuStream_t stream,
               const QuantizedActs* out_acts = nullptr);
// True when attention() can write its output quantized for these dims.
inline bool attention_can_quantize(int32_t n_head, int32_t head_dim_v) {
    return head_dim_v % 32 == 0 && padded_act_cols(int64_t{n_head} * head_dim_v) == int64_t{n_head} * head_dim_v;
}
// Floats of attention()'s `partials` (0 when no split needs them).
int64_t attention_scratch_floats(int32_t n_tokens, int32_t n_head, int32_t max_kv, int32_t head_dim_v);

// ---- attention_tiled.cu ----
// Query tiles: runs of at most kTileRows consecutive batch tokens of one sequence with ascending
// positions; tile i is tokens [tile_starts[i], tile_starts[i + 1]) (device array of n_tiles + 1).
inline constexpr int32_t kTileRows = 32;
// The tile starts of a step (token_seq / positions as in engine::BatchInfo), then the end.
inline void query_tile_starts(std::span<const int32_t> token_seq, std::span<const int32_t> positions,
                              std::vector<int32_t>& starts) {
    starts.clear();
    for (size_t t = 0; t < token_seq.size(); ++t) {
        const bool continues = t > 0 && token_seq[t] == token_seq[t - 1] && positions[t] > positions[t - 1] &&
                               static_cast<int32_t>(t) - starts.back() < kTileRows;
        if (!continues) starts.push_back(static_cast<int32_t>(t));
    }
    starts.push_back(static_cast<int32_t>(token_seq.size()));
}
// Causal attention per (tile, head), each K/V tile read once for the tile's queries: for prefill.
// Same inputs and output as attention(); head dims <= 256, multiples of 8.
void attention_tiled(const PagedKvView& kv, const DeviceBatch& batch, const int32_t* tile_starts, int32_t n_tiles,
                     const float* q, int32_t n_head, float scale, float* out, gpuStream_t stream);

// ---- sampling (top_logits.cu) ----
// The top-logits readout (sampling/top_logits.h) of logits [n_rows][n_vocab]: the n_adjust
// changes of `adjust` (device memory) applied in place, then out[r * k, r * k + k) = the k
// largest logits of row r, in any order, ties at the cut to the lower ids, NaN as -inf.
// 1 <= k <= min(n_vocab, sampling::kMaxTopLogits).
void top_logits(float* logits, int64_t n_vocab, int64_t n_rows, int32_t k, const sampling::LogitAdjust* adjust,
                int32_t n_adjust, sampling::TokenLogit* out, gpuStream_t stream);

}  // namespace rf::gpu
