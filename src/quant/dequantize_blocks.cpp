// Scalar dequantization of every non-grid block format: the bit layouts of quant/blocks.h
// spelled out element by element. Products are evaluated in the same order as ggml's reference
// (scale first, then the quant) so results match it bit for bit.
#include <cstdint>
#include <cstring>

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/k_scales.h"
#include "quant/reference_detail.h"
#include "quant/value_tables.h"

namespace rf::quant::detail {
namespace {

uint32_t read_u32_le(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
           (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

// Nibble j of a 16-byte array where bytes hold elements (j, j + 16) in (low, high) nibbles.
int nibble_of_32(const uint8_t* qs, int j) {
    return j < 16 ? (qs[j] & 0xF) : (qs[j - 16] >> 4);
}

// Trit n (0 = most significant) of a byte that stores 5 trits as ceil(value * 256 / 243):
// multiplying by 3^n (mod 256) shifts trit n to the top, and (q * 3) >> 8 reads it.
int ternary_digit(uint8_t packed, int n) {
    static constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
    const uint8_t q = static_cast<uint8_t>(packed * kPow3[n]);
    return (static_cast<uint16_t>(q) * 3) >> 8;
}

}  // namespace

// ---- 32-element formats ----------------------------------------------------------------------

void dequantize_q4_0(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += kQK32) {
        const auto b = load_block<BlockQ4_0>(src, i);
        const float d = fp16_to_float(b.d);
        for (int j = 0; j < kQK32; ++j) dst[j] = static_cast<float>(nibble_of_32(b.qs, j) - 8) * d;
    }
}

void dequantize_q4_1(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += kQK32) {
        const auto b = load_block<BlockQ4_1>(src, i);
        const float d = fp16_to_float(b.d);
        const float m = fp16_to_float(b.m);
        for (int j = 0; j < kQK32; ++j) dst[j] = static_cast<float>(nibble_of_32(b.qs, j)) * d + m;
    }
}

void dequantize_q5_0(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += kQK32) {
        const auto b = load_block<BlockQ5_0>(src, i);
        const float d = fp16_to_float(b.d);
        const uint32_t qh = read_u32_le(b.qh);
        for (int j = 0; j < kQK32; ++j) {
            const int q = nibble_of_32(b.qs, j) | static_cast<int>(((qh >> j) & 1u) << 4);
            dst[j] = static_cast<float>(q - 16) * d;
        }
    }
}

void dequantize_q5_1(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += kQK32) {
        const auto b = load_block<BlockQ5_1>(src, i);
        const float d = fp16_to_float(b.d);
        const float m = fp16_to_float(b.m);
        const uint32_t qh = read_u32_le(b.qh);
        for (int j = 0; j < kQK32; ++j) {
            const int q = nibble_of_32(b.qs, j) | static_cast<int>(((qh >> j) & 1u) << 4);
            dst[j] = static_cast<float>(q) * d + m;
        }
    }
}

void dequantize_q8_0(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += kQK32) {
        const auto b = load_block<BlockQ8_0>(src, i);
        const float d = fp16_to_float(b.d);
        for (int j = 0; j < kQK32; ++j) dst[j] = static_cast<float>(b.qs[j]) * d;
    }
}

// The `s` field is a cached d * sum(q) for dot products; it does not take part in the values.
void dequantize_q8_1(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += kQK32) {
        const auto b = load_block<BlockQ8_1>(src, i);
        const float d = fp16_to_float(b.d);
        for (int j = 0; j < kQK32; ++j) dst[j] = static_cast<float>(b.qs[j]) * d;
    }
}

void dequantize_iq4_nl(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += kQK32) {
        const auto b = load_block<BlockIQ4_NL>(src, i);
        const float d = fp16_to_float(b.d);
        for (int j = 0; j < kQK32; ++j) {
            dst[j] = d * static_cast<float>(kIQ4NLValues[nibble_of_32(b.qs, j)]);
        }
    }
}

void dequantize_mxfp4(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += kQK32) {
        const auto b = load_block<BlockMXFP4>(src, i);
        const float d = e8m0_to_float_half(b.e);
        for (int j = 0; j < kQK32; ++j) {
            dst[j] = static_cast<float>(kMXFP4Values[nibble_of_32(b.qs, j)]) * d;
        }
    }
}

// ---- K-quants ----------------------------------------------------------------------------------

// Q2_K: elements are in 2 halves of 128; within a half, byte l of the 32 qs bytes holds elements
// l, l + 32, l + 64, l + 96 in bit pairs 0-1, 2-3, 4-5, 6-7. Sub-block (16 elements) s uses
// scales[s]: low nibble = scale, high nibble = min.
void dequantize_q2_k(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += kQK_K) {
        const auto b = load_block<BlockQ2_K>(src, i);
        const float d = fp16_to_float(b.d);
        const float dmin = fp16_to_float(b.dmin);
        for (int e = 0; e < kQK_K; ++e) {
            const int half = e / 128, shift = 2 * ((e % 128) / 32), l = e % 32;
            const int q = (b.qs[32 * half + l] >> shift) & 3;
            const uint8_t sc = b.scales[e / 16];
            const float dl = d * static_cast<float>(sc & 0xF);
            const float ml = dmin * static_cast<float>(sc >> 4);
            dst[e] = dl * static_cast<float>(q) - ml;
        }
    }
}

// Q3_K: low 2 bits packed as Q2_K; the high bit of element e is bit (e / 32) of hmask[e % 32].
// A clear high bit means q - 4 (values -4..3).
void dequantize_q3_k(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += kQK_K) {
        const auto b = load_block<BlockQ3_K>(src, i);
        const float d = fp16_to_float(b.d);
        for (int e = 0; e < kQK_K; ++e) {
            const int half = e / 128, shift = 2 * ((e % 128) / 32), l = e % 32;
            const int low = (b.qs[32 * half + l] >> shift) & 3;
            const bool high = (b.hmask[l] >> (e / 32)) & 1;
            const float dl = d * static_cast<float>(unpack_scale_q3_k(e / 16, b.scales));
            dst[e] = dl * static_cast<float>(low - (high ? 0 : 4));
        }
    }
}

// Q4_K: 4 chunks of 64; chunk c uses qs[32c .. 32c+31], low nibbles for its first 32 elements
// (sub-block 2c) and high nibbles for the next 32 (sub-block 2c + 1).
void dequantize_q4_k(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += kQK_K) {
        const auto b = load_block<BlockQ4_K>(src, i);
        const float d = fp16_to_float(b.d);
        const float dmin = fp16_to_float(b.dmin);
        for (int s = 0; s < 8; ++s) {
            uint8_t sc, m;
            unpack_scale_min_k4(s, b.scales, &sc, &m);
            const float dl = d * static_cast<float>(sc);
            const float ml = dmin * static_cast<float>(m);
            const uint8_t* q = b.qs + 32 * (s / 2);
            for (int l = 0; l < 32; ++l) {
                const int v = (s % 2 == 0) ? (q[l] & 0xF) : (q[l] >> 4);
                dst[32 * s + l] = dl * static_cast<float>(v) - ml;
            }
        }
    }
}

// Q5_K: as Q4_K plus a fifth bit: element l of sub-block s has it in bit s of qh[l].
void dequantize_q5_k(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += kQK_K) {
        const auto b = load_block<BlockQ5_K>(src, i);
        const float d = fp16_to_float(b.d);
        const float dmin = fp16_to_float(b.dmin);
        for (int s = 0; s < 8; ++s) {
            uint8_t sc, m;
            unpack_scale_min_k4(s, b.scales, &sc, &m);
            const float dl = d * static_cast<float>(sc);
            const float ml = dmin * static_cast<float>(m);
            const uint8_t* q = b.qs + 32 * (s / 2);
            for (int l = 0; l < 32; ++l) {
                const int low = (s % 2 == 0) ? (q[l] & 0xF) : (q[l] >> 4);
                const int v = low + (((b.qh[l] >> s) & 1) ? 16 : 0);
                dst[32 * s + l] = dl * static_cast<float>(v) - ml;
            }
        }
    }
}

// Q6_K: 2 halves of 128. In half h, for l in 0..31: ql[64h + l] holds elements l (low nibble) and
// l + 64 (high nibble); ql[64h + 32 + l] holds l + 32 and l + 96; qh[32h + l] holds the top 2 bits
// of l, l + 32, l + 64, l + 96 in bit pairs 0, 2, 4, 6. Values are q - 32; scale per 16 elements.
void dequantize_q6_k(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += kQK_K) {
        const auto b = load_block<BlockQ6_K>(src, i);
        const float d = fp16_to_float(b.d);
        for (int e = 0; e < kQK_K; ++e) {
            const int h = e / 128, r = e % 128, quarter = r / 32, l = r % 32;
            const uint8_t lo_byte = b.ql[64 * h + 32 * (quarter % 2) + l];
            const int low = quarter < 2 ? (lo_byte & 0xF) : (lo_byte >> 4);
            const int high = (b.qh[32 * h + l] >> (2 * quarter)) & 3;
            const int q = (low | (high << 4)) - 32;
            dst[e] = d * static_cast<float>(b.scales[e / 16]) * static_cast<float>(q);
        }
    }
}

void dequantize_q8_k(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += kQK_K) {
        const auto b = load_block<BlockQ8_K>(src, i);
        for (int e = 0; e < kQK_K; ++e) dst[e] = b.d * static_cast<float>(b.qs[e]);
    }
}

// IQ4_XS: 8 sub-blocks of 32, each laid out like one IQ4_NL block, with a 6-bit scale.
void dequantize_iq4_xs(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += kQK_K) {
        const auto b = load_block<BlockIQ4_XS>(src, i);
        const float d = fp16_to_float(b.d);
        for (int s = 0; s < 8; ++s) {
            const float dl = d * static_cast<float>(unpack_scale_iq4_xs(s, b.scales_l, b.scales_h));
            for (int j = 0; j < 32; ++j) {
                const int q = nibble_of_32(b.qs + 16 * s, j);
                dst[32 * s + j] = dl * static_cast<float>(kIQ4NLValues[q]);
            }
        }
    }
}

// ---- ternary -----------------------------------------------------------------------------------

// TQ1_0: qs[0..31] hold 5 trits each for elements 32n + m (trit n of byte m), qs[32..47] hold 5
// trits each for elements 160 + 16n + m, and qh[0..3] hold 4 trits each for 240 + 4n + j.
// A trit t in {0, 1, 2} means t - 1.
void dequantize_tq1_0(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += kQK_K) {
        const auto b = load_block<BlockTQ1_0>(src, i);
        const float d = fp16_to_float(b.d);
        float* y = dst;
        for (int n = 0; n < 5; ++n) {
            for (int m = 0; m < 32; ++m)
                *y++ = static_cast<float>(ternary_digit(b.qs[m], n) - 1) * d;
        }
        for (int n = 0; n < 5; ++n) {
            for (int m = 0; m < 16; ++m) {
                *y++ = static_cast<float>(ternary_digit(b.qs[32 + m], n) - 1) * d;
            }
        }
        for (int n = 0; n < 4; ++n) {
            for (int j = 0; j < 4; ++j)
                *y++ = static_cast<float>(ternary_digit(b.qh[j], n) - 1) * d;
        }
    }
}

// TQ2_0: 2 groups of 128; byte m of group g holds elements 128g + 32n + m in bit pair n.
// q = 3 is not produced by quantizers but decodes (as in ggml) to 2 * d.
void dequantize_tq2_0(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += kQK_K) {
        const auto b = load_block<BlockTQ2_0>(src, i);
        const float d = fp16_to_float(b.d);
        for (int e = 0; e < kQK_K; ++e) {
            const int g = e / 128, n = (e % 128) / 32, m = e % 32;
            const int q = (b.qs[32 * g + m] >> (2 * n)) & 3;
            dst[e] = static_cast<float>(q - 1) * d;
        }
    }
}

}  // namespace rf::quant::detail
