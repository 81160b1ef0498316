// Scalar reference dequantization of the grid-based i-quants: the oracle for optimised kernels.
// Each 256-element super-block is split into groups of 8 elements that share one grid entry;
// the float arithmetic follows the format's reference order so results are bit-exact.
#include "quant/dequantize_iq.h"

#include <bit>
#include <cstring>

#include "core/check.h"
#include "core/half.h"
#include "quant/iq_grids.h"

namespace rf::quant {
namespace {

static_assert(std::endian::native == std::endian::little,
              "block fields are read as little-endian words in place");

int64_t block_count(int64_t n) {
    RF_CHECK_MSG(n >= 0 && n % kQK_K == 0, "i-quant rows hold whole 256-element super-blocks");
    return n / kQK_K;
}

// y[j] = +-(scale * magnitude_j), magnitude_j = byte j of `entry`, negative where sign bit j is
// set. The product is formed before the sign is applied, matching the reference order.
void emit_signed8(uint64_t entry, uint8_t signs, float scale, float* y) {
    for (int j = 0; j < 8; ++j) {
        const float v = scale * static_cast<float>(iq_grid_byte(entry, j));
        y[j] = ((signs >> j) & 1u) ? -v : v;
    }
}

// Two 4-element IQ3 grid entries form one 8-element group (first entry = elements 0..3).
uint64_t join_iq3(uint32_t lo, uint32_t hi) {
    return static_cast<uint64_t>(lo) | (static_cast<uint64_t>(hi) << 32);
}

// y[j] = scale * (grid_j + delta), grid_j in {-1, 0, +1}.
void emit_iq1(uint64_t entry, float delta, float scale, float* y) {
    for (int j = 0; j < 8; ++j) {
        y[j] = scale * (static_cast<float>(iq1_grid_value(entry, j)) + delta);
    }
}

// IQ2_XS / IQ2_S group scale from a 4-bit code: d * (0.5 + s) / 4.
float iq2_group_scale(float d, uint32_t code4) {
    return d * (0.5f + static_cast<float>(code4)) * 0.25f;
}

}  // namespace

// Per 32 elements: 4 uint16 words = 4 x 8-bit grid index (bytes 0..3), then a uint32 holding
// 4 x 7-bit sign codes (bits 0..27) and a 4-bit scale (bits 28..31).
void dequantize_row_iq2_xxs(const BlockIQ2_XXS* src, float* dst, int64_t n) {
    const int64_t nb = block_count(n);
    for (int64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_float(src[i].d);
        for (int ib = 0; ib < kQK_K / 32; ++ib) {
            const uint16_t* q = src[i].qs + 4 * ib;
            const uint32_t indices = q[0] | (static_cast<uint32_t>(q[1]) << 16);
            const uint32_t aux = q[2] | (static_cast<uint32_t>(q[3]) << 16);
            const float db = d * (0.5f + static_cast<float>(aux >> 28)) * 0.25f;
            for (int l = 0; l < 4; ++l) {
                const uint64_t entry = kIq2xxsGrid[(indices >> (8 * l)) & 0xffu];
                emit_signed8(entry, iq_sign_byte(aux >> (7 * l)), db, dst);
                dst += 8;
            }
        }
    }
}

// Per 8 elements: a uint16 with a 9-bit grid index and a 7-bit sign code; per 16 elements a
// 4-bit scale (low nibble of scales[ib] for the first 16 of group ib, high nibble for the rest).
void dequantize_row_iq2_xs(const BlockIQ2_XS* src, float* dst, int64_t n) {
    const int64_t nb = block_count(n);
    for (int64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_float(src[i].d);
        for (int ib = 0; ib < kQK_K / 32; ++ib) {
            const float db[2] = {iq2_group_scale(d, src[i].scales[ib] & 0xfu),
                                 iq2_group_scale(d, src[i].scales[ib] >> 4)};
            for (int l = 0; l < 4; ++l) {
                const uint16_t word = src[i].qs[4 * ib + l];
                emit_signed8(kIq2xsGrid[word & 511u], iq_sign_byte(word >> 9), db[l / 2], dst);
                dst += 8;
            }
        }
    }
}

// qs[0..31]: low 8 bits of the 10-bit grid indices; qs[32..63]: one explicit sign byte per 8
// elements; qh[ib]: bits 2l..2l+1 are index bits 8..9 of entry l of group ib; scales as IQ2_XS.
void dequantize_row_iq2_s(const BlockIQ2_S* src, float* dst, int64_t n) {
    const int64_t nb = block_count(n);
    for (int64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_float(src[i].d);
        const uint8_t* qs = src[i].qs;
        const uint8_t* signs = src[i].qs + kQK_K / 8;
        for (int ib = 0; ib < kQK_K / 32; ++ib) {
            const float db[2] = {iq2_group_scale(d, src[i].scales[ib] & 0xfu),
                                 iq2_group_scale(d, src[i].scales[ib] >> 4)};
            for (int l = 0; l < 4; ++l) {
                const uint32_t high = (src[i].qh[ib] >> (2 * l)) & 3u;
                const uint32_t index = qs[4 * ib + l] | (high << 8);
                emit_signed8(kIq2sGrid[index], signs[4 * ib + l], db[l / 2], dst);
                dst += 8;
            }
        }
    }
}

// qs[0..63]: 8-bit grid indices, 2 per 8 elements; then 8 little-endian uint32 words, one per
// 32 elements, holding 4 x 7-bit sign codes and a 4-bit scale as IQ2_XXS (but d * (0.5 + s) / 2).
void dequantize_row_iq3_xxs(const BlockIQ3_XXS* src, float* dst, int64_t n) {
    const int64_t nb = block_count(n);
    for (int64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_float(src[i].d);
        const uint8_t* qs = src[i].qs;
        const uint8_t* scales_and_signs = src[i].qs + kQK_K / 4;
        for (int ib = 0; ib < kQK_K / 32; ++ib) {
            uint32_t aux;
            std::memcpy(&aux, scales_and_signs + 4 * ib, sizeof aux);
            const float db = d * (0.5f + static_cast<float>(aux >> 28)) * 0.5f;
            for (int l = 0; l < 4; ++l) {
                const uint8_t* q = qs + 8 * ib + 2 * l;
                const uint64_t entry = join_iq3(kIq3xxsGrid[q[0]], kIq3xxsGrid[q[1]]);
                emit_signed8(entry, iq_sign_byte(aux >> (7 * l)), db, dst);
                dst += 8;
            }
        }
    }
}

// qs[8 ib + m]: low 8 bits of 9-bit grid index m of group ib (4 elements each), qh[ib] bit m:
// its ninth bit; signs: one explicit byte per 8 elements; scales[k]: 4-bit scales of groups
// 2k (low nibble) and 2k + 1 (high nibble), applied as d * (1 + 2 s).
void dequantize_row_iq3_s(const BlockIQ3_S* src, float* dst, int64_t n) {
    const int64_t nb = block_count(n);
    for (int64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_float(src[i].d);
        for (int ib = 0; ib < kQK_K / 32; ++ib) {
            const uint32_t code = (src[i].scales[ib / 2] >> (4 * (ib % 2))) & 0xfu;
            const float db = d * static_cast<float>(1 + 2 * code);
            const uint8_t* qs = src[i].qs + 8 * ib;
            const uint32_t qh = src[i].qh[ib];
            for (int l = 0; l < 4; ++l) {
                const uint32_t lo = qs[2 * l] | (((qh >> (2 * l)) & 1u) << 8);
                const uint32_t hi = qs[2 * l + 1] | (((qh >> (2 * l + 1)) & 1u) << 8);
                const uint64_t entry = join_iq3(kIq3sGrid[lo], kIq3sGrid[hi]);
                emit_signed8(entry, src[i].signs[4 * ib + l], db, dst);
                dst += 8;
            }
        }
    }
}

// qs[4 ib + l]: low 8 bits of the 11-bit grid index of entry l in group ib; qh[ib] bits
// 3l..3l+2: its top 3 bits, bits 12..14: scale s (d * (2 s + 1)), bit 15: delta sign.
void dequantize_row_iq1_s(const BlockIQ1_S* src, float* dst, int64_t n) {
    const int64_t nb = block_count(n);
    for (int64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_float(src[i].d);
        for (int ib = 0; ib < kQK_K / 32; ++ib) {
            const uint32_t qh = src[i].qh[ib];
            const float dl = d * static_cast<float>(2 * ((qh >> 12) & 7u) + 1);
            const float delta = (qh & 0x8000u) ? -kIq1Delta : kIq1Delta;
            for (int l = 0; l < 4; ++l) {
                const uint32_t index = src[i].qs[4 * ib + l] | (((qh >> (3 * l)) & 7u) << 8);
                emit_iq1(kIq1sGrid[index], delta, dl, dst);
                dst += 8;
            }
        }
    }
}

// As IQ1_S with finer side information: qh holds one nibble per 8 elements (3 index bits +
// delta sign in bit 3); each little-endian uint16 of `scales` holds 4 x 3-bit scales (one per
// 16 elements) in bits 0..11 and a quarter of the fp16 super-block scale in bits 12..15.
void dequantize_row_iq1_m(const BlockIQ1_M* src, float* dst, int64_t n) {
    const int64_t nb = block_count(n);
    for (int64_t i = 0; i < nb; ++i) {
        const uint8_t* sc = src[i].scales;
        const float d = fp16_to_float(iq1m_scale_bits(sc));
        for (int ib = 0; ib < kQK_K / 32; ++ib) {
            const uint8_t* w = sc + 2 * (ib / 2);
            const uint32_t word = w[0] | (static_cast<uint32_t>(w[1]) << 8);
            const uint32_t shift = 6 * (ib % 2);
            const float dl[2] = {d * static_cast<float>(2 * ((word >> shift) & 7u) + 1),
                                 d * static_cast<float>(2 * ((word >> (shift + 3)) & 7u) + 1)};
            for (int l = 0; l < 4; ++l) {
                const uint32_t nibble = (src[i].qh[2 * ib + l / 2] >> (4 * (l % 2))) & 0xfu;
                const uint32_t index = src[i].qs[4 * ib + l] | ((nibble & 7u) << 8);
                const float delta = (nibble & 8u) ? -kIq1Delta : kIq1Delta;
                emit_iq1(kIq1sGrid[index], delta, dl[l / 2], dst);
                dst += 8;
            }
        }
    }
}

}  // namespace rf::quant
