// x86 SIMD kernels, part 2: the 256-element K-quants and IQ4_XS against Q8_K activations, and
// the per-ISA table. Included after vec_dot_x86.h by each kernels_<isa>.cpp.
//
// Per super-block and row, a format decodes its scales once into `Row`; then the 8 slices of
// 32 elements are unpacked to bytes and multiplied with each token's activations (maddubs:
// int16 pairs), weighted by the per-16 sub-block scales (madd: int32) and summed in integer.
// Offsets and mins are applied once per super-block through the activations' 16-element sums.
#pragma once

#if !defined(RF_X86_NS)
#error "define RF_X86_NS before including vec_dot_x86_k.h"
#endif

#include "backend/cpu/vec_dot_x86.h"

namespace rf::cpu::RF_X86_NS {

// 16 int16 sub-block scales (or mins), one per 16 elements.
struct KRow {
    __m256i sc16;
    __m256i mins16;  // formats with mins only
    __m256i hbits;   // Q5_K / Q3_K: the high-bit plane
    const uint8_t* blk;
    float d;
    float dmin;
};

// Per-element-pair scales of slice s (elements 32s..32s+31): [sc[2s] x8 | sc[2s+1] x8].
RF_ALWAYS_INLINE __m256i slice_scales(__m256i sc16, int s) {
    const __m256i pair = _mm256_permutevar8x32_epi32(sc16, _mm256_set1_epi32(s));
    const __m256i spread = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,  //
                                            2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
    return _mm256_shuffle_epi8(pair, spread);
}

// 8 byte values -> 16 int16 with each value twice (one value per 32 elements -> per 16).
RF_ALWAYS_INLINE __m256i widen_pairs_u8(uint64_t bytes) {
    const __m128i v = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(bytes)));
    return _mm256_set_m128i(_mm_unpackhi_epi16(v, v), _mm_unpacklo_epi16(v, v));
}

// Q4_K / Q5_K: the 8 (scale, min) pairs of 6 bits (quant/k_scales.h) with 32-bit word masks:
// pairs 0..3 are the low 6 bits of bytes 0..3 / 4..7; pairs 4..7 take a nibble from bytes 8..11
// and the two top bits of bytes 0..3 (scales) or 4..7 (mins).
RF_ALWAYS_INLINE void decode_k4_scales(const uint8_t* p, KRow& row) {
    uint32_t w0, w1, w2;
    std::memcpy(&w0, p, 4);
    std::memcpy(&w1, p + 4, 4);
    std::memcpy(&w2, p + 8, 4);
    const uint32_t sc_lo = w0 & 0x3f3f3f3fu;
    const uint32_t mn_lo = w1 & 0x3f3f3f3fu;
    const uint32_t sc_hi = (w2 & 0x0f0f0f0fu) | (((w0 >> 6) & 0x03030303u) << 4);
    const uint32_t mn_hi = ((w2 >> 4) & 0x0f0f0f0fu) | (((w1 >> 6) & 0x03030303u) << 4);
    row.sc16 = widen_pairs_u8(sc_lo | (static_cast<uint64_t>(sc_hi) << 32));
    row.mins16 = widen_pairs_u8(mn_lo | (static_cast<uint64_t>(mn_hi) << 32));
}

RF_ALWAYS_INLINE __m256i load256(const uint8_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
RF_ALWAYS_INLINE __m256i low_nibbles(__m256i v) {
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}
RF_ALWAYS_INLINE __m256i high_nibbles(__m256i v) {
    return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F));
}
// Bit `bit` of every byte of v, moved to bit position `to`.
RF_ALWAYS_INLINE __m256i bit_plane(__m256i v, int bit, int to) {
    const __m256i one =
        _mm256_and_si256(_mm256_srl_epi16(v, _mm_cvtsi32_si128(bit)), _mm256_set1_epi8(1));
    return _mm256_sll_epi16(one, _mm_cvtsi32_si128(to));
}

// Each format: kBytes, kSigned (values are signed: sign trick), kOffset (value = u - kOffset,
// corrected with the scales . bsums), kHasMin, decode(blk, row), slice(row, s) -> 32 bytes.
struct FmtQ2_K {
    static constexpr size_t kBytes = 84;
    static constexpr bool kSigned = false, kHasMin = true;
    static constexpr int kOffset = 0;
    RF_ALWAYS_INLINE static void decode(const uint8_t* b, KRow& row) {
        const __m128i sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b));
        row.sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(sc, _mm_set1_epi8(0x0F)));
        row.mins16 =
            _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc, 4), _mm_set1_epi8(0x0F)));
        row.blk = b;
        row.d = fp16_load(b + 80);
        row.dmin = fp16_load(b + 82);
    }
    // Slice s: 2-bit field s % 4 of the 32 bytes of half s / 4.
    RF_ALWAYS_INLINE static __m256i slice(const KRow& row, int s) {
        const __m256i q = load256(row.blk + 16 + 32 * (s / 4));
        return _mm256_and_si256(_mm256_srl_epi16(q, _mm_cvtsi32_si128(2 * (s % 4))),
                                _mm256_set1_epi8(3));
    }
};
struct FmtQ3_K {
    static constexpr size_t kBytes = 110;
    static constexpr bool kSigned = false, kHasMin = false;
    static constexpr int kOffset = 4;  // value = (low 2 bits | high bit << 2) - 4
    // 16 scales of 6 bits (quant/k_scales.h): low nibbles from bytes 0..7 (low then high
    // nibble), top two bits from bytes 8..11, two bits per group of four scales.
    RF_ALWAYS_INLINE static void decode(const uint8_t* b, KRow& row) {
        uint32_t w0, w1, w2;
        std::memcpy(&w0, b + 96, 4);
        std::memcpy(&w1, b + 100, 4);
        std::memcpy(&w2, b + 104, 4);
        const uint32_t m4 = 0x0f0f0f0fu, m2 = 0x03030303u;
        const uint32_t s0 = (w0 & m4) | ((w2 & m2) << 4);
        const uint32_t s1 = (w1 & m4) | (((w2 >> 2) & m2) << 4);
        const uint32_t s2 = ((w0 >> 4) & m4) | (((w2 >> 4) & m2) << 4);
        const uint32_t s3 = ((w1 >> 4) & m4) | (((w2 >> 6) & m2) << 4);
        const __m128i biased = _mm_setr_epi32(static_cast<int>(s0), static_cast<int>(s1),
                                              static_cast<int>(s2), static_cast<int>(s3));
        row.sc16 = _mm256_cvtepi8_epi16(_mm_sub_epi8(biased, _mm_set1_epi8(32)));
        row.hbits = load256(b);
        row.blk = b;
        row.d = fp16_load(b + 108);
        row.dmin = 0.0f;
    }
    RF_ALWAYS_INLINE static __m256i slice(const KRow& row, int s) {
        const __m256i q = load256(row.blk + 32 + 32 * (s / 4));
        const __m256i low = _mm256_and_si256(_mm256_srl_epi16(q, _mm_cvtsi32_si128(2 * (s % 4))),
                                             _mm256_set1_epi8(3));
        return _mm256_or_si256(low, bit_plane(row.hbits, s, 2));
    }
};
struct FmtQ4_K {
    static constexpr size_t kBytes = 144;
    static constexpr bool kSigned = false, kHasMin = true;
    static constexpr int kOffset = 0;
    RF_ALWAYS_INLINE static void decode(const uint8_t* b, KRow& row) {
        decode_k4_scales(b + 4, row);
        row.blk = b;
        row.d = fp16_load(b);
        row.dmin = fp16_load(b + 2);
    }
    // Slice s: nibble s % 2 of the 32 bytes of chunk s / 2.
    RF_ALWAYS_INLINE static __m256i slice(const KRow& row, int s) {
        const __m256i q = load256(row.blk + 16 + 32 * (s / 2));
        return s % 2 ? high_nibbles(q) : low_nibbles(q);
    }
};
struct FmtQ5_K {
    static constexpr size_t kBytes = 176;
    static constexpr bool kSigned = false, kHasMin = true;
    static constexpr int kOffset = 0;
    RF_ALWAYS_INLINE static void decode(const uint8_t* b, KRow& row) {
        decode_k4_scales(b + 4, row);
        row.hbits = load256(b + 16);
        row.blk = b;
        row.d = fp16_load(b);
        row.dmin = fp16_load(b + 2);
    }
    RF_ALWAYS_INLINE static __m256i slice(const KRow& row, int s) {
        const __m256i q = load256(row.blk + 48 + 32 * (s / 2));
        return _mm256_or_si256(s % 2 ? high_nibbles(q) : low_nibbles(q),
                               bit_plane(row.hbits, s, 4));
    }
};
struct FmtQ6_K {
    static constexpr size_t kBytes = 210;
    static constexpr bool kSigned = false, kHasMin = false;
    static constexpr int kOffset = 32;
    RF_ALWAYS_INLINE static void decode(const uint8_t* b, KRow& row) {
        row.sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 192)));
        row.blk = b;
        row.d = fp16_load(b + 208);
        row.dmin = 0.0f;
    }
    // Slice s of half h = s / 4, quarter k = s % 4: a nibble of ql (bytes (k & 1) * 32 of the
    // half's 64; low nibble for k < 2) and bits 2k..2k+1 of the half's 32 qh bytes.
    RF_ALWAYS_INLINE static __m256i slice(const KRow& row, int s) {
        const int h = s / 4, k = s % 4;
        const __m256i ql = load256(row.blk + 64 * h + 32 * (k & 1));
        const __m256i qh = load256(row.blk + 128 + 32 * h);
        const __m256i low = k < 2 ? low_nibbles(ql) : high_nibbles(ql);
        const __m256i high =
            _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * k)), _mm256_set1_epi8(3));
        return _mm256_or_si256(low, _mm256_slli_epi16(high, 4));
    }
};
struct FmtIQ4_XS {
    static constexpr size_t kBytes = 136;
    static constexpr bool kSigned = true, kHasMin = false;
    static constexpr int kOffset = 0;
    RF_ALWAYS_INLINE static void decode(const uint8_t* b, KRow& row) {
        uint16_t high;
        std::memcpy(&high, b + 2, 2);
        uint64_t packed = 0;
        RF_UNROLL
        for (int s = 0; s < 8; ++s) {
            const int ls = ((b[4 + s / 2] >> (4 * (s % 2))) & 0xF) | (((high >> (2 * s)) & 3) << 4);
            packed |= static_cast<uint64_t>(static_cast<uint8_t>(ls - 32)) << (8 * s);
        }
        const __m128i v = _mm_cvtepi8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(packed)));
        row.sc16 = _mm256_set_m128i(_mm_unpackhi_epi16(v, v), _mm_unpacklo_epi16(v, v));
        row.blk = b;
        row.d = fp16_load(b);
        row.dmin = 0.0f;
    }
    RF_ALWAYS_INLINE static __m256i slice(const KRow& row, int s) {
        return lookup16(kIq4nlTable, unpack_nibbles(row.blk + 8 + 16 * s));
    }
};

template <typename F>
struct KKernel {
    // Integer dot of one slice with one token: int16 pair sums (no saturation for the value
    // ranges above: 2 * 63 * 127 and 2 * 127 * 127 fit) weighted by the slice's scales.
    RF_ALWAYS_INLINE static __m256i slice_dot(__m256i u, __m256i abs_u, __m256i x, __m256i scales) {
        const __m256i pairs = F::kSigned ? _mm256_maddubs_epi16(abs_u, _mm256_sign_epi8(x, u))
                                         : _mm256_maddubs_epi16(u, x);
        return _mm256_madd_epi16(pairs, scales);
    }

    template <int R, int T>
    static void run(const GemmArgs& a, int r0, int t0) {
        const int64_t nsb = a.n_cols / 256;
        const uint8_t* w[R];
        RF_UNROLL
        for (int r = 0; r < R; ++r) w[r] = a.w + (r0 + r) * a.w_stride;
        ActQ8_K xs[T];
        RF_UNROLL
        for (int t = 0; t < T; ++t) xs[t] = view_q8_k(a.x + (t0 + t) * a.x_stride, a.n_cols);
        __m256 acc[T];
        RF_UNROLL
        for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
        for (int64_t sb = 0; sb < nsb; ++sb) {
            KRow rows[R];
            RF_UNROLL
            for (int r = 0; r < R; ++r) F::decode(w[r] + sb * F::kBytes, rows[r]);
            __m256i isum[R][T];
            RF_UNROLL
            for (int r = 0; r < R; ++r) RF_UNROLL
            for (int t = 0; t < T; ++t) isum[r][t] = _mm256_setzero_si256();
            RF_UNROLL
            for (int s = 0; s < 8; ++s) {
                __m256i u[R], abs_u[R], scales[R];
                RF_UNROLL
                for (int r = 0; r < R; ++r) {
                    u[r] = F::slice(rows[r], s);
                    abs_u[r] = F::kSigned ? _mm256_abs_epi8(u[r]) : u[r];
                    scales[r] = slice_scales(rows[r].sc16, s);
                }
                RF_UNROLL
                for (int t = 0; t < T; ++t) {
                    const __m256i x =
                        load256(reinterpret_cast<const uint8_t*>(xs[t].qs + sb * 256 + s * 32));
                    RF_UNROLL
                    for (int r = 0; r < R; ++r) {
                        isum[r][t] =
                            _mm256_add_epi32(isum[r][t], slice_dot(u[r], abs_u[r], x, scales[r]));
                    }
                }
            }
            finish_superblock<R, T>(rows, isum, xs, sb, acc);
        }
        RF_UNROLL
        for (int t = 0; t < T; ++t) {
            if constexpr (R == 4) {
                store4(a, r0, t0 + t, fold_halves(acc[t]));
            } else {
                store1(a, r0, t0 + t, hsum_ps(acc[t]));
            }
        }
    }

    // Applies offsets / mins through the activation 16-sums and scales the integer sums.
    template <int R, int T>
    RF_ALWAYS_INLINE static void finish_superblock(const KRow (&rows)[R], __m256i (&isum)[R][T],
                                                   const ActQ8_K (&xs)[T], int64_t sb,
                                                   __m256 (&acc)[T]) {
        RF_UNROLL
        for (int t = 0; t < T; ++t) {
            const __m256i bsums = load256(reinterpret_cast<const uint8_t*>(xs[t].bsums + sb * 16));
            __m256i mins[R];
            RF_UNROLL
            for (int r = 0; r < R; ++r) {
                if constexpr (F::kOffset != 0) {
                    const __m256i off = _mm256_madd_epi16(rows[r].sc16, bsums);
                    isum[r][t] = _mm256_sub_epi32(
                        isum[r][t], _mm256_mullo_epi32(off, _mm256_set1_epi32(F::kOffset)));
                }
                if constexpr (F::kHasMin) mins[r] = _mm256_madd_epi16(rows[r].mins16, bsums);
            }
            const float dx = xs[t].d[sb];
            if constexpr (R == 4) {
                const __m256i s = reduce4_epi32(isum[0][t], isum[1][t], isum[2][t], isum[3][t]);
                const __m256 d = dup128(_mm_setr_ps(rows[0].d, rows[1].d, rows[2].d, rows[3].d));
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s),
                                         _mm256_mul_ps(d, _mm256_set1_ps(dx)), acc[t]);
                if constexpr (F::kHasMin) {
                    const __m256i m = reduce4_epi32(mins[0], mins[1], mins[2], mins[3]);
                    const __m256 dm =
                        dup128(_mm_setr_ps(rows[0].dmin, rows[1].dmin, rows[2].dmin, rows[3].dmin));
                    acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(m),
                                              _mm256_mul_ps(dm, _mm256_set1_ps(dx)), acc[t]);
                }
            } else {
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[0][t]),
                                         _mm256_set1_ps(rows[0].d * dx), acc[t]);
                if constexpr (F::kHasMin) {
                    acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(mins[0]),
                                              _mm256_set1_ps(rows[0].dmin * dx), acc[t]);
                }
            }
        }
    }
};

}  // namespace rf::cpu::RF_X86_NS
