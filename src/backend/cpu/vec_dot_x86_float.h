// x86 SIMD kernels, part 6: float weights (F32 / F16 / BF16 and dequantized tiles) for batches
// of tokens. A panel of 16 rows x up to 256 columns is converted to float and transposed so that
// column k's 16 row values are two vectors; each token's x[k] is broadcast and multiplied into
// a register tile of 16 rows x T tokens (two FMAs per broadcast, so the FMA units, not loads,
// set the pace). Included after vec_dot_x86_repack.h.
#pragma once

#if !defined(RF_X86_NS)
#error "define RF_X86_NS before including vec_dot_x86_float.h"
#endif

#include "backend/cpu/vec_dot_x86_repack.h"

namespace rf::cpu::RF_X86_NS {

inline constexpr int kPanelRows = 16;
inline constexpr int kPanelCols = 256;  // 16 KiB of floats (kGemmPanelBytes): stays in L1
#if defined(__AVX512VL__)
inline constexpr int kPanelTokens = 12;  // 24 accumulators of the 32 registers
#else
inline constexpr int kPanelTokens = 6;  // 12 accumulators of the 16 registers
#endif

// panel[k * 16 + r] = W[r0 + r][c0 + k] for k < n (a multiple of 8).
template <typename L>
void pack_float_panel(const GemmArgs& a, int r0, int64_t c0, int n, float* panel) {
    for (int rg = 0; rg < kPanelRows; rg += 8) {
        const uint8_t* rows[8];
        for (int r = 0; r < 8; ++r) rows[r] = a.w + (r0 + rg + r) * a.w_stride + c0 * L::kBytes;
        for (int k = 0; k < n; k += 8) {
            __m256i v[8], t[8];
            for (int r = 0; r < 8; ++r)
                v[r] = _mm256_castps_si256(L::load8(rows[r] + k * L::kBytes));
            transpose8x8_epi32(v, t);
            for (int i = 0; i < 8; ++i) {
                _mm256_store_ps(panel + (k + i) * kPanelRows + rg, _mm256_castsi256_ps(t[i]));
            }
        }
    }
}

// y[t][r0 .. r0 + 15] (+)= panel . x[t][c0 .. c0 + n) for T tokens from t0.
template <int T>
void float_panel_tile(const float* panel, int n, const GemmArgs& a, int r0, int t0, int64_t c0,
                      bool add) {
    const float* x[T];
    RF_UNROLL
    for (int t = 0; t < T; ++t)
        x[t] = reinterpret_cast<const float*>(a.x + (t0 + t) * a.x_stride) + c0;
    __m256 acc0[T], acc1[T];
    for (int t = 0; t < T; ++t) acc0[t] = acc1[t] = _mm256_setzero_ps();
    for (int k = 0; k < n; ++k) {
        const __m256 w0 = _mm256_load_ps(panel + k * kPanelRows);
        const __m256 w1 = _mm256_load_ps(panel + k * kPanelRows + 8);
        for (int t = 0; t < T; ++t) {
            const __m256 xb = _mm256_broadcast_ss(x[t] + k);
            acc0[t] = _mm256_fmadd_ps(w0, xb, acc0[t]);
            acc1[t] = _mm256_fmadd_ps(w1, xb, acc1[t]);
        }
    }
    for (int t = 0; t < T; ++t) {
        float* y = out_ptr(a, r0, t0 + t);
        __m256 v0 = acc0[t], v1 = acc1[t];
        if (add) {
            v0 = _mm256_add_ps(v0, _mm256_loadu_ps(y));
            v1 = _mm256_add_ps(v1, _mm256_loadu_ps(y + 8));
        }
        _mm256_storeu_ps(y, v0);
        _mm256_storeu_ps(y + 8, v1);
    }
}

template <int T>
RF_ALWAYS_INLINE void float_panel_tail(const float* panel, int n, const GemmArgs& a, int r0, int t0,
                                       int64_t c0, bool add, int rem) {
    if constexpr (T > 1) {
        if (rem == T) {
            float_panel_tile<T>(panel, n, a, r0, t0, c0, add);
        } else {
            float_panel_tail<T - 1>(panel, n, a, r0, t0, c0, add, rem);
        }
    } else {
        float_panel_tile<1>(panel, n, a, r0, t0, c0, add);
    }
}

// The table entry for float weights: register tiles for few tokens or odd widths, panels for
// batches (16-row groups; leftover rows take the register tiles).
template <typename L>
void float_gemm_auto(const GemmArgs& a) {
    static_assert(kPanelRows * kPanelCols * sizeof(float) <= kGemmPanelBytes,
                  "panel outgrows the scratch");
    if (a.n_tokens < kRepackMinTokens || a.n_cols % 8 != 0 || a.scratch == nullptr) {
        gemm_walk<FloatKernel<L>, kFloatTokens>(a);
        return;
    }
    float* panel = reinterpret_cast<float*>(a.scratch);
    int r0 = 0;
    for (; r0 + kPanelRows <= a.n_rows; r0 += kPanelRows) {
        for (int64_t c0 = 0; c0 < a.n_cols; c0 += kPanelCols) {
            const int n = static_cast<int>(min_i64(kPanelCols, a.n_cols - c0));
            pack_float_panel<L>(a, r0, c0, n, panel);
            const bool add = a.accumulate || c0 > 0;
            int t0 = 0;
            for (; t0 + kPanelTokens <= a.n_tokens; t0 += kPanelTokens) {
                float_panel_tile<kPanelTokens>(panel, n, a, r0, t0, c0, add);
            }
            if (t0 < a.n_tokens)
                float_panel_tail<kPanelTokens - 1>(panel, n, a, r0, t0, c0, add, a.n_tokens - t0);
        }
    }
    if (r0 < a.n_rows) {
        GemmArgs rest = a;
        rest.w = a.w + r0 * a.w_stride;
        rest.y = a.y + r0;
        rest.n_rows = a.n_rows - r0;
        gemm_walk<FloatKernel<L>, kFloatTokens>(rest);
    }
}

}  // namespace rf::cpu::RF_X86_NS
