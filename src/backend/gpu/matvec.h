// Quantized matrix x small-batch products on the GPU, reading the packed weights directly.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/gpu/gpu_runtime.h"
#include "backend/gpu/quantize_act.h"
#include "quant/types.h"

namespace rf::gpu {

// A PackedMatrix (gpu_matrix.h) resident in device memory.
struct DeviceMatrix {
    quant::GgmlType type = quant::GgmlType::kF32;
    int64_t n_rows = 0;
    int64_t n_cols = 0;
    const uint8_t* qs = nullptr;
    const uint16_t* scales = nullptr;  // per-row scale words (gpu_matrix.h: fp16 bits, or packed headers)
    size_t qs_row_bytes = 0;
    size_t scale_row_count = 0;
};

inline constexpr int kMaxMatvecTokens = 8;
inline constexpr int kMaxMatvecSet = 3;

// Matrices of one type and width that read the same input, run as one launch: the grid covers
// their rows one matrix after the other.
struct MatvecSet {
    DeviceMatrix w[kMaxMatvecSet];
    float* y[kMaxMatvecSet] = {};        // y[i] [n_tokens][w[i].n_rows]
    int64_t first_row[kMaxMatvecSet + 1] = {};  // first_row[i]: grid row of w[i]'s row 0
    int n = 0;

    void add(const DeviceMatrix& m, float* out) {
        w[n] = m;
        y[n] = out;
        first_row[n + 1] = first_row[n] + m.n_rows;
        ++n;
    }
};

// What the kernel does with each dot product.
enum class MatvecEpilogue {
    kStore,       // y = W x
    kAccumulate,  // y += W x (a residual add)
    kSwiglu,      // set of one matrix (gate) plus w[1] (up, same shape): y[0] = silu(gate x) * (up x)
};

// The input: quantized activations for integer kernels, float rows for F16 weights.
struct MatvecInput {
    QuantizedActs acts;
    const float* x = nullptr;
};

// y [n_tokens][n_rows] = x [n_tokens][n_cols] @ W^T for 1 <= n_tokens <= kMaxMatvecTokens.
// Quantized types read `acts` (quantize_acts of x); F16 reads the float rows `x` directly.
// `warp_size` is the device's (32 or 64).
void matvec(const DeviceMatrix& w, const QuantizedActs& acts, const float* x, int n_tokens, float* y,
            int warp_size, gpuStream_t stream);
// The same over a set (all matrices of one type and width), with the given epilogue.
void matvec_set(const MatvecSet& set, MatvecEpilogue epilogue, const QuantizedActs& acts, const float* x,
                int n_tokens, int warp_size, gpuStream_t stream);

}  // namespace rf::gpu
