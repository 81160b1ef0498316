// RMSNorm: one thread block per row, sum of squares reduced across warps in shared memory.
#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/ops.h"

namespace rf::gpu {
namespace {

constexpr int kThreads = 256;

__global__ void rms_norm_kernel(const float* __restrict__ x, const float* __restrict__ w, float eps, int64_t width,
                                float* __restrict__ out) {
    const float* row = x + static_cast<int64_t>(blockIdx.x) * width;
    float* dst = out + static_cast<int64_t>(blockIdx.x) * width;
    float sum = 0.0f;
    for (int64_t c = threadIdx.x; c < width; c += blockDim.x) sum += row[c] * row[c];
    sum = warp_sum(sum);
    __shared__ float partial[kThreads / 32];
    const int warp = threadIdx.x / RF_WARP_SIZE;
    const int n_warps = blockDim.x / RF_WARP_SIZE;
    if (threadIdx.x % RF_WARP_SIZE == 0) partial[warp] = sum;
    __syncthreads();
    float total = 0.0f;
    for (int i = 0; i < n_warps; ++i) total += partial[i];
    const float inv = rsqrtf(total / static_cast<float>(width) + eps);
    for (int64_t c = threadIdx.x; c < width; c += blockDim.x) dst[c] = row[c] * inv * w[c];
}

}  // namespace

void rms_norm(const float* x, const float* w, float eps, int64_t width, int64_t n_rows, float* out, gpuStream_t stream) {
    if (n_rows == 0) return;
    const int threads = width >= kThreads ? kThreads : 64;
    rms_norm_kernel<<<static_cast<unsigned>(n_rows), threads, 0, stream>>>(x, w, eps, width, out);
    RF_GPU_CHECK_LAUNCH();
}

}  // namespace rf::gpu
