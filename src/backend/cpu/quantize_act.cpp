// Scalar on-the-fly activation quantizers (float row -> Q8_32 / Q8_K layouts of vec_dot.h) and
// the activation layout sizes.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/cpu/vec_dot.h"
#include "core/check.h"

namespace rf::cpu {
namespace {

// Symmetric 8-bit: d = max|x| / 127, q = round-to-nearest-even(x / d), so |q| <= 127.
float quantize_block(const float* x, int n, int8_t* q) {
    float amax = 0.0f;
    for (int i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float d = amax / 127.0f;
    const float id = d > 0.0f ? 1.0f / d : 0.0f;
    for (int i = 0; i < n; ++i) q[i] = static_cast<int8_t>(std::nearbyint(x[i] * id));
    return d;
}

}  // namespace

size_t act_row_bytes(ActFormat format, int64_t n_cols) {
    size_t bytes = 0;
    switch (format) {
        case ActFormat::kF32:
            bytes = static_cast<size_t>(n_cols) * sizeof(float);
            break;
        case ActFormat::kQ8_32:
            bytes = static_cast<size_t>(n_cols) + static_cast<size_t>(n_cols / 32) * 10;
            break;
        case ActFormat::kQ8_K:
            bytes = static_cast<size_t>(n_cols) + static_cast<size_t>(n_cols / 256) * 4 +
                    static_cast<size_t>(n_cols / 16) * 2;
            break;
    }
    return (bytes + 63) / 64 * 64;
}

void quantize_act_q8_32_generic(const float* x, int64_t n_cols, uint8_t* dst) {
    RF_CHECK(n_cols % 32 == 0);
    const int64_t nb = n_cols / 32;
    int8_t* qs = reinterpret_cast<int8_t*>(dst);
    float* d = reinterpret_cast<float*>(dst + n_cols);
    float* s = d + nb;
    int16_t* sum = reinterpret_cast<int16_t*>(s + nb);
    for (int64_t b = 0; b < nb; ++b) {
        d[b] = quantize_block(x + b * 32, 32, qs + b * 32);
        int total = 0;
        for (int i = 0; i < 32; ++i) total += qs[b * 32 + i];
        sum[b] = static_cast<int16_t>(total);
        s[b] = d[b] * static_cast<float>(total);
    }
}

void quantize_act_q8_k_generic(const float* x, int64_t n_cols, uint8_t* dst) {
    RF_CHECK(n_cols % 256 == 0);
    const int64_t nb = n_cols / 256;
    int8_t* qs = reinterpret_cast<int8_t*>(dst);
    float* d = reinterpret_cast<float*>(dst + n_cols);
    int16_t* bsums = reinterpret_cast<int16_t*>(d + nb);
    for (int64_t b = 0; b < nb; ++b) {
        d[b] = quantize_block(x + b * 256, 256, qs + b * 256);
        for (int g = 0; g < 16; ++g) {
            int total = 0;
            for (int i = 0; i < 16; ++i) total += qs[b * 256 + g * 16 + i];
            bsums[b * 16 + g] = static_cast<int16_t>(total);
        }
    }
}

}  // namespace rf::cpu
