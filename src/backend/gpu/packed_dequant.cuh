// Device-side dequantization of one 32-element chunk of a packed weight row (gpu_matrix.h
// layouts). Shared by get_rows (embedding lookup) and the dequantize-to-F16 GEMM path.
#pragma once

#include <cstdint>

#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/matvec.h"
#include "quant/k_scales.h"
#include "quant/value_tables.h"

namespace rf::gpu {

__device__ __forceinline__ float half_bits_to_float(uint16_t bits) { return __half2float(__ushort_as_half(bits)); }

// 16 bytes from a 16-byte-aligned address (every packed field is aligned so), as bytes.
struct Bytes16 {
    uint8_t b[16];
};
__device__ __forceinline__ Bytes16 load16(const uint8_t* p) {
    const int4 v = *reinterpret_cast<const int4*>(p);
    Bytes16 out;
    memcpy(out.b, &v, 16);
    return out;
}

// MXFP4 code q (sign bit 3, exponent bits 1-2, mantissa bit 0) as the doubled integer value of
// quant/value_tables.h kMXFP4Values, computed rather than looked up (device code).
__device__ __forceinline__ int mxfp4_doubled(int q) {
    const int e = (q >> 1) & 3, m = q & 1;
    const int magnitude = e == 0 ? m : (2 + m) << (e - 1);
    return (q & 8) ? -magnitude : magnitude;
}

// The IQ4_NL / IQ4_XS codebook in constant memory (device code cannot index the host array).
#define RF_IQ4NL(i) quant::kIQ4NLValues[i]
static __constant__ int8_t kIQ4NLDevice[16] = {
    RF_IQ4NL(0), RF_IQ4NL(1), RF_IQ4NL(2),  RF_IQ4NL(3),  RF_IQ4NL(4),  RF_IQ4NL(5),  RF_IQ4NL(6),  RF_IQ4NL(7),
    RF_IQ4NL(8), RF_IQ4NL(9), RF_IQ4NL(10), RF_IQ4NL(11), RF_IQ4NL(12), RF_IQ4NL(13), RF_IQ4NL(14), RF_IQ4NL(15)};
#undef RF_IQ4NL

// Writes elements [32 * chunk, 32 * chunk + 32) of row `row` of `w` to out[0..31].
__device__ inline void dequant_chunk32(const DeviceMatrix& w, int64_t row, int64_t chunk, float* out) {
    const uint8_t* qs = w.qs + row * w.qs_row_bytes;
    const uint16_t* sc = w.scales ? w.scales + row * w.scale_row_count : nullptr;
    switch (w.type) {
        case quant::GgmlType::kQ4_0: {
            const Bytes16 q = load16(qs + chunk * 16);
            const float d = half_bits_to_float(sc[chunk]);
#pragma unroll
            for (int j = 0; j < 16; ++j) {
                out[j] = d * static_cast<float>((q.b[j] & 0x0f) - 8);
                out[j + 16] = d * static_cast<float>((q.b[j] >> 4) - 8);
            }
            break;
        }
        case quant::GgmlType::kQ8_0: {
            const Bytes16 q[2] = {load16(qs + chunk * 32), load16(qs + chunk * 32 + 16)};
            const float d = half_bits_to_float(sc[chunk]);
#pragma unroll
            for (int j = 0; j < 32; ++j) out[j] = d * static_cast<float>(static_cast<int8_t>(q[j / 16].b[j % 16]));
            break;
        }
        case quant::GgmlType::kQ4_K: {
            const uint8_t* block = qs + (chunk / 8) * 144;
            const int is = static_cast<int>(chunk % 8);
            const Bytes16 head = load16(block);  // d, dmin, 12 scale bytes
            const float d = half_bits_to_float(static_cast<uint16_t>(head.b[0] | (head.b[1] << 8)));
            const float dmin = half_bits_to_float(static_cast<uint16_t>(head.b[2] | (head.b[3] << 8)));
            uint8_t scale, min;
            quant::unpack_scale_min_k4(is, head.b + 4, &scale, &min);
            const Bytes16 q[2] = {load16(block + 16 + 32 * (is / 2)), load16(block + 32 + 32 * (is / 2))};
            const int shift = (is % 2) * 4;
            const float dl = d * static_cast<float>(scale), ml = dmin * static_cast<float>(min);
#pragma unroll
            for (int j = 0; j < 32; ++j) out[j] = dl * static_cast<float>((q[j / 16].b[j % 16] >> shift) & 0x0f) - ml;
            break;
        }
        case quant::GgmlType::kQ5_K: {
            const uint8_t* block = qs + (chunk / 8) * 176;
            const int is = static_cast<int>(chunk % 8);  // sub-block; its fifth bits are bit `is` of qh
            const Bytes16 head = load16(block);  // d, dmin, 12 scale bytes
            const float d = half_bits_to_float(static_cast<uint16_t>(head.b[0] | (head.b[1] << 8)));
            const float dmin = half_bits_to_float(static_cast<uint16_t>(head.b[2] | (head.b[3] << 8)));
            uint8_t scale, min;
            quant::unpack_scale_min_k4(is, head.b + 4, &scale, &min);
            const Bytes16 qh[2] = {load16(block + 16), load16(block + 32)};
            const Bytes16 q[2] = {load16(block + 48 + 32 * (is / 2)), load16(block + 64 + 32 * (is / 2))};
            const int shift = (is % 2) * 4;
            const float dl = d * static_cast<float>(scale), ml = dmin * static_cast<float>(min);
#pragma unroll
            for (int j = 0; j < 32; ++j) {
                const int low = (q[j / 16].b[j % 16] >> shift) & 0x0f;
                const int high = (qh[j / 16].b[j % 16] >> is) & 1;
                out[j] = dl * static_cast<float>(low | (high << 4)) - ml;
            }
            break;
        }
        case quant::GgmlType::kQ6_K: {
            const uint8_t* block = qs + (chunk / 8) * 208;
            const float d = half_bits_to_float(sc[chunk / 8]);
            const int e0 = static_cast<int>(chunk % 8) * 32;  // element offset inside the block
            const int n = e0 / 128;
            const int g = (e0 % 128) / 32;  // group: 0 ql low, 1 ql[+32] low, 2 ql high, 3 ql[+32] high
            const Bytes16 ql[2] = {load16(block + 64 * n + (g % 2) * 32), load16(block + 64 * n + (g % 2) * 32 + 16)};
            const Bytes16 qh[2] = {load16(block + 128 + 32 * n), load16(block + 128 + 32 * n + 16)};
            const Bytes16 scales = load16(block + 192);
#pragma unroll
            for (int l = 0; l < 32; ++l) {
                const int q_l = ql[l / 16].b[l % 16];
                const int low = g < 2 ? (q_l & 0x0f) : (q_l >> 4);
                const int high = (qh[l / 16].b[l % 16] >> (2 * g)) & 3;
                const int8_t scale = static_cast<int8_t>(scales.b[8 * n + l / 16 + 2 * g]);
                out[l] = d * static_cast<float>(scale) * static_cast<float>((low | (high << 4)) - 32);
            }
            break;
        }
        case quant::GgmlType::kF16: {
            const uint8_t* h = qs + chunk * 64;
#pragma unroll
            for (int k = 0; k < 4; ++k) halves8_to_float(*reinterpret_cast<const int4*>(h + 16 * k), out + 8 * k);
            break;
        }
        // The repacked layouts of the remaining types (gpu_matrix.h).
        case quant::GgmlType::kQ4_1: {
            const Bytes16 q = load16(qs + chunk * 16);
            const float d = half_bits_to_float(sc[2 * chunk]), m = half_bits_to_float(sc[2 * chunk + 1]);
#pragma unroll
            for (int j = 0; j < 16; ++j) {
                out[j] = static_cast<float>(q.b[j] & 0x0f) * d + m;
                out[j + 16] = static_cast<float>(q.b[j] >> 4) * d + m;
            }
            break;
        }
        case quant::GgmlType::kQ5_0:
        case quant::GgmlType::kQ5_1: {
            // Groups of 4 blocks: 4 x 16 bytes of nibbles, then 4 x u32 of fifth bits (bit j: element j).
            const uint8_t* group = qs + (chunk / 4) * 80;
            const int in_group = static_cast<int>(chunk % 4);
            const Bytes16 q = load16(group + 16 * in_group);
            const uint32_t qh = *reinterpret_cast<const uint32_t*>(group + 64 + 4 * in_group);
            const bool has_min = w.type == quant::GgmlType::kQ5_1;
            const float d = half_bits_to_float(sc[has_min ? 2 * chunk : chunk]);
            const float m = has_min ? half_bits_to_float(sc[2 * chunk + 1]) : -16.0f * d;
#pragma unroll
            for (int j = 0; j < 16; ++j) {
                const int low = (q.b[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
                const int high = (q.b[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
                out[j] = static_cast<float>(low) * d + m;
                out[j + 16] = static_cast<float>(high) * d + m;
            }
            break;
        }
        case quant::GgmlType::kMXFP4: {
            const Bytes16 q = load16(qs + chunk * 16);
            const float d = quant::e8m0_to_float_half(reinterpret_cast<const uint8_t*>(sc)[chunk]);
#pragma unroll
            for (int j = 0; j < 16; ++j) {
                out[j] = static_cast<float>(mxfp4_doubled(q.b[j] & 0x0f)) * d;
                out[j + 16] = static_cast<float>(mxfp4_doubled(q.b[j] >> 4)) * d;
            }
            break;
        }
        case quant::GgmlType::kIQ4_NL:
        case quant::GgmlType::kIQ4_XS: {
            // IQ4_XS: the chunk is sub-block chunk % 8 of its super-block, whose scales row holds
            // {d, scales_h, scales_l[4]}; IQ4_NL: one d per chunk.
            const Bytes16 q = load16(qs + chunk * 16);
            float d;
            if (w.type == quant::GgmlType::kIQ4_NL) {
                d = half_bits_to_float(sc[chunk]);
            } else {
                const uint16_t* head = sc + 4 * (chunk / 8);
                const int sub_scale = quant::unpack_scale_iq4_xs(static_cast<int>(chunk % 8),
                                                                 reinterpret_cast<const uint8_t*>(head + 2), head[1]);
                d = half_bits_to_float(head[0]) * static_cast<float>(sub_scale);
            }
            for (int j = 0; j < 16; ++j) {
                out[j] = d * static_cast<float>(kIQ4NLDevice[q.b[j] & 0x0f]);
                out[j + 16] = d * static_cast<float>(kIQ4NLDevice[q.b[j] >> 4]);
            }
            break;
        }
        case quant::GgmlType::kQ2_K: {
            // Block: qs[64] | scales[16]; {d, dmin} in the scales row. The chunk's 32 elements are
            // bit pair `shift` of the 32 qs bytes of its half.
            const uint8_t* b = qs + (chunk / 8) * 80;
            const int e0 = static_cast<int>(chunk % 8) * 32;
            const int half = e0 / 128, shift = 2 * ((e0 % 128) / 32);
            const float d = half_bits_to_float(sc[2 * (chunk / 8)]), dmin = half_bits_to_float(sc[2 * (chunk / 8) + 1]);
            const Bytes16 q[2] = {load16(b + 32 * half), load16(b + 32 * half + 16)};
            const Bytes16 scales = load16(b + 64);
#pragma unroll
            for (int l = 0; l < 32; ++l) {
                const int v = (q[l / 16].b[l % 16] >> shift) & 3;
                const uint8_t scale_min = scales.b[(e0 + l) / 16];  // scale: low nibble, min: high nibble
                out[l] = d * static_cast<float>(scale_min & 0xF) * static_cast<float>(v) -
                         dmin * static_cast<float>(scale_min >> 4);
            }
            break;
        }
        case quant::GgmlType::kQ3_K: {
            // Native block padded to 112: hmask[32] | qs[64] | scales[12] | d. High bit of element
            // e: bit e / 32 of hmask[e % 32].
            const uint8_t* b = qs + (chunk / 8) * 112;
            const int e0 = static_cast<int>(chunk % 8) * 32;
            const int half = e0 / 128, shift = 2 * ((e0 % 128) / 32);
            const Bytes16 hmask[2] = {load16(b), load16(b + 16)};
            const Bytes16 q[2] = {load16(b + 32 + 32 * half), load16(b + 48 + 32 * half)};
            const Bytes16 tail = load16(b + 96);  // scales[12], d
            const float d = half_bits_to_float(static_cast<uint16_t>(tail.b[12] | (tail.b[13] << 8)));
#pragma unroll
            for (int l = 0; l < 32; ++l) {
                const int low = (q[l / 16].b[l % 16] >> shift) & 3;
                const bool high = (hmask[l / 16].b[l % 16] >> (e0 / 32)) & 1;
                const float dl = d * static_cast<float>(quant::unpack_scale_q3_k((e0 + l) / 16, tail.b));
                out[l] = dl * static_cast<float>(low - (high ? 0 : 4));
            }
            break;
        }
        default:
            for (int j = 0; j < 32; ++j) out[j] = 0.0f;
            break;
    }
}

}  // namespace rf::gpu
