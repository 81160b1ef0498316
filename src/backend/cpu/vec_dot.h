// Internal contract between the matmul driver and the per-ISA kernels: activation formats,
// the tile-kernel signature and the per-type dispatch table each instruction set fills in.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/cpu/matmul.h"
#include "core/platform.h"
#include "quant/types.h"

namespace rf::cpu {

// Instruction-set levels with their own kernel table. Each level is a complete table: slots it
// does not implement are copied from the generic (scalar) table.
enum class Isa {
    kGeneric,  // portable C++; also the oracle-near path tests force
    kAvx2,     // AVX2 + FMA + F16C
    kAvxVnni,  // kAvx2 + the VEX-encoded VNNI dot products (256-bit)
    kAvx512,   // AVX-512 F/BW/VL/DQ + VNNI (kernels stay 256-bit wide, EVEX-encoded)
    kNeon,     // AArch64 Advanced SIMD
};
const char* isa_name(Isa isa);

// Activation formats the driver quantizes x into, once per call. One token occupies
// act_row_bytes(format, n_cols) bytes (a multiple of 64), laid out as:
//   kF32  : float x[n_cols]
//   kQ8_32: int8 qs[n_cols] | float d[nb] | float s[nb] | int16 sum[nb]      nb = n_cols / 32
//           x ~ d * qs per 32-block; sum = sum(qs of block); s = d * sum.
//           Partner of Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 IQ4_NL MXFP4 (Q8_0 / Q8_1 semantics in one).
//   kQ8_K : int8 qs[n_cols] | float d[nb] | int16 bsums[n_cols / 16]        nb = n_cols / 256
//           x ~ d * qs per 256-block; bsums = sums of 16 consecutive qs.
//           Partner of Q2_K..Q6_K and IQ4_XS.
enum class ActFormat { kF32, kQ8_32, kQ8_K };
size_t act_row_bytes(ActFormat format, int64_t n_cols);

// Views of one token's activation row in the formats above.
struct ActQ8_32 {
    const int8_t* qs;
    const float* d;
    const float* s;
    const int16_t* sum;
};
struct ActQ8_K {
    const int8_t* qs;
    const float* d;
    const int16_t* bsums;
};
// Always inlined: ISA-specific files call these and must not emit shared out-of-line copies.
RF_ALWAYS_INLINE ActQ8_32 view_q8_32(const uint8_t* row, int64_t n_cols) {
    const int64_t nb = n_cols / 32;
    const float* d = reinterpret_cast<const float*>(row + n_cols);
    return {reinterpret_cast<const int8_t*>(row), d, d + nb,
            reinterpret_cast<const int16_t*>(d + 2 * nb)};
}
RF_ALWAYS_INLINE ActQ8_K view_q8_k(const uint8_t* row, int64_t n_cols) {
    const float* d = reinterpret_cast<const float*>(row + n_cols);
    return {reinterpret_cast<const int8_t*>(row), d,
            reinterpret_cast<const int16_t*>(d + n_cols / 256)};
}

// The activation format a type's native kernel consumes; kF32 for float weights and for types
// that go through dequantize-to-tile.
ActFormat act_format(quant::GgmlType type);

// One rectangle of the output: y[t * y_stride + r] (+)= dot(weight row r, activation row t)
// for r < n_rows, t < n_tokens. Kernels walk it in register tiles of rows x tokens, so each
// weight block is loaded once per tile of tokens.
struct GemmArgs {
    const uint8_t* w = nullptr;  // first weight row (or float tile row)
    size_t w_stride = 0;         // bytes between weight rows
    const uint8_t* x = nullptr;  // first token's activation row
    size_t x_stride = 0;         // bytes between activation rows
    float* y = nullptr;
    int64_t y_stride = 0;  // floats between output rows of consecutive tokens
    int64_t n_cols = 0;    // reduction length, a multiple of the type's block size
    int n_rows = 0;
    int n_tokens = 0;
    bool accumulate = false;  // add to y instead of overwriting (dequantize-to-tile chunks)
    // Per-thread scratch of gemm_scratch_bytes(n_cols) bytes, 64-byte aligned: kernels repack a
    // group of weight rows there to reuse it across many tokens (prefill).
    uint8_t* scratch = nullptr;
};

// Scratch a GemmKernel may use: a repacked group of 8 rows (up to two bytes per element plus two
// floats per row per 16 elements: values, sign copy, scales, mins) or a float panel of 16 rows x
// 256 columns (kGemmPanelBytes) at offset 0, and 8 rows in GGUF layout (at most 8.5 bytes per
// column) at gemm_scratch_rows_offset.
inline constexpr size_t kGemmPanelBytes = 16 * 256 * sizeof(float);
inline size_t gemm_scratch_rows_offset(int64_t n_cols) {
    const size_t repacked = static_cast<size_t>(n_cols) * 24 + 1024;
    return repacked > kGemmPanelBytes ? repacked : kGemmPanelBytes;
}
inline size_t gemm_scratch_bytes(int64_t n_cols) {
    return gemm_scratch_rows_offset(n_cols) + static_cast<size_t>(n_cols) * 9 + 1024;
}
using GemmKernel = void (*)(const GemmArgs& args);

// Quantizes one token row of n_cols floats into `dst` (act_row_bytes of the format).
using QuantizeActFn = void (*)(const float* x, int64_t n_cols, uint8_t* dst);

inline constexpr int kTypeSlots = 40;  // GGUF type ids are < 40

struct KernelTable {
    Isa isa = Isa::kGeneric;
    GemmKernel gemm[kTypeSlots] = {};  // by type id; null: no native path (use the tile path)
    // Packed-8 weights (vec_dot_packed.h): w is the first group, w_stride one row's bytes (a
    // group spans 8 of them), n_rows a multiple of 8. Null: the driver unpacks groups to rows.
    GemmKernel gemm_packed[kTypeSlots] = {};
    QuantizeActFn quantize_q8_32 = nullptr;
    QuantizeActFn quantize_q8_k = nullptr;
};

// The table of one ISA, or nullptr when it is not compiled into this build or the CPU lacks it.
const KernelTable* kernel_table(Isa isa);
// The best table for this CPU.
const KernelTable& best_kernel_table();

// matmul() with an explicit kernel table (tests force the generic path; benchmarks compare).
void matmul_with(const KernelTable& table, const MatrixView& w, const float* x, int64_t n_tokens,
                 float* y, ThreadPool& pool);

// Per-ISA tables (defined in kernels_*.cpp; each may only be called when the CPU supports it).
const KernelTable& generic_kernel_table();
const KernelTable& avx2_kernel_table();
const KernelTable& avxvnni_kernel_table();
const KernelTable& avx512_kernel_table();
const KernelTable& neon_kernel_table();

// Scalar activation quantizers (quantize_act.cpp), shared by the generic table.
void quantize_act_q8_32_generic(const float* x, int64_t n_cols, uint8_t* dst);
void quantize_act_q8_k_generic(const float* x, int64_t n_cols, uint8_t* dst);

}  // namespace rf::cpu
