// The NEON kernel table (AArch64): Q4_0 and Q8_0 integer dot products (SDOT where the target has
// the dot-product extension, widening multiplies otherwise), F32 / F16 FMA kernels and the Q8_32
// activation quantizer; every other slot comes from the generic table. Built on ARM only.
#include <arm_neon.h>

#include <cstring>

#include "backend/cpu/vec_dot.h"

namespace rf::cpu {
namespace {

constexpr int kTileRows = 4;
constexpr int kTileTokens = 4;

// sum(a[i] * b[i]) over 32 int8 pairs held as two vectors each.
inline int32_t dot32(int8x16_t a0, int8x16_t a1, int8x16_t b0, int8x16_t b1) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vaddvq_s32(vdotq_s32(vdotq_s32(vdupq_n_s32(0), a0, b0), a1, b1));
#else
    // Two products per int16 lane: 2 * 128 * 127 fits.
    int16x8_t p0 = vmull_s8(vget_low_s8(a0), vget_low_s8(b0));
    p0 = vmlal_s8(p0, vget_high_s8(a0), vget_high_s8(b0));
    int16x8_t p1 = vmull_s8(vget_low_s8(a1), vget_low_s8(b1));
    p1 = vmlal_s8(p1, vget_high_s8(a1), vget_high_s8(b1));
    return vaddvq_s32(vpadalq_s16(vpaddlq_s16(p0), p1));
#endif
}

inline float fp16_load(const uint8_t* p) {
    float16_t h;
    std::memcpy(&h, p, 2);
    return static_cast<float>(h);
}

// One 32-element block as signed values (elements 0..15, 16..31) and its scale.
struct Block32 {
    int8x16_t v0, v1;
    float d;
};
inline Block32 load_q4_0(const uint8_t* b) {
    const uint8x16_t q = vld1q_u8(b + 2);
    const int8x16_t eight = vdupq_n_s8(8);
    return {vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0F))), eight),
            vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight), fp16_load(b)};
}
inline Block32 load_q8_0(const uint8_t* b) {
    return {vld1q_s8(reinterpret_cast<const int8_t*>(b + 2)),
            vld1q_s8(reinterpret_cast<const int8_t*>(b + 18)), fp16_load(b)};
}

void store_tile(const GemmArgs& a, int r0, int nr, int t0, int nt,
                const float (&acc)[kTileRows][kTileTokens]) {
    for (int t = 0; t < nt; ++t) {
        float* y = a.y + (t0 + t) * a.y_stride + r0;
        for (int r = 0; r < nr; ++r) y[r] = a.accumulate ? y[r] + acc[r][t] : acc[r][t];
    }
}

template <Block32 (*Load)(const uint8_t*), size_t kBytes>
void gemm_q32(const GemmArgs& a) {
    const int64_t nb = a.n_cols / 32;
    for (int r0 = 0; r0 < a.n_rows; r0 += kTileRows) {
        const int nr = a.n_rows - r0 < kTileRows ? a.n_rows - r0 : kTileRows;
        for (int t0 = 0; t0 < a.n_tokens; t0 += kTileTokens) {
            const int nt = a.n_tokens - t0 < kTileTokens ? a.n_tokens - t0 : kTileTokens;
            ActQ8_32 xs[kTileTokens];
            for (int t = 0; t < nt; ++t) xs[t] = view_q8_32(a.x + (t0 + t) * a.x_stride, a.n_cols);
            float acc[kTileRows][kTileTokens] = {};
            for (int64_t b = 0; b < nb; ++b) {
                Block32 w[kTileRows];
                for (int r = 0; r < nr; ++r) w[r] = Load(a.w + (r0 + r) * a.w_stride + b * kBytes);
                for (int t = 0; t < nt; ++t) {
                    const int8x16_t x0 = vld1q_s8(xs[t].qs + b * 32),
                                    x1 = vld1q_s8(xs[t].qs + b * 32 + 16);
                    for (int r = 0; r < nr; ++r) {
                        const int32_t isum = dot32(w[r].v0, w[r].v1, x0, x1);
                        acc[r][t] += w[r].d * xs[t].d[b] * static_cast<float>(isum);
                    }
                }
            }
            store_tile(a, r0, nr, t0, nt, acc);
        }
    }
}

inline float32x4_t load4_f32(const uint8_t* p) {
    return vld1q_f32(reinterpret_cast<const float*>(p));
}
inline float load1_f32(const uint8_t* p) {
    float v;
    std::memcpy(&v, p, 4);
    return v;
}
inline float32x4_t load4_f16(const uint8_t* p) {
    return vcvt_f32_f16(vld1_f16(reinterpret_cast<const float16_t*>(p)));
}

// Float weights of any width: 4-column FMA steps, scalar tail.
template <float32x4_t (*Load4)(const uint8_t*), float (*Load1)(const uint8_t*), size_t kElemBytes>
void gemm_float(const GemmArgs& a) {
    const int64_t n4 = a.n_cols / 4 * 4;
    for (int r0 = 0; r0 < a.n_rows; r0 += kTileRows) {
        const int nr = a.n_rows - r0 < kTileRows ? a.n_rows - r0 : kTileRows;
        for (int t0 = 0; t0 < a.n_tokens; t0 += kTileTokens) {
            const int nt = a.n_tokens - t0 < kTileTokens ? a.n_tokens - t0 : kTileTokens;
            float32x4_t vacc[kTileRows][kTileTokens];
            for (int r = 0; r < kTileRows; ++r)
                for (int t = 0; t < kTileTokens; ++t) vacc[r][t] = vdupq_n_f32(0.0f);
            const float* x[kTileTokens];
            for (int t = 0; t < nt; ++t)
                x[t] = reinterpret_cast<const float*>(a.x + (t0 + t) * a.x_stride);
            for (int64_t c = 0; c < n4; c += 4) {
                float32x4_t w[kTileRows];
                for (int r = 0; r < nr; ++r)
                    w[r] = Load4(a.w + (r0 + r) * a.w_stride + c * kElemBytes);
                for (int t = 0; t < nt; ++t) {
                    const float32x4_t xv = vld1q_f32(x[t] + c);
                    for (int r = 0; r < nr; ++r) vacc[r][t] = vfmaq_f32(vacc[r][t], w[r], xv);
                }
            }
            float acc[kTileRows][kTileTokens] = {};
            for (int r = 0; r < nr; ++r) {
                for (int t = 0; t < nt; ++t) {
                    float s = vaddvq_f32(vacc[r][t]);
                    for (int64_t c = n4; c < a.n_cols; ++c)
                        s += Load1(a.w + (r0 + r) * a.w_stride + c * kElemBytes) * x[t][c];
                    acc[r][t] = s;
                }
            }
            store_tile(a, r0, nr, t0, nt, acc);
        }
    }
}

// Q8_32 activations (vec_dot.h): d = max|x| / 127, q = round-half-even(x / d).
void quantize_act_q8_32(const float* x, int64_t n_cols, uint8_t* dst) {
    const int64_t nb = n_cols / 32;
    auto* qs = reinterpret_cast<int8_t*>(dst);
    auto* d = reinterpret_cast<float*>(dst + n_cols);
    float* s = d + nb;
    auto* sum = reinterpret_cast<int16_t*>(s + nb);
    for (int64_t b = 0; b < nb; ++b) {
        const float* xb = x + b * 32;
        float32x4_t v[8];
        float32x4_t amax = vdupq_n_f32(0.0f);
        for (int i = 0; i < 8; ++i) {
            v[i] = vld1q_f32(xb + 4 * i);
            amax = vmaxq_f32(amax, vabsq_f32(v[i]));
        }
        const float db = vmaxvq_f32(amax) / 127.0f;
        const float id = db > 0.0f ? 1.0f / db : 0.0f;
        int32x4_t total = vdupq_n_s32(0);
        for (int i = 0; i < 8; i += 2) {
            const int32x4_t q0 = vcvtnq_s32_f32(vmulq_n_f32(v[i], id));
            const int32x4_t q1 = vcvtnq_s32_f32(vmulq_n_f32(v[i + 1], id));
            total = vaddq_s32(total, vaddq_s32(q0, q1));
            const int16x8_t q16 = vcombine_s16(vqmovn_s32(q0), vqmovn_s32(q1));
            vst1_s8(qs + b * 32 + 4 * i, vqmovn_s16(q16));
        }
        const int t = vaddvq_s32(total);
        d[b] = db;
        sum[b] = static_cast<int16_t>(t);
        s[b] = db * static_cast<float>(t);
    }
}

KernelTable make_table() {
    KernelTable t = generic_kernel_table();
    t.isa = Isa::kNeon;
    const auto set = [&t](quant::GgmlType type, GemmKernel k) {
        t.gemm[static_cast<int>(type)] = k;
    };
    set(quant::GgmlType::kQ4_0, gemm_q32<load_q4_0, 18>);
    set(quant::GgmlType::kQ8_0, gemm_q32<load_q8_0, 34>);
    set(quant::GgmlType::kF32, gemm_float<load4_f32, load1_f32, 4>);
    set(quant::GgmlType::kF16, gemm_float<load4_f16, fp16_load, 2>);
    t.quantize_q8_32 = quantize_act_q8_32;
    return t;
}

}  // namespace

const KernelTable& neon_kernel_table() {
    static const KernelTable table = make_table();
    return table;
}

}  // namespace rf::cpu
