// CPU-side repacking of GGUF weight rows into the GPU layouts described in gpu_matrix.h.
#include "backend/gpu/gpu_matrix.h"

#include <cstring>

#include "quant/blocks.h"

namespace rf::gpu {
namespace {

size_t round_up(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// Unpadded bytes of one packed row: its quants in `qs` and its scale fields in `scales`.
struct RowBytes {
    size_t qs;
    size_t scales;
};

// Repacks GGUF blocks of type Block: `store(block, b, row_qs, row_scales)` writes block b of a row
// into that row's quant bytes and scale bytes (gpu_matrix.h). Both rows are padded to 16 bytes.
template <typename Block, typename Store>
PackedMatrix pack_blocks(quant::GgmlType type, const void* rows, int64_t n_rows, int64_t n_cols, RowBytes bytes,
                         Store store) {
    const int64_t nb = n_cols / quant::traits(type).block_size;
    PackedMatrix m;
    m.type = type;
    m.n_rows = n_rows;
    m.n_cols = n_cols;
    m.qs_row_bytes = round_up(bytes.qs, 16);
    m.scale_row_count = round_up(bytes.scales, 16) / 2;
    m.qs.assign(m.qs_row_bytes * static_cast<size_t>(n_rows), 0);
    m.scales.assign(m.scale_row_count * static_cast<size_t>(n_rows), 0);
    auto* scale_bytes = reinterpret_cast<uint8_t*>(m.scales.data());
    const auto* blocks = static_cast<const Block*>(rows);
    for (int64_t r = 0; r < n_rows; ++r) {
        uint8_t* row_qs = m.qs.data() + r * m.qs_row_bytes;
        uint8_t* row_scales = scale_bytes + r * m.scale_row_count * 2;
        for (int64_t b = 0; b < nb; ++b) store(blocks[r * nb + b], b, row_qs, row_scales);
    }
    return m;
}

// Stores shared by several layouts (gpu_matrix.h), for any block type with these fields.
// Block b's 16 nibble bytes at 16b (Q4_0, Q4_1, IQ4_NL, MXFP4).
template <typename Block>
void store_nibbles(const Block& blk, int64_t b, uint8_t* qs) {
    std::memcpy(qs + 16 * b, blk.qs, 16);
}
// Block b's nibbles and fifth bits in its group of four (Q5_0, Q5_1).
template <typename Block>
void store_q5_group(const Block& blk, int64_t b, uint8_t* qs) {
    uint8_t* group = qs + (b / 4) * 80;
    std::memcpy(group + 16 * (b % 4), blk.qs, 16);
    std::memcpy(group + 64 + 4 * (b % 4), blk.qh, 4);
}
// fp16 d as scale word b (Q4_0, Q8_0, Q6_K, IQ4_NL, Q5_0).
template <typename Block>
void store_d(const Block& blk, int64_t b, uint8_t* sc) {
    std::memcpy(sc + 2 * b, &blk.d, 2);
}
// {d, m} as scale bytes 4b..4b+3 (Q4_1, Q5_1).
template <typename Block>
void store_d_m(const Block& blk, int64_t b, uint8_t* sc) {
    std::memcpy(sc + 4 * b, &blk.d, 2);
    std::memcpy(sc + 4 * b + 2, &blk.m, 2);
}

// Types whose blocks are already 16-byte multiples are copied row by row.
PackedMatrix pack_plain(quant::GgmlType type, const void* rows, int64_t n_rows, int64_t n_cols) {
    const size_t row_bytes = quant::row_bytes(type, static_cast<size_t>(n_cols));
    PackedMatrix m;
    m.type = type;
    m.n_rows = n_rows;
    m.n_cols = n_cols;
    m.qs_row_bytes = round_up(row_bytes, 16);
    m.qs.assign(m.qs_row_bytes * static_cast<size_t>(n_rows), 0);
    for (int64_t r = 0; r < n_rows; ++r) {
        std::memcpy(m.qs.data() + r * m.qs_row_bytes, static_cast<const uint8_t*>(rows) + r * row_bytes, row_bytes);
    }
    return m;
}

}  // namespace

bool gpu_supports_type(quant::GgmlType type) {
    using quant::GgmlType;
    switch (type) {
        case GgmlType::kQ4_0:
        case GgmlType::kQ8_0:
        case GgmlType::kQ4_K:
        case GgmlType::kQ5_K:
        case GgmlType::kQ6_K:
        case GgmlType::kF16:
        case GgmlType::kQ4_1:
        case GgmlType::kQ5_0:
        case GgmlType::kQ5_1:
        case GgmlType::kMXFP4:
        case GgmlType::kQ2_K:
        case GgmlType::kQ3_K:
        case GgmlType::kIQ4_NL:
        case GgmlType::kIQ4_XS:
            return true;
        default:
            return false;
    }
}

Result<PackedMatrix> pack_matrix(quant::GgmlType type, const void* gguf_rows, int64_t n_rows, int64_t n_cols) {
    using quant::GgmlType;
    if (!gpu_supports_type(type)) {
        return error("GPU mat-vec has no kernel for type {}", quant::traits(type).name);
    }
    if (n_cols % quant::traits(type).block_size != 0 || n_cols % 32 != 0) {
        return error("GPU mat-vec needs rows of a multiple of 32 elements, got {}", n_cols);
    }
    const size_t nb = static_cast<size_t>(n_cols / quant::traits(type).block_size);
    switch (type) {
        case GgmlType::kQ4_0:
            return pack_blocks<quant::BlockQ4_0>(type, gguf_rows, n_rows, n_cols, {nb * 16, nb * 2},
                [](const quant::BlockQ4_0& blk, int64_t b, uint8_t* qs, uint8_t* sc) {
                    store_nibbles(blk, b, qs);
                    store_d(blk, b, sc);
                });
        case GgmlType::kQ8_0:
            return pack_blocks<quant::BlockQ8_0>(type, gguf_rows, n_rows, n_cols, {nb * 32, nb * 2},
                [](const quant::BlockQ8_0& blk, int64_t b, uint8_t* qs, uint8_t* sc) {
                    std::memcpy(qs + 32 * b, blk.qs, 32);
                    store_d(blk, b, sc);
                });
        case GgmlType::kQ6_K:
            return pack_blocks<quant::BlockQ6_K>(type, gguf_rows, n_rows, n_cols, {nb * 208, nb * 2},
                [](const quant::BlockQ6_K& blk, int64_t b, uint8_t* qs, uint8_t* sc) {
                    std::memcpy(qs + 208 * b, blk.ql, 128);
                    std::memcpy(qs + 208 * b + 128, blk.qh, 64);
                    std::memcpy(qs + 208 * b + 192, blk.scales, 16);
                    store_d(blk, b, sc);
                });
        case GgmlType::kIQ4_NL:
            return pack_blocks<quant::BlockIQ4_NL>(type, gguf_rows, n_rows, n_cols, {nb * 16, nb * 2},
                [](const quant::BlockIQ4_NL& blk, int64_t b, uint8_t* qs, uint8_t* sc) {
                    store_nibbles(blk, b, qs);
                    store_d(blk, b, sc);
                });
        case GgmlType::kQ4_1:
            return pack_blocks<quant::BlockQ4_1>(type, gguf_rows, n_rows, n_cols, {nb * 16, nb * 4},
                [](const quant::BlockQ4_1& blk, int64_t b, uint8_t* qs, uint8_t* sc) {
                    store_nibbles(blk, b, qs);
                    store_d_m(blk, b, sc);
                });
        case GgmlType::kQ5_0:
            return pack_blocks<quant::BlockQ5_0>(type, gguf_rows, n_rows, n_cols, {(nb + 3) / 4 * 80, nb * 2},
                [](const quant::BlockQ5_0& blk, int64_t b, uint8_t* qs, uint8_t* sc) {
                    store_q5_group(blk, b, qs);
                    store_d(blk, b, sc);
                });
        case GgmlType::kQ5_1:
            return pack_blocks<quant::BlockQ5_1>(type, gguf_rows, n_rows, n_cols, {(nb + 3) / 4 * 80, nb * 4},
                [](const quant::BlockQ5_1& blk, int64_t b, uint8_t* qs, uint8_t* sc) {
                    store_q5_group(blk, b, qs);
                    store_d_m(blk, b, sc);
                });
        case GgmlType::kMXFP4:
            return pack_blocks<quant::BlockMXFP4>(type, gguf_rows, n_rows, n_cols, {nb * 16, nb},
                [](const quant::BlockMXFP4& blk, int64_t b, uint8_t* qs, uint8_t* sc) {
                    store_nibbles(blk, b, qs);
                    sc[b] = blk.e;
                });
        case GgmlType::kIQ4_XS:
            return pack_blocks<quant::BlockIQ4_XS>(type, gguf_rows, n_rows, n_cols, {nb * 128, nb * 8},
                [](const quant::BlockIQ4_XS& blk, int64_t b, uint8_t* qs, uint8_t* sc) {
                    std::memcpy(qs + 128 * b, blk.qs, 128);
                    std::memcpy(sc + 8 * b, &blk.d, 2);
                    std::memcpy(sc + 8 * b + 2, &blk.scales_h, 2);
                    std::memcpy(sc + 8 * b + 4, blk.scales_l, 4);
                });
        case GgmlType::kQ2_K:
            return pack_blocks<quant::BlockQ2_K>(type, gguf_rows, n_rows, n_cols, {nb * 80, nb * 4},
                [](const quant::BlockQ2_K& blk, int64_t b, uint8_t* qs, uint8_t* sc) {
                    std::memcpy(qs + 80 * b, blk.qs, 64);
                    std::memcpy(qs + 80 * b + 64, blk.scales, 16);
                    std::memcpy(sc + 4 * b, &blk.d, 2);
                    std::memcpy(sc + 4 * b + 2, &blk.dmin, 2);
                });
        case GgmlType::kQ3_K:
            return pack_blocks<quant::BlockQ3_K>(type, gguf_rows, n_rows, n_cols, {nb * 112, 0},
                [](const quant::BlockQ3_K& blk, int64_t b, uint8_t* qs, uint8_t*) {
                    std::memcpy(qs + 112 * b, &blk, sizeof(blk));  // 110 bytes, then 2 bytes of padding
                });
        case GgmlType::kQ4_K:
        case GgmlType::kQ5_K:
        case GgmlType::kF16:
            return pack_plain(type, gguf_rows, n_rows, n_cols);
        default:
            break;
    }
    return error("unreachable: GPU type {}", quant::traits(type).name);
}

size_t packed_row_bytes(quant::GgmlType type, int64_t n_cols) {
    // Packing one zero row is exact by construction and cheap (one row of one matrix).
    const std::vector<uint8_t> zero_row(quant::row_bytes(type, static_cast<size_t>(n_cols)), 0);
    Result<PackedMatrix> packed = pack_matrix(type, zero_row.data(), 1, n_cols);
    if (!packed.is_ok()) return 0;
    return packed->qs.size() + packed->scales.size() * sizeof(uint16_t);
}

}  // namespace rf::gpu
