// Plain round-to-nearest quantizers (no scale search) for bulk work where the searching reference
// quantizers of quant/reference.h are needlessly slow, e.g. random-weight models (`synth`).
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/types.h"

namespace rf::quant {

// True when `type` has its own round-to-nearest quantizer (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K,
// Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS). Other types go through quantize_row in quantize_row_fast.
bool has_fast_quantizer(GgmlType type);

// Quantizes `n` floats (a multiple of the block size) into `dst` and returns the bytes written.
// Each block's scale comes from its extreme values alone (as ggml's reference quantizers do for
// the 32-element types); every element is then rounded against the stored fp16 scales. Inputs
// are expected finite; NaN and infinities still give a valid block (no undefined behaviour).
// About 10-100x faster than quantize_row, with a somewhat larger error for the K-quants.
size_t quantize_row_fast(GgmlType type, const float* src, void* dst, int64_t n);

}  // namespace rf::quant
