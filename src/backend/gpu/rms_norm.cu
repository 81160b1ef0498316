// RMSNorm: one thread block per row, sum of squares reduced across warps in shared memory;
// optionally fused with the activation quantization of the mat-vec that reads the result.
#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/ops.h"

namespace rf::gpu {
namespace {

constexpr int kMaxThreads = 1024;

// 1 / rms of one row (+eps), reduced over the thread block; every thread gets it.
__device__ float inverse_rms(const float* __restrict__ row, int64_t width, float eps) {
    float sum = 0.0f;
    for (int64_t c = threadIdx.x; c < width; c += blockDim.x) sum += row[c] * row[c];
    sum = warp_sum(sum);
    __shared__ float partial[kMaxThreads / 32];
    const int warp = threadIdx.x / RF_WARP_SIZE;
    const int n_warps = blockDim.x / RF_WARP_SIZE;
    if (threadIdx.x % RF_WARP_SIZE == 0) partial[warp] = sum;
    __syncthreads();
    float total = 0.0f;
    for (int i = 0; i < n_warps; ++i) total += partial[i];
    return rsqrtf(total / static_cast<float>(width) + eps);
}

// One block per row.
__global__ void rms_norm_kernel(const float* __restrict__ x, const float* __restrict__ w, float eps, int64_t width,
                                float* __restrict__ out) {
    const float* row = x + static_cast<int64_t>(blockIdx.x) * width;
    float* dst = out + static_cast<int64_t>(blockIdx.x) * width;
    const float inv = inverse_rms(row, width, eps);
    for (int64_t c = threadIdx.x; c < width; c += blockDim.x) dst[c] = row[c] * inv * w[c];
}

// The same, also writing the normalised row quantized for the integer mat-vec. The column loop
// runs over the padded width (a multiple of the block size) so every lane takes part in each
// 32-column block's reductions; width is a multiple of 32.
__global__ void rms_norm_quant_kernel(const float* __restrict__ x, const float* __restrict__ w, float eps,
                                      int64_t width, float* __restrict__ out, QuantizedActs acts) {
    const float* row = x + static_cast<int64_t>(blockIdx.x) * width;
    float* dst = out + static_cast<int64_t>(blockIdx.x) * width;
    const float inv = inverse_rms(row, width, eps);
    int8_t* qs = acts.qs + static_cast<int64_t>(blockIdx.x) * acts.n_cols_padded;
    float2* ds = acts.ds + static_cast<int64_t>(blockIdx.x) * (acts.n_cols_padded / 32);
    for (int64_t c = threadIdx.x; c < acts.n_cols_padded; c += blockDim.x) {
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
    rms_norm_kernel<<<static_cast<unsigned>(n_rows), threads_for(width), 0, stream>>>(x, w, eps, width, out);
    RF_GPU_CHECK_LAUNCH();
}

void rms_norm_quant(const float* x, const float* w, float eps, int64_t width, int64_t n_rows, float* out,
                    QuantizedActs acts, gpuStream_t stream) {
    if (n_rows == 0) return;
    rms_norm_quant_kernel<<<static_cast<unsigned>(n_rows), threads_for(width), 0, stream>>>(x, w, eps, width, out,
                                                                                         acts);
    RF_GPU_CHECK_LAUNCH();
}

}  // namespace rf::gpu
