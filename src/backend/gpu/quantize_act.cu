// Activation quantization kernel: one warp-sized group of threads per 32-element block.
#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/gpu_launch.cuh"
#include "backend/gpu/quantize_act.h"

namespace rf::gpu {
namespace {

// One thread per element; 32 consecutive threads form one block (a warp or half a wavefront).
__global__ void quantize_acts_kernel(const float* __restrict__ x, int64_t n_cols, int64_t n_cols_padded,
                                     int8_t* __restrict__ qs, float2* __restrict__ ds) {
    wait_for_predecessor();
    const int64_t col = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const int token = blockIdx.y;
    if (col >= n_cols_padded) return;
    const float v = col < n_cols ? x[token * n_cols + col] : 0.0f;
    quantize_block32(v, col, qs + token * n_cols_padded, ds + token * (n_cols_padded / 32));
}

}  // namespace

void quantize_acts(const float* x, int64_t n_cols, int n_tokens, QuantizedActs out, gpuStream_t stream) {
    constexpr int kThreads = 256;
    const dim3 grid(static_cast<unsigned>((out.n_cols_padded + kThreads - 1) / kThreads), static_cast<unsigned>(n_tokens));
    launch(quantize_acts_kernel, grid, kThreads, 0, stream, x, n_cols, out.n_cols_padded, out.qs, out.ds);
}

}  // namespace rf::gpu
