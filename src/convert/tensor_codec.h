// Row-wise tensor conversion between any two GGUF types through a float row, for quantize
// (stored type -> target type) and synth (generated floats -> target type).
#pragma once

#include <cstdint>
#include <span>

#include "quant/types.h"

namespace rf::convert {

// How rows are quantized: kSearch uses the error-weighted reference quantizers, kFast plain
// round-to-nearest (quant/quantize_fast.h) where the type has one (10-100x faster).
enum class Encoding { kSearch, kFast };

// Converts n_rows rows of n_cols elements stored as `src_type` into `dst_type`.
// `dst` must hold row_bytes(dst_type, n_cols) * n_rows bytes. Same types are copied.
void convert_rows(quant::GgmlType src_type, const uint8_t* src, quant::GgmlType dst_type,
                  uint8_t* dst, int64_t n_cols, int64_t n_rows,
                  Encoding encoding = Encoding::kSearch);

// Quantizes one row of floats (n_cols, a multiple of dst_type's block size) into `dst`.
void encode_row(const float* src, quant::GgmlType dst_type, uint8_t* dst, int64_t n_cols,
                Encoding encoding = Encoding::kSearch);

}  // namespace rf::convert
