// Per-type mat-vec units: each loads one 16-byte-aligned chunk of a packed weight row
// (gpu_matrix.h layouts) as its Raw registers, then dots them with the matching int8 activations
// of n_tokens tokens (dp4a); and the row walkers that stride a warp's lanes over a row with them,
// issuing every weight load of a step before the first dot. Used by matvec.cu.
#pragma once

#include <cstdint>

#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/matvec.h"
#include "backend/gpu/packed_dequant.cuh"
#include "quant/value_tables.h"

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

// ---- helpers shared by the units ----

// 16 int8 weights (q[0..3], 4 per int) dotted with the 16 int8 activations in x, added to s.
__device__ __forceinline__ int dot16_i8(const int* q, const int4& x, int s = 0) {
    s = dot4_i8(q[0], x.x, s);
    s = dot4_i8(q[1], x.y, s);
    s = dot4_i8(q[2], x.z, s);
    return dot4_i8(q[3], x.w, s);
}

// 32 int8 weights (q[0..3]: elements 0..15, q[4..7]: elements 16..31, 4 per int) dotted with the 32
// int8 activations at xq (16-byte aligned).
__device__ __forceinline__ int dot_block32(const int (&q)[8], const int8_t* xq) {
    return dot16_i8(q + 4, load_int4(xq + 16), dot16_i8(q, load_int4(xq)));
}

// 16 bytes of nibbles in GGUF order (byte j: element j in the low nibble, j + 16 in the high) as
// 32 values 0..15 in dot_block32 order.
__device__ __forceinline__ void split_nibbles(const int4& w, int (&q)[8]) {
    const int words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
    for (int k = 0; k < 4; ++k) {
        q[k] = words[k] & static_cast<int>(kLowNibbles);
        q[k + 4] = (words[k] >> 4) & static_cast<int>(kLowNibbles);
    }
}

// Bits 0..3 of `bits` moved to bit 0 of bytes 0..3. Multiplying by 1 + 2^7 + 2^14 + 2^21 puts bit i
// at bit 8i; no two partial products share a bit, so nothing carries.
__device__ __forceinline__ int spread_bits4(uint32_t bits) {
    return static_cast<int>(((bits & 0xfu) * 0x00204081u) & 0x01010101u);
}

// A 16-entry int8 codebook, 4 entries per word: entry i in byte i % 4 of w[i / 4].
struct Codebook16 {
    uint32_t w[4];
};

constexpr uint32_t codebook_word(const int8_t (&values)[16], int word) {
    uint32_t packed = 0;
    for (int i = 0; i < 4; ++i) packed |= static_cast<uint32_t>(static_cast<uint8_t>(values[4 * word + i])) << (8 * i);
    return packed;
}
// Scalars, so that device code may read them (the host arrays are not visible there).
constexpr uint32_t kIQ4NLBook0 = codebook_word(quant::kIQ4NLValues, 0);
constexpr uint32_t kIQ4NLBook1 = codebook_word(quant::kIQ4NLValues, 1);
constexpr uint32_t kIQ4NLBook2 = codebook_word(quant::kIQ4NLValues, 2);
constexpr uint32_t kIQ4NLBook3 = codebook_word(quant::kIQ4NLValues, 3);
constexpr uint32_t kMXFP4Book0 = codebook_word(quant::kMXFP4Values, 0);
constexpr uint32_t kMXFP4Book1 = codebook_word(quant::kMXFP4Values, 1);
constexpr uint32_t kMXFP4Book2 = codebook_word(quant::kMXFP4Values, 2);
constexpr uint32_t kMXFP4Book3 = codebook_word(quant::kMXFP4Values, 3);

// Maps the 8 nibbles of one word of a GGUF nibble block through `book`: the word's bytes hold
// elements k..k+3 in their low nibbles (-> `lo`, one value per byte, in element order) and
// k+16..k+19 in their high nibbles (-> `hi`). Byte permutes from registers: no memory lookups,
// so lanes with different nibbles never serialise.
__device__ __forceinline__ void lookup_nibbles(uint32_t packed, const Codebook16& book, int& lo, int& hi) {
#if defined(__HIP_DEVICE_COMPILE__)
    // v_perm_b32(a, b, sel): selector byte i (0..7) picks byte sel_i of the 8 bytes {b, a}
    // (0..3 from b, 4..7 from a). One byte selector per value.
    auto lookup4 = [&book](uint32_t values) {  // 4 values 0..15, one per byte
        const uint32_t index = values & 0x07070707u;
        const uint32_t low_entries = __builtin_amdgcn_perm(book.w[1], book.w[0], index);   // entries 0..7
        const uint32_t high_entries = __builtin_amdgcn_perm(book.w[3], book.w[2], index);  // entries 8..15
        // Byte i of low_entries (selector i) or, where the value's bit 3 is set, of high_entries (i + 4).
        return __builtin_amdgcn_perm(high_entries, low_entries, 0x03020100u | ((values >> 1) & 0x04040404u));
    };
    lo = static_cast<int>(lookup4(packed & kLowNibbles));
    hi = static_cast<int>(lookup4((packed >> 4) & kLowNibbles));
#elif defined(__HIPCC__)
    // Host pass of HIP: never executed, kept as the plain definition.
    uint32_t lo_bytes = 0, hi_bytes = 0;
    for (int i = 0; i < 4; ++i) {
        const uint32_t low = (packed >> (8 * i)) & 0xf, high = (packed >> (8 * i + 4)) & 0xf;
        lo_bytes |= ((book.w[low / 4] >> (8 * (low % 4))) & 0xff) << (8 * i);
        hi_bytes |= ((book.w[high / 4] >> (8 * (high % 4))) & 0xff) << (8 * i);
    }
    lo = static_cast<int>(lo_bytes);
    hi = static_cast<int>(hi_bytes);
#else
    // __byte_perm(x, y, s): selector nibble i (0..7) picks byte s_i of the 8 bytes {y, x} for
    // output byte i, so one permute looks up the word's nibbles in their memory order: the low
    // half-word gives elements k, k+16, k+1, k+17, the high half-word k+2, k+18, k+3, k+19.
    const uint32_t index = packed & 0x77777777u;  // entry within the codebook half
    // Output byte i of the merge: byte i of the low-half lookup, or (value bit 3 set) of the high.
    const uint32_t merge = ((packed >> 1) & 0x44444444u) | 0x32103210u;
    const uint32_t first = __byte_perm(__byte_perm(book.w[0], book.w[1], index),
                                       __byte_perm(book.w[2], book.w[3], index), merge);
    const uint32_t second = __byte_perm(__byte_perm(book.w[0], book.w[1], index >> 16),
                                        __byte_perm(book.w[2], book.w[3], index >> 16), merge >> 16);
    lo = static_cast<int>(__byte_perm(first, second, 0x6420));  // bytes 0, 2 of each
    hi = static_cast<int>(__byte_perm(first, second, 0x7531));  // bytes 1, 3 of each
#endif
}

// 16 bytes of codebook nibbles in GGUF order as 32 int8 values in dot_block32 order.
__device__ __forceinline__ void lookup_block32(const int4& w, const Codebook16& book, int (&q)[8]) {
    lookup_nibbles(static_cast<uint32_t>(w.x), book, q[0], q[4]);
    lookup_nibbles(static_cast<uint32_t>(w.y), book, q[1], q[5]);
    lookup_nibbles(static_cast<uint32_t>(w.z), book, q[2], q[6]);
    lookup_nibbles(static_cast<uint32_t>(w.w), book, q[3], q[7]);
}

// Raw and load of the units that are one 16-byte block of nibbles each (Q4_0, Q4_1, IQ4_NL,
// MXFP4): block u and entry u of the scales row (fp16 d, {d, m} as a u32, or an E8M0 byte).
template <typename Scale>
struct NibbleBlockUnit {
    struct Raw {
        int4 w;
        Scale scale;
    };
    __device__ static Raw load(const uint8_t* row_qs, const uint16_t* row_scales, int64_t u) {
        return {load_int4(row_qs + u * 16), reinterpret_cast<const Scale*>(row_scales)[u]};
    }
};

// ---- per-type units: load(row_qs, row_scales, u) reads unit u of a weight row (only the weight
// bytes; nothing is decoded, so the loads of several units can be in flight at once), and
// dot<NT>(raw, u, acts, acc) dots it with the n_tokens activation rows.

// Q4_0 unit = one 32-element block: 16 bytes of nibbles (low = elements 0..15, high = 16..31).
struct UnitQ4_0 : NibbleBlockUnit<uint16_t> {
    static constexpr int kElems = 32;
    template <int NT>
    __device__ static void dot(const Raw& raw, int64_t u, const ActRow* acts, float (&acc)[NT]) {
        const float dw = fp16_bits_to_float(raw.scale);
        int q[8];
        split_nibbles(raw.w, q);
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            const int s = dot_block32(q, acts[t].qs + u * 32);
            const float2 ds = acts[t].ds[u];
            acc[t] += dw * (ds.x * static_cast<float>(s) - 8.0f * ds.y);
        }
    }
};

// Q8_0 unit = one 32-element block of int8.
struct UnitQ8_0 {
    static constexpr int kElems = 32;
    struct Raw {
        int4 w0, w1;
        uint16_t d;
    };
    __device__ static Raw load(const uint8_t* row_qs, const uint16_t* row_scales, int64_t u) {
        return {load_int4(row_qs + u * 32), load_int4(row_qs + u * 32 + 16), row_scales[u]};
    }
    template <int NT>
    __device__ static void dot(const Raw& raw, int64_t u, const ActRow* acts, float (&acc)[NT]) {
        const float dw = fp16_bits_to_float(raw.d);
        const int q[8] = {raw.w0.x, raw.w0.y, raw.w0.z, raw.w0.w, raw.w1.x, raw.w1.y, raw.w1.z, raw.w1.w};
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            acc[t] += dw * acts[t].ds[u].x * static_cast<float>(dot_block32(q, acts[t].qs + u * 32));
        }
    }
};

// Q4_K and Q5_K units: a quarter super-block (64 elements = sub-blocks 2j and 2j+1 of
// super-block sb) whose values, unpacked as lo (sub-block 2j) and hi (2j+1), are dotted with
// the tokens' two activation blocks and scaled by the block head (its first 16 bytes: d, dmin
// and the 6-bit scales and mins).
template <int NT>
__device__ __forceinline__ void dot_k_quarter(const int4& head, int64_t sb, int j, const int (&lo)[8],
                                              const int (&hi)[8], const ActRow* acts, float (&acc)[NT]) {
    const float d = fp16_bits_to_float(static_cast<uint16_t>(head.x & 0xffff));
    const float dmin = fp16_bits_to_float(static_cast<uint16_t>((head.x >> 16) & 0xffff));
    // The 6-bit scales and mins (k_scales.h packing in head bytes 4..15 = words y, z, w), four per
    // word: sub-blocks 0..3 are bytes of y (scales) and z (mins); 4..7 take their low 4 bits from
    // w's nibbles and their top 2 from bits 6..7 of y and z. Read from registers: taking the
    // head's address would put every unit's loads in local memory.
    const uint32_t y = static_cast<uint32_t>(head.y), z = static_cast<uint32_t>(head.z), w = static_cast<uint32_t>(head.w);
    const uint32_t scales = j < 2 ? (y & 0x3f3f3f3fu) : ((w & kLowNibbles) | ((y >> 2) & 0x30303030u));
    const uint32_t mins = j < 2 ? (z & 0x3f3f3f3fu) : (((w >> 4) & kLowNibbles) | ((z >> 2) & 0x30303030u));
    const int shift = 16 * (j & 1);  // sub-blocks 2j and 2j + 1 are bytes 2 (j % 2) and 2 (j % 2) + 1
    const uint32_t sc0 = (scales >> shift) & 0xff, sc1 = (scales >> (shift + 8)) & 0xff;
    const uint32_t m0 = (mins >> shift) & 0xff, m1 = (mins >> (shift + 8)) & 0xff;
    const int64_t act_block = sb * 8 + 2 * j;  // index of the first 32-element activation block
#pragma unroll
    for (int t = 0; t < NT; ++t) {
        const int8_t* xq = acts[t].qs + act_block * 32;
        const int s0 = dot_block32(lo, xq), s1 = dot_block32(hi, xq + 32);
        const float2 da = acts[t].ds[act_block];
        const float2 db = acts[t].ds[act_block + 1];
        acc[t] += d * (sc0 * da.x * static_cast<float>(s0) + sc1 * db.x * static_cast<float>(s1)) -
                  dmin * (m0 * da.y + m1 * db.y);
    }
}

// Q4_K unit: native 144-byte block, head | qs[128]; quarter j's 32 bytes hold sub-block 2j in
// their low nibbles and 2j+1 in their high nibbles.
struct UnitQ4_K {
    static constexpr int kElems = 64;
    struct Raw {
        int4 head, q0, q1;
    };
    __device__ static Raw load(const uint8_t* row_qs, const uint16_t*, int64_t u) {
        const uint8_t* block = row_qs + (u >> 2) * 144;
        const int j = static_cast<int>(u & 3);
        return {load_int4(block), load_int4(block + 16 + 32 * j), load_int4(block + 32 + 32 * j)};
    }
    template <int NT>
    __device__ static void dot(const Raw& raw, int64_t u, const ActRow* acts, float (&acc)[NT]) {
        const int64_t sb = u >> 2;
        const int j = static_cast<int>(u & 3);
        const int4 q0 = raw.q0, q1 = raw.q1;
        const int qw[8] = {q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w};
        int lo[8], hi[8];
#pragma unroll
        for (int k = 0; k < 8; ++k) {
            lo[k] = qw[k] & (int)kLowNibbles;
            hi[k] = (qw[k] >> 4) & (int)kLowNibbles;
        }
        dot_k_quarter<NT>(raw.head, sb, j, lo, hi, acts, acc);
    }
};

// Q5_K unit: as Q4_K, each element with a fifth bit: bit 2j (low nibbles, sub-block 2j) or 2j+1
// (high nibbles) of the qh byte at the same position. Native block: head | qh[32] | qs[128];
// values 0..31 fit dp4a's signed bytes.
struct UnitQ5_K {
    static constexpr int kElems = 64;
    struct Raw {
        int4 head, h0, h1, q0, q1;
    };
    __device__ static Raw load(const uint8_t* row_qs, const uint16_t*, int64_t u) {
        const uint8_t* block = row_qs + (u >> 2) * 176;
        const int j = static_cast<int>(u & 3);
        return {load_int4(block), load_int4(block + 16), load_int4(block + 32), load_int4(block + 48 + 32 * j),
                load_int4(block + 64 + 32 * j)};
    }
    template <int NT>
    __device__ static void dot(const Raw& raw, int64_t u, const ActRow* acts, float (&acc)[NT]) {
        const int64_t sb = u >> 2;
        const int j = static_cast<int>(u & 3);
        const int4 h0 = raw.h0, h1 = raw.h1, q0 = raw.q0, q1 = raw.q1;
        const int qw[8] = {q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w};
        const int hw[8] = {h0.x, h0.y, h0.z, h0.w, h1.x, h1.y, h1.z, h1.w};
        int lo[8], hi[8];
#pragma unroll
        for (int k = 0; k < 8; ++k) {
            lo[k] = (qw[k] & (int)kLowNibbles) | (((hw[k] >> (2 * j)) & 0x01010101) << 4);
            hi[k] = ((qw[k] >> 4) & (int)kLowNibbles) | (((hw[k] >> (2 * j + 1)) & 0x01010101) << 4);
        }
        dot_k_quarter<NT>(raw.head, sb, j, lo, hi, acts, acc);
    }
};

// Q6_K unit = a quarter super-block: half n (128 elements) x lanes l0..l0+15 of its 32 columns,
// i.e. 4 groups of 16 elements at 128n + l0 + {0, 32, 64, 96}. Packed block: ql | qh | scales.
struct UnitQ6_K {
    static constexpr int kElems = 64;
    struct Raw {
        int4 qla, qlb, qh;  // ql[l], ql[l + 32] (low nibbles: groups 0, 1; high: 2, 3), 2 high bits x 4 groups
        uint2 scales;       // the 8 int8 scales of half n
        uint16_t d;
    };
    __device__ static Raw load(const uint8_t* row_qs, const uint16_t* row_scales, int64_t u) {
        const int n = static_cast<int>((u >> 1) & 1);
        const int l0 = static_cast<int>(u & 1) * 16;
        const uint8_t* block = row_qs + (u >> 2) * 208;
        return {load_int4(block + 64 * n + l0), load_int4(block + 64 * n + 32 + l0),
                load_int4(block + 128 + 32 * n + l0), *reinterpret_cast<const uint2*>(block + 192 + 8 * n),
                row_scales[u >> 2]};
    }
    template <int NT>
    __device__ static void dot(const Raw& raw, int64_t u, const ActRow* acts, float (&acc)[NT]) {
        const int64_t sb = u >> 2;
        const int n = static_cast<int>((u >> 1) & 1);
        const int l0 = static_cast<int>(u & 1) * 16;
        // Scale of group g: byte l0 / 16 + 2g of the half's 8 scales.
        const uint64_t half_scales = (static_cast<uint64_t>(raw.scales.y) << 32 | raw.scales.x) >> (l0 / 2);
        const float d = fp16_bits_to_float(raw.d);
        const int la[4] = {raw.qla.x, raw.qla.y, raw.qla.z, raw.qla.w};
        const int lb[4] = {raw.qlb.x, raw.qlb.y, raw.qlb.z, raw.qlb.w};
        const int hb[4] = {raw.qh.x, raw.qh.y, raw.qh.z, raw.qh.w};
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
                const int s = dot16_i8(q[g], load_int4(acts[t].qs + elem));
                const int8_t scale = static_cast<int8_t>((half_scales >> (16 * g)) & 0xff);
                sum += static_cast<float>(scale) * acts[t].ds[elem / 32].x * static_cast<float>(s);
            }
            acc[t] += d * sum;
        }
    }
};

// Q4_1 unit = one 32-element block: 16 bytes of nibbles, {d, m} as one u32 of the scales row.
// x = d * q + m: the min meets the activations' d * sum(q).
struct UnitQ4_1 : NibbleBlockUnit<uint32_t> {  // scale: {d, m}
    static constexpr int kElems = 32;
    template <int NT>
    __device__ static void dot(const Raw& raw, int64_t u, const ActRow* acts, float (&acc)[NT]) {
        const float d = fp16_bits_to_float(static_cast<uint16_t>(raw.scale & 0xffff));
        const float m = fp16_bits_to_float(static_cast<uint16_t>(raw.scale >> 16));
        int q[8];
        split_nibbles(raw.w, q);
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            const int s = dot_block32(q, acts[t].qs + u * 32);
            const float2 ds = acts[t].ds[u];
            acc[t] += d * ds.x * static_cast<float>(s) + m * ds.y;
        }
    }
};

// Q5_0 / Q5_1 unit = one 32-element block. Packed in groups of 4 blocks (80 bytes): the 4 x 16
// bytes of nibbles, then the 4 u32 of fifth bits (bit j = element j). Q5_0: x = d * (q - 16);
// Q5_1: x = d * q + m with {d, m} as one u32 of the scales row.
template <bool kHasMin>
struct UnitQ5 {
    static constexpr int kElems = 32;
    struct Raw {
        int4 w;
        uint32_t qh;
        uint32_t d_m;  // Q5_1: {d, m}; Q5_0: d in the low half
    };
    __device__ static Raw load(const uint8_t* row_qs, const uint16_t* row_scales, int64_t u) {
        const uint8_t* group = row_qs + (u >> 2) * 80;
        const int in_group = static_cast<int>(u & 3);
        const uint32_t d_m = kHasMin ? reinterpret_cast<const uint32_t*>(row_scales)[u] : row_scales[u];
        return {load_int4(group + 16 * in_group), *reinterpret_cast<const uint32_t*>(group + 64 + 4 * in_group), d_m};
    }
    template <int NT>
    __device__ static void dot(const Raw& raw, int64_t u, const ActRow* acts, float (&acc)[NT]) {
        const uint32_t qh = raw.qh;
        const float d = fp16_bits_to_float(static_cast<uint16_t>(raw.d_m & 0xffff));
        const float m = kHasMin ? fp16_bits_to_float(static_cast<uint16_t>(raw.d_m >> 16)) : -16.0f * d;
        int q[8];
        split_nibbles(raw.w, q);
#pragma unroll
        for (int k = 0; k < 4; ++k) {  // word k: elements 4k..4k+3 and 16+4k..16+4k+3
            q[k] |= spread_bits4(qh >> (4 * k)) << 4;
            q[k + 4] |= spread_bits4(qh >> (16 + 4 * k)) << 4;
        }
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            const int s = dot_block32(q, acts[t].qs + u * 32);
            const float2 ds = acts[t].ds[u];
            acc[t] += d * ds.x * static_cast<float>(s) + m * ds.y;
        }
    }
};
using UnitQ5_0 = UnitQ5<false>;
using UnitQ5_1 = UnitQ5<true>;

// Dots one 32-element block of codebook nibbles (16 bytes, scale d) with activation block u of
// each token: the IQ4_NL, IQ4_XS and MXFP4 units differ only in how they find d.
template <int NT>
__device__ __forceinline__ void dot_codebook_block(const int4& w, const Codebook16& book, float d, int64_t u,
                                                   const ActRow* acts, float (&acc)[NT]) {
    int q[8];
    lookup_block32(w, book, q);
#pragma unroll
    for (int t = 0; t < NT; ++t) acc[t] += d * acts[t].ds[u].x * static_cast<float>(dot_block32(q, acts[t].qs + u * 32));
}

// IQ4_NL unit = one 32-element block: 16 bytes of codebook nibbles, fp16 d in the scales row.
struct UnitIQ4_NL : NibbleBlockUnit<uint16_t> {
    static constexpr int kElems = 32;
    template <int NT>
    __device__ static void dot(const Raw& raw, int64_t u, const ActRow* acts, float (&acc)[NT]) {
        dot_codebook_block<NT>(raw.w, Codebook16{{kIQ4NLBook0, kIQ4NLBook1, kIQ4NLBook2, kIQ4NLBook3}},
                               fp16_bits_to_float(raw.scale), u, acts, acc);
    }
};

// IQ4_XS unit = one 32-element sub-block (u % 8 of super-block u / 8): 16 bytes of codebook
// nibbles at 16u. The super-block's 8 bytes in the scales row: d, scales_h, scales_l[4]; the
// sub-block's 6-bit scale (biased by 32) has its low 4 bits at bit 4s of scales_l (as a u32) and
// its top 2 at bit 2s of scales_h.
struct UnitIQ4_XS {
    static constexpr int kElems = 32;
    struct Raw {
        int4 w;
        uint2 head;  // {d | scales_h << 16, scales_l}
    };
    __device__ static Raw load(const uint8_t* row_qs, const uint16_t* row_scales, int64_t u) {
        return {load_int4(row_qs + u * 16), reinterpret_cast<const uint2*>(row_scales)[u >> 3]};
    }
    template <int NT>
    __device__ static void dot(const Raw& raw, int64_t u, const ActRow* acts, float (&acc)[NT]) {
        const uint2 head = raw.head;
        const int s = static_cast<int>(u & 7);
        const int scale = static_cast<int>(((head.y >> (4 * s)) & 0xf) | (((head.x >> (16 + 2 * s)) & 3) << 4)) - 32;
        const float d = fp16_bits_to_float(static_cast<uint16_t>(head.x & 0xffff)) * static_cast<float>(scale);
        dot_codebook_block<NT>(raw.w, Codebook16{{kIQ4NLBook0, kIQ4NLBook1, kIQ4NLBook2, kIQ4NLBook3}}, d, u, acts, acc);
    }
};

// MXFP4 unit = one 32-element block: 16 bytes of FP4 nibbles read through the doubled-integer
// codebook (-12..12), the E8M0 exponent as byte u of the scales row (decoded with the halving).
struct UnitMXFP4 : NibbleBlockUnit<uint8_t> {  // scale: the E8M0 exponent
    static constexpr int kElems = 32;
    template <int NT>
    __device__ static void dot(const Raw& raw, int64_t u, const ActRow* acts, float (&acc)[NT]) {
        const float d = quant::e8m0_to_float_half(raw.scale);
        dot_codebook_block<NT>(raw.w, Codebook16{{kMXFP4Book0, kMXFP4Book1, kMXFP4Book2, kMXFP4Book3}}, d, u, acts, acc);
    }
};

// Q2_K and Q3_K share the 2-bit packing of a 256-element super-block: half h (128 elements) has 32
// qs bytes; byte l holds elements 128h + 32p + l, p = 0..3, in bit pair p. Their unit is a
// quarter super-block: half h and bytes l0..l0+15 (l0 = 0 or 16), i.e. 4 groups p of 16
// elements at 128h + 32p + l0, each exactly one 16-element sub-block (index 8h + 2p + l0 / 16)
// and half of activation block 4h + p. Unit u: super-block u / 4, h = (u / 2) % 2, l0 = 16 (u % 2).

// Q2_K unit. Packed block (80 bytes): qs[64] | scales[16] (sub-block s: scale = low nibble,
// min = high nibble of byte s); {d, dmin} as one u32 of the scales row. x = d * scale * q - dmin * min.
// The mins need each group's own sum of activations (the activations' ds.y covers 32).
struct UnitQ2_K {
    static constexpr int kElems = 64;
    struct Raw {
        int4 qs;
        uint2 scale_bytes;  // sub-blocks 8h..8h+7
        uint32_t d_dmin;
    };
    __device__ static Raw load(const uint8_t* row_qs, const uint16_t* row_scales, int64_t u) {
        const int h = static_cast<int>((u >> 1) & 1), l0 = static_cast<int>(u & 1) * 16;
        const uint8_t* block = row_qs + (u >> 2) * 80;
        return {load_int4(block + 32 * h + l0), *reinterpret_cast<const uint2*>(block + 64 + 8 * h),
                reinterpret_cast<const uint32_t*>(row_scales)[u >> 2]};
    }
    template <int NT>
    __device__ static void dot(const Raw& raw, int64_t u, const ActRow* acts, float (&acc)[NT]) {
        const int64_t sb = u >> 2;
        const int h = static_cast<int>((u >> 1) & 1), l0 = static_cast<int>(u & 1) * 16;
        const int4 qs = raw.qs;
        const uint2 scale_bytes = raw.scale_bytes;
        const uint32_t d_dmin = raw.d_dmin;
        const float d = fp16_bits_to_float(static_cast<uint16_t>(d_dmin & 0xffff));
        const float dmin = fp16_bits_to_float(static_cast<uint16_t>(d_dmin >> 16));
        // Sub-block 8h + 2p + l0/16: groups 0, 1 in bytes 0, 2 of `first`, groups 2, 3 in those of `second`.
        const uint32_t first = scale_bytes.x >> (l0 / 2), second = scale_bytes.y >> (l0 / 2);
        const uint32_t scale_min[4] = {first & 0xff, (first >> 16) & 0xff, second & 0xff, (second >> 16) & 0xff};
        const int words[4] = {qs.x, qs.y, qs.z, qs.w};
        int q[4][4];  // [group][word]: values 0..3
#pragma unroll
        for (int p = 0; p < 4; ++p) {
#pragma unroll
            for (int k = 0; k < 4; ++k) q[p][k] = (words[k] >> (2 * p)) & 0x03030303;
        }
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            float sum_scaled = 0.0f, sum_min = 0.0f;
#pragma unroll
            for (int p = 0; p < 4; ++p) {
                const int64_t elem = sb * 256 + 128 * h + 32 * p + l0;
                const int4 x = load_int4(acts[t].qs + elem);
                constexpr int kOnes[4] = {0x01010101, 0x01010101, 0x01010101, 0x01010101};
                const int s = dot16_i8(q[p], x);
                const int x_sum = dot16_i8(kOnes, x);  // the group's sum of activations
                const float dx = acts[t].ds[elem / 32].x;
                sum_scaled += dx * static_cast<float>(s * static_cast<int>(scale_min[p] & 0xf));
                sum_min += dx * static_cast<float>(x_sum * static_cast<int>(scale_min[p] >> 4));
            }
            acc[t] += d * sum_scaled - dmin * sum_min;
        }
    }
};

// Q3_K unit. Packed block (112 bytes): hmask[32] | qs[64] | scales[12] | d | 2 bytes padding.
// x = d * scale * (q2 - 4 * !hbit): the high bit of element e is bit e / 32 (= 4h + p) of
// hmask[e % 32] (= l0 + i); scales are 6-bit, biased by 32 (k_scales.h unpack_scale_q3_k).
struct UnitQ3_K {
    static constexpr int kElems = 64;
    struct Raw {
        int4 hmask, qs, tail;  // tail: scale bytes 0..11 in x, y, z; d in the low half of w
    };
    __device__ static Raw load(const uint8_t* row_qs, const uint16_t*, int64_t u) {
        const int h = static_cast<int>((u >> 1) & 1), l0 = static_cast<int>(u & 1) * 16;
        const uint8_t* block = row_qs + (u >> 2) * 112;
        return {load_int4(block + l0), load_int4(block + 32 + 32 * h + l0), load_int4(block + 96)};
    }
    template <int NT>
    __device__ static void dot(const Raw& raw, int64_t u, const ActRow* acts, float (&acc)[NT]) {
        const int64_t sb = u >> 2;
        const int h = static_cast<int>((u >> 1) & 1), l0 = static_cast<int>(u & 1) * 16;
        const int4 hmask = raw.hmask, qs = raw.qs, tail = raw.tail;
        const float d = fp16_bits_to_float(static_cast<uint16_t>(tail.w & 0xffff));
        // Scale of sub-block j = 8h + 2p + l0/16: low 4 bits = nibble h of scale byte 2p + l0/16
        // (bytes 0..3 for groups 0, 1; 4..7 for 2, 3), top 2 bits = bits 4h + 2 (p / 2) of byte
        // 8 + (2p + l0/16) % 4. Assembled per byte, then groups 0, 1 (2, 3) sit in bytes l0/16 and
        // 2 + l0/16 of `first` (`second`).
        const uint32_t scale_lo01 = (static_cast<uint32_t>(tail.x) >> (4 * h)) & kLowNibbles;
        const uint32_t scale_lo23 = (static_cast<uint32_t>(tail.y) >> (4 * h)) & kLowNibbles;
        const uint32_t scale_hi01 = (static_cast<uint32_t>(tail.z) >> (4 * h)) & 0x03030303u;
        const uint32_t scale_hi23 = (static_cast<uint32_t>(tail.z) >> (4 * h + 2)) & 0x03030303u;
        const uint32_t first = (scale_lo01 | (scale_hi01 << 4)) >> (l0 / 2);
        const uint32_t second = (scale_lo23 | (scale_hi23 << 4)) >> (l0 / 2);
        const int scale[4] = {static_cast<int>(first & 0x3f) - 32, static_cast<int>((first >> 16) & 0x3f) - 32,
                              static_cast<int>(second & 0x3f) - 32, static_cast<int>((second >> 16) & 0x3f) - 32};
        const uint32_t q_words[4] = {static_cast<uint32_t>(qs.x), static_cast<uint32_t>(qs.y),
                                     static_cast<uint32_t>(qs.z), static_cast<uint32_t>(qs.w)};
        const uint32_t h_words[4] = {static_cast<uint32_t>(hmask.x), static_cast<uint32_t>(hmask.y),
                                     static_cast<uint32_t>(hmask.z), static_cast<uint32_t>(hmask.w)};
        int q[4][4];  // [group][word]: signed values -4..3
#pragma unroll
        for (int p = 0; p < 4; ++p) {
#pragma unroll
            for (int k = 0; k < 4; ++k) {
                const uint32_t low = (q_words[k] >> (2 * p)) & 0x03030303u;
                // 1 in each byte whose high bit is clear; times 0xfc gives that byte 0xfc (no
                // carries between bytes), and 0xfc | low is low - 4 as int8.
                const uint32_t no_high = (~h_words[k] >> (4 * h + p)) & 0x01010101u;
                q[p][k] = static_cast<int>(low | (no_high * 0xfcu));
            }
        }
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            float sum = 0.0f;
#pragma unroll
            for (int p = 0; p < 4; ++p) {
                const int64_t elem = sb * 256 + 128 * h + 32 * p + l0;
                const int s = dot16_i8(q[p], load_int4(acts[t].qs + elem));
                sum += acts[t].ds[elem / 32].x * static_cast<float>(s * scale[p]);
            }
            acc[t] += d * sum;
        }
    }
};

// Row dot products: acc[m][t] += W_m[row[m]] . x_t for M rows of one type and width (SwiGLU's
// gate and up rows, or adjacent rows of one matrix), over the warp's lanes (each lane a partial
// sum). Each step loads all its units of all M rows before using any, so a lane has M x kUnroll
// loads in flight; before_first_dot() runs once those of the first step are issued. Quantized
// weights read the int8 activations; F16 weights read the float rows.
template <typename Unit>
struct QuantRowDot {
    template <int NT, int M, typename BeforeFirstDot>
    __device__ static void run(const DeviceMatrix (&w)[M], const int64_t (&row)[M], const MatvecInput& in, int lane,
                               float (&acc)[M][NT], BeforeFirstDot before_first_dot) {
        const uint8_t* row_qs[M];
        const uint16_t* row_scales[M];
#pragma unroll
        for (int m = 0; m < M; ++m) {
            row_qs[m] = w[m].qs + row[m] * w[m].qs_row_bytes;
            row_scales[m] = w[m].scales ? w[m].scales + row[m] * w[m].scale_row_count : nullptr;
        }
        const int64_t padded = in.acts.n_cols_padded;
        ActRow rows[NT];
#pragma unroll
        for (int t = 0; t < NT; ++t) rows[t] = {in.acts.qs + t * padded, in.acts.ds + t * (padded / 32)};
        const int64_t n_units = w[0].n_cols / Unit::kElems;
        // A step is 128 columns per lane (one step for a 4096-wide row on 32 lanes). A lane past
        // the row's end (11008 columns: 2.7 steps) re-reads the row's last unit and drops the
        // result, so a step has no branch between its loads and its dots.
        constexpr int kUnroll = 128 / Unit::kElems;
        for (int64_t u0 = lane; u0 < n_units; u0 += kUnroll * RF_WARP_SIZE) {
            typename Unit::Raw raw[M][kUnroll];
#pragma unroll
            for (int k = 0; k < kUnroll; ++k) {
                const int64_t u = min(u0 + k * RF_WARP_SIZE, n_units - 1);
#pragma unroll
                for (int m = 0; m < M; ++m) raw[m][k] = Unit::load(row_qs[m], row_scales[m], u);
            }
            if (u0 == lane) before_first_dot();
#pragma unroll
            for (int k = 0; k < kUnroll; ++k) {
                const int64_t u = u0 + k * RF_WARP_SIZE;
                const bool in_row = u < n_units;
#pragma unroll
                for (int m = 0; m < M; ++m) {
                    float part[NT] = {};
                    Unit::template dot<NT>(raw[m][k], in_row ? u : n_units - 1, rows, part);
#pragma unroll
                    for (int t = 0; t < NT; ++t) acc[m][t] += in_row ? part[t] : 0.0f;
                }
            }
        }
    }
};

// F16 weights against float activations: each lane takes 8 halves (16 bytes) per chunk.
struct F16RowDot {
    // Dots chunk c (columns c..c+7) of the row with the n_tokens activation rows.
    template <int NT>
    __device__ static void dot_chunk(const int4& packed, const float* x, int64_t n_cols, int64_t c, float (&acc)[NT]) {
        float wf[8];
        halves8_to_float(packed, wf);
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            const float4 xa = *reinterpret_cast<const float4*>(x + t * n_cols + c);
            const float4 xb = *reinterpret_cast<const float4*>(x + t * n_cols + c + 4);
            acc[t] += wf[0] * xa.x + wf[1] * xa.y + wf[2] * xa.z + wf[3] * xa.w + wf[4] * xb.x + wf[5] * xb.y +
                      wf[6] * xb.z + wf[7] * xb.w;
        }
    }

    template <int NT, int M, typename BeforeFirstDot>
    __device__ static void run(const DeviceMatrix (&w)[M], const int64_t (&row)[M], const MatvecInput& in, int lane,
                               float (&acc)[M][NT], BeforeFirstDot before_first_dot) {
        const uint8_t* row_qs[M];
#pragma unroll
        for (int m = 0; m < M; ++m) row_qs[m] = w[m].qs + row[m] * w[m].qs_row_bytes;
        const int64_t n_cols = w[0].n_cols;
        // Steps of kUnroll chunks per lane and row, 8 loads in all, loaded before any is used (a
        // 4096-wide row is two steps alone, four as one of two); past the row's end the loads are
        // predicated off.
        constexpr int kUnroll = 8 / M;
        constexpr int64_t kChunkStride = RF_WARP_SIZE * 8;  // columns between a lane's chunks
        for (int64_t c0 = lane * 8; c0 < n_cols; c0 += kUnroll * kChunkStride) {
            int4 packed[M][kUnroll];
#pragma unroll
            for (int m = 0; m < M; ++m) {
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) {
                    const int64_t c = c0 + k * kChunkStride;
                    packed[m][k] = c < n_cols ? load_int4(row_qs[m] + c * 2) : make_int4(0, 0, 0, 0);
                }
            }
            if (c0 == lane * 8) before_first_dot();
#pragma unroll
            for (int m = 0; m < M; ++m) {
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) {
                    const int64_t c = c0 + k * kChunkStride;
                    if (c < n_cols) dot_chunk<NT>(packed[m][k], in.x, n_cols, c, acc[m]);
                }
            }
        }
    }
};

}  // namespace rf::gpu::matvec_units
