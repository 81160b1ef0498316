// Embedding lookup and whole-matrix dequantization from the packed weight layouts.
#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/gpu_launch.cuh"
#include "backend/gpu/ops.h"
#include "backend/gpu/packed_dequant.cuh"

namespace rf::gpu {
namespace {

constexpr int kThreads = 128;

// One thread per 32-element chunk of each requested row.
__global__ void get_rows_kernel(DeviceMatrix table, const int32_t* tokens, int64_t n_tokens, float* out) {
    wait_for_predecessor();
    const int64_t chunks = table.n_cols / 32;
    const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx >= n_tokens * chunks) return;
    const int64_t t = idx / chunks;
    const int64_t chunk = idx % chunks;
    dequant_chunk32(table, tokens[t], chunk, out + t * table.n_cols + chunk * 32);
}

__global__ void dequantize_f16_kernel(DeviceMatrix w, uint16_t* out) {
    wait_for_predecessor();
    const int64_t chunks = w.n_cols / 32;
    const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx >= w.n_rows * chunks) return;
    const int64_t row = idx / chunks;
    const int64_t chunk = idx % chunks;
    float values[32];
    dequant_chunk32(w, row, chunk, values);
    // 64 bytes of halves as four 16-byte stores.
    int4* dst = reinterpret_cast<int4*>(out + row * w.n_cols + chunk * 32);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
        __half2 h[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) h[i] = __floats2half2_rn(values[8 * k + 2 * i], values[8 * k + 2 * i + 1]);
        dst[k] = *reinterpret_cast<const int4*>(h);
    }
}

}  // namespace

void get_rows(const DeviceMatrix& table, const int32_t* tokens, int64_t n_tokens, float* out, gpuStream_t stream) {
    const int64_t n = n_tokens * (table.n_cols / 32);
    if (n == 0) return;
    launch(get_rows_kernel, static_cast<unsigned>((n + kThreads - 1) / kThreads), kThreads, 0,
           stream, table, tokens, n_tokens, out);
}

void dequantize_to_f16(const DeviceMatrix& w, uint16_t* out, gpuStream_t stream) {
    const int64_t n = w.n_rows * (w.n_cols / 32);
    if (n == 0) return;
    launch(dequantize_f16_kernel, static_cast<unsigned>((n + kThreads - 1) / kThreads), kThreads, 0,
           stream, w, out);
}

}  // namespace rf::gpu
