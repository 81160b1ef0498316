// CPU-side repacking of GGUF weight rows into the GPU layouts described in gpu_matrix.h.
#include "backend/gpu/gpu_matrix.h"

#include <cstring>

#include "quant/blocks.h"

namespace rf::gpu {
namespace {

size_t round_up(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// Splits blocks of type Block into `quant_bytes` of payload (copied by `copy_quants`) and an fp16 scale.
template <typename Block, typename CopyQuants>
PackedMatrix pack_blocks(quant::GgmlType type, const void* rows, int64_t n_rows, int64_t n_cols,
                         size_t quant_bytes, CopyQuants copy_quants) {
    const int64_t nb = n_cols / quant::traits(type).block_size;
    PackedMatrix m;
    m.type = type;
    m.n_rows = n_rows;
    m.n_cols = n_cols;
    m.qs_row_bytes = round_up(static_cast<size_t>(nb) * quant_bytes, 16);
    m.scale_row_count = round_up(static_cast<size_t>(nb), 8);
    m.qs.assign(m.qs_row_bytes * static_cast<size_t>(n_rows), 0);
    m.scales.assign(m.scale_row_count * static_cast<size_t>(n_rows), 0);
    const auto* blocks = static_cast<const Block*>(rows);
    for (int64_t r = 0; r < n_rows; ++r) {
        for (int64_t b = 0; b < nb; ++b) {
            const Block& block = blocks[r * nb + b];
            copy_quants(block, m.qs.data() + r * m.qs_row_bytes + b * quant_bytes);
            m.scales[r * m.scale_row_count + b] = block.d;
        }
    }
    return m;
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
    switch (type) {
        case GgmlType::kQ4_0:
            return pack_blocks<quant::BlockQ4_0>(type, gguf_rows, n_rows, n_cols, 16,
                [](const quant::BlockQ4_0& b, uint8_t* out) { std::memcpy(out, b.qs, 16); });
        case GgmlType::kQ8_0:
            return pack_blocks<quant::BlockQ8_0>(type, gguf_rows, n_rows, n_cols, 32,
                [](const quant::BlockQ8_0& b, uint8_t* out) { std::memcpy(out, b.qs, 32); });
        case GgmlType::kQ6_K:
            return pack_blocks<quant::BlockQ6_K>(type, gguf_rows, n_rows, n_cols, 208,
                [](const quant::BlockQ6_K& b, uint8_t* out) {
                    std::memcpy(out, b.ql, 128);
                    std::memcpy(out + 128, b.qh, 64);
                    std::memcpy(out + 192, b.scales, 16);
                });
        case GgmlType::kQ4_K:
        case GgmlType::kQ5_K:
        case GgmlType::kF16:
        case GgmlType::kQ4_1:
        case GgmlType::kQ5_0:
        case GgmlType::kQ5_1:
        case GgmlType::kMXFP4:
        case GgmlType::kQ2_K:
        case GgmlType::kQ3_K:
        case GgmlType::kIQ4_NL:
        case GgmlType::kIQ4_XS:
            return pack_plain(type, gguf_rows, n_rows, n_cols);
        default:
            break;
    }
    return error("unreachable: GPU type {}", quant::traits(type).name);
}

}  // namespace rf::gpu
