// Device-side dequantization of one 32-element chunk of a packed weight row (gpu_matrix.h
// layouts). Shared by get_rows (embedding lookup), the dequantize-to-F16 GEMM path and the
// mat-vec of types without an int8 kernel.
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

// fp16 bits at any byte address (native GGUF blocks of 17, 18, 20, ... bytes are not aligned).
__device__ __forceinline__ float half_at(const uint8_t* p) {
    return half_bits_to_float(static_cast<uint16_t>(p[0] | (p[1] << 8)));
}

// Nibble j (0..31) of 16 bytes holding elements (j, j + 16) in (low, high) nibbles.
__device__ __forceinline__ int nibble32(const uint8_t* q, int j) { return j < 16 ? (q[j] & 0x0f) : (q[j - 16] >> 4); }

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
            for (int k = 0; k < 4; ++k) {
                const int4 v = *reinterpret_cast<const int4*>(h + 16 * k);
                const __half2* h2 = reinterpret_cast<const __half2*>(&v);
#pragma unroll
                for (int i = 0; i < 4; ++i) {
                    const float2 f = __half22float2(h2[i]);
                    out[8 * k + 2 * i] = f.x;
                    out[8 * k + 2 * i + 1] = f.y;
                }
            }
            break;
        }
        // Native GGUF blocks (byte loads: their sizes are not multiples of 16).
        case quant::GgmlType::kQ4_1: {
            const uint8_t* b = qs + chunk * 20;  // d, m, qs[16]
            const float d = half_at(b), m = half_at(b + 2);
            for (int j = 0; j < 32; ++j) out[j] = static_cast<float>(nibble32(b + 4, j)) * d + m;
            break;
        }
        case quant::GgmlType::kQ5_0: {
            const uint8_t* b = qs + chunk * 22;  // d, qh[4], qs[16]
            const float d = half_at(b);
            const uint32_t qh = b[2] | (b[3] << 8) | (b[4] << 16) | (static_cast<uint32_t>(b[5]) << 24);
            for (int j = 0; j < 32; ++j) {
                const int q = nibble32(b + 6, j) | static_cast<int>(((qh >> j) & 1u) << 4);
                out[j] = static_cast<float>(q - 16) * d;
            }
            break;
        }
        case quant::GgmlType::kQ5_1: {
            const uint8_t* b = qs + chunk * 24;  // d, m, qh[4], qs[16]
            const float d = half_at(b), m = half_at(b + 2);
            const uint32_t qh = b[4] | (b[5] << 8) | (b[6] << 16) | (static_cast<uint32_t>(b[7]) << 24);
            for (int j = 0; j < 32; ++j) {
                const int q = nibble32(b + 8, j) | static_cast<int>(((qh >> j) & 1u) << 4);
                out[j] = static_cast<float>(q) * d + m;
            }
            break;
        }
        case quant::GgmlType::kMXFP4: {
            const uint8_t* b = qs + chunk * 17;  // e, qs[16]
            const float d = quant::e8m0_to_float_half(b[0]);
            for (int j = 0; j < 32; ++j) out[j] = static_cast<float>(mxfp4_doubled(nibble32(b + 1, j))) * d;
            break;
        }
        case quant::GgmlType::kIQ4_NL: {
            const uint8_t* b = qs + chunk * 18;  // d, qs[16]
            const float d = half_at(b);
            for (int j = 0; j < 32; ++j) out[j] = d * static_cast<float>(kIQ4NLDevice[nibble32(b + 2, j)]);
            break;
        }
        case quant::GgmlType::kIQ4_XS: {
            // d, scales_h (u16), scales_l[4], qs[128]; sub-block s is the chunk's 32 elements.
            const uint8_t* b = qs + (chunk / 8) * 136;
            const int s = static_cast<int>(chunk % 8);
            const uint16_t scales_h = static_cast<uint16_t>(b[2] | (b[3] << 8));
            const float dl = half_at(b) * static_cast<float>(quant::unpack_scale_iq4_xs(s, b + 4, scales_h));
            for (int j = 0; j < 32; ++j) out[j] = dl * static_cast<float>(kIQ4NLDevice[nibble32(b + 8 + 16 * s, j)]);
            break;
        }
        case quant::GgmlType::kQ2_K: {
            // scales[16], qs[64], d, dmin; the chunk's 32 elements share a half and a bit pair.
            const uint8_t* b = qs + (chunk / 8) * 84;
            const int e0 = static_cast<int>(chunk % 8) * 32;
            const int half = e0 / 128, shift = 2 * ((e0 % 128) / 32);
            const float d = half_at(b + 80), dmin = half_at(b + 82);
            for (int l = 0; l < 32; ++l) {
                const int q = (b[16 + 32 * half + l] >> shift) & 3;
                const uint8_t scale_min = b[(e0 + l) / 16];  // scale: low nibble, min: high nibble
                out[l] = d * static_cast<float>(scale_min & 0xF) * static_cast<float>(q) -
                         dmin * static_cast<float>(scale_min >> 4);
            }
            break;
        }
        case quant::GgmlType::kQ3_K: {
            // hmask[32], qs[64], scales[12], d; high bit of element e: bit e / 32 of hmask[e % 32].
            const uint8_t* b = qs + (chunk / 8) * 110;
            const int e0 = static_cast<int>(chunk % 8) * 32;
            const int half = e0 / 128, shift = 2 * ((e0 % 128) / 32);
            const float d = half_at(b + 108);
            for (int l = 0; l < 32; ++l) {
                const int low = (b[32 + 32 * half + l] >> shift) & 3;
                const bool high = (b[l] >> (e0 / 32)) & 1;
                const float dl = d * static_cast<float>(quant::unpack_scale_q3_k((e0 + l) / 16, b + 96));
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
