// Scalar reference quantize / dequantize: the oracle every optimised kernel is tested against.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/types.h"

namespace rf::quant {

// Dequantizes `n` elements (a multiple of the type's block size) of any type to float.
// For I8..I64 the integer value is converted; for F64 the value is rounded to float.
void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);

// True when quantize_row supports `type`.
bool can_quantize(GgmlType type);

// Quantizes `n` floats (a multiple of the block size) into `dst`; returns bytes written.
// `importance` (n weights, may be null) steers the error-weighted search of K/i-quants.
size_t quantize_row(GgmlType type, const float* src, void* dst, int64_t n,
                    const float* importance = nullptr);

}  // namespace rf::quant
