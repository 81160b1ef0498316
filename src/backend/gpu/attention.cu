// Paged causal attention for decode steps, split-K in one launch. A thread block attends one
// (token, head) to one split of the token's cached keys with an online softmax. When the token's
// keys fit one split, that block writes the output; otherwise each block of the token writes a
// partial result, and the block that finishes last (by a ticket counter per (token, head)) merges
// them and writes the output. Splits are cut per token from its real key count (device), so a
// short context spreads over few blocks and a long one over up to the grid's width.
#include <algorithm>
#include <cfloat>

#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/gpu_launch.cuh"
#include "backend/gpu/ops.h"

namespace rf::gpu {
namespace {

constexpr int kThreads = 128;
constexpr int kMaxHeadDim = 256;
constexpr int kDimsPerLane = 8;   // a lane's slice of a K or V row: one 16-byte load of fp16
constexpr int kRowsInFlight = 8;  // K rows and V rows each lane loads per step, all before use
// The grid splits each (token, head) until about kTargetBlocks blocks run, at most kMaxSplits ways.
constexpr int32_t kTargetBlocks = 512;
constexpr int32_t kMaxSplits = 32;
// Only grids of several splits use the merge counters (one per (token, head)); those grids have
// fewer (token, head) pairs than there are counters (grid_splits).
static_assert(kAttentionCounters >= kTargetBlocks);

// Lanes that share one K/V row, each taking kDimsPerLane of its dims: the row's slices rounded
// up to a power of two, so a warp reads whole rows (at most 32 lanes, head dims being <= 256),
// and to at least 4 (the kernel is compiled for 4, 8, 16 and 32; heads of <= 16 dims leave
// lanes idle).
constexpr int32_t kMinLanes = 4;
constexpr int32_t lanes_per_row(int32_t dk, int32_t dv) {
    const int32_t slices = ((dk > dv ? dk : dv) + kDimsPerLane - 1) / kDimsPerLane;
    int32_t lanes = kMinLanes;
    while (lanes < slices) lanes *= 2;
    return lanes;
}

// Keys one block step covers: each of the block's kThreads / lanes lane groups loads
// kRowsInFlight rows. Splits are whole steps.
__host__ __device__ constexpr int32_t block_step_keys(int32_t lanes) { return kThreads / lanes * kRowsInFlight; }
constexpr int32_t kMinBlockStepKeys = block_step_keys(32);

// One token's n_kv keys cut into `count` splits of `length` keys (the last one shorter), each a
// whole number of block steps, at most `grid_splits` of them and as even as steps allow.
struct KeySplits {
    int32_t length;
    int32_t count;
};
__device__ KeySplits split_keys(int32_t n_kv, int32_t grid_splits, int32_t step_keys) {
    const int32_t steps = (n_kv + step_keys - 1) / step_keys;
    const int32_t ways = min(grid_splits, steps);
    const int32_t length = (steps + ways - 1) / ways * step_keys;
    return {length, (n_kv + length - 1) / length};
}

// Splits in the grid (blockIdx.x): enough blocks to fill the GPU, no more than max_kv keys need,
// and a single split when the (token, head) pairs alone fill it (or outnumber the counters).
int32_t grid_splits(int32_t n_tokens, int32_t n_head, int32_t max_kv, int32_t step_keys) {
    const int64_t pairs = int64_t{n_tokens} * n_head;
    if (pairs >= kTargetBlocks) return 1;
    const int64_t to_fill_gpu = (kTargetBlocks + pairs - 1) / pairs;
    const int64_t for_keys = (int64_t{max_kv} + step_keys - 1) / step_keys;
    return static_cast<int32_t>(std::max<int64_t>(1, std::min({int64_t{kMaxSplits}, to_fill_gpu, for_keys})));
}

// Partial records: [n_tokens][n_head][grid_splits][2 + dv] floats of {max score, sum of weights,
// weighted sum of V rows [dv]} (weights relative to that max), one per split of a (token, head).
__device__ float* partial_record(float* partials, int32_t t, int32_t h, int32_t n_head, int32_t grid_splits,
                                 int32_t split, int32_t dv) {
    return partials + ((static_cast<int64_t>(t) * n_head + h) * grid_splits + split) * (2 + dv);
}

// Division by a fixed positive divisor as a multiply-high, an add and a shift, exact for
// dividends below 2^31 (shift = ceil(log2 divisor), multiplier = 2^32 (2^shift - divisor) /
// divisor + 1): the cache block size is a runtime value, and a plain division costs tens of
// instructions on every key's path.
struct FastDivider {
    uint32_t divisor;
    uint32_t multiplier;
    uint32_t shift;
};
FastDivider make_divider(uint32_t divisor) {
    uint32_t shift = 0;
    while ((uint64_t{1} << shift) < divisor) ++shift;
    const uint64_t multiplier = (uint64_t{1} << 32) * ((uint64_t{1} << shift) - divisor) / divisor + 1;
    return {divisor, static_cast<uint32_t>(multiplier), shift};
}
__device__ __forceinline__ int32_t divide(int32_t n, const FastDivider& by) {
    const uint32_t u = static_cast<uint32_t>(n);
    return static_cast<int32_t>((__umulhi(u, by.multiplier) + u) >> by.shift);
}

// Folds softmax state (m_other, l_other, acc_other) into (m, l, acc): both rescaled to the larger
// max. States with no keys (m = -FLT_MAX, l = 0, acc = 0) fold as zeros.
__device__ __forceinline__ void merge_state(float& m, float& l, float (&acc)[kDimsPerLane], float m_other,
                                            float l_other, const float (&acc_other)[kDimsPerLane]) {
    const float m_new = fmaxf(m, m_other);
    const float scale_self = __expf(m - m_new), scale_other = __expf(m_other - m_new);
    l = l * scale_self + l_other * scale_other;
#pragma unroll
    for (int i = 0; i < kDimsPerLane; ++i) acc[i] = acc[i] * scale_self + acc_other[i] * scale_other;
    m = m_new;
}

// Counts one split of a (token, head) done and returns the count before, with acquire-release
// ordering at device scope: the block's writes (ordered before the calling thread by a barrier)
// are visible to the block that draws a later ticket, and the writes of the blocks that drew
// earlier tickets are visible to this one after its next barrier.
__device__ __forceinline__ unsigned int take_ticket(unsigned int* counter) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 700
    unsigned int before;
    asm volatile("atom.acq_rel.gpu.add.u32 %0, [%1], 1;" : "=r"(before) : "l"(counter) : "memory");
    return before;
#else
    __threadfence();
    const unsigned int before = atomicAdd(counter, 1u);
    __threadfence();
    return before;
#endif
}

__global__ void store_kv_kernel(PagedKvView kv, const int32_t* slots, int64_t n_tokens, const float* k, const float* v) {
    wait_for_predecessor();
    const int64_t width_k = static_cast<int64_t>(kv.n_head_kv) * kv.head_dim_k;
    const int64_t width_v = static_cast<int64_t>(kv.n_head_kv) * kv.head_dim_v;
    const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const int64_t t = blockIdx.y;
    if (t >= n_tokens) return;
    const int32_t slot = slots[t];
    if (idx < width_k) {
        const int32_t g = static_cast<int32_t>(idx / kv.head_dim_k), d = static_cast<int32_t>(idx % kv.head_dim_k);
        kv.k[kv_cache_row(kv, slot, g) * kv.head_dim_k + d] = float_to_half_bits_clamped(k[t * width_k + idx]);
    }
    if (idx < width_v) {
        const int32_t g = static_cast<int32_t>(idx / kv.head_dim_v), d = static_cast<int32_t>(idx % kv.head_dim_v);
        kv.v[kv_cache_row(kv, slot, g) * kv.head_dim_v + d] = float_to_half_bits_clamped(v[t * width_v + idx]);
    }
}

// Grid (grid_splits, n_head, n_tokens), kThreads threads; q [n_tokens][n_head][dk] and out
// [n_tokens][n_head][dv] float. Lanes work in groups of kLanes (lanes_per_row): lane `slice` of a
// group holds dims [8 slice, 8 slice + 8) of q and of each K and V row the group reads, so a warp
// reads RF_WARP_SIZE / kLanes rows per 16-byte load, and each lane issues kRowsInFlight K loads and
// kRowsInFlight V loads per step before using any (V needs no scores to be loaded). A row's score
// is a butterfly sum over its group, which leaves it in every lane of the group; each lane keeps
// the online-softmax state of its group's rows. Groups, then warps (shared memory), then splits
// (the partial records) are merged in turn. The positions, block tables and the first step's
// table entries are host-uploaded step data, read before waiting on the previous kernel (which
// wrote q and this step's K/V rows).
template <int kLanes>
__global__ void __launch_bounds__(kThreads)
attention_decode_kernel(PagedKvView kv, DeviceBatch batch, const float* __restrict__ q, int32_t n_head, float scale,
                        FastDivider block_size, int32_t grid_splits, float* partials, uint32_t* counters,
                        float* __restrict__ out, QuantizedActs acts) {
    launch_next_kernel();
    constexpr int kWarps = kThreads / RF_WARP_SIZE;
    const int32_t split = blockIdx.x, h = blockIdx.y, t = blockIdx.z;
    const int32_t dk = kv.head_dim_k, dv = kv.head_dim_v;
    const int32_t n_kv = batch.positions[t] + 1;
    const int32_t seq = batch.token_seq[t];  // loaded alongside the position, not after it
    const KeySplits splits = split_keys(n_kv, grid_splits, block_step_keys(kLanes));
    const int32_t begin = split * splits.length;
    const int32_t end = min(n_kv, begin + splits.length);
    if (begin >= end) return;  // past this token's keys (the grid is sized for the longest)

    const int warp = threadIdx.x / RF_WARP_SIZE, lane = threadIdx.x % RF_WARP_SIZE;
    const int32_t slice = lane % kLanes;
    const int32_t d0 = slice * kDimsPerLane;  // the lane's dims [d0, d0 + 8)
    const int32_t row_in_load = lane / kLanes;  // its group's row within each load
    constexpr int32_t rows_per_load = RF_WARP_SIZE / kLanes;
    constexpr int32_t warp_step_keys = rows_per_load * kRowsInFlight;
    const bool has_k = d0 < dk, has_v = d0 < dv;

    const int32_t* table = batch.block_tables + batch.block_table_offsets[seq];
    const int32_t g = h / (n_head / kv.n_head_kv);
    // The pools in 16-byte units (32-bit indices: a layer's pool stays below 64 GiB): unit
    // row * row_units + slice holds the lane's dims of cache row `row`.
    const int4* k_units = reinterpret_cast<const int4*>(kv.k);
    const int4* v_units = reinterpret_cast<const int4*>(kv.v);
    const uint32_t k_row_units = dk / kDimsPerLane, v_row_units = dv / kDimsPerLane;

    // Warp w takes keys [base, base + warp_step_keys) of each block step; the group's row i of
    // the step is key base + i * rows_per_load + row_in_load, clamped into the split so that
    // every table and cache read is valid (rows past the split get no weight). Table entries are
    // read a step ahead, while the step's K and V rows load.
    auto row_key = [&](int32_t step_base, int i) { return min(step_base + i * rows_per_load + row_in_load, end - 1); };
    int32_t page[kRowsInFlight];  // the cache blocks of the group's rows of the coming step
    auto load_pages = [&](int32_t step_base) {
#pragma unroll
        for (int i = 0; i < kRowsInFlight; ++i) page[i] = table[divide(row_key(step_base, i), block_size)];
    };
    constexpr int32_t warps_step_keys = kWarps * warp_step_keys;
    if (begin + warp * warp_step_keys < end) load_pages(begin + warp * warp_step_keys);

    wait_for_previous_kernel();
    float q_slice[kDimsPerLane] = {};  // q dims [d0, d0 + 8), pre-scaled
    if (has_k) {
        const float* qh = q + (static_cast<int64_t>(t) * n_head + h) * dk + d0;
#pragma unroll
        for (int i = 0; i < kDimsPerLane; ++i) q_slice[i] = qh[i] * scale;
    }

    // Online softmax over the group's rows: running max score, sum of weights, weighted V sum.
    float m = -FLT_MAX, l = 0.0f;
    float acc[kDimsPerLane] = {};
    for (int32_t base = begin + warp * warp_step_keys; base < end; base += warps_step_keys) {
        int4 k_raw[kRowsInFlight], v_raw[kRowsInFlight];
#pragma unroll
        for (int i = 0; i < kRowsInFlight; ++i) {
            const int32_t key = row_key(base, i);
            const int32_t in_block = key - divide(key, block_size) * static_cast<int32_t>(block_size.divisor);
            const uint32_t row = (page[i] * kv.n_head_kv + g) * kv.block_size + in_block;  // of K and of V
            k_raw[i] = has_k ? k_units[row * k_row_units + slice] : make_int4(0, 0, 0, 0);
            v_raw[i] = has_v ? v_units[row * v_row_units + slice] : make_int4(0, 0, 0, 0);
        }
        if (base + warps_step_keys < end) load_pages(base + warps_step_keys);
        bool valid[kRowsInFlight];
#pragma unroll
        for (int i = 0; i < kRowsInFlight; ++i) valid[i] = base + i * rows_per_load + row_in_load < end;
        float score[kRowsInFlight];
#pragma unroll
        for (int i = 0; i < kRowsInFlight; ++i) {
            float k_slice[kDimsPerLane];
            halves8_to_float(k_raw[i], k_slice);
            score[i] = 0.0f;
#pragma unroll
            for (int j = 0; j < kDimsPerLane; ++j) score[i] += q_slice[j] * k_slice[j];
        }
        // Sum each row's score over its group (a butterfly: every lane of the group gets it).
#pragma unroll
        for (int offset = kLanes / 2; offset > 0; offset /= 2) {
#pragma unroll
            for (int i = 0; i < kRowsInFlight; ++i) score[i] += shfl_xor(score[i], offset);
        }
        float step_max = -FLT_MAX;
#pragma unroll
        for (int i = 0; i < kRowsInFlight; ++i) step_max = valid[i] ? fmaxf(step_max, score[i]) : step_max;
        const float m_new = fmaxf(m, step_max);
        const float rescale = __expf(m - m_new);
        l *= rescale;
#pragma unroll
        for (int j = 0; j < kDimsPerLane; ++j) acc[j] *= rescale;
#pragma unroll
        for (int i = 0; i < kRowsInFlight; ++i) {
            const float weight = valid[i] ? __expf(score[i] - m_new) : 0.0f;
            float v_slice[kDimsPerLane];
            halves8_to_float(v_raw[i], v_slice);
            l += weight;
#pragma unroll
            for (int j = 0; j < kDimsPerLane; ++j) acc[j] += weight * v_slice[j];
        }
        m = m_new;
    }
    // Merge the groups of the warp: lanes kLanes apart hold the same dims of other rows.
#pragma unroll
    for (int offset = kLanes; offset < RF_WARP_SIZE; offset *= 2) {
        float acc_other[kDimsPerLane];
#pragma unroll
        for (int j = 0; j < kDimsPerLane; ++j) acc_other[j] = shfl_xor(acc[j], offset);
        const float m_other = shfl_xor(m, offset), l_other = shfl_xor(l, offset);
        merge_state(m, l, acc, m_other, l_other, acc_other);
    }
    // Merge the warps: each warp's first group leaves its state in shared memory.
    __shared__ float s_m[kWarps], s_l[kWarps];
    __shared__ float s_acc[kWarps][kMaxHeadDim];
    if (lane == 0) {
        s_m[warp] = m;
        s_l[warp] = l;
    }
    if (row_in_load == 0 && has_v) {
#pragma unroll
        for (int j = 0; j < kDimsPerLane; ++j) s_acc[warp][d0 + j] = acc[j];
    }
    __syncthreads();
    float m_block = -FLT_MAX;
    for (int w = 0; w < kWarps; ++w) m_block = fmaxf(m_block, s_m[w]);
    float warp_scale[kWarps];
    float l_block = 0.0f;
    for (int w = 0; w < kWarps; ++w) {
        warp_scale[w] = __expf(s_m[w] - m_block);
        l_block += s_l[w] * warp_scale[w];
    }
    auto block_acc = [&](int32_t d) {
        float a = 0.0f;
        for (int w = 0; w < kWarps; ++w) a += s_acc[w][d] * warp_scale[w];
        return a;
    };
    // Output dim d of (t, h); with `acts.qs` set also quantized for the next mat-vec (quantize_act.h):
    // head h's dims are columns h * dv + d, and dv is then a multiple of 32, so each 32-column
    // block lies within one head and its 32 threads (all active: d runs over the block's threads).
    auto write_output = [&](int32_t d, float value) {
        out[(static_cast<int64_t>(t) * n_head + h) * dv + d] = value;
        if (acts.qs != nullptr) {
            quantize_block32(value, static_cast<int64_t>(h) * dv + d, acts.qs + t * acts.n_cols_padded,
                             acts.ds + t * (acts.n_cols_padded / 32));
        }
    };
    if (splits.count == 1) {
        const float inv = 1.0f / l_block;
        for (int32_t d = threadIdx.x; d < dv; d += kThreads) write_output(d, block_acc(d) * inv);
        return;
    }

    float* record = partial_record(partials, t, h, n_head, grid_splits, split, dv);
    if (threadIdx.x == 0) {
        record[0] = m_block;
        record[1] = l_block;
    }
    for (int32_t d = threadIdx.x; d < dv; d += kThreads) record[2 + d] = block_acc(d);
    // Ticket (the pattern of a grid-wide barrier): after a barrier, thread 0 counts the split
    // done; the block drawing the last ticket sees every record (take_ticket) and merges them.
    // It resets the counter: all splits have counted by then, so the next launch (or graph
    // replay) finds it at zero.
    __shared__ bool s_merges;
    __syncthreads();
    if (threadIdx.x == 0) {
        unsigned int* counter = counters + t * n_head + h;
        s_merges = take_ticket(counter) == static_cast<unsigned int>(splits.count - 1);
        if (s_merges) atomicExch(counter, 0u);
    }
    __syncthreads();
    if (!s_merges) return;
    for (int32_t d = threadIdx.x; d < dv; d += kThreads) {
        float m_all = -FLT_MAX, l_all = 0.0f, a = 0.0f;
#pragma unroll 4
        for (int32_t s = 0; s < splits.count; ++s) {
            const float* other = partial_record(partials, t, h, n_head, grid_splits, s, dv);
            const float m_s = other[0], l_s = other[1], a_s = other[2 + d];
            const float m_new = fmaxf(m_all, m_s);
            const float scale_all = __expf(m_all - m_new), scale_s = __expf(m_s - m_new);
            l_all = l_all * scale_all + l_s * scale_s;
            a = a * scale_all + a_s * scale_s;
            m_all = m_new;
        }
        write_output(d, a * (1.0f / l_all));
    }
}

}  // namespace

void store_kv(const PagedKvView& kv, const DeviceBatch& batch, const float* k, const float* v, gpuStream_t stream) {
    if (batch.n_tokens == 0) return;
    const int64_t width = static_cast<int64_t>(kv.n_head_kv) * max(kv.head_dim_k, kv.head_dim_v);
    const dim3 grid(static_cast<unsigned>((width + 255) / 256), static_cast<unsigned>(batch.n_tokens));
    launch(store_kv_kernel, grid, 256, 0, stream, kv, batch.kv_slots, batch.n_tokens, k, v);
}

int64_t attention_scratch_floats(int32_t n_tokens, int32_t n_head, int32_t max_kv, int32_t head_dim_v) {
    // The widest grid any head dims get (the shortest block step).
    const int32_t splits = grid_splits(n_tokens, n_head, max_kv, kMinBlockStepKeys);
    return splits > 1 ? int64_t{n_tokens} * n_head * splits * (2 + head_dim_v) : 0;
}

void attention(const PagedKvView& kv, const DeviceBatch& batch, const float* q, int32_t n_head, float scale,
               float* out, float* partials, uint32_t* counters, gpuStream_t stream, const QuantizedActs* out_acts) {
    if (batch.n_tokens == 0) return;
    const int32_t step_keys = block_step_keys(lanes_per_row(kv.head_dim_k, kv.head_dim_v));
    const int32_t n_splits = grid_splits(batch.n_tokens, n_head, batch.max_kv, step_keys);
    const dim3 grid(static_cast<unsigned>(n_splits), static_cast<unsigned>(n_head), static_cast<unsigned>(batch.n_tokens));
    const QuantizedActs acts = out_acts != nullptr ? *out_acts : QuantizedActs{};
    const FastDivider block_size = make_divider(static_cast<uint32_t>(kv.block_size));
    auto run = [&](auto kernel) {
        launch(kernel, grid, kThreads, 0, stream, kv, batch, q, n_head, scale, block_size, n_splits, partials,
               counters, out, acts);
    };
    switch (lanes_per_row(kv.head_dim_k, kv.head_dim_v)) {
        case 4: run(attention_decode_kernel<4>); break;
        case 8: run(attention_decode_kernel<8>); break;
        case 16: run(attention_decode_kernel<16>); break;
        default: run(attention_decode_kernel<32>); break;
    }
}

}  // namespace rf::gpu
