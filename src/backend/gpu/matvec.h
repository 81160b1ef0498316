// Quantized matrix x small-batch products on the GPU, reading the packed weights directly.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/gpu/gpu_runtime.h"
#include "backend/gpu/quantize_act.h"
#include "core/platform.h"
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

// An input still to be divided by its rms: the producing mat-vec (GroupOutput) wrote x * g
// (quantized, and as floats) plus sums of squares of x per 32-column group; the consumer scales
// each dot product by 1 / sqrt(sum / width + eps) of its token.
struct InputNorm {
    const float* sum_squares = nullptr;  // [n_tokens][n_groups], or null: no scaling
    int32_t n_groups = 0;
    int64_t width = 0;
    float eps = 0.0f;
};

// The input: quantized activations for integer kernels, float rows for F16 weights. With
// `norm`, x holds the rows before their division by the rms, and `normalized` (if set)
// receives x / rms [n_tokens][norm.width] as a side effect, so the kernel leaves the normalised
// input behind as RMSNorm would.
struct MatvecInput {
    QuantizedActs acts;
    const float* x = nullptr;
    InputNorm norm;
    float* normalized = nullptr;
};

// The output of a one-matrix set (kAccumulate or kSwiglu) also quantized for the next mat-vec:
// the last block to finish each group of 32 rows writes, per token, v = y * gain (gain 1 when
// null) as `acts`, v as floats to `scaled` and sum(y^2) of the group to `sum_squares` (each
// optional). That is the residual add + RMSNorm + quantization of the next block's input with
// the 1 / rms left to the consumer (InputNorm), or SwiGLU's output quantized for the down
// projection.
struct GroupOutput {
    QuantizedActs acts;
    const float* gain = nullptr;    // [n_rows]
    float* scaled = nullptr;        // [n_tokens][n_rows]
    float* sum_squares = nullptr;   // [n_tokens][group_count(n_rows)]
    int32_t* counters = nullptr;    // [group_count(n_rows)] zero between launches (left so)
};
RF_HOST_DEVICE inline int64_t group_count(int64_t n_rows) { return (n_rows + 31) / 32; }

// out [n_tokens][norm.width] = x / rms per token (InputNorm): the division a consumer mat-vec
// would have applied, for any other reader of the input.
void apply_input_norm(const float* x, const InputNorm& norm, int n_tokens, float* out, gpuStream_t stream);

// y [n_tokens][n_rows] = x [n_tokens][n_cols] @ W^T for 1 <= n_tokens <= kMaxMatvecTokens.
// Quantized types read `acts` (quantize_acts of x); F16 reads the float rows `x` directly.
// `warp_size` is the device's (32 or 64).
void matvec(const DeviceMatrix& w, const QuantizedActs& acts, const float* x, int n_tokens, float* y,
            int warp_size, gpuStream_t stream);
// The same over a set (all matrices of one type and width), with the given epilogue; `in.norm`
// scales the products, `group` (one-matrix sets only) adds the grouped output above.
void matvec_set(const MatvecSet& set, MatvecEpilogue epilogue, const MatvecInput& in, int n_tokens, int warp_size,
                gpuStream_t stream, const GroupOutput* group = nullptr);

}  // namespace rf::gpu
