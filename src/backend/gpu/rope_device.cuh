// RoPE arithmetic shared by the rope kernels (rope.cu) and the Q/K/V mat-vec that rotates and
// caches each head as it finishes (matvec.cu).
#pragma once

#include <cstdint>

#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/ops.h"

namespace rf::gpu {

// cos and sin (times mscale) of rotation pair i at position pos.
__device__ inline void rope_cos_sin(int32_t i, float pos, const RopeKernelParams& p, float& c, float& s) {
    const float inv_freq = powf(p.freq_base, -2.0f * static_cast<float>(i) / static_cast<float>(p.n_rot));
    float theta_extrap = pos * inv_freq;
    if (p.freq_factors != nullptr) theta_extrap /= p.freq_factors[i];
    float theta = p.freq_scale * theta_extrap;
    if (p.ext_factor != 0.0f) {
        const float y = (static_cast<float>(i) - p.yarn_low) / fmaxf(0.001f, p.yarn_high - p.yarn_low);
        const float ramp = 1.0f - fminf(1.0f, fmaxf(0.0f, y));
        const float mix = ramp * p.ext_factor;
        theta = theta * (1.0f - mix) + theta_extrap * mix;
    }
    sincosf(theta, &s, &c);
    c *= p.mscale;
    s *= p.mscale;
}

// The two element indices of rotation pair i within a head.
__device__ __forceinline__ void rope_pair(int32_t i, const RopeKernelParams& p, int32_t& a_idx, int32_t& b_idx) {
    a_idx = p.neox ? i : 2 * i;
    b_idx = p.neox ? i + p.n_rot / 2 : 2 * i + 1;
}

// Element d of one head of k after rotation (d < n_rot) or as it is, for position pos; `head`
// [head_dim] is the unrotated row.
__device__ inline float rotated_element(const float* head, int32_t d, float pos, const RopeKernelParams& p) {
    if (d >= p.n_rot) return head[d];
    const int32_t half = p.n_rot / 2;
    const int32_t i = p.neox ? (d < half ? d : d - half) : d / 2;
    int32_t a_idx, b_idx;
    rope_pair(i, p, a_idx, b_idx);
    float s, c;
    rope_cos_sin(i, pos, p, c, s);
    const float a = head[a_idx];
    const float b = head[b_idx];
    return d == a_idx ? a * c - b * s : a * s + b * c;
}

// Cache row of kv head g for the token in `slot` (PagedKvView layout).
__device__ __forceinline__ int64_t kv_cache_row(const PagedKvView& kv, int32_t slot, int32_t g) {
    return (static_cast<int64_t>(slot / kv.block_size) * kv.n_head_kv + g) * kv.block_size + slot % kv.block_size;
}

}  // namespace rf::gpu
