// Per-type entry points behind quant/reference.h (internal to the quant module and its tests).
// Dequantizers read `n_blocks` consecutive blocks from unaligned bytes; quantizers write
// n / block_size blocks and take optional per-element importance weights.
#pragma once

#include <cstdint>
#include <cstring>

namespace rf::quant::detail {

// Blocks are copied out of / into byte buffers so callers need no alignment (mmapped files,
// byte vectors) and the code stays free of type-punning.
template <class Block>
inline Block load_block(const uint8_t* bytes, int64_t index) {
    Block block;
    std::memcpy(&block, bytes + index * static_cast<int64_t>(sizeof(Block)), sizeof(Block));
    return block;
}
template <class Block>
inline void store_block(const Block& block, uint8_t* bytes, int64_t index) {
    std::memcpy(bytes + index * static_cast<int64_t>(sizeof(Block)), &block, sizeof(Block));
}

// ---- dequantize_blocks.cpp: (src bytes, dst floats, number of blocks) -----------------------
void dequantize_q4_0(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q4_1(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q5_0(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q5_1(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q8_0(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q8_1(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_iq4_nl(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_mxfp4(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q2_k(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q3_k(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q4_k(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q5_k(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q6_k(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q8_k(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_iq4_xs(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_tq1_0(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_tq2_0(const uint8_t* src, float* dst, int64_t n_blocks);

// ---- quantize_legacy.cpp: 32-element formats and the ternary / FP4 formats ------------------
// (src floats, dst bytes, n elements, importance or null)
void quantize_q4_0(const float* x, uint8_t* dst, int64_t n, const float* importance);
void quantize_q4_1(const float* x, uint8_t* dst, int64_t n, const float* importance);
void quantize_q5_0(const float* x, uint8_t* dst, int64_t n, const float* importance);
void quantize_q5_1(const float* x, uint8_t* dst, int64_t n, const float* importance);
void quantize_q8_0(const float* x, uint8_t* dst, int64_t n);
void quantize_q8_1(const float* x, uint8_t* dst, int64_t n);
void quantize_mxfp4(const float* x, uint8_t* dst, int64_t n, const float* importance);
void quantize_tq1_0(const float* x, uint8_t* dst, int64_t n, const float* importance);
void quantize_tq2_0(const float* x, uint8_t* dst, int64_t n, const float* importance);

// ---- quantize_k.cpp: K-quants ---------------------------------------------------------------
void quantize_q2_k(const float* x, uint8_t* dst, int64_t n, const float* importance);
void quantize_q3_k(const float* x, uint8_t* dst, int64_t n, const float* importance);
void quantize_q4_k(const float* x, uint8_t* dst, int64_t n, const float* importance);
void quantize_q5_k(const float* x, uint8_t* dst, int64_t n, const float* importance);
void quantize_q6_k(const float* x, uint8_t* dst, int64_t n, const float* importance);
void quantize_q8_k(const float* x, uint8_t* dst, int64_t n);

// ---- quantize_iq4.cpp: non-linear 4-bit ------------------------------------------------------
void quantize_iq4_nl(const float* x, uint8_t* dst, int64_t n, const float* importance);
void quantize_iq4_xs(const float* x, uint8_t* dst, int64_t n, const float* importance);

}  // namespace rf::quant::detail
