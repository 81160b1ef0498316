// x86 SIMD kernels, part 3: the prefill path. For batches of tokens, each group of 8 weight rows
// is repacked once into a scratch buffer as bytes with the 8 rows interleaved in 4-byte groups
// ([row0 k0..3 | row1 k0..3 | ... | row7 k0..3], [row0 k4..7 | ...], ...) plus per-row float
// scales (and mins) per 16- or 32-element block. One 32-byte weight load then serves 8 rows:
// a token's 4 activation bytes are broadcast to every lane and one u8 x s8 multiply-add gives
// all 8 rows' partial dots in the lanes of one register — no horizontal reductions, and the
// result lanes are the 8 consecutive outputs. Every native integer format repacks to this form,
// so one microkernel serves them all. Included after vec_dot_x86_k.h.
#pragma once

#if !defined(RF_X86_NS)
#error "define RF_X86_NS before including vec_dot_x86_repack.h"
#endif

#include "backend/cpu/vec_dot_x86_k.h"

namespace rf::cpu::RF_X86_NS {

// Batches of at least this many tokens take the repacked path (the repack costs about as much
// as two tokens' worth of dot products).
inline constexpr int kRepackMinTokens = 4;
// Tokens per register tile of the repacked microkernel: with AVX-512's 32 vector registers, 8
// for the 32-element formats (measured 2-6% faster than 4); the K formats stay at 4 (8 measured
// 7-10% slower: twice the blocks per token, each with its own scale work).
#if defined(__AVX512VL__)
inline constexpr int kRepackTokensQ32 = 8;
#else
inline constexpr int kRepackTokensQ32 = 4;
#endif
template <typename S>
constexpr int repack_tokens() {
    return S::kActK ? 4 : kRepackTokensQ32;
}

// ---- repack specs ---------------------------------------------------------------------------
// A spec says how one decode unit (a 32-element block, or a 256-element super-block) becomes
// kSlices vectors of 32 byte values u in element order plus one float scale d (and additive
// min m) per kG elements, so that w = d * (u - kOffset) + m. kSigned: u holds signed values
// (sign trick, AVX2 only). kUMax bounds u for the int16 accumulation of maddubs. kActK: the
// activations are Q8_K (per-256 scale, 16-element sums) rather than Q8_32.

template <typename F, int UMax>
struct RepackQ32 {
    static constexpr int kG = 32, kSlices = 1, kOffset = F::kOffset, kUMax = UMax;
    static constexpr size_t kUnitBytes = F::kBytes;
    static constexpr bool kActK = false, kHasMin = F::kHasMin, kSigned = F::kSigned;
    RF_ALWAYS_INLINE static void decode(const uint8_t* unit, __m256i* vals, float* d, float* m) {
        vals[0] = F::values(unit);
        d[0] = F::scale(unit);
        if constexpr (kHasMin) m[0] = F::min(unit);
    }
};

// K-quants: per super-block scales from KRow; kG = 16 takes every sub-block scale, kG = 32 the
// even ones (Q4_K / Q5_K / IQ4_XS repeat each scale for both halves of a 32-element slice).
template <typename F, int G, int UMax>
struct RepackK {
    static constexpr int kG = G, kSlices = 8, kUMax = UMax;
    static constexpr size_t kUnitBytes = F::kBytes;
    static constexpr bool kActK = true, kHasMin = F::kHasMin;
    // Signed codebook values become unsigned (+128) where VNNI has no int16 saturation.
    static constexpr bool kSigned = F::kSigned && !kVnni;
    static constexpr int kOffset = F::kSigned && kVnni ? 128 : F::kOffset;
    RF_ALWAYS_INLINE static void decode(const uint8_t* unit, __m256i* vals, float* d, float* m) {
        KRow row;
        F::decode(unit, row);
        for (int s = 0; s < 8; ++s) {
            vals[s] = F::slice(row, s);
            if constexpr (F::kSigned && kVnni)
                vals[s] = _mm256_xor_si256(vals[s], _mm256_set1_epi8(static_cast<char>(0x80)));
        }
        alignas(32) int16_t sc[16], mn[16];
        _mm256_store_si256(reinterpret_cast<__m256i*>(sc), row.sc16);
        if constexpr (kHasMin) _mm256_store_si256(reinterpret_cast<__m256i*>(mn), row.mins16);
        constexpr int kStep = G / 16;
        for (int j = 0; j < 256 / G; ++j) {
            d[j] = row.d * static_cast<float>(sc[j * kStep]);
            if constexpr (kHasMin) m[j] = -row.dmin * static_cast<float>(mn[j * kStep]);
        }
    }
};

// ---- repacking ------------------------------------------------------------------------------

// Transposes 8 vectors of 8 dwords: out[g] = dword g of v[0..7].
RF_ALWAYS_INLINE void transpose8x8_epi32(const __m256i* v, __m256i* out) {
    const __m256i t0 = _mm256_unpacklo_epi32(v[0], v[1]), t1 = _mm256_unpackhi_epi32(v[0], v[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(v[2], v[3]), t3 = _mm256_unpackhi_epi32(v[2], v[3]);
    const __m256i t4 = _mm256_unpacklo_epi32(v[4], v[5]), t5 = _mm256_unpackhi_epi32(v[4], v[5]);
    const __m256i t6 = _mm256_unpacklo_epi32(v[6], v[7]), t7 = _mm256_unpackhi_epi32(v[6], v[7]);
    const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    const __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
    const __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
    out[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
    out[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
    out[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
    out[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
    out[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
    out[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
    out[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
    out[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

// Scratch layout for n_cols columns (NB = n_cols / kG blocks):
//   vals [n_cols * 8 B]: per 32-element slice, 8 groups x 32 B (|w| for kSigned)
//   svals[n_cols * 8 B]: kSigned only, the signed values
//   d    [NB * 8 floats], m [NB * 8 floats] (kHasMin)
template <typename S, typename Byte>
struct PackView {
    Byte* vals;
    Byte* svals;
    float* d;
    float* m;
};
template <typename S>
RF_ALWAYS_INLINE PackView<S, uint8_t> pack_view(uint8_t* base, int64_t n_cols) {
    float* d = reinterpret_cast<float*>(base + n_cols * (S::kSigned ? 16 : 8));
    return {base, base + n_cols * 8, d, d + n_cols / S::kG * 8};
}
template <typename S>
struct PackRead {
    const uint8_t* vals;
    const uint8_t* svals;
    const float* d;
    const float* m;
    RF_ALWAYS_INLINE PackRead(const uint8_t* base, int64_t n_cols)
        : vals(base),
          svals(base + n_cols * 8),
          d(reinterpret_cast<const float*>(base + n_cols * (S::kSigned ? 16 : 8))),
          m(d + n_cols / S::kG * 8) {}
};

template <typename S>
void repack_rows8(const GemmArgs& a, int r0, uint8_t* scratch) {
    constexpr int kBlocksPerUnit = S::kSlices * 32 / S::kG;
    const PackView<S, uint8_t> pack = pack_view<S>(scratch, a.n_cols);
    const int64_t n_units = a.n_cols / (S::kSlices * 32);
    for (int64_t u = 0; u < n_units; ++u) {
        __m256i vals[8][S::kSlices];
        float d[8][kBlocksPerUnit], m[8][kBlocksPerUnit];
        for (int r = 0; r < 8; ++r) {
            S::decode(a.w + (r0 + r) * a.w_stride + u * S::kUnitBytes, vals[r], d[r], m[r]);
        }
        for (int s = 0; s < S::kSlices; ++s) {
            __m256i rows[8], groups[8];
            for (int r = 0; r < 8; ++r) rows[r] = vals[r][s];
            transpose8x8_epi32(rows, groups);
            const int64_t slice = u * S::kSlices + s;
            auto* out = reinterpret_cast<__m256i*>(pack.vals + slice * 256);
            auto* sout = reinterpret_cast<__m256i*>(pack.svals + slice * 256);
            for (int g = 0; g < 8; ++g) {
                if constexpr (S::kSigned) {
                    _mm256_store_si256(out + g, _mm256_abs_epi8(groups[g]));
                    _mm256_store_si256(sout + g, groups[g]);
                } else {
                    _mm256_store_si256(out + g, groups[g]);
                }
            }
        }
        for (int j = 0; j < kBlocksPerUnit; ++j) {
            const int64_t blk = u * kBlocksPerUnit + j;
            for (int r = 0; r < 8; ++r) {
                pack.d[blk * 8 + r] = d[r][j];
                if constexpr (S::kHasMin) pack.m[blk * 8 + r] = m[r][j];
            }
        }
    }
}

// ---- microkernel ----------------------------------------------------------------------------

RF_ALWAYS_INLINE __m256i broadcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

// Groups of 4 that maddubs can sum in int16 before widening: 2 * kUMax * 127 per group.
template <typename S>
constexpr int groups_per_widen() {
    const int cap = 32767 / (2 * S::kUMax * 127);
    int g = S::kG / 4;
    while (g > cap && g > 1) g /= 2;
    return g;
}

// isum[t] (lanes = rows) = dot of one kG-element block of the 8 rows with token t.
template <typename S, int T>
RF_ALWAYS_INLINE void block_dots(const uint8_t* vals, const uint8_t* svals, const int8_t* const* xq,
                                 __m256i (&isum)[T]) {
    constexpr int kGroups = S::kG / 4;
    RF_UNROLL
    for (int t = 0; t < T; ++t) isum[t] = _mm256_setzero_si256();
    if constexpr (kVnni) {
        RF_UNROLL
        for (int g = 0; g < kGroups; ++g) {
            const __m256i w = load256(vals + 32 * g);
            RF_UNROLL
            for (int t = 0; t < T; ++t)
                isum[t] = dot_u8s8_acc(isum[t], w, broadcast4(xq[t] + 4 * g));
        }
    } else if constexpr (S::kSigned) {
        RF_UNROLL
        for (int g = 0; g < kGroups; ++g) {
            const __m256i aw = load256(vals + 32 * g);
            const __m256i sw = load256(svals + 32 * g);
            RF_UNROLL
            for (int t = 0; t < T; ++t) {
                const __m256i x = _mm256_sign_epi8(broadcast4(xq[t] + 4 * g), sw);
                isum[t] = _mm256_add_epi32(
                    isum[t], _mm256_madd_epi16(_mm256_maddubs_epi16(aw, x), _mm256_set1_epi16(1)));
            }
        }
    } else {
        constexpr int kWiden = groups_per_widen<S>();
        RF_UNROLL
        for (int g0 = 0; g0 < kGroups; g0 += kWiden) {
            __m256i p16[T];
            RF_UNROLL
            for (int t = 0; t < T; ++t) p16[t] = _mm256_setzero_si256();
            RF_UNROLL
            for (int g = g0; g < g0 + kWiden; ++g) {
                const __m256i w = load256(vals + 32 * g);
                RF_UNROLL
                for (int t = 0; t < T; ++t) {
                    p16[t] = _mm256_add_epi16(p16[t],
                                              _mm256_maddubs_epi16(w, broadcast4(xq[t] + 4 * g)));
                }
            }
            RF_UNROLL
            for (int t = 0; t < T; ++t) {
                isum[t] =
                    _mm256_add_epi32(isum[t], _mm256_madd_epi16(p16[t], _mm256_set1_epi16(1)));
            }
        }
    }
}

// One token's activation row as the repacked kernel reads it: per block the scale and the
// integer sum of the block's quantized values.
template <typename S>
struct BlockActs {
    const int8_t* qs = nullptr;
    const float* d = nullptr;
    const int16_t* sums = nullptr;  // Q8_32: per 32; Q8_K: per 16
    BlockActs() = default;
    RF_ALWAYS_INLINE BlockActs(const uint8_t* row, int64_t n_cols) {
        if constexpr (S::kActK) {
            const ActQ8_K v = view_q8_k(row, n_cols);
            qs = v.qs;
            d = v.d;
            sums = v.bsums;
        } else {
            const ActQ8_32 v = view_q8_32(row, n_cols);
            qs = v.qs;
            d = v.d;
            sums = v.sum;
        }
    }
    RF_ALWAYS_INLINE float scale(int64_t blk) const {
        if constexpr (S::kActK) {
            return d[blk / (256 / S::kG)];
        } else {
            return d[blk];
        }
    }
    RF_ALWAYS_INLINE int sum(int64_t blk) const {
        if constexpr (S::kActK && S::kG == 32) {
            return sums[2 * blk] + sums[2 * blk + 1];
        } else {
            return sums[blk];
        }
    }
};

// 8 repacked rows x T tokens over all columns; writes y[t][r0 .. r0 + 7].
template <typename S, int T>
void repacked_tile(const uint8_t* scratch, const GemmArgs& a, int r0, int t0) {
    const PackRead<S> pack(scratch, a.n_cols);
    const int64_t nb = a.n_cols / S::kG;
    BlockActs<S> xs[T];
    RF_UNROLL
    for (int t = 0; t < T; ++t) xs[t] = BlockActs<S>(a.x + (t0 + t) * a.x_stride, a.n_cols);
    __m256 acc[T];
    RF_UNROLL
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const int8_t* xb[T];
        RF_UNROLL
        for (int t = 0; t < T; ++t) xb[t] = xs[t].qs + b * S::kG;
        __m256i isum[T];
        block_dots<S, T>(pack.vals + b * S::kG * 8, pack.svals + b * S::kG * 8, xb, isum);
        const __m256 d8 = _mm256_load_ps(pack.d + b * 8);
        RF_UNROLL
        for (int t = 0; t < T; ++t) {
            const float dx = xs[t].scale(b);
            __m256i s = isum[t];
            if constexpr (S::kOffset != 0 || S::kHasMin) {
                const int xsum = xs[t].sum(b);
                if constexpr (S::kOffset != 0)
                    s = _mm256_sub_epi32(s, _mm256_set1_epi32(S::kOffset * xsum));
                if constexpr (S::kHasMin) {
                    const __m256 m8 = _mm256_load_ps(pack.m + b * 8);
                    acc[t] =
                        _mm256_fmadd_ps(m8, _mm256_set1_ps(dx * static_cast<float>(xsum)), acc[t]);
                }
            }
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(d8, _mm256_set1_ps(dx)),
                                     acc[t]);
        }
    }
    RF_UNROLL
    for (int t = 0; t < T; ++t) {
        float* y = out_ptr(a, r0, t0 + t);
        __m256 v = acc[t];
        if (a.accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(y));
        _mm256_storeu_ps(y, v);
    }
}

template <typename S, int T>
RF_ALWAYS_INLINE void repacked_tail(const uint8_t* scratch, const GemmArgs& a, int r0, int t0,
                                    int rem) {
    if constexpr (T > 1) {
        if (rem == T) {
            repacked_tile<S, T>(scratch, a, r0, t0);
        } else {
            repacked_tail<S, T - 1>(scratch, a, r0, t0, rem);
        }
    } else {
        repacked_tile<S, 1>(scratch, a, r0, t0);
    }
}

// The table entry for an integer format: the direct register tiles for few tokens, the repacked
// path for batches (8-row groups; leftover rows take the direct tiles).
// All tokens of `a` against one repacked group of 8 rows (rows r0 .. r0 + 7 of the output).
template <typename S>
void repacked_tokens(const uint8_t* scratch, const GemmArgs& a, int r0) {
    constexpr int kTokens = repack_tokens<S>();
    int t0 = 0;
    for (; t0 + kTokens <= a.n_tokens; t0 += kTokens) repacked_tile<S, kTokens>(scratch, a, r0, t0);
    if (t0 < a.n_tokens) repacked_tail<S, kTokens - 1>(scratch, a, r0, t0, a.n_tokens - t0);
}

template <typename S, typename Direct, int DirectTokens>
void gemm_auto(const GemmArgs& a) {
    if (a.n_tokens < kRepackMinTokens || a.scratch == nullptr) {
        gemm_walk<Direct, DirectTokens>(a);
        return;
    }
    int r0 = 0;
    for (; r0 + 8 <= a.n_rows; r0 += 8) {
        repack_rows8<S>(a, r0, a.scratch);
        repacked_tokens<S>(a.scratch, a, r0);
    }
    if (r0 < a.n_rows) {
        GemmArgs rest = a;
        rest.w = a.w + r0 * a.w_stride;
        rest.y = a.y + r0;
        rest.n_rows = a.n_rows - r0;
        gemm_walk<Direct, DirectTokens>(rest);
    }
}

}  // namespace rf::cpu::RF_X86_NS
