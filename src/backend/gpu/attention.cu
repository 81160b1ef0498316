// Paged causal attention with split-K: each thread block attends one (token, head) to one chunk of
// kSplitKeys cached positions with an online softmax, writing (max, sum, acc[head_dim_v]); a
// second kernel merges the chunks. Decode (one token) thus spreads over many blocks.
#include <cfloat>

#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/gpu_launch.cuh"
#include "backend/gpu/ops.h"

namespace rf::gpu {
namespace {

constexpr int kThreads = 128;
constexpr int kSplitKeys = 128;
constexpr int kMaxHeadDim = 256;


__global__ void store_kv_kernel(PagedKvView kv, const int32_t* slots, int64_t n_tokens, const float* k, const float* v) {
    wait_for_predecessor();
    const int64_t width_k = static_cast<int64_t>(kv.n_head_kv) * kv.head_dim_k;
    const int64_t width_v = static_cast<int64_t>(kv.n_head_kv) * kv.head_dim_v;
    const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const int64_t t = blockIdx.y;
    if (t >= n_tokens) return;
    const int32_t slot = slots[t];
    const int64_t block = slot / kv.block_size;
    const int64_t row = slot % kv.block_size;
    if (idx < width_k) {
        const int64_t g = idx / kv.head_dim_k, d = idx % kv.head_dim_k;
        kv.k[((block * kv.n_head_kv + g) * kv.block_size + row) * kv.head_dim_k + d] = float_to_half_bits_clamped(k[t * width_k + idx]);
    }
    if (idx < width_v) {
        const int64_t g = idx / kv.head_dim_v, d = idx % kv.head_dim_v;
        kv.v[((block * kv.n_head_kv + g) * kv.block_size + row) * kv.head_dim_v + d] = float_to_half_bits_clamped(v[t * width_v + idx]);
    }
}

// partials layout: [n_tokens][n_head][n_splits][2 + head_dim_v] = {max, sum, acc...}
// Each warp takes 32 consecutive keys of the block's split: lane j scores key j (a whole K row,
// read 16 bytes at a time) and finds its cache row, the warp forms its softmax weights, then
// lanes switch to owning output dimension pairs and accumulate the V rows, whose cache rows come
// by shuffle (no dependent table reads in that loop, so its loads overlap). Warps are merged in
// shared memory at the end.
__global__ void __launch_bounds__(kThreads)
attention_partial_kernel(PagedKvView kv, DeviceBatch batch, const float* __restrict__ q, int32_t n_head, float scale,
                         int32_t n_splits, float* __restrict__ partials) {
    wait_for_predecessor();
    constexpr int kWarps = kThreads / RF_WARP_SIZE;
    constexpr int kPairsPerLane = kMaxHeadDim / (2 * RF_WARP_SIZE);
    const int32_t split = blockIdx.x, h = blockIdx.y, t = blockIdx.z;
    const int32_t dk = kv.head_dim_k, dv = kv.head_dim_v;
    const int32_t g = h / (n_head / kv.n_head_kv);
    const int32_t n_kv = batch.positions[t] + 1;
    const int32_t begin = split * kSplitKeys;
    const int32_t end = min(n_kv, begin + kSplitKeys);
    float* part = partials + ((static_cast<int64_t>(t) * n_head + h) * n_splits + split) * (2 + dv);
    if (begin >= end) {  // past this token's keys (graph-sized grids): an empty partial
        if (threadIdx.x == 0) {
            part[0] = -FLT_MAX;
            part[1] = 0.0f;
        }
        return;
    }

    __shared__ float s_q[kMaxHeadDim];
    __shared__ float s_m[kWarps], s_l[kWarps];
    __shared__ float s_acc[kWarps][kMaxHeadDim];
    const float* qh = q + (static_cast<int64_t>(t) * n_head + h) * dk;
    for (int d = threadIdx.x; d < dk; d += kThreads) s_q[d] = qh[d] * scale;
    __syncthreads();

    const int warp = threadIdx.x / RF_WARP_SIZE, lane = threadIdx.x % RF_WARP_SIZE;
    const int32_t* table = batch.block_tables + batch.block_table_offsets[batch.token_seq[t]];
    float m = -FLT_MAX, l = 0.0f;
    float2 acc[kPairsPerLane] = {};
    for (int32_t base = begin + warp * RF_WARP_SIZE; base < end; base += kWarps * RF_WARP_SIZE) {
        // Scores: lane j <- key base + j, whose K and V rows are cache row `cache_row`.
        const int32_t j = base + lane;
        float s = -FLT_MAX;
        int32_t cache_row = 0;
        if (j < end) {
            cache_row = (table[j / kv.block_size] * kv.n_head_kv + g) * kv.block_size + j % kv.block_size;
            const uint16_t* kr = kv.k + static_cast<int64_t>(cache_row) * dk;
            float dot = 0.0f;
            for (int d = 0; d < dk; d += 8) {
                const int4 packed = *reinterpret_cast<const int4*>(kr + d);
                const __half2* k2 = reinterpret_cast<const __half2*>(&packed);
#pragma unroll
                for (int i = 0; i < 4; ++i) {
                    const float2 kf = __half22float2(k2[i]);
                    dot += s_q[d + 2 * i] * kf.x + s_q[d + 2 * i + 1] * kf.y;
                }
            }
            s = dot;
        }
        const float m_new = fmaxf(m, warp_max(s));
        const float p = j < end ? __expf(s - m_new) : 0.0f;
        const float corr = __expf(m - m_new);
        l = l * corr + warp_sum(p);
#pragma unroll
        for (int i = 0; i < kPairsPerLane; ++i) {
            acc[i].x *= corr;
            acc[i].y *= corr;
        }
        // Values: lanes own dimension pairs lane + warp_size i; walk the warp's keys.
        const int32_t n_keys = min(RF_WARP_SIZE, end - base);
        auto accumulate = [&](int32_t k) {
            const float pk = shfl(p, k);
            const __half2* vr = reinterpret_cast<const __half2*>(kv.v + static_cast<int64_t>(shfl(cache_row, k)) * dv);
#pragma unroll
            for (int i = 0; i < kPairsPerLane; ++i) {
                const int d2 = lane + i * RF_WARP_SIZE;
                if (2 * d2 < dv) {
                    const float2 v = __half22float2(vr[d2]);
                    acc[i].x += pk * v.x;
                    acc[i].y += pk * v.y;
                }
            }
        };
        // Eight keys per step, so their V loads are in flight together (the shuffles keep the
        // compiler from unrolling a loop of unknown length itself).
        int32_t k = 0;
        for (; k + 8 <= n_keys; k += 8) {
#pragma unroll
            for (int u = 0; u < 8; ++u) accumulate(k + u);
        }
        for (; k < n_keys; ++k) accumulate(k);
        m = m_new;
    }
    // Merge the warps of this block.
    if (lane == 0) {
        s_m[warp] = m;
        s_l[warp] = l;
    }
#pragma unroll
    for (int i = 0; i < kPairsPerLane; ++i) {
        const int d = 2 * (lane + i * RF_WARP_SIZE);
        if (d < dv) {
            s_acc[warp][d] = acc[i].x;
            s_acc[warp][d + 1] = acc[i].y;
        }
    }
    __syncthreads();
    float m_all = -FLT_MAX;
    for (int w = 0; w < kWarps; ++w) m_all = fmaxf(m_all, s_m[w]);
    if (threadIdx.x == 0) {
        float l_all = 0.0f;
        for (int w = 0; w < kWarps; ++w) l_all += s_l[w] * __expf(s_m[w] - m_all);
        part[0] = m_all;
        part[1] = l_all;
    }
    for (int d = threadIdx.x; d < dv; d += kThreads) {
        float a = 0.0f;
        for (int w = 0; w < kWarps; ++w) a += s_acc[w][d] * __expf(s_m[w] - m_all);
        part[2 + d] = a;
    }
}

// Merges the splits of one (head, token). With `acts.qs` set it also writes the output row
// quantized for the next mat-vec (quantize_act.h): head h's dims are columns h * dv + d, and dv
// is a multiple of 32, so each 32-column block lies within one head and its threads.
__global__ void attention_combine_kernel(const float* __restrict__ partials, int32_t n_head, int32_t n_splits,
                                         int32_t dv, const int32_t* positions, float* __restrict__ out,
                                         QuantizedActs acts) {
    wait_for_predecessor();
    const int32_t h = blockIdx.x, t = blockIdx.y;
    const int32_t used = (positions[t] + kSplitKeys) / kSplitKeys;  // splits holding keys
    const float* part = partials + (static_cast<int64_t>(t) * n_head + h) * n_splits * (2 + dv);
    float m_all = -FLT_MAX;
    for (int s = 0; s < used; ++s) m_all = fmaxf(m_all, part[s * (2 + dv)]);
    float l_all = 0.0f;
    for (int s = 0; s < used; ++s) l_all += part[s * (2 + dv) + 1] * __expf(part[s * (2 + dv)] - m_all);
    const float inv = 1.0f / l_all;
    for (int d = threadIdx.x; d < dv; d += blockDim.x) {
        float a = 0.0f;
        for (int s = 0; s < used; ++s) a += part[s * (2 + dv) + 2 + d] * __expf(part[s * (2 + dv)] - m_all);
        out[(static_cast<int64_t>(t) * n_head + h) * dv + d] = a * inv;
        if (acts.qs != nullptr) {
            quantize_block32(a * inv, static_cast<int64_t>(h) * dv + d, acts.qs + t * acts.n_cols_padded,
                             acts.ds + t * (acts.n_cols_padded / 32));
        }
    }
}

int32_t splits_for(int32_t max_kv) { return (max_kv + kSplitKeys - 1) / kSplitKeys; }

}  // namespace

void store_kv(const PagedKvView& kv, const DeviceBatch& batch, const float* k, const float* v, gpuStream_t stream) {
    if (batch.n_tokens == 0) return;
    const int64_t width = static_cast<int64_t>(kv.n_head_kv) * max(kv.head_dim_k, kv.head_dim_v);
    const dim3 grid(static_cast<unsigned>((width + 255) / 256), static_cast<unsigned>(batch.n_tokens));
    launch(store_kv_kernel, grid, 256, 0, stream, kv, batch.kv_slots, batch.n_tokens, k, v);
}

int64_t attention_scratch_floats(int32_t n_tokens, int32_t n_head, int32_t max_kv, int32_t head_dim_v) {
    return static_cast<int64_t>(n_tokens) * n_head * splits_for(max_kv) * (2 + head_dim_v);
}

void attention(const PagedKvView& kv, const DeviceBatch& batch, const float* q, int32_t n_head, float scale,
               float* out, float* partials, gpuStream_t stream, const QuantizedActs* out_acts) {
    if (batch.n_tokens == 0) return;
    const int32_t n_splits = splits_for(batch.max_kv);
    const dim3 grid(static_cast<unsigned>(n_splits), static_cast<unsigned>(n_head), static_cast<unsigned>(batch.n_tokens));
    launch(attention_partial_kernel, grid, kThreads, 0, stream, kv, batch, q, n_head, scale,
           n_splits, partials);
    const dim3 grid2(static_cast<unsigned>(n_head), static_cast<unsigned>(batch.n_tokens));
    const QuantizedActs acts = out_acts != nullptr ? *out_acts : QuantizedActs{};
    launch(attention_combine_kernel, grid2, 128, 0, stream, partials, n_head, n_splits,
           kv.head_dim_v, batch.positions, out, acts);
}

}  // namespace rf::gpu
