// Tensor: a typed view of memory owned by a Backend (host RAM for the CPU, device memory for GPUs).
// Models hold these handles and pass them to Backend ops; they never dereference `data`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "quant/types.h"

namespace rf::engine {

// Up to 3 dimensions, ne[0] fastest (GGUF order): a weight W (n_in, n_out) has ne = {n_in, n_out};
// activations are row-major [n_tokens][width] with ne = {width, n_tokens}; expert weights add
// ne[2] = n_expert. Rows are `row_bytes` apart; matrices of a 3-D tensor are `matrix_bytes` apart.
struct Tensor {
    quant::GgmlType type = quant::GgmlType::kF32;
    std::array<int64_t, 3> ne = {0, 1, 1};
    size_t row_bytes = 0;
    size_t matrix_bytes = 0;
    void* data = nullptr;
    uint8_t layout = 0;  // backend-specific arrangement of a weight's bytes (0: GGUF rows)

    bool empty() const { return data == nullptr; }
    int64_t n_rows() const { return ne[1] * ne[2]; }
    int64_t n_elements() const { return ne[0] * ne[1] * ne[2]; }

    // A view of the first `n` rows of a 2-D tensor (activations sized for the largest batch).
    Tensor first_rows(int64_t n) const {
        Tensor t = *this;
        t.ne[1] = n;
        return t;
    }
    // A view reinterpreting a contiguous F32 2-D tensor with a different row width, e.g.
    // q [n_head * head_dim, n_tokens] as [head_dim, n_head * n_tokens] for per-head norms.
    Tensor reshaped(int64_t ne0, int64_t ne1) const {
        Tensor t = *this;
        t.ne = {ne0, ne1, 1};
        t.row_bytes = row_bytes / static_cast<size_t>(ne[0]) * static_cast<size_t>(ne0);
        t.matrix_bytes = t.row_bytes * static_cast<size_t>(ne1);
        return t;
    }
};

// How a model uses a weight, so a backend may pick a layout: only kMatmul weights are ever
// passed to Backend::matmul / moe_ffn alone; kEmbedding tables are read by get_rows (and by
// matmul too when the LM head is tied to them).
enum class WeightUse : uint8_t { kMatmul, kEmbedding, kVector };

// Host bytes of a weight to place on a backend (a GGUF tensor inside the mapped file).
// `bytes` stays valid for the model's lifetime, so a host backend may keep a zero-copy view.
struct WeightSource {
    quant::GgmlType type = quant::GgmlType::kF32;
    std::array<int64_t, 3> ne = {0, 1, 1};
    std::span<const uint8_t> bytes;
    WeightUse use = WeightUse::kMatmul;
};

}  // namespace rf::engine
