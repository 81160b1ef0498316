// pack_weights(): the packed-8 layouts of vec_dot_packed.h, written and read back with one
// table of fields per type.
#include <cstring>

#include "backend/cpu/matmul.h"
#include "backend/cpu/vec_dot_packed.h"
#include "core/check.h"

namespace rf::cpu {
namespace {

using quant::GgmlType;

constexpr PackedFormat kQ4_0 = {32, 18, 2, {{0, 2, 2}, {2, 16, 4}}};
constexpr PackedFormat kQ8_0 = {32, 34, 2, {{0, 2, 2}, {2, 32, 4}}};
constexpr PackedFormat kQ4_K = {256, 144, 4, {{0, 2, 2}, {2, 2, 2}, {4, 12, 4}, {16, 128, 4}}};
constexpr PackedFormat kQ6_K = {
    256, 210, 4, {{208, 2, 2}, {192, 16, 1}, {0, 128, 4}, {128, 64, 4}}};

// Calls copy(packed_offset, row_offset, bytes) for every piece of row r's block.
template <typename Copy>
void for_each_piece(const PackedFormat& f, int r, Copy copy) {
    int field = 0;
    for (int k = 0; k < f.n_fields; ++k) {
        const PackedField& pf = f.fields[k];
        for (int i = 0; i < pf.bytes / pf.piece; ++i) {
            copy(field + (i * 8 + r) * pf.piece, pf.src_offset + i * pf.piece,
                 static_cast<size_t>(pf.piece));
        }
        field += 8 * pf.bytes;
    }
}

}  // namespace

const PackedFormat* packed_format(GgmlType type) {
    switch (type) {
        case GgmlType::kQ4_0:
            return &kQ4_0;
        case GgmlType::kQ8_0:
            return &kQ8_0;
        case GgmlType::kQ4_K:
            return &kQ4_K;
        case GgmlType::kQ6_K:
            return &kQ6_K;
        default:
            return nullptr;
    }
}

void pack_group(const PackedFormat& f, const uint8_t* const* rows, int64_t n_cols, uint8_t* dst) {
    for (int64_t b = 0; b < n_cols / f.block_size; ++b) {
        uint8_t* packed = dst + b * 8 * f.block_bytes;
        for (int r = 0; r < 8; ++r) {
            const uint8_t* row = rows[r] + b * f.block_bytes;
            for_each_piece(f, r,
                           [&](int p, int o, size_t n) { std::memcpy(packed + p, row + o, n); });
        }
    }
}

void unpack_group(const PackedFormat& f, const uint8_t* src, int64_t n_cols, uint8_t* const* rows) {
    for (int64_t b = 0; b < n_cols / f.block_size; ++b) {
        const uint8_t* packed = src + b * 8 * f.block_bytes;
        for (int r = 0; r < 8; ++r) {
            uint8_t* row = rows[r] + b * f.block_bytes;
            for_each_piece(f, r,
                           [&](int p, int o, size_t n) { std::memcpy(row + o, packed + p, n); });
        }
    }
}

bool can_pack_weights(GgmlType type) {
    return packed_format(type) != nullptr;
}

MatrixView pack_weights(const MatrixView& w, void* dst, ThreadPool& pool) {
    const PackedFormat* f = packed_format(w.type);
    RF_CHECK_MSG(f != nullptr && w.layout == WeightLayout::kRows,
                 "pack_weights: type has no packed layout");
    const size_t row_bytes = quant::row_bytes(w.type, static_cast<size_t>(w.n_cols));
    RF_CHECK(w.row_stride_bytes >= row_bytes && w.n_cols % quant::traits(w.type).block_size == 0);
    const auto* src = static_cast<const uint8_t*>(w.data);
    auto* out = static_cast<uint8_t*>(dst);
    const int64_t n_groups = w.n_rows / 8;
    pool.parallel_for(n_groups, 4, [&](int64_t begin, int64_t end, int) {
        for (int64_t g = begin; g < end; ++g) {
            const uint8_t* rows[8];
            for (int r = 0; r < 8; ++r) rows[r] = src + (g * 8 + r) * w.row_stride_bytes;
            pack_group(*f, rows, w.n_cols, out + g * 8 * row_bytes);
        }
    });
    for (int64_t r = n_groups * 8; r < w.n_rows; ++r) {
        std::memcpy(out + r * row_bytes, src + r * w.row_stride_bytes, row_bytes);
    }
    MatrixView packed = w;
    packed.data = dst;
    packed.row_stride_bytes = row_bytes;
    packed.layout = WeightLayout::kPacked8;
    return packed;
}

}  // namespace rf::cpu
