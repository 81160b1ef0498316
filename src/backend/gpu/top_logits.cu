// The top-logits readout on the GPU (sampling/top_logits.h): the sampler's logit changes applied
// in place, then each row's k largest logits selected by one block with a radix select over
// order-preserving 32-bit keys, so only k (id, logit) pairs a row go back to the host.
#include <cmath>
#include <cstdint>

#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/gpu_launch.cuh"
#include "backend/gpu/ops.h"

namespace rf::gpu {
namespace {

constexpr int kSelectThreads = 1024;  // one block per row; also the largest k (kMaxTopLogits)
constexpr int kArgmaxThreads = 256;
constexpr int kRadixBins = 2048;      // 11-bit digits: passes over bits 31-21, 20-10 and 9-0
constexpr int kMaxWarps = kSelectThreads / 32;

static_assert(kSelectThreads == sampling::kMaxTopLogits);

// Larger logit -> larger key. NaN counts as -inf and -0 as +0 (they compare equal as floats).
__device__ __forceinline__ uint32_t logit_key(float x) {
    if (isnan(x)) x = -INFINITY;
    uint32_t bits = __float_as_uint(x);
    if (bits == 0x80000000u) bits = 0;
    return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
}

__device__ __forceinline__ float key_logit(uint32_t key) {
    return __uint_as_float((key & 0x80000000u) != 0 ? key & 0x7fffffffu : ~key);
}

// sampling::adjusted_logit with the host's rounding (no contraction into fused multiply-adds).
__global__ void adjust_logits_kernel(float* logits, int64_t n_vocab, const sampling::LogitAdjust* adjust, int32_t n) {
    wait_for_predecessor();
    const int32_t i = static_cast<int32_t>(blockIdx.x * blockDim.x + threadIdx.x);
    if (i >= n) return;
    const sampling::LogitAdjust a = adjust[i];
    float& slot = logits[static_cast<int64_t>(a.row) * n_vocab + a.id];
    float x = isnan(slot) ? -INFINITY : slot;
    x = __fadd_rn(x, a.bias);
    if (isnan(x)) {
        x = -INFINITY;
    } else if (x != -INFINITY) {
        x = x <= 0.0f ? __fmul_rn(x, a.scale) : __fdiv_rn(x, a.scale);
        x = __fsub_rn(x, a.subtract);
    }
    slot = x;
}

// k == 1: the largest key and, among equals, the lowest id, as one 64-bit maximum.
__global__ void argmax_kernel(const float* logits, int64_t n_vocab, sampling::TokenLogit* out) {
    wait_for_predecessor();
    const float* row = logits + static_cast<int64_t>(blockIdx.x) * n_vocab;
    unsigned long long best = 0;
    for (int64_t i = threadIdx.x; i < n_vocab; i += blockDim.x) {
        const unsigned long long packed =
            static_cast<unsigned long long>(logit_key(row[i])) << 32 | (0xffffffffu - static_cast<uint32_t>(i));
        best = packed > best ? packed : best;
    }
#pragma unroll
    for (int offset = RF_WARP_SIZE / 2; offset > 0; offset >>= 1) {
        const unsigned long long other = shfl_xor(best, offset);
        best = other > best ? other : best;
    }
    __shared__ unsigned long long warp_best[kArgmaxThreads / 32];
    const int lane = static_cast<int>(threadIdx.x) % RF_WARP_SIZE;
    const int warp = static_cast<int>(threadIdx.x) / RF_WARP_SIZE;
    if (lane == 0) warp_best[warp] = best;
    __syncthreads();
    if (threadIdx.x != 0) return;
    for (int w = 1; w < kArgmaxThreads / RF_WARP_SIZE; ++w) best = warp_best[w] > best ? warp_best[w] : best;
    out[blockIdx.x] = {static_cast<int32_t>(0xffffffffu - static_cast<uint32_t>(best)),
                       key_logit(static_cast<uint32_t>(best >> 32))};
}

// Inclusive prefix sum of `value` over the block in thread order; `total` receives the block's sum.
// Every thread must call it (it synchronises the block twice).
__device__ uint32_t block_inclusive_sum(uint32_t value, uint32_t* warp_sums, uint32_t& total) {
    const int lane = static_cast<int>(threadIdx.x) % RF_WARP_SIZE;
    const int warp = static_cast<int>(threadIdx.x) / RF_WARP_SIZE;
#pragma unroll
    for (int offset = 1; offset < RF_WARP_SIZE; offset <<= 1) {
        const uint32_t other = shfl(value, lane >= offset ? lane - offset : lane);
        if (lane >= offset) value += other;
    }
    if (lane == RF_WARP_SIZE - 1) warp_sums[warp] = value;
    __syncthreads();
    uint32_t before = 0;
    total = 0;
    for (int w = 0; w < static_cast<int>(blockDim.x) / RF_WARP_SIZE; ++w) {
        before += w < warp ? warp_sums[w] : 0;
        total += warp_sums[w];
    }
    __syncthreads();  // warp_sums may be reused
    return value + before;
}

// One block per row. Radix select finds the key T of the k-th largest logit and how many keys
// equal to T are taken (`ties`); then one ordered pass writes the keys above T (any order) and
// the first `ties` keys equal to T in id order, so ties at the cut go to the lower ids.
__global__ void __launch_bounds__(kSelectThreads) select_top_kernel(const float* logits, int64_t n_vocab, int32_t k,
                                                                    sampling::TokenLogit* out) {
    wait_for_predecessor();
    const float* row = logits + static_cast<int64_t>(blockIdx.x) * n_vocab;
    sampling::TokenLogit* row_out = out + static_cast<int64_t>(blockIdx.x) * k;
    __shared__ uint32_t histogram[kRadixBins];
    __shared__ uint32_t warp_sums[kMaxWarps];
    __shared__ uint32_t chosen_digit, chosen_rank, n_above_written;

    uint32_t prefix = 0, prefix_mask = 0;
    uint32_t rank = static_cast<uint32_t>(k);  // wanted: the rank-th largest key under `prefix`
    for (int pass = 0; pass < 3; ++pass) {
        const int shift = pass == 0 ? 21 : pass == 1 ? 10 : 0;
        const uint32_t digit_mask = pass == 2 ? 0x3ffu : 0x7ffu;
        for (int b = static_cast<int>(threadIdx.x); b < kRadixBins; b += blockDim.x) histogram[b] = 0;
        __syncthreads();
        for (int64_t i = threadIdx.x; i < n_vocab; i += blockDim.x) {
            const uint32_t key = logit_key(row[i]);
            if ((key & prefix_mask) == prefix) atomicAdd(&histogram[(key >> shift) & digit_mask], 1u);
        }
        __syncthreads();
        // Thread t holds digits 2047 - 2t and 2046 - 2t: the sum in thread order counts keys from the top.
        const int hi = kRadixBins - 1 - 2 * static_cast<int>(threadIdx.x);
        const uint32_t count_hi = histogram[hi], count_lo = histogram[hi - 1];
        uint32_t total;
        const uint32_t through = block_inclusive_sum(count_hi + count_lo, warp_sums, total);
        const uint32_t above = through - count_hi - count_lo;
        if (above < rank && rank <= through) {
            const bool in_hi = rank <= above + count_hi;
            chosen_digit = static_cast<uint32_t>(in_hi ? hi : hi - 1);
            chosen_rank = rank - above - (in_hi ? 0 : count_hi);
        }
        __syncthreads();
        prefix |= chosen_digit << shift;
        prefix_mask |= digit_mask << shift;
        rank = chosen_rank;
    }
    const uint32_t threshold = prefix;
    const uint32_t ties = rank;  // keys equal to the threshold that are taken
    const uint32_t n_above = static_cast<uint32_t>(k) - ties;
    if (threadIdx.x == 0) n_above_written = 0;
    __syncthreads();
    uint32_t ties_taken = 0;  // the same in every thread
    for (int64_t base = 0; base < n_vocab; base += blockDim.x) {
        const int64_t i = base + threadIdx.x;
        const uint32_t key = i < n_vocab ? logit_key(row[i]) : 0;
        if (i < n_vocab && key > threshold) {
            row_out[atomicAdd(&n_above_written, 1u)] = {static_cast<int32_t>(i), key_logit(key)};
        }
        if (ties_taken < ties) {
            const bool tie = i < n_vocab && key == threshold;
            uint32_t tile_ties;
            const uint32_t through = block_inclusive_sum(tie ? 1u : 0u, warp_sums, tile_ties);
            if (tie && ties_taken + through <= ties) {
                row_out[n_above + ties_taken + through - 1] = {static_cast<int32_t>(i), key_logit(key)};
            }
            ties_taken += tile_ties;
        }
    }
}

}  // namespace

void top_logits(float* logits, int64_t n_vocab, int64_t n_rows, int32_t k, const sampling::LogitAdjust* adjust,
                int32_t n_adjust, sampling::TokenLogit* out, gpuStream_t stream) {
    if (n_rows == 0) return;
    if (n_adjust > 0) {
        constexpr int kThreads = 256;
        launch(adjust_logits_kernel, static_cast<unsigned>((n_adjust + kThreads - 1) / kThreads), kThreads, 0, stream,
               logits, n_vocab, adjust, n_adjust);
    }
    if (k == 1) {
        launch(argmax_kernel, static_cast<unsigned>(n_rows), kArgmaxThreads, 0, stream, logits, n_vocab, out);
    } else {
        launch(select_top_kernel, static_cast<unsigned>(n_rows), kSelectThreads, 0, stream, logits, n_vocab, k, out);
    }
}

}  // namespace rf::gpu
