// The packed-8 weight layouts of pack_weights(): per block (or super-block), the fields of 8
// consecutive rows are interleaved so a kernel loads one field of all 8 rows at once. A group of
// 8 rows has exactly the bytes of the 8 rows it replaces.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/types.h"

namespace rf::cpu {

// One field of a block, interleaved over the 8 rows: the row's `bytes` bytes at `src_offset`
// (within the row's block) are cut into pieces of `piece` bytes, and piece i of row r goes to
// byte (i * 8 + r) * piece of the field's 8 * bytes packed bytes.
struct PackedField {
    int src_offset;
    int bytes;
    int piece;
};

// Layouts (fields in packed order; "f16 d[8]" = field d of rows 0..7):
//   Q4_0: f16 d[8] | qs in 4 chunks of 32 B: chunk c holds qs[4c .. 4c+3] of rows 0..7
//   Q8_0: f16 d[8] | qs in 8 groups of 32 B: group g holds qs[4g .. 4g+3] of rows 0..7
//   Q4_K: f16 d[8] | f16 dmin[8] | scales in 3 planes of 32 B (bytes 4i .. 4i+3 of each row)
//         | qs in 32 pieces of 32 B: piece 8j + g holds qs[32j + 4g .. +3] of rows 0..7
//   Q6_K: f16 d[8] | int8 scales[16][8] (sub-block, row) | ql in 32 pieces of 32 B (ql[4i..])
//         | qh in 16 pieces of 32 B (qh[4i..])
struct PackedFormat {
    int block_size;   // elements per block
    int block_bytes;  // bytes of one row's block in GGUF
    int n_fields;
    PackedField fields[4];
};

// The packed layout of `type`, or nullptr when it has none.
const PackedFormat* packed_format(quant::GgmlType type);

// Packs (or unpacks) one group of 8 rows of n_cols columns.
void pack_group(const PackedFormat& f, const uint8_t* const* rows, int64_t n_cols, uint8_t* dst);
void unpack_group(const PackedFormat& f, const uint8_t* src, int64_t n_cols, uint8_t* const* rows);

}  // namespace rf::cpu
