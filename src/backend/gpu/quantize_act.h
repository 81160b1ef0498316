// Activation quantization for the integer mat-vec kernels: float rows -> int8 + per-32 scales.
#pragma once

#include <cstdint>

#include "backend/gpu/gpu_runtime.h"

namespace rf::gpu {

// Activations of n_tokens rows quantized in blocks of 32: q = round(x / d), d = max|x| / 127.
// Row-major, padded so every row starts 16-byte aligned:
//   qs: [n_tokens][n_cols_padded] int8     (n_cols_padded = n_cols rounded up to 512)
//   ds: [n_tokens][n_cols_padded / 32] float2 = {d, d * sum(q)}
struct QuantizedActs {
    int8_t* qs = nullptr;
    float2* ds = nullptr;
    int64_t n_cols_padded = 0;
};

inline int64_t padded_act_cols(int64_t n_cols) { return (n_cols + 511) / 512 * 512; }

// x: [n_tokens][n_cols] float (n_cols a multiple of 32). Padding columns are written as zeros.
void quantize_acts(const float* x, int64_t n_cols, int n_tokens, QuantizedActs out, gpuStream_t stream);

}  // namespace rf::gpu
