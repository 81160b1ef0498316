// Quantized matrix multiplication on the CPU: the weights are read in their GGUF type directly.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/thread_pool.h"
#include "quant/types.h"

namespace rf::cpu {

// How a weight's bytes are arranged.
enum class WeightLayout : uint8_t {
    kRows,     // GGUF: row after row
    kPacked8,  // pack_weights(): groups of 8 rows interleaved (see pack_weights)
};

// A 2-D weight as stored in GGUF: n_rows rows of n_cols elements each (n_cols = ne[0]).
// For 3-D expert tensors, point `data` at one expert's first row.
struct MatrixView {
    quant::GgmlType type = quant::GgmlType::kF32;
    const void* data = nullptr;
    int64_t n_cols = 0;           // ne[0], the reduction dimension
    int64_t n_rows = 0;           // ne[1], output features
    size_t row_stride_bytes = 0;  // bytes from one row to the next (kPacked8: exactly one row)
    WeightLayout layout = WeightLayout::kRows;
};

// y (n_tokens, n_rows) = x (n_tokens, n_cols) @ W^T, all row-major float32.
// Activations are quantized on the fly to the type's dot-product partner (Q8_0 / Q8_1 / Q8_K);
// several tokens reuse each weight block (blocked matrix-matrix path for prefill).
void matmul(const MatrixView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool);

// True when `type` has a native (integer dot product) path; other types go through
// dequantize-to-tile.
bool has_native_matmul(quant::GgmlType type);

// ---- packed weights (optional, done once at load time) ----
// For Q4_0, Q8_0, Q4_K and Q6_K, matmul runs about twice as fast per byte on weights repacked
// so that every 8 consecutive rows are interleaved block by block: one SIMD load then feeds 8
// rows and each output lane is one row. The packed matrix has exactly the size of the original
// (n_rows * row bytes) and row r's group starts at byte r / 8 * 8 * row bytes; the last
// n_rows % 8 rows keep the row layout there. A packed view is only valid for matmul().

// True when `type` has a packed layout.
bool can_pack_weights(quant::GgmlType type);
// Repacks `w` (row layout, can_pack_weights(w.type)) into `dst`, which holds
// w.n_rows * row_bytes(w.type, w.n_cols) bytes; returns the packed view of `dst`.
MatrixView pack_weights(const MatrixView& w, void* dst, ThreadPool& pool);

}  // namespace rf::cpu
