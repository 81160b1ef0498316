// Codebooks of the non-linear 4-bit formats (IQ4_NL / IQ4_XS, MXFP4) and the E8M0 scale decode.
// Part of the file format: kernels on every backend must use exactly these values.
#pragma once

#include <cstdint>

#include "core/half.h"
#include "core/platform.h"

namespace rf::quant {

// IQ4_NL / IQ4_XS: x = d * kIQ4NLValues[q]. Sorted ascending; note the asymmetric ends.
inline constexpr int8_t kIQ4NLValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

// MXFP4: the 16 FP4 E2M1 values (sign bit 3, exponent bits 1..2, mantissa bit 0), doubled so they
// are integers: {0, 0.5, 1, 1.5, 2, 3, 4, 6} * 2. The doubling is undone by halving the scale.
inline constexpr int8_t kMXFP4Values[16] = {0, 1,  2,  3,  4,  6,  8,  12,
                                            0, -1, -2, -3, -4, -6, -8, -12};

// E8M0 scale byte -> 2^(e - 127) / 2 as a float (the half compensates the doubled values).
// e = 0 and e = 1 give the subnormals 2^-128 and 2^-127; e = 255 (NaN in the OCP spec) is
// decoded as 2^127 like ggml does, so any byte gives a finite scale.
RF_HOST_DEVICE inline float e8m0_to_float_half(uint8_t e) {
    const uint32_t bits = e < 2 ? (0x00200000u << e) : (static_cast<uint32_t>(e - 1) << 23);
    return bits_to_float(bits);
}

}  // namespace rf::quant
