// Scalar reference dequantization of the grid-based i-quants (IQ1_S/M, IQ2_XXS/XS/S, IQ3_XXS/S).
#pragma once

#include <cstdint>

#include "quant/blocks.h"

namespace rf::quant {

// Each dequantizes `n` elements (a multiple of kQK_K) from consecutive blocks into `dst`.
void dequantize_row_iq1_s(const BlockIQ1_S* src, float* dst, int64_t n);
void dequantize_row_iq1_m(const BlockIQ1_M* src, float* dst, int64_t n);
void dequantize_row_iq2_xxs(const BlockIQ2_XXS* src, float* dst, int64_t n);
void dequantize_row_iq2_xs(const BlockIQ2_XS* src, float* dst, int64_t n);
void dequantize_row_iq2_s(const BlockIQ2_S* src, float* dst, int64_t n);
void dequantize_row_iq3_xxs(const BlockIQ3_XXS* src, float* dst, int64_t n);
void dequantize_row_iq3_s(const BlockIQ3_S* src, float* dst, int64_t n);

}  // namespace rf::quant
