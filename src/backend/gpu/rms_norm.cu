// RMSNorm. Both forms compute a row's 1 / rms with the same block-wide reduction (so they agree
// bit for bit): rms_norm gives each row one block; rms_norm_quant, for decode steps of a few
// rows, splits each row's output over several blocks (each re-reads the row from L2 for the
// sum) and also quantizes it for the integer mat-vec, so no single block carries a whole row.
#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/gpu_launch.cuh"
#include "backend/gpu/ops.h"

namespace rf::gpu {
namespace {

constexpr int kThreads = 256;

// 1 / sqrt(mean(row^2) + eps) over a row of `width` floats, reduced over the block (kThreads
// threads); every thread gets it. Rows of a multiple of 4 floats (16-byte aligned, as every
// activation row is then) are read 16 bytes at a time.
__device__ float row_inverse_rms(const float* __restrict__ row, int64_t width, float eps) {
    float sum = 0.0f;
    if (width % 4 == 0) {
        const float4* row4 = reinterpret_cast<const float4*>(row);
#pragma unroll 4  // a 4096-wide row is four loads a thread: in flight together, not one by one
        for (int64_t i = threadIdx.x; i < width / 4; i += kThreads) {
            const float4 v = row4[i];
            sum += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
        }
    } else {
        for (int64_t i = threadIdx.x; i < width; i += kThreads) sum += row[i] * row[i];
    }
    sum = warp_sum(sum);
    constexpr int kWarps = kThreads / RF_WARP_SIZE;
    __shared__ float partial[kWarps];
    const int warp = threadIdx.x / RF_WARP_SIZE, lane = threadIdx.x % RF_WARP_SIZE;
    if (lane == 0) partial[warp] = sum;
    __syncthreads();
    // Each warp reduces the per-warp sums itself (no serial loop over them).
    return rsqrtf(warp_sum(lane < kWarps ? partial[lane] : 0.0f) / static_cast<float>(width) + eps);
}

// Grid (n_rows); out[r] = x[r] * inv_rms * w.
__global__ void __launch_bounds__(kThreads) rms_norm_kernel(const float* __restrict__ x, const float* __restrict__ w,
                                                            float eps, int64_t width, float* __restrict__ out) {
    wait_for_predecessor();
    const float* row = x + static_cast<int64_t>(blockIdx.x) * width;
    float* dst = out + static_cast<int64_t>(blockIdx.x) * width;
    const float inv = row_inverse_rms(row, width, eps);
    for (int64_t c = threadIdx.x; c < width; c += kThreads) dst[c] = row[c] * inv * w[c];
}

// Grid (padded width / kThreads, n_rows): block (s, r) writes columns [s * kThreads, (s + 1) *
// kThreads) of row r, normalised and quantized (quantize_act.h). The padded width is a multiple
// of 512, so each 32-column block is one warp (or half a wavefront) and every lane takes part in
// its reductions; padding columns are written as zeros.
__global__ void __launch_bounds__(kThreads) rms_norm_quant_kernel(const float* __restrict__ x,
                                                                  const float* __restrict__ w, float eps,
                                                                  int64_t width, float* __restrict__ out,
                                                                  QuantizedActs acts) {
    launch_next_kernel();
    const int64_t c = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
    const float weight = c < width ? w[c] : 0.0f;  // a model weight: read before the wait
    wait_for_previous_kernel();
    const int64_t r = blockIdx.y;
    const float* row = x + r * width;
    const float inv = row_inverse_rms(row, width, eps);
    const float v = c < width ? row[c] * inv * weight : 0.0f;
    if (c < width) out[r * width + c] = v;
    quantize_block32(v, c, acts.qs + r * acts.n_cols_padded, acts.ds + r * (acts.n_cols_padded / 32));
}

}  // namespace

void rms_norm(const float* x, const float* w, float eps, int64_t width, int64_t n_rows, float* out, gpuStream_t stream) {
    if (n_rows == 0) return;
    launch(rms_norm_kernel, static_cast<unsigned>(n_rows), kThreads, 0, stream, x, w, eps, width, out);
}

void rms_norm_quant(const float* x, const float* w, float eps, int64_t width, int64_t n_rows, float* out,
                    QuantizedActs acts, gpuStream_t stream) {
    if (n_rows == 0) return;
    const dim3 grid(static_cast<unsigned>(acts.n_cols_padded / kThreads), static_cast<unsigned>(n_rows));
    launch(rms_norm_quant_kernel, grid, kThreads, 0, stream, x, w, eps, width, out, acts);
}

}  // namespace rf::gpu
