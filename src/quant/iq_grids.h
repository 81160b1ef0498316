// The i-quant codebooks plus the small tables and constants derived from them, shared by the
// scalar reference, SIMD kernels and (by include) CUDA/HIP code. Everything is constexpr.
#pragma once

#include <cstdint>

#include "core/platform.h"
#include "quant/iq_grids_iq1_iq3.h"
#include "quant/iq_grids_iq2.h"

namespace rf::quant {

// Grids (generated, see iq_grids_iq2.h / iq_grids_iq1_iq3.h):
//   kIq2xxsGrid[256], kIq2xsGrid[512], kIq2sGrid[1024]  uint64_t, 8 magnitudes in {8, 25, 43}
//   kIq3xxsGrid[256]  uint32_t, 4 magnitudes in {4, 12, 20, 28, 36, 44, 52, 62}
//   kIq3sGrid[512]    uint32_t, 4 magnitudes in {1, 3, 5, ..., 15}
//   kIq1sGrid[2048]   uint64_t, 8 int8 values in {-1, 0, +1}
// Element j of an entry is byte j (bits 8j..8j+7).
// GPU code cannot index a host constexpr array from a kernel under every compiler; mirror the
// table into __device__/__constant__ storage (e.g. initialise it from these arrays by pack
// expansion, or copy it to a symbol at start-up).

// IQ1_S and IQ1_M shift every grid value by +-kIq1Delta before scaling (sign chosen per group).
inline constexpr float kIq1Delta = 0.125f;

// Element j of a packed grid entry as an unsigned magnitude (IQ2/IQ3 grids).
RF_HOST_DEVICE constexpr uint8_t iq_grid_byte(uint64_t entry, int j) {
    return static_cast<uint8_t>(entry >> (8 * j));
}

// Element j of a kIq1sGrid entry as a signed value in {-1, 0, +1}.
RF_HOST_DEVICE constexpr int8_t iq1_grid_value(uint64_t entry, int j) {
    return static_cast<int8_t>(static_cast<uint8_t>(entry >> (8 * j)));
}

// The 2/3-bit i-quants store 8 signs in 7 bits: the eighth sign is implied by requiring an even
// number of negative elements (the quantizer flips the smallest one when needed). Returns the
// full sign byte for a 7-bit sign code: bit j set means element j is negative.
RF_HOST_DEVICE constexpr uint8_t iq_sign_byte(uint32_t code7) {
    uint32_t parity = code7 & 0x7fu;
    parity ^= parity >> 4;
    parity ^= parity >> 2;
    parity ^= parity >> 1;
    return static_cast<uint8_t>((code7 & 0x7fu) | ((parity & 1u) << 7));
}

// Sign byte -> 8 byte masks (0xff where the element is negative), the form SIMD kernels use to
// negate 8 grid bytes at once.
RF_HOST_DEVICE constexpr uint64_t iq_sign_mask64(uint8_t sign_byte) {
    uint64_t mask = 0;
    for (int j = 0; j < 8; ++j) {
        if ((sign_byte >> j) & 1u) mask |= uint64_t{0xff} << (8 * j);
    }
    return mask;
}

// Lookup-table forms of the two functions above, for kernels that prefer a gather.
struct IqSignTables {
    uint8_t sign_bytes[128];  // iq_sign_byte(code7)
    uint64_t sign_masks[128];  // iq_sign_mask64(iq_sign_byte(code7))
};

constexpr IqSignTables make_iq_sign_tables() {
    IqSignTables tables{};
    for (uint32_t code = 0; code < 128; ++code) {
        tables.sign_bytes[code] = iq_sign_byte(code);
        tables.sign_masks[code] = iq_sign_mask64(tables.sign_bytes[code]);
    }
    return tables;
}

inline constexpr IqSignTables kIqSignTables = make_iq_sign_tables();

// IQ1_M has no fp16 field: the super-block scale's 16 bits are spread over the top nibbles of
// the four little-endian uint16 words in `scales` (word k holds bits 4k..4k+3).
RF_HOST_DEVICE constexpr uint16_t iq1m_scale_bits(const uint8_t* scales) {
    uint32_t bits = 0;
    for (int k = 0; k < 4; ++k) bits |= static_cast<uint32_t>(scales[2 * k + 1] >> 4) << (4 * k);
    return static_cast<uint16_t>(bits);
}

}  // namespace rf::quant
