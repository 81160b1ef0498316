// Elementwise GPU ops: add, bias, SwiGLU, row gather, fp32 -> fp16.
#include <algorithm>

#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/gpu_launch.cuh"
#include "backend/gpu/ops.h"

namespace rf::gpu {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

__global__ void add_kernel(const float* a, const float* b, float* out, int64_t n) {
    wait_for_predecessor();
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) out[i] = a[i] + b[i];
}

__global__ void add_bias_kernel(float* x, const float* bias, int64_t width, int64_t n) {
    wait_for_predecessor();
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) x[i] += bias[i % width];
}

__global__ void swiglu_kernel(const float* gate, const float* up, float* out, int64_t n) {
    wait_for_predecessor();
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

__global__ void gather_rows_kernel(const float* x, const int32_t* rows, int64_t width, float* out) {
    wait_for_predecessor();
    const int64_t r = blockIdx.y;
    const float* src = x + static_cast<int64_t>(rows[r]) * width;
    for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < width; c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        out[r * width + c] = src[c];
    }
}

__global__ void scatter_add_rows_kernel(const float* src, const int32_t* rows, const float* weights, int64_t width,
                                        float* out) {
    wait_for_predecessor();
    const int64_t r = blockIdx.y;
    float* dst = out + static_cast<int64_t>(rows[r]) * width;
    const float w = weights[r];
    for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < width; c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        dst[c] += w * src[r * width + c];
    }
}

__global__ void f32_to_f16_kernel(const float* x, uint16_t* out, int64_t n) {
    wait_for_predecessor();
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) out[i] = __half_as_ushort(__float2half_rn(x[i]));
}

}  // namespace

void add(const float* a, const float* b, float* out, int64_t n, gpuStream_t stream) {
    launch(add_kernel, blocks_for(n), kThreads, 0, stream, a, b, out, n);
}

void add_bias(float* x, const float* bias, int64_t width, int64_t n_rows, gpuStream_t stream) {
    launch(add_bias_kernel, blocks_for(width * n_rows), kThreads, 0, stream, x, bias, width, width * n_rows);
}

void swiglu(const float* gate, const float* up, float* out, int64_t n, gpuStream_t stream) {
    launch(swiglu_kernel, blocks_for(n), kThreads, 0, stream, gate, up, out, n);
}

void gather_rows(const float* x, const int32_t* rows, int64_t n_out, int64_t width, float* out, gpuStream_t stream) {
    if (n_out == 0) return;
    const dim3 grid(static_cast<unsigned>(std::min<int64_t>((width + kThreads - 1) / kThreads, 64)), static_cast<unsigned>(n_out));
    launch(gather_rows_kernel, grid, kThreads, 0, stream, x, rows, width, out);
}

void scatter_add_rows(const float* src, const int32_t* rows, const float* weights, int64_t n, int64_t width,
                      float* out, gpuStream_t stream) {
    if (n == 0) return;
    const dim3 grid(static_cast<unsigned>(std::min<int64_t>((width + kThreads - 1) / kThreads, 64)), static_cast<unsigned>(n));
    launch(scatter_add_rows_kernel, grid, kThreads, 0, stream, src, rows, weights, width, out);
}

void f32_to_f16(const float* x, uint16_t* out, int64_t n, gpuStream_t stream) {
    launch(f32_to_f16_kernel, blocks_for(n), kThreads, 0, stream, x, out, n);
}

}  // namespace rf::gpu
