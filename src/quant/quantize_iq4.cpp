// Reference quantizers of the non-linear 4-bit formats IQ4_NL (32-element blocks, fp16 scale)
// and IQ4_XS (256-element super-blocks, 6-bit sub-block scales). The codebook is fixed, so the
// search is over the scale only: candidates around max|x| / 127 (or / 113 for the other sign),
// each with a least-squares re-fit, then alternating re-rounding and re-fitting.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>

#include "quant/blocks.h"
#include "quant/quant_search.h"
#include "quant/reference_detail.h"
#include "quant/value_tables.h"

namespace rf::quant::detail {
namespace {

constexpr float kInf = INFINITY;

// Midpoints between consecutive codebook values (exact half-integers).
struct Midpoints {
    float m[15];
    constexpr Midpoints() : m{} {
        for (int k = 0; k < 15; ++k)
            m[k] = 0.5f * static_cast<float>(kIQ4NLValues[k] + kIQ4NLValues[k + 1]);
    }
};
constexpr Midpoints kMid;

// Index of the codebook value nearest to v, ties to the lower index: the number of midpoints
// strictly below v. Branch-free; this is the inner loop of the scale search.
int nearest_iq4(float v) {
    int index = 0;
    for (int k = 0; k < 15; ++k) index += v > kMid.m[k] ? 1 : 0;
    return index;
}

struct Fit {
    float qx = 0;  // sum w * value * x
    float q2 = 0;  // sum w * value^2
    // Smaller weighted error at the least-squares scale qx / q2.
    bool better_than(const Fit& o) const { return q2 > 0 && qx * qx * o.q2 > o.qx * o.qx * q2; }
};

Fit round_iq4(int n, const float* x, const float* w, float iscale, uint8_t* L) {
    Fit f;
    for (int i = 0; i < n; ++i) {
        L[i] = static_cast<uint8_t>(nearest_iq4(iscale * x[i]));
        const float q = static_cast<float>(kIQ4NLValues[L[i]]);
        f.qx += w[i] * q * x[i];
        f.q2 += w[i] * q * q;
    }
    return f;
}

// Best scale for x ~ d * kIQ4NLValues[L]; returns 0 (and L = 0) for an all-zero block.
float search_iq4(int n, const float* x, const float* w, uint8_t* L) {
    float amax = 0, max = 0;
    for (int i = 0; i < n; ++i) {
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            max = x[i];
        }
    }
    std::memset(L, 0, static_cast<size_t>(n));
    if (amax < kGroupEps) return 0;
    uint8_t trial[kQK_K];
    Fit best;
    bool have = false;
    auto consider = [&](float iscale) {
        const Fit f = round_iq4(n, x, w, iscale, trial);
        if (f.q2 > 0 && (!have || f.better_than(best))) {
            best = f;
            have = true;
            std::memcpy(L, trial, static_cast<size_t>(n));
            return true;
        }
        return false;
    };
    const float lo = kIQ4NLValues[0], hi = kIQ4NLValues[15];
    for (int k = -7; k <= 7; ++k) {
        consider((lo + static_cast<float>(k)) / max);
        consider((hi + static_cast<float>(k)) / max);
    }
    if (!have) return 0;
    for (int iter = 0; iter < 4 && best.qx != 0; ++iter) {
        if (!consider(best.q2 / best.qx)) break;
    }
    return best.qx / best.q2;
}

// Rounds against scale `d` and returns the weighted error.
float round_iq4_error(int n, const float* x, const float* w, float d, uint8_t* L) {
    const float inv = d != 0 ? 1.0f / d : 0.0f;
    float err = 0;
    for (int i = 0; i < n; ++i) {
        L[i] = static_cast<uint8_t>(nearest_iq4(inv * x[i]));
        const float diff = d * static_cast<float>(kIQ4NLValues[L[i]]) - x[i];
        err += w[i] * diff * diff;
    }
    return err;
}

double mean_square(const float* x, int n) {
    double s = 0;
    for (int i = 0; i < n; ++i) s += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    return s / n;
}

void pack_nibbles_32(const uint8_t* L, uint8_t* qs) {
    for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
}

}  // namespace

void quantize_iq4_nl(const float* src, uint8_t* dst, int64_t n, const float* importance) {
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        float x[kQK32], w[kQK32];
        uint8_t L[kQK32], L2[kQK32];
        const int exponent = normalise_block(src + ib * kQK32, kQK32, x);
        const float* imp = importance != nullptr ? importance + ib * kQK32 : nullptr;
        make_weights(x, kQK32, imp, 2.0 * mean_square(x, kQK32), DefaultWeight::kRmsPlusAbs, w);
        const float d = search_iq4(kQK32, x, w, L);
        // Round against the stored scale, then try the re-fitted scale of those indices.
        BlockIQ4_NL b{};
        b.d = encode_scale(d, exponent);
        float err = round_iq4_error(kQK32, x, w, decode_scale(b.d, exponent), L);
        float qx = 0, q2 = 0;
        for (int i = 0; i < kQK32; ++i) {
            const float q = static_cast<float>(kIQ4NLValues[L[i]]);
            qx += w[i] * q * x[i];
            q2 += w[i] * q * q;
        }
        if (q2 > 0) {
            const uint16_t refit = encode_scale(qx / q2, exponent);
            if (round_iq4_error(kQK32, x, w, decode_scale(refit, exponent), L2) < err) {
                b.d = refit;
                std::memcpy(L, L2, sizeof L);
            }
        }
        pack_nibbles_32(L, b.qs);
        store_block(b, dst, ib);
    }
}

namespace {

// 6-bit codes (signed, [-32, 31]) of the 8 sub-block scales against the stored super-block
// scale `dd`: the rounded ratio or a neighbour, whichever has the smallest real error.
float choose_iq4_codes(const float* x, const float* w, const float* scales, float dd, int8_t* codes,
                       uint8_t* L) {
    uint8_t trial[32];
    float total = 0;
    for (int j = 0; j < 8; ++j) {
        float best = kInf;
        const int c0 = clamp_int(nearest_int(scales[j] / dd), -32, 31);
        for (int a : {0, -1, 1}) {
            const int c = clamp_int(c0 + a, -32, 31);
            const float err =
                round_iq4_error(32, x + 32 * j, w + 32 * j, dd * static_cast<float>(c), trial);
            if (err < best) {
                best = err;
                codes[j] = static_cast<int8_t>(c);
                std::memcpy(L + 32 * j, trial, sizeof trial);
            }
        }
        total += best;
    }
    return total;
}

}  // namespace

// The super-block scale (d ~ max|x| / 4064) is tried at its fp16 neighbours too: for small
// tensors it is an fp16 subnormal with few significant bits.
void quantize_iq4_xs(const float* src, uint8_t* dst, int64_t n, const float* importance) {
    for (int64_t ib = 0; ib < n / kQK_K; ++ib) {
        float x[kQK_K], w[kQK_K], scales[8], sw[8];
        uint8_t L[kQK_K], trial_L[kQK_K];
        int8_t codes[8] = {}, trial_codes[8];
        const int exponent = normalise_block(src + ib * kQK_K, kQK_K, x);
        const float* imp = importance != nullptr ? importance + ib * kQK_K : nullptr;
        make_weights(x, kQK_K, imp, 2.0 * mean_square(x, kQK_K), DefaultWeight::kRmsPlusAbs, w);
        for (int j = 0; j < 8; ++j) {
            scales[j] = search_iq4(32, x + 32 * j, w + 32 * j, L + 32 * j);
            sw[j] = 0;
            for (int i = 0; i < 32; ++i) sw[j] += w[32 * j + i];
        }
        const uint16_t d0 = encode_scale(search_symmetric(8, 32, scales, sw, codes), exponent);
        BlockIQ4_XS b{};
        std::memset(L, 0, sizeof L);
        std::memset(codes, 0, sizeof codes);
        float best = kInf;
        for (int k : {0, -1, 1, -2, 2, -3, 3}) {
            const uint16_t h = fp16_neighbour(d0, k);
            const float dd = decode_scale(h, exponent);
            if (dd == 0) continue;
            const float err = choose_iq4_codes(x, w, scales, dd, trial_codes, trial_L);
            if (err < best) {
                best = err;
                b.d = h;
                std::memcpy(codes, trial_codes, sizeof codes);
                std::memcpy(L, trial_L, sizeof L);
            }
        }
        for (int j = 0; j < 8; ++j) {
            const int biased = codes[j] + 32;
            b.scales_l[j / 2] |= static_cast<uint8_t>((biased & 0xF) << (4 * (j % 2)));
            b.scales_h |= static_cast<uint16_t>((biased >> 4) << (2 * j));
            pack_nibbles_32(L + 32 * j, b.qs + 16 * j);
        }
        store_block(b, dst, ib);
    }
}

}  // namespace rf::quant::detail
