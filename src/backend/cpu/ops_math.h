// Vectorisable scalar math for the CPU ops: a branch-free exp accurate to a few ulp, written so
// the compiler can vectorise loops calling it (std::exp cannot be).
#pragma once

#include <bit>
#include <cstdint>

#include "core/platform.h"

namespace rf::cpu {

// e^x for x in [-87.3, 88.3] (clamped outside; NaN gives the lower bound's value): 2^n * e^r with |r| <= ln2 / 2 and a degree-6
// Taylor polynomial; relative error below 3e-7.
RF_ALWAYS_INLINE float fast_exp(float x) {
    constexpr float kLog2e = 1.44269504088896341f;
    constexpr float kLn2Hi = 0.693145751953125f;   // ln 2 split so n * kLn2Hi is exact
    constexpr float kLn2Lo = 1.428606765330187e-06f;
    constexpr float kRound = 12582912.0f;          // 1.5 * 2^23: float addition rounds to integer
    x = x > -87.3f ? x : -87.3f;  // NaN compares false: it never reaches the int conversion
    x = x < 88.3f ? x : 88.3f;
    const float n = (x * kLog2e + kRound) - kRound;
    const float r = (x - n * kLn2Hi) - n * kLn2Lo;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
    return p * std::bit_cast<float>(bits);
}

}  // namespace rf::cpu
