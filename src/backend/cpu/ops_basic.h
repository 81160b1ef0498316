// Element-wise and row-wise CPU ops on row-major float activations [n_rows][width]:
// RMSNorm, residual add, bias add, SwiGLU, embedding row lookup.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/types.h"

namespace rf::cpu {

// out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w, for n_rows rows of `width`; out may alias x.
void rms_norm_rows(const float* x, const float* w, float eps, int64_t width, int64_t n_rows,
                   size_t x_stride, float* out, size_t out_stride);
// out[i] = a[i] + b[i]; out may alias a or b.
void add_vec(const float* a, const float* b, float* out, int64_t n);
// out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)); out may alias gate.
void swiglu_vec(const float* gate, const float* up, float* out, int64_t n);
// Dequantizes one row of `width` elements of a GGUF-typed matrix into out.
void dequantize_row_to_float(quant::GgmlType type, const void* row, int64_t width, float* out);

}  // namespace rf::cpu
