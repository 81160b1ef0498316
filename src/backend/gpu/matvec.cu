// Mat-vec kernels: one warp per output row; each lane walks the row in 16-byte-aligned units,
// dotting each weight unit with the matching activations of all n_tokens tokens (integer dp4a
// for quantized types), then the warp reduces. One launch covers a set of matrices sharing the
// input (Q/K/V), and the epilogue can accumulate into the output or apply SwiGLU.
#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/gpu_launch.cuh"
#include "backend/gpu/matvec.h"
#include "backend/gpu/matvec_units.cuh"
#include "backend/gpu/rope_device.cuh"

namespace rf::gpu {
namespace {

constexpr int kThreadsPerBlock = 128;
using namespace matvec_units;

// Asks L2 for the start of one weight row: one 128-byte line per lane of the quants (4 KiB at
// wave32, about what the warp's first unrolled step reads) and the first line of its scales.
// Only the start: every resident warp of this and the next kernel prefetches at once, and whole
// wide rows (8-22 KiB at F16) would push each other out of L2 before use. CUDA only (elsewhere
// the loads simply come later).
__device__ __forceinline__ void prefetch_row_l2(const DeviceMatrix& w, int64_t row, int lane) {
#if defined(__CUDA_ARCH__)
    const size_t offset = static_cast<size_t>(lane) * 128;
    if (offset < w.qs_row_bytes) asm volatile("prefetch.global.L2 [%0];" ::"l"(w.qs + row * w.qs_row_bytes + offset));
    if (w.scales != nullptr && lane == 0) {
        asm volatile("prefetch.global.L2 [%0];" ::"l"(w.scales + row * w.scale_row_count));
    }
#else
    (void)w, (void)row, (void)lane;
#endif
}

// 1 / rms of token t's input (InputNorm), the same in every warp; 1 without a norm.
__device__ float input_scale(const InputNorm& norm, int t, int lane) {
    if (norm.sum_squares == nullptr) return 1.0f;
    float sum = 0.0f;
    for (int i = lane; i < norm.n_groups; i += RF_WARP_SIZE) sum += norm.sum_squares[t * norm.n_groups + i];
    return rsqrtf(warp_sum(sum) / static_cast<float>(norm.width) + norm.eps);
}

// GroupOutput: once every warp of the block has stored its rows of y [n_tokens][n_rows], the
// block that finishes its group of 32 rows last (a ticket per group) quantizes the group. All
// threads of the block call this.
__device__ void finish_group(const GroupOutput& g, const float* y, int64_t n_rows, int64_t block_first_row,
                             int rows_per_block, int n_tokens) {
    __shared__ bool s_last;
    const int64_t group = block_first_row / 32;
    __threadfence();  // this block's rows are visible device-wide before its ticket is taken
    __syncthreads();
    if (threadIdx.x == 0) {
        const int64_t group_rows = min(int64_t{32}, n_rows - group * 32);
        const int blocks_in_group = static_cast<int>((group_rows + rows_per_block - 1) / rows_per_block);
        s_last = atomicAdd(&g.counters[group], 1) == blocks_in_group - 1;
        if (s_last) g.counters[group] = 0;  // every block of the group has taken its ticket
    }
    __syncthreads();
    if (!s_last || threadIdx.x >= 32) return;
    __threadfence();
    // Thread r (the first 32 lanes) takes row 32 * group + r; volatile loads skip the L1, which
    // may hold lines of the group read before the other blocks wrote them.
    const int64_t row = group * 32 + threadIdx.x;
    const bool valid = row < n_rows;
    const int64_t n_groups = group_count(n_rows);
    for (int t = 0; t < n_tokens; ++t) {
        const float yv = valid ? *static_cast<const volatile float*>(y + t * n_rows + row) : 0.0f;
        const float v = valid && g.gain != nullptr ? yv * g.gain[row] : yv;
        if (g.scaled != nullptr && valid) g.scaled[t * n_rows + row] = v;
        if (g.acts.qs != nullptr) {
            quantize_block32(v, row, g.acts.qs + t * g.acts.n_cols_padded, g.acts.ds + t * (g.acts.n_cols_padded / 32));
        }
        if (g.sum_squares != nullptr) {
            float sum = yv * yv;
#pragma unroll
            for (int offset = 16; offset > 0; offset >>= 1) sum += shfl_xor(sum, offset);
            if (threadIdx.x == 0) g.sum_squares[t * n_groups + group] = sum;
        }
    }
}

// HeadOutput: once every warp of the block has stored its rows of a Q/K/V set, the block that
// finishes a head last rotates and caches it. Heads never straddle blocks (head dims are
// multiples of the rows per block). All threads of the block call this.
__device__ void finish_head(const HeadOutput& h, const MatvecSet& set, int64_t block_first_row, int rows_per_block,
                            int n_tokens) {
    constexpr int kMaxHeadDim = 256;
    __shared__ bool s_last;
    __shared__ float s_head[kMaxHeadDim];
    const int m = (block_first_row >= set.first_row[1]) + (block_first_row >= set.first_row[2]);
    if (block_first_row >= set.first_row[3]) return;  // past the set (whole block: no barrier skipped)
    const int32_t dim = m == 2 ? h.kv.head_dim_v : h.kv.head_dim_k;
    const int64_t first = m == 0 ? 0 : (m == 1 ? set.first_row[1] : set.first_row[2]);
    const int32_t head = static_cast<int32_t>((block_first_row - first) / dim);
    const int32_t ticket = m == 0 ? head : h.n_head + (m == 2 ? h.kv.n_head_kv : 0) + head;
    __threadfence();  // this block's rows are visible device-wide before its ticket is taken
    __syncthreads();
    if (threadIdx.x == 0) {
        s_last = atomicAdd(&h.counters[ticket], 1) == dim / rows_per_block - 1;
        if (s_last) h.counters[ticket] = 0;  // every block of the head has taken its ticket
    }
    __syncthreads();
    if (!s_last) return;
    __threadfence();
    float* const y = m == 0 ? set.y[0] : (m == 1 ? set.y[1] : set.y[2]);
    const int64_t n_rows = m == 0 ? set.w[0].n_rows : (m == 1 ? set.w[1].n_rows : set.w[2].n_rows);
    for (int t = 0; t < n_tokens; ++t) {
        float* row = y + t * n_rows + static_cast<int64_t>(head) * dim;
        // Through shared memory, read with volatile loads: the L1 may hold stale lines of rows
        // other blocks wrote.
        for (int d = threadIdx.x; d < dim; d += blockDim.x) s_head[d] = *static_cast<volatile float*>(row + d);
        __syncthreads();
        const float pos = static_cast<float>(h.positions[t]);
        if (m == 0) {
            for (int32_t i = threadIdx.x; i < h.rope.n_rot / 2; i += blockDim.x) {
                int32_t a_idx, b_idx;
                rope_pair(i, h.rope, a_idx, b_idx);
                float s, c;
                rope_cos_sin(i, pos, h.rope, c, s);
                row[a_idx] = s_head[a_idx] * c - s_head[b_idx] * s;
                row[b_idx] = s_head[a_idx] * s + s_head[b_idx] * c;
            }
        } else {
            uint16_t* cache = (m == 1 ? h.kv.k : h.kv.v) + kv_cache_row(h.kv, h.slots[t], head) * dim;
            for (int32_t d = threadIdx.x; d < dim; d += blockDim.x) {
                cache[d] = float_to_half_bits_clamped(m == 1 ? rotated_element(s_head, d, pos, h.rope) : s_head[d]);
            }
        }
        __syncthreads();  // s_head is refilled for the next token
    }
}

// One warp per output row of the set (rows of its matrices one after the other); lanes stride
// over the row. The epilogue stores, accumulates, or (kSwiglu) also dots the row of w[1] and
// writes silu(w[0] . x) * (w[1] . x); products are scaled by in.norm first, and `group` (when its
// counters are set) quantizes the output for the next mat-vec.
template <typename Dot, int NT, MatvecEpilogue E>
__global__ void __launch_bounds__(kThreadsPerBlock)
    matvec_kernel(MatvecSet set, MatvecInput in, GroupOutput group, HeadOutput heads) {
    const int warps_per_block = kThreadsPerBlock / RF_WARP_SIZE;
    const int64_t block_first_row = static_cast<int64_t>(blockIdx.x) * warps_per_block;
    const int64_t set_row = block_first_row + threadIdx.x / RF_WARP_SIZE;
    const int lane = threadIdx.x % RF_WARP_SIZE;
    const bool has_row = set_row < set.first_row[set.n];
    // Selects rather than an indexed parameter read, which would copy the set to local memory.
    const int m = (set.n > 1 && set_row >= set.first_row[1]) + (set.n > 2 && set_row >= set.first_row[2]);
    const DeviceMatrix w = m == 0 ? set.w[0] : (m == 1 ? set.w[1] : set.w[2]);
    const int64_t row = set_row - (m == 0 ? 0 : (m == 1 ? set.first_row[1] : set.first_row[2]));
    // The weights do not depend on the previous kernel: start pulling them into L2 while it
    // finishes (dependent launch), then wait for its results.
    if (has_row) {
        prefetch_row_l2(w, row, lane);
        if constexpr (E == MatvecEpilogue::kSwiglu) prefetch_row_l2(set.w[1], row, lane);
    }
    wait_for_predecessor();
    if (has_row) {
        float* const y = m == 0 ? set.y[0] : (m == 1 ? set.y[1] : set.y[2]);
        float acc[NT] = {};
        Dot::template run<NT>(w, row, in, lane, acc);
        float acc_up[NT] = {};
        if constexpr (E == MatvecEpilogue::kSwiglu) Dot::template run<NT>(set.w[1], row, in, lane, acc_up);
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            const float scale = input_scale(in.norm, t, lane);
            const float total = warp_sum(acc[t]) * scale;
            float* dst = y + t * w.n_rows + row;
            if constexpr (E == MatvecEpilogue::kStore) {
                if (lane == 0) *dst = total;
            } else if constexpr (E == MatvecEpilogue::kAccumulate) {
                if (lane == 0) *dst += total;
            } else {
                const float up = warp_sum(acc_up[t]) * scale;
                if (lane == 0) *dst = total / (1.0f + expf(-total)) * up;
            }
        }
    }
    if (in.normalized != nullptr) {
        // Warp-sized runs of the input (never straddling tokens: the width is a multiple of 32).
        const int64_t n_elems = in.norm.width * NT;
        const int64_t n_warps = static_cast<int64_t>(gridDim.x) * warps_per_block;
        for (int64_t first = set_row * RF_WARP_SIZE; first < n_elems; first += n_warps * RF_WARP_SIZE) {
            const int t = static_cast<int>(first / in.norm.width);
            const float scale = input_scale(in.norm, t, lane);
            if (first + lane < n_elems) in.normalized[first + lane] = in.x[first + lane] * scale;
        }
    }
    if (group.counters != nullptr) finish_group(group, set.y[0], set.w[0].n_rows, block_first_row, warps_per_block, NT);
    if (heads.counters != nullptr) finish_head(heads, set, block_first_row, warps_per_block, NT);
}

// apply_input_norm: one warp per run of RF_WARP_SIZE elements of one token.
__global__ void apply_input_norm_kernel(const float* __restrict__ x, InputNorm norm, int64_t n_elems,
                                        float* __restrict__ out) {
    wait_for_predecessor();
    const int64_t first = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / RF_WARP_SIZE * RF_WARP_SIZE;
    const int lane = threadIdx.x % RF_WARP_SIZE;
    if (first >= n_elems) return;
    const float scale = input_scale(norm, static_cast<int>(first / norm.width), lane);
    if (first + lane < n_elems) out[first + lane] = x[first + lane] * scale;
}

template <typename Dot, int NT>
void launch_epilogue(const MatvecSet& set, MatvecEpilogue e, const MatvecInput& in, const GroupOutput& group,
                     const HeadOutput& heads, dim3 grid, gpuStream_t stream) {
    switch (e) {
        case MatvecEpilogue::kStore:
            launch(matvec_kernel<Dot, NT, MatvecEpilogue::kStore>, grid, kThreadsPerBlock, 0,
                   stream, set, in, group, heads);
            break;
        case MatvecEpilogue::kAccumulate:
            launch(matvec_kernel<Dot, NT, MatvecEpilogue::kAccumulate>, grid, kThreadsPerBlock, 0,
                   stream, set, in, group, heads);
            break;
        case MatvecEpilogue::kSwiglu:
            launch(matvec_kernel<Dot, NT, MatvecEpilogue::kSwiglu>, grid, kThreadsPerBlock, 0,
                   stream, set, in, group, heads);
            break;
    }
}

template <int NT>
void launch_for_tokens(const MatvecSet& set, MatvecEpilogue e, const MatvecInput& in, const GroupOutput& group,
                       const HeadOutput& heads, dim3 grid, gpuStream_t stream) {
    using quant::GgmlType;
    switch (set.w[0].type) {
        case GgmlType::kQ4_0: launch_epilogue<QuantRowDot<UnitQ4_0>, NT>(set, e, in, group, heads, grid, stream); break;
        case GgmlType::kQ8_0: launch_epilogue<QuantRowDot<UnitQ8_0>, NT>(set, e, in, group, heads, grid, stream); break;
        case GgmlType::kQ4_K: launch_epilogue<QuantRowDot<UnitQ4_K>, NT>(set, e, in, group, heads, grid, stream); break;
        case GgmlType::kQ5_K: launch_epilogue<QuantRowDot<UnitQ5_K>, NT>(set, e, in, group, heads, grid, stream); break;
        case GgmlType::kQ6_K: launch_epilogue<QuantRowDot<UnitQ6_K>, NT>(set, e, in, group, heads, grid, stream); break;
        case GgmlType::kF16: launch_epilogue<F16RowDot, NT>(set, e, in, group, heads, grid, stream); break;
        case GgmlType::kQ4_1: launch_epilogue<QuantRowDot<UnitQ4_1>, NT>(set, e, in, group, heads, grid, stream); break;
        case GgmlType::kQ5_0: launch_epilogue<QuantRowDot<UnitQ5_0>, NT>(set, e, in, group, heads, grid, stream); break;
        case GgmlType::kQ5_1: launch_epilogue<QuantRowDot<UnitQ5_1>, NT>(set, e, in, group, heads, grid, stream); break;
        case GgmlType::kMXFP4: launch_epilogue<QuantRowDot<UnitMXFP4>, NT>(set, e, in, group, heads, grid, stream); break;
        case GgmlType::kQ2_K: launch_epilogue<QuantRowDot<UnitQ2_K>, NT>(set, e, in, group, heads, grid, stream); break;
        case GgmlType::kQ3_K: launch_epilogue<QuantRowDot<UnitQ3_K>, NT>(set, e, in, group, heads, grid, stream); break;
        case GgmlType::kIQ4_NL: launch_epilogue<QuantRowDot<UnitIQ4_NL>, NT>(set, e, in, group, heads, grid, stream); break;
        case GgmlType::kIQ4_XS: launch_epilogue<QuantRowDot<UnitIQ4_XS>, NT>(set, e, in, group, heads, grid, stream); break;
        default:
            std::fprintf(stderr, "rocmforge: matvec: unsupported type %u\n", static_cast<unsigned>(set.w[0].type));
            std::abort();
    }
    RF_GPU_CHECK_LAUNCH();
}

// One launch of the kernel for n_tokens (1..8) tokens.
void dispatch(const MatvecSet& set, MatvecEpilogue epilogue, const MatvecInput& in, int n_tokens, int warp_size,
              const GroupOutput& group, const HeadOutput& heads, gpuStream_t stream) {
    const int rows_per_block = kThreadsPerBlock / warp_size;
    const int64_t n_rows = set.first_row[set.n];
    const dim3 grid(static_cast<unsigned>((n_rows + rows_per_block - 1) / rows_per_block));
    switch (n_tokens) {
        case 1: launch_for_tokens<1>(set, epilogue, in, group, heads, grid, stream); break;
        case 2: launch_for_tokens<2>(set, epilogue, in, group, heads, grid, stream); break;
        case 3: launch_for_tokens<3>(set, epilogue, in, group, heads, grid, stream); break;
        case 4: launch_for_tokens<4>(set, epilogue, in, group, heads, grid, stream); break;
        case 5: launch_for_tokens<5>(set, epilogue, in, group, heads, grid, stream); break;
        case 6: launch_for_tokens<6>(set, epilogue, in, group, heads, grid, stream); break;
        case 7: launch_for_tokens<7>(set, epilogue, in, group, heads, grid, stream); break;
        case 8: launch_for_tokens<8>(set, epilogue, in, group, heads, grid, stream); break;
        default:
            std::fprintf(stderr, "rocmforge: matvec: n_tokens %d outside 1..%d\n", n_tokens, kMaxMatvecTokens);
            std::abort();
    }
}

}  // namespace

void matvec_set(const MatvecSet& set, MatvecEpilogue epilogue, const MatvecInput& in, int n_tokens, int warp_size,
                gpuStream_t stream, const GroupOutput* group) {
    if (group != nullptr && set.n != 1) {
        std::fprintf(stderr, "rocmforge: matvec: a grouped output needs a one-matrix set\n");
        std::abort();
    }
    dispatch(set, epilogue, in, n_tokens, warp_size, group != nullptr ? *group : GroupOutput{}, HeadOutput{}, stream);
}

void matvec_qkv_rope_store(const MatvecSet& set, const MatvecInput& in, int n_tokens, int warp_size,
                           const HeadOutput& heads, gpuStream_t stream) {
    const int rows_per_block = kThreadsPerBlock / warp_size;
    if (set.n != 3 || heads.kv.head_dim_k % rows_per_block != 0 || heads.kv.head_dim_v % rows_per_block != 0 ||
        heads.kv.head_dim_k > 256 || heads.kv.head_dim_v > 256) {
        std::fprintf(stderr, "rocmforge: matvec: the Q/K/V rope epilogue needs three matrices and whole heads per block\n");
        std::abort();
    }
    dispatch(set, MatvecEpilogue::kStore, in, n_tokens, warp_size, GroupOutput{}, heads, stream);
}

void apply_input_norm(const float* x, const InputNorm& norm, int n_tokens, float* out, gpuStream_t stream) {
    const int64_t n_elems = norm.width * n_tokens;
    constexpr int kThreads = 256;
    launch(apply_input_norm_kernel, static_cast<unsigned>((n_elems + kThreads - 1) / kThreads), kThreads, 0, stream,
           x, norm, n_elems, out);
}

void matvec(const DeviceMatrix& w, const QuantizedActs& acts, const float* x, int n_tokens, float* y,
            int warp_size, gpuStream_t stream) {
    MatvecSet set;
    set.add(w, y);
    matvec_set(set, MatvecEpilogue::kStore, MatvecInput{acts, x, {}, nullptr}, n_tokens, warp_size, stream);
}

}  // namespace rf::gpu
