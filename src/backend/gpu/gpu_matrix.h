// Weight matrices in GPU memory, repacked at upload so every quant field is 16-byte aligned.
// Host-only header (no GPU toolkit needed): the repacking runs on the CPU and is tested there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "quant/types.h"

namespace rf::gpu {

// Per-type GPU layout. All rows are padded to a multiple of 16 bytes.
//   Q4_0: qs [n_rows][nb][16 B]  (the block's nibbles)   scales [n_rows][nb] fp16 d
//   Q8_0: qs [n_rows][nb][32 B]  (int8 values)           scales [n_rows][nb] fp16 d
//   Q4_K: qs [n_rows][nb][144 B] (native blocks: 144 = 9 x 16)   no scales array
//   Q5_K: qs [n_rows][nb][176 B] (native blocks: d, dmin, scales | qh[32] | qs[128])
//   Q6_K: qs [n_rows][nb][208 B] (ql 128 | qh 64 | scales 16)   scales [n_rows][nb] fp16 d
//   F16 : qs [n_rows][n_cols] fp16                              no scales array
//   Q4_1, Q5_0, Q5_1, MXFP4, Q2_K, Q3_K, IQ4_NL, IQ4_XS: the native GGUF blocks, rows padded to 16 bytes (read
//   byte by byte: dequantized per 32-element chunk, no int8 kernel)
// nb = blocks per row; scale rows are padded to a multiple of 8 entries (16 B).
struct PackedMatrix {
    quant::GgmlType type = quant::GgmlType::kF32;
    int64_t n_rows = 0;
    int64_t n_cols = 0;
    size_t qs_row_bytes = 0;     // stride of one row in `qs`
    size_t scale_row_count = 0;  // fp16 entries per row in `scales` (0 when none)
    std::vector<uint8_t> qs;
    std::vector<uint16_t> scales;
};

// True for types the GPU mat-vec kernels read directly.
bool gpu_supports_type(quant::GgmlType type);

// Repacks `n_rows` GGUF rows of `n_cols` elements (row stride = the type's row bytes).
Result<PackedMatrix> pack_matrix(quant::GgmlType type, const void* gguf_rows, int64_t n_rows, int64_t n_cols);

}  // namespace rf::gpu
