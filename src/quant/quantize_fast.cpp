// Round-to-nearest quantizers: one pass over each block for its extremes, one pass to round.
// Used for random-weight models, where the error-weighted searches of the reference quantizers
// buy nothing and cost 10-100x the time.
#include "quant/quantize_fast.h"

#include <cmath>
#include <cstdint>

#include "core/check.h"
#include "core/half.h"
#include "quant/blocks.h"
#include "quant/k_scales.h"
#include "quant/quant_search.h"
#include "quant/reference.h"
#include "quant/reference_detail.h"
#include "quant/value_tables.h"

namespace rf::quant {
namespace {

using detail::clamp_int;
using detail::nearest_int;
using detail::store_block;

constexpr float kMaxHalf = 65504.0f;

// fp16 bits of `v`, saturated so that a finite scale stays finite.
uint16_t to_half(float v) {
    return float_to_fp16(std::fmax(-kMaxHalf, std::fmin(kMaxHalf, v)));
}

float inverse(float d) {
    return d != 0.0f ? 1.0f / d : 0.0f;
}

// The element of largest magnitude, sign kept (0 for an all-zero block).
float signed_extreme(const float* x, int n) {
    float amax = 0.0f, value = 0.0f;
    for (int i = 0; i < n; ++i) {
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            value = x[i];
        }
    }
    return value;
}

// Low nibbles: element j in the low half of qs[j], element j + 16 in the high half.
void pack_nibbles_32(const uint8_t* q, uint8_t* qs) {
    for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4));
}

// Bit 4 of element j -> bit j of the little-endian 32-bit qh.
void pack_high_bits_32(const uint8_t* q, uint8_t* qh) {
    uint32_t bits = 0;
    for (int j = 0; j < kQK32; ++j) bits |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
    for (int k = 0; k < 4; ++k) qh[k] = static_cast<uint8_t>(bits >> (8 * k));
}

// Q4_0 (half_levels 8) / Q5_0 (16): d = extreme / -half_levels, so the extreme lands exactly
// on the lowest level and the opposite side keeps one level less.
void symmetric_32(const float* x, int half_levels, uint16_t* d_out, uint8_t* q) {
    *d_out = to_half(signed_extreme(x, kQK32) / -static_cast<float>(half_levels));
    const float id = inverse(fp16_to_float(*d_out));
    for (int j = 0; j < kQK32; ++j) {
        q[j] = static_cast<uint8_t>(
            clamp_int(nearest_int(x[j] * id) + half_levels, 0, 2 * half_levels - 1));
    }
}

// Q4_1 (nmax 15) / Q5_1 (31): x ~ d * q + m with m = min and d = (max - min) / nmax.
void offset_32(const float* x, int nmax, uint16_t* d_out, uint16_t* m_out, uint8_t* q) {
    float lo = x[0], hi = x[0];
    for (int j = 1; j < kQK32; ++j) {
        lo = std::fmin(lo, x[j]);
        hi = std::fmax(hi, x[j]);
    }
    *d_out = to_half((hi - lo) / static_cast<float>(nmax));
    *m_out = to_half(lo);
    const float id = inverse(fp16_to_float(*d_out)), m = fp16_to_float(*m_out);
    for (int j = 0; j < kQK32; ++j) {
        q[j] = static_cast<uint8_t>(clamp_int(nearest_int((x[j] - m) * id), 0, nmax));
    }
}

void fast_q4_0(const float* x, uint8_t* dst, int64_t n_blocks) {
    for (int64_t ib = 0; ib < n_blocks; ++ib) {
        BlockQ4_0 b{};
        uint8_t q[kQK32];
        symmetric_32(x + ib * kQK32, 8, &b.d, q);
        pack_nibbles_32(q, b.qs);
        store_block(b, dst, ib);
    }
}

void fast_q5_0(const float* x, uint8_t* dst, int64_t n_blocks) {
    for (int64_t ib = 0; ib < n_blocks; ++ib) {
        BlockQ5_0 b{};
        uint8_t q[kQK32];
        symmetric_32(x + ib * kQK32, 16, &b.d, q);
        pack_nibbles_32(q, b.qs);
        pack_high_bits_32(q, b.qh);
        store_block(b, dst, ib);
    }
}

void fast_q4_1(const float* x, uint8_t* dst, int64_t n_blocks) {
    for (int64_t ib = 0; ib < n_blocks; ++ib) {
        BlockQ4_1 b{};
        uint8_t q[kQK32];
        offset_32(x + ib * kQK32, 15, &b.d, &b.m, q);
        pack_nibbles_32(q, b.qs);
        store_block(b, dst, ib);
    }
}

void fast_q5_1(const float* x, uint8_t* dst, int64_t n_blocks) {
    for (int64_t ib = 0; ib < n_blocks; ++ib) {
        BlockQ5_1 b{};
        uint8_t q[kQK32];
        offset_32(x + ib * kQK32, 31, &b.d, &b.m, q);
        pack_nibbles_32(q, b.qs);
        pack_high_bits_32(q, b.qh);
        store_block(b, dst, ib);
    }
}

// Q8_0: d = max |x| / 127, levels in [-127, 127] (kernels rely on never seeing -128). Gives the
// same bytes as the reference, without its per-block normalisation.
void fast_q8_0(const float* x, uint8_t* dst, int64_t n_blocks) {
    for (int64_t ib = 0; ib < n_blocks; ++ib) {
        const float* xb = x + ib * kQK32;
        float amax = 0.0f;
        for (int j = 0; j < kQK32; ++j) amax = std::fmax(amax, std::fabs(xb[j]));
        BlockQ8_0 b{};
        b.d = to_half(amax / 127.0f);
        const float id = inverse(fp16_to_float(b.d));
        for (int j = 0; j < kQK32; ++j) {
            b.qs[j] = static_cast<int8_t>(clamp_int(nearest_int(xb[j] * id), -127, 127));
        }
        store_block(b, dst, ib);
    }
}

// One super-block of sub-blocks with x ~ d * ls * l - dmin * lm: Q4_K / Q5_K (8 of 32, 6-bit
// codes) and Q2_K (16 of 16, 4-bit codes).
struct ScaleMinBlock {
    uint16_t d = 0, dmin = 0;
    uint8_t ls[16] = {}, lm[16] = {};
    uint8_t L[kQK_K] = {};
};

// Per sub-block of `sub` elements, scale (max - min) / nmax and min -min(0, min x); both become
// codes in [0, code_max] of the super-block's d and dmin, and each element is rounded against
// the decoded pair.
ScaleMinBlock scale_min_k(const float* x, int sub, int nmax, int code_max) {
    ScaleMinBlock r;
    const int n_sub = kQK_K / sub;
    float sc[16], mn[16], max_sc = 0.0f, max_mn = 0.0f;
    for (int j = 0; j < n_sub; ++j) {
        float lo = 0.0f, hi = x[sub * j];
        for (int i = 0; i < sub; ++i) {
            lo = std::fmin(lo, x[sub * j + i]);
            hi = std::fmax(hi, x[sub * j + i]);
        }
        sc[j] = std::fmax(0.0f, hi - lo) / static_cast<float>(nmax);
        mn[j] = -lo;
        max_sc = std::fmax(max_sc, sc[j]);
        max_mn = std::fmax(max_mn, mn[j]);
    }
    r.d = to_half(max_sc / static_cast<float>(code_max));
    r.dmin = to_half(max_mn / static_cast<float>(code_max));
    const float d = fp16_to_float(r.d), dmin = fp16_to_float(r.dmin);
    const float id = inverse(d), idmin = inverse(dmin);
    for (int j = 0; j < n_sub; ++j) {
        r.ls[j] = static_cast<uint8_t>(clamp_int(nearest_int(sc[j] * id), 0, code_max));
        r.lm[j] = static_cast<uint8_t>(clamp_int(nearest_int(mn[j] * idmin), 0, code_max));
        const float m = dmin * static_cast<float>(r.lm[j]);
        const float is = inverse(d * static_cast<float>(r.ls[j]));
        for (int i = 0; i < sub; ++i) {
            const int e = sub * j + i;
            r.L[e] = static_cast<uint8_t>(clamp_int(nearest_int((x[e] + m) * is), 0, nmax));
        }
    }
    return r;
}

// Chunk c of 64 elements -> qs[32c..32c+32): first 32 in the low nibbles, next 32 in the high.
void pack_nibbles_k(const uint8_t* levels, uint8_t* qs) {
    for (int c = 0; c < 4; ++c) {
        for (int l = 0; l < 32; ++l) {
            qs[32 * c + l] = static_cast<uint8_t>((levels[64 * c + l] & 0xF) |
                                                  ((levels[64 * c + 32 + l] & 0xF) << 4));
        }
    }
}

void fast_q4_k(const float* x, uint8_t* dst, int64_t n_blocks) {
    for (int64_t ib = 0; ib < n_blocks; ++ib) {
        const ScaleMinBlock r = scale_min_k(x + ib * kQK_K, 32, 15, 63);
        BlockQ4_K b{};
        b.d = r.d;
        b.dmin = r.dmin;
        pack_scale_min_k4(r.ls, r.lm, b.scales);
        pack_nibbles_k(r.L, b.qs);
        store_block(b, dst, ib);
    }
}

void fast_q5_k(const float* x, uint8_t* dst, int64_t n_blocks) {
    for (int64_t ib = 0; ib < n_blocks; ++ib) {
        const ScaleMinBlock r = scale_min_k(x + ib * kQK_K, 32, 31, 63);
        BlockQ5_K b{};
        b.d = r.d;
        b.dmin = r.dmin;
        pack_scale_min_k4(r.ls, r.lm, b.scales);
        pack_nibbles_k(r.L, b.qs);
        for (int e = 0; e < kQK_K; ++e) {  // bit 4 of element 32s + l -> bit s of qh[l]
            if (r.L[e] & 0x10) b.qh[e % 32] |= static_cast<uint8_t>(1u << (e / 32));
        }
        store_block(b, dst, ib);
    }
}

// Q2_K / Q3_K low bits: element e's 2-bit level goes to bit pair 2 * ((e % 128) / 32) of
// qs[32 * (e / 128) + e % 32].
void pack_two_bit_levels(const uint8_t* levels, uint8_t* qs) {
    for (int e = 0; e < kQK_K; ++e) {
        qs[32 * (e / 128) + e % 32] |= static_cast<uint8_t>((levels[e] & 3) << (2 * ((e % 128) / 32)));
    }
}

// Q2_K: 16 sub-blocks of 16, x ~ d * (sc & 15) * q - dmin * (sc >> 4), q in 0..3.
void fast_q2_k(const float* x, uint8_t* dst, int64_t n_blocks) {
    for (int64_t ib = 0; ib < n_blocks; ++ib) {
        const ScaleMinBlock r = scale_min_k(x + ib * kQK_K, 16, 3, 15);
        BlockQ2_K b{};
        b.d = r.d;
        b.dmin = r.dmin;
        for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<uint8_t>(r.ls[j] | (r.lm[j] << 4));
        pack_two_bit_levels(r.L, b.qs);
        store_block(b, dst, ib);
    }
}

// Index of the IQ4_NL codebook value nearest to v.
int nearest_iq4nl(float v) {
    int best = 0;
    for (int k = 1; k < 16; ++k) {
        if (std::fabs(v - static_cast<float>(kIQ4NLValues[k])) < std::fabs(v - static_cast<float>(kIQ4NLValues[best]))) {
            best = k;
        }
    }
    return best;
}

// 32 elements against scale d: nearest codebook indices, packed as Q4_0 nibbles.
void iq4nl_levels_32(const float* x, float d, uint8_t* qs) {
    const float id = inverse(d);
    uint8_t q[kQK32];
    for (int j = 0; j < kQK32; ++j) q[j] = static_cast<uint8_t>(nearest_iq4nl(x[j] * id));
    pack_nibbles_32(q, qs);
}

// IQ4_NL: the signed extreme lands on the codebook's first value (-127).
void fast_iq4_nl(const float* x, uint8_t* dst, int64_t n_blocks) {
    for (int64_t ib = 0; ib < n_blocks; ++ib) {
        const float* xb = x + ib * kQK32;
        BlockIQ4_NL b{};
        b.d = to_half(signed_extreme(xb, kQK32) / static_cast<float>(kIQ4NLValues[0]));
        iq4nl_levels_32(xb, fp16_to_float(b.d), b.qs);
        store_block(b, dst, ib);
    }
}

// IQ4_XS: 8 sub-blocks of 32, each scale putting its extreme on -127, as signed 6-bit codes of
// one fp16 d (the largest on -32).
void fast_iq4_xs(const float* x, uint8_t* dst, int64_t n_blocks) {
    for (int64_t ib = 0; ib < n_blocks; ++ib) {
        const float* xb = x + ib * kQK_K;
        float sc[8];
        for (int j = 0; j < 8; ++j) sc[j] = signed_extreme(xb + 32 * j, 32) / static_cast<float>(kIQ4NLValues[0]);
        BlockIQ4_XS b{};
        b.d = to_half(signed_extreme(sc, 8) / -32.0f);
        const float d = fp16_to_float(b.d), id = inverse(d);
        uint16_t scales_h = 0;
        for (int j = 0; j < 8; ++j) {
            const int ls = clamp_int(nearest_int(sc[j] * id), -32, 31);
            const int biased = ls + 32;
            b.scales_l[j / 2] |= static_cast<uint8_t>((biased & 0xF) << (4 * (j % 2)));
            scales_h |= static_cast<uint16_t>((biased >> 4) << (2 * j));
            iq4nl_levels_32(xb + 32 * j, d * static_cast<float>(ls), b.qs + 16 * j);
        }
        b.scales_h = scales_h;
        store_block(b, dst, ib);
    }
}

// Symmetric formats of 16-element sub-blocks (Q3_K, Q6_K): each sub-block's signed extreme lands
// on level `low_level`, the sub-block scales become signed codes of one fp16 d (the largest on
// `low_code`), and emit(e, q) receives each element's level in [low_level, -low_level - 1].
// Returns d; codes[j] is sub-block j's scale code.
template <typename Emit>
uint16_t symmetric_k16(const float* xb, int low_level, int low_code, int (&codes)[16], Emit emit) {
    float sc[16];
    for (int j = 0; j < 16; ++j) sc[j] = signed_extreme(xb + 16 * j, 16) / static_cast<float>(low_level);
    const uint16_t d_bits = to_half(signed_extreme(sc, 16) / static_cast<float>(low_code));
    const float d = fp16_to_float(d_bits), id = inverse(d);
    for (int j = 0; j < 16; ++j) {
        codes[j] = clamp_int(nearest_int(sc[j] * id), low_code, -low_code - 1);
        const float is = inverse(d * static_cast<float>(codes[j]));
        for (int i = 0; i < 16; ++i) {
            const int e = 16 * j + i;
            emit(e, clamp_int(nearest_int(xb[e] * is), low_level, -low_level - 1));
        }
    }
    return d_bits;
}

// Q3_K: x ~ d * sc * q with q in -4..3 (a set hmask bit means q >= 0) and sc a signed 6-bit code.
void fast_q3_k(const float* x, uint8_t* dst, int64_t n_blocks) {
    for (int64_t ib = 0; ib < n_blocks; ++ib) {
        BlockQ3_K b{};
        int codes[16];
        uint8_t levels[kQK_K];
        b.d = symmetric_k16(x + ib * kQK_K, -4, -32, codes, [&](int e, int q) {
            levels[e] = static_cast<uint8_t>(q + 4);  // low 2 bits = (q + 4) & 3 = q & 3
            if (q >= 0) b.hmask[e % 32] |= static_cast<uint8_t>(1u << (e / 32));
        });
        uint8_t biased[16];
        for (int j = 0; j < 16; ++j) biased[j] = static_cast<uint8_t>(codes[j] + 32);
        pack_scales_q3_k(biased, b.scales);
        pack_two_bit_levels(levels, b.qs);
        store_block(b, dst, ib);
    }
}

// Q6_K: x ~ d * sc * (q - 32), sc an int8 code.
void fast_q6_k(const float* x, uint8_t* dst, int64_t n_blocks) {
    for (int64_t ib = 0; ib < n_blocks; ++ib) {
        BlockQ6_K b{};
        int codes[16];
        b.d = symmetric_k16(x + ib * kQK_K, -32, -128, codes, [&](int e, int level) {
            const int q = level + 32;  // 0..63
            const int h = e / 128, quarter = (e % 128) / 32, l = e % 32;
            uint8_t& lo = b.ql[64 * h + 32 * (quarter % 2) + l];
            lo |= static_cast<uint8_t>(quarter < 2 ? (q & 0xF) : ((q & 0xF) << 4));
            b.qh[32 * h + l] |= static_cast<uint8_t>((q >> 4) << (2 * quarter));
        });
        for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<int8_t>(codes[j]);
        store_block(b, dst, ib);
    }
}

}  // namespace

bool has_fast_quantizer(GgmlType type) {
    switch (type) {
        case GgmlType::kQ4_0:
        case GgmlType::kQ4_1:
        case GgmlType::kQ5_0:
        case GgmlType::kQ5_1:
        case GgmlType::kQ8_0:
        case GgmlType::kQ4_K:
        case GgmlType::kQ5_K:
        case GgmlType::kQ6_K:
        case GgmlType::kQ2_K:
        case GgmlType::kQ3_K:
        case GgmlType::kIQ4_NL:
        case GgmlType::kIQ4_XS:
            return true;
        default:
            return false;
    }
}

size_t quantize_row_fast(GgmlType type, const float* src, void* dst, int64_t n) {
    const TypeTraits& t = traits(type);
    RF_CHECK_MSG(n >= 0 && n % t.block_size == 0,
                 "quantize_row_fast: n is not a multiple of the block size");
    auto* out = static_cast<uint8_t*>(dst);
    const int64_t n_blocks = n / t.block_size;
    switch (type) {
        case GgmlType::kQ4_0: fast_q4_0(src, out, n_blocks); break;
        case GgmlType::kQ4_1: fast_q4_1(src, out, n_blocks); break;
        case GgmlType::kQ5_0: fast_q5_0(src, out, n_blocks); break;
        case GgmlType::kQ5_1: fast_q5_1(src, out, n_blocks); break;
        case GgmlType::kQ8_0: fast_q8_0(src, out, n_blocks); break;
        case GgmlType::kQ4_K: fast_q4_k(src, out, n_blocks); break;
        case GgmlType::kQ5_K: fast_q5_k(src, out, n_blocks); break;
        case GgmlType::kQ6_K: fast_q6_k(src, out, n_blocks); break;
        case GgmlType::kQ2_K: fast_q2_k(src, out, n_blocks); break;
        case GgmlType::kQ3_K: fast_q3_k(src, out, n_blocks); break;
        case GgmlType::kIQ4_NL: fast_iq4_nl(src, out, n_blocks); break;
        case GgmlType::kIQ4_XS: fast_iq4_xs(src, out, n_blocks); break;
        default: return quantize_row(type, src, dst, n);
    }
    return row_bytes(type, static_cast<size_t>(n));
}

}  // namespace rf::quant
