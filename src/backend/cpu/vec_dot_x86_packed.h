// x86 SIMD kernels, part 5: weights in the packed-8 layouts of vec_dot_packed.h. Each 32-byte
// load holds one 4-element group of 8 rows, so after the nibble unpack a token's 4 activation
// bytes are broadcast and one multiply-add gives the 8 rows' partial dots in the 8 lanes: no
// horizontal sums, scales of 8 rows in one vector, outputs stored 8 at a time. Same kernels for
// one token (decode) and many (prefill, the unpacked weights reused across a tile of tokens).
// Included after vec_dot_x86_repack.h.
#pragma once

#if !defined(RF_X86_NS)
#error "define RF_X86_NS before including vec_dot_x86_packed.h"
#endif

#include "backend/cpu/vec_dot_x86_repack.h"

namespace rf::cpu::RF_X86_NS {

RF_ALWAYS_INLINE __m256 fp16x8(const uint8_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// Accumulates one 4-element group (8 rows) x one token: int16 pairs (callers bound the sum) or,
// with VNNI, int32.
RF_ALWAYS_INLINE __m256i group_dot16(__m256i acc16, __m256i u, const int8_t* x) {
    return _mm256_add_epi16(acc16, _mm256_maddubs_epi16(u, broadcast4(x)));
}

// Stores 8 rows of token t.
RF_ALWAYS_INLINE void store8(const GemmArgs& a, int r0, int t, __m256 v) {
    float* y = out_ptr(a, r0, t);
    if (a.accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(y));
    _mm256_storeu_ps(y, v);
}

// Q4_0: per block f16 d[8] | 4 chunks of 32 B (low nibbles: elements 4c.., high: 16 + 4c..).
struct PackedQ4_0 {
    static constexpr quant::GgmlType kType = quant::GgmlType::kQ4_0;
    using Spec = RepackQ32<FmtQ4_0, 15>;
    // Batches: the chunks already hold groups; split the nibbles into the repacked layout.
    static void to_repacked(const uint8_t* grp, int64_t n_cols, uint8_t* scratch) {
        const PackView<Spec, uint8_t> pack = pack_view<Spec>(scratch, n_cols);
        const __m256i m4 = _mm256_set1_epi8(0x0F);
        for (int64_t b = 0; b < n_cols / 32; ++b) {
            const uint8_t* blk = grp + b * 144;
            _mm256_store_ps(pack.d + b * 8, fp16x8(blk));
            auto* out = reinterpret_cast<__m256i*>(pack.vals + b * 256);
            for (int c = 0; c < 4; ++c) {
                const __m256i q = load256(blk + 16 + 32 * c);
                _mm256_store_si256(out + c, _mm256_and_si256(q, m4));
                _mm256_store_si256(out + c + 4, _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
            }
        }
    }
    template <int T>
    static void run(const GemmArgs& a, int r0, int t0) {
        const uint8_t* grp = a.w + r0 * a.w_stride;
        const int64_t nb = a.n_cols / 32;
        ActQ8_32 xs[T];
        RF_UNROLL
        for (int t = 0; t < T; ++t) xs[t] = view_q8_32(a.x + (t0 + t) * a.x_stride, a.n_cols);
        __m256 acc[T];
        RF_UNROLL
        for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
        const __m256i m4 = _mm256_set1_epi8(0x0F);
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t* blk = grp + b * 144;
            __m256i s[T];
            RF_UNROLL
            for (int t = 0; t < T; ++t) s[t] = _mm256_setzero_si256();
            RF_UNROLL
            for (int c = 0; c < 4; ++c) {
                const __m256i q = load256(blk + 16 + 32 * c);
                const __m256i lo = _mm256_and_si256(q, m4);
                const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                RF_UNROLL
                for (int t = 0; t < T; ++t) {
                    const int8_t* x = xs[t].qs + b * 32 + 4 * c;
                    if constexpr (kVnni) {
                        s[t] = dot_u8s8_acc(dot_u8s8_acc(s[t], lo, broadcast4(x)), hi,
                                            broadcast4(x + 16));
                    } else {
                        // 8 groups x 2 x 15 x 127 fits int16.
                        s[t] = group_dot16(group_dot16(s[t], lo, x), hi, x + 16);
                    }
                }
            }
            const __m256 d8 = fp16x8(blk);
            RF_UNROLL
            for (int t = 0; t < T; ++t) {
                const __m256i isum = kVnni ? s[t] : _mm256_madd_epi16(s[t], _mm256_set1_epi16(1));
                __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(xs[t].d[b]));
                v = _mm256_fnmadd_ps(_mm256_set1_ps(xs[t].s[b]), _mm256_set1_ps(8.0f), v);
                acc[t] = _mm256_fmadd_ps(v, d8, acc[t]);
            }
        }
        RF_UNROLL
        for (int t = 0; t < T; ++t) store8(a, r0, t0 + t, acc[t]);
    }
};

// Q8_0: per block f16 d[8] | 8 groups of 32 B.
struct PackedQ8_0 {
    static constexpr quant::GgmlType kType = quant::GgmlType::kQ8_0;
    using Spec = RepackQ32<FmtQ8_0, 128>;
    static void to_repacked(const uint8_t* grp, int64_t n_cols, uint8_t* scratch) {
        const PackView<Spec, uint8_t> pack = pack_view<Spec>(scratch, n_cols);
        for (int64_t b = 0; b < n_cols / 32; ++b) {
            const uint8_t* blk = grp + b * 272;
            _mm256_store_ps(pack.d + b * 8, fp16x8(blk));
            auto* out = reinterpret_cast<__m256i*>(pack.vals + b * 256);
            auto* sout = reinterpret_cast<__m256i*>(pack.svals + b * 256);
            for (int g = 0; g < 8; ++g) {
                const __m256i w = load256(blk + 16 + 32 * g);
                if constexpr (Spec::kSigned) {
                    _mm256_store_si256(out + g, _mm256_abs_epi8(w));
                    _mm256_store_si256(sout + g, w);
                } else {
                    _mm256_store_si256(
                        out + g, _mm256_xor_si256(w, _mm256_set1_epi8(static_cast<char>(0x80))));
                }
            }
        }
    }
    template <int T>
    static void run(const GemmArgs& a, int r0, int t0) {
        const uint8_t* grp = a.w + r0 * a.w_stride;
        const int64_t nb = a.n_cols / 32;
        ActQ8_32 xs[T];
        RF_UNROLL
        for (int t = 0; t < T; ++t) xs[t] = view_q8_32(a.x + (t0 + t) * a.x_stride, a.n_cols);
        __m256 acc[T];
        RF_UNROLL
        for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t* blk = grp + b * 272;
            __m256i s[T];
            RF_UNROLL
            for (int t = 0; t < T; ++t) s[t] = _mm256_setzero_si256();
            RF_UNROLL
            for (int g = 0; g < 8; ++g) {
                const __m256i w = load256(blk + 16 + 32 * g);
                if constexpr (kVnni) {
                    // w + 128 as unsigned; the 128 * sum(x) it adds is taken off below.
                    const __m256i wu =
                        _mm256_xor_si256(w, _mm256_set1_epi8(static_cast<char>(0x80)));
                    RF_UNROLL
                    for (int t = 0; t < T; ++t)
                        s[t] = dot_u8s8_acc(s[t], wu, broadcast4(xs[t].qs + b * 32 + 4 * g));
                } else {
                    const __m256i aw = _mm256_abs_epi8(w);
                    RF_UNROLL
                    for (int t = 0; t < T; ++t) {
                        const __m256i x =
                            _mm256_sign_epi8(broadcast4(xs[t].qs + b * 32 + 4 * g), w);
                        s[t] = _mm256_add_epi32(s[t], _mm256_madd_epi16(_mm256_maddubs_epi16(aw, x),
                                                                        _mm256_set1_epi16(1)));
                    }
                }
            }
            const __m256 d8 = fp16x8(blk);
            RF_UNROLL
            for (int t = 0; t < T; ++t) {
                __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(s[t]), _mm256_set1_ps(xs[t].d[b]));
                if constexpr (kVnni)
                    v = _mm256_fnmadd_ps(_mm256_set1_ps(xs[t].s[b]), _mm256_set1_ps(128.0f), v);
                acc[t] = _mm256_fmadd_ps(v, d8, acc[t]);
            }
        }
        RF_UNROLL
        for (int t = 0; t < T; ++t) store8(a, r0, t0 + t, acc[t]);
    }
};

// Byte k of every dword lane as the int16 pair [v, v] (a madd operand, lanes = rows); v < 128.
alignas(32) inline constexpr int8_t kBytePairMasks[4][32] = {
    {0, -1, 0, -1, 4, -1, 4, -1, 8, -1, 8, -1, 12, -1, 12, -1,
     0, -1, 0, -1, 4, -1, 4, -1, 8, -1, 8, -1, 12, -1, 12, -1},
    {1, -1, 1, -1, 5, -1, 5, -1, 9, -1, 9, -1, 13, -1, 13, -1,
     1, -1, 1, -1, 5, -1, 5, -1, 9, -1, 9, -1, 13, -1, 13, -1},
    {2, -1, 2, -1, 6, -1, 6, -1, 10, -1, 10, -1, 14, -1, 14, -1,
     2, -1, 2, -1, 6, -1, 6, -1, 10, -1, 10, -1, 14, -1, 14, -1},
    {3, -1, 3, -1, 7, -1, 7, -1, 11, -1, 11, -1, 15, -1, 15, -1,
     3, -1, 3, -1, 7, -1, 7, -1, 11, -1, 11, -1, 15, -1, 15, -1}};
RF_ALWAYS_INLINE __m256i lane_byte_pair_u8(__m256i v, int k) {
    return _mm256_shuffle_epi8(
        v, _mm256_load_si256(reinterpret_cast<const __m256i*>(kBytePairMasks[k])));
}
// An int16 broadcast as the pair [v, 0], so madd with [s, s] gives s * v.
RF_ALWAYS_INLINE __m256i pair_lo(int v) {
    return _mm256_set1_epi32(v & 0xFFFF);
}

// Q4_K: per super-block f16 d[8] | f16 dmin[8] | scale planes w0 w1 w2 (32 B each) | qs: chunk
// j (elements 64j..) x group g, low nibbles sub-block 2j, high nibbles 2j + 1.
struct PackedQ4_K {
    static constexpr quant::GgmlType kType = quant::GgmlType::kQ4_K;
    using Spec = RepackK<FmtQ4_K, 32, 15>;
    // Byte k of every dword lane as float.
    RF_ALWAYS_INLINE static __m256 lane_byte_ps(__m256i v, int k) {
        return _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srl_epi32(v, _mm_cvtsi32_si128(8 * k)),
                                                   _mm256_set1_epi32(0xFF)));
    }
    static void to_repacked(const uint8_t* grp, int64_t n_cols, uint8_t* scratch) {
        const PackView<Spec, uint8_t> pack = pack_view<Spec>(scratch, n_cols);
        const __m256i m4 = _mm256_set1_epi8(0x0F);
        for (int64_t sb = 0; sb < n_cols / 256; ++sb) {
            const uint8_t* blk = grp + sb * 1152;
            const __m256 d8 = fp16x8(blk), dm8 = fp16x8(blk + 16);
            __m256i sc_lo, sc_hi, mn_lo, mn_hi;
            decode_scales(blk, sc_lo, sc_hi, mn_lo, mn_hi);
            for (int j = 0; j < 8; ++j) {
                const int64_t sub = sb * 8 + j;
                _mm256_store_ps(pack.d + sub * 8,
                                _mm256_mul_ps(d8, lane_byte_ps(j < 4 ? sc_lo : sc_hi, j % 4)));
                _mm256_store_ps(
                    pack.m + sub * 8,
                    _mm256_sub_ps(_mm256_setzero_ps(),
                                  _mm256_mul_ps(dm8, lane_byte_ps(j < 4 ? mn_lo : mn_hi, j % 4))));
            }
            for (int c = 0; c < 4; ++c) {
                auto* lo = reinterpret_cast<__m256i*>(pack.vals + (sb * 8 + 2 * c) * 256);
                auto* hi = reinterpret_cast<__m256i*>(pack.vals + (sb * 8 + 2 * c + 1) * 256);
                for (int g = 0; g < 8; ++g) {
                    const __m256i q = load256(blk + 128 + c * 256 + 32 * g);
                    _mm256_store_si256(lo + g, _mm256_and_si256(q, m4));
                    _mm256_store_si256(hi + g, _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
                }
            }
        }
    }
    // The 6-bit scales and mins of 8 rows at once (packing of quant/k_scales.h): byte k of each
    // row's lane is sub-block k (lo) or 4 + k (hi).
    RF_ALWAYS_INLINE static void decode_scales(const uint8_t* blk, __m256i& sc_lo, __m256i& sc_hi,
                                               __m256i& mn_lo, __m256i& mn_hi) {
        const __m256i w0 = load256(blk + 32), w1 = load256(blk + 64), w2 = load256(blk + 96);
        const __m256i m6 = _mm256_set1_epi8(0x3F), lo4 = _mm256_set1_epi8(0x0F),
                      top2 = _mm256_set1_epi8(0x03);
        sc_lo = _mm256_and_si256(w0, m6);
        mn_lo = _mm256_and_si256(w1, m6);
        sc_hi =
            _mm256_or_si256(_mm256_and_si256(w2, lo4),
                            _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(w0, 6), top2), 4));
        mn_hi =
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(w2, 4), lo4),
                            _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(w1, 6), top2), 4));
    }
    template <int T>
    static void run(const GemmArgs& a, int r0, int t0) {
        const uint8_t* grp = a.w + r0 * a.w_stride;
        const int64_t nsb = a.n_cols / 256;
        ActQ8_K xs[T];
        RF_UNROLL
        for (int t = 0; t < T; ++t) xs[t] = view_q8_k(a.x + (t0 + t) * a.x_stride, a.n_cols);
        __m256 acc[T];
        RF_UNROLL
        for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
        const __m256i m4 = _mm256_set1_epi8(0x0F);
        for (int64_t sb = 0; sb < nsb; ++sb) {
            const uint8_t* blk = grp + sb * 1152;
            __m256i sc_lo, sc_hi, mn_lo, mn_hi;
            decode_scales(blk, sc_lo, sc_hi, mn_lo, mn_hi);
            __m256i isum[T], msum[T];
            RF_UNROLL
            for (int t = 0; t < T; ++t) isum[t] = msum[t] = _mm256_setzero_si256();
            // Chunk c: low nibbles are sub-block 2c, high nibbles 2c + 1.
            for (int c = 0; c < 4; ++c) {
                const uint8_t* qs = blk + 128 + c * 256;
                __m256i p_lo[T], p_hi[T];
                RF_UNROLL
                for (int t = 0; t < T; ++t) p_lo[t] = p_hi[t] = _mm256_setzero_si256();
                RF_UNROLL
                for (int g = 0; g < 8; ++g) {
                    const __m256i q = load256(qs + 32 * g);
                    const __m256i lo = _mm256_and_si256(q, m4);
                    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                    // 8 groups x 2 x 15 x 127 fits int16.
                    RF_UNROLL
                    for (int t = 0; t < T; ++t) {
                        const int8_t* x = xs[t].qs + sb * 256 + 64 * c + 4 * g;
                        p_lo[t] = group_dot16(p_lo[t], lo, x);
                        p_hi[t] = group_dot16(p_hi[t], hi, x + 32);
                    }
                }
                const int j = 2 * c;
                const __m256i sc = j < 4 ? sc_lo : sc_hi, mn = j < 4 ? mn_lo : mn_hi;
                const __m256i scp0 = lane_byte_pair_u8(sc, j % 4),
                              scp1 = lane_byte_pair_u8(sc, j % 4 + 1);
                const __m256i mnp0 = lane_byte_pair_u8(mn, j % 4),
                              mnp1 = lane_byte_pair_u8(mn, j % 4 + 1);
                RF_UNROLL
                for (int t = 0; t < T; ++t) {
                    isum[t] = _mm256_add_epi32(isum[t],
                                               _mm256_add_epi32(_mm256_madd_epi16(p_lo[t], scp0),
                                                                _mm256_madd_epi16(p_hi[t], scp1)));
                    const int16_t* bs = xs[t].bsums + sb * 16 + 2 * j;
                    msum[t] = _mm256_add_epi32(
                        msum[t], _mm256_add_epi32(_mm256_madd_epi16(mnp0, pair_lo(bs[0] + bs[1])),
                                                  _mm256_madd_epi16(mnp1, pair_lo(bs[2] + bs[3]))));
                }
            }
            const __m256 d8 = fp16x8(blk), dm8 = fp16x8(blk + 16);
            RF_UNROLL
            for (int t = 0; t < T; ++t) {
                const __m256 dx = _mm256_set1_ps(xs[t].d[sb]);
                acc[t] =
                    _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(d8, dx), acc[t]);
                acc[t] =
                    _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum[t]), _mm256_mul_ps(dm8, dx), acc[t]);
            }
        }
        RF_UNROLL
        for (int t = 0; t < T; ++t) store8(a, r0, t0 + t, acc[t]);
    }
};

// Q6_K: per super-block f16 d[8] | int8 scales[16][8] | ql: 4 blocks x 8 groups | qh: 2 blocks
// x 8 groups. Sub-block j (16 elements): half h = j / 8, quarter k = j % 8 / 2, groups 4 (j % 2)
// .. + 3; low nibble of ql block 2h + (k & 1) for k < 2 (else high), bits 2k of qh block h.
struct PackedQ6_K {
    static constexpr quant::GgmlType kType = quant::GgmlType::kQ6_K;
    using Spec = RepackK<FmtQ6_K, 16, 63>;
    // The four quarter values of one group load (bits 2k..2k+1 of qh become bits 4..5).
    RF_ALWAYS_INLINE static void quarters(__m256i l0, __m256i l1, __m256i hb, __m256i* u) {
        const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
        u[0] = _mm256_or_si256(_mm256_and_si256(l0, m4),
                               _mm256_and_si256(_mm256_slli_epi16(hb, 4), m30));
        u[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                               _mm256_and_si256(_mm256_slli_epi16(hb, 2), m30));
        u[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                               _mm256_and_si256(hb, m30));
        u[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                               _mm256_and_si256(_mm256_srli_epi16(hb, 2), m30));
    }
    // Quarter k alone of one group load: as quarters()[k], for l = ql block 2h + (k & 1).
    RF_ALWAYS_INLINE static __m256i quarter(__m256i l, __m256i hb, int k) {
        const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
        const __m256i low = _mm256_and_si256(k < 2 ? l : _mm256_srli_epi16(l, 4), m4);
        const __m256i high = k == 0   ? _mm256_slli_epi16(hb, 4)
                             : k == 1 ? _mm256_slli_epi16(hb, 2)
                             : k == 2 ? hb
                                      : _mm256_srli_epi16(hb, 2);
        return _mm256_or_si256(low, _mm256_and_si256(high, m30));
    }
    static void to_repacked(const uint8_t* grp, int64_t n_cols, uint8_t* scratch) {
        const PackView<Spec, uint8_t> pack = pack_view<Spec>(scratch, n_cols);
        for (int64_t sb = 0; sb < n_cols / 256; ++sb) {
            const uint8_t* blk = grp + sb * 1680;
            const __m256 d8 = fp16x8(blk);
            for (int j = 0; j < 16; ++j) {
                const __m256i sc = _mm256_cvtepi8_epi32(
                    _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + 16 + 8 * j)));
                _mm256_store_ps(pack.d + (sb * 16 + j) * 8,
                                _mm256_mul_ps(d8, _mm256_cvtepi32_ps(sc)));
            }
            for (int h = 0; h < 2; ++h) {
                for (int e = 0; e < 2; ++e) {
                    const uint8_t* ql0 = blk + 144 + 2 * h * 256 + 128 * e;
                    const uint8_t* qh = blk + 1168 + h * 256 + 128 * e;
                    for (int g = 0; g < 4; ++g) {
                        __m256i u[4];
                        quarters(load256(ql0 + 32 * g), load256(ql0 + 256 + 32 * g),
                                 load256(qh + 32 * g), u);
                        for (int k = 0; k < 4; ++k) {
                            const int64_t sub = sb * 16 + 8 * h + 2 * k + e;
                            _mm256_store_si256(
                                reinterpret_cast<__m256i*>(pack.vals + sub * 128) + g, u[k]);
                        }
                    }
                }
            }
        }
    }
    template <int T>
    static void run(const GemmArgs& a, int r0, int t0) {
        const uint8_t* grp = a.w + r0 * a.w_stride;
        const int64_t nsb = a.n_cols / 256;
        ActQ8_K xs[T];
        RF_UNROLL
        for (int t = 0; t < T; ++t) xs[t] = view_q8_k(a.x + (t0 + t) * a.x_stride, a.n_cols);
        __m256 acc[T];
        RF_UNROLL
        for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
        for (int64_t sb = 0; sb < nsb; ++sb) {
            const uint8_t* blk = grp + sb * 1680;
            __m256i isum[T], osum[T];
            RF_UNROLL
            for (int t = 0; t < T; ++t) isum[t] = osum[t] = _mm256_setzero_si256();
            // Per (half h, element half e of the 32-byte blocks, quarter k): sub-block
            // j = 8h + 2k + e from 4 groups of ql block 2h + (k & 1) and qh block h. One quarter
            // at a time keeps the accumulators in registers (all four at once spilled: the
            // kernel ran at ~60% of the memory bandwidth); the re-loads hit L1.
            RF_UNROLL
            for (int h = 0; h < 2; ++h) {
                RF_UNROLL
                for (int e = 0; e < 2; ++e) {
                    const uint8_t* ql0 = blk + 144 + 2 * h * 256 + 128 * e;
                    const uint8_t* qh = blk + 1168 + h * 256 + 128 * e;
                    RF_UNROLL
                    for (int k = 0; k < 4; ++k) {
                        const int j = 8 * h + 2 * k + e;
                        __m256i p[2][T];
                        RF_UNROLL
                        for (int t = 0; t < T; ++t) p[0][t] = p[1][t] = _mm256_setzero_si256();
                        RF_UNROLL
                        for (int g = 0; g < 4; ++g) {
                            const __m256i u = quarter(load256(ql0 + 256 * (k & 1) + 32 * g),
                                                      load256(qh + 32 * g), k);
                            // Two groups x 2 x 63 x 127 fit int16: pairs of groups, then widen.
                            RF_UNROLL
                            for (int t = 0; t < T; ++t) {
                                p[g / 2][t] = group_dot16(p[g / 2][t], u,
                                                          xs[t].qs + sb * 256 + 16 * j + 4 * g);
                            }
                        }
                        const __m256i sc = _mm256_cvtepi8_epi32(
                            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + 16 + 8 * j)));
                        const __m256i scp =
                            _mm256_or_si256(_mm256_and_si256(sc, _mm256_set1_epi32(0xFFFF)),
                                            _mm256_slli_epi32(sc, 16));
                        RF_UNROLL
                        for (int t = 0; t < T; ++t) {
                            isum[t] = _mm256_add_epi32(
                                isum[t], _mm256_add_epi32(_mm256_madd_epi16(p[0][t], scp),
                                                          _mm256_madd_epi16(p[1][t], scp)));
                            osum[t] = _mm256_add_epi32(
                                osum[t], _mm256_madd_epi16(scp, pair_lo(xs[t].bsums[sb * 16 + j])));
                        }
                    }
                }
            }
            const __m256 d8 = fp16x8(blk);
            RF_UNROLL
            for (int t = 0; t < T; ++t) {
                // Values are stored + 32: take 32 * sum(scale * block sum) off.
                const __m256i s = _mm256_sub_epi32(isum[t], _mm256_slli_epi32(osum[t], 5));
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s),
                                         _mm256_mul_ps(d8, _mm256_set1_ps(xs[t].d[sb])), acc[t]);
            }
        }
        RF_UNROLL
        for (int t = 0; t < T; ++t) store8(a, r0, t0 + t, acc[t]);
    }
};

template <typename P, int T>
RF_ALWAYS_INLINE void packed_tail(const GemmArgs& a, int r0, int t0, int rem) {
    if constexpr (T > 1) {
        if (rem == T) {
            P::template run<T>(a, r0, t0);
        } else {
            packed_tail<P, T - 1>(a, r0, t0, rem);
        }
    } else {
        P::template run<1>(a, r0, t0);
    }
}

// Walks groups of 8 rows (n_rows is a multiple of 8) and tiles of TMax tokens.
template <typename P, int TMax>
void packed_walk(const GemmArgs& a) {
    for (int r0 = 0; r0 < a.n_rows; r0 += 8) {
        int t0 = 0;
        for (; t0 + TMax <= a.n_tokens; t0 += TMax) P::template run<TMax>(a, r0, t0);
        if (t0 < a.n_tokens)
            packed_tail<P, TMax - 1 < 1 ? 1 : TMax - 1>(a, r0, t0, a.n_tokens - t0);
    }
}

// The table entry for packed weights: the packed kernels for few tokens; for batches each group
// is converted straight to the repacked prefill layout (the groups are already interleaved, so
// this is a nibble split, not a transpose) and runs the repacked microkernel.
template <typename P, int TMax>
void packed_auto(const GemmArgs& a) {
    if (a.n_tokens < kRepackMinTokens || a.scratch == nullptr) {
        packed_walk<P, TMax>(a);
        return;
    }
    for (int r0 = 0; r0 < a.n_rows; r0 += 8) {
        P::to_repacked(a.w + r0 * a.w_stride, a.n_cols, a.scratch);
        repacked_tokens<typename P::Spec>(a.scratch, a, r0);
    }
}

}  // namespace rf::cpu::RF_X86_NS
