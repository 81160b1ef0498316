// Portable scalar kernels: each weight block is decoded once to small integers (plus scales) and
// dotted with up to 4 tokens' quantized activations in integer arithmetic. Also the fallback
// for every slot an ISA table leaves empty, and the path tests force to check the others.
#include <algorithm>
#include <cstring>

#include "backend/cpu/vec_dot.h"
#include "core/half.h"
#include "quant/blocks.h"
#include "quant/k_scales.h"
#include "quant/value_tables.h"

namespace rf::cpu {
namespace {

using quant::GgmlType;
constexpr int kTileRows = 4;
constexpr int kTileTokens = 4;

// ---- 32-element formats: x = d * q + m ---------------------------------------------------

struct Decoded32 {
    int8_t q[32];
    float d;
    float m;
};

// Low nibble of byte j is element j, high nibble element j + 16 (all 4-bit formats).
template <typename Map>
void unpack_nibbles(const uint8_t* qs, int8_t* q, Map map) {
    for (int j = 0; j < 16; ++j) {
        q[j] = map(qs[j] & 0xF, j);
        q[j + 16] = map(qs[j] >> 4, j + 16);
    }
}

void decode_q4_0(const uint8_t* p, Decoded32& o) {
    const auto& b = *reinterpret_cast<const quant::BlockQ4_0*>(p);
    unpack_nibbles(b.qs, o.q, [](int v, int) { return static_cast<int8_t>(v - 8); });
    o.d = fp16_to_float(b.d);
    o.m = 0.0f;
}
void decode_q4_1(const uint8_t* p, Decoded32& o) {
    const auto& b = *reinterpret_cast<const quant::BlockQ4_1*>(p);
    unpack_nibbles(b.qs, o.q, [](int v, int) { return static_cast<int8_t>(v); });
    o.d = fp16_to_float(b.d);
    o.m = fp16_to_float(b.m);
}
void decode_q5_0(const uint8_t* p, Decoded32& o) {
    const auto& b = *reinterpret_cast<const quant::BlockQ5_0*>(p);
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    unpack_nibbles(b.qs, o.q, [qh](int v, int j) {
        return static_cast<int8_t>((v | (((qh >> j) & 1) << 4)) - 16);
    });
    o.d = fp16_to_float(b.d);
    o.m = 0.0f;
}
void decode_q5_1(const uint8_t* p, Decoded32& o) {
    const auto& b = *reinterpret_cast<const quant::BlockQ5_1*>(p);
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    unpack_nibbles(b.qs, o.q,
                   [qh](int v, int j) { return static_cast<int8_t>(v | (((qh >> j) & 1) << 4)); });
    o.d = fp16_to_float(b.d);
    o.m = fp16_to_float(b.m);
}
void decode_q8_0(const uint8_t* p, Decoded32& o) {
    const auto& b = *reinterpret_cast<const quant::BlockQ8_0*>(p);
    std::memcpy(o.q, b.qs, 32);
    o.d = fp16_to_float(b.d);
    o.m = 0.0f;
}
void decode_iq4_nl(const uint8_t* p, Decoded32& o) {
    const auto& b = *reinterpret_cast<const quant::BlockIQ4_NL*>(p);
    unpack_nibbles(b.qs, o.q, [](int v, int) { return quant::kIQ4NLValues[v]; });
    o.d = fp16_to_float(b.d);
    o.m = 0.0f;
}
void decode_mxfp4(const uint8_t* p, Decoded32& o) {
    const auto& b = *reinterpret_cast<const quant::BlockMXFP4*>(p);
    unpack_nibbles(b.qs, o.q, [](int v, int) { return quant::kMXFP4Values[v]; });
    o.d = quant::e8m0_to_float_half(b.e);
    o.m = 0.0f;
}

// ---- 256-element K / i-quant formats: x = d * sc[g] * q - dmin * mn[g], g = element / 16 ---

struct DecodedK {
    int8_t q[256];
    int16_t sc[16];
    int16_t mn[16];
    float d;
    float dmin;
};

void decode_q2_k(const uint8_t* p, DecodedK& o) {
    const auto& b = *reinterpret_cast<const quant::BlockQ2_K*>(p);
    for (int e = 0; e < 256; ++e) {
        const int half = e / 128, j = (e % 128) / 32, l = e % 32;
        o.q[e] = static_cast<int8_t>((b.qs[half * 32 + l] >> (2 * j)) & 3);
    }
    for (int g = 0; g < 16; ++g) {
        o.sc[g] = static_cast<int16_t>(b.scales[g] & 0xF);
        o.mn[g] = static_cast<int16_t>(b.scales[g] >> 4);
    }
    o.d = fp16_to_float(b.d);
    o.dmin = fp16_to_float(b.dmin);
}
void decode_q3_k(const uint8_t* p, DecodedK& o) {
    const auto& b = *reinterpret_cast<const quant::BlockQ3_K*>(p);
    for (int e = 0; e < 256; ++e) {
        const int half = e / 128, j = (e % 128) / 32, l = e % 32;
        const int low = (b.qs[half * 32 + l] >> (2 * j)) & 3;
        const bool high = (b.hmask[l] >> (half * 4 + j)) & 1;
        o.q[e] = static_cast<int8_t>(low - (high ? 0 : 4));
    }
    for (int g = 0; g < 16; ++g) {
        o.sc[g] = static_cast<int16_t>(quant::unpack_scale_q3_k(g, b.scales));
        o.mn[g] = 0;
    }
    o.d = fp16_to_float(b.d);
    o.dmin = 0.0f;
}
// Q4_K and Q5_K share the 8 x (scale, min) packing over sub-blocks of 32.
void decode_k4_scales(const uint8_t* packed, DecodedK& o) {
    for (int s = 0; s < 8; ++s) {
        uint8_t sc = 0, mn = 0;
        quant::unpack_scale_min_k4(s, packed, &sc, &mn);
        o.sc[2 * s] = o.sc[2 * s + 1] = sc;
        o.mn[2 * s] = o.mn[2 * s + 1] = mn;
    }
}
void decode_q4_k(const uint8_t* p, DecodedK& o) {
    const auto& b = *reinterpret_cast<const quant::BlockQ4_K*>(p);
    for (int e = 0; e < 256; ++e) {
        const int chunk = e / 64, upper = (e % 64) / 32, l = e % 32;
        const uint8_t byte = b.qs[chunk * 32 + l];
        o.q[e] = static_cast<int8_t>(upper ? byte >> 4 : byte & 0xF);
    }
    decode_k4_scales(b.scales, o);
    o.d = fp16_to_float(b.d);
    o.dmin = fp16_to_float(b.dmin);
}
void decode_q5_k(const uint8_t* p, DecodedK& o) {
    const auto& b = *reinterpret_cast<const quant::BlockQ5_K*>(p);
    for (int e = 0; e < 256; ++e) {
        const int chunk = e / 64, upper = (e % 64) / 32, l = e % 32;
        const uint8_t byte = b.qs[chunk * 32 + l];
        const int low = upper ? byte >> 4 : byte & 0xF;
        const int high = (b.qh[l] >> (2 * chunk + upper)) & 1;
        o.q[e] = static_cast<int8_t>(low | (high << 4));
    }
    decode_k4_scales(b.scales, o);
    o.d = fp16_to_float(b.d);
    o.dmin = fp16_to_float(b.dmin);
}
void decode_q6_k(const uint8_t* p, DecodedK& o) {
    const auto& b = *reinterpret_cast<const quant::BlockQ6_K*>(p);
    for (int e = 0; e < 256; ++e) {
        // Each half of 128 uses 64 bytes of ql and 32 of qh; quarter k picks nibble and 2 bits.
        const int half = e / 128, k = (e % 128) / 32, l = e % 32;
        const uint8_t lbyte = b.ql[half * 64 + (k & 1) * 32 + l];
        const int low = k < 2 ? lbyte & 0xF : lbyte >> 4;
        const int high = (b.qh[half * 32 + l] >> (2 * k)) & 3;
        o.q[e] = static_cast<int8_t>((low | (high << 4)) - 32);
    }
    for (int g = 0; g < 16; ++g) {
        o.sc[g] = b.scales[g];
        o.mn[g] = 0;
    }
    o.d = fp16_to_float(b.d);
    o.dmin = 0.0f;
}
void decode_iq4_xs(const uint8_t* p, DecodedK& o) {
    const auto& b = *reinterpret_cast<const quant::BlockIQ4_XS*>(p);
    for (int s = 0; s < 8; ++s) {
        unpack_nibbles(b.qs + 16 * s, o.q + 32 * s,
                       [](int v, int) { return quant::kIQ4NLValues[v]; });
        const int ls =
            ((b.scales_l[s / 2] >> (4 * (s % 2))) & 0xF) | (((b.scales_h >> (2 * s)) & 3) << 4);
        o.sc[2 * s] = o.sc[2 * s + 1] = static_cast<int16_t>(ls - 32);
        o.mn[2 * s] = o.mn[2 * s + 1] = 0;
    }
    o.d = fp16_to_float(b.d);
    o.dmin = 0.0f;
}

// ---- float formats, decoded up to 32 columns at a time -------------------------------------

void load_f32(const uint8_t* p, float* out, int n) {
    std::memcpy(out, p, static_cast<size_t>(n) * sizeof(float));
}
void load_f16(const uint8_t* p, float* out, int n) {
    uint16_t h[32];
    std::memcpy(h, p, static_cast<size_t>(n) * 2);
    for (int i = 0; i < n; ++i) out[i] = fp16_to_float(h[i]);
}
void load_bf16(const uint8_t* p, float* out, int n) {
    uint16_t h[32];
    std::memcpy(h, p, static_cast<size_t>(n) * 2);
    for (int i = 0; i < n; ++i) out[i] = bf16_to_float(h[i]);
}

// ---- tile drivers -------------------------------------------------------------------------

using Acc = float[kTileRows][kTileTokens];

void store_tile(const GemmArgs& a, int r0, int nr, int t0, int nt, const Acc& acc) {
    for (int t = 0; t < nt; ++t) {
        float* y = a.y + (t0 + t) * a.y_stride + r0;
        for (int r = 0; r < nr; ++r) y[r] = a.accumulate ? y[r] + acc[r][t] : acc[r][t];
    }
}

// Walks the output in kTileRows x kTileTokens tiles; Body fills one tile's accumulators.
template <typename Body>
void for_each_tile(const GemmArgs& a, Body body) {
    for (int r0 = 0; r0 < a.n_rows; r0 += kTileRows) {
        const int nr = std::min(kTileRows, a.n_rows - r0);
        for (int t0 = 0; t0 < a.n_tokens; t0 += kTileTokens) {
            const int nt = std::min(kTileTokens, a.n_tokens - t0);
            Acc acc = {};
            body(r0, nr, t0, nt, acc);
            store_tile(a, r0, nr, t0, nt, acc);
        }
    }
}

template <void (*Decode)(const uint8_t*, Decoded32&), size_t kBlockBytes>
void gemm_q32(const GemmArgs& a) {
    const int64_t nb = a.n_cols / 32;
    for_each_tile(a, [&](int r0, int nr, int t0, int nt, Acc& acc) {
        ActQ8_32 xs[kTileTokens];
        for (int t = 0; t < nt; ++t) xs[t] = view_q8_32(a.x + (t0 + t) * a.x_stride, a.n_cols);
        for (int64_t b = 0; b < nb; ++b) {
            Decoded32 dec[kTileRows];
            for (int r = 0; r < nr; ++r)
                Decode(a.w + (r0 + r) * a.w_stride + b * kBlockBytes, dec[r]);
            for (int t = 0; t < nt; ++t) {
                const int8_t* xq = xs[t].qs + b * 32;
                for (int r = 0; r < nr; ++r) {
                    int isum = 0;
                    for (int i = 0; i < 32; ++i) isum += dec[r].q[i] * xq[i];
                    acc[r][t] +=
                        dec[r].d * xs[t].d[b] * static_cast<float>(isum) + dec[r].m * xs[t].s[b];
                }
            }
        }
    });
}

template <void (*Decode)(const uint8_t*, DecodedK&), size_t kBlockBytes>
void gemm_qk(const GemmArgs& a) {
    const int64_t nb = a.n_cols / 256;
    for_each_tile(a, [&](int r0, int nr, int t0, int nt, Acc& acc) {
        ActQ8_K xs[kTileTokens];
        for (int t = 0; t < nt; ++t) xs[t] = view_q8_k(a.x + (t0 + t) * a.x_stride, a.n_cols);
        for (int64_t b = 0; b < nb; ++b) {
            DecodedK dec[kTileRows];
            for (int r = 0; r < nr; ++r)
                Decode(a.w + (r0 + r) * a.w_stride + b * kBlockBytes, dec[r]);
            for (int t = 0; t < nt; ++t) {
                const int8_t* xq = xs[t].qs + b * 256;
                const int16_t* bsums = xs[t].bsums + b * 16;
                for (int r = 0; r < nr; ++r) {
                    int sum_q = 0, sum_m = 0;
                    for (int g = 0; g < 16; ++g) {
                        int isum = 0;
                        for (int i = 0; i < 16; ++i) isum += dec[r].q[g * 16 + i] * xq[g * 16 + i];
                        sum_q += dec[r].sc[g] * isum;
                        sum_m += dec[r].mn[g] * bsums[g];
                    }
                    acc[r][t] += xs[t].d[b] * (dec[r].d * static_cast<float>(sum_q) -
                                               dec[r].dmin * static_cast<float>(sum_m));
                }
            }
        }
    });
}

// Float weights of any width (plain types have a block size of 1).
template <void (*Load)(const uint8_t*, float*, int), size_t kElemBytes>
void gemm_float(const GemmArgs& a) {
    for_each_tile(a, [&](int r0, int nr, int t0, int nt, Acc& acc) {
        for (int64_t c = 0; c < a.n_cols; c += 32) {
            const int len = static_cast<int>(std::min<int64_t>(32, a.n_cols - c));
            float w[kTileRows][32];
            for (int r = 0; r < nr; ++r)
                Load(a.w + (r0 + r) * a.w_stride + c * kElemBytes, w[r], len);
            for (int t = 0; t < nt; ++t) {
                const float* x = reinterpret_cast<const float*>(a.x + (t0 + t) * a.x_stride) + c;
                for (int r = 0; r < nr; ++r) {
                    float partial[4] = {};
                    for (int i = 0; i < len; ++i) partial[i & 3] += w[r][i] * x[i];
                    acc[r][t] += (partial[0] + partial[1]) + (partial[2] + partial[3]);
                }
            }
        }
    });
}

KernelTable make_generic_table() {
    KernelTable t;
    t.isa = Isa::kGeneric;
    const auto set = [&t](GgmlType type, GemmKernel k) { t.gemm[static_cast<int>(type)] = k; };
    set(GgmlType::kQ4_0, gemm_q32<decode_q4_0, sizeof(quant::BlockQ4_0)>);
    set(GgmlType::kQ4_1, gemm_q32<decode_q4_1, sizeof(quant::BlockQ4_1)>);
    set(GgmlType::kQ5_0, gemm_q32<decode_q5_0, sizeof(quant::BlockQ5_0)>);
    set(GgmlType::kQ5_1, gemm_q32<decode_q5_1, sizeof(quant::BlockQ5_1)>);
    set(GgmlType::kQ8_0, gemm_q32<decode_q8_0, sizeof(quant::BlockQ8_0)>);
    set(GgmlType::kIQ4_NL, gemm_q32<decode_iq4_nl, sizeof(quant::BlockIQ4_NL)>);
    set(GgmlType::kMXFP4, gemm_q32<decode_mxfp4, sizeof(quant::BlockMXFP4)>);
    set(GgmlType::kQ2_K, gemm_qk<decode_q2_k, sizeof(quant::BlockQ2_K)>);
    set(GgmlType::kQ3_K, gemm_qk<decode_q3_k, sizeof(quant::BlockQ3_K)>);
    set(GgmlType::kQ4_K, gemm_qk<decode_q4_k, sizeof(quant::BlockQ4_K)>);
    set(GgmlType::kQ5_K, gemm_qk<decode_q5_k, sizeof(quant::BlockQ5_K)>);
    set(GgmlType::kQ6_K, gemm_qk<decode_q6_k, sizeof(quant::BlockQ6_K)>);
    set(GgmlType::kIQ4_XS, gemm_qk<decode_iq4_xs, sizeof(quant::BlockIQ4_XS)>);
    set(GgmlType::kF32, gemm_float<load_f32, 4>);
    set(GgmlType::kF16, gemm_float<load_f16, 2>);
    set(GgmlType::kBF16, gemm_float<load_bf16, 2>);
    t.quantize_q8_32 = quantize_act_q8_32_generic;
    t.quantize_q8_k = quantize_act_q8_k_generic;
    return t;
}

}  // namespace

const KernelTable& generic_kernel_table() {
    static const KernelTable table = make_generic_table();
    return table;
}

}  // namespace rf::cpu
