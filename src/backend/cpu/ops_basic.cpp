// Element-wise and row-wise CPU ops (plain loops the compiler vectorises).
#include "backend/cpu/ops_basic.h"

#include <cmath>
#include <cstring>

#include "backend/cpu/ops_math.h"
#include "core/cpu_features.h"
#include "quant/reference.h"

namespace rf::cpu {

void rms_norm_rows(const float* x, const float* w, float eps, int64_t width, int64_t n_rows,
                   size_t x_stride, float* out, size_t out_stride) {
    for (int64_t r = 0; r < n_rows; ++r) {
        const float* xr = x + static_cast<size_t>(r) * x_stride;
        float* o = out + static_cast<size_t>(r) * out_stride;
        // Accumulate in 8 float lanes, then in double: stable for wide rows, still vectorised.
        float lanes[8] = {};
        int64_t i = 0;
        for (; i + 8 <= width; i += 8) {
            for (int j = 0; j < 8; ++j) lanes[j] += xr[i + j] * xr[i + j];
        }
        double sum = 0.0;
        for (int j = 0; j < 8; ++j) sum += static_cast<double>(lanes[j]);
        for (; i < width; ++i) sum += static_cast<double>(xr[i]) * static_cast<double>(xr[i]);
        const float scale =
            static_cast<float>(1.0 / std::sqrt(sum / static_cast<double>(width) + static_cast<double>(eps)));
        for (int64_t k = 0; k < width; ++k) o[k] = xr[k] * scale * w[k];
    }
}

void add_vec(const float* a, const float* b, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

namespace {

RF_ALWAYS_INLINE void swiglu_impl(const float* gate, const float* up, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        const float g = gate[i];
        out[i] = g / (1.0f + fast_exp(-g)) * up[i];
    }
}

void swiglu_generic(const float* gate, const float* up, float* out, int64_t n) {
    swiglu_impl(gate, up, out, n);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
[[gnu::target("avx2,fma")]] void swiglu_avx2(const float* gate, const float* up, float* out, int64_t n) {
    swiglu_impl(gate, up, out, n);
}
#endif

using SwigluFn = void (*)(const float*, const float*, float*, int64_t);
SwigluFn pick_swiglu() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    const CpuFeatures& f = cpu_features();
    if (f.avx2 && f.fma) return swiglu_avx2;
#endif
    return swiglu_generic;
}

}  // namespace

void swiglu_vec(const float* gate, const float* up, float* out, int64_t n) {
    static const SwigluFn fn = pick_swiglu();
    fn(gate, up, out, n);
}

void dequantize_row_to_float(quant::GgmlType type, const void* row, int64_t width, float* out) {
    if (type == quant::GgmlType::kF32) {
        std::memcpy(out, row, static_cast<size_t>(width) * sizeof(float));
        return;
    }
    quant::dequantize_row(type, row, out, width);
}

}  // namespace rf::cpu
