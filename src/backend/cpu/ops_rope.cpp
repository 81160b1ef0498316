// Rotary position embedding: angle table (with linear / YaRN / frequency-factor scaling) and the
// normal and NeoX rotations.
#include "backend/cpu/ops_rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace rf::cpu {
namespace {

// YaRN: the dim index (counted in pairs x2) whose wavelength fits `n_rotations` turns in the
// original context.
float yarn_corr_dim(int32_t n_rot, int32_t n_ctx_orig, float n_rotations, float base) {
    return static_cast<float>(n_rot) *
           std::log(static_cast<float>(n_ctx_orig) / (n_rotations * 2.0f * std::numbers::pi_v<float>)) /
           (2.0f * std::log(base));
}

// 1 below `low` (extrapolate), 0 above `high` (interpolate), linear between.
float yarn_ramp(float low, float high, int32_t pair) {
    const float y = (static_cast<float>(pair) - low) / std::max(0.001f, high - low);
    return 1.0f - std::min(1.0f, std::max(0.0f, y));
}

}  // namespace

void rope_table(const engine::RopeParams& p, const float* freq_factors, const int32_t* positions,
                int64_t n_tokens, float* cos_out, float* sin_out) {
    const int32_t half = p.n_rot / 2;
    float low = 0.0f;
    float high = 0.0f;
    float mscale = p.attn_factor;
    if (p.ext_factor != 0.0f) {
        const int32_t n_ctx_orig = p.n_ctx_orig > 0 ? p.n_ctx_orig : 4096;
        low = std::max(0.0f, std::floor(yarn_corr_dim(p.n_rot, n_ctx_orig, p.beta_fast, p.freq_base)));
        high = std::min(static_cast<float>(p.n_rot - 1),
                        std::ceil(yarn_corr_dim(p.n_rot, n_ctx_orig, p.beta_slow, p.freq_base)));
        mscale *= 1.0f + 0.1f * std::log(1.0f / p.freq_scale);
    }
    for (int64_t t = 0; t < n_tokens; ++t) {
        const float pos = static_cast<float>(positions[t]);
        float* c = cos_out + t * half;
        float* s = sin_out + t * half;
        for (int32_t i = 0; i < half; ++i) {
            const float inv_freq = static_cast<float>(
                std::pow(static_cast<double>(p.freq_base), -2.0 * i / static_cast<double>(p.n_rot)));
            float theta_extrap = pos * inv_freq;
            if (freq_factors != nullptr) theta_extrap /= freq_factors[i];
            float theta = p.freq_scale * theta_extrap;
            if (p.ext_factor != 0.0f) {
                const float mix = yarn_ramp(low, high, i) * p.ext_factor;
                theta = theta * (1.0f - mix) + theta_extrap * mix;
            }
            c[i] = static_cast<float>(std::cos(static_cast<double>(theta))) * mscale;
            s[i] = static_cast<float>(std::sin(static_cast<double>(theta))) * mscale;
        }
    }
}

void rope_apply(engine::RopeType type, int32_t n_rot, const float* cos_table,
                const float* sin_table, float* x, int64_t head_dim, int64_t n_head,
                int64_t n_tokens) {
    const int32_t half = n_rot / 2;
    for (int64_t t = 0; t < n_tokens; ++t) {
        const float* c = cos_table + t * half;
        const float* s = sin_table + t * half;
        for (int64_t h = 0; h < n_head; ++h) {
            float* v = x + (t * n_head + h) * head_dim;
            if (type == engine::RopeType::kNeox) {
                for (int32_t i = 0; i < half; ++i) {
                    const float a = v[i];
                    const float b = v[i + half];
                    v[i] = a * c[i] - b * s[i];
                    v[i + half] = a * s[i] + b * c[i];
                }
            } else {
                for (int32_t i = 0; i < half; ++i) {
                    const float a = v[2 * i];
                    const float b = v[2 * i + 1];
                    v[2 * i] = a * c[i] - b * s[i];
                    v[2 * i + 1] = a * s[i] + b * c[i];
                }
            }
        }
    }
}

}  // namespace rf::cpu
