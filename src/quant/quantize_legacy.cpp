// Reference quantizers of the 32-element formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, MXFP4)
// and the ternary formats (TQ1_0, TQ2_0). Scales are searched in a block normalised to
// max |x| in [0.5, 1) (quant_search.h), stored, and every element is re-rounded against the
// stored scale so the encoding is the best one for what the decoder will compute.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/quant_search.h"
#include "quant/reference_detail.h"
#include "quant/value_tables.h"

namespace rf::quant::detail {
namespace {

// Mean of x^2 over the row, used (as in ggml) in the importance weights of the 32-element types.
double row_mean_square(const float* x, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) {
        const double v = static_cast<double>(sanitise(x[i]));
        s += v * v;
    }
    return n > 0 ? s / static_cast<double>(n) : 0.0;
}

double block_mean_square(const float* x, int n) {
    double s = 0;
    for (int i = 0; i < n; ++i) s += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    return s / n;
}

// One normalised 32-element block with its error weights.
struct Block32 {
    float x[kQK32];
    float w[kQK32];
    int exponent = 0;
};

Block32 prepare_block(const float* src, const float* importance, double row_sigma2,
                      DefaultWeight fallback) {
    Block32 b;
    b.exponent = normalise_block(src, kQK32, b.x);
    // The row statistic is brought into this block's normalised domain (a power-of-two rescale).
    const double sigma2 = importance != nullptr ? std::ldexp(row_sigma2, -2 * b.exponent)
                                                : block_mean_square(b.x, kQK32);
    make_weights(b.x, kQK32, importance, sigma2, fallback, b.w);
    return b;
}

const float* block_importance(const float* importance, int64_t ib, int size) {
    return importance != nullptr ? importance + ib * size : nullptr;
}

// Signed levels in [-nmax, nmax - 1] for the symmetric formats, re-rounded against the stored
// scale.
void quantize_symmetric_32(const float* src, const float* importance, double row_sigma2, int nmax,
                           uint16_t* d_out, uint8_t* q_out) {
    Block32 b = prepare_block(src, importance, row_sigma2, DefaultWeight::kRmsPlusAbs);
    int8_t L[kQK32];
    *d_out = encode_scale(search_symmetric(kQK32, nmax, b.x, b.w, L), b.exponent);
    const float d = decode_scale(*d_out, b.exponent);
    const float inv = d != 0 ? 1.0f / d : 0.0f;
    for (int j = 0; j < kQK32; ++j) {
        const int l = d != 0 ? clamp_int(nearest_int(b.x[j] * inv), -nmax, nmax - 1) : 0;
        q_out[j] = static_cast<uint8_t>(l + nmax);
    }
}

// Levels in [0, nmax] with a signed offset (the stored min) for Q4_1 / Q5_1.
void quantize_offset_32(const float* src, const float* importance, double row_sigma2, int nmax,
                        uint16_t* d_out, uint16_t* m_out, uint8_t* q_out) {
    Block32 b = prepare_block(src, importance, row_sigma2, DefaultWeight::kRmsPlusAbs);
    uint8_t L[kQK32];
    float offset = 0;
    const float scale = search_scale_offset(kQK32, nmax, b.x, b.w, L, &offset, ScaleSearch{}, true);
    *d_out = encode_scale(scale, b.exponent);
    *m_out = encode_scale(offset, b.exponent);
    const float d = decode_scale(*d_out, b.exponent), m = decode_scale(*m_out, b.exponent);
    const float inv = d > 0 ? 1.0f / d : 0.0f;
    for (int j = 0; j < kQK32; ++j) {
        q_out[j] =
            static_cast<uint8_t>(d > 0 ? clamp_int(nearest_int((b.x[j] - m) * inv), 0, nmax) : 0);
    }
}

void pack_nibbles(const uint8_t* q, uint8_t* qs) {
    for (int j = 0; j < 16; ++j)
        qs[j] = static_cast<uint8_t>((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4));
}

// Bit 4 of element j -> bit j of the little-endian 32-bit qh.
void pack_high_bits(const uint8_t* q, uint8_t* qh) {
    uint32_t bits = 0;
    for (int j = 0; j < kQK32; ++j) bits |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
    for (int k = 0; k < 4; ++k) qh[k] = static_cast<uint8_t>(bits >> (8 * k));
}

// Q8_0 / Q8_1: d = max|x| / 127 stored as fp16, quants re-rounded against it and kept in
// [-127, 127] (SIMD kernels rely on never seeing -128). Returns the sum of the quants.
int quantize_8bit_32(const float* src, uint16_t* d_out, int8_t* qs, int* exponent_out) {
    float x[kQK32];
    const int exponent = normalise_block(src, kQK32, x);
    float amax = 0;
    for (float v : x) amax = std::fmax(amax, std::fabs(v));
    *d_out = encode_scale(amax / 127.0f, exponent);
    const float d = decode_scale(*d_out, exponent);
    const float inv = d != 0 ? 1.0f / d : 0.0f;
    int sum = 0;
    for (int j = 0; j < kQK32; ++j) {
        qs[j] = static_cast<int8_t>(clamp_int(nearest_int(x[j] * inv), -127, 127));
        sum += qs[j];
    }
    *exponent_out = exponent;
    return sum;
}

}  // namespace

void quantize_q4_0(const float* x, uint8_t* dst, int64_t n, const float* importance) {
    const double sigma2 = importance != nullptr ? row_mean_square(x, n) : 0.0;
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        BlockQ4_0 b{};
        uint8_t q[kQK32];
        quantize_symmetric_32(x + ib * kQK32, block_importance(importance, ib, kQK32), sigma2, 8,
                              &b.d, q);
        pack_nibbles(q, b.qs);
        store_block(b, dst, ib);
    }
}

void quantize_q5_0(const float* x, uint8_t* dst, int64_t n, const float* importance) {
    const double sigma2 = importance != nullptr ? row_mean_square(x, n) : 0.0;
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        BlockQ5_0 b{};
        uint8_t q[kQK32];
        quantize_symmetric_32(x + ib * kQK32, block_importance(importance, ib, kQK32), sigma2, 16,
                              &b.d, q);
        pack_nibbles(q, b.qs);
        pack_high_bits(q, b.qh);
        store_block(b, dst, ib);
    }
}

void quantize_q4_1(const float* x, uint8_t* dst, int64_t n, const float* importance) {
    const double sigma2 = importance != nullptr ? row_mean_square(x, n) : 0.0;
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        BlockQ4_1 b{};
        uint8_t q[kQK32];
        quantize_offset_32(x + ib * kQK32, block_importance(importance, ib, kQK32), sigma2, 15,
                           &b.d, &b.m, q);
        pack_nibbles(q, b.qs);
        store_block(b, dst, ib);
    }
}

void quantize_q5_1(const float* x, uint8_t* dst, int64_t n, const float* importance) {
    const double sigma2 = importance != nullptr ? row_mean_square(x, n) : 0.0;
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        BlockQ5_1 b{};
        uint8_t q[kQK32];
        quantize_offset_32(x + ib * kQK32, block_importance(importance, ib, kQK32), sigma2, 31,
                           &b.d, &b.m, q);
        pack_nibbles(q, b.qs);
        pack_high_bits(q, b.qh);
        store_block(b, dst, ib);
    }
}

void quantize_q8_0(const float* x, uint8_t* dst, int64_t n) {
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        BlockQ8_0 b{};
        int exponent = 0;
        quantize_8bit_32(x + ib * kQK32, &b.d, b.qs, &exponent);
        store_block(b, dst, ib);
    }
}

void quantize_q8_1(const float* x, uint8_t* dst, int64_t n) {
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        BlockQ8_1 b{};
        int exponent = 0;
        const int sum = quantize_8bit_32(x + ib * kQK32, &b.d, b.qs, &exponent);
        b.s = encode_scale(decode_scale(b.d, exponent) * static_cast<float>(sum), exponent);
        store_block(b, dst, ib);
    }
}

// ---- MXFP4
// ---------------------------------------------------------------------------------------

namespace {

// Index of the FP4 value for which d * value is nearest to v (ties to the lower index, so 0 is
// encoded as +0).
int nearest_fp4(double v, double d) {
    int best = 0;
    double best_dist = std::fabs(v);
    for (int k = 1; k < 16; ++k) {
        const double dist = std::fabs(v - d * kMXFP4Values[k]);
        if (dist < best_dist) {
            best_dist = dist;
            best = k;
        }
    }
    return best;
}

// The largest usable exponent byte: 2^(252 - 127) / 2 * 12 still fits in a float.
constexpr int kMaxE8M0 = 252;

}  // namespace

// The shared exponent puts max|x| near the top of the FP4 range: e0 = floor(log2(max)) - 2 + 127
// (max / 2^(e0 - 127) in [4, 8)); e0 - 1 and e0 + 1 are also tried and the smallest weighted
// error wins. Computed in double on the raw values: the scale is a power of two, not fp16.
void quantize_mxfp4(const float* x, uint8_t* dst, int64_t n, const float* importance) {
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        double v[kQK32];
        float xf[kQK32], w[kQK32];
        double amax = 0;
        for (int j = 0; j < kQK32; ++j) {
            v[j] = static_cast<double>(sanitise(x[ib * kQK32 + j]));
            xf[j] = static_cast<float>(v[j]);
            amax = std::fmax(amax, std::fabs(v[j]));
        }
        make_weights(xf, kQK32, block_importance(importance, ib, kQK32), 0.0,
                     DefaultWeight::kUniform, w, true);
        BlockMXFP4 b{};
        if (amax > 0) {
            int k = 0;
            std::frexp(amax, &k);  // amax = m * 2^k, m in [0.5, 1): floor(log2(amax)) = k - 1
            const int e0 = clamp_int(k - 1 - 2 + 127, 0, kMaxE8M0);
            double best_err = HUGE_VAL;
            for (int e : {e0, e0 + 1, e0 - 1}) {
                if (e < 0 || e > kMaxE8M0) continue;
                const double d = static_cast<double>(e8m0_to_float_half(static_cast<uint8_t>(e)));
                double err = 0;
                for (int j = 0; j < kQK32; ++j) {
                    const double diff = d * kMXFP4Values[nearest_fp4(v[j], d)] - v[j];
                    err += static_cast<double>(w[j]) * diff * diff;
                }
                if (err < best_err) {
                    best_err = err;
                    b.e = static_cast<uint8_t>(e);
                }
            }
            const double d = static_cast<double>(e8m0_to_float_half(b.e));
            for (int j = 0; j < 16; ++j) {
                b.qs[j] =
                    static_cast<uint8_t>(nearest_fp4(v[j], d) | (nearest_fp4(v[j + 16], d) << 4));
            }
        }
        store_block(b, dst, ib);
    }
}

// ---- ternary
// -------------------------------------------------------------------------------------

namespace {

// Ternary fit x ~ d * t, t in {-1, 0, 1}, over a normalised super-block: tries thresholds
// d = max|x| * k / 32 for k = 32..8, re-fits d by least squares for each, keeps the smallest
// error. d = max|x| comes first, so exactly ternary input is reproduced exactly.
float search_ternary(const float* x, const float* w) {
    float amax = 0;
    for (int i = 0; i < kQK_K; ++i) amax = std::fmax(amax, std::fabs(x[i]));
    if (amax < kGroupEps) return 0;
    float best_d = amax, best_gain = -1;
    for (int k = 32; k >= 8; --k) {
        const float d = amax * static_cast<float>(k) / 32.0f;
        float tx = 0, t2 = 0;
        for (int i = 0; i < kQK_K; ++i) {
            const int t = clamp_int(nearest_int(x[i] / d), -1, 1);
            tx += w[i] * static_cast<float>(t) * x[i];
            t2 += w[i] * static_cast<float>(t * t);
        }
        // The error at the re-fitted scale is sum w x^2 - tx^2 / t2: maximise tx^2 / t2.
        const float gain = t2 > 0 ? tx * tx / t2 : 0;
        if (gain > best_gain) {
            best_gain = gain;
            best_d = t2 > 0 ? tx / t2 : amax;
        }
    }
    return best_d;
}

// Trits 0..2 (value + 1) of one super-block, re-rounded against the stored scale.
void quantize_ternary(const float* src, const float* importance, uint16_t* d_out, uint8_t* trits) {
    float x[kQK_K], w[kQK_K];
    const int exponent = normalise_block(src, kQK_K, x);
    make_weights(x, kQK_K, importance, 0.0, DefaultWeight::kUniform, w, true);
    *d_out = encode_scale(search_ternary(x, w), exponent);
    const float d = decode_scale(*d_out, exponent);
    for (int i = 0; i < kQK_K; ++i) {
        trits[i] = static_cast<uint8_t>((d > 0 ? clamp_int(nearest_int(x[i] / d), -1, 1) : 0) + 1);
    }
}

// `count` trits, most significant first, as the byte ceil(value * 256 / 243) (value < 243):
// the decoder multiplies by 3^n and reads the top trit, so the value is pre-scaled to 8 bits.
uint8_t pack_trits(const uint8_t* trits, int count, int stride) {
    int value = 0;
    for (int n = 0; n < count; ++n) value = value * 3 + trits[n * stride];
    for (int n = count; n < 5; ++n) value *= 3;  // pad to 5 trits (the qh bytes carry 4)
    return static_cast<uint8_t>((value * 256 + 242) / 243);
}

}  // namespace

void quantize_tq1_0(const float* x, uint8_t* dst, int64_t n, const float* importance) {
    for (int64_t ib = 0; ib < n / kQK_K; ++ib) {
        BlockTQ1_0 b{};
        uint8_t t[kQK_K];
        quantize_ternary(x + ib * kQK_K, block_importance(importance, ib, kQK_K), &b.d, t);
        for (int m = 0; m < 32; ++m) b.qs[m] = pack_trits(t + m, 5, 32);  // elements 0..159
        for (int m = 0; m < 16; ++m) b.qs[32 + m] = pack_trits(t + 160 + m, 5, 16);  // 160..239
        for (int j = 0; j < 4; ++j) b.qh[j] = pack_trits(t + 240 + j, 4, 4);         // 240..255
        store_block(b, dst, ib);
    }
}

void quantize_tq2_0(const float* x, uint8_t* dst, int64_t n, const float* importance) {
    for (int64_t ib = 0; ib < n / kQK_K; ++ib) {
        BlockTQ2_0 b{};
        uint8_t t[kQK_K];
        quantize_ternary(x + ib * kQK_K, block_importance(importance, ib, kQK_K), &b.d, t);
        for (int e = 0; e < kQK_K; ++e) {
            const int g = e / 128, k = (e % 128) / 32, m = e % 32;
            b.qs[32 * g + m] |= static_cast<uint8_t>(t[e] << (2 * k));
        }
        store_block(b, dst, ib);
    }
}

}  // namespace rf::quant::detail
