// Device-side helpers shared by every kernel: warp width, warp reductions, int8 dot products.
// Included by .cu files only (CUDA-spelled; hipcc maps them).
#pragma once

#include <cstdint>

#include "backend/gpu/gpu_runtime.h"

// Warp (wavefront) width of the code being compiled: 64 on CDNA/GCN, 32 on RDNA and NVIDIA.
// Device code only; host code reads gpuDeviceProp::warpSize.
#if defined(__HIP_DEVICE_COMPILE__)
#define RF_WARP_SIZE __AMDGCN_WAVEFRONT_SIZE
#else
#define RF_WARP_SIZE 32
#endif

namespace rf::gpu {

// Butterfly reduction step across the warp (all lanes active).
template <typename T>
__device__ __forceinline__ T shfl_xor(T value, int lane_mask) {
#if defined(__HIPCC__)
    return __shfl_xor(value, lane_mask, RF_WARP_SIZE);
#else
    return __shfl_xor_sync(0xffffffffu, value, lane_mask, RF_WARP_SIZE);
#endif
}

// `value` of lane `src_lane`, in every lane.
template <typename T>
__device__ __forceinline__ T shfl(T value, int src_lane) {
#if defined(__HIPCC__)
    return __shfl(value, src_lane, RF_WARP_SIZE);
#else
    return __shfl_sync(0xffffffffu, value, src_lane, RF_WARP_SIZE);
#endif
}

// Sum of `value` over the warp, returned in every lane.
template <typename T>
__device__ __forceinline__ T warp_sum(T value) {
#pragma unroll
    for (int offset = RF_WARP_SIZE / 2; offset > 0; offset >>= 1) value += shfl_xor(value, offset);
    return value;
}

// Maximum of `value` over the warp, returned in every lane.
__device__ __forceinline__ float warp_max(float value) {
#pragma unroll
    for (int offset = RF_WARP_SIZE / 2; offset > 0; offset >>= 1) value = fmaxf(value, shfl_xor(value, offset));
    return value;
}

// The eight fp16 values of one 16-byte load as floats, in memory order: x[0..7].
__device__ __forceinline__ void halves8_to_float(const int4& raw, float* x) {
    const __half2* h2 = reinterpret_cast<const __half2*>(&raw);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const float2 f = __half22float2(h2[i]);
        x[2 * i] = f.x;
        x[2 * i + 1] = f.y;
    }
}

// fp16 bits of x, saturated to the largest finite half (the KV cache never holds infinities).
__device__ __forceinline__ uint16_t float_to_half_bits_clamped(float x) {
    return __half_as_ushort(__float2half_rn(fminf(fmaxf(x, -65504.0f), 65504.0f)));
}

// Dot product of four signed bytes packed in a and b, accumulated onto c.
__device__ __forceinline__ int dot4_i8(int a, int b, int c) {
#if defined(__HIP_DEVICE_COMPILE__)
#if defined(__gfx906__) || defined(__gfx908__) || defined(__gfx90a__) || defined(__gfx940__) || \
    defined(__gfx941__) || defined(__gfx942__) || defined(__gfx1030__) || defined(__gfx1100__) ||  \
    defined(__gfx1101__) || defined(__gfx1102__)
    return __builtin_amdgcn_sdot4(a, b, c, false);
#else
    const char4 va = *reinterpret_cast<const char4*>(&a);
    const char4 vb = *reinterpret_cast<const char4*>(&b);
    return c + va.x * vb.x + va.y * vb.y + va.z * vb.z + va.w * vb.w;
#endif
#elif defined(__HIPCC__)
    return c + 0 * (a ^ b);  // host pass of HIP: never executed
#else
    return __dp4a(a, b, c);
#endif
}

// Quantizes one 32-element block held by 32 consecutive lanes (a warp, or half a wavefront: the
// xor offsets below 32 stay inside it) the way quantize_act.h describes: q = round(v / d) with
// d = max|v| / 127, written to qs[col] and, by the block's first lane, ds[col / 32] = {d, d * sum(q)}.
// Lanes with `store` false take part in the reductions only (all 32 lanes must run it).
__device__ __forceinline__ void quantize_block32(float v, int64_t col, int8_t* __restrict__ qs, float2* __restrict__ ds,
                                                 bool store = true) {
    float amax = fabsf(v);
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) amax = fmaxf(amax, shfl_xor(amax, offset));
    const float d = amax / 127.0f;
    const int q = amax == 0.0f ? 0 : __float2int_rn(v / d);
    int sum = q;
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) sum += shfl_xor(sum, offset);
    if (!store) return;
    qs[col] = static_cast<int8_t>(q);
    if ((col & 31) == 0) ds[col / 32] = make_float2(d, d * static_cast<float>(sum));
}

}  // namespace rf::gpu
