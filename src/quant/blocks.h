// Every GGUF quant block layout, defined once as a POD shared by C++, CUDA and HIP code.
// Sizes are part of the file format: each block is guarded by a static_assert.
// Within a block, fp16 fields are stored as raw IEEE half bits (convert with core/half.h).
#pragma once

#include <cstdint>

namespace rf::quant {

using f16_bits = uint16_t;  // IEEE binary16 as stored in the file

inline constexpr int kQK32 = 32;   // elements per block of the 32-element formats
inline constexpr int kQK_K = 256;  // elements per K-quant / i-quant super-block
inline constexpr int kKScaleSize = 12;  // packed 6-bit scales+mins of Q4_K/Q5_K

// ---- 32-element formats -------------------------------------------------------------------

// x = d * (q - 8), q in [0, 15]; qs[j] low nibble = element j, high nibble = element j + 16.
struct BlockQ4_0 {
    f16_bits d;
    uint8_t qs[kQK32 / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// x = d * q + m, q in [0, 15]; nibble order as Q4_0.
struct BlockQ4_1 {
    f16_bits d;
    f16_bits m;
    uint8_t qs[kQK32 / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

// x = d * (q - 16), q 5 bits: low 4 as Q4_0, bit 4 of element j in bit j of qh (little-endian u32).
struct BlockQ5_0 {
    f16_bits d;
    uint8_t qh[4];
    uint8_t qs[kQK32 / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// x = d * q + m, q 5 bits laid out as Q5_0.
struct BlockQ5_1 {
    f16_bits d;
    f16_bits m;
    uint8_t qh[4];
    uint8_t qs[kQK32 / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// x = d * q, q int8.
struct BlockQ8_0 {
    f16_bits d;
    int8_t qs[kQK32];
};
static_assert(sizeof(BlockQ8_0) == 34);

// x = d * q; s = d * sum(q) (used by dot products with Q4_1/Q5_1).
struct BlockQ8_1 {
    f16_bits d;
    f16_bits s;
    int8_t qs[kQK32];
};
static_assert(sizeof(BlockQ8_1) == 36);

// x = d * kvalues_iq4nl[q], q in [0, 15]; nibble order as Q4_0.
struct BlockIQ4_NL {
    f16_bits d;
    uint8_t qs[kQK32 / 2];
};
static_assert(sizeof(BlockIQ4_NL) == 18);

// OCP microscaling FP4: x = 2^(e - 127) * fp4_e2m1(q) / 2 as ggml stores it (values table
// doubled, scale halved); nibble order as Q4_0.
struct BlockMXFP4 {
    uint8_t e;  // E8M0 shared exponent
    uint8_t qs[kQK32 / 2];
};
static_assert(sizeof(BlockMXFP4) == 17);

// ---- K-quants: 256-element super-blocks of 16 or 8 sub-blocks -----------------------------

// 16 sub-blocks of 16: x = d * (scales[i] & 0xF) * q - dmin * (scales[i] >> 4), q 2 bits.
struct BlockQ2_K {
    uint8_t scales[kQK_K / 16];
    uint8_t qs[kQK_K / 4];
    f16_bits d;
    f16_bits dmin;
};
static_assert(sizeof(BlockQ2_K) == 84);

// 16 sub-blocks of 16: x = d * (scale6 - 32) * (q2 - (hbit ? 0 : 4)); 6-bit scales packed in 12 B.
struct BlockQ3_K {
    uint8_t hmask[kQK_K / 8];
    uint8_t qs[kQK_K / 4];
    uint8_t scales[12];
    f16_bits d;
};
static_assert(sizeof(BlockQ3_K) == 110);

// 8 sub-blocks of 32: x = d * sc * q - dmin * m, 6-bit sc/m packed in scales[12], q 4 bits.
struct BlockQ4_K {
    f16_bits d;
    f16_bits dmin;
    uint8_t scales[kKScaleSize];
    uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// As Q4_K with a fifth bit per element in qh.
struct BlockQ5_K {
    f16_bits d;
    f16_bits dmin;
    uint8_t scales[kKScaleSize];
    uint8_t qh[kQK_K / 8];
    uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

// 16 sub-blocks of 16: x = d * scales[i] * (q - 32), q 6 bits (4 low in ql, 2 high in qh).
struct BlockQ6_K {
    uint8_t ql[kQK_K / 2];
    uint8_t qh[kQK_K / 4];
    int8_t scales[kQK_K / 16];
    f16_bits d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// Intermediate format for K-quant dot products: x = d * q; bsums = sums of groups of 16.
struct BlockQ8_K {
    float d;
    int8_t qs[kQK_K];
    int16_t bsums[kQK_K / 16];
};
static_assert(sizeof(BlockQ8_K) == 292);

// ---- i-quants ------------------------------------------------------------------------------

// 2.0625 bpw: 8 groups of 32; per group 4 x u8 grid indices + 4 x 7-bit sign sets + 4-bit scale.
struct BlockIQ2_XXS {
    f16_bits d;
    uint16_t qs[kQK_K / 8];
};
static_assert(sizeof(BlockIQ2_XXS) == 66);

// 2.3125 bpw: 9-bit grid index + 7-bit signs per 8 elements; 4-bit scales per 16 elements.
struct BlockIQ2_XS {
    f16_bits d;
    uint16_t qs[kQK_K / 8];
    uint8_t scales[kQK_K / 32];
};
static_assert(sizeof(BlockIQ2_XS) == 74);

// 2.5625 bpw: 10-bit grid index (8 low in qs[0..31], 2 high in qh), sign bytes in qs[32..63].
struct BlockIQ2_S {
    f16_bits d;
    uint8_t qs[kQK_K / 4];
    uint8_t qh[kQK_K / 32];
    uint8_t scales[kQK_K / 32];
};
static_assert(sizeof(BlockIQ2_S) == 82);

// 3.0625 bpw: 8-bit grid indices (4 elements each) then 32-bit scale+signs words per 32.
struct BlockIQ3_XXS {
    f16_bits d;
    uint8_t qs[3 * kQK_K / 8];
};
static_assert(sizeof(BlockIQ3_XXS) == 98);

// 3.4375 bpw: 9-bit grid index (8 low in qs, 1 high in qh), explicit signs, 4-bit scales.
struct BlockIQ3_S {
    f16_bits d;
    uint8_t qs[kQK_K / 4];
    uint8_t qh[kQK_K / 32];
    uint8_t signs[kQK_K / 8];
    uint8_t scales[kQK_K / 64];
};
static_assert(sizeof(BlockIQ3_S) == 110);

// 1.5625 bpw: 11-bit grid index (8 in qs, 3 in qh) per 8; qh also holds 3-bit scale + delta sign.
struct BlockIQ1_S {
    f16_bits d;
    uint8_t qs[kQK_K / 8];
    uint16_t qh[kQK_K / 32];
};
static_assert(sizeof(BlockIQ1_S) == 50);

// 1.75 bpw: as IQ1_S with per-16 deltas; the fp16 super-block scale is spread over `scales`.
struct BlockIQ1_M {
    uint8_t qs[kQK_K / 8];
    uint8_t qh[kQK_K / 16];
    uint8_t scales[kQK_K / 32];
};
static_assert(sizeof(BlockIQ1_M) == 56);

// 4.25 bpw: IQ4_NL values with 6-bit sub-block scales (4 low bits in scales_l, 2 in scales_h).
struct BlockIQ4_XS {
    f16_bits d;
    uint16_t scales_h;
    uint8_t scales_l[kQK_K / 64];
    uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockIQ4_XS) == 136);

// ---- ternary -------------------------------------------------------------------------------

// 1.6875 bpw: 5 trits per byte in qs (base-3, scaled to 0..255), 4 trits per byte in qh.
struct BlockTQ1_0 {
    uint8_t qs[(kQK_K - 4 * kQK_K / 64) / 5];
    uint8_t qh[kQK_K / 64];
    f16_bits d;
};
static_assert(sizeof(BlockTQ1_0) == 54);

// 2.0625 bpw: x = d * (q - 1), q 2 bits.
struct BlockTQ2_0 {
    uint8_t qs[kQK_K / 4];
    f16_bits d;
};
static_assert(sizeof(BlockTQ2_0) == 66);

}  // namespace rf::quant
