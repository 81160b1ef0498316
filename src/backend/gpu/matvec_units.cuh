// Per-type mat-vec units: each dots one 16-byte-aligned chunk of a packed weight row
// (gpu_matrix.h layouts) with the matching int8 activations of n_tokens tokens (dp4a), and the
// row walkers that stride a warp's lanes over a row with them. Used by matvec.cu.
#pragma once

#include <cstdint>

#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/matvec.h"
#include "backend/gpu/packed_dequant.cuh"
#include "quant/k_scales.h"

namespace rf::gpu::matvec_units {

constexpr uint32_t kLowNibbles = 0x0f0f0f0fu;

__device__ __forceinline__ float fp16_bits_to_float(uint16_t bits) {
    return __half2float(__ushort_as_half(bits));
}

__device__ __forceinline__ int4 load_int4(const void* p) { return *reinterpret_cast<const int4*>(p); }

// Activations of one token: int8 values and per-32 {d, d*sum(q)}.
struct ActRow {
    const int8_t* qs;
    const float2* ds;
};

// ---- per-type units: each dots one aligned chunk of a weight row with n_tokens activation rows --

// Q4_0 unit = one 32-element block: 16 bytes of nibbles (low = elements 0..15, high = 16..31).
struct UnitQ4_0 {
    static constexpr int kElems = 32;
    template <int NT>
    __device__ static void dot(const uint8_t* row_qs, const uint16_t* row_scales, int64_t u,
                               const ActRow* acts, float (&acc)[NT]) {
        const int4 w = load_int4(row_qs + u * 16);
        const float dw = fp16_bits_to_float(row_scales[u]);
        const int lo[4] = {w.x & (int)kLowNibbles, w.y & (int)kLowNibbles, w.z & (int)kLowNibbles, w.w & (int)kLowNibbles};
        const int hi[4] = {(w.x >> 4) & (int)kLowNibbles, (w.y >> 4) & (int)kLowNibbles,
                           (w.z >> 4) & (int)kLowNibbles, (w.w >> 4) & (int)kLowNibbles};
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            const int4 x0 = load_int4(acts[t].qs + u * 32);
            const int4 x1 = load_int4(acts[t].qs + u * 32 + 16);
            int s = dot4_i8(lo[0], x0.x, 0);
            s = dot4_i8(lo[1], x0.y, s);
            s = dot4_i8(lo[2], x0.z, s);
            s = dot4_i8(lo[3], x0.w, s);
            s = dot4_i8(hi[0], x1.x, s);
            s = dot4_i8(hi[1], x1.y, s);
            s = dot4_i8(hi[2], x1.z, s);
            s = dot4_i8(hi[3], x1.w, s);
            const float2 ds = acts[t].ds[u];
            acc[t] += dw * (ds.x * static_cast<float>(s) - 8.0f * ds.y);
        }
    }
};

// Q8_0 unit = one 32-element block of int8.
struct UnitQ8_0 {
    static constexpr int kElems = 32;
    template <int NT>
    __device__ static void dot(const uint8_t* row_qs, const uint16_t* row_scales, int64_t u,
                               const ActRow* acts, float (&acc)[NT]) {
        const int4 w0 = load_int4(row_qs + u * 32);
        const int4 w1 = load_int4(row_qs + u * 32 + 16);
        const float dw = fp16_bits_to_float(row_scales[u]);
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            const int4 x0 = load_int4(acts[t].qs + u * 32);
            const int4 x1 = load_int4(acts[t].qs + u * 32 + 16);
            int s = dot4_i8(w0.x, x0.x, 0);
            s = dot4_i8(w0.y, x0.y, s);
            s = dot4_i8(w0.z, x0.z, s);
            s = dot4_i8(w0.w, x0.w, s);
            s = dot4_i8(w1.x, x1.x, s);
            s = dot4_i8(w1.y, x1.y, s);
            s = dot4_i8(w1.z, x1.z, s);
            s = dot4_i8(w1.w, x1.w, s);
            acc[t] += dw * acts[t].ds[u].x * static_cast<float>(s);
        }
    }
};

// Q4_K unit = a quarter super-block (64 elements = sub-blocks 2j and 2j+1), 32 bytes of nibbles.
struct UnitQ4_K {
    static constexpr int kElems = 64;
    template <int NT>
    __device__ static void dot(const uint8_t* row_qs, const uint16_t*, int64_t u, const ActRow* acts,
                               float (&acc)[NT]) {
        const int64_t sb = u >> 2;
        const int j = static_cast<int>(u & 3);
        const uint8_t* block = row_qs + sb * 144;
        const int4 head = load_int4(block);  // d, dmin, scales[12]
        const int4 q0 = load_int4(block + 16 + 32 * j);
        const int4 q1 = load_int4(block + 32 + 32 * j);
        const uint8_t* scales = reinterpret_cast<const uint8_t*>(&head) + 4;
        const float d = fp16_bits_to_float(static_cast<uint16_t>(head.x & 0xffff));
        const float dmin = fp16_bits_to_float(static_cast<uint16_t>((head.x >> 16) & 0xffff));
        uint8_t sc0, m0, sc1, m1;  // 6-bit scale and min of sub-blocks 2j and 2j+1
        quant::unpack_scale_min_k4(2 * j, scales, &sc0, &m0);
        quant::unpack_scale_min_k4(2 * j + 1, scales, &sc1, &m1);
        const int qw[8] = {q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w};
        const int64_t act_block = sb * 8 + 2 * j;  // index of the first 32-element activation block
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            const int8_t* xq = acts[t].qs + act_block * 32;
            const int4 xa0 = load_int4(xq), xa1 = load_int4(xq + 16);
            const int4 xb0 = load_int4(xq + 32), xb1 = load_int4(xq + 48);
            const int xa[8] = {xa0.x, xa0.y, xa0.z, xa0.w, xa1.x, xa1.y, xa1.z, xa1.w};
            const int xb[8] = {xb0.x, xb0.y, xb0.z, xb0.w, xb1.x, xb1.y, xb1.z, xb1.w};
            int s0 = 0, s1 = 0;
#pragma unroll
            for (int k = 0; k < 8; ++k) {
                s0 = dot4_i8(qw[k] & (int)kLowNibbles, xa[k], s0);
                s1 = dot4_i8((qw[k] >> 4) & (int)kLowNibbles, xb[k], s1);
            }
            const float2 da = acts[t].ds[act_block];
            const float2 db = acts[t].ds[act_block + 1];
            acc[t] += d * (sc0 * da.x * static_cast<float>(s0) + sc1 * db.x * static_cast<float>(s1)) -
                      dmin * (m0 * da.y + m1 * db.y);
        }
    }
};

// Q5_K unit = a quarter super-block as in Q4_K, each element with a fifth bit: bit 2j (low
// nibbles, sub-block 2j) or 2j+1 (high nibbles) of the qh byte at the same position. Native
// block: d, dmin, scales[12] | qh[32] | qs[128]; values 0..31 fit dp4a's signed bytes.
struct UnitQ5_K {
    static constexpr int kElems = 64;
    template <int NT>
    __device__ static void dot(const uint8_t* row_qs, const uint16_t*, int64_t u, const ActRow* acts,
                               float (&acc)[NT]) {
        const int64_t sb = u >> 2;
        const int j = static_cast<int>(u & 3);
        const uint8_t* block = row_qs + sb * 176;
        const int4 head = load_int4(block);  // d, dmin, scales[12]
        const int4 h0 = load_int4(block + 16), h1 = load_int4(block + 32);
        const int4 q0 = load_int4(block + 48 + 32 * j), q1 = load_int4(block + 64 + 32 * j);
        const uint8_t* scales = reinterpret_cast<const uint8_t*>(&head) + 4;
        const float d = fp16_bits_to_float(static_cast<uint16_t>(head.x & 0xffff));
        const float dmin = fp16_bits_to_float(static_cast<uint16_t>((head.x >> 16) & 0xffff));
        uint8_t sc0, m0, sc1, m1;  // 6-bit scale and min of sub-blocks 2j and 2j+1
        quant::unpack_scale_min_k4(2 * j, scales, &sc0, &m0);
        quant::unpack_scale_min_k4(2 * j + 1, scales, &sc1, &m1);
        const int qw[8] = {q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w};
        const int hw[8] = {h0.x, h0.y, h0.z, h0.w, h1.x, h1.y, h1.z, h1.w};
        int lo[8], hi[8];
#pragma unroll
        for (int k = 0; k < 8; ++k) {
            lo[k] = (qw[k] & (int)kLowNibbles) | (((hw[k] >> (2 * j)) & 0x01010101) << 4);
            hi[k] = ((qw[k] >> 4) & (int)kLowNibbles) | (((hw[k] >> (2 * j + 1)) & 0x01010101) << 4);
        }
        const int64_t act_block = sb * 8 + 2 * j;
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            const int8_t* xq = acts[t].qs + act_block * 32;
            const int4 xa0 = load_int4(xq), xa1 = load_int4(xq + 16);
            const int4 xb0 = load_int4(xq + 32), xb1 = load_int4(xq + 48);
            const int xa[8] = {xa0.x, xa0.y, xa0.z, xa0.w, xa1.x, xa1.y, xa1.z, xa1.w};
            const int xb[8] = {xb0.x, xb0.y, xb0.z, xb0.w, xb1.x, xb1.y, xb1.z, xb1.w};
            int s0 = 0, s1 = 0;
#pragma unroll
            for (int k = 0; k < 8; ++k) {
                s0 = dot4_i8(lo[k], xa[k], s0);
                s1 = dot4_i8(hi[k], xb[k], s1);
            }
            const float2 da = acts[t].ds[act_block];
            const float2 db = acts[t].ds[act_block + 1];
            acc[t] += d * (sc0 * da.x * static_cast<float>(s0) + sc1 * db.x * static_cast<float>(s1)) -
                      dmin * (m0 * da.y + m1 * db.y);
        }
    }
};

// Q6_K unit = a quarter super-block: half n (128 elements) x lanes l0..l0+15 of its 32 columns,
// i.e. 4 groups of 16 elements at 128n + l0 + {0, 32, 64, 96}. Packed block: ql | qh | scales.
struct UnitQ6_K {
    static constexpr int kElems = 64;
    template <int NT>
    __device__ static void dot(const uint8_t* row_qs, const uint16_t* row_scales, int64_t u,
                               const ActRow* acts, float (&acc)[NT]) {
        const int64_t sb = u >> 2;
        const int n = static_cast<int>((u >> 1) & 1);
        const int l0 = static_cast<int>(u & 1) * 16;
        const uint8_t* block = row_qs + sb * 208;
        const int4 qla = load_int4(block + 64 * n + l0);       // ql[l]      (low nibble: +0, high: +64)
        const int4 qlb = load_int4(block + 64 * n + 32 + l0);  // ql[l + 32] (low: +32, high: +96)
        const int4 qh = load_int4(block + 128 + 32 * n + l0);  // 2 bits for each of the 4 groups
        const int8_t* sc = reinterpret_cast<const int8_t*>(block + 192) + 8 * n + l0 / 16;
        const float d = fp16_bits_to_float(row_scales[sb]);
        const int la[4] = {qla.x, qla.y, qla.z, qla.w};
        const int lb[4] = {qlb.x, qlb.y, qlb.z, qlb.w};
        const int hb[4] = {qh.x, qh.y, qh.z, qh.w};
        // Signed 6-bit values minus 32 for each group g (elements 128n + l0 + 32g + 0..15).
        int q[4][4];
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const int v0 = (la[k] & (int)kLowNibbles) | ((hb[k] & 0x03030303) << 4);
            const int v1 = (lb[k] & (int)kLowNibbles) | (((hb[k] >> 2) & 0x03030303) << 4);
            const int v2 = ((la[k] >> 4) & (int)kLowNibbles) | (((hb[k] >> 4) & 0x03030303) << 4);
            const int v3 = ((lb[k] >> 4) & (int)kLowNibbles) | (((hb[k] >> 6) & 0x03030303) << 4);
            // Bytes are 0..63: subtracting 0x20 from each byte never borrows across bytes when
            // done as (v | 0x80808080) - 0x20202020 then flipping the top bit back.
            q[0][k] = ((v0 | 0x80808080) - 0x20202020) ^ 0x80808080;
            q[1][k] = ((v1 | 0x80808080) - 0x20202020) ^ 0x80808080;
            q[2][k] = ((v2 | 0x80808080) - 0x20202020) ^ 0x80808080;
            q[3][k] = ((v3 | 0x80808080) - 0x20202020) ^ 0x80808080;
        }
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            float sum = 0.0f;
#pragma unroll
            for (int g = 0; g < 4; ++g) {
                const int64_t elem = sb * 256 + 128 * n + 32 * g + l0;
                const int4 x = load_int4(acts[t].qs + elem);
                int s = dot4_i8(q[g][0], x.x, 0);
                s = dot4_i8(q[g][1], x.y, s);
                s = dot4_i8(q[g][2], x.z, s);
                s = dot4_i8(q[g][3], x.w, s);
                sum += static_cast<float>(sc[2 * g]) * acts[t].ds[elem / 32].x * static_cast<float>(s);
            }
            acc[t] += d * sum;
        }
    }
};

// Row dot products: acc[t] += W[row] . x_t over the warp's lanes (each lane a partial sum).
// Quantized weights read the int8 activations; F16 weights read the float rows.
template <typename Unit>
struct QuantRowDot {
    template <int NT>
    __device__ static void run(const DeviceMatrix& w, int64_t row, const MatvecInput& in, int lane, float (&acc)[NT]) {
        const uint8_t* row_qs = w.qs + row * w.qs_row_bytes;
        const uint16_t* row_scales = w.scales ? w.scales + row * w.scale_row_count : nullptr;
        const int64_t padded = in.acts.n_cols_padded;
        ActRow rows[NT];
#pragma unroll
        for (int t = 0; t < NT; ++t) rows[t] = {in.acts.qs + t * padded, in.acts.ds + t * (padded / 32)};
        const int64_t n_units = w.n_cols / Unit::kElems;
        // Unrolled so each lane issues kUnroll independent 16-byte loads before using any.
        constexpr int kUnroll = 4;
        int64_t u = lane;
        for (; u + (kUnroll - 1) * RF_WARP_SIZE < n_units; u += kUnroll * RF_WARP_SIZE) {
#pragma unroll
            for (int k = 0; k < kUnroll; ++k) Unit::template dot<NT>(row_qs, row_scales, u + k * RF_WARP_SIZE, rows, acc);
        }
        for (; u < n_units; u += RF_WARP_SIZE) Unit::template dot<NT>(row_qs, row_scales, u, rows, acc);
    }
};

// F16 weights against float activations: each lane takes 8 halves (16 bytes) per step.
struct F16RowDot {
    template <int NT>
    __device__ static void run(const DeviceMatrix& w, int64_t row, const MatvecInput& in, int lane, float (&acc)[NT]) {
        const uint8_t* row_qs = w.qs + row * w.qs_row_bytes;
        // Unrolled so each lane has several 16-byte weight loads in flight.
#pragma unroll 4
        for (int64_t c = lane * 8; c < w.n_cols; c += RF_WARP_SIZE * 8) {
            const int4 packed = load_int4(row_qs + c * 2);
            const __half2* h = reinterpret_cast<const __half2*>(&packed);
            float wf[8];
#pragma unroll
            for (int k = 0; k < 4; ++k) {
                const float2 f = __half22float2(h[k]);
                wf[2 * k] = f.x;
                wf[2 * k + 1] = f.y;
            }
#pragma unroll
            for (int t = 0; t < NT; ++t) {
                const float4 xa = *reinterpret_cast<const float4*>(in.x + t * w.n_cols + c);
                const float4 xb = *reinterpret_cast<const float4*>(in.x + t * w.n_cols + c + 4);
                acc[t] += wf[0] * xa.x + wf[1] * xa.y + wf[2] * xa.z + wf[3] * xa.w + wf[4] * xb.x +
                          wf[5] * xb.y + wf[6] * xb.z + wf[7] * xb.w;
            }
        }
    }
};

// Types without an int8 unit (Q4_1, Q5_0, Q5_1, MXFP4, Q2_K, Q3_K, IQ4_NL, IQ4_XS): each lane dequantizes whole
// 32-element chunks of the native blocks (packed_dequant.cuh) and dots them with the float rows.
struct DequantRowDot {
    template <int NT>
    __device__ static void run(const DeviceMatrix& w, int64_t row, const MatvecInput& in, int lane, float (&acc)[NT]) {
        for (int64_t chunk = lane; chunk < w.n_cols / 32; chunk += RF_WARP_SIZE) {
            float v[32];
            dequant_chunk32(w, row, chunk, v);
#pragma unroll
            for (int t = 0; t < NT; ++t) {
                const float* x = in.x + t * w.n_cols + chunk * 32;
#pragma unroll
                for (int k = 0; k < 8; ++k) {
                    const float4 xv = *reinterpret_cast<const float4*>(x + 4 * k);
                    acc[t] += v[4 * k] * xv.x + v[4 * k + 1] * xv.y + v[4 * k + 2] * xv.z + v[4 * k + 3] * xv.w;
                }
            }
        }
    }
};

}  // namespace rf::gpu::matvec_units
