// Quantized matrix multiplication on the CPU: the weights are read in their GGUF type directly.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/thread_pool.h"
#include "quant/types.h"

namespace rf::cpu {

// A 2-D weight as stored in GGUF: n_rows rows of n_cols elements each (n_cols = ne[0]).
// For 3-D expert tensors, point `data` at one expert's first row.
struct MatrixView {
    quant::GgmlType type = quant::GgmlType::kF32;
    const void* data = nullptr;
    int64_t n_cols = 0;           // ne[0], the reduction dimension
    int64_t n_rows = 0;           // ne[1], output features
    size_t row_stride_bytes = 0;  // bytes from one row to the next
};

// y (n_tokens, n_rows) = x (n_tokens, n_cols) @ W^T, all row-major float32.
// Activations are quantized on the fly to the type's dot-product partner (Q8_0 / Q8_1 / Q8_K);
// several tokens reuse each weight block (blocked matrix-matrix path for prefill).
void matmul(const MatrixView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool);

// True when `type` has a native (integer dot product) path; other types go through
// dequantize-to-tile.
bool has_native_matmul(quant::GgmlType type);

}  // namespace rf::cpu
