// RMSNorm: one thread block per row, each thread holding its columns in registers between the
// sum of squares (reduced across warps in shared memory) and the scaling; optionally fused with
// the activation quantization of the mat-vec that reads the result.
#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/gpu_launch.cuh"
#include "backend/gpu/ops.h"

namespace rf::gpu {
namespace {

constexpr int kMaxThreads = 1024;
constexpr int kCached = 8;  // columns a thread keeps in registers (rows up to 8192 at 1024 threads)

// Column i of this thread: threadIdx.x + i * blockDim.x.
__device__ __forceinline__ int64_t column(int i) { return threadIdx.x + static_cast<int64_t>(i) * blockDim.x; }

// The thread's first kCached columns of `row` (0 past the width), all loads issued together.
__device__ __forceinline__ void load_cached(const float* __restrict__ row, int64_t width, float (&vals)[kCached]) {
#pragma unroll
    for (int i = 0; i < kCached; ++i) vals[i] = column(i) < width ? row[column(i)] : 0.0f;
}

// 1 / rms of one row (+eps), reduced over the thread block; every thread gets it. `vals` holds
// the thread's cached columns; wider rows read the rest from memory. Both kernels below call
// this, so their results agree bit for bit.
__device__ float inverse_rms(const float* __restrict__ row, const float (&vals)[kCached], int64_t width, float eps) {
    float sum = 0.0f;
#pragma unroll
    for (int i = 0; i < kCached; ++i) sum += vals[i] * vals[i];
    for (int64_t c = column(kCached); c < width; c += blockDim.x) sum += row[c] * row[c];
    sum = warp_sum(sum);
    __shared__ float partial[kMaxThreads / 32];
    const int warp = threadIdx.x / RF_WARP_SIZE, lane = threadIdx.x % RF_WARP_SIZE;
    const int n_warps = blockDim.x / RF_WARP_SIZE;
    if (lane == 0) partial[warp] = sum;
    __syncthreads();
    // Each warp reduces the per-warp sums itself (no serial loop over them).
    return rsqrtf(warp_sum(lane < n_warps ? partial[lane] : 0.0f) / static_cast<float>(width) + eps);
}

// One block per row.
__global__ void rms_norm_kernel(const float* __restrict__ x, const float* __restrict__ w, float eps, int64_t width,
                                float* __restrict__ out) {
    wait_for_predecessor();
    const float* row = x + static_cast<int64_t>(blockIdx.x) * width;
    float* dst = out + static_cast<int64_t>(blockIdx.x) * width;
    float vals[kCached], ws[kCached];
    load_cached(row, width, vals);
    load_cached(w, width, ws);
    const float inv = inverse_rms(row, vals, width, eps);
#pragma unroll
    for (int i = 0; i < kCached; ++i) {
        if (column(i) < width) dst[column(i)] = vals[i] * inv * ws[i];
    }
    for (int64_t c = column(kCached); c < width; c += blockDim.x) dst[c] = row[c] * inv * w[c];
}

// The same, also writing the normalised row quantized for the integer mat-vec. The column loop
// runs over the padded width (a multiple of the block size) so every lane takes part in each
// 32-column block's reductions; width is a multiple of 32.
__global__ void rms_norm_quant_kernel(const float* __restrict__ x, const float* __restrict__ w, float eps,
                                      int64_t width, float* __restrict__ out, QuantizedActs acts) {
    wait_for_predecessor();
    const float* row = x + static_cast<int64_t>(blockIdx.x) * width;
    float* dst = out + static_cast<int64_t>(blockIdx.x) * width;
    float vals[kCached], ws[kCached];
    load_cached(row, width, vals);
    load_cached(w, width, ws);
    const float inv = inverse_rms(row, vals, width, eps);
    int8_t* qs = acts.qs + static_cast<int64_t>(blockIdx.x) * acts.n_cols_padded;
    float2* ds = acts.ds + static_cast<int64_t>(blockIdx.x) * (acts.n_cols_padded / 32);
    // Whole warps are in or out of each condition below (the padded width is a multiple of 512).
#pragma unroll
    for (int i = 0; i < kCached; ++i) {
        const int64_t c = column(i);
        if (c < acts.n_cols_padded) {
            const float v = c < width ? vals[i] * inv * ws[i] : 0.0f;
            if (c < width) dst[c] = v;
            quantize_block32(v, c, qs, ds);
        }
    }
    for (int64_t c = column(kCached); c < acts.n_cols_padded; c += blockDim.x) {
        const float v = c < width ? row[c] * inv * w[c] : 0.0f;
        if (c < width) dst[c] = v;
        quantize_block32(v, c, qs, ds);
    }
}

// A row is one block, so decode steps (a row or a few) are latency-bound: wide rows get many
// threads, each with a few columns. Both forms pick the same size so their sums agree bit for bit.
int threads_for(int64_t width) {
    if (width >= 4 * kMaxThreads) return kMaxThreads;
    if (width >= 1024) return 256;
    return 64;
}

}  // namespace

void rms_norm(const float* x, const float* w, float eps, int64_t width, int64_t n_rows, float* out, gpuStream_t stream) {
    if (n_rows == 0) return;
    launch(rms_norm_kernel, static_cast<unsigned>(n_rows), threads_for(width), 0, stream, x, w, eps,
           width, out);
}

void rms_norm_quant(const float* x, const float* w, float eps, int64_t width, int64_t n_rows, float* out,
                    QuantizedActs acts, gpuStream_t stream) {
    if (n_rows == 0) return;
    launch(rms_norm_quant_kernel, static_cast<unsigned>(n_rows), threads_for(width), 0, stream, x,
           w, eps, width, out, acts);
}

}  // namespace rf::gpu
