// Bit packing of the 6-bit sub-block scales of Q3_K, Q4_K/Q5_K and IQ4_XS, shared by the
// reference (de)quantizers and every optimised kernel so the packing is written down once.
#pragma once

#include <cstdint>

#include "core/platform.h"
#include "quant/blocks.h"

namespace rf::quant {

// Q4_K / Q5_K: 8 (scale, min) pairs of 6 bits in 12 bytes.
//   pairs 0..3: scale = bytes[j] & 63, min = bytes[j + 4] & 63
//   pairs 4..7: low 4 bits in bytes[j + 4] (scale: low nibble, min: high nibble); the top 2 bits
//               sit in bits 6..7 of bytes[j - 4] (scale) and bytes[j] (min).
RF_HOST_DEVICE inline void unpack_scale_min_k4(int j, const uint8_t* bytes, uint8_t* scale,
                                               uint8_t* min) {
    if (j < 4) {
        *scale = bytes[j] & 63;
        *min = bytes[j + 4] & 63;
    } else {
        *scale = static_cast<uint8_t>((bytes[j + 4] & 0xF) | ((bytes[j - 4] >> 6) << 4));
        *min = static_cast<uint8_t>((bytes[j + 4] >> 4) | ((bytes[j] >> 6) << 4));
    }
}

// Inverse of unpack_scale_min_k4; `scales` and `mins` are 8 values in [0, 63].
inline void pack_scale_min_k4(const uint8_t* scales, const uint8_t* mins, uint8_t* bytes) {
    for (int j = 0; j < kKScaleSize; ++j) bytes[j] = 0;
    for (int j = 0; j < 8; ++j) {
        const uint8_t ls = scales[j] & 63;
        const uint8_t lm = mins[j] & 63;
        if (j < 4) {
            bytes[j] |= ls;
            bytes[j + 4] |= lm;
        } else {
            bytes[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
            bytes[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
            bytes[j] |= static_cast<uint8_t>((lm >> 4) << 6);
        }
    }
}

// Q3_K: 16 scales of 6 bits (stored biased by 32) in 12 bytes. Low 4 bits of scale j are the low
// nibble of bytes[j] for j < 8 and the high nibble of bytes[j - 8] for j >= 8; the top 2 bits are
// bits 2*(j/4)..2*(j/4)+1 of bytes[8 + j % 4]. Returns the signed scale in [-32, 31].
RF_HOST_DEVICE inline int unpack_scale_q3_k(int j, const uint8_t* bytes) {
    const int low = j < 8 ? (bytes[j] & 0xF) : (bytes[j - 8] >> 4);
    const int high = (bytes[8 + j % 4] >> (2 * (j / 4))) & 3;
    return (low | (high << 4)) - 32;
}

// Inverse of unpack_scale_q3_k; `biased` holds 16 values in [0, 63] (signed scale + 32).
inline void pack_scales_q3_k(const uint8_t* biased, uint8_t* bytes) {
    for (int j = 0; j < 12; ++j) bytes[j] = 0;
    for (int j = 0; j < 16; ++j) {
        const uint8_t l = biased[j] & 63;
        if (j < 8) {
            bytes[j] |= l & 0xF;
        } else {
            bytes[j - 8] |= static_cast<uint8_t>((l & 0xF) << 4);
        }
        bytes[8 + j % 4] |= static_cast<uint8_t>((l >> 4) << (2 * (j / 4)));
    }
}

// IQ4_XS: 8 scales of 6 bits (biased by 32): low nibbles in scales_l (two per byte, even index
// in the low nibble), top 2 bits at bits 2*ib of scales_h. Returns the signed scale in [-32, 31].
RF_HOST_DEVICE inline int unpack_scale_iq4_xs(int ib, const uint8_t* scales_l, uint16_t scales_h) {
    const int low = (scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF;
    const int high = (scales_h >> (2 * ib)) & 3;
    return (low | (high << 4)) - 32;
}

}  // namespace rf::quant
