// Building blocks of the reference quantizers: block normalisation, error weights and the
// weighted least-squares scale searches shared by the legacy, K- and IQ4 formats.
//
// Every quantizer first scales its block by a power of two so that max |x| lies in [0.5, 1).
// The searches then never see huge or tiny numbers (no overflow, no division by a subnormal),
// and because the factor is a power of two the result is the same as without it; it is undone
// when the scale is stored (encode_scale saturates at the largest finite fp16).
#pragma once

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace rf::quant::detail {

// Round to nearest, ties to even, for |v| <= 2^22: adding 1.5 * 2^23 leaves the rounded
// integer in the low mantissa bits. Inputs are clamped so the trick is always valid.
inline int nearest_int(float v) {
    constexpr float kLimit = 4194303.0f;  // 2^22 - 1
    if (v > kLimit) v = kLimit;
    if (v < -kLimit) v = -kLimit;
    const float shifted = v + 12582912.0f;
    int32_t bits;
    std::memcpy(&bits, &shifted, sizeof bits);
    return (bits & 0x007fffff) - 0x00400000;
}

inline int clamp_int(int v, int lo, int hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

// A finite stand-in for an input value: NaN -> 0, +-inf -> +-FLT_MAX.
inline float sanitise(float v) {
    if (std::isnan(v)) return 0.0f;
    if (std::isinf(v)) return v > 0 ? FLT_MAX : -FLT_MAX;
    return v;
}

// Sub-blocks whose largest normalised magnitude is below this are treated as zero.
inline constexpr float kGroupEps = 1e-15f;

// Copies `n` values into `dst`, replacing NaN by 0 and +-inf by +-FLT_MAX, and scales them by
// 2^-exponent so that max |dst| is in [0.5, 1). Returns the exponent (0 for an all-zero block).
int normalise_block(const float* src, int n, float* dst);

// Stores a scale found in the normalised domain: fp16(scale * 2^exponent), saturated to
// +-65504 so that a stored scale is always finite.
uint16_t encode_scale(float scale, int exponent);
// The stored scale brought back into the normalised domain (for re-quantising against it).
float decode_scale(uint16_t half_bits, int exponent);

// The fp16 value `steps` units in the last place away from `h` in magnitude, keeping the sign;
// 0 when that leaves the positive finite range (or h is zero).
inline uint16_t fp16_neighbour(uint16_t h, int steps) {
    const int magnitude = (h & 0x7fff) + steps;
    if ((h & 0x7fff) == 0 || magnitude < 1 || magnitude > 0x7bff) return 0;
    return static_cast<uint16_t>((h & 0x8000) | magnitude);
}

// How elements are weighted in the error when no importance is given.
enum class DefaultWeight {
    kRmsPlusAbs,     // sqrt(sigma2) + |x|: leans towards the large values (most formats)
    kSqrtSigmaPlus,  // sqrt(sigma2 + x^2) (Q2_K)
    kUniform,        // 1: plain squared error (ternary and FP4 formats)
};

// Fills w[0..n) with error weights for the normalised values x. With importance (the raw
// per-element imatrix values; NaN, infinite and negative ones count as 0):
// w = importance * sqrt(sigma2 + x^2), or the importance alone when `raw_importance`. sigma2 is
// in the normalised domain. Weights are rescaled to max 1 and floored at 1e-6 so no element is
// ignored completely; if all would be 0 they become 1. Call it once per super-block so that the
// sub-blocks keep their relative weight.
void make_weights(const float* x, int n, const float* importance, double sigma2,
                  DefaultWeight fallback, float* w, bool raw_importance = false);

// Symmetric: x ~ scale * l with integer l in [-nmax, nmax - 1] (the largest magnitude may use
// the extra negative level). Tries scales around max|x| / nmax for both signs, keeps the one with
// the smallest weighted error, then improves l element by element. Writes l to L and returns the
// least-squares scale (0 for an all-zero block; L is then 0).
float search_symmetric(int n, int nmax, const float* x, const float* w, int8_t* L);

// Asymmetric: x ~ scale * l + offset with integer l in [0, nmax]. offset <= 0 unless
// `allow_positive_offset` (K-quants subtract a non-negative min; Q4_1/Q5_1 store a signed one).
// Scans iscale = (nmax + rmin + rdelta * i) / range for i = 0..nstep, fitting scale and offset by
// weighted least squares each time, then alternates re-rounding and re-fitting.
struct ScaleSearch {
    float rmin = -0.9f;
    float rdelta = 0.05f;
    int nstep = 36;
};
float search_scale_offset(int n, int nmax, const float* x, const float* w, uint8_t* L,
                          float* offset, ScaleSearch search, bool allow_positive_offset);

// Non-negative values (sub-block scales or mins) as scale * l with l in [0, nmax]; returns the
// scale (0 when all values are 0) and writes l.
float search_positive_scale(int n, int nmax, const float* x, const float* w, uint8_t* L);

// Weighted squared error of scale * L + offset against x.
float weighted_error(int n, const float* x, const float* w, float scale, float offset,
                     const uint8_t* L);

}  // namespace rf::quant::detail
