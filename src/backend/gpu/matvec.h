// Quantized matrix x small-batch products on the GPU, reading the packed weights directly.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/gpu/gpu_runtime.h"
#include "backend/gpu/quantize_act.h"
#include "quant/types.h"

namespace rf::gpu {

// A PackedMatrix (gpu_matrix.h) resident in device memory.
struct DeviceMatrix {
    quant::GgmlType type = quant::GgmlType::kF32;
    int64_t n_rows = 0;
    int64_t n_cols = 0;
    const uint8_t* qs = nullptr;
    const uint16_t* scales = nullptr;  // fp16 bits
    size_t qs_row_bytes = 0;
    size_t scale_row_count = 0;
};

inline constexpr int kMaxMatvecTokens = 8;

// y [n_tokens][n_rows] = x [n_tokens][n_cols] @ W^T for 1 <= n_tokens <= kMaxMatvecTokens.
// Quantized types read `acts` (quantize_acts of x); F16 reads the float rows `x` directly.
// `warp_size` is the device's (32 or 64).
void matvec(const DeviceMatrix& w, const QuantizedActs& acts, const float* x, int n_tokens, float* y,
            int warp_size, gpuStream_t stream);

}  // namespace rf::gpu
