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
    // y += W x, then the next block's RMSNorm input from y (MatvecInput::norm_out): one matrix
    // whose rows are a multiple of 32; each thread block computes 32 consecutive rows.
    kAccumulateRmsNorm,
};

// What kAccumulateRmsNorm writes besides y [n_tokens][n_rows]: y * weight quantized per 32 rows
// (not yet divided by rms(y)), the same as floats, and per 32 rows the sum of y^2. The mat-vec
// reading this input (PendingRmsNorm) finishes the norm.
struct RmsNormOutput {
    const float* weight = nullptr;  // [n_rows] the next block's norm weight
    QuantizedActs acts;             // [n_tokens] rows of y * weight
    float* xw = nullptr;            // [n_tokens][n_rows] y * weight
    float* partials = nullptr;      // [n_tokens][n_rows / 32] sum of y^2 over rows 32i..32i+31
};

// An input x * w still to be divided by rms(x) (written by kAccumulateRmsNorm): the mat-vec sums
// the partials of each token, scales its dot products by 1 / rms, and writes the normalised rows
// to `out` (so they exist for any later reader). n_partials <= 4 * warp size, a multiple of 4.
struct PendingRmsNorm {
    const float* partials = nullptr;  // nullptr: the input is already normalised
    int n_partials = 0;               // n_cols / 32
    float eps = 0.0f;
    float* out = nullptr;  // [n_tokens][n_cols] normalised rows: MatvecInput::x / rms
};

// The input: quantized activations for integer kernels, float rows for F16 weights.
struct MatvecInput {
    QuantizedActs acts;
    const float* x = nullptr;
    PendingRmsNorm pending;  // for kStore and kSwiglu
    RmsNormOutput norm_out;  // for kAccumulateRmsNorm
};

// Rows of each kAccumulateRmsNorm thread block, and the most partial sums per token a mat-vec
// can finish (four per lane: each lane loads one float4 of them).
inline constexpr int kRmsNormBlockRows = 32;
inline int max_pending_partials(int warp_size) { return 4 * warp_size; }

// y [n_tokens][n_rows] = x [n_tokens][n_cols] @ W^T for 1 <= n_tokens <= kMaxMatvecTokens.
// Quantized types read `acts` (quantize_acts of x); F16 reads the float rows `x` directly.
// `warp_size` is the device's (32 or 64).
void matvec(const DeviceMatrix& w, const QuantizedActs& acts, const float* x, int n_tokens, float* y,
            int warp_size, gpuStream_t stream);
// The same over a set (all matrices of one type and width), with the given epilogue.
void matvec_set(const MatvecSet& set, MatvecEpilogue epilogue, const QuantizedActs& acts, const float* x,
                int n_tokens, int warp_size, gpuStream_t stream);
// The general form: `in` may carry a pending norm (kStore, kSwiglu) or a norm output
// (kAccumulateRmsNorm).
void matvec_set(const MatvecSet& set, MatvecEpilogue epilogue, const MatvecInput& in, int n_tokens, int warp_size,
                gpuStream_t stream);
// Whether the kAccumulateRmsNorm kernel for `type` and n_tokens keeps everything in registers (its
// 32-row blocks are capped at 128 a thread; where it spills, folding the norm loses on an H100).
bool rms_norm_output_in_registers(quant::GgmlType type, int n_tokens);

}  // namespace rf::gpu
