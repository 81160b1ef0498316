// Type dispatch of the scalar reference (quant/reference.h): one table says, per type, how a
// row is dequantized and (where supported) quantized. Also the plain (non-block) types.
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

// Uniform row signatures: (src bytes, dst floats, n elements) and
// (src floats, dst bytes, n elements, importance or null).
using RowDequantizer = void (*)(const uint8_t* src, float* dst, int64_t n);
using RowQuantizer = void (*)(const float* src, uint8_t* dst, int64_t n, const float* importance);

// ---- plain types
// ---------------------------------------------------------------------------------

// Plain element types are read with memcpy: the source may be any byte offset of a file.
template <class T>
void convert_elements(const uint8_t* src, float* dst, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        T v;
        std::memcpy(&v, src + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
        dst[i] = static_cast<float>(v);
    }
}

template <bool kBf16>
void dequantize_half(const uint8_t* src, float* dst, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = kBf16 ? bf16_to_float(h) : fp16_to_float(h);
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
    const bool overflowed = std::isfinite(v) && (h & 0x7fffu) == 0x7f80u;
    return overflowed ? static_cast<uint16_t>(h - 1) : h;  // inf -> largest finite
}

template <bool kBf16>
void quantize_half(const float* src, uint8_t* dst, int64_t n, const float* /*importance*/) {
    for (int64_t i = 0; i < n; ++i) {
        const uint16_t h =
            kBf16 ? float_to_bf16_saturating(src[i]) : float_to_fp16_saturating(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
    }
}

void copy_f32_out(const uint8_t* src, float* dst, int64_t n) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}
void copy_f32_in(const float* src, uint8_t* dst, int64_t n, const float* /*importance*/) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

// ---- adapters --------------------------------------------------------------------------------

// Block dequantizers take a block count.
template <void (*kFn)(const uint8_t*, float*, int64_t), int64_t kBlockSize>
void per_block(const uint8_t* src, float* dst, int64_t n) {
    kFn(src, dst, n / kBlockSize);
}

// The 8-bit formats have no use for importance.
template <void (*kFn)(const float*, uint8_t*, int64_t)>
void without_importance(const float* src, uint8_t* dst, int64_t n, const float* /*importance*/) {
    kFn(src, dst, n);
}

// Grid i-quants (dequantize_iq.cpp) take typed blocks; they are copied to aligned storage first.
template <class Block, void (*kFn)(const Block*, float*, int64_t)>
void grid_dequantize(const uint8_t* src, float* dst, int64_t n) {
    constexpr int64_t kChunk = 16;  // blocks per aligned copy
    Block blocks[kChunk];
    for (int64_t done = 0; done < n / kQK_K; done += kChunk) {
        const int64_t count = std::min<int64_t>(kChunk, n / kQK_K - done);
        std::memcpy(blocks, src + done * static_cast<int64_t>(sizeof(Block)),
                    static_cast<size_t>(count) * sizeof(Block));
        kFn(blocks, dst + done * kQK_K, count * kQK_K);
    }
}

// Grid i-quant quantizers (quantize_iq.cpp) write typed blocks: one block at a time via a copy.
template <class Block, void (*kFn)(const float*, Block*, int64_t, const float*)>
void grid_quantize(const float* src, uint8_t* dst, int64_t n, const float* importance) {
    Block block;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        kFn(src + i * kQK_K, &block, kQK_K,
            importance != nullptr ? importance + i * kQK_K : nullptr);
        std::memcpy(dst + i * static_cast<int64_t>(sizeof(Block)), &block, sizeof(Block));
    }
}

// ---- the table -------------------------------------------------------------------------------

struct Codec {
    GgmlType type;
    RowDequantizer dequantize;
    RowQuantizer quantize;  // null: no reference quantizer
};

using namespace detail;

constexpr Codec kCodecs[] = {
    {GgmlType::kF32, copy_f32_out, copy_f32_in},
    {GgmlType::kF16, dequantize_half<false>, quantize_half<false>},
    {GgmlType::kBF16, dequantize_half<true>, quantize_half<true>},
    {GgmlType::kF64, convert_elements<double>, nullptr},
    {GgmlType::kI8, convert_elements<int8_t>, nullptr},
    {GgmlType::kI16, convert_elements<int16_t>, nullptr},
    {GgmlType::kI32, convert_elements<int32_t>, nullptr},
    {GgmlType::kI64, convert_elements<int64_t>, nullptr},
    {GgmlType::kQ4_0, per_block<dequantize_q4_0, kQK32>, quantize_q4_0},
    {GgmlType::kQ4_1, per_block<dequantize_q4_1, kQK32>, quantize_q4_1},
    {GgmlType::kQ5_0, per_block<dequantize_q5_0, kQK32>, quantize_q5_0},
    {GgmlType::kQ5_1, per_block<dequantize_q5_1, kQK32>, quantize_q5_1},
    {GgmlType::kQ8_0, per_block<dequantize_q8_0, kQK32>, without_importance<quantize_q8_0>},
    {GgmlType::kQ8_1, per_block<dequantize_q8_1, kQK32>, without_importance<quantize_q8_1>},
    {GgmlType::kIQ4_NL, per_block<dequantize_iq4_nl, kQK32>, quantize_iq4_nl},
    {GgmlType::kMXFP4, per_block<dequantize_mxfp4, kQK32>, quantize_mxfp4},
    {GgmlType::kQ2_K, per_block<dequantize_q2_k, kQK_K>, quantize_q2_k},
    {GgmlType::kQ3_K, per_block<dequantize_q3_k, kQK_K>, quantize_q3_k},
    {GgmlType::kQ4_K, per_block<dequantize_q4_k, kQK_K>, quantize_q4_k},
    {GgmlType::kQ5_K, per_block<dequantize_q5_k, kQK_K>, quantize_q5_k},
    {GgmlType::kQ6_K, per_block<dequantize_q6_k, kQK_K>, quantize_q6_k},
    {GgmlType::kQ8_K, per_block<dequantize_q8_k, kQK_K>, without_importance<quantize_q8_k>},
    {GgmlType::kIQ4_XS, per_block<dequantize_iq4_xs, kQK_K>, quantize_iq4_xs},
    {GgmlType::kTQ1_0, per_block<dequantize_tq1_0, kQK_K>, quantize_tq1_0},
    {GgmlType::kTQ2_0, per_block<dequantize_tq2_0, kQK_K>, quantize_tq2_0},
    {GgmlType::kIQ1_S, grid_dequantize<BlockIQ1_S, dequantize_row_iq1_s>,
     grid_quantize<BlockIQ1_S, quantize_row_iq1_s>},
    {GgmlType::kIQ1_M, grid_dequantize<BlockIQ1_M, dequantize_row_iq1_m>, nullptr},
    {GgmlType::kIQ2_XXS, grid_dequantize<BlockIQ2_XXS, dequantize_row_iq2_xxs>,
     grid_quantize<BlockIQ2_XXS, quantize_row_iq2_xxs>},
    {GgmlType::kIQ2_XS, grid_dequantize<BlockIQ2_XS, dequantize_row_iq2_xs>,
     grid_quantize<BlockIQ2_XS, quantize_row_iq2_xs>},
    {GgmlType::kIQ2_S, grid_dequantize<BlockIQ2_S, dequantize_row_iq2_s>,
     grid_quantize<BlockIQ2_S, quantize_row_iq2_s>},
    {GgmlType::kIQ3_XXS, grid_dequantize<BlockIQ3_XXS, dequantize_row_iq3_xxs>,
     grid_quantize<BlockIQ3_XXS, quantize_row_iq3_xxs>},
    {GgmlType::kIQ3_S, grid_dequantize<BlockIQ3_S, dequantize_row_iq3_s>,
     grid_quantize<BlockIQ3_S, quantize_row_iq3_s>},
};

const Codec& codec(GgmlType type) {
    for (const Codec& c : kCodecs) {
        if (c.type == type) return c;
    }
    RF_CHECK_MSG(false, "quant reference: type missing from the codec table");
    return kCodecs[0];
}

}  // namespace

void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
    const TypeTraits& t = traits(type);
    RF_CHECK_MSG(n >= 0 && n % t.block_size == 0,
                 "dequantize_row: n is not a multiple of the block size");
    codec(type).dequantize(static_cast<const uint8_t*>(src), dst, n);
}

bool can_quantize(GgmlType type) {
    return codec(type).quantize != nullptr;
}

size_t quantize_row(GgmlType type, const float* src, void* dst, int64_t n,
                    const float* importance) {
    const TypeTraits& t = traits(type);
    RF_CHECK_MSG(n >= 0 && n % t.block_size == 0,
                 "quantize_row: n is not a multiple of the block size");
    const RowQuantizer quantize = codec(type).quantize;
    RF_CHECK_MSG(quantize != nullptr, "quantize_row: type has no quantizer (check can_quantize)");
    quantize(src, static_cast<uint8_t*>(dst), n, importance);
    return row_bytes(type, static_cast<size_t>(n));
}

}  // namespace rf::quant
