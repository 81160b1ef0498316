// Type dispatch of the scalar reference (quant/reference.h) and the plain (non-block) types.
#include "quant/reference.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/check.h"
#include "core/half.h"
#include "quant/dequantize_iq.h"
#include "quant/quantize_iq.h"
#include "quant/reference_detail.h"

namespace rf::quant {
namespace {

// Plain element types are read with memcpy: the source may be any byte offset of a file.
template <class T>
void convert_elements(const void* src, float* dst, int64_t n) {
    const auto* bytes = static_cast<const uint8_t*>(src);
    for (int64_t i = 0; i < n; ++i) {
        T v;
        std::memcpy(&v, bytes + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
        dst[i] = static_cast<float>(v);
    }
}

void dequantize_half(const void* src, float* dst, int64_t n, bool bf16) {
    const auto* bytes = static_cast<const uint8_t*>(src);
    for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, bytes + 2 * i, 2);
        dst[i] = bf16 ? bf16_to_float(h) : fp16_to_float(h);
    }
}

// Grid i-quants live in dequantize_iq.cpp; their blocks are copied to aligned storage first.
template <class Block>
void dequantize_grid(void (*fn)(const Block*, float*, int64_t), const void* src, float* dst,
                     int64_t n) {
    constexpr int64_t kChunk = 16;  // blocks per aligned copy
    Block blocks[kChunk];
    const auto* bytes = static_cast<const uint8_t*>(src);
    for (int64_t done = 0; done < n / kQK_K; done += kChunk) {
        const int64_t count = std::min<int64_t>(kChunk, n / kQK_K - done);
        std::memcpy(blocks, bytes + done * static_cast<int64_t>(sizeof(Block)),
                    static_cast<size_t>(count) * sizeof(Block));
        fn(blocks, dst + done * kQK_K, count * kQK_K);
    }
}

// Grid i-quant quantizers (quantize_iq.cpp) write typed blocks; go through aligned storage.
template <class Block>
void quantize_grid(void (*fn)(const float*, Block*, int64_t, const float*), const float* src,
                   void* dst, int64_t n, const float* importance) {
    Block block;
    auto* bytes = static_cast<uint8_t*>(dst);
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        fn(src + i * kQK_K, &block, kQK_K, importance != nullptr ? importance + i * kQK_K : nullptr);
        std::memcpy(bytes + i * static_cast<int64_t>(sizeof(Block)), &block, sizeof(Block));
    }
}

// F16 / BF16 quantization saturates finite values at the largest finite half instead of
// rounding them to infinity, so a finite tensor always stays finite; infinities and NaN are kept.
uint16_t float_to_fp16_saturating(float v) {
    constexpr float kMaxHalf = 65504.0f;
    if (std::isfinite(v)) v = std::clamp(v, -kMaxHalf, kMaxHalf);
    return float_to_fp16(v);
}

uint16_t float_to_bf16_saturating(float v) {
    const uint16_t h = float_to_bf16(v);
    if (std::isfinite(v) && (h & 0x7fffu) == 0x7f80u) return static_cast<uint16_t>(h - 1);  // inf -> max
    return h;
}

void quantize_half(const float* src, void* dst, int64_t n, bool bf16) {
    auto* bytes = static_cast<uint8_t*>(dst);
    for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = bf16 ? float_to_bf16_saturating(src[i]) : float_to_fp16_saturating(src[i]);
        std::memcpy(bytes + 2 * i, &h, 2);
    }
}

}  // namespace

void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
    const TypeTraits& t = traits(type);
    RF_CHECK_MSG(n >= 0 && n % t.block_size == 0, "dequantize_row: n is not a multiple of the block size");
    const auto* bytes = static_cast<const uint8_t*>(src);
    const int64_t nb = n / t.block_size;
    switch (type) {
        case GgmlType::kF32: std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float)); return;
        case GgmlType::kF16: dequantize_half(src, dst, n, false); return;
        case GgmlType::kBF16: dequantize_half(src, dst, n, true); return;
        case GgmlType::kF64: convert_elements<double>(src, dst, n); return;
        case GgmlType::kI8: convert_elements<int8_t>(src, dst, n); return;
        case GgmlType::kI16: convert_elements<int16_t>(src, dst, n); return;
        case GgmlType::kI32: convert_elements<int32_t>(src, dst, n); return;
        case GgmlType::kI64: convert_elements<int64_t>(src, dst, n); return;
        case GgmlType::kQ4_0: detail::dequantize_q4_0(bytes, dst, nb); return;
        case GgmlType::kQ4_1: detail::dequantize_q4_1(bytes, dst, nb); return;
        case GgmlType::kQ5_0: detail::dequantize_q5_0(bytes, dst, nb); return;
        case GgmlType::kQ5_1: detail::dequantize_q5_1(bytes, dst, nb); return;
        case GgmlType::kQ8_0: detail::dequantize_q8_0(bytes, dst, nb); return;
        case GgmlType::kQ8_1: detail::dequantize_q8_1(bytes, dst, nb); return;
        case GgmlType::kQ2_K: detail::dequantize_q2_k(bytes, dst, nb); return;
        case GgmlType::kQ3_K: detail::dequantize_q3_k(bytes, dst, nb); return;
        case GgmlType::kQ4_K: detail::dequantize_q4_k(bytes, dst, nb); return;
        case GgmlType::kQ5_K: detail::dequantize_q5_k(bytes, dst, nb); return;
        case GgmlType::kQ6_K: detail::dequantize_q6_k(bytes, dst, nb); return;
        case GgmlType::kQ8_K: detail::dequantize_q8_k(bytes, dst, nb); return;
        case GgmlType::kIQ4_NL: detail::dequantize_iq4_nl(bytes, dst, nb); return;
        case GgmlType::kIQ4_XS: detail::dequantize_iq4_xs(bytes, dst, nb); return;
        case GgmlType::kTQ1_0: detail::dequantize_tq1_0(bytes, dst, nb); return;
        case GgmlType::kTQ2_0: detail::dequantize_tq2_0(bytes, dst, nb); return;
        case GgmlType::kMXFP4: detail::dequantize_mxfp4(bytes, dst, nb); return;
        case GgmlType::kIQ1_S: dequantize_grid(dequantize_row_iq1_s, src, dst, n); return;
        case GgmlType::kIQ1_M: dequantize_grid(dequantize_row_iq1_m, src, dst, n); return;
        case GgmlType::kIQ2_XXS: dequantize_grid(dequantize_row_iq2_xxs, src, dst, n); return;
        case GgmlType::kIQ2_XS: dequantize_grid(dequantize_row_iq2_xs, src, dst, n); return;
        case GgmlType::kIQ2_S: dequantize_grid(dequantize_row_iq2_s, src, dst, n); return;
        case GgmlType::kIQ3_XXS: dequantize_grid(dequantize_row_iq3_xxs, src, dst, n); return;
        case GgmlType::kIQ3_S: dequantize_grid(dequantize_row_iq3_s, src, dst, n); return;
    }
    RF_CHECK_MSG(false, "dequantize_row: unhandled type");
}

bool can_quantize(GgmlType type) {
    switch (type) {
        case GgmlType::kF32:
        case GgmlType::kF16:
        case GgmlType::kBF16:
        case GgmlType::kQ4_0:
        case GgmlType::kQ4_1:
        case GgmlType::kQ5_0:
        case GgmlType::kQ5_1:
        case GgmlType::kQ8_0:
        case GgmlType::kQ8_1:
        case GgmlType::kQ2_K:
        case GgmlType::kQ3_K:
        case GgmlType::kQ4_K:
        case GgmlType::kQ5_K:
        case GgmlType::kQ6_K:
        case GgmlType::kQ8_K:
        case GgmlType::kIQ4_NL:
        case GgmlType::kIQ4_XS:
        case GgmlType::kTQ1_0:
        case GgmlType::kTQ2_0:
        case GgmlType::kMXFP4:
        case GgmlType::kIQ2_XXS:  // the grid i-quants: quantize_iq.cpp
        case GgmlType::kIQ2_XS:
        case GgmlType::kIQ2_S:
        case GgmlType::kIQ3_XXS:
        case GgmlType::kIQ3_S:
        case GgmlType::kIQ1_S: return true;
        default: return false;
    }
}

size_t quantize_row(GgmlType type, const float* src, void* dst, int64_t n, const float* importance) {
    RF_CHECK_MSG(can_quantize(type), "quantize_row: type has no quantizer (check can_quantize)");
    const TypeTraits& t = traits(type);
    RF_CHECK_MSG(n >= 0 && n % t.block_size == 0, "quantize_row: n is not a multiple of the block size");
    auto* bytes = static_cast<uint8_t*>(dst);
    const float* w = importance;
    switch (type) {
        case GgmlType::kF32: std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float)); break;
        case GgmlType::kF16: quantize_half(src, dst, n, false); break;
        case GgmlType::kBF16: quantize_half(src, dst, n, true); break;
        case GgmlType::kQ4_0: detail::quantize_q4_0(src, bytes, n, w); break;
        case GgmlType::kQ4_1: detail::quantize_q4_1(src, bytes, n, w); break;
        case GgmlType::kQ5_0: detail::quantize_q5_0(src, bytes, n, w); break;
        case GgmlType::kQ5_1: detail::quantize_q5_1(src, bytes, n, w); break;
        case GgmlType::kQ8_0: detail::quantize_q8_0(src, bytes, n); break;
        case GgmlType::kQ8_1: detail::quantize_q8_1(src, bytes, n); break;
        case GgmlType::kQ2_K: detail::quantize_q2_k(src, bytes, n, w); break;
        case GgmlType::kQ3_K: detail::quantize_q3_k(src, bytes, n, w); break;
        case GgmlType::kQ4_K: detail::quantize_q4_k(src, bytes, n, w); break;
        case GgmlType::kQ5_K: detail::quantize_q5_k(src, bytes, n, w); break;
        case GgmlType::kQ6_K: detail::quantize_q6_k(src, bytes, n, w); break;
        case GgmlType::kQ8_K: detail::quantize_q8_k(src, bytes, n); break;
        case GgmlType::kIQ4_NL: detail::quantize_iq4_nl(src, bytes, n, w); break;
        case GgmlType::kIQ4_XS: detail::quantize_iq4_xs(src, bytes, n, w); break;
        case GgmlType::kTQ1_0: detail::quantize_tq1_0(src, bytes, n, w); break;
        case GgmlType::kTQ2_0: detail::quantize_tq2_0(src, bytes, n, w); break;
        case GgmlType::kMXFP4: detail::quantize_mxfp4(src, bytes, n, w); break;
        case GgmlType::kIQ2_XXS: quantize_grid(quantize_row_iq2_xxs, src, dst, n, w); break;
        case GgmlType::kIQ2_XS: quantize_grid(quantize_row_iq2_xs, src, dst, n, w); break;
        case GgmlType::kIQ2_S: quantize_grid(quantize_row_iq2_s, src, dst, n, w); break;
        case GgmlType::kIQ3_XXS: quantize_grid(quantize_row_iq3_xxs, src, dst, n, w); break;
        case GgmlType::kIQ3_S: quantize_grid(quantize_row_iq3_s, src, dst, n, w); break;
        case GgmlType::kIQ1_S: quantize_grid(quantize_row_iq1_s, src, dst, n, w); break;
        default: RF_CHECK_MSG(false, "quantize_row: unhandled type");
    }
    return row_bytes(type, static_cast<size_t>(n));
}

}  // namespace rf::quant
