// Reference quantizers for the grid i-quants: an importance-weighted least-squares search over
// each format's codebook. Deterministic; about 0.5-2 ms per 256-value block on one core, plus a
// one-off neighbour index per format on first use (up to ~1.5 s for IQ1_S).
#pragma once

#include <cstdint>

#include "quant/blocks.h"

namespace rf::quant {

// Each quantizes `n` floats (a multiple of kQK_K) into n / kQK_K consecutive blocks.
// `importance` (n non-negative weights, may be null) weights each element's squared error;
// without it every element counts the same. NaN inputs count as 0, infinities are clamped.
void quantize_row_iq2_xxs(const float* src, BlockIQ2_XXS* dst, int64_t n, const float* importance);
void quantize_row_iq2_xs(const float* src, BlockIQ2_XS* dst, int64_t n, const float* importance);
void quantize_row_iq2_s(const float* src, BlockIQ2_S* dst, int64_t n, const float* importance);
void quantize_row_iq3_xxs(const float* src, BlockIQ3_XXS* dst, int64_t n, const float* importance);
void quantize_row_iq3_s(const float* src, BlockIQ3_S* dst, int64_t n, const float* importance);
void quantize_row_iq1_s(const float* src, BlockIQ1_S* dst, int64_t n, const float* importance);

}  // namespace rf::quant
