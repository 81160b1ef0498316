// Rotary position embedding (normal and NeoX pairing; linear, YaRN and frequency-factor scaling),
// one thread per rotated pair, and its fused form that also writes K and V into the paged cache.
// Mirrors the CPU backend's formulas.
#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/gpu_launch.cuh"
#include "backend/gpu/ops.h"

namespace rf::gpu {
namespace {

// cos and sin (times mscale) of rotation pair i at position pos.
__device__ void rope_cos_sin(int32_t i, float pos, const RopeKernelParams& p, float& c, float& s) {
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

// Rotates pair i of head row th (token * n_head + head) of x in place.
__device__ __forceinline__ void rotate_pair_in_place(float* x, int64_t th, int32_t i, int32_t head_dim, float pos,
                                                     const RopeKernelParams& p) {
    float s, c;
    rope_cos_sin(i, pos, p, c, s);
    float* v = x + th * head_dim;
    int32_t a_idx, b_idx;
    rope_pair(i, p, a_idx, b_idx);
    const float a = v[a_idx];
    const float b = v[b_idx];
    v[a_idx] = a * c - b * s;
    v[b_idx] = a * s + b * c;
}

// Element d of one head row `head` after rotation (dims past n_rot pass through unchanged).
__device__ float rotated_element(const float* head, int32_t d, float pos, const RopeKernelParams& p) {
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

__global__ void rope_kernel(float* x, const int32_t* positions, int64_t n_tokens, int32_t n_head, int32_t head_dim,
                            RopeKernelParams p) {
    wait_for_predecessor();
    const int32_t half = p.n_rot / 2;
    const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx >= n_tokens * n_head * half) return;
    const int64_t th = idx / half;  // token * n_head + head
    rotate_pair_in_place(x, th, static_cast<int32_t>(idx % half), head_dim, static_cast<float>(positions[th / n_head]), p);
}

// One pass over three ranges of work items: the rotation pairs of q (in place), the elements of
// k (rotated on their way into the cache; the k activation is left as it is, so no thread reads
// an element another one writes) and the elements of v (copied into the cache).
__global__ void rope_store_kv_kernel(float* q, const float* k, const float* v, PagedKvView kv, const int32_t* positions,
                                     const int32_t* slots, int64_t n_tokens, int32_t n_head, RopeKernelParams p) {
    // Positions and slots are host-uploaded step data: read before the wait (gpu_launch.cuh).
    launch_next_kernel();
    const int32_t half = p.n_rot / 2;
    const int64_t n_q = n_tokens * n_head * half;
    const int64_t n_k = n_tokens * kv.n_head_kv * kv.head_dim_k;
    const int64_t n_v = n_tokens * kv.n_head_kv * kv.head_dim_v;
    int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx < n_q) {
        const int64_t th = idx / half;
        const float pos = static_cast<float>(positions[th / n_head]);
        wait_for_previous_kernel();
        rotate_pair_in_place(q, th, static_cast<int32_t>(idx % half), kv.head_dim_k, pos, p);
        return;
    }
    idx -= n_q;
    const bool is_k = idx < n_k;
    if (!is_k) idx -= n_k;
    if (idx >= (is_k ? n_k : n_v)) return;
    const int32_t dim = is_k ? kv.head_dim_k : kv.head_dim_v;
    const int32_t d = static_cast<int32_t>(idx % dim);
    const int64_t th = idx / dim;  // token * n_head_kv + head
    const int64_t t = th / kv.n_head_kv;
    const int32_t g = static_cast<int32_t>(th % kv.n_head_kv);
    const float pos = static_cast<float>(positions[t]);
    const int64_t row = kv_cache_row(kv, slots[t], g);
    wait_for_previous_kernel();
    const float value = is_k ? rotated_element(k + th * dim, d, pos, p) : v[idx];
    (is_k ? kv.k : kv.v)[row * dim + d] = float_to_half_bits_clamped(value);
}

}  // namespace

void rope(float* x, const int32_t* positions, int64_t n_tokens, int32_t n_head, int32_t head_dim,
          const RopeKernelParams& p, gpuStream_t stream) {
    const int64_t n = n_tokens * n_head * (p.n_rot / 2);
    if (n == 0) return;
    constexpr int kThreads = 256;
    launch(rope_kernel, static_cast<unsigned>((n + kThreads - 1) / kThreads), kThreads, 0, stream,
           x, positions, n_tokens, n_head, head_dim, p);
}

void rope_store_kv(float* q, const float* k, const float* v, const PagedKvView& kv, const DeviceBatch& batch,
                   int32_t n_head, const RopeKernelParams& p, gpuStream_t stream) {
    const int64_t n = static_cast<int64_t>(batch.n_tokens) *
                      (int64_t{n_head} * (p.n_rot / 2) + int64_t{kv.n_head_kv} * (kv.head_dim_k + kv.head_dim_v));
    if (n == 0) return;
    constexpr int kThreads = 256;
    launch(rope_store_kv_kernel, static_cast<unsigned>((n + kThreads - 1) / kThreads), kThreads, 0,
           stream, q, k, v, kv, batch.positions, batch.kv_slots, batch.n_tokens, n_head, p);
}

}  // namespace rf::gpu
