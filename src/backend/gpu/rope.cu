// Rotary position embedding (normal and NeoX pairing; linear, YaRN and frequency-factor scaling),
// one thread per rotated pair. Mirrors the CPU backend's formulas.
#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/ops.h"

namespace rf::gpu {
namespace {

__global__ void rope_kernel(float* x, const int32_t* positions, int64_t n_tokens, int32_t n_head, int32_t head_dim,
                            RopeKernelParams p) {
    const int32_t half = p.n_rot / 2;
    const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx >= n_tokens * n_head * half) return;
    const int32_t i = static_cast<int32_t>(idx % half);
    const int64_t th = idx / half;  // token * n_head + head
    const int64_t t = th / n_head;
    const float pos = static_cast<float>(positions[t]);

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
    float s, c;
    sincosf(theta, &s, &c);
    c *= p.mscale;
    s *= p.mscale;

    float* v = x + th * head_dim;
    const int32_t a_idx = p.neox ? i : 2 * i;
    const int32_t b_idx = p.neox ? i + half : 2 * i + 1;
    const float a = v[a_idx];
    const float b = v[b_idx];
    v[a_idx] = a * c - b * s;
    v[b_idx] = a * s + b * c;
}

}  // namespace

void rope(float* x, const int32_t* positions, int64_t n_tokens, int32_t n_head, int32_t head_dim,
          const RopeKernelParams& p, gpuStream_t stream) {
    const int64_t n = n_tokens * n_head * (p.n_rot / 2);
    if (n == 0) return;
    constexpr int kThreads = 256;
    rope_kernel<<<static_cast<unsigned>((n + kThreads - 1) / kThreads), kThreads, 0, stream>>>(x, positions, n_tokens,
                                                                                             n_head, head_dim, p);
    RF_GPU_CHECK_LAUNCH();
}

}  // namespace rf::gpu
