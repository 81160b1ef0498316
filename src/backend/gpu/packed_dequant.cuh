// Device-side dequantization of one 32-element chunk of a packed weight row (gpu_matrix.h
// layouts). Shared by get_rows (embedding lookup) and the dequantize-to-F16 GEMM path.
#pragma once

#include <cstdint>

#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/matvec.h"

namespace rf::gpu {

__device__ __forceinline__ float half_bits_to_float(uint16_t bits) { return __half2float(__ushort_as_half(bits)); }

// Writes elements [32 * chunk, 32 * chunk + 32) of row `row` of `w` to out[0..31].
__device__ inline void dequant_chunk32(const DeviceMatrix& w, int64_t row, int64_t chunk, float* out) {
    const uint8_t* qs = w.qs + row * w.qs_row_bytes;
    const uint16_t* sc = w.scales ? w.scales + row * w.scale_row_count : nullptr;
    switch (w.type) {
        case quant::GgmlType::kQ4_0: {
            const uint8_t* q = qs + chunk * 16;
            const float d = half_bits_to_float(sc[chunk]);
            for (int j = 0; j < 16; ++j) {
                out[j] = d * static_cast<float>((q[j] & 0x0f) - 8);
                out[j + 16] = d * static_cast<float>((q[j] >> 4) - 8);
            }
            break;
        }
        case quant::GgmlType::kQ8_0: {
            const int8_t* q = reinterpret_cast<const int8_t*>(qs + chunk * 32);
            const float d = half_bits_to_float(sc[chunk]);
            for (int j = 0; j < 32; ++j) out[j] = d * static_cast<float>(q[j]);
            break;
        }
        case quant::GgmlType::kQ4_K: {
            const uint8_t* block = qs + (chunk / 8) * 144;
            const int is = static_cast<int>(chunk % 8);
            const float d = half_bits_to_float(static_cast<uint16_t>(block[0] | (block[1] << 8)));
            const float dmin = half_bits_to_float(static_cast<uint16_t>(block[2] | (block[3] << 8)));
            const uint8_t* s = block + 4;
            int scale, min;
            if (is < 4) {
                scale = s[is] & 63;
                min = s[is + 4] & 63;
            } else {
                scale = (s[is + 4] & 0x0f) | ((s[is - 4] >> 6) << 4);
                min = (s[is + 4] >> 4) | ((s[is] >> 6) << 4);
            }
            const uint8_t* q = block + 16 + 32 * (is / 2);
            const int shift = (is % 2) * 4;
            for (int j = 0; j < 32; ++j) out[j] = d * scale * static_cast<float>((q[j] >> shift) & 0x0f) - dmin * min;
            break;
        }
        case quant::GgmlType::kQ6_K: {
            const uint8_t* block = qs + (chunk / 8) * 208;
            const float d = half_bits_to_float(sc[chunk / 8]);
            const int e0 = static_cast<int>(chunk % 8) * 32;  // element offset inside the block
            const int n = e0 / 128;
            const int g = (e0 % 128) / 32;  // group: 0 ql low, 1 ql[+32] low, 2 ql high, 3 ql[+32] high
            const uint8_t* ql = block + 64 * n + (g % 2) * 32;
            const uint8_t* qh = block + 128 + 32 * n;
            const int8_t* scales = reinterpret_cast<const int8_t*>(block + 192) + 8 * n;
            for (int l = 0; l < 32; ++l) {
                const int low = g < 2 ? (ql[l] & 0x0f) : (ql[l] >> 4);
                const int high = (qh[l] >> (2 * g)) & 3;
                out[l] = d * scales[l / 16 + 2 * g] * static_cast<float>((low | (high << 4)) - 32);
            }
            break;
        }
        case quant::GgmlType::kF16: {
            const uint16_t* h = reinterpret_cast<const uint16_t*>(qs) + chunk * 32;
            for (int j = 0; j < 32; ++j) out[j] = half_bits_to_float(h[j]);
            break;
        }
        default:
            for (int j = 0; j < 32; ++j) out[j] = 0.0f;
            break;
    }
}

}  // namespace rf::gpu
