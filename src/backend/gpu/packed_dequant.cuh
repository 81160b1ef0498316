// Device-side dequantization of one 32-element chunk of a packed weight row (gpu_matrix.h
// layouts). Shared by get_rows (embedding lookup) and the dequantize-to-F16 GEMM path.
#pragma once

#include <cstdint>

#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/matvec.h"
#include "quant/k_scales.h"

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
        default:
            for (int j = 0; j < 32; ++j) out[j] = 0.0f;
            break;
    }
}

}  // namespace rf::gpu
