// Weight matrices in GPU memory, repacked at upload so every quant field is 16-byte aligned.
// Host-only header (no GPU toolkit needed): the repacking runs on the CPU and is tested there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "quant/types.h"

namespace rf::gpu {

// Per-type GPU layout. All rows are padded to a multiple of 16 bytes, and so are the rows of
// `scales`, whose entries are fp16 unless noted (nb = blocks per row):
//   Q4_0:   qs [nb][16 B] (the block's nibbles)                  scales [nb] d
//   Q8_0:   qs [nb][32 B] (int8 values)                          scales [nb] d
//   Q4_K:   qs [nb][144 B] (native blocks: 144 = 9 x 16)         no scales array
//   Q5_K:   qs [nb][176 B] (native blocks: d, dmin, scales | qh[32] | qs[128])
//   Q6_K:   qs [nb][208 B] (ql 128 | qh 64 | scales 16)          scales [nb] d
//   F16:    qs [n_rows][n_cols] fp16                             no scales array
//   IQ4_NL: qs [nb][16 B] (nibbles, as Q4_0)                     scales [nb] d
//   Q4_1:   qs [nb][16 B] (nibbles)                              scales [nb][2] {d, m}
//   Q5_0:   qs [nb / 4][80 B]: groups of 4 blocks, the 4 x 16 B of nibbles then their 4 x 4 B of
//           fifth bits (qh, a little-endian u32 each); a partial last group is zero-padded
//                                                                scales [nb] d
//   Q5_1:   qs as Q5_0                                           scales [nb][2] {d, m}
//   MXFP4:  qs [nb][16 B] (nibbles)                              scales: one E8M0 byte per block,
//                                                                block b at byte b of the row
//   IQ4_XS: qs [nb][128 B] (the native qs)                       scales [nb][4] {d, scales_h,
//                                                                scales_l[4] as bytes}
//   Q2_K:   qs [nb][80 B] (native qs[64] | scales[16])           scales [nb][2] {d, dmin}
//   Q3_K:   qs [nb][112 B] (the native 110-byte block: hmask 32 | qs 64 | scales 12 | d, then
//           2 bytes of padding)                                  no scales array
// Nibble blocks keep the GGUF order: byte j holds element j (low nibble) and j + 16 (high).
struct PackedMatrix {
    quant::GgmlType type = quant::GgmlType::kF32;
    int64_t n_rows = 0;
    int64_t n_cols = 0;
    size_t qs_row_bytes = 0;     // stride of one row in `qs`
    size_t scale_row_count = 0;  // uint16 entries per row in `scales` (0 when none)
    std::vector<uint8_t> qs;
    std::vector<uint16_t> scales;
};

// True for types the GPU mat-vec kernels read directly.
bool gpu_supports_type(quant::GgmlType type);

// Repacks `n_rows` GGUF rows of `n_cols` elements (row stride = the type's row bytes).
Result<PackedMatrix> pack_matrix(quant::GgmlType type, const void* gguf_rows, int64_t n_rows, int64_t n_cols);

// Bytes one row of `type` with n_cols columns takes on the GPU once packed (quants and scales,
// padding included; Q3_K, for one, is larger than its GGUF row); 0 when the type or width has no
// GPU layout.
size_t packed_row_bytes(quant::GgmlType type, int64_t n_cols);

}  // namespace rf::gpu
