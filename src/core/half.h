// IEEE fp16 and bfloat16 <-> float conversion, bit-exact, usable on host and device.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/platform.h"

namespace rf {

RF_HOST_DEVICE inline float bits_to_float(uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}
RF_HOST_DEVICE inline uint32_t float_to_bits(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return bits;
}

// fp16 (1 sign, 5 exponent, 10 mantissa) -> float, exact for every input including subnormals,
// infinities and NaN.
RF_HOST_DEVICE inline float fp16_to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0x1f) return bits_to_float(sign | 0x7f800000u | (mantissa << 13));
    if (exponent == 0) {
        if (mantissa == 0) return bits_to_float(sign);
        // Subnormal: value = mantissa * 2^-24, exactly representable in float.
        const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-08f;
        return sign ? -magnitude : magnitude;
    }
    return bits_to_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

// float -> fp16, round to nearest even; overflow goes to infinity, NaN stays NaN.
RF_HOST_DEVICE inline uint16_t float_to_fp16(float f) {
    const uint32_t bits = float_to_bits(f);
    const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
    const uint32_t abs_bits = bits & 0x7fffffffu;
    if (abs_bits > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
    if (abs_bits >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
    if (abs_bits < 0x38800000u) {
        // Result is subnormal or zero: scale so the fp16 subnormal unit (2^-24) becomes 1 and
        // round to nearest even with integer arithmetic.
        if (abs_bits < 0x33000000u) return sign;  // below half the smallest subnormal
        const uint32_t exponent = abs_bits >> 23;
        const uint32_t mantissa = (abs_bits & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126u - exponent;  // 14..24 for this range
        uint32_t value = mantissa >> shift;
        const uint32_t remainder = mantissa & ((1u << shift) - 1u);
        const uint32_t halfway = 1u << (shift - 1u);
        if (remainder > halfway || (remainder == halfway && (value & 1u))) ++value;
        return static_cast<uint16_t>(sign | value);
    }
    // Normal: rebias exponent, round mantissa from 23 to 10 bits to nearest even.
    uint32_t value = abs_bits - (112u << 23);
    const uint32_t remainder = value & 0x1fffu;
    value >>= 13;
    if (remainder > 0x1000u || (remainder == 0x1000u && (value & 1u))) ++value;
    return static_cast<uint16_t>(sign | value);
}

// bfloat16 is the top half of a float.
RF_HOST_DEVICE inline float bf16_to_float(uint16_t h) { return bits_to_float(static_cast<uint32_t>(h) << 16); }

// float -> bfloat16, round to nearest even; NaN stays a quiet NaN.
RF_HOST_DEVICE inline uint16_t float_to_bf16(float f) {
    const uint32_t bits = float_to_bits(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
    const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<uint16_t>((bits + rounding) >> 16);
}

}  // namespace rf
