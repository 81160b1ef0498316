// x86 SIMD kernels shared by the AVX2, AVX-VNNI and AVX-512 tables: each kernels_<isa>.cpp
// defines RF_X86_NS and includes this header, compiled with its own -m flags, so the same code
// becomes three instruction-set variants. Part 1: primitives, tile walker, activation
// quantizers, float kernels and the 32-element formats. K-quants are in vec_dot_x86_k.h.
//
// Only intrinsics and functions of this namespace (or always-inline helpers) may be used here:
// an out-of-line copy of a shared inline function compiled with AVX-512 flags could be picked by
// the linker for every caller.
#pragma once

#if !defined(RF_X86_NS)
#error "define RF_X86_NS before including vec_dot_x86.h"
#endif

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "backend/cpu/vec_dot.h"
#include "core/platform.h"

// Fully unrolls a loop with a compile-time trip count (tokens, rows, groups of a register tile)
// early enough that GCC keeps the tile's accumulator arrays in registers; without it GCC may keep
// a stack copy and store it on every iteration.
#define RF_UNROLL _Pragma("GCC unroll 16")

namespace rf::cpu::RF_X86_NS {

// ---- primitives ----------------------------------------------------------------------------

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
inline constexpr bool kVnni = true;
// acc + sum of 4 u8 x s8 products per int32 lane, without intermediate saturation.
RF_ALWAYS_INLINE __m256i dot_u8s8(__m256i u, __m256i s) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
}
RF_ALWAYS_INLINE __m256i dot_u8s8_acc(__m256i acc, __m256i u, __m256i s) {
    return _mm256_dpbusd_epi32(acc, u, s);
}
#elif defined(__AVXVNNI__)
inline constexpr bool kVnni = true;
RF_ALWAYS_INLINE __m256i dot_u8s8(__m256i u, __m256i s) {
    return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), u, s);
}
RF_ALWAYS_INLINE __m256i dot_u8s8_acc(__m256i acc, __m256i u, __m256i s) {
    return _mm256_dpbusd_avx_epi32(acc, u, s);
}
#else
inline constexpr bool kVnni = false;
// maddubs saturates pairs at int16: callers keep u <= 128 so 2 * 128 * 127 fits.
RF_ALWAYS_INLINE __m256i dot_u8s8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}
RF_ALWAYS_INLINE __m256i dot_u8s8_acc(__m256i acc, __m256i u, __m256i s) {
    return _mm256_add_epi32(acc, dot_u8s8(u, s));
}
#endif

// s8 x s8 by moving the sign onto the activations: |w| * (x * sign(w)).
RF_ALWAYS_INLINE __m256i dot_s8s8(__m256i abs_w, __m256i w, __m256i x) {
    return dot_u8s8(abs_w, _mm256_sign_epi8(x, w));
}

RF_ALWAYS_INLINE float fp16_load(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

// Four fp16 values from four addresses as floats.
RF_ALWAYS_INLINE __m128 fp16_load4(const uint8_t* p0, const uint8_t* p1, const uint8_t* p2,
                                   const uint8_t* p3) {
    uint16_t h0, h1, h2, h3;
    std::memcpy(&h0, p0, 2);
    std::memcpy(&h1, p1, 2);
    std::memcpy(&h2, p2, 2);
    std::memcpy(&h3, p3, 2);
    return _mm_cvtph_ps(_mm_setr_epi16(static_cast<int16_t>(h0), static_cast<int16_t>(h1),
                                       static_cast<int16_t>(h2), static_cast<int16_t>(h3), 0, 0, 0,
                                       0));
}

RF_ALWAYS_INLINE __m256 dup128(__m128 v) {
    return _mm256_set_m128(v, v);
}

// 16 bytes of packed nibbles -> 32 bytes: low nibbles (elements 0..15) in the low lane, high
// nibbles (elements 16..31) in the high lane — the Q4_0 element order.
RF_ALWAYS_INLINE __m256i unpack_nibbles(const uint8_t* p) {
    const __m256i b =
        _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m256i shifted = _mm256_srlv_epi32(b, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4));
    return _mm256_and_si256(shifted, _mm256_set1_epi8(0x0F));
}

// 32 bits -> 32 bytes, byte i = 0xFF where bit i is set.
RF_ALWAYS_INLINE __m256i expand_bits(uint32_t bits) {
    const __m256i v = _mm256_set1_epi32(static_cast<int32_t>(bits));
    const __m256i spread =
        _mm256_shuffle_epi8(v, _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                                  0x0202020202020202, 0x0303030303030303));
    const __m256i mask = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
    return _mm256_cmpeq_epi8(_mm256_and_si256(spread, mask), mask);
}

// [sum a(lo), sum b(lo), sum c(lo), sum d(lo) | the same for the high lanes] of four int32x8.
RF_ALWAYS_INLINE __m256i reduce4_epi32(__m256i a, __m256i b, __m256i c, __m256i d) {
    return _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
}
RF_ALWAYS_INLINE __m256 reduce4_ps(__m256 a, __m256 b, __m256 c, __m256 d) {
    return _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
}
RF_ALWAYS_INLINE __m128 fold_halves(__m256 v) {
    return _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
}
RF_ALWAYS_INLINE float hsum_ps(__m256 v) {
    __m128 s = fold_halves(v);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
RF_ALWAYS_INLINE int hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

RF_ALWAYS_INLINE int64_t min_i64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

// ---- output ---------------------------------------------------------------------------------

RF_ALWAYS_INLINE float* out_ptr(const GemmArgs& a, int r, int t) {
    return a.y + t * a.y_stride + r;
}

RF_ALWAYS_INLINE void store4(const GemmArgs& a, int r0, int t, __m128 v) {
    float* y = out_ptr(a, r0, t);
    if (a.accumulate) v = _mm_add_ps(v, _mm_loadu_ps(y));
    _mm_storeu_ps(y, v);
}
RF_ALWAYS_INLINE void store1(const GemmArgs& a, int r, int t, float v) {
    float* y = out_ptr(a, r, t);
    *y = a.accumulate ? *y + v : v;
}

// ---- tile walker ----------------------------------------------------------------------------
// K::template run<R, T>(args, r0, t0) computes R rows (4 or 1) x T tokens. The walker covers the
// rectangle with 4-row tiles (1-row tiles for the last n_rows % 4) and T = TMax token tiles
// (smaller ones at the end), rows outermost so a tile's weight rows stay in L1 across tokens.

template <typename K, int R, int T>
RF_ALWAYS_INLINE void run_token_tail(const GemmArgs& a, int r0, int t0, int rem) {
    if constexpr (T > 1) {
        if (rem == T) {
            K::template run<R, T>(a, r0, t0);
        } else {
            run_token_tail<K, R, T - 1>(a, r0, t0, rem);
        }
    } else {
        K::template run<R, 1>(a, r0, t0);
    }
}

template <typename K, int R, int TMax>
void run_rows(const GemmArgs& a, int r0) {
    int t0 = 0;
    for (; t0 + TMax <= a.n_tokens; t0 += TMax) K::template run<R, TMax>(a, r0, t0);
    if (t0 < a.n_tokens)
        run_token_tail<K, R, TMax - 1 < 1 ? 1 : TMax - 1>(a, r0, t0, a.n_tokens - t0);
}

template <typename K, int TMax>
void gemm_walk(const GemmArgs& a) {
    int r0 = 0;
    for (; r0 + 4 <= a.n_rows; r0 += 4) run_rows<K, 4, TMax>(a, r0);
    for (; r0 < a.n_rows; ++r0) run_rows<K, 1, TMax>(a, r0);
}

// ---- activation quantizers ------------------------------------------------------------------

RF_ALWAYS_INLINE __m256 abs_ps(__m256 v) {
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
}

RF_ALWAYS_INLINE float hmax_ps(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

// Quantizes 32 floats with inverse scale `id` (round half to even, as vec_dot.h specifies) into
// 32 int8 at q; returns the four int32 vectors' sum as int32x8 (for the block sums).
RF_ALWAYS_INLINE __m256i quantize32(const float* x, __m256 id, int8_t* q) {
    const __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), id));
    const __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), id));
    const __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16), id));
    const __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 24), id));
    // packs interleave the 128-bit lanes; the permute restores element order.
    const __m256i p16a = _mm256_packs_epi32(i0, i1);
    const __m256i p16b = _mm256_packs_epi32(i2, i3);
    const __m256i p8 = _mm256_packs_epi16(p16a, p16b);
    const __m256i ordered =
        _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), ordered);
    return _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
}

RF_ALWAYS_INLINE float amax_of(const float* x, int n) {
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 8) m = _mm256_max_ps(m, abs_ps(_mm256_loadu_ps(x + i)));
    return hmax_ps(m);
}

void quantize_act_q8_32(const float* x, int64_t n_cols, uint8_t* dst) {
    const int64_t nb = n_cols / 32;
    auto* qs = reinterpret_cast<int8_t*>(dst);
    auto* d = reinterpret_cast<float*>(dst + n_cols);  // layout of vec_dot.h: qs | d | s | sum
    float* s = d + nb;
    auto* sum = reinterpret_cast<int16_t*>(s + nb);
    for (int64_t b = 0; b < nb; ++b) {
        const float* xb = x + b * 32;
        const float db = amax_of(xb, 32) / 127.0f;
        const float id = db > 0.0f ? 1.0f / db : 0.0f;
        const int total = hsum_epi32(quantize32(xb, _mm256_set1_ps(id), qs + b * 32));
        d[b] = db;
        sum[b] = static_cast<int16_t>(total);
        s[b] = db * static_cast<float>(total);
    }
}

// Sum of 16 int8 as int.
RF_ALWAYS_INLINE int sum16_i8(const int8_t* q) {
    const __m256i wide = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
    return hsum_epi32(_mm256_madd_epi16(wide, _mm256_set1_epi16(1)));
}

void quantize_act_q8_k(const float* x, int64_t n_cols, uint8_t* dst) {
    const int64_t nb = n_cols / 256;
    auto* qs = reinterpret_cast<int8_t*>(dst);
    auto* d = reinterpret_cast<float*>(dst + n_cols);  // layout of vec_dot.h: qs | d | bsums
    auto* bsums = reinterpret_cast<int16_t*>(d + nb);
    for (int64_t b = 0; b < nb; ++b) {
        const float* xb = x + b * 256;
        const float db = amax_of(xb, 256) / 127.0f;
        const __m256 id = _mm256_set1_ps(db > 0.0f ? 1.0f / db : 0.0f);
        d[b] = db;
        RF_UNROLL
        for (int j = 0; j < 8; ++j) {
            int8_t* q = qs + b * 256 + j * 32;
            quantize32(xb + j * 32, id, q);
            bsums[b * 16 + 2 * j] = static_cast<int16_t>(sum16_i8(q));
            bsums[b * 16 + 2 * j + 1] = static_cast<int16_t>(sum16_i8(q + 16));
        }
    }
}

// ---- float weights (F32 / F16 / BF16, and dequantized tiles) --------------------------------

struct LoadF32 {
    static constexpr int kBytes = 4;
    RF_ALWAYS_INLINE static __m256 load8(const uint8_t* p) {
        return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
    }
    RF_ALWAYS_INLINE static float load1(const uint8_t* p) {
        float v;
        std::memcpy(&v, p, 4);
        return v;
    }
};
struct LoadF16 {
    static constexpr int kBytes = 2;
    RF_ALWAYS_INLINE static __m256 load8(const uint8_t* p) {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    }
    RF_ALWAYS_INLINE static float load1(const uint8_t* p) { return fp16_load(p); }
};
struct LoadBF16 {
    static constexpr int kBytes = 2;
    RF_ALWAYS_INLINE static __m256 load8(const uint8_t* p) {
        const __m256i wide =
            _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
    }
    RF_ALWAYS_INLINE static float load1(const uint8_t* p) {
        uint16_t h;
        std::memcpy(&h, p, 2);
        const uint32_t bits = static_cast<uint32_t>(h) << 16;
        float v;
        std::memcpy(&v, &bits, 4);
        return v;
    }
};

// Token tile height of FloatKernel: 4 rows x 2 tokens = 8 accumulators + 4 weight vectors.
inline constexpr int kFloatTokens = 2;

template <typename L>
struct FloatKernel {
    template <int R, int T>
    static void run(const GemmArgs& a, int r0, int t0) {
        const int64_t n = a.n_cols, n8 = n / 8 * 8;
        const uint8_t* w[R];
        RF_UNROLL
        for (int r = 0; r < R; ++r) w[r] = a.w + (r0 + r) * a.w_stride;
        const float* x[T];
        RF_UNROLL
        for (int t = 0; t < T; ++t)
            x[t] = reinterpret_cast<const float*>(a.x + (t0 + t) * a.x_stride);
        __m256 acc[R][T];
        RF_UNROLL
        for (int r = 0; r < R; ++r) RF_UNROLL
        for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
        for (int64_t c = 0; c < n8; c += 8) {
            __m256 wv[R];
            RF_UNROLL
            for (int r = 0; r < R; ++r) wv[r] = L::load8(w[r] + c * L::kBytes);
            RF_UNROLL
            for (int t = 0; t < T; ++t) {
                const __m256 xv = _mm256_loadu_ps(x[t] + c);
                RF_UNROLL
                for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
            }
        }
        RF_UNROLL
        for (int t = 0; t < T; ++t) {
            float tail[R] = {};
            for (int64_t c = n8; c < n; ++c) {
                RF_UNROLL
                for (int r = 0; r < R; ++r) tail[r] += L::load1(w[r] + c * L::kBytes) * x[t][c];
            }
            if constexpr (R == 4) {
                const __m128 v =
                    fold_halves(reduce4_ps(acc[0][t], acc[1][t], acc[2][t], acc[3][t]));
                store4(a, r0, t0 + t, _mm_add_ps(v, _mm_loadu_ps(tail)));
            } else {
                store1(a, r0, t0 + t, hsum_ps(acc[0][t]) + tail[0]);
            }
        }
    }
};

// ---- 32-element formats against Q8_32 activations -------------------------------------------
// A format D gives, per block: 32 weight values as bytes (D::values), the block scale, and how
// the dot product is formed:
//   kSigned = false: values u are unsigned, w = d * (u - kOffset) (+ m for kHasMin); dot_u8s8
//                    needs u <= 128 without VNNI.
//   kSigned = true : values are signed int8 w = d * v (AVX2 sign trick).
// With VNNI the signed formats flip the sign bit (v + 128, offset 128) and use the unsigned form.

RF_ALWAYS_INLINE __m128 scales4_fp16(const uint8_t* const* w, size_t off) {
    return fp16_load4(w[0] + off, w[1] + off, w[2] + off, w[3] + off);
}

struct FmtQ4_0 {
    static constexpr size_t kBytes = 18;
    static constexpr bool kSigned = false, kHasMin = false;
    static constexpr int kOffset = 8;
    RF_ALWAYS_INLINE static __m256i values(const uint8_t* b) { return unpack_nibbles(b + 2); }
    RF_ALWAYS_INLINE static float scale(const uint8_t* b) { return fp16_load(b); }
    RF_ALWAYS_INLINE static __m128 scale4(const uint8_t* const* w, size_t off) {
        return scales4_fp16(w, off);
    }
};
struct FmtQ4_1 {
    static constexpr size_t kBytes = 20;
    static constexpr bool kSigned = false, kHasMin = true;
    static constexpr int kOffset = 0;
    RF_ALWAYS_INLINE static __m256i values(const uint8_t* b) { return unpack_nibbles(b + 4); }
    RF_ALWAYS_INLINE static float scale(const uint8_t* b) { return fp16_load(b); }
    RF_ALWAYS_INLINE static float min(const uint8_t* b) { return fp16_load(b + 2); }
    RF_ALWAYS_INLINE static __m128 scale4(const uint8_t* const* w, size_t off) {
        return scales4_fp16(w, off);
    }
    RF_ALWAYS_INLINE static __m128 min4(const uint8_t* const* w, size_t off) {
        return scales4_fp16(w, off + 2);
    }
};
RF_ALWAYS_INLINE __m256i fifth_bits(const uint8_t* qh) {
    uint32_t bits;
    std::memcpy(&bits, qh, 4);
    return _mm256_and_si256(expand_bits(bits), _mm256_set1_epi8(0x10));
}
struct FmtQ5_0 {
    static constexpr size_t kBytes = 22;
    static constexpr bool kSigned = false, kHasMin = false;
    static constexpr int kOffset = 16;
    RF_ALWAYS_INLINE static __m256i values(const uint8_t* b) {
        return _mm256_or_si256(unpack_nibbles(b + 6), fifth_bits(b + 2));
    }
    RF_ALWAYS_INLINE static float scale(const uint8_t* b) { return fp16_load(b); }
    RF_ALWAYS_INLINE static __m128 scale4(const uint8_t* const* w, size_t off) {
        return scales4_fp16(w, off);
    }
};
struct FmtQ5_1 {
    static constexpr size_t kBytes = 24;
    static constexpr bool kSigned = false, kHasMin = true;
    static constexpr int kOffset = 0;
    RF_ALWAYS_INLINE static __m256i values(const uint8_t* b) {
        return _mm256_or_si256(unpack_nibbles(b + 8), fifth_bits(b + 4));
    }
    RF_ALWAYS_INLINE static float scale(const uint8_t* b) { return fp16_load(b); }
    RF_ALWAYS_INLINE static float min(const uint8_t* b) { return fp16_load(b + 2); }
    RF_ALWAYS_INLINE static __m128 scale4(const uint8_t* const* w, size_t off) {
        return scales4_fp16(w, off);
    }
    RF_ALWAYS_INLINE static __m128 min4(const uint8_t* const* w, size_t off) {
        return scales4_fp16(w, off + 2);
    }
};
struct FmtQ8_0 {
    static constexpr size_t kBytes = 34;
    static constexpr bool kSigned = !kVnni, kHasMin = false;
    static constexpr int kOffset = kVnni ? 128 : 0;
    RF_ALWAYS_INLINE static __m256i values(const uint8_t* b) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
        return kVnni ? _mm256_xor_si256(v, _mm256_set1_epi8(static_cast<char>(0x80))) : v;
    }
    RF_ALWAYS_INLINE static float scale(const uint8_t* b) { return fp16_load(b); }
    RF_ALWAYS_INLINE static __m128 scale4(const uint8_t* const* w, size_t off) {
        return scales4_fp16(w, off);
    }
};
// Codebook formats: a 16-entry byte table looked up with the nibbles. The biased tables hold
// value + offset so the unsigned dot product applies.
RF_ALWAYS_INLINE __m256i lookup16(const int8_t* table, __m256i idx) {
    const __m256i lut =
        _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table)));
    return _mm256_shuffle_epi8(lut, idx);
}
alignas(16) inline constexpr int8_t kIq4nlTable[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                                       1,    13,   25,  38,  53,  69,  89,  113};
// kIq4nlTable + 128, stored as bytes.
alignas(16) inline constexpr int8_t kIq4nlTableBiased[16] = {
    1, 24, 45, 63, 79, 93, 106, 118, -127, -115, -103, -90, -75, -59, -39, -15};
// MXFP4 doubled E2M1 values + 12.
alignas(16) inline constexpr int8_t kMxfp4TableBiased[16] = {12, 13, 14, 15, 16, 18, 20, 24,
                                                             12, 11, 10, 9,  8,  6,  4,  0};

struct FmtIQ4_NL {
    static constexpr size_t kBytes = 18;
    static constexpr bool kSigned = !kVnni, kHasMin = false;
    static constexpr int kOffset = kVnni ? 128 : 0;
    RF_ALWAYS_INLINE static __m256i values(const uint8_t* b) {
        return lookup16(kVnni ? kIq4nlTableBiased : kIq4nlTable, unpack_nibbles(b + 2));
    }
    RF_ALWAYS_INLINE static float scale(const uint8_t* b) { return fp16_load(b); }
    RF_ALWAYS_INLINE static __m128 scale4(const uint8_t* const* w, size_t off) {
        return scales4_fp16(w, off);
    }
};
// E8M0 -> 2^(e - 128) (the halved MXFP4 scale), as the reference decodes it.
RF_ALWAYS_INLINE float e8m0_half(uint8_t e) {
    const uint32_t bits = e < 2 ? (0x00200000u << e) : (static_cast<uint32_t>(e - 1) << 23);
    float v;
    std::memcpy(&v, &bits, 4);
    return v;
}
struct FmtMXFP4 {
    static constexpr size_t kBytes = 17;
    static constexpr bool kSigned = false, kHasMin = false;
    static constexpr int kOffset = 12;  // table + 12 is 0..24
    RF_ALWAYS_INLINE static __m256i values(const uint8_t* b) {
        return lookup16(kMxfp4TableBiased, unpack_nibbles(b + 1));
    }
    RF_ALWAYS_INLINE static float scale(const uint8_t* b) { return e8m0_half(b[0]); }
    RF_ALWAYS_INLINE static __m128 scale4(const uint8_t* const* w, size_t off) {
        return _mm_setr_ps(e8m0_half(w[0][off]), e8m0_half(w[1][off]), e8m0_half(w[2][off]),
                           e8m0_half(w[3][off]));
    }
};

// Weight values of one block, prepared for dot products with several tokens.
template <typename D>
struct Prepared {
    __m256i v;
    __m256i abs_v;  // kSigned only
    RF_ALWAYS_INLINE void load(const uint8_t* b) {
        v = D::values(b);
        if constexpr (D::kSigned) abs_v = _mm256_abs_epi8(v);
    }
    RF_ALWAYS_INLINE __m256i dot(__m256i x) const {
        if constexpr (D::kSigned) {
            return dot_s8s8(abs_v, v, x);
        } else {
            return dot_u8s8(v, x);
        }
    }
};

template <typename D>
struct Q32Kernel {
    template <int R, int T>
    static void run(const GemmArgs& a, int r0, int t0) {
        if constexpr (R == 4) {
            run4<T>(a, r0, t0);
        } else {
            run1<T>(a, r0, t0);
        }
    }

    // Four rows: the rows' int32 partial sums are reduced into the lanes of one vector
    // ([r0 r1 r2 r3 | r0 r1 r2 r3], elements 0..15 | 16..31), so scaling and accumulation cost
    // one multiply and one FMA per token for all four rows.
    template <int T>
    static void run4(const GemmArgs& a, int r0, int t0) {
        const int64_t nb = a.n_cols / 32;
        const uint8_t* w[4];
        RF_UNROLL
        for (int r = 0; r < 4; ++r) w[r] = a.w + (r0 + r) * a.w_stride;
        ActQ8_32 xs[T];
        RF_UNROLL
        for (int t = 0; t < T; ++t) xs[t] = view_q8_32(a.x + (t0 + t) * a.x_stride, a.n_cols);
        __m256 acc[T];
        __m128 acc_min[T];
        RF_UNROLL
        for (int t = 0; t < T; ++t) {
            acc[t] = _mm256_setzero_ps();
            acc_min[t] = _mm_setzero_ps();
        }
        for (int64_t b = 0; b < nb; ++b) {
            const size_t off = static_cast<size_t>(b) * D::kBytes;
            Prepared<D> p[4];
            RF_UNROLL
            for (int r = 0; r < 4; ++r) p[r].load(w[r] + off);
            const __m256 d8 = dup128(D::scale4(w, off));
            __m128 m4 = _mm_setzero_ps();
            if constexpr (D::kHasMin) m4 = D::min4(w, off);
            RF_UNROLL
            for (int t = 0; t < T; ++t) {
                const __m256i x =
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs[t].qs + b * 32));
                const __m256i s = reduce4_epi32(p[0].dot(x), p[1].dot(x), p[2].dot(x), p[3].dot(x));
                // The offset term -kOffset * d * s_x, s_x = dx * sum(x), is applied in float: half
                // in each 128-bit lane, whose two halves are added at the end.
                __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(xs[t].d[b]));
                if constexpr (D::kOffset != 0) {
                    v = _mm256_fnmadd_ps(_mm256_set1_ps(xs[t].s[b]),
                                         _mm256_set1_ps(0.5f * D::kOffset), v);
                }
                acc[t] = _mm256_fmadd_ps(v, d8, acc[t]);
                if constexpr (D::kHasMin)
                    acc_min[t] = _mm_fmadd_ps(m4, _mm_set1_ps(xs[t].s[b]), acc_min[t]);
            }
        }
        RF_UNROLL
        for (int t = 0; t < T; ++t)
            store4(a, r0, t0 + t, _mm_add_ps(fold_halves(acc[t]), acc_min[t]));
    }

    template <int T>
    static void run1(const GemmArgs& a, int r0, int t0) {
        const int64_t nb = a.n_cols / 32;
        const uint8_t* w = a.w + r0 * a.w_stride;
        ActQ8_32 xs[T];
        RF_UNROLL
        for (int t = 0; t < T; ++t) xs[t] = view_q8_32(a.x + (t0 + t) * a.x_stride, a.n_cols);
        __m256 acc[T];
        float acc_min[T];
        RF_UNROLL
        for (int t = 0; t < T; ++t) {
            acc[t] = _mm256_setzero_ps();
            acc_min[t] = 0.0f;
        }
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t* blk = w + b * D::kBytes;
            Prepared<D> p;
            p.load(blk);
            const float d = D::scale(blk);
            RF_UNROLL
            for (int t = 0; t < T; ++t) {
                const __m256i x =
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs[t].qs + b * 32));
                __m256i s = p.dot(x);
                if constexpr (D::kOffset != 0) {
                    s = _mm256_add_epi32(
                        s, _mm256_zextsi128_si256(_mm_cvtsi32_si128(-D::kOffset * xs[t].sum[b])));
                }
                acc[t] =
                    _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(d * xs[t].d[b]), acc[t]);
                if constexpr (D::kHasMin) acc_min[t] += D::min(blk) * xs[t].s[b];
            }
        }
        RF_UNROLL
        for (int t = 0; t < T; ++t) store1(a, r0, t0 + t, hsum_ps(acc[t]) + acc_min[t]);
    }
};

}  // namespace rf::cpu::RF_X86_NS
