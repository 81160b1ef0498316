// Mixture-of-experts on the CPU: softmax top-k routing and the routed SwiGLU expert FFN, with
// each expert's tokens gathered so its weights are read once per step.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/cpu/matmul.h"
#include "core/thread_pool.h"

namespace rf::cpu {

// For each of n_tokens rows of router logits [n_expert]: the k experts of highest probability
// (ids_out [n_tokens][k], most probable first) and their softmax probabilities (weights_out),
// renormalised to sum to 1 when `normalize`.
void moe_route(const float* logits, int64_t n_expert, int64_t n_tokens, int32_t k, bool normalize,
               int32_t* ids_out, float* weights_out);

// Expert e of a 3-D GGUF tensor (ne0, ne1, n_expert) as a matrix view.
struct ExpertTensor {
    quant::GgmlType type = quant::GgmlType::kF32;
    const uint8_t* data = nullptr;
    int64_t n_cols = 0;
    int64_t n_rows = 0;
    size_t row_bytes = 0;
    size_t matrix_bytes = 0;
    WeightLayout layout = WeightLayout::kRows;
    MatrixView expert(int32_t e) const {
        return {type, data + static_cast<size_t>(e) * matrix_bytes, n_cols, n_rows, row_bytes, layout};
    }
};

struct MoeScratch {
    std::vector<float> logits, weights, xe, gate, up, down;
    std::vector<int32_t> ids, rows;
};

// out [n_tokens][n_embd] = sum over the top-k experts e of w_e * down_e(silu(gate_e x) * up_e x).
void moe_ffn(const MatrixView& router, const ExpertTensor& gate, const ExpertTensor& up,
             const ExpertTensor& down, int32_t k, bool normalize, const float* x,
             int64_t n_tokens, float* out, ThreadPool& pool, MoeScratch& s);

}  // namespace rf::cpu
